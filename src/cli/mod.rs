//! The command line of `smsgate` (clap, derive): `smsgate <subcommand>`, the typed errors
//! of the subcommands, and their exit codes.
//!
//! Subcommands: `run` (the default: the service on its embedded default), `demo` (a
//! verification end to end on a private copy of the embedded default), `config check` /
//! `config show` (see docs/configuration.md), `pdu decode` / `pdu encode` (the operator's
//! PDU tool, see docs/pdu-tool.md), and over the API `send`, `status`, `events` and
//! `verify` (docs/api.md), `bench`, the load generator (docs/performance.md), and `chaos`, the fault suite
//! (docs/faults.md).

pub mod admin;
pub mod bench;
pub mod chaos;
pub mod client;
pub mod config;
pub mod demo;
pub mod pdu;
pub mod run;
pub mod text_preview;
pub mod verify;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use thiserror::Error;

/// smsgate: an SMS gateway holding SMPP 3.4 binds to carrier SMSCs.
#[derive(Debug, Parser)]
#[command(name = "smsgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do; with none, `run` on the embedded default.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands of `smsgate`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service on its embedded default (the built-in simulated SMSC for now).
    Run(run::RunArgs),
    /// Check a configuration file, or print the effective configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Decode SMPP PDUs to JSON and encode them back (a debugging tool).
    #[command(subcommand)]
    Pdu(pdu::PduCommand),
    /// Submit a message through the API.
    Send(client::SendArgs),
    /// A message's state through the API; with no id, the gateway's status from the admin
    /// listener.
    Status(client::StatusArgs),
    /// Stop or start a carrier's binds through the admin listener.
    #[command(subcommand)]
    Carrier(admin::CarrierCommand),
    /// Re-read the configuration through the admin listener.
    Reload(admin::ReloadArgs),
    /// Follow the event log through the API.
    Events(client::EventsArgs),
    /// Verification codes through the API: start, check, resend, cancel, status.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// See a verification work end to end, on a private copy of the embedded default.
    Demo(demo::DemoArgs),
    /// Load generator: messages or verifications over the API, with latency percentiles,
    /// the gateway's memory, a JSON report and a chart (docs/performance.md).
    Bench(bench::BenchArgs),
    /// The fault suite: kills, drops, throttling, a black hole, bind refusals and a full
    /// disk under load, then an accounting of every acknowledged message.
    Chaos(chaos::ChaosArgs),
}

/// Exit code for input that cannot be decoded or encoded, and for an invalid configuration
/// (clap uses 2 for usage errors too).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a failure to read or write (a missing file, a closed terminal).
pub const EXIT_IO: u8 = 1;

