//! `smsgate chaos`: the fault suite (docs/faults.md). It starts the simulated SMSC in this
//! process and this same executable as the gateway (`smsgate run`, a child process, its
//! data directory on a tmpfs), drives load over the TCP API and inflicts the faults of the
//! schedule: SIGKILL and restart, dropped connections, throttling, a black hole, bind
//! refusals, a full disk. Then it accounts for every acknowledged message.
//!
//! Exit codes: 0 nothing lost, duplicates within the bound and every fault happened; 3
//! otherwise (the report says what); 1 the suite could not run (no tmpfs, no gateway); 2
//! usage.

use crate::cli::CliError;
use clap::Args;

/// `smsgate chaos`.
#[derive(Debug, Clone, Args)]
pub struct ChaosArgs {
    /// The CI version: a couple of thousand messages, every fault once, five SIGKILLs,
    /// well under two minutes. Without it, the long version (`--duration`).
    #[arg(long)]
    pub quick: bool,
    /// How long the long version runs (`5m`, `30m`); the faults repeat in rounds.
    #[arg(long, value_parser = parse_duration, conflicts_with = "quick")]
    pub duration: Option<std::time::Duration>,
    /// Messages to submit over the run (default: 2000 quick, 100 a second of the long
    /// version).
    #[arg(long)]
    pub messages: Option<usize>,
    /// SIGKILLs of the gateway (each followed by a restart).
    #[arg(long, default_value_t = 5)]
    pub kills: usize,
    /// Binds of the gateway's carrier.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub binds: u16,
    /// Window of each bind (unanswered submits at once).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub window: u16,
    /// Submits in flight at once over the API.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Leave out the full-disk phase, and with it the tmpfs (which needs root).
    #[arg(long)]
    pub skip_full_disk: bool,
    /// Size of the tmpfs the data directory lives on, MiB.
    #[arg(long, default_value_t = 1024)]
    pub disk_mib: u64,
    /// How long the acknowledged messages get to become final once the load is answered.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub drain: std::time::Duration,
    /// Keep the work directory (configuration, the gateway's log) and print where.
    #[arg(long)]
    pub keep: bool,
    /// The report as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::config::duration::parse(s).map_err(|e| e.to_string())
}

/// Exit code of a run that lost a message, saw too many duplicates or missed a fault.
pub const EXIT_FAILED: u8 = 3;

/// Runs the suite: this build has no simulator to run it on.
#[cfg(not(feature = "sim"))]
pub fn chaos(_: ChaosArgs) -> Result<(), CliError> {
    Err(CliError::Start(
        "smsgate chaos needs the simulated SMSC: this build has none (built without the sim \
         feature)"
            .into(),
    ))
}

/// Runs the suite and prints the report.
#[cfg(feature = "sim")]
pub fn chaos(args: ChaosArgs) -> Result<(), CliError> {
    use crate::chaos::schedule::Schedule;
    use crate::chaos::{ChaosError, ChaosOptions};
    use std::io::Write;
    let kills = args.kills;
    let (schedule, messages) = if args.quick {
        (Schedule::quick(kills), args.messages.unwrap_or(2000))
    } else {
        let duration = args.duration.ok_or_else(|| {
            CliError::Usage("give --quick, or --duration for the long version".into())
        })?;
        let schedule =
            Schedule::long(duration, kills).map_err(|e| CliError::Usage(e.to_string()))?;
        let secs = usize::try_from(duration.as_secs()).unwrap_or(usize::MAX);
        (schedule, args.messages.unwrap_or(secs.saturating_mul(100)))
    };
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Start(format!("cannot find this executable: {e}")))?;
    let options = ChaosOptions {
        schedule,
        messages,
        concurrency: usize::from(args.concurrency),
        binds: usize::from(args.binds),
        window: usize::from(args.window),
        skip_full_disk: args.skip_full_disk,
        disk_mib: args.disk_mib,
        drain: args.drain,
        keep: args.keep,
        exe,
        quick: args.quick,
    };
    let report = crate::chaos::run(options).map_err(|e| match e {
        ChaosError::Usage(m) => CliError::Usage(m),
        e => CliError::Start(e.to_string()),
    })?;
    let text = if args.json {
        serde_json::to_string(&report).map_err(CliError::ToJson)?
    } else {
        summary(&report)
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(CliError::Write)?;
    if report.passed {
        Ok(())
    } else {
        Err(CliError::Reported(EXIT_FAILED))
    }
}

