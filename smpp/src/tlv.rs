//! Optional parameters (section 5.3): every tag of section 5.3.2 typed, unknown tags kept.
//!
//! A PDU keeps its optional part as the raw octets it arrived in ([`Tlvs`]), checked once at
//! decode: every TLV header fits, no length runs past the body, and each known tag has a
//! length its definition allows. Reading a value walks the checked octets, so decoding makes
//! no allocation and re-encoding gives back the very same bytes, unknown tags in their place.

use crate::error::{EncodeError, FieldError, FieldErrorKind, PResult};
use crate::octets::Octets;
use crate::pdu::fields::{Field, Writer};
use bytes::BufMut;
use std::borrow::Cow;
use std::fmt;

/// A TLV tag (section 5.3.1). A newtype so that unknown and vendor tags (0x1400–0x3FFF) are
/// kept as they came.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u16);

/// How a known tag's value is laid out, which decides the lengths it may have.
#[derive(Clone, Copy)]
enum Shape {
    /// An Integer of 1, 2 or 4 octets.
    Int(u16),
    /// A C-Octet String of 1..=max octets, NUL included. Decoding also accepts one sent
    /// without its NUL (a common SMSC habit); encoding always writes the NUL.
    CStr(u16),
    /// An Octet String of min..=max octets.
    Octets(u16, u16),
    /// network_error_code: network type (1 octet) and error code (2 octets).
    NetworkErrorCode,
    /// No value at all (alert_on_message_delivery).
    Empty,
}

