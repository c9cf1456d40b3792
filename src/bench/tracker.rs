//! What the bench knows of each message it sent: when it was accepted, submitted and
//! final (from the event stream, which may tell of a message before its submit's answer
//! is in), and the counts, histograms and time series built from it.

use super::report::{rate, Counts, Latencies, Latency, MemorySample, Rates};
use super::series::{SecondRow, Series};
use crate::api::proto::{EventBody, EventLine};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

/// The run's clock: µs since its start, for both the bench's instants and the gateway's
/// event times (unix ms, so 1 ms resolution).
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    /// The start, as unix µs.
    pub start_unix_us: u64,
}

impl Clock {
    /// Now is the start.
    pub fn start() -> Clock {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        Clock {
            start: Instant::now(),
            start_unix_us: unix,
        }
    }

    /// `at` as µs since the start.
    pub fn us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_micros() as u64
    }

    /// A gateway time (unix ms) as µs since the start (0 when before it).
    pub fn since_unix_ms(&self, ms: u64) -> u64 {
        (ms.saturating_mul(1000)).saturating_sub(self.start_unix_us)
    }
}

/// How a message counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// The run waits for its submit and receipt, and counts it missing without them.
    pub awaited: bool,
    /// Its accept → submit goes to the otp histogram too.
    pub otp: bool,
    /// It is one of the run's messages (counted, in the histograms); not: a verification's
    /// SMS, only watched for.
    pub counted: bool,
}

impl Flags {
    /// A measured message the run waits for.
    pub fn awaited() -> Flags {
        Flags {
            awaited: true,
            otp: false,
            counted: true,
        }
    }
    /// A measured message the run does not wait for (a queue to stand behind).
    pub fn background() -> Flags {
        Flags {
            awaited: false,
            otp: false,
            counted: true,
        }
    }
    /// An otp message the run waits for.
    pub fn otp() -> Flags {
        Flags {
            awaited: true,
            otp: true,
            counted: true,
        }
    }
    fn watched() -> Flags {
        Flags {
            awaited: false,
            otp: false,
            counted: false,
        }
    }
}

#[derive(Debug)]
struct Entry {
    flags: Flags,
    /// When the bench had the accept's answer.
    accepted_us: u64,
    /// When the gateway accepted it (its `queued` event, gateway clock): the start of its
    /// accept → submit and accept → receipt, as the events' times are the gateway's too.
    queued_us: Option<u64>,
    submitted: bool,
    done: bool,
    waiter: Option<oneshot::Sender<()>>,
}

/// What the event stream said of a message not known yet.
#[derive(Debug, Default, Clone, Copy)]
struct Early {
    queued_us: Option<u64>,
    submitted_us: Option<u64>,
    final_us: Option<(u64, bool)>,
}

/// Histograms of µs, 3 significant digits.
fn histogram() -> Option<Histogram<u64>> {
    // 1 µs to a day, saturating beyond.
    Histogram::new_with_bounds(1, 86_400_000_000, 3).ok()
}

fn record(hist: &mut Option<Histogram<u64>>, us: u64) {
    if let Some(h) = hist {
        h.saturating_record(us.max(1));
    }
}

fn latency(hist: &Option<Histogram<u64>>) -> Option<Latency> {
    hist.as_ref().and_then(Latency::of)
}

/// The message id as a key: its number (ids are decimal), else a hash of it.
fn key(id: &str) -> u64 {
    id.parse().unwrap_or_else(|_| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish() | (1 << 63)
    })
}

/// Everything measured so far.
pub struct Tracker {
    entries: HashMap<u64, Entry>,
    early: HashMap<u64, Early>,
    /// The time series.
    pub series: Series,
    accept: Option<Histogram<u64>>,
    submit: Option<Histogram<u64>>,
    receipt: Option<Histogram<u64>>,
    otp_submit: Option<Histogram<u64>>,
    verify_start: Option<Histogram<u64>>,
    verify_check: Option<Histogram<u64>>,
    verify_pair: Option<Histogram<u64>>,
    /// The counts.
    pub counts: Counts,
    /// Awaited messages accepted in all.
    pub awaited: u64,
    /// Awaited messages not final yet.
    pub open: u64,
    /// Awaited messages with neither a submit nor a final state yet.
    pub unsubmitted: u64,
    last_accept_us: u64,
    last_submit_us: u64,
    last_receipt_us: u64,
    last_pair_us: u64,
    pid: Option<u32>,
    /// Accept counts at which the gateway's memory is sampled, the next first.
    memory_points: Vec<u64>,
    /// The samples taken.
    pub memory_samples: Vec<MemorySample>,
}

