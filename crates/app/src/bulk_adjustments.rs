//! Bulk adjustments: a manager's CSV of point changes (a contest's prizes, a migration from
//! another program, a goodwill credit for everyone hit by an outage), checked row by row, then
//! applied as ordinary `PointsAdjusted` events and reversible as a whole.
//!
//! - A dry run ([`check`]) names every bad row by its line and why, and applies nothing.
//! - Each row's command id derives from the program, the file's SHA-256 and the line, so
//!   applying a file again (after a failure, on another server) records each row once.
//! - Rows go to the log in rounds of up to [`ROUND`] commands, one commit each but one round
//!   trip for all ([`Ledger::append_each`]): a row that conflicts with a member's concurrent
//!   activity is decided again in the next round, and never undoes its neighbours.
//! - Reversing appends one compensation per applied entry, ids derived likewise: twice is once.

use crate::AppError;
use crate::commands::ManagerAction;
use crate::ledger::{Decided, Ledger, Loaded};
use chrono::{DateTime, Utc};
use domain::error::DomainError;
use domain::ids::{EntryId, MemberId, ProgramId, derived_id};
use domain::member::{MemberCommand, MemberState};
use domain::network::Network;
use domain::points::PointsDelta;
use domain::{Aggregate, StreamId, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet, VecDeque};
use store::{AppendOutcome, Metadata};
use uuid::Uuid;

/// The most rows one file may carry.
pub const MAX_ROWS: usize = 250_000;
/// A reason or a note is at most this many characters (as for one adjustment).
pub const MAX_TEXT_CHARS: usize = 500;
/// Commands in one round trip to the log.
const ROUND: usize = 1_000;
/// Bad rows a dry run lists in full; the rest are counted.
pub const MAX_LISTED: usize = 1_000;
/// Rounds a row conflicting with concurrent activity is tried again before it is refused.
const MAX_TRIES: u8 = 5;
/// A run whose process has not written for this long is taken over by the next request.
const STALE_AFTER: chrono::Duration = chrono::Duration::seconds(30);

/// Who a row is for: a member id, or an account as `network:@username` or `network:id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Who {
    Member(MemberId),
    PlatformId(Network, String),
    Username(Network, String),
}

/// One readable row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub who: Who,
    pub points: PointsDelta,
    pub reason: String,
    pub note: Option<String>,
}

/// A row that cannot be applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BadRow {
    pub line: u64,
    pub why: String,
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty: a header (member, points, reason, note) and one row a line")]
    Empty,
    #[error("save the file as UTF-8 text or CSV")]
    NotUtf8,
    #[error("the header needs a `{0}` column (member, points, reason; note is optional)")]
    MissingColumn(&'static str),
    #[error("the file has more than {MAX_ROWS} rows: split it")]
    TooMany,
}

/// A file read: its rows, its bad rows and its digest.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub sha256: String,
    pub rows: Vec<Row>,
    pub bad: Vec<BadRow>,
}

/// Reads a CSV (comma or semicolon, as Excel saves it) whose header names the columns:
/// `member` (a member id, `telegram:@anna`, `vk:id123`, `instagram:anna.shop`), `points`
/// (signed whole number), `reason` (for managers and auditors), and optionally `note` (what
/// the member is told). Russian headers are accepted too. Blank lines are skipped.
pub fn parse(file: &[u8]) -> Result<Parsed, FileError> {
    let sha256 = hex::encode(Sha256::digest(file));
    let text = std::str::from_utf8(file).map_err(|_| FileError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .ok_or(FileError::Empty)?;
    let delimiter = if first.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|_| FileError::Empty)?.clone();
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.contains(&h.to_lowercase().as_str()))
    };
    let member = column(&["member", "member_id", "account", "участник", "аккаунт"])
        .ok_or(FileError::MissingColumn("member"))?;
    let points = column(&["points", "баллы", "очки"]).ok_or(FileError::MissingColumn("points"))?;
    let reason = column(&["reason", "причина"]).ok_or(FileError::MissingColumn("reason"))?;
    let note = column(&["note", "сообщение", "комментарий"]);
    let (mut rows, mut bad) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad.push(BadRow {
                    line,
                    why: "not readable as CSV".into(),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + bad.len() >= MAX_ROWS {
            return Err(FileError::TooMany);
        }
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("");
        match read_row(cell(member), cell(points), cell(reason), note.map(cell)) {
            Ok((who, points, reason, note)) => rows.push(Row {
                line,
                who,
                points,
                reason,
                note,
            }),
            Err(why) => bad.push(BadRow { line, why }),
        }
    }
    if rows.is_empty() && bad.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(Parsed { sha256, rows, bad })
}