macro_rules! tlvs {
    ($( $(#[$doc:meta])* $variant:ident = $tag:expr, $name:literal, $shape:ident $(($($arg:expr),*))?, $ty:ty; )*) => {
        impl Tag {
            $(
                #[doc = concat!("`", $name, "`")]
                #[allow(non_upper_case_globals)]
                pub const $variant: Tag = Tag($tag);
            )*

            /// Every tag section 5.3.2 defines.
            pub const KNOWN: &'static [Tag] = &[$(Tag($tag),)*];

            /// The specification's name of the tag, or `None` for an unknown tag.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $tag => Some($name), )*
                    _ => None,
                }
            }

            /// The tag of a specification name such as `"message_payload"`.
            pub fn from_name(name: &str) -> Option<Tag> {
                match name {
                    $( $name => Some(Tag($tag)), )*
                    _ => None,
                }
            }

            const fn shape(self) -> Option<Shape> {
                match self.0 {
                    $( $tag => Some(Shape::$shape $(($($arg),*))?), )*
                    _ => None,
                }
            }
        }

        /// One optional parameter with its value typed by its tag (section 5.3.2).
        ///
        /// C-Octet String values are given without their NUL.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(tag = "tag", content = "value", rename_all = "snake_case"))]
        pub enum Tlv<'a> {
            $( $(#[$doc])* $variant($ty), )*
            /// A tag section 5.3.2 does not define, kept raw.
            Other {
                /// The tag.
                tag: u16,
                /// The value octets.
                value: Octets<'a>,
            },
        }

        impl<'a> Tlv<'a> {
            /// The tag of this parameter.
            pub fn tag(&self) -> Tag {
                match self {
                    $( Tlv::$variant(_) => Tag($tag), )*
                    Tlv::Other { tag, .. } => Tag(*tag),
                }
            }

            /// Types a value that [`Tlvs`] already checked against its tag's shape.
            fn from_checked(tag: Tag, value: &'a [u8]) -> Tlv<'a> {
                match tag.0 {
                    $( $tag => Tlv::$variant(FromValue::from_value(value)), )*
                    _ => Tlv::Other { tag: tag.0, value: Octets::borrowed(value) },
                }
            }

            /// Writes tag, length and value.
            fn write_value(&self, out: &mut Vec<u8>) {
                match self {
                    $( Tlv::$variant(v) => ToValue::put(v, Tag($tag), out), )*
                    Tlv::Other { tag, value } => ToValue::put(value, Tag(*tag), out),
                }
            }

            /// Detaches the value from the frame it was borrowed from.
            pub fn into_owned(self) -> Tlv<'static> {
                match self {
                    $( Tlv::$variant(v) => Tlv::$variant(ToValue::owned(v)), )*
                    Tlv::Other { tag, value } => Tlv::Other { tag, value: value.into_owned() },
                }
            }
        }
    };
}

tlvs! {
    /// dest_addr_subunit (5.3.2.1).
    DestAddrSubunit = 0x0005, "dest_addr_subunit", Int(1), u8;
    /// dest_network_type (5.3.2.3).
    DestNetworkType = 0x0006, "dest_network_type", Int(1), u8;
    /// dest_bearer_type (5.3.2.5).
    DestBearerType = 0x0007, "dest_bearer_type", Int(1), u8;
    /// dest_telematics_id (5.3.2.7).
    DestTelematicsId = 0x0008, "dest_telematics_id", Int(2), u16;
    /// source_addr_subunit (5.3.2.2).
    SourceAddrSubunit = 0x000D, "source_addr_subunit", Int(1), u8;
    /// source_network_type (5.3.2.4).
    SourceNetworkType = 0x000E, "source_network_type", Int(1), u8;
    /// source_bearer_type (5.3.2.6).
    SourceBearerType = 0x000F, "source_bearer_type", Int(1), u8;
    /// source_telematics_id (5.3.2.8).
    SourceTelematicsId = 0x0010, "source_telematics_id", Int(1), u8;
    /// qos_time_to_live (5.3.2.9), seconds.
    QosTimeToLive = 0x0017, "qos_time_to_live", Int(4), u32;
    /// payload_type (5.3.2.10).
    PayloadType = 0x0019, "payload_type", Int(1), u8;
    /// additional_status_info_text (5.3.2.11).
    AdditionalStatusInfoText = 0x001D, "additional_status_info_text", CStr(256), Octets<'a>;
    /// receipted_message_id (5.3.2.12).
    ReceiptedMessageId = 0x001E, "receipted_message_id", CStr(65), Octets<'a>;
    /// ms_msg_wait_facilities (5.3.2.13).
    MsMsgWaitFacilities = 0x0030, "ms_msg_wait_facilities", Int(1), u8;
    /// privacy_indicator (5.3.2.14).
    PrivacyIndicator = 0x0201, "privacy_indicator", Int(1), u8;
    /// source_subaddress (5.3.2.15).
    SourceSubaddress = 0x0202, "source_subaddress", Octets(2, 23), Octets<'a>;
    /// dest_subaddress (5.3.2.16).
    DestSubaddress = 0x0203, "dest_subaddress", Octets(2, 23), Octets<'a>;
    /// user_message_reference (5.3.2.17).
    UserMessageReference = 0x0204, "user_message_reference", Int(2), u16;
    /// user_response_code (5.3.2.18).
    UserResponseCode = 0x0205, "user_response_code", Int(1), u8;
    /// source_port (5.3.2.20).
    SourcePort = 0x020A, "source_port", Int(2), u16;
    /// destination_port (5.3.2.21).
    DestinationPort = 0x020B, "destination_port", Int(2), u16;
    /// sar_msg_ref_num (5.3.2.22).
    SarMsgRefNum = 0x020C, "sar_msg_ref_num", Int(2), u16;
    /// language_indicator (5.3.2.19).
    LanguageIndicator = 0x020D, "language_indicator", Int(1), u8;
    /// sar_total_segments (5.3.2.23).
    SarTotalSegments = 0x020E, "sar_total_segments", Int(1), u8;
    /// sar_segment_seqnum (5.3.2.24).
    SarSegmentSeqnum = 0x020F, "sar_segment_seqnum", Int(1), u8;
    /// sc_interface_version (5.3.2.25).
    ScInterfaceVersion = 0x0210, "sc_interface_version", Int(1), u8;
    /// callback_num_pres_ind (5.3.2.37).
    CallbackNumPresInd = 0x0302, "callback_num_pres_ind", Int(1), u8;
    /// callback_num_atag (5.3.2.38).
    CallbackNumAtag = 0x0303, "callback_num_atag", Octets(0, 65), Octets<'a>;
    /// number_of_messages (5.3.2.39).
    NumberOfMessages = 0x0304, "number_of_messages", Int(1), u8;
    /// callback_num (5.3.2.36).
    CallbackNum = 0x0381, "callback_num", Octets(4, 19), Octets<'a>;
    /// dpf_result (5.3.2.28).
    DpfResult = 0x0420, "dpf_result", Int(1), u8;
    /// set_dpf (5.3.2.29).
    SetDpf = 0x0421, "set_dpf", Int(1), u8;
    /// ms_availability_status (5.3.2.30).
    MsAvailabilityStatus = 0x0422, "ms_availability_status", Int(1), u8;
    /// network_error_code (5.3.2.31).
    NetworkErrorCode = 0x0423, "network_error_code", NetworkErrorCode, NetworkErrorCode;
    /// message_payload (5.3.2.32).
    MessagePayload = 0x0424, "message_payload", Octets(0, 0xFFFF), Octets<'a>;
    /// delivery_failure_reason (5.3.2.33).
    DeliveryFailureReason = 0x0425, "delivery_failure_reason", Int(1), u8;
    /// more_messages_to_send (5.3.2.34).
    MoreMessagesToSend = 0x0426, "more_messages_to_send", Int(1), u8;
    /// message_state (5.3.2.35).
    MessageState = 0x0427, "message_state", Int(1), u8;
    /// ussd_service_op (5.3.2.44).
    UssdServiceOp = 0x0501, "ussd_service_op", Int(1), u8;
    /// display_time (5.3.2.26).
    DisplayTime = 0x1201, "display_time", Int(1), u8;
    /// sms_signal (5.3.2.40).
    SmsSignal = 0x1203, "sms_signal", Int(2), u16;
    /// ms_validity (5.3.2.27).
    MsValidity = 0x1204, "ms_validity", Int(1), u8;
    /// alert_on_message_delivery (5.3.2.41): present or absent, no value.
    AlertOnMessageDelivery = 0x130C, "alert_on_message_delivery", Empty, ();
    /// its_reply_type (5.3.2.42).
    ItsReplyType = 0x1380, "its_reply_type", Int(1), u8;
    /// its_session_info (5.3.2.43).
    ItsSessionInfo = 0x1383, "its_session_info", Octets(2, 2), Octets<'a>;
}

/// The value of the `network_error_code` TLV (section 5.3.2.31): a network type octet and
/// a 2-octet, big-endian, technology-specific error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NetworkErrorCode {
    /// Network type: [`NetworkErrorCode::ANSI_136`], [`NetworkErrorCode::IS_95`],
    /// [`NetworkErrorCode::GSM`]; 4 and all others are reserved in SMPP 3.4.
    pub network_type: u8,
    /// The network's error code.
    pub error_code: u16,
}

