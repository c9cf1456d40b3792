//! ISO-8859-1 (Latin-1, SMPP 3.4 §5.2.19 `data_coding` 0x03): one octet per character U+0000..=U+00FF.

use crate::text::{Encoding, TextError};

/// Encodes `text` as ISO-8859-1, one octet per character.
///
/// # Errors
/// [`TextError::NotRepresentable`] for the first character above U+00FF, with its
/// byte offset.
pub fn encode(text: &str) -> Result<Vec<u8>, TextError> {
    let mut out = Vec::with_capacity(text.len());
    for (index, ch) in text.char_indices() {
        let octet = u8::try_from(ch).map_err(|_| TextError::NotRepresentable {
            encoding: Encoding::Latin1,
            ch,
            index,
        })?;
        out.push(octet);
    }
    Ok(out)
}

/// Decodes ISO-8859-1; every octet is a character, so this cannot fail.
pub fn decode(bytes: &[u8]) -> String {
    bytes.iter().copied().map(char::from).collect()
}

/// Whether every character of `text` is in U+0000..=U+00FF.
pub fn is_representable(text: &str) -> bool {
    text.chars().all(|ch| u32::from(ch) <= 0xFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn all_octets_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = decode(&bytes);
        assert_eq!(text.chars().count(), 256);
        assert!(is_representable(&text));
        assert_eq!(encode(&text).unwrap(), bytes);
    }

    #[test]
    fn rejects_beyond_latin1() {
        assert_eq!(
            encode("ça€"),
            Err(TextError::NotRepresentable {
                encoding: Encoding::Latin1,
                ch: '€',
                index: 3
            })
        );
        assert!(!is_representable("€"));
        assert!(is_representable("`ÿ"));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(encode(&decode(&bytes)).unwrap(), bytes);
        }
    }
}
