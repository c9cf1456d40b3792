//! UCS-2 as sent in SMS (`data_coding` 0x08): UTF-16 big-endian, with surrogate pairs for characters beyond the BMP.
//!
//! SMPP 3.4 §5.2.19 and TS 23.038 §6.2.3 name the encoding UCS-2; handsets and SMSCs
//! carry UTF-16BE in it so emoji survive, and so does this module.

use crate::text::TextError;

/// Encodes `text` as UTF-16BE, two octets per code unit.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(unit_len(text) * 2);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// Decodes UTF-16BE into text.
///
/// # Errors
/// - [`TextError::OddUcs2Length`] if `bytes` has an odd number of octets;
/// - [`TextError::LoneSurrogate`] for a surrogate without its partner, with the
///   byte offset of that code unit.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(TextError::OddUcs2Length { len: bytes.len() });
    }
    let units = bytes.chunks_exact(2).filter_map(|pair| match *pair {
        [hi, lo] => Some(u16::from_be_bytes([hi, lo])),
        _ => None,
    });
    let mut out = String::with_capacity(bytes.len());
    let mut unit_index = 0usize;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(ch) => {
                unit_index += ch.len_utf16();
                out.push(ch);
            }
            Err(_) => {
                return Err(TextError::LoneSurrogate {
                    index: unit_index * 2,
                })
            }
        }
    }
    Ok(out)
}

/// Number of UTF-16 code units in `text`: 1 per BMP character, 2 for a surrogate pair.
pub fn unit_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Whether the big-endian code unit whose first octet is `hi` is a high (leading) surrogate.
pub(crate) fn is_high_surrogate(hi: u8) -> bool {
    (0xD8..=0xDB).contains(&hi)
}

/// Whether the big-endian code unit whose first octet is `hi` is a low (trailing) surrogate.
pub(crate) fn is_low_surrogate(hi: u8) -> bool {
    (0xDC..=0xDF).contains(&hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bmp_and_emoji() {
        assert_eq!(encode("Aé"), vec![0x00, 0x41, 0x00, 0xE9]);
        assert_eq!(encode("日"), vec![0x65, 0xE5]);
        assert_eq!(encode("😀"), vec![0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode(&[0xD8, 0x3D, 0xDE, 0x00]).unwrap(), "😀");
        assert_eq!(unit_len("a😀日"), 4);
        assert_eq!(unit_len(""), 0);
        assert!(is_high_surrogate(0xD8) && is_low_surrogate(0xDE));
    }

    #[test]
    fn typed_errors() {
        assert_eq!(decode(&[0x00]), Err(TextError::OddUcs2Length { len: 1 }));
        assert_eq!(
            decode(&[0x00, 0x41, 0xD8, 0x3D]),
            Err(TextError::LoneSurrogate { index: 2 })
        );
        assert_eq!(
            decode(&[0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00]),
            Err(TextError::LoneSurrogate { index: 0 })
        );
        assert_eq!(
            decode(&[0x00, 0x41, 0xDE, 0x00]),
            Err(TextError::LoneSurrogate { index: 2 })
        );
        assert_eq!(decode(&[]), Ok(String::new()));
    }

    proptest! {
        #[test]
        fn round_trip(text in any::<String>()) {
            let bytes = encode(&text);
            prop_assert_eq!(bytes.len(), 2 * unit_len(&text));
            prop_assert_eq!(decode(&bytes).unwrap(), text);
        }

        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
