//! The Pool actor: the binds of one carrier. It pulls work from the outbox only when a
//! bind can send it now (a bound bind with room in its effective window, a token from the
//! bind's and the carrier's buckets, no throttling pause), hands each PDU to such a bind,
//! and tells the outbox when the carrier has had no bind able to submit for its failover
//! time. The pacing decisions are [`Pacer`]'s; this is glue.

use super::bind::{BindActor, Send as SendWork, Unbind};
use super::throttle::{Admit, Pacer, PacerConfig, TokenBucket};
use crate::outbox::actor::{CarrierAvailability, Nudge, OutboxHandle, Pull, Results};
use crate::outbox::{Class, Dispatch, NoAnswer, SubmitResult};
use crate::telemetry::names;
use actix::prelude::*;
use smpp::session::BindMode;
use std::time::{Duration, Instant};
use tracing::warn;

/// Most PDUs asked of the outbox at once: enough to fill a bind's window quickly, few
/// enough that a verification code accepted a moment later is not stuck behind them.
const PULL_MAX: usize = 256;

/// What a bind tells its pool.
#[derive(Debug, Clone)]
pub enum BindReport {
    /// Bound in this mode.
    Up(BindMode),
    /// The session is gone (or never came up); `error` says why.
    Down {
        /// Why, for status.
        error: String,
    },
    /// Responses came: `freed` submits left the window; `throttled` / `queue_full` when one
    /// of them said so; `ok` of them succeeded. `unsettled` of the freed have results the
    /// outbox has not yet made durable: they count against the settle allowance until a
    /// [`BindReport::Settled`] gives them back.
    Freed {
        /// Submits no longer in flight (answered, timed out or handed back).
        freed: usize,
        /// Of those, the ones whose results are on their way to the outbox's disk.
        unsettled: usize,
        /// Successful responses among them.
        ok: usize,
        /// One said ESME_RTHROTTLED.
        throttled: bool,
        /// One said ESME_RMSGQFUL.
        queue_full: bool,
    },
    /// The outbox made `n` results durable.
    Settled {
        /// How many.
        n: usize,
    },
}

/// A report from bind number `bind` of the pool.
#[derive(Debug)]
pub struct FromBind {
    /// Its index in the pool.
    pub bind: usize,
    /// What it says.
    pub report: BindReport,
}

impl Message for FromBind {
    type Result = ();
}

/// One bind as the pool sees it.
struct Slot {
    addr: Addr<BindActor>,
    mode: Option<BindMode>,
    /// Submits sent and not answered: the SMSC's window (SMPP 3.4 §2.8).
    in_flight: usize,
    /// Submits answered whose results are not yet durable: a crash now would send them
    /// again. Bounded by the window too (the settle allowance), so what a crash can
    /// duplicate is at most twice the window per bind.
    unsettled: usize,
    pacer: Pacer,
    last_error: Option<String>,
}

impl Slot {
    fn can_submit(&self) -> bool {
        self.mode.is_some_and(BindMode::can_submit)
    }
}

/// A bind that can submit, as [`grant`] sees it.
struct Room<'a> {
    /// Its index in the pool.
    index: usize,
    in_flight: usize,
    unsettled: usize,
    pacer: &'a mut Pacer,
}

/// The places one pull may fill: `binds[..general]` for any class, the rest (the otp
/// reserve) for otp only; `wait` is when a bind out of tokens or paused may send again.
#[derive(Debug, Default, PartialEq, Eq)]
struct Grants {
    binds: Vec<usize>,
    general: usize,
    wait: Option<Instant>,
}

/// The places of a bind's window, and of its settle allowance, that only otp may take: a
/// tenth, at least one when the window holds two. Bulk that fills a window then never
/// keeps a verification code waiting for the next answer.
fn otp_reserve(window: usize) -> usize {
    if window < 2 {
        0
    } else {
        (window / 10).max(1)
    }
}

