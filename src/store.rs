//! The storage seam: the typed records the outbox keeps, the [`Storage`] trait it writes
//! them through, its sled implementation ([`SledStore`]) and the group committer that makes
//! "accept means on disk" cheap (many writes, one flush, then all their acks).
//!
//! Every value is a one-byte record version ([`RECORD_VERSION`]) followed by the record in
//! postcard. Keys are laid out so that sled's byte order is the order the outbox reads in
//! (big-endian integers first).
//!
//! Trees of [`SledStore`]:
//!
//! | tree | key | value |
//! |---|---|---|
//! | `messages` | message id (u64 BE) | [`MessageRecord`] |
//! | `open` | message id (u64 BE) | nothing: the messages not yet in a final state |
//! | `carrier_ids` | carrier, carrier message id | [`SegmentRef`] |
//! | `client_refs` | client reference | [`ClientRefRecord`] |
//! | `client_ref_ages` | accepted_at (u64 BE), client reference | nothing: sweep order |
//! | `unmatched` | receipt sequence (u64 BE) | [`UnmatchedReceipt`] |
//! | `unmatched_ids` | carrier, one candidate id form | receipt sequence |
//! | `events` | event sequence (u64 BE) | [`Event`] |
//! | `parked` | carrier, class rank (u8), message id (u64 BE) | validity end (u64 BE) |
//! | `parked_due` | validity end (u64 BE), message id (u64 BE) | carrier, class rank |
//! | `meta` | `schema` | the schema version |
//!
//! A carrier-and-id key is the carrier name's length (u16 BE), the name, then the id, so
//! no carrier name can run into an id.
//!
//! `parked` and `parked_due` list the queued messages the outbox keeps on disk only (a
//! long queue's tail, see `Settings::in_memory`): in queue order per carrier and class,
//! and in order of their validity's end for expiry. They are an index the outbox rebuilds
//! at every start from `open`.

use crate::carrier::number::Msisdn;
use crate::carrier::router::{Route, RouteKind};
use parking_lot::{Condvar, Mutex};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use smpp::text::Concat;
use smpp::tlv::NetworkErrorCode;
use smpp::values::registered_delivery::{NO_RECEIPT, RECEIPT_FINAL, RECEIPT_ON_FAILURE};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

mod events;
mod group;
use group::{Group, Seen};
use std::cell::RefCell;

/// The version byte every stored value starts with; a value with another byte is refused
/// with [`StoreError::Version`] rather than misread.
pub const RECORD_VERSION: u8 = 1;

/// The layout version kept in the `meta` tree; a data directory written by a different
/// layout is refused at open, except one of [`SCHEMA_UPGRADES`], which is marked with this
/// version and read as it is.
pub const SCHEMA_VERSION: u8 = 4;

/// The layouts this build opens and upgrades in place: 3 had the events one a key only
/// (version 4 added `event_batches`, and reads both). The mark keeps a build of layout 3
/// from opening an upgraded directory, where it would miss every event written since.
const SCHEMA_UPGRADES: [u8; 1] = [3];

/// Why the store could not do what was asked. Clone, so that one flush error reaches every
/// writer waiting on that flush.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be opened (missing permission, a file in the way,
    /// another process holding it, ...).
    #[error("cannot open the data directory {path}: {reason}")]
    Open {
        /// The directory asked for.
        path: PathBuf,
        /// What the engine said.
        reason: String,
    },
    /// A read or a write failed (an I/O error, a full disk, ...).
    #[error("storage {op} failed: {reason}")]
    Io {
        /// What was being done, e.g. `"write"`, `"read messages"`.
        op: &'static str,
        /// What the engine said.
        reason: String,
    },
    /// Flushing to disk failed: nothing since the previous good flush is known durable.
    #[error("flush to disk failed: {reason}")]
    Flush {
        /// What the engine said.
        reason: String,
    },
    /// A record could not be serialised.
    #[error("cannot encode a {what} record: {reason}")]
    Encode {
        /// The record type.
        what: &'static str,
        /// What postcard said.
        reason: String,
    },
    /// A stored value could not be read back.
    #[error("cannot decode {tree}[{key}]: {reason}")]
    Decode {
        /// The tree it is in.
        tree: &'static str,
        /// Its key, printed.
        key: String,
        /// What postcard said.
        reason: String,
    },
    /// A stored value carries a record version this build does not know.
    #[error("{tree}[{key}] has record version {found}, this build reads {RECORD_VERSION}")]
    Version {
        /// The tree it is in.
        tree: &'static str,
        /// Its key, printed.
        key: String,
        /// The version byte found.
        found: u8,
    },
    /// The data directory was written with another layout.
    #[error("the data directory has schema version {found}, this build uses {SCHEMA_VERSION}")]
    Schema {
        /// The version found in `meta`.
        found: u8,
    },
    /// A key or value is too large for the layout (a carrier name over 65,535 octets).
    #[error("{what} is too long for a storage key ({len} octets)")]
    KeyTooLong {
        /// What it is.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The `open` index names a message the `messages` tree does not hold.
    #[error("message {id} is listed as open but has no record")]
    MissingMessage {
        /// The message id.
        id: MessageId,
    },
    /// The committer thread has stopped, so no flush will come.
    #[error("the group committer has stopped; the write is not known to be on disk")]
    CommitterStopped,
    /// The disk of the data directory is full (ENOSPC): nothing more can be written until
    /// space is freed. What was made durable before stays on disk.
    #[error(
        "the disk of the data directory is full ({op}: no space left on device); free space \
         and restart the gateway: messages accepted before are kept"
    )]
    Full {
        /// What was being done (`"write the journal"`, `"flush"`).
        op: &'static str,
    },
}

impl StoreError {
    /// Whether this is the disk running out of space ([`StoreError::Full`]).
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full { .. })
    }
}

/// Whether sled failed because the disk is full.
fn disk_full(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull)
}

pub(crate) fn io_error(op: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |e| {
        if disk_full(&e) {
            StoreError::Full { op }
        } else {
            StoreError::Io {
                op,
                reason: e.to_string(),
            }
        }
    }
}

/// A message's id: a u64 from the engine's monotonic generator, so ids grow with the
/// order of acceptance, also across restarts. Its external form (API, logs, events) is the
/// decimal string of the number, e.g. `"4711"`, which is what `Display` and `FromStr` use.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for MessageId {
    type Err = std::num::ParseIntError;

    /// Reads the decimal external form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(MessageId)
    }
}

/// A message's priority class. Within one carrier's rate the higher class is always served
/// first, so a verification code never waits behind a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Class {
    /// Verification codes: served first.
    Otp,
    /// Notifications a user waits for.
    Transactional,
    /// Campaigns: served last.
    Bulk,
}

impl Class {
    /// Every class, highest priority first: the order work is taken in.
    pub const BY_PRIORITY: [Class; 3] = [Class::Otp, Class::Transactional, Class::Bulk];

    /// Position in [`Class::BY_PRIORITY`].
    pub const fn rank(self) -> usize {
        match self {
            Class::Otp => 0,
            Class::Transactional => 1,
            Class::Bulk => 2,
        }
    }

    /// The class at `rank` in [`Class::BY_PRIORITY`].
    pub fn from_rank(rank: usize) -> Option<Class> {
        Class::BY_PRIORITY.get(rank).copied()
    }

    /// The lowercase name used in events and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Otp => "otp",
            Class::Transactional => "transactional",
            Class::Bulk => "bulk",
        }
    }
}

/// A message's state. `InFlight` is never stored (a message in flight at a crash is sent
/// again), it only appears in a status read while a segment awaits its submit_sm_resp.
/// The ack to the backend is "accepted": by then the record is on disk as `Queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// On disk, waiting for its carrier (or backing off after a transient failure).
    Queued,
    /// At least one segment awaits its submit_sm_resp (status reads only).
    InFlight,
    /// Every segment was accepted by the SMSC; waiting for receipts.
    Submitted,
    /// Every segment was delivered.
    Delivered,
    /// A segment was reported undeliverable.
    Undeliverable,
    /// Its validity ended before it was submitted, or a segment was reported expired.
    Expired,
    /// Refused by the carriers of its route, or a segment was reported rejected.
    Rejected,
    /// Ended without a definite outcome: a receipt said DELETED, UNKNOWN or ACCEPTED, no
    /// receipt came in time, or no carrier of the route could carry the text.
    Failed,
}

impl State {
    /// Whether nothing more will happen to the message.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            State::Delivered
                | State::Undeliverable
                | State::Expired
                | State::Rejected
                | State::Failed
        )
    }

    /// The lowercase name used in events and the API, e.g. `"in_flight"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::InFlight => "in_flight",
            State::Submitted => "submitted",
            State::Delivered => "delivered",
            State::Undeliverable => "undeliverable",
            State::Expired => "expired",
            State::Rejected => "rejected",
            State::Failed => "failed",
        }
    }
}

/// One segment's state. Like [`State::InFlight`], `InFlight` is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SegmentState {
    /// Not yet accepted by an SMSC.
    Pending,
    /// Awaiting its submit_sm_resp (status reads only).
    InFlight,
    /// Accepted by the SMSC; its carrier id is indexed.
    Submitted,
    /// Receipt: delivered.
    Delivered,
    /// Receipt: undeliverable.
    Undeliverable,
    /// Validity ended before submission, or receipt: expired.
    Expired,
    /// Refused at submit, or receipt: rejected.
    Rejected,
    /// Receipt: deleted, unknown or accepted; or no receipt in time.
    Failed,
    /// Never sent: the message ended before this segment's turn.
    Cancelled,
}

impl SegmentState {
    /// Whether this segment will change no more (short of a late receipt).
    pub const fn is_final(self) -> bool {
        !matches!(
            self,
            SegmentState::Pending | SegmentState::InFlight | SegmentState::Submitted
        )
    }

    /// The lowercase name used in events and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            SegmentState::Pending => "pending",
            SegmentState::InFlight => "in_flight",
            SegmentState::Submitted => "submitted",
            SegmentState::Delivered => "delivered",
            SegmentState::Undeliverable => "undeliverable",
            SegmentState::Expired => "expired",
            SegmentState::Rejected => "rejected",
            SegmentState::Failed => "failed",
            SegmentState::Cancelled => "cancelled",
        }
    }
}

/// The text encoding a message was split in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextEncoding {
    /// GSM 03.38 default alphabet, `data_coding` 0x00.
    Gsm7,
    /// UCS-2 (UTF-16BE), `data_coding` 0x08.
    Ucs2,
}

/// How a text longer than one short message is carried: the carrier's long-message method
/// (`long_message` in the configuration, which reads straight into this type), stored in
/// each message's [`SplitPlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LongMessage {
    /// A UDH with an 8-bit concatenation reference in each part.
    #[default]
    Udh8,
    /// A UDH with a 16-bit concatenation reference in each part.
    Udh16,
    /// The sar_* TLVs (SMPP 3.4 5.3.2.22-24); the SMSC builds the UDH.
    Sar,
    /// The whole text in one message_payload TLV (5.3.2.32).
    Payload,
}

impl LongMessage {
    /// Its name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            LongMessage::Udh8 => "udh8",
            LongMessage::Udh16 => "udh16",
            LongMessage::Sar => "sar",
            LongMessage::Payload => "payload",
        }
    }

    /// The codec's concatenation method for it.
    pub fn concat(self) -> Concat {
        match self {
            LongMessage::Udh8 => Concat::Udh8,
            LongMessage::Udh16 => Concat::Udh16,
            LongMessage::Sar => Concat::Sar,
            LongMessage::Payload => Concat::Payload,
        }
    }
}

