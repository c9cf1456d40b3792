//! The Japan profile (`japan = { ... }` on a carrier or a route): how long a message may be,
//! how Japanese text is carried, the Shift_JIS-only rule, the sender's form and the route
//! kind shown in status and events.

use crate::carrier::router::RouteKind;
use serde::{Deserialize, Serialize};

/// The rules Japanese carriers impose on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JapanProfile {
    /// Longest text accepted at submit, in characters; longer is refused, not cut.
    pub max_length: u32,
    /// true: text outside the GSM 7-bit alphabet (Japanese) goes as UCS-2; false: the
    /// carrier takes GSM 7-bit only, and such text is refused at submit.
    pub ucs2: bool,
    /// The carrier takes only characters Shift_JIS can represent (au is reported so); other
    /// text is refused at submit naming the character, never replaced.
    pub sjis_only: bool,
    /// The form the sender address must have on this carrier.
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
            max_length: 660,
            ucs2: true,
            sjis_only: false,
            sender_form: SenderForm::National,
            sender: None,
            route_kind: RouteKind::default(),
        }
    }
}

/// The two sender forms Japanese carriers accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderForm {
    /// A common short code: `0005` and six digits (`0005123456`).
    ShortCode,
    /// A national number: trunk prefix 0 and 9 or 10 digits (`0312345678`, `09012345678`).
    National,
}

impl SenderForm {
    /// Is `sender` written in this form?
    pub fn accepts(self, sender: &str) -> bool {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match self {
            SenderForm::ShortCode => {
                sender.len() == 10 && sender.starts_with("0005") && digits(sender)
            }
            SenderForm::National => {
                (10..=11).contains(&sender.len())
                    && sender.starts_with('0')
                    && !sender.starts_with("0005")
                    && digits(sender)
            }
        }
    }

    /// The form as the error messages describe it.
    pub fn describe(self) -> &'static str {
        match self {
            SenderForm::ShortCode => "a common short code: 0005 and 6 digits",
            SenderForm::National => "a national number: 0 and 9 or 10 digits",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_forms() {
        assert!(SenderForm::ShortCode.accepts("0005123456"));
        assert!(!SenderForm::ShortCode.accepts("000512345"));
        assert!(!SenderForm::ShortCode.accepts("0312345678"));
        assert!(SenderForm::National.accepts("0312345678"));
        assert!(SenderForm::National.accepts("09012345678"));
        assert!(!SenderForm::National.accepts("0005123456"));
        assert!(!SenderForm::National.accepts("+81312345678"));
        assert!(!SenderForm::National.accepts("312345678"));
    }
}
