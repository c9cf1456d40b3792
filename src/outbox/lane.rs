//! The outbox's fast lane: jobs that must not wait behind the outbox's mailbox.
//!
//! The Outbox actor is the gateway's busiest thread, and its mailbox is one FIFO: under a
//! long bulk run, receipts and submit results of every bind queue there, and a pull or an
//! otp message's result waits behind all of them (measured: up to 40 ms for one pull,
//! twice on an otp message's way, see docs/performance.md). A [`Lane`] is a second queue
//! beside the mailbox. The actor takes everything in it at the start of every handler turn,
//! whatever message the turn is for, so a job waits at most for the turn under way; when the
//! actor is idle, a wake-up runs it at once.
//!
//! What goes here is what an otp message's latency is made of and what is small: the
//! pools' pulls (one in flight per carrier), the results of submits that carried an otp
//! message, and otp submits. Everything else keeps the mailbox and its back-pressure.
//!
//! The lane is a plain queue, so its rules are tested without an actor: jobs come out in
//! the order they went in; once the one [`LaneReceiver`] is dropped (the actor ended, or
//! never started) a push is handed back and every job still queued is dropped, so its
//! sender sees its answer channel closed instead of waiting for ever.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// The senders' side of a queue of jobs for one consumer. Clones share it.
pub struct Lane<J> {
    inner: Arc<Inner<J>>,
}

impl<J> Clone for Lane<J> {
    fn clone(&self) -> Self {
        Lane {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// The consumer's side: takes the jobs, waits for wake-ups, and closes the lane when
/// dropped.
pub struct LaneReceiver<J> {
    inner: Arc<Inner<J>>,
}

struct Inner<J> {
    jobs: Mutex<VecDeque<J>>,
    /// Jobs queued, read without the lock by the consumer's every turn.
    queued: AtomicUsize,
    closed: AtomicBool,
    wake: Notify,
}

/// A new, open and empty lane.
pub fn lane<J>() -> (Lane<J>, LaneReceiver<J>) {
    let inner = Arc::new(Inner {
        jobs: Mutex::new(VecDeque::new()),
        queued: AtomicUsize::new(0),
        closed: AtomicBool::new(false),
        wake: Notify::new(),
    });
    (
        Lane {
            inner: Arc::clone(&inner),
        },
        LaneReceiver { inner },
    )
}

impl<J> Lane<J> {
    /// Queues `job` and wakes the consumer.
    ///
    /// # Errors
    /// The job itself, when the consumer is gone.
    pub fn push(&self, job: J) -> Result<(), J> {
        {
            let mut jobs = self.inner.jobs.lock();
            // Checked under the lock: closing sets the flag and empties the queue under
            // it, so no job is left behind in a closed lane.
            if self.inner.closed.load(Ordering::Acquire) {
                return Err(job);
            }
            jobs.push_back(job);
            self.inner.queued.store(jobs.len(), Ordering::Release);
        }
        self.inner.wake.notify_one();
        Ok(())
    }
}

impl<J> LaneReceiver<J> {
    /// Whether a job waits (no lock taken).
    pub fn is_pending(&self) -> bool {
        self.inner.queued.load(Ordering::Acquire) > 0
    }

    /// Every job queued, oldest first.
    pub fn take(&self) -> VecDeque<J> {
        let mut jobs = self.inner.jobs.lock();
        self.inner.queued.store(0, Ordering::Release);
        std::mem::take(&mut *jobs)
    }

    /// Resolves once a job may have been pushed since the last wake-up (a push while
    /// nobody waited leaves one wake-up stored). Holds no borrow, so an actor can wait on
    /// it in its context.
    pub fn woken(&self) -> impl std::future::Future<Output = ()> + 'static
    where
        J: 'static,
    {
        let inner = Arc::clone(&self.inner);
        async move { inner.wake.notified().await }
    }
}

impl<J> Drop for LaneReceiver<J> {
    /// Refuses every later push and drops the jobs still queued.
    fn drop(&mut self) {
        let dropped = {
            let mut jobs = self.inner.jobs.lock();
            self.inner.closed.store(true, Ordering::Release);
            self.inner.queued.store(0, Ordering::Release);
            std::mem::take(&mut *jobs)
        };
        // Outside the lock: dropping a job may run its answer channel's wake-ups.
        drop(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_come_out_in_the_order_they_went_in() {
        let (lane, receiver) = lane();
        assert!(!receiver.is_pending());
        for i in 0..5 {
            assert!(lane.push(i).is_ok());
        }
        assert!(receiver.is_pending());
        assert_eq!(
            receiver.take().into_iter().collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
        assert!(!receiver.is_pending());
        assert!(receiver.take().is_empty());
    }

    #[test]
    fn without_its_receiver_a_lane_hands_the_job_back_and_drops_what_was_queued() {
        let (lane, receiver) = lane();
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        assert!(lane.push(tx).is_ok());
        drop(receiver);
        // The queued job was dropped: its answer channel is closed.
        assert!(matches!(
            rx.try_recv(),
            Err(tokio::sync::oneshot::error::TryRecvError::Closed)
        ));
        let (tx2, _rx2) = tokio::sync::oneshot::channel::<()>();
        assert!(lane.push(tx2).is_err());
    }

    #[tokio::test]
    async fn a_push_wakes_a_consumer_that_waits_or_will_wait() {
        let (lane, receiver) = lane::<u32>();
        // A push before anyone waits leaves the wake-up stored.
        assert!(lane.push(1).is_ok());
        receiver.woken().await;
        assert_eq!(receiver.take().len(), 1);
        // A consumer already waiting is woken by the next push.
        let waiter = tokio::spawn(async move {
            receiver.woken().await;
            receiver.take().into_iter().collect::<Vec<_>>()
        });
        tokio::task::yield_now().await;
        assert!(lane.push(7).is_ok());
        assert_eq!(waiter.await.ok(), Some(vec![7]));
    }
}
