//! Splitting text into SMPP short messages: concatenation UDH (3GPP TS 23.040 §9.2.3.24.1/.8), SAR TLVs (SMPP 3.4 §5.3.2.22-24) or one `message_payload` (SMPP 3.4 §5.3.2.32).
//!
//! Capacities per part, in units of the encoding (septets, octets, UTF-16 code units):
//!
//! | encoding | single message | 8-bit ref UDH | 16-bit ref UDH / SAR |
//! |----------|---------------:|--------------:|---------------------:|
//! | GSM 7    | 160            | 153                 | 152            |
//! | Latin-1, 8-bit | 140      | 134                 | 133            |
//! | UCS-2    | 70             | 67                  | 66             |
//!
//! They follow from TP-UD's 140 octets (TS 23.040 §9.2.3.16) less the UDH: 6 octets
//! for IE 0x00, 7 for IE 0x08; GSM text after a UDH starts on a septet boundary, so
//! (1120 - 48) / 7 rounds down to 153 and (1120 - 56) / 7 = 152. With SAR TLVs the
//! SMSC builds the UDH over the air from a 16-bit sar_msg_ref_num (SMPP 3.4 §5.3.2.22),
//! which it may carry in IE 0x08; SAR parts are sized for that 7-octet UDH
//! (152/133/66) so that no part overflows whichever IE the SMSC picks.
//!
//! A character is never split: a GSM escape sequence (0x1B + code, TS 23.038 §6.2.1.1)
//! or a UTF-16 surrogate pair that would straddle a boundary moves whole to the next
//! part, which leaves that part one unit short.
//!
//! GSM 7-bit payloads are unpacked septets, one per octet, as SMPP carries them;
//! packing with fill bits for the air interface is the SMSC's job (see
//! [`crate::text::gsm7::pack`] for those who need it).

use crate::text::{encode, gsm7, ucs2, ConcatInfo, Encoding, TextError};

/// Most parts a concatenated message can have: the total is one octet
/// (TS 23.040 §9.2.3.24.1; SMPP 3.4 §5.3.2.23).
pub const MAX_SEGMENTS: usize = 255;

/// Most octets a `message_payload` TLV can carry: its length field is 16 bits
/// (SMPP 3.4 §3.2.4.1, §5.3.2.32). SMSCs often accept less.
pub const MAX_PAYLOAD_LEN: usize = 65_535;

/// How a text longer than one short message is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Concat {
    /// Each part's `short_message` starts with a UDH holding IE 0x00, an 8-bit
    /// reference: `05 00 03 ref total seq` (TS 23.040 §9.2.3.24.1).
    Udh8,
    /// Each part's `short_message` starts with a UDH holding IE 0x08, a 16-bit
    /// reference: `06 08 04 refhi reflo total seq` (TS 23.040 §9.2.3.24.8).
    Udh16,
    /// No UDH; each part goes out with the `sar_msg_ref_num`, `sar_total_segments`
    /// and `sar_segment_seqnum` TLVs (SMPP 3.4 §5.3.2.22-24) and the SMSC builds the UDH.
    Sar,
    /// No splitting: the whole text in one `message_payload` TLV (SMPP 3.4 §5.3.2.32),
    /// with `sm_length` 0.
    Payload,
}

impl Concat {
    /// Octets of UDH each part's `short_message` starts with: 6, 7, or 0 for SAR
    /// and payload.
    pub const fn udh_len(self) -> usize {
        match self {
            Concat::Udh8 => 6,
            Concat::Udh16 => 7,
            Concat::Sar | Concat::Payload => 0,
        }
    }

