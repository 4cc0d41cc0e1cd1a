//! Broadcast: one broadcast to N members through a real `loyalty serve` child process and a
//! local fake Bot API that enforces Telegram's limits: at most `--rate` messages in any
//! second (by arrival) and one a second per chat; a message past either limit is refused
//! with a 429 and `retry_after`, as Telegram refuses it, and counted as a breach.
//!
//! The audience is written straight into the tables its query reads (accounts, identities,
//! balances, bot chats), N members who started the bot. Reports the completion time against
//! what the limit allows (N / rate), breaches, and chats that got the message twice.
//! With `--kill-at F` the server is SIGKILLed once a fraction F of the recipients was sent
//! and started again: the new server marks the requests that were in flight `unknown` and
//! sends the rest, so no chat may get two messages.

use crate::{ServeChild, copy_rows, fresh_database, round2};
use anyhow::Context;
use app::broadcasts::{Audience, Draft};
use app::ledger::{Ledger, LedgerConfig};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use domain::ids::ProgramId;
use domain::program::Rules;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::EventStore;
use uuid::Uuid;

const BOT_TOKEN: &str = "7000000099:AAbenchBroadcastTokenNotARealOne_00";
/// The first recipient's chat id; the rest follow.
const FIRST_CHAT: i64 = 6_000_000_000;

#[derive(Debug, Clone, clap::Args)]
pub struct Params {
    #[arg(long, default_value_t = 100_000)]
    pub recipients: usize,
    /// Messages a second: the fake's limit and the server's (`LOYALTY_TELEGRAM_MESSAGES_PER_SECOND`).
    #[arg(long, default_value_t = 30)]
    pub rate: u32,
    /// The fake's answer time for each request, in milliseconds.
    #[arg(long, default_value_t = 40)]
    pub latency_ms: u64,
    /// SIGKILL the server when this fraction of recipients was sent, then start it again.
    #[arg(long)]
    pub kill_at: Option<f64>,
    /// The database the bench creates afresh (two runs at once need two).
    #[arg(long, default_value = "loyalty_bench_broadcast")]
    pub database: String,
}

/// What the fake Bot API saw.
#[derive(Default)]
struct Fake {
    rate: usize,
    latency: Duration,
    /// Arrival times of the messages accepted in the last second.
    window: VecDeque<Instant>,
    last_by_chat: HashMap<i64, Instant>,
    delivered: HashMap<i64, u32>,
    breaches: u64,
    accepted: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Fake {
    /// `Ok` if the message fits both limits at `now` (and counts it), else the wait.
    fn admit(&mut self, chat: i64, now: Instant) -> Result<(), u64> {
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.window.pop_front();
        }
        let chat_busy = self
            .last_by_chat
            .get(&chat)
            .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(1));
        if self.window.len() >= self.rate || chat_busy {
            self.breaches += 1;
            return Err(1);
        }
        self.window.push_back(now);
        self.last_by_chat.insert(chat, now);
        *self.delivered.entry(chat).or_default() += 1;
        self.accepted += 1;
        self.first.get_or_insert(now);
        self.last = Some(now);
        Ok(())
    }
}

type Shared = Arc<Mutex<Fake>>;

async fn send_message(
    State(fake): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let chat = body["chat_id"].as_i64().unwrap_or_default();
    let (admitted, latency, id) = {
        let mut fake = fake.lock().unwrap_or_else(|p| p.into_inner());
        let admitted = fake.admit(chat, Instant::now());
        (admitted, fake.latency, fake.accepted)
    };
    tokio::time::sleep(latency).await;
    match admitted {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"ok": true, "result": {"message_id": id, "date": 0,
                         "chat": {"id": chat, "type": "private"}}})),
        ),
        Err(retry_after) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {retry_after}"),
                        "parameters": {"retry_after": retry_after}})),
        ),
    }
}

/// Starts the fake on a free port; answers its base URL.
async fn start_fake(fake: Shared) -> anyhow::Result<String> {
    let router = axum::Router::new()
        .route(&format!("/bot{BOT_TOKEN}/sendMessage"), post(send_message))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(base)
}

