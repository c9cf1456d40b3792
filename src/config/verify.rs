//! `[verify]`: the verifier's key, its texts, its per-purpose profiles, the per-number
//! limits and the send budgets, and the checks of that section. The rules themselves are
//! `crate::verify::policy`; docs/verification.md explains each and docs/configuration.md
//! lists the keys.

use super::duration;
use super::duration::Show;
use super::error::{ConfigError, KeyPath};
use super::Config;
use crate::verify::core::Settings as CoreSettings;
use crate::verify::key::{KeyError, KeyRing};
use crate::verify::policy::{self, Budget, Budgets, NumberLimits, Policy, Profile};
use crate::verify::template::{Channel, Locale, Templates};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[verify]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyConfig {
    /// Run the verifier (verify.* on the API).
    pub enabled: bool,
    /// The key ring file; `None`: `verify.key` in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// The name of an environment variable holding the key ring instead of a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// Generate the key file (mode 0600) when it does not exist.
    pub create_key: bool,
    /// The service name in the texts (`{service}`).
    pub service: String,
    /// The domain of the origin-bound last line (`@example.com #123456`); none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Destinations codes may go to, as E.164 prefixes (`+8190`).
    pub allowed_prefixes: Vec<String>,
    /// How long a finished verification stays readable.
    #[serde(with = "duration")]
    pub retention: Duration,
    /// How long audit lines are kept.
    #[serde(with = "duration")]
    pub audit_retention: Duration,
    /// Per-number limits.
    pub number: NumberConfig,
    /// Send budgets against SMS pumping.
    pub budgets: BudgetsConfig,
    /// Rules per purpose; the five built-in purposes are always there, and a table here
    /// overrides one or adds another.
    pub profiles: BTreeMap<String, ProfileConfig>,
    /// Texts per locale (`[verify.templates.ja]`), replacing the built-in ones.
    pub templates: BTreeMap<Locale, TemplateConfig>,
    /// The key ring read from `key_env` when the configuration was loaded.
    #[serde(skip)]
    pub(crate) loaded_key: Option<SecretString>,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            enabled: true,
            key_file: None,
            key_env: None,
            create_key: true,
            service: String::new(),
            origin: None,
            allowed_prefixes: ["+8170", "+8180", "+8190"].map(String::from).to_vec(),
            retention: Duration::from_secs(24 * 3600),
            audit_retention: Duration::from_secs(30 * 24 * 3600),
            number: NumberConfig::default(),
            budgets: BudgetsConfig::default(),
            profiles: BTreeMap::new(),
            templates: BTreeMap::new(),
            loaded_key: None,
        }
    }
}

/// `[verify.number]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NumberConfig {
    /// Wrong codes, across verifications, before the number is locked.
    pub lock_after: u32,
    /// The first lock; each further failure doubles it.
    #[serde(with = "duration")]
    pub lock_initial: Duration,
    /// The longest lock.
    #[serde(with = "duration")]
    pub lock_max: Duration,
    /// How long a failure counts.
    #[serde(with = "duration")]
    pub failure_memory: Duration,
    /// Sends to one number per window.
    pub sends_per_window: u32,
    /// That window.
    #[serde(with = "duration")]
    pub send_window: Duration,
}

impl Default for NumberConfig {
    fn default() -> Self {
        let d = NumberLimits::default();
        NumberConfig {
            lock_after: d.lock_after,
            lock_initial: Duration::from_millis(d.lock_initial_ms),
            lock_max: Duration::from_millis(d.lock_max_ms),
            failure_memory: Duration::from_millis(d.failure_memory_ms),
            sends_per_window: d.sends_per_window,
            send_window: Duration::from_millis(d.send_window_ms),
        }
    }
}

/// `[verify.budgets]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetsConfig {
    /// The budgets' window.
    #[serde(with = "duration")]
    pub window: Duration,
    /// Sends per window to all numbers together.
    pub overall: u32,
    /// Sends per window to the numbers of a prefix (`"+8170" = 2000`).
    pub prefixes: BTreeMap<String, u32>,
}

impl Default for BudgetsConfig {
    fn default() -> Self {
        BudgetsConfig {
            window: Duration::from_secs(3600),
            overall: 10_000,
            prefixes: BTreeMap::new(),
        }
    }
}

/// `[verify.profiles.NAME]`: a purpose's rules; a key left out keeps its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// Digits of a code (4 to 10).
    pub code_length: u8,
    /// How long a code works (at most 10 min).
    #[serde(with = "duration")]
    pub validity: Duration,
    /// Checks per verification.
    pub max_checks: u32,
    /// Sends per verification, the first included.
    pub max_sends: u32,
    /// Wait between two sends of a verification.
    #[serde(with = "duration")]
    pub resend_cooldown: Duration,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        let d = Profile::default();
        ProfileConfig {
            code_length: d.code_length,
            validity: Duration::from_millis(d.validity_ms),
            max_checks: d.max_checks,
            max_sends: d.max_sends,
            resend_cooldown: Duration::from_millis(d.resend_cooldown_ms),
        }
    }
}

