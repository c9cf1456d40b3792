//! The Outbox actor: thin glue between the [`Outbox`] core and the rest of the gateway.
//! It reads the clock, routes numbers, waits for group commits before it answers, matches
//! receipt ids to carrier ids, tells idle pools that work has arrived and exports the
//! outbox's gauges. Every decision about a message is the core's.
//!
//! Pulls, otp submits and the results of otp submits reach it through its fast lane
//! ([`super::lane`], by an [`OutboxHandle`]) rather than its mailbox: every handler turn
//! starts by running what waits there.

use super::lane::{Lane, LaneReceiver};
use super::{
    Accepted, Dispatch, DispatchKey, IncomingReceipt, MessageStatus, NewMessage, Outbox,
    ReceiptOutcome, SubmitEffect, SubmitError, SubmitResult,
};
use crate::carrier::msgid::{IdMatch, IdMatcher};
use crate::carrier::number::Msisdn;
use crate::carrier::number::NumberPlan;
use crate::carrier::router::{PortabilityTable, Route, Router};
use crate::store::{Class, Event, EventKind, MessageId, SledStore, Storage, StoreError};
use crate::telemetry::names;
use actix::prelude::*;
use smpp::tlv::NetworkErrorCode;
use smpp::values::MessageState;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{debug, error, info, warn};

/// How often the core's timers run (backoffs due, validity ends, sweeps) and the gauges are
/// exported.
const TICK: Duration = Duration::from_millis(100);
/// Mailbox capacity: results and receipts of every bind queue here.
const MAILBOX: usize = 4096;

/// Unix milliseconds now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A message to send, as a caller hands it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    /// Destination in any common form (`+81 90-1234-5678`, `09012345678`, `819012345678`).
    pub to: String,
    /// Sender; `None` for the carrier's default.
    pub from: Option<String>,
    /// The text.
    pub text: String,
    /// Priority class.
    pub class: Class,
    /// Idempotency reference (24 h).
    pub client_ref: Option<String>,
    /// Validity asked for.
    pub validity: Option<Duration>,
    /// Whether to ask for delivery receipts.
    pub registered_delivery: bool,
    /// The text to keep on disk instead of `text` (see [`NewMessage::masked`]).
    pub masked: Option<String>,
    /// Its id, drawn by the caller (see [`NewMessage::id`]).
    pub id: Option<MessageId>,
    /// A test message: it goes to the gateway's sandbox carrier (the built-in simulated
    /// SMSC) whatever the routes say, and never to another carrier.
    pub sandbox: bool,
    /// The API token that submits it (see [`NewMessage::owner`]).
    pub owner: Option<String>,
}

impl Submit {
    /// A message with receipts requested, no sender, no reference, default validity.
    pub fn new(to: impl Into<String>, text: impl Into<String>, class: Class) -> Submit {
        Submit {
            to: to.into(),
            from: None,
            text: text.into(),
            class,
            client_ref: None,
            validity: None,
            registered_delivery: true,
            masked: None,
            id: None,
            sandbox: false,
            owner: None,
        }
    }
}

/// Why a submit was refused. Nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The number does not parse.
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    /// No route serves the number.
    #[error("unroutable: {0}")]
    Unroutable(String),
    /// The core refused it (text, client reference, validity, store).
    #[error(transparent)]
    Refused(#[from] SubmitError),
    /// A sandbox message, and the gateway has no sandbox carrier.
    #[error("this gateway has no sandbox carrier (it needs the built-in simulator)")]
    NoSandbox,
    /// The gateway is shutting down and takes no new work.
    #[error("the gateway is shutting down")]
    ShuttingDown,
    /// A store error stopped the outbox: it takes nothing until restarted.
    #[error("the outbox is stopped after a storage error: {0}")]
    Stopped(String),
}

impl Refused {
    /// A short name for metrics and API error codes.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::InvalidNumber(_) => "invalid_number",
            Refused::Unroutable(_) => "unroutable",
            Refused::Refused(SubmitError::Unfit { .. }) => "unfit",
            Refused::Refused(SubmitError::ClientRef { .. }) => "invalid_client_ref",
            Refused::Refused(SubmitError::ZeroValidity) => "invalid_validity",
            Refused::Refused(SubmitError::QueueFull { .. }) => "queue_full",
            Refused::Refused(SubmitError::Store(_)) => "storage",
            Refused::Refused(_) => "unroutable",
            Refused::NoSandbox => "no_sandbox",
            Refused::ShuttingDown => "shutting_down",
            Refused::Stopped(_) => "storage",
        }
    }
}

impl Message for Submit {
    type Result = Result<Accepted, Refused>;
}

/// A pool asks for up to `max` PDUs of its carrier.
#[derive(Debug)]
pub struct Pull {
    /// The carrier.
    pub carrier: String,
    /// At most this many PDUs.
    pub max: usize,
    /// Of them, at most this many of a class other than otp (the rest of `max` is the
    /// binds' otp reserve).
    pub max_other: usize,
}

impl Message for Pull {
    type Result = Vec<Dispatch>;
}

/// Results of submits from one bind (or the pool, for dispatches it could not send).
/// Answered once the new states are durable: until then the bind's pool counts the
/// answered submits as unsettled against its settle allowance, so a crash can make the
/// SMSC see again at most two windows' worth of messages per bind (SMPP 3.4 §2.8 bounds
/// what is unanswered; the allowance bounds what is answered but not yet on disk).
#[derive(Debug)]
pub struct Results(pub Vec<(DispatchKey, SubmitResult)>);

impl Message for Results {
    type Result = ();
}

/// A receipt from a carrier; answered once it is durably recorded (`Ok`) or could not be
/// attributed yet and should be offered again by the SMSC (`Err(Retry)`).
#[derive(Debug)]
pub struct Receipt {
    /// The carrier.
    pub carrier: String,
    /// The ids it carries (see [`crate::carrier::link::Delivery::Receipt`]).
    pub ids: Vec<String>,
    /// The state it reports.
    pub state: Option<MessageState>,
    /// network_error_code.
    pub network_error: Option<NetworkErrorCode>,
}

/// Why a delivery was not recorded: the Bind answers the SMSC with a temporary error so it
/// offers it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRecorded {
    /// The carrier's id form is still being learnt and this receipt cannot be attributed
    /// with certainty yet.
    #[error("the carrier's message-id form is still being learnt")]
    Learning,
    /// The store failed.
    #[error("storage: {0}")]
    Store(String),
}

impl Message for Receipt {
    type Result = Result<(), NotRecorded>;
}

/// A mobile-originated message; answered once durably recorded.
#[derive(Debug)]
pub struct Mo {
    /// The carrier.
    pub carrier: String,
    /// The handset.
    pub from: String,
    /// The number it was sent to.
    pub to: String,
    /// Its text.
    pub text: String,
}

