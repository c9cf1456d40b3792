//! Rate limits and the reaction to an SMSC that says "slow down": a token bucket (one per
//! carrier and one per bind; a submit needs a token from both) and a [`Pacer`] per bind that
//! pauses it and lowers its rate on ESME_RTHROTTLED or its window on ESME_RMSGQFUL, then
//! recovers on success. Pure: the caller passes `now`.
//!
//! The bucket is kept as the time it will next be full (the "theoretical arrival time" of
//! the generic cell rate algorithm) rather than as a fractional token count: each token
//! costs a whole number of nanoseconds, and a refill is a comparison of two instants.
//!
//! The pacer's reaction is AIMD, as TCP's congestion control: a multiplicative decrease on a
//! throttling status (the rate halves, at most once per pause, since one burst of overload
//! comes back as many throttled responses), an additive recovery while responses succeed
//! (a tenth of the configured rate per second, after the pause), up to the configured rate
//! and never above it. A paused bind sends nothing; what it would have sent waits in order
//! in front of it, so throttling never reorders the queue.

use crate::carrier::window::{MAX_WINDOW, SIZES};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

/// The submits per second a bind or a carrier may be configured with (`tps`); the
/// configuration checks its values against this at load. Every one makes a valid bucket
/// rate.
pub const TPS: RangeInclusive<u32> = 1..=100_000;

/// The lowest rate a bucket accepts, tokens per second (one per 100 s): lower than any
/// configured [`TPS`], as a throttled bind's rate falls below it.
pub const MIN_RATE: f64 = 0.01;

/// The highest rate a bucket accepts, tokens per second: higher than any configured
/// [`TPS`], so a bucket at this rate is what "no limit configured" means.
pub const MAX_RATE: f64 = 1_000_000.0;

/// The largest burst a bucket accepts.
pub const MAX_BURST: u32 = 1_000_000;

/// The factor a throttling status multiplies a bind's rate by.
pub const THROTTLE_DECREASE: f64 = 0.5;

/// The lowest a bind's rate falls to, as a fraction of its configured rate.
pub const THROTTLE_FLOOR: f64 = 1.0 / 16.0;

/// How fast a throttled bind's rate recovers: this fraction of its configured rate per
/// second of successful responses.
pub const RECOVERY_PER_SECOND: f64 = 0.1;

/// Default pause of a bind after ESME_RTHROTTLED.
pub const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(1);

/// Default pause of a bind after ESME_RMSGQFUL: the SMSC's queue for us takes longer to
/// drain than a rate limit takes to reset.
pub const DEFAULT_QUEUE_FULL_PAUSE: Duration = Duration::from_secs(2);

/// A rate-limit setting that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum ThrottleError {
    /// The rate is not a number in [`MIN_RATE`]..=[`MAX_RATE`].
    #[error("rate {0} per second is not allowed ({MIN_RATE}..={MAX_RATE})")]
    Rate(f64),
    /// The burst is not in 1..=[`MAX_BURST`].
    #[error("burst {0} is not allowed (1..={MAX_BURST})")]
    Burst(u32),
    /// The window is not one a bind may have ([`SIZES`]).
    #[error("window {0} is not allowed (1..={MAX_WINDOW})")]
    Window(usize),
}