impl NetworkErrorCode {
    /// Length of the TLV value in octets.
    pub const LEN: usize = 3;
    /// Network type 1: ANSI-136.
    pub const ANSI_136: u8 = 1;
    /// Network type 2: IS-95.
    pub const IS_95: u8 = 2;
    /// Network type 3: GSM.
    pub const GSM: u8 = 3;

    /// Reads the 3-octet TLV value (network type, then the error code, most significant
    /// octet first).
    ///
    /// # Errors
    ///
    /// [`NetworkErrorCodeLength`] when `value` is not exactly 3 octets.
    pub fn parse(value: &[u8]) -> Result<NetworkErrorCode, NetworkErrorCodeLength> {
        match *value {
            [network_type, hi, lo] => Ok(NetworkErrorCode {
                network_type,
                error_code: u16::from_be_bytes([hi, lo]),
            }),
            _ => Err(NetworkErrorCodeLength(value.len())),
        }
    }

    /// The 3-octet TLV value.
    pub fn to_bytes(&self) -> [u8; 3] {
        let [hi, lo] = self.error_code.to_be_bytes();
        [self.network_type, hi, lo]
    }
}

/// A network_error_code value that is not 3 octets long (section 5.3.2.31); holds the
/// length it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("network_error_code value must be 3 octets (section 5.3.2.31), got {0}")]
pub struct NetworkErrorCodeLength(pub usize);

/// Builds a typed value from octets whose length the shape check already accepted.
trait FromValue<'a> {
    fn from_value(v: &'a [u8]) -> Self;
}

