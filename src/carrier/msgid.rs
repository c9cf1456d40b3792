//! The carrier's message-id forms: the key a `submit_sm_resp` message id is indexed under,
//! the key a receipt's id is looked up by under each form (as is, hex→decimal,
//! decimal→hex), and a matcher that learns the form from the first receipts when the
//! configuration says `auto` ([`MessageIdForm`], the configuration's `message_id`).
//!
//! The message id is the SMSC's own, opaque handle (5.2.23); Appendix B receipts often
//! carry it in another base — `submit_sm_resp` says `1A2B`, the receipt `id:6699`. The
//! parsing and comparing of ids is `smpp::receipt`'s ([`normalize_message_id`]); this
//! module chooses, per carrier, which reading of each side to compare.
//!
//! **The key.** Every id is indexed as the `submit_sm_resp` writes it, canonicalised: an id
//! made only of hex digits (decimal ids included) is lowercased with its leading zeros and
//! any `0x` dropped (`"0x00FF"` → `"ff"`, `"0042"` → `"42"`); any other id is kept exactly,
//! case included (`"ce5b-A1"`). A receipt's id is turned into that same shape by its
//! carrier's form: under hex→decimal the receipt's decimal `6699` becomes `"1a2b"`; under
//! decimal→hex its hex `1A2B` becomes `"6699"`. Both sides of a match therefore meet on one
//! key, whatever the form, so the index never depends on a form still being learnt.
//!
//! **Overflow.** A conversion needs the id's value, which `smpp` reads as a `u64` (up to
//! `FFFFFFFFFFFFFFFF`, `18446744073709551615`). A larger id cannot be converted: it has a
//! key as is (a long hex id still lowercased and without leading zeros), but no converted
//! key.

use core::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smpp::receipt::{normalize_message_id, IdRadix, MessageIdKey};

/// How many agreeing receipts `auto` waits for before it commits to a form.
pub const DEFAULT_AUTO_THRESHOLD: u32 = 3;

/// A message id in the canonical shape both sides of a match are reduced to (see the
/// module documentation); what the outbox indexes submitted messages by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdKey(String);

impl IdKey {
    /// The key of a `submit_sm_resp` message id, or `None` for an empty one (whitespace and
    /// NULs around it ignored). Applied to a key's own text it gives the same key back, so
    /// keys read back from storage can be rebuilt with it.
    pub fn of_submitted(message_id: &str) -> Option<IdKey> {
        let key = match normalize_message_id(message_id, IdRadix::Hex) {
            MessageIdKey::Number(n) => format!("{n:x}"),
            MessageIdKey::Opaque(text) => text,
        };
        (!key.is_empty()).then_some(IdKey(key))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a carrier's receipts write the message id its `submit_sm_resp` gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdForm {
    /// The same id (up to hex case and leading zeros).
    AsIs,
    /// `submit_sm_resp` in hex, receipts in decimal.
    HexToDec,
    /// `submit_sm_resp` in decimal, receipts in hex.
    DecToHex,
}

impl IdForm {
    /// Every form, in the order `auto` tries them.
    pub const ALL: [IdForm; 3] = [IdForm::AsIs, IdForm::HexToDec, IdForm::DecToHex];

    /// The form's name as the configuration writes it: `as_is`, `hex_to_dec`, `dec_to_hex`.
    pub const fn as_str(self) -> &'static str {
        match self {
            IdForm::AsIs => "as_is",
            IdForm::HexToDec => "hex_to_dec",
            IdForm::DecToHex => "dec_to_hex",
        }
    }

