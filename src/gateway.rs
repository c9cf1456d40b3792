//! The gateway in process: starts the store, the Outbox actor (on a thread of its own) and
//! a Pool with its Binds per carrier, and stops them in order. [`Gateway`] is the in-process
//! interface to submit a message and read its state; the CLI's `run` and the tests use it.
//!
//! Shutdown is an ordered protocol (docs/architecture.md): stop accepting → unbind every
//! bind and wait for unbind_resp or a deadline → hand what was unanswered back to the
//! outbox (queued again on disk) → flush → stop the outbox and wait until its store is
//! closed.

use crate::carrier::bind::{BindActor, BindSpec};
use crate::carrier::msgid::IdMatcher;
use crate::carrier::number::NumberPlan;
use crate::carrier::pool::{GetPoolStatus, Pool, PoolSettings, PoolStatus, SetRunning, UnbindAll};
use crate::carrier::router::{PortabilityTable, RouteKind, Router};
use crate::carrier::throttle::{PacerConfig, ThrottleError};
use crate::outbox::actor::{
    CarrierLink, Depth, Flush, GetDepth, GetEvents, GetFirstEvent, GetLastEvent, GetStatus,
    OutboxActor, OutboxHandle, Refused, SetPortability, StopAccepting, Submit,
};
use crate::outbox::feed::EventFeed;
use crate::outbox::{Accepted, CarrierProfile, MessageStatus, Outbox, Settings};
use crate::store::{Event, MessageId, SledStore, StoreError};
use crate::verify::actor::{
    Cancel, Check, GetMode, GetVerification, Resend, Start, VerificationStatus, VerifierActor,
    VerifyFailure,
};
use crate::verify::core::{Settings as VerifySettings, VerifierCore, View};
use crate::verify::key::KeyRing;
use crate::verify::policy::{CheckOutcome, Policy};
use crate::verify::store::VerifyStore;
use actix::prelude::*;
use rand::TryRngCore;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tracing::{info, warn};

mod reload;
pub use reload::{plan, Applied, ApplyError, CarrierChange, ReloadPlan};

/// The running carriers: each one's pool and the spec it was started from (what a reload
/// compares the new configuration with). Shared by every clone of the [`Gateway`].
#[derive(Default)]
struct Carriers {
    pools: BTreeMap<String, Addr<Pool>>,
    specs: BTreeMap<String, CarrierSpec>,
}

/// One carrier, in the gateway's own terms.
#[derive(Debug, Clone)]
pub struct CarrierSpec {
    /// Its name.
    pub name: String,
    /// How its messages are built (text, addresses, validity, status classes).
    pub profile: CarrierProfile,
    /// Its pool's pacing and failover time.
    pub pool: PoolSettings,
    /// Its binds and each one's pacing.
    pub binds: Vec<(BindSpec, PacerConfig)>,
    /// How its receipt ids are matched.
    pub matcher: IdMatcher,
}

/// Everything the gateway needs to start.
#[derive(Debug, Clone)]
pub struct GatewaySpec {
    /// The sled directory.
    pub data_dir: PathBuf,
    /// The sled page cache, in bytes.
    pub data_cache_bytes: u64,
    /// The outbox's settings.
    pub outbox: Settings,
    /// The carriers.
    pub carriers: Vec<CarrierSpec>,
    /// Number → carriers.
    pub router: Router,
    /// How destination numbers are read.
    pub plan: NumberPlan,
    /// How long shutdown waits for every unbind_resp.
    pub unbind_deadline: Duration,
    /// The carrier (one of `carriers`, named by no route) that takes the sandbox
    /// messages ([`Submit::sandbox`]); `None`: sandbox messages are refused.
    pub sandbox: Option<String>,
    /// The verifier; `None`: verification is off.
    pub verify: Option<VerifySpec>,
    /// The webhook dispatcher; `None`: no token has a webhook.
    pub webhooks: Option<crate::webhook::WebhookSpec>,
}

/// The verifier's rules, texts and keys.
#[derive(Clone)]
pub struct VerifySpec {
    /// The rules.
    pub policy: Policy,
    /// Texts, retention, service name, origin.
    pub settings: VerifySettings,
    /// The key ring (loaded at start).
    pub keys: Arc<KeyRing>,
}

