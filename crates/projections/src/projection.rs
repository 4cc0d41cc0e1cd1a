//! The projections this crate maintains: each a name, its tables, and a fold of a batch of
//! events into one set of row changes, written in one go.

use crate::error::{ProjectionError, Result};
use crate::source::{Recorded, Zones};
use crate::{
    admin_log, balances, campaigns, daily_stats, identities, leaderboards, rewards, seasons,
};
use sqlx::PgConnection;

/// A read model folded from the log, with its own checkpoint and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Projection {
    Balances,
    Leaderboards,
    Campaigns,
    Identities,
    Rewards,
    AdminLog,
    DailyStats,
    Seasons,
}

impl Projection {
    pub const ALL: [Projection; 8] = [
        Projection::Balances,
        Projection::Leaderboards,
        Projection::Campaigns,
        Projection::Identities,
        Projection::Rewards,
        Projection::AdminLog,
        Projection::DailyStats,
        Projection::Seasons,
    ];

    /// Its place in [`Projection::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable name: checkpoint key, lock key and CLI argument.
    pub fn name(self) -> &'static str {
        match self {
            Projection::Balances => "balances",
            Projection::Leaderboards => "leaderboards",
            Projection::Campaigns => "campaigns",
            Projection::Identities => "identities",
            Projection::Rewards => "rewards",
            Projection::AdminLog => "admin_log",
            Projection::DailyStats => "daily_stats",
            Projection::Seasons => "seasons",
        }
    }

    /// The tables it owns; a rebuild replaces them together.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::Balances => &["balances", "member_tiers"],
            Projection::Leaderboards => &["leaderboard"],
            Projection::Campaigns => &["campaigns", "codeword_redemptions"],
            Projection::Identities => &["identities"],
            Projection::Rewards => &["rewards", "reward_redemptions"],
            Projection::AdminLog => &["adjustments", "manager_actions", "held_awards"],
            Projection::DailyStats => &["daily_stats", "daily_active"],
            Projection::Seasons => &["seasons", "season_scores", "season_entries"],
        }
    }

    pub fn parse(name: &str) -> Result<Projection> {
        Projection::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| ProjectionError::UnknownProjection(name.to_string()))
    }

    /// `None` means all of them.
    pub fn selected(name: Option<&str>) -> Result<Vec<Projection>> {
        match name {
            None => Ok(Projection::ALL.to_vec()),
            Some(n) => Ok(vec![Projection::parse(n)?]),
        }
    }
}

/// Which copy of a projection's tables a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    /// Appended to every table name: "" for the live tables, "_rebuild" beside them.
    pub suffix: &'static str,
    /// The tables are empty and have no indexes yet: changes are complete rows, inserted
    /// without conflict handling (the bulk first step of a rebuild).
    pub fresh: bool,
}

impl Target {
    pub const LIVE: Target = Target {
        suffix: "",
        fresh: false,
    };
    pub const REBUILD_FRESH: Target = Target {
        suffix: "_rebuild",
        fresh: true,
    };
    pub const REBUILD: Target = Target {
        suffix: "_rebuild",
        fresh: false,
    };

    pub fn table(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }
}

/// The rows one batch changes in one projection's tables, aggregated in memory so that a
/// batch writes each changed row once, whatever the number of events.
pub(crate) enum Changes {
    Balances(balances::Changes),
    Leaderboards(leaderboards::Changes),
    Campaigns(campaigns::Changes),
    Identities(identities::Changes),
    Rewards(rewards::Changes),
    AdminLog(admin_log::Changes),
    DailyStats(daily_stats::Changes),
    Seasons(seasons::Changes),
}

impl Changes {
    pub fn new(projection: Projection) -> Changes {
        match projection {
            Projection::Balances => Changes::Balances(Default::default()),
            Projection::Leaderboards => Changes::Leaderboards(Default::default()),
            Projection::Campaigns => Changes::Campaigns(Default::default()),
            Projection::Identities => Changes::Identities(Default::default()),
            Projection::Rewards => Changes::Rewards(Default::default()),
            Projection::AdminLog => Changes::AdminLog(Default::default()),
            Projection::DailyStats => Changes::DailyStats(Default::default()),
            Projection::Seasons => Changes::Seasons(Default::default()),
        }
    }

    /// Changes that start at position 0 of the log (a rebuild's fold), where a projection
    /// that reads its earlier rows back at the write may fold as events come instead.
    pub fn from_start(projection: Projection) -> Changes {
        match projection {
            Projection::Seasons => Changes::Seasons(seasons::Changes::from_start()),
            other => Changes::new(other),
        }
    }

    pub fn add(&mut self, r: &Recorded, zones: &Zones) {
        match self {
            Changes::Balances(c) => c.add(r),
            Changes::Leaderboards(c) => c.add(r, zones),
            Changes::Campaigns(c) => c.add(r),
            Changes::Identities(c) => c.add(r),
            Changes::Rewards(c) => c.add(r),
            Changes::AdminLog(c) => c.add(r),
            Changes::DailyStats(c) => c.add(r, zones),
            Changes::Seasons(c) => c.add(r),
        }
    }

    /// Rows held in memory: a rebuild flushes when the sum grows past its limit.
    pub fn rows(&self) -> usize {
        match self {
            Changes::Balances(c) => c.rows(),
            Changes::Leaderboards(c) => c.rows(),
            Changes::Campaigns(c) => c.rows(),
            Changes::Identities(c) => c.rows(),
            Changes::Rewards(c) => c.rows(),
            Changes::AdminLog(c) => c.rows(),
            Changes::DailyStats(c) => c.rows(),
            Changes::Seasons(c) => c.rows(),
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        match self {
            Changes::Balances(c) => c.write(conn, target).await,
            Changes::Leaderboards(c) => c.write(conn, target).await,
            Changes::Campaigns(c) => c.write(conn, target).await,
            Changes::Identities(c) => c.write(conn, target).await,
            Changes::Rewards(c) => c.write(conn, target).await,
            Changes::AdminLog(c) => c.write(conn, target).await,
            Changes::DailyStats(c) => c.write(conn, target).await,
            Changes::Seasons(c) => c.write(conn, target).await,
        }
    }
}

/// The maps batches aggregate in: keys are ids, not attacker-chosen, so a fast hasher is safe.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Rows per statement when a batch is large (bulk rebuild): bounds one message's size.
pub(crate) const ROWS_PER_STATEMENT: usize = 50_000;
