#![deny(clippy::unwrap_used, clippy::expect_used)]
//! The `loyalty` binary.

use anyhow::Context;
use app::config::{LogFormat, RetentionConfig, ServeConfig};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use secrecy::ExposeSecret;
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Migrate, create a demo program, start serving and drive live demo traffic.
    Demo(ServeConfig),
    /// Serve the HTTP API, webhooks and workers.
    Serve(ServeConfig),
    /// Read models: rebuild beside the live tables and swap, or show where each stands.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Auditors: prove balances from the log, see the past, export events.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Records kept only for operations: delete those past their retention.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Admin panel accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// A program's channels: connect an Instagram account, a VK group or a Telegram group or
    /// channel, list them with their health, disconnect one, or check one now.
    Channels {
        #[command(subcommand)]
        command: ChannelsCommand,
    },
    /// Programs' own Telegram bots (many brands in one deployment): give a program its bot,
    /// list them, take one away. A running `serve` starts or stops the bot within seconds.
    Bots {
        #[command(subcommand)]
        command: BotsCommand,
    },
    /// Secrets the database holds (VK secret keys, bot tokens), encrypted at rest.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// A member's personal data, for written requests: erase it, or export it as JSON.
    Members {
        #[command(subcommand)]
        command: MembersCommand,
    },
    /// Run a benchmark workload (`loyalty-bench`, built beside this binary); prints one JSON
    /// line. `loyalty bench --help` lists the workloads.
    #[command(disable_help_flag = true)]
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Which channel of which program.
#[derive(clap::Args)]
struct ChannelTarget {
    #[arg(long)]
    program: uuid::Uuid,
    /// instagram, vk or telegram.
    #[arg(long)]
    network: String,
    /// Instagram account id, VK group id, or Telegram group or channel chat id (negative).
    #[arg(long)]
    destination: String,
}

