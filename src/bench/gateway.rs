//! The gateway under test: `smsgate run` started as a child on the embedded default (a
//! fresh data directory, every address on a free loopback port), or one already running;
//! and its memory, read from /proc.

use super::BenchError;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the started gateway may take to print its addresses.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long it may take to stop after SIGTERM.
const STOP_DEADLINE: Duration = Duration::from_secs(60);

/// The addresses a started gateway printed on its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    /// The TCP API (`host:port`).
    pub api: String,
    /// The admin listener (`http://host:port`).
    pub admin: Option<String>,
    /// The built-in simulator's control interface (`http://host:port`).
    pub control: Option<String>,
}

impl Addresses {
    /// The addresses in `smsgate run`'s first stdout line
    /// (`smsgate: running; api on A; admin on http://B; ... control on http://C; ...`).
    pub fn parse(line: &str) -> Option<Addresses> {
        let after = |marker: &str| {
            line.split(marker)
                .nth(1)
                .and_then(|rest| rest.split([';', ' ']).next())
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        Some(Addresses {
            api: after("; api on ")?,
            admin: after("admin on "),
            control: after("control on "),
        })
    }
}

/// A `smsgate run` this process started; killed if the run ends early.
pub struct Process {
    child: Child,
    dir: tempfile::TempDir,
}

/// The started gateway.
pub struct Started {
    process: Process,
    /// What it printed.
    pub addresses: Addresses,
}

/// Extra environment for the started gateway: `SMSGATE_*` overrides.
pub fn child_env(max_queued: u64) -> Vec<(String, String)> {
    [
        // The development token's rate (1000/s) would be the figure otherwise.
        ("SMSGATE_API__TOKENS__0__RATE", "100000".to_owned()),
        // No sandbox carrier: it would share the simulator's account with sim, and
        // receipts arriving on the other carrier's bind would go unmatched.
        ("SMSGATE_API__TOKENS__1__MODE", "live".to_owned()),
        // The bench's event subscriber must not be cut off while it catches up.
        ("SMSGATE_API__EVENT_BUFFER", "1000000".to_owned()),
        // Room for everything the run queues.
        (
            "SMSGATE_OUTBOX__MAX_QUEUED",
            max_queued.clamp(1_000_000, 100_000_000).to_string(),
        ),
        // One verification per number, and no overall budget in the way.
        ("SMSGATE_VERIFY__BUDGETS__OVERALL", u32::MAX.to_string()),
        ("SMSGATE_LOG__FILTER", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Started {
    /// Starts `binary run` in a fresh temporary directory and reads its addresses.
    pub fn start(binary: &PathBuf, env: &[(String, String)]) -> Result<Started, BenchError> {
        let dir = tempfile::tempdir().map_err(|e| BenchError::Gateway(format!("temp dir: {e}")))?;
        let stderr = std::fs::File::create(dir.path().join("stderr.log"))
            .map_err(|e| BenchError::Gateway(format!("stderr file: {e}")))?;
        let free = "127.0.0.1:0";
        let mut cmd = Command::new(binary);
        cmd.current_dir(dir.path())
            .arg("run")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--api-addr", free, "--smpp-addr", free])
            .args(["--control-addr", free, "--metrics-addr", free])
            .args(["--admin-addr", free])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = cmd
            .spawn()
            .map_err(|e| BenchError::Gateway(format!("cannot start {}: {e}", binary.display())))?;
        let stdout = child.stdout.take();
        let process = Process { child, dir };
        let Some(stdout) = stdout else {
            return Err(BenchError::Gateway("no stdout from the gateway".into()));
        };
        // The first line on a thread, with a deadline; the rest is drained so the gateway
        // never meets a full or closed pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            for _ in lines {}
        });
        let first = match rx.recv_timeout(START_DEADLINE) {
            Ok(Some(Ok(line))) => line,
            _ => {
                return Err(BenchError::Gateway(format!(
                    "the gateway printed no addresses{}",
                    process.stderr_tail()
                )))
            }
        };
        let addresses = Addresses::parse(&first).ok_or_else(|| {
            BenchError::Gateway(format!(
                "no API address in the gateway's first line: {first:?}"
            ))
        })?;
        Ok(Started { process, addresses })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// SIGTERM, then whether it exited with status 0 (unbound and flushed) in time.
    pub fn stop(mut self) -> Result<bool, BenchError> {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| BenchError::Gateway(format!("kill -TERM {pid}: {e}")))?;
        if !sent.success() {
            return Err(BenchError::Gateway(format!("kill -TERM {pid} failed")));
        }
        let deadline = Instant::now() + STOP_DEADLINE;
        loop {
            match self.process.child.try_wait() {
                Ok(Some(status)) => {
                    if !status.success() {
                        eprintln!(
                            "smsgate bench: the gateway exited with {status}{}",
                            self.process.stderr_tail()
                        );
                    }
                    return Ok(status.success());
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    return Err(BenchError::Gateway(format!(
                        "the gateway did not stop within {} s of SIGTERM",
                        STOP_DEADLINE.as_secs()
                    )))
                }
                Err(e) => return Err(BenchError::Gateway(format!("waiting for the gateway: {e}"))),
            }
        }
    }
}

impl Process {
    /// The last lines the gateway wrote on stderr, for an error message.
    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n  ");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr:\n  {tail}")
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A process's resident memory (KiB): VmRSS now and VmHWM, its peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rss {
    /// VmRSS.
    pub rss_kib: u64,
    /// VmHWM.
    pub hwm_kib: u64,
}

impl Rss {
    /// VmRSS and VmHWM from the text of /proc/PID/status.
    pub fn parse(status: &str) -> Option<Rss> {
        let field = |name: &str| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix(name)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse::<u64>().ok()
            })
        };
        Some(Rss {
            rss_kib: field("VmRSS")?,
            hwm_kib: field("VmHWM")?,
        })
    }

    /// Process `pid`'s, or `None` when it cannot be read (not Linux, gone, not ours).
    pub fn of(pid: u32) -> Option<Rss> {
        Rss::parse(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
    }
}

