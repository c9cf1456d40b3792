//! One named test per malformed input: each asserts the exact typed error, the
//! `command_status` a session answers it with, and what the session needs to answer at all
//! (sequence number, whether the stream is still framed). Encode-side refusals at the end.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use smpp::pdu::{
    Bind, DataSm, DestAddress, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp,
    UnsuccessSme,
};
use smpp::{
    Body, CommandId, CommandStatus, DecodeError, EncodeError, FieldErrorKind, Octets, Pdu, Tlv,
    Tlvs, DEFAULT_MAX_PDU_LEN,
};

// ---- builders ----

/// A PDU with a correct command_length around `body`.
fn frame(command_id: u32, sequence_number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + body.len());
    out.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(&command_id.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&sequence_number.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A C-Octet String: the octets and a NUL.
fn c(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A bind body with the given strings.
fn bind_body(system_id: &str, password: &str, system_type: &str, address_range: &str) -> Vec<u8> {
    [
        c(system_id),
        c(password),
        c(system_type),
        vec![0x34, 1, 1],
        c(address_range),
    ]
    .concat()
}

/// A submit_sm body up to and including data_coding/sm_default_msg_id, with the given
/// addresses and times; the caller appends sm_length, short_message and TLVs.
fn submit_head(
    service_type: &str,
    source_addr: &str,
    destination_addr: &str,
    schedule: &str,
    validity: &str,
) -> Vec<u8> {
    [
        c(service_type),
        vec![5, 0],
        c(source_addr),
        vec![1, 1],
        c(destination_addr),
        vec![0, 0, 0],
        c(schedule),
        c(validity),
        vec![1, 0, 0, 0],
    ]
    .concat()
}

/// A well-formed submit_sm body with `short_message` and raw `tlvs` after it.
fn submit_body(short_message: &[u8], tlvs: &[u8]) -> Vec<u8> {
    let mut body = submit_head("", "SMSGATE", "819012345678", "", "");
    body.push(short_message.len() as u8);
    body.extend_from_slice(short_message);
    body.extend_from_slice(tlvs);
    body
}

/// Offset of the first octet after the fixed part of [`submit_body`] (where TLVs start).
fn submit_tlv_offset(short_message_len: usize) -> usize {
    16 + submit_head("", "SMSGATE", "819012345678", "", "").len() + 1 + short_message_len
}

const SUBMIT_SM: u32 = 0x0000_0004;
const SUBMIT_SM_RESP: u32 = 0x8000_0004;
const BIND_TRANSMITTER: u32 = 0x0000_0002;
const ENQUIRE_LINK: u32 = 0x0000_0015;

/// Decodes `bytes`, which must fail with a field error; returns it after checking the
/// command and sequence number it reports.
fn field_error(bytes: &[u8], command: CommandId, sequence_number: u32) -> DecodeError {
    let err = Pdu::decode(bytes).expect_err("malformed input must not decode");
    assert!(
        matches!(err, DecodeError::Field { .. }),
        "expected a field error, got {err:?}"
    );
    assert_eq!(err.command(), Some(command));
    assert_eq!(err.sequence_number(), Some(sequence_number));
    assert!(
        err.framing_survives(),
        "a field error leaves the stream framed"
    );
    err
}

fn field_parts(err: &DecodeError) -> (&'static str, usize, FieldErrorKind) {
    match err {
        DecodeError::Field {
            field,
            offset,
            kind,
            ..
        } => (*field, *offset, kind.clone()),
        other => panic!("not a field error: {other:?}"),
    }
}

// ---- header and framing ----

#[test]
fn short_header() {
    let err = Pdu::decode(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0]).expect_err("10 octets");
    assert_eq!(err, DecodeError::ShortHeader { available: 10 });
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(err.sequence_number(), None);
    assert!(!err.framing_survives());
}

#[test]
fn empty_input_is_a_short_header() {
    let err = Pdu::decode(&[]).expect_err("no octets");
    assert_eq!(err, DecodeError::ShortHeader { available: 0 });
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn header_of_fifteen_octets_is_a_short_header() {
    let bytes = frame(ENQUIRE_LINK, 1, &[]);
    let err = Pdu::decode(&bytes[..15]).expect_err("15 octets");
    assert_eq!(err, DecodeError::ShortHeader { available: 15 });
}

#[test]
fn command_length_below_sixteen() {
    let mut bytes = frame(ENQUIRE_LINK, 1, &[]);
    bytes[3] = 15;
    let err = Pdu::decode(&bytes).expect_err("command_length 15");
    assert_eq!(err, DecodeError::LengthTooSmall { command_length: 15 });
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert!(!err.framing_survives());
}

#[test]
fn command_length_zero() {
    let mut bytes = frame(ENQUIRE_LINK, 1, &[]);
    bytes[..4].copy_from_slice(&[0, 0, 0, 0]);
    let err = Pdu::decode(&bytes).expect_err("command_length 0");
    assert_eq!(err, DecodeError::LengthTooSmall { command_length: 0 });
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn command_length_above_the_maximum() {
    let bytes = frame(SUBMIT_SM, 1, &submit_body(b"hello", &[]));
    let len = bytes.len() as u32;
    let err = Pdu::decode_with_max(&bytes, len - 1).expect_err("over the maximum");
    assert_eq!(
        err,
        DecodeError::LengthTooLarge {
            command_length: len,
            max: len - 1
        }
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert!(!err.framing_survives());
    // Exactly the maximum is accepted.
    assert!(Pdu::decode_with_max(&bytes, len).is_ok());
}

#[test]
fn command_length_above_the_default_maximum_is_refused_before_the_body() {
    // Only the header is there: the length is refused without waiting for 4 GiB.
    let mut bytes = frame(SUBMIT_SM, 1, &[]);
    bytes[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = Pdu::decode(&bytes).expect_err("4 GiB PDU");
    assert_eq!(
        err,
        DecodeError::LengthTooLarge {
            command_length: u32::MAX,
            max: DEFAULT_MAX_PDU_LEN
        }
    );
}

#[test]
fn body_shorter_than_command_length() {
    let bytes = frame(SUBMIT_SM, 1, &submit_body(b"hello", &[]));
    let err = Pdu::decode(&bytes[..bytes.len() - 1]).expect_err("one octet short");
    assert_eq!(
        err,
        DecodeError::Truncated {
            command_length: bytes.len() as u32,
            available: bytes.len() - 1
        }
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert!(!err.framing_survives());
}

#[test]
fn header_only_pdu_announcing_a_body_that_is_not_there() {
    let mut bytes = frame(ENQUIRE_LINK, 1, &[]);
    bytes[3] = 20;
    let err = Pdu::decode(&bytes).expect_err("4 octets missing");
    assert_eq!(
        err,
        DecodeError::Truncated {
            command_length: 20,
            available: 16
        }
    );
}

#[test]
fn unknown_command_id() {
    let bytes = frame(0x0000_0077, 1234, &[]);
    let err = Pdu::decode(&bytes).expect_err("unknown command");
    assert_eq!(
        err,
        DecodeError::UnknownCommand {
            command_id: 0x77,
            sequence_number: 1234
        }
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDID);
    assert_eq!(err.sequence_number(), Some(1234));
    assert_eq!(err.command(), None);
    assert!(err.framing_survives());
    // What the session sends back: generic_nack, ESME_RINVCMDID, the same sequence number.
    let nack = Pdu::generic_nack(err.sequence_number().expect("known"), err.command_status());
    assert_eq!(
        nack.to_bytes().expect("encodes"),
        [0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0x04, 0xd2]
    );
}

#[test]
fn unknown_command_id_with_a_body() {
    let bytes = frame(0x0000_0100, 5, b"whatever\0\x01\x02");
    let err = Pdu::decode(&bytes).expect_err("unknown command");
    assert_eq!(
        err,
        DecodeError::UnknownCommand {
            command_id: 0x100,
            sequence_number: 5
        }
    );
    assert!(err.framing_survives());
}

#[test]
fn responses_the_specification_does_not_define_are_unknown_commands() {
    // outbind and alert_notification have no response; 0x0000000a is reserved.
    for command_id in [0x8000_000B, 0x8000_0102, 0x0000_000A, 0xFFFF_FFFF] {
        let err = Pdu::decode(&frame(command_id, 3, &[])).expect_err("undefined id");
        assert_eq!(
            err,
            DecodeError::UnknownCommand {
                command_id,
                sequence_number: 3
            }
        );
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDID);
    }
}

#[test]
fn trailing_bytes_after_a_header_only_pdu() {
    let bytes = frame(ENQUIRE_LINK, 8, &[0xaa, 0xbb, 0xcc]);
    let err = field_error(&bytes, CommandId::EnquireLink, 8);
    assert_eq!(
        field_parts(&err),
        ("body", 16, FieldErrorKind::TrailingBytes { count: 3 })
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn trailing_bytes_after_generic_nack() {
    let bytes = frame(0x8000_0000, 8, &[0]);
    let err = field_error(&bytes, CommandId::GenericNack, 8);
    assert_eq!(
        field_parts(&err),
        ("body", 16, FieldErrorKind::TrailingBytes { count: 1 })
    );
}

#[test]
fn trailing_bytes_after_a_pdu_without_optional_parameters() {
    // query_sm takes no TLVs: one octet after source_addr is one too many.
    let body = [c("abc"), vec![5, 0], c("SMSGATE"), vec![0x42]].concat();
    let bytes = frame(0x0000_0003, 30, &body);
    let err = field_error(&bytes, CommandId::QuerySm, 30);
    assert_eq!(
        field_parts(&err),
        (
            "body",
            bytes.len() - 1,
            FieldErrorKind::TrailingBytes { count: 1 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

// ---- mandatory fields ----

#[test]
fn body_ends_before_an_integer_field() {
    // bind_transmitter cut after system_type: interface_version is missing.
    let body = [c("smsgate"), c("pw"), c("")].concat();
    let bytes = frame(BIND_TRANSMITTER, 2, &body);
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        (
            "interface_version",
            bytes.len(),
            FieldErrorKind::Truncated { needed: 1 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn missing_nul_in_system_id() {
    let bytes = frame(BIND_TRANSMITTER, 2, b"smsgate");
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        ("system_id", 16, FieldErrorKind::MissingNul)
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSYSID);
    let message = err.to_string();
    assert!(
        message.contains("system_id") && message.contains("byte 16"),
        "the message names the field and the offset: {message}"
    );
}

#[test]
fn missing_nul_in_destination_addr() {
    let mut body = [c(""), vec![5, 0], c("SMSGATE"), vec![1, 1]].concat();
    let offset = 16 + body.len();
    body.extend_from_slice(b"8190123");
    let bytes = frame(SUBMIT_SM, 9, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 9);
    assert_eq!(
        field_parts(&err),
        ("destination_addr", offset, FieldErrorKind::MissingNul)
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVDSTADR);
}

#[test]
fn missing_nul_in_message_id_of_a_response() {
    let bytes = frame(SUBMIT_SM_RESP, 10, b"5f3a9c1e");
    let err = field_error(&bytes, CommandId::SubmitSmResp, 10);
    assert_eq!(
        field_parts(&err),
        ("message_id", 16, FieldErrorKind::MissingNul)
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVMSGID);
}

#[test]
fn system_id_longer_than_16() {
    let long = "a".repeat(16); // 17 octets with its NUL
    let bytes = frame(BIND_TRANSMITTER, 2, &bind_body(&long, "pw", "", ""));
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        (
            "system_id",
            16,
            FieldErrorKind::TooLong { len: 17, max: 16 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSYSID);
    // One octet less fits.
    let fits = frame(BIND_TRANSMITTER, 2, &bind_body(&long[1..], "pw", "", ""));
    assert!(Pdu::decode(&fits).is_ok());
}

#[test]
fn password_longer_than_9() {
    let bytes = frame(
        BIND_TRANSMITTER,
        2,
        &bind_body("smsgate", "123456789", "", ""),
    );
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        ("password", 24, FieldErrorKind::TooLong { len: 10, max: 9 })
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVPASWD);
    let fits = frame(
        BIND_TRANSMITTER,
        2,
        &bind_body("smsgate", "12345678", "", ""),
    );
    assert!(Pdu::decode(&fits).is_ok());
}

#[test]
fn system_type_longer_than_13() {
    let bytes = frame(
        BIND_TRANSMITTER,
        2,
        &bind_body("smsgate", "pw", "ABCDEFGHIJKLM", ""),
    );
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        (
            "system_type",
            27,
            FieldErrorKind::TooLong { len: 14, max: 13 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSYSTYP);
}

#[test]
fn address_range_longer_than_41() {
    let bytes = frame(
        BIND_TRANSMITTER,
        2,
        &bind_body("smsgate", "pw", "", &"9".repeat(41)),
    );
    let err = field_error(&bytes, CommandId::BindTransmitter, 2);
    assert_eq!(
        field_parts(&err),
        (
            "address_range",
            31,
            FieldErrorKind::TooLong { len: 42, max: 41 }
        )
    );
}

#[test]
fn service_type_longer_than_6() {
    let mut body = submit_head("CMTABC", "SMSGATE", "819012345678", "", "");
    body.extend_from_slice(&[0]);
    let bytes = frame(SUBMIT_SM, 4, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 4);
    assert_eq!(
        field_parts(&err),
        (
            "service_type",
            16,
            FieldErrorKind::TooLong { len: 7, max: 6 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSERTYP);
}

#[test]
fn source_addr_longer_than_21() {
    let mut body = submit_head("", &"1".repeat(21), "819012345678", "", "");
    body.push(0);
    let bytes = frame(SUBMIT_SM, 4, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 4);
    assert_eq!(
        field_parts(&err),
        (
            "source_addr",
            19,
            FieldErrorKind::TooLong { len: 22, max: 21 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSRCADR);
}

#[test]
fn destination_addr_longer_than_21() {
    let mut body = submit_head("", "SMSGATE", &"8".repeat(21), "", "");
    body.push(0);
    let bytes = frame(SUBMIT_SM, 4, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 4);
    assert_eq!(
        field_parts(&err),
        (
            "destination_addr",
            29,
            FieldErrorKind::TooLong { len: 22, max: 21 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVDSTADR);
    let mut fits = submit_head("", "SMSGATE", &"8".repeat(20), "", "");
    fits.push(0);
    assert!(Pdu::decode(&frame(SUBMIT_SM, 4, &fits)).is_ok());
}

#[test]
fn schedule_delivery_time_longer_than_17() {
    let mut body = submit_head("", "SMSGATE", "819012345678", "0000000010000000R", "");
    body.push(0);
    let bytes = frame(SUBMIT_SM, 4, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 4);
    assert_eq!(
        field_parts(&err),
        (
            "schedule_delivery_time",
            45,
            FieldErrorKind::TooLong { len: 18, max: 17 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSCHED);
}

#[test]
fn validity_period_longer_than_17() {
    let mut body = submit_head("", "SMSGATE", "819012345678", "", "0000000010000000R");
    body.push(0);
    let bytes = frame(SUBMIT_SM, 4, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 4);
    assert_eq!(
        field_parts(&err),
        (
            "validity_period",
            46,
            FieldErrorKind::TooLong { len: 18, max: 17 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVEXPIRY);
}

#[test]
fn message_id_longer_than_65() {
    let bytes = frame(SUBMIT_SM_RESP, 10, &c(&"f".repeat(65)));
    let err = field_error(&bytes, CommandId::SubmitSmResp, 10);
    assert_eq!(
        field_parts(&err),
        (
            "message_id",
            16,
            FieldErrorKind::TooLong { len: 66, max: 65 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVMSGID);
    assert!(Pdu::decode(&frame(SUBMIT_SM_RESP, 10, &c(&"f".repeat(64)))).is_ok());
}

#[test]
fn data_sm_source_addr_longer_than_65() {
    let body = [c(""), vec![5, 0], c(&"1".repeat(65)), vec![1, 1], c("8190")].concat();
    let bytes = frame(0x0000_0103, 12, &body);
    let err = field_error(&bytes, CommandId::DataSm, 12);
    assert_eq!(
        field_parts(&err),
        (
            "source_addr",
            19,
            FieldErrorKind::TooLong { len: 66, max: 65 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVSRCADR);
}

#[test]
fn dl_name_longer_than_21() {
    let body = [
        c(""),
        vec![5, 0],
        c("SMSGATE"),
        vec![1, 2],
        c(&"L".repeat(21)),
    ]
    .concat();
    let bytes = frame(0x0000_0021, 13, &body);
    let err = field_error(&bytes, CommandId::SubmitMulti, 13);
    assert_eq!(
        field_parts(&err),
        ("dl_name", 29, FieldErrorKind::TooLong { len: 22, max: 21 })
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVDLNAME);
}

// ---- sm_length and short_message ----

#[test]
fn sm_length_past_the_body() {
    let mut body = submit_body(b"hello", &[]);
    let at = body.len() - 6;
    body[at] = 9; // sm_length 9, but 5 octets follow
    let bytes = frame(SUBMIT_SM, 14, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 14);
    assert_eq!(
        field_parts(&err),
        (
            "short_message",
            bytes.len() - 5,
            FieldErrorKind::SmLengthMismatch {
                sm_length: 9,
                available: 5
            }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVMSGLEN);
}

#[test]
fn sm_length_shorter_than_the_text_in_replace_sm() {
    // replace_sm ends with short_message: octets left over are trailing bytes.
    let body = [
        c("5f3a9c1e"),
        vec![5, 0],
        c("SMSGATE"),
        c(""),
        c(""),
        vec![1, 0],
        vec![3],
        b"hello".to_vec(),
    ]
    .concat();
    let bytes = frame(0x0000_0007, 15, &body);
    let err = field_error(&bytes, CommandId::ReplaceSm, 15);
    assert_eq!(
        field_parts(&err),
        (
            "body",
            bytes.len() - 2,
            FieldErrorKind::TrailingBytes { count: 2 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn sm_length_shorter_than_the_text_in_submit_sm() {
    // The leftover text is read as the optional part and cannot be a TLV stream:
    // "lo" is two octets where a TLV header needs four.
    let mut body = submit_body(b"hello", &[]);
    let at = body.len() - 6;
    body[at] = 3;
    let bytes = frame(SUBMIT_SM, 16, &body);
    let err = field_error(&bytes, CommandId::SubmitSm, 16);
    assert_eq!(
        field_parts(&err),
        (
            "tlv",
            bytes.len() - 2,
            FieldErrorKind::TlvTruncated { available: 2 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVOPTPARSTREAM);
}

#[test]
fn sm_length_255() {
    // Section 5.2.21: sm_length 255 "not allowed"; encode refuses 255 octets, so a decoded
    // PDU with 255 could never be re-encoded.
    let text = vec![b'a'; 255];
    let bytes = frame(SUBMIT_SM, 17, &submit_body(&text, &[]));
    let err = Pdu::decode(&bytes).expect_err("sm_length 255 is not allowed");
    assert!(
        matches!(
            err,
            DecodeError::Field {
                field: "sm_length" | "short_message",
                kind: FieldErrorKind::TooLong { len: 255, max: 254 },
                ..
            }
        ),
        "got {err:?}"
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVMSGLEN);
}

#[test]
fn sm_length_254_is_the_largest_accepted() {
    let text = vec![b'a'; 254];
    let bytes = frame(SUBMIT_SM, 17, &submit_body(&text, &[]));
    let pdu = Pdu::decode(&bytes).expect("254 octets fit");
    assert_eq!(pdu.to_bytes().expect("re-encodes"), bytes);
}

// ---- optional parameters ----

#[test]
fn truncated_tlv() {
    let tlvs = [0x04, 0x27, 0x00]; // three octets of a message_state header
    let bytes = frame(SUBMIT_SM, 18, &submit_body(b"hi", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 18);
    assert_eq!(
        field_parts(&err),
        (
            "tlv",
            submit_tlv_offset(2),
            FieldErrorKind::TlvTruncated { available: 3 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVOPTPARSTREAM);
}

#[test]
fn truncated_tlv_after_a_valid_one() {
    let tlvs = [0x02, 0x04, 0x00, 0x02, 0x00, 0x07, 0x02]; // user_message_reference, then 1 octet
    let bytes = frame(SUBMIT_SM, 18, &submit_body(b"hi", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 18);
    assert_eq!(
        field_parts(&err),
        (
            "tlv",
            submit_tlv_offset(2) + 6,
            FieldErrorKind::TlvTruncated { available: 1 }
        )
    );
}

#[test]
fn tlv_length_past_the_body() {
    let tlvs = [0x04, 0x24, 0x00, 0x05, b'a', b'b']; // message_payload of 5, 2 present
    let bytes = frame(SUBMIT_SM, 19, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 19);
    assert_eq!(
        field_parts(&err),
        (
            "tlv",
            submit_tlv_offset(0),
            FieldErrorKind::TlvLengthPastBody {
                tag: 0x0424,
                length: 5,
                available: 2
            }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVOPTPARSTREAM);
}

#[test]
fn unknown_tlv_length_past_the_body() {
    let tlvs = [0x14, 0x01, 0xff, 0xff, 1, 2, 3];
    let bytes = frame(SUBMIT_SM, 19, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 19);
    assert_eq!(
        field_parts(&err).2,
        FieldErrorKind::TlvLengthPastBody {
            tag: 0x1401,
            length: 0xffff,
            available: 3
        }
    );
}

#[test]
fn known_tlv_with_a_wrong_length() {
    let tlvs = [0x04, 0x27, 0x00, 0x02, 0x00, 0x02]; // message_state of 2 octets
    let bytes = frame(0x0000_0005, 20, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::DeliverSm, 20);
    assert_eq!(
        field_parts(&err),
        (
            "message_state",
            submit_tlv_offset(0),
            FieldErrorKind::TlvBadLength {
                tag: 0x0427,
                length: 2,
                allowed: "exactly 1"
            }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVPARLEN);
}

#[test]
fn sar_msg_ref_num_of_one_octet() {
    let tlvs = [0x02, 0x0c, 0x00, 0x01, 0x2a];
    let bytes = frame(SUBMIT_SM, 21, &submit_body(b"hi", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 21);
    assert_eq!(
        field_parts(&err),
        (
            "sar_msg_ref_num",
            submit_tlv_offset(2),
            FieldErrorKind::TlvBadLength {
                tag: 0x020c,
                length: 1,
                allowed: "exactly 2"
            }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVPARLEN);
}

#[test]
fn network_error_code_of_two_octets() {
    let tlvs = [0x04, 0x23, 0x00, 0x02, 0x03, 0x00];
    let bytes = frame(0x0000_0005, 22, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::DeliverSm, 22);
    assert_eq!(
        field_parts(&err).2,
        FieldErrorKind::TlvBadLength {
            tag: 0x0423,
            length: 2,
            allowed: "exactly 3"
        }
    );
}

#[test]
fn receipted_message_id_longer_than_65() {
    let mut tlvs = vec![0x00, 0x1e, 0x00, 66];
    tlvs.extend_from_slice(&c(&"9".repeat(65)));
    let bytes = frame(0x0000_0005, 23, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::DeliverSm, 23);
    assert_eq!(
        field_parts(&err),
        (
            "receipted_message_id",
            submit_tlv_offset(0),
            FieldErrorKind::TlvBadLength {
                tag: 0x001e,
                length: 66,
                allowed: "1 to 65"
            }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVPARLEN);
}

#[test]
fn receipted_message_id_of_zero_octets() {
    let tlvs = [0x00, 0x1e, 0x00, 0x00];
    let bytes = frame(0x0000_0005, 24, &submit_body(b"", &tlvs));
    let err = field_error(&bytes, CommandId::DeliverSm, 24);
    assert_eq!(
        field_parts(&err).2,
        FieldErrorKind::TlvBadLength {
            tag: 0x001e,
            length: 0,
            allowed: "1 to 65"
        }
    );
}

#[test]
fn alert_on_message_delivery_with_a_value() {
    let tlvs = [0x13, 0x0c, 0x00, 0x01, 0x01];
    let bytes = frame(SUBMIT_SM, 25, &submit_body(b"hi", &tlvs));
    let err = field_error(&bytes, CommandId::SubmitSm, 25);
    assert_eq!(
        field_parts(&err).2,
        FieldErrorKind::TlvBadLength {
            tag: 0x130c,
            length: 1,
            allowed: "exactly 0"
        }
    );
}

#[test]
fn tlv_in_a_bind_response_body_that_is_truncated() {
    let body = [c("SMSC"), vec![0x02, 0x10, 0x00, 0x01]].concat();
    let bytes = frame(0x8000_0002, 26, &body);
    let err = field_error(&bytes, CommandId::BindTransmitterResp, 26);
    assert_eq!(
        field_parts(&err),
        (
            "tlv",
            21,
            FieldErrorKind::TlvLengthPastBody {
                tag: 0x0210,
                length: 1,
                available: 0
            }
        )
    );
}

// ---- submit_multi ----

#[test]
fn submit_multi_with_number_of_dests_zero() {
    let body = [
        c(""),
        vec![5, 0],
        c("SMSGATE"),
        vec![0], // number_of_dests
        vec![0, 0, 0],
        c(""),
        c(""),
        vec![0, 0, 0, 0],
        vec![2],
        b"hi".to_vec(),
    ]
    .concat();
    let bytes = frame(0x0000_0021, 27, &body);
    let err = field_error(&bytes, CommandId::SubmitMulti, 27);
    let (field, offset, kind) = field_parts(&err);
    assert_eq!((field, offset), ("number_of_dests", 27));
    assert!(matches!(kind, FieldErrorKind::Invalid(_)), "got {kind:?}");
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVNUMDESTS);
}

#[test]
fn submit_multi_with_number_of_dests_255() {
    let mut body = [c(""), vec![5, 0], c("SMSGATE"), vec![255]].concat();
    for _ in 0..255 {
        body.extend_from_slice(&[1, 1, 1]);
        body.extend_from_slice(&c("8190"));
    }
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let bytes = frame(0x0000_0021, 28, &body);
    let err = field_error(&bytes, CommandId::SubmitMulti, 28);
    assert_eq!(field_parts(&err).0, "number_of_dests");
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVNUMDESTS);
}

#[test]
fn submit_multi_with_a_bad_dest_flag() {
    for flag in [0u8, 3, 0xff] {
        let body = [
            c(""),
            vec![5, 0],
            c("SMSGATE"),
            vec![2],
            vec![1, 1, 1],
            c("819011112222"),
            vec![flag],
            c("staff"),
        ]
        .concat();
        let bytes = frame(0x0000_0021, 29, &body);
        let err = field_error(&bytes, CommandId::SubmitMulti, 29);
        let (field, offset, kind) = field_parts(&err);
        // header 16, service_type 1, ton/npi 2, source_addr 8, number_of_dests 1,
        // first dest 16: the second dest_flag is at 44.
        assert_eq!((field, offset), ("dest_flag", 44), "flag {flag}");
        assert!(matches!(kind, FieldErrorKind::Invalid(_)), "got {kind:?}");
        assert_eq!(err.command_status(), CommandStatus::ESME_RINVDESTFLAG);
    }
}

#[test]
fn submit_multi_with_fewer_dests_than_announced() {
    let body = [
        c(""),
        vec![5, 0],
        c("SMSGATE"),
        vec![2],
        vec![1, 1, 1],
        c("819011112222"),
    ]
    .concat();
    let bytes = frame(0x0000_0021, 30, &body);
    let err = field_error(&bytes, CommandId::SubmitMulti, 30);
    assert_eq!(
        field_parts(&err),
        (
            "dest_flag",
            bytes.len(),
            FieldErrorKind::Truncated { needed: 1 }
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
}

#[test]
fn submit_multi_resp_with_a_truncated_error_status_code() {
    let body = [c("m-1"), vec![1, 1, 1], c("8190"), vec![0, 0]].concat();
    let bytes = frame(0x8000_0021, 31, &body);
    let err = field_error(&bytes, CommandId::SubmitMultiResp, 31);
    assert_eq!(
        field_parts(&err),
        (
            "error_status_code",
            bytes.len() - 2,
            FieldErrorKind::Truncated { needed: 2 }
        )
    );
}

/// no_unsuccess 255: one more than a submit_multi can address (5.2.24), so decoding refuses
/// it -- at the no_unsuccess octet, with the status a session answers it with -- and
/// encoding refuses the same list, so the two sides agree.
#[test]
fn submit_multi_resp_with_255_unsuccessful_destinations_is_refused_both_ways() {
    let mut body = [c("m-1"), vec![255]].concat();
    for _ in 0..255 {
        body.extend_from_slice(&[1, 1]);
        body.extend_from_slice(&c("8190"));
        body.extend_from_slice(&0x0bu32.to_be_bytes());
    }
    let bytes = frame(0x8000_0021, 32, &body);
    let err = field_error(&bytes, CommandId::SubmitMultiResp, 32);
    assert_eq!(
        field_parts(&err),
        (
            "no_unsuccess",
            20,
            FieldErrorKind::Invalid("no_unsuccess must be 0 to 254")
        )
    );
    assert_eq!(err.command_status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(
        err.response_header(),
        Some((CommandId::SubmitMultiResp, CommandStatus::ESME_ROK, 32))
    );

    let resp = Pdu::new(
        32,
        Body::SubmitMultiResp(Some(SubmitMultiResp {
            message_id: "m-1".into(),
            unsuccess_sme: vec![
                UnsuccessSme {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "8190".into(),
                    error_status_code: CommandStatus(0x0b),
                };
                255
            ],
        })),
    );
    assert_eq!(
        refuse(&resp),
        EncodeError::Invalid {
            field: "no_unsuccess",
            reason: "at most 254 unsuccessful destinations",
        }
    );
}

// ---- encode-side refusals ----

fn submit() -> SubmitSm<'static> {
    SubmitSm {
        source_addr_ton: 5,
        source_addr: "SMSGATE".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "819012345678".into(),
        short_message: "hi".into(),
        ..Default::default()
    }
}

/// Encodes into a buffer that must stay empty because a check fails first.
fn refuse(pdu: &Pdu<'_>) -> EncodeError {
    let mut buf = Vec::new();
    let err = pdu.encode(&mut buf).expect_err("must be refused");
    assert!(buf.is_empty(), "nothing is written when a check fails");
    assert_eq!(pdu.validate(), Err(err.clone()));
    err
}

#[test]
fn encode_refuses_system_id_longer_than_15_characters() {
    let bind = Bind {
        system_id: Octets::from("a".repeat(16)),
        interface_version: 0x34,
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::BindTransceiver(bind)));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "system_id",
            len: 17,
            max: 16
        }
    );
}

#[test]
fn encode_refuses_password_longer_than_8_characters() {
    let bind = Bind {
        system_id: "otp".into(),
        password: "123456789".into(),
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::BindTransmitter(bind)));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "password",
            len: 10,
            max: 9
        }
    );
}

#[test]
fn encode_refuses_destination_addr_longer_than_20_characters() {
    let sm = SubmitSm {
        destination_addr: Octets::from("8".repeat(21)),
        ..submit()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitSm(sm)));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "destination_addr",
            len: 22,
            max: 21
        }
    );
}

#[test]
fn encode_refuses_message_id_longer_than_64_characters() {
    let resp = SubmitSmResp {
        message_id: Octets::from("f".repeat(65)),
        tlvs: Tlvs::new(),
    };
    let err = refuse(&Pdu::new(1, Body::SubmitSmResp(Some(resp))));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "message_id",
            len: 66,
            max: 65
        }
    );
}

#[test]
fn encode_refuses_data_sm_destination_addr_longer_than_64_characters() {
    let dsm = DataSm {
        destination_addr: Octets::from("8".repeat(65)),
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::DataSm(dsm)));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "destination_addr",
            len: 66,
            max: 65
        }
    );
}

#[test]
fn encode_refuses_short_message_over_254() {
    let sm = SubmitSm {
        short_message: Octets::from(vec![b'a'; 255]),
        ..submit()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitSm(sm)));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "short_message",
            len: 255,
            max: 254
        }
    );
    let fits = SubmitSm {
        short_message: Octets::from(vec![b'a'; 254]),
        ..submit()
    };
    assert!(Pdu::new(1, Body::SubmitSm(fits)).to_bytes().is_ok());
}

#[test]
fn encode_refuses_replace_sm_short_message_over_254() {
    let rsm = ReplaceSm {
        message_id: "x".into(),
        short_message: Octets::from(vec![0u8; 300]),
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::ReplaceSm(rsm)));
    assert!(matches!(
        err,
        EncodeError::TooLong {
            field: "short_message",
            len: 300,
            max: 254
        }
    ));
}

#[test]
fn encode_refuses_an_embedded_nul() {
    let sm = SubmitSm {
        source_addr: Octets::from(&b"SMS\0GATE"[..]),
        ..submit()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitSm(sm)));
    assert_eq!(
        err,
        EncodeError::EmbeddedNul {
            field: "source_addr"
        }
    );
}

#[test]
fn encode_refuses_an_embedded_nul_in_a_dl_name() {
    let multi = SubmitMulti {
        dest_address: vec![DestAddress::DistributionList {
            dl_name: Octets::from(&b"st\0ff"[..]),
        }],
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitMulti(multi)));
    assert_eq!(err, EncodeError::EmbeddedNul { field: "dl_name" });
}

#[test]
fn encode_refuses_sequence_number_zero_in_a_request() {
    let err = refuse(&Pdu::new(0, Body::SubmitSm(submit())));
    assert_eq!(err, EncodeError::SequenceNumber(0));
    // A response may carry 0: it answers whatever the peer sent (a generic_nack to garbage).
    assert!(Pdu::generic_nack(0, CommandStatus::ESME_RINVCMDLEN)
        .to_bytes()
        .is_ok());
}

#[test]
fn encode_refuses_sequence_number_above_0x7fffffff_in_a_request() {
    let err = refuse(&Pdu::new(0x8000_0000, Body::EnquireLink));
    assert_eq!(err, EncodeError::SequenceNumber(0x8000_0000));
    let err = refuse(&Pdu::new(u32::MAX, Body::Unbind));
    assert_eq!(err, EncodeError::SequenceNumber(u32::MAX));
    assert!(Pdu::new(0x7FFF_FFFF, Body::EnquireLink).to_bytes().is_ok());
    assert!(Pdu::new(1, Body::EnquireLink).to_bytes().is_ok());
}

#[test]
fn encode_refuses_submit_multi_without_destinations() {
    let multi = SubmitMulti {
        source_addr: "SMSGATE".into(),
        dest_address: vec![],
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitMulti(multi)));
    assert!(
        matches!(
            err,
            EncodeError::Invalid {
                field: "number_of_dests",
                ..
            }
        ),
        "got {err:?}"
    );
}

#[test]
fn encode_refuses_submit_multi_with_255_destinations() {
    let dest = DestAddress::SmeAddress {
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "8190".into(),
    };
    let multi = SubmitMulti {
        dest_address: vec![dest.clone(); 255],
        ..Default::default()
    };
    let err = refuse(&Pdu::new(1, Body::SubmitMulti(multi)));
    assert!(matches!(
        err,
        EncodeError::Invalid {
            field: "number_of_dests",
            ..
        }
    ));
    let multi = SubmitMulti {
        dest_address: vec![dest; 254],
        ..Default::default()
    };
    let bytes = Pdu::new(1, Body::SubmitMulti(multi))
        .to_bytes()
        .expect("254 destinations fit");
    assert!(Pdu::decode(&bytes).is_ok());
}

#[test]
fn encode_refuses_an_unsuccess_sme_address_longer_than_20_characters() {
    let resp = SubmitMultiResp {
        message_id: "m".into(),
        unsuccess_sme: vec![UnsuccessSme {
            destination_addr: Octets::from("8".repeat(21)),
            ..Default::default()
        }],
    };
    let err = refuse(&Pdu::new(1, Body::SubmitMultiResp(Some(resp))));
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "destination_addr",
            len: 22,
            max: 21
        }
    );
}

#[test]
fn tlv_push_refuses_a_value_its_tag_does_not_allow() {
    let mut tlvs = Tlvs::new();
    let err = tlvs
        .push(Tlv::ReceiptedMessageId(Octets::from("9".repeat(65))))
        .expect_err("66 octets with the NUL");
    assert!(matches!(
        err,
        EncodeError::Invalid {
            field: "receipted_message_id",
            ..
        }
    ));
    let err = tlvs
        .push(Tlv::CallbackNum(Octets::from("123")))
        .expect_err("callback_num needs 4 to 19 octets");
    assert!(matches!(
        err,
        EncodeError::Invalid {
            field: "callback_num",
            ..
        }
    ));
    assert!(tlvs.is_empty(), "a refused TLV leaves nothing behind");
}

#[test]
fn tlv_push_refuses_a_known_tag_as_other() {
    let mut tlvs = Tlvs::new();
    let err = tlvs
        .push(Tlv::Other {
            tag: 0x0427,
            value: Octets::from(&[2]),
        })
        .expect_err("message_state must use its typed variant");
    assert!(matches!(err, EncodeError::Invalid { field: "tlv", .. }));
    assert!(tlvs.is_empty());
}

#[test]
fn tlv_push_refuses_a_value_longer_than_65535() {
    let mut tlvs = Tlvs::new();
    let err = tlvs
        .push(Tlv::Other {
            tag: 0x1401,
            value: Octets::from(vec![0u8; 65536]),
        })
        .expect_err("the length is 16 bits");
    assert_eq!(
        err,
        EncodeError::TooLong {
            field: "tlv",
            len: 65536,
            max: 65535
        }
    );
    let err = tlvs
        .push(Tlv::MessagePayload(Octets::from(vec![0u8; 65536])))
        .expect_err("the length is 16 bits");
    assert!(matches!(
        err,
        EncodeError::TooLong {
            field: "message_payload",
            ..
        }
    ));
    assert!(tlvs.is_empty());
}

#[test]
fn tlv_push_refuses_an_embedded_nul_in_a_c_octet_string_value() {
    // receipted_message_id is a C-Octet String (5.3.2.12): "a\0b" would be written as
    // 00 1e 00 04 61 00 62 00, which a peer reads as the id "a". Mandatory C-Octet String
    // fields refuse this with EncodeError::EmbeddedNul; the TLV should too.
    let mut tlvs = Tlvs::new();
    let err = tlvs
        .push(Tlv::ReceiptedMessageId(Octets::from(&b"a\0b"[..])))
        .expect_err("an embedded NUL");
    assert_eq!(
        err,
        EncodeError::EmbeddedNul {
            field: "receipted_message_id"
        }
    );
    assert!(tlvs.is_empty());
}
