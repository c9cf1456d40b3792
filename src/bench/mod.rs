//! `smsgate bench`: the end-to-end load generator. It drives messages (or verification
//! start + check pairs) over the TCP API, over several connections with requests
//! pipelined, as fast as it can or on an open-loop schedule, against the embedded default
//! (a `smsgate run` it starts as a child) or a given gateway, and measures what the API's
//! event stream tells: accept, accept → submit and accept → receipt latencies, the rates,
//! the gateway's memory. The scenarios and the report's fields are in docs/performance.md
//! ("Load generator").

pub mod chart;
pub mod gateway;
pub mod pacing;
pub mod report;
pub mod series;
mod tracker;

use crate::admin::client::AdminClient;
use crate::api::client::{Client, ClientError, ClientOptions};
use crate::api::proto::{SubmitParams, VerifyStartParams};
use futures_util::StreamExt;
use gateway::{Rss, Started};
use hyper::Method;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pacing::Schedule;
use parking_lot::Mutex;
use report::{Cpu, GatewayInfo, Memory, Report, Settings, REPORT_VERSION};
use secrecy::SecretString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracker::{Clock, Flags, Tracker};

/// Why a run could not be made (a run that completed with messages missing is a
/// [`Report`] that is not [`Report::complete`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The gateway could not be started, or stopped badly.
    #[error("gateway: {0}")]
    Gateway(String),
    /// The API could not be reached.
    #[error("cannot connect to the API at {addr}: {reason}")]
    Connect {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The admin listener (carrier stop/start) or the simulator's control interface
    /// refused or could not be reached.
    #[error("{0}")]
    Control(String),
    /// The tokio runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Messages (or verifications) end to end: accepted, submitted, receipted.
    E2e,
    /// The carrier stopped, `bulk` bulk messages queued, the carrier started, then otp
    /// messages at a modest rate while the bulk drains: their accept → submit.
    OtpBehindBulk,
    /// The carrier stopped, the messages queued, the gateway's memory sampled as they are.
    QueuedMemory,
}

impl Scenario {
    /// Its name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::E2e => "e2e",
            Scenario::OtpBehindBulk => "otp-behind-bulk",
            Scenario::QueuedMemory => "queued-memory",
        }
    }
}

/// Messages or verifications, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `message.submit`s.
    Messages(u64),
    /// `verify.start` + `verify.check` pairs, the code read from the simulator's inbox.
    Verifications(u64),
}

/// The gateway to drive.
#[derive(Debug, Clone)]
pub enum Target {
    /// Start `binary run` on the embedded default.
    Embedded {
        /// The smsgate binary (normally this one).
        binary: PathBuf,
    },
    /// One already running.
    Given {
        /// The API (`host:port`).
        api: String,
        /// TLS or plain TCP.
        options: ClientOptions,
        /// Its process, to read its memory.
        pid: Option<u32>,
        /// Its admin listener (`http://host:port`).
        admin: String,
        /// Its built-in simulator's control interface (`http://host:port`).
        control: String,
    },
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// What to send.
    pub workload: Workload,
    /// The scenario.
    pub scenario: Scenario,
    /// The target rate (a second); `None`: as fast as possible.
    pub rate: Option<f64>,
    /// Connections to send over.
    pub connections: usize,
    /// Requests in flight per connection.
    pub in_flight: usize,
    /// Bulk messages queued first (otp-behind-bulk).
    pub bulk: u64,
    /// The gateway.
    pub target: Target,
    /// The API token.
    pub token: SecretString,
    /// The admin token (full access: it stops and starts the carrier).
    pub admin_token: SecretString,
    /// The carrier the scenarios stop and start.
    pub carrier: String,
    /// How long to wait for the last receipts (and submits).
    pub receipts_timeout: Duration,
    /// queued-memory: let the queue drain (and wait for its receipts) at the end.
    pub drain: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

/// What the run reached, whatever the target.
struct Endpoints {
    api: String,
    options: ClientOptions,
    pid: Option<u32>,
    admin: Option<String>,
    control: Option<String>,
}

/// Runs the bench and returns its report.
///
/// # Errors
/// [`BenchError`] when the gateway cannot be started or reached, or a scenario's carrier
/// cannot be stopped or started.
pub fn run(options: &Options) -> Result<Report, BenchError> {
    let (started, endpoints) = match &options.target {
        Target::Embedded { binary } => {
            let queued = match options.workload {
                Workload::Messages(n) | Workload::Verifications(n) => n + options.bulk,
            };
            let started = Started::start(binary, &gateway::child_env(queued + 10_000))?;
            let endpoints = Endpoints {
                api: started.addresses.api.clone(),
                options: ClientOptions::default(),
                pid: Some(started.pid()),
                admin: started.addresses.admin.clone(),
                control: started.addresses.control.clone(),
            };
            (Some(started), endpoints)
        }
        Target::Given {
            api,
            options,
            pid,
            admin,
            control,
        } => (
            None,
            Endpoints {
                api: api.clone(),
                options: options.clone(),
                pid: *pid,
                admin: Some(admin.clone()),
                control: Some(control.clone()),
            },
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        // The client's side is light (about 10 µs of CPU a request): a few threads.
        .worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 4),
        )
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    let result = runtime.block_on(drive(options, &endpoints, started.is_some()));
    drop(runtime);
    let mut report = result?;
    if let Some(started) = started {
        report.gateway.clean_exit = Some(started.stop()?);
    }
    Ok(report)
}

/// The progress bar of a phase (hidden unless asked for).
fn bar(options: &Options, len: u64, what: &str) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>18} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// The destination of message `i` of the run (each its own number).
fn number(base: u64, i: u64) -> String {
    format!("8190{:08}", (base + i) % 100_000_000)
}

