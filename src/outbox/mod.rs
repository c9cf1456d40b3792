//! The outbox: the one owner of message state. [`Outbox`] is a pure core over a
//! [`Storage`]: no sockets, no actors, no clock (every method takes `now`, unix ms); the
//! Outbox actor drives it and the Binds feed it results and receipts.
//!
//! A message walks `queued → in_flight → submitted → delivered | undeliverable | expired |
//! rejected | failed`. What must be durable before anyone is told is written in the same
//! call and made durable by [`Outbox::commit`]: an accept before its ack, a receipt (or a
//! mobile-originated message) before its deliver_sm_resp. `in_flight` is never written: a
//! message in flight at a crash is queued again at start. Submitted and final states are
//! written without waiting for a flush.
//!
//! A long queue waits on disk: each carrier's class keeps at most
//! [`Settings::in_memory`] of its queued messages in memory, and the rest are *parked*
//! (listed on disk in queue order, their records only on disk) and read back, oldest
//! first, when the in-memory part runs low. A message carrying a verification code is
//! never parked: its text is only in memory.
//!
//! After a [`StoreError`] from a method that changes state, the memory of the core may be
//! ahead of the disk: stop the core and [`Outbox::recover`] from the disk.

pub mod actor;
pub mod address;
pub mod feed;
pub mod lane;
pub mod profile;
mod queue;
#[cfg(test)]
mod tests;
pub mod text;

pub use crate::carrier::router::{Route, RouteKind};
pub use crate::store::{Class, MessageId, SegmentState, State};
pub use address::{AddressError, Addressing, SenderForm};
pub use profile::{CarrierProfile, Unfit};
pub use text::{ShiftJisRule, TextProfile, TextRefusal};

use crate::carrier::backoff::BackoffPolicy;
use crate::carrier::number::Msisdn;
use crate::carrier::retry::{RetryPolicy, StatusClass};
use crate::store::{
    ClientRefRecord, CommitWait, Event, EventKind, MessageRecord, Op, Parked, SegmentRecord,
    SegmentRef, Storage, StoreError, UnmatchedReceipt,
};
use profile::{relative_validity, Outgoing};
use queue::{Line, Queues};
use rand::SeedableRng;
use smpp::pdu::SubmitSm;
use smpp::tlv::NetworkErrorCode;
use smpp::values::MessageState;
use smpp::CommandStatus;
use std::collections::{BTreeSet, HashMap};

/// The outbox's own settings (the per-carrier ones are in [`CarrierProfile`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The longest validity a message may ask for; longer requests are cut to it (ms).
    pub max_validity_ms: u64,
    /// How long a client reference returns its first message (ms; 24 h).
    pub client_ref_ttl_ms: u64,
    /// How long a receipt that matched nothing is kept for late matching (ms).
    pub unmatched_ttl_ms: u64,
    /// How long after its validity (or its last submission) a submitted message waits for
    /// its receipts before it is `failed` (ms).
    pub receipt_wait_ms: u64,
    /// The wait after a transient failure: attempt `n` of a segment that failed waits the
    /// policy's delay at step `n - 1` (doubling from its initial delay up to its maximum,
    /// less up to `jitter` of it). The jitter is drawn from the message id, the segment and
    /// the attempt, so the core stays deterministic while messages that failed together
    /// do not all come back at once.
    pub retry: BackoffPolicy,
    /// Most client references and most unmatched receipts one [`Outbox::tick`] sweeps.
    pub sweep_max: usize,
    /// Most messages not yet final held at once; [`Outbox::accept`] refuses a new one
    /// beyond ([`SubmitError::QueueFull`]).
    pub max_open: usize,
    /// Queued messages of one carrier's class held in memory; beyond, a queued message is
    /// parked: kept on disk only and read back in queue order, a few for each PDU a pull
    /// takes, while fewer than this many are in memory. At least 1.
    pub in_memory: usize,
    /// How long a final message stays readable (its status, a late receipt's match) after
    /// its last change (ms); then its record and carrier ids are removed.
    pub retention_ms: u64,
    /// How long an event stays in the event log (ms); the newest is always kept, so that
    /// the sequence numbers go on from it after a restart.
    pub events_retention_ms: u64,
    /// Most final messages, and most stretches of the event log, one [`Outbox::tick`]
    /// looks at for retention.
    pub retention_sweep_max: usize,
}

impl Default for Settings {
    /// Validity at most 48 h; client references 24 h; unmatched receipts kept 24 h;
    /// receipts awaited 24 h after validity; backoff 1 s doubling to 60 s; 1,000 swept per
    /// tick; a million messages open at most; 10,000 queued a carrier's class in memory;
    /// final messages and events kept 7 days, 1,000 of each looked at per tick.
    fn default() -> Self {
        const HOUR: u64 = 3_600_000;
        Settings {
            max_validity_ms: 48 * HOUR,
            client_ref_ttl_ms: 24 * HOUR,
            unmatched_ttl_ms: 24 * HOUR,
            receipt_wait_ms: 24 * HOUR,
            retry: BackoffPolicy::default(),
            sweep_max: 1_000,
            max_open: 1_000_000,
            in_memory: 10_000,
            retention_ms: 7 * 24 * HOUR,
            events_retention_ms: 7 * 24 * HOUR,
            retention_sweep_max: 1_000,
        }
    }
}

/// Most octets of a client reference.
pub const CLIENT_REF_MAX: usize = 128;

/// A message a backend hands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Destination.
    pub to: Msisdn,
    /// Sender; `None` for the carrier's default.
    pub from: Option<String>,
    /// The text.
    pub text: String,
    /// The text to keep on disk instead (a verification SMS: its code is never stored in
    /// plaintext). Such a message cannot be sent after a restart: what was unsent then
    /// ends `failed`.
    pub masked: Option<String>,
    /// Its id, drawn by the caller from the same generator ([`crate::store::SharedDb::generate_id`])
    /// so that it can record the id before handing the message in; `None`: drawn here.
    pub id: Option<MessageId>,
    /// Priority class.
    pub class: Class,
    /// Idempotency reference: the same one within 24 h returns the first message.
    pub client_ref: Option<String>,
    /// Validity asked for (ms), cut to [`Settings::max_validity_ms`]; `None` for the
    /// first carrier's default.
    pub validity_ms: Option<u64>,
    /// Whether the backend wants delivery receipts (which ones, the carrier's
    /// [`CarrierProfile::registered_delivery`] says).
    pub registered_delivery: bool,
    /// The name of the API token that submitted it, kept in its record so that the
    /// token's webhook hears of it; `None` for a message from elsewhere.
    pub owner: Option<String>,
}

/// What [`Outbox::accept`] answers. Await [`Outbox::commit`] before passing it on, also
/// for a duplicate (the first message may not be flushed yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The message's id (the first message's, for a duplicate).
    pub id: MessageId,
    /// Its state now.
    pub state: State,
    /// Whether the client reference was seen within 24 h, so nothing new was queued.
    pub duplicate: bool,
}

/// Why a message was refused at submit. Nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The route names no carrier.
    #[error("no route: the route names no carrier")]
    NoRoute,
    /// The route's first carrier is not configured.
    #[error("carrier {0:?} is not configured")]
    UnknownCarrier(String),
    /// The first carrier cannot take the message (text or address).
    #[error("carrier {carrier}: {reason}")]
    Unfit {
        /// The carrier.
        carrier: String,
        /// Why, naming the character, the length or the address.
        reason: Unfit,
    },
    /// The client reference is empty or longer than [`CLIENT_REF_MAX`] octets.
    #[error("client_ref must be 1 to {CLIENT_REF_MAX} octets, got {len}")]
    ClientRef {
        /// Its length.
        len: usize,
    },
    /// A validity of zero.
    #[error("validity_ms: 0 is not allowed")]
    ZeroValidity,
    /// As many messages as [`Settings::max_open`] are not yet final: try again later.
    #[error("the outbox holds {limit} messages not yet final, its limit (outbox.max_queued)")]
    QueueFull {
        /// The limit.
        limit: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Names one submit_sm of one segment, to hand back with its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DispatchKey {
    /// The message.
    pub message: MessageId,
    /// The segment, 1-based.
    pub segment: u8,
    /// Which dispatch of the message this is; a result for an older one is stale.
    pub serial: u32,
}

/// One segment to send: the Bind gives it a sequence number and sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatch {
    /// Hand this back with the result.
    pub key: DispatchKey,
    /// The message's class (for the Pool's metrics).
    pub class: Class,
    /// Attempt number of this segment, from 1.
    pub attempt: u32,
    /// The submit_sm body.
    pub submit: SubmitSm<'static>,
}

/// The result of one submit_sm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResult {
    /// submit_sm_resp with ESME_ROK; `carrier_id` is its message_id in the normalised
    /// form receipts are looked up by.
    Submitted {
        /// The carrier's message id, normalised.
        carrier_id: String,
    },
    /// submit_sm_resp with an error status, classified by the carrier's retry policy.
    Status(CommandStatus),
    /// No answer came.
    NoAnswer(NoAnswer),
}

/// Why a submit_sm got no answer; all are transient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAnswer {
    /// The response timeout passed.
    Timeout,
    /// The bind was lost with the PDU unanswered.
    BindLost,
    /// The PDU never left: the bind it was given to had lost its session (or its window
    /// filled) before it could be written. Queued again at once, not counted as an attempt.
    NotSent,
}

/// A receipt that came before its submit_sm_resp, matched when the response came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReceipt {
    /// The carrier that sent it.
    pub carrier: String,
    /// The receipt's state (5.2.28).
    pub state: MessageState,
    /// When the message was accepted (unix ms).
    pub accepted_at: u64,
}

