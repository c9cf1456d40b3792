//! deliver_sm (section 4.6): the SMSC delivers a mobile-originated message or a delivery
//! receipt. Its body is laid out as submit_sm's; this file adds what is particular to it.

use crate::pdu::submit::{esm_class, SubmitSm, SubmitSmResp};

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
        let pdu = Pdu::new(5, Body::DeliverSm(dsm));
        let bytes = pdu.to_bytes().expect("encodes");
        let back = Pdu::decode(&bytes).expect("decodes");
        assert_eq!(back, pdu);
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
