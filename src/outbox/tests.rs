//! Tests of the outbox core over a real sled store in a temporary directory, with time
//! passed in.

use super::*;
use crate::carrier::number::AddressFormat;
use crate::store::{LongMessage, RegisteredDelivery, SledStore};
use std::path::Path;

const T0: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;
const D: &str = "819011110000";
const E: &str = "819022220000";

fn profiles() -> HashMap<String, CarrierProfile> {
    let plain = CarrierProfile::new(TextProfile::default(), Addressing::default(), HOUR);
    let japan = |shift_jis| {
        CarrierProfile::new(
            TextProfile::japan(LongMessage::Udh8, shift_jis),
            Addressing {
                destination: AddressFormat::default_source(),
                source: AddressFormat::default_source(),
                ..Addressing::default()
            },
            HOUR,
        )
    };
    HashMap::from([
        ("docomo".to_owned(), plain.clone()),
        ("backup".to_owned(), plain),
        ("jp".to_owned(), japan(ShiftJisRule::Off)),
        ("au".to_owned(), japan(ShiftJisRule::All)),
    ])
}

/// The default settings, but retries wait exactly their base delay (no jitter), so a test
/// can name the instant a retry is due.
fn exact() -> Settings {
    Settings {
        retry: crate::carrier::backoff::BackoffPolicy::new(
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(60),
            0.0,
        )
        .unwrap(),
        ..Settings::default()
    }
}

fn open(dir: &Path, now: u64) -> Outbox<SledStore> {
    open_with(dir, now, exact(), [])
}

/// [`open`] with other settings and more carriers.
fn open_with<const N: usize>(
    dir: &Path,
    now: u64,
    settings: Settings,
    more: [(&str, CarrierProfile); N],
) -> Outbox<SledStore> {
    let mut carriers = profiles();
    carriers.extend(more.map(|(name, profile)| (name.to_owned(), profile)));
    Outbox::recover(SledStore::open(dir).unwrap(), settings, carriers, now).unwrap()
}

/// The plain profile with `change` applied.
fn plain(change: impl FnOnce(&mut CarrierProfile)) -> CarrierProfile {
    let mut profile = CarrierProfile::new(TextProfile::default(), Addressing::default(), HOUR);
    change(&mut profile);
    profile
}

fn route(carriers: &[&str]) -> Route {
    Route {
        carriers: carriers.iter().map(|c| (*c).to_owned()).collect(),
        kind: RouteKind::Domestic,
    }
}

fn msg(to: &str, text: &str, class: Class) -> NewMessage {
    NewMessage {
        masked: None,
        id: None,
        to: Msisdn::parse_e164(to).unwrap(),
        from: Some("0005012345".into()),
        text: text.into(),
        class,
        client_ref: None,
        validity_ms: None,
        registered_delivery: true,
        owner: None,
    }
}

/// Accepts and waits for the flush, as the actor does before acknowledging.
fn accept(ob: &mut Outbox<SledStore>, m: NewMessage, carriers: &[&str], now: u64) -> MessageId {
    let accepted = ob.accept(m, route(carriers), now).unwrap();
    ob.commit().wait_blocking().unwrap();
    accepted.id
}

fn take(ob: &mut Outbox<SledStore>, carrier: &str, max: usize, now: u64) -> Vec<Dispatch> {
    ob.take_work(carrier, max, now).unwrap()
}

fn ids(dispatches: &[Dispatch]) -> Vec<(MessageId, u8)> {
    dispatches
        .iter()
        .map(|d| (d.key.message, d.key.segment))
        .collect()
}

fn ok(carrier_id: &str) -> SubmitResult {
    SubmitResult::Submitted {
        carrier_id: carrier_id.into(),
    }
}

fn receipt(carrier: &str, id: &str, state: MessageState) -> IncomingReceipt {
    IncomingReceipt {
        carrier: carrier.into(),
        candidates: vec![id.into()],
        state,
        network_error: None,
    }
}

fn state(ob: &Outbox<SledStore>, id: MessageId) -> State {
    ob.status(id).unwrap().unwrap().state
}

fn japanese(chars: usize) -> String {
    "日本語のメッセージ".chars().cycle().take(chars).collect()
}

#[test]
fn an_accepted_message_is_on_disk_after_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut ob = open(dir.path(), T0);
        let accepted = ob
            .accept(msg(D, "code 123456", Class::Otp), route(&["docomo"]), T0)
            .unwrap();
        assert_eq!(accepted.state, State::Queued);
        assert!(!accepted.duplicate);
        ob.commit().wait_blocking().unwrap();
        accepted.id
    };
    let store = SledStore::open(dir.path()).unwrap();
    let record = store.message(id).unwrap().unwrap();
    assert_eq!(record.text, "code 123456");
    assert_eq!(record.state, State::Queued);
    assert_eq!(record.expires_at, T0 + HOUR);
    assert_eq!(store.open_messages().unwrap().len(), 1);
}

#[test]
fn a_masked_text_is_sent_in_full_but_only_its_mask_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let secret = |text: &str, masked: &str| NewMessage {
        masked: Some(masked.into()),
        ..msg(D, text, Class::Otp)
    };
    let (sent, unsent) = {
        let mut ob = open(dir.path(), T0);
        let sent = accept(
            &mut ob,
            secret("code 482913", "code ******"),
            &["docomo"],
            T0,
        );
        let unsent = accept(
            &mut ob,
            secret("code 175320", "code ******"),
            &["docomo"],
            T0,
        );
        let work = take(&mut ob, "docomo", 1, T0);
        assert_eq!(ids(&work), vec![(sent, 1)]);
        assert_eq!(
            work[0].submit.short_message.as_bytes(),
            b"code 482913",
            "the carrier gets the real text"
        );
        ob.on_submit_resp(work[0].key, ok("c-1"), T0).unwrap();
        ob.commit().wait_blocking().unwrap();
        let on_disk = ob.store().message(unsent).unwrap().unwrap();
        assert_eq!(on_disk.text, "code ******");
        (sent, unsent)
    };
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        for code in [&b"482913"[..], b"175320"] {
            assert!(
                !bytes.windows(code.len()).any(|w| w == code),
                "{} holds a code",
                entry.display()
            );
        }
    }
    // After a restart the submitted one still waits for its receipt; the unsent one
    // cannot be sent (its code is gone) and ends failed, saying why.
    let mut ob = open(dir.path(), T0 + 1);
    assert_eq!(state(&ob, sent), State::Submitted);
    assert_eq!(state(&ob, unsent), State::Failed);
    let detail = ob
        .status(unsent)
        .unwrap()
        .unwrap()
        .detail
        .unwrap_or_default();
    assert!(detail.contains("verification code"), "{detail}");
    assert!(take(&mut ob, "docomo", 10, T0 + 1).is_empty());
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_same_client_ref_within_24_hours_returns_the_first_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let with_ref = |text: &str| NewMessage {
        client_ref: Some("order-42".into()),
        ..msg(D, text, Class::Transactional)
    };
    let first = accept(&mut ob, with_ref("first"), &["docomo"], T0);
    take(&mut ob, "docomo", 10, T0);
    let again = ob
        .accept(with_ref("second"), route(&["docomo"]), T0 + HOUR)
        .unwrap();
    assert_eq!(
        again,
        Accepted {
            id: first,
            state: State::InFlight,
            duplicate: true
        }
    );
    assert_eq!(ob.queue_depth("docomo", Class::Transactional), 1);
    assert_eq!(ob.open_messages(), 1);
    // 24 hours later the reference is free again: a new message.
    let later = ob
        .accept(with_ref("third"), route(&["docomo"]), T0 + 24 * HOUR)
        .unwrap();
    assert!(!later.duplicate);
    assert_ne!(later.id, first);
    assert_eq!(ob.open_messages(), 2);
    // ...and the reference now names the new one.
    let once_more = ob
        .accept(with_ref("fourth"), route(&["docomo"]), T0 + 25 * HOUR)
        .unwrap();
    assert_eq!(once_more.id, later.id);
    // The sweep forgets the new mapping only 24 h after it was made.
    assert_eq!(ob.tick(T0 + 47 * HOUR).unwrap().client_refs_swept, 0);
    assert_eq!(ob.tick(T0 + 48 * HOUR).unwrap().client_refs_swept, 1);
    assert_eq!(ob.store().client_ref("order-42").unwrap(), None);
}

