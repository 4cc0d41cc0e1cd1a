//! Point expiry: which lots are due, what spending, removals, reversals and refunds take from
//! them, and the settings a manager may give.

use super::member::{registered, step};
use super::refused;
use crate::common::*;
use chrono::Duration;
use domain::event::{Eraser, ErasureReason, ReversalReason};
use domain::expiry::{
    ExpirePoints, ExpiryRules, decide_expiry, decide_warning, expire_lot, expiry_entry, next_look,
};
use domain::member::{MemberCommand, MemberState};
use domain::points::PointsDelta;
use domain::program::Rules;
use domain::{Aggregate, DomainError, Event, Timestamp};

const DAYS_30: ExpiryRules = ExpiryRules {
    after_days: 30,
    warn_days: 7,
};

fn day(n: i64) -> Timestamp {
    t0() + Duration::days(n)
}

fn expire(state: &MemberState, at: Timestamp) -> Vec<Event> {
    let cmd = ExpirePoints {
        rules: DAYS_30,
        rule_version: 3,
        at,
    };
    decide_expiry(state, cmd).expect("decided")
}

/// (lot entry, points) of each expiry.
fn expired(events: &[Event]) -> Vec<(u64, i64)> {
    events
        .iter()
        .map(|e| match e {
            Event::PointsExpired {
                lot_entry_id,
                points,
                ..
            } => (
                (1..100)
                    .find(|n| entry(*n) == *lot_entry_id)
                    .expect("a test entry"),
                *points,
            ),
            other => panic!("expected an expiry, got {other:?}"),
        })
        .collect()
}

fn earned(state: MemberState, n: u64, points: i64, at: Timestamp) -> MemberState {
    let c = comment(&format!("c{n}"));
    step(state, MemberCommand::Award(award(entry(n), c, points, at)))
}

fn adjusted(state: MemberState, n: u64, delta: i64, at: Timestamp) -> MemberState {
    step(
        state,
        MemberCommand::Adjust {
            entry_id: entry(n),
            delta: PointsDelta::new(delta).expect("nonzero"),
            reason: "correction".into(),
            note: None,
            by: "anna".into(),
            at,
        },
    )
}

#[test]
fn a_lot_expires_once_its_period_has_passed_with_an_id_derived_from_it() {
    let state = earned(registered(), 1, 100, day(0));
    assert!(expire(&state, day(30) - Duration::seconds(1)).is_empty());
    let events = expire(&state, day(30));
    assert_eq!(
        events,
        vec![Event::PointsExpired {
            member_id: member(0),
            entry_id: expiry_entry(entry(1)),
            lot_entry_id: entry(1),
            earned_at: day(0),
            points: 100,
            rule_version: 3,
            at: day(30),
        }]
    );
    let after = events.iter().fold(state, MemberState::apply);
    assert_eq!((after.balance, after.expired, after.earned), (0, 100, 100));
    assert!(expire(&after, day(31)).is_empty(), "a lot expires once");
}

#[test]
fn spending_takes_the_oldest_points_first_so_only_what_is_left_of_them_expires() {
    let state = earned(registered(), 1, 100, day(0));
    let state = earned(state, 2, 50, day(10));
    let state = adjusted(state, 3, -120, day(20));
    assert!(
        expire(&state, day(30)).is_empty(),
        "the first lot was spent"
    );
    assert_eq!(expired(&expire(&state, day(40))), vec![(2, 30)]);
}

#[test]
fn a_reversal_takes_back_its_own_award_first() {
    let state = earned(registered(), 1, 100, day(0));
    let state = earned(state, 2, 50, day(10));
    let reverse = MemberCommand::Reverse {
        entry_id: entry(3),
        activity: comment("c2"),
        reason: ReversalReason::Deleted,
        at: day(11),
    };
    let state = step(state, reverse);
    assert_eq!(expired(&expire(&state, day(45))), vec![(1, 100)]);
}

#[test]
fn points_taken_beyond_every_lot_are_paid_back_by_the_next_credits_first() {
    let state = earned(registered(), 1, 50, day(0));
    let state = adjusted(state, 2, -50, day(1));
    let reverse = MemberCommand::Reverse {
        entry_id: entry(3),
        activity: comment("c1"),
        reason: ReversalReason::Deleted,
        at: day(2),
    };
    let state = step(state, reverse);
    assert_eq!((state.balance, state.lots.debt()), (-50, 50));
    let state = earned(state, 4, 30, day(3));
    assert!(
        expire(&state, day(40)).is_empty(),
        "all of it paid the debt"
    );
    let state = earned(state, 5, 40, day(4));
    assert_eq!(state.balance, 20);
    assert_eq!(expired(&expire(&state, day(40))), vec![(5, 20)]);
}

#[test]
fn a_refund_is_a_new_lot_dated_when_it_was_decided() {
    let state = earned(registered(), 1, 100, day(0));
    let redeemed = Event::RewardRedeemed {
        member_id: member(0),
        entry_id: entry(2),
        redemption_id: redemption(1),
        reward_id: reward(0),
        cost: 80,
        coupon_code: "C-1".into(),
        at: day(5),
    };
    let refunded = Event::RedemptionCancelled {
        member_id: member(0),
        entry_id: entry(3),
        redemption_id: redemption(1),
        reward_id: reward(0),
        refund: 80,
        by: "anna".into(),
        reason: "out of stock".into(),
        at: day(20),
    };
    let state = state.apply(&redeemed).apply(&refunded);
    assert_eq!(expired(&expire(&state, day(30))), vec![(1, 20)]);
    assert_eq!(expired(&expire(&state, day(50))), vec![(1, 20), (3, 80)]);
}

