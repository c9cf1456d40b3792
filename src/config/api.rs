//! `[api]`: the TCP API's listener, its limits, its optional TLS and its tokens (stored as
//! SHA-256 hashes, each with its operations, rate limit and mode), and the checks of that
//! section. The protocol itself is `crate::api`; docs/api.md and docs/configuration.md
//! describe both.

use super::carrier::{read_certs, read_key, TlsError};
use super::duration;
use super::duration::Show;
use super::error::{ConfigError, KeyPath};
use super::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The name of the carrier the gateway adds for sandbox tokens (bound to the built-in
/// simulator); no configured carrier may take it while a sandbox token exists.
pub const SANDBOX_CARRIER: &str = "sandbox";

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Start the listener.
    pub enabled: bool,
    /// Where it listens (port 0 picks a free one).
    pub address: SocketAddr,
    /// Longest request line in bytes, newline excluded; a longer one closes the
    /// connection (`too_large`).
    pub max_line: usize,
    /// Connections served at once; one more is told `too_many_connections` and closed.
    pub max_connections: usize,
    /// How long a new connection has to send a successful `hello` (no slowloris).
    #[serde(with = "duration")]
    pub hello_deadline: Duration,
    /// How long a connection with no request and no subscription stays open.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// Requests of one connection being worked on at once; the connection is not read
    /// further until one is answered.
    pub max_in_flight: usize,
    /// Event lines queued for one subscriber; a subscriber that falls this far behind is
    /// cut off (`slow_subscriber`) and resumes with its cursor.
    pub event_buffer: usize,
    /// TLS on the listener; `None`: plain TCP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ApiTlsConfig>,
    /// Who may connect.
    pub tokens: Vec<TokenConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: false,
            address: SocketAddr::from(([127, 0, 0, 1], 7775)),
            max_line: 64 * 1024,
            max_connections: 1024,
            hello_deadline: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            max_in_flight: 256,
            event_buffer: 1024,
            tls: None,
            tokens: Vec::new(),
        }
    }
}

/// `[api.tls]`: the listener's certificate and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTlsConfig {
    /// PEM certificate chain, the server's first.
    pub cert_file: PathBuf,
    /// PEM private key of the first certificate.
    pub key_file: PathBuf,
}

impl ApiTlsConfig {
    /// The rustls server configuration from the files (read now).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let certs = read_certs("cert_file", &self.cert_file)?;
        let key = read_key("key_file", &self.key_file)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| TlsError::Rustls {
                key: "key_file",
                message: e.to_string(),
            })?;
        Ok(Arc::new(config))
    }
}

/// Whether a token's messages go to carriers or to the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenMode {
    /// Messages are routed to the configured carriers.
    #[default]
    Live,
    /// Messages go to the built-in simulated SMSC whatever the routes say; the token
    /// sees only sandbox messages and their events.
    Sandbox,
}

impl TokenMode {
    /// `"live"` or `"sandbox"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenMode::Live => "live",
            TokenMode::Sandbox => "sandbox",
        }
    }
}

/// `[[api.tokens]]`: one client credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// What logs call it (the token itself is never logged).
    pub name: String,
    /// Lower-case hex SHA-256 of the token (`printf %s TOKEN | sha256sum`).
    pub sha256: String,
    /// The operations it may use (`hello` and `ping` always); `["*"]`: all of them.
    pub operations: Vec<String>,
    /// Requests per second it may make over all its connections (a second's worth may
    /// come at once); more are refused with `rate_limited`.
    pub rate: u32,
    /// `live` or `sandbox`.
    #[serde(default)]
    pub mode: TokenMode,
    /// Where this token's receipts and verification outcomes are POSTed; `None`: no
    /// webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<super::WebhookConfig>,
}

/// The longest a token's name may be.
const TOKEN_NAME_MAX: usize = 32;

