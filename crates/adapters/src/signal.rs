//! What an inbound delivery means for the ledger, independent of the platform it came from.

use chrono::{DateTime, Utc};
use domain::network::{ActivityKind, ExternalIdentity};
use domain::privacy::PlatformActivity;
use serde::Serialize;

/// One fact read from a platform delivery. A delivery yields zero or more signals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// A member did something that may earn points.
    Activity(Activity),
    /// A member's earlier activity was edited. Never a second award; the new text may still
    /// carry a codeword that the original did not (the ledger pays it at most once).
    Edit(Edit),
    /// A deleted activity came back (VK `*_restore`): the full object, same reference.
    Restoration(Activity),
    /// An earlier activity is gone (deleted comment, unlike, retracted vote, unsent DM).
    Retraction(Retraction),
    /// A member joined or left a community / channel / group.
    Membership(MembershipChange),
    /// A private message to the Telegram bot (commands, link codes, codewords).
    BotMessage(BotMessage),
    /// The Telegram bot's own rights in a chat changed.
    BotStatus(BotStatus),
    /// A command for the bot typed in a Telegram group that the bot acts on (`/managers`).
    GroupCommand(GroupCommand),
    /// A Telegram group message answering one of the bot's messages (a reason asked for with
    /// a ForceReply). The same message is also an `Activity` where the group is a channel.
    GroupReply(GroupReply),
    /// An inline button under one of the bot's messages was pressed.
    CallbackQuery(CallbackQuery),
    /// The brand was @mentioned in a comment on someone else's media (Instagram `mentions`).
    /// Only ids come: the comment's text and author must be looked up with the brand's token.
    MentionedInComment {
        /// The brand account mentioned.
        destination: String,
        comment_id: String,
        /// When Meta sent the notification.
        sent_at: Option<DateTime<Utc>>,
    },
    /// A Telegram group became a supergroup with a new id; stored chat ids must follow.
    ChatMigrated {
        from_chat_id: String,
        to_chat_id: String,
    },
    /// Understood and deliberately not used; the reason is for logs.
    Ignored { reason: &'static str },
}

/// A member action with everything needed to route it to a program and pay it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Who did it (Instagram identities are scoped to the brand account).
    pub account: ExternalIdentity,
    /// Mutable display data, never identity.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub language_code: Option<String>,
    pub kind: ActivityKind,
    /// The platform's own object id, stable across redelivery, edits and restores.
    /// For objects shared by many members (likes, votes, reactions) it includes the member.
    pub reference: String,
    /// Where it happened: brand IG account id, VK group id, Telegram chat id
    /// (Telegram poll answers name no chat: `poll:<poll_id>`, resolved by whoever sent the poll).
    pub destination: String,
    /// The post / media / topic / poll the activity is about, when the platform says.
    pub target: Option<String>,
    /// Text as written, NUL characters removed.
    pub text: Option<String>,
    /// Handles mentioned in the text, lower case, without `@` (VK: `id123` / `club123`;
    /// Telegram text mentions of users without a username: their numeric id).
    pub mentions: Vec<String>,
    /// When the member did it; `None` when the platform does not say (use the receive time).
    /// Instagram `changes` only carry the time Meta sent the batch.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl Activity {
    /// The activity as the platform names it; the app digests it into the ledger's key.
    pub fn platform_activity(&self) -> PlatformActivity {
        PlatformActivity {
            network: self.account.network,
            kind: self.kind,
            reference: self.reference.clone(),
        }
    }
}

/// An edited activity: same reference as the original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub activity: Activity,
    pub edited_at: Option<DateTime<Utc>>,
}

/// Reverses an earlier activity found by `(network, kind, reference)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retraction {
    pub activity: PlatformActivity,
    pub destination: String,
    /// The original author when the payload names one (VK `wall_reply_delete` does not).
    pub account: Option<ExternalIdentity>,
    /// Who removed it when that may differ from the author (a VK moderator).
    pub retracted_by: Option<ExternalIdentity>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A member's presence in a community changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipChange {
    pub account: ExternalIdentity,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub language_code: Option<String>,
    /// VK group id or Telegram chat id.
    pub destination: String,
    pub change: MembershipEvent,
    /// Telegram invite link name (or the link itself) for campaign attribution.
    pub invite_link: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipEvent {
    Joined,
    /// Left on their own.
    Left,
    /// Removed or banned by an admin.
    Removed,
}

/// A private message to the Telegram bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub account: ExternalIdentity,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub language_code: Option<String>,
    /// The whole text; a plain text may be a codeword or an account-link code.
    pub text: String,
    pub command: Option<BotCommand>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// `/name@bot args` parsed; `args` is the trimmed rest of the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotCommand {
    pub name: CommandName,
    pub args: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandName {
    Start,
    Balance,
    History,
    Top,
    Link,
    Help,
    /// Erase the member's personal data (`/forget yes` confirms).
    Forget,
    /// No more broadcasts from the brand.
    Stop,
    /// Broadcasts again.
    Resume,
    /// In a group: make it the program's managers' chat (`/managers off` disconnects it).
    Managers,
    /// Any other command, lower case, without `/` and `@bot`.
    Other(String),
}

/// The bot's role in a chat after a `my_chat_member` update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotStatus {
    pub chat_id: String,
    pub chat_type: String,
    /// A group's or channel's title (not a person's name).
    pub chat_title: Option<String>,
    pub role: BotRole,
    /// Who changed it (an admin; in private chats the user who blocked the bot).
    pub changed_by: Option<ExternalIdentity>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BotRole {
    /// Can see `chat_member` and reactions and call `getChatMember`.
    Administrator,
    Member,
    /// Left, kicked, or restricted out of the chat (private chat: blocked).
    Removed,
}

/// A bot command in a Telegram group, with who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCommand {
    pub chat_id: i64,
    pub chat_title: Option<String>,
    pub message_id: i64,
    /// The Telegram user who typed it.
    pub user_id: i64,
    pub language_code: Option<String>,
    pub command: BotCommand,
}

/// A group message that replies to a message of the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupReply {
    pub chat_id: i64,
    pub message_id: i64,
    /// The bot's message it answers.
    pub reply_to_message_id: i64,
    pub user_id: i64,
    pub language_code: Option<String>,
    pub text: String,
}

/// A pressed inline button: Telegram waits for `answerCallbackQuery` with `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackQuery {
    pub id: String,
    /// Who pressed it.
    pub user_id: i64,
    pub language_code: Option<String>,
    /// The chat and message the button is under, when Telegram still has them.
    pub chat_id: Option<i64>,
    pub message_id: Option<i64>,
    /// The button's `callback_data`.
    pub data: Option<String>,
}