#[test]
fn nothing_expires_when_the_program_sets_no_period() {
    let state = earned(registered(), 1, 100, day(0));
    let cmd = ExpirePoints {
        rules: ExpiryRules::default(),
        rule_version: 1,
        at: day(5000),
    };
    assert!(decide_expiry(&state, cmd).expect("decided").is_empty());
}

#[test]
fn blocked_and_erased_members_points_expire_and_an_unregistered_one_is_refused() {
    let state = earned(registered(), 1, 100, day(0));
    let blocked = step(
        state.clone(),
        MemberCommand::Block {
            reason: "farm".into(),
            by: "anna".into(),
            at: day(1),
        },
    );
    assert_eq!(expired(&expire(&blocked, day(30))), vec![(1, 100)]);
    let erased = step(
        state,
        MemberCommand::Erase {
            by: Eraser::Member,
            reason: ErasureReason::MemberRequest,
            at: day(1),
        },
    );
    assert_eq!(expired(&expire(&erased, day(30))), vec![(1, 100)]);
    let cmd = ExpirePoints {
        rules: DAYS_30,
        rule_version: 1,
        at: day(30),
    };
    assert_eq!(
        refused(decide_expiry(&MemberState::default(), cmd)),
        DomainError::MemberNotRegistered
    );
}

#[test]
fn the_schedule_sums_the_points_due_at_each_instant_in_order() {
    let state = earned(registered(), 1, 10, day(2));
    let state = earned(state, 2, 20, day(0));
    let state = adjusted(state, 3, 5, day(2));
    assert_eq!(
        state.lots.schedule(&DAYS_30),
        vec![(day(30), 20), (day(32), 15)]
    );
    assert_eq!(DAYS_30.warn_from(day(30)), Some(day(23)));
    assert!(state.lots.schedule(&ExpiryRules::default()).is_empty());
}

#[test]
fn a_period_past_ten_years_or_a_warning_not_shorter_than_it_is_refused() {
    let with = |after_days, warn_days| Rules {
        expiry: ExpiryRules {
            after_days,
            warn_days,
        },
        ..Rules::standard()
    };
    for (after, warn) in [(3651, 0), (30, 30), (30, 31), (0, 5)] {
        let error = with(after, warn).validate().expect_err("refused");
        assert!(
            matches!(&error, DomainError::InvalidRules(why) if why.starts_with("expiry:")),
            "{after}/{warn}: {error}"
        );
    }
    for (after, warn) in [(0, 0), (1, 0), (365, 30), (3650, 3649)] {
        with(after, warn).validate().expect("accepted");
    }
}

fn warn(state: &MemberState, at: Timestamp) -> Vec<Event> {
    let cmd = ExpirePoints {
        rules: DAYS_30,
        rule_version: 3,
        at,
    };
    decide_warning(state, &cmd).expect("decided")
}

#[test]
fn a_member_is_warned_once_a_week_at_most_and_every_point_at_least_warn_days_ahead() {
    let state = earned(registered(), 1, 100, day(0));
    let state = earned(state, 2, 40, day(12));
    // Day 30 minus 7 days' notice minus the week a warning looks further.
    assert_eq!(next_look(&state, &DAYS_30), Some(day(16)));
    assert!(warn(&state, day(15)).is_empty());
    let events = warn(&state, day(16));
    assert_eq!(
        events,
        vec![Event::ExpiryWarned {
            member_id: member(0),
            points: 100,
            first_expires_at: day(30),
            through: day(30),
            rule_version: 3,
            at: day(16),
        }]
    );
    let state = events.iter().fold(state, MemberState::apply);
    assert!(warn(&state, day(20)).is_empty(), "a week between warnings");
    // The second lot expires on day 42: it enters the look-ahead on day 28.
    assert_eq!(next_look(&state, &DAYS_30), Some(day(28)));
    assert!(warn(&state, day(27)).is_empty());
    let second = warn(&state, day(28));
    assert!(
        matches!(&second[..], [Event::ExpiryWarned { points: 40, first_expires_at, .. }] if *first_expires_at == day(42)),
        "{second:?}"
    );
    let state = second.iter().fold(state, MemberState::apply);
    assert_eq!(
        next_look(&state, &DAYS_30),
        Some(day(30)),
        "the expiry itself"
    );
}

#[test]
fn spent_points_are_not_warned_about_and_blocked_members_are_not_warned() {
    let state = earned(registered(), 1, 100, day(0));
    let spent = adjusted(state.clone(), 2, -100, day(1));
    assert!(warn(&spent, day(20)).is_empty());
    assert_eq!(next_look(&spent, &DAYS_30), None, "nothing left to expire");
    let blocked = step(
        state,
        MemberCommand::Block {
            reason: "farm".into(),
            by: "anna".into(),
            at: day(1),
        },
    );
    assert!(warn(&blocked, day(20)).is_empty());
    assert_eq!(next_look(&blocked, &DAYS_30), Some(day(30)));
}

#[test]
fn the_job_expires_lot_by_lot_and_a_lot_no_longer_due_or_open_is_left_alone() {
    let state = earned(registered(), 1, 100, day(0));
    let state = earned(state, 2, 50, day(10));
    let cmd = ExpirePoints {
        rules: DAYS_30,
        rule_version: 3,
        at: day(31),
    };
    assert_eq!(
        expired(&expire_lot(&state, entry(1), &cmd).expect("decided")),
        vec![(1, 100)]
    );
    assert!(
        expire_lot(&state, entry(2), &cmd)
            .expect("decided")
            .is_empty(),
        "not due"
    );
    let spent = adjusted(state, 3, -100, day(20));
    assert!(
        expire_lot(&spent, entry(1), &cmd)
            .expect("decided")
            .is_empty(),
        "spent"
    );
}
