//! Delivery receipts (Appendix B): the receipt text an SMSC puts in the `short_message` of a
//! `deliver_sm` or `data_sm`, parsed tolerantly and formatted strictly, together with the
//! values receipts are matched and classified by: `message_state` (section 5.2.28),
//! `network_error_code` (section 5.3.2.31) and message ids across the hex/decimal quirk.
//!
//! Appendix B calls the receipt format "SMSC vendor specific" and gives only "a typical
//! example". [`Receipt::parse`] therefore accepts what SMSCs are seen to send:
//!
//! * fields in any order, separated by runs of spaces, tabs, CR, LF or NUL;
//! * keys in any ASCII case (`id:`/`ID:`, `text:`/`Text:`); `submit date` and `done date`
//!   with any whitespace between the words (the specification's own example wraps a line
//!   there), or written `submit_date` / `done_date`;
//! * one space after the colon (`err: 0`) when the next word is not itself a `key:`;
//! * 10-digit (`YYMMDDhhmm`, Appendix B) and 12-digit (`YYMMDDhhmmss`) dates;
//! * `sub`/`dlvrd` with or without leading zeros; any `err` text (`0`, `000`, `0000`, `E12`);
//! * ids of any shape (decimal, hex, UUID), kept as the string received;
//! * a status word without its `stat:` key (`... done date:2301011200 DELIVRD err:000`);
//! * `text:` last, running to the end of the input as raw octets (spaces, colons and
//!   non-UTF-8 octets included, nothing trimmed).
//!
//! Nothing received is dropped: unknown keys, duplicates (the first occurrence wins), stray
//! words and values that do not parse (e.g. a 16-octet SMPP time as `done date`) are kept in
//! [`Receipt::extra`] under the key as received. Keys and values other than `text` are
//! converted to `String` lossily (invalid UTF-8 becomes U+FFFD).

use core::fmt;

use crate::time::{self, AbsoluteTime, TimeError, TimeField};

/// Most octets of the original message that a receipt's `text` carries (Appendix B,
/// Table B-1: "The first 20 characters of the short message", size 20 octets).
pub const RECEIPT_TEXT_MAX: usize = 20;

/// Why a delivery receipt or one of its values was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The input is empty or holds only separators.
    #[error("delivery receipt is empty (Appendix B)")]
    Empty,
    /// No `id:` field: the receipt cannot be tied to a submitted message.
    #[error("delivery receipt has no `id` field (Appendix B)")]
    MissingId,
    /// `id:` is present but has no value.
    #[error("delivery receipt `id` field is empty (Appendix B)")]
    EmptyId,
    /// Neither `stat` nor `err` is present, so the receipt reports no outcome.
    #[error("delivery receipt has neither a `stat` nor an `err` field (Appendix B)")]
    MissingStatus,
    /// A receipt date is neither 10 (`YYMMDDhhmm`) nor 12 (`YYMMDDhhmmss`) octets.
    #[error("delivery receipt date must be 10 digits YYMMDDhhmm or 12 digits YYMMDDhhmmss (Appendix B), got {0} octets")]
    DateLength(usize),
    /// A receipt date field is not a digit or out of range; the inner error names it.
    #[error("delivery receipt date: {0}")]
    Date(#[from] TimeError),
    /// A `network_error_code` value is not 3 octets (section 5.3.2.31).
    #[error("network_error_code value must be 3 octets (section 5.3.2.31), got {0}")]
    NetworkErrorCodeLength(usize),
}

/// The `stat` word of a delivery receipt (Appendix B, Table B-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptStatus {
    /// `ENROUTE`: not yet delivered (intermediate).
    Enroute,
    /// `DELIVRD`: delivered to the destination.
    Delivered,
    /// `EXPIRED`: the validity period expired.
    Expired,
    /// `DELETED`: the message was deleted.
    Deleted,
    /// `UNDELIV`: undeliverable.
    Undeliverable,
    /// `ACCEPTD`: accepted (e.g. read on the subscriber's behalf by customer service).
    Accepted,
    /// `UNKNOWN`: the message is in an invalid state.
    Unknown,
    /// `REJECTD`: rejected.
    Rejected,
}

impl ReceiptStatus {
    /// Every status, in `message_state` order.
    pub const ALL: [ReceiptStatus; 8] = [
        ReceiptStatus::Enroute,
        ReceiptStatus::Delivered,
        ReceiptStatus::Expired,
        ReceiptStatus::Deleted,
        ReceiptStatus::Undeliverable,
        ReceiptStatus::Accepted,
        ReceiptStatus::Unknown,
        ReceiptStatus::Rejected,
    ];

    /// The 7-letter word of Table B-2, e.g. `"DELIVRD"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Enroute => "ENROUTE",
            ReceiptStatus::Delivered => "DELIVRD",
            ReceiptStatus::Expired => "EXPIRED",
            ReceiptStatus::Deleted => "DELETED",
            ReceiptStatus::Undeliverable => "UNDELIV",
            ReceiptStatus::Accepted => "ACCEPTD",
            ReceiptStatus::Unknown => "UNKNOWN",
            ReceiptStatus::Rejected => "REJECTD",
        }
    }

    /// Reads a status word, ignoring ASCII case and surrounding whitespace/NUL. Accepts the
    /// Table B-2 words, the Table 5-6 state names (`DELIVERED`, `UNDELIVERABLE`, `ACCEPTED`,
    /// `REJECTED`, ...) and `UNDELIVERED`. `None` for anything else; callers keep the raw
    /// word (see [`Receipt::stat_raw`]).
    pub fn parse(word: &str) -> Option<ReceiptStatus> {
        Self::parse_bytes(word.as_bytes())
    }

    fn parse_bytes(word: &[u8]) -> Option<ReceiptStatus> {
        const WORDS: [(&[u8], ReceiptStatus); 13] = [
            (b"DELIVRD", ReceiptStatus::Delivered),
            (b"UNDELIV", ReceiptStatus::Undeliverable),
            (b"EXPIRED", ReceiptStatus::Expired),
            (b"REJECTD", ReceiptStatus::Rejected),
            (b"ACCEPTD", ReceiptStatus::Accepted),
            (b"ENROUTE", ReceiptStatus::Enroute),
            (b"DELETED", ReceiptStatus::Deleted),
            (b"UNKNOWN", ReceiptStatus::Unknown),
            (b"DELIVERED", ReceiptStatus::Delivered),
            (b"UNDELIVERABLE", ReceiptStatus::Undeliverable),
            (b"UNDELIVERED", ReceiptStatus::Undeliverable),
            (b"REJECTED", ReceiptStatus::Rejected),
            (b"ACCEPTED", ReceiptStatus::Accepted),
        ];
        let word = trim(word);
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(_, s)| s)
    }

    /// Whether no later receipt is expected: every status but `ENROUTE`, which is the only
    /// intermediate state of SMPP 3.4 (Table B-2 lists the others as final message states).
    pub const fn is_final(self) -> bool {
        !matches!(self, ReceiptStatus::Enroute)
    }
}

