//! Projection "campaigns": codeword campaigns (window, cap, status, redemptions so far) and who
//! redeemed each codeword, when and where.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CampaignRow {
    pub program_id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    /// What members are told about it.
    pub description: Option<String>,
    /// The codeword as the manager typed it.
    pub codeword: String,
    pub points: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub total_cap: Option<i32>,
    pub networks: Vec<String>,
    /// `active`, `paused` or `ended`.
    pub status: String,
    pub redemptions: i32,
    /// Redemptions left before the cap (`None`: no cap).
    pub remaining: Option<i32>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CodewordRedemptionRow {
    pub member_id: Uuid,
    pub network: String,
    /// The platform's id of the comment or message that carried the codeword.
    pub reference: String,
    pub points: i64,
    pub redeemed_at: DateTime<Utc>,
    pub position: i64,
}

const CAMPAIGN_COLUMNS: &str = "program_id, campaign_id, name, description, codeword, points, starts_at, ends_at, \
     total_cap, networks, status, redemptions, \
     CASE WHEN total_cap IS NULL THEN NULL ELSE greatest(total_cap - redemptions, 0) END AS remaining, \
     created_by, updated_at";

pub async fn campaign(
    pool: &PgPool,
    program_id: Uuid,
    campaign_id: Uuid,
) -> Result<Option<CampaignRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE program_id = $1 AND campaign_id = $2"
    ))
    .bind(program_id)
    .bind(campaign_id)
    .fetch_optional(pool)
    .await?)
}

/// Every campaign of a program, newest window first.
pub async fn campaigns(pool: &PgPool, program_id: Uuid) -> Result<Vec<CampaignRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE program_id = $1 ORDER BY starts_at DESC, campaign_id"
    ))
    .bind(program_id)
    .fetch_all(pool)
    .await?)
}

/// Redemptions of one campaign in log order, after `after_position`, at most `limit` (≤ 1,000).
pub async fn codeword_redemptions(
    pool: &PgPool,
    program_id: Uuid,
    campaign_id: Uuid,
    after_position: i64,
    limit: i64,
) -> Result<Vec<CodewordRedemptionRow>> {
    Ok(sqlx::query_as(
        "SELECT member_id, network, reference, points, redeemed_at, position FROM codeword_redemptions \
         WHERE program_id = $1 AND campaign_id = $2 AND position > $3 ORDER BY position LIMIT $4",
    )
    .bind(program_id)
    .bind(campaign_id)
    .bind(after_position)
    .bind(limit.clamp(0, 1_000))
    .fetch_all(pool)
    .await?)
}

type PatchColumns = (
    Vec<Uuid>,
    Vec<Uuid>,
    Vec<Option<String>>,
    Vec<i32>,
    Vec<DateTime<Utc>>,
);

