//! `loyalty channels add | list | remove | check`: a program's channels from the command line,
//! with the same checks and change records as the admin panel.

use anyhow::Context;
use app::channels::{self, ChannelRequest, ChannelStatus, Connected};
use app::config::TelegramConfig;
use app::ingest::channels::ChannelCache;
use app::secrets::SecretBox;
use app::{Ledger, LedgerConfig};
use bot::channels::ChannelCheck;
use clients::TelegramApi;
use domain::ids::ProgramId;
use domain::network::Network;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use store::EventStore;
use uuid::Uuid;

async fn program(pool: &PgPool, program: Uuid) -> anyhow::Result<ProgramId> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let program = ledger
        .program(ProgramId(program))
        .await
        .with_context(|| format!("no program {program}"))?;
    Ok(program.program_id)
}

fn network(name: &str) -> anyhow::Result<Network> {
    Network::parse(name)
        .with_context(|| format!("network must be instagram, vk or telegram, not {name:?}"))
}

/// Connects the destination (or changes a VK group's secret key and confirmation).
pub async fn add(
    pool: &PgPool,
    secrets: SecretBox,
    program_id: Uuid,
    request: &ChannelRequest,
    by: &str,
) -> anyhow::Result<Connected> {
    let program_id = program(pool, program_id).await?;
    let channel = channels::validate(request)?;
    let cache = ChannelCache::new(secrets);
    Ok(channels::connect(pool, &cache, program_id, &channel, by).await?)
}

/// The program's channels with their health.
pub async fn list(pool: &PgPool, program_id: Uuid) -> anyhow::Result<Vec<ChannelStatus>> {
    let program_id = program(pool, program_id).await?;
    Ok(channels::statuses(pool, program_id).await?)
}

/// Disconnects one of the program's channels.
pub async fn remove(
    pool: &PgPool,
    secrets: SecretBox,
    program_id: Uuid,
    network_name: &str,
    destination: &str,
    by: &str,
) -> anyhow::Result<()> {
    let program_id = program(pool, program_id).await?;
    let cache = ChannelCache::new(secrets);
    channels::disconnect(
        pool,
        &cache,
        program_id,
        network(network_name)?,
        destination,
        by,
    )
    .await?;
    Ok(())
}

/// Checks one channel now; a Telegram chat is asked about with the program's own bot, else
/// the configured one.
pub async fn check(
    pool: &PgPool,
    secrets: &SecretBox,
    program_id: Uuid,
    network_name: &str,
    destination: &str,
    telegram: &TelegramConfig,
) -> anyhow::Result<ChannelCheck> {
    let program_id = program(pool, program_id).await?;
    let own = app::program_bots::all(pool, secrets)
        .await?
        .into_iter()
        .find(|bot| bot.program_id == program_id);
    let (token, rows_key) = match &own {
        Some(own) => (own.token.expose_secret(), own.bot_id),
        None => (telegram.bot_token.expose_secret(), 0),
    };
    let api = if token.is_empty() {
        None
    } else {
        let api = TelegramApi::new(token)
            .context("the bot token is not a bot token")?
            .with_base_url(telegram.api_url.clone());
        Some(api)
    };
    let asker = api
        .as_ref()
        .map(|telegram| bot::channels::Asker { telegram, rows_key });
    let network = network(network_name)?;
    Ok(bot::channels::check(pool, asker, program_id, network, destination).await?)
}
