//! The members list: every member of a program, sorted and filtered, one keyset page at a time
//! (a page costs the same at the millionth member as at the first), and the same list as a CSV
//! file. Members are named by the name directory's rule, the one leaderboards use.

use super::auth::{Authorized, Read};
use super::csv_file::{CsvFile, CsvOptions};
use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::network::Network;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Rows a page holds unless `limit` says otherwise, and the most it may say.
pub const PAGE_ROWS: u32 = 50;
pub const MAX_PAGE_ROWS: u32 = 500;
/// Rows each query of a CSV export reads.
const EXPORT_PAGE_ROWS: u32 = 2_000;
/// Longest `active_days` accepted (ten years).
const MAX_ACTIVE_DAYS: u32 = 3_660;

/// What the list is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberSort {
    /// The member's latest change (activity, adjustment, redemption).
    #[default]
    LastActivity,
    Balance,
    /// Lifetime points earned.
    Earned,
    /// When the member registered.
    Joined,
}

impl MemberSort {
    /// The sort key, exactly as the matching index on `balances` spells it.
    fn key(self) -> &'static str {
        match self {
            MemberSort::LastActivity => "b.updated_at",
            MemberSort::Balance => "b.current",
            MemberSort::Earned => "b.earned",
            MemberSort::Joined => "coalesce(b.registered_at, 'epoch')",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    /// Largest or newest first.
    #[default]
    Desc,
}

/// Which members, in which order, from where.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// A username (any network, `@` optional), a name, a network account id, or a member id.
    pub q: Option<String>,
    /// Only members with an account on this network (`instagram`, `vk`, `telegram`).
    pub network: Option<String>,
    /// `true`: accounts on two or more networks; `false`: one network only.
    pub linked: Option<bool>,
    pub blocked: Option<bool>,
    /// Only members whose latest change is at most this many days old.
    pub active_days: Option<u32>,
    pub min_balance: Option<i64>,
    pub max_balance: Option<i64>,
    /// Only members on this tier, by its place on the ladder (1 = the lowest); 0: members on
    /// no tier.
    pub tier: Option<u32>,
    #[param(inline)]
    pub sort: Option<MemberSort>,
    #[param(inline)]
    pub order: Option<SortOrder>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Rows per page (default 50, at most 500).
    pub limit: Option<u32>,
}

/// A checked [`MembersQuery`].
#[derive(Debug, Clone)]
pub struct MemberFilter {
    search: Option<Search>,
    network: Option<Network>,
    linked: Option<bool>,
    blocked: Option<bool>,
    active_days: Option<u32>,
    min_balance: Option<i64>,
    max_balance: Option<i64>,
    tier: Option<u32>,
    sort: MemberSort,
    order: SortOrder,
}

#[derive(Debug, Clone)]
struct Search {
    /// Lower case, without a leading `@`.
    needle: String,
    /// As typed, trimmed: platform ids are compared exactly.
    exact: String,
    member: Option<Uuid>,
}

/// Where the previous page ended: its last row's sort key and member.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    /// Points, or microseconds since the epoch for the time sorts.
    key: i64,
    member: Uuid,
}

fn foreign_cursor() -> ApiError {
    ApiError::bad_request("`after` is not a cursor this list gave out")
}

impl Cursor {
    fn parse(text: &str) -> Option<Cursor> {
        let (key, member) = text.split_once('~')?;
        Some(Cursor {
            key: key.parse().ok()?,
            member: member.parse().ok()?,
        })
    }

    fn text(&self) -> String {
        format!("{}~{}", self.key, self.member)
    }
}

impl MembersQuery {
    pub fn filter(&self) -> Result<MemberFilter, ApiError> {
        let network = match self.network.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(Network::parse(name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown network {name:?}: use instagram, vk or telegram"
                ))
            })?),
        };
        if let (Some(min), Some(max)) = (self.min_balance, self.max_balance)
            && min > max
        {
            return Err(ApiError::bad_request(format!(
                "min_balance {min} is above max_balance {max}"
            )));
        }
        if self
            .active_days
            .is_some_and(|d| d == 0 || d > MAX_ACTIVE_DAYS)
        {
            return Err(ApiError::bad_request(format!(
                "active_days must be from 1 to {MAX_ACTIVE_DAYS}"
            )));
        }
        let search = self.q.as_deref().and_then(|q| {
            let exact = q.trim().trim_start_matches('@');
            (!exact.is_empty()).then(|| Search {
                member: exact.parse().ok(),
                needle: exact.to_lowercase(),
                exact: exact.to_string(),
            })
        });
        Ok(MemberFilter {
            search,
            network,
            linked: self.linked,
            blocked: self.blocked,
            active_days: self.active_days,
            min_balance: self.min_balance,
            max_balance: self.max_balance,
            tier: self.tier,
            sort: self.sort.unwrap_or_default(),
            order: self.order.unwrap_or_default(),
        })
    }

    fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        match self.after.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => Cursor::parse(text).map(Some).ok_or_else(foreign_cursor),
        }
    }

    fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(PAGE_ROWS),
            Some(n) if (1..=MAX_PAGE_ROWS).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::bad_request(format!(
                "limit must be from 1 to {MAX_PAGE_ROWS}"
            ))),
        }
    }
}

