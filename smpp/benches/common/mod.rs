//! The sample PDUs the codec benches measure and the no-allocation test decodes: what a
//! verification gateway sends and receives most, with realistic field values.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use smpp::pdu::{DeliverSm, SubmitSm};
use smpp::tlv::{NetworkErrorCode, Tlv, Tlvs};
use smpp::values::{esm_class, registered_delivery};
use smpp::{Body, Octets, Pdu};

/// A 40-character Japanese verification text: 80 octets of UCS-2, one segment.
pub const JAPANESE_TEXT: &str =
    "【スマゲート】認証コードは123456です。10分以内に画面に入力してください。";

/// The carrier's message id the receipt refers to.
pub const MESSAGE_ID: &str = "0a1b2c3d4e5f6789";

/// submit_sm (4.4.1) of [`JAPANESE_TEXT`] from an alphanumeric sender to a Japanese mobile
/// number, UCS-2 (data_coding 0x08), asking for a final delivery receipt.
pub fn submit_sm() -> Pdu<'static> {
    let ucs2: Vec<u8> = JAPANESE_TEXT
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_eq!(ucs2.len(), 80, "40 UCS-2 characters");
    Pdu::new(
        0x0001_2345,
        Body::SubmitSm(SubmitSm {
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "SMSGATE".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "819012345678".into(),
            registered_delivery: registered_delivery::RECEIPT_FINAL,
            data_coding: 0x08,
            short_message: Octets::from(ucs2),
            ..Default::default()
        }),
    )
}

/// deliver_sm (4.6.1) carrying the Appendix B delivery receipt for [`MESSAGE_ID`], with the
/// receipted_message_id, message_state and network_error_code TLVs SMSCs add to it.
pub fn receipt_deliver_sm() -> Pdu<'static> {
    let text = format!(
        "id:{MESSAGE_ID} sub:001 dlvrd:001 submit date:2611251200 \
         done date:2611251201 stat:DELIVRD err:000 text:"
    );
    let tlvs = Tlvs::new()
        .with(Tlv::ReceiptedMessageId(MESSAGE_ID.into()))
        .and_then(|t| t.with(Tlv::MessageState(2)))
        .and_then(|t| {
            t.with(Tlv::NetworkErrorCode(NetworkErrorCode {
                network_type: 3,
                error_code: 0,
            }))
        })
        .expect("valid TLVs");
    Pdu::new(
        0x0000_0777,
        Body::DeliverSm(DeliverSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "819012345678".into(),
            dest_addr_ton: 5,
            dest_addr_npi: 0,
            destination_addr: "SMSGATE".into(),
            esm_class: esm_class::DELIVERY_RECEIPT,
            short_message: Octets::from(text.into_bytes()),
            tlvs: tlvs.into_owned(),
            ..Default::default()
        }),
    )
}
