//! The error type shared by every text encoding, decoding and segmentation function.

use crate::text::Encoding;

/// Why a text could not be encoded, decoded, split or parsed.
///
/// Every variant says what went wrong and, where there is one, where in the
/// input it happened (a byte offset, so callers can slice the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A character has no representation in the requested encoding.
    #[error("character {ch:?} at byte offset {index} is not representable in {encoding:?}")]
    NotRepresentable {
        /// The encoding that was asked for.
        encoding: Encoding,
        /// The offending character.
        ch: char,
        /// Byte offset of `ch` in the input `&str`.
        index: usize,
    },
    /// An octet of unpacked GSM 7-bit data is above 0x7F, so it is not a septet.
    #[error("octet 0x{value:02X} at offset {index} is not a GSM 7-bit septet")]
    InvalidSeptet {
        /// The offending octet.
        value: u8,
        /// Its offset in the input.
        index: usize,
    },
    /// Packed GSM 7-bit data is shorter than the septet count (and fill bits) require.
    #[error("packed GSM 7-bit data has {len} octets but {septets} septets need {needed}")]
    PackedTooShort {
        /// Septets asked for.
        septets: usize,
        /// Octets those septets (plus fill bits) occupy.
        needed: usize,
        /// Octets supplied.
        len: usize,
    },
    /// UCS-2 / UTF-16BE data has an odd number of octets.
    #[error("UCS-2 data has odd length {len}")]
    OddUcs2Length {
        /// Length of the input in octets.
        len: usize,
    },
    /// A UTF-16 surrogate without its partner.
    #[error("lone UTF-16 surrogate at byte offset {index}")]
    LoneSurrogate {
        /// Byte offset of the offending code unit in the input.
        index: usize,
    },
    /// The text would need more than 255 concatenated parts (TS 23.040 §9.2.3.24.1).
    #[error("text needs {needed} segments, at most 255 are possible")]
    TooManySegments {
        /// Parts the text would need.
        needed: usize,
    },
    /// The encoded text is longer than a `message_payload` TLV can carry.
    #[error("encoded text is {len} octets, at most {max} fit")]
    TooLong {
        /// Encoded length in octets.
        len: usize,
        /// The limit in octets.
        max: usize,
    },
    /// A User Data Header is malformed (TS 23.040 §9.2.3.24).
    #[error("malformed user data header: {reason}")]
    BadUdh {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `data_coding` value names no encoding this module can decode (SMPP 3.4 §5.2.19).
    #[error("data_coding 0x{data_coding:02X} is not a supported text encoding")]
    UnsupportedDataCoding {
        /// The `data_coding` value.
        data_coding: u8,
    },
    /// [`Encoding::Octet`] carries binary data, not text.
    #[error("8-bit binary data is not text")]
    Binary,
}
