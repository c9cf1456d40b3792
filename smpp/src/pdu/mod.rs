//! PDUs: [`Pdu`] (header fields and a typed [`Body`]), decode from one frame and encode.
//!
//! One file per PDU family, each with its structs, parse, encode and tests; `message.rs` is
//! the [`Message`] view the message-carrying bodies share. The structs are
//! declared with `pdu_struct!` (`fields.rs`) from one list of fields in the order of the
//! spec's table; each field's type says how it is parsed, sized, checked and written (the
//! `Field` trait), so the four can never disagree.
//!
//! Encoding walks the fields twice: once to check them and add up their length (a single
//! pass, `checked_len`), once to write them behind the header.

use crate::command::{CommandId, CommandStatus};
use crate::error::{DecodeError, EncodeError, FieldError, FieldErrorKind};
use crate::header::{Header, DEFAULT_MAX_PDU_LEN, HEADER_LEN};
use crate::session::is_valid_request_sequence;
use crate::tlv::Tlvs;
use bytes::BufMut;

pub mod bind;
pub mod data;
pub mod deliver;
pub(crate) mod fields;
pub mod message;
pub mod query;
pub mod session;
pub mod submit;

pub use bind::{Bind, BindResp, Outbind};
pub use data::{DataSm, DataSmResp};
pub use deliver::{delivery_report, DeliverSm, DeliverSmResp, DeliveryReport};
pub use message::Message;
pub use query::{CancelSm, QuerySm, QuerySmResp, ReplaceSm};
pub use session::AlertNotification;
pub use submit::{DestAddress, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, UnsuccessSme};

/// One PDU: the header's status and sequence number, and the body typed by command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pdu<'a> {
    /// command_status (section 5.1.3); `ESME_ROK` in every request.
    pub command_status: CommandStatus,
    /// sequence_number (section 5.1.4).
    pub sequence_number: u32,
    /// The command and its fields.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub body: Body<'a>,
}

