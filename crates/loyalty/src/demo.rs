//! `loyalty demo`: a working product on a fresh machine in one command. It migrates, creates a
//! demo program (rules, a codeword campaign, rewards, channels, its brand), starts `serve`, and drives a
//! stream of signed Instagram and VK webhooks and Telegram updates through the real HTTP
//! endpoints, so balances and leaderboards move in the browser.

use crate::simulate::{self, InstagramComment, TelegramMessage};
use app::config::ServeConfig;
use app::ingest::channels;
use app::secrets::SecretBox;
use app::{AppError, Ledger, LedgerConfig, ManagerAction};
use chrono::{Duration, Utc};
use domain::campaign::NewCampaign;
use domain::codeword::Codeword;
use domain::expiry::ExpiryRules;
use domain::ids::{CampaignId, ProgramId, RewardId, derived_id};
use domain::network::Network;
use domain::points::Points;
use domain::program::Rules;
use domain::reward::{RewardCommand, RewardTerms};
use domain::tier::{TierLevel, TierRules};
use rand::Rng;
use rand::seq::SliceRandom;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use std::time::Duration as StdDuration;
use store::EventStore;

pub const BRAND_INSTAGRAM: &str = "17841400000000001";
pub const VK_GROUP: i64 = 229871234;
pub const TELEGRAM_CHAT: i64 = -1002233445566;
const DEMO_INSTAGRAM_SECRET: &str = "demo-instagram-app-secret";
const DEMO_VK_SECRET: &str = "demo-vk-secret";
const DEMO_TELEGRAM_SECRET: &str = "demo-telegram-secret";
/// The made-up bot token of the shared fixtures: Mini App data signed with it validates here.
const DEMO_BOT_TOKEN: &str = "7000000001:AAHf1xTuReS-0nLy_4_t3sTs_q9W2e4R6t8Y";
/// Time between two simulated platform deliveries.
const TRAFFIC_INTERVAL: StdDuration = StdDuration::from_millis(700);

/// The demo program's id: the same on every run, so a second `demo` reuses its data.
pub fn demo_program() -> ProgramId {
    ProgramId(derived_id("demo-program"))
}

/// Fills in demo secrets and settings the user did not set.
pub fn demo_config(mut config: ServeConfig) -> ServeConfig {
    let fill = |s: &mut SecretString, v: &str| {
        if !app::config::is_set(s) {
            *s = SecretString::from(v);
        }
    };
    fill(&mut config.instagram.app_secret, DEMO_INSTAGRAM_SECRET);
    fill(&mut config.instagram.verify_token, "demo-verify-token");
    fill(&mut config.telegram.webhook_secret, DEMO_TELEGRAM_SECRET);
    fill(&mut config.telegram.bot_token, DEMO_BOT_TOKEN);
    // The public development key, unless one is configured.
    config.dev = true;
    config.program.get_or_insert(demo_program().0);
    config.mini_app.dev_sign_in = true;
    config.telegram.mode = app::config::TelegramMode::Off;
    config
}