/// A token bucket: `rate` tokens per second, holding at most `burst`; it starts full.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    /// Tokens added per second.
    rate: f64,
    /// Tokens the bucket holds when full: how many may go back to back.
    burst: u32,
    /// When the bucket will be full again; at or before `now` it is full. It holds
    /// `burst − (full_at − now) × rate` tokens.
    full_at: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `rate` per second.
    ///
    /// # Errors
    ///
    /// [`ThrottleError::Rate`] or [`ThrottleError::Burst`] for values outside their ranges.
    pub fn new(rate: f64, burst: u32, now: Instant) -> Result<TokenBucket, ThrottleError> {
        check_rate(rate)?;
        if !(1..=MAX_BURST).contains(&burst) {
            return Err(ThrottleError::Burst(burst));
        }
        Ok(TokenBucket {
            rate,
            burst,
            full_at: now,
        })
    }

    /// Tokens added per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The most tokens the bucket holds.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes `n` tokens if the bucket holds them at `now`; false (nothing taken) otherwise.
    /// More than the burst is never available.
    pub fn try_take(&mut self, n: u32, now: Instant) -> bool {
        match self.after_taking(n, now) {
            Some(full_at) => {
                self.full_at = full_at;
                true
            }
            None => false,
        }
    }

    /// Puts back `n` tokens taken and not used (a grant the outbox had no work for); a
    /// bucket never holds more than full.
    pub fn give_back(&mut self, n: u32, now: Instant) {
        if let Some(d) = self.refill_time(n) {
            self.full_at = self.full_at.checked_sub(d).map_or(now, |t| t.max(now));
        }
    }

    /// When the bucket next holds a token: `now` if it holds one already.
    pub fn next_available(&self, now: Instant) -> Instant {
        let refill = self.refill_time(self.burst.saturating_sub(1));
        refill
            .and_then(|d| self.full_at.checked_sub(d))
            .map_or(now, |t| t.max(now))
    }

    /// The new `full_at` if `n` tokens are taken at `now`, or `None` when the bucket does not
    /// hold them: taking must not push `full_at` more than a full bucket's refill past `now`.
    fn after_taking(&self, n: u32, now: Instant) -> Option<Instant> {
        if n > self.burst {
            return None;
        }
        let full_at = self.full_at.max(now).checked_add(self.refill_time(n)?)?;
        let limit = now.checked_add(self.refill_time(self.burst)?)?;
        (full_at <= limit).then_some(full_at)
    }

    /// How long `tokens` take to refill.
    fn refill_time(&self, tokens: u32) -> Option<Duration> {
        Duration::try_from_secs_f64(f64::from(tokens) / self.rate).ok()
    }

    /// Changes the rate at `now`, keeping the tokens the bucket holds.
    fn set_rate(&mut self, rate: f64, now: Instant) {
        let owed = self.full_at.saturating_duration_since(now);
        let scaled = Duration::try_from_secs_f64(owed.as_secs_f64() * self.rate / rate);
        if let Some(full_at) = scaled.ok().and_then(|d| now.checked_add(d)) {
            self.full_at = full_at;
            self.rate = rate;
        }
    }

    /// Empties the bucket as of `at`: its next token comes one interval after `at`.
    fn empty_at(&mut self, at: Instant) {
        if let Some(full_at) = self.refill_time(self.burst).and_then(|d| at.checked_add(d)) {
            self.full_at = self.full_at.max(full_at);
        }
    }
}

fn check_rate(rate: f64) -> Result<(), ThrottleError> {
    if (MIN_RATE..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(ThrottleError::Rate(rate))
    }
}

/// Takes `n` tokens from both buckets (the carrier's and the bind's) or from neither.
pub fn try_take_both(a: &mut TokenBucket, b: &mut TokenBucket, n: u32, now: Instant) -> bool {
    match (a.after_taking(n, now), b.after_taking(n, now)) {
        (Some(a_full), Some(b_full)) => {
            a.full_at = a_full;
            b.full_at = b_full;
            true
        }
        _ => false,
    }
}

/// The configuration of one bind's [`Pacer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacerConfig {
    /// The bind's configured TPS: the rate it starts at and recovers to.
    pub tps: f64,
    /// How many submits may go back to back after a quiet spell (a tenth of a second's worth
    /// lets the actor arm one timer per batch rather than per submit).
    pub burst: u32,
    /// The bind's configured window: the in-flight limit it starts at and recovers to.
    pub window: usize,
    /// How long ESME_RTHROTTLED stops the bind; also the shortest time between two rate cuts.
    pub throttle_pause: Duration,
    /// How long ESME_RMSGQFUL stops the bind; also the shortest time between two window cuts.
    pub queue_full_pause: Duration,
}

