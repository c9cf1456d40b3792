//! More of the carrier connector end to end, in process: SMPP over TLS (through a
//! TLS-terminating proxy in front of the simulator), failover when a carrier has no bind,
//! mobile-originated messages (recorded before they are answered, also across a SIGKILL),
//! the portability table, the whole path from a TOML configuration, and receipts that end
//! a message undeliverable, expired or rejected. Nothing sleeps to wait: the tests wait on
//! the gateway's event log, the simulator's notifications and the proxy's handshakes.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::tls::{Identity, TlsProxy};
use smpp::values::MessageState;
use smsc_sim::{Faults, IdFormat, Mo, Outcome, ReceiptVia};
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::gateway::Gateway;
use smsgate::outbox::actor::Submit;
use smsgate::store::{Class, EventKind, SegmentState, State};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// The server name the proxy's certificate is issued to.
const CARRIER_NAME: &str = "smpp.carrier.example";

/// A `[carriers.NAME]` section with one `binds` entry to `addr` (the simulator's test
/// account), `carrier_keys` added to the carrier and `bind_keys` to the bind.
fn carrier_toml(name: &str, addr: SocketAddr, carrier_keys: &str, bind_keys: &str) -> String {
    format!(
        r#"
[carriers.{name}]
message_id = "as_is"
reconnect = {{ initial = "50ms", max = "1s", jitter = 0.5 }}
{carrier_keys}

[[carriers.{name}.binds]]
host = "{host}"
port = {port}
system_id = "{id}"
{bind_keys}
"#,
        host = addr.ip(),
        port = addr.port(),
        id = common::SYSTEM_ID,
    )
}

/// A `[[routes]]` rule.
fn route_toml(prefix: &str, carriers: &[&str]) -> String {
    let carriers: Vec<String> = carriers.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "\n[[routes]]\nprefix = \"{prefix}\"\ncarriers = [{}]\n",
        carriers.join(", ")
    )
}

/// The top of a configuration: data in `dir/data`, quick retries.
fn head_toml(dir: &Path) -> String {
    format!(
        r#"
data_dir = {data}
[outbox]
retry = {{ initial = "50ms", max = "1s" }}
"#,
        data = common::toml_path(&dir.join("data")),
    )
}

/// The TLS keys of a bind: trust `ca`, expect `server_name`, and present `client` when
/// given.
fn tls_toml(ca: &Path, server_name: &str, client: Option<(&Path, &Path)>) -> String {
    let client = client.map_or(String::new(), |(cert, key)| {
        format!(
            ", client_cert = {}, client_key = {}",
            common::toml_path(cert),
            common::toml_path(key)
        )
    });
    format!(
        "tls = {{ ca_file = {}, server_name = \"{server_name}\"{client} }}",
        common::toml_path(ca)
    )
}

/// The carrier requires TLS and a client certificate: two binds configured with the
/// carrier's CA file, its server name and our certificate (read from PEM files by the
/// configuration, as the service does) bind through the proxy, submit, take receipts, bind
/// again after the SMSC unbinds them, and unbind over TLS at shutdown.
#[actix_rt::test]
async fn binds_over_tls_with_a_client_certificate_deliver_every_message() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let server = Identity::self_signed(CARRIER_NAME, "Carrier SMSC");
    let client = Identity::self_signed("esme.smsgate.example", "smsgate ESME");
    let proxy = TlsProxy::start(sim.smpp_addr(), &server, Some(&client)).await;
    let dir = tempfile::tempdir().unwrap();
    let (ca, _) = server.write(dir.path(), "carrier");
    let (cert, key) = client.write(dir.path(), "client");
    let text = head_toml(dir.path())
        + &carrier_toml(
            "secure",
            proxy.addr(),
            "",
            &format!(
                "password = \"{}\"\ncount = 2\n{}",
                common::PASSWORD,
                tls_toml(&ca, CARRIER_NAME, Some((&cert, &key)))
            ),
        )
        + &route_toml("81", &["secure"]);
    let config = common::config(&text, &[]);
    assert!(config.carriers["secure"].binds[0].tls.is_some());
    let gw = common::gateway_from(&config).await;
    common::sim_stats(&sim, "two binds through the proxy", |s| {
        s.bound_sessions == 2
    })
    .await;
    let handshakes = proxy.wait_for("two handshakes", |h| h.ok >= 2).await;
    assert_eq!(handshakes.failed, 0, "{handshakes:?}");
    // Every session the SMSC has came through the proxy: none in the clear.
    assert_eq!(sim.stats().connections, handshakes.ok);
    let messages: Vec<_> = (0..20)
        .map(|n| (n, format!("暗号化された経路 {n}")))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Otp).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    for (n, text) in &messages {
        let inbox = sim.inbox(&common::msisdn(*n));
        assert_eq!(inbox.len(), 1, "handset {n}");
        assert_eq!(&inbox[0].text, text);
    }
    let stats = common::sim_stats(&sim, "every receipt answered", |s| s.delivers_acked >= 20).await;
    assert_eq!(stats.submits_accepted, 20);
    assert_eq!(
        stats.delivers_sent, 20,
        "each receipt answered the first time"
    );

    // The SMSC unbinds both sessions (its unbind and our unbind_resp over TLS): both bind
    // again with a new handshake each, and carry on.
    sim.unbind_all();
    common::sim_stats(&sim, "both sessions bound again", |s| {
        s.binds >= 4 && s.bound_sessions == 2
    })
    .await;
    let handshakes = proxy.wait_for("two more handshakes", |h| h.ok >= 4).await;
    assert_eq!(handshakes.failed, 0, "{handshakes:?}");
    let more: Vec<_> = (20..25)
        .map(|n| (n, format!("after the unbind {n}")))
        .collect();
    let ids = common::submit_all(&gw, &more, Class::Otp).await;
    common::assert_all_delivered(&common::all_final(&gw, &ids).await);
    let report = gw.shutdown().await;
    assert!(
        report.unbound_in_time && report.flushed,
        "unbind answered over TLS: {report:?}"
    );
    sim.shutdown().await;
}