async fn connect(endpoints: &Endpoints, token: &SecretString) -> Result<Client, BenchError> {
    Client::connect_with(&endpoints.api, token, &endpoints.options)
        .await
        .map_err(|e| BenchError::Connect {
            addr: endpoints.api.clone(),
            reason: e.to_string(),
        })
}

/// POST /carriers/NAME/stop|start on the admin listener (done already is fine).
async fn carrier(endpoints: &Endpoints, options: &Options, verb: &str) -> Result<(), BenchError> {
    let admin = endpoints.admin.as_deref().ok_or_else(|| {
        BenchError::Control("the gateway has no admin listener to stop the carrier with".into())
    })?;
    let client = AdminClient::new(admin, options.admin_token.clone())
        .map_err(|e| BenchError::Control(e.to_string()))?;
    let path = format!("/carriers/{}/{verb}", options.carrier);
    let answer = client
        .request(Method::POST, &path)
        .await
        .map_err(|e| BenchError::Control(e.to_string()))?;
    if answer.status == 200 || answer.status == 409 {
        Ok(())
    } else {
        Err(BenchError::Control(format!(
            "POST {path} on the admin listener answered {}: {}",
            answer.status, answer.body
        )))
    }
}

/// The error code a failed request is counted under.
fn error_code(e: &ClientError) -> String {
    match e {
        ClientError::Api(api) => serde_json::to_value(api.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "api".into()),
        ClientError::Closed(_) | ClientError::Io(_) => "connection".into(),
        _ => "protocol".into(),
    }
}

/// What every request of a run shares.
struct Ctx<'a> {
    tracker: Arc<Mutex<Tracker>>,
    clock: Clock,
    options: &'a Options,
    /// Where the run's destinations start.
    base: u64,
}

/// One phase of messages: `count` submits of `class` over `clients`, on `schedule`.
struct Phase<'a> {
    clients: &'a [Arc<Client>],
    in_flight: usize,
    schedule: Schedule,
    class: &'static str,
    first: u64,
    count: u64,
    flags: Flags,
    label: &'static str,
}

