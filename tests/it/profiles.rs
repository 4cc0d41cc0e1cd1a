//! The `profiles` table, written only by `app::ingest::profiles`: names seen on deliveries,
//! the bot and the Mini App, never in events.

use app::accounts::Accounts;
use app::ingest::profiles::{Profile, upsert_profile, upsert_profiles};
use domain::ids::{AccountRef, ProgramId};
use domain::network::{ExternalIdentity, Network};
use sqlx::PgPool;
use uuid::Uuid;

const PROGRAM: Uuid = Uuid::from_u128(0x9e0f_0000_0000_0000_0000_0000_0000_0001);

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn profiles_written_together_keep_each_accounts_last_names(pool: PgPool) {
    let accounts = Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let mut refs = Vec::new();
    for id in ["1", "2"] {
        let identity = ExternalIdentity::new(Network::Vk, "", id);
        let linked = accounts
            .resolve(ProgramId(PROGRAM), &identity)
            .await
            .unwrap();
        refs.push(linked.account);
    }
    let account = |id: &str| -> AccountRef { refs[usize::from(id == "2")] };
    let profile = |id: &str, username: &str| Profile {
        program_id: PROGRAM,
        account: account(id),
        username: Some(username.to_string()),
        display_name: None,
        language_code: None,
    };
    upsert_profile(&pool, &profile("1", "old")).await.unwrap();
    // The same account twice in one statement, and a name changed from an earlier write.
    upsert_profiles(
        &pool,
        &[
            profile("1", "first"),
            profile("2", "two"),
            profile("1", "last"),
        ],
    )
    .await
    .unwrap();
    let stored: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT a.platform_id, p.username FROM profiles p \
             JOIN external_accounts a USING (account_ref) ORDER BY a.platform_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        vec![
            ("1".to_string(), Some("last".to_string())),
            ("2".to_string(), Some("two".to_string()))
        ]
    );
    upsert_profiles(&pool, &[]).await.unwrap();
}

/// A profile of an account erased meanwhile (its mapping deleted) is not written, and does not
/// fail the other profiles of its batch.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_profile_of_an_erased_account_is_not_written(pool: PgPool) {
    let accounts = Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let identity = |id: &str| ExternalIdentity::new(Network::Vk, "", id);
    let kept = accounts
        .resolve(ProgramId(PROGRAM), &identity("1"))
        .await
        .unwrap();
    let erased = accounts
        .resolve(ProgramId(PROGRAM), &identity("2"))
        .await
        .unwrap();
    sqlx::query("DELETE FROM external_accounts WHERE account_ref = $1")
        .bind(erased.account.0)
        .execute(&pool)
        .await
        .unwrap();
    let profile = |account: AccountRef| Profile {
        program_id: PROGRAM,
        account,
        username: Some("name".into()),
        display_name: None,
        language_code: None,
    };
    upsert_profiles(&pool, &[profile(kept.account), profile(erased.account)])
        .await
        .unwrap();
    let stored: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT account_ref FROM profiles")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![kept.account.0]);
}

/// Two processes resolving the same new accounts at once agree on one reference per account,
/// and the table holds one row each.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn concurrent_first_sights_issue_one_reference_per_account(pool: PgPool) {
    let processes = [
        Accounts::new(pool.clone(), app::config::dev_privacy_keys()),
        Accounts::new(pool.clone(), app::config::dev_privacy_keys()),
    ];
    let mut asks = Vec::new();
    for n in 0..40 {
        let accounts = processes[n % 2].clone();
        let identity = ExternalIdentity::new(Network::Vk, "", (n % 5).to_string());
        asks.push(tokio::spawn(async move {
            let linked = accounts
                .resolve(ProgramId(PROGRAM), &identity)
                .await
                .unwrap();
            (identity.external_id, linked.account)
        }));
    }
    let mut seen = std::collections::HashMap::new();
    for ask in asks {
        let (id, account) = ask.await.unwrap();
        assert_eq!(*seen.entry(id).or_insert(account), account);
    }
    assert_eq!(seen.len(), 5);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM external_accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 5);
}

/// A first visit to a process that has not seen the account learns its reference and its
/// identity stream in one round trip; the stream read is the one a separate read gives.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_known_accounts_reference_comes_with_its_identity_stream(pool: PgPool) {
    let t = crate::helpers::TestLedger::new(pool.clone()).await;
    let program = t.program_id();
    let registering = Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let member = bot::members::ensure_telegram_member(
        &t.ledger,
        &registering,
        program,
        4242,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let prefix = domain::StreamId::identity_prefix(program);
    let identity = ExternalIdentity::new(Network::Telegram, "", "4242");
    let elsewhere = Accounts::new(pool.clone(), app::config::dev_privacy_keys());
    let (account, fresh, read) = elsewhere
        .resolve_with_stream(program, &identity, &prefix)
        .await
        .unwrap();
    assert!(!fresh);
    let read = read.expect("a reference not in memory comes with its stream");
    let stream = domain::StreamId::Identity(program, account.account);
    let separately = t
        .ledger
        .store()
        .read_stream(&stream.to_string(), 0)
        .await
        .unwrap();
    assert!(!read.is_empty());
    assert_eq!(read, separately);
    let owner = t
        .ledger
        .load_read::<domain::identity::IdentityState>(&stream, &read)
        .unwrap()
        .state
        .claimed_by;
    assert_eq!(owner, Some(member));

    // From memory the second time: no stream; a new account: issued, nothing to read.
    let (_, _, again) = elsewhere
        .resolve_with_stream(program, &identity, &prefix)
        .await
        .unwrap();
    assert!(again.is_none());
    let stranger = ExternalIdentity::new(Network::Telegram, "", "5353");
    let (_, fresh, read) = elsewhere
        .resolve_with_stream(program, &stranger, &prefix)
        .await
        .unwrap();
    assert!(fresh);
    assert!(read.is_none());
}
