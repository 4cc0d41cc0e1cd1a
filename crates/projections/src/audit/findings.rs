//! Differences between a read model and the log's fold, grouped by model and kind.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Display;

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
        expected: impl Serialize,
        actual: impl Serialize,
    ) {
        self.total += 1;
        let count = self.counts.entry((model, kind)).or_default();
        *count += 1;
        if *count <= MAX_LISTED_PER_GROUP as u64 {
            self.list.push(Difference {
                model,
                kind,
                key: key.to_string(),
                expected: shown(&expected),
                actual: shown(&actual),
            });
        }
    }

    /// Records a difference unless both sides are equal.
    pub fn compare<T: PartialEq + Serialize>(
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

    pub fn missing(&mut self, model: &'static str, key: impl Display, expected: impl Serialize) {
        self.push(model, DifferenceKind::Missing, key, expected, ABSENT);
    }

    pub fn unexpected(&mut self, model: &'static str, key: impl Display, actual: impl Serialize) {
        self.push(model, DifferenceKind::Unexpected, key, ABSENT, actual);
    }

    /// Every group with its exact count, by model and kind.
    pub fn groups(&self) -> Vec<DifferenceGroup> {
        self.counts
            .iter()
            .map(|(&(model, kind), &count)| DifferenceGroup { model, kind, count })
            .collect()
    }
}

/// A value as a person reads it, in no language: the fields of a row separated by ", ", a
/// missing value as "—" (never Rust's debug notation such as `Some((…))`).
fn shown(value: &impl Serialize) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Null => out.push('—'),
            serde_json::Value::String(s) => out.push_str(s),
            serde_json::Value::Array(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    write(item, out);
                }
            }
            serde_json::Value::Object(fields) => {
                for (n, (name, item)) in fields.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(": ");
                    write(item, out);
                }
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    match serde_json::to_value(value) {
        Ok(value) => write(&value, &mut out),
        Err(e) => out.push_str(&format!("(unreadable: {e})")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn values_read_as_plain_fields_without_debug_notation() {
        let row = Some((
            "telegram",
            "-1002233445566_17",
            50_i64,
            None::<i64>,
            vec![1, 2],
        ));
        assert_eq!(shown(&row), "telegram, -1002233445566_17, 50, —, 1, 2");
        assert_eq!(shown(&None::<(i64, i64)>), "—");
        assert_eq!(shown(&"absent"), "absent");
    }
}
