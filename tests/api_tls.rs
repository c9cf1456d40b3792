//! The TCP API over TLS end to end: a gateway whose listener has `[api.tls]` (an rcgen
//! self-signed certificate for 127.0.0.1 and `api.smsgate.test`), reached by the Rust client,
//! the CLI (`--ca`, `$SMS_CA`, `--tls` on the system's roots) and examples/client.py; a
//! plain-TCP client is turned away without disturbing anyone else.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tls::Identity;
use smsgate::api::auth::sha256_hex;
use smsgate::api::client::{Client, ClientError, ClientOptions, TlsClient};
use smsgate::api::proto::SubmitParams;
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::api::session::Limits;
use smsgate::config::{ApiTlsConfig, TokenConfig, TokenMode};
use smsgate::gateway::Gateway;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIVE: &str = "live-secret";
const SANDBOX: &str = "sandbox-secret";
/// The certificate's DNS name (the listener is on 127.0.0.1, also in the certificate).
const NAME: &str = "api.smsgate.test";

struct World {
    gw: Gateway,
    api: ApiServer,
    live: smsc_sim::SimHandle,
    sandbox: smsc_sim::SimHandle,
    /// The PEM of the listener's certificate: the CA file of its clients.
    ca: PathBuf,
    dir: tempfile::TempDir,
}

fn token(name: &str, secret: &str, mode: TokenMode) -> TokenConfig {
    TokenConfig {
        name: name.into(),
        sha256: sha256_hex(secret),
        operations: vec!["*".into()],
        rate: 100_000,
        mode,
        webhook: None,
    }
}

/// A gateway (carrier "live", and "sandbox" for sandbox tokens) with the API on
/// 127.0.0.1:0 behind TLS configured as `[api.tls]` is.
async fn world() -> World {
    common::trace();
    let live = common::simulator(smsc_sim::Config::for_tests()).await;
    let sandbox = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::self_signed_for(&["127.0.0.1", NAME], "smsgate api");
    let (cert_file, key_file) = identity.write(dir.path(), "api");
    let mut spec = common::spec(
        &dir.path().join("data"),
        vec![
            common::carrier("live", live.smpp_addr(), 1, 50),
            common::carrier("sandbox", sandbox.smpp_addr(), 1, 50),
        ],
    );
    spec.router = smsgate::carrier::router::Router::new([smsgate::carrier::router::RouteRule {
        prefix: "81".into(),
        carriers: vec!["live".into()],
        kind: smsgate::carrier::router::RouteKind::Domestic,
    }])
    .unwrap();
    spec.sandbox = Some("sandbox".into());
    let gw = Gateway::start(spec).await.unwrap();
    let tls = ApiTlsConfig {
        cert_file: cert_file.clone(),
        key_file,
    };
    let settings = ServerSettings {
        limits: Limits {
            max_line: 4096,
            hello_deadline: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_in_flight: 64,
        },
        max_connections: 16,
        event_buffer: 1024,
        tls: Some(tls.server_config().unwrap()),
        tokens: smsgate::api::auth::Tokens::new(
            &[
                token("live", LIVE, TokenMode::Live),
                token("sandbox", SANDBOX, TokenMode::Sandbox),
            ],
            Instant::now(),
        )
        .unwrap(),
    };
    let api = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings, gw.clone()).unwrap();
    World {
        gw,
        api,
        live,
        sandbox,
        ca: cert_file,
        dir,
    }
}

impl World {
    fn addr(&self) -> String {
        self.api.local_addr().to_string()
    }

    fn tls(&self) -> TlsClient {
        TlsClient::from_ca_file(&self.ca).unwrap()
    }

    async fn connect(&self, tls: TlsClient) -> Result<Client, ClientError> {
        let options = ClientOptions { tls: Some(tls) };
        Client::connect_with(&self.addr(), &LIVE.into(), &options).await
    }

    async fn stop(self) {
        self.api.stop().await;
        assert!(self.gw.shutdown().await.flushed);
        self.live.shutdown().await;
        self.sandbox.shutdown().await;
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

#[actix_rt::test]
async fn the_rust_client_over_tls_says_hello_submits_and_reads_the_status() {
    let w = world().await;
    let c = w.connect(w.tls()).await.unwrap();
    assert_eq!(c.hello().token, "live");
    let accepted = c.submit(&submit(1, "認証コード 123456")).await.unwrap();
    assert_eq!(accepted.state, "queued");
    common::final_status(&w.gw, accepted.message_id.parse().unwrap()).await;
    let status = c.status(&accepted.message_id).await.unwrap();
    assert_eq!(
        (status.state.as_str(), status.is_final),
        ("delivered", true)
    );
    assert_eq!(
        w.live.inbox(&common::msisdn(1))[0].text,
        "認証コード 123456"
    );
    // The certificate's other name, asked for explicitly, is accepted too.
    let named = w.connect(w.tls().with_server_name(NAME).unwrap()).await;
    named.unwrap().ping().await.unwrap();
    drop(c);
    w.stop().await;
}

#[actix_rt::test]
async fn the_gateways_certificate_is_checked_for_its_issuer_and_its_name() {
    let w = world().await;
    let wrong_name = w
        .connect(w.tls().with_server_name("other.test").unwrap())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(wrong_name, ClientError::Handshake { .. })
            && wrong_name.to_string().contains("not issued to the name"),
        "{wrong_name}"
    );
    let stranger = Identity::self_signed_for(&["127.0.0.1", NAME], "someone else");
    let (stranger_ca, _) = stranger.write(w.dir.path(), "stranger");
    let untrusted = w
        .connect(TlsClient::from_ca_file(&stranger_ca).unwrap())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(untrusted, ClientError::Handshake { .. })
            && untrusted.to_string().contains("not issued by a trusted CA"),
        "{untrusted}"
    );
    // A listener whose certificate is marked as a CA: refused, and the error says why.
    let ca_marked = Identity::self_signed_ca(&["127.0.0.1"], "smsgate api");
    let (ca_marked_pem, _) = ca_marked.write(w.dir.path(), "ca-marked");
    let proxy = common::tls::TlsProxy::start(w.api.local_addr(), &ca_marked, None).await;
    let options = ClientOptions {
        tls: Some(TlsClient::from_ca_file(&ca_marked_pem).unwrap()),
    };
    let refused = Client::connect_with(&proxy.addr().to_string(), &LIVE.into(), &options)
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("CA:FALSE"), "{refused}");
    let missing = TlsClient::from_ca_file(&w.dir.path().join("nothing.pem"));
    assert!(matches!(missing, Err(ClientError::Tls(_))));
    // None of that disturbed the listener.
    w.connect(w.tls()).await.unwrap().ping().await.unwrap();
    w.stop().await;
}

