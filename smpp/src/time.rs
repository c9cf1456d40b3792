//! SMPP time formats (section 7.1.1): parsing, formatting and Unix-time conversion of the
//! 16-octet `YYMMDDhhmmsstnnp` values used by `schedule_delivery_time`, `validity_period`
//! and `final_date`.
//!
//! Choices this module makes where the specification is silent or loose:
//!
//! * **Century.** `YY` carries only the last two digits of the year (section 7.1.1,
//!   "00-99"). It is mapped to `2000 + YY`, so [`AbsoluteTime::year`] is 2000-2099 for
//!   every parsed value. SMPP 3.4 dates from 1999 and no SMSC sends 20th-century
//!   schedule or expiry times; a sliding window would make the same octets mean different
//!   instants depending on when they are read.
//! * **Empty value.** An empty field (the single NUL of a C-Octet String) means "not set"
//!   and parses to `Ok(None)`. One trailing NUL octet is accepted and ignored, so the raw
//!   17-octet C-Octet String can be passed as well as the bare 16 octets.
//! * **`00-`.** A zero offset with the `-` direction is accepted; it equals `00+` and is
//!   formatted back as `00+`. Every other valid absolute value round-trips octet for octet.
//! * **Relative form.** Section 7.1.1.2 says `t` and `nn` "are ignored and should be set to
//!   '0' and '00'": they must be digits but their value is ignored, and [`SmppTime::format`]
//!   writes zeros. The six relative fields are durations, not calendar fields, so each
//!   accepts 00-99 (e.g. `000000480000000R` is 48 hours). See
//!   [`RelativeTime::to_seconds`] for how they become seconds.
//! * **12-octet form.** The note in section 7.1.1 allows SMSC-reported times as
//!   `YYMMDDhhmmss` (local time, no offset). That form carries no offset, so it is not an
//!   [`SmppTime`]; [`SmppTime::parse`] rejects it with [`TimeError::Length`].

use core::fmt;

/// Length in octets of a set SMPP time value, without the C-Octet String NUL (section 7.1.1).
pub const SMPP_TIME_LEN: usize = 16;

/// Largest UTC offset in quarter hours that section 7.1.1 allows (`nn` is "00-48").
pub const MAX_UTC_OFFSET_QUARTERS: i8 = 48;

/// Seconds in a quarter hour, the unit of the `nn` offset.
const QUARTER_HOUR_SECS: i64 = 15 * 60;
/// Seconds in a day.
const DAY_SECS: i64 = 86_400;
/// Unix time of 0000-01-01T00:00:00Z, the lower bound of [`AbsoluteTime::from_unix`].
const MIN_UNIX: i64 = -62_167_219_200;
/// Unix time of 9999-12-31T23:59:59Z, the upper bound of [`AbsoluteTime::from_unix`].
const MAX_UNIX: i64 = 253_402_300_799;

/// A field of the `YYMMDDhhmmsstnnp` layout, named in [`TimeError`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeField {
    /// `YY`, octets 0-1.
    Year,
    /// `MM`, octets 2-3.
    Month,
    /// `DD`, octets 4-5.
    Day,
    /// `hh`, octets 6-7.
    Hour,
    /// `mm`, octets 8-9.
    Minute,
    /// `ss`, octets 10-11.
    Second,
    /// `t`, octet 12.
    Tenths,
    /// `nn`, octets 13-14.
    UtcOffset,
    /// `p`, octet 15.
    Direction,
}

impl TimeField {
    /// Human-readable name with the specification's letters, e.g. `"month (MM)"`.
    pub const fn name(self) -> &'static str {
        match self {
            TimeField::Year => "year (YY)",
            TimeField::Month => "month (MM)",
            TimeField::Day => "day (DD)",
            TimeField::Hour => "hour (hh)",
            TimeField::Minute => "minute (mm)",
            TimeField::Second => "second (ss)",
            TimeField::Tenths => "tenths (t)",
            TimeField::UtcOffset => "UTC offset (nn)",
            TimeField::Direction => "direction (p)",
        }
    }

    /// Zero-based offset of the field's first octet in the 16-octet value.
    pub const fn position(self) -> usize {
        match self {
            TimeField::Year => 0,
            TimeField::Month => 2,
            TimeField::Day => 4,
            TimeField::Hour => 6,
            TimeField::Minute => 8,
            TimeField::Second => 10,
            TimeField::Tenths => 12,
            TimeField::UtcOffset => 13,
            TimeField::Direction => 15,
        }
    }
}

