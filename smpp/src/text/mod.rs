//! Text of short messages: GSM 7-bit, Latin-1 and UCS-2 encodings, segmentation and UDH
//! parsing (the `data_coding` mapping is [`crate::values::data_coding`]).
//!
//! Sending side: pick an [`Encoding`] with [`choose`] (or [`choose_among`]), then
//! [`split`] the text into [`Segment`]s that each fit one `short_message`, or into
//! one `message_payload` part with [`Concat::Payload`]. Set `data_coding` to
//! [`Encoding::data_coding`] and, for segments with a UDH, the UDHI bit
//! ([`crate::values::esm_class::UDHI`]) in `esm_class`.
//!
//! Receiving side: when `esm_class` has UDHI set, [`parse_udh`] the `short_message`
//! to get the [`ConcatInfo`] and the text octets, then [`decode`] them with the
//! PDU's `data_coding`.
//!
//! GSM 7-bit text is carried unpacked (one septet per octet), as SMPP does for
//! `data_coding` 0x00; packing for the air interface is the SMSC's job, but
//! [`gsm7::pack`] and [`gsm7::unpack`] are available.

pub mod gsm7;
pub mod latin1;
pub mod ucs2;

mod error;
mod segment;
mod udh;

pub use crate::values::data_coding::Encoding;
pub use error::TextError;
pub use segment::{
    segment_count, segment_count_for, split, split_bytes, Concat, Segment, Split, MAX_PAYLOAD_LEN,
    MAX_SEGMENTS,
};
pub use udh::{parse_udh, ConcatInfo, Elements, InformationElement, Udh};

/// The smallest encoding that reaches a handset intact: GSM 7-bit if every character is
/// representable (160 per message), else UCS-2 (70 per message). Never
/// [`Encoding::Octet`].
///
/// Latin-1 is left out on purpose: the air interface has no Latin-1 alphabet (TS 23.038
/// §4 knows GSM 7-bit, 8-bit data and UCS-2 only), so an SMSC given `data_coding` 0x03
/// converts it, either lossily to GSM 7-bit or to UCS-2, where a 134-octet part no longer
/// fits 67 characters. [`choose_among`] with `allow_latin1` opts in for an SMSC known to
/// handle it.
pub fn choose(text: &str) -> Encoding {
    choose_among(text, false)
}

/// Like [`choose`], but Latin-1 is only considered when `allow_latin1` is true;
/// otherwise text outside GSM 7-bit goes to UCS-2.
pub fn choose_among(text: &str, allow_latin1: bool) -> Encoding {
    let mut gsm = true;
    let mut latin1 = allow_latin1;
    for ch in text.chars() {
        gsm = gsm && gsm7::char_septets(ch).is_some();
        latin1 = latin1 && u32::from(ch) <= 0xFF;
        if !gsm && !latin1 {
            return Encoding::Ucs2;
        }
    }
    if gsm {
        Encoding::Gsm7
    } else {
        Encoding::Latin1
    }
}

/// Encodes `text` in `encoding`: GSM 7-bit as unpacked septets (what SMPP
/// `short_message` carries for `data_coding` 0x00), Latin-1 octets, or UTF-16BE.
///
/// # Errors
/// [`TextError::NotRepresentable`] if a character does not fit the encoding;
/// [`TextError::Binary`] for [`Encoding::Octet`].
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, TextError> {
    match encoding {
        Encoding::Gsm7 => gsm7::encode_unpacked(text),
        Encoding::Latin1 => latin1::encode(text),
        Encoding::Ucs2 => Ok(ucs2::encode(text)),
        Encoding::Octet => Err(TextError::Binary),
    }
}

/// Decodes short message octets (without any UDH, see [`parse_udh`]) according to
/// a received `data_coding` value, mapped by [`Encoding::from_data_coding`].
///
/// # Errors
/// [`TextError::UnsupportedDataCoding`] if the value names no supported encoding,
/// [`TextError::Binary`] if it names 8-bit data, otherwise as [`decode_as`].
pub fn decode(data_coding: u8, bytes: &[u8]) -> Result<String, TextError> {
    match Encoding::from_data_coding(data_coding) {
        Some(encoding) => decode_as(encoding, bytes),
        None => Err(TextError::UnsupportedDataCoding { data_coding }),
    }
}

/// Decodes octets in a known `encoding` (GSM 7-bit unpacked, Latin-1 or UTF-16BE).
///
/// # Errors
/// [`TextError::InvalidSeptet`] (GSM 7-bit), [`TextError::OddUcs2Length`] or
/// [`TextError::LoneSurrogate`] (UCS-2), [`TextError::Binary`] for [`Encoding::Octet`].
pub fn decode_as(encoding: Encoding, bytes: &[u8]) -> Result<String, TextError> {
    match encoding {
        Encoding::Gsm7 => gsm7::decode_unpacked(bytes),
        Encoding::Latin1 => Ok(latin1::decode(bytes)),
        Encoding::Ucs2 => ucs2::decode(bytes),
        Encoding::Octet => Err(TextError::Binary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn choose_smallest() {
        assert_eq!(choose(""), Encoding::Gsm7);
        assert_eq!(choose("Hello {€}"), Encoding::Gsm7);
        // Latin-1 only when asked for: no handset alphabet carries it over the air.
        assert_eq!(choose("back`tick"), Encoding::Ucs2);
        assert_eq!(choose_among("back`tick", true), Encoding::Latin1);
        assert_eq!(choose("ça va"), Encoding::Ucs2);
        assert_eq!(choose_among("ça va", true), Encoding::Latin1);
        assert_eq!(choose("ça coûte 5€"), Encoding::Ucs2);
        assert_eq!(choose("日本"), Encoding::Ucs2);
        assert_eq!(choose("hi 😀"), Encoding::Ucs2);
    }

    #[test]
    fn encode_decode_dispatch() {
        assert_eq!(encode("@$", Encoding::Gsm7).unwrap(), vec![0x00, 0x02]);
        assert_eq!(encode("@$", Encoding::Latin1).unwrap(), b"@$".to_vec());
        assert_eq!(encode("@", Encoding::Ucs2).unwrap(), vec![0x00, 0x40]);
        assert_eq!(encode("x", Encoding::Octet), Err(TextError::Binary));
        assert_eq!(decode(0x00, &[0x00, 0x02]).unwrap(), "@$");
        assert_eq!(decode(0x01, b"a@$_").unwrap(), "a@$_");
        assert_eq!(decode(0x03, &[0xE7]).unwrap(), "ç");
        assert_eq!(decode(0x08, &[0x65, 0xE5]).unwrap(), "日");
        assert_eq!(decode(0xF0, &[0x41]).unwrap(), "A");
        assert_eq!(decode(0x04, &[0x41]), Err(TextError::Binary));
        assert_eq!(
            decode(0x05, &[0x41]),
            Err(TextError::UnsupportedDataCoding { data_coding: 0x05 })
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(dc in any::<u8>(), bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode(dc, &bytes);
        }

        #[test]
        fn chosen_encoding_round_trips(text in any::<String>(), allow in any::<bool>()) {
            let enc = choose_among(&text, allow);
            let bytes = encode(&text, enc).unwrap();
            prop_assert_eq!(decode(enc.data_coding(), &bytes).unwrap(), text);
        }
    }
}