/// Which delivery receipts a submit_sm asks for (5.2.17, bits 1-0 of registered_delivery):
/// a carrier's `registered_delivery` in the configuration (which reads straight into this
/// type), and what a message's record asks of the carrier it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisteredDelivery {
    /// None (00): the message ends at `submitted`.
    None,
    /// On final delivery, success or failure (01): the message waits for its receipts.
    #[default]
    Final,
    /// On final failure only (10): the message ends at `submitted`, and a failure receipt
    /// that comes later still ends it with the state it reports.
    Failure,
}

impl RegisteredDelivery {
    /// The registered_delivery octet.
    pub fn value(self) -> u8 {
        match self {
            RegisteredDelivery::None => NO_RECEIPT,
            RegisteredDelivery::Final => RECEIPT_FINAL,
            RegisteredDelivery::Failure => RECEIPT_ON_FAILURE,
        }
    }
}

/// What decides a message's segments: kept in the record so that the segments rebuilt
/// after a restart, or resent after a failure, are the very ones first made, with the same
/// concatenation reference, whatever the configuration says by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPlan {
    /// Encoding of every segment.
    pub encoding: TextEncoding,
    /// Long-message method of the carrier the plan was made for.
    pub method: LongMessage,
    /// Concatenation reference the segments share (low 8 bits only for `Udh8`).
    pub reference: u16,
}

/// One segment of a message as stored. Segment numbers are 1-based, as in the UDH; the
/// record's `segments[n - 1]` is segment `n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Where it stands.
    pub state: SegmentState,
    /// The SMSC's id for it (normalised), once submitted: what receipts are matched by.
    pub carrier_id: Option<String>,
    /// submit_sm attempts made for it, on any carrier.
    pub attempts: u32,
    /// Why it ended other than delivered (a status, a receipt state, a network error).
    pub error: Option<String>,
    /// When its submit_sm_resp accepted it (unix ms).
    pub submitted_at: Option<u64>,
    /// When it reached a final state (unix ms).
    pub done_at: Option<u64>,
}

impl SegmentRecord {
    /// A segment not yet sent.
    pub fn pending() -> SegmentRecord {
        SegmentRecord {
            state: SegmentState::Pending,
            carrier_id: None,
            attempts: 0,
            error: None,
            submitted_at: None,
            done_at: None,
        }
    }
}

/// A message: what the backend asked for and what has happened to it so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Its id.
    pub id: MessageId,
    /// Destination.
    pub to: Msisdn,
    /// Sender as the backend gave it; `None` for the carrier's default.
    pub from: Option<String>,
    /// The text, kept so that a failover can prepare it for another carrier. When
    /// `masked` is set, this is the real text in memory only: the disk holds the masked one.
    pub text: String,
    /// The text to keep on disk instead of `text` (a verification SMS, whose code is never
    /// stored in plaintext). A record read back from disk with `masked` set has the masked
    /// text in `text` too, so what it has not sent yet cannot be sent any more.
    pub masked: Option<String>,
    /// Priority class.
    pub class: Class,
    /// The backend's idempotency reference, if it gave one.
    pub client_ref: Option<String>,
    /// Whether the backend asked for delivery receipts; a failover asks the next carrier
    /// again from this.
    pub registered_delivery: bool,
    /// The receipts its submit_sm asks the carrier it is on for: none when the backend
    /// asked for none, else the carrier's `registered_delivery`. Kept so that a resent or
    /// recovered submit_sm asks what the first one did; unless it is `Final` the message
    /// ends at `submitted`.
    pub receipts: RegisteredDelivery,
    /// Carriers in failover order and the route kind.
    pub route: Route,
    /// Position in `route.carriers` of the carrier it is on now.
    pub carrier: usize,
    /// How its segments are made.
    pub plan: SplitPlan,
    /// Its segments, in order.
    pub segments: Vec<SegmentRecord>,
    /// Its state (never `InFlight`).
    pub state: State,
    /// Why it ended as it did, naming the segment when one decided it.
    pub detail: Option<String>,
    /// When it was accepted (unix ms).
    pub accepted_at: u64,
    /// When its validity ends (unix ms): not submitted by then means expired.
    pub expires_at: u64,
    /// When it last changed (unix ms).
    pub updated_at: u64,
    /// The name of the API token that submitted it (whose webhook hears of it); `None`
    /// for a message from elsewhere (the CLI, a test) or one stored before owners were
    /// recorded. Last, so a record of [`MESSAGE_VERSION_1`] reads as one without an owner.
    pub owner: Option<String>,
}

/// The record version of a message stored before [`MessageRecord::owner`]: the same
/// fields without the last, read back with `owner: None`.
pub const MESSAGE_VERSION_1: u8 = 1;

/// The record version of a message written by this build ([`MessageRecord::owner`] last).
pub const MESSAGE_VERSION: u8 = 2;

/// A message record as stored: [`MESSAGE_VERSION`], then postcard.
fn encode_message(record: &MessageRecord) -> Result<Vec<u8>, StoreError> {
    encode_owned("message", record)
}

fn decode_message(
    tree: &'static str,
    key: &[u8],
    value: &[u8],
) -> Result<MessageRecord, StoreError> {
    decode_owned(tree, key, value)
}

/// A record whose last field is an `owner: Option<String>` added in its version 2
/// (messages, verifications): [`MESSAGE_VERSION`], then postcard.
pub(crate) fn encode_owned<T: Serialize>(
    what: &'static str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    let mut out = encode(what, value)?;
    if let Some(version) = out.first_mut() {
        *version = MESSAGE_VERSION;
    }
    Ok(out)
}

/// Reads a record of [`encode_owned`] of either version. Postcard writes a struct as its
/// fields in order and `None` as the one byte 0, so a version-1 body followed by that
/// byte is the version-2 encoding of the same record without an owner.
pub(crate) fn decode_owned<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    value: &[u8],
) -> Result<T, StoreError> {
    match value.split_first() {
        Some((&MESSAGE_VERSION, body)) => {
            let mut current = Vec::with_capacity(value.len());
            current.push(RECORD_VERSION);
            current.extend_from_slice(body);
            decode(tree, key, &current)
        }
        Some((&MESSAGE_VERSION_1, _)) => {
            let mut legacy = value.to_vec();
            legacy.push(0);
            decode(tree, key, &legacy)
        }
        _ => decode(tree, key, value),
    }
}

impl MessageRecord {
    /// The name of the carrier it is on now.
    pub fn carrier_name(&self) -> &str {
        self.route
            .carriers
            .get(self.carrier)
            .map_or("", String::as_str)
    }

    /// Whether anything can still happen to it: not final, and not a fully submitted
    /// message that awaits no receipt on success (that one ends at `submitted`).
    pub fn is_open(&self) -> bool {
        !(self.state.is_final()
            || (self.state == State::Submitted && self.receipts != RegisteredDelivery::Final))
    }
}

/// Which message a client reference was first used for, for 24 h idempotency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRefRecord {
    /// The first message sent with the reference.
    pub message: MessageId,
    /// When that message was accepted (unix ms).
    pub accepted_at: u64,
}

/// One segment of one message: what a carrier message id points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SegmentRef {
    /// The message.
    pub message: MessageId,
    /// Its segment number, 1-based.
    pub segment: u8,
}

/// A receipt that matched no submitted segment when it came, kept for late matching
/// (its submit_sm_resp may not have been processed yet) until it is too old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedReceipt {
    /// The carrier it came from.
    pub carrier: String,
    /// The forms its id may take, as the carrier's id rules produced them; each is indexed.
    pub candidates: Vec<String>,
    /// `message_state` value (SMPP 3.4 5.2.28).
    pub state: u8,
    /// network_error_code, when the SMSC sent one.
    pub network_error: Option<NetworkErrorCode>,
    /// When it came (unix ms).
    pub received_at: u64,
}

/// One entry of the durable event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (unix ms).
    pub at: u64,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A message or one of its segments changed state.
    Message {
        /// The message.
        id: MessageId,
        /// The message's state after the change.
        state: State,
        /// The carrier it is on.
        carrier: String,
        /// Domestic or international route.
        route_kind: RouteKind,
        /// The segment that changed and its new state, when the change is a segment's.
        segment: Option<(u8, SegmentState)>,
        /// Why: a status, a receipt state, the carrier id, a failover.
        detail: Option<String>,
    },
    /// A receipt that matched nothing (yet); it is kept for late matching.
    UnmatchedReceipt {
        /// The carrier it came from.
        carrier: String,
        /// Its id as received (the first candidate form).
        carrier_id: String,
        /// `message_state` value (5.2.28).
        state: u8,
    },
    /// A verification reached an outcome (approved, max_attempts_reached, expired,
    /// canceled, failed). Never a code.
    Verification {
        /// The verification.
        id: String,
        /// Its outcome.
        status: String,
        /// Its purpose.
        purpose: String,
        /// Whether it is a sandbox verification.
        sandbox: bool,
    },
    /// A mobile-originated message received from a carrier.
    MobileOriginated {
        /// The carrier it came from.
        carrier: String,
        /// The sender (the handset).
        from: String,
        /// The number it was sent to.
        to: String,
        /// Its text.
        text: String,
    },
}

/// One write of a step; [`Storage::apply`] applies a step's writes atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Store a message record; it is listed open or not as [`MessageRecord::is_open`] says.
    Message(MessageRecord),
    /// Map a client reference to its first message (and list it for sweeping).
    ClientRef {
        /// The reference.
        client_ref: String,
        /// Its message and time.
        record: ClientRefRecord,
    },
    /// Forget a client reference (and its sweep entry at `accepted_at`).
    ForgetClientRef {
        /// The reference.
        client_ref: String,
        /// The accepted_at of the mapping being forgotten.
        accepted_at: u64,
    },
    /// Index a segment under its carrier message id.
    CarrierId {
        /// The carrier.
        carrier: String,
        /// The normalised carrier message id.
        carrier_id: String,
        /// The segment it names.
        segment: SegmentRef,
    },
    /// Keep an unmatched receipt under `seq`, indexed by each candidate form.
    Unmatched {
        /// Its sequence number (from [`Storage::generate_id`]).
        seq: u64,
        /// The receipt.
        receipt: UnmatchedReceipt,
    },
    /// Drop a kept receipt and the index entries of it that are named.
    ForgetUnmatched {
        /// Its sequence number.
        seq: u64,
        /// Its carrier.
        carrier: String,
        /// The candidate forms whose index entries still point to it (a later receipt
        /// sharing a form may have taken that entry over).
        forms: Vec<String>,
    },
    /// Append an event at `seq`.
    Event {
        /// Its sequence number, one more than the last.
        seq: u64,
        /// The event.
        event: Event,
    },
    /// Forget a final message past its retention: its record and the carrier ids named
    /// (those that still point to it; a carrier may have reused an id since).
    ForgetMessage {
        /// The message.
        id: MessageId,
        /// The carrier its ids are indexed under.
        carrier: String,
        /// The carrier ids to unindex.
        carrier_ids: Vec<String>,
    },
    /// Forget the events of the log stored under `first` (one batch, or one event written
    /// before batches).
    ForgetEvents {
        /// The sequence number the batch is stored under (its first event's).
        first: u64,
    },
    /// List a queued message as parked: on disk only, read back in queue order.
    Park(Parked),
    /// Unlist a parked message (read back into memory, moved or ended).
    Unpark(Parked),
}

