//! Secrets the database holds (a VK group's Callback API secret key) are stored encrypted, so a
//! copy of the database (a dump, a backup, a read-only role) does not give them away.
//!
//! XChaCha20-Poly1305 with a random 24-byte nonce per value, the row it belongs to as associated
//! data (a value moved to another row does not open), and a key id in front so that after a
//! rotation every value opens with the key it was sealed with. Stored as text:
//! `enc:v1:<key id, 16 hex>:<nonce, hex>:<ciphertext and tag, hex>`. A value without the prefix
//! is a plaintext written before encryption existed; it opens as itself and is sealed at the
//! next [`reseal_all`].

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::sync::Arc;

const PREFIX: &str = "enc:v1:";

/// Why a stored secret does not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error(
        "sealed with key {0}, which is not configured: add that key after the current one in \
         secrets_keys (LOYALTY_SECRETS_KEYS)"
    )]
    UnknownKey(String),
    #[error("not a value this server sealed for this row (corrupt, or moved from another row)")]
    Corrupt,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn new(secret: &[u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"loyalty secrets key id")
            .chain_update(secret)
            .finalize();
        Key {
            id: hex::encode(&digest[..8]),
            cipher: XChaCha20Poly1305::new(secret.into()),
        }
    }
}

/// The keys secrets are sealed with: the current one seals, every one opens what it sealed.
#[derive(Clone)]
pub struct SecretBox {
    keys: Arc<Vec<Key>>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("current", &self.keys[0].id)
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// `current` seals; it and `previous` open.
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        let keys = std::iter::once(current)
            .chain(previous)
            .map(Key::new)
            .collect();
        Self {
            keys: Arc::new(keys),
        }
    }

    /// The key derived from the installation's privacy key: what seals when no secrets key is
    /// configured, and what always opens.
    pub fn derived_key(privacy_secret: &[u8; 32]) -> [u8; 32] {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"loyalty secrets at rest"), privacy_secret);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 255 * 32, so expand cannot fail.
        let _ = hkdf.expand(b"loyalty/secrets/v1", &mut key);
        key
    }

    /// The id of the key that seals (16 hex digits, shown to operators; not secret).
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// `plain` sealed for the row `row` (e.g. `channels/vk/229871234`).
    pub fn seal(&self, plain: &str, row: &str) -> String {
        let key = &self.keys[0];
        let nonce: [u8; 24] = rand::random();
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: row.as_bytes(),
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        format!(
            "{PREFIX}{}:{}:{}",
            key.id,
            hex::encode(nonce),
            hex::encode(sealed)
        )
    }

    /// The plaintext of a stored value of the row `row`.
    pub fn open(&self, stored: &str, row: &str) -> Result<String, SecretError> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let mut parts = sealed.splitn(3, ':');
        let (Some(id), Some(nonce), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SecretError::Corrupt);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_string()))?;
        let nonce: [u8; 24] = hex::decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SecretError::Corrupt)?;
        let text = hex::decode(text).map_err(|_| SecretError::Corrupt)?;
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &text,
                    aad: row.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Corrupt)
    }

    /// Whether `stored` is sealed with the current key (else [`reseal_all`] seals it again).
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|s| s.split(':').next())
            .is_some_and(|id| id == self.keys[0].id)
    }
}

/// The associated data of a channel's secret: its row.
pub fn channel_row(network: &str, destination: &str) -> String {
    format!("channels/{network}/{destination}")
}

/// The associated data of a raffle's sealed seed.
pub fn raffle_row(raffle: uuid::Uuid) -> String {
    format!("raffle_seeds/{raffle}")
}

/// What [`reseal_all`] did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Resealed {
    /// Values sealed again with the current key (plaintexts and values of older keys).
    pub resealed: usize,
    /// Values no configured key opens: `network/destination` and why.
    pub unreadable: Vec<String>,
}

