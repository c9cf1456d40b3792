//! The fault schedule of `smsgate chaos`: which faults come in which order, how long each
//! is held and how long the load runs calm after it. Plain data, built and checked without
//! a gateway or a simulator; the driver ([`super::run`]) walks it.

use serde::Serialize;
use std::time::Duration;

/// One fault the suite inflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// SIGKILL the gateway and start it again on the same data directory.
    Kill,
    /// The SMSC drops the gateway's connections, once every `drop_every`, while held.
    Drops,
    /// The SMSC answers submits beyond a small rate with ESME_RTHROTTLED.
    Throttle,
    /// The SMSC stops answering anything (connections stay open), then comes back.
    BlackHole,
    /// The SMSC drops the binds and refuses new ones (ESME_RBINDFAIL) while held.
    BindRefusal,
    /// The gateway's data directory fills up; afterwards the space is given back and the
    /// gateway restarted.
    FullDisk,
}

impl Fault {
    /// Every fault, in the order of the summary.
    pub const ALL: [Fault; 6] = [
        Fault::Kill,
        Fault::Drops,
        Fault::Throttle,
        Fault::BlackHole,
        Fault::BindRefusal,
        Fault::FullDisk,
    ];

    /// Its name in the report (`black_hole`).
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Drops => "drops",
            Fault::Throttle => "throttle",
            Fault::BlackHole => "black_hole",
            Fault::BindRefusal => "bind_refusal",
            Fault::FullDisk => "full_disk",
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of the schedule: a fault, how long it is held (0 for a kill, which is an
/// instant), and the calm load that follows before the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The fault.
    pub fault: Fault,
    /// How long it is held. For [`Fault::FullDisk`] the most it is held: it ends as soon
    /// as the gateway has refused work (or at this deadline, which fails the phase).
    #[serde(serialize_with = "ms")]
    pub hold: Duration,
    /// Load without faults after it.
    #[serde(serialize_with = "ms")]
    pub calm_after: Duration,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How long each held fault lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holds {
    /// Connection drops.
    pub drops: Duration,
    /// Time between two drops while [`Fault::Drops`] is held.
    pub drop_every: Duration,
    /// Throttling.
    pub throttle: Duration,
    /// Black hole: longer than the gateway's response timeout, so that it notices.
    pub black_hole: Duration,
    /// Bind refusals.
    pub bind_refusal: Duration,
    /// The longest the full-disk phase waits for the gateway to refuse work.
    pub full_disk: Duration,
}

impl Holds {
    /// The CI version's: each fault a few seconds.
    pub const QUICK: Holds = Holds {
        drops: Duration::from_secs(3),
        drop_every: Duration::from_secs(1),
        throttle: Duration::from_secs(3),
        black_hole: Duration::from_secs(4),
        bind_refusal: Duration::from_secs(3),
        full_disk: Duration::from_secs(20),
    };

    /// The long version's: each fault long enough to matter under sustained load.
    pub const LONG: Holds = Holds {
        drops: Duration::from_secs(15),
        drop_every: Duration::from_secs(3),
        throttle: Duration::from_secs(10),
        black_hole: Duration::from_secs(8),
        bind_refusal: Duration::from_secs(8),
        full_disk: Duration::from_secs(30),
    };

    fn of(&self, fault: Fault) -> Duration {
        match fault {
            Fault::Kill => Duration::ZERO,
            Fault::Drops => self.drops,
            Fault::Throttle => self.throttle,
            Fault::BlackHole => self.black_hole,
            Fault::BindRefusal => self.bind_refusal,
            Fault::FullDisk => self.full_disk,
        }
    }
}

/// Why a schedule cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The duration asked for cannot hold one round of the faults.
    #[error(
        "--duration {asked:?} is too short: one round of the faults needs at least {needed:?}"
    )]
    TooShort {
        /// What was asked.
        asked: Duration,
        /// The shortest that holds every fault once.
        needed: Duration,
    },
}

