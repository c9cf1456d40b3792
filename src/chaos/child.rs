//! The gateway under test: `smsgate run` (this same executable) as a child process, with a
//! configuration file pointing at the in-process simulator, started, SIGKILLed, stopped with
//! SIGTERM and started again on the same data directory.

use super::ChaosError;
use sha2::Digest;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// The longest a start may take until the gateway prints that it runs.
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// The longest a SIGTERM may take before the gateway is SIGKILLed.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// What the child's configuration holds.
#[derive(Debug, Clone)]
pub struct ChildConfig {
    /// The sled data directory.
    pub data_dir: PathBuf,
    /// The simulator's SMPP address.
    pub smsc: SocketAddr,
    /// Its account.
    pub system_id: String,
    /// Its password.
    pub password: String,
    /// Binds of the carrier.
    pub binds: usize,
    /// Window of each bind.
    pub window: usize,
    /// The API token (only its SHA-256 goes in the file).
    pub token: String,
}

/// The configuration file's text.
pub fn config_text(c: &ChildConfig) -> String {
    let sha = sha2::Sha256::digest(c.token.as_bytes());
    let sha: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        r#"# Written by smsgate chaos for the gateway under test.
data_dir = "{data}"
[simulator]
enabled = false
[metrics]
address = "127.0.0.1:0"
[log]
filter = "warn,smsgate::message=debug"
[outbox]
retry = {{ initial = "100ms", max = "2s", jitter = 0.2 }}
[api]
enabled = true
address = "127.0.0.1:0"
[[api.tokens]]
name = "chaos"
sha256 = "{sha}"
operations = ["message.submit", "message.status"]
rate = 100000
mode = "live"
[admin]
enabled = false
[carriers.sim]
message_id = "as_is"
response_timeout = "2s"
enquire_link = {{ interval = "1s", timeout = "1s" }}
reconnect = {{ initial = "50ms", max = "500ms", jitter = 0.5 }}
[[carriers.sim.binds]]
host = "{host}"
port = {port}
system_id = "{id}"
password = "{pw}"
count = {binds}
window = {window}
[[routes]]
prefix = "81"
carriers = ["sim"]
"#,
        data = c.data_dir.display(),
        host = c.smsc.ip(),
        port = c.smsc.port(),
        id = c.system_id,
        pw = c.password,
        binds = c.binds,
        window = c.window,
    )
}

/// Starts the gateway, again and again, with the same configuration.
#[derive(Debug)]
pub struct Launcher {
    exe: PathBuf,
    config: PathBuf,
    log: PathBuf,
    /// Starts so far.
    pub starts: usize,
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    child: tokio::process::Child,
    /// Where its TCP API listens.
    pub api: SocketAddr,
    /// How long it took to say it runs.
    pub ready_in: Duration,
}

impl Launcher {
    /// Writes the configuration file to `config` and gets ready to start
    /// `exe run --config …`, its stderr appended to `log`.
    ///
    /// # Errors
    /// [`ChaosError::Setup`] if the file cannot be written.
    pub fn new(
        exe: PathBuf,
        config: &Path,
        log: &Path,
        c: &ChildConfig,
    ) -> Result<Launcher, ChaosError> {
        std::fs::write(config, config_text(c))
            .map_err(|e| ChaosError::Setup(format!("cannot write {}: {e}", config.display())))?;
        Ok(Launcher {
            exe,
            config: config.to_path_buf(),
            log: log.to_path_buf(),
            starts: 0,
        })
    }

    /// Starts the gateway and waits until it prints the line that says it runs.
    ///
    /// # Errors
    /// [`ChaosError::Gateway`] if it cannot be started, exits or says nothing in time.
    pub async fn start(&mut self) -> Result<Gateway, ChaosError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| ChaosError::Setup(format!("cannot open {}: {e}", self.log.display())))?;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&self.exe)
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .args(["--admin-addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                ChaosError::Gateway(format!("cannot start {} run: {e}", self.exe.display()))
            })?;
        self.starts += 1;
        if let Some(pid) = child.id() {
            LAST_STARTED.store(pid, std::sync::atomic::Ordering::Relaxed);
            super::progress(&format!("gateway start {} (pid {pid})", self.starts));
        }
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ChaosError::Gateway("the gateway's stdout is not piped".into()))?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(READY_DEADLINE, lines.next_line()).await;
        let line = match first {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => {
                let status = child.wait().await.ok();
                return Err(ChaosError::Gateway(format!(
                    "the gateway (start {}) exited before it ran ({}); see {}",
                    self.starts,
                    status.map_or("unknown status".into(), |s| s.to_string()),
                    self.log.display()
                )));
            }
            Err(_) => {
                return Err(ChaosError::Gateway(format!(
                    "the gateway (start {}) did not say it runs within {READY_DEADLINE:?}; see {}",
                    self.starts,
                    self.log.display()
                )))
            }
        };
        let api = api_addr(&line).ok_or_else(|| {
            ChaosError::Gateway(format!("no API address in the gateway's line {line:?}"))
        })?;
        // Nothing more is expected on stdout; read it anyway so a line never blocks it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Gateway {
            child,
            api,
            ready_in: started.elapsed(),
        })
    }
}

