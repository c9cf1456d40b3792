//! Exponential backoff with jitter: how long a bind waits before it reconnects, and how long
//! a message waits before its next attempt after a transient failure. Pure: randomness comes
//! from an injected RNG.
//!
//! **Base.** Step `n` (0 for the first failure) waits `initial × 2ⁿ`, never more than
//! `maximum` (`max` in the configuration). `initial` is 1 ms to 1 h, `maximum` from
//! `initial` to 1 day ([`BackoffPolicy::check`], the one place these ranges are written).
//!
//! **Jitter.** A fraction `j` in 0..=1 of the base is random: the delay is drawn uniformly
//! from `[base × (1 − j), base]`. `j = 1` is "full jitter" (anything from 0 to the base,
//! the best at spreading many clients apart), `j = 0.5` is "equal jitter" (at least half the
//! base), `j = 0` is none. The configuration chooses `j`; the type supports both forms.
//!
//! **Bind refusals.** A refused bind (ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RINVSYSID, ...)
//! will most likely be refused again (5.1.3: the SMSC rejected our credentials or does not
//! want us now), so it is never hammered: it is backed off [`REFUSAL_STEPS`] steps further
//! than a connect failure at the same point (8× the base), and its jitter is capped at
//! one half, so a refusal always waits at least 4× the base a connect failure would get
//! there (or half the maximum once capped), and at least `4 × initial` the very first time.
//! The step then continues from there, so refusals after refusals climb to the maximum
//! quickly. [`Backoff::reset`] after a bind that succeeded starts again from step 0.

use crate::config::duration::Show;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How many doubling steps a refused bind skips ahead of a connect failure.
pub const REFUSAL_STEPS: u32 = 3;

/// The most jitter a refused bind's delay gets (equal jitter), so it never waits less
/// than half its base.
const REFUSAL_MAX_JITTER: f64 = 0.5;

/// The shortest first delay: retrying sooner is hammering.
pub const MIN_INITIAL: Duration = Duration::from_millis(1);

/// The longest first delay.
pub const MAX_INITIAL: Duration = Duration::from_secs(3600);

/// The longest maximum delay.
pub const MAX_MAXIMUM: Duration = Duration::from_secs(86_400);

/// A backoff setting that cannot work. The message quotes the value and the range;
/// [`BackoffError::key`] names the setting.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum BackoffError {
    /// The initial delay is outside [`MIN_INITIAL`]..=[`MAX_INITIAL`] (0 would retry at
    /// once, forever).
    #[error("{} is not allowed ({}..={})", Show(*.0), Show(MIN_INITIAL), Show(MAX_INITIAL))]
    Initial(Duration),
    /// The maximum is shorter than the initial delay.
    #[error("{} is shorter than initial ({})", Show(*.maximum), Show(*.initial))]
    MaximumBelowInitial {
        /// The configured initial delay.
        initial: Duration,
        /// The configured maximum.
        maximum: Duration,
    },
    /// The maximum is longer than [`MAX_MAXIMUM`].
    #[error("{} is not allowed ({}..={})", Show(*.maximum), Show(*.initial), Show(MAX_MAXIMUM))]
    Maximum {
        /// The configured initial delay.
        initial: Duration,
        /// The configured maximum.
        maximum: Duration,
    },
    /// The jitter fraction is not a number in 0..=1.
    #[error("{0} is not allowed (0..=1)")]
    Jitter(f64),
}

impl BackoffError {
    /// The setting the error is about, as the configuration names it: `initial`, `max` or
    /// `jitter`.
    pub fn key(&self) -> &'static str {
        match self {
            BackoffError::Initial(_) => "initial",
            BackoffError::MaximumBelowInitial { .. } | BackoffError::Maximum { .. } => "max",
            BackoffError::Jitter(_) => "jitter",
        }
    }
}

/// The backoff parameters: initial delay, maximum and jitter (see the module documentation).
/// Stateless: [`BackoffPolicy::delay`] takes the step, so a message's retry delay can be
/// computed from the attempt count stored with the message.
///
/// The configuration writes it `{ initial = "1s", max = "60s", jitter = 0.2 }` (each key
/// optional, defaulting to these) and reads it straight into this type; its validation
/// then calls [`BackoffPolicy::check`], so that every configuration error is collected
/// rather than the first ending the read. A policy that was never checked still computes
/// delays without panicking.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackoffPolicy {
    /// The base delay of step 0.
    #[serde(with = "crate::config::duration")]
    initial: Duration,
    /// No base delay exceeds this.
    #[serde(rename = "max", with = "crate::config::duration")]
    maximum: Duration,
    /// The random fraction of the base, 0..=1.
    jitter: f64,
}

