//! The routes of the HTTPS JSON API (docs/api.md, "HTTPS JSON API"): each reads the
//! `Authorization: Bearer` token, builds the TCP API's operation from the path and the JSON
//! body ([`build_op`], with `crate::api::proto::parse_op`, so both APIs read fields alike),
//! passes the token's checks ([`Grant::admit`]) and runs it with
//! `crate::api::ops::execute`. Answers are the operation's result as JSON; errors are
//! `{"error": {"code", "message"}}` with the status [`status_of`] gives.

use crate::api::auth::{Grant, Tokens};
use crate::api::ops::{event_body, execute};
use crate::api::proto::{parse_op, ApiError, ErrorCode, EventBody, Op, SubscribeParams};
use crate::gateway::Gateway;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events answered by one `GET /v1/events` at most.
const EVENTS_BATCH: usize = 256;

/// What every request shares.
#[derive(Clone)]
pub struct Routes {
    /// The gateway the operations run against.
    pub gateway: Gateway,
    /// The tokens (the TCP API's, shared: one rate limit per token).
    pub tokens: Tokens,
    /// Largest body.
    pub max_body: usize,
    /// How long a body may take.
    pub body_timeout: Duration,
    /// Longest long poll.
    pub max_wait: Duration,
}

/// The router of every route.
pub fn router(routes: Routes) -> Router {
    Router::new()
        .route("/v1/messages", post(submit))
        .route("/v1/messages/{id}", get(message_status))
        .route("/v1/verifications", post(verify_start))
        .route("/v1/verifications/{id}", get(verify_status))
        .route("/v1/verifications/{id}/check", post(verify_check))
        .route("/v1/verifications/{id}/resend", post(verify_resend))
        .route("/v1/verifications/{id}/cancel", post(verify_cancel))
        .route("/v1/binds", get(binds))
        .route("/v1/events", get(events))
        .fallback(no_route)
        .with_state(Arc::new(routes))
}

type Shared = State<Arc<Routes>>;

/// The HTTP status of an error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::InvalidJson | C::InvalidRequest | C::UnsupportedVersion => StatusCode::BAD_REQUEST,
        C::Unauthorized => StatusCode::UNAUTHORIZED,
        C::Forbidden => StatusCode::FORBIDDEN,
        C::NotFound | C::UnknownOp => StatusCode::NOT_FOUND,
        C::MaxSends | C::SlowSubscriber => StatusCode::CONFLICT,
        C::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::HelloTimeout | C::IdleTimeout => StatusCode::REQUEST_TIMEOUT,
        C::InvalidNumber
        | C::Unroutable
        | C::Unfit
        | C::InvalidClientRef
        | C::InvalidValidity
        | C::DestinationNotAllowed => StatusCode::UNPROCESSABLE_ENTITY,
        C::RateLimited | C::Locked | C::Cooldown | C::SendCap => StatusCode::TOO_MANY_REQUESTS,
        C::QueueFull
        | C::NoSandbox
        | C::ShuttingDown
        | C::TooManyConnections
        | C::Unavailable
        | C::BudgetExhausted => StatusCode::SERVICE_UNAVAILABLE,
        C::Storage => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as the HTTP API answers it: its status, `Retry-After` (seconds, rounded up)
/// when waiting helps, `WWW-Authenticate` for 401, and `{"error": {...}}`.
pub fn error_response(error: ApiError) -> Response {
    let status = status_of(error.code);
    let retry_after = match (error.retry_after_ms, status) {
        (Some(ms), _) => Some(ms.div_ceil(1000).max(1)),
        (None, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) => Some(1),
        (None, _) => None,
    };
    let mut response = (status, axum::Json(serde_json::json!({ "error": error }))).into_response();
    let headers = response.headers_mut();
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"smsgate\""),
        );
    }
    response
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, message)
}