#[derive(Subcommand)]
enum ChannelsCommand {
    /// Connect a destination to a program, or change a VK group's secret key and confirmation
    /// string. Refused when another program has it.
    Add {
        #[command(flatten)]
        target: ChannelTarget,
        /// VK: the Callback API secret key (better from LOYALTY_CHANNEL_SECRET than the shell's
        /// history).
        #[arg(long, env = "LOYALTY_CHANNEL_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// VK: the confirmation string shown on the group's Callback API page.
        #[arg(long)]
        confirmation: Option<String>,
        /// Who is making the change, recorded with it.
        #[arg(long, default_value = "cli")]
        by: String,
        /// The keys the secret is sealed with, as `serve` has them.
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
    /// The program's channels with their health (last delivery, refused deliveries, the bot's
    /// role), as JSON.
    List {
        #[arg(long)]
        program: uuid::Uuid,
    },
    /// Disconnect one of the program's channels.
    Remove {
        #[command(flatten)]
        target: ChannelTarget,
        #[arg(long, default_value = "cli")]
        by: String,
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
    /// Check one channel now (a Telegram chat: ask Telegram whether the bot is an administrator)
    /// and print its state and problems as JSON; exits non-zero when there are problems.
    Check {
        #[command(flatten)]
        target: ChannelTarget,
        #[command(flatten)]
        telegram: app::config::TelegramConfig,
        /// The keys a program's own bot token is sealed with, as `serve` has them.
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
}

#[derive(Subcommand)]
enum BotsCommand {
    /// Give a program a bot of its own, or a new token for it. The token is checked with
    /// Telegram (`getMe`) first; a running `serve` then sets its webhook.
    Add {
        #[arg(long)]
        program: uuid::Uuid,
        /// The token BotFather gave (better from LOYALTY_PROGRAM_BOT_TOKEN than the shell's
        /// history).
        #[arg(long, env = "LOYALTY_PROGRAM_BOT_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long, default_value = "cli")]
        by: String,
        #[command(flatten)]
        telegram: app::config::TelegramConfig,
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
    /// Every program's bot (program, bot id, username; never a token), as JSON.
    List {
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
    /// Take a program's bot away: its webhook is refused from then on.
    Remove {
        #[arg(long)]
        program: uuid::Uuid,
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

async fn run_bots(pool: &sqlx::PgPool, command: BotsCommand) -> anyhow::Result<()> {
    match command {
        BotsCommand::Add {
            program,
            token,
            by,
            telegram,
            privacy,
        } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let added = loyalty::bots::add(pool, &secrets, program, &token, &telegram, &by).await?;
            println!("{}", serde_json::to_string(&added)?);
        }
        BotsCommand::List { privacy } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let list = loyalty::bots::list(pool, &secrets).await?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        BotsCommand::Remove { program, by } => {
            let (bot_id, username) =
                app::program_bots::remove(pool, domain::ids::ProgramId(program), &by).await?;
            println!("removed bot {bot_id} (@{username})");
        }
    }
    Ok(())
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Seal every stored secret with the current key (the first of secrets_keys): after
    /// adding a new key in front, run this (or restart `serve`, which does it), then drop the
    /// old key. Prints how many were sealed again; fails naming any that no key opens.
    Rotate {
        #[command(flatten)]
        privacy: app::config::PrivacyConfig,
    },
}

#[derive(Subcommand)]
enum MembersCommand {
    /// Delete the member's personal data (accounts, names, chats, notification records) and
    /// append one MemberErased event; the points history stays as an anonymous member's.
    /// Erasing again changes nothing. Prints what was done as JSON.
    Erase {
        /// The member's id (the admin panel's member card shows it).
        #[arg(long)]
        member: uuid::Uuid,
        /// The ground: manager-request (a written request), legal-order or other.
        #[arg(long, value_parser = parse_reason)]
        reason: domain::event::ErasureReason,
        /// Who is erasing, recorded as the event's actor.
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Print everything the program holds about the member as JSON.
    Export {
        #[arg(long)]
        member: uuid::Uuid,
    },
}

async fn run_channels(pool: &sqlx::PgPool, command: ChannelsCommand) -> anyhow::Result<()> {
    use loyalty::channels;
    match command {
        ChannelsCommand::Add {
            target,
            secret,
            confirmation,
            by,
            privacy,
        } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let request = app::channels::ChannelRequest {
                network: target.network,
                destination: target.destination,
                secret,
                confirmation,
            };
            let outcome = channels::add(pool, secrets, target.program, &request, &by).await?;
            println!("{}", serde_json::to_string(&outcome)?);
        }
        ChannelsCommand::List { program } => {
            let list = channels::list(pool, program).await?;
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        ChannelsCommand::Remove {
            target,
            by,
            privacy,
        } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let ChannelTarget {
                program,
                network,
                destination,
            } = target;
            channels::remove(pool, secrets, program, &network, &destination, &by).await?;
            println!("disconnected");
        }
        ChannelsCommand::Check {
            target,
            telegram,
            privacy,
        } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let ChannelTarget {
                program,
                network,
                destination,
            } = target;
            let check =
                channels::check(pool, &secrets, program, &network, &destination, &telegram).await?;
            println!("{}", serde_json::to_string_pretty(&check)?);
            if !check.problems.is_empty() {
                anyhow::bail!("{} problem(s) found", check.problems.len());
            }
        }
    }
    Ok(())
}

fn parse_reason(s: &str) -> Result<domain::event::ErasureReason, String> {
    domain::event::ErasureReason::parse(s)
        .filter(|r| *r != domain::event::ErasureReason::MemberRequest)
        .ok_or_else(|| "expected manager-request, legal-order or other".to_string())
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin panel account. The password is read from LOYALTY_ADMIN_PASSWORD or asked on stdin.
    CreateUser {
        username: String,
        #[arg(long)]
        role: api::admin::Role,
        /// Limit a manager or auditor to this program (repeat for several); default: every program.
        #[arg(long = "program", value_name = "PROGRAM_ID")]
        programs: Vec<uuid::Uuid>,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Delete them now, as `serve` does every hour, and print the rows deleted per table.
    Run {
        /// `serve`'s TOML config file: its retention keys apply under flags and variables.
        #[arg(long = "config", env = "LOYALTY_CONFIG", value_name = "FILE")]
        config_file: Option<std::path::PathBuf>,
        #[command(flatten)]
        retention: RetentionConfig,
    },
}

/// How a long pass over the log shows its progress on stderr.
#[derive(clap::Args)]
struct ProgressArgs {
    /// Seconds between progress lines when stderr is not a terminal (a terminal gets a bar).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    progress_every: f64,
}

impl ProgressArgs {
    fn show(&self, what: &'static str) -> (Arc<projections::Progress>, loyalty::progress::Shown) {
        let progress = Arc::new(projections::Progress::default());
        let every = std::time::Duration::try_from_secs_f64(self.progress_every)
            .unwrap_or(std::time::Duration::from_secs(10));
        let shown = loyalty::progress::show(what, progress.clone(), every);
        (progress, shown)
    }
}

#[derive(Subcommand)]
enum ProjectionsCommand {
    /// Rebuild one projection (or all) from position 0 without taking reads down.
    Rebuild {
        name: Option<String>,
        #[command(flatten)]
        progress: ProgressArgs,
    },
    /// Each projection's checkpoint and lag.
    Status,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Fold the whole log through the domain and compare with every read model; check every
    /// stream's hash chain and the log's seal. Exits non-zero on any difference.
    Verify {
        /// An anchor from `audit anchor`: the log must still hold exactly the history up to it.
        #[arg(long, value_name = "FILE")]
        anchor: Option<std::path::PathBuf>,
        /// Members whose state one pass over the log holds in memory (about 1.7 KB each); a
        /// log with more members is read once more for each further slice of them.
        #[arg(long, default_value_t = projections::audit::MEMBERS_PER_PASS,
              value_parser = clap::value_parser!(u64).range(1..))]
        members_per_pass: u64,
        #[command(flatten)]
        progress: ProgressArgs,
    },
    /// Seal the log up to now and print its head (block, position, events, digest) as JSON,
    /// for an auditor to keep outside the database.
    Anchor,
    /// A member's balance and history as they stood at a time.
    AsOf {
        #[arg(long)]
        member: uuid::Uuid,
        /// RFC 3339 time, e.g. 2026-11-23T12:00:00Z.
        #[arg(long)]
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Recompute a raffle's draw from the log and its revealed seed: the seed must hash to the
    /// commitment published at the start and give the recorded winners; an activity raffle's
    /// entries must be those the log records for its period. Prints the proof as JSON; exits
    /// non-zero when it does not hold.
    Raffle {
        /// The raffle's id.
        raffle: uuid::Uuid,
    },
    /// Write events as JSON Lines (default) or CSV to standard output.
    Export {
        #[arg(long)]
        program: Option<uuid::Uuid>,
        #[arg(long)]
        stream: Option<String>,
        #[arg(long = "type")]
        event_type: Option<String>,
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
        format: String,
    },
}

/// Errors end the process with one line on stderr (the error and its causes), never a
/// backtrace: an operator reads it, not a developer.
#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("loyalty: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `serve` and `demo` read their config file under their flags and environment variables.
    let command = match cli.command {
        Command::Bench { args } => return run_bench(&args),
        Command::Serve(config) => Command::Serve(with_config_file(config, &matches, "serve")?),
        Command::Demo(config) => Command::Demo(with_config_file(config, &matches, "demo")?),
        other => other,
    };
    let (log, log_format, configured_database) = match &command {
        Command::Serve(config) | Command::Demo(config) => {
            if config.check_config {
                println!("{config:#?}");
                return Ok(());
            }
            if matches!(command, Command::Serve(_)) && config.database.url.is_none() && !config.dev
            {
                anyhow::bail!(
                    "no database configured: set DATABASE_URL (or --database-url, or \
                     database_url in the config file) to the PostgreSQL this program's ledger \
                     lives in. To try the product on a local or private database, run \
                     `loyalty demo` or `loyalty serve --dev`."
                );
            }
            if matches!(command, Command::Serve(_)) {
                config
                    .privacy
                    .keys(config.dev)
                    .map_err(anyhow::Error::msg)?;
            }
            (
                config.log.clone(),
                config.log_format,
                config
                    .database
                    .url
                    .as_ref()
                    .map(|url| url.expose_secret().to_string()),
            )
        }
        _ => (
            std::env::var("RUST_LOG").ok(),
            LogFormat::Text,
            std::env::var("DATABASE_URL").ok(),
        ),
    };
    let filter = log.as_deref().unwrap_or("info");
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let database_url =
        loyalty::db::resolve_configured_database_url(configured_database.as_deref()).await?;
    match command {
        Command::Migrate => {
            connect_migrated(&database_url, 2).await?;
            eprintln!("migrations applied");
        }
        Command::Serve(config) => {
            // The owner's pool migrates; `serve` opens its own pool as the service role.
            let pool = connect_migrated(&database_url, 2).await?;
            let listener = tokio::net::TcpListener::bind(config.http.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.http.listen))?;
            loyalty::server::serve(listener, pool, config, loyalty::server::shutdown_signal())
                .await?;
        }
        Command::Admin {
            command:
                AdminCommand::CreateUser {
                    username,
                    role,
                    programs,
                },
        } => {
            let password = match std::env::var("LOYALTY_ADMIN_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprint!("password for {username}: ");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            if role == api::admin::Role::Admin && !programs.is_empty() {
                anyhow::bail!("admin accounts manage every program and cannot be limited to some");
            }
            let pool = connect_migrated(&database_url, 2).await?;
            let mut user =
                api::admin::create_user(&pool, "cli", &username, &password, role).await?;
            if !programs.is_empty() {
                let limit = api::admin::auth::users::UserChange {
                    programs: Some(Some(programs)),
                    ..Default::default()
                };
                user = api::admin::auth::users::update_user(&pool, "cli", &user.username, limit)
                    .await?;
            }
            println!("created {user:?}");
        }
        Command::Channels { command } => {
            let pool = connect_migrated(&database_url, 2).await?;
            run_channels(&pool, command).await?;
        }
        Command::Bots { command } => {
            let pool = connect_migrated(&database_url, 2).await?;
            run_bots(&pool, command).await?;
        }
        Command::Secrets {
            command: SecretsCommand::Rotate { privacy },
        } => {
            let secrets = privacy.secret_box(false).map_err(anyhow::Error::msg)?;
            let pool = connect_migrated(&database_url, 2).await?;
            let report = app::secrets::reseal_all(&pool, &secrets).await?;
            println!(
                "{}",
                serde_json::json!({"key": secrets.current_key_id(), "resealed": report.resealed,
                                   "unreadable": report.unreadable})
            );
            anyhow::ensure!(
                report.unreadable.is_empty(),
                "stored secrets no configured key opens: {}",
                report.unreadable.join("; ")
            );
        }
        Command::Members { command } => {
            let pool = connect_migrated(&database_url, 2).await?;
            let json = match command {
                MembersCommand::Erase { member, reason, by } => {
                    let erased = loyalty::members::erase(&pool, member, reason, &by).await?;
                    serde_json::to_string_pretty(&erased)?
                }
                MembersCommand::Export { member } => {
                    serde_json::to_string_pretty(&loyalty::members::export(&pool, member).await?)?
                }
            };
            println!("{json}");
        }
        Command::Retention {
            command:
                RetentionCommand::Run {
                    config_file,
                    retention,
                },
        } => {
            let retention = match config_file {
                Some(path) => {
                    let given = matches
                        .subcommand_matches("retention")
                        .and_then(|m| m.subcommand_matches("run"))
                        .context("no arguments parsed for retention run")?;
                    retention.with_config_file(&path, &|id| {
                        matches!(
                            given.value_source(id),
                            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
                        )
                    })?
                }
                None => retention,
            };
            let pool = connect_migrated(&database_url, 2).await?;
            let report = app::retention::purge_once(&pool, &retention, chrono::Utc::now()).await?;
            anyhow::ensure!(
                report.ran,
                "another process is purging right now; nothing was deleted"
            );
            for (table, rows) in &report.deleted {
                println!("{table}\t{rows}");
            }
        }
        Command::Projections { command } => {
            let pool = connect_migrated(&database_url, 4).await?;
            match command {
                ProjectionsCommand::Rebuild { name, progress } => {
                    let selected = projections::Projection::selected(name.as_deref())?;
                    let (progress, shown) = progress.show("projections rebuild");
                    let options = projections::rebuild::RebuildOptions {
                        progress,
                        ..Default::default()
                    };
                    let report =
                        projections::rebuild::rebuild_with(&pool, &selected, &options).await;
                    shown.finish().await;
                    println!("{:?}", report?);
                }
                ProjectionsCommand::Status => {
                    let statuses = projections::status(&pool).await?;
                    projections::status::write_status(&statuses, &mut std::io::stdout())?;
                }
            }
        }
        Command::Audit { command } => {
            let pool = connect_migrated(&database_url, 4).await?;
            match command {
                AuditCommand::Verify {
                    anchor,
                    members_per_pass,
                    progress,
                } => {
                    let anchor = match anchor {
                        Some(path) => {
                            let text = std::fs::read_to_string(&path)
                                .with_context(|| format!("cannot read {}", path.display()))?;
                            Some(projections::audit::read_anchor(&text)?)
                        }
                        None => None,
                    };
                    let (progress, shown) = progress.show("audit verify");
                    let report = projections::audit::verify_with(
                        &pool,
                        anchor.as_ref(),
                        &progress,
                        members_per_pass,
                    )
                    .await;
                    shown.finish().await;
                    let report = report?;
                    report.write_text(&mut std::io::stdout())?;
                    if !report.is_clean() {
                        std::process::exit(1);
                    }
                }
                AuditCommand::Anchor => {
                    let store = store::EventStore::new(pool);
                    let anchor = projections::audit::anchor(&store)
                        .await?
                        .context("the log is empty: there is nothing to anchor")?;
                    println!("{}", serde_json::to_string_pretty(&anchor)?);
                }
                AuditCommand::AsOf { member, at } => {
                    let store = store::EventStore::new(pool);
                    let as_of = projections::audit::as_of(&store, member, at).await?;
                    projections::audit::write_as_of(&as_of, &mut std::io::stdout())?;
                }
                AuditCommand::Raffle { raffle } => {
                    let store = store::EventStore::new(pool);
                    let settle = app::LedgerConfig::default().raffle_settle;
                    let (state, proof) =
                        app::raffles::audit(&store, domain::ids::RaffleId(raffle), settle)
                            .await?
                            .context("no raffle with this id in the log")?;
                    let report = serde_json::json!({
                        "raffle_id": raffle,
                        "title": state.title,
                        "winners_wanted": state.winners,
                        "proof": proof,
                    });
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    if proof.entries_match_log == Some(false) {
                        eprintln!(
                            "the raffle's entries do NOT match the activity the log records \
                             for its period"
                        );
                        std::process::exit(1);
                    }
                    match proof.verified {
                        Some(true) => eprintln!("the draw checks out"),
                        Some(false) => {
                            eprintln!("the draw does NOT match its seed and tickets");
                            std::process::exit(1);
                        }
                        None => eprintln!("not drawn yet: only the commitment is published"),
                    }
                }
                AuditCommand::Export {
                    program,
                    stream,
                    event_type,
                    from,
                    to,
                    format,
                } => {
                    let filter = projections::audit::ExportFilter {
                        program,
                        stream,
                        event_type,
                        from,
                        to,
                    };
                    let format = if format == "csv" {
                        projections::audit::ExportFormat::Csv
                    } else {
                        projections::audit::ExportFormat::JsonLines
                    };
                    let mut out = std::io::BufWriter::new(std::io::stdout());
                    let n = projections::audit::export(&pool, &filter, format, &mut out).await?;
                    std::io::Write::flush(&mut out)?;
                    eprintln!("{n} events exported");
                }
            }
        }
        Command::Demo(config) => {
            let config = loyalty::demo::demo_config(config);
            let pool = connect_migrated(&database_url, 2).await?;
            let secrets = config
                .privacy
                .secret_box(config.dev)
                .map_err(anyhow::Error::msg)?;
            let program = loyalty::demo::seed(&pool, &secrets).await?;
            let (admin, password) = loyalty::demo::admin_login(&pool).await?;
            let listener = tokio::net::TcpListener::bind(config.http.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.http.listen))?;
            let base = format!("http://{}", listener.local_addr()?);
            println!("demo program {program} is live at {base}");
            println!("  Mini App (development sign-in): {base}/app");
            println!(
                "  Admin panel:                    {base}/admin  (login {admin} / {password})"
            );
            println!("  OpenAPI:                        {base}/api/openapi.json");
            println!("  Metrics:                        {base}/metrics");
            println!(
                "simulated Instagram, VK and Telegram activity arrives every second; Ctrl-C stops"
            );
            tokio::spawn(loyalty::demo::drive_traffic(base, config.clone()));
            loyalty::server::serve(listener, pool, config, loyalty::server::shutdown_signal())
                .await?;
        }
        // Run before connecting: the bench binary opens its own databases.
        Command::Bench { .. } => {}
    }
    Ok(())
}

/// Layers the config file (`--config` / `LOYALTY_CONFIG`) of `serve` or `demo` under its flags
/// and environment variables.
fn with_config_file(
    config: ServeConfig,
    matches: &ArgMatches,
    subcommand: &str,
) -> anyhow::Result<ServeConfig> {
    let matches = matches
        .subcommand_matches(subcommand)
        .with_context(|| format!("no arguments parsed for {subcommand}"))?;
    Ok(config.with_config_file(matches)?)
}

/// Every command works on a migrated database: connect and apply pending migrations. With none
/// pending nothing is run, so a login role that may not change the schema (a member of
/// `loyalty_service`) can start `serve` once the owner has run `loyalty migrate`. A database a
/// newer build has migrated is refused: this build does not know what its schema now means.
async fn connect_migrated(database_url: &str, connections: u32) -> anyhow::Result<sqlx::PgPool> {
    let pool = store::connect(database_url, connections, 0).await?;
    // No table yet is a new database: nothing applied.
    let applied: Vec<(i64, bool)> = sqlx::query_as("SELECT version, success FROM _sqlx_migrations")
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
    let known = |version: i64| store::MIGRATOR.iter().any(|m| m.version == version);
    let newest_known = store::MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(unknown) = applied
        .iter()
        .map(|(version, _)| *version)
        .filter(|version| !known(*version))
        .max()
    {
        if unknown > newest_known {
            anyhow::bail!(
                "the database was migrated by a newer build of loyalty (migration {unknown}; \
                 this build knows migrations up to {newest_known}): run that build or a newer one"
            );
        }
        anyhow::bail!(
            "the database holds migration {unknown}, which this build of loyalty does not have: \
             run the build that applied it"
        );
    }
    let pending = store::MIGRATOR
        .iter()
        .any(|m| !m.migration_type.is_down_migration() && !applied.contains(&(m.version, true)));
    if pending {
        store::MIGRATOR
            .run(&pool)
            .await
            .context("migration failed (migrations run as the owner of the tables)")?;
    }
    let moved = store::catch_up_clock(&pool)
        .await
        .context("cannot check the log's clock")?;
    if moved > 0 {
        tracing::warn!(
            moved,
            "the log is ahead of this server's transaction ids (restored from another server): \
             its clock moved past the newest event"
        );
    }
    Ok(pool)
}

/// The benches live in their own binary, so the production one carries none of their code;
/// `loyalty bench` runs it from the directory this binary is in.
fn run_bench(args: &[String]) -> anyhow::Result<()> {
    let bench = loyalty::sibling_binary("loyalty-bench", "bench")?;
    let status = std::process::Command::new(&bench)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", bench.display()))?;
    std::process::exit(status.code().unwrap_or(1));
}
