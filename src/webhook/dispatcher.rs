//! The dispatcher: one task on a thread of its own (an actix `Arbiter`), the only writer
//! of the webhook trees. It follows the event log from its cursor, makes deliveries
//! ([`super::payload`]), POSTs those that are due with at most `concurrency` at once,
//! and records each answer ([`Delivery::record`]). [`WebhookHandle`] is how the rest of
//! the gateway lists and replays dead letters and stops it.

use super::delivery::{Delivery, Next, Outcome};
use super::payload::{self, Made, Subject};
use super::sign::{signature, EVENT_ID_HEADER, SIGNATURE_HEADER};
use super::store::{Step, WebhookStore};
use super::{Endpoint, WebhookSpec};
use crate::gateway::Gateway;
use crate::outbox::actor::unix_ms;
use crate::store::StoreError;
use crate::telemetry::names;
use actix::Arbiter;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Events read from the log at a time.
const BATCH: usize = 256;
/// How soon reading the log is tried again after it failed.
const INGEST_RETRY: Duration = Duration::from_secs(1);
/// Event ids remembered to skip a final state reported again (see [`payload::message`]).
const RECENT: usize = 65_536;

/// Why a request to the dispatcher failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The dispatcher has stopped (the gateway is shutting down).
    #[error("the webhook dispatcher is not running")]
    NotRunning,
    /// Its store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts of the dispatcher's deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookStats {
    /// Waiting for an attempt or its answer.
    pub pending: usize,
    /// Dead letters kept.
    pub dead: usize,
    /// Acknowledged since the dispatcher started.
    pub acked: u64,
    /// The last event read from the log.
    pub cursor: u64,
}

enum Command {
    DeadLetters(oneshot::Sender<Result<Vec<Delivery>, StoreError>>),
    Replay(u64, oneshot::Sender<Result<bool, StoreError>>),
    ReplayAll(oneshot::Sender<Result<usize, StoreError>>),
    Stats(oneshot::Sender<WebhookStats>),
}

struct Running {
    arbiter: Arbiter,
    stop: oneshot::Sender<()>,
}

/// The dispatcher's handle (cheap to clone).
#[derive(Clone)]
pub struct WebhookHandle {
    commands: mpsc::Sender<Command>,
    stats: watch::Receiver<WebhookStats>,
    running: Arc<parking_lot::Mutex<Option<Running>>>,
}

impl std::fmt::Debug for WebhookHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookHandle").finish_non_exhaustive()
    }
}

impl WebhookHandle {
    /// Starts the dispatcher on a thread of its own over `store`, following `gateway`'s
    /// event log. Its cursor starts at the end of the log the first time.
    ///
    /// # Errors
    /// [`StoreError`] reading the cursor or the pending deliveries.
    pub fn start(
        gateway: Gateway,
        store: WebhookStore,
        spec: WebhookSpec,
    ) -> Result<WebhookHandle, StoreError> {
        let cursor = match store.cursor()? {
            Some(c) => c,
            None => {
                // First run: webhooks are for what happens from now on.
                let now = *gateway.subscribe().borrow();
                let mut step = Step::default();
                step.cursor(now);
                store.apply(step)?;
                now
            }
        };
        let pending: BTreeMap<u64, Delivery> =
            store.pending()?.into_iter().map(|d| (d.id, d)).collect();
        let dead = store.dead_letters()?.len();
        info!(
            cursor,
            pending = pending.len(),
            dead,
            receivers = spec.endpoints.len(),
            "webhook dispatcher starting"
        );
        metrics::gauge!(names::WEBHOOK_PENDING).set(pending.len() as f64);
        metrics::gauge!(names::WEBHOOK_DEAD).set(dead as f64);
        let (commands, rx) = mpsc::channel(64);
        let (stats_tx, stats) = watch::channel(WebhookStats {
            pending: pending.len(),
            dead,
            acked: 0,
            cursor,
        });
        let (stop, stopped) = oneshot::channel();
        let arbiter = Arbiter::new();
        let dispatcher = Dispatcher {
            gateway,
            store,
            client: client(),
            spec,
            cursor,
            pending,
            in_flight: BTreeSet::new(),
            recent: HashSet::new(),
            dead,
            acked: 0,
            stats: stats_tx,
        };
        arbiter.spawn(dispatcher.run(rx, stopped));
        Ok(WebhookHandle {
            commands,
            stats,
            running: Arc::new(parking_lot::Mutex::new(Some(Running { arbiter, stop }))),
        })
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, WebhookError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| WebhookError::NotRunning)?;
        rx.await.map_err(|_| WebhookError::NotRunning)
    }

    /// Every dead letter, oldest first.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub async fn dead_letters(&self) -> Result<Vec<Delivery>, WebhookError> {
        Ok(self.ask(Command::DeadLetters).await??)
    }

    /// Makes dead letter `id` pending again (same body and event id, a fresh `max_age`);
    /// false when there is no such dead letter.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub async fn replay(&self, id: u64) -> Result<bool, WebhookError> {
        Ok(self.ask(|tx| Command::Replay(id, tx)).await??)
    }

    /// Replays every dead letter; answers how many.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub async fn replay_all(&self) -> Result<usize, WebhookError> {
        Ok(self.ask(Command::ReplayAll).await??)
    }

    /// The counts, changing whenever a delivery is made, answered or replayed (for
    /// waiting on them without polling); ends when the dispatcher stops.
    pub fn subscribe(&self) -> watch::Receiver<WebhookStats> {
        self.stats.clone()
    }

    /// Pending, dead and acknowledged counts.
    ///
    /// # Errors
    /// [`WebhookError::NotRunning`].
    pub async fn stats(&self) -> Result<WebhookStats, WebhookError> {
        self.ask(Command::Stats).await
    }

    /// Stops the dispatcher and waits until its thread has ended (its trees closed). A
    /// POST in progress is abandoned; its delivery stays pending on disk and is sent again
    /// after the next start.
    pub async fn stop(&self) {
        let running = self.running.lock().take();
        if let Some(Running { arbiter, stop }) = running {
            let _ = stop.send(());
            arbiter.stop();
            if tokio::task::spawn_blocking(move || arbiter.join())
                .await
                .is_err()
            {
                warn!("shutdown: the webhook thread did not end cleanly");
            }
            info!("shutdown: webhook dispatcher stopped");
        }
    }
}

