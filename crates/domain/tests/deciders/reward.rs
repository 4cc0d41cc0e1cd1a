//! The reward decider and redemptions across the reward and member streams.

use super::{accepted, refused};
use crate::common::*;
use domain::DomainError;
use domain::Event;
use domain::member::{MemberCommand, MemberState};
use domain::reward::{
    CancelRedemption, MAX_CODE_LEN, MAX_CODES_PER_UPLOAD, Redeem, RewardCommand, RewardState,
    RewardTerms, UseCoupon, decide_cancel_redemption, decide_redeem, decide_use_coupon,
};

fn listed(n: u8, cost: i64, stock: u32) -> RewardState {
    let list = RewardCommand::List {
        reward_id: reward(n),
        program_id: program(),
        title: "Mug".into(),
        cost: points(cost),
        stock,
        terms: RewardTerms::default(),
        by: "manager".into(),
        at: t0(),
    };
    accepted(RewardState::default(), RewardState::default().decide(list))
}

/// A coupon pool holding `codes`, alerting at `alert` units.
fn pool(codes: &[&str], return_codes: bool, alert: Option<u32>) -> RewardState {
    let list = RewardCommand::List {
        reward_id: reward(0),
        program_id: program(),
        title: "10% off online".into(),
        cost: points(30),
        stock: 0,
        terms: RewardTerms {
            coupon_pool: true,
            return_codes,
            low_stock_alert: alert,
        },
        by: "manager".into(),
        at: t0(),
    };
    let listed = accepted(RewardState::default(), RewardState::default().decide(list));
    accepted(listed.clone(), listed.decide(add(codes)))
}

fn add(codes: &[&str]) -> RewardCommand {
    RewardCommand::AddCodes {
        codes: codes.iter().map(|c| c.to_string()).collect(),
        by: "manager".into(),
        at: t0(),
    }
}

fn use_coupon(n: u64) -> UseCoupon {
    UseCoupon {
        redemption_id: redemption(n),
        by: "shop:till-1".into(),
        at: t0(),
    }
}

/// Applies a decision's events to both states.
fn apply(events: &[Event], reward: RewardState, member: MemberState) -> (RewardState, MemberState) {
    (
        events.iter().fold(reward, |s, e| s.evolve(e)),
        events.iter().fold(member, |s, e| s.evolve(e)),
    )
}

#[test]
fn a_pool_issues_its_codes_in_upload_order_and_its_stock_is_what_is_left() {
    let reward = pool(&["A1", "B2", "C3"], false, None);
    assert_eq!(reward.stock, 3);
    let (reward, member) = redeemed(reward, holding(100), 1);
    let (reward, member) = redeemed(reward, member, 2);
    let codes: Vec<&str> = [1, 2]
        .iter()
        .map(|n| member.redemptions[&redemption(*n)].coupon_code.as_str())
        .collect();
    assert_eq!(codes, ["A1", "B2"], "the generated code is not used");
    assert_eq!(reward.stock, 1);
    assert_eq!(reward.pool.as_ref().unwrap().unused, ["C3"]);
}

#[test]
fn an_upload_adds_only_codes_new_to_the_pool() {
    let codes = pool(&["A1", "B2"], false, None);
    let again = codes.decide(add(&["B2", "C3", "C3", "A1"])).unwrap();
    assert_eq!(
        again,
        [Event::RewardCodesAdded {
            reward_id: reward(0),
            codes: vec!["C3".into()],
            by: "manager".into(),
            at: t0(),
        }]
    );
    let (codes, _) = redeemed(codes, holding(100), 1);
    // An issued code is still known: uploading it again does not issue it twice.
    assert_eq!(codes.decide(add(&["A1"])).unwrap(), []);
}

