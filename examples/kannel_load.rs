//! The Kannel side of bench/kannel.sh: sends N messages through a running smsbox's HTTP
//! sendsms interface, each with `dlr-mask=1` (delivered) and a `dlr-url` pointing at an
//! HTTP receiver this program serves, and counts what comes back.
//!
//! Sends run over `--connections` keep-alive HTTP/1.1 connections, one request at a time
//! each (sendsms answers `202` when it accepted a message). Each message's `dlr-url`
//! carries its number (`/dlr?n=I&t=%d`; Kannel puts the report type in `%d`), so a
//! receipt is matched to its message and duplicates are seen. It waits for the receipts
//! until every accepted message has one or none arrived for `--dlr-idle` seconds.
//!
//! Prints (or with `--json` writes as one JSON object) accepted/s (first send to last
//! answer), receipts/s (first send to last delivered receipt), the receipts' end-to-end
//! latency (send to receipt) p50/p99, and what is missing.
//!
//! ```text
//! cargo build --release --example kannel_load
//! target/release/examples/kannel_load --sendsms http://127.0.0.1:13013/cgi-bin/sendsms \
//!     --username bench --password bench --messages 5000 --json
//! ```
//!
//! Exit codes: 0 every accepted message got its delivered receipt, 3 some are missing (or
//! nothing was accepted), 1 a failure (a connection that cannot be made, a bad argument).
// An example: a failure is reported by a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Parser, Debug)]
struct Args {
    /// smsbox's sendsms URL.
    #[arg(long, default_value = "http://127.0.0.1:13013/cgi-bin/sendsms")]
    sendsms: String,
    /// The sendsms-user's username.
    #[arg(long, default_value = "bench")]
    username: String,
    /// The sendsms-user's password.
    #[arg(long, default_value = "bench")]
    password: String,
    /// The smsc-id to send through (`smsc=`); none: Kannel's routing.
    #[arg(long)]
    smsc: Option<String>,
    /// Messages to send.
    #[arg(long, default_value_t = 5_000)]
    messages: usize,
    /// Keep-alive connections to sendsms, one request in flight each.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Where the dlr-url receiver listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    dlr_listen: SocketAddr,
    /// Stop waiting for receipts after this many seconds without one.
    #[arg(long, default_value_t = 20)]
    dlr_idle: u64,
    /// Destinations: this prefix and the message's number, 12 digits in all.
    #[arg(long, default_value = "8190")]
    to_prefix: String,
    /// The sender.
    #[arg(long, default_value = "SMSGATE")]
    from: String,
    /// One JSON object on stdout instead of the text lines.
    #[arg(long)]
    json: bool,
}

/// The receipts as they come: per message 0 none yet, 1 delivered.
struct Receipts {
    state: Vec<AtomicU8>,
    /// When each message was sent, in µs after `start` (for the latency).
    sent_us: Vec<AtomicU64>,
    start: Instant,
    delivered: AtomicUsize,
    duplicates: AtomicUsize,
    /// Reports of another type than 1 (delivered), or that name no message.
    other: AtomicUsize,
    /// µs after `start` of the last delivered receipt.
    last_us: AtomicU64,
    latency: Mutex<Histogram<u64>>,
    arrived: Notify,
}

