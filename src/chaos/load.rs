//! The load of `smsgate chaos`: workers submitting numbered messages over the TCP API at a
//! steady rate, each message retried with its client reference across kills, restarts and
//! lost connections until the gateway answers it, and a ledger of the answers.

use super::accounting::SubmitFate;
use crate::api::client::{Client, ClientError};
use crate::api::proto::{ErrorCode, SubmitParams};
use parking_lot::Mutex;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The longest one submit may wait for its answer before the connection is taken for dead.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Wait before trying a refused-for-now submit, or a connection, again.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Message `n`'s destination: one number per message, so the SMSC's handset inbox of that
/// number counts its copies.
pub fn number(n: usize) -> String {
    format!("8190{n:08}")
}

/// Message `n`'s client reference.
pub fn client_ref(n: usize) -> String {
    format!("chaos-{n}")
}

/// What the workers share.
pub struct Ledger {
    /// The answer to each message, by number (`None`: not answered yet).
    fates: Mutex<Vec<Option<SubmitFate>>>,
    /// Refusals by code, and the first message of each (what a client is told).
    refusals: Mutex<BTreeMap<String, (usize, String)>>,
    /// Paced messages answered (burst ones not counted).
    answered: AtomicUsize,
    /// Acknowledged.
    acknowledged: AtomicUsize,
    /// Submits tried again after a lost connection, a timeout or a passing refusal.
    retries: AtomicUsize,
    /// Next paced message number to take (0..messages).
    next: AtomicUsize,
    /// Next burst message number to take (messages..messages + burst_cap).
    next_burst: AtomicUsize,
    /// Paced messages.
    messages: usize,
    /// Burst messages at most.
    burst_cap: usize,
}

impl Ledger {
    fn new(messages: usize, burst_cap: usize) -> Ledger {
        Ledger {
            fates: Mutex::new(vec![None; messages + burst_cap]),
            refusals: Mutex::new(BTreeMap::new()),
            answered: AtomicUsize::new(0),
            acknowledged: AtomicUsize::new(0),
            retries: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            next_burst: AtomicUsize::new(messages),
            messages,
            burst_cap,
        }
    }

    /// The next message number from `source`, `None` when it has no more.
    fn take(&self, source: Source) -> Option<usize> {
        match source {
            Source::Paced => {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                (n < self.messages).then_some(n)
            }
            Source::Burst => {
                let n = self.next_burst.fetch_add(1, Ordering::Relaxed);
                (n < self.messages + self.burst_cap).then_some(n)
            }
        }
    }

    /// Messages generated so far: the paced ones and the burst ones taken.
    pub fn generated(&self) -> usize {
        let burst = self
            .next_burst
            .load(Ordering::Relaxed)
            .saturating_sub(self.messages)
            .min(self.burst_cap);
        self.next.load(Ordering::Relaxed).min(self.messages) + burst
    }

