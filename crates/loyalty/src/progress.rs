//! Shows how far a long pass over the log has come (`projections rebuild`, `audit verify`): a
//! bar on a terminal; otherwise (a journal, CI, a pipe) a log line every so often. The pass
//! only counts ([`projections::Progress`]); the clock and the drawing are here.

use indicatif::{HumanDuration, ProgressBar, ProgressStyle};
use projections::Progress;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Events done of about how many, how fast, and how long until the rest is done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub done: u64,
    pub expected: u64,
    pub per_s: f64,
    pub left: Option<Duration>,
}

pub fn estimate(done: u64, expected: u64, elapsed: Duration) -> Estimate {
    let secs = elapsed.as_secs_f64();
    let per_s = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let left = (per_s > 0.0)
        .then(|| Duration::from_secs_f64(expected.saturating_sub(done) as f64 / per_s));
    Estimate {
        done,
        expected: expected.max(done),
        per_s,
        left,
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = if self.expected > 0 {
            100.0 * self.done as f64 / self.expected as f64
        } else {
            100.0
        };
        write!(
            f,
            "{} of about {} events ({percent:.1}%), {} events/s",
            self.done, self.expected, self.per_s as u64
        )?;
        match self.left {
            Some(left) => write!(f, ", about {} left", HumanDuration(left)),
            None => Ok(()),
        }
    }
}

/// A pass being shown; [`Shown::finish`] stops the display and says how it ended.
pub struct Shown {
    what: &'static str,
    progress: Arc<Progress>,
    started: Instant,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts showing `progress`: on a terminal a bar redrawn a few times a second, otherwise a
/// line every `every`.
pub fn show(what: &'static str, progress: Arc<Progress>, every: Duration) -> Shown {
    let (stop, mut stopped) = oneshot::channel();
    let started = Instant::now();
    let task = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:32}] {human_pos}/{human_len} events, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(what);
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                bar.set_length(progress.expected());
                bar.set_position(progress.done());
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stopped => break,
                }
            }
            bar.finish_and_clear();
        })
    } else {
        let progress = progress.clone();
        let every = every.max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stopped => break,
                }
                let now = estimate(progress.done(), progress.expected(), started.elapsed());
                tracing::info!(
                    events = now.done,
                    expected = now.expected,
                    per_s = now.per_s as u64,
                    left_s = now.left.map(|l| l.as_secs()),
                    "{what}: {now}"
                );
            }
        })
    };
    Shown {
        what,
        progress,
        started,
        stop,
        task,
    }
}

impl Shown {
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        let elapsed = self.started.elapsed();
        let done = self.progress.done();
        let per_s = estimate(done, done, elapsed).per_s as u64;
        tracing::info!(
            events = done,
            secs = elapsed.as_secs_f64(),
            per_s,
            "{}: {done} events read in {:.1} s, {per_s} events/s",
            self.what,
            elapsed.as_secs_f64()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_says_what_is_left_at_the_rate_so_far() {
        let e = estimate(250_000, 1_000_000, Duration::from_secs(2));
        assert_eq!(e.per_s, 125_000.0);
        assert_eq!(e.left, Some(Duration::from_secs(6)));
        assert_eq!(
            e.to_string(),
            "250000 of about 1000000 events (25.0%), 125000 events/s, about 6 seconds left"
        );
    }

    #[test]
    fn nothing_read_yet_promises_no_time_and_more_than_expected_is_complete() {
        let none = estimate(0, 1_000, Duration::from_secs(1));
        assert_eq!(none.left, None);
        assert_eq!(
            none.to_string(),
            "0 of about 1000 events (0.0%), 0 events/s"
        );
        // Appends went on during the pass: more read than the head promised.
        let past = estimate(1_200, 1_000, Duration::from_secs(1));
        assert_eq!(past.expected, 1_200);
        assert_eq!(past.left, Some(Duration::ZERO));
    }
}
