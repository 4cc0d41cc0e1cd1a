//! Outbound clients against local wiremock fakes of VK, VK ID and the Telegram Bot API.

mod coverage;
mod malformed;
mod notify;
mod notify_outcomes;
mod notify_support;
mod retry;
mod support;
mod telegram;
mod telegram_polls;
mod telegram_updates;
mod vk;
mod vk_id;