type RowFields = (Who, PointsDelta, String, Option<String>);

fn read_row(
    member: &str,
    points: &str,
    reason: &str,
    note: Option<&str>,
) -> Result<RowFields, String> {
    let who = read_who(member)?;
    let whole: i64 = points
        .replace([' ', '\u{a0}'], "")
        .parse()
        .map_err(|_| format!("points `{points}` is not a whole number"))?;
    let points = PointsDelta::new(whole).map_err(|e| e.to_string())?;
    if reason.is_empty() {
        return Err("no reason: every adjustment says why".into());
    }
    if reason.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "the reason is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    let note = note.filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_TEXT_CHARS) {
        return Err(format!(
            "the note is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    Ok((who, points, reason.to_string(), note.map(str::to_string)))
}

fn read_who(member: &str) -> Result<Who, String> {
    if member.is_empty() {
        return Err("no member".into());
    }
    if let Ok(id) = Uuid::parse_str(member) {
        return Ok(Who::Member(MemberId(id)));
    }
    let unknown =
        || format!("member `{member}` is neither a member id nor network:@username or network:id");
    let (network, handle) = member.split_once(':').ok_or_else(unknown)?;
    let network = Network::parse(&network.trim().to_lowercase()).ok_or_else(unknown)?;
    let handle = handle.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(name) = handle.strip_prefix('@') {
        if name.is_empty() {
            return Err(unknown());
        }
        return Ok(Who::Username(network, name.to_lowercase()));
    }
    if digits(handle) {
        return Ok(Who::PlatformId(network, handle.to_string()));
    }
    if network == Network::Vk
        && let Some(id) = handle.strip_prefix("id").filter(|id| digits(id))
    {
        return Ok(Who::PlatformId(network, id.to_string()));
    }
    if handle.is_empty() {
        return Err(unknown());
    }
    Ok(Who::Username(network, handle.to_lowercase()))
}

/// What a dry run found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DryRun {
    pub file_sha256: String,
    /// Rows that would be applied.
    pub rows: usize,
    /// Distinct members they touch.
    pub members: usize,
    pub points_added: i64,
    pub points_removed: i64,
    /// Rows over the single-adjustment confirmation threshold.
    pub large_rows: usize,
    /// Every bad row, up to [`MAX_LISTED`], by line.
    pub bad: Vec<BadRow>,
    pub bad_count: usize,
    /// This file applied before (the same bytes), if it was.
    pub existing: Option<BulkAdjustment>,
}

/// Rows resolved to members and checked against their balances as they stand.
struct Checked {
    dry_run: DryRun,
    rows: Vec<Resolved>,
}

#[derive(Debug, Clone)]
struct Resolved {
    line: u64,
    member: MemberId,
    points: PointsDelta,
    reason: String,
    note: Option<String>,
}

/// A dry run: reads the file, finds each row's member, and decides every row against the
/// member's balance as it stands (rows of one member in file order). Applies nothing.
pub async fn check(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    file: &[u8],
    large_threshold: i64,
) -> Result<DryRun, BulkError> {
    Ok(checked(ledger, pool, program_id, file, large_threshold)
        .await?
        .dry_run)
}

async fn checked(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    file: &[u8],
    large_threshold: i64,
) -> Result<Checked, BulkError> {
    let parsed = parse(file).map_err(BulkError::File)?;
    let mut bad = parsed.bad;
    let members = resolve(pool, program_id, &parsed.rows).await?;
    let mut resolved = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        match members.get(&row.who) {
            Some(Ok(member)) => resolved.push(Resolved {
                line: row.line,
                member: *member,
                points: row.points,
                reason: row.reason,
                note: row.note,
            }),
            Some(Err(why)) => bad.push(BadRow {
                line: row.line,
                why: why.clone(),
            }),
            None => bad.push(BadRow {
                line: row.line,
                why: "no such member in this program".into(),
            }),
        }
    }
    // Each row decided on the state the member's earlier rows leave.
    let distinct: Vec<MemberId> = {
        let mut seen = HashSet::new();
        resolved
            .iter()
            .map(|r| r.member)
            .filter(|m| seen.insert(*m))
            .collect()
    };
    let mut states: HashMap<MemberId, MemberState> = HashMap::with_capacity(distinct.len());
    for slice in distinct.chunks(ROUND) {
        let streams: Vec<StreamId> = slice.iter().map(|m| StreamId::Member(*m)).collect();
        for (member, loaded) in slice
            .iter()
            .zip(ledger.load_many::<MemberState>(&streams).await?)
        {
            states.insert(*member, loaded.state);
        }
    }
    let at = Timestamp::from(Utc::now());
    let mut rows = Vec::with_capacity(resolved.len());
    let (mut added, mut removed, mut large) = (0i64, 0i64, 0usize);
    for row in resolved {
        let Some(state) = states.get_mut(&row.member) else {
            continue;
        };
        let command = adjust(program_id, "", &row, &String::new(), at);
        match state.decide(command) {
            Ok(events) => {
                *state = events.iter().fold(state.clone(), |s, e| s.apply(e));
                let delta = row.points.get();
                if delta > 0 {
                    added += delta;
                } else {
                    removed -= delta;
                }
                if delta.unsigned_abs() > large_threshold.unsigned_abs() {
                    large += 1;
                }
                rows.push(row);
            }
            Err(e) => bad.push(BadRow {
                line: row.line,
                why: refusal(&e),
            }),
        }
    }
    bad.sort_by_key(|b| b.line);
    let bad_count = bad.len();
    bad.truncate(MAX_LISTED);
    let existing = find_by_file(pool, program_id, &parsed.sha256).await?;
    Ok(Checked {
        dry_run: DryRun {
            file_sha256: parsed.sha256,
            rows: rows.len(),
            members: rows.iter().map(|r| r.member).collect::<HashSet<_>>().len(),
            points_added: added,
            points_removed: removed,
            large_rows: large,
            bad,
            bad_count,
            existing,
        },
        rows,
    })
}

