//! End-to-end tests of `smsgate pdu decode` / `smsgate pdu encode`: the built binary run on
//! PDUs made by an independent implementation (smpplib, fixtures/pdus/interop), round trips,
//! and every kind of malformed input (exit code 2, a message naming the offset and field).
// Test code: a failed unwrap, expect or panic is a failed test (denied outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn smsgate(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smsgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin written");
    let out = child.wait_with_output().expect("binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn interop(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pdus/interop")
        .join(format!("smpplib-{name}.hex"))
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(interop(name)).expect("fixture exists")
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    smpp::fixtures::parse_annotated_hex(&fixture_text(name)).expect("fixture is hex")
}

/// Decodes hex given on stdin; one JSON value per PDU.
fn decode(hex: &str) -> Vec<Value> {
    let run = smsgate(&["pdu", "decode", "-"], hex.as_bytes());
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect()
}

fn decode_one(hex: &str) -> Value {
    let mut all = decode(hex);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// decode, then encode the JSON, through the binary: the hex that comes back.
fn round_trip(bytes: &[u8]) -> Vec<u8> {
    let hex = smpp::octets::to_hex(bytes);
    let run = smsgate(&["pdu", "decode", &hex], b"");
    assert_eq!(run.code, 0, "decode: {}", run.stderr);
    let back = smsgate(&["pdu", "encode", "-"], run.stdout.as_bytes());
    assert_eq!(back.code, 0, "encode: {}", back.stderr);
    smpp::fixtures::parse_annotated_hex(&back.stdout).expect("encode prints hex")
}

/// Expects exit code 2 and a message with every one of `needles`.
fn assert_rejected(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "stdout: {} stderr: {}", run.stdout, run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{:?} not in {:?}",
            needle,
            run.stderr
        );
    }
}

fn decode_err(bytes: &[u8], needles: &[&str]) {
    let run = smsgate(&["pdu", "decode", &smpp::octets::to_hex(bytes)], b"");
    assert_rejected(&run, needles);
}

fn with_length(mut pdu: Vec<u8>) -> Vec<u8> {
    let len = pdu.len() as u32;
    pdu[..4].copy_from_slice(&len.to_be_bytes());
    pdu
}

/// A submit_sm (sequence 7) with the given destination_addr octets (NUL added), and
/// sm_length / short_message / trailing octets as given.
fn submit_sm(destination: &[u8], sm_length: u8, rest: &[u8]) -> Vec<u8> {
    let mut pdu = vec![0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 7];
    pdu.extend_from_slice(b"\0\x05\x00SMSGATE\0\x01\x01");
    pdu.extend_from_slice(destination);
    pdu.push(0);
    // esm_class .. sm_default_msg_id: esm, pid, prio, sched "", validity "", reg, rep, dc, def
    pdu.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0]);
    pdu.push(sm_length);
    pdu.extend_from_slice(rest);
    with_length(pdu)
}

// ---------------------------------------------------------------- interop (smpplib)

#[test]
fn smpplib_fixtures_say_how_they_were_made() {
    for name in [
        "bind_transceiver",
        "submit_sm_ucs2",
        "deliver_sm_receipt",
        "enquire_link",
        "submit_sm_resp",
    ] {
        let text = fixture_text(name);
        assert!(text.contains("# Made by smpplib "), "{name}");
    }
}

#[test]
fn smpplib_bind_transceiver_decodes() {
    let v = decode_one(&fixture_text("bind_transceiver"));
    assert_eq!(v["command_id"], "bind_transceiver");
    assert_eq!(v["command_length"], 36);
    assert_eq!(v["command_status_name"], "ESME_ROK");
    assert_eq!(v["sequence_number"], 1);
    let body = &v["body"];
    assert_eq!(body["system_id"], "otpgate");
    assert_eq!(body["password"], "secret");
    assert_eq!(body["system_type"], "");
    assert_eq!(body["interface_version"], 0x34);
    assert_eq!(body["addr_ton"], 1);
    assert_eq!(body["addr_npi"], 1);
}

