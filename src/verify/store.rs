//! The verifier's records on disk, in the outbox's sled database (so a code's state and
//! its SMS share one durable store, one group commit): its own trees, written by the
//! Verifier alone.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `verify_codes` | verification id | [`VerificationRecord`] (the code only as its HMAC) |
//! | `verify_numbers` | E.164 digits | [`NumberState`]: failures, lock, sends |
//! | `verify_budgets` | window (u64 BE), prefix | sends in that window (u32 BE) |
//! | `verify_sweep` | when (u64 BE), verification id | nothing: when the record goes |
//! | `verify_audit` | when (u64 BE), sequence (u64 BE) | a batch of [`AuditEntry`]s (never a code) |
//! | `verify_log_GEN` | entry (u64 BE) | a [`LogEntry`]: the writes and audit lines of one commit |
//!
//! **Writes go through a log.** A step's writes go to memory first (the *overlay*, which
//! every read consults before the trees); each [`VerifyStore::commit`] appends what changed
//! since the last one as one entry to the current generation's log tree, and only that
//! entry has to reach the disk before the answer. Every [`FREEZE_KEYS`] keys the
//! generation is frozen and its keys are written into their trees a few at a time, each
//! key once however often it changed (a verification's start, its attempt and its
//! approval are one write of the record instead of three, plus three journal copies, in
//! the step-at-a-time design this replaced). Once a frozen generation is all in the trees
//! and a flush has made that durable, its log tree is dropped. At open, the log trees
//! left (oldest first) are written into the trees again; each entry holds final values,
//! so writing it twice is harmless. See docs/performance.md for what this bought.

use super::key::Sealed;
use super::policy::{BudgetSlot, NumberState, Profile};
use super::template::{Channel, Locale};
use crate::store::{
    decode, decode_owned, encode, encode_owned, io_error, write_all, MessageId, SharedDb,
    StoreError, Write,
};
use serde::{Deserialize, Serialize};

/// Where a verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its code can be checked.
    Pending,
    /// The right code was given; the code is consumed.
    Approved,
    /// Cancelled by the backend.
    Canceled,
    /// All its checks were used.
    MaxAttemptsReached,
    /// Its code's validity ended.
    Expired,
    /// Its SMS could not be handed to the outbox.
    Failed,
}

impl Status {
    /// The name on the API.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Canceled => "canceled",
            Status::MaxAttemptsReached => "max_attempts_reached",
            Status::Expired => "expired",
            Status::Failed => "failed",
        }
    }
}

/// One verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// Its id: a sequence number (16 hex digits, so new records append to the tree) and
    /// 128 random bits (32 hex digits), so ids cannot be guessed or enumerated.
    pub id: String,
    /// Destination, E.164 digits.
    pub to: String,
    /// The purpose it was started for; part of what the code's HMAC binds.
    pub purpose: String,
    /// Code or link.
    pub channel: Channel,
    /// The language of its texts.
    pub locale: Locale,
    /// For the link channel, the backend's URL with `{token}` where the token goes.
    pub link: Option<String>,
    /// Its test mode: the SMS goes to the sandbox carrier.
    pub sandbox: bool,
    /// The rules it started under (a config change later does not change them).
    pub profile: Profile,
    /// Digits of its code.
    pub code_length: u8,
    /// Its validity (ms), for each new code of a resend.
    pub validity_ms: u64,
    /// The current code (or link token), as its HMAC.
    pub sealed: Sealed,
    /// Where it stands.
    pub status: Status,
    /// Checks made.
    pub checks: u32,
    /// Sends made, the first included.
    pub sends: u32,
    /// When it was started (unix ms).
    pub created_at: u64,
    /// The last send (unix ms).
    pub last_send_at: u64,
    /// When the current code stops working (unix ms).
    pub expires_at: u64,
    /// The SMS of each send, in order; the last carries the current code.
    pub messages: Vec<MessageId>,
    /// When it reached a final status (unix ms).
    pub finished_at: Option<u64>,
    /// When the sweeper removes it (unix ms); its `verify_sweep` entry has this time.
    pub sweep_at: u64,
    /// The name of the API token that started it (whose webhook hears its outcome);
    /// `None` from elsewhere, or for a record stored before owners were (record version
    /// 1, read as one without an owner: see [`crate::store::MESSAGE_VERSION_1`]).
    pub owner: Option<String>,
}

