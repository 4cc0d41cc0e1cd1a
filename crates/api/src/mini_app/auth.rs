//! Who is calling: `Authorization: tma <initData>`, validated exactly as Telegram specifies
//! (HMAC with the bot token, then `auth_date` freshness) on every request. The Telegram user is
//! the member: their Telegram account's identity stream names the member, and a first visit
//! registers one and links the account (`LinkMethod::Telegram`) in one atomic append.

use crate::AppState;
use crate::error::ApiError;
use adapters::InitDataError;
use adapters::mini_app::{TelegramUser, validate_init_data};
use app::Language;
use app::{AppError, ProgramContext};
use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use domain::DomainError;
use domain::ids::{MemberId, ProgramId};
use domain::network::LinkedAccount;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// The member behind a request with valid initData.
pub struct Member {
    pub program: Arc<ProgramContext>,
    pub member_id: MemberId,
    pub user: TelegramUser,
    /// The Telegram account signed in with, as the log names it.
    pub account: LinkedAccount,
    pub lang: Language,
}

impl Member {
    pub fn program_id(&self) -> ProgramId {
        self.program.program_id
    }
}

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let init_data = init_data_header(&parts.headers)?;
        let (token, program_id) = configured(state)?;
        let max_age = state.config.init_data_max_age();
        // Validated before anything is read or written: forged data changes nothing.
        let data = validate_init_data(init_data, token, Utc::now(), max_age).map_err(refused)?;
        let user = data.user().clone();
        let (program, member_id, account) = match state.mini_app.caller(program_id.0, user.id) {
            Some(known) => known,
            None => {
                let program = state
                    .ledger()
                    .program(program_id)
                    .await
                    .map_err(|e| match e {
                        AppError::Denied(DomainError::NotFound) => {
                            unconfigured("its program does not exist")
                        }
                        other => other.into(),
                    })?;
                let member = member_for_telegram(state, program_id, user.id, Utc::now()).await?;
                let account = state
                    .accounts()
                    .resolve(program_id, &bot::members::telegram_identity(user.id))
                    .await?;
                let caller = (Arc::new(program), member, account);
                state.mini_app.remember_caller(user.id, caller.clone());
                caller
            }
        };
        let accept = parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        let lang = super::texts::language(accept, user.language_code.as_deref());
        Ok(Member {
            program,
            member_id,
            user,
            account,
            lang,
        })
    }
}

/// The raw initData of `Authorization: tma <initData>` (the scheme is case-insensitive).
fn init_data_header(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header: send `Authorization: tma <initData>` with \
                 Telegram.WebApp.initData",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, data)) if scheme.eq_ignore_ascii_case("tma") && !data.trim().is_empty() => {
            Ok(data.trim())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be `tma <initData>`",
        )),
    }
}

/// Without a bot token every HMAC would be keyed by an empty string, which anyone can forge:
/// the Mini App is off until one is configured.
pub fn configured(state: &AppState) -> Result<(&str, ProgramId), ApiError> {
    let token = state.config.telegram.bot_token.expose_secret();
    if token.is_empty() {
        return Err(unconfigured("LOYALTY_TELEGRAM_BOT_TOKEN is not set"));
    }
    let program = state
        .config
        .program
        .ok_or_else(|| unconfigured("LOYALTY_PROGRAM is not set"))?;
    Ok((token, ProgramId(program)))
}

fn unconfigured(why: &str) -> ApiError {
    tracing::warn!(why, "Mini App request refused: not configured");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_configured",
        "the Mini App is not configured on this server",
    )
}

fn refused(e: InitDataError) -> ApiError {
    let message = match e {
        InitDataError::Expired => {
            "initData has expired: close the Mini App and open it again from Telegram"
        }
        InitDataError::InvalidAuthDate => "initData auth_date is missing or in the future",
        InitDataError::MissingHash => "initData has no hash: it was not signed by Telegram",
        InitDataError::InvalidHash | InitDataError::InvalidSignature => {
            "initData signature is invalid: it was not signed by Telegram for this bot"
        }
        InitDataError::Malformed => "initData is malformed",
    };
    ApiError::unauthorized(message)
}

/// The member a Telegram account belongs to; a first visit registers a member and links the
/// account in one append (the same path as the bot's /start, so the two converge).
pub async fn member_for_telegram(
    state: &AppState,
    program_id: ProgramId,
    user_id: i64,
    at: DateTime<Utc>,
) -> Result<MemberId, ApiError> {
    Ok(bot::members::ensure_telegram_member(
        state.ledger(),
        state.accounts(),
        program_id,
        user_id,
        at,
    )
    .await?)
}
