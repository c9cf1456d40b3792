//! `smsgate bench`: the end-to-end load generator ([`crate::bench`]). Exit codes: 0 the
//! run completed with nothing missing, 1 the gateway could not be started or reached (or
//! did not stop cleanly), 2 bad usage, 3 the run completed but requests were answered
//! with errors or messages (submits, receipts, approvals) are missing. The report is
//! printed (and written) in every case where the run completed.

use crate::api::client::{ClientOptions, TlsClient};
use crate::bench::{self, Options, Scenario, Target, Workload};
use crate::cli::CliError;
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Exit code of a run that completed with errors answered or messages missing.
pub const EXIT_INCOMPLETE: u8 = 3;

/// The scenarios (`--scenario`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// Messages (or verifications) end to end: accepted, submitted, receipted.
    E2e,
    /// Stop the carrier, queue --bulk bulk messages, start it, then send --messages otp
    /// messages at --rate (50/s) while the bulk drains: their accept → submit.
    OtpBehindBulk,
    /// Stop the carrier, queue --messages (1,000,000) and sample the gateway's memory.
    QueuedMemory,
}

/// `smsgate bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Messages to send (e2e: 10,000; otp-behind-bulk: the otp ones, 500; queued-memory:
    /// 1,000,000).
    #[arg(long, value_name = "N", conflicts_with = "verifications")]
    pub messages: Option<u64>,
    /// Verification start + check pairs to run instead of messages (e2e only).
    #[arg(long, value_name = "N")]
    pub verifications: Option<u64>,
    /// Send on an open-loop schedule at this many a second (latency is measured from
    /// each one's due time); default as fast as possible (otp-behind-bulk's otp: 50).
    #[arg(long, value_name = "MSG_PER_S")]
    pub rate: Option<f64>,
    /// Connections to send over.
    #[arg(long, value_name = "W", default_value_t = 4)]
    pub connections: usize,
    /// Requests in flight per connection (at most the gateway's api.max_in_flight).
    #[arg(long, value_name = "P", default_value_t = 128)]
    pub in_flight: usize,
    /// The gateway's API (`host:port`); default: start `smsgate run` on the embedded
    /// default and stop it at the end.
    #[arg(long, value_name = "ADDR")]
    pub gateway: Option<String>,
    /// The API token (default: $SMS_TOKEN, else the embedded default's development token).
    #[arg(long, value_name = "TOKEN", requires = "gateway")]
    pub token: Option<String>,
    /// TLS to the gateway (the system's CA certificates, or --ca).
    #[arg(long, requires = "gateway")]
    pub tls: bool,
    /// TLS, trusting this PEM file.
    #[arg(long, value_name = "FILE", requires = "gateway")]
    pub ca: Option<PathBuf>,
    /// The given gateway's process id, to report its memory.
    #[arg(long, value_name = "PID", requires = "gateway")]
    pub gateway_pid: Option<u32>,
    /// The given gateway's admin listener (carrier stop/start).
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:7776",
        requires = "gateway"
    )]
    pub admin: String,
    /// The admin token, full access (default: $SMS_ADMIN_TOKEN, else the embedded
    /// default's development admin token).
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// The given gateway's built-in simulator control interface (verification codes).
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:8775",
        requires = "gateway"
    )]
    pub sim_control: String,
    /// The carrier the scenarios stop and start.
    #[arg(long, value_name = "NAME", default_value = "sim")]
    pub carrier: String,
    /// What to run.
    #[arg(long, value_enum, default_value = "e2e")]
    pub scenario: ScenarioArg,
    /// otp-behind-bulk: bulk messages queued behind the stopped carrier first.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub bulk: u64,
    /// queued-memory: start the carrier at the end and wait for the queue to drain.
    #[arg(long)]
    pub drain: bool,
    /// Write the JSON report to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Write a chart of throughput and accept latency over time to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Print the JSON report instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// No progress bar (there is none either when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// How long to wait for the last submits and receipts after sending (s).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub receipts_timeout: f64,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The run's options from the arguments.
