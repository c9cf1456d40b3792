//! `smsgate run`: the service on its embedded default, which is also what `smsgate` with no
//! subcommand does.
//!
//! Today the embedded default is the built-in simulated SMSC (`fixtures/smsc-sim`), served
//! in-process so that a tester can bind an ESME to it, submit, and read the handset inbox
//! over its control interface. The SMPP connector, the outbox and the API join this process
//! as they are built; the command line and the first line it prints stay the same. A build
//! without the `sim` feature has no simulator, so `run` is refused there.

use crate::cli::CliError;
use clap::Args;
#[cfg(feature = "sim")]
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `smsgate run`.
#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// SMPP address of the built-in simulated SMSC (default 127.0.0.1:2775; port 0 picks a
    /// free one).
    #[arg(long)]
    pub smpp_addr: Option<SocketAddr>,
    /// HTTP/JSON control address of the built-in simulated SMSC: inbox, faults, stats
    /// (default 127.0.0.1:8775).
    #[arg(long)]
    pub control_addr: Option<SocketAddr>,
    /// A simulator scenario file (fixtures/scenarios/NAME.toml) instead of the default.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

/// Runs until Ctrl-C (or end of the process), then shuts down in order: the simulator
/// unbinds every session before it stops.
#[cfg(feature = "sim")]
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let config = crate::config::simulator_config(
        args.scenario.as_deref(),
        args.smpp_addr,
        args.control_addr,
    )
    .map_err(CliError::Config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::Runtime)?;
    runtime.block_on(async move {
        let name = config.name.clone();
        let sim = smsc_sim::start(config).await.map_err(CliError::Config)?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "smsgate: built-in simulated SMSC (scenario {name}): smpp on {}, control on http://{}",
                sim.smpp_addr(),
                sim.control_addr()
            )
            .and_then(|()| out.flush())
            .map_err(CliError::Write)?;
        }
        let waited = tokio::signal::ctrl_c().await;
        sim.shutdown().await;
        waited.map_err(CliError::Runtime)
    })
}

/// Without the simulator there is nothing to run yet: refused, naming the missing feature.
#[cfg(not(feature = "sim"))]
pub fn run(_args: RunArgs) -> Result<(), CliError> {
    Err(CliError::NoSimulator)
}
