//! The wire protocol (docs/api.md): line framing with a maximum length, requests
//! (`{"id": …, "op": "…", …fields}`) parsed into typed operations, error codes, and the
//! JSON of answers, events and close notices, shared by the server and the Rust client.
//! Nothing here touches a socket.

use crate::verify::template::{Channel, Locale};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The protocol version `hello` must name.
pub const PROTOCOL_VERSION: u32 = 1;

/// The operations a token can be granted (`hello` and `ping` are always allowed).
pub const OPERATIONS: &[&str] = &[
    "message.submit",
    "message.status",
    "events.subscribe",
    "binds.status",
    "verify.start",
    "verify.check",
    "verify.resend",
    "verify.cancel",
    "verify.status",
];

/// What went wrong, as a client can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The line is not JSON.
    InvalidJson,
    /// JSON, but not a request: no `id`, no `op`, a field missing, unknown or mistyped.
    InvalidRequest,
    /// `op` names no operation.
    UnknownOp,
    /// `hello` named another protocol version.
    UnsupportedVersion,
    /// No successful `hello` yet, or its token is not known.
    Unauthorized,
    /// The token may not use this operation.
    Forbidden,
    /// The token's request rate is used up; try again in a moment.
    RateLimited,
    /// The destination is not a phone number.
    InvalidNumber,
    /// No route serves the number.
    Unroutable,
    /// The text cannot go as asked (a character, its length, the encoding asked for).
    Unfit,
    /// The client reference is empty or too long.
    InvalidClientRef,
    /// A validity that is zero or not a duration.
    InvalidValidity,
    /// The outbox holds its maximum of unfinished messages; try again later.
    QueueFull,
    /// No such message (for this token's mode).
    NotFound,
    /// A sandbox token, and the gateway has no sandbox carrier.
    NoSandbox,
    /// The gateway is stopping.
    ShuttingDown,
    /// The gateway's storage failed.
    Storage,
    /// A request line longer than the maximum: the connection is closed.
    TooLarge,
    /// No successful `hello` within the deadline: the connection is closed.
    HelloTimeout,
    /// No request for the idle timeout: the connection is closed.
    IdleTimeout,
    /// A subscriber that fell too far behind: the connection is closed; subscribe again
    /// from the last cursor received.
    SlowSubscriber,
    /// The gateway serves its maximum of connections.
    TooManyConnections,
    /// Verification is off on this gateway (`verify.enabled = false`).
    Unavailable,
    /// Too many wrong codes for this number: no code is sent to it until the lock ends
    /// (`retry_after_ms`).
    Locked,
    /// This verification's last code went out moments ago: resend after `retry_after_ms`.
    Cooldown,
    /// This verification has been sent its maximum of codes: start a new one.
    MaxSends,
    /// The number has had its codes for this window: try after `retry_after_ms`.
    SendCap,
    /// A send budget (all numbers, or a prefix's) is spent for this window: try after
    /// `retry_after_ms`; the operator should look at why.
    BudgetExhausted,
    /// Verification codes may not go to this destination (`verify.allowed_prefixes`).
    DestinationNotAllowed,
}

impl ErrorCode {
    /// Its wire name (`"invalid_json"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnknownOp => "unknown_op",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::Unroutable => "unroutable",
            ErrorCode::Unfit => "unfit",
            ErrorCode::InvalidClientRef => "invalid_client_ref",
            ErrorCode::InvalidValidity => "invalid_validity",
            ErrorCode::QueueFull => "queue_full",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NoSandbox => "no_sandbox",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Storage => "storage",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::HelloTimeout => "hello_timeout",
            ErrorCode::IdleTimeout => "idle_timeout",
            ErrorCode::SlowSubscriber => "slow_subscriber",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Locked => "locked",
            ErrorCode::Cooldown => "cooldown",
            ErrorCode::MaxSends => "max_sends",
            ErrorCode::SendCap => "send_cap",
            ErrorCode::BudgetExhausted => "budget_exhausted",
            ErrorCode::DestinationNotAllowed => "destination_not_allowed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with its code and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The code.
    pub code: ErrorCode,
    /// What happened and what to do.
    pub message: String,
    /// How long to wait before trying again (ms), when waiting helps (`locked`,
    /// `cooldown`, `send_cap`, `budget_exhausted`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    /// An error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same error, saying how long to wait before trying again.
    pub fn retry_after(mut self, ms: Option<u64>) -> ApiError {
        self.retry_after_ms = ms;
        self
    }
}

