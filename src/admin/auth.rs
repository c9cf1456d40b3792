//! The admin tokens: the configured `[[admin.tokens]]`, held as their SHA-256 only (as the
//! API's are, [`crate::api::auth`]); a presented token is hashed and compared in constant
//! time with every entry.

use crate::config::{AdminAccess, AdminTokenConfig};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One configured token.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    access: AdminAccess,
    hash: [u8; 32],
}

/// Who presented a known token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminGrant {
    /// The token's name (for logs).
    pub name: String,
    /// What it may do.
    pub access: AdminAccess,
}

/// A token entry whose hash is not a SHA-256 (the configuration checks this first).
#[derive(Debug, thiserror::Error)]
#[error("admin.tokens[{0}].sha256: not 64 lower-case hex digits")]
pub struct BadHash(pub usize);

/// Every admin token.
#[derive(Debug, Clone, Default)]
pub struct AdminTokens(Vec<Entry>);

impl AdminTokens {
    /// From `[[admin.tokens]]`.
    ///
    /// # Errors
    /// [`BadHash`] naming the entry.
    pub fn new(config: &[AdminTokenConfig]) -> Result<AdminTokens, BadHash> {
        config
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(Entry {
                    name: t.name.clone(),
                    access: t.access,
                    hash: crate::api::auth::parse_sha256(&t.sha256).ok_or(BadHash(i))?,
                })
            })
            .collect::<Result<_, _>>()
            .map(AdminTokens)
    }

    /// The grant of `presented`: hashed, then compared with every entry in constant time.
    pub fn authenticate(&self, presented: &SecretString) -> Option<AdminGrant> {
        let hash = Sha256::digest(presented.expose_secret().as_bytes());
        let mut found = None;
        for entry in &self.0 {
            if bool::from(entry.hash.ct_eq(hash.as_slice())) {
                found = Some(AdminGrant {
                    name: entry.name.clone(),
                    access: entry.access,
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::sha256_hex;

    #[test]
    fn a_token_is_found_by_its_hash_with_its_access() {
        let tokens = AdminTokens::new(&[
            AdminTokenConfig {
                name: "ops".into(),
                sha256: sha256_hex("full-secret"),
                access: AdminAccess::Full,
            },
            AdminTokenConfig {
                name: "view".into(),
                sha256: sha256_hex("read-secret"),
                access: AdminAccess::Read,
            },
        ])
        .unwrap();
        let grant = |t: &str| tokens.authenticate(&SecretString::from(t));
        assert_eq!(
            grant("full-secret").map(|g| g.access),
            Some(AdminAccess::Full)
        );
        assert_eq!(grant("read-secret").map(|g| g.name), Some("view".into()));
        assert_eq!(grant("nope"), None);
        assert_eq!(grant(""), None);
        assert!(AdminTokens::new(&[AdminTokenConfig {
            name: "x".into(),
            sha256: "zz".into(),
            access: AdminAccess::Read,
        }])
        .is_err());
    }
}