/// What a submit result did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitEffect {
    /// The segment is submitted; `state` is the message's state after (queued while other
    /// segments wait, submitted, or final if a held receipt ended it).
    Submitted {
        /// The message's state.
        state: State,
        /// A receipt that had come before this response and was held: its state, and when
        /// the message was accepted (for the receipt latency). `None` when none was held.
        held_receipt: Option<HeldReceipt>,
    },
    /// Transient: the segment is back at the head of its line, due again at `at`.
    Retry {
        /// When it may go again (unix ms).
        at: u64,
    },
    /// Failover: the message is queued on `carrier`.
    FailedOver {
        /// The carrier it moved to.
        carrier: String,
    },
    /// The segment ended without being submitted: rejected, or expired on a transient
    /// failure after the validity. `state` is the message's state after: final, unless
    /// other segments of it are still in flight (their results end it).
    Ended {
        /// The message's state.
        state: State,
    },
    /// The result is for a dispatch that no longer counts (the message moved on or ended).
    Stale,
}

/// A delivery receipt from a carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingReceipt {
    /// The carrier it came from.
    pub carrier: String,
    /// The forms its id may take, normalised by the carrier's id rules, most likely first
    /// (e.g. as received, then hex→decimal); tried in order.
    pub candidates: Vec<String>,
    /// The state it reports (message_state TLV, or the receipt text's `stat`).
    pub state: MessageState,
    /// network_error_code, when sent.
    pub network_error: Option<NetworkErrorCode>,
}

/// What a receipt did. Await [`Outbox::commit`] before answering the deliver_sm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// It matched a segment and set its final state.
    Matched {
        /// The message.
        message: MessageId,
        /// The segment, 1-based.
        segment: u8,
        /// Which candidate form matched (teaches the carrier's id form).
        candidate: usize,
        /// The message's state after.
        state: State,
        /// When the message was accepted (unix ms): with the receipt's time, the
        /// accept-to-receipt latency.
        accepted_at: u64,
    },
    /// It matched a segment but reports an intermediate state (ENROUTE): nothing changes.
    Intermediate {
        /// The message.
        message: MessageId,
        /// The segment.
        segment: u8,
        /// Which candidate form matched.
        candidate: usize,
    },
    /// It matched a segment that already has its final state (a resent receipt).
    Duplicate {
        /// The message.
        message: MessageId,
        /// The segment.
        segment: u8,
        /// Which candidate form matched.
        candidate: usize,
    },
    /// It matched a segment that has since been sent again on another carrier.
    Stale {
        /// The message.
        message: MessageId,
        /// The segment.
        segment: u8,
    },
    /// It matched nothing. `kept` is false when the same receipt was already kept.
    Unmatched {
        /// Whether it was newly kept for late matching.
        kept: bool,
    },
}

/// What a [`Outbox::tick`] did, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickReport {
    /// Messages that reached a final state (expired, or failed without receipt).
    pub ended: usize,
    /// Client references forgotten.
    pub client_refs_swept: usize,
    /// Unmatched receipts dropped for age.
    pub unmatched_swept: usize,
    /// Final messages removed past their retention.
    pub messages_swept: usize,
    /// Events removed past their retention.
    pub events_swept: usize,
}

/// A message's status as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatus {
    /// Its id.
    pub id: MessageId,
    /// Its state (`in_flight` while a segment awaits its submit_sm_resp).
    pub state: State,
    /// Its class.
    pub class: Class,
    /// Its destination.
    pub to: String,
    /// Its client reference.
    pub client_ref: Option<String>,
    /// Domestic or international route.
    pub route_kind: RouteKind,
    /// The carrier it is on.
    pub carrier: String,
    /// submit_sm attempts over all segments and carriers so far.
    pub attempts: u32,
    /// Its segments.
    pub segments: Vec<SegmentStatus>,
    /// Why it ended as it did.
    pub detail: Option<String>,
    /// When it was accepted (unix ms).
    pub accepted_at: u64,
    /// When its validity ends (unix ms).
    pub expires_at: u64,
    /// When it last changed (unix ms).
    pub updated_at: u64,
    /// The API token that submitted it, if one did.
    pub owner: Option<String>,
}

/// One segment's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentStatus {
    /// Its number, 1-based.
    pub number: u8,
    /// Its state.
    pub state: SegmentState,
    /// The carrier's id for it, once submitted.
    pub carrier_id: Option<String>,
    /// Its submit_sm attempts.
    pub attempts: u32,
    /// Why it ended other than delivered.
    pub error: Option<String>,
}

/// Where a pending segment stands in memory (not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// May be sent now.
    Ready,
    /// Sent as dispatch `serial` at `taken_at` (unix ms), no result yet.
    InFlight { serial: u32, taken_at: u64 },
    /// Backing off until then (unix ms).
    Waiting { until: u64 },
    /// Not pending (submitted or final).
    Settled,
}

/// An open message in memory: its record, its PDUs and where each segment stands.
#[derive(Debug)]
struct Entry {
    record: MessageRecord,
    /// One submit_sm per segment, for the carrier it is on.
    submits: Vec<SubmitSm<'static>>,
    /// One per segment.
    slots: Vec<Slot>,
    /// Dispatches made, so that a result names the dispatch it answers.
    serial: u32,
}

impl Entry {
    /// Builds the entry of a record whose segments match `submits`; pending segments are
    /// ready.
    fn new(record: MessageRecord, submits: Vec<SubmitSm<'static>>) -> Entry {
        let slots = record
            .segments
            .iter()
            .map(|s| {
                if s.state == SegmentState::Pending {
                    Slot::Ready
                } else {
                    Slot::Settled
                }
            })
            .collect();
        Entry {
            record,
            submits,
            slots,
            serial: 0,
        }
    }

    fn line(&self) -> Line<'_> {
        Line {
            carrier: self.record.carrier_name(),
            class: self.record.class,
            dest: self.record.to.as_str(),
        }
    }

    fn has_ready(&self) -> bool {
        self.slots.contains(&Slot::Ready)
    }

    fn in_flight(&self) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(s, Slot::InFlight { .. }))
    }

    fn has_pending(&self) -> bool {
        self.record
            .segments
            .iter()
            .any(|s| s.state == SegmentState::Pending)
    }

    /// Nothing of it has been sent or is being sent: it may move to another carrier.
    fn unsent(&self) -> bool {
        !self.in_flight()
            && self
                .record
                .segments
                .iter()
                .all(|s| s.state == SegmentState::Pending)
    }

    /// When [`Outbox::tick`] must look at it: the end of its validity while segments are
    /// pending, else the end of the wait for receipts.
    fn deadline(&self, receipt_wait_ms: u64) -> u64 {
        if self.has_pending() {
            return self.record.expires_at;
        }
        let last_submit = self
            .record
            .segments
            .iter()
            .filter_map(|s| s.submitted_at)
            .max()
            .unwrap_or(0);
        self.record
            .expires_at
            .max(last_submit)
            .saturating_add(receipt_wait_ms)
    }

    /// The state as a status read shows it.
    fn state(&self) -> State {
        if self.record.state == State::Queued && self.in_flight() {
            State::InFlight
        } else {
            self.record.state
        }
    }

    fn outgoing(&self) -> Outgoing<'_> {
        outgoing(&self.record)
    }
}

fn outgoing(record: &MessageRecord) -> Outgoing<'_> {
    Outgoing {
        to: &record.to,
        from: record.from.as_deref(),
        text: &record.text,
        receipts: record.receipts,
    }
}

/// Segment number of position `i`.
fn number(i: usize) -> u8 {
    u8::try_from(i.saturating_add(1)).unwrap_or(u8::MAX)
}

/// The final state a message's segments decide, with the segment that decided it: the
/// first failed segment, else delivered when all are.
fn outcome(record: &MessageRecord) -> Option<(State, Option<usize>)> {
    for (i, s) in record.segments.iter().enumerate() {
        let state = match s.state {
            SegmentState::Undeliverable => State::Undeliverable,
            SegmentState::Expired => State::Expired,
            SegmentState::Rejected => State::Rejected,
            SegmentState::Failed => State::Failed,
            _ => continue,
        };
        return Some((state, Some(i)));
    }
    record
        .segments
        .iter()
        .all(|s| s.state == SegmentState::Delivered)
        .then_some((State::Delivered, None))
}

/// The segment state a receipt's message_state sets (5.2.28); `None` for ENROUTE.
fn receipt_segment_state(state: MessageState) -> Option<SegmentState> {
    match state {
        MessageState::Enroute => None,
        MessageState::Delivered => Some(SegmentState::Delivered),
        MessageState::Expired => Some(SegmentState::Expired),
        MessageState::Undeliverable => Some(SegmentState::Undeliverable),
        MessageState::Rejected => Some(SegmentState::Rejected),
        MessageState::Deleted | MessageState::Unknown | MessageState::Accepted => {
            Some(SegmentState::Failed)
        }
    }
}

fn receipt_detail(state: u8, network_error: Option<NetworkErrorCode>) -> String {
    let name = MessageState::from_u8(state).map_or("message_state ?", MessageState::name);
    match network_error {
        Some(e) => format!(
            "receipt {name}, network error type {} code 0x{:04x}",
            e.network_type, e.error_code
        ),
        None => format!("receipt {name}"),
    }
}

/// Re-lists a line's head as ready or not.
fn refresh(queues: &mut Queues, entries: &HashMap<MessageId, Entry>, line: Line<'_>) {
    queues.refresh(line, |id| entries.get(&id).is_some_and(Entry::has_ready));
}

/// Whether a record may be parked: queued, nothing of it sent or decided, and its text on
/// disk (a verification code's text is only in memory).
fn parkable(record: &MessageRecord) -> bool {
    record.masked.is_none()
        && record.state == State::Queued
        && record
            .segments
            .iter()
            .all(|s| s.state == SegmentState::Pending)
}

/// Open messages a recovery reads at a time.
const RECOVERY_CHUNK: usize = 4_096;

/// Parked messages a pull reads back at most: this many for each PDU it may take, and at
/// least [`FILL_MIN`].
const FILL_PER_PDU: usize = 4;
const FILL_MIN: usize = 64;

/// Parked messages a move reads at a time.
const PARKED_CHUNK: usize = 1_024;

/// Messages removed by one step of a retention sweep.
const SWEEP_STEP: usize = 64;

/// How much earlier than its submit_sm a held receipt may have come and still be taken as
/// that submit's: a receipt cannot come before its message reached the SMSC, so anything
/// older names an earlier message with the same carrier id. The slack covers a wall clock
/// stepped back meanwhile; held receipts of another message are hours old (retention).
const HELD_RECEIPT_SLACK_MS: u64 = 60_000;

