//! Message ids across their forms: the same message may be `1A2B` in submit_sm_resp and
//! `6699` in its receipt (hex on one side, decimal on the other), with leading zeros, a `0x`
//! prefix or padding NULs. [`normalize_message_id`] when each side's form is known,
//! [`message_ids_match`] when it is not.

use super::lossy;
use super::scanner::trim;

/// How one side writes its message ids, for [`normalize_message_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdRadix {
    /// Decimal digits (the Appendix B table says "Decimal").
    Decimal,
    /// Hexadecimal digits, either case, optional `0x` prefix.
    Hex,
    /// Not a number: compared as the exact string.
    Opaque,
}

/// A message id reduced to a comparable key by [`normalize_message_id`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageIdKey {
    /// The id's numeric value.
    Number(u64),
    /// The id as a string: trimmed; for a too-long hex or decimal number, lowercased and
    /// without leading zeros (and `0x`).
    Opaque(String),
}

/// Reduces `id` to a key for looking receipts up when the radix each side uses is known
/// (per-SMSC configuration): normalise the `submit_sm_resp` id with the radix the SMSC
/// uses there and the receipt id with the radix it uses in receipts; the keys are equal
/// exactly when the ids denote the same message. Surrounding whitespace and NULs are
/// ignored; an id that is not a number in `radix` becomes [`MessageIdKey::Opaque`].
pub fn normalize_message_id(id: &str, radix: IdRadix) -> MessageIdKey {
    let bytes = trim(id.as_bytes());
    let numeric = match radix {
        IdRadix::Decimal => digits(bytes, 10).map(|d| (d, parse_radix(d, 10))),
        IdRadix::Hex => digits(strip_0x(bytes), 16).map(|d| (d, parse_radix(d, 16))),
        IdRadix::Opaque => None,
    };
    match numeric {
        Some((_, Some(n))) => MessageIdKey::Number(n),
        Some((d, None)) => MessageIdKey::Opaque(lossy(strip_zeros(d)).to_ascii_lowercase()),
        None => MessageIdKey::Opaque(lossy(bytes)),
    }
}

/// Whether two message ids may denote the same message when the radix of neither is known.
///
/// True when (after trimming whitespace and NULs, both non-empty) the ids are equal; or
/// both are numbers of the same value read as decimal/decimal, hex/hex (any case, leading
/// zeros and a `0x` prefix ignored), or one as hex and the other as decimal — the carrier
/// quirk where `submit_sm_resp` carries `1A2B` and the receipt `6699`, or the reverse.
/// Opaque ids (UUIDs, base-62...) match only exactly, case included.
///
/// **Ambiguity:** an all-digit id is both a decimal and a hex number, so `"10"` and `"16"`
/// match (hex 10 = decimal 16) although two decimal ids 10 and 16 are different messages.
/// Ids that are different under every reading (`"123"` / `"124"`) never match. When the
/// radix of each side is known, compare [`normalize_message_id`] keys instead.
pub fn message_ids_match(a: &str, b: &str) -> bool {
    let (a, b) = (trim(a.as_bytes()), trim(b.as_bytes()));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let readings = |id: &[u8]| {
        let dec = digits(id, 10).and_then(|d| parse_radix(d, 10));
        let hex = digits(strip_0x(id), 16).and_then(|d| parse_radix(d, 16));
        [dec, hex]
    };
    let (ra, rb) = (readings(a), readings(b));
    if ra
        .iter()
        .flatten()
        .any(|x| rb.iter().flatten().any(|y| x == y))
    {
        return true;
    }
    // Hex ids too long for u64 (e.g. 32-digit) still compare case-insensitively.
    match (digits(strip_0x(a), 16), digits(strip_0x(b), 16)) {
        (Some(da), Some(db)) => strip_zeros(da).eq_ignore_ascii_case(strip_zeros(db)),
        _ => false,
    }
}

/// `bytes` if non-empty and made only of digits of `radix` (10 or 16).
pub(super) fn digits(bytes: &[u8], radix: u32) -> Option<&[u8]> {
    let ok = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| char::from(b).is_digit(radix) && b.is_ascii());
    ok.then_some(bytes)
}

