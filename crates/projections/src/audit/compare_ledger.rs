//! Compares balances and leaderboards row by row with the fold.
//! Matched entries are taken out of the expected maps: what is left afterwards is missing from
//! the model.

use super::expected::Expected;
use super::findings::Findings;
use super::models::Models;
use crate::leaderboards::{board_key, parse_board_key};
use domain::folds::BoardKey;
use domain::ids::MemberId;

pub(crate) fn balances(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, member, current, earned, spent, expired, blocked) in
        std::mem::take(&mut m.balances)
    {
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

pub(crate) fn leaderboards(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    let mut model = std::mem::take(&mut m.boards);
    let boards: Vec<Option<BoardKey>> = model.keys.iter().map(|k| parse_board_key(k)).collect();
    let key_text = |id: u32| model.keys.get(id as usize).map_or("?", String::as_str);
    for ((program, member), expected) in exp.board_scores.drain() {
        let mut found = model
            .by_member
            .remove(&(program, member.0))
            .unwrap_or_default();
        for (board, score) in expected {
            let at = found
                .iter()
                .position(|(id, _)| boards.get(*id as usize) == Some(&Some(board)));
            let key = || format!("{program}/{}/{member}", board_key(&board));
            match at.map(|i| found.swap_remove(i).1) {
                Some(stored) if stored == score => {}
                Some(stored) => out.compare("leaderboard", key(), score, stored),
                None => out.missing("leaderboard", key(), score),
            }
        }
        for (id, score) in found {
            let key = format!("{program}/{}/{member}", key_text(id));
            out.unexpected("leaderboard", key, score);
        }
    }
    for ((program, member), rows) in model.by_member.drain() {
        for (id, score) in rows {
            let key = format!("{program}/{}/{member}", key_text(id));
            out.unexpected("leaderboard", key, score);
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
