//! A property-test smoke of the two entry points the cargo-fuzz targets `api_line` and
//! `config` fuzz (fuzz/README.md), run in CI: a few hundred cases each, a few seconds.
//!
//! - The TCP API's request line (`parse_request`, a `Session`, the `LineBuffer` framing):
//!   arbitrary bytes and strings, and valid lines with a field removed, replaced, added or
//!   cut short, never panic and either parse or give a typed error whose message names the
//!   field at fault; generated valid requests round-trip.
//! - The configuration loader (`Config::from_toml`, the path of `smsgate config check`):
//!   arbitrary text, and the embedded default with one key deleted or replaced (in the file
//!   or by an `SMSGATE_…` override), never panic and either load or give errors, one line
//!   each, every one naming its key (only a TOML syntax error names none, and comes alone).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Map, Value};
use smsgate::api::auth::{sha256_hex, Tokens};
use smsgate::api::proto::{
    answer_line, parse_request, ErrorCode, LineBuffer, Op, SubmitParams, TextEncodingChoice,
    TooLong, VerifyIdParams, VerifyStartParams,
};
use smsgate::api::session::{Limits, Session, Step};
use smsgate::config::{
    Config, ConfigErrors, Origin, TokenConfig, TokenMode, EMBEDDED_DEFAULT, ENV_PREFIX,
};
use smsgate::verify::template::{Channel, Locale};
use std::time::{Duration, Instant};

const TOKEN: &str = "smoke-token";

/// The request lines of docs/api.md, and two with every field: the base of the mutations.
const VALID_LINES: &[&str] = &[
    r#"{"id":1,"op":"hello","version":1,"token":"smsgate-dev-token"}"#,
    r#"{"id":2,"op":"ping"}"#,
    r#"{"id":2,"op":"message.submit","to":"+81 90 1234 5678","text":"テスト配信","class":"otp","client_ref":"t-1"}"#,
    r#"{"id":"m-1","op":"message.submit","to":"09012345678","text":"hello","from":"SMSGATE","encoding":"gsm7","validity":"10m","client_ref":"order-7","class":"bulk","receipts":false}"#,
    r#"{"id":4,"op":"message.status","message_id":"42"}"#,
    r#"{"id":"s","op":"events.subscribe","cursor":0}"#,
    r#"{"id":5,"op":"binds.status"}"#,
    r#"{"id":1,"op":"verify.start","to":"+81 90-0000-0001","purpose":"login","locale":"ja"}"#,
    r#"{"id":9,"op":"verify.start","to":"+81 90-0000-0001","purpose":"payment","locale":"en-US","channel":"sms_link","link":"https://x.example/v/{token}","code_length":8,"validity":"5m"}"#,
    r#"{"id":2,"op":"verify.check","verification_id":"4e13ba10edffd010a805677e674acb04","code":"153820"}"#,
    r#"{"id":4,"op":"verify.resend","verification_id":"abc"}"#,
    r#"{"id":5,"op":"verify.cancel","verification_id":"abc"}"#,
    r#"{"id":6,"op":"verify.status","verification_id":"abc"}"#,
];

/// The codes a line can be refused with before any operation runs.
const LINE_CODES: [ErrorCode; 3] = [
    ErrorCode::InvalidJson,
    ErrorCode::InvalidRequest,
    ErrorCode::UnknownOp,
];

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The answer line is JSON with this id, `ok`, and on `ok: false` a typed code and a
/// message; returns the code.
fn check_answer(line: &str, id: &Value) -> Result<Option<ErrorCode>, TestCaseError> {
    let answer: Value = serde_json::from_str(line)
        .map_err(|e| TestCaseError::fail(format!("answer not JSON ({e}): {line:?}")))?;
    prop_assert_eq!(&answer["id"], id, "answer {:?}", line);
    match &answer["ok"] {
        Value::Bool(true) => Ok(None),
        Value::Bool(false) => {
            let code = serde_json::from_value::<ErrorCode>(answer["error"]["code"].clone())
                .map_err(|e| TestCaseError::fail(format!("untyped code ({e}): {line:?}")))?;
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            prop_assert!(!message.is_empty(), "no message: {:?}", line);
            Ok(Some(code))
        }
        other => Err(TestCaseError::fail(format!("ok is {other:?}: {line:?}"))),
    }
}

