//! The bench's report: what was run, the counts, the rates, the latency percentiles, the
//! gateway's memory and the time series; as JSON (`--json`, `--report FILE`) and as a
//! human summary.

use super::series::SecondRow;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The format version of the JSON report.
pub const REPORT_VERSION: u32 = 1;

/// Percentiles of one latency, in milliseconds (recorded in µs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// The largest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of `hist` (µs); `None` when it is empty.
    pub fn of(hist: &Histogram<u64>) -> Option<Latency> {
        if hist.is_empty() {
            return None;
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Some(Latency {
            count: hist.len(),
            p50: ms(hist.value_at_quantile(0.5)),
            p99: ms(hist.value_at_quantile(0.99)),
            p999: ms(hist.value_at_quantile(0.999)),
            max: ms(hist.max()),
            mean: hist.mean() / 1000.0,
        })
    }
}

/// The gateway the run was against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayInfo {
    /// The API's address.
    pub address: String,
    /// Whether the bench started it (the embedded default) rather than being given one.
    pub started: bool,
    /// Its process id, when known (started, or `--gateway-pid`).
    pub pid: Option<u32>,
    /// Whether the API was reached over TLS.
    pub tls: bool,
    /// Whether it exited with status 0 on SIGTERM (null when the bench did not start it).
    pub clean_exit: Option<bool>,
}

/// The settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// Messages sent (e2e and queued-memory: all of them; otp-behind-bulk: the otp ones).
    pub messages: u64,
    /// Verifications (start + check pairs); 0 for a messages run.
    pub verifications: u64,
    /// Bulk messages queued first (otp-behind-bulk).
    pub bulk: u64,
    /// The target rate (messages or verifications a second); null: as fast as possible.
    pub rate: Option<f64>,
    /// Connections used to send.
    pub connections: usize,
    /// Requests in flight per connection at most.
    pub in_flight: usize,
    /// How long the bench waited for the last receipts at most (s).
    pub receipts_timeout_s: f64,
}

/// What was counted. A message is `accepted` once the API answered its submit with a
/// message id (durably queued), `submitted` once its first `submitted` event (the
/// carrier's submit_sm_resp) arrived, `receipted` once it was delivered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Requests sent (submits or verification starts).
    pub sent: u64,
    /// Submits answered with a message id.
    pub accepted: u64,
    /// Accepted messages that were submitted to the carrier.
    pub submitted: u64,
    /// Accepted messages that were delivered (their receipt arrived).
    pub receipted: u64,
    /// Accepted messages that ended in another final state (undeliverable, expired,
    /// rejected, failed).
    pub failed: u64,
    /// Accepted messages with no `submitted` event by the end of the wait.
    pub missing_submits: u64,
    /// Accepted messages with no final state by the end of the wait.
    pub missing_receipts: u64,
    /// Verification pairs whose check answered `approved`.
    pub approved: u64,
    /// Verification pairs that did not end approved (a wrong code, no SMS in the inbox).
    pub not_approved: u64,
    /// Requests answered with an error, or lost, by error code (`rate_limited`,
    /// `queue_full`, `connection`, `no_sms`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Times the event subscription was cut off (too slow) or lost, and resumed by cursor.
    pub event_resubscribes: u64,
}

impl Counts {
    /// Requests answered with an error, in all.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Rates over the run, each its count over the time from the start to the last such
/// event (a second at the least, so a tiny run does not report a wild rate).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Accepts a second.
    pub accepted_per_s: f64,
    /// Submits (to the carrier) a second.
    pub submitted_per_s: f64,
    /// Receipts a second.
    pub receipted_per_s: f64,
    /// Verification pairs (start + check, approved) a second.
    pub pairs_per_s: f64,
}

/// `count` events over `seconds` (taken as 1 ms at the least).
pub fn rate(count: u64, seconds: f64) -> f64 {
    if count == 0 {
        return 0.0;
    }
    count as f64 / seconds.max(0.001)
}

/// The latencies measured (ms); each null when nothing was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Latencies {
    /// Request sent (or due, when paced) → accepted (the durable ack).
    pub accept: Option<Latency>,
    /// Accepted → submitted to the carrier (its `submitted` event's time).
    pub submit: Option<Latency>,
    /// Accepted → delivered (its receipt's event time).
    pub receipt: Option<Latency>,
    /// otp-behind-bulk: the otp messages' accepted → submitted.
    pub otp_submit: Option<Latency>,
    /// verify.start sent (or due) → answered.
    pub verify_start: Option<Latency>,
    /// verify.check sent → answered.
    pub verify_check: Option<Latency>,
    /// A whole pair: start sent (or due) → check answered, the SMS's trip included.
    pub verify_pair: Option<Latency>,
}

