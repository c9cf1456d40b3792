//! JSON to PDU (`pdu encode`): the JSON `pdu decode` prints, read back into octets. The
//! optional parameters are rebuilt from their JSON entry by entry, byte for byte; every
//! informational field the input gives is checked against what the encoded PDU really is.

use super::super::CliError;
use super::json_out::{pdu_json, raw_tlv_bytes, INFO_BODY, INFO_TLV, INFO_TOP};
use serde_json::{json, Value};
use smpp::octets::from_hex;
use smpp::{Body, CommandId, CommandStatus, DecodeError, Pdu, Tag, Tlv, Tlvs};

/// Why one JSON PDU could not be encoded; [`encode_all`] adds which PDU and where.
#[derive(Debug)]
pub(super) enum Fault {
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
pub(super) fn encode_one(input: &Value) -> Result<Vec<u8>, Fault> {
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

/// The octets of an Octets JSON value (a string, or `{"hex": ...}`).
fn value_octets(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(m) => m.get("hex")?.as_str().and_then(|h| from_hex(h).ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(err.exit_code(), crate::cli::EXIT_BAD_INPUT);
    }
}
