//! message_state (section 5.2.28, Table 5-6): the states of a short message, as
//! query_sm_resp and the message_state TLV (5.3.2.35) number them, as Table 5-6 names them
//! and as an Appendix B receipt writes them in its `stat:` field (Table B-2).

use core::fmt;

/// The state of a short message (section 5.2.28).
///
/// SMPP 3.4 numbers the states 1-8. Some SMSCs also send SMPP 5.0 values (0 = SCHEDULED,
/// 9 = SKIPPED); [`MessageState::from_u8`] returns `None` for those and for every other
/// octet, so callers keep the raw octet alongside.
///
/// With the `serde` feature a state is written as its Appendix B word (`"DELIVRD"`), the
/// form scenario files use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageState {
    /// ENROUTE (1), `ENROUTE`: not yet delivered, the only intermediate state.
    Enroute = 1,
    /// DELIVERED (2), `DELIVRD`: delivered to the destination.
    Delivered = 2,
    /// EXPIRED (3), `EXPIRED`: the validity period expired.
    Expired = 3,
    /// DELETED (4), `DELETED`: the message was deleted (cancelled).
    Deleted = 4,
    /// UNDELIVERABLE (5), `UNDELIV`: undeliverable.
    Undeliverable = 5,
    /// ACCEPTED (6), `ACCEPTD`: accepted, e.g. read on the subscriber's behalf by customer
    /// service.
    Accepted = 6,
    /// UNKNOWN (7), `UNKNOWN`: the message is in an invalid state.
    Unknown = 7,
    /// REJECTED (8), `REJECTD`: rejected.
    Rejected = 8,
}

impl MessageState {
    /// Every state, in value order.
    pub const ALL: [MessageState; 8] = [
        MessageState::Enroute,
        MessageState::Delivered,
        MessageState::Expired,
        MessageState::Deleted,
        MessageState::Undeliverable,
        MessageState::Accepted,
        MessageState::Unknown,
        MessageState::Rejected,
    ];

    /// The state with value `v` (section 5.2.28), or `None` outside 1-8.
    pub const fn from_u8(v: u8) -> Option<MessageState> {
        match v {
            1 => Some(MessageState::Enroute),
            2 => Some(MessageState::Delivered),
            3 => Some(MessageState::Expired),
            4 => Some(MessageState::Deleted),
            5 => Some(MessageState::Undeliverable),
            6 => Some(MessageState::Accepted),
            7 => Some(MessageState::Unknown),
            8 => Some(MessageState::Rejected),
            _ => None,
        }
    }

    /// The wire value (section 5.2.28).
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The name Table 5-6 gives the state, e.g. `"UNDELIVERABLE"`.
    pub const fn name(self) -> &'static str {
        match self {
            MessageState::Enroute => "ENROUTE",
            MessageState::Delivered => "DELIVERED",
            MessageState::Expired => "EXPIRED",
            MessageState::Deleted => "DELETED",
            MessageState::Undeliverable => "UNDELIVERABLE",
            MessageState::Accepted => "ACCEPTED",
            MessageState::Unknown => "UNKNOWN",
            MessageState::Rejected => "REJECTED",
        }
    }

    /// The 7-letter word of Appendix B, Table B-2, that a receipt's `stat:` carries, e.g.
    /// `"DELIVRD"`.
    pub const fn word(self) -> &'static str {
        match self {
            MessageState::Enroute => "ENROUTE",
            MessageState::Delivered => "DELIVRD",
            MessageState::Expired => "EXPIRED",
            MessageState::Deleted => "DELETED",
            MessageState::Undeliverable => "UNDELIV",
            MessageState::Accepted => "ACCEPTD",
            MessageState::Unknown => "UNKNOWN",
            MessageState::Rejected => "REJECTD",
        }
    }

    /// Reads a receipt's status word, ignoring ASCII case and surrounding spaces, tabs, CR,
    /// LF and NUL. Accepts the Table B-2 words, the Table 5-6 names (`DELIVERED`,
    /// `UNDELIVERABLE`, `ACCEPTED`, `REJECTED`, ...) and `UNDELIVERED`. `None` for anything
    /// else; a receipt keeps the raw word (see [`crate::receipt::Receipt::stat_raw`]).
    pub fn parse(word: &str) -> Option<MessageState> {
        Self::parse_word(word.trim_matches([' ', '\t', '\r', '\n', '\0']).as_bytes())
    }

    /// [`MessageState::parse`] of a word that has no surrounding separators.
    pub(crate) fn parse_word(word: &[u8]) -> Option<MessageState> {
        const OTHER_SPELLINGS: [(&[u8], MessageState); 5] = [
            (b"DELIVERED", MessageState::Delivered),
            (b"UNDELIVERABLE", MessageState::Undeliverable),
            (b"UNDELIVERED", MessageState::Undeliverable),
            (b"REJECTED", MessageState::Rejected),
            (b"ACCEPTED", MessageState::Accepted),
        ];
        Self::ALL
            .iter()
            .map(|&s| (s.word().as_bytes(), s))
            .chain(OTHER_SPELLINGS)
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|(_, s)| s)
    }

    /// Whether no later receipt is expected: every state but ENROUTE, the only intermediate
    /// state of SMPP 3.4 (Table B-2 lists the others as final).
    pub const fn is_final(self) -> bool {
        !matches!(self, MessageState::Enroute)
    }
}

