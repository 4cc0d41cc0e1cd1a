//! The one place reqwest is called: timeouts, a bounded body, and errors without URLs.

use std::error::Error as _;
use std::time::Duration;

use reqwest::RequestBuilder;

use super::ClientError;

/// Largest body read from any platform: a full `getUpdates` page of 100 updates is far smaller.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What came back, before any API-specific reading.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

pub(crate) fn client() -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .user_agent(concat!("loyalty-ledger/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(network)
}

/// Sends and reads the whole body (up to [`MAX_BODY_BYTES`]) within `timeout`.
pub(crate) async fn send(
    request: RequestBuilder,
    timeout: Option<Duration>,
) -> Result<Answer, ClientError> {
    let request = match timeout {
        Some(t) => request.timeout(t),
        None => request,
    };
    let mut response = request.send().await.map_err(network)?;
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ClientError::Malformed(format!(
                "body larger than {MAX_BODY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, body })
}

/// reqwest puts the URL in its messages, and Telegram URLs contain the bot token: strip it.
fn network(error: reqwest::Error) -> ClientError {
    if error.is_timeout() {
        return ClientError::Timeout;
    }
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ClientError::Network(text)
}

/// The body as short text for error messages (never more than a line of it).
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX_CHARS: usize = 120;
    String::from_utf8_lossy(body)
        .chars()
        .take(MAX_CHARS)
        .collect()
}

/// Base URLs are configuration: accept them with or without a trailing slash.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path)
}
