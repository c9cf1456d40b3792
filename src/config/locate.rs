//! Says where each error's value came from: the `SMSGATE_…` variable that set it, or the
//! line of the TOML text that holds it (found by walking the text's spanned parse tree).

use super::env::Applied;
use super::error::{one_line, ConfigError, KeyPath, Origin, Segment};
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The error of text that is not TOML, at the line toml gives.
pub fn syntax_error(e: &toml::de::Error, name: &str, text: &str) -> ConfigError {
    ConfigError {
        key: None,
        message: one_line(e.message()),
        origin: match e.span() {
            Some(span) => Origin::Line {
                source: name.to_owned(),
                line: line_at(text, span.start),
            },
            None => Origin::Unknown,
        },
    }
}

/// Fills in the origin of every error that names a key and has none yet.
pub fn locate(
    mut errors: Vec<ConfigError>,
    name: &str,
    text: &str,
    applied: &[Applied],
) -> Vec<ConfigError> {
    let tree = DeTable::parse(text).ok();
    for e in &mut errors {
        let (Origin::Unknown, Some(key)) = (&e.origin, &e.key) else {
            continue;
        };
        // The deepest override at or above the key set the value.
        let set_by = applied
            .iter()
            .filter(|a| key.starts_with(&a.path))
            .max_by_key(|a| a.path.segments().len());
        let line = || {
            tree.as_ref()
                .and_then(|t| span_of(t, key))
                .map(|s| line_at(text, s.start))
        };
        // An override below the key (a new key, a new table) when the file does not have it.
        let below = || applied.iter().find(|a| a.path.starts_with(key));
        e.origin = match (set_by, line(), below()) {
            (Some(a), _, _) => Origin::Env { var: a.var.clone() },
            (None, Some(line), _) => Origin::Line {
                source: name.to_owned(),
                line,
            },
            (None, None, Some(a)) => Origin::Env { var: a.var.clone() },
            (None, None, None) => Origin::Unknown,
        };
    }
    errors
}

/// The span of the value at `key`, or of its deepest ancestor the text has (a key filled in
/// by default is reported at its table); `None` when not even the top-level key is written.
fn span_of(root: &Spanned<DeTable<'_>>, key: &KeyPath) -> Option<Range<usize>> {
    let mut found: Option<&Spanned<DeValue<'_>>> = None;
    for segment in key.segments() {
        let next = match (segment, found.map(Spanned::get_ref)) {
            (Segment::Key(k), None) => root.get_ref().get(k.as_str()),
            (Segment::Key(k), Some(DeValue::Table(t))) => t.get(k.as_str()),
            (Segment::Index(i), Some(DeValue::Array(a))) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => found = Some(v),
            None => break,
        }
    }
    found.map(Spanned::span)
}

/// 1-based line of the byte offset `at`.
fn line_at(text: &str, at: usize) -> usize {
    let before = text.get(..at).unwrap_or(text);
    before.matches('\n').count() + 1
}
