//! Coupons a shop accepts: codes uploaded from the brand's till or e-shop, accepted ("used")
//! by the shop through an API key or by a manager, and the keys themselves.

use crate::commands::ManagerAction;
use crate::ledger::Ledger;
use crate::{AppError, Outcome};
use chrono::{DateTime, Utc};
use domain::ids::{MemberId, ProgramId, RedemptionId, RewardId, derived_id};
use domain::member::MemberState;
use domain::reward::{
    MAX_CODES_PER_UPLOAD, RewardCommand, UseCoupon, decide_use_coupon, valid_code,
};
use domain::{StreamId, Timestamp};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use store::Metadata;
use uuid::Uuid;

/// The most codes one file may carry (a chain's whole promo run; uploads go in slices of
/// [`MAX_CODES_PER_UPLOAD`], one event each).
pub const MAX_CODES_PER_FILE: usize = 200_000;

/// Why a codes file was refused, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodesFileError {
    #[error("the file is empty: put one code per line, or a CSV with a `code` column")]
    Empty,
    #[error("line {line}: {why}")]
    Line { line: u64, why: String },
    #[error("the file has more than {MAX_CODES_PER_FILE} codes: split it")]
    TooMany,
}

/// The codes of a file as tills and e-shops export them: one code per line, or a CSV (comma
/// or semicolon) whose header names a `code` column (`code`, `coupon`, `promo`, `код`,
/// `промокод`; otherwise the first column holds the codes). Blank lines are skipped; a bad
/// code names its line, and nothing is taken from a file with one.
pub fn parse_codes(file: &str) -> Result<Vec<String>, CodesFileError> {
    let file = file.strip_prefix('\u{feff}').unwrap_or(file); // Excel's byte-order mark
    let first = file
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or(CodesFileError::Empty)?;
    let delimiter = if first.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file.as_bytes());
    let mut column = 0;
    let mut codes = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u64 + 1;
        let record = record.map_err(|e| CodesFileError::Line {
            line: e.position().map_or(line, |p| p.line()),
            why: "not readable as CSV".into(),
        })?;
        let Some(cell) = record.get(column) else {
            if record.iter().all(str::is_empty) {
                continue;
            }
            return Err(CodesFileError::Line {
                line,
                why: "no code in this row".into(),
            });
        };
        if n == 0
            && record.len() > 1
            && let Some(named) = record.iter().position(is_code_header)
        {
            column = named;
            continue;
        }
        if n == 0 && is_code_header(cell) {
            continue;
        }
        if cell.is_empty() {
            if record.iter().all(str::is_empty) {
                continue;
            }
            return Err(CodesFileError::Line {
                line,
                why: "no code in this row".into(),
            });
        }
        if !valid_code(cell) {
            return Err(CodesFileError::Line {
                line,
                why: format!(
                    "{cell:?} is not a code: use 1 to 64 visible characters without spaces"
                ),
            });
        }
        codes.push(cell.to_string());
        if codes.len() > MAX_CODES_PER_FILE {
            return Err(CodesFileError::TooMany);
        }
    }
    if codes.is_empty() {
        return Err(CodesFileError::Empty);
    }
    Ok(codes)
}

fn is_code_header(cell: &str) -> bool {
    let cell = cell.trim().to_lowercase();
    [
        "code",
        "codes",
        "coupon",
        "coupon_code",
        "promo",
        "promocode",
        "код",
        "промокод",
        "купон",
    ]
    .contains(&cell.as_str())
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// Codes new to the pool, now in stock.
    pub added: usize,
    /// Codes the pool already knew (issued or not), or repeated in the file.
    pub skipped: usize,
}

impl Ledger {
    /// Adds a file's codes to a reward's pool in slices of [`MAX_CODES_PER_UPLOAD`], each its
    /// own command whose id derives from the manager's request: a repeated request is a
    /// duplicate, and a different file repeating codes adds only the new ones.
    pub async fn add_codes(
        &self,
        program_id: ProgramId,
        reward_id: RewardId,
        codes: &[String],
        action: &ManagerAction,
    ) -> Result<Uploaded, AppError> {
        let mut added = 0;
        for (n, slice) in codes.chunks(MAX_CODES_PER_UPLOAD).enumerate() {
            let slice_action = ManagerAction {
                request_id: derived_id(&format!("{}/codes/{n}", action.request_id)),
                ..action.clone()
            };
            let outcome = self
                .reward_command(program_id, reward_id, &slice_action, || {
                    RewardCommand::AddCodes {
                        codes: slice.to_vec(),
                        by: action.manager.clone(),
                        at: action.at,
                    }
                })
                .await?;
            if let Outcome::Recorded { events, .. } = outcome {
                added += events
                    .iter()
                    .map(|e| match e {
                        domain::Event::RewardCodesAdded { codes, .. } => codes.len(),
                        _ => 0,
                    })
                    .sum::<usize>();
            }
        }
        Ok(Uploaded {
            added,
            skipped: codes.len() - added,
        })
    }

    /// Marks a redemption's coupon used, by `by` (`manager:<login>` or `shop:<key id>`).
    pub async fn use_coupon(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        redemption_id: RedemptionId,
        command_id: Uuid,
        by: &str,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        self.execute::<MemberState>(
            program_id.0,
            command_id,
            Metadata {
                actor: Some(by.to_string()),
                ..Metadata::default()
            },
            &StreamId::Member(member_id),
            |member| {
                decide_use_coupon(
                    member,
                    UseCoupon {
                        redemption_id,
                        by: by.to_string(),
                        at,
                    },
                )
            },
        )
        .await
    }
}

/// A coupon as the shop sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CouponStatus {
    pub code: String,
    /// `issued` (valid), `used` or `cancelled`.
    pub status: String,
    pub reward_id: Uuid,
    pub reward_title: String,
    pub redeemed_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub redemption_id: Uuid,
    #[serde(skip)]
    pub member_id: Uuid,
}