impl fmt::Display for ReceiptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `message_state` values of section 5.2.28 (Table 5-6), as carried by `query_sm_resp`
/// and the `message_state` TLV of a receipt.
///
/// SMPP 3.4 numbers them 1-8. Some SMSCs also send SMPP 5.0 values (0 = SCHEDULED,
/// 9 = SKIPPED); [`MessageState::from_u8`] returns `None` for those and for every other
/// byte, so callers should keep the raw octet alongside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageState {
    /// ENROUTE (1).
    Enroute = 1,
    /// DELIVERED (2).
    Delivered = 2,
    /// EXPIRED (3).
    Expired = 3,
    /// DELETED (4).
    Deleted = 4,
    /// UNDELIVERABLE (5).
    Undeliverable = 5,
    /// ACCEPTED (6).
    Accepted = 6,
    /// UNKNOWN (7).
    Unknown = 7,
    /// REJECTED (8).
    Rejected = 8,
}

impl MessageState {
    /// The state with value `v` (section 5.2.28), or `None` outside 1-8.
    pub const fn from_u8(v: u8) -> Option<MessageState> {
        match v {
            1 => Some(MessageState::Enroute),
            2 => Some(MessageState::Delivered),
            3 => Some(MessageState::Expired),
            4 => Some(MessageState::Deleted),
            5 => Some(MessageState::Undeliverable),
            6 => Some(MessageState::Accepted),
            7 => Some(MessageState::Unknown),
            8 => Some(MessageState::Rejected),
            _ => None,
        }
    }

    /// The wire value (section 5.2.28).
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The name used in Table 5-6, e.g. `"UNDELIVERABLE"`.
    pub const fn name(self) -> &'static str {
        match self {
            MessageState::Enroute => "ENROUTE",
            MessageState::Delivered => "DELIVERED",
            MessageState::Expired => "EXPIRED",
            MessageState::Deleted => "DELETED",
            MessageState::Undeliverable => "UNDELIVERABLE",
            MessageState::Accepted => "ACCEPTED",
            MessageState::Unknown => "UNKNOWN",
            MessageState::Rejected => "REJECTED",
        }
    }

    /// Whether the state is final: all but ENROUTE (see [`ReceiptStatus::is_final`]).
    pub const fn is_final(self) -> bool {
        !matches!(self, MessageState::Enroute)
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<MessageState> for u8 {
    fn from(s: MessageState) -> u8 {
        s.as_u8()
    }
}

impl From<ReceiptStatus> for MessageState {
    fn from(s: ReceiptStatus) -> MessageState {
        match s {
            ReceiptStatus::Enroute => MessageState::Enroute,
            ReceiptStatus::Delivered => MessageState::Delivered,
            ReceiptStatus::Expired => MessageState::Expired,
            ReceiptStatus::Deleted => MessageState::Deleted,
            ReceiptStatus::Undeliverable => MessageState::Undeliverable,
            ReceiptStatus::Accepted => MessageState::Accepted,
            ReceiptStatus::Unknown => MessageState::Unknown,
            ReceiptStatus::Rejected => MessageState::Rejected,
        }
    }
}

impl From<MessageState> for ReceiptStatus {
    fn from(s: MessageState) -> ReceiptStatus {
        match s {
            MessageState::Enroute => ReceiptStatus::Enroute,
            MessageState::Delivered => ReceiptStatus::Delivered,
            MessageState::Expired => ReceiptStatus::Expired,
            MessageState::Deleted => ReceiptStatus::Deleted,
            MessageState::Undeliverable => ReceiptStatus::Undeliverable,
            MessageState::Accepted => ReceiptStatus::Accepted,
            MessageState::Unknown => ReceiptStatus::Unknown,
            MessageState::Rejected => ReceiptStatus::Rejected,
        }
    }
}

/// A receipt's `submit date` or `done date`: `YYMMDDhhmm` (Appendix B) or the common
/// `YYMMDDhhmmss`, in the SMSC's local time (no offset is carried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptDate {
    /// Full year, `2000 + YY` (as in [`crate::time`]).
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day of the month, 1 to the length of the month.
    pub day: u8,
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
    /// Second, 0-59, present when the date came in 12 digits; decides the formatted width.
    pub second: Option<u8>,
}

