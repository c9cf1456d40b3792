//! The carrier connector against a misbehaving SMSC, in process: throttling, a dropped
//! connection, refused binds, maintenance windows; the priority of a verification code
//! over a queued campaign; and a stop and restart with work queued and in flight. Nothing
//! sleeps to wait: the tests wait on the gateway's event log and the simulator's
//! notifications, and the simulator's own delays and faults shape the traffic.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsc_sim::Faults;
use smsgate::carrier::throttle::PacerConfig;
use smsgate::gateway::{CarrierSpec, Gateway};
use smsgate::store::{Class, MessageId, State};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A carrier of one bind whose pacing (carrier and bind) is `tps` with a burst of `burst`.
fn paced(addr: SocketAddr, window: usize, tps: f64, burst: u32) -> CarrierSpec {
    let mut carrier = common::carrier("sim", addr, 1, window);
    carrier.pool.tps = tps;
    carrier.pool.burst = burst;
    for (_, pacing) in &mut carrier.binds {
        *pacing = PacerConfig::new(tps, burst, window);
    }
    carrier
}

/// The simulator at 50 submits a second for the account; the gateway's own pacing is far
/// above it, and ten handsets keep ten submits in flight, so the SMSC answers
/// ESME_RTHROTTLED over and over. 150 messages to the ten: each handset receives its
/// messages once each, in the order they were accepted.
#[actix_rt::test]
async fn a_throttling_storm_delivers_everything_and_keeps_the_order_per_destination() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        tps: Some(50),
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let messages: Vec<_> = (0..150)
        .map(|k| (k % 10, format!("to {} number {}", k % 10, k / 10)))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Bulk).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let stats = sim.stats();
    assert!(stats.throttled > 0, "no storm: {stats:?}");
    assert_eq!(stats.submits_accepted, 150, "each accepted once: {stats:?}");
    assert!(statuses.iter().any(|s| s.attempts > 1));
    // Per destination, the order of acceptance (the ids) is the order of arrival.
    let mut accepted: BTreeMap<usize, Vec<(MessageId, &str)>> = BTreeMap::new();
    for ((n, text), id) in messages.iter().zip(&ids) {
        accepted.entry(*n).or_default().push((*id, text));
    }
    for (n, mut sent) in accepted {
        sent.sort();
        let expected: Vec<&str> = sent.into_iter().map(|(_, text)| text).collect();
        let inbox: Vec<String> = sim
            .inbox(&common::msisdn(n))
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(inbox, expected, "handset {n}");
    }
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Responses take 20 ms, so the window of 10 is full when the SMSC drops the connection
/// on its 25th PDU. What was in flight is sent again on the next connection: nothing is
/// lost, and nothing reaches a handset twice beyond what the window held.
#[actix_rt::test]
async fn the_smsc_dropping_the_connection_mid_window_loses_nothing_and_every_message_ends() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        latency_min_ms: 20,
        latency_max_ms: 20,
        drop_after_pdus: Some(25),
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let messages: Vec<_> = (0..100).map(|n| (n, format!("dropped {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    common::sim_stats(&sim, "a dropped connection", |s| s.dropped_connections >= 1).await;
    sim.set_faults(Faults::default()).unwrap();
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    assert!(
        statuses.iter().any(|s| s.attempts > 1),
        "something was in flight when the connection dropped"
    );
    // A drop may come again before the fault is lifted; each loses at most a window.
    let drops = sim.stats().dropped_connections as usize;
    let mut copies = 0;
    for n in 0..100 {
        let got = sim.inbox(&common::msisdn(n)).len();
        assert!(got >= 1, "handset {n} got nothing");
        copies += got;
    }
    assert!(
        copies <= 100 + 10 * drops,
        "{copies} copies for 100 messages, a window of 10 and {drops} drop(s)"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The SMSC refuses every bind (ESME_RBINDFAIL) until the fault is lifted. Messages are
/// accepted meanwhile (on disk, queued) and delivered once a bind succeeds; the refused
/// binds were backed off, not hammered.
#[actix_rt::test]
async fn messages_accepted_while_binds_are_refused_are_delivered_once_a_bind_succeeds() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        refuse_binds_for_ms: Some(600_000),
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    common::sim_stats(&sim, "two refused binds", |s| s.bind_failures >= 2).await;
    let messages: Vec<_> = (0..10)
        .map(|n| (n, format!("after refusals {n}")))
        .collect();
    let ids = common::submit_all(&gw, &messages, Class::Otp).await;
    for id in &ids {
        let status = gw.status(*id).await.unwrap().unwrap();
        assert_eq!(status.state, State::Queued, "{status:#?}");
    }
    let refused = sim.stats();
    assert_eq!((refused.binds, refused.submits_accepted), (0, 0));
    let status = gw.binds().await;
    assert!(
        status[0].binds[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("bind_refused")),
        "{status:?}"
    );
    sim.set_faults(Faults::default()).unwrap();
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let stats = sim.stats();
    assert_eq!(stats.binds, 1);
    // Two refusals back off at least 200 ms and 500 ms (refusals skip ahead in the
    // backoff); hammering would have made hundreds.
    assert!(stats.bind_failures <= 5, "{stats:?}");
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The maintenance scenario (`fixtures/scenarios/maintenance.toml`: binds refused for the
/// first 60 s, then accepted), with its window shortened to 800 ms: no bind comes up before
/// the window ends, what was accepted during it is delivered after. Then a second window
/// at run time, as an SMSC going into maintenance does: it unbinds every session and
/// refuses binds for 1.5 s; what is accepted meanwhile is delivered after.
#[actix_rt::test]
async fn maintenance_windows_queue_what_is_accepted_during_them_and_deliver_it_after() {
    common::trace();
    let window = Duration::from_millis(800);
    let mut config = smsc_sim::Config::from_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/scenarios/maintenance.toml"),
    )
    .unwrap();
    assert_eq!(config.faults.refuse_binds_for_ms, Some(60_000));
    let tests = smsc_sim::Config::for_tests();
    config.smpp_addr = tests.smpp_addr;
    config.control_addr = tests.control_addr;
    config.receipts.delay_ms = 0;
    config
        .upsert_account(&format!("{}:{}", common::SYSTEM_ID, common::PASSWORD))
        .unwrap();
    config.faults.refuse_binds_for_ms = Some(window.as_millis() as u64);
    let opened = Instant::now();
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let first_bind = async {
        common::sim_stats(&sim, "the first bind", |s| s.binds >= 1).await;
        Instant::now()
    };
    let first: Vec<_> = (0..5).map(|n| (n, format!("first window {n}"))).collect();
    let (bound_at, ids) = tokio::join!(first_bind, common::submit_all(&gw, &first, Class::Otp));
    assert!(
        bound_at.duration_since(opened) >= window,
        "bound {:?} after the window opened",
        bound_at.duration_since(opened)
    );
    common::assert_all_delivered(&common::all_final(&gw, &ids).await);
    let refused_before = sim.stats().bind_failures;
    assert!(refused_before >= 1);

    // Longer than the longest reconnect backoff (1 s), so the first reconnect is refused.
    sim.set_faults(Faults {
        refuse_binds_for_ms: Some(1_500),
        ..Faults::default()
    })
    .unwrap();
    sim.unbind_all();
    common::sim_stats(&sim, "every session unbound", |s| s.bound_sessions == 0).await;
    let second: Vec<_> = (5..10).map(|n| (n, format!("second window {n}"))).collect();
    let ids = common::submit_all(&gw, &second, Class::Otp).await;
    common::assert_all_delivered(&common::all_final(&gw, &ids).await);
    let stats = sim.stats();
    assert!(stats.bind_failures > refused_before, "{stats:?}");
    assert_eq!(stats.binds, 2, "{stats:?}");
    for n in 0..10 {
        assert_eq!(sim.inbox(&common::msisdn(n)).len(), 1, "handset {n}");
    }
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// 10,000 bulk messages queue behind a carrier paced at 200 submits a second; a
/// verification code accepted after them is the next to go but for what the pool had
/// already pulled (at most a pull batch of 256 and the window). The simulator numbers the
/// submits it accepts from 1, in order, and its decimal id is that number, so the code's
/// id says how many submits went before it.
#[actix_rt::test]
async fn an_otp_submitted_behind_10000_queued_bulk_messages_goes_out_first() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let window = 10;
    let gw = common::gateway(dir.path(), vec![paced(sim.smpp_addr(), window, 200.0, 20)]).await;
    let bulk: Vec<_> = (0..10_000).map(|n| (n, format!("campaign {n}"))).collect();
    common::submit_all(&gw, &bulk, Class::Bulk).await;
    let before = sim.stats().submits_accepted;
    let otp = common::submit(&gw, 20_000, "your code is 424242", Class::Otp).await;
    let status = common::final_status(&gw, otp).await;
    assert_eq!(status.state, State::Delivered, "{status:#?}");
    let number: u64 = status.segments[0]
        .carrier_id
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let ahead = (number - 1).saturating_sub(before);
    assert!(
        ahead <= 256 + window as u64,
        "{ahead} bulk submits went between the code's accept and the code"
    );
    let depth = gw.depth().await.unwrap();
    let bulk_waiting: usize = depth
        .queued
        .iter()
        .filter(|(_, class, _)| *class == Class::Bulk)
        .map(|(_, _, n)| n)
        .sum();
    assert!(
        bulk_waiting > 5_000,
        "the campaign was still queued: {depth:?}"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Responses take 300 ms, the window is 10, so the bind always has submits in flight.
/// Stopped after 15 submits reached the SMSC (the 15th surely unanswered), with most of
/// the 60 still queued, the gateway is started again on the same data directory: every
/// message is delivered, and a handset gets a second copy only of what was in flight at
/// the stop (at most the window).
#[actix_rt::test]
async fn stopped_with_work_queued_and_in_flight_a_restart_completes_every_message() {
    restart_with_work_queued(smsgate::outbox::Settings::default().in_memory).await;
}

/// The same with 4 queued messages in memory: the rest of the queue is parked on disk,
/// before and after the restart, and comes back in order with nothing lost.
#[actix_rt::test]
async fn a_queue_parked_on_disk_survives_a_restart_and_every_message_is_delivered() {
    restart_with_work_queued(4).await;
}

async fn restart_with_work_queued(in_memory: usize) {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        latency_min_ms: 300,
        latency_max_ms: 300,
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let window = 10;
    let start = || {
        let mut spec = common::spec(
            dir.path(),
            vec![common::carrier("sim", sim.smpp_addr(), 1, window)],
        );
        spec.outbox.in_memory = in_memory;
        Gateway::start(spec)
    };
    let gw = start().await.unwrap();
    let messages: Vec<_> = (0..60).map(|n| (n, format!("restart {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    common::sim_stats(&sim, "15 submits at the SMSC", |s| s.submits_accepted >= 15).await;
    let report = gw.shutdown().await;
    assert!(report.unbound_in_time && report.flushed, "{report:?}");
    let at_stop = sim.stats().submits_accepted;
    assert!(at_stop < 60, "work was still queued at the stop");

    let gw = start().await.unwrap();
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let mut copies = 0;
    for n in 0..60 {
        let got = sim.inbox(&common::msisdn(n)).len();
        assert!((1..=2).contains(&got), "handset {n} got {got}");
        copies += got;
    }
    let again = copies - 60;
    assert!(
        (1..=window).contains(&again),
        "{again} sent again: what was in flight at the stop, at most the window"
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}
