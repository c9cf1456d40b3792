//! Text preparation per carrier: checks a text against a carrier's [`TextProfile`] (length,
//! the alphabets it takes, the Shift_JIS rule), chooses its encoding and long-message
//! method, and splits it into segments with `smpp::text`. A text that breaks a rule is
//! refused with an error naming the character or the length; it is never altered to fit.

use crate::store::{LongMessage, SplitPlan, TextEncoding};
use smpp::text::{gsm7, Encoding, Split};

/// The most characters a Japanese carrier profile takes by default (`max_length` of a
/// Japan profile in the configuration).
pub const JAPAN_MAX_CHARS: usize = 660;

/// What a carrier accepts as text. The configuration's per-carrier keys map onto this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextProfile {
    /// How a text longer than one short message is carried.
    pub long_message: LongMessage,
    /// Most characters (Unicode scalar values) a text may have; `None` leaves only the
    /// 255-segment limit of concatenation.
    pub max_chars: Option<usize>,
    /// Whether text outside the GSM 03.38 alphabet may go as UCS-2; `false`: the carrier
    /// takes GSM 7-bit only, and such text is refused.
    pub ucs2: bool,
    /// Whether the carrier takes only characters Shift_JIS can represent.
    pub shift_jis: ShiftJisRule,
}

impl Default for TextProfile {
    /// 8-bit-reference UDH, no length limit beyond 255 segments, any character.
    fn default() -> Self {
        TextProfile {
            long_message: LongMessage::Udh8,
            max_chars: None,
            ucs2: true,
            shift_jis: ShiftJisRule::Off,
        }
    }
}

impl TextProfile {
    /// The Japan profile: at most [`JAPAN_MAX_CHARS`] characters, Japanese text as UCS-2,
    /// with the given long-message method and Shift_JIS rule.
    pub fn japan(long_message: LongMessage, shift_jis: ShiftJisRule) -> TextProfile {
        TextProfile {
            long_message,
            max_chars: Some(JAPAN_MAX_CHARS),
            ucs2: true,
            shift_jis,
        }
    }
}

/// Where a carrier requires Shift_JIS-representable characters (au is reported to convert
/// single messages to Shift_JIS on its side, so a character outside it would be lost).
///
/// In the configuration (`japan.sjis_only`): `false` (off), `true` (every text) or
/// `"single_messages"`; written back the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShiftJisRule {
    /// Any character.
    #[default]
    Off,
    /// Only in texts that fit one short message.
    SingleMessages,
    /// In every text.
    All,
}

impl serde::Serialize for ShiftJisRule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ShiftJisRule::Off => serializer.serialize_bool(false),
            ShiftJisRule::All => serializer.serialize_bool(true),
            ShiftJisRule::SingleMessages => serializer.serialize_str("single_messages"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for ShiftJisRule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rule;
        impl serde::de::Visitor<'_> for Rule {
            type Value = ShiftJisRule;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false or \"single_messages\"")
            }
            fn visit_bool<E: serde::de::Error>(self, all: bool) -> Result<ShiftJisRule, E> {
                Ok(if all {
                    ShiftJisRule::All
                } else {
                    ShiftJisRule::Off
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ShiftJisRule, E> {
                match v {
                    "single_messages" => Ok(ShiftJisRule::SingleMessages),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(Rule)
    }
}

/// Why a text cannot go to a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextRefusal {
    /// The text is empty.
    #[error("the text is empty")]
    Empty,
    /// The text has more characters than the carrier takes.
    #[error("the text has {chars} characters, at most {max} are allowed")]
    TooLong {
        /// Characters in the text.
        chars: usize,
        /// The profile's limit.
        max: usize,
    },
    /// A character Shift_JIS cannot represent, for a carrier that takes only those.
    #[error(
        "character {ch:?} (U+{code:04X}) at position {position} cannot be represented in \
         Shift_JIS, which this carrier requires",
        code = u32::from(*ch)
    )]
    NotShiftJis {
        /// The character.
        ch: char,
        /// Its position in the text, in characters, counting from 1.
        position: usize,
    },
    /// A character outside GSM 03.38 (its default alphabet and extension table), for a
    /// carrier that takes GSM 7-bit only.
    #[error(
        "character {ch:?} (U+{code:04X}) at position {position} is not in the GSM 7-bit \
         alphabet (GSM 03.38), the only one this carrier takes",
        code = u32::from(*ch)
    )]
    NotGsm7 {
        /// The character.
        ch: char,
        /// Its position in the text, in characters, counting from 1.
        position: usize,
    },
    /// The text cannot be split (e.g. it needs more than 255 segments).
    #[error("the text cannot be split: {0}")]
    Split(#[from] smpp::text::TextError),
}