/// The report in words.
#[cfg(feature = "sim")]
pub fn summary(r: &crate::chaos::Report) -> String {
    use std::fmt::Write;
    let a = &r.accounting;
    let f = &r.faults;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "smsgate chaos ({}): {} messages at {:.0}/s, {} binds × window {}, {:.1} s in all",
        if r.quick { "quick" } else { "long" },
        r.messages,
        r.rate,
        r.binds,
        r.window,
        r.elapsed_ms as f64 / 1000.0
    );
    let _ = writeln!(s, "phases:");
    for p in &r.phases {
        let recovered = p.recovered_ms.map_or("not recovered".to_owned(), |ms| {
            format!("recovered in {ms} ms")
        });
        let _ = writeln!(
            s,
            "  {:<12} {:>2} at {:>6.1}s  {} — {}; {}{}",
            p.fault.as_str(),
            p.nth,
            p.at_ms as f64 / 1000.0,
            if p.happened { "ok  " } else { "MISS" },
            p.evidence,
            recovered,
            p.problem
                .as_ref()
                .map(|e| format!(" — PROBLEM: {e}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(
        s,
        "faults: {} SIGKILLs, {} restarts, {} connections dropped, {} throttled, {} binds \
         refused, {} black holes ({} PDUs unanswered), {} storage refusals",
        f.kills,
        f.restarts,
        f.dropped_connections,
        f.throttled,
        f.bind_failures,
        f.black_holes,
        f.black_hole_unanswered,
        f.storage_refusals
    );
    for (code, sample) in &r.refusals {
        let _ = writeln!(
            s,
            "refused {} × {code}: \"{}\"",
            sample.count, sample.message
        );
    }
    let finals: Vec<String> = a
        .final_states
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let _ = writeln!(
        s,
        "accounting: {} generated, {} acknowledged ({}), {} open with a reason, {} refused, {} \
         unanswered; LOST {}",
        a.generated,
        a.acknowledged,
        if finals.is_empty() {
            "none final".to_owned()
        } else {
            finals.join(", ")
        },
        a.open_with_reason,
        a.refused.values().sum::<usize>(),
        a.unanswered,
        a.lost
    );
    for example in &a.lost_examples {
        let _ = writeln!(s, "  lost: {example}");
    }
    for t in &r.lost_trails {
        let _ = writeln!(
            s,
            "  the gateway's log on {} ({} earlier lines left out):",
            t.message_id, t.left_out
        );
        for line in &t.lines {
            let _ = writeln!(s, "    {line}");
        }
    }
    let _ = writeln!(
        s,
        "duplicates at the SMSC: {} (on {} messages), bound {} = window {} × ({} binds × ({} \
         deaths + {} black holes) + {} drops); {} sent without an acknowledgement",
        a.duplicates,
        a.duplicated_messages,
        a.duplicate_bound,
        a.resend_faults.window,
        a.resend_faults.binds,
        a.resend_faults.gateway_deaths,
        a.resend_faults.black_holes,
        a.resend_faults.dropped_connections,
        a.sent_unacknowledged
    );
    let _ = writeln!(
        s,
        "load answered in {:.1} s ({} retries), all final {:.1} s later",
        r.load_ms as f64 / 1000.0,
        r.retries,
        r.drain_ms as f64 / 1000.0
    );
    for p in &r.problems {
        let _ = writeln!(s, "PROBLEM: {p}");
    }
    if let Some(dir) = &r.work_dir {
        let _ = writeln!(s, "work directory kept: {dir}");
    }
    let _ = write!(
        s,
        "{}",
        if r.passed {
            "PASSED: nothing lost, duplicates within the bound, every fault happened"
        } else {
            "FAILED"
        }
    );
    s
}
