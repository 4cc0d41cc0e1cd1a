//! Platform signals become commands. Adapters have already verified and parsed the delivery;
//! here each signal is routed to its program, its author resolved to a member, and the program's
//! rules applied. Denials (caps, cooldowns, duplicates, repeated texts) are normal outcomes,
//! not errors.

pub mod bot_codewords;
pub mod channels;
pub mod deliveries;
pub mod link_codes;
pub mod polls;
pub mod profiles;
pub mod unrouted;

use crate::accounts::Accounts;
use crate::cache::Expiring;
use crate::commands::delivery_command_id;
use crate::secrets::SecretBox;
use crate::{AppError, Ledger, Outcome, ProgramContext};
use adapters::signal::{Activity, MembershipChange, MembershipEvent, Retraction, Signal};
use chrono::{DateTime, Utc};
use domain::campaign::RedeemCodeword;
use domain::event::{LinkMethod, ReversalReason};
use domain::identity::{IdentityState, decide_register_observed};
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId};
use domain::member::MemberState;
use domain::network::{ActivityKind, ActivityRef, ExternalIdentity, LinkedAccount, Network};
use domain::privacy::PlatformActivity;
use domain::text::TextFingerprint;
use domain::{DomainError, StreamId};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use store::Metadata;
use uuid::Uuid;

/// How long the list of a program's campaigns is reused before it is read again. The redeem
/// decision itself always uses the campaign's current state.
const CAMPAIGN_LIST_TTL: Duration = Duration::from_secs(2);

/// Most programs whose campaign lists are kept.
const MAX_CAMPAIGN_LISTS: usize = 10_000;

/// What became of one signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Awarded {
        points: i64,
    },
    CodewordRedeemed {
        points: i64,
    },
    /// Recorded, and held for a manager's review (`AwardHeld`): worth nothing until approved.
    Held {
        points: i64,
    },
    Linked(MemberId),
    Reversed,
    Restored,
    Duplicate,
    Denied(DomainError),
    Ignored(String),
}

#[derive(Clone)]
pub struct Ingest {
    ledger: Ledger,
    pool: PgPool,
    accounts: Accounts,
    /// Each program's campaign ids, read at most [`CAMPAIGN_LIST_TTL`] ago.
    campaigns: Expiring<ProgramId, Arc<[CampaignId]>>,
    /// Each program's public links (the brand's handles a mention names), read at most
    /// [`CAMPAIGN_LIST_TTL`] ago: a group where members tag each other would otherwise read
    /// them on every message.
    brand_links: Expiring<ProgramId, Arc<crate::brand::BrandLinks>>,
    channels: channels::ChannelCache,
    polls: polls::PollRoutes,
    profiles: profiles::ProfileWriter,
    unrouted: unrouted::UnroutedLog,
    /// Looks up comments that mention a brand; none until configured.
    graph: Option<clients::instagram::InstagramGraph>,
}

impl Ingest {
    pub fn new(ledger: Ledger, pool: PgPool, accounts: Accounts, secrets: SecretBox) -> Self {
        Self {
            ledger,
            accounts,
            profiles: profiles::ProfileWriter::spawn(pool.clone()),
            pool,
            campaigns: Expiring::new(MAX_CAMPAIGN_LISTS, CAMPAIGN_LIST_TTL),
            brand_links: Expiring::new(MAX_CAMPAIGN_LISTS, CAMPAIGN_LIST_TTL),
            channels: channels::ChannelCache::new(secrets),
            polls: Default::default(),
            unrouted: Default::default(),
            graph: None,
        }
    }