macro_rules! bodies {
    (
        units { $( $uvariant:ident ),* }
        requests { $( $rvariant:ident($rty:ident) ),* }
        responses { $( $svariant:ident($sty:ident) ),* }
    ) => {
        /// The body of a PDU, one variant per command.
        ///
        /// A response that carries a body in the specification holds an `Option`: `None`
        /// when it came header-only, as SMSCs send error responses (4.1.2, 4.4.2: "The
        /// submit_sm_resp PDU Body is not returned if the command_status field contains a
        /// non-zero value"). Decoding accepts an empty body whatever the status.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(tag = "command_id", content = "body", rename_all = "snake_case"))]
        pub enum Body<'a> {
            $(
                #[doc = concat!("`", stringify!($uvariant), "`: header only.")]
                $uvariant,
            )*
            $(
                #[doc = concat!("`", stringify!($rvariant), "`.")]
                $rvariant($rty<'a>),
            )*
            $(
                #[doc = concat!("`", stringify!($svariant), "`; `None` when sent header-only.")]
                $svariant(Option<$sty<'a>>),
            )*
        }

        impl<'a> Body<'a> {
            /// The command_id of this body.
            #[inline]
            pub fn command_id(&self) -> CommandId {
                match self {
                    $( Body::$uvariant => CommandId::$uvariant, )*
                    $( Body::$rvariant(_) => CommandId::$rvariant, )*
                    $( Body::$svariant(_) => CommandId::$svariant, )*
                }
            }

            fn parse(command: CommandId, body: &'a [u8]) -> Result<Body<'a>, FieldError> {
                Ok(match command {
                    $( CommandId::$uvariant => { complete(body, |i| Ok((i, ())))?; Body::$uvariant } )*
                    $( CommandId::$rvariant => Body::$rvariant(complete(body, $rty::parse)?), )*
                    $( CommandId::$svariant => Body::$svariant(if body.is_empty() {
                        None
                    } else {
                        Some(complete(body, $sty::parse)?)
                    }), )*
                })
            }

            /// Octets of the body on the wire.
            pub fn encoded_len(&self) -> usize {
                match self {
                    $( Body::$uvariant => 0, )*
                    $( Body::$rvariant(b) => b.encoded_len(), )*
                    $( Body::$svariant(b) => b.as_ref().map_or(0, |b| b.encoded_len()), )*
                }
            }

            /// Checks every field and returns the octets of the body: what
            /// [`Body::encoded_len`] gives, once the body is known to be encodable.
            fn checked_len(&self) -> Result<usize, EncodeError> {
                match self {
                    $( Body::$uvariant => Ok(0), )*
                    $( Body::$rvariant(b) => b.checked_len(), )*
                    $( Body::$svariant(b) => b.as_ref().map_or(Ok(0), |b| b.checked_len()), )*
                }
            }

            /// Checks and writes a whole PDU with this body. One dispatch on the command,
            /// inside which its command_id, whether the sequence-number rule applies and the
            /// body's fields are all known at compile time.
            fn encode<B: BufMut>(
                &self,
                command_status: CommandStatus,
                sequence_number: u32,
                buf: &mut B,
            ) -> Result<usize, EncodeError> {
                match self {
                    $( Body::$uvariant => put_pdu(
                        CommandId::$uvariant, command_status, sequence_number, buf,
                        || Ok(0),
                        |_| {},
                    ), )*
                    $( Body::$rvariant(b) => put_pdu(
                        CommandId::$rvariant, command_status, sequence_number, buf,
                        || b.checked_len(),
                        |buf| b.write(buf),
                    ), )*
                    $( Body::$svariant(b) => put_pdu(
                        CommandId::$svariant, command_status, sequence_number, buf,
                        || b.as_ref().map_or(Ok(0), |b| b.checked_len()),
                        |buf| if let Some(b) = b { b.write(buf) },
                    ), )*
                }
            }

            /// The body of `command` sent header-only: a command that has no body, or a
            /// response whose body is left out (as error responses are, 4.4.2). `None` for
            /// a request that needs its fields.
            pub fn header_only(command: CommandId) -> Option<Body<'static>> {
                match command {
                    $( CommandId::$uvariant => Some(Body::$uvariant), )*
                    $( CommandId::$svariant => Some(Body::$svariant(None)), )*
                    _ => None,
                }
            }

            /// The optional parameters of a body that takes them (`None` for the rest, and
            /// for a response sent header-only).
            pub fn tlvs(&self) -> Option<&Tlvs<'a>> {
                match self {
                    $( Body::$uvariant => None, )*
                    $( Body::$rvariant(b) => b.tlvs_ref(), )*
                    $( Body::$svariant(b) => b.as_ref().and_then(|b| b.tlvs_ref()), )*
                }
            }

            /// The optional parameters of a body that takes them, to change.
            pub fn tlvs_mut(&mut self) -> Option<&mut Tlvs<'a>> {
                match self {
                    $( Body::$uvariant => None, )*
                    $( Body::$rvariant(b) => b.tlvs_mut(), )*
                    $( Body::$svariant(b) => b.as_mut().and_then(|b| b.tlvs_mut()), )*
                }
            }

            /// Detaches from the frame the body was borrowed from.
            pub fn into_owned(self) -> Body<'static> {
                match self {
                    $( Body::$uvariant => Body::$uvariant, )*
                    $( Body::$rvariant(b) => Body::$rvariant(b.into_owned()), )*
                    $( Body::$svariant(b) => Body::$svariant(b.map(|b| b.into_owned())), )*
                }
            }
        }
    };
}

bodies! {
    units { GenericNack, Unbind, UnbindResp, EnquireLink, EnquireLinkResp, CancelSmResp, ReplaceSmResp }
    requests {
        BindTransmitter(Bind), BindReceiver(Bind), BindTransceiver(Bind), Outbind(Outbind),
        SubmitSm(SubmitSm), SubmitMulti(SubmitMulti), DeliverSm(DeliverSm), DataSm(DataSm),
        QuerySm(QuerySm), CancelSm(CancelSm), ReplaceSm(ReplaceSm),
        AlertNotification(AlertNotification)
    }
    responses {
        BindTransmitterResp(BindResp), BindReceiverResp(BindResp), BindTransceiverResp(BindResp),
        SubmitSmResp(SubmitSmResp), SubmitMultiResp(SubmitMultiResp), DeliverSmResp(DeliverSmResp),
        DataSmResp(DataSmResp), QuerySmResp(QuerySmResp)
    }
}

