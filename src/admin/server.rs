//! The admin listener's routes over the gateway, on a thread (and Tokio runtime) of its
//! own, as the TCP API's listener is:
//!
//! | route | token | answer |
//! |---|---|---|
//! | `GET /` (and `/assets/…`) | none (the page holds no data; its script asks `/status` with a token) | the status page |
//! | `GET /status[?recent=N]` | read or full | [`StatusAnswer`] |
//! | `POST /carriers/{name}/stop`, `…/start` | full | `{"carrier", "admin_state", "changed"}` |
//! | `POST /reload` | full | the hook's JSON; 422 `{code, key, error}` when refused; 501 with no hook |
//! | `GET /metrics` | read or full | the Prometheus text |
//!
//! Errors are JSON `{"code": …, "error": …}`: 401 `unauthorized` (no token, or not a known
//! one), 403 `forbidden` (a read-only token on a POST), 404 `unknown_carrier` /
//! `not_found`, 409 `already_stopped` / `already_running`, 422 `reload_refused`, 501
//! `reload_unavailable`, 503 `not_running`.

use super::auth::{AdminGrant, AdminTokens};
use super::status::Snapshot;
use crate::config::{AdminAccess, AdminConfig};
use crate::gateway::{CarrierError, Gateway};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use futures_util::future::BoxFuture;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tracing::{error, info, warn};

/// The status page and its script and style, embedded in the binary.
const PAGE_HTML: &str = include_str!("page/index.html");
const PAGE_JS: &str = include_str!("page/status.js");
const PAGE_CSS: &str = include_str!("page/status.css");

/// Outcomes `GET /status` lists when `recent` is not given; the most it lists.
const RECENT_DEFAULT: usize = 20;
const RECENT_MAX: usize = 200;

/// Why a reload was refused: the key at fault (when one is) and what is wrong; the running
/// configuration is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadRefused {
    /// The configuration key at fault (`carriers.docomo.binds[0].port`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What `POST /reload` calls: re-reads the configuration and applies it, answering what
/// changed as JSON, or why it was refused.
pub type ReloadHook =
    Arc<dyn Fn() -> BoxFuture<'static, Result<serde_json::Value, ReloadRefused>> + Send + Sync>;

/// The listener's settings.
#[derive(Clone, Default)]
pub struct AdminSettings {
    /// Who may ask.
    pub tokens: AdminTokens,
    /// `POST /reload`'s work; `None`: 501.
    pub reload: Option<ReloadHook>,
    /// The Prometheus recorder's handle; `None`: `GET /metrics` is 404.
    pub metrics: Option<PrometheusHandle>,
}

impl AdminSettings {
    /// The tokens of `[admin]`, no reload hook, no metrics.
    ///
    /// # Errors
    /// [`super::auth::BadHash`] (the configuration checks it first).
    pub fn from_config(config: &AdminConfig) -> Result<AdminSettings, super::auth::BadHash> {
        Ok(AdminSettings {
            tokens: AdminTokens::new(&config.tokens)?,
            reload: None,
            metrics: None,
        })
    }
}

/// `GET /status`: the snapshot, and what the token presented may do (the page shows the
/// stop/start buttons only for `full`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// `read` or `full`.
    pub access: AdminAccess,
    /// The gateway's state.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// The webhook dispatcher's counts (`GET /webhooks` lists the dead letters); absent
    /// when no token has a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookCounts>,
}

/// The webhook dispatcher at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCounts {
    /// Waiting for an attempt or its answer.
    pub pending: usize,
    /// Dead letters kept (replayable).
    pub dead: usize,
    /// Acknowledged since the start.
    pub acked: u64,
}

/// The answer of a stop or start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierAnswer {
    /// The carrier.
    pub carrier: String,
    /// Its operator state now.
    pub admin_state: super::status::AdminState,
}

/// An error answer: `{"code", "error"}` (and `key` for a refused reload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable.
    pub code: String,
    /// The configuration key at fault (a refused reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For people.
    pub error: String,
}

struct Failure(StatusCode, ErrorBody);

fn fail(status: StatusCode, code: &str, error: impl Into<String>) -> Failure {
    Failure(
        status,
        ErrorBody {
            code: code.to_owned(),
            key: None,
            error: error.into(),
        },
    )
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(self.1)).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"smsgate-admin\""),
            );
        }
        response
    }
}

struct Shared {
    gateway: Gateway,
    settings: AdminSettings,
}

type AppState = Arc<Shared>;