/// Writes a typed value as a TLV.
trait ToValue {
    type Owned;
    fn put(&self, tag: Tag, out: &mut Vec<u8>);
    fn owned(self) -> Self::Owned;
}

impl FromValue<'_> for u8 {
    fn from_value(v: &[u8]) -> Self {
        v.first().copied().unwrap_or(0)
    }
}
impl FromValue<'_> for u16 {
    fn from_value(v: &[u8]) -> Self {
        match v {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => 0,
        }
    }
}
impl FromValue<'_> for u32 {
    fn from_value(v: &[u8]) -> Self {
        match v {
            [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
            _ => 0,
        }
    }
}
impl<'a> FromValue<'a> for Octets<'a> {
    /// C-Octet String values lose their NUL here; other octet strings never end in one that
    /// matters to the shapes that use this (checked at decode).
    fn from_value(v: &'a [u8]) -> Self {
        Octets::borrowed(v)
    }
}
impl FromValue<'_> for NetworkErrorCode {
    fn from_value(v: &[u8]) -> Self {
        NetworkErrorCode::parse(v).unwrap_or(NetworkErrorCode {
            network_type: 0,
            error_code: 0,
        })
    }
}
impl FromValue<'_> for () {
    fn from_value(_: &[u8]) -> Self {}
}

fn put_header(out: &mut Vec<u8>, tag: Tag, len: usize) {
    out.put_u16(tag.0);
    out.put_u16(len as u16);
}

impl ToValue for u8 {
    type Owned = u8;
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        put_header(out, tag, 1);
        out.put_u8(*self);
    }
    fn owned(self) -> u8 {
        self
    }
}
impl ToValue for u16 {
    type Owned = u16;
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        put_header(out, tag, 2);
        out.put_u16(*self);
    }
    fn owned(self) -> u16 {
        self
    }
}
impl ToValue for u32 {
    type Owned = u32;
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        put_header(out, tag, 4);
        out.put_u32(*self);
    }
    fn owned(self) -> u32 {
        self
    }
}
impl ToValue for Octets<'_> {
    type Owned = Octets<'static>;
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        let nul = matches!(tag.shape(), Some(Shape::CStr(_)));
        put_header(out, tag, self.len() + usize::from(nul));
        out.put_slice(self.as_bytes());
        if nul {
            out.put_u8(0);
        }
    }
    fn owned(self) -> Octets<'static> {
        self.into_owned()
    }
}
impl ToValue for NetworkErrorCode {
    type Owned = NetworkErrorCode;
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        put_header(out, tag, NetworkErrorCode::LEN);
        out.put_slice(&self.to_bytes());
    }
    fn owned(self) -> NetworkErrorCode {
        self
    }
}
impl ToValue for () {
    type Owned = ();
    fn put(&self, tag: Tag, out: &mut Vec<u8>) {
        put_header(out, tag, 0);
    }
    fn owned(self) {}
}

impl Tag {
    /// Checks a value length against the tag's definition; unknown tags take any length.
    fn check_len(self, len: usize) -> Result<(), &'static str> {
        let ok = match self.shape() {
            None => true,
            Some(Shape::Int(n)) => len == n as usize,
            Some(Shape::CStr(max)) => (1..=max as usize).contains(&len),
            Some(Shape::Octets(min, max)) => (min as usize..=max as usize).contains(&len),
            Some(Shape::NetworkErrorCode) => len == NetworkErrorCode::LEN,
            Some(Shape::Empty) => len == 0,
        };
        if ok {
            return Ok(());
        }
        Err(match self.shape() {
            Some(Shape::Int(1)) => "exactly 1",
            Some(Shape::Int(2)) | Some(Shape::Octets(2, 2)) => "exactly 2",
            Some(Shape::Int(_)) => "exactly 4",
            Some(Shape::CStr(65)) => "1 to 65",
            Some(Shape::CStr(_)) => "1 to 256",
            Some(Shape::Octets(2, 23)) => "2 to 23",
            Some(Shape::Octets(4, 19)) => "4 to 19",
            Some(Shape::Octets(_, 65)) => "0 to 65",
            Some(Shape::Octets(_, _)) => "0 to 65535",
            Some(Shape::NetworkErrorCode) => "exactly 3",
            Some(Shape::Empty) | None => "exactly 0",
        })
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Tag(0x{:04x})", self.0),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

/// The optional part of a PDU: checked TLV octets, in the order they came.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Tlvs<'a> {
    raw: Cow<'a, [u8]>,
}