impl std::fmt::Debug for VerifySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifySpec")
            .field("policy", &self.policy)
            .field("key", &self.keys.current_id())
            .finish_non_exhaustive()
    }
}

/// The random source of the verifier in the gateway: the OS CSPRNG, every draw.
pub type SystemRng = rand::rand_core::UnwrapErr<rand::rngs::OsRng>;

/// The verifier actor as the gateway runs it.
pub type Verifier = VerifierActor<SystemRng>;

/// Why the gateway could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The store could not be opened or recovered.
    #[error("store at {path}: {source}")]
    Store {
        /// The data directory.
        path: String,
        /// The store's error.
        source: StoreError,
    },
    /// A carrier's pacing is out of range.
    #[error("carrier {carrier}: {source}")]
    Pacing {
        /// The carrier.
        carrier: String,
        /// The error.
        source: ThrottleError,
    },
    /// The outbox thread did not come up.
    #[error("the outbox did not start")]
    Outbox,
    /// The sandbox carrier is not one of the carriers.
    #[error("the sandbox carrier {0:?} is not configured")]
    Sandbox(String),
    /// The carriers an operator stopped could not be read.
    #[error("stopped carriers at {path}: {source}")]
    AdminState {
        /// The data directory.
        path: String,
        /// The store's error.
        source: StoreError,
    },
}

/// Why a request to the gateway failed.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// The outbox is gone (the gateway stopped).
    #[error("the outbox is not running")]
    NotRunning,
    /// A store error reading the answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a carrier could not be stopped or started.
#[derive(Debug, Error)]
pub enum CarrierError {
    /// No carrier has that name.
    #[error("no carrier is named {0:?}")]
    Unknown(String),
    /// Its state could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The carrier's pool is gone (the gateway stopped).
    #[error("the gateway is not running")]
    NotRunning,
}

impl From<MailboxError> for CarrierError {
    fn from(_: MailboxError) -> Self {
        CarrierError::NotRunning
    }
}

impl From<MailboxError> for GatewayError {
    fn from(_: MailboxError) -> Self {
        GatewayError::NotRunning
    }
}

/// What a shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every bind answered its unbind (or was already down) before the deadline.
    pub unbound_in_time: bool,
    /// The final flush succeeded.
    pub flushed: bool,
}

/// A running gateway (a cheap handle: clones talk to the same actors).
#[derive(Clone)]
pub struct Gateway {
    outbox: OutboxHandle,
    /// The event log as its readers are shown it: durable events only.
    feed: Arc<EventFeed>,
    /// The running carriers; replaced in part by [`Gateway::reconfigure`].
    carriers: Arc<parking_lot::RwLock<Carriers>>,
    /// One reconfiguration at a time.
    reconfiguring: Arc<tokio::sync::Mutex<()>>,
    /// The outbox's thread; taken (stopped and joined) by the first shutdown.
    outbox_arbiter: std::sync::Arc<parking_lot::Mutex<Option<Arbiter>>>,
    unbind_deadline: Duration,
    /// The sandbox carrier's name, to tell sandbox messages and events from live ones.
    sandbox: Option<String>,
    /// The verifier, when verification is on.
    verifier: Option<Addr<Verifier>>,
    /// The verifier's thread; taken (stopped and joined) by the first shutdown.
    verifier_arbiter: std::sync::Arc<parking_lot::Mutex<Option<Arbiter>>>,
    /// When it started, for the status's uptime.
    started: Instant,
    /// The carriers an operator stopped, on disk; taken by the first shutdown (it holds
    /// the database open).
    admin: Arc<parking_lot::Mutex<Option<crate::admin::state::AdminStore>>>,
    /// Each carrier's route kinds (from the rules that name it), for status; replaced
    /// with the routes by a reload.
    pub(crate) route_kinds: Arc<parking_lot::RwLock<BTreeMap<String, Vec<RouteKind>>>>,
    /// The webhook dispatcher, when a token has a webhook.
    webhooks: Option<crate::webhook::WebhookHandle>,
}

