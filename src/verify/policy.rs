//! The verification policy: pure rules with no IO and no clock (every decision takes
//! `now`, unix ms). What a verification may do — start, be checked, be resent — and what a
//! failure does to its number is decided here; [`super::core`] keeps the state on disk and
//! applies these decisions. docs/verification.md names the standard behind each rule and
//! the threat it answers.

use rand::Rng;
use std::collections::BTreeMap;
use thiserror::Error;

/// The longest a code may stay valid (NIST SP 800-63B §5.1.3.2, OWASP ASVS 6.5: 10 min).
pub const MAX_VALIDITY_MS: u64 = 10 * 60 * 1000;
/// Shortest code length allowed (4 digits), longest (10).
pub const CODE_LENGTHS: std::ops::RangeInclusive<u8> = 4..=10;
/// Random bytes in a link token: 128 bits, twice the 64 the link channel needs at least.
pub const LINK_TOKEN_BYTES: usize = 16;

/// One purpose's rules (login, signup, payment, ...).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// Digits in a code.
    pub code_length: u8,
    /// How long a code is valid (ms), at most [`MAX_VALIDITY_MS`].
    pub validity_ms: u64,
    /// Checks allowed per verification; the one past it answers max_attempts_reached.
    pub max_checks: u32,
    /// SMS sends allowed per verification, the first included.
    pub max_sends: u32,
    /// Wait between two sends of one verification (ms).
    pub resend_cooldown_ms: u64,
}

impl Default for Profile {
    /// 6 digits, 10 minutes, 5 checks, 3 sends at least 30 s apart.
    fn default() -> Self {
        Profile {
            code_length: 6,
            validity_ms: MAX_VALIDITY_MS,
            max_checks: 5,
            max_sends: 3,
            resend_cooldown_ms: 30_000,
        }
    }
}

/// Limits per destination number, across all of its verifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberLimits {
    /// Wrong codes (across verifications) before the number is locked.
    pub lock_after: u32,
    /// The first lock (ms); each further failure while past the limit doubles it.
    pub lock_initial_ms: u64,
    /// The longest lock (ms).
    pub lock_max_ms: u64,
    /// A failure older than this is forgotten (ms).
    pub failure_memory_ms: u64,
    /// SMS sends to one number per window.
    pub sends_per_window: u32,
    /// The window of `sends_per_window` (ms).
    pub send_window_ms: u64,
}

impl Default for NumberLimits {
    /// Locked after 5 failures, 1 s doubling to 15 min, failures remembered 24 h; 5 sends
    /// per hour.
    fn default() -> Self {
        NumberLimits {
            lock_after: 5,
            lock_initial_ms: 1_000,
            lock_max_ms: 15 * 60 * 1000,
            failure_memory_ms: 24 * 3_600_000,
            sends_per_window: 5,
            send_window_ms: 3_600_000,
        }
    }
}

/// A send budget: at most `max` sends per window to numbers starting with `prefix`
/// (E.164 digits without `+`; empty for every number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// The destination prefix.
    pub prefix: String,
    /// Sends per window.
    pub max: u32,
}

/// Sends allowed per window, overall and per prefix: a cap on what SMS pumping (toll
/// fraud through verification sends) can cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budgets {
    /// The window (ms).
    pub window_ms: u64,
    /// Every number matching a budget's prefix counts against it.
    pub budgets: Vec<Budget>,
}

impl Default for Budgets {
    /// 10,000 sends per hour overall.
    fn default() -> Self {
        Budgets {
            window_ms: 3_600_000,
            budgets: vec![Budget {
                prefix: String::new(),
                max: 10_000,
            }],
        }
    }
}

/// All the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Rules per purpose; a start naming another purpose is refused.
    pub profiles: BTreeMap<String, Profile>,
    /// Per-number limits.
    pub number: NumberLimits,
    /// Send budgets.
    pub budgets: Budgets,
    /// Destinations allowed, as E.164 digit prefixes (empty list: none).
    pub allowed: Vec<String>,
}

/// The purposes every gateway knows.
pub const PURPOSES: [&str; 5] = [
    "login",
    "signup",
    "payment",
    "contract_change",
    "point_exchange",
];