/// One parameter as it lies in the body: its tag and its value octets (with a C-Octet
/// String's NUL, if it was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value octets.
    pub value: &'a [u8],
}

impl<'a> RawTlv<'a> {
    /// The value typed by its tag; C-Octet String values without their NUL.
    pub fn typed(&self) -> Tlv<'a> {
        let value = match self.tag.shape() {
            Some(Shape::CStr(_)) => self.value.strip_suffix(&[0]).unwrap_or(self.value),
            _ => self.value,
        };
        Tlv::from_checked(self.tag, value)
    }
}

impl<'a> Tlvs<'a> {
    /// No optional parameters.
    pub const fn new() -> Self {
        Tlvs {
            raw: Cow::Borrowed(&[]),
        }
    }

    /// Checks `bytes` as a run of TLVs (tag, length, value) and keeps them as they are, in
    /// their order: the way to carry optional parameters that came from elsewhere (a
    /// stored PDU, an operator's hex) without retyping them.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Tlvs<'a>, FieldErrorKind> {
        match Tlvs::parse(bytes) {
            Ok((_, tlvs)) => Ok(tlvs),
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.kind),
            Err(nom::Err::Incomplete(_)) => Err(FieldErrorKind::TlvTruncated {
                available: bytes.len(),
            }),
        }
    }

    /// Parses and checks the rest of a body as TLVs (section 3.2.4: tag, length, value).
    pub(crate) fn parse(input: &'a [u8]) -> PResult<'a, Tlvs<'a>> {
        let mut rest = input;
        while !rest.is_empty() {
            let Some(&[t0, t1, l0, l1]) = rest.get(..4) else {
                return Err(fail(
                    "tlv",
                    FieldErrorKind::TlvTruncated {
                        available: rest.len(),
                    },
                    rest.len(),
                ));
            };
            let tag = Tag(u16::from_be_bytes([t0, t1]));
            let length = u16::from_be_bytes([l0, l1]);
            let value_len = length as usize;
            if rest.len() - 4 < value_len {
                return Err(fail(
                    "tlv",
                    FieldErrorKind::TlvLengthPastBody {
                        tag: tag.0,
                        length,
                        available: rest.len() - 4,
                    },
                    rest.len(),
                ));
            }
            if let Err(allowed) = tag.check_len(value_len) {
                return Err(fail(
                    tag.name().unwrap_or("tlv"),
                    FieldErrorKind::TlvBadLength {
                        tag: tag.0,
                        length,
                        allowed,
                    },
                    rest.len(),
                ));
            }
            rest = &rest[4 + value_len..];
        }
        Ok((
            rest,
            Tlvs {
                raw: Cow::Borrowed(input),
            },
        ))
    }

    /// The TLVs as they lie on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.raw_iter().count()
    }

    /// The parameters as they lie in the body, in order.
    pub fn raw_iter(&self) -> RawIter<'_> {
        RawIter { rest: &self.raw }
    }

    /// The parameters typed by their tags, in order.
    pub fn iter(&self) -> impl Iterator<Item = Tlv<'_>> {
        self.raw_iter().map(|raw| raw.typed())
    }

    /// The first parameter with `tag`.
    pub fn get(&self, tag: Tag) -> Option<Tlv<'_>> {
        self.raw_iter()
            .find(|raw| raw.tag == tag)
            .map(|raw| raw.typed())
    }

    /// Appends a parameter after checking its value against its tag's definition.
    pub fn push(&mut self, tlv: Tlv<'_>) -> Result<(), EncodeError> {
        let mut encoded = Vec::with_capacity(8);
        tlv.write_value(&mut encoded);
        let value_len = encoded.len() - 4;
        if value_len > u16::MAX as usize {
            return Err(EncodeError::TooLong {
                field: tlv.tag().name().unwrap_or("tlv"),
                len: value_len,
                max: u16::MAX as usize,
            });
        }
        if tlv.tag().check_len(value_len).is_err() {
            return Err(EncodeError::Invalid {
                field: tlv.tag().name().unwrap_or("tlv"),
                reason: "value length not allowed by section 5.3.2",
            });
        }
        if let (Some(Shape::CStr(_)), Some(value)) = (tlv.tag().shape(), encoded.get(4..)) {
            // The value ends in the NUL written above; any earlier NUL ends it early.
            if value[..value.len().saturating_sub(1)].contains(&0) {
                return Err(EncodeError::EmbeddedNul {
                    field: tlv.tag().name().unwrap_or("tlv"),
                });
            }
        }
        if let Tlv::Other { tag, .. } = tlv {
            if Tag(tag).shape().is_some() {
                return Err(EncodeError::Invalid {
                    field: "tlv",
                    reason: "a known tag must use its typed variant",
                });
            }
        }
        // The length was written before the value was known to fit in 16 bits.
        let len = (value_len as u16).to_be_bytes();
        encoded[2] = len[0];
        encoded[3] = len[1];
        self.raw.to_mut().extend_from_slice(&encoded);
        Ok(())
    }

    /// Builder form of [`Tlvs::push`].
    pub fn with(mut self, tlv: Tlv<'_>) -> Result<Self, EncodeError> {
        self.push(tlv)?;
        Ok(self)
    }

    /// Detaches from the frame the octets were borrowed from.
    pub fn into_owned(self) -> Tlvs<'static> {
        Tlvs {
            raw: Cow::Owned(self.raw.into_owned()),
        }
    }

    /// The value octets of the first parameter with `tag`, as they lie in the body.
    ///
    /// The typed accessors below read through this rather than [`Tlvs::get`]: the length
    /// of a known tag's value was checked when the octets were parsed or pushed, so the
    /// value can be read in place without building (and dropping) a [`Tlv`].
    #[inline]
    fn value_of(&self, tag: Tag) -> Option<&[u8]> {
        self.raw_iter()
            .find(|raw| raw.tag == tag)
            .map(|raw| raw.value)
    }

    /// receipted_message_id, without its NUL.
    pub fn receipted_message_id(&self) -> Option<&[u8]> {
        let value = self.value_of(Tag::ReceiptedMessageId)?;
        Some(value.strip_suffix(&[0]).unwrap_or(value))
    }

    /// message_state (section 5.2.28 values).
    pub fn message_state(&self) -> Option<u8> {
        self.value_of(Tag::MessageState).map(u8::from_value)
    }

    /// network_error_code.
    pub fn network_error_code(&self) -> Option<NetworkErrorCode> {
        self.value_of(Tag::NetworkErrorCode)
            .map(NetworkErrorCode::from_value)
    }

    /// message_payload.
    pub fn message_payload(&self) -> Option<&[u8]> {
        self.value_of(Tag::MessagePayload)
    }

    /// The SAR triple (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum), when all
    /// three are present (section 5.3.2.22: they go together).
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        let (mut r, mut t, mut s) = (None, None, None);
        for tlv in self.iter() {
            match tlv {
                Tlv::SarMsgRefNum(v) => r = Some(v),
                Tlv::SarTotalSegments(v) => t = Some(v),
                Tlv::SarSegmentSeqnum(v) => s = Some(v),
                _ => {}
            }
        }
        Some((r?, t?, s?))
    }

    /// user_message_reference.
    pub fn user_message_reference(&self) -> Option<u16> {
        self.value_of(Tag::UserMessageReference)
            .map(u16::from_value)
    }

    /// sc_interface_version.
    pub fn sc_interface_version(&self) -> Option<u8> {
        self.value_of(Tag::ScInterfaceVersion).map(u8::from_value)
    }
}

