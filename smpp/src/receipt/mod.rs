//! Delivery receipts (Appendix B): the receipt text an SMSC puts in the `short_message` of a
//! `deliver_sm` or `data_sm`, parsed tolerantly and formatted strictly. The lexer lives in
//! `scanner.rs`; matching the receipt's id to a submitted message across its hex and decimal
//! forms ([`message_ids_match`], [`normalize_message_id`]) in `message_id.rs`; the `stat:`
//! word is a [`MessageState`] (section 5.2.28).
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

mod message_id;
mod scanner;

use core::fmt;

use crate::time::{self, AbsoluteTime, TimeError, TimeField};
use crate::values::MessageState;
pub use message_id::{message_ids_match, normalize_message_id, IdRadix, MessageIdKey};
use scanner::{Key, Scanner, Token};

/// Most octets of the original message that a receipt's `text` carries (Appendix B,
/// Table B-1: "The first 20 characters of the short message", size 20 octets).
pub const RECEIPT_TEXT_MAX: usize = 20;

/// Why a delivery receipt or one of its dates was rejected.
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
    /// The recognised status, if `stat_raw` is a known word (see [`MessageState::parse`]).
    pub stat: Option<MessageState>,
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
        let mut scanner = Scanner::new(input);
        while let Some(token) = scanner.next_token() {
            saw_token = true;
            match token {
                Token::Text(text) => r.text = Some(text.to_vec()),
                Token::Bare(word) => {
                    let status = MessageState::parse_word(word);
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
                                r.stat = MessageState::parse_word(value);
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
            (Some(s), _) => Some(s.word()),
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
    message_id::digits(value, 10)
        .and_then(|d| message_id::parse_radix(d, 10))
        .and_then(|n| u32::try_from(n).ok())
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
        assert_eq!(r.stat, Some(MessageState::Delivered));
        assert_eq!(r.stat_raw.as_deref(), Some("DELIVRD"));
        assert_eq!(r.err.as_deref(), Some("000"));
        assert_eq!(r.text.as_deref(), Some(&b"Hello, world: hi"[..]));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn appendix_b_line_break_inside_done_date_key() {
        let r = parse(b"id:1 sub:001 dlvrd:001 submit date:0610101200 done\r\ndate:0610101201 stat:EXPIRED err:E Text: . . .");
        assert_eq!(r.done_date, date("0610101201"));
        assert_eq!(r.stat, Some(MessageState::Expired));
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
        assert_eq!(r.stat, Some(MessageState::Undeliverable));
        assert_eq!(r.stat_raw.as_deref(), Some("undeliv"));
        assert_eq!(r.text.as_deref(), Some(&b"hi there"[..]));
    }

    #[test]
    fn fields_reordered() {
        let r = parse(b"stat:REJECTD err:011 done date:2301011201 id:abc sub:002 submit date:2301011200 dlvrd:000 text:x");
        assert_eq!(r.id, "abc");
        assert_eq!(r.sub, Some(2));
        assert_eq!(r.stat, Some(MessageState::Rejected));
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
        assert_eq!(r.stat, Some(MessageState::Delivered));
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
        assert_eq!(r.stat, Some(MessageState::Delivered));
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

    /// Every prefix of the full receipt, cut anywhere: which fail and with what error, and
    /// what the ones that parse hold. A prefix needs an id with a value and a `stat` value
    /// (this receipt's `err` comes after its `stat`).
    #[test]
    fn every_prefix_of_a_receipt_parses_or_errors() {
        let stat_value = FULL
            .windows(5)
            .position(|w| w == b"stat:")
            .map(|at| at + 5)
            .unwrap_or_else(|| panic!("FULL has a stat field"));
        let mut parsed = 0;
        for n in 0..=FULL.len() {
            let prefix = &FULL[..n];
            let shown = String::from_utf8_lossy(prefix);
            match n {
                0 => assert_eq!(Receipt::parse(prefix), Err(ReceiptError::Empty)),
                // "i", "id": a bare word, no id field.
                1 | 2 => assert_eq!(Receipt::parse(prefix), Err(ReceiptError::MissingId)),
                // "id:"
                3 => assert_eq!(Receipt::parse(prefix), Err(ReceiptError::EmptyId)),
                // "id:0" up to "... stat:": an id but no outcome yet.
                _ if n <= stat_value => assert_eq!(
                    Receipt::parse(prefix),
                    Err(ReceiptError::MissingStatus),
                    "{shown:?}"
                ),
                _ => {
                    let r = parse(prefix);
                    parsed += 1;
                    assert_eq!(r.id, "0123456789", "{shown:?}");
                    assert_eq!((r.sub, r.dlvrd), (Some(1), Some(1)), "{shown:?}");
                    assert_eq!(r.submit_date, date("0610101200"), "{shown:?}");
                    assert_eq!(r.done_date, date("0610101201"), "{shown:?}");
                    let raw = r.stat_raw.clone().unwrap_or_default();
                    assert!(!raw.is_empty() && "DELIVRD".starts_with(&raw), "{shown:?}");
                    let complete = raw == "DELIVRD";
                    assert_eq!(
                        r.stat,
                        complete.then_some(MessageState::Delivered),
                        "{shown:?}"
                    );
                    if n == FULL.len() {
                        assert_eq!(r, parse(FULL));
                    }
                }
            }
        }
        // From "stat:D" to the end.
        assert_eq!(parsed, FULL.len() - stat_value);
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
        assert_eq!(r.stat, Some(MessageState::Delivered));
        assert!(r.extra.is_empty());
    }

    #[test]
    fn space_after_colon() {
        let r = parse(b"id: 77 sub: 1 stat: DELIVRD err: 0 text: hi");
        assert_eq!(r.id, "77");
        assert_eq!(r.sub, Some(1));
        assert_eq!(r.stat, Some(MessageState::Delivered));
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
        assert_eq!(r.stat, Some(MessageState::Delivered));
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
            stat: Some(MessageState::Undeliverable),
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
            proptest::sample::select(MessageState::ALL.to_vec()).prop_map(|s| s.word().to_string()),
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
                    let stat = stat_raw.as_deref().and_then(MessageState::parse);
                    Receipt {
                        id,
                        sub,
                        dlvrd,
                        submit_date,
                        done_date,
                        stat,
                        stat_raw: stat.map(|s| s.word().to_string()).or(stat_raw),
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

    }
}