/// CPU time (user + system) from the text of /proc/PID/stat, in clock ticks (USER_HZ,
/// 100 a second on Linux).
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // After the command name (in parentheses, which may hold spaces and parentheses),
    // utime and stime are the 12th and 13th fields (14 and 15 of the whole line).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The CPU time process `pid` (or `self`) has used, where readable.
pub fn cpu(pid: &str) -> Option<Duration> {
    let ticks = parse_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_comes_from_the_stat_file() {
        let stat =
            "4242 (smsgate (x) y) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 9 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1801));
        assert_eq!(parse_cpu_ticks("4242 (x) S 1"), None);
        assert!(cpu("self").is_some());
    }

    #[test]
    fn the_first_line_gives_the_addresses() {
        let line = "smsgate: running; api on 127.0.0.1:4001; admin on http://127.0.0.1:4002; \
                    simulated SMSC (scenario default): smpp on 127.0.0.1:4003, control on \
                    http://127.0.0.1:4004; metrics on http://127.0.0.1:4005/metrics; data in /tmp/x";
        let a = Addresses::parse(line).unwrap();
        assert_eq!(a.api, "127.0.0.1:4001");
        assert_eq!(a.admin.as_deref(), Some("http://127.0.0.1:4002"));
        assert_eq!(a.control.as_deref(), Some("http://127.0.0.1:4004"));
        let bare = "smsgate: running; api on 127.0.0.1:9; metrics on http://x/metrics; data in d";
        let a = Addresses::parse(bare).unwrap();
        assert_eq!((a.admin, a.control), (None, None));
        assert!(Addresses::parse("smsgate: running; metrics on x").is_none());
    }

    #[test]
    fn memory_comes_from_the_status_file() {
        let status =
            "Name:\tsmsgate\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(
            Rss::parse(status),
            Some(Rss {
                rss_kib: 40960,
                hwm_kib: 51200
            })
        );
        assert_eq!(Rss::parse("Name:\tx\nVmRSS:\t1 kB\n"), None);
        let own = Rss::of(std::process::id()).unwrap();
        assert!(own.rss_kib > 0 && own.hwm_kib >= own.rss_kib);
    }

    #[test]
    fn the_child_has_room_for_the_run() {
        let env = child_env(3_000_000);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("SMSGATE_OUTBOX__MAX_QUEUED"), Some("3000000"));
        assert_eq!(
            child_env(10)
                .iter()
                .find(|(n, _)| n == "SMSGATE_OUTBOX__MAX_QUEUED")
                .map(|(_, v)| v.clone()),
            Some("1000000".into())
        );
        assert_eq!(get("SMSGATE_API__EVENT_BUFFER"), Some("1000000"));
    }
}