/// Splits the bytes read from a connection into lines of at most `max` bytes (the newline
/// and a `\r` before it not counted).
#[derive(Debug)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Bytes at the front already searched for a newline.
    scanned: usize,
    max: usize,
}

/// A line longer than the maximum (or that many bytes without a newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The maximum.
    pub max: usize,
}

impl LineBuffer {
    /// An empty buffer for lines of at most `max` bytes.
    pub fn new(max: usize) -> LineBuffer {
        LineBuffer {
            buf: Vec::new(),
            scanned: 0,
            max,
        }
    }

    /// Appends bytes read.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, `None` until one is complete, or [`TooLong`] as soon as the
    /// bytes without a newline exceed the maximum.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, TooLong> {
        let unscanned = self.buf.get(self.scanned..).unwrap_or_default();
        match unscanned.iter().position(|&b| b == b'\n') {
            Some(at) => {
                let end = self.scanned + at;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                self.scanned = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max {
                    return Err(TooLong { max: self.max });
                }
                Ok(Some(line))
            }
            None => {
                self.scanned = self.buf.len();
                // A `\r` may still be followed by its newline.
                let pending = self.buf.len() - usize::from(self.buf.last() == Some(&b'\r'));
                if pending > self.max {
                    Err(TooLong { max: self.max })
                } else {
                    Ok(None)
                }
            }
        }
    }
}

/// `hello`'s fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloParams {
    /// The protocol version the client speaks.
    pub version: u32,
    /// The token.
    pub token: secrecy::SecretString,
}

/// How the text is to be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncodingChoice {
    /// GSM 03.38 when every character fits, else UCS-2.
    #[default]
    Auto,
    /// GSM 03.38 only: a text with a character outside it is refused (`unfit`).
    Gsm7,
}

/// `message.submit`'s fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitParams {
    /// Destination in any common form (`+81 90-1234-5678`, `09012345678`).
    pub to: String,
    /// The text.
    pub text: String,
    /// Sender; absent: the carrier's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Encoding asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncodingChoice>,
    /// Validity as a duration (`"10m"`, `"24h"`); absent: the carrier's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<String>,
    /// Idempotency reference: the same one within 24 h returns the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ref: Option<String>,
    /// `otp`, `transactional` (default) or `bulk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Whether to ask for delivery receipts (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts: Option<bool>,
}

/// `message.status`'s fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusParams {
    /// The message id `message.submit` answered.
    pub message_id: String,
}

/// `events.subscribe`'s fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeParams {
    /// The last event's cursor already seen; 0 (the default) from the start.
    #[serde(default)]
    pub cursor: u64,
}

/// No fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// `verify.start`'s fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyStartParams {
    /// Destination in any common form (`+81 90-1234-5678`, `09012345678`).
    pub to: String,
    /// The purpose (`login` when absent): `login`, `signup`, `payment`,
    /// `contract_change`, `point_exchange`, or one the configuration adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The language of the text (`ja`, the default, or `en`; `ja-JP` and the like are
    /// taken).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "locale"
    )]
    pub locale: Option<Locale>,
    /// `sms` (a code to type, the default) or `sms_link` (a link to tap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// For `sms_link`: an `https://` URL with `{token}` once, where the token goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Digits of the code (4 to 10) instead of the purpose's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_length: Option<u8>,
    /// How long the code works (`"5m"`; 1 s to 10 min) instead of the purpose's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<String>,
}

impl VerifyStartParams {
    /// A code to `to` with the `login` purpose's defaults.
    pub fn new(to: impl Into<String>) -> VerifyStartParams {
        VerifyStartParams {
            to: to.into(),
            purpose: None,
            locale: None,
            channel: None,
            link: None,
            code_length: None,
            validity: None,
        }
    }
}

/// A locale by its language tag, with the tag named when it is not one.
fn locale<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Locale>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!("{text:?} is not a locale spoken here (ja or en)"))
    })
}

/// `verify.check`'s fields. Its `Debug` never shows the code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCheckParams {
    /// The id `verify.start` answered.
    pub verification_id: String,
    /// What the user typed (or the link's token).
    pub code: secrecy::SecretString,
}

/// The fields of `verify.resend`, `verify.cancel` and `verify.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyIdParams {
    /// The id `verify.start` answered.
    pub verification_id: String,
}