/// A queued message kept on disk only: its place in its carrier's class queue (the id) and
/// the end of its validity (for expiry while parked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    /// The carrier whose queue it is in.
    pub carrier: String,
    /// Its class.
    pub class: Class,
    /// The message.
    pub id: MessageId,
    /// The end of its validity (unix ms).
    pub expires_at: u64,
}

/// One stored stretch of the event log (a batch, or a single event written before
/// batches), as the retention sweep sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpan {
    /// The sequence number it is stored under (its first event's).
    pub first: u64,
    /// Its last event's sequence number.
    pub last: u64,
    /// When its last event happened (unix ms).
    pub last_at: u64,
}

/// The storage the outbox needs, as typed operations: a second engine implements this
/// trait and nothing above it changes. Reads see every write applied before them, flushed
/// or not; [`Storage::commit`] is how a caller learns that its writes are on disk.
pub trait Storage {
    /// A fresh id, greater than every id given before, also across restarts.
    fn generate_id(&self) -> Result<u64, StoreError>;
    /// Applies the writes of one step, all or none: reads see it at once; a crash keeps
    /// it whole or not at all (an engine may write the steps of a turn together: a failure
    /// then fails every call after it, as the steps applied since are in memory only).
    fn apply(&self, ops: Vec<Op>) -> Result<(), StoreError>;
    /// Completes once a flush that started after this call has finished: every write
    /// applied before the call is then on disk.
    fn commit(&self) -> CommitWait;
    /// [`Storage::commit`], for a caller that ends the group itself ([`Storage::end_group`]):
    /// the steps of one turn are written together, and this commit waits until then. An
    /// engine without groups commits at once.
    fn commit_later(&self) -> CommitWait {
        self.commit()
    }
    /// Writes the steps applied since the group began (the end of a turn); the commits
    /// that wait for them ([`Storage::commit_later`]) go to the next flush.
    ///
    /// # Errors
    /// The engine's, as [`Storage::apply`]'s.
    fn end_group(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The error of a group that could not be written, once one was not: every later call
    /// fails with it, whichever call met it first.
    fn failed(&self) -> Option<StoreError> {
        None
    }
    /// Calls `hook` with the newest event's sequence number each time a flush has made
    /// events durable (from the engine's flushing thread; the numbers only grow): how the
    /// event log is shown only once it is on disk (see [`crate::outbox::feed`]).
    fn on_durable(&self, hook: DurableHook);
    /// One message.
    fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, StoreError>;
    /// Every message that is not final (see [`MessageRecord::is_open`]), by id.
    fn open_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        let mut out = Vec::new();
        let mut from = MessageId(0);
        loop {
            let chunk = self.open_messages_from(from, 1_024)?;
            let Some(last) = chunk.last().map(|r| r.id) else {
                return Ok(out);
            };
            out.extend(chunk);
            match last.0.checked_add(1) {
                Some(next) => from = MessageId(next),
                None => return Ok(out),
            }
        }
    }
    /// Up to `max` messages not final, by id, from id `from` on (a recovery reads them a
    /// chunk at a time).
    fn open_messages_from(
        &self,
        from: MessageId,
        max: usize,
    ) -> Result<Vec<MessageRecord>, StoreError>;
    /// Up to `max` final messages, by id, from id `from` on, up to the first accepted
    /// after `accepted_by` (unix ms; ids grow with acceptance, so the retention sweep
    /// reads only the old ones).
    fn final_messages_from(
        &self,
        from: MessageId,
        accepted_by: u64,
        max: usize,
    ) -> Result<Vec<MessageRecord>, StoreError>;
    /// Up to `max` stretches of the event log, oldest first, each as it is stored (a
    /// batch, or one event written before batches), up to the first whose last event
    /// happened after `by` (unix ms).
    fn oldest_events(&self, by: u64, max: usize) -> Result<Vec<EventSpan>, StoreError>;
    /// Up to `max` parked messages of a carrier's class after id `after`, in queue (id)
    /// order.
    fn parked(
        &self,
        carrier: &str,
        class: Class,
        after: MessageId,
        max: usize,
    ) -> Result<Vec<Parked>, StoreError>;
    /// Up to `max` parked messages whose validity ends before `cutoff`, soonest first.
    fn parked_due(&self, cutoff: u64, max: usize) -> Result<Vec<Parked>, StoreError>;
    /// Forgets every parked listing (a start rebuilds them from the open messages).
    fn clear_parked(&self) -> Result<(), StoreError>;
    /// The first message of a client reference.
    fn client_ref(&self, client_ref: &str) -> Result<Option<ClientRefRecord>, StoreError>;
    /// Up to `max` client references accepted before `cutoff`, oldest first, with the
    /// time each was accepted.
    fn client_refs_before(&self, cutoff: u64, max: usize)
        -> Result<Vec<(String, u64)>, StoreError>;
    /// The segment a carrier message id names.
    fn segment_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<SegmentRef>, StoreError>;
    /// The kept receipt one of whose candidate forms is `carrier_id`.
    fn unmatched_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<(u64, UnmatchedReceipt)>, StoreError>;
    /// Up to `max` kept receipts received before `cutoff`, oldest first.
    fn unmatched_before(
        &self,
        cutoff: u64,
        max: usize,
    ) -> Result<Vec<(u64, UnmatchedReceipt)>, StoreError>;
    /// How many receipts are kept unmatched (a scan: for start-up).
    fn unmatched_count(&self) -> Result<usize, StoreError>;
    /// Up to `max` events after `cursor` (0 for the start of the log), in order.
    fn events_since(&self, cursor: u64, max: usize) -> Result<Vec<(u64, Event)>, StoreError>;
    /// The sequence number of the last event, 0 when the log is empty.
    fn last_event_seq(&self) -> Result<u64, StoreError>;
    /// The sequence number of the oldest event kept (older ones went with
    /// `outbox.events_retention`), 0 when the log is empty.
    fn first_event_seq(&self) -> Result<u64, StoreError>;
}

pub(crate) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![RECORD_VERSION];
    let body = postcard::to_allocvec(value).map_err(|e| StoreError::Encode {
        what,
        reason: e.to_string(),
    })?;
    out.extend_from_slice(&body);
    Ok(out)
}

pub(crate) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    value: &[u8],
) -> Result<T, StoreError> {
    let key = || printable_key(key);
    match value.split_first() {
        Some((&RECORD_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Decode {
                tree,
                key: key(),
                reason: e.to_string(),
            })
        }
        Some((&found, _)) => Err(StoreError::Version {
            tree,
            key: key(),
            found,
        }),
        None => Err(StoreError::Decode {
            tree,
            key: key(),
            reason: "empty value".into(),
        }),
    }
}

/// A key for error messages: a big-endian u64 as its number, text as text, else hex.
fn printable_key(key: &[u8]) -> String {
    if let Ok(bytes) = <[u8; 8]>::try_from(key) {
        return u64::from_be_bytes(bytes).to_string();
    }
    match std::str::from_utf8(key) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_owned(),
        _ => key.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

fn carrier_key(carrier: &str, id: &str) -> Result<Vec<u8>, StoreError> {
    let len = u16::try_from(carrier.len()).map_err(|_| StoreError::KeyTooLong {
        what: "a carrier name",
        len: carrier.len(),
    })?;
    let mut key = Vec::with_capacity(2 + carrier.len() + id.len());
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(carrier.as_bytes());
    key.extend_from_slice(id.as_bytes());
    Ok(key)
}

/// A parked message's queue key: the carrier's length-prefixed name, the class rank, the id.
fn parked_prefix(carrier: &str, class: Class) -> Result<Vec<u8>, StoreError> {
    let mut key = carrier_key(carrier, "")?;
    key.push(u8::try_from(class.rank()).unwrap_or(u8::MAX));
    Ok(key)
}

fn parked_key(p: &Parked) -> Result<Vec<u8>, StoreError> {
    let mut key = parked_prefix(&p.carrier, p.class)?;
    key.extend_from_slice(&p.id.0.to_be_bytes());
    Ok(key)
}

fn parked_due_key(p: &Parked) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&p.expires_at.to_be_bytes());
    key.extend_from_slice(&p.id.0.to_be_bytes());
    key
}

/// Reads a `parked_due` entry back: its key (validity end, id) and value (the queue
/// prefix: carrier, class rank).
fn parked_from_due(key: &[u8], value: &[u8]) -> Result<Parked, StoreError> {
    let bad = |reason: &str| StoreError::Decode {
        tree: "parked_due",
        key: printable_key(key),
        reason: reason.into(),
    };
    let (at, id) = key.split_at(8.min(key.len()));
    let expires_at = be_u64("parked_due", at)?;
    let id = MessageId(be_u64("parked_due", id)?);
    let (len, rest) = value.split_at(2.min(value.len()));
    let len = <[u8; 2]>::try_from(len)
        .map(u16::from_be_bytes)
        .map_err(|_| bad("value is too short"))?;
    let (name, rank) = rest.split_at(usize::from(len).min(rest.len()));
    let carrier = std::str::from_utf8(name).map_err(|_| bad("carrier is not UTF-8"))?;
    let class = match rank {
        [r] => Class::from_rank(usize::from(*r)),
        _ => None,
    }
    .ok_or_else(|| bad("no class rank"))?;
    Ok(Parked {
        carrier: carrier.to_owned(),
        class,
        id,
        expires_at,
    })
}

fn age_key(at: u64, name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + name.len());
    key.extend_from_slice(&at.to_be_bytes());
    key.extend_from_slice(name.as_bytes());
    key
}

fn be_u64(tree: &'static str, key: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Decode {
            tree,
            key: printable_key(key),
            reason: "key is not a u64".into(),
        })
}

/// How the committer makes writes durable: the engine's flush, or a stand-in in tests.
pub trait Flush: Send + 'static {
    /// Makes every write applied so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}

impl Flush for sled::Db {
    fn flush(&self) -> Result<(), StoreError> {
        sled::Tree::flush(self).map(drop).map_err(|e| {
            if disk_full(&e) {
                StoreError::Full { op: "flush" }
            } else {
                StoreError::Flush {
                    reason: e.to_string(),
                }
            }
        })
    }
}

/// Waiting for a commit: a future of the flush's result (and [`CommitWait::wait_blocking`]
/// for code outside a runtime).
#[derive(Debug)]
pub struct CommitWait(oneshot::Receiver<Result<(), StoreError>>);

impl CommitWait {
    /// Blocks the thread until the commit completes. Not for use inside an async runtime
    /// (await the value instead).
    pub fn wait_blocking(self) -> Result<(), StoreError> {
        self.0
            .blocking_recv()
            .unwrap_or(Err(StoreError::CommitterStopped))
    }
}

impl CommitWait {
    /// A commit that failed before it could register (its writes did not reach the engine).
    fn failed(e: StoreError) -> CommitWait {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Err(e));
        CommitWait(rx)
    }

    /// The commit's result if it has completed, without waiting.
    pub fn try_done(&mut self) -> Option<Result<(), StoreError>> {
        match self.0.try_recv() {
            Ok(result) => Some(result),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(StoreError::CommitterStopped)),
        }
    }
}

impl Future for CommitWait {
    type Output = Result<(), StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(StoreError::CommitterStopped)))
    }
}

type Waiter = oneshot::Sender<Result<(), StoreError>>;

/// Told the newest event made durable by a flush (see [`Storage::on_durable`]).
pub type DurableHook = Box<dyn Fn(u64) + Send>;

