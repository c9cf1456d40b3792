//! The `Smsgate-Signature` header: `t=UNIX,v1=HEX`, where HEX is the HMAC-SHA256 under the
//! token's webhook secret of the timestamp, a dot and the body (`"{t}.{body}"`). The
//! timestamp is signed so a receiver can refuse an old, replayed request.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The header's name.
pub const SIGNATURE_HEADER: &str = "Smsgate-Signature";
/// The event id's header.
pub const EVENT_ID_HEADER: &str = "Smsgate-Event-Id";

/// The header value for `body` sent at `unix_seconds`.
pub fn signature(secret: &SecretString, unix_seconds: u64, body: &[u8]) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = format!("t={unix_seconds},v1=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() {
        // Computed independently: python3 -c 'import hmac,hashlib;
        // print(hmac.new(b"Jefe", b"1700000000.{}", hashlib.sha256).hexdigest())'.
        let secret = SecretString::from("Jefe");
        assert_eq!(
            signature(&secret, 1_700_000_000, b"{}"),
            "t=1700000000,v1=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
        );
    }
}
