//! One-time codes that prove a member owns an Instagram or VK account: the member gets a code
//! in the Mini App and posts it from that account; the webhook that carries it is the proof.
//! Every read and write of `link_codes` is here.

use chrono::{DateTime, Duration, Utc};
use domain::ids::{MemberId, ProgramId};
use domain::network::Network;
use rand::Rng;
use sqlx::PgPool;

/// How long a code stays valid.
pub const CODE_TTL_MINUTES: i64 = 30;
/// Unused, unexpired codes one member may hold at once: enough for a retry on each network.
pub const MAX_OPEN_CODES: i64 = 5;
/// Letters and digits that cannot be confused when read from a phone screen.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// `LINK-XXXX-XXXX`.
pub fn generate() -> String {
    let mut rng = rand::thread_rng();
    let mut part = || -> String {
        (0..4)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!("LINK-{}-{}", part(), part())
}

/// The first link code in a text, in canonical upper case. Works on bytes: a code is ASCII,
/// and slicing text by bytes must never split a multi-byte character.
pub fn find_in_text(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    (0..bytes.len()).find_map(|i| {
        let candidate = bytes.get(i..i + 14)?;
        let ok = candidate.starts_with(b"LINK-")
            && candidate[9] == b'-'
            && candidate[5..9]
                .iter()
                .chain(&candidate[10..14])
                .all(u8::is_ascii_alphanumeric)
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 14).is_none_or(|b| !b.is_ascii_alphanumeric());
        ok.then(|| String::from_utf8_lossy(candidate).into_owned())
    })
}

pub async fn create(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    network: Network,
    now: DateTime<Utc>,
) -> sqlx::Result<(String, DateTime<Utc>)> {
    let code = generate();
    let expires_at = now + Duration::minutes(CODE_TTL_MINUTES);
    sqlx::query(
        "INSERT INTO link_codes (code, program_id, member_id, network, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&code)
    .bind(program_id.0)
    .bind(member_id.0)
    .bind(network.as_str())
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok((code, expires_at))
}

/// Marks a valid, unused code used and returns its member; `None` if unknown, expired, used,
/// or issued for another network or program.
pub async fn consume(
    pool: &PgPool,
    program_id: ProgramId,
    code: &str,
    network: Network,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<MemberId>> {
    let member: Option<uuid::Uuid> = sqlx::query_scalar(
        "UPDATE link_codes SET used_at = $5 WHERE code = $1 AND program_id = $2 AND network = $3 \
         AND used_at IS NULL AND expires_at > $4 RETURNING member_id",
    )
    .bind(code)
    .bind(program_id.0)
    .bind(network.as_str())
    .bind(now)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(member.map(MemberId))
}

/// Why a used code linked nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Another member owns the account.
    Taken,
    /// Another member gave the account up less than the relink cooldown ago.
    Cooldown {
        /// When the cooldown ends.
        linkable_from: DateTime<Utc>,
    },
}

/// Records that the account a used code was posted from could not be linked, so the member
/// is told why instead of "linked".
pub async fn refuse(
    pool: &PgPool,
    program_id: ProgramId,
    code: &str,
    refusal: LinkRefusal,
) -> sqlx::Result<()> {
    let (refusal, linkable_from) = match refusal {
        LinkRefusal::Taken => ("taken", None),
        LinkRefusal::Cooldown { linkable_from } => ("cooldown", Some(linkable_from)),
    };
    sqlx::query(
        "UPDATE link_codes SET refusal = $3, linkable_from = $4 \
         WHERE code = $1 AND program_id = $2 AND used_at IS NOT NULL",
    )
    .bind(code)
    .bind(program_id.0)
    .bind(refusal)
    .bind(linkable_from)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkCodeRow {
    pub code: String,
    pub network: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `taken` or `cooldown` when the code was used but linked nothing.
    pub refusal: Option<String>,
    /// For `cooldown`: when the account can be linked.
    pub linkable_from: Option<DateTime<Utc>>,
}

impl LinkCodeRow {
    /// `taken` or `cooldown` (used, linking refused), `used`, `cancelled`, `expired` or
    /// `pending`, in that order of precedence: a code consumed by a comment posted just before
    /// the member cancelled it was still used.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.used_at.is_some() {
            match self.refusal.as_deref() {
                Some("taken") => "taken",
                Some("cooldown") => "cooldown",
                _ => "used",
            }
        } else if self.cancelled_at.is_some() {
            "cancelled"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}

const CODE_COLUMNS: &str =
    "code, network, created_at, expires_at, used_at, cancelled_at, refusal, linkable_from";

/// Codes of this member that a comment could still consume.
pub async fn open_codes(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM link_codes WHERE member_id = $1 AND program_id = $2 \
         AND used_at IS NULL AND expires_at > $3",
    )
    .bind(member_id.0)
    .bind(program_id.0)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// One of this member's codes; another member's code is as unknown as a made-up one.
pub async fn link_code(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    code: &str,
) -> sqlx::Result<Option<LinkCodeRow>> {
    sqlx::query_as(&format!(
        "SELECT {CODE_COLUMNS} FROM link_codes \
         WHERE code = $1 AND program_id = $2 AND member_id = $3"
    ))
    .bind(code)
    .bind(program_id.0)
    .bind(member_id.0)
    .fetch_optional(pool)
    .await
}

/// Makes an unused code unusable: the ingest path checks expiry, so that moves to now too.
/// `None` if the member has no such code that is still unused and not cancelled.
pub async fn cancel_link_code(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    code: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<LinkCodeRow>> {
    sqlx::query_as(&format!(
        "UPDATE link_codes SET cancelled_at = $4, expires_at = least(expires_at, $4) \
         WHERE code = $1 AND program_id = $2 AND member_id = $3 \
           AND used_at IS NULL AND cancelled_at IS NULL \
         RETURNING {CODE_COLUMNS}"
    ))
    .bind(code)
    .bind(program_id.0)
    .bind(member_id.0)
    .bind(now)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_codes_in_text() {
        assert_eq!(
            find_in_text("мой код link-7q4m-2kxd спасибо").as_deref(),
            Some("LINK-7Q4M-2KXD")
        );
        assert_eq!(
            find_in_text("LINK-7Q4M-2KXD"),
            Some("LINK-7Q4M-2KXD".into())
        );
        assert_eq!(find_in_text("LINK-7Q4M-2KXDX"), None);
        assert_eq!(find_in_text("LINK-7Q4"), None);
        assert_eq!(find_in_text("ЛИНК"), None);
        assert_eq!(find_in_text("LINK-ЖЖЖЖ-ЖЖ"), None);
        assert_eq!(
            find_in_text("ЖLINK-7Q4M-2KXD").as_deref(),
            Some("LINK-7Q4M-2KXD")
        );
        let generated = generate();
        assert_eq!(find_in_text(&generated), Some(generated));
    }
}
