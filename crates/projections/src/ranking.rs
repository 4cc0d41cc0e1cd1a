//! What a leaderboard answer is: competition ranking (equal scores share a rank; lists order
//! ties by member id), and which board is "current" for a program. The answers themselves come
//! from [`crate::live_boards`].

use crate::error::Result;
use crate::source::Zones;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::folds::{BoardKey, Period};
use domain::network::Network;
use serde::Serialize;
use sqlx::PgPool;
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

/// The board for the period containing `now` in the program's zone.
pub fn current_board(
    kind: PeriodKind,
    network: Option<Network>,
    tz: Tz,
    now: DateTime<Utc>,
) -> BoardKey {
    let [week, month] = Period::containing(now, tz);
    let period = match kind {
        PeriodKind::AllTime => Period::AllTime,
        PeriodKind::Week => week,
        PeriodKind::Month => month,
    };
    BoardKey { period, network }
}

/// The program's time zone from its ProgramCreated event (UTC if it was never created).
pub async fn program_time_zone(pool: &PgPool, program_id: Uuid) -> Result<Tz> {
    let mut conn = pool.acquire().await?;
    let mut zones = Zones::default();
    zones.load(&mut conn, &[program_id]).await?;
    Ok(zones.get(program_id))
}
