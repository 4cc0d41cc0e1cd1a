//! Leaderboard queries: "top N" and "my rank with my neighbours", in competition ranking
//! (equal scores share a rank; the list orders ties by member id). A rank is 1 + the members
//! with a higher score, summed from the score histogram, never counted from index entries.

use crate::error::Result;
use crate::leaderboards::board_key;
use crate::source::Zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::folds::{BoardKey, Period};
use domain::network::Network;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The longest list `top` returns and the most neighbours `around` returns on each side.
pub const MAX_TOP: i64 = 1_000;
pub const MAX_NEIGHBOURS: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub rank: i64,
    pub member_id: Uuid,
    pub score: i64,
}

/// A member's place on a board: who is just above (best first) and just below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Around {
    pub me: Ranked,
    pub above: Vec<Ranked>,
    pub below: Vec<Ranked>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodKind {
    AllTime,
    Week,
    Month,
}

/// The key of the board for the period containing `now` in the program's zone.
pub fn current_board_key(
    kind: PeriodKind,
    network: Option<Network>,
    tz: Tz,
    now: DateTime<Utc>,
) -> String {
    let [week, month] = Period::containing(now, tz);
    let period = match kind {
        PeriodKind::AllTime => Period::AllTime,
        PeriodKind::Week => week,
        PeriodKind::Month => month,
    };
    board_key(&BoardKey { period, network })
}

/// The program's time zone from its ProgramCreated event (UTC if it was never created).
pub async fn program_time_zone(pool: &PgPool, program_id: Uuid) -> Result<Tz> {
    let mut conn = pool.acquire().await?;
    let mut zones = Zones::default();
    zones.load(&mut conn, &[program_id]).await?;
    Ok(zones.get(program_id))
}

/// The best `limit` members of a board (at most [`MAX_TOP`]).
pub async fn top(pool: &PgPool, program_id: Uuid, board: &str, limit: i64) -> Result<Vec<Ranked>> {
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2 \
         ORDER BY score DESC, member_id LIMIT $3",
    )
    .bind(program_id)
    .bind(board)
    .bind(limit.clamp(0, MAX_TOP))
    .fetch_all(pool)
    .await?;
    // The list starts at the top, so a score's rank is 1 + the index of its first row.
    let mut out: Vec<Ranked> = Vec::with_capacity(rows.len());
    for (i, (member_id, score)) in rows.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.score == score => prev.rank,
            _ => i as i64 + 1,
        };
        out.push(Ranked {
            rank,
            member_id,
            score,
        });
    }
    Ok(out)
}

