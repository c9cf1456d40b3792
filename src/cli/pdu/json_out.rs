//! PDU to JSON (`pdu decode`): `smpp`'s serde shape for the body, post-processed. The
//! header fields are spelled out (command_length, command_status_name), sm_length /
//! number_of_dests / no_unsuccess are shown, a text preview follows short_message (and a
//! message_payload TLV), and the optional parameters are written here from their wire octets
//! (see [`tlv_json`]) so that decode then encode gives back the very same bytes.

use super::super::text_preview::{self, Preview};
use super::super::CliError;
use serde_json::{Map, Value};
use smpp::octets::to_hex;
use smpp::pdu::Message;
use smpp::tlv::RawTlv;
use smpp::values::MessageState;
use smpp::{Body, DecodeError, Header, Pdu, Tlv, Tlvs};

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
pub(super) const INFO_TOP: &[&str] = &["command_length", "command_status_name"];
/// Informational fields of a body.
pub(super) const INFO_BODY: &[&str] = &[
    "sm_length",
    "number_of_dests",
    "no_unsuccess",
    "udh",
    "text_encoding",
    "text",
];
/// Informational fields of one optional parameter.
pub(super) const INFO_TLV: &[&str] = &["value_name", "udh", "text_encoding", "text"];

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
    let message = body.message();
    let mut out = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "short_message" => {
                let sm_length = match (body, &message) {
                    (_, Some(m)) => m.short_message.len(),
                    (Body::ReplaceSm(r), None) => r.short_message.len(),
                    _ => 0,
                };
                out.insert("sm_length".into(), sm_length.into());
                out.insert(key.clone(), value.clone());
                // replace_sm has none: its data_coding is the original message's, unknown
                // here.
                if let Some(m) = &message {
                    insert_preview(
                        &mut out,
                        text_preview::preview(m.esm_class, m.data_coding, m.short_message),
                    )?;
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

/// The JSON of a string of octets, as smpp's serde writes them.
fn octets_json(bytes: &[u8]) -> Result<Value, CliError> {
    serde_json::to_value(smpp::Octets::borrowed(bytes)).map_err(CliError::ToJson)
}

/// The octets of one TLV as it lies on the wire.
pub(super) fn raw_tlv_bytes(tag: u16, value: &[u8]) -> Vec<u8> {
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
fn tlv_json(raw: RawTlv<'_>, message: Option<&Message<'_>>) -> Result<Value, CliError> {
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
            if let Some(state) = MessageState::from_u8(state) {
                out.insert("value_name".into(), state.name().into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use smpp::pdu::DeliverSm;
    use smpp::Octets;

    #[test]
    fn receipt_tlvs_and_payload_text_are_shown() {
        let dsm = DeliverSm {
            esm_class: 0x04,
            tlvs: [
                Tlv::MessageState(5),
                Tlv::MessagePayload(Octets::from("id:1 stat:UNDELIV")),
            ]
            .into_iter()
            .collect::<Result<Tlvs<'static>, _>>()
            .expect("valid tlvs"),
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
}
