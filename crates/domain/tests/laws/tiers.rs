//! Tiers over generated histories of awards, manual adjustments, spending and evaluations: a
//! member evaluated at any instant holds exactly the level their qualifying points reach
//! (lifetime, or a rolling window recomputed here from the events alone), asking again at the
//! same instant records nothing, and every award pays the multiplier of the tier recorded
//! before it.

use crate::common::*;
use chrono::Duration;
use domain::member::{MemberCommand, MemberState};
use domain::network::{ActivityKind, Network};
use domain::points::PointsDelta;
use domain::tier::{EvaluateTier, TierLevel, TierRules, decide_tier, multiplied};
use domain::{Aggregate, Event, Timestamp};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Award { base: i64, codeword: bool },
    Adjust { delta: i64 },
    Evaluate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1i64..60, prop::bool::weighted(0.2))
            .prop_map(|(base, codeword)| Op::Award { base, codeword }),
        1 => (-80i64..80).prop_filter("a change", |d| *d != 0).prop_map(|delta| Op::Adjust { delta }),
        2 => Just(Op::Evaluate),
    ]
}

fn ladder() -> impl Strategy<Value = TierRules> {
    let window = prop_oneof![Just(0u32), 1u32..20];
    let levels = prop::collection::vec((1i64..150, 100u32..=250), 1..4).prop_map(|steps| {
        let mut threshold = 0;
        steps
            .into_iter()
            .enumerate()
            .map(|(i, (step, multiplier_percent))| {
                threshold += step;
                TierLevel {
                    name: format!("L{i}"),
                    threshold,
                    multiplier_percent,
                }
            })
            .collect()
    });
    (window, levels).prop_map(|(window_days, levels)| TierRules {
        window_days,
        levels,
    })
}

/// Each op at its own instant, some hours to some days apart.
fn history() -> impl Strategy<Value = Vec<(Op, i64)>> {
    prop::collection::vec((op(), 1i64..(3 * 24 * 60)), 1..60)
}

/// Net points the log's entries earned in `(from, to]` (all of them when `from` is `None`).
fn earned_in(log: &[Event], from: Option<Timestamp>, to: Timestamp) -> i64 {
    log.iter()
        .filter_map(|e| e.balance_delta().map(|(_, d)| (e.at(), d)))
        .filter(|(at, _)| *at <= to && from.is_none_or(|f| *at > f))
        .map(|(_, d)| d)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_recorded_tier_is_the_level_the_log_reaches_and_awards_pay_its_multiplier(
        tiers in ladder(),
        ops in history(),
    ) {
        let mut log: Vec<Event> = Vec::new();
        let mut state = MemberState::default();
        let register = MemberCommand::Register { member_id: member(0), program_id: program(), at: t0() };
        for e in state.decide(register).expect("registers") {
            state = state.apply(&e);
            log.push(e);
        }
        let mut now = t0();
        let mut multiplier = 100;
        for (n, (op, gap)) in ops.into_iter().enumerate() {
            now = Timestamp::new(now.get() + Duration::minutes(gap));
            let n = n as u64 + 1;
            let events = match op {
                Op::Award { base, codeword } => {
                    let kind = if codeword { ActivityKind::Codeword } else { ActivityKind::Comment };
                    let activity = activity(Network::Telegram, kind, &format!("a{n}"));
                    let events = state
                        .decide(MemberCommand::Award(award(entry(n), activity, base, now)))
                        .expect("no limits refuse it");
                    let expected = if codeword { base } else { multiplied(base, multiplier) };
                    prop_assert!(
                        matches!(&events[..], [Event::PointsAwarded { points, .. }] if *points == expected),
                        "{base} at {multiplier}% paid {events:?}"
                    );
                    events
                }
                Op::Adjust { delta } => state
                    .decide(MemberCommand::Adjust {
                        entry_id: entry(n),
                        delta: PointsDelta::new(delta).expect("nonzero"),
                        reason: "correction".into(),
                        note: None,
                        by: "anna".into(),
                        at: now,
                    })
                    // A removal past the balance is refused; the history goes on without it.
                    .unwrap_or_default(),
                Op::Evaluate => {
                    let cmd = EvaluateTier { tiers: tiers.clone(), rule_version: 1, at: now };
                    let events = decide_tier(&state, cmd.clone()).expect("decided");
                    let after = events.iter().fold(state.clone(), MemberState::apply);
                    let from = (tiers.window_days > 0)
                        .then(|| Timestamp::new(now.get() - Duration::days(tiers.window_days.into())));
                    let points = earned_in(&log, from, now);
                    let expected = tiers.level_for(points).map(|(level, l)| (level, l.name.clone()));
                    let held = after.tier.as_ref().map(|t| (t.level, t.name.clone()));
                    prop_assert_eq!(held, expected, "{} qualifying points", points);
                    prop_assert!(decide_tier(&after, cmd).expect("decided").is_empty(), "moved twice");
                    if let [Event::TierChanged { multiplier_percent, qualifying_points, .. }] = &events[..] {
                        multiplier = *multiplier_percent;
                        prop_assert_eq!(*qualifying_points, points);
                    }
                    events
                }
            };
            for e in events {
                state = state.apply(&e);
                log.push(e);
            }
        }
    }
}