impl Message for Mo {
    type Result = Result<(), NotRecorded>;
}

/// A carrier has had no bind able to submit for its failover time (`available: false`), or
/// has one again.
#[derive(Debug)]
pub struct CarrierAvailability {
    /// The carrier.
    pub carrier: String,
    /// Whether it can take work.
    pub available: bool,
}

impl Message for CarrierAvailability {
    type Result = ();
}

/// A message's status.
#[derive(Debug)]
pub struct GetStatus(pub MessageId);

impl Message for GetStatus {
    type Result = Result<Option<MessageStatus>, StoreError>;
}

/// Events after a cursor.
#[derive(Debug)]
pub struct GetEvents {
    /// The last sequence number seen (0 from the start).
    pub cursor: u64,
    /// At most this many.
    pub max: usize,
}

impl Message for GetEvents {
    type Result = Result<Vec<(u64, Event)>, StoreError>;
}

/// The sequence number of the oldest event kept (0: the log is empty).
#[derive(Debug, Message)]
#[rtype(result = "u64")]
pub struct GetFirstEvent;

/// Queue figures for status pages.
#[derive(Debug)]
pub struct GetDepth;

/// A new number-portability table for the router: messages accepted from now on are routed
/// with it; messages already accepted keep the route they were given. Answers the
/// number of entries of the table replaced.
#[derive(Debug)]
pub struct SetPortability(pub PortabilityTable);

impl Message for SetPortability {
    type Result = usize;
}

/// Messages waiting per carrier and class, and the totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Depth {
    /// (carrier, class) → messages waiting.
    pub queued: Vec<(String, Class, usize)>,
    /// Messages not final.
    pub open: usize,
    /// Receipts kept unmatched.
    pub unmatched: usize,
}

impl Message for GetDepth {
    type Result = Depth;
}

/// Shutdown step: take no new work from now on.
#[derive(Debug)]
pub struct StopAccepting;

impl Message for StopAccepting {
    type Result = ();
}

/// Shutdown step: make every write durable; answers when the flush is done.
#[derive(Debug)]
pub struct Flush;

impl Message for Flush {
    type Result = Result<(), StoreError>;
}

/// A pool that found no work and wants to hear when there is some.
#[derive(Debug, Clone, Copy)]
pub struct Nudge;

impl Message for Nudge {
    type Result = ();
}

/// A job of the fast lane (made by [`OutboxHandle`] only).
pub struct Job(Kind);

/// What a job asks, with the channel its answer goes back on.
enum Kind {
    Pull(Pull, tokio::sync::oneshot::Sender<Vec<Dispatch>>),
    Results(Results, tokio::sync::oneshot::Sender<()>),
    Submit(
        Submit,
        tokio::sync::oneshot::Sender<Result<Accepted, Refused>>,
    ),
}

/// The Outbox actor's address with its fast lane: pulls, otp submits and the results of
/// otp submits go by the lane, everything else by the mailbox ([`OutboxHandle::mailbox`]).
#[derive(Clone)]
pub struct OutboxHandle {
    addr: Addr<OutboxActor>,
    lane: Lane<Job>,
}

impl OutboxHandle {
    /// Starts the actor on `arbiter`, over what `make` builds there, with a fresh lane.
    pub fn start(
        arbiter: &ArbiterHandle,
        make: impl FnOnce(LaneReceiver<Job>) -> OutboxActor + Send + 'static,
    ) -> OutboxHandle {
        // Should the arbiter stop before it builds the actor, the receiver is dropped with
        // this closure, and the lane refuses jobs rather than keep them.
        let (lane, receiver) = super::lane::lane();
        let addr = OutboxActor::start_in_arbiter(arbiter, move |_| make(receiver));
        OutboxHandle { addr, lane }
    }

    /// The mailbox, for every message that has no reason to overtake the others.
    pub fn mailbox(&self) -> &Addr<OutboxActor> {
        &self.addr
    }

    /// Asks for work by the lane.
    pub fn pull(
        &self,
        pull: Pull,
    ) -> impl std::future::Future<Output = Result<Vec<Dispatch>, MailboxError>> + 'static {
        self.ask(|tx| Kind::Pull(pull, tx))
    }

    /// Hands back submit results: by the lane when `urgent` (an otp message's among them),
    /// else by the mailbox.
    pub fn results(
        &self,
        results: Results,
        urgent: bool,
    ) -> futures_util::future::BoxFuture<'static, Result<(), MailboxError>> {
        if !urgent {
            return Box::pin(self.addr.send(results));
        }
        Box::pin(self.ask(|tx| Kind::Results(results, tx)))
    }

    /// Submits a message: an otp one by the lane, the others by the mailbox.
    pub fn submit(
        &self,
        submit: Submit,
    ) -> futures_util::future::BoxFuture<'static, Result<Result<Accepted, Refused>, MailboxError>>
    {
        if submit.class != Class::Otp {
            return Box::pin(self.addr.send(submit));
        }
        Box::pin(self.ask(|tx| Kind::Submit(submit, tx)))
    }

    /// Pushes the job `make` builds around its answer channel; the answer, or
    /// [`MailboxError::Closed`] when the actor is gone (the job refused or dropped).
    fn ask<T: 'static>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Kind,
    ) -> impl std::future::Future<Output = Result<T, MailboxError>> + 'static {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let pushed = self.lane.push(Job(make(tx))).is_ok();
        async move {
            if !pushed {
                return Err(MailboxError::Closed);
            }
            rx.await.map_err(|_| MailboxError::Closed)
        }
    }
}

/// What the Outbox actor needs to know of each carrier.
pub struct CarrierLink {
    /// Where to nudge it.
    pub pool: Recipient<Nudge>,
    /// How its receipt ids are matched.
    pub matcher: IdMatcher,
}

/// The Outbox actor. See the module documentation.
pub struct OutboxActor {
    core: Outbox<SledStore>,
    router: Router,
    plan: NumberPlan,
    /// The carrier sandbox messages go to (and only they): the built-in simulated SMSC.
    sandbox: Option<String>,
    carriers: HashMap<String, CarrierLink>,
    /// Carriers whose pool asked and found nothing: nudged when work may have arrived.
    dry: HashSet<String>,
    /// Carriers whose pool's last pull found all the work it asked for but no otp message
    /// for its binds' otp reserve: nudged only once an otp message is ready, so a busy
    /// carrier's pool is not woken by every bulk accept for an empty reserve pull.
    otp_dry: HashSet<String>,
    /// Carriers that have had no bind able to submit for their failover time.
    down: HashSet<String>,
    accepting: bool,
    /// Set after a storage error: the core's memory may be ahead of the disk, so the
    /// outbox refuses everything until it is restarted and recovers from the disk.
    stopped: Option<String>,
    /// Jobs that overtake the mailbox (see [`super::lane`]); dropped with the actor,
    /// which closes the lane.
    lane: LaneReceiver<Job>,
    /// The lane's jobs are running (see [`OutboxActor::run_lane`]).
    in_lane: bool,
    /// An [`EndGroup`] is queued behind this turn's messages.
    group_armed: bool,
    /// Handler turns since it was queued (see [`GROUP_TURNS`]).
    turns_in_group: u32,
}

