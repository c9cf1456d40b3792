//! Session PDUs (sections 4.2, 4.3, 4.11, 4.12): unbind, generic_nack and enquire_link are
//! header only (unit variants of [`crate::Body`]); alert_notification has a body.

use crate::octets::Octets;
use crate::pdu::fields::{pdu_struct, COctetString};
use crate::tlv::Tlvs;

pdu_struct! {
    /// alert_notification (4.12.1): the SMSC tells the ESME a handset became available.
    pub struct AlertNotification<'a> {
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// The MS that became available (5.2.8); up to 65 octets here.
        source_addr: Octets<'a> as COctetString<65>,
        /// esme_addr_ton (5.2.5).
        esme_addr_ton: u8,
        /// esme_addr_npi (5.2.6).
        esme_addr_npi: u8,
        /// The ESME to alert (5.2.10), up to 65 octets.
        esme_addr: Octets<'a> as COctetString<65>,
        /// Optional parameters: ms_availability_status (5.3.2.30).
        tlvs: Tlvs<'a>,
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{DecodeError, FieldErrorKind};
    use crate::pdu::{Body, Pdu};
    use crate::CommandStatus;

    #[test]
    fn enquire_link_is_sixteen_octets() {
        let pdu = Pdu::new(9, Body::EnquireLink);
        let bytes = pdu.to_bytes().expect("encodes");
        assert_eq!(bytes, [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(Pdu::decode(&bytes), Ok(pdu));
    }

    #[test]
    fn header_only_pdu_with_a_body_is_trailing_bytes() {
        let bytes = [0, 0, 0, 18, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0xbb];
        let err = Pdu::decode(&bytes).expect_err("unbind has no body");
        assert!(matches!(
            err,
            DecodeError::Field {
                kind: FieldErrorKind::TrailingBytes { count: 2 },
                offset: 16,
                ..
            }
        ));
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
        assert!(err.framing_survives());
    }

    #[test]
    fn refusals_are_header_only_responses_or_generic_nack() {
        use crate::CommandId;
        let r = Pdu::refusal(CommandId::SubmitSm, 4, CommandStatus::ESME_RTHROTTLED);
        assert_eq!(r.body, Body::SubmitSmResp(None));
        assert_eq!(r.to_bytes().expect("encodes").len(), 16);
        let r = Pdu::refusal(CommandId::CancelSm, 4, CommandStatus::ESME_RCANCELFAIL);
        assert_eq!(r.body, Body::CancelSmResp);
        let r = Pdu::refusal(CommandId::Outbind, 4, CommandStatus::ESME_RINVCMDID);
        assert_eq!(r.body, Body::GenericNack);
        assert_eq!(Body::header_only(CommandId::SubmitSm), None);
        assert_eq!(
            Body::header_only(CommandId::QuerySmResp),
            Some(Body::QuerySmResp(None))
        );
    }

    #[test]
    fn generic_nack_may_answer_sequence_zero() {
        let nack = Pdu::generic_nack(0, CommandStatus::ESME_RINVCMDLEN);
        assert!(nack.to_bytes().is_ok());
        assert!(Pdu::new(0, Body::EnquireLink).to_bytes().is_err());
    }
}
