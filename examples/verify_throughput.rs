//! Verification throughput through the Verifier actor with durable state: N verifications
//! started (each: policy, code, HMAC, the verifier's writes, the SMS accepted durably by
//! the outbox), then, once every code is at the simulated handsets, N checks of the right
//! code (each: the attempt flushed, then the constant-time comparison and the consume
//! flushed). Reports starts/s, checks/s, pairs/s (N over the two phases' time; the SMS's
//! trip to the handset in between is the connector's and is not counted) and the p50/p99
//! of each answer. In one process: the gateway, the built-in simulator, W callers.
//!
//! `cargo run --release --example verify_throughput -- [N] [CONCURRENCY] [gateway|verifier]`
//! (default 20000, 512, gateway). `verifier` runs the Verifier actor alone, its durable
//! state in sled with group commit, the SMS handed to a sink that accepts at once (the
//! verifier's own capacity, without the connector's).
// An example: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use actix::prelude::*;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use smsgate::gateway::Gateway;
use smsgate::outbox::actor::{GetStatus, RecordEvent, Refused, Submit};
use smsgate::outbox::Accepted;
use smsgate::store::{MessageId, SledStore, State};
use smsgate::verify::actor::{Check, Outbound, Start, VerifierActor};
use smsgate::verify::core::VerifierCore;
use smsgate::verify::key::{Key, KeyRing};
use smsgate::verify::policy::CheckOutcome;
use smsgate::verify::store::VerifyStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Accepts every SMS at once and keeps its text for the caller (the handset).
struct Sink {
    next: u64,
    texts: Arc<Mutex<HashMap<String, String>>>,
}

impl Actor for Sink {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(100_000);
    }
}

impl Handler<Submit> for Sink {
    type Result = Result<Accepted, Refused>;
    fn handle(&mut self, msg: Submit, _: &mut Self::Context) -> Self::Result {
        self.next += 1;
        self.texts.lock().unwrap().insert(msg.to, msg.text);
        Ok(Accepted {
            id: MessageId(self.next),
            state: State::Queued,
            duplicate: false,
        })
    }
}

impl Handler<GetStatus> for Sink {
    type Result = Result<Option<smsgate::outbox::MessageStatus>, smsgate::store::StoreError>;
    fn handle(&mut self, _: GetStatus, _: &mut Self::Context) -> Self::Result {
        Ok(None)
    }
}

impl Handler<RecordEvent> for Sink {
    type Result = Result<(), smsgate::outbox::actor::NotRecorded>;
    fn handle(&mut self, _: RecordEvent, _: &mut Self::Context) -> Self::Result {
        Ok(())
    }
}

/// The texts the sink received, by destination.
type Texts = Arc<Mutex<HashMap<String, String>>>;

/// The verifier alone: its address, the sink's texts, its thread, the database it is in.
type Alone = (
    Addr<VerifierActor<rand::rngs::StdRng>>,
    Texts,
    Arbiter,
    SledStore,
);

/// The verifier alone over its own sled directory, sending to a [`Sink`].
fn verifier_alone(dir: &std::path::Path, config: &smsgate::config::Config) -> Alone {
    use rand::SeedableRng;
    let outbox_store = SledStore::open(dir).unwrap();
    let store = VerifyStore::open(outbox_store.shared()).unwrap();
    let texts = Arc::new(Mutex::new(HashMap::new()));
    let sink = Sink {
        next: 0,
        texts: Arc::clone(&texts),
    }
    .start();
    let outbound = Outbound {
        submit: sink.clone().recipient().into(),
        status: sink.clone().recipient(),
        events: sink.recipient(),
    };
    let core = VerifierCore::new(
        config.verify.policy(),
        Arc::new(KeyRing::new(Key::generate().unwrap(), Vec::new())),
        store,
        rand::rngs::StdRng::from_os_rng(),
        config.verify.core_settings().unwrap(),
    );
    let arbiter = Arbiter::new();
    let plan = smsgate::carrier::number::NumberPlan::japan();
    let addr = VerifierActor::start_in_arbiter(&arbiter.handle(), move |_| {
        VerifierActor::new(core, outbound, plan)
    });
    (addr, texts, arbiter, outbox_store)
}

