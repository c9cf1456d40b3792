//! data_coding (section 5.2.19): the alphabet a message's octets are in. The values this
//! crate names, and [`Encoding`], the text encodings they map to (3GPP TS 23.038 section 4
//! for the GSM coding groups above 0x0F).

/// SMSC Default Alphabet (`00000000`), taken as GSM 03.38 by this crate.
pub const SMSC_DEFAULT: u8 = 0x00;
/// IA5 (CCITT T.50) / ASCII (ANSI X3.4) (`00000001`).
pub const IA5: u8 = 0x01;
/// Octet unspecified, 8-bit binary (`00000010`, the TDMA/CDMA value, note b).
pub const OCTET_UNSPECIFIED: u8 = 0x02;
/// Latin 1, ISO-8859-1 (`00000011`).
pub const LATIN1: u8 = 0x03;
/// Octet unspecified, 8-bit binary (`00000100`, the GSM value, note a).
pub const BINARY: u8 = 0x04;
/// UCS2, ISO/IEC-10646 (`00001000`), carried as UTF-16BE.
pub const UCS2: u8 = 0x08;

/// A text encoding of short message user data, as named by `data_coding`
/// (SMPP 3.4 §5.2.19, 3GPP TS 23.038 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 7-bit default alphabet with its extension table (TS 23.038 §6.2.1),
    /// carried unpacked, one septet per octet. `data_coding` 0x00.
    Gsm7,
    /// ISO-8859-1. `data_coding` 0x03.
    Latin1,
    /// UCS-2, carried as UTF-16BE so characters beyond the BMP survive. `data_coding` 0x08.
    Ucs2,
    /// 8-bit binary data, not text (`data_coding` 0x04). Text functions reject it
    /// with [`crate::text::TextError::Binary`]; [`crate::text::split_bytes`] segments it.
    Octet,
}

impl Encoding {
    /// The `data_coding` value to send for this encoding (SMPP 3.4 §5.2.19):
    /// 0x00 (SMSC default alphabet, taken as GSM 03.38), 0x03, 0x08, or 0x04 for
    /// 8-bit binary.
    pub const fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => SMSC_DEFAULT,
            Encoding::Latin1 => LATIN1,
            Encoding::Ucs2 => UCS2,
            Encoding::Octet => BINARY,
        }
    }

    /// The encoding a received `data_coding` value names, or `None` for one this
    /// module cannot decode.
    ///
    /// - 0x00 SMSC default alphabet → [`Encoding::Gsm7`]: this crate assumes the SMSC
    ///   default alphabet is GSM 03.38 (SMSC-specific in SMPP 3.4 §5.2.19).
    /// - 0x01 IA5/ASCII → [`Encoding::Latin1`]: ASCII is the byte-identical lower
    ///   half of ISO-8859-1, so decoding IA5 as Latin-1 is exact for ASCII and
    ///   tolerant of stray high octets. Reading it as GSM would garble '@', '$', '_'.
    /// - 0x02, 0x04 octet unspecified → [`Encoding::Octet`]; 0x03 → Latin-1;
    ///   0x08 → UCS-2. Other values 0x05..=0x0F (JIS, Cyrillic, Hebrew, KS C 5601,
    ///   reserved, …) → `None`.
    /// - 0x10..=0x7F, TS 23.038 §4 general data coding groups `00xx xxxx` and
    ///   `01xx xxxx` (automatic deletion): compressed (bit 5) → `None`; otherwise
    ///   bits 3-2: `00` GSM 7-bit, `01` 8-bit, `10` UCS-2, `11` reserved → `None`.
    /// - 0x80..=0xBF reserved → `None`.
    /// - 0xC0..=0xDF message waiting indication groups (discard / store) → GSM 7-bit;
    ///   0xE0..=0xEF MWI store with UCS-2 → UCS-2 (TS 23.038 §4; SMPP 3.4 lists
    ///   `1110xxxx` as reserved but SMSCs relay the 23.038 meaning).
    /// - 0xF0..=0xFF data coding / message class group: bit 2 `0` GSM 7-bit, `1`
    ///   8-bit data; the reserved bit 3 is ignored.
    pub const fn from_data_coding(data_coding: u8) -> Option<Encoding> {
        match data_coding {
            SMSC_DEFAULT => Some(Encoding::Gsm7),
            IA5 | LATIN1 => Some(Encoding::Latin1),
            OCTET_UNSPECIFIED | BINARY => Some(Encoding::Octet),
            UCS2 => Some(Encoding::Ucs2),
            0x05..=0x07 | 0x09..=0x0F => None,
            0x10..=0x7F => {
                if data_coding & 0x20 != 0 {
                    None
                } else {
                    match (data_coding >> 2) & 0x03 {
                        0 => Some(Encoding::Gsm7),
                        1 => Some(Encoding::Octet),
                        2 => Some(Encoding::Ucs2),
                        _ => None,
                    }
                }
            }
            0x80..=0xBF => None,
            0xC0..=0xDF => Some(Encoding::Gsm7),
            0xE0..=0xEF => Some(Encoding::Ucs2),
            0xF0..=0xFF => {
                if data_coding & 0x04 == 0 {
                    Some(Encoding::Gsm7)
                } else {
                    Some(Encoding::Octet)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_coding_values() {
        for enc in [
            Encoding::Gsm7,
            Encoding::Latin1,
            Encoding::Ucs2,
            Encoding::Octet,
        ] {
            assert_eq!(Encoding::from_data_coding(enc.data_coding()), Some(enc));
        }
        let cases: &[(u8, Option<Encoding>)] = &[
            (0x00, Some(Encoding::Gsm7)),
            (0x01, Some(Encoding::Latin1)),
            (0x02, Some(Encoding::Octet)),
            (0x05, None),
            (0x0E, None),
            (0x10, Some(Encoding::Gsm7)),
            (0x11, Some(Encoding::Gsm7)),
            (0x14, Some(Encoding::Octet)),
            (0x18, Some(Encoding::Ucs2)),
            (0x1C, None),
            (0x20, None),
            (0x38, None),
            (0x48, Some(Encoding::Ucs2)),
            (0x80, None),
            (0xBF, None),
            (0xC0, Some(Encoding::Gsm7)),
            (0xD8, Some(Encoding::Gsm7)),
            (0xE8, Some(Encoding::Ucs2)),
            (0xF0, Some(Encoding::Gsm7)),
            (0xF3, Some(Encoding::Gsm7)),
            (0xF4, Some(Encoding::Octet)),
            (0xF6, Some(Encoding::Octet)),
            (0xFF, Some(Encoding::Octet)),
        ];
        for &(dc, expected) in cases {
            assert_eq!(Encoding::from_data_coding(dc), expected, "0x{dc:02X}");
        }
    }
}
