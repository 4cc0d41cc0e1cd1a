//! The page at /app: HTML, CSS and JS compiled into the binary (no Node toolchain), served
//! through [`crate::assets`]: the script and style at content-hashed URLs cached for a year, the
//! page revalidated by its ETag, all compressed once. The Content-Security-Policy allows
//! scripts only from here and Telegram, so even a name that slipped into the DOM as HTML could
//! not run code; the page inserts every such string as text.

use crate::AppState;
use crate::assets::{Assets, Extra, File, Page};
use axum::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use std::sync::LazyLock;
use utoipa_axum::router::OpenApiRouter;

/// Telegram Web opens Mini Apps in a frame of its own origin.
const CSP: &str = "default-src 'self'; script-src 'self' https://telegram.org; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; \
     frame-ancestors 'self' https://web.telegram.org https://*.telegram.org";

const SECURITY: &Extra = &[
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (CONTENT_SECURITY_POLICY, CSP),
];

/// The page and its files, hashed and the page rewritten at first use.
static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    Assets::new(
        &[
            File {
                path: "/app/app.js",
                content_type: "text/javascript; charset=utf-8",
                body: include_str!("../../assets/mini_app/app.js"),
            },
            File {
                path: "/app/app.css",
                content_type: "text/css; charset=utf-8",
                body: include_str!("../../assets/mini_app/app.css"),
            },
        ],
        &[Page {
            name: "index",
            html: include_str!("../../assets/mini_app/index.html"),
        }],
    )
});

pub fn routes() -> OpenApiRouter<AppState> {
    // One route per URL a file answers at (plain and hashed): no pattern under /app to collide
    // with other routes there, and any other name is the router's 404.
    ASSETS.paths().fold(
        OpenApiRouter::new().route("/app", get(index)),
        |router, path| router.route(path, get(file)),
    )
}

async fn index(request: HeaderMap) -> Response {
    ASSETS.page("index", &request, SECURITY)
}

async fn file(uri: Uri, request: HeaderMap) -> Response {
    ASSETS.file(uri.path(), &request, SECURITY)
}