impl fmt::Display for TimeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an SMPP time value (or the date part of a delivery receipt) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The value is neither empty nor 16 octets (section 7.1.1).
    #[error("SMPP time must be empty or {len} octets \"YYMMDDhhmmsstnnp\" (section 7.1.1), got {0} octets", len = SMPP_TIME_LEN)]
    Length(usize),
    /// A position that must hold an ASCII digit does not.
    #[error(
        "SMPP time {field}: octet {position} is 0x{byte:02x}, not an ASCII digit (section 7.1.1)"
    )]
    NotDigit {
        /// The field the octet belongs to.
        field: TimeField,
        /// Zero-based octet offset.
        position: usize,
        /// The offending octet.
        byte: u8,
    },
    /// A field holds digits but a value outside its range.
    #[error("SMPP time {field} at octet {position} is {value}, must be {min}-{max} (section 7.1.1)", position = field.position())]
    OutOfRange {
        /// The field.
        field: TimeField,
        /// The value found.
        value: u16,
        /// Smallest allowed value.
        min: u16,
        /// Largest allowed value (for the day: the length of that month).
        max: u16,
    },
    /// Octet 15 (`p`) is not `+`, `-` or `R`.
    #[error("SMPP time {field} at octet 15 is 0x{0:02x}, must be '+', '-' or 'R' (section 7.1.1)", field = TimeField::Direction)]
    Direction(u8),
}

/// An absolute point in time: `YYMMDDhhmmsstnn` with `p` = `+` or `-` (section 7.1.1.1).
///
/// The date and time fields are the *local* time of the sender; `utc_offset_quarters` says
/// how far that local time is ahead of (positive, `+`) or behind (negative, `-`) UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsoluteTime {
    /// Full year; parsed values are `2000 + YY` (see the module documentation).
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day of the month, 1 to the length of the month.
    pub day: u8,
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
    /// Second, 0-59.
    pub second: u8,
    /// Tenths of a second, 0-9.
    pub tenths: u8,
    /// Offset of the local time from UTC in quarter hours, -48..=48; the sign is `p`.
    pub utc_offset_quarters: i8,
}

/// A relative period: `YYMMDDhhmmss000R` (section 7.1.1.2), counted from the SMSC's
/// current time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RelativeTime {
    /// Years, 0-99.
    pub years: u8,
    /// Months, 0-99.
    pub months: u8,
    /// Days, 0-99.
    pub days: u8,
    /// Hours, 0-99.
    pub hours: u8,
    /// Minutes, 0-99.
    pub minutes: u8,
    /// Seconds, 0-99.
    pub seconds: u8,
}

/// A set SMPP time value (section 7.1.1): absolute or relative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmppTime {
    /// `p` is `+` or `-` (section 7.1.1.1).
    Absolute(AbsoluteTime),
    /// `p` is `R` (section 7.1.1.2).
    Relative(RelativeTime),
}

