//! Test fixtures' annotated hex (`fixtures/pdus/*.hex`): hex digits with `#` comments, read
//! into octets with errors that give the line and column. Not part of the codec: it is
//! compiled with the `fixtures` feature, for the tests and the operator's `pdu decode`.

use crate::octets::HexOctets;

/// Why annotated hex could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A character that is not a hex digit, outside a comment.
    #[error("line {line}, column {column}: '{ch}' is not a hex digit")]
    BadDigit {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The character.
        ch: char,
    },
    /// An odd number of hex digits in all.
    #[error("odd number of hex digits ({digits})")]
    OddDigits {
        /// Digits read.
        digits: usize,
    },
}

/// Reads annotated hex, the form of `fixtures/pdus/*.hex`: `#` starts a comment that runs
/// to the end of its line; whitespace is ignored; an odd number of digits is an error.
pub fn parse_annotated_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let mut octets = HexOctets::with_capacity(text.len() / 3);
    for (n, line) in text.lines().enumerate() {
        let data = line.split('#').next().unwrap_or("");
        for (col, ch) in data.chars().enumerate() {
            if ch.is_whitespace() {
                continue;
            }
            octets.push(ch).ok_or(HexError::BadDigit {
                line: n + 1,
                column: col + 1,
                ch,
            })?;
        }
    }
    octets
        .finish()
        .map_err(|digits| HexError::OddDigits { digits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotated_hex_strips_comments_and_rejects_odd_digits() {
        let text = "# bind\n0000001c   # command_length = 28\n00 00 00 09 # id\n";
        assert_eq!(
            parse_annotated_hex(text),
            Ok(vec![0, 0, 0, 0x1c, 0, 0, 0, 9])
        );
        assert_eq!(
            parse_annotated_hex("abc # x"),
            Err(HexError::OddDigits { digits: 3 })
        );
        assert_eq!(
            parse_annotated_hex("00\n0z"),
            Err(HexError::BadDigit {
                line: 2,
                column: 2,
                ch: 'z'
            })
        );
    }
}
