//! The member decider: registration, blocking, paying an activity once, reversals, adjustments
//! and compensations.

use super::{accepted, refused};
use crate::common::*;
use domain::Timestamp;

use domain::DomainError;
use domain::event::ReversalReason;
use domain::ids::EntryId;
use domain::member::{Award, AwardLimits, MemberCommand, MemberState};
use domain::network::ActivityRef;
use domain::points::PointsDelta;

pub(super) fn registered() -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(0),
        program_id: program(),
        at: t0(),
    };
    accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    )
}

pub(super) fn award_with(
    entry_id: EntryId,
    activity: ActivityRef,
    n: i64,
    at: Timestamp,
    limits: &AwardLimits,
) -> MemberCommand {
    MemberCommand::Award(Award {
        limits: limits.clone(),
        ..award(entry_id, activity, n, at)
    })
}

fn awarded(state: MemberState, n: u64, points: i64) -> MemberState {
    let command = MemberCommand::Award(award(entry(n), comment(&format!("c{n}")), points, t0()));
    let decision = state.decide(command);
    accepted(state, decision)
}

fn reverse(n: u64) -> MemberCommand {
    let activity = comment(&format!("c{n}"));
    MemberCommand::Reverse {
        entry_id: entry(1000 + n),
        activity,
        reason: ReversalReason::Deleted,
        at: t0(),
    }
}

fn restore(n: u64) -> MemberCommand {
    MemberCommand::Restore {
        entry_id: entry(2000 + n),
        activity: comment(&format!("c{n}")),
        at: t0(),
    }
}

fn adjust(n: u64, delta: i64, reason: &str) -> MemberCommand {
    let delta = PointsDelta::new(delta).expect("a valid delta");
    MemberCommand::Adjust {
        entry_id: entry(n),
        delta,
        reason: reason.into(),
        note: None,
        by: "manager".into(),
        at: t0(),
    }
}

fn compensate(n: u64, target: EntryId, reason: &str) -> MemberCommand {
    let (by, reason) = ("manager".into(), reason.into());
    MemberCommand::Compensate {
        entry_id: entry(n),
        target,
        reason,
        note: None,
        by,
        at: t0(),
    }
}

fn blocked(state: MemberState) -> MemberState {
    let decision = state.decide(MemberCommand::Block {
        reason: "spam".into(),
        by: "m".into(),
        at: t0(),
    });
    accepted(state, decision)
}

pub(super) fn step(state: MemberState, command: MemberCommand) -> MemberState {
    let decision = state.decide(command);
    accepted(state, decision)
}

#[test]
fn registering_twice_is_refused() {
    let again = MemberCommand::Register {
        member_id: member(0),
        program_id: program(),
        at: t0(),
    };
    assert_eq!(
        refused(registered().decide(again)),
        DomainError::AlreadyRegistered
    );
}

#[test]
fn an_unregistered_member_can_do_nothing() {
    let nobody = MemberState::default();
    let commands = [
        MemberCommand::Award(award(entry(1), comment("c1"), 10, t0())),
        reverse(1),
        restore(1),
        adjust(1, 10, "welcome"),
        compensate(2, entry(1), "mistake"),
        MemberCommand::Block {
            reason: "spam".into(),
            by: "m".into(),
            at: t0(),
        },
        MemberCommand::Unblock {
            by: "m".into(),
            at: t0(),
        },
    ];
    for command in commands {
        assert_eq!(
            refused(nobody.decide(command)),
            DomainError::MemberNotRegistered
        );
    }
}

#[test]
fn a_blocked_member_earns_nothing_until_unblocked() {
    let state = blocked(registered());
    let award_c1 = || MemberCommand::Award(award(entry(1), comment("c1"), 10, t0()));
    assert_eq!(
        refused(state.decide(award_c1())),
        DomainError::MemberBlocked(member(0))
    );
    let state = step(
        state,
        MemberCommand::Unblock {
            by: "m".into(),
            at: t0(),
        },
    );
    assert_eq!(step(state, award_c1()).balance, 10);
}

