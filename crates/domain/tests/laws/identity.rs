//! An external account belongs to at most one member at a time, and the identity stream and
//! the member streams agree on who.

use crate::common::generators::{membership_step, setup};
use crate::common::ledger::MEMBERS;
use crate::common::{Ledger, account, member};
use proptest::prelude::*;

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
}
