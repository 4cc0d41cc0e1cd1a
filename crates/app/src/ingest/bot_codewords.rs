//! Codewords sent to the Telegram bot in a private chat. The bot pays them through
//! [`crate::Ledger::redeem_codeword`] itself, so that it can answer per campaign and mark
//! its answer as the member's notification; finding the campaigns is the same as for comments.

use super::Ingest;
use crate::AppError;
use chrono::{DateTime, Utc};
use domain::StreamId;
use domain::campaign::{CampaignState, campaigns_to_pay};
use domain::ids::{CampaignId, EntryId, MemberId, ProgramId};
use domain::network::Network;

/// An open campaign whose codeword a text carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedCampaign {
    pub campaign_id: CampaignId,
    pub points: i64,
}

impl Ingest {
    /// The program's campaigns a text pays (`domain::campaign::campaigns_to_pay`: open at
    /// `occurred_at`, its codeword in the text, one per codeword).
    pub async fn campaigns_matching(
        &self,
        program_id: ProgramId,
        text: &str,
        network: Network,
        target: Option<&str>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Vec<MatchedCampaign>, AppError> {
        let mut campaigns = Vec::new();
        for &campaign_id in self.campaign_ids(program_id).await?.iter() {
            let stream = StreamId::Campaign(campaign_id);
            campaigns.push(self.ledger.load::<CampaignState>(&stream).await?.state);
        }
        let paid = campaigns_to_pay(&campaigns, text, network, target, occurred_at.into());
        Ok(paid
            .into_iter()
            .filter_map(|c| {
                Some(MatchedCampaign {
                    campaign_id: c.campaign_id?,
                    points: c.points,
                })
            })
            .collect())
    }
}

/// The entry id `Ledger::redeem_codeword` gives a member's redemption of a campaign (its
/// command id, derived from the pair): known before the redemption is recorded.
pub fn codeword_entry_id(campaign_id: CampaignId, member_id: MemberId) -> EntryId {
    EntryId(domain::ids::derived_id(&format!(
        "codeword/{campaign_id}/{member_id}"
    )))
}
