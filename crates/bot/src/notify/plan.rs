//! Which events become a notification, to which chat, with what text.

use super::entry_key;
use crate::{Bot, BotError, chats, history, members};
use chrono::{DateTime, Duration, Utc};
use domain::event::Event;
use domain::ids::{EntryId, MemberId, ProgramId, RewardId};
use std::collections::{HashMap, HashSet};
use store::{Checkpoint, Envelope};

/// Entries older than this when the worker reads them are not announced (a worker that was
/// down for days would otherwise flood members with old news).
pub const MAX_AGE_HOURS: i64 = 24;

/// One notification to offer to the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub checkpoint: Checkpoint,
    pub key: String,
    pub chat_id: i64,
    pub text: String,
}

/// The member and entry an event is news about. A codeword's `PointsAwarded` is announced by
/// its `CodewordRedeemed` (same entry), so only the latter counts; a codeword bonus held for
/// review is announced by its `AwardHeld` instead (see [`plan`]). An approval is news of its
/// own, under an entry derived from the award (the award's own entry announced the hold).
pub fn news(event: &Event) -> Option<(MemberId, EntryId)> {
    match event {
        Event::HeldAwardApproved {
            member_id,
            award_entry_id,
            ..
        } => Some((*member_id, approval_entry(*award_entry_id))),
        Event::AwardHeld {
            member_id,
            entry_id,
            ..
        } => Some((*member_id, *entry_id)),
        // A rise up the ladder, once per move; a fall or a lapse is not announced.
        Event::TierChanged {
            member_id,
            to: Some(_),
            level,
            from_level,
            at,
            ..
        } if level > from_level => Some((*member_id, tier_entry(*member_id, *level, *at))),
        // A warning is news once: its entry derives from what it counted up to.
        Event::ExpiryWarned {
            member_id, through, ..
        } => Some((*member_id, warning_entry(*member_id, *through))),
        Event::PointsAwarded {
            member_id,
            entry_id,
            campaign_id: None,
            ..
        }
        | Event::AwardRestored {
            member_id,
            entry_id,
            ..
        }
        | Event::SeasonPrizeAwarded {
            member_id,
            entry_id,
            ..
        }
        | Event::PointsReversed {
            member_id,
            entry_id,
            ..
        }
        | Event::RewardRedeemed {
            member_id,
            entry_id,
            ..
        }
        | Event::RedemptionCancelled {
            member_id,
            entry_id,
            ..
        }
        | Event::CodewordRedeemed {
            member_id,
            entry_id,
            ..
        } => Some((*member_id, *entry_id)),
        Event::PointsAdjusted {
            member_id,
            entry_id,
            delta,
            ..
        } if *delta != 0 => Some((*member_id, *entry_id)),
        _ => None,
    }
}

