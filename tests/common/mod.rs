//! What the connector's end-to-end tests share: the simulated SMSC in process on
//! 127.0.0.1:0, a gateway spec whose carriers bind to it, numbers, and waits that are woken
//! by the gateway's event log or the simulator's notifications (each bounded by a guard so
//! a hang fails the test instead of stalling the suite).
#![allow(dead_code)]

pub mod admin;
pub mod tls;

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
use smsgate::outbox::{Addressing, CarrierProfile, MessageStatus, Settings, TextProfile};
use smsgate::store::{Class, Event, MessageId, State};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The simulator's test account.
pub const SYSTEM_ID: &str = "test";
/// Its password.
pub const PASSWORD: &str = "pw";

/// A carrier named `name` with `binds` transceivers to the SMSC at `addr`.
pub fn carrier(name: &str, addr: SocketAddr, binds: usize, window: usize) -> CarrierSpec {
    let link = LinkSettings {
        mode: BindMode::Transceiver,
        system_id: SYSTEM_ID.into(),
        password: SecretString::from(PASSWORD),
        system_type: String::new(),
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
        window,
        response_timeout: Duration::from_secs(5),
        bind_timeout: Duration::from_secs(5),
        enquire_interval: Duration::from_secs(30),
        enquire_timeout: Duration::from_secs(10),
        unbind_timeout: Duration::from_secs(2),
    };
    let backoff = BackoffPolicy::new(Duration::from_millis(50), Duration::from_secs(1), 0.5)
        .expect("backoff");
    CarrierSpec {
        name: name.into(),
        profile: CarrierProfile::new(TextProfile::default(), Addressing::default(), 3_600_000),
        pool: PoolSettings {
            carrier: name.into(),
            tps: 100_000.0,
            burst: 10_000,
            failover_after: Duration::from_secs(60),
        },
        binds: (0..binds)
            .map(|index| {
                (
                    BindSpec {
                        carrier: name.into(),
                        index,
                        endpoint: Endpoint {
                            host: addr.ip().to_string(),
                            port: addr.port(),
                            tls: None,
                        },
                        link: link.clone(),
                        backoff,
                    },
                    PacerConfig::new(100_000.0, 10_000, window),
                )
            })
            .collect(),
        matcher: IdMatcher::fixed(IdForm::AsIs),
    }
}

/// A gateway spec over `dir` with these carriers; every Japanese number goes to the first,
/// then the others in order.
pub fn spec(dir: &Path, carriers: Vec<CarrierSpec>) -> GatewaySpec {
    let names: Vec<String> = carriers.iter().map(|c| c.name.clone()).collect();
    GatewaySpec {
        data_dir: dir.to_path_buf(),
        data_cache_bytes: smsgate::store::DEFAULT_CACHE_BYTES,
        outbox: Settings {
            retry: BackoffPolicy::new(Duration::from_millis(50), Duration::from_secs(1), 0.0)
                .expect("retry backoff"),
            ..Settings::default()
        },
        carriers,
        router: Router::new([RouteRule {
            prefix: "81".into(),
            carriers: names,
            kind: RouteKind::Domestic,
        }])
        .expect("router"),
        plan: NumberPlan::japan(),
        unbind_deadline: Duration::from_secs(3),
        sandbox: None,
        verify: None,
        webhooks: None,
    }
}

/// The simulator's test configuration: receipts at once.
pub async fn simulator(config: smsc_sim::Config) -> smsc_sim::SimHandle {
    smsc_sim::start(config).await.expect("simulator starts")
}

/// Logs to the test's output when `RUST_LOG` is set (for a failing test's story).
pub fn trace() {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

/// The longest any one wait of a test may take before the test fails as hung.
pub const GUARD: Duration = Duration::from_secs(60);

/// `fut`, or a failed test naming `what` after [`GUARD`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(GUARD, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {GUARD:?} waiting for {what}"),
    }
}

/// A gateway over `dir` with these carriers (see [`spec`]).
pub async fn gateway(dir: &Path, carriers: Vec<CarrierSpec>) -> Gateway {
    Gateway::start(spec(dir, carriers))
        .await
        .expect("gateway starts")
}

/// The `n`th test number as a caller writes it: `+81 90 nnnn nnnn`.
pub fn to(n: usize) -> String {
    format!("+81 90 {:04} {:04}", n / 10_000 % 10_000, n % 10_000)
}

/// The same number as the SMSC sees it (E.164 digits), the simulator's inbox key.
pub fn msisdn(n: usize) -> String {
    format!("8190{:08}", n % 100_000_000)
}

/// Submits `text` to number `n` (receipts requested) and returns its id once accepted.
pub async fn submit(gw: &Gateway, n: usize, text: &str, class: Class) -> MessageId {
    let accepted = gw
        .submit(Submit::new(to(n), text, class))
        .await
        .unwrap_or_else(|e| panic!("message to {} refused: {e}", to(n)));
    assert_eq!(accepted.state, State::Queued);
    accepted.id
}

/// Submits all of `messages` ((number, text)) at once (their accepts share flushes) and
/// returns their ids in the same order.
pub async fn submit_all(
    gw: &Gateway,
    messages: &[(usize, String)],
    class: Class,
) -> Vec<MessageId> {
    let mut ids = Vec::with_capacity(messages.len());
    // In chunks well under the outbox's mailbox, so every submit is queued at once.
    for chunk in messages.chunks(1_000) {
        let accepts = chunk.iter().map(|(n, text)| submit(gw, *n, text, class));
        ids.extend(futures_util::future::join_all(accepts).await);
    }
    ids
}