/// Checks a PDU of `command` and writes it: the sequence number, then the body's fields
/// (`body_len`), then the header and the body (`write_body`). Nothing is written when a
/// check fails.
#[inline(always)]
fn put_pdu<B: BufMut>(
    command: CommandId,
    command_status: CommandStatus,
    sequence_number: u32,
    buf: &mut B,
    body_len: impl FnOnce() -> Result<usize, EncodeError>,
    write_body: impl FnOnce(&mut B),
) -> Result<usize, EncodeError> {
    check_sequence_number(command, sequence_number)?;
    let len = HEADER_LEN + body_len()?;
    let command_length = u32::try_from(len).map_err(|_| EncodeError::PduTooLong(len))?;
    Header {
        command_length,
        command_id: command.as_u32(),
        command_status,
        sequence_number,
    }
    .write(buf);
    write_body(buf);
    Ok(len)
}

/// 5.1.4: a request's sequence_number must lie in 0x00000001..=0x7FFFFFFF; a response
/// echoes whatever its request carried.
#[inline(always)]
fn check_sequence_number(command: CommandId, sequence_number: u32) -> Result<(), EncodeError> {
    if !command.is_response() && !is_valid_request_sequence(sequence_number) {
        return Err(EncodeError::SequenceNumber(sequence_number));
    }
    Ok(())
}

/// Runs a body parser and insists it used every octet.
#[inline]
fn complete<'a, T>(
    body: &'a [u8],
    parse: impl FnOnce(&'a [u8]) -> crate::error::PResult<'a, T>,
) -> Result<T, FieldError> {
    match parse(body) {
        Ok(([], value)) => Ok(value),
        Ok((rest, _)) => Err(FieldError::new(
            "body",
            FieldErrorKind::TrailingBytes { count: rest.len() },
            rest.len(),
        )),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e),
        Err(nom::Err::Incomplete(_)) => Err(FieldError::new(
            "body",
            FieldErrorKind::Truncated { needed: 1 },
            0,
        )),
    }
}

impl<'a> Pdu<'a> {
    /// A PDU with status `ESME_ROK`.
    pub fn new(sequence_number: u32, body: impl Into<Body<'a>>) -> Self {
        Pdu {
            command_status: CommandStatus::ESME_ROK,
            sequence_number,
            body: body.into(),
        }
    }

    /// A PDU with the given status.
    pub fn with_status(
        sequence_number: u32,
        command_status: CommandStatus,
        body: Body<'a>,
    ) -> Self {
        Pdu {
            command_status,
            sequence_number,
            body,
        }
    }