/// Why a subcommand failed. Each message names where: the PDU, its byte offset or JSON
/// line, and the field.
#[derive(Debug, Error)]
pub enum CliError {
    /// An input file or stdin could not be read.
    #[error("cannot read {what}: {source}")]
    Read {
        /// What was being read ("stdin", a path).
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Output could not be written.
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    /// Text input that is not UTF-8.
    #[error("{0} is not UTF-8 text (give binary PDUs with --raw)")]
    NotUtf8(String),
    /// Hex input with a bad digit or an odd number of digits.
    #[error("bad hex in {input}: {source}")]
    Hex {
        /// Where the hex came from ("stdin", "the argument").
        input: String,
        /// The loader's error, with line and column.
        source: smpp::fixtures::HexError,
    },
    /// Input with no PDU in it.
    #[error("no PDU in the input")]
    Empty,
    /// A PDU that does not decode.
    #[error("PDU {index} at byte {offset}: {}", pdu::describe_decode_error(source))]
    Decode {
        /// 1-based number of the PDU in the input.
        index: usize,
        /// Offset of the PDU's first octet in the input.
        offset: usize,
        /// The codec's error.
        source: smpp::DecodeError,
    },
    /// Text that is not JSON (serde_json's message gives the line and column).
    #[error("bad JSON: {0}")]
    Json(serde_json::Error),
    /// A JSON PDU with a field that is missing, of the wrong type, or not allowed.
    #[error("PDU {index} (JSON at line {line}): field {field}: {message}")]
    JsonField {
        /// 1-based number of the PDU in the input.
        index: usize,
        /// Line where the PDU's JSON starts.
        line: usize,
        /// The field, named as in the JSON (`body.destination_addr`, `body.tlvs[1]`).
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A JSON PDU whose values break a rule of the specification.
    #[error("PDU {index} (JSON at line {line}): {source}")]
    Encode {
        /// 1-based number of the PDU in the input.
        index: usize,
        /// Line where the PDU's JSON starts.
        line: usize,
        /// The codec's error, naming the field.
        source: smpp::EncodeError,
    },
    /// A JSON PDU that encodes to octets the codec then refuses (an optional parameter with
    /// a length its definition does not allow, given as raw hex).
    #[error(
        "PDU {index} (JSON at line {line}): the encoded PDU does not decode: {}",
        pdu::describe_decode_error(source)
    )]
    Reencode {
        /// 1-based number of the PDU in the input.
        index: usize,
        /// Line where the PDU's JSON starts.
        line: usize,
        /// The codec's error.
        source: smpp::DecodeError,
    },
    /// The service could not start (a listener, the store, the simulator) or stop cleanly.
    #[error("{0}")]
    Start(String),
    /// A value that could not be turned into JSON (not expected to happen).
    #[error("cannot build the JSON: {0}")]
    ToJson(serde_json::Error),
    /// A smsgate configuration that is not valid: every problem, one per line.
    #[error("{0}")]
    InvalidConfig(crate::config::ConfigErrors),
    /// A configuration that could not be written as TOML (not expected to happen).
    #[error("cannot write the configuration as TOML: {0}")]
    ShowConfig(toml::ser::Error),
    /// Usage the argument parser cannot catch (a missing text with stdin a terminal).
    #[error("{0}")]
    Usage(String),
    /// The API could not be reached, or the connection was lost.
    #[error("{0}")]
    Connection(String),
    /// The gateway refused the request (its code and message).
    #[error("{0}")]
    Refused(String),
    /// The subcommand has written its outcome already (`config check --json`); only the
    /// exit code is left to give.
    #[error("exit code {0}")]
    Reported(u8),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Read { .. }
            | CliError::Write(_)
            | CliError::ToJson(_)
            | CliError::ShowConfig(_)
            | CliError::Start(_)
            | CliError::Connection(_) => EXIT_IO,
            CliError::Refused(_) => client::EXIT_REFUSED,
            CliError::Reported(code) => *code,
            _ => EXIT_BAD_INPUT,
        }
    }
}

/// All of stdin, as bytes.
pub(crate) fn read_stdin_bytes() -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|source| CliError::Read {
            what: "stdin".to_owned(),
            source,
        })?;
    Ok(buf)
}

/// The argument; without one, all of stdin when stdin is not a terminal (the Unix habit),
/// else a usage error saying `usage`. The flag says whether it came from stdin.
pub(crate) fn arg_or_stdin(arg: Option<String>, usage: &str) -> Result<(String, bool), CliError> {
    use std::io::IsTerminal;
    match arg {
        Some(arg) => Ok((arg, false)),
        None if !std::io::stdin().is_terminal() => {
            let text = String::from_utf8(read_stdin_bytes()?)
                .map_err(|_| CliError::NotUtf8("stdin".into()))?;
            Ok((text, true))
        }
        None => Err(CliError::Usage(usage.to_owned())),
    }
}

/// Parses the command line, runs the subcommand and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run::run(run::RunArgs::default()),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Config(cmd)) => config::run(cmd),
        Some(Command::Pdu(cmd)) => pdu::run(cmd),
        Some(Command::Send(args)) => client::send(args),
        Some(Command::Status(args)) => client::status(args),
        Some(Command::Events(args)) => client::events(args),
        Some(Command::Carrier(cmd)) => admin::carrier(cmd),
        Some(Command::Reload(args)) => admin::reload(args),
        Some(Command::Verify(cmd)) => verify::run(cmd),
        Some(Command::Demo(args)) => demo::demo(args),
        Some(Command::Bench(args)) => bench::bench(args),
        Some(Command::Chaos(args)) => chaos::chaos(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CliError::Reported(code)) => ExitCode::from(code),
        Err(e) => {
            // One "error: " line per problem (an invalid configuration has several). Nothing
            // more can be done if stderr is gone too.
            let mut err = std::io::stderr().lock();
            for line in e.to_string().lines() {
                let _ = writeln!(err, "error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
