//! One method per thing a person or platform asks of the ledger. Each loads what the decision
//! needs, lets the domain decide, and appends; the HTTP handlers, the bot, the demo and the
//! benches all come through here.

use super::ledger::{Decided, Ledger};
use super::{AppError, Outcome};
use domain::Timestamp;
use domain::campaign::{
    CampaignCommand, CampaignState, NewCampaign, RedeemCodeword, decide_among, decide_codeword,
};
use domain::event::{Eraser, ErasureReason, LinkMethod, ManagerId};
use domain::expiry::{ExpirePoints, decide_warning, expire_lot, expiry_entry, next_look};
use domain::identity::{
    IdentityState, RelinkCooldown, decide_claim_observed, decide_link, decide_register_observed,
    decide_unlink,
};
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId, RedemptionId, RewardId};
use domain::member::{Award, AwardLimits, MemberCommand, MemberState, WrittenText};
use domain::network::{ActivityRef, LinkedAccount};
use domain::points::{Points, PointsDelta};
use domain::program::{ProgramCommand, ProgramState, Rules};
use domain::review::{ReviewDecision, ReviewHeld, decide_review};
use domain::reward::{
    CancelRedemption, Redeem, RewardCommand, RewardState, decide_cancel_redemption, decide_redeem,
};
use domain::text::TextFingerprint;
use domain::tier::{EvaluateTier, decide_tier};
use domain::{Aggregate, DomainError, StreamId};
use store::{IndexedType, Metadata};
use uuid::Uuid;

/// What the expiry job did and found for one member.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryLook {
    /// Lots expired.
    pub expired: usize,
    /// Whether the member was warned.
    pub warned: bool,
    /// When the member's oldest unspent credit was made; `None` when nothing is left.
    pub oldest_lot_at: Option<Timestamp>,
    /// When the job has something to decide for the member next; `None` when never.
    pub look_at: Option<Timestamp>,
}

/// A manager's action: who, and the id that makes a retried request a no-op.
#[derive(Debug, Clone)]
pub struct ManagerAction {
    pub manager: ManagerId,
    pub request_id: Uuid,
    pub at: Timestamp,
}

impl ManagerAction {
    pub(crate) fn metadata(&self) -> Metadata {
        Metadata {
            actor: Some(self.manager.clone()),
            ..Metadata::default()
        }
    }
}

/// The program's rules as they stand, with what the member decider needs from them.
#[derive(Debug, Clone)]
pub struct ProgramContext {
    pub program_id: ProgramId,
    /// The name it was created with.
    pub name: String,
    pub time_zone: chrono_tz::Tz,
    pub rules: Rules,
    pub rules_version: u32,
}

impl Ledger {
    pub async fn create_program(
        &self,
        program_id: ProgramId,
        name: &str,
        time_zone: chrono_tz::Tz,
        rules: Rules,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let stream = StreamId::Program(program_id);
        let created = self
            .execute::<ProgramState>(
                program_id.0,
                action.request_id,
                action.metadata(),
                &stream,
                |s| {
                    s.decide(ProgramCommand::Create {
                        program_id,
                        name: name.to_string(),
                        time_zone,
                        at: action.at,
                    })
                },
            )
            .await?;
        let rules_id = domain::ids::derived_id(&format!("{}/rules", action.request_id));
        self.execute::<ProgramState>(program_id.0, rules_id, action.metadata(), &stream, |s| {
            if s.rules.is_some() {
                return Ok(vec![]);
            }
            s.decide(ProgramCommand::ChangeRules {
                program_id,
                rules: rules.clone(),
                by: action.manager.clone(),
                at: action.at,
            })
        })
        .await?;
        Ok(created)
    }

