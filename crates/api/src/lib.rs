//! The loyalty application: the command layer, HTTP API, workers and the `loyalty` CLI.

pub mod app;
pub mod bench;
pub mod bot;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod ingest;
pub mod names;
pub mod server;
pub mod simulate;
