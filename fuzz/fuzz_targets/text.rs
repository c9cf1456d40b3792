//! Fuzzes the text module. Byte 0 is a `data_coding`, the rest are short message octets:
//! `decode` and `parse_udh` must never panic. The rest, read as UTF-8 (lossily), is also a
//! text to send: `split` in the encoding `choose` picks, with every `Concat` mode, must give
//! parts that decode, one by one, back to the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smpp::text::{self, Concat, Encoding, TextError};

const ALL_CONCAT: [Concat; 4] = [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload];

fuzz_target!(|data: &[u8]| {
    let Some((&data_coding, rest)) = data.split_first() else {
        return;
    };

    // Receiving side.
    let decoded = text::decode(data_coding, rest);
    match (Encoding::from_data_coding(data_coding), &decoded) {
        // Latin-1 and UTF-16 decoding are exact: what decodes encodes back to the octets.
        (Some(enc @ (Encoding::Latin1 | Encoding::Ucs2)), Ok(s)) => {
            assert_eq!(
                text::encode(s, enc).as_deref(),
                Ok(rest),
                "{enc:?} decode is not exact"
            );
        }
        (None, r) => assert_eq!(
            r,
            &Err(TextError::UnsupportedDataCoding { data_coding }),
            "unsupported data_coding 0x{data_coding:02X}"
        ),
        _ => {}
    }
    if let Ok((info, body)) = text::parse_udh(rest) {
        if let Some(info) = info {
            assert!(info.total != 0 && info.seq != 0 && info.seq <= info.total);
        }
        assert!(rest.ends_with(body));
        let _ = text::decode(data_coding, body);
    }

    // Sending side.
    let text = String::from_utf8_lossy(rest);
    let encoding = text::choose(&text);
    assert_ne!(encoding, Encoding::Octet);
    let reference = u16::from_be_bytes([data_coding, rest.first().copied().unwrap_or(0)]);
    for concat in ALL_CONCAT {
        let split = match text::split(&text, encoding, concat, reference) {
            Ok(split) => split,
            Err(TextError::TooManySegments { .. } | TextError::TooLong { .. }) => continue,
            Err(e) => panic!("split({encoding:?}, {concat:?}) of {text:?} failed: {e}"),
        };
        assert_eq!(split.encoding, encoding);
        let total = split.segments.len();
        assert!((1..=text::MAX_SEGMENTS).contains(&total));
        // segment_count_for is documented as the number of parts split makes.
        assert_eq!(
            total,
            text::segment_count_for(&text, encoding, concat),
            "{encoding:?}/{concat:?} segment count"
        );
        let mut joined = String::new();
        for (i, seg) in split.segments.iter().enumerate() {
            assert_eq!(usize::from(seg.index), i + 1);
            assert_eq!(usize::from(seg.total), total);
            // What a receiver does: strip the UDH when UDHI is set, decode by data_coding.
            let sm = seg.short_message();
            let payload = if seg.esm_class_udhi() {
                let (info, body) = text::parse_udh(&sm)
                    .unwrap_or_else(|e| panic!("{concat:?} part {} has a bad UDH: {e}", i + 1));
                let info = info.expect("UDH without a concatenation element");
                assert_eq!(
                    (info.reference, info.total, info.seq),
                    (split.reference, seg.total, seg.index)
                );
                body
            } else {
                &sm[..]
            };
            assert_eq!(payload, &seg.payload[..]);
            let part = text::decode(encoding.data_coding(), payload).unwrap_or_else(|e| {
                panic!(
                    "{encoding:?}/{concat:?} part {} does not decode: {e}",
                    i + 1
                )
            });
            joined.push_str(&part);
        }
        assert_eq!(
            joined, text,
            "{encoding:?}/{concat:?} reassembly changed the text"
        );
    }
});
