//! The panel page itself, before and after signing in.

use crate::harness::admin::{AdminClient, PASSWORD};
use api::admin::{Role, create_user};
use axum::http::{StatusCode, header};
use sqlx::PgPool;

#[sqlx::test(migrator = "store::MIGRATOR")]
async fn the_panel_page_is_the_login_page_until_signed_in(pool: PgPool) {
    let mut panel = AdminClient::new(pool).await;
    let login = panel.get("/admin").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("id=\"login-form\""));
    let csp = login.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(login.headers[header::X_FRAME_OPTIONS], "DENY");
    create_user(&panel.app.pool, "test", "olga", PASSWORD, Role::Manager)
        .await
        .unwrap();
    panel.login("olga", PASSWORD).await;
    let app = panel.get("/admin").await;
    assert!(app.body.contains("id=\"nav\""));
    for asset in [
        "admin.css",
        "i18n.js",
        "common.js",
        "login.js",
        "charts.js",
        "views.js",
        "manage.js",
        "rules.js",
        "polls.js",
        "broadcasts.js",
        "bulk.js",
        "review.js",
        "channels.js",
        "managers_chat.js",
        "app.js",
    ] {
        let answer = panel.get(&format!("/admin/assets/{asset}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
        assert!(!answer.body.is_empty(), "{asset}");
        assert!(
            !answer.body.contains("innerHTML"),
            "{asset} must insert text only"
        );
    }
    assert_eq!(
        panel.get("/admin/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
}