/// As the binary: mimalloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// What the callers drive: the whole gateway, or the verifier alone.
#[derive(Clone)]
enum Target {
    Gateway(Gateway),
    Alone(Addr<VerifierActor<rand::rngs::StdRng>>),
}

impl Target {
    async fn start(&self, start: Start) -> String {
        match self {
            Target::Gateway(gw) => gw.verify_start(start).await.unwrap().id,
            Target::Alone(v) => v.send(start).await.unwrap().unwrap().id,
        }
    }

    async fn check(&self, id: String, code: String) -> CheckOutcome {
        match self {
            Target::Gateway(gw) => gw.verify_check(&id, &code).await.unwrap(),
            Target::Alone(v) => v.send(Check { id, code }).await.unwrap().unwrap(),
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(20_000, |n| n.parse().expect("N"));
    let concurrency: usize = args.next().map_or(512, |n| n.parse().expect("CONCURRENCY"));
    let alone = match args.next().as_deref() {
        None | Some("gateway") => false,
        Some("verifier") => true,
        Some(other) => panic!("{other}: gateway or verifier"),
    };
    // The data directory: a fresh one under $TMPDIR (or VERIFY_BENCH_DIR's parent).
    let dir = match std::env::var_os("VERIFY_BENCH_DIR") {
        Some(parent) => tempfile::tempdir_in(parent).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    actix::System::new().block_on(async move {
        let mut config = smsgate::config::Config::embedded_default().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.simulator.smpp_address = "127.0.0.1:0".parse().unwrap();
        config.simulator.control_address = "127.0.0.1:0".parse().unwrap();
        config.api.enabled = false;
        // One verification per number, and budgets far above the run.
        config.verify.budgets.overall = u32::MAX;
        let mut sim = None;
        let mut alone_parts = None;
        let target = if alone {
            let (addr, texts, arbiter, store) = verifier_alone(dir.path(), &config);
            alone_parts = Some((texts, arbiter, store));
            Target::Alone(addr)
        } else {
            let binds_at = "127.0.0.1:2775".parse().unwrap();
            sim = smsgate::sim::start_if_enabled(&mut config, binds_at)
                .await
                .unwrap();
            let gw = Gateway::start(smsgate::wiring::spec(&config).unwrap())
                .await
                .unwrap();
            Target::Gateway(gw)
        };

        let started = Instant::now();
        let starts = futures_util::stream::iter(0..total)
            .map(|i| {
                let target = target.clone();
                async move {
                    let t = Instant::now();
                    let id = target
                        .start(Start::new(format!("+{}", number(i)), "login"))
                        .await;
                    (i, id, t.elapsed())
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
            let text = match (&sim, &alone_parts) {
                (Some(sim), _) => {
                    let inbox = tokio::time::timeout(
                        Duration::from_secs(120),
                        sim.handle().wait_for_inbox(&number(i), 1),
                    )
                    .await
                    .expect("the code arrives");
                    inbox[0].text.clone()
                }
                (None, Some((texts, _, _))) => texts.lock().unwrap()[&number(i)].clone(),
                (None, None) => unreachable!(),
            };
            codes.push((id, code_in(&text)));
        }

        let started = Instant::now();
        let checks = futures_util::stream::iter(codes)
            .map(|(id, code)| {
                let target = target.clone();
                async move {
                    let t = Instant::now();
                    let outcome = target.check(id, code).await;
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

        let what = if alone {
            "the verifier alone (SMS to a sink)"
        } else {
            "the whole gateway (SMS through the outbox to the simulator)"
        };
        println!("verify_throughput: {total} verifications, {concurrency} callers at once, {what}");
        report("starts", total, start_time, &start_hist);
        report("checks", total, check_time, &check_hist);
        println!(
            " pairs: {:.0}/s (start + check, durable, the SMS transit excluded)",
            total as f64 / (start_time + check_time).as_secs_f64()
        );
        match target {
            Target::Gateway(gw) => {
                gw.shutdown().await;
                if let Some(sim) = sim {
                    sim.stop().await;
                }
            }
            Target::Alone(_) => {
                if let Some((_, arbiter, _)) = alone_parts {
                    arbiter.stop();
                }
            }
        }
    });
}