impl Default for Policy {
    /// The default profile for each of [`PURPOSES`], the default limits and budgets, and
    /// Japanese mobile numbers only (+81 70, 80, 90).
    fn default() -> Self {
        Policy {
            profiles: PURPOSES
                .iter()
                .map(|p| ((*p).to_owned(), Profile::default()))
                .collect(),
            number: NumberLimits::default(),
            budgets: Budgets::default(),
            allowed: ["8170", "8180", "8190"].map(String::from).to_vec(),
        }
    }
}

/// What one number has done, kept on disk across its verifications and restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NumberState {
    /// Wrong codes not yet forgotten or reset by a success.
    pub failures: u32,
    /// When the last one came (unix ms).
    pub last_failure_at: u64,
    /// Locked until then (unix ms); 0 for never.
    pub locked_until: u64,
    /// The send window `sends` counts in (its index: start / window length).
    pub send_window: u64,
    /// Sends in that window.
    pub sends: u32,
}

/// A send budget's use in one window: the key the store counts it under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetSlot {
    /// The budget's prefix.
    pub prefix: String,
    /// The window index.
    pub window: u64,
}

/// Why a start or a resend is refused. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    /// The number is locked after too many wrong codes.
    #[error("too many wrong codes for this number; try again in {}", secs(*retry_after_ms))]
    Locked {
        /// How long until the lock ends (ms).
        retry_after_ms: u64,
    },
    /// The last send of this verification is too recent.
    #[error("a code was sent moments ago; resend in {}", secs(*retry_after_ms))]
    Cooldown {
        /// How long until a resend is allowed (ms).
        retry_after_ms: u64,
    },
    /// This verification has had all its sends.
    #[error("this verification has been sent {max} times, its limit; start a new one")]
    MaxSends {
        /// The limit.
        max: u32,
    },
    /// The number has had its sends for this window.
    #[error("too many codes sent to this number; try again in {}", secs(*retry_after_ms))]
    NumberCap {
        /// How long until the window ends (ms).
        retry_after_ms: u64,
    },
    /// A send budget is spent for this window.
    #[error("the send budget for {} is spent; try again in {}", scope(prefix), secs(*retry_after_ms))]
    Budget {
        /// The budget's prefix (empty: the overall budget).
        prefix: String,
        /// How long until the window ends (ms).
        retry_after_ms: u64,
    },
    /// The destination is not among the allowed prefixes.
    #[error("destination not allowed for verification: {0}")]
    Destination(String),
    /// No profile for this purpose.
    #[error("unknown purpose {0:?}")]
    UnknownPurpose(String),
    /// A start's own code length is out of range.
    #[error("code_length {0} is out of range (4 to 10)")]
    CodeLength(u8),
    /// A start's own validity is out of range.
    #[error("validity of {0} ms is out of range (1 s to 10 min)")]
    Validity(u64),
}

impl Refusal {
    /// The wait before trying again, if waiting helps.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Refusal::Locked { retry_after_ms }
            | Refusal::Cooldown { retry_after_ms }
            | Refusal::NumberCap { retry_after_ms }
            | Refusal::Budget { retry_after_ms, .. } => Some(*retry_after_ms),
            _ => None,
        }
    }
}

fn secs(ms: u64) -> String {
    format!("{} s", ms.div_ceil(1000))
}

fn scope(prefix: &str) -> String {
    if prefix.is_empty() {
        "all numbers".into()
    } else {
        format!("+{prefix}")
    }
}

/// The answer to a check: the same shape whether or not the id or the number is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The right code: the verification is approved and the code consumed.
    Approved,
    /// A wrong code.
    Wrong {
        /// Checks left on this verification (0: the next answers max_attempts_reached).
        attempts_left: u32,
    },
    /// The verification has had all its checks; no code is compared any more.
    MaxAttemptsReached,
    /// The code's validity has ended.
    Expired,
    /// The number is locked after too many wrong codes (this verification's or others').
    Locked {
        /// How long until the lock ends (ms).
        retry_after_ms: u64,
    },
    /// No such verification, or it is finished (approved, cancelled, swept).
    NotFound,
}

