//! A long queue waits on disk: parked messages, read back in queue order.

use super::*;

/// Settings keeping `n` queued messages of a carrier's class in memory.
fn keeping(n: usize) -> Settings {
    Settings {
        in_memory: n,
        ..exact()
    }
}

/// A destination of its own for message `i`.
fn dest(i: usize) -> String {
    format!("8190{:08}", 30_000_000 + i)
}

/// Accepts `n` bulk messages for docomo (and `backup` after it), each to its own
/// destination, and returns their ids in order.
fn bulk(ob: &mut Outbox<SledStore>, n: usize, now: u64) -> Vec<MessageId> {
    (0..n)
        .map(|i| {
            let m = msg(&dest(i), &format!("bulk {i}"), Class::Bulk);
            accept(ob, m, &["docomo", "backup"], now)
        })
        .collect()
}

/// Takes from `carrier` until nothing is left, answering each dispatch as submitted, and
/// returns the messages in the order they were taken.
fn drain(ob: &mut Outbox<SledStore>, carrier: &str, now: u64) -> Vec<MessageId> {
    let mut order = Vec::new();
    loop {
        let work = take(ob, carrier, 3, now);
        if work.is_empty() {
            return order;
        }
        for d in work {
            order.push(d.key.message);
            let id = format!("c{}-{}", d.key.message, d.key.segment);
            ob.on_submit_resp(d.key, ok(&id), now).unwrap();
        }
    }
}

#[test]
fn a_queue_longer_than_its_share_waits_on_disk_and_comes_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(4), []);
    let accepted = bulk(&mut ob, 10, T0);
    assert_eq!(ob.queue_depth("docomo", Class::Bulk), 10);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 6);
    assert_eq!(ob.open_messages(), 10);
    // A parked message reads as queued, from its record on disk.
    let last = *accepted.last().unwrap();
    assert_eq!(state(&ob, last), State::Queued);
    assert_eq!(ob.status(last).unwrap().unwrap().to, dest(9));
    assert_eq!(drain(&mut ob, "docomo", T0 + 1), accepted);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 0);
    assert_eq!(ob.queue_depth("docomo", Class::Bulk), 0);
    for id in accepted {
        assert_eq!(state(&ob, id), State::Submitted);
    }
}

#[test]
fn messages_to_one_destination_keep_their_order_across_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(2), []);
    let accepted: Vec<MessageId> = (0..7)
        .map(|i| {
            accept(
                &mut ob,
                msg(D, &format!("d{i}"), Class::Bulk),
                &["docomo"],
                T0,
            )
        })
        .collect();
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 5);
    // One line: only its head goes, one message a take.
    let mut order = Vec::new();
    for _ in 0..7 {
        let work = take(&mut ob, "docomo", 10, T0 + 1);
        assert_eq!(work.len(), 1);
        let key = work[0].key;
        order.push(key.message);
        ob.on_submit_resp(key, ok(&format!("c{}", key.message)), T0 + 1)
            .unwrap();
    }
    assert_eq!(order, accepted);
    assert!(take(&mut ob, "docomo", 10, T0 + 1).is_empty());
}

#[test]
fn otp_is_not_parked_behind_bulk_and_a_code_is_never_parked() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(1), []);
    bulk(&mut ob, 5, T0);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 4);
    let code = |text: &str| NewMessage {
        masked: Some("code ******".into()),
        ..msg(E, text, Class::Otp)
    };
    let first = accept(&mut ob, code("code 111111"), &["docomo"], T0);
    let second = accept(&mut ob, code("code 222222"), &["docomo"], T0);
    // The otp queue is over its share, but a code's text is only in memory.
    assert_eq!(ob.parked_depth("docomo", Class::Otp), 0);
    assert_eq!(ob.queue_depth("docomo", Class::Otp), 2);
    let work = take(&mut ob, "docomo", 1, T0 + 1);
    assert_eq!(ids(&work), vec![(first, 1)]);
    assert_eq!(work[0].submit.short_message.as_bytes(), b"code 111111");
    let _ = second;
}

