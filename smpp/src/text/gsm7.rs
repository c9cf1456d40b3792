//! GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) with its extension table, and septet packing.
//!
//! SMPP carries `data_coding` 0x00 text in `short_message` *unpacked*: one septet per
//! octet, extension characters as the escape 0x1B followed by their code. That is what
//! [`encode_unpacked`] and [`decode_unpacked`] produce and consume. Packing septets
//! into octets for the air interface (TS 23.038 §6.1.2.1) is normally the SMSC's job;
//! [`pack`] and [`unpack`] are here for callers that need it (e.g. a TP-UD with a UDH).

use crate::text::{Encoding, TextError};

/// The escape septet that switches to the extension table for one character
/// (TS 23.038 §6.2.1, code 0x1B).
pub const ESCAPE: u8 = 0x1B;

/// The default alphabet, indexed by septet (TS 23.038 §6.2.1).
///
/// Slot 0x1B is the escape, never a character of its own; it holds a space, which
/// is what a receiver shows for an escape it cannot resolve (TS 23.038 §6.2.1.1).
const BASIC: [char; 128] = [
    // 0x00
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
    // 0x10
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ' ', 'Æ', 'æ', 'ß', 'É',
    // 0x20
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    // 0x30
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    // 0x40
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    // 0x50
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
    // 0x60
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    // 0x70
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/// Every code of the extension table (TS 23.038 §6.2.1.1) that has a character:
/// `(code after 0x1B, character)`, sorted by code.
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'), // form feed (page break)
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Where a character lives in the alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    /// One septet of the default alphabet.
    Basic(u8),
    /// Escape 0x1B followed by this extension-table code.
    Extended(u8),
}

/// The character of a default-alphabet septet (the high bit is ignored).
fn basic_char(septet: u8) -> char {
    BASIC
        .get(usize::from(septet & 0x7F))
        .copied()
        .unwrap_or(' ')
}

/// The character behind `0x1B code`, if the extension table defines one.
fn extension_char(code: u8) -> Option<char> {
    EXTENSION
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .and_then(|i| EXTENSION.get(i))
        .map(|&(_, ch)| ch)
}

/// Reverse lookup: the septet(s) for a character, `None` if it has none.
/// Only exact matches (no transliteration such as 'ç' → 'Ç').
fn lookup(ch: char) -> Option<Code> {
    use Code::{Basic as B, Extended as E};
    let code = match ch {
        // Where the default alphabet agrees with ASCII (TS 23.038 §6.2.1).
        'A'..='Z' | 'a'..='z' | '0'..='9' => B(ch as u8),
        ' ' | '!' | '"' | '#' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-' | '.'
        | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '\n' | '\r' => B(ch as u8),
        '@' => B(0x00),
        '£' => B(0x01),
        '$' => B(0x02),
        '¥' => B(0x03),
        'è' => B(0x04),
        'é' => B(0x05),
        'ù' => B(0x06),
        'ì' => B(0x07),
        'ò' => B(0x08),
        'Ç' => B(0x09),
        'Ø' => B(0x0B),
        'ø' => B(0x0C),
        'Å' => B(0x0E),
        'å' => B(0x0F),
        'Δ' => B(0x10),
        '_' => B(0x11),
        'Φ' => B(0x12),
        'Γ' => B(0x13),
        'Λ' => B(0x14),
        'Ω' => B(0x15),
        'Π' => B(0x16),
        'Ψ' => B(0x17),
        'Σ' => B(0x18),
        'Θ' => B(0x19),
        'Ξ' => B(0x1A),
        'Æ' => B(0x1C),
        'æ' => B(0x1D),
        'ß' => B(0x1E),
        'É' => B(0x1F),
        '¤' => B(0x24),
        '¡' => B(0x40),
        'Ä' => B(0x5B),
        'Ö' => B(0x5C),
        'Ñ' => B(0x5D),
        'Ü' => B(0x5E),
        '§' => B(0x5F),
        '¿' => B(0x60),
        'ä' => B(0x7B),
        'ö' => B(0x7C),
        'ñ' => B(0x7D),
        'ü' => B(0x7E),
        'à' => B(0x7F),
        // Extension table (TS 23.038 §6.2.1.1).
        '\u{0C}' => E(0x0A),
        '^' => E(0x14),
        '{' => E(0x28),
        '}' => E(0x29),
        '\\' => E(0x2F),
        '[' => E(0x3C),
        '~' => E(0x3D),
        ']' => E(0x3E),
        '|' => E(0x40),
        '€' => E(0x65),
        _ => return None,
    };
    Some(code)
}

