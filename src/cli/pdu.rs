//! `smsgate pdu decode` and `smsgate pdu encode`: SMPP PDUs to JSON and back, for operators
//! reading a capture or building a PDU by hand. The JSON shape is documented in
//! docs/pdu-tool.md.
//!
//! The shape is `smpp`'s serde shape for the body, post-processed: the header fields are
//! spelled out (command_length, command_status_name), sm_length / number_of_dests /
//! no_unsuccess are shown, a text preview follows short_message, and the optional
//! parameters are written here from their wire octets (see [`tlv_json`]) so that decode
//! then encode gives back the very same bytes. Informational fields are checked on encode.

use super::text_preview::{self, Preview};
use super::CliError;
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use smpp::octets::{from_hex, to_hex};
use smpp::tlv::RawTlv;
use smpp::{Body, CommandId, CommandStatus, DecodeError, Header, Pdu, Tag, Tlv, Tlvs};
use std::io::{Read, Write};
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
    #[arg(
        value_name = "HEX",
        required_unless_present = "raw",
        conflicts_with = "raw"
    )]
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
    #[arg(value_name = "JSON", required = true)]
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
                    let (text, input) = read_text(&args.hex)?;
                    smpp::parse_annotated_hex(&text)
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
            let (text, _) = read_text(&args.json)?;
            encode_all(&text, |bytes| {
                writeln!(out, "{}", to_hex(bytes)).map_err(CliError::Write)
            })
        }
    }
    .and_then(|()| out.flush().map_err(CliError::Write))
}

/// The argument words joined with spaces, or stdin when the one word is `-`; with a name
/// for the input to use in messages.
fn read_text(words: &[String]) -> Result<(String, String), CliError> {
    if let [one] = words {
        if one == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|source| CliError::Read {
                    what: "stdin".to_owned(),
                    source,
                })?;
            let text = String::from_utf8(buf).map_err(|_| CliError::NotUtf8("stdin".into()))?;
            return Ok((text, "stdin".to_owned()));
        }
    }
    Ok((words.join(" "), "the argument".to_owned()))
}

fn read_raw(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| CliError::Read {
                what: "stdin".to_owned(),
                source,
            })?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|source| CliError::Read {
        what: path.display().to_string(),
        source,
    })
}

// ---------------------------------------------------------------- decode

/// Decodes back-to-back PDUs and hands each one's JSON to `emit`, stopping at the first
/// that does not decode (those before it have been emitted).
pub fn decode_all(
    bytes: &[u8],
    mut emit: impl FnMut(Value) -> Result<(), CliError>,
) -> Result<(), CliError> {
    if bytes.is_empty() {
        return Err(CliError::Empty);
    }
    let mut offset = 0;
    let mut index = 1;
    while offset < bytes.len() {
        let frame = &bytes[offset..];
        let fail = |source| CliError::Decode {
            index,
            offset,
            source,
        };
        let header = Header::parse(frame, smpp::DEFAULT_MAX_PDU_LEN).map_err(fail)?;
        let pdu = Pdu::decode(frame).map_err(fail)?;
        emit(pdu_json(&pdu, header.command_length)?)?;
        offset += header.command_length as usize;
        index += 1;
    }
    Ok(())
}

/// The header-level errors name no field of their own; say which one they are about.
pub fn describe_decode_error(e: &DecodeError) -> String {
    match e {
        DecodeError::Field { .. } => e.to_string(),
        DecodeError::ShortHeader { .. } => format!("field header at byte 0: {e}"),
        DecodeError::LengthTooSmall { .. }
        | DecodeError::LengthTooLarge { .. }
        | DecodeError::Truncated { .. } => format!("field command_length at byte 0: {e}"),
        DecodeError::UnknownCommand { .. } => format!("field command_id at byte 4: {e}"),
    }
}

/// Informational fields of the top level: derived from the others, checked on encode.
const INFO_TOP: &[&str] = &["command_length", "command_status_name"];
/// Informational fields of a body.
const INFO_BODY: &[&str] = &[
    "sm_length",
    "number_of_dests",
    "no_unsuccess",
    "udh",
    "text_encoding",
    "text",
];
/// Informational fields of one optional parameter.
const INFO_TLV: &[&str] = &["value_name", "udh", "text_encoding", "text"];

