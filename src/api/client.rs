//! The Rust client of the API, which the CLI uses: connects (plain TCP, or TLS with
//! [`ClientOptions::tls`]) and says hello, sends requests with ids of its own so any number
//! can be in flight on one connection, matches the answers as they come (in any order), and
//! hands a subscription's events over in order.

use super::proto::{
    ApiError, BindsResult, EventLine, HelloResult, StatusResult, SubmitParams, SubmitResult,
    SubscribeResult, PROTOCOL_VERSION,
};
use crate::config::TlsError;
use parking_lot::Mutex;
use rustls::pki_types::ServerName;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
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
    /// The TLS handshake failed (the gateway's certificate is not trusted or not issued
    /// to the server name, or the gateway does not speak TLS).
    #[error("TLS handshake with {addr}: {source}{hint}")]
    Handshake {
        /// The address.
        addr: String,
        /// The error (rustls's reason inside).
        source: std::io::Error,
        /// What the reason means, for the common ones (else empty).
        hint: &'static str,
    },
    /// The TLS settings cannot be used: a CA file that cannot be read or holds no
    /// certificate, a server name that is not a DNS name or an IP address.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
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

/// An answer's `result` as the gateway wrote it, decoded by the request that waits for it.
type Answer = Result<Box<RawValue>, ClientError>;

/// How to connect: plain TCP (the default) or TLS.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// TLS, checking the gateway's certificate; `None`: plain TCP.
    pub tls: Option<TlsClient>,
}

/// TLS towards the gateway (rustls): the certificates it must chain to and the name it
/// must be issued to. There is no way to skip the check.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    /// The name to check the certificate against; `None`: the host of the address.
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Trusts the CA certificates of the PEM file `path` (a private CA, or the gateway's
    /// self-signed certificate itself).
    pub fn from_ca_file(path: &Path) -> Result<TlsClient, ClientError> {
        let tls = crate::config::TlsConfig {
            ca_file: path.to_path_buf(),
            server_name: None,
            client_cert: None,
            client_key: None,
        };
        Ok(TlsClient::from_config(tls.client_config()?))
    }

    /// Trusts the system's CA certificates (the platform's store; `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` are honoured).
    pub fn system_roots() -> Result<TlsClient, ClientError> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            return Err(ClientError::Tls(TlsError::Rustls {
                key: "roots",
                message: format!("no CA certificate found in the system's store{why}"),
            }));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls {
                key: "roots",
                message: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsClient::from_config(Arc::new(config)))
    }

    /// A rustls configuration of the caller's making.
    pub fn from_config(config: Arc<rustls::ClientConfig>) -> TlsClient {
        TlsClient {
            config,
            server_name: None,
        }
    }

    /// Checks the certificate against `name` (a DNS name or an IP address) instead of the
    /// host of the address connected to.
    pub fn with_server_name(mut self, name: &str) -> Result<TlsClient, ClientError> {
        let parsed = ServerName::try_from(name.to_owned())
            .map_err(|_| TlsError::ServerName(name.to_owned()))?;
        self.server_name = Some(parsed);
        Ok(self)
    }

    /// The name to check: the one set, else the host of `addr` (`host:port`, `[v6]:port`).
    fn name_for(&self, addr: &str) -> Result<ServerName<'static>, ClientError> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Ok(ServerName::try_from(host.to_owned())
            .map_err(|_| TlsError::ServerName(host.to_owned()))?)
    }
}

