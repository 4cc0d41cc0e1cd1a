//! External accounts: the one place a platform id meets the log's pseudonymous reference.
//!
//! The first time a program sees an account it issues a random [`AccountRef`]; events, stream
//! ids and read models use only that. `external_accounts` holds the link, and erasing a member
//! deletes it: the reference left in the log then points at nobody, and the same platform
//! account seen again is issued a new reference (a new member, with no old points).
//! Keyed digests of activity, deliveries and texts ([`PrivacyKeys`]) are made here too.

use crate::AppError;
use crate::cache::Expiring;
use domain::ids::{AccountRef, ProgramId};
use domain::network::{ActivityRef, ExternalIdentity, LinkedAccount, Network};
use domain::privacy::{PlatformActivity, PrivacyKeys};
use domain::text::TextFingerprint;
use sqlx::{FromRow, PgPool, Row};
use std::time::Duration;
use store::{EVENT_COLUMNS, RecordedEvent};
use uuid::Uuid;

/// How long a resolved reference is reused. Erasure in this process forgets it at once; one
/// done by another process is seen after this long (until then, activity of the erased account
/// is refused, not credited to anyone).
const RESOLVED_TTL: Duration = Duration::from_secs(60);
const MAX_RESOLVED: usize = 200_000;

#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    keys: PrivacyKeys,
    resolved: Expiring<(ProgramId, ExternalIdentity), AccountRef>,
}

impl Accounts {
    pub fn new(pool: PgPool, keys: PrivacyKeys) -> Self {
        Self {
            pool,
            keys,
            resolved: Expiring::new(MAX_RESOLVED, RESOLVED_TTL),
        }
    }

    /// The account's reference in the program, issued now if the program never saw it.
    pub async fn resolve(
        &self,
        program_id: ProgramId,
        identity: &ExternalIdentity,
    ) -> Result<LinkedAccount, AppError> {
        Ok(self.resolve_fresh(program_id, identity).await?.0)
    }

    /// As [`Accounts::resolve`], and whether the reference was issued by this call: then no
    /// event can name it yet, and its streams are known to be empty.
    pub async fn resolve_fresh(
        &self,
        program_id: ProgramId,
        identity: &ExternalIdentity,
    ) -> Result<(LinkedAccount, bool), AppError> {
        let key = (program_id, identity.clone());
        if let Some(account) = self.resolved.get(&key) {
            return Ok((linked(identity.network, account), false));
        }
        // One round trip either way: a stored reference is read (and nothing is written, so no
        // transaction id is taken); a missing one is inserted. A concurrent first sight inserts
        // the same row: the loser gets no row here and reads the winner's. The new row commits
        // without waiting for its own WAL flush: whatever event names the reference commits
        // later with a flush, which makes every earlier WAL record durable too, so the only row
        // a crash can lose is one nothing refers to yet (and the account then gets a new
        // reference). Saves one fsync per new account.
        let sql = format!(
            "WITH {RESOLVE} \
             SELECT account_ref, false FROM stored UNION ALL SELECT account_ref, true FROM issued"
        );
        let row: Option<(Uuid, bool)> = sqlx::query_as(&sql)
            .bind(Uuid::new_v4())
            .bind(program_id.0)
            .bind(identity.network.as_str())
            .bind(&identity.scope)
            .bind(&identity.external_id)
            .fetch_optional(&self.pool)
            .await?;
        let (account, fresh) = match row {
            Some((account, fresh)) => (AccountRef(account), fresh),
            None => {
                let stored = self.find_stored(program_id, identity).await?;
                let account = stored
                    .ok_or_else(|| AppError::ReadModel("an external account vanished".into()))?;
                (account, false)
            }
        };
        self.resolved.insert(key, account);
        Ok((linked(identity.network, account), fresh))
    }

    /// As [`Accounts::resolve_fresh`], and, when the reference was not in memory, the events
    /// of the stream `stream_prefix` + reference names, read in the same round trip: a first
    /// visit's next question is who holds the account, and asking it apart cost a second round
    /// trip. `None` for the events when the reference came from memory (the stream's state is
    /// then most likely cached too) or was issued now (its streams are empty).
    pub async fn resolve_with_stream(
        &self,
        program_id: ProgramId,
        identity: &ExternalIdentity,
        stream_prefix: &str,
    ) -> Result<(LinkedAccount, bool, Option<Vec<RecordedEvent>>), AppError> {
        let key = (program_id, identity.clone());
        if let Some(account) = self.resolved.get(&key) {
            return Ok((linked(identity.network, account), false, None));
        }
        let sql = format!(
            "WITH {RESOLVE}, \
             account AS (SELECT account_ref, false AS fresh FROM stored \
                         UNION ALL SELECT account_ref, true FROM issued) \
             SELECT account.account_ref, account.fresh, e.* FROM account LEFT JOIN LATERAL ( \
                 SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $6 || account.account_ref::text \
                   AND stream_version > 0) e ON true \
             ORDER BY e.stream_version"
        );
        let rows = sqlx::query(&sql)
            .bind(Uuid::new_v4())
            .bind(program_id.0)
            .bind(identity.network.as_str())
            .bind(&identity.scope)
            .bind(&identity.external_id)
            .bind(stream_prefix)
            .fetch_all(&self.pool)
            .await?;
        let Some(first) = rows.first() else {
            // A concurrent first sight won the insert: read the winner's, as `resolve_fresh`.
            let (account, fresh) = self.resolve_fresh(program_id, identity).await?;
            return Ok((account, fresh, None));
        };
        let account = AccountRef(first.try_get("account_ref")?);
        let fresh: bool = first.try_get("fresh")?;
        let mut events = Vec::new();
        for row in &rows {
            let position: Option<i64> = row.try_get("position")?;
            if position.is_some() {
                events.push(RecordedEvent::from_row(row)?);
            }
        }
        self.resolved.insert(key, account);
        let events = (!fresh).then_some(events);
        Ok((linked(identity.network, account), fresh, events))
    }

