//! Mini App paint: how long a member waits for the first screen (the balance) in a phone-sized
//! headless Chromium with its CPU slowed 4x, with an empty cache and with a warm one.
//!
//! The product's HTTP server runs in this process (`loyalty::server::serve`, the demo's
//! configuration) over a fresh database holding the demo program (`loyalty::demo::seed`) and
//! some signed Instagram comments and Telegram group messages of its cast, so the member who
//! opens the page has a balance, a history and rivals on the board. The member's `initData`
//! is signed with the bot token the server is configured with and handed to the page in the
//! URL's fragment, as Telegram does. Before anything is timed the server answers the page, its
//! files (until brotli is ready: it is made once, in the background) and the member's first
//! API call, so the figures are a running server's.
//!
//! Each load opens a new tab (a new renderer, as a Mini App opening in Telegram gets), closes
//! the previous one, slows the CPU (`Emulation.setCPUThrottlingRate`) and optionally the
//! network (`--network slow-4g`), and opens `/app#tgWebAppData=…`. Cold loads clear the
//! browser's cache first; warm loads follow two untimed ones (the HTTP cache, then V8's code
//! cache, which Chromium writes on a script's second load). Read from the page: the
//! `loyalty:first-screen` mark the app sets when the balance is shown (or, for a build without
//! it, the moment `#main` stops being hidden, seen by a MutationObserver installed before the
//! page's scripts), first-contentful-paint, and the bytes transferred (the navigation's and
//! every resource's `transferSize` up to the first screen).
//!
//! Telegram's `telegram-web-app.js` is not loaded (the browser resolves no host but
//! 127.0.0.1): inside Telegram it comes from telegram.org, `async`, usually from cache.

use crate::webdriver::Browser;
use crate::{fresh_database, round2};
use anyhow::Context;
use app::config::ServeConfig;
use chrono::Utc;
use loyalty::simulate::{self, InstagramComment, TelegramMessage};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Params {
    /// Timed loads with an empty cache, and as many with a warm one.
    #[arg(long, default_value_t = 20)]
    pub loads: usize,
    /// How many times slower the CPU runs (Chrome DevTools' CPU throttling).
    #[arg(long, default_value_t = 4.0)]
    pub cpu_slowdown: f64,
    /// Network emulation: `none` (loopback) or `slow-4g` (150 ms round trip, 1.6 Mbit/s down,
    /// 750 kbit/s up, as Lighthouse's mobile preset).
    #[arg(long, default_value = "none")]
    pub network: String,
    /// Comments and messages from the demo's cast before the member opens the app.
    #[arg(long, default_value_t = 200)]
    pub deliveries: usize,
    /// Every load with the cache disabled and `Accept-Encoding: identity`: what every open
    /// cost before hashed URLs and compression (the script re-downloaded, uncompressed).
    #[arg(long)]
    pub baseline: bool,
}

