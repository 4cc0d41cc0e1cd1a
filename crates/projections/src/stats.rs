//! Runner metrics: through the `metrics` facade (the API installs a Prometheus exporter), and
//! kept here as plain counters and a millisecond histogram that benches and `status` read.

use crate::source::Recorded;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering};

/// Latencies are counted per whole millisecond up to this; slower ones share the last bucket.
const LATENCY_BUCKETS_MS: usize = 2_000;

/// Counters of one runner, shared with whoever wants to read them.
pub struct RunnerStats {
    events: AtomicU64,
    batches: AtomicU64,
    errors: AtomicU64,
    largest_batch: AtomicU64,
    visible_ms: Vec<AtomicU64>,
}

impl Default for RunnerStats {
    fn default() -> Self {
        Self {
            events: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            largest_batch: AtomicU64::new(0),
            visible_ms: (0..=LATENCY_BUCKETS_MS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }
}

/// What a runner has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StatsSnapshot {
    pub events: u64,
    pub batches: u64,
    pub errors: u64,
    pub largest_batch: u64,
    /// Append-to-visible latency: from the event's `recorded_at` to its batch's commit.
    pub visible_p50_ms: u64,
    pub visible_p99_ms: u64,
    pub visible_max_ms: u64,
}

impl RunnerStats {
    /// A committed batch: `projection` labels the runner ("all" for a group); events per
    /// projection are counted by the runner as `projection_events_total`.
    pub(crate) fn record_batch(
        &self,
        projection: &'static str,
        batch: &[Recorded],
        committed_at: DateTime<Utc>,
    ) {
        let n = batch.len() as u64;
        self.events.fetch_add(n, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.largest_batch.fetch_max(n, Ordering::Relaxed);
        metrics::counter!("projection_batches_total", "projection" => projection).increment(1);
        metrics::histogram!("projection_batch_size", "projection" => projection).record(n as f64);
        let latency =
            metrics::histogram!("projection_visible_latency_seconds", "projection" => projection);
        for r in batch {
            let micros = (committed_at - r.recorded_at)
                .num_microseconds()
                .unwrap_or(i64::MAX)
                .max(0);
            latency.record(micros as f64 / 1e6);
            let bucket = usize::try_from(micros / 1000)
                .unwrap_or(usize::MAX)
                .min(LATENCY_BUCKETS_MS);
            if let Some(b) = self.visible_ms.get(bucket) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn record_error(&self, projection: &'static str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("projection_errors_total", "projection" => projection).increment(1);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let counts: Vec<u64> = self
            .visible_ms
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let quantile = |q: f64| -> u64 {
            let wanted = ((total as f64) * q).ceil() as u64;
            let mut seen = 0;
            for (ms, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= wanted.max(1) {
                    return ms as u64;
                }
            }
            0
        };
        StatsSnapshot {
            events: self.events.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            largest_batch: self.largest_batch.load(Ordering::Relaxed),
            visible_p50_ms: if total == 0 { 0 } else { quantile(0.50) },
            visible_p99_ms: if total == 0 { 0 } else { quantile(0.99) },
            visible_max_ms: counts.iter().rposition(|n| *n > 0).unwrap_or(0) as u64,
        }
    }
}