/// Hands out places in `rooms` (in turn, so binds share the load), taking a token for
/// each: first up to `max` for any class, while each bind keeps its otp reserve in its
/// window (SMPP 3.4 §2.8: unanswered submits) and in its settle allowance (answered but
/// not yet durable: twice the window); then each bind's otp reserve.
fn grant(rooms: &mut [Room<'_>], bucket: &mut TokenBucket, max: usize, now: Instant) -> Grants {
    let mut grants = Grants::default();
    let mut taken = vec![0usize; rooms.len()];
    for reserved in [false, true] {
        for (room, taken) in rooms.iter_mut().zip(&mut taken) {
            let window = room.pacer.window_limit();
            let reserve = otp_reserve(window);
            let keep = if reserved { 0 } else { reserve };
            let mut here = 0;
            loop {
                let full = if reserved {
                    here >= reserve
                } else {
                    grants.binds.len() >= max
                };
                let used = room.in_flight + *taken;
                if full || used + keep >= window || room.unsettled + used + keep >= 2 * window {
                    break;
                }
                match room.pacer.admit(bucket, used, now) {
                    Admit::Go => {
                        grants.binds.push(room.index);
                        *taken += 1;
                        here += 1;
                    }
                    Admit::WaitUntil(at) => {
                        grants.wait = Some(grants.wait.map_or(at, |w| w.min(at)));
                        break;
                    }
                    Admit::WindowFull => break,
                }
            }
        }
        if !reserved {
            grants.general = grants.binds.len();
        }
    }
    grants
}

/// A bind's state for status pages.
#[derive(Debug, Clone, PartialEq)]
pub struct BindStatus {
    /// Its index.
    pub index: usize,
    /// Bound mode, `None` when not bound.
    pub mode: Option<BindMode>,
    /// Submits in flight.
    pub in_flight: usize,
    /// Its effective rate now (lowered after throttling).
    pub rate: f64,
    /// Its effective window now (lowered after queue-full).
    pub window: usize,
    /// The last error it reported.
    pub last_error: Option<String>,
}

/// A carrier's binds, for status pages.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolStatus {
    /// The carrier.
    pub carrier: String,
    /// Its binds.
    pub binds: Vec<BindStatus>,
    /// Whether the outbox has been told it is unavailable.
    pub unavailable: bool,
    /// Stopped by an operator ([`SetRunning`]): unbound and not reconnecting.
    pub stopped: bool,
    /// Successful submits per second over the last [`RATE_SPAN_SECS`] seconds.
    pub tps: f64,
}

/// Asks the pool for its status.
#[derive(Debug)]
pub struct GetPoolStatus;

impl Message for GetPoolStatus {
    type Result = PoolStatus;
}

/// Shutdown: unbind every bind; answers once all are closed.
#[derive(Debug)]
pub struct UnbindAll;

impl Message for UnbindAll {
    type Result = ();
}

/// The settings of a pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The carrier's name.
    pub carrier: String,
    /// Carrier-wide submits per second (across its binds) and burst.
    pub tps: f64,
    /// Burst of the carrier-wide bucket.
    pub burst: u32,
    /// No bind able to submit for this long → the outbox fails its queue over.
    pub failover_after: Duration,
}

/// The Pool actor. See the module documentation.
pub struct Pool {
    settings: PoolSettings,
    outbox: OutboxHandle,
    slots: Vec<Slot>,
    bucket: TokenBucket,
    /// A pull is on its way.
    pulling: bool,
    /// The last pull found less than asked: wait for a nudge before asking again.
    dry: bool,
    /// A nudge came while a pull was on its way: that pull's answer may predate the new
    /// work (the outbox forgets a carrier once it has nudged it), so it does not make the
    /// pool dry.
    nudged: bool,
    /// A nudge came since the last pull: an otp message may wait, so a pull is worth it
    /// for the otp reserve alone.
    nudge_pending: bool,
    /// A wake-up is armed for this instant (tokens, pause end).
    wake_at: Option<Instant>,
    wake: Option<SpawnHandle>,
    /// Since when no bind could submit.
    unable_since: Option<Instant>,
    /// The outbox was told the carrier is unavailable.
    reported_down: bool,
    /// Round-robin start, so binds share the load.
    next: usize,
    /// Stopped by an operator: binds unbound, none reconnects, nothing pulled.
    stopped: bool,
    /// Successful submits, for the status's throughput.
    rate: RateMeter,
}

