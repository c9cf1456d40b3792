//! `smsgate run` (and `smsgate` alone): the service on its embedded default answers SMPP on
//! the address it prints.
//! Needs the simulator (the `sim` feature): it is what `run` serves today.
#![cfg(feature = "sim")]
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use smpp::pdu::{Bind, Body};
use smpp::{CommandStatus, Pdu};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `smsgate run` with `extra` arguments, every address on a free loopback port, ending with
/// `--data-dir` (the caller adds the directory).
fn run(extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_smsgate"));
    command.arg("run").args(extra);
    for flag in [
        "--smpp-addr",
        "--control-addr",
        "--metrics-addr",
        "--api-addr",
        "--admin-addr",
    ] {
        command.args([flag, "127.0.0.1:0"]);
    }
    command.arg("--data-dir");
    command
}

fn read_pdu(stream: &mut TcpStream) -> Pdu<'static> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).expect("length");
    let mut frame = len.to_vec();
    frame.resize(u32::from_be_bytes(len) as usize, 0);
    stream.read_exact(&mut frame[4..]).expect("body");
    Pdu::decode(&frame).expect("decodes").into_owned()
}

#[test]
fn run_serves_the_built_in_simulator_on_the_printed_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let child = run(&[])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut server = Server(child);
    let stdout = server.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let addr: SocketAddr = line
        .split("smpp on ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no smpp address in {line:?}"));

    let mut stream = TcpStream::connect(addr).expect("connects");
    // A bound on a broken server, not a wait for a condition: answers come at once.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let bind = Pdu::new(
        1,
        Body::BindTransceiver(Bind {
            system_id: "smsgate".into(),
            password: "secret".into(),
            interface_version: 0x34,
            ..Default::default()
        }),
    );
    stream
        .write_all(&bind.to_bytes().expect("encodes"))
        .expect("sends");
    let resp = read_pdu(&mut stream);
    assert_eq!(resp.sequence_number, 1);
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    assert!(matches!(resp.body, Body::BindTransceiverResp(Some(_))));

    stream
        .write_all(&Pdu::new(2, Body::EnquireLink).to_bytes().expect("encodes"))
        .expect("sends");
    let resp = read_pdu(&mut stream);
    assert_eq!(
        (resp.sequence_number, resp.body),
        (2, Body::EnquireLinkResp)
    );
}

#[test]
fn sigterm_ends_run_even_while_stdin_is_held_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let child = run(&["--submit-stdin"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut server = Server(child);
    // Held open, as a script or a terminal holds it, until the test ends.
    let mut stdin = server.0.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(server.0.stdout.take().expect("stdout"));
    stdin
        .write_all(b"{\"to\": \"+819012345678\", \"text\": \"hello\"}\n")
        .expect("writes");
    // The answer comes once the message is on disk; by then the signal handlers are set
    // (they are installed before the stdin task first runs).
    let answer = stdout
        .by_ref()
        .lines()
        .map(|l| l.expect("reads"))
        .find(|l| l.starts_with('{'))
        .expect("an answer");
    assert!(answer.contains("\"id\""), "not accepted: {answer}");

    let pid = server.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = tx.send(server.0.wait());
        drop(server);
    });
    // A bound on a broken shutdown, not a wait for a condition: a clean stop takes well
    // under a second.
    let status = rx.recv_timeout(Duration::from_secs(30));
    if status.is_err() {
        // Not left behind: the waiter then returns and the test fails below.
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    }
    drop(stdin);
    let _ = waiter.join();
    let status = status.expect("smsgate still running 30 s after SIGTERM with stdin open");
    assert!(status.expect("wait").success());
}

/// SIGHUP reads the portability table again: a good table replaces the one in use (the log
/// says how many entries each has), a table naming an unknown carrier is refused naming its
/// line and the service runs on; SIGTERM then stops it cleanly.
#[test]
fn sighup_reloads_the_portability_table_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("portability.csv");
    std::fs::write(&table, "819011112222,sim\n").expect("writes");
    let config = dir.path().join("smsgate.toml");
    let text = include_str!("../config/smsgate.toml")
        .replace("format = \"text\"", "format = \"json\"")
        + &format!("\n[portability]\nfile = \"{}\"\n", table.display());
    std::fs::write(&config, text).expect("writes");
    let child = run(&["--config", config.to_str().expect("a UTF-8 path")])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut server = Server(child);
    let mut stdout = BufReader::new(server.0.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    assert!(line.starts_with("smsgate: running"), "{line}");
    // Signal handlers are installed before the first line is printed.
    let mut log = BufReader::new(server.0.stderr.take().expect("stderr")).lines();
    let mut next_sighup_line = |pid: &str| {
        let sent = Command::new("kill").args(["-HUP", pid]).status();
        assert!(sent.expect("kill runs").success());
        log.by_ref()
            .map(|l| l.expect("reads"))
            .find(|l| l.contains("SIGHUP"))
            .expect("a SIGHUP line before the log ends")
    };
    let pid = server.0.id().to_string();

    std::fs::write(
        &table,
        "819011112222,sim\n819011112223,sim\n819011112224,sim\n",
    )
    .expect("writes");
    let reloaded = next_sighup_line(&pid);
    assert!(
        reloaded.contains("portability table reloaded"),
        "{reloaded}"
    );
    assert!(reloaded.contains("\"entries\":3"), "{reloaded}");
    assert!(reloaded.contains("\"before\":1"), "{reloaded}");

    std::fs::write(&table, "819011112222,sim\n819011112223,rakuten\n").expect("writes");
    let refused = next_sighup_line(&pid);
    assert!(refused.contains("refused"), "{refused}");
    assert!(
        refused.contains("line 2") && refused.contains("rakuten"),
        "{refused}"
    );

    let killed = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(killed.expect("kill runs").success());
    let status = server.0.wait().expect("waits");
    assert!(status.success(), "{status:?}");
}
