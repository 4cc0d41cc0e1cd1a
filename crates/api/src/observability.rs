//! /healthz, /readyz and /metrics, and the one middleware every request passes through: its
//! id, client address, log span and metrics.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::task::AbortHandle;
use tracing::{Instrument, Span};

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
                .filter(|(_, lag)| *lag > state.config.http.ready_max_lag_events)
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

/// The Prometheus text. Each projection's lag (`projection_lag_events`, an upper bound as
/// `/readyz` reads it) is read at scrape time, within [`READY_DATABASE_TIMEOUT`]; a database that
/// does not answer leaves the last value.
pub async fn metrics_text(State(state): State<AppState>) -> String {
    let lags = projections::status::position_lags(&state.pool);
    match tokio::time::timeout(READY_DATABASE_TIMEOUT, lags).await {
        Ok(Ok(lags)) => {
            for (projection, lag) in lags {
                metrics::gauge!("projection_lag_events", "projection" => projection)
                    .set(lag as f64);
            }
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "metrics: projection lags not read"),
        Err(_) => tracing::debug!("metrics: projection lags not read in time"),
    }
    prometheus().render()
}

/// The header carrying a request's id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every request passes through, as one middleware (one future a request, not one a
/// concern): its id (the caller's when sane, else a new UUID; echoed on the answer), its client
/// address ([`crate::client_address`]), a span with one `response` event, and its metrics.
/// Its state is the trusted proxies alone, so a request clones one `Arc`.
pub async fn observe(
    State(trusted): State<Arc<[IpNet]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .filter(|id| is_sane_request_id(id.as_bytes()))
        .cloned()
        .unwrap_or_else(new_request_id);
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, request_id.clone());
    crate::client_address::attach(&mut request, &trusted);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().clone();
    let span = request_span(&request, &route, &request_id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let latency = started.elapsed();
    span.in_scope(|| log_response(&response, latency, &span));
    let status = response.status().as_u16().to_string();
    let labels = [
        ("route", route),
        ("method", method.as_str().to_string()),
        ("status", status),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(latency.as_secs_f64());
    response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    response
}

fn new_request_id() -> HeaderValue {
    let id = uuid::Uuid::new_v4();
    // A hyphenated UUID is ASCII: always a valid header value.
    HeaderValue::from_str(
        id.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    )
    .unwrap_or(HeaderValue::from_static("unknown"))
}

fn request_span(request: &Request, route: &str, request_id: &HeaderValue) -> Span {
    let request_id = request_id.to_str().unwrap_or_default();
    let client = request
        .extensions()
        .get::<crate::client_address::ClientAddress>()
        .map(|c| c.0);
    macro_rules! span {
        ($span:ident) => {
            tracing::$span!(
                "request",
                method = %request.method(),
                route,
                request_id,
                client = client.map(tracing::field::display),
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            )
        };
    }
    if PROBES.contains(&route) {
        span!(debug_span)
    } else {
        span!(info_span)
    }
}

/// Routes a load balancer and Prometheus call every few seconds: their requests are logged at
/// DEBUG, unless they fail.
const PROBES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The `response` event: DEBUG for a probe that succeeded, ERROR for a server error, INFO else.
fn log_response(response: &Response, latency: Duration, span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    // A probe's span is DEBUG (or, under an INFO filter, disabled).
    let probe = span
        .metadata()
        .is_none_or(|m| *m.level() == tracing::Level::DEBUG);
    if response.status().is_server_error() {
        tracing::error!(status, latency_ms, "response");
    } else if probe && response.status().is_success() {
        tracing::debug!(status, latency_ms, "response");
    } else {
        tracing::info!(status, latency_ms, "response");
    }
}

/// Whether an incoming request id may be reused: a short token of letters, digits and `-_.:`
/// (it lands in logs and in the response header).
pub fn is_sane_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

#[cfg(test)]
mod tests {
    use super::is_sane_request_id;

    #[test]
    fn request_ids_are_short_plain_tokens() {
        assert!(is_sane_request_id(b"3f2a9c1e-7b4d-4e2f-9a1b-0c8d7e6f5a4b"));
        assert!(is_sane_request_id(b"lb:req_42.7"));
        assert!(!is_sane_request_id(b""));
        assert!(!is_sane_request_id(b"a b"));
        assert!(!is_sane_request_id(b"id\"}{"));
        assert!(!is_sane_request_id(&[b'a'; 129]));
    }
}
