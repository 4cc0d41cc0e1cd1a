//! `sendMessage` with an optional inline keyboard, and the chat menu button that opens the
//! Mini App.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ChatId, TelegramApi};
use crate::{ClientError, Result};

/// Telegram's limit on one message's text, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 4096;

/// Rows of buttons under a message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct InlineKeyboard {
    pub inline_keyboard: Vec<Vec<InlineButton>>,
}

impl InlineKeyboard {
    /// One row with one button: the usual "open the Mini App" keyboard.
    pub fn single(button: InlineButton) -> Self {
        InlineKeyboard {
            inline_keyboard: vec![vec![button]],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlineButton {
    pub text: String,
    #[serde(flatten)]
    action: ButtonAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ButtonAction {
    WebApp { url: String },
    Url(String),
    CallbackData(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct WebAppInfo<'a> {
    url: &'a str,
}

impl InlineButton {
    /// Opens the Mini App at `url` (HTTPS). Telegram allows these in private chats only.
    pub fn web_app(text: impl Into<String>, url: impl Into<String>) -> Self {
        InlineButton {
            text: text.into(),
            action: ButtonAction::WebApp { url: url.into() },
        }
    }

    /// Opens `url` in the browser; works in any chat.
    pub fn url(text: impl Into<String>, url: impl Into<String>) -> Self {
        InlineButton {
            text: text.into(),
            action: ButtonAction::Url(url.into()),
        }
    }

    /// Sends `data` (1-64 bytes) back to the bot as a `callback_query` when pressed.
    pub fn callback(text: impl Into<String>, data: impl Into<String>) -> Self {
        InlineButton {
            text: text.into(),
            action: ButtonAction::CallbackData(data.into()),
        }
    }
}

/// Telegram's limit on a photo's caption, in UTF-16 code units.
pub const MAX_CAPTION_UTF16: usize = 1024;

/// A message to many chats: text, or a photo (by public URL) with the text as its caption,
/// and an optional keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub text: String,
    pub photo_url: Option<String>,
    pub keyboard: Option<InlineKeyboard>,
}

#[derive(Serialize)]
struct SendPhoto<'a> {
    chat_id: &'a ChatId,
    photo: &'a str,
    caption: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<&'a InlineKeyboard>,
}

/// Telegram's limit on a button's `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// The part of the sent `Message` the caller records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SentMessage {
    pub message_id: i64,
}

#[derive(Serialize)]
struct SendMessage<'a, M: Serialize> {
    chat_id: &'a ChatId,
    /// Plain text (no `parse_mode`): member names never need escaping.
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<&'a M>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyParameters>,
}

#[derive(Serialize)]
struct ReplyParameters {
    message_id: i64,
    /// Sent anyway when the message answered is gone.
    allow_sending_without_reply: bool,
}

/// Asks the reader to answer: their app opens a reply to the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForceReply {
    force_reply: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_field_placeholder: Option<String>,
}

impl ForceReply {
    pub fn new(placeholder: Option<String>) -> Self {
        ForceReply {
            force_reply: true,
            input_field_placeholder: placeholder,
        }
    }
}

#[derive(Serialize)]
struct AnswerCallbackQuery<'a> {
    callback_query_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    show_alert: bool,
}

#[derive(Serialize)]
struct EditMessageReplyMarkup<'a> {
    chat_id: i64,
    message_id: i64,
    reply_markup: &'a InlineKeyboard,
}

#[derive(Serialize)]
struct SetChatMenuButton<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    chat_id: Option<i64>,
    menu_button: MenuButton<'a>,
}

#[derive(Serialize)]
struct MenuButton<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
    web_app: WebAppInfo<'a>,
}

impl TelegramApi {
    /// Sends under the retry policy. A timed-out attempt may still have been delivered, so a
    /// retry can duplicate a message: notifications are at least once.
    pub async fn send_message(
        &self,
        chat_id: impl Into<ChatId>,
        text: &str,
        keyboard: Option<&InlineKeyboard>,
    ) -> Result<SentMessage> {
        let chat_id = chat_id.into();
        let body = send_message_body(&chat_id, text, keyboard)?;
        self.call("sendMessage", &body).await
    }

