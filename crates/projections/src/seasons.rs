//! Projection "seasons": each leaderboard season (terms, status, frozen standings), every
//! member's score in it, and the entries it counted while it runs (deleted when it closes). A
//! batch is counted by the domain's own fold (`domain::season::SeasonBoards`), resumed from the
//! tables: the running seasons of the batch's programs, and the counted entries the batch's
//! reversals and compensations undo.

use crate::error::Result;
use crate::projection::{ROWS_PER_STATEMENT, Target};
use crate::source::Recorded;
use chrono::{DateTime, Utc};
use domain::Event;
use domain::ids::{EntryId, MemberId, ProgramId, SeasonId};
use domain::season::{Counted, SeasonBoard, SeasonBoards, SeasonTerms, Standing};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// A season as the read model holds it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SeasonRow {
    pub season_id: Uuid,
    pub program_id: Uuid,
    pub name: String,
    #[sqlx(json)]
    pub terms: SeasonTerms,
    /// `scheduled`, `cancelled`, `ended` (prizes being paid) or `settled`.
    pub status: String,
    pub scheduled_by: String,
    pub scheduled_at: DateTime<Utc>,
    /// When it was cancelled or ended.
    pub closed_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// The frozen final standings, once ended.
    #[sqlx(json(nullable))]
    pub standings: Option<Vec<Standing>>,
    pub participants: Option<i32>,
    pub prizes_paid: Option<i32>,
    pub prizes_withheld: Option<i32>,
}

const SEASON_COLUMNS: &str = "season_id, program_id, name, terms, status, scheduled_by, \
     scheduled_at, closed_at, cancel_reason, standings, participants, prizes_paid, prizes_withheld";

/// A program's seasons, the latest start first.
pub async fn seasons_of(pool: &PgPool, program_id: Uuid) -> Result<Vec<SeasonRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SEASON_COLUMNS} FROM seasons WHERE program_id = $1 \
         ORDER BY starts_at DESC, season_id"
    ))
    .bind(program_id)
    .fetch_all(pool)
    .await?)
}

/// One season of a program.
pub async fn season(pool: &PgPool, program_id: Uuid, season_id: Uuid) -> Result<Option<SeasonRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SEASON_COLUMNS} FROM seasons WHERE program_id = $1 AND season_id = $2"
    ))
    .bind(program_id)
    .bind(season_id)
    .fetch_optional(pool)
    .await?)
}

/// The season's board as it stands: positive scores, highest first, ties by member id, with
/// competition ranks (1, 2, 2, 4), from `offset`.
pub async fn standings(
    pool: &PgPool,
    season_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<(i64, Uuid, i64)>> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM season_scores h \
                  WHERE h.season_id = s.season_id AND h.score > s.score) + 1 AS rank, \
                s.member_id, s.score \
         FROM season_scores s WHERE s.season_id = $1 AND s.score > 0 \
         ORDER BY s.score DESC, s.member_id OFFSET $2 LIMIT $3",
    )
    .bind(season_id)
    .bind(offset.max(0))
    .bind(limit.clamp(1, 1000))
    .fetch_all(pool)
    .await?)
}

/// A member's score and competition rank in a season (`None` with no positive score), and how
/// many members have a positive score.
pub async fn member_place(
    pool: &PgPool,
    season_id: Uuid,
    member_id: Uuid,
) -> Result<(Option<(i64, i64)>, i64)> {
    let score: Option<i64> = sqlx::query_scalar(
        "SELECT score FROM season_scores WHERE season_id = $1 AND member_id = $2 AND score > 0",
    )
    .bind(season_id)
    .bind(member_id)
    .fetch_optional(pool)
    .await?;
    let (above, participants): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE score > $2), count(*) FILTER (WHERE score > 0) \
         FROM season_scores WHERE season_id = $1",
    )
    .bind(season_id)
    .bind(score.unwrap_or(i64::MAX))
    .fetch_one(pool)
    .await?;
    Ok((score.map(|s| (above + 1, s)), participants))
}

/// Whether an event can move a season's board or the seasons table.
fn relevant(event: &Event) -> bool {
    matches!(
        event,
        Event::PointsAwarded { .. }
            | Event::HeldAwardApproved { .. }
            | Event::PointsAdjusted { .. }
            | Event::PointsReversed { .. }
            | Event::AwardRestored { .. }
            | Event::PointsMovedIn { .. }
            | Event::PointsMovedOut { .. }
            | Event::SeasonScheduled { .. }
            | Event::SeasonCancelled { .. }
            | Event::SeasonEnded { .. }
            | Event::SeasonSettled { .. }
    )
}

