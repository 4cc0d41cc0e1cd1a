//! Headless-browser support for page tests (Mini App, admin panel): Debian's Chromium driven
//! through ChromeDriver's W3C WebDriver API, against the harness's server on 127.0.0.1:0
//! ([`crate::harness::TestApp::serve`]).
//!
//! Why WebDriver with a small client here, not a crate: Debian ships chromium and
//! chromium-driver from one source package, so the protocol always matches the browser (156
//! today); the endpoints used are a dozen JSON calls over the workspace's reqwest. thirtyfour
//! 0.38 would switch serde_json's `preserve_order` on for the whole test build (changing the
//! JSON under test) and bring a second reqwest; chromiumoxide compiles a generated CDP crate
//! of many megabytes pinned to an older protocol revision.
//!
//! A browser test fails when Chromium or ChromeDriver is missing; it is skipped (with a printed
//! notice) only when `LOYALTY_SKIP_BROWSER_TESTS=1` is set, which CI never sets. Screenshots go to `target/screenshots/`, and
//! also to `docs/screenshots/` when `SAVE_SCREENSHOTS=1`.

use base64::Engine;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long `wait_*` calls wait for the page before failing.
pub const WAIT: Duration = Duration::from_secs(30);
/// A phone-sized window.
pub const WINDOW: (u32, u32) = (412, 915);
/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Debug)]
pub struct BrowserError(pub String);

impl std::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BrowserError {}

pub type Result<T> = std::result::Result<T, BrowserError>;

fn fail(message: impl Into<String>) -> BrowserError {
    BrowserError(message.into())
}

/// One headless Chromium session. Call [`Browser::quit`] at the end; dropping it kills the
/// driver and its browser processes too.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
}

