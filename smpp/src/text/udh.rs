//! The User Data Header (3GPP TS 23.040 §9.2.3.24): walking its information elements, and
//! the concatenation elements (§9.2.3.24.1, §9.2.3.24.8) built for sending and found in a
//! received `short_message`.

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

    /// Where a part belongs, or `None` if TS 23.040 §9.2.3.24.1 says the receiver ignores
    /// the whole element that carries it: a total (octet 2) of 0, or a sequence number
    /// (octet 3) of 0 or above the total. The same rule serves the sar_* TLVs (SMPP 3.4
    /// §5.3.2.22-24), which the SMSC turns into this element.
    pub fn new(reference: u16, total: u8, seq: u8, reference_16bit: bool) -> Option<Self> {
        (total != 0 && seq != 0 && seq <= total).then_some(ConcatInfo {
            reference,
            total,
            seq,
            reference_16bit,
        })
    }
}

/// One information element of a User Data Header (TS 23.040 §9.2.3.24): `IEI, length,
/// data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InformationElement<'a> {
    /// The information element identifier.
    pub iei: u8,
    /// The element's data, `length` octets.
    pub data: &'a [u8],
}

impl InformationElement<'_> {
    /// The concatenation information of an element 0x00 or 0x08; `Ok(None)` for another
    /// element and for a concatenation element to ignore (see [`ConcatInfo::new`]).
    ///
    /// # Errors
    /// [`TextError::BadUdh`] for a concatenation element of the wrong length (0x00 has 3
    /// octets, 0x08 has 4).
    pub fn concat(&self) -> Result<Option<ConcatInfo>, TextError> {
        match (self.iei, self.data) {
            (IEI_CONCAT_8, &[reference, total, seq]) => {
                Ok(ConcatInfo::new(u16::from(reference), total, seq, false))
            }
            (IEI_CONCAT_16, &[hi, lo, total, seq]) => Ok(ConcatInfo::new(
                u16::from_be_bytes([hi, lo]),
                total,
                seq,
                true,
            )),
            (IEI_CONCAT_8, _) => Err(TextError::BadUdh {
                reason: "concatenation element 0x00 must be 3 octets",
            }),
            (IEI_CONCAT_16, _) => Err(TextError::BadUdh {
                reason: "concatenation element 0x08 must be 4 octets",
            }),
            _ => Ok(None),
        }
    }
}

/// A User Data Header at the front of a `short_message` (or message_payload) whose
/// `esm_class` has UDHI (SMPP 3.4 §5.2.12): the length octet UDHL followed by UDHL octets of
/// information elements (TS 23.040 §9.2.3.24). The one walker of a UDH: the codec, the
/// simulator and the CLI's preview all read it through this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udh<'a> {
    /// The whole header, UDHL included.
    header: &'a [u8],
}

impl<'a> Udh<'a> {
    /// Splits the header off the front of `short_message`; returns it and the octets after
    /// it. The elements are read (and may still be malformed) by [`Udh::elements`].
    ///
    /// # Errors
    /// [`TextError::BadUdh`] if `short_message` is empty or UDHL runs past its end.
    pub fn split(short_message: &'a [u8]) -> Result<(Udh<'a>, &'a [u8]), TextError> {
        let udhl = short_message.first().ok_or(TextError::BadUdh {
            reason: "empty short_message, no UDH length octet",
        })?;
        short_message
            .split_at_checked(1 + usize::from(*udhl))
            .map(|(header, body)| (Udh { header }, body))
            .ok_or(TextError::BadUdh {
                reason: "UDH length exceeds the short_message",
            })
    }

