//! Which events become webhooks and their JSON: a message's final state (every state
//! change too, for a webhook with `intermediate = true`) and a verification's outcome.
//! Pure: the dispatcher hands in the event and what it read about its message.

use crate::outbox::MessageStatus;
use crate::store::{Event, EventKind};
use serde_json::{json, Value};

/// A webhook to make: its event id (what the receiver deduplicates by) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The stable event id.
    pub event_id: String,
    /// The JSON body, as sent.
    pub body: String,
}

/// What an event is about, for the dispatcher to look its owner up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A message (its id).
    Message(crate::store::MessageId),
    /// A verification (its id).
    Verification(String),
    /// Nothing a webhook is sent for.
    None,
}

/// What `event` is about.
pub fn subject(event: &Event) -> Subject {
    match &event.kind {
        EventKind::Message { id, .. } => Subject::Message(*id),
        EventKind::Verification { id, .. } => Subject::Verification(id.clone()),
        _ => Subject::None,
    }
}

/// The webhook of a message event, given the message's status read after it; `None`
/// for a state before the final one unless `intermediate`. A final state's event id is
/// `message.ID.STATE`, the same for every event that reports it (a receipt that comes for
/// a message already ended repeats it); an earlier state's is `message.ID.event.SEQ`.
pub fn message(
    seq: u64,
    event: &Event,
    status: &MessageStatus,
    intermediate: bool,
) -> Option<Made> {
    let EventKind::Message {
        id,
        state,
        carrier,
        segment,
        detail,
        ..
    } = &event.kind
    else {
        return None;
    };
    let is_final = state.is_final();
    if !is_final && !intermediate {
        return None;
    }
    let event_id = if is_final {
        format!("message.{id}.{}", state.as_str())
    } else {
        format!("message.{id}.event.{seq}")
    };
    let body = json!({
        "id": event_id,
        "type": format!("message.{}", state.as_str()),
        "created_at": event.at,
        "data": {
            "message_id": id.to_string(),
            "state": state.as_str(),
            "final": is_final,
            "to": status.to,
            "client_ref": status.client_ref,
            "carrier": carrier,
            "segment": segment.map(|(n, s)| json!({"number": n, "state": s.as_str()})),
            "segments": status.segments.len(),
            "detail": detail,
            "accepted_at": status.accepted_at,
        },
    });
    Some(Made {
        event_id,
        body: body.to_string(),
    })
}

/// The webhook of a verification's outcome: event id `verification.ID.STATUS`.
pub fn verification(event: &Event) -> Option<Made> {
    let EventKind::Verification {
        id,
        status,
        purpose,
        sandbox,
    } = &event.kind
    else {
        return None;
    };
    let event_id = format!("verification.{id}.{status}");
    let body: Value = json!({
        "id": event_id,
        "type": format!("verification.{status}"),
        "created_at": event.at,
        "data": {
            "verification_id": id,
            "status": status,
            "purpose": purpose,
            "sandbox": sandbox,
        },
    });
    Some(Made {
        event_id,
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::router::RouteKind;
    use crate::store::{Class, MessageId, SegmentState, State};

    fn status() -> MessageStatus {
        MessageStatus {
            id: MessageId(42),
            state: State::Delivered,
            class: Class::Otp,
            to: "+819012345678".into(),
            client_ref: Some("order-1".into()),
            route_kind: RouteKind::Domestic,
            carrier: "sim".into(),
            attempts: 1,
            segments: Vec::new(),
            detail: None,
            accepted_at: 5,
            expires_at: 6,
            updated_at: 7,
            owner: Some("shop".into()),
        }
    }

    fn event(state: State) -> Event {
        Event {
            at: 1000,
            kind: EventKind::Message {
                id: MessageId(42),
                state,
                carrier: "sim".into(),
                route_kind: RouteKind::Domestic,
                segment: Some((1, SegmentState::Delivered)),
                detail: Some("DELIVRD".into()),
            },
        }
    }

    #[test]
    fn a_final_state_is_sent_under_an_id_of_the_message_and_state() {
        let made = message(9, &event(State::Delivered), &status(), false).unwrap();
        assert_eq!(made.event_id, "message.42.delivered");
        // Another event reporting the same end has the same id.
        let again = message(12, &event(State::Delivered), &status(), false).unwrap();
        assert_eq!(again.event_id, made.event_id);
        let body: Value = serde_json::from_str(&made.body).unwrap();
        assert_eq!(body["type"], "message.delivered");
        assert_eq!(body["data"]["message_id"], "42");
        assert_eq!(body["data"]["final"], true);
        assert_eq!(body["data"]["client_ref"], "order-1");
        assert_eq!(body["data"]["segment"]["state"], "delivered");
    }

    #[test]
    fn earlier_states_only_for_an_intermediate_webhook() {
        assert_eq!(message(3, &event(State::Submitted), &status(), false), None);
        let made = message(3, &event(State::Submitted), &status(), true).unwrap();
        assert_eq!(made.event_id, "message.42.event.3");
        let other = Event {
            at: 1,
            kind: EventKind::UnmatchedReceipt {
                carrier: "sim".into(),
                carrier_id: "x".into(),
                state: 2,
            },
        };
        assert_eq!(subject(&other), Subject::None);
        assert_eq!(message(4, &other, &status(), true), None);
    }

    #[test]
    fn a_verification_outcome_is_sent_under_its_id_and_status() {
        let e = Event {
            at: 77,
            kind: EventKind::Verification {
                id: "abc".into(),
                status: "approved".into(),
                purpose: "login".into(),
                sandbox: false,
            },
        };
        assert_eq!(subject(&e), Subject::Verification("abc".into()));
        let made = verification(&e).unwrap();
        assert_eq!(made.event_id, "verification.abc.approved");
        let body: Value = serde_json::from_str(&made.body).unwrap();
        assert_eq!(body["type"], "verification.approved");
        assert_eq!(body["data"]["purpose"], "login");
    }
}
