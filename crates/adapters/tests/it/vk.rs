//! VK Callback API fixtures: every event, the confirmation, the secret and the group check.

use adapters::vk::{VkCallback, VkPayload, parse, secret_matches};
use adapters::{MembershipEvent, Signal};
use domain::network::{ActivityKind, ExternalIdentity, Network};
use domain::privacy::PlatformActivity;

use crate::support::*;

pub const EXERCISED: &[&str] = &[
    "board_post_new.json",
    "confirmation.json",
    "group_join.json",
    "group_join_approved.json",
    "group_join_request.json",
    "group_leave.json",
    "group_leave_removed.json",
    "like_add.json",
    "like_add_comment.json",
    "like_remove.json",
    "message_new.json",
    "poll_vote_new.json",
    "wall_reply_delete.json",
    "wall_reply_delete_by_admin.json",
    "wall_reply_edit.json",
    "wall_reply_new.json",
    "wall_reply_new_by_community.json",
    "wall_reply_new_other_group.json",
    "wall_reply_new_thread_reply.json",
    "wall_reply_new_wrong_secret.json",
    "wall_reply_restore.json",
    "wall_repost.json",
];

const GROUP: i64 = 229871234;
const SECRET: &str = "vk-fixture-secret-7Hq2";
const ANNA: i64 = 715002001;
const BORIS: i64 = 715002002;

