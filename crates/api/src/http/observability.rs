//! /healthz, /readyz and /metrics, and the request metrics middleware.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

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

/// Ready when the database answers and every projection is within the lag threshold.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(e) = sqlx::query("SELECT 1").execute(&state.pool).await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unreachable: {e}"),
        )
            .into_response();
    }
    match projections::status(&state.pool).await {
        Ok(statuses) => {
            let lagging: Vec<String> = statuses
                .iter()
                .filter(|s| s.lag_events > state.config.ready_max_lag_events)
                .map(|s| format!("{} lags {} events", s.name, s.lag_events))
                .collect();
            if lagging.is_empty() {
                (StatusCode::OK, "ready").into_response()
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, lagging.join("; ")).into_response()
            }
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("projections unknown: {e}"),
        )
            .into_response(),
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
