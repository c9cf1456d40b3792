//! data_sm (section 4.7): the message travels in TLVs (message_payload), either way.

use crate::pdu::pdu_struct;
use crate::pdu::submit::SubmitSmResp;

pdu_struct! {
    /// data_sm (4.7.1).
    pub struct DataSm<'a> {
        /// service_type (5.2.11).
        service_type: cstr(6),
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8): up to 65 octets in data_sm.
        source_addr: cstr(65),
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9): up to 65 octets in data_sm.
        destination_addr: cstr(65),
        /// esm_class (5.2.12).
        esm_class: u8,
        /// registered_delivery (5.2.17).
        registered_delivery: u8,
        /// data_coding (5.2.19).
        data_coding: u8,
        /// Optional parameters: message_payload, receipt TLVs, SAR, ...
        tlvs: tlvs,
    }
}

/// data_sm_resp (4.7.2): message_id and optional parameters (delivery_failure_reason,
/// network_error_code, additional_status_info_text, dpf_result).
pub type DataSmResp<'a> = SubmitSmResp<'a>;

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