impl CheckOutcome {
    /// The outcome's name on the API.
    pub fn name(self) -> &'static str {
        match self {
            CheckOutcome::Approved => "approved",
            CheckOutcome::Wrong { .. } => "wrong",
            CheckOutcome::MaxAttemptsReached => "max_attempts_reached",
            CheckOutcome::Expired => "expired",
            CheckOutcome::Locked { .. } => "locked",
            CheckOutcome::NotFound => "not_found",
        }
    }
}

/// What a start may use, after the policy said yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartPlan {
    /// Digits of the code.
    pub code_length: u8,
    /// Validity (ms).
    pub validity_ms: u64,
    /// The profile applied.
    pub profile: Profile,
}

/// A start's own choices beside the purpose's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Digits instead of the profile's.
    pub code_length: Option<u8>,
    /// Validity instead of the profile's (ms).
    pub validity_ms: Option<u64>,
}

/// The part of a verification the policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Checks made.
    pub checks: u32,
    /// Sends made.
    pub sends: u32,
    /// The last send (unix ms).
    pub last_send_at: u64,
    /// When the current code stops working (unix ms).
    pub expires_at: u64,
}

impl Policy {
    /// The profile of `purpose`.
    ///
    /// # Errors
    /// [`Refusal::UnknownPurpose`].
    pub fn profile(&self, purpose: &str) -> Result<&Profile, Refusal> {
        self.profiles
            .get(purpose)
            .ok_or_else(|| Refusal::UnknownPurpose(purpose.to_owned()))
    }

    /// Whether verification codes may go to `to` (E.164 digits).
    ///
    /// # Errors
    /// [`Refusal::Destination`].
    pub fn destination(&self, to: &str) -> Result<(), Refusal> {
        if self.allowed.iter().any(|p| to.starts_with(p.as_str())) {
            Ok(())
        } else {
            Err(Refusal::Destination(format!("+{to}")))
        }
    }

    /// How long the number stays locked, if it is.
    pub fn locked(&self, number: &NumberState, now: u64) -> Option<u64> {
        (now < number.locked_until).then(|| number.locked_until - now)
    }

    /// Decides a start: purpose, overrides, destination, lock, the number's cap and the
    /// budgets (whose counts in the current window are `budget_use`, in the order of
    /// [`Policy::budget_slots`]).
    ///
    /// # Errors
    /// The [`Refusal`] that applies first.
    pub fn start(
        &self,
        purpose: &str,
        overrides: Overrides,
        to: &str,
        number: &NumberState,
        budget_use: &[u32],
        now: u64,
    ) -> Result<StartPlan, Refusal> {
        let profile = self.profile(purpose)?;
        let code_length = overrides.code_length.unwrap_or(profile.code_length);
        if !CODE_LENGTHS.contains(&code_length) {
            return Err(Refusal::CodeLength(code_length));
        }
        let validity_ms = overrides.validity_ms.unwrap_or(profile.validity_ms);
        if !(1_000..=MAX_VALIDITY_MS).contains(&validity_ms) {
            return Err(Refusal::Validity(validity_ms));
        }
        self.destination(to)?;
        self.may_send(to, number, budget_use, now)?;
        Ok(StartPlan {
            code_length,
            validity_ms,
            profile: profile.clone(),
        })
    }

    /// Decides a resend of a verification with `progress` under `profile`.
    ///
    /// # Errors
    /// The [`Refusal`] that applies first.
    pub fn resend(
        &self,
        profile: &Profile,
        progress: Progress,
        to: &str,
        number: &NumberState,
        budget_use: &[u32],
        now: u64,
    ) -> Result<(), Refusal> {
        if progress.sends >= profile.max_sends {
            return Err(Refusal::MaxSends {
                max: profile.max_sends,
            });
        }
        let allowed_at = progress
            .last_send_at
            .saturating_add(profile.resend_cooldown_ms);
        if now < allowed_at {
            return Err(Refusal::Cooldown {
                retry_after_ms: allowed_at - now,
            });
        }
        self.destination(to)?;
        self.may_send(to, number, budget_use, now)
    }

    /// When a resend is first allowed (unix ms), ignoring caps and budgets.
    pub fn resend_allowed_at(&self, profile: &Profile, progress: Progress) -> u64 {
        progress
            .last_send_at
            .saturating_add(profile.resend_cooldown_ms)
    }

