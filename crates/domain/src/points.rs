//! Points: whole numbers, validated once at the edge.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest single change of points the ledger accepts. Keeps sums far from `i64` overflow.
pub const MAX_POINTS_DELTA: i64 = 1_000_000_000;

/// A non-zero change of points, positive or negative, bounded by [`MAX_POINTS_DELTA`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct PointsDelta(i64);

impl PointsDelta {
    /// `points` as a change; refused when zero or beyond [`MAX_POINTS_DELTA`] either way.
    pub fn new(points: i64) -> Result<Self, DomainError> {
        if points == 0 || points.unsigned_abs() > MAX_POINTS_DELTA as u64 {
            return Err(DomainError::InvalidAmount(points));
        }
        Ok(Self(points))
    }

    /// The change, signed.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for PointsDelta {
    type Error = DomainError;
    fn try_from(points: i64) -> Result<Self, DomainError> {
        Self::new(points)
    }
}

impl From<PointsDelta> for i64 {
    fn from(p: PointsDelta) -> i64 {
        p.0
    }
}

/// A strictly positive amount of points (an award, a price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Points(i64);

impl Points {
    /// `points` as an amount; refused unless in `1..=MAX_POINTS_DELTA`.
    pub fn new(points: i64) -> Result<Self, DomainError> {
        if points <= 0 || points > MAX_POINTS_DELTA {
            return Err(DomainError::InvalidAmount(points));
        }
        Ok(Self(points))
    }

    /// The amount.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Points {
    type Error = DomainError;
    fn try_from(points: i64) -> Result<Self, DomainError> {
        Self::new(points)
    }
}

impl From<Points> for i64 {
    fn from(p: Points) -> i64 {
        p.0
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