impl PacerConfig {
    /// `tps`, `burst` and `window` with the default pauses ([`DEFAULT_THROTTLE_PAUSE`],
    /// [`DEFAULT_QUEUE_FULL_PAUSE`]).
    pub fn new(tps: f64, burst: u32, window: usize) -> PacerConfig {
        PacerConfig {
            tps,
            burst,
            window,
            throttle_pause: DEFAULT_THROTTLE_PAUSE,
            queue_full_pause: DEFAULT_QUEUE_FULL_PAUSE,
        }
    }
}

/// What a bind may do now, from [`Pacer::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Send one submit now (a token was taken from both buckets).
    Go,
    /// Paused or out of tokens: ask again at this instant.
    WaitUntil(Instant),
    /// As many submits in flight as the bind's effective window allows: ask again when a
    /// response arrives.
    WindowFull,
}

/// One bind's send gate: its TPS bucket at the effective rate, its effective window, and the
/// pause after a throttling or queue-full status (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    /// The configured ceilings and pauses.
    config: PacerConfig,
    /// The bind's bucket; its rate is the effective rate.
    bucket: TokenBucket,
    /// The effective window: how many submits may be in flight, at most `config.window`.
    window_limit: usize,
    /// Successes since the window last grew; it grows by one per `window_limit` of them.
    window_credit: usize,
    /// The bind sends nothing before this.
    paused_until: Instant,
    /// When the rate was last cut: throttled responses within a pause of it cut no further.
    rate_cut_at: Option<Instant>,
    /// When the window was last cut: queue-full responses within a pause cut no further.
    window_cut_at: Option<Instant>,
    /// Successful time counts toward rate recovery from here on.
    recover_from: Instant,
}

impl Pacer {
    /// A pacer at full rate and window, not paused.
    ///
    /// # Errors
    ///
    /// [`ThrottleError`] for a TPS, burst or window outside its range.
    pub fn new(config: PacerConfig, now: Instant) -> Result<Pacer, ThrottleError> {
        if !SIZES.contains(&config.window) {
            return Err(ThrottleError::Window(config.window));
        }
        Ok(Pacer {
            bucket: TokenBucket::new(config.tps, config.burst, now)?,
            window_limit: config.window,
            window_credit: 0,
            paused_until: now,
            rate_cut_at: None,
            window_cut_at: None,
            recover_from: now,
            config,
        })
    }

    /// The effective rate, submits per second.
    pub fn rate(&self) -> f64 {
        self.bucket.rate()
    }

    /// The effective window.
    pub fn window_limit(&self) -> usize {
        self.window_limit
    }

    /// Puts back `n` tokens [`Pacer::admit`] took for submits that were not sent, to the
    /// bind's bucket and to `carrier`.
    pub fn give_back(&mut self, carrier: &mut TokenBucket, n: u32, now: Instant) {
        self.bucket.give_back(n, now);
        carrier.give_back(n, now);
    }