#[test]
fn a_blocked_member_cannot_have_an_award_restored() {
    let state = step(awarded(registered(), 1, 10), reverse(1));
    assert_eq!(
        refused(blocked(state).decide(restore(1))),
        DomainError::MemberBlocked(member(0))
    );
}

#[test]
fn blocking_and_unblocking_are_idempotent() {
    let state = blocked(registered());
    let again = MemberCommand::Block {
        reason: "spam".into(),
        by: "m".into(),
        at: t0(),
    };
    assert_eq!(state.decide(again), Ok(vec![]));
    assert_eq!(
        registered().decide(MemberCommand::Unblock {
            by: "m".into(),
            at: t0()
        }),
        Ok(vec![])
    );
}

#[test]
fn one_activity_is_paid_once() {
    let state = awarded(registered(), 1, 10);
    let again = MemberCommand::Award(award(entry(2), comment("c1"), 10, t0()));
    assert_eq!(refused(state.decide(again)), DomainError::DuplicateActivity);
}

#[test]
fn an_award_that_was_not_reversed_cannot_be_restored() {
    let state = awarded(registered(), 1, 10);
    assert_eq!(
        refused(state.decide(restore(1))),
        DomainError::DuplicateActivity
    );
}

#[test]
fn reversing_an_unknown_activity_is_not_found() {
    assert_eq!(
        refused(registered().decide(reverse(1))),
        DomainError::NotFound
    );
    assert_eq!(
        refused(registered().decide(restore(1))),
        DomainError::NotFound
    );
}

#[test]
fn an_award_is_reversed_once_until_restored() {
    let state = step(awarded(registered(), 1, 10), reverse(1));
    assert_eq!(state.balance, 0);
    assert_eq!(
        refused(state.decide(reverse(1))),
        DomainError::AlreadyCompensated(entry(1))
    );
    let state = step(step(state, restore(1)), reverse(1));
    assert_eq!(state.balance, 0);
}

#[test]
fn a_compensated_award_cannot_be_reversed_and_a_reversed_one_cannot_be_compensated() {
    let state = step(
        awarded(registered(), 1, 10),
        compensate(5, entry(1), "mistake"),
    );
    assert_eq!(
        refused(state.decide(reverse(1))),
        DomainError::AlreadyCompensated(entry(1))
    );
    let state = step(awarded(registered(), 1, 10), reverse(1));
    let decision = state.decide(compensate(5, entry(1), "mistake"));
    assert_eq!(refused(decision), DomainError::AlreadyCompensated(entry(1)));
}

#[test]
fn an_entry_is_compensated_once_and_exactly() {
    let state = step(registered(), adjust(1, 40, "welcome"));
    let state = step(state, compensate(2, entry(1), "typo"));
    assert_eq!(state.balance, 0);
    let decision = state.decide(compensate(3, entry(1), "typo"));
    assert_eq!(refused(decision), DomainError::AlreadyCompensated(entry(1)));
}

#[test]
fn only_known_balance_entries_can_be_compensated() {
    let state = step(
        awarded(registered(), 1, 10),
        compensate(2, entry(1), "mistake"),
    );
    for unknown in [entry(99), entry(2)] {
        let decision = state.decide(compensate(3, unknown, "mistake"));
        assert_eq!(refused(decision), DomainError::EntryNotFound(unknown));
    }
}

#[test]
fn a_negative_adjustment_cannot_overdraw() {
    let state = awarded(registered(), 1, 30);
    let expected = DomainError::InsufficientBalance {
        balance: 30,
        needed: 31,
    };
    assert_eq!(refused(state.decide(adjust(2, -31, "fraud"))), expected);
    assert_eq!(step(state, adjust(2, -30, "fraud")).balance, 0);
}

