//! The admin panel's pages, embedded in the binary: `/admin` is the panel when signed in and
//! the login page otherwise; the scripts and styles are served from `/admin/assets/`, at
//! content-hashed names the pages are rewritten to use (see [`crate::assets`]). No CDN, no
//! build step. A strict Content-Security-Policy allows only these files to run.

use super::auth::session;
use crate::AppState;
use crate::assets::{Assets, Extra, File, Page};
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use std::sync::LazyLock;

/// The pages and every file they use, hashed and the pages rewritten at first use.
static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        &[
            File {
                path: "/admin/assets/admin.css",
                content_type: "text/css; charset=utf-8",
                body: include_str!("../../assets/admin/admin.css"),
            },
            File {
                path: "/admin/assets/i18n.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/i18n.js"),
            },
            File {
                path: "/admin/assets/common.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/common.js"),
            },
            File {
                path: "/admin/assets/login.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/login.js"),
            },
            File {
                path: "/admin/assets/charts.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/charts.js"),
            },
            File {
                path: "/admin/assets/views.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/views.js"),
            },
            File {
                path: "/admin/assets/manage.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/manage.js"),
            },
            File {
                path: "/admin/assets/rules.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/rules.js"),
            },
            File {
                path: "/admin/assets/polls.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/polls.js"),
            },
            File {
                path: "/admin/assets/broadcasts.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/broadcasts.js"),
            },
            File {
                path: "/admin/assets/bulk.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/bulk.js"),
            },
            File {
                path: "/admin/assets/review.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/review.js"),
            },
            File {
                path: "/admin/assets/channels.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/channels.js"),
            },
            File {
                path: "/admin/assets/managers_chat.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/managers_chat.js"),
            },
            File {
                path: "/admin/assets/seasons.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/seasons.js"),
            },
            File {
                path: "/admin/assets/app.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/admin/app.js"),
            },
            File {
                path: "/admin/assets/favicon.svg",
                content_type: "image/svg+xml",
                body: include_str!("../../assets/admin/favicon.svg"),
            },
        ],
        &[
            Page {
                name: "login",
                html: include_str!("../../assets/admin/login.html"),
            },
            Page {
                name: "app",
                html: include_str!("../../assets/admin/app.html"),
            },
        ],
    )
});

/// Telegram's Login Widget script is the one script from elsewhere: it opens Telegram's
/// confirmation popup and hands back the signed fields, which the server checks.
const CSP: &str = "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const SECURITY: &Extra = &[
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// `/admin` is the login page or the panel by the session cookie: a cache must key on both.
const PAGE: &Extra = &[
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::VARY, "Accept-Encoding, Cookie"),
];

/// The panel, or the login page when the request carries no live session.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed_in = match session::token_from(&headers) {
        Some(token) => matches!(session::find(&state.pool, &token).await, Ok(Some(_))),
        None => false,
    };
    ASSETS.page(if signed_in { "app" } else { "login" }, &headers, PAGE)
}

/// A file under `/admin/assets/`, by its plain or its hashed name.
pub async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    ASSETS.file(uri.path(), &headers, SECURITY)
}
