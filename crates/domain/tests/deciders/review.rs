//! Held awards: which awards the review rules hold, and deciding each held award once.

use super::member::{award_with, registered, step};
use super::{accepted, refused};
use crate::common::*;
use chrono::Duration;
use domain::DomainError;
use domain::campaign::{CampaignCommand, CampaignState, NewCampaign, decide_codeword};
use domain::codeword::Codeword;
use domain::event::{LinkMethod, ReversalReason};
use domain::identity::{IdentityState, RelinkCooldown, decide_claim_observed};
use domain::member::{AwardLimits, MemberCommand, MemberState};
use domain::network::Network;
use domain::review::{
    HeldStatus, HoldReason, Rejection, ReviewDecision, ReviewHeld, ReviewRules, decide_review,
    handover_entry,
};
use domain::{Aggregate, Event};

fn reviewing(review: ReviewRules) -> AwardLimits {
    AwardLimits {
        review,
        ..no_limits()
    }
}

fn per_minute(n: u32) -> AwardLimits {
    reviewing(ReviewRules {
        per_minute: Some(n),
        ..ReviewRules::default()
    })
}

/// Member 0 given comments `c{n}` at the given seconds after t0, under `limits`.
fn commented(state: MemberState, limits: &AwardLimits, seconds: &[(u64, i64)]) -> MemberState {
    seconds.iter().fold(state, |state, (n, s)| {
        let at = t0() + Duration::seconds(*s);
        step(
            state,
            award_with(entry(*n), comment(&format!("c{n}")), 10, at, limits),
        )
    })
}

fn hold_of(event: &Event) -> Option<HoldReason> {
    match event {
        Event::AwardHeld { hold, .. } => Some(*hold),
        _ => None,
    }
}

fn decide(
    state: &MemberState,
    n: u64,
    decision: ReviewDecision,
) -> Result<Vec<Event>, DomainError> {
    let command = ReviewHeld {
        award: entry(n),
        decision,
        by: "anna".into(),
        at: minutes(90),
    };
    decide_review(state, None, command)
}

fn reject(reason: &str) -> ReviewDecision {
    ReviewDecision::Reject {
        reason: reason.into(),
    }
}

#[test]
fn the_award_past_the_velocity_limit_is_held_not_refused() {
    let limits = per_minute(2);
    let state = commented(registered(), &limits, &[(1, 0), (2, 20)]);
    let third = state
        .decide(award_with(
            entry(3),
            comment("c3"),
            10,
            t0() + Duration::seconds(40),
            &limits,
        ))
        .expect("held, not refused");
    assert_eq!(hold_of(&third[0]), Some(HoldReason::VelocityMinute));
    assert_eq!(third[0].balance_delta(), None);
    let state = third.iter().fold(state, MemberState::apply);
    assert_eq!(state.balance, 20);
    assert_eq!(state.held[&entry(3)].status, HeldStatus::Pending);
    // A minute later the window has room again.
    let later = award_with(
        entry(4),
        comment("c4"),
        10,
        t0() + Duration::seconds(81),
        &limits,
    );
    assert!(matches!(
        state.decide(later).unwrap()[0],
        Event::PointsAwarded { .. }
    ));
}

#[test]
fn an_award_delivered_late_into_a_full_minute_is_held() {
    // Two awards at 0:30 and 0:50 fill the minute around 0:10, which arrives last.
    let limits = per_minute(2);
    let state = commented(registered(), &limits, &[(1, 30), (2, 50)]);
    let late = award_with(
        entry(3),
        comment("c3"),
        10,
        t0() + Duration::seconds(10),
        &limits,
    );
    assert_eq!(
        hold_of(&state.decide(late).unwrap()[0]),
        Some(HoldReason::VelocityMinute)
    );
}

#[test]
fn a_member_in_their_first_hours_is_held_and_later_paid() {
    let limits = reviewing(ReviewRules {
        new_member_hours: 24,
        ..ReviewRules::default()
    });
    let early = award_with(entry(1), comment("c1"), 10, minutes(23 * 60), &limits);
    assert_eq!(
        hold_of(&registered().decide(early).unwrap()[0]),
        Some(HoldReason::NewMember)
    );
    let later = award_with(entry(2), comment("c2"), 10, minutes(24 * 60), &limits);
    assert!(matches!(
        registered().decide(later).unwrap()[0],
        Event::PointsAwarded { .. }
    ));
}

