//! The verify.* operations over the TCP API end to end: a gateway with its verifier, a live
//! carrier and a sandbox carrier (each its own simulated SMSC, whose handset inbox is where
//! the tests read the codes), the listener on 127.0.0.1:0, and clients speaking raw lines or
//! through `smsgate::api::client`.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use secrecy::SecretString;
use serde_json::{json, Value};
use smsgate::api::auth::sha256_hex;
use smsgate::api::client::{Client, ClientError};
use smsgate::api::proto::{ApiError, ErrorCode, EventBody, VerifyStartParams};
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::api::session::Limits;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::config::{TokenConfig, TokenMode};
use smsgate::gateway::{Gateway, VerifySpec};
use smsgate::verify::policy::{Budget, Policy};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const LIVE: &str = "live-secret";
const SANDBOX: &str = "sandbox-secret";
/// May start and read verifications, not check them.
const STARTER: &str = "starter-secret";

struct World {
    gw: Gateway,
    api: ApiServer,
    live: smsc_sim::SimHandle,
    sandbox: smsc_sim::SimHandle,
    _dir: tempfile::TempDir,
}

fn token(name: &str, secret: &str, ops: &[&str], mode: TokenMode) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        sha256: sha256_hex(secret),
        operations: ops.iter().map(|s| (*s).to_owned()).collect(),
        rate: 100_000,
        mode,
        webhook: None,
    }
}

/// The test policy: `login` resends at once (no cooldown), `signup` keeps the default 30 s
/// cooldown, `payment` allows one send; a number is locked after 2 wrong codes and takes 3
/// sends an hour; +81 80 numbers have a budget of 1 send.
fn policy(p: &mut Policy) {
    if let Some(login) = p.profiles.get_mut("login") {
        login.resend_cooldown_ms = 0;
    }
    if let Some(payment) = p.profiles.get_mut("payment") {
        payment.max_sends = 1;
    }
    p.number.lock_after = 2;
    p.number.lock_initial_ms = 60_000;
    p.number.sends_per_window = 3;
    p.budgets.budgets.push(Budget {
        prefix: "8180".into(),
        max: 1,
    });
}

async fn world(verify: Option<VerifySpec>) -> World {
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
    spec.verify = verify;
    let gw = Gateway::start(spec).await.unwrap();
    let tokens = [
        token("live", LIVE, &["*"], TokenMode::Live),
        token("sandbox", SANDBOX, &["*"], TokenMode::Sandbox),
        token(
            "starter",
            STARTER,
            &["verify.start", "verify.status"],
            TokenMode::Live,
        ),
    ];
    let settings = ServerSettings {
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
    let api = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings, gw.clone()).unwrap();
    World {
        gw,
        api,
        live,
        sandbox,
        _dir: dir,
    }
}

impl World {
    async fn client(&self, token: &str) -> Client {
        Client::connect(&self.api.local_addr().to_string(), &token.into())
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.api.stop().await;
        assert!(self.gw.shutdown().await.flushed);
        self.live.shutdown().await;
        self.sandbox.shutdown().await;
    }
}

/// The `nth` code the handset of number `n` received on `sim`.
async fn code(sim: &smsc_sim::SimHandle, n: usize, nth: usize) -> String {
    let inbox = common::within(
        "the code at the handset",
        sim.wait_for_inbox(&common::msisdn(n), nth),
    )
    .await;
    common::code_in(&inbox[nth - 1].text)
}

fn api_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Api(e) => e,
        other => panic!("not an API error: {other}"),
    }
}

fn secret(code: &str) -> SecretString {
    SecretString::from(code.to_owned())
}

/// A code of the same length that is not `code`.
fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect()
}

