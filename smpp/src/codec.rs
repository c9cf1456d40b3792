//! [`SmppCodec`]: tokio_util framing of a byte stream into PDUs and back (feature
//! `tokio-codec`). Frame first, then parse: command_length is checked against the maximum
//! before the body is waited for.

use crate::error::{DecodeError, EncodeError};
use crate::header::{frame_len, DEFAULT_MAX_PDU_LEN};
use crate::pdu::Pdu;
use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Frames PDUs on a stream. Decoding yields [`Frame`]s: one PDU's octets, decoded into an
/// owned [`Pdu`] or into the error that its session answers with a generic_nack.
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

/// One framed PDU: its raw octets and what decoding them gave.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The PDU's octets, header included.
    pub bytes: Bytes,
    /// The decoded PDU, or why it could not be decoded. The stream stays in step either
    /// way: the next frame starts after command_length octets.
    pub pdu: Result<Pdu<'static>, DecodeError>,
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
        let bytes = src.split_to(len).freeze();
        let pdu = Pdu::decode_with_max(&bytes, self.max_len).map(Pdu::into_owned);
        Ok(Some(Frame { bytes, pdu }))
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
                got.push(frame.pdu.expect("valid").sequence_number);
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
        let err = first.pdu.expect_err("unknown command");
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDID);
        assert_eq!(err.sequence_number(), Some(4));
        let second = codec.decode(&mut buf).expect("frames").expect("complete");
        assert_eq!(second.pdu.expect("valid").body, Body::EnquireLink);
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
    fn oversized_command_length_loses_the_framing() {
        let mut buf = BytesMut::from(&[0x7f, 0, 0, 0][..]);
        assert!(matches!(
            SmppCodec::new(4096).decode(&mut buf),
            Err(CodecError::Framing(DecodeError::LengthTooLarge { .. }))
        ));
    }
}