#[test]
fn a_pool_refuses_bad_codes_oversized_uploads_and_stock_changes() {
    let reward = pool(&["A1"], false, None);
    assert_eq!(
        refused(reward.decide(add(&["OK", "has space"]))),
        DomainError::InvalidCode("has space".into())
    );
    assert_eq!(
        refused(reward.decide(add(&[""]))),
        DomainError::InvalidCode(String::new())
    );
    let long = "x".repeat(MAX_CODE_LEN + 1);
    assert!(matches!(
        refused(reward.decide(add(&[long.as_str()]))),
        DomainError::InvalidCode(_)
    ));
    let many: Vec<String> = (0..=MAX_CODES_PER_UPLOAD)
        .map(|n| format!("C{n}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        refused(reward.decide(add(&many))),
        DomainError::TooManyCodes(MAX_CODES_PER_UPLOAD)
    );
    let change = RewardCommand::ChangeStock {
        delta: 5,
        by: "m".into(),
        at: t0(),
    };
    assert_eq!(refused(reward.decide(change)), DomainError::CouponPoolStock);
    assert_eq!(
        refused(listed(0, 30, 2).decide(add(&["A1"]))),
        DomainError::NotACouponPool
    );
}

#[test]
fn an_empty_pool_is_out_of_stock() {
    let (reward, member) = redeemed(pool(&["A1"], false, None), holding(100), 1);
    assert_eq!(
        refused(decide_redeem(&reward, &member, redeem(2))),
        DomainError::RewardOutOfStock
    );
}

#[test]
fn a_cancelled_pool_code_returns_only_if_the_reward_says_so() {
    for (return_codes, unused, stock) in [(true, vec!["B2", "A1"], 2), (false, vec!["B2"], 1)] {
        let (reward, member) = redeemed(pool(&["A1", "B2"], return_codes, None), holding(100), 1);
        let events = decide_cancel_redemption(&reward, &member, cancel(1, "wrong size")).unwrap();
        let (reward, member) = apply(&events, reward, member);
        assert_eq!(member.balance, 100, "the points always come back");
        assert_eq!(reward.stock, stock);
        assert_eq!(reward.pool.unwrap().unused, unused);
    }
}

#[test]
fn a_coupon_is_used_once_and_a_used_one_is_not_cancelled() {
    let (shop, holder) = redeemed(pool(&["A1"], true, None), holding(100), 1);
    let events = decide_use_coupon(&holder, use_coupon(1)).unwrap();
    assert_eq!(
        events,
        [Event::CouponUsed {
            member_id: member(0),
            redemption_id: redemption(1),
            reward_id: reward(0),
            by: "shop:till-1".into(),
            at: t0(),
        }]
    );
    let (shop, holder) = apply(&events, shop, holder);
    assert_eq!(
        refused(decide_use_coupon(&holder, use_coupon(1))),
        DomainError::CouponAlreadyUsed(t0())
    );
    assert_eq!(
        refused(decide_cancel_redemption(&shop, &holder, cancel(1, "late"))),
        DomainError::CouponAlreadyUsed(t0())
    );
    assert_eq!(
        refused(decide_use_coupon(&holder, use_coupon(2))),
        DomainError::RedemptionNotFound
    );
}

#[test]
fn a_cancelled_coupon_cannot_be_used() {
    let (reward, member) = redeemed(listed(0, 30, 2), holding(100), 1);
    let events = decide_cancel_redemption(&reward, &member, cancel(1, "broken")).unwrap();
    let (_, member) = apply(&events, reward, member);
    assert_eq!(
        refused(decide_use_coupon(&member, use_coupon(1))),
        DomainError::CouponCancelled
    );
}

#[test]
fn stock_falling_to_the_threshold_alerts_once() {
    let (shop, holder) = redeemed(
        pool(&["A", "B", "C", "D"], false, Some(2)),
        holding(1_000),
        1,
    );
    let second = decide_redeem(&shop, &holder, redeem(2)).unwrap();
    assert_eq!(
        second.last(),
        Some(&Event::RewardStockLow {
            reward_id: reward(0),
            stock: 2,
            threshold: 2,
            at: t0(),
        })
    );
    let (shop, holder) = apply(&second, shop, holder);
    let third = decide_redeem(&shop, &holder, redeem(3)).unwrap();
    assert_eq!(third.len(), 2, "already below: no second alert");
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
        terms: RewardTerms::default(),
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
        terms: RewardTerms::default(),
        by: "m".into(),
        at: t0(),
    });
    assert!(matches!(refused(untitled), DomainError::InvalidRules(_)));
}