/// The connection's write side, plain or TLS.
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

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
    writer: tokio::sync::Mutex<Writer>,
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
    /// Connects to `addr` (`host:port`) over plain TCP and says hello with `token`.
    pub async fn connect(addr: &str, token: &SecretString) -> Result<Client, ClientError> {
        Client::connect_with(addr, token, &ClientOptions::default()).await
    }

    /// Connects to `addr` (`host:port`) as `options` say (TLS: the handshake first, the
    /// certificate checked against the server name) and says hello with `token`.
    pub async fn connect_with(
        addr: &str,
        token: &SecretString,
        options: &ClientOptions,
    ) -> Result<Client, ClientError> {
        // The server name is checked before anything goes on the wire.
        let tls = options
            .tls
            .as_ref()
            .map(|tls| Ok::<_, ClientError>((tls.config.clone(), tls.name_for(addr)?)))
            .transpose()?;
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect {
                addr: addr.to_owned(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        match tls {
            None => {
                let (read, write) = stream.into_split();
                Client::start(read, Box::new(write), token).await
            }
            Some((config, name)) => {
                let stream = tokio_rustls::TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .map_err(|source| ClientError::Handshake {
                        addr: addr.to_owned(),
                        hint: handshake_hint(&source),
                        source,
                    })?;
                let (read, write) = tokio::io::split(stream);
                Client::start(read, Box::new(write), token).await
            }
        }
    }

    /// Starts the reader on `read` and says hello.
    async fn start<R>(read: R, write: Writer, token: &SecretString) -> Result<Client, ClientError>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
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
            .call(
                "hello",
                &serde_json::json!({"version": PROTOCOL_VERSION, "token": token.expose_secret()}),
            )
            .await?;
        client.hello = decode(&hello)?;
        Ok(client)
    }

    /// What the hello answered (the token's name, mode and operations, the limits).
    pub fn hello(&self) -> &HelloResult {
        &self.hello
    }

    /// Sends `op` with `fields` (an object) and waits for its answer's result.
    pub async fn request(&self, op: &str, fields: Value) -> Result<Value, ClientError> {
        let fields = match fields {
            // The request's own id and op are the client's.
            Value::Object(mut map) => {
                map.remove("id");
                map.remove("op");
                Value::Object(map)
            }
            Value::Null => Value::Null,
            other => {
                return Err(ClientError::Protocol(format!(
                    "request fields must be an object, not {other}"
                )))
            }
        };
        decode(&self.call(op, &fields).await?)
    }

    /// Sends `op` with the fields `fields` serialises to (an object, or nothing for
    /// `Value::Null`) and waits for its answer's result, as the gateway wrote it.
    async fn call<F: serde::Serialize>(
        &self,
        op: &str,
        fields: &F,
    ) -> Result<Box<RawValue>, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut line = request_line(id, op, fields)?;
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock();
            if let Some(why) = &pending.closed {
                return Err(ClientError::Closed(why.clone()));
            }
            pending.waiting.insert(id, tx);
        }
        line.push('\n');
        let written = {
            let mut writer = self.writer.lock().await;
            // The flush sends a TLS record on its way; on plain TCP it does nothing.
            match writer.write_all(line.as_bytes()).await {
                Ok(()) => writer.flush().await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = written {
            self.pending.lock().waiting.remove(&id);
            return Err(ClientError::Io(e));
        }
        rx.await.unwrap_or(Err(ClientError::Closed(None)))
    }

    /// `ping`.
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.call("ping", &Value::Null).await.map(|_| ())
    }

    /// `message.submit`: answered once the message is on disk.
    pub async fn submit(&self, message: &SubmitParams) -> Result<SubmitResult, ClientError> {
        decode(&self.call("message.submit", message).await?)
    }

    /// `message.status`.
    pub async fn status(&self, message_id: &str) -> Result<StatusResult, ClientError> {
        let fields = serde_json::json!({ "message_id": message_id });
        decode(&self.call("message.status", &fields).await?)
    }

    /// `binds.status`.
    pub async fn binds(&self) -> Result<BindsResult, ClientError> {
        decode(&self.call("binds.status", &Value::Null).await?)
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
            &self
                .call("events.subscribe", &serde_json::json!({ "cursor": cursor }))
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

/// Words for the certificate errors operators meet most, which rustls names tersely.
fn handshake_hint(e: &std::io::Error) -> &'static str {
    use rustls::CertificateError as C;
    let rustls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls {
        Some(rustls::Error::InvalidCertificate(C::UnknownIssuer)) => {
            " (the certificate is not issued by a trusted CA: trust its CA, or the certificate \
             itself when self-signed)"
        }
        Some(rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        )) => " (the certificate is not issued to the name connected to: use that name, or set the server name)",
        Some(rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. })) => {
            " (the certificate has expired)"
        }
        Some(rustls::Error::InvalidCertificate(C::Other(other)))
            if other.to_string().contains("CaUsedAsEndEntity") =>
        {
            " (the gateway's certificate is a CA certificate, basicConstraints CA:TRUE, which \
             cannot serve as a server's own: make it with CA:FALSE)"
        }
        _ => "",
    }
}

