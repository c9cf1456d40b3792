//! Tests of the verifier core over a real sled store in a temporary directory, with time
//! passed in and a seeded random source.

use super::core::*;
use super::key::{Key, KeyRing};
use super::policy::*;
use super::store::{AuditKind, Status, VerifyStore};
use super::template::{Channel, Locale};
use crate::store::SledStore;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::path::Path;
use std::sync::Arc;

const T0: u64 = 1_700_000_000_000;
const TO: &str = "819012345678";

fn ring(byte: u8) -> KeyRing {
    KeyRing::new(Key::from_bytes([byte; 32]), Vec::new())
}

struct Harness {
    core: VerifierCore<StdRng>,
    /// Kept open: the verifier's trees live in its database.
    _outbox: SledStore,
}

fn open_with(dir: &Path, policy: Policy, keys: KeyRing, seed: u64) -> Harness {
    let outbox = SledStore::open(dir).unwrap();
    let store = VerifyStore::open(outbox.shared()).unwrap();
    let core = VerifierCore::new(
        policy,
        Arc::new(keys),
        store,
        StdRng::seed_from_u64(seed),
        Settings::default(),
    );
    Harness {
        core,
        _outbox: outbox,
    }
}

fn open(dir: &Path) -> Harness {
    open_with(dir, Policy::default(), ring(1), 7)
}

fn request(to: &str) -> StartRequest {
    StartRequest {
        to: to.into(),
        purpose: "login".into(),
        locale: None,
        channel: Channel::Sms,
        link: None,
        overrides: Overrides::default(),
        sandbox: false,
        owner: None,
    }
}

/// The code in a text: the longest run of digits that is not the minutes.
fn code_in(sms: &OutgoingSms) -> String {
    let mut best = String::new();
    let mut run = String::new();
    for c in sms.text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() > best.len() {
                best = std::mem::take(&mut run);
            }
            run.clear();
        }
    }
    best
}

impl Harness {
    fn start(&mut self, to: &str, now: u64) -> (View, String) {
        let (view, sms) = self.core.start(request(to), now).unwrap();
        self.core.sent(&view.id, view.message.unwrap(), now);
        let code = code_in(&sms);
        (view, code)
    }

    fn check(&mut self, id: &str, code: &str, now: u64) -> CheckOutcome {
        let ticket = self.core.begin_check(id, now).unwrap();
        self.core.commit().unwrap().wait_blocking().unwrap();
        self.core.finish_check(ticket, code, now).unwrap()
    }
}

fn wrong(code: &str) -> String {
    let mut w: Vec<u8> = code.bytes().collect();
    w[0] = if w[0] == b'9' { b'0' } else { w[0] + 1 };
    String::from_utf8(w).unwrap()
}

#[test]
fn the_right_code_approves_once_and_is_consumed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, code) = h.start(TO, T0);
    assert_eq!(code.len(), 6);
    assert_eq!(view.status, Status::Pending);
    assert_eq!(view.expires_at, T0 + 600_000);
    assert_eq!(view.resend_allowed_at, T0 + 30_000);
    assert_eq!(h.check(&view.id, &code, T0 + 1), CheckOutcome::Approved);
    assert_eq!(h.check(&view.id, &code, T0 + 2), CheckOutcome::NotFound);
    let status = h.core.status(&view.id, T0 + 3).unwrap().unwrap();
    assert_eq!(status.status, Status::Approved);
    assert_eq!(status.message, view.message);
    assert!(view.message.is_some());
}

#[test]
fn two_checks_counted_before_either_compares_approve_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, code) = h.start(TO, T0);
    let first = h.core.begin_check(&view.id, T0 + 1).unwrap();
    let second = h.core.begin_check(&view.id, T0 + 1).unwrap();
    h.core.commit().unwrap().wait_blocking().unwrap();
    assert_eq!(
        h.core.finish_check(first, &code, T0 + 2).unwrap(),
        CheckOutcome::Approved
    );
    assert_eq!(
        h.core.finish_check(second, &code, T0 + 2).unwrap(),
        CheckOutcome::NotFound
    );
}

