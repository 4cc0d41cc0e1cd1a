//! proptest strategies: program setups and histories of commands over small pools of ids.

use super::ledger::{ACTIVITY_KINDS, CampaignSpec, MEMBERS, RewardSpec, Setup};
use super::steps::Step;
use domain::event::ReversalReason;
use domain::identity::RelinkCooldown;
use domain::member::AwardLimits;
use domain::network::{ActivityRef, Network};
use domain::review::ReviewRules;
use domain::text::RepeatedText;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// Points stay small, so balances often land exactly on a cost and awards exactly on a cap.
const MAX_POINTS: i64 = 40;

/// Activity happens over four days, in any order (platforms deliver late and out of order).
pub const MINUTES_SPAN: i64 = 4 * 24 * 60;

/// Zones with DST switches inside the span, half-hour and 45-minute offsets, and both extremes.
pub const TIME_ZONES: [chrono_tz::Tz; 8] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Moscow,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::America::St_Johns,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Pacific::Kiritimati,
];

pub fn time_zone() -> impl Strategy<Value = chrono_tz::Tz> {
    select(TIME_ZONES.to_vec())
}

pub fn limits() -> impl Strategy<Value = AwardLimits> {
    let cooldowns = vec![0u32, 60, 600, 3_600, 6 * 3_600, 20 * 3_600];
    (
        time_zone(),
        proptest::option::of(10..4 * MAX_POINTS),
        proptest::option::of(5..2 * MAX_POINTS),
        select(cooldowns),
        review_rules(),
    )
        .prop_map(
            |(time_zone, daily_cap, daily_cap_per_network, cooldown_seconds, review)| AwardLimits {
                time_zone,
                daily_cap,
                daily_cap_per_network,
                cooldown_seconds,
                review,
            },
        )
}

/// Half the programs hold nothing; the rest hold by tight velocity limits (activity spreads
/// over four days, so only bursts trip them), by codeword size, or members' first hours.
pub fn review_rules() -> impl Strategy<Value = ReviewRules> {
    let held = (
        proptest::option::of(1u32..4),
        proptest::option::of(2u32..10),
        proptest::option::of(1..MAX_POINTS),
        select(vec![0u32, 1, 30]),
    )
        .prop_map(
            |(per_minute, per_hour, codeword_over, new_member_hours)| ReviewRules {
                per_minute,
                per_hour,
                codeword_over,
                new_member_hours,
            },
        );
    prop_oneof![Just(ReviewRules::default()), held]
}

fn campaign_spec() -> impl Strategy<Value = CampaignSpec> {
    (
        1..=MAX_POINTS,
        proptest::option::of(0u32..4),
        subsequence(Network::ALL.to_vec(), 1..=3),
        0..MINUTES_SPAN / 2,
        60..MINUTES_SPAN,
    )
        .prop_map(
            |(points, total_cap, networks, starts_minute, length_minutes)| CampaignSpec {
                points,
                total_cap,
                networks,
                starts_minute,
                length_minutes,
            },
        )
}

fn reward_spec() -> impl Strategy<Value = RewardSpec> {
    (1..=2 * MAX_POINTS, 0u32..5).prop_map(|(cost, stock)| RewardSpec { cost, stock })
}

/// Repeats earning, refused for ever, or refused within a window shorter than the span.
pub fn repeats() -> impl Strategy<Value = RepeatedText> {
    select(vec![
        RepeatedText::Earns,
        RepeatedText::EarnsOnce,
        RepeatedText::EarnsOnceWithin { days: 1 },
        RepeatedText::EarnsOnceWithin { days: 2 },
    ])
}

/// No cooldown, or one a few steps (a minute each) or most of a history long.
pub fn relink_cooldown() -> impl Strategy<Value = RelinkCooldown> {
    select(vec![
        RelinkCooldown::NONE,
        RelinkCooldown(chrono::TimeDelta::minutes(5)),
        RelinkCooldown(chrono::TimeDelta::minutes(40)),
    ])
}

pub fn setup() -> impl Strategy<Value = Setup> {
    (
        limits(),
        repeats(),
        relink_cooldown(),
        prop::collection::vec(campaign_spec(), 1..=3),
        prop::collection::vec(reward_spec(), 1..=3),
    )
        .prop_map(
            |(limits, repeats, relink_cooldown, campaigns, rewards)| Setup {
                limits,
                repeats,
                relink_cooldown,
                campaigns,
                rewards,
            },
        )
}

