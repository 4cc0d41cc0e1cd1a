//! One integration-test binary for the inbound adapters, driven by the shared platform fixtures.

mod coverage;
mod instagram;
mod instagram_auth;
mod mini_app;
mod props;
mod support;
mod telegram;
mod vk;