    /// The form named `name` (as [`IdForm::as_str`] writes it), e.g. a learnt form read back.
    pub fn parse(name: &str) -> Option<IdForm> {
        IdForm::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The key the submitted message of a receipt with id `receipt_id` was indexed under,
    /// if the carrier uses this form; `None` when the id cannot be in this form (not a
    /// number of the receipt side's base, longer than a `u64`, or empty).
    pub fn receipt_key(self, receipt_id: &str) -> Option<IdKey> {
        match self {
            IdForm::AsIs => IdKey::of_submitted(receipt_id),
            IdForm::HexToDec => match normalize_message_id(receipt_id, IdRadix::Decimal) {
                MessageIdKey::Number(n) => Some(IdKey(format!("{n:x}"))),
                MessageIdKey::Opaque(_) => None,
            },
            IdForm::DecToHex => match normalize_message_id(receipt_id, IdRadix::Hex) {
                MessageIdKey::Number(n) => IdKey::of_submitted(&n.to_string()),
                MessageIdKey::Opaque(_) => None,
            },
        }
    }
}

impl fmt::Display for IdForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A carrier's configured message-id form, `message_id` in the configuration: one of the
/// [`IdForm`]s by its name, or `auto` to learn it from the first receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageIdForm {
    /// This form, always.
    Fixed(IdForm),
    /// Learnt from [`DEFAULT_AUTO_THRESHOLD`] agreeing receipts.
    #[default]
    Auto,
}

impl MessageIdForm {
    /// The name of [`MessageIdForm::Auto`].
    pub const AUTO: &'static str = "auto";

    /// Every name, as the configuration accepts them.
    pub const NAMES: [&'static str; 4] = [
        IdForm::AsIs.as_str(),
        IdForm::HexToDec.as_str(),
        IdForm::DecToHex.as_str(),
        MessageIdForm::AUTO,
    ];

    /// Its name: the form's ([`IdForm::as_str`]) or `auto`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageIdForm::Fixed(form) => form.as_str(),
            MessageIdForm::Auto => MessageIdForm::AUTO,
        }
    }

    /// The form named `name`.
    pub fn parse(name: &str) -> Option<MessageIdForm> {
        if name == MessageIdForm::AUTO {
            return Some(MessageIdForm::Auto);
        }
        IdForm::parse(name).map(MessageIdForm::Fixed)
    }

    /// A matcher for a carrier with this setting: fixed to the form, or learning it.
    pub fn matcher(self) -> IdMatcher {
        match self {
            MessageIdForm::Fixed(form) => IdMatcher::fixed(form),
            MessageIdForm::Auto => IdMatcher::auto(DEFAULT_AUTO_THRESHOLD),
        }
    }
}

impl fmt::Display for MessageIdForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MessageIdForm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageIdForm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        MessageIdForm::parse(&name)
            .ok_or_else(|| D::Error::unknown_variant(&name, &MessageIdForm::NAMES))
    }
}

/// What [`IdMatcher::find`] made of a receipt id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMatch<T> {
    /// The receipt belongs to the message indexed under `key`, whose lookup gave `value`.
    Matched {
        /// The key that matched.
        key: IdKey,
        /// What the lookup returned for it.
        value: T,
        /// `Some(form)` on the receipt that completed learning: log and persist the form,
        /// and run the receipts kept while learning through the matcher again.
        learnt: Option<IdForm>,
    },
    /// The form is still being learnt: nothing is matched on a guess. Keep the receipt as an
    /// unmatched one; it matches once the form is learnt.
    Learning,
    /// No submitted message has this id under the carrier's form (not submitted yet, its
    /// `submit_sm_resp` not processed yet, or unknown): count it and keep it.
    Unmatched,
}

/// The state of an [`IdMatcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// The form is configured or learnt.
    Known(IdForm),
    /// `auto`, not yet committed.
    Learning {
        /// Agreeing receipts needed to commit.
        threshold: u32,
        /// The form the latest unambiguous receipts agreed on, and how many in a row.
        streak: Option<(IdForm, u32)>,
    },
}

/// Matches receipt ids of one carrier to submitted messages, under a configured form or
/// one learnt from the first receipts (`auto`).
///
/// Learning: each receipt is looked up under every form. A receipt found under exactly one
/// form votes for it (found as is, or found after one conversion and not as is); a receipt
/// found under none, or under two (an all-digit id can be both), votes for nothing. When
/// `threshold` votes in a row agree, the matcher commits to that form, reports it once
/// ([`IdMatch::Matched::learnt`]) and from then on looks up under that form only. Until
/// then nothing is matched ([`IdMatch::Learning`]), so a receipt racing its
/// `submit_sm_resp` can never be pinned on another message by a conversion that happened
/// to hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMatcher {
    /// Known form or learning progress.
    state: State,
}