/// The entry an event undoes or restores, for which a season may hold a counted entry.
fn undone_entry(event: &Event) -> Option<EntryId> {
    match event {
        Event::PointsReversed { award_entry_id, .. }
        | Event::AwardRestored { award_entry_id, .. } => Some(*award_entry_id),
        Event::PointsAdjusted {
            compensates: Some(target),
            ..
        } => Some(*target),
        _ => None,
    }
}

#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// The batch's relevant events in log order, with their program.
    events: Vec<(ProgramId, Event)>,
    /// Changes from position 0 (a rebuild's fold): nothing earlier to read back, so events
    /// are folded as they come instead of held until the write.
    from_start: Option<Folded>,
}

/// The boards and season rows folded so far from position 0.
#[derive(Debug, Default)]
struct Folded {
    boards: SeasonBoards,
    patches: BTreeMap<Uuid, SeasonPatch>,
}

/// A new season's row, or what a later event of it changes.
#[derive(Debug, Default)]
struct SeasonPatch {
    new: Option<SeasonRow>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    cutoff: Option<DateTime<Utc>>,
    status: Option<&'static str>,
    closed_at: Option<DateTime<Utc>>,
    cancel_reason: Option<String>,
    standings: Option<Vec<Standing>>,
    participants: Option<i32>,
    prizes_paid: Option<i32>,
    prizes_withheld: Option<i32>,
}

/// About how many aggregated rows' memory an event held until the write takes (the batch is
/// folded only then, against the running seasons it reads): what a rebuild's memory limit
/// counts it as.
const HELD_EVENT_ROWS: usize = 4;

impl Changes {
    /// Changes that start at position 0 of the log.
    pub fn from_start() -> Changes {
        Changes {
            events: Vec::new(),
            from_start: Some(Folded::default()),
        }
    }

    pub fn rows(&self) -> usize {
        match &self.from_start {
            Some(f) => {
                let board_rows: usize = f
                    .boards
                    .boards
                    .values()
                    .map(|b| b.counted.len() + b.scores.len())
                    .sum();
                board_rows + f.patches.len()
            }
            None => self.events.len() * HELD_EVENT_ROWS,
        }
    }

    pub fn add(&mut self, r: &Recorded) {
        if !relevant(&r.event) {
            return;
        }
        let program = ProgramId(r.program_id);
        match &mut self.from_start {
            Some(f) => {
                f.boards.apply(program, &r.event);
                season_patch(&mut f.patches, program, &r.event);
            }
            None => self.events.push((program, r.event.clone())),
        }
    }

