//! One carrier's section, `[carriers.NAME]`: its binds (where, as whom, how many, TLS), the
//! pace it allows, timers, address forms, the long-message method, the form of its message
//! ids, its retry policy and its Japan profile.

use super::duration;
use super::japan::JapanProfile;
use crate::carrier::backoff::BackoffPolicy;
use crate::carrier::msgid::MessageIdForm;
use crate::carrier::number::{AddressFormat, NumberPlan, PlanError};
use crate::carrier::retry::RetryPolicy;
use crate::store::{LongMessage, RegisteredDelivery};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smpp::session::BindMode;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// `[carriers.NAME]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// The SMPP sessions to hold open to this carrier; at least one entry.
    pub binds: Vec<BindConfig>,
    /// submit_sm per second over all binds of the carrier together (what its contract
    /// allows); `None`: only the per-bind limits apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tps: Option<u32>,
    /// Keep-alive: how often an idle bind sends enquire_link and how long it waits for the
    /// answer before it gives the connection up.
    #[serde(default)]
    pub enquire_link: EnquireLink,
    /// How long a request (submit_sm, unbind, …) may stay unanswered before it counts as
    /// lost (the response_timer of section 7.2).
    #[serde(default = "default_response_timeout", with = "duration")]
    pub response_timeout: Duration,
    /// Wait between attempts to connect and bind again after a bind is lost or refused.
    #[serde(default)]
    pub reconnect: BackoffPolicy,
    /// TON/NPI and number form of source_addr (the sender).
    #[serde(default = "AddressFormat::default_source")]
    pub source: AddressFormat,
    /// TON/NPI and number form of destination_addr (the handset).
    #[serde(default = "AddressFormat::default_destination")]
    pub destination: AddressFormat,
    /// Country calling code, without `+`, that `national` numbers drop and replace by the
    /// trunk prefix 0 (81 for Japan); see [`CarrierConfig::number_plan`].
    #[serde(default = "default_country_code")]
    pub country_code: String,
    /// How a text longer than one short message is carried.
    #[serde(default)]
    pub long_message: LongMessage,
    /// How the carrier writes its message ids in receipts compared with submit_sm_resp.
    #[serde(default)]
    pub message_id: MessageIdForm,
    /// Which command_status values are retried, failed over or final.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// validity_period sent with a message that sets none (5.2.16), and how long the
    /// gateway keeps trying to submit it.
    #[serde(default = "default_validity", with = "duration")]
    pub default_validity: Duration,
    /// Which delivery receipts to ask for (5.2.17) when a message wants them.
    #[serde(default)]
    pub registered_delivery: RegisteredDelivery,
    /// With no bound bind for this long, the router sends this carrier's traffic to the
    /// next carrier of each route.
    #[serde(default = "default_failover_after", with = "duration")]
    pub failover_after: Duration,
    /// The Japanese rules of this carrier; `None`: none apply. A route may set its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub japan: Option<JapanProfile>,
}

fn default_response_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_country_code() -> String {
    "81".to_owned()
}

fn default_validity() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_failover_after() -> Duration {
    Duration::from_secs(60)
}

/// The trunk prefix a `national` number starts with.
const TRUNK_PREFIX: &str = "0";

impl CarrierConfig {
    /// TCP connections the carrier's binds open together (a pair counts two).
    pub fn connections(&self) -> u32 {
        self.binds.iter().map(BindConfig::connections).sum()
    }

    /// The numbering plan the carrier's numbers are written in: `country_code` and the
    /// trunk prefix 0. No international prefix: the configuration has none, and writing a
    /// number needs none. The validation at load builds it, so `country_code` is checked
    /// by [`NumberPlan::new`] alone.
    ///
    /// # Errors
    ///
    /// [`PlanError::CountryCode`] for a `country_code` that is not 1 to 3 digits without a
    /// leading 0; never for a configuration from [`crate::config::Config::load`].
    pub fn number_plan(&self) -> Result<NumberPlan, PlanError> {
        NumberPlan::new(&self.country_code, Some(TRUNK_PREFIX), None)
    }
}

