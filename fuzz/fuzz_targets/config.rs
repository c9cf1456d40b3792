//! Fuzzes the configuration loader through the path `smsgate config check` takes
//! (`Config::from_toml`: TOML, the `SMSGATE_…` overrides, serde, every validation):
//!
//! - The bytes up to the first NUL are the TOML text (lossily UTF-8: the file reader
//!   refuses other bytes before the loader sees them); the rest, one `NAME=VALUE` a line,
//!   is the environment (`SMSGATE_` is put in front of a name that lacks it), so the
//!   overrides are fuzzed as well.
//! - It never panics. It gives either a configuration or at least one error; every error
//!   displays on one line, and names a key unless it is the TOML syntax error (then the
//!   only one) or an environment variable's (then its origin is that variable).
//! - A configuration that loads has a router (documented never to fail for a loaded
//!   configuration), and its redacted TOML (`smsgate config show`) is TOML again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smsgate::config::{Config, ConfigErrors, Origin, ENV_PREFIX};

fn env_of(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            let name = if name.starts_with(ENV_PREFIX) {
                name.to_owned()
            } else {
                format!("{ENV_PREFIX}{name}")
            };
            (name, value.to_owned())
        })
        .collect()
}

fn check_errors(errors: &ConfigErrors, text: &str) {
    assert!(!errors.0.is_empty(), "an Err with no error for {text:?}");
    let syntax = errors
        .iter()
        .any(|e| e.key.is_none() && !matches!(e.origin, Origin::Env { .. }));
    if syntax {
        assert_eq!(
            errors.0.len(),
            1,
            "a syntax error among others: {errors:?} for {text:?}"
        );
    }
    for e in errors.iter() {
        let shown = e.to_string();
        assert!(
            !shown.contains('\n'),
            "an error over two lines: {shown:?} for {text:?}"
        );
        assert!(
            !e.message.is_empty(),
            "an empty message: {e:?} for {text:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (toml, env) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(toml);
    let env = env_of(&String::from_utf8_lossy(env));
    match Config::from_toml("fuzz.toml", &text, env) {
        Err(errors) => check_errors(&errors, &text),
        Ok(config) => {
            if let Err(problems) = config.router() {
                panic!("a loaded configuration without a router: {problems:?} for {text:?}");
            }
            match config.to_redacted_toml() {
                Ok(shown) => {
                    if let Err(e) = shown.parse::<toml::Table>() {
                        panic!("config show wrote no TOML ({e}): {shown:?} for {text:?}");
                    }
                }
                Err(e) => panic!("config show failed ({e}) for {text:?}"),
            }
        }
    }
});
