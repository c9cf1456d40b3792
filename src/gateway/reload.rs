//! Live reconfiguration of a running [`Gateway`]: which carriers a new spec adds, removes,
//! changes or leaves alone ([`plan`], a pure function), and applying it
//! ([`Gateway::reconfigure`]) without dropping the binds of the carriers it leaves alone.
//!
//! The protocol (docs/architecture.md, "Reloading"): every added or changed carrier's
//! pacing is checked first, so a refused spec changes nothing. Then, in this order:
//! 1. added carriers: the outbox learns their profile and link, their pool and binds start;
//! 2. changed carriers: the outbox's link moves to a new pool (not yet running), the old
//!    pool unbinds every bind (what was in flight goes back to the outbox, queued again)
//!    and stops, then the new pool and its binds start;
//! 3. the router (routes, portability table) and the outbox's settings are replaced;
//! 4. removed carriers: the outbox moves their queued messages to another configured
//!    carrier of each message's route and holds the rest under the removed carrier (until
//!    it is configured again or their validity ends), then their pool unbinds and stops.
//!
//! Unchanged carriers are not touched: same pool, same binds, same SMPP sessions.

use super::{start_pool, CarrierSpec, Gateway, GatewaySpec, StartError};
use crate::carrier::bind::BindSpec;
use crate::carrier::pool::{Pool, Retire};
use crate::carrier::throttle::{Pacer, ThrottleError, TokenBucket};
use crate::outbox::actor::{CarrierLink, RemoveCarrier, SetCarrier, SetRouting};
use crate::store::StoreError;
use actix::prelude::*;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::time::Instant;
use thiserror::Error;
use tracing::{info, warn};

/// Which carriers a new spec adds, removes, changes (anything of its spec differs) or
/// leaves as they are; each list sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadPlan {
    /// In the new spec only.
    pub added: Vec<String>,
    /// In the running spec only.
    pub removed: Vec<String>,
    /// In both, with a difference: address, credentials, binds, pacing, profile, matcher.
    pub changed: Vec<String>,
    /// In both, identical: their binds stay up.
    pub unchanged: Vec<String>,
}

impl ReloadPlan {
    /// Whether the plan changes no carrier.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The plan from the running carriers `old` to `new` (names are unique in each).
pub fn plan<'a>(
    old: impl IntoIterator<Item = &'a CarrierSpec>,
    new: impl IntoIterator<Item = &'a CarrierSpec>,
) -> ReloadPlan {
    let old: std::collections::BTreeMap<&str, &CarrierSpec> =
        old.into_iter().map(|c| (c.name.as_str(), c)).collect();
    let new: std::collections::BTreeMap<&str, &CarrierSpec> =
        new.into_iter().map(|c| (c.name.as_str(), c)).collect();
    let mut plan = ReloadPlan::default();
    for (name, spec) in &new {
        match old.get(name) {
            None => plan.added.push((*name).to_owned()),
            Some(running) if same_carrier(running, spec) => {
                plan.unchanged.push((*name).to_owned());
            }
            Some(_) => plan.changed.push((*name).to_owned()),
        }
    }
    plan.removed = old
        .keys()
        .filter(|name| !new.contains_key(*name))
        .map(|name| (*name).to_owned())
        .collect();
    plan
}

/// Whether two specs of a carrier are the same in everything a running carrier uses.
/// A TLS bind is compared by its server name: a certificate file rewritten in place under
/// the same path is not seen (a restart, or a changed carrier, picks it up).
fn same_carrier(a: &CarrierSpec, b: &CarrierSpec) -> bool {
    a.name == b.name
        && a.profile == b.profile
        && a.matcher == b.matcher
        && a.pool.carrier == b.pool.carrier
        && a.pool.tps == b.pool.tps
        && a.pool.burst == b.pool.burst
        && a.pool.failover_after == b.pool.failover_after
        && a.binds.len() == b.binds.len()
        && a.binds
            .iter()
            .zip(&b.binds)
            .all(|((x, px), (y, py))| px == py && same_bind(x, y))
}

