//! The loyalty ledger's pure domain: events, the decisions that produce them, and the folds
//! that turn them into balances, codeword redemptions and leaderboards.
//!
//! Invariant: this crate does no IO, reads no clock and draws no random numbers. Time and ids
//! arrive on commands, so replaying a log always yields the same state.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod aggregate;
pub mod campaign;
pub mod codeword;
pub mod error;
pub mod event;
pub mod expiry;
pub mod folds;
pub mod identity;
pub mod ids;
pub mod member;
pub mod network;
pub mod points;
pub mod privacy;
pub mod program;
pub mod raffle;
pub mod review;
pub mod reward;
pub mod season;
pub mod stream;
pub mod text;
pub mod tier;
pub mod time;

pub use aggregate::Aggregate;
pub use error::DomainError;
pub use event::Event;
pub use stream::StreamId;
pub use time::Timestamp;