#[actix_rt::test]
async fn a_plain_tcp_client_is_closed_without_an_answer_and_the_listener_goes_on() {
    let w = world().await;
    let other = w.connect(w.tls()).await.unwrap();
    // Raw JSON where a TLS ClientHello belongs: at most a TLS alert comes back, then the
    // end of the stream.
    let mut raw = tokio::net::TcpStream::connect(w.api.local_addr())
        .await
        .unwrap();
    raw.write_all(b"{\"id\":1,\"op\":\"hello\",\"version\":1,\"token\":\"live-secret\"}\n")
        .await
        .unwrap();
    let mut back = Vec::new();
    let read = common::within("the plain connection to end", raw.read_to_end(&mut back)).await;
    // A reset (the server closed with our bytes unread) is an end too.
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }
    assert!(
        back.first().is_none_or(|b| *b == 0x15),
        "not a TLS alert: {back:?}"
    );
    assert!(
        !back.contains(&b'{'),
        "a JSON answer in plain text: {back:?}"
    );
    // The Rust client speaking plain TCP gets an error, not a hang.
    let plain = Client::connect(&w.addr(), &LIVE.into()).await;
    assert!(
        matches!(plain, Err(ClientError::Closed(None) | ClientError::Io(_))),
        "{:?}",
        plain.err()
    );
    // The TLS client connected before, and a new one, are served as ever.
    other.ping().await.unwrap();
    let accepted = other.submit(&submit(2, "after")).await.unwrap();
    let fresh = w.connect(w.tls()).await.unwrap();
    fresh.status(&accepted.message_id).await.unwrap();
    drop((other, fresh));
    w.stop().await;
}

async fn cli(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    common::cli(args, "", envs).await
}

#[actix_rt::test]
async fn the_cli_speaks_tls_with_ca_sms_ca_or_the_system_roots() {
    let w = world().await;
    let addr = w.addr();
    let ca = w.ca.display().to_string();
    let to = common::to(3);
    let base = ["--api", addr.as_str(), "--token", LIVE];
    let (code, out) = cli(
        &[
            &["send", "--ca", ca.as_str()][..],
            &base,
            &[to.as_str(), "over tls"],
        ]
        .concat(),
        &[],
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
    assert_eq!(w.live.inbox(&common::msisdn(3))[0].text, "over tls");
    // $SMS_CA, and the certificate's DNS name asked for with --server-name.
    let (code, out) = cli(
        &[
            &["status", "--json", "--server-name", NAME][..],
            &base,
            &[id.as_str()],
        ]
        .concat(),
        &[("SMS_CA", &ca)],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let status: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status["state"], "delivered");
    // --tls trusts the system's store, which SSL_CERT_FILE stands in for here.
    let (code, out) = cli(
        &[&["status", "--tls"][..], &base].concat(),
        &[("SSL_CERT_FILE", &ca)],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("carrier live: 1 of 1 binds up"), "{out}");
    // Plain TCP against the TLS listener: no connection (exit 1).
    let (code, out) = cli(&[&["status"][..], &base].concat(), &[]).await;
    assert_eq!(code, 1, "{out}");
    // A CA file that is not there is bad input (exit 2), and so is --server-name alone.
    let missing = w.dir.path().join("missing.pem").display().to_string();
    let (code, out) = cli(&[&["status", "--ca", &missing][..], &base].concat(), &[]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--ca"), "{out}");
    let (code, out) = cli(
        &[&["status", "--server-name", NAME][..], &base].concat(),
        &[],
    )
    .await;
    assert_eq!(code, 2, "{out}");
    w.stop().await;
}

#[actix_rt::test]
async fn the_python_example_speaks_tls_with_ca() {
    let w = world().await;
    let addr = w.addr();
    let ca = w.ca.display().to_string();
    let out = tokio::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/client.py"))
        .args(["--addr", &addr, "--token", SANDBOX, "--to", &common::to(77)])
        .args(["--ca", &ca])
        .output();
    let out = common::within("python3 examples/client.py --ca", out)
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("status: delivered via sandbox"), "{stdout}");
    assert_eq!(w.sandbox.inbox(&common::msisdn(77)).len(), 1);
    w.stop().await;
}