/// One entry of `binds`: `count` identical sessions (or transmitter + receiver pairs) to one
/// SMSC address with one account.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindConfig {
    /// The SMSC's host name or IP address.
    pub host: String,
    /// The SMSC's SMPP port.
    pub port: u16,
    /// system_id of the bind (5.2.1), the account name the carrier issued.
    pub system_id: String,
    /// The password written inline: for the simulator and tests; deployments use
    /// `password_env` or `password_file` so the secret stays out of the file.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "secret::deserialize",
        serialize_with = "secret::serialize"
    )]
    pub password: Option<SecretString>,
    /// The name of the environment variable that holds the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// A file whose content (trailing newline dropped) is the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// system_type of the bind (5.2.3); empty for most carriers.
    #[serde(default)]
    pub system_type: String,
    /// One transceiver session, or a transmitter and a receiver session (`mode` in the
    /// configuration).
    #[serde(default, rename = "mode")]
    pub shape: BindShape,
    /// How many of them (sessions, or pairs).
    #[serde(default = "one")]
    pub count: u32,
    /// Requests each session may have unanswered at once (the carrier's window; the range
    /// is [`crate::carrier::window::SIZES`]).
    #[serde(default = "default_window")]
    pub window: u32,
    /// submit_sm per second per session; `None`: only the carrier's limit applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tps: Option<u32>,
    /// SMPP over TLS, for carriers that require it; `None`: plain TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// The password read from `password_env` or `password_file` when the configuration was
    /// loaded (an inline one stays in `password`).
    #[serde(skip)]
    pub(crate) loaded_password: Option<SecretString>,
}

fn one() -> u32 {
    1
}

fn default_window() -> u32 {
    10
}

impl BindConfig {
    /// The password to bind with, wherever it was configured. `None` only for a
    /// `BindConfig` built by hand, never for one from [`crate::config::Config::load`].
    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref().or(self.loaded_password.as_ref())
    }

    /// TCP connections this entry opens: `count` times the sessions of its shape.
    pub fn connections(&self) -> u32 {
        let per_entry = u32::try_from(self.shape.modes().len()).unwrap_or(u32::MAX);
        self.count.saturating_mul(per_entry)
    }
}

impl fmt::Debug for BindConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written out so that no secret can reach a Debug print, even through a field
        // added later: the password fields show only whether they are set.
        f.debug_struct("BindConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &self.password().map(|_| "<redacted>"))
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .field("system_type", &self.system_type)
            .field("shape", &self.shape)
            .field("count", &self.count)
            .field("window", &self.window)
            .field("tps", &self.tps)
            .field("tls", &self.tls)
            .finish()
    }
}

/// serde for the inline password: never echoes a value in an error, and writes only
/// `"<redacted>"`.
mod secret {
    use super::*;
    use serde::de::{Error, Visitor};

    /// What `config show` writes for an inline password.
    pub const REDACTED: &str = "<redacted>";

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        struct SecretVisitor;
        impl Visitor<'_> for SecretVisitor {
            type Value = SecretString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<SecretString, E> {
                Ok(SecretString::from(v))
            }
            // serde's default messages quote the value; a password is never quoted.
            fn visit_i64<E: Error>(self, _: i64) -> Result<SecretString, E> {
                Err(not_a_string())
            }
            fn visit_u64<E: Error>(self, _: u64) -> Result<SecretString, E> {
                Err(not_a_string())
            }
            fn visit_f64<E: Error>(self, _: f64) -> Result<SecretString, E> {
                Err(not_a_string())
            }
            fn visit_bool<E: Error>(self, _: bool) -> Result<SecretString, E> {
                Err(not_a_string())
            }
        }
        d.deserialize_any(SecretVisitor).map(Some)
    }

    /// The error for a password that is not a string, without its value.
    fn not_a_string<E: Error>() -> E {
        E::custom("a password must be a string (write it in quotes)")
    }

    pub fn serialize<S: Serializer>(_: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

pub use secret::REDACTED;

/// The shape of one `binds` entry (`mode` in the configuration): which sessions each of its
/// `count` opens. Not a bind mode itself: each session is opened in one of the
/// [`BindShape::modes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindShape {
    /// One bind_transceiver session (4.1.5) that submits and receives.
    #[default]
    Transceiver,
    /// A bind_transmitter session (4.1.1) for submits plus a bind_receiver session (4.1.3)
    /// for receipts and MOs, with the same account.
    Pair,
}