impl Gateway {
    /// Opens the store, recovers what was not final, and starts the actors. Call from
    /// within an actix `System`.
    pub async fn start(spec: GatewaySpec) -> Result<Gateway, StartError> {
        if let Some(sandbox) = &spec.sandbox {
            if !spec.carriers.iter().any(|c| &c.name == sandbox) {
                return Err(StartError::Sandbox(sandbox.clone()));
            }
        }
        let path = spec.data_dir.display().to_string();
        let store_err = |source| StartError::Store {
            path: path.clone(),
            source,
        };
        let store =
            SledStore::open_with_cache(&spec.data_dir, spec.data_cache_bytes).map_err(store_err)?;
        let admin_err = |source| StartError::AdminState {
            path: path.clone(),
            source,
        };
        let admin = crate::admin::state::AdminStore::open(store.shared()).map_err(admin_err)?;
        let stopped = admin.stopped().map_err(admin_err)?;
        let verify_store = match &spec.verify {
            Some(_) => Some(VerifyStore::open(store.shared()).map_err(store_err)?),
            None => None,
        };
        let webhook_store = match &spec.webhooks {
            Some(_) => {
                Some(crate::webhook::store::WebhookStore::open(store.shared()).map_err(store_err)?)
            }
            None => None,
        };
        let profiles: HashMap<String, CarrierProfile> = spec
            .carriers
            .iter()
            .map(|c| (c.name.clone(), c.profile.clone()))
            .collect();
        let outbox_settings = spec.outbox.clone();
        // Recovered and flushed: every event so far is on disk, where the feed begins.
        let mut core = tokio::task::spawn_blocking(move || {
            let core = Outbox::recover(
                store,
                outbox_settings,
                profiles,
                crate::outbox::actor::unix_ms(),
            )?;
            core.commit().wait_blocking()?;
            Ok(core)
        })
        .await
        .map_err(|_| StartError::Outbox)?
        .map_err(store_err)?;
        let feed = EventFeed::new(core.last_event());
        core.attach_feed(Arc::clone(&feed));
        info!(
            open = core.open_messages(),
            unmatched = core.unmatched_held(),
            "outbox recovered"
        );

        // Pools and the outbox need each other's addresses: the pools' contexts are made
        // first, the outbox is started on a thread of its own (it does the disk work while
        // the binds move bytes), then the pools and their binds are started.
        let mut contexts = Vec::new();
        let mut links = HashMap::new();
        for carrier in &spec.carriers {
            let ctx = Context::<Pool>::new();
            links.insert(
                carrier.name.clone(),
                CarrierLink {
                    pool: ctx.address().recipient(),
                    matcher: carrier.matcher.clone(),
                },
            );
            contexts.push(ctx);
        }
        let outbox_arbiter = Arbiter::new();
        let router = spec.router;
        let route_kinds = Arc::new(parking_lot::RwLock::new(router.carrier_kinds()));
        let plan = spec.plan.clone();
        let sandbox = spec.sandbox.clone();
        let outbox = OutboxHandle::start(&outbox_arbiter.handle(), move |lane| {
            OutboxActor::new(core, router, plan, sandbox, links, lane)
        });
        let (verifier, verifier_arbiter) = match (spec.verify, verify_store) {
            (Some(v), Some(verify_store)) => {
                let arbiter = Arbiter::new();
                let core = VerifierCore::new(
                    v.policy,
                    v.keys,
                    verify_store,
                    rand::rngs::OsRng.unwrap_err(),
                    v.settings,
                );
                let outbox = crate::verify::actor::Outbound::outbox(&outbox);
                let plan = spec.plan;
                let addr = VerifierActor::start_in_arbiter(&arbiter.handle(), move |_| {
                    VerifierActor::new(core, outbox, plan)
                });
                (Some(addr), Some(arbiter))
            }
            _ => (None, None),
        };
        let now = Instant::now();
        let mut carriers = Carriers::default();
        for (carrier, ctx) in spec.carriers.into_iter().zip(contexts) {
            let held = stopped.contains(&carrier.name);
            if held {
                info!(carrier = %carrier.name, "stopped by an operator: its binds stay down until it is started");
            }
            let pool = start_pool(&carrier, ctx, &outbox, now, held)?;
            carriers.pools.insert(carrier.name.clone(), pool);
            carriers.specs.insert(carrier.name.clone(), carrier);
        }
        let mut gateway = Gateway {
            outbox,
            feed,
            carriers: Arc::new(parking_lot::RwLock::new(carriers)),
            reconfiguring: Arc::new(tokio::sync::Mutex::new(())),
            outbox_arbiter: std::sync::Arc::new(parking_lot::Mutex::new(Some(outbox_arbiter))),
            unbind_deadline: spec.unbind_deadline,
            sandbox: spec.sandbox,
            verifier,
            verifier_arbiter: std::sync::Arc::new(parking_lot::Mutex::new(verifier_arbiter)),
            started: Instant::now(),
            admin: Arc::new(parking_lot::Mutex::new(Some(admin))),
            route_kinds,
            webhooks: None,
        };
        if let (Some(hooks), Some(store)) = (spec.webhooks, webhook_store) {
            let handle = crate::webhook::WebhookHandle::start(gateway.clone(), store, hooks)
                .map_err(store_err)?;
            gateway.webhooks = Some(handle);
        }
        Ok(gateway)
    }

