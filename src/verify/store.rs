//! The verifier's records on disk, in the outbox's sled database (so a code's state and
//! its SMS share one durable store, one group commit): its own trees and its own journal
//! key, written by the Verifier alone, a step at a time, all or nothing (see
//! [`crate::store::Journal`]).
//!
//! | tree | key | value |
//! |---|---|---|
//! | `verify_codes` | verification id | [`VerificationRecord`] (the code only as its HMAC) |
//! | `verify_numbers` | E.164 digits | [`NumberState`]: failures, lock, sends |
//! | `verify_budgets` | window (u64 BE), prefix | sends in that window (u32 BE) |
//! | `verify_sweep` | when (u64 BE), verification id | nothing: when the record goes |
//! | `verify_audit` | when (u64 BE), sequence (u64 BE) | the [`AuditEntry`]s of one commit (never a code) |

use super::key::Sealed;
use super::policy::{BudgetSlot, NumberState, Profile};
use super::template::{Channel, Locale};
use crate::store::{
    decode, decode_owned, encode, encode_owned, io_error, Journal, MessageId, SharedDb, StoreError,
    Write,
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

/// The verifier's journal key (the outbox has its own).
const JOURNAL_KEY: &[u8] = b"verify_last_step";

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

    /// Appends audit lines, the first at `at`, as one key `(at, seq)`.
    ///
    /// # Errors
    /// [`StoreError::Encode`].
    pub fn audit_batch(
        &mut self,
        at: u64,
        seq: u64,
        entries: &[AuditEntry],
    ) -> Result<(), StoreError> {
        let mut key = at.to_be_bytes().to_vec();
        key.extend_from_slice(&seq.to_be_bytes());
        self.put(AUDIT, key, Some(encode("verify_audit", &entries)?));
        Ok(())
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

/// The verifier's trees.
pub struct VerifyStore {
    db: SharedDb,
    journal: Journal,
    trees: [sled::Tree; TREES],
}

impl VerifyStore {
    /// Opens the verifier's trees in `db` and completes a step a crash cut short.
    ///
    /// # Errors
    /// A [`StoreError`] from sled.
    pub fn open(db: SharedDb) -> Result<VerifyStore, StoreError> {
        let trees = [
            db.tree("verify_codes")?,
            db.tree("verify_numbers")?,
            db.tree("verify_budgets")?,
            db.tree("verify_sweep")?,
            db.tree("verify_audit")?,
        ];
        let journal = db.journal(JOURNAL_KEY);
        let store = VerifyStore { db, journal, trees };
        if store.journal.replay(&store.tree_refs())? {
            store.db.flush_now()?;
        }
        Ok(store)
    }

    fn tree_refs(&self) -> [&sled::Tree; TREES] {
        let [a, b, c, d, e] = &self.trees;
        [a, b, c, d, e]
    }

    /// Applies a step, all or nothing.
    ///
    /// # Errors
    /// A [`StoreError`] from sled.
    pub fn apply(&self, step: Step) -> Result<(), StoreError> {
        self.journal.apply(&self.tree_refs(), &step.writes)
    }

    /// Registers for the next group-commit flush.
    pub fn commit(&self) -> crate::store::CommitWait {
        self.db.commit()
    }

    /// A fresh sequence number (for audit lines).
    ///
    /// # Errors
    /// A [`StoreError`] from sled.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        self.db.generate_id()
    }

    /// One verification.
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn record(&self, id: &str) -> Result<Option<VerificationRecord>, StoreError> {
        match self.trees[CODES]
            .get(id.as_bytes())
            .map_err(io_error("read a verification"))?
        {
            Some(v) => decode_owned("verify_codes", id.as_bytes(), &v).map(Some),
            None => Ok(None),
        }
    }

    /// One number's state (the default for a number never seen).
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn number(&self, to: &str) -> Result<NumberState, StoreError> {
        match self.trees[NUMBERS]
            .get(to.as_bytes())
            .map_err(io_error("read a number"))?
        {
            Some(v) => decode("verify_numbers", to.as_bytes(), &v),
            None => Ok(NumberState::default()),
        }
    }

    /// The counts of budget slots, in order.
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn budgets(&self, slots: &[BudgetSlot]) -> Result<Vec<u32>, StoreError> {
        slots
            .iter()
            .map(|slot| {
                let v = self.trees[BUDGETS]
                    .get(budget_key(slot))
                    .map_err(io_error("read a budget"))?;
                Ok(v.and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
                    .map_or(0, u32::from_be_bytes))
            })
            .collect()
    }

    /// Up to `max` verifications whose sweep time is before `cutoff`: (sweep_at, id).
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn due(&self, cutoff: u64, max: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees[SWEEP]
            .range(..cutoff.to_be_bytes().to_vec())
            .take(max)
        {
            let (key, _) = item.map_err(io_error("read the sweep list"))?;
            if let Some((at, id)) = key.split_at_checked(8) {
                let at = <[u8; 8]>::try_from(at).map_or(0, u64::from_be_bytes);
                out.push((at, String::from_utf8_lossy(id).into_owned()));
            }
        }
        Ok(out)
    }

    /// Keys of budget slots of windows before `window`, up to `max`.
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn old_budgets(&self, window: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.keys_before(BUDGETS, window, max)
    }

    /// Keys of audit lines before `cutoff`, up to `max`.
    ///
    /// # Errors
    /// A [`StoreError`] reading.
    pub fn old_audit(&self, cutoff: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.keys_before(AUDIT, cutoff, max)
    }

    fn keys_before(&self, t: usize, before: u64, max: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.trees[t]
            .range(..before.to_be_bytes().to_vec())
            .take(max)
            .map(|item| {
                item.map(|(k, _)| k.to_vec())
                    .map_err(io_error("read old entries"))
            })
            .collect()
    }

    /// The audit trail from `since` (unix ms), up to `max` lines, oldest first.
    ///
    /// # Errors
    /// A [`StoreError`] reading or decoding.
    pub fn audit(&self, since: u64, max: usize) -> Result<Vec<AuditEntry>, StoreError> {
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
    pub fn len(&self) -> usize {
        self.trees[CODES].len()
    }

    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.trees[CODES].is_empty()
    }
}