    /// Units of `encoding` (septets, octets, UTF-16 code units) that one part of a
    /// split text carries; for [`Concat::Payload`], what fits [`MAX_PAYLOAD_LEN`].
    pub const fn part_capacity(self, encoding: Encoding) -> usize {
        match (self, encoding) {
            (Concat::Payload, _) => MAX_PAYLOAD_LEN / encoding.unit_octets(),
            (Concat::Udh8, Encoding::Gsm7) => 153,
            (Concat::Udh16 | Concat::Sar, Encoding::Gsm7) => 152,
            (Concat::Udh8, Encoding::Latin1 | Encoding::Octet) => 134,
            (Concat::Udh16 | Concat::Sar, Encoding::Latin1 | Encoding::Octet) => 133,
            (Concat::Udh8, Encoding::Ucs2) => 67,
            (Concat::Udh16 | Concat::Sar, Encoding::Ucs2) => 66,
        }
    }
}

impl Encoding {
    /// Units (septets, octets, UTF-16 code units) that fit one unsplit short message:
    /// 160 for GSM 7-bit, 140 for Latin-1 and 8-bit data, 70 for UCS-2
    /// (TS 23.040 §9.2.3.16: 140 octets of TP-UD).
    pub const fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Latin1 | Encoding::Octet => 140,
            Encoding::Ucs2 => 70,
        }
    }

    /// Octets per unit in encoded data: 2 for UCS-2, otherwise 1 (GSM septets are
    /// one per octet, unpacked).
    const fn unit_octets(self) -> usize {
        match self {
            Encoding::Ucs2 => 2,
            Encoding::Gsm7 | Encoding::Latin1 | Encoding::Octet => 1,
        }
    }
}

/// One part of a split text, ready for a `submit_sm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Position of this part, 1-based.
    pub index: u8,
    /// Number of parts.
    pub total: u8,
    /// The User Data Header that precedes the payload in `short_message`, if any.
    pub udh: Option<Vec<u8>>,
    /// Encoded text of this part, without the UDH (GSM 7-bit: unpacked septets).
    pub payload: Vec<u8>,
}

impl Segment {
    /// The `short_message` (or `message_payload`) octets: the UDH, if any, then the payload.
    pub fn short_message(&self) -> Vec<u8> {
        let udh = self.udh.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(udh.len() + self.payload.len());
        out.extend_from_slice(udh);
        out.extend_from_slice(&self.payload);
        out
    }

    /// Whether `esm_class` must have the UDHI bit ([`crate::values::esm_class::UDHI`]) set for this
    /// part, i.e. whether it carries a UDH.
    pub fn esm_class_udhi(&self) -> bool {
        self.udh.is_some()
    }
}

/// A text split into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The encoding of every payload; send its [`Encoding::data_coding`].
    pub encoding: Encoding,
    /// How the parts are tied together.
    pub concat: Concat,
    /// The reference number the parts share: as given, except that [`Concat::Udh8`]
    /// keeps only the low 8 bits, which is what goes on the wire. For [`Concat::Sar`]
    /// it is the `sar_msg_ref_num` value.
    pub reference: u16,
    /// The parts, in order; exactly one (without UDH) if the text fits one message.
    pub segments: Vec<Segment>,
}

impl Split {
    /// Whether the text needed more than one part (and so, for [`Concat::Sar`], the
    /// SAR TLVs).
    pub fn is_concatenated(&self) -> bool {
        self.segments.len() > 1
    }
}

/// Greedy packing of indivisible groups of units into parts of `cap` units.
struct Packer {
    cap: usize,
    used: usize,
    parts: usize,
}

impl Packer {
    fn new(cap: usize) -> Self {
        Packer {
            cap,
            used: 0,
            parts: 1,
        }
    }

    /// Adds a group of `width` units; returns true if it had to start a new part.
    fn push(&mut self, width: usize) -> bool {
        if self.used > 0 && self.used.saturating_add(width) > self.cap {
            self.parts += 1;
            self.used = width;
            true
        } else {
            self.used = self.used.saturating_add(width);
            false
        }
    }
}

/// Units `ch` takes in `encoding`; characters that are not representable count one
/// unit (for [`Encoding::Octet`], its UTF-8 octets).
fn char_units(ch: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => gsm7::char_septets(ch).unwrap_or(1),
        Encoding::Latin1 => 1,
        Encoding::Ucs2 => ch.len_utf16(),
        Encoding::Octet => ch.len_utf8(),
    }
}

