#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! The `loyalty` binary's wiring, as a library so tests and the bench run it as users do:
//! which database to use (`db`), `serve`'s processes and workers (`server`), the demo program
//! and its traffic (`demo`), and signed platform deliveries as the platforms send them
//! (`simulate`).

pub mod db;
pub mod demo;
pub mod server;
pub mod simulate;
