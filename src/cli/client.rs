//! `smsgate send`, `smsgate status` and `smsgate events`: the operator's commands over the
//! TCP API (`smsgate::api::client`). Human output by default, one JSON object a line with
//! `--json`. Plain TCP, or TLS with `--tls` / `--ca FILE`. Exit codes: 0 done, 1 no
//! connection (or it was lost, or the TLS handshake failed), 2 bad input (a CA file that
//! cannot be used among it), 3 the gateway refused the request (its error code is printed).

use crate::api::client::{Client, ClientError, ClientOptions, TlsClient};
use crate::api::proto::{EventBody, SubmitParams};
use crate::cli::CliError;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// The development token of the embedded default, used when none is given.
const DEV_TOKEN: &str = "smsgate-dev-token";

/// Where the API is and who is asking.
#[derive(Debug, Clone, Args)]
pub struct Connect {
    /// The API's address (default: $SMS_API, else 127.0.0.1:7775).
    #[arg(long)]
    pub api: Option<String>,
    /// The token (default: $SMS_TOKEN, else the embedded default's development token).
    /// Not SMSGATE_…: those variables are configuration overrides of `smsgate run`.
    #[arg(long)]
    pub token: Option<String>,
    /// Connect over TLS, trusting the system's CA certificates (unless --ca is given).
    #[arg(long)]
    pub tls: bool,
    /// Connect over TLS, trusting the CA certificates in this PEM file (a private CA, or
    /// the gateway's self-signed certificate); implies --tls. Default: $SMS_CA.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// With TLS, the name the gateway's certificate must be issued to (default: the host
    /// of the API's address).
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// One JSON object a line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `smsgate send`.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    #[command(flatten)]
    connect: Connect,
    /// The destination (`+81 90 1234 5678`, `09012345678`).
    to: String,
    /// The text; read from stdin when absent and stdin is not a terminal.
    text: Option<String>,
    /// The sender.
    #[arg(long)]
    from: Option<String>,
    /// otp, transactional or bulk.
    #[arg(long, default_value = "transactional")]
    class: String,
    /// Idempotency reference.
    #[arg(long)]
    client_ref: Option<String>,
    /// Validity (`10m`, `24h`).
    #[arg(long)]
    validity: Option<String>,
}

/// `smsgate status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    connect: Connect,
    #[command(flatten)]
    admin: super::admin::AdminConnect,
    /// The gateway's status from the admin listener (what no id does when stdin is a
    /// terminal).
    #[arg(long, conflicts_with = "message_id")]
    gateway: bool,
    /// A message id: its state over the API. Without one: the gateway's status from the
    /// admin listener when stdin is a terminal (or with --gateway); else the id is read
    /// from stdin, and an empty stdin gives the binds and queue depth over the API.
    message_id: Option<String>,
}

/// `smsgate events`.
#[derive(Debug, Clone, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    connect: Connect,
    /// Start after this cursor (0: the whole log).
    #[arg(long, default_value_t = 0)]
    cursor: u64,
}

/// Exit code when the gateway refused the request.
pub const EXIT_REFUSED: u8 = 3;

fn client_error(e: ClientError) -> CliError {
    match e {
        ClientError::Api(e) => CliError::Refused(e.to_string()),
        other => CliError::Connection(other.to_string()),
    }
}

fn block_on<T>(fut: impl std::future::Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Start(e.to_string()))?
        .block_on(fut)
}

async fn connect(c: &Connect) -> Result<Client, CliError> {
    let addr = c
        .api
        .clone()
        .or_else(|| std::env::var("SMS_API").ok())
        .unwrap_or_else(|| "127.0.0.1:7775".into());
    let token = c
        .token
        .clone()
        .or_else(|| std::env::var("SMS_TOKEN").ok())
        .unwrap_or_else(|| DEV_TOKEN.into());
    let options = ClientOptions { tls: tls(c)? };
    Client::connect_with(&addr, &token.into(), &options)
        .await
        .map_err(client_error)
}

