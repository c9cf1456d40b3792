//! API tokens: the configured ones, held as their SHA-256 only; finding the token a
//! `hello` presents (hash, then a constant-time comparison with every entry); what a
//! token may do (its operations, its mode) and its rate limit, shared by all its
//! connections.

use super::proto::{ApiError, ErrorCode};
use crate::carrier::throttle::TokenBucket;
use crate::config::{TokenConfig, TokenMode};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// The SHA-256 of `text` written as 64 lower-case hex digits, or `None`.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (digit(*hi)?, digit(*lo)?),
            _ => return None,
        };
        *slot = hi << 4 | lo;
    }
    Some(out)
}

/// `token`'s SHA-256 as lower-case hex, as `[[api.tokens]] sha256` wants it.
pub fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One configured token: what a session that presented it may do.
#[derive(Debug)]
pub struct Grant {
    /// Its name, for logs and the hello answer.
    pub name: String,
    /// Live or sandbox.
    pub mode: TokenMode,
    /// The operations it may use besides hello and ping; `None`: all of them.
    operations: Option<Vec<String>>,
    /// Its requests per second, over every connection that presented it.
    bucket: Mutex<TokenBucket>,
    /// The token's SHA-256.
    hash: [u8; 32],
}

impl Grant {
    /// Whether it may use `op`.
    pub fn allows(&self, op: &str) -> bool {
        matches!(op, "hello" | "ping")
            || self
                .operations
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|o| o == op))
    }

    /// The operations it may use, for the hello answer.
    pub fn operations(&self) -> Vec<String> {
        match &self.operations {
            Some(ops) => ops.clone(),
            None => super::proto::OPERATIONS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// Takes one request from its rate limit; false: over the limit now.
    pub fn take(&self, now: Instant) -> bool {
        self.bucket.lock().try_take(1, now)
    }

    /// The checks every request of an authenticated client passes, in this order, for
    /// both APIs: the operation is granted (`forbidden`), then one request is taken from
    /// the rate limit (`rate_limited`).
    pub fn admit(&self, op: &str, now: Instant) -> Result<(), ApiError> {
        if !self.allows(op) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("token {:?} may not use {op}", self.name),
            ));
        }
        if !self.take(now) {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "token {:?} is over its rate limit; try again in a moment",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

/// Why the tokens could not be built (the configuration checks all of this first).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a SHA-256.
    #[error("api.tokens[{0}].sha256: not 64 lower-case hex digits")]
    Hash(usize),
    /// A rate the bucket refuses.
    #[error("api.tokens[{index}].rate: {reason}")]
    Rate {
        /// The entry.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// Every configured token.
#[derive(Debug, Clone, Default)]
pub struct Tokens(Vec<Arc<Grant>>);

impl Tokens {
    /// From `[[api.tokens]]`; `now` starts every rate limit full.
    pub fn new(config: &[TokenConfig], now: Instant) -> Result<Tokens, TokenError> {
        let mut grants = Vec::with_capacity(config.len());
        for (index, token) in config.iter().enumerate() {
            let hash = parse_sha256(&token.sha256).ok_or(TokenError::Hash(index))?;
            let bucket =
                TokenBucket::new(f64::from(token.rate), token.rate.max(1), now).map_err(|e| {
                    TokenError::Rate {
                        index,
                        reason: e.to_string(),
                    }
                })?;
            let all = token.operations.iter().any(|o| o == "*");
            grants.push(Arc::new(Grant {
                name: token.name.clone(),
                mode: token.mode,
                operations: (!all).then(|| token.operations.clone()),
                bucket: Mutex::new(bucket),
                hash,
            }));
        }
        Ok(Tokens(grants))
    }

    /// The grant of the token presented, compared in constant time with every entry.
    pub fn authenticate(&self, presented: &SecretString) -> Option<Arc<Grant>> {
        let hash = Sha256::digest(presented.expose_secret().as_bytes());
        let mut found = None;
        for grant in &self.0 {
            if bool::from(grant.hash.ct_eq(hash.as_slice())) {
                found = Some(grant.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(name: &str, secret: &str, ops: &[&str], rate: u32, mode: TokenMode) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            sha256: sha256_hex(secret),
            operations: ops.iter().map(|s| (*s).to_owned()).collect(),
            rate,
            mode,
            webhook: None,
        }
    }

    #[test]
    fn the_dev_token_hashes_to_the_embedded_default_entry() {
        assert_eq!(
            sha256_hex("smsgate-dev-token"),
            "77f27b2774a9bcc724309d3ed3c9f42a86db91121bc54a2bbaed62bfe044842c"
        );
        assert!(parse_sha256(&sha256_hex("x")).is_some());
        assert!(parse_sha256(&sha256_hex("x").to_uppercase()).is_none());
        assert!(parse_sha256("abc").is_none());
    }

    #[test]
    fn a_token_is_found_by_its_hash_and_grants_only_its_operations() {
        let now = Instant::now();
        let tokens = Tokens::new(
            &[
                token("all", "secret-a", &["*"], 10, TokenMode::Live),
                token(
                    "status",
                    "secret-b",
                    &["message.status"],
                    10,
                    TokenMode::Sandbox,
                ),
            ],
            now,
        )
        .unwrap();
        assert!(tokens.authenticate(&"nope".into()).is_none());
        let all = tokens.authenticate(&"secret-a".into()).unwrap();
        assert_eq!(all.name, "all");
        assert!(all.allows("message.submit"));
        let status = tokens.authenticate(&"secret-b".into()).unwrap();
        assert_eq!(status.mode, TokenMode::Sandbox);
        assert!(status.allows("message.status"));
        assert!(status.allows("ping"));
        assert!(!status.allows("message.submit"));
        assert_eq!(status.operations(), vec!["message.status".to_owned()]);
    }

    #[test]
    fn the_rate_limit_allows_a_second_worth_then_refills() {
        let now = Instant::now();
        let tokens = Tokens::new(&[token("t", "s", &["*"], 3, TokenMode::Live)], now).unwrap();
        let grant = tokens.authenticate(&"s".into()).unwrap();
        assert!((0..3).all(|_| grant.take(now)));
        assert!(!grant.take(now));
        assert!(grant.take(now + std::time::Duration::from_millis(400)));
    }
}
