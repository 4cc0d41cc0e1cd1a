//! Alerts in the managers' chat. Conditions that last (the bot lost its rights in a program
//! chat, a channel went silent, refused deliveries spike, the read models lag) are checked each
//! tick and alert once per episode; entries of the log (a large award or codeword bonus, a
//! member earning a lot within an hour, a reward's stock falling low) are read in order from
//! the log with their own checkpoint and alert once each.

use super::texts;
use crate::notify::records;
use crate::{Bot, BotError, members};
use app::Language;
use app::managers_chat::ManagersChat;
use chrono::{DateTime, Duration, Utc};
use clients::{InlineButton, InlineKeyboard};
use domain::event::Event;
use domain::ids::{EntryId, MemberId};
use std::collections::{HashMap, HashSet, VecDeque};
use store::{Checkpoint, Envelope};
use uuid::Uuid;

/// The log follower's row in `notification_checkpoint`.
pub const CHECKPOINT: &str = "managers-chat";
/// Events read per batch.
const READ_BATCH: i64 = 500;
/// Batches read per tick at most, so one tick cannot run for ever behind a busy log.
const MAX_BATCHES: usize = 20;
/// Entries older than this when read are not alerted (a worker down for days stays quiet).
const MAX_AGE_HOURS: i64 = 24;
/// Kinds whose condition lasts and ends: their open alert is resolved when it ends.
const LASTING: [&str; 4] = ["rights", "silent", "refused", "lag"];
/// Callback data of the Reverse button: this prefix and the reversal's id.
pub const REVERSE_PREFIX: &str = "rv:";

/// Amounts by the time they were seen, oldest first.
type Window = VecDeque<(DateTime<Utc>, i64)>;

/// What the worker remembers between ticks.
pub struct Watch {
    read_upto: Checkpoint,
    saved: records::SavedPlace,
    /// Per member, the points of each award in the last hour (by record time).
    recent: HashMap<MemberId, Window>,
    /// Members whose last hour is over the threshold (one alert per episode).
    over: HashSet<MemberId>,
    /// Per program: the refused deliveries counted last tick, and the increases seen since
    /// an hour ago.
    refused: HashMap<Uuid, (i64, Window)>,
}

/// An alert to raise: its key, text and buttons.
struct Alert {
    key: String,
    text: String,
    keyboard: Option<InlineKeyboard>,
    /// The award the buttons act on.
    reversal: Option<Reversal>,
}

struct Reversal {
    id: Uuid,
    member: MemberId,
    entry: EntryId,
    points: i64,
}

impl Watch {
    /// Starts at the saved checkpoint; a first start begins at the log's head.
    pub async fn start(bot: &Bot) -> Result<Self, BotError> {
        let saved = records::SavedPlace::load(bot, CHECKPOINT).await?;
        Ok(Watch {
            read_upto: saved.at(),
            saved,
            recent: HashMap::new(),
            over: HashSet::new(),
            refused: HashMap::new(),
        })
    }

    /// Reads the log from the checkpoint and raises the alerts its entries call for.
    pub async fn follow_log(
        &mut self,
        bot: &Bot,
        chats: &[ManagersChat],
        now: DateTime<Utc>,
    ) -> Result<(), BotError> {
        for _ in 0..MAX_BATCHES {
            let (batch, last) = bot.read_log(self.read_upto, READ_BATCH).await?;
            if last == self.read_upto {
                break;
            }
            if !chats.is_empty() {
                for envelope in &batch {
                    self.entry(bot, chats, envelope, now).await?;
                }
            }
            self.read_upto = last;
        }
        // Reading again after a restart alerts nothing twice: an entry's alert is keyed by it.
        self.saved.save(bot.pool(), self.read_upto, false).await?;
        // Members who earned nothing within the hour need no window.
        let hour_ago = now - Duration::hours(1);
        self.recent
            .retain(|_, window| window.back().is_some_and(|(at, _)| *at > hour_ago));
        self.over.retain(|member| self.recent.contains_key(member));
        Ok(())
    }

