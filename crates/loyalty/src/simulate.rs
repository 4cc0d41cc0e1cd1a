//! Platform deliveries built the way each platform sends them (signed where they are signed),
//! for the demo's live traffic and the webhook bench. Bodies follow the shared fixtures.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// One HTTP delivery to this server's webhook routes.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

impl Delivery {
    pub async fn send(
        &self,
        client: &reqwest::Client,
        base_url: &str,
    ) -> anyhow::Result<reqwest::StatusCode> {
        let mut request = client
            .post(format!("{base_url}{}", self.path))
            .body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        Ok(request.send().await?.status())
    }
}

/// `sha256=` + hex HMAC-SHA256 of the raw body, as Meta signs it.
#[allow(clippy::expect_used)] // HMAC-SHA256 takes a key of any length: new_from_slice cannot fail.
pub fn instagram_signature(body: &[u8], app_secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct InstagramComment<'a> {
    pub brand_account: &'a str,
    pub igsid: &'a str,
    pub username: &'a str,
    pub comment_id: &'a str,
    pub media_id: &'a str,
    pub text: &'a str,
    pub unix_time: i64,
}

pub fn instagram_comment(c: &InstagramComment<'_>, app_secret: &str) -> Delivery {
    let body = json!({"object": "instagram", "entry": [{"id": c.brand_account, "time": c.unix_time, "changes": [{
        "field": "comments",
        "value": {"from": {"id": c.igsid, "username": c.username},
                  "media": {"id": c.media_id, "media_product_type": "FEED"},
                  "id": c.comment_id, "text": c.text}}]}]});
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let signature = instagram_signature(&body, app_secret);
    Delivery {
        path: "/webhooks/instagram",
        body,
        headers: vec![("X-Hub-Signature-256", signature)],
    }
}

/// A VK Callback API event (`v` 5.199) with the group's secret in the body.
pub fn vk_event(
    group_id: i64,
    secret: &str,
    event_type: &str,
    event_id: &str,
    object: serde_json::Value,
) -> Delivery {
    let body = json!({"group_id": group_id, "type": event_type, "event_id": event_id, "v": "5.199",
                      "object": object, "secret": secret});
    Delivery {
        path: "/webhooks/vk",
        body: serde_json::to_vec(&body).unwrap_or_default(),
        headers: vec![],
    }
}

pub fn vk_wall_reply(
    group_id: i64,
    secret: &str,
    user_id: i64,
    comment_id: i64,
    text: &str,
    unix_time: i64,
) -> Delivery {
    let object = json!({"id": comment_id, "from_id": user_id, "post_id": 88, "owner_id": -group_id,
                        "date": unix_time, "text": text, "parents_stack": [], "post_owner_id": -group_id});
    vk_event(
        group_id,
        secret,
        "wall_reply_new",
        &format!("{:040x}", comment_id),
        object,
    )
}

pub struct TelegramMessage<'a> {
    pub update_id: i64,
    pub chat_id: i64,
    pub user_id: i64,
    pub first_name: &'a str,
    pub username: &'a str,
    pub message_id: i64,
    pub text: &'a str,
    pub unix_time: i64,
}

/// A Bot API `Update` with a supergroup message, sent with the webhook secret header.
pub fn telegram_group_message(m: &TelegramMessage<'_>, webhook_secret: &str) -> Delivery {
    let body = json!({"update_id": m.update_id, "message": {
        "message_id": m.message_id,
        "from": {"id": m.user_id, "is_bot": false, "first_name": m.first_name, "username": m.username, "language_code": "ru"},
        "chat": {"id": m.chat_id, "title": "Brand Chat", "type": "supergroup"},
        "date": m.unix_time, "text": m.text}});
    Delivery {
        path: "/webhooks/telegram",
        body: serde_json::to_vec(&body).unwrap_or_default(),
        headers: vec![(
            "X-Telegram-Bot-Api-Secret-Token",
            webhook_secret.to_string(),
        )],
    }
}