impl Pool {
    /// A pool with no binds yet; [`Pool::add_bind`] them before starting it.
    pub fn new(
        settings: PoolSettings,
        outbox: OutboxHandle,
        now: Instant,
    ) -> Result<Pool, super::throttle::ThrottleError> {
        Ok(Pool {
            bucket: TokenBucket::new(settings.tps, settings.burst, now)?,
            settings,
            outbox,
            slots: Vec::new(),
            pulling: false,
            dry: false,
            nudged: false,
            nudge_pending: false,
            wake_at: None,
            wake: None,
            unable_since: Some(now),
            reported_down: false,
            next: 0,
            stopped: false,
            rate: RateMeter::new(now),
        })
    }

    /// Adds a bind with its own pacing.
    pub fn add_bind(
        &mut self,
        addr: Addr<BindActor>,
        pacing: PacerConfig,
        now: Instant,
    ) -> Result<(), super::throttle::ThrottleError> {
        self.slots.push(Slot {
            addr,
            mode: None,
            in_flight: 0,
            unsettled: 0,
            pacer: Pacer::new(pacing, now)?,
            last_error: None,
        });
        Ok(())
    }

    /// Asks the outbox for as much work as the binds can send now, if they can.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.pulling {
            return;
        }
        let now = Instant::now();
        let n = self.slots.len();
        let mut rooms: Vec<Room<'_>> = Vec::with_capacity(n);
        let mut order: Vec<&mut Slot> = self.slots.iter_mut().collect();
        order.rotate_left(self.next.min(n));
        let start = self.next;
        for (step, slot) in order.into_iter().enumerate() {
            if slot.can_submit() {
                rooms.push(Room {
                    index: (start + step) % n.max(1),
                    in_flight: slot.in_flight,
                    unsettled: slot.unsettled,
                    pacer: &mut slot.pacer,
                });
            }
        }
        let grants = grant(&mut rooms, &mut self.bucket, PULL_MAX, now);
        drop(rooms);
        self.next = (self.next + 1) % n.max(1);
        // Places for any class while the outbox may have work; the otp reserve alone only
        // after a nudge (an otp message may have come).
        let general = grants.general > 0 && !self.dry;
        let reserve = grants.binds.len() > grants.general && self.nudge_pending;
        if !(general || reserve) {
            self.give_back(&grants.binds, now);
            if let Some(at) = grants.wait {
                self.wake_at_instant(at, ctx);
            }
            return;
        }
        self.pulling = true;
        self.nudged = false;
        self.nudge_pending = false;
        let pull = Pull {
            carrier: self.settings.carrier.clone(),
            max: grants.binds.len(),
            max_other: grants.general,
        };
        // By the outbox's fast lane: a pull waits for no receipt or bulk result queued in
        // the outbox's mailbox, so the window refills and an otp message leaves at once.
        self.outbox
            .pull(pull)
            .into_actor(self)
            .map(move |res, act, ctx| {
                act.pulling = false;
                let work = res.unwrap_or_default();
                if work.len() < grants.general && !act.nudged {
                    act.dry = true;
                }
                act.give_back(
                    grants.binds.get(work.len()..).unwrap_or_default(),
                    Instant::now(),
                );
                act.hand_out(work, &grants.binds, ctx);
                act.pump(ctx);
            })
            .spawn(ctx);
    }

    /// Puts back the tokens of grants no PDU came for.
    fn give_back(&mut self, unused: &[usize], now: Instant) {
        for &i in unused {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.pacer.give_back(&mut self.bucket, 1, now);
            }
        }
    }

    /// Gives each PDU to the bind it was granted to.
    fn hand_out(&mut self, work: Vec<Dispatch>, grants: &[usize], ctx: &mut Context<Self>) {
        let mut per_bind: Vec<Vec<Dispatch>> = (0..self.slots.len()).map(|_| Vec::new()).collect();
        for (dispatch, &i) in work.into_iter().zip(grants) {
            if let Some(batch) = per_bind.get_mut(i) {
                batch.push(dispatch);
            }
        }
        let mut unsent = Vec::new();
        for (i, batch) in per_bind.into_iter().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let Some(slot) = self.slots.get_mut(i) else {
                unsent.extend(batch);
                continue;
            };
            slot.in_flight += batch.len();
            metrics::counter!(names::SUBMITS, "carrier" => self.settings.carrier.clone())
                .increment(batch.len() as u64);
            if let Err(e) = slot.addr.try_send(SendWork(batch)) {
                // The bind's mailbox is full or it is gone: nothing was sent.
                let SendWork(batch) = match e {
                    SendError::Full(m) | SendError::Closed(m) => m,
                };
                slot.in_flight = slot.in_flight.saturating_sub(batch.len());
                unsent.extend(batch);
            }
        }
        if !unsent.is_empty() {
            // An otp message among them goes back by the lane, to be taken again at once.
            let urgent = unsent.iter().any(|d| d.class == Class::Otp);
            let results = unsent
                .into_iter()
                .map(|d| (d.key, SubmitResult::NoAnswer(NoAnswer::NotSent)))
                .collect();
            self.outbox
                .results(Results(results), urgent)
                .into_actor(self)
                .map(|_, _, _| ())
                .spawn(ctx);
        }
    }

    fn wake_at_instant(&mut self, at: Instant, ctx: &mut Context<Self>) {
        if self.wake_at.is_some_and(|w| w <= at) {
            return;
        }
        if let Some(handle) = self.wake.take() {
            ctx.cancel_future(handle);
        }
        self.wake_at = Some(at);
        let delay = at.saturating_duration_since(Instant::now());
        self.wake = Some(ctx.run_later(delay, |act, ctx| {
            act.wake = None;
            act.wake_at = None;
            act.pump(ctx);
        }));
    }

    /// Whether any bind can submit; reports the carrier down after its failover time with
    /// none, and up again when one is back.
    fn check_availability(&mut self, ctx: &mut Context<Self>) {
        let able = self.slots.iter().any(Slot::can_submit);
        let now = Instant::now();
        if able {
            self.unable_since = None;
            if self.reported_down {
                self.reported_down = false;
                self.tell_availability(true, ctx);
            }
            metrics::gauge!(names::BINDS_UP, "carrier" => self.settings.carrier.clone())
                .set(self.slots.iter().filter(|s| s.mode.is_some()).count() as f64);
            return;
        }
        metrics::gauge!(names::BINDS_UP, "carrier" => self.settings.carrier.clone()).set(0.0);
        let since = *self.unable_since.get_or_insert(now);
        if !self.reported_down
            && now.saturating_duration_since(since) >= self.settings.failover_after
        {
            self.reported_down = true;
            warn!(carrier = %self.settings.carrier, after = ?self.settings.failover_after, "no bind able to submit: failing the carrier's queue over");
            self.tell_availability(false, ctx);
        }
    }

    fn tell_availability(&mut self, available: bool, ctx: &mut Context<Self>) {
        self.outbox
            .mailbox()
            .send(CarrierAvailability {
                carrier: self.settings.carrier.clone(),
                available,
            })
            .into_actor(self)
            .map(|_, _, _| ())
            .spawn(ctx);
    }

    fn export_window(&self) {
        let in_flight: usize = self.slots.iter().map(|s| s.in_flight).sum();
        metrics::gauge!(names::WINDOW_IN_USE, "carrier" => self.settings.carrier.clone())
            .set(in_flight as f64);
    }
}

