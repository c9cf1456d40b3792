//! `[webhooks]` (the dispatcher's timeout, retry schedule and concurrency) and the
//! `webhook` table of an `[[api.tokens]]` entry (where that token's receipts and
//! verification outcomes are POSTed, the signing secret's source, which states are sent),
//! and the checks of both. The dispatcher itself is `crate::webhook`; docs/api.md
//! ("Webhooks") and docs/configuration.md describe them.

use super::duration;
use super::duration::Show;
use super::error::{ConfigError, KeyPath};
use super::Config;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// `[webhooks]`: how the dispatcher delivers, for every token's webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// How long one POST may take, connecting and the answer included; longer counts as a
    /// failure that is retried.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// How long a delivery is retried after it was made; then it becomes a dead letter.
    #[serde(with = "duration")]
    pub max_age: Duration,
    /// The first retry's backoff; each further one doubles it up to `backoff_max` (full
    /// jitter: the wait is drawn between zero and that).
    #[serde(with = "duration")]
    pub backoff_base: Duration,
    /// The longest backoff.
    #[serde(with = "duration")]
    pub backoff_max: Duration,
    /// POSTs in progress at once, over every receiver.
    pub concurrency: usize,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            timeout: Duration::from_secs(10),
            max_age: Duration::from_secs(24 * 3600),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            concurrency: 16,
        }
    }
}

/// `webhook` of an `[[api.tokens]]` entry: where that token's events are POSTed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The receiver: `https://…`, or `http://` to a loopback address only.
    pub url: String,
    /// A file whose content (trailing newline dropped) is the signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,
    /// The name of an environment variable holding the signing secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// Also send the states before the final one (queued, submitted); by default only
    /// final message states and verification outcomes are sent.
    #[serde(default)]
    pub intermediate: bool,
    /// The secret read from `secret_file` or `secret_env` when the configuration was
    /// loaded.
    #[serde(skip)]
    pub(crate) loaded_secret: Option<SecretString>,
}

impl WebhookConfig {
    /// A webhook to `url` signed with `secret` (for tests and code that builds a
    /// configuration by hand; a loaded one reads its secret from the file or variable).
    pub fn new(url: impl Into<String>, secret: SecretString) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            secret_file: None,
            secret_env: None,
            intermediate: false,
            loaded_secret: Some(secret),
        }
    }

    /// The signing secret; `None` only for a configuration built by hand without one.
    pub fn secret(&self) -> Option<&SecretString> {
        self.loaded_secret.as_ref()
    }
}

impl PartialEq for WebhookConfig {
    /// The same receiver, sources and states (the secret is what the sources give).
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
            && self.secret_file == other.secret_file
            && self.secret_env == other.secret_env
            && self.intermediate == other.intermediate
            && self.loaded_secret.as_ref().map(ExposeSecret::expose_secret)
                == other
                    .loaded_secret
                    .as_ref()
                    .map(ExposeSecret::expose_secret)
    }
}

impl Eq for WebhookConfig {}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written out so that the secret never reaches a Debug print.
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret_file", &self.secret_file)
            .field("secret_env", &self.secret_env)
            .field("intermediate", &self.intermediate)
            .field("secret", &self.loaded_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a webhook URL is refused.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed: hyper::Uri = url
        .parse()
        .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let Some(host) = parsed.host() else {
        return Err(format!("{url:?} has no host"));
    };
    match parsed.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "{url:?}: http:// only to a loopback address (127.0.0.1, ::1, localhost); use https://"
                ))
            }
        }
        _ => Err(format!(
            "{url:?}: the scheme must be https (or http to loopback)"
        )),
    }
}

/// The shortest signing secret accepted, in bytes.
const SECRET_MIN: usize = 16;

