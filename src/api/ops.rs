//! The operations against the gateway: each checked request becomes a [`Gateway`] call and
//! its answer (the `verify.*` ones through [`super::verify`]); events become subscriber
//! lines, filtered by the token's mode (a sandbox token sees only the sandbox carrier's
//! messages and sandbox verifications, a live token only the others).

use super::auth::Grant;
use super::proto::{
    ApiError, BindInfo, BindsResult, CarrierInfo, ErrorCode, EventBody, EventLine, Op, SegmentInfo,
    StatusResult, SubmitParams, SubmitResult, SubscribeResult, TextEncodingChoice,
};
use super::verify;
use crate::config::TokenMode;
use crate::gateway::{Gateway, SubmitFailure};
use crate::outbox::actor::{Refused, Submit};
use crate::outbox::{MessageStatus, SubmitError};
use crate::store::{Class, Event, EventKind, MessageId};
use serde_json::Value;
use tokio::sync::mpsc;

/// Events read from the log at a time while following it.
const FOLLOW_BATCH: usize = 256;

/// Runs a checked operation for `grant` (every operation but hello and ping, which the
/// session answers itself).
pub async fn execute(gateway: &Gateway, grant: &Grant, op: Op) -> Result<Value, ApiError> {
    let value = match op {
        Op::MessageSubmit(params) => to_value(submit(gateway, grant, params).await?),
        Op::MessageStatus(params) => {
            let id: MessageId = params.message_id.parse().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "message_id {:?} is not a message id (the decimal id message.submit answered)",
                        params.message_id
                    ),
                )
            })?;
            let not_found = || {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no message {id} (for a {} token)", grant.mode.as_str()),
                )
            };
            let status = gateway
                .status(id)
                .await
                .map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?
                .ok_or_else(not_found)?;
            if mode_of(gateway, &status.carrier) != grant.mode {
                return Err(not_found());
            }
            to_value(status_result(status))
        }
        Op::EventsSubscribe(params) => {
            let last = *gateway.subscribe().borrow();
            let first = gateway
                .first_event()
                .await
                .map_err(|e| ApiError::new(ErrorCode::ShuttingDown, e.to_string()))?;
            to_value(SubscribeResult {
                cursor: params.cursor,
                last,
                first,
            })
        }
        Op::BindsStatus => to_value(binds(gateway).await?),
        Op::VerifyStart(p) => to_value(verify::start(gateway, grant, p).await?),
        Op::VerifyCheck(p) => to_value(verify::check(gateway, grant.mode, p).await?),
        Op::VerifyResend(p) => to_value(verify::resend(gateway, grant.mode, p).await?),
        Op::VerifyCancel(p) => to_value(verify::cancel(gateway, grant.mode, p).await?),
        Op::VerifyStatus(p) => to_value(verify::status(gateway, grant.mode, p).await?),
        Op::Hello(_) | Op::Ping => Value::Object(serde_json::Map::new()),
    };
    Ok(value)
}

fn to_value<T: serde::Serialize>(value: T) -> Value {
    // The result types are plain structs of strings and numbers: they always serialize.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Whether a carrier's messages are the sandbox's or live ones.
fn mode_of(gateway: &Gateway, carrier: &str) -> TokenMode {
    if gateway.sandbox_carrier() == Some(carrier) {
        TokenMode::Sandbox
    } else {
        TokenMode::Live
    }
}

async fn submit(
    gateway: &Gateway,
    grant: &Grant,
    p: SubmitParams,
) -> Result<SubmitResult, ApiError> {
    let class = match p.class.as_deref() {
        None | Some("transactional") => Class::Transactional,
        Some("otp") => Class::Otp,
        Some("bulk") => Class::Bulk,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("field class: {other:?} is not otp, transactional or bulk"),
            ))
        }
    };
    let validity = p
        .validity
        .as_deref()
        .map(crate::config::duration::parse)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidValidity, format!("field validity: {e}")))?;
    if p.encoding == Some(TextEncodingChoice::Gsm7) {
        if let Some(ch) = p
            .text
            .chars()
            .find(|ch| !smpp::text::gsm7::is_representable(ch.encode_utf8(&mut [0; 4])))
        {
            return Err(ApiError::new(
                ErrorCode::Unfit,
                format!("encoding gsm7: {ch:?} is not in the GSM 03.38 alphabet"),
            ));
        }
    }
    let submit = Submit {
        from: p.from,
        client_ref: p.client_ref,
        validity,
        registered_delivery: p.receipts.unwrap_or(true),
        sandbox: grant.mode == TokenMode::Sandbox,
        owner: Some(grant.name.clone()),
        ..Submit::new(p.to, p.text, class)
    };
    let accepted = gateway.submit(submit).await.map_err(refused)?;
    Ok(SubmitResult {
        message_id: accepted.id.to_string(),
        state: accepted.state.as_str().to_owned(),
        duplicate: accepted.duplicate,
    })
}

/// The API's code for a refused submit.
pub(super) fn refused(failure: SubmitFailure) -> ApiError {
    let code = match &failure {
        SubmitFailure::NotRunning => ErrorCode::ShuttingDown,
        SubmitFailure::Refused(r) => match r {
            Refused::InvalidNumber(_) => ErrorCode::InvalidNumber,
            Refused::Unroutable(_) => ErrorCode::Unroutable,
            Refused::NoSandbox => ErrorCode::NoSandbox,
            Refused::ShuttingDown => ErrorCode::ShuttingDown,
            Refused::Stopped(_) => ErrorCode::Storage,
            Refused::Refused(e) => match e {
                SubmitError::Unfit { .. } => ErrorCode::Unfit,
                SubmitError::ClientRef { .. } => ErrorCode::InvalidClientRef,
                SubmitError::ZeroValidity => ErrorCode::InvalidValidity,
                SubmitError::QueueFull { .. } => ErrorCode::QueueFull,
                SubmitError::Store(_) => ErrorCode::Storage,
                SubmitError::NoRoute | SubmitError::UnknownCarrier(_) => ErrorCode::Unroutable,
            },
        },
    };
    ApiError::new(code, failure.to_string())
}

