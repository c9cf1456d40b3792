//! The steps of one turn, written to sled together: the writes of every step the outbox
//! applies between two ends of a group wait here, visible to point reads, and then go to
//! sled under one journal entry (see [`super::SledStore::apply`] for why that keeps each
//! step all or nothing across a crash).
//!
//! Written one step at a time, every step cost a journal insert holding a copy of all its
//! writes before its own writes: three of the eleven sled inserts a message costs over its
//! life (its accept, its submit_sm_resp, its receipt), and the largest. A group of steps
//! costs one.

use super::{StoreError, Waiter, Write, TREES};
use std::collections::HashMap;

/// A group is written as soon as its writes reach this size, whatever the turn: its journal
/// entry stays far below sled's blob threshold (a quarter of a 512 KiB segment), and a
/// group's write (about 25 steps, half a millisecond) holds the outbox's fast lane back no
/// longer than one of its usual turns. 48 KiB carried the same rate in alternating runs
/// (100,000 messages closed loop) and put the otp's accept → submit p50 a millisecond later.
pub(super) const GROUP_BYTES: usize = 16 * 1024;

/// What a group knows of a key.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen<'a> {
    /// Its latest write in the group puts this value.
    Put(&'a [u8]),
    /// Its latest write in the group removes it.
    Removed,
    /// The group does not write it: sled has its value.
    Unknown,
}

/// The writes of the steps applied since the group began, in order.
#[derive(Default)]
pub(super) struct Group {
    writes: Vec<Write>,
    bytes: usize,
    /// For each tree, where each key's latest write is in `writes`.
    latest: [HashMap<Vec<u8>, usize>; TREES],
    /// Commits that wait for this group to be written (see `Storage::commit_later`).
    waiters: Vec<Waiter>,
    /// A group that could not be written: every later call fails with its error, as the
    /// steps applied since are in memory only (the outbox stops on it).
    failed: Option<StoreError>,
}

impl Group {
    /// The error of a group that could not be written, if one was not.
    pub(super) fn check(&self) -> Result<(), StoreError> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Adds one step's writes; true once the group should be written.
    pub(super) fn push_step(&mut self, writes: Vec<Write>) -> bool {
        for write in writes {
            self.bytes = self
                .bytes
                .saturating_add(write.key.len())
                .saturating_add(write.value.as_ref().map_or(0, Vec::len));
            if let Some(latest) = self.latest.get_mut(usize::from(write.tree)) {
                latest.insert(write.key.clone(), self.writes.len());
            }
            self.writes.push(write);
        }
        self.bytes >= GROUP_BYTES
    }

    /// What the group writes to `key` of tree `tree`.
    pub(super) fn seen(&self, tree: usize, key: &[u8]) -> Seen<'_> {
        let at = self.latest.get(tree).and_then(|latest| latest.get(key));
        match at.and_then(|&i| self.writes.get(i)) {
            Some(Write {
                value: Some(value), ..
            }) => Seen::Put(value),
            Some(Write { value: None, .. }) => Seen::Removed,
            None => Seen::Unknown,
        }
    }

    /// Whether nothing waits to be written.
    pub(super) fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.waiters.is_empty()
    }

    /// A commit waits for the group.
    pub(super) fn wait(&mut self, waiter: Waiter) {
        match &self.failed {
            Some(e) => {
                let _ = waiter.send(Err(e.clone()));
            }
            None => self.waiters.push(waiter),
        }
    }

    /// Takes the writes (in order) and the waiting commits; the group begins again.
    pub(super) fn take(&mut self) -> (Vec<Write>, Vec<Waiter>) {
        self.bytes = 0;
        for latest in &mut self.latest {
            latest.clear();
        }
        (
            std::mem::take(&mut self.writes),
            std::mem::take(&mut self.waiters),
        )
    }

    /// The group taken could not be written: its commits fail, and so does every later call.
    pub(super) fn fail(&mut self, e: &StoreError, waiters: Vec<Waiter>) {
        for waiter in waiters.into_iter().chain(std::mem::take(&mut self.waiters)) {
            let _ = waiter.send(Err(e.clone()));
        }
        self.failed.get_or_insert_with(|| e.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    fn put(tree: u8, key: &[u8], value: &[u8]) -> Write {
        Write {
            tree,
            key: key.to_vec(),
            value: Some(value.to_vec()),
        }
    }

    fn remove(tree: u8, key: &[u8]) -> Write {
        Write {
            tree,
            key: key.to_vec(),
            value: None,
        }
    }

    #[test]
    fn a_key_reads_as_its_latest_write_in_the_group_and_per_tree() {
        let mut g = Group::default();
        assert!(!g.push_step(vec![put(1, b"k", b"v1"), put(2, b"k", b"other")]));
        assert_eq!(g.seen(1, b"k"), Seen::Put(b"v1"));
        g.push_step(vec![put(1, b"k", b"v2")]);
        assert_eq!(g.seen(1, b"k"), Seen::Put(b"v2"));
        assert_eq!(g.seen(2, b"k"), Seen::Put(b"other"));
        g.push_step(vec![remove(1, b"k")]);
        assert_eq!(g.seen(1, b"k"), Seen::Removed);
        assert_eq!(g.seen(1, b"j"), Seen::Unknown);
        assert_eq!(g.seen(0, b"k"), Seen::Unknown);
        // Out of range trees are not known (and not written: see write_all).
        assert_eq!(g.seen(99, b"k"), Seen::Unknown);
    }

    #[test]
    fn take_returns_every_write_in_order_and_begins_again() {
        let mut g = Group::default();
        g.push_step(vec![put(1, b"a", b"1"), remove(3, b"b")]);
        g.push_step(vec![put(1, b"a", b"2")]);
        let (tx, _rx) = oneshot::channel();
        g.wait(tx);
        assert!(!g.is_empty());
        let (writes, waiters) = g.take();
        assert_eq!(
            writes,
            vec![put(1, b"a", b"1"), remove(3, b"b"), put(1, b"a", b"2")]
        );
        assert_eq!(waiters.len(), 1);
        assert!(g.is_empty());
        assert_eq!(g.seen(1, b"a"), Seen::Unknown);
    }

    #[test]
    fn a_group_is_full_at_its_size_in_whole_steps() {
        let mut g = Group::default();
        let big = vec![0u8; GROUP_BYTES / 2];
        assert!(!g.push_step(vec![put(0, b"1", &big)]));
        // The step that crosses the line is kept whole and says so.
        assert!(g.push_step(vec![put(0, b"2", &big), put(0, b"3", b"x")]));
        assert_eq!(g.take().0.len(), 3);
        assert!(!g.push_step(vec![put(0, b"4", b"x")]));
    }

    #[test]
    fn a_failed_group_fails_its_commits_and_every_later_one() {
        let mut g = Group::default();
        let (early, mut early_rx) = oneshot::channel();
        let (taken, mut taken_rx) = oneshot::channel();
        g.wait(early);
        let e = StoreError::Full { op: "write" };
        g.fail(&e, vec![taken]);
        assert!(matches!(
            early_rx.try_recv(),
            Ok(Err(StoreError::Full { .. }))
        ));
        assert!(matches!(
            taken_rx.try_recv(),
            Ok(Err(StoreError::Full { .. }))
        ));
        assert!(g.check().is_err());
        let (late, mut late_rx) = oneshot::channel();
        g.wait(late);
        assert!(matches!(
            late_rx.try_recv(),
            Ok(Err(StoreError::Full { .. }))
        ));
    }
}