    /// When the pause ends, if the bind is paused at `now`.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        (self.paused_until > now).then_some(self.paused_until)
    }

    /// Whether the bind may send one submit now, with `in_flight` submits unanswered; on
    /// [`Admit::Go`] a token has been taken from `carrier` (the carrier-wide bucket) and from
    /// the bind's own.
    pub fn admit(&mut self, carrier: &mut TokenBucket, in_flight: usize, now: Instant) -> Admit {
        if let Some(until) = self.paused_until(now) {
            return Admit::WaitUntil(until);
        }
        if in_flight >= self.window_limit {
            return Admit::WindowFull;
        }
        if try_take_both(carrier, &mut self.bucket, 1, now) {
            return Admit::Go;
        }
        Admit::WaitUntil(
            carrier
                .next_available(now)
                .max(self.bucket.next_available(now)),
        )
    }

    /// ESME_RTHROTTLED: pause the bind, halve its rate (at most once per pause, never below
    /// [`THROTTLE_FLOOR`] of the configured rate) and send again from an empty bucket.
    pub fn on_throttled(&mut self, now: Instant) {
        let pause = self.config.throttle_pause;
        let cut_allowed = self
            .rate_cut_at
            .is_none_or(|at| now.saturating_duration_since(at) >= pause);
        if cut_allowed {
            let floor = (self.config.tps * THROTTLE_FLOOR).max(MIN_RATE);
            let rate = (self.bucket.rate() * THROTTLE_DECREASE).max(floor);
            self.bucket.set_rate(rate, now);
            self.rate_cut_at = Some(now);
        }
        self.pause(now, self.config.throttle_pause);
        self.bucket.empty_at(self.paused_until);
        self.recover_from = self.paused_until;
    }

    /// ESME_RMSGQFUL: pause the bind and halve its effective window (at most once per pause,
    /// never below 1).
    pub fn on_queue_full(&mut self, now: Instant) {
        let pause = self.config.queue_full_pause;
        let cut_allowed = self
            .window_cut_at
            .is_none_or(|at| now.saturating_duration_since(at) >= pause);
        if cut_allowed {
            self.window_limit = (self.window_limit / 2).max(1);
            self.window_credit = 0;
            self.window_cut_at = Some(now);
        }
        self.pause(now, self.config.queue_full_pause);
    }

    /// A successful response: the rate climbs back by [`RECOVERY_PER_SECOND`] of the
    /// configured rate per second since the last adjustment (not counting a pause), and the
    /// window grows by one per window's worth of successes, each up to its configured value.
    pub fn on_success(&mut self, now: Instant) {
        if self.bucket.rate() < self.config.tps && now > self.recover_from {
            let elapsed = now
                .saturating_duration_since(self.recover_from)
                .as_secs_f64();
            let rate = self.bucket.rate() + self.config.tps * RECOVERY_PER_SECOND * elapsed;
            self.bucket.set_rate(rate.min(self.config.tps), now);
            self.recover_from = now;
        }
        if self.window_limit < self.config.window {
            self.window_credit += 1;
            if self.window_credit >= self.window_limit {
                self.window_limit += 1;
                self.window_credit = 0;
            }
        }
    }

    /// Pauses the bind for `pause` from `now` (a longer pause already running is kept).
    fn pause(&mut self, now: Instant, pause: Duration) {
        if let Some(until) = now.checked_add(pause) {
            self.paused_until = self.paused_until.max(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn bucket(rate: f64, burst: u32, now: Instant) -> TokenBucket {
        TokenBucket::new(rate, burst, now).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pacer(tps: f64, window: usize, now: Instant) -> Pacer {
        Pacer::new(PacerConfig::new(tps, 1, window), now).unwrap_or_else(|e| panic!("{e}"))
    }

    /// How many submits `pacer` sends between `from` and `to`, stepping from one wait to the
    /// next, with `in_flight` submits always unanswered.
    fn sends(pacer: &mut Pacer, carrier: &mut TokenBucket, from: Instant, to: Instant) -> u32 {
        let (mut now, mut sent) = (from, 0);
        while now < to {
            match pacer.admit(carrier, 0, now) {
                Admit::Go => sent += 1,
                Admit::WaitUntil(t) => now = t,
                Admit::WindowFull => panic!("window full with nothing in flight"),
            }
        }
        sent
    }

    #[test]
    fn tokens_given_back_can_be_taken_again_and_never_overfill_the_bucket() {
        let t0 = Instant::now();
        let mut b = bucket(10.0, 3, t0);
        assert!(b.try_take(3, t0));
        assert!(!b.try_take(1, t0));
        b.give_back(2, t0);
        assert!(b.try_take(2, t0));
        assert!(!b.try_take(1, t0));
        // A full bucket stays full: giving back adds nothing beyond the burst.
        let mut full = bucket(10.0, 3, t0);
        full.give_back(5, t0);
        assert!(full.try_take(3, t0));
        assert!(!full.try_take(1, t0));
        // Through a pacer: both buckets get theirs back.
        let mut carrier = bucket(100.0, 1, t0);
        let mut p = pacer(100.0, 10, t0);
        assert_eq!(p.admit(&mut carrier, 0, t0), Admit::Go);
        assert!(matches!(p.admit(&mut carrier, 1, t0), Admit::WaitUntil(_)));
        p.give_back(&mut carrier, 1, t0);
        assert_eq!(p.admit(&mut carrier, 1, t0), Admit::Go);
    }

    #[test]
    fn invalid_rates_and_bursts_are_refused_with_the_value() {
        let now = Instant::now();
        for rate in [0.0, -1.0, 0.001, 2e6, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(TokenBucket::new(rate, 1, now), Err(ThrottleError::Rate(_))),
                "{rate}"
            );
        }
        assert_eq!(TokenBucket::new(10.0, 0, now), Err(ThrottleError::Burst(0)));
        assert_eq!(
            ThrottleError::Rate(0.0).to_string(),
            "rate 0 per second is not allowed (0.01..=1000000)"
        );
        assert_eq!(
            Pacer::new(PacerConfig::new(10.0, 1, 0), now),
            Err(ThrottleError::Window(0))
        );
        assert_eq!(
            Pacer::new(PacerConfig::new(10.0, 1, MAX_WINDOW + 1), now),
            Err(ThrottleError::Window(1001))
        );
        assert_eq!(
            ThrottleError::Window(1001).to_string(),
            "window 1001 is not allowed (1..=1000)"
        );
    }

    #[test]
    fn every_configurable_tps_makes_a_bucket() {
        let now = Instant::now();
        for tps in [*TPS.start(), *TPS.end()] {
            assert!(TokenBucket::new(f64::from(tps), 1, now).is_ok(), "{tps}");
        }
        // A throttled bind's floor stays a valid rate too.
        assert!(f64::from(*TPS.start()) * THROTTLE_FLOOR >= MIN_RATE);
    }

    #[test]
    fn a_bucket_starts_full_and_refills_at_its_rate() {
        let t0 = Instant::now();
        let mut b = bucket(10.0, 5, t0);
        assert!((0..5).all(|_| b.try_take(1, t0)));
        assert!(!b.try_take(1, t0));
        assert_eq!(b.next_available(t0), t0 + ms(100));
        assert!(!b.try_take(1, t0 + ms(99)));
        assert!(b.try_take(1, t0 + ms(100)));
        // A long quiet spell refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(b.next_available(later), later);
        assert!(b.try_take(5, later));
        assert!(!b.try_take(1, later));
    }

    #[test]
    fn a_take_larger_than_the_burst_never_succeeds() {
        let t0 = Instant::now();
        let mut b = bucket(100.0, 3, t0);
        assert!(!b.try_take(4, t0 + Duration::from_secs(3600)));
        assert!(b.try_take(3, t0));
    }

    #[test]
    fn a_submit_needs_a_token_from_both_buckets() {
        let t0 = Instant::now();
        let mut carrier = bucket(1.0, 1, t0);
        let mut bind = bucket(100.0, 10, t0);
        assert!(try_take_both(&mut carrier, &mut bind, 1, t0));
        // The carrier is empty: nothing is taken from the bind either.
        assert!(!try_take_both(&mut carrier, &mut bind, 1, t0));
        assert!((0..9).all(|_| bind.try_take(1, t0)));
        assert!(!bind.try_take(1, t0));
    }

    #[test]
    fn the_carrier_bucket_caps_all_its_binds_together() {
        let t0 = Instant::now();
        let mut carrier = bucket(100.0, 1, t0);
        let mut a = pacer(80.0, 10, t0);
        let mut b = pacer(80.0, 10, t0);
        let (mut now, mut sent) = (t0, 0);
        let end = t0 + Duration::from_secs(10);
        while now < end {
            let wa = a.admit(&mut carrier, 0, now);
            let wb = b.admit(&mut carrier, 0, now);
            sent += u32::from(wa == Admit::Go) + u32::from(wb == Admit::Go);
            let next = [wa, wb]
                .iter()
                .filter_map(|w| match w {
                    Admit::WaitUntil(t) => Some(*t),
                    _ => None,
                })
                .min();
            if let Some(t) = next {
                now = t;
            }
        }
        // 160 TPS of binds, 100 of carrier: the carrier wins (+1 for the initial token).
        assert!((999..=1001).contains(&sent), "{sent}");
    }

    #[test]
    fn an_unthrottled_bind_sends_at_its_configured_rate() {
        let t0 = Instant::now();
        let mut carrier = bucket(MAX_RATE, 1, t0);
        let mut p = pacer(50.0, 10, t0);
        let sent = sends(&mut p, &mut carrier, t0, t0 + Duration::from_secs(10));
        assert!((500..=501).contains(&sent), "{sent}");
    }

    #[test]
    fn throttled_halves_the_rate_then_recovers() {
        let t0 = Instant::now();
        let mut carrier = bucket(MAX_RATE, 1, t0);
        let mut p = pacer(100.0, 10, t0);
        p.on_throttled(t0);
        assert_eq!(p.rate(), 50.0);
        // Paused for a second: nothing goes out.
        assert_eq!(p.paused_until(t0), Some(t0 + Duration::from_secs(1)));
        assert_eq!(
            p.admit(&mut carrier, 0, t0 + ms(500)),
            Admit::WaitUntil(t0 + Duration::from_secs(1))
        );
        // At half rate after the pause: ~50 in the next second.
        let resume = t0 + Duration::from_secs(1);
        let sent = sends(
            &mut p,
            &mut carrier,
            resume,
            resume + Duration::from_secs(1),
        );
        assert!((49..=51).contains(&sent), "{sent}");
        // Successes 2.5 s after the pause: recovered by a quarter of the configured rate.
        p.on_success(resume + ms(2500));
        assert!((p.rate() - 75.0).abs() < 1e-6, "{}", p.rate());
        // 5 s after the pause: back to the configured rate, and never above it.
        p.on_success(resume + Duration::from_secs(5));
        assert_eq!(p.rate(), 100.0);
        p.on_success(resume + Duration::from_secs(60));
        assert_eq!(p.rate(), 100.0);
    }

    #[test]
    fn a_burst_of_throttled_responses_cuts_the_rate_once_per_pause() {
        let t0 = Instant::now();
        let mut p = pacer(100.0, 10, t0);
        for i in 0..40 {
            p.on_throttled(t0 + ms(i * 10));
        }
        assert_eq!(p.rate(), 50.0);
        // The pause runs from the last throttled response.
        assert_eq!(p.paused_until(t0), Some(t0 + ms(390) + ms(1000)));
        // Throttled again once the pause has passed: a second cut.
        p.on_throttled(t0 + ms(1500));
        assert_eq!(p.rate(), 25.0);
    }

    #[test]
    fn throttling_never_cuts_the_rate_below_a_sixteenth() {
        let t0 = Instant::now();
        let mut p = pacer(160.0, 10, t0);
        for i in 0..20 {
            p.on_throttled(t0 + Duration::from_secs(i * 2));
        }
        assert_eq!(p.rate(), 10.0);
    }

    #[test]
    fn queue_full_pauses_the_bind_and_halves_its_window_then_recovers() {
        let t0 = Instant::now();
        let mut carrier = bucket(MAX_RATE, 1, t0);
        let mut p = pacer(MAX_RATE, 8, t0);
        p.on_queue_full(t0);
        assert_eq!(p.window_limit(), 4);
        assert_eq!(p.rate(), MAX_RATE, "queue full leaves the rate alone");
        assert_eq!(
            p.admit(&mut carrier, 0, t0 + ms(1999)),
            Admit::WaitUntil(t0 + ms(2000))
        );
        let resume = t0 + ms(2000);
        assert_eq!(p.admit(&mut carrier, 3, resume), Admit::Go);
        assert_eq!(p.admit(&mut carrier, 4, resume), Admit::WindowFull);
        // One more slot per window's worth of successes: 4 → 5 after 4, 5 → 6 after 5, ...
        let mut successes = 0;
        while p.window_limit() < 8 {
            p.on_success(resume);
            successes += 1;
        }
        assert_eq!(successes, 4 + 5 + 6 + 7);
        p.on_success(resume);
        assert_eq!(p.window_limit(), 8);
    }

    #[test]
    fn repeated_queue_full_shrinks_the_window_to_one_but_not_to_zero() {
        let t0 = Instant::now();
        let mut carrier = bucket(MAX_RATE, 1, t0);
        let mut p = pacer(100.0, 100, t0);
        for i in 0..20 {
            p.on_queue_full(t0 + Duration::from_secs(i * 3));
        }
        assert_eq!(p.window_limit(), 1);
        let after = t0 + Duration::from_secs(100);
        assert_eq!(p.admit(&mut carrier, 0, after), Admit::Go);
    }

    #[test]
    fn a_longer_pause_is_not_shortened_by_a_shorter_one() {
        let t0 = Instant::now();
        let mut p = pacer(100.0, 10, t0);
        p.on_queue_full(t0);
        p.on_throttled(t0 + ms(100));
        assert_eq!(p.paused_until(t0), Some(t0 + ms(2000)));
        assert_eq!(p.paused_until(t0 + ms(2000)), None);
    }

    #[test]
    fn a_rate_change_keeps_the_tokens_the_bucket_holds() {
        let t0 = Instant::now();
        let mut b = bucket(10.0, 10, t0);
        assert!(b.try_take(5, t0));
        b.set_rate(5.0, t0);
        assert!(b.try_take(5, t0));
        assert!(!b.try_take(1, t0));
        assert_eq!(b.next_available(t0), t0 + ms(200));
    }

    proptest! {
        /// Whatever the SMSC answers, a bind never sends more than its configured rate allows
        /// (plus the burst), and never while paused.
        #[test]
        fn prop_a_pacer_never_exceeds_its_configured_rate(
            tps in 1.0f64..500.0,
            burst in 1u32..20,
            events in proptest::collection::vec((0u64..50, 0u8..4), 1..300),
        ) {
            let t0 = Instant::now();
            let mut carrier = bucket(MAX_RATE, 1, t0);
            let mut p = Pacer::new(PacerConfig::new(tps, burst, 10), t0).unwrap_or_else(|e| panic!("{e}"));
            let (mut now, mut sent) = (t0, 0u64);
            for (dt, what) in events {
                now += ms(dt);
                match what {
                    0 => p.on_throttled(now),
                    1 => p.on_queue_full(now),
                    2 => p.on_success(now),
                    _ => {
                        let paused = p.paused_until(now).is_some();
                        if p.admit(&mut carrier, 0, now) == Admit::Go {
                            prop_assert!(!paused);
                            sent += 1;
                        }
                    }
                }
                prop_assert!(p.rate() <= tps && p.rate() >= tps * THROTTLE_FLOOR - 1e-9);
                prop_assert!((1..=10).contains(&p.window_limit()));
            }
            let allowed = (now - t0).as_secs_f64() * tps + f64::from(burst);
            prop_assert!(sent as f64 <= allowed + 1e-3, "{} > {}", sent, allowed);
        }
    }
}