fn member() -> impl Strategy<Value = u8> {
    0..MEMBERS
}

fn network() -> impl Strategy<Value = Network> {
    select(Network::ALL.to_vec())
}

fn minute() -> impl Strategy<Value = i64> {
    0..MINUTES_SPAN
}

/// One of a few activities, so awards repeat and reversals find their target.
pub fn activity() -> impl Strategy<Value = ActivityRef> {
    (network(), select(ACTIVITY_KINDS.to_vec()), 0u8..4).prop_map(|(network, kind, n)| {
        ActivityRef {
            network,
            kind,
            reference: format!("post-{n}"),
        }
    })
}

/// Half the awards are for written activity, in one of the few texts of `TEXTS`.
fn text() -> impl Strategy<Value = Option<u8>> {
    proptest::option::of(0u8..6)
}

fn reason() -> impl Strategy<Value = ReversalReason> {
    select(vec![
        ReversalReason::Deleted,
        ReversalReason::Withdrawn,
        ReversalReason::Left,
    ])
}

/// Activity earning points and platforms taking them back.
pub fn earning_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (member(), activity(), 1..=MAX_POINTS, minute(), text()).prop_map(
            |(member, activity, points, minute, text)| {
                Step::Award { member, activity, points, minute, text }
            }
        ),
        2 => (member(), activity(), reason())
            .prop_map(|(member, activity, reason)| Step::Reverse { member, activity, reason }),
        1 => (member(), activity()).prop_map(|(member, activity)| Step::Restore { member, activity }),
    ]
}

/// Managers correcting balances and members spending them.
pub fn spending_step() -> impl Strategy<Value = Step> {
    let delta = prop_oneof![-2 * MAX_POINTS..0, 1..=2 * MAX_POINTS];
    prop_oneof![
        2 => (member(), delta).prop_map(|(member, delta)| Step::Adjust { member, delta }),
        2 => (member(), any::<usize>()).prop_map(|(member, pick)| Step::Compensate { member, pick }),
        1 => (member(), minute(), 0..MINUTES_SPAN, 0u8..3)
            .prop_map(|(member, from, span, run)| Step::CompensateAwards { member, from, span, run }),
        3 => (member(), 0u8..3).prop_map(|(member, reward)| Step::Redeem { member, reward }),
        1 => (member(), 0u8..3, any::<usize>())
            .prop_map(|(member, reward, pick)| Step::CancelRedemption { member, reward, pick }),
        1 => (0u8..3, -3i32..=3).prop_map(|(reward, delta)| Step::ChangeStock { reward, delta }),
        1 => (member(), 0i64..48).prop_map(|(member, hours)| Step::Expire { member, hours }),
    ]
}

/// Members writing codewords and managers steering campaigns.
pub fn codeword_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (member(), 0u8..3, network(), minute()).prop_map(|(member, campaign, network, minute)| {
            Step::Codeword { member, campaign, network, minute }
        }),
        1 => (0u8..3).prop_map(|campaign| Step::PauseCampaign { campaign }),
        1 => (0u8..3).prop_map(|campaign| Step::ResumeCampaign { campaign }),
        1 => (0u8..3).prop_map(|campaign| Step::EndCampaign { campaign }),
    ]
}

/// Members registering, being blocked and linking accounts.
pub fn membership_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => member().prop_map(|member| Step::Register { member }),
        1 => member().prop_map(|member| Step::Block { member }),
        2 => member().prop_map(|member| Step::Unblock { member }),
        4 => (member(), 0u8..6).prop_map(|(member, account)| Step::Link { member, account }),
        2 => (member(), 0u8..6).prop_map(|(member, account)| Step::Unlink { member, account }),
        1 => (member(), 0u8..6).prop_map(|(member, account)| Step::Observe { member, account }),
    ]
}

/// Managers deciding held awards.
pub fn review_step() -> impl Strategy<Value = Step> {
    (member(), any::<usize>(), any::<bool>()).prop_map(|(member, pick, approve)| Step::Review {
        member,
        pick,
        approve,
    })
}

pub fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => earning_step(),
        3 => spending_step(),
        2 => codeword_step(),
        1 => membership_step(),
        1 => review_step(),
    ]
}

pub fn history() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(any_step(), 0..80)
}

/// Awards, reversals, restorations and codewords only: the logs whose boards add up by network.
pub fn earning_history() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![4 => earning_step(), 1 => codeword_step(), 1 => review_step()];
    prop::collection::vec(step, 0..80)
}
