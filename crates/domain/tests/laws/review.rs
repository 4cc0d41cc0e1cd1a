//! Held awards: what pays on arrival keeps within the velocity limits whatever the order of
//! delivery, a member's first hours pay only through review, and each held award is decided
//! once, approval paying exactly its points.

use crate::common::generators::{earning_history, history, setup};
use crate::common::ledger::Setup;
use crate::common::{Ledger, Step};
use chrono::Duration;
use domain::Event;
use domain::Timestamp;
use domain::ids::{EntryId, MemberId};
use domain::network::{ActivityKind, ActivityRef, Network};
use domain::review::ReviewRules;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::{BTreeMap, HashMap};

/// When each member's awards paid on arrival happened, sorted.
fn paid_on_arrival(log: &[Event]) -> BTreeMap<MemberId, Vec<Timestamp>> {
    let mut paid: BTreeMap<MemberId, Vec<Timestamp>> = BTreeMap::new();
    for event in log {
        if let Event::PointsAwarded {
            member_id,
            occurred_at,
            ..
        } = event
        {
            paid.entry(*member_id).or_default().push(*occurred_at);
        }
    }
    paid.values_mut().for_each(|times| times.sort());
    paid
}

/// The most of `times` (sorted) inside any window `[t, t + window)`.
fn busiest(times: &[Timestamp], window: Duration) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t - times[i] < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Bursts: many distinct activities of three members within a few minutes, delivered in any
/// order, under tight velocity limits.
fn bursts() -> impl Strategy<Value = (Setup, Vec<Step>)> {
    let award = (0u8..3, select(Network::ALL.to_vec()), 0u8..40, 0i64..6).prop_map(
        |(member, network, n, minute)| Step::Award {
            member,
            activity: ActivityRef {
                network,
                kind: ActivityKind::Comment,
                reference: format!("burst-{n}"),
            },
            points: 1,
            minute,
            text: None,
        },
    );
    let limits = (1u32..4, 2u32..12);
    (setup(), limits, prop::collection::vec(award, 0..60)).prop_map(
        |(mut setup, (per_minute, per_hour), steps)| {
            setup.limits.daily_cap = None;
            setup.limits.daily_cap_per_network = None;
            setup.limits.cooldown_seconds = 0;
            setup.limits.review = ReviewRules {
                per_minute: Some(per_minute),
                per_hour: Some(per_hour),
                ..ReviewRules::default()
            };
            (setup, steps)
        },
    )
}

fn check_velocity(ledger: &Ledger, review: &ReviewRules) -> Result<(), TestCaseError> {
    for (member, times) in paid_on_arrival(&ledger.log) {
        for (limit, window) in [
            (review.per_minute, Duration::minutes(1)),
            (review.per_hour, Duration::hours(1)),
        ] {
            if let Some(limit) = limit {
                let most = busiest(&times, window);
                prop_assert!(
                    most <= limit as usize,
                    "{member:?} was paid {most} awards within {window}, limit {limit}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn bursts_delivered_in_any_order_keep_within_the_velocity_limits(
        (setup, steps) in bursts(),
    ) {
        let review = setup.limits.review.clone();
        let ledger = Ledger::run_all(setup, &steps);
        check_velocity(&ledger, &review)?;
        // The first award of a burst always pays: holding is not refusing everything.
        let paid = ledger.log.iter().filter(|e| matches!(e, Event::PointsAwarded { .. })).count();
        prop_assert!(steps.is_empty() || paid > 0);
    }

    #[test]
    fn awards_paid_on_arrival_keep_within_the_velocity_limits(
        setup in setup(),
        steps in earning_history(),
    ) {
        let review = setup.limits.review.clone();
        let ledger = Ledger::run_all(setup, &steps);
        check_velocity(&ledger, &review)?;
    }

    #[test]
    fn a_new_members_first_hours_pay_only_through_review(setup in setup(), steps in history()) {
        let hours = Duration::hours(setup.limits.review.new_member_hours.into());
        let ledger = Ledger::run_all(setup, &steps);
        let mut registered: HashMap<MemberId, Timestamp> = HashMap::new();
        for event in &ledger.log {
            match event {
                Event::MemberRegistered { member_id, at, .. } => {
                    registered.insert(*member_id, *at);
                }
                Event::PointsAwarded { member_id, occurred_at, .. } if hours > Duration::zero() => {
                    let since = registered[member_id];
                    prop_assert!(
                        *occurred_at >= since + hours,
                        "{member_id:?} paid for activity at {occurred_at:?}, registered {since:?}"
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn each_held_award_is_decided_once_and_only_approval_pays(
        setup in setup(),
        steps in history(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let mut held: HashMap<EntryId, i64> = HashMap::new();
        let mut decided: HashMap<EntryId, &Event> = HashMap::new();
        for event in &ledger.log {
            match event {
                Event::AwardHeld { entry_id, points, .. } => {
                    prop_assert!(event.balance_delta().is_none());
                    held.insert(*entry_id, *points);
                }
                Event::HeldAwardApproved { award_entry_id, points, member_id, .. }
                | Event::HeldAwardRejected { award_entry_id, points, member_id, .. } => {
                    prop_assert_eq!(held.get(award_entry_id), Some(points), "decided unheld");
                    let before = decided.insert(*award_entry_id, event);
                    prop_assert!(before.is_none(), "decided twice: {:?} then {:?}", before, event);
                    if matches!(event, Event::HeldAwardApproved { .. }) {
                        prop_assert_eq!(event.balance_delta(), Some((*member_id, *points)));
                    } else {
                        prop_assert!(event.balance_delta().is_none());
                    }
                }
                _ => {}
            }
        }
        // Deciding every award still pending adds exactly what approval pays, and only once.
        for (n, state) in ledger.members.clone() {
            let member_id = state.member_id;
            let mut again = Ledger::run_all(ledger.setup.clone(), &steps);
            let mut pending: Vec<_> = state
                .held
                .iter()
                .filter(|(_, h)| h.status == domain::review::HeldStatus::Pending)
                .map(|(entry, h)| (*entry, h.points))
                .collect();
            pending.sort();
            let expected: i64 = pending.iter().map(|(_, p)| p).sum();
            let active = state.require_active().is_ok();
            for round in 0..2 {
                for (entry, _) in &pending {
                    let _ = again.run(&Step::Review {
                        member: n,
                        pick: pick_of(&again.member(n).held, *entry),
                        approve: true,
                    });
                }
                let gained = again.member(n).balance - state.balance;
                let want = if active { expected } else { 0 };
                prop_assert_eq!(gained, want, "{:?} round {}", member_id, round);
            }
        }
    }
}

/// The `pick` that names `entry` among a member's held awards (the step sorts them).
fn pick_of(held: &HashMap<EntryId, domain::review::HeldAward>, entry: EntryId) -> usize {
    let mut entries: Vec<EntryId> = held.keys().copied().collect();
    entries.sort();
    entries.iter().position(|e| *e == entry).unwrap_or(0)
}