/// The smpp encoding of a stored one.
pub fn encoding(e: TextEncoding) -> Encoding {
    match e {
        TextEncoding::Gsm7 => Encoding::Gsm7,
        TextEncoding::Ucs2 => Encoding::Ucs2,
    }
}

/// Checks `text` against `profile` and plans its segments: GSM 03.38 when every character
/// fits, else UCS-2 (refused for a carrier without UCS-2); the profile's long-message
/// method; `reference` as the concatenation reference. Returns the plan to store and the
/// segments it gives.
///
/// # Errors
/// A [`TextRefusal`] naming the length or the character.
pub fn prepare(
    text: &str,
    profile: &TextProfile,
    reference: u16,
) -> Result<(SplitPlan, Split), TextRefusal> {
    if text.is_empty() {
        return Err(TextRefusal::Empty);
    }
    if let Some(max) = profile.max_chars {
        let chars = text.chars().count();
        if chars > max {
            return Err(TextRefusal::TooLong { chars, max });
        }
    }
    // GSM 03.38 when every character is in it (what `smpp::text::choose` picks), else UCS-2.
    let mut utf8 = [0u8; 4];
    let not_gsm7 = text
        .chars()
        .enumerate()
        .find(|(_, ch)| !gsm7::is_representable(ch.encode_utf8(&mut utf8)));
    let encoding = match not_gsm7 {
        None => TextEncoding::Gsm7,
        Some((i, ch)) if !profile.ucs2 => {
            return Err(TextRefusal::NotGsm7 {
                ch,
                position: i + 1,
            })
        }
        Some(_) => TextEncoding::Ucs2,
    };
    let plan = SplitPlan {
        encoding,
        method: profile.long_message,
        reference,
    };
    let split = segments(text, &plan)?;
    let check_shift_jis = match profile.shift_jis {
        ShiftJisRule::Off => false,
        ShiftJisRule::SingleMessages => !split.is_concatenated(),
        ShiftJisRule::All => true,
    };
    if check_shift_jis {
        shift_jis_representable(text)?;
    }
    Ok((plan, split))
}

/// The segments of `text` under a stored plan: the same octets, UDHs and reference every
/// time, so a resent segment is the one first sent.
///
/// # Errors
/// [`TextRefusal::Split`] if the text does not split under the plan.
pub fn segments(text: &str, plan: &SplitPlan) -> Result<Split, TextRefusal> {
    Ok(smpp::text::split(
        text,
        encoding(plan.encoding),
        plan.method.concat(),
        plan.reference,
    )?)
}

