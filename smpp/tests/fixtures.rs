//! The annotated hex fixtures of `fixtures/pdus/`: each one decodes to the fields written
//! out below, re-encodes to the very same bytes, and the fields written out below encode to
//! those bytes too. Every command id of the specification has at least one fixture.
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use smpp::fixtures::parse_annotated_hex;
use smpp::pdu::{
    AlertNotification, Bind, BindResp, CancelSm, DataSm, DataSmResp, DeliverSm, DeliverSmResp,
    DestAddress, Outbind, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm,
    SubmitSmResp, UnsuccessSme,
};
use smpp::tlv::NetworkErrorCode;
use smpp::{Body, CommandId, CommandStatus, Octets, Pdu, Tag, Tlv, Tlvs};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pdus")
}

fn load(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_annotated_hex(&text).unwrap_or_else(|e| panic!("{name}.hex: {e}"))
}

/// Decodes the fixture, checks it against `expected` both ways and returns the decoded PDU.
fn check(name: &str, expected: Pdu<'static>) -> Pdu<'static> {
    let bytes = load(name);
    let pdu = Pdu::decode(&bytes).unwrap_or_else(|e| panic!("{name}.hex does not decode: {e}"));
    assert_eq!(pdu, expected, "{name}.hex: decoded fields");
    assert_eq!(pdu.encoded_len(), bytes.len(), "{name}.hex: encoded_len");
    assert_eq!(
        pdu.to_bytes().expect("the decoded PDU encodes"),
        bytes,
        "{name}.hex: decode then encode"
    );
    assert_eq!(
        expected.to_bytes().expect("the expected PDU encodes"),
        bytes,
        "{name}.hex: the expected fields encode to the fixture"
    );
    let owned = pdu.into_owned();
    assert_eq!(owned.to_bytes().expect("owned encodes"), bytes);
    owned
}

fn tlvs(list: Vec<Tlv<'static>>) -> Tlvs<'static> {
    list.into_iter()
        .collect::<Result<Tlvs<'static>, _>>()
        .expect("valid TLVs")
}

fn ok(sequence_number: u32, body: Body<'static>) -> Pdu<'static> {
    Pdu::with_status(sequence_number, CommandStatus::ESME_ROK, body)
}

/// The submit_sm fields the SMSGATE → 819012345678 fixtures share.
fn submit_to_handset() -> SubmitSm<'static> {
    SubmitSm {
        service_type: "".into(),
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: "SMSGATE".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "819012345678".into(),
        esm_class: 0,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: "".into(),
        validity_period: "".into(),
        registered_delivery: 0,
        replace_if_present_flag: 0,
        data_coding: 0,
        sm_default_msg_id: 0,
        short_message: "".into(),
        tlvs: Tlvs::new(),
    }
}

/// The deliver_sm fields the 819012345678 → SMSGATE fixtures share.
fn deliver_from_handset() -> DeliverSm<'static> {
    DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "819012345678".into(),
        dest_addr_ton: 5,
        dest_addr_npi: 0,
        destination_addr: "SMSGATE".into(),
        ..DeliverSm::default()
    }
}

macro_rules! fixture_list {
    ($($name:ident),* $(,)?) => {
        /// Every fixture with its test; a file in `fixtures/pdus` missing here fails
        /// [`every_fixture_file_has_a_test`].
        const FIXTURES: &[(&str, fn())] = &[$((stringify!($name), $name as fn())),*];
    };
}

fixture_list![
    bind_transmitter,
    bind_transmitter_resp,
    bind_transmitter_resp_invalid_password,
    bind_receiver,
    bind_receiver_resp,
    bind_transceiver,
    bind_transceiver_resp,
    outbind,
    unbind,
    unbind_resp,
    generic_nack,
    submit_sm,
    submit_sm_resp,
    submit_sm_resp_throttled,
    submit_sm_ucs2_japanese,
    submit_sm_udh_concat,
    submit_sm_sar,
    submit_sm_vendor_tlv,
    submit_multi,
    submit_multi_resp,
    deliver_sm_receipt,
    deliver_sm_message_payload,
    deliver_sm_resp,
    data_sm,
    data_sm_resp,
    data_sm_resp_delivery_failure,
    query_sm,
    query_sm_resp,
    cancel_sm,
    cancel_sm_resp,
    replace_sm,
    replace_sm_resp,
    enquire_link,
    enquire_link_resp,
    alert_notification,
];

