//! What managers do from their chat: `/managers` connects the group (or, with `off`,
//! disconnects it), and an award's "Reverse" button asks for a reason and reverses the award
//! with it. Each checks that the Telegram user is linked to an active admin account with the
//! role and program scope the panel requires (admins and managers; an account limited to some
//! programs only for those), and acts as that account.

use super::texts::{self, Refusal};
use super::{alerts, send};
use crate::{Bot, BotError, commands};
use adapters::signal::{CallbackQuery, GroupCommand, GroupReply};
use app::managers_chat::{self, ManagersChatError, ManagersChatRequest};
use app::{AppError, Language, ManagerAction, Outcome};
use chrono::Utc;
use clients::ForceReply;
use domain::DomainError;
use domain::ids::{EntryId, MemberId, ProgramId};
use uuid::Uuid;

/// Longest reason taken, as in the panel.
pub const MAX_REASON_CHARS: usize = 500;

/// The admin account a Telegram user is linked to.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Staff {
    username: String,
    role: String,
    programs: Option<Vec<Uuid>>,
}

impl Staff {
    /// The event actor, as the panel names it.
    fn actor(&self) -> String {
        format!("manager:{}", self.username)
    }
}

/// The account `telegram_id` may act as for `program`, or why not: the panel's `Manage`
/// permission (admin or manager) and its program scope.
async fn staff_for(
    bot: &Bot,
    telegram_id: i64,
    program: Uuid,
) -> Result<Result<Staff, Refusal>, BotError> {
    let staff: Option<Staff> = sqlx::query_as(
        "SELECT username, role, programs FROM admin_users \
         WHERE telegram_id = $1 AND disabled_at IS NULL",
    )
    .bind(telegram_id)
    .fetch_optional(bot.pool())
    .await?;
    let Some(staff) = staff else {
        return Ok(Err(Refusal::NotLinked));
    };
    if !matches!(staff.role.as_str(), "admin" | "manager") {
        return Ok(Err(Refusal::ReadOnly));
    }
    if staff
        .programs
        .as_ref()
        .is_some_and(|programs| !programs.contains(&program))
    {
        return Ok(Err(Refusal::OtherProgram));
    }
    Ok(Ok(staff))
}

async fn say(bot: &Bot, chat_id: i64, text: &str) -> Result<(), BotError> {
    let reply = commands::Reply {
        text: text.to_string(),
        keyboard: None,
    };
    commands::send(bot, chat_id, chat_id, &reply).await
}

/// `/managers` in a group: connects it as the managers' chat of the bot's program, keeping
/// the settings a chat had; `/managers off` disconnects it.
pub async fn managers_command(bot: &Bot, command: &GroupCommand) -> Result<(), BotError> {
    let lang = Language::from_code(command.language_code.as_deref());
    let chat_id = command.chat_id;
    let Some(program) = bot.program().await? else {
        return say(bot, chat_id, texts::no_program(lang)).await;
    };
    let staff = match staff_for(bot, command.user_id, program.program_id.0).await? {
        Ok(staff) => staff,
        Err(why) => return say(bot, chat_id, texts::refusal(lang, why)).await,
    };
    let pool = bot.pool();
    let off = command
        .command
        .args
        .as_deref()
        .is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "off" | "выкл" | "stop"));
    let current = managers_chat::get(pool, program.program_id).await?;
    if off {
        if current.as_ref().is_none_or(|c| c.chat_id != chat_id) {
            return say(bot, chat_id, texts::not_managers_chat(lang)).await;
        }
        return match managers_chat::disconnect(pool, program.program_id, &staff.actor()).await {
            Ok(_) | Err(ManagersChatError::NotConnected) => {
                say(bot, chat_id, texts::disconnected(lang)).await
            }
            Err(e) => Err(chat_error(e)),
        };
    }
    let channel = bot
        .state
        .ingest
        .channel(domain::network::Network::Telegram, &chat_id.to_string())
        .await?;
    if channel.is_some() {
        return say(bot, chat_id, texts::is_channel(lang)).await;
    }
    // The group's language is its connector's, unless the chat already has one.
    let language = match (&current, lang) {
        (Some(c), _) if c.chat_id == chat_id => None,
        (_, Language::En) => Some("en".to_string()),
        (_, Language::Ru) => Some("ru".to_string()),
    };
    let request = ManagersChatRequest {
        chat_id: chat_id.to_string(),
        language,
        ..ManagersChatRequest::default()
    };
    let same = current.as_ref().filter(|c| c.chat_id == chat_id);
    let mut valid = managers_chat::validate(&request, same).map_err(chat_error)?;
    valid.title = command.chat_title.clone();
    match managers_chat::connect(pool, program.program_id, &valid, &staff.actor()).await {
        Ok(_) => {
            let text = texts::connected(
                texts::lang(&valid.language),
                &program.name,
                &valid.digest_time.format("%H:%M").to_string(),
                program.time_zone.name(),
            );
            say(bot, chat_id, &text).await
        }
        Err(ManagersChatError::Taken) => say(bot, chat_id, texts::taken(lang)).await,
        Err(e) => Err(chat_error(e)),
    }
}

