//! The errors of loading a configuration: each names the key (`carriers.docomo.binds[1].window`)
//! and where its value came from (a line of the file, or an environment variable), on one line.

use std::fmt;
use thiserror::Error;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key of a table (`carriers`, `docomo`).
    Key(String),
    /// A position in an array, 0-based (`binds[1]`).
    Index(usize),
}

/// Where a value sits in the configuration, written as in the TOML: `carriers.docomo.binds[1].window`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The top level.
    pub fn root() -> KeyPath {
        KeyPath::default()
    }

    /// This path followed by a table key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_owned()));
        path
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    /// The steps, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Is `prefix` this path or one of its ancestors?
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// The path serde_path_to_error reports for a deserialization error.
    pub(crate) fn from_serde(path: &serde_path_to_error::Path) -> KeyPath {
        use serde_path_to_error::Segment as S;
        KeyPath(
            path.iter()
                .map(|s| match s {
                    S::Seq { index } => Segment::Index(*index),
                    S::Map { key } | S::Enum { variant: key } => Segment::Key(key.clone()),
                    S::Unknown => Segment::Key("?".to_owned()),
                })
                .collect(),
        )
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for segment in &self.0 {
            match segment {
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(key) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    // A TOML bare key is A-Z a-z 0-9 _ -; anything else is quoted.
                    let bare = !key.is_empty()
                        && key
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
            first = false;
        }
        Ok(())
    }
}

/// Where the offending value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Not known (a value filled in by default, or an error about the whole file).
    Unknown,
    /// A line of the configuration text.
    Line {
        /// The file's name as given ("config/smsgate.toml", "stdin", "embedded default").
        source: String,
        /// 1-based line number.
        line: usize,
    },
    /// An `SMSGATE_…` environment override.
    Env {
        /// The variable's name.
        var: String,
    },
}

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key the problem is about; `None` for a TOML syntax error.
    pub key: Option<KeyPath>,
    /// What is wrong, quoting the value (never a secret's value).
    pub message: String,
    /// Where the value came from.
    pub origin: Origin,
}

impl ConfigError {
    /// A problem with a key, its origin to be filled in by the loader.
    pub fn at(key: KeyPath, message: impl AsRef<str>) -> ConfigError {
        ConfigError {
            key: Some(key),
            message: one_line(message.as_ref()),
            origin: Origin::Unknown,
        }
    }
}

/// A message on one line: a multi-line one (a TOML error with its snippet, from a scenario
/// file) has its lines joined with single spaces.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Unknown => {}
            Origin::Line { source, line } => write!(f, "{source}:{line}: ")?,
            Origin::Env { var } => write!(f, "env {var}: ")?,
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one configuration; displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why [`crate::config::Config::load`] gave no configuration.
#[derive(Debug, Error)]
pub enum LoadError {
    /// The configuration text itself could not be read.
    #[error("cannot read {what}: {source}")]
    Read {
        /// The path, or "stdin".
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text was read but is not a valid configuration.
    #[error("{0}")]
    Invalid(ConfigErrors),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_as_toml_keys() {
        let p = KeyPath::root()
            .key("carriers")
            .key("docomo")
            .key("binds")
            .index(1)
            .key("window");
        assert_eq!(p.to_string(), "carriers.docomo.binds[1].window");
        assert_eq!(
            KeyPath::root().key("carriers").key("a b").to_string(),
            "carriers.\"a b\""
        );
        assert!(p.starts_with(&KeyPath::root().key("carriers").key("docomo")));
        assert!(!p.starts_with(&KeyPath::root().key("carriers").key("au")));
    }

    #[test]
    fn a_multi_line_message_is_put_on_one_line() {
        let e = ConfigError::at(KeyPath::root().key("a"), "first\n  |\n1 | x\n  second ");
        assert_eq!(e.to_string(), "a: first | 1 | x second");
    }

    #[test]
    fn an_error_line_names_its_origin_then_its_key() {
        let mut e = ConfigError::at(
            KeyPath::root().key("data_dir"),
            "\"\" is not allowed (a path)",
        );
        assert_eq!(e.to_string(), "data_dir: \"\" is not allowed (a path)");
        e.origin = Origin::Line {
            source: "a.toml".into(),
            line: 3,
        };
        assert_eq!(
            e.to_string(),
            "a.toml:3: data_dir: \"\" is not allowed (a path)"
        );
        e.origin = Origin::Env {
            var: "SMSGATE_DATA_DIR".into(),
        };
        assert_eq!(
            e.to_string(),
            "env SMSGATE_DATA_DIR: data_dir: \"\" is not allowed (a path)"
        );
    }
}
