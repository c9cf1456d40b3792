//! The Verifier actor: thin glue between the [`VerifierCore`] and the gateway. It runs on a
//! thread of its own, reads the clock, normalises numbers, hands each code's SMS to the
//! Outbox (otp class, validity within the code's), waits for the group commit before it
//! answers, reads the SMS's delivery state for a status, publishes outcomes to the event
//! log and runs the TTL sweeper. Every decision is the core's or the policy's.

use super::core::{OutgoingSms, StartRequest, VerifierCore, VerifyError, View};
use super::policy::{CheckOutcome, Overrides};
use super::store::Status;
use super::template::{Channel, Locale};
use crate::carrier::number::NumberPlan;
use crate::outbox::actor::{unix_ms, GetStatus, OutboxHandle, RecordEvent, Refused, Submit};
use crate::outbox::Accepted;
use crate::store::{Class, EventKind, State, StoreError};
use actix::prelude::*;
use rand::Rng;
use std::time::Duration;
use thiserror::Error;
use tracing::{debug, error, info, warn};

/// How often the sweeper runs.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Mailbox capacity.
const MAILBOX: usize = 4096;

/// Why a verification request failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyFailure {
    /// The number does not parse.
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    /// The core said no (policy, not found, link, template).
    #[error(transparent)]
    Verify(VerifyError),
    /// The outbox refused the SMS (unroutable, shutting down, ...): the verification
    /// failed and nothing was sent.
    #[error("the SMS could not be queued: {0}")]
    Send(Refused),
    /// The verifier's storage failed; it refuses work until restarted.
    #[error("verification storage failed: {0}")]
    Stopped(String),
    /// The verifier is gone.
    #[error("the verifier is not running")]
    NotRunning,
}

impl From<MailboxError> for VerifyFailure {
    fn from(_: MailboxError) -> Self {
        VerifyFailure::NotRunning
    }
}

/// Where the SMS of a verification stands, from its receipts (送達結果).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Not yet handed to a carrier.
    Pending,
    /// Accepted by the carrier's SMSC; no final receipt yet.
    Sent,
    /// The handset got it.
    Delivered,
    /// It will not arrive (rejected, expired, undeliverable, failed).
    Undeliverable,
}

impl Delivery {
    /// From the message's state.
    pub fn of(state: State) -> Delivery {
        match state {
            State::Queued | State::InFlight => Delivery::Pending,
            State::Submitted => Delivery::Sent,
            State::Delivered => Delivery::Delivered,
            _ => Delivery::Undeliverable,
        }
    }

    /// The name on the API.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Undeliverable => "undeliverable",
        }
    }
}

/// A verification with the state of its SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationStatus {
    /// The verification.
    pub view: View,
    /// Its SMS's delivery state, once it has one.
    pub delivery: Option<Delivery>,
    /// Why the SMS ended as it did, when it is undeliverable.
    pub delivery_detail: Option<String>,
}

/// Starts a verification.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<View, VerifyFailure>")]
pub struct Start {
    /// Destination in any common form.
    pub to: String,
    /// Purpose (profile name).
    pub purpose: String,
    /// Language of the text.
    pub locale: Option<Locale>,
    /// Code or link.
    pub channel: Channel,
    /// For the link channel: the URL with `{token}`.
    pub link: Option<String>,
    /// Digits instead of the profile's.
    pub code_length: Option<u8>,
    /// Validity instead of the profile's.
    pub validity: Option<Duration>,
    /// A sandbox verification.
    pub sandbox: bool,
    /// The API token that starts it (whose webhook hears its outcome).
    pub owner: Option<String>,
}

impl Start {
    /// A code verification with the purpose's defaults.
    pub fn new(to: impl Into<String>, purpose: impl Into<String>) -> Start {
        Start {
            to: to.into(),
            purpose: purpose.into(),
            locale: None,
            channel: Channel::Sms,
            link: None,
            code_length: None,
            validity: None,
            sandbox: false,
            owner: None,
        }
    }
}

