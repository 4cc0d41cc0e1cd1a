//! Projection "leaderboards": each member's score on every board the domain defines
//! (`Leaderboards::changes`: all-time, ISO week and month in the program's zone, each overall
//! and per network). Ranks are computed in memory from it (`live_boards`).

use crate::error::Result;
use crate::projection::{FastMap, ROWS_PER_STATEMENT, Target};
use crate::source::{Recorded, Zones};
use domain::folds::{BoardKey, Leaderboards, Period};
use domain::ids::MemberId;
use domain::network::Network;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::io::Write;
use uuid::Uuid;

/// The stored text key of a board: `all`, `w2026-47`, `m2026-11`, or with a network
/// `all:vk`, `w2026-47:instagram`.
pub fn board_key(board: &BoardKey) -> String {
    match board.network {
        None => board.period.to_string(),
        Some(network) => format!("{}:{network}", board.period),
    }
}

/// The keys of every board a program has scores on, in key order. Reads one index entry per
/// board (a skip scan of `leaderboard_board_idx`), not the boards' rows.
pub async fn stored_boards(pool: &sqlx::PgPool, program: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "WITH RECURSIVE k(board_key) AS ( \
           (SELECT board_key FROM leaderboard WHERE program_id = $1 \
            ORDER BY board_key LIMIT 1) \
           UNION ALL \
           SELECT (SELECT h.board_key FROM leaderboard h \
                   WHERE h.program_id = $1 AND h.board_key > k.board_key \
                   ORDER BY h.board_key LIMIT 1) \
           FROM k WHERE k.board_key IS NOT NULL) \
         SELECT board_key FROM k WHERE board_key IS NOT NULL",
    )
    .bind(program)
    .fetch_all(pool)
    .await
}

/// The board a stored text key names: the inverse of [`board_key`]. Only the exact text
/// [`board_key`] writes is accepted (`w2026-7` is not `w2026-07`).
pub fn parse_board_key(text: &str) -> Option<BoardKey> {
    let (period_text, network) = match text.split_once(':') {
        Some((period, network)) => (period, Some(Network::parse(network)?)),
        None => (text, None),
    };
    let year_and = |rest: &str| -> Option<(i32, u32)> {
        let (year, n) = rest.split_once('-')?;
        Some((year.parse().ok()?, n.parse().ok()?))
    };
    let period = if period_text == "all" {
        Period::AllTime
    } else if let Some(rest) = period_text.strip_prefix('w') {
        let (iso_year, week) = year_and(rest)?;
        (1..=53).contains(&week).then_some(())?;
        Period::Week { iso_year, week }
    } else {
        let (year, month) = year_and(period_text.strip_prefix('m')?)?;
        (1..=12).contains(&month).then_some(())?;
        Period::Month { year, month }
    };
    let board = BoardKey { period, network };
    (board_key(&board) == text).then_some(board)
}

/// Deltas grouped by member: an event changes up to six boards of one member, so one map
/// lookup (and a short scan) per event instead of six lookups in a map of every row.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    members: FastMap<(Uuid, MemberId), Vec<(BoardKey, i64)>>,
    rows: usize,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn add(&mut self, r: &Recorded, zones: &Zones) {
        let changes = Leaderboards::changes(&r.event, zones.get(r.program_id));
        let Some((_, member, _)) = changes.first() else {
            return;
        };
        let boards = self.members.entry((r.program_id, *member)).or_default();
        for (board, _, delta) in changes {
            // A zero entry still matters: the domain fold keeps a member whose score nets to 0.
            match boards.iter_mut().find(|(b, _)| *b == board) {
                Some((_, d)) => *d += delta,
                None => {
                    boards.push((board, delta));
                    self.rows += 1;
                }
            }
        }
    }

    fn into_rows(self) -> impl Iterator<Item = ((Uuid, BoardKey, MemberId), i64)> {
        self.members
            .into_iter()
            .flat_map(|((p, m), boards)| boards.into_iter().map(move |(b, d)| ((p, b, m), d)))
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        if target.fresh {
            return write_fresh(conn, target, self.into_rows()).await;
        }
        let board_table = target.table("leaderboard");
        let mut keys: HashMap<BoardKey, String> = HashMap::new();
        let rows: Vec<_> = self.into_rows().collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut program = Vec::with_capacity(chunk.len());
            let mut board = Vec::with_capacity(chunk.len());
            let mut member = Vec::with_capacity(chunk.len());
            let mut delta = Vec::with_capacity(chunk.len());
            for ((p, b, m), d) in chunk {
                program.push(*p);
                board.push(keys.entry(*b).or_insert_with(|| board_key(b)).clone());
                member.push(m.0);
                delta.push(*d);
            }
            sqlx::query(&format!(
                "INSERT INTO {board_table} AS l (program_id, board_key, member_id, score) \
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::int8[]) \
                 ON CONFLICT (member_id, program_id, board_key) \
                 DO UPDATE SET score = l.score + EXCLUDED.score"
            ))
            .bind(&program)
            .bind(&board)
            .bind(&member)
            .bind(&delta)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// A board as stored: its program and text key.
type BoardName = (Uuid, String);

/// Complete boards into an empty table: rows go board by board, in board order, so that building
/// the board index afterwards finds its input already sorted.
async fn write_fresh(
    conn: &mut PgConnection,
    target: Target,
    rows: impl Iterator<Item = ((Uuid, BoardKey, MemberId), i64)>,
) -> Result<()> {
    let mut grouped: FastMap<(Uuid, BoardKey), Vec<(MemberId, i64)>> = FastMap::default();
    for ((program, board, member), score) in rows {
        grouped
            .entry((program, board))
            .or_default()
            .push((member, score));
    }
    let mut boards: Vec<(BoardName, Vec<(MemberId, i64)>)> = grouped
        .into_iter()
        .map(|((p, b), members)| ((p, board_key(&b)), members))
        .collect();
    boards.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let board_table = target.table("leaderboard");
    let mut text = Vec::with_capacity(COPY_CHUNK_BYTES + 256);
    for ((program, key), members) in &boards {
        for (member, score) in members {
            // COPY's text format: tab-separated, nothing here needs escaping.
            let _ = writeln!(text, "{program}\t{key}\t{}\t{score}", member.0);
            if text.len() >= COPY_CHUNK_BYTES {
                copy_rows(conn, &board_table, &mut text).await?;
            }
        }
    }
    copy_rows(conn, &board_table, &mut text).await?;
    Ok(())
}

/// Bytes of COPY text sent at a time.
const COPY_CHUNK_BYTES: usize = 4 << 20;

async fn copy_rows(conn: &mut PgConnection, table: &str, text: &mut Vec<u8>) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {table} (program_id, board_key, member_id, score) FROM STDIN"
        ))
        .await?;
    copy.send(text.as_slice()).await?;
    copy.finish().await?;
    text.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_board_key_parses_back_to_its_board() {
        for period in [
            Period::AllTime,
            Period::Week {
                iso_year: 2026,
                week: 7,
            },
            Period::Month {
                year: 2026,
                month: 11,
            },
        ] {
            for network in std::iter::once(None).chain(Network::ALL.map(Some)) {
                let board = BoardKey { period, network };
                assert_eq!(parse_board_key(&board_key(&board)), Some(board));
            }
        }
        for text in [
            "",
            "al",
            "w2026-7",
            "w2026",
            "m2026-11:fax",
            "x2026-01",
            "all:",
            "m2026-13",
            "m2026-00",
            "w2026-54",
            "w2026-00",
        ] {
            assert_eq!(parse_board_key(text), None, "{text:?}");
        }
    }
}
