//! Retention: final messages and old events leave the data directory; open work never.

use super::*;

/// Settings keeping final messages `retention` ms and events `events` ms.
fn keeping(retention: u64, events: u64) -> Settings {
    Settings {
        retention_ms: retention,
        events_retention_ms: events,
        ..exact()
    }
}

/// Accepts a message to its own destination, submits it as `carrier_id` and, when
/// `delivered_at` is given, applies its DELIVRD receipt then; returns its id.
fn sent(
    ob: &mut Outbox<SledStore>,
    i: usize,
    carrier_id: &str,
    now: u64,
    delivered_at: Option<u64>,
) -> MessageId {
    let to = format!("8190{:08}", 40_000_000 + i);
    let id = accept(
        ob,
        msg(&to, "hello", Class::Transactional),
        &["docomo"],
        now,
    );
    let work = take(ob, "docomo", 1, now);
    assert_eq!(ids(&work), vec![(id, 1)]);
    ob.on_submit_resp(work[0].key, ok(carrier_id), now).unwrap();
    if let Some(at) = delivered_at {
        let outcome = ob
            .on_receipt(receipt("docomo", carrier_id, MessageState::Delivered), at)
            .unwrap();
        assert!(
            matches!(outcome, ReceiptOutcome::Matched { .. }),
            "{outcome:?}"
        );
    }
    ob.commit().wait_blocking().unwrap();
    id
}

/// A DELIVRD receipt for `carrier_id` at `at` matches `message`, which is delivered then.
fn delivered_to(ob: &mut Outbox<SledStore>, carrier_id: &str, at: u64, message: MessageId) {
    let outcome = ob
        .on_receipt(receipt("docomo", carrier_id, MessageState::Delivered), at)
        .unwrap();
    assert!(
        matches!(outcome, ReceiptOutcome::Matched { message: m, .. } if m == message),
        "{outcome:?}"
    );
    assert_eq!(state(ob, message), State::Delivered);
}

#[test]
fn a_final_message_goes_with_its_carrier_id_once_its_retention_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(2 * HOUR, 1000 * HOUR), []);
    let id = sent(&mut ob, 0, "c-1", T0, Some(T0 + 10));
    assert_eq!(state(&ob, id), State::Delivered);

    let report = ob.tick(T0 + 10 + 2 * HOUR - 1).unwrap();
    assert_eq!(report.messages_swept, 0, "one millisecond early");
    assert_eq!(state(&ob, id), State::Delivered);

    let report = ob.tick(T0 + 10 + 2 * HOUR).unwrap();
    assert_eq!(report.messages_swept, 1);
    ob.commit().wait_blocking().unwrap();
    assert_eq!(ob.status(id).unwrap(), None);
    assert_eq!(ob.store().message(id).unwrap(), None);
    assert_eq!(
        ob.store().segment_by_carrier_id("docomo", "c-1").unwrap(),
        None
    );
    // A receipt for it now matches nothing: kept for late matching, not applied.
    let late = ob
        .on_receipt(
            receipt("docomo", "c-1", MessageState::Delivered),
            T0 + 3 * HOUR,
        )
        .unwrap();
    assert_eq!(late, ReceiptOutcome::Unmatched { kept: true });
    // And it stays gone after a restart.
    drop(ob);
    let ob = open_with(dir.path(), T0 + 3 * HOUR, keeping(2 * HOUR, HOUR), []);
    assert_eq!(ob.status(id).unwrap(), None);
}

#[test]
fn a_message_not_yet_final_is_never_removed_and_its_retention_starts_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(HOUR, HOUR), []);
    // Submitted, its receipt never comes: open until validity (1 h) + receipt wait (24 h).
    let id = sent(&mut ob, 0, "c-1", T0, None);
    let report = ob.tick(T0 + 3 * HOUR).unwrap();
    assert_eq!(report.messages_swept, 0);
    assert_eq!(state(&ob, id), State::Submitted);

    let failed_at = T0 + 25 * HOUR;
    let report = ob.tick(failed_at).unwrap();
    assert_eq!(report.ended, 1);
    assert_eq!(report.messages_swept, 0, "it changed just now");
    assert_eq!(state(&ob, id), State::Failed);

    assert_eq!(ob.tick(failed_at + HOUR - 1).unwrap().messages_swept, 0);
    assert_eq!(ob.tick(failed_at + HOUR).unwrap().messages_swept, 1);
    assert_eq!(ob.status(id).unwrap(), None);
}

