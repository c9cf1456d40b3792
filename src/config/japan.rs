//! The Japan profile (`japan = { ... }` on a carrier or a route): how long a message may be,
//! how Japanese text is carried, the Shift_JIS-only rule, the sender's form and the route
//! kind shown in status and events.

use crate::carrier::router::RouteKind;
use crate::outbox::address::SenderForm;
use crate::outbox::text::{ShiftJisRule, JAPAN_MAX_CHARS};
use serde::{Deserialize, Serialize};

/// The rules Japanese carriers impose on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JapanProfile {
    /// Longest text accepted at submit, in characters; longer is refused, not cut.
    pub max_length: usize,
    /// true: text outside the GSM 7-bit alphabet (Japanese) goes as UCS-2; false: the
    /// carrier takes GSM 7-bit only, and such text is refused at submit.
    pub ucs2: bool,
    /// Where the carrier takes only characters Shift_JIS can represent (au is reported to,
    /// in single messages): `false`, `true` (every text) or `"single_messages"`; other text
    /// is refused at submit naming the character, never replaced.
    pub sjis_only: ShiftJisRule,
    /// The form every sender (the message's or `sender`) must have on this carrier.
    pub sender_form: SenderForm,
    /// The sender used when a message names none; checked against `sender_form`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Whether traffic goes to the Japanese network directly or through an international
    /// route; shown in status and events (the router's kind of the route, see
    /// [`crate::config::RouteConfig::kind`]).
    pub route_kind: RouteKind,
}

impl Default for JapanProfile {
    fn default() -> Self {
        JapanProfile {
            max_length: JAPAN_MAX_CHARS,
            ucs2: true,
            sjis_only: ShiftJisRule::Off,
            sender_form: SenderForm::National,
            sender: None,
            route_kind: RouteKind::default(),
        }
    }
}