async fn send_messages(phase: Phase<'_>, ctx: &Ctx<'_>) {
    let (tracker, clock, base) = (&ctx.tracker, &ctx.clock, ctx.base);
    let progress = bar(ctx.options, phase.count, phase.label);
    let started = Instant::now();
    let w = phase.clients.len().max(1) as u64;
    let runs = phase.clients.iter().enumerate().map(|(c, client)| {
        let progress = progress.clone();
        let phase = &phase;
        async move {
            let mine = (c as u64..phase.count).step_by(w as usize);
            futures_util::stream::iter(mine)
                .map(|k| {
                    let client = client.clone();
                    let progress = progress.clone();
                    async move {
                        let due = phase.schedule.due(k).map(|d| started + d);
                        if let Some(due) = due {
                            tokio::time::sleep_until(due.into()).await;
                        }
                        let i = phase.first + k;
                        let params = SubmitParams {
                            to: format!("+{}", number(base, i)),
                            text: format!("smsgate bench {i}"),
                            from: None,
                            encoding: None,
                            validity: None,
                            client_ref: None,
                            class: Some(phase.class.into()),
                            receipts: None,
                        };
                        let sent = due.unwrap_or_else(Instant::now);
                        let answer = client.submit(&params).await;
                        let now = clock.us(Instant::now());
                        let mut t = tracker.lock();
                        t.counts.sent += 1;
                        match answer {
                            Ok(r) => t.accepted(&r.message_id, clock.us(sent), now, phase.flags),
                            Err(e) => t.error(&error_code(&e)),
                        }
                        drop(t);
                        progress.inc(1);
                    }
                })
                .buffer_unordered(phase.in_flight.max(1))
                .collect::<()>()
                .await;
        }
    });
    futures_util::future::join_all(runs).await;
    progress.finish_and_clear();
}

/// The code in an SMS's text: its longest run of digits.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .max_by_key(|run| run.len())
        .unwrap_or_default()
        .to_owned()
}

/// The newest text at `number`'s handset in the simulator, waiting a little for it.
async fn inbox_text(control: &AdminClient, number: &str) -> Option<String> {
    let path = format!("/inbox/{number}");
    for attempt in 0..40u64 {
        if let Ok(answer) = control.request(Method::GET, &path).await {
            let text = answer
                .body
                .as_array()
                .and_then(|messages| messages.last())
                .and_then(|m| m["text"].as_str())
                .map(str::to_owned);
            if text.is_some() {
                return text;
            }
        }
        // The submitted event came first; the inbox is written as the SMS arrives.
        tokio::time::sleep(Duration::from_millis(5 * (attempt + 1).min(20))).await;
    }
    None
}

async fn send_verifications(
    clients: &[Arc<Client>],
    count: u64,
    in_flight: usize,
    control: &AdminClient,
    ctx: &Ctx<'_>,
) {
    let schedule = Schedule::new(ctx.options.rate);
    let progress = bar(ctx.options, count, "verifications");
    let started = Instant::now();
    let w = clients.len().max(1);
    let runs = clients.iter().enumerate().map(|(c, client)| {
        let progress = progress.clone();
        async move {
            futures_util::stream::iter((c as u64..count).step_by(w))
                .map(|i| {
                    let client = client.clone();
                    let progress = progress.clone();
                    async move {
                        let due = schedule.due(i).map(|d| started + d);
                        if let Some(due) = due {
                            tokio::time::sleep_until(due.into()).await;
                        }
                        let sent = due.unwrap_or_else(Instant::now);
                        pair(&client, i, sent, control, ctx).await;
                        progress.inc(1);
                    }
                })
                .buffer_unordered(in_flight.max(1))
                .collect::<()>()
                .await;
        }
    });
    futures_util::future::join_all(runs).await;
    progress.finish_and_clear();
}

/// One verification: start, the code from the handset, check.
async fn pair(client: &Client, i: u64, sent: Instant, control: &AdminClient, ctx: &Ctx<'_>) {
    let (tracker, clock) = (&ctx.tracker, &ctx.clock);
    let to = number(ctx.base, i);
    let started = client
        .verify_start(&VerifyStartParams::new(format!("+{to}")))
        .await;
    let answered = Instant::now();
    tracker.lock().counts.sent += 1;
    let started = match started {
        Ok(s) => s,
        Err(e) => return tracker.lock().error(&error_code(&e)),
    };
    tracker
        .lock()
        .verify_started(clock.us(sent), clock.us(answered));
    let Some(message_id) = started.message_id else {
        return tracker.lock().error("no_sms");
    };
    let arrived = tracker.lock().watch(&message_id, clock.us(answered));
    if tokio::time::timeout(ctx.options.receipts_timeout, arrived)
        .await
        .is_err()
    {
        return tracker.lock().error("no_sms");
    }
    let Some(text) = inbox_text(control, &to).await else {
        return tracker.lock().error("no_sms");
    };
    let code: SecretString = code_in(&text).into();
    let check_sent = Instant::now();
    let checked = client.verify_check(&started.verification_id, &code).await;
    let now = Instant::now();
    match checked {
        Ok(r) => tracker.lock().verify_checked(
            r.approved(),
            clock.us(sent),
            clock.us(check_sent),
            clock.us(now),
        ),
        Err(e) => tracker.lock().error(&error_code(&e)),
    }
}

