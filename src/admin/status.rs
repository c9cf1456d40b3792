//! The status snapshot `GET /status` answers and the status page draws: every carrier with
//! its route kinds, its operator state, its binds, window in use, last error, throughput
//! and queue depth per class; the totals; the last messages' outcomes (id, carrier, state,
//! time: never a text, never a code). Built from [`Gateway::binds`], [`Gateway::depth`]
//! and the outbox's event log.

use crate::gateway::{Gateway, GatewayError};
use crate::store::{EventKind, MessageId, State};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Most of the event log read back for the last outcomes.
const EVENTS_SCANNED: u64 = 2_000;

/// `GET /status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Seconds since the gateway started.
    pub uptime_secs: u64,
    /// Every carrier, by name.
    pub carriers: Vec<CarrierStatus>,
    /// Across carriers.
    pub totals: Totals,
    /// The last messages' latest states, newest first.
    pub recent: Vec<Outcome>,
}

/// One carrier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierStatus {
    /// Its name.
    pub name: String,
    /// The kinds of the routes that name it (`domestic`, `international`); empty when
    /// only sandbox messages go to it.
    pub route_kinds: Vec<String>,
    /// `running`, or `stopped` by an operator.
    pub admin_state: AdminState,
    /// Whether the outbox routes around it (no bind able to submit for its failover time).
    pub unavailable: bool,
    /// Its binds.
    pub binds: Vec<BindState>,
    /// Submits in flight over its binds.
    pub window_in_use: usize,
    /// The most recent error a bind reported, if any bind is down with one.
    pub last_error: Option<String>,
    /// Successful submits per second over the last 10 s.
    pub tps: f64,
    /// Messages waiting, per class (`otp`, `transactional`, `bulk`).
    pub queued: BTreeMap<String, usize>,
}

/// A carrier as the operator left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminState {
    /// Its binds are kept up.
    Running,
    /// Stopped: unbound, not reconnecting, until started.
    Stopped,
}

/// One bind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindState {
    /// Its index within the carrier.
    pub index: usize,
    /// `bound` or `down`.
    pub state: String,
    /// `transmitter`, `receiver` or `transceiver` when bound.
    pub mode: Option<String>,
    /// Submits awaiting their response.
    pub in_flight: usize,
    /// Its effective window now.
    pub window: usize,
    /// Its effective rate now (submits per second).
    pub rate: f64,
    /// The last error it reported.
    pub last_error: Option<String>,
}

/// Across carriers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Carriers configured.
    pub carriers: usize,
    /// Binds bound now, of `binds`.
    pub binds_up: usize,
    /// Binds configured.
    pub binds: usize,
    /// Messages waiting to be submitted.
    pub queued: usize,
    /// Messages not final.
    pub open: usize,
    /// Receipts kept unmatched.
    pub unmatched: usize,
}

/// One message's latest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Its id.
    pub id: String,
    /// The carrier it is on.
    pub carrier: String,
    /// Its state (`queued`, `submitted`, `delivered`, …).
    pub state: String,
    /// Whether nothing more will happen to it.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// When it changed to that state (unix ms).
    pub at: u64,
}

fn mode_name(mode: smpp::session::BindMode) -> &'static str {
    match mode {
        smpp::session::BindMode::Transmitter => "transmitter",
        smpp::session::BindMode::Receiver => "receiver",
        smpp::session::BindMode::Transceiver => "transceiver",
    }
}

/// Builds the snapshot (see [`Gateway::snapshot`]).
///
/// # Errors
/// [`GatewayError`] when the outbox is gone.
pub async fn snapshot(gateway: &Gateway, recent: usize) -> Result<Snapshot, GatewayError> {
    let pools = gateway.binds().await;
    let depth = gateway.depth().await?;
    let mut carriers = Vec::with_capacity(pools.len());
    let mut totals = Totals {
        carriers: pools.len(),
        binds_up: 0,
        binds: 0,
        queued: 0,
        open: depth.open,
        unmatched: depth.unmatched,
    };
    let kinds = gateway.route_kinds();
    for pool in pools {
        let mut queued = BTreeMap::new();
        for (carrier, class, n) in &depth.queued {
            if *carrier == pool.carrier {
                *queued.entry(class.as_str().to_owned()).or_insert(0) += n;
                totals.queued += n;
            }
        }
        totals.binds += pool.binds.len();
        totals.binds_up += pool.binds.iter().filter(|b| b.mode.is_some()).count();
        let last_error = pool
            .binds
            .iter()
            .filter(|b| b.mode.is_none())
            .find_map(|b| b.last_error.clone());
        carriers.push(CarrierStatus {
            route_kinds: kinds
                .get(&pool.carrier)
                .map(|ks| ks.iter().map(|k| k.as_str().to_owned()).collect())
                .unwrap_or_default(),
            admin_state: if pool.stopped {
                AdminState::Stopped
            } else {
                AdminState::Running
            },
            unavailable: pool.unavailable,
            window_in_use: pool.binds.iter().map(|b| b.in_flight).sum(),
            binds: pool
                .binds
                .iter()
                .map(|b| BindState {
                    index: b.index,
                    state: if b.mode.is_some() { "bound" } else { "down" }.to_owned(),
                    mode: b.mode.map(|m| mode_name(m).to_owned()),
                    in_flight: b.in_flight,
                    window: b.window,
                    rate: b.rate,
                    last_error: b.last_error.clone(),
                })
                .collect(),
            last_error,
            tps: pool.tps,
            queued,
            name: pool.carrier,
        });
    }
    Ok(Snapshot {
        uptime_secs: gateway.uptime().as_secs(),
        carriers,
        totals,
        recent: recent_outcomes(gateway, recent).await?,
    })
}

/// The latest state of each of the last `n` messages that changed, newest first, from the
/// tail of the event log.
async fn recent_outcomes(gateway: &Gateway, n: usize) -> Result<Vec<Outcome>, GatewayError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let last = *gateway.subscribe().borrow();
    let cursor = last.saturating_sub(EVENTS_SCANNED);
    let events = gateway.events(cursor, EVENTS_SCANNED as usize).await?;
    let mut seen: HashSet<MessageId> = HashSet::new();
    let mut out = Vec::new();
    for (_, event) in events.iter().rev() {
        let EventKind::Message {
            id, state, carrier, ..
        } = &event.kind
        else {
            continue;
        };
        if !seen.insert(*id) {
            continue;
        }
        out.push(outcome(*id, *state, carrier, event.at));
        if out.len() == n {
            break;
        }
    }
    Ok(out)
}

fn outcome(id: MessageId, state: State, carrier: &str, at: u64) -> Outcome {
    Outcome {
        id: id.to_string(),
        carrier: carrier.to_owned(),
        state: state.as_str().to_owned(),
        is_final: state.is_final(),
        at,
    }
}