impl ReceiptDate {
    /// Parses exactly 10 or 12 ASCII digits, range-checked like section 7.1.1 (month 01-12,
    /// day 01 to the length of the month, hour 00-23, minute and second 00-59).
    ///
    /// # Errors
    ///
    /// [`ReceiptError::DateLength`] for another length; [`ReceiptError::Date`] wrapping the
    /// [`TimeError`] that names the non-digit or out-of-range field.
    pub fn parse(value: &[u8]) -> Result<ReceiptDate, ReceiptError> {
        if value.len() != 10 && value.len() != 12 {
            return Err(ReceiptError::DateLength(value.len()));
        }
        let yy = time::digit_pair(value, TimeField::Year)?;
        let month = time::digit_pair(value, TimeField::Month)?;
        let day = time::digit_pair(value, TimeField::Day)?;
        let hour = time::digit_pair(value, TimeField::Hour)?;
        let minute = time::digit_pair(value, TimeField::Minute)?;
        let second = if value.len() == 12 {
            Some(time::digit_pair(value, TimeField::Second)?)
        } else {
            None
        };
        let year = time::year_from_yy(yy);
        time::validate_civil(year, month, day, hour, minute, second.unwrap_or(0))?;
        Ok(ReceiptDate {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Formats as `YYMMDDhhmm`, or `YYMMDDhhmmss` when `second` is set (fields modulo 100).
    pub fn format(&self) -> String {
        let mut out = Vec::with_capacity(12);
        self.write_to(&mut out);
        out.into_iter().map(char::from).collect()
    }

    /// The date as an [`AbsoluteTime`] whose local time is `utc_offset_quarters` quarter
    /// hours ahead of UTC (the receipt does not say; the SMSC's offset must come from
    /// configuration). A missing second is 0.
    pub fn to_absolute(&self, utc_offset_quarters: i8) -> AbsoluteTime {
        AbsoluteTime {
            year: self.year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second.unwrap_or(0),
            tenths: 0,
            utc_offset_quarters,
        }
    }

    /// The local date and time of `t` (its offset and tenths are dropped), with seconds
    /// (12-digit form) when `with_seconds`.
    pub fn from_absolute(t: &AbsoluteTime, with_seconds: bool) -> ReceiptDate {
        ReceiptDate {
            year: t.year,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: with_seconds.then_some(t.second),
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        time::push_pair(out, (self.year % 100) as u8);
        time::push_pair(out, self.month);
        time::push_pair(out, self.day);
        time::push_pair(out, self.hour);
        time::push_pair(out, self.minute);
        if let Some(s) = self.second {
            time::push_pair(out, s);
        }
    }
}

impl fmt::Display for ReceiptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

/// A delivery receipt (Appendix B), as parsed by [`Receipt::parse`] or to be formatted by
/// [`Receipt::format`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// `id`: the message id as received (decimal, hex or opaque); see
    /// [`message_ids_match`] to compare it with a `submit_sm_resp` id.
    pub id: String,
    /// `sub`: messages originally submitted (leading zeros dropped).
    pub sub: Option<u32>,
    /// `dlvrd`: messages delivered (leading zeros dropped).
    pub dlvrd: Option<u32>,
    /// `submit date`.
    pub submit_date: Option<ReceiptDate>,
    /// `done date`.
    pub done_date: Option<ReceiptDate>,
    /// The recognised status, if `stat_raw` is a known word (see [`ReceiptStatus::parse`]).
    pub stat: Option<ReceiptStatus>,
    /// The `stat` value exactly as received, known or not.
    pub stat_raw: Option<String>,
    /// `err`: network- or SMSC-specific error code, as received (`"000"`, `"0"`, `"E12"`).
    pub err: Option<String>,
    /// `text`: the octets after `text:` up to the end of the input, as received.
    pub text: Option<Vec<u8>>,
    /// Every other field, in input order: `(key, value)` with the key as received;
    /// a word without a colon is kept with an empty key.
    pub extra: Vec<(String, String)>,
}

impl Receipt {
    /// A receipt with only its id set.
    pub fn new(id: impl Into<String>) -> Receipt {
        Receipt {
            id: id.into(),
            ..Receipt::default()
        }
    }

    /// The `message_state` (section 5.2.28) equivalent of [`Receipt::stat`].
    pub fn message_state(&self) -> Option<MessageState> {
        self.stat.map(MessageState::from)
    }

    /// Parses receipt text tolerantly (see the module documentation for what is accepted).
    ///
    /// Requires an `id` with a value, and a `stat` or an `err` (a text with neither reports
    /// no outcome and is more likely an ordinary message). Everything else is optional.
    /// Never panics, whatever the input.
    ///
    /// # Errors
    ///
    /// [`ReceiptError::Empty`], [`ReceiptError::MissingId`], [`ReceiptError::EmptyId`] or
    /// [`ReceiptError::MissingStatus`]. Malformed optional values are not errors: they are
    /// kept in [`Receipt::extra`].
    pub fn parse(input: &[u8]) -> Result<Receipt, ReceiptError> {
        let mut r = Receipt::default();
        let mut id: Option<String> = None;
        let mut saw_id_key = false;
        let mut saw_token = false;
        let mut scanner = Scanner { input, pos: 0 };
        while let Some(token) = scanner.next_token() {
            saw_token = true;
            match token {
                Token::Text(text) => r.text = Some(text.to_vec()),
                Token::Bare(word) => {
                    let status = ReceiptStatus::parse_bytes(word);
                    if let (None, Some(status)) = (&r.stat_raw, status) {
                        r.stat = Some(status);
                        r.stat_raw = Some(lossy(word));
                    } else {
                        r.extra.push((String::new(), lossy(word)));
                    }
                }
                Token::Field {
                    key,
                    raw_key,
                    value,
                } => {
                    let kept = match key {
                        Key::Id => {
                            saw_id_key = true;
                            set_once(&mut id, (!value.is_empty()).then(|| lossy(value)))
                        }
                        Key::Sub => set_once(&mut r.sub, parse_count(value)),
                        Key::Dlvrd => set_once(&mut r.dlvrd, parse_count(value)),
                        Key::SubmitDate => {
                            set_once(&mut r.submit_date, ReceiptDate::parse(value).ok())
                        }
                        Key::DoneDate => set_once(&mut r.done_date, ReceiptDate::parse(value).ok()),
                        Key::Stat => {
                            let kept = set_once(
                                &mut r.stat_raw,
                                (!value.is_empty()).then(|| lossy(value)),
                            );
                            if kept {
                                r.stat = ReceiptStatus::parse_bytes(value);
                            }
                            kept
                        }
                        Key::Err => set_once(&mut r.err, (!value.is_empty()).then(|| lossy(value))),
                        Key::Text | Key::Other => false,
                    };
                    if !kept {
                        r.extra.push((lossy(raw_key), lossy(value)));
                    }
                }
            }
        }
        if !saw_token {
            return Err(ReceiptError::Empty);
        }
        r.id = match id {
            Some(id) => id,
            None if saw_id_key => return Err(ReceiptError::EmptyId),
            None => return Err(ReceiptError::MissingId),
        };
        if r.stat_raw.is_none() && r.err.is_none() {
            return Err(ReceiptError::MissingStatus);
        }
        Ok(r)
    }

    /// Formats the receipt in the Appendix B layout, fields separated by one space, in this
    /// order, each only when set:
    ///
    /// ```text
    /// id:{id} sub:{sub} dlvrd:{dlvrd} submit date:{date} done date:{date} stat:{stat} err:{err} {extra...} Text:{text}
    /// ```
    ///
    /// * `sub` and `dlvrd` are zero-padded to 3 digits (`001`; larger values in full);
    /// * dates are 10 or 12 digits as [`ReceiptDate::second`] says;
    /// * `stat` is the Table B-2 word of [`Receipt::stat`], else `stat_raw` as is (omitted
    ///   when empty);
    /// * `err` of 1-2 ASCII digits is zero-padded to 3 (`0` → `000`), any other non-empty
    ///   value is written as is;
    /// * each `extra` pair is written `key:value` (`:value` for an empty key), after `err`
    ///   so that `Text:` stays last;
    /// * `Text:` (capital T as in the Appendix B example) carries at most the first
    ///   [`RECEIPT_TEXT_MAX`] octets of `text`.
    ///
    /// No validation is done: an empty id, or an id, key or value holding whitespace, is
    /// written as is and will not parse back the same. A receipt from [`Receipt::parse`],
    /// or one built with a non-empty id and whitespace-free values, parses back equal
    /// when its `stat_raw` is the `stat` word (or `stat` is `None`), `err` is not 1-2
    /// digits and `text` fits in 20 octets.
    pub fn format(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.id.len().saturating_add(128));
        out.extend_from_slice(b"id:");
        out.extend_from_slice(self.id.as_bytes());
        if let Some(n) = self.sub {
            out.extend_from_slice(format!(" sub:{n:03}").as_bytes());
        }
        if let Some(n) = self.dlvrd {
            out.extend_from_slice(format!(" dlvrd:{n:03}").as_bytes());
        }
        if let Some(d) = &self.submit_date {
            out.extend_from_slice(b" submit date:");
            d.write_to(&mut out);
        }
        if let Some(d) = &self.done_date {
            out.extend_from_slice(b" done date:");
            d.write_to(&mut out);
        }
        let stat = match (self.stat, &self.stat_raw) {
            (Some(s), _) => Some(s.as_str()),
            (None, Some(raw)) if !raw.is_empty() => Some(raw.as_str()),
            _ => None,
        };
        if let Some(stat) = stat {
            out.extend_from_slice(b" stat:");
            out.extend_from_slice(stat.as_bytes());
        }
        if let Some(err) = self.err.as_deref().filter(|e| !e.is_empty()) {
            out.extend_from_slice(b" err:");
            if err.len() < 3 && err.bytes().all(|b| b.is_ascii_digit()) {
                out.resize(out.len() + 3 - err.len(), b'0');
            }
            out.extend_from_slice(err.as_bytes());
        }
        for (key, value) in &self.extra {
            out.push(b' ');
            out.extend_from_slice(key.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
        }
        if let Some(text) = &self.text {
            out.extend_from_slice(b" Text:");
            out.extend_from_slice(text.get(..RECEIPT_TEXT_MAX).unwrap_or(text));
        }
        out
    }
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
    /// [`ReceiptError::NetworkErrorCodeLength`] when `value` is not exactly 3 octets.
    pub fn parse(value: &[u8]) -> Result<NetworkErrorCode, ReceiptError> {
        match *value {
            [network_type, hi, lo] => Ok(NetworkErrorCode {
                network_type,
                error_code: u16::from_be_bytes([hi, lo]),
            }),
            _ => Err(ReceiptError::NetworkErrorCodeLength(value.len())),
        }
    }

    /// The 3-octet TLV value.
    pub fn to_bytes(&self) -> [u8; 3] {
        let [hi, lo] = self.error_code.to_be_bytes();
        [self.network_type, hi, lo]
    }
}

/// How one side writes its message ids, for [`normalize_message_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdRadix {
    /// Decimal digits (the Appendix B table says "Decimal").
    Decimal,
    /// Hexadecimal digits, either case, optional `0x` prefix.
    Hex,
    /// Not a number: compared as the exact string.
    Opaque,
}

/// A message id reduced to a comparable key by [`normalize_message_id`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageIdKey {
    /// The id's numeric value.
    Number(u64),
    /// The id as a string: trimmed; for a too-long hex or decimal number, lowercased and
    /// without leading zeros (and `0x`).
    Opaque(String),
}

/// Reduces `id` to a key for looking receipts up when the radix each side uses is known
/// (per-SMSC configuration): normalise the `submit_sm_resp` id with the radix the SMSC
/// uses there and the receipt id with the radix it uses in receipts; the keys are equal
/// exactly when the ids denote the same message. Surrounding whitespace and NULs are
/// ignored; an id that is not a number in `radix` becomes [`MessageIdKey::Opaque`].
pub fn normalize_message_id(id: &str, radix: IdRadix) -> MessageIdKey {
    let bytes = trim(id.as_bytes());
    let numeric = match radix {
        IdRadix::Decimal => digits(bytes, 10).map(|d| (d, parse_radix(d, 10))),
        IdRadix::Hex => digits(strip_0x(bytes), 16).map(|d| (d, parse_radix(d, 16))),
        IdRadix::Opaque => None,
    };
    match numeric {
        Some((_, Some(n))) => MessageIdKey::Number(n),
        Some((d, None)) => MessageIdKey::Opaque(lossy(strip_zeros(d)).to_ascii_lowercase()),
        None => MessageIdKey::Opaque(lossy(bytes)),
    }
}

/// Whether two message ids may denote the same message when the radix of neither is known.
///
/// True when (after trimming whitespace and NULs, both non-empty) the ids are equal; or
/// both are numbers of the same value read as decimal/decimal, hex/hex (any case, leading
/// zeros and a `0x` prefix ignored), or one as hex and the other as decimal — the carrier
/// quirk where `submit_sm_resp` carries `1A2B` and the receipt `6699`, or the reverse.
/// Opaque ids (UUIDs, base-62...) match only exactly, case included.
///
/// **Ambiguity:** an all-digit id is both a decimal and a hex number, so `"10"` and `"16"`
/// match (hex 10 = decimal 16) although two decimal ids 10 and 16 are different messages.
/// Ids that are different under every reading (`"123"` / `"124"`) never match. When the
/// radix of each side is known, compare [`normalize_message_id`] keys instead.
pub fn message_ids_match(a: &str, b: &str) -> bool {
    let (a, b) = (trim(a.as_bytes()), trim(b.as_bytes()));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let readings = |id: &[u8]| {
        let dec = digits(id, 10).and_then(|d| parse_radix(d, 10));
        let hex = digits(strip_0x(id), 16).and_then(|d| parse_radix(d, 16));
        [dec, hex]
    };
    let (ra, rb) = (readings(a), readings(b));
    if ra
        .iter()
        .flatten()
        .any(|x| rb.iter().flatten().any(|y| x == y))
    {
        return true;
    }
    // Hex ids too long for u64 (e.g. 32-digit) still compare case-insensitively.
    match (digits(strip_0x(a), 16), digits(strip_0x(b), 16)) {
        (Some(da), Some(db)) => strip_zeros(da).eq_ignore_ascii_case(strip_zeros(db)),
        _ => false,
    }
}

/// Separators between receipt fields.
const fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

/// `bytes` without leading and trailing separators.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_sep(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_sep(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stores `value` in an empty `slot`; false (caller keeps the field in `extra`) when the
/// slot is already set (duplicate) or the value did not parse.
fn set_once<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match (slot.is_none(), value) {
        (true, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

/// A `sub`/`dlvrd` count: ASCII digits (leading zeros allowed) fitting in u32.
fn parse_count(value: &[u8]) -> Option<u32> {
    digits(value, 10)
        .and_then(|d| parse_radix(d, 10))
        .and_then(|n| u32::try_from(n).ok())
}

/// `bytes` if non-empty and made only of digits of `radix` (10 or 16).
fn digits(bytes: &[u8], radix: u32) -> Option<&[u8]> {
    let ok = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| char::from(b).is_digit(radix) && b.is_ascii());
    ok.then_some(bytes)
}

/// The value of `digits` (already checked by [`digits`]) in `radix`; `None` on overflow.
fn parse_radix(digits: &[u8], radix: u32) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = char::from(b).to_digit(radix)?;
        acc.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
    })
}