/// One sample of the gateway's memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemorySample {
    /// Messages accepted (queued, with the carrier stopped) when it was taken.
    pub queued: u64,
    /// Seconds since the start.
    pub at_s: f64,
    /// VmRSS (KiB).
    pub rss_kib: u64,
    /// VmHWM, the peak resident size so far (KiB).
    pub hwm_kib: u64,
}

/// The gateway's memory, when its process could be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Memory {
    /// VmHWM at the end (KiB): the peak resident size of the gateway's life.
    pub peak_rss_kib: Option<u64>,
    /// VmRSS at the end (KiB).
    pub end_rss_kib: Option<u64>,
    /// queued-memory: samples at 0, each 10 % of the messages and the end.
    pub samples: Vec<MemorySample>,
}

/// CPU time used during the run (from the first request to the end of the wait), from
/// /proc where readable.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cpu {
    /// The gateway's (it includes the built-in simulator when that is in its process).
    pub gateway_s: Option<f64>,
    /// The bench's own.
    pub bench_s: Option<f64>,
    /// The gateway's per request sent (µs).
    pub gateway_us_per_request: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// `messages` or `verifications`.
    pub mode: String,
    /// `e2e`, `otp-behind-bulk` or `queued-memory`.
    pub scenario: String,
    /// The gateway.
    pub gateway: GatewayInfo,
    /// The settings.
    pub settings: Settings,
    /// When the run started (unix ms).
    pub started_at_ms: u64,
    /// From the first request to the end of the wait for receipts (s).
    pub duration_s: f64,
    /// From the first request to the last answer (s).
    pub send_duration_s: f64,
    /// The counts.
    pub counts: Counts,
    /// The rates.
    pub throughput: Rates,
    /// The latency percentiles.
    pub latency_ms: Latencies,
    /// The gateway's memory.
    pub memory: Memory,
    /// CPU time used.
    pub cpu: Cpu,
    /// Per second: accepted, submitted, receipted, the accept p99, the gateway's RSS.
    pub series: Vec<SecondRow>,
}

impl Report {
    /// Whether everything sent was answered without error and arrived (nothing missing).
    pub fn complete(&self) -> bool {
        let c = &self.counts;
        c.error_total() == 0
            && c.missing_receipts == 0
            && c.missing_submits == 0
            && c.failed == 0
            && c.not_approved == 0
            && self.gateway.clean_exit != Some(false)
    }

