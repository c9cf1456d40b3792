//! Fuzzes `Pdu::decode`: it must never panic, and whatever it accepts must encode back to
//! the very same bytes and decode again to the same PDU.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smpp::{EncodeError, Pdu};

fuzz_target!(|data: &[u8]| {
    let Ok(pdu) = Pdu::decode(data) else {
        return;
    };
    let framed = &data[..pdu.encoded_len()];
    let bytes = match pdu.to_bytes() {
        Ok(bytes) => bytes,
        // Decoding tolerates a request's sequence_number outside 1..=0x7FFFFFFF (section
        // 5.1.4); encoding refuses it. Nothing else may be refused after a decode.
        Err(EncodeError::SequenceNumber(_)) if !pdu.command_id().is_response() => return,
        Err(e) => panic!("decoded PDU does not encode: {e}: {pdu:?}"),
    };
    assert_eq!(bytes, framed, "decode then encode changed the bytes");
    let again = Pdu::decode(&bytes).expect("re-encoded PDU decodes");
    assert_eq!(again, pdu, "encode then decode changed the PDU");
});
