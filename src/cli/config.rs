//! `smsgate config check [FILE]` and `smsgate config show [FILE]`: validate a configuration
//! (with the `SMSGATE_…` overrides of the environment) and say so, or print the effective
//! configuration with its secrets redacted. Exit codes: 0 valid, 2 invalid, 1 unreadable.

use super::{CliError, EXIT_BAD_INPUT, EXIT_IO};
use crate::config::{
    process_env, BindShape, CarrierConfig, Config, ConfigError, ConfigSource, LoadError, Origin,
};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `smsgate config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration: prints "ok" and one line per carrier, or every error, one
    /// per line. Exit code 0 valid, 2 invalid, 1 when the file cannot be read.
    Check(CheckArgs),
    /// Print the effective configuration (the file, the environment overrides and every
    /// default) as TOML, secrets redacted.
    Show(SourceArg),
}

/// Which configuration: a file, `-` for stdin; with none, stdin when it is not a terminal
/// (a pipe or a file), else the embedded default.
#[derive(Debug, Args)]
pub struct SourceArg {
    /// The TOML file (`-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Arguments of `config check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Which configuration.
    #[command(flatten)]
    pub source: SourceArg,
    /// Print one JSON object instead: {"ok": true, "carriers": [...]} or
    /// {"ok": false, "errors": [...]} (same exit codes).
    #[arg(long)]
    pub json: bool,
}

impl SourceArg {
    fn source(&self) -> ConfigSource {
        match &self.file {
            Some(path) if path.as_os_str() == "-" => ConfigSource::Stdin,
            Some(path) => ConfigSource::File(path.clone()),
            None if std::io::stdin().is_terminal() => ConfigSource::Embedded,
            None => ConfigSource::Stdin,
        }
    }
}

/// Runs a `config` subcommand.
pub fn run(cmd: ConfigCommand) -> Result<(), CliError> {
    match cmd {
        ConfigCommand::Check(args) => check(&args),
        ConfigCommand::Show(source) => {
            let config = Config::load(source.source(), process_env()).map_err(load_error)?;
            let text = config.to_redacted_toml().map_err(CliError::ShowConfig)?;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(CliError::Write)
        }
    }
}

/// The CLI error of a configuration that cannot be loaded.
pub(crate) fn load_error(e: LoadError) -> CliError {
    match e {
        LoadError::Read { what, source } => CliError::Read { what, source },
        LoadError::Invalid(errors) => CliError::InvalidConfig(errors),
    }
}

fn check(args: &CheckArgs) -> Result<(), CliError> {
    let source = args.source.source();
    let name = source.name();
    let result = Config::load(source, process_env());
    if !args.json {
        let config = result.map_err(load_error)?;
        let mut out = std::io::stdout().lock();
        let mut text = format!("ok: {name}\n");
        for (carrier_name, carrier) in &config.carriers {
            text.push_str(&summary(carrier_name, carrier, &config));
            text.push('\n');
        }
        return out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(CliError::Write);
    }
    let (report, code) = match &result {
        Ok(config) => (
            CheckReport {
                ok: true,
                source: name,
                carriers: config
                    .carriers
                    .iter()
                    .map(|(n, c)| carrier_report(n, c, config))
                    .collect(),
                errors: Vec::new(),
                io_error: None,
            },
            0,
        ),
        Err(LoadError::Invalid(errors)) => (
            CheckReport {
                ok: false,
                source: name,
                carriers: Vec::new(),
                errors: errors.iter().map(error_report).collect(),
                io_error: None,
            },
            EXIT_BAD_INPUT,
        ),
        Err(e @ LoadError::Read { .. }) => (
            CheckReport {
                ok: false,
                source: name,
                carriers: Vec::new(),
                errors: Vec::new(),
                io_error: Some(e.to_string()),
            },
            EXIT_IO,
        ),
    };
    let line = serde_json::to_string(&report).map_err(CliError::ToJson)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(CliError::Write)?;
    if code == 0 {
        Ok(())
    } else {
        Err(CliError::Reported(code))
    }
}

/// The prefixes a carrier serves, first-choice and as a failover.
fn routes_of<'c>(name: &str, config: &'c Config) -> (Vec<&'c str>, Vec<&'c str>) {
    let mut first = Vec::new();
    let mut failover = Vec::new();
    for route in &config.routes {
        match route.carriers.iter().position(|c| c == name) {
            Some(0) => first.push(route.prefix.as_str()),
            Some(_) => failover.push(route.prefix.as_str()),
            None => {}
        }
    }
    (first, failover)
}

/// One line: `carrier docomo: 2 × pair to smpp1.docomo.example:2775 (window 50); 4
/// connections, tps 200; first for 8190 8170, failover for 8180`.
fn summary(name: &str, carrier: &CarrierConfig, config: &Config) -> String {
    let binds: Vec<String> = carrier
        .binds
        .iter()
        .map(|b| {
            let mode = b.shape.name();
            let tls = if b.tls.is_some() { " over TLS" } else { "" };
            format!(
                "{} × {mode} to {}:{}{tls} (window {})",
                b.count, b.host, b.port, b.window
            )
        })
        .collect();
    let tps = carrier
        .tps
        .map_or_else(|| "no carrier tps limit".to_owned(), |t| format!("tps {t}"));
    let (first, failover) = routes_of(name, config);
    let list = |p: &[&str]| {
        if p.is_empty() {
            "-".to_owned()
        } else {
            p.iter()
                .map(|p| if p.is_empty() { "(any)" } else { p })
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    format!(
        "carrier {name}: {}; {} connections, {tps}; first for {}, failover for {}",
        binds.join(", "),
        carrier.connections(),
        list(&first),
        list(&failover)
    )
}

/// `config check --json`.
#[derive(Serialize)]
struct CheckReport {
    ok: bool,
    source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    carriers: Vec<CarrierReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    io_error: Option<String>,
}

#[derive(Serialize)]
struct CarrierReport {
    name: String,
    connections: u32,
    tps: Option<u32>,
    binds: Vec<BindReport>,
    first_for: Vec<String>,
    failover_for: Vec<String>,
}

#[derive(Serialize)]
struct BindReport {
    host: String,
    port: u16,
    mode: BindShape,
    count: u32,
    window: u32,
    tls: bool,
}

#[derive(Serialize)]
struct ErrorReport {
    /// The key path, or null for a TOML syntax error.
    key: Option<String>,
    /// The line of the file, when the value came from one.
    line: Option<usize>,
    /// The environment variable, when the value came from one.
    env: Option<String>,
    message: String,
    /// The whole line as the text output prints it.
    text: String,
}

fn carrier_report(name: &str, carrier: &CarrierConfig, config: &Config) -> CarrierReport {
    let (first, failover) = routes_of(name, config);
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
    CarrierReport {
        name: name.to_owned(),
        connections: carrier.connections(),
        tps: carrier.tps,
        binds: carrier
            .binds
            .iter()
            .map(|b| BindReport {
                host: b.host.clone(),
                port: b.port,
                mode: b.shape,
                count: b.count,
                window: b.window,
                tls: b.tls.is_some(),
            })
            .collect(),
        first_for: owned(first),
        failover_for: owned(failover),
    }
}

fn error_report(e: &ConfigError) -> ErrorReport {
    let (line, env) = match &e.origin {
        Origin::Unknown => (None, None),
        Origin::Line { line, .. } => (Some(*line), None),
        Origin::Env { var } => (None, Some(var.clone())),
    };
    ErrorReport {
        key: e.key.as_ref().map(ToString::to_string),
        line,
        env,
        message: e.message.clone(),
        text: e.to_string(),
    }
}