/// What one step changed, for its event.
struct Change {
    segment: Option<(u8, SegmentState)>,
    detail: Option<String>,
}

/// The outbox core. See the module documentation.
pub struct Outbox<S: Storage> {
    store: S,
    settings: Settings,
    carriers: HashMap<String, CarrierProfile>,
    /// Every open message.
    entries: HashMap<MessageId, Entry>,
    /// The lines of work per carrier, class and destination.
    queues: Queues,
    /// Segments backing off: (due, message, segment number).
    waiting: BTreeSet<(u64, MessageId, u8)>,
    /// When to look at a message again (validity end, receipt wait); stale ones skipped.
    deadlines: BTreeSet<(u64, MessageId)>,
    /// Sequence number of the last event appended.
    last_event: u64,
    /// Sequence number of the oldest event kept (0: the log is empty).
    first_event: u64,
    /// Receipts kept unmatched (counted at start, then kept up to date).
    unmatched_held: usize,
    /// Parked messages per carrier and class rank.
    parked: HashMap<String, [usize; 3]>,
    /// Parked messages in all.
    parked_total: usize,
    /// Where the retention sweep of final messages stands.
    retention: RetentionCursor,
    /// What the event log's readers are shown, once attached ([`Outbox::attach_feed`]).
    feed: Option<std::sync::Arc<feed::EventFeed>>,
}

/// Where the retention sweep of final messages stands: it walks them by id (acceptance
/// order) from the oldest and stops at the first accepted after the cutoff. One that
/// changed after the cutoff though accepted before (it lived long) is passed over and
/// looked at again on the next pass.
#[derive(Debug, Default, Clone, Copy)]
struct RetentionCursor {
    /// The id the next tick's walk starts at.
    from: MessageId,
    /// The first passed over in this pass, where the next pass starts.
    kept: Option<MessageId>,
}

impl<S: Storage> Outbox<S> {
    /// Opens the core over `store` and reads back everything not final: queued and
    /// in-flight messages are queued again in their lines (by id, so in their first order),
    /// submitted ones wait for their receipts (their carrier ids are indexed on disk).
    /// A message whose carrier can no longer take it moves to the next carrier of its
    /// route, or fails.
    ///
    /// # Errors
    /// A [`StoreError`] reading or writing the store.
    pub fn recover(
        store: S,
        settings: Settings,
        carriers: HashMap<String, CarrierProfile>,
        now: u64,
    ) -> Result<Self, StoreError> {
        let mut outbox = Outbox {
            last_event: store.last_event_seq()?,
            first_event: store.first_event_seq()?,
            unmatched_held: store.unmatched_count()?,
            store,
            settings,
            carriers,
            entries: HashMap::new(),
            queues: Queues::default(),
            waiting: BTreeSet::new(),
            deadlines: BTreeSet::new(),
            parked: HashMap::new(),
            parked_total: 0,
            retention: RetentionCursor::default(),
            feed: None,
        };
        outbox.store.clear_parked()?;
        let mut ops = Vec::new();
        let mut from = MessageId(0);
        loop {
            let chunk = outbox.store.open_messages_from(from, RECOVERY_CHUNK)?;
            let Some(last) = chunk.last().map(|r| r.id) else {
                break;
            };
            for record in chunk {
                let parks = parkable(&record)
                    && outbox.carriers.contains_key(record.carrier_name())
                    && outbox.parks(record.carrier_name(), record.class);
                if parks {
                    outbox.park(&record, &mut ops);
                } else {
                    outbox.revive(record, now, &mut ops);
                }
                if ops.len() >= RECOVERY_CHUNK {
                    outbox.store.apply(std::mem::take(&mut ops))?;
                }
            }
            match last.0.checked_add(1) {
                Some(next) => from = MessageId(next),
                None => break,
            }
        }
        if !ops.is_empty() {
            outbox.store.apply(ops)?;
        }
        Ok(outbox)
    }

    /// Puts a message read back from disk (at start, or parked) in memory: queued again in
    /// its line, or waiting for its receipts; one whose carrier can no longer take it moves
    /// to the next carrier of its route, or fails; one whose code's text is lost fails.
    fn revive(&mut self, record: MessageRecord, now: u64, ops: &mut Vec<Op>) {
        let unsent_secret = record.masked.is_some()
            && record
                .segments
                .iter()
                .any(|s| s.state == SegmentState::Pending);
        if unsent_secret {
            // Its text held a verification code, and the disk has only the masked
            // text: what was not sent before the crash cannot be sent now.
            let reason = "its text held a verification code, which is not kept on disk; \
                          start a new verification";
            self.fail_at_start(Entry::new(record, Vec::new()), reason.into(), now, ops);
            return;
        }
        let submits = self.carriers.get(record.carrier_name()).map(|profile| {
            profile
                .submits(&outgoing(&record), &record.plan)
                .map_err(|e| e.to_string())
        });
        match submits {
            Some(Ok(submits)) if submits.len() == record.segments.len() => {
                let entry = Entry::new(record, submits);
                let decided = outcome(&entry.record).is_some_and(|(s, _)| s != State::Delivered);
                if decided {
                    // A segment failed while others were in flight, then the crash:
                    // what was in flight no longer counts, the message ends now.
                    let change = Change {
                        segment: None,
                        detail: Some("ended at start".into()),
                    };
                    self.finish_step(entry, now, ops, change);
                } else {
                    self.restore(entry);
                }
            }
            other => {
                let reason = match other {
                    None => format!("carrier {} is not configured", record.carrier_name()),
                    Some(Err(e)) => format!("carrier {}: {e}", record.carrier_name()),
                    Some(Ok(_)) => "its segments no longer split as when first sent".into(),
                };
                self.reroute_at_start(record, reason, now, ops);
            }
        }
    }

    /// Whether a queued message of `carrier`'s `class` waits on disk only: that queue
    /// holds its share in memory already, or has parked messages (which are older).
    fn parks(&self, carrier: &str, class: Class) -> bool {
        self.parked_in(carrier, class) > 0
            || self.queues.depth(carrier, class) >= self.settings.in_memory
    }

    fn parked_in(&self, carrier: &str, class: Class) -> usize {
        self.parked
            .get(carrier)
            .and_then(|counts| counts.get(class.rank()))
            .copied()
            .unwrap_or(0)
    }

    /// Lists a parkable record as parked (the caller drops its entry).
    fn park(&mut self, record: &MessageRecord, ops: &mut Vec<Op>) {
        let carrier = record.carrier_name().to_owned();
        if let Some(count) = self
            .parked
            .entry(carrier.clone())
            .or_default()
            .get_mut(record.class.rank())
        {
            *count = count.saturating_add(1);
            self.parked_total = self.parked_total.saturating_add(1);
        }
        ops.push(Op::Park(Parked {
            carrier,
            class: record.class,
            id: record.id,
            expires_at: record.expires_at,
        }));
    }

    /// Unlists a parked message.
    fn unpark(&mut self, parked: Parked, ops: &mut Vec<Op>) {
        if let Some(count) = self
            .parked
            .get_mut(&parked.carrier)
            .and_then(|counts| counts.get_mut(parked.class.rank()))
        {
            if *count > 0 {
                *count -= 1;
                self.parked_total = self.parked_total.saturating_sub(1);
            }
        }
        ops.push(Op::Unpark(parked));
    }

    /// The record of a parked message if it still is one (queued in that carrier's class,
    /// nothing sent); `None` for a listing some step left behind.
    fn parked_record(&self, parked: &Parked) -> Result<Option<MessageRecord>, StoreError> {
        Ok(self.store.message(parked.id)?.filter(|r| {
            parkable(r) && r.carrier_name() == parked.carrier && r.class == parked.class
        }))
    }

    /// Reads parked messages of `carrier` back into memory, oldest first, for each class
    /// whose in-memory part is below its share: a few times what a pull of `pdus` takes
    /// at most, so that a pull never stalls the outbox on a long read.
    fn fill(&mut self, carrier: &str, pdus: usize, now: u64) -> Result<(), StoreError> {
        for class in Class::BY_PRIORITY {
            if self.parked_in(carrier, class) == 0 {
                continue;
            }
            let depth = self.queues.depth(carrier, class);
            let room = self
                .settings
                .in_memory
                .saturating_sub(depth)
                .min(pdus.saturating_mul(FILL_PER_PDU).max(FILL_MIN));
            if room == 0 {
                continue;
            }
            let listed = self.store.parked(carrier, class, MessageId(0), room)?;
            if listed.is_empty() {
                // The count ran ahead of the listing: nothing is parked there.
                let stale = self.parked_in(carrier, class);
                self.parked_total = self.parked_total.saturating_sub(stale);
                if let Some(c) = self
                    .parked
                    .get_mut(carrier)
                    .and_then(|counts| counts.get_mut(class.rank()))
                {
                    *c = 0;
                }
                continue;
            }
            let mut ops = Vec::new();
            for parked in listed {
                let record = self.parked_record(&parked)?;
                self.unpark(parked, &mut ops);
                if let Some(record) = record {
                    self.revive(record, now, &mut ops);
                }
            }
            self.store.apply(ops)?;
        }
        Ok(())
    }

    /// Puts a recovered entry in memory, its line and the deadlines.
    fn restore(&mut self, entry: Entry) {
        let id = entry.record.id;
        self.deadlines
            .insert((entry.deadline(self.settings.receipt_wait_ms), id));
        if entry.has_pending() {
            self.queues.add(entry.line(), id);
        }
        self.entries.insert(id, entry);
        if let Some(entry) = self.entries.get(&id) {
            refresh(&mut self.queues, &self.entries, entry.line());
        }
    }

    /// A recovered message its carrier cannot take any more: the next carrier if nothing
    /// was sent yet, else `failed`.
    fn reroute_at_start(
        &mut self,
        record: MessageRecord,
        reason: String,
        now: u64,
        ops: &mut Vec<Op>,
    ) {
        let mut entry = Entry::new(record, Vec::new());
        let from = entry.record.carrier_name().to_owned();
        if entry.unsent() {
            if let Some(to) = self.move_on(&mut entry) {
                let detail = format!("{reason}; moved from {from} to {to}");
                self.write_entry(&mut entry, now, ops, None, Some(detail));
                self.restore(entry);
                return;
            }
        }
        self.fail_at_start(entry, reason, now, ops);
    }

