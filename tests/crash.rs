//! Kill -9 under load: `smsgate run --submit-stdin` is fed messages and SIGKILLed three
//! times while it acknowledges, submits and takes receipts; then the gateway is started
//! again on the same data directory. Every message it acknowledged must end delivered —
//! none lost — and the SMSC may have seen a message twice only if it was in flight at a
//! kill (bounded by the windows). And an event a subscriber was shown before a kill is the
//! same event, under the same cursor, after it.
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
    config_file_with(dir, smsc, "")
}

/// The TCP API on a free port, with the embedded default's public development token
/// ("smsgate-dev-token").
const API: &str = r#"
[api]
enabled = true
address = "127.0.0.1:0"
[[api.tokens]]
name = "dev"
sha256 = "77f27b2774a9bcc724309d3ed3c9f42a86db91121bc54a2bbaed62bfe044842c"
operations = ["*"]
rate = 100000
mode = "live"
"#;

fn config_file_with(dir: &Path, smsc: SocketAddr, more: &str) -> std::path::PathBuf {
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
{more}
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

/// `smsgate run` on `config`, its stdin and stdout piped; taking messages on stdin when
/// `submit_stdin`.
fn spawn(config: &Path, submit_stdin: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smsgate"));
    command.arg("run");
    if submit_stdin {
        command.arg("--submit-stdin");
    }
    command
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Writes `lines` messages numbered from `first` to the gateway's stdin on a thread of its
/// own; the stdin is then closed, or kept open (the gateway runs on) until the child dies.
fn feed(
    mut stdin: std::process::ChildStdin,
    first: usize,
    lines: usize,
    keep_open: bool,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
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
        if keep_open {
            std::mem::forget(stdin);
        }
    })
}

/// Runs the gateway on `lines` numbered from `first`, SIGKILLs it after `kill_after`
/// acknowledgements, and returns the acknowledged (id, number) pairs.
fn run_and_kill(
    config: &Path,
    first: usize,
    lines: usize,
    kill_after: usize,
) -> Vec<(MessageId, String)> {
    let mut child = spawn(config, true);
    let feeder = feed(child.stdin.take().unwrap(), first, lines, false);
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

/// A gateway process, SIGKILLed when dropped (also when the test fails on the way).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `smsgate run` on `config` (fed `lines` messages on stdin from `first` when
/// `lines` > 0) and returns it with its API's address, read from the line that says it
/// runs.
fn start_with_api(config: &Path, first: usize, lines: usize) -> (Killed, String) {
    let mut child = spawn(config, lines > 0);
    feed(child.stdin.take().unwrap(), first, lines, true);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let child = Killed(child);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no running line");
        if let Some(addr) = line.split("; ").find_map(|p| p.strip_prefix("api on ")) {
            let addr = addr.to_owned();
            // The acknowledgements that follow are not read here: drained, so the
            // gateway never blocks on a full pipe.
            std::thread::spawn(move || for _ in stdout.lines() {});
            return (child, addr);
        }
    }
}

/// The events after cursor 0, by cursor (when, and the event as the API sends it), read
/// until `enough` says so.
async fn events_until(
    addr: &str,
    enough: impl Fn(&BTreeMap<u64, (u64, serde_json::Value)>) -> bool,
) -> BTreeMap<u64, (u64, serde_json::Value)> {
    let token = secrecy::SecretString::from("smsgate-dev-token");
    let client = smsgate::api::client::Client::connect(addr, &token)
        .await
        .unwrap();
    let mut sub = client.subscribe(0).await.unwrap();
    let mut seen = BTreeMap::new();
    let reading = async {
        while !enough(&seen) {
            let line = sub.next().await.unwrap();
            let event = serde_json::to_value(&line.event).unwrap();
            seen.insert(line.cursor, (line.at, event));
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), reading)
        .await
        .expect("the events came");
    seen
}

#[test]
fn an_event_a_subscriber_saw_is_the_same_event_after_a_sigkill() {
    let smsc = Smsc::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file_with(dir.path(), smsc.addr, API);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Under load, killed the moment its subscriber has seen 1,500 events: the newest of
    // them were written a moment before.
    let (child, addr) = start_with_api(&config, 0, 3000);
    let before = runtime.block_on(events_until(&addr, |seen| seen.len() >= 1500));
    drop(child);
    let newest = *before.keys().last().unwrap();

    // Started again, it goes on with what it had: the log up to there is read back.
    let (child, addr) = start_with_api(&config, 0, 0);
    let after = runtime.block_on(events_until(&addr, |seen| {
        seen.keys().last().is_some_and(|last| *last >= newest)
    }));
    drop(child);
    let changed: Vec<_> = before
        .iter()
        .filter(|(cursor, event)| after.get(cursor) != Some(*event))
        .map(|(cursor, event)| (cursor, event, after.get(cursor)))
        .take(5)
        .collect();
    assert!(
        changed.is_empty(),
        "events seen before the kill and not the same after it: {changed:#?}"
    );
    let handle = smsc.handle.clone();
    let mut smsc = smsc;
    if let Some(sim) = smsc.sim.take() {
        handle.block_on(sim.shutdown());
    }
}
