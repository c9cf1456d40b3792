//! `smsgate demo` as a user runs it: the binary, in English and in Japanese, beside
//! nothing but itself (free ports, a temporary data directory). Each run must exit 0 and
//! narrate the approval and the delivery.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .arg("demo")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_in_english_approves_the_code_and_sees_it_delivered() {
    let out = demo(&["--lang", "en"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for step in [
        "wrong, 4 attempt(s) left",
        "approved.",
        "not_found",
        "is delivered",
        "delivery delivered",
        "Every step behaved as expected",
    ] {
        assert!(stdout.contains(step), "{step:?} missing:\n{stdout}");
    }
    // The SMS it read is the English one; the gateway's own log stayed quiet.
    assert!(stdout.contains("\"code: "), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn the_demo_in_japanese_approves_the_code_and_sees_it_delivered() {
    let out = demo(&[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for step in [
        "認証コード",
        "結果は wrong",
        "approved（認証成功）",
        "delivered（端末に配信済み）",
        "すべての手順が想定どおりでした",
    ] {
        assert!(stdout.contains(step), "{step:?} missing:\n{stdout}");
    }
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn the_demo_as_json_writes_one_object_a_step_and_leaves_no_data_behind() {
    let out = demo(&["--lang", "en", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let steps: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "starting",
            "running",
            "started",
            "sms_received",
            "check_wrong",
            "check_right",
            "check_again",
            "receipt",
            "status",
            "stopped"
        ]
    );
    assert_eq!(steps[7]["state"], "delivered");
    let dir = steps[0]["data_dir"].as_str().unwrap();
    assert!(!std::path::Path::new(dir).exists(), "{dir} is left behind");
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let out = demo(&["--lang", "fr"]);
    assert_eq!(out.status.code(), Some(2));
}
