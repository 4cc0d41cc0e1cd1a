//! Keyed digests that keep platform ids and texts out of the log.
//!
//! The log refers to an external account by a random [`AccountRef`] whose only link to the
//! platform id is a row of a mutable table, deleted when the member is erased. What has no
//! such row (the platform's id of an activity or a delivery, a comment's text) enters the log
//! only as an HMAC-SHA256 digest under a key derived from the installation's secret, which is
//! kept outside the database: without it a digest can be neither reversed nor tested against
//! guesses. Activity that many members share (a reaction to one post, a vote in one poll, a
//! subscription to one group) is digested together with the member's account reference, so
//! once that reference's row is gone nobody can tell whose it was, even with the key.
//!
//! Inputs are length-prefixed, so no two different inputs share their bytes. The values are
//! stored in events: the derivation must never change (tests pin known values).

use crate::ids::{AccountRef, ProgramId};
use crate::network::{ActivityKind, ActivityRef, Network};
use crate::text::{TextFingerprint, normalise};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// An activity as the platform names it: the comment id, the post a reaction is on, the poll
/// voted in. It never enters the log; [`PrivacyKeys::activity`] turns it into an [`ActivityRef`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PlatformActivity {
    /// Where the activity happened.
    pub network: Network,
    /// What kind of activity it was.
    pub kind: ActivityKind,
    /// The platform's reference for it (comment id, post id, poll id, group id, ...).
    pub reference: String,
}

/// The installation's keys for digests, derived from its one secret.
#[derive(Clone)]
pub struct PrivacyKeys {
    activity: HmacSha256,
    delivery: HmacSha256,
    text: HmacSha256,
}

impl std::fmt::Debug for PrivacyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivacyKeys(..)")
    }
}

impl PrivacyKeys {
    /// The keys derived (HKDF-SHA256) from the installation's 32-byte secret.
    pub fn derive(secret: &[u8; 32]) -> Self {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"loyalty privacy keys"), secret);
        let key = |info: &[u8]| {
            let mut okm = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's limit of 255 * 32, so expand cannot fail.
            let _ = hkdf.expand(info, &mut okm);
            HmacSha256::new_from_slice(&okm).unwrap_or_else(|_| unreachable_key())
        };
        Self {
            activity: key(b"loyalty/activity"),
            delivery: key(b"loyalty/delivery"),
            text: key(b"loyalty/text"),
        }
    }

    /// The activity as the log names it, done by `author`. Activity many members share is
    /// digested with the author's account reference; other activity is not, so a retraction
    /// that names no author still finds it ([`PrivacyKeys::authorless_activity`]).
    pub fn activity(
        &self,
        program: ProgramId,
        activity: &PlatformActivity,
        author: AccountRef,
    ) -> ActivityRef {
        let author = activity.kind.is_per_member().then_some(author);
        self.digest(program, activity, author)
    }

    /// The activity as the log names it, when the platform does not say who did it; `None` for
    /// activity many members share, which cannot be named without its author.
    pub fn authorless_activity(
        &self,
        program: ProgramId,
        activity: &PlatformActivity,
    ) -> Option<ActivityRef> {
        (!activity.kind.is_per_member()).then(|| self.digest(program, activity, None))
    }

    fn digest(
        &self,
        program: ProgramId,
        activity: &PlatformActivity,
        author: Option<AccountRef>,
    ) -> ActivityRef {
        let mut mac = self.activity.clone();
        field(&mut mac, program.0.as_bytes());
        field(&mut mac, activity.network.as_str().as_bytes());
        field(&mut mac, activity.kind.as_str().as_bytes());
        field(&mut mac, activity.reference.as_bytes());
        if let Some(author) = author {
            field(&mut mac, author.0.as_bytes());
        }
        ActivityRef {
            network: activity.network,
            kind: activity.kind,
            reference: digest_hex(mac, 16),
        }
    }

    /// A platform delivery's id (update id, event id, payload digest) as the log keeps it.
    pub fn delivery(&self, platform_delivery: &str) -> String {
        let mut mac = self.delivery.clone();
        field(&mut mac, platform_delivery.as_bytes());
        digest_hex(mac, 16)
    }

    /// The fingerprint of a text's normalised form within one program, or `None` when nothing
    /// is left of it once normalised. Keyed per program and installation, so a short comment
    /// cannot be found by trying a dictionary of texts.
    pub fn text(&self, program: ProgramId, text: &str) -> Option<TextFingerprint> {
        let normalised = normalise(text);
        if normalised.is_empty() {
            return None;
        }
        let mut mac = self.text.clone();
        field(&mut mac, program.0.as_bytes());
        field(&mut mac, normalised.as_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&bytes[..8]);
        Some(TextFingerprint(u64::from_be_bytes(first)))
    }
}