/// Follows the event log from `cursor`, resuming by cursor when cut off, until aborted.
async fn follow(
    endpoints: Arc<Endpoints>,
    token: SecretString,
    mut cursor: u64,
    tracker: Arc<Mutex<Tracker>>,
    clock: Clock,
) {
    loop {
        if let Ok(client) = connect(&endpoints, &token).await {
            if let Ok(mut sub) = client.subscribe(cursor).await {
                while let Ok(line) = sub.next().await {
                    cursor = line.cursor;
                    tracker.lock().event(&line, &clock);
                }
            }
        }
        tracker.lock().counts.event_resubscribes += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Samples the gateway's RSS into the series each second, until aborted.
async fn sample_memory(pid: u32, tracker: Arc<Mutex<Tracker>>, clock: Clock) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Some(rss) = Rss::of(pid) {
            tracker
                .lock()
                .series
                .rss(clock.us(Instant::now()), rss.rss_kib);
        }
    }
}

/// Waits until every awaited message is final (or the timeout).
async fn wait_for_receipts(tracker: &Arc<Mutex<Tracker>>, options: &Options) {
    let awaited = tracker.lock().awaited;
    let progress = bar(options, awaited, "receipts");
    let deadline = Instant::now() + options.receipts_timeout;
    loop {
        let (open, unsubmitted) = {
            let t = tracker.lock();
            (t.open, t.unsubmitted)
        };
        progress.set_position(awaited.saturating_sub(open));
        if (open == 0 && unsubmitted == 0) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    progress.finish_and_clear();
}

async fn drive(
    options: &Options,
    endpoints: &Endpoints,
    started: bool,
) -> Result<Report, BenchError> {
    // Where the event log is now: a subscription from there sees only this run's events.
    let probe = connect(endpoints, &options.token).await?;
    let last = probe
        .subscribe(u64::MAX)
        .await
        .map_err(|e| BenchError::Connect {
            addr: endpoints.api.clone(),
            reason: format!("events.subscribe: {e}"),
        })?
        .result
        .last;
    drop(probe);
    let connections = options.connections.max(1);
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        clients.push(Arc::new(connect(endpoints, &options.token).await?));
    }
    // The gateway's own limit on requests in flight per connection.
    let limit = clients
        .first()
        .map(|c| c.hello().max_in_flight)
        .filter(|&m| m > 0)
        .unwrap_or(options.in_flight);
    let in_flight = options.in_flight.clamp(1, limit.max(1));
    let shared = Arc::new(Endpoints {
        api: endpoints.api.clone(),
        options: endpoints.options.clone(),
        pid: endpoints.pid,
        admin: endpoints.admin.clone(),
        control: endpoints.control.clone(),
    });
    // The run's time starts once the connections are up.
    let clock = Clock::start();
    let tracker = Arc::new(Mutex::new(Tracker::new(endpoints.pid)));
    let follower = tokio::spawn(follow(
        shared,
        options.token.clone(),
        last,
        tracker.clone(),
        clock.clone(),
    ));
    let sampler = endpoints
        .pid
        .map(|pid| tokio::spawn(sample_memory(pid, tracker.clone(), clock.clone())));
    // Destinations start at a random point, so runs against one gateway do not meet each
    // other's per-number limits.
    let base = if started {
        0
    } else {
        rand::random::<u64>() % 50_000_000
    };
    let ctx = Ctx {
        tracker: tracker.clone(),
        clock: clock.clone(),
        options,
        base,
    };
    let (mut messages, mut verifications) = (0, 0);
    let pid = endpoints.pid.map(|p| p.to_string());
    let cpu_before = (pid.as_deref().and_then(gateway::cpu), gateway::cpu("self"));
    let send_start = Instant::now();
    match (options.workload, options.scenario) {
        (Workload::Verifications(n), _) => {
            verifications = n;
            let control = endpoints.control.as_deref().ok_or_else(|| {
                BenchError::Control("no simulator control interface to read the codes from".into())
            })?;
            let control = AdminClient::new(control, SecretString::from(String::new()))
                .map_err(|e| BenchError::Control(e.to_string()))?;
            send_verifications(&clients, n, in_flight, &control, &ctx).await;
        }
        (Workload::Messages(n), Scenario::E2e) => {
            messages = n;
            let phase = Phase {
                clients: &clients,
                in_flight,
                schedule: Schedule::new(options.rate),
                class: "bulk",
                first: 0,
                count: n,
                flags: Flags::awaited(),
                label: "messages",
            };
            send_messages(phase, &ctx).await;
        }
        (Workload::Messages(n), Scenario::OtpBehindBulk) => {
            messages = n;
            carrier(endpoints, options, "stop").await?;
            let bulk = Phase {
                clients: &clients,
                in_flight,
                schedule: Schedule::Unpaced,
                class: "bulk",
                first: 0,
                count: options.bulk,
                flags: Flags::background(),
                label: "queueing bulk",
            };
            send_messages(bulk, &ctx).await;
            carrier(endpoints, options, "start").await?;
            let otp = Phase {
                clients: &clients,
                in_flight,
                schedule: Schedule::new(options.rate.or(Some(50.0))),
                class: "otp",
                first: options.bulk,
                count: n,
                flags: Flags::otp(),
                label: "otp",
            };
            send_messages(otp, &ctx).await;
        }
        (Workload::Messages(n), Scenario::QueuedMemory) => {
            messages = n;
            carrier(endpoints, options, "stop").await?;
            tracker.lock().memory_points(n);
            let phase = Phase {
                clients: &clients,
                in_flight,
                schedule: Schedule::new(options.rate),
                class: "bulk",
                first: 0,
                count: n,
                flags: if options.drain {
                    Flags::awaited()
                } else {
                    Flags::background()
                },
                label: "queueing",
            };
            send_messages(phase, &ctx).await;
            carrier(endpoints, options, "start").await?;
        }
    }
    let send_duration = send_start.elapsed();
    wait_for_receipts(&tracker, options).await;
    let duration = send_start.elapsed();
    let used = |before: Option<Duration>, pid: Option<&str>| {
        Some(gateway::cpu(pid?)?.checked_sub(before?)?.as_secs_f64())
    };
    let gateway_cpu = used(cpu_before.0, pid.as_deref());
    follower.abort();
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let end = endpoints.pid.and_then(Rss::of);
    let mut t = tracker.lock();
    let (counts, rates, latencies, series) = t.finish(&clock);
    let samples = std::mem::take(&mut t.memory_samples);
    drop(t);
    let cpu = Cpu {
        gateway_s: gateway_cpu,
        bench_s: used(cpu_before.1, Some("self")),
        gateway_us_per_request: gateway_cpu
            .filter(|_| counts.sent > 0)
            .map(|s| s * 1e6 / counts.sent as f64),
    };
    Ok(Report {
        version: REPORT_VERSION,
        mode: match options.workload {
            Workload::Messages(_) => "messages".into(),
            Workload::Verifications(_) => "verifications".into(),
        },
        scenario: options.scenario.name().into(),
        gateway: GatewayInfo {
            address: endpoints.api.clone(),
            started,
            pid: endpoints.pid,
            tls: endpoints.options.tls.is_some(),
            clean_exit: None,
        },
        settings: Settings {
            messages,
            verifications,
            bulk: if options.scenario == Scenario::OtpBehindBulk {
                options.bulk
            } else {
                0
            },
            rate: match (options.scenario, options.rate) {
                (Scenario::OtpBehindBulk, None) => Some(50.0),
                (_, rate) => rate,
            },
            connections,
            in_flight,
            receipts_timeout_s: options.receipts_timeout.as_secs_f64(),
        },
        started_at_ms: clock.start_unix_us / 1000,
        duration_s: duration.as_secs_f64(),
        send_duration_s: send_duration.as_secs_f64(),
        counts,
        throughput: rates,
        latency_ms: latencies,
        memory: Memory {
            peak_rss_kib: end.map(|r| r.hwm_kib),
            end_rss_kib: end.map(|r| r.rss_kib),
            samples,
        },
        cpu,
        series,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_longest_run_of_digits() {
        assert_eq!(code_in("Your login code is 482913. Valid 5 min."), "482913");
        assert_eq!(code_in("no code"), "");
    }

    #[test]
    fn each_message_has_its_own_number() {
        assert_eq!(number(0, 7), "819000000007");
        assert_eq!(number(99_999_999, 2), "819000000001", "wraps in 8 digits");
        assert_ne!(number(5, 1), number(5, 2));
    }
}
