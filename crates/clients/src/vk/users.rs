//! `users.get`: members' names and short addresses, for the names the panel and leaderboards
//! show. VK webhooks carry only user ids.

use serde::Deserialize;

use super::VkApi;
use crate::Result;

/// Most `user_ids` VK takes in one `users.get` call.
pub const MAX_USERS_PER_CALL: usize = 1_000;

/// A VK user as `users.get` describes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VkUser {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    /// The short address (`vk.com/<screen_name>`); `id<N>` when none was chosen.
    #[serde(default)]
    pub screen_name: Option<String>,
    /// `deleted` or `banned`: the profile is gone, and its name is a placeholder.
    #[serde(default)]
    pub deactivated: Option<String>,
}

impl VkUser {
    /// First and last name, or `None` for a deactivated profile (its "DELETED" is no name).
    pub fn full_name(&self) -> Option<String> {
        if self.deactivated.is_some() {
            return None;
        }
        let name = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let name = name.trim();
        (!name.is_empty()).then(|| name.to_string())
    }

    /// The chosen short address, if any (`id123` is only the id again).
    pub fn handle(&self) -> Option<&str> {
        self.screen_name
            .as_deref()
            .filter(|s| self.deactivated.is_none() && *s != format!("id{}", self.id))
    }
}

impl VkApi {
    /// `users.get` with `fields=screen_name`, [`MAX_USERS_PER_CALL`] ids per call. A user VK
    /// does not answer for is left out.
    pub async fn users(&self, user_ids: &[i64]) -> Result<Vec<VkUser>> {
        let mut users = Vec::with_capacity(user_ids.len());
        for chunk in user_ids.chunks(MAX_USERS_PER_CALL) {
            let ids = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let params = [("user_ids", ids), ("fields", "screen_name".to_owned())];
            let answered: Vec<VkUser> = self.call("users.get", &params).await?;
            users.extend(answered.into_iter().filter(|u| chunk.contains(&u.id)));
        }
        Ok(users)
    }
}