impl OutboxActor {
    /// An actor over a recovered core.
    pub fn new(
        core: Outbox<SledStore>,
        router: Router,
        plan: NumberPlan,
        sandbox: Option<String>,
        carriers: HashMap<String, CarrierLink>,
        lane: LaneReceiver<Job>,
    ) -> OutboxActor {
        OutboxActor {
            lane,
            in_lane: false,
            group_armed: false,
            turns_in_group: 0,
            core,
            router,
            plan,
            sandbox,
            carriers,
            dry: HashSet::new(),
            otp_dry: HashSet::new(),
            down: HashSet::new(),
            accepting: true,
            stopped: None,
        }
    }

    /// A storage error: stop taking work (the core may be ahead of the disk).
    fn fail(&mut self, e: &StoreError) {
        error!(error = %e, "outbox storage failed: refusing new work until restarted");
        self.stopped.get_or_insert_with(|| e.to_string());
    }

    /// The number and its route; a sandbox message's route is the sandbox carrier alone,
    /// so it can neither be routed nor fail over to a live carrier.
    fn route(&self, to: &str, sandbox: bool) -> Result<(Msisdn, Route), Refused> {
        let number = self
            .plan
            .normalise(to)
            .map_err(|e| Refused::InvalidNumber(format!("{to:?}: {e}")))?;
        if sandbox {
            let carrier = self.sandbox.clone().ok_or(Refused::NoSandbox)?;
            return Ok((
                number,
                Route {
                    carriers: vec![carrier],
                    kind: crate::carrier::router::RouteKind::Domestic,
                },
            ));
        }
        let route = self
            .router
            .route(&number)
            .map_err(|e| Refused::Unroutable(e.to_string()))?;
        // Carriers that are down go last: tried only when nothing else is left.
        let (mut up, down): (Vec<String>, Vec<String>) = route
            .carriers
            .into_iter()
            .partition(|c| !self.down.contains(c));
        up.extend(down);
        let kind = route.kind;
        Ok((number, Route { carriers: up, kind }))
    }

    /// Tells every idle pool that work may be waiting for it (every handler that changes
    /// anything ends here).
    fn nudge_dry(&mut self) {
        if !self.otp_dry.is_empty() {
            let core = &self.core;
            let ready: Vec<String> = self
                .otp_dry
                .iter()
                .filter(|c| core.has_ready(c, Class::Otp))
                .cloned()
                .collect();
            for carrier in ready {
                self.otp_dry.remove(&carrier);
                self.dry.insert(carrier);
            }
        }
        if self.dry.is_empty() {
            return;
        }
        for carrier in std::mem::take(&mut self.dry) {
            if let Some(link) = self.carriers.get(&carrier) {
                // A full mailbox: the pool stays dry until nudged, so it is nudged again
                // on the next tick rather than forgotten.
                if let Err(SendError::Full(_)) = link.pool.try_send(Nudge) {
                    self.dry.insert(carrier);
                }
            }
        }
    }

    fn export_gauges(&self) {
        for carrier in self.carriers.keys() {
            for class in Class::BY_PRIORITY {
                metrics::gauge!(names::QUEUE_DEPTH, "carrier" => carrier.clone(), "class" => class.as_str())
                    .set(self.core.queue_depth(carrier, class) as f64);
            }
        }
    }

