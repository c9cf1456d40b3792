//! The `verify.*` operations (docs/api.md, "Verification operations"): each request becomes
//! a call to the gateway's Verifier, its answer a result, and the verifier's refusals typed
//! error codes. A token sees only the verifications of its own mode: another mode's id is
//! answered as an unknown one.

use super::auth::Grant;
use super::proto::{
    ApiError, ErrorCode, VerifyCancelResult, VerifyCheckParams, VerifyCheckResult, VerifyIdParams,
    VerifyStartParams, VerifyStartResult, VerifyStatusResult,
};
use crate::config::TokenMode;
use crate::gateway::{Gateway, SubmitFailure};
use crate::verify::actor::{Start, VerifyFailure};
use crate::verify::core::{VerifyError, View};
use crate::verify::policy::{CheckOutcome, Refusal};
use crate::verify::template::Channel;
use secrecy::ExposeSecret;

/// The purpose of a start that names none.
pub const DEFAULT_PURPOSE: &str = "login";

/// An id no verification has (theirs are 48 hex digits): what a check of another mode's
/// verification is run against, so that it costs what an unknown id's does and counts no
/// attempt on the real one.
const NO_VERIFICATION: &str = "";

/// `verify.start`.
pub async fn start(
    gateway: &Gateway,
    grant: &Grant,
    p: VerifyStartParams,
) -> Result<VerifyStartResult, ApiError> {
    let mode = grant.mode;
    available(gateway)?;
    let channel = p.channel.unwrap_or(Channel::Sms);
    if channel == Channel::Sms && p.link.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "field link: only with \"channel\": \"sms_link\" (a code SMS carries no link)",
        ));
    }
    let validity = p
        .validity
        .as_deref()
        .map(crate::config::duration::parse)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidValidity, format!("field validity: {e}")))?;
    let start = Start {
        to: p.to,
        purpose: p.purpose.unwrap_or_else(|| DEFAULT_PURPOSE.to_owned()),
        locale: p.locale,
        channel,
        link: p.link,
        code_length: p.code_length,
        validity,
        sandbox: mode == TokenMode::Sandbox,
        owner: Some(grant.name.clone()),
    };
    let view = gateway
        .verify_start(start)
        .await
        .map_err(|f| failure(gateway, mode, "", f))?;
    Ok(start_result(view))
}

/// `verify.check`: every outcome is a result, the same fields for an id that does not
/// exist (or is another mode's) as for a wrong code.
pub async fn check(
    gateway: &Gateway,
    mode: TokenMode,
    p: VerifyCheckParams,
) -> Result<VerifyCheckResult, ApiError> {
    available(gateway)?;
    let id = p.verification_id;
    let target = if visible(gateway, mode, &id).await? {
        id.as_str()
    } else {
        NO_VERIFICATION
    };
    let outcome = gateway
        .verify_check(target, p.code.expose_secret())
        .await
        .map_err(|f| failure(gateway, mode, &id, f))?;
    let (attempts_left, retry_after_ms) = match outcome {
        CheckOutcome::Wrong { attempts_left } => (Some(attempts_left), None),
        CheckOutcome::Locked { retry_after_ms } => (None, Some(retry_after_ms)),
        _ => (None, None),
    };
    Ok(VerifyCheckResult {
        verification_id: id,
        status: outcome.name().to_owned(),
        attempts_left,
        retry_after_ms,
    })
}

/// `verify.resend`.
pub async fn resend(
    gateway: &Gateway,
    mode: TokenMode,
    p: VerifyIdParams,
) -> Result<VerifyStartResult, ApiError> {
    available(gateway)?;
    let id = p.verification_id;
    if !visible(gateway, mode, &id).await? {
        return Err(not_found(mode, &id));
    }
    let view = gateway
        .verify_resend(&id)
        .await
        .map_err(|f| failure(gateway, mode, &id, f))?;
    Ok(start_result(view))
}

/// `verify.cancel`.
pub async fn cancel(
    gateway: &Gateway,
    mode: TokenMode,
    p: VerifyIdParams,
) -> Result<VerifyCancelResult, ApiError> {
    available(gateway)?;
    let id = p.verification_id;
    if !visible(gateway, mode, &id).await? {
        return Err(not_found(mode, &id));
    }
    let view = gateway
        .verify_cancel(&id)
        .await
        .map_err(|f| failure(gateway, mode, &id, f))?;
    Ok(VerifyCancelResult {
        verification_id: view.id,
        status: view.status.name().to_owned(),
    })
}

/// `verify.status`.
pub async fn status(
    gateway: &Gateway,
    mode: TokenMode,
    p: VerifyIdParams,
) -> Result<VerifyStatusResult, ApiError> {
    available(gateway)?;
    let id = p.verification_id;
    let found = gateway
        .verify_status(&id)
        .await
        .map_err(|f| failure(gateway, mode, &id, f))?
        .filter(|s| s.view.sandbox == (mode == TokenMode::Sandbox))
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, unknown(mode, &id)))?;
    let v = found.view;
    Ok(VerifyStatusResult {
        verification_id: v.id,
        status: v.status.name().to_owned(),
        purpose: v.purpose,
        channel: v.channel.as_str().to_owned(),
        to: v.to,
        attempts_left: v.attempts_left,
        sends: v.sends,
        created_at: v.created_at,
        expires_at: v.expires_at,
        resend_allowed_at: v.resend_allowed_at,
        message_id: v.message.map(|m| m.to_string()),
        delivery: found.delivery.map(|d| d.name().to_owned()),
        delivery_detail: found.delivery_detail,
    })
}

