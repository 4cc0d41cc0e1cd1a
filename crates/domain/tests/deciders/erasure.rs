//! Erasing a member: one `MemberErased` event, the balance and history stay, the accounts are
//! gone from the state, every later command is refused, and erasing again changes nothing.

use super::member::registered;
use super::{accepted, refused};
use crate::common::*;
use domain::DomainError;
use domain::event::{Eraser, ErasureReason, LinkMethod};
use domain::identity::{IdentityState, RelinkCooldown, decide_link};
use domain::member::{MemberCommand, MemberState};

fn erase() -> MemberCommand {
    MemberCommand::Erase {
        by: Eraser::Manager { by: "admin".into() },
        reason: ErasureReason::ManagerRequest,
        at: minutes(5),
    }
}

fn linked_with_points() -> MemberState {
    let member = registered();
    let member = accepted(
        member.clone(),
        decide_link(
            &IdentityState::default(),
            &member,
            program(),
            account(1),
            LinkMethod::Telegram,
            RelinkCooldown::NONE,
            t0(),
        ),
    );
    accepted(
        member.clone(),
        member.decide(MemberCommand::Award(award(
            entry(1),
            comment("c1"),
            7,
            t0(),
        ))),
    )
}

#[test]
fn erasure_keeps_the_balance_and_forgets_the_accounts() {
    let before = linked_with_points();
    assert!(before.linked.contains(&account(1)));
    let events = before.decide(erase()).expect("erasable");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "MemberErased");
    let after = accepted(before.clone(), Ok(events));
    assert!(after.erased);
    assert!(after.linked.is_empty() && after.observed_account.is_none());
    assert_eq!(
        (after.balance, after.earned),
        (before.balance, before.earned)
    );
}

#[test]
fn erasing_again_is_a_no_op() {
    let erased = accepted(linked_with_points(), linked_with_points().decide(erase()));
    assert_eq!(erased.decide(erase()), Ok(vec![]));
}

#[test]
fn an_erased_member_accepts_nothing_more() {
    let erased = accepted(linked_with_points(), linked_with_points().decide(erase()));
    let award = MemberCommand::Award(award(entry(2), comment("c2"), 5, minutes(6)));
    assert_eq!(refused(erased.decide(award)), DomainError::MemberErased);
    let link = decide_link(
        &IdentityState::default(),
        &erased,
        program(),
        account(2),
        LinkMethod::Code,
        RelinkCooldown::NONE,
        minutes(6),
    );
    assert_eq!(refused(link), DomainError::MemberErased);
}

#[test]
fn an_unregistered_member_cannot_be_erased() {
    assert_eq!(
        refused(MemberState::default().decide(erase())),
        DomainError::MemberNotRegistered
    );
}
