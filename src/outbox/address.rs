//! Addresses per carrier: turns a message's E.164 destination and its sender into the
//! source_addr / destination_addr of a submit_sm with the TON/NPI the carrier's number
//! format asks for (SMPP 3.4 5.2.5, 5.2.6, 5.2.8, 5.2.9).

/// Type of number and numbering plan indicator of one address (5.2.5, 5.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TonNpi {
    /// addr_ton: 0 unknown, 1 international, 2 national, 3 network specific, 5 alphanumeric.
    pub ton: u8,
    /// addr_npi: 0 unknown, 1 ISDN (E.163/E.164).
    pub npi: u8,
}

impl TonNpi {
    /// International number, ISDN plan (1/1).
    pub const INTERNATIONAL: TonNpi = TonNpi { ton: 1, npi: 1 };
    /// National number, ISDN plan (2/1).
    pub const NATIONAL: TonNpi = TonNpi { ton: 2, npi: 1 };
    /// Network-specific number, unknown plan (3/0): short codes.
    pub const NETWORK_SPECIFIC: TonNpi = TonNpi { ton: 3, npi: 0 };
    /// Alphanumeric sender, unknown plan (5/0).
    pub const ALPHANUMERIC: TonNpi = TonNpi { ton: 5, npi: 0 };
    /// Unknown/unknown (0/0): with an empty source_addr, the SMSC's default sender.
    pub const UNKNOWN: TonNpi = TonNpi { ton: 0, npi: 0 };
}

/// How a carrier writes an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberFormat {
    /// As E.164 digits: country code and national number, no `+`.
    International,
    /// As a national number: the country code replaced by the trunk prefix
    /// (Japan: `81 90 1234 5678` → `090 1234 5678`). Only numbers of that country can be
    /// written so.
    National {
        /// The country code, e.g. `"81"`.
        country_code: String,
        /// The trunk prefix, e.g. `"0"`.
        trunk_prefix: String,
    },
}

/// A number format with the TON/NPI that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPlan {
    /// How the digits are written.
    pub format: NumberFormat,
    /// TON/NPI sent with them.
    pub ton_npi: TonNpi,
}

impl NumberPlan {
    /// E.164 digits, TON/NPI 1/1.
    pub fn international() -> NumberPlan {
        NumberPlan {
            format: NumberFormat::International,
            ton_npi: TonNpi::INTERNATIONAL,
        }
    }

    /// National numbers of `country_code` with `trunk_prefix`, TON/NPI 2/1.
    pub fn national(country_code: &str, trunk_prefix: &str) -> NumberPlan {
        NumberPlan {
            format: NumberFormat::National {
                country_code: country_code.into(),
                trunk_prefix: trunk_prefix.into(),
            },
            ton_npi: TonNpi::NATIONAL,
        }
    }

    fn write(&self, number: &str) -> Option<String> {
        match &self.format {
            NumberFormat::International => Some(number.to_owned()),
            NumberFormat::National {
                country_code,
                trunk_prefix,
            } => number
                .strip_prefix(country_code.as_str())
                .map(|rest| format!("{trunk_prefix}{rest}")),
        }
    }
}

/// A carrier's addressing rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    /// How destinations are written.
    pub destination: NumberPlan,
    /// How a sender given as an E.164 number is written.
    pub source: NumberPlan,
    /// TON/NPI of a sender given as a short code, i.e. digits starting with `0` that are
    /// no E.164 number (Japan's `0005` common short codes), sent as given.
    pub short_code: TonNpi,
    /// The sender used when a message names none; `None` leaves source_addr empty, so
    /// the SMSC applies its default (5.2.8).
    pub default_sender: Option<String>,
}

impl Default for Addressing {
    /// International destinations and senders, short codes as network-specific, no
    /// default sender.
    fn default() -> Self {
        Addressing {
            destination: NumberPlan::international(),
            source: NumberPlan::international(),
            short_code: TonNpi::NETWORK_SPECIFIC,
            default_sender: None,
        }
    }
}

/// An address ready for a submit_sm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Its TON/NPI.
    pub ton_npi: TonNpi,
    /// Its digits or text.
    pub addr: String,
}

