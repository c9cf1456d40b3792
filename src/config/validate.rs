//! The checks serde cannot make: ranges, cross-references (routes → carriers, the
//! portability table), combinations, and the secrets, which are loaded here. Every problem is
//! collected, not just the first, each naming its key and its value (never a secret's).

use super::carrier::{BindConfig, CarrierConfig, TlsConfig};
use super::duration::Show;
use super::env::PREFIX;
use super::error::{ConfigError, KeyPath};
use super::japan::JapanProfile;
use super::portability::PortabilityLoadError;
use super::Config;
use crate::carrier::backoff::BackoffPolicy;
use crate::carrier::number::{AddressFormat, NumberFormat, TON_INTERNATIONAL, TON_UNKNOWN};
use crate::carrier::router::{is_carrier_name, RuleProblem, CARRIER_NAME_RULE};
use crate::carrier::throttle::TPS;
use crate::carrier::window;
use crate::store::LongMessage;
use secrecy::{ExposeSecret, SecretString};
use smpp::text::{Encoding, MAX_PAYLOAD_LEN, MAX_SEGMENTS};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::Duration;

/// Most bad lines of a portability file reported one by one.
const PORTABILITY_ERRORS_SHOWN: usize = 10;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// NPI values of 5.2.6, Table 5-4.
const NPIS: [u8; 10] = [0, 1, 3, 4, 6, 8, 9, 10, 14, 18];

/// Checks `config`, loading each bind's password from `env` or its file into it.
pub fn validate(config: &mut Config, env: &BTreeMap<String, String>) -> Vec<ConfigError> {
    let mut c = Checker::default();
    let root = KeyPath::root();
    if config.data_dir.as_os_str().is_empty() {
        c.fail(
            root.key("data_dir"),
            "\"\" is not allowed (a directory path)",
        );
    }
    c.range(
        root.key("data_cache_mb"),
        config.data_cache_mb,
        16..=1_048_576,
    );
    simulator(&mut c, config);
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&config.log.filter) {
        c.fail(
            root.key("log").key("filter"),
            format!("{:?} is not a log filter: {e}", config.log.filter),
        );
    }
    outbox(&mut c, config);
    c.duration(
        root.key("shutdown").key("unbind_deadline"),
        config.shutdown.unbind_deadline,
        100 * MS..=5 * MINUTE,
    );
    if config.carriers.is_empty() {
        c.fail(root.key("carriers"), "at least one carrier is needed");
    }
    for (name, carrier) in &mut config.carriers {
        let path = root.key("carriers").key(name);
        if !is_carrier_name(name) {
            c.fail(
                path.clone(),
                format!("the name {name:?} is not allowed ({CARRIER_NAME_RULE})"),
            );
        }
        check_carrier(&mut c, &path, carrier, env);
    }
    routes(&mut c, config);
    portability(&mut c, config);
    c.errors
}

/// Collects the errors.
#[derive(Default)]
struct Checker {
    errors: Vec<ConfigError>,
}

impl Checker {
    fn fail(&mut self, key: KeyPath, message: impl AsRef<str>) {
        self.errors.push(ConfigError::at(key, message));
    }

    fn range<T: PartialOrd + Display>(
        &mut self,
        key: KeyPath,
        value: T,
        allowed: RangeInclusive<T>,
    ) {
        if !allowed.contains(&value) {
            let (lo, hi) = allowed.into_inner();
            self.fail(key, format!("{value} is not allowed ({lo}..={hi})"));
        }
    }

    fn duration(&mut self, key: KeyPath, value: Duration, allowed: RangeInclusive<Duration>) {
        if !allowed.contains(&value) {
            let (lo, hi) = allowed.into_inner();
            self.fail(
                key,
                format!(
                    "{} is not allowed ({}..={})",
                    Show(value),
                    Show(lo),
                    Show(hi)
                ),
            );
        }
    }

    fn backoff(&mut self, path: &KeyPath, b: &BackoffPolicy) {
        if let Err(e) = b.check() {
            self.fail(path.key(e.key()), e.to_string());
        }
    }
}

