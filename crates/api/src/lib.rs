//! The loyalty application: the command layer, HTTP API, workers and the `loyalty` CLI.

pub mod app;
pub mod bench;
pub mod db;
pub mod demo;