impl BindShape {
    /// Its name in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            BindShape::Transceiver => "transceiver",
            BindShape::Pair => "pair",
        }
    }

    /// The sessions it opens, each by the mode it binds in.
    pub fn modes(self) -> &'static [BindMode] {
        match self {
            BindShape::Transceiver => &[BindMode::Transceiver],
            BindShape::Pair => &[BindMode::Transmitter, BindMode::Receiver],
        }
    }
}

/// `enquire_link = { interval = "30s", timeout = "10s" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnquireLink {
    /// Idle time after which the bind sends enquire_link (the enquire_link_timer, 7.2).
    #[serde(with = "duration")]
    pub interval: Duration,
    /// How long the answer may take before the connection is given up.
    #[serde(with = "duration")]
    pub timeout: Duration,
}

impl Default for EnquireLink {
    fn default() -> Self {
        EnquireLink {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

/// `tls = { ca_file = "...", server_name = "...", client_cert = "...", client_key = "..." }`:
/// SMPP over TLS (rustls). Its presence turns TLS on; there is no switch to skip checking
/// the carrier's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA certificates the carrier's certificate must chain to.
    pub ca_file: PathBuf,
    /// Name the certificate must be issued to; by default the bind's `host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// PEM certificate chain to present, for carriers that authenticate the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

/// Why a TLS setting cannot be used. [`TlsError::key`] names the key below `tls`.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The key that names the file.
        key: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A certificate file with no PEM certificate in it.
    #[error("{path} holds no PEM certificate")]
    NoCertificate {
        /// The key that names the file.
        key: &'static str,
        /// The file.
        path: String,
    },
    /// A key file with no PEM private key in it.
    #[error("{path} holds no PEM private key")]
    NoKey {
        /// The file.
        path: String,
    },
    /// Only one of client_cert and client_key is set.
    #[error("client_cert and client_key go together: set both or neither")]
    HalfClientAuth,
    /// A server name that is neither a DNS name nor an IP address.
    #[error("{0:?} is not a DNS name or an IP address")]
    ServerName(String),
    /// rustls refused the certificates or the key.
    #[error("{message}")]
    Rustls {
        /// The key whose content was refused.
        key: &'static str,
        /// rustls's reason.
        message: String,
    },
}

impl TlsError {
    /// The key below `tls` the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            TlsError::Read { key, .. }
            | TlsError::NoCertificate { key, .. }
            | TlsError::Rustls { key, .. } => key,
            TlsError::NoKey { .. } | TlsError::HalfClientAuth => "client_key",
            TlsError::ServerName(_) => "server_name",
        }
    }
}

impl TlsConfig {
    /// The name to check the carrier's certificate against: `server_name`, else `host`.
    pub fn server_name(&self, host: &str) -> Result<ServerName<'static>, TlsError> {
        let name = self.server_name.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_owned()).map_err(|_| TlsError::ServerName(name.to_owned()))
    }

    /// A rustls client configuration from the files (read now, so a renewed certificate is
    /// picked up at the next connect).
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in read_certs("ca_file", &self.ca_file)? {
            roots.add(cert).map_err(|e| TlsError::Rustls {
                key: "ca_file",
                message: e.to_string(),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls {
                key: "ca_file",
                message: e.to_string(),
            })?
            .with_root_certificates(roots);
        let config = match (&self.client_cert, &self.client_key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(
                    read_certs("client_cert", cert)?,
                    read_key("client_key", key)?,
                )
                .map_err(|e| TlsError::Rustls {
                    key: "client_key",
                    message: e.to_string(),
                })?,
            _ => return Err(TlsError::HalfClientAuth),
        };
        Ok(Arc::new(config))
    }
}

fn read_file(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.display().to_string(),
        source,
    })
}

pub(super) fn read_certs(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(key, path)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Read {
            key,
            path: path.display().to_string(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            key,
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

pub(super) fn read_key(key: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_file(key, path)?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|source| TlsError::Read {
            key,
            path: path.display().to_string(),
            source,
        })?
        .ok_or_else(|| TlsError::NoKey {
            path: path.display().to_string(),
        })
}
