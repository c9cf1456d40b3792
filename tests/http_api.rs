//! The HTTPS JSON API end to end: one gateway (carrier "live", "sandbox" for sandbox
//! tokens, a verifier) served by the TCP API and by the HTTPS API behind TLS (an rcgen
//! certificate for 127.0.0.1). The same sequence of operations over both gives the same
//! results; a plain-HTTP client on the TLS port is told to use https; the curl examples of
//! docs/api.md run against it.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tls::Identity;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use smsgate::api::auth::{sha256_hex, Tokens};
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::api::session::Limits;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::config::{TokenConfig, TokenMode};
use smsgate::gateway::Gateway;
use smsgate::http_api::{HttpApiServer, HttpSettings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const LIVE: &str = "live-secret";
const READER: &str = "reader-secret";
const SLOW: &str = "slow-secret";

struct World {
    gw: Gateway,
    tcp: ApiServer,
    http: HttpApiServer,
    live: smsc_sim::SimHandle,
    sandbox: smsc_sim::SimHandle,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

fn token(name: &str, secret: &str, ops: &[&str], rate: u32) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        sha256: sha256_hex(secret),
        operations: ops.iter().map(|s| (*s).to_owned()).collect(),
        rate,
        mode: TokenMode::Live,
        webhook: None,
    }
}

/// The same tokens for each API, each API its own rate limits (so each run of the
/// sequence starts with full buckets).
fn tokens() -> Tokens {
    Tokens::new(
        &[
            token("live", LIVE, &["*"], 100_000),
            token("reader", READER, &["message.status"], 100_000),
            token("slow", SLOW, &["*"], 2),
        ],
        Instant::now(),
    )
    .unwrap()
}

async fn world() -> World {
    common::trace();
    let live = common::simulator(smsc_sim::Config::for_tests()).await;
    let sandbox = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::self_signed_for(&["127.0.0.1"], "smsgate https api");
    let (cert_file, key_file) = identity.write(dir.path(), "api");
    let mut spec = common::spec(
        &dir.path().join("data"),
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
        tokens: tokens(),
    };
    let tcp = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings, gw.clone()).unwrap();
    let tls = smsgate::config::ApiTlsConfig {
        cert_file: cert_file.clone(),
        key_file,
    };
    let http_settings = HttpSettings {
        tls: Some(tls.server_config().unwrap()),
        max_connections: 16,
        handshake_timeout: Duration::from_secs(5),
        header_timeout: Duration::from_secs(30),
        max_body: 4096,
        body_timeout: Duration::from_secs(10),
        max_wait: Duration::from_secs(30),
        tokens: tokens(),
    };
    let http =
        HttpApiServer::start("127.0.0.1:0".parse().unwrap(), http_settings, gw.clone()).unwrap();
    World {
        gw,
        tcp,
        http,
        live,
        sandbox,
        ca: cert_file,
        _dir: dir,
    }
}

impl World {
    async fn stop(self) {
        self.http.stop().await;
        self.tcp.stop().await;
        assert!(self.gw.shutdown().await.flushed);
        self.live.shutdown().await;
        self.sandbox.shutdown().await;
    }

    fn tls(&self) -> tokio_rustls::TlsConnector {
        let pem = std::fs::read(&self.ca).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// One HTTPS request on a connection of its own: status, headers, JSON body.
    async fn https(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, hyper::HeaderMap, Value) {
        let tcp = TcpStream::connect(self.http.local_addr()).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let tls = self.tls().connect(name, tcp).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                body.to_string()
            }
            None => String::new(),
        };
        let request = request
            .body(http_body_util::Full::new(axum::body::Bytes::from(bytes)))
            .unwrap();
        let response = common::within("an HTTPS answer", sender.send_request(request))
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
        (status, headers, value)
    }
}

/// What one step of the sequence answered: `"ok"` and the result, or the error code and
/// the error ([`normalize`] makes the fields that differ from run to run `"*"`).
type Outcome = (String, Value);