impl IdMatcher {
    /// A matcher for a carrier whose form is configured.
    pub fn fixed(form: IdForm) -> IdMatcher {
        IdMatcher {
            state: State::Known(form),
        }
    }

    /// A matcher that learns the form from `threshold` agreeing receipts (0 counts as 1).
    pub fn auto(threshold: u32) -> IdMatcher {
        IdMatcher {
            state: State::Learning {
                threshold: threshold.max(1),
                streak: None,
            },
        }
    }

    /// The configured or learnt form; `None` while learning.
    pub fn form(&self) -> Option<IdForm> {
        match self.state {
            State::Known(form) => Some(form),
            State::Learning { .. } => None,
        }
    }

    /// Looks the receipt id `receipt_id` up with `lookup` (key → the indexed message, if
    /// any) under the carrier's form, or while learning under every form (see the type's
    /// documentation).
    pub fn find<T>(
        &mut self,
        receipt_id: &str,
        mut lookup: impl FnMut(&IdKey) -> Option<T>,
    ) -> IdMatch<T> {
        let (threshold, streak) = match &mut self.state {
            State::Known(form) => {
                return match look(*form, receipt_id, &mut lookup) {
                    Some((key, value)) => IdMatch::Matched {
                        key,
                        value,
                        learnt: None,
                    },
                    None => IdMatch::Unmatched,
                }
            }
            State::Learning { threshold, streak } => (*threshold, streak),
        };
        let mut found = IdForm::ALL
            .into_iter()
            .filter_map(|form| look(form, receipt_id, &mut lookup).map(|hit| (form, hit)));
        let (form, (key, value)) = match (found.next(), found.next()) {
            (Some(only), None) => only,
            (None, _) => return IdMatch::Unmatched,
            (Some(_), Some(_)) => return IdMatch::Learning,
        };
        let agreeing = match *streak {
            Some((f, n)) if f == form => n.saturating_add(1),
            _ => 1,
        };
        if agreeing < threshold {
            *streak = Some((form, agreeing));
            return IdMatch::Learning;
        }
        self.state = State::Known(form);
        IdMatch::Matched {
            key,
            value,
            learnt: Some(form),
        }
    }
}