impl Actor for Pool {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1024);
        // Availability is judged once a second; the failover time is in seconds.
        ctx.run_interval(Duration::from_secs(1), |act, ctx| {
            act.check_availability(ctx);
            act.export_window();
        });
    }
}

impl Handler<FromBind> for Pool {
    type Result = ();

    fn handle(&mut self, msg: FromBind, ctx: &mut Self::Context) {
        let now = Instant::now();
        let carrier = self.settings.carrier.clone();
        let Some(slot) = self.slots.get_mut(msg.bind) else {
            return;
        };
        match msg.report {
            BindReport::Up(_) if self.stopped => {
                // Bound just before the stop reached it; it is unbinding now.
            }
            BindReport::Up(mode) => {
                metrics::counter!(names::BIND_EVENTS, "carrier" => carrier, "state" => "bound")
                    .increment(1);
                slot.mode = Some(mode);
                slot.last_error = None;
                self.check_availability(ctx);
            }
            BindReport::Down { error } => {
                if slot.mode.is_some() {
                    metrics::counter!(names::BIND_EVENTS, "carrier" => carrier, "state" => "down")
                        .increment(1);
                }
                slot.mode = None;
                slot.in_flight = 0;
                slot.unsettled = 0;
                slot.last_error = Some(error);
                self.check_availability(ctx);
            }
            BindReport::Freed {
                freed,
                unsettled,
                ok,
                throttled,
                queue_full,
            } => {
                slot.in_flight = slot.in_flight.saturating_sub(freed);
                slot.unsettled += unsettled;
                self.rate.record(ok as u64, now);
                for _ in 0..ok {
                    slot.pacer.on_success(now);
                }
                if throttled {
                    slot.pacer.on_throttled(now);
                }
                if queue_full {
                    slot.pacer.on_queue_full(now);
                }
            }
            BindReport::Settled { n } => {
                slot.unsettled = slot.unsettled.saturating_sub(n);
            }
        }
        self.pump(ctx);
    }
}

