//! Seasons over generated histories: two seasons that split time and count everything add up
//! to the all-time board; a season that leaves adjustments out is blind to them; nothing decided
//! from the cutoff on moves a board; a board resumed mid-log from the entries its events undo
//! (as the projection resumes one per batch) ends where the whole fold ends; an ended board is
//! frozen and keeps no entries; standings rank by score with shared ranks and pay each rank its
//! prize.

use crate::common::generators::{MINUTES_SPAN, history, setup};
use crate::common::ledger::MEMBERS;
use crate::common::*;
use domain::Event;
use domain::folds::{BoardKey, Leaderboards, Period};
use domain::ids::{EntryId, MemberId, SeasonId};
use domain::network::ActivityKind;
use domain::season::{SeasonBoard, SeasonCounts, SeasonPrize, SeasonTerms};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

fn season(n: u128) -> SeasonId {
    SeasonId(uuid::Uuid::from_u128(0x6000 + n))
}

/// A season over minutes `[from, until)` of the histories, counting `counts`, whose cutoff
/// is `settle` minutes after its end.
fn terms(from: i64, until: i64, settle: u32, counts: SeasonCounts) -> SeasonTerms {
    SeasonTerms {
        name: "generated".into(),
        starts_at: minutes(from),
        ends_at: minutes(until),
        settle_minutes: settle,
        counts,
        prizes: Vec::new(),
    }
}

fn everything() -> SeasonCounts {
    SeasonCounts {
        activities: ActivityKind::ALL.to_vec(),
        adjustments: true,
    }
}

fn board_of<'a>(
    id: SeasonId,
    terms: SeasonTerms,
    log: impl IntoIterator<Item = &'a Event>,
) -> SeasonBoard {
    let mut board = SeasonBoard::new(id, terms);
    log.into_iter().for_each(|e| board.apply(e));
    board
}

fn positive(board: &SeasonBoard) -> HashMap<MemberId, i64> {
    board
        .scores
        .iter()
        .filter(|(_, s)| **s != 0)
        .map(|(m, s)| (*m, *s))
        .collect()
}

fn counts() -> impl Strategy<Value = SeasonCounts> {
    (
        prop::sample::subsequence(ActivityKind::ALL.to_vec(), 0..=ActivityKind::ALL.len()),
        any::<bool>(),
    )
        .prop_map(|(activities, adjustments)| SeasonCounts {
            activities,
            adjustments,
        })
}

/// The far end of every generated history's times, and a settling time that reaches it.
const FAR: i64 = 10 * MINUTES_SPAN;