fn same_bind(a: &BindSpec, b: &BindSpec) -> bool {
    let (x, y) = (&a.link, &b.link);
    a.carrier == b.carrier
        && a.index == b.index
        && a.backoff == b.backoff
        && a.endpoint.host == b.endpoint.host
        && a.endpoint.port == b.endpoint.port
        && a.endpoint.tls.as_ref().map(|t| &t.1) == b.endpoint.tls.as_ref().map(|t| &t.1)
        && x.mode == y.mode
        && x.system_id == y.system_id
        && x.password.expose_secret() == y.password.expose_secret()
        && x.system_type == y.system_type
        && x.addr_ton == y.addr_ton
        && x.addr_npi == y.addr_npi
        && x.address_range == y.address_range
        && x.window == y.window
        && x.response_timeout == y.response_timeout
        && x.bind_timeout == y.bind_timeout
        && x.enquire_interval == y.enquire_interval
        && x.enquire_timeout == y.enquire_timeout
        && x.unbind_timeout == y.unbind_timeout
}

/// What removing a carrier did with the messages queued for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierChange {
    /// The carrier.
    pub carrier: String,
    /// Messages moved to another configured carrier of their route.
    pub moved: usize,
    /// Messages held under the removed carrier: their route has no other configured
    /// carrier. They go once it is configured again, or expire with their validity.
    pub held: usize,
}

/// What [`Gateway::reconfigure`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The carriers added, removed, changed and left alone.
    pub plan: ReloadPlan,
    /// For each removed carrier, where its queued messages went.
    pub removed: Vec<CarrierChange>,
    /// Every old pool (changed and removed carriers) unbound within the unbind deadline.
    pub unbound_in_time: bool,
    /// Entries of the portability table now in use.
    pub portability_entries: usize,
    /// Entries of the portability table it replaced.
    pub portability_before: usize,
}

/// Why a reconfiguration was refused or stopped.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// A carrier's pacing is out of range: refused, nothing changed.
    #[error("carrier {carrier}: {source}")]
    Pacing {
        /// The carrier.
        carrier: String,
        /// The error.
        source: ThrottleError,
    },
    /// The outbox is gone (the gateway stopped).
    #[error("the outbox is not running")]
    NotRunning,
    /// The store failed moving a removed carrier's messages.
    #[error("removing carrier {carrier}: {source}")]
    Store {
        /// The carrier.
        carrier: String,
        /// The store's error.
        source: StoreError,
    },
}

impl From<MailboxError> for ApplyError {
    fn from(_: MailboxError) -> Self {
        ApplyError::NotRunning
    }
}

impl From<StartError> for ApplyError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Pacing { carrier, source } => ApplyError::Pacing { carrier, source },
            _ => ApplyError::NotRunning,
        }
    }
}

/// Checks a carrier's pacing as its pool would, without starting anything.
fn check_pacing(carrier: &CarrierSpec, now: Instant) -> Result<(), ApplyError> {
    let err = |source| ApplyError::Pacing {
        carrier: carrier.name.clone(),
        source,
    };
    TokenBucket::new(carrier.pool.tps, carrier.pool.burst, now).map_err(err)?;
    for (_, pacing) in &carrier.binds {
        Pacer::new(*pacing, now).map_err(err)?;
    }
    Ok(())
}

impl Gateway {
    /// The carriers' specs as running now, by name.
    pub fn carrier_specs(&self) -> Vec<CarrierSpec> {
        self.carriers.read().specs.values().cloned().collect()
    }

