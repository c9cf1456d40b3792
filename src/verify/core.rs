//! The verifier core: a plain struct over the policy, the key ring, the templates and the
//! store, with time and randomness passed in, so tests drive it without sockets or clocks.
//! The Verifier actor ([`super::actor`]) runs it on one thread and waits for the group
//! commit before it answers; every rule is [`super::policy`]'s.
//!
//! A check is two steps, so that the attempt is on disk before any code is compared:
//! [`VerifierCore::begin_check`] counts it (or decides the answer without a comparison),
//! the caller waits for the flush, then [`VerifierCore::finish_check`] compares in constant
//! time and consumes the code. Both run on the one thread that owns the core, so two checks
//! of the right code can both be counted, but only the first to finish approves: the second
//! finds the verification approved and answers `not_found`.

use super::key::{KeyRing, Sealed};
use super::policy::{
    generate_code, generate_token, BudgetSlot, CheckOutcome, NumberState, Overrides, Policy,
    Progress, Refusal,
};
use super::store::{AuditEntry, AuditKind, Status, Step, VerificationRecord, VerifyStore};
use super::template::{Channel, Locale, Secret, TemplateError, Templates};
use crate::store::{CommitWait, MessageId, StoreError};
use rand::Rng;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use thiserror::Error;

/// The core's own settings (the rules are in [`Policy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long a finished verification stays readable by status (ms).
    pub retention_ms: u64,
    /// How long audit lines are kept (ms).
    pub audit_retention_ms: u64,
    /// Most records one [`VerifierCore::sweep`] looks at.
    pub sweep_max: usize,
    /// The service name in the texts (`{service}`).
    pub service: String,
    /// The domain of the origin-bound last line (`@example.com #123456`), if any.
    pub origin: Option<String>,
    /// The texts.
    pub templates: Templates,
}

impl Default for Settings {
    /// Finished verifications kept 24 h, audit lines 30 days, 1,000 swept at a time, no
    /// service name, no origin line, the built-in texts.
    fn default() -> Self {
        Settings {
            retention_ms: 24 * 3_600_000,
            audit_retention_ms: 30 * 24 * 3_600_000,
            sweep_max: 1_000,
            service: String::new(),
            origin: None,
            templates: Templates::default(),
        }
    }
}

/// What a backend asks to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// Destination, E.164 digits (normalised by the caller).
    pub to: String,
    /// The purpose (a profile name).
    pub purpose: String,
    /// The language; the default Japanese when absent.
    pub locale: Option<Locale>,
    /// Code or link.
    pub channel: Channel,
    /// For [`Channel::SmsLink`]: the backend's URL with `{token}` where the token goes.
    pub link: Option<String>,
    /// The start's own code length and validity.
    pub overrides: Overrides,
    /// A test verification: its SMS goes to the sandbox carrier.
    pub sandbox: bool,
    /// The API token that starts it (whose webhook hears its outcome).
    pub owner: Option<String>,
}

/// The SMS a start or resend needs sent: hand it to the outbox, then call
/// [`VerifierCore::sent`] (or [`VerifierCore::send_failed`]).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The verification.
    pub id: String,
    /// Destination, E.164 digits.
    pub to: String,
    /// The text, with the code: in memory only.
    pub text: String,
    /// The text with the code masked: what the disk keeps.
    pub masked: String,
    /// Its SMPP validity (ms): it ends before the code does, so no carrier delivers a code
    /// after it stopped working.
    pub validity_ms: u64,
    /// To the sandbox carrier.
    pub sandbox: bool,
    /// The message id it must be queued under (already in the verification's record).
    pub message: MessageId,
    /// The API token that started the verification.
    pub owner: Option<String>,
}

impl std::fmt::Debug for OutgoingSms {
    /// Shows the masked text only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingSms")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("masked", &self.masked)
            .field("validity_ms", &self.validity_ms)
            .field("sandbox", &self.sandbox)
            .field("message", &self.message)
            .finish()
    }
}

