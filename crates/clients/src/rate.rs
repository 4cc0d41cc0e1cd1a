//! Request rate limits as sliding windows: at most `limit` events in any `per`-long window.
//!
//! A plain token bucket of capacity N refilled at N/s lets 2N through in the first second
//! (a full bucket, then a second bucket's worth of refills); platform limits are stated per
//! second, so the window is exact instead.

use std::collections::VecDeque;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
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
///
/// Platforms count requests as they arrive, and a request arrives somewhere between leaving
/// and its answer. A slot is held while its request is out ([`Slot`]) and frees `per` after
/// the later of the request leaving and its answer less the fastest recent round trip: a quick
/// answer changes nothing, while a request that stalled on our host or theirs shifts its
/// window by the stall instead of letting the next requests bunch up behind it.
#[derive(Debug)]
pub struct RateLimiter {
    per: Duration,
    slots: Mutex<Slots>,
    freed: Notify,
}

#[derive(Debug)]
struct Slots {
    slots: Vec<SlotState>,
    /// The last round trips: the fastest is the answer's usual delay, the rest a stall.
    round_trips: VecDeque<Duration>,
}

/// Round trips remembered: about 8 s of a bot's 30 messages/s, so the usual delay follows
/// the network as it changes.
const RECENT_ROUND_TRIPS: usize = 256;

#[derive(Debug, Clone, Copy)]
enum SlotState {
    /// Never used: free at any instant.
    Unused,
    /// Free from then on.
    FreeAt(Instant),
    /// Its request is out.
    Out,
}

impl Slots {
    /// The slot to take next and from when (`None`: at any instant); `None` when every slot's
    /// request is still out.
    fn earliest(&self) -> Option<(usize, Option<Instant>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, state)| match state {
                SlotState::Unused => Some((slot, None)),
                SlotState::FreeAt(at) => Some((slot, Some(*at))),
                SlotState::Out => None,
            })
            .min_by_key(|(_, at)| *at)
    }
}

/// Whether a slot free from `at` is free at `now`.
fn free(at: Option<Instant>, now: Instant) -> bool {
    at.is_none_or(|at| at <= now)
}

impl RateLimiter {
    /// `limit` of 0 is treated as 1: a limiter that never lets anything through is a bug.
    pub fn new(limit: u32, per: Duration) -> Self {
        RateLimiter {
            per,
            slots: Mutex::new(Slots {
                slots: vec![SlotState::Unused; (limit as usize).max(1)],
                round_trips: VecDeque::with_capacity(RECENT_ROUND_TRIPS),
            }),
            freed: Notify::new(),
        }
    }

    /// As [`RateLimiter::new`], as if a full window of requests had just gone: for a process
    /// that may be replacing one that was sending a moment ago (a restart after a crash),
    /// whose last requests still count at the platform's end for up to `per`.
    pub fn just_full(limit: u32, per: Duration) -> Self {
        let limiter = RateLimiter::new(limit, per);
        let free_at = Instant::now() + per;
        limiter.slots.lock().slots.fill(SlotState::FreeAt(free_at));
        limiter
    }

    /// Counts one request at `now` if it fits; otherwise the moment it would (or `now` plus
    /// the window when every request is still out). The slot frees `per` after `now`: for
    /// callers that do not wait for answers.
    pub fn try_take(&self, now: Instant) -> Result<(), Instant> {
        let mut slots = self.slots.lock();
        match slots.earliest() {
            Some((slot, at)) if free(at, now) => {
                slots.slots[slot] = SlotState::FreeAt(now + self.per);
                Ok(())
            }
            Some((_, at)) => Err(at.unwrap_or(now)),
            None => Err(now + self.per),
        }
    }

    /// Waits until one more request fits and takes its slot; hold the [`Slot`] until the
    /// request's answer (or failure) is in.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let wait = {
                let mut slots = self.slots.lock();
                let now = Instant::now();
                match slots.earliest() {
                    Some((slot, at)) if free(at, now) => {
                        slots.slots[slot] = SlotState::Out;
                        return Slot {
                            limiter: self,
                            slot,
                            left_at: now,
                        };
                    }
                    other => other.map(|(_, at)| at.unwrap_or(now)),
                }
            };
            match wait {
                Some(at) => {
                    tokio::select! {
                        () = sleep_until(at) => {}
                        () = &mut freed => {}
                    }
                }
                None => freed.await,
            }
        }
    }

    fn release(&self, slot: usize, left_at: Instant) {
        let answered = Instant::now();
        let mut slots = self.slots.lock();
        if slots.round_trips.len() == RECENT_ROUND_TRIPS {
            slots.round_trips.pop_front();
        }
        slots.round_trips.push_back(answered - left_at);
        let fastest = slots.round_trips.iter().min().copied().unwrap_or_default();
        let stalled_until = answered.checked_sub(fastest).unwrap_or(left_at);
        slots.slots[slot] = SlotState::FreeAt(left_at.max(stalled_until) + self.per);
        drop(slots);
        self.freed.notify_waiters();
    }
}

/// One request's place in a [`RateLimiter`]; dropping it says the answer is in.
#[must_use = "the slot frees when dropped: hold it until the request is answered"]
#[derive(Debug)]
pub struct Slot<'a> {
    limiter: &'a RateLimiter,
    slot: usize,
    left_at: Instant,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.limiter.release(self.slot, self.left_at);
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

    #[tokio::test(start_paused = true)]
    async fn a_slot_is_held_until_its_answer_then_for_the_window() {
        let limiter = RateLimiter::new(1, SECOND);
        let t0 = Instant::now();
        let first = limiter.acquire().await;
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(
            limiter.try_take(Instant::now()),
            Err(Instant::now() + SECOND),
            "a request still out keeps its slot past its window"
        );
        drop(first);
        // Its only round trip (3 s) is also the fastest seen: no stall, the window counts
        // from when it left, which is long past.
        let _next = limiter.acquire().await;
        assert_eq!(Instant::now(), t0 + Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_answer_shifts_the_window_by_the_stall() {
        let limiter = RateLimiter::new(1, SECOND);
        let quick = limiter.acquire().await;
        tokio::time::advance(Duration::from_millis(10)).await;
        drop(quick);
        let slow = limiter.acquire().await;
        let left = Instant::now();
        tokio::time::advance(Duration::from_millis(310)).await;
        drop(slow);
        let _next = limiter.acquire().await;
        // The request may have reached the platform as late as 300 ms after it left.
        assert_eq!(Instant::now(), left + Duration::from_millis(300) + SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn quick_answers_keep_the_window_from_when_requests_left() {
        let limiter = RateLimiter::new(30, SECOND);
        let t0 = Instant::now();
        let mut left = Vec::new();
        while left.len() < 95 {
            let slot = limiter.acquire().await;
            left.push(Instant::now());
            tokio::time::advance(Duration::from_millis(5)).await;
            drop(slot);
        }
        for pair in left.windows(31) {
            assert!(pair[30] - pair[0] >= SECOND);
        }
        assert!(
            left[94] - t0 < Duration::from_millis(3_200),
            "{:?}",
            left[94] - t0
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_limiter_made_just_full_waits_a_window_first() {
        let t0 = Instant::now();
        let limiter = RateLimiter::just_full(30, SECOND);
        assert_eq!(limiter.try_take(t0), Err(t0 + SECOND));
        let _first = limiter.acquire().await;
        assert_eq!(Instant::now(), t0 + SECOND);
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
