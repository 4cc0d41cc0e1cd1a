//! Names of VK accounts. VK webhooks carry only user ids, so the names the panel, the
//! leaderboards and exports show come from `users.get`, a thousand accounts a call, written to
//! `profiles` (where every surface reads names) and fetched again after [`REFRESH_AFTER_DAYS`].

use crate::stopped;
use app::AppContext;
use app::ingest::profiles::{Profile, upsert_profiles};
use clients::VkApi;
use domain::ids::AccountRef;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// A name is fetched again after this many days (people rename themselves).
pub const REFRESH_AFTER_DAYS: i32 = 7;
/// How often the worker looks for VK accounts without a fresh name.
const LOOK_EVERY: Duration = Duration::from_secs(600);

/// VK accounts with no profile yet, or one older than [`REFRESH_AFTER_DAYS`], oldest first:
/// (account, program, VK user id).
async fn due(pool: &PgPool, limit: usize) -> sqlx::Result<Vec<(Uuid, Uuid, i64)>> {
    let rows: Vec<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT a.account_ref, a.program_id, a.platform_id FROM external_accounts a \
         LEFT JOIN profiles p ON p.account_ref = a.account_ref \
         WHERE a.network = 'vk' \
           AND (p.account_ref IS NULL OR p.updated_at < now() - make_interval(days => $1)) \
         ORDER BY p.updated_at NULLS FIRST LIMIT $2",
    )
    .bind(REFRESH_AFTER_DAYS)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    // Users only: a community (negative id) or anything else has no name to fetch.
    Ok(rows
        .into_iter()
        .filter_map(|(account, program, id)| {
            id.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .map(|id| (account, program, id))
        })
        .collect())
}

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("VK: {0}")]
    Vk(#[from] clients::ClientError),
}

/// Fetches the names of up to one call's worth of due accounts and writes them; returns how
/// many accounts it asked about. An account VK does not answer for, or whose profile is
/// deleted, gets an empty name: nothing stale stays shown.
pub async fn refresh_once(pool: &PgPool, vk: &VkApi) -> Result<usize, NamesError> {
    let due = due(pool, clients::vk::MAX_USERS_PER_CALL).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = due.iter().map(|(_, _, id)| *id).collect();
    let answered: HashMap<i64, clients::VkUser> = vk
        .users(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let profiles: Vec<Profile> = due
        .iter()
        .map(|(account, program, id)| {
            let user = answered.get(id);
            Profile {
                program_id: *program,
                account: AccountRef(*account),
                username: user.and_then(|u| u.handle()).map(str::to_string),
                display_name: user.and_then(clients::VkUser::full_name),
                language_code: None,
            }
        })
        .collect();
    upsert_profiles(pool, &profiles).await?;
    Ok(due.len())
}

/// Keeps VK names fresh until `shutdown`: a pass every ten minutes, at once again while a pass
/// found a full call's worth. `None` without a VK token.
pub fn spawn(state: &AppContext, mut shutdown: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    let vk = crate::vk_client(state)?;
    let pool = state.pool.clone();
    Some(tokio::spawn(async move {
        while !*shutdown.borrow() {
            let pause = match refresh_once(&pool, &vk).await {
                Ok(n) if n >= clients::vk::MAX_USERS_PER_CALL => Duration::ZERO,
                Ok(_) => LOOK_EVERY,
                Err(e) => {
                    tracing::warn!(error = %e, "VK names could not be refreshed");
                    LOOK_EVERY
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped(&mut shutdown) => {}
            }
        }
    }))
}
