//! VK ID (OAuth 2.1, authorization code + PKCE S256) to link a member's VK account.
//!
//! Flow: [`PendingLink::generate`] → store it by `state` → send the member to
//! [`VkIdOAuth::authorize_url`] → the redirect brings `code`, `state`, `device_id` →
//! [`VkIdOAuth::exchange_code`] checks `state` and returns the VK `user_id`.

use secrecy::ExposeSecret;
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::http::{self, excerpt};
use crate::{ClientError, Result, RetryPolicy};
use adapters::secret_matches;
use secrecy::SecretString;

pub const DEFAULT_AUTHORIZE_URL: &str = "https://id.vk.com/authorize";
pub const DEFAULT_TOKEN_URL: &str = "https://id.vk.com/oauth2/auth";
pub const DEFAULT_SCOPE: &str = "vkid.personal_info";

/// 48 random bytes → 64 base64url characters: inside PKCE's 43-128 and plenty for a CSRF state.
const RANDOM_BYTES: usize = 48;

/// What the server keeps between sending the member to VK ID and the redirect back.
#[derive(Clone)]
pub struct PendingLink {
    state: String,
    code_verifier: SecretString,
}

impl fmt::Debug for PendingLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLink")
            .field("state", &self.state)
            .field("code_verifier", &self.code_verifier)
            .finish()
    }
}

impl PendingLink {
    /// A fresh `state` and `code_verifier` from the OS random source.
    pub fn generate() -> Result<Self> {
        Ok(PendingLink {
            state: random_token()?,
            code_verifier: SecretString::from(random_token()?),
        })
    }

    /// Rebuilds a link read back from storage; the verifier must be 43-128 of `A-Za-z0-9_-`.
    pub fn restore(
        state: impl Into<String>,
        code_verifier: impl Into<SecretString>,
    ) -> Result<Self> {
        let state = state.into();
        let code_verifier = code_verifier.into();
        let verifier = code_verifier.expose_secret();
        let valid = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(ClientError::InvalidInput(
                "code_verifier must be 43-128 of A-Z a-z 0-9 _ -",
            ));
        }
        if state.is_empty() {
            return Err(ClientError::InvalidInput("state is empty"));
        }
        Ok(PendingLink {
            state,
            code_verifier,
        })
    }

    pub fn state(&self) -> &str {
        &self.state
    }

    pub fn code_verifier(&self) -> &SecretString {
        &self.code_verifier
    }

    /// The redirect's `state` must be ours (constant-time): otherwise a forged redirect could
    /// link someone else's VK account to this member.
    pub fn check_state(&self, returned_state: &str) -> Result<()> {
        if secret_matches(&self.state, Some(returned_state)) {
            Ok(())
        } else {
            Err(ClientError::StateMismatch)
        }
    }
}

/// `base64url(SHA-256(verifier))` without padding (PKCE `S256`).
pub fn code_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| ClientError::InvalidInput("OS random source unavailable"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The query VK ID appends to the redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VkIdCallback {
    pub code: String,
    pub state: String,
    pub device_id: String,
}

/// Tokens for the linked account. Linking needs only `user_id`; the tokens are for profile
/// reads and never print.
#[derive(Debug, Clone)]
pub struct VkIdTokens {
    /// The global VK id: equal to `from_id` / `user_id` in Callback API events.
    pub user_id: i64,
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<SecretString>,
    pub expires_in_secs: Option<u64>,
    pub scope: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<u64>,
    user_id: Option<UserId>,
    state: Option<String>,
    scope: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UserId {
    Number(i64),
    Text(String),
}

impl UserId {
    fn get(self) -> Option<i64> {
        match self {
            UserId::Number(id) => Some(id),
            UserId::Text(text) => text.trim().parse().ok(),
        }
        .filter(|id| *id > 0)
    }
}

#[derive(Debug, Clone)]
pub struct VkIdOAuth {
    http: reqwest::Client,
    client_id: String,
    redirect_uri: String,
    scope: String,
    authorize_url: String,
    token_url: String,
    request_timeout: Option<Duration>,
}

impl VkIdOAuth {
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Result<Self> {
        Ok(VkIdOAuth {
            http: http::client()?,
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope: DEFAULT_SCOPE.to_owned(),
            authorize_url: DEFAULT_AUTHORIZE_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            request_timeout: RetryPolicy::default().request_timeout,
        })
    }

    /// Other VK ID endpoints (a fake provider in tests).
    pub fn with_endpoints(
        mut self,
        authorize_url: impl Into<String>,
        token_url: impl Into<String>,
    ) -> Self {
        self.authorize_url = authorize_url.into();
        self.token_url = token_url.into();
        self
    }

    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    pub fn with_timeout(mut self, request_timeout: Option<Duration>) -> Self {
        self.request_timeout = request_timeout;
        self
    }

    /// Where to send the member (from a Mini App: open it in the external browser).
    pub fn authorize_url(&self, pending: &PendingLink) -> Result<String> {
        let challenge = code_challenge(pending.code_verifier.expose_secret());
        let url = reqwest::Url::parse_with_params(
            &self.authorize_url,
            [
                ("response_type", "code"),
                ("client_id", &self.client_id),
                ("redirect_uri", &self.redirect_uri),
                ("state", &pending.state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("scope", &self.scope),
            ],
        )
        .map_err(|_| ClientError::InvalidInput("authorize URL is not a URL"))?;
        Ok(url.into())
    }

    /// Checks `state`, then trades the code for tokens. One attempt only: a code is single-use,
    /// so a retry after a lost answer would fail with `invalid_grant` anyway.
    pub async fn exchange_code(
        &self,
        pending: &PendingLink,
        callback: &VkIdCallback,
    ) -> Result<VkIdTokens> {
        pending.check_state(&callback.state)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &callback.code),
            ("code_verifier", pending.code_verifier.expose_secret()),
            ("client_id", &self.client_id),
            ("device_id", &callback.device_id),
            ("redirect_uri", &self.redirect_uri),
            ("state", &pending.state),
        ];
        let request = self.http.post(&self.token_url).form(&form);
        let answer = http::send(request, self.request_timeout).await?;
        let token: TokenAnswer = match serde_json::from_slice(&answer.body) {
            Ok(token) => token,
            Err(_) if answer.status >= 500 => {
                return Err(ClientError::Status {
                    status: answer.status,
                });
            }
            Err(e) => {
                return Err(ClientError::Malformed(format!(
                    "HTTP {}: not a token answer ({e}): {}",
                    answer.status,
                    excerpt(&answer.body)
                )));
            }
        };
        read_tokens(pending, token)
    }
}

fn read_tokens(pending: &PendingLink, token: TokenAnswer) -> Result<VkIdTokens> {
    if let Some(error) = token.error {
        return Err(ClientError::OAuth {
            error,
            description: token.error_description.unwrap_or_default(),
        });
    }
    // The provider echoes `state`; a different one means the answer is not for this link.
    if let Some(state) = &token.state {
        pending.check_state(state)?;
    }
    let access_token = token
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ClientError::Malformed("token answer lacks access_token".to_owned()))?;
    let user_id = token
        .user_id
        .and_then(UserId::get)
        .ok_or_else(|| ClientError::Malformed("token answer lacks a usable user_id".to_owned()))?;
    Ok(VkIdTokens {
        user_id,
        access_token: SecretString::from(access_token),
        refresh_token: token.refresh_token.map(SecretString::from),
        id_token: token.id_token.map(SecretString::from),
        expires_in_secs: token.expires_in,
        scope: token.scope,
    })
}