/// `needle` anywhere in a text, with LIKE's wildcards in it taken literally.
fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// One of a member's accounts as the list shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ListedAccount {
    pub network: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// The platform's id of the account (absent once erased).
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListedMember {
    pub member_id: Uuid,
    /// The member's best name (a Telegram name first), as leaderboards show it.
    pub name: Option<String>,
    pub accounts: Vec<ListedAccount>,
    pub balance: i64,
    /// Lifetime points earned.
    pub earned: i64,
    /// The tier the member stands on, if any.
    pub tier: Option<String>,
    pub blocked: bool,
    pub joined_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersPage {
    pub members: Vec<ListedMember>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    member_id: Uuid,
    #[sqlx(flatten)]
    account: ListedAccount,
}

#[derive(sqlx::FromRow)]
struct BalanceRow {
    member_id: Uuid,
    current: i64,
    earned: i64,
    blocked: bool,
    registered_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl BalanceRow {
    fn cursor(&self, sort: MemberSort) -> Cursor {
        let key = match sort {
            MemberSort::LastActivity => self.updated_at.timestamp_micros(),
            MemberSort::Balance => self.current,
            MemberSort::Earned => self.earned,
            MemberSort::Joined => self.registered_at.map_or(0, |t| t.timestamp_micros()),
        };
        Cursor {
            key,
            member: self.member_id,
        }
    }
}

/// Members of a program matching `filter`, after `cursor`, at most `limit` (and whether more
/// follow).
async fn balance_rows(
    pool: &PgPool,
    program_id: Uuid,
    filter: &MemberFilter,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<BalanceRow>, bool), ApiError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "SELECT b.member_id, b.current, b.earned, b.blocked, b.registered_at, b.updated_at \
         FROM balances b WHERE b.program_id = ",
    );
    sql.push_bind(program_id);
    if let Some(search) = &filter.search {
        // One branch per way of matching, so each can use its own index.
        sql.push(
            " AND (b.member_id IN (SELECT i.member_id FROM identities i WHERE i.program_id = ",
        );
        // Not correlated with `b`: the matches are found once, not once per member scanned.
        sql.push_bind(program_id);
        sql.push(" AND i.account_ref IN (SELECT account_ref FROM profiles WHERE program_id = ");
        sql.push_bind(program_id);
        sql.push(" AND lower(username) LIKE ");
        sql.push_bind(like_pattern(&search.needle));
        sql.push(" UNION SELECT account_ref FROM profiles WHERE program_id = ");
        sql.push_bind(program_id);
        sql.push(" AND lower(display_name) LIKE ");
        sql.push_bind(like_pattern(&search.needle));
        sql.push(" UNION SELECT account_ref FROM external_accounts WHERE program_id = ");
        sql.push_bind(program_id);
        sql.push(" AND platform_id = ");
        sql.push_bind(search.exact.clone());
        sql.push("))");
        if let Some(member) = search.member {
            sql.push(" OR b.member_id = ");
            sql.push_bind(member);
        }
        sql.push(")");
    }
    if let Some(network) = filter.network {
        sql.push(
            " AND EXISTS (SELECT 1 FROM identities i WHERE i.program_id = b.program_id \
              AND i.member_id = b.member_id AND i.network = ",
        );
        sql.push_bind(network.to_string());
        sql.push(")");
    }
    if let Some(linked) = filter.linked {
        sql.push(
            " AND (SELECT count(DISTINCT i.network) FROM identities i \
              WHERE i.program_id = b.program_id AND i.member_id = b.member_id) ",
        );
        sql.push(if linked { ">= 2" } else { "< 2" });
    }
    if let Some(blocked) = filter.blocked {
        sql.push(if blocked {
            " AND b.blocked"
        } else {
            " AND NOT b.blocked"
        });
    }
    if let Some(days) = filter.active_days {
        sql.push(" AND b.updated_at >= now() - make_interval(days => ");
        sql.push_bind(days as i32);
        sql.push(")");
    }
    if let Some(min) = filter.min_balance {
        sql.push(" AND b.current >= ");
        sql.push_bind(min);
    }
    if let Some(max) = filter.max_balance {
        sql.push(" AND b.current <= ");
        sql.push_bind(max);
    }
    match filter.tier {
        None => {}
        Some(0) => {
            sql.push(
                " AND NOT EXISTS (SELECT 1 FROM member_tiers t WHERE t.program_id = b.program_id \
                  AND t.member_id = b.member_id)",
            );
        }
        Some(level) => {
            sql.push(
                " AND EXISTS (SELECT 1 FROM member_tiers t WHERE t.program_id = b.program_id \
                  AND t.member_id = b.member_id AND t.level = ",
            );
            sql.push_bind(level as i32);
            sql.push(")");
        }
    }
    let key = filter.sort.key();
    let (beyond, direction) = match filter.order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
    };
    if let Some(cursor) = cursor {
        sql.push(format_args!(" AND ({key}, b.member_id) {beyond} ("));
        match filter.sort {
            MemberSort::Balance | MemberSort::Earned => sql.push_bind(cursor.key),
            MemberSort::LastActivity | MemberSort::Joined => {
                let at = DateTime::<Utc>::from_timestamp_micros(cursor.key)
                    .ok_or_else(foreign_cursor)?;
                sql.push_bind(at)
            }
        };
        sql.push(", ");
        sql.push_bind(cursor.member);
        sql.push(")");
    }
    sql.push(format_args!(
        " ORDER BY {key} {direction}, b.member_id {direction} LIMIT "
    ));
    sql.push_bind(i64::from(limit) + 1);
    let mut rows: Vec<BalanceRow> = sql
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(ApiError::internal)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// One page of the list, each member with their accounts and best name, and where the next page
/// starts (none after the last).
async fn members_page(
    state: &AppState,
    program_id: Uuid,
    filter: &MemberFilter,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<ListedMember>, Option<Cursor>), ApiError> {
    let (rows, more) = balance_rows(&state.pool, program_id, filter, cursor, limit).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.member_id).collect();
    let names = state
        .names
        .names(program_id, &ids)
        .await
        .map_err(ApiError::internal)?;
    let mut accounts = accounts_of(&state.pool, program_id, &ids).await?;
    let mut tiers = tiers_of(&state.pool, program_id, &ids).await?;
    let next = more
        .then(|| rows.last().map(|r| r.cursor(filter.sort)))
        .flatten();
    let members = rows
        .into_iter()
        .zip(names)
        .map(|(r, name)| ListedMember {
            accounts: accounts.remove(&r.member_id).unwrap_or_default(),
            member_id: r.member_id,
            name,
            balance: r.current,
            earned: r.earned,
            tier: tiers.remove(&r.member_id),
            blocked: r.blocked,
            joined_at: r.registered_at,
            last_activity_at: r.updated_at,
        })
        .collect();
    Ok((members, next))
}