/// The JSON of one decoded PDU.
pub fn pdu_json(pdu: &Pdu<'_>, command_length: u32) -> Result<Value, CliError> {
    let mut top = Map::new();
    top.insert("command_length".into(), command_length.into());
    top.insert("command_id".into(), pdu.command_id().name().into());
    top.insert("command_status".into(), pdu.command_status.0.into());
    top.insert(
        "command_status_name".into(),
        pdu.command_status.name().map_or(Value::Null, Value::from),
    );
    top.insert("sequence_number".into(), pdu.sequence_number.into());
    // smpp's adjacently tagged Body: {"command_id": ..., "body": ...}; no "body" key for a
    // header-only command, "body": null for a response sent header-only.
    let tagged = serde_json::to_value(&pdu.body).map_err(CliError::ToJson)?;
    match tagged.get("body") {
        None => {}
        Some(Value::Object(fields)) => {
            top.insert("body".into(), body_json(&pdu.body, fields)?);
        }
        Some(other) => {
            top.insert("body".into(), other.clone());
        }
    }
    Ok(Value::Object(top))
}

/// The fields a text preview needs, for the bodies that carry a message.
struct MessageFields<'p> {
    esm_class: u8,
    data_coding: u8,
    short_message: Option<&'p [u8]>,
}

fn message_fields<'p>(body: &'p Body<'p>) -> Option<MessageFields<'p>> {
    match body {
        Body::SubmitSm(m) | Body::DeliverSm(m) => Some(MessageFields {
            esm_class: m.esm_class,
            data_coding: m.data_coding,
            short_message: Some(m.short_message.as_bytes()),
        }),
        Body::SubmitMulti(m) => Some(MessageFields {
            esm_class: m.esm_class,
            data_coding: m.data_coding,
            short_message: Some(m.short_message.as_bytes()),
        }),
        Body::DataSm(m) => Some(MessageFields {
            esm_class: m.esm_class,
            data_coding: m.data_coding,
            short_message: None,
        }),
        _ => None,
    }
}

fn insert_preview(map: &mut Map<String, Value>, p: Preview) -> Result<(), CliError> {
    if let Some(udh) = p.udh {
        map.insert(
            "udh".into(),
            serde_json::to_value(udh).map_err(CliError::ToJson)?,
        );
    }
    if let Some(encoding) = p.encoding {
        map.insert("text_encoding".into(), encoding.into());
    }
    if let Some(text) = p.text {
        map.insert("text".into(), text.into());
    }
    Ok(())
}

/// A body's fields in spec order, with the informational fields slotted in.
fn body_json(body: &Body<'_>, fields: &Map<String, Value>) -> Result<Value, CliError> {
    let message = message_fields(body);
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "short_message" => {
                if let Some(sm) = message.as_ref().and_then(|m| m.short_message) {
                    out.insert("sm_length".into(), sm.len().into());
                    out.insert(key.clone(), value.clone());
                    if let Some(m) = &message {
                        insert_preview(
                            &mut out,
                            text_preview::preview(m.esm_class, m.data_coding, sm),
                        )?;
                    }
                } else {
                    // replace_sm: its data_coding is the original message's, unknown here.
                    let len = value_octets(value).map_or(0, |o| o.len());
                    out.insert("sm_length".into(), len.into());
                    out.insert(key.clone(), value.clone());
                }
            }
            "dest_address" => {
                let n = value.as_array().map_or(0, Vec::len);
                out.insert("number_of_dests".into(), n.into());
                out.insert(key.clone(), value.clone());
            }
            "unsuccess_sme" => {
                let n = value.as_array().map_or(0, Vec::len);
                out.insert("no_unsuccess".into(), n.into());
                out.insert(key.clone(), value.clone());
            }
            "tlvs" => {
                let list = match body.tlvs() {
                    Some(tlvs) => tlvs
                        .raw_iter()
                        .map(|raw| tlv_json(raw, message.as_ref()))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => Vec::new(),
                };
                out.insert(key.clone(), Value::Array(list));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// The octets of an Octets JSON value (a string, or `{"hex": ...}`).
fn value_octets(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(m) => m.get("hex")?.as_str().and_then(|h| from_hex(h).ok()),
        _ => None,
    }
}

/// The JSON of a string of octets, as smpp's serde writes them.
fn octets_json(bytes: &[u8]) -> Result<Value, CliError> {
    serde_json::to_value(smpp::Octets::borrowed(bytes)).map_err(CliError::ToJson)
}

/// Names of message_state values (section 5.2.28).
fn message_state_name(state: u8) -> Option<&'static str> {
    Some(match state {
        1 => "ENROUTE",
        2 => "DELIVERED",
        3 => "EXPIRED",
        4 => "DELETED",
        5 => "UNDELIVERABLE",
        6 => "ACCEPTED",
        7 => "UNKNOWN",
        8 => "REJECTED",
        _ => return None,
    })
}

