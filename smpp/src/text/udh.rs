//! User Data Header concatenation elements (3GPP TS 23.040 §9.2.3.24.1 and §9.2.3.24.8): building them and finding them in a received `short_message`.

use crate::text::TextError;

/// IEI of "Concatenated short messages, 8-bit reference number" (TS 23.040 §9.2.3.24.1).
const IEI_CONCAT_8: u8 = 0x00;
/// IEI of "Concatenated short messages, 16-bit reference number" (TS 23.040 §9.2.3.24.8).
const IEI_CONCAT_16: u8 = 0x08;

/// Where one part belongs in a concatenated message, as carried by a UDH
/// concatenation information element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConcatInfo {
    /// Concatenated message reference number; at most 255 when `reference_16bit` is false.
    pub reference: u16,
    /// Number of parts of the whole message, 1..=255.
    pub total: u8,
    /// This part's sequence number, 1..=`total`.
    pub seq: u8,
    /// Whether the reference came from IE 0x08 (16-bit) rather than IE 0x00 (8-bit).
    /// TS 23.040 treats the two as distinct, so reassembly should key on both.
    pub reference_16bit: bool,
}

impl ConcatInfo {
    /// The complete UDH (length octet included) carrying just this element:
    /// `05 00 03 ref total seq` for an 8-bit reference (only the low 8 bits of
    /// `reference` are sent), `06 08 04 refhi reflo total seq` for a 16-bit one.
    pub fn to_udh(&self) -> Vec<u8> {
        let [hi, lo] = self.reference.to_be_bytes();
        if self.reference_16bit {
            vec![0x06, IEI_CONCAT_16, 0x04, hi, lo, self.total, self.seq]
        } else {
            vec![0x05, IEI_CONCAT_8, 0x03, lo, self.total, self.seq]
        }
    }

    /// Builds from an element's data, or `None` if TS 23.040 §9.2.3.24.1 says to
    /// ignore it (total or sequence number 0, or sequence number above total).
    fn checked(reference: u16, total: u8, seq: u8, reference_16bit: bool) -> Option<Self> {
        (total != 0 && seq != 0 && seq <= total).then_some(ConcatInfo {
            reference,
            total,
            seq,
            reference_16bit,
        })
    }
}

