//! Reloading the configuration into a running gateway, with simulated SMSCs in process:
//! a carrier added (its messages delivered, and still there after a restart from the same
//! file), a carrier's password changed (that carrier rebinds, the other keeps its
//! session), an invalid file refused (key named, nothing touched), a carrier changed with
//! messages in flight (none lost), and a carrier removed (its queue moved on, or held
//! until it is back). Nothing sleeps: the tests wait on the gateway's event log and the
//! simulators' counters.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsc_sim::{Account, Faults};
use smsgate::config::ConfigSource;
use smsgate::gateway::{Gateway, SubmitFailure};
use smsgate::outbox::actor::{Refused, Submit};
use smsgate::reload::{Overrides, ReloadError, Reloader};
use smsgate::store::{Class, State};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A simulator whose only account is `system_id` / `password`.
async fn simulator(system_id: &str, password: &str, faults: Faults) -> smsc_sim::SimHandle {
    common::simulator(smsc_sim::Config {
        accounts: vec![Account::new(system_id, password)],
        faults,
        ..smsc_sim::Config::for_tests()
    })
    .await
}

/// A carrier binding once to `addr` as `system_id` / `password`, with `keys` added.
fn carrier(name: &str, addr: SocketAddr, system_id: &str, password: &str, keys: &str) -> String {
    format!(
        r#"
[carriers.{name}]
message_id = "as_is"
reconnect = {{ initial = "20ms", max = "200ms" }}
{keys}

[[carriers.{name}.binds]]
host = "{host}"
port = {port}
system_id = "{system_id}"
password = "{password}"
"#,
        host = addr.ip(),
        port = addr.port(),
    )
}

fn route(prefix: &str, carrier: &str) -> String {
    format!("\n[[routes]]\nprefix = \"{prefix}\"\ncarriers = [\"{carrier}\"]\n")
}

/// The configuration file of a test: `data_dir` in its directory, then `body`.
fn write(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("smsgate.toml");
    let data = common::toml_path(&dir.join("data"));
    std::fs::write(&path, format!("data_dir = {data}\n{body}")).unwrap();
    path
}

/// A reloader over the file, with an empty environment.
fn reloader(path: &Path) -> Reloader {
    Reloader::new(ConfigSource::File(path.to_path_buf()), Overrides::default())
        .with_env(Arc::new(Vec::new))
}

/// Starts the gateway the reloader's configuration describes, as `smsgate run` does.
async fn start(reloader: &Reloader) -> Gateway {
    let (config, _) = reloader.load().unwrap();
    let gw = common::gateway_from(&config).await;
    reloader.started(&config);
    gw
}

async fn delivered(gw: &Gateway, to: &str, text: &str) {
    let id = gw
        .submit(Submit::new(to, text, Class::Transactional))
        .await
        .unwrap()
        .id;
    let status = common::final_status(gw, id).await;
    assert_eq!(status.state, State::Delivered, "{status:?}");
}