// ---- the bind family (4.1) ----

#[test]
fn bind_transmitter() {
    let pdu = check(
        "bind_transmitter",
        ok(
            1,
            Body::BindTransmitter(Bind {
                system_id: "smsgate".into(),
                password: "secret08".into(),
                system_type: "OTP".into(),
                interface_version: 0x34,
                addr_ton: 0,
                addr_npi: 0,
                address_range: "".into(),
            }),
        ),
    );
    let Body::BindTransmitter(bind) = &pdu.body else {
        panic!("not a bind_transmitter")
    };
    // 8 characters and the NUL: the most a password may take.
    assert_eq!(bind.password.len() + 1, 9);
}

#[test]
fn bind_transmitter_resp() {
    check(
        "bind_transmitter_resp",
        ok(
            1,
            Body::BindTransmitterResp(Some(BindResp {
                system_id: "SMSC".into(),
                tlvs: Tlvs::new(),
            })),
        ),
    );
}

#[test]
fn bind_transmitter_resp_invalid_password() {
    let pdu = check(
        "bind_transmitter_resp_invalid_password",
        Pdu::with_status(
            3,
            CommandStatus::ESME_RINVPASWD,
            Body::BindTransmitterResp(None),
        ),
    );
    assert_eq!(pdu.encoded_len(), 16);
}

#[test]
fn bind_receiver() {
    check(
        "bind_receiver",
        ok(
            2,
            Body::BindReceiver(Bind {
                system_id: "smsgate".into(),
                password: "pw".into(),
                system_type: "".into(),
                interface_version: 0x34,
                addr_ton: 1,
                addr_npi: 1,
                address_range: "^81".into(),
            }),
        ),
    );
}

#[test]
fn bind_receiver_resp() {
    let pdu = check(
        "bind_receiver_resp",
        ok(
            2,
            Body::BindReceiverResp(Some(BindResp {
                system_id: "SMSC".into(),
                tlvs: tlvs(vec![Tlv::ScInterfaceVersion(0x34)]),
            })),
        ),
    );
    let Body::BindReceiverResp(Some(resp)) = &pdu.body else {
        panic!("not a bind_receiver_resp with a body")
    };
    assert_eq!(resp.tlvs.sc_interface_version(), Some(0x34));
    assert_eq!(resp.tlvs.len(), 1);
}

#[test]
fn bind_transceiver() {
    check(
        "bind_transceiver",
        ok(
            7,
            Body::BindTransceiver(Bind {
                system_id: "otp".into(),
                password: "pw".into(),
                system_type: "".into(),
                interface_version: 0x34,
                addr_ton: 1,
                addr_npi: 1,
                address_range: "".into(),
            }),
        ),
    );
}

#[test]
fn bind_transceiver_resp() {
    check(
        "bind_transceiver_resp",
        ok(
            7,
            Body::BindTransceiverResp(Some(BindResp {
                system_id: "docomo-smsc".into(),
                tlvs: Tlvs::new(),
            })),
        ),
    );
}

#[test]
fn outbind() {
    check(
        "outbind",
        ok(
            1,
            Body::Outbind(Outbind {
                system_id: "SMSC".into(),
                password: "pw".into(),
            }),
        ),
    );
}

// ---- session PDUs (4.2, 4.3, 4.11) ----

#[test]
fn unbind() {
    check("unbind", ok(42, Body::Unbind));
}

#[test]
fn unbind_resp() {
    check("unbind_resp", ok(42, Body::UnbindResp));
}

#[test]
fn generic_nack() {
    let pdu = check(
        "generic_nack",
        Pdu::generic_nack(9, CommandStatus::ESME_RINVCMDID),
    );
    assert_eq!(pdu.command_status, CommandStatus::ESME_RINVCMDID);
    assert!(pdu.command_id().is_response());
}

