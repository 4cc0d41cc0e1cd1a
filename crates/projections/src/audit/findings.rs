//! Differences between a read model and the log's fold.

use serde::Serialize;
use std::fmt::{Debug, Display};

/// The most differences kept in a report; all of them are counted.
pub const MAX_LISTED_DIFFERENCES: usize = 10_000;

/// One row where a read model disagrees with the log ("absent" when one side has no row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The read model (table) or check: `balances`, `leaderboard`, `hash_chain`, ...
    pub model: &'static str,
    pub key: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub list: Vec<Difference>,
    pub total: u64,
}

pub(crate) const ABSENT: &str = "absent";

impl Findings {
    pub fn push(
        &mut self,
        model: &'static str,
        key: impl Display,
        expected: impl Debug,
        actual: impl Debug,
    ) {
        self.total += 1;
        if self.list.len() < MAX_LISTED_DIFFERENCES {
            self.list.push(Difference {
                model,
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
            self.push(model, key, expected, actual);
        }
    }

    pub fn missing(&mut self, model: &'static str, key: impl Display, expected: impl Debug) {
        self.push(model, key, expected, Absent);
    }

    pub fn unexpected(&mut self, model: &'static str, key: impl Display, actual: impl Debug) {
        self.push(model, key, Absent, actual);
    }
}

struct Absent;

impl Debug for Absent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(ABSENT)
    }
}
