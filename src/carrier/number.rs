//! Phone numbers: what a caller hands in ("+81 90-1234-5678", "09012345678") normalised to
//! E.164 digits under a configured numbering plan, and an E.164 number written the way a
//! carrier wants it in an address field: its [`AddressFormat`] (international or national
//! digits, with the TON and NPI the carrier asks for).
//!
//! A normalised number ([`Msisdn`]) is what routing, portability and the outbox use: digits
//! only, no `+`, 7 to 15 of them (E.164 allows at most 15), never starting with 0 (a
//! country code never does).

use core::fmt;
use serde::{Deserialize, Serialize};

/// The most digits an E.164 number has.
pub const MAX_DIGITS: usize = 15;

/// The fewest digits a number is accepted with (country code included); shorter input is
/// a typo, a short code or a fragment, none of which a carrier route delivers to.
pub const MIN_DIGITS: usize = 7;

/// TON "Unknown" (5.2.5, Table 5-3).
pub const TON_UNKNOWN: u8 = 0x00;

/// TON "International" (5.2.5, Table 5-3).
pub const TON_INTERNATIONAL: u8 = 0x01;

/// TON "National" (5.2.5, Table 5-3).
pub const TON_NATIONAL: u8 = 0x02;

/// TON "Network Specific" (5.2.5, Table 5-3): short codes.
pub const TON_NETWORK_SPECIFIC: u8 = 0x03;

/// TON "Alphanumeric" (5.2.5, Table 5-3).
pub const TON_ALPHANUMERIC: u8 = 0x05;

/// NPI "Unknown" (5.2.6, Table 5-4).
pub const NPI_UNKNOWN: u8 = 0x00;

/// NPI "ISDN (E163/E164)" (5.2.6, Table 5-4).
pub const NPI_ISDN: u8 = 0x01;

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing but whitespace or separators.
    #[error("the number is empty")]
    Empty,
    /// A character that is not a digit, a leading `+`, or a separator (space `-` `.` `(` `)`).
    #[error("character {ch:?} at position {position} is not allowed in a number (digits, a leading '+', spaces, '-', '.', '(', ')')")]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its position, counting characters from 1.
        position: usize,
    },
    /// The international number starts with 0, which no country code does.
    #[error("an international number cannot start with 0 (no country code does)")]
    CountryCodeZero,
    /// After the national prefix comes another 0: an international or carrier prefix this
    /// plan does not know.
    #[error("after the national prefix {prefix} the number starts with 0 again (a prefix this numbering plan does not know)")]
    UnknownPrefix {
        /// The plan's national prefix.
        prefix: String,
    },
    /// Fewer than [`MIN_DIGITS`] digits once normalised.
    #[error("the number has {digits} digits, fewer than {MIN_DIGITS} (country code included)")]
    TooShort {
        /// Digits of the normalised number.
        digits: usize,
    },
    /// More than [`MAX_DIGITS`] digits once normalised.
    #[error("the number has {digits} digits, more than E.164's {MAX_DIGITS}")]
    TooLong {
        /// Digits of the normalised number.
        digits: usize,
    },
}

/// A numbering plan setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The country code is not 1 to 3 digits starting with 1-9 (the message leaves naming
    /// the setting to the caller: it is `country_code` in the configuration).
    #[error("{0:?} is not allowed (1 to 3 digits, no leading 0 or +)")]
    CountryCode(String),
    /// A prefix is not 1 to 4 digits.
    #[error("prefix {0:?} must be 1 to 4 digits")]
    Prefix(String),
    /// The international prefix starts the national prefix, so no national number could
    /// ever be recognised.
    #[error("international prefix {international:?} would hide national prefix {national:?}")]
    PrefixClash {
        /// The international prefix.
        international: String,
        /// The national prefix.
        national: String,
    },
}

/// A normalised number: E.164 digits without the `+` (see the module documentation).
/// Stored as its digits; reading one back checks it again ([`Msisdn::parse_e164`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Msisdn(String);

impl TryFrom<String> for Msisdn {
    type Error = NumberError;

    fn try_from(digits: String) -> Result<Msisdn, NumberError> {
        Msisdn::parse_e164(&digits)
    }
}

impl From<Msisdn> for String {
    fn from(number: Msisdn) -> String {
        number.0
    }
}