fn campaign_with(points: i64) -> CampaignState {
    let created = CampaignState::default().decide(CampaignCommand::Create(Box::new(NewCampaign {
        campaign_id: campaign(0),
        program_id: program(),
        name: "spring".into(),
        codeword: Codeword::parse("ВЕСНА").unwrap(),
        points: points.try_into().unwrap(),
        starts_at: t0(),
        ends_at: minutes(600),
        total_cap: Some(10),
        networks: Network::ALL.to_vec(),
        target_post: None,
        description: None,
        by: "anna".into(),
        at: t0(),
    })));
    accepted(CampaignState::default(), created)
}

#[test]
fn a_codeword_bonus_over_the_threshold_is_held_and_still_uses_its_slot() {
    let review = ReviewRules {
        codeword_over: Some(100),
        ..ReviewRules::default()
    };
    let redeem = |n| domain::campaign::RedeemCodeword {
        entry_id: entry(n),
        network: Network::Vk,
        reference: format!("comment-{n}"),
        target: None,
        occurred_at: minutes(5),
        time_zone: chrono_tz::UTC,
        review: review.clone(),
        at: minutes(5),
    };
    let big = decide_codeword(&campaign_with(500), &registered(), redeem(1)).unwrap();
    assert!(matches!(big[0], Event::CodewordRedeemed { .. }));
    assert_eq!(hold_of(&big[1]), Some(HoldReason::LargeCodeword));
    let small = decide_codeword(&campaign_with(100), &registered(), redeem(2)).unwrap();
    assert!(matches!(small[1], Event::PointsAwarded { .. }));
}

fn with_one_held() -> MemberState {
    let limits = per_minute(1);
    commented(registered(), &limits, &[(1, 0), (2, 10)])
}

#[test]
fn approving_pays_once_and_rejecting_after_is_refused() {
    let state = with_one_held();
    assert_eq!(state.balance, 10);
    let approved = decide(&state, 2, ReviewDecision::Approve).unwrap();
    assert_eq!(approved[0].balance_delta(), Some((member(0), 10)));
    let state = accepted(state, Ok(approved));
    assert_eq!(state.balance, 20);
    assert_eq!(
        decide(&state, 2, ReviewDecision::Approve).unwrap(),
        vec![],
        "again: nothing"
    );
    assert_eq!(
        refused(decide(&state, 2, reject("farm"))),
        DomainError::AlreadyReviewed(entry(2))
    );
    // Approved, it is an award like any other: a compensation nets it.
    let compensated = state.decide(MemberCommand::Compensate {
        entry_id: entry(7),
        target: entry(2),
        reason: "mistake".into(),
        note: None,
        by: "anna".into(),
        at: minutes(91),
    });
    assert_eq!(accepted(state, compensated).balance, 10);
}

#[test]
fn rejecting_needs_a_reason_pays_nothing_and_approving_after_is_refused() {
    let state = with_one_held();
    assert_eq!(
        refused(decide(&state, 2, reject("  "))),
        DomainError::ReasonRequired
    );
    let state = accepted(state.clone(), decide(&state, 2, reject("farm")));
    assert_eq!(state.balance, 10);
    assert_eq!(decide(&state, 2, reject("again")).unwrap(), vec![]);
    assert_eq!(
        refused(decide(&state, 2, ReviewDecision::Approve)),
        DomainError::AlreadyReviewed(entry(2))
    );
    assert_eq!(
        refused(decide(&state, 1, reject("paid"))),
        DomainError::EntryNotFound(entry(1))
    );
}

