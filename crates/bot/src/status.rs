//! `my_chat_member`: the bot's own rights changed. In a program chat, losing admin rights means
//! reactions, `chat_member` updates and `getChatMember` checks silently stop — said loudly
//! here, and in the panel (`bot_group_chats`): a group the bot administers is offered for
//! connecting. In a private chat it means the user blocked or unblocked the bot.

use super::chats;
use adapters::signal::{BotRole, BotStatus};
use app::AppContext;
use chrono::Utc;
use domain::network::Network;

/// Logs (and, for private chats, records) a change of the bot's role.
pub async fn observe(state: &AppContext, bot: i64, status: &BotStatus) -> sqlx::Result<()> {
    let now = Utc::now();
    if status.chat_type == "private" {
        let Ok(user_id) = status.chat_id.parse::<i64>() else {
            return Ok(());
        };
        return match status.role {
            BotRole::Removed => chats::mark_unreachable(&state.pool, bot, user_id, now).await,
            BotRole::Member | BotRole::Administrator => {
                chats::mark_reachable(&state.pool, bot, user_id, now).await
            }
        };
    }
    let role = match status.role {
        BotRole::Administrator => "administrator",
        BotRole::Member => "member",
        BotRole::Removed => "removed",
    };
    app::channels::record_bot_chat(
        &state.pool,
        bot,
        &status.chat_id,
        Some(&status.chat_type),
        status.chat_title.as_deref(),
        role,
    )
    .await?;
    let channel = state
        .ingest
        .channel(Network::Telegram, &status.chat_id)
        .await?;
    // Who changed it is a Telegram user id: personal data, kept out of the logs.
    match (channel, status.role) {
        (Some(channel), BotRole::Administrator) => tracing::info!(
            chat = %status.chat_id,
            program = %channel.program_id,
            "the bot is an administrator of a program chat: reactions and chat_member arrive"
        ),
        (Some(channel), role) => {
            metrics::counter!("bot_admin_rights_lost_total").increment(1);
            tracing::error!(
                chat = %status.chat_id,
                chat_type = %status.chat_type,
                program = %channel.program_id,
                ?role,
                "THE BOT LOST ADMIN RIGHTS in a program chat: Telegram no longer sends its \
                 reactions or chat_member updates and getChatMember subscription checks fail. \
                 Make the bot an administrator of this chat again."
            );
        }
        (None, role) => tracing::info!(
            chat = %status.chat_id,
            chat_type = %status.chat_type,
            ?role,
            "the bot's role changed in a chat no program uses"
        ),
    }
    Ok(())
}