/// A request's line (without its newline): the object `fields` serialises to (nothing for
/// `null`) with the id and the op in front, `{"id":1,"op":"ping",...}`, written in one go.
fn request_line<F: serde::Serialize>(id: u64, op: &str, fields: &F) -> Result<String, ClientError> {
    let fields = serde_json::to_string(fields).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let op = serde_json::to_string(op).map_err(|e| ClientError::Protocol(e.to_string()))?;
    let rest = match fields.as_str() {
        "null" | "{}" => "}",
        object => match object.strip_prefix('{') {
            Some(members) => members,
            None => {
                return Err(ClientError::Protocol(format!(
                    "request fields must be an object, not {object}"
                )))
            }
        },
    };
    let comma = if rest == "}" { "" } else { "," };
    Ok(format!("{{\"id\":{id},\"op\":{op}{comma}{rest}"))
}

fn decode<T: serde::de::DeserializeOwned>(raw: &RawValue) -> Result<T, ClientError> {
    serde_json::from_str(raw.get()).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// What tells the gateway's lines apart, read without decoding their contents: an answer
/// (`id` with `ok` and `result` or `error`), an event (`event`), a notice (`close`).
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(default, borrow)]
    close: Option<&'a RawValue>,
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    ok: Option<bool>,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
}

/// Reads the gateway's lines: answers to their waiting requests, events to the
/// subscription; at the end (or a `close`), every waiting request learns why.
async fn read_lines<R: AsyncRead + Unpin>(
    read: R,
    pending: Arc<Mutex<Pending>>,
    events: mpsc::Sender<Result<EventLine, ClientError>>,
) {
    let mut lines = BufReader::new(read).lines();
    let mut why = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(parts) = serde_json::from_str::<Line<'_>>(&line) else {
            continue;
        };
        if let Some(close) = parts.close {
            why = serde_json::from_str::<ApiError>(close.get()).ok();
            break;
        }
        if parts.event.is_some() {
            let event = serde_json::from_str::<EventLine>(&line)
                .map_err(|e| ClientError::Protocol(e.to_string()));
            if events.send(event).await.is_err() {
                continue;
            }
            continue;
        }
        // Our ids are numbers; an answer with another id is not to us.
        let Some(id) = parts
            .id
            .and_then(|id| serde_json::from_str::<u64>(id.get()).ok())
        else {
            continue;
        };
        let answer = if parts.ok == Some(true) {
            Ok(parts.result.unwrap_or(RawValue::NULL).to_owned())
        } else {
            Err(
                match parts
                    .error
                    .map(|e| serde_json::from_str::<ApiError>(e.get()))
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

/// The verification operations (docs/api.md, "Verification operations").
impl Client {
    /// `verify.start`: answered once the verification is on disk and its SMS queued.
    pub async fn verify_start(
        &self,
        start: &super::proto::VerifyStartParams,
    ) -> Result<super::proto::VerifyStartResult, ClientError> {
        decode(&self.call("verify.start", start).await?)
    }

    /// `verify.check`: every outcome (approved, wrong, not_found, ...) is a result; an
    /// error means the check could not be made.
    pub async fn verify_check(
        &self,
        verification_id: &str,
        code: &SecretString,
    ) -> Result<super::proto::VerifyCheckResult, ClientError> {
        let fields = serde_json::json!({
            "verification_id": verification_id,
            "code": code.expose_secret(),
        });
        decode(&self.call("verify.check", &fields).await?)
    }

    /// `verify.resend`: a new code, the old one void.
    pub async fn verify_resend(
        &self,
        verification_id: &str,
    ) -> Result<super::proto::VerifyStartResult, ClientError> {
        let fields = serde_json::json!({ "verification_id": verification_id });
        decode(&self.call("verify.resend", &fields).await?)
    }

    /// `verify.cancel`.
    pub async fn verify_cancel(
        &self,
        verification_id: &str,
    ) -> Result<super::proto::VerifyCancelResult, ClientError> {
        let fields = serde_json::json!({ "verification_id": verification_id });
        decode(&self.call("verify.cancel", &fields).await?)
    }

    /// `verify.status`, with the delivery of the SMS carrying the current code.
    pub async fn verify_status(
        &self,
        verification_id: &str,
    ) -> Result<super::proto::VerifyStatusResult, ClientError> {
        let fields = serde_json::json!({ "verification_id": verification_id });
        decode(&self.call("verify.status", &fields).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto::{parse_request, Op, SubmitParams};

    #[test]
    fn a_request_line_is_the_fields_with_the_id_and_the_op_in_front() {
        assert_eq!(
            request_line(1, "ping", &Value::Null).unwrap(),
            r#"{"id":1,"op":"ping"}"#
        );
        assert_eq!(
            request_line(2, "binds.status", &serde_json::json!({})).unwrap(),
            r#"{"id":2,"op":"binds.status"}"#
        );
        assert_eq!(
            request_line(
                3,
                "message.status",
                &serde_json::json!({"message_id": "42"})
            )
            .unwrap(),
            r#"{"id":3,"op":"message.status","message_id":"42"}"#
        );
        assert!(matches!(
            request_line(4, "ping", &serde_json::json!([1])),
            Err(ClientError::Protocol(_))
        ));
        assert!(matches!(
            request_line(5, "ping", &"text"),
            Err(ClientError::Protocol(_))
        ));
    }

    #[test]
    fn the_gateway_reads_a_request_line_as_the_client_meant_it() {
        let submit = SubmitParams {
            to: "+819012345678".into(),
            text: "quote \" and \\ and 日本".into(),
            from: None,
            encoding: None,
            validity: None,
            client_ref: Some("ref-1".into()),
            class: Some("otp".into()),
            receipts: None,
        };
        let line = request_line(7, "message.submit", &submit).unwrap();
        let request = parse_request(line.as_bytes()).unwrap();
        assert_eq!(request.id, Value::from(7));
        assert!(
            matches!(&request.op, Op::MessageSubmit(read) if *read == submit),
            "{line}"
        );
        let ping = parse_request(request_line(8, "ping", &Value::Null).unwrap().as_bytes());
        assert!(matches!(ping.unwrap().op, Op::Ping));
    }

    #[test]
    fn an_answer_an_event_and_a_notice_are_told_apart_without_decoding_them() {
        let answer: Line<'_> =
            serde_json::from_str(r#"{"id":3,"ok":true,"result":{"a":[1,2]}}"#).unwrap();
        assert_eq!(answer.id.map(RawValue::get), Some("3"));
        assert_eq!(answer.ok, Some(true));
        assert_eq!(answer.result.map(RawValue::get), Some(r#"{"a":[1,2]}"#));
        assert!(answer.event.is_none() && answer.close.is_none());
        let event: Line<'_> =
            serde_json::from_str(r#"{"sub":"s","cursor":4,"at":5,"event":{"type":"mo"}}"#).unwrap();
        assert!(event.event.is_some() && event.id.is_none());
        let close: Line<'_> =
            serde_json::from_str(r#"{"close":{"code":"slow_subscriber","message":"m"}}"#).unwrap();
        assert!(close.close.is_some());
    }
}
