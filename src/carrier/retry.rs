//! The retry policy of a carrier: which command_status values in a submit_sm_resp are retried
//! later (transient), sent to the next carrier of the route (failover), or end the message
//! (permanent). `[carriers.NAME.retry]` maps statuses to classes over the defaults.

use serde::de::{Error as _, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smpp::CommandStatus;
use std::collections::BTreeMap;
use std::fmt;

/// What to do with a message whose submit got a status other than ESME_ROK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    /// Try again on this carrier after a backoff, keeping the destination's order.
    Transient,
    /// The message is final (rejected).
    Permanent,
    /// This carrier cannot serve the destination; the next carrier of the route may.
    Failover,
}

/// Status → class; a status not listed is [`StatusClass::Permanent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The classified statuses: the defaults with the configured entries over them.
    classes: BTreeMap<CommandStatus, StatusClass>,
}

impl RetryPolicy {
    /// The class of `status` (which is not ESME_ROK).
    pub fn classify(&self, status: CommandStatus) -> StatusClass {
        self.classes
            .get(&status)
            .copied()
            .unwrap_or(StatusClass::Permanent)
    }

    /// Every status given a class, with its class, in numeric order.
    pub fn entries(&self) -> impl Iterator<Item = (CommandStatus, StatusClass)> + '_ {
        self.classes.iter().map(|(s, c)| (*s, *c))
    }
}

impl Default for RetryPolicy {
    /// Throttling, a full queue, a system error and the receiver's temporary error are
    /// retried (as [`CommandStatus::is_transient`] says); a destination the carrier does
    /// not serve (bad address, TON, NPI) fails over.
    fn default() -> Self {
        let transient = CommandStatus::NAMED
            .iter()
            .copied()
            .filter(|s| s.is_transient());
        let failover = [
            CommandStatus::ESME_RINVDSTADR,
            CommandStatus::ESME_RINVDSTTON,
            CommandStatus::ESME_RINVDSTNPI,
        ];
        let classes = transient
            .map(|s| (s, StatusClass::Transient))
            .chain(failover.into_iter().map(|s| (s, StatusClass::Failover)))
            .collect();
        RetryPolicy { classes }
    }
}

/// Reads a status written as its name in any case (`ESME_RTHROTTLED`), in hex (`0x58`) or in
/// decimal (`88`).
pub fn parse_status(text: &str) -> Option<CommandStatus> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok().map(CommandStatus);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(CommandStatus);
    }
    CommandStatus::from_name(&text.to_ascii_uppercase())
}

/// How a status is written back: its name, or hex for one the specification does not name.
fn status_key(status: CommandStatus) -> String {
    match status.name() {
        Some(name) => name.to_owned(),
        None => format!("0x{:04x}", status.0),
    }
}

impl<'de> Deserialize<'de> for RetryPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PolicyVisitor;
        impl<'de> Visitor<'de> for PolicyVisitor {
            type Value = RetryPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of command_status = \"transient\" | \"permanent\" | \"failover\"",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RetryPolicy, A::Error> {
                let mut policy = RetryPolicy::default();
                let mut seen: BTreeMap<CommandStatus, String> = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Some(status) = parse_status(&key) else {
                        return Err(A::Error::custom(format!(
                            "{key:?} is not a command_status: write a name of SMPP 3.4 \
                             table 5-2 (ESME_RTHROTTLED) or a number (0x58)"
                        )));
                    };
                    if status.is_ok() {
                        return Err(A::Error::custom(format!(
                            "{key:?} is success (ESME_ROK), not a failure to classify"
                        )));
                    }
                    if let Some(first) = seen.insert(status, key.clone()) {
                        return Err(A::Error::custom(format!(
                            "{key:?} and {first:?} are the same status {status}"
                        )));
                    }
                    let class: StatusClass = map.next_value()?;
                    policy.classes.insert(status, class);
                }
                Ok(policy)
            }
        }
        d.deserialize_map(PolicyVisitor)
    }
}

impl Serialize for RetryPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.classes.len()))?;
        for (status, class) in &self.classes {
            map.serialize_entry(&status_key(*status), class)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_classify_throttling_as_transient_and_bad_addresses_as_failover() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.classify(CommandStatus::ESME_RTHROTTLED),
            StatusClass::Transient
        );
        assert_eq!(
            p.classify(CommandStatus::ESME_RMSGQFUL),
            StatusClass::Transient
        );
        assert_eq!(
            p.classify(CommandStatus::ESME_RINVDSTADR),
            StatusClass::Failover
        );
        assert_eq!(
            p.classify(CommandStatus::ESME_RINVSRCADR),
            StatusClass::Permanent
        );
        assert_eq!(p.classify(CommandStatus(0x0400)), StatusClass::Permanent);
        // The four docs/configuration.md lists.
        let transient: Vec<CommandStatus> = p
            .entries()
            .filter(|(_, c)| *c == StatusClass::Transient)
            .map(|(s, _)| s)
            .collect();
        assert_eq!(
            transient,
            [
                CommandStatus::ESME_RSYSERR,
                CommandStatus::ESME_RMSGQFUL,
                CommandStatus::ESME_RTHROTTLED,
                CommandStatus::ESME_RX_T_APPN
            ]
        );
        // The defaults agree with the codec's notion of a transient status.
        for (status, class) in p.entries() {
            assert_eq!(
                status.is_transient(),
                class == StatusClass::Transient,
                "{status}"
            );
        }
    }

    #[test]
    fn statuses_are_read_by_name_hex_or_decimal() {
        assert_eq!(
            parse_status("ESME_RTHROTTLED"),
            Some(CommandStatus::ESME_RTHROTTLED)
        );
        assert_eq!(
            parse_status("esme_rthrottled"),
            Some(CommandStatus::ESME_RTHROTTLED)
        );
        assert_eq!(parse_status("0x58"), Some(CommandStatus::ESME_RTHROTTLED));
        assert_eq!(parse_status("0X0400"), Some(CommandStatus(0x400)));
        assert_eq!(parse_status("88"), Some(CommandStatus::ESME_RTHROTTLED));
        assert_eq!(parse_status("ESME_RNOPE"), None);
        assert_eq!(parse_status("0xZZ"), None);
        assert_eq!(parse_status(""), None);
    }

    #[test]
    fn configured_entries_go_over_the_defaults() {
        let p: RetryPolicy = toml::from_str(
            "ESME_RSYSERR = \"permanent\"\n\"0x0401\" = \"transient\"\nesme_rinvsrcadr = \"failover\"",
        )
        .expect("valid");
        assert_eq!(
            p.classify(CommandStatus::ESME_RSYSERR),
            StatusClass::Permanent
        );
        assert_eq!(p.classify(CommandStatus(0x401)), StatusClass::Transient);
        assert_eq!(
            p.classify(CommandStatus::ESME_RINVSRCADR),
            StatusClass::Failover
        );
        assert_eq!(
            p.classify(CommandStatus::ESME_RTHROTTLED),
            StatusClass::Transient
        );
    }

    #[test]
    fn written_back_by_name_or_hex_and_read_again() {
        let p: RetryPolicy = toml::from_str("\"0x0401\" = \"transient\"").expect("valid");
        let text = toml::to_string(&p).expect("serializes");
        assert!(text.contains("0x0401 = \"transient\""), "{text}");
        assert!(text.contains("ESME_RTHROTTLED = \"transient\""), "{text}");
        let again: RetryPolicy = toml::from_str(&text).expect("reads back");
        assert_eq!(again, p);
    }
}