/// The HTTP client: HTTP/1.1 over rustls (the system's CA certificates), or plain HTTP
/// (the configuration allows it to loopback only).
fn client() -> HttpClient {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        warn!("webhooks: no CA certificate found in the system's store; https receivers will fail");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        Err(e) => {
            warn!(error = %e, "webhooks: TLS set-up failed; using an empty configuration");
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map(|b| {
                b.with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            })
            .unwrap_or_else(|_| {
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            })
        }
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

struct Dispatcher {
    gateway: Gateway,
    store: WebhookStore,
    client: HttpClient,
    spec: WebhookSpec,
    cursor: u64,
    pending: BTreeMap<u64, Delivery>,
    in_flight: BTreeSet<u64>,
    recent: HashSet<String>,
    dead: usize,
    acked: u64,
    stats: watch::Sender<WebhookStats>,
}

impl Dispatcher {
    fn counts(&self) -> WebhookStats {
        WebhookStats {
            pending: self.pending.len(),
            dead: self.dead,
            acked: self.acked,
            cursor: self.cursor,
        }
    }

    /// Publishes the counts and sets the gauges.
    fn publish(&self) {
        let counts = self.counts();
        metrics::gauge!(names::WEBHOOK_PENDING).set(counts.pending as f64);
        metrics::gauge!(names::WEBHOOK_DEAD).set(counts.dead as f64);
        self.stats.send_if_modified(|seen| {
            let changed = *seen != counts;
            *seen = counts;
            changed
        });
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>, mut stop: oneshot::Receiver<()>) {
        let mut events = self.gateway.subscribe();
        let mut log_open = true;
        let mut attempts: JoinSet<(u64, Outcome)> = JoinSet::new();
        // Whether the log may have events after the cursor (read only then).
        let mut unread = true;
        loop {
            let mut behind = false;
            if log_open && unread {
                events.borrow_and_update();
                unread = false;
                if let Err(e) = self.ingest().await {
                    warn!(error = %e, "webhooks: reading the event log failed; trying again");
                    behind = true;
                    unread = true;
                }
            }
            self.launch_due(&mut attempts);
            let mut wait = self.next_wait();
            if behind {
                wait = Some(wait.map_or(INGEST_RETRY, |w| w.min(INGEST_RETRY)));
            }
            tokio::select! {
                _ = &mut stop => break,
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                changed = events.changed(), if log_open => {
                    match changed {
                        Ok(()) => unread = true,
                        Err(_) => log_open = false,
                    }
                }
                Some(done) = attempts.join_next(), if !attempts.is_empty() => {
                    if let Ok((id, outcome)) = done {
                        self.finished(id, outcome).await;
                    }
                }
                () = tokio::time::sleep(wait.unwrap_or(Duration::from_secs(3600))), if wait.is_some() => {}
            }
        }
        attempts.abort_all();
    }

    /// Turns the events after the cursor into deliveries, a batch per step.
    async fn ingest(&mut self) -> Result<(), WebhookError> {
        loop {
            let batch = self
                .gateway
                .events(self.cursor, BATCH)
                .await
                .map_err(|_| WebhookError::NotRunning)?;
            let Some(&(last, _)) = batch.last() else {
                return Ok(());
            };
            let now = unix_ms();
            let mut step = Step::default();
            let mut made = Vec::new();
            for (seq, event) in &batch {
                let Some((owner, m)) = self.webhook_of(*seq, event).await? else {
                    continue;
                };
                if self.recent.contains(&m.event_id)
                    || made.iter().any(|d: &Delivery| d.event_id == m.event_id)
                {
                    continue;
                }
                let d = Delivery::new(*seq, m.event_id, owner, m.body, now);
                step.pending(&d)?;
                made.push(d);
            }
            step.cursor(last);
            self.store.apply(step)?;
            self.store.commit().await?;
            self.cursor = last;
            if self.recent.len() + made.len() > RECENT {
                self.recent.clear();
            }
            for d in made {
                self.recent.insert(d.event_id.clone());
                self.pending.insert(d.id, d);
            }
            self.publish();
        }
    }

    /// The webhook an event makes, with its owner; `None` for an event no token's
    /// webhook is sent. An error (the message or verification could not be read) leaves
    /// the cursor where it was, so the event is read again.
    async fn webhook_of(
        &self,
        seq: u64,
        event: &crate::store::Event,
    ) -> Result<Option<(String, Made)>, WebhookError> {
        let made = match payload::subject(event) {
            Subject::Message(id) => {
                // Cheap check first: which events could be sent at all.
                let is_final = matches!(&event.kind, crate::store::EventKind::Message { state, .. } if state.is_final());
                if !is_final && !self.spec.endpoints.values().any(|e| e.intermediate) {
                    return Ok(None);
                }
                let status = match self.gateway.status(id).await {
                    Ok(status) => status,
                    Err(crate::gateway::GatewayError::Store(e)) => return Err(e.into()),
                    Err(crate::gateway::GatewayError::NotRunning) => {
                        return Err(WebhookError::NotRunning)
                    }
                };
                status.and_then(|status| {
                    let owner = status.owner.clone()?;
                    let endpoint = self.spec.endpoints.get(&owner)?;
                    let made = payload::message(seq, event, &status, endpoint.intermediate)?;
                    Some((owner, made))
                })
            }
            // With verification off (since the event) there is no owner to ask.
            Subject::Verification(id) if self.gateway.verifies() => {
                let status = self
                    .gateway
                    .verify_status(&id)
                    .await
                    .map_err(|_| WebhookError::NotRunning)?;
                // A verification already swept (past its retention) has no owner any more.
                status.and_then(|status| {
                    let owner = status.view.owner?;
                    self.spec.endpoints.get(&owner)?;
                    Some((owner, payload::verification(event)?))
                })
            }
            Subject::Verification(_) | Subject::None => None,
        };
        Ok(made)
    }

    fn launch_due(&mut self, attempts: &mut JoinSet<(u64, Outcome)>) {
        let now = unix_ms();
        let room = self.spec.concurrency.saturating_sub(self.in_flight.len());
        let due: Vec<u64> = self
            .pending
            .values()
            .filter(|d| d.next_at <= now && !self.in_flight.contains(&d.id))
            .map(|d| d.id)
            .take(room)
            .collect();
        for id in due {
            let Some(d) = self.pending.get(&id) else {
                continue;
            };
            let Some(endpoint) = self.spec.endpoints.get(&d.owner) else {
                // The token's webhook was removed from the configuration: kept as a dead
                // letter, replayable once it is back.
                attempts.spawn(std::future::ready((
                    id,
                    Outcome::Reject {
                        reason: format!("token {:?} has no webhook configured", d.owner),
                    },
                )));
                self.in_flight.insert(id);
                continue;
            };
            self.in_flight.insert(id);
            attempts.spawn(post(
                self.client.clone(),
                endpoint.clone(),
                self.spec.timeout,
                id,
                d.event_id.clone(),
                d.body.clone(),
            ));
        }
    }

    /// How long until the next pending delivery not in flight is due.
    fn next_wait(&self) -> Option<Duration> {
        if self.in_flight.len() >= self.spec.concurrency {
            return None;
        }
        let next = self
            .pending
            .values()
            .filter(|d| !self.in_flight.contains(&d.id))
            .map(|d| d.next_at)
            .min()?;
        Some(Duration::from_millis(next.saturating_sub(unix_ms())))
    }

    async fn finished(&mut self, id: u64, outcome: Outcome) {
        self.in_flight.remove(&id);
        let Some(mut d) = self.pending.remove(&id) else {
            return;
        };
        let label = match &outcome {
            Outcome::Acked => "acked",
            Outcome::Retry { .. } => "retry",
            Outcome::Reject { .. } => "rejected",
        };
        metrics::counter!(names::WEBHOOK_ATTEMPTS, "outcome" => label).increment(1);
        let now = unix_ms();
        let next = d.record(outcome, &self.spec.retry, now, &mut |n| {
            rand::random_range(0..=n)
        });
        let mut step = Step::default();
        let written = match next {
            Next::Done => {
                step.done(id);
                Ok(())
            }
            Next::RetryAt(_) => step.pending(&d),
            Next::Dead => step.dead(&d),
        };
        let result = match written {
            Ok(()) => self.store.apply(step),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            // Kept in memory as it was: tried again later, nothing lost.
            warn!(delivery = id, error = %e, "webhooks: recording an attempt failed");
            d.next_at = now.saturating_add(self.spec.retry.base_ms);
            self.pending.insert(id, d);
            return;
        }
        match next {
            Next::Done => {
                self.acked = self.acked.saturating_add(1);
                metrics::counter!(names::WEBHOOK_ACKED).increment(1);
            }
            Next::RetryAt(_) => {
                self.pending.insert(id, d);
            }
            Next::Dead => {
                warn!(
                    delivery = id,
                    event = %d.event_id,
                    token = %d.owner,
                    reason = d.last_error.as_deref().unwrap_or(""),
                    "webhook dead letter"
                );
                self.dead = self.dead.saturating_add(1);
                metrics::counter!(names::WEBHOOK_DEAD_LETTERS).increment(1);
            }
        }
        self.publish();
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::DeadLetters(tx) => {
                let _ = tx.send(self.store.dead_letters());
            }
            Command::Replay(id, tx) => {
                let _ = tx.send(self.replay(Some(id)).await.map(|n| n > 0));
            }
            Command::ReplayAll(tx) => {
                let _ = tx.send(self.replay(None).await);
            }
            Command::Stats(tx) => {
                let _ = tx.send(self.counts());
            }
        }
    }

    /// Makes one dead letter (or all) pending again, in one step.
    async fn replay(&mut self, id: Option<u64>) -> Result<usize, StoreError> {
        let letters = match id {
            Some(id) => self.store.dead_letter(id)?.into_iter().collect(),
            None => self.store.dead_letters()?,
        };
        if letters.is_empty() {
            return Ok(0);
        }
        let now = unix_ms();
        let mut step = Step::default();
        let mut revived = Vec::with_capacity(letters.len());
        for mut d in letters {
            d.revive(now);
            step.revive(&d)?;
            revived.push(d);
        }
        self.store.apply(step)?;
        self.store.commit().await?;
        let n = revived.len();
        for d in revived {
            info!(delivery = d.id, event = %d.event_id, token = %d.owner, "webhook replayed");
            self.pending.insert(d.id, d);
        }
        self.dead = self.dead.saturating_sub(n);
        metrics::counter!(names::WEBHOOK_REPLAYED).increment(n as u64);
        self.publish();
        Ok(n)
    }
}

