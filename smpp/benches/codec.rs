//! Codec benches (issue 2, Performance): decode and encode of a submit_sm carrying 40
//! Japanese characters in UCS-2, decode of a delivery receipt with its TLVs, framing 10,000
//! back-to-back PDUs through `SmppCodec` (each frame's PDU decoded borrowed from it) and,
//! as its floor, by hand over a slice, and `Pdu::into_owned` for reference. Every case
//! reports time per PDU (`Throughput::Elements`).
//!
//! `cargo bench -p smpp --all-features --bench codec`
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use smpp::codec::SmppCodec;
use smpp::header::frame_len;
use smpp::{Body, Pdu, DEFAULT_MAX_PDU_LEN};
use tokio_util::codec::Decoder;

/// PDUs in the framing case.
const FRAMED: usize = 10_000;

fn submit_sm(c: &mut Criterion) {
    let pdu = common::submit_sm();
    let bytes = pdu.to_bytes().expect("encodes");
    let mut group = c.benchmark_group("submit_sm");
    group.throughput(Throughput::Elements(1));

    group.bench_function("decode", |b| {
        b.iter(|| Pdu::decode(black_box(&bytes)).expect("decodes"))
    });

    let mut buf = BytesMut::with_capacity(bytes.len());
    group.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pdu).encode(&mut buf).expect("encodes");
            black_box(buf.len())
        })
    });

    group.bench_function("into_owned", |b| {
        b.iter_batched(
            || Pdu::decode(&bytes).expect("decodes"),
            |pdu| black_box(pdu).into_owned(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn receipt(c: &mut Criterion) {
    let bytes = common::receipt_deliver_sm().to_bytes().expect("encodes");
    let mut group = c.benchmark_group("deliver_sm_receipt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decode_and_read_tlvs", |b| {
        b.iter(|| {
            let pdu = Pdu::decode(black_box(&bytes)).expect("decodes");
            let Body::DeliverSm(dsm) = &pdu.body else {
                unreachable!("a deliver_sm")
            };
            let id = dsm.tlvs.receipted_message_id().expect("present");
            let state = dsm.tlvs.message_state().expect("present");
            let network = dsm.tlvs.network_error_code().expect("present");
            black_box((id.len(), state, network));
        })
    });
    group.finish();
}

fn framing(c: &mut Criterion) {
    let one = common::submit_sm().to_bytes().expect("encodes");
    let mut wire = BytesMut::with_capacity(one.len() * FRAMED);
    for _ in 0..FRAMED {
        wire.extend_from_slice(&one);
    }
    let mut group = c.benchmark_group("framing");
    group.throughput(Throughput::Elements(FRAMED as u64));
    group.bench_function("smpp_codec_10k_submit_sm", |b| {
        b.iter_batched(
            || wire.clone(),
            |mut src| {
                let mut codec = SmppCodec::default();
                let mut count = 0usize;
                while let Some(frame) = codec.decode(&mut src).expect("frames") {
                    black_box(frame.pdu().expect("decodes"));
                    count += 1;
                }
                assert_eq!(count, FRAMED);
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("slice_loop_10k_submit_sm", |b| {
        b.iter_batched(
            || wire.clone(),
            |src| {
                // The floor the codec is held to: the same PDUs framed by hand over a
                // slice, with no `Bytes` per frame.
                let mut rest = &src[..];
                let mut count = 0usize;
                while let Some(len) = frame_len(rest, DEFAULT_MAX_PDU_LEN).expect("frames") {
                    let (frame, next) = rest.split_at(len);
                    black_box(Pdu::decode(frame).expect("decodes"));
                    rest = next;
                    count += 1;
                }
                assert_eq!(count, FRAMED);
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, submit_sm, receipt, framing);
criterion_main!(benches);