    pub async fn write(self, conn: &mut PgConnection, target: Target) -> Result<()> {
        if let Some(f) = self.from_start {
            write_seasons(conn, target, f.patches).await?;
            write_scores(conn, target, &f.boards).await?;
            return write_entries(conn, target, &f.boards).await;
        }
        let Some(earliest) = self.events.iter().map(|(_, e)| e.at()).min() else {
            return Ok(());
        };
        let seasons = target.table("seasons");
        let programs: Vec<Uuid> = self
            .events
            .iter()
            .map(|(p, _)| p.0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let running: Vec<(Uuid, Uuid, sqlx::types::Json<SeasonTerms>)> = sqlx::query_as(&format!(
            "SELECT season_id, program_id, terms FROM {seasons} \
             WHERE program_id = ANY($1) AND status = 'scheduled' AND cutoff > $2"
        ))
        .bind(&programs)
        .bind(earliest.get())
        .fetch_all(&mut *conn)
        .await?;
        let mut boards = SeasonBoards::default();
        for (season, program, terms) in running {
            boards.resume(
                ProgramId(program),
                SeasonBoard::new(SeasonId(season), terms.0),
            );
        }
        self.seed_undone(conn, target, &mut boards).await?;
        let mut patches: BTreeMap<Uuid, SeasonPatch> = BTreeMap::new();
        for (program, event) in &self.events {
            boards.apply(*program, event);
            season_patch(&mut patches, *program, event);
        }
        write_seasons(conn, target, patches).await?;
        write_scores(conn, target, &boards).await?;
        write_entries(conn, target, &boards).await?;
        forget_entries_of_closed(conn, target, &self.events).await
    }

    /// Gives the boards the counted entries this batch's events undo or restore that earlier
    /// batches counted.
    async fn seed_undone(
        &self,
        conn: &mut PgConnection,
        target: Target,
        boards: &mut SeasonBoards,
    ) -> Result<()> {
        let mut with_seasons: HashSet<ProgramId> = boards.by_program.keys().copied().collect();
        let mut entries: Vec<Uuid> = Vec::new();
        for (program, event) in &self.events {
            if let Event::SeasonScheduled { .. } = event {
                with_seasons.insert(*program);
            }
            if let Some(entry) = undone_entry(event).filter(|_| with_seasons.contains(program)) {
                entries.push(entry.0);
            }
        }
        if entries.is_empty() || boards.boards.is_empty() {
            return Ok(());
        }
        let season_ids: Vec<Uuid> = boards.boards.keys().map(|s| s.0).collect();
        let rows: Vec<(Uuid, Uuid, Uuid, i64, bool)> = sqlx::query_as(&format!(
            "SELECT season_id, entry_id, member_id, points, undone FROM {} \
             WHERE entry_id = ANY($1) AND season_id = ANY($2)",
            target.table("season_entries")
        ))
        .bind(&entries)
        .bind(&season_ids)
        .fetch_all(&mut *conn)
        .await?;
        for (season, entry, member, points, undone) in rows {
            if let Some(board) = boards.boards.get_mut(&SeasonId(season)) {
                let counted = Counted {
                    member_id: MemberId(member),
                    points,
                    undone,
                };
                board.counted.insert(EntryId(entry), counted);
            }
        }
        Ok(())
    }
}

fn season_patch(patches: &mut BTreeMap<Uuid, SeasonPatch>, program: ProgramId, event: &Event) {
    match event {
        Event::SeasonScheduled {
            season_id,
            terms,
            by,
            at,
            ..
        } => {
            let patch = patches.entry(season_id.0).or_default();
            patch.starts_at = Some(terms.starts_at.get());
            patch.ends_at = Some(terms.ends_at.get());
            patch.cutoff = Some(terms.cutoff().get());
            patch.new = Some(SeasonRow {
                season_id: season_id.0,
                program_id: program.0,
                name: terms.name.clone(),
                terms: terms.clone(),
                status: "scheduled".into(),
                scheduled_by: by.clone(),
                scheduled_at: at.get(),
                closed_at: None,
                cancel_reason: None,
                standings: None,
                participants: None,
                prizes_paid: None,
                prizes_withheld: None,
            });
        }
        Event::SeasonCancelled {
            season_id,
            reason,
            at,
            ..
        } => {
            let patch = patches.entry(season_id.0).or_default();
            patch.status = Some("cancelled");
            patch.closed_at = Some(at.get());
            patch.cancel_reason = Some(reason.clone());
        }
        Event::SeasonEnded {
            season_id,
            standings,
            participants,
            at,
        } => {
            let patch = patches.entry(season_id.0).or_default();
            patch.status = Some("ended");
            patch.closed_at = Some(at.get());
            patch.standings = Some(standings.clone());
            patch.participants = Some(i32::try_from(*participants).unwrap_or(i32::MAX));
        }
        Event::SeasonSettled {
            season_id,
            paid,
            withheld,
            ..
        } => {
            let patch = patches.entry(season_id.0).or_default();
            patch.status = Some("settled");
            patch.prizes_paid = Some(i32::try_from(*paid).unwrap_or(i32::MAX));
            patch.prizes_withheld = Some(i32::try_from(withheld.len()).unwrap_or(i32::MAX));
        }
        _ => {}
    }
}

/// Inserts the batch's new seasons (with whatever else the batch did to them) and updates the
/// others. Seasons are few: a statement each.
async fn write_seasons(
    conn: &mut PgConnection,
    target: Target,
    patches: BTreeMap<Uuid, SeasonPatch>,
) -> Result<()> {
    let table = target.table("seasons");
    for (season_id, p) in patches {
        if let Some(row) = &p.new {
            sqlx::query(&format!(
                "INSERT INTO {table} (season_id, program_id, name, terms, starts_at, ends_at, \
                 cutoff, status, scheduled_by, scheduled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
            ))
            .bind(row.season_id)
            .bind(row.program_id)
            .bind(&row.name)
            .bind(sqlx::types::Json(&row.terms))
            .bind(p.starts_at)
            .bind(p.ends_at)
            .bind(p.cutoff)
            .bind(&row.status)
            .bind(&row.scheduled_by)
            .bind(row.scheduled_at)
            .execute(&mut *conn)
            .await?;
        }
        if p.status.is_none() {
            continue;
        }
        sqlx::query(&format!(
            "UPDATE {table} SET status = coalesce($2, status), \
             closed_at = coalesce($3, closed_at), cancel_reason = coalesce($4, cancel_reason), \
             standings = coalesce($5, standings), participants = coalesce($6, participants), \
             prizes_paid = coalesce($7, prizes_paid), \
             prizes_withheld = coalesce($8, prizes_withheld) \
             WHERE season_id = $1"
        ))
        .bind(season_id)
        .bind(p.status)
        .bind(p.closed_at)
        .bind(&p.cancel_reason)
        .bind(p.standings.as_ref().map(sqlx::types::Json))
        .bind(p.participants)
        .bind(p.prizes_paid)
        .bind(p.prizes_withheld)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Adds each board's changes in score; into empty tables (a rebuild's first write) as rows.
async fn write_scores(
    conn: &mut PgConnection,
    target: Target,
    boards: &SeasonBoards,
) -> Result<()> {
    let rows: Vec<(Uuid, Uuid, i64)> = boards
        .boards
        .values()
        .flat_map(|b| b.scores.iter().map(|(m, d)| (b.season_id.0, m.0, *d)))
        .collect();
    let table = target.table("season_scores");
    let on_conflict = if target.fresh {
        String::new()
    } else {
        format!(
            " ON CONFLICT (season_id, member_id) DO UPDATE SET score = {table}.score + EXCLUDED.score"
        )
    };
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let (mut season, mut member, mut delta) = (Vec::new(), Vec::new(), Vec::new());
        for (s, m, d) in chunk {
            season.push(*s);
            member.push(*m);
            delta.push(*d);
        }
        sqlx::query(&format!(
            "INSERT INTO {table} (season_id, member_id, score) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[]){on_conflict}"
        ))
        .bind(&season)
        .bind(&member)
        .bind(&delta)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes the entries of the seasons the batch ended or cancelled: nothing counts against a
/// closed season, so they are never read again (a fold from position 0 never writes them).
async fn forget_entries_of_closed(
    conn: &mut PgConnection,
    target: Target,
    events: &[(ProgramId, Event)],
) -> Result<()> {
    let closed: Vec<Uuid> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::SeasonEnded { season_id, .. } | Event::SeasonCancelled { season_id, .. } => {
                Some(season_id.0)
            }
            _ => None,
        })
        .collect();
    if closed.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "DELETE FROM {} WHERE season_id = ANY($1)",
        target.table("season_entries")
    ))
    .bind(&closed)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// (season, entry, member, points, undone) of each counted entry, as UNNEST takes them.
