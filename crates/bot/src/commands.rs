//! A private message to the bot becomes one reply: /start, /balance, /history, /top, /link,
//! /help, or a plain text that may be a codeword. Ledger changes go through the command layer
//! and are idempotent, so a message handled twice changes nothing twice.

mod codewords;

use super::texts;
use super::{Bot, BotError, MINI_APP_LINK_FRAGMENT, chats, history, members};
use adapters::signal::{BotMessage, CommandName};
use app::Language;
use app::ingest::link_codes;
use app::{AppError, ProgramContext};
use chrono::{DateTime, Utc};
use clients::{ClientError, InlineButton, InlineKeyboard};
use domain::ids::MemberId;
use domain::network::Network;
use projections::ranking::{self, PeriodKind};
use store::Metadata;
use uuid::Uuid;

/// Members /top lists.
const TOP_LIMIT: i64 = 10;

/// What the bot answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub keyboard: Option<InlineKeyboard>,
}

impl Reply {
    fn text(text: impl Into<String>) -> Self {
        Reply {
            text: text.into(),
            keyboard: None,
        }
    }
}

/// Handles one private message and sends the reply. `Err` means "try again later"; a user who
/// blocked the bot, or a reply Telegram refuses for good, is logged and counts as handled.
pub async fn handle(bot: &Bot, msg: &BotMessage, metadata: Metadata) -> Result<(), BotError> {
    let now = Utc::now();
    let lang = Language::from_code(msg.language_code.as_deref());
    let user_id = msg
        .account
        .external_id
        .parse::<i64>()
        .unwrap_or(msg.chat_id);
    chats::remember(
        bot.pool(),
        bot.rows_key(),
        user_id,
        msg.language_code.as_deref(),
        now,
    )
    .await?;
    let reply = match bot.program().await? {
        Some(program) => {
            remember_profile(bot, &program, msg).await;
            let ctx = Ctx {
                bot,
                program: &program,
                msg,
                lang,
                user_id,
                metadata,
                now,
            };
            ctx.reply().await?
        }
        None => {
            tracing::warn!("a member wrote to the bot, but LOYALTY_PROGRAM is not set up");
            Reply::text(texts::not_configured(lang))
        }
    };
    send(bot, msg.chat_id, user_id, &reply).await
}

/// Sends a reply; a blocked bot or a refused message is final, not a retry.
pub async fn send(bot: &Bot, chat_id: i64, user_id: i64, reply: &Reply) -> Result<(), BotError> {
    let sent = bot
        .telegram
        .send_message(chat_id, &reply.text, reply.keyboard.as_ref())
        .await;
    match sent {
        Ok(_) => Ok(()),
        Err(ClientError::Forbidden { description }) => {
            tracing::info!(%description, "the user blocked the bot; reply dropped");
            chats::mark_unreachable(bot.pool(), bot.rows_key(), user_id, Utc::now()).await?;
            Ok(())
        }
        Err(e) if e.is_retryable() => Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "Telegram refused the bot's reply; not retried");
            Ok(())
        }
    }
}

/// Usernames and names are personal data: they go to `profiles`, never into events. A failure
/// here costs a name on /top, not the reply.
async fn remember_profile(bot: &Bot, program: &ProgramContext, msg: &BotMessage) {
    let account = match bot
        .state
        .accounts()
        .resolve(program.program_id, &msg.account)
        .await
    {
        Ok(account) => account,
        Err(e) => {
            tracing::warn!(error = %e, "could not resolve the bot user's account");
            return;
        }
    };
    let profile = app::ingest::profiles::Profile {
        program_id: program.program_id.0,
        account: account.account,
        username: msg.username.clone(),
        display_name: msg.display_name.clone(),
        language_code: msg.language_code.clone(),
    };
    if let Err(e) = app::ingest::profiles::upsert_profile(bot.pool(), &profile).await {
        tracing::warn!(error = %e, "could not record the bot user's profile");
    }
}

struct Ctx<'a> {
    bot: &'a Bot,
    program: &'a ProgramContext,
    msg: &'a BotMessage,
    lang: Language,
    user_id: i64,
    metadata: Metadata,
    now: DateTime<Utc>,
}