/// A parsed operation.
#[derive(Debug, Clone)]
pub enum Op {
    /// Opens the session.
    Hello(HelloParams),
    /// Liveness.
    Ping,
    /// Submit a message.
    MessageSubmit(SubmitParams),
    /// A message's state.
    MessageStatus(StatusParams),
    /// Follow the event log.
    EventsSubscribe(SubscribeParams),
    /// Carriers, binds and queue depth.
    BindsStatus,
    /// Start a verification (send a code).
    VerifyStart(VerifyStartParams),
    /// Check a code.
    VerifyCheck(VerifyCheckParams),
    /// Send a new code, voiding the old one.
    VerifyResend(VerifyIdParams),
    /// Cancel a verification.
    VerifyCancel(VerifyIdParams),
    /// A verification and its SMS's delivery.
    VerifyStatus(VerifyIdParams),
}

impl Op {
    /// Its wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Hello(_) => "hello",
            Op::Ping => "ping",
            Op::MessageSubmit(_) => "message.submit",
            Op::MessageStatus(_) => "message.status",
            Op::EventsSubscribe(_) => "events.subscribe",
            Op::BindsStatus => "binds.status",
            Op::VerifyStart(_) => "verify.start",
            Op::VerifyCheck(_) => "verify.check",
            Op::VerifyResend(_) => "verify.resend",
            Op::VerifyCancel(_) => "verify.cancel",
            Op::VerifyStatus(_) => "verify.status",
        }
    }
}

/// A request: its id (echoed in the answer) and its operation.
#[derive(Debug, Clone)]
pub struct Request {
    /// A string or a number chosen by the client.
    pub id: Value,
    /// The operation.
    pub op: Op,
}

/// A line that is not a valid request: the answer carries `id` (null when the line had
/// none) and the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// The request's id, or null.
    pub id: Value,
    /// What is wrong.
    pub error: ApiError,
}

/// Reads one request line.
pub fn parse_request(line: &[u8]) -> Result<Request, BadRequest> {
    let bad = |id: Value, code, message: String| BadRequest {
        id,
        error: ApiError::new(code, message),
    };
    let value: Value = serde_json::from_slice(line).map_err(|e| {
        bad(
            Value::Null,
            ErrorCode::InvalidJson,
            format!("not JSON: {e}"),
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(bad(
            Value::Null,
            ErrorCode::InvalidRequest,
            "a request is a JSON object: {\"id\": 1, \"op\": \"ping\"}".into(),
        ));
    };
    let id = match fields.remove("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id,
        Some(_) => {
            return Err(bad(
                Value::Null,
                ErrorCode::InvalidRequest,
                "field id: a string or a number".into(),
            ))
        }
        None => {
            return Err(bad(
                Value::Null,
                ErrorCode::InvalidRequest,
                "field id is missing: every request carries an id its answer repeats".into(),
            ))
        }
    };
    let op = match fields.remove("op") {
        Some(Value::String(op)) => op,
        _ => {
            return Err(bad(
                id,
                ErrorCode::InvalidRequest,
                "field op is missing or not a string".into(),
            ))
        }
    };
    let op = parse_op(&op, fields).map_err(|error| BadRequest {
        id: id.clone(),
        error,
    })?;
    Ok(Request { id, op })
}

/// The operation named `op` with these fields (a request's, less `id` and `op`); the
/// HTTPS API builds its operations here too, so both APIs read fields alike.
pub fn parse_op(op: &str, fields: Map<String, Value>) -> Result<Op, ApiError> {
    let fields = Value::Object(fields);
    Ok(match op {
        "hello" => Op::Hello(params(op, fields)?),
        "ping" => params::<NoParams>(op, fields).map(|_| Op::Ping)?,
        "message.submit" => Op::MessageSubmit(params(op, fields)?),
        "message.status" => Op::MessageStatus(params(op, fields)?),
        "events.subscribe" => Op::EventsSubscribe(params(op, fields)?),
        "binds.status" => params::<NoParams>(op, fields).map(|_| Op::BindsStatus)?,
        "verify.start" => Op::VerifyStart(params(op, fields)?),
        "verify.check" => Op::VerifyCheck(params(op, fields)?),
        "verify.resend" => Op::VerifyResend(params(op, fields)?),
        "verify.cancel" => Op::VerifyCancel(params(op, fields)?),
        "verify.status" => Op::VerifyStatus(params(op, fields)?),
        other => {
            return Err(ApiError::new(
                ErrorCode::UnknownOp,
                format!(
                    "unknown op {other:?} (hello, ping, {})",
                    OPERATIONS.join(", ")
                ),
            ))
        }
    })
}

/// An operation's fields, with serde's message prefixed by the field at fault.
fn params<T: serde::de::DeserializeOwned>(op: &str, fields: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(fields).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." {
            format!("{op}: {inner}")
        } else {
            format!("{op}: field {path}: {inner}")
        };
        ApiError::new(ErrorCode::InvalidRequest, message)
    })
}

