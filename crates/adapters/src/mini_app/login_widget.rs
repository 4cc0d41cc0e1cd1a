//! Telegram Login Widget (admin panel): like initData, but the HMAC key is SHA-256(bot token).

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::fields::Fields;
use crate::error::InitDataError;
use crate::wire::clean_opt;

/// A validated Login Widget user; only the validators construct it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginWidgetUser {
    id: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    photo_url: Option<String>,
    auth_date: DateTime<Utc>,
}

impl LoginWidgetUser {
    pub fn id(&self) -> i64 {
        self.id
    }
    pub fn first_name(&self) -> &str {
        &self.first_name
    }
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
    pub fn photo_url(&self) -> Option<&str> {
        self.photo_url.as_deref()
    }
    pub fn auth_date(&self) -> DateTime<Utc> {
        self.auth_date
    }
}

/// Validates the widget's fields (`id`, `first_name`, …, `auth_date`, `hash`) given as text,
/// e.g. from the JS callback object with numbers written out in decimal.
pub fn validate_login_widget(
    fields: &[(&str, &str)],
    bot_token: &str,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<LoginWidgetUser, InitDataError> {
    let pairs = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    validate(Fields::from_pairs(pairs)?, bot_token, now, max_age)
}

/// Validates the widget's redirect query string (`?id=…&hash=…`).
pub fn validate_login_widget_query(
    query: &str,
    bot_token: &str,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<LoginWidgetUser, InitDataError> {
    validate(Fields::from_query(query)?, bot_token, now, max_age)
}

fn validate(
    fields: Fields,
    bot_token: &str,
    now: DateTime<Utc>,
    max_age: TimeDelta,
) -> Result<LoginWidgetUser, InitDataError> {
    fields.verify_hash(&Sha256::digest(bot_token.as_bytes()))?;
    let auth_date = fields.fresh_auth_date(now, max_age)?;
    let id = fields
        .get("id")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or(InitDataError::Malformed)?;
    let text = |key: &str| clean_opt(fields.get(key).map(str::to_owned));
    Ok(LoginWidgetUser {
        id,
        first_name: text("first_name").unwrap_or_default(),
        last_name: text("last_name"),
        username: text("username"),
        photo_url: text("photo_url"),
        auth_date,
    })
}
