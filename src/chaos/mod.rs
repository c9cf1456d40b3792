//! The fault suite behind `smsgate chaos`: the simulated SMSC in process, the gateway as a
//! child process (`smsgate run`) with its data directory on a tmpfs of its own, a steady
//! load over the TCP API, and a schedule of faults while it runs — SIGKILL and restart,
//! dropped connections, throttling storms, a black hole, bind refusals, a full disk. At the
//! end every message the API acknowledged is accounted for through `message.status`, and
//! the copies the SMSC received are counted against what the faults can explain.
//!
//! The pure parts — the schedule ([`schedule`]) and the accounting ([`accounting`]) — are
//! plain structs with unit tests; this module walks the schedule.

pub mod accounting;
pub mod child;
pub mod disk;
pub mod load;
pub mod schedule;
pub mod trail;

use accounting::{Accounting, EndState, Fate, ResendFaults, SubmitFate};
use child::{ChildConfig, Gateway, Launcher};
use load::{Burster, Ledger, Load};
use schedule::{Fault, Schedule};
use secrecy::SecretString;
use serde::Serialize;
use smsc_sim::{Faults, SimHandle, StatsSnapshot};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Why the suite could not run (as opposed to a run that found faults in the gateway).
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// Something around the run: a directory, the simulator, the runtime.
    #[error("setup: {0}")]
    Setup(String),
    /// The tmpfs for the data directory could not be mounted.
    #[error("{0}")]
    Mount(String),
    /// The tmpfs could not be measured, resized or unmounted.
    #[error("the data directory's tmpfs: {0}")]
    Disk(String),
    /// The gateway could not be started, signalled or reaped.
    #[error("the gateway: {0}")]
    Gateway(String),
    /// The options do not make a run.
    #[error("{0}")]
    Usage(String),
    /// SIGINT or SIGTERM came: the run was abandoned, the gateway under test killed, its
    /// tmpfs unmounted and the work directory removed.
    #[error(
        "interrupted by {0}: the gateway under test was killed and the work directory removed"
    )]
    Interrupted(&'static str),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// The fault schedule.
    pub schedule: Schedule,
    /// Messages the load submits over the whole schedule.
    pub messages: usize,
    /// Submits in flight at once.
    pub concurrency: usize,
    /// Binds of the gateway's carrier.
    pub binds: usize,
    /// Window of each bind.
    pub window: usize,
    /// Run without the tmpfs (and so without the full-disk phase).
    pub skip_full_disk: bool,
    /// Size of the tmpfs, MiB.
    pub disk_mib: u64,
    /// How long, after the load has been answered, the messages get to become final.
    pub drain: Duration,
    /// Keep the work directory (configuration, the gateway's log) and say where.
    pub keep: bool,
    /// The `smsgate` executable to run as the gateway.
    pub exe: PathBuf,
    /// Whether this is the quick (CI) version, for the report.
    pub quick: bool,
}

/// What one phase did and what shows it happened.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The fault.
    pub fault: Fault,
    /// Its number among the phases of its kind (1-based).
    pub nth: usize,
    /// When it started, ms after the load did.
    pub at_ms: u64,
    /// How long it was held, ms.
    pub held_ms: u64,
    /// Whether the evidence shows it happened.
    pub happened: bool,
    /// The evidence, in words.
    pub evidence: String,
    /// The evidence, counted.
    pub counts: BTreeMap<&'static str, u64>,
    /// After the fault was lifted, ms until every bind was bound again and the SMSC had
    /// accepted a submit (`None`: not within the deadline).
    pub recovered_ms: Option<u64>,
    /// What went wrong, if anything.
    pub problem: Option<String>,
}

