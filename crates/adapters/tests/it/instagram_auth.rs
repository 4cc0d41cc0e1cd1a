//! Instagram authenticity: every `X-Hub-Signature-256` vector in tests/fixtures/platforms/README.md, the negative
//! cases, and the GET subscription handshake.

use adapters::SignatureError;
use adapters::instagram::{
    Subscription, verify_signature, verify_signature_any, verify_subscription,
};

use crate::support::fixture;

const APP_SECRET: &[u8] = b"6c3f1b2a9d8e7f60a1b2c3d4e5f60718";
const COMMENT_SIGNATURE: &str =
    "sha256=9e289674406477a43327f63c319319b3d2475a488c720d1bcb1e2ed1a2e7f531";

/// (file, bytes, X-Hub-Signature-256) from tests/fixtures/platforms/README.md.
const SIGNED: &[(&str, usize, &str)] = &[
    (
        "batched_two_entries.json",
        812,
        "0dde59fec34d05d60638e098a3358578c46322e641403afc07818afbead6df38",
    ),
    (
        "comment.json",
        398,
        "9e289674406477a43327f63c319319b3d2475a488c720d1bcb1e2ed1a2e7f531",
    ),
    (
        "comment_reply.json",
        445,
        "cbebc372e12e63c6b4091acf9fe575d0d85cd65fd68cad349ca159a276fb4fe4",
    ),
    (
        "comment_utf8.json",
        294,
        "d2e8fc214992df55aca2e23a566e17183fc58609e99d0a477972d9ab27ea10f6",
    ),
    (
        "live_comment.json",
        360,
        "db68ed4256e6c25e2de16b8fd8adc781b4b507710d4b9a30e613f2879f169a38",
    ),
    (
        "mention_caption.json",
        151,
        "4067761aff476868f2499067f8e697ef05d19dc5e3dc27b2c9e3227e6d727a02",
    ),
    (
        "mention_comment.json",
        184,
        "7e043429c1a304573388f9362fb4f0098c151bd185331955529da6cf203830ae",
    ),
    (
        "message_deleted.json",
        399,
        "4ec4136c79ee7818750b539549544f5014efdb9e8796cc1957f1612c11f6ac68",
    ),
    (
        "message_echo.json",
        536,
        "366e38975ce1f372cb842b788ce0a76b5f7e44b2c642af981ed06cb66ee16d16",
    ),
    (
        "message_text.json",
        405,
        "3121204d6b39ffa6f336f320a050c6042a36891ac430884a2aa9f33531139e0a",
    ),
    (
        "story_insights.json",
        238,
        "842430c38233579fc59e9b4338d24638d50e029a23a685b15cf1bf4e5109e409",
    ),
];

fn body(file: &str) -> Vec<u8> {
    fixture(&format!("instagram/{file}"))
}

#[test]
fn every_signed_fixture_verifies_over_its_raw_bytes() {
    for (file, bytes, hex) in SIGNED {
        let raw = body(file);
        assert_eq!(
            raw.len(),
            *bytes,
            "{file} was re-saved (newline or indentation?)"
        );
        let header = format!("sha256={hex}");
        assert_eq!(
            verify_signature(APP_SECRET, &raw, Some(&header)),
            Ok(()),
            "{file}"
        );
    }
}

#[test]
fn rejects_tampered_body_wrong_secret_and_bad_headers() {
    let raw = body("comment.json");
    let tampered = body("comment_tampered.json");
    let check = |body: &[u8], header: Option<&str>| verify_signature(APP_SECRET, body, header);
    assert_eq!(
        check(&tampered, Some(COMMENT_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
    let wrong_secret = "sha256=87e693c0e5a1d65cb732a26a24cbc5be52a6e11c2edff0e8d1df57ca17126294";
    assert_eq!(
        check(&raw, Some(wrong_secret)),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(
            b"00000000000000000000000000000000",
            &raw,
            Some(wrong_secret)
        ),
        Ok(())
    );
    assert_eq!(check(&raw, None), Err(SignatureError::MissingHeader));
    let bare = COMMENT_SIGNATURE.trim_start_matches("sha256=");
    assert_eq!(check(&raw, Some(bare)), Err(SignatureError::MissingPrefix));
    assert_eq!(
        check(&raw, Some("sha256=not-hex")),
        Err(SignatureError::NotHex)
    );
    assert_eq!(
        check(&raw, Some("sha256=9e28")),
        Err(SignatureError::NotHex)
    );
    let sha1 = "sha1=afa08ab38af6aded335dc0d252493bcc511456e3";
    assert_eq!(
        check(&raw, Some(sha1)),
        Err(SignatureError::Sha1NotAccepted)
    );
}

#[test]
fn upper_case_hex_is_accepted_and_any_candidate_secret_may_sign() {
    let raw = body("comment.json");
    let upper = format!(
        "sha256={}",
        COMMENT_SIGNATURE
            .trim_start_matches("sha256=")
            .to_uppercase()
    );
    assert_eq!(verify_signature(APP_SECRET, &raw, Some(&upper)), Ok(()));
    let candidates: [&[u8]; 2] = [b"instagram-app-secret", APP_SECRET];
    assert_eq!(
        verify_signature_any(&candidates, &raw, Some(COMMENT_SIGNATURE)),
        Ok(())
    );
    assert_eq!(
        verify_signature_any(&[], &raw, Some(COMMENT_SIGNATURE)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn subscription_handshake_follows_the_table() {
    let token = "fixture-verify-token";
    let ok = verify_subscription(Some("subscribe"), Some(token), Some("1158201444"), token);
    assert_eq!(ok, Subscription::Confirmed("1158201444".into()));
    assert_eq!(ok.status_code(), 200);
    let wrong = verify_subscription(Some("subscribe"), Some("wrong"), Some("1158201444"), token);
    assert_eq!(wrong, Subscription::Forbidden);
    let mode = verify_subscription(Some("unsubscribe"), Some(token), Some("1158201444"), token);
    assert_eq!(mode.status_code(), 403);
    let missing = verify_subscription(Some("subscribe"), Some(token), None, token);
    assert_eq!(missing, Subscription::BadRequest);
    assert_eq!(missing.status_code(), 400);
    let no_token = verify_subscription(Some("subscribe"), None, Some("1"), token);
    assert_eq!(no_token, Subscription::Forbidden);
    let script = verify_subscription(Some("subscribe"), Some(token), Some("<script>"), token);
    assert_eq!(script, Subscription::BadRequest);
}
