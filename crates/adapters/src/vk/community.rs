//! Likes, joins and leaves, community messages and poll votes.

use domain::network::{ActivityKind, Network};
use domain::privacy::PlatformActivity;
use serde::Deserialize;
use serde_json::Value;

use super::member;
use crate::signal::{Activity, MembershipChange, MembershipEvent, Retraction, Signal};
use crate::text::vk_mentions;
use crate::wire::{clean_opt, unix_seconds};

#[derive(Deserialize)]
struct Like {
    liker_id: i64,
    object_type: String,
    object_owner_id: i64,
    object_id: i64,
    #[serde(default)]
    post_id: i64,
}

/// A like names no object of its own, so its reference is the liked object plus the liker.
pub(super) fn like(group: &str, object: Value, added: bool) -> Option<Signal> {
    let like: Like = serde_json::from_value(object).ok()?;
    if like.liker_id <= 0 {
        return Some(Signal::Ignored {
            reason: "like by a community",
        });
    }
    let kind = crate::wire::clean(&like.object_type);
    let (owner, liker) = (like.object_owner_id, like.liker_id);
    let reference = format!("like:{kind}{owner}_{}:{liker}", like.object_id);
    if !added {
        return Some(Signal::Retraction(Retraction {
            activity: PlatformActivity {
                network: Network::Vk,
                kind: ActivityKind::Reaction,
                reference,
            },
            destination: group.to_owned(),
            account: Some(member(liker)),
            retracted_by: None,
            occurred_at: None,
        }));
    }
    // The post a liked comment belongs to; `post_id` is 0 for a post itself.
    let target = match (kind.as_str(), like.post_id) {
        ("post", _) => format!("wall{owner}_{}", like.object_id),
        (_, post) if post > 0 => format!("wall{owner}_{post}"),
        _ => format!("{kind}{owner}_{}", like.object_id),
    };
    Some(Signal::Activity(Activity {
        account: member(liker),
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::Reaction,
        reference,
        destination: group.to_owned(),
        target: Some(target),
        mentions: Vec::new(),
        text: None,
        occurred_at: None,
    }))
}

#[derive(Deserialize)]
struct Join {
    user_id: i64,
    join_type: Option<String>,
}

pub(super) fn join(group: &str, object: Value) -> Option<Signal> {
    let join: Join = serde_json::from_value(object).ok()?;
    match join.join_type.as_deref() {
        Some("join" | "accepted" | "approved") => {
            Some(membership(group, join.user_id, MembershipEvent::Joined))
        }
        Some("request") => Some(Signal::Ignored {
            reason: "join request is not membership",
        }),
        // `unsure` is an event's "maybe", not membership.
        _ => Some(Signal::Ignored {
            reason: "join type is not membership",
        }),
    }
}

#[derive(Deserialize)]
struct Leave {
    user_id: i64,
    #[serde(rename = "self", default)]
    on_their_own: i64,
}

pub(super) fn leave(group: &str, object: Value) -> Option<Signal> {
    let leave: Leave = serde_json::from_value(object).ok()?;
    let event = if leave.on_their_own == 1 {
        MembershipEvent::Left
    } else {
        MembershipEvent::Removed
    };
    Some(membership(group, leave.user_id, event))
}

fn membership(group: &str, user_id: i64, change: MembershipEvent) -> Signal {
    if user_id <= 0 {
        return Signal::Ignored {
            reason: "membership of a community",
        };
    }
    Signal::Membership(MembershipChange {
        account: member(user_id),
        username: None,
        display_name: None,
        language_code: None,
        destination: group.to_owned(),
        change,
        invite_link: None,
        occurred_at: None,
    })
}

#[derive(Deserialize)]
struct MessageNew {
    message: Option<Message>,
    client_info: Option<ClientInfo>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    id: i64,
    #[serde(default)]
    from_id: i64,
    #[serde(default)]
    peer_id: i64,
    conversation_message_id: Option<i64>,
    date: Option<i64>,
    text: Option<String>,
    #[serde(default)]
    out: i64,
}

#[derive(Deserialize)]
struct ClientInfo {
    lang_id: Option<i64>,
}

/// VK interface language ids as documented for `lang`.
fn language(lang_id: i64) -> Option<String> {
    let code =
        ["ru", "uk", "be", "en", "es", "fi", "de", "it"].get(usize::try_from(lang_id).ok()?)?;
    Some((*code).to_owned())
}

/// 5.103+ wraps the message in `object.message`; older servers send the message as `object`.
pub(super) fn message(group: &str, object: Value) -> Option<Signal> {
    let (message, client) = match serde_json::from_value::<MessageNew>(object.clone()).ok()? {
        MessageNew {
            message: Some(m),
            client_info,
        } => (m, client_info),
        MessageNew { message: None, .. } => (serde_json::from_value::<Message>(object).ok()?, None),
    };
    if message.out != 0 || message.from_id <= 0 {
        return Some(Signal::Ignored {
            reason: "message not written by a member",
        });
    }
    // Message ids are per community dialog; chats use conversation_message_id per peer.
    let reference = match message.conversation_message_id {
        Some(cmid) if cmid > 0 && message.peer_id != 0 => {
            format!("message:{}_{cmid}", message.peer_id)
        }
        _ if message.id > 0 => format!("message:{}", message.id),
        _ => {
            return Some(Signal::Ignored {
                reason: "message without an id",
            });
        }
    };
    let text = clean_opt(message.text);
    Some(Signal::Activity(Activity {
        account: member(message.from_id),
        username: None,
        display_name: None,
        language_code: client.and_then(|c| c.lang_id).and_then(language),
        kind: ActivityKind::Message,
        reference,
        destination: group.to_owned(),
        target: None,
        mentions: text.as_deref().map(vk_mentions).unwrap_or_default(),
        text,
        occurred_at: unix_seconds(message.date),
    }))
}

#[derive(Deserialize)]
struct PollVote {
    owner_id: i64,
    poll_id: i64,
    user_id: i64,
}

/// One vote per member per poll: multi-choice votes arrive as several events, same reference.
pub(super) fn poll_vote(group: &str, object: Value) -> Option<Signal> {
    let vote: PollVote = serde_json::from_value(object).ok()?;
    if vote.user_id <= 0 {
        return Some(Signal::Ignored {
            reason: "vote by a community",
        });
    }
    let poll = format!("poll{}_{}", vote.owner_id, vote.poll_id);
    Some(Signal::Activity(Activity {
        account: member(vote.user_id),
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::PollVote,
        reference: format!("{poll}:{}", vote.user_id),
        destination: group.to_owned(),
        target: Some(poll),
        mentions: Vec::new(),
        text: None,
        occurred_at: None,
    }))
}
