//! deliver_sm (section 4.6): the SMSC delivers a mobile-originated message or a delivery
//! receipt. Its body is laid out as submit_sm's; this file adds what is particular to it.

use crate::pdu::data::DataSm;
use crate::pdu::submit::{esm_class, SubmitSm, SubmitSmResp};
use crate::receipt::{MessageState, NetworkErrorCode, Receipt, ReceiptError};
use crate::tlv::Tlvs;

/// deliver_sm (4.6.1): the same fields as submit_sm; schedule_delivery_time,
/// validity_period, replace_if_present_flag and sm_default_msg_id are unused (NULL).
pub type DeliverSm<'a> = SubmitSm<'a>;

/// deliver_sm_resp (4.6.2): message_id is unused and set to NULL.
pub type DeliverSmResp<'a> = SubmitSmResp<'a>;

impl SubmitSm<'_> {
    /// True when this deliver_sm carries an SMSC delivery receipt (esm_class xx0001xx) or an
    /// intermediate notification (xx1000xx).
    pub fn is_receipt(&self) -> bool {
        esm_class::is_delivery_receipt(self.esm_class)
            || esm_class::is_intermediate_notification(self.esm_class)
    }

    /// The message text octets: short_message, or message_payload when short_message is
    /// empty (section 5.3.2.32: the two must not both be used).
    pub fn payload(&self) -> &[u8] {
        if self.short_message.is_empty() {
            self.tlvs.message_payload().unwrap_or(&[])
        } else {
            self.short_message.as_bytes()
        }
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
        None => text.as_ref().and_then(Receipt::message_state),
    };
    Ok(DeliveryReport {
        message_id,
        state_raw: tlv_state.filter(|raw| MessageState::from_u8(*raw).is_none()),
        state,
        network_error: tlvs.network_error_code(),
        text,
    })
}

impl SubmitSm<'_> {
    /// The delivery report this deliver_sm carries (see [`delivery_report`]).
    pub fn delivery_report(&self) -> Result<DeliveryReport, ReceiptError> {
        delivery_report(self.payload(), &self.tlvs)
    }
}

impl DataSm<'_> {
    /// The delivery report this data_sm carries: its TLVs, and its message_payload read as
    /// receipt text when there is one.
    pub fn delivery_report(&self) -> Result<DeliveryReport, ReceiptError> {
        delivery_report(self.tlvs.message_payload().unwrap_or(&[]), &self.tlvs)
    }

    /// True when esm_class marks a delivery receipt or an intermediate notification.
    pub fn is_receipt(&self) -> bool {
        esm_class::is_delivery_receipt(self.esm_class)
            || esm_class::is_intermediate_notification(self.esm_class)
    }
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
        assert_eq!(dsm.payload(), b"long text");
        assert!(!dsm.is_receipt());
    }
}