/// What a verification looks like from outside (no code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Its id.
    pub id: String,
    /// Destination, E.164 digits.
    pub to: String,
    /// Its purpose.
    pub purpose: String,
    /// Code or link.
    pub channel: Channel,
    /// Where it stands.
    pub status: Status,
    /// Checks left.
    pub attempts_left: u32,
    /// Sends made.
    pub sends: u32,
    /// When it was started (unix ms).
    pub created_at: u64,
    /// When the current code stops working (unix ms).
    pub expires_at: u64,
    /// When a resend is first allowed (unix ms).
    pub resend_allowed_at: u64,
    /// The SMS carrying the current code, once handed to the outbox.
    pub message: Option<MessageId>,
    /// A test verification.
    pub sandbox: bool,
    /// The API token that started it, if one did.
    pub owner: Option<String>,
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The policy said no; nothing was sent.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No such pending verification.
    #[error("no such verification, or it is finished")]
    NotFound,
    /// A link start without a usable URL.
    #[error("sms_link needs a link: an https:// URL with {{token}} where the token goes")]
    Link,
    /// The text does not fit (a template or service name too long).
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The store failed; the verifier stops.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A check between its two steps (see the module documentation).
#[derive(Debug)]
pub struct Ticket {
    id: String,
    /// The answer when no comparison is to be made.
    decided: Option<CheckOutcome>,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Pending verifications whose code expired.
    pub expired: usize,
    /// Those verifications: id, purpose, sandbox (for their outcome events).
    pub expired_ids: Vec<(String, String, bool)>,
    /// Records removed.
    pub removed: usize,
    /// Old budget windows and audit lines removed.
    pub pruned: usize,
}

/// The verifier core. See the module documentation.
pub struct VerifierCore<R: Rng> {
    policy: Policy,
    keys: Arc<KeyRing>,
    store: VerifyStore,
    rng: R,
    settings: Settings,
    /// Compared against for an unknown id, so that it costs what a known one does.
    decoy: Sealed,
    /// Audit lines not yet handed to the store (which logs them with the next commit).
    pending_audit: Vec<AuditEntry>,
    /// Budget counts of the windows in use (read once from disk, then kept here).
    budgets: HashMap<BudgetSlot, u32>,
    /// Budget counts changed since the last commit.
    dirty_budgets: BTreeSet<BudgetSlot>,
    /// Verifications that can still be checked, as last written (write-through), so the
    /// hot path reads no record back from sled; at most [`CACHED`].
    records: HashMap<String, VerificationRecord>,
    /// Numbers' states as last written (write-through); at most [`CACHED`].
    numbers: HashMap<String, NumberState>,
}

/// Most records (and numbers) kept in memory; beyond, reads go to sled.
const CACHED: usize = 200_000;

impl<R: Rng> Drop for VerifierCore<R> {
    /// Hands the audit lines and budget counts not yet committed to the store, which logs
    /// them as it closes.
    fn drop(&mut self) {
        if let Err(e) = self.write_pending() {
            tracing::error!(error = %e, "the verifier's last audit lines could not be kept");
        }
    }
}

impl<R: Rng> VerifierCore<R> {
    /// A core over `store`.
    pub fn new(
        policy: Policy,
        keys: Arc<KeyRing>,
        store: VerifyStore,
        rng: R,
        settings: Settings,
    ) -> VerifierCore<R> {
        let decoy = keys.seal("decoy", "decoy", "000000");
        VerifierCore {
            policy,
            keys,
            store,
            rng,
            settings,
            decoy,
            pending_audit: Vec::new(),
            budgets: HashMap::new(),
            dirty_budgets: BTreeSet::new(),
            records: HashMap::new(),
            numbers: HashMap::new(),
        }
    }