/// The value of `digits` (already checked by [`digits`]) in `radix`; `None` on overflow.
pub(super) fn parse_radix(digits: &[u8], radix: u32) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = char::from(b).to_digit(radix)?;
        acc.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
    })
}

fn strip_0x(bytes: &[u8]) -> &[u8] {
    match bytes {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => bytes,
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b'0').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_match_hex_vs_decimal() {
        assert!(message_ids_match("1A2B", "6699"));
        assert!(message_ids_match("6699", "1a2b"));
        assert!(message_ids_match("0x1A2B", "6699"));
        assert!(message_ids_match("ff", "255"));
        assert!(message_ids_match("1000", "4096"));
        assert!(message_ids_match("000000FF", "0255"));
    }

    #[test]
    fn ids_match_exact_and_case() {
        assert!(message_ids_match("abc-123", "abc-123"));
        assert!(message_ids_match("ABCDEF", "abcdef"));
        assert!(message_ids_match(" 42\0", "42"));
        assert!(message_ids_match("0042", "42"));
        // 32-digit hex: beyond u64, still case-insensitive with leading zeros ignored.
        assert!(message_ids_match(
            "00ABCDEF0123456789ABCDEF01234567",
            "abcdef0123456789abcdef01234567"
        ));
    }

    #[test]
    fn ids_different_numbers_do_not_match() {
        assert!(!message_ids_match("123", "124"));
        assert!(!message_ids_match("FF", "254"));
        assert!(!message_ids_match("1A2B", "6698"));
        assert!(!message_ids_match("", ""));
        assert!(!message_ids_match("1", ""));
    }

    #[test]
    fn ids_opaque_strings() {
        assert!(!message_ids_match("abc-123", "ABC-123"));
        assert!(!message_ids_match("aB3x", "Ab3x"));
        assert!(!message_ids_match("ce5bc5a9-4f7d", "ce5bc5a9-4f7e"));
    }

    #[test]
    fn ids_all_digit_ambiguity_documented() {
        // hex "10" == decimal 16: the documented ambiguity.
        assert!(message_ids_match("10", "16"));
        assert_ne!(
            normalize_message_id("10", IdRadix::Decimal),
            normalize_message_id("16", IdRadix::Decimal)
        );
    }

    #[test]
    fn normalize_ids() {
        assert_eq!(
            normalize_message_id("1A2B", IdRadix::Hex),
            normalize_message_id("6699", IdRadix::Decimal)
        );
        assert_eq!(
            normalize_message_id("0x00ff", IdRadix::Hex),
            MessageIdKey::Number(255)
        );
        assert_eq!(
            normalize_message_id(" 007 ", IdRadix::Decimal),
            MessageIdKey::Number(7)
        );
        assert_eq!(
            normalize_message_id("abc", IdRadix::Decimal),
            MessageIdKey::Opaque("abc".into())
        );
        assert_eq!(
            normalize_message_id("42", IdRadix::Opaque),
            MessageIdKey::Opaque("42".into())
        );
        assert_eq!(
            normalize_message_id("00ABCDEF0123456789ABCDEF01234567", IdRadix::Hex),
            MessageIdKey::Opaque("abcdef0123456789abcdef01234567".into())
        );
        assert_eq!(
            normalize_message_id("99999999999999999999999", IdRadix::Decimal),
            MessageIdKey::Opaque("99999999999999999999999".into())
        );
    }

    proptest! {
        #[test]
        fn prop_ids_match_is_symmetric_and_reflexive(a in "[0-9a-fA-F]{1,20}", b in "[0-9a-fA-F]{1,20}") {
            prop_assert_eq!(message_ids_match(&a, &b), message_ids_match(&b, &a));
            prop_assert!(message_ids_match(&a, &a));
        }

        #[test]
        fn prop_hex_matches_its_decimal(n in any::<u64>()) {
            let hex = format!("{:X}", n);
            prop_assert!(message_ids_match(&hex, &n.to_string()));
            prop_assert!(!message_ids_match(&n.to_string(), &n.wrapping_add(1).to_string()) || n == u64::MAX);
        }
    }
}