#[test]
fn an_otp_accepted_behind_ten_thousand_bulk_messages_goes_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let mut first_bulk = None;
    for i in 0..10_000u64 {
        let to = format!("8190{:08}", i);
        let a = ob
            .accept(msg(&to, "sale!", Class::Bulk), route(&["docomo"]), T0)
            .unwrap();
        first_bulk.get_or_insert(a.id);
    }
    let transactional = accept(
        &mut ob,
        msg(E, "your parcel", Class::Transactional),
        &["docomo"],
        T0,
    );
    let otp = accept(&mut ob, msg(D, "code 123456", Class::Otp), &["docomo"], T0);
    assert_eq!(ob.queue_depth("docomo", Class::Bulk), 10_000);
    let taken = take(&mut ob, "docomo", 1, T0);
    assert_eq!(ids(&taken), vec![(otp, 1)]);
    let taken = take(&mut ob, "docomo", 2, T0);
    assert_eq!(
        ids(&taken),
        vec![(transactional, 1), (first_bulk.unwrap(), 1)]
    );
}

#[test]
fn a_throttled_message_comes_back_first_and_is_never_overtaken_on_its_destination() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let d1 = accept(&mut ob, msg(D, "one", Class::Bulk), &["docomo"], T0);
    let d2 = accept(&mut ob, msg(D, "two", Class::Bulk), &["docomo"], T0);
    let e1 = accept(&mut ob, msg(E, "other", Class::Bulk), &["docomo"], T0);
    // d2 waits behind d1, which is in flight.
    let taken = take(&mut ob, "docomo", 10, T0);
    assert_eq!(ids(&taken), vec![(d1, 1), (e1, 1)]);
    assert_eq!(state(&ob, d1), State::InFlight);
    let retry = ob
        .on_submit_resp(
            taken[0].key,
            SubmitResult::Status(CommandStatus::ESME_RTHROTTLED),
            T0 + 5,
        )
        .unwrap();
    assert_eq!(retry, SubmitEffect::Retry { at: T0 + 5 + 1_000 });
    ob.on_submit_resp(taken[1].key, ok("e1"), T0 + 5).unwrap();
    assert_eq!(state(&ob, d1), State::Queued);
    // While d1 backs off nothing to D goes; other destinations flow.
    let e2 = accept(&mut ob, msg(E, "other 2", Class::Bulk), &["docomo"], T0 + 6);
    let taken = take(&mut ob, "docomo", 10, T0 + 500);
    assert_eq!(ids(&taken), vec![(e2, 1)]);
    // Due again: d1 first, d2 still behind it.
    let taken = take(&mut ob, "docomo", 10, T0 + 1_005);
    assert_eq!(ids(&taken), vec![(d1, 1)]);
    assert_eq!(taken[0].attempt, 2);
    // Throttled again: the backoff doubles.
    let retry = ob
        .on_submit_resp(
            taken[0].key,
            SubmitResult::NoAnswer(NoAnswer::Timeout),
            T0 + 1_010,
        )
        .unwrap();
    assert_eq!(retry, SubmitEffect::Retry { at: T0 + 3_010 });
    let taken = take(&mut ob, "docomo", 10, T0 + 3_010);
    assert_eq!(ids(&taken), vec![(d1, 1)]);
    ob.on_submit_resp(taken[0].key, ok("d1"), T0 + 3_020)
        .unwrap();
    let taken = take(&mut ob, "docomo", 10, T0 + 3_020);
    assert_eq!(ids(&taken), vec![(d2, 1)]);
    assert_eq!(ob.status(d1).unwrap().unwrap().attempts, 3);
}

#[test]
fn a_result_for_an_old_dispatch_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    accept(&mut ob, msg(D, "one", Class::Otp), &["docomo"], T0);
    let first = take(&mut ob, "docomo", 1, T0).remove(0);
    ob.on_submit_resp(first.key, SubmitResult::NoAnswer(NoAnswer::BindLost), T0)
        .unwrap();
    let second = take(&mut ob, "docomo", 1, T0 + 1_000).remove(0);
    assert_ne!(first.key, second.key);
    // The answer to the first try arrives late: it changes nothing.
    assert_eq!(
        ob.on_submit_resp(first.key, ok("late"), T0 + 1_001)
            .unwrap(),
        SubmitEffect::Stale
    );
    assert_eq!(ob.in_flight("docomo"), 1);
    assert_eq!(
        ob.on_submit_resp(second.key, ok("x"), T0 + 1_002).unwrap(),
        SubmitEffect::Submitted {
            state: State::Submitted,
            held_receipt: None,
        }
    );
    assert_eq!(ob.in_flight("docomo"), 0);
}

#[test]
fn an_invalid_destination_fails_over_to_the_next_carrier() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(
        &mut ob,
        msg(D, "hello", Class::Transactional),
        &["docomo", "backup"],
        T0,
    );
    let taken = take(&mut ob, "docomo", 10, T0);
    let effect = ob
        .on_submit_resp(
            taken[0].key,
            SubmitResult::Status(CommandStatus::ESME_RINVDSTADR),
            T0 + 1,
        )
        .unwrap();
    assert_eq!(
        effect,
        SubmitEffect::FailedOver {
            carrier: "backup".into()
        }
    );
    assert!(take(&mut ob, "docomo", 10, T0 + 2).is_empty());
    let taken = take(&mut ob, "backup", 10, T0 + 2);
    assert_eq!(ids(&taken), vec![(id, 1)]);
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.carrier, "backup");
    assert_eq!(status.state, State::InFlight);
    let events = ob.events_since(0, 10).unwrap();
    let failover = events.iter().find_map(|(_, e)| match &e.kind {
        EventKind::Message {
            detail: Some(d),
            carrier,
            ..
        } if d.starts_with("failover") => Some((carrier.clone(), d.clone())),
        _ => None,
    });
    let (carrier, detail) = failover.unwrap();
    assert_eq!(carrier, "backup");
    assert!(detail.contains("ESME_RINVDSTADR"), "{detail}");
}

