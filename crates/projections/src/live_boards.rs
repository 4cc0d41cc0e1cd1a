//! Leaderboards held in memory by each serving process and kept current from the log: the
//! Mini App's most frequent questions ("top N", "my rank with my neighbours") answered without
//! a database round trip, in microseconds, at any number of members.
//!
//! A board is loaded on first use from the `leaderboard` read model together with that
//! projection's checkpoint (one snapshot), brought to the follower's place in the log, and from
//! then on follows the log through the same pure fold as the table (`Leaderboards::changes`).
//! So it shows exactly what the table shows at some checkpoint, usually a later one. Boards
//! nobody asked for in a while are dropped (finished weeks and months go that way).

use crate::checkpoint;
use crate::error::Result;
use crate::leaderboards::board_key;
use crate::projection::{FastMap, Projection};
use crate::ranking::{Around, MAX_NEIGHBOURS, MAX_TOP, Ranked};
use crate::source::{Recorded, Zones, read_after};
use domain::folds::{BoardKey, Leaderboards};
use parking_lot::RwLock;
use sqlx::{PgConnection, PgPool};
use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::Checkpoint;
use tokio::sync::{Mutex, watch};
use uuid::Uuid;

/// Events read from the log per round trip while following it.
const FOLLOW_BATCH: i64 = 5_000;

/// A board's entries in rank order: score descending, ties by member id ascending.
type Entry = (Reverse<i64>, Uuid);

#[derive(Default)]
struct Board {
    scores: FastMap<Uuid, i64>,
    order: indexset::BTreeSet<Entry>,
    /// Milliseconds since the boards were created, at the last query.
    last_used: AtomicU64,
}

impl Board {
    fn add(&mut self, member: Uuid, delta: i64) {
        let old = self.scores.get(&member).copied();
        if let Some(old) = old {
            self.order.remove(&(Reverse(old), member));
        }
        // A member whose score nets to 0 stays on the board, as in the table and the fold.
        let new = old.unwrap_or(0) + delta;
        self.scores.insert(member, new);
        self.order.insert((Reverse(new), member));
    }

    /// Competition rank of a score: 1 + the members with a higher score.
    fn rank_of(&self, score: i64) -> i64 {
        self.order.rank(&(Reverse(score), Uuid::nil())) as i64 + 1
    }

    fn ranked(&self, index: usize) -> Option<Ranked> {
        self.order
            .get_index(index)
            .map(|(Reverse(score), member)| Ranked {
                rank: self.rank_of(*score),
                member_id: *member,
                score: *score,
            })
    }

    fn top(&self, limit: usize) -> Vec<Ranked> {
        let mut out: Vec<Ranked> = Vec::with_capacity(limit.min(self.order.len()));
        for (i, (Reverse(score), member)) in self.order.iter().take(limit).enumerate() {
            // The list starts at the top, so a score's rank is 1 + the index of its first row.
            let rank = match out.last() {
                Some(prev) if prev.score == *score => prev.rank,
                _ => i as i64 + 1,
            };
            out.push(Ranked {
                rank,
                member_id: *member,
                score: *score,
            });
        }
        out
    }

    fn around(&self, member: Uuid, neighbours: usize) -> Option<Around> {
        let score = *self.scores.get(&member)?;
        let index = self.order.rank(&(Reverse(score), member));
        let me = Ranked {
            rank: self.rank_of(score),
            member_id: member,
            score,
        };
        let above = (index.saturating_sub(neighbours)..index)
            .filter_map(|i| self.ranked(i))
            .collect();
        let below = (index + 1..index + 1 + neighbours)
            .map_while(|i| self.ranked(i))
            .collect();
        Some(Around { me, above, below })
    }
}

struct Boards {
    /// Where in the log every loaded board stands; `None` until the first board loads.
    at: Option<Checkpoint>,
    boards: FastMap<(Uuid, BoardKey), Board>,
}

impl Boards {
    fn apply(&mut self, batch: &[Recorded], zones: &Zones) {
        for (id, member, delta) in board_changes(batch, zones) {
            if let Some(board) = self.boards.get_mut(&id) {
                board.add(member, delta);
            }
        }
    }
}

