//! Webhooks end to end: the gateway on the simulated SMSC, a receiver (axum on
//! 127.0.0.1:0) that answers what each test scripts, and the dispatcher in between.
//! Retries until acknowledged under one event id, deliveries pending across a restart,
//! a dead letter and its replay, a verification outcome, and the documentation's Python
//! verifying a real signature. Waits are woken by the receiver's channel and the
//! dispatcher's stats; the backoff is milliseconds, so nothing sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use smsgate::gateway::{Gateway, GatewaySpec};
use smsgate::outbox::actor::Submit;
use smsgate::store::{Class, MessageId};
use smsgate::verify::actor::Start;
use smsgate::verify::policy::CheckOutcome;
use smsgate::webhook::dispatcher::WebhookStats;
use smsgate::webhook::{Endpoint, RetryPolicy, WebhookHandle, WebhookSpec};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const SECRET: &str = "whsec-test-0123456789abcdef";
const TOKEN: &str = "shop";

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    event_id: String,
    signature: String,
    content_type: String,
    body: Vec<u8>,
    status: u16,
}

impl Received {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the receiver answers: the scripted statuses in turn, then `then`.
#[derive(Clone)]
struct Receiver {
    script: Arc<parking_lot::Mutex<(VecDeque<u16>, u16)>>,
    seen: mpsc::UnboundedSender<Received>,
}

impl Receiver {
    fn answer(&self, script: &[u16], then: u16) {
        *self.script.lock() = (script.iter().copied().collect(), then);
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let status = {
        let mut script = r.script.lock();
        let then = script.1;
        script.0.pop_front().unwrap_or(then)
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let _ = r.seen.send(Received {
        event_id: header("smsgate-event-id"),
        signature: header("smsgate-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
        status,
    });
    let code = StatusCode::from_u16(status).expect("a status");
    if status == 429 {
        (code, [("retry-after", "0")]).into_response()
    } else {
        code.into_response()
    }
}

async fn receiver() -> (SocketAddr, Receiver, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let r = Receiver {
        script: Arc::new(parking_lot::Mutex::new((VecDeque::new(), 200))),
        seen: tx,
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, r, rx)
}

fn webhooks(addr: SocketAddr) -> WebhookSpec {
    let endpoint = Endpoint {
        url: format!("http://{addr}/hook").parse().unwrap(),
        secret: SecretString::from(SECRET),
        intermediate: false,
    };
    WebhookSpec {
        endpoints: HashMap::from([(TOKEN.to_owned(), endpoint)]),
        retry: RetryPolicy::new(
            Duration::from_millis(5),
            Duration::from_millis(20),
            Duration::from_secs(3600),
        ),
        timeout: Duration::from_secs(5),
        concurrency: 4,
    }
}

fn spec(dir: &Path, sim: &smsc_sim::SimHandle, hook: SocketAddr) -> GatewaySpec {
    let mut spec = common::spec(dir, vec![common::carrier("sim", sim.smpp_addr(), 1, 10)]);
    spec.webhooks = Some(webhooks(hook));
    spec
}

async fn submit(gw: &Gateway, n: usize) -> MessageId {
    let submit = Submit {
        owner: Some(TOKEN.into()),
        ..Submit::new(common::to(n), format!("hello {n}"), Class::Transactional)
    };
    gw.submit(submit).await.expect("accepted").id
}

fn hooks(gw: &Gateway) -> &WebhookHandle {
    gw.webhooks().expect("the dispatcher runs")
}

/// Waits until the dispatcher's counts satisfy `done` (woken by each change).
async fn stats_until(
    gw: &Gateway,
    what: &str,
    done: impl Fn(&WebhookStats) -> bool,
) -> WebhookStats {
    let mut watch = hooks(gw).subscribe();
    common::within(what, async {
        loop {
            let stats = *watch.borrow_and_update();
            if done(&stats) {
                return stats;
            }
            watch.changed().await.expect("dispatcher running");
        }
    })
    .await
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>, what: &str) -> Received {
    common::within(what, rx.recv())
        .await
        .expect("the receiver runs")
}

/// The signature is `t=UNIX,v1=HMAC-SHA256(secret, "t.body")` with a recent `t`.
fn assert_signed(r: &Received) {
    let (t, v1) = r
        .signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("signature {:?}", r.signature));
    let t: u64 = t.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(t.abs_diff(now) < 120, "t={t} now={now}");
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&r.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected);
}

#[actix_rt::test]
async fn a_receiver_that_fails_three_times_gets_one_event_id_until_it_acknowledges() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, script, mut rx) = receiver().await;
    script.answer(&[500, 503, 429], 200);
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    let id = submit(&gw, 1).await;
    let mut attempts = Vec::new();
    for i in 0..4 {
        attempts.push(next(&mut rx, &format!("attempt {i}")).await);
    }
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 503, 429, 200]);
    for r in &attempts {
        assert_eq!(r.event_id, format!("message.{id}.delivered"));
        assert_eq!(r.content_type, "application/json");
        assert_eq!(
            r.body, attempts[0].body,
            "every attempt sends the same body"
        );
        assert_signed(r);
    }
    let body = attempts[0].json();
    assert_eq!(body["id"], format!("message.{id}.delivered"));
    assert_eq!(body["type"], "message.delivered");
    assert_eq!(body["data"]["message_id"], id.to_string());
    assert_eq!(body["data"]["state"], "delivered");
    assert_eq!(body["data"]["final"], true);
    let stats = stats_until(&gw, "the acknowledgement", |s| {
        s.acked >= 1 && s.pending == 0
    })
    .await;
    assert_eq!((stats.acked, stats.dead), (1, 0));
    // A message of no token (the CLI's, a test's) has no webhook; one after it does:
    // so once that one arrives, nothing else was sent in between.
    common::submit(&gw, 2, "no owner", Class::Transactional).await;
    let third = submit(&gw, 3).await;
    let after = next(&mut rx, "the next message's webhook").await;
    assert_eq!(after.event_id, format!("message.{third}.delivered"));
    assert!(rx.try_recv().is_err());
    gw.shutdown().await;
}

