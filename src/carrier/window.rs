//! The in-flight window of one bind: sequence number → the caller's payload and the deadline
//! of its response, bounded by the configured window size. Pure: the caller passes `now`.
//!
//! SMPP lets an ESME send requests without waiting for each response, and responses may come
//! back in any order (2.5.2); the window is what bounds that and what finds a response's
//! request. The entries sit in a fixed slab threaded by a doubly linked list in the order
//! they were sent, and a map finds an entry by sequence number, so every operation is O(1)
//! and, all storage being reserved when the window is made, none allocates.
//!
//! Every entry gets the same response timeout (7.2, `response_timer`), so send order is
//! deadline order: the oldest entry is the next to expire and the one the caller arms its
//! single timer for ([`Window::next_deadline`]). Ordering never looks at sequence numbers,
//! so their wrap from 0x7FFFFFFF back to 1 (5.1.4) changes nothing.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

/// The largest window a bind may have.
pub const MAX_WINDOW: usize = 1000;

/// The window sizes a bind may have: the configuration's `window` (checked against this at
/// load), [`Window::new`] and [`crate::carrier::throttle::Pacer::new`].
pub const SIZES: RangeInclusive<usize> = 1..=MAX_WINDOW;

/// A list link that points nowhere.
const NIL: u32 = u32::MAX;

/// A window size outside 1..=[`MAX_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("window size {0} is not allowed (1..={MAX_WINDOW})")]
pub struct WindowSizeError(pub usize);

/// Why [`Window::insert`] refused an entry; the payload comes back so nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum InsertError<T> {
    /// The window already holds its configured number of entries.
    #[error("window full ({size} in flight): sequence number {seq} must wait for a response")]
    Full {
        /// The sequence number that was refused.
        seq: u32,
        /// The configured window size.
        size: usize,
        /// The payload, handed back.
        payload: T,
    },
    /// An entry with this sequence number is still waiting for its response.
    #[error("sequence number {seq} is already in flight")]
    InFlight {
        /// The duplicate sequence number.
        seq: u32,
        /// The payload, handed back.
        payload: T,
    },
}

impl<T> InsertError<T> {
    /// The payload that was not inserted.
    pub fn into_payload(self) -> T {
        match self {
            InsertError::Full { payload, .. } | InsertError::InFlight { payload, .. } => payload,
        }
    }
}

/// One slab slot: an in-flight entry, or a free slot (`payload` is `None`).
#[derive(Debug)]
struct Slot<T> {
    /// The request's sequence number, to unmap it when it leaves from the list side
    /// (expiry, drain).
    seq: u32,
    /// When the response is overdue.
    deadline: Instant,
    /// The entry sent just before this one, or [`NIL`].
    prev: u32,
    /// The entry sent just after this one, or [`NIL`].
    next: u32,
    /// The caller's payload; `None` while the slot is free.
    payload: Option<T>,
}

/// The in-flight requests of one bind (see the module documentation).
#[derive(Debug)]
pub struct Window<T> {
    /// How many entries may be in flight at once.
    size: usize,
    /// How long a response may take; every entry's deadline is its insert time plus this.
    timeout: Duration,
    /// Entry storage, grown up to `size` slots and then reused.
    slots: Vec<Slot<T>>,
    /// Indexes of free slots in `slots`.
    free: Vec<u32>,
    /// Sequence number → slot index, to find the request a response answers.
    by_seq: HashMap<u32, u32>,
    /// The oldest entry (earliest deadline), or [`NIL`].
    head: u32,
    /// The newest entry, or [`NIL`].
    tail: u32,
}