impl Handler<Nudge> for Pool {
    type Result = ();

    fn handle(&mut self, _: Nudge, ctx: &mut Self::Context) {
        self.dry = false;
        self.nudge_pending = true;
        if self.pulling {
            self.nudged = true;
        }
        self.pump(ctx);
    }
}

impl Handler<GetPoolStatus> for Pool {
    type Result = MessageResult<GetPoolStatus>;

    fn handle(&mut self, _: GetPoolStatus, _: &mut Self::Context) -> Self::Result {
        MessageResult(PoolStatus {
            carrier: self.settings.carrier.clone(),
            binds: self
                .slots
                .iter()
                .enumerate()
                .map(|(index, s)| BindStatus {
                    index,
                    mode: s.mode,
                    in_flight: s.in_flight,
                    rate: s.pacer.rate(),
                    window: s.pacer.window_limit(),
                    last_error: s.last_error.clone(),
                })
                .collect(),
            unavailable: self.reported_down,
            stopped: self.stopped,
            tps: self.rate.per_second(Instant::now()),
        })
    }
}

impl Handler<UnbindAll> for Pool {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: UnbindAll, _: &mut Self::Context) -> Self::Result {
        // Nothing more is pulled: every slot is marked unable first.
        for slot in &mut self.slots {
            slot.mode = None;
        }
        let unbinds: Vec<_> = self.slots.iter().map(|s| s.addr.send(Unbind)).collect();
        Box::pin(
            async move {
                for unbind in unbinds {
                    // A bind that is gone is as unbound as one that answered.
                    let _ = unbind.await;
                }
            }
            .into_actor(self),
        )
    }
}

