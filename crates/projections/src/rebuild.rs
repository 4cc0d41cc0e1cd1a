//! Rebuilding read models from position 0 without taking reads down: fold the whole log into
//! fresh tables beside the live ones, catch up in short transactions while appends go on, then
//! in ONE transaction apply the last events, swap the tables and move the checkpoint. Readers
//! see the old model until that commit and the new one after it, never a half-built one.
//!
//! The log is read for all the projections rebuilt together, and aggregated in memory: each row
//! of the final model is written once, by COPY into an unindexed copy whose indexes are built
//! after. Memory grows with the models, not the log, up to `max_rows_in_memory`: past it, the
//! projection holding the most rows is put off to another pass over the log (up to where the
//! first pass stopped), since reading the log again is cheaper than merging rows into indexed
//! tables; a projection over the limit on its own is written out and the rest upserted.

use crate::checkpoint;
use crate::error::{ProjectionError, Result};
use crate::progress::Progress;
use crate::projection::{Changes, Projection, Target};
use crate::source::{Zones, read_after, read_pages};
use crate::tables::{self, IndexDef};
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};
use std::sync::Arc;
use std::time::Instant;
use store::Checkpoint;

#[derive(Debug, Clone)]
pub struct RebuildOptions {
    /// Events per read while folding (at most `store::MAX_READ_BATCH`).
    pub page_events: i64,
    /// Rows held in memory before they are written out.
    pub max_rows_in_memory: usize,
    /// Catch up in separate transactions until fewer events than this remain, so the final
    /// transaction (which holds the swap's locks) stays short.
    pub final_tail_events: usize,
    /// Events folded so far, for whoever shows the rebuild's progress.
    pub progress: Arc<Progress>,
}

impl Default for RebuildOptions {
    fn default() -> Self {
        Self {
            page_events: store::MAX_READ_BATCH,
            max_rows_in_memory: 10_000_000,
            final_tail_events: 1_000,
            progress: Arc::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildReport {
    pub projections: Vec<&'static str>,
    /// Events folded into the new tables.
    pub events: u64,
    pub secs: f64,
    /// Where the rebuilt projections now stand.
    pub tx_id: i64,
    pub position: i64,
}

/// Rebuilds one projection by name, or all of them (`None`), from position 0.
pub async fn rebuild(pool: &PgPool, name: Option<&str>) -> Result<RebuildReport> {
    rebuild_with(
        pool,
        &Projection::selected(name)?,
        &RebuildOptions::default(),
    )
    .await
}

pub async fn rebuild_with(
    pool: &PgPool,
    projections: &[Projection],
    options: &RebuildOptions,
) -> Result<RebuildReport> {
    let started = Instant::now();
    // Held for the whole rebuild; released when this connection closes, even on a crash.
    let mut guard = PgConnection::connect_with(&pool.connect_options()).await?;
    for p in projections {
        let locked: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtext('loyalty.rebuild'), hashtext($1))",
        )
        .bind(p.name())
        .fetch_one(&mut guard)
        .await?;
        if !locked {
            return Err(ProjectionError::RebuildBusy(p.name()));
        }
    }
    let result = build(pool, projections, options).await;
    // Unlocked before closing: a closed connection's backend lets go of its locks only when it
    // has exited, a moment after the close returns, and a rebuild started right after would
    // find them still held.
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut guard)
        .await?;
    guard.close().await?;
    let (events, at) = result?;
    Ok(RebuildReport {
        projections: projections.iter().map(|p| p.name()).collect(),
        events,
        secs: started.elapsed().as_secs_f64(),
        tx_id: at.tx_id,
        position: at.position,
    })
}

struct Build {
    projections: Vec<Projection>,
    changes: Vec<Changes>,
    defs: Vec<IndexDef>,
    fresh: bool,
    zones: Zones,
    events: u64,
    at: Checkpoint,
}

impl Build {
    fn rows(&self) -> usize {
        self.changes.iter().map(Changes::rows).sum()
    }