/// Why an address cannot be written for a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The destination is not E.164 digits.
    #[error("destination {to:?}: {reason}")]
    Destination {
        /// The destination as given.
        to: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The carrier writes national numbers and the destination is not of its country.
    #[error("destination {to:?} is not a number of country code {country_code}, the only one this carrier's national format can write")]
    NotNational {
        /// The destination.
        to: String,
        /// The carrier's country code.
        country_code: String,
    },
    /// The sender cannot be sent.
    #[error("sender {from:?}: {reason}")]
    Sender {
        /// The sender as given.
        from: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Most digits of an E.164 number (ITU-T E.164 section 6).
const E164_MAX_DIGITS: usize = 15;
/// Most characters of an alphanumeric sender (3GPP TS 23.040 9.1.2.5: 11 characters).
const ALPHANUMERIC_MAX: usize = 11;
/// Most octets of source_addr / destination_addr without the NUL (5.2.8, 5.2.9).
const ADDR_MAX: usize = 20;

/// Checks that `to` is an E.164 number: 2 to 15 digits, no leading `0` or `+`.
///
/// # Errors
/// [`AddressError::Destination`] saying what is wrong.
pub fn check_e164(to: &str) -> Result<(), AddressError> {
    let reason = if !to.bytes().all(|b| b.is_ascii_digit()) {
        Some("must be E.164 digits only (no '+', spaces or dashes)")
    } else if to.len() < 2 || to.len() > E164_MAX_DIGITS {
        Some("must have 2 to 15 digits")
    } else if to.starts_with('0') {
        Some("must start with the country code, not 0")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(AddressError::Destination {
            to: to.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

impl Addressing {
    /// destination_addr for the E.164 number `to`.
    ///
    /// # Errors
    /// [`AddressError::Destination`] if `to` is not E.164, [`AddressError::NotNational`]
    /// if the carrier's national format cannot write it.
    pub fn destination(&self, to: &str) -> Result<Address, AddressError> {
        check_e164(to)?;
        let addr = self.destination.write(to).ok_or_else(|| {
            let country_code = match &self.destination.format {
                NumberFormat::National { country_code, .. } => country_code.clone(),
                NumberFormat::International => String::new(),
            };
            AddressError::NotNational {
                to: to.to_owned(),
                country_code,
            }
        })?;
        Ok(Address {
            ton_npi: self.destination.ton_npi,
            addr,
        })
    }

    /// source_addr for the sender `from` (or the default sender): an E.164 number written
    /// per the source plan; digits starting with `0`, a short code sent as given; anything
    /// else alphanumeric (at most 11 characters, printable ASCII).
    ///
    /// # Errors
    /// [`AddressError::Sender`] for a sender that cannot be sent.
    pub fn source(&self, from: Option<&str>) -> Result<Address, AddressError> {
        let Some(from) = from.or(self.default_sender.as_deref()) else {
            return Ok(Address {
                ton_npi: TonNpi::UNKNOWN,
                addr: String::new(),
            });
        };
        let bad = |reason| AddressError::Sender {
            from: from.to_owned(),
            reason,
        };
        if from.is_empty() {
            return Err(bad("is empty"));
        }
        if from.bytes().all(|b| b.is_ascii_digit()) {
            if from.len() > ADDR_MAX {
                return Err(bad("has more than 20 digits"));
            }
            if from.starts_with('0') {
                return Ok(Address {
                    ton_npi: self.short_code,
                    addr: from.to_owned(),
                });
            }
            let addr = self
                .source
                .write(from)
                .ok_or(bad("is not a number of the carrier's country"))?;
            return Ok(Address {
                ton_npi: self.source.ton_npi,
                addr,
            });
        }
        if !from.bytes().all(|b| (0x20..0x7F).contains(&b)) {
            return Err(bad("an alphanumeric sender takes printable ASCII only"));
        }
        if from.len() > ALPHANUMERIC_MAX {
            return Err(bad("an alphanumeric sender has at most 11 characters"));
        }
        Ok(Address {
            ton_npi: TonNpi::ALPHANUMERIC,
            addr: from.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn japan() -> Addressing {
        Addressing {
            destination: NumberPlan::national("81", "0"),
            source: NumberPlan::national("81", "0"),
            ..Addressing::default()
        }
    }

    #[test]
    fn destinations_in_each_format() {
        let d = Addressing::default().destination("819012345678").unwrap();
        assert_eq!(
            (d.ton_npi, d.addr.as_str()),
            (TonNpi::INTERNATIONAL, "819012345678")
        );
        let d = japan().destination("819012345678").unwrap();
        assert_eq!(
            (d.ton_npi, d.addr.as_str()),
            (TonNpi::NATIONAL, "09012345678")
        );
        assert_eq!(
            japan().destination("14155550100"),
            Err(AddressError::NotNational {
                to: "14155550100".into(),
                country_code: "81".into()
            })
        );
    }

    #[test]
    fn destinations_that_are_not_e164_are_refused() {
        for bad in [
            "+819012345678",
            "090-1234-5678",
            "09012345678",
            "8",
            "8190123456789012",
        ] {
            assert!(
                matches!(check_e164(bad), Err(AddressError::Destination { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn senders_short_code_national_alphanumeric_or_default() {
        let a = japan();
        // A 0005 common short code goes as given, with the short-code TON/NPI.
        let s = a.source(Some("0005012345")).unwrap();
        assert_eq!(
            (s.ton_npi, s.addr.as_str()),
            (TonNpi::NETWORK_SPECIFIC, "0005012345")
        );
        let s = a.source(Some("81312345678")).unwrap();
        assert_eq!(
            (s.ton_npi, s.addr.as_str()),
            (TonNpi::NATIONAL, "0312345678")
        );
        let s = a.source(Some("SMSGATE")).unwrap();
        assert_eq!(s.ton_npi, TonNpi::ALPHANUMERIC);
        assert!(matches!(
            a.source(Some("ABCDEFGHIJKL")),
            Err(AddressError::Sender { .. })
        ));
        assert!(matches!(
            a.source(Some("送信者")),
            Err(AddressError::Sender { .. })
        ));
        let s = a.source(None).unwrap();
        assert_eq!((s.ton_npi, s.addr.as_str()), (TonNpi::UNKNOWN, ""));
        let with_default = Addressing {
            default_sender: Some("0005012345".into()),
            ..japan()
        };
        assert_eq!(with_default.source(None).unwrap().addr, "0005012345");
    }
}