/// `[verify.templates.LOCALE]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateConfig {
    /// The code text: `{code}` once; `{minutes}`, `{service}` optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<String>,
    /// The link text: `{link}` once; `{minutes}`, `{service}` optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_link: Option<String>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// E.164 digits of `+8190` (or `8190`), if it is one.
fn prefix_digits(prefix: &str) -> Option<String> {
    let digits = prefix.strip_prefix('+').unwrap_or(prefix);
    (!digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.to_owned())
}

impl VerifyConfig {
    /// The rules.
    pub fn policy(&self) -> Policy {
        let mut profiles: BTreeMap<String, Profile> = policy::PURPOSES
            .iter()
            .map(|p| ((*p).to_owned(), Profile::default()))
            .collect();
        for (name, p) in &self.profiles {
            profiles.insert(
                name.clone(),
                Profile {
                    code_length: p.code_length,
                    validity_ms: ms(p.validity),
                    max_checks: p.max_checks,
                    max_sends: p.max_sends,
                    resend_cooldown_ms: ms(p.resend_cooldown),
                },
            );
        }
        let mut budgets = vec![Budget {
            prefix: String::new(),
            max: self.budgets.overall,
        }];
        budgets.extend(self.budgets.prefixes.iter().filter_map(|(p, max)| {
            Some(Budget {
                prefix: prefix_digits(p)?,
                max: *max,
            })
        }));
        let n = &self.number;
        Policy {
            profiles,
            number: NumberLimits {
                lock_after: n.lock_after,
                lock_initial_ms: ms(n.lock_initial),
                lock_max_ms: ms(n.lock_max),
                failure_memory_ms: ms(n.failure_memory),
                sends_per_window: n.sends_per_window,
                send_window_ms: ms(n.send_window),
            },
            budgets: Budgets {
                window_ms: ms(self.budgets.window),
                budgets,
            },
            allowed: self
                .allowed_prefixes
                .iter()
                .filter_map(|p| prefix_digits(p))
                .collect(),
        }
    }

    /// The texts, with the configured ones in place of the built-in ones.
    ///
    /// # Errors
    /// The template's error (never for a validated configuration).
    pub fn templates(&self) -> Result<Templates, crate::verify::template::TemplateError> {
        let mut templates = Templates::default();
        for (locale, t) in &self.templates {
            if let Some(sms) = &t.sms {
                templates.set(*locale, Channel::Sms, sms)?;
            }
            if let Some(link) = &t.sms_link {
                templates.set(*locale, Channel::SmsLink, link)?;
            }
        }
        Ok(templates)
    }

    /// The core's settings.
    ///
    /// # Errors
    /// A template's error (never for a validated configuration).
    pub fn core_settings(&self) -> Result<CoreSettings, crate::verify::template::TemplateError> {
        Ok(CoreSettings {
            retention_ms: ms(self.retention),
            audit_retention_ms: ms(self.audit_retention),
            service: self.service.clone(),
            origin: self.origin.clone(),
            templates: self.templates()?,
            ..CoreSettings::default()
        })
    }

    /// Where the key file is.
    pub fn key_path(&self, data_dir: &Path) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("verify.key"))
    }

    /// The key ring: from `key_env` if set, else the key file (generated when missing and
    /// `create_key` is on).
    ///
    /// # Errors
    /// A [`KeyError`] naming the file or the line.
    pub fn key_ring(&self, data_dir: &Path) -> Result<KeyRing, KeyError> {
        match &self.loaded_key {
            Some(value) => KeyRing::from_env_value(value.expose_secret()),
            None => KeyRing::load(&self.key_path(data_dir), self.create_key),
        }
    }
}

