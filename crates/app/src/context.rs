//! What the surfaces (HTTP, bot, workers) share in one process: the ingest and its ledger, the
//! pool, the settings, and the in-memory read models `serve` keeps following the log.

use crate::Ledger;
use crate::accounts::Accounts;
use crate::config::ServeConfig;
use crate::ingest::Ingest;
use crate::names::NameDirectory;
use crate::program_bots::ProgramBots;
use projections::live_boards::LiveBoards;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppContext {
    pub ingest: Ingest,
    pub pool: PgPool,
    pub config: Arc<ServeConfig>,
    /// This process's in-memory leaderboards; `serve` keeps them following the log.
    pub boards: LiveBoards,
    /// The names shown beside ranks; `serve` keeps them refreshed.
    pub names: NameDirectory,
    /// Programs' own Telegram bots, as this process last read them.
    pub program_bots: ProgramBots,
}

impl AppContext {
    /// Fails when the configured privacy key is unusable (see `PrivacyConfig::keys`).
    pub fn new(ledger: Ledger, pool: PgPool, config: ServeConfig) -> Result<Self, String> {
        let keys = config.privacy.keys(config.dev)?;
        let secrets = config.privacy.secret_box(config.dev)?;
        let accounts = Accounts::new(pool.clone(), keys);
        Ok(Self {
            program_bots: ProgramBots::new(pool.clone(), secrets.clone()),
            ingest: Ingest::new(ledger, pool.clone(), accounts, secrets)
                .with_instagram_graph(&config.instagram.graph_url)
                .map_err(|e| format!("the Instagram Graph API client: {e}"))?,
            boards: LiveBoards::new(pool.clone()),
            names: NameDirectory::new(pool.clone()),
            pool,
            config: Arc::new(config),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        self.ingest.ledger()
    }

    /// The keys secrets at rest are sealed with (channel secrets, raffle seeds).
    pub fn secrets(&self) -> &crate::secrets::SecretBox {
        self.ingest.channel_cache().secrets()
    }

    /// Where platform ids meet the log's account references.
    pub fn accounts(&self) -> &Accounts {
        self.ingest.accounts()
    }
}
