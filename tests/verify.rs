//! Verification end to end: the Verifier actor in a running gateway, its SMS through the
//! outbox and a bind to the simulated SMSC, the code read from the simulated handset's
//! inbox, checks through the actor (also 64 at once), and the delivery state in status.
// Tests: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smpp::values::MessageState;
use smsc_sim::config::Outcome;
use smsgate::gateway::{Gateway, VerifySpec};
use smsgate::verify::actor::{Delivery, Start};
use smsgate::verify::core::Settings;
use smsgate::verify::key::{Key, KeyRing};
use smsgate::verify::policy::{CheckOutcome, Policy};
use smsgate::verify::store::Status;
use std::path::Path;
use std::sync::Arc;

fn verify_spec(policy: Policy) -> VerifySpec {
    VerifySpec {
        policy,
        settings: Settings {
            service: "smsgate".into(),
            ..Settings::default()
        },
        keys: Arc::new(KeyRing::new(Key::from_bytes([7; 32]), Vec::new())),
    }
}

async fn gateway(dir: &Path, sim: &smsc_sim::SimHandle) -> Gateway {
    gateway_with(dir, sim, Policy::default()).await
}

async fn gateway_with(dir: &Path, sim: &smsc_sim::SimHandle, policy: Policy) -> Gateway {
    let mut spec = common::spec(dir, vec![common::carrier("sim", sim.smpp_addr(), 1, 50)]);
    spec.verify = Some(verify_spec(policy));
    Gateway::start(spec).await.expect("gateway starts")
}

/// Starts a verification to number `n` and reads its code from the handset.
async fn start_and_read(gw: &Gateway, sim: &smsc_sim::SimHandle, n: usize) -> (String, String) {
    let view = gw
        .verify_start(Start::new(common::to(n), "login"))
        .await
        .expect("verification starts");
    assert_eq!(view.status, Status::Pending);
    assert!(
        view.message.is_some(),
        "its SMS is queued before the answer"
    );
    let inbox = common::within(
        "the code at the handset",
        sim.wait_for_inbox(&common::msisdn(n), 1),
    )
    .await;
    let code = common::code_in(&inbox[0].text);
    assert_eq!(code.len(), 6, "{}", inbox[0].text);
    (view.id, code)
}

#[actix_rt::test]
async fn a_code_reaches_the_handset_checks_approved_and_its_sms_shows_delivered() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &sim).await;
    let (id, code) = start_and_read(&gw, &sim, 1).await;
    let inbox = sim.inbox(&common::msisdn(1));
    assert_eq!(inbox[0].data_coding, 0x08, "Japanese text in UCS-2");
    assert_eq!(inbox[0].segments, 1, "one segment");
    assert_eq!(
        gw.verify_check(&id, "000000").await.unwrap(),
        if code == "000000" {
            CheckOutcome::Approved
        } else {
            CheckOutcome::Wrong { attempts_left: 4 }
        }
    );
    assert_eq!(
        gw.verify_check(&id, &code).await.unwrap(),
        CheckOutcome::Approved
    );
    assert_eq!(
        gw.verify_check(&id, &code).await.unwrap(),
        CheckOutcome::NotFound,
        "used once"
    );
    let message = gw
        .verify_status(&id)
        .await
        .unwrap()
        .unwrap()
        .view
        .message
        .unwrap();
    common::final_status(&gw, message).await;
    let status = gw.verify_status(&id).await.unwrap().unwrap();
    assert_eq!(status.view.status, Status::Approved);
    assert_eq!(status.delivery, Some(Delivery::Delivered));
    gw.shutdown().await;
    sim.shutdown().await;
}

#[actix_rt::test]
async fn an_undeliverable_sms_shows_in_status() {
    common::trace();
    let mut config = smsc_sim::Config::for_tests();
    config.receipts.outcomes = vec![Outcome {
        stat: MessageState::Undeliverable,
        err: 1,
        weight: 1,
    }];
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &sim).await;
    let (id, _) = start_and_read(&gw, &sim, 2).await;
    let message = gw
        .verify_status(&id)
        .await
        .unwrap()
        .unwrap()
        .view
        .message
        .unwrap();
    common::final_status(&gw, message).await;
    let status = gw.verify_status(&id).await.unwrap().unwrap();
    assert_eq!(status.delivery, Some(Delivery::Undeliverable));
    assert!(status.delivery_detail.is_some());
    assert_eq!(
        status.view.status,
        Status::Pending,
        "the code still works if it arrives another way"
    );
    gw.shutdown().await;
    sim.shutdown().await;
}

#[actix_rt::test]
async fn sixty_four_concurrent_checks_of_the_right_code_approve_exactly_once() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &sim).await;
    let (id, code) = start_and_read(&gw, &sim, 3).await;
    let checks = (0..64).map(|_| gw.verify_check(&id, &code));
    let outcomes: Vec<CheckOutcome> = futures_util::future::join_all(checks)
        .await
        .into_iter()
        .map(|o| o.expect("answered"))
        .collect();
    let approved = outcomes
        .iter()
        .filter(|o| **o == CheckOutcome::Approved)
        .count();
    assert_eq!(approved, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            CheckOutcome::Approved | CheckOutcome::NotFound | CheckOutcome::MaxAttemptsReached
        )),
        "{outcomes:?}"
    );
    gw.shutdown().await;
    sim.shutdown().await;
}

#[actix_rt::test]
async fn sixty_four_concurrent_wrong_guesses_are_compared_at_most_five_times() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &sim).await;
    let (id, code) = start_and_read(&gw, &sim, 4).await;
    let guesses: Vec<String> = (0..64u32)
        .map(|i| format!("{:06}", (i * 7919) % 1_000_000))
        .filter(|g| *g != code)
        .collect();
    let checks = guesses.iter().map(|g| gw.verify_check(&id, g));
    let outcomes: Vec<CheckOutcome> = futures_util::future::join_all(checks)
        .await
        .into_iter()
        .map(|o| o.expect("answered"))
        .collect();
    let compared = outcomes
        .iter()
        .filter(|o| matches!(o, CheckOutcome::Wrong { .. }))
        .count();
    assert_eq!(compared, 5, "{outcomes:?}");
    // Out of checks: even the right code no longer works.
    assert_ne!(
        gw.verify_check(&id, &code).await.unwrap(),
        CheckOutcome::Approved
    );
    gw.shutdown().await;
    sim.shutdown().await;
}

#[actix_rt::test]
async fn a_wrong_guess_lock_survives_a_gateway_restart() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    // A first lock long enough to outlast any restart.
    let mut policy = Policy::default();
    policy.number.lock_initial_ms = 3_600_000;
    policy.number.lock_max_ms = 3_600_000;
    {
        let gw = gateway_with(dir.path(), &sim, policy.clone()).await;
        let (id, code) = start_and_read(&gw, &sim, 5).await;
        let wrong = if code == "111111" { "222222" } else { "111111" };
        for _ in 0..5 {
            assert!(matches!(
                gw.verify_check(&id, wrong).await.unwrap(),
                CheckOutcome::Wrong { .. }
            ));
        }
        gw.shutdown().await;
    }
    let gw = gateway_with(dir.path(), &sim, policy).await;
    let refused = gw.verify_start(Start::new(common::to(5), "login")).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("too many wrong codes")),
        "{refused:?}"
    );
    gw.shutdown().await;
    sim.shutdown().await;
}