    /// Sends `text` asking for an answer (ForceReply), as a reply to `reply_to` if given.
    pub async fn send_force_reply(
        &self,
        chat_id: i64,
        text: &str,
        reply_to: Option<i64>,
        force: &ForceReply,
    ) -> Result<SentMessage> {
        let chat_id = ChatId::Id(chat_id);
        let mut body = send_message_body(&chat_id, text, Some(force))?;
        body.reply_parameters = reply_to.map(|message_id| ReplyParameters {
            message_id,
            allow_sending_without_reply: true,
        });
        self.call("sendMessage", &body).await
    }

    /// Answers a pressed inline button (Telegram shows a spinner until then); `text` shows as
    /// a toast, or as an alert the user closes when `show_alert`.
    pub async fn answer_callback_query(
        &self,
        callback_query_id: &str,
        text: Option<&str>,
        show_alert: bool,
    ) -> Result<()> {
        let body = AnswerCallbackQuery {
            callback_query_id,
            text,
            show_alert,
        };
        expect_true(self.call("answerCallbackQuery", &body).await?)
    }

    /// Replaces the buttons under one of the bot's messages (an empty keyboard removes them).
    pub async fn edit_message_reply_markup(
        &self,
        chat_id: i64,
        message_id: i64,
        keyboard: &InlineKeyboard,
    ) -> Result<()> {
        let body = EditMessageReplyMarkup {
            chat_id,
            message_id,
            reply_markup: keyboard,
        };
        // Telegram answers the edited Message (or `true` for inline messages).
        let _: serde_json::Value = self.call("editMessageReplyMarkup", &body).await?;
        Ok(())
    }

    /// One attempt, for the notifier, which schedules its own retries per chat.
    pub(crate) async fn send_message_once(&self, chat_id: i64, text: &str) -> Result<SentMessage> {
        let chat_id = ChatId::Id(chat_id);
        let body = send_message_body::<InlineKeyboard>(&chat_id, text, None)?;
        self.call_once("sendMessage", &body, Duration::ZERO).await
    }

    /// One attempt to send an announcement (`sendMessage`, or `sendPhoto` with a caption): a
    /// broadcast decides itself what may be tried again, since a timed-out attempt may have
    /// been delivered.
    pub async fn announce_once(&self, chat_id: i64, message: &Announcement) -> Result<SentMessage> {
        let chat_id = ChatId::Id(chat_id);
        let keyboard = message.keyboard.as_ref();
        match &message.photo_url {
            None => {
                let body = send_message_body(&chat_id, &message.text, keyboard)?;
                self.call_once("sendMessage", &body, Duration::ZERO).await
            }
            Some(photo) => {
                let units = message.text.encode_utf16().count();
                if units > MAX_CAPTION_UTF16 {
                    return Err(ClientError::InvalidInput(
                        "a photo's caption must be at most 1024 characters",
                    ));
                }
                let body = SendPhoto {
                    chat_id: &chat_id,
                    photo,
                    caption: &message.text,
                    reply_markup: keyboard,
                };
                self.call_once("sendPhoto", &body, Duration::ZERO).await
            }
        }
    }

    /// Sets the menu button to open the Mini App, for one private chat or (`None`) as the
    /// bot's default.
    pub async fn set_chat_menu_button(
        &self,
        chat_id: Option<i64>,
        text: &str,
        web_app_url: &str,
    ) -> Result<()> {
        let body = SetChatMenuButton {
            chat_id,
            menu_button: MenuButton {
                kind: "web_app",
                text,
                web_app: WebAppInfo { url: web_app_url },
            },
        };
        expect_true(self.call("setChatMenuButton", &body).await?)
    }
}

fn send_message_body<'a, M: Serialize>(
    chat_id: &'a ChatId,
    text: &'a str,
    reply_markup: Option<&'a M>,
) -> Result<SendMessage<'a, M>> {
    let units = text.encode_utf16().count();
    if units == 0 || units > MAX_TEXT_UTF16 {
        return Err(ClientError::InvalidInput(
            "message text must be 1-4096 characters",
        ));
    }
    Ok(SendMessage {
        chat_id,
        text,
        reply_markup,
        reply_parameters: None,
    })
}

/// Setters answer `true`; anything else means the call did not take effect.
pub(super) fn expect_true(result: bool) -> Result<()> {
    if result {
        Ok(())
    } else {
        Err(ClientError::Malformed("setter answered false".to_owned()))
    }
}
