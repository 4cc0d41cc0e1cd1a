//! Compares balances and leaderboards row by row with the fold.
//! Matched entries are taken out of the expected maps: what is left afterwards is missing from
//! the model.

use super::expected::Expected;
use super::findings::Findings;
use super::models::Models;
use crate::leaderboards::board_key;
use crate::projection::FastMap;
use domain::folds::BoardKey;
use domain::ids::MemberId;

pub(crate) fn balances(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    for (program, member, current, earned, spent, blocked) in std::mem::take(&mut m.balances) {
        let key = format!("{program}/{member}");
        let member = MemberId(member);
        let Some(b) = exp.balances.0.remove(&member) else {
            out.unexpected("balances", key, (current, earned, spent));
            continue;
        };
        out.compare(
            "balances",
            &key,
            (b.current, b.earned, b.spent),
            (current, earned, spent),
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
            (b.current, b.earned, b.spent),
        );
    }
}

pub(crate) fn leaderboards(m: &mut Models, exp: &mut Expected, out: &mut Findings) {
    // The text key of every expected board.
    let mut keys: FastMap<String, BoardKey> = FastMap::default();
    let mut texts: FastMap<BoardKey, String> = FastMap::default();
    for boards in exp.board_scores.values() {
        for (board, _) in boards {
            texts.entry(*board).or_insert_with(|| {
                let text = board_key(board);
                keys.insert(text.clone(), *board);
                text
            });
        }
    }
    for (program, board, member, score) in std::mem::take(&mut m.boards) {
        let expected = keys.get(&board).and_then(|b| {
            let boards = exp.board_scores.get_mut(&(program, MemberId(member)))?;
            let i = boards.iter().position(|(k, _)| k == b)?;
            Some(boards.swap_remove(i).1)
        });
        match expected {
            Some(e) if e == score => {}
            Some(e) => out.push(
                "leaderboard",
                format!("{program}/{board}/{member}"),
                e,
                score,
            ),
            None => out.unexpected("leaderboard", format!("{program}/{board}/{member}"), score),
        }
    }
    for ((program, member), boards) in exp.board_scores.drain() {
        for (board, score) in boards {
            out.missing(
                "leaderboard",
                format!("{program}/{}/{member}", board_key(&board)),
                score,
            );
        }
    }
}
