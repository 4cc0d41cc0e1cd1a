//! The `loyalty` binary.

use anyhow::Context;
use api::bench;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "loyalty",
    version,
    about = "Event-sourced loyalty ledger for Instagram, VK and Telegram communities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations (creates the event log).
    Migrate,
    /// Migrate, create a demo program and activity, and show balances folded from the log.
    Demo,
    /// Serve the HTTP API, webhooks and workers.
    Serve(api::config::ServeConfig),
    /// Run a benchmark workload; prints one JSON line.
    Bench {
        #[command(subcommand)]
        workload: Workload,
    },
}

#[derive(Subcommand)]
enum Workload {
    /// W1: concurrent award commands through the real decision and append path, then replay.
    AwardStorm {
        #[arg(long, default_value_t = 10_000)]
        members: usize,
        #[arg(long, default_value_t = 100_000)]
        commands: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// W2: signed webhooks through a real `loyalty serve`, fixed rate then maximum rate.
    WebhookIngest {
        #[arg(long, default_value_t = 20_000)]
        commenters: usize,
        /// Offered deliveries per second in the fixed-rate phase.
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        fixed_secs: u64,
        /// Deliveries sent as fast as possible in the second phase.
        #[arg(long, default_value_t = 40_000)]
        deliveries: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let database_url = api::db::resolve_database_url().await?;
    match cli.command {
        Command::Migrate => {
            let pool = store::connect(&database_url, 2).await?;
            store::MIGRATOR
                .run(&pool)
                .await
                .context("migration failed")?;
            eprintln!("migrations applied");
        }
        Command::Serve(config) => {
            let pool = store::connect(&database_url, config.db_connections).await?;
            store::MIGRATOR
                .run(&pool)
                .await
                .context("migration failed")?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            api::server::serve(listener, pool, config, api::server::shutdown_signal()).await?;
        }
        Command::Demo => {
            let pool = store::connect(&database_url, 8).await?;
            store::MIGRATOR
                .run(&pool)
                .await
                .context("migration failed")?;
            api::demo::seed(pool).await?;
        }
        Command::Bench { workload } => {
            let result = match workload {
                Workload::AwardStorm {
                    members,
                    commands,
                    concurrency,
                    seed,
                } => {
                    bench::award_storm::run(
                        &database_url,
                        bench::award_storm::Params {
                            members,
                            commands,
                            concurrency,
                            seed,
                        },
                    )
                    .await?
                }
                Workload::WebhookIngest {
                    commenters,
                    rate,
                    fixed_secs,
                    deliveries,
                    concurrency,
                    seed,
                } => {
                    bench::webhook_ingest::run(
                        &database_url,
                        bench::webhook_ingest::Params {
                            commenters,
                            fixed_rate: rate,
                            fixed_secs,
                            max_deliveries: deliveries,
                            concurrency,
                            seed,
                        },
                    )
                    .await?
                }
            };
            println!("{result}");
        }
    }
    Ok(())
}
