//! Read models folded from the event log, the runner that keeps them current, their rebuild,
//! and the auditor's checks.
//!
//! Invariants: a read model holds nothing but what its projection folded from events (the one
//! exception, `profiles`, is personal data the API writes and no projection owns); a batch's
//! rows and its checkpoint commit together; a batch never ends inside a transaction of the
//! log; only one runner applies a projection's batch at a time.
//!
//! What the CLI calls: [`runner::spawn`] and [`seal::spawn`] (serve), [`rebuild::rebuild`] and
//! [`status::status`] (`projections rebuild|status`), [`audit::verify_with`],
//! [`audit::anchor`], [`audit::as_of`] and [`audit::export`] (`audit verify|anchor|as-of|export`). Queries for the API live beside each projection.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin_log;
pub mod audit;
pub mod balances;
pub mod campaigns;
mod checkpoint;
pub mod daily_stats;
pub mod error;
pub mod identities;
pub mod leaderboards;
pub mod live_boards;
pub mod progress;
pub mod projection;
pub mod ranking;
pub mod rebuild;
pub mod rewards;
pub mod runner;
pub mod seal;
pub mod seasons;
pub mod source;
pub mod stats;
pub mod status;
mod tables;

pub use error::{ProjectionError, Result};
pub use progress::Progress;
pub use projection::Projection;
pub use rebuild::{RebuildReport, rebuild};
pub use runner::{Runner, RunnerConfig, Step};
pub use status::{ProjectionStatus, status};
