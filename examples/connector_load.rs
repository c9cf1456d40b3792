//! End-to-end load through the connector, in one process: the simulated SMSC on a runtime
//! of its own thread, the gateway's actors on theirs, `--count` messages submitted as fast
//! as the durable acknowledgements allow (`--in-flight` waiting at once), each to its own
//! number, followed to their delivery receipts.
//!
//! ```text
//! cargo run --release --example connector_load -- --binds 1 --latency-ms 0
//! cargo run --release --example connector_load -- --binds 4 --latency-ms 5 --count 200000
//! ```
//!
//! Prints accepted/s (durable), end-to-end messages/s (accepted → delivered receipt), and
//! the accept latency percentiles.
// A load tool: a failed setup is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;
use secrecy::SecretString;
use smpp::session::BindMode;
use smsgate::carrier::backoff::BackoffPolicy;
use smsgate::carrier::bind::{BindSpec, Endpoint};
use smsgate::carrier::link::LinkSettings;
use smsgate::carrier::msgid::{IdForm, IdMatcher};
use smsgate::carrier::number::NumberPlan;
use smsgate::carrier::pool::PoolSettings;
use smsgate::carrier::router::{RouteKind, RouteRule, Router};
use smsgate::carrier::throttle::PacerConfig;
use smsgate::gateway::{CarrierSpec, Gateway, GatewaySpec};
use smsgate::outbox::actor::Submit;
use smsgate::outbox::{Addressing, CarrierProfile, Settings, TextProfile};
use smsgate::store::Class;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// As the binary: mimalloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
struct Args {
    /// Messages to send.
    #[arg(long, default_value_t = 100_000)]
    count: usize,
    /// Transceiver binds.
    #[arg(long, default_value_t = 1)]
    binds: usize,
    /// Window per bind.
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// The SMSC's response latency, ms.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Receipt delay after submit, ms.
    #[arg(long, default_value_t = 10)]
    receipt_delay_ms: u64,
    /// Submits waiting for their durable acknowledgement at once.
    #[arg(long, default_value_t = 4096)]
    in_flight: usize,
    /// Data directory (default: a temporary one).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
}

fn main() {
    let args = Args::parse();
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = smsc_sim::Config::for_tests();
    config.receipts.delay_ms = args.receipt_delay_ms;
    config.faults.latency_min_ms = args.latency_ms;
    config.faults.latency_max_ms = args.latency_ms;
    config.inbox_limit = 1;
    config.store_limit = 100_000;
    let sim = sim_rt.block_on(smsc_sim::start(config)).unwrap();
    let addr = sim.smpp_addr();
    let tmp = tempfile::tempdir().unwrap();
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());

    let link = LinkSettings {
        mode: BindMode::Transceiver,
        system_id: "test".into(),
        password: SecretString::from("pw"),
        system_type: String::new(),
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
        window: args.window,
        response_timeout: Duration::from_secs(10),
        bind_timeout: Duration::from_secs(5),
        enquire_interval: Duration::from_secs(30),
        enquire_timeout: Duration::from_secs(10),
        unbind_timeout: Duration::from_secs(2),
    };
    let backoff =
        BackoffPolicy::new(Duration::from_millis(100), Duration::from_secs(2), 0.5).unwrap();
    let carrier = CarrierSpec {
        name: "sim".into(),
        profile: CarrierProfile::new(TextProfile::default(), Addressing::default(), 3_600_000),
        pool: PoolSettings {
            carrier: "sim".into(),
            tps: 1_000_000.0,
            burst: 100_000,
            failover_after: Duration::from_secs(60),
        },
        binds: (0..args.binds)
            .map(|index| {
                (
                    BindSpec {
                        carrier: "sim".into(),
                        index,
                        endpoint: Endpoint {
                            host: addr.ip().to_string(),
                            port: addr.port(),
                            tls: None,
                        },
                        link: link.clone(),
                        backoff,
                    },
                    PacerConfig::new(1_000_000.0, 100_000, args.window),
                )
            })
            .collect(),
        matcher: IdMatcher::fixed(IdForm::AsIs),
    };
    let spec = GatewaySpec {
        data_dir: dir,
        data_cache_bytes: smsgate::store::DEFAULT_CACHE_BYTES,
        outbox: Settings::default(),
        carriers: vec![carrier],
        router: Router::new([RouteRule {
            prefix: "81".into(),
            carriers: vec!["sim".into()],
            kind: RouteKind::Domestic,
        }])
        .unwrap(),
        plan: NumberPlan::japan(),
        unbind_deadline: Duration::from_secs(3),
        sandbox: None,
        verify: None,
        webhooks: None,
    };

    let system = actix::System::new();
    system.block_on(async move {
        let gw = Gateway::start(spec).await.unwrap();
        // Wait for the binds before the clock starts.
        loop {
            let up = gw.binds().await.iter().flat_map(|p| &p.binds).filter(|b| b.mode.is_some()).count();
            if up == args.binds {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(args.in_flight));
        let latencies = Arc::new(parking_lot::Mutex::new(Vec::with_capacity(args.count)));
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(args.count);
        for n in 0..args.count {
            let permit = permits.clone().acquire_owned().await.unwrap();
            let gw = gw.clone();
            let latencies = latencies.clone();
            tasks.push(actix::spawn(async move {
                let t = Instant::now();
                let to = format!("8190{:08}", n);
                gw.submit(Submit::new(to, "認証コード 123456", Class::Otp))
                    .await
                    .unwrap();
                latencies.lock().push(t.elapsed());
                drop(permit);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let accepted_in = start.elapsed();
        let mut events = gw.subscribe();
        loop {
            if gw.depth().await.unwrap().open == 0 {
                break;
            }
            if events.changed().await.is_err() {
                break;
            }
        }
        let all_in = start.elapsed();
        let mut lat = latencies.lock().clone();
        lat.sort();
        let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or_default();
        println!(
            "binds={} window={} latency={}ms receipts after {}ms: {} messages",
            args.binds, args.window, args.latency_ms, args.receipt_delay_ms, args.count
        );
        println!(
            "  accepted (durable): {:.0}/s in {:.2?}; accept latency p50 {:.2?} p99 {:.2?} p99.9 {:.2?}",
            args.count as f64 / accepted_in.as_secs_f64(),
            accepted_in,
            pct(0.5),
            pct(0.99),
            pct(0.999)
        );
        println!(
            "  end to end (accepted -> delivered receipt): {:.0}/s, all final after {:.2?}",
            args.count as f64 / all_in.as_secs_f64(),
            all_in
        );
        gw.shutdown().await;
    });
    sim_rt.block_on(sim.shutdown());
}
