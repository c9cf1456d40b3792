//! One delivery's life as plain data: what is stored, how an attempt's answer is read
//! ([`Outcome::of_status`]), and when the next attempt is or that there is none
//! ([`Delivery::record`]). The clock and the jitter are passed in, so tests drive the
//! whole schedule without a socket or a sleep.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The retry schedule, from `[webhooks]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first retry's ceiling (ms); each further one doubles it.
    pub base_ms: u64,
    /// The highest ceiling (ms).
    pub max_ms: u64,
    /// How long after it was made a delivery is still tried (ms).
    pub max_age_ms: u64,
}

impl RetryPolicy {
    /// From the configuration's durations.
    pub fn new(base: Duration, max: Duration, max_age: Duration) -> RetryPolicy {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        RetryPolicy {
            base_ms: ms(base).max(1),
            max_ms: ms(max).max(ms(base)).max(1),
            max_age_ms: ms(max_age),
        }
    }

    /// The ceiling of the wait after the `attempts`-th failed attempt (1-based):
    /// `base * 2^(attempts-1)`, at most `max`.
    pub fn ceiling_ms(&self, attempts: u32) -> u64 {
        let doublings = attempts.saturating_sub(1).min(63);
        self.base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_ms)
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: the receiver has it.
    Acked,
    /// Worth another try: a 5xx, a 429, a timeout, a connection that failed.
    Retry {
        /// The wait the receiver asked for (Retry-After), ms.
        retry_after_ms: Option<u64>,
        /// What happened, for the record and the dead letter.
        reason: String,
    },
    /// Refused for good (any other status): a dead letter at once.
    Reject {
        /// What happened.
        reason: String,
    },
}

impl Outcome {
    /// Reads an HTTP answer: its status and its `Retry-After` (seconds, or an HTTP date
    /// relative to `now_ms`).
    pub fn of_status(status: u16, retry_after: Option<&str>, now_ms: u64) -> Outcome {
        match status {
            200..=299 => Outcome::Acked,
            429 | 500..=599 => Outcome::Retry {
                retry_after_ms: retry_after.and_then(|v| retry_after_ms(v, now_ms)),
                reason: format!("HTTP {status}"),
            },
            _ => Outcome::Reject {
                reason: format!("HTTP {status}"),
            },
        }
    }
}

/// `Retry-After` (RFC 9110 10.2.3): delta-seconds or an HTTP date.
fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())?;
    Some(at_ms.saturating_sub(now_ms))
}

/// What comes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Acknowledged: the delivery is done.
    Done,
    /// Try again at this time (unix ms).
    RetryAt(u64),
    /// No more tries: it is a dead letter now.
    Dead,
}

/// One webhook to send, as stored: the body is made once, so every attempt (and a
/// replay) sends the same bytes under the same event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its id: the sequence number of the event it was made from (unique, ordered).
    pub id: u64,
    /// The event id the receiver deduplicates by (`Smsgate-Event-Id`).
    pub event_id: String,
    /// The API token whose webhook it goes to.
    pub owner: String,
    /// The JSON body.
    pub body: String,
    /// When it was made, or last replayed (unix ms): `max_age` counts from here.
    pub created_at: u64,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (unix ms).
    pub next_at: u64,
    /// What the last failed attempt came to.
    pub last_error: Option<String>,
    /// When it became a dead letter (unix ms).
    pub dead_at: Option<u64>,
}

impl Delivery {
    /// A new delivery, due at once.
    pub fn new(id: u64, event_id: String, owner: String, body: String, now: u64) -> Delivery {
        Delivery {
            id,
            event_id,
            owner,
            body,
            created_at: now,
            attempts: 0,
            next_at: now,
            last_error: None,
            dead_at: None,
        }
    }

    /// Records an attempt's outcome at `now`; `jitter(n)` draws uniformly from `0..=n`
    /// (full jitter). A retry waits the jittered backoff, or the receiver's Retry-After
    /// when that is longer; a retry that would come after `max_age` is not made.
    pub fn record(
        &mut self,
        outcome: Outcome,
        policy: &RetryPolicy,
        now: u64,
        jitter: &mut impl FnMut(u64) -> u64,
    ) -> Next {
        self.attempts = self.attempts.saturating_add(1);
        match outcome {
            Outcome::Acked => {
                self.last_error = None;
                Next::Done
            }
            Outcome::Reject { reason } => {
                self.last_error = Some(reason);
                self.dead_at = Some(now);
                Next::Dead
            }
            Outcome::Retry {
                retry_after_ms,
                reason,
            } => {
                let ceiling = policy.ceiling_ms(self.attempts);
                let wait = jitter(ceiling)
                    .min(ceiling)
                    .max(retry_after_ms.unwrap_or(0));
                let next = now.saturating_add(wait);
                let deadline = self.created_at.saturating_add(policy.max_age_ms);
                if next > deadline {
                    self.last_error = Some(format!(
                        "{reason}; gave up after {} attempts (max_age)",
                        self.attempts
                    ));
                    self.dead_at = Some(now);
                    Next::Dead
                } else {
                    self.last_error = Some(reason);
                    self.next_at = next;
                    Next::RetryAt(next)
                }
            }
        }
    }

    /// Makes a dead letter pending again, due at once, with a fresh `max_age`.
    pub fn revive(&mut self, now: u64) {
        self.dead_at = None;
        self.attempts = 0;
        self.created_at = now;
        self.next_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        base_ms: 1000,
        max_ms: 8000,
        max_age_ms: 60_000,
    };

