//! The retry policy shared by every client: per-request timeout, exponential backoff with
//! jitter, `retry_after` honoured, a cap on attempts, and only retryable failures retried.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::ClientError;

/// A source of jitter in `[0, 1]`. Injectable so tests get exact delays.
#[derive(Clone)]
pub struct Jitter(Arc<dyn Fn() -> f64 + Send + Sync>);

impl Jitter {
    /// Uniform random jitter (thread-local CSPRNG).
    pub fn random() -> Self {
        Jitter(Arc::new(rand::random::<f64>))
    }

    /// Always `fraction` (clamped to `[0, 1]`); `fixed(1.0)` gives the full exponential delay.
    pub fn fixed(fraction: f64) -> Self {
        Jitter(Arc::new(move || fraction))
    }

    pub fn from_fn(source: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        Jitter(Arc::new(source))
    }

    fn sample(&self) -> f64 {
        let value = (self.0)();
        if value.is_finite() {
            value.clamp(0.0, 1.0)
        } else {
            1.0
        }
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jitter")
    }
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// Delay before the first retry, doubled for each further one.
    pub base_delay: Duration,
    /// Cap on the exponential delay (not on `retry_after`).
    pub max_delay: Duration,
    /// A server asking to wait longer than this gets the error back instead of a sleeping caller.
    pub max_retry_after: Duration,
    /// Per-request timeout; `None` only in paused-clock tests, where tokio advances time
    /// while a socket is waited on and any timeout would fire at once.
    pub request_timeout: Option<Duration>,
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            request_timeout: Some(Duration::from_secs(10)),
            jitter: Jitter::random(),
        }
    }
}

impl RetryPolicy {
    /// One attempt, same timeout.
    pub fn once(&self) -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..self.clone()
        }
    }

    /// Delay before retry number `retry` (1 = the first retry): "equal jitter", i.e. half the
    /// exponential delay plus a jittered half, so retries spread out but never come at once.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay);
        let half = exponential / 2;
        half + half.mul_f64(self.jitter.sample())
    }

    /// How long to wait after `attempt` (1-based) failed with `error`; `None` = give up.
    pub fn delay_after(&self, error: &ClientError, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt)),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or the attempts run out.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut attempt = 1;
        loop {
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            match self.delay_after(&error, attempt) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(error),
            }
            attempt += 1;
        }
    }
}