    /// The account's reference if the program has seen it; never issues one.
    pub async fn find(
        &self,
        program_id: ProgramId,
        identity: &ExternalIdentity,
    ) -> Result<Option<LinkedAccount>, AppError> {
        let key = (program_id, identity.clone());
        if let Some(account) = self.resolved.get(&key) {
            return Ok(Some(linked(identity.network, account)));
        }
        let found = self.find_stored(program_id, identity).await?;
        if let Some(account) = found {
            self.resolved.insert(key, account);
        }
        Ok(found.map(|a| linked(identity.network, a)))
    }

    async fn find_stored(
        &self,
        program_id: ProgramId,
        identity: &ExternalIdentity,
    ) -> Result<Option<AccountRef>, AppError> {
        let found: Option<Uuid> = sqlx::query_scalar(
            "SELECT account_ref FROM external_accounts \
             WHERE program_id = $1 AND network = $2 AND scope = $3 AND platform_id = $4",
        )
        .bind(program_id.0)
        .bind(identity.network.as_str())
        .bind(&identity.scope)
        .bind(&identity.external_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.map(AccountRef))
    }

    /// The platform account a reference stands for; `None` once its member was erased.
    pub async fn platform_id(
        &self,
        account: AccountRef,
    ) -> Result<Option<ExternalIdentity>, AppError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT network, scope, platform_id FROM external_accounts WHERE account_ref = $1",
        )
        .bind(account.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(network, scope, id)| {
            Network::parse(&network).map(|n| ExternalIdentity::new(n, scope, id))
        }))
    }

    /// Forgets what this process resolved for these accounts (they were just erased).
    pub fn forget(&self, program_id: ProgramId, identities: &[ExternalIdentity]) {
        for identity in identities {
            self.resolved.remove(&(program_id, identity.clone()));
        }
    }

    /// The activity as the log names it: a keyed digest, with the author's account for
    /// activity many members share. `None` when such activity names no author.
    pub fn activity(
        &self,
        program_id: ProgramId,
        activity: &PlatformActivity,
        author: Option<AccountRef>,
    ) -> Option<ActivityRef> {
        match author {
            Some(author) => Some(self.keys.activity(program_id, activity, author)),
            None => self.keys.authorless_activity(program_id, activity),
        }
    }

    /// The activity as the log names it, done by `author`.
    pub fn authored_activity(
        &self,
        program_id: ProgramId,
        activity: &PlatformActivity,
        author: AccountRef,
    ) -> ActivityRef {
        self.keys.activity(program_id, activity, author)
    }

    /// A platform delivery id as the log keeps it.
    pub fn delivery(&self, platform_delivery: &str) -> String {
        self.keys.delivery(platform_delivery)
    }

    /// A written text's fingerprint, keyed per program.
    pub fn text(&self, program_id: ProgramId, text: &str) -> Option<TextFingerprint> {
        self.keys.text(program_id, text)
    }
}

/// The stored reference of ($2 program, $3 network, $4 scope, $5 platform id) as `stored`, or
/// `$1` issued as `issued` when there is none (see [`Accounts::resolve_fresh`]).
const RESOLVE: &str = "stored AS ( \
       SELECT account_ref FROM external_accounts \
       WHERE program_id = $2 AND network = $3 AND scope = $4 AND platform_id = $5), \
     issued AS ( \
       INSERT INTO external_accounts (account_ref, program_id, network, scope, platform_id) \
       SELECT $1, $2, $3, $4, $5 \
       FROM (SELECT set_config('synchronous_commit', 'off', true)) AS unflushed \
       WHERE NOT EXISTS (SELECT 1 FROM stored) \
       ON CONFLICT (program_id, network, scope, platform_id) DO NOTHING \
       RETURNING account_ref)";

fn linked(network: Network, account: AccountRef) -> LinkedAccount {
    LinkedAccount { network, account }
}