    fn settle(&self, n: usize, fate: SubmitFate) {
        if let SubmitFate::Acknowledged { .. } = fate {
            self.acknowledged.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(slot) = self.fates.lock().get_mut(n) {
            *slot = Some(fate);
        }
        if n < self.messages {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn refused(&self, code: &str, message: &str) {
        let mut r = self.refusals.lock();
        let entry = r
            .entry(code.to_owned())
            .or_insert_with(|| (0, message.to_owned()));
        entry.0 += 1;
    }

    /// Refusals with this code so far.
    pub fn refusals_of(&self, code: &str) -> usize {
        self.refusals.lock().get(code).map_or(0, |r| r.0)
    }

    /// Refusals by code with the first message of each.
    pub fn refusals(&self) -> BTreeMap<String, (usize, String)> {
        self.refusals.lock().clone()
    }

    /// Acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Paced messages answered so far (acknowledged or refused).
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    /// Retries so far.
    pub fn retries(&self) -> usize {
        self.retries.load(Ordering::Relaxed)
    }

    /// Every generated message's fate, by number (unanswered ones as such; burst numbers
    /// never taken left out).
    pub fn fates(&self) -> Vec<SubmitFate> {
        let burst_end = self.messages
            + self
                .next_burst
                .load(Ordering::Relaxed)
                .saturating_sub(self.messages)
                .min(self.burst_cap);
        self.fates
            .lock()
            .iter()
            .take(burst_end)
            .map(|f| f.clone().unwrap_or(SubmitFate::Unanswered))
            .collect()
    }
}

/// The running load.
pub struct Load {
    /// What the workers found.
    pub ledger: Arc<Ledger>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    api: watch::Receiver<Option<SocketAddr>>,
    token: SecretString,
}

/// Where a worker takes its messages from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The numbered messages, each at its due time.
    Paced,
    /// Extra messages, as fast as the gateway answers (the full-disk phase).
    Burst,
}

/// Workers submitting extra messages as fast as they are answered, until ended.
pub struct Burst {
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Burst {
    /// Stops the burst: each worker ends once its message in hand is answered (or after the
    /// submit timeout).
    pub async fn end(mut self) {
        let _ = self.stop.send(true);
        stop_workers(&mut self.workers).await;
    }
}

/// Waits for told-to-stop workers, aborting those still busy after a submit's timeout.
async fn stop_workers(workers: &mut [tokio::task::JoinHandle<()>]) {
    let grace = Instant::now() + SUBMIT_TIMEOUT + RETRY_PAUSE;
    for worker in workers {
        if worker.is_finished() {
            continue;
        }
        let left = grace.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, &mut *worker).await.is_err() {
            worker.abort();
        }
    }
}

impl Load {
    /// Starts `concurrency` workers submitting `messages` messages at `rate` per second to
    /// the gateway whose API address `api` holds (`None` while it is down); up to
    /// `burst_cap` more may be sent by [`Load::burst`].
    pub fn start(
        messages: usize,
        burst_cap: usize,
        rate: f64,
        concurrency: usize,
        api: watch::Receiver<Option<SocketAddr>>,
        token: SecretString,
    ) -> Load {
        let ledger = Arc::new(Ledger::new(messages, burst_cap));
        let (stop, stopped) = watch::channel(false);
        let started = tokio::time::Instant::now();
        let workers = (0..concurrency.max(1))
            .map(|_| {
                let worker = Worker {
                    ledger: ledger.clone(),
                    api: api.clone(),
                    token: token.clone(),
                    stop: stopped.clone(),
                    client: None,
                };
                tokio::spawn(worker.run(Source::Paced, started, rate))
            })
            .collect();
        Load {
            ledger,
            workers,
            stop,
            api,
            token,
        }
    }

    /// What starts bursts on this load.
    pub fn burster(&self) -> Burster {
        Burster {
            ledger: self.ledger.clone(),
            api: self.api.clone(),
            token: self.token.clone(),
        }
    }
}

/// Starts bursts of extra messages on a load.
#[derive(Clone)]
pub struct Burster {
    ledger: Arc<Ledger>,
    api: watch::Receiver<Option<SocketAddr>>,
    token: SecretString,
}

impl Burster {
    /// Starts `concurrency` more workers submitting burst messages without pacing.
    pub fn burst(&self, concurrency: usize) -> Burst {
        let (stop, stopped) = watch::channel(false);
        let started = tokio::time::Instant::now();
        let workers = (0..concurrency.max(1))
            .map(|_| {
                let worker = Worker {
                    ledger: self.ledger.clone(),
                    api: self.api.clone(),
                    token: self.token.clone(),
                    stop: stopped.clone(),
                    client: None,
                };
                tokio::spawn(worker.run(Source::Burst, started, 0.0))
            })
            .collect();
        Burst { workers, stop }
    }
}

impl Load {
    /// Waits up to `deadline` for every message to be answered, then stops the workers
    /// (what is left stays unanswered). Returns whether all were answered.
    pub async fn finish(mut self, deadline: Duration) -> (Arc<Ledger>, bool) {
        let until = Instant::now() + deadline;
        let mut all = true;
        for worker in &mut self.workers {
            let left = until.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, &mut *worker).await.is_err() {
                all = false;
                break;
            }
        }
        if !all {
            let _ = self.stop.send(true);
            stop_workers(&mut self.workers).await;
        }
        (self.ledger, all)
    }
}

struct Worker {
    ledger: Arc<Ledger>,
    api: watch::Receiver<Option<SocketAddr>>,
    token: SecretString,
    stop: watch::Receiver<bool>,
    client: Option<Client>,
}

impl Worker {
    async fn run(mut self, source: Source, started: tokio::time::Instant, rate: f64) {
        loop {
            if self.stopped() {
                return;
            }
            let Some(n) = self.ledger.take(source) else {
                return;
            };
            if source == Source::Paced {
                // Message n is due n / rate seconds after the start.
                let due = started + Duration::from_secs_f64(n as f64 / rate.max(0.001));
                tokio::time::sleep_until(due).await;
            }
            let Some(fate) = self.submit(n).await else {
                return;
            };
            self.ledger.settle(n, fate);
        }
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Submits message `n` until the gateway answers it; `None` once told to stop.
    async fn submit(&mut self, n: usize) -> Option<SubmitFate> {
        let params = SubmitParams {
            to: format!("+{}", number(n)),
            text: format!("chaos message {n}"),
            from: None,
            encoding: None,
            validity: None,
            client_ref: Some(client_ref(n)),
            class: Some("bulk".into()),
            receipts: Some(true),
        };
        let mut first = true;
        loop {
            if !first {
                // Told to stop: a message already tried is left unanswered; the first
                // try always goes, so a message taken is submitted once at least.
                if self.stopped() {
                    return None;
                }
                self.ledger.retries.fetch_add(1, Ordering::Relaxed);
            }
            first = false;
            let client = self.connection().await?;
            match tokio::time::timeout(SUBMIT_TIMEOUT, client.submit(&params)).await {
                Ok(Ok(result)) => {
                    return Some(SubmitFate::Acknowledged {
                        id: result.message_id,
                    })
                }
                Ok(Err(ClientError::Api(e))) => match e.code {
                    // Passing: the gateway stops, is full of work, or the token's rate.
                    ErrorCode::ShuttingDown | ErrorCode::QueueFull | ErrorCode::RateLimited => {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                    code => {
                        self.ledger.refused(code.as_str(), &e.message);
                        return Some(SubmitFate::Refused {
                            code: code.as_str().to_owned(),
                        });
                    }
                },
                // The connection is gone (a kill) or hangs: connect again, submit again
                // with the same client reference (the gateway answers a known one with
                // the first message's id).
                Ok(Err(_)) | Err(_) => {
                    self.client = None;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// The worker's connection, made (again) to the gateway that runs now.
    async fn connection(&mut self) -> Option<&Client> {
        while self.client.is_none() {
            if self.stopped() {
                return None;
            }
            let addr = *self.api.borrow_and_update();
            match addr {
                Some(addr) => match Client::connect(&addr.to_string(), &self.token).await {
                    Ok(c) => self.client = Some(c),
                    Err(_) => {
                        let _ = tokio::time::timeout(RETRY_PAUSE, self.api.changed()).await;
                    }
                },
                None => {
                    let _ = tokio::time::timeout(RETRY_PAUSE * 4, self.api.changed()).await;
                }
            }
        }
        self.client.as_ref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_ledger_hands_out_paced_then_burst_numbers_and_counts_only_those_taken() {
        let ledger = Ledger::new(3, 2);
        let paced: Vec<Option<usize>> = (0..4).map(|_| ledger.take(Source::Paced)).collect();
        assert_eq!(paced, [Some(0), Some(1), Some(2), None]);
        assert_eq!(ledger.generated(), 3);
        assert_eq!(
            ledger.fates().len(),
            3,
            "burst numbers never taken are left out"
        );
        assert_eq!(ledger.take(Source::Burst), Some(3));
        assert_eq!(ledger.generated(), 4);
        ledger.settle(0, SubmitFate::Acknowledged { id: "7".into() });
        ledger.settle(
            3,
            SubmitFate::Refused {
                code: "storage".into(),
            },
        );
        ledger.refused("storage", "full");
        ledger.refused("storage", "other text");
        assert_eq!(ledger.take(Source::Burst), Some(4));
        assert_eq!(ledger.take(Source::Burst), None);
        assert_eq!(ledger.generated(), 5);
        let fates = ledger.fates();
        assert_eq!(fates.len(), 5);
        assert_eq!(fates[0], SubmitFate::Acknowledged { id: "7".into() });
        assert_eq!(fates[1], SubmitFate::Unanswered);
        assert!(matches!(fates[3], SubmitFate::Refused { .. }));
        // Burst answers are not the paced load's.
        assert_eq!(ledger.answered(), 1);
        assert_eq!(ledger.acknowledged(), 1);
        assert_eq!(ledger.refusals_of("storage"), 2);
        assert_eq!(
            ledger.refusals()["storage"].1,
            "full",
            "the first message is kept"
        );
        assert_eq!(number(12), "819000000012");
        assert_eq!(client_ref(12), "chaos-12");
    }
}