/// Waits until message `id` is final and returns its status.
pub async fn final_status(gw: &Gateway, id: MessageId) -> MessageStatus {
    within(
        &format!("message {id} to end"),
        gw.wait_for(id, |s| s.state.is_final()),
    )
    .await
    .expect("status readable")
    .expect("gateway running")
}

/// Waits until no message is open (every one final), then returns their statuses.
pub async fn all_final(gw: &Gateway, ids: &[MessageId]) -> Vec<MessageStatus> {
    let mut events = gw.subscribe();
    within("every message to end", async {
        loop {
            events.borrow_and_update();
            if gw.depth().await.expect("depth").open == 0 {
                // And the event log shows every change that ended them.
                assert!(gw.events_shown().await.expect("events"), "outbox stopped");
                return;
            }
            events.changed().await.expect("gateway running");
        }
    })
    .await;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(gw.status(*id).await.expect("status").expect("known id"));
    }
    out
}

/// Asserts every status is delivered.
pub fn assert_all_delivered(statuses: &[MessageStatus]) {
    let not: Vec<_> = statuses
        .iter()
        .filter(|s| s.state != State::Delivered)
        .collect();
    assert!(not.is_empty(), "{} not delivered: {not:#?}", not.len());
}

/// Waits until the simulator's counters satisfy `pred`.
pub async fn sim_stats(
    sim: &smsc_sim::SimHandle,
    what: &str,
    pred: impl Fn(&smsc_sim::StatsSnapshot) -> bool,
) -> smsc_sim::StatsSnapshot {
    within(what, sim.wait_for_stats(pred)).await
}

/// The simulator's test configuration with its faults.
pub fn sim_config(faults: smsc_sim::Faults) -> smsc_sim::Config {
    smsc_sim::Config {
        faults,
        ..smsc_sim::Config::for_tests()
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released): a carrier's SMSC
/// that is down.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Waits until the gateway's event log holds an event satisfying `pred` and returns it with
/// its sequence number; woken by each append (reads on from the last event seen).
pub async fn wait_for_event(
    gw: &Gateway,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> (u64, Event) {
    let mut events = gw.subscribe();
    let mut cursor = 0;
    within(what, async {
        loop {
            events.borrow_and_update();
            for (seq, event) in gw.events(cursor, 1_000).await.expect("events") {
                cursor = seq;
                if pred(&event) {
                    return (seq, event);
                }
            }
            events.changed().await.expect("gateway running");
        }
    })
    .await
}

/// Every event of message `id`, in order: (carrier, state, detail).
pub async fn message_events(gw: &Gateway, id: MessageId) -> Vec<(String, State, Option<String>)> {
    gw.events(0, 100_000)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|(_, e)| match e.kind {
            smsgate::store::EventKind::Message {
                id: of,
                state,
                carrier,
                detail,
                ..
            } if of == id => Some((carrier, state, detail)),
            _ => None,
        })
        .collect()
}

/// A configuration read from TOML text as the service reads its file (validated, the
/// `(name, value)` pairs as its environment).
pub fn config(text: &str, env: &[(&str, &str)]) -> smsgate::config::Config {
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    smsgate::config::Config::from_toml("test.toml", text, env)
        .unwrap_or_else(|e| panic!("invalid test configuration: {e}\n{text}"))
}

/// The gateway `smsgate run` would start for `config`: wired by `smsgate::wiring::spec`.
pub async fn gateway_from(config: &smsgate::config::Config) -> Gateway {
    let spec = smsgate::wiring::spec(config).expect("wiring");
    Gateway::start(spec).await.expect("gateway starts")
}

/// A TOML string literal of `path`.
pub fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// A verifier with the default texts under a fixed test key, its policy the default one as
/// `tune` changes it.
pub fn verify_spec(
    tune: impl FnOnce(&mut smsgate::verify::policy::Policy),
) -> smsgate::gateway::VerifySpec {
    use smsgate::verify::key::{Key, KeyRing};
    let mut policy = smsgate::verify::policy::Policy::default();
    tune(&mut policy);
    smsgate::gateway::VerifySpec {
        policy,
        settings: smsgate::verify::core::Settings::default(),
        keys: std::sync::Arc::new(KeyRing::new(Key::from_bytes([7; 32]), Vec::new())),
    }
}

/// The code in a verification SMS: its longest run of digits (the minutes are shorter).
pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .max_by_key(|run| run.len())
        .unwrap_or_default()
        .to_owned()
}

/// Runs `smsgate ARGS` with `stdin` piped in and `envs` set (the client's own `SMS_API`,
/// `SMS_TOKEN` and `SMS_CA` of a developer's shell removed first): exit code and stdout +
/// stderr.
pub async fn cli(args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> (i32, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(args)
        .env_remove("SMS_CA")
        .env_remove("SMS_API")
        .env_remove("SMS_TOKEN")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("smsgate runs");
    let mut input = child.stdin.take().expect("stdin piped");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("stdin written");
    drop(input);
    let out = within("the CLI", child.wait_with_output())
        .await
        .expect("the CLI's output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}
