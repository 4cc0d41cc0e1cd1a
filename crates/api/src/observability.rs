//! /healthz, /readyz and /metrics, and the request metrics middleware.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; metrics then go there instead.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// How long `/readyz` waits for the database: a database that is down is a quick 503, not a
/// probe that hangs until the request timeout.
pub const READY_DATABASE_TIMEOUT: Duration = Duration::from_millis(500);
/// An answer this fresh is reused: the probe is unauthenticated and must stay cheap.
pub const READY_CACHE: Duration = Duration::from_secs(1);

/// What `/readyz` knows between calls: this process's long-running workers, and its last answer.
#[derive(Clone, Default)]
pub struct Readiness {
    workers: Arc<parking_lot::Mutex<Vec<(&'static str, AbortHandle)>>>,
    /// One check at a time; callers meanwhile wait for its answer.
    last: Arc<tokio::sync::Mutex<Option<(Instant, StatusCode, String)>>>,
}

impl Readiness {
    /// A worker this process cannot serve well without (projections, boards, names): once it has
    /// stopped, the process is not ready.
    pub fn watch(&self, name: &'static str, worker: AbortHandle) {
        self.workers.lock().push((name, worker));
    }

    fn stopped_worker(&self) -> Option<&'static str> {
        self.workers
            .lock()
            .iter()
            .find(|(_, worker)| worker.is_finished())
            .map(|(name, _)| *name)
    }
}

/// Whether this process can serve: its database answers within [`READY_DATABASE_TIMEOUT`] and
/// its workers run. Projection lag is shared by every process on the database, so it never takes
/// one out of service; lags above `ready_max_lag_events` are named in the answer. One query at
/// most per [`READY_CACHE`].
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut last = state.readiness.last.lock().await;
    if let Some((at, status, body)) = last.as_ref()
        && at.elapsed() < READY_CACHE
    {
        return (*status, body.clone()).into_response();
    }
    let (status, body) = check_ready(&state).await;
    *last = Some((Instant::now(), status, body.clone()));
    (status, body).into_response()
}

async fn check_ready(state: &AppState) -> (StatusCode, String) {
    if let Some(worker) = state.readiness.stopped_worker() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the {worker} worker has stopped"),
        );
    }
    let lags = projections::status::position_lags(&state.pool);
    match tokio::time::timeout(READY_DATABASE_TIMEOUT, lags).await {
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the database did not answer within {} ms",
                READY_DATABASE_TIMEOUT.as_millis()
            ),
        ),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unreachable: {e}"),
        ),
        Ok(Ok(lags)) => {
            let lagging: Vec<String> = lags
                .iter()
                .filter(|(_, lag)| *lag > state.config.ready_max_lag_events)
                .map(|(name, lag)| format!("{name} lags up to {lag} events"))
                .collect();
            if lagging.is_empty() {
                (StatusCode::OK, "ready".to_string())
            } else {
                (StatusCode::OK, format!("ready; {}", lagging.join("; ")))
            }
        }
    }
}

pub async fn metrics_text() -> String {
    prometheus().render()
}

/// Counts requests and times them by route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
