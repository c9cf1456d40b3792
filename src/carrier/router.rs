//! Which carriers serve a number, in failover order: the number-portability table first (a
//! ported number goes to the carrier it was ported to), then the longest matching prefix
//! rule. Pure: rules and the table come in as values; reloading the table is replacing it.
//!
//! A rule maps a prefix of E.164 digits (no `+`; the empty prefix is the default route) to
//! its carriers in failover order and a route kind (domestic direct or international). A
//! ported number's carrier is tried first, then the other carriers of the prefix route its
//! number falls under. A number no rule and no table entry serves is [`Unroutable`], refused
//! at submit rather than queued forever. The rules are the configuration's `[[routes]]`
//! (`Config::router` builds the router), numbered as there: rule `i` is `routes[i]`.
//!
//! The portability table is a CSV file of `number,carrier` lines (see
//! [`load_portability`]). It can hold millions of numbers, so it is kept compact: sorted
//! numbers as `u64` beside a carrier index, looked up by binary search.
//!
//! This module also holds the rule for a carrier's name ([`is_carrier_name`]), which the
//! configuration's `[carriers.NAME]`, the rules and the table all use.

use std::collections::HashMap;
use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};

use crate::carrier::number::{Msisdn, NumberError, MAX_DIGITS};

/// The longest carrier name accepted.
const MAX_CARRIER_NAME: usize = 32;

/// What a carrier name may be, as error messages say it.
pub const CARRIER_NAME_RULE: &str = "1 to 32 of a-z, 0-9, - and _";

/// Whether `name` can be a carrier name: 1 to 32 of `a-z`, `0-9`, `-` and `_`
/// ([`CARRIER_NAME_RULE`]). It is what routes, the portability table, metrics and events
/// call the carrier.
pub fn is_carrier_name(name: &str) -> bool {
    (1..=MAX_CARRIER_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Whether a route goes to the destination's own network or abroad; `route_kind` of a Japan
/// profile in the configuration, shown in status and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// Domestic direct: a carrier of the destination's country delivering on its own
    /// network.
    #[default]
    Domestic,
    /// An international route (an aggregator abroad).
    International,
}

impl RouteKind {
    /// The name shown in status and events, the same the configuration writes:
    /// `domestic` or `international`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RouteKind::Domestic => "domestic",
            RouteKind::International => "international",
        }
    }
}