#[test]
fn with_no_carrier_left_or_a_permanent_status_the_message_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let lonely = accept(&mut ob, msg(D, "hello", Class::Bulk), &["docomo"], T0);
    let firm = accept(
        &mut ob,
        msg(E, "hello", Class::Bulk),
        &["docomo", "backup"],
        T0,
    );
    let taken = take(&mut ob, "docomo", 10, T0);
    let effect = ob
        .on_submit_resp(
            taken[0].key,
            SubmitResult::Status(CommandStatus::ESME_RINVDSTADR),
            T0,
        )
        .unwrap();
    assert_eq!(
        effect,
        SubmitEffect::Ended {
            state: State::Rejected
        }
    );
    let status = ob.status(lonely).unwrap().unwrap();
    assert_eq!(status.state, State::Rejected);
    let detail = status.detail.unwrap();
    assert!(detail.contains("ESME_RINVDSTADR") && detail.contains("no carrier left"));
    // A permanent status does not fail over.
    let effect = ob
        .on_submit_resp(
            taken[1].key,
            SubmitResult::Status(CommandStatus::ESME_RSUBMITFAIL),
            T0,
        )
        .unwrap();
    assert_eq!(
        effect,
        SubmitEffect::Ended {
            state: State::Rejected
        }
    );
    assert_eq!(state(&ob, firm), State::Rejected);
    assert!(take(&mut ob, "backup", 10, T0).is_empty());
    assert_eq!(ob.open_messages(), 0);
}

#[test]
fn a_message_not_submitted_within_its_validity_expires() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let short = |text: &str| NewMessage {
        validity_ms: Some(60_000),
        ..msg(D, text, Class::Otp)
    };
    let waiting = accept(&mut ob, short("waits"), &["docomo"], T0);
    assert_eq!(ob.tick(T0 + 59_999).unwrap().ended, 0);
    assert_eq!(ob.tick(T0 + 60_000).unwrap().ended, 1);
    let status = ob.status(waiting).unwrap().unwrap();
    assert_eq!(status.state, State::Expired);
    assert_eq!(status.segments[0].state, SegmentState::Expired);
    // A transient failure after the validity ends the message too.
    let retried = accept(&mut ob, short("retries"), &["docomo"], T0 + 60_000);
    let taken = take(&mut ob, "docomo", 1, T0 + 60_000);
    assert_eq!(
        taken[0].submit.validity_period.as_bytes(),
        b"000000000100000R"
    );
    let effect = ob
        .on_submit_resp(
            taken[0].key,
            SubmitResult::Status(CommandStatus::ESME_RMSGQFUL),
            T0 + 120_000,
        )
        .unwrap();
    assert_eq!(
        effect,
        SubmitEffect::Ended {
            state: State::Expired
        }
    );
    assert_eq!(state(&ob, retried), State::Expired);
    // A requested validity beyond the maximum is cut to it.
    let long = NewMessage {
        validity_ms: Some(1_000 * HOUR),
        ..msg(E, "long", Class::Bulk)
    };
    let id = accept(&mut ob, long, &["docomo"], T0);
    assert_eq!(
        ob.status(id).unwrap().unwrap().expires_at,
        T0 + exact().max_validity_ms
    );
}

/// Submits every dispatch with ids `prefix-N` and returns the ids.
fn submit_all(
    ob: &mut Outbox<SledStore>,
    taken: &[Dispatch],
    prefix: &str,
    now: u64,
) -> Vec<String> {
    taken
        .iter()
        .map(|d| {
            let carrier_id = format!("{prefix}-{}", d.key.segment);
            ob.on_submit_resp(d.key, ok(&carrier_id), now).unwrap();
            carrier_id
        })
        .collect()
}

#[test]
fn a_670_character_japanese_text_is_delivered_through_ten_segments_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(
        &mut ob,
        msg(D, &japanese(670), Class::Transactional),
        &["docomo"],
        T0,
    );
    let taken = take(&mut ob, "docomo", 100, T0);
    assert_eq!(taken.len(), 10);
    let reference = taken[0].submit.short_message.as_bytes()[3];
    for (i, d) in taken.iter().enumerate() {
        assert_eq!(d.key.segment as usize, i + 1);
        assert_eq!(d.submit.data_coding, 0x08);
        let sm = d.submit.short_message.as_bytes();
        assert_eq!(&sm[..6], &[0x05, 0x00, 0x03, reference, 10, i as u8 + 1]);
    }
    let carrier_ids = submit_all(&mut ob, &taken, "m", T0 + 1);
    assert_eq!(state(&ob, id), State::Submitted);
    for (i, carrier_id) in carrier_ids.iter().enumerate() {
        let outcome = ob
            .on_receipt(
                receipt("docomo", carrier_id, MessageState::Delivered),
                T0 + 2,
            )
            .unwrap();
        let expected = if i < 9 {
            State::Submitted
        } else {
            State::Delivered
        };
        assert_eq!(
            outcome,
            ReceiptOutcome::Matched {
                message: id,
                segment: i as u8 + 1,
                candidate: 0,
                state: expected,
                accepted_at: T0,
            }
        );
        ob.commit().wait_blocking().unwrap();
    }
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.state, State::Delivered);
    assert!(status
        .segments
        .iter()
        .all(|s| s.state == SegmentState::Delivered));
    assert_eq!(ob.open_messages(), 0);
}

#[test]
fn one_undeliverable_segment_makes_the_message_undeliverable_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(
        &mut ob,
        msg(D, &japanese(150), Class::Bulk),
        &["docomo"],
        T0,
    );
    let taken = take(&mut ob, "docomo", 10, T0);
    assert_eq!(taken.len(), 3);
    let carrier_ids = submit_all(&mut ob, &taken, "u", T0);
    ob.on_receipt(
        receipt("docomo", &carrier_ids[0], MessageState::Delivered),
        T0,
    )
    .unwrap();
    let failed = IncomingReceipt {
        network_error: Some(NetworkErrorCode {
            network_type: NetworkErrorCode::GSM,
            error_code: 1,
        }),
        ..receipt("docomo", &carrier_ids[1], MessageState::Undeliverable)
    };
    let outcome = ob.on_receipt(failed, T0).unwrap();
    assert_eq!(
        outcome,
        ReceiptOutcome::Matched {
            message: id,
            segment: 2,
            candidate: 0,
            state: State::Undeliverable,
            accepted_at: T0,
        }
    );
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.state, State::Undeliverable);
    assert_eq!(
        status.detail.as_deref(),
        Some("segment 2 of 3: receipt UNDELIVERABLE, network error type 3 code 0x0001")
    );
    // The last segment's receipt is still recorded; the message stays undeliverable.
    let outcome = ob
        .on_receipt(
            receipt("docomo", &carrier_ids[2], MessageState::Delivered),
            T0,
        )
        .unwrap();
    assert!(matches!(
        outcome,
        ReceiptOutcome::Matched {
            segment: 3,
            state: State::Undeliverable,
            ..
        }
    ));
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.segments[2].state, SegmentState::Delivered);
    // A resent receipt is a duplicate.
    assert!(matches!(
        ob.on_receipt(
            receipt("docomo", &carrier_ids[2], MessageState::Delivered),
            T0
        )
        .unwrap(),
        ReceiptOutcome::Duplicate { segment: 3, .. }
    ));
}