/// Septets `ch` takes: 1 for the default alphabet, 2 for the extension table,
/// `None` if it is not representable.
pub(crate) fn char_septets(ch: char) -> Option<usize> {
    match lookup(ch)? {
        Code::Basic(_) => Some(1),
        Code::Extended(_) => Some(2),
    }
}

/// Encodes `text` as unpacked septets, one per octet; extension-table characters
/// become 0x1B followed by their code (TS 23.038 §6.2.1.1).
///
/// # Errors
/// [`TextError::NotRepresentable`] for the first character outside the default
/// alphabet and its extension table, with its byte offset.
pub fn encode_unpacked(text: &str) -> Result<Vec<u8>, TextError> {
    let mut out = Vec::with_capacity(text.len());
    for (index, ch) in text.char_indices() {
        match lookup(ch) {
            Some(Code::Basic(s)) => out.push(s),
            Some(Code::Extended(s)) => out.extend_from_slice(&[ESCAPE, s]),
            None => {
                return Err(TextError::NotRepresentable {
                    encoding: Encoding::Gsm7,
                    ch,
                    index,
                })
            }
        }
    }
    Ok(out)
}

/// Decodes unpacked septets (one per octet) into text.
///
/// Tolerant where TS 23.038 §6.2.1.1 says what a receiver shows:
/// - 0x1B followed by a code the extension table does not define decodes as the
///   default-alphabet character of that code (e.g. `1B 41` → `'A'`);
/// - 0x1B 0x1B (reserved for a second extension table) decodes as one space;
/// - a lone 0x1B at the very end decodes as a space, as an unresolved escape is shown.
///
/// # Errors
/// [`TextError::InvalidSeptet`] if an octet is above 0x7F (not a septet).
pub fn decode_unpacked(septets: &[u8]) -> Result<String, TextError> {
    let mut out = String::with_capacity(septets.len());
    let mut iter = septets.iter().copied().enumerate();
    while let Some((index, value)) = iter.next() {
        if value > 0x7F {
            return Err(TextError::InvalidSeptet { value, index });
        }
        if value != ESCAPE {
            out.push(basic_char(value));
            continue;
        }
        let ch = match iter.next() {
            None | Some((_, ESCAPE)) => ' ',
            Some((index, value)) if value > 0x7F => {
                return Err(TextError::InvalidSeptet { value, index })
            }
            Some((_, code)) => extension_char(code).unwrap_or_else(|| basic_char(code)),
        };
        out.push(ch);
    }
    Ok(out)
}

/// Number of septets `text` takes (extension-table characters count 2), or `None`
/// if some character is not representable in the GSM 7-bit alphabet.
pub fn septet_len(text: &str) -> Option<usize> {
    text.chars()
        .try_fold(0usize, |n, ch| Some(n + char_septets(ch)?))
}

/// Whether every character of `text` is in the default alphabet or its extension table.
pub fn is_representable(text: &str) -> bool {
    text.chars().all(|ch| lookup(ch).is_some())
}