/// Every fault, counted over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaultTotals {
    /// SIGKILLs.
    pub kills: usize,
    /// Gateway starts after the first.
    pub restarts: usize,
    /// SIGKILLs and the stop after the full disk: deaths that can resend a window.
    pub gateway_deaths: usize,
    /// Connections the SMSC dropped.
    pub dropped_connections: u64,
    /// ESME_RTHROTTLED answers of the SMSC.
    pub throttled: u64,
    /// Binds the SMSC refused.
    pub bind_failures: u64,
    /// Black holes.
    pub black_holes: usize,
    /// PDUs the SMSC left unanswered in them.
    pub black_hole_unanswered: u64,
    /// Submits the gateway refused with `storage` (the full disk).
    pub storage_refusals: usize,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Nothing lost, duplicates within the bound, every phase happened, no problem.
    pub passed: bool,
    /// The quick (CI) version.
    pub quick: bool,
    /// Messages the load was to submit.
    pub messages: usize,
    /// Their rate, per second.
    pub rate: f64,
    /// Binds and window of the carrier.
    pub binds: usize,
    /// Window of each bind.
    pub window: usize,
    /// Whether the full-disk phase was left out (`--skip-full-disk`).
    pub full_disk_skipped: bool,
    /// The schedule walked.
    pub schedule: Schedule,
    /// Each phase.
    pub phases: Vec<PhaseReport>,
    /// The faults, counted.
    pub faults: FaultTotals,
    /// Refusals by code, with the first message of each (what a client was told).
    pub refusals: BTreeMap<String, RefusalSample>,
    /// Submits retried after a lost connection or a passing refusal.
    pub retries: usize,
    /// The accounting.
    pub accounting: Accounting,
    /// The simulator's counters at the end.
    pub smsc: StatsSnapshot,
    /// From the first message to the last answer of the load, ms.
    pub load_ms: u64,
    /// From the end of the load until every acknowledged message was final (or the drain
    /// deadline), ms.
    pub drain_ms: u64,
    /// The whole run, ms.
    pub elapsed_ms: u64,
    /// What went wrong outside the accounting.
    pub problems: Vec<String>,
    /// For each lost message named in the accounting, the gateway's log lines that name it
    /// or its carrier ids.
    pub lost_trails: Vec<trail::Trail>,
    /// The work directory, when kept.
    pub work_dir: Option<String>,
}

/// A refusal code's count and first message.
#[derive(Debug, Clone, Serialize)]
pub struct RefusalSample {
    /// How many.
    pub count: usize,
    /// The first message the API gave with it.
    pub message: String,
}

/// The simulator's account.
const SYSTEM_ID: &str = "chaos";
const PASSWORD: &str = "pw";
/// KiB left free when the disk is made full: a few accepts fit, then the writes fail.
const FULL_MARGIN_KIB: u64 = 64;
/// Extra messages the full-disk phase may send at most (a burst, so that the disk fills in
/// seconds whatever the load's rate): this, or the load's own count if larger.
const BURST_MIN: usize = 5000;
/// Workers of that burst.
const BURST_WORKERS: usize = 16;
/// How long the disk stays full after the first refusal.
const FULL_KEPT: Duration = Duration::from_secs(1);
/// The longest a fault's recovery is waited for.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(30);
/// The longest a connection drop is waited for once asked.
const DROP_DEADLINE: Duration = Duration::from_secs(3);

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs the suite. Must be called outside a runtime: it makes its own.
///
/// # Errors
/// [`ChaosError`] when the run cannot be set up or the gateway cannot be started at all;
/// a gateway that loses messages, or a fault that did not happen, is a report with
/// `passed: false`.
pub fn run(options: ChaosOptions) -> Result<Report, ChaosError> {
    if options.messages == 0 {
        return Err(ChaosError::Usage("--messages must be at least 1".into()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ChaosError::Setup(format!("cannot start the runtime: {e}")))?;
    // On a signal the run's future is dropped: the gateway's child is killed (kill on
    // drop), the simulator's tasks end with the runtime, the tmpfs is unmounted and the
    // work directory removed by their own drops, so an interrupted run leaves nothing
    // behind.
    let outcome = runtime.block_on(async {
        tokio::select! {
            report = run_async(options) => report,
            signal = interrupted() => Err(ChaosError::Interrupted(signal)),
        }
    });
    if matches!(outcome, Err(ChaosError::Interrupted(_))) {
        // The kill is sent; the exit is waited for, so that nothing runs on after us.
        if let Some(pid) = child::last_started() {
            child::wait_gone(pid, Duration::from_secs(5));
        }
    }
    outcome
}

/// The first SIGINT or SIGTERM, by name; never, where the handlers cannot be installed.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        _ => std::future::pending().await,
    }
}

