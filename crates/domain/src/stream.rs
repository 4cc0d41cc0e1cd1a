//! Stream names. A stream is the unit of consistency: one decision reads and appends to a few.

use crate::ids::{AccountRef, CampaignId, MemberId, ProgramId, RaffleId, RewardId, SeasonId};
use std::fmt;

/// The stream an event belongs to; its `Display` is the `stream_id` the store keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamId {
    /// A program's settings and rules.
    Program(ProgramId),
    /// One member: balance, awards, corrections, redemptions, links, blocks.
    Member(MemberId),
    /// One codeword campaign: its life and who redeemed it.
    Campaign(CampaignId),
    /// One reward: its listing and stock.
    Reward(RewardId),
    /// One raffle: its terms, its tickets, its draw.
    Raffle(RaffleId),
    /// One leaderboard season: its terms, its end, its prizes closed.
    Season(SeasonId),
    /// One external account within one program, by its reference: who claims it.
    Identity(ProgramId, AccountRef),
}

impl StreamId {
    /// The stream's category, the prefix of its name.
    pub fn category(&self) -> &'static str {
        match self {
            StreamId::Program(_) => "program",
            StreamId::Member(_) => "member",
            StreamId::Campaign(_) => "campaign",
            StreamId::Reward(_) => "reward",
            StreamId::Raffle(_) => "raffle",
            StreamId::Season(_) => "season",
            StreamId::Identity(..) => "identity",
        }
    }
}

impl StreamId {
    /// What every identity stream of `program` is named with, before its account reference
    /// (a query that learns the reference names the stream with it).
    pub fn identity_prefix(program: ProgramId) -> String {
        format!("identity-{program}-")
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Program(id) => write!(f, "program-{id}"),
            StreamId::Member(id) => write!(f, "member-{id}"),
            StreamId::Campaign(id) => write!(f, "campaign-{id}"),
            StreamId::Reward(id) => write!(f, "reward-{id}"),
            StreamId::Raffle(id) => write!(f, "raffle-{id}"),
            StreamId::Season(id) => write!(f, "season-{id}"),
            StreamId::Identity(program, account) => {
                write!(f, "{}{account}", StreamId::identity_prefix(*program))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queries name an identity stream as the prefix followed by the reference's text, as
    /// PostgreSQL writes a uuid: lowercase, hyphenated, as `Uuid`'s `Display`.
    #[test]
    fn an_identity_stream_is_its_prefix_and_its_reference() {
        let program = ProgramId(uuid::Uuid::from_u128(
            0xABCD_EF01_2345_6789_ABCD_EF01_2345_6789,
        ));
        let account = AccountRef(uuid::Uuid::from_u128(
            0xFEDC_BA98_7654_3210_FEDC_BA98_7654_3210,
        ));
        assert_eq!(
            StreamId::Identity(program, account).to_string(),
            format!(
                "{}{}",
                StreamId::identity_prefix(program),
                account.0.hyphenated()
            )
        );
        assert_eq!(
            StreamId::identity_prefix(program),
            "identity-abcdef01-2345-6789-abcd-ef0123456789-"
        );
    }
}