/// Two carriers whose certificate does not pass: one is issued to another name than the
/// configured server_name, the other chains to a CA we do not trust. Neither ever binds:
/// the pool's status shows the certificate error, nothing reaches the SMSC, and what was
/// accepted for them stays queued.
#[actix_rt::test]
async fn a_certificate_for_another_name_or_from_an_untrusted_ca_never_binds_and_messages_stay_queued(
) {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let server = Identity::self_signed(CARRIER_NAME, "Carrier SMSC");
    // The right name, from an issuer we were not told to trust.
    let stranger = Identity::self_signed(CARRIER_NAME, "Some Other CA");
    let misnamed_proxy = TlsProxy::start(sim.smpp_addr(), &server, None).await;
    let untrusted_proxy = TlsProxy::start(sim.smpp_addr(), &server, None).await;
    let dir = tempfile::tempdir().unwrap();
    let (ca, _) = server.write(dir.path(), "carrier");
    let (other_ca, _) = stranger.write(dir.path(), "stranger");
    let password = format!("password = \"{}\"\n", common::PASSWORD);
    let text = head_toml(dir.path())
        + &carrier_toml(
            "misnamed",
            misnamed_proxy.addr(),
            "",
            &(password.clone() + &tls_toml(&ca, "smpp.other.example", None)),
        )
        + &carrier_toml(
            "untrusted",
            untrusted_proxy.addr(),
            "",
            &(password + &tls_toml(&other_ca, CARRIER_NAME, None)),
        )
        + &route_toml("8190", &["misnamed"])
        + &route_toml("8180", &["untrusted"]);
    let gw = common::gateway_from(&common::config(&text, &[])).await;
    let misnamed = common::submit(&gw, 1, "to the misnamed carrier", Class::Otp).await;
    let untrusted = gw
        .submit(Submit::new(
            "+81 80 1111 2222",
            "to the untrusted carrier",
            Class::Otp,
        ))
        .await
        .unwrap()
        .id;
    // Two refused handshakes each: the first refusal has been reported to the pool before
    // the bind tried again.
    for proxy in [&misnamed_proxy, &untrusted_proxy] {
        let h = proxy
            .wait_for("two refused handshakes", |h| h.failed >= 2)
            .await;
        assert_eq!(h.ok, 0, "{h:?}");
    }
    let pools = gw.binds().await;
    let error_of = |carrier: &str| {
        let pool = pools.iter().find(|p| p.carrier == carrier).unwrap();
        let bind = &pool.binds[0];
        assert_eq!(bind.mode, None, "{pool:?}");
        bind.last_error.clone().unwrap_or_default()
    };
    let misnamed_error = error_of("misnamed");
    assert!(
        misnamed_error.contains("invalid peer certificate")
            && misnamed_error.contains("smpp.other.example"),
        "{misnamed_error}"
    );
    let untrusted_error = error_of("untrusted");
    assert!(
        untrusted_error.contains("invalid peer certificate")
            && untrusted_error.contains("UnknownIssuer"),
        "{untrusted_error}"
    );
    for id in [misnamed, untrusted] {
        let status = gw.status(id).await.unwrap().unwrap();
        assert_eq!(status.state, State::Queued, "{status:#?}");
        assert_eq!(status.attempts, 0, "{status:#?}");
    }
    let stats = sim.stats();
    assert_eq!(
        (stats.connections, stats.submits_accepted),
        (0, 0),
        "nothing reached the SMSC: {stats:?}"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The carrier requires a client certificate and the bind presents none: the carrier
/// refuses every handshake, the bind never binds (its status says why), and nothing
/// reaches the SMSC.
#[actix_rt::test]
async fn a_carrier_that_requires_a_client_certificate_refuses_a_bind_without_one() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let server = Identity::self_signed(CARRIER_NAME, "Carrier SMSC");
    let client = Identity::self_signed("esme.smsgate.example", "smsgate ESME");
    let proxy = TlsProxy::start(sim.smpp_addr(), &server, Some(&client)).await;
    let dir = tempfile::tempdir().unwrap();
    let (ca, _) = server.write(dir.path(), "carrier");
    let text = head_toml(dir.path())
        + &carrier_toml(
            "anonymous",
            proxy.addr(),
            "",
            &format!(
                "password = \"{}\"\n{}",
                common::PASSWORD,
                tls_toml(&ca, CARRIER_NAME, None)
            ),
        )
        + &route_toml("81", &["anonymous"]);
    let gw = common::gateway_from(&common::config(&text, &[])).await;
    let id = common::submit(&gw, 1, "no client certificate", Class::Otp).await;
    let h = proxy
        .wait_for("two refused handshakes", |h| h.failed >= 2)
        .await;
    assert_eq!(h.ok, 0, "{h:?}");
    let pools = gw.binds().await;
    let bind = &pools[0].binds[0];
    assert_eq!(bind.mode, None, "{pools:?}");
    let error = bind.last_error.clone().unwrap_or_default();
    assert!(error.contains("CertificateRequired"), "{error}");
    let status = gw.status(id).await.unwrap().unwrap();
    assert_eq!((status.state, status.attempts), (State::Queued, 0));
    let stats = sim.stats();
    assert_eq!((stats.connections, stats.binds), (0, 0), "{stats:?}");
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Carrier `a` is down (nothing listens on its port) and fails over after 1 s; `b` is up.
/// What was queued on `a` moves to `b` and is delivered there; a message accepted after
/// `a` was declared down goes to `b` directly; a message whose only carrier is `a` waits.
/// Then an SMSC starts on `a`'s port: `a` binds, the waiting message goes, and new
/// messages route to `a` again.
#[actix_rt::test]
async fn a_carrier_without_a_bind_for_its_failover_time_hands_its_traffic_to_the_next_and_takes_it_back(
) {
    common::trace();
    let b_sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let a_addr = SocketAddr::from(([127, 0, 0, 1], common::closed_port()));
    let mut a = common::carrier("a", a_addr, 1, 10);
    a.pool.failover_after = Duration::from_secs(1);
    let b = common::carrier("b", b_sim.smpp_addr(), 1, 10);
    let dir = tempfile::tempdir().unwrap();
    let mut spec = common::spec(dir.path(), vec![a, b]);
    spec.router = Router::new([
        RouteRule {
            prefix: "8190".into(),
            carriers: vec!["a".into(), "b".into()],
            kind: RouteKind::Domestic,
        },
        RouteRule {
            prefix: "8180".into(),
            carriers: vec!["a".into()],
            kind: RouteKind::Domestic,
        },
    ])
    .unwrap();
    let gw = Gateway::start(spec).await.unwrap();

    let early: Vec<_> = (0..5).map(|n| (n, format!("early {n}"))).collect();
    let early_ids = common::submit_all(&gw, &early, Class::Transactional).await;
    let only_a = gw
        .submit(Submit::new(
            "+81 80 1111 2222",
            "only a",
            Class::Transactional,
        ))
        .await
        .unwrap()
        .id;
    for id in &early_ids {
        let status = common::final_status(&gw, *id).await;
        assert_eq!(status.state, State::Delivered, "{status:#?}");
        assert_eq!(status.carrier, "b");
        let events = common::message_events(&gw, *id).await;
        assert_eq!(events[0].0, "a", "queued on a first: {events:?}");
        assert!(
            events.iter().any(|(carrier, _, detail)| carrier == "b"
                && detail.as_deref() == Some("carrier a unavailable; moved to b")),
            "{events:?}"
        );
    }
    // The move happened when `a` was declared down: from now on `a` goes last.
    let direct = common::submit(&gw, 10, "after a went down", Class::Transactional).await;
    let status = common::final_status(&gw, direct).await;
    assert_eq!(
        (status.state, status.carrier.as_str()),
        (State::Delivered, "b")
    );
    let events = common::message_events(&gw, direct).await;
    assert!(
        events.iter().all(|(carrier, _, _)| carrier == "b"),
        "{events:?}"
    );
    for n in (0..5).chain([10]) {
        assert_eq!(b_sim.inbox(&common::msisdn(n)).len(), 1, "handset {n}");
    }
    let waiting = gw.status(only_a).await.unwrap().unwrap();
    assert_eq!(
        (waiting.state, waiting.carrier.as_str()),
        (State::Queued, "a")
    );

    // `a`'s SMSC comes back on its port.
    let a_sim = common::simulator(smsc_sim::Config {
        smpp_addr: a_addr,
        ..smsc_sim::Config::for_tests()
    })
    .await;
    let status = common::final_status(&gw, only_a).await;
    assert_eq!(
        (status.state, status.carrier.as_str()),
        (State::Delivered, "a")
    );
    assert_eq!(a_sim.inbox("818011112222")[0].text, "only a");
    // `a` pulled work only after telling the outbox it is available again.
    let back = common::submit(&gw, 11, "a is back", Class::Transactional).await;
    let status = common::final_status(&gw, back).await;
    assert_eq!(
        (status.state, status.carrier.as_str()),
        (State::Delivered, "a")
    );
    assert_eq!(a_sim.inbox(&common::msisdn(11))[0].text, "a is back");
    assert!(b_sim.inbox(&common::msisdn(11)).is_empty());
    assert!(gw.shutdown().await.flushed);
    a_sim.shutdown().await;
    b_sim.shutdown().await;
}

/// Mobile-originated messages (GSM text, UCS-2 Japanese, and Japanese long enough to come
/// in message_payload) appear in the event log with their sender, recipient and text, in
/// the order they came, each answered once.
#[actix_rt::test]
async fn mobile_originated_messages_are_recorded_as_events_with_sender_recipient_and_text() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    common::sim_stats(&sim, "the bind", |s| s.bound_sessions == 1).await;
    let long = "返信ありがとうございます。".repeat(12);
    assert!(
        long.encode_utf16().count() * 2 > 254,
        "goes in message_payload"
    );
    let mos = [
        ("819012345678", "0005123456", "STOP"),
        ("819012345678", "0005123456", "はい、参加します"),
        ("818098765432", "0312345678", long.as_str()),
    ];
    for (from, to, text) in mos {
        sim.inject_mo(&Mo {
            account: None,
            from: from.into(),
            to: to.into(),
            text: text.into(),
        })
        .unwrap();
    }
    let stats = common::sim_stats(&sim, "every MO answered", |s| s.delivers_acked >= 3).await;
    // Answered only once recorded: by the time the SMSC has every answer, every MO is in
    // the log.
    let recorded: Vec<_> = gw
        .events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, e)| match e.kind {
            EventKind::MobileOriginated {
                carrier,
                from,
                to,
                text,
            } => Some((carrier, from, to, text)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = mos
        .iter()
        .map(|(from, to, text)| {
            (
                "sim".to_owned(),
                (*from).to_owned(),
                (*to).to_owned(),
                (*text).to_owned(),
            )
        })
        .collect();
    assert_eq!(recorded, expected);
    assert_eq!(
        (stats.mo_injected, stats.delivers_sent, stats.delivers_acked),
        (3, 3, 3),
        "each answered the first time: {stats:?}"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// `smsgate run` (a child process) takes 50 MOs and is SIGKILLed the moment the SMSC has
/// the last answer: started again on its data directory, the gateway has every one in its
/// log. A deliver_sm answered before its MO was flushed would be lost here.
#[actix_rt::test]
async fn every_mo_the_smsc_saw_answered_survives_a_sigkill_of_the_service() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("smsgate.toml");
    let text = head_toml(dir.path())
        + "[metrics]\naddress = \"127.0.0.1:0\"\n[log]\nfilter = \"warn\"\n"
        + &carrier_toml(
            "sim",
            sim.smpp_addr(),
            "",
            &format!("password = \"{}\"", common::PASSWORD),
        )
        + &route_toml("81", &["sim"]);
    std::fs::write(&path, text).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["run", "--config"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::sim_stats(&sim, "the service's bind", |s| s.bound_sessions == 1).await;
    let texts: Vec<String> = (0..50).map(|n| format!("返信 {n}")).collect();
    for text in &texts {
        sim.inject_mo(&Mo {
            account: None,
            from: "819012345678".into(),
            to: "0005123456".into(),
            text: text.clone(),
        })
        .unwrap();
    }
    common::sim_stats(&sim, "every MO answered", |s| s.delivers_acked >= 50).await;
    // SIGKILL: no unbind, no flush.
    child.kill().unwrap();
    child.wait().unwrap();

    let gw = common::gateway(
        &dir.path().join("data"),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let recorded: Vec<String> = gw
        .events(0, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, e)| match e.kind {
            EventKind::MobileOriginated { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(recorded, texts);
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The route for `81` is carrier `a`; the portability file (read from the configuration,
/// wired as `smsgate run` does) says two numbers moved to `b`. Those go to `b`, their
/// neighbours to `a`. Read again, the table moves them; a bad table is refused and the one in
/// use kept.
#[actix_rt::test]
async fn a_number_in_the_portability_table_goes_to_its_carrier_whatever_its_prefix_says_and_a_reload_moves_it(
) {
    common::trace();
    let a_sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let b_sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("portability.csv");
    std::fs::write(
        &table,
        "number,carrier\n# moved last month\n819011112222,b\n+818033334444,b\n",
    )
    .unwrap();
    let password = format!("password = \"{}\"", common::PASSWORD);
    let text = head_toml(dir.path())
        + &format!("[portability]\nfile = {}\n", common::toml_path(&table))
        + &carrier_toml("a", a_sim.smpp_addr(), "", &password)
        + &carrier_toml("b", b_sim.smpp_addr(), "", &password)
        + &route_toml("81", &["a"]);
    let config = common::config(&text, &[]);
    let gw = common::gateway_from(&config).await;
    let cases = [
        ("+81 90 1111 2222", "819011112222", "b"),
        ("+81 90 1111 2223", "819011112223", "a"),
        ("080-3333-4444", "818033334444", "b"),
        ("+81 80 3333 4445", "818033334445", "a"),
    ];
    for (to, msisdn, carrier) in cases {
        let id = gw
            .submit(Submit::new(to, format!("to {to}"), Class::Otp))
            .await
            .unwrap()
            .id;
        let status = common::final_status(&gw, id).await;
        assert_eq!(status.state, State::Delivered, "{status:#?}");
        assert_eq!(status.carrier, carrier, "{to}");
        let (went, other) = if carrier == "a" {
            (&a_sim, &b_sim)
        } else {
            (&b_sim, &a_sim)
        };
        assert_eq!(went.inbox(msisdn).len(), 1, "{to}");
        assert!(other.inbox(msisdn).is_empty(), "{to}");
    }

    // Reloaded (what SIGHUP does): a third number moved to `b`, one moved back to `a`.
    std::fs::write(&table, "819011112222,b\n819011112223,b\n").unwrap();
    let reloaded = smsgate::wiring::portability(&config).unwrap().unwrap();
    assert_eq!(gw.set_portability(reloaded).await.unwrap(), 2);
    // A table naming a carrier that is not configured is refused with its line; the one in
    // use stays.
    std::fs::write(&table, "819011112222,b\n818033334444,rakuten\n").unwrap();
    let refused = smsgate::wiring::portability(&config)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("line 2") && refused.contains("rakuten"),
        "{refused}"
    );
    for (to, carrier) in [("+81 90 1111 2223", "b"), ("080-3333-4444", "a")] {
        let id = gw
            .submit(Submit::new(
                to,
                format!("after the reload to {to}"),
                Class::Otp,
            ))
            .await
            .unwrap()
            .id;
        let status = common::final_status(&gw, id).await;
        assert_eq!(status.state, State::Delivered, "{status:#?}");
        assert_eq!(status.carrier, carrier, "{to}");
    }
    assert_eq!(b_sim.inbox("819011112223").len(), 1);
    assert_eq!(a_sim.inbox("818033334444").len(), 1);
    assert!(gw.shutdown().await.flushed);
    a_sim.shutdown().await;
    b_sim.shutdown().await;
}

/// The whole path from a TOML configuration (the password from the environment, a
/// transmitter + receiver pair, `message_id = "hex_to_dec"` against an SMSC that answers in
/// hex and receipts in decimal, a carrier rate of 30 a second under an SMSC that throttles
/// above 30, ESME_RSYSERR made permanent) through `wiring::spec` and `Gateway::start`:
/// every receipt matches at its first offer, nothing is throttled while the sending takes
/// as long as the rate says, a system error ends a message at its first attempt, and an MO
/// comes in on the receiver.
#[actix_rt::test]
async fn a_gateway_built_from_toml_applies_the_id_form_the_pacing_and_the_retry_policy() {
    common::trace();
    let mut sim_config = common::sim_config(Faults {
        tps: Some(30),
        ..Faults::default()
    });
    sim_config.ids = IdFormat::HexDec;
    let sim = common::simulator(sim_config).await;
    let dir = tempfile::tempdir().unwrap();
    let text = head_toml(dir.path())
        + &carrier_toml(
            "sim",
            sim.smpp_addr(),
            "tps = 30\nretry = { ESME_RSYSERR = \"permanent\" }",
            "password_env = \"SIM_SMPP_PASSWORD\"\nmode = \"pair\"\nwindow = 20",
        )
        .replace("message_id = \"as_is\"", "message_id = \"hex_to_dec\"")
        + &route_toml("81", &["sim"]);
    let config = common::config(&text, &[("SIM_SMPP_PASSWORD", common::PASSWORD)]);
    let gw = common::gateway_from(&config).await;
    common::sim_stats(&sim, "the transmitter and the receiver", |s| {
        s.bound_sessions == 2
    })
    .await;

    let count = 45;
    let messages: Vec<_> = (0..count).map(|n| (n, format!("paced {n}"))).collect();
    let started = Instant::now();
    let ids = common::submit_all(&gw, &messages, Class::Bulk).await;
    let statuses = common::all_final(&gw, &ids).await;
    let took = started.elapsed();
    common::assert_all_delivered(&statuses);
    // Each bind told its pool it was up before it handled anything, so after the submits
    // and their receipts the pool knows both.
    let pools = gw.binds().await;
    let modes: Vec<_> = pools[0].binds.iter().map(|b| b.mode).collect();
    assert_eq!(
        modes,
        [
            Some(smpp::session::BindMode::Transmitter),
            Some(smpp::session::BindMode::Receiver)
        ]
    );
    let stats = common::sim_stats(&sim, "every receipt answered", |s| {
        s.delivers_acked >= count as u64
    })
    .await;
    assert_eq!(
        stats.throttled, 0,
        "paced under the SMSC's limit: {stats:?}"
    );
    // 45 submits at 30 a second with a burst of 3: at least 1.4 s.
    assert!(took >= Duration::from_millis(1_300), "took {took:?}");
    assert_eq!(
        (stats.receipts_queued, stats.delivers_sent),
        (count as u64, count as u64),
        "every receipt matched at its first offer: {stats:?}"
    );
    assert_eq!(gw.depth().await.unwrap().unmatched, 0);
    for (n, status) in statuses.iter().enumerate() {
        // The carrier id kept is the hex one the submit_sm_resp gave.
        assert_eq!(
            sim.inbox(&common::msisdn(n))[0].message_ids,
            [status.segments[0].carrier_id.clone().unwrap()]
        );
    }

    sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let failed = common::submit(&gw, 100, "system error", Class::Otp).await;
    let status = common::final_status(&gw, failed).await;
    assert_eq!(status.state, State::Rejected, "{status:#?}");
    assert_eq!(status.attempts, 1, "not retried: {status:#?}");
    assert!(
        status
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("ESME_RSYSERR")),
        "{status:#?}"
    );
    assert_eq!(sim.stats().submits_rejected, 1);

    // A mobile-originated message can only come on the receiver of the pair.
    sim.inject_mo(&Mo {
        account: None,
        from: "819012345678".into(),
        to: "0005123456".into(),
        text: "受信側へ".into(),
    })
    .unwrap();
    common::wait_for_event(
        &gw,
        "the MO on the receiver",
        |e| matches!(&e.kind, EventKind::MobileOriginated { text, .. } if text == "受信側へ"),
    )
    .await;
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Three SMSCs whose every receipt says UNDELIV, EXPIRED or REJECTD with a network error
/// code: each message ends undeliverable, expired or rejected, its detail and its segment
/// naming the receipt's state and the network error.
#[actix_rt::test]
async fn failure_receipts_end_messages_undeliverable_expired_or_rejected_with_the_network_error() {
    common::trace();
    let outcomes = [
        ("undeliv", "8170", MessageState::Undeliverable, 0x000b_u16),
        ("expired", "8180", MessageState::Expired, 0x0022),
        ("rejectd", "8190", MessageState::Rejected, 0x0045),
    ];
    let mut sims = Vec::new();
    for (_, _, stat, err) in outcomes {
        let mut config = smsc_sim::Config::for_tests();
        config.receipts.outcomes = vec![Outcome {
            stat,
            err,
            weight: 1,
        }];
        sims.push(common::simulator(config).await);
    }
    let dir = tempfile::tempdir().unwrap();
    let carriers = outcomes
        .iter()
        .zip(&sims)
        .map(|((name, ..), sim)| common::carrier(name, sim.smpp_addr(), 1, 10))
        .collect();
    let mut spec = common::spec(dir.path(), carriers);
    spec.router = Router::new(outcomes.iter().map(|(name, prefix, ..)| RouteRule {
        prefix: (*prefix).into(),
        carriers: vec![(*name).into()],
        kind: RouteKind::Domestic,
    }))
    .unwrap();
    let gw = Gateway::start(spec).await.unwrap();
    for (name, prefix, stat, err) in outcomes {
        let to = format!("+{prefix}12345678");
        let id = gw
            .submit(Submit::new(&to, "will fail", Class::Transactional))
            .await
            .unwrap()
            .id;
        let status = common::final_status(&gw, id).await;
        let expected = match stat {
            MessageState::Undeliverable => State::Undeliverable,
            MessageState::Expired => State::Expired,
            _ => State::Rejected,
        };
        assert_eq!(status.state, expected, "{name}: {status:#?}");
        assert_eq!(status.carrier, name);
        let receipt = format!("receipt {}", stat.name());
        let code = format!("code 0x{err:04x}");
        let detail = status.detail.clone().unwrap_or_default();
        assert!(
            detail.contains(&receipt) && detail.contains(&code),
            "{name}: {detail:?}"
        );
        let segment = &status.segments[0];
        let segment_state = match stat {
            MessageState::Undeliverable => SegmentState::Undeliverable,
            MessageState::Expired => SegmentState::Expired,
            _ => SegmentState::Rejected,
        };
        assert_eq!(segment.state, segment_state, "{name}: {segment:?}");
        assert!(
            segment
                .error
                .as_deref()
                .is_some_and(|e| e.contains(&receipt) && e.contains(&code)),
            "{name}: {segment:?}"
        );
    }
    assert!(gw.shutdown().await.flushed);
    for sim in sims {
        sim.shutdown().await;
    }
}

/// Receipts carried in data_sm (4.7) rather than deliver_sm are matched too, and each is
/// answered with data_sm_resp the first time.
#[actix_rt::test]
async fn receipts_carried_in_data_sm_are_matched_and_answered() {
    common::trace();
    let mut config = smsc_sim::Config::for_tests();
    config.receipts.via = ReceiptVia::DataSm;
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let messages: Vec<_> = (0..10)
        .map(|n| (n, format!("data_sm receipt {n}")))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    common::assert_all_delivered(&common::all_final(&gw, &ids).await);
    let stats = common::sim_stats(&sim, "every receipt answered", |s| s.delivers_acked >= 10).await;
    assert_eq!(
        (stats.delivers_sent, stats.delivers_acked),
        (10, 10),
        "{stats:?}"
    );
    assert_eq!(gw.depth().await.unwrap().unmatched, 0);
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The backup carrier `b` is broken (its SMSC refuses every bind) when the primary `a` goes
/// down: both are declared down after 1 s and what was queued on `a` has moved to `b`.
/// When `a`'s SMSC comes back, those messages go out through `a`, in their order, rather
/// than wait on `b` until they expire.
#[actix_rt::test]
async fn messages_moved_to_a_carrier_that_is_down_too_go_back_when_the_first_carrier_returns() {
    common::trace();
    let b_sim = common::simulator(common::sim_config(Faults {
        refuse_binds_for_ms: Some(600_000),
        ..Faults::default()
    }))
    .await;
    let a_addr = SocketAddr::from(([127, 0, 0, 1], common::closed_port()));
    let mut a = common::carrier("a", a_addr, 1, 10);
    a.pool.failover_after = Duration::from_secs(1);
    let mut b = common::carrier("b", b_sim.smpp_addr(), 1, 10);
    b.pool.failover_after = Duration::from_secs(1);
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(dir.path(), vec![a, b]).await;
    // Three to one handset (their order must hold), one to another.
    let messages: Vec<_> = [1, 1, 1, 2]
        .into_iter()
        .enumerate()
        .map(|(k, n)| (n, format!("stranded {k}")))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    for id in &ids {
        common::wait_for_event(&gw, "the move to b", |e| {
            matches!(&e.kind, EventKind::Message { id: of, carrier, .. } if of == id && carrier == "b")
        })
        .await;
    }
    common::sim_stats(&b_sim, "b refusing binds", |s| s.bind_failures >= 2).await;

    let a_sim = common::simulator(smsc_sim::Config {
        smpp_addr: a_addr,
        ..smsc_sim::Config::for_tests()
    })
    .await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    assert!(statuses.iter().all(|s| s.carrier == "a"), "{statuses:#?}");
    let inbox: Vec<String> = a_sim
        .inbox(&common::msisdn(1))
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(inbox, ["stranded 0", "stranded 1", "stranded 2"]);
    assert_eq!(a_sim.inbox(&common::msisdn(2))[0].text, "stranded 3");
    assert_eq!(b_sim.stats().submits_accepted, 0);
    assert!(gw.shutdown().await.flushed);
    a_sim.shutdown().await;
    b_sim.shutdown().await;
}

/// The SMSC goes silent after 25 PDUs a session (it still reads, answers nothing): the
/// bind probes the quiet link with enquire_link, gives it up when the probe goes
/// unanswered, and binds again; what was unanswered is sent again and every message is
/// delivered. Nothing else closes a session here, so the second bind is the probe's doing.
#[actix_rt::test]
async fn a_silent_smsc_is_found_by_enquire_link_and_the_bind_reconnects_and_delivers_everything() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        black_hole_after_pdus: Some(25),
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let window = 10;
    let mut carrier = common::carrier("sim", sim.smpp_addr(), 1, window);
    for (bind, _) in &mut carrier.binds {
        bind.link.enquire_interval = Duration::from_millis(200);
        bind.link.enquire_timeout = Duration::from_millis(200);
    }
    let gw = common::gateway(dir.path(), vec![carrier]).await;
    let messages: Vec<_> = (0..30).map(|n| (n, format!("silence {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let stats = sim.stats();
    assert!(stats.binds >= 2, "bound again after the silence: {stats:?}");
    assert_eq!(stats.dropped_connections, 0);
    let mut copies = 0;
    for n in 0..30 {
        let got = sim.inbox(&common::msisdn(n)).len();
        assert!(got >= 1, "handset {n}");
        copies += got;
    }
    // A silent SMSC may have taken what it never answered: at most a window per session.
    assert!(
        copies <= 30 + window * (stats.binds as usize - 1),
        "{copies} copies, {stats:?}"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The SMSC takes two requests at a time and answers ESME_RMSGQFUL beyond (its responses
/// take 20 ms); the bind's window is 10. The bind backs off, nothing is lost or sent
/// twice, and each handset gets its messages in the order they were accepted. (Few
/// messages: each queue-full pauses the bind for 2 s, and the window grows back past the
/// SMSC's after two successes, so this SMSC takes about two a second.)
#[actix_rt::test]
async fn esme_rmsgqful_backs_the_bind_off_and_every_message_arrives_once_in_order() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        window: Some(2),
        latency_min_ms: 20,
        latency_max_ms: 20,
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    // Four handsets: four line heads can be in flight at once, two more than the SMSC takes.
    let messages: Vec<_> = (0..8)
        .map(|k| (k % 4, format!("to {} number {}", k % 4, k / 4)))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Bulk).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let stats = sim.stats();
    assert!(stats.queue_full > 0, "the SMSC's queue filled: {stats:?}");
    assert_eq!(stats.submits_accepted, 8, "{stats:?}");
    for n in 0..4 {
        let inbox: Vec<String> = sim
            .inbox(&common::msisdn(n))
            .into_iter()
            .map(|m| m.text)
            .collect();
        let expected: Vec<String> = (0..2).map(|k| format!("to {n} number {k}")).collect();
        assert_eq!(inbox, expected, "handset {n}");
    }
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}