/// Checks `[verify]`; reads the key of `key_env` from `env`.
pub(super) fn validate(config: &mut Config, env: &BTreeMap<String, String>) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let v = &mut config.verify;
    let path = KeyPath::root().key("verify");
    let mut fail = |key: KeyPath, message: String| errors.push(ConfigError::at(key, message));
    if let Some(var) = v
        .key_env
        .as_ref()
        .filter(|var| var.starts_with(super::ENV_PREFIX))
    {
        fail(
            path.key("key_env"),
            format!(
                "{var} starts with {} and would be read as a configuration override; name another variable",
                super::ENV_PREFIX
            ),
        );
    } else if let Some(var) = &v.key_env {
        match env.get(var) {
            Some(value) => match KeyRing::from_env_value(value) {
                Ok(_) => v.loaded_key = Some(SecretString::from(value.clone())),
                Err(e) => fail(path.key("key_env"), format!("{var}: {e}")),
            },
            None => fail(
                path.key("key_env"),
                format!("the environment variable {var} is not set"),
            ),
        }
    }
    let v = &config.verify;
    let durations = |key: &str, value: Duration, allowed: std::ops::RangeInclusive<Duration>| {
        (!allowed.contains(&value)).then(|| {
            (
                key.to_owned(),
                format!(
                    "{} is not allowed ({}..={})",
                    Show(value),
                    Show(*allowed.start()),
                    Show(*allowed.end())
                ),
            )
        })
    };
    const S: Duration = Duration::from_secs(1);
    const MIN: Duration = Duration::from_secs(60);
    const H: Duration = Duration::from_secs(3600);
    const D: Duration = Duration::from_secs(86_400);
    let checks = [
        durations("retention", v.retention, MIN..=30 * D),
        durations("audit_retention", v.audit_retention, H..=3650 * D),
        durations(
            "number.lock_initial",
            v.number.lock_initial,
            Duration::from_millis(100)..=H,
        ),
        durations(
            "number.lock_max",
            v.number.lock_max,
            v.number.lock_initial..=D,
        ),
        durations(
            "number.failure_memory",
            v.number.failure_memory,
            MIN..=30 * D,
        ),
        durations("number.send_window", v.number.send_window, MIN..=7 * D),
        durations("budgets.window", v.budgets.window, MIN..=7 * D),
    ];
    for (key, message) in checks.into_iter().flatten() {
        let mut at = path.clone();
        for step in key.split('.') {
            at = at.key(step);
        }
        fail(at, message);
    }
    let counts = [
        ("lock_after", v.number.lock_after, 1..=100),
        ("sends_per_window", v.number.sends_per_window, 1..=1000),
    ];
    for (key, value, allowed) in counts {
        if !allowed.contains(&value) {
            fail(
                path.key("number").key(key),
                format!("{value} is not allowed (1..={})", allowed.end()),
            );
        }
    }
    if v.budgets.overall == 0 {
        fail(
            path.key("budgets").key("overall"),
            "0 is not allowed (at least 1)".into(),
        );
    }
    for (prefix, max) in &v.budgets.prefixes {
        let at = path.key("budgets").key("prefixes").key(prefix);
        if prefix_digits(prefix).is_none() {
            fail(
                at,
                format!("{prefix:?} is not an E.164 prefix (+ and 1 to 15 digits)"),
            );
        } else if *max == 0 {
            fail(at, "0 is not allowed (at least 1)".into());
        }
    }
    if v.enabled && v.allowed_prefixes.is_empty() {
        fail(
            path.key("allowed_prefixes"),
            "at least one prefix (no code could be sent)".into(),
        );
    }
    for (i, prefix) in v.allowed_prefixes.iter().enumerate() {
        if prefix_digits(prefix).is_none() {
            fail(
                path.key("allowed_prefixes").index(i),
                format!("{prefix:?} is not an E.164 prefix (+ and 1 to 15 digits)"),
            );
        }
    }
    let mut longest_code = 6usize;
    let mut longest_minutes = 10u64;
    for (name, p) in &v.profiles {
        let at = path.key("profiles").key(name);
        let name_ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            fail(
                at.clone(),
                format!("the purpose {name:?} is not allowed (1 to 32 of a-z, 0-9, _)"),
            );
        }
        if !policy::CODE_LENGTHS.contains(&p.code_length) {
            fail(
                at.key("code_length"),
                format!("{} is not allowed (4..=10)", p.code_length),
            );
        }
        if let Some((_, message)) = durations("validity", p.validity, S..=10 * MIN) {
            fail(at.key("validity"), message);
        }
        if !(1..=20).contains(&p.max_checks) {
            fail(
                at.key("max_checks"),
                format!("{} is not allowed (1..=20)", p.max_checks),
            );
        }
        if !(1..=10).contains(&p.max_sends) {
            fail(
                at.key("max_sends"),
                format!("{} is not allowed (1..=10)", p.max_sends),
            );
        }
        if let Some((_, message)) =
            durations("resend_cooldown", p.resend_cooldown, Duration::ZERO..=H)
        {
            fail(at.key("resend_cooldown"), message);
        }
        longest_code = longest_code.max(usize::from(p.code_length));
        longest_minutes = longest_minutes.max(p.validity.as_secs().div_ceil(60));
    }
    let mut templates = Templates::default();
    for (locale, t) in &v.templates {
        let at = path.key("templates").key(locale.as_str());
        for (key, channel, text) in [
            ("sms", Channel::Sms, &t.sms),
            ("sms_link", Channel::SmsLink, &t.sms_link),
        ] {
            if let Some(text) = text {
                if let Err(e) = templates.set(*locale, channel, text) {
                    fail(at.key(key), e.to_string());
                }
            }
        }
    }
    if v.enabled {
        if let Err(e) = templates.check(
            &v.service,
            v.origin.as_deref(),
            longest_code.min(10),
            longest_minutes.min(10),
        ) {
            let key = if v.origin.is_some() {
                "origin"
            } else {
                "service"
            };
            fail(
                path.key(key),
                format!("the texts would not fit one SMS: {e}"),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARRIER: &str = r#"
[[carriers.a.binds]]
host = "127.0.0.1"
port = 2775
system_id = "x"
password = "y"

[[routes]]
prefix = "81"
carriers = ["a"]
"#;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        Config::from_toml(
            "t.toml",
            &format!("{toml}\n{CARRIER}"),
            env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .map_err(|e| e.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn the_defaults_are_the_policys_defaults() {
        let config = load("", &[]).unwrap();
        assert!(config.verify.enabled);
        assert_eq!(config.verify.policy(), Policy::default());
        assert_eq!(
            config.verify.key_path(Path::new("data")),
            PathBuf::from("data/verify.key")
        );
    }

    #[test]
    fn a_profile_overrides_one_purpose_and_adds_another() {
        let config = load(
            "[verify.profiles.payment]\ncode_length = 8\nvalidity = \"5m\"\n\
             [verify.profiles.gift]\nmax_checks = 3\n",
            &[],
        )
        .unwrap();
        let policy = config.verify.policy();
        let payment = policy.profile("payment").unwrap();
        assert_eq!((payment.code_length, payment.validity_ms), (8, 300_000));
        assert_eq!(payment.max_checks, 5, "a key left out keeps its default");
        assert_eq!(policy.profile("gift").unwrap().max_checks, 3);
        assert_eq!(policy.profile("login").unwrap(), &Profile::default());
    }

    #[test]
    fn bad_values_are_reported_by_key() {
        let errs = load(
            r#"
[verify]
allowed_prefixes = ["+81x"]
key_env = "NO_SUCH_VAR"

[verify.number]
lock_after = 0
lock_max = "1ms"

[verify.budgets]
overall = 0
prefixes = { "abc" = 5 }

[verify.profiles.login]
code_length = 3
validity = "11m"
max_checks = 0

[verify.templates.en]
sms = "no placeholder here"
"#,
            &[],
        )
        .unwrap_err();
        let keys = [
            "verify.allowed_prefixes[0]",
            "verify.key_env",
            "verify.number.lock_after",
            "verify.number.lock_max",
            "verify.budgets.overall",
            "verify.budgets.prefixes.abc",
            "verify.profiles.login.code_length",
            "verify.profiles.login.validity",
            "verify.profiles.login.max_checks",
            "verify.templates.en.sms",
        ];
        for key in keys {
            assert!(
                errs.iter().any(|e| e.contains(key)),
                "{key} not in {errs:#?}"
            );
        }
    }

    #[test]
    fn the_key_comes_from_the_named_variable_and_is_never_shown() {
        let secret = "ab".repeat(32);
        let config = load("[verify]\nkey_env = \"VKEY\"\n", &[("VKEY", &secret)]).unwrap();
        let ring = config.verify.key_ring(Path::new("unused")).unwrap();
        assert_eq!(ring.current_id().len(), 8);
        let shown = config.to_redacted_toml().unwrap();
        assert!(!shown.contains(&secret), "{shown}");
        assert!(!format!("{config:?}").contains(&secret));
        let errs = load("[verify]\nkey_env = \"VKEY\"\n", &[("VKEY", "zz")]).unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains("verify.key_env")),
            "{errs:#?}"
        );
    }

    #[test]
    fn the_example_in_the_configuration_docs_loads() {
        let docs = include_str!("../../docs/configuration.md");
        let section = docs.split("### `[verify]`").nth(1).unwrap();
        let example = section
            .split("```toml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .unwrap();
        let key = "cd".repeat(32);
        let config = load(example, &[("VERIFY_KEYS", &key)]).unwrap();
        let policy = config.verify.policy();
        assert_eq!(policy.profile("payment").unwrap().code_length, 8);
        assert_eq!(policy.number.lock_after, 3);
        assert!(policy
            .budgets
            .budgets
            .iter()
            .any(|b| b.prefix == "8170" && b.max == 2000));
    }

    #[test]
    fn a_service_name_too_long_for_one_sms_is_refused() {
        let errs = load(
            &format!("[verify]\nservice = \"{}\"\n", "x".repeat(150)),
            &[],
        )
        .unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains("verify.service")),
            "{errs:#?}"
        );
    }
}
