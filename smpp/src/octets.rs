//! [`Octets`]: the borrowed-or-owned byte string every string field uses, its hex form
//! ([`to_hex`] / [`from_hex`], the workspace's one hex codec), and the bounded parsers, checks
//! and writers of the field types of section 3.1 (Integer, C-Octet String, short_message's
//! Octet String): their `Field` impls.

use crate::error::{EncodeError, FieldError, FieldErrorKind, PResult};
use crate::pdu::fields::{COctetString, Field, ShortMessage, Writer};
use bytes::BufMut;
use std::borrow::Cow;
use std::fmt;

/// A string field's octets: borrowed from the decoded frame (no allocation) or owned.
///
/// SMPP strings are octets, not Unicode: addresses and ids are ASCII, short_message is in
/// the encoding its data_coding names. [`Octets::to_str`] gives a `&str` when the octets are
/// UTF-8.
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Octets<'a>(Cow<'a, [u8]>);

impl<'a> Octets<'a> {
    /// Octets borrowed from `bytes`.
    pub const fn borrowed(bytes: &'a [u8]) -> Self {
        Octets(Cow::Borrowed(bytes))
    }

    /// The empty string (a lone NUL on the wire for a C-Octet String).
    pub const fn empty() -> Self {
        Octets(Cow::Borrowed(&[]))
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of octets (without a C-Octet String's NUL).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no octets.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The octets as text, when they are UTF-8 (ASCII always is).
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The octets as text, with invalid UTF-8 replaced.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Detaches from the frame the octets were borrowed from.
    pub fn into_owned(self) -> Octets<'static> {
        Octets(Cow::Owned(self.0.into_owned()))
    }

    /// True when every octet is printable ASCII (what an id or address should be).
    pub fn is_printable_ascii(&self) -> bool {
        self.0.iter().all(|b| (0x20..0x7f).contains(b))
    }
}

impl fmt::Debug for Octets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_printable_ascii() {
            write!(f, "{:?}", self.to_string_lossy())
        } else {
            write!(f, "0x{}", to_hex(&self.0))
        }
    }
}

impl fmt::Display for Octets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl<'a> From<&'a str> for Octets<'a> {
    fn from(s: &'a str) -> Self {
        Octets(Cow::Borrowed(s.as_bytes()))
    }
}

impl<'a> From<&'a [u8]> for Octets<'a> {
    fn from(s: &'a [u8]) -> Self {
        Octets(Cow::Borrowed(s))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Octets<'a> {
    fn from(s: &'a [u8; N]) -> Self {
        Octets(Cow::Borrowed(s.as_slice()))
    }
}

impl From<String> for Octets<'static> {
    fn from(s: String) -> Self {
        Octets(Cow::Owned(s.into_bytes()))
    }
}

impl From<Vec<u8>> for Octets<'static> {
    fn from(s: Vec<u8>) -> Self {
        Octets(Cow::Owned(s))
    }
}

impl PartialEq<str> for Octets<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Octets<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! JSON shape: a string when the octets are printable ASCII (ids, addresses, times),
    //! otherwise `{"hex": "..."}` so that any octets survive a round trip exactly.
    use super::Octets;
    use serde::de::{self, MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::fmt;

    impl Serialize for Octets<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.is_printable_ascii() {
                s.serialize_str(&self.to_string_lossy())
            } else {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("hex", &crate::octets::to_hex(self.as_bytes()))?;
                map.end()
            }
        }
    }

    impl<'de, 'a> Deserialize<'de> for Octets<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Octets<'static>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string or {\"hex\": \"...\"}")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Octets::from(v.to_owned()))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut out = None;
                    while let Some(key) = map.next_key::<String>()? {
                        if key != "hex" {
                            return Err(de::Error::unknown_field(&key, &["hex"]));
                        }
                        let hex: String = map.next_value()?;
                        let bytes = crate::octets::from_hex(&hex)
                            .map_err(|at| de::Error::custom(format!("bad hex digit at {at}")))?;
                        out = Some(Octets::from(bytes));
                    }
                    out.ok_or_else(|| de::Error::missing_field("hex"))
                }
            }
            d.deserialize_any(V)
        }
    }
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for digit in [b >> 4, b & 0xf] {
            s.push(char::from(DIGITS[usize::from(digit)]));
        }
    }
    s
}