/// Packs septets into octets (TS 23.038 §6.1.2.1.1): the first septet in the low
/// seven bits of the first octet, each next septet continuing at the next bit.
///
/// `fill_bits` zero bits come first, so the first septet starts at bit `fill_bits`.
/// After a User Data Header this aligns the text on a septet boundary counted from
/// the start of TP-UD (TS 23.040 §9.2.3.24): 6-octet UDH → 1, 7-octet UDH → 0.
/// Values 0..=6 are those that occur; larger ones just shift further.
///
/// Only the low seven bits of each septet are used. No padding septet is added: the
/// receiver needs the septet count (TP-UDL) to [`unpack`]. No septets → no octets.
pub fn pack(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    if septets.is_empty() {
        return Vec::new();
    }
    let fill = usize::from(fill_bits);
    let bits_total = septets.len().saturating_mul(7).saturating_add(fill);
    let mut out = Vec::with_capacity(bits_total.div_ceil(8));
    out.resize(fill / 8, 0);
    let mut acc: u32 = 0;
    let mut bits = u32::from(fill_bits % 8);
    for &septet in septets {
        acc |= u32::from(septet & 0x7F) << bits;
        bits += 7;
        while bits >= 8 {
            out.push((acc & 0xFF) as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push((acc & 0xFF) as u8);
    }
    out
}

/// Unpacks `septet_count` septets from `packed`, skipping `fill_bits` leading fill
/// bits; the inverse of [`pack`] (TS 23.038 §6.1.2.1.1). Octets beyond those the
/// septets occupy are ignored.
///
/// # Errors
/// [`TextError::PackedTooShort`] if `packed` holds fewer than
/// `ceil((fill_bits + 7 * septet_count) / 8)` octets.
pub fn unpack(packed: &[u8], septet_count: usize, fill_bits: u8) -> Result<Vec<u8>, TextError> {
    if septet_count == 0 {
        return Ok(Vec::new());
    }
    let fill = usize::from(fill_bits);
    let needed = septet_count
        .checked_mul(7)
        .and_then(|bits| bits.checked_add(fill))
        .map_or(usize::MAX, |bits| bits.div_ceil(8));
    if packed.len() < needed {
        return Err(TextError::PackedTooShort {
            septets: septet_count,
            needed,
            len: packed.len(),
        });
    }
    let mut out = Vec::with_capacity(septet_count);
    let mut bit = fill;
    for _ in 0..septet_count {
        let at = bit / 8;
        let lo = u16::from(packed.get(at).copied().unwrap_or(0));
        let hi = u16::from(packed.get(at + 1).copied().unwrap_or(0));
        let word = lo | (hi << 8);
        out.push(((word >> (bit % 8)) & 0x7F) as u8);
        bit += 7;
    }
    Ok(out)
}

/// Every character the alphabet can carry, default table first (for tests).
#[cfg(test)]
pub(crate) fn all_chars() -> Vec<char> {
    let mut v: Vec<char> = (0u8..128)
        .filter(|&s| s != ESCAPE)
        .map(basic_char)
        .collect();
    v.extend(EXTENSION.iter().map(|&(_, c)| c));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_spot_checks() {
        assert_eq!(basic_char(0x00), '@');
        assert_eq!(basic_char(0x02), '$');
        assert_eq!(basic_char(0x11), '_');
        assert_eq!(basic_char(0x10), '\u{0394}');
        assert_eq!(basic_char(0x15), '\u{03A9}');
        assert_eq!(basic_char(0x24), '¤');
        assert_eq!(basic_char(0x40), '¡');
        assert_eq!(basic_char(0x20), ' ');
        assert_eq!(basic_char(0x7F), 'à');
        assert_eq!(encode_unpacked("€").unwrap(), vec![0x1B, 0x65]);
        assert_eq!(encode_unpacked("\u{0C}").unwrap(), vec![0x1B, 0x0A]);
        assert!(EXTENSION.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_basic_char_round_trips() {
        for septet in 0u8..128 {
            if septet == ESCAPE {
                continue;
            }
            let ch = basic_char(septet);
            let s = ch.to_string();
            assert_eq!(encode_unpacked(&s).unwrap(), vec![septet], "{ch:?}");
            assert_eq!(decode_unpacked(&[septet]).unwrap(), s);
            assert_eq!(septet_len(&s), Some(1));
        }
    }

    #[test]
    fn every_extension_char_round_trips() {
        for &(code, ch) in &EXTENSION {
            let s = ch.to_string();
            assert_eq!(encode_unpacked(&s).unwrap(), vec![ESCAPE, code], "{ch:?}");
            assert_eq!(decode_unpacked(&[ESCAPE, code]).unwrap(), s);
            assert_eq!(septet_len(&s), Some(2));
        }
    }

    #[test]
    fn all_chars_round_trip_through_pack_with_every_fill() {
        let text: String = all_chars().into_iter().collect();
        let septets = encode_unpacked(&text).unwrap();
        assert_eq!(septets.len(), 127 + 2 * EXTENSION.len());
        for fill in 0..=6u8 {
            let packed = pack(&septets, fill);
            let expected = (usize::from(fill) + 7 * septets.len()).div_ceil(8);
            assert_eq!(packed.len(), expected, "fill {fill}");
            let unpacked = unpack(&packed, septets.len(), fill).unwrap();
            assert_eq!(unpacked, septets, "fill {fill}");
            assert_eq!(decode_unpacked(&unpacked).unwrap(), text);
        }
    }

    #[test]
    fn known_packing_vectors() {
        // The widely published packing of "hellohello".
        let septets = encode_unpacked("hellohello").unwrap();
        assert_eq!(
            pack(&septets, 0),
            vec![0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        // With one fill bit (after a 6-octet UDH) the first septet shifts left by one.
        assert_eq!(pack(&[0x68], 1), vec![0xD0]);
        assert_eq!(pack(&[0x7F; 8], 0), vec![0xFF; 7]);
        assert!(pack(&[], 3).is_empty());
    }

    #[test]
    fn unpack_rejects_short_input() {
        assert_eq!(
            unpack(&[0xFF], 2, 0),
            Err(TextError::PackedTooShort {
                septets: 2,
                needed: 2,
                len: 1
            })
        );
        assert!(unpack(&[0; 8], usize::MAX, 6).is_err());
        assert_eq!(unpack(&[], 0, 6), Ok(vec![]));
    }

    #[test]
    fn tolerant_escape_decoding() {
        // Unknown extension code → the default-alphabet character.
        assert_eq!(decode_unpacked(&[0x1B, 0x41]).unwrap(), "A");
        assert_eq!(decode_unpacked(&[0x1B, 0x0D]).unwrap(), "\r");
        // 1B 1B → space; trailing lone escape → space.
        assert_eq!(decode_unpacked(&[0x1B, 0x1B, 0x41]).unwrap(), " A");
        assert_eq!(decode_unpacked(&[0x41, 0x1B]).unwrap(), "A ");
        assert_eq!(
            decode_unpacked(&[0x41, 0x80]),
            Err(TextError::InvalidSeptet {
                value: 0x80,
                index: 1
            })
        );
        assert_eq!(
            decode_unpacked(&[0x1B, 0xFF]),
            Err(TextError::InvalidSeptet {
                value: 0xFF,
                index: 1
            })
        );
    }

    #[test]
    fn not_representable_reports_char_and_offset() {
        assert_eq!(
            encode_unpacked("ab`"),
            Err(TextError::NotRepresentable {
                encoding: Encoding::Gsm7,
                ch: '`',
                index: 2
            })
        );
        assert_eq!(
            encode_unpacked("é日"),
            Err(TextError::NotRepresentable {
                encoding: Encoding::Gsm7,
                ch: '日',
                index: 2
            })
        );
        assert!(!is_representable("ç"));
        assert!(!is_representable("\u{A0}"));
        assert!(is_representable("Hello {world} €5 @home"));
        assert_eq!(septet_len("a€"), Some(3));
        assert_eq!(septet_len("a😀"), None);
        assert_eq!(septet_len(""), Some(0));
    }

    proptest! {
        #[test]
        fn pack_unpack_round_trip(septets in prop::collection::vec(0u8..128, 0..300), fill in 0u8..=6) {
            let packed = pack(&septets, fill);
            prop_assert_eq!(unpack(&packed, septets.len(), fill).unwrap(), septets);
        }

        #[test]
        fn gsm_text_round_trips(chars in prop::collection::vec(prop::sample::select(all_chars()), 0..200)) {
            let text: String = chars.into_iter().collect();
            let septets = encode_unpacked(&text).unwrap();
            prop_assert_eq!(Some(septets.len()), septet_len(&text));
            prop_assert_eq!(decode_unpacked(&septets).unwrap(), text);
        }

        #[test]
        fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), n in 0usize..400, fill in any::<u8>()) {
            let _ = decode_unpacked(&bytes);
            let _ = unpack(&bytes, n, fill);
            let _ = pack(&bytes, fill);
        }
    }
}
