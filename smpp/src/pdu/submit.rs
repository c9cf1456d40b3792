//! The submit family (sections 4.4, 4.5): submit_sm, submit_multi and their responses.

use crate::command::CommandStatus;
use crate::error::{EncodeError, FieldError, FieldErrorKind, PResult};
use crate::octets::{int32, int8, Octets};
use crate::pdu::fields::{pdu_struct, COctetString, Field, ShortMessage, Writer};
use crate::time::{SmppTime, TimeError};
use crate::tlv::Tlvs;
use bytes::BufMut;

pdu_struct! {
    /// submit_sm (4.4.1).
    pub struct SubmitSm<'a> {
        /// service_type (5.2.11), at most 6 octets with the NUL.
        service_type: Octets<'a> as COctetString<6>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8), at most 21 octets with the NUL.
        source_addr: Octets<'a> as COctetString<21>,
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9), at most 21 octets with the NUL.
        destination_addr: Octets<'a> as COctetString<21>,
        /// esm_class (5.2.12): see [`crate::values::esm_class`].
        esm_class: u8,
        /// protocol_id (5.2.13).
        protocol_id: u8,
        /// priority_flag (5.2.14).
        priority_flag: u8,
        /// schedule_delivery_time (5.2.15): empty or 16 characters of section 7.1.1.
        schedule_delivery_time: Octets<'a> as COctetString<17>,
        /// validity_period (5.2.16): empty or 16 characters of section 7.1.1.
        validity_period: Octets<'a> as COctetString<17>,
        /// registered_delivery (5.2.17): see [`crate::values::registered_delivery`].
        registered_delivery: u8,
        /// replace_if_present_flag (5.2.18).
        replace_if_present_flag: u8,
        /// data_coding (5.2.19).
        data_coding: u8,
        /// sm_default_msg_id (5.2.20).
        sm_default_msg_id: u8,
        /// short_message (5.2.22), 0 to 254 octets; sm_length is its length.
        short_message: Octets<'a> as ShortMessage,
        /// Optional parameters (4.4.1, 5.3).
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// submit_sm_resp (4.4.2). The optional part is empty in 3.4's submit_sm_resp but is
    /// kept when an SMSC sends one.
    pub struct SubmitSmResp<'a> {
        /// message_id (5.2.23): the SMSC's id of the message, at most 65 octets with the NUL.
        message_id: Octets<'a> as COctetString<65>,
        /// Optional parameters.
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// submit_multi (4.5.1): one message to up to 254 destinations.
    pub struct SubmitMulti<'a> {
        /// service_type (5.2.11).
        service_type: Octets<'a> as COctetString<6>,
        /// source_addr_ton (5.2.5).
        source_addr_ton: u8,
        /// source_addr_npi (5.2.6).
        source_addr_npi: u8,
        /// source_addr (5.2.8).
        source_addr: Octets<'a> as COctetString<21>,
        /// number_of_dests (5.2.24) and the dest_address list (4.5.1.1), 1 to 254 entries.
        dest_address: Vec<DestAddress<'a>>,
        /// esm_class (5.2.12).
        esm_class: u8,
        /// protocol_id (5.2.13).
        protocol_id: u8,
        /// priority_flag (5.2.14).
        priority_flag: u8,
        /// schedule_delivery_time (5.2.15).
        schedule_delivery_time: Octets<'a> as COctetString<17>,
        /// validity_period (5.2.16).
        validity_period: Octets<'a> as COctetString<17>,
        /// registered_delivery (5.2.17).
        registered_delivery: u8,
        /// replace_if_present_flag (5.2.18).
        replace_if_present_flag: u8,
        /// data_coding (5.2.19).
        data_coding: u8,
        /// sm_default_msg_id (5.2.20).
        sm_default_msg_id: u8,
        /// short_message (5.2.22).
        short_message: Octets<'a> as ShortMessage,
        /// Optional parameters.
        tlvs: Tlvs<'a>,
    }
}

pdu_struct! {
    /// submit_multi_resp (4.5.2).
    pub struct SubmitMultiResp<'a> {
        /// message_id (5.2.23).
        message_id: Octets<'a> as COctetString<65>,
        /// no_unsuccess (5.2.26) and the unsuccess_sme list (4.5.2.1).
        unsuccess_sme: Vec<UnsuccessSme<'a>>,
    }
}

