//! Codewords sent to the Telegram bot in a private chat. The bot pays them through
//! [`crate::app::Ledger::redeem_codeword`] itself, so that it can answer per campaign and mark
//! its answer as the member's notification; finding the campaigns is the same as for comments.

use super::Ingest;
use crate::app::AppError;
use chrono::{DateTime, Utc};
use domain::StreamId;
use domain::campaign::CampaignState;
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId};

/// An open campaign whose codeword a text carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedCampaign {
    pub campaign_id: CampaignId,
    pub points: i64,
}

impl Ingest {
    /// The program's campaigns open at `occurred_at` whose codeword `text` carries.
    pub async fn campaigns_matching(
        &self,
        program_id: ProgramId,
        text: &str,
        occurred_at: DateTime<Utc>,
    ) -> Result<Vec<MatchedCampaign>, AppError> {
        let mut matched = Vec::new();
        for campaign_id in self.campaign_ids(program_id).await? {
            let campaign = self
                .ledger
                .load::<CampaignState>(&StreamId::Campaign(campaign_id))
                .await?
                .state;
            let matches = campaign.codeword.as_ref().is_some_and(|c| c.matches(text));
            if matches && campaign.is_open(occurred_at.into()) {
                matched.push(MatchedCampaign {
                    campaign_id,
                    points: campaign.points,
                });
            }
        }
        Ok(matched)
    }
}

/// The entry id `Ledger::redeem_codeword` gives a member's redemption of a campaign (its
/// command id, derived from the pair): known before the redemption is recorded.
pub fn codeword_entry_id(campaign_id: CampaignId, member_id: MemberId) -> EntryId {
    EntryId(domain::ids::derived_id(&format!(
        "codeword/{campaign_id}/{member_id}"
    )))
}