/// Checks a code (or link token).
#[derive(Clone, Message)]
#[rtype(result = "Result<CheckOutcome, VerifyFailure>")]
pub struct Check {
    /// The verification.
    pub id: String,
    /// What the user typed.
    pub code: String,
}

impl std::fmt::Debug for Check {
    /// Never shows the code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Sends a new code, voiding the old.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<View, VerifyFailure>")]
pub struct Resend(pub String);

/// Cancels a verification.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<View, VerifyFailure>")]
pub struct Cancel(pub String);

/// Reads a verification and its SMS's delivery state.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Option<VerificationStatus>, VerifyFailure>")]
pub struct GetVerification(pub String);

/// Where the verifier's SMS and events go: the Outbox actor in the gateway; anything that
/// answers the same messages in a test or a benchmark.
#[derive(Clone)]
pub struct Outbound {
    /// Queues an SMS (answered once it is on disk).
    pub submit: SubmitTo,
    /// Reads a message's state.
    pub status: Recipient<GetStatus>,
    /// Appends an event to the log.
    pub events: Recipient<RecordEvent>,
}

/// Where the verifier's SMS are submitted.
#[derive(Clone)]
pub enum SubmitTo {
    /// The gateway's outbox, otp by its fast lane.
    Outbox(OutboxHandle),
    /// Any actor that answers [`Submit`] (a test's or a benchmark's sink).
    Recipient(Recipient<Submit>),
}

impl From<Recipient<Submit>> for SubmitTo {
    fn from(recipient: Recipient<Submit>) -> Self {
        SubmitTo::Recipient(recipient)
    }
}

impl SubmitTo {
    /// Submits `submit`; answered once it is on disk (or refused).
    pub fn send(
        &self,
        submit: Submit,
    ) -> futures_util::future::BoxFuture<'static, Result<Result<Accepted, Refused>, MailboxError>>
    {
        match self {
            SubmitTo::Outbox(outbox) => outbox.submit(submit),
            SubmitTo::Recipient(recipient) => Box::pin(recipient.send(submit)),
        }
    }
}

impl Outbound {
    /// The gateway's outbox: the codes' SMS (otp) go by its fast lane.
    pub fn outbox(outbox: &OutboxHandle) -> Outbound {
        let mailbox = outbox.mailbox();
        Outbound {
            submit: SubmitTo::Outbox(outbox.clone()),
            status: mailbox.clone().recipient(),
            events: mailbox.clone().recipient(),
        }
    }
}

/// The Verifier actor. See the module documentation.
pub struct VerifierActor<R: Rng + Unpin + 'static> {
    core: VerifierCore<R>,
    outbox: Outbound,
    plan: NumberPlan,
    stopped: Option<String>,
    /// Answers waiting for the next log write and flush (see [`VerifierActor::commit`]).
    waiters: Vec<tokio::sync::oneshot::Sender<Result<(), VerifyFailure>>>,
    /// Whether that write is scheduled.
    flush_scheduled: bool,
}

