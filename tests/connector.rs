//! The carrier connector end to end, in process: the gateway binds to the simulated SMSC,
//! submits, and follows every message to its receipt. Nothing here sleeps to wait: the
//! tests wait on the gateway's event log and the simulator's notifications. Routing and
//! text rules, receipts (ids, binds, timing) and long messages are here; faults, priority
//! and restarts are in `connector_faults.rs`.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smpp::values::MessageState;
use smsc_sim::{Faults, IdFormat, Outcome};
use smsgate::carrier::msgid::{IdForm, IdMatcher};
use smsgate::gateway::{Gateway, SubmitFailure};
use smsgate::outbox::actor::{Refused, Submit};
use smsgate::outbox::{CarrierProfile, ShiftJisRule, SubmitError, TextProfile, TextRefusal, Unfit};
use smsgate::store::{Class, EventKind, LongMessage, SegmentState, State};

#[actix_rt::test]
async fn happy_path_every_message_is_submitted_and_delivered() {
    common::trace();
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

/// Four transceivers; the simulator sends each receipt 10 ms after its submit to the next
/// receiver-capable bind of the account in turn (round robin over all four), so three in
/// four arrive on a bind other than the one that submitted.
#[actix_rt::test]
async fn four_binds_with_receipts_on_other_binds_10ms_after_submit_match_every_receipt() {
    common::trace();
    let mut config = smsc_sim::Config::for_tests();
    config.receipts.delay_ms = 10;
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 4, 50)],
    )
    .await;
    common::sim_stats(&sim, "four bound sessions", |s| s.bound_sessions == 4).await;
    let messages: Vec<_> = (0..400).map(|n| (n, format!("four binds {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let stats =
        common::sim_stats(&sim, "every receipt answered", |s| s.delivers_acked >= 400).await;
    assert_eq!(stats.receipts_queued, 400);
    // Every receipt was taken the first time it was offered: none refused and sent again.
    assert_eq!(stats.delivers_sent, 400, "{stats:?}");
    assert_eq!(stats.delivers_acked, 400, "{stats:?}");
    assert_eq!(gw.depth().await.unwrap().unmatched, 0);
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The simulator's `hex-dec` ids: submit_sm_resp in hex, the receipt the same id in
/// decimal (the hex-dec-ids scenario), for `count` messages with `matcher`.
async fn hex_dec_run(matcher: IdMatcher, count: usize) -> (smsc_sim::StatsSnapshot, usize) {
    let scenario = smsc_sim::Config::from_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/scenarios/hex-dec-ids.toml"),
    )
    .unwrap();
    assert_eq!(scenario.ids, IdFormat::HexDec);
    let mut config = smsc_sim::Config::for_tests();
    config.ids = scenario.ids;
    // Receipts refused while the form is learnt come back quickly.
    config.receipts.resend_after_ms = 100;
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let mut carrier = common::carrier("sim", sim.smpp_addr(), 1, 10);
    carrier.matcher = matcher;
    let gw = common::gateway(dir.path(), vec![carrier]).await;
    let messages: Vec<_> = (0..count).map(|n| (n, format!("hex-dec {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Transactional).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    // Each matched the message the SMSC gave that id to: its inbox entry names the same
    // (hex) id the status holds.
    for (n, status) in statuses.iter().enumerate() {
        let inbox = sim.inbox(&common::msisdn(n));
        assert_eq!(inbox.len(), 1, "{n}");
        assert_eq!(
            inbox[0].message_ids,
            [status.segments[0].carrier_id.clone().unwrap()]
        );
    }
    let unmatched = gw.depth().await.unwrap().unmatched;
    assert!(gw.shutdown().await.flushed);
    let stats = sim.stats();
    sim.shutdown().await;
    (stats, unmatched)
}

#[actix_rt::test]
async fn hex_submit_ids_with_decimal_receipts_all_match_with_the_hex_to_dec_form() {
    common::trace();
    let (stats, unmatched) = hex_dec_run(IdMatcher::fixed(IdForm::HexToDec), 40).await;
    assert_eq!(unmatched, 0);
    assert_eq!(stats.receipts_queued, 40);
    // Matched at the first offer.
    assert_eq!(stats.delivers_sent, 40, "{stats:?}");
}

/// While `auto` learns, a receipt it cannot attribute with certainty (ids 1 to 9 read the
/// same in every form) is answered ESME_RX_T_APPN; the simulator offers it again after
/// `resend_after_ms`, and once the form is learnt it matches.
#[actix_rt::test]
async fn auto_learns_hex_to_dec_from_the_first_receipts_and_then_matches_every_one() {
    common::trace();
    let (stats, unmatched) = hex_dec_run(IdMatcher::auto(3), 40).await;
    assert_eq!(unmatched, 0);
    assert_eq!(stats.receipts_queued, 40);
    assert!(
        stats.delivers_sent > 40,
        "receipts refused while learning are offered again: {stats:?}"
    );
}

/// 670 Japanese characters in UCS-2 with an 8-bit-reference UDH: 67 a segment, ten
/// segments, each submitted and receipted on its own. (The Japan profile's 660 limit would
/// refuse this text; the carrier here has the default profile, no limit.)
#[actix_rt::test]
async fn a_670_character_japanese_text_goes_as_ten_segments_with_ten_receipts_and_is_delivered() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let text: String = "あいうえおかきくけこ".repeat(67);
    assert_eq!(text.chars().count(), 670);
    let id = common::submit(&gw, 1, &text, Class::Transactional).await;
    let status = common::final_status(&gw, id).await;
    assert_eq!(status.state, State::Delivered, "{status:#?}");
    assert_eq!(status.segments.len(), 10);
    let mut carrier_ids: Vec<_> = status
        .segments
        .iter()
        .map(|s| {
            assert_eq!(s.state, SegmentState::Delivered, "{s:?}");
            s.carrier_id.clone().unwrap()
        })
        .collect();
    carrier_ids.sort();
    carrier_ids.dedup();
    assert_eq!(carrier_ids.len(), 10, "one carrier id per segment");
    let stats = sim.stats();
    assert_eq!(stats.submits_accepted, 10);
    assert_eq!(stats.receipts_queued, 10);
    let inbox = sim.inbox(&common::msisdn(1));
    assert_eq!(inbox.len(), 1, "the handset reassembles one message");
    assert_eq!(inbox[0].segments, 10);
    assert_eq!(inbox[0].data_coding, 8);
    assert_eq!(inbox[0].text, text);
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// The simulator draws each segment's outcome from a weighted mix with a fixed seed (it has
/// no way to aim UNDELIV at one segment), so three-segment messages are sent one after the
/// other until one has exactly one undeliverable segment; every message is checked on the
/// way: undeliverable exactly when a segment is, its detail naming the first such segment.
#[actix_rt::test]
async fn one_undeliverable_segment_makes_the_message_undeliverable_naming_the_segment() {
    common::trace();
    let mut config = smsc_sim::Config::for_tests();
    config.receipts.outcomes = vec![
        Outcome {
            stat: MessageState::Delivered,
            err: 0,
            weight: 3,
        },
        Outcome {
            stat: MessageState::Undeliverable,
            err: 1,
            weight: 1,
        },
    ];
    let sim = common::simulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let text = "segment text ".repeat(30);
    let mut found = None;
    for n in 0..12 {
        let id = common::submit(&gw, n, &text, Class::Transactional).await;
        let ended = common::final_status(&gw, id).await;
        assert_eq!(ended.segments.len(), 3);
        // The message may end on its first undeliverable receipt; wait for the others.
        let receipts = 3 * (n as u64 + 1);
        common::sim_stats(&sim, "every receipt answered", |s| {
            s.delivers_acked >= receipts
        })
        .await;
        let status = common::within(
            "every segment final",
            gw.wait_for(id, |s| {
                s.segments
                    .iter()
                    .all(|seg| seg.state != SegmentState::Submitted)
            }),
        )
        .await
        .unwrap()
        .unwrap();
        let states: Vec<_> = status.segments.iter().map(|s| s.state).collect();
        let undeliverable: Vec<usize> = states
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == SegmentState::Undeliverable)
            .map(|(i, _)| i + 1)
            .collect();
        assert!(
            states
                .iter()
                .all(|s| matches!(s, SegmentState::Delivered | SegmentState::Undeliverable)),
            "{status:#?}"
        );
        if undeliverable.is_empty() {
            assert_eq!(status.state, State::Delivered, "{status:#?}");
            continue;
        }
        assert_eq!(status.state, State::Undeliverable, "{status:#?}");
        let detail = status.detail.clone().unwrap_or_default();
        let named = status.detail.as_deref().and_then(|d| {
            d.strip_prefix("segment ")
                .and_then(|d| d.split_once(" of 3: "))
                .and_then(|(k, _)| k.parse::<usize>().ok())
        });
        assert!(
            named.is_some_and(|k| undeliverable.contains(&k)),
            "detail {detail:?} names an undeliverable segment of {undeliverable:?}"
        );
        assert!(detail.contains("UNDELIVERABLE"), "{detail}");
        let segment = &status.segments[named.unwrap() - 1];
        assert!(
            segment
                .error
                .as_deref()
                .is_some_and(|e| e.contains("code 0x0001")),
            "{segment:?}"
        );
        if undeliverable.len() == 1 {
            found = Some(status);
            break;
        }
    }
    let status = found.expect("a message with exactly one undeliverable segment");
    assert_eq!(
        status
            .segments
            .iter()
            .filter(|s| s.state == SegmentState::Delivered)
            .count(),
        2
    );
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Route `81` → first, second. The first carrier does not serve `8190…` (ESME_RINVDSTADR):
/// such a message moves to the second and is delivered there; one to `8180…` stays on the
/// first.
#[actix_rt::test]
async fn esme_rinvdstadr_fails_over_to_the_second_carrier_which_delivers_and_is_named() {
    common::trace();
    let first = common::simulator(common::sim_config(Faults {
        unserved_prefixes: vec!["8190".into()],
        ..Faults::default()
    }))
    .await;
    let second = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![
            common::carrier("first", first.smpp_addr(), 1, 10),
            common::carrier("second", second.smpp_addr(), 1, 10),
        ],
    )
    .await;
    let moved = common::submit(&gw, 1, "moved over", Class::Otp).await;
    let stays = gw
        .submit(Submit::new("+81 80 1111 2222", "stays", Class::Otp))
        .await
        .unwrap()
        .id;
    let status = common::final_status(&gw, moved).await;
    assert_eq!(status.state, State::Delivered, "{status:#?}");
    assert_eq!(status.carrier, "second");
    let kept = common::final_status(&gw, stays).await;
    assert_eq!(kept.state, State::Delivered, "{kept:#?}");
    assert_eq!(kept.carrier, "first");
    assert!(first.inbox(&common::msisdn(1)).is_empty());
    assert_eq!(first.stats().submits_rejected, 1);
    assert_eq!(second.inbox(&common::msisdn(1))[0].text, "moved over");
    assert_eq!(first.inbox("818011112222")[0].text, "stays");
    // The event log says why it moved.
    let events = gw.events(0, 1_000).await.unwrap();
    let failover = events.iter().find_map(|(_, e)| match &e.kind {
        EventKind::Message {
            id,
            carrier,
            detail: Some(detail),
            ..
        } if *id == moved && detail.starts_with("failover from first") => {
            Some((carrier.clone(), detail.clone()))
        }
        _ => None,
    });
    let (carrier, detail) = failover.expect("a failover event");
    assert_eq!(carrier, "second");
    assert!(detail.contains("ESME_RINVDSTADR"), "{detail}");
    assert!(gw.shutdown().await.flushed);
    first.shutdown().await;
    second.shutdown().await;
}

#[actix_rt::test]
async fn an_unroutable_or_invalid_number_is_refused_at_submit_and_nothing_is_queued() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let unroutable = gw
        .submit(Submit::new("+1 212 555 0100", "hello", Class::Otp))
        .await;
    assert!(
        matches!(
            &unroutable,
            Err(SubmitFailure::Refused(Refused::Unroutable(why))) if why.contains("12125550100")
        ),
        "{unroutable:?}"
    );
    let invalid = gw
        .submit(Submit::new("not a number", "hello", Class::Otp))
        .await;
    assert!(
        matches!(
            &invalid,
            Err(SubmitFailure::Refused(Refused::InvalidNumber(why))) if why.contains("not a number")
        ),
        "{invalid:?}"
    );
    let depth = gw.depth().await.unwrap();
    assert_eq!(depth.open, 0);
    assert!(depth.queued.iter().all(|(_, _, n)| *n == 0), "{depth:?}");
    assert!(
        gw.events(0, 10).await.unwrap().is_empty(),
        "nothing recorded"
    );
    assert!(gw.shutdown().await.flushed);
    assert_eq!(
        sim.stats().submits_accepted + sim.stats().submits_rejected,
        0
    );
    sim.shutdown().await;
}

/// au is reported to turn single messages into Shift_JIS: with that rule a character
/// Shift_JIS lacks is refused by name, never mangled; ordinary Japanese goes through.
#[actix_rt::test]
async fn a_shift_jis_only_carrier_refuses_a_character_outside_it_by_name_and_takes_japanese() {
    common::trace();
    let sim = common::simulator(smsc_sim::Config::for_tests()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut au = common::carrier("au", sim.smpp_addr(), 1, 10);
    au.profile = CarrierProfile {
        text: TextProfile::japan(LongMessage::Udh8, ShiftJisRule::All),
        ..au.profile
    };
    let gw = common::gateway(dir.path(), vec![au]).await;
    let refused = gw
        .submit(Submit::new(
            common::to(1),
            "𠮷野家で会いましょう",
            Class::Otp,
        ))
        .await;
    match &refused {
        Err(SubmitFailure::Refused(Refused::Refused(SubmitError::Unfit {
            carrier,
            reason: Unfit::Text(TextRefusal::NotShiftJis { ch, position }),
        }))) => {
            assert_eq!(carrier, "au");
            assert_eq!((*ch, *position), ('𠮷', 1));
        }
        other => panic!("expected the Shift_JIS refusal, got {other:?}"),
    }
    let message = refused.unwrap_err().to_string();
    assert!(message.contains('𠮷'), "{message}");
    assert_eq!(gw.depth().await.unwrap().open, 0, "nothing queued");
    let text = "吉野家で会いましょう。認証コードは１２３４５６です";
    let id = common::submit(&gw, 2, text, Class::Otp).await;
    let status = common::final_status(&gw, id).await;
    assert_eq!(status.state, State::Delivered, "{status:#?}");
    assert_eq!(sim.inbox(&common::msisdn(2))[0].text, text);
    assert!(sim.inbox(&common::msisdn(1)).is_empty());
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}

/// Every response is delayed 300 ms while the receipt goes at once, so each receipt
/// reaches the gateway before the submit_sm_resp that gives its id: it is kept unmatched
/// (an event says so), then matched when the response comes.
#[actix_rt::test]
async fn a_receipt_that_arrives_before_its_submit_sm_resp_is_held_and_matched() {
    common::trace();
    let sim = common::simulator(common::sim_config(Faults {
        latency_min_ms: 300,
        latency_max_ms: 300,
        ..Faults::default()
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let gw = common::gateway(
        dir.path(),
        vec![common::carrier("sim", sim.smpp_addr(), 1, 10)],
    )
    .await;
    let messages: Vec<_> = (0..5).map(|n| (n, format!("early receipt {n}"))).collect();
    let ids = common::submit_all(&gw, &messages, Class::Otp).await;
    let statuses = common::all_final(&gw, &ids).await;
    common::assert_all_delivered(&statuses);
    let events = gw.events(0, 1_000).await.unwrap();
    for status in &statuses {
        let carrier_id = status.segments[0].carrier_id.clone().unwrap();
        let held = events.iter().position(|(_, e)| {
            matches!(&e.kind, EventKind::UnmatchedReceipt { carrier_id: c, .. } if *c == carrier_id)
        });
        let delivered = events.iter().position(|(_, e)| {
            matches!(&e.kind, EventKind::Message { id, state: State::Delivered, .. } if *id == status.id)
        });
        let (held, delivered) = (held.expect("held"), delivered.expect("delivered"));
        assert!(
            held < delivered,
            "{carrier_id}: held at {held}, delivered at {delivered}"
        );
        let EventKind::Message { detail, .. } = &events[delivered].1.kind else {
            unreachable!()
        };
        assert!(
            detail.as_deref().is_some_and(|d| d.contains("held since")),
            "{detail:?}"
        );
    }
    assert_eq!(gw.depth().await.unwrap().unmatched, 0);
    assert!(gw.shutdown().await.flushed);
    sim.shutdown().await;
}