/// Creates the demo program, its campaign, rewards and channels (once).
pub async fn seed(pool: &PgPool, secrets: &SecretBox) -> anyhow::Result<ProgramId> {
    let ledger = Ledger::new(EventStore::new(pool.clone()), LedgerConfig::default());
    let program_id = demo_program();
    let now = Utc::now();
    let action = |name: &str| ManagerAction {
        manager: "demo".into(),
        request_id: derived_id(&format!("demo/{name}")),
        at: now.into(),
    };
    let mut rules = Rules::standard();
    rules.min_comment_chars = 2;
    // Regulars climb two tiers and earn a little more for each comment.
    rules.tiers = TierRules {
        window_days: 0,
        levels: vec![
            TierLevel {
                name: "Постоянный гость".into(),
                threshold: 100,
                multiplier_percent: 110,
            },
            TierLevel {
                name: "Друг кофейни".into(),
                threshold: 300,
                multiplier_percent: 125,
            },
        ],
    };
    // A year to spend them, with a month's notice: the Mini App shows when the first expire.
    rules.expiry = ExpiryRules {
        after_days: 365,
        warn_days: 30,
    };
    ignore_existing(
        ledger
            .create_program(
                program_id,
                "Кофейня «Зерно»",
                chrono_tz::Europe::Moscow,
                rules,
                &action("program"),
            )
            .await,
    )?;
    let campaign_id = CampaignId(derived_id("demo/campaign"));
    ignore_existing(
        ledger
            .create_campaign(NewCampaign {
                campaign_id,
                program_id,
                name: "Осенний секрет".into(),
                codeword: Codeword::parse("СЕКРЕТ")?,
                points: Points::new(50)?,
                starts_at: (now - Duration::hours(1)).into(),
                ends_at: (now + Duration::days(30)).into(),
                total_cap: Some(100),
                networks: Network::ALL.to_vec(),
                target_post: None,
                description: Some(
                    "Кодовое слово прячется в осенних постах кофейни: найдите его и напишите \
                     в комментарии — 50 баллов первым ста гостям."
                        .into(),
                ),
                by: "demo".into(),
                at: now.into(),
            })
            .await,
    )?;
    for (name, title, cost, stock) in [
        ("coffee", "Скидка 10% на кофе", 100, 50),
        ("dessert", "Десерт в подарок", 250, 10),
        ("hoodie", "Худи бренда", 1000, 3),
    ] {
        let reward_id = RewardId(derived_id(&format!("demo/reward/{name}")));
        let cost = Points::new(cost)?;
        let list = || RewardCommand::List {
            reward_id,
            program_id,
            title: title.into(),
            cost,
            stock,
            terms: Default::default(),
            by: "demo".into(),
            at: now.into(),
        };
        ignore_existing(
            ledger
                .reward_command(program_id, reward_id, &action(name), list)
                .await,
        )?;
    }
    // A reward whose coupons are the e-shop's own promo codes, uploaded from its export.
    let online = RewardId(derived_id("demo/reward/online"));
    let cost = Points::new(150)?;
    let list = || RewardCommand::List {
        reward_id: online,
        program_id,
        title: "Промокод −15% в интернет-магазине".into(),
        cost,
        stock: 0,
        terms: RewardTerms {
            coupon_pool: true,
            return_codes: false,
            low_stock_alert: Some(5),
        },
        by: "demo".into(),
        at: now.into(),
    };
    ignore_existing(
        ledger
            .reward_command(program_id, online, &action("online"), list)
            .await,
    )?;
    let codes: Vec<String> = (1..=20).map(|n| format!("COFFEE15-{n:03}")).collect();
    ledger
        .add_codes(program_id, online, &codes, &action("online/codes"))
        .await?;
    // A raffle open for a week: its commitment shows in the Mini App and the panel at once.
    let raffle = app::raffles::RaffleTerms {
        title: "Осенний розыгрыш".into(),
        prize: "Кофе бесплатно целый месяц".into(),
        entry_rule: domain::raffle::EntryRule::Tickets,
        ticket_cost: Points::new(50)?,
        max_tickets_per_member: 3,
        winners: 2,
        ends_at: (now + Duration::days(7)).into(),
    };
    ignore_existing(
        ledger
            .open_raffle(pool, secrets, program_id, raffle, &action("raffle/autumn"))
            .await
            .map(|(_, outcome)| outcome),
    )?;
    // A month-long season: comments, mentions and codewords count, the podium wins points.
    let prize = |from_rank, to_rank, points| domain::season::SeasonPrize {
        from_rank,
        to_rank,
        points,
    };
    let season = domain::season::SeasonTerms {
        name: "Зимний кубок".into(),
        starts_at: now.into(),
        ends_at: (now + Duration::days(30)).into(),
        settle_minutes: 60,
        counts: domain::season::SeasonCounts {
            activities: vec![
                domain::network::ActivityKind::Comment,
                domain::network::ActivityKind::Mention,
                domain::network::ActivityKind::Codeword,
            ],
            adjustments: false,
        },
        prizes: vec![prize(1, 1, 500), prize(2, 3, 200)],
    };
    ignore_existing(
        ledger
            .schedule_season(program_id, season, &action("season/winter"))
            .await
            .map(|(_, outcome)| outcome),
    )?;
    channels::bind(
        pool,
        secrets,
        Network::Instagram,
        BRAND_INSTAGRAM,
        program_id,
        None,
        None,
    )
    .await?;
    channels::bind(
        pool,
        secrets,
        Network::Vk,
        &VK_GROUP.to_string(),
        program_id,
        Some(DEMO_VK_SECRET),
        Some("demo-ok"),
    )
    .await?;
    channels::bind(
        pool,
        secrets,
        Network::Telegram,
        &TELEGRAM_CHAT.to_string(),
        program_id,
        None,
        None,
    )
    .await?;
    // The brand once: what an admin changes later stays.
    if app::brand::load(pool, program_id)
        .await?
        .updated_by
        .is_none()
    {
        let brand = app::brand::validate(&app::brand::BrandRequest {
            accent_color: Some("#8b5a2b".into()),
            vk: Some("vk.com/zerno_coffee".into()),
            telegram: Some("@zerno_news".into()),
            instagram: Some("@zerno.coffee".into()),
            ..Default::default()
        })?;
        app::brand::save(pool, program_id, &brand, "demo").await?;
    }
    Ok(program_id)
}

