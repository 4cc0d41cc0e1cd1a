//! The Mini App: its API under /api/v1/app, authenticated by Telegram initData signed here with
//! the fixture bot token, and the page at /app in headless Chromium.

mod auth;
mod broadcasts_browser;
mod browser;
mod campaigns;
mod history;
mod leaderboard;
mod links;
mod live;
mod page;
mod phone;
mod raffles_browser;
mod rewards;
mod seasons_browser;