fn callback(file: &str) -> VkCallback {
    parse(&fixture(&format!("vk/{file}"))).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// What the handler does before trusting a callback: served group, then the shared secret.
fn accepted(cb: &VkCallback) -> bool {
    cb.group_id == GROUP && secret_matches(SECRET, cb.secret.as_deref())
}

fn event(file: &str) -> Signal {
    let cb = callback(file);
    assert!(
        accepted(&cb),
        "{file} must pass the secret and group checks"
    );
    assert!(!cb.is_confirmation());
    assert!(cb.event_id.is_some(), "{file} has an event_id");
    only(cb.signals()).clone()
}

fn vk(id: i64) -> ExternalIdentity {
    ExternalIdentity::new(Network::Vk, "", id.to_string())
}

#[test]
fn confirmation_is_recognised_without_event_id() {
    let cb = callback("confirmation.json");
    assert!(accepted(&cb));
    assert_eq!(cb.payload, VkPayload::Confirmation);
    assert!(cb.signals().is_empty());
    assert_eq!((cb.event_id.clone(), cb.delivery_key()), (None, None));
}

#[test]
fn wrong_secret_and_unknown_group_are_rejected_by_the_caller() {
    let wrong = callback("wall_reply_new_wrong_secret.json");
    assert_eq!(wrong.group_id, GROUP);
    assert!(!secret_matches(SECRET, wrong.secret.as_deref()));
    let other = callback("wall_reply_new_other_group.json");
    assert!(secret_matches(SECRET, other.secret.as_deref()));
    assert_eq!(other.group_id, 111111);
    assert!(!accepted(&other));
    // The parser still reads them: rejecting is the handler's decision.
    assert_eq!(activity(only(other.signals())).destination, "111111");
}

#[test]
fn wall_comment_with_codeword() {
    let cb = callback("wall_reply_new.json");
    assert_eq!(cb.event_type, "wall_reply_new");
    assert_eq!(cb.api_version.as_deref(), Some("5.199"));
    assert_eq!(
        cb.delivery_key().as_deref(),
        Some("vk:229871234:52be4e5f6b33e1d2140f60e9b7ed59d55b640265")
    );
    let a = activity(only(cb.signals()));
    assert_eq!(a.account, vk(ANNA));
    assert_eq!(a.kind, ActivityKind::Comment);
    assert_eq!(a.reference, "wall_reply:-229871234_512");
    assert_eq!(a.destination, "229871234");
    assert_eq!(a.target.as_deref(), Some("wall-229871234_88"));
    assert_eq!(a.text.as_deref(), Some("Участвую! Кодовое слово: секрет"));
    assert_eq!(a.occurred_at, secs(1767268800));
}

#[test]
fn thread_reply_is_its_own_comment_with_a_mention() {
    let signal = event("wall_reply_new_thread_reply.json");
    let a = activity(&signal);
    assert_eq!(
        (a.account.clone(), a.reference.as_str()),
        (vk(BORIS), "wall_reply:-229871234_513")
    );
    assert_eq!(a.target.as_deref(), Some("wall-229871234_88"));
    assert_eq!(a.mentions, ["id715002001"]);
}

#[test]
fn community_comment_earns_nothing() {
    assert_eq!(
        ignored(&event("wall_reply_new_by_community.json")),
        "comment by a community"
    );
}

#[test]
fn edit_and_restore_reuse_the_comment_reference() {
    let new = event("wall_reply_new.json");
    let edited = event("wall_reply_edit.json");
    let e = edit(&edited);
    assert_eq!(
        e.activity.platform_activity(),
        activity(&new).platform_activity()
    );
    assert_eq!(
        e.activity.text.as_deref(),
        Some("Участвую! (исправила опечатку) Кодовое слово: секрет")
    );
    assert_eq!(e.edited_at, None);
    let restored = event("wall_reply_restore.json");
    assert_eq!(restoration(&restored), activity(&new));
}

#[test]
fn deletes_retract_by_reference_without_an_author() {
    let own = event("wall_reply_delete.json");
    let r = retraction(&own);
    let comment = PlatformActivity {
        network: Network::Vk,
        kind: ActivityKind::Comment,
        reference: "wall_reply:-229871234_512".into(),
    };
    assert_eq!(r.activity, comment);
    assert_eq!(
        (r.account.clone(), r.retracted_by.clone()),
        (None, Some(vk(ANNA)))
    );

    let by_admin = event("wall_reply_delete_by_admin.json");
    let r = retraction(&by_admin);
    assert_eq!(r.activity.reference, "wall_reply:-229871234_513");
    assert_eq!(r.retracted_by, Some(vk(700000009)));
    assert_eq!(r.destination, "229871234");
}

#[test]
fn joins_count_but_requests_do_not() {
    let joined = event("group_join.json");
    let m = membership(&joined);
    assert_eq!(
        (m.account.clone(), m.change),
        (vk(ANNA), MembershipEvent::Joined)
    );
    assert_eq!(m.destination, "229871234");
    let approved = event("group_join_approved.json");
    assert_eq!(membership(&approved).account, vk(BORIS));
    assert_eq!(membership(&approved).change, MembershipEvent::Joined);
    assert_eq!(
        ignored(&event("group_join_request.json")),
        "join request is not membership"
    );
}

#[test]
fn leaving_and_being_removed_differ() {
    let left = event("group_leave.json");
    assert_eq!(
        (membership(&left).account.clone(), membership(&left).change),
        (vk(ANNA), MembershipEvent::Left)
    );
    let removed = event("group_leave_removed.json");
    assert_eq!(membership(&removed).change, MembershipEvent::Removed);
    assert_eq!(membership(&removed).account, vk(BORIS));
}

#[test]
fn likes_on_posts_and_comments_and_their_removal() {
    let liked = event("like_add.json");
    let a = activity(&liked);
    assert_eq!(
        (a.account.clone(), a.kind),
        (vk(ANNA), ActivityKind::Reaction)
    );
    assert_eq!(a.reference, "like:post-229871234_88:715002001");
    assert_eq!(a.target.as_deref(), Some("wall-229871234_88"));

    let on_comment = event("like_add_comment.json");
    let c = activity(&on_comment);
    assert_eq!(c.account, vk(BORIS));
    assert_eq!(c.reference, "like:comment-229871234_512:715002002");
    assert_eq!(c.target.as_deref(), Some("wall-229871234_88"));

    let unliked = event("like_remove.json");
    let r = retraction(&unliked);
    assert_eq!(r.activity, a.platform_activity());
    assert_eq!(r.account, Some(vk(ANNA)));
}

#[test]
fn repost_points_at_the_original_post() {
    let signal = event("wall_repost.json");
    let a = activity(&signal);
    assert_eq!(
        (a.account.clone(), a.kind),
        (vk(ANNA), ActivityKind::Repost)
    );
    assert_eq!(a.reference, "wall715002001_41");
    assert_eq!(a.target.as_deref(), Some("wall-229871234_88"));
    assert_eq!(a.occurred_at, secs(1767269100));
}

#[test]
fn community_message_with_link_code() {
    let signal = event("message_new.json");
    let a = activity(&signal);
    assert_eq!(
        (a.account.clone(), a.kind),
        (vk(ANNA), ActivityKind::Message)
    );
    assert_eq!(a.reference, "message:715002001_77");
    assert_eq!(a.text.as_deref(), Some("LINK-7Q4M-2KXD"));
    assert_eq!(a.language_code.as_deref(), Some("ru"));
    assert_eq!(a.occurred_at, secs(1767269200));
}

#[test]
fn poll_vote_and_board_post() {
    let vote = event("poll_vote_new.json");
    let v = activity(&vote);
    assert_eq!(
        (v.account.clone(), v.kind),
        (vk(ANNA), ActivityKind::PollVote)
    );
    assert_eq!(v.reference, "poll-229871234_900123:715002001");
    assert_eq!(v.target.as_deref(), Some("poll-229871234_900123"));

    let board = event("board_post_new.json");
    let b = activity(&board);
    assert_eq!(
        (b.account.clone(), b.kind),
        (vk(BORIS), ActivityKind::Comment)
    );
    assert_eq!(b.reference, "board:-229871234_49001122_7");
    assert_eq!(b.target.as_deref(), Some("topic-229871234_49001122"));
    assert_eq!(b.text.as_deref(), Some("Где посмотреть свои баллы?"));
}

#[test]
fn odd_events_are_ignored_not_bounced() {
    let body = |t: &str, object: &str| {
        format!(r#"{{"type":"{t}","group_id":1,"event_id":7,"object":{object}}}"#)
    };
    let reason = |t: &str, object: &str| {
        let cb = parse(body(t, object).as_bytes()).unwrap();
        assert_eq!(
            cb.event_id.as_deref(),
            Some("7"),
            "numeric event_id kept as text"
        );
        ignored(only(cb.signals()))
    };
    assert_eq!(
        reason("wall_reply_new", r#"{"id":"x"}"#),
        "malformed event object"
    );
    assert_eq!(reason("user_block", "{}"), "event type not used for points");
    assert_eq!(
        reason("group_join", r#"{"user_id":1,"join_type":"unsure"}"#),
        "join type is not membership"
    );
    assert_eq!(
        reason("message_new", r#"{"message":{"id":1,"from_id":1,"out":1}}"#),
        "message not written by a member"
    );
    assert_eq!(
        reason(
            "like_add",
            r#"{"liker_id":-5,"object_type":"post","object_owner_id":-1,"object_id":1}"#
        ),
        "like by a community"
    );
}

#[test]
fn legacy_message_shape_and_nul_text() {
    let body = br#"{"type":"message_new","group_id":1,"object":{"id":9,"from_id":2,"peer_id":2,"date":5,"text":"a\u0000b"}}"#;
    let cb = parse(body).unwrap();
    let a = activity(only(cb.signals()));
    assert_eq!(
        (a.reference.as_str(), a.text.as_deref()),
        ("message:9", Some("ab"))
    );
}

#[test]
fn body_without_type_or_group_is_an_error() {
    assert!(parse(b"not json").is_err());
    assert!(parse(br#"{"group_id":1}"#).is_err());
    assert!(parse(br#"{"type":"wall_reply_new"}"#).is_err());
    assert!(parse(br#"{"type":"confirmation","group_id":-3}"#).is_err());
}