pub fn options(args: &BenchArgs) -> Result<Options, CliError> {
    let usage = |m: &str| Err(CliError::Usage(m.to_owned()));
    let scenario = match args.scenario {
        ScenarioArg::E2e => Scenario::E2e,
        ScenarioArg::OtpBehindBulk => Scenario::OtpBehindBulk,
        ScenarioArg::QueuedMemory => Scenario::QueuedMemory,
    };
    let workload = match (args.verifications, args.messages) {
        (Some(_), _) if scenario != Scenario::E2e => {
            return usage("--verifications runs with --scenario e2e only")
        }
        (Some(n), _) => Workload::Verifications(n),
        (None, Some(n)) => Workload::Messages(n),
        (None, None) => Workload::Messages(match scenario {
            Scenario::E2e => 10_000,
            Scenario::OtpBehindBulk => 500,
            Scenario::QueuedMemory => 1_000_000,
        }),
    };
    if matches!(workload, Workload::Messages(0) | Workload::Verifications(0)) {
        return usage("nothing to send: give a count above 0");
    }
    if args.connections == 0 || args.in_flight == 0 {
        return usage("--connections and --in-flight must be at least 1");
    }
    if let Some(rate) = args.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return usage("--rate must be a positive number of messages a second");
        }
    }
    if !(args.receipts_timeout.is_finite() && args.receipts_timeout >= 0.0) {
        return usage("--receipts-timeout must be a number of seconds");
    }
    let target = match &args.gateway {
        None if !cfg!(feature = "sim") => {
            return usage(
                "without --gateway the bench starts the embedded default, which needs the \
                 built-in simulated SMSC: this build has none (built without the sim feature)",
            )
        }
        None => Target::Embedded {
            binary: std::env::current_exe()
                .map_err(|e| CliError::Start(format!("cannot find the smsgate binary: {e}")))?,
        },
        Some(api) => {
            let tls = match (&args.ca, args.tls) {
                (Some(ca), _) => Some(TlsClient::from_ca_file(ca)),
                (None, true) => Some(TlsClient::system_roots()),
                (None, false) => None,
            }
            .transpose()
            .map_err(|e| CliError::Usage(e.to_string()))?;
            Target::Given {
                api: api.clone(),
                options: ClientOptions { tls },
                pid: args.gateway_pid,
                admin: args.admin.clone(),
                control: args.sim_control.clone(),
            }
        }
    };
    let token = args
        .token
        .clone()
        .or_else(|| args.gateway.as_ref().and_then(|_| env("SMS_TOKEN")))
        .unwrap_or_else(|| "smsgate-dev-token".into());
    let admin_token = args
        .admin_token
        .clone()
        .or_else(|| args.gateway.as_ref().and_then(|_| env("SMS_ADMIN_TOKEN")))
        .unwrap_or_else(|| "smsgate-admin-token".into());
    Ok(Options {
        workload,
        scenario,
        rate: args.rate,
        connections: args.connections,
        in_flight: args.in_flight,
        bulk: args.bulk,
        target,
        token: token.into(),
        admin_token: admin_token.into(),
        carrier: args.carrier.clone(),
        receipts_timeout: Duration::from_secs_f64(args.receipts_timeout),
        drain: args.drain,
        progress: !args.no_progress && !args.json && std::io::stderr().is_terminal(),
    })
}

fn write_file(path: &PathBuf, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| {
        CliError::Write(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}

/// `smsgate bench`.
pub fn bench(args: BenchArgs) -> Result<(), CliError> {
    let options = options(&args)?;
    let report = bench::run(&options).map_err(|e| match e {
        bench::BenchError::Connect { .. } | bench::BenchError::Gateway(_) => {
            CliError::Connection(e.to_string())
        }
        other => CliError::Start(other.to_string()),
    })?;
    let json = serde_json::to_string_pretty(&report).map_err(CliError::ToJson)?;
    if let Some(path) = &args.report {
        write_file(path, &format!("{json}\n"))?;
    }
    if let Some(path) = &args.chart {
        let title = format!("smsgate bench: {} ({})", report.scenario, report.mode);
        let svg = bench::chart::svg(&report.series, &title)
            .map_err(|e| CliError::Start(e.to_string()))?;
        write_file(path, &svg)?;
    }
    if args.json {
        crate::cli::client::print_line(&json)?;
    } else {
        crate::cli::client::print_line(&report.summary())?;
    }
    if report.gateway.clean_exit == Some(false) {
        return Err(CliError::Connection(
            "the gateway did not exit cleanly (status other than 0) on SIGTERM".into(),
        ));
    }
    if !report.complete() {
        return Err(CliError::Reported(EXIT_INCOMPLETE));
    }
    Ok(())
}
