//! Projection "leaderboards": each member's score on every board the domain defines
//! (`Leaderboards::changes`: all-time, ISO week and month in the program's zone, each overall
//! and per network), and a histogram of scores per board that makes a rank one range sum.

use crate::error::Result;
use crate::projection::{FastMap, ROWS_PER_STATEMENT, Target};
use crate::source::{Recorded, Zones};
use domain::folds::{BoardKey, Leaderboards};
use domain::ids::MemberId;
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
        let histogram_table = target.table("leaderboard_histogram");
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
            // Upsert the scores, then move each changed member from its old score's histogram
            // bucket to its new one: old = new - delta, unless the row was just inserted.
            sqlx::query(&format!(
                "WITH d AS (SELECT p AS program_id, b COLLATE \"C\" AS board_key, m AS member_id, delta \
                   FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::int8[]) AS t(p, b, m, delta)), \
                 up AS (INSERT INTO {board_table} AS l (program_id, board_key, member_id, score) \
                   SELECT program_id, board_key, member_id, delta FROM d \
                   ON CONFLICT (member_id, program_id, board_key) \
                   DO UPDATE SET score = l.score + EXCLUDED.score \
                   RETURNING l.program_id, l.board_key, l.member_id, l.score, (xmax = 0) AS inserted), \
                 moves AS (SELECT program_id, board_key, score, 1::int8 AS n FROM up \
                   UNION ALL \
                   SELECT up.program_id, up.board_key, up.score - d.delta, -1::int8 FROM up \
                   JOIN d USING (program_id, board_key, member_id) WHERE NOT up.inserted), \
                 net AS (SELECT program_id, board_key, score, sum(n)::int8 AS n FROM moves \
                   GROUP BY program_id, board_key, score HAVING sum(n) <> 0) \
                 INSERT INTO {histogram_table} AS h (program_id, board_key, score, members) \
                 SELECT program_id, board_key, score, n FROM net \
                 ON CONFLICT (program_id, board_key, score) \
                 DO UPDATE SET members = h.members + EXCLUDED.members"
            ))
            .bind(&program)
            .bind(&board)
            .bind(&member)
            .bind(&delta)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(&format!("DELETE FROM {histogram_table} WHERE members = 0"))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// A board as stored: its program and text key.
type BoardName = (Uuid, String);

/// Complete boards into empty tables: rows go in rank order (and the histogram in key order)
/// so that building the indexes afterwards finds its input already sorted.
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
    let mut histogram = Histogram::default();
    let mut text = Vec::with_capacity(COPY_CHUNK_BYTES + 256);
    for ((program, key), members) in &mut boards {
        members.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (member, score) in members.iter() {
            // COPY's text format: tab-separated, nothing here needs escaping.
            let _ = writeln!(text, "{program}\t{key}\t{}\t{score}", member.0);
            if text.len() >= COPY_CHUNK_BYTES {
                copy_rows(conn, &board_table, &mut text).await?;
            }
        }
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for (_, score) in members.iter() {
            match runs.last_mut() {
                Some((s, n)) if s == score => *n += 1,
                _ => runs.push((*score, 1)),
            }
        }
        for (score, n) in runs.into_iter().rev() {
            histogram.push(*program, key, score, n);
        }
    }
    copy_rows(conn, &board_table, &mut text).await?;
    histogram
        .insert(conn, &target.table("leaderboard_histogram"))
        .await?;
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

/// The histogram of fresh boards, as columns for one insert.
#[derive(Default)]
struct Histogram<'a> {
    program: Vec<Uuid>,
    board: Vec<&'a str>,
    score: Vec<i64>,
    members: Vec<i64>,
}

impl<'a> Histogram<'a> {
    fn push(&mut self, program: Uuid, board: &'a str, score: i64, members: i64) {
        self.program.push(program);
        self.board.push(board);
        self.score.push(score);
        self.members.push(members);
    }

    async fn insert(&self, conn: &mut PgConnection, table: &str) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO {table} (program_id, board_key, score, members) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::int8[])"
        ))
        .bind(&self.program)
        .bind(&self.board)
        .bind(&self.score)
        .bind(&self.members)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