    pub async fn change_rules(
        &self,
        program_id: ProgramId,
        rules: Rules,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.execute::<ProgramState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Program(program_id),
            |s| {
                s.decide(ProgramCommand::ChangeRules {
                    program_id,
                    rules: rules.clone(),
                    by: action.manager.clone(),
                    at: action.at,
                })
            },
        )
        .await
    }

    pub async fn program(&self, program_id: ProgramId) -> Result<ProgramContext, AppError> {
        self.refresh_program_if_old(program_id);
        let loaded = self
            .load::<ProgramState>(&StreamId::Program(program_id))
            .await?;
        let state = loaded.state;
        match (state.created, state.time_zone, state.rules) {
            (true, Some(time_zone), Some(rules)) => Ok(ProgramContext {
                program_id,
                name: state.name,
                time_zone,
                rules,
                rules_version: state.rules_version,
            }),
            _ => Err(AppError::Denied(DomainError::NotFound)),
        }
    }

    /// Whether the rules in force of any program satisfy `test` (a handful of programs, each
    /// state cached).
    pub async fn any_program(&self, test: impl Fn(&Rules) -> bool) -> Result<bool, AppError> {
        for program in crate::reads::programs(self.store()).await? {
            if test(&self.program(ProgramId(program.program_id)).await?.rules) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub async fn register_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        self.execute::<MemberState>(
            program_id.0,
            member_id.0,
            Metadata::default(),
            &StreamId::Member(member_id),
            |s| {
                if s.is_registered() {
                    return Ok(vec![]);
                }
                s.decide(MemberCommand::Register {
                    member_id,
                    program_id,
                    at,
                })
            },
        )
        .await
    }

    /// Pays for one activity by the program's rules in force. The command id derives from the
    /// delivery (or, without one, from the activity), so a redelivered webhook is a duplicate.
    /// `text` is the fingerprint of what a comment, mention or message said: a text this member
    /// was already paid for is refused (`DuplicateText`) when the rules say so.
    #[allow(clippy::too_many_arguments)]
    pub async fn award_activity(
        &self,
        program: &ProgramContext,
        member_id: MemberId,
        activity: ActivityRef,
        text: Option<TextFingerprint>,
        occurred_at: Timestamp,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let command_id = award_command_id(program.program_id, member_id, &activity, &metadata);
        let command = award_command(program, command_id, activity, text, occurred_at, at)?;
        self.execute::<MemberState>(
            program.program_id.0,
            command_id,
            metadata,
            &StreamId::Member(member_id),
            |s| s.decide(command.clone()),
        )
        .await
    }

    /// An activity a member can withdraw and give again (a like, a reaction, a vote, a join):
    /// awarded the first time, its award restored after a reversal, a duplicate while the
    /// award stands. One decision under the delivery's command id, whichever it records, so
    /// the same delivery arriving again after a withdrawal finds its own events and changes
    /// nothing.
    pub async fn award_or_restore(
        &self,
        program: &ProgramContext,
        member_id: MemberId,
        activity: ActivityRef,
        occurred_at: Timestamp,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let stream = StreamId::Member(member_id);
        let command_id = match delivery_command_id(program.program_id, &metadata, &activity) {
            Some(delivered) => delivered,
            // Without a delivery id: the activity's award id, or a new restoration.
            None if is_reversed(&self.load::<MemberState>(&stream).await?.state, &activity) => {
                Uuid::new_v4()
            }
            None => activity_command_id(program.program_id, member_id, &activity, "award"),
        };
        let award = award_command(program, command_id, activity.clone(), None, occurred_at, at)?;
        self.execute::<MemberState>(program.program_id.0, command_id, metadata, &stream, |s| {
            if is_reversed(s, &activity) {
                s.decide(MemberCommand::Restore {
                    entry_id: EntryId(command_id),
                    activity: activity.clone(),
                    at,
                })
            } else {
                s.decide(award.clone())
            }
        })
        .await
    }

    /// A new account's first award, recorded in the commit that registers the member standing
    /// in for it: a first comment waits for one commit instead of two. Both parts keep the
    /// event ids they have alone (registration by the member's id, the award by the
    /// activity's), so a redelivery is still a duplicate. `None` when it cannot be one commit
    /// (the account is no longer new, the award is refused, a concurrent delivery got there
    /// first): nothing was recorded, and the usual way (`Ingest::register_observed`, then
    /// `award_activity`) decides the delivery as ever.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_observed_and_award(
        &self,
        program: &ProgramContext,
        identity: &LinkedAccount,
        member_id: MemberId,
        activity: ActivityRef,
        text: Option<TextFingerprint>,
        occurred_at: Timestamp,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Option<Outcome>, AppError> {
        let program_id = program.program_id;
        let (account, member) = self
            .load_pair::<IdentityState, MemberState>(
                &StreamId::Identity(program_id, identity.account),
                &StreamId::Member(member_id),
            )
            .await?;
        let registration = decide_register_observed(
            &account.state,
            &member.state,
            program_id,
            member_id,
            *identity,
            at,
        )?;
        if registration.is_empty() {
            return Ok(None);
        }
        let registered = registration
            .iter()
            .filter(|e| e.stream() == StreamId::Member(member_id))
            .fold(member.state.clone(), |s, e| s.apply(e));
        let command_id = award_command_id(program_id, member_id, &activity, &metadata);
        let command = award_command(program, command_id, activity, text, occurred_at, at)?;
        let Ok(award) = registered.decide(command) else {
            return Ok(None);
        };
        let unmarked = Metadata::default();
        let decided = [
            Decided {
                command_id: member_id.0,
                metadata: &unmarked,
                events: &registration,
            },
            Decided {
                command_id,
                metadata: &metadata,
                events: &award,
            },
        ];
        let positions = self
            .append_together(program_id.0, (&account, &member), &decided)
            .await?;
        Ok(positions.map(|positions| Outcome::Recorded {
            events: award,
            positions,
            retries: 0,
        }))
    }

    /// Takes back what an activity earned (deleted, withdrawn, left), once.
    pub async fn reverse_activity(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        activity: ActivityRef,
        reason: domain::event::ReversalReason,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let command_id =
            delivery_command_id(program_id, &metadata, &activity).unwrap_or_else(Uuid::new_v4);
        let stream = StreamId::Member(member_id);
        self.execute::<MemberState>(program_id.0, command_id, metadata, &stream, |s| {
            s.decide(MemberCommand::Reverse {
                entry_id: EntryId(command_id),
                activity: activity.clone(),
                reason,
                at,
            })
        })
        .await
    }

    /// A restored comment or a re-join earns its points again, once.
    pub async fn restore_activity(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        activity: ActivityRef,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let command_id =
            delivery_command_id(program_id, &metadata, &activity).unwrap_or_else(Uuid::new_v4);
        let stream = StreamId::Member(member_id);
        self.execute::<MemberState>(program_id.0, command_id, metadata, &stream, |s| {
            s.decide(MemberCommand::Restore {
                entry_id: EntryId(command_id),
                activity: activity.clone(),
                at,
            })
        })
        .await
    }

    pub async fn adjust_points(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        delta: PointsDelta,
        reason: &str,
        note: Option<&str>,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.member_command(program_id, member_id, action, |entry_id| {
            MemberCommand::Adjust {
                entry_id,
                delta,
                reason: reason.to_string(),
                note: note.map(str::to_string),
                by: action.manager.clone(),
                at: action.at,
            }
        })
        .await
    }

    /// Nets one earlier entry (an award or adjustment) to zero.
    pub async fn compensate_entry(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        target: EntryId,
        reason: &str,
        note: Option<&str>,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.member_command(program_id, member_id, action, |entry_id| {
            MemberCommand::Compensate {
                entry_id,
                target,
                reason: reason.to_string(),
                note: note.map(str::to_string),
                by: action.manager.clone(),
                at: action.at,
            }
        })
        .await
    }

    /// Nets every award whose activity happened in `[from, until)` to zero, one compensation
    /// per award still standing; the request names the run, so a retry records nothing twice
    /// and a new run over the same range finds nothing left (`Unchanged`).
    #[allow(clippy::too_many_arguments)]
    pub async fn compensate_awards(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        from: Timestamp,
        until: Timestamp,
        reason: &str,
        note: Option<&str>,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.member_command(program_id, member_id, action, |_| {
            MemberCommand::CompensateAwards {
                run_id: action.request_id,
                from,
                until,
                reason: reason.to_string(),
                note: note.map(str::to_string),
                by: action.manager.clone(),
                at: action.at,
            }
        })
        .await
    }

    /// Decides a held award once (approve pays it, reject closes it). When the member stood in
    /// for an account another member has since claimed, an approval moves the points on to that
    /// member in the same commit, as the claim moved the stand-in's balance.
    pub async fn review_held(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        award: EntryId,
        decision: ReviewDecision,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let command = || ReviewHeld {
            award,
            decision: decision.clone(),
            by: action.manager.clone(),
            at: action.at,
        };
        let member_stream = StreamId::Member(member_id);
        let state = self.load::<MemberState>(&member_stream).await?.state;
        let claimant = match (state.handed_over(), &decision) {
            (Some(account), ReviewDecision::Approve) => self
                .identity_owner(program_id, &account)
                .await?
                .filter(|owner| *owner != member_id),
            _ => None,
        };
        let Some(claimant) = claimant else {
            return self
                .execute::<MemberState>(
                    program_id.0,
                    action.request_id,
                    action.metadata(),
                    &member_stream,
                    |member| decide_review(member, None, command()),
                )
                .await;
        };
        self.execute::<(MemberState, MemberState)>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &(member_stream, StreamId::Member(claimant)),
            |(member, claimant)| decide_review(member, Some(claimant), command()),
        )
        .await
    }

    /// Places a member on their program's ladder as of `at` (`TierChanged`, or nothing when
    /// they already stand where their points put them). A member of a program without tiers
    /// and without a tier is not asked at all. Safe to repeat and to run in two processes: the
    /// stream version makes one of two equal moves a conflict, decided again to nothing.
    pub async fn evaluate_tier(
        &self,
        member_id: MemberId,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let stream = StreamId::Member(member_id);
        let state = self.load::<MemberState>(&stream).await?.state;
        let Some(program_id) = state.program_id else {
            return Ok(Outcome::Unchanged);
        };
        let program = self.program(program_id).await?;
        if program.rules.tiers.is_off() && state.tier.is_none() {
            return Ok(Outcome::Unchanged);
        }
        let command = EvaluateTier {
            tiers: program.rules.tiers,
            rule_version: program.rules_version,
            at,
        };
        let command_id = domain::ids::derived_id(&format!(
            "tier:{}:{}:{}",
            member_id.0,
            at.get().timestamp_micros(),
            command.rule_version
        ));
        self.execute::<MemberState>(
            program_id.0,
            command_id,
            Metadata::default(),
            &stream,
            |s| decide_tier(s, command.clone()),
        )
        .await
    }

    /// Expires what is due of a member's points and warns them of what expires soon, under
    /// their program's rules as of `at`. Each lot expires under a command named by the lot
    /// (its event id derives from it), so two jobs, or one run twice, expire it once; a warning
    /// is one at most a week, by the member's stream. Reads the member's whole stream afresh:
    /// the job stops looking at a member on what it finds here.
    pub async fn keep_expiry(
        &self,
        member_id: MemberId,
        at: Timestamp,
    ) -> Result<ExpiryLook, AppError> {
        let stream = StreamId::Member(member_id);
        self.forget_member(member_id);
        let state = self.load::<MemberState>(&stream).await?.state;
        let Some(program_id) = state.program_id else {
            return Ok(ExpiryLook::default());
        };
        let program = self.program(program_id).await?;
        let cmd = ExpirePoints {
            rules: program.rules.expiry,
            rule_version: program.rules_version,
            at,
        };
        let mut look = ExpiryLook::default();
        let due: Vec<EntryId> = state.lots.due(&cmd.rules, at).map(|l| l.entry_id).collect();
        for lot in due {
            let command_id = expiry_entry(lot).0;
            let outcome = self
                .execute::<MemberState>(
                    program_id.0,
                    command_id,
                    Metadata::default(),
                    &stream,
                    |s| expire_lot(s, lot, &cmd),
                )
                .await?;
            look.expired += usize::from(matches!(outcome, Outcome::Recorded { .. }));
        }
        let warning_id = domain::ids::derived_id(&format!(
            "expiry-warning:{}:{}",
            member_id.0,
            at.get().timestamp_micros()
        ));
        let outcome = self
            .execute::<MemberState>(
                program_id.0,
                warning_id,
                Metadata::default(),
                &stream,
                |s| decide_warning(s, &cmd),
            )
            .await?;
        look.warned = matches!(outcome, Outcome::Recorded { .. });
        let state = self.load::<MemberState>(&stream).await?.state;
        look.oldest_lot_at = state.lots.oldest();
        look.look_at = next_look(&state, &cmd.rules);
        Ok(look)
    }

    pub async fn block_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.member_command(program_id, member_id, action, |_| MemberCommand::Block {
            reason: reason.to_string(),
            by: action.manager.clone(),
            at: action.at,
        })
        .await
    }

    pub async fn unblock_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        self.member_command(program_id, member_id, action, |_| MemberCommand::Unblock {
            by: action.manager.clone(),
            at: action.at,
        })
        .await
    }

    /// Appends `MemberErased` (nothing if the member was erased already) and answers the
    /// accounts the member held when it was decided: the rows to delete.
    pub async fn erase_member(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        by: Eraser,
        reason: ErasureReason,
        at: Timestamp,
    ) -> Result<(Outcome, Vec<LinkedAccount>), AppError> {
        let held = std::sync::Mutex::new(Vec::new());
        let actor = match &by {
            Eraser::Member => format!("member:{member_id}"),
            Eraser::Manager { by } => by.clone(),
        };
        let outcome = self
            .execute::<MemberState>(
                program_id.0,
                domain::ids::derived_id(&format!("{program_id}/erase/{member_id}")),
                Metadata {
                    actor: Some(actor),
                    ..Metadata::default()
                },
                &StreamId::Member(member_id),
                |member| {
                    let accounts = member.linked.iter().chain(&member.observed_account);
                    if let Ok(mut held) = held.lock() {
                        *held = accounts.copied().collect();
                    }
                    member.decide(MemberCommand::Erase {
                        by: by.clone(),
                        reason,
                        at,
                    })
                },
            )
            .await?;
        let held = held.into_inner().unwrap_or_default();
        Ok((outcome, held))
    }

    async fn member_command(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        action: &ManagerAction,
        command: impl Fn(EntryId) -> MemberCommand,
    ) -> Result<Outcome, AppError> {
        let entry_id = EntryId(action.request_id);
        self.execute::<MemberState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Member(member_id),
            |s| s.decide(command(entry_id)),
        )
        .await
    }

    /// Spends points on one unit of a reward: balance and stock are checked and changed in
    /// one atomic append; the redemption id makes a double tap a duplicate.
    pub async fn redeem_reward(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        reward_id: RewardId,
        redemption_id: RedemptionId,
        coupon_code: &str,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        let streams = (StreamId::Reward(reward_id), StreamId::Member(member_id));
        let _turn = self.turn_on(reward_id.0).await;
        self.execute::<(RewardState, MemberState)>(
            program_id.0,
            redemption_id.0,
            Metadata {
                actor: Some(format!("member:{member_id}")),
                ..Metadata::default()
            },
            &streams,
            |(reward, member)| {
                decide_redeem(
                    reward,
                    member,
                    Redeem {
                        entry_id: EntryId(redemption_id.0),
                        redemption_id,
                        coupon_code: coupon_code.to_string(),
                        at,
                    },
                )
            },
        )
        .await
    }

    pub async fn cancel_redemption(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        reward_id: RewardId,
        redemption_id: RedemptionId,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let streams = (StreamId::Reward(reward_id), StreamId::Member(member_id));
        let _turn = self.turn_on(reward_id.0).await;
        self.execute::<(RewardState, MemberState)>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &streams,
            |(reward, member)| {
                decide_cancel_redemption(
                    reward,
                    member,
                    CancelRedemption {
                        entry_id: EntryId(action.request_id),
                        redemption_id,
                        reason: reason.to_string(),
                        by: action.manager.clone(),
                        at: action.at,
                    },
                )
            },
        )
        .await
    }

    pub async fn reward_command(
        &self,
        program_id: ProgramId,
        reward_id: RewardId,
        action: &ManagerAction,
        command: impl Fn() -> RewardCommand,
    ) -> Result<Outcome, AppError> {
        let _turn = self.turn_on(reward_id.0).await;
        self.execute::<RewardState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Reward(reward_id),
            |s| s.decide(command()),
        )
        .await
    }

    /// The ids of a program's campaigns, oldest first.
    pub async fn campaign_ids(&self, program_id: ProgramId) -> Result<Vec<CampaignId>, AppError> {
        let ids = self
            .store()
            .created_ids(program_id.0, IndexedType::CampaignCreated)
            .await?;
        Ok(ids.into_iter().map(CampaignId).collect())
    }

    /// Every campaign of a program, as it stands.
    pub async fn campaigns_of(
        &self,
        program_id: ProgramId,
    ) -> Result<Vec<CampaignState>, AppError> {
        let mut campaigns = Vec::new();
        for id in self.campaign_ids(program_id).await? {
            campaigns.push(
                self.load::<CampaignState>(&StreamId::Campaign(id))
                    .await?
                    .state,
            );
        }
        Ok(campaigns)
    }

    /// Creates a campaign, unless its codeword collides with another campaign of the program
    /// (`DomainError::CodewordTaken`). Two managers creating colliding campaigns at the same
    /// moment can both succeed; even then a comment pays one of them (`campaigns_to_pay`).
    pub async fn create_campaign(&self, campaign: NewCampaign) -> Result<Outcome, AppError> {
        let action_id = campaign.campaign_id.0;
        let metadata = Metadata {
            actor: Some(campaign.by.clone()),
            ..Metadata::default()
        };
        let others = self.campaigns_of(campaign.program_id).await?;
        self.execute::<CampaignState>(
            campaign.program_id.0,
            action_id,
            metadata,
            &StreamId::Campaign(campaign.campaign_id),
            |s| {
                decide_among(
                    s,
                    CampaignCommand::Create(Box::new(campaign.clone())),
                    &others,
                )
            },
        )
        .await
    }

    /// Pauses, resumes or ends a campaign; resuming is refused like creating when the codeword
    /// collides.
    pub async fn campaign_command(
        &self,
        program_id: ProgramId,
        campaign_id: CampaignId,
        action: &ManagerAction,
        command: impl Fn() -> CampaignCommand,
    ) -> Result<Outcome, AppError> {
        let others = self.campaigns_of(program_id).await?;
        self.execute::<CampaignState>(
            program_id.0,
            action.request_id,
            action.metadata(),
            &StreamId::Campaign(campaign_id),
            |s| decide_among(s, command(), &others),
        )
        .await
    }

    /// A codeword seen in a comment or message: pays once per member, within the cap. The
    /// command id derives from (campaign, member), so any repeat is a duplicate.
    pub async fn redeem_codeword(
        &self,
        program_id: ProgramId,
        campaign_id: CampaignId,
        member_id: MemberId,
        redeem: RedeemCodeword,
        metadata: Metadata,
    ) -> Result<Outcome, AppError> {
        let command_id = domain::ids::derived_id(&format!("codeword/{campaign_id}/{member_id}"));
        let redeem = RedeemCodeword {
            entry_id: EntryId(command_id),
            ..redeem
        };
        let streams = (StreamId::Campaign(campaign_id), StreamId::Member(member_id));
        self.execute::<(CampaignState, MemberState)>(
            program_id.0,
            command_id,
            metadata,
            &streams,
            |(campaign, member)| decide_codeword(campaign, member, redeem.clone()),
        )
        .await
    }

    /// Claims an external account for a member (identity stream + member stream together).
    /// An account that already earned as an observed member moves to the member with its
    /// points, in one atomic decision over the three streams.
    pub async fn link_account(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        method: LinkMethod,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        self.link(program_id, member_id, identity, method, metadata, at, None)
            .await
    }

    /// A manager links an account to the member who is the same person, with why: an
    /// observed member's account moves with its points, an unclaimed one is linked; one that
    /// another registered member holds is refused (`IdentityAlreadyClaimed`).
    pub async fn manager_link_account(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let (metadata, at) = (action.metadata(), action.at);
        let method = LinkMethod::Manager;
        self.link(
            program_id,
            member_id,
            identity,
            method,
            metadata,
            at,
            Some(reason),
        )
        .await
    }

    /// A manager unlinks an account from a member, with why.
    pub async fn manager_unlink_account(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        reason: &str,
        action: &ManagerAction,
    ) -> Result<Outcome, AppError> {
        let (metadata, at) = (action.metadata(), action.at);
        self.unlink(program_id, member_id, identity, metadata, at, Some(reason))
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn link(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        method: LinkMethod,
        metadata: Metadata,
        at: Timestamp,
        reason: Option<&str>,
    ) -> Result<Outcome, AppError> {
        let noted = |events: Result<Vec<domain::Event>, DomainError>| match reason {
            Some(why) => events.and_then(|e| domain::identity::noting_reason(e, why)),
            None => events,
        };
        // A manager's link records why the account changes hands: the cooldown is for members.
        let cooldown = match reason {
            Some(_) => RelinkCooldown::NONE,
            None => self.program(program_id).await?.rules.relink_cooldown(),
        };
        let identity_stream = StreamId::Identity(program_id, identity.account);
        let member_stream = StreamId::Member(member_id);
        let linked = self
            .execute::<(IdentityState, MemberState)>(
                program_id.0,
                Uuid::new_v4(),
                metadata.clone(),
                &(identity_stream.clone(), member_stream.clone()),
                |(id_state, member)| {
                    noted(decide_link(
                        id_state, member, program_id, identity, method, cooldown, at,
                    ))
                },
            )
            .await;
        let Err(AppError::Denied(DomainError::IdentityAlreadyClaimed(_))) = &linked else {
            return linked;
        };
        let Some(holder) = self.identity_owner(program_id, &identity).await? else {
            return linked;
        };
        let holder_stream = StreamId::Member(holder);
        let holder_state = self.load::<MemberState>(&holder_stream).await?.state;
        if holder_state.observed_account.as_ref() != Some(&identity) {
            return linked;
        }
        let command_id = Uuid::new_v4();
        self.execute::<(IdentityState, MemberState, MemberState)>(
            program_id.0,
            command_id,
            metadata,
            &(identity_stream, holder_stream, member_stream),
            |(id_state, observed, owner)| {
                noted(decide_claim_observed(
                    id_state,
                    observed,
                    owner,
                    program_id,
                    identity,
                    method,
                    cooldown,
                    EntryId(command_id),
                    at,
                ))
            },
        )
        .await
    }

    pub async fn unlink_account(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        metadata: Metadata,
        at: Timestamp,
    ) -> Result<Outcome, AppError> {
        self.unlink(program_id, member_id, identity, metadata, at, None)
            .await
    }

    async fn unlink(
        &self,
        program_id: ProgramId,
        member_id: MemberId,
        identity: LinkedAccount,
        metadata: Metadata,
        at: Timestamp,
        reason: Option<&str>,
    ) -> Result<Outcome, AppError> {
        let streams = (
            StreamId::Identity(program_id, identity.account),
            StreamId::Member(member_id),
        );
        self.execute::<(IdentityState, MemberState)>(
            program_id.0,
            Uuid::new_v4(),
            metadata,
            &streams,
            |(id_state, member)| {
                let events = decide_unlink(id_state, member, program_id, identity, at);
                match reason {
                    Some(why) => events.and_then(|e| domain::identity::noting_reason(e, why)),
                    None => events,
                }
            },
        )
        .await
    }

    /// Who owns an external account, from its identity stream.
    pub async fn identity_owner(
        &self,
        program_id: ProgramId,
        identity: &LinkedAccount,
    ) -> Result<Option<MemberId>, AppError> {
        let loaded = self
            .load::<IdentityState>(&StreamId::Identity(program_id, identity.account))
            .await?;
        Ok(loaded.state.claimed_by)
    }
}

