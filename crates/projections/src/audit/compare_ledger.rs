//! Compares balances, tiers, leaderboards and seasons row by row with the fold, balances, tiers
//! and leaderboards for the members of the pass's slice. Each stored row takes its expected
//! entry out of the fold's maps as it is read; what is left afterwards is missing from the
//! model (the `*_left` functions).

use super::expected::Expected;
use super::findings::Findings;
use super::models::{BalanceRow, SeasonModelRow, SeasonScoreRow, TierModelRow};
use crate::leaderboards::{board_key, parse_board_key};
use crate::projection::FastMap;
use domain::ids::MemberId;
use uuid::Uuid;

pub(crate) fn balance(exp: &mut Expected, out: &mut Findings, row: BalanceRow) {
    let (program, member, current, earned, spent, expired, blocked) = row;
    if !exp.slice.holds_member(member) {
        return;
    }
    let key = format!("{program}/{member}");
    let member = MemberId(member);
    let Some(b) = exp.balances.0.remove(&member) else {
        out.unexpected("balances", key, (current, earned, spent, expired));
        return;
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

pub(crate) fn balances_left(exp: &mut Expected, out: &mut Findings) {
    for (member, b) in exp.balances.0.drain() {
        let program = exp.member_program.get(&member).copied().unwrap_or_default();
        out.missing(
            "balances",
            format!("{program}/{member}"),
            (b.current, b.earned, b.spent, b.expired),
        );
    }
}

/// A member's tier row against their last move.
pub(crate) fn tier(exp: &mut Expected, out: &mut Findings, row: TierModelRow) {
    let (program, member, tier, level, multiplier, points, version, since) = row;
    if !exp.slice.holds_member(member) {
        return;
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

/// The tier rows the model lacks, and every move against its ladder.
pub(crate) fn tiers_left(exp: &mut Expected, out: &mut Findings) {
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

/// A season's row against its stream's state (a season never scheduled has no row).
pub(crate) fn season(exp: &mut Expected, out: &mut Findings, row: SeasonModelRow) {
    use domain::season::SeasonStatus;
    let (program, season, status, standings, participants, ..) = row;
    let key = format!("{program}/{season}");
    let state = exp
        .seasons
        .remove(&(program, domain::ids::SeasonId(season)))
        .filter(|state| state.status != SeasonStatus::Unscheduled);
    match state {
        Some(state) => out.compare(
            "seasons",
            key,
            season_expected(&state),
            (status, standings.map(|s| s.0), participants),
        ),
        None => out.unexpected("seasons", key, status),
    }
}

/// What a season's row holds by its stream's state: status, and once ended its frozen
/// standings and participants.
fn season_expected(
    state: &domain::season::SeasonState,
) -> (String, Option<Vec<domain::season::Standing>>, Option<i32>) {
    use domain::season::SeasonStatus;
    let ended = matches!(state.status, SeasonStatus::Ended | SeasonStatus::Settled);
    (
        state.status.as_str().to_string(),
        ended.then(|| state.standings.clone()),
        ended.then(|| i32::try_from(state.participants).unwrap_or(i32::MAX)),
    )
}

/// A member's score in a season against the season's board (no points on either side is
/// nothing to compare: a stored 0 counts as no row).
pub(crate) fn season_score(exp: &mut Expected, out: &mut Findings, row: SeasonScoreRow) {
    let (season, member, score) = row;
    let expected = exp
        .season_boards
        .boards
        .get_mut(&domain::ids::SeasonId(season))
        .and_then(|board| board.scores.remove(&MemberId(member)))
        .filter(|expected| *expected != 0);
    let key = || format!("{season}/{member}");
    match (expected, score) {
        (None, 0) => {}
        (Some(expected), 0) => out.missing("season_scores", key(), expected),
        (Some(expected), _) => out.compare("season_scores", key(), expected, score),
        (None, _) => out.unexpected("season_scores", key(), score),
    }
}

/// The seasons and season scores the model lacks; then the season events the log's fold does
/// not justify.
pub(crate) fn seasons_left(exp: &mut Expected, out: &mut Findings) {
    use domain::season::SeasonStatus;
    for ((program, season), state) in exp.seasons.drain() {
        if state.status != SeasonStatus::Unscheduled {
            out.missing(
                "seasons",
                format!("{program}/{season}"),
                season_expected(&state),
            );
        }
    }
    for (season, board) in &exp.season_boards.boards {
        for (member, score) in board.scores.iter().filter(|(_, s)| **s != 0) {
            out.missing("season_scores", format!("{season}/{member}"), *score);
        }
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