/// Parses hex digits, ignoring ASCII whitespace. `Err` carries the index of the first bad
/// character, or the length of the input when the digit count is odd.
pub fn from_hex(s: &str) -> Result<Vec<u8>, usize> {
    let mut octets = HexOctets::with_capacity(s.len() / 2);
    for (i, c) in s.char_indices() {
        if !c.is_ascii_whitespace() {
            octets.push(c).ok_or(i)?;
        }
    }
    octets.finish().map_err(|_| s.len())
}

/// Pairs hex digits into octets, most significant digit first: the one reader behind
/// [`from_hex`] and the fixture loader, which differ only in what they skip and how they
/// report a bad character.
pub(crate) struct HexOctets {
    /// The octets completed so far.
    out: Vec<u8>,
    /// The first digit of an octet whose second has not come yet.
    high: Option<u8>,
    /// Digits taken, for the odd-count error.
    digits: usize,
}

impl HexOctets {
    /// An empty reader with room for `capacity` octets.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        HexOctets {
            out: Vec::with_capacity(capacity),
            high: None,
            digits: 0,
        }
    }

    /// Takes one hex digit; `None` when `c` is not one.
    pub(crate) fn push(&mut self, c: char) -> Option<()> {
        let v = u8::try_from(c.to_digit(16)?).ok()?;
        self.digits += 1;
        match self.high.take() {
            None => self.high = Some(v),
            Some(h) => self.out.push(h << 4 | v),
        }
        Some(())
    }

    /// The octets; `Err` with the number of digits when it is odd.
    pub(crate) fn finish(self) -> Result<Vec<u8>, usize> {
        match self.high {
            None => Ok(self.out),
            Some(_) => Err(self.digits),
        }
    }
}

// ---- nom field parsers (section 3.1 field types), each bounded before it takes ----
//
// These are the innermost loops of every decode, so they split the slice themselves once
// its length is checked rather than going through nom's `take`/`be_u*` combinators: the
// combinators are not inlined across the crate boundary and cost a call and an error
// conversion per field. The signatures stay nom's (`PResult`), so they compose as before.

/// An Integer of one octet.
#[inline]
pub(crate) fn int8<'a>(input: &'a [u8], field: &'static str) -> PResult<'a, u8> {
    match input.split_first() {
        Some((&value, rest)) => Ok((rest, value)),
        None => Err(truncated(field, 1, input.len())),
    }
}

/// An Integer of four octets.
#[inline]
pub(crate) fn int32<'a>(input: &'a [u8], field: &'static str) -> PResult<'a, u32> {
    match input.split_first_chunk::<4>() {
        Some((value, rest)) => Ok((rest, u32::from_be_bytes(*value))),
        None => Err(truncated(field, 4, input.len())),
    }
}

/// A C-Octet String of at most `max` octets, NUL included (section 3.1: "a series of ASCII
/// characters terminated with the NULL character").
///
/// One pass over at most `max` octets finds the NUL; the slow path that tells a string too
/// long from one with no NUL at all runs only on error.
#[inline]
pub(crate) fn c_octet<'a>(
    input: &'a [u8],
    field: &'static str,
    max: usize,
) -> PResult<'a, Octets<'a>> {
    let window = &input[..input.len().min(max)];
    match find_nul(window) {
        // `nul < window.len() <= input.len()`, so both slices are in bounds.
        Some(nul) => Ok((&input[nul + 1..], Octets::borrowed(&input[..nul]))),
        None => Err(c_octet_error(input, field, max, window.len())),
    }
}

/// The index of the first NUL in `bytes`. A plain scan: the strings are short (most are
/// empty or under 16 octets) and, measured on submit_sm, a word-at-a-time search here cost
/// more than it saved (see `smpp/BENCHMARKS.md`).
#[inline(always)]
fn find_nul(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0)
}

/// The error of a C-Octet String with no NUL in its first `scanned` (= min(len, max))
/// octets: too long when a NUL comes later, missing its NUL otherwise.
#[cold]
#[inline(never)]
fn c_octet_error(
    input: &[u8],
    field: &'static str,
    max: usize,
    scanned: usize,
) -> nom::Err<FieldError> {
    let kind = match find_nul(&input[scanned..]) {
        Some(extra) => FieldErrorKind::TooLong {
            len: scanned + extra + 1,
            max,
        },
        None => FieldErrorKind::MissingNul,
    };
    nom::Err::Error(FieldError::new(field, kind, input.len()))
}