/// The tiers of those of `members` who stand on one.
async fn tiers_of(
    pool: &PgPool,
    program_id: Uuid,
    members: &[Uuid],
) -> Result<HashMap<Uuid, String>, ApiError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT member_id, tier FROM member_tiers WHERE program_id = $1 AND member_id = ANY($2)",
    )
    .bind(program_id)
    .bind(members)
    .fetch_all(pool)
    .await
    .map_err(ApiError::internal)?;
    Ok(rows.into_iter().collect())
}

/// The accounts of `members`, by member, in network order.
async fn accounts_of(
    pool: &PgPool,
    program_id: Uuid,
    members: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ListedAccount>>, ApiError> {
    let rows: Vec<AccountRow> = sqlx::query_as(
        "SELECT i.member_id, i.network, p.username, p.display_name, a.platform_id AS external_id \
         FROM identities i \
         LEFT JOIN external_accounts a ON a.account_ref = i.account_ref \
         LEFT JOIN profiles p ON p.account_ref = i.account_ref \
         WHERE i.program_id = $1 AND i.member_id = ANY($2) \
         ORDER BY i.member_id, i.network, a.platform_id",
    )
    .bind(program_id)
    .bind(members)
    .fetch_all(pool)
    .await
    .map_err(ApiError::internal)?;
    let mut by_member: HashMap<Uuid, Vec<ListedAccount>> = HashMap::new();
    for row in rows {
        by_member
            .entry(row.member_id)
            .or_default()
            .push(row.account);
    }
    Ok(by_member)
}

/// Members of the program, sorted and filtered, one page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/members",
    tag = "admin",
    params(("program_id" = Uuid, Path), MembersQuery),
    responses((status = 200, body = MembersPage), (status = 400), (status = 401), (status = 403))
)]
pub async fn list(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<MembersQuery>,
) -> Result<Json<MembersPage>, ApiError> {
    let filter = query.filter()?;
    let (members, next) =
        members_page(&state, program_id, &filter, query.cursor()?, query.limit()?).await?;
    let next = next.map(|cursor| cursor.text());
    Ok(Json(MembersPage { members, next }))
}

