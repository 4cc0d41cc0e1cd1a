//! VK Callback API. The body carries a shared `secret` (no signature): the handler checks
//! `group_id` is served and [`secret_matches`], answers the confirmation string for
//! [`VkPayload::Confirmation`], and `ok` for everything else, including ignored events.

mod community;
mod wall;

use serde::Deserialize;
use serde_json::Value;

use crate::error::ParseError;
use crate::signal::Signal;
use crate::wire::{RawId, clean_opt, id};

pub use crate::secret::secret_matches;

/// The whole body of a successful answer to any non-confirmation event. Never answer `remove`:
/// it deletes the server from the community.
pub const OK_RESPONSE: &str = "ok";

/// One Callback API delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VkCallback {
    pub group_id: i64,
    /// Absent when the server has no secret key; compare with [`secret_matches`].
    pub secret: Option<String>,
    /// Idempotency key of the delivery; confirmations may lack it.
    pub event_id: Option<String>,
    pub event_type: String,
    pub api_version: Option<String>,
    pub payload: VkPayload,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VkPayload {
    /// Answer with the community's confirmation string, not `ok`.
    Confirmation,
    /// Answer `ok` whatever the signals are (a non-`ok` answer makes VK retry and pause).
    Event(Vec<Signal>),
}

impl VkCallback {
    pub fn is_confirmation(&self) -> bool {
        self.payload == VkPayload::Confirmation
    }

    pub fn signals(&self) -> &[Signal] {
        match &self.payload {
            VkPayload::Confirmation => &[],
            VkPayload::Event(signals) => signals,
        }
    }

    /// `vk:<group_id>:<event_id>` for logs and delivery dedupe.
    pub fn delivery_key(&self) -> Option<String> {
        let event_id = self.event_id.as_ref()?;
        Some(format!("vk:{}:{}", self.group_id, event_id))
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    event_type: Option<String>,
    group_id: Option<i64>,
    event_id: Option<RawId>,
    v: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    object: Value,
}

/// Parses a Callback API body. Only a body without `type` or `group_id` is an error: a
/// genuine event with an odd object is recorded and ignored, never bounced.
pub fn parse(raw_body: &[u8]) -> Result<VkCallback, ParseError> {
    let envelope: Envelope = serde_json::from_slice(raw_body).map_err(ParseError::json)?;
    let event_type = clean_opt(envelope.event_type).ok_or(ParseError::Missing("type"))?;
    let group_id = envelope
        .group_id
        .filter(|g| *g > 0)
        .ok_or(ParseError::Missing("group_id"))?;
    let payload = if event_type == "confirmation" {
        VkPayload::Confirmation
    } else {
        VkPayload::Event(vec![event_signal(&event_type, group_id, envelope.object)])
    };
    Ok(VkCallback {
        group_id,
        secret: envelope.secret,
        event_id: id(envelope.event_id),
        event_type,
        api_version: clean_opt(envelope.v),
        payload,
    })
}

fn event_signal(event_type: &str, group_id: i64, object: Value) -> Signal {
    let group = group_id.to_string();
    let signal = match event_type {
        "wall_reply_new" => wall::reply(&group, object, wall::Phase::New),
        "wall_reply_edit" => wall::reply(&group, object, wall::Phase::Edit),
        "wall_reply_restore" => wall::reply(&group, object, wall::Phase::Restore),
        "wall_reply_delete" => wall::reply_delete(&group, object),
        "board_post_new" => wall::board_post(&group, object, wall::Phase::New),
        "board_post_edit" => wall::board_post(&group, object, wall::Phase::Edit),
        "board_post_restore" => wall::board_post(&group, object, wall::Phase::Restore),
        "board_post_delete" => wall::board_post_delete(&group, object),
        "wall_repost" => wall::repost(&group, object),
        "wall_post_new" => wall::post(&group, object),
        "like_add" => community::like(&group, object, true),
        "like_remove" => community::like(&group, object, false),
        "group_join" => community::join(&group, object),
        "group_leave" => community::leave(&group, object),
        "message_new" => community::message(&group, object),
        "poll_vote_new" => community::poll_vote(&group, object),
        _ => {
            return Signal::Ignored {
                reason: "event type not used for points",
            };
        }
    };
    signal.unwrap_or(Signal::Ignored {
        reason: "malformed event object",
    })
}

/// VK user ids are global: no scope.
fn member(user_id: i64) -> domain::network::ExternalIdentity {
    domain::network::ExternalIdentity::new(domain::network::Network::Vk, "", user_id.to_string())
}
