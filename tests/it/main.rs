//! End-to-end tests of the whole product against a real PostgreSQL (one database per test).

mod helpers;
mod ledger;
