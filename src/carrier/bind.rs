//! The Bind actor: one persistent SMPP bind to a carrier's SMSC. It owns the TCP (or TLS)
//! connection, frames PDUs with `SmppCodec`, arms one timer, reconnects with backoff, and
//! does what its [`Link`] decides: the bind, submits and their responses, deliveries
//! answered only after the outbox has recorded them, enquire_link, unbind.

use super::backoff::{Backoff, Failure};
use super::link::{Action, CloseReason, Delivery, Link, LinkSettings, NotSent, SubmitOutcome};
use super::msgid::IdKey;
use super::pool::{BindReport, FromBind, Pool};
use crate::outbox::actor::{Mo, NotRecorded, OutboxHandle, Receipt, Results};
use crate::outbox::{Class, Dispatch, DispatchKey, NoAnswer, SubmitResult};
use crate::telemetry::names;
use actix::io::{WriteHandler, Writer};
use actix::prelude::*;
use bytes::BytesMut;
use futures_util::StreamExt;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use smpp::codec::{CodecError, Frame, SmppCodec};
use smpp::{CommandId, CommandStatus, Pdu};
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::codec::{Encoder, FramedRead};
use tracing::{debug, info, warn};

/// Most frames handled in one turn of the actor: one read's worth, so that their results
/// go to the outbox and the pool in one message each.
const READ_BATCH: usize = 512;
/// A bind that stayed up this long starts its next reconnect from the first backoff step.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// How long a TCP (and TLS) connect may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect.
#[derive(Clone)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS, when the carrier requires it: the client configuration and the name the
    /// server's certificate must carry.
    pub tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Everything a bind needs to start.
#[derive(Debug, Clone)]
pub struct BindSpec {
    /// The carrier's name (logs, metrics, the outbox's carrier key).
    pub carrier: String,
    /// The bind's index in its pool.
    pub index: usize,
    /// Where to connect.
    pub endpoint: Endpoint,
    /// The session's settings.
    pub link: LinkSettings,
    /// Reconnect backoff.
    pub backoff: super::backoff::BackoffPolicy,
}

/// Work for the bind: submit these.
#[derive(Debug)]
pub struct Send(pub Vec<Dispatch>);

impl Message for Send {
    type Result = ();
}

/// Shutdown: unbind (4.2) and close; answers once the connection is closed and what was
/// in flight has been handed back to the outbox.
#[derive(Debug)]
pub struct Unbind;

impl Message for Unbind {
    type Result = ();
}

type Reader = FramedRead<Box<dyn AsyncRead + Unpin>, SmppCodec>;
type Frames = Vec<Result<Frame, CodecError>>;

/// The open connection.
struct Conn {
    link: Link<DispatchKey>,
    writer: Writer<Box<dyn AsyncWrite + Unpin>, io::Error>,
    reader: SpawnHandle,
    /// When it bound, for the backoff reset.
    bound_at: Option<Instant>,
}

/// The Bind actor. See the module documentation.
pub struct BindActor {
    spec: BindSpec,
    pool: Addr<Pool>,
    outbox: OutboxHandle,
    conn: Option<Conn>,
    /// A connect is under way.
    connecting: bool,
    /// Connection number: an answer prepared for an earlier connection is not sent on a
    /// later one.
    generation: u64,
    backoff: Backoff,
    rng: SmallRng,
    /// The timer armed for the link's next deadline.
    timer: Option<(Instant, SpawnHandle)>,
    /// Reused per turn.
    actions: Vec<Action<DispatchKey>>,
    out: BytesMut,
    codec: SmppCodec,
    results: Vec<(DispatchKey, SubmitResult)>,
    /// The otp submits handed to this bind whose results have not gone back: a batch of
    /// results with one of them goes by the outbox's fast lane.
    otp_keys: HashSet<DispatchKey>,
    freed: Freed,
    /// Shutting down: no reconnect; these wait for the close.
    stopping: Option<Vec<tokio::sync::oneshot::Sender<()>>>,
    last_error: Option<String>,
    status_counters: HashMap<u32, metrics::Counter>,
    submit_latency: metrics::Histogram,
}

