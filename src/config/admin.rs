//! `[admin]`: the admin HTTP listener (status, carrier stop/start, reload, metrics, the
//! status page; `crate::admin`) on an address of its own, and its tokens, stored as their
//! SHA-256 like `[[api.tokens]]`: a `full` token may change things, a `read` token may only
//! look. docs/operations.md describes the endpoints.

use super::error::{ConfigError, KeyPath};
use super::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// `[admin]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Start the listener.
    pub enabled: bool,
    /// Where it listens (port 0 picks a free one).
    pub address: SocketAddr,
    /// Who may ask.
    pub tokens: Vec<AdminTokenConfig>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: false,
            address: SocketAddr::from(([127, 0, 0, 1], 7776)),
            tokens: Vec::new(),
        }
    }
}

/// What an admin token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAccess {
    /// Read the status, the metrics and the page.
    Read,
    /// All of that, and stop or start carriers and reload.
    Full,
}

/// `[[admin.tokens]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenConfig {
    /// What logs call it (the token itself is never logged).
    pub name: String,
    /// Lower-case hex SHA-256 of the token (`printf %s TOKEN | sha256sum`).
    pub sha256: String,
    /// `read` or `full`.
    pub access: AdminAccess,
}

/// Checks `[admin]` against the rest of the configuration.
pub(super) fn validate(config: &Config) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let admin = &config.admin;
    if !admin.enabled {
        return errors;
    }
    let path = KeyPath::root().key("admin");
    let mut fail = |key: KeyPath, message: String| errors.push(ConfigError::at(key, message));
    let taken = [
        ("metrics.address", config.metrics.address, true),
        ("api.address", config.api.address, config.api.enabled),
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
        if used && addr.port() != 0 && addr == admin.address {
            fail(path.key("address"), format!("{addr} is also {key}"));
        }
    }
    if admin.tokens.is_empty() {
        fail(
            path.key("tokens"),
            "at least one token is needed when the admin listener is enabled".into(),
        );
    }
    let mut names = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    for (i, token) in admin.tokens.iter().enumerate() {
        let at = path.key("tokens").index(i);
        let name_ok = (1..=32).contains(&token.name.len())
            && token
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            fail(
                at.key("name"),
                format!(
                    "the name {:?} is not allowed (1 to 32 of a-z, 0-9, -, _)",
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
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_default_serves_admin_with_a_full_and_a_read_token() {
        let config = Config::embedded_default().unwrap();
        assert!(config.admin.enabled);
        assert_eq!(
            config.admin.address,
            SocketAddr::from(([127, 0, 0, 1], 7776))
        );
        let hashes: Vec<_> = config
            .admin
            .tokens
            .iter()
            .map(|t| (t.access, t.sha256.clone()))
            .collect();
        assert_eq!(
            hashes,
            [
                (
                    AdminAccess::Full,
                    crate::api::auth::sha256_hex("smsgate-admin-token")
                ),
                (
                    AdminAccess::Read,
                    crate::api::auth::sha256_hex("smsgate-status-token")
                ),
            ]
        );
    }

    #[test]
    fn bad_admin_settings_are_reported_by_key() {
        let toml = r#"
[metrics]
address = "127.0.0.1:9775"

[admin]
enabled = true
address = "127.0.0.1:9775"

[[admin.tokens]]
name = "Bad"
sha256 = "abc"
access = "full"
"#;
        let errs: Vec<String> = match Config::from_toml("t.toml", toml, std::iter::empty()) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        };
        for key in [
            "admin.address",
            "admin.tokens[0].name",
            "admin.tokens[0].sha256",
        ] {
            assert!(
                errs.iter().any(|e| e.contains(key)),
                "{key} not in {errs:#?}"
            );
        }
        let refused = Config::from_toml("t.toml", "[admin]\nenabled = true\n", std::iter::empty());
        assert!(refused.is_err());
    }
}