#[actix_rt::test]
async fn a_reload_adds_a_carrier_whose_messages_are_delivered_and_a_restart_keeps_it() {
    common::trace();
    let sim_a = simulator("a", "pa", Faults::default()).await;
    let sim_b = simulator("b", "pb", Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let one = carrier("a", sim_a.smpp_addr(), "a", "pa", "") + &route("8190", "a");
    let path = write(dir.path(), &one);
    let reloader = reloader(&path);
    let gw = start(&reloader).await;
    common::sim_stats(&sim_a, "a bound", |s| s.bound_sessions == 1).await;
    let refused = gw
        .submit(Submit::new("+81 80 1111 0000", "before", Class::Otp))
        .await;
    assert!(
        matches!(refused, Err(SubmitFailure::Refused(Refused::Unroutable(_)))),
        "{refused:?}"
    );

    let two = one.clone() + &carrier("b", sim_b.smpp_addr(), "b", "pb", "") + &route("8180", "b");
    write(dir.path(), &two);
    let report = reloader.reload(&gw).await.unwrap();
    assert_eq!(report.applied.plan.added, ["b"]);
    assert_eq!(report.applied.plan.unchanged, ["a"]);
    assert!(report.applied.plan.changed.is_empty() && report.applied.plan.removed.is_empty());
    assert!(report.routes_changed);
    // Status names the new carrier's route kinds from the new routes.
    assert!(gw.route_kinds().contains_key("b"), "{:?}", gw.route_kinds());
    assert!(
        report.needs_restart.is_empty(),
        "{:?}",
        report.needs_restart
    );
    // The report is JSON for the admin endpoint, without any password.
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"added\":[\"b\"]"), "{json}");
    assert!(!json.contains("pb") && !json.contains("pa"), "{json}");

    delivered(&gw, "+81 80 1111 0001", "to the new carrier").await;
    assert_eq!(sim_b.inbox("818011110001").len(), 1);
    delivered(&gw, "+81 90 1111 0001", "to the old carrier").await;
    // Carrier a kept its one session throughout.
    let a = sim_a.stats();
    assert_eq!(
        (a.connections, a.binds, a.bound_sessions),
        (1, 1, 1),
        "{a:?}"
    );
    assert!(gw.shutdown().await.flushed);

    // A restart from the same file still has carrier b (the file is the truth).
    let gw = start(&reloader).await;
    let names: Vec<String> = gw.carrier_specs().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["a", "b"]);
    delivered(&gw, "+81 80 1111 0002", "after the restart").await;
    assert_eq!(sim_b.inbox("818011110002").len(), 1);
    assert!(gw.shutdown().await.flushed);
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[actix_rt::test]
async fn a_changed_password_rebinds_that_carrier_and_the_other_keeps_its_session() {
    common::trace();
    let sim_a = simulator("a", "pa", Faults::default()).await;
    // The SMSC of carrier b knows only the new password.
    let sim_b = simulator("b", "new", Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let text = |password_b: &str| {
        carrier("a", sim_a.smpp_addr(), "a", "pa", "")
            + &route("8190", "a")
            + &carrier("b", sim_b.smpp_addr(), "b", password_b, "")
            + &route("8180", "b")
    };
    let path = write(dir.path(), &text("old"));
    let reloader = reloader(&path);
    let gw = start(&reloader).await;
    common::sim_stats(&sim_a, "a bound", |s| s.bound_sessions == 1).await;
    common::sim_stats(&sim_b, "b refused with the old password", |s| {
        s.bind_failures >= 1
    })
    .await;
    assert_eq!(sim_b.stats().binds, 0);

    write(dir.path(), &text("new"));
    let report = reloader.reload(&gw).await.unwrap();
    assert_eq!(report.applied.plan.changed, ["b"]);
    assert_eq!(report.applied.plan.unchanged, ["a"]);
    common::sim_stats(&sim_b, "b bound with the new password", |s| {
        s.bound_sessions == 1
    })
    .await;
    delivered(&gw, "+81 80 2222 0001", "after the new password").await;
    delivered(&gw, "+81 90 2222 0001", "carrier a").await;
    let a = sim_a.stats();
    assert_eq!(
        (a.connections, a.binds, a.bound_sessions),
        (1, 1, 1),
        "{a:?}"
    );
    assert!(gw.shutdown().await.flushed);
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[actix_rt::test]
async fn an_invalid_configuration_is_refused_with_its_key_and_nothing_changes() {
    common::trace();
    let sim_a = simulator("a", "pa", Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let good = carrier("a", sim_a.smpp_addr(), "a", "pa", "") + &route("8190", "a");
    let path = write(dir.path(), &good);
    let reloader = reloader(&path);
    let gw = start(&reloader).await;
    common::sim_stats(&sim_a, "a bound", |s| s.bound_sessions == 1).await;
    let before: Vec<String> = gw
        .carrier_specs()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();

    // A window of 0 and a new carrier in the same file: all of it is refused.
    let bad = good.replace("password = \"pa\"", "password = \"pa\"\nwindow = 0")
        + &carrier("b", sim_a.smpp_addr(), "b", "pb", "");
    write(dir.path(), &bad);
    let err = reloader.reload(&gw).await.unwrap_err();
    assert!(matches!(err, ReloadError::Load(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("carriers.a.binds[0].window"), "{message}");
    let after: Vec<String> = gw
        .carrier_specs()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    assert_eq!(before, after);
    delivered(&gw, "+81 90 3333 0001", "still running").await;
    let a = sim_a.stats();
    assert_eq!(
        (a.connections, a.binds, a.bound_sessions),
        (1, 1, 1),
        "{a:?}"
    );

    // Put right, the file reloads against what runs: nothing to change.
    write(dir.path(), &good);
    let report = reloader.reload(&gw).await.unwrap();
    assert!(report.applied.plan.is_empty(), "{report:?}");
    assert_eq!(report.applied.plan.unchanged, ["a"]);
    assert!(gw.shutdown().await.flushed);
    sim_a.shutdown().await;
}

#[actix_rt::test]
async fn a_carrier_changed_with_messages_in_flight_loses_none() {
    common::trace();
    // Slow answers: many submits are in flight when the reload unbinds the old session.
    let faults = Faults {
        latency_min_ms: 20,
        latency_max_ms: 60,
        ..Faults::default()
    };
    let sim = simulator("a", "pa", faults).await;
    let dir = tempfile::tempdir().unwrap();
    let text = |keys: &str| carrier("a", sim.smpp_addr(), "a", "pa", keys) + &route("81", "a");
    let path = write(dir.path(), &text("tps = 200"));
    let reloader = reloader(&path);
    let gw = start(&reloader).await;
    common::sim_stats(&sim, "a bound", |s| s.bound_sessions == 1).await;
    let messages: Vec<_> = (0..300).map(|n| (n, format!("in flight {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    common::sim_stats(&sim, "submits under way", |s| s.pdus_received >= 20).await;

    write(dir.path(), &text("tps = 150"));
    let report = reloader.reload(&gw).await.unwrap();
    assert_eq!(report.applied.plan.changed, ["a"]);
    assert!(report.applied.unbound_in_time);

    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    assert_eq!(gw.depth().await.unwrap().open, 0);
    // The old session ended and a new one took over.
    let stats = sim.stats();
    assert_eq!((stats.binds, stats.bound_sessions), (2, 1), "{stats:?}");
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

#[actix_rt::test]
async fn a_removed_carrier_hands_its_queue_on_or_holds_it_until_it_is_back() {
    common::trace();
    let sim_a = simulator("a", "pa", Faults::default()).await;
    let sim_b = simulator("b", "pb", Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Carrier b's SMSC is down at first: its messages wait in its queue.
    let down = SocketAddr::from(([127, 0, 0, 1], common::closed_port()));
    let a = carrier("a", sim_a.smpp_addr(), "a", "pa", "");
    let b_down = carrier("b", down, "b", "pb", "failover_after = \"1h\"");
    let routes = "\n[[routes]]\nprefix = \"8170\"\ncarriers = [\"b\", \"a\"]\n".to_owned()
        + &route("8180", "b")
        + &route("8190", "a");
    let path = write(dir.path(), &(a.clone() + &b_down + &routes));
    let reloader = reloader(&path);
    let gw = start(&reloader).await;
    common::sim_stats(&sim_a, "a bound", |s| s.bound_sessions == 1).await;
    let only_b = gw
        .submit(Submit::new("+81 80 4444 0001", "only b", Class::Otp))
        .await
        .unwrap()
        .id;
    let b_then_a = gw
        .submit(Submit::new("+81 70 4444 0001", "b then a", Class::Otp))
        .await
        .unwrap()
        .id;

    // b removed: the message whose route has a goes there, the other is held.
    write(
        dir.path(),
        &(a.clone() + &route("8190", "a") + &route("8170", "a")),
    );
    let report = reloader.reload(&gw).await.unwrap();
    assert_eq!(report.applied.plan.removed, ["b"]);
    assert_eq!(report.applied.removed.len(), 1);
    assert_eq!(
        (
            report.applied.removed[0].moved,
            report.applied.removed[0].held
        ),
        (1, 1),
        "{report:?}"
    );
    let moved = common::final_status(&gw, b_then_a).await;
    assert_eq!(moved.state, State::Delivered, "{moved:?}");
    assert_eq!(moved.carrier, "a");
    let held = gw.status(only_b).await.unwrap().unwrap();
    assert_eq!(held.state, State::Queued, "{held:?}");

    // b back (its SMSC up now): the held message goes.
    let b_up = carrier("b", sim_b.smpp_addr(), "b", "pb", "");
    write(dir.path(), &(a + &b_up + &routes));
    let report = reloader.reload(&gw).await.unwrap();
    assert_eq!(report.applied.plan.added, ["b"]);
    let sent = common::final_status(&gw, only_b).await;
    assert_eq!(sent.state, State::Delivered, "{sent:?}");
    assert_eq!(sim_b.inbox("818044440001").len(), 1);
    assert!(gw.shutdown().await.flushed);
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}