impl Tracker {
    /// Nothing measured; the gateway's memory read from `pid` where sampled.
    pub fn new(pid: Option<u32>) -> Tracker {
        Tracker {
            entries: HashMap::new(),
            early: HashMap::new(),
            series: Series::new(),
            accept: histogram(),
            submit: histogram(),
            receipt: histogram(),
            otp_submit: histogram(),
            verify_start: histogram(),
            verify_check: histogram(),
            verify_pair: histogram(),
            counts: Counts::default(),
            awaited: 0,
            open: 0,
            unsubmitted: 0,
            last_accept_us: 0,
            last_submit_us: 0,
            last_receipt_us: 0,
            last_pair_us: 0,
            pid,
            memory_points: Vec::new(),
            memory_samples: Vec::new(),
        }
    }

    /// Sample the memory at 0, each 10 % of `n` accepts, and `n`; the first now.
    pub fn memory_points(&mut self, n: u64) {
        let mut points: Vec<u64> = (1..=10).map(|tenth| n * tenth / 10).collect();
        points.dedup();
        points.reverse();
        self.memory_points = points;
        self.sample_memory(0, 0);
    }

    fn sample_memory(&mut self, queued: u64, at_us: u64) {
        if let Some(rss) = self.pid.and_then(super::gateway::Rss::of) {
            self.memory_samples.push(MemorySample {
                queued,
                at_s: at_us as f64 / 1e6,
                rss_kib: rss.rss_kib,
                hwm_kib: rss.hwm_kib,
            });
        }
    }

    /// A request answered with an error (or lost).
    pub fn error(&mut self, code: &str) {
        *self.counts.errors.entry(code.to_owned()).or_default() += 1;
    }

    /// Message `id` accepted at `now_us`, its request sent (or due) at `sent_us`.
    pub fn accepted(&mut self, id: &str, sent_us: u64, now_us: u64, flags: Flags) {
        self.counts.accepted += 1;
        record(&mut self.accept, now_us.saturating_sub(sent_us));
        self.series.accept(now_us, now_us.saturating_sub(sent_us));
        self.last_accept_us = self.last_accept_us.max(now_us);
        if self.memory_points.last() == Some(&self.counts.accepted) {
            self.memory_points.pop();
            self.sample_memory(self.counts.accepted, now_us);
        }
        self.insert(key(id), now_us, flags, None);
    }

