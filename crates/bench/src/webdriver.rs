//! The smallest WebDriver client the browser workloads need: Debian's Chromium through
//! ChromeDriver's W3C API (new session, navigate, run a script) plus Chrome DevTools commands
//! through ChromeDriver's passthrough (`goog/cdp/execute`), over the workspace's reqwest.
//!
//! Its own copy, not the one in `tests/it/browser.rs`: that one waits on elements, clicks,
//! types and saves screenshots for page tests; this one measures and needs none of that, and a
//! shared crate for a dozen JSON calls would cost more than the few lines repeated.

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One headless Chromium session, ended (with its driver) when dropped.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    driver: Child,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a `width`×`height` window that resolves
    /// no host but 127.0.0.1.
    pub async fn launch(width: u32, height: u32) -> anyhow::Result<Browser> {
        for needed in [CHROMIUM, CHROMEDRIVER] {
            anyhow::ensure!(
                std::path::Path::new(needed).exists(),
                "{needed} is not installed: apt-get install chromium chromium-driver"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, so Drop ends the browser it starts along with it.
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {CHROMEDRIVER}"))?;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(reply) = http.get(format!("{base}/status")).send().await
                && let Ok(status) = reply.json::<Value>().await
                && status["value"]["ready"].as_bool() == Some(true)
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("{CHROMEDRIVER} did not start on {base}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // Navigation returns at DOMContentLoaded; the page's own figures are read after.
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
                    "--force-device-scale-factor=1",
                    format!("--window-size={width},{height}"),
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
                capabilities,
            )
            .await?;
        let id = created["sessionId"]
            .as_str()
            .with_context(|| format!("no sessionId in {created}"))?;
        browser.session = format!("{base}/session/{id}");
        Ok(browser)
    }

    async fn call(&self, method: reqwest::Method, url: &str, body: Value) -> anyhow::Result<Value> {
        let mut request = self.http.request(method.clone(), url);
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .with_context(|| format!("webdriver {url}"))?
            .json()
            .await
            .with_context(|| format!("webdriver {url}"))?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            bail!("webdriver: {error}: {message}");
        }
        Ok(value)
    }

    /// A session command: `path` follows `/session/<id>`.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            &format!("{}{path}", self.session),
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.session);
        self.call(reqwest::Method::GET, &url, Value::Null).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.session);
        self.call(reqwest::Method::DELETE, &url, Value::Null).await
    }

    /// Navigates and waits for DOMContentLoaded.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// Runs a script (a function body: use `return`).
    pub async fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// A Chrome DevTools Protocol command on the current page.
    pub async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        self.post("/goog/cdp/execute", json!({"cmd": cmd, "params": params}))
            .await
    }

    /// The browser's name and version, as the session reports them.
    pub async fn version(&self) -> anyhow::Result<String> {
        let version = self.cdp("Browser.getVersion", json!({})).await?;
        Ok(version["product"].as_str().unwrap_or("").to_string())
    }

    /// Ends the session (closing Chromium) and the driver.
    pub async fn quit(mut self) {
        let _ = self
            .call(reqwest::Method::DELETE, &self.session, Value::Null)
            .await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // On an error: end the driver's whole group, Chromium included.
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}
