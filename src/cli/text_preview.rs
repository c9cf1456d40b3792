//! A readable preview of a message's octets for `smsgate pdu decode`: the UDH split off
//! when esm_class has UDHI, and the text when data_coding names an alphabet we can read.
//! The alphabets and the UDH walk are `smpp::text`'s; this module adds the labels and the
//! JSON breakdown.

use serde::Serialize;
use smpp::octets::to_hex;
use smpp::text::Encoding;
use smpp::values::{data_coding, esm_class};

/// What a message's octets say, as far as the preview can tell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preview {
    /// The User Data Header, when esm_class has UDHI.
    pub udh: Option<Udh>,
    /// The alphabet the text was read in, when data_coding names one we know.
    pub encoding: Option<&'static str>,
    /// The text, when the octets (after the UDH) are valid in that alphabet.
    pub text: Option<String>,
}

/// A User Data Header (3GPP TS 23.040 9.2.3.24): its octets and information elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Udh {
    /// The whole header as hex, UDHL included.
    pub hex: String,
    /// The information elements in order.
    pub elements: Vec<UdhElement>,
    /// The concatenation IE (0x00 8-bit or 0x08 16-bit reference), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concat: Option<Concat>,
    /// Why the header could not be read whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One information element of a UDH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdhElement {
    /// The information element identifier.
    pub iei: u8,
    /// Its data as hex.
    pub data: String,
}

/// A concatenated-message IE: which message, how many parts, which part this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Concat {
    /// The reference number shared by every part.
    pub reference: u16,
    /// The number of parts.
    pub total: u8,
    /// This part's number, from 1.
    pub seqnum: u8,
}

/// Previews `bytes` sent with `esm_class` and `data_coding`.
pub fn preview(esm_class: u8, data_coding: u8, bytes: &[u8]) -> Preview {
    let mut out = Preview::default();
    let mut rest = bytes;
    if esm_class::has_udhi(esm_class) {
        let (udh, after) = split_udh(bytes);
        let broken = udh.error.is_some();
        out.udh = Some(udh);
        if broken {
            return out;
        }
        rest = after;
    }
    let Some((label, encoding)) = alphabet(data_coding) else {
        return out;
    };
    out.encoding = Some(label);
    out.text = smpp::text::decode_as(encoding, rest).ok();
    out
}

/// The alphabet `data_coding` names (section 5.2.19, via `smpp::text`), with its label.
fn alphabet(data_coding: u8) -> Option<(&'static str, Encoding)> {
    let encoding = Encoding::from_data_coding(data_coding)?;
    let label = match (data_coding, encoding) {
        (data_coding::IA5, _) => "ia5",
        (_, Encoding::Gsm7) => "gsm7",
        (_, Encoding::Latin1) => "latin1",
        (_, Encoding::Ucs2) => "ucs2",
        (_, Encoding::Octet) => return None,
    };
    Some((label, encoding))
}

