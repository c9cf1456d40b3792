//! The service's configuration: typed sections read from TOML (a file, stdin, or the
//! embedded `config/smsgate.toml`), `SMSGATE_…` environment overrides over it, and a
//! validation at start whose errors name the key, the value and where it came from.
//!
//! The environment is always handed in ([`Config::load`] takes `(name, value)` pairs), so
//! tests never touch the process environment; only the binary passes [`process_env`].
//! Keys, defaults and ranges are documented in docs/configuration.md.

mod admin;
mod api;
mod carrier;
pub mod duration;
mod env;
mod error;
mod http_api;
mod japan;
mod locate;
pub mod portability;
mod validate;
mod verify;
mod webhooks;

#[cfg(test)]
mod tests;

pub use admin::{AdminAccess, AdminConfig, AdminTokenConfig};
pub use api::{ApiConfig, ApiTlsConfig, TokenConfig, TokenMode, SANDBOX_CARRIER};
pub use carrier::{
    BindConfig, BindShape, CarrierConfig, EnquireLink, TlsConfig, TlsError, REDACTED,
};
pub use env::PREFIX as ENV_PREFIX;
pub use error::{ConfigError, ConfigErrors, KeyPath, LoadError, Origin, Segment};
pub use http_api::HttpApiConfig;
pub use japan::JapanProfile;
pub use portability::{PortabilityConfig, PortabilityLoadError};
pub use verify::{BudgetsConfig, NumberConfig, ProfileConfig, TemplateConfig, VerifyConfig};
pub use webhooks::{WebhookConfig, WebhooksConfig};

use crate::carrier::backoff::BackoffPolicy;
use crate::carrier::router::{PortabilityTable, RouteKind, RouteRule, RouteRuleError, Router};
use crate::telemetry::LogFormat;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The embedded default configuration (`config/smsgate.toml`): the built-in simulator and a
/// carrier bound to it.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/smsgate.toml");

/// The name errors in the embedded default are reported under.
pub const EMBEDDED_NAME: &str = "embedded default (config/smsgate.toml)";

/// The whole configuration. Relative paths are taken from the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory of the sled database (message state, events); created if missing.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The storage engine's page cache, in MiB: pages read or written are kept in memory
    /// up to this, the rest are read from disk again.
    #[serde(default = "default_data_cache_mb")]
    pub data_cache_mb: u64,
    /// The simulated SMSC started in the same process.
    #[serde(default)]
    pub simulator: SimulatorConfig,
    /// The Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Log filter and format.
    #[serde(default)]
    pub log: LogConfig,
    /// Durability, retry and limits of the outbox.
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// The shutdown protocol's deadline.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The TCP API: listener, limits, tokens.
    #[serde(default)]
    pub api: ApiConfig,
    /// The admin HTTP listener: status, carrier stop/start, reload, the status page.
    #[serde(default)]
    pub admin: AdminConfig,
    /// The HTTPS JSON API: listener, TLS, limits (its tokens are `api.tokens`).
    #[serde(default)]
    pub http_api: HttpApiConfig,
    /// The verifier: key, texts, profiles, limits, budgets.
    #[serde(default)]
    pub verify: VerifyConfig,
    /// The webhook dispatcher: timeout, retries, concurrency (each token's receiver is
    /// `[[api.tokens]] webhook`).
    #[serde(default)]
    pub webhooks: WebhooksConfig,
    /// The number-portability table; `None`: routing by prefix only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portability: Option<PortabilityConfig>,
    /// The carriers by name (`[carriers.docomo]`).
    #[serde(default)]
    pub carriers: BTreeMap<String, CarrierConfig>,
    /// Longest-prefix routing rules (`[[routes]]`).
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_data_cache_mb() -> u64 {
    crate::store::DEFAULT_CACHE_BYTES >> 20
}

/// `[simulator]`: the simulated SMSC (fixtures/smsc-sim) served in process, for a service
/// that runs on a fresh machine with no carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Start it.
    pub enabled: bool,
    /// Where its SMPP listener binds (port 0 picks a free one); wins over the scenario's.
    pub smpp_address: SocketAddr,
    /// Where its HTTP control interface binds; wins over the scenario's.
    pub control_address: SocketAddr,
    /// A scenario file (fixtures/scenarios/NAME.toml); `None`: the simulator's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<PathBuf>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            enabled: false,
            smpp_address: SocketAddr::from(([127, 0, 0, 1], 2775)),
            control_address: SocketAddr::from(([127, 0, 0, 1], 8775)),
            scenario: None,
        }
    }
}

/// What `simulator.enabled = true` is refused with by a binary built without the `sim`
/// feature (and what `smsgate run` says there).
pub const NO_SIMULATOR: &str = "this build has no simulator (built without the \"sim\" feature)";