#[test]
fn parked_messages_survive_a_restart_and_are_shared_out_again_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let accepted = {
        let mut ob = open_with(dir.path(), T0, keeping(4), []);
        bulk(&mut ob, 10, T0)
    };
    {
        let ob = open_with(dir.path(), T0 + 1, keeping(3), []);
        assert_eq!(ob.open_messages(), 10);
        assert_eq!(ob.parked_depth("docomo", Class::Bulk), 7);
    }
    {
        // A larger share: everything in memory, nothing listed as parked any more.
        let ob = open_with(dir.path(), T0 + 2, keeping(100), []);
        assert_eq!(ob.parked_depth("docomo", Class::Bulk), 0);
        assert_eq!(
            ob.store()
                .parked("docomo", Class::Bulk, MessageId(0), 100)
                .unwrap(),
            vec![]
        );
    }
    let mut ob = open_with(dir.path(), T0 + 3, keeping(4), []);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 6);
    assert_eq!(drain(&mut ob, "docomo", T0 + 4), accepted);
}

#[test]
fn a_parked_message_whose_validity_ends_expires_on_the_tick() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(1), []);
    let kept = accept(&mut ob, msg(D, "kept", Class::Bulk), &["docomo"], T0);
    let short = NewMessage {
        validity_ms: Some(1_000),
        ..msg(E, "short", Class::Bulk)
    };
    let short = accept(&mut ob, short, &["docomo"], T0);
    let long = accept(&mut ob, msg(&dest(1), "long", Class::Bulk), &["docomo"], T0);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 2);
    let cursor = ob.last_event();
    assert_eq!(ob.tick(T0 + 999).unwrap().ended, 0);
    assert_eq!(state(&ob, short), State::Queued);
    assert_eq!(ob.tick(T0 + 1_000).unwrap().ended, 1);
    assert_eq!(state(&ob, short), State::Expired);
    let status = ob.status(short).unwrap().unwrap();
    assert_eq!(status.segments[0].state, SegmentState::Expired);
    assert_eq!(
        status.segments[0].error.as_deref(),
        Some("validity ended before submission")
    );
    let events = ob.events_since(cursor, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0].1.kind,
        EventKind::Message { id, state: State::Expired, .. } if id == short
    ));
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 1);
    assert_eq!(ob.open_messages(), 2);
    assert_eq!(drain(&mut ob, "docomo", T0 + 1_001), vec![kept, long]);
}

#[test]
fn parked_messages_fail_over_with_the_rest_and_stay_parked_with_nowhere_to_go() {
    let dir = tempfile::tempdir().unwrap();
    let mut ob = open_with(dir.path(), T0, keeping(3), []);
    let accepted = bulk(&mut ob, 8, T0);
    let alone = accept(&mut ob, msg(D, "alone", Class::Bulk), &["docomo"], T0);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 6);
    // Every carrier is down: nothing can move, the parked part stays parked.
    let all_down = |_: &str| true;
    assert_eq!(
        ob.carrier_unavailable("docomo", all_down, T0 + 1).unwrap(),
        0
    );
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 6);
    // backup is up: all but `alone` move, in memory up to its share, the rest parked there.
    let down = |c: &str| c == "docomo";
    assert_eq!(ob.carrier_unavailable("docomo", down, T0 + 2).unwrap(), 8);
    assert_eq!(ob.queue_depth("docomo", Class::Bulk), 1);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 1);
    assert_eq!(ob.queue_depth("backup", Class::Bulk), 8);
    assert_eq!(ob.parked_depth("backup", Class::Bulk), 5);
    assert_eq!(ob.status(alone).unwrap().unwrap().carrier, "docomo");
    assert_eq!(drain(&mut ob, "backup", T0 + 3), accepted);
    assert_eq!(drain(&mut ob, "docomo", T0 + 3), vec![alone]);
}

#[test]
fn parked_messages_count_against_the_open_limit() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        max_open: 3,
        ..keeping(1)
    };
    let mut ob = open_with(dir.path(), T0, settings, []);
    bulk(&mut ob, 3, T0);
    assert_eq!(ob.parked_depth("docomo", Class::Bulk), 2);
    let err = ob
        .accept(msg(E, "four", Class::Bulk), route(&["docomo"]), T0)
        .unwrap_err();
    assert_eq!(err, SubmitError::QueueFull { limit: 3 });
}
