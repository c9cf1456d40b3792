//! The open-loop schedule of a paced run (`--rate R`): message `i` is due `i / R` seconds
//! after the start, whatever happened to the ones before it. Latency is measured from the
//! due time, not from when the request could go out, so a gateway that stalls cannot hide
//! the queue it caused (no coordinated omission).

use std::time::Duration;

/// When each message is due, relative to the run's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// As fast as the connections allow: every message is due at once and latency is
    /// measured from when its request was sent.
    Unpaced,
    /// `rate` messages a second, evenly spaced.
    Paced {
        /// Messages per second (> 0).
        rate: f64,
    },
}

impl Schedule {
    /// The schedule for `--rate` (none, or not a positive finite number: unpaced).
    pub fn new(rate: Option<f64>) -> Schedule {
        match rate {
            Some(rate) if rate.is_finite() && rate > 0.0 => Schedule::Paced { rate },
            _ => Schedule::Unpaced,
        }
    }

    /// When message `i` (0-based) is due after the start; `None` when unpaced.
    pub fn due(&self, i: u64) -> Option<Duration> {
        match self {
            Schedule::Unpaced => None,
            Schedule::Paced { rate } => Some(Duration::from_secs_f64(i as f64 / rate)),
        }
    }

    /// How long sending `n` messages takes at the least (zero when unpaced).
    pub fn span(&self, n: u64) -> Duration {
        match n {
            0 => Duration::ZERO,
            n => self.due(n - 1).unwrap_or(Duration::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paced_messages_are_evenly_spaced_from_the_start() {
        let s = Schedule::new(Some(50.0));
        assert_eq!(s.due(0), Some(Duration::ZERO));
        assert_eq!(s.due(1), Some(Duration::from_millis(20)));
        assert_eq!(s.due(50), Some(Duration::from_secs(1)));
        assert_eq!(s.due(125), Some(Duration::from_millis(2500)));
        assert_eq!(s.span(51), Duration::from_secs(1));
        let mut last = Duration::ZERO;
        for i in 1..1000 {
            let due = s.due(i).unwrap();
            assert!(due > last, "strictly increasing at {i}");
            last = due;
        }
    }

    #[test]
    fn no_rate_or_a_nonsense_one_is_unpaced() {
        for rate in [
            None,
            Some(0.0),
            Some(-3.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ] {
            let s = Schedule::new(rate);
            assert_eq!(s, Schedule::Unpaced, "{rate:?}");
            assert_eq!(s.due(10), None);
            assert_eq!(s.span(10), Duration::ZERO);
        }
    }

    #[test]
    fn a_high_rate_keeps_sub_millisecond_spacing() {
        let s = Schedule::new(Some(20_000.0));
        assert_eq!(s.due(1), Some(Duration::from_micros(50)));
        assert_eq!(s.due(20_000), Some(Duration::from_secs(1)));
    }
}
