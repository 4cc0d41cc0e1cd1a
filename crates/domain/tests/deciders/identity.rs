//! Linking external accounts: the identity stream guards that one account has one member.

use super::{accepted, refused};
use crate::common::*;
use domain::DomainError;
use domain::event::LinkMethod;
use domain::identity::{
    IdentityState, RelinkCooldown, decide_link, decide_register_observed, decide_unlink,
};
use domain::member::{MemberCommand, MemberState};
use domain::{Aggregate, Event};

fn registered(n: u8) -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(n),
        program_id: program(),
        at: t0(),
    };
    accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    )
}

fn link(identity: &IdentityState, member: &MemberState) -> Result<Vec<Event>, DomainError> {
    decide_link(
        identity,
        member,
        program(),
        account(1),
        LinkMethod::Code,
        RelinkCooldown::NONE,
        t0(),
    )
}

fn unlink(identity: &IdentityState, member: &MemberState) -> Result<Vec<Event>, DomainError> {
    decide_unlink(identity, member, program(), account(1), t0())
}

/// Member `n` with account 1 linked, and the account's identity stream.
fn linked_to(n: u8) -> (IdentityState, MemberState) {
    let events = link(&IdentityState::default(), &registered(n)).expect("linked");
    (
        IdentityState::fold(&events),
        events.iter().fold(registered(n), |s, e| s.evolve(e)),
    )
}

#[test]
fn an_account_claimed_by_one_member_is_refused_to_another() {
    let (identity, _) = linked_to(0);
    assert_eq!(
        refused(link(&identity, &registered(1))),
        DomainError::IdentityAlreadyClaimed(account(1))
    );
}

#[test]
fn linking_ones_own_account_again_changes_nothing() {
    let (identity, member) = linked_to(0);
    assert_eq!(link(&identity, &member), Ok(vec![]));
}

#[test]
fn an_unlinked_account_can_be_claimed_by_another_member() {
    let (identity, member) = linked_to(0);
    let events = unlink(&identity, &member).expect("unlinked");
    let released = events.iter().fold(identity, IdentityState::apply);
    assert_eq!(released.claimed_by, None);
    assert!(
        !events
            .iter()
            .fold(member, MemberState::apply)
            .linked
            .contains(&account(1))
    );
    assert!(link(&released, &registered(1)).is_ok());
}

/// Account 1 linked to member 0 at t0 and given up at `minutes(released)`.
fn given_up_by_0(released: i64) -> IdentityState {
    let (identity, member) = linked_to(0);
    let events = decide_unlink(&identity, &member, program(), account(1), minutes(released))
        .expect("unlinked");
    events.iter().fold(identity, IdentityState::apply)
}

fn link_within(
    identity: &IdentityState,
    member: &MemberState,
    cooldown: RelinkCooldown,
    at: domain::Timestamp,
) -> Result<Vec<Event>, DomainError> {
    let method = LinkMethod::Code;
    decide_link(
        identity,
        member,
        program(),
        account(1),
        method,
        cooldown,
        at,
    )
}

#[test]
fn an_account_given_up_is_closed_to_other_members_until_the_cooldown_ends() {
    let released = given_up_by_0(10);
    let week = RelinkCooldown::days(7);
    let until = minutes(10) + chrono::TimeDelta::days(7);
    assert_eq!(
        refused(link_within(&released, &registered(1), week, minutes(11))),
        DomainError::RelinkCooldown {
            account: account(1),
            until
        }
    );
    let just_before = until - chrono::TimeDelta::microseconds(1);
    assert!(link_within(&released, &registered(1), week, just_before).is_err());
    assert!(link_within(&released, &registered(1), week, until).is_ok());
    // No cooldown, or a manager's link: at once.
    assert!(link_within(&released, &registered(1), RelinkCooldown::NONE, minutes(11)).is_ok());
}

#[test]
fn the_member_who_gave_an_account_up_may_take_it_back_at_once() {
    let released = given_up_by_0(10);
    let back = link_within(
        &released,
        &registered(0),
        RelinkCooldown::days(7),
        minutes(11),
    );
    assert!(back.is_ok(), "{back:?}");
}

#[test]
fn an_account_observed_after_it_was_given_up_is_claimed_only_after_the_cooldown() {
    // The account keeps earning for a stand-in of its own meanwhile; the stand-in is claimed
    // by proving ownership, and the cooldown holds there too.
    let released = given_up_by_0(10);
    let seen = observe(&released, &MemberState::default(), 3).expect("observed");
    let identity = seen.iter().fold(released, IdentityState::apply);
    let stand_in = MemberState::fold(&seen);
    let claim = |owner: u8, at| {
        domain::identity::decide_claim_observed(
            &identity,
            &stand_in,
            &registered(owner),
            program(),
            account(1),
            LinkMethod::Code,
            RelinkCooldown::days(1),
            entry(9),
            at,
        )
    };
    assert!(matches!(
        claim(1, minutes(60)),
        Err(DomainError::RelinkCooldown { .. })
    ));
    assert!(
        claim(0, minutes(60)).is_ok(),
        "its last owner takes it back"
    );
    assert!(claim(1, minutes(10) + chrono::TimeDelta::days(1)).is_ok());
}

#[test]
fn only_the_owner_unlinks_an_account() {
    let (identity, _) = linked_to(0);
    assert_eq!(
        refused(unlink(&identity, &registered(1))),
        DomainError::IdentityNotLinked(account(1))
    );
    let unclaimed = unlink(&IdentityState::default(), &registered(0));
    assert_eq!(
        refused(unclaimed),
        DomainError::IdentityNotLinked(account(1))
    );
}

#[test]
fn an_unregistered_member_links_nothing() {
    let nobody = MemberState::default();
    assert_eq!(
        refused(link(&IdentityState::default(), &nobody)),
        DomainError::MemberNotRegistered
    );
    let (identity, _) = linked_to(0);
    assert_eq!(
        refused(unlink(&identity, &nobody)),
        DomainError::MemberNotRegistered
    );
}

/// Activity from account 1, which would register member `n` to hold it.
fn observe(
    identity: &IdentityState,
    holder: &MemberState,
    n: u8,
) -> Result<Vec<Event>, DomainError> {
    decide_register_observed(identity, holder, program(), member(n), account(1), t0())
}

#[test]
fn an_unclaimed_account_seen_first_gets_a_member_of_its_own() {
    let events = observe(&IdentityState::default(), &MemberState::default(), 3).expect("observed");
    let holder = MemberState::fold(&events);
    assert_eq!(holder.member_id, Some(member(3)));
    assert!(holder.linked.contains(&account(1)));
    assert_eq!(IdentityState::fold(&events).claimed_by, Some(member(3)));
}

#[test]
fn a_claimed_account_or_a_registered_member_is_not_observed_again() {
    let (identity, _) = linked_to(0);
    assert_eq!(observe(&identity, &MemberState::default(), 3), Ok(vec![]));
    assert_eq!(
        observe(&IdentityState::default(), &registered(3), 3),
        Ok(vec![])
    );
}
