//! The admin listener end to end against two simulated SMSCs in process: status follows a
//! bind going down and up; one carrier stopped and started while the other keeps sending
//! (nothing lost, the stopped one's messages delivered after the start, the stop kept
//! across a restart); the tokens; the errors; reload over an injected hook; the CLI.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::admin::{all_bound, all_down, carrier_of, AdminWorld, FULL, READ};
use hyper::Method;
use smsgate::admin::status::AdminState;
use smsgate::admin::{ReloadHook, ReloadRefused};
use smsgate::outbox::actor::Submit;
use smsgate::store::{Class, MessageId, State};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The `n`th number of carrier `b` (+81 80).
fn to_b(n: usize) -> String {
    format!("+81 80 {:04} {:04}", n / 10_000 % 10_000, n % 10_000)
}

async fn submit_to(gw: &smsgate::gateway::Gateway, to: String, text: &str) -> MessageId {
    gw.submit(Submit::new(to, text, Class::Transactional))
        .await
        .expect("accepted")
        .id
}

#[actix_rt::test]
async fn status_reflects_a_bind_going_down_and_up() {
    let w = AdminWorld::start(None).await;
    let s = w
        .until("both carriers bound", |s| {
            all_bound(s, "a") && all_bound(s, "b")
        })
        .await;
    let a = carrier_of(&s, "a");
    assert_eq!(a.admin_state, AdminState::Running);
    assert_eq!(a.route_kinds, ["domestic"]);
    assert_eq!(carrier_of(&s, "b").route_kinds, ["international"]);
    assert_eq!((s.totals.binds, s.totals.binds_up), (3, 3));
    // The SMSC drops every session and refuses binds for a while.
    w.sim_a
        .set_faults(smsc_sim::Faults {
            refuse_binds_for_ms: Some(600_000),
            ..smsc_sim::Faults::default()
        })
        .unwrap();
    w.sim_a.unbind_all();
    let s = w
        .until("a's binds down with an error", |s| {
            all_down(s, "a") && carrier_of(s, "a").last_error.is_some()
        })
        .await;
    assert!(all_bound(&s, "b"), "b is untouched: {s:#?}");
    assert_eq!(s.totals.binds_up, 1);
    assert_eq!(carrier_of(&s, "a").admin_state, AdminState::Running);
    // The maintenance ends: the binds come back by themselves.
    w.sim_a.set_faults(smsc_sim::Faults::default()).unwrap();
    let s = w.until("a bound again", |s| all_bound(s, "a")).await;
    assert_eq!(carrier_of(&s, "a").last_error, None);
    w.stop().await;
}

#[actix_rt::test]
async fn a_stopped_carrier_keeps_its_messages_queued_while_the_other_sends_and_delivers_them_after_start(
) {
    let w = AdminWorld::start(None).await;
    w.until("both bound", |s| all_bound(s, "a") && all_bound(s, "b"))
        .await;
    let answer = w.ask(FULL, Method::POST, "/carriers/a/stop").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["admin_state"], "stopped");
    // Answered once the binds have unbound.
    let s = w.snapshot().await;
    assert!(all_down(&s, "a"), "{s:#?}");
    assert_eq!(carrier_of(&s, "a").admin_state, AdminState::Stopped);
    common::sim_stats(&w.sim_a, "a's sessions closed", |st| st.bound_sessions == 0).await;

    let mut to_a = Vec::new();
    let mut to_b_ids = Vec::new();
    for n in 0..20 {
        to_a.push(submit_to(&w.gw, common::to(n), &format!("a {n}")).await);
        to_b_ids.push(submit_to(&w.gw, to_b(n), &format!("b {n}")).await);
    }
    // b keeps delivering.
    for id in &to_b_ids {
        let s = common::final_status(&w.gw, *id).await;
        assert_eq!(s.state, State::Delivered, "{s:?}");
    }
    // a's wait, queued, none at its SMSC.
    for id in &to_a {
        let s = w.gw.status(*id).await.unwrap().unwrap();
        assert_eq!(s.state, State::Queued, "{s:?}");
    }
    assert_eq!(w.sim_a.stats().submits_accepted, 0);
    let s = w.snapshot().await;
    assert_eq!(carrier_of(&s, "a").queued.get("transactional"), Some(&20));
    assert!(all_down(&s, "a"), "a stays down: {s:#?}");
    assert!(
        s.recent
            .iter()
            .any(|o| o.carrier == "b" && o.state == "delivered"),
        "{:#?}",
        s.recent
    );
    assert!(
        s.recent
            .iter()
            .any(|o| o.carrier == "a" && o.state == "queued"),
        "{:#?}",
        s.recent
    );

    let answer = w.ask(FULL, Method::POST, "/carriers/a/start").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["admin_state"], "running");
    let statuses = common::all_final(&w.gw, &to_a).await;
    common::assert_all_delivered(&statuses);
    for n in 0..20 {
        let inbox = w.sim_a.inbox(&common::msisdn(n));
        assert_eq!(inbox.len(), 1, "one delivery each, none lost or doubled");
        assert_eq!(inbox[0].text, format!("a {n}"));
    }
    let s = w.until("a bound again", |s| all_bound(s, "a")).await;
    assert_eq!(carrier_of(&s, "a").admin_state, AdminState::Running);
    w.stop().await;
}