/// Number of parts [`split`] makes of `text` with an 8-bit-reference UDH (or SAR,
/// same sizes): see [`segment_count_for`].
pub fn segment_count(text: &str, encoding: Encoding) -> usize {
    segment_count_for(text, encoding, Concat::Udh8)
}

/// Number of parts [`split`] makes of `text`, computed without allocating.
///
/// Always 1 for [`Concat::Payload`]. The count is returned even above
/// [`MAX_SEGMENTS`] (where `split` fails) and for text that is not representable
/// in `encoding` (such characters count one unit; `split` would reject them).
pub fn segment_count_for(text: &str, encoding: Encoding, concat: Concat) -> usize {
    if concat == Concat::Payload {
        return 1;
    }
    let units: usize = text.chars().map(|ch| char_units(ch, encoding)).sum();
    if units <= encoding.single_capacity() {
        return 1;
    }
    let mut packer = Packer::new(concat.part_capacity(encoding));
    for ch in text.chars() {
        packer.push(char_units(ch, encoding));
    }
    packer.parts
}

/// Encodes `text` in `encoding` and splits it into parts for `concat`.
///
/// A text that fits one message gives one [`Segment`] without UDH (for any
/// `concat`). Otherwise each part holds at most [`Concat::part_capacity`] units,
/// never splitting a GSM escape sequence or a surrogate pair. `reference` is the
/// concatenation reference (low 8 bits only for [`Concat::Udh8`]); choose a fresh
/// one per message and destination.
///
/// # Errors
/// - [`TextError::NotRepresentable`] if `text` does not fit `encoding`;
/// - [`TextError::Binary`] for [`Encoding::Octet`] (use [`split_bytes`]);
/// - [`TextError::TooManySegments`] above [`MAX_SEGMENTS`] parts;
/// - [`TextError::TooLong`] if a [`Concat::Payload`] exceeds [`MAX_PAYLOAD_LEN`] octets.
pub fn split(
    text: &str,
    encoding: Encoding,
    concat: Concat,
    reference: u16,
) -> Result<Split, TextError> {
    let data = encode(text, encoding)?;
    split_bytes(&data, encoding, concat, reference)
}

/// Octets of the indivisible group starting at `pos` in encoded `data`:
/// an escape sequence, a surrogate pair, or a single unit.
fn group_len(data: &[u8], pos: usize, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => {
            if data.get(pos) == Some(&gsm7::ESCAPE) && pos + 1 < data.len() {
                2
            } else {
                1
            }
        }
        Encoding::Ucs2 => {
            let high = data.get(pos).is_some_and(|&b| ucs2::is_high_surrogate(b));
            let low_next = data
                .get(pos + 2)
                .is_some_and(|&b| ucs2::is_low_surrogate(b));
            if high && low_next {
                4
            } else {
                2
            }
        }
        Encoding::Latin1 | Encoding::Octet => 1,
    }
}