#[derive(Debug, Default)]
struct Patch {
    status: Option<&'static str>,
    redemptions: i32,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    created: HashMap<(Uuid, Uuid), CampaignRow>,
    patches: HashMap<(Uuid, Uuid), Patch>,
    redemptions: Vec<(Uuid, Uuid, CodewordRedemptionRow)>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.created.len() + self.patches.len() + self.redemptions.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        let (campaign, status) = match &r.event {
            Event::CampaignCreated {
                campaign_id,
                name,
                description,
                codeword,
                points,
                starts_at,
                ends_at,
                total_cap,
                networks,
                by,
                ..
            } => {
                let row = CampaignRow {
                    program_id: r.program_id,
                    campaign_id: campaign_id.0,
                    name: name.clone(),
                    description: description.clone(),
                    codeword: codeword.display.clone(),
                    points: *points,
                    starts_at: starts_at.get(),
                    ends_at: ends_at.get(),
                    total_cap: total_cap.map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
                    networks: networks.iter().map(|n| n.as_str().to_string()).collect(),
                    status: "active".into(),
                    redemptions: 0,
                    remaining: None,
                    created_by: by.clone(),
                    updated_at: r.recorded_at,
                };
                self.created.insert((r.program_id, campaign_id.0), row);
                return;
            }
            Event::CampaignPaused { campaign_id, .. } => (campaign_id.0, Some("paused")),
            Event::CampaignResumed { campaign_id, .. } => (campaign_id.0, Some("active")),
            Event::CampaignEnded { campaign_id, .. } => (campaign_id.0, Some("ended")),
            Event::CodewordRedeemed {
                campaign_id,
                member_id,
                network,
                reference,
                points,
                at,
                ..
            } => {
                self.redemptions.push((
                    r.program_id,
                    campaign_id.0,
                    CodewordRedemptionRow {
                        member_id: member_id.0,
                        network: network.as_str().to_string(),
                        reference: reference.clone(),
                        points: *points,
                        redeemed_at: at.get(),
                        position: r.position,
                    },
                ));
                (campaign_id.0, None)
            }
            _ => return,
        };
        let key = (r.program_id, campaign);
        let redeemed = i32::from(status.is_none());
        if let Some(row) = self.created.get_mut(&key) {
            row.status = status.map_or(row.status.clone(), str::to_string);
            row.redemptions += redeemed;
            row.updated_at = r.recorded_at;
        } else {
            let patch = self.patches.entry(key).or_default();
            patch.status = status.or(patch.status);
            patch.redemptions += redeemed;
            patch.updated_at = Some(r.recorded_at);
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        let campaigns = target.table("campaigns");
        let created: Vec<CampaignRow> = self.created.into_values().collect();
        for row in &created {
            sqlx::query(&format!(
                "INSERT INTO {campaigns} (program_id, campaign_id, name, codeword, points, starts_at, \
                 ends_at, total_cap, networks, status, redemptions, created_by, updated_at, description) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING"
            ))
            .bind(row.program_id)
            .bind(row.campaign_id)
            .bind(&row.name)
            .bind(&row.codeword)
            .bind(row.points)
            .bind(row.starts_at)
            .bind(row.ends_at)
            .bind(row.total_cap)
            .bind(&row.networks)
            .bind(&row.status)
            .bind(row.redemptions)
            .bind(&row.created_by)
            .bind(row.updated_at)
            .bind(&row.description)
            .execute(&mut *conn)
            .await?;
        }
        if !self.patches.is_empty() {
            let mut cols: PatchColumns = Default::default();
            for ((program, campaign), p) in self.patches {
                cols.0.push(program);
                cols.1.push(campaign);
                cols.2.push(p.status.map(str::to_string));
                cols.3.push(p.redemptions);
                cols.4.push(p.updated_at.unwrap_or_default());
            }
            sqlx::query(&format!(
                "UPDATE {campaigns} AS c SET status = coalesce(t.status, c.status), \
                 redemptions = c.redemptions + t.redemptions, updated_at = greatest(c.updated_at, t.at) \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::int4[], $5::timestamptz[]) \
                   AS t(program_id, campaign_id, status, redemptions, at) \
                 WHERE c.program_id = t.program_id AND c.campaign_id = t.campaign_id"
            ))
            .bind(&cols.0)
            .bind(&cols.1)
            .bind(&cols.2)
            .bind(&cols.3)
            .bind(&cols.4)
            .execute(&mut *conn)
            .await?;
        }
        let table = target.table("codeword_redemptions");
        for chunk in self.redemptions.chunks(ROWS_PER_STATEMENT) {
            let mut c: RedemptionColumns = Default::default();
            for (program, campaign, row) in chunk {
                c.program.push(*program);
                c.campaign.push(*campaign);
                c.member.push(row.member_id);
                c.network.push(row.network.clone());
                c.reference.push(row.reference.clone());
                c.points.push(row.points);
                c.at.push(row.redeemed_at);
                c.position.push(row.position);
            }
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, campaign_id, member_id, network, reference, points, \
                 redeemed_at, position) \
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], \
                 $6::int8[], $7::timestamptz[], $8::int8[]) ON CONFLICT DO NOTHING"
            ))
            .bind(&c.program)
            .bind(&c.campaign)
            .bind(&c.member)
            .bind(&c.network)
            .bind(&c.reference)
            .bind(&c.points)
            .bind(&c.at)
            .bind(&c.position)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct RedemptionColumns {
    program: Vec<Uuid>,
    campaign: Vec<Uuid>,
    member: Vec<Uuid>,
    network: Vec<String>,
    reference: Vec<String>,
    points: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    position: Vec<i64>,
}
