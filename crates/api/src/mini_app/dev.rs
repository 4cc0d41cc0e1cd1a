//! `GET config` tells the page what this server offers; `POST dev-sign-in` (only with
//! `LOYALTY_DEV_SIGN_IN=true`) signs initData for a made-up Telegram user with the configured
//! bot token, so the page works in a plain browser during development. Elsewhere it is a 404.

use super::auth::configured;
use super::{ErrorEnvelope, JsonBody};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MiniAppConfig {
    /// The server has a bot token and a program: the API can be used.
    pub configured: bool,
    /// `POST dev-sign-in` is available (never in production).
    pub dev_sign_in: bool,
    /// VK accounts can be linked with VK ID.
    pub vk_id: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DevSignIn {
    pub telegram_user_id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// `ru` or `en`, as Telegram would send it.
    pub language_code: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DevSession {
    /// Send as `Authorization: tma <init_data>`.
    pub init_data: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/app/config",
    tag = "mini-app",
    responses((status = 200, description = "What this server offers the page", body = MiniAppConfig))
)]
pub async fn config(State(state): State<AppState>) -> Json<MiniAppConfig> {
    Json(MiniAppConfig {
        configured: configured(&state).is_ok(),
        dev_sign_in: state.config.mini_app.dev_sign_in,
        vk_id: !state.config.vk.id_client_id.is_empty(),
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/app/dev-sign-in",
    tag = "mini-app",
    request_body = DevSignIn,
    responses(
        (status = 200, description = "initData signed with the configured bot token", body = DevSession),
        (status = 400, description = "Bad user id or name", body = ErrorEnvelope),
        (status = 404, description = "Development sign-in is off", body = ErrorEnvelope),
    )
)]
pub async fn dev_sign_in(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<DevSignIn>,
) -> Result<Json<DevSession>, ApiError> {
    if !state.config.mini_app.dev_sign_in {
        return Err(ApiError::not_found(
            "development sign-in is off on this server",
        ));
    }
    let (token, _) = configured(&state)?;
    let first_name = request.first_name.trim();
    if request.telegram_user_id <= 0 || first_name.is_empty() || first_name.chars().count() > 64 {
        return Err(ApiError::bad_request(
            "telegram_user_id must be positive and first_name 1 to 64 characters",
        ));
    }
    let mut user = serde_json::json!({"id": request.telegram_user_id, "first_name": first_name});
    for (key, value) in [
        ("last_name", &request.last_name),
        ("username", &request.username),
        ("language_code", &request.language_code),
    ] {
        if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            user[key] = value.into();
        }
    }
    let fields = [
        ("auth_date", Utc::now().timestamp().to_string()),
        ("query_id", format!("dev-{}", uuid::Uuid::new_v4().simple())),
        ("user", user.to_string()),
    ];
    Ok(Json(DevSession {
        init_data: sign_init_data(&fields, token),
    }))
}

/// initData as Telegram builds it: the fields form-encoded plus `hash` = hex HMAC-SHA256 over
/// the sorted `key=value` lines, keyed by HMAC-SHA256("WebAppData", bot token).
#[allow(clippy::expect_used)] // HMAC-SHA256 takes a key of any length: new_from_slice cannot fail.
pub fn sign_init_data(fields: &[(&str, String)], bot_token: &str) -> String {
    let mut sorted: Vec<&(&str, String)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let check: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut secret = Hmac::<Sha256>::new_from_slice(b"WebAppData").expect("any key length");
    secret.update(bot_token.as_bytes());
    let secret = secret.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("any key length");
    mac.update(check.join("\n").as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let mut query: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect();
    query.push(format!("hash={hash}"));
    query.join("&")
}

/// `application/x-www-form-urlencoded`: unreserved bytes as they are, the rest as %XX.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::mini_app::validate_init_data;
    use chrono::TimeDelta;

    #[test]
    fn signed_data_validates_and_survives_any_name() {
        let now = Utc::now();
        let user = r#"{"id":42,"first_name":"Анна & <b>+ =","username":"a_b"}"#;
        let fields = [
            ("auth_date", now.timestamp().to_string()),
            ("user", user.to_string()),
        ];
        let data = sign_init_data(&fields, "1:token");
        let valid = validate_init_data(&data, "1:token", now, TimeDelta::hours(1)).unwrap();
        assert_eq!(valid.user().first_name, "Анна & <b>+ =");
        assert!(validate_init_data(&data, "1:other", now, TimeDelta::hours(1)).is_err());
    }
}
