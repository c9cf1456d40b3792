//! contrib/: the Grafana dashboard names only metrics the gateway exports, the systemd unit
//! is one systemd accepts, and `smsgate run` speaks the notify protocol that unit relies on
//! (READY, watchdog pings while the outbox answers, STOPPING).
#![cfg(feature = "sim")]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use smsgate::telemetry::names;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Every `smsgate_…` name in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("smsgate_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_dashboard_queries_only_metrics_the_gateway_exports() {
    let text = std::fs::read_to_string(repo("contrib/grafana/smsgate.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 10, "{} panels", panels.len());
    let mut used = std::collections::BTreeSet::new();
    for panel in panels {
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has no query", panel["title"]);
        for target in targets {
            let expr = target["expr"].as_str().unwrap();
            let found = metric_names(expr);
            assert!(!found.is_empty(), "{expr} names no smsgate metric");
            for name in found {
                // A histogram's series carry the _bucket / _sum / _count suffixes.
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .filter(|b| names::ALL.contains(b))
                    .unwrap_or(&name)
                    .to_owned();
                assert!(
                    names::ALL.contains(&base.as_str()),
                    "{name} in {expr:?} is not exported (src/telemetry.rs names)"
                );
                used.insert(base);
            }
        }
    }
    let unused: Vec<_> = names::ALL.iter().filter(|n| !used.contains(**n)).collect();
    assert!(unused.is_empty(), "metrics without a panel: {unused:?}");
}

#[test]
fn systemd_accepts_the_unit_file() {
    let unit = std::fs::read_to_string(repo("contrib/systemd/smsgate.service")).unwrap();
    assert!(
        unit.contains("\nType=notify\n"),
        "the unit waits for READY=1"
    );
    assert!(unit.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"));
    // systemd-analyze checks every key and value; ExecStart must name an existing binary,
    // so the check runs on a copy that starts the one cargo built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("smsgate.service");
    let binary = env!("CARGO_BIN_EXE_smsgate");
    std::fs::write(&copy, unit.replace("/usr/local/bin/smsgate", binary)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze (Debian's systemd package; .ci/run installs it)");
    let complaints = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{complaints}");
    assert!(
        complaints.trim().is_empty(),
        "systemd-analyze verify: {complaints}"
    );
}

/// Kills the service when the test ends, however it ends.
struct Service(std::process::Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn run_reports_ready_pings_the_watchdog_and_reports_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // WATCHDOG_PID must be the service's own pid: the shell exports its pid and execs
    // the service in its place.
    let mut command = Command::new("sh");
    command
        .args([
            "-c",
            "WATCHDOG_PID=$$ exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_smsgate"),
            "run",
        ])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000");
    for flag in [
        "--smpp-addr",
        "--control-addr",
        "--metrics-addr",
        "--api-addr",
        "--admin-addr",
    ] {
        command.args([flag, "127.0.0.1:0"]);
    }
    command
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let service = Service(command.spawn().unwrap());
    let mut buf = [0u8; 512];
    let mut next = || {
        let n = socket
            .recv(&mut buf)
            .expect("a notification before the timeout");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|m: &&String| m.contains("WATCHDOG=1"))
        .count()
        < 2
    {
        let message = next();
        if message.contains("WATCHDOG=1") {
            assert!(
                seen.iter().any(|m| m.contains("READY=1")),
                "a ping before READY: {seen:?}"
            );
        }
        seen.push(message);
    }
    let pid = service.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    while !next().contains("STOPPING=1") {}
    let mut service = service;
    let status = service.0.wait().unwrap();
    assert!(status.success(), "{status}");
}
