//! Compares balances, tiers and leaderboards row by row with the fold, for the members of the
//! pass's slice. Matched entries are taken out of the expected maps: what is left afterwards is
//! missing from the model.

use super::expected::Expected;
use super::findings::Findings;
use super::models::Models;
use crate::leaderboards::{board_key, parse_board_key};
use crate::projection::FastMap;
use domain::ids::MemberId;
use uuid::Uuid;

pub(crate) fn balances(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, member, current, earned, spent, expired, blocked) in
        std::mem::take(&mut m.balances)
    {
        if !exp.slice.holds_member(member) {
            continue;
        }
        let key = format!("{program}/{member}");
        let member = MemberId(member);
        let Some(b) = exp.balances.0.remove(&member) else {
            out.unexpected("balances", key, (current, earned, spent, expired));
            continue;
        };
        out.compare(
            "balances",
            &key,
            (b.current, b.earned, b.spent, b.expired),
            (current, earned, spent, expired),
        );
        out.compare(
            "balances.program",
            &key,
            exp.member_program.get(&member).copied(),
            Some(program),
        );
        out.compare(
            "balances.blocked",
            &key,
            exp.blocked.get(&member).copied().unwrap_or(false),
            blocked,
        );
    }
    for (member, b) in exp.balances.0.drain() {
        let program = exp.member_program.get(&member).copied().unwrap_or_default();
        out.missing(
            "balances",
            format!("{program}/{member}"),
            (b.current, b.earned, b.spent, b.expired),
        );
    }
}

/// Each member's tier row against their last move, and every move against its ladder.
pub(crate) fn tiers(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, member, tier, level, multiplier, points, version, since) in
        std::mem::take(&mut m.tiers)
    {
        if !exp.slice.holds_member(member) {
            continue;
        }
        let key = format!("{program}/{member}");
        let actual = crate::balances::TierRow {
            tier,
            level,
            multiplier_percent: multiplier,
            qualifying_points: points,
            rule_version: version,
            since,
        };
        match exp.tiers.remove(&(program, member)) {
            Some(expected) => out.compare("member_tiers", key, expected, actual),
            None => out.unexpected("member_tiers", key, actual),
        }
    }
    for ((program, member), expected) in exp.tiers.drain() {
        out.missing("member_tiers", format!("{program}/{member}"), expected);
    }
    for (key, expected, recorded) in std::mem::take(&mut exp.unjustified_moves) {
        out.compare("tier_moves", key, expected, recorded);
    }
}

/// Every expiry against the lots and the rules it names (the balances compare its effect).
pub(crate) fn expiries(exp: &mut Expected, out: &mut Findings) {
    for (key, points) in std::mem::take(&mut exp.unjustified_expiries) {
        out.unexpected("expiries", key, points);
    }
}

/// The leaderboard model against the fold, row by row as it is read: a row takes its expected
/// score out of the fold's map (a member's entry goes once all their boards are matched), so
/// neither side grows while comparing; what is left in the map at [`BoardCheck::finish`] is
/// missing from the model.
#[derive(Default)]
pub(crate) struct BoardCheck {
    /// The fold's index of each stored board key by its text (a few per program and period);
    /// none for a key that does not parse or that no expected score names.
    ids: FastMap<String, Option<u32>>,
}

impl BoardCheck {
    pub fn row(
        &mut self,
        exp: &mut Expected,
        out: &mut Findings,
        (program, key, member, score): (Uuid, &str, Uuid, i64),
    ) {
        if !exp.slice.holds_member(member) {
            return;
        }
        let board = match self.ids.get(key) {
            Some(board) => *board,
            None => *self
                .ids
                .entry(key.to_string())
                .or_insert_with(|| parse_board_key(key).and_then(|b| exp.boards.find(&b))),
        };
        let at = (program, MemberId(member));
        let expected = board.and_then(|board| {
            let scores = exp.board_scores.get_mut(&at)?;
            let i = scores.iter().position(|s| s.board == board)?;
            let expected = scores.swap_remove(i).score;
            if scores.is_empty() {
                exp.board_scores.remove(&at);
            }
            Some(expected)
        });
        let key = || format!("{program}/{key}/{member}");
        match expected {
            Some(expected) if expected == score => {}
            Some(expected) => out.compare("leaderboard", key(), expected, score),
            None => out.unexpected("leaderboard", key(), score),
        }
    }

    pub fn finish(exp: &mut Expected, out: &mut Findings) {
        for ((program, member), scores) in exp.board_scores.drain() {
            for s in scores {
                let board = exp.boards.key(s.board).map_or("?".into(), board_key);
                let score = s.score;
                out.missing("leaderboard", format!("{program}/{board}/{member}"), score);
            }
        }
    }
}

/// The seasons model against the stream states, and every season's scores against its board
/// (a member with no points on either side has nothing to compare); then the season events
/// the log's fold does not justify.
pub(crate) fn seasons(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    use domain::season::SeasonStatus;
    use std::collections::HashMap;
    let mut rows: HashMap<(uuid::Uuid, uuid::Uuid), _> = std::mem::take(&mut m.seasons)
        .into_iter()
        .map(
            |(program, season, status, standings, participants, paid, withheld)| {
                let row = (status, standings.map(|s| s.0), participants, paid, withheld);
                ((program, season), row)
            },
        )
        .collect();
    for ((program, season), state) in exp.seasons.drain() {
        let key = format!("{program}/{season}");
        if state.status == SeasonStatus::Unscheduled {
            continue;
        }
        let status = state.status.as_str();
        let ended = matches!(state.status, SeasonStatus::Ended | SeasonStatus::Settled);
        let expected = (
            status.to_string(),
            ended.then(|| state.standings.clone()),
            ended.then(|| i32::try_from(state.participants).unwrap_or(i32::MAX)),
        );
        match rows.remove(&(program, season.0)) {
            Some((status, standings, participants, ..)) => {
                out.compare("seasons", key, expected, (status, standings, participants))
            }
            None => out.missing("seasons", key, expected),
        }
    }
    for ((program, season), row) in rows {
        out.unexpected("seasons", format!("{program}/{season}"), row.0);
    }
    let mut stored: HashMap<(uuid::Uuid, uuid::Uuid), i64> = std::mem::take(&mut m.season_scores)
        .into_iter()
        .filter(|(.., score)| *score != 0)
        .map(|(season, member, score)| ((season, member), score))
        .collect();
    for (season, board) in &exp.season_boards.boards {
        for (member, score) in board.scores.iter().filter(|(_, s)| **s != 0) {
            let key = format!("{season}/{member}");
            match stored.remove(&(season.0, member.0)) {
                Some(found) => out.compare("season_scores", key, *score, found),
                None => out.missing("season_scores", key, *score),
            }
        }
    }
    for ((season, member), score) in stored {
        out.unexpected("season_scores", format!("{season}/{member}"), score);
    }
    for (key, expected, recorded) in std::mem::take(&mut exp.unjustified_seasons) {
        out.push(
            "season_events",
            super::findings::DifferenceKind::Changed,
            key,
            expected,
            recorded,
        );
    }
}