/// The one command a delivery makes of an activity, whichever event it records (award,
/// reversal, restoration), derived from the platform's delivery id: a delivery arriving again
/// maps to the same command, so whatever it recorded is a duplicate in the store, whatever
/// happened since. `None` when the delivery has no id (Instagram, admin actions).
pub fn delivery_command_id(
    program_id: ProgramId,
    metadata: &Metadata,
    activity: &ActivityRef,
) -> Option<Uuid> {
    let delivery = metadata.delivery_id.as_deref()?;
    Some(domain::ids::derived_id(&format!(
        "{program_id}/delivery/{delivery}/{}",
        activity.key()
    )))
}

/// An award's command id: the delivery's, else the activity's (the same activity of the same
/// member is always the same award).
fn award_command_id(
    program_id: ProgramId,
    member_id: MemberId,
    activity: &ActivityRef,
    metadata: &Metadata,
) -> Uuid {
    delivery_command_id(program_id, metadata, activity)
        .unwrap_or_else(|| activity_command_id(program_id, member_id, activity, "award"))
}

/// Whether the member's award for the activity was reversed (and may be restored).
fn is_reversed(member: &MemberState, activity: &ActivityRef) -> bool {
    member
        .awards
        .get(&activity.key())
        .is_some_and(|award| award.reversed)
}