/// What a turn freed in the window, for the pool's pacing.
#[derive(Debug, Default, Clone, Copy)]
struct Freed {
    freed: usize,
    ok: usize,
    throttled: bool,
    queue_full: bool,
}

impl BindActor {
    /// A bind that connects as soon as it starts.
    pub fn new(spec: BindSpec, pool: Addr<Pool>, outbox: OutboxHandle) -> BindActor {
        let submit_latency =
            metrics::histogram!(names::SUBMIT_LATENCY, "carrier" => spec.carrier.clone());
        BindActor {
            backoff: Backoff::new(spec.backoff),
            spec,
            pool,
            outbox,
            conn: None,
            connecting: false,
            generation: 0,
            rng: SmallRng::from_os_rng(),
            timer: None,
            actions: Vec::new(),
            out: BytesMut::with_capacity(64 * 1024),
            codec: SmppCodec::default(),
            results: Vec::new(),
            otp_keys: HashSet::new(),
            freed: Freed::default(),
            stopping: None,
            last_error: None,
            status_counters: HashMap::new(),
            submit_latency,
        }
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        if self.stopping.is_some() || self.conn.is_some() || self.connecting {
            return;
        }
        self.connecting = true;
        let endpoint = self.spec.endpoint.clone();
        debug!(carrier = %self.spec.carrier, bind = self.spec.index, host = %endpoint.host, port = endpoint.port, "connecting");
        async move { tokio::time::timeout(CONNECT_TIMEOUT, open(endpoint)).await }
            .into_actor(self)
            .map(|res, act, ctx| {
                act.connecting = false;
                match res {
                    Ok(Ok((rd, wr))) => act.connected(rd, wr, ctx),
                    Ok(Err(e)) => act.retry_later(Failure::Connect, format!("connect: {e}"), ctx),
                    Err(_) => act.retry_later(Failure::Connect, "connect: timed out".into(), ctx),
                }
            })
            .spawn(ctx);
    }

    fn connected(
        &mut self,
        rd: Box<dyn AsyncRead + Unpin>,
        wr: Box<dyn AsyncWrite + Unpin>,
        ctx: &mut Context<Self>,
    ) {
        if self.stopping.is_some() {
            return;
        }
        let now = Instant::now();
        let mut link = match Link::new(self.spec.link.clone(), now) {
            Ok(link) => link,
            Err(e) => {
                // Validated with the configuration; refusing here keeps the bind down
                // rather than panicking.
                self.last_error = Some(e.to_string());
                return;
            }
        };
        self.generation = self.generation.wrapping_add(1);
        let reader: Reader = FramedRead::new(rd, self.codec.clone());
        let reader = ctx.add_stream(reader.ready_chunks(READ_BATCH));
        let writer = Writer::new(wr, ctx);
        link.connected(now, &mut self.actions);
        self.conn = Some(Conn {
            link,
            writer,
            reader,
            bound_at: None,
        });
        self.run_actions(ctx);
    }

    /// Executes what the link decided, then writes what was encoded and reports the turn.
    fn run_actions(&mut self, ctx: &mut Context<Self>) {
        let mut actions = std::mem::take(&mut self.actions);
        let mut close = None;
        for action in actions.drain(..) {
            match action {
                Action::Send(pdu) => self.encode(pdu),
                Action::Bound(mode) => {
                    if let Some(conn) = &mut self.conn {
                        conn.bound_at = Some(Instant::now());
                    }
                    info!(carrier = %self.spec.carrier, bind = self.spec.index, mode = ?mode, "bound");
                    self.last_error = None;
                    self.tell_pool(BindReport::Up(mode), ctx);
                }
                Action::Submitted {
                    key,
                    sent_at,
                    outcome,
                } => self.submitted(key, sent_at, outcome),
                Action::Delivered {
                    sequence_number,
                    command,
                    delivery,
                } => {
                    // The results read before it go first, in the order the SMSC sent
                    // them: a receipt right behind its submit_sm_resp is then matched at
                    // once rather than held as unmatched.
                    self.flush_turn(ctx);
                    self.delivered(sequence_number, command, delivery, ctx);
                }
                Action::UnexpectedResponse {
                    command,
                    sequence_number,
                } => {
                    debug!(carrier = %self.spec.carrier, bind = self.spec.index, %command, sequence_number, "response to nothing in flight");
                }
                Action::Close(reason) => close = Some(reason),
            }
        }
        self.actions = actions;
        self.flush_writes();
        if let Some(reason) = close {
            self.disconnect(reason.as_str(), Some(reason), ctx);
        }
        self.flush_turn(ctx);
        self.arm_timer(ctx);
    }