/// TLS as `--tls`, `--ca` (else $SMS_CA) and `--server-name` ask; `None`: plain TCP.
fn tls(c: &Connect) -> Result<Option<TlsClient>, CliError> {
    let ca = c.ca.clone().or_else(|| {
        std::env::var_os("SMS_CA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let tls = match (&ca, c.tls) {
        (Some(path), _) => TlsClient::from_ca_file(path)
            .map_err(|e| CliError::Usage(format!("--ca {}: {e}", path.display())))?,
        (None, true) => TlsClient::system_roots().map_err(|e| CliError::Usage(e.to_string()))?,
        (None, false) if c.server_name.is_some() => {
            return Err(CliError::Usage(
                "--server-name is for TLS: add --tls or --ca FILE".into(),
            ))
        }
        (None, false) => return Ok(None),
    };
    let tls = match &c.server_name {
        Some(name) => tls
            .with_server_name(name)
            .map_err(|e| CliError::Usage(format!("--server-name: {e}")))?,
        None => tls,
    };
    Ok(Some(tls))
}

fn print(line: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(CliError::Write)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    serde_json::to_string(value).map_err(CliError::ToJson)
}

/// `smsgate send`.
pub fn send(args: SendArgs) -> Result<(), CliError> {
    let (text, from_stdin) =
        super::arg_or_stdin(args.text, "give the text as an argument or on stdin")?;
    let text = if from_stdin {
        text.strip_suffix('\n').unwrap_or(&text).to_owned()
    } else {
        text
    };
    let params = SubmitParams {
        to: args.to,
        text,
        from: args.from,
        encoding: None,
        validity: args.validity,
        client_ref: args.client_ref,
        class: Some(args.class),
        receipts: None,
    };
    block_on(async {
        let client = connect(&args.connect).await?;
        let accepted = client.submit(&params).await.map_err(client_error)?;
        if args.connect.json {
            print(&json(&accepted)?)
        } else if accepted.duplicate {
            print(&format!(
                "duplicate: message {} (sent before; nothing sent now)",
                accepted.message_id
            ))
        } else {
            print(&format!(
                "accepted: message {} ({})",
                accepted.message_id, accepted.state
            ))
        }
    })
}

/// `smsgate status`.
pub fn status(mut args: StatusArgs) -> Result<(), CliError> {
    use std::io::IsTerminal;
    if args.gateway || (args.message_id.is_none() && std::io::stdin().is_terminal()) {
        return super::admin::gateway_status(&args.admin, args.connect.json);
    }
    if args.message_id.is_none() {
        let (text, _) = super::arg_or_stdin(None, "give a message id")?;
        let id = text.trim();
        if !id.is_empty() {
            args.message_id = Some(id.to_owned());
        }
    }
    block_on(async {
        let client = connect(&args.connect).await?;
        if let Some(id) = &args.message_id {
            let s = client.status(id).await.map_err(client_error)?;
            if args.connect.json {
                return print(&json(&s)?);
            }
            return print(&format!(
                "message {}: {} ({} to {} via {}, {} attempt(s){})",
                s.message_id,
                s.state,
                s.class,
                s.to,
                s.carrier,
                s.attempts,
                s.detail.map(|d| format!("; {d}")).unwrap_or_default()
            ));
        }
        let b = client.binds().await.map_err(client_error)?;
        if args.connect.json {
            return print(&json(&b)?);
        }
        for c in &b.carriers {
            let up = c.binds.iter().filter(|b| b.bound.is_some()).count();
            let queued: Vec<String> = c.queued.iter().map(|(k, v)| format!("{k} {v}")).collect();
            print(&format!(
                "carrier {}: {up} of {} binds up{}; queued {}",
                c.carrier,
                c.binds.len(),
                if c.unavailable { ", unavailable" } else { "" },
                queued.join(", ")
            ))?;
        }
        print(&format!(
            "messages not final: {}; receipts unmatched: {}",
            b.open, b.unmatched
        ))
    })
}

/// `smsgate events`: follows the log until interrupted or cut off.
pub fn events(args: EventsArgs) -> Result<(), CliError> {
    block_on(async {
        let client = connect(&args.connect).await?;
        let mut sub = client.subscribe(args.cursor).await.map_err(client_error)?;
        loop {
            let line = sub.next().await.map_err(client_error)?;
            if args.connect.json {
                print(&json(&line)?)?;
                continue;
            }
            let text = match &line.event {
                EventBody::Message {
                    message_id,
                    state,
                    segment,
                    segment_state,
                    detail,
                    ..
                } => format!(
                    "message {message_id}: {state}{}{}",
                    segment
                        .zip(segment_state.as_ref())
                        .map(|(n, s)| format!(" (segment {n} {s})"))
                        .unwrap_or_default(),
                    detail
                        .as_ref()
                        .map(|d| format!("; {d}"))
                        .unwrap_or_default()
                ),
                EventBody::Mo { from, to, text, .. } => format!("mo from {from} to {to}: {text}"),
                EventBody::Verification {
                    verification_id,
                    status,
                    purpose,
                } => format!("verification {verification_id} ({purpose}): {status}"),
            };
            print(&format!("{} {text}", line.cursor))?;
        }
    })
}

/// What `smsgate verify` shares with these commands: the connection as `--api`,
/// `--token` (and the environment) ask.
pub(crate) async fn connect_api(c: &Connect) -> Result<Client, CliError> {
    connect(c).await
}

/// A client error as the CLI reports it (a refusal exits 3, a lost connection 1).
pub(crate) fn api_error(e: ClientError) -> CliError {
    client_error(e)
}

/// Runs `fut` on a runtime of its own.
pub(crate) fn run_blocking<T>(
    fut: impl std::future::Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    block_on(fut)
}

/// One line on stdout, flushed.
pub(crate) fn print_line(line: &str) -> Result<(), CliError> {
    print(line)
}

/// `value` as one line of JSON.
pub(crate) fn json_line<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    json(value)
}
