//! Daily caps and cooldowns hold in every local day of the program's time zone, whatever the
//! order in which activity is delivered.

use crate::common::Ledger;
use crate::common::generators::{earning_history, setup};
use chrono::NaiveDate;
use domain::Event;
use domain::Timestamp;
use domain::ids::MemberId;
use domain::network::{ActivityKind, ActivityRef, Network};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// An award for activity the rules price (campaign bonuses are not capped).
struct ActivityAward<'a> {
    member_id: MemberId,
    activity: &'a ActivityRef,
    points: i64,
    occurred_at: Timestamp,
}

fn activity_awards(log: &[Event]) -> Vec<ActivityAward<'_>> {
    log.iter()
        .filter_map(|event| match event {
            Event::PointsAwarded {
                member_id,
                activity,
                points,
                occurred_at,
                ..
            } if activity.kind != ActivityKind::Codeword => {
                let (member_id, points, occurred_at) = (*member_id, *points, *occurred_at);
                Some(ActivityAward {
                    member_id,
                    activity,
                    points,
                    occurred_at,
                })
            }
            // An approved held award was counted by the caps when it was held.
            Event::HeldAwardApproved {
                member_id,
                activity,
                points,
                award_occurred_at,
                ..
            } if activity.kind != ActivityKind::Codeword => Some(ActivityAward {
                member_id: *member_id,
                activity,
                points: *points,
                occurred_at: *award_occurred_at,
            }),
            _ => None,
        })
        .collect()
}

fn local_day(at: Timestamp, tz: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

proptest! {
    #[test]
    fn daily_caps_hold_in_every_local_day(setup in setup(), steps in earning_history()) {
        let limits = setup.limits.clone();
        let ledger = Ledger::run_all(setup, &steps);
        let mut per_day: BTreeMap<(MemberId, NaiveDate), i64> = BTreeMap::new();
        let mut per_network: BTreeMap<(MemberId, NaiveDate, Network), i64> = BTreeMap::new();
        for award in activity_awards(&ledger.log) {
            let day = local_day(award.occurred_at, limits.time_zone);
            *per_day.entry((award.member_id, day)).or_default() += award.points;
            let key = (award.member_id, day, award.activity.network);
            *per_network.entry(key).or_default() += award.points;
        }
        if let Some(cap) = limits.daily_cap {
            for (key, total) in &per_day {
                prop_assert!(*total <= cap, "{:?} earned {} over a cap of {}", key, total, cap);
            }
        }
        if let Some(cap) = limits.daily_cap_per_network {
            for (key, total) in &per_network {
                prop_assert!(*total <= cap, "{:?} earned {} over a cap of {}", key, total, cap);
            }
        }
    }

    #[test]
    fn cooldowns_separate_awards_of_one_kind(setup in setup(), steps in earning_history()) {
        let cooldown = chrono::Duration::seconds(i64::from(setup.limits.cooldown_seconds));
        let ledger = Ledger::run_all(setup, &steps);
        let awards = activity_awards(&ledger.log);
        for (i, a) in awards.iter().enumerate() {
            for b in &awards[i + 1..] {
                let same_kind = a.member_id == b.member_id
                    && a.activity.network == b.activity.network
                    && a.activity.kind == b.activity.kind;
                if same_kind {
                    let gap = (a.occurred_at - b.occurred_at).abs();
                    prop_assert!(gap >= cooldown, "{:?} and {:?} only {} apart", a.activity, b.activity, gap);
                }
            }
        }
    }
}