/// One answer line: `{"id": …, "ok": true, "result": …}` or `{"id": …, "ok": false,
/// "error": {"code": …, "message": …}}`.
pub fn answer_line(id: &Value, result: Result<Value, ApiError>) -> String {
    let value = match result {
        Ok(result) => serde_json::json!({"id": id, "ok": true, "result": result}),
        Err(error) => serde_json::json!({"id": id, "ok": false, "error": error}),
    };
    value.to_string()
}

/// The last line before the server closes a connection: `{"close": {"code": …,
/// "message": …}}`.
pub fn close_line(error: &ApiError) -> String {
    serde_json::json!({ "close": error }).to_string()
}

/// `hello`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloResult {
    /// The protocol version.
    pub version: u32,
    /// `smsgate/VERSION`.
    pub server: String,
    /// The token's name.
    pub token: String,
    /// `live` or `sandbox`.
    pub mode: crate::config::TokenMode,
    /// What the token may use besides hello and ping.
    pub operations: Vec<String>,
    /// The longest request line taken.
    pub max_line: usize,
    /// Requests one connection may have in flight.
    pub max_in_flight: usize,
}

/// `message.submit`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResult {
    /// The message's id (the first message's for a repeated client_ref).
    pub message_id: String,
    /// Its state now.
    pub state: String,
    /// Whether the client_ref was seen before, so nothing was sent.
    pub duplicate: bool,
}

/// One segment in `message.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// 1-based.
    pub number: u8,
    /// Its state.
    pub state: String,
    /// The carrier's id, once submitted.
    pub carrier_id: Option<String>,
    /// Its submit_sm attempts.
    pub attempts: u32,
    /// Why it ended other than delivered.
    pub detail: Option<String>,
}

/// `message.status`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResult {
    /// Its id.
    pub message_id: String,
    /// Its state.
    pub state: String,
    /// Whether nothing more will happen to it.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Its class.
    pub class: String,
    /// Its destination (E.164 digits).
    pub to: String,
    /// Its client reference.
    pub client_ref: Option<String>,
    /// The carrier it is on.
    pub carrier: String,
    /// `domestic` or `international`.
    pub route_kind: String,
    /// submit_sm attempts so far.
    pub attempts: u32,
    /// Its segments.
    pub segments: Vec<SegmentInfo>,
    /// Why it ended as it did.
    pub detail: Option<String>,
    /// Accepted (unix ms).
    pub accepted_at: u64,
    /// Validity ends (unix ms).
    pub expires_at: u64,
    /// Last change (unix ms).
    pub updated_at: u64,
}

/// One bind in `binds.status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindInfo {
    /// Its index within the carrier.
    pub index: usize,
    /// `transmitter`, `receiver`, `transceiver`, or null when not bound.
    pub bound: Option<String>,
    /// Submits awaiting their response.
    pub in_flight: usize,
    /// Its submits per second now.
    pub rate: f64,
    /// Its window now.
    pub window: usize,
    /// The last error it met.
    pub last_error: Option<String>,
}

/// One carrier in `binds.status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierInfo {
    /// Its name.
    pub carrier: String,
    /// Whether its traffic fails over (no bind able to submit for its failover time).
    pub unavailable: bool,
    /// Its binds.
    pub binds: Vec<BindInfo>,
    /// Messages waiting for it, per class.
    pub queued: std::collections::BTreeMap<String, usize>,
}

/// `binds.status`'s result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindsResult {
    /// Every carrier.
    pub carriers: Vec<CarrierInfo>,
    /// Messages not yet final.
    pub open: usize,
    /// Receipts held unmatched.
    pub unmatched: usize,
}

