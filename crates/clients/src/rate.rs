//! Request rate limits as sliding windows: at most `limit` events in any `per`-long window.
//!
//! A plain token bucket of capacity N refilled at N/s lets 2N through in the first second
//! (a full bucket, then a second bucket's worth of refills); platform limits are stated per
//! second, so the window is exact instead.

use std::collections::VecDeque;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::{Instant, sleep_until};

/// The last `limit` event times; the next event may happen `per` after the oldest of them.
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    limit: usize,
    per: Duration,
    recent: VecDeque<Instant>,
}

impl SlidingWindow {
    /// `limit` of 0 is treated as 1: a limiter that never lets anything through is a bug.
    pub fn new(limit: u32, per: Duration) -> Self {
        let limit = (limit as usize).max(1);
        SlidingWindow {
            limit,
            per,
            recent: VecDeque::with_capacity(limit),
        }
    }

    /// The earliest moment at or after `now` when one more event fits.
    pub fn next_free(&self, now: Instant) -> Instant {
        if self.recent.len() < self.limit {
            return now;
        }
        match self.recent.front() {
            Some(oldest) => (*oldest + self.per).max(now),
            None => now,
        }
    }

    /// Counts an event at `at` (callers check [`SlidingWindow::next_free`] first).
    pub fn record(&mut self, at: Instant) {
        self.recent.push_back(at);
        while self.recent.len() > self.limit {
            self.recent.pop_front();
        }
    }

    /// True when every recorded event is older than the window, so forgetting it is safe.
    pub fn is_idle(&self, now: Instant) -> bool {
        self.recent
            .back()
            .is_none_or(|last| *last + self.per <= now)
    }
}

/// An async limiter shared by every clone of a client (VK: one per access token).
#[derive(Debug)]
pub struct RateLimiter {
    window: Mutex<SlidingWindow>,
}

impl RateLimiter {
    pub fn new(limit: u32, per: Duration) -> Self {
        RateLimiter {
            window: Mutex::new(SlidingWindow::new(limit, per)),
        }
    }

    /// Counts one request at `now` if it fits; otherwise the moment it would.
    pub fn try_take(&self, now: Instant) -> Result<(), Instant> {
        let mut window = self.window.lock();
        let at = window.next_free(now);
        if at <= now {
            window.record(now);
            Ok(())
        } else {
            Err(at)
        }
    }

    /// Waits until one more request fits, then counts it.
    pub async fn acquire(&self) {
        loop {
            let at = {
                let mut window = self.window.lock();
                let now = Instant::now();
                let at = window.next_free(now);
                if at <= now {
                    window.record(now);
                    return;
                }
                at
            };
            sleep_until(at).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn lets_the_limit_through_then_waits_for_the_oldest_to_age_out() {
        let t0 = Instant::now();
        let mut window = SlidingWindow::new(3, SECOND);
        for _ in 0..3 {
            assert_eq!(window.next_free(t0), t0);
            window.record(t0);
        }
        assert_eq!(window.next_free(t0), t0 + SECOND);
        let t1 = t0 + Duration::from_millis(400);
        window.record(t0 + SECOND);
        // The second-oldest event (t0) now bounds the next slot.
        assert_eq!(window.next_free(t1), t0 + SECOND);
    }

    #[test]
    fn never_more_than_the_limit_in_any_window() {
        let t0 = Instant::now();
        let mut window = SlidingWindow::new(30, SECOND);
        let mut sent = Vec::new();
        let mut now = t0;
        while sent.len() < 95 {
            now = window.next_free(now);
            window.record(now);
            sent.push(now);
        }
        for pair in sent.windows(31) {
            assert!(pair[30] - pair[0] >= SECOND);
        }
        assert_eq!(sent[29], t0, "a burst of 30 goes at once");
    }

    #[test]
    fn zero_limit_still_lets_one_through() {
        let t0 = Instant::now();
        let mut window = SlidingWindow::new(0, SECOND);
        assert_eq!(window.next_free(t0), t0);
        window.record(t0);
        assert_eq!(window.next_free(t0), t0 + SECOND);
        assert!(!window.is_idle(t0));
        assert!(window.is_idle(t0 + SECOND));
    }
}