#[actix_rt::test]
async fn a_stopped_carrier_stays_stopped_across_a_restart_until_started() {
    let w = AdminWorld::start(None).await;
    w.until("both bound", |s| all_bound(s, "a") && all_bound(s, "b"))
        .await;
    assert_eq!(
        w.ask(FULL, Method::POST, "/carriers/b/stop").await.status,
        200
    );
    let AdminWorld {
        sim_a,
        sim_b,
        gw,
        admin,
        dir,
    } = w;
    admin.stop().await;
    gw.shutdown().await;
    let sessions_before = sim_b.stats().binds;
    let gw = common::admin::gateway_ab(dir.path(), &sim_a, &sim_b, 2).await;
    let admin = smsgate::admin::AdminServer::start(
        "127.0.0.1:0".parse().unwrap(),
        common::admin::settings(None),
        gw.clone(),
    )
    .unwrap();
    let w = AdminWorld {
        sim_a,
        sim_b,
        gw,
        admin,
        dir,
    };
    // a binds; b, stopped, does not even try.
    let s = w
        .until("a bound after the restart", |s| all_bound(s, "a"))
        .await;
    assert_eq!(carrier_of(&s, "b").admin_state, AdminState::Stopped);
    assert!(all_down(&s, "b"));
    assert_eq!(w.sim_b.stats().binds, sessions_before, "no bind to b");
    assert_eq!(
        w.ask(FULL, Method::POST, "/carriers/b/start").await.status,
        200
    );
    let s = w.until("b bound once started", |s| all_bound(s, "b")).await;
    assert_eq!(carrier_of(&s, "b").admin_state, AdminState::Running);
    let id = submit_to(&w.gw, to_b(7), "after the restart").await;
    assert_eq!(
        common::final_status(&w.gw, id).await.state,
        State::Delivered
    );
    w.stop().await;
}

#[actix_rt::test]
async fn tokens_and_errors_answer_typed_json() {
    let w = AdminWorld::start(None).await;
    let none = smsgate::admin::client::AdminClient::new(&w.url(), String::new().into()).unwrap();
    let answer = none.request(Method::GET, "/status").await.unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body["code"], "unauthorized");
    let answer = w.ask("not-a-token", Method::GET, "/status").await;
    assert_eq!(answer.status, 401);
    // The read-only token reads, and is told so; it may not act.
    let answer = w.ask(READ, Method::GET, "/status").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["access"], "read");
    assert_eq!(
        w.ask(FULL, Method::GET, "/status").await.body["access"],
        "full"
    );
    let answer = w.ask(READ, Method::POST, "/carriers/a/stop").await;
    assert_eq!(answer.status, 403, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "forbidden");
    assert_eq!(w.ask(READ, Method::POST, "/reload").await.status, 403);
    let s = w.snapshot().await;
    assert_eq!(carrier_of(&s, "a").admin_state, AdminState::Running);
    // Unknown carrier, a stop twice, an unknown endpoint, a bad query.
    let answer = w.ask(FULL, Method::POST, "/carriers/nope/stop").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["code"], "unknown_carrier");
    assert_eq!(
        w.ask(FULL, Method::POST, "/carriers/a/stop").await.status,
        200
    );
    let answer = w.ask(FULL, Method::POST, "/carriers/a/stop").await;
    assert_eq!(answer.status, 409);
    assert_eq!(answer.body["code"], "already_stopped");
    assert_eq!(
        w.ask(FULL, Method::POST, "/carriers/a/start").await.status,
        200
    );
    let answer = w.ask(FULL, Method::POST, "/carriers/a/start").await;
    assert_eq!(answer.body["code"], "already_running");
    assert_eq!(w.ask(FULL, Method::GET, "/nowhere").await.status, 404);
    assert_eq!(
        w.ask(FULL, Method::GET, "/status?recent=x").await.status,
        422
    );
    // No reload hook in this gateway; no metrics recorder in this process.
    let answer = w.ask(FULL, Method::POST, "/reload").await;
    assert_eq!(answer.status, 501);
    assert_eq!(answer.body["code"], "reload_unavailable");
    assert_eq!(w.ask(READ, Method::GET, "/metrics").await.status, 404);
    // The page needs no token and loads nothing from elsewhere.
    let page = w.ask("", Method::GET, "/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("/assets/status.js"));
    w.stop().await;
}

