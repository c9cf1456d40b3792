//! Message management (sections 4.8–4.10): query_sm, cancel_sm, replace_sm and their
//! responses (cancel_sm_resp and replace_sm_resp are header only).

use crate::octets::Octets;
use crate::pdu::fields::{pdu_struct, COctetString, ShortMessage};
use crate::time::{SmppTime, TimeError};

pdu_struct! {
    /// query_sm (4.8.1).
    pub struct QuerySm<'a> {
        /// The SMSC's id of the message to query (5.2.23).
        message_id: Octets<'a> as COctetString<65>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr of the original message (5.2.8).
        source_addr: Octets<'a> as COctetString<21>,
    }
}

pdu_struct! {
    /// query_sm_resp (4.8.2).
    pub struct QuerySmResp<'a> {
        /// message_id (5.2.23).
        message_id: Octets<'a> as COctetString<65>,
        /// final_date: when the message reached its final state; empty if not final
        /// (section 7.1.1 absolute time).
        final_date: Octets<'a> as COctetString<17>,
        /// message_state (5.2.28).
        message_state: u8,
        /// error_code: network error when the message failed.
        error_code: u8,
    }
}

pdu_struct! {
    /// cancel_sm (4.9.1).
    pub struct CancelSm<'a> {
        /// service_type (5.2.11).
        service_type: Octets<'a> as COctetString<6>,
        /// message_id to cancel (5.2.23); empty to cancel by addresses.
        message_id: Octets<'a> as COctetString<65>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8).
        source_addr: Octets<'a> as COctetString<21>,
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9).
        destination_addr: Octets<'a> as COctetString<21>,
    }
}

pdu_struct! {
    /// replace_sm (4.10.1).
    pub struct ReplaceSm<'a> {
        /// message_id to replace (5.2.23).
        message_id: Octets<'a> as COctetString<65>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8).
        source_addr: Octets<'a> as COctetString<21>,
        /// schedule_delivery_time (5.2.15).
        schedule_delivery_time: Octets<'a> as COctetString<17>,
        /// validity_period (5.2.16).
        validity_period: Octets<'a> as COctetString<17>,
        /// registered_delivery (5.2.17).
        registered_delivery: u8,
        /// sm_default_msg_id (5.2.20).
        sm_default_msg_id: u8,
        /// The new short_message (5.2.22).
        short_message: Octets<'a> as ShortMessage,
    }
}

crate::pdu::submit::time_accessors!(ReplaceSm);

impl QuerySmResp<'_> {
    /// final_date parsed (section 7.1.1 absolute time); `Ok(None)` while the message is
    /// not final.
    pub fn final_date(&self) -> Result<Option<SmppTime>, TimeError> {
        SmppTime::parse(self.final_date.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{Body, Pdu};

    #[test]
    fn final_date_is_typed() {
        let resp = QuerySmResp {
            final_date: "261125120000000+".into(),
            ..Default::default()
        };
        let Ok(Some(SmppTime::Absolute(t))) = resp.final_date() else {
            panic!("absolute time expected")
        };
        assert_eq!((t.year, t.month, t.day, t.hour), (2026, 11, 25, 12));
        assert_eq!(QuerySmResp::default().final_date(), Ok(None));
    }

    #[test]
    fn query_cancel_replace_round_trip() {
        let pdus = [
            Pdu::new(
                1,
                Body::QuerySm(QuerySm {
                    message_id: "abc".into(),
                    source_addr: "SMSGATE".into(),
                    ..Default::default()
                }),
            ),
            Pdu::new(
                1,
                Body::QuerySmResp(Some(QuerySmResp {
                    message_id: "abc".into(),
                    final_date: "261125120000000+".into(),
                    message_state: 2,
                    error_code: 0,
                })),
            ),
            Pdu::new(
                2,
                Body::CancelSm(CancelSm {
                    message_id: "abc".into(),
                    destination_addr: "819012345678".into(),
                    ..Default::default()
                }),
            ),
            Pdu::new(2, Body::CancelSmResp),
            Pdu::new(
                3,
                Body::ReplaceSm(ReplaceSm {
                    message_id: "abc".into(),
                    short_message: "new text".into(),
                    ..Default::default()
                }),
            ),
            Pdu::new(3, Body::ReplaceSmResp),
        ];
        for pdu in pdus {
            let bytes = pdu.to_bytes().expect("encodes");
            assert_eq!(Pdu::decode(&bytes).as_ref(), Ok(&pdu));
        }
    }
}