#[test]
fn wrong_codes_use_up_the_checks_and_then_nothing_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, code) = h.start(TO, T0);
    for left in (0..5).rev() {
        assert_eq!(
            h.check(&view.id, &wrong(&code), T0 + 10),
            CheckOutcome::Wrong {
                attempts_left: left
            }
        );
    }
    // Locked by now too (5 failures), but the verification's own limit answers first
    // once the lock is over.
    let later = T0 + 10 + 2_000;
    assert_eq!(
        h.check(&view.id, &code, later),
        CheckOutcome::MaxAttemptsReached,
        "the right code no longer works"
    );
    assert_eq!(
        h.core.status(&view.id, later).unwrap().unwrap().status,
        Status::MaxAttemptsReached
    );
}

#[test]
fn the_lock_spans_verifications_survives_a_restart_and_blocks_new_starts() {
    let dir = tempfile::tempdir().unwrap();
    // Enough sends per hour that only the lock stops the attacker here.
    let policy = Policy {
        number: NumberLimits {
            sends_per_window: 100,
            ..NumberLimits::default()
        },
        ..Policy::default()
    };
    let open = |dir: &Path| open_with(dir, policy.clone(), ring(1), 7);
    let attacker_guesses = {
        let mut h = open(dir.path());
        let mut compared = 0;
        // An attacker opens verification after verification for the same number and
        // guesses each once as soon as it may.
        let mut now = T0;
        let mut n = 0;
        while n < 5 {
            let (view, code) = h.start(TO, now);
            n += 1;
            if let CheckOutcome::Wrong { .. } = h.check(&view.id, &wrong(&code), now) {
                compared += 1;
            }
            now += 1;
        }
        // Past the limit: locked 1 s; a new start and any check are refused.
        let refused = h.core.start(request(TO), now);
        assert!(
            matches!(refused, Err(VerifyError::Refused(Refusal::Locked { .. }))),
            "{refused:?}"
        );
        compared
    };
    assert_eq!(attacker_guesses, 5);
    // Restart: the lock is still there.
    let mut h = open(dir.path());
    let refused = h.core.start(request(TO), T0 + 10);
    assert!(
        matches!(
            refused,
            Err(VerifyError::Refused(Refusal::Locked { retry_after_ms })) if retry_after_ms > 0
        ),
        "{refused:?}"
    );
    // Another number is not affected.
    assert!(h.core.start(request("819087654321"), T0 + 10).is_ok());
    // After the lock, one more wrong guess locks for twice as long.
    let after = T0 + 5_000;
    let (view, code) = h.start(TO, after);
    assert!(matches!(
        h.check(&view.id, &wrong(&code), after),
        CheckOutcome::Wrong { .. }
    ));
    assert_eq!(
        h.check(&view.id, &code, after + 1),
        CheckOutcome::Locked {
            retry_after_ms: 2_000 - 1
        }
    );
    // A success after the lock resets the count.
    assert_eq!(
        h.check(&view.id, &code, after + 2_000),
        CheckOutcome::Approved
    );
    assert_eq!(h.core.store().number(TO).unwrap().failures, 0);
}

#[test]
fn a_code_expires_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, code) = h.start(TO, T0);
    assert_eq!(
        h.core
            .status(&view.id, T0 + 600_000)
            .unwrap()
            .unwrap()
            .status,
        Status::Expired
    );
    assert_eq!(
        h.check(&view.id, &code, T0 + 600_000),
        CheckOutcome::Expired
    );
    assert_eq!(
        h.check(&view.id, &code, T0 + 600_001),
        CheckOutcome::Expired
    );
}

#[test]
fn a_resend_issues_a_new_code_and_voids_the_old_after_its_cooldown() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, old) = h.start(TO, T0);
    let early = h.core.resend(&view.id, T0 + 10_000);
    assert_eq!(
        early.map(|_| ()),
        Err(VerifyError::Refused(Refusal::Cooldown {
            retry_after_ms: 20_000
        }))
    );
    let (resent, sms) = h.core.resend(&view.id, T0 + 30_000).unwrap();
    let new = code_in(&sms);
    assert_ne!(new, old);
    assert_eq!(resent.sends, 2);
    assert_eq!(resent.expires_at, T0 + 30_000 + 600_000);
    assert!(matches!(
        h.check(&view.id, &old, T0 + 30_001),
        CheckOutcome::Wrong { .. }
    ));
    assert_eq!(h.check(&view.id, &new, T0 + 30_002), CheckOutcome::Approved);
}

