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
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// The member behind a request with valid initData.
pub struct Member {
    pub program: Arc<ProgramContext>,
    pub member_id: MemberId,
    pub user: TelegramUser,
    /// The Telegram account signed in with, as the log names it.
    pub account: LinkedAccount,
    /// The bot that opened the app, as its rows are keyed (`bot::Bot::rows_key`).
    pub bot: i64,
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
        let (token, program_id, bot) = signing_bot(state, &parts.headers).await?;
        let max_age = state.config.init_data_max_age();
        // Validated before anything is read or written: forged data changes nothing.
        let data = validate_init_data(init_data, token.expose_secret(), Utc::now(), max_age)
            .map_err(refused)?;
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
            bot,
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

/// The header naming the bot that opened the Mini App (a program's own bot opens it at
/// `/app?bot=<id>`, and the page sends that id back); absent for the configured bot.
pub const BOT_HEADER: &str = "X-Telegram-Bot-Id";

/// The token that must have signed this request's `initData`, the program it opens and the
/// bot's `rows_key` (0 for the configured bot): the
/// named program bot's, else the configured bot's. Another bot's `initData` never validates
/// against it, so nothing crosses programs.
pub async fn signing_bot(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(SecretString, ProgramId, i64), ApiError> {
    let Some(named) = headers.get(BOT_HEADER) else {
        let (token, program) = configured(state)?;
        return Ok((SecretString::from(token.to_owned()), program, 0));
    };
    let bot_id = named
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::unauthorized(format!("{BOT_HEADER} must be a bot's numeric id"))
        })?;
    let own = state.program_bots.by_bot(bot_id).await?.ok_or_else(|| {
        ApiError::unauthorized(format!("bot {bot_id} serves no program on this server"))
    })?;
    Ok((own.token.clone(), own.program_id, own.bot_id))
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
