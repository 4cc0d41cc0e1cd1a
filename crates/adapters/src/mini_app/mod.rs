//! Telegram Mini App `initData` validation (HMAC with the bot token, or Ed25519 for third
//! parties) and the Login Widget check. `now` is always a parameter: no clock reads here.

mod fields;
mod login_widget;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::Mac;
use serde::Deserialize;

use crate::error::InitDataError;
use crate::wire::{clean, clean_opt};
use fields::{Fields, hmac_sha256};

pub use fields::MAX_FUTURE_SKEW_SECONDS;
pub use login_widget::{LoginWidgetUser, validate_login_widget, validate_login_widget_query};

/// Telegram's Ed25519 key for third-party validation (production).
pub const TELEGRAM_PUBLIC_KEY: [u8; 32] =
    hex32("e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d");
/// Telegram's Ed25519 key for the test environment.
pub const TELEGRAM_TEST_PUBLIC_KEY: [u8; 32] =
    hex32("40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec");

/// The Telegram user who opened the Mini App; `id` is the same id the bot sees in updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

/// Validated `initData`. Only the validators construct it, so holding one proves the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    user: TelegramUser,
    auth_date: DateTime<Utc>,
    query_id: Option<String>,
    start_param: Option<String>,
}

impl InitData {
    pub fn user(&self) -> &TelegramUser {
        &self.user
    }
    pub fn auth_date(&self) -> DateTime<Utc> {
        self.auth_date
    }
    pub fn query_id(&self) -> Option<&str> {
        self.query_id.as_deref()
    }
    /// The `startapp` parameter of the link that opened the app (e.g. a campaign).
    pub fn start_param(&self) -> Option<&str> {
        self.start_param.as_deref()
    }
}

/// Validates `initData` with the bot token: `hash` = HMAC(HMAC("WebAppData", token),
/// data-check string); `signature` stays in the data-check string.
/// Order: malformed, missing hash, hash, auth_date; a forged body never learns it is stale.
pub fn validate_init_data(
    init_data: &str,
    bot_token: &str,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<InitData, InitDataError> {
    let fields = Fields::from_query(init_data)?;
    let mut key = hmac_sha256(b"WebAppData").ok_or(InitDataError::InvalidHash)?;
    key.update(bot_token.as_bytes());
    fields.verify_hash(&key.finalize().into_bytes())?;
    init_data_from(&fields, now, max_age)
}

/// Validates `initData` without the bot token: Ed25519 `signature` (base64url) over
/// `"<bot_id>:WebAppData\n"` + the data-check string without `hash` and `signature`.
pub fn validate_init_data_third_party(
    init_data: &str,
    bot_id: i64,
    public_key: &[u8; 32],
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<InitData, InitDataError> {
    let fields = Fields::from_query(init_data)?;
    let signature = fields
        .get("signature")
        .ok_or(InitDataError::InvalidSignature)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(InitDataError::InvalidSignature)?;
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| InitDataError::InvalidSignature)?;
    let message = format!(
        "{bot_id}:WebAppData\n{}",
        fields.check_string(&["hash", "signature"])
    );
    key.verify_strict(message.as_bytes(), &signature)
        .map_err(|_| InitDataError::InvalidSignature)?;
    init_data_from(&fields, now, max_age)
}

#[derive(Deserialize)]
struct RawUser {
    id: i64,
    #[serde(default)]
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    language_code: Option<String>,
}

/// Runs after the signature check, so the `user` JSON is Telegram's, not an attacker's.
fn init_data_from(
    fields: &Fields,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<InitData, InitDataError> {
    let auth_date = fields.fresh_auth_date(now, max_age)?;
    let user = fields.get("user").ok_or(InitDataError::Malformed)?;
    let user: RawUser = serde_json::from_str(user).map_err(|_| InitDataError::Malformed)?;
    if user.id <= 0 {
        return Err(InitDataError::Malformed);
    }
    Ok(InitData {
        user: TelegramUser {
            id: user.id,
            first_name: clean(&user.first_name),
            last_name: clean_opt(user.last_name),
            username: clean_opt(user.username),
            language_code: clean_opt(user.language_code),
        },
        auth_date,
        query_id: clean_opt(fields.get("query_id").map(str::to_owned)),
        start_param: clean_opt(fields.get("start_param").map(str::to_owned)),
    })
}

/// Compile-time hex for the constant keys above (a bad literal fails the build).
const fn hex32(hex: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lower-case hex"),
        }
    }
    let bytes = hex.as_bytes();
    assert!(bytes.len() == 64, "need 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}