impl Default for BackoffPolicy {
    /// 1 s doubling up to 60 s, a fifth of each delay random.
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_secs(1),
            maximum: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

impl BackoffPolicy {
    /// A policy doubling from `initial` up to `maximum`, with `jitter` (0..=1) of each delay
    /// random.
    ///
    /// # Errors
    ///
    /// [`BackoffError`] as [`BackoffPolicy::check`] finds it.
    pub fn new(
        initial: Duration,
        maximum: Duration,
        jitter: f64,
    ) -> Result<BackoffPolicy, BackoffError> {
        let policy = BackoffPolicy {
            initial,
            maximum,
            jitter,
        };
        policy.check().map(|()| policy)
    }

    /// Checks the ranges: `initial` in [`MIN_INITIAL`]..=[`MAX_INITIAL`], `maximum` in
    /// `initial`..=[`MAX_MAXIMUM`], `jitter` in 0..=1.
    ///
    /// # Errors
    ///
    /// The first [`BackoffError`] in that order (NaN jitter included).
    pub fn check(&self) -> Result<(), BackoffError> {
        let BackoffPolicy {
            initial,
            maximum,
            jitter,
        } = *self;
        if !(MIN_INITIAL..=MAX_INITIAL).contains(&initial) {
            return Err(BackoffError::Initial(initial));
        }
        if maximum < initial {
            return Err(BackoffError::MaximumBelowInitial { initial, maximum });
        }
        if maximum > MAX_MAXIMUM {
            return Err(BackoffError::Maximum { initial, maximum });
        }
        // NaN is not contained in any range, so it is refused here too.
        if !(0.0..=1.0).contains(&jitter) {
            return Err(BackoffError::Jitter(jitter));
        }
        Ok(())
    }

    /// No base delay exceeds this.
    pub fn maximum(&self) -> Duration {
        self.maximum
    }

    /// The delay before any jitter at `step`: `initial × 2^step`, capped at the maximum.
    pub fn base(&self, step: u32) -> Duration {
        1u32.checked_shl(step)
            .and_then(|factor| self.initial.checked_mul(factor))
            .map_or(self.maximum, |d| d.min(self.maximum))
    }

    /// The jittered delay at `step` (0 for the first retry): uniform in
    /// `[base × (1 − jitter), base]`. For a message's transient failure pass the number of
    /// attempts that already failed, minus one.
    pub fn delay(&self, step: u32, rng: &mut (impl RngCore + ?Sized)) -> Duration {
        jittered(self.base(step), self.jitter, rng)
    }

    /// The delay after a bind refusal at `step` (see the module documentation).
    fn refusal_delay(&self, step: u32, rng: &mut (impl RngCore + ?Sized)) -> Duration {
        let base = self.base(step.saturating_add(REFUSAL_STEPS));
        jittered(base, self.jitter.min(REFUSAL_MAX_JITTER), rng)
    }
}

/// `base` less a random part of up to `jitter × base`.
fn jittered(base: Duration, jitter: f64, rng: &mut (impl RngCore + ?Sized)) -> Duration {
    // 53 random bits: a uniform fraction in [0, 1).
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let factor = 1.0 - jitter * unit;
    Duration::try_from_secs_f64(base.as_secs_f64() * factor).map_or(base, |d| d.min(base))
}

/// What went wrong, which decides how far a [`Backoff`] steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be made or was lost (refused, timed out, TLS failed, the
    /// SMSC closed it, no bind response in time).
    Connect,
    /// The SMSC answered the bind with an error status (ESME_RBINDFAIL, ESME_RINVPASWD,
    /// ESME_RINVSYSID, ESME_RALYBND, ...): backed off harder.
    BindRefused,
}

/// The reconnect backoff of one bind: a [`BackoffPolicy`] and how far it has stepped.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    /// The parameters.
    policy: BackoffPolicy,
    /// The step the next failure is backed off at.
    step: u32,
}

impl Backoff {
    /// A backoff at step 0.
    pub fn new(policy: BackoffPolicy) -> Backoff {
        Backoff { policy, step: 0 }
    }

