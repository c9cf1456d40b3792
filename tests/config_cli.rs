//! End-to-end tests of `smsgate config check` and `smsgate config show`: the built binary on
//! valid and invalid files, stdin, `--json`, environment overrides, and the exit codes
//! (0 valid, 2 invalid, 1 unreadable).
//! Needs the simulator: the embedded default enables it.
#![cfg(feature = "sim")]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `smsgate ARGS` with `stdin` piped in and `env` added to its environment.
fn smsgate(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let out = child.wait_with_output().expect("binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn embedded_text() -> String {
    std::fs::read_to_string(default_path()).expect("config/smsgate.toml")
}

fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/smsgate.toml")
}

/// The embedded default with two mistakes, written to a temporary file; with the line of
/// the bad window.
fn invalid_file(dir: &Path) -> (PathBuf, usize) {
    let text = embedded_text()
        .replace("window = 100", "window = 0")
        .replace("carriers = [\"sim\"]", "carriers = [\"nosuch\"]");
    let line = text
        .lines()
        .position(|l| l == "window = 0")
        .expect("the window line")
        + 1;
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).expect("write");
    (path, line)
}

#[test]
fn check_ok_prints_ok_and_a_line_per_carrier() {
    let run = smsgate(&["config", "check", "config/smsgate.toml"], "", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "ok: config/smsgate.toml");
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[1].starts_with("carrier sim: 2 × transceiver to 127.0.0.1:2775 (window 100)"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("first for 8170 8180 8190"),
        "{}",
        lines[1]
    );
}

#[test]
fn check_invalid_prints_every_error_one_per_line_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, line) = invalid_file(dir.path());
    let run = smsgate(&["config", "check", path.to_str().expect("utf-8")], "", &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    // One bad window, three routes to an unknown carrier.
    assert_eq!(lines.len(), 4, "{}", run.stderr);
    assert!(lines.iter().all(|l| l.starts_with("error: ")));
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "bad.toml:{line}: carriers.sim.binds[0].window: 0 is not allowed (1..=1000)"
        ))),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("routes[2].carriers[0]: \"nosuch\" is not a configured carrier"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_json_reports_a_valid_file() {
    let run = smsgate(
        &["config", "check", "--json", "config/smsgate.toml"],
        "",
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true);
    assert_eq!(v["carriers"][0]["name"], "sim");
    assert_eq!(v["carriers"][0]["connections"], 2);
    assert_eq!(v["carriers"][0]["binds"][0]["mode"], "transceiver");
    assert_eq!(v["carriers"][0]["first_for"][2], "8190");
}

#[test]
fn check_json_reports_every_error_with_key_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, line) = invalid_file(dir.path());
    let run = smsgate(
        &["config", "check", "--json", path.to_str().expect("utf-8")],
        "",
        &[],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "");
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    let errors = v["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 4);
    let window = errors
        .iter()
        .find(|e| e["key"] == "carriers.sim.binds[0].window")
        .expect("the window error");
    assert_eq!(window["line"], line);
    assert_eq!(window["message"], "0 is not allowed (1..=1000)");
    assert_eq!(window["env"], Value::Null);
}

#[test]
fn check_reads_stdin_when_no_file_is_given() {
    let run = smsgate(&["config", "check"], &embedded_text(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("ok: stdin\n"), "{}", run.stdout);

    let run = smsgate(&["config", "check", "-"], "data_dir = [", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: stdin:1: "), "{}", run.stderr);
}

#[test]
fn check_unreadable_file_exits_1() {
    let run = smsgate(&["config", "check", "no/such/file.toml"], "", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: cannot read no/such/file.toml:"),
        "{}",
        run.stderr
    );
    let run = smsgate(&["config", "check", "--json", "no/such/file.toml"], "", &[]);
    assert_eq!(run.code, 1);
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert!(v["io_error"]
        .as_str()
        .is_some_and(|e| e.contains("no/such/file.toml")));
}

#[test]
fn check_applies_environment_overrides_and_names_a_bad_one() {
    let run = smsgate(
        &["config", "check", "--json", "config/smsgate.toml"],
        "",
        &[("SMSGATE_CARRIERS__SIM__BINDS__0__WINDOW", "250")],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(v["carriers"][0]["binds"][0]["window"], 250);

    let run = smsgate(
        &["config", "check", "config/smsgate.toml"],
        "",
        &[("SMSGATE_CARRIERS__SIM__BINDS__0__WINDOW", "many")],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: env SMSGATE_CARRIERS__SIM__BINDS__0__WINDOW: carriers.sim.binds[0].window: \
         invalid type: string \"many\", expected u32\n"
    );
}

#[test]
fn show_prints_the_effective_configuration_with_secrets_redacted() {
    let run = smsgate(
        &["config", "show", "config/smsgate.toml"],
        "",
        &[("SMSGATE_DATA_DIR", "/var/lib/smsgate")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("data_dir = \"/var/lib/smsgate\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("password = \"<redacted>\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("\"secret\""), "{}", run.stdout);
    // Defaults the file leaves out are shown.
    assert!(
        run.stdout.contains("country_code = \"81\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ESME_RTHROTTLED = \"transient\""),
        "{}",
        run.stdout
    );
}

#[test]
fn show_of_an_invalid_file_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = invalid_file(dir.path());
    let run = smsgate(&["config", "show", path.to_str().expect("utf-8")], "", &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 4, "{}", run.stderr);
}