/// The filtered list as a CSV file for spreadsheets (every matching member, in the list's
/// order; `;`-separated with a byte order mark unless `separator=comma`).
#[utoipa::path(
    get,
    path = "/api/v1/admin/programs/{program_id}/members.csv",
    tag = "admin",
    params(("program_id" = Uuid, Path), MembersQuery, CsvOptions),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400))
)]
pub async fn csv(
    _auth: Authorized<Read>,
    State(state): State<AppState>,
    Path(program_id): Path<Uuid>,
    Query(query): Query<MembersQuery>,
    Query(options): Query<CsvOptions>,
) -> Result<Response, ApiError> {
    let filter = query.filter()?;
    let mut file = CsvFile::new(&state, program_id, "members", options).await?;
    let headers = file.headers();
    file.header_row(&MEMBER_COLUMNS)?;
    // Each step reads one page and hands its rows on; `None` once the last page is out.
    let first = Some((None::<Cursor>, file));
    let pages = futures::stream::try_unfold(first, move |step| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let Some((cursor, mut file)) = step else {
                return Ok(None);
            };
            let (members, next) =
                members_page(&state, program_id, &filter, cursor, EXPORT_PAGE_ROWS).await?;
            for member in &members {
                file.row(&member_fields(member))?;
            }
            let bytes = file.take()?;
            Ok::<_, ApiError>(Some((bytes, next.map(|cursor| (Some(cursor), file)))))
        }
    });
    let body = Body::from_stream(futures::TryStreamExt::map_err(pages, |e: ApiError| {
        std::io::Error::other(e.message)
    }));
    Ok((headers, body).into_response())
}

/// The columns of the members CSV, by their key in the panel's texts.
const MEMBER_COLUMNS: [(&str, &str); 11] = [
    ("member_id", "ID участника"),
    ("name", "Имя"),
    ("telegram", "Telegram"),
    ("vk", "VK"),
    ("instagram", "Instagram"),
    ("balance", "Баланс"),
    ("earned", "Заработано всего"),
    ("tier", "Уровень"),
    ("blocked", "Заблокирован"),
    ("joined_at", "Дата регистрации"),
    ("last_activity_at", "Последняя активность"),
];

fn member_fields(m: &ListedMember) -> Vec<String> {
    let handles = |network: &str| {
        m.accounts
            .iter()
            .filter(|a| a.network == network)
            .filter_map(|a| a.username.as_ref().or(a.external_id.as_ref()))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        m.member_id.to_string(),
        m.name.clone().unwrap_or_default(),
        handles("telegram"),
        handles("vk"),
        handles("instagram"),
        m.balance.to_string(),
        m.earned.to_string(),
        m.tier.clone().unwrap_or_default(),
        m.blocked.to_string(),
        m.joined_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        m.last_activity_at.to_rfc3339(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
        let cursor = Cursor {
            key: -1_733_000_000_123_456,
            member: Uuid::new_v4(),
        };
        assert_eq!(Cursor::parse(&cursor.text()), Some(cursor));
        for bad in [
            "",
            "12",
            "x~y",
            "12~not-a-uuid",
            "1.5~00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn contradictory_or_unknown_filters_are_refused() {
        let refused = |query: MembersQuery| query.filter().unwrap_err().message;
        let network = MembersQuery {
            network: Some("myspace".into()),
            ..Default::default()
        };
        assert!(refused(network).contains("unknown network"));
        let range = MembersQuery {
            min_balance: Some(10),
            max_balance: Some(5),
            ..Default::default()
        };
        assert!(refused(range).contains("above max_balance"));
        let days = MembersQuery {
            active_days: Some(0),
            ..Default::default()
        };
        assert!(refused(days).contains("active_days"));
        let searched = MembersQuery {
            q: Some("  @Anna ".into()),
            ..Default::default()
        };
        let search = searched.filter().unwrap().search.unwrap();
        assert_eq!(search.needle, "anna");
        assert_eq!(search.member, None);
    }
}