    /// Accepts a message (from the mailbox or the lane): answered once it is on disk.
    fn submit(
        &mut self,
        msg: Submit,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<Accepted, Refused>> {
        let refused = |r: Refused| -> ResponseFuture<Result<Accepted, Refused>> {
            metrics::counter!(names::REFUSED, "reason" => r.code()).increment(1);
            Box::pin(async move { Err(r) })
        };
        if let Some(e) = &self.stopped {
            return refused(Refused::Stopped(e.clone()));
        }
        if !self.accepting {
            return refused(Refused::ShuttingDown);
        }
        let (to, route) = match self.route(&msg.to, msg.sandbox) {
            Ok(r) => r,
            Err(e) => return refused(e),
        };
        let class = msg.class;
        let new = NewMessage {
            to,
            from: msg.from,
            text: msg.text,
            masked: msg.masked,
            id: msg.id,
            class,
            client_ref: msg.client_ref,
            validity_ms: msg
                .validity
                .map(|v| u64::try_from(v.as_millis()).unwrap_or(u64::MAX)),
            registered_delivery: msg.registered_delivery,
            owner: msg.owner,
        };
        let started = std::time::Instant::now();
        let accepted = match self.core.accept(new, route, unix_ms()) {
            Ok(a) => a,
            Err(SubmitError::Store(e)) => {
                self.fail(&e);
                return refused(Refused::Refused(SubmitError::Store(e)));
            }
            Err(e) => return refused(Refused::Refused(e)),
        };
        self.nudge_dry();
        let commit = self.core.commit_later();
        let actor = ctx.address();
        Box::pin(async move {
            if let Err(e) = commit.await {
                // The flush failed: the core holds writes the disk may not, so the outbox
                // stops as it does when a write fails (a full disk fails the flush first).
                // A full mailbox loses nothing: the next write fails and stops it too.
                let _ = actor.try_send(StorageFailed(e.clone()));
                metrics::counter!(names::REFUSED, "reason" => "storage").increment(1);
                return Err(Refused::Refused(SubmitError::Store(e)));
            }
            metrics::histogram!(names::ACCEPT_LATENCY).record(started.elapsed().as_secs_f64());
            if !accepted.duplicate {
                metrics::counter!(names::ACCEPTED, "class" => class.as_str()).increment(1);
                info!(target: "smsgate::message", id = %accepted.id, class = class.as_str(), "accepted");
            }
            Ok(accepted)
        })
    }

    /// The work a pull asks for (by the lane or the mailbox).
    fn pull(&mut self, msg: Pull) -> Vec<Dispatch> {
        if self.stopped.is_some() {
            return Vec::new();
        }
        let work =
            match self
                .core
                .take_work_reserving(&msg.carrier, msg.max, msg.max_other, unix_ms())
            {
                Ok(work) => work,
                Err(e) => {
                    self.fail(&e);
                    Vec::new()
                }
            };
        // Short of the places for any class: any new work is worth a nudge. Short of the
        // reserve alone: only an otp message is. (A carrier removed meanwhile is not kept.)
        if !self.carriers.contains_key(&msg.carrier) {
            self.dry.remove(&msg.carrier);
            self.otp_dry.remove(&msg.carrier);
        } else if work.len() < msg.max_other.min(msg.max) {
            self.otp_dry.remove(&msg.carrier);
            self.dry.insert(msg.carrier);
        } else if work.len() < msg.max {
            self.otp_dry.insert(msg.carrier);
        } else {
            self.otp_dry.remove(&msg.carrier);
        }
        work
    }

    /// Records submit results (from the mailbox or the lane): answered once durable.
    fn results(&mut self, msg: Results, ctx: &mut Context<Self>) -> ResponseFuture<()> {
        if self.stopped.is_some() {
            // Nothing is taken any more; the bind may as well free its window.
            return Box::pin(async {});
        }
        for (key, result) in msg.0 {
            // A bind's batch can hold a whole window of results (milliseconds of writes):
            // what waits in the lane goes between two of them, not after the batch. A
            // storage error there stops the batch too; the clock is read after it.
            self.run_lane(ctx);
            if self.stopped.is_some() {
                return Box::pin(async {});
            }
            let now = unix_ms();
            // Kept for the log, only when its lines are written (this is the outbox's hot
            // path): the carrier's id of a submitted segment, or what else came.
            let logged = tracing::enabled!(target: "smsgate::message", tracing::Level::INFO);
            let (carrier_id, other) = match &result {
                _ if !logged => (None, None),
                SubmitResult::Submitted { carrier_id } => (Some(carrier_id.clone()), None),
                other => (None, Some(other.clone())),
            };
            match self.core.on_submit_resp(key, result, now) {
                Ok(SubmitEffect::Submitted {
                    state,
                    held_receipt,
                }) => {
                    info!(target: "smsgate::message", id = %key.message, segment = key.segment, carrier_id = %carrier_id.as_deref().unwrap_or(""), state = state.as_str(), "submitted");
                    if let Some(held) = held_receipt {
                        let seconds = now.saturating_sub(held.accepted_at) as f64 / 1000.0;
                        metrics::histogram!(names::RECEIPT_LATENCY, "carrier" => held.carrier.clone())
                            .record(seconds);
                        info!(target: "smsgate::message", id = %key.message, segment = key.segment, carrier = %held.carrier, receipt = held.state.name(), state = state.as_str(), held = true, "receipt");
                    }
                    if state.is_final() {
                        metrics::counter!(names::FINAL, "state" => state.as_str()).increment(1);
                    }
                }
                Ok(SubmitEffect::Ended { state }) => {
                    info!(target: "smsgate::message", id = %key.message, state = state.as_str(), "ended at submit");
                    if state.is_final() {
                        metrics::counter!(names::FINAL, "state" => state.as_str()).increment(1);
                    }
                }
                Ok(SubmitEffect::FailedOver { carrier }) => {
                    info!(target: "smsgate::message", id = %key.message, to_carrier = %carrier, "failed over");
                }
                Ok(SubmitEffect::Retry { at }) => {
                    debug!(target: "smsgate::message", id = %key.message, segment = key.segment, result = ?other, retry_at = at, "submit to be retried");
                }
                Ok(SubmitEffect::Stale) => {
                    debug!(target: "smsgate::message", id = %key.message, segment = key.segment, serial = key.serial, carrier_id = %carrier_id.as_deref().unwrap_or(""), result = ?other, "result of an earlier dispatch: ignored");
                }
                Err(e) => {
                    self.fail(&e);
                    return Box::pin(async {});
                }
            }
        }
        self.nudge_dry();
        let commit = self.core.commit_later();
        let actor = ctx.address();
        Box::pin(async move {
            if let Err(e) = commit.await {
                let _ = actor.try_send(StorageFailed(e));
            }
        })
    }

    /// Runs every job waiting in the lane, oldest first. Called at the start of every
    /// handler turn and when the lane wakes an idle actor.
    fn run_lane(&mut self, ctx: &mut Context<Self>) {
        // A group that failed to be written, whichever call wrote it (an event read, a
        // flush), stops the outbox before this turn does anything.
        if self.stopped.is_none() {
            if let Some(e) = self.core.store().failed() {
                self.fail(&e);
            }
        }
        self.arm_group_end(ctx);
        self.drain_lane(ctx);
    }

    /// [`OutboxActor::run_lane`] without arming the end of the group.
    fn drain_lane(&mut self, ctx: &mut Context<Self>) {
        // A job that reaches here itself (a results batch looks between its items) leaves
        // what came meanwhile to the loop under way: no nesting, and oldest first.
        if self.in_lane || !self.lane.is_pending() {
            return;
        }
        self.in_lane = true;
        while self.lane.is_pending() {
            self.run_lane_once(ctx);
        }
        self.in_lane = false;
    }

    /// The store writes the steps of one turn together (see [`Storage::end_group`]): the
    /// turn ends once the mailbox is empty, as an actor's own notifications run after the
    /// messages waiting in its mailbox (a group that grows large is written before).
    /// Every handler turn and tick arms it through [`OutboxActor::run_lane`].
    fn arm_group_end(&mut self, ctx: &mut Context<Self>) {
        if !self.group_armed {
            self.group_armed = true;
            self.turns_in_group = 0;
            ctx.notify(EndGroup);
            return;
        }
        // A mailbox that never runs empty (a stream of status reads) must not hold the
        // turn's acknowledgements back: after this many handler turns the group is written.
        self.turns_in_group = self.turns_in_group.saturating_add(1);
        if self.turns_in_group >= GROUP_TURNS {
            self.turns_in_group = 0;
            if let Err(e) = self.core.end_group() {
                self.fail(&e);
            }
        }
    }

    fn run_lane_once(&mut self, ctx: &mut Context<Self>) {
        for Job(job) in self.lane.take() {
            match job {
                Kind::Pull(pull, answer) => {
                    let _ = answer.send(self.pull(pull));
                }
                Kind::Results(results, answer) => {
                    let done = self.results(results, ctx);
                    ctx.spawn(
                        async move {
                            done.await;
                            let _ = answer.send(());
                        }
                        .into_actor(self),
                    );
                }
                Kind::Submit(submit, answer) => {
                    let accepted = self.submit(submit, ctx);
                    ctx.spawn(
                        async move {
                            let _ = answer.send(accepted.await);
                        }
                        .into_actor(self),
                    );
                }
            }
        }
    }

    /// Waits for the lane's next wake-up, runs it, and waits again.
    fn watch_lane(&mut self, ctx: &mut Context<Self>) {
        ctx.spawn(self.lane.woken().into_actor(self).map(|(), act, ctx| {
            act.run_lane(ctx);
            act.watch_lane(ctx);
        }));
    }

    /// The receipt's id under the carrier's form, or why it cannot be attributed yet.
    fn match_receipt(&mut self, receipt: &Receipt) -> Result<Option<String>, NotRecorded> {
        let Some(link) = self.carriers.get_mut(&receipt.carrier) else {
            return Ok(receipt.ids.first().cloned());
        };
        let store = self.core.store();
        let mut learning = false;
        for id in &receipt.ids {
            let found = link.matcher.find(id, |key| {
                store
                    .segment_by_carrier_id(&receipt.carrier, key.as_str())
                    .ok()
                    .flatten()
            });
            match found {
                IdMatch::Matched { key, learnt, .. } => {
                    if let Some(form) = learnt {
                        info!(carrier = %receipt.carrier, form = %form, "learnt the carrier's message-id form from its receipts");
                    }
                    return Ok(Some(key.as_str().to_owned()));
                }
                IdMatch::Learning => learning = true,
                IdMatch::Unmatched => {}
            }
        }
        if learning || link.matcher.form().is_none() {
            return Err(NotRecorded::Learning);
        }
        // Unmatched under the known form: kept by the core under that form's key.
        let form = link.matcher.form();
        Ok(receipt
            .ids
            .iter()
            .find_map(|id| form.and_then(|f| f.receipt_key(id)))
            .map(|key| key.as_str().to_owned()))
    }
}

impl Actor for OutboxActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.watch_lane(ctx);
        ctx.run_interval(TICK, |act, ctx| {
            act.run_lane(ctx);
            if act.stopped.is_some() {
                return;
            }
            match act.core.tick(unix_ms()) {
                Ok(report) => {
                    let counts = [
                        (names::FINAL, "state", "expired_or_failed", report.ended),
                        (
                            names::RETENTION_REMOVED,
                            "what",
                            "messages",
                            report.messages_swept,
                        ),
                        (
                            names::RETENTION_REMOVED,
                            "what",
                            "events",
                            report.events_swept,
                        ),
                    ];
                    for (name, label, value, n) in counts {
                        if n > 0 {
                            metrics::counter!(name, label => value).increment(n as u64);
                        }
                    }
                }
                Err(e) => act.fail(&e),
            }
            act.nudge_dry();
            act.export_gauges();
        });
    }
}

