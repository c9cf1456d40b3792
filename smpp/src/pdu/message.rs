//! [`Message`]: the message a submit_sm, submit_multi, deliver_sm or data_sm carries, seen
//! the same way whichever PDU it came in — its esm_class, its data_coding and its octets,
//! short_message or else message_payload (5.3.2.32).

use crate::pdu::{Body, DataSm, DeliverSm, SubmitMulti, SubmitSm};
use crate::tlv::Tlvs;
use crate::values::esm_class;

/// The message of a PDU that carries one, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'p> {
    /// esm_class (5.2.12): says whether the octets begin with a UDH and whether the
    /// message is a receipt.
    pub esm_class: u8,
    /// data_coding (5.2.19): the alphabet of the octets.
    pub data_coding: u8,
    /// short_message (5.2.22); empty in a data_sm, which has none.
    pub short_message: &'p [u8],
    /// The message_payload TLV (5.3.2.32), when the PDU has one.
    pub message_payload: Option<&'p [u8]>,
}

impl<'p> Message<'p> {
    fn new(esm_class: u8, data_coding: u8, short_message: &'p [u8], tlvs: &'p Tlvs<'_>) -> Self {
        Message {
            esm_class,
            data_coding,
            short_message,
            message_payload: tlvs.message_payload(),
        }
    }

    /// The message octets: short_message, or message_payload when short_message is empty
    /// (4.4.1, Table 4-10: "The short message data should be inserted in either the
    /// short_message or message_payload fields. Both fields must not be used
    /// simultaneously", and sm_length is then zero); empty when there is neither. A UDH, if
    /// esm_class says there is one, is still at their front.
    pub fn payload(&self) -> &'p [u8] {
        match self.message_payload {
            Some(payload) if self.short_message.is_empty() => payload,
            _ => self.short_message,
        }
    }

    /// Whether the octets begin with a User Data Header (esm_class UDHI, 5.2.12).
    pub fn has_udhi(&self) -> bool {
        esm_class::has_udhi(self.esm_class)
    }
}

impl SubmitSm<'_> {
    /// The message this submit_sm carries.
    pub fn message(&self) -> Message<'_> {
        Message::new(
            self.esm_class,
            self.data_coding,
            self.short_message.as_bytes(),
            &self.tlvs,
        )
    }
}

impl SubmitMulti<'_> {
    /// The message this submit_multi carries.
    pub fn message(&self) -> Message<'_> {
        Message::new(
            self.esm_class,
            self.data_coding,
            self.short_message.as_bytes(),
            &self.tlvs,
        )
    }
}

impl DeliverSm<'_> {
    /// The message this deliver_sm carries (a receipt's text, when it is one).
    pub fn message(&self) -> Message<'_> {
        Message::new(
            self.esm_class,
            self.data_coding,
            self.short_message.as_bytes(),
            &self.tlvs,
        )
    }
}

impl DataSm<'_> {
    /// The message this data_sm carries: its message_payload (4.7.1).
    pub fn message(&self) -> Message<'_> {
        Message::new(self.esm_class, self.data_coding, &[], &self.tlvs)
    }
}

impl Body<'_> {
    /// The message of a submit_sm, submit_multi, deliver_sm or data_sm; `None` for every
    /// other body (replace_sm's short_message has no esm_class or data_coding of its own).
    pub fn message(&self) -> Option<Message<'_>> {
        match self {
            Body::SubmitSm(b) => Some(b.message()),
            Body::SubmitMulti(b) => Some(b.message()),
            Body::DeliverSm(b) => Some(b.message()),
            Body::DataSm(b) => Some(b.message()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octets::Octets;
    use crate::tlv::Tlv;

    fn payload_tlv(text: &'static str) -> Tlvs<'static> {
        Tlvs::new()
            .with(Tlv::MessagePayload(Octets::from(text)))
            .expect("valid")
    }

    #[test]
    fn payload_is_short_message_else_message_payload() {
        let sm = SubmitSm {
            esm_class: 0x40,
            data_coding: 8,
            short_message: "short".into(),
            tlvs: payload_tlv("long"),
            ..Default::default()
        };
        let m = sm.message();
        assert_eq!((m.esm_class, m.data_coding), (0x40, 8));
        assert!(m.has_udhi());
        // Both present breaks 5.3.2.32; short_message is what sm_length announced.
        assert_eq!(m.payload(), b"short");
        assert_eq!(m.message_payload, Some(&b"long"[..]));

        let sm = SubmitSm {
            tlvs: payload_tlv("long"),
            ..Default::default()
        };
        assert_eq!(sm.message().payload(), b"long");
        assert_eq!(SubmitSm::default().message().payload(), b"");
    }

    #[test]
    fn every_body_with_a_message_gives_it() {
        let data = DataSm {
            data_coding: 3,
            tlvs: payload_tlv("data"),
            ..Default::default()
        };
        let bodies = [
            Body::SubmitSm(SubmitSm {
                short_message: "a".into(),
                ..Default::default()
            }),
            Body::SubmitMulti(SubmitMulti {
                short_message: "b".into(),
                ..Default::default()
            }),
            Body::DeliverSm(DeliverSm {
                tlvs: payload_tlv("c"),
                ..Default::default()
            }),
            Body::DataSm(data),
        ];
        let payloads: Vec<_> = bodies
            .iter()
            .map(|b| b.message().map(|m| m.payload().to_vec()))
            .collect();
        assert_eq!(
            payloads,
            [
                Some(b"a".to_vec()),
                Some(b"b".to_vec()),
                Some(b"c".to_vec()),
                Some(b"data".to_vec())
            ]
        );
        assert_eq!(
            bodies[3]
                .message()
                .map(|m| (m.data_coding, m.short_message)),
            Some((3, &[][..]))
        );
        assert_eq!(Body::ReplaceSm(Default::default()).message(), None);
        assert_eq!(Body::EnquireLink.message(), None);
    }
}
