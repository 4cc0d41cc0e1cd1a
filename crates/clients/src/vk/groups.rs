//! `groups.isMember`: one user, one user with pending request / invitation, or a batch.

use serde::Deserialize;

use super::VkApi;
use crate::{ClientError, Result};

/// Most `user_ids` VK takes in one `groups.isMember` call.
pub const MAX_USER_IDS: usize = 500;

/// The `extended=1` answer. A pending join request (`request`) is not membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VkMembership {
    pub member: bool,
    /// Asked to join a closed community and not yet approved.
    pub request: bool,
    /// Invited by the community and not yet accepted.
    pub invitation: bool,
}

/// VK flags are `0`/`1`; booleans are accepted too, anything else is malformed.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Int(u8),
    Bool(bool),
}

impl Flag {
    fn get(self) -> Result<bool> {
        match self {
            Flag::Int(0) | Flag::Bool(false) => Ok(false),
            Flag::Int(1) | Flag::Bool(true) => Ok(true),
            Flag::Int(_) => Err(ClientError::Malformed("flag is not 0 or 1".to_owned())),
        }
    }
}

#[derive(Deserialize)]
struct Extended {
    member: Flag,
    request: Option<Flag>,
    invitation: Option<Flag>,
}

#[derive(Deserialize)]
struct BatchItem {
    user_id: i64,
    member: Flag,
}

impl VkApi {
    /// `groups.isMember` for one user.
    pub async fn is_member(&self, group_id: i64, user_id: i64) -> Result<bool> {
        let params = [
            ("group_id", group_id.to_string()),
            ("user_id", user_id.to_string()),
        ];
        let flag: Flag = self.call("groups.isMember", &params).await?;
        flag.get()
    }

    /// `groups.isMember` with `extended=1`: membership plus pending request / invitation.
    pub async fn membership(&self, group_id: i64, user_id: i64) -> Result<VkMembership> {
        let params = [
            ("group_id", group_id.to_string()),
            ("user_id", user_id.to_string()),
            ("extended", "1".to_owned()),
        ];
        let raw: Extended = self.call("groups.isMember", &params).await?;
        let optional = |flag: Option<Flag>| flag.map_or(Ok(false), Flag::get);
        Ok(VkMembership {
            member: raw.member.get()?,
            request: optional(raw.request)?,
            invitation: optional(raw.invitation)?,
        })
    }

    /// `groups.isMember` with `user_ids`, [`MAX_USER_IDS`] per call, answers in the order
    /// asked. A user VK does not answer for (e.g. a deleted account) is left out rather
    /// than guessed; an answer for a user not asked about is ignored.
    pub async fn are_members(&self, group_id: i64, user_ids: &[i64]) -> Result<Vec<(i64, bool)>> {
        let mut answers = Vec::with_capacity(user_ids.len());
        for chunk in user_ids.chunks(MAX_USER_IDS) {
            let ids = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let params = [("group_id", group_id.to_string()), ("user_ids", ids)];
            let items: Vec<BatchItem> = self.call("groups.isMember", &params).await?;
            let mut known = std::collections::HashMap::with_capacity(items.len());
            for item in items {
                known.insert(item.user_id, item.member.get()?);
            }
            answers.extend(
                chunk
                    .iter()
                    .filter_map(|id| known.get(id).map(|member| (*id, *member))),
            );
        }
        Ok(answers)
    }
}
