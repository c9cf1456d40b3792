//! The bind family (section 4.1): bind_transmitter, bind_receiver, bind_transceiver, their
//! responses, and outbind.

use crate::octets::Octets;
use crate::pdu::fields::{pdu_struct, COctetString};
use crate::tlv::Tlvs;

pdu_struct! {
    /// bind_transmitter (4.1.1), bind_receiver (4.1.3) and bind_transceiver (4.1.5): the
    /// three share one body; the command says which.
    pub struct Bind<'a> {
        /// Identifies the ESME (5.2.1), at most 16 octets with the NUL.
        system_id: Octets<'a> as COctetString<16>,
        /// Password (5.2.2), at most 9 octets with the NUL.
        password: Octets<'a> as COctetString<9>,
        /// The type of ESME (5.2.3), at most 13 octets with the NUL.
        system_type: Octets<'a> as COctetString<13>,
        /// interface_version (5.2.4): 0x34 for SMPP 3.4.
        interface_version: u8,
        /// addr_ton (5.2.5).
        addr_ton: u8,
        /// addr_npi (5.2.6).
        addr_npi: u8,
        /// address_range (5.2.7), at most 41 octets with the NUL.
        address_range: Octets<'a> as COctetString<41>,
    }
}

pdu_struct! {
    /// bind_transmitter_resp (4.1.2), bind_receiver_resp (4.1.4), bind_transceiver_resp
    /// (4.1.6).
    pub struct BindResp<'a> {
        /// The SMSC's identifier (5.2.1).
        system_id: Octets<'a> as COctetString<16>,
        /// Optional parameters: sc_interface_version (5.3.2.25).
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// outbind (4.1.7.1): the SMSC asks the ESME to bind_receiver.
    pub struct Outbind<'a> {
        /// The SMSC's identifier (5.2.1).
        system_id: Octets<'a> as COctetString<16>,
        /// Password (5.2.2).
        password: Octets<'a> as COctetString<9>,
    }
}

/// The interface_version of SMPP 3.4 (section 5.2.4).
pub const INTERFACE_VERSION_34: u8 = 0x34;

#[cfg(test)]
mod tests {
    use crate::error::{DecodeError, FieldErrorKind};
    use crate::pdu::{Bind, Body, Pdu};
    use crate::CommandStatus;

    #[test]
    fn bind_transceiver_round_trips() {
        let pdu = Pdu::new(
            7,
            Body::BindTransceiver(Bind {
                system_id: "otp".into(),
                password: "pw".into(),
                interface_version: 0x34,
                addr_ton: 1,
                addr_npi: 1,
                ..Default::default()
            }),
        );
        let bytes = pdu.to_bytes().expect("encodes");
        assert_eq!(bytes.len(), 28);
        assert_eq!(Pdu::decode(&bytes), Ok(pdu));
    }

    #[test]
    fn header_only_bind_resp_with_error_is_accepted() {
        let bytes = [0, 0, 0, 16, 0x80, 0, 0, 2, 0, 0, 0, 0x0e, 0, 0, 0, 3];
        let pdu = Pdu::decode(&bytes).expect("accepted");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RINVPASWD);
        assert_eq!(pdu.body, Body::BindTransmitterResp(None));
        assert_eq!(pdu.to_bytes().expect("encodes"), bytes);
    }

    #[test]
    fn system_id_longer_than_16_is_rejected_with_its_offset() {
        let mut bytes = vec![0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
        bytes.extend_from_slice(b"0123456789abcdefg\0pw\0\0\x34\x01\x01\0");
        let len = bytes.len() as u32;
        bytes[..4].copy_from_slice(&len.to_be_bytes());
        let err = Pdu::decode(&bytes).expect_err("too long");
        assert!(matches!(
            err,
            DecodeError::Field {
                field: "system_id",
                offset: 16,
                kind: FieldErrorKind::TooLong { len: 18, max: 16 },
                ..
            }
        ));
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVSYSID);
    }
}
