//! Verification throughput through the Verifier actor with durable state: N verifications
//! started (each: policy, code, HMAC, the verifier's writes, the SMS accepted durably by
//! the outbox), then, once every code is at the simulated handsets, N checks of the right
//! code (each: the attempt flushed, then the constant-time comparison and the consume
//! flushed). Reports starts/s, checks/s, pairs/s (N over the two phases' time; the SMS's
//! trip to the handset in between is the connector's and is not counted) and the p50/p99
//! of each answer. In one process: the gateway, the built-in simulator, W callers.
//!
//! `cargo run --release --example verify_throughput -- [N] [CONCURRENCY]`
//! (default 20000 and 512).
// An example: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use smsgate::gateway::Gateway;
use smsgate::verify::actor::Start;
use smsgate::verify::policy::CheckOutcome;
use std::time::{Duration, Instant};

fn number(i: usize) -> String {
    format!("8190{:08}", i)
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .max_by_key(|run| run.len())
        .unwrap_or_default()
        .to_owned()
}

fn report(what: &str, n: usize, took: Duration, hist: &Histogram<u64>) {
    println!(
        "{what:>6}: {n} in {:.2} s = {:.0}/s; answer p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        hist.value_at_quantile(0.5) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.max() as f64 / 1000.0,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(20_000, |n| n.parse().expect("N"));
    let concurrency: usize = args.next().map_or(512, |n| n.parse().expect("CONCURRENCY"));
    let dir = tempfile::tempdir().unwrap();
    actix::System::new().block_on(async move {
        let mut config = smsgate::config::Config::embedded_default().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.simulator.smpp_address = "127.0.0.1:0".parse().unwrap();
        config.simulator.control_address = "127.0.0.1:0".parse().unwrap();
        config.api.enabled = false;
        // One verification per number, and budgets far above the run.
        config.verify.budgets.overall = u32::MAX;
        let binds_at = "127.0.0.1:2775".parse().unwrap();
        let sim = smsgate::sim::start_if_enabled(&mut config, binds_at)
            .await
            .unwrap()
            .expect("the embedded default has the simulator");
        let gw = Gateway::start(smsgate::wiring::spec(&config).unwrap())
            .await
            .unwrap();

        let started = Instant::now();
        let starts = futures_util::stream::iter(0..total)
            .map(|i| {
                let gw = gw.clone();
                async move {
                    let t = Instant::now();
                    let view = gw
                        .verify_start(Start::new(format!("+{}", number(i)), "login"))
                        .await
                        .unwrap();
                    (i, view.id, t.elapsed())
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await;
        let start_time = started.elapsed();
        let mut start_hist = Histogram::<u64>::new(3).unwrap();
        for (_, _, t) in &starts {
            start_hist.record(t.as_micros() as u64).unwrap();
        }

        // Not timed: the SMS to the handsets.
        let mut codes = Vec::with_capacity(total);
        for (i, id, _) in starts {
            let inbox = tokio::time::timeout(
                Duration::from_secs(120),
                sim.handle().wait_for_inbox(&number(i), 1),
            )
            .await
            .expect("the code arrives");
            codes.push((id, code_in(&inbox[0].text)));
        }

        let started = Instant::now();
        let checks = futures_util::stream::iter(codes)
            .map(|(id, code)| {
                let gw = gw.clone();
                async move {
                    let t = Instant::now();
                    let outcome = gw.verify_check(&id, &code).await.unwrap();
                    (outcome, t.elapsed())
                }
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>()
            .await;
        let check_time = started.elapsed();
        let mut check_hist = Histogram::<u64>::new(3).unwrap();
        let approved = checks
            .iter()
            .filter(|(o, _)| *o == CheckOutcome::Approved)
            .count();
        for (_, t) in &checks {
            check_hist.record(t.as_micros() as u64).unwrap();
        }
        assert_eq!(approved, total, "every right code approves");

        println!("verify_throughput: {total} verifications, {concurrency} callers at once");
        report("starts", total, start_time, &start_hist);
        report("checks", total, check_time, &check_hist);
        println!(
            " pairs: {:.0}/s (start + check, durable, the SMS transit excluded)",
            total as f64 / (start_time + check_time).as_secs_f64()
        );
        gw.shutdown().await;
        sim.stop().await;
    });
}
