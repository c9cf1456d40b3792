//! The driver behind the instruction counts of `smpp/BENCHMARKS.md`: runs one codec case
//! (the PDUs of `benches/common`) a given number of times inside a `measure_*` function, so
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measure_*'` counts the
//! instructions of exactly those iterations, whatever else the machine is doing.
//!
//! `callgrind <decode|into_owned|encode|receipt|framing|slice> <iterations>`
// A measurement driver: a failed unwrap or expect is a failed measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use bytes::BytesMut;
use smpp::codec::SmppCodec;
use smpp::header::frame_len;
use smpp::{Body, Pdu, DEFAULT_MAX_PDU_LEN};
use std::hint::black_box;
use tokio_util::codec::Decoder;

#[inline(never)]
fn measure_decode(bytes: &[u8], n: usize) {
    for _ in 0..n {
        black_box(Pdu::decode(black_box(bytes)).expect("decodes"));
    }
}

/// Decode, `into_owned` and drop: less the decode case, the cost of keeping a PDU.
#[inline(never)]
fn measure_into_owned(bytes: &[u8], n: usize) {
    for _ in 0..n {
        let pdu = Pdu::decode(black_box(bytes)).expect("decodes");
        black_box(pdu.into_owned());
    }
}

#[inline(never)]
fn measure_encode(pdu: &Pdu<'_>, buf: &mut BytesMut, n: usize) {
    for _ in 0..n {
        buf.clear();
        black_box(pdu).encode(buf).expect("encodes");
        black_box(buf.len());
    }
}

#[inline(never)]
fn measure_receipt(bytes: &[u8], n: usize) {
    for _ in 0..n {
        let pdu = Pdu::decode(black_box(bytes)).expect("decodes");
        let Body::DeliverSm(dsm) = &pdu.body else {
            unreachable!("a deliver_sm")
        };
        let id = dsm.tlvs.receipted_message_id().expect("present");
        let state = dsm.tlvs.message_state().expect("present");
        let network = dsm.tlvs.network_error_code().expect("present");
        black_box((id.len(), state, network));
    }
}

#[inline(never)]
fn measure_framing(src: &mut BytesMut) -> usize {
    let mut codec = SmppCodec::default();
    let mut count = 0;
    while let Some(frame) = codec.decode(src).expect("frames") {
        black_box(frame.pdu().expect("decodes"));
        count += 1;
    }
    count
}

/// The framing floor: the same PDUs framed by hand over a slice, no `Bytes` per frame.
#[inline(never)]
fn measure_slice(mut rest: &[u8]) -> usize {
    let mut count = 0;
    while let Some(len) = frame_len(rest, DEFAULT_MAX_PDU_LEN).expect("frames") {
        let (frame, next) = rest.split_at(len);
        black_box(Pdu::decode(frame).expect("decodes"));
        rest = next;
        count += 1;
    }
    count
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args
        .next()
        .expect("a case: decode, into_owned, encode, receipt, framing or slice");
    let n: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number of iterations");
    let submit = common::submit_sm();
    let bytes = submit.to_bytes().expect("encodes");
    match case.as_str() {
        "decode" => measure_decode(&bytes, n),
        "into_owned" => measure_into_owned(&bytes, n),
        "encode" => measure_encode(&submit, &mut BytesMut::with_capacity(bytes.len()), n),
        "receipt" => {
            let receipt = common::receipt_deliver_sm().to_bytes().expect("encodes");
            measure_receipt(&receipt, n)
        }
        "framing" | "slice" => {
            let mut wire = BytesMut::with_capacity(bytes.len() * n);
            for _ in 0..n {
                wire.extend_from_slice(&bytes);
            }
            let framed = if case == "slice" {
                measure_slice(&wire)
            } else {
                measure_framing(&mut wire)
            };
            assert_eq!(framed, n);
        }
        other => panic!("unknown case {other}"),
    }
}