#[test]
fn a_receipt_before_its_submit_sm_resp_is_held_and_matched() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(&mut ob, msg(D, "fast", Class::Otp), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    // The receipt overtakes the submit_sm_resp (e.g. on another bind).
    let early = IncomingReceipt {
        candidates: vec!["0x1A2B".into(), "6699".into()],
        ..receipt("docomo", "", MessageState::Delivered)
    };
    assert_eq!(
        ob.on_receipt(early, T0 + 10).unwrap(),
        ReceiptOutcome::Unmatched { kept: true }
    );
    ob.commit().wait_blocking().unwrap();
    assert_eq!(ob.unmatched_held(), 1);
    let effect = ob
        .on_submit_resp(taken[0].key, ok("6699"), T0 + 11)
        .unwrap();
    assert_eq!(
        effect,
        SubmitEffect::Submitted {
            state: State::Delivered,
            held_receipt: Some(HeldReceipt {
                carrier: "docomo".into(),
                state: MessageState::Delivered,
                accepted_at: T0,
            }),
        }
    );
    assert_eq!(ob.unmatched_held(), 0);
    assert_eq!(ob.store().unmatched_count().unwrap(), 0);
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.segments[0].carrier_id.as_deref(), Some("6699"));
    // Both the submit and the receipt are in the log.
    let segment_events: Vec<_> = ob
        .events_since(0, 10)
        .unwrap()
        .into_iter()
        .filter_map(|(_, e)| match e.kind {
            EventKind::Message {
                segment: Some(s), ..
            } => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(
        segment_events,
        vec![(1, SegmentState::Submitted), (1, SegmentState::Delivered)]
    );
}

#[test]
fn a_held_final_receipt_is_not_replaced_by_a_later_intermediate_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(&mut ob, msg(D, "x", Class::Otp), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    // Both overtake the submit_sm_resp, the final one first (two binds, or a resend).
    assert_eq!(
        ob.on_receipt(receipt("docomo", "42", MessageState::Delivered), T0 + 1)
            .unwrap(),
        ReceiptOutcome::Unmatched { kept: true }
    );
    assert_eq!(
        ob.on_receipt(receipt("docomo", "42", MessageState::Enroute), T0 + 2)
            .unwrap(),
        ReceiptOutcome::Unmatched { kept: false }
    );
    ob.commit().wait_blocking().unwrap();
    assert_eq!(ob.unmatched_held(), 1);
    ob.on_submit_resp(taken[0].key, ok("42"), T0 + 3).unwrap();
    assert_eq!(state(&ob, id), State::Delivered);
    // The other way round, a later final receipt replaces the intermediate one.
    let id = accept(&mut ob, msg(D, "y", Class::Otp), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    for (state, kept) in [
        (MessageState::Enroute, true),
        (MessageState::Undeliverable, true),
    ] {
        assert_eq!(
            ob.on_receipt(receipt("docomo", "43", state), T0 + 4)
                .unwrap(),
            ReceiptOutcome::Unmatched { kept }
        );
    }
    assert_eq!(ob.unmatched_held(), 1, "one receipt id kept once");
    ob.on_submit_resp(taken[0].key, ok("43"), T0 + 5).unwrap();
    assert_eq!(state(&ob, id), State::Undeliverable);
}

#[test]
fn a_receipt_matching_nothing_is_counted_and_kept_until_too_old() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut ob = open(dir.path(), T0);
        let stray = receipt("docomo", "nobody", MessageState::Delivered);
        assert_eq!(
            ob.on_receipt(stray.clone(), T0).unwrap(),
            ReceiptOutcome::Unmatched { kept: true }
        );
        // The SMSC resends it (its deliver_sm was not answered in time): kept once.
        assert_eq!(
            ob.on_receipt(stray, T0 + 1).unwrap(),
            ReceiptOutcome::Unmatched { kept: false }
        );
        ob.commit().wait_blocking().unwrap();
        assert_eq!(ob.unmatched_held(), 1);
        let (_, event) = ob.events_since(0, 10).unwrap().remove(0);
        assert_eq!(
            event.kind,
            EventKind::UnmatchedReceipt {
                carrier: "docomo".into(),
                carrier_id: "nobody".into(),
                state: MessageState::Delivered.as_u8()
            }
        );
    }
    let mut ob = open(dir.path(), T0 + 1);
    assert_eq!(ob.unmatched_held(), 1, "counted again after a restart");
    let ttl = exact().unmatched_ttl_ms;
    assert_eq!(ob.tick(T0 + ttl).unwrap().unmatched_swept, 0);
    assert_eq!(ob.tick(T0 + ttl + 1).unwrap().unmatched_swept, 1);
    assert_eq!(ob.unmatched_held(), 0);
    assert_eq!(ob.store().unmatched_count().unwrap(), 0);
}

#[test]
fn intermediate_receipts_and_other_carriers_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(&mut ob, msg(D, "x", Class::Otp), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    ob.on_submit_resp(taken[0].key, ok("42"), T0).unwrap();
    assert_eq!(
        ob.on_receipt(receipt("docomo", "42", MessageState::Enroute), T0)
            .unwrap(),
        ReceiptOutcome::Intermediate {
            message: id,
            segment: 1,
            candidate: 0
        }
    );
    // The same id from another carrier is another message.
    assert_eq!(
        ob.on_receipt(receipt("backup", "42", MessageState::Delivered), T0)
            .unwrap(),
        ReceiptOutcome::Unmatched { kept: true }
    );
    assert_eq!(state(&ob, id), State::Submitted);
    let deleted = receipt("docomo", "42", MessageState::Deleted);
    assert!(matches!(
        ob.on_receipt(deleted, T0).unwrap(),
        ReceiptOutcome::Matched {
            state: State::Failed,
            ..
        }
    ));
}

