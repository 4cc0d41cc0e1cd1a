//! `getChatMember`: is this user subscribed to the channel / in the group right now?

use serde::{Deserialize, Serialize};

use super::{ChatId, TelegramApi};
use crate::{ClientError, Result};

/// A `ChatMember.status`, with what makes `restricted` a member or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    Creator,
    Administrator,
    Member,
    /// In the chat with limited rights only while `is_member` is true.
    Restricted {
        is_member: bool,
    },
    Left,
    /// Banned (`until_date` 0 = forever).
    Kicked,
}

impl MemberStatus {
    /// Membership per docs/platforms.md (Telegram): creator, administrator, member, and restricted users
    /// still in the chat. (teloxide's `is_member()` is true only for plain members.)
    pub fn is_member(self) -> bool {
        match self {
            MemberStatus::Creator | MemberStatus::Administrator | MemberStatus::Member => true,
            MemberStatus::Restricted { is_member } => is_member,
            MemberStatus::Left | MemberStatus::Kicked => false,
        }
    }
}

#[derive(Deserialize)]
struct RawMember {
    status: String,
    /// Sent with `restricted`; missing counts as not a member, so no award rests on a guess.
    #[serde(default)]
    is_member: bool,
}

impl TryFrom<RawMember> for MemberStatus {
    type Error = ClientError;

    fn try_from(raw: RawMember) -> Result<Self> {
        Ok(match raw.status.as_str() {
            "creator" => MemberStatus::Creator,
            "administrator" => MemberStatus::Administrator,
            "member" => MemberStatus::Member,
            "restricted" => MemberStatus::Restricted {
                is_member: raw.is_member,
            },
            "left" => MemberStatus::Left,
            "kicked" => MemberStatus::Kicked,
            _ => {
                return Err(ClientError::Malformed(
                    "unknown chat member status".to_owned(),
                ));
            }
        })
    }
}

#[derive(Serialize)]
struct GetChatMember<'a> {
    chat_id: &'a ChatId,
    user_id: i64,
}

impl TelegramApi {
    /// Works for other users only while the bot is an administrator of the chat.
    pub async fn get_chat_member(
        &self,
        chat_id: impl Into<ChatId>,
        user_id: i64,
    ) -> Result<MemberStatus> {
        let chat_id = chat_id.into();
        let body = GetChatMember {
            chat_id: &chat_id,
            user_id,
        };
        let raw: RawMember = self.call("getChatMember", &body).await?;
        MemberStatus::try_from(raw)
    }
}
