//! Addresses per carrier: turns a message's destination and its sender into the
//! source_addr / destination_addr of a submit_sm, written in the carrier's
//! [`AddressFormat`]s with their TON/NPI (SMPP 3.4 5.2.5, 5.2.6, 5.2.8, 5.2.9), and checks a
//! sender against the form a Japanese carrier requires.

use crate::carrier::number::{
    Address, AddressFormat, Msisdn, NumberFormat, NumberPlan, NPI_ISDN, NPI_UNKNOWN,
    TON_ALPHANUMERIC, TON_INTERNATIONAL, TON_NETWORK_SPECIFIC, TON_UNKNOWN,
};
use serde::{Deserialize, Serialize};

/// A carrier's addressing rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    /// The numbering plan its national numbers are written in (its country code and trunk
    /// prefix); used only by a `national` format and by a national sender.
    pub plan: NumberPlan,
    /// How destinations are written.
    pub destination: AddressFormat,
    /// How a sender given as a number is written.
    pub source: AddressFormat,
    /// The form every sender must have on this carrier (a Japan profile's `sender_form`);
    /// `None`: any number, short code or alphanumeric sender.
    pub sender_form: Option<SenderForm>,
    /// The sender used when a message names none; `None` leaves source_addr empty, so
    /// the SMSC applies its default (5.2.8).
    pub default_sender: Option<String>,
}

impl Default for Addressing {
    /// International destinations and senders (TON 1, NPI 1) under the Japanese plan, any
    /// sender form, no default sender.
    fn default() -> Self {
        let international = AddressFormat {
            ton: TON_INTERNATIONAL,
            npi: NPI_ISDN,
            format: NumberFormat::E164,
        };
        Addressing {
            plan: NumberPlan::japan(),
            destination: international,
            source: international,
            sender_form: None,
            default_sender: None,
        }
    }
}

/// The two sender forms Japanese carriers accept (`sender_form` of a Japan profile in the
/// configuration, which reads straight into this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderForm {
    /// A common short code: `0005` and six digits (`0005123456`), sent as given with TON 3
    /// network specific, NPI 0.
    ShortCode,
    /// A national number: trunk prefix 0 and 9 or 10 digits (`0312345678`, `09012345678`),
    /// written in the carrier's source format.
    National,
}

impl SenderForm {
    /// Is `sender` written in this form?
    pub fn accepts(self, sender: &str) -> bool {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match self {
            SenderForm::ShortCode => {
                sender.len() == 10 && sender.starts_with("0005") && digits(sender)
            }
            SenderForm::National => {
                (10..=11).contains(&sender.len())
                    && sender.starts_with('0')
                    && !sender.starts_with("0005")
                    && digits(sender)
            }
        }
    }

    /// The form as the error messages describe it.
    pub fn describe(self) -> &'static str {
        match self {
            SenderForm::ShortCode => "a common short code: 0005 and 6 digits",
            SenderForm::National => "a national number: 0 and 9 or 10 digits",
        }
    }
}

