//! End-to-end tests of the whole product against a real PostgreSQL (one database per test).

mod app;
mod helpers;
mod ledger;
mod webhooks;
