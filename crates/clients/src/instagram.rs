//! Instagram Graph API: the one lookup a `mentions` webhook needs. The webhook names only the
//! comment; `mentioned_comment` returns its text and, where Meta gives it, its author.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::fmt;

use super::http::{self, excerpt};
use super::{ClientError, Result, RetryPolicy};

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";

/// A comment in which the brand was @mentioned, as the Graph API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MentionedComment {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    /// ISO 8601 with a `+0000` offset.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The author, when Meta tells it: the same Instagram-scoped id comment webhooks carry.
    #[serde(default)]
    pub from: Option<Author>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Author {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct InstagramGraph {
    http: reqwest::Client,
    base_url: String,
    retry: RetryPolicy,
}

impl fmt::Debug for InstagramGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstagramGraph")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl InstagramGraph {
    pub fn new(base_url: impl Into<String>) -> Result<Self> {
        Ok(InstagramGraph {
            http: http::client()?,
            base_url: base_url.into(),
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// `GET /{ig-user-id}?fields=mentioned_comment.comment_id(…){id,text,timestamp,from}` with
    /// the brand's token (in the `Authorization` header, not in a logged query string).
    pub async fn mentioned_comment(
        &self,
        brand_account: &str,
        comment_id: &str,
        token: &SecretString,
    ) -> Result<MentionedComment> {
        let valid = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        if !valid(brand_account) || !valid(comment_id) {
            return Err(ClientError::InvalidInput("Instagram ids are digits"));
        }
        let url = http::join(&self.base_url, brand_account);
        let fields =
            format!("mentioned_comment.comment_id({comment_id}){{id,text,timestamp,from}}");
        self.retry
            .run(|| async {
                let request = self
                    .http
                    .get(&url)
                    .bearer_auth(token.expose_secret())
                    .query(&[("fields", fields.as_str())]);
                let answer = http::send(request, self.retry.request_timeout).await?;
                read(&answer)
            })
            .await
    }
}

#[derive(Deserialize)]
struct Envelope {
    mentioned_comment: Option<MentionedComment>,
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
}

fn read(answer: &http::Answer) -> Result<MentionedComment> {
    let envelope: Envelope = match serde_json::from_slice(&answer.body) {
        Ok(envelope) => envelope,
        Err(_) => {
            return Err(if answer.status >= 500 || answer.status == 429 {
                ClientError::Status {
                    status: answer.status,
                }
            } else {
                ClientError::Malformed(format!(
                    "HTTP {}: not a Graph API answer: {}",
                    answer.status,
                    excerpt(&answer.body)
                ))
            });
        }
    };
    if let Some(error) = envelope.error {
        // 1, 2 and 4 are Meta's transient and rate-limit codes; 5xx without them too.
        return Err(if matches!(error.code, 1 | 2 | 4) || answer.status >= 500 {
            ClientError::Status {
                status: answer.status.max(500),
            }
        } else {
            ClientError::Graph {
                code: error.code,
                message: error.message,
            }
        });
    }
    envelope
        .mentioned_comment
        .ok_or_else(|| ClientError::Malformed("no `mentioned_comment` in the answer".to_owned()))
}