/// What happened, for the audit trail. No code, no token, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditKind {
    /// A verification was started.
    Started,
    /// A start or resend was refused (the refusal's text).
    Refused(String),
    /// Its SMS was handed to the outbox.
    Sent(MessageId),
    /// Its SMS could not be handed to the outbox.
    SendFailed(String),
    /// A code was checked, with the outcome's name.
    Checked(String),
    /// The number was locked until then (unix ms).
    Locked(u64),
    /// A resend issued a new code, voiding the old one.
    Resent,
    /// Cancelled.
    Canceled,
    /// Its code expired unused.
    Expired,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (unix ms).
    pub at: u64,
    /// The verification (empty for a refused start).
    pub id: String,
    /// The number.
    pub to: String,
    /// The purpose.
    pub purpose: String,
    /// What happened.
    pub kind: AuditKind,
}

const CODES: usize = 0;
const NUMBERS: usize = 1;
const BUDGETS: usize = 2;
const SWEEP: usize = 3;
const AUDIT: usize = 4;
const TREES: usize = 5;

/// The journal key of the step-at-a-time design before the log: replayed and cleared at
/// open if a data directory from then has one.
const JOURNAL_KEY: &[u8] = b"verify_last_step";
/// The log trees' names: this prefix and the generation (16 hex digits).
const LOG_PREFIX: &str = "verify_log_";
/// A generation is frozen (and its keys written into their trees) once it holds this many.
pub const FREEZE_KEYS: usize = 8192;
/// Frozen keys written into their trees per commit (a few, so no answer waits long).
const DRAIN_PER_COMMIT: usize = 64;
/// Bytes of writes after which a log entry is cut (sled copies a leaf on every insert, and
/// splits leaves by count, so small entries keep the log's leaves small).
const LOG_CHUNK: usize = 6144;
/// Audit lines per `verify_audit` key.
const AUDIT_BATCH: usize = 64;
/// Set in the sequence part of an audit key written from a generation (older keys have a
/// sequence from sled's id generator, below 2^63).
const AUDIT_FROM_LOG: u64 = 1 << 63;

/// The writes of one step, built up and then applied together by [`VerifyStore::apply`].
#[derive(Debug, Default)]
pub struct Step {
    writes: Vec<Write>,
}

fn tree(i: usize) -> u8 {
    u8::try_from(i).unwrap_or(u8::MAX)
}

fn sweep_key(at: u64, id: &str) -> Vec<u8> {
    let mut key = at.to_be_bytes().to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

fn budget_key(slot: &BudgetSlot) -> Vec<u8> {
    let mut key = slot.window.to_be_bytes().to_vec();
    key.extend_from_slice(slot.prefix.as_bytes());
    key
}

impl Step {
    fn put(&mut self, t: usize, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.writes.push(Write {
            tree: tree(t),
            key,
            value,
        });
    }

    /// Stores a record, with a sweep entry at its `sweep_at` when it is new or its time
    /// moved earlier than `old_sweep_at`. A time that moved later (a resend, a finish) keeps
    /// the old entry: the sweeper, finding the record not due yet, moves the entry then,
    /// which keeps a write off every finishing step.
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn record(
        &mut self,
        record: &VerificationRecord,
        old_sweep_at: Option<u64>,
    ) -> Result<(), StoreError> {
        if old_sweep_at.is_none_or(|old| record.sweep_at < old) {
            self.put(
                SWEEP,
                sweep_key(record.sweep_at, &record.id),
                Some(Vec::new()),
            );
        }
        self.put(
            CODES,
            record.id.as_bytes().to_vec(),
            Some(encode_owned("verification", record)?),
        );
        Ok(())
    }

    /// Removes a record and its sweep entry.
    pub fn remove(&mut self, id: &str, sweep_at: u64) {
        self.forget_sweep(id, sweep_at);
        self.put(CODES, id.as_bytes().to_vec(), None);
    }

    /// Lists a record for the sweeper at `at`.
    pub fn add_sweep(&mut self, id: &str, at: u64) {
        self.put(SWEEP, sweep_key(at, id), Some(Vec::new()));
    }

    /// Drops a sweep entry whose time is no longer its record's.
    pub fn forget_sweep(&mut self, id: &str, at: u64) {
        self.put(SWEEP, sweep_key(at, id), None);
    }

    /// Stores a number's state.
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn number(&mut self, to: &str, state: &NumberState) -> Result<(), StoreError> {
        self.put(
            NUMBERS,
            to.as_bytes().to_vec(),
            Some(encode("verify_number", state)?),
        );
        Ok(())
    }

    /// Sets a budget slot's count.
    pub fn budget(&mut self, slot: &BudgetSlot, count: u32) {
        self.put(
            BUDGETS,
            budget_key(slot),
            Some(count.to_be_bytes().to_vec()),
        );
    }

    /// Forgets a budget slot (an old window).
    pub fn forget_budget(&mut self, key: Vec<u8>) {
        self.put(BUDGETS, key, None);
    }

    /// Forgets an audit line.
    pub fn forget_audit(&mut self, key: Vec<u8>) {
        self.put(AUDIT, key, None);
    }

    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// One log entry as written: references into the overlay (encodes as [`LogEntry`]).
#[derive(Serialize)]
struct LogEntryRef<'a> {
    writes: Vec<WriteRef<'a>>,
    audit: &'a [AuditEntry],
}

/// A write as [`LogEntryRef`] holds it (encodes as a [`Write`]).
#[derive(Serialize)]
struct WriteRef<'a> {
    tree: u8,
    key: &'a Vec<u8>,
    value: Option<&'a Vec<u8>>,
}

