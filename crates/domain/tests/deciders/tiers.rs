//! Tiers: where a member's qualifying points place them, what a tier's multiplier pays, and the
//! rules a manager may set.

use super::member::{registered, step};
use super::{accepted, refused};
use crate::common::*;
use chrono::Duration;
use domain::member::{MemberCommand, MemberState};
use domain::network::{ActivityKind, Network};
use domain::program::Rules;
use domain::tier::{EvaluateTier, TierLevel, TierRules, decide_tier, multiplied};
use domain::{Aggregate, DomainError, Event};

fn level(name: &str, threshold: i64, multiplier_percent: u32) -> TierLevel {
    TierLevel {
        name: name.into(),
        threshold,
        multiplier_percent,
    }
}

fn ladder(window_days: u32) -> TierRules {
    TierRules {
        window_days,
        levels: vec![level("Silver", 100, 110), level("Gold", 300, 150)],
    }
}

fn evaluate(tiers: &TierRules, at: domain::Timestamp) -> EvaluateTier {
    EvaluateTier {
        tiers: tiers.clone(),
        rule_version: 2,
        at,
    }
}

/// Member 0 paid `points` for comment `c{n}` at `at`.
fn paid(state: MemberState, n: u64, points: i64, at: domain::Timestamp) -> MemberState {
    let c = comment(&format!("c{n}"));
    step(state, MemberCommand::Award(award(entry(n), c, points, at)))
}

fn placed(state: MemberState, tiers: &TierRules, at: domain::Timestamp) -> MemberState {
    let decision = decide_tier(&state, evaluate(tiers, at));
    accepted(state, decision)
}

fn awarded_points(state: &MemberState, n: u64, base: i64, kind: ActivityKind) -> i64 {
    let activity = activity(Network::Vk, kind, &format!("a{n}"));
    let events = state
        .decide(MemberCommand::Award(award(
            entry(n),
            activity,
            base,
            minutes(50),
        )))
        .expect("awarded");
    match &events[..] {
        [Event::PointsAwarded { points, .. }] => *points,
        other => panic!("expected one award, got {other:?}"),
    }
}

#[test]
fn crossing_a_threshold_records_one_move_with_the_rules_version() {
    let tiers = ladder(0);
    let state = paid(registered(), 1, 120, minutes(1));
    let events = decide_tier(&state, evaluate(&tiers, minutes(2))).expect("decided");
    assert_eq!(
        events,
        vec![Event::TierChanged {
            member_id: member(0),
            from: None,
            from_level: 0,
            to: Some("Silver".into()),
            level: 1,
            multiplier_percent: 110,
            qualifying_points: 120,
            rule_version: 2,
            at: minutes(2),
        }]
    );
    let state = events.iter().fold(state, MemberState::apply);
    let again = decide_tier(&state, evaluate(&tiers, minutes(3))).expect("decided");
    assert!(again.is_empty(), "asked twice, moved once: {again:?}");
}

#[test]
fn below_the_first_threshold_there_is_no_tier_and_nothing_to_record() {
    let state = paid(registered(), 1, 99, minutes(1));
    let events = decide_tier(&state, evaluate(&ladder(0), minutes(2))).expect("decided");
    assert!(events.is_empty());
    assert_eq!(state.tier, None);
}

#[test]
fn spending_does_not_lower_a_lifetime_tier_but_a_manager_removing_points_does() {
    let tiers = ladder(0);
    let state = placed(paid(registered(), 1, 320, minutes(1)), &tiers, minutes(2));
    assert_eq!(state.tier.as_ref().map(|t| t.name.as_str()), Some("Gold"));
    let removed = step(
        state,
        MemberCommand::Adjust {
            entry_id: entry(9),
            delta: domain::points::PointsDelta::new(-50).expect("delta"),
            reason: "duplicate account".into(),
            note: None,
            by: "anna".into(),
            at: minutes(3),
        },
    );
    let state = placed(removed, &tiers, minutes(4));
    let tier = state.tier.expect("still on the ladder");
    assert_eq!((tier.name.as_str(), tier.level), ("Silver", 1));
}

