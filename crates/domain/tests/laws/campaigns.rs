//! A codeword pays a member at most once, and a campaign never beyond its total cap, however
//! many members try, how often, and from which networks.

use crate::common::generators::{codeword_step, membership_step, setup};
use crate::common::ledger::Setup;
use crate::common::{Ledger, Step, campaign, member, minutes};
use domain::Event;
use domain::campaign::CampaignStatus;
use domain::folds::CodewordRedemptions;
use domain::ids::{CampaignId, MemberId};
use domain::network::Network;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn campaign_history() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![6 => codeword_step(), 1 => membership_step()],
        0..80,
    )
}

fn redeemers(log: &[Event], c: CampaignId) -> Vec<MemberId> {
    log.iter()
        .filter_map(|e| match e {
            Event::CodewordRedeemed {
                campaign_id,
                member_id,
                ..
            } if *campaign_id == c => Some(*member_id),
            _ => None,
        })
        .collect()
}

/// Members paid a campaign bonus in their own streams (or held it for review), with the points.
fn bonuses(log: &[Event], c: CampaignId) -> Vec<(MemberId, i64)> {
    log.iter()
        .filter_map(|e| match e {
            Event::PointsAwarded {
                member_id,
                campaign_id,
                points,
                ..
            }
            | Event::AwardHeld {
                member_id,
                campaign_id,
                points,
                ..
            } if *campaign_id == Some(c) => Some((*member_id, *points)),
            _ => None,
        })
        .collect()
}

/// Whether the rules of a campaign, read off the setup and the log so far, entitle the member.
fn is_entitled(ledger: &Ledger, m: u8, c: u8, network: Network, minute: i64) -> bool {
    let Some(spec) = ledger.setup.campaigns.get(usize::from(c)) else {
        return false;
    };
    let state = ledger.member(m);
    let open = ledger.campaign(c).status == CampaignStatus::Active
        && spec.starts_minute <= minute
        && minute < spec.starts_minute + spec.length_minutes;
    let redeemed = redeemers(&ledger.log, campaign(c));
    open && spec.networks.contains(&network)
        && state.is_registered()
        && !state.blocked
        && !redeemed.contains(&member(m))
        && spec
            .total_cap
            .is_none_or(|cap| redeemed.len() < cap as usize)
}

fn check_campaign(ledger: &Ledger, setup: &Setup, n: u8) -> Result<(), TestCaseError> {
    let spec = &setup.campaigns[usize::from(n)];
    let redeemed = redeemers(&ledger.log, campaign(n));
    let distinct: BTreeSet<_> = redeemed.iter().copied().collect();
    prop_assert_eq!(distinct.len(), redeemed.len(), "a member redeemed twice");
    if let Some(cap) = spec.total_cap {
        prop_assert!(
            redeemed.len() <= cap as usize,
            "{} redemptions over a cap of {}",
            redeemed.len(),
            cap
        );
    }
    let mut paid = bonuses(&ledger.log, campaign(n));
    let mut expected: Vec<_> = redeemed.iter().map(|m| (*m, spec.points)).collect();
    paid.sort();
    expected.sort();
    prop_assert_eq!(paid, expected, "every redemption pays its member once");
    prop_assert_eq!(ledger.campaign(n).redemptions() as usize, redeemed.len());
    let mut folded = CodewordRedemptions::default();
    ledger.log.iter().for_each(|e| folded.apply(e));
    prop_assert_eq!(
        folded.0.get(&campaign(n)).map_or(0, Vec::len),
        redeemed.len()
    );
    Ok(())
}

proptest! {
    #[test]
    fn a_codeword_pays_each_member_once_and_never_beyond_the_cap(
        setup in setup(),
        steps in campaign_history(),
    ) {
        let ledger = Ledger::run_all(setup.clone(), &steps);
        for n in 0..setup.campaigns.len() {
            check_campaign(&ledger, &setup, n as u8)?;
        }
    }

    /// The other side of the cap: an entitled member is paid, and nobody else is.
    #[test]
    fn a_codeword_is_paid_exactly_when_the_member_is_entitled(
        setup in setup(),
        steps in campaign_history(),
    ) {
        let mut ledger = Ledger::new(setup);
        for step in &steps {
            let entitled = match *step {
                Step::Codeword { member, campaign, network, minute } => {
                    Some(is_entitled(&ledger, member, campaign, network, minute))
                }
                _ => None,
            };
            let outcome = ledger.run(step);
            if let Some(entitled) = entitled {
                prop_assert_eq!(outcome.is_ok(), entitled, "{:?} gave {:?}", step, outcome);
            }
        }
    }
}

#[test]
fn the_campaign_window_is_half_open() {
    let spec = crate::common::ledger::CampaignSpec {
        points: 10,
        total_cap: None,
        networks: vec![Network::Vk],
        starts_minute: 60,
        length_minutes: 60,
    };
    let state = Ledger::new(Setup {
        limits: crate::common::no_limits(),
        repeats: domain::text::RepeatedText::EarnsOnce,
        relink_cooldown: domain::identity::RelinkCooldown::NONE,
        campaigns: vec![spec],
        rewards: Vec::new(),
    })
    .campaign(0);
    assert!(!state.is_open(minutes(59)));
    assert!(state.is_open(minutes(60)));
    assert!(state.is_open(minutes(119)));
    assert!(!state.is_open(minutes(120)));
}