/// The optional part of a body, always its last field: the rest of the body, checked as
/// TLVs and kept as it lies.
impl<'a> Field<'a> for Tlvs<'a> {
    type Owned = Tlvs<'static>;

    #[inline(always)]
    fn parse(input: &'a [u8], _name: &'static str) -> PResult<'a, Tlvs<'a>> {
        Tlvs::parse(input)
    }

    #[inline(always)]
    fn encoded_len(&self) -> usize {
        self.as_bytes().len()
    }

    #[inline(always)]
    fn write<B: BufMut>(&self, out: &mut Writer<'_, B>) {
        out.octets(self.as_bytes());
    }

    #[inline(always)]
    fn into_owned(self) -> Tlvs<'static> {
        Tlvs::into_owned(self)
    }

    #[inline(always)]
    fn tlvs(&self) -> Option<&Tlvs<'a>> {
        Some(self)
    }

    #[inline(always)]
    fn tlvs_mut(&mut self) -> Option<&mut Tlvs<'a>> {
        Some(self)
    }
}

fn fail(field: &'static str, kind: FieldErrorKind, remaining: usize) -> nom::Err<FieldError> {
    nom::Err::Error(FieldError::new(field, kind, remaining))
}

/// Iterator over checked TLV octets.
#[derive(Debug, Clone)]
pub struct RawIter<'t> {
    rest: &'t [u8],
}