    /// Writes the rows aggregated so far. The first time, into the empty unindexed copies,
    /// each projection on a connection of its own (the work is PostgreSQL's, so they run side
    /// by side), then builds their indexes; later, as upserts on `conn`.
    async fn flush(&mut self, pool: &PgPool, conn: &mut PgConnection) -> Result<()> {
        let fresh_changes = self.projections.iter().map(|p| Changes::new(*p)).collect();
        let all = std::mem::replace(&mut self.changes, fresh_changes);
        if !self.fresh {
            for changes in all {
                changes.write(conn, Target::REBUILD).await?;
            }
            return Ok(());
        }
        let mut tasks = Vec::new();
        for (p, changes) in self.projections.iter().zip(all) {
            let defs: Vec<IndexDef> = self
                .defs
                .iter()
                .filter(|d| p.tables().contains(&d.table()))
                .cloned()
                .collect();
            let pool = pool.clone();
            let name = p.name();
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let mut conn = dedicated(&pool).await?;
                changes.write(&mut conn, Target::REBUILD_FRESH).await?;
                let w = t.elapsed();
                tables::build_indexes(&mut conn, &defs).await?;
                tracing::debug!(
                    projection = name,
                    write_ms = w.as_millis() as u64,
                    index_ms = (t.elapsed() - w).as_millis() as u64,
                    "rebuild: rows written"
                );
                conn.close().await?;
                Ok::<_, ProjectionError>(())
            }));
        }
        for task in tasks {
            task.await
                .map_err(|e| ProjectionError::Invalid(format!("a rebuild task failed: {e}")))??;
        }
        self.fresh = false;
        Ok(())
    }
}

/// A connection of the rebuild's own, outside the pool: its session settings (no waiting for
/// disk, a large sort memory) must not leak to the pool's other users, such as appends.
async fn dedicated(pool: &PgPool) -> Result<PgConnection> {
    let mut conn = PgConnection::connect_with(&pool.connect_options()).await?;
    // The copies are not live: a crash means starting over, so commits need not wait for disk.
    sqlx::query("SET synchronous_commit = off")
        .execute(&mut conn)
        .await?;
    sqlx::query("SET maintenance_work_mem = '256MB'")
        .execute(&mut conn)
        .await?;
    Ok(conn)
}

async fn build(
    pool: &PgPool,
    projections: &[Projection],
    options: &RebuildOptions,
) -> Result<(u64, Checkpoint)> {
    let mut conn = dedicated(pool).await?;
    options.progress.expect_log(&mut conn).await?;
    let mut defs = Vec::new();
    for p in projections {
        for table in p.tables() {
            defs.extend(tables::create_beside(&mut conn, table).await?);
        }
    }
    // Passes over the log up to where the first pass ended, each folding what fits in memory;
    // a projection put off by one pass is folded by the next.
    let t = Instant::now();
    let mut waiting = projections.to_vec();
    let mut end = None;
    let mut events = 0;
    let mut passes = 0;
    while !waiting.is_empty() {
        if end.is_some() {
            // Each pass reads what the first did.
            options.progress.expect_more(events);
        }
        let pass = fold_pass(pool, &mut conn, &waiting, &defs, end, options).await?;
        passes += 1;
        if end.is_none() {
            events = pass.events;
        }
        end = Some(pass.at);
        waiting = pass.put_off;
    }
    tracing::debug!(
        events,
        passes,
        ms = t.elapsed().as_millis() as u64,
        "rebuild: log folded"
    );
    let mut b = Build {
        projections: projections.to_vec(),
        changes: projections.iter().map(|p| Changes::new(*p)).collect(),
        defs,
        fresh: false,
        zones: Zones::default(),
        events,
        at: end.unwrap_or_default(),
    };
    // Appends went on meanwhile: follow them in short transactions.
    loop {
        let batch = read_after(&mut conn, b.at, crate::runner::MAX_BATCH_EVENTS).await?;
        let Some(last) = batch.last() else { break };
        b.at = last.checkpoint();
        b.zones.resolve(&mut conn, &batch).await?;
        for r in &batch {
            for changes in &mut b.changes {
                changes.add(r, &b.zones);
            }
        }
        b.events += batch.len() as u64;
        options.progress.advance(batch.len() as u64);
        b.flush(pool, &mut conn).await?;
        if batch.len() < options.final_tail_events {
            break;
        }
    }
    finish(pool, b).await
}