    /// The whole header, UDHL included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.header
    }

    /// The information elements in order. An element that runs past the header ends the
    /// walk with an error (TS 23.040 §9.2.3.24: when the last element has too few or too
    /// many octets for the header's length, the whole header is to be ignored).
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            rest: self.header.get(1..).unwrap_or_default(),
        }
    }

    /// Where the message this part belongs to, from its concatenation elements. Elements
    /// other than 0x00 and 0x08 are skipped. If concatenation elements repeat, the last one
    /// counts: TS 23.040 §9.2.3.24, "In the event that IEs determined as not repeatable are
    /// duplicated, the last occurrence of the IE shall be used", and 0x00 and 0x08 are
    /// mutually exclusive, for which "the last occurring IE shall be used". An element to
    /// ignore (see [`ConcatInfo::new`]) does not replace an earlier valid one.
    ///
    /// # Errors
    /// [`TextError::BadUdh`] if an element runs past the header or a concatenation element
    /// has the wrong length.
    pub fn concat(&self) -> Result<Option<ConcatInfo>, TextError> {
        let mut concat = None;
        for element in self.elements() {
            concat = element?.concat()?.or(concat);
        }
        Ok(concat)
    }
}

/// The information elements of a [`Udh`], in order; after an error, nothing more.
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    /// The elements not walked yet.
    rest: &'a [u8],
}

impl<'a> Iterator for Elements<'a> {
    type Item = Result<InformationElement<'a>, TextError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&iei, tail) = self.rest.split_first()?;
        let element = match tail.split_first() {
            None => Err(TextError::BadUdh {
                reason: "information element without a length octet",
            }),
            Some((&len, tail)) => tail
                .split_at_checked(usize::from(len))
                .map(|(data, tail)| (InformationElement { iei, data }, tail))
                .ok_or(TextError::BadUdh {
                    reason: "information element runs past the UDH",
                }),
        };
        match element {
            Ok((element, tail)) => {
                self.rest = tail;
                Some(Ok(element))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Splits a `short_message` that starts with a User Data Header (call it only when
/// `esm_class` has the UDHI bit, SMPP 3.4 §5.2.12) into its concatenation information
/// ([`Udh::concat`]: the last valid concatenation element) and the octets after the
/// header.
///
/// # Errors
/// [`TextError::BadUdh`] if the input is empty, the header or an element runs past
/// its bounds, or a concatenation element has the wrong length.
pub fn parse_udh(short_message: &[u8]) -> Result<(Option<ConcatInfo>, &[u8]), TextError> {
    let (udh, body) = Udh::split(short_message)?;
    Ok((udh.concat()?, body))
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
    fn seq_above_total_is_ignored_like_seq_zero() {
        assert_eq!(
            parse_udh(&[0x05, 0x00, 0x03, 0x01, 0x02, 0x03]).unwrap().0,
            None
        );
        assert_eq!(ConcatInfo::new(1, 2, 3, false), None);
        assert_eq!(ConcatInfo::new(1, 2, 0, true), None);
        assert_eq!(ConcatInfo::new(1, 0, 0, false), None);
        assert_eq!(
            ConcatInfo::new(1, 2, 2, true).map(|c| (c.seq, c.total)),
            Some((2, 2))
        );
    }

    #[test]
    fn elements_are_walked_in_order_up_to_the_first_broken_one() {
        // An empty IE 0x05, a concatenation element, then a lone octet; "x" after the UDH.
        let sm = [0x08, 0x05, 0x00, 0x00, 0x03, 0x07, 0x02, 0x01, 0x70, b'x'];
        let (udh, body) = Udh::split(&sm).unwrap();
        assert_eq!(udh.as_bytes(), &sm[..9]);
        assert_eq!(body, b"x");
        let walked: Vec<_> = udh.elements().collect();
        assert_eq!(
            walked,
            [
                Ok(InformationElement {
                    iei: 0x05,
                    data: &[]
                }),
                Ok(InformationElement {
                    iei: 0x00,
                    data: &[0x07, 0x02, 0x01]
                }),
                Err(TextError::BadUdh {
                    reason: "information element without a length octet"
                }),
            ]
        );
        // The broken element makes the whole header unusable, concatenation included.
        assert!(udh.concat().is_err());
        assert!(parse_udh(&sm).is_err());
        assert_eq!(
            Udh::split(&[0x03, 0x00]),
            Err(TextError::BadUdh {
                reason: "UDH length exceeds the short_message"
            })
        );
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