/// The demo's admin account, with a fresh random password each run (printed once).
pub async fn admin_login(pool: &PgPool) -> anyhow::Result<(String, String)> {
    use api::admin::{Role, UserError, create_user};
    let username = "admin".to_string();
    let password: String = {
        let mut rng = rand::thread_rng();
        (0..16)
            .map(|_| char::from(b"abcdefghjkmnpqrstuvwxyz23456789"[rng.gen_range(0..31)]))
            .collect()
    };
    match create_user(pool, "demo", &username, &password, Role::Admin).await {
        Ok(_) => {}
        Err(UserError::AlreadyExists(_)) => {
            let change = api::admin::auth::users::UserChange {
                role: Some(Role::Admin),
                disabled: Some(false),
                password: Some(password.clone()),
                ..Default::default()
            };
            api::admin::auth::users::update_user(pool, "demo", &username, change).await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok((username, password))
}

fn ignore_existing(result: Result<app::Outcome, AppError>) -> anyhow::Result<()> {
    match result {
        Ok(_) | Err(AppError::Denied(domain::DomainError::AlreadyExists)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The demo cast: who comments where.
const CAST: &[(&str, &str)] = &[
    ("anna.runs", "Анна"),
    ("boris_k", "Борис"),
    ("vera.coffee", "Вера"),
    ("gleb", "Глеб"),
    ("dasha_art", "Даша"),
    ("egor.bike", "Егор"),
    ("zhenya", "Женя"),
    ("<b>ira</b>", "Ира"),
];

const TEXTS: &[&str] = &[
    "Обожаю ваш флэт уайт!",
    "Кодовое слово: секрет",
    "cekpet!!",
    "Когда новая обжарка?",
    "Лучшая кофейня района",
    "Great coffee, thanks!",
    "👍",
];

/// Sends one random delivery every interval until the process stops.
pub async fn drive_traffic(base_url: String, config: ServeConfig) {
    let client = reqwest::Client::new();
    let mut n: i64 = 0;
    loop {
        tokio::time::sleep(TRAFFIC_INTERVAL).await;
        n += 1;
        let delivery = {
            let mut rng = rand::thread_rng();
            let who = rng.gen_range(0..CAST.len());
            let (username, first_name) = CAST[who];
            let line = TEXTS.choose(&mut rng).copied().unwrap_or("Привет");
            // The rules pay a text once per member: most comments say something new, the rest
            // repeat a line word for word and show the repeated-text rule refusing them.
            let text = if rng.gen_bool(0.75) {
                format!("{line} (#{n})")
            } else {
                line.to_string()
            };
            let text = text.as_str();
            let now = Utc::now().timestamp();
            let unique = now * 1000 + n;
            match rng.gen_range(0..3) {
                0 => simulate::instagram_comment(
                    &InstagramComment {
                        brand_account: BRAND_INSTAGRAM,
                        igsid: &format!("{}", 1_122_334_455_660_000u64 + who as u64),
                        username,
                        comment_id: &format!("demo{unique}"),
                        media_id: "18031234567890123",
                        text,
                        unix_time: now,
                    },
                    config.instagram.app_secret.expose_secret(),
                ),
                1 => simulate::vk_wall_reply(
                    VK_GROUP,
                    DEMO_VK_SECRET,
                    715_002_000 + who as i64,
                    unique,
                    text,
                    now,
                ),
                _ => simulate::telegram_group_message(
                    &TelegramMessage {
                        update_id: unique,
                        chat_id: TELEGRAM_CHAT,
                        user_id: 5_000_000_000 + who as i64,
                        first_name,
                        username,
                        message_id: unique,
                        text,
                        unix_time: now,
                    },
                    config.telegram.webhook_secret.expose_secret(),
                ),
            }
        };
        if let Err(e) = delivery.send(&client, &base_url).await {
            tracing::warn!(error = %e, "demo delivery failed");
        }
    }
}
