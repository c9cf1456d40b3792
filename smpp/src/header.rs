//! The 16-octet PDU header (section 3.2) and the command_length bounds that frame a stream.

use crate::command::CommandStatus;
use crate::error::DecodeError;
use bytes::BufMut;

/// Octets in a PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;

/// The default maximum command_length a decoder accepts: room for a submit_sm carrying a
/// full 64 KiB message_payload (section 5.3.2.32) and its other fields.
pub const DEFAULT_MAX_PDU_LEN: u32 = 0x0001_1000;

/// A decoded header. `command_id` is kept raw so that an unknown command can still be
/// answered with its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Total PDU length, header included (section 5.1.1).
    pub command_length: u32,
    /// Raw command_id (section 5.1.2).
    pub command_id: u32,
    /// command_status (section 5.1.3).
    pub command_status: CommandStatus,
    /// sequence_number (section 5.1.4).
    pub sequence_number: u32,
}

impl Header {
    /// Reads a header from the first 16 octets of `buf` and checks command_length against
    /// the 16-octet minimum and `max`. The body is not looked at.
    pub fn parse(buf: &[u8], max: u32) -> Result<Header, DecodeError> {
        let Some(h) = buf.get(..HEADER_LEN) else {
            return Err(DecodeError::ShortHeader {
                available: buf.len(),
            });
        };
        let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let command_length = word(0);
        check_length(command_length, max)?;
        Ok(Header {
            command_length,
            command_id: word(4),
            command_status: CommandStatus(word(8)),
            sequence_number: word(12),
        })
    }

    /// Writes the header: the four words assembled on the stack and put in one call, so
    /// `buf` checks its capacity once rather than four times.
    #[inline]
    pub fn write<B: BufMut>(&self, buf: &mut B) {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&self.command_length.to_be_bytes());
        h[4..8].copy_from_slice(&self.command_id.to_be_bytes());
        h[8..12].copy_from_slice(&self.command_status.0.to_be_bytes());
        h[12..16].copy_from_slice(&self.sequence_number.to_be_bytes());
        buf.put_slice(&h);
    }
}

fn check_length(command_length: u32, max: u32) -> Result<(), DecodeError> {
    if command_length < HEADER_LEN as u32 {
        return Err(DecodeError::LengthTooSmall { command_length });
    }
    if command_length > max {
        return Err(DecodeError::LengthTooLarge {
            command_length,
            max,
        });
    }
    Ok(())
}

/// Frame first, then parse: the length of the PDU at the front of `buf`, once its four
/// command_length octets are there. `Ok(None)` means more bytes are needed to know; an
/// error means the length is impossible and the stream cannot be framed any further.
/// The caller still has to wait until `buf.len()` reaches the returned length.
pub fn frame_len(buf: &[u8], max: u32) -> Result<Option<usize>, DecodeError> {
    let Some(len) = buf.get(..4) else {
        return Ok(None);
    };
    let command_length = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    check_length(command_length, max)?;
    Ok(Some(command_length as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_header_is_rejected() {
        assert_eq!(
            Header::parse(&[0, 0, 0, 16, 0, 0], DEFAULT_MAX_PDU_LEN),
            Err(DecodeError::ShortHeader { available: 6 })
        );
    }

    #[test]
    fn command_length_below_header_is_rejected() {
        let buf = [0, 0, 0, 15, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            Header::parse(&buf, DEFAULT_MAX_PDU_LEN),
            Err(DecodeError::LengthTooSmall { command_length: 15 })
        );
        assert_eq!(
            frame_len(&buf, DEFAULT_MAX_PDU_LEN),
            Err(DecodeError::LengthTooSmall { command_length: 15 })
        );
    }

    #[test]
    fn command_length_above_maximum_is_rejected_before_the_body_arrives() {
        assert_eq!(
            frame_len(&[0, 0, 4, 1], 1024),
            Err(DecodeError::LengthTooLarge {
                command_length: 1025,
                max: 1024
            })
        );
        assert_eq!(frame_len(&[0, 0, 4], 1024), Ok(None));
    }
}
