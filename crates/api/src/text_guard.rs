//! PostgreSQL can store no U+0000 in `text` or `jsonb`. A request that carries one in its path,
//! its query or its body is refused here with 400, before any handler turns it into a query or
//! an event: otherwise it fails later as a database error (500), and inside a group commit it
//! would cost its neighbours a round trip. Image and octet-stream bodies (a logo, kept as
//! `bytea`) are bytes, not text, and pass.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let uri = &parts.uri;
    if decodes_to_nul(uri.path()) || uri.query().is_some_and(decodes_to_nul) {
        return refused("the address");
    }
    // The body limit layer outside this one bounds what is buffered here.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_unreadable",
                format!("the request body could not be read: {e}"),
            )
            .into_response();
        }
    };
    if !is_binary(&parts.headers) && carries_nul(&bytes) {
        return refused("the body");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// An image or other bytes (a brand's logo): stored as `bytea`, where a NUL is just a byte.
fn is_binary(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("image/") || t.starts_with("application/octet-stream"))
}

fn refused(where_: &str) -> Response {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "nul_character",
        format!("{where_} contains a NUL character (U+0000), which cannot be stored; remove it"),
    )
    .into_response()
}

fn decodes_to_nul(encoded: &str) -> bool {
    percent_decode_str(encoded).any(|b| b == 0)
}

/// A raw NUL byte or a JSON `\u0000` escape (the only way JSON writes one).
fn carries_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            0 => return true,
            b'\\' => {
                if body[i + 1..].starts_with(b"u0000") {
                    return true;
                }
                // Skips the escaped character, so `\\u0000` (a backslash, then text) is no NUL.
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::carries_nul;

    #[test]
    fn a_nul_is_found_however_the_body_writes_it() {
        assert!(carries_nul(br#"{"reason":"spam\u0000"}"#));
        assert!(carries_nul(b"a\0b"));
        assert!(carries_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!carries_nul(
            br#"{"reason":"\\u0000 is how JSON writes it"}"#
        ));
        assert!(!carries_nul(br#"{"reason":"100%00","n":"\u0001"}"#));
        assert!(!carries_nul(b"ends with \\"));
    }
}