    fn may_send(
        &self,
        to: &str,
        number: &NumberState,
        budget_use: &[u32],
        now: u64,
    ) -> Result<(), Refusal> {
        if let Some(retry_after_ms) = self.locked(number, now) {
            return Err(Refusal::Locked { retry_after_ms });
        }
        let window = window_of(now, self.number.send_window_ms);
        let sends = if number.send_window == window {
            number.sends
        } else {
            0
        };
        if sends >= self.number.sends_per_window {
            return Err(Refusal::NumberCap {
                retry_after_ms: window_end(now, self.number.send_window_ms) - now,
            });
        }
        let budgets = self
            .budgets
            .budgets
            .iter()
            .filter(|b| to.starts_with(b.prefix.as_str()));
        for (budget, used) in budgets.zip(budget_use.iter().copied().chain(std::iter::repeat(0))) {
            if used >= budget.max {
                return Err(Refusal::Budget {
                    prefix: budget.prefix.clone(),
                    retry_after_ms: window_end(now, self.budgets.window_ms) - now,
                });
            }
        }
        Ok(())
    }

    /// The budget slots a send to `to` at `now` counts against, in a fixed order.
    pub fn budget_slots(&self, to: &str, now: u64) -> Vec<BudgetSlot> {
        let window = window_of(now, self.budgets.window_ms);
        self.budgets
            .budgets
            .iter()
            .filter(|b| to.starts_with(b.prefix.as_str()))
            .map(|b| BudgetSlot {
                prefix: b.prefix.clone(),
                window,
            })
            .collect()
    }

    /// Counts a send in the number's window.
    pub fn on_send(&self, number: &mut NumberState, now: u64) {
        let window = window_of(now, self.number.send_window_ms);
        if number.send_window != window {
            number.send_window = window;
            number.sends = 0;
        }
        number.sends = number.sends.saturating_add(1);
    }

    /// Counts a wrong code against the number; past [`NumberLimits::lock_after`] the
    /// number is locked, for twice as long with each further failure (RFC 4226 §7.3: a
    /// delay that grows with the failures, across verifications). Returns the lock's end.
    pub fn on_failure(&self, number: &mut NumberState, now: u64) -> Option<u64> {
        let limits = &self.number;
        if now.saturating_sub(number.last_failure_at) > limits.failure_memory_ms {
            number.failures = 0;
        }
        number.failures = number.failures.saturating_add(1);
        number.last_failure_at = now;
        let past = number.failures.checked_sub(limits.lock_after)?;
        let lock = if past >= 63 {
            limits.lock_max_ms
        } else {
            limits.lock_initial_ms.saturating_mul(1u64 << past)
        }
        .min(limits.lock_max_ms);
        number.locked_until = now.saturating_add(lock);
        Some(number.locked_until)
    }

    /// A right code: the failures and the lock are reset.
    pub fn on_success(&self, number: &mut NumberState) {
        number.failures = 0;
        number.locked_until = 0;
    }

    /// Whether a check of a verification with `progress` may compare a code now, and if
    /// not, the answer. Called before the attempt is counted.
    pub fn may_check(
        &self,
        profile: &Profile,
        progress: Progress,
        number: &NumberState,
        now: u64,
    ) -> Result<(), CheckOutcome> {
        if let Some(retry_after_ms) = self.locked(number, now) {
            return Err(CheckOutcome::Locked { retry_after_ms });
        }
        if progress.checks >= profile.max_checks {
            return Err(CheckOutcome::MaxAttemptsReached);
        }
        if now >= progress.expires_at {
            return Err(CheckOutcome::Expired);
        }
        Ok(())
    }
}

/// The window index of `now`.
fn window_of(now: u64, window_ms: u64) -> u64 {
    now / window_ms.max(1)
}

/// When the window of `now` ends.
fn window_end(now: u64, window_ms: u64) -> u64 {
    let w = window_ms.max(1);
    (now / w).saturating_add(1).saturating_mul(w)
}