impl Handler<Submit> for OutboxActor {
    type Result = ResponseFuture<Result<Accepted, Refused>>;

    fn handle(&mut self, msg: Submit, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        self.submit(msg, ctx)
    }
}

/// A group commit failed after the handler that waited for it had returned: the outbox
/// stops taking work, as after a failed write.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct StorageFailed(StoreError);

/// The end of a turn: the store writes the turn's steps (see
/// [`OutboxActor::arm_group_end`]).
struct EndGroup;

/// The most handler turns one group waits for its end: a few milliseconds of work.
const GROUP_TURNS: u32 = 64;

impl Message for EndGroup {
    type Result = ();
}

impl Handler<EndGroup> for OutboxActor {
    type Result = ();

    fn handle(&mut self, _: EndGroup, ctx: &mut Self::Context) {
        self.group_armed = false;
        // What came by the lane meanwhile joins this group rather than waiting behind its
        // write (a job that runs a handler's path arms the next end again).
        self.drain_lane(ctx);
        if let Err(e) = self.core.end_group() {
            self.fail(&e);
        }
    }
}

impl Handler<StorageFailed> for OutboxActor {
    type Result = ();

    fn handle(&mut self, msg: StorageFailed, ctx: &mut Self::Context) {
        self.run_lane(ctx);
        self.fail(&msg.0);
    }
}

impl Handler<Pull> for OutboxActor {
    type Result = MessageResult<Pull>;

    fn handle(&mut self, msg: Pull, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        MessageResult(self.pull(msg))
    }
}

impl Handler<Results> for OutboxActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: Results, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        self.results(msg, ctx)
    }
}

impl Handler<Receipt> for OutboxActor {
    type Result = ResponseFuture<Result<(), NotRecorded>>;

    fn handle(&mut self, msg: Receipt, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        if let Some(e) = &self.stopped {
            let e = NotRecorded::Store(e.clone());
            return Box::pin(async move { Err(e) });
        }
        let state_name = msg.state.map_or("UNKNOWN", MessageState::name);
        metrics::counter!(names::RECEIPTS, "carrier" => msg.carrier.clone(), "state" => state_name)
            .increment(1);
        let key = match self.match_receipt(&msg) {
            Ok(key) => key,
            Err(e) => {
                debug!(target: "smsgate::message", carrier = %msg.carrier, ids = ?msg.ids, error = %e, "receipt refused for now");
                return Box::pin(async move { Err(e) });
            }
        };
        let Some(key) = key else {
            warn!(carrier = %msg.carrier, ids = ?msg.ids, "receipt with no usable id");
            return Box::pin(async { Ok(()) });
        };
        let incoming = IncomingReceipt {
            carrier: msg.carrier.clone(),
            candidates: vec![key.clone()],
            state: msg.state.unwrap_or(MessageState::Unknown),
            network_error: msg.network_error,
        };
        let now = unix_ms();
        match self.core.on_receipt(incoming, now) {
            Ok(ReceiptOutcome::Matched {
                message,
                state,
                accepted_at,
                ..
            }) => {
                let seconds = now.saturating_sub(accepted_at) as f64 / 1000.0;
                metrics::histogram!(names::RECEIPT_LATENCY, "carrier" => msg.carrier.clone())
                    .record(seconds);
                info!(target: "smsgate::message", id = %message, carrier = %msg.carrier, carrier_id = %key, receipt = state_name, state = state.as_str(), "receipt");
                if state.is_final() {
                    metrics::counter!(names::FINAL, "state" => state.as_str()).increment(1);
                }
            }
            Ok(ReceiptOutcome::Unmatched { kept }) => {
                metrics::counter!(names::RECEIPTS_UNMATCHED, "carrier" => msg.carrier.clone())
                    .increment(1);
                debug!(target: "smsgate::message", carrier = %msg.carrier, carrier_id = %key, kept, "receipt kept for late matching");
            }
            Ok(other) => {
                debug!(target: "smsgate::message", carrier = %msg.carrier, carrier_id = %key, outcome = ?other, "receipt")
            }
            Err(e) => {
                self.fail(&e);
                let e = NotRecorded::Store(e.to_string());
                return Box::pin(async move { Err(e) });
            }
        }
        let commit = self.core.commit_later();
        Box::pin(async move { commit.await.map_err(|e| NotRecorded::Store(e.to_string())) })
    }
}

impl Handler<Mo> for OutboxActor {
    type Result = ResponseFuture<Result<(), NotRecorded>>;