/// Checks `[api]` against the rest of the configuration.
pub(super) fn validate(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let api = &config.api;
    let path = KeyPath::root().key("api");
    let mut fail = |key: KeyPath, message: String| errors.push(ConfigError::at(key, message));
    let ranges: [(&str, usize, std::ops::RangeInclusive<usize>); 4] = [
        ("max_line", api.max_line, 1024..=16 * 1024 * 1024),
        ("max_connections", api.max_connections, 1..=100_000),
        ("max_in_flight", api.max_in_flight, 1..=65_536),
        ("event_buffer", api.event_buffer, 1..=1_000_000),
    ];
    for (key, value, allowed) in ranges {
        if !allowed.contains(&value) {
            fail(
                path.key(key),
                format!(
                    "{value} is not allowed ({}..={})",
                    allowed.start(),
                    allowed.end()
                ),
            );
        }
    }
    let durations = [
        (
            "hello_deadline",
            api.hello_deadline,
            Duration::from_millis(100)..=Duration::from_secs(300),
        ),
        (
            "idle_timeout",
            api.idle_timeout,
            Duration::from_secs(1)..=Duration::from_secs(86_400),
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
    // The tokens serve the HTTPS API too (`[http_api]`): they are checked when either runs.
    if !api.enabled && !config.http_api.enabled {
        return errors;
    }
    let taken = [
        ("metrics.address", config.metrics.address),
        ("simulator.smpp_address", config.simulator.smpp_address),
        (
            "simulator.control_address",
            config.simulator.control_address,
        ),
    ];
    for (key, addr) in taken {
        let used = api.enabled && (key == "metrics.address" || config.simulator.enabled);
        if used && addr.port() != 0 && addr == api.address {
            fail(path.key("address"), format!("{addr} is also {key}"));
        }
    }
    if let Some(tls) = api.tls.as_ref().filter(|_| api.enabled) {
        if let Err(e) = tls.server_config() {
            let key = match &e {
                TlsError::Read { key, .. }
                | TlsError::NoCertificate { key, .. }
                | TlsError::Rustls { key, .. } => key,
                _ => "key_file",
            };
            fail(path.key("tls").key(key), e.to_string());
        }
    }
    if api.tokens.is_empty() {
        fail(
            path.key("tokens"),
            "at least one token is needed when the API is enabled".into(),
        );
    }
    let mut names = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for (i, token) in api.tokens.iter().enumerate() {
        let at = path.key("tokens").index(i);
        let name_ok = !token.name.is_empty()
            && token.name.len() <= TOKEN_NAME_MAX
            && token
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            fail(
                at.key("name"),
                format!(
                    "the name {:?} is not allowed (1 to {TOKEN_NAME_MAX} of a-z, 0-9, -, _)",
                    token.name
                ),
            );
        } else if !names.insert(token.name.as_str()) {
            fail(
                at.key("name"),
                format!("{:?} names another token too", token.name),
            );
        }
        if crate::api::auth::parse_sha256(&token.sha256).is_none() {
            fail(
                at.key("sha256"),
                "not a SHA-256: 64 lower-case hex digits (printf %s TOKEN | sha256sum)".into(),
            );
        } else if !hashes.insert(token.sha256.as_str()) {
            fail(at.key("sha256"), "the same token as another entry".into());
        }
        if token.operations.is_empty() {
            fail(
                at.key("operations"),
                "at least one operation (or \"*\" for all)".into(),
            );
        }
        for (j, op) in token.operations.iter().enumerate() {
            if op != "*" && !crate::api::proto::OPERATIONS.contains(&op.as_str()) {
                fail(
                    at.key("operations").index(j),
                    format!(
                        "{op:?} is not an operation ({}, or \"*\")",
                        crate::api::proto::OPERATIONS.join(", ")
                    ),
                );
            }
        }
        if !(1..=100_000).contains(&token.rate) {
            fail(
                at.key("rate"),
                format!("{} is not allowed (1..=100000)", token.rate),
            );
        }
        if token.mode == TokenMode::Sandbox && !config.simulator.enabled {
            fail(
                at.key("mode"),
                "a sandbox token needs the built-in simulator (simulator.enabled = true)".into(),
            );
        }
    }
    if api.tokens.iter().any(|t| t.mode == TokenMode::Sandbox)
        && config.carriers.contains_key(SANDBOX_CARRIER)
    {
        fail(
            KeyPath::root().key("carriers").key(SANDBOX_CARRIER),
            format!(
                "the name {SANDBOX_CARRIER:?} is taken by the carrier of the API's sandbox tokens"
            ),
        );
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

    fn errors(toml: &str) -> Vec<String> {
        match Config::from_toml("t.toml", &format!("{toml}\n{CARRIER}"), std::iter::empty()) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn the_embedded_default_serves_the_api_with_a_live_and_a_sandbox_token() {
        let config = Config::embedded_default().unwrap();
        assert!(config.api.enabled);
        assert_eq!(config.api.address, SocketAddr::from(([127, 0, 0, 1], 7775)));
        let modes: Vec<_> = config.api.tokens.iter().map(|t| t.mode).collect();
        assert_eq!(modes, [TokenMode::Live, TokenMode::Sandbox]);
        assert_eq!(
            config.api.tokens[1].sha256,
            crate::api::auth::sha256_hex("smsgate-sandbox-token")
        );
    }

    #[test]
    fn bad_tokens_are_reported_by_key() {
        let errs = errors(
            r#"
[api]
enabled = true
max_line = 10

[[api.tokens]]
name = "Bad Name"
sha256 = "abc"
operations = ["message.submit", "warp"]
rate = 0
mode = "sandbox"
"#,
        );
        let keys = [
            "api.max_line",
            "api.tokens[0].name",
            "api.tokens[0].sha256",
            "api.tokens[0].operations[1]",
            "api.tokens[0].rate",
            "api.tokens[0].mode",
        ];
        for key in keys {
            assert!(
                errs.iter().any(|e| e.contains(key)),
                "{key} not in {errs:#?}"
            );
        }
        assert_eq!(errs.len(), keys.len(), "{errs:#?}");
    }

    #[test]
    fn an_enabled_api_needs_a_token_and_a_free_address() {
        let errs = errors("[api]\nenabled = true\naddress = \"127.0.0.1:9775\"\n");
        assert!(errs.iter().any(|e| e.contains("api.tokens")), "{errs:#?}");
        assert!(
            errs.iter()
                .any(|e| e.contains("api.address") && e.contains("metrics.address")),
            "{errs:#?}"
        );
        assert!(errors("[api]\nenabled = false\n").is_empty());
    }
}
