//! Fuzzes the TCP API's request handling (src/api/proto.rs, src/api/session.rs) with
//! arbitrary bytes as one request line, and its line framing with the same bytes as a
//! stream:
//!
//! - `parse_request` never panics. An error is `invalid_json`, `invalid_request` or
//!   `unknown_op`, with a null, string or number `id`, and its answer line is JSON that
//!   carries that id, `"ok": false` and a code a client can read back as an `ErrorCode`.
//! - A request that parses, written back as a line from its typed fields, parses again to
//!   the same operation with the same fields (and the same id).
//! - A `Session` answers the line before any hello with a reply (never runs it), and after
//!   a hello either hands out the operation or replies; every reply is a JSON answer line
//!   with the request's id and a typed error code.
//! - `LineBuffer` fed the bytes in chunks (sizes from the first byte) yields exactly the
//!   `\n`-separated lines (one trailing `\r` stripped), and `TooLong` exactly at the first
//!   line longer than its maximum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use smsgate::api::auth::{sha256_hex, Tokens};
use smsgate::api::proto::{
    answer_line, parse_request, ErrorCode, LineBuffer, Op, Request, SubmitParams, TooLong,
    VerifyIdParams, VerifyStartParams,
};
use smsgate::api::session::{Limits, Session, Step};
use smsgate::config::{TokenConfig, TokenMode};
use std::time::{Duration, Instant};

const TOKEN: &str = "fuzz-token";

/// The answer line's JSON: an object with this `id`, `ok`, and on `ok: false` an
/// `error.code` that is an `ErrorCode`; returns that code.
fn check_answer(line: &str, id: &Value, input: &[u8]) -> Option<ErrorCode> {
    let answer: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {line:?} for {input:?}"));
    assert_eq!(&answer["id"], id, "answer id: {line:?} for {input:?}");
    match answer["ok"] {
        Value::Bool(true) => None,
        Value::Bool(false) => {
            let code = serde_json::from_value::<ErrorCode>(answer["error"]["code"].clone())
                .unwrap_or_else(|e| panic!("untyped error code ({e}): {line:?} for {input:?}"));
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "no message: {line:?} for {input:?}");
            Some(code)
        }
        _ => panic!("no ok: {line:?} for {input:?}"),
    }
}

/// The request written back as a line from its typed fields.
fn rewrite(request: &Request) -> Option<Vec<u8>> {
    let mut fields = match &request.op {
        Op::MessageSubmit(p) => to_map(p),
        Op::VerifyStart(p) => to_map(p),
        Op::VerifyResend(p) | Op::VerifyCancel(p) | Op::VerifyStatus(p) => to_map(p),
        Op::Hello(p) => {
            let mut m = Map::new();
            m.insert("version".into(), p.version.into());
            m.insert(
                "token".into(),
                secrecy::ExposeSecret::expose_secret(&p.token).into(),
            );
            m
        }
        Op::MessageStatus(p) => {
            let mut m = Map::new();
            m.insert("message_id".into(), p.message_id.clone().into());
            m
        }
        Op::EventsSubscribe(p) => {
            let mut m = Map::new();
            m.insert("cursor".into(), p.cursor.into());
            m
        }
        Op::VerifyCheck(p) => {
            let mut m = Map::new();
            m.insert("verification_id".into(), p.verification_id.clone().into());
            m.insert(
                "code".into(),
                secrecy::ExposeSecret::expose_secret(&p.code).into(),
            );
            m
        }
        Op::Ping | Op::BindsStatus => Map::new(),
    };
    fields.insert("id".into(), request.id.clone());
    fields.insert("op".into(), request.op.name().into());
    serde_json::to_vec(&Value::Object(fields)).ok()
}

fn to_map<T: serde::Serialize>(params: &T) -> Map<String, Value> {
    match serde_json::to_value(params) {
        Ok(Value::Object(m)) => m,
        other => panic!("params do not serialize to an object: {other:?}"),
    }
}

/// The same operation with the same fields.
fn same_op(a: &Op, b: &Op) -> bool {
    use secrecy::ExposeSecret;
    match (a, b) {
        (Op::MessageSubmit(x), Op::MessageSubmit(y)) => x == y,
        (Op::VerifyStart(x), Op::VerifyStart(y)) => x == y,
        (Op::VerifyResend(x), Op::VerifyResend(y))
        | (Op::VerifyCancel(x), Op::VerifyCancel(y))
        | (Op::VerifyStatus(x), Op::VerifyStatus(y)) => x == y,
        (Op::Hello(x), Op::Hello(y)) => {
            x.version == y.version && x.token.expose_secret() == y.token.expose_secret()
        }
        (Op::MessageStatus(x), Op::MessageStatus(y)) => x.message_id == y.message_id,
        (Op::EventsSubscribe(x), Op::EventsSubscribe(y)) => x.cursor == y.cursor,
        (Op::VerifyCheck(x), Op::VerifyCheck(y)) => {
            x.verification_id == y.verification_id
                && x.code.expose_secret() == y.code.expose_secret()
        }
        (Op::Ping, Op::Ping) | (Op::BindsStatus, Op::BindsStatus) => true,
        _ => false,
    }
}