/// `receipt_id` looked up under `form`: its key and what `lookup` found.
fn look<T>(
    form: IdForm,
    receipt_id: &str,
    lookup: &mut impl FnMut(&IdKey) -> Option<T>,
) -> Option<(IdKey, T)> {
    let key = form.receipt_key(receipt_id)?;
    let value = lookup(&key)?;
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn key(id: &str) -> IdKey {
        IdKey::of_submitted(id).unwrap_or_else(|| panic!("no key for {id:?}"))
    }

    /// An index of submitted ids → message numbers, as the outbox would keep it.
    fn index(ids: &[(&str, u32)]) -> HashMap<IdKey, u32> {
        ids.iter().map(|&(id, n)| (key(id), n)).collect()
    }

    #[test]
    fn a_submitted_id_is_keyed_lowercase_without_leading_zeros_or_0x() {
        assert_eq!(key("1A2B").as_str(), "1a2b");
        assert_eq!(key("0x00FF").as_str(), "ff");
        assert_eq!(key("000042").as_str(), "42");
        assert_eq!(key("0").as_str(), "0");
        assert_eq!(key(" 77\0").as_str(), "77");
        assert_eq!(key("ce5b-A1").as_str(), "ce5b-A1");
        assert_eq!(key("ce5b-A1").to_string(), "ce5b-A1");
    }

    #[test]
    fn an_empty_id_has_no_key() {
        assert_eq!(IdKey::of_submitted(""), None);
        assert_eq!(IdKey::of_submitted(" \0\r\n"), None);
        for form in IdForm::ALL {
            assert_eq!(form.receipt_key(""), None, "{form}");
        }
    }

    #[test]
    fn hex_to_dec_finds_a_hex_submit_by_its_decimal_receipt() {
        assert_eq!(IdForm::HexToDec.receipt_key("6699"), Some(key("1A2B")));
        assert_eq!(IdForm::HexToDec.receipt_key("0255"), Some(key("000000FF")));
        assert_eq!(IdForm::HexToDec.receipt_key("1a2b"), None, "not decimal");
    }

    #[test]
    fn dec_to_hex_finds_a_decimal_submit_by_its_hex_receipt() {
        assert_eq!(IdForm::DecToHex.receipt_key("1A2B"), Some(key("6699")));
        assert_eq!(IdForm::DecToHex.receipt_key("0x1a2b"), Some(key("6699")));
        assert_eq!(IdForm::DecToHex.receipt_key("ff"), Some(key("255")));
        assert_eq!(IdForm::DecToHex.receipt_key("not-hex"), None);
    }

    #[test]
    fn as_is_ignores_hex_case_and_zeros_but_keeps_opaque_ids_exact() {
        assert_eq!(IdForm::AsIs.receipt_key("00abcdef"), Some(key("ABCDEF")));
        assert_eq!(IdForm::AsIs.receipt_key("6699"), Some(key("6699")));
        assert_ne!(IdForm::AsIs.receipt_key("6699"), Some(key("1A2B")));
        assert_ne!(IdForm::AsIs.receipt_key("abc-123"), Some(key("ABC-123")));
    }

    #[test]
    fn ids_longer_than_u64_stay_strings_and_match_only_as_is() {
        let long_hex = "00ABCDEF0123456789ABCDEF01234567";
        assert_eq!(key(long_hex).as_str(), "abcdef0123456789abcdef01234567");
        assert_eq!(
            IdForm::AsIs.receipt_key("abcdef0123456789ABCDEF01234567"),
            Some(key(long_hex))
        );
        assert_eq!(IdForm::DecToHex.receipt_key(long_hex), None);
        let long_dec = "123456789012345678901234567890";
        assert_eq!(key(long_dec).as_str(), long_dec);
        assert_eq!(IdForm::HexToDec.receipt_key(long_dec), None);
        // The largest value that converts: u64::MAX both ways.
        assert_eq!(
            IdForm::HexToDec.receipt_key("18446744073709551615"),
            Some(key("FFFFFFFFFFFFFFFF"))
        );
        assert_eq!(
            IdForm::DecToHex.receipt_key("FFFFFFFFFFFFFFFF"),
            Some(key("18446744073709551615"))
        );
    }

    #[test]
    fn form_names_round_trip() {
        for form in IdForm::ALL {
            assert_eq!(IdForm::parse(form.as_str()), Some(form));
        }
        assert_eq!(IdForm::parse("hex_to_dec"), Some(IdForm::HexToDec));
        assert_eq!(IdForm::parse("auto"), None);
    }

    #[test]
    fn the_configured_form_is_a_fixed_form_or_auto_by_name() {
        for name in MessageIdForm::NAMES {
            let form = MessageIdForm::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(form.as_str(), name);
            let json = serde_json::to_string(&form).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<MessageIdForm>(&json).ok(),
                Some(form)
            );
        }
        assert_eq!(
            MessageIdForm::NAMES,
            ["as_is", "hex_to_dec", "dec_to_hex", "auto"]
        );
        assert_eq!(MessageIdForm::default(), MessageIdForm::Auto);
        let err = serde_json::from_str::<MessageIdForm>("\"hex\"")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| {
                e.contains(
                "unknown variant `hex`, expected one of `as_is`, `hex_to_dec`, `dec_to_hex`, `auto`"
            )
            }),
            "{err:?}"
        );
        assert_eq!(
            MessageIdForm::Fixed(IdForm::HexToDec).matcher().form(),
            Some(IdForm::HexToDec)
        );
        let mut auto = MessageIdForm::Auto.matcher();
        assert_eq!(auto.form(), None);
        // Learning takes DEFAULT_AUTO_THRESHOLD agreeing receipts.
        let idx = index(&[("1A2B", 1), ("1A2C", 2), ("1A2D", 3)]);
        for (i, id) in ["6699", "6700", "6701"].into_iter().enumerate() {
            let learnt = matches!(
                auto.find(id, |k| idx.get(k).copied()),
                IdMatch::Matched { .. }
            );
            assert_eq!(learnt, i + 1 == DEFAULT_AUTO_THRESHOLD as usize, "{id}");
        }
        assert_eq!(auto.form(), Some(IdForm::HexToDec));
    }

    #[test]
    fn a_fixed_form_matches_only_under_that_form() {
        let idx = index(&[("1A2B", 1), ("6699", 2)]);
        let mut m = IdMatcher::fixed(IdForm::HexToDec);
        assert_eq!(
            m.find("6699", |k| idx.get(k).copied()),
            IdMatch::Matched {
                key: key("1a2b"),
                value: 1,
                learnt: None
            }
        );
        let mut as_is = IdMatcher::fixed(IdForm::AsIs);
        assert!(matches!(
            as_is.find("6699", |k| idx.get(k).copied()),
            IdMatch::Matched { value: 2, .. }
        ));
        assert_eq!(
            as_is.find("1a2c", |k| idx.get(k).copied()),
            IdMatch::Unmatched
        );
        assert_eq!(as_is.form(), Some(IdForm::AsIs));
    }

    #[test]
    fn auto_learns_hex_to_dec_from_three_agreeing_receipts_and_reports_it_once() {
        let idx = index(&[("1A2B", 1), ("1A2C", 2), ("1A2D", 3), ("1A2E", 4)]);
        let mut m = IdMatcher::auto(3);
        assert_eq!(m.find("6699", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(m.find("6700", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(m.form(), None);
        assert_eq!(
            m.find("6701", |k| idx.get(k).copied()),
            IdMatch::Matched {
                key: key("1a2d"),
                value: 3,
                learnt: Some(IdForm::HexToDec)
            }
        );
        assert_eq!(m.form(), Some(IdForm::HexToDec));
        // The receipts kept while learning now match, and the form is not reported again.
        assert_eq!(
            m.find("6699", |k| idx.get(k).copied()),
            IdMatch::Matched {
                key: key("1a2b"),
                value: 1,
                learnt: None
            }
        );
    }

    #[test]
    fn auto_learns_dec_to_hex_and_as_is_too() {
        let idx = index(&[("6699", 1), ("6700", 2)]);
        let mut m = IdMatcher::auto(2);
        assert_eq!(m.find("1A2B", |k| idx.get(k).copied()), IdMatch::Learning);
        assert!(matches!(
            m.find("1a2c", |k| idx.get(k).copied()),
            IdMatch::Matched {
                value: 2,
                learnt: Some(IdForm::DecToHex),
                ..
            }
        ));
        let opaque = index(&[("msg-A", 1), ("msg-B", 2)]);
        let mut m = IdMatcher::auto(2);
        assert_eq!(
            m.find("msg-A", |k| opaque.get(k).copied()),
            IdMatch::Learning
        );
        assert!(matches!(
            m.find("msg-B", |k| opaque.get(k).copied()),
            IdMatch::Matched {
                learnt: Some(IdForm::AsIs),
                ..
            }
        ));
    }

    #[test]
    fn a_receipt_found_under_two_forms_votes_for_neither() {
        // "16" is decimal 16 = hex 10, and hex 16 = decimal 22: found as is and both ways.
        let idx = index(&[("16", 1), ("10", 2), ("22", 3), ("abc", 4)]);
        let mut m = IdMatcher::auto(1);
        assert_eq!(m.find("16", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(m.form(), None);
        // Found under exactly one form: with a threshold of 1 that commits at once.
        assert!(matches!(
            m.find("ABC", |k| idx.get(k).copied()),
            IdMatch::Matched {
                value: 4,
                learnt: Some(IdForm::AsIs),
                ..
            }
        ));
    }

    #[test]
    fn a_disagreeing_receipt_restarts_the_count() {
        let idx = index(&[("1A2B", 1), ("1A2C", 2), ("msg-x", 3), ("1A2D", 4)]);
        let mut m = IdMatcher::auto(2);
        assert_eq!(m.find("6699", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(m.find("msg-x", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(m.find("6700", |k| idx.get(k).copied()), IdMatch::Learning);
        assert!(matches!(
            m.find("6701", |k| idx.get(k).copied()),
            IdMatch::Matched {
                learnt: Some(IdForm::HexToDec),
                ..
            }
        ));
    }

    #[test]
    fn a_receipt_that_matches_nothing_is_unmatched_and_casts_no_vote() {
        let idx = index(&[("1A2B", 1)]);
        let mut m = IdMatcher::auto(2);
        assert_eq!(m.find("6699", |k| idx.get(k).copied()), IdMatch::Learning);
        assert_eq!(
            m.find("999999", |k| idx.get(k).copied()),
            IdMatch::Unmatched
        );
        assert_eq!(m.find("", |k| idx.get(k).copied()), IdMatch::Unmatched);
        // The streak survives a receipt for an unknown message.
        assert!(matches!(
            m.find("6699", |k| idx.get(k).copied()),
            IdMatch::Matched {
                learnt: Some(IdForm::HexToDec),
                ..
            }
        ));
    }

    #[test]
    fn a_threshold_of_zero_counts_as_one() {
        let idx = index(&[("1A2B", 1)]);
        let mut m = IdMatcher::auto(0);
        assert!(matches!(
            m.find("6699", |k| idx.get(k).copied()),
            IdMatch::Matched {
                learnt: Some(IdForm::HexToDec),
                ..
            }
        ));
    }

    proptest! {
        #[test]
        fn prop_no_id_makes_anything_panic(id in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for id in [&id, &lossy] {
                let _ = IdKey::of_submitted(id);
                for form in IdForm::ALL {
                    let _ = form.receipt_key(id);
                }
                let mut m = IdMatcher::auto(2);
                let _ = m.find(id, |k| (k.as_str().len() % 2 == 0).then_some(()));
            }
        }

        #[test]
        fn prop_a_key_rebuilt_from_its_text_is_the_same_key(id in "[ -~]{0,40}") {
            if let Some(k) = IdKey::of_submitted(&id) {
                prop_assert_eq!(IdKey::of_submitted(k.as_str()), Some(k));
            }
        }

        #[test]
        fn prop_hex_submit_and_decimal_receipt_meet_on_one_key(n in any::<u64>(), zeros in 0usize..4, upper in any::<bool>()) {
            let hex = if upper { format!("{n:X}") } else { format!("{n:x}") };
            let submitted = format!("{}{hex}", "0".repeat(zeros));
            let receipt = format!("{}{n}", "0".repeat(zeros));
            prop_assert_eq!(IdForm::HexToDec.receipt_key(&receipt), IdKey::of_submitted(&submitted));
            prop_assert_eq!(IdForm::DecToHex.receipt_key(&submitted), IdKey::of_submitted(&receipt));
        }

        #[test]
        fn prop_as_is_receipt_key_is_the_submitted_key(id in any::<String>()) {
            prop_assert_eq!(IdForm::AsIs.receipt_key(&id), IdKey::of_submitted(&id));
        }

        #[test]
        fn prop_distinct_numbers_never_share_a_converted_key(a in any::<u64>(), b in any::<u64>()) {
            prop_assume!(a != b);
            prop_assert_ne!(IdForm::HexToDec.receipt_key(&a.to_string()), IdForm::HexToDec.receipt_key(&b.to_string()));
            prop_assert_ne!(IdForm::DecToHex.receipt_key(&format!("{a:x}")), IdForm::DecToHex.receipt_key(&format!("{b:x}")));
        }
    }
}