async fn run_async(mut options: ChaosOptions) -> Result<Report, ChaosError> {
    let began = Instant::now();
    if options.skip_full_disk {
        options
            .schedule
            .steps
            .retain(|s| s.fault != Fault::FullDisk);
    }
    let work = tempfile::Builder::new()
        .prefix("smsgate-chaos-")
        .tempdir()
        .map_err(|e| ChaosError::Setup(format!("cannot make a work directory: {e}")))?;
    progress(&format!("work directory {}", work.path().display()));
    let mount_dir = work.path().join("disk");
    std::fs::create_dir(&mount_dir)
        .map_err(|e| ChaosError::Setup(format!("cannot make {}: {e}", mount_dir.display())))?;
    let mut disk = if options.skip_full_disk {
        None
    } else {
        Some(disk::Tmpfs::mount(&mount_dir, options.disk_mib * 1024)?)
    };

    let mut config = smsc_sim::Config::for_tests();
    config.name = "chaos".into();
    config.accounts = vec![smsc_sim::Account::new(SYSTEM_ID, PASSWORD)];
    config.receipts.delay_ms = 5;
    config.receipts.delay_max_ms = 50;
    config.inbox_limit = 1000;
    let sim = smsc_sim::start(config)
        .await
        .map_err(|e| ChaosError::Setup(format!("cannot start the simulator: {e}")))?;

    let token = format!("chaos-{:032x}", rand::random::<u128>());
    let child = ChildConfig {
        data_dir: mount_dir.join("data"),
        smsc: sim.smpp_addr(),
        system_id: SYSTEM_ID.into(),
        password: PASSWORD.into(),
        binds: options.binds,
        window: options.window,
        token: token.clone(),
    };
    let log = work.path().join("gateway.log");
    let launcher = Launcher::new(
        options.exe.clone(),
        &work.path().join("smsgate.toml"),
        &log,
        &child,
    )?;
    let outcome = drive(&options, &sim, launcher, disk.as_ref(), token, &log).await;
    sim.shutdown().await;
    if let Some(disk) = disk.as_mut() {
        disk.unmount()?;
    }
    let mut report = outcome?;
    report.elapsed_ms = ms(began.elapsed());
    if options.keep {
        let kept = work.keep();
        report.work_dir = Some(kept.display().to_string());
    }
    Ok(report)
}