    async fn entry(
        &mut self,
        bot: &Bot,
        chats: &[ManagersChat],
        envelope: &Envelope<Event>,
        now: DateTime<Utc>,
    ) -> Result<(), BotError> {
        let (member, entry, points, codeword) = match &envelope.event {
            Event::PointsAwarded {
                member_id,
                entry_id,
                points,
                campaign_id: None,
                ..
            } => (*member_id, *entry_id, *points, false),
            Event::CodewordRedeemed {
                member_id,
                entry_id,
                points,
                ..
            } => (*member_id, *entry_id, *points, true),
            Event::RewardStockLow {
                reward_id,
                stock,
                threshold,
                ..
            } => {
                if envelope.recorded_at < now - Duration::hours(MAX_AGE_HOURS) {
                    return Ok(());
                }
                let reward = bot
                    .state
                    .ledger()
                    .load::<domain::reward::RewardState>(&domain::StreamId::Reward(*reward_id))
                    .await?
                    .state;
                let Some(chat) = chat_of(chats, reward.program_id.map(|p| p.0)) else {
                    return Ok(());
                };
                let lang = texts::lang(&chat.language);
                let alert = Alert {
                    key: format!("stock:{}", envelope.position),
                    text: texts::stock_low(lang, &reward.title, *stock, *threshold),
                    keyboard: None,
                    reversal: None,
                };
                raise(bot, chat, alert, now).await?;
                return Ok(());
            }
            _ => return Ok(()),
        };
        let at = envelope.recorded_at;
        let window = self.recent.entry(member).or_default();
        window.push_back((at, points));
        while window
            .front()
            .is_some_and(|(t, _)| *t <= at - Duration::hours(1))
        {
            window.pop_front();
        }
        let hour: i64 = window.iter().map(|(_, p)| p).sum();
        if at < now - Duration::hours(MAX_AGE_HOURS) {
            return Ok(());
        }
        // Most awards concern no chat's thresholds: the member's program is read only for
        // those that may.
        let lowest = |f: fn(&ManagersChat) -> i64| chats.iter().map(f).min().unwrap_or(i64::MAX);
        let may_be_large = points >= lowest(|c| c.thresholds.large_award_points);
        let may_be_hourly = hour >= lowest(|c| c.thresholds.hourly_points);
        if !may_be_large && !may_be_hourly {
            self.over.remove(&member);
            return Ok(());
        }
        let state = members::member_state(bot.state.ledger(), member).await?;
        let Some(chat) = chat_of(chats, state.program_id.map(|p| p.0)) else {
            return Ok(());
        };
        let t = chat.thresholds;
        let lang = texts::lang(&chat.language);
        let large = points >= t.large_award_points;
        let hourly = hour >= t.hourly_points;
        if !hourly {
            self.over.remove(&member);
        }
        if !large && (!hourly || self.over.contains(&member)) {
            return Ok(());
        }
        let who = name(bot, chat, member, lang).await?;
        let (key, text) = if large {
            (
                format!("award:{}", entry.0),
                texts::large_award(lang, &who, points, codeword),
            )
        } else {
            (
                format!("hourly:{}:{}", member.0, entry.0),
                texts::hourly(lang, &who, hour),
            )
        };
        if hourly {
            self.over.insert(member);
        }
        let reversal = Reversal {
            id: domain::ids::derived_id(&format!(
                "managers-reversal/{}/{}",
                chat.program_id, entry.0
            )),
            member,
            entry,
            points,
        };
        let keyboard = buttons(bot, lang, &reversal);
        let alert = Alert {
            key,
            text,
            keyboard: Some(keyboard),
            reversal: Some(reversal),
        };
        raise(bot, chat, alert, now).await?;
        Ok(())
    }

    /// The lasting conditions of one program: each one true now alerts once, each one that
    /// ended is resolved.
    pub async fn check(
        &mut self,
        bot: &Bot,
        chat: &ManagersChat,
        now: DateTime<Utc>,
    ) -> Result<(), BotError> {
        let pool = bot.pool();
        let lang = texts::lang(&chat.language);
        let t = chat.thresholds;
        let program = domain::ids::ProgramId(chat.program_id);
        let channels = app::channels::statuses(pool, program).await?;
        let mut active = Vec::new();
        for c in &channels {
            let label = match &c.title {
                Some(title) => format!("«{title}» ({} {})", c.network, c.destination),
                None => format!("{} {}", c.network, c.destination),
            };
            if c.network == "telegram"
                && matches!(c.bot_role.as_deref(), Some("member" | "removed"))
            {
                active.push(plain(
                    format!("rights:{}", c.destination),
                    texts::rights_lost(lang, &label),
                ));
            }
            if c.last_delivery_at
                .is_some_and(|at| now - at > Duration::hours(i64::from(t.silent_hours)))
            {
                active.push(plain(
                    format!("silent:{}:{}", c.network, c.destination),
                    texts::silent(lang, &label, t.silent_hours),
                ));
            }
        }
        let refused_total: i64 = channels.iter().map(|c| c.refused).sum();
        let (seen, increases) = self
            .refused
            .entry(chat.program_id)
            .or_insert_with(|| (refused_total, VecDeque::new()));
        if refused_total > *seen {
            increases.push_back((now, refused_total - *seen));
        }
        *seen = refused_total;
        while increases
            .front()
            .is_some_and(|(at, _)| *at <= now - Duration::hours(1))
        {
            increases.pop_front();
        }
        let last_hour: i64 = increases.iter().map(|(_, n)| n).sum();
        if last_hour >= i64::from(t.refused_per_hour) {
            active.push(plain("refused".into(), texts::refused(lang, last_hour)));
        }
        if let Some(oldest) = projections::status::oldest_unapplied(pool).await? {
            let behind = (now - oldest).num_minutes();
            if behind >= i64::from(t.lag_minutes) {
                active.push(plain("lag".into(), texts::lag(lang, behind)));
            }
        }
        let keys: Vec<String> = active.iter().map(|a| a.key.clone()).collect();
        let kinds: Vec<&str> = LASTING.to_vec();
        sqlx::query(
            "UPDATE managers_alerts SET resolved_at = $4 \
             WHERE program_id = $1 AND resolved_at IS NULL \
               AND split_part(key, ':', 1) = ANY($2) AND NOT (key = ANY($3))",
        )
        .bind(chat.program_id)
        .bind(&kinds)
        .bind(&keys)
        .bind(now)
        .execute(pool)
        .await?;
        for alert in active {
            raise(bot, chat, alert, now).await?;
        }
        Ok(())
    }
}