    fn delivery(now: u64) -> Delivery {
        Delivery::new(
            7,
            "message.7.delivered".into(),
            "shop".into(),
            "{}".into(),
            now,
        )
    }

    fn retry() -> Outcome {
        Outcome::Retry {
            retry_after_ms: None,
            reason: "HTTP 503".into(),
        }
    }

    #[test]
    fn answers_are_read_by_status() {
        assert_eq!(Outcome::of_status(200, None, 0), Outcome::Acked);
        assert_eq!(Outcome::of_status(204, Some("5"), 0), Outcome::Acked);
        assert!(matches!(
            Outcome::of_status(503, None, 0),
            Outcome::Retry {
                retry_after_ms: None,
                ..
            }
        ));
        assert!(matches!(
            Outcome::of_status(429, Some("7"), 0),
            Outcome::Retry {
                retry_after_ms: Some(7000),
                ..
            }
        ));
        // An HTTP date: the wait is until then.
        let now = 1_700_000_000_000;
        let at = std::time::UNIX_EPOCH + Duration::from_millis(now + 30_000);
        let date = httpdate::fmt_http_date(at);
        assert!(matches!(
            Outcome::of_status(503, Some(&date), now),
            Outcome::Retry { retry_after_ms: Some(ms), .. } if (29_000..=30_000).contains(&ms)
        ));
        for status in [400, 401, 404, 410, 301] {
            assert!(
                matches!(Outcome::of_status(status, None, 0), Outcome::Reject { .. }),
                "{status}"
            );
        }
    }

    #[test]
    fn the_backoff_doubles_to_its_maximum_and_is_fully_jittered() {
        let ceilings: Vec<u64> = (1..=6).map(|n| POLICY.ceiling_ms(n)).collect();
        assert_eq!(ceilings, [1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(POLICY.ceiling_ms(u32::MAX), 8000);
        // The jitter is asked for 0..=ceiling and its draw is the wait.
        let mut d = delivery(0);
        let mut asked = Vec::new();
        let mut half = |n: u64| {
            asked.push(n);
            n / 2
        };
        assert_eq!(
            d.record(retry(), &POLICY, 100, &mut half),
            Next::RetryAt(600)
        );
        assert_eq!(
            d.record(retry(), &POLICY, 600, &mut half),
            Next::RetryAt(1600)
        );
        assert_eq!(
            d.record(retry(), &POLICY, 1600, &mut half),
            Next::RetryAt(3600)
        );
        assert_eq!(asked, [1000, 2000, 4000]);
        assert_eq!(d.attempts, 3);
        assert_eq!(d.last_error.as_deref(), Some("HTTP 503"));
        // A draw of zero retries at once; a draw over the ceiling is cut to it.
        assert_eq!(
            d.record(retry(), &POLICY, 5000, &mut |_| 0),
            Next::RetryAt(5000)
        );
        assert_eq!(
            d.record(retry(), &POLICY, 5000, &mut |_| u64::MAX),
            Next::RetryAt(13_000)
        );
    }

    #[test]
    fn retry_after_is_honoured_when_longer_than_the_backoff() {
        let mut d = delivery(0);
        let asked = Outcome::Retry {
            retry_after_ms: Some(20_000),
            reason: "HTTP 429".into(),
        };
        assert_eq!(
            d.record(asked, &POLICY, 0, &mut |n| n),
            Next::RetryAt(20_000)
        );
        let short = Outcome::Retry {
            retry_after_ms: Some(10),
            reason: "HTTP 429".into(),
        };
        assert_eq!(
            d.record(short, &POLICY, 20_000, &mut |n| n),
            Next::RetryAt(22_000)
        );
    }

    #[test]
    fn a_4xx_is_a_dead_letter_at_once_and_a_2xx_is_done() {
        let mut d = delivery(0);
        let reject = Outcome::Reject {
            reason: "HTTP 400".into(),
        };
        assert_eq!(d.record(reject, &POLICY, 50, &mut |n| n), Next::Dead);
        assert_eq!(d.dead_at, Some(50));
        assert_eq!(d.last_error.as_deref(), Some("HTTP 400"));
        d.revive(1000);
        assert_eq!(
            (d.attempts, d.created_at, d.next_at, d.dead_at),
            (0, 1000, 1000, None)
        );
        assert_eq!(
            d.record(Outcome::Acked, &POLICY, 1001, &mut |n| n),
            Next::Done
        );
        assert_eq!(d.last_error, None);
    }

    #[test]
    fn retries_stop_at_max_age() {
        let mut d = delivery(0);
        let mut now = 0;
        let mut tries = 0;
        loop {
            match d.record(retry(), &POLICY, now, &mut |n| n) {
                Next::RetryAt(at) => {
                    assert!(at <= POLICY.max_age_ms);
                    now = at;
                    tries += 1;
                }
                Next::Dead => break,
                Next::Done => unreachable!(),
            }
            assert!(tries < 100);
        }
        // 1+2+4+8+8+8+8+8+8 = 55 s; the next 8 s would pass the 60 s.
        assert_eq!(now, 55_000);
        assert_eq!(d.attempts, 10);
        assert!(
            d.last_error
                .as_deref()
                .is_some_and(|e| e.contains("max_age")),
            "{:?}",
            d.last_error
        );
        // A Retry-After past max_age gives up too.
        let mut late = delivery(0);
        let far = Outcome::Retry {
            retry_after_ms: Some(61_000),
            reason: "HTTP 503".into(),
        };
        assert_eq!(late.record(far, &POLICY, 0, &mut |n| n), Next::Dead);
    }
}