/// The octets of one TLV as it lies on the wire.
fn raw_tlv_bytes(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + value.len());
    out.extend_from_slice(&tag.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// One optional parameter: `{"tag": name, "value": typed}` (smpp's serde shape for known
/// tags), `{"tag": "0x1400", "value": octets}` for an unknown tag, `"nul": false` for a
/// C-Octet String value sent without its NUL, and `{"tag": ..., "hex": ...}` should the
/// typed value ever fail to give back the wire octets.
fn tlv_json(raw: RawTlv<'_>, message: Option<&MessageFields<'_>>) -> Result<Value, CliError> {
    let typed = raw.typed();
    let wire = raw_tlv_bytes(raw.tag.0, raw.value);
    let reencoded = Tlvs::new()
        .with(typed.clone())
        .map(|t| t.as_bytes().to_vec())
        .ok();
    let mut out = Map::new();
    let tag_name = raw
        .tag
        .name()
        .map_or_else(|| format!("0x{:04x}", raw.tag.0), str::to_owned);
    out.insert("tag".into(), tag_name.into());
    if let Tlv::Other { value, .. } = &typed {
        out.insert("value".into(), octets_json(value.as_bytes())?);
        return Ok(Value::Object(out));
    }
    let exact = reencoded.as_deref() == Some(wire.as_slice());
    // Decoding accepts a C-Octet String TLV sent without its NUL; encoding always writes
    // one. Such a value is marked so that encode leaves the NUL off again.
    let missing_nul = !exact
        && reencoded.as_deref().is_some_and(|r| {
            r.len() == wire.len() + 1
                && r.ends_with(&[0])
                && r.get(..2) == wire.get(..2)
                && r.get(4..r.len() - 1) == wire.get(4..)
        });
    if !exact && !missing_nul {
        out.insert("hex".into(), to_hex(raw.value).into());
        return Ok(Value::Object(out));
    }
    let tagged = serde_json::to_value(&typed).map_err(CliError::ToJson)?;
    out.insert(
        "value".into(),
        tagged.get("value").cloned().unwrap_or(Value::Null),
    );
    if missing_nul {
        out.insert("nul".into(), false.into());
    }
    match typed {
        Tlv::MessageState(state) => {
            if let Some(name) = message_state_name(state) {
                out.insert("value_name".into(), name.into());
            }
        }
        Tlv::MessagePayload(payload) => {
            if let Some(m) = message {
                insert_preview(
                    &mut out,
                    text_preview::preview(m.esm_class, m.data_coding, payload.as_bytes()),
                )?;
            }
        }
        _ => {}
    }
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------- encode

/// Why one JSON PDU could not be encoded; [`encode_all`] adds which PDU and where.
#[derive(Debug)]
enum Fault {
    Field(String, String),
    Encode(smpp::EncodeError),
    Reencode(DecodeError),
    ToJson(serde_json::Error),
}

fn field(name: impl Into<String>, message: impl Into<String>) -> Fault {
    Fault::Field(name.into(), message.into())
}

impl From<CliError> for Fault {
    fn from(e: CliError) -> Self {
        match e {
            CliError::ToJson(e) => Fault::ToJson(e),
            other => Fault::Field("(pdu)".into(), other.to_string()),
        }
    }
}

/// Top-level keys a JSON PDU may have.
const TOP_KEYS: &[&str] = &[
    "command_length",
    "command_id",
    "command_status",
    "command_status_name",
    "sequence_number",
    "body",
];

/// Encodes every JSON PDU in `text` (objects separated by whitespace, or arrays of them)
/// and hands each one's octets to `emit`, stopping at the first that fails.
pub fn encode_all(
    text: &str,
    mut emit: impl FnMut(&[u8]) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut index = 0;
    loop {
        let start = stream.byte_offset();
        let Some(item) = stream.next() else { break };
        let value = item.map_err(CliError::Json)?;
        let line = line_of(text, start);
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            index += 1;
            let bytes = encode_one(&item).map_err(|fault| match fault {
                Fault::Field(field, message) => CliError::JsonField {
                    index,
                    line,
                    field,
                    message,
                },
                Fault::Encode(source) => CliError::Encode {
                    index,
                    line,
                    source,
                },
                Fault::Reencode(source) => CliError::Reencode {
                    index,
                    line,
                    source,
                },
                Fault::ToJson(e) => CliError::ToJson(e),
            })?;
            emit(&bytes)?;
        }
    }
    if index == 0 {
        return Err(CliError::Empty);
    }
    Ok(())
}

/// The 1-based line of the first non-whitespace character at or after `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    let rest = text.get(offset..).unwrap_or("");
    let skipped = rest.len() - rest.trim_start().len();
    let upto = text.get(..offset + skipped).unwrap_or(text);
    1 + upto.matches('\n').count()
}

