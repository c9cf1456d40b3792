//! The built-in simulated SMSC in the service's process (`[simulator] enabled = true`): it
//! runs on a Tokio runtime of its own thread, so it takes its own core's share while the
//! gateway's actors take theirs, and the carriers configured to bind to it follow it to
//! wherever its listener ended up (port 0 picks a free one).

use crate::config::Config;
use std::net::SocketAddr;
#[cfg(feature = "sim")]
use tokio::sync::oneshot;

/// The running simulator.
#[cfg(feature = "sim")]
pub struct RunningSim {
    /// Its scenario's name.
    pub scenario: String,
    /// Its SMPP listener.
    pub smpp_addr: SocketAddr,
    /// Its HTTP control interface.
    pub control_addr: SocketAddr,
    /// The simulator itself (its tasks run on the simulator's thread): the handset inbox,
    /// counters and faults, for the demo and the benchmarks.
    handle: smsc_sim::SimHandle,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

#[cfg(feature = "sim")]
impl RunningSim {
    /// The simulator: its handset inbox ([`smsc_sim::SimHandle::wait_for_inbox`]), its
    /// counters and its faults.
    pub fn handle(&self) -> &smsc_sim::SimHandle {
        &self.handle
    }

    /// Unbinds its sessions and stops it.
    pub async fn stop(self) {
        self.handle.shutdown().await;
        let _ = self.stop.send(());
        // The thread ends once the simulator has shut down; joining must not block the
        // caller's runtime.
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

/// Starts the simulator when the configuration enables it, and points every bind that was
/// configured at `binds_at` (the simulator's address as the configuration file gave it,
/// before any command-line override) to the simulator's actual address.
#[cfg(feature = "sim")]
pub async fn start_if_enabled(
    config: &mut Config,
    binds_at: SocketAddr,
) -> Result<Option<RunningSim>, String> {
    if !config.simulator.enabled {
        return Ok(None);
    }
    let sim_config = config
        .simulator
        .sim_config()
        .map_err(|e| format!("simulator: {e}"))?;
    let scenario = sim_config.name.clone();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("smsc-sim".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("smsc-sim")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("simulator runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                match smsc_sim::start(sim_config).await {
                    Ok(sim) => {
                        // The handle goes to the owner, who shuts the simulator down
                        // through it; this thread's runtime runs its tasks until then.
                        if let Err(Ok(sim)) = ready_tx.send(Ok(sim)) {
                            sim.shutdown().await;
                            return;
                        }
                        let _ = stop_rx.await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("simulator: {e}")));
                    }
                }
            });
        })
        .map_err(|e| format!("simulator thread: {e}"))?;
    let handle = ready_rx
        .await
        .map_err(|_| "the simulator thread ended before it started".to_owned())??;
    let (smpp_addr, control_addr) = (handle.smpp_addr(), handle.control_addr());
    // From now on the configuration says where the simulator is listening (the sandbox
    // carrier of the API binds there).
    follow(config, binds_at, smpp_addr);
    Ok(Some(RunningSim {
        scenario,
        smpp_addr,
        control_addr,
        handle,
        stop: stop_tx,
        thread,
    }))
}

/// A build without the `sim` feature has no simulator; its configuration cannot enable
/// one (refused at load), so there is nothing to start.
#[cfg(not(feature = "sim"))]
pub async fn start_if_enabled(
    _config: &mut Config,
    _binds_at: SocketAddr,
) -> Result<Option<RunningSim>, String> {
    Ok(None)
}

/// The simulator a build without the `sim` feature never runs.
#[cfg(not(feature = "sim"))]
pub struct RunningSim {
    /// Its scenario's name.
    pub scenario: String,
    /// Its SMPP listener.
    pub smpp_addr: SocketAddr,
    /// Its HTTP control interface.
    pub control_addr: SocketAddr,
}

#[cfg(not(feature = "sim"))]
impl RunningSim {
    /// Nothing to stop.
    pub async fn stop(self) {}
}

/// Points the configuration at the simulator listening at `smpp_addr`: its address, and
/// every bind configured at `binds_at` (the address the file gave it). Done once it has
/// started, and again on each reload (`crate::reload::Reloader`).
pub fn follow(config: &mut Config, binds_at: SocketAddr, smpp_addr: SocketAddr) {
    config.simulator.smpp_address = smpp_addr;
    for carrier in config.carriers.values_mut() {
        for bind in &mut carrier.binds {
            if points_at(&bind.host, bind.port, binds_at) {
                bind.host = smpp_addr.ip().to_string();
                bind.port = smpp_addr.port();
            }
        }
    }
}

/// Whether a bind's host and port name the simulator's configured address.
fn points_at(host: &str, port: u16, addr: SocketAddr) -> bool {
    let same_host = host.parse::<std::net::IpAddr>().ok() == Some(addr.ip())
        || (host == "localhost" && addr.ip().is_loopback());
    same_host && port == addr.port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_at_the_configured_address_follows_the_simulator() {
        let addr: SocketAddr = "127.0.0.1:2775".parse().unwrap();
        assert!(points_at("127.0.0.1", 2775, addr));
        assert!(points_at("localhost", 2775, addr));
        assert!(!points_at("127.0.0.1", 2776, addr));
        assert!(!points_at("smsc.example.net", 2775, addr));
    }
}
