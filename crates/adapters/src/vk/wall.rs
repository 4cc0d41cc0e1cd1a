//! Wall comments, board (discussion topic) posts and reposts.
//! References follow VK's `owner_id_object_id` notation, prefixed by the object kind, because
//! comment ids are unique only per wall owner.

use domain::network::{ActivityKind, Network};
use domain::privacy::PlatformActivity;
use serde::Deserialize;
use serde_json::Value;

use super::member;
use crate::signal::{Activity, Edit, Retraction, Signal};
use crate::text::vk_mentions;
use crate::wire::{clean_opt, unix_seconds};

/// Which event of a comment's life the object came with; edits and restores reuse the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    New,
    Edit,
    Restore,
}

#[derive(Deserialize)]
struct WallComment {
    id: i64,
    #[serde(default)]
    from_id: i64,
    owner_id: Option<i64>,
    post_id: Option<i64>,
    date: Option<i64>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct WallCommentDeleted {
    id: i64,
    owner_id: Option<i64>,
    deleter_id: Option<i64>,
}

#[derive(Deserialize)]
struct BoardPost {
    id: i64,
    #[serde(default)]
    from_id: i64,
    topic_owner_id: Option<i64>,
    topic_id: i64,
    date: Option<i64>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Post {
    id: i64,
    #[serde(default)]
    from_id: i64,
    owner_id: i64,
    date: Option<i64>,
    text: Option<String>,
    #[serde(default)]
    copy_history: Vec<PostRef>,
}

#[derive(Deserialize)]
struct PostRef {
    id: i64,
    owner_id: i64,
}

/// The community wall's owner id is the negative group id.
fn community_owner(group: &str) -> i64 {
    group.parse::<i64>().map(|g| -g).unwrap_or_default()
}

fn wall_reply_ref(owner_id: i64, id: i64) -> String {
    format!("wall_reply:{owner_id}_{id}")
}

fn board_ref(owner_id: i64, topic_id: i64, id: i64) -> String {
    format!("board:{owner_id}_{topic_id}_{id}")
}

pub(super) fn reply(group: &str, object: Value, phase: Phase) -> Option<Signal> {
    let c: WallComment = serde_json::from_value(object).ok()?;
    let owner = c.owner_id.unwrap_or_else(|| community_owner(group));
    let target = c.post_id.map(|p| format!("wall{owner}_{p}"));
    Some(comment(
        group,
        c.from_id,
        wall_reply_ref(owner, c.id),
        target,
        c.text,
        c.date,
        phase,
    ))
}

pub(super) fn board_post(group: &str, object: Value, phase: Phase) -> Option<Signal> {
    let p: BoardPost = serde_json::from_value(object).ok()?;
    let owner = p.topic_owner_id.unwrap_or_else(|| community_owner(group));
    let target = Some(format!("topic{owner}_{}", p.topic_id));
    let reference = board_ref(owner, p.topic_id, p.id);
    Some(comment(
        group, p.from_id, reference, target, p.text, p.date, phase,
    ))
}

fn comment(
    group: &str,
    from_id: i64,
    reference: String,
    target: Option<String>,
    text: Option<String>,
    date: Option<i64>,
    phase: Phase,
) -> Signal {
    // Negative ids are communities, usually the brand answering: never points.
    if from_id <= 0 {
        return Signal::Ignored {
            reason: "comment by a community",
        };
    }
    let text = clean_opt(text);
    let activity = Activity {
        account: member(from_id),
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::Comment,
        reference,
        destination: group.to_owned(),
        target,
        mentions: text.as_deref().map(vk_mentions).unwrap_or_default(),
        text,
        occurred_at: unix_seconds(date),
    };
    match phase {
        Phase::New => Signal::Activity(activity),
        // VK sends no edit time; `date` stays the original.
        Phase::Edit => Signal::Edit(Edit {
            activity,
            edited_at: None,
        }),
        Phase::Restore => Signal::Restoration(activity),
    }
}

/// No author and no text in a delete: the ledger finds the award by reference.
pub(super) fn reply_delete(group: &str, object: Value) -> Option<Signal> {
    let d: WallCommentDeleted = serde_json::from_value(object).ok()?;
    let owner = d.owner_id.unwrap_or_else(|| community_owner(group));
    Some(comment_retraction(
        group,
        wall_reply_ref(owner, d.id),
        d.deleter_id,
    ))
}

pub(super) fn board_post_delete(group: &str, object: Value) -> Option<Signal> {
    #[derive(Deserialize)]
    struct Deleted {
        id: i64,
        topic_owner_id: Option<i64>,
        topic_id: i64,
    }
    let d: Deleted = serde_json::from_value(object).ok()?;
    let owner = d.topic_owner_id.unwrap_or_else(|| community_owner(group));
    Some(comment_retraction(
        group,
        board_ref(owner, d.topic_id, d.id),
        None,
    ))
}

fn comment_retraction(group: &str, reference: String, deleter_id: Option<i64>) -> Signal {
    Signal::Retraction(Retraction {
        activity: PlatformActivity {
            network: Network::Vk,
            kind: ActivityKind::Comment,
            reference,
        },
        destination: group.to_owned(),
        account: None,
        // May be a moderator rather than the author.
        retracted_by: deleter_id.filter(|d| *d > 0).map(member),
        occurred_at: None,
    })
}

/// A new post on the community's wall. A member's post (a suggestion the community published)
/// earns as a mention when it names the community; the community's own posts never earn.
pub(super) fn post(group: &str, object: Value) -> Option<Signal> {
    let post: Post = serde_json::from_value(object).ok()?;
    if post.from_id <= 0 {
        return Some(Signal::Ignored {
            reason: "post by a community",
        });
    }
    let text = clean_opt(post.text);
    let mentions = text.as_deref().map(vk_mentions).unwrap_or_default();
    if !mentions.contains(&format!("club{group}")) {
        return Some(Signal::Ignored {
            reason: "a member's post earns only by mentioning the community",
        });
    }
    Some(Signal::Activity(Activity {
        account: member(post.from_id),
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::Mention,
        reference: format!("wall{}_{}", post.owner_id, post.id),
        destination: group.to_owned(),
        target: None,
        mentions,
        text,
        occurred_at: unix_seconds(post.date),
    }))
}

pub(super) fn repost(group: &str, object: Value) -> Option<Signal> {
    let post: Post = serde_json::from_value(object).ok()?;
    if post.from_id <= 0 {
        return Some(Signal::Ignored {
            reason: "repost by a community",
        });
    }
    let original = post
        .copy_history
        .first()
        .map(|o| format!("wall{}_{}", o.owner_id, o.id));
    Some(Signal::Activity(Activity {
        account: member(post.from_id),
        username: None,
        display_name: None,
        language_code: None,
        kind: ActivityKind::Repost,
        // The member's new post: one repost, one reference.
        reference: format!("wall{}_{}", post.owner_id, post.id),
        destination: group.to_owned(),
        target: original,
        mentions: Vec::new(),
        text: clean_opt(post.text),
        occurred_at: unix_seconds(post.date),
    }))
}