    /// A generic_nack (section 4.3) answering `sequence_number` with `status`.
    pub fn generic_nack(sequence_number: u32, status: CommandStatus) -> Pdu<'static> {
        Pdu::with_status(sequence_number, status, Body::GenericNack)
    }

    /// The header-only response that refuses `request` with `status` (for example
    /// submit_sm_resp with ESME_RTHROTTLED), or a generic_nack for a command that has no
    /// response of its own (section 4.3).
    pub fn refusal(
        request: CommandId,
        sequence_number: u32,
        status: CommandStatus,
    ) -> Pdu<'static> {
        match request.response().and_then(Body::header_only) {
            Some(body) => Pdu::with_status(sequence_number, status, body),
            None => Pdu::generic_nack(sequence_number, status),
        }
    }

    /// The command_id.
    #[inline]
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Decodes the PDU at the front of `buf` (which must hold all of its command_length),
    /// with the default maximum length.
    pub fn decode(buf: &'a [u8]) -> Result<Pdu<'a>, DecodeError> {
        Self::decode_with_max(buf, DEFAULT_MAX_PDU_LEN)
    }

    /// Decodes the PDU at the front of `buf`, refusing a command_length above `max`.
    /// Octets after command_length are not looked at.
    pub fn decode_with_max(buf: &'a [u8], max: u32) -> Result<Pdu<'a>, DecodeError> {
        let header = Header::parse(buf, max)?;
        let len = header.command_length as usize;
        let Some(frame) = buf.get(..len) else {
            return Err(DecodeError::Truncated {
                command_length: header.command_length,
                available: buf.len(),
            });
        };
        let Some(command) = CommandId::from_u32(header.command_id) else {
            return Err(DecodeError::UnknownCommand {
                command_id: header.command_id,
                sequence_number: header.sequence_number,
            });
        };
        let body = Body::parse(command, &frame[HEADER_LEN..]).map_err(|e| DecodeError::Field {
            command,
            command_status: header.command_status,
            sequence_number: header.sequence_number,
            field: e.field,
            offset: len - e.remaining.min(len),
            kind: e.kind,
        })?;
        Ok(Pdu {
            command_status: header.command_status,
            sequence_number: header.sequence_number,
            body,
        })
    }

    /// command_length of the encoded PDU.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body.encoded_len()
    }

    /// Checks the PDU against the specification's rules without writing it.
    pub fn validate(&self) -> Result<(), EncodeError> {
        self.checked_len().map(drop)
    }

    /// Checks the PDU and returns its command_length, in one pass over the fields.
    fn checked_len(&self) -> Result<usize, EncodeError> {
        check_sequence_number(self.command_id(), self.sequence_number)?;
        Ok(HEADER_LEN + self.body.checked_len()?)
    }

    /// Encodes the PDU into `buf` after checking it; returns the octets written. Nothing is
    /// written when a check fails.
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<usize, EncodeError> {
        self.body
            .encode(self.command_status, self.sequence_number, buf)
    }

    /// Encodes the PDU into a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Detaches from the frame the PDU was borrowed from.
    pub fn into_owned(self) -> Pdu<'static> {
        Pdu {
            command_status: self.command_status,
            sequence_number: self.sequence_number,
            body: self.body.into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::octets::Octets;
    use crate::tlv::{Tlv, Tlvs};

    /// The writer coalesces fixed-size runs; this spells out section 4.4.1 field by field,
    /// with every field set and every Integer distinct, so a run written out of place shows.
    #[test]
    fn submit_sm_is_laid_out_as_table_4_10() {
        let sm = SubmitSm {
            service_type: "CMT".into(),
            source_addr_ton: 0x11,
            source_addr_npi: 0x12,
            source_addr: "SMSGATE".into(),
            dest_addr_ton: 0x13,
            dest_addr_npi: 0x14,
            destination_addr: "819012345678".into(),
            esm_class: 0x15,
            protocol_id: 0x16,
            priority_flag: 0x17,
            schedule_delivery_time: "261125120000000+".into(),
            validity_period: "000001000000000R".into(),
            registered_delivery: 0x18,
            replace_if_present_flag: 0x19,
            data_coding: 0x1a,
            sm_default_msg_id: 0x1b,
            short_message: Octets::from(&[0x30, 0x42]),
            tlvs: Tlvs::new()
                .with(Tlv::UserMessageReference(0x0102))
                .expect("valid"),
        };
        let mut body = Vec::new();
        for part in [
            &b"CMT\0"[..],
            &[0x11, 0x12],
            b"SMSGATE\0",
            &[0x13, 0x14],
            b"819012345678\0",
            &[0x15, 0x16, 0x17],
            b"261125120000000+\0",
            b"000001000000000R\0",
            &[0x18, 0x19, 0x1a, 0x1b],
            &[2, 0x30, 0x42],
            &[0x02, 0x04, 0x00, 0x02, 0x01, 0x02],
        ] {
            body.extend_from_slice(part);
        }
        let mut expected = Vec::new();
        expected.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9]);
        expected.extend_from_slice(&body);

        let pdu = Pdu::new(9, Body::SubmitSm(sm));
        assert_eq!(pdu.encoded_len(), expected.len());
        assert_eq!(pdu.to_bytes().expect("encodes"), expected);
        assert_eq!(Pdu::decode(&expected), Ok(pdu));
    }
}