#[test]
fn smpplib_submit_sm_with_japanese_ucs2_text_decodes() {
    let v = decode_one(&fixture_text("submit_sm_ucs2"));
    assert_eq!(v["command_id"], "submit_sm");
    assert_eq!(v["sequence_number"], 2);
    let body = &v["body"];
    assert_eq!(body["source_addr"], "SMSGATE");
    assert_eq!(body["source_addr_ton"], 5);
    assert_eq!(body["destination_addr"], "819012345678");
    assert_eq!(body["dest_addr_ton"], 1);
    assert_eq!(body["dest_addr_npi"], 1);
    assert_eq!(body["registered_delivery"], 1);
    assert_eq!(body["data_coding"], 8);
    assert_eq!(body["sm_length"], 28);
    assert_eq!(body["text_encoding"], "ucs2");
    assert_eq!(body["text"], "認証コードは123456です");
    assert!(body["short_message"]["hex"].is_string());
}

#[test]
fn smpplib_deliver_sm_receipt_decodes_with_its_tlvs() {
    let v = decode_one(&fixture_text("deliver_sm_receipt"));
    assert_eq!(v["command_id"], "deliver_sm");
    let body = &v["body"];
    assert_eq!(body["esm_class"], 4);
    assert_eq!(body["source_addr"], "819012345678");
    assert_eq!(body["destination_addr"], "SMSGATE");
    let text = body["text"].as_str().expect("receipt text");
    assert!(
        text.starts_with("id:0123456789 sub:001 dlvrd:001"),
        "{text}"
    );
    assert!(text.contains("stat:DELIVRD err:000"), "{text}");
    let tlvs = body["tlvs"].as_array().expect("tlvs");
    let find = |tag: &str| {
        tlvs.iter()
            .find(|t| t["tag"] == tag)
            .unwrap_or_else(|| panic!("{tag} missing"))
    };
    assert_eq!(find("message_state")["value"], 2);
    assert_eq!(find("message_state")["value_name"], "DELIVERED");
    assert_eq!(find("receipted_message_id")["value"], "0123456789");
}

#[test]
fn smpplib_enquire_link_and_submit_sm_resp_decode() {
    let v = decode_one(&fixture_text("enquire_link"));
    assert_eq!(v["command_id"], "enquire_link");
    assert_eq!(v["command_length"], 16);
    assert_eq!(v["sequence_number"], 4);
    assert!(v.get("body").is_none());

    let v = decode_one(&fixture_text("submit_sm_resp"));
    assert_eq!(v["command_id"], "submit_sm_resp");
    assert_eq!(v["sequence_number"], 2);
    assert_eq!(v["body"]["message_id"], "0123456789");
}

#[test]
fn smpplib_pdus_back_to_back_decode_in_order_and_round_trip() {
    let names = [
        "bind_transceiver",
        "submit_sm_ucs2",
        "deliver_sm_receipt",
        "enquire_link",
        "submit_sm_resp",
    ];
    let text: String = names.iter().map(|n| fixture_text(n)).collect();
    let all = decode(&text);
    let ids: Vec<&str> = all
        .iter()
        .map(|v| v["command_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            "bind_transceiver",
            "submit_sm",
            "deliver_sm",
            "enquire_link",
            "submit_sm_resp"
        ]
    );
    let bytes: Vec<u8> = names.iter().flat_map(|n| fixture_bytes(n)).collect();
    assert_eq!(round_trip(&bytes), bytes);
}

// ---------------------------------------------------------------- round trips

#[test]
fn decode_then_encode_gives_back_the_same_bytes() {
    let cases: Vec<Vec<u8>> = vec![
        fixture_bytes("submit_sm_ucs2"),
        fixture_bytes("deliver_sm_receipt"),
        // bind_transmitter_resp sent header-only with ESME_RINVPASWD.
        vec![0, 0, 0, 16, 0x80, 0, 0, 2, 0, 0, 0, 0x0e, 0, 0, 0, 3],
        // generic_nack with a vendor status.
        vec![0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 9],
        // submit_sm_resp with receipted_message_id sent without its NUL and an unknown TLV.
        with_length(
            [
                &[0, 0, 0, 0, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5][..],
                b"a\0",
                &[0x00, 0x1e, 0, 3],
                b"abc",
                &[0x14, 0x00, 0, 2, 0, 1],
            ]
            .concat(),
        ),
        // submit_sm with a UDH (UDHI) and GSM text.
        {
            let mut pdu = submit_sm(b"819012345678", 8, &[5, 0, 3, 9, 2, 1, b'h', b'i']);
            pdu[16 + 1 + 2 + 8 + 2 + 13] = 0x40;
            pdu
        },
    ];
    for bytes in cases {
        assert_eq!(
            round_trip(&bytes),
            bytes,
            "{}",
            smpp::octets::to_hex(&bytes)
        );
    }
}

