//! `smsgate status` (the gateway's, with no message id), `smsgate carrier stop|start NAME`
//! and `smsgate reload`: the operator's commands over the admin listener
//! ([`crate::admin::client`]). Text by default, the listener's JSON with `--json`. Exit
//! codes: 0 done (also a carrier already in the state asked for), 1 no connection (or the
//! gateway is not running), 2 bad usage (a bad URL), 3 refused (a token missing, unknown
//! or read-only, an unknown carrier, a reload refused or not available; its error code
//! is printed).

use crate::admin::client::{AdminClient, Answer};
use crate::cli::client::{json_line, print_line, run_blocking, EXIT_REFUSED};
use crate::cli::CliError;
use clap::{Args, Subcommand};
use hyper::Method;

/// The embedded default's development admin token (full), used when none is given.
const DEV_ADMIN_TOKEN: &str = "smsgate-admin-token";

/// Where the admin listener is and who is asking.
#[derive(Debug, Clone, Args, Default)]
pub struct AdminConnect {
    /// The admin listener (default: $SMS_ADMIN, else http://127.0.0.1:7776).
    #[arg(long, value_name = "URL")]
    pub admin: Option<String>,
    /// The admin token (default: $SMS_ADMIN_TOKEN, else the embedded default's development
    /// admin token).
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
}

impl AdminConnect {
    fn client(&self) -> Result<AdminClient, CliError> {
        let url = self
            .admin
            .clone()
            .or_else(|| std::env::var("SMS_ADMIN").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "http://127.0.0.1:7776".into());
        let token = self
            .admin_token
            .clone()
            .or_else(|| {
                std::env::var("SMS_ADMIN_TOKEN")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| DEV_ADMIN_TOKEN.into());
        AdminClient::new(&url, token.into()).map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// `smsgate carrier`.
#[derive(Debug, Subcommand)]
pub enum CarrierCommand {
    /// Unbind a carrier's binds and keep them down (also across restarts) until started.
    Stop(CarrierArgs),
    /// Bind a stopped carrier again.
    Start(CarrierArgs),
}

/// `smsgate carrier stop|start NAME`.
#[derive(Debug, Clone, Args)]
pub struct CarrierArgs {
    #[command(flatten)]
    connect: AdminConnect,
    /// The listener's JSON answer instead of text.
    #[arg(long)]
    json: bool,
    /// The carrier.
    name: String,
}

/// `smsgate reload`.
#[derive(Debug, Clone, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    connect: AdminConnect,
    /// The listener's JSON answer instead of text.
    #[arg(long)]
    json: bool,
}

/// An answer that is not a success, as the CLI reports it.
fn refused(answer: &Answer) -> CliError {
    let code = answer.body["code"].as_str().unwrap_or("error");
    let message = answer.body["error"]
        .as_str()
        .map_or_else(|| answer.body.to_string(), str::to_owned);
    let key = answer.body["key"]
        .as_str()
        .map(|k| format!(" (at {k})"))
        .unwrap_or_default();
    let text = format!("{code}: {message}{key}");
    if answer.status >= 500 && answer.status != 501 {
        CliError::Connection(text)
    } else {
        CliError::Refused(text)
    }
}

async fn ask(connect: &AdminConnect, method: Method, path: &str) -> Result<Answer, CliError> {
    connect
        .client()?
        .request(method, path)
        .await
        .map_err(|e| CliError::Connection(e.to_string()))
}

/// `smsgate carrier stop|start`.
pub fn carrier(cmd: CarrierCommand) -> Result<(), CliError> {
    let (args, verb) = match cmd {
        CarrierCommand::Stop(a) => (a, "stop"),
        CarrierCommand::Start(a) => (a, "start"),
    };
    run_blocking(async {
        let path = format!("/carriers/{}/{verb}", args.name);
        let answer = ask(&args.connect, Method::POST, &path).await?;
        let already = answer.status == 409;
        if answer.status != 200 && !already {
            return Err(refused(&answer));
        }
        if args.json {
            return print_line(&json_line(&answer.body)?);
        }
        let state = if verb == "stop" { "stopped" } else { "running" };
        if already {
            print_line(&format!("carrier {}: {state} already", args.name))
        } else {
            print_line(&format!("carrier {}: {state}", args.name))
        }
    })
}

/// `smsgate reload`.
pub fn reload(args: ReloadArgs) -> Result<(), CliError> {
    run_blocking(async {
        let answer = ask(&args.connect, Method::POST, "/reload").await?;
        if answer.status != 200 {
            return Err(refused(&answer));
        }
        if args.json {
            print_line(&json_line(&answer.body)?)
        } else {
            print_line(&format!("reloaded: {}", answer.body))
        }
    })
}

/// `smsgate status` for the gateway: the admin listener's `/status`.
pub fn gateway_status(connect: &AdminConnect, json: bool) -> Result<(), CliError> {
    run_blocking(async {
        let answer = ask(connect, Method::GET, "/status").await?;
        if answer.status != 200 {
            return Err(refused(&answer));
        }
        if json {
            return print_line(&json_line(&answer.body)?);
        }
        let s: crate::admin::server::StatusAnswer = serde_json::from_value(answer.body)
            .map_err(|e| CliError::Connection(format!("unexpected /status answer: {e}")))?;
        print_line(&format!("uptime {} s", s.snapshot.uptime_secs))?;
        for c in &s.snapshot.carriers {
            let up = c.binds.iter().filter(|b| b.state == "bound").count();
            let queued: Vec<String> = c.queued.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let state = match c.admin_state {
                crate::admin::status::AdminState::Running => "running",
                crate::admin::status::AdminState::Stopped => "stopped",
            };
            print_line(&format!(
                "carrier {}: {state}, {up} of {} binds up{}, window {} in use, {:.1} msg/s; queued {}{}",
                c.name,
                c.binds.len(),
                if c.unavailable { ", failing over" } else { "" },
                c.window_in_use,
                c.tps,
                if queued.is_empty() { "0".to_owned() } else { queued.join(", ") },
                c.last_error
                    .as_ref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ))?;
        }
        let t = &s.snapshot.totals;
        print_line(&format!(
            "binds up {} of {}; queued {}; messages not final {}; receipts unmatched {}",
            t.binds_up, t.binds, t.queued, t.open, t.unmatched
        ))
    })
}

/// The exit code of a refusal (the same as the API commands').
pub const EXIT_ADMIN_REFUSED: u8 = EXIT_REFUSED;