/// The typed times of the PDUs that carry schedule_delivery_time and validity_period.
macro_rules! time_accessors {
    ($($ty:ident),*) => {$(
        impl $ty<'_> {
            /// schedule_delivery_time parsed (section 7.1.1); `Ok(None)` when empty
            /// (immediate delivery).
            pub fn schedule_delivery_time(&self) -> Result<Option<SmppTime>, TimeError> {
                SmppTime::parse(self.schedule_delivery_time.as_bytes())
            }

            /// validity_period parsed (section 7.1.1); `Ok(None)` when empty (the SMSC's
            /// default validity).
            pub fn validity_period(&self) -> Result<Option<SmppTime>, TimeError> {
                SmppTime::parse(self.validity_period.as_bytes())
            }
        }
    )*};
}
pub(crate) use time_accessors;

time_accessors!(SubmitSm, SubmitMulti);

/// One destination of a submit_multi (4.5.1.1): dest_flag 1 (an SME address, table 4-14)
/// or 2 (a distribution list name, table 4-15).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DestAddress<'a> {
    /// dest_flag = 1.
    SmeAddress {
        /// dest_addr_ton (5.2.5).
        dest_addr_ton: u8,
        /// dest_addr_npi (5.2.6).
        dest_addr_npi: u8,
        /// destination_addr (5.2.9), at most 21 octets with the NUL.
        destination_addr: Octets<'a>,
    },
    /// dest_flag = 2.
    DistributionList {
        /// dl_name (5.2.27), at most 21 octets with the NUL.
        dl_name: Octets<'a>,
    },
}

impl DestAddress<'_> {
    /// Detaches from the frame it was borrowed from.
    pub fn into_owned(self) -> DestAddress<'static> {
        match self {
            DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            } => DestAddress::SmeAddress {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr: destination_addr.into_owned(),
            },
            DestAddress::DistributionList { dl_name } => DestAddress::DistributionList {
                dl_name: dl_name.into_owned(),
            },
        }
    }
}

/// One destination a submit_multi could not reach (4.5.2.1, table 4-17).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UnsuccessSme<'a> {
    /// dest_addr_ton (5.2.5).
    pub dest_addr_ton: u8,
    /// dest_addr_npi (5.2.6).
    pub dest_addr_npi: u8,
    /// destination_addr (5.2.9).
    pub destination_addr: Octets<'a>,
    /// error_status_code: why this destination failed (a 5.1.3 status).
    pub error_status_code: CommandStatus,
}

impl UnsuccessSme<'_> {
    /// Detaches from the frame it was borrowed from.
    pub fn into_owned(self) -> UnsuccessSme<'static> {
        UnsuccessSme {
            destination_addr: self.destination_addr.into_owned(),
            dest_addr_ton: self.dest_addr_ton,
            dest_addr_npi: self.dest_addr_npi,
            error_status_code: self.error_status_code,
        }
    }
}

/// The most destinations one submit_multi may carry (5.2.24).
pub const MAX_DESTS: usize = 254;

/// destination_addr and dl_name in the lists: C-Octet Strings of at most 21 octets with
/// the NUL (5.2.9, 5.2.27).
type Address = COctetString<21>;

/// number_of_dests and the dest_address list (4.5.1.1). Errors name the wire field at
/// fault.
impl<'a> Field<'a> for Vec<DestAddress<'a>> {
    type Owned = Vec<DestAddress<'static>>;

    fn parse(input: &'a [u8], _name: &'static str) -> PResult<'a, Self> {
        let (mut rest, count) = int8(input, "number_of_dests")?;
        if count == 0 || count as usize > MAX_DESTS {
            return Err(nom::Err::Error(FieldError::new(
                "number_of_dests",
                FieldErrorKind::Invalid("number_of_dests must be 1 to 254"),
                input.len(),
            )));
        }
        let mut dests = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let at = rest.len();
            let (r, flag) = int8(rest, "dest_flag")?;
            let (r, dest) = match flag {
                1 => {
                    let (r, dest_addr_ton) = int8(r, "dest_addr_ton")?;
                    let (r, dest_addr_npi) = int8(r, "dest_addr_npi")?;
                    let (r, destination_addr) = Field::<Address>::parse(r, "destination_addr")?;
                    (
                        r,
                        DestAddress::SmeAddress {
                            dest_addr_ton,
                            dest_addr_npi,
                            destination_addr,
                        },
                    )
                }
                2 => {
                    let (r, dl_name) = Field::<Address>::parse(r, "dl_name")?;
                    (r, DestAddress::DistributionList { dl_name })
                }
                _ => {
                    return Err(nom::Err::Error(FieldError::new(
                        "dest_flag",
                        FieldErrorKind::Invalid("dest_flag must be 1 (SME address) or 2 (list)"),
                        at,
                    )))
                }
            };
            dests.push(dest);
            rest = r;
        }
        Ok((rest, dests))
    }

    fn encoded_len(&self) -> usize {
        1 + self
            .iter()
            .map(|d| match d {
                DestAddress::SmeAddress {
                    destination_addr, ..
                } => 3 + Field::<Address>::encoded_len(destination_addr),
                DestAddress::DistributionList { dl_name } => {
                    1 + Field::<Address>::encoded_len(dl_name)
                }
            })
            .sum::<usize>()
    }

    fn check(&self, _name: &'static str) -> Result<(), EncodeError> {
        if self.is_empty() || self.len() > MAX_DESTS {
            return Err(EncodeError::Invalid {
                field: "number_of_dests",
                reason: "submit_multi needs 1 to 254 destinations",
            });
        }
        for d in self {
            match d {
                DestAddress::SmeAddress {
                    destination_addr, ..
                } => Field::<Address>::check(destination_addr, "destination_addr")?,
                DestAddress::DistributionList { dl_name } => {
                    Field::<Address>::check(dl_name, "dl_name")?
                }
            }
        }
        Ok(())
    }

    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        // At most 254 once checked (5.2.24).
        out.octet(self.len() as u8);
        for d in self {
            match d {
                DestAddress::SmeAddress {
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                } => {
                    out.octet(1);
                    out.octet(*dest_addr_ton);
                    out.octet(*dest_addr_npi);
                    Field::<Address>::write(destination_addr, out);
                }
                DestAddress::DistributionList { dl_name } => {
                    out.octet(2);
                    Field::<Address>::write(dl_name, out);
                }
            }
        }
    }

    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(DestAddress::into_owned).collect()
    }
}

