//! What the outbox must know of a carrier: its text and addressing rules, its default
//! validity, how its retry policy classifies a submit_sm_resp status, and how a message's
//! segments become the submit_sm PDUs (without sequence numbers) the Bind sends.

use crate::outbox::address::{AddressError, Addressing};
use crate::outbox::text::{self, TextProfile, TextRefusal};
use crate::store::{LongMessage, SplitPlan};
use smpp::pdu::SubmitSm;
use smpp::time::{RelativeTime, SmppTime};
use smpp::tlv::{Tlv, Tlvs};
use smpp::values::esm_class::UDHI as ESM_CLASS_UDHI;
use smpp::values::registered_delivery;
use smpp::{CommandStatus, Octets};
use std::fmt;
use std::sync::Arc;

/// What to do after a submit_sm_resp with an error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// Try again on the same carrier after a backoff, keeping the order per destination.
    Transient,
    /// The carrier will not take it for this destination: the next carrier of the route.
    Failover,
    /// The message is refused: `rejected`.
    Permanent,
}

/// A carrier's retry policy: the class of a submit_sm_resp error status. The
/// configuration's retry policy implements this (a closure does too).
pub trait ClassifyStatus: Send + Sync {
    /// The class of `status` (never `ESME_ROK`).
    fn classify(&self, status: CommandStatus) -> StatusClass;
}

impl<F: Fn(CommandStatus) -> StatusClass + Send + Sync> ClassifyStatus for F {
    fn classify(&self, status: CommandStatus) -> StatusClass {
        self(status)
    }
}

/// The classification used when a carrier has no retry policy of its own: throttling and a
/// full queue are transient (5.1.3: ESME_RTHROTTLED, ESME_RMSGQFUL); a bad destination
/// address, TON or NPI fails over; everything else is permanent.
pub fn default_classify(status: CommandStatus) -> StatusClass {
    match status {
        CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL => StatusClass::Transient,
        CommandStatus::ESME_RINVDSTADR
        | CommandStatus::ESME_RINVDSTTON
        | CommandStatus::ESME_RINVDSTNPI => StatusClass::Failover,
        _ => StatusClass::Permanent,
    }
}

/// One carrier as the outbox sees it.
#[derive(Clone)]
pub struct CarrierProfile {
    /// Text rules: length, Shift_JIS, long-message method.
    pub text: TextProfile,
    /// Address formats and the default sender.
    pub addressing: Addressing,
    /// Validity of a message that asks for none (unix ms span).
    pub default_validity_ms: u64,
    /// The carrier's retry policy.
    pub classify: Arc<dyn ClassifyStatus>,
}

impl fmt::Debug for CarrierProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CarrierProfile")
            .field("text", &self.text)
            .field("addressing", &self.addressing)
            .field("default_validity_ms", &self.default_validity_ms)
            .finish_non_exhaustive()
    }
}

impl CarrierProfile {
    /// A carrier with `text` and `addressing` rules, `default_validity_ms`, and the
    /// [`default_classify`] policy.
    pub fn new(text: TextProfile, addressing: Addressing, default_validity_ms: u64) -> Self {
        CarrierProfile {
            text,
            addressing,
            default_validity_ms,
            classify: Arc::new(default_classify),
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

/// What a message carries to any carrier, to build its PDUs.
pub(crate) struct Outgoing<'a> {
    pub to: &'a str,
    pub from: Option<&'a str>,
    pub text: &'a str,
    pub registered_delivery: bool,
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
    /// plan says, registered_delivery final-receipt (5.2.17). validity_period is set per
    /// dispatch.
    pub(crate) fn submits(
        &self,
        message: &Outgoing<'_>,
        plan: &SplitPlan,
    ) -> Result<Vec<SubmitSm<'static>>, Unfit> {
        let split = text::segments(message.text, plan)?;
        let source = self.addressing.source(message.from)?;
        let destination = self.addressing.destination(message.to)?;
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
                source_addr_ton: source.ton_npi.ton,
                source_addr_npi: source.ton_npi.npi,
                source_addr: Octets::from(source.addr.clone()),
                dest_addr_ton: destination.ton_npi.ton,
                dest_addr_npi: destination.ton_npi.npi,
                destination_addr: Octets::from(destination.addr.clone()),
                esm_class: if segment.esm_class_udhi() {
                    ESM_CLASS_UDHI
                } else {
                    0
                },
                registered_delivery: if message.registered_delivery {
                    registered_delivery::RECEIPT_FINAL
                } else {
                    registered_delivery::NO_RECEIPT
                },
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
    use crate::outbox::address::{NumberPlan, TonNpi};
    use crate::store::TextEncoding;

    fn outgoing(text: &str) -> Outgoing<'_> {
        Outgoing {
            to: "819012345678",
            from: Some("0005012345"),
            text,
            registered_delivery: true,
        }
    }

    fn profile(long_message: LongMessage) -> CarrierProfile {
        CarrierProfile::new(
            TextProfile {
                long_message,
                ..TextProfile::default()
            },
            Addressing {
                destination: NumberPlan::national("81", "0"),
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
                (TonNpi::NETWORK_SPECIFIC.ton, TonNpi::NETWORK_SPECIFIC.npi)
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
    fn the_default_policy_classifies_throttling_destinations_and_the_rest() {
        assert_eq!(
            default_classify(CommandStatus::ESME_RTHROTTLED),
            StatusClass::Transient
        );
        assert_eq!(
            default_classify(CommandStatus::ESME_RMSGQFUL),
            StatusClass::Transient
        );
        assert_eq!(
            default_classify(CommandStatus::ESME_RINVDSTADR),
            StatusClass::Failover
        );
        assert_eq!(
            default_classify(CommandStatus::ESME_RSUBMITFAIL),
            StatusClass::Permanent
        );
        let custom = |_: CommandStatus| StatusClass::Transient;
        let p = CarrierProfile {
            classify: Arc::new(custom),
            ..profile(LongMessage::Udh8)
        };
        assert_eq!(
            p.classify.classify(CommandStatus::ESME_RSYSERR),
            StatusClass::Transient
        );
    }
}
