//! message.submit over the TCP API with durable acks: requests per second and the ack's
//! p50/p99, over one connection and over eight (each with up to 256 requests in flight),
//! against the embedded default (built-in simulator, the sim carrier) in one process.
//!
//! `cargo run --release --example api_submit -- [MESSAGES_PER_RUN]` (default 20000).
// An example: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use smsgate::api::client::Client;
use smsgate::api::proto::SubmitParams;
use smsgate::api::server::{ApiServer, ServerSettings};
use smsgate::gateway::Gateway;
use std::sync::Arc;
use std::time::Instant;

const IN_FLIGHT: usize = 256;

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |n| n.parse().expect("a number of messages"));
    let dir = tempfile::tempdir().unwrap();
    actix::System::new().block_on(async move {
        let mut config = smsgate::config::Config::embedded_default().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.simulator.smpp_address = "127.0.0.1:0".parse().unwrap();
        config.simulator.control_address = "127.0.0.1:0".parse().unwrap();
        let binds_at = "127.0.0.1:2775".parse().unwrap();
        let sim = smsgate::sim::start_if_enabled(&mut config, binds_at)
            .await
            .unwrap();
        let gw = Gateway::start(smsgate::wiring::spec(&config).unwrap())
            .await
            .unwrap();
        let mut settings = ServerSettings::from_config(&config.api, Instant::now()).unwrap();
        settings.tokens = smsgate::api::auth::Tokens::new(
            &[smsgate::config::TokenConfig {
                name: "bench".into(),
                sha256: smsgate::api::auth::sha256_hex("bench"),
                operations: vec!["*".into()],
                rate: 100_000,
                mode: smsgate::config::TokenMode::Live,
            }],
            Instant::now(),
        )
        .unwrap();
        let api = ApiServer::start("127.0.0.1:0".parse().unwrap(), settings, gw.clone()).unwrap();
        let addr = api.local_addr().to_string();
        let mut offset = 0;
        for connections in [1usize, 8] {
            let per = total / connections;
            let started = Instant::now();
            let runs = (0..connections).map(|c| {
                let addr = addr.clone();
                let first = offset + c * per;
                async move {
                    let client = Arc::new(Client::connect(&addr, &"bench".into()).await.unwrap());
                    let mut hist = Histogram::<u64>::new(3).unwrap();
                    let mut acks = futures_util::stream::iter(first..first + per)
                        .map(|n| {
                            let client = client.clone();
                            async move {
                                let t = Instant::now();
                                client
                                    .submit(&SubmitParams {
                                        to: format!("+8190{:08}", n % 100_000_000),
                                        text: format!("bench {n}"),
                                        from: None,
                                        encoding: None,
                                        validity: None,
                                        client_ref: None,
                                        class: Some("bulk".into()),
                                        receipts: None,
                                    })
                                    .await
                                    .unwrap();
                                t.elapsed()
                            }
                        })
                        .buffer_unordered(IN_FLIGHT);
                    while let Some(latency) = acks.next().await {
                        hist.record(latency.as_micros() as u64).unwrap();
                    }
                    hist
                }
            });
            let hists = futures_util::future::join_all(runs).await;
            let elapsed = started.elapsed();
            let mut all = Histogram::<u64>::new(3).unwrap();
            for h in &hists {
                all.add(h).unwrap();
            }
            println!(
                "{connections} connection(s), {IN_FLIGHT} in flight each: {} submits in {:.2} s = {:.0}/s; ack p50 {:.2} ms, p99 {:.2} ms",
                all.len(),
                elapsed.as_secs_f64(),
                all.len() as f64 / elapsed.as_secs_f64(),
                all.value_at_quantile(0.5) as f64 / 1000.0,
                all.value_at_quantile(0.99) as f64 / 1000.0,
            );
            offset += total;
        }
        api.stop().await;
        gw.shutdown().await;
        if let Some(sim) = sim {
            sim.stop().await;
        }
    });
}