/// Every (board, member, delta) a batch makes, by the domain's fold.
fn board_changes<'a>(
    batch: &'a [Recorded],
    zones: &'a Zones,
) -> impl Iterator<Item = ((Uuid, BoardKey), Uuid, i64)> + 'a {
    batch.iter().flat_map(move |r| {
        Leaderboards::changes(&r.event, zones.get(r.program_id))
            .into_iter()
            .map(move |(key, member, delta)| ((r.program_id, key), member.0, delta))
    })
}

struct Shared {
    pool: PgPool,
    boards: RwLock<Boards>,
    /// Serialises following the log and loading boards; holds the programs' time zones.
    follower: Mutex<Zones>,
    epoch: Instant,
}

/// The in-memory leaderboards of this process. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct LiveBoards(Arc<Shared>);

impl LiveBoards {
    pub fn new(pool: PgPool) -> Self {
        Self(Arc::new(Shared {
            pool,
            boards: RwLock::new(Boards {
                at: None,
                boards: FastMap::default(),
            }),
            follower: Mutex::new(Zones::default()),
            epoch: Instant::now(),
        }))
    }

    /// The best `limit` members of a board (at most [`MAX_TOP`]).
    pub async fn top(&self, program: Uuid, board: BoardKey, limit: i64) -> Result<Vec<Ranked>> {
        let limit = limit.clamp(0, MAX_TOP) as usize;
        self.with_board(program, board, |b| b.top(limit)).await
    }

    /// A member's rank with up to `neighbours` members on each side (best first above, closest
    /// first below); `None` if the member is not on this board.
    pub async fn around(
        &self,
        program: Uuid,
        board: BoardKey,
        member: Uuid,
        neighbours: i64,
    ) -> Result<Option<Around>> {
        let k = neighbours.clamp(0, MAX_NEIGHBOURS) as usize;
        self.with_board(program, board, |b| b.around(member, k))
            .await
    }

    /// Boards in memory and the entries on them, for metrics.
    pub fn loaded(&self) -> (usize, usize) {
        let boards = self.0.boards.read();
        let entries = boards.boards.values().map(|b| b.scores.len()).sum();
        (boards.boards.len(), entries)
    }

    /// Members on a loaded board; `None` if it is not loaded.
    pub fn loaded_len(&self, program: Uuid, board: BoardKey) -> Option<usize> {
        self.0
            .boards
            .read()
            .boards
            .get(&(program, board))
            .map(|b| b.scores.len())
    }

    async fn with_board<T>(
        &self,
        program: Uuid,
        board: BoardKey,
        answer: impl Fn(&Board) -> T,
    ) -> Result<T> {
        let now = self.now_ms();
        loop {
            {
                let boards = self.0.boards.read();
                if let Some(b) = boards.boards.get(&(program, board)) {
                    b.last_used.store(now, Ordering::Relaxed);
                    return Ok(answer(b));
                }
            }
            self.load(program, board).await?;
        }
    }

    fn now_ms(&self) -> u64 {
        self.0.epoch.elapsed().as_millis() as u64
    }

    /// Applies every event after the boards' place in the log that is visible now; returns how
    /// many were read. The follower task calls it on every append; tests call it directly.
    pub async fn catch_up(&self) -> Result<usize> {
        let mut zones = self.0.follower.lock().await;
        let Some(from) = self.0.boards.read().at else {
            return Ok(0);
        };
        let mut conn = self.0.pool.acquire().await?;
        replay(&mut conn, &mut zones, from, None, |batch, zones| {
            let mut boards = self.0.boards.write();
            boards.apply(batch, zones);
            if let Some(last) = batch.last() {
                boards.at = Some(last.checkpoint());
            }
        })
        .await
    }