fn normalize(mut v: Value) -> Value {
    const VOLATILE: &[&str] = &[
        "message_id",
        "verification_id",
        "accepted_at",
        "expires_at",
        "updated_at",
        "created_at",
        "resend_allowed_at",
        "carrier_id",
        "to",
        "client_ref",
        "message",
    ];
    if let Value::Object(map) = &mut v {
        for (k, val) in map.iter_mut() {
            if VOLATILE.contains(&k.as_str()) && !val.is_null() {
                *val = json!("*");
            } else {
                *val = normalize(val.take());
            }
        }
    } else if let Value::Array(items) = &mut v {
        for item in items {
            *item = normalize(item.take());
        }
    }
    v
}

/// The steps, each as (TCP operation, its fields, HTTP method, path, body).
enum Step {
    Submit(Value),
    Status(String),
    VerifyStart(Value),
    Check(String, String),
    VerifyStatus(String),
    Binds,
}

/// Who runs the sequence: the TCP API (raw lines) or the HTTPS API.
enum Via<'a> {
    Tcp(&'a World),
    Https(&'a World),
}

impl Via<'_> {
    async fn run(&self, token: &str, step: &Step) -> Outcome {
        match self {
            Via::Tcp(w) => {
                let stream = TcpStream::connect(w.tcp.local_addr()).await.unwrap();
                let (r, mut wr) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let hello = ask(
                    &mut wr,
                    &mut lines,
                    json!({"id":"h","op":"hello","version":1,"token":token}),
                )
                .await;
                if hello["ok"] != true {
                    return outcome_tcp(hello);
                }
                let mut line = match step {
                    Step::Submit(f) | Step::VerifyStart(f) => f.clone(),
                    Step::Status(id) => json!({"message_id": id}),
                    Step::Check(id, code) => json!({"verification_id": id, "code": code}),
                    Step::VerifyStatus(id) => json!({"verification_id": id}),
                    Step::Binds => json!({}),
                };
                let op = match step {
                    Step::Submit(_) => "message.submit",
                    Step::Status(_) => "message.status",
                    Step::VerifyStart(_) => "verify.start",
                    Step::Check(..) => "verify.check",
                    Step::VerifyStatus(_) => "verify.status",
                    Step::Binds => "binds.status",
                };
                line["id"] = json!(1);
                line["op"] = json!(op);
                outcome_tcp(ask(&mut wr, &mut lines, line).await)
            }
            Via::Https(w) => {
                let (method, path, body) = match step {
                    Step::Submit(f) => ("POST", "/v1/messages".to_owned(), Some(f.clone())),
                    Step::Status(id) => ("GET", format!("/v1/messages/{id}"), None),
                    Step::VerifyStart(f) => {
                        ("POST", "/v1/verifications".to_owned(), Some(f.clone()))
                    }
                    Step::Check(id, code) => (
                        "POST",
                        format!("/v1/verifications/{id}/check"),
                        Some(json!({ "code": code })),
                    ),
                    Step::VerifyStatus(id) => ("GET", format!("/v1/verifications/{id}"), None),
                    Step::Binds => ("GET", "/v1/binds".to_owned(), None),
                };
                let (status, headers, value) = w.https(method, &path, Some(token), body).await;
                if (200..300).contains(&status) {
                    return ("ok".into(), value);
                }
                let code = value["error"]["code"].as_str().unwrap().to_owned();
                let expected = match code.as_str() {
                    "invalid_request" => 400,
                    "unauthorized" => 401,
                    "forbidden" => 403,
                    "not_found" => 404,
                    "rate_limited" => 429,
                    other => panic!("unexpected code {other}"),
                };
                assert_eq!(status, expected, "{code}: {value}");
                if status == 429 {
                    assert_eq!(headers["retry-after"], "1");
                }
                if status == 401 {
                    assert!(headers.contains_key("www-authenticate"));
                }
                (code, value["error"].clone())
            }
        }
    }
}

/// One request line and its answer.
async fn ask(
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    lines: &mut tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    line: Value,
) -> Value {
    wr.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    let answer = common::within("a TCP answer", lines.next_line())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&answer).unwrap()
}