/// A member's rank with up to `neighbours` members on each side; `None` if the member is not
/// on this board.
pub async fn around(
    pool: &PgPool,
    program_id: Uuid,
    board: &str,
    member_id: Uuid,
    neighbours: i64,
) -> Result<Option<Around>> {
    let me: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT l.score, \
           (SELECT coalesce(sum(h.members), 0)::int8 FROM leaderboard_histogram h \
             WHERE h.program_id = $1 AND h.board_key = $2 AND h.score > l.score), \
           (SELECT coalesce(sum(h.members), 0)::int8 FROM leaderboard_histogram h \
             WHERE h.program_id = $1 AND h.board_key = $2 AND h.score = l.score) \
         FROM leaderboard l WHERE l.program_id = $1 AND l.board_key = $2 AND l.member_id = $3",
    )
    .bind(program_id)
    .bind(board)
    .bind(member_id)
    .fetch_optional(pool)
    .await?;
    let Some((score, higher, at_my_score)) = me else {
        return Ok(None);
    };
    let k = neighbours.clamp(0, MAX_NEIGHBOURS);
    let me = Ranked {
        rank: higher + 1,
        member_id,
        score,
    };
    if k == 0 {
        return Ok(Some(Around {
            me,
            above: vec![],
            below: vec![],
        }));
    }
    // A second statement, so that my score is a constant the planner can range-scan from (as
    // a value from a CTE it is not). side 1: above me, closest first; -1: below me, closest
    // first; 0: how many hold the highest score above me (its rank depends on all of them).
    let rows: Vec<(i16, Option<Uuid>, i64)> = sqlx::query_as(
        "WITH above AS (SELECT * FROM ( \
             (SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2 \
                AND score = $3 AND member_id < $4 ORDER BY member_id DESC LIMIT $5) \
             UNION ALL \
             (SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2 \
                AND score > $3 ORDER BY score, member_id DESC LIMIT $5)) u \
           ORDER BY score, member_id DESC LIMIT $5), \
         below AS (SELECT * FROM ( \
             (SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2 \
                AND score = $3 AND member_id > $4 ORDER BY member_id LIMIT $5) \
             UNION ALL \
             (SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2 \
                AND score < $3 ORDER BY score DESC, member_id LIMIT $5)) u \
           ORDER BY score DESC, member_id LIMIT $5) \
         SELECT 1::int2, member_id, score FROM above \
         UNION ALL SELECT -1::int2, member_id, score FROM below \
         UNION ALL SELECT 0::int2, NULL::uuid, h.members FROM leaderboard_histogram h \
           WHERE h.program_id = $1 AND h.board_key = $2 AND h.score = (SELECT max(score) FROM above)",
    )
    .bind(program_id)
    .bind(board)
    .bind(score)
    .bind(member_id)
    .bind(k)
    .fetch_all(pool)
    .await?;
    let mut above: Vec<(Uuid, i64)> = Vec::new();
    let mut below: Vec<(Uuid, i64)> = Vec::new();
    let mut at_top_score = 0;
    for (side, member, value) in rows {
        match (side, member) {
            (1, Some(m)) => above.push((m, value)),
            (-1, Some(m)) => below.push((m, value)),
            (0, _) => at_top_score = value,
            _ => {}
        }
    }
    Ok(Some(Around {
        above: rank_above(&me, &above, at_top_score),
        below: rank_below(&me, &below, at_my_score),
        me,
    }))
}

/// Ranks the rows above `me` (given closest first), returned best first. Every member whose
/// score lies strictly between mine and the window's top score is inside the window.
fn rank_above(me: &Ranked, rows: &[(Uuid, i64)], at_top_score: i64) -> Vec<Ranked> {
    let mut in_window: BTreeMap<i64, i64> = BTreeMap::new();
    for (_, s) in rows.iter().filter(|(_, s)| *s > me.score) {
        *in_window.entry(*s).or_default() += 1;
    }
    let top = in_window.keys().next_back().copied();
    let mut higher: BTreeMap<i64, i64> = BTreeMap::new();
    let mut passed = 0;
    for (s, n) in &in_window {
        passed += if Some(*s) == top {
            at_top_score.max(*n)
        } else {
            *n
        };
        higher.insert(*s, me.rank - 1 - passed);
    }
    rows.iter()
        .rev()
        .map(|(m, s)| Ranked {
            rank: if *s == me.score {
                me.rank
            } else {
                higher.get(s).map_or(me.rank, |h| h + 1)
            },
            member_id: *m,
            score: *s,
        })
        .collect()
}

/// Ranks the rows below `me` (given closest first), in that order.
fn rank_below(me: &Ranked, rows: &[(Uuid, i64)], at_my_score: i64) -> Vec<Ranked> {
    let mut in_window: BTreeMap<i64, i64> = BTreeMap::new();
    for (_, s) in rows.iter().filter(|(_, s)| *s < me.score) {
        *in_window.entry(*s).or_default() += 1;
    }
    let mut higher: BTreeMap<i64, i64> = BTreeMap::new();
    let mut above = me.rank - 1 + at_my_score.max(1);
    for (s, n) in in_window.iter().rev() {
        higher.insert(*s, above);
        above += n;
    }
    rows.iter()
        .map(|(m, s)| Ranked {
            rank: if *s == me.score {
                me.rank
            } else {
                higher.get(s).map_or(me.rank, |h| h + 1)
            },
            member_id: *m,
            score: *s,
        })
        .collect()
}
