//! The server key ring that seals verification codes: codes are never stored, only an
//! HMAC-SHA256 of them under a server key ([`Sealed`]), checked in constant time; keys
//! have public ids, rotate (older keys still check, never seal), and live in a key file
//! only the service's user may read.
//!
//! # What is sealed
//!
//! `mac = HMAC-SHA256(key, "smsgate-verify-v1" ‖ len(verification) ‖ verification ‖
//! len(purpose) ‖ purpose ‖ len(code) ‖ code)`, each `len` the field's byte length as a
//! 4-byte big-endian integer. The fixed tag keeps these MACs apart from any other use of
//! the key; the length prefixes make the encoding injective, so `("ab", "c")` and
//! `("a", "bc")` never share a MAC. The store keeps `Sealed { key_id, mac }`: the id says
//! which key to check with after a rotation.
//!
//! # Key ids
//!
//! A key's id is 8 lower-case hex digits: the first 4 bytes of
//! `SHA-256("smsgate-verify-key-id" ‖ secret)`. It names the key in stored records and
//! logs without revealing anything usable about the secret.
//!
//! # The key file
//!
//! Text, one entry a line; blank lines and lines starting with `#` are ignored:
//!
//! ```text
//! # smsgate verification keys
//! current  3f1c...(64 hex digits)
//! previous 9a0b...(64 hex digits)
//! ```
//!
//! `current <64 hex digits>` exactly once: the key new codes are sealed with.
//! `previous <64 hex digits>` zero or more times, newest first: keys that still check
//! codes sealed before a rotation. Hex digits may be upper or lower case; the file is
//! written in lower case. The file must not be readable by group or others (mode
//! `0600` or stricter); [`KeyRing::load`] refuses it otherwise. Errors name the line and
//! never repeat its content, which may be a secret.
//!
//! The same text (or a bare 64-hex-digit secret, meaning one current key) can come from
//! an environment variable: [`KeyRing::from_env_value`].

use hmac::digest::Key as HmacKey;
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// Bytes of a key's secret.
pub const KEY_BYTES: usize = 32;

/// Hex digits of a key id.
pub const KEY_ID_LEN: usize = 8;

/// Domain tag of the key-id hash.
const KEY_ID_TAG: &[u8] = b"smsgate-verify-key-id";

/// Domain tag that starts every sealed message.
const MAC_TAG: &[u8] = b"smsgate-verify-v1";

/// Most bytes a key file may have (a few hundred keys); a larger file is refused.
const MAX_FILE_BYTES: usize = 64 * 1024;

/// The first line [`KeyRing::to_file_text`] writes.
const FILE_HEADER: &str = "# smsgate verification keys: keep this file private (mode 0600)\n";

type HmacSha256 = Hmac<Sha256>;

/// Why a key or a key ring could not be made, read or written. No variant carries a
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file system operation failed.
    #[error("verification key file {}: {op}: {reason}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`open`, `read`, `create`, `write`, `sync`, `rename`, ...).
        op: &'static str,
        /// The operating system's error.
        reason: String,
    },
    /// The key file can be read by group or others.
    #[error(
        "verification key file {}: mode {mode:04o} lets group or others read it; \
         make it readable by its owner only (chmod 600)",
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line of a key file (or an environment value) is not a key entry.
    #[error("verification keys, line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong (never the line's content).
        reason: String,
    },
    /// The key file has no `current` line.
    #[error("verification keys: no `current <64 hex digits>` line")]
    NoCurrent,
    /// The operating system's random number generator failed.
    #[error("verification keys: the OS random number generator failed: {0}")]
    Random(String),
}

/// One server key: its public id and its secret, zeroised on drop. `Debug` shows the id
/// only.
pub struct Key {
    /// 8 lower-case hex digits derived from the secret.
    id: String,
    /// The HMAC key.
    secret: SecretBox<[u8; KEY_BYTES]>,
}