/// The result of `verify.start` and `verify.resend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyStartResult {
    /// The verification's id (48 hex digits: a sequence number and 128 random bits): check, resend, cancel and read it
    /// with this.
    pub verification_id: String,
    /// `pending`: its code can be checked.
    pub status: String,
    /// The destination (E.164 digits).
    pub to: String,
    /// `sms` or `sms_link`.
    pub channel: String,
    /// Checks left.
    pub attempts_left: u32,
    /// Codes sent so far, this one included.
    pub sends: u32,
    /// When this code stops working (unix ms).
    pub expires_at: u64,
    /// When `verify.resend` is first allowed (unix ms).
    pub resend_allowed_at: u64,
    /// The SMS carrying the code (its `message.status` id).
    pub message_id: Option<String>,
}

/// `verify.check`'s result: the same fields whatever the outcome, and whether or not the
/// verification exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCheckResult {
    /// The verification id asked about.
    pub verification_id: String,
    /// `approved`, `wrong`, `max_attempts_reached`, `expired`, `locked` or `not_found`.
    pub status: String,
    /// For `wrong`: checks left (0: the next answers `max_attempts_reached`); else null.
    pub attempts_left: Option<u32>,
    /// For `locked`: how long until the number's lock ends (ms); else null.
    pub retry_after_ms: Option<u64>,
}

impl VerifyCheckResult {
    /// Whether the code was right.
    pub fn approved(&self) -> bool {
        self.status == "approved"
    }
}

/// `verify.cancel`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyCancelResult {
    /// The verification.
    pub verification_id: String,
    /// `canceled`.
    pub status: String,
}

/// `verify.status`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyStatusResult {
    /// The verification.
    pub verification_id: String,
    /// `pending`, `approved`, `canceled`, `max_attempts_reached`, `expired` or `failed`.
    pub status: String,
    /// Its purpose.
    pub purpose: String,
    /// `sms` or `sms_link`.
    pub channel: String,
    /// The destination (E.164 digits).
    pub to: String,
    /// Checks left.
    pub attempts_left: u32,
    /// Codes sent, the first included.
    pub sends: u32,
    /// When it was started (unix ms).
    pub created_at: u64,
    /// When its current code stops (or stopped) working (unix ms).
    pub expires_at: u64,
    /// When a resend is first allowed (unix ms).
    pub resend_allowed_at: u64,
    /// The SMS carrying the current code.
    pub message_id: Option<String>,
    /// Where that SMS stands: `pending`, `sent`, `delivered` or `undeliverable`; null
    /// until it has a state.
    pub delivery: Option<String>,
    /// Why it is undeliverable, when it is.
    pub delivery_detail: Option<String>,
}

/// `events.subscribe`'s result; the events follow as [`EventLine`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeResult {
    /// The cursor the stream starts after.
    pub cursor: u64,
    /// The newest event's cursor when the subscription began.
    pub last: u64,
    /// The oldest event's cursor the log keeps (0 while it is empty); a `cursor` below the
    /// one before it missed events that aged out (`outbox.events_retention`).
    #[serde(default)]
    pub first: u64,
}

/// An event as a subscriber gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// A message or one of its segments changed state (a receipt, a submit, the end).
    Message {
        /// The message.
        message_id: String,
        /// Its state after the change.
        state: String,
        /// Whether the message is final now.
        #[serde(rename = "final")]
        is_final: bool,
        /// The carrier it is on.
        carrier: String,
        /// The segment that changed, when the change is a segment's.
        segment: Option<u8>,
        /// That segment's new state.
        segment_state: Option<String>,
        /// Why: a status, a receipt state, a failover.
        detail: Option<String>,
    },
    /// A verification's outcome: approved, max_attempts_reached, expired (published by the
    /// sweeper when its code's time is over), canceled, failed.
    Verification {
        /// The verification.
        verification_id: String,
        /// The outcome.
        status: String,
        /// Its purpose.
        purpose: String,
    },
    /// A mobile-originated message.
    Mo {
        /// The carrier it came from.
        carrier: String,
        /// The handset.
        from: String,
        /// The number it was sent to.
        to: String,
        /// Its text.
        text: String,
    },
}

