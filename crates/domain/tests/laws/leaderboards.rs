//! Leaderboards rank by score, then member id; per-network boards add up to the overall one
//! when only activity moves points; every period partitions the all-time score.

use crate::common::generators::{earning_history, history, setup, time_zone};
use crate::common::{Ledger, member};
use domain::Event;
use domain::folds::{Balances, BoardKey, Leaderboards, Period};
use domain::ids::MemberId;
use domain::network::Network;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn boards_of(log: &[Event], tz: chrono_tz::Tz) -> Leaderboards {
    let mut boards = Leaderboards::new(tz);
    log.iter().for_each(|e| boards.apply(e));
    boards
}

fn score(boards: &Leaderboards, board: &BoardKey, member_id: &MemberId) -> i64 {
    boards
        .scores
        .get(board)
        .and_then(|b| b.get(member_id))
        .copied()
        .unwrap_or(0)
}

fn overall(period: Period) -> BoardKey {
    BoardKey {
        period,
        network: None,
    }
}

/// Scores summed per period kind: all weeks, or all months, of a member.
fn sum_over(boards: &Leaderboards, member_id: &MemberId, keep: fn(&Period) -> bool) -> i64 {
    let keys = boards
        .scores
        .keys()
        .filter(|k| k.network.is_none() && keep(&k.period));
    keys.map(|k| score(boards, k, member_id)).sum()
}

proptest! {
    #[test]
    fn ranking_is_by_score_then_member_id_and_deterministic(
        setup in setup(),
        steps in history(),
        tz in time_zone(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let (first, second) = (boards_of(&ledger.log, tz), boards_of(&ledger.log, tz));
        for board in first.scores.keys() {
            let ranking = first.ranking(board);
            prop_assert_eq!(&ranking, &second.ranking(board));
            let mut expected: Vec<_> = first.scores[board].iter().map(|(m, s)| (*m, *s)).collect();
            expected.sort_by_key(|(m, s)| (std::cmp::Reverse(*s), *m));
            prop_assert_eq!(ranking, expected);
        }
    }

    #[test]
    fn network_boards_add_up_to_the_overall_board_for_activity(
        setup in setup(),
        steps in earning_history(),
        tz in time_zone(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let boards = boards_of(&ledger.log, tz);
        let periods: BTreeSet<Period> = boards.scores.keys().map(|k| k.period).collect();
        let members: BTreeSet<MemberId> =
            boards.scores.values().flat_map(|b| b.keys().copied()).collect();
        for period in periods {
            for m in &members {
                let by_network: i64 = Network::ALL
                    .into_iter()
                    .map(|n| score(&boards, &BoardKey { period, network: Some(n) }, m))
                    .sum();
                prop_assert_eq!(by_network, score(&boards, &overall(period), m));
            }
        }
    }

    /// Every point lands in exactly one week and one month, and all-time is what was earned.
    #[test]
    fn weeks_and_months_partition_the_all_time_score(
        setup in setup(),
        steps in history(),
        tz in time_zone(),
    ) {
        let ledger = Ledger::run_all(setup, &steps);
        let boards = boards_of(&ledger.log, tz);
        let mut balances = Balances::default();
        ledger.log.iter().for_each(|e| balances.apply(e));
        for m in (0..5).map(member) {
            let all_time = score(&boards, &overall(Period::AllTime), &m);
            prop_assert_eq!(all_time, balances.0.get(&m).map_or(0, |b| b.earned));
            prop_assert_eq!(sum_over(&boards, &m, |p| matches!(p, Period::Week { .. })), all_time);
            prop_assert_eq!(sum_over(&boards, &m, |p| matches!(p, Period::Month { .. })), all_time);
        }
    }
}

#[test]
fn ties_rank_by_member_id() {
    let mut boards = Leaderboards::new(chrono_tz::UTC);
    let board = overall(Period::AllTime);
    let scores: BTreeMap<MemberId, i64> =
        [(member(3), 10), (member(1), 10), (member(2), 30)].into();
    boards.scores.insert(board, scores.into_iter().collect());
    assert_eq!(
        boards.ranking(&board),
        vec![(member(2), 30), (member(1), 10), (member(3), 10)]
    );
}

proptest! {
    /// The previous week or month is the one containing the local day a period earlier: a
    /// member's "last week" board is the board they were on seven calendar days ago. Seven
    /// days of 24 hours is not that across a change of clocks (Chatham's Monday 00:30 less
    /// 168 hours is the Sunday before last), so the law counts calendar days.
    #[test]
    fn the_previous_period_is_the_one_a_period_earlier(
        secs in 0i64..4_000_000_000,
        tz in time_zone(),
    ) {
        use chrono::Datelike;
        let at = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        let [week, month] = Period::containing(at, tz);
        let local = at.with_timezone(&tz);
        let week_earlier = (local.date_naive() - chrono::Duration::days(7)).iso_week();
        prop_assert_eq!(
            week.previous(),
            Period::Week { iso_year: week_earlier.year(), week: week_earlier.week() }
        );
        let first = local.date_naive().with_day(1).unwrap();
        let last_month_day = first.pred_opt().unwrap();
        prop_assert_eq!(
            month.previous(),
            Period::Month { year: last_month_day.year(), month: last_month_day.month() }
        );
        prop_assert_eq!(Period::AllTime.previous(), Period::AllTime);
    }
}
