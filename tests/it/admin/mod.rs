//! The admin panel end to end: sign-in, sessions, CSRF, roles, idempotency, manual changes
//! with the manager as actor, read models after draining the projections, exports, and the
//! pages in a real headless Chromium.

mod access;
mod accounts;
mod auth;
mod brand;
mod broadcasts_browser;
mod browser;
mod bulk_browser;
mod campaigns;
mod channels;
mod connect;
mod coupons_browser;
mod expiry_browser;
mod exports;
mod live;
mod managers_chat_browser;
mod member_links;
mod member_list;
mod members;
mod page;
mod program_bot_browser;
mod raffles_browser;
mod review_browser;
mod seasons_browser;
mod telegram_sign_in;
mod tiers_browser;

use crate::harness::IG_BRAND;
use crate::harness::admin::AdminClient;
use axum::http::StatusCode;
use domain::ids::MemberId;
use domain::network::{ExternalIdentity, Network};

fn anna_ig() -> ExternalIdentity {
    ExternalIdentity::new(Network::Instagram, IG_BRAND, "1122334455667788")
}

/// Delivers the signed Instagram comment fixture (@anna.runs) and returns her member id.
/// The webhook path does not write `profiles` (yet): the row it would write is added here.
async fn anna_from_instagram(panel: &AdminClient, username: &str) -> MemberId {
    assert_eq!(
        panel.app.instagram_fixture("comment.json").await.status,
        StatusCode::OK
    );
    let member = panel
        .app
        .member_of(&anna_ig())
        .await
        .expect("the comment creates a member");
    let written = panel
        .count(
            "SELECT count(*) FROM profiles JOIN external_accounts USING (account_ref) \
             WHERE platform_id = '1122334455667788'",
        )
        .await;
    if written == 0 || username != "anna.runs" {
        let profile = app::ingest::profiles::Profile {
            program_id: panel.program(),
            account: panel.app.account(&anna_ig()).await.account,
            username: Some(username.to_string()),
            display_name: Some("Anna".to_string()),
            language_code: None,
        };
        app::ingest::profiles::upsert_profile(&panel.app.pool, &profile)
            .await
            .unwrap();
    }
    panel.drain().await;
    member
}
