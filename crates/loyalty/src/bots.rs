//! `loyalty bots add | list | remove`: programs' own Telegram bots from the command line, with
//! the same checks and change records as the admin panel. A running `serve` picks a change up
//! at its supervisor's next look (`bot::SUPERVISE_INTERVAL`) and sets the webhook itself.

use anyhow::Context;
use app::config::TelegramConfig;
use app::secrets::SecretBox;
use app::{Ledger, LedgerConfig};
use domain::ids::ProgramId;
use serde::Serialize;
use sqlx::PgPool;
use store::EventStore;
use uuid::Uuid;

/// A program's bot as the CLI prints it; never its token.
#[derive(Debug, Serialize)]
pub struct ListedBot {
    pub program_id: Uuid,
    pub bot_id: i64,
    pub username: String,
    /// `added` or `replaced`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
}

/// Proves the token with Telegram and gives the program the bot.
pub async fn add(
    pool: &PgPool,
    secrets: &SecretBox,
    program: Uuid,
    token: &str,
    telegram: &TelegramConfig,
    by: &str,
) -> anyhow::Result<ListedBot> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let program = ledger
        .program(ProgramId(program))
        .await
        .with_context(|| format!("no program {program}"))?
        .program_id;
    let token = token.trim();
    let me = bot::program_bot::prove(&telegram.api_url, token).await?;
    let saved =
        app::program_bots::save(pool, secrets, program, me.id, &me.username, token, by).await?;
    Ok(ListedBot {
        program_id: program.0,
        bot_id: me.id,
        username: me.username,
        outcome: Some(match saved {
            app::program_bots::Saved::Added => "added",
            app::program_bots::Saved::Replaced => "replaced",
        }),
    })
}

/// Every program's bot.
pub async fn list(pool: &PgPool, secrets: &SecretBox) -> anyhow::Result<Vec<ListedBot>> {
    Ok(app::program_bots::all(pool, secrets)
        .await?
        .into_iter()
        .map(|bot| ListedBot {
            program_id: bot.program_id.0,
            bot_id: bot.bot_id,
            username: bot.username.clone(),
            outcome: None,
        })
        .collect())
}