#[test]
fn after_a_crash_queued_and_in_flight_are_queued_again_in_order_and_submitted_still_match() {
    let dir = tempfile::tempdir().unwrap();
    let (d1, d2, e1, done) = {
        let mut ob = open(dir.path(), T0);
        let d1 = accept(&mut ob, msg(D, "d1", Class::Bulk), &["docomo"], T0);
        let d2 = accept(&mut ob, msg(D, "d2", Class::Bulk), &["docomo"], T0);
        let e1 = accept(&mut ob, msg(E, "e1", Class::Bulk), &["docomo"], T0);
        let done = accept(
            &mut ob,
            msg("819033330000", "f", Class::Bulk),
            &["docomo"],
            T0,
        );
        let taken = take(&mut ob, "docomo", 10, T0);
        assert_eq!(ids(&taken), vec![(d1, 1), (e1, 1), (done, 1)]);
        ob.on_submit_resp(taken[1].key, ok("E1"), T0).unwrap();
        ob.on_submit_resp(taken[2].key, ok("F1"), T0).unwrap();
        ob.on_receipt(receipt("docomo", "F1", MessageState::Delivered), T0)
            .unwrap();
        ob.commit().wait_blocking().unwrap();
        // Dropped with d1 in flight and no shutdown.
        (d1, d2, e1, done)
    };
    let mut ob = open(dir.path(), T0 + 5);
    assert_eq!(ob.open_messages(), 3);
    assert_eq!(state(&ob, d1), State::Queued);
    assert_eq!(state(&ob, e1), State::Submitted);
    assert_eq!(state(&ob, done), State::Delivered);
    // d1 goes again first; d2 still waits behind it.
    let taken = take(&mut ob, "docomo", 10, T0 + 5);
    assert_eq!(ids(&taken), vec![(d1, 1)]);
    ob.on_submit_resp(taken[0].key, ok("D1"), T0 + 6).unwrap();
    assert_eq!(ids(&take(&mut ob, "docomo", 10, T0 + 6)), vec![(d2, 1)]);
    // The receipt of the message submitted before the crash still matches.
    assert!(matches!(
        ob.on_receipt(receipt("docomo", "E1", MessageState::Delivered), T0 + 7)
            .unwrap(),
        ReceiptOutcome::Matched {
            state: State::Delivered,
            ..
        }
    ));
    // The final one was left alone.
    let status = ob.status(done).unwrap().unwrap();
    assert_eq!(status.updated_at, T0);
}

#[test]
fn the_au_shift_jis_rule_refuses_naming_the_character() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    for (text, ch, position) in [("𠮷野家で待ってます", '𠮷', 1), ("了解です👍", '👍', 5)]
    {
        let err = ob
            .accept(msg(D, text, Class::Transactional), route(&["au"]), T0)
            .unwrap_err();
        assert_eq!(
            err,
            SubmitError::Unfit {
                carrier: "au".into(),
                reason: Unfit::Text(TextRefusal::NotShiftJis { ch, position })
            }
        );
        assert!(err.to_string().contains(ch), "{err}");
    }
    assert_eq!(ob.open_messages(), 0);
    // Ordinary Japanese goes, and the same text goes to a carrier without the rule.
    accept(
        &mut ob,
        msg(D, "吉野家で待ってます", Class::Transactional),
        &["au"],
        T0,
    );
    accept(
        &mut ob,
        msg(D, "𠮷野家で待ってます", Class::Transactional),
        &["jp"],
        T0,
    );
    assert_eq!(ob.open_messages(), 2);
}

#[test]
fn the_japan_profile_refuses_over_660_characters() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let err = ob
        .accept(msg(D, &japanese(661), Class::Bulk), route(&["jp"]), T0)
        .unwrap_err();
    assert_eq!(
        err,
        SubmitError::Unfit {
            carrier: "jp".into(),
            reason: Unfit::Text(TextRefusal::TooLong {
                chars: 661,
                max: 660
            })
        }
    );
    let id = accept(&mut ob, msg(D, &japanese(660), Class::Bulk), &["jp"], T0);
    let taken = take(&mut ob, "jp", 20, T0);
    assert_eq!(taken.len(), 10);
    // National destination and a 0005 short-code sender, per the Japan addressing.
    assert_eq!(taken[0].submit.destination_addr.as_bytes(), b"09011110000");
    assert_eq!(taken[0].submit.source_addr.as_bytes(), b"0005012345");
    assert_eq!(state(&ob, id), State::InFlight);
}

#[test]
fn refusals_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let refuse = |ob: &mut Outbox<SledStore>, m: NewMessage, carriers: &[&str]| {
        ob.accept(m, route(carriers), T0).unwrap_err()
    };
    assert_eq!(
        refuse(&mut ob, msg(D, "x", Class::Otp), &[]),
        SubmitError::NoRoute
    );
    assert_eq!(
        refuse(&mut ob, msg(D, "x", Class::Otp), &["nowhere"]),
        SubmitError::UnknownCarrier("nowhere".into())
    );
    let bad_sender = NewMessage {
        from: Some("ABCDEFGHIJKL".into()),
        ..msg(D, "x", Class::Otp)
    };
    assert!(matches!(
        refuse(&mut ob, bad_sender, &["docomo"]),
        SubmitError::Unfit {
            reason: Unfit::Address(AddressError::Sender { .. }),
            ..
        }
    ));
    let zero = NewMessage {
        validity_ms: Some(0),
        ..msg(D, "x", Class::Otp)
    };
    assert_eq!(
        refuse(&mut ob, zero, &["docomo"]),
        SubmitError::ZeroValidity
    );
    let long_ref = NewMessage {
        client_ref: Some("r".repeat(CLIENT_REF_MAX + 1)),
        ..msg(D, "x", Class::Otp)
    };
    assert_eq!(
        refuse(&mut ob, long_ref, &["docomo"]),
        SubmitError::ClientRef {
            len: CLIENT_REF_MAX + 1
        }
    );
    assert_eq!(ob.open_messages(), 0);
}

#[test]
fn an_unavailable_carrier_hands_its_unsent_lines_to_the_next_carrier() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let both = ["docomo", "backup"];
    let d1 = accept(&mut ob, msg(D, "d1", Class::Bulk), &both, T0);
    let d2 = accept(&mut ob, msg(D, "d2", Class::Bulk), &both, T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    assert_eq!(ids(&taken), vec![(d1, 1)]);
    let e1 = accept(&mut ob, msg(E, "e1", Class::Bulk), &both, T0);
    let e2 = accept(&mut ob, msg(E, "e2", Class::Bulk), &both, T0);
    let only_here = accept(
        &mut ob,
        msg("819033330000", "x", Class::Bulk),
        &["docomo"],
        T0,
    );
    // D's head is in flight on docomo, so D's line stays; E's line moves whole.
    assert_eq!(
        ob.carrier_unavailable("docomo", |c| c == "docomo", T0 + 1)
            .unwrap(),
        2
    );
    assert_eq!(ob.status(e1).unwrap().unwrap().carrier, "backup");
    assert_eq!(ob.status(d2).unwrap().unwrap().carrier, "docomo");
    assert_eq!(ob.status(only_here).unwrap().unwrap().carrier, "docomo");
    assert_eq!(ids(&take(&mut ob, "backup", 10, T0 + 1)), vec![(e1, 1)]);
    assert_eq!(ob.queue_depth("backup", Class::Bulk), 2);
    let _ = e2;
}

