//! Webhook mode at start-up: `setWebhook` with the secret and an explicit `allowed_updates`
//! (an empty or missing list silently drops reactions and `chat_member`, docs/platforms.md, Telegram), then
//! `getWebhookInfo` to confirm Telegram took it. Mismatches are logged loudly, never fatal:
//! the API keeps serving.

use super::{Bot, BotError};
use chrono::{DateTime, Utc};
use clients::WebhookConfig;
use clients::telegram::ALLOWED_UPDATES;
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

/// The route Telegram posts updates to.
pub const WEBHOOK_PATH: &str = "/webhooks/telegram";

/// What the start-up check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookCheck {
    /// Set, and Telegram reports our URL with every update kind we read.
    Ready,
    /// Set, but Telegram reports something else; the details were logged.
    Mismatch {
        url: String,
        missing_updates: Vec<String>,
    },
    /// Not attempted: the public URL is not https (Telegram requires it) or no secret is set.
    Skipped(&'static str),
}

/// `setWebhook` + `getWebhookInfo`, with the default menu button opening the Mini App.
pub async fn ensure_webhook(bot: &Bot) -> Result<WebhookCheck, BotError> {
    let url = bot.public_link(&bot.webhook_path());
    if !url.starts_with("https://") {
        return Ok(WebhookCheck::Skipped(
            "LOYALTY_PUBLIC_URL is not https; Telegram delivers webhooks only over https",
        ));
    }
    let secret = bot.webhook_secret().expose_secret();
    let Ok(webhook) = WebhookConfig::new(url.clone(), secret) else {
        return Ok(WebhookCheck::Skipped(
            "LOYALTY_TELEGRAM_WEBHOOK_SECRET must be 1-256 of A-Z a-z 0-9 _ -",
        ));
    };
    bot.telegram.set_webhook(&webhook).await?;
    let info = bot.telegram.get_webhook_info().await?;
    let missing_updates = info.missing_updates(&ALLOWED_UPDATES);
    if let Some(error) = &info.last_error_message {
        tracing::warn!(%error, date = ?info.last_error_date, "Telegram's last webhook delivery failed");
    }
    let menu = bot
        .telegram
        .set_chat_menu_button(
            None,
            super::texts::open_app(app::Language::Ru),
            &bot.mini_app_link(""),
        )
        .await;
    if let Err(e) = menu {
        tracing::warn!(error = %e, "could not set the bot's menu button to the Mini App");
    }
    if info.url == url && missing_updates.is_empty() {
        return Ok(WebhookCheck::Ready);
    }
    Ok(WebhookCheck::Mismatch {
        url: info.url,
        missing_updates,
    })
}

/// The bot's webhook as Telegram reports it (`getWebhookInfo`), for the admin panel: whether it
/// points here, what Telegram leaves out, how many updates wait, and its last delivery error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookStatus {
    /// Where this server wants updates (`LOYALTY_PUBLIC_URL` + /webhooks/telegram, and
    /// `/<bot id>` for a program's own bot).
    pub expected_url: String,
    /// Where Telegram sends them; empty when no webhook is set (polling, or never set).
    pub url: String,
    /// Updates Telegram holds for delivery.
    pub pending_update_count: i64,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error_message: Option<String>,
    /// Update kinds this server reads that Telegram will not send.
    pub missing_updates: Vec<String>,
    /// Everything is as this server wants it.
    pub ready: bool,
}

/// `getWebhookInfo`, compared with what this server wants.
pub async fn status(bot: &Bot) -> Result<WebhookStatus, BotError> {
    let info = bot.telegram.get_webhook_info().await?;
    let expected_url = bot.public_link(&bot.webhook_path());
    let missing_updates = info.missing_updates(&ALLOWED_UPDATES);
    Ok(WebhookStatus {
        ready: info.url == expected_url && missing_updates.is_empty(),
        expected_url,
        pending_update_count: info.pending_update_count,
        last_error_at: info
            .last_error_date
            .and_then(|at| DateTime::from_timestamp(at, 0)),
        last_error_message: info.last_error_message,
        url: info.url,
        missing_updates,
    })
}

/// Runs [`ensure_webhook`] once and logs the result.
pub async fn check_at_startup(bot: Bot) {
    match ensure_webhook(&bot).await {
        Ok(WebhookCheck::Ready) => tracing::info!("Telegram webhook set, all update kinds allowed"),
        Ok(WebhookCheck::Mismatch {
            url,
            missing_updates,
        }) => tracing::error!(
            %url,
            ?missing_updates,
            "TELEGRAM WEBHOOK IS NOT AS SET: Telegram reports another URL or leaves out update \
             kinds (reactions, chat_member…), which then never arrive"
        ),
        Ok(WebhookCheck::Skipped(why)) => tracing::warn!(why, "Telegram webhook not set"),
        Err(e) => tracing::error!(error = %e, "could not set the Telegram webhook"),
    }
}