fn strip_0x(bytes: &[u8]) -> &[u8] {
    match bytes {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => bytes,
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b'0').unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// A recognised receipt key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
    Other,
}

impl Key {
    fn classify(key: &[u8]) -> Key {
        const KEYS: [(&[u8], Key); 10] = [
            (b"id", Key::Id),
            (b"sub", Key::Sub),
            (b"dlvrd", Key::Dlvrd),
            (b"stat", Key::Stat),
            (b"err", Key::Err),
            (b"text", Key::Text),
            (b"submit_date", Key::SubmitDate),
            (b"done_date", Key::DoneDate),
            (b"submitdate", Key::SubmitDate),
            (b"donedate", Key::DoneDate),
        ];
        KEYS.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map_or(Key::Other, |&(_, k)| k)
    }
}

/// One lexical item of a receipt.
enum Token<'a> {
    /// `key:value`; `raw_key` is the key as written.
    Field {
        key: Key,
        raw_key: &'a [u8],
        value: &'a [u8],
    },
    /// `text:` and everything after it.
    Text(&'a [u8]),
    /// A word without a colon.
    Bare(&'a [u8]),
}

/// Hand-written scanner over the receipt octets; every slice access is checked.
struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.input.get(start..end).unwrap_or_default()
    }

    /// First index at or after `from` whose octet satisfies `pred`, or the input length.
    fn find(&self, from: usize, pred: impl Fn(u8) -> bool) -> usize {
        self.input
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| pred(b)))
            .map_or(self.input.len(), |i| from + i)
    }

    fn skip_seps(&self, from: usize) -> usize {
        self.find(from, |b| !is_sep(b))
    }

    /// `submit date:` / `done date:` (any case, any separator run between the words) at
    /// `at`: the key and the index after the colon.
    fn date_key_at(&self, at: usize) -> Option<(Key, usize)> {
        let rest = self.input.get(at..)?;
        let (key, word_len) = if starts_with_ci(rest, b"submit") {
            (Key::SubmitDate, 6)
        } else if starts_with_ci(rest, b"done") {
            (Key::DoneDate, 4)
        } else {
            return None;
        };
        let gap_start = at + word_len;
        let date_start = self.skip_seps(gap_start);
        if date_start == gap_start {
            return None;
        }
        let after = self.input.get(date_start..)?;
        (starts_with_ci(after, b"date") && after.get(4) == Some(&b':'))
            .then_some((key, date_start + 5))
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        let start = self.skip_seps(self.pos);
        if start >= self.input.len() {
            self.pos = start;
            return None;
        }
        if let Some((key, after_colon)) = self.date_key_at(start) {
            self.pos = after_colon;
            let raw_key = self.slice(start, after_colon - 1);
            let value = self.value();
            return Some(Token::Field {
                key,
                raw_key,
                value,
            });
        }
        let end = self.find(start, |b| is_sep(b) || b == b':');
        let word = self.slice(start, end);
        if self.input.get(end) != Some(&b':') {
            self.pos = end;
            return Some(Token::Bare(word));
        }
        self.pos = end + 1;
        match Key::classify(word) {
            Key::Text => {
                let text = self.slice(self.pos, self.input.len());
                self.pos = self.input.len();
                Some(Token::Text(text))
            }
            key => {
                let value = self.value();
                Some(Token::Field {
                    key,
                    raw_key: word,
                    value,
                })
            }
        }
    }

    /// The value after a key's colon: up to the next separator. When that is empty, the
    /// next word is taken instead (`err: 0`) unless it is itself a key.
    fn value(&mut self) -> &'a [u8] {
        let start = self.pos;
        let end = self.find(start, is_sep);
        if end > start {
            self.pos = end;
            return self.slice(start, end);
        }
        let next = self.skip_seps(end);
        let next_end = self.find(next, is_sep);
        let word = self.slice(next, next_end);
        if word.is_empty() || word.contains(&b':') || self.date_key_at(next).is_some() {
            self.pos = end;
            return &[];
        }
        self.pos = next_end;
        word
    }
}

