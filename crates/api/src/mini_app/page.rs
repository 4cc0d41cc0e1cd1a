//! The page at /app: HTML, CSS and JS compiled into the binary (no Node toolchain). The
//! Content-Security-Policy allows scripts only from here and Telegram, so even a name that
//! slipped into the DOM as HTML could not run code; the page inserts every such string as text.

use crate::AppState;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName};
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

const INDEX_HTML: &str = include_str!("../../assets/mini_app/index.html");
const APP_JS: &str = include_str!("../../assets/mini_app/app.js");
const APP_CSS: &str = include_str!("../../assets/mini_app/app.css");

/// Telegram Web opens Mini Apps in a frame of its own origin.
const CSP: &str = "default-src 'self'; script-src 'self' https://telegram.org; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; \
     frame-ancestors 'self' https://web.telegram.org https://*.telegram.org";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app", get(index))
        .route("/app/app.js", get(script))
        .route("/app/app.css", get(style))
}

type Headers = [(HeaderName, &'static str); 4];

fn headers(content_type: &'static str) -> Headers {
    [
        (CONTENT_TYPE, content_type),
        // Assets change with the binary; revalidating costs one small request.
        (CACHE_CONTROL, "no-cache"),
        (HeaderName::from_static("x-content-type-options"), "nosniff"),
        (HeaderName::from_static("content-security-policy"), CSP),
    ]
}

async fn index() -> impl IntoResponse {
    (headers("text/html; charset=utf-8"), INDEX_HTML)
}

async fn script() -> impl IntoResponse {
    (headers("text/javascript; charset=utf-8"), APP_JS)
}

async fn style() -> impl IntoResponse {
    (headers("text/css; charset=utf-8"), APP_CSS)
}