fn status_result(s: MessageStatus) -> StatusResult {
    StatusResult {
        message_id: s.id.to_string(),
        state: s.state.as_str().to_owned(),
        is_final: s.state.is_final(),
        class: s.class.as_str().to_owned(),
        to: s.to,
        client_ref: s.client_ref,
        carrier: s.carrier,
        route_kind: s.route_kind.as_str().to_owned(),
        attempts: s.attempts,
        segments: s
            .segments
            .into_iter()
            .map(|g| SegmentInfo {
                number: g.number,
                state: g.state.as_str().to_owned(),
                carrier_id: g.carrier_id,
                attempts: g.attempts,
                detail: g.error,
            })
            .collect(),
        detail: s.detail,
        accepted_at: s.accepted_at,
        expires_at: s.expires_at,
        updated_at: s.updated_at,
    }
}

async fn binds(gateway: &Gateway) -> Result<BindsResult, ApiError> {
    let depth = gateway
        .depth()
        .await
        .map_err(|e| ApiError::new(ErrorCode::ShuttingDown, e.to_string()))?;
    let carriers = gateway
        .binds()
        .await
        .into_iter()
        .map(|pool| CarrierInfo {
            queued: depth
                .queued
                .iter()
                .filter(|(carrier, _, _)| *carrier == pool.carrier)
                .map(|(_, class, n)| (class.as_str().to_owned(), *n))
                .collect(),
            carrier: pool.carrier,
            unavailable: pool.unavailable,
            binds: pool
                .binds
                .into_iter()
                .map(|b| BindInfo {
                    index: b.index,
                    bound: b.mode.map(|m| {
                        match m {
                            smpp::session::BindMode::Transmitter => "transmitter",
                            smpp::session::BindMode::Receiver => "receiver",
                            smpp::session::BindMode::Transceiver => "transceiver",
                        }
                        .to_owned()
                    }),
                    in_flight: b.in_flight,
                    rate: b.rate,
                    window: b.window,
                    last_error: b.last_error,
                })
                .collect(),
        })
        .collect();
    Ok(BindsResult {
        carriers,
        open: depth.open,
        unmatched: depth.unmatched,
    })
}

/// An event as a subscriber of `mode` sees it; `None` for events it does not see
/// (another mode's, and receipts that matched no message).
pub fn event_body(gateway: &Gateway, mode: TokenMode, event: &Event) -> Option<EventBody> {
    match &event.kind {
        EventKind::Message {
            id,
            state,
            carrier,
            segment,
            detail,
            ..
        } => (mode_of(gateway, carrier) == mode).then(|| EventBody::Message {
            message_id: id.to_string(),
            state: state.as_str().to_owned(),
            is_final: state.is_final(),
            carrier: carrier.clone(),
            segment: segment.map(|(n, _)| n),
            segment_state: segment.map(|(_, s)| s.as_str().to_owned()),
            detail: detail.clone(),
        }),
        EventKind::MobileOriginated {
            carrier,
            from,
            to,
            text,
        } => (mode_of(gateway, carrier) == mode).then(|| EventBody::Mo {
            carrier: carrier.clone(),
            from: from.clone(),
            to: to.clone(),
            text: text.clone(),
        }),
        EventKind::Verification {
            id,
            status,
            purpose,
            sandbox,
        } => {
            let seen_by = if *sandbox {
                TokenMode::Sandbox
            } else {
                TokenMode::Live
            };
            (seen_by == mode).then(|| EventBody::Verification {
                verification_id: id.clone(),
                status: status.clone(),
                purpose: purpose.clone(),
            })
        }
        EventKind::UnmatchedReceipt { .. } => None,
    }
}

/// How following the event log ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowEnd {
    /// The subscriber's buffer was full: it is cut off.
    Cut,
    /// The connection is gone.
    Closed,
    /// The gateway stopped.
    Stopped,
}

/// Follows the event log after `cursor` and queues each event `mode` sees as a line for
/// subscription `sub` on `out`, without ever waiting for the subscriber: a full `out`
/// ends it ([`FollowEnd::Cut`]). Woken by the gateway's event watch, never by polling.
pub async fn follow(
    gateway: Gateway,
    mode: TokenMode,
    sub: Value,
    mut cursor: u64,
    out: mpsc::Sender<String>,
) -> FollowEnd {
    let mut changes = gateway.subscribe();
    loop {
        changes.borrow_and_update();
        let Ok(batch) = gateway.events(cursor, FOLLOW_BATCH).await else {
            return FollowEnd::Stopped;
        };
        let more = batch.len() == FOLLOW_BATCH;
        for (seq, event) in batch {
            cursor = seq;
            let Some(body) = event_body(&gateway, mode, &event) else {
                continue;
            };
            let line = EventLine {
                sub: sub.clone(),
                cursor: seq,
                at: event.at,
                event: body,
            };
            let Ok(line) = serde_json::to_string(&line) else {
                continue;
            };
            match out.try_send(line) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => return FollowEnd::Cut,
                Err(mpsc::error::TrySendError::Closed(_)) => return FollowEnd::Closed,
            }
        }
        if !more && changes.changed().await.is_err() {
            return FollowEnd::Stopped;
        }
    }
}