impl Ctx<'_> {
    async fn reply(&self) -> Result<Reply, BotError> {
        let Some(command) = &self.msg.command else {
            return self.plain_text().await;
        };
        match &command.name {
            CommandName::Start => self.start().await,
            CommandName::Balance => self.balance().await,
            CommandName::History => self.history().await,
            CommandName::Top => self.top().await,
            CommandName::Link => self.link(command.args.as_deref()).await,
            CommandName::Forget => self.forget(command.args.as_deref()).await,
            CommandName::Stop => self.broadcasts(false).await,
            CommandName::Resume => self.broadcasts(true).await,
            CommandName::Help | CommandName::Managers | CommandName::Other(_) => Ok(self.help()),
        }
    }

    async fn member(&self) -> Result<MemberId, AppError> {
        let state = &self.bot.state;
        members::ensure_telegram_member(
            state.ledger(),
            state.accounts(),
            self.program.program_id,
            self.user_id,
            self.now,
        )
        .await
    }

    async fn existing_member(&self) -> Result<Option<MemberId>, AppError> {
        let state = &self.bot.state;
        members::telegram_member(
            state.ledger(),
            state.accounts(),
            self.program.program_id,
            self.user_id,
        )
        .await
    }

    /// A button that opens the Mini App at `fragment` (`""` or a screen); Telegram takes only
    /// https web apps, so a plain-http deployment (local development) gets the link in the
    /// text instead.
    fn with_app(&self, mut reply: Reply, label: &str, fragment: &str) -> Reply {
        let url = self.bot.mini_app_link(fragment);
        if url.starts_with("https://") {
            reply.keyboard = Some(InlineKeyboard::single(InlineButton::web_app(label, url)));
        } else {
            reply.text.push_str(&texts::app_link(self.lang, &url));
        }
        reply
    }

    async fn start(&self) -> Result<Reply, BotError> {
        let member = self.member().await?;
        let state = members::member_state(self.bot.state.ledger(), member).await?;
        let reply = Reply::text(texts::welcome(self.lang, state.balance));
        Ok(self.with_app(reply, texts::open_app(self.lang), ""))
    }

    /// `/forget` explains; `/forget yes` erases the member's personal data (the member this
    /// Telegram account belongs to, registered now if there was none, so whatever the bot
    /// just stored of them goes too).
    async fn forget(&self, args: Option<&str>) -> Result<Reply, BotError> {
        let confirmed = args
            .is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "yes" | "да" | "confirm"));
        if !confirmed {
            return Ok(Reply::text(texts::forget_confirm(self.lang)));
        }
        let member = self.member().await?;
        self.bot
            .state
            .erase_member(
                self.program.program_id,
                member,
                domain::event::Eraser::Member,
                domain::event::ErasureReason::MemberRequest,
            )
            .await?;
        Ok(Reply::text(texts::forgotten(self.lang)))
    }

    /// `/stop` and `/resume`: the member's broadcast setting, as the Mini App's switch sets it.
    async fn broadcasts(&self, subscribed: bool) -> Result<Reply, BotError> {
        let member = self.member().await?;
        app::broadcasts::set_opted_out(
            self.bot.pool(),
            self.program.program_id,
            member,
            !subscribed,
            self.now,
        )
        .await?;
        Ok(Reply::text(if subscribed {
            texts::broadcasts_resumed(self.lang)
        } else {
            texts::broadcasts_stopped(self.lang)
        }))
    }

    fn help(&self) -> Reply {
        let reply = Reply::text(texts::help(self.lang));
        self.with_app(reply, texts::open_app(self.lang), "")
    }

    async fn balance(&self) -> Result<Reply, BotError> {
        let Some(member) = self.existing_member().await? else {
            return Ok(Reply::text(texts::not_registered(self.lang)));
        };
        let state = members::member_state(self.bot.state.ledger(), member).await?;
        let mut text = texts::balance(self.lang, state.balance, state.earned, state.spent);
        let now = domain::Timestamp::new(self.now);
        if let Some(standing) = domain::tier::standing(&self.program.rules.tiers, &state, now) {
            text = format!("{text}\n{}", texts::tier(self.lang, &standing));
        }
        if let Some((at, points)) = state.lots.schedule(&self.program.rules.expiry).first() {
            let day = at.with_timezone(&self.program.time_zone).date_naive();
            text = format!("{text}\n{}", texts::next_expiry(self.lang, *points, day));
        }
        if state.blocked {
            text = format!("{text}\n\n{}", texts::blocked(self.lang));
        }
        Ok(Reply::text(text))
    }

    async fn history(&self) -> Result<Reply, BotError> {
        let Some(member) = self.existing_member().await? else {
            return Ok(Reply::text(texts::not_registered(self.lang)));
        };
        let ledger = self.bot.state.ledger();
        let entries = app::reads::latest_balance_entries(
            self.bot.state.ledger().store(),
            member,
            history::HISTORY_LIMIT,
        )
        .await?;
        if entries.is_empty() {
            return Ok(Reply::text(texts::history_empty(self.lang)));
        }
        let mut lines = vec![texts::history_header(self.lang).to_owned()];
        for event in &entries {
            let title = match history::reward_of(event) {
                Some(reward) => Some(history::reward_title(ledger, reward).await?),
                None => None,
            };
            let Some(line) = history::line(self.lang, event, title.as_deref()) else {
                continue;
            };
            let when = history::entry_time(event).map(|at| {
                at.with_timezone(&self.program.time_zone)
                    .format("%d.%m %H:%M")
            });
            lines.push(match when {
                Some(when) => format!("{when}  {line}"),
                None => line,
            });
        }
        Ok(Reply::text(lines.join("\n")))
    }

    async fn top(&self) -> Result<Reply, BotError> {
        let program = self.program.program_id;
        let board =
            ranking::current_board(PeriodKind::AllTime, None, self.program.time_zone, self.now);
        let boards = &self.bot.state.boards;
        let top = boards.top(program.0, board, TOP_LIMIT).await?;
        if top.is_empty() {
            return Ok(Reply::text(texts::top_empty(self.lang)));
        }
        let member = self.existing_member().await?;
        let ids: Vec<Uuid> = top.iter().map(|r| r.member_id).collect();
        let names = self.bot.state.names.names(program.0, &ids).await?;
        let mut lines = vec![texts::top_header(self.lang).to_owned()];
        for (ranked, name) in top.iter().zip(&names) {
            let name = name.as_deref().unwrap_or(texts::anonymous(self.lang));
            let me = if Some(MemberId(ranked.member_id)) == member {
                match self.lang {
                    Language::Ru => " ← вы",
                    Language::En => " ← you",
                }
            } else {
                ""
            };
            let score = texts::points(self.lang, ranked.score);
            lines.push(format!("{}. {name} — {score}{me}", ranked.rank));
        }
        let mine = match member {
            Some(member) => boards.around(program.0, board, member.0, 0).await?,
            None => None,
        };
        lines.push(String::new());
        lines.push(match mine {
            Some(around) => texts::your_rank(self.lang, around.me.rank, around.me.score),
            None => texts::not_ranked(self.lang).to_owned(),
        });
        Ok(Reply::text(lines.join("\n")))
    }

    async fn link(&self, args: Option<&str>) -> Result<Reply, BotError> {
        let Some(arg) = args else {
            let reply = Reply::text(texts::link_intro(self.lang));
            return Ok(self.with_app(
                reply,
                texts::open_link_screen(self.lang),
                MINI_APP_LINK_FRAGMENT,
            ));
        };
        let network = match arg.trim().to_lowercase().as_str() {
            "vk" | "вк" | "vkontakte" | "вконтакте" => Network::Vk,
            "instagram" | "insta" | "ig" | "инстаграм" | "инста" => {
                Network::Instagram
            }
            _ => return Ok(Reply::text(texts::link_unknown_network(self.lang))),
        };
        let member = self.member().await?;
        let (code, _expires_at) = link_codes::create(
            self.bot.pool(),
            self.program.program_id,
            member,
            network,
            self.now,
        )
        .await?;
        let text = texts::link_code(self.lang, network, &code, link_codes::CODE_TTL_MINUTES);
        Ok(Reply::text(text))
    }
}