    fn encode(&mut self, pdu: Pdu<'static>) {
        if let Err(e) = self.codec.encode(pdu, &mut self.out) {
            // A PDU we built that breaks an encode rule (a too-long address from a
            // message): the submit's response never comes and it times out, so the
            // message is retried or ends; nothing is lost.
            warn!(carrier = %self.spec.carrier, bind = self.spec.index, error = %e, "PDU not encodable, not sent");
        }
    }

    fn flush_writes(&mut self) {
        if self.out.is_empty() {
            return;
        }
        if let Some(conn) = &mut self.conn {
            conn.writer.write(&self.out);
        }
        self.out.clear();
    }

    fn submitted(&mut self, key: DispatchKey, sent_at: Instant, outcome: SubmitOutcome) {
        self.freed.freed += 1;
        self.submit_latency.record(sent_at.elapsed().as_secs_f64());
        let result = match outcome {
            SubmitOutcome::Accepted { message_id } => {
                self.freed.ok += 1;
                self.count_status(CommandStatus::ESME_ROK);
                let carrier_id =
                    IdKey::of_submitted(&message_id).map_or(message_id, |k| k.as_str().to_owned());
                SubmitResult::Submitted { carrier_id }
            }
            SubmitOutcome::Refused(status) => {
                self.count_status(status);
                match status {
                    CommandStatus::ESME_RTHROTTLED => self.freed.throttled = true,
                    CommandStatus::ESME_RMSGQFUL => self.freed.queue_full = true,
                    _ => {}
                }
                SubmitResult::Status(status)
            }
            SubmitOutcome::TimedOut => SubmitResult::NoAnswer(NoAnswer::Timeout),
        };
        self.results.push((key, result));
    }

    fn count_status(&mut self, status: CommandStatus) {
        let carrier = &self.spec.carrier;
        self.status_counters
            .entry(status.0)
            .or_insert_with(|| {
                let label = status
                    .name()
                    .map_or_else(|| format!("0x{:08x}", status.0), str::to_owned);
                metrics::counter!(names::SUBMIT_RESPONSES, "carrier" => carrier.clone(), "status" => label)
            })
            .increment(1);
    }

    /// A delivery goes to the outbox; its answer is written once the outbox has recorded
    /// it (or, refused, with a temporary error so the SMSC offers it again).
    fn delivered(
        &mut self,
        seq: u32,
        command: CommandId,
        delivery: Delivery,
        ctx: &mut Context<Self>,
    ) {
        let carrier = self.spec.carrier.clone();
        let generation = self.generation;
        let answer = move |act: &mut BindActor, status: CommandStatus| {
            if act.generation != generation {
                return;
            }
            let Some(conn) = &act.conn else { return };
            let pdu = conn.link.answer(command, seq, status);
            act.encode(pdu);
            act.flush_writes();
        };
        let status_of = |res: Result<Result<(), NotRecorded>, MailboxError>| match res {
            Ok(Ok(())) => CommandStatus::ESME_ROK,
            // 5.1.3 ESME_RX_T_APPN: "ESME Receiver Temporary App Error Code" — the SMSC
            // keeps the delivery and tries again.
            Ok(Err(_)) | Err(_) => CommandStatus::ESME_RX_T_APPN,
        };
        match delivery {
            Delivery::Receipt {
                ids,
                state,
                network_error,
            } => {
                self.outbox
                    .mailbox()
                    .send(Receipt {
                        carrier,
                        ids,
                        state,
                        network_error,
                    })
                    .into_actor(self)
                    .map(move |res, act, _| answer(act, status_of(res)))
                    .spawn(ctx);
            }
            Delivery::Mo { from, to, text, .. } => {
                self.outbox
                    .mailbox()
                    .send(Mo {
                        carrier,
                        from,
                        to,
                        text,
                    })
                    .into_actor(self)
                    .map(move |res, act, _| answer(act, status_of(res)))
                    .spawn(ctx);
            }
            Delivery::Unreadable { reason, raw_hex } => {
                // Nothing in it names a message; refusing it would only make the SMSC send
                // it again forever. It is logged whole, and counted.
                warn!(carrier = %carrier, reason = %reason, raw = %raw_hex, "unreadable receipt accepted and dropped");
                metrics::counter!(names::RECEIPTS_UNMATCHED, "carrier" => carrier).increment(1);
                answer(self, CommandStatus::ESME_ROK);
            }
        }
    }