impl<'t> Iterator for RawIter<'t> {
    type Item = RawTlv<'t>;

    #[inline]
    fn next(&mut self) -> Option<RawTlv<'t>> {
        let (&[t0, t1, l0, l1], tail) = self.rest.split_first_chunk::<4>()?;
        let len = u16::from_be_bytes([l0, l1]) as usize;
        let value = tail.get(..len)?;
        self.rest = &tail[len..];
        Some(RawTlv {
            tag: Tag(u16::from_be_bytes([t0, t1])),
            value,
        })
    }
}

impl fmt::Debug for Tlvs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> FromIterator<Tlv<'a>> for Result<Tlvs<'static>, EncodeError> {
    fn from_iter<I: IntoIterator<Item = Tlv<'a>>>(iter: I) -> Self {
        let mut tlvs = Tlvs::new();
        for tlv in iter {
            tlvs.push(tlv)?;
        }
        Ok(tlvs.into_owned())
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::{Tlv, Tlvs};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for Tlvs<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.iter())
        }
    }

    impl<'de, 'a> Deserialize<'de> for Tlvs<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let list = Vec::<Tlv<'static>>::deserialize(d)?;
            let mut tlvs = Tlvs::new();
            for tlv in list {
                tlvs.push(tlv).map_err(serde::de::Error::custom)?;
            }
            Ok(tlvs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Tlvs<'_>, FieldErrorKind> {
        Tlvs::parse(bytes).map(|(_, t)| t).map_err(|e| match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e.kind,
            nom::Err::Incomplete(_) => FieldErrorKind::Invalid("incomplete"),
        })
    }

    #[test]
    fn known_and_unknown_tags_keep_their_order_and_bytes() {
        let bytes = [
            0x04, 0x27, 0x00, 0x01, 0x02, // message_state = DELIVERED
            0x14, 0x00, 0x00, 0x02, 0xab, 0xcd, // vendor tag 0x1400
            0x00, 0x1e, 0x00, 0x04, b'a', b'b', b'c', 0x00, // receipted_message_id "abc"
        ];
        let tlvs = parse(&bytes).expect("valid");
        assert_eq!(tlvs.as_bytes(), &bytes);
        let list: Vec<_> = tlvs.iter().collect();
        assert_eq!(list[0], Tlv::MessageState(2));
        assert_eq!(
            list[1],
            Tlv::Other {
                tag: 0x1400,
                value: Octets::from(&[0xab, 0xcd])
            }
        );
        assert_eq!(list[2], Tlv::ReceiptedMessageId(Octets::from("abc")));
        assert_eq!(tlvs.receipted_message_id(), Some(&b"abc"[..]));
        assert_eq!(tlvs.message_state(), Some(2));
    }

    #[test]
    fn receipted_message_id_without_nul_is_tolerated() {
        let bytes = [0x00, 0x1e, 0x00, 0x03, b'a', b'b', b'c'];
        let tlvs = parse(&bytes).expect("tolerated");
        assert_eq!(tlvs.receipted_message_id(), Some(&b"abc"[..]));
    }

    #[test]
    fn from_bytes_keeps_checked_bytes_and_refuses_bad_ones() {
        let bytes = [0x04, 0x27, 0x00, 0x01, 0x05, 0x14, 0x00, 0x00, 0x00];
        let tlvs = Tlvs::from_bytes(&bytes).expect("valid");
        assert_eq!(tlvs.as_bytes(), &bytes);
        assert_eq!(tlvs.message_state(), Some(5));
        assert_eq!(
            Tlvs::from_bytes(&[0x04, 0x27, 0x00, 0x02, 1]),
            Err(FieldErrorKind::TlvLengthPastBody {
                tag: 0x0427,
                length: 2,
                available: 1
            })
        );
    }

    #[test]
    fn truncated_tlv_header_is_an_error() {
        assert_eq!(
            parse(&[0x04, 0x27, 0x00]),
            Err(FieldErrorKind::TlvTruncated { available: 3 })
        );
    }

    #[test]
    fn tlv_length_past_the_body_is_an_error() {
        assert_eq!(
            parse(&[0x04, 0x24, 0x00, 0x05, 1, 2]),
            Err(FieldErrorKind::TlvLengthPastBody {
                tag: 0x0424,
                length: 5,
                available: 2
            })
        );
    }

    #[test]
    fn known_tag_with_wrong_length_is_an_error() {
        assert_eq!(
            parse(&[0x04, 0x27, 0x00, 0x02, 1, 2]),
            Err(FieldErrorKind::TlvBadLength {
                tag: 0x0427,
                length: 2,
                allowed: "exactly 1"
            })
        );
    }

    #[test]
    fn push_encodes_and_checks() {
        let mut tlvs = Tlvs::new();
        tlvs.push(Tlv::SarMsgRefNum(0x1234)).expect("ok");
        tlvs.push(Tlv::SarTotalSegments(3)).expect("ok");
        tlvs.push(Tlv::SarSegmentSeqnum(1)).expect("ok");
        tlvs.push(Tlv::ReceiptedMessageId(Octets::from("x1")))
            .expect("ok");
        assert_eq!(tlvs.sar(), Some((0x1234, 3, 1)));
        assert_eq!(tlvs.receipted_message_id(), Some(&b"x1"[..]));
        let reparsed = parse(tlvs.as_bytes()).expect("valid");
        assert_eq!(reparsed.iter().count(), 4);
        assert!(tlvs
            .push(Tlv::ReceiptedMessageId(Octets::from(vec![b'a'; 65])))
            .is_err());
        assert!(tlvs
            .push(Tlv::Other {
                tag: 0x0427,
                value: Octets::from(&[1])
            })
            .is_err());
    }

    #[test]
    fn every_known_tag_has_a_name_that_maps_back() {
        for &tag in Tag::KNOWN {
            let name = tag.name().expect("named");
            assert_eq!(Tag::from_name(name), Some(tag));
        }
        assert_eq!(Tag::KNOWN.len(), 44);
    }

    #[test]
    fn network_error_code() {
        let n = NetworkErrorCode::parse(&[3, 0x01, 0x02]);
        assert_eq!(
            n,
            Ok(NetworkErrorCode {
                network_type: NetworkErrorCode::GSM,
                error_code: 0x0102
            })
        );
        assert_eq!(n.map(|n| n.to_bytes()), Ok([3, 1, 2]));
        assert_eq!(
            NetworkErrorCode::parse(&[3, 0]),
            Err(NetworkErrorCodeLength(2))
        );
        assert_eq!(NetworkErrorCode::parse(&[]), Err(NetworkErrorCodeLength(0)));
        assert_eq!(
            NetworkErrorCode::parse(&[1, 2, 3, 4]),
            Err(NetworkErrorCodeLength(4))
        );
        assert!(NetworkErrorCodeLength(2)
            .to_string()
            .contains("network_error_code"));
    }

    proptest::proptest! {
        #[test]
        fn prop_network_error_code_round_trip(b in proptest::prelude::any::<[u8; 3]>()) {
            proptest::prop_assert_eq!(NetworkErrorCode::parse(&b).map(|n| n.to_bytes()), Ok(b));
        }

    }
}