/// One attempt: the POST, signed now, within `timeout`.
async fn post(
    client: HttpClient,
    endpoint: Endpoint,
    timeout: Duration,
    id: u64,
    event_id: String,
    body: String,
) -> (u64, Outcome) {
    let now = unix_ms();
    let signed = signature(&endpoint.secret, now / 1000, body.as_bytes());
    let request = hyper::Request::post(endpoint.url.clone())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("smsgate/", env!("CARGO_PKG_VERSION")),
        )
        .header(SIGNATURE_HEADER, signed)
        .header(EVENT_ID_HEADER, event_id)
        .body(Full::new(Bytes::from(body)));
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            return (
                id,
                Outcome::Reject {
                    reason: format!("cannot build the request: {e}"),
                },
            )
        }
    };
    let outcome = match tokio::time::timeout(timeout, client.request(request)).await {
        Err(_) => Outcome::Retry {
            retry_after_ms: None,
            reason: format!("no answer within {timeout:?}"),
        },
        Ok(Err(e)) => Outcome::Retry {
            retry_after_ms: None,
            reason: format!("request failed: {e}"),
        },
        Ok(Ok(response)) => {
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            Outcome::of_status(response.status().as_u16(), retry_after, unix_ms())
        }
    };
    (id, outcome)
}