impl Msisdn {
    /// A number already in E.164 form: digits with an optional leading `+`, nothing else
    /// (what a portability table or a stored record holds).
    ///
    /// # Errors
    ///
    /// [`NumberError`] naming what is wrong.
    pub fn parse_e164(text: &str) -> Result<Msisdn, NumberError> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        if digits.is_empty() {
            return Err(NumberError::Empty);
        }
        let offset = text.len() - digits.len();
        if let Some((i, ch)) = digits
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(NumberError::InvalidCharacter {
                ch,
                position: offset + i + 1,
            });
        }
        Msisdn::checked(digits.to_string())
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `digits` (ASCII digits only) if it is a valid E.164 number.
    fn checked(digits: String) -> Result<Msisdn, NumberError> {
        if digits.starts_with('0') {
            return Err(NumberError::CountryCodeZero);
        }
        match digits.len() {
            n if n < MIN_DIGITS => Err(NumberError::TooShort { digits: n }),
            n if n > MAX_DIGITS => Err(NumberError::TooLong { digits: n }),
            _ => Ok(Msisdn(digits)),
        }
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the digits of an address field are written: `format` of an address in the
/// configuration (`"e164"` or `"national"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// International: E.164 digits without `+` (`819012345678`).
    E164,
    /// National: the national prefix and the national significant number
    /// (`09012345678`); a number it cannot write so is written international (see
    /// [`AddressFormat::write`]).
    National,
}

/// TON, NPI and number format of one address field of a carrier (`source` and
/// `destination` in the configuration, which reads straight into this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressFormat {
    /// Type of number (5.2.5, Table 5-3) sent with a number written in `format`: 0 unknown,
    /// 1 international, 2 national, 3 network specific, 4 subscriber number, 5
    /// alphanumeric, 6 abbreviated.
    pub ton: u8,
    /// Numbering plan (5.2.6, Table 5-4) sent with a number written in `format`: 0 unknown,
    /// 1 ISDN E.164, 3 data, 4 telex, 6 land mobile, 8 national, 9 private, 10 ERMES, 14
    /// internet, 18 WAP client id.
    pub npi: u8,
    /// How the digits are written.
    pub format: NumberFormat,
}

impl AddressFormat {
    /// Senders as national numbers: TON 2 national, NPI 1.
    pub fn default_source() -> AddressFormat {
        AddressFormat {
            ton: TON_NATIONAL,
            npi: NPI_ISDN,
            format: NumberFormat::National,
        }
    }

    /// Handsets in international form: TON 1, NPI 1, digits with the country code.
    pub fn default_destination() -> AddressFormat {
        AddressFormat {
            ton: TON_INTERNATIONAL,
            npi: NPI_ISDN,
            format: NumberFormat::E164,
        }
    }

    /// `number` as this field is written for a carrier whose numbers are read in `plan`:
    /// in `format` with this TON and NPI (what the operator configured wins). National
    /// applies to numbers of the plan's country only, and only when the national form
    /// reads back as the same number; any other number is written international, the only
    /// way it can be addressed, with TON 1 international and NPI 1 ISDN (the configured
    /// TON/NPI describe national numbers there).
    pub fn write(&self, plan: &NumberPlan, number: &Msisdn) -> Address {
        let digits = match self.format {
            NumberFormat::E164 => Some(number.as_str().to_string()),
            NumberFormat::National => plan.national_form(number),
        };
        match digits {
            Some(digits) => Address {
                ton: self.ton,
                npi: self.npi,
                digits,
            },
            None => Address {
                ton: TON_INTERNATIONAL,
                npi: NPI_ISDN,
                digits: number.as_str().to_string(),
            },
        }
    }
}

/// A number as it goes into a PDU's address fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `*_addr_ton` (5.2.5).
    pub ton: u8,
    /// `*_addr_npi` (5.2.6).
    pub npi: u8,
    /// `*_addr`.
    pub digits: String,
}

/// The numbering plan numbers are read in: the home country code and its prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPlan {
    /// The home country code (`81`): a national number becomes this followed by its
    /// national significant number.
    country_code: String,
    /// The national (trunk) prefix (`0`) a national number starts with, if the country has
    /// one.
    national_prefix: Option<String>,
    /// The international call prefix (`010` in Japan) a dialled international number may
    /// start with instead of `+`.
    international_prefix: Option<String>,
}

