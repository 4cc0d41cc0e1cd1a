//! An external account belongs to at most one member at a time, and the identity stream and
//! the member streams agree on who.

use crate::common::generators::{membership_step, setup};
use crate::common::ledger::MEMBERS;
use crate::common::{Ledger, account, member};
use domain::Event;
use domain::event::LinkMethod;
use proptest::prelude::*;
use std::collections::HashMap;

/// The accounts the generated steps link (see `membership_step`).
const ACCOUNTS: u8 = 6;

proptest! {
    #[test]
    fn an_account_is_claimed_by_at_most_one_member_at_a_time(
        setup in setup(),
        steps in prop::collection::vec(membership_step(), 0..80),
    ) {
        let mut ledger = Ledger::new(setup);
        for step in &steps {
            let _ = ledger.run(step);
            for a in 0..ACCOUNTS {
                let holders: Vec<_> = (0..MEMBERS)
                    .filter(|m| ledger.member(*m).linked.contains(&account(a)))
                    .map(member)
                    .collect();
                prop_assert!(holders.len() <= 1, "account {} linked to {:?}", a, holders);
                prop_assert_eq!(holders.first().copied(), ledger.identity(&account(a).account).claimed_by);
            }
        }
    }

    #[test]
    fn an_account_given_up_goes_to_no_other_member_within_the_cooldown(
        setup in setup(),
        steps in prop::collection::vec(membership_step(), 0..80),
    ) {
        let cooldown = setup.relink_cooldown;
        let ledger = Ledger::run_all(setup, &steps);
        // A stand-in (observed member) giving the account up to its owner starts nothing.
        let mut stand_in = HashMap::new();
        let mut given_up = HashMap::new();
        for event in &ledger.log {
            match event {
                Event::AccountLinked { member_id, account, method: LinkMethod::Observed, .. } => {
                    stand_in.insert(*account, *member_id);
                }
                Event::AccountUnlinked { member_id, account, at, .. }
                    if stand_in.get(account) != Some(member_id) =>
                {
                    given_up.insert(*account, (*member_id, *at));
                }
                Event::AccountLinked { member_id, account, at, .. } => {
                    if let Some((previous, released)) = given_up.get(account) {
                        prop_assert!(
                            previous == member_id || *at >= *released + cooldown.0,
                            "{:?} went from {:?} to {:?} at {} after {}", account, previous,
                            member_id, at, released
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