#[test]
fn work_moved_to_a_carrier_that_is_down_goes_to_the_first_carrier_that_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let more = [("third", plain(|_| {}))];
    let mut ob = open_with(dir.path(), T0, exact(), more);
    let all = ["docomo", "backup", "third"];
    let d1 = accept(&mut ob, msg(D, "d1", Class::Bulk), &all, T0);
    let d2 = accept(&mut ob, msg(D, "d2", Class::Bulk), &all, T0);
    let e1 = accept(&mut ob, msg(E, "e1", Class::Otp), &["docomo", "backup"], T0);
    // backup is down already: docomo's work skips it for third, or stays when nothing
    // after docomo is up.
    let down = |c: &str| c == "docomo" || c == "backup";
    assert_eq!(ob.carrier_unavailable("docomo", down, T0 + 1).unwrap(), 2);
    assert_eq!(ob.status(d1).unwrap().unwrap().carrier, "third");
    assert_eq!(ob.status(e1).unwrap().unwrap().carrier, "docomo");
    // third goes down too: D's line has nowhere to go after it.
    let everything = |_: &str| true;
    assert_eq!(
        ob.carrier_unavailable("third", everything, T0 + 2).unwrap(),
        0
    );
    // docomo is back: D's line (from third, still down) and E's stay in order on docomo;
    // a carrier's own work is not moved to it.
    let still_down = |c: &str| c != "docomo";
    assert_eq!(
        ob.carrier_available("docomo", still_down, T0 + 3).unwrap(),
        2
    );
    for id in [d1, d2, e1] {
        assert_eq!(ob.status(id).unwrap().unwrap().carrier, "docomo");
    }
    assert_eq!(
        ids(&take(&mut ob, "docomo", 10, T0 + 3)),
        vec![(e1, 1), (d1, 1)]
    );
    // Work in flight is not moved: d2 waits behind d1.
    assert_eq!(ob.carrier_available("backup", |_| true, T0 + 4).unwrap(), 0);
    assert_eq!(ob.status(d2).unwrap().unwrap().carrier, "docomo");
    let events = ob.events_since(0, 100).unwrap();
    assert!(
        events.iter().any(|(_, e)| matches!(&e.kind, EventKind::Message { id, detail: Some(d), .. }
            if *id == d2 && d == "carrier third unavailable, docomo available again; moved to docomo")),
        "{events:#?}"
    );
}

#[test]
fn without_registered_delivery_a_message_ends_at_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let quiet = NewMessage {
        registered_delivery: false,
        ..msg(D, "no receipt", Class::Bulk)
    };
    let id = accept(&mut ob, quiet, &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    assert_eq!(taken[0].submit.registered_delivery, 0);
    ob.on_submit_resp(taken[0].key, ok("q"), T0).unwrap();
    assert_eq!(state(&ob, id), State::Submitted);
    assert_eq!(ob.open_messages(), 0);
    assert!(ob.store().open_messages().unwrap().is_empty());
}

#[test]
fn a_submitted_message_without_receipts_fails_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(&mut ob, msg(D, "silent", Class::Bulk), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    ob.on_submit_resp(taken[0].key, ok("s"), T0).unwrap();
    let wait = exact().receipt_wait_ms;
    assert_eq!(ob.tick(T0 + HOUR).unwrap().ended, 0);
    assert_eq!(ob.tick(T0 + HOUR + wait - 1).unwrap().ended, 0);
    assert_eq!(ob.tick(T0 + HOUR + wait).unwrap().ended, 1);
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.state, State::Failed);
    assert_eq!(
        status.detail.as_deref(),
        Some("no delivery receipt in time")
    );
}

#[test]
fn events_are_in_order_and_read_from_a_cursor_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut ob = open(dir.path(), T0);
        let id = accept(&mut ob, msg(D, "hi", Class::Otp), &["docomo"], T0);
        let taken = take(&mut ob, "docomo", 1, T0);
        ob.on_submit_resp(taken[0].key, ok("h"), T0 + 1).unwrap();
        ob.on_receipt(receipt("docomo", "h", MessageState::Delivered), T0 + 2)
            .unwrap();
        ob.commit().wait_blocking().unwrap();
        id
    };
    let mut ob = open(dir.path(), T0 + 3);
    let seq = ob
        .record_mo("docomo", D, "0005012345", "STOP", T0 + 3)
        .unwrap();
    let all = ob.events_since(0, 100).unwrap();
    let seqs: Vec<u64> = all.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(seq, 4);
    let states: Vec<(State, Option<(u8, SegmentState)>)> = all
        .iter()
        .filter_map(|(_, e)| match &e.kind {
            EventKind::Message {
                id: m,
                state,
                segment,
                route_kind: RouteKind::Domestic,
                ..
            } if *m == id => Some((*state, *segment)),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (State::Queued, None),
            (State::Submitted, Some((1, SegmentState::Submitted))),
            (State::Delivered, Some((1, SegmentState::Delivered))),
        ]
    );
    let page: Vec<u64> = ob
        .events_since(2, 1)
        .unwrap()
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(page, vec![3]);
    assert!(ob.events_since(4, 10).unwrap().is_empty());
    assert!(matches!(
        all[3].1.kind,
        EventKind::MobileOriginated { ref text, .. } if text == "STOP"
    ));
}

#[test]
fn a_carrier_no_longer_configured_hands_its_messages_on_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (moved, stuck) = {
        let mut ob = open(dir.path(), T0);
        (
            accept(&mut ob, msg(D, "a", Class::Bulk), &["docomo", "backup"], T0),
            accept(&mut ob, msg(E, "b", Class::Bulk), &["docomo"], T0),
        )
    };
    let mut carriers = profiles();
    carriers.remove("docomo");
    let mut ob = Outbox::recover(
        SledStore::open(dir.path()).unwrap(),
        exact(),
        carriers,
        T0 + 1,
    )
    .unwrap();
    assert_eq!(ob.status(moved).unwrap().unwrap().carrier, "backup");
    assert_eq!(ids(&take(&mut ob, "backup", 10, T0 + 1)), vec![(moved, 1)]);
    let status = ob.status(stuck).unwrap().unwrap();
    assert_eq!(status.state, State::Failed);
    assert_eq!(
        status.detail.as_deref(),
        Some("carrier docomo is not configured")
    );
}

#[test]
fn a_newer_state_of_a_kept_receipt_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(&mut ob, msg(D, "x", Class::Otp), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    for state in [MessageState::Enroute, MessageState::Undeliverable] {
        assert_eq!(
            ob.on_receipt(receipt("docomo", "77", state), T0).unwrap(),
            ReceiptOutcome::Unmatched { kept: true }
        );
    }
    assert_eq!(ob.unmatched_held(), 1);
    assert_eq!(ob.store().unmatched_count().unwrap(), 1);
    ob.on_submit_resp(taken[0].key, ok("77"), T0 + 1).unwrap();
    assert_eq!(state(&ob, id), State::Undeliverable);
    assert_eq!(ob.unmatched_held(), 0);
}

