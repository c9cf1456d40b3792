//! A binary built without the `sim` feature: it has no simulator, so `smsgate run` and a
//! configuration that enables the simulator (the embedded default does) are refused,
//! naming what is missing.
#![cfg(not(feature = "sim"))]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};

/// Runs `smsgate ARGS` with stdin closed: exit code and stderr.
fn smsgate(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    (out.status.code().unwrap_or(-1), stderr)
}

const NO_SIMULATOR: &str = "this build has no simulator (built without the \"sim\" feature)";

#[test]
fn run_is_refused_naming_the_feature() {
    // The embedded default enables the simulator: its loading refuses it, naming the key.
    let (code, stderr) = smsgate(&["run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: embedded default"), "{stderr}");
    assert!(
        stderr.contains(&format!("simulator.enabled: {NO_SIMULATOR}")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn config_check_refuses_an_enabled_simulator_naming_the_key() {
    let (code, stderr) = smsgate(&["config", "check", "config/smsgate.toml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("simulator.enabled: {NO_SIMULATOR}")),
        "{stderr}"
    );
}

#[test]
fn bench_without_a_gateway_is_refused_naming_the_feature() {
    let (code, stderr) = smsgate(&["bench", "--messages", "5", "--no-progress"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("without the sim feature"), "{stderr}");
}