type EntryColumns = (Vec<Uuid>, Vec<Uuid>, Vec<Uuid>, Vec<i64>, Vec<bool>);

/// Stores the entries the batch counted or undid.
async fn write_entries(
    conn: &mut PgConnection,
    target: Target,
    boards: &SeasonBoards,
) -> Result<()> {
    let rows: Vec<(Uuid, Uuid, Counted)> = boards
        .boards
        .values()
        .flat_map(|b| {
            b.touched
                .iter()
                .filter_map(|e| b.counted.get(e).map(|c| (b.season_id.0, e.0, *c)))
        })
        .collect();
    let table = target.table("season_entries");
    let on_conflict = if target.fresh {
        String::new()
    } else {
        " ON CONFLICT (season_id, entry_id) DO UPDATE SET undone = EXCLUDED.undone".to_string()
    };
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut c: EntryColumns = Default::default();
        for (season, entry, counted) in chunk {
            c.0.push(*season);
            c.1.push(*entry);
            c.2.push(counted.member_id.0);
            c.3.push(counted.points);
            c.4.push(counted.undone);
        }
        sqlx::query(&format!(
            "INSERT INTO {table} (season_id, entry_id, member_id, points, undone) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::int8[], $5::bool[])\
             {on_conflict}"
        ))
        .bind(&c.0)
        .bind(&c.1)
        .bind(&c.2)
        .bind(&c.3)
        .bind(&c.4)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
