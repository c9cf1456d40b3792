//! The number-portability table: a CSV of `number,carrier` lines naming the carrier a ported
//! number now belongs to. The router looks a number up here before it tries the prefixes.

use std::collections::HashMap;
use std::path::Path;
use thiserror::Error;

/// Most digits of an E.164 number (ITU-T E.164, section 6).
const MAX_DIGITS: usize = 15;

/// Ported numbers (E.164 digits, no `+`) → carrier name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortabilityTable {
    /// The entries, looked up by the whole number.
    carriers: HashMap<String, String>,
}

/// One bad line of a portability file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct PortabilityError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Why a portability file gave no table.
#[derive(Debug, Error)]
pub enum PortabilityLoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Lines that are not `number,carrier` with a known carrier.
    #[error("{path}: {} bad lines", .errors.len())]
    Invalid {
        /// The file.
        path: String,
        /// Every bad line.
        errors: Vec<PortabilityError>,
    },
}

/// A number as the table keys it: digits only, the leading `+` dropped; `None` if it is not
/// 1 to 15 digits.
pub fn normalize_number(number: &str) -> Option<&str> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    let ok = (1..=MAX_DIGITS).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(digits)
}

impl PortabilityTable {
    /// Reads the CSV text: one `number,carrier` per line; blank lines, `#` comments and a
    /// first line `number,carrier` are skipped. `is_carrier` says which names are configured.
    pub fn parse(
        text: &str,
        is_carrier: impl Fn(&str) -> bool,
    ) -> Result<Self, Vec<PortabilityError>> {
        let mut carriers = HashMap::new();
        let mut first_line_of: HashMap<String, usize> = HashMap::new();
        let mut errors = Vec::new();
        let mut header_allowed = true;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let mut bad = |message: String| errors.push(PortabilityError { line, message });
            let Some((number, carrier)) = content.split_once(',') else {
                bad(format!("{content:?} is not number,carrier"));
                continue;
            };
            let (number, carrier) = (number.trim(), carrier.trim());
            if std::mem::take(&mut header_allowed) && number == "number" && carrier == "carrier" {
                continue;
            }
            let Some(digits) = normalize_number(number) else {
                bad(format!(
                    "{number:?} is not a number (1 to 15 digits, an optional +)"
                ));
                continue;
            };
            if carrier.contains(',') {
                bad(format!("{content:?} has more than two fields"));
                continue;
            }
            if !is_carrier(carrier) {
                bad(format!("carrier {carrier:?} is not configured"));
                continue;
            }
            if let Some(first) = first_line_of.insert(digits.to_owned(), line) {
                bad(format!("{digits} is listed already on line {first}"));
                continue;
            }
            carriers.insert(digits.to_owned(), carrier.to_owned());
        }
        if errors.is_empty() {
            Ok(PortabilityTable { carriers })
        } else {
            Err(errors)
        }
    }

    /// Reads and parses the file at `path`.
    pub fn load(
        path: &Path,
        is_carrier: impl Fn(&str) -> bool,
    ) -> Result<Self, PortabilityLoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| PortabilityLoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        PortabilityTable::parse(&text, is_carrier).map_err(|errors| PortabilityLoadError::Invalid {
            path: path.display().to_string(),
            errors,
        })
    }

    /// The carrier `number` has been ported to, if it has.
    pub fn carrier_for(&self, number: &str) -> Option<&str> {
        let digits = normalize_number(number)?;
        self.carriers.get(digits).map(String::as_str)
    }

    /// How many numbers the table holds.
    pub fn len(&self) -> usize {
        self.carriers.len()
    }

    /// Does the table hold no number?
    pub fn is_empty(&self) -> bool {
        self.carriers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "docomo" | "au")
    }

    #[test]
    fn reads_numbers_skipping_header_comments_and_blanks() {
        let t = PortabilityTable::parse(
            "number,carrier\n# ported last week\n\n819012345678,au\n +818011112222 , docomo \n",
            known,
        )
        .expect("valid");
        assert_eq!(t.len(), 2);
        assert_eq!(t.carrier_for("+819012345678"), Some("au"));
        assert_eq!(t.carrier_for("818011112222"), Some("docomo"));
        assert_eq!(t.carrier_for("819099999999"), None);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let errors = PortabilityTable::parse(
            "819012345678,au\nnot-a-number,au\n819011112222,softbank\n819012345678,docomo\njustone\n81901,au,x\n",
            known,
        )
        .expect_err("invalid");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6]);
        assert!(errors[1].message.contains("\"softbank\""), "{}", errors[1]);
        assert!(errors[2].message.contains("line 1"), "{}", errors[2]);
    }

    #[test]
    fn the_header_is_only_allowed_first() {
        let errors = PortabilityTable::parse("819012345678,au\nnumber,carrier\n", known)
            .expect_err("invalid");
        assert_eq!(errors[0].line, 2);
    }
}
