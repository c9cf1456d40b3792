//! Durations as the configuration writes them: a whole number and one unit, `250ms`, `30s`,
//! `10m`, `24h`, `7d`; parsed into and printed from `std::time::Duration`.

use serde::de::{Deserializer, Visitor};
use serde::Serializer;
use std::fmt;
use std::time::Duration;
use thiserror::Error;

/// The units a duration may be written in, largest first (the printer picks the largest that
/// divides the value exactly).
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a duration string was refused. The message quotes the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("an empty string is not a duration (write e.g. \"30s\")")]
    Empty,
    /// The text does not start with a digit (a sign, a space, a letter).
    #[error("{0:?} is not a duration: it must start with a whole number (e.g. \"30s\")")]
    NoNumber(String),
    /// A number with no unit after it.
    #[error("{0:?} is not a duration: the unit is missing (ms, s, m, h or d)")]
    NoUnit(String),
    /// A unit that is not one of ms, s, m, h, d (also catches `1.5s` and `1h30m`).
    #[error("{text:?} is not a duration: unknown unit {unit:?} (ms, s, m, h or d)")]
    BadUnit {
        /// The whole text.
        text: String,
        /// What followed the number.
        unit: String,
    },
    /// A number too large for a duration in milliseconds.
    #[error("{0:?} is not a duration: the number is too large")]
    Overflow(String),
}

/// Parses `"<whole number><unit>"` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(DurationError::NoNumber(text.to_owned()));
    }
    if unit.is_empty() {
        return Err(DurationError::NoUnit(text.to_owned()));
    }
    let Some(&(_, millis_per_unit)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(DurationError::BadUnit {
            text: text.to_owned(),
            unit: unit.to_owned(),
        });
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .map(Duration::from_millis)
        .ok_or_else(|| DurationError::Overflow(text.to_owned()))
}

/// Writes a duration in the largest unit that divides it exactly (`24h`, `90s`, `250ms`);
/// sub-millisecond parts, which the parser never produces, are dropped.
pub fn format(d: Duration) -> String {
    let millis = d.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    // The last unit, 1 ms, divides everything.
    let (name, per) = UNITS
        .into_iter()
        .find(|(_, per)| millis.is_multiple_of(u128::from(*per)))
        .unwrap_or(("ms", 1));
    format!("{}{name}", millis / u128::from(per))
}

/// A `Display` adapter for error messages: `Show(d)` prints as [`format`] does.
pub struct Show(pub Duration);

impl fmt::Display for Show {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

/// `#[serde(with = "duration")]` for a `Duration` field.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    struct DurationVisitor;
    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration string such as \"30s\", \"250ms\", \"10m\" or \"24h\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
            parse(v).map_err(E::custom)
        }
    }
    d.deserialize_str(DurationVisitor)
}

/// `#[serde(with = "duration")]` for a `Duration` field.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(parse(""), Err(DurationError::Empty));
    }

    #[test]
    fn missing_unit_is_refused() {
        assert_eq!(parse("30"), Err(DurationError::NoUnit("30".into())));
    }

    #[test]
    fn missing_number_is_refused() {
        assert_eq!(parse("s"), Err(DurationError::NoNumber("s".into())));
    }

    #[test]
    fn negative_is_refused() {
        assert_eq!(parse("-1s"), Err(DurationError::NoNumber("-1s".into())));
    }

    #[test]
    fn leading_space_is_refused() {
        assert_eq!(parse(" 1s"), Err(DurationError::NoNumber(" 1s".into())));
    }

    #[test]
    fn space_before_the_unit_is_refused() {
        assert!(matches!(parse("30 s"), Err(DurationError::BadUnit { unit, .. }) if unit == " s"));
    }

    #[test]
    fn unknown_unit_is_refused() {
        assert!(matches!(parse("30x"), Err(DurationError::BadUnit { unit, .. }) if unit == "x"));
        assert!(matches!(parse("5sec"), Err(DurationError::BadUnit { unit, .. }) if unit == "sec"));
    }

    #[test]
    fn upper_case_unit_is_refused() {
        assert!(matches!(parse("30S"), Err(DurationError::BadUnit { .. })));
    }

    #[test]
    fn fraction_is_refused() {
        assert!(matches!(parse("1.5s"), Err(DurationError::BadUnit { unit, .. }) if unit == ".5s"));
    }

    #[test]
    fn compound_is_refused() {
        assert!(
            matches!(parse("1h30m"), Err(DurationError::BadUnit { unit, .. }) if unit == "h30m")
        );
    }

    #[test]
    fn overflow_is_refused() {
        assert_eq!(
            parse("99999999999999999999d"),
            Err(DurationError::Overflow("99999999999999999999d".into()))
        );
        assert_eq!(
            parse("18446744073709552d"),
            Err(DurationError::Overflow("18446744073709552d".into()))
        );
    }

    #[test]
    fn format_uses_the_largest_exact_unit_and_parses_back() {
        for (d, text) in [
            (Duration::from_secs(86_400), "1d"),
            (Duration::from_secs(3_600 * 25), "25h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1_500), "1500ms"),
            (Duration::from_millis(250), "250ms"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format(d), text);
            assert_eq!(parse(text), Ok(d));
        }
    }
}