fn u32_of(value: &Value, name: &str) -> Result<u32, Fault> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            field(
                name,
                format!("{value} is not an integer from 0 to 4294967295"),
            )
        })
}

/// Deserializes `value` with the path of a failure as the field name.
fn deserialize<T: serde::de::DeserializeOwned>(value: Value, prefix: &str) -> Result<T, Fault> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let name = match (prefix, path.as_str()) {
            (p, ".") => p.to_owned(),
            ("", path) => path.to_owned(),
            (p, path) => format!("{p}.{path}"),
        };
        field(name, e.inner().to_string())
    })
}

/// Encodes one JSON PDU, then decodes the octets again and checks the informational fields
/// the JSON gave against what the PDU really is.
fn encode_one(input: &Value) -> Result<Vec<u8>, Fault> {
    let Some(obj) = input.as_object() else {
        return Err(field("(pdu)", "expected a JSON object"));
    };
    if let Some(key) = obj.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(field(
            key.as_str(),
            format!("unknown field; expected one of {}", TOP_KEYS.join(", ")),
        ));
    }
    let name = match obj.get("command_id") {
        None => return Err(field("command_id", "missing")),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(field(
                "command_id",
                format!("{other} is not a command name such as \"submit_sm\""),
            ))
        }
    };
    if CommandId::from_name(name).is_none() {
        return Err(field(
            "command_id",
            format!("unknown command {name:?} (names as in section 5.1.2.1)"),
        ));
    }
    let sequence_number = match obj.get("sequence_number") {
        None => return Err(field("sequence_number", "missing")),
        Some(v) => u32_of(v, "sequence_number")?,
    };
    let command_status = match obj.get("command_status") {
        None | Some(Value::Null) => CommandStatus::ESME_ROK,
        Some(Value::String(s)) => CommandStatus::from_name(s)
            .ok_or_else(|| field("command_status", format!("unknown status name {s:?}")))?,
        Some(v) => CommandStatus(u32_of(v, "command_status")?),
    };

    let mut body = obj.get("body").cloned().unwrap_or(Value::Null);
    let mut tlv_list = Value::Null;
    if let Value::Object(fields) = &mut body {
        for key in INFO_BODY {
            fields.remove(*key);
        }
        tlv_list = fields.remove("tlvs").unwrap_or(Value::Null);
    }
    let body = typed_body(name, body)?;

    let tlv_bytes = match tlv_list {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.extend(tlv_entry_bytes(item, &format!("body.tlvs[{i}]"))?);
            }
            out
        }
        other => {
            return Err(field(
                "body.tlvs",
                format!("{other} is not a list of {{\"tag\": ..., \"value\": ...}}"),
            ))
        }
    };
    let mut body = body;
    if !tlv_bytes.is_empty() {
        let Some(tlvs) = body.tlvs_mut() else {
            return Err(field(
                "body.tlvs",
                format!("{name} takes no optional parameters"),
            ));
        };
        // Checked as a decoder would check them, and kept byte for byte.
        *tlvs = Tlvs::from_bytes(&tlv_bytes)
            .map_err(|kind| field("body.tlvs", kind.to_string()))?
            .into_owned();
    }

    let pdu = Pdu::with_status(sequence_number, command_status, body);
    let bytes = pdu.to_bytes().map_err(Fault::Encode)?;
    let decoded = Pdu::decode(&bytes).map_err(Fault::Reencode)?;
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let output = pdu_json(&decoded, len)?;
    check_informational(input, &output)?;
    Ok(bytes)
}