/// What one pass over the log did.
struct Pass {
    /// Where it stopped: the log's readable end for the first pass, the first pass's end after.
    at: Checkpoint,
    events: u64,
    /// Projections it set aside to keep within the memory limit, for the next pass.
    put_off: Vec<Projection>,
}

/// Folds `projections` from position 0 to `end` (the readable end of the log when `None`) and
/// writes them into their fresh copies. Past the memory limit, the projection holding the most
/// rows is put off to a later pass (reading the log again costs less than merging rows into
/// indexed tables); one left alone over the limit is written out and the rest merged in.
async fn fold_pass(
    pool: &PgPool,
    conn: &mut PgConnection,
    projections: &[Projection],
    defs: &[IndexDef],
    end: Option<Checkpoint>,
    options: &RebuildOptions,
) -> Result<Pass> {
    let mut b = Build {
        projections: projections.to_vec(),
        changes: projections
            .iter()
            .map(|p| Changes::from_start(*p))
            .collect(),
        defs: defs.to_vec(),
        fresh: true,
        zones: Zones::default(),
        events: 0,
        at: Checkpoint::default(),
    };
    let mut put_off = Vec::new();
    let mut pages = read_pages(pool.clone(), b.at, options.page_events);
    while let Some(page) = pages.recv().await {
        let mut page = page?;
        let reached_end = end.is_some_and(|end| page.last().is_some_and(|r| r.checkpoint() >= end));
        if let Some(end) = end {
            page.retain(|r| r.checkpoint() <= end);
        }
        if let Some(last) = page.last() {
            b.at = last.checkpoint();
        }
        b.zones.resolve(conn, &page).await?;
        for r in &page {
            for changes in &mut b.changes {
                changes.add(r, &b.zones);
            }
        }
        b.events += page.len() as u64;
        options.progress.advance(page.len() as u64);
        while b.rows() > options.max_rows_in_memory {
            if b.projections.len() > 1 {
                let largest = (0..b.changes.len())
                    .max_by_key(|&i| b.changes[i].rows())
                    .unwrap_or_default();
                b.changes.remove(largest);
                put_off.push(b.projections.remove(largest));
            } else {
                b.flush(pool, conn).await?;
            }
        }
        if reached_end || page.is_empty() {
            break;
        }
    }
    b.flush(pool, conn).await?;
    Ok(Pass {
        at: end.unwrap_or(b.at),
        events: b.events,
        put_off,
    })
}

/// The last events, the swap and the checkpoint, in one transaction.
async fn finish(pool: &PgPool, mut b: Build) -> Result<(u64, Checkpoint)> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    // Waiting behind a long reader would stall every reader queued behind the swap.
    sqlx::query("SET LOCAL lock_timeout = '10s'")
        .execute(&mut *tx)
        .await?;
    for p in &b.projections {
        checkpoint::lock(&mut tx, p.name()).await?;
    }
    loop {
        let batch = read_after(&mut tx, b.at, crate::runner::MAX_BATCH_EVENTS).await?;
        let Some(last) = batch.last() else { break };
        b.at = last.checkpoint();
        b.zones.resolve(&mut tx, &batch).await?;
        for p in &b.projections {
            let mut changes = Changes::new(*p);
            for r in &batch {
                changes.add(r, &b.zones);
            }
            changes.write(&mut tx, Target::REBUILD).await?;
        }
        b.events += batch.len() as u64;
    }
    for p in &b.projections {
        for table in p.tables() {
            tables::swap(&mut tx, table, &b.defs).await?;
        }
        checkpoint::set(
            &mut tx,
            p.name(),
            b.at,
            i64::try_from(b.events).unwrap_or(i64::MAX),
        )
        .await?;
    }
    tx.commit().await?;
    // Fresh tables have no statistics (the planner guesses badly) and no visibility map (no
    // index-only scans, which loading a board into memory uses) until vacuumed.
    for p in &b.projections {
        for table in p.tables() {
            sqlx::query(&format!("VACUUM (ANALYZE) {table}"))
                .execute(pool)
                .await?;
        }
    }
    Ok((b.events, b.at))
}