    fn handle(&mut self, msg: Mo, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        if let Some(e) = &self.stopped {
            let e = NotRecorded::Store(e.clone());
            return Box::pin(async move { Err(e) });
        }
        metrics::counter!(names::MO, "carrier" => msg.carrier.clone()).increment(1);
        if let Err(e) = self
            .core
            .record_mo(&msg.carrier, &msg.from, &msg.to, &msg.text, unix_ms())
        {
            self.fail(&e);
            let e = NotRecorded::Store(e.to_string());
            return Box::pin(async move { Err(e) });
        }
        info!(target: "smsgate::message", carrier = %msg.carrier, from = %msg.from, to = %msg.to, "mobile-originated message");
        let commit = self.core.commit_later();
        Box::pin(async move { commit.await.map_err(|e| NotRecorded::Store(e.to_string())) })
    }
}

/// Appends an event that changes no message to the log (a verification's outcome);
/// answered once it is written (it is flushed with the next group commit).
#[derive(Message)]
#[rtype(result = "Result<(), NotRecorded>")]
pub struct RecordEvent(pub EventKind);

impl Handler<RecordEvent> for OutboxActor {
    type Result = Result<(), NotRecorded>;

    fn handle(&mut self, msg: RecordEvent, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        if let Some(e) = &self.stopped {
            return Err(NotRecorded::Store(e.clone()));
        }
        if let Err(e) = self.core.record_event(msg.0, unix_ms()) {
            self.fail(&e);
            return Err(NotRecorded::Store(e.to_string()));
        }
        Ok(())
    }
}

impl Handler<CarrierAvailability> for OutboxActor {
    type Result = ();

    fn handle(&mut self, msg: CarrierAvailability, ctx: &mut Self::Context) {
        self.run_lane(ctx);
        if msg.available {
            if self.down.remove(&msg.carrier) {
                info!(carrier = %msg.carrier, "carrier available again: new messages route to it");
                // What waits on carriers still down and may go through this one goes now.
                match self.core.carrier_available(
                    &msg.carrier,
                    |c| self.down.contains(c),
                    unix_ms(),
                ) {
                    Ok(0) => {}
                    Ok(moved) => {
                        info!(carrier = %msg.carrier, moved, "queued messages of carriers still down moved to it")
                    }
                    Err(e) => self.fail(&e),
                }
                self.nudge_dry();
            }
            return;
        }
        self.down.insert(msg.carrier.clone());
        match self
            .core
            .carrier_unavailable(&msg.carrier, |c| self.down.contains(c), unix_ms())
        {
            Ok(moved) => {
                warn!(carrier = %msg.carrier, moved, "carrier unavailable: queued messages failed over")
            }
            Err(e) => self.fail(&e),
        }
        self.nudge_dry();
    }
}

impl Handler<GetStatus> for OutboxActor {
    type Result = Result<Option<MessageStatus>, StoreError>;

    fn handle(&mut self, msg: GetStatus, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        self.core.status(msg.0)
    }
}

impl Handler<GetEvents> for OutboxActor {
    type Result = Result<Vec<(u64, Event)>, StoreError>;

    fn handle(&mut self, msg: GetEvents, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        self.core.published_events(msg.cursor, msg.max)
    }
}

/// The sequence number of the newest event applied (shown or not yet); `None` once the
/// outbox has stopped on a storage failure (what it applied since may never be shown).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Option<u64>")]
pub struct GetLastEvent;

impl Handler<GetLastEvent> for OutboxActor {
    type Result = Option<u64>;

    fn handle(&mut self, _: GetLastEvent, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        self.stopped.is_none().then(|| self.core.last_event())
    }
}

impl Handler<GetFirstEvent> for OutboxActor {
    type Result = u64;

    fn handle(&mut self, _: GetFirstEvent, _: &mut Self::Context) -> Self::Result {
        self.core.first_event()
    }
}

impl Handler<SetPortability> for OutboxActor {
    type Result = usize;

    fn handle(&mut self, msg: SetPortability, ctx: &mut Self::Context) -> usize {
        self.run_lane(ctx);
        self.router.set_portability(msg.0).len()
    }
}

impl Handler<GetDepth> for OutboxActor {
    type Result = MessageResult<GetDepth>;

    fn handle(&mut self, _: GetDepth, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        let mut queued = Vec::new();
        let mut carriers: Vec<&String> = self.carriers.keys().collect();
        carriers.sort();
        for carrier in carriers {
            for class in Class::BY_PRIORITY {
                queued.push((
                    carrier.clone(),
                    class,
                    self.core.queue_depth(carrier, class),
                ));
            }
        }
        MessageResult(Depth {
            queued,
            open: self.core.open_messages(),
            unmatched: self.core.unmatched_held(),
        })
    }
}

impl Handler<StopAccepting> for OutboxActor {
    type Result = ();

    fn handle(&mut self, _: StopAccepting, ctx: &mut Self::Context) {
        self.run_lane(ctx);
        self.accepting = false;
    }
}

impl Handler<Flush> for OutboxActor {
    type Result = ResponseFuture<Result<(), StoreError>>;

    fn handle(&mut self, _: Flush, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        let commit = self.core.commit();
        Box::pin(commit)
    }
}

/// Reload: a carrier added or replaced. Its profile builds its messages from now on, its
/// link (the new pool) is nudged when work comes, and it starts as available (its new
/// pool reports it down again after its failover time without a bind).
pub struct SetCarrier {
    /// The carrier.
    pub name: String,
    /// How its messages are built.
    pub profile: super::CarrierProfile,
    /// Its pool and receipt-id matcher.
    pub link: CarrierLink,
}

impl Message for SetCarrier {
    type Result = ();
}

impl Handler<SetCarrier> for OutboxActor {
    type Result = ();

    fn handle(&mut self, msg: SetCarrier, ctx: &mut Self::Context) {
        self.run_lane(ctx);
        self.core.set_carrier(&msg.name, msg.profile);
        self.down.remove(&msg.name);
        self.carriers.insert(msg.name.clone(), msg.link);
        // The new pool asks for work once a bind is up; a nudge is owed to it.
        self.dry.insert(msg.name);
        self.nudge_dry();
    }
}

/// Reload: the router (routes and portability table) and the outbox's settings replaced.
/// Messages already accepted keep their routes. Answers the number of entries of the
/// portability table replaced.
pub struct SetRouting {
    /// The new router.
    pub router: Router,
    /// The new settings.
    pub settings: super::Settings,
}

impl Message for SetRouting {
    type Result = usize;
}

impl Handler<SetRouting> for OutboxActor {
    type Result = usize;

    fn handle(&mut self, msg: SetRouting, ctx: &mut Self::Context) -> usize {
        self.run_lane(ctx);
        let before = self.router.portability().len();
        self.router = msg.router;
        self.core.set_settings(msg.settings);
        before
    }
}