    /// Sends the turn's results to the outbox and the window's movement to the pool. The
    /// answered submits leave the SMSC's window at once but stay counted as unsettled
    /// until the outbox answers that their results are durable (see [`Results`]), so a
    /// crash can resend at most the window plus the settle allowance per bind.
    fn flush_turn(&mut self, ctx: &mut Context<Self>) {
        let freed = std::mem::take(&mut self.freed);
        let settled = self.send_results();
        let unsettled = if settled.is_some() { freed.freed } else { 0 };
        if freed.freed > 0 || freed.ok > 0 || freed.throttled || freed.queue_full {
            self.tell_pool(
                BindReport::Freed {
                    freed: freed.freed,
                    unsettled,
                    ok: freed.ok,
                    throttled: freed.throttled,
                    queue_full: freed.queue_full,
                },
                ctx,
            );
        }
        if let (Some(settled), true) = (settled, unsettled > 0) {
            let generation = self.generation;
            settled
                .into_actor(self)
                .map(move |_, act, ctx| {
                    // A session lost meanwhile has already given its whole count back.
                    if act.generation == generation {
                        act.tell_pool(BindReport::Settled { n: unsettled }, ctx);
                    }
                })
                .spawn(ctx);
        }
    }

    /// Sends the submit results gathered so far to the outbox; the answer comes once they
    /// are durable (or the outbox is gone). `None` when there was nothing to send.
    fn send_results(&mut self) -> Option<impl std::future::Future<Output = ()> + 'static> {
        if self.results.is_empty() {
            return None;
        }
        let results = std::mem::take(&mut self.results);
        let send = self.send_to_outbox(results);
        Some(async move {
            let _ = send.await;
        })
    }

    /// Hands results to the outbox: by its fast lane when an otp submit's is among them.
    fn send_to_outbox(
        &mut self,
        results: Vec<(DispatchKey, SubmitResult)>,
    ) -> futures_util::future::BoxFuture<'static, Result<(), MailboxError>> {
        let mut urgent = false;
        if !self.otp_keys.is_empty() {
            for (key, _) in &results {
                urgent |= self.otp_keys.remove(key);
            }
        }
        self.outbox.results(Results(results), urgent)
    }

    fn tell_pool(&mut self, report: BindReport, ctx: &mut Context<Self>) {
        let msg = FromBind {
            bind: self.spec.index,
            report,
        };
        match self.pool.try_send(msg) {
            Ok(()) => {}
            Err(SendError::Full(msg)) => {
                self.pool
                    .send(msg)
                    .into_actor(self)
                    .map(|_, _, _| ())
                    .spawn(ctx);
            }
            Err(SendError::Closed(_)) => {}
        }
    }

    /// One timer, at the link's next deadline; moved only when that comes earlier.
    fn arm_timer(&mut self, ctx: &mut Context<Self>) {
        let Some(next) = self.conn.as_ref().and_then(|c| c.link.next_deadline()) else {
            return;
        };
        if self.timer.as_ref().is_some_and(|(at, _)| *at <= next) {
            return;
        }
        if let Some((_, handle)) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        let delay = next.saturating_duration_since(Instant::now());
        let handle = ctx.run_later(delay, |act, ctx| {
            act.timer = None;
            if let Some(conn) = &mut act.conn {
                conn.link.poll(Instant::now(), &mut act.actions);
            }
            act.run_actions(ctx);
        });
        self.timer = Some((next, handle));
    }

    /// The connection ends: everything in flight goes back to the outbox, the pool is
    /// told, and a reconnect is scheduled (unless shutting down).
    fn disconnect(&mut self, why: &str, reason: Option<CloseReason>, ctx: &mut Context<Self>) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        self.generation = self.generation.wrapping_add(1);
        ctx.cancel_future(conn.reader);
        // A close we were asked for (unbind_resp written, or ours answered) lets the writer
        // finish; a dead link is dropped at once.
        match reason {
            Some(CloseReason::UnbindReceived | CloseReason::Unbound) => conn.writer.close(),
            _ => {
                ctx.cancel_future(conn.writer.handle());
            }
        }
        if let Some((_, handle)) = self.timer.take() {
            ctx.cancel_future(handle);
        }
        for (key, _) in conn.link.drain() {
            self.freed.freed += 1;
            self.results
                .push((key, SubmitResult::NoAnswer(NoAnswer::BindLost)));
        }
        let stable = conn.bound_at.is_some_and(|t| t.elapsed() >= STABLE_AFTER);
        if stable {
            self.backoff.reset();
        }
        info!(carrier = %self.spec.carrier, bind = self.spec.index, reason = why, "connection closed");
        self.tell_pool(
            BindReport::Down {
                error: why.to_owned(),
            },
            ctx,
        );
        self.last_error = Some(why.to_owned());
        let in_flight_back = std::mem::take(&mut self.results);
        if let Some(waiters) = self.stopping.take() {
            // Shutdown: the unanswered go back to the outbox before anyone is told the
            // bind is closed, so the outbox's final flush covers them.
            let send = self.send_to_outbox(in_flight_back);
            async move {
                let _ = send.await;
                for w in waiters {
                    let _ = w.send(());
                }
            }
            .into_actor(self)
            .map(|_, _, _| ())
            .spawn(ctx);
            // Stay stopping: no reconnect.
            self.stopping = Some(Vec::new());
            return;
        }
        if !in_flight_back.is_empty() {
            self.results = in_flight_back;
            self.flush_turn(ctx);
        }
        let failure = match reason {
            Some(CloseReason::BindRefused(_)) => Failure::BindRefused,
            _ => Failure::Connect,
        };
        self.schedule_reconnect(failure, ctx);
    }

    fn retry_later(&mut self, failure: Failure, why: String, ctx: &mut Context<Self>) {
        warn!(carrier = %self.spec.carrier, bind = self.spec.index, error = %why, "bind not up");
        self.tell_pool(BindReport::Down { error: why.clone() }, ctx);
        self.last_error = Some(why);
        if let Some(waiters) = self.stopping.as_mut() {
            for w in waiters.drain(..) {
                let _ = w.send(());
            }
            return;
        }
        self.schedule_reconnect(failure, ctx);
    }

    fn schedule_reconnect(&mut self, failure: Failure, ctx: &mut Context<Self>) {
        let delay = self.backoff.failed(failure, &mut self.rng);
        debug!(carrier = %self.spec.carrier, bind = self.spec.index, ?delay, "reconnecting after backoff");
        ctx.run_later(delay, |act, ctx| act.connect(ctx));
    }

    fn on_frames(&mut self, frames: Frames, ctx: &mut Context<Self>) {
        let now = Instant::now();
        for frame in frames {
            let Some(conn) = &mut self.conn else { return };
            match frame {
                Ok(frame) => match frame.pdu() {
                    Ok(pdu) => conn.link.received(&pdu, now, &mut self.actions),
                    Err(e) => conn.link.undecodable(&e, now, &mut self.actions),
                },
                Err(CodecError::Framing(e)) => {
                    // 3.2: command_length is impossible; nothing after it can be framed.
                    conn.link.undecodable(&e, now, &mut self.actions);
                    self.run_actions(ctx);
                    self.disconnect("framing lost", None, ctx);
                    return;
                }
                Err(e) => {
                    self.run_actions(ctx);
                    self.disconnect(&format!("read: {e}"), None, ctx);
                    return;
                }
            }
        }
        self.run_actions(ctx);
    }
}