/// An operator stops (`running: false`) or starts the carrier's binds. Stop: every bind
/// unbinds (4.2) and does not reconnect; what was in flight goes back to the outbox and
/// the carrier's messages stay queued, or fail over after `failover_after` as when no
/// bind can submit. Start: every bind connects again.
#[derive(Debug, Clone, Copy)]
pub struct SetRunning {
    /// Start (`true`) or stop.
    pub running: bool,
}

impl Message for SetRunning {
    type Result = ();
}

impl Pool {
    /// Starts the pool stopped (its binds made with [`BindActor::held`]).
    pub fn start_stopped(&mut self) {
        self.stopped = true;
    }
}

impl Handler<SetRunning> for Pool {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: SetRunning, ctx: &mut Self::Context) -> Self::Result {
        self.stopped = !msg.running;
        if msg.running {
            for slot in &self.slots {
                // A bind that is gone cannot be started; its pool reports it down.
                let _ = slot.addr.try_send(super::bind::Resume);
            }
            self.dry = false;
            return Box::pin(async {}.into_actor(self));
        }
        for slot in &mut self.slots {
            slot.mode = None;
        }
        self.check_availability(ctx);
        let unbinds: Vec<_> = self.slots.iter().map(|s| s.addr.send(Unbind)).collect();
        Box::pin(
            async move {
                for unbind in unbinds {
                    let _ = unbind.await;
                }
            }
            .into_actor(self),
        )
    }
}

/// The span [`RateMeter`] averages over.
pub const RATE_SPAN_SECS: u64 = 10;

/// Events per second over the last [`RATE_SPAN_SECS`] whole seconds: one counter per
/// second in a ring. Time is passed in.
#[derive(Debug, Clone)]
pub struct RateMeter {
    origin: Instant,
    /// (second since origin, count) per slot.
    slots: [(u64, u64); RATE_SPAN_SECS as usize + 1],
}

impl RateMeter {
    /// A meter with nothing counted.
    pub fn new(now: Instant) -> RateMeter {
        RateMeter {
            origin: now,
            slots: [(u64::MAX, 0); RATE_SPAN_SECS as usize + 1],
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs()
    }

    /// Counts `n` at `now`.
    pub fn record(&mut self, n: u64, now: Instant) {
        if n == 0 {
            return;
        }
        let sec = self.second(now);
        let len = self.slots.len() as u64;
        if let Some(slot) = self.slots.get_mut((sec % len) as usize) {
            if slot.0 != sec {
                *slot = (sec, 0);
            }
            slot.1 += n;
        }
    }

    /// The mean per second over the last [`RATE_SPAN_SECS`] whole seconds before `now`'s
    /// (the current second, still filling, is left out).
    pub fn per_second(&self, now: Instant) -> f64 {
        let sec = self.second(now);
        let from = sec.saturating_sub(RATE_SPAN_SECS);
        let total: u64 = self
            .slots
            .iter()
            .filter(|(s, _)| *s != u64::MAX && *s >= from && *s < sec)
            .map(|(_, n)| n)
            .sum();
        total as f64 / RATE_SPAN_SECS as f64
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn the_rate_is_the_mean_of_the_last_whole_seconds() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut m = RateMeter::new(t0);
        assert_eq!(m.per_second(at(5_000)), 0.0);
        m.record(30, at(100));
        m.record(20, at(1_500));
        // The second still filling is not counted.
        assert_eq!(m.per_second(at(1_900)), 3.0);
        assert_eq!(m.per_second(at(2_000)), 5.0);
        // Eleven seconds on, the first second has left the span, the second not yet.
        assert_eq!(m.per_second(at(11_000)), 2.0);
        assert_eq!(m.per_second(at(12_000)), 0.0);
        // A slot reused for a later second starts from zero.
        m.record(10, at(12_100));
        assert_eq!(m.per_second(at(13_000)), 1.0);
    }
}

/// Reload: unbind every bind (what was in flight goes back to the outbox), then stop the
/// pool and with it its binds; answers once every bind is closed.
#[derive(Debug)]
pub struct Retire;

impl Message for Retire {
    type Result = ();
}

impl Handler<Retire> for Pool {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _: Retire, _: &mut Self::Context) -> Self::Result {
        for slot in &mut self.slots {
            slot.mode = None;
        }
        let unbinds: Vec<_> = self.slots.iter().map(|s| s.addr.send(Unbind)).collect();
        Box::pin(
            async move {
                for unbind in unbinds {
                    let _ = unbind.await;
                }
            }
            .into_actor(self)
            .map(|(), _, ctx| ctx.stop()),
        )
    }
}