impl Key {
    /// A new random key from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`KeyError::Random`] if the OS generator fails.
    pub fn generate() -> Result<Key, KeyError> {
        let mut result = Ok(());
        let secret = SecretBox::<[u8; KEY_BYTES]>::init_with_mut(|bytes| {
            result = rand::rngs::OsRng.try_fill_bytes(bytes);
        });
        result.map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Key::from_secret(secret))
    }

    /// The key with this secret.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Key {
        let mut bytes = bytes;
        let secret = SecretBox::<[u8; KEY_BYTES]>::init_with_mut(|s| *s = bytes);
        secrecy::zeroize::Zeroize::zeroize(&mut bytes);
        Key::from_secret(secret)
    }

    /// Its id: 8 lower-case hex digits.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn from_secret(secret: SecretBox<[u8; KEY_BYTES]>) -> Key {
        let digest = Sha256::new()
            .chain_update(KEY_ID_TAG)
            .chain_update(secret.expose_secret())
            .finalize();
        let id = hex_lower(digest.iter().take(KEY_ID_LEN / 2));
        Key { id, secret }
    }

    /// A copy, the secret copied heap to heap.
    fn duplicate(&self) -> Key {
        let secret = SecretBox::<[u8; KEY_BYTES]>::init_with_mut(|s| {
            s.copy_from_slice(self.secret.expose_secret());
        });
        Key {
            id: self.id.clone(),
            secret,
        }
    }

    /// The MAC of the fields (see the module doc for the message).
    fn mac(&self, fields: &[&str]) -> [u8; 32] {
        // A key shorter than SHA-256's 64-byte block is zero-padded to the block by HMAC
        // itself (RFC 2104 §2), so keying with the padded block is the same function and
        // needs no fallible constructor.
        let mut block = HmacKey::<HmacSha256>::default();
        for (slot, byte) in block.iter_mut().zip(self.secret.expose_secret()) {
            *slot = *byte;
        }
        let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new(&block);
        secrecy::zeroize::Zeroize::zeroize(block.as_mut_slice());
        mac.update(MAC_TAG);
        for field in fields {
            // A field over 4 GiB cannot reach here (every input is a bounded API field);
            // saturating keeps this total.
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            mac.update(&len.to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// The secret as 64 lower-case hex digits, appended to `out`.
    fn push_hex(&self, out: &mut String) {
        for byte in self.secret.expose_secret() {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What the store keeps instead of a code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sealed {
    /// The id of the key that sealed it.
    pub key_id: String,
    /// HMAC-SHA256 of (verification id, purpose, code) under that key.
    pub mac: [u8; 32],
}

/// The current key (seals and checks) and the previous ones (check only), newest first.
/// `Debug` shows ids only.
pub struct KeyRing {
    current: Key,
    previous: Vec<Key>,
}

impl KeyRing {
    /// A ring of `current` and `previous` (newest first). A previous key with the id of
    /// the current one or of an earlier previous key is left out.
    pub fn new(current: Key, previous: Vec<Key>) -> KeyRing {
        let mut kept: Vec<Key> = Vec::with_capacity(previous.len());
        for key in previous {
            if key.id != current.id && kept.iter().all(|k| k.id != key.id) {
                kept.push(key);
            }
        }
        KeyRing {
            current,
            previous: kept,
        }
    }

    /// The id of the current key.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// The ids of the previous keys, newest first.
    pub fn previous_ids(&self) -> impl Iterator<Item = &str> {
        self.previous.iter().map(Key::id)
    }

    /// Whether a key with this id is in the ring (current or previous).
    pub fn contains(&self, key_id: &str) -> bool {
        self.find(key_id).is_some()
    }

    /// Seals `code` for this verification and purpose under the current key.
    pub fn seal(&self, verification: &str, purpose: &str, code: &str) -> Sealed {
        Sealed {
            key_id: self.current.id.clone(),
            mac: self.current.mac(&[verification, purpose, code]),
        }
    }

    /// Whether `code` is the one sealed in `sealed` for this verification and purpose.
    ///
    /// Recomputes the MAC under the key `sealed.key_id` names (current or previous) and
    /// compares the 32 bytes in constant time. An unknown key id gives false after the
    /// same work on the current key, so the timing does not tell the two cases apart.
    pub fn matches(&self, sealed: &Sealed, verification: &str, purpose: &str, code: &str) -> bool {
        let (key, known) = match self.find(&sealed.key_id) {
            Some(key) => (key, subtle::Choice::from(1)),
            None => (&self.current, subtle::Choice::from(0)),
        };
        let mac = key.mac(&[verification, purpose, code]);
        bool::from(mac.ct_eq(&sealed.mac) & known)
    }

    /// Parses a key file's text (format in the module doc).
    ///
    /// # Errors
    /// [`KeyError::Parse`] naming the line of a malformed entry or a second `current`;
    /// [`KeyError::NoCurrent`] without a `current` line.
    pub fn parse(text: &str) -> Result<KeyRing, KeyError> {
        let mut current: Option<(usize, Key)> = None;
        let mut previous: Vec<(usize, Key)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let entry = raw.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let mut words = entry.split_whitespace();
            let kind = words.next();
            let secret = words.next();
            let parse_error = |reason: &str| KeyError::Parse {
                line,
                reason: reason.to_owned(),
            };
            let is_current = match kind {
                Some("current") => true,
                Some("previous") => false,
                _ => {
                    return Err(parse_error(
                        "expected `current <64 hex digits>` or `previous <64 hex digits>`",
                    ))
                }
            };
            let Some(secret) = secret else {
                return Err(parse_error("the key's 64 hex digits are missing"));
            };
            if words.next().is_some() {
                return Err(parse_error(
                    "unexpected text after the key (one key a line, no trailing words)",
                ));
            }
            let key = parse_hex_key(secret).ok_or_else(|| {
                parse_error("the key is not 64 hex digits (32 bytes written in hex)")
            })?;
            let seen = current
                .iter()
                .chain(previous.iter())
                .find(|(_, k)| k.id == key.id)
                .map(|(at, _)| *at);
            if let Some(at) = seen {
                return Err(KeyError::Parse {
                    line,
                    reason: format!("the same key as line {at}"),
                });
            }
            if is_current {
                if let Some((first, _)) = &current {
                    return Err(KeyError::Parse {
                        line,
                        reason: format!("a second `current` key (the first is on line {first})"),
                    });
                }
                current = Some((line, key));
            } else {
                previous.push((line, key));
            }
        }
        let (_, current) = current.ok_or(KeyError::NoCurrent)?;
        Ok(KeyRing::new(
            current,
            previous.into_iter().map(|(_, k)| k).collect(),
        ))
    }

    /// The key file's text for this ring (what [`KeyRing::parse`] reads back): a comment
    /// line, `current <hex>`, then `previous <hex>` newest first. A secret itself, so a
    /// [`SecretString`]: redacted in `Debug`, zeroised on drop.
    pub fn to_file_text(&self) -> SecretString {
        let entry = |kind: &str| kind.len() + 1 + 2 * KEY_BYTES + 1;
        let len = FILE_HEADER.len() + entry("current") + self.previous.len() * entry("previous");
        // Exactly `len` bytes are pushed, so the buffer never moves and the boxed str
        // below reuses it: no unzeroised copy of the secrets is left behind.
        let mut text = String::with_capacity(len);
        text.push_str(FILE_HEADER);
        text.push_str("current ");
        self.current.push_hex(&mut text);
        text.push('\n');
        for key in &self.previous {
            text.push_str("previous ");
            key.push_hex(&mut text);
            text.push('\n');
        }
        SecretString::from(text)
    }

    /// Loads the ring from the key file at `path`.
    ///
    /// A file that group or others may read (`mode & 0o077 != 0`) is refused. If there is
    /// no file and `create` is true, a new key is generated and written there with mode
    /// `0600` (created exclusively, then synced; a missing parent directory is created
    /// with mode `0700`).
    ///
    /// # Errors
    /// [`KeyError::Permissions`], [`KeyError::Io`] (naming the path and the operation),
    /// [`KeyError::Parse`] / [`KeyError::NoCurrent`] for the content,
    /// [`KeyError::Random`] when a new key cannot be generated.
    pub fn load(path: &Path, create: bool) -> Result<KeyRing, KeyError> {
        match File::open(path) {
            Ok(file) => read_key_file(path, file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                let ring = KeyRing::new(Key::generate()?, Vec::new());
                ensure_parent(path)?;
                let opened = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path);
                match opened {
                    Ok(file) => {
                        write_synced(path, file, &ring)?;
                        sync_parent(path)?;
                        Ok(ring)
                    }
                    // Another process created it in between: that one wins.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let file = File::open(path).map_err(|e| io_error(path, "open", &e))?;
                        read_key_file(path, file)
                    }
                    Err(e) => Err(io_error(path, "create", &e)),
                }
            }
            Err(e) => Err(io_error(path, "open", &e)),
        }
    }

    /// The ring from an environment variable's value: the key file format, or a bare
    /// 64-hex-digit secret meaning one current key.
    ///
    /// # Errors
    /// As [`KeyRing::parse`].
    pub fn from_env_value(value: &str) -> Result<KeyRing, KeyError> {
        let trimmed = value.trim();
        if let Some(key) = parse_hex_key(trimmed) {
            return Ok(KeyRing::new(key, Vec::new()));
        }
        KeyRing::parse(value)
    }

    /// A rotated ring: a new random current key, this ring's current key first among the
    /// previous ones, at most `keep_previous` previous keys kept (the oldest are dropped,
    /// and codes they sealed no longer match).
    ///
    /// # Errors
    /// [`KeyError::Random`] if the OS generator fails.
    pub fn rotated(&self, keep_previous: usize) -> Result<KeyRing, KeyError> {
        let current = Key::generate()?;
        let previous = std::iter::once(&self.current)
            .chain(self.previous.iter())
            .take(keep_previous)
            .map(Key::duplicate)
            .collect();
        Ok(KeyRing::new(current, previous))
    }

    /// Writes the ring to `path` atomically: a temporary file (mode `0600`) in the same
    /// directory, written and synced, then renamed over `path`, then the directory
    /// synced. A missing parent directory is created with mode `0700`.
    ///
    /// # Errors
    /// [`KeyError::Io`] naming the path and the operation.
    pub fn store(&self, path: &Path) -> Result<(), KeyError> {
        ensure_parent(path)?;
        let name = path
            .file_name()
            .ok_or_else(|| KeyError::Io {
                path: path.to_owned(),
                op: "store",
                reason: "the path names no file".to_owned(),
            })?
            .to_string_lossy();
        let temp = path.with_file_name(format!(
            ".{name}.{}.{:016x}.tmp",
            std::process::id(),
            rand::random::<u64>()
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| io_error(&temp, "create", &e))?;
        let written = write_synced(&temp, file, self)
            .and_then(|()| fs::rename(&temp, path).map_err(|e| io_error(path, "rename", &e)));
        if let Err(e) = written {
            // Best effort: the error that matters is the one above.
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        sync_parent(path)
    }

    fn find(&self, key_id: &str) -> Option<&Key> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.id == key_id)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(Key::id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Reads an open key file after checking its mode on the open handle.
fn read_key_file(path: &Path, mut file: File) -> Result<KeyRing, KeyError> {
    let meta = file.metadata().map_err(|e| io_error(path, "stat", &e))?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if size > MAX_FILE_BYTES {
        return Err(KeyError::Io {
            path: path.to_owned(),
            op: "read",
            reason: format!("{size} bytes; a key file has at most {MAX_FILE_BYTES}"),
        });
    }
    // Sized up front so the buffer does not move (and leave copies) while it fills.
    let mut text = SecretBox::<Vec<u8>>::new(Box::new(Vec::with_capacity(size + 1)));
    let read = (&mut file)
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(text.expose_secret_mut());
    read.map_err(|e| io_error(path, "read", &e))?;
    if text.expose_secret().len() > MAX_FILE_BYTES {
        return Err(KeyError::Io {
            path: path.to_owned(),
            op: "read",
            reason: format!("more than {MAX_FILE_BYTES} bytes"),
        });
    }
    let text = std::str::from_utf8(text.expose_secret()).map_err(|e| KeyError::Parse {
        line: 1 + text
            .expose_secret()
            .iter()
            .take(e.valid_up_to())
            .filter(|b| **b == b'\n')
            .count(),
        reason: "not UTF-8 text".to_owned(),
    })?;
    KeyRing::parse(text)
}

/// Writes the ring's file text to `file` and syncs it.
fn write_synced(path: &Path, mut file: File, ring: &KeyRing) -> Result<(), KeyError> {
    let text = ring.to_file_text();
    file.write_all(text.expose_secret().as_bytes())
        .map_err(|e| io_error(path, "write", &e))?;
    file.sync_all().map_err(|e| io_error(path, "sync", &e))
}

/// Creates `path`'s parent directory (mode `0700`) if it is missing.
fn ensure_parent(path: &Path) -> Result<(), KeyError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| io_error(dir, "create directory", &e)),
        _ => Ok(()),
    }
}

/// Syncs `path`'s directory, so a new or renamed entry survives a crash.
fn sync_parent(path: &Path) -> Result<(), KeyError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, "sync directory", &e))
}