/// Reload: a carrier removed. Its queued messages move to another configured carrier of
/// their route; the rest stay queued under it, held (see [`Outbox::carrier_removed`]).
pub struct RemoveCarrier(pub String);

/// What removing a carrier did with its queued messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Moved to another carrier of their route.
    pub moved: usize,
    /// Left queued under the removed carrier: no other configured carrier in their route.
    pub held: usize,
}

impl Message for RemoveCarrier {
    type Result = Result<Removed, StoreError>;
}

impl Handler<RemoveCarrier> for OutboxActor {
    type Result = Result<Removed, StoreError>;

    fn handle(&mut self, msg: RemoveCarrier, ctx: &mut Self::Context) -> Self::Result {
        self.run_lane(ctx);
        let name = msg.0;
        self.carriers.remove(&name);
        self.dry.remove(&name);
        self.otp_dry.remove(&name);
        // Down: a message accepted before the router changed that names it goes elsewhere
        // first, as for a carrier without binds.
        self.down.insert(name.clone());
        let carriers = &self.carriers;
        let down = &self.down;
        let moved = match self.core.carrier_removed(
            &name,
            |c| carriers.contains_key(c) && !down.contains(c),
            unix_ms(),
        ) {
            Ok(moved) => moved,
            Err(e) => {
                self.fail(&e);
                return Err(e);
            }
        };
        let held = self.core.waiting_for(&name);
        if held > 0 {
            warn!(carrier = %name, moved, held, "carrier removed: messages with no other configured carrier in their route are held until it is configured again or their validity ends");
        } else {
            info!(carrier = %name, moved, "carrier removed");
        }
        self.nudge_dry();
        Ok(Removed { moved, held })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::router::{RouteKind, RouteRule};
    use crate::outbox::{Addressing, CarrierProfile, Settings, TextProfile};

    /// Holds the actor's thread until released, so that a test can queue messages behind
    /// the turn under way.
    struct Stall {
        started: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
    }

    impl Message for Stall {
        type Result = ();
    }

    impl Handler<Stall> for OutboxActor {
        type Result = ();

        fn handle(&mut self, msg: Stall, ctx: &mut Self::Context) {
            self.run_lane(ctx);
            let _ = msg.started.send(());
            let _ = msg.release.recv();
        }
    }

    /// Holds the actor's thread (it has its own: blocking here only waits for it to be
    /// held); the sender releases it.
    fn stall(handle: &OutboxHandle) -> std::sync::mpsc::Sender<()> {
        let (started, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release) = std::sync::mpsc::channel();
        handle.mailbox().do_send(Stall { started, release });
        started_rx.recv().expect("stalled");
        release_tx
    }

    /// The store's count of groups written.
    struct GroupsWritten;

    impl Message for GroupsWritten {
        type Result = u64;
    }

    impl Handler<GroupsWritten> for OutboxActor {
        type Result = u64;

        fn handle(&mut self, _: GroupsWritten, _: &mut Self::Context) -> u64 {
            self.core.store().groups_written()
        }
    }

    fn start(dir: &std::path::Path) -> (OutboxHandle, Arbiter) {
        start_with(dir, HashMap::new())
    }

    fn start_with(
        dir: &std::path::Path,
        carriers: HashMap<String, CarrierLink>,
    ) -> (OutboxHandle, Arbiter) {
        let store = SledStore::open(dir).expect("store");
        let profile = CarrierProfile::new(TextProfile::default(), Addressing::default(), 3_600_000);
        let profiles = HashMap::from([("c".to_owned(), profile)]);
        let core = Outbox::recover(store, Settings::default(), profiles, unix_ms()).expect("core");
        let router = Router::new([RouteRule {
            prefix: String::new(),
            carriers: vec!["c".to_owned()],
            kind: RouteKind::Domestic,
        }])
        .expect("router");
        let arbiter = Arbiter::new();
        let handle = OutboxHandle::start(&arbiter.handle(), move |lane| {
            OutboxActor::new(core, router, NumberPlan::japan(), None, carriers, lane)
        });
        (handle, arbiter)
    }

    fn verification_event(n: usize) -> EventKind {
        EventKind::Verification {
            id: format!("v{n}"),
            status: "approved".into(),
            purpose: "login".into(),
            sandbox: false,
        }
    }

    /// The order the outbox recorded things in: a message's first event by its id, a
    /// recorded event by its verification id.
    async fn recorded_order(handle: &OutboxHandle) -> Vec<String> {
        let events = handle
            .mailbox()
            .send(GetEvents {
                cursor: 0,
                max: 1000,
            })
            .await
            .expect("mailbox")
            .expect("events");
        events
            .into_iter()
            .filter_map(|(_, e)| match e.kind {
                EventKind::Message { id, .. } => Some(format!("m{}", id.0)),
                EventKind::Verification { id, .. } => Some(id),
                _ => None,
            })
            .collect()
    }

    #[actix::test]
    async fn an_otp_submit_by_the_lane_overtakes_the_mailbox_and_bulk_does_not() {
        let dir = tempfile::tempdir().expect("dir");
        let (handle, arbiter) = start(dir.path());
        let release_tx = stall(&handle);
        let behind: Vec<_> = (0..20)
            .map(|n| handle.mailbox().send(RecordEvent(verification_event(n))))
            .collect();
        let bulk = handle.submit(Submit::new("09012345678", "bulk", Class::Bulk));
        let otp = handle.submit(Submit::new("09012345679", "otp", Class::Otp));
        release_tx.send(()).expect("release");
        let otp = otp.await.expect("answered").expect("accepted");
        let bulk = bulk.await.expect("answered").expect("accepted");
        for recorded in futures_util::future::join_all(behind).await {
            assert!(matches!(recorded, Ok(Ok(()))));
        }
        let order = recorded_order(&handle).await;
        let mut expected = vec![format!("m{}", otp.id.0)];
        expected.extend((0..20).map(|n| format!("v{n}")));
        expected.push(format!("m{}", bulk.id.0));
        assert_eq!(order, expected);
        arbiter.stop();
    }

    /// The accepts waiting in the mailbox are one turn: written to the store as one group
    /// once the mailbox is empty, and every one of them acknowledged after it.
    #[actix::test]
    async fn the_accepts_queued_in_the_mailbox_are_written_as_one_group() {
        let dir = tempfile::tempdir().expect("dir");
        let (handle, arbiter) = start(dir.path());
        let before = handle.mailbox().send(GroupsWritten).await.expect("mailbox");
        let release_tx = stall(&handle);
        let accepts: Vec<_> = (0..30)
            .map(|n| {
                handle
                    .mailbox()
                    .send(Submit::new(format!("090123456{n:02}"), "bulk", Class::Bulk))
            })
            .collect();
        release_tx.send(()).expect("release");
        let mut ids = Vec::new();
        for accepted in futures_util::future::join_all(accepts).await {
            ids.push(accepted.expect("answered").expect("accepted").id);
        }
        let after = handle.mailbox().send(GroupsWritten).await.expect("mailbox");
        assert_eq!(after - before, 1, "30 accepts, one group");
        // Acknowledged means durable: all 30 are there after a restart.
        arbiter.stop();
        tokio::task::spawn_blocking(move || arbiter.join())
            .await
            .expect("join")
            .expect("arbiter");
        let store = SledStore::open(dir.path()).expect("reopen");
        for id in ids {
            assert!(store.message(id).expect("read").is_some(), "{id} is stored");
        }
    }

    /// A mailbox that does not run empty does not hold a turn's acknowledgements back: a
    /// group is written after [`GROUP_TURNS`] handler turns even if its end has not come.
    #[actix::test]
    async fn a_group_is_written_after_its_turns_even_if_the_mailbox_never_empties() {
        let dir = tempfile::tempdir().expect("dir");
        let (handle, arbiter) = start(dir.path());
        let before = handle.mailbox().send(GroupsWritten).await.expect("mailbox");
        let release_tx = stall(&handle);
        let first = handle
            .mailbox()
            .send(Submit::new("09012345601", "first", Class::Bulk));
        let reads: Vec<_> = (0..100).map(|_| handle.mailbox().send(GetDepth)).collect();
        let second = handle
            .mailbox()
            .send(Submit::new("09012345602", "second", Class::Bulk));
        release_tx.send(()).expect("release");
        first.await.expect("answered").expect("accepted");
        second.await.expect("answered").expect("accepted");
        for read in futures_util::future::join_all(reads).await {
            read.expect("answered");
        }
        let after = handle.mailbox().send(GroupsWritten).await.expect("mailbox");
        assert_eq!(
            after - before,
            2,
            "the first accept's group after {GROUP_TURNS} turns, the second at the end"
        );
        arbiter.stop();
    }

    #[actix::test]
    async fn a_pull_by_the_lane_runs_before_the_messages_queued_ahead_of_it() {
        let dir = tempfile::tempdir().expect("dir");
        let (handle, arbiter) = start(dir.path());
        let first = handle
            .submit(Submit::new("09012345678", "first", Class::Bulk))
            .await
            .expect("answered")
            .expect("accepted");
        let release_tx = stall(&handle);
        // Queued in the mailbox before the pull is asked for (to another number: one
        // number's messages leave one at a time).
        let second = handle.submit(Submit::new("09087654321", "second", Class::Bulk));
        let pull = handle.pull(Pull {
            carrier: "c".into(),
            max: 5,
            max_other: 5,
        });
        release_tx.send(()).expect("release");
        let work = pull.await.expect("answered");
        let second = second.await.expect("answered").expect("accepted");
        // The pull ran at the start of the first turn after the stall, before the second
        // message was accepted; by the mailbox it would have taken both.
        assert_eq!(
            work.iter().map(|d| d.key.message).collect::<Vec<_>>(),
            vec![first.id]
        );
        let next = handle
            .pull(Pull {
                carrier: "c".into(),
                max: 5,
                max_other: 5,
            })
            .await
            .expect("answered");
        assert_eq!(
            next.iter().map(|d| d.key.message).collect::<Vec<_>>(),
            vec![second.id]
        );
        arbiter.stop();
    }

    #[actix::test]
    async fn a_stopped_outbox_refuses_lane_jobs_instead_of_leaving_them_unanswered() {
        let dir = tempfile::tempdir().expect("dir");
        let (handle, arbiter) = start(dir.path());
        // Built and running: it answers.
        let depth = handle.mailbox().send(GetDepth).await.expect("running");
        assert_eq!(depth.open, 0);
        arbiter.stop();
        tokio::task::spawn_blocking(move || arbiter.join())
            .await
            .expect("joined")
            .expect("ended");
        let pull = handle.pull(Pull {
            carrier: "c".into(),
            max: 1,
            max_other: 1,
        });
        assert!(matches!(pull.await, Err(MailboxError::Closed)));
        let otp = handle.submit(Submit::new("09012345679", "otp", Class::Otp));
        assert!(matches!(otp.await, Err(MailboxError::Closed)));
    }

    /// Counts the nudges a pool would get.
    struct Nudges(usize);

    impl Actor for Nudges {
        type Context = Context<Self>;
    }

    impl Handler<Nudge> for Nudges {
        type Result = ();

        fn handle(&mut self, _: Nudge, _: &mut Self::Context) {
            self.0 += 1;
        }
    }

    /// The nudges so far (the mailbox is in order: every nudge sent before this is in).
    struct Count;

    impl Message for Count {
        type Result = usize;
    }

    impl Handler<Count> for Nudges {
        type Result = usize;

        fn handle(&mut self, _: Count, _: &mut Self::Context) -> usize {
            self.0
        }
    }

    #[actix::test]
    async fn a_pool_short_of_otp_only_is_nudged_by_an_otp_message_not_by_bulk() {
        let dir = tempfile::tempdir().expect("dir");
        let nudges = Nudges(0).start();
        let link = CarrierLink {
            pool: nudges.clone().recipient(),
            matcher: IdMatcher::auto(3),
        };
        let (handle, arbiter) = start_with(dir.path(), HashMap::from([("c".to_owned(), link)]));
        let submit = |to: &str, class| handle.submit(Submit::new(to, "text", class));
        for n in 0..3 {
            submit(&format!("0901234000{n}"), Class::Bulk)
                .await
                .expect("answered")
                .expect("accepted");
        }
        // Two places for any class and one for the reserve: the bulk fills the two, no otp
        // is there for the third.
        let work = handle
            .pull(Pull {
                carrier: "c".into(),
                max: 3,
                max_other: 2,
            })
            .await
            .expect("answered");
        assert_eq!(work.len(), 2);
        let before = nudges.send(Count).await.expect("counted");
        submit("09012340009", Class::Bulk)
            .await
            .expect("answered")
            .expect("accepted");
        assert_eq!(nudges.send(Count).await.expect("counted"), before);
        submit("09012340010", Class::Otp)
            .await
            .expect("answered")
            .expect("accepted");
        assert_eq!(nudges.send(Count).await.expect("counted"), before + 1);
        // Short of work for any class: the next accept of any class nudges.
        let work = handle
            .pull(Pull {
                carrier: "c".into(),
                max: 10,
                max_other: 9,
            })
            .await
            .expect("answered");
        assert_eq!(work.len(), 3, "the otp and the two bulk left");
        submit("09012340011", Class::Bulk)
            .await
            .expect("answered")
            .expect("accepted");
        assert_eq!(nudges.send(Count).await.expect("counted"), before + 2);
        arbiter.stop();
    }
}
