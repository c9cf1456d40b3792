//! The Rust client of the API (plain TCP), which the CLI uses: connects and says hello,
//! sends requests with ids of its own so any number can be in flight on one connection,
//! matches the answers as they come (in any order), and hands a subscription's events
//! over in order.

use super::proto::{
    ApiError, BindsResult, EventLine, HelloResult, StatusResult, SubmitParams, SubmitResult,
    SubscribeResult, PROTOCOL_VERSION,
};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

/// Event lines the client holds for a subscriber that has not taken them; beyond, it
/// stops reading (and the server, not the client, decides when that is too slow).
const EVENT_QUEUE: usize = 1024;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection could not be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
    /// Writing failed.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The gateway answered with an error.
    #[error("{0}")]
    Api(ApiError),
    /// The gateway closed the connection (with its reason, when it gave one).
    #[error("the gateway closed the connection{}", .0.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Closed(Option<ApiError>),
    /// A line from the gateway that is not the protocol.
    #[error("unexpected answer from the gateway: {0}")]
    Protocol(String),
}

type Answer = Result<Value, ClientError>;

/// What the reader task shares with the client.
#[derive(Default)]
struct Pending {
    /// Requests awaiting their answers, by id.
    waiting: HashMap<u64, oneshot::Sender<Answer>>,
    /// Set once the connection is gone: why.
    closed: Option<Option<ApiError>>,
}

/// A connection to the gateway, after a successful hello.
pub struct Client {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicU64,
    /// The subscription's events, until [`Client::subscribe`] takes them.
    events: Mutex<Option<mpsc::Receiver<Result<EventLine, ClientError>>>>,
    reader: tokio::task::JoinHandle<()>,
    hello: HelloResult,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    /// Connects to `addr` (`host:port`) and says hello with `token`.
    pub async fn connect(addr: &str, token: &SecretString) -> Result<Client, ClientError> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let reader = tokio::spawn(read_lines(read, pending.clone(), events_tx));
        let mut client = Client {
            writer: tokio::sync::Mutex::new(write),
            pending,
            next_id: AtomicU64::new(1),
            events: Mutex::new(Some(events_rx)),
            reader,
            hello: HelloResult {
                version: PROTOCOL_VERSION,
                server: String::new(),
                token: String::new(),
                mode: crate::config::TokenMode::Live,
                operations: Vec::new(),
                max_line: 0,
                max_in_flight: 0,
            },
        };
        let hello = client
            .request(
                "hello",
                serde_json::json!({"version": PROTOCOL_VERSION, "token": token.expose_secret()}),
            )
            .await?;
        client.hello = decode(hello)?;
        Ok(client)
    }

    /// What the hello answered (the token's name, mode and operations, the limits).
    pub fn hello(&self) -> &HelloResult {
        &self.hello
    }

    /// Sends `op` with `fields` (an object) and waits for its answer's result.
    pub async fn request(&self, op: &str, fields: Value) -> Result<Value, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut request = match fields {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            other => {
                return Err(ClientError::Protocol(format!(
                    "request fields must be an object, not {other}"
                )))
            }
        };
        request.insert("id".into(), Value::from(id));
        request.insert("op".into(), Value::from(op));
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock();
            if let Some(why) = &pending.closed {
                return Err(ClientError::Closed(why.clone()));
            }
            pending.waiting.insert(id, tx);
        }
        let mut line = Value::Object(request).to_string();
        line.push('\n');
        let written = self.writer.lock().await.write_all(line.as_bytes()).await;
        if let Err(e) = written {
            self.pending.lock().waiting.remove(&id);
            return Err(ClientError::Io(e));
        }
        rx.await.unwrap_or(Err(ClientError::Closed(None)))
    }

    /// `ping`.
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.request("ping", Value::Null).await.map(|_| ())
    }

    /// `message.submit`: answered once the message is on disk.
    pub async fn submit(&self, message: &SubmitParams) -> Result<SubmitResult, ClientError> {
        let fields =
            serde_json::to_value(message).map_err(|e| ClientError::Protocol(e.to_string()))?;
        decode(self.request("message.submit", fields).await?)
    }

    /// `message.status`.
    pub async fn status(&self, message_id: &str) -> Result<StatusResult, ClientError> {
        let fields = serde_json::json!({ "message_id": message_id });
        decode(self.request("message.status", fields).await?)
    }

    /// `binds.status`.
    pub async fn binds(&self) -> Result<BindsResult, ClientError> {
        decode(self.request("binds.status", Value::Null).await?)
    }

    /// `events.subscribe` after `cursor`; the events follow through the returned
    /// [`Subscription`]. Once per connection.
    pub async fn subscribe(&self, cursor: u64) -> Result<Subscription, ClientError> {
        let events = self
            .events
            .lock()
            .take()
            .ok_or_else(|| ClientError::Protocol("subscribed already".into()))?;
        let result: SubscribeResult = decode(
            self.request("events.subscribe", serde_json::json!({ "cursor": cursor }))
                .await?,
        )?;
        Ok(Subscription { result, events })
    }
}

/// A subscription's events, in the log's order.
pub struct Subscription {
    /// What the subscribe answered (where the stream starts, the newest cursor then).
    pub result: SubscribeResult,
    events: mpsc::Receiver<Result<EventLine, ClientError>>,
}

impl Subscription {
    /// The next event; an error once the connection is gone (a `close` notice says why:
    /// `slow_subscriber` means subscribe again with the last cursor received).
    pub async fn next(&mut self) -> Result<EventLine, ClientError> {
        self.events
            .recv()
            .await
            .unwrap_or(Err(ClientError::Closed(None)))
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ClientError> {
    serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Reads the gateway's lines: answers to their waiting requests, events to the
/// subscription; at the end (or a `close`), every waiting request learns why.
async fn read_lines(
    read: tokio::net::tcp::OwnedReadHalf,
    pending: Arc<Mutex<Pending>>,
    events: mpsc::Sender<Result<EventLine, ClientError>>,
) {
    let mut lines = BufReader::new(read).lines();
    let mut why = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(mut value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(close) = value.get_mut("close") {
            why = serde_json::from_value::<ApiError>(close.take()).ok();
            break;
        }
        if value.get("event").is_some() {
            let event = decode::<EventLine>(value);
            if events.send(event).await.is_err() {
                continue;
            }
            continue;
        }
        let Some(id) = value.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let answer = if value.get("ok") == Some(&Value::Bool(true)) {
            Ok(value.get_mut("result").map(Value::take).unwrap_or_default())
        } else {
            Err(
                match value
                    .get_mut("error")
                    .map(|e| serde_json::from_value::<ApiError>(e.take()))
                {
                    Some(Ok(e)) => ClientError::Api(e),
                    _ => ClientError::Protocol(line.clone()),
                },
            )
        };
        if let Some(tx) = pending.lock().waiting.remove(&id) {
            let _ = tx.send(answer);
        }
    }
    let waiting = {
        let mut pending = pending.lock();
        pending.closed = Some(why.clone());
        std::mem::take(&mut pending.waiting)
    };
    for (_, tx) in waiting {
        let _ = tx.send(Err(ClientError::Closed(why.clone())));
    }
    let _ = events.send(Err(ClientError::Closed(why))).await;
}
