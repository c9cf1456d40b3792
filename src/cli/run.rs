//! `smsgate run` (and `smsgate` alone): the service. Loads the configuration (a file, or the
//! embedded default: the built-in simulated SMSC and one carrier bound to it), starts the
//! simulator when it is enabled, the `/metrics` endpoint and the gateway, reports ready to
//! systemd, and on SIGINT or SIGTERM shuts down in order and exits 0.

use crate::cli::CliError;
use crate::config::{Config, ConfigSource};
use crate::gateway::Gateway;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;
use tracing::{error, info, warn};

/// Options of `smsgate run`; each wins over the configuration.
#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// The configuration file (default: the embedded config/smsgate.toml). Environment
    /// overrides (SMSGATE_…) apply either way.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The sled data directory.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Where `/metrics` is served (port 0 picks a free one).
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
    /// SMPP address of the built-in simulated SMSC (port 0 picks a free one; the carriers
    /// configured to bind to the simulator follow it).
    #[arg(long)]
    pub smpp_addr: Option<SocketAddr>,
    /// Where the TCP API listens (port 0 picks a free one).
    #[arg(long)]
    pub api_addr: Option<SocketAddr>,
    /// Where the admin listener (status, carrier stop/start, the status page) listens
    /// (port 0 picks a free one).
    #[arg(long)]
    pub admin_addr: Option<SocketAddr>,
    /// HTTP/JSON control address of the built-in simulated SMSC.
    #[arg(long)]
    pub control_addr: Option<SocketAddr>,
    /// A simulator scenario file (fixtures/scenarios/NAME.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Also submit messages read from stdin, one JSON object a line
    /// (`{"to": "+819012345678", "text": "...", "class": "otp", "client_ref": "..."}`), and
    /// answer each on stdout once it is on disk (`{"line": 1, "id": "..."}` or
    /// `{"line": 1, "error": "...", "code": "..."}`). For scripts and tests until the TCP
    /// API lands; the service keeps running when stdin ends.
    #[arg(long)]
    pub submit_stdin: bool,
}