/// Why an address cannot be written for a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The sender cannot be sent.
    #[error("sender {from:?}: {reason}")]
    Sender {
        /// The sender as given (or the carrier's default).
        from: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Most characters of an alphanumeric sender (3GPP TS 23.040 9.1.2.5: 11 characters).
const ALPHANUMERIC_MAX: usize = 11;
/// Most octets of source_addr / destination_addr without the NUL (5.2.8, 5.2.9).
const ADDR_MAX: usize = 20;

impl Addressing {
    /// destination_addr for `to`, in the destination format (see
    /// [`AddressFormat::write`]).
    pub fn destination(&self, to: &Msisdn) -> Address {
        self.destination.write(&self.plan, to)
    }

    /// source_addr for the sender `from` (or the default sender; none leaves source_addr
    /// empty with TON/NPI 0/0).
    ///
    /// With a sender form, the sender must be of it: a short code goes as given with TON 3
    /// NPI 0, a national number is written in the source format. Without one: an E.164
    /// number is written in the source format; other digits (starting with `0`, or too
    /// short for E.164: a short code) go as given with TON 3 NPI 0; anything else is
    /// alphanumeric (at most 11 characters, printable ASCII) with TON 5 NPI 0.
    ///
    /// # Errors
    /// [`AddressError::Sender`] for a sender that cannot be sent, naming the form it breaks.
    pub fn source(&self, from: Option<&str>) -> Result<Address, AddressError> {
        let Some(from) = from.or(self.default_sender.as_deref()) else {
            return Ok(Address {
                ton: TON_UNKNOWN,
                npi: NPI_UNKNOWN,
                digits: String::new(),
            });
        };
        let bad = |reason: String| AddressError::Sender {
            from: from.to_owned(),
            reason,
        };
        let short_code = || Address {
            ton: TON_NETWORK_SPECIFIC,
            npi: NPI_UNKNOWN,
            digits: from.to_owned(),
        };
        match self.sender_form {
            Some(form) if !form.accepts(from) => {
                Err(bad(format!("must be {} on this carrier", form.describe())))
            }
            Some(SenderForm::ShortCode) => Ok(short_code()),
            Some(SenderForm::National) => {
                let number = self.plan.normalise(from).map_err(|e| bad(e.to_string()))?;
                Ok(self.source.write(&self.plan, &number))
            }
            None if from.is_empty() => Err(bad("is empty".into())),
            None if from.bytes().all(|b| b.is_ascii_digit()) => {
                if from.len() > ADDR_MAX {
                    return Err(bad("has more than 20 digits".into()));
                }
                Ok(match Msisdn::parse_e164(from) {
                    Ok(number) => self.source.write(&self.plan, &number),
                    Err(_) => short_code(),
                })
            }
            None if !from.bytes().all(|b| (0x20..0x7F).contains(&b)) => Err(bad(
                "an alphanumeric sender takes printable ASCII only".into(),
            )),
            None if from.len() > ALPHANUMERIC_MAX => Err(bad(
                "an alphanumeric sender has at most 11 characters".into(),
            )),
            None => Ok(Address {
                ton: TON_ALPHANUMERIC,
                npi: NPI_UNKNOWN,
                digits: from.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::number::TON_NATIONAL;

    fn national() -> AddressFormat {
        AddressFormat::default_source()
    }

    fn japan() -> Addressing {
        Addressing {
            destination: national(),
            source: national(),
            ..Addressing::default()
        }
    }

    fn number(digits: &str) -> Msisdn {
        Msisdn::parse_e164(digits).unwrap()
    }

    fn pair(a: &Address) -> (u8, u8, &str) {
        (a.ton, a.npi, a.digits.as_str())
    }

    #[test]
    fn destinations_in_each_format() {
        let d = Addressing::default().destination(&number("819012345678"));
        assert_eq!(pair(&d), (TON_INTERNATIONAL, NPI_ISDN, "819012345678"));
        let d = japan().destination(&number("819012345678"));
        assert_eq!(pair(&d), (TON_NATIONAL, NPI_ISDN, "09012345678"));
        // A national carrier cannot write another country's number nationally: it goes
        // international, with 1/1.
        let d = japan().destination(&number("14155550100"));
        assert_eq!(pair(&d), (TON_INTERNATIONAL, NPI_ISDN, "14155550100"));
    }

    #[test]
    fn senders_short_code_national_alphanumeric_or_default() {
        let a = japan();
        // A 0005 common short code goes as given, with the short-code TON/NPI.
        let s = a.source(Some("0005012345")).unwrap();
        assert_eq!(pair(&s), (TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "0005012345"));
        let s = a.source(Some("81312345678")).unwrap();
        assert_eq!(pair(&s), (TON_NATIONAL, NPI_ISDN, "0312345678"));
        // Too short for E.164: a short code.
        let s = a.source(Some("1234")).unwrap();
        assert_eq!(pair(&s), (TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "1234"));
        let s = a.source(Some("SMSGATE")).unwrap();
        assert_eq!(s.ton, TON_ALPHANUMERIC);
        assert!(matches!(
            a.source(Some("ABCDEFGHIJKL")),
            Err(AddressError::Sender { .. })
        ));
        assert!(matches!(
            a.source(Some("送信者")),
            Err(AddressError::Sender { .. })
        ));
        let s = a.source(None).unwrap();
        assert_eq!(pair(&s), (TON_UNKNOWN, NPI_UNKNOWN, ""));
        let with_default = Addressing {
            default_sender: Some("0005012345".into()),
            ..japan()
        };
        assert_eq!(with_default.source(None).unwrap().digits, "0005012345");
    }

    #[test]
    fn sender_forms() {
        assert!(SenderForm::ShortCode.accepts("0005123456"));
        assert!(!SenderForm::ShortCode.accepts("000512345"));
        assert!(!SenderForm::ShortCode.accepts("0312345678"));
        assert!(SenderForm::National.accepts("0312345678"));
        assert!(SenderForm::National.accepts("09012345678"));
        assert!(!SenderForm::National.accepts("0005123456"));
        assert!(!SenderForm::National.accepts("+81312345678"));
        assert!(!SenderForm::National.accepts("312345678"));
    }

    #[test]
    fn a_sender_form_is_required_of_every_sender_and_the_default() {
        let short = Addressing {
            sender_form: Some(SenderForm::ShortCode),
            default_sender: Some("0005123456".into()),
            ..japan()
        };
        let s = short.source(None).unwrap();
        assert_eq!(pair(&s), (TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "0005123456"));
        let err = short.source(Some("0312345678")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sender \"0312345678\": must be a common short code: 0005 and 6 digits on this carrier"
        );
        assert!(short.source(Some("SMSGATE")).is_err());

        let national = Addressing {
            sender_form: Some(SenderForm::National),
            ..japan()
        };
        // A national sender takes the configured source TON/NPI, not the short code's.
        let s = national.source(Some("0312345678")).unwrap();
        assert_eq!(pair(&s), (TON_NATIONAL, NPI_ISDN, "0312345678"));
        // Written E.164 when the carrier's source format says so.
        let e164 = Addressing {
            source: AddressFormat::default_destination(),
            ..national.clone()
        };
        let s = e164.source(Some("0312345678")).unwrap();
        assert_eq!(pair(&s), (TON_INTERNATIONAL, NPI_ISDN, "81312345678"));
        for refused in ["0005123456", "81312345678", "SMSGATE"] {
            assert!(
                matches!(
                    national.source(Some(refused)),
                    Err(AddressError::Sender { .. })
                ),
                "{refused}"
            );
        }
        // No sender at all: the SMSC's default, as without a form.
        assert_eq!(national.source(None).unwrap().digits, "");
    }
}