#[test]
fn enquire_link() {
    check("enquire_link", ok(8, Body::EnquireLink));
}

#[test]
fn enquire_link_resp() {
    check("enquire_link_resp", ok(8, Body::EnquireLinkResp));
}

// ---- submit_sm (4.4) ----

#[test]
fn submit_sm() {
    check(
        "submit_sm",
        ok(
            100,
            Body::SubmitSm(SubmitSm {
                validity_period: "000000001000000R".into(),
                registered_delivery: 1,
                short_message: "Your code is 123456".into(),
                ..submit_to_handset()
            }),
        ),
    );
}

#[test]
fn submit_sm_resp() {
    check(
        "submit_sm_resp",
        ok(
            100,
            Body::SubmitSmResp(Some(SubmitSmResp {
                message_id: "5f3a9c1e".into(),
                tlvs: Tlvs::new(),
            })),
        ),
    );
}

#[test]
fn submit_sm_resp_throttled() {
    let pdu = check(
        "submit_sm_resp_throttled",
        Pdu::with_status(
            101,
            CommandStatus::ESME_RTHROTTLED,
            Body::SubmitSmResp(None),
        ),
    );
    assert!(pdu.command_status.is_transient());
}

#[test]
fn submit_sm_ucs2_japanese() {
    let text: Vec<u8> = "認証コードは123456です"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_eq!(text.len(), 28);
    let pdu = check(
        "submit_sm_ucs2_japanese",
        ok(
            102,
            Body::SubmitSm(SubmitSm {
                registered_delivery: 1,
                data_coding: 0x08,
                short_message: Octets::from(text),
                ..submit_to_handset()
            }),
        ),
    );
    let Body::SubmitSm(sm) = &pdu.body else {
        panic!("not a submit_sm")
    };
    let units: Vec<u16> = sm
        .short_message
        .as_bytes()
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(
        String::from_utf16(&units).expect("UTF-16"),
        "認証コードは123456です"
    );
}

#[test]
fn submit_sm_udh_concat() {
    let mut short_message = vec![0x05, 0x00, 0x03, 0x2a, 0x02, 0x01];
    short_message.extend_from_slice(b"Hello, part one");
    let pdu = check(
        "submit_sm_udh_concat",
        ok(
            103,
            Body::SubmitSm(SubmitSm {
                esm_class: 0x40,
                short_message: Octets::from(short_message),
                ..submit_to_handset()
            }),
        ),
    );
    let Body::SubmitSm(sm) = &pdu.body else {
        panic!("not a submit_sm")
    };
    assert_ne!(sm.esm_class & smpp::values::esm_class::UDHI, 0);
    let udhl = sm.short_message.as_bytes()[0] as usize;
    assert_eq!(&sm.short_message.as_bytes()[1 + udhl..], b"Hello, part one");
}

#[test]
fn submit_sm_sar() {
    let pdu = check(
        "submit_sm_sar",
        ok(
            104,
            Body::SubmitSm(SubmitSm {
                short_message: "Hello, part two".into(),
                tlvs: tlvs(vec![
                    Tlv::SarMsgRefNum(42),
                    Tlv::SarTotalSegments(2),
                    Tlv::SarSegmentSeqnum(2),
                ]),
                ..submit_to_handset()
            }),
        ),
    );
    let Body::SubmitSm(sm) = &pdu.body else {
        panic!("not a submit_sm")
    };
    assert_eq!(sm.tlvs.sar(), Some((42, 2, 2)));
    assert_eq!(sm.tlvs.get(Tag::SarMsgRefNum), Some(Tlv::SarMsgRefNum(42)));
}