fn io_error(path: &Path, op: &'static str, error: &io::Error) -> KeyError {
    KeyError::Io {
        path: path.to_owned(),
        op,
        reason: error.to_string(),
    }
}

/// A key from exactly 64 hex digits (either case), decoded straight into its secret box.
fn parse_hex_key(text: &str) -> Option<Key> {
    let digits = text.as_bytes();
    if digits.len() != 2 * KEY_BYTES {
        return None;
    }
    let mut valid = true;
    let secret = SecretBox::<[u8; KEY_BYTES]>::init_with_mut(|bytes| {
        for (slot, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            match pair {
                [hi, lo] => match (hex_value(*hi), hex_value(*lo)) {
                    (Some(hi), Some(lo)) => *slot = (hi << 4) | lo,
                    _ => valid = false,
                },
                _ => valid = false,
            }
        }
    });
    valid.then(|| Key::from_secret(secret))
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

fn hex_lower<'a>(bytes: impl Iterator<Item = &'a u8>) -> String {
    let mut out = String::new();
    for byte in bytes {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const HEX_B: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";

    fn key_a() -> Key {
        Key::from_bytes(std::array::from_fn(|i| i as u8))
    }

    fn ring() -> KeyRing {
        KeyRing::new(Key::generate().unwrap(), Vec::new())
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn key_id_is_the_tagged_sha256_prefix() {
        let key = key_a();
        let mut input = KEY_ID_TAG.to_vec();
        input.extend(0u8..32);
        let digest = Sha256::digest(&input);
        let expected: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key.id(), expected);
        assert_eq!(key.id().len(), KEY_ID_LEN);
        assert!(key
            .id()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // Different secrets, different ids; generated keys differ.
        assert_ne!(Key::from_bytes([0; 32]).id(), key.id());
        assert_ne!(Key::generate().unwrap().id(), Key::generate().unwrap().id());
    }

    #[test]
    fn mac_is_standard_hmac_sha256_of_the_length_prefixed_message() {
        let key = key_a();
        let secret: Vec<u8> = (0u8..32).collect();
        let mut reference = HmacSha256::new_from_slice(&secret).unwrap();
        reference.update(b"smsgate-verify-v1");
        for field in ["v-1", "login", "123456"] {
            reference.update(&(field.len() as u32).to_be_bytes());
            reference.update(field.as_bytes());
        }
        let expected: [u8; 32] = reference.finalize().into_bytes().into();
        assert_eq!(key.mac(&["v-1", "login", "123456"]), expected);
    }

    #[test]
    fn seal_and_matches_round_trip() {
        let ring = ring();
        let sealed = ring.seal("v-1", "login", "123456");
        assert_eq!(sealed.key_id, ring.current_id());
        assert!(ring.matches(&sealed, "v-1", "login", "123456"));
    }

    #[test]
    fn wrong_code_verification_or_purpose_do_not_match() {
        let ring = ring();
        let sealed = ring.seal("v-1", "login", "123456");
        assert!(!ring.matches(&sealed, "v-1", "login", "123457"));
        assert!(!ring.matches(&sealed, "v-1", "login", "12345"));
        assert!(!ring.matches(&sealed, "v-1", "login", "1234567"));
        assert!(!ring.matches(&sealed, "v-1", "login", ""));
        assert!(!ring.matches(&sealed, "v-2", "login", "123456"));
        assert!(!ring.matches(&sealed, "v-1", "signup", "123456"));
        let mut tampered = sealed.clone();
        tampered.mac[31] ^= 1;
        assert!(!ring.matches(&tampered, "v-1", "login", "123456"));
    }

    #[test]
    fn length_prefixes_keep_field_boundaries_apart() {
        let ring = ring();
        let one = ring.seal("ab", "c", "1");
        let two = ring.seal("a", "bc", "1");
        assert_ne!(one.mac, two.mac);
        assert_ne!(ring.seal("v", "p", "12").mac, ring.seal("v", "p1", "2").mac);
        assert!(!ring.matches(&one, "a", "bc", "1"));
    }

    #[test]
    fn previous_key_still_matches_after_rotation_and_seals_go_to_the_new_key() {
        let ring = ring();
        let old = ring.seal("v-1", "login", "123456");
        let rotated = ring.rotated(2).unwrap();
        assert_ne!(rotated.current_id(), ring.current_id());
        assert_eq!(
            rotated.previous_ids().collect::<Vec<_>>(),
            vec![ring.current_id()]
        );
        assert!(rotated.matches(&old, "v-1", "login", "123456"));
        assert!(!rotated.matches(&old, "v-1", "login", "654321"));
        let new = rotated.seal("v-1", "login", "123456");
        assert_eq!(new.key_id, rotated.current_id());
        // The old ring does not know the new key.
        assert!(!ring.matches(&new, "v-1", "login", "123456"));
    }

    #[test]
    fn a_key_dropped_from_the_ring_no_longer_matches() {
        let first = ring();
        let sealed = first.seal("v-1", "login", "123456");
        let second = first.rotated(1).unwrap();
        assert!(second.matches(&sealed, "v-1", "login", "123456"));
        // keep_previous 1: the first key falls off at the next rotation.
        let third = second.rotated(1).unwrap();
        assert_eq!(third.previous_ids().count(), 1);
        assert!(!third.contains(first.current_id()));
        assert!(!third.matches(&sealed, "v-1", "login", "123456"));
        // keep_previous 0: only the new key.
        let alone = first.rotated(0).unwrap();
        assert_eq!(alone.previous_ids().count(), 0);
        assert!(!alone.matches(&sealed, "v-1", "login", "123456"));
    }

    #[test]
    fn unknown_key_id_is_false_even_with_the_right_mac() {
        let ring = ring();
        let mut sealed = ring.seal("v-1", "login", "123456");
        sealed.key_id = "00000000".to_owned();
        assert!(!ring.matches(&sealed, "v-1", "login", "123456"));
        sealed.key_id = String::new();
        assert!(!ring.matches(&sealed, "v-1", "login", "123456"));
    }

    #[test]
    fn debug_shows_ids_only() {
        let ring = KeyRing::parse(&format!("current {HEX_A}\nprevious {HEX_B}\n")).unwrap();
        let shown = format!("{ring:?} {:?} {:#?}", key_a(), ring);
        assert!(shown.contains(ring.current_id()), "{shown}");
        for secret in [HEX_A, HEX_B, &HEX_A[..16], &HEX_B[..16]] {
            assert!(!shown.contains(secret), "{shown}");
        }
        // Nor the bytes as a decimal list.
        assert!(!shown.contains("0, 1, 2, 3"), "{shown}");
        let text = format!("{:?}", ring.to_file_text());
        assert!(!text.contains(HEX_A), "{text}");
    }

    #[test]
    fn file_text_round_trips() {
        let ring = ring().rotated(3).unwrap().rotated(3).unwrap();
        let text = ring.to_file_text();
        let back = KeyRing::parse(text.expose_secret()).unwrap();
        assert_eq!(back.current_id(), ring.current_id());
        assert_eq!(
            back.previous_ids().collect::<Vec<_>>(),
            ring.previous_ids().collect::<Vec<_>>()
        );
        assert_eq!(back.previous_ids().count(), 2);
        let sealed = ring.seal("v", "p", "42");
        assert!(back.matches(&sealed, "v", "p", "42"));
        assert_eq!(back.to_file_text().expose_secret(), text.expose_secret());
    }

    #[test]
    fn parse_reads_comments_blanks_and_either_case() {
        let text = format!(
            "# keys\n\n   \ncurrent {}\n  # older\nprevious\t{HEX_B}  \n",
            HEX_A.to_uppercase()
        );
        let ring = KeyRing::parse(&text).unwrap();
        assert_eq!(ring.current_id(), key_a().id());
        assert_eq!(ring.previous_ids().count(), 1);
        assert!(ring
            .to_file_text()
            .expose_secret()
            .contains(&format!("current {HEX_A}\n")));
    }

    #[test]
    fn parse_errors_name_the_line_and_never_the_secret() {
        let cases: Vec<(String, usize)> = vec![
            (format!("# c\ncurrent {}\n", &HEX_A[..63]), 2),
            (
                format!("current {HEX_A}\n\nprevious {}zz\n", &HEX_B[..62]),
                3,
            ),
            (format!("current {HEX_A}\nnext {HEX_B}\n"), 2),
            (format!("{HEX_A}\n"), 1),
            ("current\n".to_owned(), 1),
            (format!("current {HEX_A} {HEX_B}\n"), 1),
            (format!("current {HEX_A}\n#\ncurrent {HEX_B}\n"), 3),
            (format!("current {HEX_A}\nprevious {HEX_A}\n"), 2),
            (
                format!("previous {HEX_B}\ncurrent {HEX_A}\nprevious {HEX_B}\n"),
                3,
            ),
        ];
        for (text, line) in cases {
            match KeyRing::parse(&text) {
                Err(e @ KeyError::Parse { line: at, .. }) => {
                    assert_eq!(at, line, "{text:?}: {e}");
                    let shown = format!("{e} {e:?}");
                    assert!(shown.contains(&format!("line {line}")), "{shown}");
                    for secret in [HEX_A, HEX_B, &HEX_A[..20], &HEX_B[..20]] {
                        assert!(!shown.contains(secret), "{shown}");
                    }
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(matches!(KeyRing::parse(""), Err(KeyError::NoCurrent)));
        assert!(matches!(
            KeyRing::parse(&format!("# only old\nprevious {HEX_B}\n")),
            Err(KeyError::NoCurrent)
        ));
        let second = KeyRing::parse(&format!("current {HEX_A}\ncurrent {HEX_B}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            second.contains("line 2") && second.contains("line 1"),
            "{second}"
        );
    }

    #[test]
    fn env_value_forms() {
        let bare = KeyRing::from_env_value(HEX_A).unwrap();
        assert_eq!(bare.current_id(), key_a().id());
        assert_eq!(bare.previous_ids().count(), 0);
        let padded = KeyRing::from_env_value(&format!("  {HEX_A}\n")).unwrap();
        assert_eq!(padded.current_id(), key_a().id());
        let file = KeyRing::from_env_value(&format!("current {HEX_B}\nprevious {HEX_A}")).unwrap();
        assert_eq!(file.previous_ids().collect::<Vec<_>>(), vec![key_a().id()]);
        assert!(matches!(
            KeyRing::from_env_value(&HEX_A[..40]),
            Err(KeyError::Parse { line: 1, .. })
        ));
        assert!(matches!(
            KeyRing::from_env_value(""),
            Err(KeyError::NoCurrent)
        ));
    }

    #[test]
    fn new_drops_duplicate_previous_keys() {
        let ring = KeyRing::new(
            key_a(),
            vec![key_a(), Key::from_bytes([7; 32]), Key::from_bytes([7; 32])],
        );
        assert_eq!(ring.previous_ids().count(), 1);
    }

    #[test]
    fn store_then_load_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let ring = ring().rotated(1).unwrap();
        ring.store(&path).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        let back = KeyRing::load(&path, false).unwrap();
        assert_eq!(back.current_id(), ring.current_id());
        assert_eq!(
            back.previous_ids().collect::<Vec<_>>(),
            ring.previous_ids().collect::<Vec<_>>()
        );
        // A second store replaces it; no temporary file is left behind.
        let rotated = back.rotated(1).unwrap();
        rotated.store(&path).unwrap();
        assert_eq!(
            KeyRing::load(&path, false).unwrap().current_id(),
            rotated.current_id()
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("keys")]);
    }

    #[test]
    fn load_refuses_a_file_group_or_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        ring().store(&path).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            match KeyRing::load(&path, true) {
                Err(KeyError::Permissions { path: p, mode: m }) => {
                    assert_eq!(p, path);
                    assert_eq!(m, mode);
                }
                other => panic!("{mode:o}: {other:?}"),
            }
        }
        let message = KeyRing::load(&path, false).unwrap_err().to_string();
        assert!(
            message.contains("0660") && message.contains("keys"),
            "{message}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(KeyRing::load(&path, false).is_ok());
    }

    #[test]
    fn load_creates_a_0600_file_once_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("verify").join("keys");
        let made = KeyRing::load(&path, true).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(path.parent().unwrap()), 0o700);
        let again = KeyRing::load(&path, true).unwrap();
        assert_eq!(again.current_id(), made.current_id());
        let sealed = made.seal("v", "p", "1");
        assert!(again.matches(&sealed, "v", "p", "1"));
    }

    #[test]
    fn load_without_create_reports_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent");
        match KeyRing::load(&path, false) {
            Err(KeyError::Io { path: p, op, .. }) => {
                assert_eq!(p, path);
                assert_eq!(op, "open");
            }
            other => panic!("{other:?}"),
        }
        assert!(!path.exists());
    }

    #[test]
    fn load_reports_bad_content_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .unwrap();
        file.write_all(format!("# k\ncurrent {HEX_A}\nprevious nope\n").as_bytes())
            .unwrap();
        drop(file);
        assert!(matches!(
            KeyRing::load(&path, true),
            Err(KeyError::Parse { line: 3, .. })
        ));
    }

    #[test]
    fn sealed_serde_round_trip() {
        let sealed = ring().seal("v", "p", "1");
        let json = serde_json::to_string(&sealed).unwrap();
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), sealed);
        let bytes = postcard::to_stdvec(&sealed).unwrap();
        assert_eq!(postcard::from_bytes::<Sealed>(&bytes).unwrap(), sealed);
    }
}
