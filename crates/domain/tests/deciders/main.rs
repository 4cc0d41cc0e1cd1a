//! Each decider refuses each command it must refuse, with the error that says why, and accepts
//! the command next to it that it must accept.

#[path = "../common/mod.rs"]
mod common;

mod campaign;
mod erasure;
mod expiry;
mod identity;
mod limits;
mod member;
mod program;
mod review;
mod reward;
mod seasons;
mod texts;
mod tiers;
mod values;

use domain::{Aggregate, DomainError, Event};
use std::fmt::Debug;

/// Evolves `state` with the events of an accepted decision.
pub fn accepted<S: Aggregate + Debug>(state: S, decision: Result<Vec<Event>, DomainError>) -> S {
    let events = decision.unwrap_or_else(|e| panic!("expected the command to be accepted: {e}"));
    events.iter().fold(state, S::apply)
}

/// The error of a refused decision.
pub fn refused(decision: Result<Vec<Event>, DomainError>) -> DomainError {
    match decision {
        Ok(events) => panic!("expected a refusal, got {events:?}"),
        Err(error) => error,
    }
}