/// The faults in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// Load without faults before the first step.
    #[serde(serialize_with = "ms")]
    pub warmup: Duration,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Time between two drops while [`Fault::Drops`] is held.
    #[serde(serialize_with = "ms")]
    pub drop_every: Duration,
}

/// The faults of one round, kills aside (they are spread over the whole schedule).
const ROUND: [Fault; 4] = [
    Fault::Drops,
    Fault::Throttle,
    Fault::BlackHole,
    Fault::BindRefusal,
];

/// The shortest calm after a step: enough for the gateway to be bound and sending again.
const MIN_CALM: Duration = Duration::from_millis(1500);
/// The calm before the first fault.
const WARMUP: Duration = Duration::from_secs(2);

impl Schedule {
    /// The CI version: every fault once, the full disk last but one, `kills` SIGKILLs
    /// spread between them.
    pub fn quick(kills: usize) -> Schedule {
        Schedule::build(1, kills, Holds::QUICK, MIN_CALM)
    }

    /// The long version: as many rounds of the faults as fit in `duration`, the full disk
    /// once in the middle, `kills` SIGKILLs spread over it, the calm between steps
    /// stretched so that the whole lasts about `duration`.
    pub fn long(duration: Duration, kills: usize) -> Result<Schedule, ScheduleError> {
        let holds = Holds::LONG;
        let one_round = Schedule::build(1, kills, holds, MIN_CALM).planned();
        if duration < one_round {
            return Err(ScheduleError::TooShort {
                asked: duration,
                needed: one_round,
            });
        }
        let round_hold: Duration = ROUND.iter().map(|f| holds.of(*f)).sum();
        let per_round = round_hold + MIN_CALM * u32::try_from(ROUND.len()).unwrap_or(u32::MAX);
        let fixed = WARMUP + holds.full_disk + MIN_CALM * u32::try_from(kills + 1).unwrap_or(1);
        let rounds = usize::try_from(
            duration.saturating_sub(fixed).as_millis() / per_round.as_millis().max(1),
        )
        .unwrap_or(1)
        .max(1);
        let mut schedule = Schedule::build(rounds, kills, holds, MIN_CALM);
        // Stretch the calm so the whole lasts `duration`.
        let planned = schedule.planned();
        if duration > planned && !schedule.steps.is_empty() {
            let extra = (duration - planned) / u32::try_from(schedule.steps.len()).unwrap_or(1);
            for step in &mut schedule.steps {
                step.calm_after += extra;
            }
        }
        Ok(schedule)
    }

    /// `rounds` rounds of the held faults with the full disk in the middle and `kills`
    /// kills spread evenly between the steps.
    fn build(rounds: usize, kills: usize, holds: Holds, calm: Duration) -> Schedule {
        let mut held: Vec<Fault> = Vec::with_capacity(rounds * ROUND.len() + 1);
        for _ in 0..rounds {
            held.extend(ROUND);
        }
        // The full disk in the middle (last but one in a single round), so that faults
        // after it run on the restarted gateway too.
        let disk_at = if rounds == 1 {
            held.len() - 1
        } else {
            held.len() / 2
        };
        held.insert(disk_at, Fault::FullDisk);
        // Kill k goes before held fault ceil((k + 1) * n / (kills + 1))-ish: evenly spread,
        // never two in a row unless there are more kills than held faults.
        let n = held.len();
        let mut steps = Vec::with_capacity(n + kills);
        let mut placed = 0;
        for (i, fault) in held.into_iter().enumerate() {
            // Kills due before held fault i: those whose even share falls at or before i.
            while placed < kills && (placed + 1) * n / (kills + 1) <= i {
                steps.push(Step {
                    fault: Fault::Kill,
                    hold: Duration::ZERO,
                    calm_after: calm,
                });
                placed += 1;
            }
            steps.push(Step {
                fault,
                hold: holds.of(fault),
                calm_after: calm,
            });
        }
        while placed < kills {
            steps.push(Step {
                fault: Fault::Kill,
                hold: Duration::ZERO,
                calm_after: calm,
            });
            placed += 1;
        }
        Schedule {
            warmup: WARMUP,
            steps,
            drop_every: holds.drop_every,
        }
    }

