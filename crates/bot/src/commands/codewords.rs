//! A plain text to the bot: a campaign's codeword, paid once per member and campaign through
//! `Ledger::redeem_codeword` (network telegram, reference = the message id).

use super::{Ctx, Reply};
use crate::{BotError, members, notify, texts};
use app::ingest::{bot_codewords, link_codes};
use app::{AppError, Outcome};
use chrono::{DateTime, Utc};
use domain::DomainError;
use domain::campaign::RedeemCodeword;
use domain::ids::{CampaignId, EntryId, MemberId};
use domain::network::Network;
use uuid::Uuid;

impl Ctx<'_> {
    /// A plain text: a codeword (paid once per member and campaign) or nothing known.
    pub(super) async fn plain_text(&self) -> Result<Reply, BotError> {
        let text = self.msg.text.as_str();
        if link_codes::find_in_text(text).is_some() {
            return Ok(Reply::text(texts::link_code_goes_elsewhere(self.lang)));
        }
        let occurred_at = self.msg.occurred_at.unwrap_or(self.now);
        let ingest = &self.bot.state.ingest;
        let matched = ingest
            .campaigns_matching(
                self.program.program_id,
                text,
                Network::Telegram,
                None,
                occurred_at,
            )
            .await?;
        if matched.is_empty() {
            return Ok(Reply::text(texts::codeword_unknown(self.lang)));
        }
        let member = self.member().await?;
        let (mut paid, mut used, mut blocked) = (0, false, false);
        for campaign in matched {
            let entry = bot_codewords::codeword_entry_id(campaign.campaign_id, member);
            match self
                .redeem(member, campaign.campaign_id, entry, occurred_at)
                .await?
            {
                Redeemed::Paid => paid += campaign.points,
                Redeemed::AlreadyUsed => used = true,
                Redeemed::Blocked => blocked = true,
                Redeemed::Refused => {}
            }
        }
        let text = if paid > 0 {
            let state = members::member_state(self.bot.state.ledger(), member).await?;
            texts::codeword_paid(self.lang, paid, state.balance)
        } else if blocked {
            texts::blocked(self.lang).to_owned()
        } else if used {
            texts::codeword_used(self.lang).to_owned()
        } else {
            texts::codeword_unavailable(self.lang).to_owned()
        };
        Ok(Reply::text(text))
    }

    /// Redeems one campaign. The reply tells the member about the points, so the entry's
    /// notification is marked settled first (and released again if nothing was paid).
    async fn redeem(
        &self,
        member: MemberId,
        campaign: CampaignId,
        entry: EntryId,
        occurred_at: DateTime<Utc>,
    ) -> Result<Redeemed, BotError> {
        let pool = self.bot.pool();
        let key = notify::entry_key(entry);
        let claimed = notify::records::claim_replied(pool, &key, self.msg.chat_id).await?;
        let redeem = RedeemCodeword {
            entry_id: EntryId(Uuid::nil()),
            network: Network::Telegram,
            reference: self.msg.message_id.to_string(),
            target: None,
            occurred_at: occurred_at.into(),
            time_zone: self.program.time_zone,
            review: self.program.rules.review.clone(),
            at: self.now.into(),
        };
        let outcome = self
            .bot
            .state
            .ledger()
            .redeem_codeword(
                self.program.program_id,
                campaign,
                member,
                redeem,
                self.metadata.clone(),
            )
            .await;
        let redeemed = match outcome {
            Ok(Outcome::Recorded { .. } | Outcome::Duplicate) => Redeemed::Paid,
            Ok(Outcome::Unchanged) => Redeemed::Refused,
            Err(AppError::Denied(DomainError::CodewordAlreadyUsed)) => Redeemed::AlreadyUsed,
            Err(AppError::Denied(DomainError::MemberBlocked(_))) => Redeemed::Blocked,
            Err(AppError::Denied(_)) => Redeemed::Refused,
            Err(e) => {
                if claimed {
                    notify::records::release(pool, &key).await?;
                }
                return Err(e.into());
            }
        };
        if claimed && redeemed != Redeemed::Paid {
            notify::records::release(pool, &key).await?;
        }
        Ok(redeemed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redeemed {
    Paid,
    AlreadyUsed,
    Blocked,
    Refused,
}