/// The typed body of command `name` from its JSON (smpp's adjacently tagged serde shape).
fn typed_body(name: &str, body: Value) -> Result<Body<'static>, Fault> {
    if body.is_null() {
        // A header-only command takes no "body"; a response sent header-only has null.
        if let Ok(body) = serde_json::from_value::<Body<'static>>(json!({ "command_id": name })) {
            return Ok(body);
        }
    }
    let tagged = json!({ "command_id": name, "body": body });
    deserialize(tagged, "")
}

/// Checks each informational field the input gave against the encoded PDU's.
fn check_informational(input: &Value, output: &Value) -> Result<(), Fault> {
    fn check(input: &Value, output: &Value, keys: &[&str], prefix: &str) -> Result<(), Fault> {
        for key in keys {
            let Some(given) = input.get(*key) else {
                continue;
            };
            let actual = output.get(*key).unwrap_or(&Value::Null);
            if given != actual {
                let name = if prefix.is_empty() {
                    (*key).to_owned()
                } else {
                    format!("{prefix}.{key}")
                };
                let actual = if actual.is_null() {
                    "has none".to_owned()
                } else {
                    format!("has {actual}")
                };
                return Err(field(
                    name,
                    format!(
                        "is {given} but the encoded PDU {actual}; the field is informational: \
                         correct it or leave it out"
                    ),
                ));
            }
        }
        Ok(())
    }
    check(input, output, INFO_TOP, "")?;
    let (Some(body_in), Some(body_out)) = (input.get("body"), output.get("body")) else {
        return Ok(());
    };
    check(body_in, body_out, INFO_BODY, "body")?;
    if let (Some(Value::Array(tlvs_in)), Some(Value::Array(tlvs_out))) =
        (body_in.get("tlvs"), body_out.get("tlvs"))
    {
        for (i, (a, b)) in tlvs_in.iter().zip(tlvs_out).enumerate() {
            check(a, b, INFO_TLV, &format!("body.tlvs[{i}]"))?;
        }
    }
    Ok(())
}

/// Keys an optional parameter's JSON may have.
const TLV_KEYS: &[&str] = &["tag", "value", "hex", "nul"];

/// The wire octets of one optional parameter from its JSON.
fn tlv_entry_bytes(entry: &Value, at: &str) -> Result<Vec<u8>, Fault> {
    let Some(m) = entry.as_object() else {
        return Err(field(at, "expected {\"tag\": ..., \"value\": ...}"));
    };
    if let Some(key) = m
        .keys()
        .find(|k| !TLV_KEYS.contains(&k.as_str()) && !INFO_TLV.contains(&k.as_str()))
    {
        return Err(field(
            format!("{at}.{key}"),
            "unknown field; expected tag, value, hex or nul",
        ));
    }
    let tag_value = m
        .get("tag")
        .ok_or_else(|| field(format!("{at}.tag"), "missing"))?;
    let value = m.get("value").cloned().unwrap_or(Value::Null);
    if tag_value == "other" {
        // smpp's own shape for an unknown tag: {"tag": "other", "value": {"tag": n, "value": ...}}.
        let tlv: Tlv<'static> = deserialize(json!({ "tag": "other", "value": value }), at)?;
        return match tlv {
            Tlv::Other { tag, value } => raw_entry(Tag(tag), value.as_bytes(), at),
            _ => Err(field(
                format!("{at}.value"),
                "expected {\"tag\": n, \"value\": ...}",
            )),
        };
    }
    let tag = parse_tag(tag_value).ok_or_else(|| {
        field(
            format!("{at}.tag"),
            format!("{tag_value} is not a tag name of section 5.3.2, \"0xNNNN\" or 0 to 65535"),
        )
    })?;
    if let Some(hex) = m.get("hex") {
        if m.contains_key("value") {
            return Err(field(at, "give value or hex, not both"));
        }
        let bytes = hex
            .as_str()
            .ok_or_else(|| field(format!("{at}.hex"), "expected a string of hex digits"))
            .and_then(|h| {
                from_hex(h).map_err(|i| field(format!("{at}.hex"), format!("bad hex digit at {i}")))
            })?;
        return raw_entry(tag, &bytes, at);
    }
    let Some(name) = tag.name() else {
        let octets: smpp::Octets<'static> = deserialize(value, &format!("{at}.value"))?;
        return raw_entry(tag, octets.as_bytes(), at);
    };
    let octets_len = value_octets(&value).map(|o| o.len());
    let tlv: Tlv<'static> = deserialize(json!({ "tag": name, "value": value }), at)?;
    let mut bytes = Tlvs::new()
        .with(tlv)
        .map_err(Fault::Encode)?
        .as_bytes()
        .to_vec();
    match m.get("nul") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            // Only where the encoder added a NUL to a C-Octet String value.
            let added = octets_len.is_some_and(|n| bytes.len() == 4 + n + 1);
            if !added || bytes.last() != Some(&0) {
                return Err(field(
                    format!("{at}.nul"),
                    format!("{name} is not a C-Octet String; nul applies to those only"),
                ));
            }
            bytes.pop();
            let len = ((bytes.len() - 4) as u16).to_be_bytes();
            if let Some(l) = bytes.get_mut(2..4) {
                l.copy_from_slice(&len);
            }
        }
        Some(other) => {
            return Err(field(
                format!("{at}.nul"),
                format!("{other} is not a boolean"),
            ))
        }
    }
    Ok(bytes)
}