/// What the committer thread and the writers share.
struct CommitShared {
    /// Writers waiting for the next flush, and whether to stop.
    queue: Mutex<CommitQueue>,
    /// Wakes the committer when a waiter arrives or on stop.
    wake: Condvar,
    /// Flushes done, for metrics and tests.
    flushes: AtomicU64,
    /// Told the newest event each flush made durable.
    on_durable: Mutex<Option<DurableHook>>,
}

struct CommitQueue {
    waiters: Vec<Waiter>,
    /// The newest event written since the last flush began (0: none): the next flush
    /// makes it durable, even with no writer waiting.
    mark: u64,
    stopping: bool,
}

/// Group commit: a dedicated thread that, whenever writers wait, takes all of them, flushes
/// once and then completes them all. A writer registers after its write, and a flush covers
/// only the waiters taken before it started, so a completed wait means the write is on
/// disk. Dropping the committer completes the waiters still queued with one last flush.
pub struct Committer {
    shared: Arc<CommitShared>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    /// Starts the committer thread over `flusher`.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the thread cannot be started.
    pub fn start(flusher: impl Flush) -> Result<Committer, StoreError> {
        let shared = Arc::new(CommitShared {
            queue: Mutex::new(CommitQueue {
                waiters: Vec::new(),
                mark: 0,
                stopping: false,
            }),
            wake: Condvar::new(),
            flushes: AtomicU64::new(0),
            on_durable: Mutex::new(None),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("smsgate-commit".into())
            .spawn(move || commit_loop(&thread_shared, &flusher))
            .map_err(|e| StoreError::Io {
                op: "start the committer thread",
                reason: e.to_string(),
            })?;
        Ok(Committer {
            shared,
            thread: Some(thread),
        })
    }

    /// Registers for the next flush; call it after the writes it must cover.
    pub fn commit(&self) -> CommitWait {
        let (tx, rx) = oneshot::channel();
        let mut queue = self.shared.queue.lock();
        if queue.stopping {
            let _ = tx.send(Err(StoreError::CommitterStopped));
        } else {
            queue.waiters.push(tx);
            self.shared.wake.notify_one();
        }
        CommitWait(rx)
    }

    /// Registers waiters made earlier (their writes were applied since) for the next flush,
    /// and `mark`, the newest event among those writes (0: none), for [`DurableHook`].
    fn commit_all(&self, waiters: Vec<Waiter>, mark: u64) {
        if waiters.is_empty() && mark == 0 {
            return;
        }
        let mut queue = self.shared.queue.lock();
        if queue.stopping {
            for waiter in waiters {
                let _ = waiter.send(Err(StoreError::CommitterStopped));
            }
        } else {
            queue.waiters.extend(waiters);
            queue.mark = queue.mark.max(mark);
            self.shared.wake.notify_one();
        }
    }

    /// Sets the hook told of each flush's newest durable event.
    pub fn on_durable(&self, hook: DurableHook) {
        *self.shared.on_durable.lock() = Some(hook);
    }

    /// Flushes done so far.
    pub fn flushes(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }
}

/// Under load (a flush ended less than [`BUSY`] ago), the committer waits this long after
/// the first waiter before it flushes, so that more writes share the flush: measured end to
/// end, accepts went from 14k/s to 21-26k/s and the whole walk from 4.9k/s to 6.5k/s. An
/// idle gateway flushes at once.
const GATHER: std::time::Duration = std::time::Duration::from_micros(500);
/// See [`GATHER`].
const BUSY: std::time::Duration = std::time::Duration::from_millis(2);

fn commit_loop(shared: &CommitShared, flusher: &impl Flush) {
    let mut last_flush: Option<std::time::Instant> = None;
    loop {
        let (waiters, mark) = {
            let mut queue = shared.queue.lock();
            while queue.waiters.is_empty() && queue.mark == 0 && !queue.stopping {
                shared.wake.wait(&mut queue);
            }
            if queue.waiters.is_empty() && queue.mark == 0 {
                return;
            }
            if !queue.stopping && last_flush.is_some_and(|t| t.elapsed() < BUSY) {
                drop(queue);
                std::thread::sleep(GATHER);
                queue = shared.queue.lock();
            }
            (
                std::mem::take(&mut queue.waiters),
                std::mem::take(&mut queue.mark),
            )
        };
        let result = flusher.flush();
        last_flush = Some(std::time::Instant::now());
        shared.flushes.fetch_add(1, Ordering::Relaxed);
        // The events written before this flush began are on disk: shown from now on, and
        // before the writers are answered, so that a step acknowledged has its events shown.
        if mark > 0 && result.is_ok() {
            if let Some(hook) = shared.on_durable.lock().as_ref() {
                hook(mark);
            }
        }
        for waiter in waiters {
            // A writer that stopped waiting has nothing to be told.
            let _ = waiter.send(result.clone());
        }
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.shared.queue.lock().stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panicked committer has already dropped its waiters, who see
            // CommitterStopped; there is nothing more to do here.
            let _ = thread.join();
        }
    }
}

/// The engine's page cache unless configured (`data_cache_mb`): 64 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// How long [`SledStore::open`] waits for the lock a closing sled of this process (or one
/// that just exited) may still hold.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the sled database, waiting up to [`LOCK_WAIT`] for its file lock: sled's I/O
/// threads may still hold it for a moment after the last handle of a closed database was
/// dropped (sled's own test build blocks on the lock for the same reason), which a restart
/// in the same process (the tests) or right after the previous process exited runs into.
/// Another process holding the directory for longer is still refused.
fn open_db(path: &Path, cache_bytes: u64) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .open()
        {
            Err(sled::Error::Io(e))
                if e.to_string().starts_with("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// The sled engine: one tree per kind of record, a transaction per step, group commit.
pub struct SledStore {
    db: sled::Db,
    messages: sled::Tree,
    open: sled::Tree,
    carrier_ids: sled::Tree,
    client_refs: sled::Tree,
    client_ref_ages: sled::Tree,
    unmatched: sled::Tree,
    unmatched_ids: sled::Tree,
    events: sled::Tree,
    parked: sled::Tree,
    parked_due: sled::Tree,
    /// The events written since batches came in, a group's events a value (see [`events`]);
    /// `events` keeps those written before, one a key.
    event_batches: sled::Tree,
    /// The last step's writes, under one key (see [`SledStore::apply`]).
    journal: Journal,
    /// The tree that holds every writer's journal key (shared with [`SharedDb`]).
    journals: sled::Tree,
    committer: Arc<Committer>,
    /// The steps applied but not yet written (see [`SledStore::apply`]).
    group: RefCell<Group>,
    /// Groups written so far.
    groups: std::cell::Cell<u64>,
}

/// The outbox's journal key: its last step's writes.
const LAST_STEP: &[u8] = b"last_step";

/// Another writer's handle on the outbox's database (the verifier's trees live there, so
/// that a code's state and its SMS share one durable store): its trees, its own journal
/// key and the same group committer.
#[derive(Clone)]
pub struct SharedDb {
    db: sled::Db,
    journals: sled::Tree,
    committer: Arc<Committer>,
}

impl SharedDb {
    /// Opens (or creates) a tree of this writer's.
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        self.db.open_tree(name).map_err(io_error("open a tree"))
    }

    /// A journal under `key` (one per writer; no two writers may share a key or a tree).
    pub fn journal(&self, key: &'static [u8]) -> Journal {
        Journal {
            tree: self.journals.clone(),
            key,
        }
    }

    /// Registers for the next group-commit flush (see [`Committer::commit`]).
    pub fn commit(&self) -> CommitWait {
        self.committer.commit()
    }

    /// A fresh id from the database's generator (shared with the outbox's message ids).
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn generate_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(io_error("generate an id"))
    }

    /// Flushes now, bypassing the group committer (for replay at open).
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn flush_now(&self) -> Result<(), StoreError> {
        sled::Tree::flush(&self.db)
            .map(drop)
            .map_err(io_error("flush"))
    }

    /// The names of the trees that start with `prefix`, in order.
    pub fn tree_names(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .db
            .tree_names()
            .iter()
            .filter_map(|name| std::str::from_utf8(name).ok())
            .filter(|name| name.starts_with(prefix))
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// Removes a tree and everything in it (durable with the next flush).
    ///
    /// # Errors
    /// [`StoreError::Io`] from sled.
    pub fn drop_tree(&self, name: &str) -> Result<(), StoreError> {
        self.db
            .drop_tree(name)
            .map(drop)
            .map_err(io_error("drop a tree"))
    }
}

/// One writer's step journal: all of a step's writes go first under the journal's one key,
/// then key by key, so a step is all or nothing across a crash (see [`SledStore::apply`]
/// for why this and not sled's transactions). Each writer has its own key and its own
/// trees, and writes from one thread, so the argument holds per writer.
pub struct Journal {
    tree: sled::Tree,
    key: &'static [u8],
}

/// One write of a step, as a journal keeps it: the tree (its position in the writer's
/// list of trees), the key, and the value (`None` removes the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// Position of the tree in the writer's list.
    pub tree: u8,
    /// The key.
    pub key: Vec<u8>,
    /// The value; `None` removes the key.
    pub value: Option<Vec<u8>>,
}

impl Journal {
    /// Applies one step: the journal first, then each write.
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Encode`].
    pub fn apply(&self, trees: &[&sled::Tree], writes: &[Write]) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.tree
            .insert(self.key, encode("journal", &writes)?)
            .map_err(io_error("write the journal"))?;
        write_all(trees, writes)
    }

    /// Forgets the last step (once its writes are known to be on disk).
    ///
    /// # Errors
    /// [`StoreError::Io`].
    pub fn clear(&self) -> Result<(), StoreError> {
        self.tree
            .remove(self.key)
            .map(drop)
            .map_err(io_error("clear the journal"))
    }

    /// Completes the last step, which a crash may have cut short: its writes again (each a
    /// plain put or remove of its final value); the caller flushes after.
    ///
    /// # Errors
    /// [`StoreError::Io`] or [`StoreError::Decode`].
    pub fn replay(&self, trees: &[&sled::Tree]) -> Result<bool, StoreError> {
        let Some(value) = self
            .tree
            .get(self.key)
            .map_err(io_error("read the journal"))?
        else {
            return Ok(false);
        };
        let writes: Vec<Write> = decode("journal", self.key, &value)?;
        write_all(trees, &writes)?;
        Ok(true)
    }
}

/// Each write in order: a put or a remove of its final value.
///
/// # Errors
/// [`StoreError::Io`].
pub(crate) fn write_all(trees: &[&sled::Tree], writes: &[Write]) -> Result<(), StoreError> {
    for w in writes {
        let Some(tree) = trees.get(usize::from(w.tree)) else {
            continue;
        };
        match &w.value {
            Some(v) => tree.insert(w.key.as_slice(), v.as_slice()),
            None => tree.remove(w.key.as_slice()),
        }
        .map_err(io_error("write"))?;
    }
    Ok(())
}

/// A tree's position as a journal keeps it.
fn tree_number(tree: usize) -> u8 {
    u8::try_from(tree).unwrap_or(u8::MAX)
}

/// Positions of the trees in [`SledStore::trees`], for grouping a step's writes.
const MESSAGES: usize = 0;
const OPEN: usize = 1;
const CARRIER_IDS: usize = 2;
const CLIENT_REFS: usize = 3;
const CLIENT_REF_AGES: usize = 4;
const UNMATCHED: usize = 5;
const UNMATCHED_IDS: usize = 6;
const EVENTS: usize = 7;
const PARKED: usize = 8;
const PARKED_DUE: usize = 9;
const EVENT_BATCHES: usize = 10;
const TREES: usize = 11;

impl SledStore {
    /// Opens (or creates) the data directory `path` with a page cache of
    /// [`DEFAULT_CACHE_BYTES`].
    ///
    /// # Errors
    /// [`StoreError::Open`] if the directory cannot be opened or created,
    /// [`StoreError::Schema`] if it was written with another layout.
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`SledStore::open`] with a page cache of `cache_bytes` (the engine's memory for
    /// the pages it read or wrote; beyond, pages are read from disk again).
    ///
    /// # Errors
    /// As [`SledStore::open`].
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let open_error = |e: sled::Error| StoreError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let db = open_db(path, cache_bytes).map_err(open_error)?;
        let tree = |name: &str| db.open_tree(name).map_err(open_error);
        let meta = tree("meta")?;
        match meta.get("schema").map_err(open_error)? {
            Some(v) if v.as_ref() == [SCHEMA_VERSION] => {}
            Some(v) if v.len() == 1 && SCHEMA_UPGRADES.contains(&v[0]) => {
                meta.insert("schema", &[SCHEMA_VERSION])
                    .map_err(open_error)?;
                sled::Tree::flush(&db).map_err(open_error)?;
            }
            Some(v) => {
                return Err(StoreError::Schema {
                    found: v.first().copied().unwrap_or(0),
                })
            }
            None => {
                meta.insert("schema", &[SCHEMA_VERSION])
                    .map_err(open_error)?;
            }
        }
        let journals = tree("journal")?;
        let store = SledStore {
            journal: Journal {
                tree: journals.clone(),
                key: LAST_STEP,
            },
            journals,
            messages: tree("messages")?,
            open: tree("open")?,
            carrier_ids: tree("carrier_ids")?,
            client_refs: tree("client_refs")?,
            client_ref_ages: tree("client_ref_ages")?,
            unmatched: tree("unmatched")?,
            unmatched_ids: tree("unmatched_ids")?,
            events: tree("events")?,
            parked: tree("parked")?,
            parked_due: tree("parked_due")?,
            event_batches: tree("event_batches")?,
            committer: Arc::new(Committer::start(db.clone())?),
            group: RefCell::new(Group::default()),
            groups: std::cell::Cell::new(0),
            db,
        };
        store.replay_journal()?;
        Ok(store)
    }

    /// Completes the last step, which a crash may have cut short: its writes again (each a
    /// plain put or remove of its final value), then a flush.
    fn replay_journal(&self) -> Result<(), StoreError> {
        if self.journal.replay(&self.trees())? {
            sled::Tree::flush(&self.db).map_err(io_error("flush the replayed journal"))?;
        }
        Ok(())
    }

    /// A handle for another writer on the same database (see [`SharedDb`]).
    pub fn shared(&self) -> SharedDb {
        SharedDb {
            db: self.db.clone(),
            journals: self.journals.clone(),
            committer: Arc::clone(&self.committer),
        }
    }

    /// Groups of steps written so far (see [`SledStore::apply`]): one journal entry each.
    pub fn groups_written(&self) -> u64 {
        self.groups.get()
    }

    /// Flushes done by the group committer so far.
    pub fn flushes(&self) -> u64 {
        self.committer.flushes()
    }

    fn trees(&self) -> [&sled::Tree; TREES] {
        [
            &self.messages,
            &self.open,
            &self.carrier_ids,
            &self.client_refs,
            &self.client_ref_ages,
            &self.unmatched,
            &self.unmatched_ids,
            &self.events,
            &self.parked,
            &self.parked_due,
            &self.event_batches,
        ]
    }

    /// Turns typed writes into key writes, in order.
    fn writes(ops: Vec<Op>) -> Result<Vec<Write>, StoreError> {
        let mut writes = Vec::with_capacity(ops.len() * 2);
        let mut put = |tree: usize, key: Vec<u8>, value: Option<Vec<u8>>| {
            writes.push(Write {
                tree: tree_number(tree),
                key,
                value,
            });
        };
        for op in ops {
            match op {
                // An open message lives in `open`, a final one in `messages`: updating an
                // open message is one write, and recovery reads `open` alone.
                Op::Message(mut record) => {
                    let key = record.id.0.to_be_bytes().to_vec();
                    if let Some(masked) = &record.masked {
                        record.text.clone_from(masked);
                    }
                    let value = encode_message(&record)?;
                    if record.is_open() {
                        put(OPEN, key, Some(value));
                    } else {
                        put(OPEN, key.clone(), None);
                        put(MESSAGES, key, Some(value));
                    }
                }
                Op::ClientRef { client_ref, record } => {
                    put(
                        CLIENT_REF_AGES,
                        age_key(record.accepted_at, &client_ref),
                        Some(Vec::new()),
                    );
                    put(
                        CLIENT_REFS,
                        client_ref.into_bytes(),
                        Some(encode("client_ref", &record)?),
                    );
                }
                Op::ForgetClientRef {
                    client_ref,
                    accepted_at,
                } => {
                    put(CLIENT_REF_AGES, age_key(accepted_at, &client_ref), None);
                    put(CLIENT_REFS, client_ref.into_bytes(), None);
                }
                Op::CarrierId {
                    carrier,
                    carrier_id,
                    segment,
                } => put(
                    CARRIER_IDS,
                    carrier_key(&carrier, &carrier_id)?,
                    Some(encode("segment_ref", &segment)?),
                ),
                Op::Unmatched { seq, receipt } => {
                    for form in &receipt.candidates {
                        put(
                            UNMATCHED_IDS,
                            carrier_key(&receipt.carrier, form)?,
                            Some(seq.to_be_bytes().to_vec()),
                        );
                    }
                    put(
                        UNMATCHED,
                        seq.to_be_bytes().to_vec(),
                        Some(encode("unmatched_receipt", &receipt)?),
                    );
                }
                Op::ForgetUnmatched {
                    seq,
                    carrier,
                    forms,
                } => {
                    for form in &forms {
                        put(UNMATCHED_IDS, carrier_key(&carrier, form)?, None);
                    }
                    put(UNMATCHED, seq.to_be_bytes().to_vec(), None);
                }
                Op::Event { seq, event } => put(
                    EVENTS,
                    seq.to_be_bytes().to_vec(),
                    Some(encode("event", &event)?),
                ),
                Op::ForgetMessage {
                    id,
                    carrier,
                    carrier_ids,
                } => {
                    for carrier_id in &carrier_ids {
                        put(CARRIER_IDS, carrier_key(&carrier, carrier_id)?, None);
                    }
                    put(MESSAGES, id.0.to_be_bytes().to_vec(), None);
                }
                Op::ForgetEvents { first } => {
                    let key = first.to_be_bytes().to_vec();
                    put(EVENTS, key.clone(), None);
                    put(EVENT_BATCHES, key, None);
                }
                Op::Park(p) => {
                    let queue = parked_key(&p)?;
                    let prefix = queue
                        .get(..queue.len().saturating_sub(8))
                        .map(<[u8]>::to_vec);
                    put(PARKED_DUE, parked_due_key(&p), prefix);
                    put(PARKED, queue, Some(p.expires_at.to_be_bytes().to_vec()));
                }
                Op::Unpark(p) => {
                    put(PARKED_DUE, parked_due_key(&p), None);
                    put(PARKED, parked_key(&p)?, None);
                }
            }
        }
        Ok(writes)
    }

    /// One key's value: the group's latest write of it, else sled's.
    fn read(&self, tree: usize, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let group = self.group.borrow();
        // After a failed group sled lacks steps the caller took as applied: no answer.
        group.check()?;
        match group.seen(tree, key) {
            Seen::Put(value) => return Ok(Some(sled::IVec::from(value))),
            Seen::Removed => return Ok(None),
            Seen::Unknown => {}
        }
        match self.trees().get(tree) {
            Some(t) => t.get(key).map_err(io_error("read")),
            None => Ok(None),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        tree: usize,
        name: &'static str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.read(tree, key)? {
            Some(v) => decode(name, key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Writes the group to sled: its journal entry, then its writes (see
    /// [`SledStore::apply`]); then registers the commits that waited for it. Every range
    /// read comes after this, so that it sees every write applied before it.
    fn write_group(&self) -> Result<(), StoreError> {
        let (writes, waiters) = {
            let mut group = self.group.borrow_mut();
            group.check()?;
            if group.is_empty() {
                return Ok(());
            }
            group.take()
        };
        // The newest event among the writes: the committer's flush makes it durable.
        let mark = writes
            .iter()
            .rev()
            .filter(|w| w.tree == tree_number(EVENTS) && w.value.is_some())
            .find_map(|w| <[u8; 8]>::try_from(w.key.as_slice()).ok())
            .map_or(0, u64::from_be_bytes);
        let writes = events::batch_group(writes, tree_number(EVENTS), tree_number(EVENT_BATCHES));
        if !writes.is_empty() {
            if let Err(e) = self.journal.apply(&self.trees(), &writes) {
                self.group.borrow_mut().fail(&e, waiters);
                return Err(e);
            }
            self.groups.set(self.groups.get().saturating_add(1));
        }
        self.committer.commit_all(waiters, mark);
        Ok(())
    }
}

impl Drop for SledStore {
    /// A store dropped in the middle of a group writes it; sled flushes when its last handle
    /// goes (and the committer flushes once more for commits still waiting).
    fn drop(&mut self) {
        if let Err(e) = self.write_group() {
            tracing::error!(error = %e, "the outbox's last writes could not be stored");
        }
    }
}

impl Storage for SledStore {
    fn generate_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(io_error("generate an id"))
    }

    /// Applies a step's writes all or none, without sled's batches: a sled batch or
    /// transaction writes out and syncs the log's buffer on every call (two buffer rolls and
    /// a `sync_file_range` each), which made every step cost a disk write.
    ///
    /// Instead, the steps of a group (one turn of the outbox: see [`Storage::end_group`])
    /// first go under the journal's one key, all their writes in order, and then to their
    /// trees key by key. sled recovers a contiguous prefix of its log, and one thread
    /// writes in order, so after a crash the journal holds the last group that began:
    /// either all of it is in, or [`SledStore::open`] finishes it by applying it again.
    /// Every later group overwrote the journal before writing anything, so the group found
    /// there is the newest for every key it writes, and its replay (in order) never leaves
    /// an older value. Until the group is written, its writes are read from it
    /// ([`group`]); a group is written when it ends, when it is large, before every range
    /// read and before every commit that does not wait for its end.
    fn apply(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let writes = Self::writes(ops)?;
        if writes.is_empty() {
            return self.group.borrow().check();
        }
        let full = {
            let mut group = self.group.borrow_mut();
            group.check()?;
            group.push_step(writes)
        };
        if full {
            self.write_group()?;
        }
        Ok(())
    }

    fn commit(&self) -> CommitWait {
        match self.write_group() {
            Ok(()) => self.committer.commit(),
            Err(e) => CommitWait::failed(e),
        }
    }

    fn commit_later(&self) -> CommitWait {
        let (tx, rx) = oneshot::channel();
        self.group.borrow_mut().wait(tx);
        CommitWait(rx)
    }

    fn end_group(&self) -> Result<(), StoreError> {
        self.write_group()
    }

    fn failed(&self) -> Option<StoreError> {
        self.group.borrow().check().err()
    }

    fn on_durable(&self, hook: DurableHook) {
        self.committer.on_durable(hook);
    }

    fn message(&self, id: MessageId) -> Result<Option<MessageRecord>, StoreError> {
        let key = id.0.to_be_bytes();
        let read = |tree: usize, name: &'static str| {
            self.read(tree, &key)?
                .map(|v| decode_message(name, &key, &v))
                .transpose()
        };
        match read(OPEN, "open")? {
            Some(record) => Ok(Some(record)),
            None => read(MESSAGES, "messages"),
        }
    }

    fn open_messages_from(
        &self,
        from: MessageId,
        max: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        for item in self.open.range(from.0.to_be_bytes()..).take(max) {
            let (key, value) = item.map_err(io_error("read open messages"))?;
            out.push(decode_message("open", &key, &value)?);
        }
        Ok(out)
    }

    fn final_messages_from(
        &self,
        from: MessageId,
        accepted_by: u64,
        max: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        for item in self.messages.range(from.0.to_be_bytes()..).take(max) {
            let (key, value) = item.map_err(io_error("read final messages"))?;
            let record = decode_message("messages", &key, &value)?;
            if record.accepted_at > accepted_by {
                break;
            }
            out.push(record);
        }
        Ok(out)
    }

    fn oldest_events(&self, by: u64, max: usize) -> Result<Vec<EventSpan>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        // Those written one a key (before batches) are older than every batch.
        for item in self.events.iter().take(max) {
            let (key, value) = item.map_err(io_error("read events"))?;
            let seq = be_u64("events", &key)?;
            let event: Event = decode("events", &key, &value)?;
            if event.at > by {
                return Ok(out);
            }
            out.push(EventSpan {
                first: seq,
                last: seq,
                last_at: event.at,
            });
        }
        for item in self
            .event_batches
            .iter()
            .take(max.saturating_sub(out.len()))
        {
            let (key, value) = item.map_err(io_error("read events"))?;
            let first = be_u64("event_batches", &key)?;
            let span = match events::unbatch(&key, &value)?.pop() {
                Some((last, event)) => {
                    let event: Event = decode("event_batches", &last.to_be_bytes(), event)?;
                    EventSpan {
                        first,
                        last,
                        last_at: event.at,
                    }
                }
                // An empty batch (never written so) holds nothing to keep.
                None => EventSpan {
                    first,
                    last: first,
                    last_at: 0,
                },
            };
            if span.last_at > by {
                break;
            }
            out.push(span);
        }
        Ok(out)
    }

    fn parked(
        &self,
        carrier: &str,
        class: Class,
        after: MessageId,
        max: usize,
    ) -> Result<Vec<Parked>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        let Some(first) = after.0.checked_add(1) else {
            return Ok(out);
        };
        let prefix = parked_prefix(carrier, class)?;
        let mut start = prefix.clone();
        start.extend_from_slice(&first.to_be_bytes());
        let mut end = prefix.clone();
        end.extend_from_slice(&u64::MAX.to_be_bytes());
        for item in self.parked.range(start..=end).take(max) {
            let (key, value) = item.map_err(io_error("read parked messages"))?;
            let id = be_u64("parked", key.get(prefix.len()..).unwrap_or_default())?;
            out.push(Parked {
                carrier: carrier.to_owned(),
                class,
                id: MessageId(id),
                expires_at: be_u64("parked", &value)?,
            });
        }
        Ok(out)
    }

    fn parked_due(&self, cutoff: u64, max: usize) -> Result<Vec<Parked>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        for item in self.parked_due.range(..cutoff.to_be_bytes()).take(max) {
            let (key, value) = item.map_err(io_error("read parked messages"))?;
            out.push(parked_from_due(&key, &value)?);
        }
        Ok(out)
    }

    fn clear_parked(&self) -> Result<(), StoreError> {
        self.write_group()?;
        self.parked.clear().map_err(io_error("clear parked"))?;
        self.parked_due.clear().map_err(io_error("clear parked"))
    }

    fn client_ref(&self, client_ref: &str) -> Result<Option<ClientRefRecord>, StoreError> {
        self.get(CLIENT_REFS, "client_refs", client_ref.as_bytes())
    }

    fn client_refs_before(
        &self,
        cutoff: u64,
        max: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        for item in self.client_ref_ages.range(..cutoff.to_be_bytes()).take(max) {
            let (key, _) = item.map_err(io_error("read client reference ages"))?;
            let (at, name) = key.split_at(8.min(key.len()));
            let accepted_at = be_u64("client_ref_ages", at)?;
            out.push((String::from_utf8_lossy(name).into_owned(), accepted_at));
        }
        Ok(out)
    }

    fn segment_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<SegmentRef>, StoreError> {
        self.get(
            CARRIER_IDS,
            "carrier_ids",
            &carrier_key(carrier, carrier_id)?,
        )
    }

    fn unmatched_by_carrier_id(
        &self,
        carrier: &str,
        carrier_id: &str,
    ) -> Result<Option<(u64, UnmatchedReceipt)>, StoreError> {
        let key = carrier_key(carrier, carrier_id)?;
        let Some(seq) = self.read(UNMATCHED_IDS, &key)? else {
            return Ok(None);
        };
        let seq = be_u64("unmatched_ids", &seq)?;
        Ok(self
            .get(UNMATCHED, "unmatched", &seq.to_be_bytes())?
            .map(|r| (seq, r)))
    }

    fn unmatched_before(
        &self,
        cutoff: u64,
        max: usize,
    ) -> Result<Vec<(u64, UnmatchedReceipt)>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        for item in self.unmatched.iter() {
            if out.len() >= max {
                break;
            }
            let (key, value) = item.map_err(io_error("read unmatched receipts"))?;
            let receipt: UnmatchedReceipt = decode("unmatched", &key, &value)?;
            // Sequence order is arrival order, so the first young one ends the sweep.
            if receipt.received_at >= cutoff {
                break;
            }
            out.push((be_u64("unmatched", &key)?, receipt));
        }
        Ok(out)
    }

    fn unmatched_count(&self) -> Result<usize, StoreError> {
        self.write_group()?;
        Ok(self.unmatched.len())
    }

    fn events_since(&self, cursor: u64, max: usize) -> Result<Vec<(u64, Event)>, StoreError> {
        self.write_group()?;
        let mut out = Vec::new();
        let Some(from) = cursor.checked_add(1) else {
            return Ok(out);
        };
        // Those written one a key (before batches), then the batches from the one that
        // holds `from` (the last that begins at or before it).
        for item in self.events.range(from.to_be_bytes()..).take(max) {
            let (key, value) = item.map_err(io_error("read events"))?;
            out.push((be_u64("events", &key)?, decode("events", &key, &value)?));
        }
        let start = match self.event_batches.range(..=from.to_be_bytes()).next_back() {
            Some(item) => item.map_err(io_error("read events"))?.0,
            None => sled::IVec::from(&from.to_be_bytes()),
        };
        let mut batched = Vec::new();
        'batches: for item in self.event_batches.range(start..) {
            let (key, value) = item.map_err(io_error("read events"))?;
            for (seq, event) in events::unbatch(&key, &value)? {
                if seq < from {
                    continue;
                }
                if batched.len() >= max {
                    break 'batches;
                }
                batched.push((seq, decode("event_batches", &seq.to_be_bytes(), event)?));
            }
        }
        out.extend(batched);
        out.sort_by_key(|(seq, _)| *seq);
        out.truncate(max);
        Ok(out)
    }

    fn first_event_seq(&self) -> Result<u64, StoreError> {
        self.write_group()?;
        let first = |tree: &sled::Tree, name: &'static str| -> Result<Option<u64>, StoreError> {
            match tree.first().map_err(io_error("read events"))? {
                Some((key, _)) => be_u64(name, &key).map(Some),
                None => Ok(None),
            }
        };
        // Those written one a key (before batches) are older than every batch.
        Ok(match first(&self.events, "events")? {
            Some(seq) => seq,
            None => first(&self.event_batches, "event_batches")?.unwrap_or(0),
        })
    }

    fn last_event_seq(&self) -> Result<u64, StoreError> {
        self.write_group()?;
        let single = match self.events.last().map_err(io_error("read events"))? {
            Some((key, _)) => be_u64("events", &key)?,
            None => 0,
        };
        let batched = match self.event_batches.last().map_err(io_error("read events"))? {
            Some((key, value)) => events::unbatch(&key, &value)?
                .last()
                .map_or(0, |(seq, _)| *seq),
            None => 0,
        };
        Ok(single.max(batched))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn record(id: u64, state: State) -> MessageRecord {
        MessageRecord {
            id: MessageId(id),
            to: Msisdn::parse_e164("819012345678").unwrap(),
            from: None,
            text: "hello".into(),
            masked: None,
            class: Class::Otp,
            client_ref: None,
            registered_delivery: true,
            receipts: RegisteredDelivery::Final,
            route: Route {
                carriers: vec!["docomo".into()],
                kind: RouteKind::Domestic,
            },
            carrier: 0,
            plan: SplitPlan {
                encoding: TextEncoding::Gsm7,
                method: LongMessage::Udh8,
                reference: 1,
            },
            segments: vec![SegmentRecord::pending()],
            state,
            detail: None,
            accepted_at: 1,
            expires_at: 2,
            updated_at: 1,
            owner: None,
        }
    }

    /// A message stored before owners were recorded (record version 1, no `owner` field)
    /// reads back without an owner; one written now keeps its owner.
    #[test]
    fn a_message_of_record_version_1_reads_back_without_an_owner() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let old = record(5, State::Queued);
        // Version 1 was the same fields without the trailing `owner` (postcard: one 0 byte).
        let mut v1 = encode("message", &old).unwrap();
        assert_eq!(v1.pop(), Some(0));
        v1[0] = MESSAGE_VERSION_1;
        store.open.insert(5u64.to_be_bytes(), v1).unwrap();
        assert_eq!(store.message(MessageId(5)).unwrap(), Some(old.clone()));
        assert_eq!(store.open_messages().unwrap(), vec![old.clone()]);
        let owned = MessageRecord {
            id: MessageId(6),
            owner: Some("shop".into()),
            ..old
        };
        store.apply(vec![Op::Message(owned.clone())]).unwrap();
        // Read from sled itself: the turn's group first goes there.
        store.end_group().unwrap();
        let stored = store.open.get(6u64.to_be_bytes()).unwrap().unwrap();
        assert_eq!(stored[0], MESSAGE_VERSION);
        assert_eq!(store.message(MessageId(6)).unwrap(), Some(owned));
    }

    /// A crash in the middle of a step: its journal entry is on disk with only the first of
    /// its writes. The next open finishes the step.
    #[test]
    fn parked_listings_read_in_queue_order_and_by_validity_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let parked = |carrier: &str, class, id, expires_at| Parked {
            carrier: carrier.into(),
            class,
            id: MessageId(id),
            expires_at,
        };
        let listed = [
            parked("docomo", Class::Bulk, 7, 300),
            parked("docomo", Class::Bulk, 3, 900),
            parked("docomo", Class::Otp, 5, 100),
            // A name that is a prefix of the other must not run into its keys.
            parked("doc", Class::Bulk, 4, 200),
            parked("docomo", Class::Bulk, 9, 500),
        ];
        {
            let store = SledStore::open(dir.path()).unwrap();
            store
                .apply(listed.iter().cloned().map(Op::Park).collect())
                .unwrap();
            store
                .apply(vec![Op::Unpark(parked("docomo", Class::Bulk, 9, 500))])
                .unwrap();
            store.commit().wait_blocking().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        let bulk = |after, max| {
            store
                .parked("docomo", Class::Bulk, MessageId(after), max)
                .unwrap()
        };
        let ids = |v: Vec<Parked>| {
            v.into_iter()
                .map(|p| (p.id.0, p.expires_at))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(bulk(0, 10)), vec![(3, 900), (7, 300)]);
        assert_eq!(ids(bulk(3, 10)), vec![(7, 300)]);
        assert_eq!(ids(bulk(0, 1)), vec![(3, 900)]);
        assert_eq!(ids(bulk(u64::MAX, 10)), vec![]);
        assert_eq!(
            ids(store.parked("doc", Class::Bulk, MessageId(0), 10).unwrap()),
            vec![(4, 200)]
        );
        // By validity: strictly before the cutoff, soonest first, the queue named.
        assert_eq!(
            store.parked_due(300, 10).unwrap(),
            vec![listed[2].clone(), listed[3].clone()]
        );
        assert_eq!(store.parked_due(301, 10).unwrap().len(), 3);
        store.clear_parked().unwrap();
        assert!(bulk(0, 10).is_empty());
        assert!(store.parked_due(u64::MAX, 10).unwrap().is_empty());
    }

    fn event(seq: u64) -> Op {
        Op::Event {
            seq,
            event: Event {
                at: seq,
                kind: EventKind::UnmatchedReceipt {
                    carrier: "docomo".into(),
                    carrier_id: format!("x{seq}"),
                    state: 2,
                },
            },
        }
    }

    /// The store tells its hook of the newest event once a flush has made it durable:
    /// before the commits that waited for that flush are answered, also for a group no
    /// commit waits for, and never before its group is written.
    #[test]
    fn events_are_told_durable_only_after_the_flush_that_follows_their_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let (tx, told) = mpsc::channel();
        let tx = Mutex::new(tx);
        store.on_durable(Box::new(move |seq| {
            let _ = tx.lock().send(seq);
        }));
        store.apply(vec![event(1), event(2)]).unwrap();
        store.apply(vec![event(3)]).unwrap();
        let wait = store.commit_later();
        assert!(told.try_recv().is_err(), "the group is not even written");
        store.end_group().unwrap();
        wait.wait_blocking().unwrap();
        // Told once, with the group's newest, before the commit it flushed for is answered.
        assert_eq!(told.try_recv(), Ok(3));
        assert!(told.try_recv().is_err());
        // A group of events with no commit waiting is flushed and told as well.
        store.apply(vec![event(4)]).unwrap();
        store.end_group().unwrap();
        assert_eq!(told.recv_timeout(std::time::Duration::from_secs(30)), Ok(4));
        // A group without events tells nothing: the next word is the next event's.
        store
            .apply(vec![Op::Message(record(9, State::Queued))])
            .unwrap();
        let wait = store.commit_later();
        store.end_group().unwrap();
        wait.wait_blocking().unwrap();
        store.apply(vec![event(5)]).unwrap();
        store.end_group().unwrap();
        assert_eq!(told.recv_timeout(std::time::Duration::from_secs(30)), Ok(5));
    }

    /// The steps of one turn wait in the group, and every read sees them: point reads from
    /// the group itself, range reads after it was written.
    #[test]
    fn the_steps_of_a_group_are_read_back_before_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let queued = record(3, State::Queued);
        let segment = SegmentRef {
            message: MessageId(3),
            segment: 1,
        };
        store
            .apply(vec![
                Op::Message(queued.clone()),
                Op::ClientRef {
                    client_ref: "order-1".into(),
                    record: ClientRefRecord {
                        message: MessageId(3),
                        accepted_at: 1,
                    },
                },
                event(1),
            ])
            .unwrap();
        let submitted = MessageRecord {
            state: State::Submitted,
            updated_at: 2,
            ..queued.clone()
        };
        store
            .apply(vec![
                Op::Message(submitted.clone()),
                Op::CarrierId {
                    carrier: "docomo".into(),
                    carrier_id: "abc".into(),
                    segment,
                },
                event(2),
            ])
            .unwrap();
        assert!(
            store.open.get(3u64.to_be_bytes()).unwrap().is_none(),
            "the group is not written yet"
        );
        assert_eq!(store.message(MessageId(3)).unwrap(), Some(submitted));
        assert_eq!(
            store.client_ref("order-1").unwrap().map(|r| r.message),
            Some(MessageId(3))
        );
        assert_eq!(
            store.segment_by_carrier_id("docomo", "abc").unwrap(),
            Some(segment)
        );
        assert_eq!(store.segment_by_carrier_id("docomo", "abd").unwrap(), None);
        // Final: removed from `open`, put in `messages`, both in the same group.
        let delivered = MessageRecord {
            state: State::Delivered,
            updated_at: 3,
            ..queued
        };
        store
            .apply(vec![Op::Message(delivered.clone()), event(3)])
            .unwrap();
        assert_eq!(
            store.message(MessageId(3)).unwrap(),
            Some(delivered.clone())
        );
        // A range read writes the group first.
        assert_eq!(store.open_messages().unwrap(), vec![]);
        assert!(store.open.get(3u64.to_be_bytes()).unwrap().is_none());
        assert!(store.messages.get(3u64.to_be_bytes()).unwrap().is_some());
        assert_eq!(store.last_event_seq().unwrap(), 3);
        assert_eq!(store.events_since(0, 10).unwrap().len(), 3);
        assert_eq!(store.message(MessageId(3)).unwrap(), Some(delivered));
    }

    /// A commit made for the end of the turn waits for it: until the group is written,
    /// nothing registered it with the committer.
    #[test]
    fn a_commit_made_later_completes_once_its_group_is_written_and_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .apply(vec![Op::Message(record(4, State::Queued))])
            .unwrap();
        let mut later = store.commit_later();
        assert!(later.try_done().is_none());
        let flushes = store.flushes();
        store.end_group().unwrap();
        later.wait_blocking().unwrap();
        assert!(store.flushes() > flushes, "a flush came after the group");
        assert!(store.open.get(4u64.to_be_bytes()).unwrap().is_some());
        // A turn that wrote nothing still completes its commits at its end.
        let mut idle = store.commit_later();
        assert!(idle.try_done().is_none());
        store.end_group().unwrap();
        idle.wait_blocking().unwrap();
    }

    /// A directory of the layout before event batches opens, is marked with this layout
    /// (so that a build of the old one refuses it rather than miss the new events), and
    /// keeps its events; an unknown layout is refused.
    #[test]
    fn the_layout_before_event_batches_is_upgraded_in_place_and_others_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let Op::Event { event, .. } = event(1) else {
                unreachable!()
            };
            store
                .events
                .insert(1u64.to_be_bytes(), encode("event", &event).unwrap())
                .unwrap();
            store
                .db
                .open_tree("meta")
                .unwrap()
                .insert("schema", &[3])
                .unwrap();
            store.commit().wait_blocking().unwrap();
        }
        {
            let store = SledStore::open(dir.path()).unwrap();
            let meta = store.db.open_tree("meta").unwrap();
            assert_eq!(
                meta.get("schema").unwrap().unwrap().as_ref(),
                &[SCHEMA_VERSION]
            );
            assert_eq!(store.last_event_seq().unwrap(), 1);
            meta.insert("schema", &[2]).unwrap();
            store.commit().wait_blocking().unwrap();
        }
        assert!(matches!(
            SledStore::open(dir.path()),
            Err(StoreError::Schema { found: 2 })
        ));
    }

    /// After a group could not be written, sled lacks steps the outbox took as applied:
    /// every call fails with the group's error, point reads too, and `failed` says so.
    #[test]
    fn after_a_failed_group_every_call_fails_reads_included() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .apply(vec![Op::Message(record(7, State::Queued))])
            .unwrap();
        assert!(store.failed().is_none());
        store
            .group
            .borrow_mut()
            .fail(&StoreError::Full { op: "write" }, Vec::new());
        assert!(matches!(store.failed(), Some(StoreError::Full { .. })));
        assert!(store.message(MessageId(7)).is_err());
        assert!(store.client_ref("x").is_err());
        assert!(store.segment_by_carrier_id("docomo", "abc").is_err());
        assert!(store.events_since(0, 10).is_err());
        assert!(store
            .apply(vec![Op::Message(record(8, State::Queued))])
            .is_err());
        assert!(store.commit().wait_blocking().is_err());
        assert!(store.commit_later().wait_blocking().is_err());
    }

    /// A store dropped in the middle of a turn writes its group: nothing applied is lost.
    #[test]
    fn a_store_dropped_in_the_middle_of_a_group_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            store
                .apply(vec![Op::Message(record(5, State::Queued)), event(1)])
                .unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store.message(MessageId(5)).unwrap(),
            Some(record(5, State::Queued))
        );
        assert_eq!(store.last_event_seq().unwrap(), 1);
    }

    /// A crash while a group of two steps was being written, both writing one key: the
    /// journal holds the whole group, and its replay leaves the later step's value.
    #[test]
    fn a_group_cut_short_by_a_crash_is_replayed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let submitted = MessageRecord {
            state: State::Submitted,
            ..record(6, State::Queued)
        };
        {
            let store = SledStore::open(dir.path()).unwrap();
            let mut writes =
                SledStore::writes(vec![Op::Message(record(6, State::Queued)), event(1)]).unwrap();
            writes
                .extend(SledStore::writes(vec![Op::Message(submitted.clone()), event(2)]).unwrap());
            store
                .journals
                .insert(LAST_STEP, encode("journal", &writes).unwrap())
                .unwrap();
            // Cut after the first step's writes: the second step's value of the key is lost.
            write_all(&store.trees(), &writes[..2]).unwrap();
            store.commit().wait_blocking().unwrap();
            assert_eq!(store.last_event_seq().unwrap(), 1);
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store.message(MessageId(6)).unwrap(),
            Some(submitted.clone())
        );
        assert_eq!(store.last_event_seq().unwrap(), 2);
        assert_eq!(store.open_messages().unwrap(), vec![submitted]);
    }

    #[test]
    fn a_step_cut_short_by_a_crash_is_finished_from_the_journal_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let writes = SledStore::writes(vec![
                Op::Message(record(3, State::Queued)),
                Op::Event {
                    seq: 1,
                    event: Event {
                        at: 5,
                        kind: EventKind::UnmatchedReceipt {
                            carrier: "docomo".into(),
                            carrier_id: "x".into(),
                            state: 2,
                        },
                    },
                },
            ])
            .unwrap();
            assert_eq!(writes.len(), 2);
            store
                .journals
                .insert(LAST_STEP, encode("journal", &writes).unwrap())
                .unwrap();
            write_all(&store.trees(), &writes[..1]).unwrap();
            store.commit().wait_blocking().unwrap();
            assert_eq!(
                store.last_event_seq().unwrap(),
                0,
                "the event was not written"
            );
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store.message(MessageId(3)).unwrap(),
            Some(record(3, State::Queued))
        );
        assert_eq!(
            store.last_event_seq().unwrap(),
            1,
            "the replay wrote the event"
        );
        // A second open replays the same step again, harmlessly: it is still the newest.
        drop(store);
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.last_event_seq().unwrap(), 1);
        assert_eq!(
            store.message(MessageId(3)).unwrap(),
            Some(record(3, State::Queued))
        );
        assert_eq!(
            store.open_messages().unwrap(),
            vec![record(3, State::Queued)]
        );
    }

    #[test]
    fn a_final_message_leaves_the_open_tree_and_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .apply(vec![Op::Message(record(4, State::Queued))])
            .unwrap();
        assert_eq!(store.open_messages().unwrap().len(), 1);
        store
            .apply(vec![Op::Message(record(4, State::Delivered))])
            .unwrap();
        assert!(store.open_messages().unwrap().is_empty());
        assert_eq!(
            store.message(MessageId(4)).unwrap(),
            Some(record(4, State::Delivered))
        );
        assert_eq!(
            store.journals.len(),
            1,
            "the journal holds one step, the last"
        );
    }

    #[test]
    fn a_step_is_written_and_read_back_typed_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let ops = vec![
                Op::Message(record(7, State::Queued)),
                Op::Message(record(8, State::Delivered)),
                Op::ClientRef {
                    client_ref: "ref-1".into(),
                    record: ClientRefRecord {
                        message: MessageId(7),
                        accepted_at: 100,
                    },
                },
                Op::CarrierId {
                    carrier: "docomo".into(),
                    carrier_id: "abc".into(),
                    segment: SegmentRef {
                        message: MessageId(7),
                        segment: 1,
                    },
                },
                Op::Event {
                    seq: 1,
                    event: Event {
                        at: 5,
                        kind: EventKind::UnmatchedReceipt {
                            carrier: "docomo".into(),
                            carrier_id: "x".into(),
                            state: 2,
                        },
                    },
                },
            ];
            store.apply(ops).unwrap();
            store.commit().wait_blocking().unwrap();
            assert!(store.flushes() >= 1);
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(
            store.message(MessageId(7)).unwrap(),
            Some(record(7, State::Queued))
        );
        let open: Vec<_> = store
            .open_messages()
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(open, vec![MessageId(7)], "a final message is not open");
        assert_eq!(
            store.client_ref("ref-1").unwrap().map(|r| r.message),
            Some(MessageId(7))
        );
        assert_eq!(
            store.segment_by_carrier_id("docomo", "abc").unwrap(),
            Some(SegmentRef {
                message: MessageId(7),
                segment: 1
            })
        );
        // The carrier name is length-prefixed: "docom" + "oabc" is another key.
        assert_eq!(store.segment_by_carrier_id("docom", "oabc").unwrap(), None);
        assert_eq!(store.last_event_seq().unwrap(), 1);
    }

    #[test]
    fn ids_grow_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = {
            let store = SledStore::open(dir.path()).unwrap();
            let a = store.generate_id().unwrap();
            let b = store.generate_id().unwrap();
            assert!(b > a);
            b
        };
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.generate_id().unwrap() > first);
        assert_eq!(MessageId(4711).to_string(), "4711");
        assert_eq!("4711".parse::<MessageId>(), Ok(MessageId(4711)));
    }

    #[test]
    fn an_unknown_record_version_is_refused_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .messages
            .insert(9u64.to_be_bytes(), vec![0x7f, 0])
            .unwrap();
        assert_eq!(
            store.message(MessageId(9)),
            Err(StoreError::Version {
                tree: "messages",
                key: "9".into(),
                found: 0x7f
            })
        );
    }

    #[test]
    fn an_unusable_directory_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = SledStore::open(&file).err().unwrap();
        assert!(matches!(err, StoreError::Open { ref path, .. } if path == &file));
    }

    /// A data directory written before batches keeps its events one a key; the events
    /// written since are batches, one a group. Read from any cursor, with any limit, they
    /// are one log in order, also after a restart.
    #[test]
    fn events_read_in_order_across_the_old_keys_and_the_batches() {
        let dir = tempfile::tempdir().unwrap();
        let expected = |cursor: u64, max: usize| -> Vec<u64> {
            (cursor.saturating_add(1)..=8).take(max).collect()
        };
        {
            let store = SledStore::open(dir.path()).unwrap();
            for seq in 1..=3u64 {
                let Op::Event { event, .. } = event(seq) else {
                    unreachable!()
                };
                store
                    .events
                    .insert(seq.to_be_bytes(), encode("event", &event).unwrap())
                    .unwrap();
            }
            store.apply(vec![event(4)]).unwrap();
            store.apply(vec![event(5)]).unwrap();
            store.end_group().unwrap();
            store.apply(vec![event(6)]).unwrap();
            store
                .apply(vec![
                    Op::Message(record(9, State::Queued)),
                    event(7),
                    event(8),
                ])
                .unwrap();
            store.commit().wait_blocking().unwrap();
            assert_eq!(store.event_batches.len(), 2, "one batch a group");
            assert_eq!(store.events.len(), 3, "the old keys stay as they are");
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.last_event_seq().unwrap(), 8);
        for cursor in 0..=9 {
            for max in 1..=9 {
                let got: Vec<u64> = store
                    .events_since(cursor, max)
                    .unwrap()
                    .into_iter()
                    .map(|(seq, _)| seq)
                    .collect();
                assert_eq!(got, expected(cursor, max), "from {cursor}, up to {max}");
            }
        }
        let Op::Event { event: seventh, .. } = event(7) else {
            unreachable!()
        };
        assert_eq!(store.events_since(6, 1).unwrap(), vec![(7, seventh)]);
    }

    #[test]
    fn events_read_from_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let event = |at| Event {
            at,
            kind: EventKind::MobileOriginated {
                carrier: "kddi".into(),
                from: "81901".into(),
                to: "0005".into(),
                text: "STOP".into(),
            },
        };
        let ops = (1..=5).map(|seq| Op::Event {
            seq,
            event: event(seq * 10),
        });
        store.apply(ops.collect()).unwrap();
        let seqs = |cursor, max| -> Vec<u64> {
            store
                .events_since(cursor, max)
                .unwrap()
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        assert_eq!(seqs(0, 2), vec![1, 2]);
        assert_eq!(seqs(2, 10), vec![3, 4, 5]);
        assert_eq!(seqs(5, 10), Vec::<u64>::new());
        assert_eq!(seqs(u64::MAX, 10), Vec::<u64>::new());
        assert_eq!(store.events_since(3, 1).unwrap()[0].1, event(40));
    }

    #[test]
    fn unmatched_receipts_are_found_by_any_candidate_and_forgotten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let receipt = |at| UnmatchedReceipt {
            carrier: "docomo".into(),
            candidates: vec!["1A".into(), "26".into()],
            state: 2,
            network_error: None,
            received_at: at,
        };
        store
            .apply(vec![Op::Unmatched {
                seq: 3,
                receipt: receipt(100),
            }])
            .unwrap();
        assert_eq!(
            store.unmatched_by_carrier_id("docomo", "26").unwrap(),
            Some((3, receipt(100)))
        );
        assert_eq!(store.unmatched_count().unwrap(), 1);
        assert_eq!(store.unmatched_before(100, 10).unwrap(), vec![]);
        assert_eq!(
            store.unmatched_before(101, 10).unwrap(),
            vec![(3, receipt(100))]
        );
        store
            .apply(vec![Op::ForgetUnmatched {
                seq: 3,
                carrier: "docomo".into(),
                forms: vec!["1A".into(), "26".into()],
            }])
            .unwrap();
        assert_eq!(store.unmatched_by_carrier_id("docomo", "1A").unwrap(), None);
        assert_eq!(store.unmatched_count().unwrap(), 0);
    }

    /// A flusher that records, for the tests, what each flush covered.
    struct Probe {
        /// Writes made so far (each writer bumps it after writing, before registering).
        writes: Arc<AtomicU64>,
        /// The `writes` value seen at the start of the last finished flush.
        covered: Arc<AtomicU64>,
        /// Flush calls so far.
        calls: AtomicU64,
        /// The first flush waits until this many writers have registered.
        hold_first_until: Mutex<mpsc::Receiver<()>>,
        holding: usize,
        /// Which flush calls fail (1-based).
        fail_call: Option<u64>,
    }

    impl Flush for Probe {
        fn flush(&self) -> Result<(), StoreError> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let started_at = self.writes.load(Ordering::SeqCst);
            if call == 1 {
                let rx = self.hold_first_until.lock();
                for _ in 0..self.holding {
                    let _ = rx.recv();
                }
            }
            if self.fail_call == Some(call) {
                return Err(StoreError::Flush {
                    reason: "No space left on device".into(),
                });
            }
            self.covered.fetch_max(started_at, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn group_commit_many_writers_few_flushes_each_after_its_write() {
        const WRITERS: usize = 64;
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let writes = Arc::new(AtomicU64::new(0));
        let covered = Arc::new(AtomicU64::new(0));
        let (registered_tx, registered_rx) = mpsc::channel();
        let committer = Arc::new(
            Committer::start(Probe {
                writes: Arc::clone(&writes),
                covered: Arc::clone(&covered),
                calls: AtomicU64::new(0),
                hold_first_until: Mutex::new(registered_rx),
                holding: WRITERS,
                fail_call: None,
            })
            .unwrap(),
        );
        let threads: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (db, writes, covered, committer, registered) = (
                    db.clone(),
                    Arc::clone(&writes),
                    Arc::clone(&covered),
                    Arc::clone(&committer),
                    registered_tx.clone(),
                );
                std::thread::spawn(move || {
                    db.insert(i.to_be_bytes(), b"v").unwrap();
                    let mine = writes.fetch_add(1, Ordering::SeqCst) + 1;
                    let wait = committer.commit();
                    registered.send(()).unwrap();
                    wait.wait_blocking().unwrap();
                    // Completed only by a flush that started after this write.
                    assert!(covered.load(Ordering::SeqCst) >= mine);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let flushes = committer.flushes();
        assert!(
            (1..=2).contains(&flushes),
            "{WRITERS} writers took {flushes} flushes"
        );
    }

    #[test]
    fn a_full_disk_is_its_own_error_naming_what_to_do() {
        let full = || sled::Error::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        let e = io_error("write the journal")(full());
        assert_eq!(
            e,
            StoreError::Full {
                op: "write the journal"
            }
        );
        assert!(e.is_full());
        let text = e.to_string();
        assert!(
            text.contains("disk of the data directory is full") && text.contains("restart"),
            "{text}"
        );
        // Other I/O errors stay what they were.
        let other = io_error("read")(sled::Error::Io(std::io::Error::from(
            std::io::ErrorKind::PermissionDenied,
        )));
        assert!(matches!(other, StoreError::Io { op: "read", .. }));
        assert!(!other.is_full());
        // The flush tells a full disk by the same test.
        assert!(disk_full(&full()));
    }

    #[test]
    fn a_flush_error_reaches_every_waiter_of_that_flush() {
        let (tx, rx) = mpsc::channel();
        let committer = Committer::start(Probe {
            writes: Arc::new(AtomicU64::new(0)),
            covered: Arc::new(AtomicU64::new(0)),
            calls: AtomicU64::new(0),
            hold_first_until: Mutex::new(rx),
            holding: 0,
            fail_call: Some(1),
        })
        .unwrap();
        drop(tx);
        // Three waiters queued at once share the failing first flush.
        let waits: Vec<CommitWait> = {
            let mut queue = committer.shared.queue.lock();
            (0..3)
                .map(|_| {
                    let (tx, rx) = oneshot::channel();
                    queue.waiters.push(tx);
                    CommitWait(rx)
                })
                .collect()
        };
        committer.shared.wake.notify_one();
        for wait in waits {
            assert_eq!(
                wait.wait_blocking(),
                Err(StoreError::Flush {
                    reason: "No space left on device".into()
                })
            );
        }
        assert_eq!(committer.commit().wait_blocking(), Ok(()));
        assert_eq!(committer.flushes(), 2);
    }

    #[test]
    fn waiters_left_at_drop_get_a_last_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let committer = Committer::start(db).unwrap();
        let wait = committer.commit();
        let shared = Arc::clone(&committer.shared);
        drop(committer);
        assert_eq!(wait.wait_blocking(), Ok(()));
        assert!(shared.queue.lock().stopping);
    }
}
