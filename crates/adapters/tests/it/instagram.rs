//! Instagram payload fixtures: comments, live comments, batches, mentions, DMs, odd items.

use adapters::instagram::parse;
use adapters::signal::Signal;
use chrono::DateTime;
use domain::network::{ActivityKind, ExternalIdentity, Network};

use crate::support::*;

pub const EXERCISED: &[&str] = &[
    "batched_two_entries.json",
    "comment.json",
    "comment_reply.json",
    "comment_tampered.json",
    "comment_utf8.json",
    "live_comment.json",
    "mention_caption.json",
    "mention_comment.json",
    "message_deleted.json",
    "message_echo.json",
    "message_text.json",
    "story_insights.json",
];

const BRAND: &str = "17841400000000001";
const ANNA: &str = "1122334455667788";
const BORIS: &str = "2233445566778899";

fn body(file: &str) -> Vec<u8> {
    fixture(&format!("instagram/{file}"))
}

fn signals(file: &str) -> Vec<adapters::Signal> {
    parse(&body(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn member(id: &str) -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, BRAND, id)
}

#[test]
fn comment_with_escapes_becomes_an_activity_for_the_brand() {
    let signals = signals("comment.json");
    let a = activity(only(&signals));
    assert_eq!(a.account, member(ANNA));
    assert_eq!(a.username.as_deref(), Some("anna.runs"));
    assert_eq!(a.kind, ActivityKind::Comment);
    assert_eq!(a.reference, "17990000000000001");
    assert_eq!(a.destination, BRAND);
    assert_eq!(a.target.as_deref(), Some("18031234567890123"));
    assert_eq!(a.text.as_deref(), Some("Кодовое слово: СЕКРЕТ 🎉"));
    assert_eq!(a.occurred_at, secs(1767268800));
    assert_eq!(a.platform_activity().reference, "17990000000000001");
}

#[test]
fn raw_utf8_comment_and_reply_with_mention() {
    let utf8 = signals("comment_utf8.json");
    let a = activity(only(&utf8));
    assert_eq!(
        (a.account.clone(), a.reference.as_str()),
        (member(BORIS), "17990000000000002")
    );
    assert_eq!(a.text.as_deref(), Some("мой код cekpet!!"));

    let reply = signals("comment_reply.json");
    let r = activity(only(&reply));
    assert_eq!(r.account, member(BORIS));
    assert_eq!(r.username.as_deref(), Some("boris_k"));
    assert_eq!(r.reference, "17990000000000003");
    assert_eq!(r.mentions, ["brand.shop"]);
    assert_eq!(
        r.text.as_deref(),
        Some("@brand.shop согласен, лучший магазин")
    );
}

#[test]
fn live_comment_is_a_comment_on_the_live_media() {
    let signals = signals("live_comment.json");
    let a = activity(only(&signals));
    assert_eq!(
        (a.kind, a.reference.as_str()),
        (ActivityKind::Comment, "17990000000000004")
    );
    assert_eq!(a.target.as_deref(), Some("18039000000000001"));
    assert_eq!(a.text.as_deref(), Some("Привет из эфира!"));
}

#[test]
fn batch_routes_per_entry_and_scopes_identity_per_brand() {
    let signals = signals("batched_two_entries.json");
    let got: Vec<_> = signals
        .iter()
        .map(activity)
        .map(|a| {
            (
                a.destination.as_str(),
                a.account.clone(),
                a.reference.as_str(),
                a.occurred_at,
            )
        })
        .collect();
    let second = "17841400000000002";
    assert_eq!(
        got,
        [
            (BRAND, member(ANNA), "17990000000000005", secs(1767269040)),
            (
                second,
                ExternalIdentity::new(Network::Instagram, second, BORIS),
                "17990000000000006",
                secs(1767269041)
            ),
            (
                second,
                ExternalIdentity::new(Network::Instagram, second, ANNA),
                "17990000000000007",
                secs(1767269041)
            ),
        ]
    );
    // Anna under the second brand is a different identity.
    assert_ne!(got[0].1, got[2].1);
}

#[test]
fn a_comment_mention_is_to_be_looked_up_a_caption_mention_and_insights_are_ignored() {
    assert_eq!(
        ignored(only(&signals("mention_caption.json"))),
        "caption mention: Meta does not say who posted it"
    );
    assert_eq!(
        only(&signals("mention_comment.json")),
        &Signal::MentionedInComment {
            destination: "17841400000000001".into(),
            comment_id: "17990000000000777".into(),
            sent_at: secs(1767269100),
        }
    );
    assert_eq!(
        ignored(only(&signals("story_insights.json"))),
        "field not used for points"
    );
}

#[test]
fn direct_messages_text_echo_and_unsend() {
    let text = signals("message_text.json");
    let dm = activity(only(&text));
    assert_eq!(dm.account, member(ANNA));
    assert_eq!(dm.kind, ActivityKind::Message);
    assert_eq!(dm.text.as_deref(), Some("LINK-7Q4M-2KXD"));
    assert!(dm.reference.starts_with("aWdfZAG1faXRlbTox"));
    assert_eq!(
        dm.occurred_at,
        DateTime::from_timestamp_millis(1767269280045)
    );

    assert_eq!(
        ignored(only(&signals("message_echo.json"))),
        "message sent by the brand"
    );

    let deleted = signals("message_deleted.json");
    let r = retraction(only(&deleted));
    assert_eq!(
        r.activity,
        dm.platform_activity(),
        "unsend reverses the same DM"
    );
    assert_eq!(r.account, Some(member(ANNA)));
    assert_eq!(r.destination, BRAND);
}

#[test]
fn tampered_comment_parses_to_a_different_comment() {
    let signals = signals("comment_tampered.json");
    assert_eq!(activity(only(&signals)).reference, "17990000000000009");
}

#[test]
fn odd_items_never_fail_the_batch() {
    let body = br#"{"object":"instagram","entry":[
        {"id":"17841400000000001","time":1,"changes":[
            {"field":"comments","value":{"text":"no id","from":{"id":"1"}}},
            {"field":"comments","value":{"comment_id":"5","text":"a\u0000b","from":{"id":1}}},
            {"field":"comments","value":{"id":"6","from":{"id":"17841400000000001"}}},
            {"field":"comments","value":{"id":"7"}},
            {"field":"comments","value":"not an object"},
            {"value":{}}, 42],
         "messaging":[{"sender":{"id":"1"},"read":{"mid":"x"}},{"message":{"mid":"m"}}]},
        {"id":"17841400000000001","field":"comments","value":{"id":"8","from":{"id":"2"}}},
        {"time":"late"}, {}]}"#;
    let signals = parse(body).unwrap();
    let reasons: Vec<_> = signals
        .iter()
        .map(|s| match s {
            adapters::Signal::Activity(a) => a.reference.as_str(),
            adapters::Signal::Ignored { reason } => reason,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "comment without an id",
            "5",
            "comment by the brand itself",
            "comment without an author",
            "malformed comment",
            "malformed change",
            "malformed change",
            "messaging event not used",
            "message without a sender",
            "8",
            "malformed entry",
            "entry without a brand account id",
        ]
    );
    assert_eq!(
        activity(&signals[1]).text.as_deref(),
        Some("ab"),
        "NUL removed"
    );
}

#[test]
fn not_a_delivery_is_an_error_other_objects_are_ignored() {
    assert!(parse(b"").is_err());
    assert!(parse(b"[]").is_err());
    assert!(parse(br#"{"object":"instagram"}"#).is_err());
    let page = parse(br#"{"object":"page","entry":[]}"#).unwrap();
    assert_eq!(ignored(only(&page)), "not an instagram delivery");
}