#[test]
fn a_message_decided_while_segments_were_in_flight_ends_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let mut ob = open(dir.path(), T0);
        let id = accept(
            &mut ob,
            msg(D, &japanese(150), Class::Bulk),
            &["docomo"],
            T0,
        );
        let taken = take(&mut ob, "docomo", 10, T0);
        assert_eq!(taken.len(), 3);
        let effect = ob
            .on_submit_resp(
                taken[0].key,
                SubmitResult::Status(CommandStatus::ESME_RSUBMITFAIL),
                T0,
            )
            .unwrap();
        // Segments 2 and 3 are still in flight: their results end the message.
        assert_eq!(
            effect,
            SubmitEffect::Ended {
                state: State::InFlight
            }
        );
        ob.commit().wait_blocking().unwrap();
        id
    };
    let mut ob = open(dir.path(), T0 + 1);
    let status = ob.status(id).unwrap().unwrap();
    assert_eq!(status.state, State::Rejected);
    assert!(status
        .detail
        .unwrap()
        .starts_with("segment 1 of 3: docomo answered ESME_RSUBMITFAIL"));
    assert_eq!(status.segments[1].state, SegmentState::Cancelled);
    assert!(take(&mut ob, "docomo", 10, T0 + 1).is_empty());
    assert_eq!(ob.open_messages(), 0);
}

#[test]
fn a_rejected_segment_ends_the_message_once_the_others_in_flight_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let id = accept(
        &mut ob,
        msg(D, &japanese(150), Class::Bulk),
        &["docomo"],
        T0,
    );
    let later = accept(&mut ob, msg(D, "next", Class::Bulk), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 2, T0);
    assert_eq!(ids(&taken), vec![(id, 1), (id, 2)]);
    let rejected = SubmitResult::Status(CommandStatus::ESME_RSUBMITFAIL);
    ob.on_submit_resp(taken[0].key, rejected, T0).unwrap();
    // Segment 3 is never sent; the next message waits until this one ends.
    assert!(take(&mut ob, "docomo", 10, T0).is_empty());
    assert_eq!(
        ob.on_submit_resp(taken[1].key, ok("r2"), T0).unwrap(),
        SubmitEffect::Submitted {
            state: State::Rejected,
            held_receipt: None,
        }
    );
    let status = ob.status(id).unwrap().unwrap();
    let states: Vec<SegmentState> = status.segments.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        vec![
            SegmentState::Rejected,
            SegmentState::Submitted,
            SegmentState::Cancelled
        ]
    );
    assert_eq!(ids(&take(&mut ob, "docomo", 10, T0)), vec![(later, 1)]);
}

#[test]
fn a_dispatch_that_never_left_is_ready_again_at_once_and_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let d1 = accept(&mut ob, msg(D, "one", Class::Bulk), &["docomo"], T0);
    let d2 = accept(&mut ob, msg(D, "two", Class::Bulk), &["docomo"], T0);
    let first = take(&mut ob, "docomo", 10, T0).remove(0);
    assert_eq!(first.key.message, d1);
    assert_eq!(
        ob.on_submit_resp(first.key, SubmitResult::NoAnswer(NoAnswer::NotSent), T0 + 1)
            .unwrap(),
        SubmitEffect::Retry { at: T0 + 1 }
    );
    // No backoff, still ahead of d2, and its attempt was not counted.
    let again = take(&mut ob, "docomo", 10, T0 + 1);
    assert_eq!(ids(&again), vec![(d1, 1)]);
    assert_eq!(again[0].attempt, 1);
    ob.on_submit_resp(again[0].key, ok("x1"), T0 + 2).unwrap();
    assert_eq!(ids(&take(&mut ob, "docomo", 10, T0 + 2)), vec![(d2, 1)]);
}

#[test]
fn a_submit_beyond_max_queued_open_messages_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        max_open: 2,
        ..Settings::default()
    };
    let mut ob = open_with(dir.path(), T0, settings, []);
    let with_ref = NewMessage {
        client_ref: Some("first".into()),
        ..msg(D, "one", Class::Otp)
    };
    let first = accept(&mut ob, with_ref.clone(), &["docomo"], T0);
    accept(&mut ob, msg(E, "two", Class::Otp), &["docomo"], T0);
    let err = ob
        .accept(msg(D, "three", Class::Otp), route(&["docomo"]), T0)
        .unwrap_err();
    assert_eq!(err, SubmitError::QueueFull { limit: 2 });
    assert_eq!(
        err.to_string(),
        "the outbox holds 2 messages not yet final, its limit (outbox.max_queued)"
    );
    // A resubmit of a known reference queues nothing, so it is answered.
    let again = ob.accept(with_ref, route(&["docomo"]), T0).unwrap();
    assert_eq!((again.id, again.duplicate), (first, true));
    assert_eq!(ob.open_messages(), 2);
    // Once one ends there is room again.
    let taken = take(&mut ob, "docomo", 1, T0);
    ob.on_submit_resp(taken[0].key, ok("f"), T0).unwrap();
    ob.on_receipt(receipt("docomo", "f", MessageState::Delivered), T0)
        .unwrap();
    accept(&mut ob, msg(D, "three", Class::Otp), &["docomo"], T0);
}

#[test]
fn the_carriers_registered_delivery_is_asked_and_decides_where_a_message_ends() {
    let dir = tempfile::tempdir().unwrap();
    let failures = plain(|p| p.registered_delivery = RegisteredDelivery::Failure);
    let quiet = plain(|p| p.registered_delivery = RegisteredDelivery::None);
    let mut ob = open_with(
        dir.path(),
        T0,
        exact(),
        [("failures", failures), ("quiet", quiet)],
    );
    // Failures only: asked as such; the message ends at submitted, and a failure receipt
    // that comes later still ends it.
    let id = accept(&mut ob, msg(D, "hi", Class::Bulk), &["failures"], T0);
    let taken = take(&mut ob, "failures", 1, T0);
    assert_eq!(
        taken[0].submit.registered_delivery,
        smpp::values::registered_delivery::RECEIPT_ON_FAILURE
    );
    ob.on_submit_resp(taken[0].key, ok("f1"), T0).unwrap();
    assert_eq!(state(&ob, id), State::Submitted);
    assert_eq!(ob.open_messages(), 0);
    assert!(ob.store().open_messages().unwrap().is_empty());
    assert!(matches!(
        ob.on_receipt(
            receipt("failures", "f1", MessageState::Undeliverable),
            T0 + 1
        )
        .unwrap(),
        ReceiptOutcome::Matched {
            state: State::Undeliverable,
            ..
        }
    ));
    // None: no receipt is asked although the message wants one; it ends at submitted.
    let id = accept(&mut ob, msg(E, "hi", Class::Bulk), &["quiet", "docomo"], T0);
    let taken = take(&mut ob, "quiet", 1, T0);
    assert_eq!(taken[0].submit.registered_delivery, 0);
    // Failed over, it asks the next carrier for what that one gives: final receipts.
    ob.on_submit_resp(
        taken[0].key,
        SubmitResult::Status(CommandStatus::ESME_RINVDSTADR),
        T0,
    )
    .unwrap();
    let taken = take(&mut ob, "docomo", 1, T0);
    assert_eq!(
        taken[0].submit.registered_delivery,
        smpp::values::registered_delivery::RECEIPT_FINAL
    );
    ob.on_submit_resp(taken[0].key, ok("d1"), T0).unwrap();
    assert_eq!(state(&ob, id), State::Submitted);
    assert_eq!(ob.open_messages(), 1);
    let quiet_only = accept(&mut ob, msg(D, "hi again", Class::Bulk), &["quiet"], T0);
    let taken = take(&mut ob, "quiet", 1, T0);
    ob.on_submit_resp(taken[0].key, ok("q1"), T0).unwrap();
    assert_eq!(state(&ob, quiet_only), State::Submitted);
    assert_eq!(ob.open_messages(), 1);
}

