//! The admin panel: its JSON API under /api/v1/admin (session cookie + CSRF header + role) and
//! its pages at /admin.
//!
//! Every change a manager makes goes through the command layer as one command whose actor is
//! the manager (`manager:<username>`) and whose request id is UUIDv5 of (account,
//! `Idempotency-Key`): nothing is edited or deleted, and a double submit changes nothing twice.
//! Handlers are thin: parse, check the subject belongs to the program in the path, run one
//! command or query.

pub mod audit_log;
pub mod auditor;
pub mod auth;
pub mod brand;
pub mod broadcasts;
pub mod bulk_adjustments;
pub mod campaigns;
pub mod channels;
pub mod csv_file;
pub mod dashboard;
pub mod live;
pub mod managers_chat;
pub mod member_links;
pub mod member_list;
pub mod members;
pub mod pages;
pub mod polls;
pub mod program_bot;
pub mod programs;
pub mod queries;
pub mod raffles;
pub mod review;
pub mod rewards;
pub mod seasons;
pub mod session_api;
pub mod shop_keys;
pub mod support;
pub mod telegram_sign_in;
pub mod users_api;

pub use auth::{Role, UserError, create_user};

use super::AppState;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            session_api::login,
            session_api::current,
            session_api::logout
        ))
        .routes(routes!(telegram_sign_in::info, telegram_sign_in::sign_in))
        .routes(routes!(telegram_sign_in::link, telegram_sign_in::unlink))
        .routes(routes!(telegram_sign_in::account))
        .routes(routes!(users_api::list, users_api::create))
        .routes(routes!(users_api::update))
        .routes(routes!(users_api::changes))
        .routes(routes!(programs::list, programs::create))
        .routes(routes!(programs::rules, programs::change_rules))
        .routes(routes!(programs::rules_history))
        .routes(routes!(brand::show, brand::change))
        .routes(routes!(brand::upload_logo, brand::remove_logo))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(live::stream))
        .routes(routes!(dashboard::leaderboard))
        .routes(routes!(dashboard::periods))
        .routes(routes!(dashboard::leaderboard_csv))
        .routes(routes!(member_list::list))
        .routes(routes!(member_list::csv))
        .routes(routes!(members::card))
        .routes(routes!(members::adjust))
        .routes(routes!(bulk_adjustments::list, bulk_adjustments::apply))
        .routes(routes!(bulk_adjustments::check))
        .routes(routes!(bulk_adjustments::one))
        .routes(routes!(bulk_adjustments::reverse))
        .routes(routes!(members::reverse))
        .routes(routes!(members::reverse_awards))
        .routes(routes!(review::list))
        .routes(routes!(review::approve))
        .routes(routes!(review::reject))
        .routes(routes!(review::decide_many))
        .routes(routes!(members::block))
        .routes(routes!(members::unblock))
        .routes(routes!(members::erase))
        .routes(routes!(member_links::link))
        .routes(routes!(member_links::unlink))
        .routes(routes!(member_links::suggestions))
        .routes(routes!(members::export))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::change))
        .routes(routes!(campaigns::redemptions))
        .routes(routes!(rewards::list, rewards::create))
        .routes(routes!(rewards::stock))
        .routes(routes!(rewards::delist))
        .routes(routes!(rewards::coupons))
        .routes(routes!(rewards::cancel))
        .routes(routes!(rewards::upload_codes))
        .routes(routes!(rewards::use_coupon))
        .routes(routes!(shop_keys::list, shop_keys::create))
        .routes(routes!(shop_keys::revoke))
        .routes(routes!(raffles::list, raffles::create))
        .routes(routes!(raffles::draw))
        .routes(routes!(raffles::cancel))
        .routes(routes!(seasons::list, seasons::create))
        .routes(routes!(seasons::standings))
        .routes(routes!(seasons::cancel))
        .routes(routes!(broadcasts::list, broadcasts::create))
        .routes(routes!(broadcasts::audience))
        .routes(routes!(broadcasts::one))
        .routes(routes!(broadcasts::stop))
        .routes(routes!(broadcasts::recipients))
        .routes(routes!(polls::list, polls::publish))
        .routes(routes!(channels::program_channels, channels::connect))
        .routes(routes!(channels::disconnect))
        .routes(routes!(channels::check))
        .routes(routes!(channels::offered_chats))
        .routes(routes!(
            program_bot::show,
            program_bot::connect,
            program_bot::disconnect
        ))
        .routes(routes!(
            managers_chat::show,
            managers_chat::connect,
            managers_chat::disconnect
        ))
        .routes(routes!(
            channels::telegram_webhook,
            channels::set_telegram_webhook
        ))
        .routes(routes!(channels::unrouted))
        .routes(routes!(audit_log::page))
        .routes(routes!(audit_log::csv))
        .routes(routes!(auditor::export))
        .routes(routes!(auditor::as_of))
        .routes(routes!(auditor::verify))
        .route("/admin", get(pages::page))
        .route("/admin/", get(pages::page))
        .route("/admin/assets/{name}", get(pages::asset))
}
