//! The reward decider and redemptions across the reward and member streams.

use super::{accepted, refused};
use crate::common::*;
use domain::DomainError;
use domain::member::{MemberCommand, MemberState};
use domain::reward::{
    CancelRedemption, Redeem, RewardCommand, RewardState, decide_cancel_redemption, decide_redeem,
};

fn listed(n: u8, cost: i64, stock: u32) -> RewardState {
    let list = RewardCommand::List {
        reward_id: reward(n),
        program_id: program(),
        title: "Mug".into(),
        cost: points(cost),
        stock,
        by: "manager".into(),
        at: t0(),
    };
    accepted(RewardState::default(), RewardState::default().decide(list))
}

/// A registered member holding `balance` points.
fn holding(balance: i64) -> MemberState {
    let register = MemberCommand::Register {
        member_id: member(0),
        program_id: program(),
        at: t0(),
    };
    let state = accepted(
        MemberState::default(),
        MemberState::default().decide(register),
    );
    let gift = MemberCommand::Award(award(entry(1), comment("c1"), balance, t0()));
    let decision = state.decide(gift);
    accepted(state, decision)
}

fn redeem(n: u64) -> Redeem {
    Redeem {
        entry_id: entry(100 + n),
        redemption_id: redemption(n),
        coupon_code: format!("C{n}"),
        at: t0(),
    }
}

fn cancel(n: u64, reason: &str) -> CancelRedemption {
    CancelRedemption {
        entry_id: entry(200 + n),
        redemption_id: redemption(n),
        reason: reason.into(),
        by: "manager".into(),
        at: t0(),
    }
}

/// Redeems `n` and returns both states after it.
fn redeemed(reward: RewardState, member: MemberState, n: u64) -> (RewardState, MemberState) {
    let events = decide_redeem(&reward, &member, redeem(n)).expect("redeemed");
    (
        events.iter().fold(reward, |s, e| s.evolve(e)),
        events.iter().fold(member, |s, e| s.evolve(e)),
    )
}

#[test]
fn redeeming_spends_points_and_one_unit_of_stock() {
    let (reward, member) = redeemed(listed(0, 30, 2), holding(100), 1);
    assert_eq!((member.balance, member.spent, reward.stock), (70, 30, 1));
}

#[test]
fn a_redemption_needs_the_full_cost() {
    let decision = decide_redeem(&listed(0, 30, 2), &holding(29), redeem(1));
    assert_eq!(
        refused(decision),
        DomainError::InsufficientBalance {
            balance: 29,
            needed: 30
        }
    );
    assert!(decide_redeem(&listed(0, 30, 2), &holding(30), redeem(1)).is_ok());
}

#[test]
fn an_empty_or_delisted_reward_is_refused() {
    let empty = decide_redeem(&listed(0, 30, 0), &holding(100), redeem(1));
    assert_eq!(refused(empty), DomainError::RewardOutOfStock);
    let reward = listed(0, 30, 2);
    let delist = reward.decide(RewardCommand::Delist {
        by: "m".into(),
        at: t0(),
    });
    let delisted = accepted(reward, delist);
    let decision = decide_redeem(&delisted, &holding(100), redeem(1));
    assert_eq!(refused(decision), DomainError::RewardNotAvailable);
}

#[test]
fn a_redemption_id_is_used_once() {
    let (reward, member) = redeemed(listed(0, 30, 2), holding(100), 1);
    assert_eq!(
        refused(decide_redeem(&reward, &member, redeem(1))),
        DomainError::AlreadyExists
    );
}

#[test]
fn only_a_registered_active_member_redeems_a_listed_reward() {
    let unknown = decide_redeem(&RewardState::default(), &holding(100), redeem(1));
    assert_eq!(refused(unknown), DomainError::NotFound);
    let nobody = decide_redeem(&listed(0, 30, 2), &MemberState::default(), redeem(1));
    assert_eq!(refused(nobody), DomainError::MemberNotRegistered);
    let block = MemberCommand::Block {
        reason: "spam".into(),
        by: "m".into(),
        at: t0(),
    };
    let blocked = accepted(holding(100), holding(100).decide(block));
    let decision = decide_redeem(&listed(0, 30, 2), &blocked, redeem(1));
    assert_eq!(refused(decision), DomainError::MemberBlocked(member(0)));
}

#[test]
fn cancelling_refunds_once_and_returns_the_unit() {
    let (reward, member) = redeemed(listed(0, 30, 2), holding(100), 1);
    let events =
        decide_cancel_redemption(&reward, &member, cancel(1, "broken")).expect("cancelled");
    let reward = events.iter().fold(reward, |s, e| s.evolve(e));
    let member = events.iter().fold(member, |s, e| s.evolve(e));
    assert_eq!((member.balance, member.spent, reward.stock), (100, 0, 2));
    let again = decide_cancel_redemption(&reward, &member, cancel(1, "broken"));
    assert_eq!(refused(again), DomainError::RedemptionNotFound);
}

#[test]
fn cancelling_an_unknown_or_foreign_redemption_is_refused() {
    let (reward, member) = redeemed(listed(0, 30, 2), holding(100), 1);
    let unknown = decide_cancel_redemption(&reward, &member, cancel(2, "broken"));
    assert_eq!(refused(unknown), DomainError::RedemptionNotFound);
    let other_reward = decide_cancel_redemption(&listed(1, 30, 2), &member, cancel(1, "broken"));
    assert_eq!(refused(other_reward), DomainError::RedemptionNotFound);
    let no_reason = decide_cancel_redemption(&reward, &member, cancel(1, " "));
    assert_eq!(refused(no_reason), DomainError::ReasonRequired);
}

#[test]
fn stock_changes_are_non_zero_and_never_below_zero() {
    let reward = listed(0, 30, 2);
    let change = |delta| RewardCommand::ChangeStock {
        delta,
        by: "m".into(),
        at: t0(),
    };
    assert_eq!(
        refused(reward.decide(change(0))),
        DomainError::InvalidAmount(0)
    );
    assert_eq!(
        refused(reward.decide(change(-3))),
        DomainError::RewardOutOfStock
    );
    assert_eq!(accepted(reward.clone(), reward.decide(change(-2))).stock, 0);
    let unknown = RewardState::default().decide(change(1));
    assert_eq!(refused(unknown), DomainError::NotFound);
}

#[test]
fn a_reward_is_listed_once_with_a_title() {
    let again = listed(0, 30, 2).decide(RewardCommand::List {
        reward_id: reward(0),
        program_id: program(),
        title: "Mug".into(),
        cost: points(30),
        stock: 1,
        by: "m".into(),
        at: t0(),
    });
    assert_eq!(refused(again), DomainError::AlreadyExists);
    let untitled = RewardState::default().decide(RewardCommand::List {
        reward_id: reward(0),
        program_id: program(),
        title: " ".into(),
        cost: points(30),
        stock: 1,
        by: "m".into(),
        at: t0(),
    });
    assert!(matches!(refused(untitled), DomainError::InvalidRules(_)));
}