/// Notifications for a batch of the log: members with a reachable Telegram chat, of the
/// programs the bot serves (`Bot::serves`), entries younger than [`MAX_AGE_HOURS`].
pub async fn plan(
    bot: &Bot,
    batch: &[Envelope<Event>],
    now: DateTime<Utc>,
) -> Result<Vec<Planned>, BotError> {
    let oldest = now - Duration::hours(MAX_AGE_HOURS);
    let mut planned = stock_alerts(bot, batch, oldest).await?;
    planned.extend(raffle_winners(bot, batch, oldest).await?);
    planned.extend(raffle_announcements(bot, batch, oldest).await?);
    let held: HashSet<EntryId> = batch
        .iter()
        .filter_map(|envelope| match &envelope.event {
            Event::AwardHeld { entry_id, .. } => Some(*entry_id),
            _ => None,
        })
        .collect();
    let candidates: Vec<(&Envelope<Event>, MemberId, EntryId)> = batch
        .iter()
        .filter(|envelope| envelope.recorded_at >= oldest)
        .filter(|envelope| match &envelope.event {
            Event::CodewordRedeemed { entry_id, .. } => !held.contains(entry_id),
            _ => true,
        })
        .filter_map(|envelope| {
            let (member, entry) = news(&envelope.event)?;
            Some((envelope, member, entry))
        })
        .collect();
    if candidates.is_empty() {
        return Ok(planned);
    }
    let ledger = bot.state.ledger();
    let mut chat_of: HashMap<MemberId, Option<(i64, ProgramId)>> = HashMap::new();
    for (_, member, _) in &candidates {
        if chat_of.contains_key(member) {
            continue;
        }
        let state = members::member_state(ledger, *member).await?;
        let in_program = state.program_id.is_some_and(|p| bot.serves(p));
        let chat = members::telegram_chat(bot.state.accounts(), &state)
            .await?
            .zip(state.program_id)
            .filter(|_| in_program);
        chat_of.insert(*member, chat);
    }
    let chats: Vec<(i64, ProgramId)> = chat_of.values().flatten().copied().collect();
    let infos = chats::infos(bot.pool(), bot.rows_key(), &chats).await?;
    let rewards: HashSet<RewardId> = candidates
        .iter()
        .filter_map(|(envelope, _, _)| history::reward_of(&envelope.event))
        .collect();
    let mut titles = HashMap::new();
    for reward in rewards {
        titles.insert(reward, history::reward_title(ledger, reward).await?);
    }
    for (envelope, member, entry) in candidates {
        let Some((chat_id, _)) = chat_of.get(&member).copied().flatten() else {
            continue;
        };
        let Some(info) = infos.get(&chat_id).filter(|info| info.reachable) else {
            continue;
        };
        let title = history::reward_of(&envelope.event).and_then(|r| titles.get(&r));
        let Some(text) = history::line(info.lang, &envelope.event, title.map(String::as_str))
        else {
            continue;
        };
        planned.push(Planned {
            checkpoint: envelope.checkpoint(),
            key: entry_key(entry),
            chat_id,
            text,
        });
    }
    Ok(planned)
}

/// The notification entry of a move up to `level`, decided at `at`.
fn tier_entry(member: MemberId, level: u32, at: domain::Timestamp) -> EntryId {
    EntryId(domain::ids::derived_id(&format!(
        "tier-reached:{}:{level}:{}",
        member.0,
        at.get().timestamp_micros()
    )))
}

/// The notification entry of an expiry warning counting points up to `through`.
fn warning_entry(member: MemberId, through: domain::Timestamp) -> EntryId {
    EntryId(domain::ids::derived_id(&format!(
        "expiry-warning:{}:{}",
        member.0,
        through.get().timestamp_micros()
    )))
}

/// The notification entry of a held award's approval.
fn approval_entry(award: EntryId) -> EntryId {
    EntryId(domain::ids::derived_id(&format!(
        "held-award-approved:{}",
        award.0
    )))
}

/// The program a stream belongs to, if this bot serves it.
fn served(bot: &Bot, of: Option<ProgramId>) -> Option<ProgramId> {
    of.filter(|p| bot.serves(*p))
}

async fn raffle_state(
    bot: &Bot,
    raffle: domain::ids::RaffleId,
) -> Result<domain::raffle::RaffleState, BotError> {
    let stream = domain::StreamId::Raffle(raffle);
    Ok(bot.state.ledger().load(&stream).await?.state)
}

