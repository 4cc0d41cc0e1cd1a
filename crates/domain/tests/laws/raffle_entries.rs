//! An activity raffle's entries: one per member who earned a matching award in the period and
//! kept it at the end, in the order of those awards, whatever else the log holds.

use crate::common::*;
use domain::Event;
use domain::event::ReversalReason;
use domain::ids::{EntryId, MemberId};
use domain::network::{ActivityKind, Network};
use domain::raffle::{ActivityRule, activity_entries};
use proptest::prelude::*;
use std::collections::HashMap;

const FROM: i64 = 30;
const END: i64 = 90;

fn rule() -> ActivityRule {
    ActivityRule {
        kind: Some(ActivityKind::Comment),
        network: None,
        from: minutes(FROM),
    }
}

fn awarded(n: u64, who: u8, kind: ActivityKind, network: Network, minute: i64) -> Event {
    Event::PointsAwarded {
        member_id: member(who),
        entry_id: entry(n),
        activity: activity(network, kind, &format!("a{n}")),
        points: 5,
        rule_version: 1,
        campaign_id: None,
        occurred_at: minutes(minute),
        at: minutes(minute),
        text_fingerprint: None,
    }
}

fn reversed(n: u64, award: &Event, minute: i64) -> Event {
    let Event::PointsAwarded {
        member_id,
        entry_id,
        activity,
        ..
    } = award
    else {
        unreachable!("only awards are reversed");
    };
    Event::PointsReversed {
        member_id: *member_id,
        entry_id: entry(n),
        award_entry_id: *entry_id,
        network: activity.network,
        award_occurred_at: minutes(0),
        points: 5,
        reason: ReversalReason::Deleted,
        at: minutes(minute),
    }
}

fn restored(n: u64, award: &Event, minute: i64) -> Event {
    let Event::PointsAwarded {
        member_id,
        entry_id,
        activity,
        ..
    } = award
    else {
        unreachable!("only awards are restored");
    };
    Event::AwardRestored {
        member_id: *member_id,
        entry_id: entry(n),
        award_entry_id: *entry_id,
        network: activity.network,
        award_occurred_at: minutes(0),
        points: 5,
        at: minutes(minute),
    }
}

/// One step of a generated history.
#[derive(Debug, Clone)]
enum Step {
    Award {
        who: u8,
        kind: usize,
        network: usize,
        minute: i64,
    },
    Reverse {
        nth: usize,
        minute: i64,
    },
    Restore {
        nth: usize,
        minute: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..8, 0usize..3, 0usize..3, 0i64..120).prop_map(|(who, kind, network, minute)| {
            Step::Award { who, kind, network, minute }
        }),
        1 => (0usize..40, 0i64..120).prop_map(|(nth, minute)| Step::Reverse { nth, minute }),
        1 => (0usize..40, 0i64..120).prop_map(|(nth, minute)| Step::Restore { nth, minute }),
    ]
}

const KINDS: [ActivityKind; 3] = [
    ActivityKind::Comment,
    ActivityKind::Reaction,
    ActivityKind::Message,
];

fn history(steps: &[Step]) -> Vec<Event> {
    let mut log: Vec<Event> = Vec::new();
    let mut awards: Vec<Event> = Vec::new();
    for (n, s) in steps.iter().enumerate() {
        let n = n as u64;
        match *s {
            Step::Award {
                who,
                kind,
                network,
                minute,
            } => {
                let award = awarded(n, who, KINDS[kind], Network::ALL[network], minute);
                awards.push(award.clone());
                log.push(award);
            }
            Step::Reverse { nth, minute } if !awards.is_empty() => {
                log.push(reversed(n, &awards[nth % awards.len()], minute));
            }
            Step::Restore { nth, minute } if !awards.is_empty() => {
                log.push(restored(n, &awards[nth % awards.len()], minute));
            }
            _ => {}
        }
    }
    log
}

/// The rule read literally, award by award: an award counts if it matches, falls in the
/// period, and the last reversal or restoration of it before the end was not a reversal.
fn by_the_book(log: &[Event]) -> Vec<(EntryId, MemberId)> {
    let end = minutes(END);
    let mut chosen: Vec<(EntryId, MemberId)> = Vec::new();
    for (i, event) in log.iter().enumerate() {
        let Event::PointsAwarded {
            member_id,
            entry_id,
            activity,
            at,
            ..
        } = event
        else {
            continue;
        };
        let counts = activity.kind == ActivityKind::Comment && *at >= minutes(FROM) && *at < end;
        let kept = log[i..]
            .iter()
            .rev()
            .find_map(|later| match later {
                Event::PointsReversed {
                    award_entry_id, at, ..
                } if award_entry_id == entry_id && *at < end => Some(false),
                Event::AwardRestored {
                    award_entry_id, at, ..
                } if award_entry_id == entry_id && *at < end => Some(true),
                _ => None,
            })
            .unwrap_or(true);
        if counts && kept && chosen.iter().all(|(_, m)| m != member_id) {
            chosen.push((*entry_id, *member_id));
        }
    }
    chosen
}