impl Receipts {
    fn on_report(&self, query: &str) {
        let mut n = None;
        let mut t = None;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("n", v)) => n = v.parse::<usize>().ok(),
                Some(("t", v)) => t = v.parse::<u32>().ok(),
                _ => {}
            }
        }
        let now_us = self.start.elapsed().as_micros() as u64;
        match (n, t) {
            (Some(n), Some(1)) if n < self.state.len() => {
                if self.state[n].swap(1, Ordering::AcqRel) == 1 {
                    self.duplicates.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                self.delivered.fetch_add(1, Ordering::AcqRel);
                self.last_us.fetch_max(now_us, Ordering::AcqRel);
                let sent = self.sent_us[n].load(Ordering::Acquire);
                let _ = self
                    .latency
                    .lock()
                    .unwrap()
                    .record(now_us.saturating_sub(sent).max(1));
                self.arrived.notify_one();
            }
            _ => {
                self.other.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Serves the dlr-url: every GET is a report; answers 200.
async fn serve_reports(listener: TcpListener, receipts: Arc<Receipts>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let receipts = receipts.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let receipts = receipts.clone();
                async move {
                    receipts.on_report(req.uri().query().unwrap_or_default());
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(
                        b"ok",
                    ))))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `value` percent-encoded for a query string (unreserved characters kept).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// What the senders saw.
#[derive(Default)]
struct Sent {
    accepted: AtomicUsize,
    refused: AtomicUsize,
    errors: AtomicUsize,
    /// µs after start of the last answer.
    last_us: AtomicU64,
    /// The first refusals' status and body, to show.
    samples: Mutex<Vec<String>>,
}

struct Target {
    addr: String,
    host: String,
    path: String,
}

fn target(url: &str) -> Target {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("--sendsms must be an http:// URL: {url}"));
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/cgi-bin/sendsms"),
    };
    Target {
        addr: authority.to_owned(),
        host: authority.to_owned(),
        path: path.to_owned(),
    }
}

async fn connect(target: &Target) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(&target.addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to sendsms at {}: {e}", target.addr));
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

#[allow(clippy::too_many_arguments)]
async fn sender(
    target: Arc<Target>,
    args: Arc<Args>,
    dlr_base: Arc<String>,
    next: Arc<AtomicUsize>,
    sent: Arc<Sent>,
    receipts: Arc<Receipts>,
) {
    let mut conn = connect(&target).await;
    let auth = format!(
        "username={}&password={}&from={}&dlr-mask=1{}",
        encode(&args.username),
        encode(&args.password),
        encode(&args.from),
        args.smsc
            .as_ref()
            .map(|s| format!("&smsc={}", encode(s)))
            .unwrap_or_default()
    );
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= args.messages {
            return;
        }
        let digits = 12usize.saturating_sub(args.to_prefix.len());
        let to = format!(
            "{}{:0digits$}",
            args.to_prefix,
            i % 10usize.pow(digits as u32)
        );
        let dlr_url = format!("{dlr_base}?n={i}&t=%d");
        let uri = format!(
            "{}?{auth}&to={to}&text={}&dlr-url={}",
            target.path,
            encode(&format!("kannel bench {i}")),
            encode(&dlr_url)
        );
        let request = || {
            Request::get(uri.as_str())
                .header(hyper::header::HOST, target.host.as_str())
                .body(Empty::<Bytes>::new())
                .unwrap()
        };
        receipts.sent_us[i].store(
            receipts.start.elapsed().as_micros() as u64,
            Ordering::Release,
        );
        let mut answer = conn.send_request(request()).await;
        if answer.is_err() {
            // The connection was closed under us: once more on a new one.
            conn = connect(&target).await;
            answer = conn.send_request(request()).await;
        }
        let now_us = |r: &Receipts| r.start.elapsed().as_micros() as u64;
        match answer {
            Ok(response) => {
                let status = response.status();
                let body = response.into_body().collect().await.map(|b| b.to_bytes());
                sent.last_us.fetch_max(now_us(&receipts), Ordering::AcqRel);
                if status == StatusCode::ACCEPTED {
                    sent.accepted.fetch_add(1, Ordering::Relaxed);
                } else {
                    sent.refused.fetch_add(1, Ordering::Relaxed);
                    let mut samples = sent.samples.lock().unwrap();
                    if samples.len() < 5 {
                        let body = body.map(|b| String::from_utf8_lossy(&b).into_owned());
                        samples.push(format!("{status}: {}", body.unwrap_or_default().trim()));
                    }
                }
            }
            Err(e) => {
                sent.errors.fetch_add(1, Ordering::Relaxed);
                {
                    let mut samples = sent.samples.lock().unwrap();
                    if samples.len() < 5 {
                        samples.push(format!("error: {e}"));
                    }
                }
                conn = connect(&target).await;
            }
        }
    }
}