#[test]
fn submit_sm_vendor_tlv() {
    let pdu = check(
        "submit_sm_vendor_tlv",
        ok(
            105,
            Body::SubmitSm(SubmitSm {
                short_message: "hi".into(),
                tlvs: tlvs(vec![
                    Tlv::UserMessageReference(7),
                    Tlv::Other {
                        tag: 0x1401,
                        value: Octets::from(&[0xde, 0xad, 0xbe, 0xef]),
                    },
                    Tlv::PrivacyIndicator(0),
                ]),
                ..submit_to_handset()
            }),
        ),
    );
    let Body::SubmitSm(sm) = &pdu.body else {
        panic!("not a submit_sm")
    };
    let tags: Vec<Tag> = sm.tlvs.iter().map(|t| t.tag()).collect();
    assert_eq!(
        tags,
        [
            Tag::UserMessageReference,
            Tag(0x1401),
            Tag::PrivacyIndicator
        ]
    );
    assert_eq!(Tag(0x1401).name(), None);
    assert_eq!(sm.tlvs.user_message_reference(), Some(7));
}

// ---- submit_multi (4.5) ----

#[test]
fn submit_multi() {
    check(
        "submit_multi",
        ok(
            106,
            Body::SubmitMulti(SubmitMulti {
                service_type: "".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "SMSGATE".into(),
                dest_address: vec![
                    DestAddress::SmeAddress {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "819011112222".into(),
                    },
                    DestAddress::SmeAddress {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "819033334444".into(),
                    },
                    DestAddress::DistributionList {
                        dl_name: "staff".into(),
                    },
                ],
                esm_class: 0,
                protocol_id: 0,
                priority_flag: 0,
                schedule_delivery_time: "".into(),
                validity_period: "".into(),
                registered_delivery: 1,
                replace_if_present_flag: 0,
                data_coding: 0,
                sm_default_msg_id: 0,
                short_message: "See you at 9".into(),
                tlvs: Tlvs::new(),
            }),
        ),
    );
}

#[test]
fn submit_multi_resp() {
    let pdu = check(
        "submit_multi_resp",
        ok(
            106,
            Body::SubmitMultiResp(Some(SubmitMultiResp {
                message_id: "m-77".into(),
                unsuccess_sme: vec![
                    UnsuccessSme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "819033334444".into(),
                        error_status_code: CommandStatus::ESME_RINVDSTADR,
                    },
                    UnsuccessSme {
                        dest_addr_ton: 1,
                        dest_addr_npi: 1,
                        destination_addr: "819011112222".into(),
                        error_status_code: CommandStatus(0x0401),
                    },
                ],
            })),
        ),
    );
    let Body::SubmitMultiResp(Some(resp)) = &pdu.body else {
        panic!("not a submit_multi_resp with a body")
    };
    assert!(resp.unsuccess_sme[1].error_status_code.is_vendor_specific());
}

// ---- deliver_sm (4.6) ----

#[test]
fn deliver_sm_receipt() {
    let text = "id:5f3a9c1e sub:001 dlvrd:001 submit date:2611251200 \
                done date:2611251201 stat:DELIVRD err:000 text:Your code is 123456";
    let pdu = check(
        "deliver_sm_receipt",
        ok(
            7001,
            Body::DeliverSm(DeliverSm {
                esm_class: 0x04,
                short_message: text.into(),
                tlvs: tlvs(vec![
                    Tlv::ReceiptedMessageId("5f3a9c1e".into()),
                    Tlv::MessageState(2),
                    Tlv::NetworkErrorCode(NetworkErrorCode {
                        network_type: 3,
                        error_code: 0,
                    }),
                ]),
                ..deliver_from_handset()
            }),
        ),
    );
    let Body::DeliverSm(dsm) = &pdu.body else {
        panic!("not a deliver_sm")
    };
    assert!(dsm.is_receipt());
    assert_eq!(dsm.short_message.len(), 119);
    assert_eq!(dsm.tlvs.receipted_message_id(), Some(&b"5f3a9c1e"[..]));
    assert_eq!(dsm.tlvs.message_state(), Some(2));
    assert_eq!(
        dsm.tlvs.network_error_code(),
        Some(NetworkErrorCode {
            network_type: 3,
            error_code: 0
        })
    );
}

