//! The accounting at the end of `smsgate chaos`: for every message the load generated,
//! what the API answered when it was submitted, what the API says of it at the end, and how
//! many copies the SMSC received. Plain data in, a verdict out; no gateway needed.

use serde::Serialize;
use std::collections::BTreeMap;

/// What the API answered to a message's submit (retried with its client reference across
/// kills and dropped connections until it had an answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitFate {
    /// Acknowledged: on disk, with this message id.
    Acknowledged {
        /// The gateway's id.
        id: String,
    },
    /// Refused with this error code; the gateway took no responsibility for it.
    Refused {
        /// The API error code (`storage`).
        code: String,
    },
    /// Never answered by the end of the run.
    Unanswered,
}

/// What `message.status` says of an acknowledged message at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndState {
    /// Final, in this state (`delivered`, `undeliverable`, ...).
    Final {
        /// The state.
        state: String,
    },
    /// Not final yet, in this state, with the reason the gateway gives (its `detail`).
    Open {
        /// The state (`queued`, `submitted`, ...).
        state: String,
        /// Why it is still open, if the gateway says.
        reason: Option<String>,
        /// The carrier's ids of its segments, as the gateway holds them (what its receipts
        /// are matched against).
        carrier_ids: Vec<String>,
    },
    /// `not_found`: the gateway does not know the message it acknowledged.
    NotFound,
    /// The status could not be read (with why).
    Unreadable {
        /// The error.
        error: String,
    },
}

/// One message of the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate {
    /// Its client reference (also how the SMSC copies are found).
    pub client_ref: String,
    /// The submit's answer.
    pub submit: SubmitFate,
    /// The end state, for an acknowledged message (`None` for the others).
    pub end: Option<EndState>,
    /// Copies of it the SMSC accepted.
    pub smsc_copies: usize,
    /// What the SMSC says of each copy (its id, its state, how its receipt fared): named
    /// with a lost message, so that a loss says where the trail ends.
    pub smsc_trace: Vec<String>,
}

impl Fate {
    /// The gateway's id of an acknowledged message and the carrier ids it holds for it.
    pub fn names(&self) -> Option<(&str, &[String])> {
        let SubmitFate::Acknowledged { id } = &self.submit else {
            return None;
        };
        let carrier_ids = match &self.end {
            Some(EndState::Open { carrier_ids, .. }) => carrier_ids.as_slice(),
            _ => &[],
        };
        Some((id, carrier_ids))
    }

    /// The trail of a lost message: the gateway's carrier ids and the SMSC's copies.
    fn trail(&self) -> String {
        let ids = match &self.end {
            Some(EndState::Open { carrier_ids, .. }) if !carrier_ids.is_empty() => {
                format!(
                    "; the gateway holds carrier ids [{}]",
                    carrier_ids.join(", ")
                )
            }
            _ => String::new(),
        };
        let smsc = if self.smsc_trace.is_empty() {
            "; the SMSC has no copy".to_owned()
        } else {
            format!("; at the SMSC: {}", self.smsc_trace.join("; "))
        };
        ids + &smsc
    }
}

/// The faults that can make the gateway submit a message the SMSC has already accepted:
/// a kill or a restart (every bind's window may be in flight, and as many answered submits
/// not yet durable: the pool's settle allowance), a black hole (every bind's window
/// unanswered), a dropped connection (that bind's window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResendFaults {
    /// Binds of the carrier.
    pub binds: usize,
    /// The window of each bind.
    pub window: usize,
    /// Gateway deaths: SIGKILLs and the restart after the full disk.
    pub gateway_deaths: usize,
    /// Black holes.
    pub black_holes: usize,
    /// Connections the SMSC dropped (as it counted them).
    pub dropped_connections: usize,
}

impl ResendFaults {
    /// The most duplicates these faults can explain: each death two windows of every bind
    /// (the unanswered and the answered-not-durable), each black hole every bind's window,
    /// each dropped connection one window.
    pub fn bound(&self) -> usize {
        self.window
            * (self.binds * (2 * self.gateway_deaths + self.black_holes) + self.dropped_connections)
    }
}