    /// Ends a recovered message `failed`: its pending segments are cancelled.
    fn fail_at_start(&mut self, mut entry: Entry, reason: String, now: u64, ops: &mut Vec<Op>) {
        for (segment, slot) in entry.record.segments.iter_mut().zip(&mut entry.slots) {
            if segment.state == SegmentState::Pending {
                segment.state = SegmentState::Cancelled;
                *slot = Slot::Settled;
            }
        }
        entry.record.state = State::Failed;
        entry.record.detail = Some(reason.clone());
        self.write_entry(&mut entry, now, ops, None, Some(reason));
    }

    /// Registers for the next group-commit flush: every write made so far (this accept,
    /// this receipt) is on disk when it completes.
    pub fn commit(&self) -> CommitWait {
        self.store.commit()
    }

    /// A commit that waits for the end of the turn's group ([`Outbox::end_group`]), so that
    /// the steps of one turn are written together (see [`Storage::commit_later`]).
    pub fn commit_later(&self) -> CommitWait {
        self.store.commit_later()
    }

    /// Ends the turn's group: its steps are written, and the commits that waited for them
    /// go to the next flush.
    ///
    /// # Errors
    /// The store's; the outbox is then to stop, as for any failed write.
    pub fn end_group(&self) -> Result<(), StoreError> {
        self.store.end_group()
    }