impl SmppTime {
    /// Parses a time field (section 7.1.1).
    ///
    /// Empty input (or a lone NUL) is `Ok(None)`, "not set". Otherwise the input must be
    /// exactly 16 octets (one trailing NUL is tolerated): octets 0-14 ASCII digits, octet 15
    /// `+`, `-` or `R`. Absolute values are range-checked (month 01-12, day 01 to the length
    /// of the month, hour 00-23, minute and second 00-59, offset 00-48); relative fields
    /// accept 00-99. Never panics.
    ///
    /// # Errors
    ///
    /// [`TimeError::Length`], [`TimeError::NotDigit`], [`TimeError::Direction`] or
    /// [`TimeError::OutOfRange`], naming the field and octet position.
    pub fn parse(input: &[u8]) -> Result<Option<SmppTime>, TimeError> {
        let input = match input {
            [rest @ .., 0] => rest,
            _ => input,
        };
        if input.is_empty() {
            return Ok(None);
        }
        if input.len() != SMPP_TIME_LEN {
            return Err(TimeError::Length(input.len()));
        }
        // All digit checks first, in octet order, so the first bad octet is the one reported.
        let yy = digit_pair(input, TimeField::Year)?;
        let mo = digit_pair(input, TimeField::Month)?;
        let dd = digit_pair(input, TimeField::Day)?;
        let hh = digit_pair(input, TimeField::Hour)?;
        let mi = digit_pair(input, TimeField::Minute)?;
        let ss = digit_pair(input, TimeField::Second)?;
        let t = digit_at(input, TimeField::Tenths.position(), TimeField::Tenths)?;
        let nn = digit_pair(input, TimeField::UtcOffset)?;
        let p = input
            .get(TimeField::Direction.position())
            .copied()
            .ok_or(TimeError::Length(input.len()))?;
        match p {
            b'R' => Ok(Some(SmppTime::Relative(RelativeTime {
                years: yy,
                months: mo,
                days: dd,
                hours: hh,
                minutes: mi,
                seconds: ss,
            }))),
            b'+' | b'-' => {
                let magnitude = i8::try_from(nn).unwrap_or(i8::MAX);
                let t = AbsoluteTime {
                    year: year_from_yy(yy),
                    month: mo,
                    day: dd,
                    hour: hh,
                    minute: mi,
                    second: ss,
                    tenths: t,
                    utc_offset_quarters: if p == b'-' { -magnitude } else { magnitude },
                };
                t.validate()?;
                Ok(Some(SmppTime::Absolute(t)))
            }
            other => Err(TimeError::Direction(other)),
        }
    }

    /// Formats the value as its 16 octets (section 7.1.1). A relative value always gets
    /// `t` = `0` and `nn` = `00`. Parsing the result gives back `self` for every value that
    /// [`SmppTime::parse`] can produce (see [`AbsoluteTime::format`] for others).
    pub fn format(&self) -> [u8; SMPP_TIME_LEN] {
        match self {
            SmppTime::Absolute(t) => t.format(),
            SmppTime::Relative(r) => r.format(),
        }
    }

    /// The Unix time (seconds, UTC) this value designates: an absolute time as it is, a
    /// relative one added to `now_unix` (saturating) using [`RelativeTime::to_seconds`].
    pub fn resolve(&self, now_unix: i64) -> i64 {
        match self {
            SmppTime::Absolute(t) => t.to_unix(),
            SmppTime::Relative(r) => {
                now_unix.saturating_add(i64::try_from(r.to_seconds()).unwrap_or(i64::MAX))
            }
        }
    }
}

impl fmt::Display for SmppTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ascii(f, &self.format())
    }
}

impl From<AbsoluteTime> for SmppTime {
    fn from(t: AbsoluteTime) -> Self {
        SmppTime::Absolute(t)
    }
}

impl From<RelativeTime> for SmppTime {
    fn from(r: RelativeTime) -> Self {
        SmppTime::Relative(r)
    }
}

impl AbsoluteTime {
    /// Checks every field against section 7.1.1: year 2000-2099 (the range `YY` can
    /// express here), month 1-12, day 1 to the length of the month (leap years counted),
    /// hour 0-23, minute and second 0-59, tenths 0-9, offset -48..=48 quarter hours.
    ///
    /// # Errors
    ///
    /// [`TimeError::OutOfRange`] for the first field, in that order, that is out of range.
    pub fn validate(&self) -> Result<(), TimeError> {
        check_range(TimeField::Year, self.year, 2000, 2099)?;
        validate_civil(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        )?;
        check_range(TimeField::Tenths, u16::from(self.tenths), 0, 9)?;
        check_range(
            TimeField::UtcOffset,
            u16::from(self.utc_offset_quarters.unsigned_abs()),
            0,
            MAX_UTC_OFFSET_QUARTERS.unsigned_abs().into(),
        )
    }

    /// Formats as `YYMMDDhhmmsstnnp`. `YY` is `year % 100`; a zero offset is written `00+`.
    ///
    /// Never panics; a field outside its range (see [`AbsoluteTime::validate`]) is written
    /// modulo 100 (modulo 10 for tenths), which does not parse back to the same value, so
    /// validate values built by hand before sending them.
    pub fn format(&self) -> [u8; SMPP_TIME_LEN] {
        let mut out = [b'0'; SMPP_TIME_LEN];
        put_pair(&mut out, 0, (self.year % 100) as u8);
        put_pair(&mut out, 2, self.month);
        put_pair(&mut out, 4, self.day);
        put_pair(&mut out, 6, self.hour);
        put_pair(&mut out, 8, self.minute);
        put_pair(&mut out, 10, self.second);
        out[12] = b'0' + self.tenths % 10;
        put_pair(&mut out, 13, self.utc_offset_quarters.unsigned_abs());
        out[15] = if self.utc_offset_quarters < 0 {
            b'-'
        } else {
            b'+'
        };
        out
    }

