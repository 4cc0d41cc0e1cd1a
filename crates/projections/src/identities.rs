//! Projection "identities": which member holds each external account (network, scope, id),
//! from AccountLinked / AccountUnlinked. Usernames are personal data and never in events: the
//! application layer keeps them in `profiles` (`app::ingest::profiles`), and search joins the two.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use domain::event::LinkMethod;
use domain::network::ExternalIdentity;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// The member holding an external account, if any.
pub async fn member_for(
    pool: &PgPool,
    program_id: Uuid,
    identity: &ExternalIdentity,
) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT member_id FROM identities \
         WHERE program_id = $1 AND network = $2 AND scope = $3 AND external_id = $4",
    )
    .bind(program_id)
    .bind(identity.network.as_str())
    .bind(&identity.scope)
    .bind(&identity.external_id)
    .fetch_optional(pool)
    .await?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct MemberHit {
    pub member_id: Uuid,
    pub network: String,
    pub scope: String,
    pub external_id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
}

/// Linked accounts whose username contains `query`, case-insensitively: exact matches first,
/// then prefixes, then the rest by username. At most `limit` (≤ 100) hits.
pub async fn search(
    pool: &PgPool,
    program_id: Uuid,
    query: &str,
    limit: i64,
) -> Result<Vec<MemberHit>> {
    let lowered = query.trim().to_lowercase();
    if lowered.is_empty() {
        return Ok(Vec::new());
    }
    let escaped = lowered
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(sqlx::query_as(
        "SELECT i.member_id, p.network, p.scope, p.external_id, p.username, p.display_name \
         FROM profiles p JOIN identities i USING (program_id, network, scope, external_id) \
         WHERE p.program_id = $1 AND lower(p.username) LIKE '%' || $2 || '%' \
         ORDER BY (lower(p.username) = $3) DESC, (lower(p.username) LIKE $2 || '%') DESC, \
                  p.username, p.network LIMIT $4",
    )
    .bind(program_id)
    .bind(&escaped)
    .bind(&lowered)
    .bind(limit.clamp(0, 100))
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    member_id: Uuid,
    method: &'static str,
    at: DateTime<Utc>,
}

fn method_name(method: LinkMethod) -> &'static str {
    match method {
        LinkMethod::Telegram => "telegram",
        LinkMethod::Code => "code",
        LinkMethod::OAuth => "oauth",
        LinkMethod::Manager => "manager",
        LinkMethod::Observed => "observed",
    }
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// The last state of each account touched by the batch; `None` = unlinked.
    links: HashMap<(Uuid, ExternalIdentity), Option<Link>>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.links.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        match &r.event {
            Event::AccountLinked {
                member_id,
                identity,
                method,
                at,
            } => {
                let link = Link {
                    member_id: member_id.0,
                    method: method_name(*method),
                    at: at.get(),
                };
                self.links
                    .insert((r.program_id, identity.clone()), Some(link));
            }
            Event::AccountUnlinked { identity, .. } => {
                self.links.insert((r.program_id, identity.clone()), None);
            }
            _ => {}
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        let table = target.table("identities");
        let (linked, unlinked): (Vec<_>, Vec<_>) =
            self.links.into_iter().partition(|(_, l)| l.is_some());
        for chunk in linked.chunks(ROWS_PER_STATEMENT) {
            let mut c: Columns = Default::default();
            for ((program, identity), link) in chunk {
                let Some(link) = link else { continue };
                c.push(*program, identity);
                c.member.push(link.member_id);
                c.method.push(link.method.to_string());
                c.at.push(link.at);
            }
            let conflict = if target.fresh {
                ""
            } else {
                "ON CONFLICT (program_id, network, scope, external_id) DO UPDATE SET \
                 member_id = EXCLUDED.member_id, method = EXCLUDED.method, linked_at = EXCLUDED.linked_at"
            };
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, network, scope, external_id, member_id, method, linked_at) \
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], \
                 $6::text[], $7::timestamptz[]) {conflict}"
            ))
            .bind(&c.program)
            .bind(&c.network)
            .bind(&c.scope)
            .bind(&c.external_id)
            .bind(&c.member)
            .bind(&c.method)
            .bind(&c.at)
            .execute(&mut *conn)
            .await?;
        }
        if !unlinked.is_empty() && !target.fresh {
            let mut c: Columns = Default::default();
            for ((program, identity), _) in &unlinked {
                c.push(*program, identity);
            }
            sqlx::query(&format!(
                "DELETE FROM {table} AS i USING UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) \
                   AS t(program_id, network, scope, external_id) \
                 WHERE i.program_id = t.program_id AND i.network = t.network \
                   AND i.scope = t.scope AND i.external_id = t.external_id"
            ))
            .bind(&c.program)
            .bind(&c.network)
            .bind(&c.scope)
            .bind(&c.external_id)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Columns {
    program: Vec<Uuid>,
    network: Vec<String>,
    scope: Vec<String>,
    external_id: Vec<String>,
    member: Vec<Uuid>,
    method: Vec<String>,
    at: Vec<DateTime<Utc>>,
}

impl Columns {
    fn push(&mut self, program: Uuid, identity: &ExternalIdentity) {
        self.program.push(program);
        self.network.push(identity.network.as_str().to_string());
        self.scope.push(identity.scope.clone());
        self.external_id.push(identity.external_id.clone());
    }
}
