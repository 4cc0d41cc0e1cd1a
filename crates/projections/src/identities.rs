//! Projection "identities": which member holds each external account, by its reference, from
//! AccountLinked / AccountUnlinked. Platform ids and usernames are personal data and never in
//! events: the application layer keeps them in `external_accounts` and `profiles`, and the
//! admin panel's search joins them. An erased member keeps its rows: their references point at
//! no platform account any more.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use domain::event::LinkMethod;
use domain::network::LinkedAccount;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

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
    links: HashMap<(Uuid, LinkedAccount), Option<Link>>,
}

impl Changes {
    pub fn rows(&self) -> usize {
        self.links.len()
    }

    pub fn add(&mut self, r: &Recorded) {
        match &r.event {
            Event::AccountLinked {
                member_id,
                account,
                method,
                at,
                ..
            } => {
                let link = Link {
                    member_id: member_id.0,
                    method: method_name(*method),
                    at: at.get(),
                };
                self.links.insert((r.program_id, *account), Some(link));
            }
            Event::AccountUnlinked { account, .. } => {
                self.links.insert((r.program_id, *account), None);
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
                "ON CONFLICT (program_id, account_ref) DO UPDATE SET \
                 member_id = EXCLUDED.member_id, method = EXCLUDED.method, linked_at = EXCLUDED.linked_at"
            };
            sqlx::query(&format!(
                "INSERT INTO {table} (program_id, network, account_ref, member_id, method, linked_at) \
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], \
                 $5::text[], $6::timestamptz[]) {conflict}"
            ))
            .bind(&c.program)
            .bind(&c.network)
            .bind(&c.account)
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
                "DELETE FROM {table} AS i USING UNNEST($1::uuid[], $2::uuid[]) \
                   AS t(program_id, account_ref) \
                 WHERE i.program_id = t.program_id AND i.account_ref = t.account_ref"
            ))
            .bind(&c.program)
            .bind(&c.account)
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
    account: Vec<Uuid>,
    member: Vec<Uuid>,
    method: Vec<String>,
    at: Vec<DateTime<Utc>>,
}

impl Columns {
    fn push(&mut self, program: Uuid, account: &LinkedAccount) {
        self.program.push(program);
        self.network.push(account.network.as_str().to_string());
        self.account.push(account.account.0);
    }
}