#[test]
fn udh_is_shown_apart_from_the_text() {
    let mut pdu = submit_sm(b"819012345678", 8, &[5, 0, 3, 9, 2, 1, b'h', b'i']);
    pdu[16 + 1 + 2 + 8 + 2 + 13] = 0x40;
    let v = decode_one(&smpp::octets::to_hex(&pdu));
    let body = &v["body"];
    assert_eq!(body["esm_class"], 0x40);
    assert_eq!(body["udh"]["hex"], "050003090201");
    assert_eq!(body["udh"]["concat"]["reference"], 9);
    assert_eq!(body["udh"]["concat"]["total"], 2);
    assert_eq!(body["udh"]["concat"]["seqnum"], 1);
    assert_eq!(body["text"], "hi");
}

/// Two concatenation elements (IE 0x00 then IE 0x08), then one whose sequence number is
/// above its total: `pdu decode` shows every element and the concatenation the codec takes,
/// the last valid one (3GPP TS 23.040 9.2.3.24).
#[test]
fn udh_with_two_concat_elements_shows_what_the_codec_takes() {
    let sm = [
        0x10, 0x00, 0x03, 0x09, 0x02, 0x01, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, 0x00, 0x03, 0x07,
        0x02, 0x03, b'h', b'i',
    ];
    let mut pdu = submit_sm(b"819012345678", sm.len() as u8, &sm);
    pdu[16 + 1 + 2 + 8 + 2 + 13] = 0x40;
    let v = decode_one(&smpp::octets::to_hex(&pdu));
    let udh = &v["body"]["udh"];
    assert_eq!(udh["elements"].as_array().map(Vec::len), Some(3));
    assert_eq!(udh["error"], Value::Null);
    let (codec, body) = smpp::text::parse_udh(&sm).expect("valid UDH");
    let codec = codec.expect("a valid concatenation element");
    assert_eq!(
        (codec.reference, codec.total, codec.seq),
        (0x1234, 3, 2),
        "the last valid element"
    );
    assert_eq!(udh["concat"]["reference"], codec.reference);
    assert_eq!(udh["concat"]["total"], codec.total);
    assert_eq!(udh["concat"]["seqnum"], codec.seq);
    assert_eq!(body, b"hi");
    assert_eq!(v["body"]["text"], "hi");
}

#[test]
fn pretty_output_encodes_back() {
    let bytes = fixture_bytes("deliver_sm_receipt");
    let run = smsgate(
        &["pdu", "decode", "--pretty", "-"],
        &fixture_text("deliver_sm_receipt").into_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.lines().count() > 10);
    let back = smsgate(&["pdu", "encode", "-"], run.stdout.as_bytes());
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(back.stdout.trim(), smpp::octets::to_hex(&bytes));
}

#[test]
fn raw_file_input_decodes_back_to_back_pdus() {
    let mut bytes = fixture_bytes("bind_transceiver");
    bytes.extend(fixture_bytes("enquire_link"));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pdu_cli_raw.bin");
    std::fs::write(&path, &bytes).expect("temp file written");
    let run = smsgate(
        &["pdu", "decode", "--raw", path.to_str().expect("utf-8 path")],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["body"]["system_id"], "otpgate");
    assert_eq!(lines[1]["command_id"], "enquire_link");

    let stdin = smsgate(&["pdu", "decode", "--raw", "-"], &bytes);
    assert_eq!(stdin.stdout, run.stdout);
}

#[test]
fn raw_file_that_does_not_exist_is_an_io_error() {
    let run = smsgate(&["pdu", "decode", "--raw", "/nonexistent/pdus.bin"], b"");
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read /nonexistent/pdus.bin"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_lists_the_subcommands() {
    let run = smsgate(&["--help"], b"");
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Usage: smsgate"), "{}", run.stdout);
    assert!(run.stdout.contains("pdu"), "{}", run.stdout);
}

// ---------------------------------------------------------------- malformed PDUs

#[test]
fn short_header_is_rejected() {
    decode_err(
        &[0, 0, 0, 16, 0, 0, 0, 0x15],
        &["PDU 1 at byte 0", "field header at byte 0", "short header"],
    );
}