fn refusal(e: &DomainError) -> String {
    match e {
        DomainError::MemberNotRegistered => "no such member in this program".into(),
        DomainError::InsufficientBalance { balance, needed } => {
            format!("removes {needed} points from a balance of {balance}")
        }
        other => other.to_string(),
    }
}

/// Members of the rows' accounts, by platform id or username; an account or a username that
/// two members hold is ambiguous and refused.
async fn resolve(
    pool: &PgPool,
    program_id: ProgramId,
    rows: &[Row],
) -> Result<HashMap<Who, Result<MemberId, String>>, BulkError> {
    let mut found: HashMap<Who, Result<MemberId, String>> = HashMap::new();
    let (mut by_id, mut by_name): (Vec<&Who>, Vec<&Who>) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for row in rows {
        if !seen.insert(&row.who) {
            continue;
        }
        match &row.who {
            Who::Member(id) => {
                found.insert(row.who.clone(), Ok(*id));
            }
            Who::PlatformId(..) => by_id.push(&row.who),
            Who::Username(..) => by_name.push(&row.who),
        }
    }
    for (who, sql) in [
        (
            &by_id,
            "SELECT h.n, i.member_id \
                  FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS h(network, handle, n) \
                  JOIN external_accounts a ON a.program_id = $1 AND a.network = h.network \
                       AND a.platform_id = h.handle \
                  JOIN identities i ON i.program_id = $1 AND i.account_ref = a.account_ref",
        ),
        (
            &by_name,
            "SELECT h.n, i.member_id \
                    FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS h(network, handle, n) \
                    JOIN profiles p ON p.program_id = $1 AND lower(p.username) = h.handle \
                    JOIN external_accounts a ON a.account_ref = p.account_ref \
                         AND a.network = h.network \
                    JOIN identities i ON i.program_id = $1 AND i.account_ref = a.account_ref",
        ),
    ] {
        for slice in who.chunks(10_000) {
            let (networks, handles): (Vec<&str>, Vec<&str>) = slice
                .iter()
                .map(|w| match w {
                    Who::PlatformId(n, h) | Who::Username(n, h) => (n.as_str(), h.as_str()),
                    Who::Member(_) => ("", ""),
                })
                .unzip();
            let matches: Vec<(i64, Uuid)> = sqlx::query_as(sql)
                .bind(program_id.0)
                .bind(&networks)
                .bind(&handles)
                .fetch_all(pool)
                .await?;
            for (n, member) in matches {
                let Some(who) = usize::try_from(n - 1).ok().and_then(|i| slice.get(i)) else {
                    continue;
                };
                let member = MemberId(member);
                found
                    .entry((*who).clone())
                    .and_modify(|held| {
                        if held.as_ref().is_ok_and(|m| *m != member) {
                            *held = Err("two members hold this account or username: use a \
                                         member id"
                                .into());
                        }
                    })
                    .or_insert(Ok(member));
            }
        }
    }
    Ok(found)
}