fn main() {
    let args = Arc::new(Args::parse());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(run(args));
    std::process::exit(code);
}

async fn run(args: Arc<Args>) -> i32 {
    let target = Arc::new(target(&args.sendsms));
    let listener = TcpListener::bind(args.dlr_listen)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {} for the dlr-url: {e}", args.dlr_listen));
    let dlr_addr = listener.local_addr().unwrap();
    let dlr_base = Arc::new(format!("http://{dlr_addr}/dlr"));
    let receipts = Arc::new(Receipts {
        state: (0..args.messages).map(|_| AtomicU8::new(0)).collect(),
        sent_us: (0..args.messages).map(|_| AtomicU64::new(0)).collect(),
        start: Instant::now(),
        delivered: AtomicUsize::new(0),
        duplicates: AtomicUsize::new(0),
        other: AtomicUsize::new(0),
        last_us: AtomicU64::new(0),
        latency: Mutex::new(Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap()),
        arrived: Notify::new(),
    });
    tokio::spawn(serve_reports(listener, receipts.clone()));
    if !args.json {
        println!(
            "kannel_load: {} messages to {} over {} connections; dlr-url {dlr_base}",
            args.messages, args.sendsms, args.connections
        );
    }
    let next = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(Sent::default());
    let tasks: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            tokio::spawn(sender(
                target.clone(),
                args.clone(),
                dlr_base.clone(),
                next.clone(),
                sent.clone(),
                receipts.clone(),
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let accepted = sent.accepted.load(Ordering::Acquire);
    // The receipts: until each accepted message has one, or none came for dlr_idle.
    let idle = Duration::from_secs(args.dlr_idle);
    loop {
        let arrived = receipts.arrived.notified();
        if receipts.delivered.load(Ordering::Acquire) >= accepted {
            break;
        }
        if tokio::time::timeout(idle, arrived).await.is_err() {
            break;
        }
    }
    let secs = |us: u64| us as f64 / 1e6;
    let accept_secs = secs(sent.last_us.load(Ordering::Acquire));
    let delivered = receipts.delivered.load(Ordering::Acquire);
    let receipt_secs = secs(receipts.last_us.load(Ordering::Acquire));
    let rate = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    let latency = receipts.latency.lock().unwrap().clone();
    let ms = |q: f64| {
        if latency.is_empty() {
            0.0
        } else {
            latency.value_at_quantile(q) as f64 / 1e3
        }
    };
    let missing = accepted.saturating_sub(delivered);
    let report = serde_json::json!({
        "system": "kannel",
        "messages": args.messages,
        "connections": args.connections,
        "accepted": accepted,
        "refused": sent.refused.load(Ordering::Acquire),
        "errors": sent.errors.load(Ordering::Acquire),
        "accept_secs": accept_secs,
        "accepted_per_sec": rate(accepted, accept_secs),
        "receipts": delivered,
        "receipt_secs": receipt_secs,
        "receipts_per_sec": rate(delivered, receipt_secs),
        "receipt_latency_ms": {"p50": ms(0.5), "p99": ms(0.99)},
        "missing": missing,
        "duplicate_receipts": receipts.duplicates.load(Ordering::Acquire),
        "other_reports": receipts.other.load(Ordering::Acquire),
        "refusal_samples": *sent.samples.lock().unwrap(),
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "accepted {accepted} of {} in {accept_secs:.2} s = {:.0}/s ({} refused, {} errors)",
            args.messages,
            rate(accepted, accept_secs),
            report["refused"],
            report["errors"]
        );
        println!(
            "receipts {delivered} in {receipt_secs:.2} s = {:.0}/s; latency p50 {:.1} ms p99 {:.1} ms; {missing} missing, {} duplicates, {} other",
            rate(delivered, receipt_secs),
            ms(0.5),
            ms(0.99),
            report["duplicate_receipts"],
            report["other_reports"]
        );
        for s in sent.samples.lock().unwrap().iter() {
            println!("  refused: {s}");
        }
    }
    if missing == 0 && accepted > 0 {
        0
    } else {
        3
    }
}
