//! Daily caps in the program's local day, per network and overall, and cooldowns between awards
//! of one kind, including activity delivered late.

use super::member::{award_with, registered, step};
use super::refused;
use crate::common::*;
use chrono::Duration;
use domain::DomainError;
use domain::member::AwardLimits;
use domain::network::{ActivityKind, Network};

fn capped(daily_cap: Option<i64>, per_network: Option<i64>, tz: chrono_tz::Tz) -> AwardLimits {
    AwardLimits {
        time_zone: tz,
        daily_cap,
        daily_cap_per_network: per_network,
        cooldown_seconds: 0,
        review: Default::default(),
    }
}

#[test]
fn the_daily_cap_allows_up_to_the_cap_and_no_more() {
    let limits = capped(Some(25), None, chrono_tz::UTC);
    let state = step(
        registered(),
        award_with(entry(1), comment("c1"), 15, minutes(60), &limits),
    );
    let over = award_with(entry(2), comment("c2"), 11, minutes(120), &limits);
    assert_eq!(
        refused(state.decide(over)),
        DomainError::DailyCapReached {
            awarded_today: 15,
            cap: 25
        }
    );
    let exact = award_with(entry(2), comment("c2"), 10, minutes(120), &limits);
    assert_eq!(step(state, exact).balance, 25);
}

#[test]
fn the_per_network_cap_leaves_other_networks_open() {
    let limits = capped(None, Some(20), chrono_tz::UTC);
    let vk = |n: u64, pts| {
        award_with(
            entry(n),
            comment(&format!("c{n}")),
            pts,
            minutes(60),
            &limits,
        )
    };
    let state = step(registered(), vk(1, 20));
    assert_eq!(
        refused(state.decide(vk(2, 1))),
        DomainError::DailyCapReached {
            awarded_today: 20,
            cap: 20
        }
    );
    let telegram = activity(Network::Telegram, ActivityKind::Comment, "t1");
    assert_eq!(
        step(
            state,
            award_with(entry(3), telegram, 20, minutes(60), &limits)
        )
        .balance,
        40
    );
}

#[test]
fn the_daily_cap_counts_the_local_day() {
    // Moscow is UTC+3: 21:30 UTC on the 28th is 00:30 on the 29th there.
    let limits = capped(Some(20), None, chrono_tz::Europe::Moscow);
    let after_midnight = minutes(21 * 60 + 30);
    let state = step(
        registered(),
        award_with(entry(1), comment("c1"), 20, after_midnight, &limits),
    );
    let next_utc_day_same_local_day =
        award_with(entry(2), comment("c2"), 1, minutes(25 * 60), &limits);
    let expected = DomainError::DailyCapReached {
        awarded_today: 20,
        cap: 20,
    };
    assert_eq!(refused(state.decide(next_utc_day_same_local_day)), expected);
    let same_utc_day_previous_local_day =
        award_with(entry(3), comment("c3"), 20, minutes(20 * 60 + 30), &limits);
    assert_eq!(step(state, same_utc_day_previous_local_day).balance, 40);
}

#[test]
fn a_cooldown_separates_awards_of_one_kind_on_one_network() {
    let limits = AwardLimits {
        cooldown_seconds: 60,
        ..no_limits()
    };
    let at = |s: i64| t0() + Duration::seconds(s);
    let state = step(
        registered(),
        award_with(entry(1), comment("c1"), 5, at(0), &limits),
    );
    let too_soon = award_with(entry(2), comment("c2"), 5, at(59), &limits);
    assert_eq!(refused(state.decide(too_soon)), DomainError::CooldownActive);
    let earlier_too_soon = award_with(entry(2), comment("c2"), 5, at(-59), &limits);
    assert_eq!(
        refused(state.decide(earlier_too_soon)),
        DomainError::CooldownActive
    );
    let other_kind = activity(Network::Vk, ActivityKind::Reaction, "r1");
    let state = step(state, award_with(entry(3), other_kind, 5, at(1), &limits));
    assert_eq!(
        step(
            state,
            award_with(entry(4), comment("c4"), 5, at(60), &limits)
        )
        .balance,
        15
    );
}

/// Regression: recent awards were pruned 50 hours behind the newest one, so a comment delivered
/// late (or a backfill) escaped the daily cap of a day whose earlier awards were pruned.
#[test]
fn a_late_award_still_counts_against_its_days_cap() {
    let limits = capped(None, Some(131), chrono_tz::UTC);
    let state = step(
        registered(),
        award_with(entry(1), comment("c1"), 1, minutes(0), &limits),
    );
    let state = step(
        state,
        award_with(entry(2), comment("c2"), 1, minutes(3001), &limits),
    );
    let late = award_with(entry(3), comment("c3"), 131, minutes(1), &limits);
    assert_eq!(
        refused(state.decide(late)),
        DomainError::DailyCapReached {
            awarded_today: 1,
            cap: 131
        }
    );
}

/// Regression: a cooldown longer than the 50-hour pruning window was forgotten as soon as any
/// other award came in, even with activity arriving in order.
#[test]
fn a_cooldown_longer_than_two_days_is_kept() {
    let limits = AwardLimits {
        cooldown_seconds: 7 * 24 * 3600,
        ..no_limits()
    };
    let repost = |n: u64| activity(Network::Vk, ActivityKind::Repost, &format!("p{n}"));
    let state = step(
        registered(),
        award_with(entry(1), repost(1), 20, minutes(0), &limits),
    );
    let reaction = activity(Network::Vk, ActivityKind::Reaction, "r1");
    let state = step(
        state,
        award_with(entry(2), reaction, 2, minutes(51 * 60), &limits),
    );
    let again = award_with(entry(3), repost(3), 20, minutes(52 * 60), &limits);
    assert_eq!(refused(state.decide(again)), DomainError::CooldownActive);
}