/// N members of a fresh program who started the bot, straight into the audience's tables.
async fn seed(pool: &sqlx::PgPool, n: usize) -> anyhow::Result<ProgramId> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let program = ProgramId(Uuid::new_v4());
    let action = crate::bench_manager();
    ledger
        .create_program(
            program,
            "Bench brand",
            chrono_tz::UTC,
            Rules::standard(),
            &action,
        )
        .await?;
    let now = Utc::now().to_rfc3339();
    let (mut accounts, mut identities, mut balances, mut chats) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let (account, member) = (Uuid::new_v4(), Uuid::new_v4());
        let chat = FIRST_CHAT + i as i64;
        let p = program.0;
        accounts.extend_from_slice(format!("{account}\t{p}\ttelegram\t\t{chat}\n").as_bytes());
        identities.extend_from_slice(
            format!("{p}\ttelegram\t{account}\t{member}\tobserved\t{now}\n").as_bytes(),
        );
        balances.extend_from_slice(format!("{p}\t{member}\t{now}\t{now}\n").as_bytes());
        chats.extend_from_slice(format!("{chat}\tru\t{now}\n").as_bytes());
    }
    let mut conn = pool.acquire().await?;
    for (statement, rows) in [
        (
            "COPY external_accounts (account_ref, program_id, network, scope, platform_id) FROM STDIN",
            &accounts,
        ),
        (
            "COPY identities (program_id, network, account_ref, member_id, method, linked_at) FROM STDIN",
            &identities,
        ),
        (
            "COPY balances (program_id, member_id, registered_at, updated_at) FROM STDIN",
            &balances,
        ),
        (
            "COPY bot_chats (user_id, language_code, started_at) FROM STDIN",
            &chats,
        ),
    ] {
        copy_rows(&mut conn, statement, rows).await?;
    }
    crate::vacuum_analyze(
        &mut conn,
        &["external_accounts", "identities", "balances", "bot_chats"],
    )
    .await?;
    Ok(program)
}

async fn sent_so_far(pool: &sqlx::PgPool, id: Uuid) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'sent'",
    )
    .bind(id)
    .fetch_one(pool)
    .await?)
}

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<Value> {
    anyhow::ensure!(p.recipients > 0, "--recipients must be at least 1");
    anyhow::ensure!(
        p.kill_at.is_none_or(|f| f > 0.0 && f < 1.0),
        "--kill-at is a fraction between 0 and 1"
    );
    let pool = fresh_database(database_url, &p.database).await?;
    let program = seed(&pool, p.recipients).await?;
    let fake: Shared = Arc::new(Mutex::new(Fake {
        rate: p.rate as usize,
        latency: Duration::from_millis(p.latency_ms),
        ..Fake::default()
    }));
    let api = start_fake(fake.clone()).await?;
    let rate = p.rate.to_string();
    let env = [
        ("LOYALTY_TELEGRAM_BOT_TOKEN", BOT_TOKEN),
        ("LOYALTY_TELEGRAM_API_URL", api.as_str()),
        ("LOYALTY_TELEGRAM_MESSAGES_PER_SECOND", rate.as_str()),
    ];
    let (mut server, _) = ServeChild::start(database_url, &p.database, &env).await?;

    let id = Uuid::new_v4();
    let draft = Draft {
        text: "Новое кодовое слово недели — ЗЕРНО. Напишите его в комментариях под постом!".into(),
        image_url: None,
        button_label: None,
        audience: Audience::default(),
        send_at: None,
    };
    let started = Instant::now();
    app::broadcasts::create(&pool, program, id, &draft, "manager:bench", Utc::now()).await?;
    let mut killed = None;
    let mut restart_ms = None;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let status: String =
            sqlx::query_scalar("SELECT status FROM broadcasts WHERE broadcast_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await?;
        if status == "done" {
            break;
        }
        if let (Some(at), None) = (p.kill_at, killed) {
            let sent = sent_so_far(&pool, id).await?;
            if sent as f64 >= at * p.recipients as f64 {
                server.kill().await?;
                killed = Some(sent);
                let again = Instant::now();
                server = ServeChild::start(database_url, &p.database, &env).await?.0;
                restart_ms = Some(again.elapsed().as_millis());
            }
        }
        anyhow::ensure!(
            started.elapsed()
                < Duration::from_secs(3 * p.recipients as u64 / u64::from(p.rate) + 120),
            "the broadcast did not finish in three times the time its limit allows"
        );
    }
    let wall = started.elapsed();
    drop(server);
    let progress = app::broadcasts::get(&pool, program, id)
        .await?
        .context("the broadcast vanished")?
        .progress;
    let fake = fake.lock().unwrap_or_else(|p| p.into_inner());
    let duplicates = fake.delivered.values().filter(|n| **n > 1).count();
    let span = match (fake.first, fake.last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    // N messages at R a second: the first R go at once, the last one (N - R) / R s later.
    let allowed = (p.recipients.saturating_sub(p.rate as usize)) as f64 / f64::from(p.rate);
    Ok(json!({
        "workload": "broadcast",
        "recipients": p.recipients,
        "rate_per_s": p.rate,
        "fake_latency_ms": p.latency_ms,
        "first_to_last_message_s": round2(span),
        "limit_allows_s": round2(allowed),
        "completion_vs_limit": if allowed > 0.0 { round2(span / allowed) } else { 0.0 },
        "wall_s_from_create_to_done": round2(wall.as_secs_f64()),
        "messages_per_s": if span > 0.0 { round2(fake.accepted as f64 / span) } else { 0.0 },
        "limit_breaches": fake.breaches,
        "chats_messaged_twice": duplicates,
        "chats_messaged": fake.delivered.len(),
        "sent": progress.sent,
        "unknown": progress.unknown,
        "failed": progress.failed,
        "killed_after_sent": killed,
        "restart_to_healthz_ms": restart_ms,
    }))
}
