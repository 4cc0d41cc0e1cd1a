//! The `profiles` table, written only by `app::ingest::profiles`: names seen on deliveries,
//! the bot and the Mini App, never in events.

use app::ingest::profiles::{Profile, upsert_profile, upsert_profiles};
use domain::network::{ExternalIdentity, Network};
use sqlx::PgPool;
use uuid::Uuid;

const PROGRAM: Uuid = Uuid::from_u128(0x9e0f_0000_0000_0000_0000_0000_0000_0001);

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn profiles_written_together_keep_each_accounts_last_names(pool: PgPool) {
    let profile = |id: &str, username: &str| Profile {
        program_id: PROGRAM,
        identity: ExternalIdentity::new(Network::Vk, "", id.to_string()),
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
    let stored: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT external_id, username FROM profiles ORDER BY external_id")
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