/// The tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Messages the load generated.
    pub generated: usize,
    /// Acknowledged by the API (each once, however often its submit was retried).
    pub acknowledged: usize,
    /// Refused, by error code.
    pub refused: BTreeMap<String, usize>,
    /// Never answered.
    pub unanswered: usize,
    /// Acknowledged messages in a final state at the end, by state.
    pub final_states: BTreeMap<String, usize>,
    /// Acknowledged messages still open with a reason the gateway gives.
    pub open_with_reason: usize,
    /// Acknowledged but unknown to the gateway, unreadable, or open with no reason: lost.
    pub lost: usize,
    /// A few of the lost, with what the gateway said (for the report).
    pub lost_examples: Vec<String>,
    /// Where the lost examples are in the fates given to [`Accounting::tally`], to look
    /// their trail up in the gateway's log.
    #[serde(skip)]
    pub lost_fates: Vec<usize>,
    /// Every acknowledged message is final, or open with a reason.
    pub all_accounted: bool,
    /// Copies beyond the first at the SMSC, over every message.
    pub duplicates: usize,
    /// Messages the SMSC got more than once.
    pub duplicated_messages: usize,
    /// The most duplicates the faults explain ([`ResendFaults::bound`]).
    pub duplicate_bound: usize,
    /// The faults the bound is made of.
    pub resend_faults: ResendFaults,
    /// Refused or unanswered messages the SMSC got all the same (the gateway had them on
    /// disk when its answer was lost, or had begun on them when its storage failed).
    pub sent_unacknowledged: usize,
    /// Acknowledged messages the SMSC never got (normal for failed or still open ones).
    pub acknowledged_never_sent: usize,
    /// Nothing lost and the duplicates within the bound.
    pub passed: bool,
}

/// How many lost messages the report names.
const EXAMPLES: usize = 10;

impl Accounting {
    /// Tallies the fates against the faults that explain duplicates.
    pub fn tally(fates: &[Fate], faults: ResendFaults) -> Accounting {
        let mut a = Accounting {
            generated: fates.len(),
            resend_faults: faults,
            duplicate_bound: faults.bound(),
            ..Accounting::default()
        };
        for (at, fate) in fates.iter().enumerate() {
            a.duplicates += fate.smsc_copies.saturating_sub(1);
            if fate.smsc_copies > 1 {
                a.duplicated_messages += 1;
            }
            match &fate.submit {
                SubmitFate::Acknowledged { id } => {
                    a.acknowledged += 1;
                    if fate.smsc_copies == 0 {
                        a.acknowledged_never_sent += 1;
                    }
                    let lost = match &fate.end {
                        Some(EndState::Final { state }) => {
                            *a.final_states.entry(state.clone()).or_default() += 1;
                            None
                        }
                        Some(EndState::Open {
                            reason: Some(reason),
                            ..
                        }) if !reason.trim().is_empty() => {
                            a.open_with_reason += 1;
                            None
                        }
                        Some(EndState::Open { state, .. }) => {
                            Some(format!("{state}, no reason given"))
                        }
                        Some(EndState::NotFound) => Some("not_found".to_owned()),
                        Some(EndState::Unreadable { error }) => {
                            Some(format!("unreadable: {error}"))
                        }
                        None => Some("no status read".to_owned()),
                    };
                    if let Some(why) = lost {
                        a.lost += 1;
                        if a.lost_examples.len() < EXAMPLES {
                            a.lost_fates.push(at);
                            a.lost_examples.push(format!(
                                "{} ({}): {why}{}",
                                id,
                                fate.client_ref,
                                fate.trail()
                            ));
                        }
                    }
                }
                SubmitFate::Refused { code } => {
                    *a.refused.entry(code.clone()).or_default() += 1;
                    if fate.smsc_copies > 0 {
                        a.sent_unacknowledged += 1;
                    }
                }
                SubmitFate::Unanswered => {
                    a.unanswered += 1;
                    if fate.smsc_copies > 0 {
                        a.sent_unacknowledged += 1;
                    }
                }
            }
        }
        a.all_accounted = a.lost == 0;
        a.passed = a.all_accounted && a.duplicates <= a.duplicate_bound;
        a
    }