/// The grant of the `Authorization: Bearer TOKEN` header.
pub fn authenticate(tokens: &Tokens, headers: &HeaderMap) -> Result<Arc<Grant>, ApiError> {
    let unauthorized = |m: &str| ApiError::new(ErrorCode::Unauthorized, m);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("no Authorization header: send Authorization: Bearer TOKEN"))?;
    let text = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header is not Bearer TOKEN"))?;
    tokens
        .authenticate(&SecretString::from(token.to_owned()))
        .ok_or_else(|| unauthorized("the token is not known"))
}

/// The operation `name` from a JSON body (empty: no fields), the id of the path put in
/// as `id_field`, and the `Idempotency-Key` header as `client_ref` (submits only).
pub fn build_op(
    name: &str,
    body: &[u8],
    path_id: Option<(&str, String)>,
    idempotency_key: Option<&HeaderValue>,
) -> Result<Op, ApiError> {
    let mut fields = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => return Err(bad("the body is a JSON object")),
            Err(e) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("the body is not JSON: {e}"),
                ))
            }
        }
    };
    if let Some((field, id)) = path_id {
        if fields.contains_key(field) {
            return Err(bad(format!(
                "field {field}: the path gives it; leave it out of the body"
            )));
        }
        fields.insert(field.to_owned(), Value::String(id));
    }
    if let Some(key) = idempotency_key {
        let key = key
            .to_str()
            .map_err(|_| bad("the Idempotency-Key header is not text"))?;
        match fields.get("client_ref") {
            Some(Value::String(r)) if r == key => {}
            Some(_) => {
                return Err(bad(
                    "field client_ref: differs from the Idempotency-Key header (give one)",
                ))
            }
            None => {
                fields.insert("client_ref".into(), Value::String(key.to_owned()));
            }
        }
    }
    parse_op(name, fields)
}

/// Reads the body within the size and time limits.
async fn read_body(routes: &Routes, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, routes.max_body);
    match tokio::time::timeout(routes.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                ErrorCode::TooLarge,
                format!(
                    "the body is larger than {} bytes (http_api.max_body)",
                    routes.max_body
                ),
            ))
        }
        Ok(Err(e)) => Err(bad(format!("the body could not be read: {e}"))),
        Err(_) => Err(ApiError::new(
            ErrorCode::IdleTimeout,
            format!(
                "the body did not arrive within {:?} (http_api.body_timeout)",
                routes.body_timeout
            ),
        )),
    }
}

/// Authenticates, reads and builds the operation, admits it and runs it.
async fn run(
    routes: &Routes,
    headers: &HeaderMap,
    name: &str,
    body: Option<Body>,
    path_id: Option<(&str, String)>,
) -> Result<Value, ApiError> {
    let grant = authenticate(&routes.tokens, headers)?;
    let bytes = match body {
        Some(body) => read_body(routes, body).await?,
        None => axum::body::Bytes::new(),
    };
    let key = (name == "message.submit")
        .then(|| headers.get("idempotency-key"))
        .flatten();
    let op = build_op(name, &bytes, path_id, key)?;
    grant.admit(name, Instant::now())?;
    execute(&routes.gateway, &grant, op).await
}

fn answer(status: StatusCode, result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(value) => (status, axum::Json(value)).into_response(),
        Err(e) => error_response(e),
    }
}