/// `parse_request` on any bytes: a request with a string or number id, or a line-level
/// typed error whose answer line carries it. Returns the error, if any.
fn check_line(line: &[u8]) -> Result<Option<(ErrorCode, String)>, TestCaseError> {
    match parse_request(line) {
        Ok(r) => {
            prop_assert!(matches!(r.id, Value::String(_) | Value::Number(_)));
            Ok(None)
        }
        Err(bad) => {
            prop_assert!(
                LINE_CODES.contains(&bad.error.code),
                "code {:?}",
                bad.error.code
            );
            prop_assert!(matches!(
                bad.id,
                Value::Null | Value::String(_) | Value::Number(_)
            ));
            let answer = answer_line(&bad.id, Err(bad.error.clone()));
            prop_assert_eq!(check_answer(&answer, &bad.id)?, Some(bad.error.code));
            Ok(Some((bad.error.code, bad.error.message)))
        }
    }
}

fn tokens(now: Instant) -> Tokens {
    Tokens::new(
        &[TokenConfig {
            name: "smoke".into(),
            sha256: sha256_hex(TOKEN),
            operations: vec!["*".into()],
            rate: 1_000_000,
            mode: TokenMode::Live,
            webhook: None,
        }],
        now,
    )
    .unwrap()
}

/// A session before and after a hello: every reply is a typed answer with the line's id;
/// nothing runs before the hello.
fn check_session(line: &[u8]) -> Result<(), TestCaseError> {
    let now = Instant::now();
    let limits = Limits {
        max_line: 65536,
        hello_deadline: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
        max_in_flight: 4,
    };
    let tokens = tokens(now);
    let id = match parse_request(line) {
        Ok(r) => r.id,
        Err(bad) => bad.id,
    };
    match Session::new(limits, now).on_line(line, &tokens, now) {
        Step::Reply(answer) => {
            check_answer(&answer, &id)?;
        }
        Step::Run { op, .. } => prop_assert!(false, "{:?} ran before hello", op),
    }
    let mut session = Session::new(limits, now);
    let hello = format!(r#"{{"id":0,"op":"hello","version":1,"token":"{TOKEN}"}}"#);
    let Step::Reply(answer) = session.on_line(hello.as_bytes(), &tokens, now) else {
        return Err(TestCaseError::fail("hello ran"));
    };
    prop_assert_eq!(check_answer(&answer, &Value::from(0))?, None);
    match session.on_line(line, &tokens, now) {
        Step::Reply(answer) => {
            check_answer(&answer, &id)?;
        }
        Step::Run { id: ran, op, .. } => {
            prop_assert_eq!(ran, id);
            prop_assert!(!matches!(*op, Op::Hello(_) | Op::Ping), "{:?} ran", op);
        }
    }
    Ok(())
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        "(ja|en|en-US|fr|sms|sms_link|fax|auto|gsm7|otp|bulk|10m|0s|5|-1s|99999999999999999999d)"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A change to one field of a valid request.
#[derive(Debug, Clone)]
enum Mutation {
    Remove(prop::sample::Index),
    Replace(prop::sample::Index, Value),
    Add(String, Value),
    Op(String),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Remove),
        (any::<prop::sample::Index>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        ("[a-z_]{1,10}", json_value()).prop_map(|(k, v)| Mutation::Add(k, v)),
        prop_oneof![
            prop::sample::select(vec![
                "hello",
                "ping",
                "message.submit",
                "message.status",
                "events.subscribe",
                "binds.status",
                "verify.start",
                "verify.check",
                "verify.resend",
                "verify.cancel",
                "verify.status",
            ])
            .prop_map(str::to_owned),
            ".{0,16}",
        ]
        .prop_map(Mutation::Op),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn object(line: &str) -> Map<String, Value> {
    match serde_json::from_str(line) {
        Ok(Value::Object(m)) => m,
        other => panic!("not an object: {other:?}"),
    }
}

/// The request line of these typed fields.
fn line_of<T: serde::Serialize>(id: Value, op: &str, params: &T) -> Vec<u8> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(params) else {
        panic!("params are not an object");
    };
    fields.insert("id".into(), id);
    fields.insert("op".into(), op.into());
    serde_json::to_vec(&Value::Object(fields)).unwrap()
}

fn id_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn submit_params() -> impl Strategy<Value = SubmitParams> {
    (
        (".{0,20}", ".{0,40}", proptest::option::of(".{0,11}")),
        (
            proptest::option::of(prop_oneof![
                Just(TextEncodingChoice::Auto),
                Just(TextEncodingChoice::Gsm7)
            ]),
            proptest::option::of(".{0,6}"),
            proptest::option::of(".{0,20}"),
            proptest::option::of("(otp|transactional|bulk|.{0,6})"),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |((to, text, from), (encoding, validity, client_ref, class, receipts))| SubmitParams {
                to,
                text,
                from,
                encoding,
                validity,
                client_ref,
                class,
                receipts,
            },
        )
}

fn verify_start_params() -> impl Strategy<Value = VerifyStartParams> {
    (
        ".{0,20}",
        proptest::option::of(".{0,10}"),
        proptest::option::of(prop_oneof![Just(Locale::Ja), Just(Locale::En)]),
        proptest::option::of(prop_oneof![Just(Channel::Sms), Just(Channel::SmsLink)]),
        proptest::option::of(".{0,30}"),
        proptest::option::of(any::<u8>()),
        proptest::option::of(".{0,6}"),
    )
        .prop_map(
            |(to, purpose, locale, channel, link, code_length, validity)| VerifyStartParams {
                to,
                purpose,
                locale,
                channel,
                link,
                code_length,
                validity,
            },
        )
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn any_bytes_parse_or_get_a_typed_error(line in prop::collection::vec(any::<u8>(), 0..256)) {
        check_line(&line)?;
        check_session(&line)?;
    }

    #[test]
    fn any_json_ish_text_parses_or_gets_a_typed_error(
        line in r#"\{("(id|op|to|text|version|token|cursor|[a-z]{1,4})":("[^"\\]{0,8}"|-?[0-9]{1,3}|true|null|\[\]|\{\})[,}]?){0,5}"#
    ) {
        check_line(line.as_bytes())?;
        check_session(line.as_bytes())?;
    }

    #[test]
    fn a_mutated_valid_line_parses_or_names_what_is_wrong(
        base in prop::sample::select(VALID_LINES),
        change in mutation(),
    ) {
        let original = object(base);
        let mut fields = original.clone();
        let keys: Vec<String> = fields.keys().cloned().collect();
        let mut named = None;
        let mut op_changed = matches!(change, Mutation::Op(_));
        match &change {
            Mutation::Remove(i) => {
                let key = i.get(&keys).clone();
                fields.remove(&key);
                named = Some(key);
            }
            Mutation::Replace(i, value) => {
                let key = i.get(&keys).clone();
                fields.insert(key.clone(), value.clone());
                if key == "op" && value.is_string() {
                    // Another operation's name: the error names its fields, not op.
                    op_changed = true;
                } else {
                    named = Some(key);
                }
            }
            Mutation::Add(key, value) => {
                if key != "id" && key != "op" && !fields.contains_key(key) {
                    fields.insert(key.clone(), value.clone());
                    named = Some(key.clone());
                }
            }
            Mutation::Op(op) => {
                fields.insert("op".into(), Value::from(op.as_str()));
            }
            Mutation::Truncate(_) => {}
        }
        let mut line = serde_json::to_vec(&Value::Object(fields)).unwrap();
        if let Mutation::Truncate(i) = &change {
            let cut = i.index(line.len());
            line.truncate(cut);
            // A strict prefix of an object is never JSON.
            let error = check_line(&line)?;
            prop_assert_eq!(error.map(|e| e.0), Some(ErrorCode::InvalidJson));
            return Ok(());
        }
        let error = check_line(&line)?;
        check_session(&line)?;
        if let (Some((ErrorCode::InvalidRequest, message)), Some(key)) = (&error, &named) {
            prop_assert!(
                message.contains(key.as_str()),
                "{:?} after {:?} of {}: {:?} does not name {:?}",
                String::from_utf8_lossy(&line), change, base, message, key
            );
        }
        if named.is_none() && !op_changed {
            // Nothing was changed: the line is still valid.
            prop_assert_eq!(error, None);
        }
    }

    #[test]
    fn generated_submits_round_trip(id in id_value(), params in submit_params()) {
        let line = line_of(id.clone(), "message.submit", &params);
        let request = parse_request(&line)
            .map_err(|e| TestCaseError::fail(format!("{e:?} for {}", String::from_utf8_lossy(&line))))?;
        prop_assert_eq!(request.id, id);
        let Op::MessageSubmit(again) = request.op else {
            return Err(TestCaseError::fail(format!("not a submit: {:?}", request.op)));
        };
        prop_assert_eq!(again, params);
    }

    #[test]
    fn generated_verification_requests_round_trip(
        id in id_value(),
        start in verify_start_params(),
        verification_id in ".{0,48}",
        op in prop::sample::select(vec!["verify.resend", "verify.cancel", "verify.status"]),
    ) {
        let line = line_of(id.clone(), "verify.start", &start);
        let request = parse_request(&line)
            .map_err(|e| TestCaseError::fail(format!("{e:?} for {}", String::from_utf8_lossy(&line))))?;
        prop_assert_eq!(&request.id, &id);
        let Op::VerifyStart(again) = request.op else {
            return Err(TestCaseError::fail(format!("not a start: {:?}", request.op)));
        };
        prop_assert_eq!(again, start);
        let params = VerifyIdParams { verification_id };
        let request = parse_request(&line_of(id, op, &params)).unwrap();
        prop_assert_eq!(request.op.name(), op);
        let (Op::VerifyResend(again) | Op::VerifyCancel(again) | Op::VerifyStatus(again)) = request.op else {
            return Err(TestCaseError::fail("not a verification id op"));
        };
        prop_assert_eq!(again, params);
    }

    #[test]
    fn framing_yields_the_newline_separated_lines(
        bytes in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()], 0..200),
        max in 0usize..24,
        chunk in 1usize..17,
    ) {
        let mut buffer = LineBuffer::new(max);
        let mut got = Vec::new();
        let mut too_long = false;
        'feed: for piece in bytes.chunks(chunk) {
            buffer.extend(piece);
            loop {
                match buffer.next_line() {
                    Ok(Some(line)) => got.push(line),
                    Ok(None) => break,
                    Err(TooLong { max: m }) => {
                        prop_assert_eq!(m, max);
                        too_long = true;
                        break 'feed;
                    }
                }
            }
        }
        // The model: each \n-terminated piece less one trailing \r, up to the first longer
        // than max; an unterminated tail longer than max (a final \r not counted) also
        // refuses.
        let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        let tail = pieces.pop().unwrap_or_default();
        let mut want = Vec::new();
        let mut want_too_long = false;
        for piece in pieces {
            let line = piece.strip_suffix(b"\r").unwrap_or(piece);
            if line.len() > max {
                want_too_long = true;
                break;
            }
            want.push(line.to_vec());
        }
        if !want_too_long {
            want_too_long = tail.len() - usize::from(tail.last() == Some(&b'\r')) > max;
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(too_long, want_too_long);
    }
}

/// Loads, then checks the result: a configuration with a router and a redacted TOML that is
/// TOML; or errors, one line each, each naming its key unless it is the lone syntax error
/// or an environment variable's.
fn check_config(
    text: &str,
    env: Vec<(String, String)>,
) -> Result<Option<ConfigErrors>, TestCaseError> {
    match Config::from_toml("smoke.toml", text, env) {
        Ok(config) => {
            prop_assert!(config.router().is_ok(), "no router for {:?}", text);
            let shown = config
                .to_redacted_toml()
                .map_err(|e| TestCaseError::fail(format!("config show: {e}")))?;
            prop_assert!(shown.parse::<toml::Table>().is_ok(), "{:?}", shown);
            Ok(None)
        }
        Err(errors) => {
            prop_assert!(!errors.0.is_empty());
            let unkeyed = errors
                .iter()
                .filter(|e| e.key.is_none() && !matches!(e.origin, Origin::Env { .. }))
                .count();
            prop_assert!(unkeyed == 0 || errors.0.len() == 1, "{}", errors);
            for e in errors.iter() {
                let shown = e.to_string();
                prop_assert!(!shown.contains('\n'), "{:?}", shown);
                prop_assert!(!e.message.is_empty(), "{:?}", e);
            }
            Ok(Some(errors))
        }
    }
}

/// Every leaf key path of a TOML table (arrays of tables stepped into by index).
fn leaves(value: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        toml::Value::Array(items)
            if items.iter().all(toml::Value::is_table) && !items.is_empty() =>
        {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn default_leaves() -> Vec<Vec<String>> {
    let table: toml::Table = EMBEDDED_DEFAULT.parse().unwrap();
    let mut out = Vec::new();
    leaves(&toml::Value::Table(table), &mut Vec::new(), &mut out);
    out
}

/// The slot at `path` (a table key, or an array index), its parent's.
fn slot<'a>(root: &'a mut toml::Value, path: &[String]) -> Option<&'a mut toml::Value> {
    let mut here = root;
    for step in path {
        here = match here {
            toml::Value::Table(t) => t.get_mut(step)?,
            toml::Value::Array(a) => a.get_mut(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(here)
}

fn toml_value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        (-1e6f64..1e6).prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        ".{0,12}".prop_map(toml::Value::String),
        "(0s|1ms|30s|10m|24h|99999999999999999999d|-1s|1.5s|127.0.0.1:0|\\[::1\\]:1|localhost:80|\\*|debug|docomo|sim|81|ja|final|udh8|as_is)"
            .prop_map(toml::Value::String),
        prop::collection::vec(".{0,6}".prop_map(toml::Value::String), 0..3).prop_map(toml::Value::Array),
        prop::collection::vec(any::<i32>().prop_map(|i| toml::Value::Integer(i.into())), 0..3)
            .prop_map(toml::Value::Array),
        Just(toml::Value::Table(toml::Table::new())),
    ]
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn any_text_loads_or_gets_errors_naming_keys(text in "(.|\n){0,200}") {
        check_config(&text, Vec::new())?;
    }

    #[test]
    fn toml_ish_text_loads_or_gets_errors_naming_keys(
        text in r#"((\[\[?(carriers(\.[a-z]{1,3}(\.binds)?)?|routes|api(\.tokens)?|verify|outbox)\]\]?|[a-z_]{1,12} = ("[a-z0-9.:]{0,8}"|[0-9]{1,4}|true|\[\]|\{\}))\n){0,12}"#
    ) {
        check_config(&text, Vec::new())?;
    }

    #[test]
    fn the_default_with_one_key_changed_loads_or_names_a_key(
        which in any::<prop::sample::Index>(),
        replacement in proptest::option::of(toml_value()),
    ) {
        let paths = default_leaves();
        let path = which.get(&paths);
        let mut root = toml::Value::Table(EMBEDDED_DEFAULT.parse().unwrap());
        match &replacement {
            Some(value) => {
                let target = slot(&mut root, path).unwrap();
                *target = value.clone();
            }
            None => {
                let (last, parent) = path.split_last().unwrap();
                match slot(&mut root, parent).unwrap() {
                    toml::Value::Table(t) => { t.remove(last); }
                    toml::Value::Array(a) => { a.remove(last.parse::<usize>().unwrap()); }
                    _ => unreachable!(),
                }
            }
        }
        let text = toml::to_string(&root).unwrap();
        if let Some(errors) = check_config(&text, Vec::new())? {
            // Valid TOML: every error names its key.
            prop_assert!(errors.iter().all(|e| e.key.is_some()), "{}", errors);
        }
    }

    #[test]
    fn the_default_with_one_override_loads_or_names_a_key(
        which in any::<prop::sample::Index>(),
        raw in prop_oneof![
            ".{0,12}",
            "(0|-1|65536|true|\\[\\]|\\[\"sim\"\\]|\\{\\}|30s|0s|127.0.0.1:0|x y)",
        ],
    ) {
        let paths = default_leaves();
        let path = which.get(&paths);
        let var = format!("{ENV_PREFIX}{}", path.join("__").to_ascii_uppercase().replace('-', "_"));
        if let Some(errors) = check_config(EMBEDDED_DEFAULT, vec![(var.clone(), raw.clone())])? {
            prop_assert!(errors.iter().all(|e| e.key.is_some()), "{}", errors);
        }
    }
}
