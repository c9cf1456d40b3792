//! The embedded default as `smsgate run` starts it (built-in simulator, the `sim` carrier,
//! the API's sandbox carrier, the verifier), in process on free ports: live and sandbox
//! messages both end delivered with their receipts matched, and a verification's code
//! reaches the simulated handset and approves.
// The built-in simulator is the `sim` feature.
#![cfg(feature = "sim")]
// Tests: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsgate::config::Config;
use smsgate::gateway::Gateway;
use smsgate::outbox::actor::Submit;
use smsgate::store::{Class, State};
use smsgate::verify::actor::Start;
use smsgate::verify::policy::CheckOutcome;

#[actix_rt::test]
async fn the_embedded_default_delivers_live_and_sandbox_messages_and_verifies() {
    common::trace();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded_default().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.simulator.smpp_address = "127.0.0.1:0".parse().unwrap();
    config.simulator.control_address = "127.0.0.1:0".parse().unwrap();
    let binds_at = "127.0.0.1:2775".parse().unwrap();
    let sim = smsgate::sim::start_if_enabled(&mut config, binds_at)
        .await
        .unwrap()
        .expect("the embedded default runs the simulator");
    let gw = Gateway::start(smsgate::wiring::spec(&config).unwrap())
        .await
        .unwrap();
    assert!(
        dir.path().join("verify.key").exists(),
        "the key is generated"
    );

    // Several of each, so receipts have every chance to arrive on the other's session.
    let mut ids = Vec::new();
    for n in 0..6 {
        let live = Submit::new(common::to(n), format!("live {n}"), Class::Transactional);
        ids.push(gw.submit(live).await.unwrap().id);
        let sandbox = Submit {
            sandbox: true,
            ..Submit::new(
                common::to(100 + n),
                format!("sandbox {n}"),
                Class::Transactional,
            )
        };
        ids.push(gw.submit(sandbox).await.unwrap().id);
    }
    for id in ids {
        let status = common::final_status(&gw, id).await;
        assert_eq!(status.state, State::Delivered, "{status:?}");
    }
    assert_eq!(gw.depth().await.unwrap().unmatched, 0);

    let view = gw
        .verify_start(Start::new(common::to(7), "login"))
        .await
        .unwrap();
    let inbox = common::within(
        "the code at the handset",
        sim.handle().wait_for_inbox(&common::msisdn(7), 1),
    )
    .await;
    let code = common::code_in(&inbox[0].text);
    assert_eq!(
        gw.verify_check(&view.id, &code).await.unwrap(),
        CheckOutcome::Approved
    );
    gw.shutdown().await;
    sim.stop().await;
}