    /// Seconds since 1970-01-01T00:00:00Z of this instant: the local fields converted with
    /// the days-from-civil algorithm (proleptic Gregorian calendar), minus the UTC offset
    /// (`+` means local time is ahead of UTC). Tenths are dropped (rounded down).
    ///
    /// Never panics or overflows, whatever the field values; out-of-range fields give a
    /// meaningless but finite result.
    pub fn to_unix(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let local = days * DAY_SECS
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        local - i64::from(self.utc_offset_quarters) * QUARTER_HOUR_SECS
    }

    /// The absolute time of Unix instant `secs`, expressed in the local time that is
    /// `offset_quarters` quarter hours ahead of UTC; `tenths` is 0.
    ///
    /// `offset_quarters` is clamped to -48..=48 and the local time to years 0-9999, so the
    /// function is total; only years 2000-2099 format and parse back unchanged.
    pub fn from_unix(secs: i64, offset_quarters: i8) -> AbsoluteTime {
        let offset = offset_quarters.clamp(-MAX_UTC_OFFSET_QUARTERS, MAX_UTC_OFFSET_QUARTERS);
        let local = secs
            .saturating_add(i64::from(offset) * QUARTER_HOUR_SECS)
            .clamp(MIN_UNIX, MAX_UNIX);
        let days = local.div_euclid(DAY_SECS);
        // 0..=86_399, so hour, minute and second below all fit in u8.
        let secs_of_day = local.rem_euclid(DAY_SECS);
        let (year, month, day) = civil_from_days(days);
        AbsoluteTime {
            // The clamp above keeps the year in 0..=9999.
            year: u16::try_from(year).unwrap_or(0),
            month,
            day,
            hour: u8::try_from(secs_of_day / 3600).unwrap_or(0),
            minute: u8::try_from(secs_of_day % 3600 / 60).unwrap_or(0),
            second: u8::try_from(secs_of_day % 60).unwrap_or(0),
            tenths: 0,
            utc_offset_quarters: offset,
        }
    }
}

impl fmt::Display for AbsoluteTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ascii(f, &self.format())
    }
}

impl RelativeTime {
    /// Length of the period in seconds, by the usual SMSC convention: a year is 365 days
    /// and a month is 30 days (section 7.1.1.2 does not define them; calendar-aware SMSCs
    /// may expire a message up to a few days apart from this). Cannot overflow.
    pub fn to_seconds(&self) -> u64 {
        let days = u64::from(self.years) * 365 + u64::from(self.months) * 30 + u64::from(self.days);
        days * 86_400
            + u64::from(self.hours) * 3600
            + u64::from(self.minutes) * 60
            + u64::from(self.seconds)
    }

    /// Formats as `YYMMDDhhmmss000R` (section 7.1.1.2); fields above 99 are written modulo 100.
    pub fn format(&self) -> [u8; SMPP_TIME_LEN] {
        let mut out = [b'0'; SMPP_TIME_LEN];
        put_pair(&mut out, 0, self.years);
        put_pair(&mut out, 2, self.months);
        put_pair(&mut out, 4, self.days);
        put_pair(&mut out, 6, self.hours);
        put_pair(&mut out, 8, self.minutes);
        put_pair(&mut out, 10, self.seconds);
        out[15] = b'R';
        out
    }
}

impl fmt::Display for RelativeTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ascii(f, &self.format())
    }
}

/// Maps a two-digit `YY` to the full year, `2000 + YY` (see the module documentation).
pub(crate) const fn year_from_yy(yy: u8) -> u16 {
    2000 + yy as u16
}