    /// Looks mentions up at `base_url` (the Graph API, or a fake in tests).
    pub fn with_instagram_graph(mut self, base_url: &str) -> Result<Self, clients::ClientError> {
        self.graph = Some(clients::instagram::InstagramGraph::new(base_url)?);
        Ok(self)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The channel (and so the program) a platform destination belongs to. A Telegram poll
    /// answer's destination is its poll (`poll:<id>`), owned by the program that published it.
    /// The channels of this process, cached: connecting or disconnecting one here forgets it.
    pub fn channel_cache(&self) -> &channels::ChannelCache {
        &self.channels
    }

    pub async fn channel(
        &self,
        network: Network,
        destination: &str,
    ) -> sqlx::Result<Option<channels::Channel>> {
        if network == Network::Telegram && destination.starts_with(polls::DESTINATION_PREFIX) {
            return self.polls.find(&self.pool, destination).await;
        }
        self.channels.find(&self.pool, network, destination).await
    }

    /// A delivery for a destination no program receives: counted and kept for the admin
    /// panel, nothing else.
    pub async fn unrouted(
        &self,
        network: Network,
        destination: &str,
        why: unrouted::Unrouted,
    ) -> Result<(), AppError> {
        self.unrouted
            .record(&self.pool, network, destination, why)
            .await
            .map_err(AppError::from)
    }

    /// A Telegram group became a supergroup: its channel follows it to the new chat id, so
    /// activity there reaches the program. Both migration messages (in the old group and in
    /// the new supergroup) say so; the first moves the channel, the second finds nothing to do.
    pub async fn chat_migrated(&self, from: &str, to: &str) -> Result<(), AppError> {
        let moved = channels::move_telegram_chat(&self.pool, from, to).await?;
        for chat in [from, to] {
            self.channels.forget(Network::Telegram, chat);
        }
        match moved {
            Some(moved) => tracing::info!(
                from,
                to,
                program = %moved.program_id,
                "Telegram group became a supergroup: its channel moved"
            ),
            None => tracing::debug!(from, to, "chat migration: no channel to move"),
        }
        Ok(())
    }

    /// Routes each signal of one delivery to the program owning its destination and records
    /// it; a destination nobody receives is noted once per delivery. Bot messages and the
    /// bot's own membership changes are the bot's to handle (`bot::updates`) and skipped here.
    pub async fn record_delivery(
        &self,
        network: Network,
        signals: &[Signal],
        metadata: Metadata,
    ) -> Result<(), AppError> {
        let received_at = Utc::now();
        let mut unrouted: Vec<&str> = Vec::new();
        for signal in signals {
            match signal {
                Signal::BotMessage(_)
                | Signal::BotStatus(_)
                | Signal::GroupCommand(_)
                | Signal::GroupReply(_)
                | Signal::CallbackQuery(_) => continue,
                Signal::ChatMigrated {
                    from_chat_id,
                    to_chat_id,
                } => {
                    self.chat_migrated(from_chat_id, to_chat_id).await?;
                    continue;
                }
                _ => {}
            }
            let Some(destination) = destination(signal) else {
                continue;
            };
            let channel = self.channel(network, destination).await?;
            let Some(channel) = channel else {
                // An answer to a poll this server did not publish has nothing to connect.
                let poll = destination.starts_with(polls::DESTINATION_PREFIX);
                if !poll && !unrouted.contains(&destination) {
                    unrouted.push(destination);
                }
                continue;
            };
            if !destination.starts_with(polls::DESTINATION_PREFIX) {
                self.channels
                    .note_delivery(&self.pool, network, destination);
            }
            let program = self.ledger.program(channel.program()).await?;
            let handled = self
                .handle(&program, signal, metadata.clone(), received_at)
                .await?;
            tracing::debug!(?handled, "signal recorded");
        }
        for destination in unrouted {
            self.unrouted(network, destination, unrouted::Unrouted::NoProgram)
                .await?;
        }
        Ok(())
    }

    /// Handles one signal for the program that owns its destination. A delivery about
    /// something a member can withdraw and give again (likes, reactions, votes, joins, deleted
    /// and restored comments) changes the ledger at most once, whatever happened after it: what
    /// it recorded carries its delivery's command id (a duplicate when it arrives again), and
    /// when it recorded nothing, that is remembered (`deliveries`).
    pub async fn handle(
        &self,
        program: &ProgramContext,
        signal: &Signal,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        let once = match withdrawable(signal) {
            Some((activity, author)) => self
                .activity_ref(program.program_id, &activity, author)
                .await?
                .and_then(|activity| delivery_command_id(program.program_id, &metadata, &activity)),
            None => None,
        };
        if let Some(command_id) = once
            && deliveries::changed_nothing(&self.pool, command_id)
                .await
                .map_err(store::StoreError::from)?
        {
            return Ok(vec![Handled::Duplicate]);
        }
        let handled = self.decide(program, signal, metadata, received_at).await?;
        if let Some(command_id) = once
            && !handled.iter().any(Handled::changed_ledger)
        {
            deliveries::remember_unchanged(&self.pool, command_id)
                .await
                .map_err(store::StoreError::from)?;
        }
        Ok(handled)
    }

    async fn decide(
        &self,
        program: &ProgramContext,
        signal: &Signal,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        match signal {
            Signal::Activity(activity) => {
                let mut handled = self
                    .activity(program, activity, metadata.clone(), received_at)
                    .await?;
                // Naming the brand earns beside the comment itself, once per comment.
                if let Some(mention) = self.brand_mention(program, activity).await? {
                    handled.extend(
                        self.activity(program, &mention, metadata, received_at)
                            .await?,
                    );
                }
                Ok(handled)
            }
            Signal::Edit(edit) => {
                // An edit never earns twice; a codeword added by editing still counts once.
                let occurred = edit.edited_at.unwrap_or(received_at);
                let matched = self
                    .codeword_matches(program, &edit.activity, occurred)
                    .await?;
                if matched.is_empty() {
                    return Ok(vec![]);
                }
                let account = self
                    .accounts
                    .resolve(program.program_id, &edit.activity.account)
                    .await?;
                let member = self
                    .member_for_account(program.program_id, account, received_at)
                    .await?;
                let reference = self.authored(program.program_id, &edit.activity, account);
                self.codewords(
                    program,
                    member,
                    &edit.activity,
                    &reference,
                    matched,
                    occurred,
                    metadata,
                    received_at,
                )
                .await
            }
            Signal::Restoration(activity) => {
                // Only an award can be restored, and an award has its member already.
                let nothing = || {
                    Ok(vec![Handled::Ignored(
                        "nothing was awarded for this activity".into(),
                    )])
                };
                let Some(account) = self
                    .accounts
                    .find(program.program_id, &activity.account)
                    .await?
                else {
                    return nothing();
                };
                let Some(member) = self
                    .ledger
                    .identity_owner(program.program_id, &account)
                    .await?
                else {
                    return nothing();
                };
                let outcome = self
                    .ledger
                    .restore_activity(
                        program.program_id,
                        member,
                        self.authored(program.program_id, activity, account),
                        metadata,
                        received_at.into(),
                    )
                    .await;
                Ok(vec![settle(outcome, Handled::Restored)?])
            }
            Signal::Retraction(retraction) => {
                let mut handled = self
                    .retraction(program, retraction, metadata.clone(), received_at)
                    .await?;
                // A deleted comment takes its mention of the brand with it, if it earned one.
                if matches!(
                    retraction.activity.kind,
                    ActivityKind::Comment | ActivityKind::Message
                ) {
                    let mention = Retraction {
                        activity: PlatformActivity {
                            kind: ActivityKind::Mention,
                            ..retraction.activity.clone()
                        },
                        ..retraction.clone()
                    };
                    let reversed = self
                        .retraction(program, &mention, metadata, received_at)
                        .await?;
                    handled.extend(
                        reversed
                            .into_iter()
                            .filter(|h| !matches!(h, Handled::Ignored(_) | Handled::Denied(_))),
                    );
                }
                Ok(handled)
            }
            Signal::Membership(change) => {
                self.membership(program, change, metadata, received_at)
                    .await
            }
            Signal::MentionedInComment {
                destination,
                comment_id,
                sent_at,
            } => {
                let Some(mention) = self
                    .instagram_mention(destination, comment_id, *sent_at)
                    .await?
                else {
                    return Ok(vec![Handled::Ignored(
                        "the mention's author could not be looked up".into(),
                    )]);
                };
                self.activity(program, &mention, metadata, received_at)
                    .await
            }
            Signal::Ignored { reason } => Ok(vec![Handled::Ignored((*reason).to_string())]),
            other => Ok(vec![Handled::Ignored(format!(
                "{} is handled elsewhere",
                signal_name(other)
            ))]),
        }
    }

    /// A comment elsewhere that mentions the brand, looked up with the access token connected
    /// with the brand's Instagram channel, as a mention by its author; `None` without a token,
    /// or when Meta does not say who wrote it (nobody to credit). A lookup that fails for a
    /// moment fails the delivery, so Meta sends it again.
    async fn instagram_mention(
        &self,
        brand_account: &str,
        comment_id: &str,
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Activity>, AppError> {
        let Some(graph) = &self.graph else {
            return Ok(None);
        };
        let channel = self
            .channel(Network::Instagram, brand_account)
            .await
            .map_err(store::StoreError::from)?;
        let Some(token) = channel.and_then(|c| c.secret) else {
            return Ok(None);
        };
        let token = secrecy::SecretString::from(token);
        let comment = match graph
            .mentioned_comment(brand_account, comment_id, &token)
            .await
        {
            Ok(comment) => comment,
            Err(e) if e.is_retryable() => {
                return Err(AppError::Upstream(format!("Instagram mention lookup: {e}")));
            }
            Err(e) => {
                tracing::warn!(error = %e, "an Instagram mention could not be looked up");
                return Ok(None);
            }
        };
        let Some(author) = comment.from else {
            return Ok(None);
        };
        let occurred_at = comment
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
            .map(|t| t.with_timezone(&Utc))
            .or(sent_at);
        Ok(Some(Activity {
            account: ExternalIdentity::new(Network::Instagram, brand_account, author.id),
            username: author.username,
            display_name: None,
            language_code: None,
            kind: ActivityKind::Mention,
            reference: comment.id,
            destination: brand_account.to_string(),
            target: None,
            mentions: Vec::new(),
            // Written under someone else's post: no codeword or link code counts there.
            text: None,
            occurred_at,
        }))
    }

    /// The mention an activity makes of the brand, as an activity of its own (same reference,
    /// so the domain pays it once): on VK the community it was written in (`club<group id>`),
    /// on Telegram and Instagram the handle of the brand's public link (the Rules page).
    async fn brand_mention(
        &self,
        program: &ProgramContext,
        activity: &Activity,
    ) -> Result<Option<Activity>, AppError> {
        if activity.mentions.is_empty()
            || !matches!(activity.kind, ActivityKind::Comment | ActivityKind::Message)
        {
            return Ok(None);
        }
        let network = activity.account.network;
        let handle = match network {
            Network::Vk => Some(format!("club{}", activity.destination)),
            Network::Telegram | Network::Instagram => self
                .brand_links(program.program_id)
                .await?
                .mention_handle(network),
        };
        let Some(handle) = handle.filter(|h| activity.mentions.contains(h)) else {
            return Ok(None);
        };
        tracing::debug!(%handle, "the activity mentions the brand");
        Ok(Some(Activity {
            kind: ActivityKind::Mention,
            // The comment's text earned (and was checked) once already.
            text: None,
            mentions: Vec::new(),
            ..activity.clone()
        }))
    }

    async fn activity(
        &self,
        program: &ProgramContext,
        activity: &Activity,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        if program.rules.is_own_account(&activity.account) {
            return Ok(vec![Handled::Ignored("the program's own account".into())]);
        }
        let (account, fresh) = self
            .accounts
            .resolve_fresh(program.program_id, &activity.account)
            .await?;
        if fresh {
            // A new account's first activity reads none of its streams.
            self.ledger.known_new_account(program.program_id, account);
        }
        // The names are stored beside the points, not before them (each waits for its own
        // commit); the delivery is answered once both are done. A failure of either fails the
        // delivery, and the platform's retry is a duplicate for whatever did commit.
        let profile = self.profiles.record(
            program.program_id,
            account.account,
            activity.username.as_deref(),
            activity.display_name.as_deref(),
            activity.language_code.as_deref(),
        );
        let earned = self.earn(program, activity, account, metadata, received_at);
        let (stored, handled) = tokio::join!(profile, earned);
        stored.map_err(|e| AppError::ReadModel(format!("profile: {e}")))?;
        handled
    }

    /// What an activity earns: a link, codeword redemptions, its award.
    async fn earn(
        &self,
        program: &ProgramContext,
        activity: &Activity,
        account: LinkedAccount,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        if let Some(linked) = self
            .link_code(program, activity, account, received_at)
            .await?
        {
            return Ok(vec![linked]);
        }
        let occurred = activity.occurred_at.unwrap_or(received_at);
        let reference = self.authored(program.program_id, activity, account);
        let matched = self.codeword_matches(program, activity, occurred).await?;
        let member = match self.account(program.program_id, account).await? {
            Account::Owned(owner) => owner,
            Account::Unclaimed(member) => {
                if matched.is_empty() {
                    // A new account gets a member only when something of theirs is recorded.
                    if let Some(unpaid) = unpaid(program, activity) {
                        return Ok(vec![unpaid]);
                    }
                    // When its award is all it earns, a new account is registered and paid in
                    // one commit; if that does not go through, the usual way below decides.
                    if let Some(first) = self
                        .first_award(
                            program,
                            activity,
                            account,
                            occurred,
                            metadata.clone(),
                            received_at,
                        )
                        .await?
                    {
                        return Ok(vec![first]);
                    }
                }
                self.register_observed(program.program_id, account, member, received_at)
                    .await?
            }
        };
        let mut handled = self
            .codewords(
                program,
                member,
                activity,
                &reference,
                matched,
                occurred,
                metadata.clone(),
                received_at,
            )
            .await?;
        if let Some(unpaid) = unpaid(program, activity) {
            handled.push(unpaid);
            return Ok(handled);
        }
        let outcome = if can_be_withdrawn(activity.kind) {
            // Withdrawn (award reversed) and given again, it gets its award back.
            self.ledger
                .award_or_restore(
                    program,
                    member,
                    reference,
                    occurred.into(),
                    metadata,
                    received_at.into(),
                )
                .await
        } else {
            self.ledger
                .award_activity(
                    program,
                    member,
                    reference,
                    self.written_text(program.program_id, activity),
                    occurred.into(),
                    metadata,
                    received_at.into(),
                )
                .await
        };
        let recorded = match &outcome {
            Ok(Outcome::Recorded { events, .. })
                if events
                    .iter()
                    .any(|e| matches!(e, domain::Event::AwardRestored { .. })) =>
            {
                Handled::Restored
            }
            _ => awarded(program, activity),
        };
        handled.push(settle(outcome, recorded)?);
        Ok(handled)
    }

    /// A new account's first activity, registered (as the member standing in for it) and paid
    /// in one commit; `None` when the one commit did not go through.
    async fn first_award(
        &self,
        program: &ProgramContext,
        activity: &Activity,
        account: LinkedAccount,
        occurred: DateTime<Utc>,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Option<Handled>, AppError> {
        let outcome = self
            .ledger
            .register_observed_and_award(
                program,
                &account,
                observed_member_id(program.program_id, account),
                self.authored(program.program_id, activity, account),
                self.written_text(program.program_id, activity),
                occurred.into(),
                metadata,
                received_at.into(),
            )
            .await?;
        outcome
            .map(|o| settle(Ok(o), awarded(program, activity)))
            .transpose()
    }

    /// Pays every matched campaign (open, its codeword in the text).
    #[allow(clippy::too_many_arguments)]
    async fn codewords(
        &self,
        program: &ProgramContext,
        member: MemberId,
        activity: &Activity,
        reference: &ActivityRef,
        matched_campaigns: Vec<bot_codewords::MatchedCampaign>,
        occurred_at: DateTime<Utc>,
        metadata: Metadata,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        let mut handled = Vec::new();
        for matched in matched_campaigns {
            let redeem = RedeemCodeword {
                entry_id: EntryId(Uuid::nil()),
                network: activity.account.network,
                reference: reference.reference.clone(),
                target: activity.target.clone(),
                occurred_at: occurred_at.into(),
                time_zone: program.time_zone,
                review: program.rules.review.clone(),
                at: received_at.into(),
            };
            let outcome = self
                .ledger
                .redeem_codeword(
                    program.program_id,
                    matched.campaign_id,
                    member,
                    redeem,
                    metadata.clone(),
                )
                .await;
            handled.push(settle(
                outcome,
                Handled::CodewordRedeemed {
                    points: matched.points,
                },
            )?);
        }
        Ok(handled)
    }

    /// The open campaigns whose codeword the activity's text carries.
    async fn codeword_matches(
        &self,
        program: &ProgramContext,
        activity: &Activity,
        occurred_at: DateTime<Utc>,
    ) -> Result<Vec<bot_codewords::MatchedCampaign>, AppError> {
        match activity.text.as_deref() {
            Some(text) => {
                let (network, target) = (activity.account.network, activity.target.as_deref());
                self.campaigns_matching(program.program_id, text, network, target, occurred_at)
                    .await
            }
            None => Ok(vec![]),
        }
    }

    async fn campaign_ids(&self, program_id: ProgramId) -> Result<Arc<[CampaignId]>, AppError> {
        if let Some(ids) = self.campaigns.get(&program_id) {
            return Ok(ids);
        }
        let ids: Arc<[CampaignId]> = self.ledger.campaign_ids(program_id).await?.into();
        self.campaigns.insert(program_id, ids.clone());
        Ok(ids)
    }

    async fn brand_links(
        &self,
        program_id: ProgramId,
    ) -> Result<Arc<crate::brand::BrandLinks>, AppError> {
        if let Some(links) = self.brand_links.get(&program_id) {
            return Ok(links);
        }
        let brand = crate::brand::load(&self.pool, program_id)
            .await
            .map_err(store::StoreError::from)?;
        let links = Arc::new(brand.links);
        self.brand_links.insert(program_id, links.clone());
        Ok(links)
    }

    /// A one-time link code posted from an account proves the member owns it.
    async fn link_code(
        &self,
        program: &ProgramContext,
        activity: &Activity,
        account: LinkedAccount,
        received_at: DateTime<Utc>,
    ) -> Result<Option<Handled>, AppError> {
        let Some(code) = activity.text.as_deref().and_then(link_codes::find_in_text) else {
            return Ok(None);
        };
        let Some(member) = link_codes::consume(
            &self.pool,
            program.program_id,
            &code,
            activity.account.network,
            received_at,
        )
        .await
        .map_err(store::StoreError::from)?
        else {
            return Ok(None);
        };
        let outcome = self
            .ledger
            .link_account(
                program.program_id,
                member,
                account,
                LinkMethod::Code,
                Metadata::default(),
                received_at.into(),
            )
            .await;
        let refusal = match &outcome {
            Err(AppError::Denied(DomainError::IdentityAlreadyClaimed(_))) => {
                Some(link_codes::LinkRefusal::Taken)
            }
            Err(AppError::Denied(DomainError::RelinkCooldown { until, .. })) => {
                Some(link_codes::LinkRefusal::Cooldown {
                    linkable_from: until.get(),
                })
            }
            _ => None,
        };
        if let Some(refusal) = refusal {
            link_codes::refuse(&self.pool, program.program_id, &code, refusal)
                .await
                .map_err(store::StoreError::from)?;
        }
        Ok(Some(settle(outcome, Handled::Linked(member))?))
    }

    /// The member an account belongs to; an account nobody has claimed gets a member of its
    /// own, so its activity is credited now and can move to its owner later.
    pub async fn member_for_account(
        &self,
        program_id: ProgramId,
        account: LinkedAccount,
        at: DateTime<Utc>,
    ) -> Result<MemberId, AppError> {
        match self.account(program_id, account).await? {
            Account::Owned(owner) => Ok(owner),
            Account::Unclaimed(member_id) => {
                self.register_observed(program_id, account, member_id, at)
                    .await
            }
        }
    }

    /// The platform's activity as the log names it, for activity its author did.
    fn authored(
        &self,
        program_id: ProgramId,
        activity: &Activity,
        account: LinkedAccount,
    ) -> ActivityRef {
        self.accounts
            .authored_activity(program_id, &activity.platform_activity(), account.account)
    }

    /// The activity as the log names it; `None` when it is shared by many members and names no
    /// author. A named author is issued a reference if new: a delivery's command id must be the
    /// same on every arrival, whatever arrived in between.
    async fn activity_ref(
        &self,
        program_id: ProgramId,
        activity: &PlatformActivity,
        author: Option<&ExternalIdentity>,
    ) -> Result<Option<ActivityRef>, AppError> {
        let account = match author {
            Some(author) if activity.kind.is_per_member() => {
                Some(self.accounts.resolve(program_id, author).await?.account)
            }
            _ => None,
        };
        Ok(self.accounts.activity(program_id, activity, account))
    }

    /// A written activity's text fingerprint, keyed per program.
    fn written_text(&self, program_id: ProgramId, activity: &Activity) -> Option<TextFingerprint> {
        if !activity.kind.is_written() {
            return None;
        }
        activity
            .text
            .as_deref()
            .and_then(|text| self.accounts.text(program_id, text))
    }

    /// Registers `member_id` as standing in for an account nobody has claimed, and answers
    /// whoever owns the account after (the winner of any race to claim it).
    async fn register_observed(
        &self,
        program_id: ProgramId,
        account: LinkedAccount,
        member_id: MemberId,
        at: DateTime<Utc>,
    ) -> Result<MemberId, AppError> {
        let streams = (
            StreamId::Identity(program_id, account.account),
            StreamId::Member(member_id),
        );
        self.ledger
            .execute::<(IdentityState, MemberState)>(
                program_id.0,
                member_id.0,
                Metadata::default(),
                &streams,
                |(id_state, member)| {
                    decide_register_observed(
                        id_state,
                        member,
                        program_id,
                        member_id,
                        account,
                        at.into(),
                    )
                },
            )
            .await?;
        // Whoever won a race to claim it, the identity stream now names the owner.
        self.ledger
            .identity_owner(program_id, &account)
            .await?
            .ok_or(AppError::Denied(DomainError::IdentityNotLinked(account)))
    }

    /// Who owns an external account, or the member that would stand in for it.
    async fn account(
        &self,
        program_id: ProgramId,
        account: LinkedAccount,
    ) -> Result<Account, AppError> {
        let member_id = observed_member_id(program_id, account);
        let stream = StreamId::Identity(program_id, account.account);
        let account = match self.ledger.cached::<IdentityState>(&stream) {
            Some(account) => account,
            // Not seen lately: read the member standing in for it in the same round trip, as
            // a new account's first comment needs both.
            None => {
                self.ledger
                    .load_pair::<IdentityState, MemberState>(&stream, &StreamId::Member(member_id))
                    .await?
                    .0
            }
        };
        Ok(match account.state.claimed_by {
            Some(owner) => Account::Owned(owner),
            None => Account::Unclaimed(member_id),
        })
    }

    async fn retraction(
        &self,
        program: &ProgramContext,
        retraction: &Retraction,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        if !program.rules.reverse_on_delete {
            return Ok(vec![Handled::Ignored(
                "the program keeps points of deleted activity".into(),
            )]);
        }
        let nothing = || {
            Ok(vec![Handled::Ignored(
                "nothing was awarded for this activity".into(),
            )])
        };
        let author = match &retraction.account {
            Some(author) => match self.accounts.find(program.program_id, author).await? {
                Some(account) => Some(account),
                None => return nothing(),
            },
            None => None,
        };
        let Some(activity) = self.accounts.activity(
            program.program_id,
            &retraction.activity,
            author.map(|a| a.account),
        ) else {
            return nothing();
        };
        let member = match &author {
            Some(account) => {
                self.ledger
                    .identity_owner(program.program_id, account)
                    .await?
            }
            None => channels::awarded_member(&self.pool, program.program_id, &activity.reference)
                .await
                .map_err(store::StoreError::from)?
                .map(MemberId),
        };
        let Some(member) = member else {
            return nothing();
        };
        let reason = match retraction.activity.kind {
            ActivityKind::Comment | ActivityKind::Message | ActivityKind::Mention => {
                ReversalReason::Deleted
            }
            _ => ReversalReason::Withdrawn,
        };
        let outcome = self
            .ledger
            .reverse_activity(
                program.program_id,
                member,
                activity,
                reason,
                metadata,
                at.into(),
            )
            .await;
        Ok(vec![settle(outcome, Handled::Reversed)?])
    }

    async fn membership(
        &self,
        program: &ProgramContext,
        change: &MembershipChange,
        metadata: Metadata,
        at: DateTime<Utc>,
    ) -> Result<Vec<Handled>, AppError> {
        match change.change {
            // Joining is an activity like a like: paid once, restored after a leave.
            MembershipEvent::Joined => self.activity(program, &joined(change), metadata, at).await,
            MembershipEvent::Left | MembershipEvent::Removed => {
                if !program.rules.reverse_on_leave {
                    return Ok(vec![Handled::Ignored(
                        "the program keeps the subscription bonus".into(),
                    )]);
                }
                let nothing = || {
                    Ok(vec![Handled::Ignored(
                        "nothing was awarded for this membership".into(),
                    )])
                };
                let Some(account) = self
                    .accounts
                    .find(program.program_id, &change.account)
                    .await?
                else {
                    return nothing();
                };
                let Some(member) = self
                    .ledger
                    .identity_owner(program.program_id, &account)
                    .await?
                else {
                    return nothing();
                };
                let outcome = self
                    .ledger
                    .reverse_activity(
                        program.program_id,
                        member,
                        self.accounts.authored_activity(
                            program.program_id,
                            &subscription(change),
                            account.account,
                        ),
                        ReversalReason::Left,
                        metadata,
                        at.into(),
                    )
                    .await;
                Ok(vec![settle(outcome, Handled::Reversed)?])
            }
        }
    }
}

/// Whom an external account's activity is credited to.
enum Account {
    Owned(MemberId),
    /// Nobody has claimed it yet: the member that stands (or will stand) in for it.
    Unclaimed(MemberId),
}

impl Handled {
    /// Whether handling the signal recorded something in the log.
    fn changed_ledger(&self) -> bool {
        match self {
            Handled::Awarded { .. }
            | Handled::CodewordRedeemed { .. }
            | Handled::Held { .. }
            | Handled::Linked(_)
            | Handled::Reversed
            | Handled::Restored => true,
            Handled::Duplicate | Handled::Denied(_) | Handled::Ignored(_) => false,
        }
    }
}

/// What members can take back and give again: their award is reversed and restored.
fn can_be_withdrawn(kind: ActivityKind) -> bool {
    matches!(
        kind,
        ActivityKind::Reaction | ActivityKind::PollVote | ActivityKind::Subscription
    )
}

/// The activity a signal gives, withdraws or restores, when that can go back and forth, with
/// the account that did it when the signal names one.
fn withdrawable(signal: &Signal) -> Option<(PlatformActivity, Option<&ExternalIdentity>)> {
    match signal {
        Signal::Activity(activity) if can_be_withdrawn(activity.kind) => {
            Some((activity.platform_activity(), Some(&activity.account)))
        }
        Signal::Restoration(activity) => {
            Some((activity.platform_activity(), Some(&activity.account)))
        }
        Signal::Retraction(retraction) => {
            Some((retraction.activity.clone(), retraction.account.as_ref()))
        }
        Signal::Membership(change) => Some((subscription(change), Some(&change.account))),
        _ => None,
    }
}

/// Membership of a group or channel is one activity per member and destination.
pub fn subscription(change: &MembershipChange) -> PlatformActivity {
    PlatformActivity {
        network: change.account.network,
        kind: ActivityKind::Subscription,
        reference: change.destination.clone(),
    }
}

/// A join as the activity it pays for.
fn joined(change: &MembershipChange) -> Activity {
    Activity {
        account: change.account.clone(),
        username: change.username.clone(),
        display_name: change.display_name.clone(),
        language_code: change.language_code.clone(),
        kind: ActivityKind::Subscription,
        reference: change.destination.clone(),
        destination: change.destination.clone(),
        target: None,
        text: None,
        mentions: Vec::new(),
        occurred_at: change.occurred_at,
    }
}

/// Why an activity earns no award by the program's rules, if it does not.
fn unpaid(program: &ProgramContext, activity: &Activity) -> Option<Handled> {
    if activity.kind == ActivityKind::Comment
        && text_chars(activity.text.as_deref()) < program.rules.min_comment_chars as usize
    {
        return Some(Handled::Ignored(
            "comment shorter than the program's minimum".into(),
        ));
    }
    let paid = program
        .rules
        .rule_for(activity.account.network, activity.kind)
        .is_some();
    (!paid).then(|| Handled::Ignored(format!("no points for {} here", activity.kind)))
}

/// What an award for the activity pays, as the delivery's answer reports it.
fn awarded(program: &ProgramContext, activity: &Activity) -> Handled {
    let points = program
        .rules
        .rule_for(activity.account.network, activity.kind)
        .map_or(0, |r| r.points);
    Handled::Awarded { points }
}

/// The member an unclaimed account gets: derived, so concurrent first deliveries agree.
pub fn observed_member_id(program_id: ProgramId, account: LinkedAccount) -> MemberId {
    MemberId(domain::ids::derived_id(&format!(
        "{program_id}/observed/{}",
        account.account
    )))
}

/// The points of an award the commit held for review, if it held one.
fn held_points(events: &[domain::Event]) -> Option<i64> {
    events.iter().find_map(|e| match e {
        domain::Event::AwardHeld { points, .. } => Some(*points),
        _ => None,
    })
}

/// Domain denials are outcomes of a signal; only failures to record are errors.
fn settle(outcome: Result<Outcome, AppError>, recorded: Handled) -> Result<Handled, AppError> {
    match outcome {
        Ok(Outcome::Recorded { events, .. }) => {
            Ok(held_points(&events).map_or(recorded, |points| Handled::Held { points }))
        }
        Ok(Outcome::Duplicate) | Err(AppError::Denied(DomainError::DuplicateActivity)) => {
            Ok(Handled::Duplicate)
        }
        Ok(Outcome::Unchanged) => Ok(Handled::Ignored("nothing to change".into())),
        Err(AppError::Denied(denied)) => Ok(Handled::Denied(denied)),
        Err(other) => Err(other),
    }
}

fn text_chars(text: Option<&str>) -> usize {
    text.map_or(0, |t| t.trim().chars().count())
}

fn signal_name(signal: &Signal) -> &'static str {
    match signal {
        Signal::BotMessage(_) => "a message to the bot",
        Signal::BotStatus(_) => "the bot's own status",
        Signal::ChatMigrated { .. } => "a chat migration",
        _ => "this signal",
    }
}

/// The platform destination (group, account, chat or poll) a signal happened in.
fn destination(signal: &Signal) -> Option<&str> {
    match signal {
        Signal::Activity(a) | Signal::Restoration(a) => Some(&a.destination),
        Signal::Edit(e) => Some(&e.activity.destination),
        Signal::Retraction(r) => Some(&r.destination),
        Signal::Membership(m) => Some(&m.destination),
        Signal::MentionedInComment { destination, .. } => Some(destination),
        _ => None,
    }
}