fn parse_tag(value: &Value) -> Option<Tag> {
    match value {
        Value::String(s) => match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u16::from_str_radix(hex, 16).ok().map(Tag),
            None => Tag::from_name(s),
        },
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()).map(Tag),
        _ => None,
    }
}

fn raw_entry(tag: Tag, value: &[u8], at: &str) -> Result<Vec<u8>, Fault> {
    if value.len() > u16::MAX as usize {
        return Err(field(
            at,
            format!("{} octets where a TLV holds at most 65535", value.len()),
        ));
    }
    Ok(raw_tlv_bytes(tag.0, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp::pdu::{
        AlertNotification, Bind, BindResp, CancelSm, DataSm, DestAddress, Outbind, QuerySm,
        QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, UnsuccessSme,
    };
    use smpp::tlv::NetworkErrorCode;
    use smpp::Octets;

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
            Pdu::new(4, Body::DeliverSm(sm)),
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
            Pdu::new(6, Body::DataSmResp(Some(SubmitSmResp::default()))),
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

    #[test]
    fn every_known_tag_name_is_the_serde_variant_name() {
        for &tag in Tag::KNOWN {
            let name = tag.name().expect("named");
            let err = serde_json::from_value::<Tlv<'static>>(json!({"tag": name, "value": []}))
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert!(!err.contains("unknown variant"), "{name}: {err}");
        }
    }

    #[test]
    fn receipt_tlvs_and_payload_text_are_shown() {
        let dsm = SubmitSm {
            esm_class: 0x04,
            tlvs: tlvs(vec![
                Tlv::MessageState(5),
                Tlv::MessagePayload(Octets::from("id:1 stat:UNDELIV")),
            ]),
            ..Default::default()
        };
        let pdu = Pdu::new(3, Body::DeliverSm(dsm));
        let bytes = pdu.to_bytes().expect("encodes");
        let json = pdu_json(&pdu, bytes.len() as u32).expect("json");
        let list = &json["body"]["tlvs"];
        assert_eq!(list[0]["value_name"], "UNDELIVERABLE");
        assert_eq!(list[1]["text"], "id:1 stat:UNDELIV");
        assert_eq!(json["body"]["sm_length"], 0);
    }

    #[test]
    fn informational_fields_are_checked_on_encode() {
        let bad = r#"{"command_length": 17, "command_id": "enquire_link", "sequence_number": 1}"#;
        let err = encode_all(bad, |_| Ok(())).expect_err("wrong length");
        assert!(err.to_string().contains("field command_length"), "{err}");
        let good = r#"{"command_length": 16, "command_id": "enquire_link", "sequence_number": 1,
                       "command_status_name": "ESME_ROK"}"#;
        assert!(encode_all(good, |_| Ok(())).is_ok());
    }

    #[test]
    fn json_errors_name_the_pdu_line_and_field() {
        let text = "{\"command_id\": \"enquire_link\", \"sequence_number\": 1}\n\n  {\"command_id\": \"submit_sm\", \"sequence_number\": 2, \"body\": {\"esm_class\": 300}}";
        let err = encode_all(text, |_| Ok(())).expect_err("esm_class too big");
        let msg = err.to_string();
        assert!(
            msg.starts_with("PDU 2 (JSON at line 3): field body.esm_class"),
            "{msg}"
        );
        assert_eq!(err.exit_code(), super::super::EXIT_BAD_INPUT);
    }
}