/// Checks that Shift_JIS (as the WHATWG Encoding Standard defines it, i.e. Windows-31J)
/// represents every character of `text`.
///
/// # Errors
/// [`TextRefusal::NotShiftJis`] naming the first character it does not.
pub fn shift_jis_representable(text: &str) -> Result<(), TextRefusal> {
    for (i, ch) in text.chars().enumerate() {
        if ch.is_ascii() {
            continue;
        }
        let mut utf8 = [0u8; 4];
        let (_, _, unmappable) = encoding_rs::SHIFT_JIS.encode(ch.encode_utf8(&mut utf8));
        if unmappable {
            return Err(TextRefusal::NotShiftJis {
                ch,
                position: i + 1,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn japanese(chars: usize) -> String {
        "日本語のテキスト".chars().cycle().take(chars).collect()
    }

    #[test]
    fn gsm_when_every_character_fits_else_ucs2() {
        let (plan, split) = prepare("Your code is 123456", &TextProfile::default(), 1).unwrap();
        assert_eq!(plan.encoding, TextEncoding::Gsm7);
        assert_eq!(split.segments.len(), 1);
        let (plan, _) = prepare("認証コード 123456", &TextProfile::default(), 1).unwrap();
        assert_eq!(plan.encoding, TextEncoding::Ucs2);
        // One character outside GSM 03.38 turns the whole text to UCS-2.
        let (plan, _) = prepare("code 123456 ✓", &TextProfile::default(), 1).unwrap();
        assert_eq!(plan.encoding, TextEncoding::Ucs2);
    }

    #[test]
    fn six_hundred_seventy_japanese_characters_make_ten_ucs2_segments() {
        let text = japanese(670);
        let (plan, split) = prepare(&text, &TextProfile::default(), 0x1234).unwrap();
        assert_eq!(plan.encoding, TextEncoding::Ucs2);
        assert_eq!(split.segments.len(), 10);
        // Udh8 keeps the low 8 bits of the reference, in every part.
        for seg in &split.segments {
            assert_eq!(seg.udh.as_deref().map(|u| u[3]), Some(0x34));
        }
        // Rebuilt from the stored plan: the very same segments.
        assert_eq!(segments(&text, &plan).unwrap(), split);
    }

    #[test]
    fn the_japan_profile_refuses_over_660_characters() {
        let profile = TextProfile::japan(LongMessage::Udh8, ShiftJisRule::Off);
        assert!(prepare(&japanese(660), &profile, 1).is_ok());
        let err = prepare(&japanese(661), &profile, 1).unwrap_err();
        assert_eq!(
            err,
            TextRefusal::TooLong {
                chars: 661,
                max: 660
            }
        );
        assert_eq!(
            err.to_string(),
            "the text has 661 characters, at most 660 are allowed"
        );
    }

    #[test]
    fn the_shift_jis_rule_names_the_character() {
        let au = TextProfile::japan(LongMessage::Udh8, ShiftJisRule::All);
        assert!(prepare("認証コードは１２３４です。ご利用ありがとう", &au, 1).is_ok());
        let err = prepare("𠮷野家のクーポン", &au, 1).unwrap_err();
        assert_eq!(
            err,
            TextRefusal::NotShiftJis {
                ch: '𠮷',
                position: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "character '𠮷' (U+20BB7) at position 1 cannot be represented in Shift_JIS, \
             which this carrier requires"
        );
        assert_eq!(
            prepare("ありがとう😀", &au, 1).unwrap_err(),
            TextRefusal::NotShiftJis {
                ch: '😀',
                position: 6
            }
        );
        // The same texts go to a carrier without the rule.
        assert!(prepare("ありがとう😀", &TextProfile::default(), 1).is_ok());
    }

    #[test]
    fn the_single_message_shift_jis_rule_spares_long_texts() {
        let au = TextProfile::japan(LongMessage::Udh8, ShiftJisRule::SingleMessages);
        assert!(matches!(
            prepare("ありがとう😀", &au, 1),
            Err(TextRefusal::NotShiftJis { ch: '😀', .. })
        ));
        let long = format!("{}😀", japanese(100));
        let (_, split) = prepare(&long, &au, 1).unwrap();
        assert_eq!(split.segments.len(), 2);
    }

    #[test]
    fn a_carrier_without_ucs2_refuses_text_outside_gsm_naming_the_character() {
        let gsm_only = TextProfile {
            ucs2: false,
            ..TextProfile::default()
        };
        // The extension table (€, [) is GSM 03.38 too.
        let (plan, _) = prepare("Code 1234: 5€ [ok]", &gsm_only, 1).unwrap();
        assert_eq!(plan.encoding, TextEncoding::Gsm7);
        let err = prepare("Code 1234 ✓", &gsm_only, 1).unwrap_err();
        assert_eq!(
            err,
            TextRefusal::NotGsm7 {
                ch: '✓',
                position: 11
            }
        );
        assert_eq!(
            err.to_string(),
            "character '✓' (U+2713) at position 11 is not in the GSM 7-bit alphabet \
             (GSM 03.38), the only one this carrier takes"
        );
        assert!(matches!(
            prepare("認証コード", &gsm_only, 1),
            Err(TextRefusal::NotGsm7 {
                ch: '認',
                position: 1
            })
        ));
    }

    #[test]
    fn empty_and_unsplittable_texts_are_refused() {
        assert_eq!(
            prepare("", &TextProfile::default(), 1),
            Err(TextRefusal::Empty)
        );
        let huge = "a".repeat(153 * 255 + 1);
        assert!(matches!(
            prepare(&huge, &TextProfile::default(), 1),
            Err(TextRefusal::Split(smpp::text::TextError::TooManySegments {
                needed: 256
            }))
        ));
        // ...unless the carrier takes one message_payload.
        let payload = TextProfile {
            long_message: LongMessage::Payload,
            ..TextProfile::default()
        };
        assert_eq!(prepare(&huge, &payload, 1).unwrap().1.segments.len(), 1);
    }
}