    /// A verification: from memory if it is there, else from sled.
    fn load(&self, id: &str) -> Result<Option<VerificationRecord>, StoreError> {
        match self.records.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.store.record(id),
        }
    }

    /// A number's state: from memory if it is there, else from sled.
    fn number_of(&self, to: &str) -> Result<NumberState, StoreError> {
        match self.numbers.get(to) {
            Some(n) => Ok(n.clone()),
            None => self.store.number(to),
        }
    }

    /// Writes a record in `step` and keeps it in memory while it can be checked.
    fn stage(
        &mut self,
        step: &mut Step,
        record: &VerificationRecord,
        old_sweep_at: Option<u64>,
    ) -> Result<(), StoreError> {
        step.record(record, old_sweep_at)?;
        let live = matches!(record.status, Status::Pending | Status::MaxAttemptsReached);
        if live && (self.records.len() < CACHED || self.records.contains_key(&record.id)) {
            self.records.insert(record.id.clone(), record.clone());
        } else {
            self.records.remove(&record.id);
        }
        Ok(())
    }

    /// Writes a number's state in `step` and keeps it in memory.
    fn stage_number(
        &mut self,
        step: &mut Step,
        to: &str,
        state: &NumberState,
    ) -> Result<(), StoreError> {
        step.number(to, state)?;
        if self.numbers.len() < CACHED || self.numbers.contains_key(to) {
            self.numbers.insert(to.to_owned(), state.clone());
        }
        Ok(())
    }

    /// Writes the pending audit lines and budget counts, then registers for the next
    /// flush: every write so far is on disk when it completes. Call it before answering.
    ///
    /// # Errors
    /// [`StoreError`] writing the pending lines.
    pub fn commit(&mut self) -> Result<CommitWait, StoreError> {
        self.write_pending()?;
        self.store.commit()
    }

    fn write_pending(&mut self) -> Result<(), StoreError> {
        self.store.push_audit(&mut self.pending_audit);
        let mut step = Step::default();
        for slot in std::mem::take(&mut self.dirty_budgets) {
            if let Some(count) = self.budgets.get(&slot) {
                step.budget(&slot, *count);
            }
        }
        if !step.is_empty() {
            self.store.apply(step)?;
        }
        Ok(())
    }

    /// The counts of `slots` in their windows.
    fn budget_use(&mut self, slots: &[BudgetSlot]) -> Result<Vec<u32>, StoreError> {
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            let count = match self.budgets.get(slot) {
                Some(c) => *c,
                None => {
                    let c = self
                        .store
                        .budgets(std::slice::from_ref(slot))?
                        .first()
                        .copied()
                        .unwrap_or(0);
                    self.budgets.insert(slot.clone(), c);
                    c
                }
            };
            out.push(count);
        }
        Ok(out)
    }

    /// The store, for reads the core does not wrap (the audit trail).
    pub fn store(&self) -> &VerifyStore {
        &self.store
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn audit(&mut self, at: u64, record: &VerificationRecord, kind: AuditKind) {
        self.pending_audit.push(AuditEntry {
            at,
            id: record.id.clone(),
            to: record.to.clone(),
            purpose: record.purpose.clone(),
            kind,
        });
    }

    /// Counts a send against the number and the budgets.
    fn count_send(&mut self, step: &mut Step, to: &str, now: u64) -> Result<(), StoreError> {
        let mut number = self.number_of(to)?;
        self.policy.on_send(&mut number, now);
        self.stage_number(step, to, &number)?;
        let slots = self.policy.budget_slots(to, now);
        self.budget_use(&slots)?;
        for slot in slots {
            if let Some(count) = self.budgets.get_mut(&slot) {
                *count = count.saturating_add(1);
            }
            self.dirty_budgets.insert(slot);
        }
        Ok(())
    }

    fn refused(&mut self, to: &str, purpose: &str, refusal: Refusal, now: u64) -> VerifyError {
        self.pending_audit.push(AuditEntry {
            at: now,
            id: String::new(),
            to: to.to_owned(),
            purpose: purpose.to_owned(),
            kind: AuditKind::Refused(refusal.to_string()),
        });
        VerifyError::Refused(refusal)
    }

    /// A new code (or link token) and the SMS that carries it.
    fn issue(
        &mut self,
        record: &mut VerificationRecord,
        now: u64,
    ) -> Result<OutgoingSms, VerifyError> {
        let (secret, link) = match record.channel {
            Channel::Sms => (generate_code(&mut self.rng, record.code_length), None),
            Channel::SmsLink => {
                let token = generate_token(&mut self.rng);
                let url = record
                    .link
                    .as_deref()
                    .ok_or(VerifyError::Link)?
                    .replace("{token}", &token);
                (token, Some(url))
            }
        };
        record.sealed = self.keys.seal(&record.id, &record.purpose, &secret);
        record.expires_at = now.saturating_add(record.validity_ms);
        record.last_send_at = now;
        let minutes = record.validity_ms.div_ceil(60_000);
        let shown = match &link {
            Some(url) => Secret::Link(url),
            None => Secret::Code(&secret),
        };
        let rendered = self.settings.templates.render(
            record.locale,
            record.channel,
            shown,
            minutes,
            &self.settings.service,
            self.settings.origin.as_deref(),
        )?;
        // The outbox rounds a relative validity up to the next second: ask for a second
        // less than the whole seconds left, so the carrier's deadline is never later than
        // the code's.
        let validity_ms = (record.validity_ms / 1000).saturating_sub(1).max(1) * 1000;
        // The SMS's id is drawn now and recorded with the code, so a start or resend is
        // one step of the verifier's.
        let message = MessageId(self.store.next_seq()?);
        record.messages.push(message);
        Ok(OutgoingSms {
            message,
            id: record.id.clone(),
            to: record.to.clone(),
            text: rendered.text,
            masked: rendered.masked,
            validity_ms,
            sandbox: record.sandbox,
            owner: record.owner.clone(),
        })
    }

    /// Starts a verification: the policy decides, a code is drawn and stored as its HMAC,
    /// the send is counted. The caller sends the SMS it returns, then calls
    /// [`VerifierCore::sent`].
    ///
    /// # Errors
    /// [`VerifyError::Refused`] (the refusal is in the audit trail), [`VerifyError::Link`],
    /// [`VerifyError::Template`], [`VerifyError::Store`].
    pub fn start(
        &mut self,
        request: StartRequest,
        now: u64,
    ) -> Result<(View, OutgoingSms), VerifyError> {
        let number = self.number_of(&request.to)?;
        let slots = self.policy.budget_slots(&request.to, now);
        let used = self.budget_use(&slots)?;
        let plan = match self.policy.start(
            &request.purpose,
            request.overrides,
            &request.to,
            &number,
            &used,
            now,
        ) {
            Ok(plan) => plan,
            Err(refusal) => return Err(self.refused(&request.to, &request.purpose, refusal, now)),
        };
        if request.channel == Channel::SmsLink {
            let usable = request
                .link
                .as_deref()
                .is_some_and(|l| l.starts_with("https://") && l.matches("{token}").count() == 1);
            if !usable {
                return Err(VerifyError::Link);
            }
        }
        // 16 hex digits of a sequence number, then 128 random bits: unguessable, and in
        // the order of creation, so new records land at the end of `verify_codes` (sled
        // rewrites one hot leaf instead of a random one per start).
        let mut id_bytes = [0u8; 16];
        self.rng.fill(&mut id_bytes[..]);
        let mut id = String::with_capacity(48);
        let seq = self.store.next_seq()?.to_be_bytes();
        for b in seq.iter().chain(&id_bytes) {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        let mut record = VerificationRecord {
            id,
            to: request.to,
            purpose: request.purpose,
            channel: request.channel,
            locale: request.locale.unwrap_or_default(),
            link: request.link,
            sandbox: request.sandbox,
            profile: plan.profile,
            code_length: plan.code_length,
            validity_ms: plan.validity_ms,
            sealed: self.decoy.clone(),
            status: Status::Pending,
            checks: 0,
            sends: 1,
            created_at: now,
            last_send_at: now,
            expires_at: now,
            messages: Vec::new(),
            finished_at: None,
            sweep_at: now,
            owner: request.owner,
        };
        let sms = self.issue(&mut record, now)?;
        record.sweep_at = record.expires_at;
        let mut step = Step::default();
        self.stage(&mut step, &record, None)?;
        self.count_send(&mut step, &record.to, now)?;
        self.audit(now, &record, AuditKind::Started);
        self.store.apply(step)?;
        Ok((self.view(&record), sms))
    }

    /// The SMS of the last start or resend was accepted by the outbox as `message`.
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub fn sent(&mut self, id: &str, message: MessageId, now: u64) {
        // The record has the message's id already (drawn with the code): only the audit
        // line is left, written with the next commit.
        let (to, purpose) = match self.records.get(id) {
            Some(r) => (r.to.clone(), r.purpose.clone()),
            None => (String::new(), String::new()),
        };
        self.pending_audit.push(AuditEntry {
            at: now,
            id: id.to_owned(),
            to,
            purpose,
            kind: AuditKind::Sent(message),
        });
    }

    /// The SMS of the last start or resend could not be handed to the outbox: the
    /// verification fails (its code never left, and a resent one voided the old).
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub fn send_failed(&mut self, id: &str, reason: &str, now: u64) -> Result<(), VerifyError> {
        let Some(mut record) = self.load(id)? else {
            return Ok(());
        };
        let mut step = Step::default();
        self.finish(&mut record, Status::Failed, now, &mut step)?;
        self.audit(now, &record, AuditKind::SendFailed(reason.to_owned()));
        self.store.apply(step)?;
        Ok(())
    }

    fn finish(
        &mut self,
        record: &mut VerificationRecord,
        status: Status,
        now: u64,
        step: &mut Step,
    ) -> Result<(), StoreError> {
        let old = record.sweep_at;
        record.status = status;
        record.finished_at = Some(now);
        record.sweep_at = now.saturating_add(self.settings.retention_ms);
        self.stage(step, record, Some(old))
    }

    fn progress(record: &VerificationRecord) -> Progress {
        Progress {
            checks: record.checks,
            sends: record.sends,
            last_send_at: record.last_send_at,
            expires_at: record.expires_at,
        }
    }

    /// The first step of a check: decides without a comparison where the rules do
    /// (unknown, finished, locked, out of checks, expired) and otherwise counts the attempt.
    /// Wait for [`VerifierCore::commit`], then call [`VerifierCore::finish_check`].
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn begin_check(&mut self, id: &str, now: u64) -> Result<Ticket, StoreError> {
        let decided = |outcome| {
            Ok(Ticket {
                id: id.to_owned(),
                decided: Some(outcome),
            })
        };
        let Some(mut record) = self.load(id)? else {
            return decided(CheckOutcome::NotFound);
        };
        match record.status {
            Status::Pending => {}
            Status::Expired => return decided(CheckOutcome::Expired),
            Status::MaxAttemptsReached => return decided(CheckOutcome::MaxAttemptsReached),
            Status::Approved | Status::Canceled | Status::Failed => {
                return decided(CheckOutcome::NotFound)
            }
        }
        let number = self.number_of(&record.to)?;
        let mut step = Step::default();
        match self
            .policy
            .may_check(&record.profile, Self::progress(&record), &number, now)
        {
            Ok(()) => {
                record.checks = record.checks.saturating_add(1);
                self.stage(&mut step, &record, Some(record.sweep_at))?;
                self.store.apply(step)?;
                Ok(Ticket {
                    id: id.to_owned(),
                    decided: None,
                })
            }
            Err(outcome) => {
                let status = match outcome {
                    CheckOutcome::Expired => Some((Status::Expired, AuditKind::Expired)),
                    CheckOutcome::MaxAttemptsReached => Some((
                        Status::MaxAttemptsReached,
                        AuditKind::Checked(outcome.name().into()),
                    )),
                    _ => None,
                };
                if let Some((status, kind)) = status {
                    self.finish(&mut record, status, now, &mut step)?;
                    self.audit(now, &record, kind);
                } else {
                    self.audit(now, &record, AuditKind::Checked(outcome.name().into()));
                }
                self.store.apply(step)?;
                decided(outcome)
            }
        }
    }

    /// The second step: compares `code` in constant time under the key that sealed it and
    /// consumes it if right; a wrong one counts against the number and may lock it. Wait for
    /// [`VerifierCore::commit`] before passing the answer on (an approval must be on disk
    /// before anyone acts on it, or a crash could let the code be used again).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn finish_check(
        &mut self,
        ticket: Ticket,
        code: &str,
        now: u64,
    ) -> Result<CheckOutcome, StoreError> {
        if let Some(outcome) = ticket.decided {
            // The same work as a real comparison, so the answer's timing tells nothing.
            let _ = self.keys.matches(&self.decoy, "decoy", "decoy", code);
            return Ok(outcome);
        }
        // A check counted within the limit compares even if a later one, refused for the
        // limit, has marked the verification max_attempts_reached meanwhile.
        let record = self.load(&ticket.id)?;
        let Some(mut record) =
            record.filter(|r| matches!(r.status, Status::Pending | Status::MaxAttemptsReached))
        else {
            // Approved by a check that finished first, or cancelled meanwhile.
            let _ = self.keys.matches(&self.decoy, "decoy", "decoy", code);
            return Ok(CheckOutcome::NotFound);
        };
        let right = self
            .keys
            .matches(&record.sealed, &record.id, &record.purpose, code);
        let mut number = self.number_of(&record.to)?;
        let before = number.clone();
        let mut step = Step::default();
        let outcome = if right {
            self.policy.on_success(&mut number);
            self.finish(&mut record, Status::Approved, now, &mut step)?;
            CheckOutcome::Approved
        } else {
            if let Some(until) = self.policy.on_failure(&mut number, now) {
                self.audit(now, &record, AuditKind::Locked(until));
            }
            CheckOutcome::Wrong {
                attempts_left: record.profile.max_checks.saturating_sub(record.checks),
            }
        };
        if number != before {
            self.stage_number(&mut step, &record.to, &number)?;
        }
        self.audit(now, &record, AuditKind::Checked(outcome.name().into()));
        self.store.apply(step)?;
        Ok(outcome)
    }

    /// Issues a new code for a pending verification, voiding the old one.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`], [`VerifyError::Refused`], [`VerifyError::Store`].
    pub fn resend(&mut self, id: &str, now: u64) -> Result<(View, OutgoingSms), VerifyError> {
        let mut record = self
            .store
            .record(id)?
            .filter(|r| r.status == Status::Pending)
            .ok_or(VerifyError::NotFound)?;
        let number = self.number_of(&record.to)?;
        let slots = self.policy.budget_slots(&record.to, now);
        let used = self.budget_use(&slots)?;
        if let Err(refusal) = self.policy.resend(
            &record.profile,
            Self::progress(&record),
            &record.to,
            &number,
            &used,
            now,
        ) {
            return Err(self.refused(&record.to, &record.purpose, refusal, now));
        }
        let old = record.sweep_at;
        let sms = self.issue(&mut record, now)?;
        record.sends = record.sends.saturating_add(1);
        record.sweep_at = record.expires_at;
        let mut step = Step::default();
        self.stage(&mut step, &record, Some(old))?;
        self.count_send(&mut step, &record.to, now)?;
        self.audit(now, &record, AuditKind::Resent);
        self.store.apply(step)?;
        Ok((self.view(&record), sms))
    }

    /// Cancels a pending verification: its code no longer works.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`], [`VerifyError::Store`].
    pub fn cancel(&mut self, id: &str, now: u64) -> Result<View, VerifyError> {
        let mut record = self
            .store
            .record(id)?
            .filter(|r| r.status == Status::Pending)
            .ok_or(VerifyError::NotFound)?;
        let mut step = Step::default();
        self.finish(&mut record, Status::Canceled, now, &mut step)?;
        self.audit(now, &record, AuditKind::Canceled);
        self.store.apply(step)?;
        Ok(self.view(&record))
    }

    /// A verification as it stands (expired if its code's time is over, even before the
    /// sweeper has marked it).
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn status(&self, id: &str, now: u64) -> Result<Option<View>, StoreError> {
        Ok(self.load(id)?.map(|mut r| {
            if r.status == Status::Pending && now >= r.expires_at {
                r.status = Status::Expired;
            }
            self.view(&r)
        }))
    }

    fn view(&self, r: &VerificationRecord) -> View {
        View {
            id: r.id.clone(),
            to: r.to.clone(),
            purpose: r.purpose.clone(),
            channel: r.channel,
            status: r.status,
            attempts_left: r.profile.max_checks.saturating_sub(r.checks),
            sends: r.sends,
            created_at: r.created_at,
            expires_at: r.expires_at,
            resend_allowed_at: self.policy.resend_allowed_at(&r.profile, Self::progress(r)),
            message: r.messages.last().copied(),
            sandbox: r.sandbox,
            owner: r.owner.clone(),
        }
    }

    /// The TTL sweeper: pending verifications past their code's time become expired,
    /// finished ones past their retention are removed, old budget windows and audit lines
    /// go.
    ///
    /// # Errors
    /// [`StoreError`].
    pub fn sweep(&mut self, now: u64) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let mut step = Step::default();
        for (at, id) in self.store.due(now, self.settings.sweep_max)? {
            match self.load(&id)? {
                // Its time moved later (a resend, a finish): look again then.
                Some(record) if record.sweep_at > at => {
                    step.forget_sweep(&id, at);
                    step.add_sweep(&id, record.sweep_at);
                }
                Some(mut record) if record.status == Status::Pending => {
                    self.finish(&mut record, Status::Expired, now, &mut step)?;
                    self.audit(now, &record, AuditKind::Expired);
                    step.forget_sweep(&id, at);
                    step.add_sweep(&id, record.sweep_at);
                    report.expired += 1;
                    report
                        .expired_ids
                        .push((id.clone(), record.purpose.clone(), record.sandbox));
                }
                Some(record) => {
                    self.records.remove(&record.id);
                    step.remove(&record.id, at);
                    report.removed += 1;
                }
                None => step.forget_sweep(&id, at),
            }
        }
        let window = now / self.policy.budgets.window_ms.max(1);
        self.budgets.retain(|slot, _| slot.window >= window);
        for key in self.store.old_budgets(window, self.settings.sweep_max)? {
            step.forget_budget(key);
            report.pruned += 1;
        }
        let cutoff = now.saturating_sub(self.settings.audit_retention_ms);
        for key in self.store.old_audit(cutoff, self.settings.sweep_max)? {
            step.forget_audit(key);
            report.pruned += 1;
        }
        if !step.is_empty() {
            self.store.apply(step)?;
        }
        self.write_pending()?;
        Ok(report)
    }
}
