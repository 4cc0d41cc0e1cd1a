//! One Telegram update, from the webhook or from `getUpdates`: parse, store what the bot must
//! answer (the raw bytes, by `update_id`), note the bot's own membership changes, and record
//! the rest through the ingest. Updates no program receives are still `Ok`: Telegram must not
//! retry those for a day.

use adapters::signal::Signal;
use adapters::telegram;
use app::{AppContext, AppError};
use domain::network::Network;
use store::Metadata;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The bytes are not a Telegram update; they never will be.
    #[error("{0}")]
    Malformed(String),
    /// Recording failed; the update should be delivered again.
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<sqlx::Error> for UpdateError {
    fn from(e: sqlx::Error) -> Self {
        Self::Failed(AppError::Store(e.into()))
    }
}

/// `bot` is the receiving bot's `Bot::rows_key` (0 for the configured bot).
pub async fn handle(context: &AppContext, bot: i64, body: &[u8]) -> Result<(), UpdateError> {
    let update = telegram::parse(body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    if let Some(user_id) = for_the_bot(context, &update.signals).await? {
        crate::inbox::store(&context.pool, bot, update.update_id, user_id, body).await?;
    }
    for signal in &update.signals {
        if let Signal::BotStatus(status) = signal {
            crate::status::observe(context, bot, status).await?;
        }
    }
    let metadata = Metadata {
        actor: Some("platform:telegram".into()),
        delivery_id: Some(context.accounts().delivery(&update.delivery_key())),
        ..Metadata::default()
    };
    context
        .ingest
        .record_delivery(Network::Telegram, &update.signals, metadata)
        .await?;
    Ok(())
}

/// The sender of an update the bot answers: a private message, `/managers`, a pressed button,
/// or a reply in a managers' chat (replies to the bot elsewhere are comments, nothing more).
async fn for_the_bot(
    context: &AppContext,
    signals: &[Signal],
) -> Result<Option<Option<i64>>, UpdateError> {
    for signal in signals {
        let reply = match signal {
            Signal::BotMessage(msg) => return Ok(Some(msg.account.external_id.parse().ok())),
            Signal::GroupCommand(command) => return Ok(Some(Some(command.user_id))),
            Signal::CallbackQuery(query) => return Ok(Some(Some(query.user_id))),
            Signal::GroupReply(reply) => reply,
            _ => continue,
        };
        let chat = app::managers_chat::by_chat(&context.pool, reply.chat_id).await?;
        if chat.is_some() {
            return Ok(Some(Some(reply.user_id)));
        }
    }
    Ok(None)
}