/// Loads the configuration and lays the flags over it; also returns the simulator's SMPP
/// address as configured before the flags, which the simulator's carriers bind to.
fn config(args: &RunArgs) -> Result<(Config, SocketAddr), CliError> {
    let source = match &args.config {
        Some(path) => ConfigSource::File(path.clone()),
        None => ConfigSource::Embedded,
    };
    let mut config = Config::load(source, crate::config::process_env())
        .map_err(crate::cli::config::load_error)?;
    let binds_at = config.simulator.smpp_address;
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(addr) = args.metrics_addr {
        config.metrics.address = addr;
    }
    if let Some(addr) = args.api_addr {
        config.api.address = addr;
    }
    if let Some(addr) = args.admin_addr {
        config.admin.address = addr;
    }
    if let Some(addr) = args.smpp_addr {
        config.simulator.smpp_address = addr;
    }
    if let Some(addr) = args.control_addr {
        config.simulator.control_address = addr;
    }
    if let Some(path) = &args.scenario {
        config.simulator.scenario = Some(path.clone());
    }
    Ok((config, binds_at))
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let (mut config, binds_at) = config(&args)?;
    let args = args.clone();
    crate::telemetry::init_logging(&config.log.filter, config.log.format)
        .map_err(|e| CliError::Start(e.to_string()))?;
    let system = actix::System::new();
    let result = system.block_on(async move {
        let mut signals = Signals::new();
        let sim = crate::sim::start_if_enabled(&mut config, binds_at)
            .await
            .map_err(CliError::Start)?;
        let metrics =
            crate::telemetry::init_metrics().map_err(|e| CliError::Start(e.to_string()))?;
        let listener = tokio::net::TcpListener::bind(config.metrics.address)
            .await
            .map_err(|e| CliError::Start(format!("metrics on {}: {e}", config.metrics.address)))?;
        let metrics_addr = listener
            .local_addr()
            .map_err(|e| CliError::Start(format!("metrics: {e}")))?;
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_metrics = metrics.clone();
        actix::spawn(async move {
            let stopped = async {
                let _ = metrics_stopped.await;
            };
            if let Err(e) = crate::telemetry::serve_metrics(listener, metrics, stopped).await {
                error!(error = %e, "metrics endpoint stopped");
            }
        });
        let spec = crate::wiring::spec(&config).map_err(|e| CliError::Start(e.to_string()))?;
        let gateway = Gateway::start(spec)
            .await
            .map_err(|e| CliError::Start(e.to_string()))?;
        // One set of tokens for both APIs: a token's rate limit covers all its requests.
        let tokens = crate::api::auth::Tokens::new(&config.api.tokens, Instant::now())
            .map_err(|e| CliError::Start(e.to_string()))?;
        let api = if config.api.enabled {
            let mut settings =
                crate::api::server::ServerSettings::from_config(&config.api, Instant::now())
                    .map_err(|e| CliError::Start(e.to_string()))?;
            settings.tokens = tokens.clone();
            let server =
                crate::api::server::ApiServer::start(config.api.address, settings, gateway.clone())
                    .map_err(|e| CliError::Start(e.to_string()))?;
            Some(server)
        } else {
            None
        };
        let admin = if config.admin.enabled {
            let settings = crate::admin::AdminSettings {
                metrics: Some(admin_metrics),
                ..crate::admin::AdminSettings::from_config(&config.admin)
                    .map_err(|e| CliError::Start(e.to_string()))?
            };
            let server =
                crate::admin::AdminServer::start(config.admin.address, settings, gateway.clone())
                    .map_err(|e| CliError::Start(e.to_string()))?;
            Some(server)
        } else {
            None
        };
        let http_api = if config.http_api.enabled {
            let settings = crate::http_api::HttpSettings::from_config(&config.http_api, tokens)
                .map_err(|e| CliError::Start(e.to_string()))?;
            let server = crate::http_api::HttpApiServer::start(
                config.http_api.address,
                settings,
                gateway.clone(),
            )
            .map_err(|e| CliError::Start(e.to_string()))?;
            Some(server)
        } else {
            None
        };
        {
            let mut out = std::io::stdout().lock();
            let sim_part = match &sim {
                Some(sim) => format!(
                    "simulated SMSC (scenario {}): smpp on {}, control on http://{}; ",
                    sim.scenario, sim.smpp_addr, sim.control_addr
                ),
                None => String::new(),
            };
            let api_part = match &api {
                Some(api) => format!("api on {}; ", api.local_addr()),
                None => String::new(),
            };
            let admin_part = match &admin {
                Some(admin) => format!("admin on http://{}; ", admin.local_addr()),
                None => String::new(),
            };
            let http_part = match &http_api {
                Some(http) => format!("http api on {}; ", http.url()),
                None => String::new(),
            };
            writeln!(
                out,
                "smsgate: running; {api_part}{http_part}{admin_part}{sim_part}metrics on http://{metrics_addr}/metrics; data in {}",
                config.data_dir.display()
            )
            .and_then(|()| out.flush())
            .map_err(CliError::Write)?;
        }
        info!(metrics = %metrics_addr, "smsgate running");
        if args.submit_stdin {
            actix::spawn(submit_stdin(gateway.clone()));
        }
        notify_systemd(sd_notify::NotifyState::Ready);
        if let Some(interval) = watchdog_interval() {
            actix::spawn(watchdog(gateway.clone(), interval));
        }
        let signal = loop {
            match signals.next().await {
                Signal::Stop(name) => break name,
                Signal::Reload => reload_portability(&config, &gateway).await,
            }
        };
        info!(signal, "stopping");
        notify_systemd(sd_notify::NotifyState::Stopping);
        if let Some(api) = api {
            api.stop().await;
        }
        if let Some(http) = http_api {
            http.stop().await;
        }
        if let Some(admin) = admin {
            admin.stop().await;
        }
        let report = gateway.shutdown().await;
        let _ = stop_metrics.send(());
        if let Some(sim) = sim {
            sim.stop().await;
        }
        info!(
            unbound_in_time = report.unbound_in_time,
            flushed = report.flushed,
            "stopped"
        );
        if report.flushed {
            Ok(())
        } else {
            Err(CliError::Start(
                "the final flush of the store failed".into(),
            ))
        }
    });
    result
}

/// One line of `--submit-stdin`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitLine {
    to: String,
    text: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default = "default_class")]
    class: String,
    #[serde(default)]
    client_ref: Option<String>,
}

fn default_class() -> String {
    "transactional".into()
}

/// Most stdin submissions waiting for their durable acknowledgement at once.
const STDIN_IN_FLIGHT: usize = 1024;

/// Reads stdin on a thread of its own and hands the lines over, at most `STDIN_IN_FLIGHT`
/// ahead. Not `tokio::io::stdin`: its read runs on the runtime's blocking pool, cannot be
/// cancelled, and the runtime waits for it when it is dropped, so a stdin held open by
/// the writer kept the process alive after a clean SIGTERM shutdown. A plain thread still
/// blocked in its read when `run` returns ends with the process.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = tokio::sync::mpsc::channel(STDIN_IN_FLIGHT);
    let reader = std::thread::Builder::new()
        .name("smsgate-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                // A read error ends stdin as its end does; a closed channel means the
                // service stopped taking lines.
                let Ok(line) = line else { return };
                if tx.blocking_send(line).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = reader {
        error!(error = %e, "cannot start the stdin reader: no messages are read from stdin");
    }
    rx
}