/// sm_length followed by that many octets of short_message (sections 5.2.21, 5.2.22).
#[inline]
pub(crate) fn short_message(input: &[u8]) -> PResult<'_, Octets<'_>> {
    let (rest, sm_length) = int8(input, "sm_length")?;
    // 5.2.21: sm_length is 0 to 254; 255 is "not allowed".
    if sm_length as usize > MAX_SHORT_MESSAGE {
        return Err(nom::Err::Error(FieldError::new(
            "sm_length",
            FieldErrorKind::TooLong {
                len: sm_length as usize,
                max: MAX_SHORT_MESSAGE,
            },
            input.len(),
        )));
    }
    if rest.len() < sm_length as usize {
        return Err(sm_length_mismatch(sm_length, rest.len()));
    }
    let (sm, rest) = rest.split_at(sm_length as usize);
    Ok((rest, Octets::borrowed(sm)))
}

/// sm_length announcing more octets than the body has left.
#[cold]
fn sm_length_mismatch(sm_length: u8, available: usize) -> nom::Err<FieldError> {
    nom::Err::Error(FieldError::new(
        "short_message",
        FieldErrorKind::SmLengthMismatch {
            sm_length,
            available,
        },
        available,
    ))
}

#[cold]
fn truncated(field: &'static str, needed: usize, available: usize) -> nom::Err<FieldError> {
    nom::Err::Error(FieldError::new(
        field,
        FieldErrorKind::Truncated {
            needed: needed.saturating_sub(available),
        },
        available,
    ))
}

/// Checks a C-Octet String for encoding: no embedded NUL, and with its NUL at most `max`.
#[inline]
pub(crate) fn check_c_octet(
    value: &Octets<'_>,
    field: &'static str,
    max: usize,
) -> Result<(), EncodeError> {
    if value.len() + 1 > max {
        return Err(EncodeError::TooLong {
            field,
            len: value.len() + 1,
            max,
        });
    }
    if has_nul(value.as_bytes()) {
        return Err(EncodeError::EmbeddedNul { field });
    }
    Ok(())
}

/// Eight `0x01` octets: with [`HIGHS`], the "has a zero byte" test on a 64-bit word.
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// Eight `0x80` octets.
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// True when eight octets hold a zero: `(w - 0x0101..01) & !w & 0x8080..80` is non-zero
/// exactly then (the subtraction borrows into the high bit of a zero byte; `!w` drops the
/// bytes whose high bit was set already).
#[inline(always)]
fn word_has_nul(word: &[u8]) -> bool {
    // Callers pass exactly eight octets; anything else takes the plain scan.
    let Ok(word) = <[u8; 8]>::try_from(word) else {
        return word.contains(&0);
    };
    let w = u64::from_ne_bytes(word);
    w.wrapping_sub(ONES) & !w & HIGHS != 0
}

/// True when `bytes` holds a NUL (the encode-time check of every C-Octet String): whole
/// words, the last one overlapping the one before it, for a string of eight octets or
/// more; a branch-free scan for a shorter one.
#[inline]
fn has_nul(bytes: &[u8]) -> bool {
    match bytes.len() {
        0..=7 => bytes.iter().fold(false, |nul, &b| nul | (b == 0)),
        n => bytes.chunks_exact(8).any(word_has_nul) || word_has_nul(&bytes[n - 8..]),
    }
}

/// The most octets a short_message may hold (section 5.2.21: sm_length 0 to 254).
pub const MAX_SHORT_MESSAGE: usize = 254;

/// Checks short_message for encoding: at most 254 octets.
#[inline]
pub(crate) fn check_short_message(value: &Octets<'_>) -> Result<(), EncodeError> {
    if value.len() > MAX_SHORT_MESSAGE {
        return Err(EncodeError::TooLong {
            field: "short_message",
            len: value.len(),
            max: MAX_SHORT_MESSAGE,
        });
    }
    Ok(())
}

// ---- the [`Field`] impls of the section 3.1 types a body is made of ----

/// Integer, 1 octet.
impl<'a> Field<'a> for u8 {
    type Owned = u8;

    #[inline(always)]
    fn parse(input: &'a [u8], name: &'static str) -> PResult<'a, u8> {
        int8(input, name)
    }

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        1
    }

    #[inline(always)]
    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        out.octet(*self);
    }

    #[inline(always)]
    fn into_owned(self) -> u8 {
        self
    }
}

