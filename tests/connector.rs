//! The carrier connector end to end, in process: the gateway binds to the simulated SMSC,
//! submits, and follows every message to its receipt. Nothing here sleeps to wait: the
//! tests wait on the gateway's event log and the simulator's notifications.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsgate::gateway::Gateway;
use smsgate::outbox::actor::Submit;
use smsgate::store::{Class, State};

#[actix_rt::test]
async fn happy_path_every_message_is_submitted_and_delivered() {
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(common::spec(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    ))
    .await
    .unwrap();
    let mut ids = Vec::new();
    for n in 0..20 {
        let to = format!("+81 90 0000 {n:04}");
        let accepted = gw
            .submit(Submit::new(to, format!("code {n}"), Class::Otp))
            .await
            .unwrap();
        assert_eq!(accepted.state, State::Queued);
        ids.push(accepted.id);
    }
    for id in &ids {
        let status = gw
            .wait_for(*id, |s| s.state.is_final())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.state, State::Delivered, "{status:?}");
        assert!(status.segments[0].carrier_id.is_some());
    }
    let inbox = sim.inbox("819000000007");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].text, "code 7");
    let report = gw.shutdown().await;
    assert!(report.flushed);
    sim.shutdown().await;
}