impl<R: Rng + Unpin + 'static> VerifierActor<R> {
    /// The actor over `core`, sending through `outbox`.
    pub fn new(core: VerifierCore<R>, outbox: Outbound, plan: NumberPlan) -> Self {
        VerifierActor {
            core,
            outbox,
            plan,
            stopped: None,
            waiters: Vec::new(),
            flush_scheduled: false,
        }
    }

    fn fail(&mut self, e: &StoreError) -> VerifyFailure {
        error!(error = %e, "verification storage failed: refusing work until restarted");
        let text = self.stopped.get_or_insert_with(|| e.to_string()).clone();
        VerifyFailure::Stopped(text)
    }

    /// Waits for what is pending to be durable: the steps of every request handled in this
    /// turn of the actor go to the log as one write, after the mailbox has been drained
    /// (up to actix's 256 messages a turn), with one registration for the group-commit
    /// flush. A step is never answered before the flush that covers it.
    fn commit(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), VerifyFailure>>>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.waiters.push(tx);
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            ctx.spawn(fut::ready(()).map(|(), act: &mut Self, _| act.flush_log()));
        }
        Box::pin(async move { rx.await.unwrap_or(Err(VerifyFailure::NotRunning)) })
    }

    /// Logs this turn's steps and registers their waiters for the next flush.
    fn flush_log(&mut self) {
        self.flush_scheduled = false;
        let waiters = std::mem::take(&mut self.waiters);
        match self.core.commit() {
            Ok(wait) => {
                actix::spawn(async move {
                    let result = wait
                        .await
                        .map_err(|e| VerifyFailure::Stopped(e.to_string()));
                    for w in waiters {
                        let _ = w.send(result.clone());
                    }
                });
            }
            Err(e) => {
                let failure = self.fail(&e);
                for w in waiters {
                    let _ = w.send(Err(failure.clone()));
                }
            }
        }
    }

    fn failure(&mut self, e: VerifyError) -> VerifyFailure {
        match e {
            VerifyError::Store(e) => self.fail(&e),
            other => VerifyFailure::Verify(other),
        }
    }

    /// Publishes an outcome to the event log (no code in it).
    fn publish(&self, id: &str, status: &str, purpose: &str, sandbox: bool) {
        let event = RecordEvent(EventKind::Verification {
            id: id.to_owned(),
            status: status.to_owned(),
            purpose: purpose.to_owned(),
            sandbox,
        });
        let events = self.outbox.events.clone();
        let id = id.to_owned();
        // Waits for room in the outbox's mailbox without holding up the verifier.
        actix::spawn(async move {
            match events.send(event).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    warn!(verification = %id, error = %e, "verification event not recorded")
                }
                Err(_) => {
                    warn!(verification = %id, "verification event not recorded: the outbox is gone")
                }
            }
        });
    }

    /// Hands the SMS to the outbox, then records the result and answers once it is on disk.
    fn send(
        &mut self,
        view: View,
        sms: OutgoingSms,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, Result<View, VerifyFailure>> {
        let submit = Submit {
            to: sms.to.clone(),
            from: None,
            text: sms.text,
            class: Class::Otp,
            client_ref: None,
            validity: Some(Duration::from_millis(sms.validity_ms)),
            registered_delivery: true,
            masked: Some(sms.masked),
            id: Some(sms.message),
            sandbox: sms.sandbox,
            owner: sms.owner,
        };
        let sent = self.outbox.submit.send(submit);
        let id = sms.id;
        // The verifier's step (the code's HMAC, the SMS's id) is flushed while the outbox
        // accepts the SMS; the answer waits for both.
        let committed = self.commit(ctx);
        Box::pin(
            async move { futures_util::future::join(sent, committed).await }
                .into_actor(self)
                .then(move |(accepted, committed), act, ctx| {
                    let now = unix_ms();
                    let recorded = match (accepted, committed) {
                        (_, Err(e)) => Ok(Err(e)),
                        (Ok(Ok(accepted)), Ok(())) => {
                            info!(verification = %id, message = %accepted.id, "verification SMS queued");
                            act.core.sent(&id, accepted.id, now);
                            let done: ResponseActFuture<Self, Result<View, VerifyFailure>> =
                                Box::pin(fut::ready(Ok(view)));
                            return done;
                        }
                        (Ok(Err(refused)), Ok(())) => {
                            warn!(verification = %id, reason = %refused, "verification SMS refused");
                            act.publish(&id, Status::Failed.name(), &view.purpose, view.sandbox);
                            act.core
                                .send_failed(&id, &refused.to_string(), now)
                                .map(|()| Err(VerifyFailure::Send(refused)))
                        }
                        (Err(_), Ok(())) => act
                            .core
                            .send_failed(&id, "the outbox is not running", now)
                            .map(|()| Err(VerifyFailure::NotRunning)),
                    };
                    let answer = match recorded {
                        Ok(answer) => answer,
                        Err(e) => Err(act.failure(e)),
                    };
                    let commit = act.commit(ctx);
                    Box::pin(
                        async move {
                            commit.await?;
                            answer
                        }
                        .into_actor(act),
                    )
                }),
        )
    }
}