/// no_unsuccess and the unsuccess_sme list (4.5.2.1). Errors name the wire field at fault.
impl<'a> Field<'a> for Vec<UnsuccessSme<'a>> {
    type Owned = Vec<UnsuccessSme<'static>>;

    fn parse(input: &'a [u8], _name: &'static str) -> PResult<'a, Self> {
        let (mut rest, count) = int8(input, "no_unsuccess")?;
        // No more destinations can fail than a submit_multi may carry (5.2.24).
        if count as usize > MAX_DESTS {
            return Err(nom::Err::Error(FieldError::new(
                "no_unsuccess",
                FieldErrorKind::Invalid("no_unsuccess must be 0 to 254"),
                input.len(),
            )));
        }
        let mut list = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let (r, dest_addr_ton) = int8(rest, "dest_addr_ton")?;
            let (r, dest_addr_npi) = int8(r, "dest_addr_npi")?;
            let (r, destination_addr) = Field::<Address>::parse(r, "destination_addr")?;
            let (r, code) = int32(r, "error_status_code")?;
            list.push(UnsuccessSme {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
                error_status_code: CommandStatus(code),
            });
            rest = r;
        }
        Ok((rest, list))
    }

    fn encoded_len(&self) -> usize {
        1 + self
            .iter()
            .map(|u| 6 + Field::<Address>::encoded_len(&u.destination_addr))
            .sum::<usize>()
    }

    fn check(&self, _name: &'static str) -> Result<(), EncodeError> {
        if self.len() > MAX_DESTS {
            return Err(EncodeError::Invalid {
                field: "no_unsuccess",
                reason: "at most 254 unsuccessful destinations",
            });
        }
        for u in self {
            Field::<Address>::check(&u.destination_addr, "destination_addr")?;
        }
        Ok(())
    }

    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        // At most 254 once checked (5.2.24).
        out.octet(self.len() as u8);
        for u in self {
            out.octet(u.dest_addr_ton);
            out.octet(u.dest_addr_npi);
            Field::<Address>::write(&u.destination_addr, out);
            out.u32(u.error_status_code.0);
        }
    }

    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(UnsuccessSme::into_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandId;
    use crate::error::DecodeError;
    use crate::pdu::{Body, Pdu};
    use crate::tlv::{Tlv, Tlvs};
    use crate::values::registered_delivery;

    fn submit() -> SubmitSm<'static> {
        SubmitSm {
            source_addr_ton: 5,
            source_addr: "SMSGATE".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "819012345678".into(),
            registered_delivery: registered_delivery::RECEIPT_FINAL,
            data_coding: 0x08,
            short_message: Octets::from(vec![0x30, 0x42, 0x30, 0x44]),
            ..Default::default()
        }
    }

    #[test]
    fn submit_sm_round_trips_with_tlvs() {
        let mut sm = submit();
        sm.tlvs = Tlvs::new()
            .with(Tlv::UserMessageReference(42))
            .expect("valid");
        let pdu = Pdu::new(1, Body::SubmitSm(sm));
        let bytes = pdu.to_bytes().expect("encodes");
        let back = Pdu::decode(&bytes).expect("decodes");
        assert_eq!(back, pdu);
        assert_eq!(back.to_bytes().expect("encodes"), bytes);
    }

    #[test]
    fn bodies_that_take_tlvs_expose_them() {
        let mut body = Body::SubmitSm(submit());
        body.tlvs_mut()
            .expect("submit_sm takes TLVs")
            .push(Tlv::UserMessageReference(7))
            .expect("valid");
        assert_eq!(
            body.tlvs().and_then(|t| t.user_message_reference()),
            Some(7)
        );
        assert!(Body::EnquireLink.tlvs().is_none());
        assert!(Body::SubmitSmResp(None).tlvs().is_none());
        assert!(Body::QuerySm(Default::default()).tlvs().is_none());
        assert!(Body::DataSmResp(Some(Default::default())).tlvs().is_some());
    }

    #[test]
    fn times_parse_into_types() {
        let mut sm = submit();
        assert_eq!(sm.validity_period(), Ok(None));
        sm.validity_period = "000000001000000R".into();
        let Ok(Some(SmppTime::Relative(rel))) = sm.validity_period() else {
            panic!("relative time expected")
        };
        assert_eq!(rel.to_seconds(), 600);
        sm.schedule_delivery_time = "2611251200".into();
        assert!(sm.schedule_delivery_time().is_err());
    }

    #[test]
    fn sm_length_past_the_body_is_rejected() {
        let mut bytes = Pdu::new(1, Body::SubmitSm(submit()))
            .to_bytes()
            .expect("encodes");
        // sm_length is the octet before the four short_message octets at the end.
        let at = bytes.len() - 5;
        bytes[at] = 10;
        let err = Pdu::decode(&bytes).expect_err("mismatch");
        assert!(matches!(
            err,
            DecodeError::Field {
                kind: FieldErrorKind::SmLengthMismatch {
                    sm_length: 10,
                    available: 4
                },
                ..
            }
        ));
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVMSGLEN);
    }

    #[test]
    fn a_malformed_error_response_still_tells_its_status() {
        // submit_sm_resp, ESME_RTHROTTLED, sequence 5, a message_id with no NUL.
        let bytes = [
            0, 0, 0, 0x13, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 5, b'a', b'b', b'c',
        ];
        let err = Pdu::decode(&bytes).expect_err("no NUL");
        assert_eq!(
            err.response_header(),
            Some((CommandId::SubmitSmResp, CommandStatus::ESME_RTHROTTLED, 5))
        );
        // A malformed request has no response header to settle anything with.
        let mut bad = Pdu::new(5, Body::SubmitSm(submit()))
            .to_bytes()
            .expect("encodes");
        let at = bad.len() - 5;
        bad[at] = 10;
        let err = Pdu::decode(&bad).expect_err("sm_length past the body");
        assert_eq!(err.response_header(), None);
    }

    #[test]
    fn short_message_over_254_is_refused_on_encode() {
        let mut sm = submit();
        sm.short_message = Octets::from(vec![b'a'; 255]);
        assert!(matches!(
            Pdu::new(1, Body::SubmitSm(sm)).to_bytes(),
            Err(EncodeError::TooLong {
                field: "short_message",
                ..
            })
        ));
    }

    #[test]
    fn submit_multi_and_resp_round_trip() {
        let multi = SubmitMulti {
            source_addr: "SMSGATE".into(),
            dest_address: vec![
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "819011112222".into(),
                },
                DestAddress::DistributionList {
                    dl_name: "staff".into(),
                },
            ],
            short_message: "hi".into(),
            ..Default::default()
        };
        let pdu = Pdu::new(3, Body::SubmitMulti(multi));
        let bytes = pdu.to_bytes().expect("encodes");
        assert_eq!(Pdu::decode(&bytes), Ok(pdu));

        let resp = Pdu::new(
            3,
            Body::SubmitMultiResp(Some(SubmitMultiResp {
                message_id: "m1".into(),
                unsuccess_sme: vec![UnsuccessSme {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "819011112222".into(),
                    error_status_code: CommandStatus::ESME_RINVDSTADR,
                }],
            })),
        );
        let bytes = resp.to_bytes().expect("encodes");
        assert_eq!(Pdu::decode(&bytes), Ok(resp));
    }

    #[test]
    fn submit_multi_with_bad_dest_flag_is_rejected() {
        let multi = SubmitMulti {
            dest_address: vec![DestAddress::DistributionList {
                dl_name: "x".into(),
            }],
            ..Default::default()
        };
        let mut bytes = Pdu::new(3, Body::SubmitMulti(multi))
            .to_bytes()
            .expect("encodes");
        // header 16, service_type 1, ton 1, npi 1, source_addr 1, number_of_dests 1
        bytes[21] = 3;
        let err = Pdu::decode(&bytes).expect_err("bad flag");
        assert!(matches!(
            err,
            DecodeError::Field {
                field: "dest_flag",
                offset: 21,
                ..
            }
        ));
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVDESTFLAG);
    }
}
