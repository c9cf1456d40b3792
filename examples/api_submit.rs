//! message.submit over the TCP API with durable acks, the client in this process and the
//! gateway in another: requests per second and the ack's p50/p99 (hdrhistogram), over one
//! connection and over eight, each with up to `--in-flight` requests pipelined.
//!
//! By default it starts `smsgate run` (the binary next to this example, so build both)
//! on the embedded default (the built-in simulator and the sim carrier) with a fresh data
//! directory and every address on a free port, reads the API's address from its first
//! stdout line, and stops it with SIGTERM at the end. `--gateway ADDR` measures an already
//! running gateway instead; `--tls` starts the gateway with `[api.tls]` on a fresh
//! self-signed certificate and connects over TLS (`--ca FILE` for a running one).
//!
//! ```text
//! cargo build --release --bin smsgate --example api_submit
//! target/release/examples/api_submit --messages 20000
//! target/release/examples/api_submit --messages 20000 --tls
//! target/release/examples/api_submit --gateway 127.0.0.1:7775 --token smsgate-dev-token
//! ```
//!
//! Also prints the CPU time each process used per submit (from /proc), where readable.
//!
//! `smsgate bench` (docs/performance.md, "Load generator") is the general tool: the same
//! over the API plus receipts, percentiles, pacing, scenarios, a JSON report and a chart.
//! This example stays for the figures taken with it.
// An example: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use smsgate::api::client::{Client, ClientOptions, TlsClient};
use smsgate::api::proto::SubmitParams;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
struct Args {
    /// Submits per run (split over the run's connections).
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Connection counts, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    connections: Vec<usize>,
    /// Requests in flight per connection.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Measure the gateway already listening here instead of starting one.
    #[arg(long, value_name = "ADDR")]
    gateway: Option<String>,
    /// The token (the started gateway's is the embedded default's development token).
    #[arg(long, default_value = "smsgate-dev-token")]
    token: String,
    /// TLS: the started gateway gets `[api.tls]` with a fresh self-signed certificate.
    #[arg(long)]
    tls: bool,
    /// TLS to a running gateway (`--gateway`), trusting this PEM file.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The smsgate binary to start (default: `smsgate` next to this example's directory).
    #[arg(long, value_name = "PATH")]
    smsgate: Option<PathBuf>,
}

/// The gateway process this example started; killed if the run ends early.
struct Gateway {
    child: Child,
    /// Keeps the pipe open: the gateway must not meet a closed stdout.
    _stdout: BufReader<std::process::ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts `smsgate run` in a temporary directory; returns it with the API's address and,
    /// with `tls`, the CA file to trust.
    fn start(binary: &Path, tls: bool) -> (Gateway, String, Option<PathBuf>) {
        assert!(
            binary.exists(),
            "{} is not there: cargo build --release --bin smsgate (or --smsgate PATH)",
            binary.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let free = "127.0.0.1:0";
        let mut cmd = Command::new(binary);
        cmd.current_dir(dir.path())
            .args(["run", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--api-addr", free, "--smpp-addr", free])
            .args(["--control-addr", free, "--metrics-addr", free])
            .args(["--admin-addr", free])
            // The development token's rate (1000/s) would be the figure otherwise.
            .env("SMSGATE_API__TOKENS__0__RATE", "100000")
            // No sandbox carrier: it would share the simulator's account with sim, and
            // receipts arriving on the other carrier's bind go unmatched.
            .env("SMSGATE_API__TOKENS__1__MODE", "live")
            .env("SMSGATE_LOG__FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let ca = tls.then(|| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            let (cert_file, key_file) = (dir.path().join("api.pem"), dir.path().join("api.key"));
            std::fs::write(&cert_file, cert.pem()).unwrap();
            std::fs::write(&key_file, key.serialize_pem()).unwrap();
            cmd.env("SMSGATE_API__TLS__CERT_FILE", &cert_file)
                .env("SMSGATE_API__TLS__KEY_FILE", &key_file);
            cert_file
        });
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .split("api on ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("no API address in the gateway's first line: {first:?}"))
            .to_owned();
        let gateway = Gateway {
            child,
            _stdout: stdout,
            _dir: dir,
        };
        (gateway, addr, ca)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit status (0: unbound and flushed).
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        self.child.wait().unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU time (user + system) process `pid` has used, from /proc; `None` where unreadable.
fn cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces):
    // state is field 3, utime 14 and stime 15, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn main() {
    let args = Args::parse();
    let binary = args.smsgate.clone().unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        // target/release/examples/api_submit -> target/release/smsgate
        exe.parent().and_then(Path::parent).unwrap().join("smsgate")
    });
    let (gateway, addr, ca) = match &args.gateway {
        Some(addr) => (None, addr.clone(), args.ca.clone()),
        None => {
            let (gw, addr, ca) = Gateway::start(&binary, args.tls);
            (Some(gw), addr, ca)
        }
    };
    let options = ClientOptions {
        tls: ca.map(|ca| TlsClient::from_ca_file(&ca).unwrap()),
    };
    let gateway_pid = gateway.as_ref().map(|g| g.pid().to_string());
    println!(
        "gateway {} ({}), {}; {} submits per run, {} in flight per connection",
        addr,
        if options.tls.is_some() {
            "TLS"
        } else {
            "plain TCP"
        },
        match &gateway_pid {
            Some(pid) => format!("started as pid {pid}"),
            None => "already running".into(),
        },
        args.messages,
        args.in_flight,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token: secrecy::SecretString = args.token.clone().into();
    runtime.block_on(async {
        let mut offset = 0;
        for &connections in &args.connections {
            let per = args.messages / connections;
            let clients = futures_util::future::join_all((0..connections).map(|_| {
                Client::connect_with(&addr, &token, &options)
            }))
            .await;
            let clients: Vec<Arc<Client>> = clients
                .into_iter()
                .map(|c| Arc::new(c.unwrap()))
                .collect();
            let gw_cpu = gateway_pid.as_deref().and_then(cpu);
            let own_cpu = cpu("self");
            let started = Instant::now();
            let runs = clients.iter().enumerate().map(|(c, client)| {
                let first = offset + c * per;
                let in_flight = args.in_flight;
                async move {
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
                        .buffer_unordered(in_flight);
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
            let n = all.len();
            let per_submit = |before: Option<Duration>, pid: Option<&str>| {
                let used = pid.and_then(cpu)?.checked_sub(before?)?;
                Some(format!(
                    "{:.1} s CPU, {:.0} µs/submit",
                    used.as_secs_f64(),
                    used.as_secs_f64() * 1e6 / n as f64
                ))
            };
            println!(
                "{connections} connection(s): {n} submits in {:.2} s = {:.0}/s; ack p50 {:.2} ms, p99 {:.2} ms; gateway {}; client {}",
                elapsed.as_secs_f64(),
                n as f64 / elapsed.as_secs_f64(),
                all.value_at_quantile(0.5) as f64 / 1000.0,
                all.value_at_quantile(0.99) as f64 / 1000.0,
                per_submit(gw_cpu, gateway_pid.as_deref()).unwrap_or_else(|| "-".into()),
                per_submit(own_cpu, Some("self")).unwrap_or_else(|| "-".into()),
            );
            offset += args.messages;
        }
    });
    if let Some(gw) = gateway {
        let status = gw.stop();
        println!("gateway stopped: {status}");
    }
}