/// Submits each line of stdin and answers on stdout, in the order the acknowledgements
/// come.
async fn submit_stdin(gateway: Gateway) {
    use crate::outbox::actor::Submit;
    use crate::store::Class;
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(STDIN_IN_FLIGHT));
    let mut lines = stdin_lines();
    let mut n = 0u64;
    let answer = |value: serde_json::Value| {
        let mut out = std::io::stdout().lock();
        // stdout gone (the reader quit): nothing more to tell anyone.
        let _ = writeln!(out, "{value}").and_then(|()| out.flush());
    };
    while let Some(line) = lines.recv().await {
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Result<SubmitLine, _> = serde_json::from_str(&line);
        let submit = match parsed {
            Ok(l) => {
                let class = match l.class.as_str() {
                    "otp" => Class::Otp,
                    "transactional" => Class::Transactional,
                    "bulk" => Class::Bulk,
                    other => {
                        answer(
                            serde_json::json!({"line": n, "code": "invalid_class", "error": format!("class {other:?}: otp, transactional or bulk")}),
                        );
                        continue;
                    }
                };
                Submit {
                    from: l.from,
                    client_ref: l.client_ref,
                    ..Submit::new(l.to, l.text, class)
                }
            }
            Err(e) => {
                answer(
                    serde_json::json!({"line": n, "code": "invalid_json", "error": e.to_string()}),
                );
                continue;
            }
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let gateway = gateway.clone();
        actix::spawn(async move {
            let result = gateway.submit(submit).await;
            drop(permit);
            answer(match result {
                Ok(accepted) => {
                    serde_json::json!({"line": n, "id": accepted.id.to_string(), "duplicate": accepted.duplicate})
                }
                Err(crate::gateway::SubmitFailure::Refused(r)) => {
                    serde_json::json!({"line": n, "code": r.code(), "error": r.to_string()})
                }
                Err(e) => {
                    serde_json::json!({"line": n, "code": "not_running", "error": e.to_string()})
                }
            });
        });
    }
}

/// Tells systemd, when it started us with a notify socket; nothing otherwise.
fn notify_systemd(state: sd_notify::NotifyState<'_>) {
    // No NOTIFY_SOCKET (not under systemd) is not an error; a failed send cannot be helped
    // and only costs systemd's view of the state.
    let _ = sd_notify::notify(false, &[state]);
}

/// How often to ping systemd's watchdog: half of `WatchdogSec=` when systemd asked for
/// pings (`WATCHDOG_USEC` names this process), `None` otherwise.
fn watchdog_interval() -> Option<std::time::Duration> {
    let mut usec = 0u64;
    if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
        Some(std::time::Duration::from_micros(usec / 2))
    } else {
        None
    }
}

/// Pings the watchdog while the outbox answers within the interval: a wedged outbox (the
/// actor every acknowledgement goes through) stops the pings, and systemd restarts the
/// service; a live runtime over a dead outbox does not fool it.
async fn watchdog(gateway: Gateway, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        match tokio::time::timeout(interval, gateway.depth()).await {
            Ok(Ok(_)) => notify_systemd(sd_notify::NotifyState::Watchdog),
            Ok(Err(_)) => return,
            Err(_) => warn!(
                ?interval,
                "watchdog: the outbox did not answer in time; no ping"
            ),
        }
    }
}

/// What a signal asks of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// SIGINT or SIGTERM (named): the ordered shutdown.
    Stop(&'static str),
    /// SIGHUP: read the portability table again.
    Reload,
}

/// The signals `smsgate run` acts on, listened for from the start, so that none sent
/// between two waits is missed. A signal that cannot be listened for is traced and never
/// fires (Ctrl-C still stops the service).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    warn!(signal = name, error = %e, "cannot listen for the signal");
                    None
                }
            };
            Signals {
                term: listen(SignalKind::terminate(), "SIGTERM"),
                hup: listen(SignalKind::hangup(), "SIGHUP"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal.
    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                r = tokio::signal::ctrl_c() => ctrl_c(r),
                () = recv(&mut self.term) => Signal::Stop("SIGTERM"),
                () = recv(&mut self.hup) => Signal::Reload,
            }
        }
        #[cfg(not(unix))]
        ctrl_c(tokio::signal::ctrl_c().await)
    }
}

/// Ctrl-C, or a failure to listen for it (traced; the service then stops rather than run
/// on with no way to stop it but SIGKILL).
fn ctrl_c(r: std::io::Result<()>) -> Signal {
    if let Err(e) = r {
        error!(error = %e, "cannot listen for SIGINT");
    }
    Signal::Stop("SIGINT")
}

/// SIGHUP: the portability table the configuration names is read again and replaces the
/// one in use; one that cannot be read or names an unknown carrier is refused, traced with
/// the file and line, and the table in use is kept.
async fn reload_portability(config: &Config, gateway: &Gateway) {
    match crate::wiring::portability(config) {
        Ok(None) => info!("SIGHUP: no portability table is configured; nothing to reload"),
        Ok(Some(table)) => {
            let entries = table.len();
            match gateway.set_portability(table).await {
                Ok(before) => info!(entries, before, "SIGHUP: portability table reloaded"),
                Err(e) => error!(error = %e, "SIGHUP: portability table not replaced"),
            }
        }
        Err(e) => warn!(error = %e, "SIGHUP: portability table refused; the one in use is kept"),
    }
}
