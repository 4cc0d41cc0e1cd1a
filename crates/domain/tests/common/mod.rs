//! Shared by the test binaries: fixed ids and times, a small in-memory ledger that runs
//! commands through the real deciders, and proptest generators of those commands.
// Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

pub mod fixtures;
pub mod generators;
pub mod ledger;
pub mod steps;

pub use fixtures::*;
pub use ledger::Ledger;
pub use steps::Step;