impl fmt::Display for MessageState {
    /// The Table 5-6 name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MessageState> for u8 {
    fn from(s: MessageState) -> u8 {
        s.as_u8()
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! The Appendix B word, exactly as Table B-2 spells it.
    use super::MessageState;
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for MessageState {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.word())
        }
    }

    impl<'de> Deserialize<'de> for MessageState {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            const WORDS: &[&str] = &[
                "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN",
                "REJECTD",
            ];
            let word = String::deserialize(d)?;
            MessageState::ALL
                .into_iter()
                .find(|s| s.word() == word)
                .ok_or_else(|| de::Error::unknown_variant(&word, WORDS))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_names_and_words() {
        for (s, v) in MessageState::ALL.into_iter().zip(1..=8u8) {
            assert_eq!(MessageState::from_u8(v), Some(s));
            assert_eq!(s.as_u8(), v);
            assert_eq!(u8::from(s), v);
            assert_eq!(s.word().len(), 7);
            assert_eq!(MessageState::parse(s.word()), Some(s));
            assert_eq!(MessageState::parse(s.name()), Some(s));
        }
        assert_eq!(MessageState::from_u8(0), None); // SMPP 5.0 SCHEDULED
        assert_eq!(MessageState::from_u8(9), None); // SMPP 5.0 SKIPPED
        assert_eq!(MessageState::from_u8(255), None);
        assert_eq!(MessageState::Undeliverable.to_string(), "UNDELIVERABLE");
        assert_eq!(MessageState::Undeliverable.word(), "UNDELIV");
        assert!(!MessageState::Enroute.is_final());
        assert!(MessageState::Delivered.is_final());
        assert!(MessageState::Unknown.is_final());
    }

    #[test]
    fn status_words_are_read_tolerantly() {
        assert_eq!(
            MessageState::parse("delivrd"),
            Some(MessageState::Delivered)
        );
        assert_eq!(
            MessageState::parse(" Delivered "),
            Some(MessageState::Delivered)
        );
        assert_eq!(
            MessageState::parse("UNDELIVERABLE"),
            Some(MessageState::Undeliverable)
        );
        assert_eq!(
            MessageState::parse("undelivered\0"),
            Some(MessageState::Undeliverable)
        );
        assert_eq!(
            MessageState::parse("Rejected"),
            Some(MessageState::Rejected)
        );
        assert_eq!(
            MessageState::parse("ACCEPTED"),
            Some(MessageState::Accepted)
        );
        assert_eq!(MessageState::parse("deleted"), Some(MessageState::Deleted));
        assert_eq!(MessageState::parse("DELIV"), None);
        assert_eq!(MessageState::parse(""), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_form_is_the_appendix_b_word() {
        for s in MessageState::ALL {
            let json = serde_json::to_string(&s).expect("serializes");
            assert_eq!(json, format!("\"{}\"", s.word()));
            assert_eq!(serde_json::from_str::<MessageState>(&json).ok(), Some(s));
        }
        let err = serde_json::from_str::<MessageState>("\"DELIVERED\"")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(err.contains("unknown variant `DELIVERED`"), "{err}");
        assert!(serde_json::from_str::<MessageState>("\"delivrd\"").is_err());
    }
}