async fn submit(State(r): Shared, headers: HeaderMap, body: Body) -> Response {
    let result = run(&r, &headers, "message.submit", Some(body), None).await;
    let location = result
        .as_ref()
        .ok()
        .and_then(|v| v.get("message_id"))
        .and_then(Value::as_str)
        .and_then(|id| HeaderValue::from_str(&format!("/v1/messages/{id}")).ok());
    let mut response = answer(StatusCode::ACCEPTED, result);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn message_status(State(r): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = Some(("message_id", id));
    answer(
        StatusCode::OK,
        run(&r, &headers, "message.status", None, path).await,
    )
}

async fn verify_start(State(r): Shared, headers: HeaderMap, body: Body) -> Response {
    let result = run(&r, &headers, "verify.start", Some(body), None).await;
    let location = result
        .as_ref()
        .ok()
        .and_then(|v| v.get("verification_id"))
        .and_then(Value::as_str)
        .and_then(|id| HeaderValue::from_str(&format!("/v1/verifications/{id}")).ok());
    let mut response = answer(StatusCode::CREATED, result);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn verify_id_op(
    r: &Routes,
    headers: &HeaderMap,
    name: &str,
    id: String,
    body: Option<Body>,
) -> Response {
    let path = Some(("verification_id", id));
    answer(StatusCode::OK, run(r, headers, name, body, path).await)
}

async fn verify_status(State(r): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    verify_id_op(&r, &headers, "verify.status", id, None).await
}

async fn verify_check(
    State(r): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    verify_id_op(&r, &headers, "verify.check", id, Some(body)).await
}

async fn verify_resend(
    State(r): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    verify_id_op(&r, &headers, "verify.resend", id, Some(body)).await
}

async fn verify_cancel(
    State(r): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    verify_id_op(&r, &headers, "verify.cancel", id, Some(body)).await
}

async fn binds(State(r): Shared, headers: HeaderMap) -> Response {
    answer(
        StatusCode::OK,
        run(&r, &headers, "binds.status", None, None).await,
    )
}

async fn no_route(uri: Uri) -> Response {
    error_response(ApiError::new(
        ErrorCode::NotFound,
        format!(
            "no route {} (POST /v1/messages, GET /v1/messages/ID, POST /v1/verifications, \
             GET /v1/verifications/ID, POST /v1/verifications/ID/check|resend|cancel, \
             GET /v1/binds, GET /v1/events)",
            uri.path()
        ),
    ))
}

/// `cursor` and `wait` (seconds) of `GET /v1/events`.
pub fn events_query(query: Option<&str>) -> Result<(u64, Duration), ApiError> {
    let mut cursor = 0;
    let mut wait = Duration::ZERO;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = |what: &str| {
            value.parse::<u64>().map_err(|_| {
                bad(format!(
                    "query {what}: {value:?} is not a whole number of {}",
                    if what == "wait" { "seconds" } else { "events" }
                ))
            })
        };
        match key {
            "cursor" => cursor = number("cursor")?,
            "wait" => wait = Duration::from_secs(number("wait")?),
            other => return Err(bad(format!("query {other:?}: not known (cursor, wait)"))),
        }
    }
    Ok((cursor, wait))
}

/// One event in `GET /v1/events`.
#[derive(Debug, serde::Serialize)]
struct EventItem {
    cursor: u64,
    at: u64,
    event: EventBody,
}

async fn events(State(r): Shared, headers: HeaderMap, uri: Uri) -> Response {
    answer(StatusCode::OK, long_poll(&r, &headers, &uri).await)
}

/// The events after `cursor` the token sees; none yet: waits up to `wait` (at most
/// `max_wait`) for one, woken by the gateway's event watch.
async fn long_poll(r: &Routes, headers: &HeaderMap, uri: &Uri) -> Result<Value, ApiError> {
    let grant = authenticate(&r.tokens, headers)?;
    let (mut cursor, wait) = events_query(uri.query())?;
    grant.admit("events.subscribe", Instant::now())?;
    let started = execute(
        &r.gateway,
        &grant,
        Op::EventsSubscribe(SubscribeParams { cursor }),
    )
    .await?;
    let last = started.get("last").and_then(Value::as_u64).unwrap_or(0);
    let first = started.get("first").and_then(Value::as_u64).unwrap_or(0);
    let deadline = tokio::time::Instant::now() + wait.min(r.max_wait);
    let stopping = || ApiError::new(ErrorCode::ShuttingDown, "the gateway is stopping");
    let mut changes = r.gateway.subscribe();
    loop {
        changes.borrow_and_update();
        let batch = r
            .gateway
            .events(cursor, EVENTS_BATCH)
            .await
            .map_err(|_| stopping())?;
        let full = batch.len() == EVENTS_BATCH;
        let mut found = Vec::new();
        for (seq, event) in batch {
            cursor = seq;
            if let Some(body) = event_body(&r.gateway, grant.mode, &event) {
                found.push(EventItem {
                    cursor: seq,
                    at: event.at,
                    event: body,
                });
            }
        }
        if !found.is_empty() || full {
            if found.is_empty() {
                continue;
            }
            return Ok(
                serde_json::json!({"cursor": cursor, "first": first, "last": last, "events": found}),
            );
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(stopping()),
            Err(_) => {
                return Ok(
                    serde_json::json!({"cursor": cursor, "first": first, "last": last, "events": []}),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::auth::sha256_hex;
    use crate::config::{TokenConfig, TokenMode};

    #[test]
    fn every_code_has_a_status_and_waits_are_rounded_up_to_seconds() {
        assert_eq!(
            status_of(ErrorCode::InvalidRequest),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(ErrorCode::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(
            status_of(ErrorCode::Unroutable),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            status_of(ErrorCode::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let r = error_response(ApiError::new(ErrorCode::Locked, "x").retry_after(Some(1500)));
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = error_response(ApiError::new(ErrorCode::RateLimited, "x"));
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = error_response(ApiError::new(ErrorCode::Unauthorized, "x"));
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        let r = error_response(ApiError::new(ErrorCode::NotFound, "x"));
        assert!(!r.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn the_path_id_and_the_idempotency_key_become_fields() {
        let op = build_op(
            "verify.check",
            br#"{"code":"123456"}"#,
            Some(("verification_id", "abc".into())),
            None,
        )
        .unwrap();
        let shown = format!("{op:?}");
        assert!(
            shown.contains("abc") && !shown.contains("123456"),
            "{shown}"
        );
        let e = build_op(
            "verify.check",
            br#"{"code":"1","verification_id":"x"}"#,
            Some(("verification_id", "abc".into())),
            None,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let key = HeaderValue::from_static("order-7");
        let Op::MessageSubmit(p) = build_op(
            "message.submit",
            br#"{"to":"1","text":"x"}"#,
            None,
            Some(&key),
        )
        .unwrap() else {
            panic!("not a submit")
        };
        assert_eq!(p.client_ref.as_deref(), Some("order-7"));
        let e = build_op(
            "message.submit",
            br#"{"to":"1","text":"x","client_ref":"other"}"#,
            None,
            Some(&key),
        )
        .unwrap_err();
        assert!(e.message.contains("Idempotency-Key"), "{}", e.message);
        assert_eq!(
            build_op("message.submit", b"{no", None, None)
                .unwrap_err()
                .code,
            ErrorCode::InvalidJson
        );
        assert!(matches!(
            build_op(
                "verify.cancel",
                b"",
                Some(("verification_id", "a".into())),
                None
            ),
            Ok(Op::VerifyCancel(_))
        ));
    }

    #[test]
    fn the_bearer_token_is_found_and_a_missing_or_unknown_one_is_unauthorized() {
        let tokens = Tokens::new(
            &[TokenConfig {
                name: "t".into(),
                sha256: sha256_hex("s3cret"),
                operations: vec!["*".into()],
                rate: 10,
                mode: TokenMode::Live,
                webhook: None,
            }],
            Instant::now(),
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(
            authenticate(&tokens, &headers).unwrap_err().code,
            ErrorCode::Unauthorized
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer nope"),
        );
        assert!(authenticate(&tokens, &headers).is_err());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert_eq!(authenticate(&tokens, &headers).unwrap().name, "t");
    }

    #[test]
    fn the_events_query_takes_cursor_and_wait_only() {
        assert_eq!(events_query(None).unwrap(), (0, Duration::ZERO));
        assert_eq!(
            events_query(Some("cursor=12&wait=5")).unwrap(),
            (12, Duration::from_secs(5))
        );
        assert!(events_query(Some("cursor=x")).is_err());
        assert!(events_query(Some("since=1")).is_err());
    }
}
