//! The TCP API end to end: a gateway with a live carrier and a sandbox carrier (each its
//! own simulated SMSC), the API listener on 127.0.0.1:0, and clients speaking raw lines or
//! through `smsgate::api::client`.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{json, Value};
use smsgate::api::auth::sha256_hex;
use smsgate::api::client::{Client, ClientError};
use smsgate::api::proto::{ErrorCode, SubmitParams};
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::api::session::Limits;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::config::{TokenConfig, TokenMode};
use smsgate::gateway::Gateway;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const LIVE: &str = "live-secret";
const SANDBOX: &str = "sandbox-secret";
const READER: &str = "reader-secret";
const SLOW: &str = "slow-secret";

struct World {
    gw: Gateway,
    api: ApiServer,
    live: smsc_sim::SimHandle,
    sandbox: smsc_sim::SimHandle,
    _dir: tempfile::TempDir,
}

fn token(name: &str, secret: &str, ops: &[&str], rate: u32, mode: TokenMode) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        sha256: sha256_hex(secret),
        operations: ops.iter().map(|s| (*s).to_owned()).collect(),
        rate,
        mode,
        webhook: None,
    }
}

fn settings(tune: impl FnOnce(&mut ServerSettings)) -> ServerSettings {
    let tokens = [
        token("live", LIVE, &["*"], 100_000, TokenMode::Live),
        token("sandbox", SANDBOX, &["*"], 100_000, TokenMode::Sandbox),
        token(
            "reader",
            READER,
            &["message.status"],
            100_000,
            TokenMode::Live,
        ),
        token("slow", SLOW, &["*"], 2, TokenMode::Live),
    ];
    let mut s = ServerSettings {
        limits: Limits {
            max_line: 4096,
            hello_deadline: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_in_flight: 64,
        },
        max_connections: 16,
        event_buffer: 1024,
        tls: None,
        tokens: smsgate::api::auth::Tokens::new(&tokens, Instant::now()).unwrap(),
    };
    tune(&mut s);
    s
}

/// The live carrier "live" serves every Japanese number; "sandbox" is named by no route.
async fn world(tune: impl FnOnce(&mut ServerSettings)) -> World {
    common::trace();
    let live = common::simulator(smsc_sim::Config::for_tests()).await;
    let sandbox = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::spec(
        dir.path(),
        vec![
            common::carrier("live", live.smpp_addr(), 1, 50),
            common::carrier("sandbox", sandbox.smpp_addr(), 1, 50),
        ],
    );
    spec.router = Router::new([RouteRule {
        prefix: "81".into(),
        carriers: vec!["live".into()],
        kind: RouteKind::Domestic,
    }])
    .unwrap();
    spec.sandbox = Some("sandbox".into());
    spec.verify = Some(common::verify_spec(|_| {}));
    let gw = Gateway::start(spec).await.unwrap();
    let api = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings(tune), gw.clone()).unwrap();
    World {
        gw,
        api,
        live,
        sandbox,
        _dir: dir,
    }
}

impl World {
    fn addr(&self) -> String {
        self.api.local_addr().to_string()
    }

    async fn client(&self, token: &str) -> Client {
        Client::connect(&self.addr(), &token.into()).await.unwrap()
    }

    async fn raw(&self) -> Raw {
        let stream = TcpStream::connect(self.api.local_addr()).await.unwrap();
        let (r, w) = stream.into_split();
        Raw {
            lines: BufReader::new(r).lines(),
            w,
        }
    }

