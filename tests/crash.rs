//! Kill -9 under load: `smsgate run --submit-stdin` is fed messages and SIGKILLed three
//! times while it acknowledges, submits and takes receipts; then the gateway is started
//! again on the same data directory. Every message it acknowledged must end delivered —
//! none lost — and the SMSC may have seen a message twice only if it was in flight at a
//! kill (bounded by the windows).
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use smsgate::gateway::Gateway;
use smsgate::store::{MessageId, State};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Binds of the carrier, and the window of each: at most this many PDUs are in flight.
const BINDS: usize = 2;
const WINDOW: usize = 50;

/// The simulator on a runtime of its own, alive across the gateway's deaths.
struct Smsc {
    addr: SocketAddr,
    handle: tokio::runtime::Handle,
    sim: Option<smsc_sim::SimHandle>,
    _runtime: tokio::runtime::Runtime,
}

impl Smsc {
    fn start() -> Smsc {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut config = smsc_sim::Config::for_tests();
        // Receipts a little after the submit, as a carrier sends them.
        config.receipts.delay_ms = 5;
        config.inbox_limit = 10;
        let sim = runtime.block_on(smsc_sim::start(config)).unwrap();
        Smsc {
            addr: sim.smpp_addr(),
            handle: runtime.handle().clone(),
            sim: Some(sim),
            _runtime: runtime,
        }
    }

    fn inbox_count(&self, number: &str) -> usize {
        self.sim.as_ref().unwrap().inbox(number).len()
    }
}

fn config_file(dir: &Path, smsc: SocketAddr) -> std::path::PathBuf {
    let path = dir.join("smsgate.toml");
    let text = format!(
        r#"
data_dir = "{data}"
[simulator]
enabled = false
[metrics]
address = "127.0.0.1:0"
[log]
filter = "warn"
[carriers.sim]
message_id = "as_is"
reconnect = {{ initial = "50ms", max = "500ms", jitter = 0.5 }}
[[carriers.sim.binds]]
host = "{host}"
port = {port}
system_id = "{id}"
password = "{pw}"
count = {BINDS}
window = {WINDOW}
[[routes]]
prefix = "81"
carriers = ["sim"]
"#,
        data = dir.join("data").display(),
        host = smsc.ip(),
        port = smsc.port(),
        id = common::SYSTEM_ID,
        pw = common::PASSWORD,
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn number(n: usize) -> String {
    format!("8190{n:08}")
}

/// Runs the gateway on `lines` numbered from `first`, SIGKILLs it after `kill_after`
/// acknowledgements, and returns the acknowledged (id, number) pairs.
fn run_and_kill(
    config: &Path,
    first: usize,
    lines: usize,
    kill_after: usize,
) -> Vec<(MessageId, String)> {
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(["run", "--submit-stdin", "--config"])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        for n in first..first + lines {
            let line = format!(
                "{{\"to\": \"+{}\", \"text\": \"message {n}\", \"class\": \"bulk\"}}\n",
                number(n)
            );
            // The child is killed while it reads: a broken pipe ends the feeding.
            if stdin.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if !line.starts_with('{') {
            // The line that says the service runs.
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let id: MessageId = v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not accepted: {line}"))
            .parse()
            .unwrap();
        let n = v["line"].as_u64().unwrap() as usize - 1 + first;
        acked.push((id, number(n)));
        if acked.len() == kill_after {
            break;
        }
    }
    // SIGKILL: no unbind, no flush, no goodbye.
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = feeder.join();
    acked
}

#[test]
fn every_acknowledged_message_survives_three_sigkills_and_ends_delivered() {
    let smsc = Smsc::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), smsc.addr);
    let mut acked = Vec::new();
    let mut first = 0;
    for kill_after in [400, 700, 1000] {
        acked.extend(run_and_kill(&config, first, 2000, kill_after));
        first += 2000;
    }
    assert_eq!(acked.len(), 2100);

    // Started again on the same directory, the gateway finishes what it acknowledged.
    let system = actix::System::new();
    let addr = smsc.addr;
    let data = dir.path().join("data");
    let restarted = std::time::Instant::now();
    let finals: BTreeMap<MessageId, State> = system.block_on(async {
        let gw = Gateway::start(common::spec(
            &data,
            vec![common::carrier("sim", addr, BINDS, WINDOW)],
        ))
        .await
        .unwrap();
        let mut finals = BTreeMap::new();
        for (id, _) in &acked {
            let status = gw
                .wait_for(*id, |s| s.state.is_final())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{id} unknown after the restart: lost"));
            finals.insert(*id, status.state);
        }
        gw.shutdown().await;
        finals
    });
    eprintln!("after the restart, all final in {:?}", restarted.elapsed());
    let not_delivered: Vec<_> = finals
        .iter()
        .filter(|(_, s)| **s != State::Delivered)
        .collect();
    assert!(not_delivered.is_empty(), "not delivered: {not_delivered:?}");

    // The SMSC got every one, and a second copy only of what a kill could catch: each
    // bind's window unanswered and as many answered but not yet durable (the settle
    // allowance).
    let mut duplicates = 0;
    for (_, number) in &acked {
        let copies = smsc.inbox_count(number);
        assert!(copies >= 1, "{number} never reached the SMSC");
        duplicates += copies - 1;
    }
    eprintln!(
        "{} acknowledged, all delivered; {duplicates} duplicates at the SMSC",
        acked.len()
    );
    assert!(
        duplicates <= 3 * BINDS * 2 * WINDOW,
        "{duplicates} duplicates: more than the windows held at the kills"
    );
    let handle = smsc.handle.clone();
    let mut smsc = smsc;
    if let Some(sim) = smsc.sim.take() {
        handle.block_on(sim.shutdown());
    }
}