#[test]
fn an_activity_undone_while_held_closes_it_and_a_restore_does_not_pay() {
    let state = with_one_held();
    let undo = MemberCommand::Reverse {
        entry_id: entry(50),
        activity: comment("c2"),
        reason: ReversalReason::Deleted,
        at: minutes(3),
    };
    let events = state.decide(undo).unwrap();
    assert!(matches!(
        &events[0],
        Event::HeldAwardRejected {
            rejection: Rejection::ActivityUndone {
                cause: ReversalReason::Deleted
            },
            ..
        }
    ));
    let state = accepted(state, Ok(events));
    assert_eq!(state.balance, 10);
    let restore = MemberCommand::Restore {
        entry_id: entry(51),
        activity: comment("c2"),
        at: minutes(4),
    };
    assert_eq!(
        refused(state.decide(restore)),
        DomainError::DuplicateActivity
    );
    assert_eq!(
        refused(decide(&state, 2, ReviewDecision::Approve)),
        DomainError::AlreadyReviewed(entry(2))
    );
}

#[test]
fn a_blocked_member_is_not_paid_by_approval() {
    let state = with_one_held();
    let state = step(
        state,
        MemberCommand::Block {
            reason: "spam".into(),
            by: "anna".into(),
            at: minutes(5),
        },
    );
    assert_eq!(
        refused(decide(&state, 2, ReviewDecision::Approve)),
        DomainError::MemberBlocked(member(0))
    );
    assert!(decide(&state, 2, reject("farm")).is_ok());
}

#[test]
fn an_approval_after_the_account_was_claimed_follows_it_to_its_claimant() {
    // Member 3 stands in for account 1 and has a held award; member 0 then claims the account.
    let seen = domain::identity::decide_register_observed(
        &IdentityState::default(),
        &MemberState::default(),
        program(),
        member(3),
        account(1),
        t0(),
    )
    .unwrap();
    let identity = seen
        .iter()
        .fold(IdentityState::default(), IdentityState::apply);
    let limits = per_minute(1);
    let stand_in = commented(MemberState::fold(&seen), &limits, &[(1, 0), (2, 10)]);
    let claim = decide_claim_observed(
        &identity,
        &stand_in,
        &registered(),
        program(),
        account(1),
        LinkMethod::Code,
        RelinkCooldown::NONE,
        entry(9),
        minutes(30),
    )
    .unwrap();
    let stand_in = in_stream(&claim, 3).fold(stand_in, MemberState::apply);
    let owner = in_stream(&claim, 0).fold(registered(), MemberState::apply);
    assert_eq!((stand_in.balance, owner.balance), (0, 10));

    let command = ReviewHeld {
        award: entry(2),
        decision: ReviewDecision::Approve,
        by: "anna".into(),
        at: minutes(60),
    };
    let events = decide_review(&stand_in, Some(&owner), command.clone()).unwrap();
    let stand_in_after = in_stream(&events, 3).fold(stand_in.clone(), MemberState::apply);
    let owner_after = in_stream(&events, 0).fold(owner, MemberState::apply);
    assert_eq!((stand_in_after.balance, owner_after.balance), (0, 20));
    assert!(events.iter().any(|e| matches!(e,
        Event::PointsMovedIn { entry_id, points: 10, .. } if *entry_id == handover_entry(entry(2)))));
    // Someone who does not hold the account gets nothing.
    assert_eq!(
        refused(decide_review(&stand_in, Some(&registered_as(4)), command)),
        DomainError::IdentityNotLinked(account(1))
    );
}

/// The events of member `n`'s stream.
fn in_stream(events: &[Event], n: u8) -> impl Iterator<Item = &Event> {
    events
        .iter()
        .filter(move |e| e.stream() == domain::StreamId::Member(member(n)))
}

fn registered_as(n: u8) -> MemberState {
    MemberState::fold(&[Event::MemberRegistered {
        member_id: member(n),
        program_id: program(),
        at: t0(),
    }])
}

#[test]
fn review_rules_refuse_zero_limits_and_long_windows() {
    for bad in [
        ReviewRules {
            per_minute: Some(0),
            ..ReviewRules::default()
        },
        ReviewRules {
            per_hour: Some(0),
            ..ReviewRules::default()
        },
        ReviewRules {
            codeword_over: Some(0),
            ..ReviewRules::default()
        },
        ReviewRules {
            new_member_hours: 721,
            ..ReviewRules::default()
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(DomainError::InvalidRules(_))),
            "{bad:?}"
        );
    }
    assert!(ReviewRules::default().validate().is_ok());
}
