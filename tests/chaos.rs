//! `smsgate chaos --quick --json`, the fault suite's CI version: the gateway as a child
//! process, SIGKILLed five times under load, its connections dropped, throttled, black-holed,
//! its binds refused, its data directory's disk filled. Every acknowledged message must be
//! accounted for (none lost), the duplicates at the SMSC within what the faults explain, and
//! every fault must have happened.
//!
//! The full disk is a tmpfs the suite mounts: this needs root (CI runs as root). Without
//! it the suite fails with exit 1 naming why; it never skips the phase silently.
#![cfg(feature = "sim")]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::process::Command;

fn count(v: &Value, path: &[&str]) -> u64 {
    let mut at = v;
    for key in path {
        at = &at[*key];
    }
    at.as_u64()
        .unwrap_or_else(|| panic!("{} is not a count in the report", path.join(".")))
}

#[test]
fn quick_chaos_loses_nothing_bounds_duplicates_and_every_fault_happens() {
    let out = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["chaos", "--quick", "--json"])
        .output()
        .expect("smsgate chaos runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(1),
        "the suite could not run (the tmpfs needs root): {stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {stdout}\n{stderr}"));
    let pretty = serde_json::to_string_pretty(&report).unwrap();

    // The verdict and the exit code agree.
    assert_eq!(report["passed"], Value::Bool(true), "{pretty}");
    assert_eq!(out.status.code(), Some(0), "{pretty}");

    // Accounting: every acknowledged message final (or open with a reason), none lost.
    let a = &report["accounting"];
    let generated = count(a, &["generated"]);
    let acknowledged = count(a, &["acknowledged"]);
    // The 2000 of the load, and the full-disk phase's burst.
    assert!(generated > 2000, "{pretty}");
    assert_eq!(count(a, &["lost"]), 0, "{pretty}");
    assert_eq!(a["all_accounted"], Value::Bool(true));
    let finals: u64 = a["final_states"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        finals + count(a, &["open_with_reason"]),
        acknowledged,
        "every acknowledged message is final or open with a reason: {pretty}"
    );
    // The SMSC is healthy at the end: everything acknowledged got delivered.
    assert_eq!(
        a["final_states"]["delivered"].as_u64(),
        Some(acknowledged),
        "{pretty}"
    );
    let refused: u64 = a["refused"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        acknowledged + refused + count(a, &["unanswered"]),
        generated,
        "{pretty}"
    );
    // Only the full disk refuses work.
    assert!(
        a["refused"]
            .as_object()
            .unwrap()
            .keys()
            .all(|code| code == "storage"),
        "{pretty}"
    );

    // Duplicates counted and within what the faults explain.
    let duplicates = count(a, &["duplicates"]);
    let bound = count(a, &["duplicate_bound"]);
    assert!(duplicates <= bound, "{duplicates} > {bound}: {pretty}");
    let f = &report["faults"];
    assert_eq!(
        bound,
        count(a, &["resend_faults", "window"])
            * (count(a, &["resend_faults", "binds"])
                * (2 * count(f, &["gateway_deaths"]) + count(f, &["black_holes"]))
                + count(f, &["dropped_connections"]))
    );

    // Each fault happened, as the simulator and the gateway's answers show.
    assert_eq!(count(f, &["kills"]), 5, "{pretty}");
    assert_eq!(
        count(f, &["gateway_deaths"]),
        6,
        "five kills and the full disk's restart"
    );
    assert!(count(f, &["dropped_connections"]) >= 3, "{pretty}");
    assert!(count(f, &["throttled"]) >= 1, "{pretty}");
    assert!(count(f, &["bind_failures"]) >= 1, "{pretty}");
    assert_eq!(count(f, &["black_holes"]), 1);
    assert!(count(f, &["black_hole_unanswered"]) >= 1, "{pretty}");
    assert!(count(f, &["storage_refusals"]) >= 1, "{pretty}");
    let sample = report["refusals"]["storage"]["message"].as_str().unwrap();
    assert!(
        sample.contains("disk of the data directory is full"),
        "{sample}"
    );

    let phases = report["phases"].as_array().unwrap();
    for fault in [
        "kill",
        "drops",
        "throttle",
        "black_hole",
        "bind_refusal",
        "full_disk",
    ] {
        let of_kind: Vec<&Value> = phases.iter().filter(|p| p["fault"] == fault).collect();
        assert!(!of_kind.is_empty(), "no {fault} phase: {pretty}");
        for p in of_kind {
            assert_eq!(p["happened"], Value::Bool(true), "{fault}: {p}");
            assert!(p["problem"].is_null(), "{fault}: {p}");
            assert!(p["recovered_ms"].is_u64(), "{fault} not recovered: {p}");
        }
    }
    let disk = phases.iter().find(|p| p["fault"] == "full_disk").unwrap();
    assert!(count(disk, &["counts", "storage_refusals"]) >= 1);
    assert!(
        report["problems"].as_array().unwrap().is_empty(),
        "{pretty}"
    );
}

#[test]
fn chaos_without_quick_or_duration_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["chaos"])
        .output()
        .expect("smsgate chaos runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--quick") && stderr.contains("--duration"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["chaos", "--duration", "10s"])
        .output()
        .expect("smsgate chaos runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too short"), "{stderr}");
}

#[test]
fn an_interrupted_run_leaves_no_gateway_no_mount_and_no_work_directory() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut chaos = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["chaos", "--quick", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smsgate chaos runs");
    let mut lines = BufReader::new(chaos.stderr.take().unwrap()).lines();
    let mut work = None;
    let mut pid = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(dir) = line.strip_prefix("chaos: work directory ") {
            work = Some(dir.to_owned());
        }
        if let Some((_, rest)) = line.split_once(" (pid ") {
            pid = Some(rest.trim_end_matches(')').to_owned());
        }
        // Under load, with the gateway restarted after its first kill, its files open on
        // the tmpfs.
        if line.starts_with("chaos: drops 1/") {
            break;
        }
    }
    let (work, pid) = (
        work.expect("work directory named"),
        pid.expect("gateway pid named"),
    );
    assert!(std::path::Path::new(&work).is_dir());
    let sent = Command::new("kill")
        .args(["-TERM", &chaos.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = chaos.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("interrupted by SIGTERM")),
        "{rest:?}"
    );
    // It waited for the gateway's exit before its own: the gateway is gone, or at most a
    // zombie for init to reap. Its tmpfs and work directory went with it.
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(!mounts.contains(&work), "still mounted: {mounts}");
    assert!(!std::path::Path::new(&work).exists(), "{work} left behind");
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    let alive = state.as_deref().is_some_and(|s| {
        let after_name = s.rsplit(')').next().unwrap_or("");
        !after_name.trim_start().starts_with('Z')
    });
    assert!(!alive, "the gateway {pid} still runs: {state:?}");
}