#[test]
fn command_length_below_16_is_rejected() {
    decode_err(
        &[0, 0, 0, 12, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1],
        &[
            "field command_length at byte 0",
            "below the 16-octet header",
        ],
    );
}

#[test]
fn command_length_above_the_maximum_is_rejected() {
    decode_err(
        &[0x7f, 0, 0, 0, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1],
        &["field command_length at byte 0", "exceeds the maximum"],
    );
}

#[test]
fn body_shorter_than_command_length_is_rejected() {
    decode_err(
        &[0, 0, 0, 20, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        &["field command_length at byte 0", "only 17 octet(s)"],
    );
}

#[test]
fn missing_nul_is_rejected() {
    let pdu = with_length(
        [
            &[0, 0, 0, 0, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5][..],
            b"abc",
        ]
        .concat(),
    );
    decode_err(
        &pdu,
        &[
            "submit_sm_resp (sequence_number 5)",
            "field message_id at byte 16",
            "no NUL",
        ],
    );
}

#[test]
fn destination_addr_longer_than_21_is_rejected() {
    let pdu = submit_sm(b"0123456789012345678901", 0, &[]);
    decode_err(
        &pdu,
        &[
            "PDU 1 at byte 0: submit_sm (sequence_number 7): field destination_addr at byte 29",
            "23 octets where the specification allows at most 21",
        ],
    );
}

#[test]
fn sm_length_disagreeing_with_the_data_is_rejected() {
    let pdu = submit_sm(b"8190", 10, b"hi");
    decode_err(
        &pdu,
        &["field short_message at byte", "sm_length is 10 but only 2"],
    );
}

#[test]
fn truncated_tlv_is_rejected() {
    let pdu = submit_sm(b"8190", 2, b"hi\x04\x27\x00");
    decode_err(
        &pdu,
        &[
            "field tlv at byte",
            "where a TLV header (4 octets) was expected",
        ],
    );
}

#[test]
fn tlv_length_past_the_body_is_rejected() {
    let pdu = submit_sm(b"8190", 2, b"hi\x04\x24\x00\x09abc");
    decode_err(
        &pdu,
        &["field tlv at byte", "TLV 0x0424 has length 9 but only 3"],
    );
}

#[test]
fn known_tlv_with_a_wrong_length_is_rejected() {
    let pdu = submit_sm(b"8190", 2, b"hi\x04\x27\x00\x02\x01\x02");
    let at = pdu.len() - 6;
    decode_err(
        &pdu,
        &[
            &format!("field message_state at byte {at}"),
            "allows exactly 1",
        ],
    );
}

#[test]
fn unknown_command_id_is_rejected() {
    decode_err(
        &[0, 0, 0, 16, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 1],
        &[
            "field command_id at byte 4",
            "unknown command_id 0x00001234",
        ],
    );
}

#[test]
fn second_pdu_malformed_names_its_offset_after_printing_the_first() {
    let mut bytes = fixture_bytes("enquire_link");
    bytes.extend(submit_sm(b"0123456789012345678901", 0, &[]));
    let run = smsgate(&["pdu", "decode", &smpp::octets::to_hex(&bytes)], b"");
    assert_rejected(
        &run,
        &[
            "PDU 2 at byte 16: submit_sm",
            "field destination_addr at byte 29",
        ],
    );
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn empty_input_is_rejected() {
    let run = smsgate(&["pdu", "decode", "-"], b"# only a comment\n");
    assert_rejected(&run, &["no PDU"]);
}

// ---------------------------------------------------------------- bad hex, bad JSON

#[test]
fn bad_hex_digit_names_line_and_column() {
    let run = smsgate(&["pdu", "decode", "-"], b"00000010 # ok\n0000 00z5\n");
    assert_rejected(&run, &["bad hex in stdin", "line 2, column 8", "'z'"]);
}

#[test]
fn odd_number_of_hex_digits_is_rejected() {
    let run = smsgate(&["pdu", "decode", "000000100"], b"");
    assert_rejected(
        &run,
        &["bad hex in the argument", "odd number of hex digits (9)"],
    );
}

#[test]
fn json_syntax_error_names_line_and_column() {
    let run = smsgate(
        &["pdu", "encode", "-"],
        b"{\"command_id\": \"enquire_link\",\n \"sequence_number\": 1,}",
    );
    assert_rejected(&run, &["bad JSON", "line 2"]);
}

#[test]
fn json_with_an_unknown_field_names_it() {
    let run = smsgate(
        &[
            "pdu",
            "encode",
            r#"{"command_id":"submit_sm","sequence_number":7,"body":{"destination_adr":"8190"}}"#,
        ],
        b"",
    );
    assert_rejected(
        &run,
        &[
            "PDU 1 (JSON at line 1): field body.destination_adr",
            "unknown field",
        ],
    );
}

#[test]
fn json_with_a_wrong_type_names_the_field() {
    let run = smsgate(
        &[
            "pdu",
            "encode",
            r#"{"command_id":"submit_sm","sequence_number":7,"body":{"esm_class":"x"}}"#,
        ],
        b"",
    );
    assert_rejected(&run, &["field body.esm_class", "invalid type"]);
    let run = smsgate(
        &[
            "pdu",
            "encode",
            r#"{"command_id":"submit_smx","sequence_number":7}"#,
        ],
        b"",
    );
    assert_rejected(&run, &["field command_id", "unknown command"]);
    let run = smsgate(&["pdu", "encode", r#"{"command_id":"enquire_link"}"#], b"");
    assert_rejected(&run, &["field sequence_number: missing"]);
}

#[test]
fn json_breaking_a_spec_limit_names_the_field() {
    let run = smsgate(
        &[
            "pdu",
            "encode",
            r#"{"command_id":"submit_sm","sequence_number":7,"body":{"destination_addr":"0123456789012345678901"}}"#,
        ],
        b"",
    );
    assert_rejected(&run, &["field destination_addr", "at most 21"]);
}

#[test]
fn json_with_a_bad_tlv_names_it() {
    let run = smsgate(
        &[
            "pdu",
            "encode",
            r#"{"command_id":"submit_sm","sequence_number":7,"body":{"tlvs":[{"tag":"message_state","value":2},{"tag":"nonsense","value":1}]}}"#,
        ],
        b"",
    );
    assert_rejected(&run, &["field body.tlvs[1].tag"]);
}

#[test]
fn json_with_an_informational_field_that_disagrees_is_rejected() {
    let v = decode_one(&fixture_text("submit_sm_ucs2"));
    let mut edited = v.clone();
    edited["body"]["text"] = "changed".into();
    let run = smsgate(&["pdu", "encode", &edited.to_string()], b"");
    assert_rejected(&run, &["field body.text", "informational"]);
    let mut edited = v;
    edited["command_length"] = 81.into();
    let run = smsgate(&["pdu", "encode", &edited.to_string()], b"");
    assert_rejected(&run, &["field command_length", "is 81", "has 80"]);
}

#[test]
fn json_pdus_one_per_line_encode_one_per_line() {
    let input = "{\"command_id\":\"enquire_link\",\"sequence_number\":1}\n{\"command_id\":\"enquire_link_resp\",\"sequence_number\":1,\"command_status\":\"ESME_RSYSERR\"}\n";
    let run = smsgate(&["pdu", "encode", "-"], input.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "00000010000000150000000000000001\n00000010800000150000000800000001\n"
    );
}

// ---------------------------------------------------------------- stdin without `-`

#[test]
fn encode_reads_json_piped_on_stdin_when_given_no_argument() {
    let input = "{\"command_id\":\"enquire_link\",\"sequence_number\":1}\n{\"command_id\":\"enquire_link_resp\",\"sequence_number\":1,\"command_status\":\"ESME_RSYSERR\"}\n";
    let run = smsgate(&["pdu", "encode"], input.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "00000010000000150000000000000001\n00000010800000150000000800000001\n"
    );
}

#[test]
fn decode_reads_hex_piped_on_stdin_when_given_no_argument() {
    let hex = fixture_text("submit_sm_ucs2");
    let run = smsgate(&["pdu", "decode"], hex.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dash = smsgate(&["pdu", "decode", "-"], hex.as_bytes());
    assert_eq!(run.stdout, dash.stdout);
    let value: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(value["command_id"], "submit_sm");
    // And the pipe the other way: decode | encode gives back the octets.
    let back = smsgate(&["pdu", "encode"], run.stdout.as_bytes());
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(
        smpp::fixtures::parse_annotated_hex(&back.stdout).unwrap(),
        fixture_bytes("submit_sm_ucs2")
    );
}