fn simulator(c: &mut Checker, config: &Config) {
    let sim = &config.simulator;
    if !sim.enabled {
        return;
    }
    let path = KeyPath::root().key("simulator");
    #[cfg(not(feature = "sim"))]
    c.fail(path.key("enabled"), super::NO_SIMULATOR);
    #[cfg(feature = "sim")]
    if let Err(e) = sim.sim_config() {
        let key = if sim.scenario.is_some() {
            path.key("scenario")
        } else {
            path.clone()
        };
        c.fail(key, e.to_string());
    }
    let metrics = config.metrics.address;
    for (key, addr) in [
        ("smpp_address", sim.smpp_address),
        ("control_address", sim.control_address),
    ] {
        if addr.port() != 0 && addr == metrics {
            c.fail(
                KeyPath::root().key("metrics").key("address"),
                format!("{metrics} is also simulator.{key}"),
            );
        }
    }
    if sim.smpp_address.port() != 0 && sim.smpp_address == sim.control_address {
        c.fail(
            path.key("control_address"),
            format!("{} is also simulator.smpp_address", sim.control_address),
        );
    }
}

fn outbox(c: &mut Checker, config: &Config) {
    let o = &config.outbox;
    let path = KeyPath::root().key("outbox");
    c.backoff(&path.key("retry"), &o.retry);
    c.duration(
        path.key("idempotency_window"),
        o.idempotency_window,
        SECOND..=30 * DAY,
    );
    c.duration(path.key("receipt_wait"), o.receipt_wait, SECOND..=30 * DAY);
    c.range(path.key("max_queued"), o.max_queued, 1..=100_000_000);
    c.range(path.key("in_memory"), o.in_memory, 1..=10_000_000);
    c.duration(path.key("retention"), o.retention, HOUR..=3650 * DAY);
    c.duration(
        path.key("events_retention"),
        o.events_retention,
        HOUR..=3650 * DAY,
    );
    if o.retention < o.idempotency_window {
        c.fail(
            path.key("retention"),
            format!(
                "{} is shorter than outbox.idempotency_window ({}): a repeated submit could \
                 name a message already forgotten",
                Show(o.retention),
                Show(o.idempotency_window)
            ),
        );
    }
    // A receipt may come as late as the message's validity allows.
    for (name, carrier) in &config.carriers {
        if o.receipt_wait < carrier.default_validity {
            c.fail(
                path.key("receipt_wait"),
                format!(
                    "{} is shorter than carriers.{name}.default_validity ({}): receipts \
                     could come after the gateway stopped waiting",
                    Show(o.receipt_wait),
                    Show(carrier.default_validity)
                ),
            );
        }
    }
}

fn check_carrier(
    c: &mut Checker,
    path: &KeyPath,
    carrier: &mut CarrierConfig,
    env: &BTreeMap<String, String>,
) {
    if carrier.binds.is_empty() {
        c.fail(path.key("binds"), "at least one bind is needed");
    }
    for (i, bind) in carrier.binds.iter_mut().enumerate() {
        check_bind(c, &path.key("binds").index(i), bind, env);
    }
    if let Some(tps) = carrier.tps {
        c.range(path.key("tps"), tps, TPS);
    }
    let el = path.key("enquire_link");
    c.duration(
        el.key("interval"),
        carrier.enquire_link.interval,
        SECOND..=HOUR,
    );
    c.duration(
        el.key("timeout"),
        carrier.enquire_link.timeout,
        100 * MS..=10 * MINUTE,
    );
    c.duration(
        path.key("response_timeout"),
        carrier.response_timeout,
        100 * MS..=10 * MINUTE,
    );
    c.backoff(&path.key("reconnect"), &carrier.reconnect);
    address(c, &path.key("source"), &carrier.source);
    address(c, &path.key("destination"), &carrier.destination);
    if let Err(e) = carrier.number_plan() {
        c.fail(path.key("country_code"), e.to_string());
    }
    c.duration(
        path.key("default_validity"),
        carrier.default_validity,
        SECOND..=30 * DAY,
    );
    c.duration(
        path.key("failover_after"),
        carrier.failover_after,
        SECOND..=DAY,
    );
    if let Some(japan) = &carrier.japan {
        check_japan(c, &path.key("japan"), japan, &[("", carrier)]);
    }
}

