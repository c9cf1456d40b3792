//! The borrowed decode path makes no heap allocation (issue 2, Performance): decoding a
//! submit_sm and a receipt deliver_sm and reading their fields and TLVs, directly or
//! framed by `SmppCodec`, is counted by a global allocator wrapper and must count zero.
//!
//! This file holds the only `unsafe` of the crate's tests: `GlobalAlloc` cannot be
//! implemented without it. The library itself is `#![forbid(unsafe_code)]`.

#[path = "../benches/common/mod.rs"]
mod common;

use smpp::{Body, Pdu};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the allocations made on each thread (so that the test
/// harness's other threads do not disturb a measurement).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: the thread-local may already be gone while a thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the contract; the
// counter is a const-initialised thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

#[test]
fn the_counter_sees_an_allocation() {
    let (n, v) = allocations_in(|| std::hint::black_box(vec![1u8; 32]));
    assert_eq!(v.len(), 32);
    assert!(n >= 1, "the counting allocator must count");
}

#[test]
fn decoding_a_submit_sm_does_not_allocate() {
    let bytes = common::submit_sm().to_bytes().expect("encodes");
    let (n, ucs2_units) = allocations_in(|| {
        let pdu = Pdu::decode(&bytes).expect("decodes");
        let Body::SubmitSm(sm) = &pdu.body else {
            panic!("not a submit_sm: {:?}", pdu.command_id())
        };
        assert_eq!(pdu.sequence_number, 0x0001_2345);
        assert_eq!(sm.source_addr, "SMSGATE");
        assert_eq!(sm.destination_addr, "819012345678");
        assert_eq!((sm.source_addr_ton, sm.dest_addr_ton), (5, 1));
        assert_eq!((sm.data_coding, sm.registered_delivery), (0x08, 1));
        assert!(sm.service_type.is_empty() && sm.validity_period.is_empty());
        assert!(sm.tlvs.is_empty());
        // Read the text the way a consumer would, without collecting it.
        char::decode_utf16(
            sm.short_message
                .as_bytes()
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]])),
        )
        .try_fold(0usize, |n, c| c.map(|_| n + 1))
        .expect("valid UTF-16")
    });
    assert_eq!(ucs2_units, 40);
    assert_eq!(n, 0, "decoding a submit_sm allocated {n} time(s)");
}

#[test]
fn decoding_a_receipt_and_reading_its_tlvs_does_not_allocate() {
    let bytes = common::receipt_deliver_sm().to_bytes().expect("encodes");
    let (n, ()) = allocations_in(|| {
        let pdu = Pdu::decode(&bytes).expect("decodes");
        let Body::DeliverSm(dsm) = &pdu.body else {
            panic!("not a deliver_sm: {:?}", pdu.command_id())
        };
        assert!(dsm.is_receipt());
        assert_eq!(dsm.source_addr, "819012345678");
        assert!(dsm
            .short_message
            .as_bytes()
            .starts_with(b"id:0a1b2c3d4e5f6789 "));
        assert_eq!(
            dsm.tlvs.receipted_message_id(),
            Some(common::MESSAGE_ID.as_bytes())
        );
        assert_eq!(dsm.tlvs.message_state(), Some(2));
        let network = dsm.tlvs.network_error_code().expect("present");
        assert_eq!((network.network_type, network.error_code), (3, 0));
        assert_eq!(dsm.tlvs.iter().count(), 3);
    });
    assert_eq!(n, 0, "decoding a receipt allocated {n} time(s)");
}

/// The codec's read path: frame a buffer of back-to-back PDUs and decode each frame's PDU,
/// as a connection's reader does.
#[cfg(feature = "tokio-codec")]
#[test]
fn framing_and_decoding_through_the_codec_does_not_allocate() {
    use bytes::BytesMut;
    use smpp::codec::SmppCodec;
    use tokio_util::codec::Decoder;

    const PAIRS: usize = 100;
    let submit = common::submit_sm().to_bytes().expect("encodes");
    let receipt = common::receipt_deliver_sm().to_bytes().expect("encodes");
    let mut src = BytesMut::with_capacity(PAIRS * (submit.len() + receipt.len()));
    for _ in 0..PAIRS {
        src.extend_from_slice(&submit);
        src.extend_from_slice(&receipt);
    }
    let mut codec = SmppCodec::default();
    // The first frame turns the read buffer into a shared one: one allocation per buffer,
    // made here, outside the count; no frame after it allocates.
    let first = codec.decode(&mut src).expect("frames").expect("complete");
    assert_eq!(first.pdu().map(|p| p.sequence_number), Ok(0x0001_2345));
    drop(first);
    let (n, (submits, receipts)) = allocations_in(|| {
        let (mut submits, mut receipts) = (0, 0);
        while let Some(frame) = codec.decode(&mut src).expect("frames") {
            let pdu = frame.pdu().expect("decodes");
            match &pdu.body {
                Body::SubmitSm(sm) => {
                    assert_eq!(sm.destination_addr, "819012345678");
                    assert_eq!(sm.short_message.len(), 80);
                    submits += 1;
                }
                Body::DeliverSm(dsm) => {
                    assert_eq!(
                        dsm.tlvs.receipted_message_id(),
                        Some(common::MESSAGE_ID.as_bytes())
                    );
                    assert_eq!(dsm.tlvs.message_state(), Some(2));
                    receipts += 1;
                }
                other => panic!("unexpected {:?}", other.command_id()),
            }
        }
        (submits, receipts)
    });
    assert_eq!((submits, receipts), (PAIRS - 1, PAIRS));
    assert!(src.is_empty());
    assert_eq!(n, 0, "framing {} PDUs allocated {n} time(s)", 2 * PAIRS - 1);
}

#[test]
fn into_owned_is_where_the_copies_happen() {
    let bytes = common::submit_sm().to_bytes().expect("encodes");
    let pdu = Pdu::decode(&bytes).expect("decodes");
    let (n, owned) = allocations_in(|| pdu.into_owned());
    assert!(n > 0, "into_owned copies the borrowed fields");
    assert_eq!(owned, common::submit_sm());
}
