//! `loyalty-bench`: the benchmark workloads, in their own binary so the production binary
//! carries none of their code. `loyalty bench …` runs it.

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs one workload and prints one JSON line.
#[derive(Parser)]
#[command(name = "loyalty bench", bin_name = "loyalty bench", version)]
struct Cli {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// W1: concurrent award commands through the real decision and append path, then replay.
    AwardStorm(bench::award_storm::Params),
    /// W3: a 1,000,000-event log loaded with COPY, every read model rebuilt from 0, then the audit.
    Rebuild(bench::rebuild::Params),
    /// A large log (10,000,000 events over 20 programs by default) loaded with COPY, every read
    /// model rebuilt and the log audited by `loyalty`; the database stays for `--on-log`.
    LargeLog(bench::large_log::Params),
    /// W4: top 100 and my rank at 1,000,000 members (read model, or over HTTP), then staleness.
    Leaderboard(bench::leaderboard::Params),
    /// W2: signed webhooks through a real `loyalty serve`, fixed rate then maximum rate.
    WebhookIngest(bench::webhook_ingest::Params),
    /// The admin panel's members list at 1,000,000 members over HTTP: every sort and filter, paged.
    MembersList(bench::members_list::Params),
    /// The Mini App's first screen in headless Chromium at 4x CPU slowdown, cold and warm cache.
    MiniAppPaint(bench::mini_app_paint::Params),
    /// One broadcast to 100,000 members through `serve` and a fake Bot API enforcing Telegram's limits.
    Broadcast(bench::broadcast::Params),
    /// A manager's CSV of 250,000 adjustments through `serve`: the dry run, then applying it.
    BulkAdjust(bench::bulk_adjust::Params),
    /// PostgreSQL's own limits here: single-row inserts from 16 clients, ordered read of 1,000,000 rows.
    Limits(bench::limits::Params),
}
#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("loyalty bench: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let database_url = loyalty::db::resolve_database_url().await?;
    let result = match cli.workload {
        Workload::AwardStorm(p) => bench::award_storm::run(&database_url, p).await?,
        Workload::Rebuild(p) => bench::rebuild::run(&database_url, p).await?,
        Workload::LargeLog(p) => bench::large_log::run(&database_url, p).await?,
        Workload::Leaderboard(p) => bench::leaderboard::run(&database_url, p).await?,
        Workload::WebhookIngest(p) => bench::webhook_ingest::run(&database_url, p).await?,
        Workload::MembersList(p) => bench::members_list::run(&database_url, p).await?,
        Workload::MiniAppPaint(p) => bench::mini_app_paint::run(&database_url, p).await?,
        Workload::Broadcast(p) => bench::broadcast::run(&database_url, p).await?,
        Workload::BulkAdjust(p) => bench::bulk_adjust::run(&database_url, p).await?,
        Workload::Limits(p) => bench::limits::run(&database_url, p).await?,
    };
    println!("{result}");
    Ok(())
}
