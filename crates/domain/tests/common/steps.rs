//! The commands a generated history is made of, and how the ledger decides each one with the
//! real deciders against the states of the streams it touches.

use super::fixtures::*;
use super::ledger::{Ledger, entry_id_of};
use chrono::{Duration, Utc};
use domain::Timestamp;
use domain::campaign::{self, CampaignCommand, RedeemCodeword};
use domain::event::{LinkMethod, ReversalReason};
use domain::expiry::{self, ExpiryRules};
use domain::identity;
use domain::member::{Award, MemberCommand, WrittenText};
use domain::network::{ActivityRef, Network};
use domain::points::{Points, PointsDelta};
use domain::review::{self, ReviewDecision, ReviewHeld};
use domain::reward::{self, CancelRedemption, Redeem, RewardCommand};
use domain::{DomainError, Event, StreamId};

/// One command a member, a manager or a platform may issue. Indexes pick from small pools
/// (members, campaigns, rewards, accounts, earlier entries) so that histories collide often.
#[derive(Debug, Clone)]
pub enum Step {
    Register {
        member: u8,
    },
    Award {
        member: u8,
        activity: ActivityRef,
        points: i64,
        minute: i64,
        /// What the activity said (an index into `TEXTS`), when it was written.
        text: Option<u8>,
    },
    Reverse {
        member: u8,
        activity: ActivityRef,
        reason: ReversalReason,
    },
    Restore {
        member: u8,
        activity: ActivityRef,
    },
    Adjust {
        member: u8,
        delta: i64,
    },
    /// Compensates the `pick`-th balance entry of the member (any kind, so some are refused).
    Compensate {
        member: u8,
        pick: usize,
    },
    /// Nets the member's awards of minutes `[from, from + span)` at once, as run `run` (a run
    /// repeated names the same compensations).
    CompensateAwards {
        member: u8,
        from: i64,
        span: i64,
        run: u8,
    },
    Block {
        member: u8,
    },
    Unblock {
        member: u8,
    },
    Redeem {
        member: u8,
        reward: u8,
    },
    /// Cancels the `pick`-th redemption of the member, named under reward `reward`.
    CancelRedemption {
        member: u8,
        reward: u8,
        pick: usize,
    },
    ChangeStock {
        reward: u8,
        delta: i32,
    },
    Codeword {
        member: u8,
        campaign: u8,
        network: Network,
        minute: i64,
    },
    PauseCampaign {
        campaign: u8,
    },
    ResumeCampaign {
        campaign: u8,
    },
    EndCampaign {
        campaign: u8,
    },
    Link {
        member: u8,
        account: u8,
    },
    Unlink {
        member: u8,
        account: u8,
    },
    /// Activity from an account nobody claimed: member `member` is registered to hold it.
    Observe {
        member: u8,
        account: u8,
    },
    /// The expiry job looks at the member `hours` after the step's time (points expire a day
    /// after their credit, so some lots are due and some are not).
    Expire {
        member: u8,
        hours: i64,
    },
    /// A manager approves or rejects the `pick`-th held award of the member (in entry order;
    /// decided ones too, so some decisions repeat or contradict an earlier one).
    Review {
        member: u8,
        pick: usize,
        approve: bool,
    },
}

/// The generated programs' expiry: a day after the credit, without warnings.
pub const EXPIRY: ExpiryRules = ExpiryRules {
    after_days: 1,
    warn_days: 0,
};

