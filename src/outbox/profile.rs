//! What the outbox must know of a carrier: its text and addressing rules, its default
//! validity, the receipts it is asked for, its retry policy, and how a message's segments
//! become the submit_sm PDUs (without sequence numbers) the Bind sends.

use crate::carrier::number::Msisdn;
use crate::carrier::retry::RetryPolicy;
use crate::outbox::address::{AddressError, Addressing};
use crate::outbox::text::{self, TextProfile, TextRefusal};
use crate::store::{LongMessage, RegisteredDelivery, SplitPlan};
use smpp::pdu::SubmitSm;
use smpp::time::{RelativeTime, SmppTime};
use smpp::tlv::{Tlv, Tlvs};
use smpp::values::esm_class::UDHI as ESM_CLASS_UDHI;
use smpp::Octets;

/// One carrier as the outbox sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CarrierProfile {
    /// Text rules: length, alphabets, Shift_JIS, long-message method.
    pub text: TextProfile,
    /// Address formats, the sender form and the default sender.
    pub addressing: Addressing,
    /// Validity of a message that asks for none (unix ms span).
    pub default_validity_ms: u64,
    /// The receipts asked for when a message wants them (a message that wants none asks
    /// for none).
    pub registered_delivery: RegisteredDelivery,
    /// Which submit_sm_resp statuses are retried, failed over or final.
    pub retry: RetryPolicy,
}

impl CarrierProfile {
    /// A carrier with `text` and `addressing` rules and `default_validity_ms`, asking for
    /// final receipts, with the default retry policy.
    pub fn new(text: TextProfile, addressing: Addressing, default_validity_ms: u64) -> Self {
        CarrierProfile {
            text,
            addressing,
            default_validity_ms,
            registered_delivery: RegisteredDelivery::Final,
            retry: RetryPolicy::default(),
        }
    }

    /// The receipts a message's submit_sm asks this carrier for: none if the message wants
    /// none, else the carrier's setting.
    pub fn receipts(&self, wanted: bool) -> RegisteredDelivery {
        if wanted {
            self.registered_delivery
        } else {
            RegisteredDelivery::None
        }
    }
}

/// Why a message cannot go to a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    /// Its text breaks the carrier's text rules.
    #[error(transparent)]
    Text(#[from] TextRefusal),
    /// Its destination or sender cannot be written in the carrier's format.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The PDU could not be built (a TLV value out of range).
    #[error("submit_sm cannot be built: {0}")]
    Pdu(#[from] smpp::EncodeError),
}

/// What a message carries to a carrier, to build its PDUs.
pub(crate) struct Outgoing<'a> {
    pub to: &'a Msisdn,
    pub from: Option<&'a str>,
    pub text: &'a str,
    /// The receipts asked for (see [`CarrierProfile::receipts`]).
    pub receipts: RegisteredDelivery,
}

impl CarrierProfile {
    /// Checks `message` against this carrier and plans its segments (see
    /// [`text::prepare`]), returning the plan and one submit_sm per segment.
    pub(crate) fn prepare(
        &self,
        message: &Outgoing<'_>,
        reference: u16,
    ) -> Result<(SplitPlan, Vec<SubmitSm<'static>>), Unfit> {
        let (plan, _) = text::prepare(message.text, &self.text, reference)?;
        let submits = self.submits(message, &plan)?;
        Ok((plan, submits))
    }

    /// One submit_sm per segment of `message` under a stored `plan`: addresses per this
    /// carrier, esm_class with UDHI when a UDH leads the short_message (5.2.12),
    /// data_coding (5.2.19), SAR TLVs (5.3.2.22-24) or message_payload (5.3.2.32) as the
    /// plan says, registered_delivery as the message asks this carrier (5.2.17).
    /// validity_period is set per dispatch.
    pub(crate) fn submits(
        &self,
        message: &Outgoing<'_>,
        plan: &SplitPlan,
    ) -> Result<Vec<SubmitSm<'static>>, Unfit> {
        let split = text::segments(message.text, plan)?;
        let source = self.addressing.source(message.from)?;
        let destination = self.addressing.destination(message.to);
        let data_coding = text::encoding(plan.encoding).data_coding();
        let concatenated = split.is_concatenated();
        let mut out = Vec::with_capacity(split.segments.len());
        for segment in split.segments {
            let mut tlvs = Tlvs::new();
            let short_message = match plan.method {
                LongMessage::Payload => {
                    tlvs.push(Tlv::MessagePayload(Octets::from(segment.short_message())))?;
                    Octets::from(Vec::new())
                }
                LongMessage::Sar if concatenated => {
                    tlvs.push(Tlv::SarMsgRefNum(split.reference))?;
                    tlvs.push(Tlv::SarTotalSegments(segment.total))?;
                    tlvs.push(Tlv::SarSegmentSeqnum(segment.index))?;
                    Octets::from(segment.short_message())
                }
                _ => Octets::from(segment.short_message()),
            };
            out.push(SubmitSm {
                source_addr_ton: source.ton,
                source_addr_npi: source.npi,
                source_addr: Octets::from(source.digits.clone()),
                dest_addr_ton: destination.ton,
                dest_addr_npi: destination.npi,
                destination_addr: Octets::from(destination.digits.clone()),
                esm_class: if segment.esm_class_udhi() {
                    ESM_CLASS_UDHI
                } else {
                    0
                },
                registered_delivery: message.receipts.value(),
                data_coding,
                short_message,
                tlvs: tlvs.into_owned(),
                ..SubmitSm::default()
            });
        }
        Ok(out)
    }
}

