//! No plaintext code anywhere the gateway writes: after verifications are started, resent,
//! checked wrong and right, and the gateway is shut down, no code (nor link token) is in
//! the bytes of the sled files or of the captured logs (every gateway target at TRACE).
//! Its own test binary: it installs the process-wide log subscriber.
// Tests: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsgate::gateway::{Gateway, VerifySpec};
use smsgate::verify::actor::Start;
use smsgate::verify::core::Settings;
use smsgate::verify::key::{Key, KeyRing};
use smsgate::verify::policy::{CheckOutcome, Policy, Profile};
use smsgate::verify::template::Channel;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The captured log output.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    bytes.windows(n.len()).any(|w| w == n)
        // UCS-2 as the SMS carries it, in case a PDU's octets were kept.
        || {
            let wide: Vec<u8> = needle.encode_utf16().flat_map(u16::to_be_bytes).collect();
            bytes.windows(wide.len()).any(|w| w == wide.as_slice())
        }
}

#[actix_rt::test]
async fn no_code_is_in_the_sled_files_or_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    // The simulator is the handset: it may log what it received. Everything of the
    // gateway's is captured at TRACE.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace,smsc_sim=off"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::spec(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 50)],
    );
    let mut policy = Policy::default();
    // Eight digits, resend at once: long codes are unambiguous in the bytes.
    policy.profiles.insert(
        "login".into(),
        Profile {
            code_length: 8,
            resend_cooldown_ms: 0,
            ..Profile::default()
        },
    );
    spec.verify = Some(VerifySpec {
        policy,
        settings: Settings::default(),
        keys: Arc::new(KeyRing::new(Key::from_bytes([9; 32]), Vec::new())),
    });
    let gw = Gateway::start(spec).await.expect("gateway starts");

    let mut secrets = Vec::new();
    for n in 0..4 {
        let number = common::msisdn(n);
        let view = gw
            .verify_start(Start::new(common::to(n), "login"))
            .await
            .unwrap();
        let first = common::within("the code", sim.wait_for_inbox(&number, 1)).await;
        secrets.push(common::code_in(&first[0].text));
        gw.verify_resend(&view.id).await.unwrap();
        let second = common::within("the new code", sim.wait_for_inbox(&number, 2)).await;
        let code = common::code_in(&second[1].text);
        secrets.push(code.clone());
        let wrong = if code.starts_with('9') {
            "10000000"
        } else {
            "99999999"
        };
        assert!(matches!(
            gw.verify_check(&view.id, wrong).await.unwrap(),
            CheckOutcome::Wrong { .. }
        ));
        assert_eq!(
            gw.verify_check(&view.id, &code).await.unwrap(),
            CheckOutcome::Approved
        );
    }
    // A link verification: its token must not leak either.
    let link = Start {
        channel: Channel::SmsLink,
        link: Some("https://example.com/v?t={token}".into()),
        ..Start::new(common::to(10), "login")
    };
    gw.verify_start(link).await.unwrap();
    let inbox = common::within("the link", sim.wait_for_inbox(&common::msisdn(10), 1)).await;
    let token: String = inbox[0]
        .text
        .split("t=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(token.len(), 32);
    secrets.push(token);
    for s in &secrets[..8] {
        assert_eq!(s.len(), 8, "{secrets:?}");
    }
    // Every receipt (they echo the text) answered, so they have been through the gateway.
    common::within(
        "the receipts",
        sim.wait_for_stats(|s| s.delivers_acked >= 9),
    )
    .await;
    gw.shutdown().await;
    sim.shutdown().await;

    let logs = capture.0.lock().unwrap().clone();
    assert!(
        std::str::from_utf8(&logs)
            .unwrap()
            .contains("verification started"),
        "the capture works"
    );
    for secret in &secrets {
        assert!(!holds(&logs, secret), "a code is in the logs: {secret}");
    }
    let on_disk = files(dir.path());
    assert!(!on_disk.is_empty());
    for file in on_disk {
        let bytes = std::fs::read(&file).unwrap();
        for secret in &secrets {
            assert!(
                !holds(&bytes, secret),
                "{} holds a code: {secret}",
                file.display()
            );
        }
    }
}
