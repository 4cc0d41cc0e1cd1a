//! Point expiry over generated histories. In the full mix of commands (awards, reversals,
//! restorations, adjustments, compensations, redemptions, refunds, claims, reviews and expiry
//! runs in any order): the lots always add up to the balance, an expiry never takes a balance
//! below zero nor more than one lot still holds, each lot expires at most once, and the job
//! asked again at the same instant expires nothing. With only credits, plain removals and
//! expiry runs, the points that expire are exactly what first-in-first-out leaves of the
//! credits old enough, recomputed here from the events alone: no spent point ever expires.

use crate::common::generators::{history, setup};
use crate::common::ledger::MEMBERS;
use crate::common::steps::EXPIRY;
use crate::common::*;
use chrono::Duration;
use domain::expiry::{ExpirePoints, ExpiryRules, decide_expiry, decide_warning, next_look};
use domain::member::{MemberCommand, MemberState};
use domain::points::PointsDelta;
use domain::{Aggregate, Event, Timestamp};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn expiry_never_overdraws_never_repeats_and_lots_add_up_to_the_balance(
        setup in setup(),
        steps in history(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let mut states: HashMap<domain::ids::MemberId, MemberState> = HashMap::new();
        let mut expired_lots = HashSet::new();
        for event in &ledger.log {
            let Event::PointsExpired { member_id, lot_entry_id, points, .. } = event else {
                if let Some((m, _)) = event.balance_delta() {
                    let state = states.remove(&m).unwrap_or_default().apply(event);
                    prop_assert_eq!(state.lots.balance(), state.balance, "after {:?}", event);
                    states.insert(m, state);
                }
                continue;
            };
            let before = states.remove(member_id).unwrap_or_default();
            let lot = before.lots.open().find(|l| l.entry_id == *lot_entry_id);
            prop_assert_eq!(lot.map(|l| l.remaining), Some(*points), "{:?} of {:?}", event, lot);
            prop_assert!(*points > 0 && before.balance - points >= 0, "{:?} from {}", event, before.balance);
            prop_assert!(expired_lots.insert(*lot_entry_id), "lot {:?} expired twice", lot_entry_id);
            states.insert(*member_id, before.apply(event));
        }
        for m in 0..MEMBERS {
            let state = ledger.member(m);
            prop_assert_eq!(state.lots.balance(), state.balance);
            if state.is_registered() {
                let at = t0() + Duration::days(30);
                let cmd = ExpirePoints { rules: EXPIRY, rule_version: 1, at };
                let events = decide_expiry(&state, cmd.clone()).expect("decided");
                let after = events.iter().fold(state, MemberState::apply);
                prop_assert!(after.lots.open().all(|l| l.remaining > 0));
                prop_assert!(decide_expiry(&after, cmd).expect("decided").is_empty(), "expired twice");
                prop_assert!(after.balance <= 0 || after.lots.debt() == 0);
                prop_assert_eq!(after.balance.max(0), 0, "a month on, nothing is left unexpired");
            }
        }
    }

    #[test]
    fn what_expires_is_what_first_in_first_out_leaves_of_the_old_credits(
        ops in prop::collection::vec((op(), 1i64..(36 * 60)), 1..60),
        after_days in 1u32..3,
    ) {
        let rules = ExpiryRules { after_days, warn_days: 0 };
        let ttl = Duration::days(after_days.into());
        let mut state = MemberState::default();
        let register = MemberCommand::Register { member_id: member(0), program_id: program(), at: t0() };
        state = state.decide(register).expect("registers").iter().fold(state, MemberState::apply);
        let (mut credits, mut consumed) = (Vec::<(Timestamp, i64)>::new(), 0i64);
        let mut now = t0();
        for (n, (op, gap)) in ops.into_iter().enumerate() {
            now = now + Duration::minutes(gap);
            let entry_id = entry(n as u64 + 1);
            let events = match op {
                Op::Earn(points) => state
                    .decide(MemberCommand::Award(award(entry_id, comment(&format!("c{n}")), points, now)))
                    .expect("no limits"),
                Op::Remove(points) => state
                    .decide(MemberCommand::Adjust {
                        entry_id,
                        delta: PointsDelta::new(-points).expect("nonzero"),
                        reason: "correction".into(),
                        note: None,
                        by: "anna".into(),
                        at: now,
                    })
                    // A removal past the balance is refused; the history goes on without it.
                    .unwrap_or_default(),
                Op::Expire => {
                    let events = decide_expiry(&state, ExpirePoints { rules, rule_version: 1, at: now })
                        .expect("decided");
                    let old: i64 = credits.iter().filter(|(at, _)| *at + ttl <= now).map(|(_, p)| p).sum();
                    let expected = (old - consumed).max(0);
                    let expired: i64 = events.iter().map(|e| match e {
                        Event::PointsExpired { points, .. } => *points,
                        other => panic!("expiry recorded {other:?}"),
                    }).sum();
                    prop_assert_eq!(expired, expected, "{} old credited, {} consumed", old, consumed);
                    events
                }
            };
            for e in &events {
                match e {
                    Event::PointsAwarded { points, at, .. } => credits.push((*at, *points)),
                    Event::PointsAdjusted { delta, .. } => consumed -= delta,
                    Event::PointsExpired { points, .. } => consumed += points,
                    _ => {}
                }
                state = state.apply(e);
            }
            prop_assert!(state.balance >= 0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The job run whenever `next_look` says: every point that expires was counted by a warning
    /// given at least `warn_days` before it expired, and warnings are a week apart at least.
    #[test]
    fn a_job_that_looks_when_asked_warns_about_every_expiring_point_in_time(
        ops in prop::collection::vec((op(), 1i64..(6 * 24 * 60)), 1..40),
        (after_days, warn_days) in (2u32..40).prop_flat_map(|a| (Just(a), 1..a)),
    ) {
        let rules = ExpiryRules { after_days, warn_days };
        let mut state = MemberState::default();
        let register = MemberCommand::Register { member_id: member(0), program_id: program(), at: t0() };
        state = state.decide(register).expect("registers").iter().fold(state, MemberState::apply);
        let mut log: Vec<Event> = Vec::new();
        let mut now = t0();
        let end = t0() + Duration::days(400);
        let ops = ops.into_iter().map(Some).chain(std::iter::once(None));
        for (n, next) in ops.enumerate() {
            let until = next.as_ref().map_or(end, |(_, gap)| now + Duration::minutes(*gap));
            // The job, at every instant it asks to be woken before the next op.
            while let Some(look) = next_look(&state, &rules).filter(|l| *l <= until) {
                let cmd = ExpirePoints { rules, rule_version: 1, at: look.max(now) };
                let mut events = decide_expiry(&state, cmd.clone()).expect("decided");
                let after = events.iter().fold(state.clone(), MemberState::apply);
                events.extend(decide_warning(&after, &cmd).expect("decided"));
                prop_assert!(!events.is_empty(), "woken at {:?} for nothing", look);
                for e in events {
                    state = state.apply(&e);
                    log.push(e);
                }
                now = cmd.at;
            }
            let Some((op, _)) = next else { break };
            now = until;
            let entry_id = entry(n as u64 + 1);
            let events = match op {
                Op::Earn(points) => state
                    .decide(MemberCommand::Award(award(entry_id, comment(&format!("c{n}")), points, now)))
                    .expect("no limits"),
                Op::Remove(points) => state
                    .decide(MemberCommand::Adjust {
                        entry_id,
                        delta: PointsDelta::new(-points).expect("nonzero"),
                        reason: "correction".into(),
                        note: None,
                        by: "anna".into(),
                        at: now,
                    })
                    .unwrap_or_default(),
                Op::Expire => vec![],
            };
            for e in events {
                state = state.apply(&e);
                log.push(e);
            }
        }
        let warnings: Vec<(Timestamp, Timestamp)> = log.iter().filter_map(|e| match e {
            Event::ExpiryWarned { at, through, .. } => Some((*at, *through)),
            _ => None,
        }).collect();
        for pair in warnings.windows(2) {
            prop_assert!(pair[1].0 - pair[0].0 >= Duration::days(7), "warnings {:?}", pair);
        }
        for e in &log {
            if let Event::PointsExpired { earned_at, at, .. } = e {
                let expires = rules.expires_at(*earned_at).expect("expiry is on");
                prop_assert_eq!(*at, expires, "expired when due, not later");
                let notice = Duration::days(warn_days.into());
                let warned = warnings.iter().any(|(w, through)| *through >= expires && *w <= expires - notice);
                prop_assert!(warned, "{:?} without a warning {} days ahead in {:?}", e, warn_days, warnings);
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Earn(i64),
    Remove(i64),
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1i64..50).prop_map(Op::Earn),
        2 => (1i64..80).prop_map(Op::Remove),
        2 => Just(Op::Expire),
    ]
}