    /// The human summary, a few lines.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let t = &self.throughput;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "smsgate bench: {} ({}), gateway {} ({}{})",
            self.scenario,
            self.mode,
            self.gateway.address,
            if self.gateway.started {
                "started, embedded default"
            } else {
                "given"
            },
            if self.gateway.tls { ", TLS" } else { "" },
        );
        let _ = writeln!(
            out,
            "  {} connection(s), {} in flight each, {}; {:.2} s sending, {:.2} s in all",
            self.settings.connections,
            self.settings.in_flight,
            match self.settings.rate {
                Some(r) => format!("paced at {r}/s"),
                None => "as fast as possible".into(),
            },
            self.send_duration_s,
            self.duration_s,
        );
        if self.mode == "verifications" {
            let _ = writeln!(
                out,
                "  verifications: {} started, {} approved, {} not approved; {:.0} pairs/s",
                c.sent, c.approved, c.not_approved, t.pairs_per_s
            );
        } else {
            let _ = writeln!(
                out,
                "  messages: {} sent, {} accepted, {} submitted, {} receipted, {} failed; missing {} submits, {} receipts",
                c.sent, c.accepted, c.submitted, c.receipted, c.failed, c.missing_submits, c.missing_receipts
            );
            let _ = writeln!(
                out,
                "  throughput: {:.0} accepted/s, {:.0} submitted/s, {:.0} receipts/s",
                t.accepted_per_s, t.submitted_per_s, t.receipted_per_s
            );
        }
        if !c.errors.is_empty() {
            let errors: Vec<String> = c.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "  errors: {}", errors.join(", "));
        }
        let l = &self.latency_ms;
        for (name, lat) in [
            ("accept", &l.accept),
            ("accept → submit", &l.submit),
            ("accept → receipt", &l.receipt),
            ("otp accept → submit", &l.otp_submit),
            ("verify.start", &l.verify_start),
            ("verify.check", &l.verify_check),
            ("start → approved", &l.verify_pair),
        ] {
            if let Some(lat) = lat {
                let _ = writeln!(
                    out,
                    "  {name}: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} samples)",
                    lat.p50, lat.p99, lat.p999, lat.max, lat.count
                );
            }
        }
        for s in &self.memory.samples {
            let _ = writeln!(
                out,
                "  memory at {} queued: rss {} KiB, peak {} KiB",
                s.queued, s.rss_kib, s.hwm_kib
            );
        }
        if let (Some(gw), Some(own)) = (self.cpu.gateway_s, self.cpu.bench_s) {
            let _ = writeln!(
                out,
                "  cpu: gateway {gw:.1} s ({:.0} µs a request), bench {own:.1} s",
                self.cpu.gateway_us_per_request.unwrap_or(0.0)
            );
        }
        if let Some(peak) = self.memory.peak_rss_kib {
            let _ = writeln!(out, "  gateway peak resident memory: {peak} KiB");
        }
        let _ = write!(
            out,
            "  {}",
            if self.complete() {
                "complete: nothing missing"
            } else {
                "INCOMPLETE: errors answered or messages missing (exit code 3)"
            }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            version: REPORT_VERSION,
            mode: "messages".into(),
            scenario: "e2e".into(),
            gateway: GatewayInfo {
                address: "127.0.0.1:1".into(),
                started: true,
                pid: Some(1),
                tls: false,
                clean_exit: Some(true),
            },
            settings: Settings {
                messages: 10,
                verifications: 0,
                bulk: 0,
                rate: None,
                connections: 1,
                in_flight: 1,
                receipts_timeout_s: 1.0,
            },
            started_at_ms: 0,
            duration_s: 1.0,
            send_duration_s: 1.0,
            counts: Counts {
                sent: 10,
                accepted: 10,
                submitted: 10,
                receipted: 10,
                ..Counts::default()
            },
            throughput: Rates::default(),
            latency_ms: Latencies::default(),
            memory: Memory::default(),
            cpu: Cpu::default(),
            series: Vec::new(),
        }
    }

    #[test]
    fn percentiles_are_in_ms_and_ordered() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for us in 1..=10_000 {
            h.record(us).unwrap();
        }
        let l = Latency::of(&h).unwrap();
        assert_eq!(l.count, 10_000);
        assert!((4.9..=5.1).contains(&l.p50), "{}", l.p50);
        assert!((9.8..=10.0).contains(&l.p99), "{}", l.p99);
        assert!(l.p50 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
        assert!((9.9..=10.1).contains(&l.max));
        assert!(Latency::of(&Histogram::<u64>::new(3).unwrap()).is_none());
    }

    #[test]
    fn a_rate_is_its_count_over_the_time() {
        assert_eq!(rate(0, 0.0), 0.0);
        assert_eq!(rate(500, 2.0), 250.0);
        assert_eq!(rate(1, 0.0), 1000.0, "1 ms at the least");
    }

    #[test]
    fn anything_missing_or_refused_makes_it_incomplete() {
        assert!(report().complete());
        assert!(report().summary().contains("complete: nothing missing"));
        let mut r = report();
        r.counts.missing_receipts = 1;
        assert!(!r.complete());
        assert!(r.summary().contains("INCOMPLETE"));
        let mut r = report();
        r.counts.errors.insert("rate_limited".into(), 2);
        assert!(!r.complete());
        assert!(r.summary().contains("rate_limited 2"));
        let mut r = report();
        r.gateway.clean_exit = Some(false);
        assert!(!r.complete());
        let mut r = report();
        r.counts.not_approved = 1;
        assert!(!r.complete());
    }

    #[test]
    fn the_json_names_its_fields() {
        let v = serde_json::to_value(report()).unwrap();
        assert_eq!(v["version"], REPORT_VERSION);
        assert_eq!(v["counts"]["accepted"], 10);
        assert!(v["latency_ms"]["accept"].is_null());
        assert!(v["memory"]["samples"].as_array().unwrap().is_empty());
    }
}