/// Whether `year` is a Gregorian leap year.
pub(crate) const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in `month` (1-12) of `year`; 0 for a month outside 1-12.
pub(crate) const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Checks month, day, hour, minute and second against section 7.1.1 ("MM 01-12", "DD
/// 01-31" narrowed to the month's length, "hh 00-23", "mm 00-59", "ss 00-59").
pub(crate) fn validate_civil(
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
) -> Result<(), TimeError> {
    check_range(TimeField::Month, month.into(), 1, 12)?;
    check_range(
        TimeField::Day,
        day.into(),
        1,
        days_in_month(year, month).into(),
    )?;
    check_range(TimeField::Hour, hour.into(), 0, 23)?;
    check_range(TimeField::Minute, minute.into(), 0, 59)?;
    check_range(TimeField::Second, second.into(), 0, 59)
}

/// Reads the two ASCII digits of `field` from `bytes` (positions per [`TimeField::position`]).
pub(crate) fn digit_pair(bytes: &[u8], field: TimeField) -> Result<u8, TimeError> {
    let pos = field.position();
    let hi = digit_at(bytes, pos, field)?;
    let lo = digit_at(bytes, pos + 1, field)?;
    Ok(hi * 10 + lo)
}

/// Appends `value % 100` as two ASCII digits.
pub(crate) fn push_pair(out: &mut Vec<u8>, value: u8) {
    let v = value % 100;
    out.push(b'0' + v / 10);
    out.push(b'0' + v % 10);
}

fn digit_at(bytes: &[u8], pos: usize, field: TimeField) -> Result<u8, TimeError> {
    match bytes.get(pos) {
        Some(&b) if b.is_ascii_digit() => Ok(b - b'0'),
        Some(&b) => Err(TimeError::NotDigit {
            field,
            position: pos,
            byte: b,
        }),
        None => Err(TimeError::Length(bytes.len())),
    }
}

fn check_range(field: TimeField, value: u16, min: u16, max: u16) -> Result<(), TimeError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(TimeError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

fn put_pair(out: &mut [u8; SMPP_TIME_LEN], pos: usize, value: u8) {
    let v = value % 100;
    if let Some([hi, lo]) = out.get_mut(pos..pos + 2) {
        *hi = b'0' + v / 10;
        *lo = b'0' + v % 10;
    }
}

fn write_ascii(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes
        .iter()
        .try_for_each(|&b| fmt::Write::write_char(f, char::from(b)))
}

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d` (days-from-civil: the year
/// is shifted to start in March so the leap day falls last, then split into 400-year eras
/// of 146 097 days). Total for any input; meaningful for month 1-12.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let month_from_march = (m + 9).rem_euclid(12); // March = 0 .. February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Inverse of [`days_from_civil`]: the date (year, month 1-12, day 1-31) of day `z`.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u8::try_from(month).unwrap_or(0),
        u8::try_from(day).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_ok(s: &str) -> SmppTime {
        match SmppTime::parse(s.as_bytes()) {
            Ok(Some(t)) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn abs(s: &str) -> AbsoluteTime {
        match parse_ok(s) {
            SmppTime::Absolute(t) => t,
            other => panic!("{s}: not absolute: {other:?}"),
        }
    }

    fn err(s: &[u8]) -> TimeError {
        match SmppTime::parse(s) {
            Err(e) => e,
            Ok(v) => panic!("{s:?} parsed as {v:?}"),
        }
    }

    fn round_trip(s: &str) {
        let t = parse_ok(s);
        assert_eq!(&t.format()[..], s.as_bytes(), "{s}");
        assert_eq!(t.to_string(), s);
    }

    #[test]
    fn empty_is_not_set() {
        assert_eq!(SmppTime::parse(b""), Ok(None));
        assert_eq!(SmppTime::parse(b"\0"), Ok(None));
    }

    #[test]
    fn trailing_nul_tolerated() {
        let with_nul = SmppTime::parse(b"240229123456748+\0");
        assert!(matches!(with_nul, Ok(Some(SmppTime::Absolute(_)))));
        assert_eq!(with_nul, SmppTime::parse(b"240229123456748+"));
        assert_eq!(err(b"240229123456748+\0\0"), TimeError::Length(17));
    }

    #[test]
    fn absolute_positive_offset_fields() {
        let t = abs("240229123456748+");
        assert_eq!(
            t,
            AbsoluteTime {
                year: 2024,
                month: 2,
                day: 29,
                hour: 12,
                minute: 34,
                second: 56,
                tenths: 7,
                utc_offset_quarters: 48,
            }
        );
    }

    #[test]
    fn absolute_negative_offset_fields() {
        let t = abs("991231235959920-");
        assert_eq!(t.year, 2099);
        assert_eq!(t.utc_offset_quarters, -20);
        assert_eq!(t.tenths, 9);
    }

    #[test]
    fn round_trip_absolute_plus() {
        round_trip("240229123456748+");
        round_trip("000101000000000+");
        round_trip("250615083000404+");
    }

    #[test]
    fn round_trip_absolute_minus() {
        round_trip("991231235959948-");
        round_trip("251101170000520-");
    }

    #[test]
    fn round_trip_relative() {
        round_trip("020610233429000R");
        round_trip("000007000000000R");
        round_trip("999999999999000R");
    }

    #[test]
    fn spec_relative_example() {
        // Section 7.1.1.2: 2 years, 6 months, 10 days, 23 hours, 34 minutes, 29 seconds.
        let t = parse_ok("020610233429000R");
        assert_eq!(
            t,
            SmppTime::Relative(RelativeTime {
                years: 2,
                months: 6,
                days: 10,
                hours: 23,
                minutes: 34,
                seconds: 29
            })
        );
    }

    #[test]
    fn relative_fields_are_durations() {
        let SmppTime::Relative(r) = parse_ok("000000480000000R") else {
            panic!("not relative")
        };
        assert_eq!(r.hours, 48);
        assert_eq!(r.to_seconds(), 48 * 3600);
    }

    #[test]
    fn relative_ignores_tenths_and_offset() {
        let t = parse_ok("000001000000512R");
        assert_eq!(&t.format(), b"000001000000000R");
    }

    #[test]
    fn zero_offset_minus_formats_as_plus() {
        let t = parse_ok("240101000000000-");
        assert_eq!(&t.format(), b"240101000000000+");
    }

    #[test]
    fn invalid_length_short() {
        assert_eq!(err(b"2401010000000+"), TimeError::Length(14));
    }

    #[test]
    fn invalid_length_long() {
        assert_eq!(err(b"2401010000000000+"), TimeError::Length(17));
    }

    #[test]
    fn invalid_length_twelve_digit_local_form() {
        assert_eq!(err(b"240101120000"), TimeError::Length(12));
    }

    #[test]
    fn invalid_non_digit() {
        assert_eq!(
            err(b"24a101000000000+"),
            TimeError::NotDigit {
                field: TimeField::Month,
                position: 2,
                byte: b'a'
            }
        );
        assert_eq!(
            err(b"2401010000x0000+"),
            TimeError::NotDigit {
                field: TimeField::Second,
                position: 10,
                byte: b'x'
            }
        );
        assert_eq!(
            err(b"24010100000000 +"),
            TimeError::NotDigit {
                field: TimeField::UtcOffset,
                position: 14,
                byte: b' '
            }
        );
    }

    #[test]
    fn invalid_month_13() {
        assert_eq!(
            err(b"241301000000000+"),
            TimeError::OutOfRange {
                field: TimeField::Month,
                value: 13,
                min: 1,
                max: 12
            }
        );
    }

    #[test]
    fn invalid_month_00() {
        assert!(matches!(
            err(b"240001000000000+"),
            TimeError::OutOfRange {
                field: TimeField::Month,
                value: 0,
                ..
            }
        ));
    }

    #[test]
    fn invalid_day_32() {
        assert_eq!(
            err(b"240132000000000+"),
            TimeError::OutOfRange {
                field: TimeField::Day,
                value: 32,
                min: 1,
                max: 31
            }
        );
    }

    #[test]
    fn invalid_day_00() {
        assert!(matches!(
            err(b"240100000000000+"),
            TimeError::OutOfRange {
                field: TimeField::Day,
                value: 0,
                ..
            }
        ));
    }

    #[test]
    fn invalid_february_29_in_common_year() {
        assert_eq!(
            err(b"230229000000000+"),
            TimeError::OutOfRange {
                field: TimeField::Day,
                value: 29,
                min: 1,
                max: 28
            }
        );
        assert!(SmppTime::parse(b"240229000000000+").is_ok());
    }

    #[test]
    fn invalid_hour_24() {
        assert_eq!(
            err(b"240101240000000+"),
            TimeError::OutOfRange {
                field: TimeField::Hour,
                value: 24,
                min: 0,
                max: 23
            }
        );
    }

    #[test]
    fn invalid_minute_60() {
        assert_eq!(
            err(b"240101006000000+"),
            TimeError::OutOfRange {
                field: TimeField::Minute,
                value: 60,
                min: 0,
                max: 59
            }
        );
    }

    #[test]
    fn invalid_second_60() {
        assert_eq!(
            err(b"240101000060000+"),
            TimeError::OutOfRange {
                field: TimeField::Second,
                value: 60,
                min: 0,
                max: 59
            }
        );
    }

    #[test]
    fn invalid_offset_49() {
        assert_eq!(
            err(b"240101000000049-"),
            TimeError::OutOfRange {
                field: TimeField::UtcOffset,
                value: 49,
                min: 0,
                max: 48
            }
        );
    }

    #[test]
    fn invalid_direction() {
        assert_eq!(err(b"240101000000000Z"), TimeError::Direction(b'Z'));
        assert_eq!(err(b"240101000000000r"), TimeError::Direction(b'r'));
    }

    #[test]
    fn error_messages_name_the_field() {
        let msg = err(b"241301000000000+").to_string();
        assert!(
            msg.contains("month (MM)") && msg.contains("octet 2"),
            "{msg}"
        );
        let msg = err(b"240101000000000Z").to_string();
        assert!(msg.contains("direction (p)"), "{msg}");
        let msg = err(b"2401").to_string();
        assert!(msg.contains("16 octets") && msg.contains("got 4"), "{msg}");
    }

    #[test]
    fn unix_epoch() {
        // "70" is 2070, not 1970: 36 525 days after the epoch.
        assert_eq!(abs("700101000000000+").to_unix(), 3_155_760_000);
        let epoch = AbsoluteTime {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            tenths: 0,
            utc_offset_quarters: 0,
        };
        assert_eq!(epoch.to_unix(), 0);
        assert_eq!(AbsoluteTime::from_unix(0, 0), epoch);
    }

    #[test]
    fn unix_known_dates() {
        // 2000-01-01T00:00:00Z
        assert_eq!(abs("000101000000000+").to_unix(), 946_684_800);
        // 2024-02-29T12:00:00Z (leap day)
        assert_eq!(abs("240229120000000+").to_unix(), 1_709_208_000);
        // 2038-01-19T03:14:07Z (i32 limit)
        assert_eq!(abs("380119031407000+").to_unix(), 2_147_483_647);
        // 2099-12-31T23:59:59Z
        assert_eq!(abs("991231235959000+").to_unix(), 4_102_444_799);
    }

    #[test]
    fn unix_leap_years() {
        // 2100 is not a leap year: 2100-03-01 follows 2100-02-28.
        let feb28 = AbsoluteTime::from_unix(4_107_456_000, 0);
        assert_eq!((feb28.year, feb28.month, feb28.day), (2100, 2, 28));
        let mar1 = AbsoluteTime::from_unix(4_107_456_000 + DAY_SECS, 0);
        assert_eq!((mar1.year, mar1.month, mar1.day), (2100, 3, 1));
        // 2000 is a leap year.
        let feb29 = AbsoluteTime::from_unix(951_782_400, 0);
        assert_eq!((feb29.year, feb29.month, feb29.day), (2000, 2, 29));
        assert!(is_leap_year(2000) && is_leap_year(2024));
        assert!(!is_leap_year(2100) && !is_leap_year(2023));
    }

    #[test]
    fn unix_applies_offset() {
        // 14:00 local at UTC+2h (8 quarters) is 12:00Z.
        let plus = abs("240615140000008+");
        let utc = abs("240615120000000+");
        assert_eq!(plus.to_unix(), utc.to_unix());
        // 07:15 local at UTC-4h45 (19 quarters) is 12:00Z.
        let minus = abs("240615071500019-");
        assert_eq!(minus.to_unix(), utc.to_unix());
        // Crossing a date boundary: 2024-01-01 01:00 at +12h is 2023-12-31 13:00Z.
        assert_eq!(
            abs("240101010000048+").to_unix(),
            abs("231231130000000+").to_unix()
        );
    }

    #[test]
    fn from_unix_with_offset() {
        let t = AbsoluteTime::from_unix(1_718_452_800, -19); // 2024-06-15T12:00:00Z
        assert_eq!(&t.format(), b"240615071500019-");
        let t = AbsoluteTime::from_unix(1_718_452_800, 8);
        assert_eq!(&t.format(), b"240615140000008+");
    }

    #[test]
    fn from_unix_is_total() {
        for secs in [i64::MIN, i64::MAX, MIN_UNIX - 1, MAX_UNIX + 1] {
            for off in [i8::MIN, -48, 0, 48, i8::MAX] {
                let t = AbsoluteTime::from_unix(secs, off);
                assert!(t.year <= 9999);
                assert!((-48..=48).contains(&t.utc_offset_quarters));
            }
        }
        assert_eq!(AbsoluteTime::from_unix(i64::MAX, 0).year, 9999);
        assert_eq!(AbsoluteTime::from_unix(i64::MIN, 0).year, 0);
    }

    #[test]
    fn to_unix_is_total_on_garbage_fields() {
        let t = AbsoluteTime {
            year: u16::MAX,
            month: 200,
            day: 0,
            hour: 255,
            minute: 255,
            second: 255,
            tenths: 255,
            utc_offset_quarters: i8::MIN,
        };
        let _ = t.to_unix();
        assert_eq!(t.format().len(), SMPP_TIME_LEN);
        assert!(t.validate().is_err());
    }

    #[test]
    fn relative_to_seconds_convention() {
        let r = RelativeTime {
            years: 1,
            months: 1,
            days: 1,
            hours: 1,
            minutes: 1,
            seconds: 1,
        };
        assert_eq!(r.to_seconds(), (365 + 30 + 1) * 86_400 + 3600 + 60 + 1);
        let max = RelativeTime {
            years: 255,
            months: 255,
            days: 255,
            hours: 255,
            minutes: 255,
            seconds: 255,
        };
        assert!(max.to_seconds() > 0);
    }

    #[test]
    fn resolve_absolute_and_relative() {
        let now = 1_700_000_000;
        assert_eq!(parse_ok("000007000000000R").resolve(now), now + 7 * 86_400);
        assert_eq!(parse_ok("000101000000000+").resolve(now), 946_684_800);
        assert_eq!(parse_ok("990000000000000R").resolve(i64::MAX), i64::MAX);
    }

    #[test]
    fn validate_rejects_out_of_century_year() {
        let mut t = abs("240101000000000+");
        t.year = 1999;
        assert!(matches!(
            t.validate(),
            Err(TimeError::OutOfRange {
                field: TimeField::Year,
                ..
            })
        ));
    }

    fn valid_absolute() -> impl Strategy<Value = AbsoluteTime> {
        (
            2000u16..=2099,
            1u8..=12,
            1u8..=31,
            0u8..=23,
            0u8..=59,
            0u8..=59,
            0u8..=9,
            -48i8..=48,
        )
            .prop_map(|(year, month, day, hour, minute, second, tenths, off)| {
                AbsoluteTime {
                    year,
                    month,
                    day: day.min(days_in_month(year, month)),
                    hour,
                    minute,
                    second,
                    tenths,
                    utc_offset_quarters: off,
                }
            })
    }

    proptest! {
        #[test]
        fn prop_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = SmppTime::parse(&bytes);
        }

        #[test]
        fn prop_parse_never_panics_near_valid(mut bytes in proptest::collection::vec(b'0'..=b'9', 16), p in any::<u8>()) {
            bytes[15] = p;
            let _ = SmppTime::parse(&bytes);
        }

        #[test]
        fn prop_absolute_round_trip(t in valid_absolute()) {
            let bytes = t.format();
            prop_assert_eq!(SmppTime::parse(&bytes), Ok(Some(SmppTime::Absolute(t))));
        }

        #[test]
        fn prop_relative_round_trip(f in proptest::array::uniform6(0u8..=99)) {
            let r = RelativeTime { years: f[0], months: f[1], days: f[2], hours: f[3], minutes: f[4], seconds: f[5] };
            prop_assert_eq!(SmppTime::parse(&r.format()), Ok(Some(SmppTime::Relative(r))));
        }

        #[test]
        fn prop_unix_round_trip(secs in MIN_UNIX + 12 * 3600..=MAX_UNIX - 12 * 3600, off in -48i8..=48) {
            let t = AbsoluteTime::from_unix(secs, off);
            prop_assert_eq!(t.to_unix(), secs);
        }

        #[test]
        fn prop_to_unix_from_unix(t in valid_absolute()) {
            let back = AbsoluteTime::from_unix(t.to_unix(), t.utc_offset_quarters);
            prop_assert_eq!(back, AbsoluteTime { tenths: 0, ..t });
        }
    }
}