#[actix_rt::test]
async fn webhooks_pending_at_shutdown_are_delivered_after_the_restart() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, script, mut rx) = receiver().await;
    script.answer(&[], 503);
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    let id = submit(&gw, 1).await;
    let failed = next(&mut rx, "a failed attempt").await;
    assert_eq!(failed.status, 503);
    let report = gw.shutdown().await;
    assert!(report.flushed);
    assert!(gw.webhooks().unwrap().stats().await.is_err(), "stopped");
    // The receiver is back; so is the gateway, on the same data directory.
    script.answer(&[], 200);
    while rx.try_recv().is_ok() {}
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    let delivered = loop {
        let r = next(&mut rx, "the attempt after the restart").await;
        if r.status == 200 {
            break r;
        }
    };
    assert_eq!(delivered.event_id, format!("message.{id}.delivered"));
    assert_eq!(delivered.body, failed.body);
    assert_signed(&delivered);
    let stats = stats_until(&gw, "the acknowledgement", |s| {
        s.acked == 1 && s.pending == 0
    })
    .await;
    assert_eq!(stats.dead, 0);
    // The cursor was kept: the restart made no second delivery of the same event.
    let later = submit(&gw, 2).await;
    let r = next(&mut rx, "the next webhook").await;
    assert_eq!(r.event_id, format!("message.{later}.delivered"));
    gw.shutdown().await;
}

#[actix_rt::test]
async fn a_refused_webhook_is_a_dead_letter_until_it_is_replayed() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, script, mut rx) = receiver().await;
    script.answer(&[400], 200);
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    let id = submit(&gw, 1).await;
    let refused = next(&mut rx, "the refused attempt").await;
    assert_eq!(refused.status, 400);
    stats_until(&gw, "the dead letter", |s| s.dead == 1 && s.pending == 0).await;
    let letters = hooks(&gw).dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(letter.event_id, format!("message.{id}.delivered"));
    assert_eq!(letter.owner, TOKEN);
    assert_eq!(letter.attempts, 1);
    assert_eq!(letter.last_error.as_deref(), Some("HTTP 400"));
    assert!(letter.dead_at.is_some());
    assert!(rx.try_recv().is_err(), "a 4xx is not retried");
    // Replay: the same event id and body, acknowledged this time.
    assert!(!hooks(&gw).replay(letter.id + 1_000_000).await.unwrap());
    assert!(hooks(&gw).replay(letter.id).await.unwrap());
    let replayed = next(&mut rx, "the replayed attempt").await;
    assert_eq!(replayed.status, 200);
    assert_eq!(replayed.event_id, refused.event_id);
    assert_eq!(replayed.body, refused.body);
    assert_signed(&replayed);
    let stats = stats_until(&gw, "the acknowledgement", |s| s.acked == 1).await;
    assert_eq!((stats.dead, stats.pending), (0, 0));
    assert!(hooks(&gw).dead_letters().await.unwrap().is_empty());
    // Two more refused, replayed together.
    script.answer(&[404, 410], 200);
    submit(&gw, 2).await;
    submit(&gw, 3).await;
    stats_until(&gw, "two dead letters", |s| s.dead == 2 && s.pending == 0).await;
    assert_eq!(hooks(&gw).replay_all().await.unwrap(), 2);
    stats_until(&gw, "both acknowledged", |s| s.acked == 3 && s.dead == 0).await;
    gw.shutdown().await;
}

