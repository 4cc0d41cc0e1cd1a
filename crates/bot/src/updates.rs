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

pub async fn handle(context: &AppContext, body: &[u8]) -> Result<(), UpdateError> {
    let update = telegram::parse(body).map_err(|e| UpdateError::Malformed(e.to_string()))?;
    let sender = update.signals.iter().find_map(|s| match s {
        Signal::BotMessage(msg) => Some(msg.account.external_id.parse::<i64>().ok()),
        _ => None,
    });
    if let Some(user_id) = sender {
        crate::inbox::store(&context.pool, update.update_id, user_id, body).await?;
    }
    for signal in &update.signals {
        if let Signal::BotStatus(status) = signal {
            crate::status::observe(context, status).await?;
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