impl<R: Rng + Unpin + 'static> Actor for VerifierActor<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        ctx.run_interval(SWEEP_EVERY, |act, _| {
            if act.stopped.is_some() {
                return;
            }
            match act.core.sweep(unix_ms()) {
                Ok(report) if report.expired + report.removed + report.pruned > 0 => {
                    for (id, purpose, sandbox) in &report.expired_ids {
                        act.publish(id, Status::Expired.name(), purpose, *sandbox);
                    }
                    tracing::debug!(
                        expired = report.expired,
                        removed = report.removed,
                        pruned = report.pruned,
                        "verification sweep"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    act.fail(&e);
                }
            }
        });
    }
}

impl<R: Rng + Unpin + 'static> Handler<Start> for VerifierActor<R> {
    type Result = ResponseActFuture<Self, Result<View, VerifyFailure>>;

    fn handle(&mut self, msg: Start, ctx: &mut Self::Context) -> Self::Result {
        let ready = |r: Result<View, VerifyFailure>| -> Self::Result { Box::pin(fut::ready(r)) };
        if let Some(e) = &self.stopped {
            return ready(Err(VerifyFailure::Stopped(e.clone())));
        }
        let to = match self.plan.normalise(&msg.to) {
            Ok(to) => to,
            Err(e) => return ready(Err(VerifyFailure::InvalidNumber(e.to_string()))),
        };
        let request = StartRequest {
            to: to.as_str().to_owned(),
            purpose: msg.purpose,
            locale: msg.locale,
            channel: msg.channel,
            link: msg.link,
            overrides: Overrides {
                code_length: msg.code_length,
                validity_ms: msg
                    .validity
                    .map(|v| u64::try_from(v.as_millis()).unwrap_or(u64::MAX)),
            },
            sandbox: msg.sandbox,
            owner: msg.owner,
        };
        match self.core.start(request, unix_ms()) {
            Ok((view, sms)) => {
                info!(verification = %view.id, purpose = %view.purpose, "verification started");
                self.send(view, sms, ctx)
            }
            Err(e) => {
                if let VerifyError::Refused(r) = &e {
                    info!(reason = %r, "verification start refused");
                }
                let failure = self.failure(e);
                ready(Err(failure))
            }
        }
    }
}

impl<R: Rng + Unpin + 'static> Handler<Resend> for VerifierActor<R> {
    type Result = ResponseActFuture<Self, Result<View, VerifyFailure>>;

    fn handle(&mut self, msg: Resend, ctx: &mut Self::Context) -> Self::Result {
        if let Some(e) = &self.stopped {
            return Box::pin(fut::ready(Err(VerifyFailure::Stopped(e.clone()))));
        }
        match self.core.resend(&msg.0, unix_ms()) {
            Ok((view, sms)) => {
                info!(verification = %view.id, sends = view.sends, "verification resent");
                self.send(view, sms, ctx)
            }
            Err(e) => {
                let failure = self.failure(e);
                Box::pin(fut::ready(Err(failure)))
            }
        }
    }
}

