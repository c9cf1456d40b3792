//! Typed decode and encode errors: each says which field, at which byte, broke which rule,
//! and which `command_status` a session answers it with.

use crate::command::{CommandId, CommandStatus};
use thiserror::Error;

/// What was wrong with one field of a PDU body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldErrorKind {
    /// The body ended before the field was complete.
    #[error("body ends {needed} byte(s) short of the field")]
    Truncated {
        /// Bytes missing.
        needed: usize,
    },
    /// A C-Octet String ran to the end of the body with no NUL terminator.
    #[error("C-Octet String has no NUL terminator")]
    MissingNul,
    /// A string is longer than the specification allows (the maximum counts the NUL).
    #[error("{len} octets where the specification allows at most {max}")]
    TooLong {
        /// Octets found (including the NUL for C-Octet Strings).
        len: usize,
        /// The specification's maximum.
        max: usize,
    },
    /// `sm_length` announces more octets than the body holds.
    #[error("sm_length is {sm_length} but only {available} octet(s) follow")]
    SmLengthMismatch {
        /// The announced length.
        sm_length: u8,
        /// Octets left in the body.
        available: usize,
    },
    /// Fewer than the four octets of a TLV tag and length remain.
    #[error("{available} octet(s) left where a TLV header (4 octets) was expected")]
    TlvTruncated {
        /// Octets left in the body.
        available: usize,
    },
    /// A TLV's length runs past the end of the PDU.
    #[error("TLV 0x{tag:04x} has length {length} but only {available} octet(s) remain")]
    TlvLengthPastBody {
        /// The TLV tag.
        tag: u16,
        /// The announced length.
        length: u16,
        /// Octets left in the body.
        available: usize,
    },
    /// A known TLV with a length its definition does not allow.
    #[error("TLV 0x{tag:04x} has length {length}; section 5.3.2 allows {allowed}")]
    TlvBadLength {
        /// The TLV tag.
        tag: u16,
        /// The announced length.
        length: u16,
        /// The lengths the definition allows, for the message.
        allowed: &'static str,
    },
    /// A value outside the range the specification defines.
    #[error("invalid value: {0}")]
    Invalid(&'static str),
    /// Bytes after the last field of a PDU that takes no optional parameters.
    #[error("{count} unexpected octet(s) after the last field")]
    TrailingBytes {
        /// The number of extra octets.
        count: usize,
    },
}

/// Why a frame could not be decoded into a PDU.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer than 16 octets: not even a header.
    #[error("short header: {available} octet(s), a header needs 16")]
    ShortHeader {
        /// Octets available.
        available: usize,
    },
    /// command_length below the 16-octet header (section 5.1.1).
    #[error("command_length {command_length} is below the 16-octet header")]
    LengthTooSmall {
        /// The announced length.
        command_length: u32,
    },
    /// command_length above the configured maximum.
    #[error("command_length {command_length} exceeds the maximum {max}")]
    LengthTooLarge {
        /// The announced length.
        command_length: u32,
        /// The configured maximum.
        max: u32,
    },
    /// The buffer holds less than command_length octets.
    #[error("command_length is {command_length} but only {available} octet(s) are present")]
    Truncated {
        /// The announced length.
        command_length: u32,
        /// Octets available.
        available: usize,
    },
    /// A command_id the specification does not define (answer: generic_nack ESME_RINVCMDID).
    #[error("unknown command_id 0x{command_id:08x} (sequence_number {sequence_number})")]
    UnknownCommand {
        /// The raw command_id.
        command_id: u32,
        /// The PDU's sequence number, for the generic_nack.
        sequence_number: u32,
    },
    /// A field of the body broke a rule. The header was sound, so its command, status and
    /// sequence number are kept: a malformed *response* still says how its request ended
    /// (an SMSC that throttles with a garbled body has still throttled), see
    /// [`DecodeError::response_header`].
    #[error(
        "{command} (sequence_number {sequence_number}): field {field} at byte {offset}: {kind}"
    )]
    Field {
        /// The PDU's command.
        command: CommandId,
        /// The PDU's command_status.
        command_status: CommandStatus,
        /// The PDU's sequence number, for the response.
        sequence_number: u32,
        /// The field, named as in the specification.
        field: &'static str,
        /// Offset of the field from the first octet of the PDU.
        offset: usize,
        /// What was wrong.
        kind: FieldErrorKind,
    },
}

impl DecodeError {
    /// The status to answer this PDU with (in its `*_resp`, or in a `generic_nack` when
    /// [`DecodeError::command`] is `None` or the command has no response).
    pub fn command_status(&self) -> CommandStatus {
        match self {
            DecodeError::ShortHeader { .. }
            | DecodeError::LengthTooSmall { .. }
            | DecodeError::LengthTooLarge { .. }
            | DecodeError::Truncated { .. } => CommandStatus::ESME_RINVCMDLEN,
            DecodeError::UnknownCommand { .. } => CommandStatus::ESME_RINVCMDID,
            DecodeError::Field { field, kind, .. } => match kind {
                FieldErrorKind::TlvTruncated { .. } | FieldErrorKind::TlvLengthPastBody { .. } => {
                    CommandStatus::ESME_RINVOPTPARSTREAM
                }
                FieldErrorKind::TlvBadLength { .. } => CommandStatus::ESME_RINVPARLEN,
                FieldErrorKind::SmLengthMismatch { .. } => CommandStatus::ESME_RINVMSGLEN,
                FieldErrorKind::Truncated { .. } | FieldErrorKind::TrailingBytes { .. } => {
                    CommandStatus::ESME_RINVCMDLEN
                }
                FieldErrorKind::MissingNul
                | FieldErrorKind::TooLong { .. }
                | FieldErrorKind::Invalid(_) => status_for_field(field),
            },
        }
    }