    /// Applies `spec`'s carriers, router and outbox settings to the running gateway (see
    /// the module documentation). What only a restart changes (the data directory, the
    /// verifier, the sandbox carrier, the unbind deadline) is not taken from `spec`; the
    /// sandbox carrier is left out of the plan.
    ///
    /// # Errors
    /// [`ApplyError::Pacing`] before anything changed; [`ApplyError::NotRunning`] or
    /// [`ApplyError::Store`] when the outbox stopped on the way.
    pub async fn reconfigure(&self, spec: GatewaySpec) -> Result<Applied, ApplyError> {
        let _one = self.reconfiguring.lock().await;
        let now = Instant::now();
        let sandbox = self.sandbox.clone();
        let not_sandbox = |c: &CarrierSpec| Some(&c.name) != sandbox.as_ref();
        let mut new: std::collections::BTreeMap<String, CarrierSpec> = spec
            .carriers
            .into_iter()
            .filter(not_sandbox)
            .map(|c| (c.name.clone(), c))
            .collect();
        let old: Vec<CarrierSpec> = self
            .carrier_specs()
            .into_iter()
            .filter(not_sandbox)
            .collect();
        let plan = plan(&old, new.values());
        for name in plan.added.iter().chain(&plan.changed) {
            if let Some(carrier) = new.get(name) {
                check_pacing(carrier, now)?;
            }
        }
        let portability_entries = spec.router.portability().len();
        let mut unbound_in_time = true;
        for name in &plan.added {
            let Some(carrier) = new.remove(name) else {
                continue;
            };
            info!(carrier = %name, "reload: carrier added");
            self.start_carrier_now(carrier, now).await?;
        }
        for name in &plan.changed {
            let Some(carrier) = new.remove(name) else {
                continue;
            };
            info!(carrier = %name, "reload: carrier changed: unbinding its old binds, then binding anew");
            let ctx = Context::<Pool>::new();
            self.outbox
                .mailbox()
                .send(SetCarrier {
                    name: name.clone(),
                    profile: carrier.profile.clone(),
                    link: CarrierLink {
                        pool: ctx.address().recipient(),
                        matcher: carrier.matcher.clone(),
                    },
                })
                .await?;
            let old_pool = self.carriers.read().pools.get(name).cloned();
            if let Some(pool) = old_pool {
                unbound_in_time &= self.retire(name, pool).await;
            }
            let held = self.held_by_operator(name);
            let pool = start_pool(&carrier, ctx, &self.outbox, Instant::now(), held)?;
            let mut carriers = self.carriers.write();
            carriers.pools.insert(name.clone(), pool);
            carriers.specs.insert(name.clone(), carrier);
        }
        *self.route_kinds.write() = spec.router.carrier_kinds();
        let portability_before = self
            .outbox
            .mailbox()
            .send(SetRouting {
                router: spec.router,
                settings: spec.outbox,
            })
            .await?;
        let mut removed = Vec::new();
        for name in &plan.removed {
            let outcome = self
                .outbox
                .mailbox()
                .send(RemoveCarrier(name.clone()))
                .await?
                .map_err(|source| ApplyError::Store {
                    carrier: name.clone(),
                    source,
                })?;
            let pool = {
                let mut carriers = self.carriers.write();
                carriers.specs.remove(name);
                carriers.pools.remove(name)
            };
            if let Some(pool) = pool {
                unbound_in_time &= self.retire(name, pool).await;
            }
            info!(carrier = %name, moved = outcome.moved, held = outcome.held, "reload: carrier removed");
            removed.push(CarrierChange {
                carrier: name.clone(),
                moved: outcome.moved,
                held: outcome.held,
            });
        }
        Ok(Applied {
            plan,
            removed,
            unbound_in_time,
            portability_entries,
            portability_before,
        })
    }

    /// Starts a carrier the outbox does not know yet: its profile and link first, so no
    /// nudge is lost, then its pool and binds.
    async fn start_carrier_now(
        &self,
        carrier: CarrierSpec,
        now: Instant,
    ) -> Result<(), ApplyError> {
        let ctx = Context::<Pool>::new();
        self.outbox
            .mailbox()
            .send(SetCarrier {
                name: carrier.name.clone(),
                profile: carrier.profile.clone(),
                link: CarrierLink {
                    pool: ctx.address().recipient(),
                    matcher: carrier.matcher.clone(),
                },
            })
            .await?;
        let held = self.held_by_operator(&carrier.name);
        let pool = start_pool(&carrier, ctx, &self.outbox, now, held)?;
        let mut carriers = self.carriers.write();
        carriers.pools.insert(carrier.name.clone(), pool);
        carriers.specs.insert(carrier.name.clone(), carrier);
        Ok(())
    }

    /// Whether an operator stopped carrier `name` (on disk): its new pool starts stopped.
    fn held_by_operator(&self, name: &str) -> bool {
        self.admin
            .lock()
            .as_ref()
            .and_then(|admin| admin.stopped().ok())
            .is_some_and(|stopped| stopped.contains(name))
    }

    /// Unbinds and stops an old pool; whether it did so within the unbind deadline (past
    /// it, its binds close on their own unbind timeout).
    async fn retire(&self, name: &str, pool: Addr<Pool>) -> bool {
        let in_time = tokio::time::timeout(self.unbind_deadline, pool.send(Retire))
            .await
            .is_ok_and(|r| r.is_ok());
        if !in_time {
            warn!(carrier = %name, deadline = ?self.unbind_deadline, "reload: the old binds did not all answer their unbind in time");
        }
        in_time
    }
}
