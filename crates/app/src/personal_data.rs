//! A member's personal data: erased on request, exported on request.
//!
//! Erasure appends one `MemberErased` event first (its own commit), then deletes every personal
//! row of the member in one transaction: the platform ids of the accounts they held (their
//! profiles go with them), their Telegram chat, notification, broadcast and message records,
//! link codes, sign-in attempts, subscription checks and their broadcast opt-out. The points history stays in the log as an
//! anonymous member's, so balances, leaderboards and `audit verify` stay exactly right. Erasing
//! again appends nothing and deletes whatever a crash between the two steps left.

use crate::reads::member_lines;
use crate::{AppError, Ledger, Outcome};
use chrono::{DateTime, Utc};
use domain::event::{Eraser, ErasureReason};
use domain::ids::{MemberId, ProgramId};
use domain::network::{ExternalIdentity, LinkedAccount, Network};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Erased {
    pub member_id: Uuid,
    /// `false` when the member was erased before (nothing appended).
    pub recorded: bool,
    /// Personal rows deleted, all tables together.
    pub rows_deleted: u64,
}

/// An erasure, with the platform accounts whose links it deleted (for the caller to drop from
/// its caches; never stored).
pub struct Erasure {
    pub erased: Erased,
    pub unlinked: Vec<ExternalIdentity>,
}

/// Erases a member's personal data (see the module's doc). A member of another program, or
/// not registered, is refused with the domain's error. Serving processes use
/// `AppContext::erase_member`, which also drops the member from their caches.
pub async fn erase(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    by: Eraser,
    reason: ErasureReason,
) -> Result<Erasure, AppError> {
    let state = ledger
        .load::<domain::member::MemberState>(&domain::StreamId::Member(member_id))
        .await?
        .state;
    if state.program_id != Some(program_id) {
        return Err(AppError::Denied(domain::DomainError::NotFound));
    }
    let (outcome, held) = ledger
        .erase_member(program_id, member_id, by, reason, Utc::now().into())
        .await?;
    let refs = held_accounts(pool, program_id, member_id, &held).await?;
    let (rows_deleted, unlinked) = delete_rows(pool, program_id, member_id, &refs).await?;
    let erased = Erased {
        member_id: member_id.0,
        recorded: matches!(outcome, Outcome::Recorded { .. }),
        rows_deleted,
    };
    Ok(Erasure { erased, unlinked })
}

/// The references of every account the member held: as decided, and as the identities read
/// model has them (which still names them after the member's state forgot them, so a second
/// erasure finds what a crash left).
async fn held_accounts(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    held: &[LinkedAccount],
) -> Result<Vec<Uuid>, AppError> {
    let mut refs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT account_ref FROM identities WHERE program_id = $1 AND member_id = $2",
    )
    .bind(program_id.0)
    .bind(member_id.0)
    .fetch_all(pool)
    .await?;
    refs.extend(held.iter().map(|a| a.account.0));
    refs.sort_unstable();
    refs.dedup();
    Ok(refs)
}

