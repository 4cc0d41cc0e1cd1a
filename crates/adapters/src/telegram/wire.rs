//! The few Bot API fields the ledger reads. Own structs rather than teloxide-core: its parser
//! panics on a `message_reaction` or `poll_answer` without an actor (docs/platforms.md, teloxide
//! gotcha 3), and unknown fields must never fail an update.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::wire::clean_opt;

#[derive(Debug, Deserialize)]
pub(super) struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl User {
    pub fn display_name(&self) -> Option<String> {
        let last = self.last_name.as_deref().unwrap_or("");
        clean_opt(Some(
            format!("{} {last}", self.first_name).trim().to_owned(),
        ))
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Chat {
    pub id: i64,
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Groups, supergroups and channels have one; private chats do not.
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Message {
    pub message_id: i64,
    pub message_thread_id: Option<i64>,
    pub from: Option<User>,
    pub sender_chat: Option<Chat>,
    pub chat: Chat,
    pub date: Option<i64>,
    pub edit_date: Option<i64>,
    pub text: Option<String>,
    pub caption: Option<String>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub caption_entities: Vec<Entity>,
    pub reply_to_message: Option<ReplyTo>,
    #[serde(default)]
    pub is_automatic_forward: bool,
    pub migrate_to_chat_id: Option<i64>,
    pub migrate_from_chat_id: Option<i64>,
    // Content without text still makes a comment; service messages have none of these.
    pub photo: Option<IgnoredAny>,
    pub video: Option<IgnoredAny>,
    pub animation: Option<IgnoredAny>,
    pub audio: Option<IgnoredAny>,
    pub document: Option<IgnoredAny>,
    pub sticker: Option<IgnoredAny>,
    pub voice: Option<IgnoredAny>,
    pub video_note: Option<IgnoredAny>,
    pub poll: Option<IgnoredAny>,
    pub dice: Option<IgnoredAny>,
    pub location: Option<IgnoredAny>,
    pub contact: Option<IgnoredAny>,
}

impl Message {
    pub fn has_media(&self) -> bool {
        [
            &self.photo,
            &self.video,
            &self.animation,
            &self.audio,
            &self.document,
            &self.sticker,
            &self.voice,
            &self.video_note,
            &self.poll,
            &self.dice,
            &self.location,
            &self.contact,
        ]
        .iter()
        .any(|m| m.is_some())
    }
}

/// Only what tells a comment under a channel post apart from a reply to a member.
#[derive(Debug, Deserialize)]
pub(super) struct ReplyTo {
    pub message_id: i64,
    pub from: Option<User>,
    #[serde(default)]
    pub is_automatic_forward: bool,
    pub forward_origin: Option<ForwardOrigin>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ForwardOrigin {
    pub chat: Option<Chat>,
    pub message_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Entity {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub offset: i64,
    #[serde(default)]
    pub length: i64,
    pub user: Option<User>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ReactionUpdate {
    pub chat: Chat,
    pub message_id: i64,
    pub user: Option<User>,
    pub actor_chat: Option<Chat>,
    pub date: Option<i64>,
    #[serde(default)]
    pub old_reaction: Vec<Reaction>,
    #[serde(default)]
    pub new_reaction: Vec<Reaction>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Reaction {
    #[serde(rename = "type")]
    pub kind: String,
    pub emoji: Option<String>,
    pub custom_emoji_id: Option<String>,
}

impl Reaction {
    /// Identity of a reaction for set comparison.
    pub fn key(&self) -> String {
        match self.kind.as_str() {
            "emoji" => format!("emoji:{}", self.emoji.as_deref().unwrap_or("")),
            "custom_emoji" => format!(
                "custom_emoji:{}",
                self.custom_emoji_id.as_deref().unwrap_or("")
            ),
            other => other.to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PollAnswer {
    pub poll_id: crate::wire::RawId,
    pub user: Option<User>,
    pub voter_chat: Option<Chat>,
    #[serde(default)]
    pub option_ids: Vec<i64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChatMemberUpdated {
    pub chat: Chat,
    pub from: Option<User>,
    pub date: Option<i64>,
    pub old_chat_member: ChatMember,
    pub new_chat_member: ChatMember,
    pub invite_link: Option<InviteLink>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChatMember {
    pub user: User,
    pub status: String,
    pub is_member: Option<bool>,
}

impl ChatMember {
    /// Subscribed in the ledger's sense: creator, admin, member, or restricted but still in.
    pub fn is_present(&self) -> bool {
        match self.status.as_str() {
            "creator" | "administrator" | "member" => true,
            "restricted" => self.is_member.unwrap_or(false),
            _ => false,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct InviteLink {
    pub invite_link: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// Absent when the message is too old for Telegram to attach.
    pub message: Option<CallbackMessage>,
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CallbackMessage {
    pub message_id: i64,
    pub chat: Chat,
}