impl NumberPlan {
    /// A plan with `country_code`, and the national and international prefixes if any.
    ///
    /// # Errors
    ///
    /// [`PlanError`] for a country code or prefix that is not digits of the right length,
    /// or an international prefix that the national prefix starts with.
    pub fn new(
        country_code: &str,
        national_prefix: Option<&str>,
        international_prefix: Option<&str>,
    ) -> Result<NumberPlan, PlanError> {
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !(1..=3).contains(&country_code.len())
            || !all_digits(country_code)
            || country_code.starts_with('0')
        {
            return Err(PlanError::CountryCode(country_code.to_string()));
        }
        for prefix in [national_prefix, international_prefix]
            .into_iter()
            .flatten()
        {
            if !(1..=4).contains(&prefix.len()) || !all_digits(prefix) {
                return Err(PlanError::Prefix(prefix.to_string()));
            }
        }
        if let (Some(national), Some(international)) = (national_prefix, international_prefix) {
            if national.starts_with(international) {
                return Err(PlanError::PrefixClash {
                    international: international.to_string(),
                    national: national.to_string(),
                });
            }
        }
        Ok(NumberPlan {
            country_code: country_code.to_string(),
            national_prefix: national_prefix.map(str::to_string),
            international_prefix: international_prefix.map(str::to_string),
        })
    }

    /// Japan: country code 81, national prefix 0, international prefix 010.
    pub fn japan() -> NumberPlan {
        NumberPlan {
            country_code: "81".to_string(),
            national_prefix: Some("0".to_string()),
            international_prefix: Some("010".to_string()),
        }
    }

    /// The home country code.
    pub fn country_code(&self) -> &str {
        &self.country_code
    }

    /// Normalises `input` to E.164 digits: separators (space `-` `.` `(` `)`) dropped; a
    /// leading `+` or the international prefix marks an international number; the national
    /// prefix is replaced by the country code; other digits are taken as E.164 already.
    ///
    /// # Errors
    ///
    /// [`NumberError`] for anything else: letters, a `+` not first, a number that starts
    /// with 0 where a country code should be, too few or too many digits.
    pub fn normalise(&self, input: &str) -> Result<Msisdn, NumberError> {
        let input = input.trim();
        let mut digits = String::with_capacity(MAX_DIGITS + 1);
        let mut plus = false;
        for (i, ch) in input.chars().enumerate() {
            match ch {
                '0'..='9' => digits.push(ch),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(NumberError::InvalidCharacter {
                        ch,
                        position: i + 1,
                    })
                }
            }
        }
        if digits.is_empty() {
            return Err(NumberError::Empty);
        }
        if plus {
            return Msisdn::checked(digits);
        }
        if let Some(rest) = strip(&digits, self.international_prefix.as_deref()) {
            return Msisdn::checked(rest.to_string());
        }
        if let Some(rest) = strip(&digits, self.national_prefix.as_deref()) {
            if rest.starts_with('0') {
                return Err(NumberError::UnknownPrefix {
                    prefix: self.national_prefix.clone().unwrap_or_default(),
                });
            }
            return Msisdn::checked(format!("{}{rest}", self.country_code));
        }
        Msisdn::checked(digits)
    }

    /// The national form of `number` (national prefix + national significant number), if
    /// it is a number of this country whose national form [`NumberPlan::normalise`] reads
    /// back as the same number.
    fn national_form(&self, number: &Msisdn) -> Option<String> {
        let nsn = number.as_str().strip_prefix(self.country_code.as_str())?;
        if nsn.is_empty() || nsn.starts_with('0') {
            return None;
        }
        let digits = format!("{}{nsn}", self.national_prefix.as_deref().unwrap_or(""));
        let misread = strip(&digits, self.international_prefix.as_deref()).is_some();
        (!misread).then_some(digits)
    }
}