fn check_bind(
    c: &mut Checker,
    path: &KeyPath,
    bind: &mut BindConfig,
    env: &BTreeMap<String, String>,
) {
    if bind.host.trim().is_empty() {
        c.fail(
            path.key("host"),
            format!("{:?} is not allowed (a host name or IP address)", bind.host),
        );
    }
    if bind.port == 0 {
        c.fail(path.key("port"), "0 is not allowed (1..=65535)");
    }
    // 4.1.1 Table 4-1: system_id is a C-Octet String of at most 16 octets with its NUL,
    // password 9, system_type 13.
    if !(1..=15).contains(&bind.system_id.len()) {
        c.fail(
            path.key("system_id"),
            format!(
                "{:?} is not allowed (1 to 15 characters, SMPP 4.1.1)",
                bind.system_id
            ),
        );
    }
    if bind.system_type.len() > 12 {
        c.fail(
            path.key("system_type"),
            format!(
                "{:?} is not allowed (at most 12 characters, SMPP 4.1.1)",
                bind.system_type
            ),
        );
    }
    password(c, path, bind, env);
    c.range(path.key("count"), bind.count, 1..=64);
    let size = usize::try_from(bind.window).unwrap_or(usize::MAX);
    c.range(path.key("window"), size, window::SIZES);
    if let Some(tps) = bind.tps {
        c.range(path.key("tps"), tps, TPS);
    }
    if let Some(tls) = &bind.tls {
        check_tls(c, &path.key("tls"), tls, &bind.host);
    }
}

/// Exactly one source; the password it gives is loaded and its length checked.
fn password(
    c: &mut Checker,
    path: &KeyPath,
    bind: &mut BindConfig,
    env: &BTreeMap<String, String>,
) {
    let given: Vec<&str> = [
        ("password", bind.password.is_some()),
        ("password_env", bind.password_env.is_some()),
        ("password_file", bind.password_file.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if given.is_empty() {
        c.fail(
            path.clone(),
            "a password is needed: set password_env, password_file or password",
        );
        return;
    }
    if given.len() > 1 {
        c.fail(
            path.clone(),
            format!("{} are set: set only one", given.join(" and ")),
        );
        return;
    }
    // The secret read from the environment or the file; an inline one is already in place.
    let (key, loaded) = if let Some(var) = &bind.password_env {
        let key = path.key("password_env");
        if var.starts_with(PREFIX) {
            c.fail(
                key,
                format!("{var:?} is not allowed: {PREFIX} variables are read as configuration overrides"),
            );
            return;
        }
        let Some(value) = env.get(var) else {
            c.fail(key, format!("the variable {var} is not set"));
            return;
        };
        (key, Some(SecretString::from(value.as_str())))
    } else if let Some(file) = &bind.password_file {
        let key = path.key("password_file");
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let line = text.strip_suffix('\n').unwrap_or(&text);
                let line = line.strip_suffix('\r').unwrap_or(line);
                (key, Some(SecretString::from(line)))
            }
            Err(e) => {
                c.fail(key, format!("cannot read {}: {e}", file.display()));
                return;
            }
        }
    } else {
        (path.key("password"), None)
    };
    let len = bind
        .password
        .as_ref()
        .or(loaded.as_ref())
        .map_or(0, |s| s.expose_secret().len());
    if len > 8 {
        c.fail(
            key,
            format!("the password has {len} characters: at most 8 are allowed (SMPP 4.1.1)"),
        );
    }
    bind.loaded_password = loaded;
}

fn check_tls(c: &mut Checker, path: &KeyPath, tls: &TlsConfig, host: &str) {
    if let Err(e) = tls.server_name(host) {
        c.fail(path.key(e.key()), e.to_string());
    }
    if let Err(e) = tls.client_config() {
        c.fail(path.key(e.key()), e.to_string());
    }
}

fn address(c: &mut Checker, path: &KeyPath, a: &AddressFormat) {
    if a.ton > 6 {
        c.fail(
            path.key("ton"),
            format!("{} is not allowed (0..=6, SMPP 5.2.5 Table 5-3)", a.ton),
        );
    }
    if !NPIS.contains(&a.npi) {
        c.fail(
            path.key("npi"),
            format!(
                "{} is not allowed (one of 0, 1, 3, 4, 6, 8, 9, 10, 14, 18; SMPP 5.2.6 Table 5-4)",
                a.npi
            ),
        );
    }
    let clash = match a.format {
        NumberFormat::E164 => !matches!(a.ton, TON_UNKNOWN | TON_INTERNATIONAL),
        NumberFormat::National => a.ton == TON_INTERNATIONAL,
    };
    if clash {
        let (name, fix) = match a.format {
            NumberFormat::E164 => ("e164", "ton 1 (international) or 0 (unknown)"),
            NumberFormat::National => ("national", "a ton other than 1 (international)"),
        };
        c.fail(
            path.key("format"),
            format!("{name:?} does not fit ton {}: use {fix}", a.ton),
        );
    }
}