fn outcome_tcp(answer: Value) -> Outcome {
    if answer["ok"] == true {
        ("ok".into(), answer["result"].clone())
    } else {
        (
            answer["error"]["code"].as_str().unwrap().to_owned(),
            answer["error"].clone(),
        )
    }
}

/// The sequence over `via`, to numbers from `base` on: every outcome in order.
async fn sequence(w: &World, via: Via<'_>, base: usize) -> Vec<Outcome> {
    let mut out = Vec::new();
    let submit = json!({"to": common::to(base), "text": "認証コード 4242", "class": "otp"});
    let accepted = via.run(LIVE, &Step::Submit(submit)).await;
    assert_eq!(accepted.0, "ok", "{accepted:?}");
    let id = accepted.1["message_id"].as_str().unwrap().to_owned();
    out.push(accepted);
    common::final_status(&w.gw, id.parse().unwrap()).await;
    out.push(via.run(LIVE, &Step::Status(id)).await);
    let started = via
        .run(
            LIVE,
            &Step::VerifyStart(json!({"to": common::to(base + 1)})),
        )
        .await;
    assert_eq!(started.0, "ok", "{started:?}");
    let vid = started.1["verification_id"].as_str().unwrap().to_owned();
    out.push(started);
    let inbox = common::within(
        "the code at the handset",
        w.live.wait_for_inbox(&common::msisdn(base + 1), 1),
    )
    .await;
    let code = common::code_in(&inbox[0].text);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    out.push(via.run(LIVE, &Step::Check(vid.clone(), wrong.into())).await);
    out.push(via.run(LIVE, &Step::Check(vid.clone(), code)).await);
    out.push(via.run(LIVE, &Step::VerifyStatus(vid)).await);
    out.push(via.run(LIVE, &Step::Status("99999999".into())).await);
    out.push(via.run(LIVE, &Step::VerifyStatus("abc".into())).await);
    out.push(
        via.run(LIVE, &Step::Submit(json!({"to": common::to(base)})))
            .await,
    );
    out.push(via.run("wrong-token", &Step::Binds).await);
    out.push(
        via.run(
            READER,
            &Step::Submit(json!({"to": common::to(base), "text": "x"})),
        )
        .await,
    );
    for _ in 0..3 {
        out.push(via.run(SLOW, &Step::Binds).await);
    }
    out.into_iter().map(|(c, v)| (c, normalize(v))).collect()
}

#[actix_rt::test]
async fn the_same_operations_over_tcp_and_https_give_the_same_results() {
    let w = world().await;
    let tcp = sequence(&w, Via::Tcp(&w), 10).await;
    let https = sequence(&w, Via::Https(&w), 20).await;
    let codes: Vec<&str> = https.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "not_found",
            "not_found",
            "invalid_request",
            "unauthorized",
            "forbidden",
            "ok",
            "ok",
            "rate_limited"
        ]
    );
    assert_eq!(https[1].1["state"], "delivered");
    assert_eq!(https[3].1["status"], "wrong");
    assert_eq!(https[4].1["status"], "approved");
    assert_eq!(https[5].1["status"], "approved");
    for (i, (t, h)) in tcp.iter().zip(&https).enumerate() {
        assert_eq!(t, h, "step {i} differs between TCP and HTTPS");
    }
    w.stop().await;
}