#[test]
fn a_message_that_ends_behind_the_walk_is_still_removed_once_its_retention_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(HOUR, HOUR), []);
    // The first one waits for a receipt that never comes; the next three end at once.
    let open = sent(&mut ob, 0, "c-0", T0, None);
    let done: Vec<MessageId> = (1..4)
        .map(|i| sent(&mut ob, i, &format!("c-{i}"), T0, Some(T0 + 1)))
        .collect();
    // The walk removes the three and moves on past all of them, the open one's id included.
    assert_eq!(ob.tick(T0 + 2 * HOUR).unwrap().messages_swept, 3);
    for id in done {
        assert_eq!(ob.status(id).unwrap(), None);
    }
    // It fails at the end of its receipt wait, behind the walk.
    let failed_at = T0 + 25 * HOUR;
    assert_eq!(ob.tick(failed_at).unwrap().ended, 1);
    assert_eq!(state(&ob, open), State::Failed);
    assert_eq!(ob.tick(failed_at + HOUR - 1).unwrap().messages_swept, 0);
    assert_eq!(ob.tick(failed_at + HOUR).unwrap().messages_swept, 1);
    assert_eq!(ob.status(open).unwrap(), None);
    assert_eq!(ob.store().message(open).unwrap(), None);
}

#[test]
fn a_carrier_id_the_carrier_gave_again_to_a_newer_message_stays_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(HOUR, HOUR), []);
    let old = sent(&mut ob, 0, "c-1", T0, Some(T0 + 1));
    // The carrier's ids wrapped: the same id for a newer message, still awaiting its receipt.
    let newer = sent(&mut ob, 1, "c-1", T0 + 2, None);
    assert_eq!(ob.tick(T0 + 2 * HOUR).unwrap().messages_swept, 1);
    assert_eq!(ob.status(old).unwrap(), None);
    assert_eq!(
        ob.store().segment_by_carrier_id("docomo", "c-1").unwrap(),
        Some(SegmentRef {
            message: newer,
            segment: 1
        })
    );
    delivered_to(&mut ob, "c-1", T0 + 2 * HOUR, newer);
}

#[test]
fn a_message_that_lived_long_is_passed_over_and_taken_on_a_later_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(2 * HOUR, 1000 * HOUR), []);
    // Accepted first but delivered late; the next one accepted after it, delivered at once.
    let long = sent(&mut ob, 0, "c-1", T0, None);
    let short = sent(&mut ob, 1, "c-2", T0 + 1, Some(T0 + 2));
    ob.on_receipt(
        receipt("docomo", "c-1", MessageState::Delivered),
        T0 + 4 * HOUR,
    )
    .unwrap();
    ob.commit().wait_blocking().unwrap();

    let report = ob.tick(T0 + 5 * HOUR).unwrap();
    assert_eq!(report.messages_swept, 1);
    assert_eq!(ob.status(short).unwrap(), None);
    assert_eq!(state(&ob, long), State::Delivered, "changed 1 h ago");
    assert_eq!(ob.tick(T0 + 5 * HOUR + 1).unwrap().messages_swept, 0);
    assert_eq!(ob.tick(T0 + 6 * HOUR).unwrap().messages_swept, 1);
    assert_eq!(ob.status(long).unwrap(), None);
}

#[test]
fn a_tick_looks_at_no_more_final_messages_than_its_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        retention_sweep_max: 3,
        ..keeping(HOUR, 1000 * HOUR)
    };
    let mut ob = open_with(dir.path(), T0, settings, []);
    let all: Vec<MessageId> = (0..7)
        .map(|i| sent(&mut ob, i, &format!("c-{i}"), T0, Some(T0 + 1)))
        .collect();
    let later = T0 + 2 * HOUR;
    let swept: Vec<usize> = (0..4)
        .map(|_| ob.tick(later).unwrap().messages_swept)
        .collect();
    assert_eq!(swept, vec![3, 3, 1, 0]);
    for id in all {
        assert_eq!(ob.status(id).unwrap(), None);
    }
}