    /// Stops carrier `name` (see [`SetRunning`]) and records that on disk, so it stays
    /// stopped after a restart; answers once its binds have unbound. `false`: it was
    /// stopped already.
    ///
    /// # Errors
    /// [`CarrierError`]: no such carrier, or the store failed.
    pub async fn stop_carrier(&self, name: &str) -> Result<bool, CarrierError> {
        self.set_running(name, false).await
    }

    /// Starts carrier `name` again (its binds connect); `false`: it was running already.
    ///
    /// # Errors
    /// [`CarrierError`]: no such carrier, or the store failed.
    pub async fn start_carrier(&self, name: &str) -> Result<bool, CarrierError> {
        self.set_running(name, true).await
    }

    async fn set_running(&self, name: &str, running: bool) -> Result<bool, CarrierError> {
        let pool = self
            .carriers
            .read()
            .pools
            .get(name)
            .cloned()
            .ok_or_else(|| CarrierError::Unknown(name.to_owned()))?;
        let was_stopped = pool.send(GetPoolStatus).await?.stopped;
        // On disk first: a crash after it leaves the carrier as the operator asked.
        let admin = self.admin.lock().clone().ok_or(CarrierError::NotRunning)?;
        admin.set_stopped(name, !running).await?;
        pool.send(SetRunning { running }).await?;
        info!(
            carrier = name,
            running,
            "carrier {}",
            if running { "started" } else { "stopped" }
        );
        Ok(was_stopped == running)
    }

    /// How long the gateway has been running.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Each carrier's route kinds, from the rules that name it (as of the last reload).
    pub fn route_kinds(&self) -> BTreeMap<String, Vec<RouteKind>> {
        self.route_kinds.read().clone()
    }

    /// The status snapshot of the admin listener (see [`crate::admin::status`]), with up to
    /// `recent` of the last messages' outcomes.
    ///
    /// # Errors
    /// [`GatewayError`] when the outbox is gone.
    pub async fn snapshot(
        &self,
        recent: usize,
    ) -> Result<crate::admin::status::Snapshot, GatewayError> {
        crate::admin::status::snapshot(self, recent).await
    }

    /// Submits a message: answered once it is on disk (or refused, nothing queued).
    pub async fn submit(&self, submit: Submit) -> Result<Accepted, SubmitFailure> {
        self.outbox
            .submit(submit)
            .await
            .map_err(|_| SubmitFailure::NotRunning)?
            .map_err(SubmitFailure::Refused)
    }

    /// The webhook dispatcher (dead letters, replay), when a token has a webhook.
    pub fn webhooks(&self) -> Option<&crate::webhook::WebhookHandle> {
        self.webhooks.as_ref()
    }

    /// The carrier that takes sandbox messages, if the gateway has one.
    pub fn sandbox_carrier(&self) -> Option<&str> {
        self.sandbox.as_deref()
    }

    /// A message's state.
    pub async fn status(&self, id: MessageId) -> Result<Option<MessageStatus>, GatewayError> {
        Ok(self.outbox.mailbox().send(GetStatus(id)).await??)
    }

    /// Up to `max` events after `cursor`, of those on disk (see [`crate::outbox::feed`]):
    /// the newest from memory, older ones from the log through the outbox.
    pub async fn events(&self, cursor: u64, max: usize) -> Result<Vec<(u64, Event)>, GatewayError> {
        if let Some(events) = self.feed.since(cursor, max) {
            return Ok(events);
        }
        Ok(self
            .outbox
            .mailbox()
            .send(GetEvents { cursor, max })
            .await??)
    }

