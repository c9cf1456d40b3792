//! deliver_sm (section 4.6): the SMSC delivers a mobile-originated message or a delivery
//! receipt, and the ESME answers deliver_sm_resp. Also what a receipt PDU (deliver_sm or
//! data_sm) says about the message it reports on: [`DeliveryReport`].
//!
//! [`DeliverSm`] is laid out as submit_sm but is a type of its own, so a deliver_sm cannot
//! be sent as a submit_sm:
//!
//! ```compile_fail
//! let deliver = smpp::pdu::DeliverSm::default();
//! let _ = smpp::Body::SubmitSm(deliver);
//! ```
//!
//! and a submit_sm has no receipt to read:
//!
//! ```compile_fail
//! let _ = smpp::pdu::SubmitSm::default().delivery_report();
//! ```

use crate::octets::Octets;
use crate::pdu::fields::{pdu_struct, COctetString, ShortMessage};
use crate::receipt::{Receipt, ReceiptError};
use crate::tlv::{NetworkErrorCode, Tlvs};
use crate::values::{esm_class, MessageState};

pdu_struct! {
    /// deliver_sm (4.6.1): laid out as submit_sm (4.4.1), but its own type, so a deliver_sm
    /// cannot be sent as a submit_sm. schedule_delivery_time, validity_period,
    /// replace_if_present_flag and sm_default_msg_id are unused (NULL) in it.
    pub struct DeliverSm<'a> {
        /// service_type (5.2.11), at most 6 octets with the NUL.
        service_type: Octets<'a> as COctetString<6>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8), at most 21 octets with the NUL: the handset, or the
        /// receipted message's destination.
        source_addr: Octets<'a> as COctetString<21>,
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9), at most 21 octets with the NUL.
        destination_addr: Octets<'a> as COctetString<21>,
        /// esm_class (5.2.12): whether this is a receipt, whether there is a UDH; see
        /// [`esm_class`].
        esm_class: u8,
        /// protocol_id (5.2.13).
        protocol_id: u8,
        /// priority_flag (5.2.14).
        priority_flag: u8,
        /// schedule_delivery_time (5.2.15): unused, NULL.
        schedule_delivery_time: Octets<'a> as COctetString<17>,
        /// validity_period (5.2.16): unused, NULL.
        validity_period: Octets<'a> as COctetString<17>,
        /// registered_delivery (5.2.17).
        registered_delivery: u8,
        /// replace_if_present_flag (5.2.18): unused, NULL.
        replace_if_present_flag: u8,
        /// data_coding (5.2.19).
        data_coding: u8,
        /// sm_default_msg_id (5.2.20): unused, NULL.
        sm_default_msg_id: u8,
        /// short_message (5.2.22), 0 to 254 octets; sm_length is its length.
        short_message: Octets<'a> as ShortMessage,
        /// Optional parameters (4.6.1, 5.3): the receipt TLVs, message_payload, ...
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// deliver_sm_resp (4.6.2). The optional part is empty in 3.4 but is kept when an ESME
    /// sends one.
    pub struct DeliverSmResp<'a> {
        /// message_id (5.2.23): unused, NULL; at most 65 octets with the NUL.
        message_id: Octets<'a> as COctetString<65>,
        /// Optional parameters.
        tlvs: Tlvs<'a>,
    }
}

impl DeliverSm<'_> {
    /// True when this deliver_sm carries an SMSC delivery receipt (esm_class xx0001xx) or an
    /// intermediate notification (xx1000xx).
    pub fn is_receipt(&self) -> bool {
        esm_class::is_receipt(self.esm_class)
    }

    /// The delivery report this deliver_sm carries (see [`delivery_report`]): its TLVs,
    /// and its message octets (short_message, else message_payload) as receipt text.
    pub fn delivery_report(&self) -> Result<DeliveryReport, ReceiptError> {
        delivery_report(self.message().payload(), &self.tlvs)
    }
}

/// What a receipt PDU says about the message it reports on. The TLVs win over the text
/// where both are present: receipted_message_id (5.3.2.12), message_state (5.3.2.35) and
/// network_error_code (5.3.2.31) are typed, while the Appendix B text is only "an example"
/// whose form varies by vendor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The SMSC's id of the receipted message: the receipted_message_id TLV, else `id:`.
    pub message_id: String,
    /// The message_state TLV, else the text's `stat:`; `None` when neither says.
    pub state: Option<MessageState>,
    /// The message_state octet when the TLV carried a value section 5.2.28 does not define.
    pub state_raw: Option<u8>,
    /// The network_error_code TLV.
    pub network_error: Option<NetworkErrorCode>,
    /// The receipt text, when it parsed (it may not, when the TLVs carry everything).
    pub text: Option<Receipt>,
}

