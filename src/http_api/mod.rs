//! The HTTPS JSON API beside the TCP one (docs/api.md, "HTTPS JSON API"): the same
//! operations, tokens, rate limits and modes, as REST routes ([`routes`]). This is the
//! listener: thin glue on a Tokio runtime of its own thread, like the TCP API's. It accepts
//! up to `max_connections`, does the TLS handshake (rustls; a plain-HTTP request on the TLS
//! port is answered 400 saying so), and serves each connection with hyper's HTTP/1.1 and
//! the axum router (axum::serve has no TLS). Stopping lets each connection finish the
//! request it is on.

pub mod routes;

use crate::api::auth::Tokens;
use crate::config::HttpApiConfig;
use crate::gateway::Gateway;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{watch, Semaphore};
use tracing::{debug, info, warn};

/// How long stopping waits for the connections to finish their requests.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The first byte of a TLS handshake record (RFC 8446, 5.1: ContentType handshake).
const TLS_HANDSHAKE: u8 = 0x16;

/// What the listener needs, from `[http_api]` and the tokens.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// TLS, when configured (`None`: plain HTTP, on loopback only).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Connections served at once.
    pub max_connections: usize,
    /// Time for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time for a request's headers (and an idle keep-alive connection's life).
    pub header_timeout: Duration,
    /// Largest body, time for a body, longest long poll.
    pub max_body: usize,
    /// Time for a body.
    pub body_timeout: Duration,
    /// Longest long poll.
    pub max_wait: Duration,
    /// The tokens: the TCP API's own, so a token has one rate limit over both.
    pub tokens: Tokens,
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpServeError {
    /// The address could not be bound.
    #[error("http_api.address {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The TLS files.
    #[error("http_api.tls: {0}")]
    Tls(String),
    /// The thread or its runtime.
    #[error("the HTTPS API thread: {0}")]
    Thread(std::io::Error),
}

impl HttpSettings {
    /// From `[http_api]` (reads the TLS files) with the tokens to serve.
    pub fn from_config(
        http: &HttpApiConfig,
        tokens: Tokens,
    ) -> Result<HttpSettings, HttpServeError> {
        let tls = http
            .tls
            .as_ref()
            .map(|t| t.server_config())
            .transpose()
            .map_err(|e| HttpServeError::Tls(e.to_string()))?;
        Ok(HttpSettings {
            tls,
            max_connections: http.max_connections,
            handshake_timeout: http.handshake_timeout,
            header_timeout: http.header_timeout,
            max_body: http.max_body,
            body_timeout: http.body_timeout,
            max_wait: http.max_wait,
            tokens,
        })
    }
}

/// The running listener.
pub struct HttpApiServer {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
}

impl HttpApiServer {
    /// Binds `addr` and serves the API on a thread of its own until [`HttpApiServer::stop`].
    pub fn start(
        addr: SocketAddr,
        settings: HttpSettings,
        gateway: Gateway,
    ) -> Result<HttpApiServer, HttpServeError> {
        let bind_err = |source| HttpServeError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_err)?;
        listener.set_nonblocking(true).map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(HttpServeError::Thread)?;
        let (stop, stopped) = watch::channel(false);
        let tls = settings.tls.is_some();
        let thread = std::thread::Builder::new()
            .name("smsgate-http-api".into())
            .spawn(move || runtime.block_on(accept_loop(listener, settings, gateway, stopped)))
            .map_err(HttpServeError::Thread)?;
        if tls {
            info!(address = %local, "HTTPS API listening");
        } else {
            warn!(
                address = %local,
                "HTTP API listening WITHOUT TLS (allowed on loopback only): tokens and codes \
                 cross in clear; configure [http_api.tls] for anything else"
            );
        }
        Ok(HttpApiServer {
            addr: local,
            tls,
            stop,
            thread,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL: `https://ADDR` (`http://` without TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, lets the connections finish their requests, and waits (briefly).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    settings: HttpSettings,
    gateway: Gateway,
    mut stop: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            warn!(error = %e, "HTTPS API listener could not start");
            return;
        }
    };
    let tls = settings.tls.clone().map(|config| {
        let mut config = (*config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    let router = routes::router(routes::Routes {
        gateway,
        tokens: settings.tokens.clone(),
        max_body: settings.max_body,
        body_timeout: settings.body_timeout,
        max_wait: settings.max_wait,
    });
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let settings = Arc::new(settings);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: wait a moment instead of spinning.
                warn!(error = %e, "HTTPS API accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let permit = connections.clone().try_acquire_owned().ok();
        let router = router.clone();
        let settings = settings.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let Some(permit) = permit else {
                debug!(%peer, "HTTPS API connection refused: too many connections");
                let refuse = refusal(settings.max_connections);
                serve(tcp, tls, refuse, settings, stop).await;
                return;
            };
            serve(tcp, tls, router, settings, stop).await;
            drop(permit);
        });
    }
    let all = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(STOP_GRACE, connections.acquire_many(all)).await;
}

/// A router that answers every request 503 `too_many_connections`.
fn refusal(max: usize) -> axum::Router {
    axum::Router::new().fallback(move || async move {
        let mut response = routes::error_response(crate::api::proto::ApiError::new(
            crate::api::proto::ErrorCode::TooManyConnections,
            format!("the gateway serves {max} connections at most; try again later"),
        ));
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        response
    })
}

/// One connection: the TLS handshake when configured, then HTTP/1.1 until the client
/// closes, the header timeout passes, or the server stops.
async fn serve(
    tcp: tokio::net::TcpStream,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    settings: Arc<HttpSettings>,
    stop: watch::Receiver<bool>,
) {
    match tls {
        None => http(tcp, router, &settings, stop).await,
        Some(acceptor) => {
            let mut first = [0u8; 1];
            let peeked = tokio::time::timeout(settings.handshake_timeout, tcp.peek(&mut first));
            match peeked.await {
                Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => {}
                Ok(Ok(1)) => return plain_on_tls(tcp).await,
                _ => return,
            }
            match tokio::time::timeout(settings.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => http(stream, router, &settings, stop).await,
                Ok(Err(e)) => debug!(error = %e, "HTTPS API TLS handshake failed"),
                Err(_) => debug!("HTTPS API TLS handshake took too long"),
            }
        }
    }
}

/// A client that spoke plain HTTP to the TLS port: told so in plain HTTP, and closed.
async fn plain_on_tls(mut tcp: tokio::net::TcpStream) {
    let body = serde_json::json!({"error": {
        "code": "invalid_request",
        "message": "this port speaks HTTPS only: use https://",
    }})
    .to_string();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await
    })
    .await;
}

async fn http<S>(
    stream: S,
    router: axum::Router,
    settings: &HttpSettings,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                debug!(error = %e, "HTTPS API connection ended");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(STOP_GRACE, conn).await;
        }
    }
}