    /// The store, for reads the core does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn push_event(&mut self, ops: &mut Vec<Op>, at: u64, kind: EventKind) {
        self.last_event = self.last_event.saturating_add(1);
        if self.first_event == 0 {
            self.first_event = self.last_event;
        }
        let event = Event { at, kind };
        if let Some(feed) = &self.feed {
            feed.push(self.last_event, &event);
        }
        ops.push(Op::Event {
            seq: self.last_event,
            event,
        });
    }

    /// Stores the entry's record and appends the event of the change.
    fn write_entry(
        &mut self,
        entry: &mut Entry,
        now: u64,
        ops: &mut Vec<Op>,
        segment: Option<(u8, SegmentState)>,
        detail: Option<String>,
    ) {
        entry.record.updated_at = now;
        // A message that ends behind the retention walk (open while the walk passed its
        // id) is where the next pass starts, or no pass would meet it again.
        if !entry.record.is_open() && entry.record.id < self.retention.from {
            let kept = self.retention.kept.get_or_insert(entry.record.id);
            *kept = (*kept).min(entry.record.id);
        }
        ops.push(Op::Message(entry.record.clone()));
        let kind = EventKind::Message {
            id: entry.record.id,
            state: entry.record.state,
            carrier: entry.record.carrier_name().to_owned(),
            route_kind: entry.record.route.kind,
            segment,
            detail,
        };
        self.push_event(ops, now, kind);
    }

    /// Accepts a message for `route` (carriers in failover order, from the router): checks
    /// it against the first carrier, writes it as queued and queues it. Then await
    /// [`Outbox::commit`] before acknowledging. A client reference seen within 24 h
    /// returns the first message and queues nothing.
    ///
    /// # Errors
    /// A [`SubmitError`] naming what is refused; nothing is queued then.
    pub fn accept(
        &mut self,
        message: NewMessage,
        route: Route,
        now: u64,
    ) -> Result<Accepted, SubmitError> {
        let first = route.carriers.first().ok_or(SubmitError::NoRoute)?;
        let profile = self
            .carriers
            .get(first)
            .ok_or_else(|| SubmitError::UnknownCarrier(first.clone()))?;
        if let Some(r) = &message.client_ref {
            if r.is_empty() || r.len() > CLIENT_REF_MAX {
                return Err(SubmitError::ClientRef { len: r.len() });
            }
        }
        if message.validity_ms == Some(0) {
            return Err(SubmitError::ZeroValidity);
        }
        let mut ops = Vec::new();
        if let Some(r) = &message.client_ref {
            if let Some(prev) = self.store.client_ref(r)? {
                let fresh = now
                    < prev
                        .accepted_at
                        .saturating_add(self.settings.client_ref_ttl_ms);
                if fresh {
                    if let Some(state) = self.state_of(prev.message)? {
                        return Ok(Accepted {
                            id: prev.message,
                            state,
                            duplicate: true,
                        });
                    }
                }
                ops.push(Op::ForgetClientRef {
                    client_ref: r.clone(),
                    accepted_at: prev.accepted_at,
                });
            }
        }
        if self.open_messages() >= self.settings.max_open {
            return Err(SubmitError::QueueFull {
                limit: self.settings.max_open,
            });
        }
        let id = match message.id {
            Some(id) => id,
            None => MessageId(self.store.generate_id()?),
        };
        let receipts = profile.receipts(message.registered_delivery);
        let out = Outgoing {
            to: &message.to,
            from: message.from.as_deref(),
            text: &message.text,
            receipts,
        };
        // The concatenation reference: the id's low 16 bits, stored in the plan.
        let reference = (id.0 % 65_536) as u16;
        let (plan, submits) =
            profile
                .prepare(&out, reference)
                .map_err(|reason| SubmitError::Unfit {
                    carrier: first.clone(),
                    reason,
                })?;
        let validity = message
            .validity_ms
            .unwrap_or(profile.default_validity_ms)
            .min(self.settings.max_validity_ms);
        let record = MessageRecord {
            id,
            to: message.to,
            from: message.from,
            text: message.text,
            masked: message.masked,
            class: message.class,
            client_ref: message.client_ref,
            registered_delivery: message.registered_delivery,
            receipts,
            route,
            carrier: 0,
            plan,
            segments: vec![SegmentRecord::pending(); submits.len()],
            state: State::Queued,
            detail: None,
            accepted_at: now,
            expires_at: now.saturating_add(validity),
            updated_at: now,
            owner: message.owner,
        };
        if let Some(r) = &record.client_ref {
            ops.push(Op::ClientRef {
                client_ref: r.clone(),
                record: ClientRefRecord {
                    message: id,
                    accepted_at: now,
                },
            });
        }
        let mut entry = Entry::new(record, submits);
        let detail = format!("accepted, {} segment(s)", entry.submits.len());
        self.write_entry(&mut entry, now, &mut ops, None, Some(detail));
        if parkable(&entry.record) && self.parks(entry.record.carrier_name(), entry.record.class) {
            // A long queue: it waits on disk, behind the parked messages before it.
            self.park(&entry.record, &mut ops);
            self.store.apply(ops)?;
        } else {
            self.store.apply(ops)?;
            self.restore(entry);
        }
        Ok(Accepted {
            id,
            state: State::Queued,
            duplicate: false,
        })
    }

    fn state_of(&self, id: MessageId) -> Result<Option<State>, StoreError> {
        match self.entries.get(&id) {
            Some(entry) => Ok(Some(entry.state())),
            None => Ok(self.store.message(id)?.map(|r| r.state)),
        }
    }

    /// Takes up to `max_pdus` segments ready for `carrier`, highest class first, oldest
    /// first within a class, at most the head message of each destination's line (all of
    /// its ready segments may go together), and marks them in flight. Backoffs and
    /// validities that are due are handled first (as in [`Outbox::tick`]).
    ///
    /// # Errors
    /// A [`StoreError`] writing messages that expired.
    pub fn take_work(
        &mut self,
        carrier: &str,
        max_pdus: usize,
        now: u64,
    ) -> Result<Vec<Dispatch>, StoreError> {
        self.take_work_reserving(carrier, max_pdus, max_pdus, now)
    }

    /// [`Outbox::take_work`] where only otp may fill the places beyond `max_other` (the
    /// binds' otp reserve): otp is taken up to `max_pdus`, the other classes while fewer
    /// than `max_other` are taken in all.
    ///
    /// # Errors
    /// As [`Outbox::take_work`].
    pub fn take_work_reserving(
        &mut self,
        carrier: &str,
        max_pdus: usize,
        max_other: usize,
        now: u64,
    ) -> Result<Vec<Dispatch>, StoreError> {
        self.fill(carrier, max_pdus, now)?;
        self.run_due(now)?;
        let mut out = Vec::new();
        for class in Class::BY_PRIORITY {
            let limit = if class == Class::Otp {
                max_pdus
            } else {
                max_other.min(max_pdus)
            };
            while out.len() < limit {
                let Some(id) = self.queues.first_ready(carrier, class) else {
                    break;
                };
                let taken_before = out.len();
                if let Some(entry) = self.entries.get_mut(&id) {
                    let remaining = entry.record.expires_at.saturating_sub(now);
                    let parts = entry
                        .slots
                        .iter_mut()
                        .zip(&mut entry.record.segments)
                        .zip(&entry.submits)
                        .enumerate();
                    for (i, ((slot, segment), submit)) in parts {
                        if out.len() >= limit {
                            break;
                        }
                        if *slot != Slot::Ready {
                            continue;
                        }
                        entry.serial = entry.serial.wrapping_add(1);
                        *slot = Slot::InFlight {
                            serial: entry.serial,
                            taken_at: now,
                        };
                        segment.attempts = segment.attempts.saturating_add(1);
                        let mut submit = submit.clone();
                        submit.validity_period = relative_validity(remaining);
                        out.push(Dispatch {
                            key: DispatchKey {
                                message: id,
                                segment: number(i),
                                serial: entry.serial,
                            },
                            class,
                            attempt: segment.attempts,
                            submit,
                        });
                    }
                }
                match self.entries.get(&id) {
                    Some(entry) if out.len() > taken_before => {
                        refresh(&mut self.queues, &self.entries, entry.line());
                    }
                    // Nothing could be taken from it: never list it again as ready.
                    _ => self.queues.drop_ready(carrier, class, id),
                }
            }
        }
        Ok(out)
    }

    /// Applies the result of a dispatch: submitted (its id indexed, and a receipt held for
    /// that id applied now), transient (back to the head of its line after a backoff),
    /// failover (the next carrier of its route) or permanent (`rejected`).
    ///
    /// # Errors
    /// A [`StoreError`] writing the change.
    pub fn on_submit_resp(
        &mut self,
        key: DispatchKey,
        result: SubmitResult,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        let Some(entry) = self.entries.remove(&key.message) else {
            return Ok(SubmitEffect::Stale);
        };
        let i = usize::from(key.segment).saturating_sub(1);
        let answered = key.segment > 0
            && matches!(entry.slots.get(i), Some(Slot::InFlight { serial, .. }) if *serial == key.serial);
        if !answered {
            self.entries.insert(key.message, entry);
            return Ok(SubmitEffect::Stale);
        }
        match result {
            SubmitResult::Submitted { carrier_id } => self.submitted(entry, i, carrier_id, now),
            SubmitResult::NoAnswer(NoAnswer::NotSent) => Ok(self.not_sent(entry, i, now)),
            SubmitResult::NoAnswer(reason) => {
                let reason = match reason {
                    NoAnswer::Timeout => "no submit_sm_resp in time",
                    NoAnswer::BindLost | NoAnswer::NotSent => "bind lost before submit_sm_resp",
                };
                self.retry(entry, i, reason.into(), now)
            }
            SubmitResult::Status(status) => {
                let class = match self.carriers.get(entry.record.carrier_name()) {
                    Some(profile) => profile.retry.classify(status),
                    None => RetryPolicy::default().classify(status),
                };
                let detail = format!("{} answered {status}", entry.record.carrier_name());
                match class {
                    StatusClass::Transient => self.retry(entry, i, detail, now),
                    StatusClass::Failover => self.fail_over(entry, i, detail, now),
                    StatusClass::Permanent => self.reject(entry, i, detail, now),
                }
            }
        }
    }

    fn submitted(
        &mut self,
        mut entry: Entry,
        i: usize,
        carrier_id: String,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        let mut ops = Vec::new();
        let carrier = entry.record.carrier_name().to_owned();
        // Nothing held, nothing to look up (the count follows every write of a held one).
        let held = match self.unmatched_held {
            0 => None,
            _ => self.store.unmatched_by_carrier_id(&carrier, &carrier_id)?,
        };
        // A receipt held from before this submit_sm was sent names an older message the
        // carrier gave the same id (one gone with its retention, or never ours): it is not
        // this one's, and stays held until it ages out.
        let taken_at = match entry.slots.get(i) {
            Some(Slot::InFlight { taken_at, .. }) => *taken_at,
            _ => now,
        };
        let held = held.filter(|(_, receipt)| {
            receipt.received_at.saturating_add(HELD_RECEIPT_SLACK_MS) >= taken_at
        });
        if let Some(slot) = entry.slots.get_mut(i) {
            *slot = Slot::Settled;
        }
        if let Some(segment) = entry.record.segments.get_mut(i) {
            segment.state = SegmentState::Submitted;
            segment.carrier_id = Some(carrier_id.clone());
            segment.submitted_at = Some(now);
        }
        ops.push(Op::CarrierId {
            carrier: carrier.clone(),
            carrier_id: carrier_id.clone(),
            segment: SegmentRef {
                message: entry.record.id,
                segment: number(i),
            },
        });
        let submitted = Change {
            segment: Some((number(i), SegmentState::Submitted)),
            detail: Some(format!("carrier id {carrier_id}")),
        };
        let mut change = submitted;
        let mut held_receipt = None;
        if let Some((seq, receipt)) = held {
            // Its receipt came first: matched now, no longer held.
            self.forget_unmatched(seq, &receipt, &mut ops)?;
            if let Some(state) =
                MessageState::from_u8(receipt.state).and_then(receipt_segment_state)
            {
                // The submit is one event, the receipt the next.
                let kind = EventKind::Message {
                    id: entry.record.id,
                    state: entry.record.state,
                    carrier: carrier.clone(),
                    route_kind: entry.record.route.kind,
                    segment: change.segment,
                    detail: change.detail,
                };
                self.push_event(&mut ops, now, kind);
                let detail = receipt_detail(receipt.state, receipt.network_error);
                if let Some(segment) = entry.record.segments.get_mut(i) {
                    segment.state = state;
                    segment.done_at = Some(now);
                    segment.error = (state != SegmentState::Delivered).then(|| detail.clone());
                }
                change = Change {
                    segment: Some((number(i), state)),
                    detail: Some(format!("{detail} (held since {})", receipt.received_at)),
                };
                held_receipt = MessageState::from_u8(receipt.state).map(|state| HeldReceipt {
                    carrier: carrier.clone(),
                    state,
                    accepted_at: entry.record.accepted_at,
                });
            }
        }
        let state = self.finish_step(entry, now, &mut ops, change);
        self.store.apply(ops)?;
        Ok(SubmitEffect::Submitted {
            state,
            held_receipt,
        })
    }

    /// A dispatch that never reached the SMSC: ready again at the head of its line, its
    /// attempt not counted. Nothing was written for the dispatch, so nothing is written now.
    fn not_sent(&mut self, mut entry: Entry, i: usize, now: u64) -> SubmitEffect {
        if let Some(slot) = entry.slots.get_mut(i) {
            *slot = Slot::Ready;
        }
        if let Some(segment) = entry.record.segments.get_mut(i) {
            segment.attempts = segment.attempts.saturating_sub(1);
        }
        let id = entry.record.id;
        self.entries.insert(id, entry);
        if let Some(entry) = self.entries.get(&id) {
            refresh(&mut self.queues, &self.entries, entry.line());
        }
        SubmitEffect::Retry { at: now }
    }

    /// Transient: back off, or expire if the validity has ended.
    fn retry(
        &mut self,
        mut entry: Entry,
        i: usize,
        reason: String,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        if now >= entry.record.expires_at {
            let error = format!("validity ended while retrying: {reason}");
            return self.end_segment(entry, i, SegmentState::Expired, error, reason, now);
        }
        let attempts = entry
            .record
            .segments
            .get(i)
            .map_or(1, |s| s.attempts.max(1));
        // The jitter is drawn from the message, the segment and the attempt: messages that
        // failed together spread out, and the core stays deterministic (no randomness of
        // its own; the same failure of the same segment always waits the same).
        let seed = entry.record.id.0 ^ (u64::from(attempts) << 48) ^ (u64::from(number(i)) << 40);
        let delay = self
            .settings
            .retry
            .delay(attempts - 1, &mut rand::rngs::StdRng::seed_from_u64(seed));
        let until = now.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        if let Some(slot) = entry.slots.get_mut(i) {
            *slot = Slot::Waiting { until };
        }
        let id = entry.record.id;
        self.waiting.insert((until, id, number(i)));
        self.entries.insert(id, entry);
        if let Some(entry) = self.entries.get(&id) {
            refresh(&mut self.queues, &self.entries, entry.line());
        }
        Ok(SubmitEffect::Retry { at: until })
    }

    /// A permanent status for one segment: the message is rejected.
    fn reject(
        &mut self,
        entry: Entry,
        i: usize,
        detail: String,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        let error = detail.clone();
        self.end_segment(entry, i, SegmentState::Rejected, error, detail, now)
    }

    /// Ends segment `i` unsubmitted in `state` with `error`, then the step (`detail` for
    /// its event).
    fn end_segment(
        &mut self,
        mut entry: Entry,
        i: usize,
        state: SegmentState,
        error: String,
        detail: String,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        if let (Some(segment), Some(slot)) =
            (entry.record.segments.get_mut(i), entry.slots.get_mut(i))
        {
            segment.state = state;
            segment.error = Some(error);
            segment.done_at = Some(now);
            *slot = Slot::Settled;
        }
        let change = Change {
            segment: Some((number(i), state)),
            detail: Some(detail),
        };
        let mut ops = Vec::new();
        let state = self.finish_step(entry, now, &mut ops, change);
        self.store.apply(ops)?;
        Ok(SubmitEffect::Ended { state })
    }

    /// A per-destination status: the whole message goes to the next carrier of its route
    /// that can take it, or is rejected when none is left.
    fn fail_over(
        &mut self,
        mut entry: Entry,
        i: usize,
        detail: String,
        now: u64,
    ) -> Result<SubmitEffect, StoreError> {
        let old_line = (entry.record.carrier_name().to_owned(), entry.record.class);
        match self.move_on(&mut entry) {
            Some(to) => {
                let mut ops = Vec::new();
                let detail = format!("failover from {}: {detail}", old_line.0);
                self.write_entry(&mut entry, now, &mut ops, None, Some(detail));
                self.store.apply(ops)?;
                let id = entry.record.id;
                let dest = entry.record.to.clone();
                self.entries.insert(id, entry);
                let old = Line {
                    carrier: &old_line.0,
                    class: old_line.1,
                    dest: dest.as_str(),
                };
                refresh(&mut self.queues, &self.entries, old);
                if let Some(entry) = self.entries.get(&id) {
                    refresh(&mut self.queues, &self.entries, entry.line());
                }
                Ok(SubmitEffect::FailedOver { carrier: to })
            }
            None => self.reject(entry, i, format!("{detail}; no carrier left"), now),
        }
    }

    /// Moves an entry to the next carrier of its route that can take it: a new plan and
    /// PDUs for that carrier (the concatenation reference kept), every segment pending
    /// again, in that carrier's line. Returns the carrier, or `None` (nothing changed).
    fn move_on(&mut self, entry: &mut Entry) -> Option<String> {
        let start = entry.record.carrier.saturating_add(1);
        self.move_to(entry, |position, _| position >= start)
    }

    /// [`Outbox::move_on`] to the first carrier of the route that `eligible` (position in
    /// the route, name) allows and that can take the message.
    fn move_to(
        &mut self,
        entry: &mut Entry,
        eligible: impl Fn(usize, &str) -> bool,
    ) -> Option<String> {
        let reference = entry.record.plan.reference;
        let (position, receipts, plan, submits) = entry
            .record
            .route
            .carriers
            .iter()
            .enumerate()
            .filter(|(position, name)| eligible(*position, name))
            .find_map(|(position, name)| {
                let profile = self.carriers.get(name)?;
                let receipts = profile.receipts(entry.record.registered_delivery);
                let out = Outgoing {
                    receipts,
                    ..entry.outgoing()
                };
                let (plan, submits) = profile.prepare(&out, reference).ok()?;
                Some((position, receipts, plan, submits))
            })?;
        let id = entry.record.id;
        self.queues.remove(entry.line(), id);
        entry.record.carrier = position;
        entry.record.receipts = receipts;
        entry.record.plan = plan;
        entry.record.state = State::Queued;
        entry.record.segments = vec![SegmentRecord::pending(); submits.len()];
        entry.slots = vec![Slot::Ready; submits.len()];
        entry.submits = submits;
        self.queues.add(entry.line(), id);
        Some(entry.record.carrier_name().to_owned())
    }

    /// Ends a step on an entry: cancels what is left once a segment failed, derives the
    /// message's state (final once decided and nothing is in flight; submitted when every
    /// segment is), writes the record and the event, and puts the entry back (or drops it
    /// once closed) with its line up to date. Returns the message's state.
    fn finish_step(
        &mut self,
        mut entry: Entry,
        now: u64,
        ops: &mut Vec<Op>,
        change: Change,
    ) -> State {
        if let Some((state, decider)) = outcome(&entry.record) {
            if state != State::Delivered {
                let left = if state == State::Expired {
                    SegmentState::Expired
                } else {
                    SegmentState::Cancelled
                };
                for (segment, slot) in entry.record.segments.iter_mut().zip(&mut entry.slots) {
                    if segment.state == SegmentState::Pending
                        && !matches!(slot, Slot::InFlight { .. })
                    {
                        segment.state = left;
                        segment.done_at = Some(now);
                        *slot = Slot::Settled;
                    }
                }
            }
            if !entry.in_flight() && !entry.record.state.is_final() {
                let total = entry.record.segments.len();
                entry.record.state = state;
                entry.record.detail = decider.map(|i| {
                    let error = entry
                        .record
                        .segments
                        .get(i)
                        .and_then(|s| s.error.clone())
                        .unwrap_or_else(|| state.as_str().to_owned());
                    if total > 1 {
                        format!("segment {} of {total}: {error}", number(i))
                    } else {
                        error
                    }
                });
            }
        }
        if entry.record.state == State::Queued && !entry.has_pending() && !entry.in_flight() {
            entry.record.state = State::Submitted;
            self.deadlines.insert((
                entry.deadline(self.settings.receipt_wait_ms),
                entry.record.id,
            ));
        }
        self.write_entry(&mut entry, now, ops, change.segment, change.detail);
        let state = entry.state();
        let id = entry.record.id;
        if !entry.has_pending() {
            self.queues.remove(entry.line(), id);
        }
        let carrier = entry.record.carrier_name().to_owned();
        let (class, dest) = (entry.record.class, entry.record.to.clone());
        if entry.record.is_open() {
            self.entries.insert(id, entry);
        }
        let line = Line {
            carrier: &carrier,
            class,
            dest: dest.as_str(),
        };
        refresh(&mut self.queues, &self.entries, line);
        state
    }

    /// Applies a delivery receipt: matched by the first candidate form indexed for the
    /// carrier; a matched final state ends its segment and may end the message; a receipt
    /// that matches nothing is kept for late matching (its submit_sm_resp may not have been
    /// processed yet) and counted. Await [`Outbox::commit`] before answering the deliver_sm.
    ///
    /// # Errors
    /// A [`StoreError`] reading or writing.
    pub fn on_receipt(
        &mut self,
        receipt: IncomingReceipt,
        now: u64,
    ) -> Result<ReceiptOutcome, StoreError> {
        for (candidate, form) in receipt.candidates.iter().enumerate() {
            if let Some(target) = self.store.segment_by_carrier_id(&receipt.carrier, form)? {
                return self.apply_receipt(target, candidate, form, &receipt, now);
            }
        }
        let state = receipt.state.as_u8();
        let mut ops = Vec::new();
        for form in &receipt.candidates {
            if let Some((seq, kept)) = self.store.unmatched_by_carrier_id(&receipt.carrier, form)? {
                if kept.candidates == receipt.candidates {
                    if kept.state == state {
                        // Resent (its deliver_sm went unanswered): kept once.
                        return Ok(ReceiptOutcome::Unmatched { kept: false });
                    }
                    let kept_final = MessageState::from_u8(kept.state)
                        .is_some_and(|s| receipt_segment_state(s).is_some());
                    if kept_final && receipt_segment_state(receipt.state).is_none() {
                        // An intermediate notification that came after the final receipt
                        // (by another bind, or resent): the final one stays.
                        return Ok(ReceiptOutcome::Unmatched { kept: false });
                    }
                    // A newer state of the same receipt id takes its place.
                    self.forget_unmatched(seq, &kept, &mut ops)?;
                    break;
                }
            }
        }
        let seq = self.store.generate_id()?;
        let kind = EventKind::UnmatchedReceipt {
            carrier: receipt.carrier.clone(),
            carrier_id: receipt.candidates.first().cloned().unwrap_or_default(),
            state,
        };
        self.push_event(&mut ops, now, kind);
        ops.push(Op::Unmatched {
            seq,
            receipt: UnmatchedReceipt {
                carrier: receipt.carrier,
                candidates: receipt.candidates,
                state,
                network_error: receipt.network_error,
                received_at: now,
            },
        });
        self.store.apply(ops)?;
        self.unmatched_held = self.unmatched_held.saturating_add(1);
        Ok(ReceiptOutcome::Unmatched { kept: true })
    }

    fn apply_receipt(
        &mut self,
        target: SegmentRef,
        candidate: usize,
        form: &str,
        receipt: &IncomingReceipt,
        now: u64,
    ) -> Result<ReceiptOutcome, StoreError> {
        let (message, segment) = (target.message, target.segment);
        let i = usize::from(segment).saturating_sub(1);
        let open = self.entries.remove(&message);
        let loaded = match open {
            Some(_) => None,
            None => self.store.message(message)?,
        };
        let Some(record) = open.as_ref().map(|e| &e.record).or(loaded.as_ref()) else {
            return Ok(ReceiptOutcome::Stale { message, segment });
        };
        let current = record.carrier_name() == receipt.carrier
            && record.segments.get(i).and_then(|s| s.carrier_id.as_deref()) == Some(form);
        let already_final = record.segments.get(i).is_some_and(|s| s.state.is_final());
        let new_state = receipt_segment_state(receipt.state);
        let verdict = match (current, new_state, already_final) {
            (false, _, _) => Some(ReceiptOutcome::Stale { message, segment }),
            (true, None, _) => Some(ReceiptOutcome::Intermediate {
                message,
                segment,
                candidate,
            }),
            (true, Some(_), true) => Some(ReceiptOutcome::Duplicate {
                message,
                segment,
                candidate,
            }),
            (true, Some(_), false) => None,
        };
        if let Some(verdict) = verdict {
            if let Some(entry) = open {
                self.entries.insert(message, entry);
            }
            return Ok(verdict);
        }
        let accepted_at = record.accepted_at;
        let state = new_state.unwrap_or(SegmentState::Failed);
        let detail = receipt_detail(receipt.state.as_u8(), receipt.network_error);
        let set = |s: &mut SegmentRecord| {
            s.state = state;
            s.done_at = Some(now);
            s.error = (state != SegmentState::Delivered).then(|| detail.clone());
        };
        let change = Change {
            segment: Some((segment, state)),
            detail: Some(detail.clone()),
        };
        let mut ops = Vec::new();
        let message_state = match open {
            Some(mut entry) => {
                if let Some(s) = entry.record.segments.get_mut(i) {
                    set(s);
                }
                self.finish_step(entry, now, &mut ops, change)
            }
            None => {
                // Already closed (ended while this segment awaited its receipt): the
                // segment still takes its state; the message keeps its final one.
                let Some(record) = loaded else {
                    return Ok(ReceiptOutcome::Stale { message, segment });
                };
                let mut entry = Entry::new(record, Vec::new());
                if let Some(s) = entry.record.segments.get_mut(i) {
                    set(s);
                }
                if !entry.record.state.is_final() {
                    if let Some((state, _)) = outcome(&entry.record) {
                        entry.record.state = state;
                    }
                }
                self.write_entry(&mut entry, now, &mut ops, change.segment, change.detail);
                entry.record.state
            }
        };
        self.store.apply(ops)?;
        Ok(ReceiptOutcome::Matched {
            message,
            segment,
            candidate,
            state: message_state,
            accepted_at,
        })
    }

    /// Drops a kept receipt, with the index entries that still point to it.
    fn forget_unmatched(
        &mut self,
        seq: u64,
        receipt: &UnmatchedReceipt,
        ops: &mut Vec<Op>,
    ) -> Result<(), StoreError> {
        let mut forms = Vec::new();
        for form in &receipt.candidates {
            if let Some((s, _)) = self.store.unmatched_by_carrier_id(&receipt.carrier, form)? {
                if s == seq {
                    forms.push(form.clone());
                }
            }
        }
        ops.push(Op::ForgetUnmatched {
            seq,
            carrier: receipt.carrier.clone(),
            forms,
        });
        self.unmatched_held = self.unmatched_held.saturating_sub(1);
        Ok(())
    }

    /// Moves the queued work of `carrier` that has nothing in flight or submitted to the
    /// next carrier of each message's route that `down` does not name (call it when the
    /// carrier has had no bound bind for its failover time; `down` names the carriers in
    /// that state). A destination's line moves from its head on and stops at the first
    /// message that cannot move, so no message overtakes an earlier one to the same
    /// destination. Returns how many messages moved.
    ///
    /// # Errors
    /// A [`StoreError`] writing the moves.
    pub fn carrier_unavailable(
        &mut self,
        carrier: &str,
        down: impl Fn(&str) -> bool,
        now: u64,
    ) -> Result<usize, StoreError> {
        let elsewhere = self.carriers.keys().any(|c| c != carrier && !down(c));
        self.move_lines(carrier, elsewhere, now, |outbox, entry| {
            let start = entry.record.carrier.saturating_add(1);
            let to = outbox.move_to(entry, |position, name| position >= start && !down(name))?;
            Some(format!("carrier {carrier} unavailable; moved to {to}"))
        })
    }

    /// Moves to `carrier`, which can take work again, the queued work of the carriers
    /// `down` names whose route holds `carrier` (moved there when every carrier after it
    /// was down too, or accepted while every carrier of the route was down), with nothing
    /// in flight or submitted; lines move as in [`Outbox::carrier_unavailable`]. Without
    /// it such work waits for its down carrier, or its validity, while a carrier of its
    /// route is up. Returns how many messages moved.
    ///
    /// # Errors
    /// A [`StoreError`] writing the moves.
    pub fn carrier_available(
        &mut self,
        carrier: &str,
        down: impl Fn(&str) -> bool,
        now: u64,
    ) -> Result<usize, StoreError> {
        let stranded: Vec<String> = self
            .carriers
            .keys()
            .filter(|name| name.as_str() != carrier && down(name))
            .cloned()
            .collect();
        let mut moved = 0;
        for from in &stranded {
            moved += self.move_lines(from, true, now, |outbox, entry| {
                outbox.move_to(entry, |_, name| name == carrier)?;
                Some(format!(
                    "carrier {from} unavailable, {carrier} available again; moved to {carrier}"
                ))
            })?;
        }
        Ok(moved)
    }

    /// Moves `from`'s lines, each from its head until `move_one` (which moves an unsent
    /// entry and returns the event's detail) declines one, then its parked messages (read
    /// back a chunk at a time, unless `parked` says no carrier could take them); writes
    /// the moves.
    fn move_lines(
        &mut self,
        from: &str,
        parked: bool,
        now: u64,
        mut move_one: impl FnMut(&mut Self, &mut Entry) -> Option<String>,
    ) -> Result<usize, StoreError> {
        let mut ops = Vec::new();
        let mut moved = 0;
        for (class, dest, ids) in self.queues.lines(from) {
            for id in ids {
                let Some(mut entry) = self.entries.remove(&id) else {
                    break;
                };
                let detail = if entry.unsent() {
                    move_one(self, &mut entry)
                } else {
                    None
                };
                let Some(detail) = detail else {
                    self.entries.insert(id, entry);
                    break;
                };
                self.write_entry(&mut entry, now, &mut ops, None, Some(detail));
                self.entries.insert(id, entry);
                if let Some(entry) = self.entries.get(&id) {
                    refresh(&mut self.queues, &self.entries, entry.line());
                }
                moved += 1;
            }
            let line = Line {
                carrier: from,
                class,
                dest: &dest,
            };
            refresh(&mut self.queues, &self.entries, line);
        }
        if !ops.is_empty() {
            self.store.apply(ops)?;
        }
        if parked {
            moved += self.move_parked(from, now, &mut move_one)?;
        }
        Ok(moved)
    }

    /// The parked part of [`Outbox::move_lines`]: each parked message of `from` that
    /// `move_one` moves is unlisted there and queued at its new carrier, in memory or
    /// parked there as that queue's length says; the others stay parked.
    fn move_parked(
        &mut self,
        from: &str,
        now: u64,
        move_one: &mut impl FnMut(&mut Self, &mut Entry) -> Option<String>,
    ) -> Result<usize, StoreError> {
        let mut moved = 0;
        for class in Class::BY_PRIORITY {
            let mut after = MessageId(0);
            while self.parked_in(from, class) > 0 {
                let listed = self.store.parked(from, class, after, PARKED_CHUNK)?;
                let Some(last) = listed.last() else {
                    break;
                };
                after = last.id;
                let mut ops = Vec::new();
                for parked in listed {
                    let id = parked.id;
                    let Some(record) = self.parked_record(&parked)? else {
                        self.unpark(parked, &mut ops);
                        continue;
                    };
                    let mut entry = Entry::new(record, Vec::new());
                    let Some(detail) = move_one(self, &mut entry) else {
                        continue;
                    };
                    self.unpark(parked, &mut ops);
                    self.write_entry(&mut entry, now, &mut ops, None, Some(detail));
                    moved += 1;
                    // `move_to` queued it in its new line; that queue may be long too.
                    self.queues.remove(entry.line(), id);
                    if self.parks(entry.record.carrier_name(), class) {
                        self.park(&entry.record, &mut ops);
                    } else {
                        self.restore(entry);
                    }
                }
                if !ops.is_empty() {
                    self.store.apply(ops)?;
                }
            }
        }
        Ok(moved)
    }

    /// Housekeeping, to call every second or so: backoffs that are due become ready;
    /// messages whose validity ended before submission expire; submitted messages whose
    /// receipts did not come in time fail; old client references and unmatched receipts
    /// are swept (at most [`Settings::sweep_max`] of each).
    ///
    /// # Errors
    /// A [`StoreError`] reading or writing.
    pub fn tick(&mut self, now: u64) -> Result<TickReport, StoreError> {
        let ended = self.run_due(now)? + self.expire_parked(now)?;
        let mut ops = Vec::new();
        // A reference is free from `accepted_at + ttl` on, as `accept` sees it.
        let cutoff = now
            .saturating_sub(self.settings.client_ref_ttl_ms)
            .saturating_add(1);
        let refs = self
            .store
            .client_refs_before(cutoff, self.settings.sweep_max)?;
        let client_refs_swept = refs.len();
        for (client_ref, accepted_at) in refs {
            ops.push(Op::ForgetClientRef {
                client_ref,
                accepted_at,
            });
        }
        let cutoff = now.saturating_sub(self.settings.unmatched_ttl_ms);
        let old = self
            .store
            .unmatched_before(cutoff, self.settings.sweep_max)?;
        let unmatched_swept = old.len();
        for (seq, receipt) in old {
            self.forget_unmatched(seq, &receipt, &mut ops)?;
        }
        if !ops.is_empty() {
            self.store.apply(ops)?;
        }
        Ok(TickReport {
            ended,
            client_refs_swept,
            unmatched_swept,
            messages_swept: self.sweep_messages(now)?,
            events_swept: self.sweep_events(now)?,
        })
    }

    /// Removes the final messages whose last change is older than
    /// [`Settings::retention_ms`] (looks at most at [`Settings::retention_sweep_max`]);
    /// returns how many went. A carrier id goes with its message only while it still
    /// names it: a carrier that reuses its ids may have given it to a newer one.
    fn sweep_messages(&mut self, now: u64) -> Result<usize, StoreError> {
        let cutoff = now.saturating_sub(self.settings.retention_ms);
        let max = self.settings.retention_sweep_max.max(1);
        let found = self
            .store
            .final_messages_from(self.retention.from, cutoff, max)?;
        // Fewer than asked: the walk met the young ones (or the end), so the pass is over.
        let pass_over = found.len() < max;
        let mut next = self.retention.from;
        let mut ops = Vec::new();
        for record in found {
            next = MessageId(record.id.0.saturating_add(1));
            if record.updated_at > cutoff || self.entries.contains_key(&record.id) {
                self.retention.kept.get_or_insert(record.id);
                continue;
            }
            let carrier = record.carrier_name().to_owned();
            let mut carrier_ids = Vec::new();
            for (i, segment) in record.segments.iter().enumerate() {
                let Some(carrier_id) = &segment.carrier_id else {
                    continue;
                };
                let names_it = SegmentRef {
                    message: record.id,
                    segment: number(i),
                };
                if self.store.segment_by_carrier_id(&carrier, carrier_id)? == Some(names_it) {
                    carrier_ids.push(carrier_id.clone());
                }
            }
            ops.push(Op::ForgetMessage {
                id: record.id,
                carrier,
                carrier_ids,
            });
        }
        self.retention.from = match (pass_over, self.retention.kept) {
            (true, Some(kept)) => {
                self.retention.kept = None;
                kept
            }
            _ => next,
        };
        let swept = ops.len();
        // A few messages a step: each removal stands alone, and a step's writes go into one
        // journal entry, which a thousand messages of five parts would make a large one.
        while !ops.is_empty() {
            let rest = ops.split_off(ops.len().min(SWEEP_STEP));
            self.store.apply(ops)?;
            ops = rest;
        }
        Ok(swept)
    }

    /// Removes the stretches of the event log whose last event is older than
    /// [`Settings::events_retention_ms`], oldest first, never the newest (the next
    /// sequence number follows it after a restart); returns how many events went.
    fn sweep_events(&mut self, now: u64) -> Result<usize, StoreError> {
        let cutoff = now.saturating_sub(self.settings.events_retention_ms);
        let mut ops = Vec::new();
        let mut swept = 0usize;
        let max = self.settings.retention_sweep_max.max(1);
        for span in self.store.oldest_events(cutoff, max)? {
            if span.last >= self.last_event {
                break;
            }
            let count = span.last.saturating_sub(span.first).saturating_add(1);
            swept = swept.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
            ops.push(Op::ForgetEvents { first: span.first });
            // Sequence numbers follow one another: the next stretch begins here.
            self.first_event = span.last.saturating_add(1);
            if let Some(feed) = &self.feed {
                feed.forget_through(span.last);
            }
        }
        if !ops.is_empty() {
            self.store.apply(ops)?;
        }
        Ok(swept)
    }

    /// Expires the parked messages whose validity has ended (at most
    /// [`Settings::sweep_max`]); returns how many ended.
    fn expire_parked(&mut self, now: u64) -> Result<usize, StoreError> {
        if self.parked_total == 0 {
            return Ok(0);
        }
        let due = self
            .store
            .parked_due(now.saturating_add(1), self.settings.sweep_max)?;
        let mut ops = Vec::new();
        let mut ended = 0;
        for parked in due {
            let record = self.parked_record(&parked)?;
            self.unpark(parked, &mut ops);
            if let Some(record) = record {
                if self.end_at_deadline(Entry::new(record, Vec::new()), now, &mut ops) {
                    ended += 1;
                }
            }
        }
        if !ops.is_empty() {
            self.store.apply(ops)?;
        }
        Ok(ended)
    }

    /// Makes due backoffs ready and handles due deadlines; returns the messages ended.
    fn run_due(&mut self, now: u64) -> Result<usize, StoreError> {
        while let Some(&(until, id, segment)) = self.waiting.first() {
            if until > now {
                break;
            }
            self.waiting.pop_first();
            let i = usize::from(segment).saturating_sub(1);
            if let Some(entry) = self.entries.get_mut(&id) {
                if let Some(slot) = entry.slots.get_mut(i) {
                    if *slot == (Slot::Waiting { until }) {
                        *slot = Slot::Ready;
                    }
                }
            }
            if let Some(entry) = self.entries.get(&id) {
                refresh(&mut self.queues, &self.entries, entry.line());
            }
        }
        let mut ops = Vec::new();
        let mut ended = 0;
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(entry) = self.entries.remove(&id) else {
                continue;
            };
            let due = entry.deadline(self.settings.receipt_wait_ms);
            if due > now {
                self.deadlines.insert((due, id));
                self.entries.insert(id, entry);
                continue;
            }
            if self.end_at_deadline(entry, now, &mut ops) {
                ended += 1;
            }
        }
        if !ops.is_empty() {
            self.store.apply(ops)?;
        }
        Ok(ended)
    }

    /// Ends what an entry waits for at its deadline: pending segments expire (validity
    /// ended before submission), submitted ones fail (no receipt in time). Returns whether
    /// the message ended; one whose pending segments are all in flight is put back.
    fn end_at_deadline(&mut self, mut entry: Entry, now: u64, ops: &mut Vec<Op>) -> bool {
        let pending = entry.has_pending();
        let (ending, error) = if pending {
            (SegmentState::Expired, "validity ended before submission")
        } else {
            (SegmentState::Failed, "no delivery receipt in time")
        };
        let waiting_for = if pending {
            SegmentState::Pending
        } else {
            SegmentState::Submitted
        };
        let mut first = None;
        for (i, (segment, slot)) in entry
            .record
            .segments
            .iter_mut()
            .zip(&mut entry.slots)
            .enumerate()
        {
            if segment.state == waiting_for && !matches!(slot, Slot::InFlight { .. }) {
                segment.state = ending;
                segment.error = Some(error.into());
                segment.done_at = Some(now);
                *slot = Slot::Settled;
                first = first.or(Some(i));
            }
        }
        let Some(first) = first else {
            // Everything pending is in flight: its results decide.
            self.entries.insert(entry.record.id, entry);
            return false;
        };
        let change = Change {
            segment: Some((number(first), ending)),
            detail: Some(error.into()),
        };
        self.finish_step(entry, now, ops, change).is_final()
    }

    /// Records a mobile-originated message as an event. Await [`Outbox::commit`] before
    /// answering the deliver_sm. Returns the event's sequence number.
    ///
    /// # Errors
    /// A [`StoreError`] writing it.
    pub fn record_mo(
        &mut self,
        carrier: &str,
        from: &str,
        to: &str,
        text: &str,
        now: u64,
    ) -> Result<u64, StoreError> {
        let kind = EventKind::MobileOriginated {
            carrier: carrier.into(),
            from: from.into(),
            to: to.into(),
            text: text.into(),
        };
        self.record_event(kind, now)
    }

    /// Appends an event that changes no message (a verification's outcome). Returns its
    /// sequence number.
    ///
    /// # Errors
    /// A [`StoreError`] writing it.
    pub fn record_event(&mut self, kind: EventKind, now: u64) -> Result<u64, StoreError> {
        let mut ops = Vec::new();
        self.push_event(&mut ops, now, kind);
        self.store.apply(ops)?;
        Ok(self.last_event)
    }

    /// Sequence number of the oldest event kept in the log (0 while it is empty): a
    /// subscriber whose cursor is below the one before it missed events that went with
    /// [`Settings::events_retention_ms`].
    pub fn first_event(&self) -> u64 {
        self.first_event
    }

    /// The sequence number of the last event appended (0 when the log is empty).
    pub fn last_event(&self) -> u64 {
        self.last_event
    }

    /// A message's status, or `None` for an id never accepted.
    ///
    /// # Errors
    /// A [`StoreError`] reading a closed message.
    pub fn status(&self, id: MessageId) -> Result<Option<MessageStatus>, StoreError> {
        let (record, slots, state) = match self.entries.get(&id) {
            Some(entry) => (entry.record.clone(), entry.slots.clone(), entry.state()),
            None => match self.store.message(id)? {
                Some(record) => {
                    let state = record.state;
                    (record, Vec::new(), state)
                }
                None => return Ok(None),
            },
        };
        let segments = record
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| SegmentStatus {
                number: number(i),
                state: match slots.get(i) {
                    Some(Slot::InFlight { .. }) => SegmentState::InFlight,
                    _ => s.state,
                },
                carrier_id: s.carrier_id.clone(),
                attempts: s.attempts,
                error: s.error.clone(),
            })
            .collect();
        Ok(Some(MessageStatus {
            id,
            state,
            class: record.class,
            to: record.to.to_string(),
            client_ref: record.client_ref.clone(),
            route_kind: record.route.kind,
            carrier: record.carrier_name().to_owned(),
            attempts: record.segments.iter().map(|s| s.attempts).sum(),
            segments,
            detail: record.detail,
            accepted_at: record.accepted_at,
            expires_at: record.expires_at,
            updated_at: record.updated_at,
            owner: record.owner,
        }))
    }

    /// Up to `max` events after `cursor` (0 for the start of the log), in order; pass the
    /// last sequence number read as the next cursor.
    ///
    /// # Errors
    /// A [`StoreError`] reading the log.
    pub fn events_since(&self, cursor: u64, max: usize) -> Result<Vec<(u64, Event)>, StoreError> {
        self.store.events_since(cursor, max)
    }

    /// Shows the event log through `feed` from now on: every event appended is kept in its
    /// tail, and the store tells it when a flush has made them durable. Attach it once
    /// every event so far is on disk ([`Outbox::commit`] after a recovery), as a feed
    /// begins with them durable.
    pub fn attach_feed(&mut self, feed: std::sync::Arc<feed::EventFeed>) {
        let told = std::sync::Arc::clone(&feed);
        self.store
            .on_durable(Box::new(move |seq| told.durable_through(seq)));
        self.feed = Some(feed);
    }

    /// Up to `max` events after `cursor` that readers may be shown, read from the log:
    /// with a feed, only those on disk (its tail, which holds the newest, is read by the
    /// gateway before it asks here); without, every one applied.
    ///
    /// # Errors
    /// A [`StoreError`] reading the log.
    pub fn published_events(
        &self,
        cursor: u64,
        max: usize,
    ) -> Result<Vec<(u64, Event)>, StoreError> {
        let Some(feed) = &self.feed else {
            return self.events_since(cursor, max);
        };
        let durable = feed.durable();
        let mut events = self.store.events_since(cursor, max)?;
        events.retain(|(seq, _)| *seq <= durable);
        Ok(events)
    }

    /// Messages waiting in a carrier's class (queued or backing off), for the queue-depth
    /// metric.
    pub fn queue_depth(&self, carrier: &str, class: Class) -> usize {
        self.queues.depth(carrier, class) + self.parked_in(carrier, class)
    }

    /// Whether a pull for `carrier` would find a message of `class` to take now: one
    /// ready in memory (not waiting for a backoff or for its destination's previous
    /// message), or one parked (read back by the pull).
    pub fn has_ready(&self, carrier: &str, class: Class) -> bool {
        self.queues.first_ready(carrier, class).is_some() || self.parked_in(carrier, class) > 0
    }

    /// Of [`Outbox::queue_depth`], the messages parked (on disk only).
    pub fn parked_depth(&self, carrier: &str, class: Class) -> usize {
        self.parked_in(carrier, class)
    }

    /// Segments of a carrier awaiting their submit_sm_resp (a scan of the open messages).
    pub fn in_flight(&self, carrier: &str) -> usize {
        self.entries
            .values()
            .filter(|e| e.record.carrier_name() == carrier)
            .map(|e| {
                e.slots
                    .iter()
                    .filter(|s| matches!(s, Slot::InFlight { .. }))
                    .count()
            })
            .sum()
    }

    /// Messages not yet final (in memory and parked).
    pub fn open_messages(&self) -> usize {
        self.entries.len() + self.parked_total
    }

    /// Receipts kept unmatched, waiting for late matching.
    pub fn unmatched_held(&self) -> usize {
        self.unmatched_held
    }
}

