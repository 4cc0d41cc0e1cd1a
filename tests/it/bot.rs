//! The Telegram bot end to end: commands, long polling, subscription checks and
//! notifications, against a real PostgreSQL and fake Telegram / VK APIs (wiremock).

mod broadcasts;
mod channels;
mod commands;
mod managers;
mod notifications;
mod polling;
mod polls;
mod program_bots;
mod subscriptions;
pub(crate) mod support;
