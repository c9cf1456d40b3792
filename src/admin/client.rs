//! The admin listener's client, for the CLI (`smsgate status`, `smsgate carrier
//! stop|start`, `smsgate reload`): one HTTP/1.1 request with a Bearer token, the JSON
//! answer and its status code. Plain HTTP: the listener is meant for loopback or a
//! private network (docs/operations.md).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    /// The URL is not an `http://host:port` one.
    #[error("admin URL {url:?}: {reason}")]
    Url {
        /// As given.
        url: String,
        /// Why.
        reason: String,
    },
    /// No connection, or it broke.
    #[error("admin listener at {url}: {reason}")]
    Connection {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
}

/// An answer: its status code and its body (JSON when it parses, else the text as a JSON
/// string).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: serde_json::Value,
}

/// The admin listener at `base` (`http://127.0.0.1:7776`), with a token.
pub struct AdminClient {
    base: String,
    token: SecretString,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// A client of `base` presenting `token`.
    ///
    /// # Errors
    /// [`AdminClientError::Url`] when `base` is not `http://host[:port]`.
    pub fn new(base: &str, token: SecretString) -> Result<AdminClient, AdminClientError> {
        let trimmed = base.trim_end_matches('/');
        let url_err = |reason: &str| AdminClientError::Url {
            url: base.to_owned(),
            reason: reason.to_owned(),
        };
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("http://{trimmed}")
        };
        let uri: Uri = with_scheme.parse().map_err(|_| url_err("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(url_err("only http:// (the listener speaks plain HTTP)"));
        }
        if uri.host().is_none() {
            return Err(url_err("no host"));
        }
        Ok(AdminClient {
            base: with_scheme,
            token,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// `method path` and its answer.
    ///
    /// # Errors
    /// [`AdminClientError`] when there is no answer.
    pub async fn request(&self, method: Method, path: &str) -> Result<Answer, AdminClientError> {
        let url = format!("{}{path}", self.base);
        let conn_err = |reason: String| AdminClientError::Connection {
            url: self.base.clone(),
            reason,
        };
        let request = Request::builder()
            .method(method)
            .uri(&url)
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token.expose_secret()),
            )
            .body(Full::new(Bytes::new()))
            .map_err(|e| conn_err(e.to_string()))?;
        let response = tokio::time::timeout(TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| conn_err("no answer in time".into()))?
            .map_err(|e| conn_err(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| conn_err(e.to_string()))?
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        Ok(Answer { status, body })
    }
}
