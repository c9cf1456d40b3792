//! The event feed: what the event log's readers (the API's subscriptions, `GET /v1/events`,
//! the webhook dispatcher, the status page) are shown, and when.
//!
//! An event is shown once it is **on disk**, never before. The outbox applies a step (its
//! events among its writes) and the store writes the group of steps to sled; only when the
//! committer's flush that follows has completed does the feed move its durable mark to
//! the group's last event and wake the readers. Shown earlier, an event a crash then took
//! back would have been seen, and its sequence number, given again after the restart to
//! another event, would be skipped by a reader resuming after it.
//!
//! The newest events are also kept here, in memory ([`TAIL_EVENTS`] of them): a reader
//! that keeps up is answered from them on its own thread, without a turn of the outbox or a
//! read of the disk; one further behind reads the log on disk (through the outbox), up to
//! the same mark.

use crate::store::Event;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::watch;

/// The newest events kept in memory: about 3 MB, a few seconds of a busy gateway, far more
/// than a reader that keeps up is ever behind.
pub const TAIL_EVENTS: usize = 16_384;

/// The shared feed: the outbox pushes events as it applies them, the committer marks them
/// durable, the readers read up to the mark.
pub struct EventFeed {
    tail: Mutex<Tail>,
    /// The durable mark, for readers that wait for new events.
    mark: watch::Sender<u64>,
}

/// The newest events (contiguous sequence numbers, oldest first) and the durable mark.
#[derive(Debug)]
struct Tail {
    events: VecDeque<(u64, Event)>,
    durable: u64,
    capacity: usize,
}

impl EventFeed {
    /// A feed whose events up to `durable` are on disk (those found at start).
    pub fn new(durable: u64) -> Arc<EventFeed> {
        EventFeed::with_capacity(durable, TAIL_EVENTS)
    }

    /// [`EventFeed::new`] keeping `capacity` events in memory.
    pub fn with_capacity(durable: u64, capacity: usize) -> Arc<EventFeed> {
        let (mark, _) = watch::channel(durable);
        Arc::new(EventFeed {
            tail: Mutex::new(Tail {
                events: VecDeque::with_capacity(capacity.min(1024)),
                durable,
                capacity: capacity.max(1),
            }),
            mark,
        })
    }

    /// An event just applied (not yet durable). The tail stays contiguous: an event that
    /// does not follow the newest one starts it again.
    pub fn push(&self, seq: u64, event: &Event) {
        let mut tail = self.tail.lock();
        if tail
            .events
            .back()
            .is_some_and(|(last, _)| last.checked_add(1) != Some(seq))
        {
            tail.events.clear();
        }
        if tail.events.len() >= tail.capacity {
            tail.events.pop_front();
        }
        tail.events.push_back((seq, event.clone()));
    }

    /// The events up to `seq` are on disk: shown from now on, and the readers woken.
    /// The mark never moves back.
    pub fn durable_through(&self, seq: u64) {
        let moved = {
            let mut tail = self.tail.lock();
            if seq > tail.durable {
                tail.durable = seq;
                true
            } else {
                false
            }
        };
        if moved {
            self.mark.send_if_modified(|shown| {
                let changed = *shown < seq;
                *shown = (*shown).max(seq);
                changed
            });
        }
    }

    /// The newest event on disk (0: none).
    pub fn durable(&self) -> u64 {
        self.tail.lock().durable
    }

    /// Follows the durable mark: changes when events are shown.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.mark.subscribe()
    }

    /// Up to `max` events after `cursor` and up to the durable mark, from memory; `None`
    /// when the tail no longer holds the first of them (read the log on disk instead).
    pub fn since(&self, cursor: u64, max: usize) -> Option<Vec<(u64, Event)>> {
        let tail = self.tail.lock();
        if cursor >= tail.durable || max == 0 {
            return Some(Vec::new());
        }
        let first = tail.events.front().map(|(seq, _)| *seq)?;
        let wanted = cursor.checked_add(1)?;
        if wanted < first {
            return None;
        }
        let skip = usize::try_from(wanted - first).ok()?;
        Some(
            tail.events
                .iter()
                .skip(skip)
                .take_while(|(seq, _)| *seq <= tail.durable)
                .take(max)
                .cloned()
                .collect(),
        )
    }

    /// Events up to `seq` left the log (retention): no longer answered from memory.
    pub fn forget_through(&self, seq: u64) {
        let mut tail = self.tail.lock();
        while tail.events.front().is_some_and(|(first, _)| *first <= seq) {
            tail.events.pop_front();
        }
    }
}

