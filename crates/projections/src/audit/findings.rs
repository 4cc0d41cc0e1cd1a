//! Differences between a read model and the log's fold, grouped by model and kind.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::{Debug, Display};

/// The most differences of one group (model and kind) kept in a report; all are counted.
pub const MAX_LISTED_PER_GROUP: usize = 1_000;

/// The most differences of one group the text report prints before "and N more".
pub const PRINTED_PER_GROUP: usize = 20;

/// How a row differs: in both with other values, only in the log's fold, or only in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    Changed,
    Missing,
    Unexpected,
}

impl DifferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::Changed => "changed",
            DifferenceKind::Missing => "missing",
            DifferenceKind::Unexpected => "unexpected",
        }
    }
}

/// One row where a read model disagrees with the log ("absent" when one side has no row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The read model (table) or check: `balances`, `leaderboard`, `hash_chain`, ...
    pub model: &'static str,
    pub kind: DifferenceKind,
    pub key: String,
    pub expected: String,
    pub actual: String,
}

/// How many differences one model has of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DifferenceGroup {
    pub model: &'static str,
    pub kind: DifferenceKind,
    pub count: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// At most [`MAX_LISTED_PER_GROUP`] of each group, in the order found.
    pub list: Vec<Difference>,
    pub counts: BTreeMap<(&'static str, DifferenceKind), u64>,
    pub total: u64,
}

pub(crate) const ABSENT: &str = "absent";

impl Findings {
    pub fn push(
        &mut self,
        model: &'static str,
        kind: DifferenceKind,
        key: impl Display,
        expected: impl Debug,
        actual: impl Debug,
    ) {
        self.total += 1;
        let count = self.counts.entry((model, kind)).or_default();
        *count += 1;
        if *count <= MAX_LISTED_PER_GROUP as u64 {
            self.list.push(Difference {
                model,
                kind,
                key: key.to_string(),
                expected: format!("{expected:?}"),
                actual: format!("{actual:?}"),
            });
        }
    }

    /// Records a difference unless both sides are equal.
    pub fn compare<T: PartialEq + Debug>(
        &mut self,
        model: &'static str,
        key: impl Display,
        expected: T,
        actual: T,
    ) {
        if expected != actual {
            self.push(model, DifferenceKind::Changed, key, expected, actual);
        }
    }

    pub fn missing(&mut self, model: &'static str, key: impl Display, expected: impl Debug) {
        self.push(model, DifferenceKind::Missing, key, expected, Absent);
    }

    pub fn unexpected(&mut self, model: &'static str, key: impl Display, actual: impl Debug) {
        self.push(model, DifferenceKind::Unexpected, key, Absent, actual);
    }

    /// Every group with its exact count, by model and kind.
    pub fn groups(&self) -> Vec<DifferenceGroup> {
        self.counts
            .iter()
            .map(|(&(model, kind), &count)| DifferenceGroup { model, kind, count })
            .collect()
    }
}

struct Absent;

impl Debug for Absent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(ABSENT)
    }
}
