//! `smsgate verify start|check|resend|cancel|status`: verifications over the TCP API,
//! with the connection options of `smsgate send` (`--api`, `--token`, `--json`). Human
//! output by default, the operation's result as one JSON line with `--json`. Exit codes
//! as `smsgate send`'s (0 done, 1 no connection, 2 usage, 3 refused); `check` exits 0
//! only when the code was approved and 3 for every other outcome.

use crate::api::proto::{VerifyCheckResult, VerifyStartParams, VerifyStartResult};
use crate::cli::client::{
    api_error, connect_api, json_line, print_line, run_blocking, Connect, EXIT_REFUSED,
};
use crate::cli::CliError;
use crate::verify::template::{Channel, Locale};
use clap::{Args, Subcommand};
use secrecy::SecretString;

/// `smsgate verify`.
#[derive(Debug, Clone, Subcommand)]
pub enum VerifyCommand {
    /// Send a verification code (or link) to a number.
    Start(StartArgs),
    /// Check the code a user typed (from stdin when not given); exit 0 only if approved.
    Check(CheckArgs),
    /// Send a new code, voiding the old one.
    Resend(IdArgs),
    /// Cancel a verification: its code stops working.
    Cancel(IdArgs),
    /// A verification's state and its SMS's delivery.
    Status(IdArgs),
}

/// `smsgate verify start`.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    #[command(flatten)]
    connect: Connect,
    /// The destination (`+81 90 1234 5678`, `09012345678`).
    to: String,
    /// The purpose: login, signup, payment, contract_change, point_exchange (or one the
    /// configuration adds).
    #[arg(long, default_value = crate::api::verify::DEFAULT_PURPOSE)]
    purpose: String,
    /// The language of the SMS: ja (default) or en.
    #[arg(long, value_parser = parse_locale)]
    locale: Option<Locale>,
    /// Send a link instead of a code: an https:// URL with {token} where the token goes.
    #[arg(long)]
    link: Option<String>,
    /// Digits of the code (4 to 10) instead of the purpose's.
    #[arg(long)]
    code_length: Option<u8>,
    /// How long the code works (`5m`; at most 10m) instead of the purpose's.
    #[arg(long)]
    validity: Option<String>,
}

/// `smsgate verify check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    connect: Connect,
    /// The verification id `verify start` printed.
    id: String,
    /// The code; read from stdin when absent and stdin is not a terminal (so it stays out
    /// of the shell history and the process list).
    code: Option<String>,
}

/// The verification an operation is about.
#[derive(Debug, Clone, Args)]
pub struct IdArgs {
    #[command(flatten)]
    connect: Connect,
    /// The verification id `verify start` printed.
    id: String,
}

fn parse_locale(text: &str) -> Result<Locale, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a locale spoken here (ja or en)"))
}

/// Runs `smsgate verify …`.
pub fn run(cmd: VerifyCommand) -> Result<(), CliError> {
    match cmd {
        VerifyCommand::Start(args) => start(args),
        VerifyCommand::Check(args) => check(args),
        VerifyCommand::Resend(args) => resend(args),
        VerifyCommand::Cancel(args) => cancel(args),
        VerifyCommand::Status(args) => status(args),
    }
}

/// Seconds from now until `at` (unix ms), rounded up; 0 once it has passed.
fn secs_until(at: u64) -> u64 {
    at.saturating_sub(crate::outbox::actor::unix_ms())
        .div_ceil(1000)
}

fn describe_start(verb: &str, r: &VerifyStartResult) -> String {
    format!(
        "{verb}: verification {} to {} ({}); valid {} s, resend in {} s, {} attempt(s), send {}{}",
        r.verification_id,
        r.to,
        r.channel,
        secs_until(r.expires_at),
        secs_until(r.resend_allowed_at),
        r.attempts_left,
        r.sends,
        r.message_id
            .as_ref()
            .map(|m| format!(", SMS message {m}"))
            .unwrap_or_default()
    )
}