/// HMAC accepts keys of any length; this is never reached.
fn unreachable_key() -> HmacSha256 {
    unreachable!("HMAC-SHA256 takes a key of any length")
}

fn field(mac: &mut HmacSha256, bytes: &[u8]) {
    mac.update(&(bytes.len() as u64).to_be_bytes());
    mac.update(bytes);
}

fn digest_hex(mac: HmacSha256, bytes: usize) -> String {
    hex::encode(&mac.finalize().into_bytes()[..bytes])
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn keys() -> PrivacyKeys {
        PrivacyKeys::derive(&[7u8; 32])
    }

    fn program(n: u128) -> ProgramId {
        ProgramId(Uuid::from_u128(n))
    }

    fn comment(reference: &str) -> PlatformActivity {
        PlatformActivity {
            network: Network::Vk,
            kind: ActivityKind::Comment,
            reference: reference.into(),
        }
    }

    fn reaction(reference: &str) -> PlatformActivity {
        PlatformActivity {
            network: Network::Telegram,
            kind: ActivityKind::Reaction,
            reference: reference.into(),
        }
    }

    /// Stored in events: these values must never change.
    #[test]
    fn digests_are_pinned() {
        let k = keys();
        let a = k
            .authorless_activity(program(1), &comment("wall-1_5"))
            .expect("authored");
        assert_eq!(a.reference, "d81e23c1167baf401a1e4a4dafaeac62");
        assert_eq!(
            k.delivery("vk:event:abc"),
            "40c65eb96955f61ccc99a9ad0333035e"
        );
        assert_eq!(
            k.text(program(1), "Nice post!").expect("text").to_string(),
            "42df6f251bdeba5f"
        );
    }

    #[test]
    fn another_secret_gives_other_digests() {
        let other = PrivacyKeys::derive(&[8u8; 32]);
        let (a, b) = (keys(), other);
        assert_ne!(a.delivery("x"), b.delivery("x"));
        assert_ne!(a.text(program(1), "hello"), b.text(program(1), "hello"));
        assert_ne!(
            a.authorless_activity(program(1), &comment("c1")),
            b.authorless_activity(program(1), &comment("c1"))
        );
    }

    #[test]
    fn texts_are_keyed_per_program_and_normalised() {
        let k = keys();
        assert_eq!(
            k.text(program(1), "Nice post!"),
            k.text(program(1), "NICE   post")
        );
        assert_ne!(
            k.text(program(1), "Nice post!"),
            k.text(program(2), "Nice post!")
        );
        assert_eq!(k.text(program(1), " \u{200B} "), None);
    }

    #[test]
    fn shared_activity_needs_the_account_and_differs_per_account() {
        let k = keys();
        let (one, two) = (
            AccountRef(Uuid::from_u128(1)),
            AccountRef(Uuid::from_u128(2)),
        );
        assert_eq!(k.authorless_activity(program(1), &reaction("m1")), None);
        let a = k.activity(program(1), &reaction("m1"), one);
        let b = k.activity(program(1), &reaction("m1"), two);
        assert_ne!(a, b);
        assert_eq!(a.kind, ActivityKind::Reaction);
        assert_eq!(a.reference.len(), 32);
    }

    #[test]
    fn authored_activity_ignores_the_account() {
        let k = keys();
        let one = AccountRef(Uuid::from_u128(1));
        assert_eq!(
            Some(k.activity(program(1), &comment("c1"), one)),
            k.authorless_activity(program(1), &comment("c1"))
        );
        assert_ne!(
            k.authorless_activity(program(1), &comment("c1")),
            k.authorless_activity(program(2), &comment("c1"))
        );
    }
}