#[test]
fn old_events_go_but_the_newest_stays_and_the_numbers_go_on_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(1000 * HOUR, HOUR), []);
    assert_eq!(ob.first_event(), 0, "an empty log");
    accept(&mut ob, msg(D, "one", Class::Bulk), &["docomo"], T0);
    assert_eq!(ob.first_event(), 1);
    accept(&mut ob, msg(E, "two", Class::Bulk), &["docomo"], T0 + 1);
    let third = accept(
        &mut ob,
        msg("819033330000", "three", Class::Bulk),
        &["docomo"],
        T0 + 2 * HOUR,
    );
    let seqs = |ob: &Outbox<SledStore>| -> Vec<u64> {
        ob.events_since(0, 100)
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect()
    };
    assert_eq!(seqs(&ob), vec![1, 2, 3]);

    // The first two expire now (validity 1 h): two events; their queued events are old.
    let report = ob.tick(T0 + 2 * HOUR).unwrap();
    assert_eq!(report.ended, 2);
    assert_eq!(report.events_swept, 2);
    assert_eq!(seqs(&ob), vec![3, 4, 5]);
    assert_eq!(ob.first_event(), 3);
    let kept = ob.events_since(0, 1).unwrap();
    assert!(matches!(
        &kept[0].1.kind,
        EventKind::Message { id, .. } if *id == third
    ));

    // The third expires; everything before its expiry is old by then.
    let report = ob.tick(T0 + 100 * HOUR).unwrap();
    assert_eq!((report.ended, report.events_swept), (1, 3));
    assert_eq!(seqs(&ob), vec![6]);
    assert_eq!(ob.first_event(), 6);
    // Now the newest is old too, yet it stays.
    let report = ob.tick(T0 + 200 * HOUR).unwrap();
    assert_eq!(report.events_swept, 0);
    assert_eq!(seqs(&ob), vec![6]);

    drop(ob);
    let mut ob = open_with(dir.path(), T0 + 200 * HOUR, keeping(1000 * HOUR, HOUR), []);
    assert_eq!((ob.first_event(), ob.last_event()), (6, 6));
    accept(
        &mut ob,
        msg(D, "four", Class::Bulk),
        &["docomo"],
        T0 + 200 * HOUR,
    );
    assert_eq!(seqs(&ob), vec![6, 7]);
}

#[test]
fn a_receipt_held_from_before_a_submit_is_not_taken_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(HOUR, HOUR), []);
    let old = sent(&mut ob, 0, "c-1", T0, Some(T0 + 10));
    assert_eq!(ob.tick(T0 + 2 * HOUR).unwrap().messages_swept, 1);
    // The carrier sends the removed message's receipt again (after an outage, say): held.
    let again = T0 + 3 * HOUR;
    assert_eq!(
        ob.on_receipt(receipt("docomo", "c-1", MessageState::Undeliverable), again)
            .unwrap(),
        ReceiptOutcome::Unmatched { kept: true }
    );
    assert_eq!(ob.status(old).unwrap(), None);
    // Two minutes later it gives the same id to a new message: the old receipt is not its.
    let later = again + 2 * 60_000;
    let newer = sent(&mut ob, 1, "c-1", later, None);
    assert_eq!(state(&ob, newer), State::Submitted);
    assert_eq!(ob.unmatched_held(), 1, "still held, to age out");
    // Its own receipt is.
    delivered_to(&mut ob, "c-1", later + 1, newer);
}

#[test]
fn a_sweep_of_many_messages_is_written_a_few_at_a_time_and_removes_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(HOUR, 1000 * HOUR), []);
    let all: Vec<MessageId> = (0..2 * SWEEP_STEP + 5)
        .map(|i| sent(&mut ob, i, &format!("c-{i}"), T0, Some(T0 + 1)))
        .collect();
    // Three steps of removals in one tick, none of them left out.
    assert_eq!(ob.tick(T0 + 2 * HOUR).unwrap().messages_swept, all.len());
    ob.commit().wait_blocking().unwrap();
    assert_eq!(ob.tick(T0 + 2 * HOUR + 1).unwrap().messages_swept, 0);
    drop(ob);
    let ob = open_with(dir.path(), T0 + 2 * HOUR, keeping(HOUR, 1000 * HOUR), []);
    for id in all {
        assert_eq!(ob.status(id).unwrap(), None);
        assert_eq!(ob.store().message(id).unwrap(), None);
    }
}