/// Opens the connection: TCP, then TLS when configured.
async fn open(
    endpoint: Endpoint,
) -> io::Result<(Box<dyn AsyncRead + Unpin>, Box<dyn AsyncWrite + Unpin>)> {
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await?;
    // Submits and their responses are small; Nagle would only add latency.
    tcp.set_nodelay(true)?;
    match endpoint.tls {
        None => {
            let (rd, wr) = tcp.into_split();
            Ok((Box::new(rd), Box::new(wr)))
        }
        Some((config, name)) => {
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            let (rd, wr) = tokio::io::split(tls);
            Ok((Box::new(rd), Box::new(wr)))
        }
    }
}

impl Actor for BindActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        self.connect(ctx);
    }
}

impl StreamHandler<Frames> for BindActor {
    fn handle(&mut self, frames: Frames, ctx: &mut Self::Context) {
        self.on_frames(frames, ctx);
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        // The SMSC closed the connection.
        self.disconnect("closed by the SMSC", None, ctx);
    }
}

impl WriteHandler<io::Error> for BindActor {
    fn error(&mut self, err: io::Error, ctx: &mut Self::Context) -> Running {
        self.disconnect(&format!("write: {err}"), None, ctx);
        Running::Stop
    }

    fn finished(&mut self, _: &mut Self::Context) {}
}