#[test]
fn deliver_sm_message_payload() {
    let text: Vec<u8> = "確認コードを受け取りました"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let pdu = check(
        "deliver_sm_message_payload",
        ok(
            7002,
            Body::DeliverSm(DeliverSm {
                data_coding: 0x08,
                tlvs: tlvs(vec![Tlv::MessagePayload(Octets::from(text.clone()))]),
                ..deliver_from_handset()
            }),
        ),
    );
    let Body::DeliverSm(dsm) = &pdu.body else {
        panic!("not a deliver_sm")
    };
    assert!(!dsm.is_receipt());
    assert!(dsm.short_message.is_empty());
    assert_eq!(dsm.tlvs.message_payload(), Some(&text[..]));
    assert_eq!(dsm.message().payload(), &text[..]);
}

#[test]
fn deliver_sm_resp() {
    check(
        "deliver_sm_resp",
        ok(
            7001,
            Body::DeliverSmResp(Some(DeliverSmResp {
                message_id: "".into(),
                tlvs: Tlvs::new(),
            })),
        ),
    );
}

// ---- data_sm (4.7) ----

#[test]
fn data_sm() {
    let pdu = check(
        "data_sm",
        ok(
            200,
            Body::DataSm(DataSm {
                service_type: "".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "SMSGATE".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "819012345678".into(),
                esm_class: 0,
                registered_delivery: 1,
                data_coding: 0,
                tlvs: tlvs(vec![
                    Tlv::MessagePayload("Your code is 654321".into()),
                    Tlv::QosTimeToLive(600),
                ]),
            }),
        ),
    );
    let Body::DataSm(dsm) = &pdu.body else {
        panic!("not a data_sm")
    };
    assert_eq!(
        dsm.tlvs.message_payload(),
        Some(&b"Your code is 654321"[..])
    );
    assert_eq!(
        dsm.tlvs.get(Tag::QosTimeToLive),
        Some(Tlv::QosTimeToLive(600))
    );
}

#[test]
fn data_sm_resp() {
    check(
        "data_sm_resp",
        ok(
            200,
            Body::DataSmResp(Some(DataSmResp {
                message_id: "d-9000".into(),
                tlvs: Tlvs::new(),
            })),
        ),
    );
}

#[test]
fn data_sm_resp_delivery_failure() {
    let pdu = check(
        "data_sm_resp_delivery_failure",
        Pdu::with_status(
            201,
            CommandStatus::ESME_RDELIVERYFAILURE,
            Body::DataSmResp(Some(DataSmResp {
                message_id: "".into(),
                tlvs: tlvs(vec![
                    Tlv::DeliveryFailureReason(1),
                    Tlv::AdditionalStatusInfoText("absent subscriber".into()),
                ]),
            })),
        ),
    );
    let Body::DataSmResp(Some(resp)) = &pdu.body else {
        panic!("not a data_sm_resp with a body")
    };
    assert_eq!(
        resp.tlvs.get(Tag::AdditionalStatusInfoText),
        Some(Tlv::AdditionalStatusInfoText("absent subscriber".into()))
    );
}

// ---- query_sm, cancel_sm, replace_sm (4.8–4.10) ----

#[test]
fn query_sm() {
    check(
        "query_sm",
        ok(
            300,
            Body::QuerySm(QuerySm {
                message_id: "5f3a9c1e".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "SMSGATE".into(),
            }),
        ),
    );
}

#[test]
fn query_sm_resp() {
    check(
        "query_sm_resp",
        ok(
            300,
            Body::QuerySmResp(Some(QuerySmResp {
                message_id: "5f3a9c1e".into(),
                final_date: "261125120130036+".into(),
                message_state: 2,
                error_code: 0,
            })),
        ),
    );
}

#[test]
fn cancel_sm() {
    check(
        "cancel_sm",
        ok(
            400,
            Body::CancelSm(CancelSm {
                service_type: "".into(),
                message_id: "5f3a9c1e".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "SMSGATE".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "819012345678".into(),
            }),
        ),
    );
}

#[test]
fn cancel_sm_resp() {
    check("cancel_sm_resp", ok(400, Body::CancelSmResp));
}

#[test]
fn replace_sm() {
    check(
        "replace_sm",
        ok(
            500,
            Body::ReplaceSm(ReplaceSm {
                message_id: "5f3a9c1e".into(),
                source_addr_ton: 5,
                source_addr_npi: 0,
                source_addr: "SMSGATE".into(),
                schedule_delivery_time: "".into(),
                validity_period: "000000001000000R".into(),
                registered_delivery: 1,
                sm_default_msg_id: 0,
                short_message: "Your code is 246810".into(),
            }),
        ),
    );
}