#[cfg(test)]
mod grant_tests {
    use super::*;

    fn pacer(window: usize, now: Instant) -> Pacer {
        Pacer::new(PacerConfig::new(100_000.0, 10_000, window), now).unwrap()
    }

    fn bucket(now: Instant) -> TokenBucket {
        TokenBucket::new(100_000.0, 10_000, now).unwrap()
    }

    fn room(index: usize, in_flight: usize, unsettled: usize, pacer: &mut Pacer) -> Room<'_> {
        Room {
            index,
            in_flight,
            unsettled,
            pacer,
        }
    }

    #[test]
    fn a_tenth_of_each_window_is_kept_for_otp() {
        assert_eq!(otp_reserve(1), 0);
        assert_eq!(otp_reserve(2), 1);
        assert_eq!(otp_reserve(19), 1);
        assert_eq!(otp_reserve(100), 10);
    }

    #[test]
    fn other_classes_fill_a_window_but_its_reserve_and_otp_gets_the_reserve() {
        let now = Instant::now();
        let (mut a, mut b) = (pacer(10, now), pacer(10, now));
        let mut carrier = bucket(now);
        let mut rooms = [room(0, 0, 0, &mut a), room(1, 4, 0, &mut b)];
        let g = grant(&mut rooms, &mut carrier, 256, now);
        // Bind 0: 9 of 10 for any class; bind 1 has 4 in flight: 5 more. Then one each.
        assert_eq!(g.general, 14);
        assert_eq!(g.binds.len(), 16);
        assert_eq!(g.binds.iter().filter(|&&i| i == 0).count(), 10);
        assert_eq!(&g.binds[14..], &[0, 1]);
        assert_eq!(g.wait, None);
    }

    #[test]
    fn the_settle_allowance_keeps_the_reserve_too_and_a_full_one_grants_nothing() {
        let now = Instant::now();
        let mut p = pacer(10, now);
        let mut carrier = bucket(now);
        // 2 in flight, 15 answered not yet durable: 17 of the 20 allowed.
        let g = grant(&mut [room(3, 2, 15, &mut p)], &mut carrier, 256, now);
        assert_eq!((g.general, g.binds.len()), (2, 3));
        let g = grant(&mut [room(3, 2, 18, &mut p)], &mut carrier, 256, now);
        assert_eq!(g, Grants::default());
        // The window alone: 9 in flight of 10 leaves only the reserve.
        let g = grant(&mut [room(3, 9, 0, &mut p)], &mut carrier, 256, now);
        assert_eq!((g.general, g.binds.len()), (0, 1));
    }

    #[test]
    fn a_pull_asks_at_most_max_for_any_class_and_out_of_tokens_says_when() {
        let now = Instant::now();
        let mut p = pacer(100, now);
        let mut carrier = bucket(now);
        let g = grant(&mut [room(0, 0, 0, &mut p)], &mut carrier, 7, now);
        assert_eq!((g.general, g.binds.len()), (7, 17));
        // A carrier bucket of 3 tokens: 3 places, then the instant of the next token.
        let mut q = pacer(100, now);
        let mut small = TokenBucket::new(10.0, 3, now).unwrap();
        let g = grant(&mut [room(0, 0, 0, &mut q)], &mut small, 256, now);
        assert_eq!((g.general, g.binds.len()), (3, 3));
        assert!(g.wait.is_some_and(|at| at > now));
    }
}
