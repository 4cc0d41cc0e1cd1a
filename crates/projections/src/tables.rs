//! Building a projection's tables beside the live ones and swapping them in: the copy starts
//! without indexes (bulk inserts into an unindexed table are several times faster), gets the
//! live table's storage parameters, constraints and indexes (these under temporary names), and
//! takes the live names at the swap, so the schema looks the same after any number of rebuilds.

use crate::error::Result;
use sqlx::PgConnection;

/// A constraint or index of a live table, to recreate on its rebuild copy.
#[derive(Debug, Clone)]
pub(crate) struct IndexDef {
    table: String,
    name: String,
    /// `ALTER TABLE … ADD CONSTRAINT name <definition>`, or `CREATE INDEX name ON t <definition>`.
    definition: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Constraint,
    Index { unique: bool },
}

impl IndexDef {
    pub fn table(&self) -> &str {
        &self.table
    }

    fn temporary_name(&self) -> String {
        let mut base = self.name.clone();
        base.truncate(59);
        format!("{base}_rb")
    }
}

pub(crate) fn rebuild_name(table: &str) -> String {
    format!("{table}_rebuild")
}

/// Drops any leftover copy and creates an empty one shaped like `table`, without indexes.
pub(crate) async fn create_beside(conn: &mut PgConnection, table: &str) -> Result<Vec<IndexDef>> {
    let copy = rebuild_name(table);
    sqlx::query(&format!("DROP TABLE IF EXISTS {copy}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {copy} (LIKE {table} INCLUDING ALL EXCLUDING INDEXES)"
    ))
    .execute(&mut *conn)
    .await?;
    // LIKE copies no storage parameters: a rebuilt table keeps the live one's fillfactor.
    let options: Option<Vec<String>> =
        sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE oid = $1::text::regclass")
            .bind(table)
            .fetch_one(&mut *conn)
            .await?;
    if let Some(options) = options.filter(|o| !o.is_empty()) {
        sqlx::query(&format!("ALTER TABLE {copy} SET ({})", options.join(", ")))
            .execute(&mut *conn)
            .await?;
    }
    let mut defs = Vec::new();
    let constraints: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = $1::text::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, definition) in constraints {
        defs.push(IndexDef {
            table: table.to_string(),
            name,
            definition,
            kind: Kind::Constraint,
        });
    }
    let indexes: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::text::regclass \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                           AND k.conrelid = i.indrelid) ORDER BY c.relname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, full, unique) in indexes {
        // "CREATE INDEX name ON public.table USING btree (...)": keep from USING on.
        let Some((_, tail)) = full.split_once(" USING ") else {
            continue;
        };
        let definition = format!("USING {tail}");
        defs.push(IndexDef {
            table: table.to_string(),
            name,
            definition,
            kind: Kind::Index { unique },
        });
    }
    Ok(defs)
}

/// Gives the rebuild copy the live table's constraints and indexes, under temporary names.
pub(crate) async fn build_indexes(conn: &mut PgConnection, defs: &[IndexDef]) -> Result<()> {
    for def in defs {
        let copy = rebuild_name(&def.table);
        let tmp = def.temporary_name();
        let sql = match def.kind {
            Kind::Constraint => {
                format!("ALTER TABLE {copy} ADD CONSTRAINT {tmp} {}", def.definition)
            }
            Kind::Index { unique } => {
                let unique = if unique { "UNIQUE " } else { "" };
                format!("CREATE {unique}INDEX {tmp} ON {copy} {}", def.definition)
            }
        };
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Replaces the live table by its rebuilt copy (inside the caller's transaction).
pub(crate) async fn swap(conn: &mut PgConnection, table: &str, defs: &[IndexDef]) -> Result<()> {
    let copy = rebuild_name(table);
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!("ALTER TABLE {copy} RENAME TO {table}"))
        .execute(&mut *conn)
        .await?;
    for def in defs.iter().filter(|d| d.table == table) {
        let tmp = def.temporary_name();
        let sql = match def.kind {
            Kind::Constraint => format!(
                "ALTER TABLE {table} RENAME CONSTRAINT {tmp} TO {}",
                def.name
            ),
            Kind::Index { .. } => format!("ALTER INDEX {tmp} RENAME TO {}", def.name),
        };
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}