#[actix_rt::test]
async fn reload_calls_the_hook_and_answers_a_refusal_with_its_key() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let hook: ReloadHook = Arc::new(move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if n == 0 {
                Ok(serde_json::json!({"changed": ["a"]}))
            } else {
                Err(ReloadRefused {
                    key: Some("carriers.a.binds[0].port".into()),
                    message: "70000 is not a port".into(),
                })
            }
        })
    });
    let w = AdminWorld::start(Some(hook)).await;
    let ok = w.ask(FULL, Method::POST, "/reload").await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body, serde_json::json!({"changed": ["a"]}));
    let refused = w.ask(FULL, Method::POST, "/reload").await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body,
        serde_json::json!({"code": "reload_refused", "key": "carriers.a.binds[0].port", "error": "70000 is not a port"})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The CLI: refused is exit 3 with the key named.
    let url = w.url();
    let (code, out) =
        common::cli(&["reload", "--admin", &url, "--admin-token", FULL], "", &[]).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("carriers.a.binds[0].port"), "{out}");
    w.stop().await;
}

#[actix_rt::test]
async fn the_cli_shows_the_gateway_status_and_stops_and_starts_a_carrier() {
    let w = AdminWorld::start(None).await;
    w.until("both bound", |s| all_bound(s, "a") && all_bound(s, "b"))
        .await;
    let url = w.url();
    let env = [("SMS_ADMIN", url.as_str()), ("SMS_ADMIN_TOKEN", FULL)];
    let (code, out) = common::cli(&["carrier", "stop", "a"], "", &env).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "carrier a: stopped");
    let (code, out) = common::cli(&["carrier", "stop", "a"], "", &env).await;
    assert_eq!((code, out.trim()), (0, "carrier a: stopped already"));
    let (code, out) = common::cli(&["status", "--gateway"], "", &env).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("carrier a: stopped, 0 of 2 binds up"), "{out}");
    assert!(out.contains("carrier b: running, 1 of 1 binds up"), "{out}");
    let (code, out) = common::cli(&["status", "--gateway", "--json"], "", &env).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["carriers"][0]["admin_state"], "stopped");
    let (code, out) = common::cli(
        &["carrier", "start", "a", "--json", "--admin-token", READ],
        "",
        &env,
    )
    .await;
    assert_eq!(code, 3, "read-only: {out}");
    assert!(out.contains("forbidden"), "{out}");
    let (code, out) = common::cli(&["carrier", "start", "nope"], "", &env).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("unknown_carrier"), "{out}");
    let (code, out) = common::cli(&["carrier", "start", "a", "--json"], "", &env).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["admin_state"], "running");
    let (code, out) = common::cli(
        &["status", "--gateway", "--admin", "http://127.0.0.1:1"],
        "",
        &env,
    )
    .await;
    assert_eq!(code, 1, "no listener: {out}");
    let (code, out) = common::cli(&["status", "--gateway", "--admin", "ftp://x"], "", &env).await;
    assert_eq!(code, 2, "{out}");
    w.stop().await;
}
