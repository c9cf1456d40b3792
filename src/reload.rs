//! Reloading the configuration into a running gateway. A [`Reloader`] remembers how the
//! configuration was loaded (its source, the `smsgate run` flags laid over it, where the
//! built-in simulator is listening), so a reload reads exactly what a restart would read:
//! the file stays the source of truth, and a change reloaded survives a restart.
//!
//! What reloads live: carriers (added, removed, changed; unchanged ones keep their
//! sessions), routes, the portability table and the `[outbox]` settings. Any other section
//! that differs is named in [`ReloadReport::needs_restart`] and left as it runs.
//! An invalid configuration is refused with its key path named, and the running one kept.

use crate::config::{Config, ConfigSource, LoadError};
use crate::gateway::{Applied, ApplyError, Gateway};
use crate::wiring::WiringError;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// The top-level sections a reload applies live; every other one needs a restart.
const LIVE: &[&str] = &["carriers", "routes", "portability", "outbox"];

/// Values that win over the configuration file (the `smsgate run` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--metrics-addr`.
    pub metrics_addr: Option<SocketAddr>,
    /// `--api-addr`.
    pub api_addr: Option<SocketAddr>,
    /// `--admin-addr`.
    pub admin_addr: Option<SocketAddr>,
    /// `--smpp-addr`.
    pub smpp_addr: Option<SocketAddr>,
    /// `--control-addr`.
    pub control_addr: Option<SocketAddr>,
    /// `--scenario`.
    pub scenario: Option<PathBuf>,
}

impl Overrides {
    /// Lays the overrides over `config`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(addr) = self.metrics_addr {
            config.metrics.address = addr;
        }
        if let Some(addr) = self.api_addr {
            config.api.address = addr;
        }
        if let Some(addr) = self.admin_addr {
            config.admin.address = addr;
        }
        if let Some(addr) = self.smpp_addr {
            config.simulator.smpp_address = addr;
        }
        if let Some(addr) = self.control_addr {
            config.simulator.control_address = addr;
        }
        if let Some(path) = &self.scenario {
            config.simulator.scenario = Some(path.clone());
        }
    }
}