impl<T> Window<T> {
    /// An empty window of `size` entries whose responses are due `response_timeout` after
    /// they are inserted.
    ///
    /// # Errors
    ///
    /// [`WindowSizeError`] when `size` is not in [`SIZES`].
    pub fn new(size: usize, response_timeout: Duration) -> Result<Window<T>, WindowSizeError> {
        if !SIZES.contains(&size) {
            return Err(WindowSizeError(size));
        }
        Ok(Window {
            size,
            timeout: response_timeout,
            slots: Vec::with_capacity(size),
            free: Vec::with_capacity(size),
            // Twice the entries: the table then always rehashes in place, never reallocates.
            by_seq: HashMap::with_capacity(2 * size),
            head: NIL,
            tail: NIL,
        })
    }

    /// The configured window size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many requests are waiting for a response.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    /// Whether no request is waiting for a response.
    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    /// How many more requests may be sent now.
    pub fn room(&self) -> usize {
        self.size.saturating_sub(self.len())
    }

    /// Records request `seq`, sent at `now`, as waiting for its response. Its deadline is
    /// `now` plus the response timeout, but never earlier than the newest entry's, so the
    /// list stays in deadline order even if a caller's clock steps back.
    ///
    /// # Errors
    ///
    /// [`InsertError::Full`] when the window holds `size` entries; [`InsertError::InFlight`]
    /// when `seq` is already waiting. Both hand the payload back.
    pub fn insert(&mut self, seq: u32, payload: T, now: Instant) -> Result<(), InsertError<T>> {
        if self.by_seq.contains_key(&seq) {
            return Err(InsertError::InFlight { seq, payload });
        }
        if self.len() >= self.size {
            return Err(InsertError::Full {
                seq,
                size: self.size,
                payload,
            });
        }
        let mut deadline = now.checked_add(self.timeout).unwrap_or(now);
        if let Some(newest) = self.slots.get(self.tail as usize) {
            deadline = deadline.max(newest.deadline);
        }
        let slot = Slot {
            seq,
            deadline,
            prev: self.tail,
            next: NIL,
            payload: Some(payload),
        };
        let index = match self.free.pop() {
            Some(index) => {
                if let Some(free) = self.slots.get_mut(index as usize) {
                    *free = slot;
                }
                index
            }
            None => {
                // At most `size` (<= MAX_WINDOW) slots ever exist, so the index fits.
                let index = self.slots.len() as u32;
                self.slots.push(slot);
                index
            }
        };
        match self.slots.get_mut(self.tail as usize) {
            Some(newest) => newest.next = index,
            None => self.head = index,
        }
        self.tail = index;
        self.by_seq.insert(seq, index);
        Ok(())
    }

    /// The payload of request `seq`, removed, when its response arrives; `None` when no
    /// request with that sequence number is waiting (already answered, expired, or never
    /// sent: the caller counts it).
    pub fn complete(&mut self, seq: u32) -> Option<T> {
        let index = self.by_seq.remove(&seq)?;
        self.release(index)
    }

    /// The earliest deadline of the waiting requests: the one timer the caller arms.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots.get(self.head as usize).map(|s| s.deadline)
    }

    /// Removes and yields, oldest first, every request whose deadline is at or before `now`
    /// as `(sequence number, payload)`. Entries the caller does not consume stay in the
    /// window.
    pub fn expired(&mut self, now: Instant) -> Expired<'_, T> {
        Expired { window: self, now }
    }

    /// Removes and yields every waiting request as `(sequence number, payload)` in the order
    /// they were sent, for a bind that is lost: none of them will be answered. Entries the
    /// caller does not consume stay in the window.
    pub fn drain(&mut self) -> Drain<'_, T> {
        Drain { window: self }
    }

    /// Removes the oldest entry if `due` says so.
    fn pop_oldest_if(&mut self, due: impl FnOnce(Instant) -> bool) -> Option<(u32, T)> {
        let index = self.head;
        let (seq, deadline) = self
            .slots
            .get(index as usize)
            .map(|s| (s.seq, s.deadline))?;
        if !due(deadline) {
            return None;
        }
        self.by_seq.remove(&seq);
        self.release(index).map(|payload| (seq, payload))
    }

    /// Unlinks slot `index` (already unmapped), frees it and returns its payload.
    fn release(&mut self, index: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        let (prev, next) = (slot.prev, slot.next);
        let payload = slot.payload.take();
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        self.free.push(index);
        payload
    }
}