/// Seals every stored secret not sealed with the current key again with it: after a rotation
/// (`serve` does it at start, `loyalty secrets rotate` on demand) and for plaintexts written
/// before encryption. Each row is replaced only if it still holds the value read, so a
/// concurrent change is never overwritten.
pub async fn reseal_all(pool: &PgPool, secrets: &SecretBox) -> sqlx::Result<Resealed> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT network, destination, secret FROM channels WHERE secret IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    let mut report = Resealed::default();
    for (network, destination, stored) in rows {
        if secrets.is_current(&stored) {
            continue;
        }
        let row = channel_row(&network, &destination);
        match secrets.open(&stored, &row) {
            Ok(plain) => {
                let done = sqlx::query(
                    "UPDATE channels SET secret = $4 \
                     WHERE network = $1 AND destination = $2 AND secret = $3",
                )
                .bind(&network)
                .bind(&destination)
                .bind(&stored)
                .bind(secrets.seal(&plain, &row))
                .execute(pool)
                .await?;
                report.resealed += done.rows_affected() as usize;
            }
            Err(e) => report
                .unreadable
                .push(format!("{network}/{destination}: {e}")),
        }
    }
    let seeds: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT raffle_id, seed FROM raffle_seeds")
            .fetch_all(pool)
            .await?;
    for (raffle, stored) in seeds {
        if secrets.is_current(&stored) {
            continue;
        }
        let row = raffle_row(raffle);
        match secrets.open(&stored, &row) {
            Ok(plain) => {
                let done = sqlx::query(
                    "UPDATE raffle_seeds SET seed = $3 WHERE raffle_id = $1 AND seed = $2",
                )
                .bind(raffle)
                .bind(&stored)
                .bind(secrets.seal(&plain, &row))
                .execute(pool)
                .await?;
                report.resealed += done.rows_affected() as usize;
            }
            Err(e) => report.unreadable.push(format!("raffle {raffle}: {e}")),
        }
    }
    let (resealed, unreadable) = crate::program_bots::reseal(pool, secrets).await?;
    report.resealed += resealed;
    report.unreadable.extend(unreadable);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];

    #[test]
    fn a_sealed_secret_opens_for_its_row_only_and_hides_the_plaintext() {
        let secrets = SecretBox::new(&A, &[]);
        let sealed = secrets.seal("TwoServersSecret1", "channels/vk/1");
        assert!(sealed.starts_with("enc:v1:"), "{sealed}");
        assert!(!sealed.contains("TwoServersSecret1"));
        assert_ne!(
            sealed,
            secrets.seal("TwoServersSecret1", "channels/vk/1"),
            "fresh nonce"
        );
        assert_eq!(
            secrets.open(&sealed, "channels/vk/1").unwrap(),
            "TwoServersSecret1"
        );
        assert_eq!(
            secrets.open(&sealed, "channels/vk/2"),
            Err(SecretError::Corrupt)
        );
        let mut tampered = sealed.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == '0' { '1' } else { '0' });
        assert_eq!(
            secrets.open(&tampered, "channels/vk/1"),
            Err(SecretError::Corrupt)
        );
        assert_eq!(
            secrets.open("enc:v1:garbage", "channels/vk/1"),
            Err(SecretError::Corrupt)
        );
    }

    #[test]
    fn after_a_rotation_old_values_open_and_reseal_with_the_new_key() {
        let old = SecretBox::new(&A, &[]);
        let sealed = old.seal("s3cret", "r");
        let rotated = SecretBox::new(&B, &[A]);
        assert!(!rotated.is_current(&sealed));
        assert_eq!(rotated.open(&sealed, "r").unwrap(), "s3cret");
        let resealed = rotated.seal("s3cret", "r");
        assert!(rotated.is_current(&resealed));
        let only_new = SecretBox::new(&B, &[]);
        assert_eq!(only_new.open(&resealed, "r").unwrap(), "s3cret");
        assert_eq!(
            only_new.open(&sealed, "r"),
            Err(SecretError::UnknownKey(old.current_key_id().to_string()))
        );
    }

    #[test]
    fn a_plaintext_from_before_encryption_opens_as_itself_and_is_not_current() {
        let secrets = SecretBox::new(&A, &[]);
        assert_eq!(secrets.open("legacy", "r").unwrap(), "legacy");
        assert!(!secrets.is_current("legacy"));
    }
}