/// Splits already-encoded user data, as [`split`] does after encoding; this is also
/// how to segment 8-bit binary data ([`Encoding::Octet`]).
///
/// `data` is unpacked septets for GSM 7-bit and UTF-16BE for UCS-2.
///
/// # Errors
/// [`TextError::InvalidSeptet`] if GSM 7-bit data has an octet above 0x7F,
/// [`TextError::OddUcs2Length`] for UCS-2 data of odd length, otherwise as [`split`].
pub fn split_bytes(
    data: &[u8],
    encoding: Encoding,
    concat: Concat,
    reference: u16,
) -> Result<Split, TextError> {
    match encoding {
        Encoding::Gsm7 => {
            if let Some((index, &value)) = data.iter().enumerate().find(|(_, &b)| b > 0x7F) {
                return Err(TextError::InvalidSeptet { value, index });
            }
        }
        Encoding::Ucs2 if !data.len().is_multiple_of(2) => {
            return Err(TextError::OddUcs2Length { len: data.len() })
        }
        _ => {}
    }
    let reference = match concat {
        Concat::Udh8 => reference & 0xFF,
        Concat::Udh16 | Concat::Sar | Concat::Payload => reference,
    };
    let single = |payload: &[u8]| Split {
        encoding,
        concat,
        reference,
        segments: vec![Segment {
            index: 1,
            total: 1,
            udh: None,
            payload: payload.to_vec(),
        }],
    };
    if concat == Concat::Payload {
        if data.len() > MAX_PAYLOAD_LEN {
            return Err(TextError::TooLong {
                len: data.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }
        return Ok(single(data));
    }
    let unit = encoding.unit_octets();
    if data.len() <= encoding.single_capacity() * unit {
        return Ok(single(data));
    }
    let cap = concat.part_capacity(encoding) * unit;

    // First pass: count parts, so an oversized text fails before allocating them.
    let mut packer = Packer::new(cap);
    let mut pos = 0;
    while pos < data.len() {
        let len = group_len(data, pos, encoding);
        packer.push(len);
        pos += len;
    }
    let total = u8::try_from(packer.parts).map_err(|_| TextError::TooManySegments {
        needed: packer.parts,
    })?;

    // Second pass: cut at the same places.
    let mut segments = Vec::with_capacity(usize::from(total));
    let mut index: u8 = 1;
    let mut cut = |start: usize, end: usize, index: u8| {
        let info = ConcatInfo {
            reference,
            total,
            seq: index,
            reference_16bit: concat == Concat::Udh16,
        };
        segments.push(Segment {
            index,
            total,
            udh: (concat != Concat::Sar).then(|| info.to_udh()),
            payload: data.get(start..end).map(<[u8]>::to_vec).unwrap_or_default(),
        });
    };
    let mut packer = Packer::new(cap);
    let (mut start, mut pos) = (0, 0);
    while pos < data.len() {
        let len = group_len(data, pos, encoding);
        if packer.push(len) {
            cut(start, pos, index);
            index = index.saturating_add(1);
            start = pos;
        }
        pos += len;
    }
    cut(start, data.len(), index);
    Ok(Split {
        encoding,
        concat,
        reference,
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{decode_as, parse_udh};
    use proptest::prelude::*;

    const ALL_CONCAT: [Concat; 4] = [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload];

    fn lens(split: &Split) -> Vec<usize> {
        split.segments.iter().map(|s| s.payload.len()).collect()
    }

    fn joined(split: &Split) -> String {
        let data: Vec<u8> = split
            .segments
            .iter()
            .flat_map(|s| s.payload.iter().copied())
            .collect();
        decode_as(split.encoding, &data).unwrap()
    }

    #[test]
    fn gsm7_single_and_two_parts() {
        let t160 = "a".repeat(160);
        let s = split(&t160, Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![160]);
        assert_eq!(s.segments[0].udh, None);
        assert!(!s.segments[0].esm_class_udhi());
        assert!(!s.is_concatenated());
        assert_eq!(segment_count(&t160, Encoding::Gsm7), 1);

        let t161 = "a".repeat(161);
        let s = split(&t161, Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![153, 8]);
        assert_eq!(segment_count(&t161, Encoding::Gsm7), 2);
        let s = split(&t161, Encoding::Gsm7, Concat::Udh16, 1).unwrap();
        assert_eq!(lens(&s), vec![152, 9]);

        let s = split(&"a".repeat(306), Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![153, 153]);
        let s = split(&"a".repeat(307), Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![153, 153, 1]);
    }

    #[test]
    fn gsm7_escape_never_split() {
        // 158 + '€' = 160 septets: one message; 159 + '€' = 161: two.
        let t = format!("{}€", "a".repeat(158));
        assert_eq!(segment_count(&t, Encoding::Gsm7), 1);
        let t = format!("{}€", "a".repeat(159));
        let s = split(&t, Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![153, 8]);

        // '€' would take septets 153 and 154: it moves, part 1 is one short.
        let t = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let s = split(&t, Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![152, 12]);
        assert_eq!(&s.segments[1].payload[..2], &[0x1B, 0x65]);
        assert_eq!(segment_count(&t, Encoding::Gsm7), 2);
        // ...while 151 + '€' fills part 1 exactly.
        let t = format!("{}€{}", "a".repeat(151), "b".repeat(10));
        let s = split(&t, Encoding::Gsm7, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![153, 10]);
        assert_eq!(&s.segments[0].payload[151..], &[0x1B, 0x65]);
        // Same with the 16-bit UDH at 152.
        let t = format!("{}{{{}", "a".repeat(151), "b".repeat(10));
        let s = split(&t, Encoding::Gsm7, Concat::Udh16, 1).unwrap();
        assert_eq!(lens(&s), vec![151, 12]);
        assert_eq!(segment_count_for(&t, Encoding::Gsm7, Concat::Udh16), 2);
        for seg in &s.segments {
            decode_as(Encoding::Gsm7, &seg.payload).unwrap();
            assert_ne!(seg.payload.last(), Some(&0x1B));
        }
    }

    #[test]
    fn japanese_ucs2() {
        let t70 = "日".repeat(70);
        assert_eq!(segment_count(&t70, Encoding::Ucs2), 1);
        assert_eq!(
            lens(&split(&t70, Encoding::Ucs2, Concat::Udh8, 1).unwrap()),
            vec![140]
        );
        let t71 = "日".repeat(71);
        assert_eq!(segment_count(&t71, Encoding::Ucs2), 2);
        assert_eq!(
            lens(&split(&t71, Encoding::Ucs2, Concat::Udh8, 1).unwrap()),
            vec![134, 8]
        );
        let t670 = "日本語".repeat(223) + "日";
        assert_eq!(t670.chars().count(), 670);
        assert_eq!(segment_count(&t670, Encoding::Ucs2), 10);
        let s = split(&t670, Encoding::Ucs2, Concat::Udh8, 9).unwrap();
        assert_eq!(lens(&s), vec![134; 10]);
        for (i, seg) in s.segments.iter().enumerate() {
            assert_eq!(usize::from(seg.index), i + 1);
            assert_eq!(seg.total, 10);
            assert_eq!(
                decode_as(Encoding::Ucs2, &seg.payload)
                    .unwrap()
                    .chars()
                    .count(),
                67
            );
        }
        assert_eq!(joined(&s), t670);
        let s = split(&t71, Encoding::Ucs2, Concat::Udh16, 1).unwrap();
        assert_eq!(lens(&s), vec![132, 10]);
    }

    #[test]
    fn ucs2_surrogate_pair_moves_to_next_part() {
        // 66 units, then an emoji that would take units 67 and 68.
        let t = format!("{}😀{}", "日".repeat(66), "x".repeat(10));
        let s = split(&t, Encoding::Ucs2, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![132, 24]);
        assert_eq!(&s.segments[1].payload[..4], &[0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(segment_count(&t, Encoding::Ucs2), 2);
        for seg in &s.segments {
            decode_as(Encoding::Ucs2, &seg.payload).unwrap();
        }
        // 65 units + emoji fills part 1 exactly.
        let t = format!("{}😀{}", "日".repeat(65), "x".repeat(10));
        let s = split(&t, Encoding::Ucs2, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![134, 20]);
        // 35 emoji = 70 units fit one message; 36 do not.
        assert_eq!(segment_count(&"😀".repeat(35), Encoding::Ucs2), 1);
        let s = split(&"😀".repeat(36), Encoding::Ucs2, Concat::Udh8, 1).unwrap();
        assert_eq!(lens(&s), vec![132, 12]);
    }

    #[test]
    fn latin1_limits() {
        let t140 = "ç".repeat(140);
        assert_eq!(
            lens(&split(&t140, Encoding::Latin1, Concat::Udh8, 1).unwrap()),
            vec![140]
        );
        let t141 = "ç".repeat(141);
        assert_eq!(
            lens(&split(&t141, Encoding::Latin1, Concat::Udh8, 1).unwrap()),
            vec![134, 7]
        );
        assert_eq!(
            lens(&split(&t141, Encoding::Latin1, Concat::Udh16, 1).unwrap()),
            vec![133, 8]
        );
        assert_eq!(segment_count(&t141, Encoding::Latin1), 2);
    }

    #[test]
    fn udh_layouts_and_short_message() {
        let t = "a".repeat(161);
        let s8 = split(&t, Encoding::Gsm7, Concat::Udh8, 0x1234).unwrap();
        assert_eq!(s8.reference, 0x34);
        assert_eq!(
            s8.segments[0].udh,
            Some(vec![0x05, 0x00, 0x03, 0x34, 0x02, 0x01])
        );
        assert_eq!(
            s8.segments[1].udh,
            Some(vec![0x05, 0x00, 0x03, 0x34, 0x02, 0x02])
        );
        let s16 = split(&t, Encoding::Gsm7, Concat::Udh16, 0x1234).unwrap();
        assert_eq!(s16.reference, 0x1234);
        assert_eq!(
            s16.segments[1].udh,
            Some(vec![0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02])
        );
        for split in [&s8, &s16] {
            for seg in &split.segments {
                assert!(seg.esm_class_udhi());
                let sm = seg.short_message();
                assert_eq!(sm.len(), seg.payload.len() + split.concat.udh_len());
                assert!(sm.len() <= 160);
                let (info, body) = parse_udh(&sm).unwrap();
                let info = info.unwrap();
                assert_eq!(
                    (info.reference, info.total, info.seq),
                    (split.reference, 2, seg.index)
                );
                assert_eq!(body, &seg.payload[..]);
            }
        }
        let sar = split(&t, Encoding::Gsm7, Concat::Sar, 0x1234).unwrap();
        assert_eq!(sar.reference, 0x1234);
        assert!(sar.is_concatenated());
        // Sized for the 16-bit-reference UDH the SMSC may build from sar_msg_ref_num.
        assert_eq!(lens(&sar), vec![152, 9]);
        assert!(sar
            .segments
            .iter()
            .all(|s| s.udh.is_none() && !s.esm_class_udhi()));
        assert_eq!(sar.segments[1].short_message(), vec![0x61; 9]);
    }

    #[test]
    fn payload_carries_everything() {
        let t = "日".repeat(1000);
        let s = split(&t, Encoding::Ucs2, Concat::Payload, 7).unwrap();
        assert_eq!(lens(&s), vec![2000]);
        assert_eq!(s.segments[0].udh, None);
        assert_eq!(segment_count_for(&t, Encoding::Ucs2, Concat::Payload), 1);
        assert!(split(
            &"a".repeat(MAX_PAYLOAD_LEN),
            Encoding::Gsm7,
            Concat::Payload,
            0
        )
        .is_ok());
        assert_eq!(
            split(
                &"a".repeat(MAX_PAYLOAD_LEN + 1),
                Encoding::Gsm7,
                Concat::Payload,
                0
            ),
            Err(TextError::TooLong {
                len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        assert_eq!(Concat::Payload.part_capacity(Encoding::Ucs2), 32_767);
    }

    #[test]
    fn limits_and_errors() {
        let max = "a".repeat(153 * 255);
        assert_eq!(
            split(&max, Encoding::Gsm7, Concat::Udh8, 0)
                .unwrap()
                .segments
                .len(),
            255
        );
        let over = "a".repeat(153 * 255 + 1);
        assert_eq!(segment_count(&over, Encoding::Gsm7), 256);
        assert_eq!(
            split(&over, Encoding::Gsm7, Concat::Udh8, 0),
            Err(TextError::TooManySegments { needed: 256 })
        );
        assert!(matches!(
            split("日", Encoding::Gsm7, Concat::Udh8, 0),
            Err(TextError::NotRepresentable {
                ch: '日',
                index: 0,
                ..
            })
        ));
        assert_eq!(
            split("x", Encoding::Octet, Concat::Udh8, 0),
            Err(TextError::Binary)
        );
        assert_eq!(
            split_bytes(&[0x41, 0x80], Encoding::Gsm7, Concat::Udh8, 0),
            Err(TextError::InvalidSeptet {
                value: 0x80,
                index: 1
            })
        );
        assert_eq!(
            split_bytes(&[0; 3], Encoding::Ucs2, Concat::Udh8, 0),
            Err(TextError::OddUcs2Length { len: 3 })
        );
        let s = split("", Encoding::Gsm7, Concat::Udh16, 0).unwrap();
        assert_eq!(s.segments.len(), 1);
        assert!(s.segments[0].payload.is_empty());
    }

    #[test]
    fn binary_segments() {
        let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let s = split_bytes(&data, Encoding::Octet, Concat::Udh8, 3).unwrap();
        assert_eq!(lens(&s), vec![134, 134, 32]);
        let back: Vec<u8> = s.segments.iter().flat_map(|s| s.payload.clone()).collect();
        assert_eq!(back, data);
        assert_eq!(segment_count_for("é", Encoding::Octet, Concat::Udh8), 1);
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        let mut pool = gsm7::all_chars();
        pool.extend([
            'a',
            'a',
            'a',
            'a',
            '€',
            '{',
            'ç',
            '`',
            '日',
            '😀',
            '\u{10FFFF}',
        ]);
        prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(pool), 0..900)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
        ]
    }

    proptest! {
        #[test]
        fn split_round_trips_and_counts_agree(text in text_strategy(), reference in any::<u16>()) {
            for encoding in [Encoding::Gsm7, Encoding::Latin1, Encoding::Ucs2] {
                let representable = match encoding {
                    Encoding::Gsm7 => gsm7::is_representable(&text),
                    Encoding::Latin1 => crate::text::latin1::is_representable(&text),
                    _ => true,
                };
                for concat in ALL_CONCAT {
                    let result = split(&text, encoding, concat, reference);
                    if !representable {
                        let is_not_representable = matches!(result, Err(TextError::NotRepresentable { .. }));
                        prop_assert!(is_not_representable);
                        continue;
                    }
                    let s = result.unwrap();
                    prop_assert_eq!(s.segments.len(), segment_count_for(&text, encoding, concat));
                    if concat == Concat::Udh8 {
                        prop_assert_eq!(s.segments.len(), segment_count(&text, encoding));
                    }
                    prop_assert_eq!(joined(&s), text.clone());
                    let total = s.segments.len();
                    let cap = if concat == Concat::Payload {
                        concat.part_capacity(encoding)
                    } else if total == 1 {
                        encoding.single_capacity()
                    } else {
                        concat.part_capacity(encoding)
                    };
                    for (i, seg) in s.segments.iter().enumerate() {
                        prop_assert_eq!(usize::from(seg.index), i + 1);
                        prop_assert_eq!(usize::from(seg.total), total);
                        prop_assert!(seg.payload.len() <= cap * encoding.unit_octets());
                        // Each part decodes on its own: nothing was split.
                        prop_assert!(decode_as(encoding, &seg.payload).is_ok());
                        prop_assert!(seg.payload.last() != Some(&0x1B) || encoding != Encoding::Gsm7);
                        prop_assert_eq!(seg.esm_class_udhi(), total > 1 && matches!(concat, Concat::Udh8 | Concat::Udh16));
                        if seg.esm_class_udhi() {
                            let sm = seg.short_message();
                            let (info, body) = parse_udh(&sm).unwrap();
                            let info = info.unwrap();
                            prop_assert_eq!((info.reference, info.seq, usize::from(info.total)), (s.reference, seg.index, total));
                            prop_assert_eq!(body, &seg.payload[..]);
                        }
                    }
                }
            }
        }

        #[test]
        fn split_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..1200), reference in any::<u16>()) {
            for encoding in [Encoding::Gsm7, Encoding::Latin1, Encoding::Ucs2, Encoding::Octet] {
                for concat in ALL_CONCAT {
                    if let Ok(s) = split_bytes(&data, encoding, concat, reference) {
                        let back: Vec<u8> = s.segments.iter().flat_map(|s| s.payload.clone()).collect();
                        prop_assert_eq!(&back, &data);
                    }
                }
            }
        }
    }
}
