//! Social networks, the kinds of activity they report, and who an external account is.

use crate::ids::AccountRef;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A social network the program listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// Instagram; its user ids are scoped to the brand account (see [`ExternalIdentity`]).
    Instagram,
    /// VK (VKontakte); user ids are global.
    Vk,
    /// Telegram; user ids are global, and the Mini App opens from it.
    Telegram,
}

impl Network {
    /// Every network, in a fixed order.
    pub const ALL: [Network; 3] = [Network::Instagram, Network::Vk, Network::Telegram];

    /// The lowercase name used in JSON, stream names and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Instagram => "instagram",
            Network::Vk => "vk",
            Network::Telegram => "telegram",
        }
    }

    /// The network whose [`Network::as_str`] is `s`; `None` for any other text.
    pub fn parse(s: &str) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.as_str() == s)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a member did that may earn points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// Commented on a post.
    Comment,
    /// Mentioned the brand.
    Mention,
    /// Liked or reacted to a post.
    Reaction,
    /// Voted in a poll.
    PollVote,
    /// Shared a post.
    Repost,
    /// Wrote a message.
    Message,
    /// Joined the VK group or the Telegram channel (a one-time bonus).
    Subscription,
    /// Wrote a campaign's codeword.
    Codeword,
}

impl ActivityKind {
    /// Every kind, in a fixed order.
    pub const ALL: [ActivityKind; 8] = [
        ActivityKind::Comment,
        ActivityKind::Mention,
        ActivityKind::Reaction,
        ActivityKind::PollVote,
        ActivityKind::Repost,
        ActivityKind::Message,
        ActivityKind::Subscription,
        ActivityKind::Codeword,
    ];

    /// The snake_case name used in JSON and activity keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Comment => "comment",
            ActivityKind::Mention => "mention",
            ActivityKind::Reaction => "reaction",
            ActivityKind::PollVote => "poll_vote",
            ActivityKind::Repost => "repost",
            ActivityKind::Message => "message",
            ActivityKind::Subscription => "subscription",
            ActivityKind::Codeword => "codeword",
        }
    }

    /// The kind whose [`ActivityKind::as_str`] is `s`; `None` for any other text.
    pub fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Activity many members share (everyone reacts to the same post, votes in the same poll,
    /// joins the same group): what identifies it includes who did it.
    pub fn is_per_member(self) -> bool {
        matches!(
            self,
            ActivityKind::Reaction | ActivityKind::PollVote | ActivityKind::Subscription
        )
    }

    /// Activity whose text the member wrote (and so may repeat): comments, mentions, messages.
    pub fn is_written(self) -> bool {
        matches!(
            self,
            ActivityKind::Comment | ActivityKind::Mention | ActivityKind::Message
        )
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account on a network, as the platform names it. Instagram user ids are scoped to the
/// brand account that received the webhook, so `scope` carries that account id; VK and Telegram
/// ids are global (`scope` empty). A member's account is personal data and never enters the
/// log: events name it by a [`LinkedAccount`]. Only the brand's own accounts (in the rules) are
/// stored as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExternalIdentity {
    /// The network the account is on.
    pub network: Network,
    /// The Instagram brand account that saw the user; empty on VK and Telegram.
    pub scope: String,
    /// The network's id for the user.
    pub external_id: String,
}

impl ExternalIdentity {
    /// An account from its parts.
    pub fn new(network: Network, scope: impl Into<String>, external_id: impl Into<String>) -> Self {
        Self {
            network,
            scope: scope.into(),
            external_id: external_id.into(),
        }
    }

    /// `network:scope:id`, for caches and logs of the app layer; never for the log.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.network, self.scope, self.external_id)
    }
}

/// An external account as events name it: its network and its pseudonymous reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LinkedAccount {
    /// The network the account is on.
    pub network: Network,
    /// The account's reference, issued on first sight.
    pub account: AccountRef,
}

impl fmt::Display for LinkedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} account {}", self.network, self.account)
    }
}

/// The thing that earned points as the log names it: `reference` is a keyed digest of the
/// platform's reference (see [`crate::privacy::PrivacyKeys::activity`]), never the platform id.
/// `(network, kind, reference)` identifies one activity; a member is paid for it at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ActivityRef {
    /// Where the activity happened.
    pub network: Network,
    /// What kind of activity it was.
    pub kind: ActivityKind,
    /// 32 hex digits: the keyed digest of the platform's id for it.
    pub reference: String,
}

impl ActivityRef {
    /// `network:kind:reference`: the key an award is stored and deduplicated under.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.network, self.kind, self.reference)
    }
}