    /// Acknowledged messages delivered.
    pub fn delivered(&self) -> usize {
        self.final_states.get("delivered").copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn acked(n: usize, end: EndState, copies: usize) -> Fate {
        Fate {
            client_ref: format!("ref-{n}"),
            submit: SubmitFate::Acknowledged { id: n.to_string() },
            end: Some(end),
            smsc_copies: copies,
            smsc_trace: Vec::new(),
        }
    }

    fn delivered() -> EndState {
        EndState::Final {
            state: "delivered".into(),
        }
    }

    const FAULTS: ResendFaults = ResendFaults {
        binds: 2,
        window: 10,
        gateway_deaths: 1,
        black_holes: 0,
        dropped_connections: 1,
    };

    #[test]
    fn the_bound_counts_two_windows_per_death_one_per_black_hole_and_one_per_drop() {
        assert_eq!(FAULTS.bound(), 10 * (2 * 2 + 1));
        let f = ResendFaults {
            black_holes: 2,
            gateway_deaths: 6,
            dropped_connections: 7,
            ..FAULTS
        };
        assert_eq!(f.bound(), 10 * (2 * (2 * 6 + 2) + 7));
        assert_eq!(ResendFaults::default().bound(), 0);
    }

    #[test]
    fn all_final_within_the_bound_passes_and_counts_by_kind() {
        let fates = vec![
            acked(1, delivered(), 1),
            acked(2, delivered(), 3),
            acked(
                3,
                EndState::Final {
                    state: "undeliverable".into(),
                },
                1,
            ),
            acked(
                4,
                EndState::Open {
                    state: "queued".into(),
                    reason: Some("ESME_RTHROTTLED, retrying".into()),
                    carrier_ids: Vec::new(),
                },
                0,
            ),
            Fate {
                client_ref: "ref-5".into(),
                submit: SubmitFate::Refused {
                    code: "storage".into(),
                },
                end: None,
                smsc_copies: 1,
                smsc_trace: Vec::new(),
            },
            Fate {
                client_ref: "ref-6".into(),
                submit: SubmitFate::Unanswered,
                end: None,
                smsc_copies: 0,
                smsc_trace: Vec::new(),
            },
        ];
        let a = Accounting::tally(&fates, FAULTS);
        assert_eq!(a.generated, 6);
        assert_eq!(a.acknowledged, 4);
        assert_eq!(a.delivered(), 2);
        assert_eq!(a.final_states.get("undeliverable"), Some(&1));
        assert_eq!(a.open_with_reason, 1);
        assert_eq!(a.refused.get("storage"), Some(&1));
        assert_eq!(a.unanswered, 1);
        assert_eq!(a.duplicates, 2);
        assert_eq!(a.duplicated_messages, 1);
        assert_eq!(a.sent_unacknowledged, 1);
        assert_eq!(a.acknowledged_never_sent, 1);
        assert_eq!(a.lost, 0);
        assert!(a.all_accounted && a.passed);
    }

    #[test]
    fn unknown_unreadable_or_open_without_a_reason_is_lost_and_fails() {
        let fates = vec![
            acked(1, EndState::NotFound, 1),
            Fate {
                smsc_trace: vec!["5f2a DELIVERED, receipt sent 2, answered ok 1".into()],
                ..acked(
                    2,
                    EndState::Open {
                        state: "submitted".into(),
                        reason: None,
                        carrier_ids: vec!["5f2a".into()],
                    },
                    1,
                )
            },
            acked(
                3,
                EndState::Open {
                    state: "queued".into(),
                    reason: Some("  ".into()),
                    carrier_ids: Vec::new(),
                },
                0,
            ),
            acked(
                4,
                EndState::Unreadable {
                    error: "connection".into(),
                },
                1,
            ),
            Fate {
                end: None,
                ..acked(5, delivered(), 1)
            },
            acked(6, delivered(), 1),
        ];
        let a = Accounting::tally(&fates, FAULTS);
        assert_eq!(a.lost, 5);
        assert_eq!(a.lost_examples.len(), 5);
        assert_eq!(a.lost_fates, [0, 1, 2, 3, 4]);
        assert!(
            a.lost_examples[0].contains("not_found"),
            "{:?}",
            a.lost_examples
        );
        assert_eq!(
            a.lost_examples[1],
            "2 (ref-2): submitted, no reason given; the gateway holds carrier ids [5f2a]; \
             at the SMSC: 5f2a DELIVERED, receipt sent 2, answered ok 1"
        );
        assert!(
            a.lost_examples[2].ends_with("; the SMSC has no copy"),
            "{:?}",
            a.lost_examples
        );
        assert!(!a.all_accounted && !a.passed);
    }

    #[test]
    fn duplicates_beyond_the_bound_fail_with_nothing_lost() {
        // 51 extra copies against a bound of 50.
        let fates = vec![acked(1, delivered(), 52)];
        let a = Accounting::tally(&fates, FAULTS);
        assert_eq!(a.duplicates, 51);
        assert_eq!(a.duplicate_bound, 50);
        assert!(a.all_accounted);
        assert!(!a.passed);
        let fates = vec![acked(1, delivered(), 51)];
        assert!(Accounting::tally(&fates, FAULTS).passed);
    }
}