/// A code of `len` decimal digits, each uniform (the generator's range sampling rejects
/// the biased values): from the OS CSPRNG in the gateway, seeded in tests.
pub fn generate_code(rng: &mut impl Rng, len: u8) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A link token of [`LINK_TOKEN_BYTES`] random bytes, as lowercase hex.
pub fn generate_token(rng: &mut impl Rng) -> String {
    let mut bytes = [0u8; LINK_TOKEN_BYTES];
    rng.fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const T0: u64 = 1_700_000_000_000;
    const TO: &str = "819012345678";

    fn progress(checks: u32, sends: u32, last_send_at: u64) -> Progress {
        Progress {
            checks,
            sends,
            last_send_at,
            expires_at: last_send_at + MAX_VALIDITY_MS,
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = Policy::default();
        let login = p.profile("login").unwrap();
        assert_eq!(login.code_length, 6);
        assert_eq!(login.validity_ms, 600_000);
        assert_eq!(login.max_checks, 5);
        assert_eq!(p.number.lock_after, 5);
        assert_eq!(p.number.lock_initial_ms, 1_000);
        assert_eq!(p.number.lock_max_ms, 900_000);
        for purpose in PURPOSES {
            assert!(p.profile(purpose).is_ok(), "{purpose}");
        }
        assert_eq!(
            p.profile("bank"),
            Err(Refusal::UnknownPurpose("bank".into()))
        );
    }

    #[test]
    fn only_japanese_mobile_numbers_are_allowed_by_default() {
        let p = Policy::default();
        for ok in ["817012345678", "818012345678", "819012345678"] {
            assert_eq!(p.destination(ok), Ok(()));
        }
        for bad in ["81312345678", "447700900123", "819"] {
            assert_eq!(
                p.destination(bad),
                Err(Refusal::Destination(format!("+{bad}")))
            );
        }
    }

    #[test]
    fn failures_past_the_limit_lock_the_number_doubling_up_to_the_maximum() {
        let p = Policy::default();
        let mut n = NumberState::default();
        for i in 0..4 {
            assert_eq!(p.on_failure(&mut n, T0 + i), None);
        }
        assert_eq!(p.on_failure(&mut n, T0 + 10), Some(T0 + 10 + 1_000));
        assert_eq!(p.locked(&n, T0 + 10), Some(1_000));
        assert_eq!(p.on_failure(&mut n, T0 + 20), Some(T0 + 20 + 2_000));
        assert_eq!(p.on_failure(&mut n, T0 + 30), Some(T0 + 30 + 4_000));
        let mut last = 0;
        for i in 0..80 {
            last = p.on_failure(&mut n, T0 + 40 + i).unwrap() - (T0 + 40 + i);
        }
        assert_eq!(last, 900_000, "capped at 15 min, no overflow");
        p.on_success(&mut n);
        assert_eq!(n.failures, 0);
        assert_eq!(p.locked(&n, T0 + 200), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let p = Policy::default();
        let mut n = NumberState::default();
        for i in 0..4 {
            p.on_failure(&mut n, T0 + i);
        }
        let later = T0 + p.number.failure_memory_ms + 10;
        assert_eq!(p.on_failure(&mut n, later), None);
        assert_eq!(n.failures, 1);
    }

    #[test]
    fn a_locked_number_can_neither_start_nor_check() {
        let p = Policy::default();
        let mut n = NumberState::default();
        for i in 0..5 {
            p.on_failure(&mut n, T0 + i);
        }
        let start = p.start("login", Overrides::default(), TO, &n, &[], T0 + 5);
        assert!(matches!(start, Err(Refusal::Locked { .. })), "{start:?}");
        let profile = Profile::default();
        assert!(matches!(
            p.may_check(&profile, progress(0, 1, T0), &n, T0 + 5),
            Err(CheckOutcome::Locked { .. })
        ));
        assert_eq!(
            p.may_check(&profile, progress(0, 1, T0), &n, T0 + 5_000),
            Ok(())
        );
    }

    #[test]
    fn checks_stop_at_the_limit_and_at_expiry() {
        let p = Policy::default();
        let n = NumberState::default();
        let profile = Profile::default();
        assert_eq!(p.may_check(&profile, progress(4, 1, T0), &n, T0), Ok(()));
        assert_eq!(
            p.may_check(&profile, progress(5, 1, T0), &n, T0),
            Err(CheckOutcome::MaxAttemptsReached)
        );
        assert_eq!(
            p.may_check(&profile, progress(0, 1, T0), &n, T0 + MAX_VALIDITY_MS),
            Err(CheckOutcome::Expired)
        );
    }

    #[test]
    fn resends_wait_the_cooldown_and_stop_at_the_limit() {
        let p = Policy::default();
        let n = NumberState::default();
        let profile = Profile::default();
        assert_eq!(
            p.resend(&profile, progress(0, 1, T0), TO, &n, &[], T0 + 10_000),
            Err(Refusal::Cooldown {
                retry_after_ms: 20_000
            })
        );
        assert_eq!(
            p.resend(&profile, progress(0, 1, T0), TO, &n, &[], T0 + 30_000),
            Ok(())
        );
        assert_eq!(
            p.resend(&profile, progress(0, 3, T0), TO, &n, &[], T0 + 60_000),
            Err(Refusal::MaxSends { max: 3 })
        );
    }

    #[test]
    fn the_number_cap_counts_sends_in_its_window() {
        let p = Policy::default();
        let mut n = NumberState::default();
        for _ in 0..5 {
            assert!(p
                .start("login", Overrides::default(), TO, &n, &[], T0)
                .is_ok());
            p.on_send(&mut n, T0);
        }
        let refused = p.start("login", Overrides::default(), TO, &n, &[], T0);
        let end = (T0 / 3_600_000 + 1) * 3_600_000;
        assert_eq!(
            refused,
            Err(Refusal::NumberCap {
                retry_after_ms: end - T0
            })
        );
        assert!(p
            .start("login", Overrides::default(), TO, &n, &[], end)
            .is_ok());
    }

    #[test]
    fn budgets_apply_to_matching_prefixes_in_order() {
        let p = Policy {
            budgets: Budgets {
                window_ms: 60_000,
                budgets: vec![
                    Budget {
                        prefix: String::new(),
                        max: 100,
                    },
                    Budget {
                        prefix: "8170".into(),
                        max: 2,
                    },
                ],
            },
            ..Policy::default()
        };
        let n = NumberState::default();
        assert_eq!(
            p.budget_slots(TO, T0).len(),
            1,
            "8190 matches only the overall"
        );
        let slots = p.budget_slots("817011112222", T0);
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[1].prefix, "8170");
        let start =
            |used: &[u32]| p.start("login", Overrides::default(), "817011112222", &n, used, T0);
        assert!(start(&[99, 1]).is_ok());
        assert!(
            matches!(start(&[99, 2]), Err(Refusal::Budget { ref prefix, .. }) if prefix == "8170")
        );
        assert!(
            matches!(start(&[100, 0]), Err(Refusal::Budget { ref prefix, .. }) if prefix.is_empty())
        );
    }

    #[test]
    fn overrides_are_bounded() {
        let p = Policy::default();
        let n = NumberState::default();
        let with = |code_length, validity_ms| {
            p.start(
                "login",
                Overrides {
                    code_length,
                    validity_ms,
                },
                TO,
                &n,
                &[],
                T0,
            )
        };
        assert_eq!(with(Some(8), Some(60_000)).unwrap().code_length, 8);
        assert_eq!(with(Some(3), None), Err(Refusal::CodeLength(3)));
        assert_eq!(with(Some(11), None), Err(Refusal::CodeLength(11)));
        assert_eq!(with(None, Some(600_001)), Err(Refusal::Validity(600_001)));
        assert_eq!(with(None, Some(999)), Err(Refusal::Validity(999)));
    }

    #[test]
    fn codes_have_their_length_and_every_digit_appears() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen = [0u32; 10];
        for _ in 0..1000 {
            let code = generate_code(&mut rng, 6);
            assert_eq!(code.len(), 6);
            for b in code.bytes() {
                seen[usize::from(b - b'0')] += 1;
            }
        }
        // 6,000 digits: each about 600; a biased generator would be far off.
        assert!(seen.iter().all(|&c| (450..750).contains(&c)), "{seen:?}");
        let token = generate_token(&mut rng);
        assert_eq!(token.len(), 2 * LINK_TOKEN_BYTES);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