/// `carriers` are the carriers whose long-message method bounds max_length, each with the
/// name to quote (empty for the profile's own carrier).
fn check_japan(
    c: &mut Checker,
    path: &KeyPath,
    japan: &JapanProfile,
    carriers: &[(&str, &CarrierConfig)],
) {
    for (name, carrier) in carriers {
        let method = carrier.long_message;
        let limit = match method {
            LongMessage::Payload => MAX_PAYLOAD_LEN / 2,
            _ => MAX_SEGMENTS * method.concat().part_capacity(Encoding::Ucs2),
        };
        if !(1..=limit).contains(&japan.max_length) {
            let whose = if name.is_empty() {
                String::new()
            } else {
                format!("carriers.{name}.")
            };
            c.fail(
                path.key("max_length"),
                format!(
                    "{} is not allowed (1..={limit}: UCS-2 text with {whose}long_message {})",
                    japan.max_length,
                    method.name()
                ),
            );
        }
    }
    if let Some(sender) = &japan.sender {
        if !japan.sender_form.accepts(sender) {
            c.fail(
                path.key("sender"),
                format!(
                    "{sender:?} is not allowed ({})",
                    japan.sender_form.describe()
                ),
            );
        }
    }
}

/// The rules as the router checks them ([`crate::config::Config::router`]), then what only
/// the configuration knows: that each carrier is configured, and the Japan profiles.
fn routes(c: &mut Checker, config: &Config) {
    let root = KeyPath::root().key("routes");
    if config.routes.is_empty() {
        c.fail(root.clone(), "at least one route is needed");
    }
    for e in config.router().err().unwrap_or_default() {
        let path = root.index(e.rule);
        let key = match &e.problem {
            RuleProblem::Prefix(_) | RuleProblem::DuplicatePrefix { .. } => path.key("prefix"),
            RuleProblem::NoCarriers => path.key("carriers"),
            RuleProblem::Carrier { index, .. } | RuleProblem::DuplicateCarrier { index, .. } => {
                path.key("carriers").index(*index)
            }
        };
        c.fail(key, e.problem.to_string());
    }
    for (i, route) in config.routes.iter().enumerate() {
        let path = root.index(i);
        let mut known = Vec::new();
        for (j, name) in route.carriers.iter().enumerate() {
            match config.carriers.get_key_value(name) {
                // Not a carrier name at all: the router's check said so.
                None if !is_carrier_name(name) => {}
                None => {
                    let names: Vec<&str> = config.carriers.keys().map(String::as_str).collect();
                    c.fail(
                        path.key("carriers").index(j),
                        format!(
                            "{name:?} is not a configured carrier (configured: {})",
                            names.join(", ")
                        ),
                    );
                }
                Some(_) if route.carriers[..j].contains(name) => {}
                Some((name, carrier)) => known.push((name.as_str(), carrier)),
            }
        }
        if let Some(japan) = &route.japan {
            check_japan(c, &path.key("japan"), japan, &known);
        }
    }
}

fn portability(c: &mut Checker, config: &Config) {
    let key = KeyPath::root().key("portability").key("file");
    match config.portability_table() {
        Ok(_) => {}
        Err(e @ PortabilityLoadError::Read { .. }) => c.fail(key, e.to_string()),
        Err(PortabilityLoadError::Invalid { path, errors }) => {
            for e in errors.iter().take(PORTABILITY_ERRORS_SHOWN) {
                c.fail(key.clone(), format!("{path}: {e}"));
            }
            if errors.len() > PORTABILITY_ERRORS_SHOWN {
                c.fail(
                    key,
                    format!(
                        "{path}: {} more bad lines",
                        errors.len() - PORTABILITY_ERRORS_SHOWN
                    ),
                );
            }
        }
    }
}