fn start_result(v: View) -> VerifyStartResult {
    VerifyStartResult {
        verification_id: v.id,
        status: v.status.name().to_owned(),
        to: v.to,
        channel: v.channel.as_str().to_owned(),
        attempts_left: v.attempts_left,
        sends: v.sends,
        expires_at: v.expires_at,
        resend_allowed_at: v.resend_allowed_at,
        message_id: v.message.map(|m| m.to_string()),
    }
}

/// `unavailable` when the gateway runs no verifier.
fn available(gateway: &Gateway) -> Result<(), ApiError> {
    if gateway.verifies() {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Unavailable,
            "verification is off on this gateway (verify.enabled = false)",
        ))
    }
}

/// Whether verification `id` exists and is of the token's mode.
async fn visible(gateway: &Gateway, mode: TokenMode, id: &str) -> Result<bool, ApiError> {
    let sandbox = gateway
        .verify_sandbox(id)
        .await
        .map_err(|f| failure(gateway, mode, id, f))?;
    Ok(sandbox == Some(mode == TokenMode::Sandbox))
}

fn unknown(mode: TokenMode, id: &str) -> String {
    format!(
        "no verification {id:?} (for a {} token); start a new one",
        mode.as_str()
    )
}

fn not_found(mode: TokenMode, id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!(
            "no pending verification {id:?} (for a {} token): it is unknown, or finished \
             (approved, cancelled, expired, out of checks); start a new one",
            mode.as_str()
        ),
    )
}

/// The API's error for what the verifier answered about verification `id` (empty for a
/// start).
fn failure(gateway: &Gateway, mode: TokenMode, id: &str, failure: VerifyFailure) -> ApiError {
    match failure {
        VerifyFailure::InvalidNumber(e) => {
            ApiError::new(ErrorCode::InvalidNumber, format!("field to: {e}"))
        }
        VerifyFailure::Verify(VerifyError::Refused(r)) => refusal(r),
        VerifyFailure::Verify(VerifyError::NotFound) => not_found(mode, id),
        VerifyFailure::Verify(e @ VerifyError::Link) => {
            ApiError::new(ErrorCode::InvalidRequest, format!("field link: {e}"))
        }
        VerifyFailure::Verify(VerifyError::Template(e)) => ApiError::new(
            ErrorCode::Unfit,
            format!("the verification text does not fit one SMS: {e}"),
        ),
        VerifyFailure::Verify(VerifyError::Store(e)) => {
            ApiError::new(ErrorCode::Storage, format!("verification storage: {e}"))
        }
        VerifyFailure::Send(refused) => {
            let e = super::ops::refused(SubmitFailure::Refused(refused));
            ApiError::new(
                e.code,
                format!(
                    "the code's SMS could not be queued, nothing was sent: {}",
                    e.message
                ),
            )
        }
        e @ VerifyFailure::Stopped(_) => ApiError::new(ErrorCode::Storage, e.to_string()),
        VerifyFailure::NotRunning if gateway.verifies() => {
            ApiError::new(ErrorCode::ShuttingDown, "the verifier is stopping")
        }
        VerifyFailure::NotRunning => ApiError::new(
            ErrorCode::Unavailable,
            "verification is off on this gateway",
        ),
    }
}

/// The API's error for a refused start or resend (nothing was sent).
fn refusal(r: Refusal) -> ApiError {
    let code = match &r {
        Refusal::Locked { .. } => ErrorCode::Locked,
        Refusal::Cooldown { .. } => ErrorCode::Cooldown,
        Refusal::MaxSends { .. } => ErrorCode::MaxSends,
        Refusal::NumberCap { .. } => ErrorCode::SendCap,
        Refusal::Budget { .. } => ErrorCode::BudgetExhausted,
        Refusal::Destination(_) => ErrorCode::DestinationNotAllowed,
        Refusal::UnknownPurpose(_) | Refusal::CodeLength(_) => ErrorCode::InvalidRequest,
        Refusal::Validity(_) => ErrorCode::InvalidValidity,
    };
    let field = match &r {
        Refusal::UnknownPurpose(_) => "field purpose: ",
        Refusal::CodeLength(_) => "field code_length: ",
        Refusal::Validity(_) => "field validity: ",
        _ => "",
    };
    ApiError::new(code, format!("{field}{r}")).retry_after(r.retry_after_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_code_and_the_wait_when_waiting_helps() {
        let cases = [
            (
                Refusal::Locked {
                    retry_after_ms: 1500,
                },
                "locked",
                Some(1500),
            ),
            (
                Refusal::Cooldown {
                    retry_after_ms: 30_000,
                },
                "cooldown",
                Some(30_000),
            ),
            (Refusal::MaxSends { max: 3 }, "max_sends", None),
            (
                Refusal::NumberCap {
                    retry_after_ms: 60_000,
                },
                "send_cap",
                Some(60_000),
            ),
            (
                Refusal::Budget {
                    prefix: "8190".into(),
                    retry_after_ms: 1,
                },
                "budget_exhausted",
                Some(1),
            ),
            (
                Refusal::Destination("+447700900123".into()),
                "destination_not_allowed",
                None,
            ),
            (
                Refusal::UnknownPurpose("karaoke".into()),
                "invalid_request",
                None,
            ),
            (Refusal::CodeLength(3), "invalid_request", None),
            (Refusal::Validity(0), "invalid_validity", None),
        ];
        for (r, code, wait) in cases {
            let e = refusal(r.clone());
            assert_eq!((e.code.as_str(), e.retry_after_ms), (code, wait), "{r:?}");
            assert!(e.message.contains(&r.to_string()), "{}", e.message);
        }
        assert!(refusal(Refusal::UnknownPurpose("x".into()))
            .message
            .starts_with("field purpose: "));
    }
}