#[test]
fn a_rolling_window_lets_a_tier_lapse_when_the_points_age_out() {
    let tiers = ladder(30);
    let state = placed(paid(registered(), 1, 150, minutes(0)), &tiers, minutes(1));
    assert_eq!(state.tier.as_ref().map(|t| t.level), Some(1));
    let day = |d: i64| domain::Timestamp::new(t0().get() + Duration::days(d));
    let inside = decide_tier(&state, evaluate(&tiers, day(29))).expect("decided");
    assert!(inside.is_empty(), "29 days on, the points still count");
    let lapsed = decide_tier(&state, evaluate(&tiers, day(31))).expect("decided");
    assert!(
        matches!(
            &lapsed[..],
            [Event::TierChanged {
                to: None,
                from_level: 1,
                level: 0,
                qualifying_points: 0,
                ..
            }]
        ),
        "{lapsed:?}"
    );
}

#[test]
fn activity_pays_the_tier_multiplier_rounded_half_up_but_a_codeword_pays_its_promise() {
    let state = placed(
        paid(registered(), 1, 120, minutes(1)),
        &ladder(0),
        minutes(2),
    );
    assert_eq!(awarded_points(&state, 2, 5, ActivityKind::Comment), 6);
    assert_eq!(awarded_points(&state, 3, 10, ActivityKind::Reaction), 11);
    assert_eq!(awarded_points(&state, 4, 50, ActivityKind::Codeword), 50);
    assert_eq!(
        awarded_points(&registered(), 5, 5, ActivityKind::Comment),
        5
    );
    assert_eq!(multiplied(7, 150), 11);
    assert_eq!(multiplied(1, 100), 1);
}

#[test]
fn a_renamed_or_repriced_tier_is_recorded_again_and_an_empty_ladder_takes_tiers_away() {
    let state = placed(
        paid(registered(), 1, 120, minutes(1)),
        &ladder(0),
        minutes(2),
    );
    let mut repriced = ladder(0);
    repriced.levels[0].multiplier_percent = 120;
    let state = placed(state, &repriced, minutes(3));
    assert_eq!(state.multiplier_percent(), 120);
    let off = decide_tier(&state, evaluate(&TierRules::default(), minutes(4))).expect("decided");
    assert!(matches!(
        &off[..],
        [Event::TierChanged {
            to: None,
            multiplier_percent: 100,
            ..
        }]
    ));
}

#[test]
fn an_erased_member_keeps_their_last_tier_and_an_unregistered_one_is_refused() {
    let tiers = ladder(0);
    let state = paid(registered(), 1, 120, minutes(1));
    let erased = step(
        state,
        MemberCommand::Erase {
            by: domain::event::Eraser::Member,
            reason: domain::event::ErasureReason::MemberRequest,
            at: minutes(2),
        },
    );
    assert!(
        decide_tier(&erased, evaluate(&tiers, minutes(3)))
            .expect("decided")
            .is_empty()
    );
    assert_eq!(
        refused(decide_tier(
            &MemberState::default(),
            evaluate(&tiers, minutes(3))
        )),
        DomainError::MemberNotRegistered
    );
}

#[test]
fn a_manager_may_not_set_a_ladder_that_cannot_be_climbed() {
    let with = |tiers: TierRules| Rules {
        tiers,
        ..Rules::standard()
    };
    let refusals = [
        vec![level("Silver", 100, 110), level("Gold", 100, 150)],
        vec![level("Silver", 0, 110)],
        vec![level("Silver", 100, 90)],
        vec![level("Silver", 100, 110), level("silver", 200, 120)],
        vec![level(" ", 100, 110)],
        vec![level("Silver", 100, 501)],
    ];
    for levels in refusals {
        let rules = with(TierRules {
            window_days: 0,
            levels: levels.clone(),
        });
        assert!(
            matches!(rules.validate(), Err(DomainError::InvalidRules(_))),
            "{levels:?} accepted"
        );
    }
    let long_window = with(TierRules {
        window_days: 731,
        levels: vec![level("Silver", 100, 110)],
    });
    assert!(long_window.validate().is_err());
    assert_eq!(with(ladder(365)).validate(), Ok(()));
    assert_eq!(with(TierRules::default()).validate(), Ok(()));
}