/// The pid of the gateway started last (0: none yet). One gateway runs at a time, so after
/// an interrupted run this is the one that may still be dying.
static LAST_STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The pid of the gateway started last, if any.
pub fn last_started() -> Option<u32> {
    Some(LAST_STARTED.load(std::sync::atomic::Ordering::Relaxed)).filter(|&p| p != 0)
}

/// Waits, up to `deadline`, until process `pid` has exited (gone, or a zombie for its
/// parent to reap), looking at `/proc` every 10 ms. Whether it did is returned.
pub fn wait_gone(pid: u32, deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    loop {
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .is_some_and(|stat| !is_zombie(&stat));
        if !alive {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a `/proc/PID/stat` line says the process has exited (state `Z` or `X`, the
/// field after the parenthesised name).
pub fn is_zombie(stat: &str) -> bool {
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z" || state == "X")
}

/// The API address in `smsgate: running; api on ADDR; …`.
pub fn api_addr(line: &str) -> Option<SocketAddr> {
    line.split("api on ")
        .nth(1)?
        .split(';')
        .next()?
        .trim()
        .parse()
        .ok()
}

impl Gateway {
    /// SIGKILL: no unbind, no flush. Returns how it ended.
    ///
    /// # Errors
    /// [`ChaosError::Gateway`] if the signal cannot be sent or the child not reaped.
    pub async fn kill(&mut self) -> Result<ExitStatus, ChaosError> {
        if let Some(status) = self.exited()? {
            return Err(ChaosError::Gateway(format!(
                "the gateway had already exited ({status}) when it was to be killed"
            )));
        }
        self.child
            .kill()
            .await
            .map_err(|e| ChaosError::Gateway(format!("cannot SIGKILL the gateway: {e}")))?;
        self.child
            .wait()
            .await
            .map_err(|e| ChaosError::Gateway(format!("cannot reap the gateway: {e}")))
    }

    /// SIGTERM (the orderly stop), then SIGKILL if it has not exited within
    /// [`STOP_DEADLINE`]. Returns how it ended and whether the SIGKILL was needed.
    ///
    /// # Errors
    /// [`ChaosError::Gateway`] if no signal can be sent or the child not reaped.
    pub async fn stop(&mut self) -> Result<(ExitStatus, bool), ChaosError> {
        if let Some(status) = self.exited()? {
            return Ok((status, false));
        }
        if let Some(pid) = self.child.id() {
            let sent = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
            if sent.is_ok_and(|s| s.success()) {
                if let Ok(status) = tokio::time::timeout(STOP_DEADLINE, self.child.wait()).await {
                    return status
                        .map(|s| (s, false))
                        .map_err(|e| ChaosError::Gateway(format!("cannot reap the gateway: {e}")));
                }
            }
        }
        self.kill().await.map(|s| (s, true))
    }

    /// How it ended, if it has.
    ///
    /// # Errors
    /// [`ChaosError::Gateway`] if its state cannot be read.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, ChaosError> {
        self.child
            .try_wait()
            .map_err(|e| ChaosError::Gateway(format!("cannot read the gateway's state: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_process_has_exited_when_its_stat_says_zombie_or_dead() {
        assert!(is_zombie("27720 (smsgate) Z 1 27653 1244 0"));
        assert!(is_zombie("7 (a (b) c) X 1"));
        assert!(!is_zombie("27720 (smsgate) R 1 27653 1244 0"));
        assert!(!is_zombie("7 (Z) S 1"), "the state, not the name");
        assert!(!is_zombie(""));
        // This process runs; one that cannot exist is gone at once.
        assert!(!wait_gone(std::process::id(), Duration::ZERO));
        assert!(wait_gone(u32::MAX, Duration::from_secs(5)));
    }

    #[test]
    fn the_api_address_is_read_from_the_running_line() {
        let line = "smsgate: running; api on 127.0.0.1:43677; metrics on http://127.0.0.1:1/metrics; data in d";
        assert_eq!(api_addr(line), Some("127.0.0.1:43677".parse().unwrap()));
        assert_eq!(api_addr("smsgate: running; metrics on x"), None);
    }

    #[test]
    fn the_configuration_holds_the_token_hash_only_and_validates() {
        let c = ChildConfig {
            data_dir: PathBuf::from("/tmp/x/data"),
            smsc: "127.0.0.1:2775".parse().unwrap(),
            system_id: "test".into(),
            password: "pw".into(),
            binds: 2,
            window: 20,
            token: "chaos-secret-token".into(),
        };
        let text = config_text(&c);
        assert!(!text.contains("chaos-secret-token"));
        let config = crate::config::Config::from_toml("chaos.toml", &text, std::iter::empty())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(config.api.enabled);
    }
}