fn chat_error(e: ManagersChatError) -> BotError {
    match e {
        ManagersChatError::Database(e) => BotError::Db(e),
        other => BotError::Record(other.to_string()),
    }
}

/// A row of `managers_reversals`.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Pending {
    id: Uuid,
    program_id: Uuid,
    member_id: Uuid,
    entry_id: Uuid,
    points: i64,
    chat_id: i64,
    message_id: Option<i64>,
    prompt_message_id: Option<i64>,
    reversed_by: Option<String>,
}

const PENDING_COLUMNS: &str = "id, program_id, member_id, entry_id, points, chat_id, message_id, \
                               prompt_message_id, reversed_by";

/// The language of the chat a reversal belongs to.
async fn chat_lang(bot: &Bot, program: Uuid) -> Result<Language, BotError> {
    let chat = managers_chat::get(bot.pool(), ProgramId(program)).await?;
    Ok(chat.map_or(Language::Ru, |c| texts::lang(&c.language)))
}

/// A pressed button. "Reverse" from an authorized account asks for the reason (once: a
/// second press points at the question); anyone else is told why not, and nothing changes.
pub async fn callback(bot: &Bot, query: &CallbackQuery) -> Result<(), BotError> {
    let presser_lang = Language::from_code(query.language_code.as_deref());
    let id = query
        .data
        .as_deref()
        .and_then(|d| d.strip_prefix(alerts::REVERSE_PREFIX))
        .and_then(|id| id.parse::<Uuid>().ok());
    let pending: Option<Pending> = match id {
        Some(id) => {
            sqlx::query_as(&format!(
                "SELECT {PENDING_COLUMNS} FROM managers_reversals WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(bot.pool())
            .await?
        }
        None => None,
    };
    let Some(pending) = pending.filter(|p| Some(p.chat_id) == query.chat_id) else {
        return answer(bot, query, texts::stale_button(presser_lang), true).await;
    };
    let lang = chat_lang(bot, pending.program_id).await?;
    if let Err(why) = staff_for(bot, query.user_id, pending.program_id).await? {
        return answer(bot, query, texts::refusal(lang, why), true).await;
    }
    if pending.reversed_by.is_some() {
        let text = texts::already_reversed(lang, pending.reversed_by.as_deref());
        return answer(bot, query, &text, true).await;
    }
    if pending.prompt_message_id.is_none() {
        let force = ForceReply::new(Some(texts::reason_placeholder(lang).to_string()));
        let prompt = bot
            .telegram
            .send_force_reply(
                pending.chat_id,
                &texts::ask_reason(lang, pending.points),
                query.message_id.or(pending.message_id),
                &force,
            )
            .await?;
        sqlx::query(
            "UPDATE managers_reversals SET prompt_message_id = $2 \
             WHERE id = $1 AND prompt_message_id IS NULL",
        )
        .bind(pending.id)
        .bind(prompt.message_id)
        .execute(bot.pool())
        .await?;
    }
    answer(bot, query, texts::asked(lang), false).await
}

async fn answer(bot: &Bot, query: &CallbackQuery, text: &str, alert: bool) -> Result<(), BotError> {
    match bot
        .telegram
        .answer_callback_query(&query.id, Some(text), alert)
        .await
    {
        Ok(()) => Ok(()),
        // A query older than Telegram keeps (about a minute) cannot be answered any more.
        Err(e) if !e.is_retryable() => {
            tracing::info!(error = %e, "callback query not answered");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// A reply in a group. When it answers a reversal's question, an authorized account's text
/// is the reason and the award is reversed, as that account, once.
pub async fn reply(bot: &Bot, reply: &GroupReply) -> Result<(), BotError> {
    let pending: Option<Pending> = sqlx::query_as(&format!(
        "SELECT {PENDING_COLUMNS} FROM managers_reversals \
         WHERE chat_id = $1 AND prompt_message_id = $2"
    ))
    .bind(reply.chat_id)
    .bind(reply.reply_to_message_id)
    .fetch_optional(bot.pool())
    .await?;
    let Some(pending) = pending else {
        return Ok(());
    };
    let lang = chat_lang(bot, pending.program_id).await?;
    let staff = match staff_for(bot, reply.user_id, pending.program_id).await? {
        Ok(staff) => staff,
        Err(why) => {
            let text = texts::refused_reversal(lang, texts::refusal(lang, why));
            return say(bot, reply.chat_id, &text).await;
        }
    };
    if pending.reversed_by.is_some() {
        let text = texts::already_reversed(lang, pending.reversed_by.as_deref());
        return say(bot, reply.chat_id, &text).await;
    }
    let reason = reply.text.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return say(
            bot,
            reply.chat_id,
            &texts::reason_required(lang, MAX_REASON_CHARS),
        )
        .await;
    }
    let action = ManagerAction {
        manager: staff.actor(),
        // One reversal per button, whoever answers and however often.
        request_id: domain::ids::derived_id(&format!("managers-chat/reverse/{}", pending.id)),
        at: Utc::now().into(),
    };
    let outcome = bot
        .state
        .ledger()
        .compensate_entry(
            ProgramId(pending.program_id),
            MemberId(pending.member_id),
            EntryId(pending.entry_id),
            reason,
            None,
            &action,
        )
        .await;
    let by = match outcome {
        Ok(Outcome::Recorded { .. }) => staff.actor(),
        Ok(Outcome::Duplicate | Outcome::Unchanged)
        | Err(AppError::Denied(DomainError::AlreadyCompensated(_))) => {
            mark_reversed(bot, &pending, None).await?;
            let text = texts::already_reversed(lang, None);
            return say(bot, reply.chat_id, &text).await;
        }
        Err(AppError::Denied(refused)) => {
            let text = texts::refused_reversal(lang, &refused.to_string());
            return say(bot, reply.chat_id, &text).await;
        }
        Err(e) => return Err(e.into()),
    };
    mark_reversed(bot, &pending, Some(&by)).await?;
    if let Some(message_id) = pending.message_id {
        let keyboard = alerts::card_only(bot, lang, pending.member_id);
        if let Err(e) = bot
            .telegram
            .edit_message_reply_markup(pending.chat_id, message_id, &keyboard)
            .await
        {
            tracing::info!(error = %e, "the alert's buttons could not be changed");
        }
    }
    let text = texts::reversed(lang, pending.points, &by, reason);
    send(bot, reply.chat_id, &text, None).await?;
    Ok(())
}

async fn mark_reversed(bot: &Bot, pending: &Pending, by: Option<&str>) -> Result<(), BotError> {
    sqlx::query(
        "UPDATE managers_reversals SET reversed_at = now(), reversed_by = coalesce($2, 'panel') \
         WHERE id = $1 AND reversed_at IS NULL",
    )
    .bind(pending.id)
    .bind(by)
    .execute(bot.pool())
    .await?;
    Ok(())
}
