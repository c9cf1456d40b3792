//! From the validated configuration to the gateway's spec: each carrier's binds, pacing,
//! text and address rules, retry classes and id form; the router with its portability
//! table; the outbox's settings. The configuration has checked every range already; what
//! can still fail here (a certificate file, the portability CSV) is named by its key.

use crate::carrier::bind::{BindSpec, Endpoint};
use crate::carrier::link::LinkSettings;
use crate::carrier::number::NumberPlan;
use crate::carrier::pool::PoolSettings;
use crate::carrier::router::PortabilityTable;
use crate::carrier::throttle::{PacerConfig, MAX_RATE};
use crate::config::{CarrierConfig, Config};
use crate::gateway::{CarrierSpec, GatewaySpec};
use crate::outbox::{Addressing, CarrierProfile, Settings, ShiftJisRule, TextProfile};
use std::time::Duration;
use thiserror::Error;

/// What could not be built from the configuration.
#[derive(Debug, Error)]
pub enum WiringError {
    /// A bind's TLS settings (certificate files, server name).
    #[error("carriers.{carrier}.binds[{bind}].tls: {reason}")]
    Tls {
        /// The carrier.
        carrier: String,
        /// The bind entry.
        bind: usize,
        /// What failed.
        reason: String,
    },
    /// A country code the numbering plan refuses (the loader checks it; a bug guard).
    #[error("carriers.{carrier}.country_code: {reason}")]
    CountryCode {
        /// The carrier.
        carrier: String,
        /// What is wrong.
        reason: String,
    },
    /// A bind without a password (the loader resolves every one; this is a bug guard).
    #[error("carriers.{carrier}.binds[{bind}]: no password")]
    NoPassword {
        /// The carrier.
        carrier: String,
        /// The bind entry.
        bind: usize,
    },
    /// The routes.
    #[error("routes: {0}")]
    Routes(String),
    /// The sandbox tokens' carrier (bound to the built-in simulator).
    #[error("api.tokens: the sandbox carrier: {0}")]
    Sandbox(String),
    /// The verifier's key ring.
    #[error("verify: {0}")]
    VerifyKey(#[from] crate::verify::key::KeyError),
    /// The verifier's texts (the loader checks them; a bug guard).
    #[error("verify.templates: {0}")]
    VerifyTemplates(#[from] crate::verify::template::TemplateError),
    /// A token's webhook (the loader checks it; a bug guard).
    #[error(transparent)]
    Webhook(#[from] crate::webhook::SpecError),
    /// The portability table.
    #[error("portability.file {path}: {reason}")]
    Portability {
        /// The file.
        path: String,
        /// What failed, with the line.
        reason: String,
    },
}

/// The portability table the configuration names, read from its file now (at start, and
/// again on SIGHUP); `None` when none is configured.
///
/// # Errors
/// [`WiringError::Portability`] naming the file and the line.
pub fn portability(config: &Config) -> Result<Option<PortabilityTable>, WiringError> {
    config
        .portability_table()
        .map_err(|e| WiringError::Portability {
            path: config
                .portability
                .as_ref()
                .map(|p| p.file.display().to_string())
                .unwrap_or_default(),
            reason: e.to_string(),
        })
}

/// Builds the gateway's spec from a validated configuration.
pub fn spec(config: &Config) -> Result<GatewaySpec, WiringError> {
    let mut carriers = config
        .carriers
        .iter()
        .map(|(name, carrier)| carrier_spec(config, name, carrier))
        .collect::<Result<Vec<_>, _>>()?;
    let sandbox = sandbox_carrier(config)?;
    let sandbox_name = sandbox.as_ref().map(|c| c.name.clone());
    carriers.extend(sandbox);
    let mut router = config.router().map_err(|errors| {
        WiringError::Routes(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    if let Some(table) = portability(config)? {
        router.set_portability(table);
    }
    let longest_validity = config
        .carriers
        .values()
        .map(|c| c.default_validity)
        .max()
        .unwrap_or(Duration::from_secs(48 * 3600));
    Ok(GatewaySpec {
        data_dir: config.data_dir.clone(),
        data_cache_bytes: config.data_cache_mb.saturating_mul(1 << 20),
        outbox: Settings {
            max_validity_ms: ms(longest_validity.max(Duration::from_secs(48 * 3600))),
            client_ref_ttl_ms: ms(config.outbox.idempotency_window),
            receipt_wait_ms: ms(config.outbox.receipt_wait),
            retry: config.outbox.retry,
            max_open: config.outbox.max_queued,
            in_memory: config.outbox.in_memory,
            retention_ms: ms(config.outbox.retention),
            events_retention_ms: ms(config.outbox.events_retention),
            ..Settings::default()
        },
        carriers,
        router,
        plan: NumberPlan::japan(),
        unbind_deadline: config.shutdown.unbind_deadline,
        sandbox: sandbox_name,
        verify: verify_spec(config)?,
        // Webhooks belong to API tokens: none without an API (TCP or HTTPS) to use them.
        webhooks: if config.api.enabled || config.http_api.enabled {
            crate::webhook::WebhookSpec::from_config(config)?
        } else {
            None
        },
    })
}

/// The verifier's spec, with its key ring loaded (or generated) now; `None` when
/// `verify.enabled` is off.
///
/// # Errors
/// [`WiringError::VerifyKey`] naming the key file or variable.
pub fn verify_spec(config: &Config) -> Result<Option<crate::gateway::VerifySpec>, WiringError> {
    let v = &config.verify;
    if !v.enabled {
        return Ok(None);
    }
    Ok(Some(crate::gateway::VerifySpec {
        policy: v.policy(),
        settings: v.core_settings()?,
        keys: std::sync::Arc::new(v.key_ring(&config.data_dir)?),
    }))
}

/// The carrier of the API's sandbox tokens: one transceiver session to the built-in
/// simulator (at `simulator.smpp_address`, where the simulator is listening once started)
/// with its scenario's first account; no route names it. `None` when no enabled API
/// token is a sandbox token (the configuration refuses one without the simulator).
fn sandbox_carrier(config: &Config) -> Result<Option<CarrierSpec>, WiringError> {
    let wanted = config.api.enabled
        && config
            .api
            .tokens
            .iter()
            .any(|t| t.mode == crate::config::TokenMode::Sandbox);
    if !wanted || !config.simulator.enabled {
        return Ok(None);
    }
    sandbox_for_simulator(config).map(Some)
}

#[cfg(feature = "sim")]
fn sandbox_for_simulator(config: &Config) -> Result<CarrierSpec, WiringError> {
    use toml::Value;
    let err = |e: &dyn std::fmt::Display| WiringError::Sandbox(e.to_string());
    let sim = config.simulator.sim_config().map_err(|e| err(&e))?;
    let account = sim
        .accounts
        .iter()
        .find(|a| a.system_id == crate::config::SANDBOX_ACCOUNT.0)
        .ok_or_else(|| err(&"the simulator has no sandbox account"))?;
    let addr = config.simulator.smpp_address;
    let bind = toml::Table::from_iter([
        ("host".to_owned(), Value::from(addr.ip().to_string())),
        ("port".to_owned(), Value::from(i64::from(addr.port()))),
        (
            "system_id".to_owned(),
            Value::from(account.system_id.clone()),
        ),
        ("password".to_owned(), Value::from(account.password.clone())),
        ("window".to_owned(), Value::from(100)),
    ]);
    let carrier = toml::Table::from_iter([
        ("binds".to_owned(), Value::Array(vec![Value::Table(bind)])),
        ("message_id".to_owned(), Value::from("as_is")),
    ]);
    let carrier: CarrierConfig = carrier.try_into().map_err(|e| err(&e))?;
    carrier_spec(config, crate::config::SANDBOX_CARRIER, &carrier)
}

#[cfg(not(feature = "sim"))]
fn sandbox_for_simulator(_: &Config) -> Result<CarrierSpec, WiringError> {
    Err(WiringError::Sandbox(crate::config::NO_SIMULATOR.into()))
}

fn carrier_spec(
    config: &Config,
    name: &str,
    carrier: &CarrierConfig,
) -> Result<CarrierSpec, WiringError> {
    let backoff = carrier.reconnect;
    let mut binds = Vec::new();
    let mut tps_sum = 0.0;
    for (entry, bind) in carrier.binds.iter().enumerate() {
        let password = bind
            .password()
            .cloned()
            .ok_or_else(|| WiringError::NoPassword {
                carrier: name.to_owned(),
                bind: entry,
            })?;
        let tls = match &bind.tls {
            None => None,
            Some(tls) => {
                let err = |reason: String| WiringError::Tls {
                    carrier: name.to_owned(),
                    bind: entry,
                    reason,
                };
                let client = tls.client_config().map_err(|e| err(e.to_string()))?;
                let server = tls
                    .server_name(&bind.host)
                    .map_err(|e| err(e.to_string()))?;
                Some((client, server))
            }
        };
        let modes = bind.shape.modes();
        let window = usize::try_from(bind.window).unwrap_or(usize::MAX);
        let tps = bind.tps.map_or(MAX_RATE, f64::from);
        for _ in 0..bind.count {
            for &mode in modes {
                if mode.can_submit() {
                    tps_sum += tps;
                }
                let spec = BindSpec {
                    carrier: name.to_owned(),
                    index: binds.len(),
                    endpoint: Endpoint {
                        host: bind.host.clone(),
                        port: bind.port,
                        tls: tls.clone(),
                    },
                    link: LinkSettings {
                        mode,
                        system_id: bind.system_id.clone(),
                        password: password.clone(),
                        system_type: bind.system_type.clone(),
                        addr_ton: 0,
                        addr_npi: 0,
                        address_range: String::new(),
                        window,
                        response_timeout: carrier.response_timeout,
                        bind_timeout: carrier.response_timeout,
                        enquire_interval: carrier.enquire_link.interval,
                        enquire_timeout: carrier.enquire_link.timeout,
                        unbind_timeout: config.shutdown.unbind_deadline,
                    },
                    backoff,
                };
                binds.push((spec, PacerConfig::new(tps, burst(tps), window)));
            }
        }
    }
    let carrier_tps = carrier
        .tps
        .map_or(tps_sum.min(MAX_RATE), f64::from)
        .max(crate::carrier::throttle::MIN_RATE);
    Ok(CarrierSpec {
        name: name.to_owned(),
        profile: profile(name, carrier)?,
        pool: PoolSettings {
            carrier: name.to_owned(),
            tps: carrier_tps,
            burst: burst(carrier_tps),
            failover_after: carrier.failover_after,
        },
        binds,
        matcher: carrier.message_id.matcher(),
    })
}

/// A tenth of a second's worth of submits may go back to back (at least one).
fn burst(tps: f64) -> u32 {
    let tenth = (tps / 10.0).ceil();
    if tenth >= f64::from(crate::carrier::throttle::MAX_BURST) {
        crate::carrier::throttle::MAX_BURST
    } else if tenth >= 1.0 {
        // In range: 1 ..= MAX_BURST.
        tenth as u32
    } else {
        1
    }
}

/// Milliseconds of `d`, as the outbox counts time.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The outbox's view of a carrier: its Japan profile's text and sender rules, its address
/// formats, validity, receipts and retry policy.
fn profile(name: &str, carrier: &CarrierConfig) -> Result<CarrierProfile, WiringError> {
    let japan = carrier.japan.as_ref();
    let plan = carrier
        .number_plan()
        .map_err(|e| WiringError::CountryCode {
            carrier: name.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(CarrierProfile {
        text: TextProfile {
            long_message: carrier.long_message,
            max_chars: japan.map(|j| j.max_length),
            ucs2: japan.is_none_or(|j| j.ucs2),
            shift_jis: japan.map_or(ShiftJisRule::Off, |j| j.sjis_only),
        },
        addressing: Addressing {
            plan,
            destination: carrier.destination,
            source: carrier.source,
            sender_form: japan.map(|j| j.sender_form),
            default_sender: japan.and_then(|j| j.sender.clone()),
        },
        default_validity_ms: ms(carrier.default_validity),
        registered_delivery: carrier.registered_delivery,
        retry: carrier.retry.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::number::{AddressFormat, NumberFormat};
    use crate::carrier::retry::RetryPolicy;
    use crate::outbox::SenderForm;
    use crate::store::{LongMessage, RegisteredDelivery};

    const TOML: &str = r#"
data_cache_mb = 32

[outbox]
retry = { initial = "2s", max = "1m" }
max_queued = 5
in_memory = 7
retention = "30d"
events_retention = "2d"

[carriers.au]
registered_delivery = "failure"
source = { ton = 0, npi = 0, format = "national" }
long_message = "sar"
default_validity = "6h"
retry = { ESME_RSYSERR = "permanent" }
japan = { max_length = 300, ucs2 = false, sjis_only = true, sender_form = "short_code", sender = "0005123456" }

[[carriers.au.binds]]
host = "127.0.0.1"
port = 2775
system_id = "acme"
password = "pw"

[[routes]]
prefix = "81"
carriers = ["au"]
"#;

    /// The configuration of `text` over a data directory of its own: the spec loads the
    /// verifier's key file there (creating it), never in the working directory.
    fn load(text: &str) -> (Config, tempfile::TempDir) {
        let mut config = Config::from_toml("test.toml", text, std::iter::empty()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        config.data_dir = dir.path().to_path_buf();
        (config, dir)
    }

    #[test]
    fn every_carrier_and_outbox_key_reaches_the_spec() {
        let (config, _dir) = load(TOML);
        let spec = spec(&config).unwrap();
        assert_eq!(spec.outbox.retry.base(0), Duration::from_secs(2));
        assert_eq!(spec.outbox.retry.maximum(), Duration::from_secs(60));
        assert_eq!(spec.outbox.max_open, 5);
        assert_eq!(spec.outbox.in_memory, 7);
        assert_eq!(spec.outbox.retention_ms, 30 * 86_400_000);
        assert_eq!(spec.outbox.events_retention_ms, 2 * 86_400_000);
        assert_eq!(spec.data_cache_bytes, 32 << 20);
        let au = &spec.carriers[0];
        assert_eq!(
            au.profile,
            CarrierProfile {
                text: TextProfile {
                    long_message: LongMessage::Sar,
                    max_chars: Some(300),
                    ucs2: false,
                    shift_jis: ShiftJisRule::All,
                },
                addressing: Addressing {
                    plan: NumberPlan::new("81", Some("0"), None).unwrap(),
                    destination: AddressFormat::default_destination(),
                    source: AddressFormat {
                        ton: 0,
                        npi: 0,
                        format: NumberFormat::National,
                    },
                    sender_form: Some(SenderForm::ShortCode),
                    default_sender: Some("0005123456".into()),
                },
                default_validity_ms: 6 * 3_600_000,
                registered_delivery: RegisteredDelivery::Failure,
                retry: toml::from_str::<RetryPolicy>("ESME_RSYSERR = \"permanent\"").unwrap(),
            }
        );
    }

    #[test]
    fn a_carrier_without_a_japan_profile_has_no_japanese_rules() {
        let text = TOML.replace(
            "japan = { max_length = 300, ucs2 = false, sjis_only = true, sender_form = \"short_code\", sender = \"0005123456\" }\n",
            "",
        );
        let (config, _dir) = load(&text);
        let profile = &spec(&config).unwrap().carriers[0].profile;
        assert_eq!(
            profile.text,
            TextProfile {
                long_message: LongMessage::Sar,
                ..TextProfile::default()
            }
        );
        assert_eq!(
            (
                profile.addressing.sender_form,
                &profile.addressing.default_sender
            ),
            (None, &None)
        );
    }
}