/// Splits a `short_message` that starts with a User Data Header (call it only when
/// `esm_class` has the UDHI bit 0x40 set, SMPP 3.4 §5.2.12) into its concatenation
/// information and the octets after the header.
///
/// The header is the length octet UDHL followed by UDHL octets of information
/// elements, each `IEI, length, data` (TS 23.040 §9.2.3.24). Elements other than
/// 0x00 and 0x08 are skipped. Per TS 23.040 §9.2.3.24, if concatenation elements
/// repeat the last one counts; one whose total or sequence number is 0 or whose
/// sequence number exceeds the total is ignored (§9.2.3.24.1).
///
/// # Errors
/// [`TextError::BadUdh`] if the input is empty, the header or an element runs past
/// its bounds, or a concatenation element has the wrong length.
pub fn parse_udh(short_message: &[u8]) -> Result<(Option<ConcatInfo>, &[u8]), TextError> {
    let (&udhl, rest) = short_message.split_first().ok_or(TextError::BadUdh {
        reason: "empty short_message, no UDH length octet",
    })?;
    let (mut elements, body) =
        rest.split_at_checked(usize::from(udhl))
            .ok_or(TextError::BadUdh {
                reason: "UDH length exceeds the short_message",
            })?;
    let mut concat = None;
    while let Some((&iei, tail)) = elements.split_first() {
        let (&len, tail) = tail.split_first().ok_or(TextError::BadUdh {
            reason: "information element without a length octet",
        })?;
        let (data, tail) = tail
            .split_at_checked(usize::from(len))
            .ok_or(TextError::BadUdh {
                reason: "information element runs past the UDH",
            })?;
        match (iei, data) {
            (IEI_CONCAT_8, &[reference, total, seq]) => {
                concat = ConcatInfo::checked(u16::from(reference), total, seq, false).or(concat);
            }
            (IEI_CONCAT_16, &[hi, lo, total, seq]) => {
                concat =
                    ConcatInfo::checked(u16::from_be_bytes([hi, lo]), total, seq, true).or(concat);
            }
            (IEI_CONCAT_8, _) => {
                return Err(TextError::BadUdh {
                    reason: "concatenation element 0x00 must be 3 octets",
                })
            }
            (IEI_CONCAT_16, _) => {
                return Err(TextError::BadUdh {
                    reason: "concatenation element 0x08 must be 4 octets",
                })
            }
            _ => {}
        }
        elements = tail;
    }
    Ok((concat, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_8_and_16_bit() {
        for reference_16bit in [false, true] {
            let info = ConcatInfo {
                reference: if reference_16bit { 0xBEEF } else { 0xEF },
                total: 3,
                seq: 2,
                reference_16bit,
            };
            let mut sm = info.to_udh();
            sm.extend_from_slice(b"text");
            assert_eq!(parse_udh(&sm).unwrap(), (Some(info), &b"text"[..]));
        }
    }

    #[test]
    fn layout() {
        let info8 = ConcatInfo {
            reference: 0x1234,
            total: 2,
            seq: 1,
            reference_16bit: false,
        };
        assert_eq!(info8.to_udh(), vec![0x05, 0x00, 0x03, 0x34, 0x02, 0x01]);
        let info16 = ConcatInfo {
            reference_16bit: true,
            ..info8
        };
        assert_eq!(
            info16.to_udh(),
            vec![0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]
        );
    }

    #[test]
    fn skips_other_elements() {
        // Port addressing (0x05, 4 octets), then concat, then an empty unknown IE.
        let sm = [
            0x0D, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x02, 0x70, 0x00,
            0x24, 0x41,
        ];
        let (info, body) = parse_udh(&sm).unwrap();
        assert_eq!(
            info,
            Some(ConcatInfo {
                reference: 7,
                total: 2,
                seq: 2,
                reference_16bit: false
            })
        );
        assert_eq!(body, &[0x24, 0x41]);
        // No elements at all.
        assert_eq!(parse_udh(&[0x00, 0x41]).unwrap(), (None, &[0x41][..]));
    }

    #[test]
    fn last_valid_occurrence_wins_and_invalid_is_ignored() {
        let sm = [
            0x10, 0x00, 0x03, 0x01, 0x02, 0x01, 0x08, 0x04, 0x00, 0x09, 0x03, 0x03, 0x00, 0x03,
            0x05, 0x02, 0x03,
        ];
        let (info, body) = parse_udh(&sm).unwrap();
        assert_eq!(
            info.map(|i| (i.reference, i.seq, i.reference_16bit)),
            Some((9, 3, true))
        );
        assert!(body.is_empty());
        for bad in [
            [0x05, 0x00, 0x03, 0x01, 0x00, 0x01],
            [0x05, 0x00, 0x03, 0x01, 0x02, 0x00],
        ] {
            assert_eq!(parse_udh(&bad).unwrap().0, None);
        }
    }

    #[test]
    fn malformed_headers() {
        let cases: [&[u8]; 6] = [
            &[],
            &[0x05, 0x00, 0x03, 0x01],
            &[0x01, 0x00],
            &[0x03, 0x00, 0x03, 0x01],
            &[0x04, 0x00, 0x02, 0x01, 0x01],
            &[0x05, 0x08, 0x03, 0x01, 0x01, 0x01],
        ];
        for sm in cases {
            assert!(
                matches!(parse_udh(sm), Err(TextError::BadUdh { .. })),
                "{sm:02X?}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok((_, body)) = parse_udh(&bytes) {
                prop_assert!(body.len() < bytes.len());
            }
        }
    }
}
