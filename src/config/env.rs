//! `SMSGATE_…` environment overrides: `SMSGATE_CARRIERS__DOCOMO__BINDS__0__WINDOW=50` sets
//! `carriers.docomo.binds[0].window` in the parsed TOML before it is read into the typed
//! configuration. The environment is handed in, never read here.

use super::error::{ConfigError, KeyPath, Origin};
use std::collections::BTreeMap;
use toml::{Table, Value};

/// The prefix of the variables that override configuration keys.
pub const PREFIX: &str = "SMSGATE_";

/// Separates the key path's steps in a variable name (a single `_` belongs to a key).
const SEPARATOR: &str = "__";

/// One override that was applied: which variable set which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The variable's name.
    pub var: String,
    /// The key it set.
    pub path: KeyPath,
}

/// Applies every `SMSGATE_…` variable of `env` to `table`, in name order. Returns what was
/// applied and, for each variable that could not be, an error naming it.
pub fn apply(
    table: &mut Table,
    env: &BTreeMap<String, String>,
) -> (Vec<Applied>, Vec<ConfigError>) {
    let mut applied = Vec::new();
    let mut errors = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        let steps: Vec<&str> = rest.split(SEPARATOR).collect();
        let fail = |key: Option<KeyPath>, message: String| ConfigError {
            key,
            message,
            origin: Origin::Env { var: var.clone() },
        };
        if steps.iter().any(|s| s.is_empty()) {
            errors.push(fail(
                None,
                format!(
                    "not a key path: write the keys in upper case separated by {SEPARATOR:?}, \
                     e.g. SMSGATE_CARRIERS__DOCOMO__BINDS__0__WINDOW"
                ),
            ));
            continue;
        }
        match set(table, &steps, raw) {
            Ok(path) => applied.push(Applied {
                var: var.clone(),
                path,
            }),
            Err((path, message)) => errors.push(fail(Some(path), message)),
        }
    }
    (applied, errors)
}

/// How a key is matched by a variable step: upper case, `-` read as `_`.
fn env_form(key: &str) -> String {
    key.to_ascii_uppercase().replace('-', "_")
}

/// Sets the value `raw` at the key path `steps` (non-empty, none empty) below `table`.
fn set(table: &mut Table, steps: &[&str], raw: &str) -> Result<KeyPath, (KeyPath, String)> {
    let mut root = Value::Table(std::mem::take(table));
    let result = set_in(&mut root, steps, raw, KeyPath::root());
    if let Value::Table(t) = root {
        *table = t;
    }
    result
}

/// Steps into `slot` by `steps[0]` (a key of a table, creating it if missing, or an index
/// of an array) and sets the value there when it is the last step.
fn set_in(
    slot: &mut Value,
    steps: &[&str],
    raw: &str,
    path: KeyPath,
) -> Result<KeyPath, (KeyPath, String)> {
    let Some((step, rest)) = steps.split_first() else {
        return Err((path, "no key".to_owned()));
    };
    match slot {
        Value::Table(t) => {
            let key = table_key(t, step).map_err(|m| (path.clone(), m))?;
            let path = path.key(&key);
            if rest.is_empty() {
                let value = parse_value(raw, t.get(&key));
                t.insert(key, value);
                return Ok(path);
            }
            let child = t.entry(key).or_insert_with(|| Value::Table(Table::new()));
            set_in(child, rest, raw, path)
        }
        Value::Array(items) => {
            let len = items.len();
            let index: usize = step.parse().map_err(|_| {
                (
                    path.clone(),
                    format!("is an array: the step {step:?} must be an index (0..{len})"),
                )
            })?;
            let path = path.index(index);
            let Some(item) = items.get_mut(index) else {
                return Err((path, format!("no such entry: the array has {len}")));
            };
            if rest.is_empty() {
                *item = parse_value(raw, Some(item));
                return Ok(path);
            }
            set_in(item, rest, raw, path)
        }
        other => Err((path, format!("is a {}, not a table", other.type_str()))),
    }
}

/// The existing key of `table` that `step` names, or `step` in lower case for a new one.
fn table_key(table: &Table, step: &str) -> Result<String, String> {
    let wanted = env_form(step);
    let mut matches = table.keys().filter(|k| env_form(k) == wanted);
    match (matches.next(), matches.next()) {
        (Some(one), None) => Ok(one.clone()),
        (Some(a), Some(b)) => Err(format!("{step} could mean {a:?} or {b:?}")),
        (None, _) => Ok(step.to_ascii_lowercase()),
    }
}

/// The variable's text as a TOML value: kept as a string where the file has a string, else
/// read as TOML (`50`, `true`, `["docomo", "au"]`), else taken as a string (`30s`, a path).
fn parse_value(raw: &str, existing: Option<&Value>) -> Value {
    if let Some(Value::String(_)) = existing {
        return Value::String(raw.to_owned());
    }
    match toml::from_str::<Table>(&format!("v = {raw}")) {
        Ok(mut t) if t.len() == 1 => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        _ => Value::String(raw.to_owned()),
    }
}
