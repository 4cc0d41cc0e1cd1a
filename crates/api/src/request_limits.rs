//! How large a request body may be and how long a request may take: `max_body_bytes` and
//! `request_timeout_ms` for every request, `max_upload_bytes` and `upload_timeout_ms` for the
//! files managers upload (a bulk adjustments CSV of 250,000 rows, a coupon pool's codes), which
//! are larger and are checked row by row before the answer.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// The two policies, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub body_bytes: usize,
    pub timeout: Duration,
    pub upload_bytes: usize,
    pub upload_timeout: Duration,
}

impl RequestLimits {
    pub fn from_config(http: &app::config::HttpConfig) -> Self {
        RequestLimits {
            body_bytes: http.max_body_bytes,
            timeout: Duration::from_millis(http.request_timeout_ms),
            upload_bytes: http.max_upload_bytes,
            upload_timeout: Duration::from_millis(http.upload_timeout_ms),
        }
    }

    /// The limits of one request.
    fn of(&self, method: &Method, path: &str) -> (usize, Duration) {
        if is_upload(method, path) {
            (self.upload_bytes, self.upload_timeout)
        } else {
            (self.body_bytes, self.timeout)
        }
    }
}

/// A manager's file: `POST …/bulk-adjustments`, `…/bulk-adjustments/check`, `…/rewards/{id}/codes`.
fn is_upload(method: &Method, path: &str) -> bool {
    method == Method::POST
        && path.starts_with("/api/v1/admin/programs/")
        && (path.ends_with("/bulk-adjustments")
            || path.ends_with("/bulk-adjustments/check")
            || path.ends_with("/codes"))
}

pub async fn apply(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let (bytes, timeout) = limits.of(request.method(), request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > bytes as u64) {
        return too_large(bytes);
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, bytes)));
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

fn too_large(bytes: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is over {bytes} bytes"),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_managers_files_are_uploads() {
        let p = "/api/v1/admin/programs/7c1e/";
        assert!(is_upload(&Method::POST, &format!("{p}bulk-adjustments")));
        assert!(is_upload(
            &Method::POST,
            &format!("{p}bulk-adjustments/check")
        ));
        assert!(is_upload(&Method::POST, &format!("{p}rewards/9/codes")));
        assert!(!is_upload(&Method::GET, &format!("{p}bulk-adjustments")));
        assert!(!is_upload(
            &Method::POST,
            &format!("{p}members/1/adjustments")
        ));
        assert!(!is_upload(&Method::POST, "/webhooks/vk"));
    }
}
