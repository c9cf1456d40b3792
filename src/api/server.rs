//! The API's listener: thin glue on a Tokio runtime of its own thread. It accepts up to
//! `max_connections` (TLS when configured), and per connection reads lines into the
//! [`Session`], runs what it hands out against the [`Gateway`], writes the answers and the
//! subscription's events, and closes the connection with a `close` line when the session
//! says so (too large, hello or idle deadline, slow subscriber, shutdown).

use super::auth::{TokenError, Tokens};
use super::ops::{execute, follow, FollowEnd};
use super::proto::{answer_line, close_line, ApiError, ErrorCode, LineBuffer, Op, TooLong};
use super::session::{Limits, Session, Step};
use crate::config::ApiConfig;
use crate::gateway::Gateway;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, watch, Semaphore};
use tracing::{debug, info, warn};

/// How long a connection's last lines (its close notice) get to be written.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long stopping waits for the connections to say goodbye.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What the listener needs, from `[api]`.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Each connection's limits.
    pub limits: Limits,
    /// Connections served at once.
    pub max_connections: usize,
    /// Event lines queued per subscriber before it is cut off.
    pub event_buffer: usize,
    /// TLS, when configured.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The tokens.
    pub tokens: Tokens,
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("api.address {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The tokens.
    #[error(transparent)]
    Tokens(#[from] TokenError),
    /// The TLS files.
    #[error("api.tls: {0}")]
    Tls(String),
    /// The thread or its runtime.
    #[error("the API thread: {0}")]
    Thread(std::io::Error),
}

impl ServerSettings {
    /// From `[api]`; reads the TLS files. `now` starts the tokens' rate limits.
    pub fn from_config(api: &ApiConfig, now: Instant) -> Result<ServerSettings, ServeError> {
        let tls = api
            .tls
            .as_ref()
            .map(|t| t.server_config())
            .transpose()
            .map_err(|e| ServeError::Tls(e.to_string()))?;
        Ok(ServerSettings {
            limits: Limits {
                max_line: api.max_line,
                hello_deadline: api.hello_deadline,
                idle_timeout: api.idle_timeout,
                max_in_flight: api.max_in_flight,
            },
            max_connections: api.max_connections,
            event_buffer: api.event_buffer,
            tls,
            tokens: Tokens::new(&api.tokens, now)?,
        })
    }
}

/// The running listener.
pub struct ApiServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
}

/// What every connection shares.
struct Shared {
    settings: ServerSettings,
    gateway: Gateway,
    /// One permit per connection served.
    connections: Arc<Semaphore>,
}

impl ApiServer {
    /// Binds `addr` and serves the API on a thread of its own until [`ApiServer::stop`].
    pub fn start(
        addr: SocketAddr,
        settings: ServerSettings,
        gateway: Gateway,
    ) -> Result<ApiServer, ServeError> {
        let bind_err = |source| ServeError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ServeError::Thread)?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            connections: Arc::new(Semaphore::new(settings.max_connections)),
            settings,
            gateway,
        });
        let thread = std::thread::Builder::new()
            .name("smsgate-api".into())
            .spawn(move || runtime.block_on(accept_loop(listener, shared, stopped)))
            .map_err(ServeError::Thread)?;
        info!(address = %local, "API listening");
        Ok(ApiServer {
            addr: local,
            stop,
            thread,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, tells every connection `shutting_down`, and waits (briefly) for
    /// them to close.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            warn!(error = %e, "API listener could not start");
            return;
        }
    };
    let tls = shared
        .settings
        .tls
        .clone()
        .map(tokio_rustls::TlsAcceptor::from);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: wait a moment instead of spinning.
                warn!(error = %e, "API accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
            debug!(%peer, "API connection refused: too many connections");
            tokio::spawn(refuse(tcp, shared.settings.max_connections));
            continue;
        };
        let shared = shared.clone();
        let stop = stop.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(tcp, shared, stop).await,
                Some(acceptor) => {
                    let deadline = shared.settings.limits.hello_deadline;
                    match tokio::time::timeout(deadline, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => connection(stream, shared, stop).await,
                        Ok(Err(e)) => debug!(%peer, error = %e, "API TLS handshake failed"),
                        Err(_) => debug!(%peer, "API TLS handshake took too long"),
                    }
                }
            }
        });
    }
    // Every connection holds a permit until it has closed: having them all back means
    // they have all said goodbye.
    let all = u32::try_from(shared.settings.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(STOP_GRACE, shared.connections.acquire_many(all)).await;
}

/// Tells a connection over the limit why, and closes it.
async fn refuse(mut tcp: tokio::net::TcpStream, max: usize) {
    let line = close_line(&ApiError::new(
        ErrorCode::TooManyConnections,
        format!("the gateway serves {max} connections at most; try again later"),
    ));
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        tcp.write_all(format!("{line}\n").as_bytes()).await?;
        tcp.shutdown().await
    })
    .await;
}

