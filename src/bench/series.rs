//! The run's time series: per second since the start, how many messages were accepted,
//! submitted and receipted, the accept latency's p99 among those accepted in that second,
//! and the gateway's resident memory last sampled in it.

use hdrhistogram::Histogram;
use serde::Serialize;

/// One second of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondRow {
    /// Seconds since the run started (this row covers `[second, second + 1)`).
    pub second: u64,
    /// Accepts answered in it.
    pub accepted: u64,
    /// Messages submitted to the carrier in it (their first `submitted` event).
    pub submitted: u64,
    /// Messages delivered in it (their receipt).
    pub receipted: u64,
    /// The p99 of the accept latency of the messages accepted in it (ms); null when none.
    pub accept_p99_ms: Option<f64>,
    /// The gateway's VmRSS last sampled in it (KiB); null when not sampled.
    pub rss_kib: Option<u64>,
}

#[derive(Debug, Default)]
struct Bucket {
    accepted: u64,
    submitted: u64,
    receipted: u64,
    accept: Option<Histogram<u64>>,
    rss_kib: Option<u64>,
}

/// Counts bucketed by the second they happened in (times in µs since the run's start).
#[derive(Debug, Default)]
pub struct Series {
    buckets: Vec<Bucket>,
}

/// Seconds are capped at this: a wild timestamp must not allocate a day of buckets.
const MAX_SECONDS: u64 = 7 * 24 * 3600;

impl Series {
    /// An empty series.
    pub fn new() -> Series {
        Series::default()
    }

    fn bucket(&mut self, at_us: u64) -> &mut Bucket {
        let second = (at_us / 1_000_000).min(MAX_SECONDS) as usize;
        if self.buckets.len() <= second {
            self.buckets.resize_with(second + 1, Bucket::default);
        }
        &mut self.buckets[second]
    }

    /// An accept answered at `at_us` after `latency_us`.
    pub fn accept(&mut self, at_us: u64, latency_us: u64) {
        let bucket = self.bucket(at_us);
        bucket.accepted += 1;
        if bucket.accept.is_none() {
            // Two significant digits: enough for a chart, and small.
            bucket.accept = Histogram::new_with_bounds(1, 86_400_000_000, 2).ok();
        }
        if let Some(hist) = &mut bucket.accept {
            hist.saturating_record(latency_us.max(1));
        }
    }

    /// A message submitted at `at_us`.
    pub fn submit(&mut self, at_us: u64) {
        self.bucket(at_us).submitted += 1;
    }

    /// A receipt at `at_us`.
    pub fn receipt(&mut self, at_us: u64) {
        self.bucket(at_us).receipted += 1;
    }

    /// The gateway's resident memory sampled at `at_us`.
    pub fn rss(&mut self, at_us: u64, kib: u64) {
        self.bucket(at_us).rss_kib = Some(kib);
    }

    /// Every second from the start to the last one with something in it.
    pub fn rows(&self) -> Vec<SecondRow> {
        self.buckets
            .iter()
            .enumerate()
            .map(|(second, b)| SecondRow {
                second: second as u64,
                accepted: b.accepted,
                submitted: b.submitted,
                receipted: b.receipted,
                accept_p99_ms: b
                    .accept
                    .as_ref()
                    .map(|h| h.value_at_quantile(0.99) as f64 / 1000.0),
                rss_kib: b.rss_kib,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_fall_in_the_second_they_happened_in() {
        let mut s = Series::new();
        s.accept(0, 1_000);
        s.accept(999_999, 3_000);
        s.accept(1_000_000, 2_000);
        s.submit(1_500_000);
        s.submit(2_999_999);
        s.receipt(3_000_000);
        s.rss(2_100_000, 100);
        s.rss(2_900_000, 120);
        let rows = s.rows();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows.iter().map(|r| r.accepted).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert_eq!(
            rows.iter().map(|r| r.submitted).collect::<Vec<_>>(),
            [0, 1, 1, 0]
        );
        assert_eq!(
            rows.iter().map(|r| r.receipted).collect::<Vec<_>>(),
            [0, 0, 0, 1]
        );
        assert_eq!(rows[2].rss_kib, Some(120), "the last sample of the second");
        assert_eq!(rows[0].rss_kib, None);
        assert_eq!(rows[3].second, 3);
    }

    #[test]
    fn the_p99_is_of_the_accepts_of_that_second_only() {
        let mut s = Series::new();
        for _ in 0..99 {
            s.accept(100, 1_000);
        }
        s.accept(200, 50_000);
        s.accept(1_200_000, 7_000);
        let rows = s.rows();
        let p99 = rows[0].accept_p99_ms.unwrap();
        assert!((0.99..=1.01).contains(&p99), "{p99}");
        let p99 = rows[1].accept_p99_ms.unwrap();
        assert!((6.9..=7.1).contains(&p99), "{p99}");
        s.submit(5_000_000);
        assert_eq!(s.rows()[3].accept_p99_ms, None, "no accepts in that second");
    }

    #[test]
    fn a_wild_timestamp_is_capped() {
        let mut s = Series::new();
        s.receipt(u64::MAX);
        assert_eq!(s.rows().len() as u64, MAX_SECONDS + 1);
    }
}