/// A reward's stock fell to its alert threshold: every admin and manager of its program who
/// linked a Telegram account (to sign in) hears it in their chat with the bot, once, unless
/// the program has a managers' chat, which then carries it.
async fn stock_alerts(
    bot: &Bot,
    batch: &[Envelope<Event>],
    oldest: DateTime<Utc>,
) -> Result<Vec<Planned>, BotError> {
    let mut planned = Vec::new();
    for envelope in batch.iter().filter(|e| e.recorded_at >= oldest) {
        let Event::RewardStockLow {
            reward_id,
            stock,
            threshold,
            ..
        } = &envelope.event
        else {
            continue;
        };
        let ledger = bot.state.ledger();
        let reward = ledger
            .load::<domain::reward::RewardState>(&domain::StreamId::Reward(*reward_id))
            .await?
            .state;
        let Some(of) = served(bot, reward.program_id) else {
            continue;
        };
        if app::managers_chat::get(bot.pool(), of).await?.is_some() {
            continue; // the managers' chat hears it (`managers::alerts`), once for everyone
        }
        let text = stock_alert_text(&reward.title, *stock, *threshold);
        for chat_id in managers_on_telegram(bot.pool(), of).await? {
            planned.push(Planned {
                checkpoint: envelope.checkpoint(),
                key: format!("stock-low:{}:{chat_id}", envelope.position),
                chat_id,
                text: text.clone(),
            });
        }
    }
    Ok(planned)
}

/// A raffle's commitment when it opens, and its seed when drawn, posted in every Telegram chat
/// connected with its program, so the community sees the commitment before any ticket is
/// sold. In Russian, the programs' language (a program has no language of its own yet).
async fn raffle_announcements(
    bot: &Bot,
    batch: &[Envelope<Event>],
    oldest: DateTime<Utc>,
) -> Result<Vec<Planned>, BotError> {
    let mut planned = Vec::new();
    for envelope in batch.iter().filter(|e| e.recorded_at >= oldest) {
        let (raffle_id, what) = match &envelope.event {
            Event::RaffleOpened { raffle_id, .. } => (raffle_id, "opened"),
            Event::RaffleDrawn { raffle_id, .. } => (raffle_id, "drawn"),
            _ => continue,
        };
        let raffle = raffle_state(bot, *raffle_id).await?;
        let Some(of) = served(bot, raffle.program_id) else {
            continue;
        };
        let proof = bot.public_link(&format!("/api/v1/raffles/{}/proof", raffle_id.0));
        let text = match (what, &raffle.drawn) {
            ("drawn", Some((seed, won))) => format!(
                "Итоги розыгрыша «{}»: победителей — {} из {} участий. Зерно: {seed}. \
                 Проверить, что победители следуют из зерна и списка участий: {proof}",
                raffle.title,
                won.len(),
                raffle.tickets.len()
            ),
            _ => format!(
                "Розыгрыш «{}»: {}. {}. Честность: SHA-256 зерна, по которому определятся \
                 победители, — {}. Зерно откроем при розыгрыше.",
                raffle.title,
                raffle.prize,
                entry_terms(&raffle),
                raffle.commitment
            ),
        };
        for chat_id in program_chats(bot.pool(), of).await? {
            planned.push(Planned {
                checkpoint: envelope.checkpoint(),
                key: format!("raffle-{what}:{}:{chat_id}", raffle_id.0),
                chat_id,
                text: text.clone(),
            });
        }
    }
    Ok(planned)
}

/// How to enter, in the opening post: the ticket's price, or who the activity rule lets in.
fn entry_terms(raffle: &domain::raffle::RaffleState) -> String {
    let when = |t: domain::Timestamp| t.get().format("%d.%m.%Y %H:%M UTC").to_string();
    let until = raffle.ends_at.map(when).unwrap_or_default();
    match raffle.entry_rule {
        domain::raffle::EntryRule::Tickets => format!(
            "Билет — {} баллов, в приложении до {until}",
            raffle.ticket_cost
        ),
        domain::raffle::EntryRule::Activity(rule) => {
            let did = match rule.kind {
                None => "получил баллы за любое действие",
                Some(kind) => activity_done(kind),
            };
            let network = match rule.network {
                Some(domain::network::Network::Instagram) => " в Instagram",
                Some(domain::network::Network::Vk) => " во ВКонтакте",
                Some(domain::network::Network::Telegram) => " в Telegram",
                None => "",
            };
            format!(
                "Участвует каждый, кто {did}{network} с {} до {until}, один раз; удалённое до \
                 конца не считается",
                when(rule.from)
            )
        }
    }
}

