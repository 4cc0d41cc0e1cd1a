//! Laws of the ledger, checked over generated histories of commands run through the deciders.

#[path = "../common/mod.rs"]
mod common;

mod balances;
mod campaigns;
mod caps;
mod corrections;
mod coupons;
mod expiry;
mod folds;
mod identity;
mod leaderboards;
mod raffle_entries;
mod raffles;
mod review;
mod seasons;
mod texts;
mod tiers;