/// The coupon a program issued under `code`, newest first if a returned code was issued again.
pub async fn coupon_by_code(
    pool: &PgPool,
    program_id: ProgramId,
    code: &str,
) -> sqlx::Result<Option<CouponStatus>> {
    sqlx::query_as(
        "SELECT r.coupon_code AS code, \
                CASE WHEN r.cancelled_at IS NOT NULL THEN 'cancelled' \
                     WHEN r.used_at IS NOT NULL THEN 'used' ELSE 'issued' END AS status, \
                r.reward_id, w.title AS reward_title, r.redeemed_at, r.used_at, \
                r.redemption_id, r.member_id \
         FROM reward_redemptions r JOIN rewards w USING (program_id, reward_id) \
         WHERE r.program_id = $1 AND r.coupon_code = $2 \
         ORDER BY (r.cancelled_at IS NULL) DESC, r.redeemed_at DESC LIMIT 1",
    )
    .bind(program_id.0)
    .bind(code)
    .fetch_optional(pool)
    .await
}

/// What a shop key may do.
pub const SCOPES: [&str; 2] = ["coupons:read", "coupons:use"];

/// A shop's API key as managers see it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ShopKey {
    pub key_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key just made: the token is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewShopKey {
    pub key_id: Uuid,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ShopKeyError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The prefix every key starts with, so a leaked one is recognisable (secret scanners).
const TOKEN_PREFIX: &str = "lsk_";

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Makes a key for a program's shop: 32 random bytes, kept only as their SHA-256.
pub async fn create_shop_key(
    pool: &PgPool,
    program_id: ProgramId,
    name: &str,
    scopes: &[String],
    by: &str,
) -> Result<NewShopKey, ShopKeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ShopKeyError::Invalid(
            "name the key (1 to 80 characters), e.g. the till it goes to".into(),
        ));
    }
    if scopes.is_empty() {
        return Err(ShopKeyError::Invalid(format!(
            "give the key at least one scope: {}",
            SCOPES.join(", ")
        )));
    }
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ShopKeyError::Invalid(format!(
            "unknown scope `{unknown}`: use {}",
            SCOPES.join(", ")
        )));
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let key_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO shop_api_keys (key_id, program_id, name, scopes, token_hash, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key_id)
    .bind(program_id.0)
    .bind(name)
    .bind(&scopes)
    .bind(token_hash(&token))
    .bind(by)
    .execute(pool)
    .await?;
    Ok(NewShopKey { key_id, token })
}

/// A program's keys, newest first, revoked ones included.
pub async fn shop_keys(pool: &PgPool, program_id: ProgramId) -> sqlx::Result<Vec<ShopKey>> {
    sqlx::query_as(
        "SELECT key_id, name, scopes, created_by, created_at, revoked_at, revoked_by, last_used_at \
         FROM shop_api_keys WHERE program_id = $1 ORDER BY created_at DESC, key_id",
    )
    .bind(program_id.0)
    .fetch_all(pool)
    .await
}

/// Revokes a key at once; `false` if the program has no such key. Revoking twice is fine.
pub async fn revoke_shop_key(
    pool: &PgPool,
    program_id: ProgramId,
    key_id: Uuid,
    by: &str,
) -> sqlx::Result<bool> {
    let found = sqlx::query(
        "UPDATE shop_api_keys SET revoked_at = coalesce(revoked_at, now()), \
                revoked_by = coalesce(revoked_by, $3) \
         WHERE program_id = $1 AND key_id = $2",
    )
    .bind(program_id.0)
    .bind(key_id)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(found.rows_affected() == 1)
}

/// The program and key a live token belongs to, with its scopes; notes when it was last used.
pub async fn authenticate_shop_key(
    pool: &PgPool,
    token: &str,
) -> sqlx::Result<Option<(ProgramId, Uuid, Vec<String>)>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<(Uuid, Uuid, Vec<String>)> = sqlx::query_as(
        "UPDATE shop_api_keys SET last_used_at = now() \
         WHERE token_hash = $1 AND revoked_at IS NULL \
         RETURNING program_id, key_id, scopes",
    )
    .bind(token_hash(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(program, key, scopes)| (ProgramId(program), key, scopes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_code_per_line_skips_blanks_and_a_byte_order_mark() {
        let codes = parse_codes("\u{feff}A1\n\nB2\r\nC3\n").unwrap();
        assert_eq!(codes, ["A1", "B2", "C3"]);
    }

    #[test]
    fn a_csv_export_takes_its_code_column_by_name() {
        let till = "discount;код;expires\n10%;SALE-1;2027-01-01\n10%;SALE-2;2027-01-01\n";
        assert_eq!(parse_codes(till).unwrap(), ["SALE-1", "SALE-2"]);
        let shop = "code,value\n\"X-1\",5\nX-2,5\n";
        assert_eq!(parse_codes(shop).unwrap(), ["X-1", "X-2"]);
        let headless = "Q1,5\nQ2,5\n";
        assert_eq!(parse_codes(headless).unwrap(), ["Q1", "Q2"]);
    }

    #[test]
    fn a_bad_code_names_its_line_and_nothing_is_taken() {
        let err = parse_codes("code\nA1\nhas space\n").unwrap_err();
        assert_eq!(
            err,
            CodesFileError::Line {
                line: 3,
                why: "\"has space\" is not a code: use 1 to 64 visible characters without spaces"
                    .into()
            }
        );
        assert_eq!(parse_codes("\n \n").unwrap_err(), CodesFileError::Empty);
        assert_eq!(parse_codes("code\n").unwrap_err(), CodesFileError::Empty);
    }
}