/// Events an activity raffle's rule must pass by.
fn irrelevant() -> impl Strategy<Value = Event> {
    prop_oneof![
        // Awards of another kind, or outside the period.
        (0u8..8, 1usize..3, 0usize..3, 0i64..120).prop_map(|(who, kind, network, minute)| {
            awarded(
                10_000 + u64::from(who),
                who,
                KINDS[kind],
                Network::ALL[network],
                minute,
            )
        }),
        (0u8..8, 0usize..3, prop_oneof![0i64..FROM, END..200]).prop_map(
            |(who, network, minute)| {
                awarded(
                    20_000 + minute as u64,
                    who,
                    ActivityKind::Comment,
                    Network::ALL[network],
                    minute,
                )
            }
        ),
        (0u8..8).prop_map(|who| Event::MemberRegistered {
            member_id: member(who),
            program_id: program(),
            at: minutes(40),
        }),
        (0u8..8, 1i64..50).prop_map(|(who, delta)| Event::PointsAdjusted {
            member_id: member(who),
            entry_id: entry(30_000 + delta as u64),
            delta,
            reason: "gift".into(),
            note: None,
            by: "manager:olga".into(),
            compensates: None,
            at: minutes(45),
        }),
    ]
}

proptest! {
    #[test]
    fn one_entry_per_member_who_kept_a_matching_award_in_the_period(
        steps in prop::collection::vec(step(), 0..40),
    ) {
        let log = history(&steps);
        let entries = activity_entries(&rule(), minutes(END), &log);
        prop_assert_eq!(&entries, &by_the_book(&log));
        let mut per_member: HashMap<MemberId, usize> = HashMap::new();
        for (_, m) in &entries {
            *per_member.entry(*m).or_default() += 1;
        }
        prop_assert!(per_member.values().all(|n| *n == 1), "one entry per member");
        prop_assert_eq!(
            &entries,
            &activity_entries(&rule(), minutes(END), &log),
            "the same log, the same entries"
        );
    }

    #[test]
    fn events_the_rule_does_not_ask_about_change_nothing_wherever_they_fall(
        steps in prop::collection::vec(step(), 0..40),
        noise in prop::collection::vec((irrelevant(), any::<prop::sample::Index>()), 0..20),
    ) {
        let log = history(&steps);
        let mut noisy = log.clone();
        for (event, at) in noise {
            noisy.insert(at.index(noisy.len() + 1), event);
        }
        prop_assert_eq!(
            activity_entries(&rule(), minutes(END), &noisy),
            activity_entries(&rule(), minutes(END), &log)
        );
    }
}

#[test]
fn a_comment_reversed_before_the_end_does_not_count_one_reversed_after_does() {
    let gone = awarded(1, 0, ActivityKind::Comment, Network::Vk, 40);
    let late = awarded(2, 1, ActivityKind::Comment, Network::Telegram, 41);
    let log = [
        gone.clone(),
        late.clone(),
        reversed(3, &gone, 50),
        reversed(4, &late, END),
    ];
    assert_eq!(
        activity_entries(&rule(), minutes(END), &log),
        vec![(entry(2), member(1))]
    );
}

#[test]
fn the_first_kept_award_names_the_entry_and_the_network_can_narrow_it() {
    let log = [
        awarded(1, 0, ActivityKind::Comment, Network::Vk, 31),
        awarded(2, 1, ActivityKind::Comment, Network::Telegram, 32),
        awarded(3, 0, ActivityKind::Comment, Network::Telegram, 33),
    ];
    assert_eq!(
        activity_entries(&rule(), minutes(END), &log),
        vec![(entry(1), member(0)), (entry(2), member(1))]
    );
    let telegram = ActivityRule {
        network: Some(Network::Telegram),
        ..rule()
    };
    assert_eq!(
        activity_entries(&telegram, minutes(END), &log),
        vec![(entry(2), member(1)), (entry(3), member(0))]
    );
    let anything = ActivityRule {
        kind: None,
        ..rule()
    };
    let reaction = [awarded(9, 4, ActivityKind::Reaction, Network::Vk, 35)];
    assert_eq!(
        activity_entries(&anything, minutes(END), &reaction),
        vec![(entry(9), member(4))]
    );
}
