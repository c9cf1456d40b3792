//! data_sm (section 4.7): the message travels in TLVs (message_payload), either way; and
//! data_sm_resp.

use crate::octets::Octets;
use crate::pdu::deliver::{delivery_report, DeliveryReport};
use crate::pdu::fields::{pdu_struct, COctetString};
use crate::receipt::ReceiptError;
use crate::tlv::Tlvs;
use crate::values::esm_class;

pdu_struct! {
    /// data_sm (4.7.1).
    pub struct DataSm<'a> {
        /// service_type (5.2.11).
        service_type: Octets<'a> as COctetString<6>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8): up to 65 octets in data_sm.
        source_addr: Octets<'a> as COctetString<65>,
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9): up to 65 octets in data_sm.
        destination_addr: Octets<'a> as COctetString<65>,
        /// esm_class (5.2.12).
        esm_class: u8,
        /// registered_delivery (5.2.17).
        registered_delivery: u8,
        /// data_coding (5.2.19).
        data_coding: u8,
        /// Optional parameters: message_payload, receipt TLVs, SAR, ...
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// data_sm_resp (4.7.2).
    pub struct DataSmResp<'a> {
        /// message_id (5.2.23): the SMSC's id of the message, at most 65 octets with the NUL.
        message_id: Octets<'a> as COctetString<65>,
        /// Optional parameters: delivery_failure_reason, network_error_code,
        /// additional_status_info_text, dpf_result.
        tlvs: Tlvs<'a>,
    }
}

impl DataSm<'_> {
    /// True when esm_class marks a delivery receipt or an intermediate notification.
    pub fn is_receipt(&self) -> bool {
        esm_class::is_receipt(self.esm_class)
    }

    /// The delivery report this data_sm carries: its TLVs, and its message_payload read as
    /// receipt text when there is one.
    pub fn delivery_report(&self) -> Result<DeliveryReport, ReceiptError> {
        delivery_report(self.message().payload(), &self.tlvs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{Body, Pdu};
    use crate::tlv::{Tlv, Tlvs};
    use crate::Octets;

    #[test]
    fn data_sm_with_long_addresses_round_trips() {
        let long = "1".repeat(64);
        let dsm = DataSm {
            source_addr: Octets::from(long.clone()),
            destination_addr: "819012345678".into(),
            tlvs: Tlvs::new()
                .with(Tlv::MessagePayload(Octets::from(vec![0u8; 1000])))
                .expect("valid"),
            ..Default::default()
        };
        let pdu = Pdu::new(11, Body::DataSm(dsm));
        let bytes = pdu.to_bytes().expect("encodes");
        assert_eq!(Pdu::decode(&bytes), Ok(pdu));
    }
}