/// Reads a delivery report from a receipt's text and TLVs.
///
/// Fails only when there is no receipted_message_id TLV and the text does not parse as a
/// receipt: then there is nothing to match the report to.
pub fn delivery_report(text: &[u8], tlvs: &Tlvs<'_>) -> Result<DeliveryReport, ReceiptError> {
    let parsed = Receipt::parse(text);
    let tlv_id = tlvs
        .receipted_message_id()
        .map(|id| String::from_utf8_lossy(id).into_owned());
    let (message_id, text) = match (tlv_id, parsed) {
        (Some(id), parsed) => (id, parsed.ok()),
        (None, Ok(receipt)) => (receipt.id.clone(), Some(receipt)),
        (None, Err(e)) => return Err(e),
    };
    let tlv_state = tlvs.message_state();
    let state = match tlv_state {
        Some(raw) => MessageState::from_u8(raw),
        None => text.as_ref().and_then(|r| r.stat),
    };
    Ok(DeliveryReport {
        message_id,
        state_raw: tlv_state.filter(|raw| MessageState::from_u8(*raw).is_none()),
        state,
        network_error: tlvs.network_error_code(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octets::Octets;
    use crate::pdu::{Body, Pdu};
    use crate::tlv::{Tlv, Tlvs};

    #[test]
    fn receipt_deliver_sm_round_trips_and_is_recognised() {
        let dsm = DeliverSm {
            source_addr: "819012345678".into(),
            destination_addr: "SMSGATE".into(),
            esm_class: esm_class::DELIVERY_RECEIPT,
            short_message: "id:1 sub:001 dlvrd:001 submit date:2611251200 done date:2611251200 stat:DELIVRD err:000 text:".into(),
            tlvs: Tlvs::new()
                .with(Tlv::ReceiptedMessageId("1".into()))
                .and_then(|t| t.with(Tlv::MessageState(2)))
                .expect("valid"),
            ..Default::default()
        };
        assert!(dsm.is_receipt());
        let report = dsm.delivery_report().expect("a receipt");
        assert_eq!(report.message_id, "1");
        assert_eq!(report.state, Some(MessageState::Delivered));
        let pdu = Pdu::new(5, Body::DeliverSm(dsm));
        let bytes = pdu.to_bytes().expect("encodes");
        let back = Pdu::decode(&bytes).expect("decodes");
        assert_eq!(back, pdu);
    }

    #[test]
    fn tlvs_win_over_text_and_text_alone_suffices() {
        // The text says hex id "1f" and UNDELIV; the TLVs say id "31" and DELIVERED.
        let text = b"id:1f sub:001 dlvrd:000 submit date:2611251200 done date:2611251201 stat:UNDELIV err:001 text:";
        let tlvs = Tlvs::new()
            .with(Tlv::ReceiptedMessageId("31".into()))
            .and_then(|t| t.with(Tlv::MessageState(2)))
            .and_then(|t| {
                t.with(Tlv::NetworkErrorCode(NetworkErrorCode {
                    network_type: 3,
                    error_code: 1,
                }))
            })
            .expect("valid");
        let report = delivery_report(text, &tlvs).expect("report");
        assert_eq!(report.message_id, "31");
        assert_eq!(report.state, Some(MessageState::Delivered));
        assert_eq!(report.network_error.map(|n| n.error_code), Some(1));
        assert_eq!(report.text.map(|r| r.id), Some("1f".to_owned()));

        let report = delivery_report(text, &Tlvs::new()).expect("text alone");
        assert_eq!(report.message_id, "1f");
        assert_eq!(report.state, Some(MessageState::Undeliverable));
        assert_eq!(report.state_raw, None);
    }

    #[test]
    fn unknown_message_state_is_kept_raw() {
        let tlvs = Tlvs::new()
            .with(Tlv::ReceiptedMessageId("9".into()))
            .and_then(|t| t.with(Tlv::MessageState(0)))
            .expect("valid");
        let report = delivery_report(b"not a receipt", &tlvs).expect("TLVs suffice");
        assert_eq!(report.state, None);
        assert_eq!(report.state_raw, Some(0));
        assert_eq!(report.text, None);
    }

    #[test]
    fn neither_tlv_nor_receipt_text_is_an_error() {
        assert!(delivery_report(b"hello", &Tlvs::new()).is_err());
    }

    #[test]
    fn payload_falls_back_to_message_payload() {
        let dsm = DeliverSm {
            tlvs: Tlvs::new()
                .with(Tlv::MessagePayload(Octets::from("long text")))
                .expect("valid"),
            ..Default::default()
        };
        assert_eq!(dsm.message().payload(), b"long text");
        assert!(!dsm.is_receipt());
    }

    #[test]
    fn a_receipt_in_message_payload_is_read() {
        let dsm = DeliverSm {
            esm_class: esm_class::DELIVERY_RECEIPT,
            tlvs: Tlvs::new()
                .with(Tlv::MessagePayload(Octets::from(
                    "id:7 stat:EXPIRED err:000",
                )))
                .expect("valid"),
            ..Default::default()
        };
        let report = dsm.delivery_report().expect("a receipt");
        assert_eq!(report.message_id, "7");
        assert_eq!(report.state, Some(MessageState::Expired));
    }
}
