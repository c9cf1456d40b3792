//! The gateway's log never carries a verification code: every smsgate log line, at trace,
//! of a verification started, checked wrong, checked right and read over the API is
//! captured and searched for the codes. Its own test binary, because it installs the
//! process's global log subscriber.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use parking_lot::Mutex;
use secrecy::SecretString;
use smsgate::api::auth::sha256_hex;
use smsgate::api::client::Client;
use smsgate::api::proto::VerifyStartParams;
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::api::session::Limits;
use smsgate::config::{TokenConfig, TokenMode};
use smsgate::gateway::Gateway;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every line logged, shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[actix_rt::test]
async fn no_code_reaches_the_log() {
    let captured = Captured::default();
    // No timestamps: their digits are not to be mistaken for a code.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("smsgate=trace,warn"))
        .with_writer(captured.clone())
        .without_time()
        .with_ansi(false)
        .init();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::spec(
        dir.path(),
        vec![common::carrier("live", sim.smpp_addr(), 1, 50)],
    );
    spec.verify = Some(common::verify_spec(|_| {}));
    let gw = Gateway::start(spec).await.unwrap();
    let tokens = [TokenConfig {
        name: "live".into(),
        sha256: sha256_hex("live-secret"),
        operations: vec!["*".into()],
        rate: 1000,
        mode: TokenMode::Live,
        webhook: None,
    }];
    let settings = ServerSettings {
        limits: Limits {
            max_line: 4096,
            hello_deadline: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_in_flight: 64,
        },
        max_connections: 4,
        event_buffer: 64,
        tls: None,
        tokens: smsgate::api::auth::Tokens::new(&tokens, Instant::now()).unwrap(),
    };
    let api = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings, gw.clone()).unwrap();
    let c = Client::connect(&api.local_addr().to_string(), &"live-secret".into())
        .await
        .unwrap();
    // Ten digits, so that no other number in a line can pass for the code by chance.
    let start = VerifyStartParams {
        code_length: Some(10),
        ..VerifyStartParams::new(common::to(1))
    };
    let started = c.verify_start(&start).await.unwrap();
    let inbox = common::within(
        "the code at the handset",
        sim.wait_for_inbox(&common::msisdn(1), 1),
    )
    .await;
    let code = common::code_in(&inbox[0].text);
    assert_eq!(code.len(), 10);
    let wrong: String = code
        .chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect();
    let id = started.verification_id.clone();
    let r = c
        .verify_check(&id, &SecretString::from(wrong.clone()))
        .await
        .unwrap();
    assert_eq!(r.status, "wrong");
    assert!(c
        .verify_check(&id, &SecretString::from(code.clone()))
        .await
        .unwrap()
        .approved());
    common::final_status(&gw, started.message_id.unwrap().parse().unwrap()).await;
    c.verify_status(&id).await.unwrap();
    drop(c);
    api.stop().await;
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;

    let log = String::from_utf8_lossy(&captured.0.lock()).into_owned();
    assert!(
        log.contains("verification started") && log.contains("verification checked"),
        "the capture holds the verifier's lines:\n{log}"
    );
    assert!(log.contains(&id), "lines name the verification:\n{log}");
    assert!(!log.contains(&code), "the code is in the log:\n{log}");
    assert!(!log.contains(&wrong), "a typed code is in the log:\n{log}");
}