    /// The step the next failure will be backed off at (0 after a reset).
    pub fn step(&self) -> u32 {
        self.step
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn failed(&mut self, failure: Failure, rng: &mut (impl RngCore + ?Sized)) -> Duration {
        match failure {
            Failure::Connect => {
                let delay = self.policy.delay(self.step, rng);
                self.step = self.step.saturating_add(1);
                delay
            }
            Failure::BindRefused => {
                let delay = self.policy.refusal_delay(self.step, rng);
                self.step = self.step.saturating_add(REFUSAL_STEPS + 1);
                delay
            }
        }
    }

    /// Back to step 0: call when a bind succeeded.
    pub fn reset(&mut self) {
        self.step = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// An RNG that always returns the same word: 0 gives no jitter at all, `u64::MAX` the
    /// most.
    struct Fixed(u64);

    impl rand::RngCore for Fixed {
        fn next_u32(&mut self) -> u32 {
            (self.0 >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0
        }
        fn fill_bytes(&mut self, dst: &mut [u8]) {
            dst.fill(self.0 as u8);
        }
    }

    /// No jitter taken off.
    fn least() -> Fixed {
        Fixed(0)
    }

    /// All the jitter taken off.
    fn most() -> Fixed {
        Fixed(u64::MAX)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn policy(jitter: f64) -> BackoffPolicy {
        BackoffPolicy::new(secs(1), secs(60), jitter).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn invalid_settings_are_refused_with_the_value_and_the_key() {
        let cases = [
            (
                Duration::ZERO,
                secs(1),
                0.5,
                "initial",
                "0s is not allowed (1ms..=1h)",
            ),
            (
                secs(7200),
                secs(7200),
                0.5,
                "initial",
                "2h is not allowed (1ms..=1h)",
            ),
            (
                secs(10),
                secs(5),
                0.5,
                "max",
                "5s is shorter than initial (10s)",
            ),
            (
                secs(1),
                secs(2 * 86_400),
                0.5,
                "max",
                "2d is not allowed (1s..=1d)",
            ),
            (
                secs(1),
                secs(5),
                1.5,
                "jitter",
                "1.5 is not allowed (0..=1)",
            ),
            (
                secs(1),
                secs(5),
                -0.1,
                "jitter",
                "-0.1 is not allowed (0..=1)",
            ),
            (
                secs(1),
                secs(5),
                f64::NAN,
                "jitter",
                "NaN is not allowed (0..=1)",
            ),
            (
                secs(1),
                secs(5),
                f64::INFINITY,
                "jitter",
                "inf is not allowed (0..=1)",
            ),
        ];
        for (initial, maximum, jitter, key, message) in cases {
            let e = BackoffPolicy::new(initial, maximum, jitter).err();
            assert_eq!(
                e.map(|e| (e.key(), e.to_string())),
                Some((key, message.to_string())),
                "{initial:?} {maximum:?} {jitter}"
            );
        }
        assert_eq!(
            BackoffPolicy::new(secs(10), secs(5), 0.5),
            Err(BackoffError::MaximumBelowInitial {
                initial: secs(10),
                maximum: secs(5)
            })
        );
        // The edges are allowed.
        for (initial, maximum, jitter) in [
            (MIN_INITIAL, MIN_INITIAL, 0.0),
            (MAX_INITIAL, MAX_MAXIMUM, 1.0),
        ] {
            assert!(BackoffPolicy::new(initial, maximum, jitter).is_ok());
        }
    }

    #[test]
    fn the_configuration_form_reads_into_the_policy_with_defaults() {
        let p: BackoffPolicy =
            toml::from_str("initial = \"2s\"\njitter = 0.5").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p,
            BackoffPolicy::new(secs(2), secs(60), 0.5).unwrap_or_else(|e| panic!("{e}"))
        );
        assert_eq!(BackoffPolicy::default(), policy(0.2));
        assert!(BackoffPolicy::default().check().is_ok());
        let shown = toml::to_string(&p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(shown, "initial = \"2s\"\nmax = \"1m\"\njitter = 0.5\n");
        assert!(toml::from_str::<BackoffPolicy>("maximum = \"2s\"").is_err());
    }

    #[test]
    fn connect_failures_double_up_to_the_maximum() {
        let mut b = Backoff::new(policy(0.0));
        let delays: Vec<u64> = (0..9)
            .map(|_| b.failed(Failure::Connect, &mut least()).as_secs())
            .collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn base_never_overflows_at_huge_steps() {
        let p = policy(1.0);
        assert_eq!(p.base(31), secs(60));
        assert_eq!(p.base(32), secs(60));
        assert_eq!(p.base(u32::MAX), secs(60));
        // Beyond what check() allows (a policy read but not checked): still no overflow.
        let big = BackoffPolicy {
            initial: Duration::MAX,
            maximum: Duration::MAX,
            jitter: 1.0,
        };
        assert_eq!(big.base(5), Duration::MAX);
        assert!(big.delay(5, &mut most()) <= Duration::MAX);
        let mut b = Backoff::new(p);
        b.step = u32::MAX;
        assert_eq!(b.failed(Failure::BindRefused, &mut least()), secs(60));
        assert_eq!(b.step(), u32::MAX);
    }

    #[test]
    fn full_jitter_spans_zero_to_the_base() {
        let p = policy(1.0);
        assert_eq!(p.delay(3, &mut least()), secs(8));
        assert!(p.delay(3, &mut most()) < Duration::from_millis(1));
    }

    #[test]
    fn equal_jitter_keeps_at_least_half_the_base() {
        let p = policy(0.5);
        assert_eq!(p.delay(3, &mut least()), secs(8));
        let least = p.delay(3, &mut most());
        assert!(
            least >= Duration::from_millis(3999) && least <= secs(4),
            "{least:?}"
        );
    }

    #[test]
    fn jitter_spreads_delays_over_the_range() {
        let p = policy(1.0);
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..1000).map(|_| p.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= secs(16)));
        let below_half = delays.iter().filter(|d| **d < secs(8)).count();
        assert!((400..600).contains(&below_half), "{below_half}");
    }

    #[test]
    fn a_refused_bind_waits_longer_than_a_connect_failure_even_with_full_jitter() {
        let p = policy(1.0);
        let mut refused = Backoff::new(p);
        // First refusal: 8 s base, equal jitter at most: 4..=8 s, never less.
        let first = refused.failed(Failure::BindRefused, &mut most());
        assert!(first >= Duration::from_millis(3999), "{first:?}");
        assert_eq!(
            Backoff::new(p).failed(Failure::BindRefused, &mut least()),
            secs(8)
        );
        // A connect failure at the same point waits at most 1 s.
        assert_eq!(
            Backoff::new(p).failed(Failure::Connect, &mut least()),
            secs(1)
        );
        // The next refusal continues from step 4: 16 << 3 capped at 60 s, so 30..=60 s.
        let second = refused.failed(Failure::BindRefused, &mut most());
        assert!(second >= Duration::from_millis(29_999), "{second:?}");
    }

    #[test]
    fn reset_after_success_starts_again_from_the_initial_delay() {
        let mut b = Backoff::new(policy(0.0));
        for _ in 0..5 {
            b.failed(Failure::Connect, &mut least());
        }
        b.failed(Failure::BindRefused, &mut least());
        assert_eq!(b.step(), 9);
        b.reset();
        assert_eq!(b.step(), 0);
        assert_eq!(b.failed(Failure::Connect, &mut least()), secs(1));
    }

    #[test]
    fn message_retry_delay_follows_the_attempt_count() {
        let p = BackoffPolicy::new(Duration::from_millis(500), secs(30), 0.0)
            .unwrap_or_else(|e| panic!("{e}"));
        let delays: Vec<u64> = (0..4)
            .map(|attempt| p.delay(attempt, &mut least()).as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000]);
    }

    proptest! {
        #[test]
        fn prop_delay_stays_within_its_jitter_band(
            initial_ms in 1u64..10_000,
            extra_ms in 0u64..1_000_000,
            jitter in 0.0f64..=1.0,
            step in 0u32..70,
            word in any::<u64>(),
        ) {
            let p = BackoffPolicy::new(Duration::from_millis(initial_ms), Duration::from_millis(initial_ms + extra_ms), jitter)
                .unwrap_or_else(|e| panic!("{e}"));
            let base = p.base(step);
            let d = p.delay(step, &mut Fixed(word));
            prop_assert!(d <= base);
            // 1 µs of slack for floating point.
            prop_assert!(d + Duration::from_micros(1) >= base.mul_f64(1.0 - jitter), "{:?} < {:?}", d, base.mul_f64(1.0 - jitter));
        }

        #[test]
        fn prop_a_refusal_never_waits_less_than_a_connect_failure_could(
            jitter in 0.0f64..=1.0,
            step in 0u32..40,
            refusal_word in any::<u64>(),
            connect_word in any::<u64>(),
        ) {
            let p = policy(jitter);
            let mut a = Backoff::new(p);
            let mut b = Backoff::new(p);
            a.step = step;
            b.step = step;
            let refused = a.failed(Failure::BindRefused, &mut Fixed(refusal_word));
            let connect = b.failed(Failure::Connect, &mut Fixed(connect_word));
            // At least 4x the connect base, or half the maximum once capped.
            let four_bases = p.base(step).saturating_mul(4);
            let floor = four_bases.min(p.base(u32::MAX) / 2);
            prop_assert!(refused + Duration::from_micros(1) >= floor, "{:?} < {:?}", refused, floor);
            if floor == four_bases {
                prop_assert!(refused >= connect, "{:?} < {:?}", refused, connect);
            }
            prop_assert!(a.step() > b.step());
        }
    }
}