fn plain(key: String, text: String) -> Alert {
    Alert {
        key,
        text,
        keyboard: None,
        reversal: None,
    }
}

fn chat_of(chats: &[ManagersChat], program: Option<Uuid>) -> Option<&ManagersChat> {
    let program = program?;
    chats.iter().find(|c| c.program_id == program)
}

/// "Open card" (the panel's member card) and "Reverse".
fn buttons(bot: &Bot, lang: Language, reversal: &Reversal) -> InlineKeyboard {
    let card = bot.public_link(&format!("/admin#/members/{}", reversal.member.0));
    InlineKeyboard {
        inline_keyboard: vec![vec![
            InlineButton::url(texts::open_card(lang), card),
            InlineButton::callback(
                texts::reverse(lang),
                format!("{REVERSE_PREFIX}{}", reversal.id),
            ),
        ]],
    }
}

/// Only the Open card button: once reversed, nothing is left to press.
pub fn card_only(bot: &Bot, lang: Language, member: Uuid) -> InlineKeyboard {
    let card = bot.public_link(&format!("/admin#/members/{member}"));
    InlineKeyboard::single(InlineButton::url(texts::open_card(lang), card))
}

/// The member's name as the panel shows it, else their id.
async fn name(
    bot: &Bot,
    chat: &ManagersChat,
    member: MemberId,
    lang: Language,
) -> Result<String, BotError> {
    let names = bot.state.names.names(chat.program_id, &[member.0]).await?;
    Ok(names
        .into_iter()
        .next()
        .flatten()
        .unwrap_or_else(|| format!("{} {}", texts::anonymous(lang), short(member.0))))
}

fn short(id: Uuid) -> String {
    id.simple().to_string().chars().take(8).collect()
}

/// Claims the alert's open row and sends it; nothing when another process or an earlier tick
/// claimed it. A retryable failure gives the claim back for the next tick.
async fn raise(
    bot: &Bot,
    chat: &ManagersChat,
    alert: Alert,
    now: DateTime<Utc>,
) -> Result<(), BotError> {
    let pool = bot.pool();
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO managers_alerts (program_id, key, chat_id, opened_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (program_id, key) WHERE resolved_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(chat.program_id)
    .bind(&alert.key)
    .bind(chat.chat_id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(id) = claimed else {
        return Ok(());
    };
    if let Some(r) = &alert.reversal {
        sqlx::query(
            "INSERT INTO managers_reversals (id, program_id, member_id, entry_id, points, chat_id) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(r.id)
        .bind(chat.program_id)
        .bind(r.member.0)
        .bind(r.entry.0)
        .bind(r.points)
        .bind(chat.chat_id)
        .execute(pool)
        .await?;
    }
    match super::send(bot, chat.chat_id, &alert.text, alert.keyboard.as_ref()).await {
        Ok(message_id) => {
            sqlx::query("UPDATE managers_alerts SET message_id = $2 WHERE id = $1")
                .bind(id)
                .bind(message_id)
                .execute(pool)
                .await?;
            if let Some(r) = &alert.reversal {
                sqlx::query(
                    "UPDATE managers_reversals SET message_id = $2 \
                     WHERE id = $1 AND message_id IS NULL",
                )
                .bind(r.id)
                .bind(message_id)
                .execute(pool)
                .await?;
            }
            Ok(())
        }
        Err(e) if e.is_retryable() => {
            sqlx::query("DELETE FROM managers_alerts WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Err(e.into())
        }
        Err(e) => {
            tracing::warn!(program = %chat.program_id, key = %alert.key, error = %e,
                "Telegram refused a managers' alert");
            sqlx::query("UPDATE managers_alerts SET error = $2 WHERE id = $1")
                .bind(id)
                .bind(e.to_string())
                .execute(pool)
                .await?;
            Ok(())
        }
    }
}