fn check_parse(data: &[u8]) {
    match parse_request(data) {
        Err(bad) => {
            assert!(
                matches!(
                    bad.error.code,
                    ErrorCode::InvalidJson | ErrorCode::InvalidRequest | ErrorCode::UnknownOp
                ),
                "unexpected code {:?} for {data:?}",
                bad.error.code
            );
            assert!(
                matches!(bad.id, Value::Null | Value::String(_) | Value::Number(_)),
                "id {:?} for {data:?}",
                bad.id
            );
            let line = answer_line(&bad.id, Err(bad.error.clone()));
            assert_eq!(check_answer(&line, &bad.id, data), Some(bad.error.code));
        }
        Ok(request) => {
            assert!(
                matches!(request.id, Value::String(_) | Value::Number(_)),
                "id {:?} for {data:?}",
                request.id
            );
            let line = rewrite(&request)
                .unwrap_or_else(|| panic!("cannot write back {request:?} from {data:?}"));
            let again = parse_request(&line).unwrap_or_else(|e| {
                panic!(
                    "written back, it does not parse: {e:?}\n  input: {:?}\n  line: {:?}",
                    String::from_utf8_lossy(data),
                    String::from_utf8_lossy(&line)
                )
            });
            assert_eq!(again.id, request.id, "id changed for {data:?}");
            assert!(
                same_op(&request.op, &again.op),
                "op changed: {:?} became {:?} for {data:?}",
                request.op,
                again.op
            );
        }
    }
}

fn check_session(data: &[u8]) {
    let now = Instant::now();
    let limits = Limits {
        max_line: 65536,
        hello_deadline: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        max_in_flight: 4,
    };
    let tokens = Tokens::new(
        &[TokenConfig {
            name: "fuzz".into(),
            sha256: sha256_hex(TOKEN),
            operations: vec!["*".into()],
            rate: 1_000_000,
            mode: TokenMode::Live,
            webhook: None,
        }],
        now,
    )
    .expect("a valid token");
    let id_of = |data: &[u8]| match parse_request(data) {
        Ok(r) => r.id,
        Err(bad) => bad.id,
    };
    // Before any hello: always a reply.
    let mut fresh = Session::new(limits, now);
    match fresh.on_line(data, &tokens, now) {
        Step::Reply(line) => {
            check_answer(&line, &id_of(data), data);
        }
        Step::Run { op, .. } => panic!("ran {op:?} before hello for {data:?}"),
    }
    // After a hello.
    let mut session = Session::new(limits, now);
    let hello = format!(r#"{{"id":0,"op":"hello","version":1,"token":"{TOKEN}"}}"#);
    match session.on_line(hello.as_bytes(), &tokens, now) {
        Step::Reply(line) => assert_eq!(check_answer(&line, &Value::from(0), b""), None),
        Step::Run { .. } => panic!("hello ran"),
    }
    match session.on_line(data, &tokens, now) {
        Step::Reply(line) => {
            check_answer(&line, &id_of(data), data);
        }
        Step::Run { id, op, .. } => {
            assert_eq!(id, id_of(data));
            assert!(!matches!(*op, Op::Hello(_) | Op::Ping), "{op:?} ran");
        }
    }
}

/// The lines of `data` as the framing must yield them: each `\n`-terminated piece with one
/// trailing `\r` stripped, up to the first longer than `max` (then `TooLong`); a final
/// unterminated piece longer than `max` (a trailing `\r` not counted) is `TooLong` too.
fn reference_lines(data: &[u8], max: usize) -> (Vec<&[u8]>, bool) {
    let mut pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let tail = pieces.pop().unwrap_or_default();
    let mut lines = Vec::new();
    for piece in pieces {
        let line = piece.strip_suffix(b"\r").unwrap_or(piece);
        if line.len() > max {
            return (lines, true);
        }
        lines.push(line);
    }
    let pending = tail.len() - usize::from(tail.last() == Some(&b'\r'));
    (lines, pending > max)
}

fn check_framing(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max = usize::from(first & 0x3f);
    let chunk = usize::from(first >> 6) * 5 + 1;
    let mut buffer = LineBuffer::new(max);
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut too_long = false;
    'feed: for piece in rest.chunks(chunk) {
        buffer.extend(piece);
        loop {
            match buffer.next_line() {
                Ok(Some(line)) => got.push(line),
                Ok(None) => break,
                Err(TooLong { max: m }) => {
                    assert_eq!(m, max);
                    too_long = true;
                    break 'feed;
                }
            }
        }
    }
    let (want, want_too_long) = reference_lines(rest, max);
    assert_eq!(
        got, want,
        "lines (max {max}, chunks of {chunk}) for {rest:?}"
    );
    assert_eq!(
        too_long, want_too_long,
        "TooLong (max {max}, chunks of {chunk}) for {rest:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    check_parse(data);
    check_session(data);
    check_framing(data);
});
