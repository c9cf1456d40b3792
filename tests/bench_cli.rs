//! `smsgate bench` as a user runs it: small runs against the embedded default it starts
//! itself (free ports, a temporary data directory), their JSON reports and chart, and its
//! exit codes. Nothing here asserts a speed: the figures are the command's to print.
//! Needs the simulator (the `sim` feature): the started gateway's carrier is the built-in
//! one, and verification codes are read from its handset inbox.
#![cfg(feature = "sim")]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .arg("bench")
        .arg("--no-progress")
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("SMS_TOKEN")
        .env_remove("SMS_ADMIN_TOKEN")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// p50 ≤ p99 ≤ p99.9 ≤ max, all there, of `count` samples.
fn ordered(latency: &Value, count: u64, what: &str) {
    let get = |k: &str| {
        latency[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{what}.{k} in {latency}"))
    };
    assert_eq!(latency["count"], count, "{what}: {latency}");
    let (p50, p99, p999, max) = (get("p50"), get("p99"), get("p999"), get("max"));
    assert!(p50 > 0.0, "{what}: {latency}");
    assert!(
        p50 <= p99 && p99 <= p999 && p999 <= max,
        "{what}: {latency}"
    );
}

fn sum(series: &Value, field: &str) -> u64 {
    series
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[field].as_u64().unwrap())
        .sum()
}

#[test]
fn messages_end_to_end_write_a_report_that_adds_up_and_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let (report, chart) = (dir.path().join("r.json"), dir.path().join("c.svg"));
    let out = bench(&[
        "--messages",
        "300",
        "--connections",
        "2",
        "--report",
        report.to_str().unwrap(),
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("300 accepted"), "{summary}");
    assert!(summary.contains("complete: nothing missing"), "{summary}");

    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["mode"], "messages");
    assert_eq!(r["scenario"], "e2e");
    assert_eq!(r["gateway"]["started"], true);
    assert_eq!(r["gateway"]["clean_exit"], true);
    let c = &r["counts"];
    for (field, n) in [
        ("sent", 300),
        ("accepted", 300),
        ("submitted", 300),
        ("receipted", 300),
        ("failed", 0),
        ("missing_submits", 0),
        ("missing_receipts", 0),
    ] {
        assert_eq!(c[field], n, "counts.{field}: {c}");
    }
    assert_eq!(c["errors"], serde_json::json!({}));
    let l = &r["latency_ms"];
    ordered(&l["accept"], 300, "accept");
    ordered(&l["submit"], 300, "submit");
    ordered(&l["receipt"], 300, "receipt");
    assert!(
        l["otp_submit"].is_null() && l["verify_pair"].is_null(),
        "{l}"
    );
    // The simulator holds each receipt 500 ms: accept → receipt cannot be shorter.
    assert!(l["receipt"]["p50"].as_f64().unwrap() >= 500.0, "{l}");
    for rate in ["accepted_per_s", "submitted_per_s", "receipted_per_s"] {
        assert!(r["throughput"][rate].as_f64().unwrap() > 0.0, "{rate}");
    }
    // The time series holds every message once.
    for field in ["accepted", "submitted", "receipted"] {
        assert_eq!(sum(&r["series"], field), 300, "series {field}");
    }
    assert!(r["memory"]["peak_rss_kib"].as_u64().unwrap() > 0);

    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..svg.len().min(80)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<polyline"), "the chart has lines");
}

#[test]
fn verifications_are_started_read_from_the_handset_and_approved() {
    let out = bench(&["--verifications", "50", "--connections", "2", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["mode"], "verifications");
    assert_eq!(r["counts"]["sent"], 50);
    assert_eq!(r["counts"]["approved"], 50, "{}", r["counts"]);
    assert_eq!(r["counts"]["not_approved"], 0);
    assert!(r["throughput"]["pairs_per_s"].as_f64().unwrap() > 0.0);
    for what in ["verify_start", "verify_check", "verify_pair"] {
        ordered(&r["latency_ms"][what], 50, what);
    }
}

#[test]
fn queued_memory_samples_the_gateway_at_each_tenth() {
    let out = bench(&[
        "--scenario",
        "queued-memory",
        "--messages",
        "2000",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["scenario"], "queued-memory");
    assert_eq!(r["counts"]["accepted"], 2000);
    let samples = r["memory"]["samples"].as_array().unwrap();
    let queued: Vec<u64> = samples
        .iter()
        .map(|s| s["queued"].as_u64().unwrap())
        .collect();
    assert_eq!(
        queued,
        (0..=10).map(|t| t * 200).collect::<Vec<_>>(),
        "{samples:?}"
    );
    for s in samples {
        assert!(s["rss_kib"].as_u64().unwrap() > 0, "{s}");
        assert!(s["hwm_kib"].as_u64().unwrap() > 0, "{s}");
    }
    // The carrier was stopped: nothing was submitted while they were queued, and the run
    // did not wait for them (no --drain), so nothing is missing.
    assert_eq!(r["counts"]["missing_receipts"], 0);
}

#[test]
fn otp_behind_bulk_measures_the_otp_messages_apart() {
    let out = bench(&[
        "--scenario",
        "otp-behind-bulk",
        "--bulk",
        "500",
        "--messages",
        "20",
        "--rate",
        "100",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let r = json(&out);
    assert_eq!(r["settings"]["bulk"], 500);
    assert_eq!(r["counts"]["accepted"], 520);
    assert_eq!(
        r["latency_ms"]["otp_submit"]["count"], 20,
        "{}",
        r["latency_ms"]
    );
    assert_eq!(r["counts"]["missing_submits"], 0);
}

#[test]
fn receipts_still_missing_at_the_timeout_are_reported_with_exit_code_3() {
    // The simulator holds each receipt 500 ms, so none can be in without a wait.
    let out = bench(&["--messages", "50", "--receipts-timeout", "0", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let r = json(&out);
    let c = &r["counts"];
    assert_eq!(c["accepted"], 50);
    let missing = c["missing_receipts"].as_u64().unwrap();
    assert!(missing > 0, "{c}");
    assert_eq!(c["receipted"].as_u64().unwrap() + missing, 50, "{c}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--messages", "10", "--verifications", "10"][..],
        &["--token", "t"],
        &["--scenario", "nonsense"],
        &["--verifications", "5", "--scenario", "queued-memory"],
        &["--messages", "0"],
        &["--rate=0", "--messages", "5"],
        &["--connections", "0"],
        &["--gateway-pid", "1"],
    ] {
        let out = bench(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

#[test]
fn a_gateway_that_is_not_there_exits_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = bench(&["--gateway", &addr, "--messages", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}