/// One entry of a generation's log: final values of keys, and audit lines, in order.
#[derive(Debug, Deserialize)]
pub struct LogEntry {
    /// Writes, each the key's value at the time of the commit.
    pub writes: Vec<Write>,
    /// Audit lines of that commit.
    pub audit: Vec<AuditEntry>,
}

/// A key's latest value in the current generation.
#[derive(Debug)]
struct Slot {
    value: Option<Vec<u8>>,
    /// Whether the current generation's log holds this value.
    logged: bool,
}

/// The generation being written.
struct Generation {
    number: u64,
    name: String,
    log: sled::Tree,
    next_entry: u64,
}

/// The generation whose keys are being written into their trees.
#[derive(Default)]
struct Frozen {
    values: [std::collections::HashMap<Vec<u8>, Option<Vec<u8>>>; TREES],
    /// Keys still to write, taken from the end.
    order: Vec<(u8, Vec<u8>)>,
    /// Its log tree, dropped once everything is in the trees and flushed.
    log: Option<String>,
    /// The flush that makes the written keys durable.
    covered: Option<crate::store::CommitWait>,
}

impl Frozen {
    fn is_idle(&self) -> bool {
        self.order.is_empty() && self.log.is_none()
    }
}

/// Writes not in their trees yet (see the module documentation).
struct Pending {
    fresh: [std::collections::HashMap<Vec<u8>, Slot>; TREES],
    fresh_keys: usize,
    /// Keys of `fresh` whose latest value is not in the log yet.
    unlogged: Vec<(u8, Vec<u8>)>,
    /// The current generation's audit lines; those from `audit_logged` on are not logged.
    audit: Vec<AuditEntry>,
    audit_logged: usize,
    current: Generation,
    frozen: Frozen,
}

/// What a read finds in the overlay: nothing there (ask the tree), or the key's value.
enum Found<'a> {
    Absent,
    Value(Option<&'a Vec<u8>>),
}

impl Pending {
    fn find(&self, t: usize, key: &[u8]) -> Found<'_> {
        if let Some(slot) = self.fresh[t].get(key) {
            return Found::Value(slot.value.as_ref());
        }
        match self.frozen.values[t].get(key) {
            Some(value) => Found::Value(value.as_ref()),
            None => Found::Absent,
        }
    }

    /// The overlay's keys of tree `t` before `before`: (key, whether it has a value).
    fn keys_before(&self, t: usize, before: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut out: Vec<(Vec<u8>, bool)> = self.fresh[t]
            .iter()
            .filter(|(k, _)| k.as_slice() < before)
            .map(|(k, slot)| (k.clone(), slot.value.is_some()))
            .collect();
        out.extend(
            self.frozen.values[t]
                .iter()
                .filter(|(k, _)| k.as_slice() < before && !self.fresh[t].contains_key(*k))
                .map(|(k, v)| (k.clone(), v.is_some())),
        );
        out
    }
}