/// Everything between the simulator's start and its shutdown.
async fn drive(
    options: &ChaosOptions,
    sim: &SimHandle,
    mut launcher: Launcher,
    disk: Option<&disk::Tmpfs>,
    token: String,
    log: &Path,
) -> Result<Report, ChaosError> {
    let gateway = launcher.start().await?;
    let (api_tx, api_rx) = watch::channel(Some(gateway.api));
    let planned = options.schedule.planned().as_secs_f64().max(1.0);
    let rate = options.messages as f64 / planned;
    let token = SecretString::from(token);
    let load = Load::start(
        options.messages,
        options.messages.max(BURST_MIN),
        rate,
        options.concurrency,
        api_rx,
        token.clone(),
    );
    let mut run = Runner {
        sim,
        launcher,
        gateway,
        api: api_tx,
        disk,
        ledger: load.ledger.clone(),
        burster: load.burster(),
        started: Instant::now(),
        binds: options.binds,
        totals: FaultTotals::default(),
        problems: Vec::new(),
        throttle_tps: u32::try_from((rate / 10.0).ceil() as u64)
            .unwrap_or(1)
            .max(1),
        messages: options.messages,
    };
    let mut phases = Vec::new();
    let mut nth: BTreeMap<Fault, usize> = BTreeMap::new();
    tokio::time::sleep(options.schedule.warmup).await;
    let mut broken = false;
    for step in &options.schedule.steps {
        let n = {
            let c = nth.entry(step.fault).or_default();
            *c += 1;
            *c
        };
        progress(&format!(
            "{} {n}/{} at {:.1}s ({} acknowledged)",
            step.fault,
            options.schedule.count(step.fault),
            run.started.elapsed().as_secs_f64(),
            run.ledger.acknowledged()
        ));
        let mut report = run
            .phase(step.fault, step.hold, options.schedule.drop_every)
            .await;
        report.nth = n;
        if let Some(p) = &report.problem {
            progress(&format!("  problem: {p}"));
        }
        let fatal = report
            .problem
            .as_deref()
            .is_some_and(|p| p.starts_with("restart"));
        phases.push(report);
        if fatal {
            broken = true;
            break;
        }
        tokio::time::sleep(step.calm_after).await;
    }
    progress("waiting for every submit to be answered");
    let settle = if broken {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(60) + options.schedule.planned()
    };
    let (ledger, all_answered) = load.finish(settle).await;
    if !all_answered {
        run.problems
            .push("some submits were never answered by the deadline".to_owned());
    }
    let load_ms = ms(run.started.elapsed());
    progress(&format!(
        "load done: {} acknowledged; waiting for them to be final",
        ledger.acknowledged()
    ));
    let drained = Instant::now();
    let fates = ledger.fates();
    let api = *run.api.borrow();
    let ends = match api {
        Some(addr) => end_states(addr, &token, &fates, options.drain).await,
        None => BTreeMap::new(),
    };
    let drain_ms = ms(drained.elapsed());
    let fates: Vec<Fate> = fates
        .into_iter()
        .enumerate()
        .map(|(n, submit)| (n, submit, sim.inbox(&load::number(n))))
        .map(|(n, submit, copies)| Fate {
            client_ref: load::client_ref(n),
            end: match &submit {
                SubmitFate::Acknowledged { .. } => ends.get(&n).cloned(),
                _ => None,
            },
            submit,
            smsc_copies: copies.len(),
            smsc_trace: copies
                .iter()
                .flat_map(|c| &c.message_ids)
                .map(|id| smsc_trace(sim, id))
                .collect(),
        })
        .collect();
    // Stop the gateway in order (a last check that it stops when asked).
    match run.gateway.stop().await {
        Ok((_, true)) => run
            .problems
            .push("the gateway did not stop on SIGTERM and was killed".into()),
        Ok(_) => {}
        Err(e) => run.problems.push(e.to_string()),
    }
    let smsc = sim.stats();
    run.totals.dropped_connections = smsc.dropped_connections;
    run.totals.throttled = smsc.throttled;
    run.totals.bind_failures = smsc.bind_failures;
    run.totals.restarts = run.launcher.starts.saturating_sub(1);
    run.totals.storage_refusals = ledger.refusals_of("storage");
    let accounting = Accounting::tally(
        &fates,
        ResendFaults {
            binds: options.binds,
            window: options.window,
            gateway_deaths: run.totals.gateway_deaths,
            black_holes: run.totals.black_holes,
            dropped_connections: usize::try_from(smsc.dropped_connections).unwrap_or(usize::MAX),
        },
    );
    let lost_trails = lost_trails(log, &fates, &accounting.lost_fates, &mut run.problems);
    let refusals = ledger
        .refusals()
        .into_iter()
        .map(|(code, (count, message))| (code, RefusalSample { count, message }))
        .collect();
    let passed = accounting.passed
        && run.problems.is_empty()
        && phases.iter().all(|p| p.happened && p.problem.is_none());
    Ok(Report {
        passed,
        quick: options.quick,
        messages: options.messages,
        rate,
        binds: options.binds,
        window: options.window,
        full_disk_skipped: options.skip_full_disk,
        schedule: options.schedule.clone(),
        phases,
        faults: run.totals,
        refusals,
        retries: ledger.retries(),
        accounting,
        smsc,
        load_ms,
        drain_ms,
        elapsed_ms: 0,
        problems: run.problems,
        lost_trails,
        work_dir: None,
    })
}

