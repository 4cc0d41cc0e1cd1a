//! `sendPoll`: a non-anonymous poll from the bot, whose answers Telegram then reports as
//! `poll_answer` updates naming the poll (and the voter), but not the chat.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ChatId, TelegramApi};
use crate::{ClientError, Result};

/// Telegram's limit on a poll question, in characters.
pub const MAX_POLL_QUESTION_CHARS: usize = 300;
/// Telegram's limit on one answer option, in characters.
pub const MAX_POLL_OPTION_CHARS: usize = 100;
/// Fewest options a poll has.
pub const MIN_POLL_OPTIONS: usize = 2;
/// Most options this client sends (Telegram allowed 10 for years; newer Bot API versions
/// allow 12, but not every server does).
pub const MAX_POLL_OPTIONS: usize = 10;

/// What the ledger keeps of a sent poll: the id `poll_answer` updates will carry, and where
/// the poll message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPoll {
    pub poll_id: String,
    pub message_id: i64,
    pub chat_id: i64,
}

#[derive(Serialize)]
struct SendPoll<'a> {
    chat_id: &'a ChatId,
    question: &'a str,
    options: Vec<InputPollOption<'a>>,
    /// Always false: Telegram sends `poll_answer` only for non-anonymous polls.
    is_anonymous: bool,
}

#[derive(Serialize)]
struct InputPollOption<'a> {
    text: &'a str,
}

/// The part of the sent `Message` the caller records.
#[derive(Deserialize)]
struct PollMessage {
    message_id: i64,
    chat: PollChat,
    poll: Option<PollId>,
}

#[derive(Deserialize)]
struct PollChat {
    id: i64,
}

#[derive(Deserialize)]
struct PollId {
    id: String,
}

impl TelegramApi {
    /// Sends a non-anonymous regular poll. Unlike `send_message` only flood control (429,
    /// `retry_after`) is retried: Telegram said it sent nothing. A timeout, a network error or
    /// a 5xx may follow a poll that was posted, and a second one would be a different poll
    /// with its own id, so those go back to the caller (who can tell the manager to look).
    pub async fn send_poll(
        &self,
        chat_id: impl Into<ChatId>,
        question: &str,
        options: &[String],
    ) -> Result<SentPoll> {
        let chat_id = chat_id.into();
        let body = send_poll_body(&chat_id, question, options)?;
        let mut attempt = 1;
        let message: PollMessage = loop {
            let error = match self.call_once("sendPoll", &body, Duration::ZERO).await {
                Ok(message) => break message,
                Err(error) => error,
            };
            let delay = match error {
                ClientError::TooManyRequests { .. } => self.retry.delay_after(&error, attempt),
                _ => None,
            };
            match delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(error),
            }
            attempt += 1;
        };
        let poll = message
            .poll
            .ok_or_else(|| ClientError::Malformed("sendPoll answered without a poll".to_owned()))?;
        Ok(SentPoll {
            poll_id: poll.id,
            message_id: message.message_id,
            chat_id: message.chat.id,
        })
    }
}

fn send_poll_body<'a>(
    chat_id: &'a ChatId,
    question: &'a str,
    options: &'a [String],
) -> Result<SendPoll<'a>> {
    let question_chars = question.chars().count();
    if question.trim().is_empty() || question_chars > MAX_POLL_QUESTION_CHARS {
        return Err(ClientError::InvalidInput(
            "poll question must be 1-300 characters",
        ));
    }
    if !(MIN_POLL_OPTIONS..=MAX_POLL_OPTIONS).contains(&options.len()) {
        return Err(ClientError::InvalidInput("a poll needs 2-10 options"));
    }
    if options
        .iter()
        .any(|o| o.trim().is_empty() || o.chars().count() > MAX_POLL_OPTION_CHARS)
    {
        return Err(ClientError::InvalidInput(
            "poll options must be 1-100 characters",
        ));
    }
    Ok(SendPoll {
        chat_id,
        question,
        options: options
            .iter()
            .map(|text| InputPollOption { text })
            .collect(),
        is_anonymous: false,
    })
}