/// validity_period for `remaining_ms` of validity, as a relative time (7.1.1.2), capped
/// at 99 days 23:59:59.
pub(crate) fn relative_validity(remaining_ms: u64) -> Octets<'static> {
    let secs = remaining_ms.div_ceil(1000).min(99 * 86_400 + 86_399);
    let two = |v: u64| u8::try_from(v).unwrap_or(99);
    let rel = RelativeTime {
        days: two(secs / 86_400),
        hours: two(secs % 86_400 / 3600),
        minutes: two(secs % 3600 / 60),
        seconds: two(secs % 60),
        ..RelativeTime::default()
    };
    Octets::from(SmppTime::Relative(rel).format().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::number::{AddressFormat, NPI_UNKNOWN, TON_NETWORK_SPECIFIC};
    use crate::store::TextEncoding;
    use smpp::values::registered_delivery;
    use std::sync::LazyLock;

    static TO: LazyLock<Msisdn> = LazyLock::new(|| Msisdn::parse_e164("819012345678").unwrap());

    fn outgoing(text: &str) -> Outgoing<'_> {
        Outgoing {
            to: &TO,
            from: Some("0005012345"),
            text,
            receipts: RegisteredDelivery::Final,
        }
    }

    fn profile(long_message: LongMessage) -> CarrierProfile {
        CarrierProfile::new(
            TextProfile {
                long_message,
                ..TextProfile::default()
            },
            Addressing {
                destination: AddressFormat::default_source(),
                ..Addressing::default()
            },
            60_000,
        )
    }

    #[test]
    fn udh_segments_carry_udhi_and_their_udh() {
        let text = "日本語".repeat(30);
        let (plan, submits) = profile(LongMessage::Udh16)
            .prepare(&outgoing(&text), 0xBEEF)
            .unwrap();
        assert_eq!(plan.encoding, TextEncoding::Ucs2);
        assert_eq!(submits.len(), 2);
        for (i, sm) in submits.iter().enumerate() {
            assert_eq!(sm.esm_class, ESM_CLASS_UDHI);
            assert_eq!(sm.data_coding, 0x08);
            assert_eq!(sm.registered_delivery, registered_delivery::RECEIPT_FINAL);
            assert_eq!(sm.destination_addr.as_bytes(), b"09012345678");
            assert_eq!((sm.dest_addr_ton, sm.dest_addr_npi), (2, 1));
            assert_eq!(
                (sm.source_addr_ton, sm.source_addr_npi),
                (TON_NETWORK_SPECIFIC, NPI_UNKNOWN)
            );
            assert_eq!(
                &sm.short_message.as_bytes()[..7],
                &[0x06, 0x08, 0x04, 0xBE, 0xEF, 2, i as u8 + 1]
            );
        }
    }

    #[test]
    fn sar_segments_carry_the_tlvs_and_payload_one_tlv() {
        let text = "a".repeat(200);
        let (_, submits) = profile(LongMessage::Sar)
            .prepare(&outgoing(&text), 0x0102)
            .unwrap();
        assert_eq!(submits.len(), 2);
        assert_eq!(submits[1].esm_class, 0);
        assert_eq!(submits[1].tlvs.sar(), Some((0x0102, 2, 2)));
        // A text that fits one message needs no SAR TLVs.
        let (_, single) = profile(LongMessage::Sar)
            .prepare(&outgoing("hi"), 1)
            .unwrap();
        assert!(single[0].tlvs.is_empty());

        let (_, payload) = profile(LongMessage::Payload)
            .prepare(&outgoing(&text), 1)
            .unwrap();
        assert_eq!(payload.len(), 1);
        assert!(payload[0].short_message.is_empty());
        assert_eq!(
            payload[0].tlvs.message_payload().map(<[u8]>::len),
            Some(200)
        );
    }

    #[test]
    fn validity_is_relative_and_capped() {
        assert_eq!(
            relative_validity(90_061_000).as_bytes(),
            b"000001010101000R"
        );
        assert_eq!(relative_validity(1).as_bytes(), b"000000000001000R");
        assert_eq!(relative_validity(u64::MAX).as_bytes(), b"000099235959000R");
    }

    #[test]
    fn registered_delivery_is_what_the_message_asks_of_this_carrier() {
        let octet = |carrier: RegisteredDelivery, wanted: bool| {
            let p = CarrierProfile {
                registered_delivery: carrier,
                ..profile(LongMessage::Udh8)
            };
            let out = Outgoing {
                receipts: p.receipts(wanted),
                ..outgoing("hi")
            };
            p.prepare(&out, 1).unwrap().1[0].registered_delivery
        };
        assert_eq!(
            octet(RegisteredDelivery::Final, true),
            registered_delivery::RECEIPT_FINAL
        );
        assert_eq!(
            octet(RegisteredDelivery::Failure, true),
            registered_delivery::RECEIPT_ON_FAILURE
        );
        assert_eq!(
            octet(RegisteredDelivery::None, true),
            registered_delivery::NO_RECEIPT
        );
        // A message that wants no receipt asks for none, whatever the carrier's setting.
        for carrier in [RegisteredDelivery::Final, RegisteredDelivery::Failure] {
            assert_eq!(octet(carrier, false), registered_delivery::NO_RECEIPT);
        }
    }
}