#[cfg(feature = "sim")]
impl SimulatorConfig {
    /// The simulator's own configuration: the scenario (or its default), then the two
    /// addresses from here, and the account of the API's sandbox carrier
    /// ([`SANDBOX_ACCOUNT`]). The sandbox binds with an account of its own because an SMSC
    /// may deliver a receipt on any session of the account that submitted: on a shared
    /// account a live message's receipt could arrive on the sandbox's bind (or the other
    /// way round) and match nothing there.
    pub fn sim_config(&self) -> Result<smsc_sim::Config, smsc_sim::SimError> {
        let mut config = simulator_config(
            self.scenario.as_deref(),
            Some(self.smpp_address),
            Some(self.control_address),
        )?;
        if !config
            .accounts
            .iter()
            .any(|a| a.system_id == SANDBOX_ACCOUNT.0)
        {
            config
                .accounts
                .push(smsc_sim::Account::new(SANDBOX_ACCOUNT.0, SANDBOX_ACCOUNT.1));
        }
        Ok(config)
    }
}

/// The built-in simulator's account for the sandbox carrier: system_id and password (a
/// simulator on loopback; not a secret).
#[cfg(feature = "sim")]
pub const SANDBOX_ACCOUNT: (&str, &str) = ("smsgate-sbx", "sandbox");

/// A simulator configuration: the scenario at `scenario` (or the simulator's default), the
/// addresses given laid over it, validated. [`SimulatorConfig::sim_config`] and
/// `smsgate run`'s flags both build theirs here.
#[cfg(feature = "sim")]
pub fn simulator_config(
    scenario: Option<&std::path::Path>,
    smpp_address: Option<SocketAddr>,
    control_address: Option<SocketAddr>,
) -> Result<smsc_sim::Config, smsc_sim::SimError> {
    let mut config = match scenario {
        Some(path) => smsc_sim::Config::from_file(path)?,
        None => smsc_sim::Config::default(),
    };
    if let Some(addr) = smpp_address {
        config.smpp_addr = addr;
    }
    if let Some(addr) = control_address {
        config.control_addr = addr;
    }
    config.validate()?;
    Ok(config)
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served (Prometheus text format).
    pub address: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            address: SocketAddr::from(([127, 0, 0, 1], 9775)),
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Which events are written, in `RUST_LOG` syntax (`info`, `smsgate=debug,sled=warn`).
    pub filter: String,
    /// One line of text per event, or one JSON object.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info".to_owned(),
            format: LogFormat::default(),
        }
    }
}

/// `[outbox]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Backoff before a message that met a transient failure is tried again (see
    /// [`crate::outbox::Settings::retry`]).
    pub retry: BackoffPolicy,
    /// How long a client reference is remembered: a second submit with it within this
    /// time returns the first message and sends nothing.
    #[serde(with = "duration")]
    pub idempotency_window: Duration,
    /// How long after its validity (or its last submission) a submitted message waits for
    /// its delivery receipts before it ends as failed (no receipt in time).
    #[serde(with = "duration")]
    pub receipt_wait: Duration,
    /// Messages not yet final the outbox holds at most; a submit beyond is refused
    /// ([`crate::outbox::SubmitError::QueueFull`]).
    pub max_queued: usize,
    /// Queued messages of one carrier's class kept in memory; the rest of a longer queue
    /// wait on disk only (see [`crate::outbox::Settings::in_memory`]).
    pub in_memory: usize,
    /// How long a final message stays readable after its last change; then its record and
    /// carrier ids are removed from the data directory.
    #[serde(with = "duration")]
    pub retention: Duration,
    /// How long an event stays in the event log (the API's event stream, the webhooks).
    #[serde(with = "duration")]
    pub events_retention: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            retry: BackoffPolicy::default(),
            idempotency_window: Duration::from_secs(24 * 3600),
            receipt_wait: Duration::from_secs(72 * 3600),
            max_queued: 1_000_000,
            in_memory: 10_000,
            retention: Duration::from_secs(7 * 24 * 3600),
            events_retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// `[shutdown]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownConfig {
    /// How long the binds are given to answer unbind before they are closed anyway.
    #[serde(with = "duration")]
    pub unbind_deadline: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            unbind_deadline: Duration::from_secs(5),
        }
    }
}

/// One `[[routes]]` rule as the configuration writes it: its route kind is in a Japan
/// profile (the route's or its carriers'), so it becomes the router's [`RouteRule`]
/// through [`RouteConfig::rule`] (and [`Config::router`], which checks it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Leading digits of the E.164 number (no `+`) this rule serves; the longest matching
    /// prefix wins; `""` matches every number.
    pub prefix: String,
    /// The carriers to use, the first first, the next on failover.
    pub carriers: Vec<String>,
    /// A Japan profile for this route, in place of the carriers' own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub japan: Option<JapanProfile>,
}