proptest! {
    #[test]
    fn two_seasons_that_split_time_and_count_everything_add_up_to_the_all_time_board(
        setup in setup(),
        steps in history(),
        split in 0..MINUTES_SPAN,
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        // Cutoffs past every decision: late deliveries of the first season's activity count.
        let settle = 2 * FAR as u32;
        let early = board_of(season(1), terms(-FAR, split, settle, everything()), &ledger.log);
        let late = board_of(season(2), terms(split, FAR, settle, everything()), &ledger.log);
        let mut boards = Leaderboards::new(chrono_tz::UTC);
        ledger.log.iter().for_each(|e| boards.apply(e));
        let all_time = BoardKey { period: Period::AllTime, network: None };
        for m in (0..MEMBERS).map(member) {
            let seasons = early.scores.get(&m).copied().unwrap_or(0)
                + late.scores.get(&m).copied().unwrap_or(0);
            let board = boards.scores.get(&all_time).and_then(|b| b.get(&m)).copied().unwrap_or(0);
            prop_assert_eq!(seasons, board, "member {}", m);
        }
    }

    /// By default a manager's goodwill credit moves nobody: the board is what it would be
    /// without any manual adjustment (and without the corrections of those adjustments).
    #[test]
    fn a_season_without_adjustments_is_blind_to_them(
        setup in setup(),
        steps in history(),
        from in 0..MINUTES_SPAN,
        length in 1..MINUTES_SPAN,
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let t = terms(from, from + length, 0, SeasonCounts::default());
        let adjustments: HashSet<EntryId> = ledger.log.iter().filter_map(|e| match e {
            Event::PointsAdjusted { entry_id, compensates: None, .. } => Some(*entry_id),
            _ => None,
        }).collect();
        let without = ledger.log.iter().filter(|e| !matches!(e,
            Event::PointsAdjusted { compensates: None, .. }
        ) && !matches!(e,
            Event::PointsAdjusted { compensates: Some(target), .. } if adjustments.contains(target)
        ));
        prop_assert_eq!(
            positive(&board_of(season(1), t.clone(), &ledger.log)),
            positive(&board_of(season(1), t, without))
        );
    }

    /// Histories decide one step a minute: the events decided before minute `cutoff` are the
    /// log a season ending then settles on, whatever comes after.
    #[test]
    fn nothing_decided_from_the_cutoff_on_moves_a_board(
        setup in setup(),
        steps in history(),
        counts in counts(),
        end in 1i64..80,
        settle in 0u32..20,
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let cutoff = minutes(end + i64::from(settle));
        let t = terms(-FAR, end, settle, counts.clone());
        let before = ledger.log.iter().filter(|e| e.at() < cutoff);
        prop_assert_eq!(
            positive(&board_of(season(1), t.clone(), &ledger.log)),
            positive(&board_of(season(1), terms(-FAR, end, FAR as u32, counts), before))
        );
    }

    /// Ending a season freezes its board where the log stood and lets go of the entries it
    /// counted: whatever follows (reversals of those entries included) changes nothing.
    #[test]
    fn an_ended_board_is_frozen_and_keeps_no_entries(
        setup in setup(),
        steps in history(),
        counts in counts(),
        cut in any::<prop::sample::Index>(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let t = terms(-FAR, FAR, 0, counts);
        let cut = cut.index(ledger.log.len() + 1);
        let (before, after) = ledger.log.split_at(cut);
        let at_the_end = board_of(season(1), t.clone(), before);
        let ended = Event::SeasonEnded {
            season_id: season(1),
            standings: at_the_end.standings(),
            participants: at_the_end.participants(),
            at: minutes(0),
        };
        let board = board_of(season(1), t, before.iter().chain([&ended]).chain(after));
        prop_assert!(board.closed);
        prop_assert!(board.counted.is_empty() && board.touched.is_empty());
        prop_assert_eq!(board.scores, at_the_end.scores);
    }

    /// The projection folds a batch from the entries earlier batches counted that the batch
    /// undoes, adding the batch's changes to the stored scores: that ends where one fold ends.
    #[test]
    fn a_board_resumed_mid_log_ends_where_the_whole_fold_ends(
        setup in setup(),
        steps in history(),
        counts in counts(),
        from in 0..MINUTES_SPAN,
        length in 1..MINUTES_SPAN,
        cut in any::<prop::sample::Index>(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let t = terms(from, from + length, 30, counts);
        let whole = board_of(season(1), t.clone(), &ledger.log);
        let cut = cut.index(ledger.log.len() + 1);
        let (first, second) = ledger.log.split_at(cut);
        let stored = board_of(season(1), t.clone(), first);
        let mut resumed = SeasonBoard::new(season(1), t);
        for e in second {
            let undone = match e {
                Event::PointsReversed { award_entry_id, .. }
                | Event::AwardRestored { award_entry_id, .. } => Some(*award_entry_id),
                Event::PointsAdjusted { compensates: Some(target), .. } => Some(*target),
                _ => None,
            };
            if let Some(c) = undone.and_then(|u| stored.counted.get(&u).map(|c| (u, *c))) {
                resumed.counted.entry(c.0).or_insert(c.1);
            }
        }
        second.iter().for_each(|e| resumed.apply(e));
        let mut sum = stored.scores.clone();
        for (m, delta) in &resumed.scores {
            *sum.entry(*m).or_default() += delta;
        }
        sum.retain(|_, s| *s != 0);
        prop_assert_eq!(sum, positive(&whole));
    }

    #[test]
    fn standings_rank_by_score_with_shared_ranks_and_pay_each_rank_its_prize(
        setup in setup(),
        steps in history(),
        bands in prop::collection::vec((1u32..4, 1i64..100), 0..3),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let mut prizes = Vec::new();
        let mut next = 1;
        for (width, points) in bands {
            prizes.push(SeasonPrize { from_rank: next, to_rank: next + width - 1, points });
            next += width;
        }
        let t = SeasonTerms { prizes, ..terms(-FAR, FAR, FAR as u32, everything()) };
        let board = board_of(season(1), t.clone(), &ledger.log);
        let standings = board.standings();
        let scored: Vec<(MemberId, i64)> = board.scores.iter()
            .filter(|(_, s)| **s > 0).map(|(m, s)| (*m, *s)).collect();
        prop_assert_eq!(standings.len(), scored.len(), "five members fit in the frozen ranks");
        prop_assert_eq!(board.participants() as usize, scored.len());
        for (i, s) in standings.iter().enumerate() {
            let above = scored.iter().filter(|(_, score)| *score > s.score).count();
            prop_assert_eq!(s.rank as usize, above + 1);
            prop_assert_eq!(s.prize, t.prize_for(s.rank));
            prop_assert_eq!(board.scores.get(&s.member_id).copied(), Some(s.score));
            if let Some(next) = standings.get(i + 1) {
                prop_assert!((s.score, next.member_id) > (next.score, s.member_id));
            }
        }
    }
}