/// The grant of the `Authorization: Bearer …` presented, at least `need`.
fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    need: AdminAccess,
) -> Result<AdminGrant, Failure> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| SecretString::from(t.trim().to_owned()));
    let Some(presented) = presented else {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an admin token is needed: Authorization: Bearer TOKEN",
        ));
    };
    let Some(grant) = shared.settings.tokens.authenticate(&presented) else {
        return Err(fail(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the token is not an admin token",
        ));
    };
    if need == AdminAccess::Full && grant.access != AdminAccess::Full {
        return Err(fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("token {:?} is read-only", grant.name),
        ));
    }
    Ok(grant)
}

/// The routes over `gateway`.
pub fn router(gateway: Gateway, settings: AdminSettings) -> axum::Router {
    let state: AppState = Arc::new(Shared { gateway, settings });
    axum::Router::new()
        .route("/", get(page))
        .route("/assets/status.js", get(script))
        .route("/assets/status.css", get(style))
        .route("/status", get(status))
        .route("/carriers/{name}/stop", post(stop))
        .route("/carriers/{name}/start", post(start))
        .route("/reload", post(reload))
        .route("/metrics", get(metrics))
        .route("/webhooks", get(webhooks))
        .route("/webhooks/dead/replay", post(replay_all))
        .route("/webhooks/dead/{id}/replay", post(replay_one))
        .fallback(|| async { fail(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .with_state(state)
}

/// The page's headers: nothing but this origin may be loaded, framed or sent a referrer.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                 img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE_HTML)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", PAGE_JS)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", PAGE_CSS)
}

fn recent_of(query: Option<&str>) -> Result<usize, Failure> {
    let Some(query) = query else {
        return Ok(RECENT_DEFAULT);
    };
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("recent=") {
            return value
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= RECENT_MAX)
                .ok_or_else(|| {
                    fail(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_query",
                        format!("recent: 0 to {RECENT_MAX}"),
                    )
                });
        }
    }
    Ok(RECENT_DEFAULT)
}

async fn status(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<StatusAnswer>, Failure> {
    let grant = authorize(&shared, &headers, AdminAccess::Read)?;
    let recent = recent_of(query.as_deref())?;
    let snapshot = shared.gateway.snapshot(recent).await.map_err(|e| {
        fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_running",
            e.to_string(),
        )
    })?;
    let webhooks = match shared.gateway.webhooks() {
        Some(handle) => handle.stats().await.ok().map(|s| WebhookCounts {
            pending: s.pending,
            dead: s.dead,
            acked: s.acked,
        }),
        None => None,
    };
    Ok(Json(StatusAnswer {
        access: grant.access,
        snapshot,
        webhooks,
    }))
}

