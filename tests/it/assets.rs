//! The embedded pages and files (`api::assets`): content-hashed URLs cached for a year, pages
//! and plain URLs revalidated by ETag, 304s, gzip and brotli made once, for the Mini App and the
//! admin panel alike.

use crate::harness::admin::{AdminClient, PASSWORD};
use crate::harness::mini_app::MiniApp;
use api::admin::{Role, create_user};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::io::Read;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// An answer with its body as bytes (compressed bodies are not text).
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Raw {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

async fn get(state: &api::AppState, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = api::router(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Raw {
        status: parts.status,
        headers: parts.headers,
        body: axum::body::to_bytes(body, 16 << 20).await.unwrap(),
    }
}

/// The URL in `html` that starts with `prefix` and ends with `suffix`, up to the quote.
fn url_in(html: &str, prefix: &str, suffix: &str) -> String {
    html.match_indices(&format!("\"{prefix}"))
        .map(|(at, _)| {
            let rest = &html[at + 1..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .find(|url| url.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {prefix}…{suffix} in {html}"))
}

/// `/app/app.<12 hex>.js` for `/app/app.js`: the hash is the first 12 hex digits of the
/// SHA-256 of `body`.
fn assert_hashed(url: &str, plain: &str, body: &[u8]) {
    let (stem, ext) = plain.rsplit_once('.').unwrap();
    let hash = &url[stem.len() + 1..url.len() - ext.len() - 1];
    assert_eq!(url, format!("{stem}.{hash}.{ext}"));
    assert_eq!(hash, &hex::encode(Sha256::digest(body))[..12], "{url}");
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_mini_app_names_its_files_by_hash_and_caches_them_for_a_year(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let page = get(&m.state, "/app", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::CACHE_CONTROL), "no-cache");
    assert!(page.header(header::ETAG).starts_with('"'), "a strong ETag");
    assert!(
        page.header(header::CONTENT_SECURITY_POLICY)
            .contains("script-src 'self' https://telegram.org")
    );
    let html = page.text();
    assert!(!html.contains("\"/app/app.js\"") && !html.contains("\"/app/app.css\""));
    for (plain, ext, content_type) in [
        ("/app/app.js", ".js", "text/javascript; charset=utf-8"),
        ("/app/app.css", ".css", "text/css; charset=utf-8"),
    ] {
        let hashed = url_in(html, "/app/app.", ext);
        let file = get(&m.state, &hashed, &[]).await;
        assert_eq!(file.status, StatusCode::OK, "{hashed}");
        assert_eq!(file.header(header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(file.header(header::CONTENT_TYPE), content_type);
        assert_eq!(file.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(!file.header(header::CONTENT_SECURITY_POLICY).is_empty());
        assert_eq!(file.header(header::CONTENT_ENCODING), "");
        assert_hashed(&hashed, plain, &file.body);

        // The plain URL still answers, the same bytes, revalidated by ETag.
        let old = get(&m.state, plain, &[]).await;
        assert_eq!(old.status, StatusCode::OK);
        assert_eq!(old.header(header::CACHE_CONTROL), "no-cache");
        assert_eq!(old.header(header::ETAG), file.header(header::ETAG));
        assert_eq!(old.body, file.body);
    }
    let js = get(&m.state, "/app/app.js", &[]).await;
    assert!(
        !js.text().contains("innerHTML ="),
        "the page never assigns markup"
    );
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn a_matching_if_none_match_is_answered_304_without_a_body(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let page = get(&m.state, "/app", &[]).await;
    let etag = page.header(header::ETAG).to_string();
    let again = get(&m.state, "/app", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header(header::ETAG), etag);
    assert_eq!(again.header(header::CACHE_CONTROL), "no-cache");
    let listed = format!("\"other\", W/{etag}");
    let weak = get(&m.state, "/app", &[("if-none-match", &listed)]).await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED);
    let stale = get(&m.state, "/app", &[("if-none-match", "\"0123456789ab\"")]).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, page.body);

    let hashed = url_in(page.text(), "/app/app.", ".js");
    for path in [hashed.as_str(), "/app/app.js"] {
        let first = get(&m.state, path, &[]).await;
        let etag = first.header(header::ETAG).to_string();
        let again = get(&m.state, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty(), "{path}");
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn gzip_and_brotli_bodies_decode_to_the_embedded_file(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    let page = get(&m.state, "/app", &[]).await;
    let hashed = url_in(page.text(), "/app/app.", ".js");
    let plain = get(&m.state, &hashed, &[]).await;
    assert_eq!(plain.header(header::VARY), "Accept-Encoding");

    for path in [hashed.as_str(), "/app/app.js", "/app"] {
        let identity = get(&m.state, path, &[]).await;
        let gzip = get(&m.state, path, &[("accept-encoding", "gzip, deflate")]).await;
        assert_eq!(gzip.status, StatusCode::OK, "{path}");
        assert_eq!(gzip.header(header::CONTENT_ENCODING), "gzip", "{path}");
        assert_eq!(gzip.header(header::VARY), "Accept-Encoding");
        assert!(gzip.body.len() * 2 < identity.body.len(), "{path}");
        assert_eq!(gunzip(&gzip.body), identity.body, "{path}");
        // Another representation, another strong validator; each answers 304 for itself.
        let etag = gzip.header(header::ETAG).to_string();
        assert_ne!(etag, identity.header(header::ETAG));
        let again = get(
            &m.state,
            path,
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
    }
    // Identity when gzip is refused by weight.
    let refused = get(&m.state, &hashed, &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(refused.header(header::CONTENT_ENCODING), "");
    assert_eq!(refused.body, plain.body);

    // Brotli is made in the background after its first request; until then gzip answers.
    let started = Instant::now();
    let brotli = loop {
        let answer = get(&m.state, &hashed, &[("accept-encoding", "gzip, br")]).await;
        assert_eq!(answer.status, StatusCode::OK);
        match answer.header(header::CONTENT_ENCODING) {
            "br" => break answer,
            "gzip" => assert_eq!(gunzip(&answer.body), plain.body),
            other => panic!("unexpected content-encoding {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no brotli");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(brotli.header(header::CACHE_CONTROL), IMMUTABLE);
    assert_eq!(unbrotli(&brotli.body), plain.body);
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn an_unknown_hash_is_not_found(pool: PgPool) {
    let m = MiniApp::new(pool).await;
    for path in [
        "/app/app.000000000000.js",
        "/app/app.000000000000.css",
        "/app/nope.js",
        "/admin/assets/app.000000000000.js",
        "/admin/assets/nope.js",
    ] {
        assert_eq!(
            get(&m.state, path, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_admin_pages_name_their_files_by_hash(pool: PgPool) {
    let mut panel = AdminClient::new(pool).await;
    let state = panel.app.state.clone();
    let login = get(&state, "/admin", &[]).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.header(header::CACHE_CONTROL), "no-cache");
    assert_eq!(login.header(header::VARY), "Accept-Encoding, Cookie");
    assert_eq!(login.header(header::X_FRAME_OPTIONS), "DENY");
    let etag = login.header(header::ETAG).to_string();
    assert_eq!(
        get(&state, "/admin", &[("if-none-match", &etag)])
            .await
            .status,
        StatusCode::NOT_MODIFIED
    );
    let login_html = login.text();
    for (name, ext) in [
        ("favicon", ".svg"),
        ("admin", ".css"),
        ("i18n", ".js"),
        ("common", ".js"),
        ("login", ".js"),
    ] {
        let hashed = url_in(login_html, &format!("/admin/assets/{name}."), ext);
        let file = get(&state, &hashed, &[]).await;
        assert_eq!(file.status, StatusCode::OK, "{hashed}");
        assert_eq!(file.header(header::CACHE_CONTROL), IMMUTABLE);
        assert_eq!(file.header(header::X_FRAME_OPTIONS), "DENY");
        assert!(
            file.header(header::CONTENT_SECURITY_POLICY)
                .contains("script-src 'self'")
        );
        assert_hashed(&hashed, &format!("/admin/assets/{name}{ext}"), &file.body);
        let old = get(&state, &format!("/admin/assets/{name}{ext}"), &[]).await;
        assert_eq!(old.header(header::CACHE_CONTROL), "no-cache");
        assert_eq!(old.body, file.body);
    }

    // Signed in, /admin is the panel: another page, so the login page's ETag is no match.
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    panel.login("olga", PASSWORD).await;
    let app = panel
        .request(
            axum::http::Method::GET,
            "/admin",
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(app.status, StatusCode::OK);
    assert!(app.body.contains("id=\"nav\""));
    let hashed = url_in(&app.body, "/admin/assets/app.", ".js");
    let file = get(&state, &hashed, &[("accept-encoding", "gzip")]).await;
    assert_eq!(file.header(header::CACHE_CONTROL), IMMUTABLE);
    assert_eq!(file.header(header::CONTENT_ENCODING), "gzip");
    let plain = get(&state, "/admin/assets/app.js", &[]).await;
    assert_eq!(gunzip(&file.body), plain.body);
}