/// Deletes the member's personal rows in one transaction; answers how many rows went and the
/// platform accounts whose links were deleted.
async fn delete_rows(
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
    refs: &[Uuid],
) -> sqlx::Result<(u64, Vec<ExternalIdentity>)> {
    let mut tx = pool.begin().await?;
    let removed: Vec<(String, String, String)> = sqlx::query_as(
        "DELETE FROM external_accounts WHERE program_id = $1 AND account_ref = ANY($2) \
         RETURNING network, scope, platform_id",
    )
    .bind(program_id.0)
    .bind(refs)
    .fetch_all(&mut *tx)
    .await?;
    let identities: Vec<ExternalIdentity> = removed
        .iter()
        .filter_map(|(network, scope, id)| {
            Network::parse(network).map(|n| ExternalIdentity::new(n, scope.clone(), id.clone()))
        })
        .collect();
    let mut deleted = removed.len() as u64;
    // A private chat's id is the user's id: the bot's records of the member's Telegram chat.
    let telegram_users: Vec<i64> = identities
        .iter()
        .filter(|i| i.network == Network::Telegram)
        .filter_map(|i| i.external_id.parse().ok())
        .collect();
    for sql in [
        "DELETE FROM bot_chats WHERE user_id = ANY($1)",
        "DELETE FROM notification_deliveries WHERE chat_id = ANY($1)",
        "DELETE FROM bot_updates WHERE user_id = ANY($1)",
        "DELETE FROM broadcast_recipients WHERE chat_id = ANY($1)",
    ] {
        deleted += sqlx::query(sql)
            .bind(&telegram_users)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    for sql in [
        "DELETE FROM link_codes WHERE program_id = $1 AND member_id = $2",
        "DELETE FROM vk_id_pending WHERE program_id = $1 AND member_id = $2",
        "DELETE FROM subscription_checks WHERE program_id = $1 AND member_id = $2",
        "DELETE FROM broadcast_opt_outs WHERE program_id = $1 AND member_id = $2",
    ] {
        deleted += sqlx::query(sql)
            .bind(program_id.0)
            .bind(member_id.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok((deleted, identities))
}

impl crate::AppContext {
    /// [`erase`], then drops the member from this process's account mapping and names.
    pub async fn erase_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        by: Eraser,
        reason: ErasureReason,
    ) -> Result<Erased, AppError> {
        let erasure = erase(self.ledger(), &self.pool, program_id, member_id, by, reason).await?;
        self.accounts().forget(program_id, &erasure.unlinked);
        self.names.forget(program_id.0, member_id.0);
        Ok(erasure.erased)
    }

    /// [`export`] with this process's ledger and pool.
    pub async fn export_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
    ) -> Result<MemberExport, AppError> {
        export(self.ledger(), &self.pool, program_id, member_id).await
    }
}

/// Everything the product holds about one member, as they or a written request may ask for it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MemberExport {
    pub exported_at: DateTime<Utc>,
    pub program_id: Uuid,
    pub member_id: Uuid,
    pub erased: bool,
    pub blocked: bool,
    pub balance: i64,
    pub earned: i64,
    pub spent: i64,
    /// The external accounts the member holds, with what the platforms told about them.
    pub accounts: Vec<ExportedAccount>,
    /// Every event of the member's stream, oldest first, with the balance after it.
    pub history: Vec<ExportedEntry>,
    /// Rewards redeemed, with their coupon codes.
    pub redemptions: Vec<ExportedRedemption>,
    /// Whether the member asked for no broadcasts.
    pub broadcasts_opted_out: bool,
    /// Broadcasts sent to the member's Telegram chat (kept for the retention period).
    pub broadcasts: Vec<ExportedBroadcast>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct ExportedBroadcast {
    pub broadcast_id: Uuid,
    pub text: String,
    /// `sent`, `blocked`, `failed`, `unknown` or `pending`.
    pub status: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct ExportedAccount {
    pub network: String,
    /// The Instagram brand account that saw the user; empty on VK and Telegram.
    pub scope: String,
    pub platform_id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub language_code: Option<String>,
    pub first_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExportedEntry {
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub balance_after: i64,
    /// The event as recorded (accounts by reference, activity by digest).
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, ToSchema)]
pub struct ExportedRedemption {
    pub redemption_id: Uuid,
    pub reward_id: Uuid,
    pub reward_name: Option<String>,
    pub cost: i64,
    pub coupon_code: String,
    pub redeemed_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When the shop accepted the coupon.
    pub used_at: Option<DateTime<Utc>>,
}

/// The member's data (see [`MemberExport`]); a member of another program is `NotFound`.
pub async fn export(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    member_id: MemberId,
) -> Result<MemberExport, AppError> {
    let (lines, state) = member_lines(ledger.store(), member_id).await?;
    if state.program_id != Some(program_id) {
        return Err(AppError::Denied(domain::DomainError::NotFound));
    }
    let refs: Vec<Uuid> = state
        .linked
        .iter()
        .chain(&state.observed_account)
        .map(|a| a.account.0)
        .collect();
    let accounts: Vec<ExportedAccount> = sqlx::query_as(
        "SELECT a.network, a.scope, a.platform_id, p.username, p.display_name, p.language_code, \
                a.first_seen \
         FROM external_accounts a LEFT JOIN profiles p USING (account_ref) \
         WHERE a.program_id = $1 AND a.account_ref = ANY($2) ORDER BY a.network, a.first_seen",
    )
    .bind(program_id.0)
    .bind(&refs)
    .fetch_all(pool)
    .await?;
    let redemptions: Vec<ExportedRedemption> = sqlx::query_as(
        "SELECT r.redemption_id, r.reward_id, w.title AS reward_name, r.cost, r.coupon_code, \
                r.redeemed_at, r.cancelled_at, r.used_at \
         FROM reward_redemptions r LEFT JOIN rewards w USING (program_id, reward_id) \
         WHERE r.program_id = $1 AND r.member_id = $2 ORDER BY r.redeemed_at",
    )
    .bind(program_id.0)
    .bind(member_id.0)
    .fetch_all(pool)
    .await?;
    let broadcasts: Vec<ExportedBroadcast> = sqlx::query_as(
        "SELECT b.broadcast_id, b.text, r.status, r.updated_at AS at \
         FROM broadcast_recipients r JOIN broadcasts b USING (broadcast_id) \
         WHERE b.program_id = $1 AND r.member_id = $2 ORDER BY r.updated_at",
    )
    .bind(program_id.0)
    .bind(member_id.0)
    .fetch_all(pool)
    .await?;
    let broadcasts_opted_out = crate::broadcasts::opted_out(pool, program_id, member_id).await?;
    let history = lines
        .into_iter()
        .map(|line| ExportedEntry {
            recorded_at: line.logged.recorded.recorded_at,
            event_type: line.logged.recorded.event_type,
            balance_after: line.balance_after,
            event: line.logged.recorded.payload,
        })
        .collect();
    Ok(MemberExport {
        exported_at: Utc::now(),
        program_id: program_id.0,
        member_id: member_id.0,
        erased: state.erased,
        blocked: state.blocked,
        balance: state.balance,
        earned: state.earned,
        spent: state.spent,
        accounts,
        history,
        redemptions,
        broadcasts_opted_out,
        broadcasts,
    })
}