#[test]
fn resends_stop_at_the_profiles_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, _) = h.start(TO, T0);
    h.core.resend(&view.id, T0 + 30_000).unwrap();
    h.core.resend(&view.id, T0 + 60_000).unwrap();
    assert_eq!(
        h.core.resend(&view.id, T0 + 90_000).map(|_| ()),
        Err(VerifyError::Refused(Refusal::MaxSends { max: 3 }))
    );
}

#[test]
fn the_number_cap_and_the_pumping_budget_refuse_sends() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        budgets: Budgets {
            window_ms: 3_600_000,
            budgets: vec![
                Budget {
                    prefix: String::new(),
                    max: 100,
                },
                Budget {
                    prefix: "8170".into(),
                    max: 3,
                },
            ],
        },
        ..Policy::default()
    };
    let mut h = open_with(dir.path(), policy, ring(1), 7);
    for _ in 0..5 {
        h.start(TO, T0);
    }
    assert!(matches!(
        h.core.start(request(TO), T0),
        Err(VerifyError::Refused(Refusal::NumberCap { .. }))
    ));
    // Three different 070 numbers spend the 070 budget; the fourth is refused.
    for i in 0..3 {
        h.start(&format!("81701111000{i}"), T0);
    }
    let refused = h.core.start(request("817011110009"), T0);
    assert!(
        matches!(&refused, Err(VerifyError::Refused(Refusal::Budget { prefix, .. })) if prefix == "8170"),
        "{refused:?}"
    );
    // The next window has a fresh budget.
    assert!(h
        .core
        .start(request("817011110009"), T0 + 3_600_000)
        .is_ok());
}

#[test]
fn only_allowed_destinations_get_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    for to in ["81312345678", "447700900123", "12025550123"] {
        assert_eq!(
            h.core.start(request(to), T0).map(|_| ()),
            Err(VerifyError::Refused(Refusal::Destination(format!("+{to}"))))
        );
    }
    h.core.commit().unwrap().wait_blocking().unwrap();
    let audit = h.core.store().audit(0, 100).unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| matches!(e.kind, AuditKind::Refused(_)))
            .count(),
        3,
        "refusals are in the audit trail"
    );
}

#[test]
fn codes_sealed_under_the_previous_key_still_check_after_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (id, code, id2, code2) = {
        let mut h = open(dir.path());
        let (v1, c1) = h.start(TO, T0);
        let (v2, c2) = h.start("819011112222", T0);
        (v1.id, c1, v2.id, c2)
    };
    let rotated = KeyRing::new(Key::from_bytes([2; 32]), vec![Key::from_bytes([1; 32])]);
    let mut h = open_with(dir.path(), Policy::default(), rotated, 8);
    assert_eq!(h.check(&id, &code, T0 + 1), CheckOutcome::Approved);
    // New codes are sealed under the new key.
    let (v3, c3) = h.start("819033334444", T0 + 2);
    drop(h);
    // With the old key dropped from the ring, its codes no longer check; new ones do.
    let mut h = open_with(dir.path(), Policy::default(), ring(2), 9);
    assert!(matches!(
        h.check(&id2, &code2, T0 + 3),
        CheckOutcome::Wrong { .. }
    ));
    assert_eq!(h.check(&v3.id, &c3, T0 + 4), CheckOutcome::Approved);
}