/// A file applied (or being applied), as the panel lists it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BulkAdjustment {
    pub id: Uuid,
    pub file_sha256: String,
    pub file_name: String,
    pub rows_total: i32,
    pub points_added: i64,
    pub points_removed: i64,
    /// `applying`, `applied`, `reversing`, `reversed`.
    pub status: String,
    pub applied: i32,
    /// Rows the ledger refused while applying (a balance spent meanwhile).
    #[schema(value_type = Vec<BadRow>)]
    pub refused: sqlx::types::Json<Vec<BadRow>>,
    pub reversed: i32,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<String>,
    pub reverse_reason: Option<String>,
    pub reversed_at: Option<DateTime<Utc>>,
}

const SUMMARY: &str = "id, file_sha256, file_name, rows_total, points_added, points_removed, \
                       status, applied, refused, reversed, created_by, created_at, finished_at, \
                       reversed_by, reverse_reason, reversed_at";

pub async fn list(pool: &PgPool, program_id: ProgramId) -> sqlx::Result<Vec<BulkAdjustment>> {
    sqlx::query_as(&format!(
        "SELECT {SUMMARY} FROM bulk_adjustments WHERE program_id = $1 \
         ORDER BY created_at DESC LIMIT 200"
    ))
    .bind(program_id.0)
    .fetch_all(pool)
    .await
}

pub async fn get(
    pool: &PgPool,
    program_id: ProgramId,
    id: Uuid,
) -> sqlx::Result<Option<BulkAdjustment>> {
    sqlx::query_as(&format!(
        "SELECT {SUMMARY} FROM bulk_adjustments WHERE program_id = $1 AND id = $2"
    ))
    .bind(program_id.0)
    .bind(id)
    .fetch_optional(pool)
    .await
}

async fn find_by_file(
    pool: &PgPool,
    program_id: ProgramId,
    sha256: &str,
) -> sqlx::Result<Option<BulkAdjustment>> {
    get(pool, program_id, bulk_id(program_id, sha256)).await
}

fn bulk_id(program_id: ProgramId, sha256: &str) -> Uuid {
    derived_id(&format!("bulk-adjustment:{}:{sha256}", program_id.0))
}