/// The same activity of the same member always maps to the same command id.
pub fn activity_command_id(
    program_id: ProgramId,
    member_id: MemberId,
    activity: &ActivityRef,
    what: &str,
) -> Uuid {
    domain::ids::derived_id(&format!(
        "{program_id}/{member_id}/{}/{what}",
        activity.key()
    ))
}

/// The award an activity earns under the program's rules in force, as command `command_id`.
fn award_command(
    program: &ProgramContext,
    command_id: Uuid,
    activity: ActivityRef,
    text: Option<TextFingerprint>,
    occurred_at: Timestamp,
    at: Timestamp,
) -> Result<MemberCommand, AppError> {
    let rule = program
        .rules
        .rule_for(activity.network, activity.kind)
        .ok_or(AppError::Denied(DomainError::NotFound))?;
    let award = Award {
        entry_id: EntryId(command_id),
        activity,
        points: Points::new(rule.points)?,
        rule_version: program.rules_version,
        campaign_id: None,
        occurred_at,
        limits: AwardLimits {
            time_zone: program.time_zone,
            daily_cap: program.rules.daily_cap,
            daily_cap_per_network: program.rules.daily_cap_per_network,
            cooldown_seconds: rule.cooldown_seconds,
            review: program.rules.review.clone(),
        },
        at,
    };
    Ok(match text {
        Some(fingerprint) => MemberCommand::AwardWritten {
            award,
            text: WrittenText {
                fingerprint,
                repeats: program.rules.repeated_text(),
            },
        },
        None => MemberCommand::Award(award),
    })
}