impl Handler<Send> for BindActor {
    type Result = ();

    fn handle(&mut self, msg: Send, ctx: &mut Self::Context) {
        let now = Instant::now();
        for dispatch in msg.0 {
            if dispatch.class == Class::Otp {
                self.otp_keys.insert(dispatch.key);
            }
            let sent = match &mut self.conn {
                Some(conn) => conn.link.submit(dispatch.key, dispatch.submit, now),
                None => {
                    self.freed.freed += 1;
                    self.results
                        .push((dispatch.key, SubmitResult::NoAnswer(NoAnswer::NotSent)));
                    continue;
                }
            };
            match sent {
                Ok(pdu) => self.encode(pdu),
                Err(not_sent) => {
                    let NotSent { key, .. } = *not_sent;
                    self.freed.freed += 1;
                    self.results
                        .push((key, SubmitResult::NoAnswer(NoAnswer::NotSent)));
                }
            }
        }
        self.flush_writes();
        self.flush_turn(ctx);
        self.arm_timer(ctx);
    }
}

impl Handler<Unbind> for BindActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Unbind, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let waiters = self.stopping.get_or_insert_with(Vec::new);
        match &mut self.conn {
            None => {
                let _ = tx.send(());
            }
            Some(conn) => {
                waiters.push(tx);
                conn.link.unbind(Instant::now(), &mut self.actions);
                self.run_actions(ctx);
            }
        }
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

/// Connect again after an [`Unbind`] (an operator started the carrier again).
#[derive(Debug)]
pub struct Resume;

impl Message for Resume {
    type Result = ();
}

impl BindActor {
    /// A bind that starts stopped (its carrier was stopped by an operator): it connects
    /// only on [`Resume`].
    pub fn held(mut self) -> BindActor {
        self.stopping = Some(Vec::new());
        self
    }
}

impl Handler<Resume> for BindActor {
    type Result = ();

    fn handle(&mut self, _: Resume, ctx: &mut Self::Context) {
        if let Some(waiters) = self.stopping.take() {
            for w in waiters {
                let _ = w.send(());
            }
        }
        self.backoff.reset();
        self.connect(ctx);
    }
}