#[actix_rt::test]
async fn start_check_and_status_answer_as_documented_with_the_delivery() {
    let w = world(Some(common::verify_spec(policy))).await;
    let c = w.client(LIVE).await;
    let mut events = c.subscribe(0).await.unwrap();
    let started = c
        .verify_start(&VerifyStartParams::new(common::to(1)))
        .await
        .unwrap();
    assert_eq!(started.verification_id.len(), 48);
    assert_eq!(
        (
            started.status.as_str(),
            started.channel.as_str(),
            started.to.as_str()
        ),
        ("pending", "sms", common::msisdn(1).as_str())
    );
    assert_eq!((started.attempts_left, started.sends), (5, 1));
    assert!(started.expires_at > started.resend_allowed_at.saturating_sub(1));
    let message_id = started.message_id.clone().expect("the SMS is queued");
    let id = started.verification_id.clone();
    let code = code(&w.live, 1, 1).await;
    assert_eq!(code.len(), 6);
    assert!(w.sandbox.inbox(&common::msisdn(1)).is_empty());

    let r = c.verify_check(&id, &secret(&wrong(&code))).await.unwrap();
    assert_eq!(
        (r.status.as_str(), r.attempts_left, r.retry_after_ms),
        ("wrong", Some(4), None)
    );
    let r = c.verify_check(&id, &secret(&code)).await.unwrap();
    assert!(r.approved(), "{r:?}");
    assert_eq!(r.verification_id, id);
    // A code works once.
    let r = c.verify_check(&id, &secret(&code)).await.unwrap();
    assert_eq!(r.status, "not_found");

    common::final_status(&w.gw, message_id.parse().unwrap()).await;
    let s = c.verify_status(&id).await.unwrap();
    assert_eq!(
        (s.status.as_str(), s.purpose.as_str(), s.channel.as_str()),
        ("approved", "login", "sms")
    );
    assert_eq!((s.to.as_str(), s.sends), (common::msisdn(1).as_str(), 1));
    assert_eq!(s.message_id.as_deref(), Some(message_id.as_str()));
    assert_eq!(s.delivery.as_deref(), Some("delivered"));
    assert_eq!(s.delivery_detail, None);
    assert!(s.created_at <= s.expires_at);

    // The outcome is an event of the live stream.
    loop {
        let line = events.next().await.unwrap();
        if let EventBody::Verification {
            verification_id,
            status,
            purpose,
        } = line.event
        {
            assert_eq!(
                (verification_id.as_str(), status.as_str(), purpose.as_str()),
                (id.as_str(), "approved", "login")
            );
            break;
        }
    }
    drop((events, c));
    w.stop().await;
}