#[actix_rt::test]
async fn a_verification_outcome_goes_to_the_webhook_of_the_token_that_started_it() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, _script, mut rx) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(dir.path(), &sim, addr);
    spec.verify = Some(common::verify_spec(|_| {}));
    let gw = Gateway::start(spec).await.unwrap();
    let start = Start {
        owner: Some(TOKEN.into()),
        ..Start::new(common::to(5), "login")
    };
    let view = gw.verify_start(start).await.unwrap();
    assert_eq!(view.owner.as_deref(), Some(TOKEN));
    let inbox = common::within("the code", sim.wait_for_inbox(&common::msisdn(5), 1)).await;
    let code = common::code_in(&inbox[0].text);
    assert_eq!(
        gw.verify_check(&view.id, &code).await.unwrap(),
        CheckOutcome::Approved
    );
    // The code's SMS is the token's message too: its delivery comes as well.
    let mut types = Vec::new();
    let outcome = loop {
        let r = next(&mut rx, "the verification's webhook").await;
        let body = r.json();
        types.push(body["type"].as_str().unwrap_or_default().to_owned());
        if body["type"] == "verification.approved" {
            break r;
        }
    };
    assert_eq!(
        outcome.event_id,
        format!("verification.{}.approved", view.id)
    );
    let body = outcome.json();
    assert_eq!(body["data"]["verification_id"], view.id);
    assert_eq!(body["data"]["purpose"], "login");
    assert_eq!(body["data"]["sandbox"], false);
    assert!(
        !outcome
            .body
            .windows(code.len())
            .any(|w| w == code.as_bytes()),
        "no code"
    );
    assert_signed(&outcome);
    gw.shutdown().await;
}

#[actix_rt::test]
async fn the_documented_python_verifies_a_real_signature() {
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, _script, mut rx) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    submit(&gw, 1).await;
    let got = next(&mut rx, "a webhook").await;
    gw.shutdown().await;

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/verify_webhook.py");
    // docs/api.md quotes the function as it is in the file.
    let source = std::fs::read_to_string(example).unwrap();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let function = &source
        [source.find("def verify_webhook").unwrap()..source.find("\n\n\nif __name__").unwrap()];
    assert!(
        docs.contains(function),
        "docs/api.md quotes verify_webhook() as written"
    );

    let run = |secret: &str, header: &str, body: &[u8]| {
        use std::io::Write;
        let mut child = std::process::Command::new("python3")
            .arg(example)
            .arg(header)
            .env("SMSGATE_WEBHOOK_SECRET", secret)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child.stdin.take().unwrap().write_all(body).unwrap();
        child.wait().unwrap().code()
    };
    assert_eq!(run(SECRET, &got.signature, &got.body), Some(0));
    let mut tampered = got.body.clone();
    tampered.push(b' ');
    assert_eq!(run(SECRET, &got.signature, &tampered), Some(1));
    assert_eq!(
        run("another-secret-entirely", &got.signature, &got.body),
        Some(1)
    );
    let t: u64 = got.signature[2..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let stale = got
        .signature
        .replacen(&format!("t={t}"), &format!("t={}", t - 3600), 1);
    assert_eq!(run(SECRET, &stale, &got.body), Some(1));
}

