//! One connection's protocol state, without the socket: the hello (version and token), the
//! checks every request passes (authenticated, operation granted, rate limit), the
//! requests in flight, and the deadlines (hello, idle). The server feeds it lines and the
//! clock and does what it answers.

use super::auth::{Grant, Tokens};
use super::proto::{
    answer_line, parse_request, ApiError, ErrorCode, HelloParams, HelloResult, Op, PROTOCOL_VERSION,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A connection's limits (`[api]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line.
    pub max_line: usize,
    /// Time from connect to a successful hello.
    pub hello_deadline: Duration,
    /// Time without a request, an answer or a subscription before the connection closes.
    pub idle_timeout: Duration,
    /// Requests being worked on at once; the connection is not read beyond.
    pub max_in_flight: usize,
}

/// What the server does with a line.
#[derive(Debug)]
pub enum Step {
    /// Write this answer line.
    Reply(String),
    /// Run the operation for this token, write its answer, then call
    /// [`Session::answered`].
    Run {
        /// The request's id.
        id: Value,
        /// The operation, checked.
        op: Box<Op>,
        /// The session's token.
        grant: Arc<Grant>,
    },
}

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    limits: Limits,
    /// The token of the successful hello.
    grant: Option<Arc<Grant>>,
    /// Requests handed out as [`Step::Run`] and not answered yet.
    in_flight: usize,
    /// Whether an `events.subscribe` was accepted (one per connection; it is never idle).
    subscribed: bool,
    /// When the connection opened: the hello deadline counts from here.
    opened_at: Instant,
    /// The last request or answer: the idle timeout counts from here.
    last_activity: Instant,
}

impl Session {
    /// A connection opened at `now`.
    pub fn new(limits: Limits, now: Instant) -> Session {
        Session {
            limits,
            grant: None,
            in_flight: 0,
            subscribed: false,
            opened_at: now,
            last_activity: now,
        }
    }

    /// Whether another line may be read (fewer than the maximum in flight).
    pub fn can_read(&self) -> bool {
        self.in_flight < self.limits.max_in_flight
    }

    /// The token of the hello, once one succeeded.
    pub fn grant(&self) -> Option<&Arc<Grant>> {
        self.grant.as_ref()
    }

    /// One request line.
    pub fn on_line(&mut self, line: &[u8], tokens: &Tokens, now: Instant) -> Step {
        self.last_activity = now;
        let request = match parse_request(line) {
            Ok(r) => r,
            Err(bad) => return Step::Reply(answer_line(&bad.id, Err(bad.error))),
        };
        let id = request.id;
        let refuse = |code, message: String| {
            Step::Reply(answer_line(&id, Err(ApiError::new(code, message))))
        };
        let op = match request.op {
            Op::Hello(hello) => return Step::Reply(answer_line(&id, self.hello(hello, tokens))),
            op => op,
        };
        let Some(grant) = self.grant.clone() else {
            return refuse(
                ErrorCode::Unauthorized,
                format!(
                    "{}: send hello first: {{\"id\":1,\"op\":\"hello\",\"version\":{PROTOCOL_VERSION},\"token\":\"...\"}}",
                    op.name()
                ),
            );
        };
        if let Err(e) = grant.admit(op.name(), now) {
            return Step::Reply(answer_line(&id, Err(e)));
        }
        match op {
            Op::Ping => return Step::Reply(answer_line(&id, Ok(serde_json::json!({})))),
            Op::EventsSubscribe(_) if self.subscribed => {
                return refuse(
                    ErrorCode::InvalidRequest,
                    "this connection is subscribed already (one subscription per connection)"
                        .into(),
                )
            }
            Op::EventsSubscribe(_) => self.subscribed = true,
            _ => {}
        }
        self.in_flight += 1;
        Step::Run {
            id,
            op: Box::new(op),
            grant,
        }
    }

