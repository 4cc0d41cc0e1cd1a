//! `loyalty serve`: the HTTP API, webhook routes and workers in one process. Built in a function
//! that takes the listener, pool, config and a shutdown signal, so tests run it on port 0.

use anyhow::Context;
use api::{AppState, router};
use app::config::ServeConfig;
use app::{Ledger, LedgerConfig};
use sqlx::PgPool;
use std::future::Future;
use std::time::Duration;
use store::EventStore;
use tokio::net::TcpListener;

/// How often other processes' appends are relayed as one NOTIFY at most.
const NOTIFY_INTERVAL: Duration = Duration::from_millis(5);
/// The in-memory leaderboards look at the log at least this often (appends wake them sooner).
const BOARDS_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A board nobody asked for in this long is dropped (finished weeks and months go this way).
const BOARDS_IDLE: Duration = Duration::from_secs(15 * 60);
/// How often the name directory re-reads the profiles changed since it last looked.
const NAMES_REFRESH_INTERVAL: Duration = Duration::from_secs(2);
/// How often it reads a program whole, for what no profile change shows (unlinks, claims,
/// deleted profiles).
const NAMES_RELOAD_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// A program whose names nobody asked for in this long leaves memory, like an idle board.
const NAMES_IDLE: Duration = BOARDS_IDLE;

pub async fn serve(
    listener: TcpListener,
    pool: PgPool,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Everything the server does, it does as the service role: it may append events and seal
    // blocks but not change or remove them. `pool` (the owner's) only names the database.
    let pool = store::connect_as_service(
        &pool.connect_options(),
        config.database.connections,
        config.database.connections,
    )
    .await
    .with_context(|| {
        format!(
            "serve works as the role {}: the user of the database URL must be a superuser or \
             a member of it (`loyalty migrate` creates it)",
            store::SERVICE_ROLE
        )
    })?;
    let metrics_listener = match config.http.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (metrics_listen)"))?,
        ),
        None => None,
    };
    if store::upcast::is_legacy_log(&pool).await? {
        anyhow::bail!(
            "this database's event log was started by a build before event schema version {}: \
             its events name accounts by platform id, and new events could not meet them. \
             Start a new database (see docs/privacy.md)",
            domain::Event::SCHEMA_VERSION
        );
    }
    reseal_secrets(&pool, &config).await?;
    let store = EventStore::new(pool.clone());
    let relay = store
        .wake()
        .spawn_notify_relay(pool.clone(), NOTIFY_INTERVAL);
    let listener_task = store.wake().spawn_listener(pool.clone());
    let (stop_workers, stopped) = tokio::sync::watch::channel(false);
    // Projections follow the same store the ledger appends through, so each append wakes them.
    let projections = config.projections.then(|| {
        projections::runner::spawn(
            &store,
            projections::RunnerConfig::default(),
            stopped.clone(),
        )
    });
    // The sealer goes with the projection workers: whichever process runs those seals the log.
    let sealer = config.projections.then(|| {
        projections::seal::spawn(
            &store,
            projections::seal::SealConfig::default(),
            stopped.clone(),
        )
    });
    // Every process runs it; an advisory lock lets one purge at a time.
    let retention = app::retention::spawn(pool.clone(), config.retention.clone(), stopped.clone());
    let runs_projections = config.projections;
    let board_wake = store.wake().subscribe();
    let ledger = Ledger::new(store, LedgerConfig::default());
    let context = app::AppContext::new(ledger, pool, config).map_err(anyhow::Error::msg)?;
    let state = AppState::new(context);
    let metrics = metrics_listener.map(|listener| {
        let router = api::metrics_router(state.clone());
        tracing::info!(addr = ?listener.local_addr().ok(), "serving /metrics");
        tokio::spawn(async move { axum::serve(listener, router).await })
    });
    let boards = tokio::spawn(state.boards.clone().follow(
        board_wake,
        BOARDS_POLL_INTERVAL,
        BOARDS_IDLE,
        stopped.clone(),
    ));
    let names = tokio::spawn(state.names.clone().follow(
        NAMES_REFRESH_INTERVAL,
        NAMES_RELOAD_INTERVAL,
        NAMES_IDLE,
        stopped.clone(),
    ));
    for handle in projections.iter().flat_map(|running| &running.handles) {
        state.readiness.watch("projections", handle.abort_handle());
    }
    state.readiness.watch("leaderboards", boards.abort_handle());
    state.readiness.watch("names", names.abort_handle());
    // Names go with the projection workers: one process fetches them for the installation.
    let vk_names = runs_projections
        .then(|| bot::vk_names::spawn(&state, stopped.clone()))
        .flatten();
    // The tier keeper reads the read models the projections keep; an advisory lock lets one
    // process place members at a time.
    let tier_keeper = runs_projections
        .then(|| app::tiers::spawn(state.ledger().clone(), state.pool.clone(), stopped.clone()));
    // The expiry job, beside it: one process at a time too.
    let expiry_job = runs_projections
        .then(|| app::expiry::spawn(state.ledger().clone(), state.pool.clone(), stopped.clone()));
    // The season job, beside them: ends seasons and pays their prizes, one process at a time.
    let season_job = runs_projections
        .then(|| app::seasons::spawn(state.ledger().clone(), state.pool.clone(), stopped.clone()));
    let bot = bot::spawn(&state, stopped);
    let live = state.live.clone();
    tracing::info!(addr = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Open live streams would keep the graceful shutdown waiting for ever.
        live.close();
    })
    .await?;
    // In-flight requests are done; let each worker finish its current batch.
    let _ = stop_workers.send(true);
    let workers = projections
        .map(|running| running.handles)
        .unwrap_or_default();
    for handle in workers
        .into_iter()
        .chain(sealer)
        .chain(vk_names)
        .chain(tier_keeper)
        .chain(expiry_job)
        .chain(season_job)
        .chain(bot)
        .chain([boards, names, retention])
    {
        let _ = handle.await;
    }
    relay.abort();
    listener_task.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Secrets in the database are sealed with the current key before serving: plaintexts from
/// before encryption and values of a rotated-out key. A secret no configured key opens stops
/// `serve`, naming the channel and the key it needs.
pub async fn reseal_secrets(pool: &PgPool, config: &ServeConfig) -> anyhow::Result<()> {
    let secrets = config
        .privacy
        .secret_box(config.dev)
        .map_err(anyhow::Error::msg)?;
    let report = app::secrets::reseal_all(pool, &secrets).await?;
    if !report.unreadable.is_empty() {
        anyhow::bail!(
            "stored secrets this server cannot open: {}",
            report.unreadable.join("; ")
        );
    }
    if report.resealed > 0 {
        tracing::info!(
            resealed = report.resealed,
            key = secrets.current_key_id(),
            "secrets sealed again with the current key"
        );
    }
    Ok(())
}