/// The human line of a check's outcome.
pub fn describe_check(r: &VerifyCheckResult) -> String {
    match r.status.as_str() {
        "approved" => format!("approved: verification {}", r.verification_id),
        "wrong" => format!(
            "wrong code: {} attempt(s) left",
            r.attempts_left.unwrap_or_default()
        ),
        "max_attempts_reached" => {
            "max attempts reached: no more checks; start a new verification".into()
        }
        "expired" => "expired: the code no longer works; start a new verification".into(),
        "locked" => format!(
            "locked: too many wrong codes for this number; try again in {} s",
            r.retry_after_ms.unwrap_or_default().div_ceil(1000)
        ),
        "not_found" => format!(
            "not found: no pending verification {} (unknown, or finished)",
            r.verification_id
        ),
        other => format!("{other}: verification {}", r.verification_id),
    }
}

fn start(args: StartArgs) -> Result<(), CliError> {
    let params = VerifyStartParams {
        to: args.to,
        purpose: Some(args.purpose),
        locale: args.locale,
        channel: args.link.as_ref().map(|_| Channel::SmsLink),
        link: args.link,
        code_length: args.code_length,
        validity: args.validity,
    };
    run_blocking(async {
        let client = connect_api(&args.connect).await?;
        let r = client.verify_start(&params).await.map_err(api_error)?;
        if args.connect.json {
            print_line(&json_line(&r)?)
        } else {
            print_line(&describe_start("started", &r))
        }
    })
}

fn check(args: CheckArgs) -> Result<(), CliError> {
    let (code, from_stdin) = super::arg_or_stdin(
        args.code,
        "give the code as an argument or on stdin (echo CODE | smsgate verify check ID)",
    )?;
    let code = if from_stdin {
        code.trim().to_owned()
    } else {
        code
    };
    if code.is_empty() {
        return Err(CliError::Usage("the code is empty".into()));
    }
    let code = SecretString::from(code);
    run_blocking(async {
        let client = connect_api(&args.connect).await?;
        let r = client
            .verify_check(&args.id, &code)
            .await
            .map_err(api_error)?;
        if args.connect.json {
            print_line(&json_line(&r)?)?;
        } else {
            print_line(&describe_check(&r))?;
        }
        if r.approved() {
            Ok(())
        } else {
            Err(CliError::Reported(EXIT_REFUSED))
        }
    })
}

fn resend(args: IdArgs) -> Result<(), CliError> {
    run_blocking(async {
        let client = connect_api(&args.connect).await?;
        let r = client.verify_resend(&args.id).await.map_err(api_error)?;
        if args.connect.json {
            print_line(&json_line(&r)?)
        } else {
            print_line(&describe_start("resent", &r))
        }
    })
}

fn cancel(args: IdArgs) -> Result<(), CliError> {
    run_blocking(async {
        let client = connect_api(&args.connect).await?;
        let r = client.verify_cancel(&args.id).await.map_err(api_error)?;
        if args.connect.json {
            print_line(&json_line(&r)?)
        } else {
            print_line(&format!("{}: verification {}", r.status, r.verification_id))
        }
    })
}

fn status(args: IdArgs) -> Result<(), CliError> {
    run_blocking(async {
        let client = connect_api(&args.connect).await?;
        let s = client.verify_status(&args.id).await.map_err(api_error)?;
        if args.connect.json {
            return print_line(&json_line(&s)?);
        }
        let sms = match (&s.message_id, &s.delivery) {
            (Some(m), Some(d)) => format!(
                "; SMS message {m}: {d}{}",
                s.delivery_detail
                    .as_ref()
                    .map(|why| format!(" ({why})"))
                    .unwrap_or_default()
            ),
            (Some(m), None) => format!("; SMS message {m}"),
            _ => String::new(),
        };
        print_line(&format!(
            "verification {}: {} ({}, {} to {}); {} attempt(s) left, {} send(s){sms}",
            s.verification_id, s.status, s.purpose, s.channel, s.to, s.attempts_left, s.sends
        ))
    })
}