/// `digits` without `prefix`, if it has it.
fn strip<'a>(digits: &'a str, prefix: Option<&str>) -> Option<&'a str> {
    digits.strip_prefix(prefix?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jp(input: &str) -> Result<String, NumberError> {
        NumberPlan::japan()
            .normalise(input)
            .map(|n| n.as_str().to_string())
    }

    fn msisdn(digits: &str) -> Msisdn {
        Msisdn::parse_e164(digits).unwrap_or_else(|e| panic!("{digits}: {e}"))
    }

    #[test]
    fn international_input_with_plus_and_separators_becomes_e164_digits() {
        assert_eq!(jp("+81 90-1234-5678").as_deref(), Ok("819012345678"));
        assert_eq!(jp("  +1 (212) 555.0100 ").as_deref(), Ok("12125550100"));
    }

    #[test]
    fn a_japanese_national_number_gets_81_in_place_of_its_leading_0() {
        assert_eq!(jp("09012345678").as_deref(), Ok("819012345678"));
        assert_eq!(jp("090-1234-5678").as_deref(), Ok("819012345678"));
        assert_eq!(jp("(03) 1234-5678").as_deref(), Ok("81312345678"));
    }

    #[test]
    fn the_international_prefix_010_is_dropped() {
        assert_eq!(jp("010 1 212 555 0100").as_deref(), Ok("12125550100"));
        assert_eq!(jp("010-44-20-7946-0000").as_deref(), Ok("442079460000"));
    }

    #[test]
    fn bare_digits_without_a_prefix_are_taken_as_e164() {
        assert_eq!(jp("819012345678").as_deref(), Ok("819012345678"));
    }

    #[test]
    fn another_country_code_is_configurable() {
        let uk = NumberPlan::new("44", Some("0"), Some("00")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(uk.country_code(), "44");
        assert_eq!(
            uk.normalise("020 7946 0000")
                .map(|n| n.to_string())
                .as_deref(),
            Ok("442079460000")
        );
        assert_eq!(
            uk.normalise("0081 90 1234 5678")
                .map(|n| n.to_string())
                .as_deref(),
            Ok("819012345678")
        );
        let no_trunk = NumberPlan::new("39", None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            no_trunk.normalise("0612345678"),
            Err(NumberError::CountryCodeZero)
        );
    }

    #[test]
    fn garbage_is_refused_with_a_typed_error() {
        assert_eq!(jp(""), Err(NumberError::Empty));
        assert_eq!(jp(" - ( ) "), Err(NumberError::Empty));
        assert_eq!(jp("+"), Err(NumberError::Empty));
        assert_eq!(
            jp("090-1234-567x"),
            Err(NumberError::InvalidCharacter {
                ch: 'x',
                position: 13
            })
        );
        assert_eq!(
            jp("81+9012345678"),
            Err(NumberError::InvalidCharacter {
                ch: '+',
                position: 3
            })
        );
        assert_eq!(
            jp("０９０１２３４５６７８"),
            Err(NumberError::InvalidCharacter {
                ch: '０',
                position: 1
            })
        );
        assert_eq!(jp("+0901234567"), Err(NumberError::CountryCodeZero));
        assert_eq!(
            jp("0012345678"),
            Err(NumberError::UnknownPrefix { prefix: "0".into() })
        );
        assert_eq!(jp("+81123"), Err(NumberError::TooShort { digits: 5 }));
        assert_eq!(
            jp("+8190123456789012"),
            Err(NumberError::TooLong { digits: 16 })
        );
        assert_eq!(
            NumberError::InvalidCharacter { ch: 'x', position: 13 }.to_string(),
            "character 'x' at position 13 is not allowed in a number (digits, a leading '+', spaces, '-', '.', '(', ')')"
        );
    }

    #[test]
    fn parse_e164_accepts_only_digits_with_an_optional_plus() {
        assert_eq!(msisdn("+819012345678").as_str(), "819012345678");
        assert_eq!(msisdn("819012345678").as_str(), "819012345678");
        assert_eq!(
            Msisdn::parse_e164("+81 90"),
            Err(NumberError::InvalidCharacter {
                ch: ' ',
                position: 4
            })
        );
        assert_eq!(
            Msisdn::parse_e164("09012345678"),
            Err(NumberError::CountryCodeZero)
        );
        assert_eq!(Msisdn::parse_e164("+"), Err(NumberError::Empty));
    }

    #[test]
    fn formats_are_named_as_the_configuration_writes_them() {
        for (format, name) in [
            (NumberFormat::E164, "\"e164\""),
            (NumberFormat::National, "\"national\""),
        ] {
            assert_eq!(serde_json::to_string(&format).ok().as_deref(), Some(name));
            assert_eq!(
                serde_json::from_str::<NumberFormat>(name).ok(),
                Some(format)
            );
        }
        assert!(serde_json::from_str::<NumberFormat>("\"E164\"").is_err());
        assert_eq!(
            PlanError::CountryCode("+81".into()).to_string(),
            "\"+81\" is not allowed (1 to 3 digits, no leading 0 or +)"
        );
    }

    #[test]
    fn invalid_plans_are_refused() {
        assert_eq!(
            NumberPlan::new("081", Some("0"), None),
            Err(PlanError::CountryCode("081".into()))
        );
        assert_eq!(
            NumberPlan::new("8100", None, None),
            Err(PlanError::CountryCode("8100".into()))
        );
        assert_eq!(
            NumberPlan::new("81", Some("O"), None),
            Err(PlanError::Prefix("O".into()))
        );
        assert!(matches!(
            NumberPlan::new("81", Some("00"), Some("0")),
            Err(PlanError::PrefixClash { .. })
        ));
        assert_eq!(
            NumberPlan::new("81", Some("0"), Some("010")),
            Ok(NumberPlan::japan())
        );
    }

    const NATIONAL: AddressFormat = AddressFormat {
        ton: TON_NATIONAL,
        npi: NPI_ISDN,
        format: NumberFormat::National,
    };

    #[test]
    fn formatting_for_a_carrier_gives_e164_or_national_with_ton_and_npi() {
        let plan = NumberPlan::japan();
        let n = msisdn("819012345678");
        assert_eq!(
            AddressFormat::default_destination().write(&plan, &n),
            Address {
                ton: TON_INTERNATIONAL,
                npi: NPI_ISDN,
                digits: "819012345678".into()
            }
        );
        assert_eq!(
            NATIONAL.write(&plan, &n),
            Address {
                ton: TON_NATIONAL,
                npi: NPI_ISDN,
                digits: "09012345678".into()
            }
        );
    }

    #[test]
    fn the_configured_ton_and_npi_win_for_a_number_written_in_the_configured_format() {
        let plan = NumberPlan::japan();
        let n = msisdn("819012345678");
        let unknown = AddressFormat {
            ton: TON_UNKNOWN,
            npi: NPI_UNKNOWN,
            format: NumberFormat::National,
        };
        assert_eq!(
            unknown.write(&plan, &n),
            Address {
                ton: TON_UNKNOWN,
                npi: NPI_UNKNOWN,
                digits: "09012345678".into()
            }
        );
        let e164_unknown = AddressFormat {
            format: NumberFormat::E164,
            ..unknown
        };
        assert_eq!(
            (
                e164_unknown.write(&plan, &n).ton,
                e164_unknown.write(&plan, &n).digits
            ),
            (TON_UNKNOWN, "819012345678".to_string())
        );
        // A number the national format cannot write goes international with 1/1.
        let foreign = unknown.write(&plan, &msisdn("12125550100"));
        assert_eq!(
            (foreign.ton, foreign.npi, foreign.digits.as_str()),
            (TON_INTERNATIONAL, NPI_ISDN, "12125550100")
        );
    }

    #[test]
    fn a_national_form_that_would_read_as_international_stays_international() {
        // 81 10...: its national form 010... would be read as the international prefix.
        let address = NATIONAL.write(&NumberPlan::japan(), &msisdn("8110123456"));
        assert_eq!(
            (address.ton, address.digits.as_str()),
            (TON_INTERNATIONAL, "8110123456")
        );
    }

    #[test]
    fn a_foreign_number_stays_international_for_a_national_carrier() {
        let address = NATIONAL.write(&NumberPlan::japan(), &msisdn("12125550100"));
        assert_eq!(
            (address.ton, address.digits.as_str()),
            (TON_INTERNATIONAL, "12125550100")
        );
    }

    #[test]
    fn a_stored_number_is_its_digits_and_is_checked_when_read_back() {
        let n = msisdn("819012345678");
        let json = serde_json::to_string(&n).unwrap_or_default();
        assert_eq!(json, "\"819012345678\"");
        assert_eq!(serde_json::from_str::<Msisdn>(&json).ok(), Some(n));
        assert!(serde_json::from_str::<Msisdn>("\"090\"").is_err());
    }

    fn e164() -> impl Strategy<Value = String> {
        "[1-9][0-9]{6,14}"
    }

    proptest! {
        #[test]
        fn prop_normalise_never_panics_and_yields_e164(input in any::<String>()) {
            if let Ok(n) = NumberPlan::japan().normalise(&input) {
                prop_assert!(n.as_str().bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((MIN_DIGITS..=MAX_DIGITS).contains(&n.as_str().len()));
                prop_assert!(!n.as_str().starts_with('0'));
            }
            let _ = Msisdn::parse_e164(&input);
        }

        #[test]
        fn prop_separators_never_change_the_number(digits in e164(), seps in proptest::collection::vec(prop_oneof![Just(" "), Just("-"), Just("."), Just("("), Just(")")], 16)) {
            let mut spaced = String::from("+");
            for (d, s) in digits.chars().zip(seps) {
                spaced.push(d);
                spaced.push_str(s);
            }
            prop_assert_eq!(jp(&spaced), Ok(digits.clone()));
            prop_assert_eq!(jp(&digits), Ok(digits));
        }

        #[test]
        fn prop_both_carrier_formats_normalise_back_to_the_number(digits in e164()) {
            let plan = NumberPlan::japan();
            let n = msisdn(&digits);
            for format in [AddressFormat::default_destination(), NATIONAL] {
                let address = format.write(&plan, &n);
                prop_assert_eq!(plan.normalise(&address.digits), Ok(n.clone()));
                prop_assert_eq!(address.npi, NPI_ISDN);
            }
        }
    }
}