/// The iterator of [`Window::expired`].
#[derive(Debug)]
pub struct Expired<'a, T> {
    /// The window entries are taken from.
    window: &'a mut Window<T>,
    /// Entries with a deadline at or before this are expired.
    now: Instant,
}

impl<T> Iterator for Expired<'_, T> {
    type Item = (u32, T);

    fn next(&mut self) -> Option<(u32, T)> {
        let now = self.now;
        self.window.pop_oldest_if(|deadline| deadline <= now)
    }
}

/// The iterator of [`Window::drain`].
#[derive(Debug)]
pub struct Drain<'a, T> {
    /// The window entries are taken from.
    window: &'a mut Window<T>,
}

impl<T> Iterator for Drain<'_, T> {
    type Item = (u32, T);

    fn next(&mut self) -> Option<(u32, T)> {
        self.window.pop_oldest_if(|_| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn window(size: usize) -> Window<u64> {
        Window::new(size, TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn window_size_must_be_1_to_1000() {
        assert_eq!(
            Window::<u8>::new(0, TIMEOUT).err(),
            Some(WindowSizeError(0))
        );
        assert_eq!(
            Window::<u8>::new(1001, TIMEOUT).err(),
            Some(WindowSizeError(1001))
        );
        assert!(Window::<u8>::new(1, TIMEOUT).is_ok());
        assert!(Window::<u8>::new(1000, TIMEOUT).is_ok());
        assert_eq!(
            WindowSizeError(0).to_string(),
            "window size 0 is not allowed (1..=1000)"
        );
    }

    #[test]
    fn a_response_returns_its_payload_once() {
        let t0 = Instant::now();
        let mut w = window(4);
        assert!(w.insert(7, 70, t0).is_ok());
        assert!(w.insert(8, 80, t0).is_ok());
        assert_eq!((w.len(), w.room()), (2, 2));
        assert_eq!(w.complete(8), Some(80));
        assert_eq!(w.complete(8), None);
        assert_eq!(w.complete(7), Some(70));
        assert!(w.is_empty());
        assert_eq!(w.room(), 4);
    }

    #[test]
    fn an_unknown_sequence_number_completes_nothing() {
        let t0 = Instant::now();
        let mut w = window(2);
        assert!(w.insert(1, 10, t0).is_ok());
        assert_eq!(w.complete(2), None);
        assert_eq!(w.complete(0), None);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn a_full_window_refuses_and_hands_the_payload_back() {
        let t0 = Instant::now();
        let mut w = window(2);
        assert!(w.insert(1, 10, t0).is_ok());
        assert!(w.insert(2, 20, t0).is_ok());
        let err = w.insert(3, 30, t0).err();
        assert!(
            matches!(
                err,
                Some(InsertError::Full {
                    seq: 3,
                    size: 2,
                    payload: 30
                })
            ),
            "{err:?}"
        );
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("window full (2 in flight): sequence number 3 must wait for a response")
        );
        assert_eq!(w.complete(1), Some(10));
        assert!(w.insert(3, 30, t0).is_ok());
    }

    #[test]
    fn a_sequence_number_in_flight_cannot_be_inserted_twice() {
        let t0 = Instant::now();
        let mut w = window(3);
        assert!(w.insert(5, 50, t0).is_ok());
        let err = w.insert(5, 51, t0).err();
        assert_eq!(
            err.as_ref().map(|e| e.to_string()).as_deref(),
            Some("sequence number 5 is already in flight")
        );
        assert_eq!(err.map(InsertError::into_payload), Some(51));
        assert_eq!(w.complete(5), Some(50));
    }

    #[test]
    fn expired_removes_only_entries_past_their_deadline_oldest_first() {
        let t0 = Instant::now();
        let mut w = window(10);
        for (i, seq) in [3u32, 1, 2].into_iter().enumerate() {
            assert!(w
                .insert(seq, u64::from(seq), t0 + ms(i as u64 * 100))
                .is_ok());
        }
        assert_eq!(w.next_deadline(), Some(t0 + TIMEOUT));
        assert_eq!(w.expired(t0 + TIMEOUT - ms(1)).count(), 0);
        let gone: Vec<_> = w.expired(t0 + TIMEOUT + ms(100)).collect();
        assert_eq!(gone, vec![(3, 3), (1, 1)]);
        assert_eq!(w.next_deadline(), Some(t0 + TIMEOUT + ms(200)));
        assert_eq!(w.len(), 1);
        assert_eq!(w.complete(1), None);
        assert_eq!(w.complete(2), Some(2));
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn completing_the_oldest_moves_the_next_deadline_to_the_next_oldest() {
        let t0 = Instant::now();
        let mut w = window(10);
        assert!(w.insert(1, 1, t0).is_ok());
        assert!(w.insert(2, 2, t0 + ms(5)).is_ok());
        assert!(w.insert(3, 3, t0 + ms(9)).is_ok());
        assert_eq!(w.complete(2), Some(2));
        assert_eq!(w.complete(1), Some(1));
        assert_eq!(w.next_deadline(), Some(t0 + ms(9) + TIMEOUT));
    }

    #[test]
    fn window_drain_returns_every_unanswered_entry_in_sequence_order() {
        let t0 = Instant::now();
        let mut w = window(100);
        for seq in 1..=20u32 {
            assert!(w.insert(seq, u64::from(seq) * 10, t0).is_ok());
        }
        for seq in (2..=20).step_by(3) {
            assert!(w.complete(seq).is_some());
        }
        let drained: Vec<_> = w.drain().collect();
        let expected: Vec<_> = (1..=20u32)
            .filter(|s| (s + 1) % 3 != 0)
            .map(|s| (s, u64::from(s) * 10))
            .collect();
        assert_eq!(drained, expected);
        assert!(w.is_empty());
        assert_eq!(w.next_deadline(), None);
        assert_eq!(w.drain().count(), 0);
    }

    #[test]
    fn sequence_numbers_wrapping_past_0x7fffffff_keep_send_order() {
        // 5.1.4: after 0x7FFFFFFF the next sequence number is 1 again.
        let t0 = Instant::now();
        let mut w = window(10);
        let seqs = [0x7FFF_FFFEu32, 0x7FFF_FFFF, 1, 2];
        for (i, &seq) in seqs.iter().enumerate() {
            assert!(w.insert(seq, i as u64, t0 + ms(i as u64)).is_ok());
        }
        assert_eq!(w.next_deadline(), Some(t0 + TIMEOUT));
        let first: Vec<_> = w.expired(t0 + TIMEOUT + ms(1)).collect();
        assert_eq!(first, vec![(0x7FFF_FFFE, 0), (0x7FFF_FFFF, 1)]);
        let rest: Vec<_> = w.drain().collect();
        assert_eq!(rest, vec![(1, 2), (2, 3)]);
    }

    #[test]
    fn a_clock_that_steps_back_does_not_reorder_deadlines() {
        let t0 = Instant::now() + Duration::from_secs(60);
        let mut w = window(4);
        assert!(w.insert(1, 1, t0).is_ok());
        assert!(w.insert(2, 2, t0 - Duration::from_secs(30)).is_ok());
        assert_eq!(w.expired(t0 + TIMEOUT - ms(1)).count(), 0);
        assert_eq!(
            w.expired(t0 + TIMEOUT).collect::<Vec<_>>(),
            vec![(1, 1), (2, 2)]
        );
    }

    #[test]
    fn an_expired_iterator_dropped_early_leaves_the_rest_in_the_window() {
        let t0 = Instant::now();
        let mut w = window(4);
        for seq in 1..=3 {
            assert!(w.insert(seq, u64::from(seq), t0).is_ok());
        }
        assert_eq!(w.expired(t0 + TIMEOUT).next(), Some((1, 1)));
        assert_eq!(w.len(), 2);
        assert_eq!(w.drain().next(), Some((2, 2)));
        assert_eq!(w.complete(3), Some(3));
    }

    #[test]
    fn slots_are_reused_without_growing() {
        let t0 = Instant::now();
        let mut w = window(100);
        for seq in 1..=100u32 {
            assert!(w.insert(seq, 0, t0).is_ok());
        }
        let (slots, free, map) = (w.slots.capacity(), w.free.capacity(), w.by_seq.capacity());
        for seq in 101..=100_000u32 {
            assert_eq!(w.complete(seq - 100), Some(0));
            assert!(w.insert(seq, 0, t0).is_ok());
        }
        assert_eq!(w.len(), 100);
        assert_eq!((w.slots.capacity(), w.free.capacity()), (slots, free));
        // The map's capacity dips while deleted markers wait for an in-place rehash; a
        // reallocation would have doubled it.
        assert!(
            w.by_seq.capacity() <= map,
            "{} > {map}",
            w.by_seq.capacity()
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u64),
        Complete(u32),
        Expire(u64),
        Drain,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u32..40, 0u64..1000).prop_map(|(s, dt)| Op::Insert(s, dt)),
            4 => (0u32..45).prop_map(Op::Complete),
            1 => (0u64..30_000).prop_map(Op::Expire),
            1 => Just(Op::Drain),
        ]
    }

    proptest! {
        /// The window behaves like a simple model: a map of seq → (send order, deadline).
        #[test]
        fn prop_window_matches_a_model(size in 1usize..12, ops in proptest::collection::vec(op(), 0..200)) {
            let t0 = Instant::now();
            let mut w: Window<u64> = Window::new(size, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
            // seq -> (order, deadline offset ms, payload)
            let mut model: BTreeMap<u32, (u64, u64, u64)> = BTreeMap::new();
            let (mut clock, mut order) = (0u64, 0u64);
            for op in ops {
                match op {
                    Op::Insert(seq, dt) => {
                        clock += dt;
                        let payload = order;
                        let got = w.insert(seq, payload, t0 + ms(clock));
                        if model.contains_key(&seq) {
                            prop_assert!(matches!(got, Err(InsertError::InFlight { .. })), "{:?}", got);
                        } else if model.len() >= size {
                            prop_assert!(matches!(got, Err(InsertError::Full { .. })), "{:?}", got);
                        } else {
                            prop_assert!(got.is_ok());
                            model.insert(seq, (order, clock + 10_000, payload));
                            order += 1;
                        }
                    }
                    Op::Complete(seq) => {
                        prop_assert_eq!(w.complete(seq), model.remove(&seq).map(|e| e.2));
                    }
                    Op::Expire(at) => {
                        let got: Vec<_> = w.expired(t0 + ms(at)).collect();
                        let mut want: Vec<_> = model.iter().filter(|(_, e)| e.1 <= at).map(|(&s, e)| (e.0, s, e.2)).collect();
                        want.sort_unstable();
                        for (_, s, _) in &want {
                            model.remove(s);
                        }
                        prop_assert_eq!(got, want.into_iter().map(|(_, s, p)| (s, p)).collect::<Vec<_>>());
                    }
                    Op::Drain => {
                        let got: Vec<_> = w.drain().collect();
                        let mut want: Vec<_> = model.iter().map(|(&s, e)| (e.0, s, e.2)).collect();
                        want.sort_unstable();
                        model.clear();
                        prop_assert_eq!(got, want.into_iter().map(|(_, s, p)| (s, p)).collect::<Vec<_>>());
                    }
                }
                prop_assert_eq!(w.len(), model.len());
                prop_assert_eq!(w.room(), size - model.len());
                let earliest = model.values().map(|e| e.1).min();
                prop_assert_eq!(w.next_deadline(), earliest.map(|d| t0 + ms(d)));
            }
        }
    }
}