    /// How long the schedule lasts if every fault is held its whole time (the full disk
    /// usually ends sooner, kills and restarts take a moment more).
    pub fn planned(&self) -> Duration {
        self.warmup
            + self
                .steps
                .iter()
                .map(|s| s.hold + s.calm_after)
                .sum::<Duration>()
    }

    /// How many steps inflict `fault`.
    pub fn count(&self, fault: Fault) -> usize {
        self.steps.iter().filter(|s| s.fault == fault).count()
    }

    /// How many connection drops the schedule asks for (one every `drop_every` while
    /// [`Fault::Drops`] is held, the first at once).
    pub fn drops_asked(&self) -> usize {
        let every = self.drop_every.as_millis().max(1);
        self.steps
            .iter()
            .filter(|s| s.fault == Fault::Drops)
            .map(|s| usize::try_from(s.hold.as_millis().div_ceil(every)).unwrap_or(1))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn quick_has_every_fault_once_and_the_kills_asked_for_well_under_two_minutes() {
        let s = Schedule::quick(5);
        assert_eq!(s.count(Fault::Kill), 5);
        for fault in Fault::ALL.into_iter().filter(|f| *f != Fault::Kill) {
            assert_eq!(s.count(fault), 1, "{fault}");
        }
        assert!(s.planned() < Duration::from_secs(75), "{:?}", s.planned());
        assert_eq!(s.drops_asked(), 3);
        // The full disk is not last: the gateway restarted after it meets a fault too.
        let disk = s
            .steps
            .iter()
            .position(|x| x.fault == Fault::FullDisk)
            .unwrap();
        assert!(disk < s.steps.len() - 1);
        assert!(s
            .steps
            .iter()
            .all(|x| x.calm_after >= MIN_CALM && (x.fault == Fault::Kill) == x.hold.is_zero()));
    }

    #[test]
    fn kills_are_spread_never_two_in_a_row_while_held_faults_remain() {
        let s = Schedule::quick(5);
        let faults: Vec<Fault> = s.steps.iter().map(|x| x.fault).collect();
        for pair in faults.windows(2) {
            assert!(
                !(pair[0] == Fault::Kill && pair[1] == Fault::Kill),
                "{faults:?}"
            );
        }
        // The first step is a kill only when the share says so; with 5 held faults and 5
        // kills the kills alternate with them.
        assert_eq!(faults.len(), 10);
        let s = Schedule::quick(0);
        assert_eq!(s.count(Fault::Kill), 0);
        assert_eq!(s.steps.len(), 5);
        // More kills than held faults: the rest go at the end.
        let s = Schedule::quick(8);
        assert_eq!(s.count(Fault::Kill), 8);
    }

    #[test]
    fn long_fills_the_duration_with_rounds_and_one_full_disk() {
        let d = Duration::from_secs(300);
        let s = Schedule::long(d, 5).unwrap();
        assert_eq!(s.count(Fault::Kill), 5);
        assert_eq!(s.count(Fault::FullDisk), 1);
        let rounds = s.count(Fault::Drops);
        assert!(rounds >= 2, "{rounds} rounds in 5 minutes");
        for fault in ROUND {
            assert_eq!(s.count(fault), rounds, "{fault}");
        }
        let planned = s.planned();
        assert!(
            planned <= d + Duration::from_secs(1) && planned + Duration::from_secs(1) >= d,
            "{planned:?} for {d:?}"
        );
        assert_eq!(s.drops_asked(), rounds * 5);
    }

    #[test]
    fn long_refuses_a_duration_that_holds_no_round() {
        let err = Schedule::long(Duration::from_secs(10), 5).unwrap_err();
        let ScheduleError::TooShort { needed, .. } = err.clone();
        assert!(needed > Duration::from_secs(10));
        assert!(err.to_string().contains("too short"), "{err}");
        // The shortest it accepts is one round.
        let s = Schedule::long(needed, 5).unwrap();
        assert_eq!(s.count(Fault::Drops), 1);
    }
}