impl std::fmt::Display for RouteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One routing rule, checked by [`Router::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRule {
    /// The E.164 digits (no `+`) the numbers it serves start with; empty for the default
    /// route.
    pub prefix: String,
    /// The carriers, in failover order.
    pub carriers: Vec<String>,
    /// Domestic direct or international.
    pub kind: RouteKind,
}

/// The carriers to try for one number, in order, and the route's kind. The outbox keeps
/// it in each message's record (serde), so failover follows the route it was accepted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Carrier names in failover order; never empty.
    pub carriers: Vec<String>,
    /// The kind of the rule that served the number (domestic direct for a ported number
    /// that no rule covers: portability is national).
    pub kind: RouteKind,
}

/// No rule and no portability entry serves the number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no route serves {number}")]
pub struct Unroutable {
    /// The number, E.164 digits.
    pub number: String,
}

/// A routing rule that cannot be used: which one (its index among the rules given, so
/// `routes[rule]` of the configuration) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routes[{rule}]: {problem}")]
pub struct RouteRuleError {
    /// The rule's index among the rules given.
    pub rule: usize,
    /// What is wrong.
    pub problem: RuleProblem,
}

/// What is wrong with a routing rule. The messages quote the value; which key it is
/// (`prefix`, `carriers`, `carriers[index]`) the variant says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    /// The prefix is not 0 to 15 digits.
    #[error("{0:?} is not allowed (0 to {MAX_DIGITS} digits of an E.164 number, no +)")]
    Prefix(String),
    /// An earlier rule has the same prefix.
    #[error("{prefix:?} is also routes[{first}].prefix")]
    DuplicatePrefix {
        /// The prefix.
        prefix: String,
        /// The earlier rule's index.
        first: usize,
    },
    /// The rule has no carrier.
    #[error("at least one carrier is needed")]
    NoCarriers,
    /// A carrier name that breaks [`CARRIER_NAME_RULE`].
    #[error("{carrier:?} is not a carrier name ({CARRIER_NAME_RULE})")]
    Carrier {
        /// Its index in the rule's carriers.
        index: usize,
        /// The name as given.
        carrier: String,
    },
    /// The rule lists the same carrier twice.
    #[error("{carrier:?} is listed twice")]
    DuplicateCarrier {
        /// The index of the second mention in the rule's carriers.
        index: usize,
        /// The repeated carrier.
        carrier: String,
    },
}

/// What a prefix routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// Carrier names in failover order.
    carriers: Vec<String>,
    /// The rule's kind.
    kind: RouteKind,
}

/// The router: prefix rules and the portability table.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// Prefix → target.
    rules: HashMap<String, Target>,
    /// The longest prefix among the rules: a lookup tries no longer one.
    longest: usize,
    /// Ported numbers.
    portability: PortabilityTable,
}

impl Router {
    /// A router over `rules`, with an empty portability table.
    ///
    /// # Errors
    ///
    /// Every problem of every rule, in rule order: a prefix that is not 0 to 15 digits or
    /// repeats an earlier rule's, no carrier, a carrier that is not a carrier name or is
    /// listed twice.
    pub fn new(rules: impl IntoIterator<Item = RouteRule>) -> Result<Router, Vec<RouteRuleError>> {
        let mut router = Router::default();
        let mut first_of: HashMap<String, usize> = HashMap::new();
        let mut errors = Vec::new();
        for (
            rule,
            RouteRule {
                prefix,
                carriers,
                kind,
            },
        ) in rules.into_iter().enumerate()
        {
            let mut fail = |problem| errors.push(RouteRuleError { rule, problem });
            if prefix.len() > MAX_DIGITS || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                fail(RuleProblem::Prefix(prefix.clone()));
            } else if let Some(&first) = first_of.get(&prefix) {
                fail(RuleProblem::DuplicatePrefix {
                    prefix: prefix.clone(),
                    first,
                });
            } else {
                first_of.insert(prefix.clone(), rule);
            }
            if carriers.is_empty() {
                fail(RuleProblem::NoCarriers);
            }
            for (index, carrier) in carriers.iter().enumerate() {
                let carrier = carrier.clone();
                if !is_carrier_name(&carrier) {
                    fail(RuleProblem::Carrier { index, carrier });
                } else if carriers.get(..index).is_some_and(|b| b.contains(&carrier)) {
                    fail(RuleProblem::DuplicateCarrier { index, carrier });
                }
            }
            router.longest = router.longest.max(prefix.len());
            router.rules.insert(prefix, Target { carriers, kind });
        }
        if errors.is_empty() {
            Ok(router)
        } else {
            Err(errors)
        }
    }

    /// Each carrier named by a rule and the kinds of the rules that name it (domestic
    /// first), for status pages.
    pub fn carrier_kinds(&self) -> std::collections::BTreeMap<String, Vec<RouteKind>> {
        let mut out: std::collections::BTreeMap<String, Vec<RouteKind>> = Default::default();
        for target in self.rules.values() {
            for carrier in &target.carriers {
                let kinds = out.entry(carrier.clone()).or_default();
                if !kinds.contains(&target.kind) {
                    kinds.push(target.kind);
                    kinds.sort_by_key(|k| *k == RouteKind::International);
                }
            }
        }
        out
    }

    /// The portability table in use.
    pub fn portability(&self) -> &PortabilityTable {
        &self.portability
    }

    /// Puts `table` in use (at start, or on reload) and returns the one it replaces.
    pub fn set_portability(&mut self, table: PortabilityTable) -> PortabilityTable {
        std::mem::replace(&mut self.portability, table)
    }

    /// The carriers that serve `number`, in failover order.
    ///
    /// # Errors
    ///
    /// [`Unroutable`] when no portability entry and no rule (not even a default one)
    /// serves it.
    pub fn route(&self, number: &Msisdn) -> Result<Route, Unroutable> {
        let target = self.longest_match(number.as_str());
        match (self.portability.carrier_of(number), target) {
            (Some(ported), Some(target)) => {
                let others = target.carriers.iter().filter(|c| c.as_str() != ported);
                Ok(Route {
                    carriers: std::iter::once(ported.to_string())
                        .chain(others.cloned())
                        .collect(),
                    kind: target.kind,
                })
            }
            (Some(ported), None) => Ok(Route {
                carriers: vec![ported.to_string()],
                kind: RouteKind::Domestic,
            }),
            (None, Some(target)) => Ok(Route {
                carriers: target.carriers.clone(),
                kind: target.kind,
            }),
            (None, None) => Err(Unroutable {
                number: number.to_string(),
            }),
        }
    }

    /// The target of the longest rule prefix `digits` starts with.
    fn longest_match(&self, digits: &str) -> Option<&Target> {
        (0..=self.longest.min(digits.len()))
            .rev()
            .find_map(|len| digits.get(..len).and_then(|p| self.rules.get(p)))
    }
}

/// Ported numbers → the carrier each was ported to (see [`load_portability`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortabilityTable {
    /// The numbers as integers (E.164 never starts with 0, so no digit is lost), sorted.
    numbers: Vec<u64>,
    /// For each of `numbers`, its carrier's index in `carriers`.
    carrier_index: Vec<u16>,
    /// The distinct carrier names, in order of first appearance, each with the line it
    /// first appears on (for errors about the carrier).
    carriers: Vec<(String, usize)>,
}

impl PortabilityTable {
    /// The carrier `number` was ported to, if it was.
    pub fn carrier_of(&self, number: &Msisdn) -> Option<&str> {
        let at = self.numbers.binary_search(&number_value(number)?).ok()?;
        let index = self.carrier_index.get(at)?;
        self.carriers
            .get(usize::from(*index))
            .map(|(c, _)| c.as_str())
    }

    /// How many numbers the table holds.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Whether the table holds no number.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The carriers the table names, each with the line it first appears on, in that
    /// order.
    pub fn carriers(&self) -> impl ExactSizeIterator<Item = (&str, usize)> + '_ {
        self.carriers.iter().map(|(c, line)| (c.as_str(), *line))
    }

    /// The carriers the table names that `configured` does not know, each as an error
    /// naming the line it first appears on: a table is used only when every carrier it
    /// names is configured (checked at start and on reload).
    pub fn unconfigured(&self, configured: impl Fn(&str) -> bool) -> Vec<PortabilityError> {
        self.carriers()
            .filter(|(carrier, _)| !configured(carrier))
            .map(|(carrier, line)| PortabilityError {
                line,
                kind: PortabilityErrorKind::NotConfigured(carrier.to_string()),
            })
            .collect()
    }
}

/// `number` as an integer: at most 15 digits, so it always fits.
fn number_value(number: &Msisdn) -> Option<u64> {
    number.as_str().parse().ok()
}

/// A portability table line that cannot be used, with its line number.
#[derive(Debug, thiserror::Error)]
#[error("portability table line {line}: {kind}")]
pub struct PortabilityError {
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong with it.
    pub kind: PortabilityErrorKind,
}

/// What is wrong with a portability table line.
#[derive(Debug, thiserror::Error)]
pub enum PortabilityErrorKind {
    /// Reading failed.
    #[error("read failed: {0}")]
    Read(#[source] io::Error),
    /// The line is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
    /// Not two comma-separated fields.
    #[error("expected `number,carrier`, found {0} field(s)")]
    Fields(usize),
    /// The number is not an E.164 number.
    #[error("number {value:?}: {source}")]
    Number {
        /// The field as written.
        value: String,
        /// Why it is not a number.
        #[source]
        source: NumberError,
    },
    /// The carrier is not a carrier name ([`CARRIER_NAME_RULE`]).
    #[error("carrier {0:?} is not a carrier name ({CARRIER_NAME_RULE})")]
    Carrier(String),
    /// The carrier is not configured (from [`PortabilityTable::unconfigured`]).
    #[error("carrier {0:?} is not configured")]
    NotConfigured(String),
    /// The number was already given to another carrier.
    #[error(
        "number {number} is given to {carrier}, but line {first_line} gives it to {first_carrier}"
    )]
    Conflict {
        /// The number.
        number: String,
        /// The carrier on this line.
        carrier: String,
        /// The earlier line.
        first_line: usize,
        /// The carrier on the earlier line.
        first_carrier: String,
    },
    /// More distinct carriers than the table can index.
    #[error("more than {} distinct carriers", usize::from(u16::MAX) + 1)]
    TooManyCarriers,
}

/// Reads a portability table: one `number,carrier` per line, the number in E.164 digits
/// (`+` optional) and the carrier a carrier name ([`is_carrier_name`]; that it is
/// configured is [`PortabilityTable::unconfigured`]'s check); fields trimmed; blank lines
/// and lines starting with `#` skipped; a first line `number,carrier` taken as a header. No
/// quoting: neither field ever needs it. A number listed twice for the same carrier is kept
/// once; for two carriers it is an error.
///
/// # Errors
///
/// [`PortabilityError`] naming the line: a read failure, a line that is not UTF-8, not two
/// fields, not a number, not a carrier name, a conflicting repeat, or more than 65,536
/// carriers.
pub fn load_portability(mut reader: impl BufRead) -> Result<PortabilityTable, PortabilityError> {
    // (number, carrier index, line)
    let mut entries: Vec<(u64, u16, usize)> = Vec::new();
    let mut carriers: Vec<(String, usize)> = Vec::new();
    let mut carrier_ids: HashMap<String, u16> = HashMap::new();
    let mut buf = Vec::new();
    let mut line = 0usize;
    let mut seen_data = false;
    loop {
        buf.clear();
        line += 1;
        let error = |kind| PortabilityError { line, kind };
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| error(PortabilityErrorKind::Read(e)))?;
        if read == 0 {
            break;
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| error(PortabilityErrorKind::NotUtf8))?
            .trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let [number, carrier] = fields.as_slice() else {
            return Err(error(PortabilityErrorKind::Fields(fields.len())));
        };
        let header = !seen_data
            && number.eq_ignore_ascii_case("number")
            && carrier.eq_ignore_ascii_case("carrier");
        seen_data = true;
        if header {
            continue;
        }
        let msisdn = Msisdn::parse_e164(number).map_err(|source| {
            error(PortabilityErrorKind::Number {
                value: number.to_string(),
                source,
            })
        })?;
        let Some(value) = number_value(&msisdn) else {
            let digits = msisdn.as_str().len();
            return Err(error(PortabilityErrorKind::Number {
                value: number.to_string(),
                source: NumberError::TooLong { digits },
            }));
        };
        if !is_carrier_name(carrier) {
            return Err(error(PortabilityErrorKind::Carrier(carrier.to_string())));
        }
        let id = match carrier_ids.get(*carrier) {
            Some(&id) => id,
            None => {
                let id = u16::try_from(carriers.len())
                    .map_err(|_| error(PortabilityErrorKind::TooManyCarriers))?;
                carriers.push((carrier.to_string(), line));
                carrier_ids.insert(carrier.to_string(), id);
                id
            }
        };
        entries.push((value, id, line));
    }
    entries.sort_unstable_by_key(|&(number, _, line)| (number, line));
    // The first conflict by line: a repeated number against the line before it that gives
    // it another carrier.
    let mut conflict: Option<(usize, u64, u16, usize, u16)> = None;
    for pair in entries.windows(2) {
        if let [(n, first_id, first_line), (m, id, later)] = *pair {
            if n == m && first_id != id && conflict.is_none_or(|c| later < c.0) {
                conflict = Some((later, n, id, first_line, first_id));
            }
        }
    }
    if let Some((line, number, id, first_line, first_id)) = conflict {
        let name = |i: u16| {
            carriers
                .get(usize::from(i))
                .map(|(c, _)| c.clone())
                .unwrap_or_default()
        };
        return Err(PortabilityError {
            line,
            kind: PortabilityErrorKind::Conflict {
                number: number.to_string(),
                carrier: name(id),
                first_line,
                first_carrier: name(first_id),
            },
        });
    }
    entries.dedup_by_key(|e| e.0);
    Ok(PortabilityTable {
        numbers: entries.iter().map(|e| e.0).collect(),
        carrier_index: entries.iter().map(|e| e.1).collect(),
        carriers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(digits: &str) -> Msisdn {
        Msisdn::parse_e164(digits).unwrap_or_else(|e| panic!("{digits}: {e}"))
    }

    fn rule(prefix: &str, carriers: &[&str], kind: RouteKind) -> RouteRule {
        RouteRule {
            prefix: prefix.into(),
            carriers: carriers.iter().map(|c| c.to_string()).collect(),
            kind,
        }
    }

    fn japan() -> Router {
        Router::new([
            rule("8190", &["docomo", "softbank"], RouteKind::Domestic),
            rule("81", &["kddi", "docomo"], RouteKind::Domestic),
            rule("", &["world"], RouteKind::International),
        ])
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn table(csv: &str) -> PortabilityTable {
        load_portability(csv.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn carriers(route: &Route) -> Vec<&str> {
        route.carriers.iter().map(String::as_str).collect()
    }

    #[test]
    fn the_longest_matching_prefix_wins() {
        let r = japan();
        let route = r
            .route(&n("819012345678"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["docomo", "softbank"]);
        assert_eq!(route.kind, RouteKind::Domestic);
        let route = r.route(&n("81312345678")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["kddi", "docomo"]);
    }

    #[test]
    fn the_empty_prefix_is_the_default_route() {
        let route = japan()
            .route(&n("12125550100"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["world"]);
        assert_eq!(route.kind, RouteKind::International);
        assert_eq!(route.kind.to_string(), "international");
    }

    #[test]
    fn a_number_no_rule_serves_is_unroutable() {
        let r = Router::new([rule("81", &["docomo"], RouteKind::Domestic)])
            .unwrap_or_else(|e| panic!("{e:?}"));
        let err = r.route(&n("12125550100"));
        assert_eq!(
            err,
            Err(Unroutable {
                number: "12125550100".into()
            })
        );
        assert_eq!(
            err.err().map(|e| e.to_string()).as_deref(),
            Some("no route serves 12125550100")
        );
    }

    #[test]
    fn a_ported_number_goes_to_its_carrier_first() {
        let mut r = japan();
        r.set_portability(table("819012345678,kddi\n819011112222,softbank\n"));
        let route = r
            .route(&n("819012345678"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["kddi", "docomo", "softbank"]);
        // Ported to a carrier already on the prefix route: moved first, not repeated.
        let route = r
            .route(&n("819011112222"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["softbank", "docomo"]);
        // Its neighbours still follow the prefix.
        let route = r
            .route(&n("819012345679"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["docomo", "softbank"]);
    }

    #[test]
    fn a_ported_number_no_rule_covers_is_routed_domestic_to_its_carrier() {
        let mut r = Router::new([]).unwrap_or_else(|e| panic!("{e:?}"));
        r.set_portability(table("819012345678,kddi\n"));
        let route = r
            .route(&n("819012345678"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["kddi"]);
        assert_eq!(route.kind, RouteKind::Domestic);
        assert!(r.route(&n("819012345679")).is_err());
    }

    #[test]
    fn reloading_the_table_replaces_the_old_one() {
        let mut r = japan();
        r.set_portability(table("819012345678,kddi\n"));
        let old = r.set_portability(table("819012345678,softbank\n"));
        assert_eq!(old.carrier_of(&n("819012345678")), Some("kddi"));
        let route = r
            .route(&n("819012345678"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(carriers(&route), vec!["softbank", "docomo"]);
        assert_eq!(r.portability().len(), 1);
    }

    #[test]
    fn invalid_rules_are_refused_naming_the_rule_and_the_key() {
        let problems = |rules: Vec<RouteRule>| -> Vec<(usize, RuleProblem)> {
            match Router::new(rules) {
                Ok(_) => panic!("accepted"),
                Err(errors) => errors.into_iter().map(|e| (e.rule, e.problem)).collect(),
            }
        };
        let cases = [
            (
                vec![rule("+81", &["a"], RouteKind::Domestic)],
                vec![(0, RuleProblem::Prefix("+81".into()))],
            ),
            (
                vec![rule("1234567890123456", &["a"], RouteKind::Domestic)],
                vec![(0, RuleProblem::Prefix("1234567890123456".into()))],
            ),
            (
                vec![rule("81", &[], RouteKind::Domestic)],
                vec![(0, RuleProblem::NoCarriers)],
            ),
            (
                vec![rule("81", &["do como"], RouteKind::Domestic)],
                vec![(
                    0,
                    RuleProblem::Carrier {
                        index: 0,
                        carrier: "do como".into(),
                    },
                )],
            ),
            (
                vec![rule("81", &["a", "b", "a"], RouteKind::Domestic)],
                vec![(
                    0,
                    RuleProblem::DuplicateCarrier {
                        index: 2,
                        carrier: "a".into(),
                    },
                )],
            ),
            (
                vec![
                    rule("81", &["a"], RouteKind::Domestic),
                    rule("81", &["b"], RouteKind::International),
                ],
                vec![(
                    1,
                    RuleProblem::DuplicatePrefix {
                        prefix: "81".into(),
                        first: 0,
                    },
                )],
            ),
            // Every problem of every rule, in order.
            (
                vec![
                    rule("8x", &[], RouteKind::Domestic),
                    rule("81", &["a"], RouteKind::Domestic),
                    rule("81", &["KDDI", "a", "a"], RouteKind::Domestic),
                ],
                vec![
                    (0, RuleProblem::Prefix("8x".into())),
                    (0, RuleProblem::NoCarriers),
                    (
                        2,
                        RuleProblem::DuplicatePrefix {
                            prefix: "81".into(),
                            first: 1,
                        },
                    ),
                    (
                        2,
                        RuleProblem::Carrier {
                            index: 0,
                            carrier: "KDDI".into(),
                        },
                    ),
                    (
                        2,
                        RuleProblem::DuplicateCarrier {
                            index: 2,
                            carrier: "a".into(),
                        },
                    ),
                ],
            ),
        ];
        for (rules, want) in cases {
            assert_eq!(problems(rules), want);
        }
        let e = RouteRuleError {
            rule: 3,
            problem: RuleProblem::DuplicateCarrier {
                index: 1,
                carrier: "a".into(),
            },
        };
        assert_eq!(e.to_string(), "routes[3]: \"a\" is listed twice");
        assert_eq!(
            RuleProblem::Prefix("+81".into()).to_string(),
            "\"+81\" is not allowed (0 to 15 digits of an E.164 number, no +)"
        );
    }

    #[test]
    fn carrier_names_are_lower_case_letters_digits_hyphens_and_underscores() {
        for ok in ["docomo", "sim-a", "au_2", "a", &"x".repeat(32)] {
            assert!(is_carrier_name(ok), "{ok}");
        }
        for bad in ["", "Docomo", "do como", "au.jp", &"x".repeat(33)] {
            assert!(!is_carrier_name(bad), "{bad}");
        }
    }

    #[test]
    fn route_kinds_are_named_in_events_as_the_configuration_writes_them() {
        for kind in [RouteKind::Domestic, RouteKind::International] {
            let json = serde_json::to_string(&kind).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<RouteKind>(&json).ok(), Some(kind));
        }
        assert_eq!(RouteKind::default(), RouteKind::Domestic);
    }

    #[test]
    fn the_csv_accepts_a_header_comments_blank_lines_plus_and_spaces() {
        let t = table(
            "number,carrier\r\n# ported this week\n\n+819012345678 , kddi\r\n819011112222,softbank\n819011112222,softbank",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.carrier_of(&n("819012345678")), Some("kddi"));
        assert_eq!(t.carrier_of(&n("819011112222")), Some("softbank"));
        assert_eq!(t.carrier_of(&n("819011112223")), None);
        assert_eq!(
            t.carriers().collect::<Vec<_>>(),
            [("kddi", 4), ("softbank", 5)]
        );
        assert!(table("").is_empty());
    }

    #[test]
    fn carriers_the_configuration_lacks_are_reported_at_their_first_line() {
        let t = table(
            "819011112222,kddi\n819012345678,softbank\n819099990000,softbank\n819011110000,au\n",
        );
        let errors: Vec<String> = t
            .unconfigured(|c| c == "kddi")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "portability table line 2: carrier \"softbank\" is not configured",
                "portability table line 4: carrier \"au\" is not configured"
            ]
        );
        assert!(t.unconfigured(|_| true).is_empty());
    }

    fn load_error(csv: &str) -> PortabilityError {
        match load_portability(csv.as_bytes()) {
            Ok(t) => panic!("loaded {} numbers", t.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn a_bad_csv_line_is_reported_with_its_number() {
        let e = load_error("819012345678,kddi\n\n09012345678,kddi\n");
        assert_eq!(e.line, 3);
        assert!(matches!(
            e.kind,
            PortabilityErrorKind::Number {
                source: NumberError::CountryCodeZero,
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "portability table line 3: number \"09012345678\": an international number cannot start with 0 (no country code does)"
        );
        let e = load_error("819012345678\n");
        assert_eq!(
            (e.line, e.to_string().as_str()),
            (
                1,
                "portability table line 1: expected `number,carrier`, found 1 field(s)"
            )
        );
        let e = load_error("819012345678,kddi,x\n");
        assert!(matches!(e.kind, PortabilityErrorKind::Fields(3)));
        let e = load_error("819012345678,\"kddi\"\n");
        assert!(matches!(e.kind, PortabilityErrorKind::Carrier(ref c) if c == "\"kddi\""));
        let e = load_error("819012345678,\n");
        assert!(matches!(e.kind, PortabilityErrorKind::Carrier(ref c) if c.is_empty()));
        let e = load_portability(&b"819012345678,kddi\n8190\xff,kddi\n"[..]).err();
        assert!(matches!(
            e,
            Some(PortabilityError {
                line: 2,
                kind: PortabilityErrorKind::NotUtf8
            })
        ));
        // A header is only a header on the first data line.
        let e = load_error("819012345678,kddi\nnumber,carrier\n");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn a_number_given_to_two_carriers_names_both_lines() {
        let e = load_error("819011112222,kddi\n819012345678,kddi\n819099990000,au\n819012345678,softbank\n819011112222,au\n");
        assert_eq!(e.line, 4);
        assert_eq!(
            e.to_string(),
            "portability table line 4: number 819012345678 is given to softbank, but line 2 gives it to kddi"
        );
    }

    #[test]
    fn more_carriers_than_the_index_holds_are_refused() {
        let csv: String = (0..=u32::from(u16::MAX) + 1)
            .map(|i| format!("{},c{i}\n", 8_100_000_000u64 + u64::from(i)))
            .collect();
        let e = load_error(&csv);
        assert_eq!(e.line, 65_537);
        assert!(matches!(e.kind, PortabilityErrorKind::TooManyCarriers));
    }

    #[test]
    fn a_read_failure_names_the_line() {
        struct Failing(usize);
        impl io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                let line = b"819012345678,kddi\n";
                let n = line.len().min(buf.len());
                buf[..n].copy_from_slice(&line[..n]);
                Ok(n)
            }
        }
        let e = load_portability(io::BufReader::new(Failing(2))).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("portability table line 3: read failed: disk gone")
        );
    }

    proptest! {
        #[test]
        fn prop_loading_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = load_portability(&bytes[..]);
        }

        #[test]
        fn prop_loading_never_panics_on_csv_like_lines(lines in proptest::collection::vec("[0-9+ ,a-z#-]{0,24}", 0..20)) {
            let _ = load_portability(lines.join("\n").as_bytes());
        }

        #[test]
        fn prop_every_loaded_number_maps_to_its_carrier(entries in proptest::collection::btree_map("[1-9][0-9]{6,14}", "[a-z][a-z0-9_-]{0,10}", 0..50)) {
            let csv: String = entries.iter().map(|(num, c)| format!("{num},{c}\n")).collect();
            let t = load_portability(csv.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(t.len(), entries.len());
            for (num, c) in &entries {
                prop_assert_eq!(t.carrier_of(&n(num)), Some(c.as_str()));
            }
        }

        #[test]
        fn prop_route_is_the_longest_matching_rule(
            prefixes in proptest::collection::btree_set("[1-9][0-9]{0,4}", 1..12),
            number in "[1-9][0-9]{6,14}",
        ) {
            let rules: Vec<RouteRule> = prefixes.iter().map(|p| rule(p, &[&format!("c{p}")], RouteKind::Domestic)).collect();
            let r = Router::new(rules).unwrap_or_else(|e| panic!("{e:?}"));
            let want = prefixes.iter().filter(|p| number.starts_with(p.as_str())).max_by_key(|p| p.len());
            match (r.route(&n(&number)), want) {
                (Ok(route), Some(p)) => prop_assert_eq!(route.carriers, vec![format!("c{p}")]),
                (Err(e), None) => prop_assert_eq!(e.number, number),
                (got, want) => prop_assert!(false, "{:?} vs {:?}", got, want),
            }
        }
    }
}