/// One event line: `{"sub": <the subscribe request's id>, "cursor": n, "at": ms,
/// "event": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// The id of the `events.subscribe` request.
    pub sub: Value,
    /// Its place in the log: subscribe with it to resume after this event.
    pub cursor: u64,
    /// When it happened (unix ms).
    pub at: u64,
    /// What happened.
    pub event: EventBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_on_newlines_with_crlf_allowed() {
        let mut b = LineBuffer::new(16);
        b.extend(b"{\"a\":1}\r\n{\"b\"");
        assert_eq!(b.next_line(), Ok(Some(b"{\"a\":1}".to_vec())));
        assert_eq!(b.next_line(), Ok(None));
        b.extend(b":2}\n");
        assert_eq!(b.next_line(), Ok(Some(b"{\"b\":2}".to_vec())));
        assert_eq!(b.next_line(), Ok(None));
    }

    #[test]
    fn a_line_over_the_maximum_is_refused_before_its_newline_arrives() {
        let mut b = LineBuffer::new(8);
        b.extend(b"12345678");
        assert_eq!(b.next_line(), Ok(None));
        b.extend(b"9");
        assert_eq!(b.next_line(), Err(TooLong { max: 8 }));
        let mut b = LineBuffer::new(8);
        b.extend(b"123456789\n");
        assert_eq!(b.next_line(), Err(TooLong { max: 8 }));
        let mut b = LineBuffer::new(8);
        b.extend(b"12345678\r\n");
        assert_eq!(b.next_line(), Ok(Some(b"12345678".to_vec())));
    }

    #[test]
    fn requests_parse_into_operations_with_their_id() {
        let r = parse_request(
            br#"{"id":"a1","op":"message.submit","to":"+819012345678","text":"hi","class":"otp"}"#,
        )
        .unwrap();
        assert_eq!(r.id, Value::from("a1"));
        let Op::MessageSubmit(p) = r.op else {
            panic!("not a submit: {:?}", r.op)
        };
        assert_eq!(
            (p.to.as_str(), p.class.as_deref()),
            ("+819012345678", Some("otp"))
        );
        let r = parse_request(br#"{"id":7,"op":"events.subscribe"}"#).unwrap();
        assert!(matches!(
            r.op,
            Op::EventsSubscribe(SubscribeParams { cursor: 0 })
        ));
    }

    #[test]
    fn bad_requests_get_typed_errors_naming_the_field() {
        let code = |line: &[u8]| parse_request(line).unwrap_err();
        assert_eq!(code(b"{nope").error.code, ErrorCode::InvalidJson);
        assert_eq!(code(b"[1]").error.code, ErrorCode::InvalidRequest);
        let e = code(br#"{"op":"ping"}"#);
        assert_eq!(
            (e.id, e.error.code),
            (Value::Null, ErrorCode::InvalidRequest)
        );
        let e = code(br#"{"id":3,"op":"warp"}"#);
        assert_eq!((e.id, e.error.code), (Value::from(3), ErrorCode::UnknownOp));
        let e = code(br#"{"id":4,"op":"message.submit","text":"x"}"#);
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        assert!(e.error.message.contains("to"), "{}", e.error.message);
        let e = code(br#"{"id":5,"op":"message.submit","to":"1","text":"x","colour":1}"#);
        assert!(e.error.message.contains("colour"), "{}", e.error.message);
        let e = code(br#"{"id":6,"op":"message.status","message_id":5}"#);
        assert!(
            e.error.message.contains("message_id"),
            "{}",
            e.error.message
        );
    }

    #[test]
    fn verify_requests_parse_with_their_defaults_and_named_field_errors() {
        let r = parse_request(br#"{"id":1,"op":"verify.start","to":"+81 90-0000-0001"}"#).unwrap();
        let Op::VerifyStart(p) = r.op else {
            panic!("not a start: {:?}", r.op)
        };
        assert_eq!(p, VerifyStartParams::new("+81 90-0000-0001"));
        let r = parse_request(
            br#"{"id":2,"op":"verify.start","to":"1","purpose":"payment","locale":"en-US","channel":"sms_link","link":"https://x.example/v/{token}","code_length":8,"validity":"5m"}"#,
        )
        .unwrap();
        let Op::VerifyStart(p) = r.op else {
            panic!("not a start: {:?}", r.op)
        };
        assert_eq!(p.locale, Some(Locale::En));
        assert_eq!(p.channel, Some(Channel::SmsLink));
        assert_eq!(
            (p.purpose.as_deref(), p.code_length, p.validity.as_deref()),
            (Some("payment"), Some(8), Some("5m"))
        );
        let e =
            parse_request(br#"{"id":3,"op":"verify.start","to":"1","locale":"fr"}"#).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::InvalidRequest);
        assert!(
            e.error.message.contains("field locale"),
            "{}",
            e.error.message
        );
        let e =
            parse_request(br#"{"id":4,"op":"verify.start","to":"1","channel":"fax"}"#).unwrap_err();
        assert!(
            e.error.message.contains("field channel"),
            "{}",
            e.error.message
        );
        let e =
            parse_request(br#"{"id":5,"op":"verify.check","verification_id":"a"}"#).unwrap_err();
        assert!(e.error.message.contains("code"), "{}", e.error.message);
        for op in ["verify.resend", "verify.cancel", "verify.status"] {
            let line = format!(r#"{{"id":6,"op":"{op}","verification_id":"abc"}}"#);
            let r = parse_request(line.as_bytes()).unwrap();
            assert_eq!(r.op.name(), op);
        }
    }

    #[test]
    fn a_number_id_comes_back_as_the_same_number() {
        // Found by fuzz/ api_line: serde_json's default float parser can be one ulp off,
        // so an id such as 4.4715444444444446e66 (what a JavaScript client writes for the
        // double nearest 44715444…4, 67 digits) was read as 4.471544444444445e66 and
        // echoed so: the client could not match the answer. Rust's own parser is exact.
        let long = format!("44715{}", "4".repeat(62));
        for text in [
            "4.4715444444444446e+66",
            long.as_str(),
            "0.1",
            "1.7976931348623157e308",
            "5e-324",
            "2.2250738585072011e-308",
            "-12345678901234567890123",
        ] {
            let sent: f64 = text.parse().unwrap();
            for line in [
                format!(r#"{{"id":{text}}}"#),
                format!(r#"{{"id":{text},"op":"warp"}}"#),
            ] {
                let bad = parse_request(line.as_bytes()).unwrap_err();
                assert_eq!(bad.id.as_f64(), Some(sent), "{line}");
                let answer = answer_line(&bad.id, Err(bad.error));
                let echoed = answer
                    .strip_prefix(r#"{"id":"#)
                    .and_then(|rest| rest.split(',').next())
                    .unwrap();
                assert_eq!(echoed.parse::<f64>().unwrap(), sent, "{answer}");
            }
            let r = parse_request(format!(r#"{{"id":{text},"op":"ping"}}"#).as_bytes()).unwrap();
            assert_eq!(r.id.as_f64(), Some(sent), "{text}");
        }
    }

    #[test]
    fn a_parsed_check_never_shows_its_code() {
        let r = parse_request(
            br#"{"id":1,"op":"verify.check","verification_id":"abc","code":"913370"}"#,
        )
        .unwrap();
        let shown = format!("{r:?} {:?}", r.op);
        assert!(shown.contains("abc"), "{shown}");
        assert!(!shown.contains("913370"), "{shown}");
        let Op::VerifyCheck(p) = r.op else {
            panic!("not a check")
        };
        assert_eq!(secrecy::ExposeSecret::expose_secret(&p.code), "913370");
    }

    #[test]
    fn a_retry_after_is_on_the_wire_only_when_there_is_one() {
        let plain = serde_json::to_value(ApiError::new(ErrorCode::NotFound, "x")).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"code": "not_found", "message": "x"})
        );
        let locked = ApiError::new(ErrorCode::Locked, "wait").retry_after(Some(1500));
        let value = serde_json::to_value(&locked).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"code": "locked", "message": "wait", "retry_after_ms": 1500})
        );
        assert_eq!(serde_json::from_value::<ApiError>(value).unwrap(), locked);
    }

    #[test]
    fn answers_echo_the_id_and_carry_the_result_or_the_error() {
        let ok: Value =
            serde_json::from_str(&answer_line(&Value::from(9), Ok(serde_json::json!({})))).unwrap();
        assert_eq!(ok, serde_json::json!({"id": 9, "ok": true, "result": {}}));
        let err: Value = serde_json::from_str(&answer_line(
            &Value::from("x"),
            Err(ApiError::new(ErrorCode::RateLimited, "slow down")),
        ))
        .unwrap();
        assert_eq!(
            err,
            serde_json::json!({"id": "x", "ok": false, "error": {"code": "rate_limited", "message": "slow down"}})
        );
    }
}