    fn hello(&mut self, hello: HelloParams, tokens: &Tokens) -> Result<Value, ApiError> {
        if self.grant.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "hello was sent already on this connection",
            ));
        }
        if hello.version != PROTOCOL_VERSION {
            return Err(ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol version {} is not spoken here; this server speaks {PROTOCOL_VERSION}",
                    hello.version
                ),
            ));
        }
        let grant = tokens
            .authenticate(&hello.token)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "the token is not known"))?;
        let result = HelloResult {
            version: PROTOCOL_VERSION,
            server: concat!("smsgate/", env!("CARGO_PKG_VERSION")).to_owned(),
            token: grant.name.clone(),
            mode: grant.mode,
            operations: grant.operations(),
            max_line: self.limits.max_line,
            max_in_flight: self.limits.max_in_flight,
        };
        self.grant = Some(grant);
        serde_json::to_value(result)
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e.to_string()))
    }

    /// A request handed out by [`Step::Run`] was answered at `now`.
    pub fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.last_activity = now;
    }

    /// When the connection is closed unless something happens first, and why; `None`
    /// while it has work in flight or a subscription.
    pub fn deadline(&self) -> Option<(Instant, ApiError)> {
        if self.grant.is_none() {
            return Some((
                self.opened_at + self.limits.hello_deadline,
                ApiError::new(
                    ErrorCode::HelloTimeout,
                    format!(
                        "no successful hello within {:?} of connecting",
                        self.limits.hello_deadline
                    ),
                ),
            ));
        }
        if self.subscribed || self.in_flight > 0 {
            return None;
        }
        Some((
            self.last_activity + self.limits.idle_timeout,
            ApiError::new(
                ErrorCode::IdleTimeout,
                format!("no request for {:?}", self.limits.idle_timeout),
            ),
        ))
    }

    /// The reason to close the connection at `now`, if its deadline has passed.
    pub fn expired(&self, now: Instant) -> Option<ApiError> {
        self.deadline()
            .and_then(|(at, why)| (now >= at).then_some(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::sha256_hex;
    use crate::config::{TokenConfig, TokenMode};

    const LIMITS: Limits = Limits {
        max_line: 1024,
        hello_deadline: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        max_in_flight: 2,
    };

    fn tokens(now: Instant) -> Tokens {
        let token = |name: &str, ops: &[&str], rate| TokenConfig {
            name: name.into(),
            sha256: sha256_hex(&format!("{name}-secret")),
            operations: ops.iter().map(|s| (*s).to_owned()).collect(),
            rate,
            mode: TokenMode::Live,
            webhook: None,
        };
        Tokens::new(
            &[
                token("full", &["*"], 1000),
                token("reader", &["message.status"], 1000),
                token("slow", &["*"], 2),
            ],
            now,
        )
        .unwrap()
    }

    fn reply(step: Step) -> Value {
        match step {
            Step::Reply(line) => serde_json::from_str(&line).unwrap(),
            Step::Run { op, .. } => panic!("ran {op:?} where an answer was expected"),
        }
    }

    fn code(step: Step) -> String {
        reply(step)["error"]["code"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    }

    fn hello(s: &mut Session, t: &Tokens, token: &str, now: Instant) -> Value {
        let line = format!(r#"{{"id":"h","op":"hello","version":1,"token":"{token}"}}"#);
        reply(s.on_line(line.as_bytes(), t, now))
    }

    #[test]
    fn nothing_but_hello_is_served_before_a_successful_hello() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        assert_eq!(
            code(s.on_line(br#"{"id":1,"op":"ping"}"#, &t, now)),
            "unauthorized"
        );
        assert_eq!(
            hello(&mut s, &t, "wrong", now)["error"]["code"],
            "unauthorized"
        );
        let bad_version = br#"{"id":2,"op":"hello","version":9,"token":"full-secret"}"#;
        assert_eq!(code(s.on_line(bad_version, &t, now)), "unsupported_version");
        let ok = hello(&mut s, &t, "full-secret", now);
        assert_eq!(ok["ok"], true);
        assert_eq!(ok["result"]["token"], "full");
        assert_eq!(ok["result"]["mode"], "live");
        assert_eq!(
            reply(s.on_line(br#"{"id":3,"op":"ping"}"#, &t, now))["ok"],
            true
        );
        assert_eq!(
            hello(&mut s, &t, "full-secret", now)["error"]["code"],
            "invalid_request"
        );
    }

    #[test]
    fn a_token_uses_only_its_operations() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        hello(&mut s, &t, "reader-secret", now);
        let submit = br#"{"id":1,"op":"message.submit","to":"+819012345678","text":"x"}"#;
        assert_eq!(code(s.on_line(submit, &t, now)), "forbidden");
        let status = br#"{"id":2,"op":"message.status","message_id":"1"}"#;
        assert!(matches!(s.on_line(status, &t, now), Step::Run { .. }));
    }

    #[test]
    fn over_the_rate_limit_a_request_is_refused_and_the_session_goes_on() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        hello(&mut s, &t, "slow-secret", now);
        let ping = br#"{"id":1,"op":"ping"}"#;
        assert_eq!(reply(s.on_line(ping, &t, now))["ok"], true);
        assert_eq!(reply(s.on_line(ping, &t, now))["ok"], true);
        assert_eq!(code(s.on_line(ping, &t, now)), "rate_limited");
        let later = now + Duration::from_secs(1);
        assert_eq!(reply(s.on_line(ping, &t, later))["ok"], true);
    }

    #[test]
    fn a_bad_line_is_answered_and_the_session_goes_on() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        hello(&mut s, &t, "full-secret", now);
        assert_eq!(code(s.on_line(b"{not json", &t, now)), "invalid_json");
        assert_eq!(
            code(s.on_line(br#"{"id":1,"op":"nope"}"#, &t, now)),
            "unknown_op"
        );
        assert_eq!(
            reply(s.on_line(br#"{"id":2,"op":"ping"}"#, &t, now))["id"],
            2
        );
    }

    #[test]
    fn reading_stops_at_the_in_flight_limit_until_an_answer() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        hello(&mut s, &t, "full-secret", now);
        let status = br#"{"id":1,"op":"message.status","message_id":"1"}"#;
        assert!(matches!(s.on_line(status, &t, now), Step::Run { .. }));
        assert!(s.can_read());
        assert!(matches!(s.on_line(status, &t, now), Step::Run { .. }));
        assert!(!s.can_read());
        s.answered(now);
        assert!(s.can_read());
    }

    #[test]
    fn the_hello_deadline_then_the_idle_timeout_close_the_connection() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        // Bytes that are not a successful hello do not move the hello deadline.
        s.on_line(b"{", &t, now + Duration::from_secs(4));
        assert_eq!(s.expired(now + Duration::from_secs(4)), None);
        let why = s.expired(now + Duration::from_secs(5)).unwrap();
        assert_eq!(why.code, ErrorCode::HelloTimeout);

        let mut s = Session::new(LIMITS, now);
        let at = now + Duration::from_secs(1);
        hello(&mut s, &t, "full-secret", at);
        assert_eq!(s.expired(at + Duration::from_secs(59)), None);
        let why = s.expired(at + Duration::from_secs(60)).unwrap();
        assert_eq!(why.code, ErrorCode::IdleTimeout);
    }

    #[test]
    fn a_subscribed_connection_is_never_idle_and_subscribes_once() {
        let now = Instant::now();
        let t = tokens(now);
        let mut s = Session::new(LIMITS, now);
        hello(&mut s, &t, "full-secret", now);
        let sub = br#"{"id":"s","op":"events.subscribe","cursor":5}"#;
        assert!(matches!(s.on_line(sub, &t, now), Step::Run { .. }));
        s.answered(now);
        assert_eq!(s.deadline().map(|d| d.0), None);
        assert_eq!(code(s.on_line(sub, &t, now)), "invalid_request");
    }
}