const DATABASE: &str = "loyalty_bench_mini_app";
/// An iPhone 12–15's viewport in CSS pixels.
const WINDOW: (u32, u32) = (390, 844);
/// The member who opens the app: the first of the cast, a Telegram user.
const MEMBER: i64 = 5_000_000_000;
const CAST: [(&str, &str); 8] = [
    ("anna_runs", "Анна"),
    ("boris_k", "Борис"),
    ("vera_coffee", "Вера"),
    ("gleb", "Глеб"),
    ("dasha_art", "Даша"),
    ("egor_bike", "Егор"),
    ("zhenya", "Женя"),
    ("ira", "Ира"),
];
/// How long one load may take before the run fails.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Before the page's scripts: note when `#main` is first shown (the fallback of the mark).
const OBSERVER: &str = "(() => {
  const observer = new MutationObserver(() => {
    const main = document.getElementById('main');
    if (main && !main.hidden && window.__benchMainShown === undefined) {
      window.__benchMainShown = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
})();";

/// What the page knows of its load so far.
const PROBE: &str = "
  const mark = performance.getEntriesByName('loyalty:first-screen')[0];
  const paint = performance.getEntriesByType('paint')
    .find((e) => e.name === 'first-contentful-paint');
  const nav = performance.getEntriesByType('navigation')[0];
  const error = document.getElementById('error');
  return {
    mark: mark ? mark.startTime : null,
    main: window.__benchMainShown === undefined ? null : window.__benchMainShown,
    fcp: paint ? paint.startTime : null,
    error: error && !error.hidden ? error.innerText : null,
    document: nav ? nav.transferSize : 0,
    resources: performance.getEntriesByType('resource')
      .map((r) => [r.name, r.initiatorType, r.transferSize, r.encodedBodySize, r.decodedBodySize]),
  };";

pub async fn run(database_url: &str, p: Params) -> anyhow::Result<Value> {
    anyhow::ensure!(p.loads > 0, "--loads must be at least 1");
    let network = match p.network.as_str() {
        "none" => None,
        // Lighthouse's "slow 4G": 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up.
        "slow-4g" => Some(json!({
            "offline": false,
            "latency": 150,
            "downloadThroughput": 1_638_400 / 8,
            "uploadThroughput": 768_000 / 8,
        })),
        other => anyhow::bail!("--network {other}: none or slow-4g"),
    };
    let pool = fresh_database(database_url, DATABASE).await?;
    let mut config = loyalty::demo::demo_config(ServeConfig::for_tests());
    let secrets = config
        .privacy
        .secret_box(config.dev)
        .map_err(anyhow::Error::msg)?;
    loyalty::demo::seed(&pool, &secrets).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    config.http.public_url = base.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(loyalty::server::serve(
        listener,
        pool.clone(),
        config.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await?;
    activity(&client, &base, &config, p.deliveries).await?;

    let bot_token = config.telegram.bot_token.expose_secret().to_string();
    let init_data = init_data(MEMBER, &bot_token);
    let balance = warm_server(&client, &base, &init_data).await?;
    let url = format!(
        "{base}/app#tgWebAppData={}&tgWebAppVersion=8.0&tgWebAppPlatform=android",
        encode(&init_data)
    );

    let browser = Browser::launch(WINDOW.0, WINDOW.1).await?;
    let chromium = browser.version().await?;
    let mut tab = Tab::first(&browser).await?;
    let setup = Setup {
        cpu_slowdown: p.cpu_slowdown,
        network: network.clone(),
        baseline: p.baseline,
    };
    let mut cold = Vec::new();
    for _ in 0..p.loads {
        tab = tab.next(&browser, &setup).await?;
        browser.cdp("Network.clearBrowserCache", json!({})).await?;
        cold.push(load(&browser, &url, &base).await?);
    }
    for _ in 0..2 {
        tab = tab.next(&browser, &setup).await?;
        load(&browser, &url, &base).await?;
    }
    let mut warm = Vec::new();
    for _ in 0..p.loads {
        tab = tab.next(&browser, &setup).await?;
        warm.push(load(&browser, &url, &base).await?);
    }
    browser.quit().await;
    let _ = stop.send(());
    server.await??;

    let source = if cold.iter().chain(&warm).all(|l| l.from_mark) {
        "mark loyalty:first-screen"
    } else {
        "#main shown (MutationObserver)"
    };
    Ok(json!({
        "workload": "mini-app-paint",
        "chromium": chromium,
        "window": format!("{}x{}", WINDOW.0, WINDOW.1),
        "cpu_slowdown": p.cpu_slowdown,
        "network": p.network,
        "baseline": p.baseline,
        "deliveries": p.deliveries,
        "member_balance": balance,
        "first_screen_by": source,
        "cold": summary(&cold),
        "warm": summary(&warm),
    }))
}

/// How each tab is set up before its load.
struct Setup {
    cpu_slowdown: f64,
    network: Option<Value>,
    baseline: bool,
}

/// The browser's current tab.
struct Tab(String);

impl Tab {
    async fn first(browser: &Browser) -> anyhow::Result<Tab> {
        let handle = browser.get("/window").await?;
        Ok(Tab(handle.as_str().unwrap_or_default().to_string()))
    }

    /// A new tab set up for one load; this one closed, so its renderer goes with it.
    async fn next(self, browser: &Browser, setup: &Setup) -> anyhow::Result<Tab> {
        let created = browser.post("/window/new", json!({"type": "tab"})).await?;
        let handle = created["handle"]
            .as_str()
            .context("no handle for the new tab")?
            .to_string();
        browser.post("/window", json!({ "handle": self.0 })).await?;
        browser.delete("/window").await?;
        browser.post("/window", json!({ "handle": handle })).await?;
        browser
            .cdp(
                "Emulation.setCPUThrottlingRate",
                json!({"rate": setup.cpu_slowdown}),
            )
            .await?;
        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": OBSERVER }),
            )
            .await?;
        browser.cdp("Network.enable", json!({})).await?;
        if let Some(conditions) = &setup.network {
            browser
                .cdp("Network.emulateNetworkConditions", conditions.clone())
                .await?;
        }
        if setup.baseline {
            browser
                .cdp("Network.setCacheDisabled", json!({"cacheDisabled": true}))
                .await?;
            browser
                .cdp(
                    "Network.setExtraHTTPHeaders",
                    json!({"headers": {"Accept-Encoding": "identity"}}),
                )
                .await?;
        }
        Ok(Tab(handle))
    }
}

/// One load's figures, in milliseconds from the navigation's start, and bytes.
struct Load {
    first_screen_ms: f64,
    from_mark: bool,
    fcp_ms: f64,
    document_bytes: u64,
    /// The page's own files (scripts, styles), and everything else it fetched (the API).
    static_bytes: u64,
    other_bytes: u64,
    /// The page's own files as they came over the wire, compressed or not.
    static_encoded_bytes: u64,
}

async fn load(browser: &Browser, url: &str, base: &str) -> anyhow::Result<Load> {
    browser.goto(url).await?;
    let started = Instant::now();
    loop {
        let probe = browser.execute(PROBE).await?;
        if let Some(error) = probe["error"].as_str() {
            anyhow::bail!("the Mini App shows an error: {error}");
        }
        let first_screen = probe["mark"]
            .as_f64()
            .map(|ms| (ms, true))
            .or(probe["main"].as_f64().map(|ms| (ms, false)));
        if let (Some((first_screen_ms, from_mark)), Some(fcp_ms)) =
            (first_screen, probe["fcp"].as_f64())
        {
            let (mut static_bytes, mut other_bytes, mut static_encoded_bytes) = (0, 0, 0);
            for resource in probe["resources"].as_array().into_iter().flatten() {
                let name = resource[0].as_str().unwrap_or("");
                let transferred = resource[2].as_u64().unwrap_or(0);
                let own_file = name.starts_with(&format!("{base}/app/"))
                    && matches!(resource[1].as_str(), Some("script" | "link" | "css"));
                if own_file {
                    static_bytes += transferred;
                    static_encoded_bytes += resource[3].as_u64().unwrap_or(0);
                } else {
                    other_bytes += transferred;
                }
            }
            return Ok(Load {
                first_screen_ms,
                from_mark,
                fcp_ms,
                document_bytes: probe["document"].as_u64().unwrap_or(0),
                static_bytes,
                other_bytes,
                static_encoded_bytes,
            });
        }
        anyhow::ensure!(
            started.elapsed() < LOAD_TIMEOUT,
            "no first screen after {LOAD_TIMEOUT:?}: {probe}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn summary(loads: &[Load]) -> Value {
    let figure = |f: fn(&Load) -> f64| {
        let mut values: Vec<f64> = loads.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        (
            round2(quantile(&values, 0.5)),
            round2(quantile(&values, 0.95)),
        )
    };
    let (screen_p50, screen_p95) = figure(|l| l.first_screen_ms);
    let (fcp_p50, fcp_p95) = figure(|l| l.fcp_ms);
    let (document, _) = figure(|l| l.document_bytes as f64);
    let (statics, _) = figure(|l| l.static_bytes as f64);
    let (encoded, _) = figure(|l| l.static_encoded_bytes as f64);
    let (other, _) = figure(|l| l.other_bytes as f64);
    json!({
        "loads": loads.len(),
        "first_screen_p50_ms": screen_p50,
        "first_screen_p95_ms": screen_p95,
        "fcp_p50_ms": fcp_p50,
        "fcp_p95_ms": fcp_p95,
        "document_transfer_bytes_p50": document,
        "files_transfer_bytes_p50": statics,
        "files_encoded_bytes_p50": encoded,
        "api_transfer_bytes_p50": other,
    })
}

/// Nearest rank of sorted `values`.
fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let rank = (q * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
        let ready = client.get(format!("{base}/healthz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the server did not become ready")
}

/// Comments on Instagram and messages in the Telegram group from the cast, the member among
/// them, ten minutes apart.
async fn activity(
    client: &reqwest::Client,
    base: &str,
    config: &ServeConfig,
    deliveries: usize,
) -> anyhow::Result<()> {
    let now = Utc::now().timestamp();
    for n in 0..deliveries {
        // Ten minutes apart, ending now: past the rules' cooldown, so most of them earn.
        let at = now - 600 * (deliveries - n) as i64;
        let who = n % CAST.len();
        let (username, first_name) = CAST[who];
        let text = format!("Лучший кофе в районе, визит №{n}");
        let unique = now * 1000 + n as i64;
        let delivery = if n % 3 == 0 {
            simulate::instagram_comment(
                &InstagramComment {
                    brand_account: loyalty::demo::BRAND_INSTAGRAM,
                    igsid: &(1_122_334_455_660_000u64 + who as u64).to_string(),
                    username,
                    comment_id: &format!("bench{unique}"),
                    media_id: "18031234567890123",
                    text: &text,
                    unix_time: at,
                },
                config.instagram.app_secret.expose_secret(),
            )
        } else {
            simulate::telegram_group_message(
                &TelegramMessage {
                    update_id: unique,
                    chat_id: loyalty::demo::TELEGRAM_CHAT,
                    user_id: MEMBER + who as i64,
                    first_name,
                    username,
                    message_id: unique,
                    text: &text,
                    unix_time: at,
                },
                config.telegram.webhook_secret.expose_secret(),
            )
        };
        let status = delivery.send(client, base).await?;
        anyhow::ensure!(status.is_success(), "a delivery was answered {status}");
    }
    Ok(())
}

/// initData for the member as Telegram signs it.
fn init_data(user_id: i64, bot_token: &str) -> String {
    let user = json!({"id": user_id, "first_name": CAST[0].1, "username": CAST[0].0,
        "language_code": "ru"});
    let fields = [
        ("auth_date", Utc::now().timestamp().to_string()),
        ("query_id", format!("bench-{user_id}")),
        ("user", user.to_string()),
    ];
    api::mini_app::dev::sign_init_data(&fields, bot_token)
}

/// Asks for what the page asks, until brotli is ready for its files and the member's balance
/// shows all the activity; returns the balance.
async fn warm_server(client: &reqwest::Client, base: &str, init_data: &str) -> anyhow::Result<i64> {
    let started = Instant::now();
    let page = client
        .get(format!("{base}/app"))
        .send()
        .await?
        .text()
        .await?;
    let files: Vec<&str> = page
        .split('"')
        .filter(|url| url.starts_with("/app/app.") && url.matches('.').count() == 2)
        .collect();
    anyhow::ensure!(files.len() == 2, "no hashed script and style in the page");
    for path in files.into_iter().chain(["/app"]) {
        loop {
            let answer = client
                .get(format!("{base}{path}"))
                .header("accept-encoding", "gzip, deflate, br, zstd")
                .send()
                .await?
                .error_for_status()?;
            if answer
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v == "br")
            {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "{path} never came compressed with brotli"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The projections have caught up once the balance holds still for half a second.
    let mut last = None;
    loop {
        let me: Value = client
            .get(format!("{base}/api/v1/app/me"))
            .header("authorization", format!("tma {init_data}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let balance = me["balance"]["current"].as_i64().unwrap_or(0);
        if balance > 0 && last == Some(balance) {
            return Ok(balance);
        }
        last = Some(balance);
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the member's balance did not settle: {me}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A URL component, percent-encoded.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
