//! Logs and metrics: the `tracing` subscriber (a `RUST_LOG`-style filter, text or JSON lines)
//! and the Prometheus recorder with its `/metrics` listener, plus the names of every metric
//! the gateway exports, so a dashboard and the code cannot drift apart.

use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How log lines are written: `log.format` in the configuration (`"text"` or `"json"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Why logging or metrics could not be set up.
#[derive(Debug, Error)]
pub enum TelemetryError {
    /// The log filter does not parse.
    #[error("log filter {filter:?}: {reason}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// What the parser said.
        reason: String,
    },
    /// A global subscriber or recorder is already installed.
    #[error("{0} is already installed")]
    AlreadyInstalled(&'static str),
    /// The Prometheus recorder could not be built or installed.
    #[error("metrics: {reason}")]
    Metrics {
        /// What went wrong.
        reason: String,
    },
}

/// Installs the global `tracing` subscriber. `filter` is an `EnvFilter` directive string
/// (`info`, `smsgate=debug,sled=warn`); `RUST_LOG`, when set, wins over it.
pub fn init_logging(filter: &str, format: LogFormat) -> Result<(), TelemetryError> {
    use tracing_subscriber::EnvFilter;
    let env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directives = env.as_deref().unwrap_or(filter);
    let filter_layer = EnvFilter::try_new(directives).map_err(|e| TelemetryError::Filter {
        filter: directives.to_owned(),
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter_layer)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadyInstalled("a tracing subscriber"))
}

/// Installs the global Prometheus recorder and describes every metric in [`names`]. The
/// returned handle renders the exposition text; [`serve_metrics`] answers `/metrics` with it.
pub fn init_metrics() -> Result<PrometheusHandle, TelemetryError> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let err = |reason: String| TelemetryError::Metrics { reason };
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .map_err(|e| err(e.to_string()))?
        .install_recorder()
        .map_err(|e| err(e.to_string()))?;
    describe();
    Ok(handle)
}

/// Serves `GET /metrics` on `listener` until `shutdown` resolves, and runs the recorder's
/// upkeep meanwhile.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::routing::get;
    // Histogram samples wait in the recorder until a render or an upkeep folds them into
    // their buckets: without a scraper they would grow with every message.
    let upkeep = handle.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move { handle.render() }
        }),
    );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    served
}

/// How often the recorder's pending histogram samples are folded in when nobody scrapes.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Histogram buckets for the latency metrics, in seconds: 100 µs to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The metric names, one constant each; labels are given where each is recorded.
pub mod names {
    /// Gauge: binds of a carrier that are bound now (label `carrier`).
    pub const BINDS_UP: &str = "smsgate_binds_up";
    /// Counter: bind state changes (labels `carrier`, `state`).
    pub const BIND_EVENTS: &str = "smsgate_bind_events_total";
    /// Counter: messages accepted (durably) from callers (label `class`).
    pub const ACCEPTED: &str = "smsgate_messages_accepted_total";
    /// Counter: submits refused at accept (label `reason`).
    pub const REFUSED: &str = "smsgate_messages_refused_total";
    /// Counter: submit_sm PDUs sent (label `carrier`).
    pub const SUBMITS: &str = "smsgate_submits_total";
    /// Counter: submit_sm_resp received (labels `carrier`, `status`).
    pub const SUBMIT_RESPONSES: &str = "smsgate_submit_responses_total";
    /// Counter: delivery receipts received (labels `carrier`, `state`).
    pub const RECEIPTS: &str = "smsgate_receipts_total";
    /// Counter: receipts that matched no message when they arrived (label `carrier`).
    pub const RECEIPTS_UNMATCHED: &str = "smsgate_receipts_unmatched_total";
    /// Counter: mobile-originated messages received (label `carrier`).
    pub const MO: &str = "smsgate_mo_total";
    /// Counter: messages that reached a final state (label `state`).
    pub const FINAL: &str = "smsgate_messages_final_total";
    /// Counter: final messages and events removed past their retention (label `what`:
    /// `messages`, `events`).
    pub const RETENTION_REMOVED: &str = "smsgate_retention_removed_total";
    /// Gauge: messages waiting to be submitted (labels `carrier`, `class`).
    pub const QUEUE_DEPTH: &str = "smsgate_queue_depth";
    /// Gauge: PDUs in flight on a carrier's binds (label `carrier`).
    pub const WINDOW_IN_USE: &str = "smsgate_window_in_use";
    /// Histogram: submit_sm to its submit_sm_resp, seconds (label `carrier`).
    pub const SUBMIT_LATENCY: &str = "smsgate_submit_latency_seconds";
    /// Histogram: accept to the final receipt, seconds (label `carrier`).
    pub const RECEIPT_LATENCY: &str = "smsgate_receipt_latency_seconds";
    /// Histogram: accept to the durable acknowledgement, seconds.
    pub const ACCEPT_LATENCY: &str = "smsgate_accept_latency_seconds";
    /// Counter: webhook POSTs made (label `outcome`: `acked`, `retry`, `rejected`).
    pub const WEBHOOK_ATTEMPTS: &str = "smsgate_webhook_attempts_total";
    /// Counter: webhooks acknowledged by their receiver.
    pub const WEBHOOK_ACKED: &str = "smsgate_webhook_acked_total";
    /// Counter: webhooks that became dead letters.
    pub const WEBHOOK_DEAD_LETTERS: &str = "smsgate_webhook_dead_letters_total";
    /// Counter: dead letters replayed.
    pub const WEBHOOK_REPLAYED: &str = "smsgate_webhook_replayed_total";
    /// Gauge: webhooks waiting for an attempt or its answer.
    pub const WEBHOOK_PENDING: &str = "smsgate_webhook_pending";
    /// Gauge: dead letters kept.
    pub const WEBHOOK_DEAD: &str = "smsgate_webhook_dead_letters_kept";

    /// Every name above but the webhook ones (contrib/grafana's dashboard is checked
    /// against it; it has no webhook panel yet).
    pub const ALL: &[&str] = &[
        BINDS_UP,
        BIND_EVENTS,
        ACCEPTED,
        REFUSED,
        SUBMITS,
        SUBMIT_RESPONSES,
        RECEIPTS,
        RECEIPTS_UNMATCHED,
        MO,
        FINAL,
        RETENTION_REMOVED,
        QUEUE_DEPTH,
        WINDOW_IN_USE,
        SUBMIT_LATENCY,
        RECEIPT_LATENCY,
        ACCEPT_LATENCY,
        WEBHOOK_ATTEMPTS,
        WEBHOOK_ACKED,
        WEBHOOK_DEAD_LETTERS,
        WEBHOOK_REPLAYED,
        WEBHOOK_PENDING,
        WEBHOOK_DEAD,
    ];
}

/// Describes every metric of [`names`] to the installed recorder.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(names::BINDS_UP, "Binds of a carrier that are bound now");
    describe_counter!(names::BIND_EVENTS, "Bind state changes");
    describe_counter!(names::ACCEPTED, "Messages accepted durably from callers");
    describe_counter!(names::REFUSED, "Submits refused at accept");
    describe_counter!(names::SUBMITS, "submit_sm PDUs sent");
    describe_counter!(
        names::SUBMIT_RESPONSES,
        "submit_sm_resp received, by status"
    );
    describe_counter!(names::RECEIPTS, "Delivery receipts received, by state");
    describe_counter!(
        names::RECEIPTS_UNMATCHED,
        "Receipts that matched no message when they arrived"
    );
    describe_counter!(names::MO, "Mobile-originated messages received");
    describe_counter!(names::FINAL, "Messages that reached a final state");
    describe_counter!(
        names::RETENTION_REMOVED,
        "Final messages and events removed past their retention"
    );
    describe_gauge!(names::QUEUE_DEPTH, "Messages waiting to be submitted");
    describe_gauge!(names::WINDOW_IN_USE, "PDUs in flight on a carrier's binds");
    describe_histogram!(
        names::SUBMIT_LATENCY,
        Unit::Seconds,
        "submit_sm to submit_sm_resp"
    );
    describe_histogram!(
        names::RECEIPT_LATENCY,
        Unit::Seconds,
        "Accept to the final receipt"
    );
    describe_counter!(names::WEBHOOK_ATTEMPTS, "Webhook POSTs made, by outcome");
    describe_counter!(
        names::WEBHOOK_ACKED,
        "Webhooks acknowledged by their receiver"
    );
    describe_counter!(
        names::WEBHOOK_DEAD_LETTERS,
        "Webhooks that became dead letters"
    );
    describe_counter!(names::WEBHOOK_REPLAYED, "Dead letters replayed");
    describe_gauge!(
        names::WEBHOOK_PENDING,
        "Webhooks waiting for an attempt or its answer"
    );
    describe_gauge!(names::WEBHOOK_DEAD, "Dead letters kept");
    describe_histogram!(
        names::ACCEPT_LATENCY,
        Unit::Seconds,
        "Accept to the durable acknowledgement"
    );
}