/// Waits for the subscription to end; never, without one.
async fn follower_end(follower: &mut Option<tokio::task::JoinHandle<FollowEnd>>) -> FollowEnd {
    match follower {
        Some(task) => task.await.unwrap_or(FollowEnd::Closed),
        None => std::future::pending().await,
    }
}

async fn connection<S>(stream: S, shared: Arc<Shared>, mut stop: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = shared.settings.limits;
    let (mut reader, writer) = tokio::io::split(stream);
    // Answers (at most one per request in flight, plus a close notice) and events go to
    // the writer on their own channels: a slow subscriber fills only the events'.
    let (out, out_rx) = mpsc::channel::<String>(limits.max_in_flight + 1);
    let (events, events_rx) = mpsc::channel::<String>(shared.settings.event_buffer);
    let writer = tokio::spawn(write_lines(writer, out_rx, events_rx, limits.idle_timeout));
    let (done, mut answers) = mpsc::channel::<String>(limits.max_in_flight);
    let mut session = Session::new(limits, Instant::now());
    let mut lines = LineBuffer::new(limits.max_line);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut follower = None;
    let close = 'conn: loop {
        while session.can_read() {
            let line = match lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(TooLong { max }) => {
                    break 'conn Some(ApiError::new(
                        ErrorCode::TooLarge,
                        format!("a request line is longer than {max} bytes (api.max_line)"),
                    ))
                }
            };
            match session.on_line(&line, &shared.settings.tokens, Instant::now()) {
                Step::Reply(answer) => {
                    if out.send(answer).await.is_err() {
                        break 'conn None;
                    }
                }
                Step::Run { id, op, grant } => match *op {
                    Op::EventsSubscribe(params) => {
                        // Answered here, before the first event can be queued.
                        let cursor = params.cursor;
                        let result =
                            execute(&shared.gateway, &grant, Op::EventsSubscribe(params)).await;
                        session.answered(Instant::now());
                        if out.send(answer_line(&id, result)).await.is_err() {
                            break 'conn None;
                        }
                        follower = Some(tokio::spawn(follow(
                            shared.gateway.clone(),
                            grant.mode,
                            id,
                            cursor,
                            events.clone(),
                        )));
                    }
                    op => {
                        let gateway = shared.gateway.clone();
                        let done = done.clone();
                        tokio::spawn(async move {
                            let answer = answer_line(&id, execute(&gateway, &grant, op).await);
                            let _ = done.send(answer).await;
                        });
                    }
                },
            }
        }
        let deadline = session.deadline().map(|(at, _)| at);
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = reader.read(&mut chunk), if session.can_read() => match read {
                Ok(0) | Err(_) => break None,
                Ok(n) => lines.extend(chunk.get(..n).unwrap_or_default()),
            },
            Some(answer) = answers.recv() => {
                session.answered(Instant::now());
                if out.send(answer).await.is_err() {
                    break None;
                }
            }
            () = sleep => {
                if let Some(why) = session.expired(Instant::now()) {
                    break Some(why);
                }
            }
            end = follower_end(&mut follower) => match end {
                FollowEnd::Cut => break Some(ApiError::new(
                    ErrorCode::SlowSubscriber,
                    format!(
                        "more than {} events waited for this subscriber; subscribe again \
                         with the cursor of the last event received",
                        shared.settings.event_buffer
                    ),
                )),
                FollowEnd::Stopped => break Some(ApiError::new(
                    ErrorCode::ShuttingDown,
                    "the gateway is stopping",
                )),
                FollowEnd::Closed => break None,
            },
            _ = stop.changed() => break Some(ApiError::new(
                ErrorCode::ShuttingDown,
                "the gateway is stopping",
            )),
        }
    };
    if let Some(task) = follower {
        task.abort();
    }
    if let Some(why) = close {
        debug!(code = %why.code, "API connection closed");
        let _ = tokio::time::timeout(CLOSE_GRACE, out.send(close_line(&why))).await;
    }
    drop(out);
    let _ = tokio::time::timeout(CLOSE_GRACE, writer).await;
}

/// Writes answers (first) and events, one line each, flushing whenever nothing more is
/// waiting; gives up on a peer that takes no bytes for `stall`. Ends when the answers'
/// channel closes, after writing what it holds.
async fn write_lines<W: AsyncWrite + Unpin>(
    writer: W,
    mut answers: mpsc::Receiver<String>,
    mut events: mpsc::Receiver<String>,
    stall: Duration,
) {
    let mut writer = BufWriter::new(writer);
    loop {
        let line = tokio::select! {
            biased;
            line = answers.recv() => match line {
                Some(line) => line,
                None => break,
            },
            Some(line) = events.recv() => line,
        };
        let write = async {
            writer.write_all(line.as_bytes()).await?;
            writer.write_all(b"\n").await?;
            if answers.is_empty() && events.is_empty() {
                writer.flush().await?;
            }
            Ok::<(), std::io::Error>(())
        };
        match tokio::time::timeout(stall, write).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        writer.flush().await?;
        writer.shutdown().await
    })
    .await;
}
