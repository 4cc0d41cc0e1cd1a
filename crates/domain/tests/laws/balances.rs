//! A balance is the sum of its point deltas, and only corrections of points already spent can
//! take it below zero.

use crate::common::generators::{history, setup};
use crate::common::ledger::{MEMBERS, RewardSpec, Setup};
use crate::common::{Ledger, Step, comment, member, no_limits, reward};
use domain::Event;
use domain::event::ReversalReason;
use domain::folds::Balances;
use domain::ids::MemberId;
use proptest::prelude::*;
use std::collections::HashMap;

fn balances_of(log: &[Event]) -> Balances {
    let mut balances = Balances::default();
    log.iter().for_each(|e| balances.apply(e));
    balances
}

fn sum_of_deltas(log: &[Event], member_id: MemberId) -> i64 {
    log.iter()
        .filter_map(Event::balance_delta)
        .filter(|(m, _)| *m == member_id)
        .map(|(_, d)| d)
        .sum()
}

/// A reward's stock read off the setup and the log: listed, changed, issued and returned.
fn stock_of(ledger: &Ledger, r: u8) -> i64 {
    let listed = ledger
        .setup
        .rewards
        .get(usize::from(r))
        .map_or(0, |spec| i64::from(spec.stock));
    let moves = ledger.log.iter().map(|e| match e {
        Event::RewardStockChanged {
            reward_id, delta, ..
        } if *reward_id == reward(r) => i64::from(*delta),
        Event::RewardIssued { reward_id, .. } if *reward_id == reward(r) => -1,
        Event::RewardReturned { reward_id, .. } if *reward_id == reward(r) => 1,
        _ => 0,
    });
    listed + moves.sum::<i64>()
}

/// Whether the member may spend on the step: redeem a unit, or take points off by hand.
fn may_spend(ledger: &Ledger, step: &Step) -> Option<bool> {
    let (m, needed) = match *step {
        Step::Redeem { member, reward } => {
            let spec = ledger.setup.rewards.get(usize::from(reward))?;
            let in_stock = stock_of(ledger, reward) > 0;
            (member, if in_stock { spec.cost } else { i64::MAX })
        }
        Step::Adjust { member, delta } if delta < 0 => (member, -delta),
        _ => return None,
    };
    let state = ledger.member(m);
    let active = state.is_registered() && (!state.blocked || matches!(step, Step::Adjust { .. }));
    Some(active && sum_of_deltas(&ledger.log, member(m)) >= needed)
}

/// The events allowed to leave a balance below zero: taking back points that may be spent.
fn may_overdraw(event: &Event) -> bool {
    matches!(
        event,
        Event::PointsReversed { .. }
            | Event::PointsAdjusted {
                compensates: Some(_),
                ..
            }
    )
}

proptest! {
    /// The other side of never overdrawing: a member who can pay is never refused.
    #[test]
    fn spending_is_accepted_exactly_when_the_balance_covers_it(
        setup in setup(),
        steps in history(),
    ) {
        let mut ledger = Ledger::new(setup);
        for step in &steps {
            let expected = may_spend(&ledger, step);
            let outcome = ledger.run(step);
            if let Some(expected) = expected {
                prop_assert_eq!(outcome.is_ok(), expected, "{:?} gave {:?}", step, outcome);
            }
        }
    }

    #[test]
    fn balance_is_the_sum_of_point_deltas(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        let balances = balances_of(&ledger.log);
        for m in 0..MEMBERS {
            let state = ledger.member(m);
            let folded = balances.0.get(&member(m)).copied().unwrap_or_default();
            prop_assert_eq!(state.balance, sum_of_deltas(&ledger.log, member(m)));
            prop_assert_eq!(folded.current, state.balance);
            prop_assert_eq!(folded.earned, state.earned);
            prop_assert_eq!(folded.spent, state.spent);
            prop_assert_eq!(folded.expired, state.expired);
            prop_assert_eq!(state.earned - state.spent - state.expired, state.balance);
        }
    }

    /// Redemptions and plain negative adjustments are checked against the balance; only a
    /// reversal or a compensation (of points the member may already have spent) can overdraw.
    #[test]
    fn only_reversals_and_compensations_take_a_balance_below_zero(
        setup in setup(),
        steps in history(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let mut running: HashMap<MemberId, i64> = HashMap::new();
        for event in &ledger.log {
            let Some((member_id, delta)) = event.balance_delta() else { continue };
            let balance = running.entry(member_id).or_default();
            if let Event::RewardRedeemed { cost, .. } = event {
                prop_assert!(*balance >= *cost, "redeemed {} with only {}", cost, balance);
            }
            *balance += delta;
            if delta < 0 && *balance < 0 {
                prop_assert!(may_overdraw(event), "{:?} left a balance of {}", event, balance);
            }
        }
    }

    #[test]
    fn a_reward_is_never_issued_beyond_its_stock(setup in setup(), steps in history()) {
        let ledger = Ledger::run_all(setup, &steps);
        for (n, state) in &ledger.rewards {
            prop_assert!(state.stock >= 0, "reward {} has stock {}", n, state.stock);
        }
    }
}

/// Member 0 earned 100 points for comment "c1" and spent them all on reward 0.
fn spent_everything() -> Ledger {
    let setup = Setup {
        limits: no_limits(),
        repeats: domain::text::RepeatedText::EarnsOnce,
        relink_cooldown: domain::identity::RelinkCooldown::NONE,
        campaigns: Vec::new(),
        rewards: vec![RewardSpec {
            cost: 100,
            stock: 1,
        }],
    };
    let mut ledger = Ledger::new(setup);
    let award = Step::Award {
        member: 0,
        activity: comment("c1"),
        points: 100,
        minute: 0,
        text: None,
    };
    ledger.run(&award).expect("awarded");
    ledger
        .run(&Step::Redeem {
            member: 0,
            reward: 0,
        })
        .expect("redeemed");
    ledger
}

#[test]
fn reversing_spent_points_leaves_a_negative_balance() {
    let mut ledger = spent_everything();
    let reason = ReversalReason::Deleted;
    let reverse = Step::Reverse {
        member: 0,
        activity: comment("c1"),
        reason,
    };
    ledger.run(&reverse).expect("reversed");
    assert_eq!(ledger.member(0).balance, -100);
}

#[test]
fn compensating_spent_points_leaves_a_negative_balance() {
    let mut ledger = spent_everything();
    ledger
        .run(&Step::Compensate { member: 0, pick: 0 })
        .expect("compensated");
    assert_eq!(ledger.member(0).balance, -100);
}