    /// The sequence number of the offending PDU, when its header could be read.
    pub fn sequence_number(&self) -> Option<u32> {
        match self {
            DecodeError::UnknownCommand {
                sequence_number, ..
            }
            | DecodeError::Field {
                sequence_number, ..
            } => Some(*sequence_number),
            _ => None,
        }
    }

    /// The command of the offending PDU, when it is known.
    pub fn command(&self) -> Option<CommandId> {
        match self {
            DecodeError::Field { command, .. } => Some(*command),
            _ => None,
        }
    }

    /// For a response whose body could not be read: its command, command_status and
    /// sequence_number, which are enough to settle the request it answers. Section 4.4.2:
    /// an error response's body "is not returned", so a non-zero status with a malformed
    /// body is still that status.
    pub fn response_header(&self) -> Option<(CommandId, CommandStatus, u32)> {
        match self {
            DecodeError::Field {
                command,
                command_status,
                sequence_number,
                ..
            } if command.is_response() => Some((*command, *command_status, *sequence_number)),
            _ => None,
        }
    }

    /// The byte offset of the fault from the start of the PDU, where one is known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            DecodeError::Field { offset, .. } => Some(*offset),
            DecodeError::ShortHeader { .. }
            | DecodeError::LengthTooSmall { .. }
            | DecodeError::LengthTooLarge { .. } => Some(0),
            DecodeError::Truncated { available, .. } => Some(*available),
            DecodeError::UnknownCommand { .. } => Some(4),
        }
    }

    /// True when the stream can still be read after this PDU: its command_length was sane,
    /// so the next PDU starts right after it. False means the framing is lost and the
    /// session must close.
    pub fn framing_survives(&self) -> bool {
        !matches!(
            self,
            DecodeError::ShortHeader { .. }
                | DecodeError::LengthTooSmall { .. }
                | DecodeError::LengthTooLarge { .. }
                | DecodeError::Truncated { .. }
        )
    }
}

/// The most specific status for a malformed mandatory field (section 5.1.3).
fn status_for_field(field: &str) -> CommandStatus {
    match field {
        "system_id" => CommandStatus::ESME_RINVSYSID,
        "password" => CommandStatus::ESME_RINVPASWD,
        "system_type" => CommandStatus::ESME_RINVSYSTYP,
        "service_type" => CommandStatus::ESME_RINVSERTYP,
        "source_addr" | "esme_addr" => CommandStatus::ESME_RINVSRCADR,
        "destination_addr" => CommandStatus::ESME_RINVDSTADR,
        "message_id" => CommandStatus::ESME_RINVMSGID,
        "schedule_delivery_time" => CommandStatus::ESME_RINVSCHED,
        "validity_period" => CommandStatus::ESME_RINVEXPIRY,
        "dl_name" => CommandStatus::ESME_RINVDLNAME,
        "dest_flag" => CommandStatus::ESME_RINVDESTFLAG,
        "number_of_dests" => CommandStatus::ESME_RINVNUMDESTS,
        "short_message" | "sm_length" => CommandStatus::ESME_RINVMSGLEN,
        _ => CommandStatus::ESME_RINVCMDLEN,
    }
}

/// Why a PDU could not be encoded: it would break a rule of the specification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A string longer than its maximum (C-Octet String maxima count the NUL).
    #[error("field {field}: {len} octets where the specification allows at most {max}")]
    TooLong {
        /// The field, named as in the specification.
        field: &'static str,
        /// Octets the field would take on the wire.
        len: usize,
        /// The specification's maximum.
        max: usize,
    },
    /// A C-Octet String holding a NUL octet, which would end it early on the wire.
    #[error("field {field}: a C-Octet String cannot contain a NUL octet")]
    EmbeddedNul {
        /// The field, named as in the specification.
        field: &'static str,
    },
    /// A value outside the specification's range.
    #[error("field {field}: {reason}")]
    Invalid {
        /// The field, named as in the specification.
        field: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A request's sequence_number outside 0x00000001–0x7FFFFFFF (section 5.1.4).
    #[error("sequence_number {0:#010x} is outside 0x00000001..=0x7FFFFFFF")]
    SequenceNumber(u32),
    /// The PDU would be longer than command_length can say.
    #[error("PDU of {0} octets is too long")]
    PduTooLong(usize),
}

/// Error of one field inside the nom parsers: the field, what was wrong, and how many
/// octets of the PDU were left when it happened (turned into an offset by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: &'static str,
    pub(crate) kind: FieldErrorKind,
    pub(crate) remaining: usize,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, kind: FieldErrorKind, remaining: usize) -> Self {
        FieldError {
            field,
            kind,
            remaining,
        }
    }
}

impl<'a> nom::error::ParseError<&'a [u8]> for FieldError {
    fn from_error_kind(input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        FieldError::new("body", FieldErrorKind::Truncated { needed: 1 }, input.len())
    }

    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// Result of a body parser.
pub(crate) type PResult<'a, T> = nom::IResult<&'a [u8], T, FieldError>;