#[test]
fn manual_changes_need_a_reason() {
    let state = awarded(registered(), 1, 30);
    assert_eq!(
        refused(state.decide(adjust(2, 5, "  "))),
        DomainError::ReasonRequired
    );
    assert_eq!(
        refused(state.decide(compensate(2, entry(1), ""))),
        DomainError::ReasonRequired
    );
    let block = MemberCommand::Block {
        reason: "\n".into(),
        by: "m".into(),
        at: t0(),
    };
    assert_eq!(refused(state.decide(block)), DomainError::ReasonRequired);
}

/// The reason stays for managers; the note, trimmed, is what the member is told, and a blank
/// note is none. A note never stands in for the reason.
#[test]
fn an_adjustment_keeps_its_reason_and_an_optional_note_apart() {
    let adjust_noted = |reason: &str, note: &str| MemberCommand::Adjust {
        entry_id: entry(1),
        delta: PointsDelta::new(5).expect("a valid delta"),
        reason: reason.into(),
        note: Some(note.into()),
        by: "manager".into(),
        at: t0(),
    };
    let recorded = |command| match registered().decide(command) {
        Ok(events) => match events.as_slice() {
            [domain::Event::PointsAdjusted { reason, note, .. }] => (reason.clone(), note.clone()),
            other => panic!("{other:?}"),
        },
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        recorded(adjust_noted(" Спам: не по теме ", "  Подарок  ")),
        ("Спам: не по теме".to_string(), Some("Подарок".to_string()))
    );
    assert_eq!(
        recorded(adjust_noted("goodwill", "   ")),
        ("goodwill".to_string(), None)
    );
    let decision = registered().decide(adjust_noted("  ", "Подарок"));
    assert_eq!(refused(decision), DomainError::ReasonRequired);
}

/// An award of `points` for comment `c{n}` made at minute `minute`.
fn awarded_at(state: MemberState, n: u64, points: i64, minute: i64) -> MemberState {
    let command = MemberCommand::Award(award(
        entry(n),
        comment(&format!("c{n}")),
        points,
        minutes(minute),
    ));
    let decision = state.decide(command);
    accepted(state, decision)
}

fn compensate_awards(run: u128, from: i64, until: i64) -> MemberCommand {
    MemberCommand::CompensateAwards {
        run_id: uuid::Uuid::from_u128(run),
        from: minutes(from),
        until: minutes(until),
        reason: "account farm".into(),
        note: None,
        by: "manager".into(),
        at: t0(),
    }
}

#[test]
fn a_range_of_awards_is_netted_once_each_leaving_the_rest() {
    let state = awarded_at(registered(), 1, 10, 5);
    let state = awarded_at(state, 2, 20, 20);
    let state = awarded_at(state, 3, 30, 30);
    let state = awarded_at(state, 4, 40, 40);
    let state = step(state, reverse(2));
    let state = step(state, adjust(9, 7, "welcome"));
    let balance = state.balance;
    let events = state.decide(compensate_awards(1, 10, 40)).unwrap();
    let netted: Vec<(Option<EntryId>, i64)> = events
        .iter()
        .map(|e| match e {
            domain::Event::PointsAdjusted {
                compensates, delta, ..
            } => (*compensates, *delta),
            other => panic!("not a compensation: {other:?}"),
        })
        .collect();
    // Award 1 is before the range, 2 was reversed by the platform, 4 is at its end.
    assert_eq!(netted, [(Some(entry(3)), -30)]);
    let state = step(state, compensate_awards(1, 10, 40));
    assert_eq!(state.balance, balance - 30);
    let again = state.decide(compensate_awards(2, 0, 60)).unwrap();
    let targets: Vec<_> = again
        .iter()
        .map(|e| match e {
            domain::Event::PointsAdjusted { compensates, .. } => *compensates,
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [Some(entry(1)), Some(entry(4))],
        "3 is netted already"
    );
    let state = step(state, compensate_awards(2, 0, 60));
    assert_eq!(state.decide(compensate_awards(3, 0, 60)).unwrap(), vec![]);
    assert_eq!(
        refused(state.decide(compensate_awards(4, 60, 60))),
        DomainError::InvalidPeriod
    );
}
