//! `smsgate pdu decode` and `smsgate pdu encode`: SMPP PDUs to JSON and back, for operators
//! reading a capture or building a PDU by hand. The JSON shape is documented in
//! docs/pdu-tool.md.
//!
//! This file holds the arguments and reads the input; [`json_out`] writes a PDU as JSON
//! (decode), [`json_in`] reads the JSON back into a PDU (encode).

mod json_in;
mod json_out;

pub use json_in::encode_all;
pub use json_out::{decode_all, describe_decode_error, pdu_json};

use super::CliError;
use clap::{Args, Subcommand};
use smpp::octets::to_hex;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `smsgate pdu ...`.
#[derive(Debug, Subcommand)]
pub enum PduCommand {
    /// Decode PDUs (hex or raw binary) into JSON, one object per PDU.
    Decode(DecodeArgs),
    /// Encode JSON PDUs (as `pdu decode` prints them) into hex, one line per PDU.
    Encode(EncodeArgs),
}

/// Arguments of `pdu decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// PDUs as hex (whitespace and `# comments` allowed), or `-` to read the hex on stdin.
    /// With neither HEX nor --raw, the hex is read from stdin when it is not a terminal.
    #[arg(value_name = "HEX", conflicts_with = "raw")]
    pub hex: Vec<String>,
    /// Read raw binary PDUs from FILE (`-` for stdin) instead of hex.
    #[arg(long, value_name = "FILE")]
    pub raw: Option<PathBuf>,
    /// Pretty-print each JSON object over several lines.
    #[arg(long)]
    pub pretty: bool,
}

/// Arguments of `pdu encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// One JSON PDU object, or several separated by whitespace, or `-` to read them on stdin.
    /// With no JSON, they are read from stdin when it is not a terminal.
    #[arg(value_name = "JSON")]
    pub json: Vec<String>,
}

/// Runs a `pdu` subcommand.
pub fn run(cmd: PduCommand) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd {
        PduCommand::Decode(args) => {
            let bytes = match &args.raw {
                Some(path) => read_raw(path)?,
                None => {
                    let (text, input) = read_text(&args.hex, "the hex (or --raw FILE)")?;
                    smpp::fixtures::parse_annotated_hex(&text)
                        .map_err(|source| CliError::Hex { input, source })?
                }
            };
            decode_all(&bytes, |value| {
                let line = if args.pretty {
                    serde_json::to_string_pretty(&value)
                } else {
                    serde_json::to_string(&value)
                }
                .map_err(CliError::ToJson)?;
                writeln!(out, "{line}").map_err(CliError::Write)
            })
        }
        PduCommand::Encode(args) => {
            let (text, _) = read_text(&args.json, "the JSON")?;
            encode_all(&text, |bytes| {
                writeln!(out, "{}", to_hex(bytes)).map_err(CliError::Write)
            })
        }
    }
    .and_then(|()| out.flush().map_err(CliError::Write))
}

/// The argument words joined with spaces, or stdin when the one word is `-` or there is no
/// word and stdin is not a terminal (`... | smsgate pdu encode`); with a name for the input
/// to use in messages. No word with stdin a terminal is a usage error: `what` says what to
/// give.
fn read_text(words: &[String], what: &str) -> Result<(String, String), CliError> {
    let from_stdin = match words {
        [] if std::io::stdin().is_terminal() => {
            return Err(CliError::Usage(format!(
                "give {what} as arguments, or pipe it on stdin"
            )))
        }
        [] => true,
        [one] => one == "-",
        _ => false,
    };
    if from_stdin {
        let text = String::from_utf8(super::read_stdin_bytes()?)
            .map_err(|_| CliError::NotUtf8("stdin".into()))?;
        return Ok((text, "stdin".to_owned()));
    }
    Ok((words.join(" "), "the argument".to_owned()))
}