impl std::fmt::Debug for EventFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFeed")
            .field("tail", &*self.tail.lock())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventKind;

    fn event(n: u64) -> Event {
        Event {
            at: n,
            kind: EventKind::MobileOriginated {
                carrier: "c".into(),
                from: format!("{n}"),
                to: "1".into(),
                text: "t".into(),
            },
        }
    }

    fn seqs(events: Option<Vec<(u64, Event)>>) -> Option<Vec<u64>> {
        events.map(|e| e.into_iter().map(|(seq, _)| seq).collect())
    }

    #[test]
    fn nothing_is_shown_before_it_is_durable() {
        let feed = EventFeed::new(0);
        for n in 1..=5 {
            feed.push(n, &event(n));
        }
        assert_eq!(seqs(feed.since(0, 10)), Some(vec![]));
        feed.durable_through(3);
        assert_eq!(seqs(feed.since(0, 10)), Some(vec![1, 2, 3]));
        assert_eq!(seqs(feed.since(2, 10)), Some(vec![3]));
        assert_eq!(seqs(feed.since(3, 10)), Some(vec![]));
        assert_eq!(seqs(feed.since(0, 2)), Some(vec![1, 2]));
        feed.durable_through(5);
        assert_eq!(seqs(feed.since(3, 10)), Some(vec![4, 5]));
        assert_eq!(feed.since(1, 1).unwrap()[0].1, event(2));
    }

    #[test]
    fn the_mark_never_moves_back_and_wakes_readers_only_when_it_moves() {
        let feed = EventFeed::new(4);
        let mut readers = feed.subscribe();
        assert_eq!(*readers.borrow_and_update(), 4);
        feed.durable_through(3);
        assert_eq!(feed.durable(), 4);
        assert!(!readers.has_changed().unwrap());
        feed.durable_through(6);
        assert!(readers.has_changed().unwrap());
        assert_eq!(*readers.borrow_and_update(), 6);
        assert_eq!(feed.durable(), 6);
    }

    #[test]
    fn what_the_tail_no_longer_holds_is_read_from_disk() {
        let feed = EventFeed::with_capacity(10, 3);
        // Events 1..=10 were found on disk at start: not in memory.
        assert_eq!(seqs(feed.since(0, 10)), None);
        assert_eq!(seqs(feed.since(10, 10)), Some(vec![]));
        for n in 11..=15 {
            feed.push(n, &event(n));
        }
        feed.durable_through(15);
        // The three newest are kept.
        assert_eq!(seqs(feed.since(12, 10)), Some(vec![13, 14, 15]));
        assert_eq!(seqs(feed.since(11, 10)), None);
        assert_eq!(seqs(feed.since(5, 10)), None);
    }

    #[test]
    fn a_gap_starts_the_tail_again_and_retention_empties_its_old_end() {
        let feed = EventFeed::new(0);
        feed.push(1, &event(1));
        feed.push(2, &event(2));
        feed.push(7, &event(7));
        feed.durable_through(7);
        assert_eq!(seqs(feed.since(6, 10)), Some(vec![7]));
        assert_eq!(seqs(feed.since(1, 10)), None, "2 is not contiguous with 7");
        feed.push(8, &event(8));
        feed.push(9, &event(9));
        feed.durable_through(9);
        feed.forget_through(8);
        assert_eq!(seqs(feed.since(8, 10)), Some(vec![9]));
        assert_eq!(seqs(feed.since(7, 10)), None);
    }
}
