//! Checking a channel on demand (panel, API, `loyalty channels check`): its health, and for a
//! Telegram chat whether the bot is an administrator there, asked of Telegram now.

use crate::Bot;
use app::channels::{ChannelError, ChannelStatus};
use clients::{ClientError, TelegramApi};
use domain::ids::ProgramId;
use domain::network::Network;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// A channel's state and what, if anything, to fix.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelCheck {
    pub channel: ChannelStatus,
    /// Telegram: the bot's role in the chat as Telegram answered just now (`administrator`,
    /// `member`, `left`, ...); none when it could not be asked.
    pub bot_role: Option<String>,
    /// What looks wrong, each with what to do; empty when all is well.
    pub problems: Vec<String>,
}

/// The bot that asks Telegram about a chat: its client, and how its rows are keyed
/// (`Bot::rows_key`).
#[derive(Clone, Copy)]
pub struct Asker<'a> {
    pub telegram: &'a TelegramApi,
    pub rows_key: i64,
}

impl Bot {
    pub fn asker(&self) -> Asker<'_> {
        Asker {
            telegram: &self.telegram,
            rows_key: self.rows_key(),
        }
    }
}

/// Checks one of the program's channels; `bot` is the program's bot, if one is configured.
pub async fn check(
    pool: &PgPool,
    bot: Option<Asker<'_>>,
    program_id: ProgramId,
    network: Network,
    destination: &str,
) -> Result<ChannelCheck, ChannelError> {
    let not_found = || ChannelError::NotFound {
        network,
        destination: destination.to_string(),
    };
    let mut problems = Vec::new();
    let mut bot_role = None;
    if network == Network::Telegram {
        // Asked first, so the answer is in the status read below.
        match ask_bot_role(pool, bot, destination).await {
            Ok(role) => {
                if role != "administrator" {
                    problems.push(format!(
                        "the bot is {role} here, not an administrator: Telegram sends reactions \
                         and joins, and answers subscription checks, only to administrators; \
                         make the bot an administrator of the chat"
                    ));
                }
                bot_role = Some(role);
            }
            Err(why) => problems.push(why),
        }
    }
    let channel = app::channels::statuses(pool, program_id)
        .await?
        .into_iter()
        .find(|c| c.network == network.as_str() && c.destination == destination)
        .ok_or_else(not_found)?;
    if channel.last_delivery_at.is_none() {
        problems.push(no_delivery_hint(network).to_string());
    }
    if let Some(refused_at) = channel.last_refused_at
        && channel.last_delivery_at.is_none_or(|at| at < refused_at)
    {
        let fix = match network {
            Network::Instagram => {
                "for a signature not made with the server's app secret: set \
                 LOYALTY_INSTAGRAM_APP_SECRET to the Meta app's secret"
            }
            _ => {
                "for a wrong secret key: set the same secret key here and in the group's \
                 Callback API settings"
            }
        };
        problems.push(format!(
            "{} deliveries were refused {fix} (the last at {refused_at})",
            channel.refused
        ));
    }
    Ok(ChannelCheck {
        channel,
        bot_role,
        problems,
    })
}

fn no_delivery_hint(network: Network) -> &'static str {
    match network {
        Network::Vk => {
            "no delivery has arrived yet: in the VK group's Manage → API → Callback API, the \
             server address must be this server's /webhooks/vk, confirmed, with the event types \
             to reward switched on"
        }
        Network::Instagram => {
            "no delivery has arrived yet: the Meta app's Instagram webhook must point to this \
             server's /webhooks/instagram, subscribed to comments and mentions, and the \
             account must have granted the app access"
        }
        Network::Telegram => {
            "no update from this chat has arrived yet: the bot must be in the chat and its \
             webhook (or polling) running"
        }
    }
}

/// The bot's role in a chat as Telegram reports it now, kept for the channel list.
async fn ask_bot_role(
    pool: &PgPool,
    bot: Option<Asker<'_>>,
    chat_id: &str,
) -> Result<String, String> {
    let Some(bot) = bot else {
        return Err(
            "no bot token is configured (LOYALTY_TELEGRAM_BOT_TOKEN): nothing can \
                    ask Telegram about the chat"
                .into(),
        );
    };
    let chat: i64 = chat_id
        .parse()
        .map_err(|_| "a Telegram chat id is a number".to_string())?;
    let role = match bot
        .telegram
        .get_chat_member(chat, bot.telegram.bot_id())
        .await
    {
        Ok(status) => role_name(status),
        Err(ClientError::ChatNotFound) => {
            return Err(
                "Telegram does not know this chat, or the bot is not in it: add the \
                        bot to the chat as an administrator"
                    .into(),
            );
        }
        Err(ClientError::Forbidden { .. }) => "removed",
        Err(e) => return Err(format!("Telegram could not be asked: {e}")),
    };
    app::channels::record_bot_chat(pool, bot.rows_key, chat_id, None, None, role)
        .await
        .map_err(|e| format!("the answer could not be stored: {e}"))?;
    Ok(role.to_string())
}

fn role_name(status: clients::telegram::MemberStatus) -> &'static str {
    use clients::telegram::MemberStatus::*;
    match status {
        Creator | Administrator => "administrator",
        Member | Restricted { is_member: true } => "member",
        Restricted { is_member: false } | Left | Kicked => "removed",
    }
}