    /// The cursor of the oldest event the log keeps (0 while it is empty); older ones went
    /// with `outbox.events_retention`.
    ///
    /// # Errors
    /// [`GatewayError`] if the outbox has stopped.
    pub async fn first_event(&self) -> Result<u64, GatewayError> {
        Ok(self.outbox.mailbox().send(GetFirstEvent).await?)
    }

    /// Follows the event log: changes whenever events reach the disk (the newest one's
    /// sequence number).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.feed.subscribe()
    }

    /// Waits until message `id`'s status satisfies `done`, re-reading it whenever events
    /// are appended (no polling); returns that status, or `None` if the gateway stopped.
    pub async fn wait_for(
        &self,
        id: MessageId,
        done: impl Fn(&MessageStatus) -> bool,
    ) -> Result<Option<MessageStatus>, GatewayError> {
        let mut events = self.subscribe();
        loop {
            events.borrow_and_update();
            if let Some(status) = self.status(id).await? {
                if done(&status) {
                    // Returned once the event log shows what the status does.
                    return Ok(self.events_shown().await?.then_some(status));
                }
            }
            if events.changed().await.is_err() {
                return Ok(None);
            }
        }
    }

    /// Waits until the event log shows every event applied so far (each is shown once it
    /// is on disk, a flush after its step); false if the outbox has stopped on a storage
    /// failure, after which what it applied may never be shown.
    ///
    /// # Errors
    /// [`GatewayError`] if the outbox is gone.
    pub async fn events_shown(&self) -> Result<bool, GatewayError> {
        let Some(applied) = self.outbox.mailbox().send(GetLastEvent).await? else {
            return Ok(false);
        };
        let mut events = self.subscribe();
        loop {
            if *events.borrow_and_update() >= applied {
                return Ok(true);
            }
            if events.changed().await.is_err() {
                return Ok(false);
            }
        }
    }

    /// Every carrier's binds.
    pub async fn binds(&self) -> Vec<PoolStatus> {
        let mut out = Vec::new();
        for pool in self.pools() {
            if let Ok(status) = pool.send(GetPoolStatus).await {
                out.push(status);
            }
        }
        out
    }

    /// Every running pool's address (taken out of the lock: none is held across a wait).
    fn pools(&self) -> Vec<Addr<Pool>> {
        self.carriers.read().pools.values().cloned().collect()
    }

    /// Queue depths.
    pub async fn depth(&self) -> Result<Depth, GatewayError> {
        Ok(self.outbox.mailbox().send(GetDepth).await?)
    }

    /// Replaces the router's number-portability table (see [`SetPortability`]); answers
    /// how many entries the replaced table had.
    ///
    /// # Errors
    /// [`GatewayError`] when the outbox is gone.
    pub async fn set_portability(&self, table: PortabilityTable) -> Result<usize, GatewayError> {
        Ok(self.outbox.mailbox().send(SetPortability(table)).await?)
    }

    fn verifier(&self) -> Result<&Addr<Verifier>, VerifyFailure> {
        self.verifier.as_ref().ok_or(VerifyFailure::NotRunning)
    }

    /// Whether verification is on.
    pub fn verifies(&self) -> bool {
        self.verifier.is_some()
    }

    /// Starts a verification: answered once its state is on disk and its SMS queued.
    ///
    /// # Errors
    /// [`VerifyFailure`] naming what was refused.
    pub async fn verify_start(&self, start: Start) -> Result<View, VerifyFailure> {
        self.verifier()?.send(start).await?
    }

    /// Checks a code: the attempt is on disk before the comparison, the answer after it.
    ///
    /// # Errors
    /// [`VerifyFailure`] when the verifier cannot answer.
    pub async fn verify_check(&self, id: &str, code: &str) -> Result<CheckOutcome, VerifyFailure> {
        let check = Check {
            id: id.to_owned(),
            code: code.to_owned(),
        };
        self.verifier()?.send(check).await?
    }

    /// Sends a new code, voiding the old.
    ///
    /// # Errors
    /// [`VerifyFailure`] naming what was refused.
    pub async fn verify_resend(&self, id: &str) -> Result<View, VerifyFailure> {
        self.verifier()?.send(Resend(id.to_owned())).await?
    }

    /// Cancels a verification.
    ///
    /// # Errors
    /// [`VerifyFailure`] (not found when it is not pending).
    pub async fn verify_cancel(&self, id: &str) -> Result<View, VerifyFailure> {
        self.verifier()?.send(Cancel(id.to_owned())).await?
    }

    /// A verification and its SMS's delivery state.
    ///
    /// # Errors
    /// [`VerifyFailure`] when the verifier cannot answer.
    pub async fn verify_status(
        &self,
        id: &str,
    ) -> Result<Option<VerificationStatus>, VerifyFailure> {
        self.verifier()?
            .send(GetVerification(id.to_owned()))
            .await?
    }

    /// Whether verification `id` is a sandbox one; `None` when there is no such
    /// verification.
    ///
    /// # Errors
    /// [`VerifyFailure`] when the verifier cannot answer.
    pub async fn verify_sandbox(&self, id: &str) -> Result<Option<bool>, VerifyFailure> {
        self.verifier()?.send(GetMode(id.to_owned())).await?
    }

    /// The ordered shutdown (see the module documentation).
    pub async fn shutdown(&self) -> ShutdownReport {
        // Webhooks first: the dispatcher reads the outbox's log and writes its own trees
        // in its database; what it has not delivered stays pending on disk.
        if let Some(hooks) = &self.webhooks {
            hooks.stop().await;
        }
        // Then the verifier: it shares the outbox's database and sends through it.
        let verifier = self.verifier_arbiter.lock().take();
        if let Some(arbiter) = verifier {
            arbiter.stop();
            if tokio::task::spawn_blocking(move || arbiter.join())
                .await
                .is_err()
            {
                warn!("shutdown: the verifier thread did not end cleanly");
            }
            info!("shutdown: verifier stopped");
        }
        info!("shutdown: no new messages accepted");
        drop(self.admin.lock().take());
        let _ = self.outbox.mailbox().send(StopAccepting).await;
        info!(deadline = ?self.unbind_deadline, "shutdown: unbinding every bind");
        let unbinds =
            futures_util::future::join_all(self.pools().into_iter().map(|p| p.send(UnbindAll)));
        let unbound_in_time = tokio::time::timeout(self.unbind_deadline, unbinds)
            .await
            .is_ok();
        if !unbound_in_time {
            warn!("shutdown: not every bind answered its unbind in time");
        }
        let flushed = matches!(self.outbox.mailbox().send(Flush).await, Ok(Ok(())));
        info!(flushed, "shutdown: store flushed");
        // The outbox owns the store: its thread ends once the store is closed (sled's
        // lock released), so the data directory can be opened again when this returns.
        let arbiter = self.outbox_arbiter.lock().take();
        if let Some(arbiter) = arbiter {
            arbiter.stop();
            if tokio::task::spawn_blocking(move || arbiter.join())
                .await
                .is_err()
            {
                warn!("shutdown: the outbox thread did not end cleanly");
            }
        }
        info!("shutdown: store closed");
        ShutdownReport {
            unbound_in_time,
            flushed,
        }
    }
}

/// Starts a carrier's pool in `ctx` (whose address the outbox already has) and its binds;
/// `held`: stopped by an operator, its binds stay down until it is started.
fn start_pool(
    carrier: &CarrierSpec,
    ctx: Context<Pool>,
    outbox: &OutboxHandle,
    now: Instant,
    held: bool,
) -> Result<Addr<Pool>, StartError> {
    let pacing_err = |source| StartError::Pacing {
        carrier: carrier.name.clone(),
        source,
    };
    let mut pool = Pool::new(carrier.pool.clone(), outbox.clone(), now).map_err(pacing_err)?;
    if held {
        pool.start_stopped();
    }
    for (bind, pacing) in &carrier.binds {
        let bind = BindActor::new(bind.clone(), ctx.address(), outbox.clone());
        let bind = if held { bind.held() } else { bind }.start();
        pool.add_bind(bind, *pacing, now).map_err(pacing_err)?;
    }
    Ok(ctx.run(pool))
}

/// Why a submit failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitFailure {
    /// Refused; nothing was queued.
    #[error(transparent)]
    Refused(Refused),
    /// The gateway is not running.
    #[error("the gateway is not running")]
    NotRunning,
}