    /// Watches for message `id` (a verification's SMS) to be submitted or final: the
    /// receiver fires then.
    pub fn watch(&mut self, id: &str, now_us: u64) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.insert(key(id), now_us, Flags::watched(), Some(tx));
        rx
    }

    fn insert(
        &mut self,
        key: u64,
        accepted_us: u64,
        flags: Flags,
        waiter: Option<oneshot::Sender<()>>,
    ) {
        if flags.awaited {
            self.awaited += 1;
            self.open += 1;
            self.unsubmitted += 1;
        }
        self.entries.insert(
            key,
            Entry {
                flags,
                accepted_us,
                queued_us: None,
                submitted: false,
                done: false,
                waiter,
            },
        );
        if let Some(early) = self.early.remove(&key) {
            if let (Some(at), Some(e)) = (early.queued_us, self.entries.get_mut(&key)) {
                e.queued_us = Some(at);
            }
            if let Some(at) = early.submitted_us {
                self.apply(key, true, None, at);
            }
            if let Some((at, delivered)) = early.final_us {
                self.apply(key, false, Some(delivered), at);
            }
        }
    }

    /// An event from the stream.
    pub fn event(&mut self, line: &EventLine, clock: &Clock) {
        let EventBody::Message {
            message_id,
            state,
            is_final,
            segment_state,
            ..
        } = &line.event
        else {
            return;
        };
        let at = clock.since_unix_ms(line.at);
        let delivered = state == "delivered";
        let submitted =
            state == "submitted" || segment_state.as_deref() == Some("submitted") || delivered;
        let done = is_final.then_some(delivered);
        let queued = state == "queued" && !is_final;
        let key = key(message_id);
        if let Some(e) = self.entries.get_mut(&key) {
            if queued && e.queued_us.is_none() {
                e.queued_us = Some(at);
            }
            if submitted {
                self.apply(key, true, None, at);
            }
            if done.is_some() {
                self.apply(key, false, done, at);
            }
        } else {
            let early = self.early.entry(key).or_default();
            if queued && early.queued_us.is_none() {
                early.queued_us = Some(at);
            }
            if submitted && early.submitted_us.is_none() {
                early.submitted_us = Some(at);
            }
            if let Some(delivered) = done {
                early.final_us.get_or_insert((at, delivered));
            }
        }
    }

    /// `submitted` (or, with `done`, final: delivered or not) at `at` for a known message.
    fn apply(&mut self, key: u64, submitted: bool, done: Option<bool>, at: u64) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        let start = e.queued_us.unwrap_or(e.accepted_us);
        let (flags, since) = (e.flags, at.saturating_sub(start));
        if submitted && !e.submitted {
            e.submitted = true;
            if flags.awaited && !e.done {
                self.unsubmitted = self.unsubmitted.saturating_sub(1);
            }
            if let Some(w) = e.waiter.take() {
                let _ = w.send(());
            }
            if flags.counted {
                self.counts.submitted += 1;
                record(&mut self.submit, since);
                if flags.otp {
                    record(&mut self.otp_submit, since);
                }
                self.series.submit(at);
                self.last_submit_us = self.last_submit_us.max(at);
            }
        }
        if let Some(delivered) = done {
            if e.done {
                return;
            }
            e.done = true;
            if let Some(w) = e.waiter.take() {
                let _ = w.send(());
            }
            if flags.awaited {
                self.open = self.open.saturating_sub(1);
                if !e.submitted {
                    self.unsubmitted = self.unsubmitted.saturating_sub(1);
                }
            }
            if flags.counted {
                if delivered {
                    self.counts.receipted += 1;
                    record(&mut self.receipt, since);
                    self.series.receipt(at);
                    self.last_receipt_us = self.last_receipt_us.max(at);
                } else {
                    self.counts.failed += 1;
                }
            }
        }
    }

    /// A verify.start sent (or due) at `sent_us`, answered at `now_us`.
    pub fn verify_started(&mut self, sent_us: u64, now_us: u64) {
        record(&mut self.verify_start, now_us.saturating_sub(sent_us));
    }

    /// A verify.check sent at `check_us`, answered at `now_us`, of a pair started at
    /// `sent_us`.
    pub fn verify_checked(&mut self, approved: bool, sent_us: u64, check_us: u64, now_us: u64) {
        record(&mut self.verify_check, now_us.saturating_sub(check_us));
        if approved {
            self.counts.approved += 1;
            record(&mut self.verify_pair, now_us.saturating_sub(sent_us));
            self.last_pair_us = self.last_pair_us.max(now_us);
        } else {
            self.counts.not_approved += 1;
        }
    }

    /// The counts (with what is missing), rates, latencies and the series.
    pub fn finish(&mut self, _clock: &Clock) -> (Counts, Rates, Latencies, Vec<SecondRow>) {
        let mut counts = self.counts.clone();
        counts.missing_submits = self.unsubmitted;
        counts.missing_receipts = self.open;
        let secs = |us: u64| us as f64 / 1e6;
        let rates = Rates {
            accepted_per_s: rate(counts.accepted, secs(self.last_accept_us)),
            submitted_per_s: rate(counts.submitted, secs(self.last_submit_us)),
            receipted_per_s: rate(counts.receipted, secs(self.last_receipt_us)),
            pairs_per_s: rate(counts.approved, secs(self.last_pair_us)),
        };
        let latencies = Latencies {
            accept: latency(&self.accept),
            submit: latency(&self.submit),
            receipt: latency(&self.receipt),
            otp_submit: latency(&self.otp_submit),
            verify_start: latency(&self.verify_start),
            verify_check: latency(&self.verify_check),
            verify_pair: latency(&self.verify_pair),
        };
        (counts, rates, latencies, self.series.rows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(clock: &Clock, id: &str, state: &str, is_final: bool, after_ms: u64) -> EventLine {
        serde_json::from_value(json!({
            "sub": "s", "cursor": 1, "at": clock.start_unix_us / 1000 + after_ms,
            "event": {"type": "message", "message_id": id, "state": state, "final": is_final,
                      "carrier": "sim", "segment": 1, "segment_state": state, "detail": null}
        }))
        .unwrap()
    }

    #[test]
    fn a_message_is_accepted_submitted_and_receipted() {
        let clock = Clock::start();
        let mut t = Tracker::new(None);
        t.accepted("1", 0, 2_000, Flags::awaited());
        t.accepted("2", 0, 3_000, Flags::awaited());
        assert_eq!((t.open, t.unsubmitted), (2, 2));
        t.event(&event(&clock, "1", "submitted", false, 10), &clock);
        t.event(&event(&clock, "1", "delivered", true, 50), &clock);
        t.event(&event(&clock, "2", "undeliverable", true, 60), &clock);
        t.event(&event(&clock, "99", "delivered", true, 60), &clock);
        let (c, r, l, _) = t.finish(&clock);
        assert_eq!(
            (c.accepted, c.submitted, c.receipted, c.failed),
            (2, 1, 1, 1)
        );
        assert_eq!((c.missing_submits, c.missing_receipts), (0, 0));
        let submit = l.submit.unwrap();
        assert!((7.0..=10.1).contains(&submit.p50), "{}", submit.p50);
        assert!(r.accepted_per_s > 0.0);
        assert!(l.receipt.unwrap().p50 >= 46.0);
        assert!(l.otp_submit.is_none());
    }

    #[test]
    fn an_event_before_the_accept_is_kept_for_it() {
        let clock = Clock::start();
        let mut t = Tracker::new(None);
        t.event(&event(&clock, "7", "submitted", false, 5), &clock);
        t.event(&event(&clock, "7", "delivered", true, 9), &clock);
        t.accepted("7", 0, 1_000, Flags::otp());
        let (c, _, l, _) = t.finish(&clock);
        assert_eq!((c.submitted, c.receipted, c.missing_receipts), (1, 1, 0));
        assert!(l.otp_submit.is_some());
    }

    #[test]
    fn the_gateway_s_own_accept_time_is_the_start_when_known() {
        let clock = Clock::start();
        let mut t = Tracker::new(None);
        t.event(&event(&clock, "3", "queued", false, 100), &clock);
        // The answer reached the bench late, after the submit.
        t.accepted("3", 0, 130_000, Flags::otp());
        t.event(&event(&clock, "3", "submitted", false, 104), &clock);
        t.event(&event(&clock, "3", "delivered", true, 150), &clock);
        let (_, _, l, _) = t.finish(&clock);
        let otp = l.otp_submit.unwrap();
        assert!((3.9..=4.1).contains(&otp.p50), "{}", otp.p50);
        let receipt = l.receipt.unwrap();
        assert!((49.9..=50.1).contains(&receipt.p50), "{}", receipt.p50);
    }

    #[test]
    fn what_never_arrives_is_missing() {
        let clock = Clock::start();
        let mut t = Tracker::new(None);
        t.accepted("1", 0, 1, Flags::awaited());
        t.accepted("2", 0, 1, Flags::awaited());
        t.accepted("3", 0, 1, Flags::background());
        t.event(&event(&clock, "1", "submitted", false, 5), &clock);
        let (c, _, _, _) = t.finish(&clock);
        assert_eq!((c.missing_submits, c.missing_receipts), (1, 2));
        assert_eq!(
            c.accepted, 3,
            "a background message counts, but is not awaited"
        );
    }

    #[test]
    fn a_watched_sms_fires_and_is_not_counted() {
        let clock = Clock::start();
        let mut t = Tracker::new(None);
        let mut rx = t.watch("5", 0);
        assert!(rx.try_recv().is_err());
        t.event(&event(&clock, "5", "submitted", false, 5), &clock);
        assert!(rx.try_recv().is_ok());
        let (c, _, _, _) = t.finish(&clock);
        assert_eq!((c.accepted, c.submitted), (0, 0));
        let mut rx = {
            t.event(&event(&clock, "6", "submitted", false, 5), &clock);
            t.watch("6", 10)
        };
        assert!(rx.try_recv().is_ok(), "the early event fires it at once");
    }

    #[test]
    fn memory_is_sampled_at_each_tenth() {
        let mut t = Tracker::new(Some(std::process::id()));
        t.memory_points(100);
        for i in 0..100 {
            t.accepted(&i.to_string(), 0, 1, Flags::background());
        }
        let queued: Vec<u64> = t.memory_samples.iter().map(|s| s.queued).collect();
        assert_eq!(queued, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert!(t.memory_samples.iter().all(|s| s.rss_kib > 0));
    }

    #[test]
    fn ids_are_keys() {
        assert_eq!(key("42"), 42);
        assert_ne!(key("abc"), key("abd"));
        assert!(key("abc") >= 1 << 63);
    }
}
