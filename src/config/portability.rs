//! `[portability]`: the number-portability file, read with the router's loader
//! ([`load_portability`]) and checked against the configured carriers, at start (and by
//! `config check`) and on reload.

use crate::carrier::router::{load_portability, PortabilityError, PortabilityTable};
use serde::{Deserialize, Serialize};
use std::io::BufReader;
use std::path::PathBuf;
use thiserror::Error;

/// `[portability]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortabilityConfig {
    /// The CSV file (`number,carrier` per line), read at start and on reload.
    pub file: PathBuf,
}

/// The first bad line, and how many more there are.
fn summary(errors: &[PortabilityError]) -> String {
    match errors {
        [] => "no usable table".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more bad lines)", rest.len()),
    }
}

/// Why the portability file gave no table.
#[derive(Debug, Error)]
pub enum PortabilityLoadError {
    /// The file could not be opened.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line that cannot be used, or carriers that are not configured, each naming its
    /// line.
    #[error("{path}: {}", summary(.errors))]
    Invalid {
        /// The file.
        path: String,
        /// The bad line the loader stopped at, or every carrier that is not configured.
        errors: Vec<PortabilityError>,
    },
}

impl PortabilityConfig {
    /// Reads the file; every carrier it names must be one `configured` knows.
    ///
    /// # Errors
    ///
    /// [`PortabilityLoadError`]: the file cannot be opened, a line is bad, or a carrier is
    /// not configured.
    pub fn load(
        &self,
        configured: impl Fn(&str) -> bool,
    ) -> Result<PortabilityTable, PortabilityLoadError> {
        let path = || self.file.display().to_string();
        let file =
            std::fs::File::open(&self.file).map_err(|source| PortabilityLoadError::Read {
                path: path(),
                source,
            })?;
        let invalid = |errors| PortabilityLoadError::Invalid {
            path: path(),
            errors,
        };
        let table = load_portability(BufReader::new(file)).map_err(|e| invalid(vec![e]))?;
        let unconfigured = table.unconfigured(configured);
        if unconfigured.is_empty() {
            Ok(table)
        } else {
            Err(invalid(unconfigured))
        }
    }
}
