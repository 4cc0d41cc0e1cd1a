//! End-to-end tests of the whole product against a real PostgreSQL (one database per test).

mod admin;
mod assets;
mod bot;
mod browser;
mod bulk_adjustments;
mod coupons;
mod expiry;
mod harness;
mod helpers;
mod ledger;
mod legacy_log;
mod mentions;
mod mini_app;
mod names;
mod openapi;
mod personal_data;
mod platforms;
mod profiles;
mod raffles;
mod redeliveries;
mod retention;
mod review;
mod seasons;
mod serve;
mod tiers;
mod webhooks;