impl Ledger {
    /// The time a step is recorded: one minute per step, independent of when activity happened.
    fn now(&self) -> Timestamp {
        t0() + Duration::minutes(self.steps_run)
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(super) fn decide(&mut self, step: &Step) -> Result<Vec<Event>, DomainError> {
        let at = self.now();
        let by = String::from("manager");
        match step.clone() {
            Step::Register { member: m } => self.member(m).decide(MemberCommand::Register {
                member_id: member(m),
                program_id: program(),
                at,
            }),
            Step::Award {
                member: m,
                activity,
                points,
                minute,
                text,
            } => {
                let award = Award {
                    entry_id: entry(self.fresh_id()),
                    activity,
                    points: Points::new(points)?,
                    rule_version: 1,
                    campaign_id: None,
                    occurred_at: minutes(minute),
                    limits: self.setup.limits.clone(),
                    at,
                };
                let command = match text {
                    Some(n) => MemberCommand::AwardWritten {
                        award,
                        text: WrittenText {
                            fingerprint: text_fingerprint(n),
                            repeats: self.setup.repeats,
                        },
                    },
                    None => MemberCommand::Award(award),
                };
                self.member(m).decide(command)
            }
            Step::Reverse {
                member: m,
                activity,
                reason,
            } => {
                let entry_id = entry(self.fresh_id());
                self.member(m).decide(MemberCommand::Reverse {
                    entry_id,
                    activity,
                    reason,
                    at,
                })
            }
            Step::Restore {
                member: m,
                activity,
            } => {
                let entry_id = entry(self.fresh_id());
                self.member(m).decide(MemberCommand::Restore {
                    entry_id,
                    activity,
                    at,
                })
            }
            Step::Expire { member: m, hours } => expiry::decide_expiry(
                &self.member(m),
                expiry::ExpirePoints {
                    rules: EXPIRY,
                    rule_version: 1,
                    at: at + Duration::hours(hours),
                },
            ),
            Step::Adjust { member: m, delta } => {
                let (entry_id, delta) = (entry(self.fresh_id()), PointsDelta::new(delta)?);
                let reason = "goodwill".into();
                self.member(m).decide(MemberCommand::Adjust {
                    entry_id,
                    delta,
                    reason,
                    note: None,
                    by,
                    at,
                })
            }
            Step::Compensate { member: m, pick } => {
                let entries = self.balance_entries(m);
                let fresh = entry(self.fresh_id());
                let target = if entries.is_empty() {
                    fresh
                } else {
                    entries[pick % entries.len()]
                };
                let entry_id = entry(self.fresh_id());
                let reason = "mistake".into();
                let command = MemberCommand::Compensate {
                    entry_id,
                    target,
                    reason,
                    note: None,
                    by,
                    at,
                };
                self.member(m).decide(command)
            }
            Step::CompensateAwards {
                member: m,
                from,
                span,
                run,
            } => {
                let command = MemberCommand::CompensateAwards {
                    run_id: uuid::Uuid::from_u128(u128::from(run) + 1),
                    from: minutes(from),
                    until: minutes(from + span),
                    reason: "account farm".into(),
                    note: None,
                    by,
                    at,
                };
                self.member(m).decide(command)
            }
            Step::Block { member: m } => {
                let reason = "spam".into();
                self.member(m)
                    .decide(MemberCommand::Block { reason, by, at })
            }
            Step::Unblock { member: m } => self.member(m).decide(MemberCommand::Unblock { by, at }),
            Step::Redeem {
                member: m,
                reward: r,
            } => {
                let n = self.fresh_id();
                let cmd = Redeem {
                    entry_id: entry(n),
                    redemption_id: redemption(n),
                    coupon_code: format!("COUPON-{n}"),
                    at,
                };
                reward::decide_redeem(&self.reward(r), &self.member(m), cmd)
            }
            Step::CancelRedemption {
                member: m,
                reward: r,
                pick,
            } => {
                let redemptions = self.redemption_ids(m);
                let fresh = redemption(self.fresh_id());
                let redemption_id = if redemptions.is_empty() {
                    fresh
                } else {
                    redemptions[pick % redemptions.len()]
                };
                let cmd = CancelRedemption {
                    entry_id: entry(self.fresh_id()),
                    redemption_id,
                    reason: "out of stock at the shop".into(),
                    by,
                    at,
                };
                reward::decide_cancel_redemption(&self.reward(r), &self.member(m), cmd)
            }
            Step::ChangeStock { reward: r, delta } => self
                .reward(r)
                .decide(RewardCommand::ChangeStock { delta, by, at }),
            Step::Codeword {
                member: m,
                campaign: c,
                network,
                minute,
            } => {
                let n = self.fresh_id();
                let cmd = RedeemCodeword {
                    entry_id: entry(n),
                    network,
                    reference: format!("comment-{n}"),
                    target: None,
                    occurred_at: minutes(minute),
                    time_zone: self.setup.limits.time_zone,
                    review: self.setup.limits.review.clone(),
                    at,
                };
                campaign::decide_codeword(&self.campaign(c), &self.member(m), cmd)
            }
            Step::PauseCampaign { campaign: c } => {
                self.campaign(c).decide(CampaignCommand::Pause { by, at })
            }
            Step::ResumeCampaign { campaign: c } => {
                self.campaign(c).decide(CampaignCommand::Resume { by, at })
            }
            Step::EndCampaign { campaign: c } => {
                self.campaign(c).decide(CampaignCommand::End { by, at })
            }
            Step::Link {
                member: m,
                account: a,
            } => {
                let (identity, state) = (account(a), self.identity(&account(a).account));
                let (method, cooldown) = (LinkMethod::Code, self.setup.relink_cooldown);
                let holder = self.member(m);
                identity::decide_link(&state, &holder, program(), identity, method, cooldown, at)
            }
            Step::Unlink {
                member: m,
                account: a,
            } => {
                let (identity, state) = (account(a), self.identity(&account(a).account));
                identity::decide_unlink(&state, &self.member(m), program(), identity, at)
            }
            Step::Review {
                member: m,
                pick,
                approve,
            } => {
                let state = self.member(m);
                let mut held: Vec<_> = state.held.keys().copied().collect();
                held.sort();
                let award = match held.is_empty() {
                    true => entry(self.fresh_id()),
                    false => held[pick % held.len()],
                };
                let decision = match approve {
                    true => ReviewDecision::Approve,
                    false => ReviewDecision::Reject {
                        reason: "a farm".into(),
                    },
                };
                let command = ReviewHeld {
                    award,
                    decision,
                    by,
                    at,
                };
                review::decide_review(&state, None, command)
            }
            Step::Observe {
                member: m,
                account: a,
            } => {
                let (identity, state) = (account(a), self.identity(&account(a).account));
                let (holder, member_id) = (self.member(m), member(m));
                identity::decide_register_observed(
                    &state,
                    &holder,
                    program(),
                    member_id,
                    identity,
                    at,
                )
            }
        }
    }

    /// Every entry that changed member `m`'s balance, in log order.
    fn balance_entries(&self, m: u8) -> Vec<domain::ids::EntryId> {
        let stream = StreamId::Member(member(m));
        stream_of(&self.log, &stream)
            .into_iter()
            .filter_map(entry_id_of)
            .collect()
    }

    fn redemption_ids(&self, m: u8) -> Vec<domain::ids::RedemptionId> {
        let stream = StreamId::Member(member(m));
        let redeemed = stream_of(&self.log, &stream)
            .into_iter()
            .filter_map(|e| match e {
                Event::RewardRedeemed { redemption_id, .. } => Some(*redemption_id),
                _ => None,
            });
        redeemed.collect()
    }
}