/// The verifier's trees, behind the log (see the module documentation).
pub struct VerifyStore {
    db: SharedDb,
    trees: [sled::Tree; TREES],
    pending: parking_lot::Mutex<Pending>,
}

fn log_name(generation: u64) -> String {
    format!("{LOG_PREFIX}{generation:016x}")
}

/// The `verify_audit` key of batch `index` of a generation's audit lines.
fn audit_key(at: u64, generation: u64, index: usize) -> Vec<u8> {
    let index = u64::try_from(index).unwrap_or(u64::MAX) & 0x00ff_ffff;
    let seq = AUDIT_FROM_LOG | ((generation & ((1 << 39) - 1)) << 24) | index;
    let mut key = at.to_be_bytes().to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The audit batches of a generation's lines, as writes.
fn audit_writes(generation: u64, lines: &[AuditEntry]) -> Result<Vec<Write>, StoreError> {
    lines
        .chunks(AUDIT_BATCH)
        .enumerate()
        .map(|(i, batch)| {
            let at = batch.first().map_or(0, |e| e.at);
            Ok(Write {
                tree: tree(AUDIT),
                key: audit_key(at, generation, i),
                value: Some(encode("verify_audit", &batch)?),
            })
        })
        .collect()
}

impl VerifyStore {
    /// Opens the verifier's trees in `db` and writes into them what the logs left by the
    /// last run hold (oldest generation first), then drops those logs.
    ///
    /// # Errors
    /// A [`StoreError`] from sled, or a log entry that cannot be decoded.
    pub fn open(db: SharedDb) -> Result<VerifyStore, StoreError> {
        let trees = [
            db.tree("verify_codes")?,
            db.tree("verify_numbers")?,
            db.tree("verify_budgets")?,
            db.tree("verify_sweep")?,
            db.tree("verify_audit")?,
        ];
        let refs = {
            let [a, b, c, d, e] = &trees;
            [a, b, c, d, e]
        };
        // A data directory from before the log: its last step, once.
        let journal = db.journal(JOURNAL_KEY);
        let mut replayed = journal.replay(&refs)?;
        let logs = db.tree_names(LOG_PREFIX);
        for name in &logs {
            let generation = name
                .strip_prefix(LOG_PREFIX)
                .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                .unwrap_or(0);
            let log = db.tree(name)?;
            let mut audit = Vec::new();
            for item in log.iter() {
                let (key, value) = item.map_err(io_error("read the verifier's log"))?;
                let entry: LogEntry = decode("verify_log", &key, &value)?;
                write_all(&refs, &entry.writes)?;
                audit.extend(entry.audit);
            }
            // The same batches, under the same keys, as the generation's freeze writes.
            write_all(&refs, &audit_writes(generation, &audit)?)?;
            replayed = true;
        }
        if replayed {
            db.flush_now()?;
            journal.clear()?;
            for name in &logs {
                db.drop_tree(name)?;
            }
            db.flush_now()?;
        }
        let number = db.generate_id()?;
        let name = log_name(number);
        let current = Generation {
            number,
            log: db.tree(&name)?,
            name,
            next_entry: 0,
        };
        Ok(VerifyStore {
            db,
            trees,
            pending: parking_lot::Mutex::new(Pending {
                fresh: Default::default(),
                fresh_keys: 0,
                unlogged: Vec::new(),
                audit: Vec::new(),
                audit_logged: 0,
                current,
                frozen: Frozen::default(),
            }),
        })
    }

    fn tree_refs(&self) -> [&sled::Tree; TREES] {
        let [a, b, c, d, e] = &self.trees;
        [a, b, c, d, e]
    }

    /// Applies a step: every read sees it at once; the disk has it once a
    /// [`VerifyStore::commit`] after it completes.
    ///
    /// # Errors
    /// None today; kept so a store that writes through can fail here.
    pub fn apply(&self, step: Step) -> Result<(), StoreError> {
        let mut guard = self.pending.lock();
        let p = &mut *guard;
        for w in step.writes {
            let t = usize::from(w.tree);
            let Some(map) = p.fresh.get_mut(t) else {
                continue;
            };
            match map.entry(w.key) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if e.get().logged {
                        p.unlogged.push((w.tree, e.key().clone()));
                    }
                    let slot = e.get_mut();
                    slot.value = w.value;
                    slot.logged = false;
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    p.unlogged.push((w.tree, e.key().clone()));
                    p.fresh_keys += 1;
                    e.insert(Slot {
                        value: w.value,
                        logged: false,
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds audit lines (written with the next commit's log entry).
    pub fn push_audit(&self, lines: &mut Vec<AuditEntry>) {
        self.pending.lock().audit.append(lines);
    }

    /// Logs what changed since the last commit, moves a few frozen keys into their trees,
    /// and registers for the next group-commit flush: every step applied so far is on
    /// disk when it completes.
    ///
    /// # Errors
    /// A [`StoreError`] from sled.
    pub fn commit(&self) -> Result<crate::store::CommitWait, StoreError> {
        let mut guard = self.pending.lock();
        let p = &mut *guard;
        self.log(p)?;
        self.drain(p, DRAIN_PER_COMMIT)?;
        if p.fresh_keys >= FREEZE_KEYS {
            if !p.frozen.is_idle() {
                // The frozen generation is not done yet: finish it now.
                self.drain(p, usize::MAX)?;
                self.settle(p, true)?;
            }
            self.freeze(p)?;
        }
        Ok(self.db.commit())
    }

    /// Appends the writes and audit lines not yet logged to the current generation's log.
    fn log(&self, p: &mut Pending) -> Result<(), StoreError> {
        if p.unlogged.is_empty() && p.audit_logged == p.audit.len() {
            return Ok(());
        }
        let unlogged = std::mem::take(&mut p.unlogged);
        {
            let Pending {
                fresh,
                audit,
                audit_logged,
                current,
                ..
            } = &mut *p;
            let mut writes = Vec::new();
            let mut bytes = 0;
            let mut put = |writes: &mut Vec<WriteRef<'_>>, audit: &[AuditEntry]| {
                let entry = LogEntryRef {
                    writes: std::mem::take(writes),
                    audit,
                };
                let value = encode("verify_log", &entry)?;
                current
                    .log
                    .insert(current.next_entry.to_be_bytes(), value)
                    .map_err(io_error("write the verifier's log"))?;
                current.next_entry += 1;
                Ok::<(), StoreError>(())
            };
            for (t, key) in &unlogged {
                let Some(slot) = fresh.get(usize::from(*t)).and_then(|m| m.get(key)) else {
                    continue;
                };
                bytes += key.len() + slot.value.as_ref().map_or(0, Vec::len);
                writes.push(WriteRef {
                    tree: *t,
                    key,
                    value: slot.value.as_ref(),
                });
                if bytes >= LOG_CHUNK {
                    put(&mut writes, &[])?;
                    bytes = 0;
                }
            }
            let lines = audit.get(*audit_logged..).unwrap_or_default();
            if !writes.is_empty() || !lines.is_empty() {
                put(&mut writes, lines)?;
            }
            *audit_logged = audit.len();
        }
        for (t, key) in unlogged {
            if let Some(slot) = p
                .fresh
                .get_mut(usize::from(t))
                .and_then(|m| m.get_mut(&key))
            {
                slot.logged = true;
            }
        }
        Ok(())
    }

    /// Writes up to `max` frozen keys into their trees.
    fn drain(&self, p: &mut Pending, max: usize) -> Result<(), StoreError> {
        let trees = self.tree_refs();
        let mut n = 0;
        while n < max {
            let Some((t, key)) = p.frozen.order.pop() else {
                break;
            };
            n += 1;
            let i = usize::from(t);
            let (Some(map), Some(tree)) = (p.frozen.values.get_mut(i), trees.get(i)) else {
                continue;
            };
            let Some(value) = map.remove(&key) else {
                continue;
            };
            match value {
                Some(v) => tree.insert(key, v).map(drop),
                None => tree.remove(key).map(drop),
            }
            .map_err(io_error("write"))?;
        }
        self.settle(p, false)
    }

    /// Once the frozen generation is all in the trees: after a flush (waited for if
    /// `force`, else noticed at a later commit), its log is dropped.
    fn settle(&self, p: &mut Pending, force: bool) -> Result<(), StoreError> {
        if !p.frozen.order.is_empty() {
            return Ok(());
        }
        let Some(name) = p.frozen.log.clone() else {
            return Ok(());
        };
        if force {
            self.db.flush_now()?;
        } else {
            let covered = p.frozen.covered.get_or_insert_with(|| self.db.commit());
            match covered.try_done() {
                None => return Ok(()),
                Some(result) => result?,
            }
        }
        self.db.drop_tree(&name)?;
        p.frozen = Frozen::default();
        Ok(())
    }

    /// Freezes the current generation (the frozen one must be idle) and starts the next.
    fn freeze(&self, p: &mut Pending) -> Result<(), StoreError> {
        self.log(p)?;
        if p.fresh_keys == 0 && p.audit.is_empty() {
            return Ok(());
        }
        let mut frozen = Frozen::default();
        for (t, map) in p.fresh.iter_mut().enumerate() {
            for (key, slot) in map.drain() {
                frozen.order.push((tree(t), key.clone()));
                frozen.values[t].insert(key, slot.value);
            }
        }
        for w in audit_writes(p.current.number, &p.audit)? {
            frozen.order.push((w.tree, w.key.clone()));
            frozen.values[AUDIT].insert(w.key, w.value);
        }
        frozen.log = Some(p.current.name.clone());
        let number = self.db.generate_id()?;
        let name = log_name(number);
        p.current = Generation {
            number,
            log: self.db.tree(&name)?,
            name,
            next_entry: 0,
        };
        p.frozen = frozen;
        p.fresh_keys = 0;
        p.audit.clear();
        p.audit_logged = 0;
        Ok(())
    }

    /// Writes everything into the trees and drops the logs (for the reads that scan a
    /// whole tree: the audit trail, the counts).
    fn settle_all(&self) -> Result<(), StoreError> {
        let mut guard = self.pending.lock();
        let p = &mut *guard;
        self.drain(p, usize::MAX)?;
        self.settle(p, true)?;
        self.freeze(p)?;
        self.drain(p, usize::MAX)?;
        self.settle(p, true)
    }

    /// Registers for the next group-commit flush without logging (see
    /// [`VerifyStore::commit`]).
    pub fn flush_wait(&self) -> crate::store::CommitWait {
        self.db.commit()
    }

    /// A fresh sequence number (for verification ids).
    ///
    /// # Errors
    /// A [`StoreError`] from sled.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        self.db.generate_id()
    }

    /// A key's value: the overlay's, else the tree's, passed to `f`.
    fn read<T>(
        &self,
        t: usize,
        key: &[u8],
        what: &'static str,
        f: impl FnOnce(Option<&[u8]>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        {
            let p = self.pending.lock();
            if let Found::Value(v) = p.find(t, key) {
                return f(v.map(Vec::as_slice));
            }
        }
        let v = self.trees[t].get(key).map_err(io_error(what))?;
        f(v.as_deref())
    }

    /// One verification.
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn record(&self, id: &str) -> Result<Option<VerificationRecord>, StoreError> {
        self.read(CODES, id.as_bytes(), "read a verification", |v| match v {
            Some(v) => decode_owned("verify_codes", id.as_bytes(), v).map(Some),
            None => Ok(None),
        })
    }

    /// One number's state (the default for a number never seen).
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn number(&self, to: &str) -> Result<NumberState, StoreError> {
        self.read(NUMBERS, to.as_bytes(), "read a number", |v| match v {
            Some(v) => decode("verify_numbers", to.as_bytes(), v),
            None => Ok(NumberState::default()),
        })
    }

    /// The counts of budget slots, in order.
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn budgets(&self, slots: &[BudgetSlot]) -> Result<Vec<u32>, StoreError> {
        slots
            .iter()
            .map(|slot| {
                self.read(BUDGETS, &budget_key(slot), "read a budget", |v| {
                    Ok(v.and_then(|v| <[u8; 4]>::try_from(v).ok())
                        .map_or(0, u32::from_be_bytes))
                })
            })
            .collect()
    }

    /// Up to `max` keys of tree `t` before `before` (a u64 BE prefix), in order: the
    /// tree's and the overlay's together.
    fn keys_before(&self, t: usize, before: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let before = before.to_be_bytes();
        let p = self.pending.lock();
        let mut keys = std::collections::BTreeSet::new();
        for item in self.trees[t].range(..before.to_vec()) {
            if keys.len() >= max {
                break;
            }
            let (key, _) = item.map_err(io_error("read old entries"))?;
            match p.find(t, &key) {
                Found::Value(None) => {}
                _ => {
                    keys.insert(key.to_vec());
                }
            }
        }
        for (key, present) in p.keys_before(t, &before) {
            if present {
                keys.insert(key);
            }
        }
        Ok(keys.into_iter().take(max).collect())
    }

    /// Up to `max` verifications whose sweep time is before `cutoff`: (sweep_at, id).
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn due(&self, cutoff: u64, max: usize) -> Result<Vec<(u64, String)>, StoreError> {
        Ok(self
            .keys_before(SWEEP, cutoff, max)?
            .into_iter()
            .filter_map(|key| {
                let (at, id) = key.split_at_checked(8)?;
                let at = <[u8; 8]>::try_from(at).map_or(0, u64::from_be_bytes);
                Some((at, String::from_utf8_lossy(id).into_owned()))
            })
            .collect())
    }

    /// Keys of budget slots of windows before `window`, up to `max`.
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn old_budgets(&self, window: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.keys_before(BUDGETS, window, max)
    }

    /// Keys of audit lines before `cutoff`, up to `max` (lines not yet frozen into
    /// `verify_audit` are younger than any cutoff in use and are not listed).
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn old_audit(&self, cutoff: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.keys_before(AUDIT, cutoff, max)
    }

    /// The audit trail from `since` (unix ms), up to `max` lines, oldest first.
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn audit(&self, since: u64, max: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.settle_all()?;
        let mut out = Vec::new();
        for item in self.trees[AUDIT].range(since.to_be_bytes().to_vec()..) {
            let (k, v) = item.map_err(io_error("read the audit trail"))?;
            let batch: Vec<AuditEntry> = decode("verify_audit", &k, &v)?;
            out.extend(batch.into_iter().filter(|e| e.at >= since));
            if out.len() >= max {
                out.truncate(max);
                break;
            }
        }
        Ok(out)
    }

    /// How many verifications are stored.
    ///
    /// # Errors
    /// A [`StoreError`] writing the overlay into the trees first.
    pub fn len(&self) -> Result<usize, StoreError> {
        self.settle_all()?;
        Ok(self.trees[CODES].len())
    }

    /// Whether none is stored.
    ///
    /// # Errors
    /// A [`StoreError`] writing the overlay into the trees first.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }
}

impl Drop for VerifyStore {
    /// Logs what the last commit did not (a sweep's work, the last audit lines), so a
    /// clean stop keeps it: sled flushes the database when its last handle goes.
    fn drop(&mut self) {
        let mut guard = self.pending.lock();
        if let Err(e) = self.log(&mut guard) {
            tracing::error!(error = %e, "the verifier's last writes could not be logged");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn state(failures: u32) -> NumberState {
        NumberState {
            failures,
            ..NumberState::default()
        }
    }

    fn put_number(store: &VerifyStore, to: &str, failures: u32) {
        let mut step = Step::default();
        step.number(to, &state(failures)).unwrap();
        store.apply(step).unwrap();
    }

    /// What the tree itself holds, past the overlay.
    fn in_tree(store: &VerifyStore, to: &str) -> Option<NumberState> {
        store.trees[NUMBERS]
            .get(to.as_bytes())
            .unwrap()
            .map(|v| decode("verify_numbers", to.as_bytes(), &v).unwrap())
    }

    fn log_trees(db: &SharedDb) -> usize {
        db.tree_names(LOG_PREFIX).len()
    }

    #[test]
    fn a_committed_write_that_never_reached_its_tree_is_replayed_from_the_log_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let outbox = SledStore::open(dir.path()).unwrap();
            let store = VerifyStore::open(outbox.shared()).unwrap();
            put_number(&store, "81900000001", 1);
            store.commit().unwrap().wait_blocking().unwrap();
            put_number(&store, "81900000001", 2);
            store.commit().unwrap().wait_blocking().unwrap();
            // Readable at once, but only the log has it: the tree was never written.
            assert_eq!(store.number("81900000001").unwrap(), state(2));
            assert_eq!(in_tree(&store, "81900000001"), None);
        }
        let outbox = SledStore::open(dir.path()).unwrap();
        let db = outbox.shared();
        let store = VerifyStore::open(db.clone()).unwrap();
        // The later entry won, it is in the tree now, and the old log is gone.
        assert_eq!(in_tree(&store, "81900000001"), Some(state(2)));
        assert_eq!(store.number("81900000001").unwrap(), state(2));
        assert_eq!(log_trees(&db), 1, "only the new generation's log");
    }

    #[test]
    fn a_frozen_generation_goes_into_the_trees_each_key_once_and_its_log_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = SledStore::open(dir.path()).unwrap();
        let db = outbox.shared();
        let store = VerifyStore::open(db.clone()).unwrap();
        let number = |i: usize| format!("8190{i:08}");
        // Every key written twice, in two commits: the second value must win.
        for i in 0..FREEZE_KEYS {
            put_number(&store, &number(i), 1);
            if i % 100 == 0 {
                store.commit().unwrap();
            }
        }
        store.commit().unwrap();
        for i in 0..FREEZE_KEYS {
            put_number(&store, &number(i), 2);
        }
        store.commit().unwrap().wait_blocking().unwrap();
        // Frozen now: reads see the latest values while the trees fill a few at a time.
        assert_eq!(store.number(&number(7)).unwrap(), state(2));
        let mut commits = 0;
        while log_trees(&db) > 1 {
            store.commit().unwrap().wait_blocking().unwrap();
            commits += 1;
            assert!(commits < 10_000, "the frozen generation never settled");
        }
        assert!(
            commits > 1,
            "drained a few keys per commit, not all at once"
        );
        for i in [0, 1, FREEZE_KEYS / 2, FREEZE_KEYS - 1] {
            assert_eq!(in_tree(&store, &number(i)), Some(state(2)), "key {i}");
        }
        drop(store);
        let store = VerifyStore::open(db).unwrap();
        assert_eq!(store.number(&number(3)).unwrap(), state(2));
    }

    #[test]
    fn scans_see_the_overlay_and_a_removal_in_it_hides_the_tree_key() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = SledStore::open(dir.path()).unwrap();
        let store = VerifyStore::open(outbox.shared()).unwrap();
        // In the tree already: (10, "a") and (20, "b").
        store.trees[SWEEP].insert(sweep_key(10, "a"), &[]).unwrap();
        store.trees[SWEEP].insert(sweep_key(20, "b"), &[]).unwrap();
        let mut step = Step::default();
        step.forget_sweep("a", 10);
        step.add_sweep("c", 5);
        step.add_sweep("d", 500);
        store.apply(step).unwrap();
        assert_eq!(
            store.due(100, 10).unwrap(),
            vec![(5, "c".to_owned()), (20, "b".to_owned())]
        );
        assert_eq!(store.due(100, 1).unwrap(), vec![(5, "c".to_owned())]);
    }

    #[test]
    fn audit_lines_are_logged_with_the_commit_and_read_back_once_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let line = |at: u64| AuditEntry {
            at,
            id: format!("v{at}"),
            to: "81900000001".into(),
            purpose: "login".into(),
            kind: AuditKind::Started,
        };
        {
            let outbox = SledStore::open(dir.path()).unwrap();
            let store = VerifyStore::open(outbox.shared()).unwrap();
            store.push_audit(&mut (1..=3).map(line).collect());
            store.commit().unwrap().wait_blocking().unwrap();
            store.push_audit(&mut vec![line(4)]);
        }
        // Reopened twice: the lines are written once, not once per open.
        for _ in 0..2 {
            let outbox = SledStore::open(dir.path()).unwrap();
            let store = VerifyStore::open(outbox.shared()).unwrap();
            let ats: Vec<u64> = store.audit(0, 100).unwrap().iter().map(|e| e.at).collect();
            assert_eq!(ats, vec![1, 2, 3, 4]);
        }
    }
}