impl Browser {
    /// A started browser; `None` only when `LOYALTY_SKIP_BROWSER_TESTS=1` is set explicitly.
    /// A browser test that cannot run fails: a missing Chromium is a broken test machine, not a
    /// pass.
    pub async fn launch() -> Option<Browser> {
        if std::env::var("LOYALTY_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
            eprintln!("SKIPPED browser test: LOYALTY_SKIP_BROWSER_TESTS=1");
            return None;
        }
        for needed in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(needed).exists(),
                "{needed} is not installed: apt-get install chromium chromium-driver \
                 (or set LOYALTY_SKIP_BROWSER_TESTS=1 to skip browser tests explicitly)"
            );
        }
        Some(Browser::start().await.expect("start headless chromium"))
    }

    async fn start() -> Result<Browser> {
        let port = free_port()?;
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so Drop can end the browser it starts along with it.
            .process_group(0);
        let driver = command
            .spawn()
            .map_err(|e| fail(format!("{CHROMEDRIVER}: {e}")))?;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&http, &base).await?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // DOMContentLoaded is enough: an async script that never loads must not hold us.
            "pageLoadStrategy": "eager",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                    // Nothing outside this machine: every host but 127.0.0.1 fails to resolve.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                ],
            },
        }}});
        let mut browser = Browser {
            http,
            session: String::new(),
            driver,
        };
        let created = browser
            .call(
                reqwest::Method::POST,
                &format!("{base}/session"),
                Some(capabilities),
            )
            .await?;
        browser.session = created["sessionId"]
            .as_str()
            .ok_or_else(|| fail(format!("no sessionId in {created}")))?
            .to_string();
        browser.session = format!("{base}/session/{}", browser.session);
        Ok(browser)
    }

    /// Ends the session (closing Chromium) and the driver.
    pub async fn quit(mut self) {
        let _ = self
            .call(reqwest::Method::DELETE, &self.session.clone(), None)
            .await;
        let _ = self.driver.kill().await;
    }

    async fn call(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| fail(format!("webdriver {url}: {e}")))?;
        let answer: Value = response
            .json()
            .await
            .map_err(|e| fail(format!("webdriver {url}: {e}")))?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            return Err(fail(format!("webdriver: {error}: {message}")));
        }
        Ok(value)
    }

    async fn session_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        self.call(method, &format!("{}{path}", self.session), body)
            .await
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.session_call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await
            .map(drop)
    }

    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        let rect = json!({"width": width, "height": height});
        self.session_call(reqwest::Method::POST, "/window/rect", Some(rect))
            .await
            .map(drop)
    }

    /// Runs a script (a function body: use `return`) with `arguments`.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        let body = json!({"script": script, "args": args});
        self.session_call(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    async fn element(&self, css: &str) -> Result<String> {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .session_call(reqwest::Method::POST, "/element", Some(body))
            .await
            .map_err(|e| fail(format!("{css}: {e}")))?;
        found[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| fail(format!("{css}: no element reference in {found}")))
    }

    /// A Chrome DevTools Protocol command through ChromeDriver (`goog/cdp/execute`): CPU
    /// throttling, scripts that run before the page's own.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.session_call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    /// Waits for a visible element, then clicks it as a person would: scrolled to the middle
    /// of the screen first, clear of bars fixed to its edges.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.on_fresh_element(css, |id| async move {
            let element = json!({ ELEMENT: id });
            self.execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
                vec![element],
            )
            .await?;
            self.session_call(
                reqwest::Method::POST,
                &format!("/element/{id}/click"),
                Some(json!({})),
            )
            .await
            .map(drop)
        })
        .await
    }

    /// Replaces an input's value by typing `text`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.on_fresh_element(css, |id| async move {
            self.session_call(
                reqwest::Method::POST,
                &format!("/element/{id}/clear"),
                Some(json!({})),
            )
            .await?;
            self.session_call(
                reqwest::Method::POST,
                &format!("/element/{id}/value"),
                Some(json!({"text": text})),
            )
            .await
            .map(drop)
        })
        .await
    }

    /// Chooses `path` in the file input `css`, as a person picking a file does.
    pub async fn send_file(&self, css: &str, path: &str) -> Result<()> {
        let id = self.element(css).await?;
        self.session_call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path})),
        )
        .await
        .map(drop)
    }

    /// Runs `action` on the visible element `css`, finding it again if the page re-rendered it
    /// between finding and acting (a live page does): a person acts on what is shown now.
    async fn on_fresh_element<F, Fut>(&self, css: &str, action: F) -> Result<()>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let started = Instant::now();
        loop {
            self.wait_visible(css).await?;
            let id = self.element(css).await?;
            match action(id).await {
                Err(e) if e.0.contains("stale element") && started.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                done => return done,
            }
        }
    }

    /// The element's `textContent` (also of hidden elements), or `None` if there is none.
    pub async fn text(&self, css: &str) -> Result<Option<String>> {
        let value = self
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await?;
        Ok(value.as_str().map(str::to_string))
    }

    /// How many elements match.
    pub async fn count(&self, css: &str) -> Result<u64> {
        let value = self
            .execute(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![json!(css)],
            )
            .await?;
        Ok(value.as_u64().unwrap_or(0))
    }

    /// Polls a JS expression until it is truthy.
    pub async fn wait_for(&self, expression: &str) -> Result<()> {
        let script = format!("return Boolean({expression});");
        let deadline = Instant::now() + WAIT;
        loop {
            if self.execute(&script, vec![]).await?.as_bool() == Some(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                let body = self
                    .execute(
                        "return document.body ? document.body.innerText : '';",
                        vec![],
                    )
                    .await
                    .unwrap_or(Value::Null);
                return Err(fail(format!(
                    "waited {WAIT:?} for `{expression}`; the page reads: {}",
                    body.as_str()
                        .unwrap_or("")
                        .chars()
                        .take(600)
                        .collect::<String>()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until an element matching `css` is rendered (not hidden, has a box).
    pub async fn wait_visible(&self, css: &str) -> Result<()> {
        let css = serde_json::to_string(css).expect("a string");
        self.wait_for(&format!(
            "(() => {{ const e = document.querySelector({css}); \
               return e && e.getClientRects().length > 0; }})()"
        ))
        .await
    }

    /// Waits until the element's text contains `needle`; returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<String> {
        let (css_js, needle_js) = (
            serde_json::to_string(css).expect("a string"),
            serde_json::to_string(needle).expect("a string"),
        );
        self.wait_for(&format!(
            "(() => {{ const e = document.querySelector({css_js}); \
               return e && e.textContent.includes({needle_js}); }})()"
        ))
        .await?;
        Ok(self.text(css).await?.unwrap_or_default())
    }

    /// Saves the viewport as `target/screenshots/<name>.png` (and in `docs/screenshots/` when
    /// `SAVE_SCREENSHOTS=1`); returns the first path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let value = self
            .session_call(reqwest::Method::GET, "/screenshot", None)
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| fail(format!("screenshot is not base64: {e}")))?;
        let path = save(&screenshots_dir(), name, &png)?;
        if std::env::var("SAVE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let docs = workspace().join("docs").join("screenshots");
            save(&docs, name, &png)?;
        }
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failed test: end the driver's whole group, Chromium included.
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    target.join("screenshots")
}

fn save(dir: &Path, name: &str, png: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// A port nobody listens on right now (the driver binds it a moment later).
fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| fail(format!("bind: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| fail(format!("bind: {e}")))
}

async fn wait_until_ready(http: &reqwest::Client, base: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(response) = http.get(format!("{base}/status")).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"].as_bool() == Some(true)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(fail(format!("{CHROMEDRIVER} did not start on {base}")));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
