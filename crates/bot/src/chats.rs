//! What a bot knows of each private chat (`bot_chats`, per bot: `Bot::rows_key`): the user's
//! language, and whether that bot can write to them at all.

use app::Language;
use chrono::{DateTime, Utc};
use domain::ids::ProgramId;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// The user wrote to the bot (or opened the Mini App): remember their language; a message from
/// them also means the bot may write to them again.
pub async fn remember(
    pool: &PgPool,
    bot: i64,
    user_id: i64,
    language_code: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_chats (bot_id, user_id, language_code, started_at, updated_at) \
         VALUES ($4, $1, $2, $3, $3) ON CONFLICT (bot_id, user_id) DO UPDATE SET \
         language_code = coalesce(EXCLUDED.language_code, bot_chats.language_code), \
         started_at = coalesce(bot_chats.started_at, EXCLUDED.started_at), \
         unreachable_since = NULL, updated_at = EXCLUDED.updated_at",
    )
    .bind(user_id)
    .bind(language_code)
    .bind(at)
    .bind(bot)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user's language, seen outside the bot (the Mini App): reachability is left as it is,
/// since opening the app does not let the bot write to them.
pub async fn remember_language(
    pool: &PgPool,
    bot: i64,
    user_id: i64,
    language_code: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_chats (bot_id, user_id, language_code, updated_at) \
         VALUES ($4, $1, $2, $3) ON CONFLICT (bot_id, user_id) DO UPDATE SET \
         language_code = EXCLUDED.language_code, updated_at = EXCLUDED.updated_at",
    )
    .bind(user_id)
    .bind(language_code)
    .bind(at)
    .bind(bot)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user blocked the bot (or never started it): notifications to them stop until they
/// write again.
pub async fn mark_unreachable(
    pool: &PgPool,
    bot: i64,
    user_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bot_chats (bot_id, user_id, unreachable_since, updated_at) \
         VALUES ($3, $1, $2, $2) ON CONFLICT (bot_id, user_id) DO UPDATE SET \
         unreachable_since = coalesce(bot_chats.unreachable_since, EXCLUDED.unreachable_since), \
         updated_at = EXCLUDED.updated_at",
    )
    .bind(user_id)
    .bind(at)
    .bind(bot)
    .execute(pool)
    .await?;
    Ok(())
}

/// The user unblocked the bot (`my_chat_member` in a private chat).
pub async fn mark_reachable(
    pool: &PgPool,
    bot: i64,
    user_id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE bot_chats SET unreachable_since = NULL, updated_at = $2 \
         WHERE bot_id = $3 AND user_id = $1",
    )
    .bind(user_id)
    .bind(at)
    .bind(bot)
    .execute(pool)
    .await?;
    Ok(())
}

/// How to talk to one chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatInfo {
    pub lang: Language,
    pub reachable: bool,
}

/// Language and reachability of many members' chats, each given with the member's program.
/// The language is the one the user's Telegram reported to the bot or the Mini App, else the
/// one seen on their activity in the program's groups (`profiles`), else Russian, the
/// programs' default; unknown chats are reachable.
pub async fn infos(
    pool: &PgPool,
    bot: i64,
    chats: &[(i64, ProgramId)],
) -> sqlx::Result<HashMap<i64, ChatInfo>> {
    let (user_ids, programs): (Vec<i64>, Vec<Uuid>) = chats
        .iter()
        .map(|(user, program)| (*user, program.0))
        .unzip();
    let rows: Vec<(i64, Option<String>, bool)> = sqlx::query_as(
        "SELECT u.id, coalesce(c.language_code, p.language_code), c.unreachable_since IS NULL \
         FROM unnest($1::bigint[], $2::uuid[]) AS u(id, program_id) \
         LEFT JOIN bot_chats c ON c.bot_id = $3 AND c.user_id = u.id \
         LEFT JOIN external_accounts a ON a.program_id = u.program_id \
              AND a.network = 'telegram' AND a.scope = '' AND a.platform_id = u.id::text \
         LEFT JOIN profiles p ON p.account_ref = a.account_ref",
    )
    .bind(&user_ids)
    .bind(&programs)
    .bind(bot)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, reachable)| {
            let lang = Language::from_code(code.as_deref());
            (id, ChatInfo { lang, reachable })
        })
        .collect())
}