fn read_raw(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    if path.as_os_str() == "-" {
        return super::read_stdin_bytes();
    }
    std::fs::read(path).map_err(|source| CliError::Read {
        what: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::json_in::{encode_one, Fault};
    use super::*;
    use smpp::pdu::{
        AlertNotification, Bind, BindResp, CancelSm, DataSm, DataSmResp, DeliverSm, DestAddress,
        Outbind, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm,
        UnsuccessSme,
    };
    use smpp::tlv::NetworkErrorCode;
    use smpp::{Body, CommandStatus, Octets, Pdu, Tlv, Tlvs};

    fn round_trip(bytes: &[u8]) -> Vec<u8> {
        let mut values = Vec::new();
        decode_all(bytes, |v| {
            values.push(v);
            Ok(())
        })
        .expect("decodes");
        let text = values
            .iter()
            .map(|v| serde_json::to_string_pretty(v).expect("json"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::new();
        encode_all(&text, |b| {
            out.extend_from_slice(b);
            Ok(())
        })
        .expect("encodes");
        out
    }

    fn tlvs(list: Vec<Tlv<'static>>) -> Tlvs<'static> {
        list.into_iter()
            .collect::<Result<Tlvs<'static>, _>>()
            .expect("valid tlvs")
    }

    #[test]
    fn every_command_round_trips_through_the_json() {
        let sm = SubmitSm {
            source_addr: "SMSGATE".into(),
            destination_addr: "819012345678".into(),
            esm_class: 0x40,
            data_coding: 8,
            short_message: Octets::from(vec![5, 0, 3, 7, 2, 1, 0x30, 0x42]),
            tlvs: tlvs(vec![
                Tlv::SarMsgRefNum(7),
                Tlv::NetworkErrorCode(NetworkErrorCode {
                    network_type: 3,
                    error_code: 1,
                }),
                Tlv::AlertOnMessageDelivery(()),
                Tlv::CallbackNum(Octets::from(vec![1, 1, b'8', b'1'])),
            ]),
            ..Default::default()
        };
        let pdus = vec![
            Pdu::new(1, Body::BindTransmitter(Bind::default())),
            Pdu::new(1, Body::BindReceiver(Bind::default())),
            Pdu::new(
                1,
                Body::BindTransceiverResp(Some(BindResp {
                    system_id: "smsc".into(),
                    tlvs: tlvs(vec![Tlv::ScInterfaceVersion(0x34)]),
                })),
            ),
            Pdu::new(
                2,
                Body::Outbind(Outbind {
                    system_id: "smsc".into(),
                    password: "pw".into(),
                }),
            ),
            Pdu::new(3, Body::SubmitSm(sm.clone())),
            Pdu::new(
                4,
                Body::DeliverSm(DeliverSm {
                    source_addr: sm.source_addr,
                    destination_addr: sm.destination_addr,
                    esm_class: sm.esm_class,
                    data_coding: sm.data_coding,
                    short_message: sm.short_message,
                    tlvs: sm.tlvs,
                    ..Default::default()
                }),
            ),
            Pdu::new(
                5,
                Body::SubmitMulti(SubmitMulti {
                    dest_address: vec![
                        DestAddress::SmeAddress {
                            dest_addr_ton: 1,
                            dest_addr_npi: 1,
                            destination_addr: "8190".into(),
                        },
                        DestAddress::DistributionList {
                            dl_name: "staff".into(),
                        },
                    ],
                    data_coding: 3,
                    short_message: Octets::from(vec![0xE9]),
                    ..Default::default()
                }),
            ),
            Pdu::new(
                5,
                Body::SubmitMultiResp(Some(SubmitMultiResp {
                    message_id: "m".into(),
                    unsuccess_sme: vec![UnsuccessSme {
                        destination_addr: "8190".into(),
                        error_status_code: CommandStatus::ESME_RINVDSTADR,
                        ..Default::default()
                    }],
                })),
            ),
            Pdu::new(
                6,
                Body::DataSm(DataSm {
                    data_coding: 0,
                    tlvs: tlvs(vec![Tlv::MessagePayload(Octets::from("long text"))]),
                    ..Default::default()
                }),
            ),
            Pdu::new(6, Body::DataSmResp(Some(DataSmResp::default()))),
            Pdu::new(7, Body::QuerySm(QuerySm::default())),
            Pdu::new(7, Body::QuerySmResp(Some(QuerySmResp::default()))),
            Pdu::new(8, Body::CancelSm(CancelSm::default())),
            Pdu::new(8, Body::CancelSmResp),
            Pdu::new(
                9,
                Body::ReplaceSm(ReplaceSm {
                    short_message: "new".into(),
                    ..Default::default()
                }),
            ),
            Pdu::new(10, Body::AlertNotification(AlertNotification::default())),
            Pdu::new(11, Body::Unbind),
            Pdu::with_status(11, CommandStatus(0x0401), Body::UnbindResp),
            Pdu::generic_nack(0, CommandStatus::ESME_RINVCMDID),
            Pdu::with_status(12, CommandStatus::ESME_RTHROTTLED, Body::SubmitSmResp(None)),
        ];
        let mut stream = Vec::new();
        for pdu in &pdus {
            let bytes = pdu.to_bytes().expect("encodes");
            assert_eq!(round_trip(&bytes), bytes, "{pdu:?}");
            stream.extend_from_slice(&bytes);
        }
        assert_eq!(round_trip(&stream), stream);
    }

    /// Flips octets of valid PDUs: nothing panics, and every mutant that decodes encodes
    /// back to its own octets, or is refused by a codec rule (a request's sequence_number
    /// out of 1..=0x7FFFFFFF, which decoding lets through) -- never silently changed.
    #[test]
    fn mutated_pdus_never_panic_and_round_trip_when_they_decode() {
        let seeds: Vec<Vec<u8>> = vec![
            Pdu::new(
                3,
                Body::SubmitSm(SubmitSm {
                    source_addr: "SMSGATE".into(),
                    destination_addr: "819012345678".into(),
                    esm_class: 0x40,
                    data_coding: 8,
                    short_message: Octets::from(vec![5, 0, 3, 7, 2, 1, 0x30, 0x42]),
                    tlvs: tlvs(vec![
                        Tlv::ReceiptedMessageId("abc".into()),
                        Tlv::MessageState(2),
                        Tlv::MessagePayload(Octets::from("x")),
                    ]),
                    ..Default::default()
                }),
            ),
            Pdu::new(
                1,
                Body::BindTransceiver(Bind {
                    system_id: "otp".into(),
                    password: "pw".into(),
                    ..Default::default()
                }),
            ),
        ]
        .into_iter()
        .map(|p| p.to_bytes().expect("encodes"))
        .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut decoded = 0;
        for _ in 0..4000 {
            let seed = &seeds[(next() % seeds.len() as u64) as usize];
            let mut bytes = seed.clone();
            for _ in 0..1 + next() % 3 {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = next() as u8;
            }
            let mut values = Vec::new();
            if decode_all(&bytes, |v| {
                values.push(v);
                Ok(())
            })
            .is_err()
            {
                continue;
            }
            decoded += 1;
            for v in values {
                match encode_one(&v) {
                    Ok(back) => assert_eq!(back, bytes, "{v}"),
                    Err(Fault::Encode(smpp::EncodeError::SequenceNumber(_))) => {}
                    Err(other) => panic!("{other:?} for {v}"),
                }
            }
        }
        assert!(decoded > 100, "only {decoded} mutants decoded");
    }
}
