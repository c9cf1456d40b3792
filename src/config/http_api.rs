//! `[http_api]`: the HTTPS JSON API's listener (`crate::http_api`), beside the TCP API of
//! `[api]`: its address, its TLS (the same `{ cert_file, key_file }` as `[api.tls]`), its
//! limits and timeouts, and the checks of the section. Its tokens are `[[api.tokens]]`:
//! one set of tokens, one rate limit per token, whichever API a request comes by.
//! docs/api.md ("HTTPS JSON API") and docs/configuration.md describe it.

use super::api::ApiTlsConfig;
use super::carrier::TlsError;
use super::duration;
use super::duration::Show;
use super::error::{ConfigError, KeyPath};
use super::Config;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// `[http_api]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpApiConfig {
    /// Start the listener.
    pub enabled: bool,
    /// Where it listens (port 0 picks a free one). Without `tls` only a loopback address
    /// is allowed.
    pub address: SocketAddr,
    /// TLS on the listener; `None`: plain HTTP, on a loopback address only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ApiTlsConfig>,
    /// Largest request body in bytes; a larger one is refused (413, `too_large`).
    pub max_body: usize,
    /// Connections served at once; one more is answered 503 (`too_many_connections`)
    /// and closed.
    pub max_connections: usize,
    /// How long a new connection has for its TLS handshake.
    #[serde(with = "duration")]
    pub handshake_timeout: Duration,
    /// How long a request's headers may take, counted from the connection's start or
    /// from the previous response: an idle keep-alive connection is closed after it.
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have (408).
    #[serde(with = "duration")]
    pub body_timeout: Duration,
    /// The longest `GET /v1/events?wait=` a client may ask for (a longer one is cut to
    /// this).
    #[serde(with = "duration")]
    pub max_wait: Duration,
}

impl Default for HttpApiConfig {
    fn default() -> Self {
        HttpApiConfig {
            enabled: false,
            address: SocketAddr::from(([127, 0, 0, 1], 7777)),
            tls: None,
            max_body: 64 * 1024,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(5),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Checks `[http_api]` against the rest of the configuration (its tokens are checked with
/// `[api]`'s).
pub(super) fn validate(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let http = &config.http_api;
    let path = KeyPath::root().key("http_api");
    let mut fail = |key: KeyPath, message: String| errors.push(ConfigError::at(key, message));
    let ranges: [(&str, usize, std::ops::RangeInclusive<usize>); 2] = [
        ("max_body", http.max_body, 1024..=16 * 1024 * 1024),
        ("max_connections", http.max_connections, 1..=100_000),
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
    let second = Duration::from_secs(1);
    let durations = [
        (
            "handshake_timeout",
            http.handshake_timeout,
            Duration::from_millis(100)..=300 * second,
        ),
        (
            "header_timeout",
            http.header_timeout,
            Duration::from_millis(100)..=3600 * second,
        ),
        (
            "body_timeout",
            http.body_timeout,
            Duration::from_millis(100)..=3600 * second,
        ),
        ("max_wait", http.max_wait, Duration::ZERO..=300 * second),
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
    if !http.enabled {
        return errors;
    }
    let taken = [
        ("api.address", config.api.address, config.api.enabled),
        ("admin.address", config.admin.address, config.admin.enabled),
        ("metrics.address", config.metrics.address, true),
        (
            "simulator.smpp_address",
            config.simulator.smpp_address,
            config.simulator.enabled,
        ),
        (
            "simulator.control_address",
            config.simulator.control_address,
            config.simulator.enabled,
        ),
    ];
    for (key, addr, used) in taken {
        if used && addr.port() != 0 && addr == http.address {
            fail(path.key("address"), format!("{addr} is also {key}"));
        }
    }
    match &http.tls {
        Some(tls) => {
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
        None if !http.address.ip().is_loopback() => fail(
            path.key("address"),
            format!(
                "{} is not a loopback address: plain HTTP (no [http_api.tls]) would carry \
                 the tokens in clear; give it a cert_file and key_file, or listen on 127.0.0.1",
                http.address
            ),
        ),
        None => {}
    }
    if config.api.tokens.is_empty() {
        fail(
            KeyPath::root().key("api").key("tokens"),
            "at least one token is needed when the HTTPS API is enabled (http_api.enabled)".into(),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const REST: &str = r#"
[[api.tokens]]
name = "t"
sha256 = "77f27b2774a9bcc724309d3ed3c9f42a86db91121bc54a2bbaed62bfe044842c"
operations = ["*"]
rate = 10

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
        match Config::from_toml("t.toml", &format!("{toml}\n{REST}"), std::iter::empty()) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn plain_http_is_allowed_on_loopback_only() {
        assert_eq!(
            errors("[http_api]\nenabled = true\naddress = \"127.0.0.1:0\"\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            errors("[http_api]\nenabled = true\naddress = \"[::1]:8443\"\n"),
            Vec::<String>::new()
        );
        let errs = errors("[http_api]\nenabled = true\naddress = \"0.0.0.0:8443\"\n");
        assert!(
            errs.len() == 1
                && errs[0].contains("http_api.address")
                && errs[0].contains("not a loopback address"),
            "{errs:#?}"
        );
    }

    #[test]
    fn limits_files_and_addresses_are_reported_by_key() {
        let errs = errors(
            r#"
[http_api]
enabled = true
address = "127.0.0.1:9775"
max_body = 10
max_connections = 0
header_timeout = "0s"
max_wait = "1h"
tls = { cert_file = "/nonexistent/api.pem", key_file = "/nonexistent/api.key" }
"#,
        );
        let keys = [
            "http_api.max_body",
            "http_api.max_connections",
            "http_api.header_timeout",
            "http_api.max_wait",
            "http_api.address",
            "http_api.tls.cert_file",
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
    fn off_by_default_and_enabled_without_the_tcp_api_its_tokens_are_still_checked() {
        let config = Config::embedded_default().unwrap();
        assert!(!config.http_api.enabled);
        let errs = errors(
            "[http_api]\nenabled = true\n\n[[api.tokens]]\nname = \"Bad\"\nsha256 = \"x\"\noperations = [\"*\"]\nrate = 1\n",
        );
        assert!(
            errs.iter().any(|e| e.contains("api.tokens[0].name")),
            "{errs:#?}"
        );
        assert!(
            errs.iter().any(|e| e.contains("api.tokens[0].sha256")),
            "{errs:#?}"
        );
    }
}
