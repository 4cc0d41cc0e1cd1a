//! The admin panel's pages, embedded in the binary: `/admin` is the panel when signed in and
//! the login page otherwise; the scripts and styles are served from `/admin/assets/`. No CDN,
//! no build step. A strict Content-Security-Policy allows only these files to run.

use super::auth::session;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const LOGIN_HTML: &str = include_str!("../../assets/admin/login.html");
const APP_HTML: &str = include_str!("../../assets/admin/app.html");

/// (name, content type, body) of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/admin/admin.css"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/i18n.js"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/common.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/login.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/charts.js"),
    ),
    (
        "views.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/views.js"),
    ),
    (
        "manage.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/manage.js"),
    ),
    (
        "rules.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/rules.js"),
    ),
    (
        "polls.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/polls.js"),
    ),
    (
        "channels.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/channels.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/admin/favicon.svg"),
    ),
];

/// Telegram's Login Widget script is the one script from elsewhere: it opens Telegram's
/// confirmation popup and hands back the signed fields, which the server checks.
const CSP: &str = "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

fn secured(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// The panel, or the login page when the request carries no live session.
pub async fn page(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let signed_in = match session::token_from(&headers) {
        Some(token) => matches!(session::find(&state.pool, &token).await, Ok(Some(_))),
        None => false,
    };
    let html = if signed_in { APP_HTML } else { LOGIN_HTML };
    let response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    secured(response, "no-store")
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, ..)| *n == name) {
        Some((_, content_type, body)) => {
            let response = ([(header::CONTENT_TYPE, *content_type)], *body).into_response();
            secured(response, "no-cache")
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