/// Live reconfiguration (see `Gateway::reconfigure`).
impl<S: Storage> Outbox<S> {
    /// Replaces the outbox's settings; messages already accepted keep the validity and
    /// client-reference window they were given, the new retry policy and limits apply from
    /// the next decision on.
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
    }

    /// Adds a carrier's profile, or replaces it: segments already built keep their PDUs,
    /// new messages are built with the new profile.
    pub fn set_carrier(&mut self, name: &str, profile: CarrierProfile) {
        self.carriers.insert(name.to_owned(), profile);
    }

    /// A carrier was removed from the configuration: its queued work moves to the first
    /// carrier of each message's route that `usable` accepts (lines move as in
    /// [`Outbox::carrier_unavailable`]). What cannot move (no other usable carrier in its
    /// route) stays queued under the removed carrier, held until the carrier is configured
    /// again or its validity ends (then it expires, a final state); its profile is kept
    /// for that. Returns how many messages moved.
    ///
    /// # Errors
    /// A [`StoreError`] writing the moves.
    pub fn carrier_removed(
        &mut self,
        carrier: &str,
        usable: impl Fn(&str) -> bool,
        now: u64,
    ) -> Result<usize, StoreError> {
        let elsewhere = self.carriers.keys().any(|c| c != carrier && usable(c));
        self.move_lines(carrier, elsewhere, now, |outbox, entry| {
            let to = outbox.move_to(entry, |_, name| name != carrier && usable(name))?;
            Some(format!(
                "carrier {carrier} removed from the configuration; moved to {to}"
            ))
        })
    }

    /// Messages waiting for a carrier, every class (queued or backing off).
    pub fn waiting_for(&self, carrier: &str) -> usize {
        Class::BY_PRIORITY
            .iter()
            .map(|&class| self.queue_depth(carrier, class))
            .sum()
    }
}