    async fn stop(self) {
        self.api.stop().await;
        assert!(self.gw.shutdown().await.flushed);
        self.live.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

/// A connection spoken to line by line, as with `nc`.
struct Raw {
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Raw {
    async fn send(&mut self, line: &str) {
        self.w.write_all(line.as_bytes()).await.unwrap();
        self.w.write_all(b"\n").await.unwrap();
    }

    /// The next line, or `None` at the end of the stream.
    async fn recv(&mut self) -> Option<Value> {
        let line = common::within("a line", self.lines.next_line())
            .await
            .ok()??;
        Some(serde_json::from_str(&line).unwrap())
    }

    async fn ask(&mut self, line: &str) -> Value {
        self.send(line).await;
        self.recv().await.expect("an answer")
    }

    async fn hello(&mut self, token: &str) -> Value {
        self.ask(&format!(
            r#"{{"id":"h","op":"hello","version":1,"token":"{token}"}}"#
        ))
        .await
    }
}

fn submit(n: usize, text: &str) -> SubmitParams {
    SubmitParams {
        to: common::to(n),
        text: text.into(),
        from: None,
        encoding: None,
        validity: None,
        client_ref: None,
        class: Some("otp".into()),
        receipts: None,
    }
}

fn api_code(e: ClientError) -> ErrorCode {
    match e {
        ClientError::Api(e) => e.code,
        other => panic!("not an API error: {other}"),
    }
}

#[actix_rt::test]
async fn every_operation_answers_as_documented() {
    let w = world(|_| {}).await;
    let c = w.client(LIVE).await;
    assert_eq!(c.hello().token, "live");
    assert_eq!(c.hello().mode, TokenMode::Live);
    c.ping().await.unwrap();
    let mut sub = c.subscribe(0).await.unwrap();
    let accepted = c.submit(&submit(1, "code 1234")).await.unwrap();
    assert_eq!(
        (accepted.state.as_str(), accepted.duplicate),
        ("queued", false)
    );
    // Events arrive in order until the message's final one.
    loop {
        let line = sub.next().await.unwrap();
        match line.event {
            smsgate::api::proto::EventBody::Message {
                message_id,
                state,
                is_final,
                ..
            } if message_id == accepted.message_id && is_final => {
                assert_eq!(state, "delivered");
                break;
            }
            _ => {}
        }
    }
    let status = c.status(&accepted.message_id).await.unwrap();
    assert_eq!(status.state, "delivered");
    assert!(status.is_final);
    assert_eq!(status.to, common::msisdn(1));
    assert_eq!(status.carrier, "live");
    assert_eq!(status.segments.len(), 1);
    let binds = c.binds().await.unwrap();
    let names: Vec<&str> = binds.carriers.iter().map(|c| c.carrier.as_str()).collect();
    assert_eq!(names, ["live", "sandbox"]);
    assert_eq!(
        api_code(c.status("999999").await.unwrap_err()),
        ErrorCode::NotFound
    );
    assert_eq!(
        api_code(c.status("not-an-id").await.unwrap_err()),
        ErrorCode::InvalidRequest
    );
    let mut bad = submit(2, "x");
    bad.to = "hello".into();
    assert_eq!(
        api_code(c.submit(&bad).await.unwrap_err()),
        ErrorCode::InvalidNumber
    );
    let mut abroad = submit(2, "x");
    abroad.to = "+44 7700 900123".into();
    assert_eq!(
        api_code(c.submit(&abroad).await.unwrap_err()),
        ErrorCode::Unroutable
    );
    let mut gsm = submit(2, "認証");
    gsm.encoding = Some(smsgate::api::proto::TextEncodingChoice::Gsm7);
    assert_eq!(
        api_code(c.submit(&gsm).await.unwrap_err()),
        ErrorCode::Unfit
    );
    let mut validity = submit(2, "x");
    validity.validity = Some("soon".into());
    assert_eq!(
        api_code(c.submit(&validity).await.unwrap_err()),
        ErrorCode::InvalidValidity
    );
    drop(sub);
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn a_bad_line_is_answered_and_an_oversized_one_closes_the_connection() {
    let w = world(|_| {}).await;
    let mut raw = w.raw().await;
    assert_eq!(raw.hello(LIVE).await["ok"], true);
    assert_eq!(raw.ask("{oops").await["error"]["code"], "invalid_json");
    assert_eq!(
        raw.ask(r#"{"id":1,"op":"teleport"}"#).await["error"]["code"],
        "unknown_op"
    );
    let missing = raw
        .ask(r#"{"id":2,"op":"message.submit","text":"x"}"#)
        .await;
    assert_eq!(
        (missing["id"].clone(), missing["error"]["code"].clone()),
        (json!(2), json!("invalid_request"))
    );
    assert_eq!(raw.ask(r#"{"id":3,"op":"ping"}"#).await["ok"], true);
    raw.send(&format!(
        r#"{{"id":4,"op":"ping","pad":"{}"}}"#,
        "x".repeat(5000)
    ))
    .await;
    let close = raw.recv().await.unwrap();
    assert_eq!(close["close"]["code"], "too_large");
    assert!(raw.recv().await.is_none(), "the connection stays open");
    w.stop().await;
}

#[actix_rt::test]
async fn tokens_are_checked_and_each_uses_only_its_operations_at_its_rate() {
    let w = world(|_| {}).await;
    let mut raw = w.raw().await;
    assert_eq!(
        raw.ask(r#"{"id":1,"op":"ping"}"#).await["error"]["code"],
        "unauthorized"
    );
    assert_eq!(raw.hello("wrong").await["error"]["code"], "unauthorized");
    let version = raw
        .ask(r#"{"id":2,"op":"hello","version":2,"token":"x"}"#)
        .await;
    assert_eq!(version["error"]["code"], "unsupported_version");
    assert_eq!(
        raw.hello(READER).await["result"]["operations"],
        json!(["message.status"])
    );
    let submit = r#"{"id":3,"op":"message.submit","to":"+819000000001","text":"x"}"#;
    assert_eq!(raw.ask(submit).await["error"]["code"], "forbidden");
    assert!(w.live.inbox(&common::msisdn(1)).is_empty());

    let slow = w.client(SLOW).await;
    // A second's worth (2) of requests, the third refused; the hello is not counted.
    slow.ping().await.unwrap();
    slow.ping().await.unwrap();
    assert_eq!(
        api_code(slow.ping().await.unwrap_err()),
        ErrorCode::RateLimited
    );
    drop(slow);
    w.stop().await;
}

#[actix_rt::test]
async fn a_sandbox_token_never_reaches_a_live_carrier() {
    let w = world(|_| {}).await;
    let sandbox = w.client(SANDBOX).await;
    assert_eq!(sandbox.hello().mode, TokenMode::Sandbox);
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(
            sandbox
                .submit(&submit(n, &format!("テスト配信 {n}")))
                .await
                .unwrap(),
        );
    }
    for accepted in &ids {
        let id = accepted.message_id.parse().unwrap();
        let status = common::final_status(&w.gw, id).await;
        assert_eq!(status.carrier, "sandbox");
        assert_eq!(status.state, smsgate::store::State::Delivered);
    }
    for n in 0..20 {
        assert_eq!(w.sandbox.inbox(&common::msisdn(n)).len(), 1);
        assert!(w.live.inbox(&common::msisdn(n)).is_empty());
    }
    assert_eq!(
        w.live.stats().submits_accepted + w.live.stats().submits_rejected,
        0
    );
    // Each mode sees only its own messages.
    let live = w.client(LIVE).await;
    let err = live.status(&ids[0].message_id).await.unwrap_err();
    assert_eq!(api_code(err), ErrorCode::NotFound);
    assert_eq!(
        sandbox.status(&ids[0].message_id).await.unwrap().carrier,
        "sandbox"
    );
    drop((live, sandbox));
    w.stop().await;
}

#[actix_rt::test]
async fn the_same_client_ref_returns_the_first_message_and_sends_nothing() {
    let w = world(|_| {}).await;
    let c = w.client(LIVE).await;
    let mut m = submit(5, "once");
    m.client_ref = Some("order-77".into());
    let first = c.submit(&m).await.unwrap();
    let again = c.submit(&m).await.unwrap();
    assert_eq!(again.message_id, first.message_id);
    assert!(again.duplicate && !first.duplicate);
    common::final_status(&w.gw, first.message_id.parse().unwrap()).await;
    assert_eq!(w.live.inbox(&common::msisdn(5)).len(), 1);
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn many_pipelined_requests_on_one_connection_are_each_answered_once() {
    let w = world(|_| {}).await;
    let mut raw = w.raw().await;
    raw.hello(LIVE).await;
    let n = 500;
    let mut batch = String::new();
    for i in 0..n {
        batch.push_str(&format!(
            "{{\"id\":{i},\"op\":\"message.submit\",\"to\":\"{}\",\"text\":\"p {i}\"}}\n",
            common::to(1000 + i)
        ));
    }
    raw.w.write_all(batch.as_bytes()).await.unwrap();
    let mut seen = vec![false; n];
    for _ in 0..n {
        let answer = raw.recv().await.unwrap();
        assert_eq!(answer["ok"], true, "{answer}");
        let id = answer["id"].as_u64().unwrap() as usize;
        assert!(
            !std::mem::replace(&mut seen[id], true),
            "{id} answered twice"
        );
    }
    assert!(seen.iter().all(|s| *s));
    w.stop().await;
}

#[actix_rt::test]
async fn a_subscriber_that_reconnects_resumes_at_its_cursor_and_misses_nothing() {
    let w = world(|_| {}).await;
    let c = w.client(LIVE).await;
    let mut sub = c.subscribe(0).await.unwrap();
    let first = c.submit(&submit(10, "a")).await.unwrap();
    let first_event = sub.next().await.unwrap();
    drop(sub);
    drop(c);
    // While nobody listens, more happens.
    let c = w.client(LIVE).await;
    let second = c.submit(&submit(11, "b")).await.unwrap();
    common::final_status(&w.gw, second.message_id.parse().unwrap()).await;
    common::final_status(&w.gw, first.message_id.parse().unwrap()).await;
    let expected: Vec<u64> =
        w.gw.events(first_event.cursor, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
    let mut sub = c.subscribe(first_event.cursor).await.unwrap();
    let mut got = Vec::new();
    while got.len() < expected.len() {
        got.push(sub.next().await.unwrap().cursor);
    }
    assert_eq!(got, expected);
    drop(sub);
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn a_subscription_names_the_oldest_and_the_newest_event_the_log_keeps() {
    let w = world(|_| {}).await;
    let mut raw = w.raw().await;
    raw.hello(LIVE).await;
    let empty = raw
        .ask(r#"{"id":"s","op":"events.subscribe","cursor":0}"#)
        .await;
    assert_eq!(empty["result"]["first"], 0, "{empty}");
    assert_eq!(empty["result"]["last"], 0, "{empty}");
    drop(raw);
    let c = w.client(LIVE).await;
    let sent = c.submit(&submit(12, "x")).await.unwrap();
    common::final_status(&w.gw, sent.message_id.parse().unwrap()).await;
    let last = w.gw.events(0, 10_000).await.unwrap().len() as u64;
    assert!(last > 1);
    let mut raw = w.raw().await;
    raw.hello(LIVE).await;
    let kept = raw
        .ask(r#"{"id":"s","op":"events.subscribe","cursor":0}"#)
        .await;
    assert_eq!(kept["result"]["first"], 1, "{kept}");
    assert_eq!(kept["result"]["last"], last, "{kept}");
    drop(raw);
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn a_subscriber_that_does_not_read_is_cut_off_with_a_reason() {
    let w = world(|s| s.event_buffer = 4).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(w.api.local_addr()).await.unwrap();
    let (r, wr) = stream.into_split();
    let mut raw = Raw {
        lines: BufReader::new(r).lines(),
        w: wr,
    };
    raw.hello(LIVE).await;
    assert_eq!(
        raw.ask(r#"{"id":"s","op":"events.subscribe"}"#).await["ok"],
        true
    );
    // The subscriber reads nothing while thousands of events are made.
    let messages: Vec<(usize, String)> = (0..3000).map(|n| (n, format!("m {n}"))).collect();
    common::submit_all(&w.gw, &messages, smsgate::store::Class::Bulk).await;
    let close = loop {
        let line = raw.recv().await.expect("a close notice before the end");
        if line.get("close").is_some() {
            break line;
        }
    };
    assert_eq!(close["close"]["code"], "slow_subscriber");
    assert!(raw.recv().await.is_none());
    // The gateway went on taking work while the subscriber stalled.
    assert!(w.gw.depth().await.unwrap().open <= 3000);
    w.stop().await;
}

#[actix_rt::test]
async fn a_connection_without_hello_is_closed_at_the_deadline_and_the_cap_holds() {
    let w = world(|s| {
        s.limits.hello_deadline = Duration::from_millis(300);
        s.max_connections = 2;
    })
    .await;
    // Slowloris: bytes trickle in but no hello completes.
    let mut slow = w.raw().await;
    slow.w.write_all(b"{\"id\":1,").await.unwrap();
    let close = slow.recv().await.unwrap();
    assert_eq!(close["close"]["code"], "hello_timeout");
    assert!(slow.recv().await.is_none());
    // Two connections are served, a third is told why and closed.
    let a = w.client(LIVE).await;
    let b = w.client(LIVE).await;
    let mut third = w.raw().await;
    let refused = third.recv().await.unwrap();
    assert_eq!(refused["close"]["code"], "too_many_connections");
    a.ping().await.unwrap();
    b.ping().await.unwrap();
    drop((a, b));
    w.stop().await;
}

#[actix_rt::test]
async fn the_python_example_runs_against_the_service() {
    let w = world(|_| {}).await;
    let addr = w.addr();
    let out = tokio::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/client.py"))
        .args(["--addr", &addr, "--token", SANDBOX, "--to", &common::to(77)])
        .args(["--inbox", &format!("http://{}", w.sandbox.control_addr())])
        .output();
    let out = common::within("python3 examples/client.py", out)
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("mode sandbox"), "{stdout}");
    assert!(stdout.contains("status: delivered via sandbox"), "{stdout}");
    // Then a verification, its code read from the sandbox handset's inbox.
    assert!(
        stdout.contains("verify: a mistyped code: wrong, 4 attempt(s) left"),
        "{stdout}"
    );
    assert!(stdout.contains("verify: approved\n"), "{stdout}");
    assert!(
        stdout.contains("verify: status approved, delivery delivered"),
        "{stdout}"
    );
    assert_eq!(w.sandbox.inbox(&common::msisdn(77)).len(), 2);
    assert!(w.live.inbox(&common::msisdn(77)).is_empty());
    w.stop().await;
}

async fn cli(args: &[&str], stdin: &str) -> (i32, String) {
    common::cli(args, stdin, &[]).await
}

#[actix_rt::test]
async fn the_cli_sends_reads_stdin_reports_status_and_exits_3_when_refused() {
    let w = world(|_| {}).await;
    let addr = w.addr();
    let to = common::to(88);
    let base = ["--api", addr.as_str(), "--token", LIVE];
    let (code, out) = cli(
        &[&["send"][..], &base, &[to.as_str()]].concat(),
        "from stdin\n",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let id = out
        .trim()
        .strip_prefix("accepted: message ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    common::final_status(&w.gw, id.parse().unwrap()).await;
    assert_eq!(w.live.inbox(&common::msisdn(88))[0].text, "from stdin");
    let (code, out) = cli(
        &[&["status", "--json"][..], &base, &[id.as_str()]].concat(),
        "",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let status: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["state"], "delivered");
    let (code, out) = cli(&[&["status"][..], &base].concat(), "").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("carrier live: 1 of 1 binds up"), "{out}");
    let (code, out) = cli(
        &[&["send"][..], &base, &["+44 7700 900123", "x"]].concat(),
        "",
    )
    .await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("unroutable"), "{out}");
    let (code, out) = cli(&["send", "--api", "127.0.0.1:1", "+819000000001", "x"], "").await;
    assert_eq!(code, 1, "{out}");
    w.stop().await;
}