fn starts_with_ci(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack
        .get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &[u8]) -> Receipt {
        match Receipt::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{:?}: {e}", String::from_utf8_lossy(s)),
        }
    }

    fn date(s: &str) -> Option<ReceiptDate> {
        ReceiptDate::parse(s.as_bytes()).ok()
    }

    const FULL: &[u8] = b"id:0123456789 sub:001 dlvrd:001 submit date:0610101200 done date:0610101201 stat:DELIVRD err:000 Text:Hello, world: hi";

    #[test]
    fn appendix_b_example_form() {
        let r = parse(FULL);
        assert_eq!(r.id, "0123456789");
        assert_eq!(r.sub, Some(1));
        assert_eq!(r.dlvrd, Some(1));
        assert_eq!(
            r.submit_date,
            Some(ReceiptDate {
                year: 2006,
                month: 10,
                day: 10,
                hour: 12,
                minute: 0,
                second: None
            })
        );
        assert_eq!(r.done_date, date("0610101201"));
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
        assert_eq!(r.stat_raw.as_deref(), Some("DELIVRD"));
        assert_eq!(r.err.as_deref(), Some("000"));
        assert_eq!(r.text.as_deref(), Some(&b"Hello, world: hi"[..]));
        assert!(r.extra.is_empty());
        assert_eq!(r.message_state(), Some(MessageState::Delivered));
    }

    #[test]
    fn appendix_b_line_break_inside_done_date_key() {
        let r = parse(b"id:1 sub:001 dlvrd:001 submit date:0610101200 done\r\ndate:0610101201 stat:EXPIRED err:E Text: . . .");
        assert_eq!(r.done_date, date("0610101201"));
        assert_eq!(r.stat, Some(ReceiptStatus::Expired));
        assert_eq!(r.err.as_deref(), Some("E"));
        assert_eq!(r.text.as_deref(), Some(&b" . . ."[..]));
    }

    #[test]
    fn lowercase_text_and_uppercase_keys() {
        let r = parse(b"ID:42 SUB:001 Dlvrd:000 SUBMIT DATE:2301011200 Done Date:2301011201 STAT:undeliv ERR:005 text:hi there");
        assert_eq!(r.id, "42");
        assert_eq!(r.dlvrd, Some(0));
        assert_eq!(r.submit_date, date("2301011200"));
        assert_eq!(r.done_date, date("2301011201"));
        assert_eq!(r.stat, Some(ReceiptStatus::Undeliverable));
        assert_eq!(r.stat_raw.as_deref(), Some("undeliv"));
        assert_eq!(r.text.as_deref(), Some(&b"hi there"[..]));
    }

    #[test]
    fn fields_reordered() {
        let r = parse(b"stat:REJECTD err:011 done date:2301011201 id:abc sub:002 submit date:2301011200 dlvrd:000 text:x");
        assert_eq!(r.id, "abc");
        assert_eq!(r.sub, Some(2));
        assert_eq!(r.stat, Some(ReceiptStatus::Rejected));
        assert_eq!(r.submit_date, date("2301011200"));
        assert_eq!(r.done_date, date("2301011201"));
        assert_eq!(r.text.as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn missing_sub_dlvrd_and_dates() {
        let r = parse(b"id:1526758174 stat:DELIVRD err:000 text:hellow");
        assert_eq!(r.sub, None);
        assert_eq!(r.dlvrd, None);
        assert_eq!(r.submit_date, None);
        assert_eq!(r.done_date, None);
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
    }

    #[test]
    fn missing_text() {
        let r = parse(
            b"id:0654354026 submit date:2302101454 done date:2302101454 stat:DELIVRD err:000",
        );
        assert_eq!(r.text, None);
        assert_eq!(r.err.as_deref(), Some("000"));
    }

    #[test]
    fn twelve_digit_dates() {
        let r = parse(b"id:64567564356765435676 sub:001 dlvrd:001 submit date:190608165232 done date:190608165237 stat:DELIVRD err:000 text:Hello World");
        let done = r.done_date.unwrap_or_else(|| panic!("no done date"));
        assert_eq!(done.second, Some(37));
        assert_eq!(done.format(), "190608165237");
        assert_eq!(
            r.submit_date.map(|d| d.to_string()).as_deref(),
            Some("190608165232")
        );
    }

    #[test]
    fn hex_id() {
        let r = parse(b"id:7F3A0B12 stat:DELIVRD err:000");
        assert_eq!(r.id, "7F3A0B12");
        assert!(message_ids_match(&r.id, "2134510354"));
    }

    #[test]
    fn decimal_id_with_leading_zeros_kept_as_string() {
        let r = parse(b"id:0000000012345678 stat:DELIVRD err:000 text:none");
        assert_eq!(r.id, "0000000012345678");
        assert!(message_ids_match(&r.id, "12345678"));
    }

    #[test]
    fn opaque_uuid_id() {
        let r = parse(b"id:ce5bc5a9-4f7d-4282-9244-2e1022a9335c sub:000 dlvrd:000 submit date:180903120815 done date:180903120816 stat:DELIVRD err:000 Text:");
        assert_eq!(r.id, "ce5bc5a9-4f7d-4282-9244-2e1022a9335c");
        assert_eq!(r.text.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn extra_vendor_fields_kept() {
        let r = parse(b"id:9 Sub:001 dlvrd:001 foo:bar mccmnc:23415 submit date:2301011200 stat:DELIVRD err:000 price:0.05:EUR Text:abc");
        assert_eq!(r.sub, Some(1));
        assert_eq!(r.dlvrd, Some(1));
        assert_eq!(
            r.extra,
            vec![
                ("foo".to_string(), "bar".to_string()),
                ("mccmnc".to_string(), "23415".to_string()),
                ("price".to_string(), "0.05:EUR".to_string()),
            ]
        );
    }

    #[test]
    fn non_utf8_text_kept_raw() {
        let mut input = b"id:1 stat:DELIVRD err:000 text:".to_vec();
        let text = [0xff, 0xfe, b' ', b':', 0x00, 0x80, b'a'];
        input.extend_from_slice(&text);
        let r = parse(&input);
        assert_eq!(r.text.as_deref(), Some(&text[..]));
    }

    #[test]
    fn text_with_keys_inside_is_not_interpreted() {
        let r = parse(b"id:1 stat:DELIVRD err:000 text:stat:REJECTD id:2 done date:2301011200");
        assert_eq!(r.id, "1");
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
        assert_eq!(r.done_date, None);
        assert_eq!(
            r.text.as_deref(),
            Some(&b"stat:REJECTD id:2 done date:2301011200"[..])
        );
    }

    #[test]
    fn truncated_before_status_is_an_error() {
        assert_eq!(
            Receipt::parse(b"id:123 sub:001 dlvrd:0"),
            Err(ReceiptError::MissingStatus)
        );
        assert_eq!(Receipt::parse(b"id:12"), Err(ReceiptError::MissingStatus));
        assert_eq!(Receipt::parse(b"id:"), Err(ReceiptError::EmptyId));
        assert_eq!(Receipt::parse(b"i"), Err(ReceiptError::MissingId));
    }

    #[test]
    fn truncated_inside_status_keeps_raw() {
        let r = parse(b"id:123 sub:001 dlvrd:001 submit date:2301011200 done date:23010 stat:DELI");
        assert_eq!(r.stat, None);
        assert_eq!(r.stat_raw.as_deref(), Some("DELI"));
        assert_eq!(r.done_date, None);
        assert_eq!(
            r.extra,
            vec![("done date".to_string(), "23010".to_string())]
        );
    }

    #[test]
    fn every_prefix_of_a_receipt_parses_or_errors() {
        for n in 0..=FULL.len() {
            let _ = Receipt::parse(&FULL[..n]);
        }
    }

    #[test]
    fn empty_input() {
        assert_eq!(Receipt::parse(b""), Err(ReceiptError::Empty));
        assert_eq!(Receipt::parse(b"  \r\n\0"), Err(ReceiptError::Empty));
    }

    #[test]
    fn missing_id() {
        assert_eq!(
            Receipt::parse(b"sub:001 stat:DELIVRD err:000"),
            Err(ReceiptError::MissingId)
        );
        assert_eq!(
            Receipt::parse(b"id: stat:DELIVRD err:000"),
            Err(ReceiptError::EmptyId)
        );
    }

    #[test]
    fn err_without_stat_is_enough() {
        let r = parse(b"id:1 err:0000");
        assert_eq!(r.stat, None);
        assert_eq!(r.err.as_deref(), Some("0000"));
    }

    #[test]
    fn unknown_stat_value_kept() {
        let r = parse(b"id:1 stat:QUEUED err:000");
        assert_eq!(r.stat, None);
        assert_eq!(r.stat_raw.as_deref(), Some("QUEUED"));
        assert_eq!(
            String::from_utf8_lossy(&r.format()),
            "id:1 stat:QUEUED err:000"
        );
    }

    #[test]
    fn status_word_without_key() {
        let r = parse(b"id:ce5b sub:000 dlvrd:000 submit date:180903120815 done date:180903120816 DELIVRD err:000 Text:");
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn space_after_colon() {
        let r = parse(b"id: 77 sub: 1 stat: DELIVRD err: 0 text: hi");
        assert_eq!(r.id, "77");
        assert_eq!(r.sub, Some(1));
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
        assert_eq!(r.err.as_deref(), Some("0"));
        assert_eq!(r.text.as_deref(), Some(&b" hi"[..]));
    }

    #[test]
    fn empty_value_before_next_key_stays_empty() {
        let r = parse(b"id:5 sub: dlvrd:001 err:1");
        assert_eq!(r.sub, None);
        assert_eq!(r.dlvrd, Some(1));
        assert_eq!(r.extra, vec![("sub".to_string(), String::new())]);
    }

    #[test]
    fn smpp_time_as_date_kept_in_extra() {
        let r = parse(b"id:rdwj sub:000 dlvrd:000 submit date:180711070003912+ done date:180711070000012+ stat:UNDELIV err:000");
        assert_eq!(r.submit_date, None);
        assert_eq!(
            r.extra,
            vec![
                ("submit date".to_string(), "180711070003912+".to_string()),
                ("done date".to_string(), "180711070000012+".to_string()),
            ]
        );
    }

    #[test]
    fn duplicates_first_wins() {
        let r = parse(b"id:1 id:2 stat:DELIVRD stat:UNDELIV err:000");
        assert_eq!(r.id, "1");
        assert_eq!(r.stat, Some(ReceiptStatus::Delivered));
        assert_eq!(
            r.extra,
            vec![
                ("id".to_string(), "2".to_string()),
                ("stat".to_string(), "UNDELIV".to_string())
            ]
        );
    }

    #[test]
    fn trailing_nul_and_newline_ignored_without_text() {
        let r = parse(b"id:1 stat:DELIVRD err:000\r\n\0");
        assert_eq!(r.err.as_deref(), Some("000"));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn underscore_date_keys() {
        let r = parse(b"id:1 submit_date:2301011200 done_date:2301011205 stat:DELIVRD");
        assert_eq!(r.submit_date, date("2301011200"));
        assert_eq!(r.done_date, date("2301011205"));
    }

    #[test]
    fn format_strict_form() {
        let r = Receipt {
            id: "0123456789".into(),
            sub: Some(1),
            dlvrd: Some(0),
            submit_date: date("0610101200"),
            done_date: date("061010120130"),
            stat: Some(ReceiptStatus::Undeliverable),
            stat_raw: Some("undeliverable".into()),
            err: Some("5".into()),
            text: Some(b"0123456789abcdefghijKLMNOP".to_vec()),
            extra: vec![("foo".into(), "bar".into())],
        };
        assert_eq!(
            String::from_utf8_lossy(&r.format()),
            "id:0123456789 sub:001 dlvrd:000 submit date:0610101200 done date:061010120130 stat:UNDELIV err:005 foo:bar Text:0123456789abcdefghij"
        );
    }

    #[test]
    fn format_parse_round_trip() {
        let r = parse(FULL);
        assert_eq!(&r.format()[..], FULL);
        assert_eq!(parse(&r.format()), r);
    }

    #[test]
    fn receipt_date_errors_name_the_field() {
        assert_eq!(
            ReceiptDate::parse(b"23010112"),
            Err(ReceiptError::DateLength(8))
        );
        let e = ReceiptDate::parse(b"2313011200").err();
        assert!(matches!(
            e,
            Some(ReceiptError::Date(TimeError::OutOfRange {
                field: TimeField::Month,
                value: 13,
                ..
            }))
        ));
        let msg = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("month (MM)"), "{msg}");
        assert!(matches!(
            ReceiptDate::parse(b"2301011260"),
            Err(ReceiptError::Date(TimeError::OutOfRange {
                field: TimeField::Minute,
                ..
            }))
        ));
        assert!(matches!(
            ReceiptDate::parse(b"230101120x"),
            Err(ReceiptError::Date(TimeError::NotDigit { position: 9, .. }))
        ));
    }

    #[test]
    fn receipt_date_absolute_conversion() {
        let d = date("240229235959").unwrap_or_else(|| panic!("date"));
        let t = d.to_absolute(4);
        assert_eq!(&t.format(), b"240229235959004+");
        assert_eq!(ReceiptDate::from_absolute(&t, true), d);
        assert_eq!(ReceiptDate::from_absolute(&t, false).format(), "2402292359");
    }

    #[test]
    fn error_messages() {
        assert!(ReceiptError::MissingId.to_string().contains("`id`"));
        assert!(ReceiptError::MissingStatus.to_string().contains("`stat`"));
        assert!(ReceiptError::NetworkErrorCodeLength(2)
            .to_string()
            .contains("network_error_code"));
    }

    #[test]
    fn status_words() {
        for s in ReceiptStatus::ALL {
            assert_eq!(ReceiptStatus::parse(s.as_str()), Some(s));
            assert_eq!(s.as_str().len(), 7);
            assert_eq!(ReceiptStatus::from(MessageState::from(s)), s);
            assert_eq!(s.is_final(), MessageState::from(s).is_final());
        }
        assert_eq!(
            ReceiptStatus::parse("delivrd"),
            Some(ReceiptStatus::Delivered)
        );
        assert_eq!(
            ReceiptStatus::parse(" Delivered "),
            Some(ReceiptStatus::Delivered)
        );
        assert_eq!(
            ReceiptStatus::parse("UNDELIVERABLE"),
            Some(ReceiptStatus::Undeliverable)
        );
        assert_eq!(
            ReceiptStatus::parse("undelivered"),
            Some(ReceiptStatus::Undeliverable)
        );
        assert_eq!(
            ReceiptStatus::parse("Rejected"),
            Some(ReceiptStatus::Rejected)
        );
        assert_eq!(
            ReceiptStatus::parse("ACCEPTED"),
            Some(ReceiptStatus::Accepted)
        );
        assert_eq!(
            ReceiptStatus::parse("deleted"),
            Some(ReceiptStatus::Deleted)
        );
        assert_eq!(ReceiptStatus::parse("DELIV"), None);
        assert_eq!(ReceiptStatus::parse(""), None);
        assert!(!ReceiptStatus::Enroute.is_final());
        assert!(ReceiptStatus::Delivered.is_final());
        assert!(ReceiptStatus::Unknown.is_final());
    }

    #[test]
    fn message_state_values() {
        for v in 1..=8u8 {
            let s = MessageState::from_u8(v).unwrap_or_else(|| panic!("{v}"));
            assert_eq!(s.as_u8(), v);
            assert_eq!(u8::from(s), v);
        }
        assert_eq!(MessageState::from_u8(0), None); // SMPP 5.0 SCHEDULED
        assert_eq!(MessageState::from_u8(9), None); // SMPP 5.0 SKIPPED
        assert_eq!(MessageState::from_u8(255), None);
        assert_eq!(MessageState::Undeliverable.to_string(), "UNDELIVERABLE");
        assert_eq!(
            MessageState::from(ReceiptStatus::Rejected),
            MessageState::Rejected
        );
        assert!(!MessageState::Enroute.is_final());
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
            Err(ReceiptError::NetworkErrorCodeLength(2))
        );
        assert_eq!(
            NetworkErrorCode::parse(&[]),
            Err(ReceiptError::NetworkErrorCodeLength(0))
        );
        assert_eq!(
            NetworkErrorCode::parse(&[1, 2, 3, 4]),
            Err(ReceiptError::NetworkErrorCodeLength(4))
        );
    }

    #[test]
    fn ids_match_hex_vs_decimal() {
        assert!(message_ids_match("1A2B", "6699"));
        assert!(message_ids_match("6699", "1a2b"));
        assert!(message_ids_match("0x1A2B", "6699"));
        assert!(message_ids_match("ff", "255"));
        assert!(message_ids_match("1000", "4096"));
        assert!(message_ids_match("000000FF", "0255"));
    }

    #[test]
    fn ids_match_exact_and_case() {
        assert!(message_ids_match("abc-123", "abc-123"));
        assert!(message_ids_match("ABCDEF", "abcdef"));
        assert!(message_ids_match(" 42\0", "42"));
        assert!(message_ids_match("0042", "42"));
        // 32-digit hex: beyond u64, still case-insensitive with leading zeros ignored.
        assert!(message_ids_match(
            "00ABCDEF0123456789ABCDEF01234567",
            "abcdef0123456789abcdef01234567"
        ));
    }

    #[test]
    fn ids_different_numbers_do_not_match() {
        assert!(!message_ids_match("123", "124"));
        assert!(!message_ids_match("FF", "254"));
        assert!(!message_ids_match("1A2B", "6698"));
        assert!(!message_ids_match("", ""));
        assert!(!message_ids_match("1", ""));
    }

    #[test]
    fn ids_opaque_strings() {
        assert!(!message_ids_match("abc-123", "ABC-123"));
        assert!(!message_ids_match("aB3x", "Ab3x"));
        assert!(!message_ids_match("ce5bc5a9-4f7d", "ce5bc5a9-4f7e"));
    }

    #[test]
    fn ids_all_digit_ambiguity_documented() {
        // hex "10" == decimal 16: the documented ambiguity.
        assert!(message_ids_match("10", "16"));
        assert_ne!(
            normalize_message_id("10", IdRadix::Decimal),
            normalize_message_id("16", IdRadix::Decimal)
        );
    }

    #[test]
    fn normalize_ids() {
        assert_eq!(
            normalize_message_id("1A2B", IdRadix::Hex),
            normalize_message_id("6699", IdRadix::Decimal)
        );
        assert_eq!(
            normalize_message_id("0x00ff", IdRadix::Hex),
            MessageIdKey::Number(255)
        );
        assert_eq!(
            normalize_message_id(" 007 ", IdRadix::Decimal),
            MessageIdKey::Number(7)
        );
        assert_eq!(
            normalize_message_id("abc", IdRadix::Decimal),
            MessageIdKey::Opaque("abc".into())
        );
        assert_eq!(
            normalize_message_id("42", IdRadix::Opaque),
            MessageIdKey::Opaque("42".into())
        );
        assert_eq!(
            normalize_message_id("00ABCDEF0123456789ABCDEF01234567", IdRadix::Hex),
            MessageIdKey::Opaque("abcdef0123456789abcdef01234567".into())
        );
        assert_eq!(
            normalize_message_id("99999999999999999999999", IdRadix::Decimal),
            MessageIdKey::Opaque("99999999999999999999999".into())
        );
    }

    fn valid_date() -> impl Strategy<Value = ReceiptDate> {
        (
            2000u16..=2099,
            1u8..=12,
            1u8..=31,
            0u8..=23,
            0u8..=59,
            proptest::option::of(0u8..=59),
        )
            .prop_map(|(year, month, day, hour, minute, second)| ReceiptDate {
                year,
                month,
                day: day.min(time::days_in_month(year, month)),
                hour,
                minute,
                second,
            })
    }

    fn valid_receipt() -> impl Strategy<Value = Receipt> {
        let status = proptest::option::of(prop_oneof![
            proptest::sample::select(ReceiptStatus::ALL.to_vec())
                .prop_map(|s| s.as_str().to_string()),
            "[A-Z]{1,10}",
        ]);
        let extra_key = "[a-z][a-z0-9_]{0,8}".prop_filter("not a receipt key", |k| {
            Key::classify(k.as_bytes()) == Key::Other
        });
        (
            "[0-9A-Za-z_-]{1,40}",
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(valid_date()),
            proptest::option::of(valid_date()),
            status,
            proptest::option::of("[0-9]{3,5}|[A-Z][A-Za-z0-9]{0,5}"),
            proptest::collection::vec((extra_key, "[!-~]{0,12}"), 0..4),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=RECEIPT_TEXT_MAX)),
        )
            .prop_map(
                |(id, sub, dlvrd, submit_date, done_date, stat_raw, err, extra, text)| {
                    let stat = stat_raw.as_deref().and_then(ReceiptStatus::parse);
                    Receipt {
                        id,
                        sub,
                        dlvrd,
                        submit_date,
                        done_date,
                        stat,
                        stat_raw: stat.map(|s| s.as_str().to_string()).or(stat_raw),
                        err,
                        text,
                        extra,
                    }
                },
            )
            .prop_filter("needs stat or err", |r| {
                r.stat_raw.is_some() || r.err.is_some()
            })
    }

    proptest! {
        #[test]
        fn prop_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Receipt::parse(&bytes);
        }

        #[test]
        fn prop_parse_never_panics_on_mutated_receipts(pos in 0usize..200, junk in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut bytes = FULL.to_vec();
            let pos = pos.min(bytes.len());
            bytes.splice(pos..pos, junk);
            let _ = Receipt::parse(&bytes);
        }

        #[test]
        fn prop_format_parse_identity(r in valid_receipt()) {
            prop_assert_eq!(Receipt::parse(&r.format()), Ok(r));
        }

        #[test]
        fn prop_parse_format_is_stable(bytes in proptest::collection::vec(prop_oneof![
            Just(b' '), Just(b':'), Just(b'0'), Just(b'1'), Just(b'2'), any::<u8>(),
            Just(b'i'), Just(b'd'), Just(b't'), Just(b'x'), Just(b'e'),
        ], 0..80), prefix in prop_oneof![Just(&b"id:1 err:0 "[..]), Just(&b"stat:DELIVRD id:"[..]), Just(&b""[..])]) {
            let mut input = prefix.to_vec();
            input.extend_from_slice(&bytes);
            if let Ok(first) = Receipt::parse(&input) {
                let second = Receipt::parse(&first.format());
                prop_assert!(second.is_ok(), "{:?} -> {:?}", first, second);
                if let Ok(second) = second {
                    prop_assert_eq!(Receipt::parse(&second.format()), Ok(second));
                }
            }
        }

        #[test]
        fn prop_network_error_code_round_trip(b in any::<[u8; 3]>()) {
            prop_assert_eq!(NetworkErrorCode::parse(&b).map(|n| n.to_bytes()), Ok(b));
        }

        #[test]
        fn prop_ids_match_is_symmetric_and_reflexive(a in "[0-9a-fA-F]{1,20}", b in "[0-9a-fA-F]{1,20}") {
            prop_assert_eq!(message_ids_match(&a, &b), message_ids_match(&b, &a));
            prop_assert!(message_ids_match(&a, &a));
        }

        #[test]
        fn prop_hex_matches_its_decimal(n in any::<u64>()) {
            let hex = format!("{:X}", n);
            prop_assert!(message_ids_match(&hex, &n.to_string()));
            prop_assert!(!message_ids_match(&n.to_string(), &n.wrapping_add(1).to_string()) || n == u64::MAX);
        }
    }
}