#[actix_rt::test]
async fn a_plain_http_client_on_the_tls_port_is_told_to_use_https() {
    let w = world().await;
    let mut tcp = TcpStream::connect(w.http.local_addr()).await.unwrap();
    tcp.write_all(
        b"GET /v1/binds HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer live-secret\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    common::within("the refusal", tcp.read_to_string(&mut answer))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("use https://"), "{answer}");
    assert!(!answer.contains("carriers"), "{answer}");
    // A TLS client that does not trust the certificate gets no answer either.
    let stranger = Identity::self_signed_for(&["127.0.0.1"], "someone else");
    let (stranger_ca, _) = stranger.write(w._dir.path(), "stranger");
    let pem = std::fs::read(stranger_ca).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(w.http.local_addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let refused = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await;
    assert!(refused.is_err());
    // The trusted client is served on after both.
    let (status, _, binds) = w.https("GET", "/v1/binds", Some(LIVE), None).await;
    assert_eq!(status, 200, "{binds}");
    assert!(binds["carriers"].is_array(), "{binds}");
    w.stop().await;
}

#[actix_rt::test]
async fn events_are_long_polled_by_cursor_and_bodies_are_limited() {
    let w = world().await;
    let (status, _, first) = w
        .https("GET", "/v1/events?cursor=0&wait=0", Some(LIVE), None)
        .await;
    assert_eq!(status, 200, "{first}");
    assert!(first["first"].is_u64() && first["last"].is_u64(), "{first}");
    let cursor = first["cursor"].as_u64().unwrap();
    // A waiting poll is answered by the submit's first event.
    let path = format!("/v1/events?cursor={cursor}&wait=30");
    let poll = w.https("GET", &path, Some(LIVE), None);
    let submit = async {
        let (status, headers, accepted) = w
            .https(
                "POST",
                "/v1/messages",
                Some(LIVE),
                Some(json!({"to": common::to(50), "text": "poll"})),
            )
            .await;
        assert_eq!(status, 202, "{accepted}");
        let id = accepted["message_id"].as_str().unwrap().to_owned();
        assert_eq!(headers["location"], format!("/v1/messages/{id}"));
        id
    };
    let ((status, _, polled), id) = tokio::join!(poll, submit);
    assert_eq!(status, 200, "{polled}");
    let events = polled["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{polled}");
    assert_eq!(events[0]["event"]["message_id"], id, "{polled}");
    assert!(polled["cursor"].as_u64().unwrap() > cursor);
    let (status, _, bad) = w.https("GET", "/v1/events?since=1", Some(LIVE), None).await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let big = "x".repeat(5000);
    let (status, _, large) = w
        .https(
            "POST",
            "/v1/messages",
            Some(LIVE),
            Some(json!({"to": common::to(51), "text": big})),
        )
        .await;
    assert_eq!(
        (status, large["error"]["code"].as_str()),
        (413, Some("too_large"))
    );
    let (status, _, none) = w.https("GET", "/v1/nothing", Some(LIVE), None).await;
    assert_eq!(
        (status, none["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    w.stop().await;
}

/// The `curl` commands of docs/api.md's "HTTPS JSON API" section, in order.
fn doc_curls() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let start = doc.find("## HTTPS JSON API").expect("the section");
    let section = &doc[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in section[..end].lines() {
        let line = line.trim_end();
        if current.is_empty() && !line.starts_with("curl ") {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                commands.push(std::mem::take(&mut current));
            }
        }
    }
    commands
}

#[actix_rt::test]
async fn the_curl_examples_of_the_docs_run_against_it() {
    let w = world().await;
    let commands = doc_curls();
    assert!(commands.len() >= 8, "{commands:#?}");
    let mut vid = String::new();
    let mut mid = String::new();
    for command in &commands {
        let output = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command.replacen("curl ", "curl -sS --fail-with-body ", 1))
            .env("SMS_HTTP", w.http.url())
            .env("SMS_CA", &w.ca)
            .env("SMS_TOKEN", LIVE)
            .env("VID", &vid)
            .env("MID", &mid)
            .output();
        let output = common::within("curl", output).await.expect("curl runs");
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "{command}: {e}: {out} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        // A resend right after the start is refused as the docs say (cooldown).
        let cooldown = command.contains("/resend") && value["error"]["code"] == "cooldown";
        assert!(
            output.status.success() || cooldown,
            "{command}\n{out}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if let Some(id) = value["verification_id"].as_str() {
            vid = id.to_owned();
        }
        if let Some(id) = value["message_id"].as_str() {
            if mid.is_empty() {
                mid = id.to_owned();
            }
        }
    }
    assert!(!vid.is_empty() && !mid.is_empty());
    w.stop().await;
}