/// C-Octet String of at most `MAX` octets, NUL included.
impl<'a, const MAX: usize> Field<'a, COctetString<MAX>> for Octets<'a> {
    type Owned = Octets<'static>;

    #[inline(always)]
    fn parse(input: &'a [u8], name: &'static str) -> PResult<'a, Octets<'a>> {
        c_octet(input, name, MAX)
    }

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        self.len() + 1
    }

    #[inline(always)]
    fn check(&self, name: &'static str) -> Result<(), EncodeError> {
        check_c_octet(self, name, MAX)
    }

    #[inline(always)]
    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        out.octets(self.as_bytes());
        out.octet(0);
    }

    #[inline(always)]
    fn into_owned(self) -> Octets<'static> {
        Octets::into_owned(self)
    }
}

/// short_message with its sm_length. Errors name `sm_length` or `short_message`, the wire
/// field at fault.
impl<'a> Field<'a, ShortMessage> for Octets<'a> {
    type Owned = Octets<'static>;

    #[inline(always)]
    fn parse(input: &'a [u8], _name: &'static str) -> PResult<'a, Octets<'a>> {
        short_message(input)
    }

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        self.len() + 1
    }

    #[inline(always)]
    fn check(&self, _name: &'static str) -> Result<(), EncodeError> {
        check_short_message(self)
    }

    #[inline(always)]
    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        // At most 254 once checked (5.2.21).
        out.octet(self.len() as u8);
        out.octets(self.as_bytes());
    }

    #[inline(always)]
    fn into_owned(self) -> Octets<'static> {
        Octets::into_owned(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octet_takes_up_to_the_nul() {
        let (rest, v) = c_octet(b"abc\0rest", "system_id", 16).expect("parses");
        assert_eq!(v, "abc");
        assert_eq!(rest, b"rest");
    }

    #[test]
    fn c_octet_with_no_nul_is_missing_nul() {
        let err = c_octet(b"abc", "system_id", 16).expect_err("no NUL");
        let nom::Err::Error(e) = err else {
            panic!("wrong error")
        };
        assert_eq!(e.kind, FieldErrorKind::MissingNul);
    }

    #[test]
    fn c_octet_longer_than_its_maximum_is_too_long() {
        let err = c_octet(b"0123456789abcdefXYZ\0", "system_id", 16).expect_err("too long");
        let nom::Err::Error(e) = err else {
            panic!("wrong error")
        };
        assert_eq!(e.kind, FieldErrorKind::TooLong { len: 20, max: 16 });
        assert_eq!(e.field, "system_id");
    }

    #[test]
    fn c_octet_of_exactly_its_maximum_fits() {
        let (_, v) = c_octet(b"0123456789abcde\0", "system_id", 16).expect("fits");
        assert_eq!(v.len(), 15);
    }

    #[test]
    fn hex_round_trips_and_reports_bad_digits() {
        assert_eq!(from_hex("00 1f\nA0"), Ok(vec![0x00, 0x1f, 0xa0]));
        assert_eq!(to_hex(&[0x00, 0x1f, 0xa0]), "001fa0");
        assert_eq!(from_hex("0g"), Err(1));
        assert_eq!(from_hex("abc"), Err(3));
    }

    #[test]
    fn find_nul_finds_the_first_nul_of_every_length() {
        for len in 0..=40 {
            assert_eq!(find_nul(&vec![0x81u8; len]), None, "no NUL in {len} octets");
            assert_eq!(find_nul(&vec![0xffu8; len]), None);
            for at in 0..len {
                let mut bytes = vec![0x01u8; len];
                bytes[at] = 0;
                // A second NUL, and a 0x01 after the first: the borrow must not mislead.
                if at + 2 < len {
                    bytes[at + 2] = 0;
                }
                assert_eq!(find_nul(&bytes), Some(at), "NUL at {at} of {len}");
            }
        }
    }

    #[test]
    fn has_nul_finds_a_nul_at_every_position_of_every_length() {
        for len in 0..=40 {
            let clean = vec![0x80u8 | 0x01; len];
            assert!(!has_nul(&clean), "no NUL in {len} octets");
            assert!(!has_nul(&vec![0xffu8; len]));
            assert!(!has_nul(&vec![0x01u8; len]));
            for at in 0..len {
                let mut bytes = clean.clone();
                bytes[at] = 0;
                assert!(has_nul(&bytes), "NUL at {at} of {len}");
            }
        }
    }

    #[test]
    fn encode_checks_reject_long_and_nul_strings() {
        assert!(check_c_octet(&Octets::from("0123456789abcdef"), "system_id", 16).is_err());
        assert!(check_c_octet(&Octets::from(&b"a\0b"[..]), "system_id", 16).is_err());
        assert!(check_short_message(&Octets::from(vec![0u8; 255])).is_err());
        assert!(check_short_message(&Octets::from(vec![0u8; 254])).is_ok());
    }
}