/// Splits a UDH off the front of `bytes` with the codec's walker (`smpp::text::Udh`), so
/// the preview shows what the codec and the simulator read: the elements up to the first
/// broken one, and the concatenation element that counts (the last valid one).
fn split_udh(bytes: &[u8]) -> (Udh, &[u8]) {
    let (header, body) = match smpp::text::Udh::split(bytes) {
        Ok(split) => split,
        Err(e) => {
            let udh = Udh {
                hex: to_hex(bytes),
                elements: Vec::new(),
                concat: None,
                error: Some(e.to_string()),
            };
            return (udh, bytes);
        }
    };
    let mut udh = Udh {
        hex: to_hex(header.as_bytes()),
        elements: Vec::new(),
        concat: None,
        error: None,
    };
    for element in header.elements() {
        match element {
            Ok(ie) => udh.elements.push(UdhElement {
                iei: ie.iei,
                data: to_hex(ie.data),
            }),
            Err(e) => {
                udh.error = Some(e.to_string());
                break;
            }
        }
    }
    match header.concat() {
        Ok(concat) => {
            udh.concat = concat.map(|c| Concat {
                reference: c.reference,
                total: c.total,
                seqnum: c.seq,
            })
        }
        Err(e) => {
            udh.error.get_or_insert_with(|| e.to_string());
        }
    }
    (udh, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_reads_basic_and_extension_characters() {
        let p = preview(0, 0, &[0x00, 0x41, 0x1B, 0x65, 0x20, 0x11, 0x1B, 0x3C]);
        assert_eq!(p.encoding, Some("gsm7"));
        assert_eq!(p.text.as_deref(), Some("@A€ _["));
        assert_eq!(preview(0, 0, &[0x80]).text, None);
        // smpp::text is tolerant: a lone trailing escape reads as a space.
        assert_eq!(preview(0, 0, &[0x41, 0x1B]).text.as_deref(), Some("A "));
    }

    #[test]
    fn ucs2_reads_surrogate_pairs_and_refuses_odd_lengths() {
        let bytes: Vec<u8> = "日本😀".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(preview(0, 8, &bytes).text.as_deref(), Some("日本😀"));
        assert_eq!(preview(0, 8, &bytes[..3]).text, None);
        assert_eq!(preview(0, 8, &[0xD8, 0x00]).text, None);
    }

    #[test]
    fn ia5_and_latin1() {
        assert_eq!(preview(0, 1, b"hi").text.as_deref(), Some("hi"));
        // IA5 is read as Latin-1, its superset, so a stray high octet still shows.
        assert_eq!(preview(0, 1, &[0xE9]).text.as_deref(), Some("é"));
        assert_eq!(preview(0, 3, &[0xE9]).text.as_deref(), Some("é"));
        assert_eq!(preview(0, 4, b"bin"), Preview::default());
    }

    #[test]
    fn udh_is_split_off_and_concat_read() {
        let p = preview(0x40, 0, &[5, 0, 3, 0x0a, 2, 1, b'h', b'i']);
        let udh = p.udh.expect("udh");
        assert_eq!(udh.hex, "0500030a0201");
        assert_eq!(
            udh.concat,
            Some(Concat {
                reference: 10,
                total: 2,
                seqnum: 1
            })
        );
        assert_eq!(udh.error, None);
        assert_eq!(p.text.as_deref(), Some("hi"));

        let p = preview(0x40, 8, &[6, 8, 4, 0x12, 0x34, 3, 2, 0x30, 0x42]);
        assert_eq!(
            p.udh.and_then(|u| u.concat).map(|c| c.reference),
            Some(0x1234)
        );
        assert_eq!(p.text.as_deref(), Some("\u{3042}"));
    }

    #[test]
    fn broken_udh_is_reported_without_text() {
        let p = preview(0x40, 0, &[9, 0, 3]);
        assert!(p.udh.as_ref().and_then(|u| u.error.as_ref()).is_some());
        assert_eq!(p.text, None);
        let p = preview(0x40, 0, &[3, 0, 5, 1]);
        assert!(p.udh.and_then(|u| u.error).is_some());
        assert!(preview(0x40, 0, &[]).udh.and_then(|u| u.error).is_some());
    }

    /// Two concatenation elements, an 8-bit one then a 16-bit one: the preview shows both
    /// elements and takes the concatenation the codec takes, the last (TS 23.040 9.2.3.24).
    #[test]
    fn two_concat_elements_the_preview_and_the_codec_agree() {
        let sm = [
            0x0B, 0x00, 0x03, 0x0a, 0x02, 0x01, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, b'h', b'i',
        ];
        let p = preview(0x40, 0, &sm);
        let udh = p.udh.expect("udh");
        assert_eq!(udh.error, None);
        assert_eq!(udh.elements.len(), 2);
        assert_eq!(
            udh.concat,
            Some(Concat {
                reference: 0x1234,
                total: 3,
                seqnum: 2
            })
        );
        let (codec, body) = smpp::text::parse_udh(&sm).expect("valid");
        assert_eq!(
            codec.map(|c| (c.reference, c.total, c.seq)),
            udh.concat.map(|c| (c.reference, c.total, c.seqnum))
        );
        assert_eq!(body, b"hi");
        assert_eq!(p.text.as_deref(), Some("hi"));
        // The first element valid, the last one to ignore (seq above total): both keep the
        // first.
        let sm = [
            0x0A, 0x00, 0x03, 0x0a, 0x02, 0x01, 0x00, 0x03, 0x0b, 0x02, 0x03,
        ];
        let udh = preview(0x40, 0, &sm).udh.expect("udh");
        let (codec, _) = smpp::text::parse_udh(&sm).expect("valid");
        assert_eq!(udh.concat.map(|c| c.reference), Some(10));
        assert_eq!(codec.map(|c| c.reference), Some(10));
    }

    #[test]
    fn a_concat_element_to_ignore_is_listed_but_not_taken() {
        for (total, seq) in [(2, 3), (2, 0), (0, 0)] {
            let p = preview(0x40, 0, &[5, 0, 3, 9, total, seq, b'x']);
            let udh = p.udh.expect("udh");
            assert_eq!(udh.elements.len(), 1);
            assert_eq!(udh.concat, None, "total {total}, seq {seq}");
            assert_eq!(udh.error, None);
            assert_eq!(p.text.as_deref(), Some("x"));
        }
    }

    #[test]
    fn a_concat_element_of_the_wrong_length_breaks_the_header_as_in_the_codec() {
        let sm = [4, 0, 2, 9, 1, b'x'];
        assert!(smpp::text::parse_udh(&sm).is_err());
        let p = preview(0x40, 0, &sm);
        let udh = p.udh.expect("udh");
        assert_eq!(udh.elements.len(), 1);
        assert!(udh.error.is_some());
        assert_eq!(p.text, None);
    }
}