/// From the configuration as the service reads it: a token's `webhook` table with its
/// secret in the environment and `[webhooks]`, wired into the gateway; messages
/// submitted over the TCP API with that token go to its webhook, another token's do not.
#[actix_rt::test]
async fn a_configured_token_hears_of_the_messages_it_submits_over_the_api() {
    use smsgate::api::auth::sha256_hex;
    use smsgate::api::client::Client;
    use smsgate::api::server::{ApiServer, ServerSettings};
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (hook, _script, mut rx) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let smsc = sim.smpp_addr();
    let text = format!(
        r#"
data_dir = {data}

[api]
enabled = true
address = "127.0.0.1:0"

[[api.tokens]]
name = "shop"
sha256 = "{shop}"
operations = ["*"]
rate = 1000

[api.tokens.webhook]
url = "http://{hook}/hook"
secret_env = "SHOP_WEBHOOK_SECRET"

[[api.tokens]]
name = "other"
sha256 = "{other}"
operations = ["*"]
rate = 1000

[webhooks]
backoff_base = "5ms"
backoff_max = "20ms"

[verify]
enabled = false

[carriers.sim]
message_id = "as_is"

[[carriers.sim.binds]]
host = "{host}"
port = {port}
system_id = "{id}"
password = "{pw}"

[[routes]]
prefix = "81"
carriers = ["sim"]
"#,
        data = common::toml_path(&dir.path().join("data")),
        shop = sha256_hex("shop-token"),
        other = sha256_hex("other-token"),
        host = smsc.ip(),
        port = smsc.port(),
        id = common::SYSTEM_ID,
        pw = common::PASSWORD,
    );
    let config = common::config(&text, &[("SHOP_WEBHOOK_SECRET", SECRET)]);
    let gw = common::gateway_from(&config).await;
    let settings = ServerSettings::from_config(&config.api, std::time::Instant::now()).unwrap();
    let api = ApiServer::start(config.api.address, settings, gw.clone()).unwrap();
    let addr = api.local_addr().to_string();
    let shop = Client::connect(&addr, &"shop-token".into()).await.unwrap();
    let other = Client::connect(&addr, &"other-token".into()).await.unwrap();
    let params = |n: usize| {
        serde_json::from_value(serde_json::json!({"to": common::to(n), "text": format!("api {n}")}))
            .unwrap()
    };
    let first = shop.submit(&params(1)).await.unwrap().message_id;
    let got = next(&mut rx, "the shop token's webhook").await;
    assert_eq!(got.event_id, format!("message.{first}.delivered"));
    assert_signed(&got);
    let status = gw.status(first.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(status.owner.as_deref(), Some("shop"));
    // The other token has no webhook: its message is not sent to anyone; the shop's next
    // one is the next request the receiver sees.
    let theirs = other.submit(&params(2)).await.unwrap().message_id;
    common::final_status(&gw, theirs.parse().unwrap()).await;
    let second = shop.submit(&params(3)).await.unwrap().message_id;
    let got = next(&mut rx, "the shop token's second webhook").await;
    assert_eq!(got.event_id, format!("message.{second}.delivered"));
    assert!(rx.try_recv().is_err());
    api.stop().await;
    assert!(gw.shutdown().await.flushed);
}

/// The admin listener shows the dead letters (`GET /webhooks`, counts in `GET /status`)
/// and replays them for a full token only.
#[actix_rt::test]
async fn the_admin_listener_lists_dead_letters_and_replays_them() {
    use common::admin::{settings, FULL, READ};
    use hyper::Method;
    use smsgate::admin::client::AdminClient;
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let (addr, script, mut rx) = receiver().await;
    script.answer(&[400], 200);
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(spec(dir.path(), &sim, addr)).await.unwrap();
    let admin = smsgate::admin::AdminServer::start(
        "127.0.0.1:0".parse().unwrap(),
        settings(None),
        gw.clone(),
    )
    .unwrap();
    let url = format!("http://{}", admin.local_addr());
    let ask = |token: &'static str, method: Method, path: &'static str| {
        let url = url.clone();
        async move {
            AdminClient::new(&url, token.to_owned().into())
                .unwrap()
                .request(method, path)
                .await
                .unwrap()
        }
    };
    let id = submit(&gw, 1).await;
    assert_eq!(next(&mut rx, "the refused attempt").await.status, 400);
    stats_until(&gw, "the dead letter", |s| s.dead == 1 && s.pending == 0).await;

    let status = ask(READ, Method::GET, "/status").await;
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(status.body["webhooks"]["dead"], 1, "{:?}", status.body);
    let listed = ask(READ, Method::GET, "/webhooks").await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let letters = listed.body["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["event_id"], format!("message.{id}.delivered"));
    assert_eq!(letters[0]["last_error"], "HTTP 400");
    let letter = letters[0]["id"].as_u64().unwrap();

    let path: &'static str = Box::leak(format!("/webhooks/dead/{letter}/replay").into_boxed_str());
    assert_eq!(ask(READ, Method::POST, path).await.status, 403);
    assert_eq!(
        ask(FULL, Method::POST, "/webhooks/dead/99999999/replay")
            .await
            .status,
        404
    );
    let replayed = ask(FULL, Method::POST, path).await;
    assert_eq!(replayed.status, 200, "{:?}", replayed.body);
    assert_eq!(replayed.body["replayed"], 1);
    assert_eq!(next(&mut rx, "the replayed attempt").await.status, 200);
    stats_until(&gw, "the acknowledgement", |s| s.acked == 1 && s.dead == 0).await;
    let all = ask(FULL, Method::POST, "/webhooks/dead/replay").await;
    assert_eq!(all.body["replayed"], 0, "{:?}", all.body);
    admin.stop().await;
    gw.shutdown().await;
}
