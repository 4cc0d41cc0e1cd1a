//! `loyalty serve --log-format json` as a log collector reads it: one JSON object per line on
//! stderr, a request's line carrying its route, status and request id.

mod support;

use serde_json::Value;
use sqlx::PgPool;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The next stderr line that `pick` accepts, each line parsed as JSON (a line that is not JSON
/// fails the test).
fn next_line(lines: &mpsc::Receiver<String>, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the server logs a matching line within 30 s");
        let value: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
        if pick(&value) {
            return value;
        }
    }
}

/// `loyalty serve` with JSON logs, `args` and `env` on a free port; its stderr lines, and the
/// address it serves on.
fn serve_logging_json(
    pool: &PgPool,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Server, mpsc::Receiver<String>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .env_clear()
        .env("DATABASE_URL", support::database_url(pool))
        .env("LOYALTY_LOG_FORMAT", "json")
        .env("LOYALTY_PRIVACY_KEY", support::PRIVACY_KEY)
        .envs(env.iter().copied())
        .args(["serve", "--listen", "127.0.0.1:0", "--telegram-mode", "off"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("loyalty runs");
    let stderr = child.stderr.take().expect("stderr piped");
    let server = Server(child);
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let serving = next_line(&lines, |v| v["fields"]["message"] == "serving");
    let addr = serving["fields"]["addr"]
        .as_str()
        .expect("the address")
        .to_string();
    (server, lines, addr)
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn json_logs_carry_each_request_with_its_route_status_id_and_client(pool: PgPool) {
    let (_server, lines, addr) = serve_logging_json(
        &pool,
        &["--trusted-proxies", "127.0.0.1/32,10.0.0.0/8"],
        &[],
    );
    // A health probe is not logged at INFO: the first response line is the next request's.
    let probe = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/api/openapi.json"))
        .header("x-request-id", "probe-1")
        .header("x-forwarded-for", "192.0.2.1, 203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let logged = next_line(&lines, |v| v["fields"]["message"] == "response");
    assert_eq!(logged["level"], "INFO", "{logged}");
    assert_eq!(logged["fields"]["status"], 200, "{logged}");
    assert_eq!(logged["span"]["route"], "/api/openapi.json", "{logged}");
    assert_eq!(logged["span"]["method"], "GET", "{logged}");
    assert_eq!(logged["span"]["request_id"], "probe-1", "{logged}");
    // The request came through a trusted proxy (loopback): the client it forwarded is logged.
    assert_eq!(logged["span"]["client"], "203.0.113.7", "{logged}");
}

/// With `--metrics-listen`, `/metrics` is served there and not beside the public routes; it
/// carries each projection's lag.
#[sqlx::test(migrator = "store::MIGRATOR")]
async fn metrics_can_have_a_listener_of_their_own(pool: PgPool) {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_listen = format!("127.0.0.1:{metrics_port}");
    let (_server, _lines, addr) = serve_logging_json(
        &pool,
        &[],
        &[("LOYALTY_METRICS_LISTEN", metrics_listen.as_str())],
    );
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let public = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "no metrics on the public listener");
    let metrics = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("http_requests_total{route=\"/healthz\""),
        "{text}"
    );
    // Read at scrape time: every projection's lag, zero on an empty log.
    assert!(
        text.contains("projection_lag_events{projection=\"balances\"} 0"),
        "{text}"
    );
}