/// The trails of the lost messages at `lost` in `fates`, from the gateway's log.
fn lost_trails(
    log: &Path,
    fates: &[Fate],
    lost: &[usize],
    problems: &mut Vec<String>,
) -> Vec<trail::Trail> {
    if lost.is_empty() {
        return Vec::new();
    }
    let text = match std::fs::read(log) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            problems.push(format!(
                "cannot read {} for the lost messages' trails: {e}",
                log.display()
            ));
            return Vec::new();
        }
    };
    lost.iter()
        .filter_map(|&at| fates.get(at)?.names())
        .map(|(id, carrier_ids)| trail::trail(&text, id, carrier_ids))
        .collect()
}

pub(crate) fn progress(line: &str) {
    eprintln!("chaos: {line}");
}

/// The phases, over the running gateway and simulator.
struct Runner<'a> {
    sim: &'a SimHandle,
    launcher: Launcher,
    gateway: Gateway,
    api: watch::Sender<Option<SocketAddr>>,
    disk: Option<&'a disk::Tmpfs>,
    ledger: Arc<Ledger>,
    burster: Burster,
    started: Instant,
    binds: usize,
    totals: FaultTotals,
    problems: Vec<String>,
    throttle_tps: u32,
    messages: usize,
}

impl Runner<'_> {
    async fn phase(&mut self, fault: Fault, hold: Duration, drop_every: Duration) -> PhaseReport {
        let at = self.started.elapsed();
        let mut report = PhaseReport {
            fault,
            nth: 0,
            at_ms: ms(at),
            held_ms: 0,
            happened: false,
            evidence: String::new(),
            counts: BTreeMap::new(),
            recovered_ms: None,
            problem: None,
        };
        let result = match fault {
            Fault::Kill => self.kill(&mut report).await,
            Fault::Drops => self.drops(&mut report, hold, drop_every).await,
            Fault::Throttle => self.throttle(&mut report, hold).await,
            Fault::BlackHole => self.black_hole(&mut report, hold).await,
            Fault::BindRefusal => self.bind_refusal(&mut report, hold).await,
            Fault::FullDisk => self.full_disk(&mut report, hold).await,
        };
        report.held_ms = ms(self.started.elapsed().saturating_sub(at));
        if let Err(e) = self.sim.set_faults(Faults::default()) {
            report
                .problem
                .get_or_insert(format!("cannot clear the faults: {e}"));
        }
        match result {
            Ok(lifted_at) => {
                report.recovered_ms = self.recovery(lifted_at).await.map(ms);
                if report.recovered_ms.is_none() {
                    report.problem.get_or_insert(format!(
                        "not recovered within {RECOVERY_DEADLINE:?}: binds or submits did not come back"
                    ));
                }
            }
            Err(e) => {
                report.problem.get_or_insert(e);
            }
        }
        report
    }

    fn set_faults(&self, faults: Faults) -> Result<(), String> {
        self.sim
            .set_faults(faults)
            .map_err(|e| format!("cannot set the simulator's faults: {e}"))
    }

    /// Starts the gateway again and points the load at it.
    async fn restart(&mut self) -> Result<Duration, String> {
        let _ = self.api.send(None);
        let gateway = self
            .launcher
            .start()
            .await
            .map_err(|e| format!("restart failed: {e}"))?;
        let ready = gateway.ready_in;
        let _ = self.api.send(Some(gateway.api));
        self.gateway = gateway;
        Ok(ready)
    }

    /// Until every bind is bound again and the SMSC accepted a submit after
    /// `since_accepted` (or the load has nothing more to send).
    async fn recovery(&self, since_accepted: u64) -> Option<Duration> {
        let t0 = Instant::now();
        let binds = self.binds as u64;
        loop {
            let s = self.sim.stats();
            let load_done = self.ledger.answered() >= self.messages;
            if s.bound_sessions >= binds && (s.submits_accepted > since_accepted || load_done) {
                return Some(t0.elapsed());
            }
            if t0.elapsed() > RECOVERY_DEADLINE {
                return None;
            }
            // Woken by the simulator's next change; the bound covers a load that ended.
            let _ = tokio::time::timeout(
                Duration::from_millis(100),
                self.sim.wait_for_stats(|s| {
                    s.bound_sessions >= binds && s.submits_accepted > since_accepted
                }),
            )
            .await;
        }
    }

    /// SIGKILL and restart. Returns the SMSC's accepted count when the new gateway runs.
    async fn kill(&mut self, report: &mut PhaseReport) -> Result<u64, String> {
        let acked = self.ledger.acknowledged();
        let status = self.gateway.kill().await.map_err(|e| e.to_string());
        let killed = match &status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                s.signal() == Some(9)
            }
            Err(_) => false,
        };
        if killed {
            self.totals.kills += 1;
            self.totals.gateway_deaths += 1;
        }
        let accepted = self.sim.stats().submits_accepted;
        let ready = self.restart().await?;
        report.happened = killed;
        report.counts.insert("acknowledged_before", acked as u64);
        report.counts.insert("restart_ms", ms(ready));
        report.evidence = match &status {
            Ok(s) => format!(
                "SIGKILLed ({s}) after {acked} acknowledged; restarted in {} ms",
                ms(ready)
            ),
            Err(e) => format!("not killed: {e}"),
        };
        if let Err(e) = status {
            report.problem = Some(e);
        }
        Ok(accepted)
    }

    async fn drops(
        &mut self,
        report: &mut PhaseReport,
        hold: Duration,
        every: Duration,
    ) -> Result<u64, String> {
        let t0 = Instant::now();
        let before = self.sim.stats().dropped_connections;
        let mut asked = 0u64;
        while t0.elapsed() < hold {
            let tick = Instant::now();
            let seen = self.sim.stats().dropped_connections;
            // Every session is closed at its next PDU; off again once one has been.
            self.set_faults(Faults {
                drop_after_pdus: Some(1),
                ..Faults::default()
            })?;
            asked += 1;
            let _ = tokio::time::timeout(
                DROP_DEADLINE,
                self.sim.wait_for_stats(|s| s.dropped_connections > seen),
            )
            .await;
            self.set_faults(Faults::default())?;
            tokio::time::sleep(every.saturating_sub(tick.elapsed())).await;
        }
        let s = self.sim.stats();
        let dropped = s.dropped_connections - before;
        report.happened = dropped >= 1;
        report.counts.insert("asked", asked);
        report.counts.insert("dropped_connections", dropped);
        report.evidence = format!("{dropped} connections dropped by the SMSC ({asked} asked)");
        Ok(s.submits_accepted)
    }

    async fn throttle(&mut self, report: &mut PhaseReport, hold: Duration) -> Result<u64, String> {
        let before = self.sim.stats();
        self.set_faults(Faults {
            tps: Some(self.throttle_tps),
            ..Faults::default()
        })?;
        tokio::time::sleep(hold).await;
        self.set_faults(Faults::default())?;
        let s = self.sim.stats();
        let throttled = s.throttled - before.throttled;
        report.happened = throttled >= 1;
        report.counts.insert("tps", u64::from(self.throttle_tps));
        report.counts.insert("throttled", throttled);
        report.counts.insert(
            "accepted_while_throttled",
            s.submits_accepted - before.submits_accepted,
        );
        report.evidence = format!(
            "{throttled} submits answered ESME_RTHROTTLED at {} per second",
            self.throttle_tps
        );
        Ok(s.submits_accepted)
    }

    async fn black_hole(
        &mut self,
        report: &mut PhaseReport,
        hold: Duration,
    ) -> Result<u64, String> {
        self.set_faults(Faults {
            black_hole: true,
            ..Faults::default()
        })?;
        let before = self.sim.stats();
        tokio::time::sleep(hold).await;
        let during = self.sim.stats();
        self.set_faults(Faults::default())?;
        self.totals.black_holes += 1;
        let unanswered = during.pdus_received - before.pdus_received;
        self.totals.black_hole_unanswered += unanswered;
        report.happened = unanswered >= 1;
        report.counts.insert("unanswered_pdus", unanswered);
        report.counts.insert(
            "accepted_during",
            during.submits_accepted - before.submits_accepted,
        );
        report
            .counts
            .insert("binds_after", during.binds - before.binds);
        report.evidence = format!(
            "{unanswered} PDUs unanswered for {} ms (connections kept open)",
            ms(hold)
        );
        Ok(during.submits_accepted)
    }

    async fn bind_refusal(
        &mut self,
        report: &mut PhaseReport,
        hold: Duration,
    ) -> Result<u64, String> {
        let before = self.sim.stats();
        // Drop the binds so the gateway must bind again, then refuse those binds.
        self.set_faults(Faults {
            drop_after_pdus: Some(1),
            ..Faults::default()
        })?;
        let binds = self.binds as u64;
        let _ = tokio::time::timeout(
            DROP_DEADLINE,
            self.sim
                .wait_for_stats(|s| s.dropped_connections >= before.dropped_connections + binds),
        )
        .await;
        self.set_faults(Faults {
            refuse_binds_for_ms: Some(ms(hold)),
            ..Faults::default()
        })?;
        tokio::time::sleep(hold).await;
        self.set_faults(Faults::default())?;
        let s = self.sim.stats();
        let refused = s.bind_failures - before.bind_failures;
        report.happened = refused >= 1;
        report.counts.insert("bind_failures", refused);
        report.counts.insert(
            "dropped_connections",
            s.dropped_connections - before.dropped_connections,
        );
        report.evidence = format!(
            "{refused} binds refused (ESME_RBINDFAIL) for {} ms",
            ms(hold)
        );
        Ok(s.submits_accepted)
    }

    async fn full_disk(&mut self, report: &mut PhaseReport, hold: Duration) -> Result<u64, String> {
        let Some(disk) = self.disk else {
            return Err("no tmpfs: the full-disk phase cannot run".into());
        };
        let refused_before = self.ledger.refusals_of("storage");
        let acked_before = self.ledger.acknowledged();
        let generated_before = self.ledger.generated();
        let size = disk.fill(FULL_MARGIN_KIB).map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        // Extra load as fast as the gateway takes it: sled reuses the free room of its
        // files before it needs more disk, which at the load's own rate can take long.
        let burst = self.burster.burst(BURST_WORKERS);
        let mut exited = None;
        // Polled: the refusals come from the load's workers.
        while self.ledger.refusals_of("storage") == refused_before && t0.elapsed() < hold {
            if let Ok(Some(status)) = self.gateway.exited() {
                exited = Some(status);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let first_refusal = t0.elapsed();
        burst.end().await;
        let submitted_filling = self.ledger.generated() - generated_before;
        if exited.is_none() && self.ledger.refusals_of("storage") > refused_before {
            // Kept full a moment longer: the gateway goes on refusing (and does not die).
            let until = Instant::now() + FULL_KEPT;
            while Instant::now() < until {
                if let Ok(Some(status)) = self.gateway.exited() {
                    exited = Some(status);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let refused = self.ledger.refusals_of("storage") - refused_before;
        let acked_filling = self.ledger.acknowledged() - acked_before;
        // Still answering (not hung) while it refuses?
        let answering = match *self.api.borrow() {
            Some(addr) => tokio::time::timeout(Duration::from_secs(5), async {
                let token = SecretString::from(String::new());
                // Any answer to a hello, even `unauthorized`, shows the API is alive.
                match crate::api::client::Client::connect(&addr.to_string(), &token).await {
                    Ok(_) => true,
                    Err(crate::api::client::ClientError::Api(_)) => true,
                    Err(_) => false,
                }
            })
            .await
            .unwrap_or(false),
            None => false,
        };
        disk.free().map_err(|e| e.to_string())?;
        let stop = self.gateway.stop().await;
        self.totals.gateway_deaths += 1;
        let ready = self.restart().await?;
        let refused_total = self.ledger.refusals_of("storage") - refused_before;
        report.happened = refused >= 1 && exited.is_none() && answering;
        report.counts.insert("disk_kib", size);
        report
            .counts
            .insert("acknowledged_while_filling", acked_filling as u64);
        report
            .counts
            .insert("submitted_while_filling", submitted_filling as u64);
        report
            .counts
            .insert("storage_refusals", refused_total as u64);
        report.counts.insert("first_refusal_ms", ms(first_refusal));
        report.counts.insert("restart_ms", ms(ready));
        let stopped = match stop {
            Ok((status, false)) => format!("stopped on SIGTERM ({status})"),
            Ok((status, true)) => format!("killed after SIGTERM went unheeded ({status})"),
            Err(e) => format!("could not be stopped: {e}"),
        };
        report.evidence = format!(
            "disk shrunk to {size} KiB: {acked_filling} acknowledged (of {submitted_filling} \
             submitted, with a burst), then `storage` refusals after {} ms ({refused_total} in \
             all); the API {}; space given back, the gateway {stopped} and restarted in {} ms",
            ms(first_refusal),
            if answering {
                "kept answering"
            } else {
                "stopped answering"
            },
            ms(ready)
        );
        if let Some(status) = exited {
            report.problem = Some(format!("the gateway exited on the full disk ({status})"));
        } else if refused == 0 {
            report.problem = Some(format!(
                "the gateway refused nothing within {} ms of the disk being full",
                ms(hold)
            ));
        } else if !answering {
            report.problem = Some("the gateway's API stopped answering on the full disk".into());
        }
        Ok(self.sim.stats().submits_accepted)
    }
}

/// The end state of every acknowledged message, read through `message.status` until all
/// are final or `drain` has passed.
/// What the SMSC says of the copy it knows by `id`: its state and how its receipt fared.
fn smsc_trace(sim: &smsc_sim::SimHandle, id: &str) -> String {
    match sim.message(id) {
        Some(m) => format!(
            "{id} {}, receipt sent {}, answered ok {}, refused for now {}, refused {}",
            m.state,
            m.receipt.sends,
            m.receipt.answered_ok,
            m.receipt.refused_for_now,
            m.receipt.refused
        ),
        None => format!("{id} no longer kept"),
    }
}

async fn end_states(
    addr: SocketAddr,
    token: &SecretString,
    fates: &[SubmitFate],
    drain: Duration,
) -> BTreeMap<usize, EndState> {
    use crate::api::client::{Client, ClientError};
    use crate::api::proto::ErrorCode;
    let mut open: Vec<(usize, String)> = fates
        .iter()
        .enumerate()
        .filter_map(|(n, f)| match f {
            SubmitFate::Acknowledged { id } => Some((n, id.clone())),
            _ => None,
        })
        .collect();
    let mut ends = BTreeMap::new();
    let deadline = Instant::now() + drain;
    let mut client: Option<Client> = None;
    loop {
        if client.is_none() {
            client = Client::connect(&addr.to_string(), token).await.ok();
        }
        let Some(c) = client.as_ref() else {
            for (n, _) in &open {
                ends.insert(
                    *n,
                    EndState::Unreadable {
                        error: format!("cannot connect to the API on {addr}"),
                    },
                );
            }
            if Instant::now() > deadline {
                return ends;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        };
        let mut still = Vec::new();
        let mut broken = false;
        for chunk in open.chunks(200) {
            let answers =
                futures_util::future::join_all(chunk.iter().map(|(_, id)| c.status(id))).await;
            for ((n, id), answer) in chunk.iter().zip(answers) {
                let end = match answer {
                    Ok(s) if s.is_final => EndState::Final { state: s.state },
                    Ok(s) => EndState::Open {
                        carrier_ids: s
                            .segments
                            .iter()
                            .filter_map(|g| g.carrier_id.clone())
                            .collect(),
                        state: s.state,
                        reason: s.detail,
                    },
                    Err(ClientError::Api(e)) if e.code == ErrorCode::NotFound => EndState::NotFound,
                    Err(e) => {
                        broken = true;
                        EndState::Unreadable {
                            error: e.to_string(),
                        }
                    }
                };
                let done = matches!(end, EndState::Final { .. });
                ends.insert(*n, end);
                if !done {
                    still.push((*n, id.clone()));
                }
            }
        }
        open = still;
        if broken {
            client = None;
        }
        if open.is_empty() || Instant::now() > deadline {
            return ends;
        }
        // Polled with a deadline: receipts come as the SMSC sends them.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