#[actix_rt::test]
async fn resend_voids_the_old_code_and_cancel_ends_the_verification() {
    let w = world(Some(common::verify_spec(policy))).await;
    let c = w.client(LIVE).await;
    let first = c
        .verify_start(&VerifyStartParams::new(common::to(2)))
        .await
        .unwrap();
    let id = first.verification_id.clone();
    let old = code(&w.live, 2, 1).await;
    let again = c.verify_resend(&id).await.unwrap();
    assert_eq!(
        (again.verification_id.as_str(), again.sends),
        (id.as_str(), 2)
    );
    assert_ne!(again.message_id, first.message_id);
    let new = code(&w.live, 2, 2).await;
    if new != old {
        let r = c.verify_check(&id, &secret(&old)).await.unwrap();
        assert_eq!(r.status, "wrong", "the old code is void");
    }
    assert!(c.verify_check(&id, &secret(&new)).await.unwrap().approved());

    let other = c
        .verify_start(&VerifyStartParams::new(common::to(3)))
        .await
        .unwrap();
    let code3 = code(&w.live, 3, 1).await;
    let canceled = c.verify_cancel(&other.verification_id).await.unwrap();
    assert_eq!(
        (canceled.verification_id.as_str(), canceled.status.as_str()),
        (other.verification_id.as_str(), "canceled")
    );
    let r = c
        .verify_check(&other.verification_id, &secret(&code3))
        .await
        .unwrap();
    assert_eq!(r.status, "not_found", "a cancelled code does not work");
    let e = api_error(c.verify_cancel(&other.verification_id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = api_error(c.verify_resend(&other.verification_id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(
        c.verify_status(&other.verification_id)
            .await
            .unwrap()
            .status,
        "canceled"
    );
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn an_unknown_id_is_not_found_in_the_shape_of_a_wrong_code() {
    let w = world(Some(common::verify_spec(policy))).await;
    let stream = tokio::net::TcpStream::connect(w.api.local_addr())
        .await
        .unwrap();
    let (r, mut wr) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let mut ask = async |line: String| -> Value {
        wr.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        let answer = common::within("an answer", lines.next_line())
            .await
            .unwrap()
            .unwrap();
        serde_json::from_str(&answer).unwrap()
    };
    let hello = ask(format!(
        r#"{{"id":"h","op":"hello","version":1,"token":"{LIVE}"}}"#
    ))
    .await;
    let ops = hello["result"]["operations"].as_array().unwrap().clone();
    for op in [
        "verify.start",
        "verify.check",
        "verify.resend",
        "verify.cancel",
        "verify.status",
    ] {
        assert!(ops.contains(&json!(op)), "{op} in {ops:?}");
    }
    let started = ask(format!(
        r#"{{"id":1,"op":"verify.start","to":"{}"}}"#,
        common::to(4)
    ))
    .await;
    let id = started["result"]["verification_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let real = code(&w.live, 4, 1).await;
    let wrong_answer = ask(format!(
        r#"{{"id":2,"op":"verify.check","verification_id":"{id}","code":"{}"}}"#,
        wrong(&real)
    ))
    .await;
    let unknown = ask(
        r#"{"id":3,"op":"verify.check","verification_id":"00000000000000000000000000000000","code":"123456"}"#
            .into(),
    )
    .await;
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(wrong_answer["ok"], true);
    assert_eq!(unknown["ok"], true, "{unknown}");
    assert_eq!(keys(&wrong_answer), keys(&unknown));
    assert_eq!(keys(&wrong_answer["result"]), keys(&unknown["result"]));
    assert_eq!(wrong_answer["result"]["status"], "wrong");
    assert_eq!(unknown["result"]["status"], "not_found");
    assert_eq!(unknown["result"]["attempts_left"], Value::Null);
    for (n, op) in ["verify.resend", "verify.cancel", "verify.status"]
        .iter()
        .enumerate()
    {
        let answer = ask(format!(
            r#"{{"id":{},"op":"{op}","verification_id":"nope"}}"#,
            10 + n
        ))
        .await;
        assert_eq!(answer["error"]["code"], "not_found", "{op}: {answer}");
    }
    let missing = ask(r#"{"id":20,"op":"verify.check","verification_id":"x"}"#.into()).await;
    assert_eq!(missing["error"]["code"], "invalid_request");
    drop((wr, lines));
    w.stop().await;
}

#[actix_rt::test]
async fn a_token_without_verify_check_is_forbidden_it() {
    let w = world(Some(common::verify_spec(policy))).await;
    let starter = w.client(STARTER).await;
    let started = starter
        .verify_start(&VerifyStartParams::new(common::to(5)))
        .await
        .unwrap();
    let real = code(&w.live, 5, 1).await;
    let e = api_error(
        starter
            .verify_check(&started.verification_id, &secret(&real))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = api_error(
        starter
            .verify_cancel(&started.verification_id)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::Forbidden);
    // Nothing was counted: the verification is as it was, and works.
    let s = starter
        .verify_status(&started.verification_id)
        .await
        .unwrap();
    assert_eq!((s.status.as_str(), s.attempts_left), ("pending", 5));
    let live = w.client(LIVE).await;
    assert!(live
        .verify_check(&started.verification_id, &secret(&real))
        .await
        .unwrap()
        .approved());
    drop((starter, live));
    w.stop().await;
}

#[actix_rt::test]
async fn a_sandbox_verification_reaches_only_the_sandbox_simulator_and_only_sandbox_tokens() {
    let w = world(Some(common::verify_spec(policy))).await;
    let sandbox = w.client(SANDBOX).await;
    let live = w.client(LIVE).await;
    let mut live_events = live.subscribe(0).await.unwrap();
    let started = sandbox
        .verify_start(&VerifyStartParams::new(common::to(6)))
        .await
        .unwrap();
    let id = started.verification_id.clone();
    let real = code(&w.sandbox, 6, 1).await;
    let message: u64 = started.message_id.clone().unwrap().parse().unwrap();
    let status = common::final_status(&w.gw, smsgate::store::MessageId(message)).await;
    assert_eq!(status.carrier, "sandbox");
    assert!(w.live.inbox(&common::msisdn(6)).is_empty());
    assert_eq!(
        w.live.stats().submits_accepted + w.live.stats().submits_rejected,
        0
    );
    // A live token sees nothing of it: not its status, not its check (which counts no
    // attempt), not its resend or cancel.
    let e = api_error(live.verify_status(&id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::NotFound);
    let r = live.verify_check(&id, &secret(&real)).await.unwrap();
    assert_eq!(r.status, "not_found");
    let e = api_error(live.verify_cancel(&id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = api_error(live.verify_resend(&id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::NotFound);
    let s = sandbox.verify_status(&id).await.unwrap();
    assert_eq!((s.status.as_str(), s.attempts_left), ("pending", 5));
    assert_eq!(s.delivery.as_deref(), Some("delivered"));
    assert!(sandbox
        .verify_check(&id, &secret(&real))
        .await
        .unwrap()
        .approved());
    // The live stream carries no sandbox verification's event: a live one's outcome (made
    // after the sandbox approval) is the first verification event it sees.
    let probe = live
        .verify_start(&VerifyStartParams::new(common::to(7)))
        .await
        .unwrap();
    live.verify_cancel(&probe.verification_id).await.unwrap();
    loop {
        if let EventBody::Verification {
            verification_id, ..
        } = live_events.next().await.unwrap().event
        {
            assert_eq!(verification_id, probe.verification_id);
            break;
        }
    }
    drop((live_events, live, sandbox));
    w.stop().await;
}

#[actix_rt::test]
async fn refusals_and_bad_starts_have_typed_codes_with_the_wait_when_it_helps() {
    let w = world(Some(common::verify_spec(policy))).await;
    let c = w.client(LIVE).await;
    let start = |to: String, tune: fn(&mut VerifyStartParams)| {
        let mut p = VerifyStartParams::new(to);
        tune(&mut p);
        p
    };
    let refused = async |p: VerifyStartParams| api_error(c.verify_start(&p).await.unwrap_err());
    let e = refused(start("hello".into(), |_| {})).await;
    assert_eq!(e.code, ErrorCode::InvalidNumber);
    let e = refused(start("+44 7700 900123".into(), |_| {})).await;
    assert_eq!(e.code, ErrorCode::DestinationNotAllowed);
    let e = refused(start(common::to(8), |p| p.purpose = Some("karaoke".into()))).await;
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(e.message.contains("purpose"), "{}", e.message);
    let e = refused(start(common::to(8), |p| p.code_length = Some(3))).await;
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(e.message.contains("code_length"), "{}", e.message);
    for bad in ["soon", "20m", "0s"] {
        let mut p = start(common::to(8), |_| {});
        p.validity = Some(bad.into());
        let e = refused(p).await;
        assert_eq!(e.code, ErrorCode::InvalidValidity, "{bad}: {}", e.message);
    }
    let e = refused(start(common::to(8), |p| {
        p.channel = Some(smsgate::verify::template::Channel::SmsLink)
    }))
    .await;
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(e.message.contains("link"), "{}", e.message);
    let e = refused(start(common::to(8), |p| {
        p.link = Some("https://example.com/v/{token}".into())
    }))
    .await;
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert!(w.live.inbox(&common::msisdn(8)).is_empty(), "nothing sent");

    // A link verification: its SMS carries the link, its token checks.
    let link = c
        .verify_start(&start(common::to(9), |p| {
            p.channel = Some(smsgate::verify::template::Channel::SmsLink);
            p.link = Some("https://example.com/v/{token}".into());
            p.locale = Some(smsgate::verify::template::Locale::En);
        }))
        .await
        .unwrap();
    assert_eq!(link.channel, "sms_link");
    let inbox = common::within(
        "the link at the handset",
        w.live.wait_for_inbox(&common::msisdn(9), 1),
    )
    .await;
    let token = inbox[0]
        .text
        .split("https://example.com/v/")
        .nth(1)
        .and_then(|rest| rest.split([' ', ')']).next())
        .unwrap()
        .to_owned();
    assert!(c
        .verify_check(&link.verification_id, &secret(&token))
        .await
        .unwrap()
        .approved());

    // signup keeps its 30 s cooldown; payment has one send.
    let signup = c
        .verify_start(&start(common::to(10), |p| {
            p.purpose = Some("signup".into())
        }))
        .await
        .unwrap();
    let e = api_error(c.verify_resend(&signup.verification_id).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::Cooldown);
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 30_000));
    let payment = c
        .verify_start(&start(common::to(11), |p| {
            p.purpose = Some("payment".into())
        }))
        .await
        .unwrap();
    let e = api_error(c.verify_resend(&payment.verification_id).await.unwrap_err());
    assert_eq!((e.code, e.retry_after_ms), (ErrorCode::MaxSends, None));

    // Three sends an hour to a number; the fourth is refused with the wait.
    for _ in 0..3 {
        c.verify_start(&start(common::to(12), |_| {}))
            .await
            .unwrap();
    }
    let e = refused(start(common::to(12), |_| {})).await;
    assert_eq!(e.code, ErrorCode::SendCap);
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0));

    // +81 80 has a budget of one send.
    c.verify_start(&start("+81 80 0000 0001".into(), |_| {}))
        .await
        .unwrap();
    let e = refused(start("+81 80 0000 0002".into(), |_| {})).await;
    assert_eq!(e.code, ErrorCode::BudgetExhausted);
    assert!(e.retry_after_ms.is_some());

    // Two wrong codes lock the number: checks answer locked, starts are refused locked.
    let v = c
        .verify_start(&start(common::to(13), |_| {}))
        .await
        .unwrap();
    let real = code(&w.live, 13, 1).await;
    for _ in 0..2 {
        let r = c
            .verify_check(&v.verification_id, &secret(&wrong(&real)))
            .await
            .unwrap();
        assert_eq!(r.status, "wrong");
    }
    let r = c
        .verify_check(&v.verification_id, &secret(&real))
        .await
        .unwrap();
    assert_eq!(r.status, "locked");
    assert!(r.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 60_000));
    assert_eq!(r.attempts_left, None);
    let e = refused(start(common::to(13), |_| {})).await;
    assert_eq!(e.code, ErrorCode::Locked);
    assert!(e.retry_after_ms.is_some_and(|ms| ms > 0));
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn without_a_verifier_every_verify_operation_is_unavailable() {
    let w = world(None).await;
    let c = w.client(LIVE).await;
    let e = api_error(
        c.verify_start(&VerifyStartParams::new(common::to(14)))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, ErrorCode::Unavailable);
    let e = api_error(c.verify_check("x", &secret("123456")).await.unwrap_err());
    assert_eq!(e.code, ErrorCode::Unavailable);
    let e = api_error(c.verify_status("x").await.unwrap_err());
    assert_eq!(e.code, ErrorCode::Unavailable);
    assert!(w.live.inbox(&common::msisdn(14)).is_empty());
    drop(c);
    w.stop().await;
}

async fn cli(args: &[&str], stdin: &str) -> (i32, String) {
    common::cli(args, stdin, &[]).await
}

#[actix_rt::test]
async fn the_cli_starts_checks_from_stdin_resends_cancels_and_exits_3_unless_approved() {
    let w = world(Some(common::verify_spec(policy))).await;
    let addr = w.api.local_addr().to_string();
    let base = ["--api", addr.as_str(), "--token", LIVE];
    let to = common::to(15);
    let (code, out) = cli(
        &[
            &["verify", "start", "--json", "--locale", "en"][..],
            &base,
            &[&to],
        ]
        .concat(),
        "",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let started: Value = serde_json::from_str(out.trim()).unwrap();
    let id = started["verification_id"].as_str().unwrap().to_owned();
    let real = self::code(&w.live, 15, 1).await;
    assert!(w.live.inbox(&common::msisdn(15))[0]
        .text
        .starts_with("code: "));
    let (code, out) = cli(
        &[&["verify", "check"][..], &base, &[&id, &wrong(&real)]].concat(),
        "",
    )
    .await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("wrong code: 4 attempt(s) left"), "{out}");
    let (code, out) = cli(
        &[&["verify", "check"][..], &base, &[&id]].concat(),
        &format!("{real}\n"),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("approved: verification "), "{out}");
    let (code, out) = cli(
        &[&["verify", "check", "--json"][..], &base, &[&id]].concat(),
        &real,
    )
    .await;
    assert_eq!(code, 3, "{out}");
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(again["status"], "not_found");
    let (code, out) = cli(&[&["verify", "status"][..], &base, &[&id]].concat(), "").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": approved (login, sms to "), "{out}");

    let (code, out) = cli(
        &[&["verify", "start"][..], &base, &[&common::to(16)]].concat(),
        "",
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let id = out
        .strip_prefix("started: verification ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    let (code, out) = cli(&[&["verify", "resend"][..], &base, &[&id]].concat(), "").await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("resent: "), "{out}");
    assert!(out.contains("send 2"), "{out}");
    let (code, out) = cli(&[&["verify", "cancel"][..], &base, &[&id]].concat(), "").await;
    assert_eq!(
        (code, out.trim()),
        (0, format!("canceled: verification {id}").as_str())
    );
    let (code, out) = cli(&[&["verify", "cancel"][..], &base, &[&id]].concat(), "").await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("not_found"), "{out}");
    let (code, out) = cli(
        &[&["verify", "start"][..], &base, &["+44 7700 900123"]].concat(),
        "",
    )
    .await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("destination_not_allowed"), "{out}");
    let (code, out) = cli(&[&["verify", "check"][..], &base, &[&id]].concat(), "").await;
    assert_eq!(code, 2, "an empty stdin is no code: {out}");
    let (code, out) = cli(&["verify", "status", "--api", "127.0.0.1:1", "x"], "").await;
    assert_eq!(code, 1, "{out}");
    w.stop().await;
}