    /// Catches up at least as far as the leaderboards projection stands now. Everything up to
    /// its checkpoint is committed, but another transaction can hold the gap-safe horizon back
    /// for a moment, so one [`catch_up`](Self::catch_up) may read nothing yet: look again.
    pub async fn catch_up_to_read_model(&self) -> Result<()> {
        let to = {
            let mut conn = self.0.pool.acquire().await?;
            checkpoint::load(&mut conn, Projection::Leaderboards.name()).await?
        };
        while self.0.boards.read().at.is_some_and(|at| at < to) {
            if self.catch_up().await? == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(())
    }

    /// Loads a board from the read model, then brings it and the others to one place in the
    /// log: the snapshot's checkpoint and the follower's, whichever is later.
    async fn load(&self, program: Uuid, key: BoardKey) -> Result<()> {
        let mut zones = self.0.follower.lock().await;
        if self.0.boards.read().boards.contains_key(&(program, key)) {
            return Ok(()); // loaded by whoever held the lock before us
        }
        let mut conn = self.0.pool.acquire().await?;
        let (snapshot_at, board) = snapshot(&mut conn, program, key).await?;
        let at = self.0.boards.read().at;
        match at {
            None => {}
            // The others are ahead: replay the gap for the new board alone.
            Some(at) if snapshot_at <= at => {
                let mut board = board;
                let id = (program, key);
                replay(
                    &mut conn,
                    &mut zones,
                    snapshot_at,
                    Some(at),
                    |batch, zones| {
                        for (_, member, delta) in board_changes(batch, zones).filter(|c| c.0 == id)
                        {
                            board.add(member, delta);
                        }
                    },
                )
                .await?;
                board.last_used.store(self.now_ms(), Ordering::Relaxed);
                self.0.boards.write().boards.insert(id, board);
                return Ok(());
            }
            // The new board is ahead: bring the others up to it first.
            Some(at) => {
                replay(
                    &mut conn,
                    &mut zones,
                    at,
                    Some(snapshot_at),
                    |batch, zones| {
                        self.0.boards.write().apply(batch, zones);
                    },
                )
                .await?;
            }
        }
        let mut boards = self.0.boards.write();
        board.last_used.store(self.now_ms(), Ordering::Relaxed);
        boards.boards.insert((program, key), board);
        boards.at = Some(snapshot_at);
        Ok(())
    }

    /// Drops the boards nobody asked for within `idle`; returns how many.
    pub fn evict_idle(&self, idle: Duration) -> usize {
        let now = self.now_ms();
        let idle = idle.as_millis() as u64;
        let mut boards = self.0.boards.write();
        let before = boards.boards.len();
        boards
            .boards
            .retain(|_, b| now.saturating_sub(b.last_used.load(Ordering::Relaxed)) < idle);
        if boards.boards.is_empty() {
            boards.at = None; // nothing to keep current: stop reading the log
        }
        before - boards.boards.len()
    }

    /// Follows the log until `shutdown` turns true: on every append signal, at least every
    /// `poll_interval`; drops boards idle for `idle` along the way. A wake-up that finds
    /// nothing new looks again soon (5 ms, doubling up to `poll_interval`): the append may sit
    /// behind another transaction's gap-safe horizon for a moment.
    pub async fn follow(
        self,
        mut wake: watch::Receiver<u64>,
        poll_interval: Duration,
        idle: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        const FIRST_RETRY: Duration = Duration::from_millis(5);
        let mut wake_open = true;
        // After a wake-up: how long to wait before looking again if nothing new shows.
        let mut retry: Option<Duration> = None;
        while !*shutdown.borrow() {
            let read = match self.catch_up().await {
                Ok(read) => read,
                Err(e) => {
                    tracing::warn!(error = %e, "live leaderboards could not follow the log");
                    0
                }
            };
            self.evict_idle(idle);
            let (boards, members) = self.loaded();
            metrics::gauge!("leaderboard_boards_in_memory").set(boards as f64);
            metrics::gauge!("leaderboard_entries_in_memory").set(members as f64);
            let pause = match retry {
                Some(pause) if read == 0 && boards > 0 && pause < poll_interval => {
                    retry = Some((pause * 2).min(poll_interval));
                    pause
                }
                _ => {
                    retry = None;
                    poll_interval
                }
            };
            tokio::select! {
                changed = wake.changed(), if wake_open => {
                    wake_open = changed.is_ok();
                    retry = wake_open.then_some(FIRST_RETRY);
                }
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// A board as the read model holds it, with the leaderboards projection's checkpoint, both
/// from one snapshot (the projection moves its rows and checkpoint in one transaction).
async fn snapshot(
    conn: &mut PgConnection,
    program: Uuid,
    key: BoardKey,
) -> Result<(Checkpoint, Board)> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let at = checkpoint::load(&mut tx, Projection::Leaderboards.name()).await?;
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT member_id, score FROM leaderboard WHERE program_id = $1 AND board_key = $2",
    )
    .bind(program)
    .bind(board_key(&key))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut board = Board::default();
    board.scores.reserve(rows.len());
    let mut entries: Vec<Entry> = Vec::with_capacity(rows.len());
    for (member, score) in rows {
        board.scores.insert(member, score);
        entries.push((Reverse(score), member));
    }
    entries.sort_unstable();
    board.order = entries.into_iter().collect();
    Ok((at, board))
}

/// Feeds `apply` the events after `from` in log order, batch by batch: up to and including
/// `to` (a checkpoint some reader has reached, so everything up to it is visible and will not
/// change), or with no `to` as far as is visible now. Returns how many events were read.
async fn replay(
    conn: &mut PgConnection,
    zones: &mut Zones,
    from: Checkpoint,
    to: Option<Checkpoint>,
    mut apply: impl FnMut(&[Recorded], &Zones),
) -> Result<usize> {
    let mut at = from;
    let mut read = 0;
    while to.is_none_or(|to| at < to) {
        let mut batch = read_after(conn, at, FOLLOW_BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        at = last.checkpoint();
        if let Some(to) = to {
            batch.retain(|r| r.checkpoint() <= to);
        }
        read += batch.len();
        zones.resolve(conn, &batch).await?;
        apply(&batch, zones);
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Ranks computed the slow, obvious way: sort everybody, count the higher scores.
    fn expected(scores: &FastMap<Uuid, i64>) -> Vec<Ranked> {
        let mut rows: Vec<(Uuid, i64)> = scores.iter().map(|(m, s)| (*m, *s)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        rows.iter()
            .map(|(m, s)| Ranked {
                rank: 1 + rows.iter().filter(|(_, t)| t > s).count() as i64,
                member_id: *m,
                score: *s,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn top_and_around_agree_with_a_full_sort(
            changes in prop::collection::vec((0u8..40, -20i64..60), 1..300),
            limit in 0usize..50,
            neighbours in 0usize..6,
        ) {
            let mut board = Board::default();
            for (member, delta) in &changes {
                board.add(Uuid::from_u128(u128::from(*member)), *delta);
            }
            let all = expected(&board.scores);
            prop_assert_eq!(board.order.len(), board.scores.len());
            prop_assert_eq!(board.top(limit), all.iter().take(limit).copied().collect::<Vec<_>>());
            for (i, me) in all.iter().enumerate() {
                let around = board.around(me.member_id, neighbours).unwrap();
                prop_assert_eq!(around.me, *me);
                prop_assert_eq!(&around.above, &all[i.saturating_sub(neighbours)..i].to_vec());
                let end = (i + 1 + neighbours).min(all.len());
                prop_assert_eq!(&around.below, &all[i + 1..end].to_vec());
            }
        }
    }

    #[test]
    fn a_member_not_on_the_board_has_no_place() {
        let mut board = Board::default();
        board.add(Uuid::from_u128(1), 10);
        assert!(board.around(Uuid::from_u128(2), 3).is_none());
    }

    #[test]
    fn a_score_that_nets_to_zero_stays_on_the_board() {
        let mut board = Board::default();
        board.add(Uuid::from_u128(1), 10);
        board.add(Uuid::from_u128(1), -10);
        assert_eq!(board.top(10).len(), 1);
        assert_eq!(board.top(10)[0].score, 0);
    }
}