#[test]
fn an_unknown_id_gets_the_same_shape_as_a_finished_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    assert_eq!(h.check("nonexistent", "123456", T0), CheckOutcome::NotFound);
    assert_eq!(
        h.check(&"0".repeat(48), "123456", T0),
        CheckOutcome::NotFound
    );
    let (view, code) = h.start(TO, T0);
    h.core.cancel(&view.id, T0 + 1).unwrap();
    assert_eq!(h.check(&view.id, &code, T0 + 2), CheckOutcome::NotFound);
    assert_eq!(
        h.core.resend("nonexistent", T0).map(|_| ()),
        Err(VerifyError::NotFound)
    );
    assert_eq!(
        h.core.cancel(&view.id, T0 + 3).map(|_| ()),
        Err(VerifyError::NotFound)
    );
    assert!(h.core.status("nonexistent", T0).unwrap().is_none());
}

#[test]
fn the_link_channel_carries_a_128_bit_token_checked_like_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let start = |link: Option<&str>| StartRequest {
        channel: Channel::SmsLink,
        link: link.map(String::from),
        locale: Some(Locale::En),
        ..request(TO)
    };
    assert_eq!(
        h.core.start(start(None), T0).map(|_| ()),
        Err(VerifyError::Link)
    );
    assert_eq!(
        h.core
            .start(start(Some("http://x.example/v?t={token}")), T0)
            .map(|_| ()),
        Err(VerifyError::Link),
        "https only"
    );
    let (view, sms) = h
        .core
        .start(start(Some("https://x.example/v?t={token}")), T0)
        .unwrap();
    let token = sms
        .text
        .split("t=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect::<String>();
    assert_eq!(token.len(), 32, "{}", sms.text);
    assert!(!sms.masked.contains(&token));
    assert!(matches!(
        h.check(&view.id, &"0".repeat(32), T0 + 1),
        CheckOutcome::Wrong { .. }
    ));
    assert_eq!(h.check(&view.id, &token, T0 + 2), CheckOutcome::Approved);
}

#[test]
fn the_sms_validity_ends_before_the_code_and_its_text_is_masked_for_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (_, sms) = h.core.start(request(TO), T0).unwrap();
    assert!(
        sms.validity_ms < 600_000 && sms.validity_ms >= 598_000,
        "{}",
        sms.validity_ms
    );
    let code = code_in(&sms);
    assert!(!sms.masked.contains(&code));
    assert!(
        !format!("{sms:?}").contains(&code),
        "Debug shows the masked text only"
    );
}

#[test]
fn the_sweeper_expires_then_removes_and_the_audit_has_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (pending, code) = h.start(TO, T0);
    let (done, code2) = h.start("819011112222", T0);
    assert_eq!(h.check(&done.id, &code2, T0 + 1), CheckOutcome::Approved);
    let report = h.core.sweep(T0 + 600_001).unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(
        h.core
            .status(&pending.id, T0 + 600_001)
            .unwrap()
            .unwrap()
            .status,
        Status::Expired
    );
    let day = 24 * 3_600_000;
    let report = h.core.sweep(T0 + 600_001 + day + 1).unwrap();
    assert_eq!(report.removed, 2);
    assert!(h.core.store().is_empty().unwrap());
    h.core.commit().unwrap().wait_blocking().unwrap();
    let audit = h.core.store().audit(0, 1000).unwrap();
    assert!(audit.len() >= 5, "{audit:?}");
    let shown = format!("{audit:?}");
    assert!(!shown.contains(&code) && !shown.contains(&code2), "{shown}");
}

#[test]
fn concurrency_64_wrong_guesses_are_compared_at_most_max_checks_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = open(dir.path());
    let (view, code) = h.start(TO, T0);
    let tickets: Vec<_> = (0..64)
        .map(|_| h.core.begin_check(&view.id, T0 + 1).unwrap())
        .collect();
    h.core.commit().unwrap().wait_blocking().unwrap();
    let outcomes: Vec<_> = tickets
        .into_iter()
        .map(|t| h.core.finish_check(t, &wrong(&code), T0 + 2).unwrap())
        .collect();
    let compared = outcomes
        .iter()
        .filter(|o| matches!(o, CheckOutcome::Wrong { .. }))
        .count();
    assert_eq!(compared, 5, "{outcomes:?}");
    assert_eq!(h.core.store().number(TO).unwrap().failures, 5);
}