#[test]
fn replace_sm_resp() {
    check("replace_sm_resp", ok(500, Body::ReplaceSmResp));
}

// ---- alert_notification (4.12) ----

#[test]
fn alert_notification() {
    check(
        "alert_notification",
        ok(
            600,
            Body::AlertNotification(AlertNotification {
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "819012345678".into(),
                esme_addr_ton: 5,
                esme_addr_npi: 0,
                esme_addr: "SMSGATE".into(),
                tlvs: tlvs(vec![Tlv::MsAvailabilityStatus(0)]),
            }),
        ),
    );
}

// ---- the collection as a whole ----

fn fixture_files() -> BTreeSet<String> {
    std::fs::read_dir(fixture_dir())
        .expect("fixtures/pdus exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "hex"))
        .map(|path| {
            path.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn every_fixture_file_has_a_test() {
    let listed: BTreeSet<String> = FIXTURES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed.len(), FIXTURES.len(), "a fixture is listed twice");
    assert_eq!(
        fixture_files(),
        listed,
        "fixtures/pdus and the FIXTURES list differ"
    );
}

#[test]
fn every_command_id_has_a_fixture() {
    let covered: BTreeSet<CommandId> = fixture_files()
        .iter()
        .map(|name| {
            let bytes = load(name);
            Pdu::decode(&bytes)
                .unwrap_or_else(|e| panic!("{name}.hex: {e}"))
                .command_id()
        })
        .collect();
    let missing: Vec<&str> = CommandId::ALL
        .iter()
        .filter(|id| !covered.contains(id))
        .map(|id| id.name())
        .collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
    assert_eq!(covered.len(), 27);
}

/// The first line names the PDU, its section and its sequence number, and the
/// command_length line says in decimal what its hex says: the comments cannot drift from
/// the bytes.
#[test]
fn every_fixture_header_comment_agrees_with_its_bytes() {
    for name in fixture_files() {
        let text =
            std::fs::read_to_string(fixture_dir().join(format!("{name}.hex"))).expect("readable");
        let bytes = load(&name);
        let pdu = Pdu::decode(&bytes).unwrap_or_else(|e| panic!("{name}.hex: {e}"));
        let first = text.lines().next().expect("a first line");
        let prefix = format!("# {} (spec 4.", pdu.command_id().name());
        assert!(
            first.starts_with(&prefix),
            "{name}.hex: first line {first:?} should start {prefix:?}"
        );
        let sequence = format!("), sequence {}", pdu.sequence_number);
        assert!(
            first.contains(&sequence),
            "{name}.hex: first line {first:?} should name {sequence:?}"
        );
        let length_line = text
            .lines()
            .find(|l| l.contains("# command_length = "))
            .unwrap_or_else(|| panic!("{name}.hex: no command_length line"));
        let (hex, comment) = length_line.split_once('#').expect("a comment");
        let declared: usize = comment
            .trim()
            .strip_prefix("command_length = ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}.hex: bad comment {comment:?}"));
        assert_eq!(declared, bytes.len(), "{name}.hex: comment vs length");
        assert_eq!(
            usize::from_str_radix(hex.trim(), 16).expect("hex"),
            bytes.len(),
            "{name}.hex: command_length vs length"
        );
    }
}

#[test]
fn fixtures_decode_back_to_back_as_a_stream() {
    // The same bytes concatenated: each PDU decodes from the front of what remains, and
    // octets after command_length are not looked at.
    let mut stream = Vec::new();
    for (name, _) in FIXTURES {
        stream.extend_from_slice(&load(name));
    }
    let mut rest = &stream[..];
    let mut count = 0;
    while !rest.is_empty() {
        let pdu = Pdu::decode(rest).expect("each PDU decodes");
        rest = &rest[pdu.encoded_len()..];
        count += 1;
    }
    assert_eq!(count, FIXTURES.len());
}