async fn stop(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<CarrierAnswer>, Failure> {
    set_running(&shared, &headers, name, false).await
}

async fn start(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<CarrierAnswer>, Failure> {
    set_running(&shared, &headers, name, true).await
}

async fn set_running(
    shared: &Shared,
    headers: &HeaderMap,
    name: String,
    running: bool,
) -> Result<Json<CarrierAnswer>, Failure> {
    let grant = authorize(shared, headers, AdminAccess::Full)?;
    let changed = if running {
        shared.gateway.start_carrier(&name).await
    } else {
        shared.gateway.stop_carrier(&name).await
    };
    match changed {
        Ok(true) => {
            info!(carrier = %name, running, by = %grant.name, "admin: carrier {}", if running { "started" } else { "stopped" });
            Ok(Json(CarrierAnswer {
                carrier: name,
                admin_state: if running {
                    super::status::AdminState::Running
                } else {
                    super::status::AdminState::Stopped
                },
            }))
        }
        Ok(false) if running => Err(fail(
            StatusCode::CONFLICT,
            "already_running",
            format!("carrier {name:?} is running already"),
        )),
        Ok(false) => Err(fail(
            StatusCode::CONFLICT,
            "already_stopped",
            format!("carrier {name:?} is stopped already"),
        )),
        Err(CarrierError::Unknown(_)) => Err(fail(
            StatusCode::NOT_FOUND,
            "unknown_carrier",
            format!("no carrier is named {name:?}"),
        )),
        Err(e) => Err(fail(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_running",
            e.to_string(),
        )),
    }
}

/// `GET /webhooks`: the dispatcher's counts and its dead letters.
#[derive(Debug, Serialize)]
struct WebhooksAnswer {
    pending: usize,
    dead: usize,
    acked: u64,
    cursor: u64,
    dead_letters: Vec<crate::webhook::Delivery>,
}

fn dispatcher(shared: &Shared) -> Result<&crate::webhook::WebhookHandle, Failure> {
    shared.gateway.webhooks().ok_or_else(|| {
        fail(
            StatusCode::NOT_FOUND,
            "webhooks_off",
            "no API token has a webhook configured",
        )
    })
}

fn webhook_failure(e: crate::webhook::WebhookError) -> Failure {
    fail(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_running",
        e.to_string(),
    )
}

async fn webhooks(
    State(shared): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<WebhooksAnswer>, Failure> {
    authorize(&shared, &headers, AdminAccess::Read)?;
    let handle = dispatcher(&shared)?;
    let stats = handle.stats().await.map_err(webhook_failure)?;
    let dead_letters = handle.dead_letters().await.map_err(webhook_failure)?;
    Ok(Json(WebhooksAnswer {
        pending: stats.pending,
        dead: stats.dead,
        acked: stats.acked,
        cursor: stats.cursor,
        dead_letters,
    }))
}

async fn replay_one(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Failure> {
    let grant = authorize(&shared, &headers, AdminAccess::Full)?;
    let handle = dispatcher(&shared)?;
    let Ok(number) = id.parse::<u64>() else {
        return Err(fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
            format!("{id:?} is not a dead letter's id (a decimal number)"),
        ));
    };
    if handle.replay(number).await.map_err(webhook_failure)? {
        info!(id = number, by = %grant.name, "admin: dead letter replayed");
        Ok(Json(serde_json::json!({ "replayed": 1 })))
    } else {
        Err(fail(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no dead letter {number}"),
        ))
    }
}

async fn replay_all(
    State(shared): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Failure> {
    let grant = authorize(&shared, &headers, AdminAccess::Full)?;
    let handle = dispatcher(&shared)?;
    let n = handle.replay_all().await.map_err(webhook_failure)?;
    info!(replayed = n, by = %grant.name, "admin: dead letters replayed");
    Ok(Json(serde_json::json!({ "replayed": n })))
}

async fn reload(
    State(shared): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Failure> {
    let grant = authorize(&shared, &headers, AdminAccess::Full)?;
    let Some(hook) = &shared.settings.reload else {
        return Err(fail(
            StatusCode::NOT_IMPLEMENTED,
            "reload_unavailable",
            "this listener was started without a reload (smsgate run always gives it one)",
        ));
    };
    match hook().await {
        Ok(answer) => {
            info!(by = %grant.name, "admin: configuration reloaded");
            Ok(Json(answer))
        }
        Err(refused) => {
            warn!(by = %grant.name, key = ?refused.key, error = %refused.message, "admin: reload refused; the running configuration is kept");
            Err(Failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorBody {
                    code: "reload_refused".into(),
                    key: refused.key,
                    error: refused.message,
                },
            ))
        }
    }
}

async fn metrics(State(shared): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    authorize(&shared, &headers, AdminAccess::Read)?;
    let Some(handle) = &shared.settings.metrics else {
        return Err(fail(
            StatusCode::NOT_FOUND,
            "not_found",
            "no metrics recorder in this process",
        ));
    };
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response())
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminServeError {
    /// The address could not be bound.
    #[error("admin on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Its thread or runtime could not be made.
    #[error("admin listener: {0}")]
    Thread(std::io::Error),
}

/// The running listener.
pub struct AdminServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
}

impl AdminServer {
    /// Binds `addr` and serves on a thread of its own until [`AdminServer::stop`].
    ///
    /// # Errors
    /// [`AdminServeError`].
    pub fn start(
        addr: SocketAddr,
        settings: AdminSettings,
        gateway: Gateway,
    ) -> Result<AdminServer, AdminServeError> {
        let bind_err = |source| AdminServeError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AdminServeError::Thread)?;
        let (stop, mut stopped) = watch::channel(false);
        let app = router(gateway, settings);
        let thread = std::thread::Builder::new()
            .name("smsgate-admin".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            error!(error = %e, "admin listener not served");
                            return;
                        }
                    };
                    let shutdown = async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    };
                    if let Err(e) = axum::serve(listener, app)
                        .with_graceful_shutdown(shutdown)
                        .await
                    {
                        error!(error = %e, "admin listener stopped");
                    }
                });
            })
            .map_err(AdminServeError::Thread)?;
        info!(address = %local, "admin listening");
        Ok(AdminServer {
            addr: local,
            stop,
            thread,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the requests under way.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}