/// "Who commented", in Russian, for each kind of activity.
fn activity_done(kind: domain::network::ActivityKind) -> &'static str {
    use domain::network::ActivityKind::*;
    match kind {
        Comment => "оставил комментарий",
        Mention => "упомянул нас",
        Reaction => "поставил реакцию",
        PollVote => "проголосовал в опросе",
        Repost => "сделал репост",
        Message => "написал нам",
        Subscription => "подписался",
        Codeword => "написал кодовое слово",
    }
}

/// The Telegram chats (groups and channels) connected with `program` that still have the bot.
async fn program_chats(pool: &sqlx::PgPool, program: ProgramId) -> sqlx::Result<Vec<i64>> {
    let channels = app::channels::statuses(pool, program).await?;
    Ok(channels
        .iter()
        .filter(|c| c.network == "telegram" && c.bot_role.as_deref() != Some("removed"))
        .filter_map(|c| c.destination.parse().ok())
        .collect())
}

/// A raffle was drawn: each winner with a reachable chat hears it, in their language, once.
async fn raffle_winners(
    bot: &Bot,
    batch: &[Envelope<Event>],
    oldest: DateTime<Utc>,
) -> Result<Vec<Planned>, BotError> {
    let mut planned = Vec::new();
    for envelope in batch.iter().filter(|e| e.recorded_at >= oldest) {
        let Event::RaffleDrawn {
            raffle_id,
            winning_tickets,
            ..
        } = &envelope.event
        else {
            continue;
        };
        let ledger = bot.state.ledger();
        let raffle = raffle_state(bot, *raffle_id).await?;
        let Some(of) = served(bot, raffle.program_id) else {
            continue;
        };
        for ticket in winning_tickets {
            let Some((_, member)) = raffle.tickets.iter().find(|t| t.0 == *ticket) else {
                continue;
            };
            let state = members::member_state(ledger, *member).await?;
            let Some(chat_id) = members::telegram_chat(bot.state.accounts(), &state).await? else {
                continue;
            };
            let infos = chats::infos(bot.pool(), bot.rows_key(), &[(chat_id, of)]).await?;
            let Some(info) = infos.get(&chat_id).filter(|i| i.reachable) else {
                continue;
            };
            let text = match info.lang {
                app::Language::Ru => format!(
                    "🎉 Вы выиграли в розыгрыше «{}»: {}! Команда бренда свяжется с вами.",
                    raffle.title, raffle.prize
                ),
                app::Language::En => format!(
                    "🎉 You won the raffle “{}”: {}! The brand's team will be in touch.",
                    raffle.title, raffle.prize
                ),
            };
            planned.push(Planned {
                checkpoint: envelope.checkpoint(),
                key: format!("raffle-won:{}:{}", raffle_id.0, ticket.0),
                chat_id,
                text,
            });
        }
    }
    Ok(planned)
}

/// Managers have no language setting of their own, so the alert speaks both of the panel's.
pub fn stock_alert_text(title: &str, stock: i64, threshold: u32) -> String {
    format!(
        "⚠️ «{title}»: осталось {stock} (порог {threshold}). Загрузите коды или добавьте \
         остаток в панели.\n⚠️ «{title}»: {stock} left (alert at {threshold}). Upload codes or \
         add stock in the admin panel."
    )
}

/// Telegram ids of the active admins and managers who may see `program` (the accounts the
/// admin panel keeps; an admin sees every program, a manager those listed, or all if none).
async fn managers_on_telegram(pool: &sqlx::PgPool, program: ProgramId) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT telegram_id FROM admin_users \
         WHERE telegram_id IS NOT NULL AND disabled_at IS NULL AND role IN ('admin', 'manager') \
           AND (programs IS NULL OR $1 = ANY(programs)) \
         ORDER BY telegram_id",
    )
    .bind(program.0)
    .fetch_all(pool)
    .await
}
