//! The admin panel's client: a browser's cookie and CSRF token over a [`TestApp`], sending
//! JSON as the panel does.

use super::{Reply, TestApp};
use api::admin::{Role, create_user};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use domain::ids::MemberId;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// The password of every account the tests create.
pub const PASSWORD: &str = "correct horse battery";

/// The whole application plus an admin-panel browser: its cookie and CSRF token.
pub struct AdminClient {
    pub app: Arc<TestApp>,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl AdminClient {
    pub async fn new(pool: PgPool) -> Self {
        Self::on(Arc::new(TestApp::new(pool).await))
    }

    /// A browser on `app`, not signed in.
    pub fn on(app: Arc<TestApp>) -> Self {
        Self {
            app,
            cookie: None,
            csrf: None,
        }
    }

    /// A client signed in as a fresh account of `role` (named after it, e.g. `manager1`).
    pub async fn signed_in(pool: PgPool, role: Role) -> Self {
        let mut panel = Self::new(pool).await;
        let name = role.as_str().to_string() + "1";
        create_user(&panel.app.pool, "test", &name, PASSWORD, role)
            .await
            .unwrap();
        assert_eq!(panel.login(&name, PASSWORD).await.status, StatusCode::OK);
        panel
    }

    /// Another browser on the same application, not signed in.
    pub fn browser(&self) -> Self {
        Self::on(self.app.clone())
    }

    pub fn program(&self) -> Uuid {
        self.app.t.program_id().0
    }

    /// The admin API path of the fixtures' program plus `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/admin/programs/{}{rest}", self.program())
    }

    /// A request with this browser's cookie, the `extra` headers and `body` as JSON.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.app.send(request.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None, &[]).await
    }

    /// A change as the panel sends it: CSRF token and a fresh Idempotency-Key.
    pub async fn change(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.change_keyed(method, path, body, &Uuid::new_v4().to_string())
            .await
    }

    pub async fn change_keyed(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: &str,
    ) -> Reply {
        let csrf = self.csrf.clone().unwrap_or_default();
        let headers = [("x-csrf-token", csrf.as_str()), ("idempotency-key", key)];
        self.request(method, path, body, &headers).await
    }

    /// Signs in; on success this browser keeps the session cookie and the CSRF token.
    pub async fn login(&mut self, username: &str, password: &str) -> Reply {
        let body = json!({ "username": username, "password": password });
        let answer = self
            .request(Method::POST, "/api/v1/admin/session", Some(body), &[])
            .await;
        if answer.status == StatusCode::OK {
            let set_cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
            self.cookie = Some(set_cookie.split(';').next().unwrap().to_string());
            self.csrf = Some(answer.json()["csrf_token"].as_str().unwrap().to_string());
        }
        answer
    }

    /// A sign-in from the client address `addr`, as `serve` records it (`ConnectInfo`).
    pub async fn login_from(&self, addr: [u8; 4], username: &str, password: &str) -> Reply {
        self.login_forwarded(addr, None, username, password).await
    }

    /// A sign-in from `addr` carrying `X-Forwarded-For: forwarded_for`, as through a proxy.
    pub async fn login_forwarded(
        &self,
        addr: [u8; 4],
        forwarded_for: Option<&str>,
        username: &str,
        password: &str,
    ) -> Reply {
        let body = json!({ "username": username, "password": password }).to_string();
        let mut request =
            Request::post("/api/v1/admin/session").header(header::CONTENT_TYPE, "application/json");
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        let mut request = request.body(Body::from(body)).unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                addr, 40000,
            ))));
        self.app.send(request).await
    }

    /// Folds everything appended so far into the read models the panel reads.
    pub async fn drain(&self) {
        self.app.drain().await;
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    pub async fn adjust(&self, member: MemberId, points: Value, reason: &str) -> Reply {
        let path = self.path(&format!("/members/{member}/adjustments"));
        self.change(
            Method::POST,
            &path,
            Some(json!({ "points": points, "reason": reason })),
        )
        .await
    }

    pub async fn card(&self, member: MemberId) -> Value {
        let answer = self.get(&self.path(&format!("/members/{member}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.json()
    }
}

/// The Login Widget's fields for Telegram user `id`, signed as Telegram signs them for the bot
/// `bot_token`: `hash` = hex HMAC-SHA256 of the sorted `key=value` lines, keyed by SHA-256 of
/// the token. Numbers stay numbers, as the widget's script hands them over.
pub fn login_widget_fields(id: i64, username: &str, auth_date: i64, bot_token: &str) -> Value {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let check = format!("auth_date={auth_date}\nfirst_name=Olga\nid={id}\nusername={username}");
    let key = Sha256::digest(bot_token.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(check.as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    json!({ "id": id, "first_name": "Olga", "username": username, "auth_date": auth_date, "hash": hash })
}
