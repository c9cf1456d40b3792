//! From the validated configuration to the gateway's spec: each carrier's binds, pacing,
//! text and address rules, retry classes and id form; the router with its portability
//! table; the outbox's settings. The configuration has checked every range already; what
//! can still fail here (a certificate file, the portability CSV) is named by its key.

use crate::carrier::bind::{BindSpec, Endpoint};
use crate::carrier::link::LinkSettings;
use crate::carrier::number::{NumberFormat, NumberPlan as Numbering};
use crate::carrier::pool::PoolSettings;
use crate::carrier::throttle::{PacerConfig, MAX_RATE};
use crate::config::{
    AddressFormat, CarrierConfig, Config, LongMessageMethod, StatusClass as ConfigClass,
};
use crate::gateway::{CarrierSpec, GatewaySpec};
use crate::outbox::{
    Addressing, CarrierProfile, NumberPlan, Settings, ShiftJisRule, StatusClass, TextProfile,
    TonNpi,
};
use crate::store::LongMessage;
use std::sync::Arc;
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
    /// The portability table.
    #[error("portability.file {path}: {reason}")]
    Portability {
        /// The file.
        path: String,
        /// What failed, with the line.
        reason: String,
    },
}

/// Builds the gateway's spec from a validated configuration.
pub fn spec(config: &Config) -> Result<GatewaySpec, WiringError> {
    let carriers = config
        .carriers
        .iter()
        .map(|(name, carrier)| carrier_spec(config, name, carrier))
        .collect::<Result<Vec<_>, _>>()?;
    let mut router = config.router().map_err(|errors| {
        WiringError::Routes(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let portability = config
        .portability_table()
        .map_err(|e| WiringError::Portability {
            path: config
                .portability
                .as_ref()
                .map(|p| p.file.display().to_string())
                .unwrap_or_default(),
            reason: e.to_string(),
        })?;
    if let Some(table) = portability {
        router.set_portability(table);
    }
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let longest_validity = config
        .carriers
        .values()
        .map(|c| c.default_validity)
        .max()
        .unwrap_or(Duration::from_secs(48 * 3600));
    Ok(GatewaySpec {
        data_dir: config.data_dir.clone(),
        outbox: Settings {
            max_validity_ms: ms(longest_validity.max(Duration::from_secs(48 * 3600))),
            client_ref_ttl_ms: ms(config.outbox.idempotency_window),
            receipt_wait_ms: ms(config.outbox.receipt_wait),
            retry_initial_ms: ms(config.outbox.retry.base(0)),
            retry_max_ms: ms(config.outbox.retry.maximum()),
            ..Settings::default()
        },
        carriers,
        router,
        plan: Numbering::japan(),
        unbind_deadline: config.shutdown.unbind_deadline,
    })
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
        profile: profile(carrier),
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

fn profile(carrier: &CarrierConfig) -> CarrierProfile {
    let long_message = match carrier.long_message {
        LongMessageMethod::Udh8 => LongMessage::Udh8,
        LongMessageMethod::Udh16 => LongMessage::Udh16,
        LongMessageMethod::Sar => LongMessage::Sar,
        LongMessageMethod::Payload => LongMessage::Payload,
    };
    let text = TextProfile {
        long_message,
        max_chars: carrier
            .japan
            .as_ref()
            .map(|j| usize::try_from(j.max_length).unwrap_or(usize::MAX)),
        shift_jis: match &carrier.japan {
            Some(j) if j.sjis_only => ShiftJisRule::All,
            _ => ShiftJisRule::Off,
        },
    };
    let plan = |format: &AddressFormat| NumberPlan {
        format: match format.format {
            NumberFormat::E164 => crate::outbox::NumberFormat::International,
            NumberFormat::National => crate::outbox::NumberFormat::National {
                country_code: carrier.country_code.clone(),
                trunk_prefix: "0".into(),
            },
        },
        ton_npi: TonNpi {
            ton: format.ton,
            npi: format.npi,
        },
    };
    let addressing = Addressing {
        destination: plan(&carrier.destination),
        source: plan(&carrier.source),
        short_code: TonNpi::NETWORK_SPECIFIC,
        default_sender: carrier.japan.as_ref().and_then(|j| j.sender.clone()),
    };
    let retry = carrier.retry.clone();
    let mut profile = CarrierProfile::new(
        text,
        addressing,
        u64::try_from(carrier.default_validity.as_millis()).unwrap_or(u64::MAX),
    );
    profile.classify = Arc::new(move |status| match retry.classify(status) {
        ConfigClass::Transient => StatusClass::Transient,
        ConfigClass::Failover => StatusClass::Failover,
        ConfigClass::Permanent => StatusClass::Permanent,
    });
    profile
}
