//! Giving a program a bot of its own (panel, API, `loyalty bots`): the token is proved with
//! `getMe` before it is stored, the bot is put in place at once in this process (webhook set,
//! menu button pointing at the program's Mini App), and other processes pick it up at their
//! supervisor's next look (`SUPERVISE_INTERVAL`).

use crate::webhook::{WebhookCheck, ensure_webhook};
use crate::{Bot, BotError};
use app::AppContext;
use app::program_bots::{self, ProgramBotError, Saved};
use clients::{BotUser, ClientError, TelegramApi};
use domain::ids::ProgramId;
use secrecy::SecretString;
use serde::Serialize;
use utoipa::ToSchema;

/// A program's own bot as the panel shows it; never its token or webhook secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramBotView {
    pub bot_id: i64,
    /// Without the `@`.
    pub username: String,
    /// Where Telegram posts this bot's updates.
    pub webhook_url: String,
    /// The Mini App as this bot opens it (for BotFather's Main App setting, if wanted).
    pub mini_app_url: String,
}

/// What [`connect`] did; `webhook` says whether Telegram took the webhook now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectedBot {
    pub bot: ProgramBotView,
    /// `true` if this program had another token or bot before.
    pub replaced: bool,
    /// `set`, `mismatch`, `skipped: <why>` (no https public URL, or polling mode) or
    /// `failed: <error>`; a failure is tried again when the bot's workers start.
    pub webhook: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Stored(#[from] ProgramBotError),
    /// Telegram refused the token (revoked, or never issued).
    #[error("Telegram does not accept this token: {0}")]
    Refused(String),
    #[error("Telegram could not be asked: {0}")]
    Unavailable(String),
}

/// The view of a program's bot, if it has one.
pub async fn view(
    state: &AppContext,
    program: ProgramId,
) -> Result<Option<ProgramBotView>, BotError> {
    let own = state
        .program_bots
        .of_program(program)
        .await
        .map_err(BotError::Db)?;
    Ok(own
        .and_then(|own| Bot::of_program_bot(state, own))
        .map(|bot| view_of(&bot)))
}

fn view_of(bot: &Bot) -> ProgramBotView {
    let own = bot.own.as_ref();
    ProgramBotView {
        bot_id: bot.bot_id(),
        username: own.map(|o| o.username.clone()).unwrap_or_default(),
        webhook_url: bot.public_link(&bot.webhook_path()),
        mini_app_url: bot.mini_app_link(""),
    }
}

/// Asks Telegram (`getMe` at `api_url`) whose `token` this is: the bot's id and username.
pub async fn prove(api_url: &str, token: &str) -> Result<BotUser, ConnectError> {
    let bot_id = program_bots::bot_id_of(token)?;
    let api = TelegramApi::new(SecretString::from(token.to_owned()))
        .map_err(|e| ConnectError::Refused(e.to_string()))?
        .with_base_url(api_url.to_owned());
    let me = match api.get_me().await {
        Ok(me) => me,
        Err(
            e @ (ClientError::Telegram { .. }
            | ClientError::Forbidden { .. }
            | ClientError::ChatNotFound),
        ) => return Err(ConnectError::Refused(e.to_string())),
        Err(e) => return Err(ConnectError::Unavailable(e.to_string())),
    };
    if me.id != bot_id {
        return Err(ConnectError::Refused(format!(
            "getMe names bot {}, not {bot_id}",
            me.id
        )));
    }
    Ok(me)
}

/// Proves `token` with `getMe`, stores it for `program` and sets its webhook.
pub async fn connect(
    state: &AppContext,
    program: ProgramId,
    token: &str,
    actor: &str,
) -> Result<ConnectedBot, ConnectError> {
    let token = token.trim();
    let me = prove(&state.config.telegram.api_url, token).await?;
    let bot_id = me.id;
    let saved = program_bots::save(
        &state.pool,
        state.secrets(),
        program,
        bot_id,
        &me.username,
        token,
        actor,
    )
    .await?;
    let own = state
        .program_bots
        .reload()
        .await
        .map_err(|e| ConnectError::Stored(e.into()))?
        .into_iter()
        .find(|b| b.program_id == program)
        .ok_or(ConnectError::Stored(ProgramBotError::NotFound))?;
    let Some(bot) = Bot::of_program_bot(state, own) else {
        return Err(ConnectError::Refused(
            "the stored token is not a bot token".into(),
        ));
    };
    let webhook = if state.config.telegram.mode == app::config::TelegramMode::Webhook {
        match ensure_webhook(&bot).await {
            Ok(WebhookCheck::Ready) => "set".to_owned(),
            Ok(WebhookCheck::Mismatch { .. }) => "mismatch".to_owned(),
            Ok(WebhookCheck::Skipped(why)) => format!("skipped: {why}"),
            Err(e) => format!("failed: {e}"),
        }
    } else {
        "skipped: the bots poll (LOYALTY_TELEGRAM_MODE is not webhook)".to_owned()
    };
    Ok(ConnectedBot {
        bot: view_of(&bot),
        replaced: saved == Saved::Replaced,
        webhook,
    })
}

/// Removes the program's bot; the configured bot (if any) serves the program again.
pub async fn disconnect(
    state: &AppContext,
    program: ProgramId,
    actor: &str,
) -> Result<(i64, String), ProgramBotError> {
    let removed = program_bots::remove(&state.pool, program, actor).await?;
    state.program_bots.reload().await?;
    Ok(removed)
}
