//! [`SmppCodec`]: tokio_util framing of a byte stream into PDUs and back (feature
//! `tokio-codec`). Frame first, then parse: command_length is checked against the maximum
//! before the body is waited for, and the PDU is decoded from its [`Frame`], borrowed, only
//! when the caller asks.

use crate::error::{DecodeError, EncodeError};
use crate::header::{frame_len, DEFAULT_MAX_PDU_LEN};
use crate::pdu::Pdu;
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Frames PDUs on a stream. Decoding yields [`Frame`]s: one PDU's octets, which
/// [`Frame::pdu`] decodes into a [`Pdu`] borrowed from them or into the error its session
/// answers (a generic_nack, or the command's own response).
#[derive(Debug, Clone)]
pub struct SmppCodec {
    max_len: u32,
}

impl SmppCodec {
    /// A codec refusing PDUs longer than `max_len` octets.
    pub fn new(max_len: u32) -> Self {
        SmppCodec { max_len }
    }

    /// The maximum command_length this codec accepts.
    pub fn max_len(&self) -> u32 {
        self.max_len
    }
}

impl Default for SmppCodec {
    fn default() -> Self {
        SmppCodec::new(DEFAULT_MAX_PDU_LEN)
    }
}

/// One framed PDU: exactly command_length octets, command_length checked against the
/// codec's maximum. Made only by [`SmppCodec`].
///
/// Framing and decoding fail apart: a frame whose PDU cannot be decoded still ends where
/// command_length says, so the stream stays in step and the next frame starts after it.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The PDU's octets, header included: a share of the read buffer, not a copy.
    bytes: Bytes,
}

impl Frame {
    /// Decodes the PDU, borrowing its strings and TLVs from the frame: no allocation.
    /// [`Pdu::into_owned`] detaches it when it must outlive the frame. Each call decodes
    /// the octets again, so take the result once.
    pub fn pdu(&self) -> Result<Pdu<'_>, DecodeError> {
        // The codec checked command_length against its maximum when it framed the octets.
        Pdu::decode_with_max(&self.bytes, u32::MAX)
    }

    /// The PDU's octets, header included, as they came (for a log or a hex dump).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// A stream-level failure: the framing is lost, or the transport failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// command_length is impossible; nothing after it can be framed.
    #[error("framing lost: {0}")]
    Framing(DecodeError),
    /// A PDU could not be encoded.
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
    /// The transport failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Decoder for SmppCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        let Some(len) = frame_len(src, self.max_len).map_err(CodecError::Framing)? else {
            src.reserve(16);
            return Ok(None);
        };
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        Ok(Some(Frame {
            bytes: src.split_to(len).freeze(),
        }))
    }
}

impl Encoder<Pdu<'_>> for SmppCodec {
    type Error = CodecError;

    fn encode(&mut self, pdu: Pdu<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        <Self as Encoder<&Pdu<'_>>>::encode(self, &pdu, dst)
    }
}

impl Encoder<&Pdu<'_>> for SmppCodec {
    type Error = CodecError;

    fn encode(&mut self, pdu: &Pdu<'_>, dst: &mut BytesMut) -> Result<(), CodecError> {
        // Strict in what we send: never a PDU our own decoder (or a peer configured like
        // it) would refuse as too long.
        let len = pdu.encoded_len();
        if len > self.max_len as usize {
            return Err(CodecError::Encode(EncodeError::PduTooLong(len)));
        }
        dst.reserve(len);
        pdu.encode(dst)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandStatus;
    use crate::pdu::Body;

    #[test]
    fn frames_back_to_back_pdus_split_anywhere() {
        let mut wire = BytesMut::new();
        let mut codec = SmppCodec::default();
        for seq in 1..=3 {
            codec
                .encode(Pdu::new(seq, Body::EnquireLink), &mut wire)
                .expect("encodes");
        }
        let all = wire.freeze();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for chunk in all.chunks(5) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = codec.decode(&mut buf).expect("frames") {
                got.push(frame.pdu().expect("valid").sequence_number);
            }
        }
        assert_eq!(got, [1, 2, 3]);
    }

    #[test]
    fn unknown_command_keeps_the_stream_in_step() {
        let mut buf = BytesMut::from(&[0, 0, 0, 16, 0, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 4][..]);
        buf.extend_from_slice(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 5]);
        let mut codec = SmppCodec::default();
        let first = codec.decode(&mut buf).expect("frames").expect("complete");
        let err = first.pdu().expect_err("unknown command");
        assert_eq!(first.bytes().len(), 16);
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDID);
        assert_eq!(err.sequence_number(), Some(4));
        let second = codec.decode(&mut buf).expect("frames").expect("complete");
        assert_eq!(second.pdu().expect("valid").body, Body::EnquireLink);
    }

    #[test]
    fn encoding_refuses_a_pdu_over_the_maximum() {
        use crate::pdu::DataSm;
        use crate::tlv::{Tlv, Tlvs};
        let payload = crate::Octets::from(vec![b'a'; 600]);
        let pdu = Pdu::new(
            1,
            Body::DataSm(DataSm {
                tlvs: Tlvs::new()
                    .with(Tlv::MessagePayload(payload))
                    .expect("valid"),
                ..Default::default()
            }),
        );
        let mut dst = BytesMut::new();
        assert!(matches!(
            SmppCodec::new(512).encode(&pdu, &mut dst),
            Err(CodecError::Encode(EncodeError::PduTooLong(_)))
        ));
        assert!(dst.is_empty());
        assert!(SmppCodec::new(1024).encode(&pdu, &mut dst).is_ok());
    }

    #[test]
    fn a_frame_decodes_up_to_its_codec_maximum_not_the_default() {
        use crate::header::DEFAULT_MAX_PDU_LEN;
        use crate::pdu::DataSm;
        use crate::tlv::{Tlv, Tlvs};
        let vendor = |tag| Tlv::Other {
            tag,
            value: crate::Octets::from(vec![b'v'; 40_000]),
        };
        let tlvs = Tlvs::new()
            .with(vendor(0x1400))
            .and_then(|t| t.with(vendor(0x1401)))
            .expect("valid");
        let pdu = Pdu::new(
            1,
            Body::DataSm(DataSm {
                tlvs,
                ..Default::default()
            }),
        );
        assert!(pdu.encoded_len() > DEFAULT_MAX_PDU_LEN as usize);
        let mut codec = SmppCodec::new(0x0004_0000);
        let mut buf = BytesMut::new();
        codec.encode(&pdu, &mut buf).expect("encodes");
        let frame = codec.decode(&mut buf).expect("frames").expect("complete");
        assert_eq!(frame.pdu(), Ok(pdu));
    }

    #[test]
    fn oversized_command_length_loses_the_framing() {
        let mut buf = BytesMut::from(&[0x7f, 0, 0, 0][..]);
        assert!(matches!(
            SmppCodec::new(4096).decode(&mut buf),
            Err(CodecError::Framing(DecodeError::LengthTooLarge { .. }))
        ));
    }
}