impl<R: Rng + Unpin + 'static> Handler<Check> for VerifierActor<R> {
    type Result = ResponseActFuture<Self, Result<CheckOutcome, VerifyFailure>>;

    fn handle(&mut self, msg: Check, ctx: &mut Self::Context) -> Self::Result {
        if let Some(e) = &self.stopped {
            return Box::pin(fut::ready(Err(VerifyFailure::Stopped(e.clone()))));
        }
        let ticket = match self.core.begin_check(&msg.id, unix_ms()) {
            Ok(t) => t,
            Err(e) => {
                let failure = self.fail(&e);
                return Box::pin(fut::ready(Err(failure)));
            }
        };
        // The attempt is on disk before the code is compared.
        let counted = self.commit(ctx);
        let Check { id, code } = msg;
        Box::pin(counted.into_actor(self).then(move |counted, act, ctx| {
            let outcome = match counted {
                Err(e) => Err(e),
                Ok(()) => act
                    .core
                    .finish_check(ticket, &code, unix_ms())
                    .map_err(|e| act.fail(&e)),
            };
            if let Ok(o) = &outcome {
                let published = match o {
                    CheckOutcome::Approved
                    | CheckOutcome::MaxAttemptsReached
                    | CheckOutcome::Expired => Some(o.name()),
                    CheckOutcome::Wrong { attempts_left: 0 } => Some("max_attempts_reached"),
                    _ => None,
                };
                debug!(verification = %id, outcome = o.name(), "verification checked");
                if let Some(status) = published {
                    if let Ok(Some(view)) = act.core.status(&id, unix_ms()) {
                        info!(verification = %id, outcome = status, "verification finished");
                        act.publish(&id, status, &view.purpose, view.sandbox);
                    }
                }
            }
            let done = act.commit(ctx);
            async move {
                done.await?;
                outcome
            }
            .into_actor(act)
        }))
    }
}

impl<R: Rng + Unpin + 'static> Handler<Cancel> for VerifierActor<R> {
    type Result = ResponseFuture<Result<View, VerifyFailure>>;

    fn handle(&mut self, msg: Cancel, ctx: &mut Self::Context) -> Self::Result {
        if let Some(e) = &self.stopped {
            let e = VerifyFailure::Stopped(e.clone());
            return Box::pin(async move { Err(e) });
        }
        let answer = match self.core.cancel(&msg.0, unix_ms()) {
            Ok(view) => {
                self.publish(
                    &view.id,
                    Status::Canceled.name(),
                    &view.purpose,
                    view.sandbox,
                );
                Ok(view)
            }
            Err(e) => Err(self.failure(e)),
        };
        let commit = self.commit(ctx);
        Box::pin(async move {
            commit.await?;
            answer
        })
    }
}

impl<R: Rng + Unpin + 'static> Handler<GetVerification> for VerifierActor<R> {
    type Result = ResponseFuture<Result<Option<VerificationStatus>, VerifyFailure>>;

    fn handle(&mut self, msg: GetVerification, _: &mut Self::Context) -> Self::Result {
        let view = match self.core.status(&msg.0, unix_ms()) {
            Ok(v) => v,
            Err(e) => {
                let failure = self.fail(&e);
                return Box::pin(async move { Err(failure) });
            }
        };
        let outbox = self.outbox.status.clone();
        Box::pin(async move {
            let Some(view) = view else {
                return Ok(None);
            };
            let (delivery, delivery_detail) = match view.message {
                Some(id) => match outbox.send(GetStatus(id)).await {
                    Ok(Ok(Some(status))) => {
                        let delivery = Delivery::of(status.state);
                        let detail = (delivery == Delivery::Undeliverable)
                            .then_some(status.detail)
                            .flatten();
                        (Some(delivery), detail)
                    }
                    _ => (None, None),
                },
                None => (None, None),
            };
            Ok(Some(VerificationStatus {
                view,
                delivery,
                delivery_detail,
            }))
        })
    }
}

/// Whether a verification is a sandbox one (`None`: no such verification), without
/// reading its SMS's state: what the API checks before it lets a token touch it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Option<bool>, VerifyFailure>")]
pub struct GetMode(pub String);

impl<R: Rng + Unpin + 'static> Handler<GetMode> for VerifierActor<R> {
    type Result = Result<Option<bool>, VerifyFailure>;

    fn handle(&mut self, msg: GetMode, _: &mut Self::Context) -> Self::Result {
        match self.core.status(&msg.0, unix_ms()) {
            Ok(view) => Ok(view.map(|v| v.sandbox)),
            Err(e) => Err(self.fail(&e)),
        }
    }
}