/// Why applying or reversing was not started.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    File(FileError),
    #[error("{} rows cannot be applied: fix them (a dry run lists them) and upload again", .0.bad_count)]
    BadRows(Box<DryRun>),
    #[error("{0} rows are over the confirmation threshold: confirm them")]
    LargeUnconfirmed(usize),
    #[error("another request is applying or reversing this file right now")]
    Busy,
    #[error("only an applied file can be reversed (this one is {0})")]
    NotApplied(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Checks the file and starts applying it in the background; answers its record at once
/// (poll [`get`] for progress). The same file again resumes a run whose process died, and
/// answers a finished one as it stands: each row is applied once whatever happens.
pub async fn start(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    file: &[u8],
    file_name: &str,
    large: (i64, bool),
    action: &ManagerAction,
) -> Result<BulkAdjustment, BulkError> {
    let (large_threshold, large_confirmed) = large;
    let checked = checked(ledger, pool, program_id, file, large_threshold).await?;
    let dry_run = checked.dry_run;
    let id = bulk_id(program_id, &dry_run.file_sha256);
    if let Some(existing) = &dry_run.existing
        && existing.status != "applying"
    {
        return Ok(existing.clone());
    }
    if dry_run.bad_count > 0 {
        return Err(BulkError::BadRows(Box::new(dry_run)));
    }
    if dry_run.large_rows > 0 && !large_confirmed {
        return Err(BulkError::LargeUnconfirmed(dry_run.large_rows));
    }
    let name: String = file_name.chars().take(200).collect();
    let taken = sqlx::query(
        "INSERT INTO bulk_adjustments \
             (id, program_id, file_sha256, file_name, rows_total, points_added, points_removed, \
              status, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'applying', $8) \
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now() \
         WHERE bulk_adjustments.status = 'applying' AND bulk_adjustments.heartbeat_at < $9",
    )
    .bind(id)
    .bind(program_id.0)
    .bind(&dry_run.file_sha256)
    .bind(&name)
    .bind(i32::try_from(dry_run.rows.max(1)).unwrap_or(i32::MAX))
    .bind(dry_run.points_added)
    .bind(dry_run.points_removed)
    .bind(action.manager.as_str())
    .bind(Utc::now() - STALE_AFTER)
    .execute(pool)
    .await?
    .rows_affected();
    if taken == 0 {
        return Err(BulkError::Busy);
    }
    let run = Run::new(ledger, pool, program_id, id, action);
    let (sha256, rows) = (dry_run.file_sha256, checked.rows);
    tokio::spawn(async move {
        if let Err(e) = run.apply(&sha256, rows).await {
            tracing::error!(bulk = %run.id, error = %e, "applying a bulk adjustment stopped; upload the file again to resume");
        }
    });
    get(pool, program_id, id).await?.ok_or(BulkError::Busy)
}

/// Starts reversing an applied file in the background: one compensation per applied entry.
pub async fn reverse(
    ledger: &Ledger,
    pool: &PgPool,
    program_id: ProgramId,
    id: Uuid,
    reason: &str,
    action: &ManagerAction,
) -> Result<Option<BulkAdjustment>, BulkError> {
    let Some(current) = get(pool, program_id, id).await? else {
        return Ok(None);
    };
    let taken = sqlx::query(
        "UPDATE bulk_adjustments SET status = 'reversing', reversed_by = $3, \
             reverse_reason = $4, heartbeat_at = now() \
         WHERE program_id = $1 AND id = $2 \
           AND (status = 'applied' OR (status = 'reversing' AND heartbeat_at < $5))",
    )
    .bind(program_id.0)
    .bind(id)
    .bind(action.manager.as_str())
    .bind(reason)
    .bind(Utc::now() - STALE_AFTER)
    .execute(pool)
    .await?
    .rows_affected();
    if taken == 0 {
        return Err(match current.status.as_str() {
            "reversing" => BulkError::Busy,
            other => BulkError::NotApplied(other.to_string()),
        });
    }
    let run = Run::new(ledger, pool, program_id, id, action);
    let reason = reason.to_string();
    tokio::spawn(async move {
        if let Err(e) = run.reverse(&reason).await {
            tracing::error!(bulk = %run.id, error = %e, "reversing a bulk adjustment stopped; ask again to resume");
        }
    });
    Ok(get(pool, program_id, id).await?)
}

fn adjust(
    program_id: ProgramId,
    sha256: &str,
    row: &Resolved,
    by: &domain::event::ManagerId,
    at: Timestamp,
) -> MemberCommand {
    MemberCommand::Adjust {
        entry_id: EntryId(row_command_id(program_id, sha256, row.line)),
        delta: row.points,
        reason: row.reason.clone(),
        note: row.note.clone(),
        by: by.clone(),
        at,
    }
}

fn row_command_id(program_id: ProgramId, sha256: &str, line: u64) -> Uuid {
    derived_id(&format!("bulk-adjustment:{}:{sha256}:{line}", program_id.0))
}

fn reversal_command_id(bulk: Uuid, line: i32) -> Uuid {
    derived_id(&format!("bulk-reversal:{bulk}:{line}"))
}

/// One apply or reverse, running in the background.
struct Run {
    ledger: Ledger,
    pool: PgPool,
    program_id: ProgramId,
    id: Uuid,
    metadata: Metadata,
    manager: domain::event::ManagerId,
    at: Timestamp,
}

/// What became of one command of a round.
enum Settled {
    Done,
    Refused(String),
    Again,
}

impl Run {
    fn new(
        ledger: &Ledger,
        pool: &PgPool,
        program_id: ProgramId,
        id: Uuid,
        action: &ManagerAction,
    ) -> Self {
        Run {
            ledger: ledger.clone(),
            pool: pool.clone(),
            program_id,
            id,
            metadata: action.metadata(),
            manager: action.manager.clone(),
            at: action.at,
        }
    }

    async fn apply(&self, sha256: &str, rows: Vec<Resolved>) -> Result<(), BulkError> {
        let mut pending: VecDeque<(Resolved, u8)> = rows.into_iter().map(|r| (r, 0)).collect();
        let (mut applied, mut refused) = (0i32, Vec::<BadRow>::new());
        while !pending.is_empty() {
            let round = next_round(&mut pending, |(row, _)| row.member);
            let commands: Vec<MemberCommand> = round
                .iter()
                .map(|(row, _)| adjust(self.program_id, sha256, row, &self.manager, self.at))
                .collect();
            let members: Vec<MemberId> = round.iter().map(|(row, _)| row.member).collect();
            let command_ids: Vec<Uuid> = round
                .iter()
                .map(|(row, _)| row_command_id(self.program_id, sha256, row.line))
                .collect();
            let settled = self.settle_round(&members, &command_ids, commands).await?;
            let mut entries: Vec<(i32, Uuid, Uuid)> = Vec::new();
            let mut again = Vec::new();
            for ((row, tries), (settled, command_id)) in
                round.into_iter().zip(settled.into_iter().zip(command_ids))
            {
                let line = i32::try_from(row.line).unwrap_or(i32::MAX);
                match settled {
                    Settled::Done => {
                        applied += 1;
                        entries.push((line, row.member.0, command_id));
                    }
                    Settled::Refused(why) => refused.push(BadRow {
                        line: row.line,
                        why,
                    }),
                    Settled::Again if tries + 1 >= MAX_TRIES => refused.push(BadRow {
                        line: row.line,
                        why: "the member's balance kept changing: apply it by hand".into(),
                    }),
                    Settled::Again => again.push((row, tries + 1)),
                }
            }
            for row in again.into_iter().rev() {
                pending.push_front(row);
            }
            let (lines, members, ids): (Vec<i32>, Vec<Uuid>, Vec<Uuid>) =
                entries
                    .into_iter()
                    .fold(Default::default(), |mut acc, (l, m, e)| {
                        acc.0.push(l);
                        acc.1.push(m);
                        acc.2.push(e);
                        acc
                    });
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO bulk_adjustment_entries (bulk_id, line, member_id, entry_id) \
                 SELECT $1, * FROM unnest($2::int[], $3::uuid[], $4::uuid[]) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(self.id)
            .bind(&lines)
            .bind(&members)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
            self.progress(&mut tx, "applied", applied, Some(&refused))
                .await?;
            tx.commit().await?;
        }
        self.finish("status = 'applied', finished_at = now()").await
    }

    async fn reverse(&self, reason: &str) -> Result<(), BulkError> {
        let entries: Vec<(i32, Uuid, Uuid)> = sqlx::query_as(
            "SELECT line, member_id, entry_id FROM bulk_adjustment_entries \
             WHERE bulk_id = $1 ORDER BY line",
        )
        .bind(self.id)
        .fetch_all(&self.pool)
        .await?;
        let mut pending: VecDeque<((i32, MemberId, EntryId), u8)> = entries
            .into_iter()
            .map(|(line, member, entry)| ((line, MemberId(member), EntryId(entry)), 0))
            .collect();
        let mut reversed = 0i32;
        while !pending.is_empty() {
            let round = next_round(&mut pending, |((_, member, _), _)| *member);
            let members: Vec<MemberId> = round.iter().map(|((_, m, _), _)| *m).collect();
            let command_ids: Vec<Uuid> = round
                .iter()
                .map(|((line, _, _), _)| reversal_command_id(self.id, *line))
                .collect();
            let commands = round
                .iter()
                .zip(&command_ids)
                .map(|(((_, _, target), _), id)| MemberCommand::Compensate {
                    entry_id: EntryId(*id),
                    target: *target,
                    reason: reason.to_string(),
                    note: None,
                    by: self.manager.clone(),
                    at: self.at,
                })
                .collect();
            let settled = self.settle_round(&members, &command_ids, commands).await?;
            for (entry, settled) in round.into_iter().zip(settled) {
                match settled {
                    // Also an entry compensated by hand meanwhile: reversed, once.
                    Settled::Done => reversed += 1,
                    Settled::Refused(why) => {
                        let why = format!("line {}: {why}", entry.0.0);
                        return Err(AppError::Corrupt(why).into());
                    }
                    Settled::Again if entry.1 + 1 >= MAX_TRIES => {
                        return Err(AppError::TooManyConflicts(u32::from(MAX_TRIES)).into());
                    }
                    Settled::Again => pending.push_front((entry.0, entry.1 + 1)),
                }
            }
            let mut tx = self.pool.begin().await?;
            self.progress(&mut tx, "reversed", reversed, None).await?;
            tx.commit().await?;
        }
        self.finish("status = 'reversed', reversed_at = now()")
            .await
    }

    /// Decides each command on its member's current state and appends all in one round trip,
    /// each its own commit.
    async fn settle_round(
        &self,
        members: &[MemberId],
        command_ids: &[Uuid],
        commands: Vec<MemberCommand>,
    ) -> Result<Vec<Settled>, AppError> {
        let streams: Vec<StreamId> = members.iter().map(|m| StreamId::Member(*m)).collect();
        let loaded: Vec<Loaded<MemberState>> = self.ledger.load_many(&streams).await?;
        let mut settled: Vec<Option<Settled>> = Vec::with_capacity(commands.len());
        let mut decided: Vec<(usize, Vec<domain::event::Event>)> = Vec::new();
        for (i, (command, state)) in commands.into_iter().zip(&loaded).enumerate() {
            match state.state.decide(command) {
                Ok(events) => {
                    settled.push(None);
                    decided.push((i, events));
                }
                Err(DomainError::AlreadyCompensated(_)) => settled.push(Some(Settled::Done)),
                Err(e) => settled.push(Some(Settled::Refused(refusal(&e)))),
            }
        }
        let batch: Vec<(Decided<'_>, &Loaded<MemberState>)> = decided
            .iter()
            .map(|(i, events)| {
                (
                    Decided {
                        command_id: command_ids[*i],
                        metadata: &self.metadata,
                        events,
                    },
                    &loaded[*i],
                )
            })
            .collect();
        let outcomes = self.ledger.append_each(self.program_id.0, &batch).await;
        for ((i, _), outcome) in decided.iter().zip(outcomes) {
            settled[*i] = Some(match outcome {
                Ok(Some(AppendOutcome::Appended { .. } | AppendOutcome::Duplicate) | None) => {
                    Settled::Done
                }
                Err(e) if e.is_conflict() => Settled::Again,
                Err(e) => return Err(AppError::from(e)),
            });
        }
        Ok(settled
            .into_iter()
            .map(|s| s.unwrap_or(Settled::Again))
            .collect())
    }

    /// Marks the run done, with `set` (its status and when).
    async fn finish(&self, set: &str) -> Result<(), BulkError> {
        sqlx::query(&format!("UPDATE bulk_adjustments SET {set} WHERE id = $1"))
            .bind(self.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn progress(
        &self,
        tx: &mut sqlx::PgConnection,
        column: &str,
        count: i32,
        refused: Option<&[BadRow]>,
    ) -> Result<(), BulkError> {
        let sql = format!(
            "UPDATE bulk_adjustments SET {column} = $2, refused = coalesce($3, refused), \
             heartbeat_at = now() WHERE id = $1"
        );
        sqlx::query(&sql)
            .bind(self.id)
            .bind(count)
            .bind(refused.map(|r| sqlx::types::Json(r.to_vec())))
            .execute(tx)
            .await?;
        Ok(())
    }
}

/// The next round: up to [`ROUND`] items, at most one per member (each commit expects the
/// version its member's state had); a member's later items wait, in order, for the next.
fn next_round<T>(pending: &mut VecDeque<T>, member: impl Fn(&T) -> MemberId) -> Vec<T> {
    let mut round = Vec::new();
    let mut seen = HashSet::new();
    let mut later = VecDeque::new();
    while round.len() < ROUND {
        let Some(item) = pending.pop_front() else {
            break;
        };
        if seen.insert(member(&item)) {
            round.push(item);
        } else {
            later.push_back(item);
        }
    }
    later.append(pending);
    *pending = later;
    round
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_by_id_handle_and_platform_id_and_names_bad_lines() {
        let file = "member;points;reason;note\n\
                    2f1c7b9e-1d1a-4c55-9a6e-4b0e8a0a0a01;100;contest;Congratulations\n\
                    telegram:@Anna;-20;correction;\n\
                    vk:id123;5;migration;\n\
                    \n\
                    instagram:anna.shop;5;migration;\n\
                    mastodon:@x;5;why;\n\
                    vk:1;0;zero;\n\
                    vk:1;5;;\n"
            .as_bytes();
        let parsed = parse(file).unwrap();
        let whos: Vec<&Who> = parsed.rows.iter().map(|r| &r.who).collect();
        assert_eq!(
            whos,
            [
                &Who::Member(MemberId(
                    Uuid::parse_str("2f1c7b9e-1d1a-4c55-9a6e-4b0e8a0a0a01").unwrap()
                )),
                &Who::Username(Network::Telegram, "anna".into()),
                &Who::PlatformId(Network::Vk, "123".into()),
                &Who::Username(Network::Instagram, "anna.shop".into()),
            ]
        );
        assert_eq!(parsed.rows[0].note.as_deref(), Some("Congratulations"));
        assert_eq!(parsed.rows[1].note, None);
        let lines: Vec<u64> = parsed.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [7, 8, 9]);
        assert!(parsed.bad[1].why.contains('0'), "{:?}", parsed.bad[1]);
        assert!(parsed.bad[2].why.contains("reason"));
    }

    #[test]
    fn a_file_without_the_columns_is_refused_whole() {
        assert_eq!(
            parse(b"who,points\nx,1\n").unwrap_err(),
            FileError::MissingColumn("member")
        );
        assert_eq!(parse(b"\n\n").unwrap_err(), FileError::Empty);
        assert_eq!(parse(&[0xff, 0xfe]).unwrap_err(), FileError::NotUtf8);
    }

    #[test]
    fn rounds_take_each_member_once_and_keep_a_members_order() {
        let m = |n: u128| MemberId(Uuid::from_u128(n));
        let mut pending: VecDeque<(MemberId, u32)> =
            [(m(1), 1), (m(2), 2), (m(1), 3), (m(1), 4), (m(3), 5)].into();
        let first = next_round(&mut pending, |(member, _)| *member);
        assert_eq!(first, [(m(1), 1), (m(2), 2), (m(3), 5)]);
        let second = next_round(&mut pending, |(member, _)| *member);
        assert_eq!(second, [(m(1), 3)]);
        assert_eq!(next_round(&mut pending, |(member, _)| *member), [(m(1), 4)]);
        assert!(pending.is_empty());
    }
}
