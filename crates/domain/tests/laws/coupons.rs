//! A coupon pool under any order of uploads, redemptions, cancellations and uses: its stock is
//! its unused codes, no code is held by two live redemptions, and none is issued that was
//! never uploaded.

use crate::common::*;
use domain::member::{MemberCommand, MemberState};
use domain::reward::{
    CancelRedemption, Redeem, RewardCommand, RewardState, RewardTerms, UseCoupon,
    decide_cancel_redemption, decide_redeem, decide_use_coupon,
};
use domain::{Aggregate, Event};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone)]
enum Op {
    /// Upload these codes (from a small alphabet, so repeats are common).
    Upload(Vec<u8>),
    Redeem {
        member: u8,
    },
    Cancel {
        nth: usize,
    },
    Use {
        nth: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => prop::collection::vec(0u8..12, 0..5).prop_map(Op::Upload),
        3 => (0u8..3).prop_map(|member| Op::Redeem { member }),
        1 => (0usize..8).prop_map(|nth| Op::Cancel { nth }),
        1 => (0usize..8).prop_map(|nth| Op::Use { nth }),
    ]
}

fn registered(n: u8) -> MemberState {
    let events = MemberState::default()
        .decide(MemberCommand::Register {
            member_id: member(n),
            program_id: program(),
            at: t0(),
        })
        .expect("registers");
    let state = events
        .iter()
        .fold(MemberState::default(), |s, e| s.apply(e));
    let gift = MemberCommand::Award(award(
        entry(1_000 + u64::from(n)),
        comment(&format!("g{n}")),
        10_000,
        t0(),
    ));
    let events = state.decide(gift).expect("awarded");
    events.iter().fold(state, |s, e| s.apply(e))
}

proptest! {
    #[test]
    fn a_pool_never_issues_a_code_twice_and_its_stock_is_its_unused_codes(
        return_codes in any::<bool>(),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let list = RewardCommand::List {
            reward_id: reward(0),
            program_id: program(),
            title: "Online discount".into(),
            cost: points(10),
            stock: 0,
            terms: RewardTerms { coupon_pool: true, return_codes, low_stock_alert: Some(1) },
            by: "m".into(),
            at: t0(),
        };
        let mut log: Vec<Event> = RewardState::default().decide(list).expect("listed");
        let mut shop = RewardState::fold(&log);
        let mut members: BTreeMap<u8, MemberState> = (0..3).map(|n| (n, registered(n))).collect();
        let mut uploaded: HashSet<String> = HashSet::new();
        // Redemptions in the order made: (member, id).
        let mut made: Vec<(u8, u64)> = Vec::new();
        for (step, op) in ops.into_iter().enumerate() {
            let step = step as u64;
            let (holder, events) = match op {
                Op::Upload(codes) => {
                    let codes: Vec<String> = codes.iter().map(|c| format!("CODE-{c}")).collect();
                    uploaded.extend(codes.iter().cloned());
                    let add = RewardCommand::AddCodes { codes, by: "m".into(), at: t0() };
                    (None, shop.decide(add).expect("codes are valid"))
                }
                Op::Redeem { member } => {
                    let redeem = Redeem {
                        entry_id: entry(step),
                        redemption_id: redemption(step),
                        coupon_code: "GENERATED".into(),
                        at: t0(),
                    };
                    let decided = decide_redeem(&shop, &members[&member], redeem);
                    if decided.is_ok() {
                        made.push((member, step));
                    }
                    (Some(member), decided.unwrap_or_default())
                }
                Op::Cancel { nth } | Op::Use { nth } if nth >= made.len() => continue,
                Op::Cancel { nth } => {
                    let (member, id) = made[nth];
                    let cancel = CancelRedemption {
                        entry_id: entry(10_000 + step),
                        redemption_id: redemption(id),
                        reason: "r".into(),
                        by: "m".into(),
                        at: t0(),
                    };
                    let decided = decide_cancel_redemption(&shop, &members[&member], cancel);
                    (Some(member), decided.unwrap_or_default())
                }
                Op::Use { nth } => {
                    let (member, id) = made[nth];
                    let used = UseCoupon { redemption_id: redemption(id), by: "shop:k".into(), at: t0() };
                    (Some(member), decide_use_coupon(&members[&member], used).unwrap_or_default())
                }
            };
            for e in &events {
                log.push(e.clone());
                shop = shop.apply(e);
                if let Some(m) = holder {
                    let state = members.remove(&m).expect("a member");
                    members.insert(m, state.apply(e));
                }
            }
            // The laws, after every step.
            let pool = shop.pool.as_ref().expect("a pool");
            prop_assert_eq!(shop.stock, pool.unused.len() as i64);
            let live: Vec<&String> = members
                .values()
                .flat_map(|m| m.redemptions.values())
                .filter(|r| !r.cancelled)
                .map(|r| &r.coupon_code)
                .collect();
            let distinct: HashSet<&String> = live.iter().copied().collect();
            prop_assert_eq!(distinct.len(), live.len(), "a code held twice: {:?}", live);
            for code in &live {
                prop_assert!(uploaded.contains(*code), "{} was never uploaded", code);
                prop_assert!(!pool.unused.contains(*code), "{} is held and unused", code);
            }
            for m in members.values() {
                prop_assert!(m.balance >= 0);
            }
        }
        // The pool is a fold of the log alone: replaying it from nothing gives the same state.
        prop_assert_eq!(RewardState::fold(&log), shop);
    }
}