impl RouteConfig {
    /// The kind of the route: its own Japan profile's `route_kind`, else its first
    /// carrier's, else domestic (the profile's default).
    pub fn kind(&self, carriers: &BTreeMap<String, CarrierConfig>) -> RouteKind {
        let first = || {
            let carrier = carriers.get(self.carriers.first()?)?;
            carrier.japan.as_ref()
        };
        self.japan
            .as_ref()
            .or_else(first)
            .map(|j| j.route_kind)
            .unwrap_or_default()
    }

    /// The router's rule for it (unchecked: [`Router::new`] checks it).
    pub fn rule(&self, carriers: &BTreeMap<String, CarrierConfig>) -> RouteRule {
        RouteRule {
            prefix: self.prefix.clone(),
            carriers: self.carriers.clone(),
            kind: self.kind(carriers),
        }
    }
}

/// Where the configuration text comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// The embedded `config/smsgate.toml`.
    Embedded,
    /// A file.
    File(PathBuf),
    /// Standard input, read to its end.
    Stdin,
}

impl ConfigSource {
    /// The name errors are reported under: the path, "stdin" or the embedded default's.
    pub fn name(&self) -> String {
        match self {
            ConfigSource::Embedded => EMBEDDED_NAME.to_owned(),
            ConfigSource::File(path) => path.display().to_string(),
            ConfigSource::Stdin => "stdin".to_owned(),
        }
    }

    /// The name and the text.
    fn read(self) -> Result<(String, String), LoadError> {
        let name = self.name();
        let text = match self {
            ConfigSource::Embedded => Ok(EMBEDDED_DEFAULT.to_owned()),
            ConfigSource::File(path) => std::fs::read_to_string(path),
            ConfigSource::Stdin => {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).map(|_| text)
            }
        };
        text.map(|text| (name.clone(), text))
            .map_err(|source| LoadError::Read { what: name, source })
    }
}

/// The process environment as `(name, value)` pairs for [`Config::load`], for the binary.
/// Variables whose name or value is not UTF-8 are left out.
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

impl Config {
    /// Reads the configuration from `source`, applies the `SMSGATE_…` overrides found in
    /// `env`, loads the secrets (`password_env` from `env`, `password_file` from disk) and
    /// validates it all.
    pub fn load(
        source: ConfigSource,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, LoadError> {
        let (name, text) = source.read()?;
        Config::from_toml(&name, &text, env).map_err(LoadError::Invalid)
    }

    /// [`Config::load`] on text in hand; `name` is what errors call it.
    pub fn from_toml(
        name: &str,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigErrors> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let located = |errors: Vec<ConfigError>, applied: &[env::Applied]| {
            ConfigErrors(locate::locate(errors, name, text, applied))
        };
        let mut table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => return Err(ConfigErrors(vec![locate::syntax_error(&e, name, text)])),
        };
        let (applied, mut errors) = env::apply(&mut table, &env);
        let mut config: Config = match serde_path_to_error::deserialize(toml::Value::Table(table)) {
            Ok(c) => c,
            Err(e) => {
                let key = KeyPath::from_serde(e.path());
                errors.push(ConfigError::at(key, e.into_inner().message()));
                return Err(located(errors, &applied));
            }
        };
        errors.extend(validate::validate(&mut config, &env));
        errors.extend(api::validate(&config));
        errors.extend(admin::validate(&config));
        errors.extend(http_api::validate(&config));
        errors.extend(verify::validate(&mut config, &env));
        errors.extend(webhooks::validate(&mut config, &env));
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(located(errors, &applied))
        }
    }

    /// The embedded default, with no environment overrides.
    pub fn embedded_default() -> Result<Config, ConfigErrors> {
        Config::from_toml(EMBEDDED_NAME, EMBEDDED_DEFAULT, std::iter::empty())
    }

    /// The router over `[[routes]]`, with no portability table yet
    /// ([`Config::portability_table`] reads it).
    ///
    /// # Errors
    ///
    /// Every problem of the rules; never for a configuration from [`Config::load`], whose
    /// validation reports them by key.
    pub fn router(&self) -> Result<Router, Vec<RouteRuleError>> {
        Router::new(self.routes.iter().map(|r| r.rule(&self.carriers)))
    }

    /// The portability table of `[portability]`, read now (at start, and on reload), with
    /// every carrier it names checked to be configured; `None` without the section.
    ///
    /// # Errors
    ///
    /// [`PortabilityLoadError`] naming the file and the line.
    pub fn portability_table(&self) -> Result<Option<PortabilityTable>, PortabilityLoadError> {
        self.portability
            .as_ref()
            .map(|p| p.load(|name| self.carriers.contains_key(name)))
            .transpose()
    }

    /// The configuration as TOML, every secret written as `"<redacted>"` (`password_env`
    /// and `password_file` show where a password comes from, not the password).
    pub fn to_redacted_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}