/// Where the environment overrides (SMSGATE_…) are read from on each load.
pub type EnvSource = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// Why a reload was refused. The running configuration is kept as it was.
#[derive(Debug, Error)]
pub enum ReloadError {
    /// The configuration could not be read or is invalid (each error names its key).
    #[error("configuration refused: {0}")]
    Load(#[from] LoadError),
    /// The configuration is valid but something it names cannot be built (certificate,
    /// portability file), named by its key.
    #[error("configuration refused: {0}")]
    Wiring(#[from] WiringError),
    /// The gateway refused or could not finish the change.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

impl ReloadError {
    /// The configuration key at fault, when one is (`carriers.a.binds[0].window`).
    pub fn key(&self) -> Option<String> {
        match self {
            ReloadError::Load(LoadError::Invalid(errors)) => errors
                .iter()
                .find_map(|e| e.key.as_ref())
                .map(ToString::to_string),
            ReloadError::Load(LoadError::Read { .. }) => None,
            ReloadError::Wiring(e) => Some(match e {
                WiringError::Tls { carrier, bind, .. } => {
                    format!("carriers.{carrier}.binds[{bind}].tls")
                }
                WiringError::CountryCode { carrier, .. } => {
                    format!("carriers.{carrier}.country_code")
                }
                WiringError::NoPassword { carrier, bind } => {
                    format!("carriers.{carrier}.binds[{bind}]")
                }
                WiringError::Routes(_) => "routes".into(),
                WiringError::Sandbox(_) => "api.tokens".into(),
                WiringError::VerifyKey(_) => "verify".into(),
                WiringError::VerifyTemplates(_) => "verify.templates".into(),
                WiringError::Portability { .. } => "portability.file".into(),
                WiringError::Webhook(_) => "api.tokens".into(),
            }),
            ReloadError::Apply(_) => None,
        }
    }
}

/// What a reload did (the admin endpoint answers it as JSON). Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// The configuration's name (its path, or the embedded default's).
    pub source: String,
    /// What changed among carriers, routes and the portability table.
    #[serde(flatten)]
    pub applied: Applied,
    /// The routes were replaced by different ones.
    pub routes_changed: bool,
    /// The `[outbox]` settings were replaced by different ones.
    pub outbox_changed: bool,
    /// A portability table is configured (and was read again).
    pub portability: bool,
    /// Sections that differ from the running configuration but only take effect after a
    /// restart (top-level keys: `data_dir`, `api`, `metrics`, `simulator`, `log`,
    /// `verify`, `shutdown`…).
    pub needs_restart: Vec<String>,
}

/// Loads the configuration as `smsgate run` does, and reloads it into a running gateway.
pub struct Reloader {
    source: ConfigSource,
    env: EnvSource,
    overrides: Overrides,
    /// The simulator's address as the file gives it, and where it actually listens.
    simulator: Option<(SocketAddr, SocketAddr)>,
    /// The configuration running now (as last loaded and applied).
    running: parking_lot::Mutex<Option<Config>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("source", &self.source.name())
            .field("overrides", &self.overrides)
            .field("simulator", &self.simulator)
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader over `source` with the process environment and `overrides`.
    pub fn new(source: ConfigSource, overrides: Overrides) -> Reloader {
        Reloader {
            source,
            env: Arc::new(crate::config::process_env),
            overrides,
            simulator: None,
            running: parking_lot::Mutex::new(None),
        }
    }

    /// The same, reading the environment overrides from `env` (tests).
    #[must_use]
    pub fn with_env(mut self, env: EnvSource) -> Reloader {
        self.env = env;
        self
    }

    /// The configuration's name.
    pub fn source_name(&self) -> String {
        self.source.name()
    }

    /// Reads and validates the configuration, lays the overrides over it and, once the
    /// simulator is started ([`Reloader::follow_simulator`]), points its binds at it.
    /// Also returns the simulator's address as the file gave it (before the flags).
    ///
    /// # Errors
    /// [`LoadError`] naming the file or each invalid key.
    pub fn load(&self) -> Result<(Config, SocketAddr), LoadError> {
        let mut config = Config::load(self.source.clone(), (self.env)())?;
        let binds_at = config.simulator.smpp_address;
        self.overrides.apply(&mut config);
        if let Some((binds_at, actual)) = self.simulator {
            crate::sim::follow(&mut config, binds_at, actual);
        }
        Ok((config, binds_at))
    }

    /// From now on, binds configured at `binds_at` go to the simulator at `actual`.
    pub fn follow_simulator(&mut self, binds_at: SocketAddr, actual: SocketAddr) {
        self.simulator = Some((binds_at, actual));
    }

    /// Records the configuration the gateway was started with.
    pub fn started(&self, config: &Config) {
        *self.running.lock() = Some(config.clone());
    }

    /// Reads the configuration again and applies it to `gateway`: carriers, routes,
    /// portability table and outbox settings live; what else differs is reported as
    /// needing a restart. Refused (nothing changed) when the configuration is invalid.
    ///
    /// # Errors
    /// [`ReloadError`] naming the invalid key, file or carrier.
    pub async fn reload(&self, gateway: &Gateway) -> Result<ReloadReport, ReloadError> {
        let (config, _) = self.load()?;
        let spec = crate::wiring::spec(&config)?;
        let portability = config.portability.is_some();
        let running = self.running.lock().clone();
        let (needs_restart, routes_changed, outbox_changed) = match &running {
            Some(old) => (
                needs_restart(old, &config),
                section(old, "routes") != section(&config, "routes"),
                old.outbox != config.outbox,
            ),
            None => (Vec::new(), true, true),
        };
        let applied = gateway.reconfigure(spec).await?;
        // The live sections now run as loaded; the others keep what is running.
        let mut now_running = running.unwrap_or_else(|| config.clone());
        now_running.carriers = config.carriers;
        now_running.routes = config.routes;
        now_running.portability = config.portability;
        now_running.outbox = config.outbox;
        *self.running.lock() = Some(now_running);
        Ok(ReloadReport {
            source: self.source.name(),
            applied,
            routes_changed,
            outbox_changed,
            portability,
            needs_restart,
        })
    }
}

/// A top-level section of `config`, as its serialised form (secrets redacted, so a
/// changed secret alone in a restart-only section is not seen).
fn section(config: &Config, key: &str) -> Option<serde_json::Value> {
    match serde_json::to_value(config) {
        Ok(serde_json::Value::Object(mut map)) => map.remove(key),
        _ => None,
    }
}

/// The top-level sections, other than the live ones, in which `new` differs from `old`.
fn needs_restart(old: &Config, new: &Config) -> Vec<String> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return vec!["(the configuration could not be compared)".into()];
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !LIVE.contains(&k.as_str()) && old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