/// Checks `[webhooks]` and every token's `webhook`, and reads each secret from its file or
/// variable.
pub(super) fn validate(config: &mut Config, env: &BTreeMap<String, String>) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut fail = |key: KeyPath, message: String| errors.push(ConfigError::at(key, message));
    let w = &config.webhooks;
    let path = KeyPath::root().key("webhooks");
    let durations = [
        (
            "timeout",
            w.timeout,
            Duration::from_millis(100)..=Duration::from_secs(300),
        ),
        (
            "max_age",
            w.max_age,
            Duration::from_secs(1)..=Duration::from_secs(7 * 86_400),
        ),
        (
            "backoff_base",
            w.backoff_base,
            Duration::from_millis(1)..=Duration::from_secs(3600),
        ),
        (
            "backoff_max",
            w.backoff_max,
            Duration::from_millis(1)..=Duration::from_secs(86_400),
        ),
    ];
    for (key, value, allowed) in durations {
        if !allowed.contains(&value) {
            fail(
                path.key(key),
                format!(
                    "{} is not allowed ({}..={})",
                    Show(value),
                    Show(*allowed.start()),
                    Show(*allowed.end())
                ),
            );
        }
    }
    if w.backoff_max < w.backoff_base {
        fail(
            path.key("backoff_max"),
            format!(
                "{} is shorter than backoff_base ({})",
                Show(w.backoff_max),
                Show(w.backoff_base)
            ),
        );
    }
    if !(1..=1024).contains(&w.concurrency) {
        fail(
            path.key("concurrency"),
            format!("{} is not allowed (1..=1024)", w.concurrency),
        );
    }
    for (i, token) in config.api.tokens.iter_mut().enumerate() {
        let Some(hook) = token.webhook.as_mut() else {
            continue;
        };
        let at = KeyPath::root()
            .key("api")
            .key("tokens")
            .index(i)
            .key("webhook");
        if let Err(e) = check_url(&hook.url) {
            fail(at.key("url"), e);
        }
        let secret = match (&hook.secret_file, &hook.secret_env) {
            (None, None) => {
                fail(
                    at.clone(),
                    "a signing secret is needed: set secret_file or secret_env".into(),
                );
                continue;
            }
            (Some(_), Some(_)) => {
                fail(
                    at.clone(),
                    "secret_file and secret_env are set: set only one".into(),
                );
                continue;
            }
            (None, Some(var)) => {
                let key = at.key("secret_env");
                if var.starts_with(super::ENV_PREFIX) {
                    fail(
                        key,
                        format!(
                            "{var:?} is not allowed: {} variables are read as configuration overrides",
                            super::ENV_PREFIX
                        ),
                    );
                    continue;
                }
                let Some(value) = env.get(var) else {
                    fail(key, format!("the variable {var} is not set"));
                    continue;
                };
                (key, SecretString::from(value.as_str()))
            }
            (Some(file), None) => {
                let key = at.key("secret_file");
                match std::fs::read_to_string(file) {
                    Ok(text) => {
                        let line = text.strip_suffix('\n').unwrap_or(&text);
                        let line = line.strip_suffix('\r').unwrap_or(line);
                        (key, SecretString::from(line))
                    }
                    Err(e) => {
                        fail(key, format!("cannot read {}: {e}", file.display()));
                        continue;
                    }
                }
            }
        };
        let (key, secret) = secret;
        let len = secret.expose_secret().len();
        if len < SECRET_MIN {
            // The length only: the secret itself is never in a message.
            fail(
                key,
                format!("the secret has {len} bytes: at least {SECRET_MIN} are needed"),
            );
            continue;
        }
        hook.loaded_secret = Some(secret);
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

    fn token(webhook: &str) -> String {
        format!(
            r#"
[api]
enabled = true

[[api.tokens]]
name = "shop"
sha256 = "{}"
operations = ["*"]
rate = 10
{webhook}
"#,
            crate::api::auth::sha256_hex("t")
        )
    }

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        Config::from_toml(
            "t.toml",
            &format!("{toml}\n{CARRIER}"),
            env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .map_err(|e| e.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn a_webhook_reads_its_secret_from_the_environment() {
        let config = load(
            &token(
                "[api.tokens.webhook]\nurl = \"https://hooks.example.com/sms\"\nsecret_env = \"HOOK_SECRET\"\nintermediate = true\n",
            ),
            &[("HOOK_SECRET", "0123456789abcdef-secret")],
        )
        .unwrap();
        let hook = config.api.tokens[0].webhook.as_ref().unwrap();
        assert!(hook.intermediate);
        assert_eq!(
            hook.secret().map(ExposeSecret::expose_secret),
            Some("0123456789abcdef-secret")
        );
        let debug = format!("{hook:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        let shown = config.to_redacted_toml().unwrap();
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert_eq!(config.webhooks, WebhooksConfig::default());
    }

    #[test]
    fn a_webhook_reads_its_secret_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hook.secret");
        std::fs::write(&file, "a-file-secret-of-enough-bytes\n").unwrap();
        let config = load(
            &token(&format!(
                "[api.tokens.webhook]\nurl = \"http://127.0.0.1:9000/h\"\nsecret_file = {:?}\n",
                file.display().to_string()
            )),
            &[],
        )
        .unwrap();
        let hook = config.api.tokens[0].webhook.as_ref().unwrap();
        assert!(!hook.intermediate);
        assert_eq!(
            hook.secret().map(ExposeSecret::expose_secret),
            Some("a-file-secret-of-enough-bytes")
        );
    }

    #[test]
    fn bad_webhooks_are_reported_by_key() {
        let errs = load(
            &format!(
                "{}\n[webhooks]\ntimeout = \"0s\"\nbackoff_base = \"10s\"\nbackoff_max = \"1s\"\nconcurrency = 0\n",
                token("[api.tokens.webhook]\nurl = \"http://hooks.example.com/sms\"\nsecret_env = \"SHORT\"\n")
            ),
            &[("SHORT", "tiny")],
        )
        .unwrap_err();
        let keys = [
            "webhooks.timeout",
            "webhooks.backoff_max",
            "webhooks.concurrency",
            "api.tokens[0].webhook.url",
            "api.tokens[0].webhook.secret_env",
        ];
        for key in keys {
            assert!(
                errs.iter().any(|e| e.contains(key)),
                "{key} not in {errs:#?}"
            );
        }
        assert_eq!(errs.len(), keys.len(), "{errs:#?}");
        assert!(!errs.iter().any(|e| e.contains("tiny")), "{errs:#?}");
    }

    #[test]
    fn a_webhook_needs_exactly_one_secret_source_that_exists() {
        let none = load(
            &token("[api.tokens.webhook]\nurl = \"https://h.example.com/\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(
            none.iter()
                .any(|e| e.contains("api.tokens[0].webhook") && e.contains("secret")),
            "{none:#?}"
        );
        let unset = load(
            &token(
                "[api.tokens.webhook]\nurl = \"https://h.example.com/\"\nsecret_env = \"NOPE\"\n",
            ),
            &[],
        )
        .unwrap_err();
        assert!(
            unset
                .iter()
                .any(|e| e.contains("api.tokens[0].webhook.secret_env") && e.contains("NOPE")),
            "{unset:#?}"
        );
        let missing = load(
            &token("[api.tokens.webhook]\nurl = \"https://h.example.com/\"\nsecret_file = \"/nonexistent/hook.secret\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(
            missing
                .iter()
                .any(|e| e.contains("api.tokens[0].webhook.secret_file")),
            "{missing:#?}"
        );
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        assert!(check_url("https://hooks.example.com/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://[::1]:8080/x").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://10.0.0.1/x").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert!(check_url("not a url").is_err());
    }
}