#[test]
fn the_carriers_retry_policy_classifies_its_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let policy: RetryPolicy = toml::from_str("ESME_RSYSERR = \"permanent\"").unwrap();
    let strict = plain(|p| p.retry = policy);
    let mut ob = open_with(dir.path(), T0, exact(), [("strict", strict)]);
    let syserr = SubmitResult::Status(CommandStatus::ESME_RSYSERR);
    // The default policy retries a system error.
    accept(&mut ob, msg(D, "x", Class::Bulk), &["docomo"], T0);
    let taken = take(&mut ob, "docomo", 1, T0);
    assert_eq!(
        ob.on_submit_resp(taken[0].key, syserr.clone(), T0).unwrap(),
        SubmitEffect::Retry { at: T0 + 1_000 }
    );
    // This carrier's policy makes it final.
    let id = accept(&mut ob, msg(E, "x", Class::Bulk), &["strict", "docomo"], T0);
    let taken = take(&mut ob, "strict", 1, T0);
    assert_eq!(
        ob.on_submit_resp(taken[0].key, syserr, T0).unwrap(),
        SubmitEffect::Ended {
            state: State::Rejected
        }
    );
    assert_eq!(state(&ob, id), State::Rejected);
}

#[test]
fn the_retry_backoff_doubles_up_to_its_maximum_less_its_jitter() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        retry: crate::carrier::backoff::BackoffPolicy::new(
            std::time::Duration::from_millis(100),
            std::time::Duration::from_millis(300),
            0.5,
        )
        .unwrap(),
        ..Settings::default()
    };
    let mut ob = open_with(dir.path(), T0, settings, []);
    // Two messages throttled at the same moments, each to its own number.
    accept(&mut ob, msg(D, "x", Class::Bulk), &["docomo"], T0);
    accept(&mut ob, msg(E, "y", Class::Bulk), &["docomo"], T0);
    let mut now = T0;
    let mut waits = Vec::new();
    for base in [100, 200, 300, 300] {
        let taken = take(&mut ob, "docomo", 2, now);
        assert_eq!(taken.len(), 2);
        let mut due = Vec::new();
        for t in &taken {
            let throttled = SubmitResult::Status(CommandStatus::ESME_RTHROTTLED);
            let SubmitEffect::Retry { at } = ob.on_submit_resp(t.key, throttled, now).unwrap()
            else {
                panic!("not a retry");
            };
            let wait = at - now;
            // Within [base × (1 − jitter), base].
            assert!(
                (base / 2..=base).contains(&wait),
                "{wait} ms for base {base}"
            );
            due.push(at);
            waits.push(wait);
        }
        now = due.into_iter().max().unwrap();
    }
    // The jitter is drawn per message and attempt: not every wait is the same.
    waits.sort_unstable();
    waits.dedup();
    assert!(waits.len() > 2, "{waits:?}");
}

#[test]
fn a_gsm_only_carrier_refuses_other_text_at_accept_naming_the_character() {
    let dir = tempfile::tempdir().unwrap();
    let gsm = plain(|p| p.text.ucs2 = false);
    let mut ob = open_with(dir.path(), T0, exact(), [("gsm", gsm)]);
    let err = ob
        .accept(msg(D, "認証コード 1234", Class::Otp), route(&["gsm"]), T0)
        .unwrap_err();
    assert_eq!(
        err,
        SubmitError::Unfit {
            carrier: "gsm".into(),
            reason: Unfit::Text(TextRefusal::NotGsm7 {
                ch: '認',
                position: 1
            })
        }
    );
    assert!(err.to_string().contains("GSM 7-bit"), "{err}");
    assert_eq!(ob.open_messages(), 0);
    accept(&mut ob, msg(D, "Code 1234", Class::Otp), &["gsm"], T0);
    let taken = take(&mut ob, "gsm", 1, T0);
    assert_eq!(taken[0].submit.data_coding, 0x00);
}

#[test]
fn a_carriers_sender_form_is_checked_at_accept_and_its_default_sender_used() {
    let dir = tempfile::tempdir().unwrap();
    let short = plain(|p| {
        p.addressing.sender_form = Some(SenderForm::ShortCode);
        p.addressing.default_sender = Some("0005123456".into());
    });
    let mut ob = open_with(dir.path(), T0, exact(), [("short", short)]);
    let national = NewMessage {
        from: Some("0312345678".into()),
        ..msg(D, "x", Class::Otp)
    };
    let err = ob.accept(national, route(&["short"]), T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "carrier short: sender \"0312345678\": must be a common short code: 0005 and 6 \
         digits on this carrier"
    );
    let unnamed = NewMessage {
        from: None,
        ..msg(D, "x", Class::Otp)
    };
    accept(&mut ob, unnamed, &["short"], T0);
    let taken = take(&mut ob, "short", 1, T0);
    let sm = &taken[0].submit;
    assert_eq!(sm.source_addr.as_bytes(), b"0005123456");
    assert_eq!((sm.source_addr_ton, sm.source_addr_npi), (3, 0));
}

mod parked;
mod retention;

#[test]
fn the_otp_reserve_of_a_pull_is_taken_by_otp_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open(dir.path(), T0);
    let bulk: Vec<MessageId> = (0..5)
        .map(|i| {
            let to = format!("81903333000{i}");
            accept(&mut ob, msg(&to, "bulk", Class::Bulk), &["docomo"], T0)
        })
        .collect();
    // Four places, one of them the otp reserve: three bulk messages, none in the reserve.
    let work = take_reserving(&mut ob, 4, 3);
    assert_eq!(ids(&work), vec![(bulk[0], 1), (bulk[1], 1), (bulk[2], 1)]);
    // Only the reserve: nothing without otp.
    assert!(take_reserving(&mut ob, 1, 0).is_empty());
    let otp: Vec<MessageId> = [D, E]
        .iter()
        .map(|to| accept(&mut ob, msg(to, "code", Class::Otp), &["docomo"], T0))
        .collect();
    // otp first, into every place; bulk only while fewer than `max_other` are taken.
    let work = take_reserving(&mut ob, 3, 2);
    assert_eq!(ids(&work), vec![(otp[0], 1), (otp[1], 1)]);
    let work = take_reserving(&mut ob, 3, 3);
    assert_eq!(ids(&work), vec![(bulk[3], 1), (bulk[4], 1)]);
}

fn take_reserving(ob: &mut Outbox<SledStore>, max: usize, max_other: usize) -> Vec<Dispatch> {
    ob.take_work_reserving("docomo", max, max_other, T0 + 1)
        .unwrap()
}
