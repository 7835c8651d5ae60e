//! `keel copy SRC DEST` (and `keel backup` from a server): a keel database moved whole between
//! engines — a file to a server, a server to a file, or either to its own kind. Every table is
//! copied row for row with its ids, in an order where each row's references are already there,
//! inside one write transaction on the destination, so the audit chain (hashes included) and every
//! read model come out the same. The source is read inside one transaction too: a consistent
//! snapshot while others keep writing, a page of rows at a time by primary key, so the copy's
//! memory does not grow with the database. The destination must hold nothing yet.

use super::engine::{quote, Db, Tx, Value};
use super::{configure, files, migrations, server, Result, Store, StoreError};
use std::path::Path;

/// Every table of keel's schema, in an order where the rows a row points at come first.
pub const TABLE_ORDER: &[&str] = &[
    "items",
    "settings",
    "cycles",
    "units",
    "people",
    "kras",
    "objectives",
    "objective_units",
    "key_results",
    "kpis",
    "nodes",
    "measures",
    "milestones",
    "dependencies",
    "links",
    "item_values",
    "measure_money",
    "node_funnel",
    "meetings",
    "escalations",
    "escalation_events",
    "decisions",
    "gate_events",
    "audit",
    "change_sets",
    "item_sources",
];

/// Derived tables a copy does not carry: they are rebuilt on the destination from what was
/// copied (see `store::kept`).
pub const REBUILT: &[&str] = super::kept::TABLES;

/// Columns that point at another row of the same table (a parent can have been made after its
/// child and moved above it later): written empty first, set once every row of the table is in.
const SELF_REFERENCES: &[(&str, &str)] = &[("units", "parent_id"), ("objectives", "parent_id"), ("nodes", "parent_id")];

/// The settings `keel init` writes into a database that has no data yet; a copy replaces them.
const INIT_SETTINGS: &[&str] = &["demo", "created_at"];

/// How many values one INSERT carries (well under every engine's parameter limit).
const VALUES_PER_INSERT: usize = 900;

/// How many rows of a table are read from the source at a time.
const PAGE_ROWS: usize = 2_000;

/// What a copy wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub tables: usize,
    pub rows: u64,
    pub audit_rows: u64,
}

/// Copy the keel database at `src` (a file or a `postgres://` URL) into `dest`, which must be a
/// path where no file is yet, or a server database that is empty or holds a keel schema without
/// data. `progress` hears (rows copied, rows in all) as the copy goes. Refused or failed, the
/// destination is left as it was.
pub fn copy(src: &Path, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Copied> {
    if src == dest {
        return Err(StoreError::Unavailable(format!(
            "{}: the source and the destination are the same. Nothing was changed.",
            dest.display()
        )));
    }
    let source = Store::open(src)?;
    copy_from(&source, dest, progress)
}

/// [`copy`] from a database that is open already (`keel backup` on a server).
pub fn copy_from(source: &Store, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Copied> {
    let shown = dest.display().to_string();
    match server::server_url(dest) {
        Some(url) => {
            let (db, found) = server::copy_target(url)?;
            // The source is read in one transaction, rolled back at the end: it changes nothing.
            source.conn.trial(|from| {
                db.write(|to| {
                    match found {
                        Some(version) if version < migrations::SCHEMA_VERSION => migrations::migrate(to, version)?,
                        Some(_) => {}
                        None => migrations::migrate(to, 0)?,
                    }
                    copy_tables(from, to, &shown, progress)
                })
            })
        }
        None => {
            if dest.exists() || dest.is_symlink() {
                return Err(StoreError::Unavailable(format!(
                    "{shown}: a file is there already; keel copy writes a new file only. Nothing was changed; give a path where no file is."
                )));
            }
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut copied = None;
            // Built under a temporary name (0600) and linked into place only when whole.
            files::create_whole(dest, |conn| {
                configure(conn)?;
                conn.use_wal()?;
                let done = source.conn.trial(|from| {
                    conn.write(|to| {
                        migrations::migrate(to, 0)?;
                        copy_tables(from, to, &shown, progress)
                    })
                })?;
                copied = Some(done);
                Ok(())
            })?;
            Ok(copied.expect("create_whole ran the copy"))
        }
    }
}

fn refused(dest: &str, why: String) -> StoreError {
    StoreError::InUse { path: dest.to_string(), why }
}

/// Every table's rows from `from` into `to`, whose schema is keel's at the same version and
/// which holds nothing but what `keel init` writes.
fn copy_tables(from: &Db, to: &Tx<'_>, dest: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Copied> {
    let mut known: Vec<&str> = TABLE_ORDER.iter().chain(REBUILT).copied().collect();
    known.sort_unstable();
    for (side, db) in [("source", from), ("destination", &**to)] {
        let found = db.table_names()?;
        if found != known {
            return Err(StoreError::Unavailable(format!(
                "the {side} holds tables this keel does not copy (found {}); nothing was changed — copy with the keel that made it",
                found.join(", ")
            )));
        }
    }
    let placeholders: Vec<String> = INIT_SETTINGS.iter().map(|n| format!("'{n}'")).collect();
    to.execute(&format!("DELETE FROM settings WHERE name IN ({})", placeholders.join(", ")), [])?;
    let mut total = 0u64;
    let mut counts = Vec::with_capacity(TABLE_ORDER.len());
    for table in TABLE_ORDER {
        let there: i64 = to.query_row(&format!("SELECT COUNT(*) FROM {}", quote(table)), [], |r| r.get(0))?;
        if there > 0 {
            return Err(refused(
                dest,
                format!("it holds a keel database with data already ({there} rows in {table}); keel copy writes only into an empty one"),
            ));
        }
        let n: i64 = from.query_row(&format!("SELECT COUNT(*) FROM {}", quote(table)), [], |r| r.get(0))?;
        counts.push(n);
        total += n.unsigned_abs();
    }
    // Search's index is derived: never copied, made on the destination from what was copied.
    let search_from = super::search::bulk_begin(to)?;
    let mut done = 0u64;
    progress(0, total);
    for (table, expected) in TABLE_ORDER.iter().zip(counts) {
        let written = copy_table(from, to, table, PAGE_ROWS, &mut |n| {
            done += n;
            progress(done, total);
        })?;
        let there: i64 = to.query_row(&format!("SELECT COUNT(*) FROM {}", quote(table)), [], |r| r.get(0))?;
        if written != expected || there != expected {
            return Err(StoreError::Unavailable(format!(
                "{table}: {expected} rows read, {there} written; the copy was rolled back and nothing was changed"
            )));
        }
    }
    super::search::bulk_end(to, search_from)?;
    to.reset_identities()?;
    super::kept::rebuild(to)?;
    let audit_rows: i64 = to.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))?;
    Ok(Copied { tables: TABLE_ORDER.len(), rows: total, audit_rows: audit_rows.unsigned_abs() })
}

/// One table's rows, several to an INSERT, ids kept; how many were written. The source is read
/// a page at a time in the order of its primary key (each page starts after the last key of the
/// one before), so what the copy holds of a table at once is one page, however big the table:
/// a server hands over a query's rows whole.
fn copy_table(from: &Db, to: &Tx<'_>, table: &str, page_rows: usize, advanced: &mut dyn FnMut(u64)) -> Result<i64> {
    let columns = from.stored_columns(table)?;
    if to.stored_columns(table)? != columns {
        return Err(StoreError::Unavailable(format!(
            "{table}: the columns differ between the source and the destination; nothing was changed — bring both to this keel's schema first"
        )));
    }
    let key = from.primary_key(table)?;
    let key_at: Option<Vec<usize>> = key.iter().map(|k| columns.iter().position(|c| c == k)).collect();
    let key_at = key_at.filter(|k| !k.is_empty()).ok_or_else(|| {
        StoreError::Unavailable(format!(
            "{table}: the source has no primary key of stored columns there; it is not keel's own, and nothing was changed"
        ))
    })?;
    let list = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let order = key.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let marks = (1..=key.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let first_page = format!("SELECT {list} FROM {} ORDER BY {order} LIMIT {page_rows}", quote(table));
    let next_page = format!("SELECT {list} FROM {} WHERE ({order}) > ({marks}) ORDER BY {order} LIMIT {page_rows}", quote(table));
    let parent = SELF_REFERENCES.iter().find(|(t, _)| *t == table).and_then(|(_, c)| columns.iter().position(|n| n == c));
    let per_insert = (VALUES_PER_INSERT / columns.len().max(1)).max(1);
    let mut parents: Vec<(Value, Value)> = Vec::new();
    let mut written = 0i64;
    let mut last: Option<Vec<Value>> = None;
    loop {
        let read =
            |row: &super::engine::Row<'_>| (0..columns.len()).map(|i| row.get::<_, Value>(i)).collect::<std::result::Result<Vec<_>, _>>();
        let page: Vec<Vec<Value>> = match &last {
            None => from.query_map(&first_page, [], read)?,
            Some(key) => {
                let params: Vec<&dyn super::engine::ToParam> = key.iter().map(|v| v as &dyn super::engine::ToParam).collect();
                from.query_map(&next_page, params.as_slice(), read)?
            }
        };
        let Some(end) = page.last() else { break };
        last = Some(key_at.iter().map(|&i| end[i].clone()).collect());
        let full = page.len() == page_rows;
        let mut rows = page;
        for row in &mut rows {
            if let Some(i) = row.iter().position(|v| matches!(v, Value::Blob(_))) {
                return Err(StoreError::Unavailable(format!(
                    "{table}.{}: holds binary data, which keel never stores; the source is not keel's own. The copy was rolled back and nothing was changed",
                    columns[i]
                )));
            }
            if let Some(i) = parent.filter(|&i| row[i] != Value::Null) {
                parents.push((row[0].clone(), std::mem::replace(&mut row[i], Value::Null)));
            }
        }
        for batch in rows.chunks(per_insert) {
            insert(to, table, &list, columns.len(), batch)?;
            written += batch.len() as i64;
            advanced(batch.len() as u64);
        }
        if !full {
            break;
        }
    }
    if let Some(index) = parent {
        let sql = format!("UPDATE {} SET {} = ?1 WHERE {} = ?2", quote(table), quote(&columns[index]), quote(&columns[0]));
        for (id, parent) in &parents {
            to.execute(&sql, super::engine::params![*parent, *id])?;
        }
    }
    Ok(written)
}

/// Some rows of a table in one INSERT.
fn insert(to: &Tx<'_>, table: &str, list: &str, width: usize, rows: &[Vec<Value>]) -> Result<()> {
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| {
            let marks: Vec<String> = (0..width).map(|c| format!("?{}", r * width + c + 1)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!("INSERT INTO {} ({list}) VALUES {}", quote(table), tuples.join(", "));
    let params: Vec<&dyn super::engine::ToParam> = rows.iter().flatten().map(|v| v as &dyn super::engine::ToParam).collect();
    to.execute(&sql, params.as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{copy_table, TABLE_ORDER};
    use crate::store::engine::Db;
    use crate::store::migrations;

    /// A table read in pages smaller than it, by a key of one text column and by a key of two
    /// columns, arrives whole: every row once, none twice, in the order of its key — from a file
    /// and (with `KEEL_TEST_PG_URL`) from a server, whose rows come a page per query.
    #[test]
    fn a_table_read_a_page_at_a_time_arrives_whole() {
        pages_arrive_whole(&Db::open_in_memory().unwrap());
        if let Some(server) = crate::store::engine::tests::scratch::Scratch::new("copy_pages") {
            pages_arrive_whole(server.db());
        }
    }

    fn pages_arrive_whole(from: &Db) {
        let to = Db::open_in_memory().unwrap();
        for db in [from, &to] {
            db.batch(
                "CREATE TABLE one (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                      CREATE TABLE two (a BIGINT NOT NULL, b TEXT NOT NULL, v BIGINT, PRIMARY KEY (a, b))",
            )
            .unwrap();
        }
        for i in 0..23 {
            from.execute("INSERT INTO one VALUES (?1, ?2)", crate::params![format!("k{i:02}"), format!("v{i}")]).unwrap();
            for b in ["x", "y", "z"] {
                from.execute("INSERT INTO two VALUES (?1, ?2, ?3)", crate::params![i % 5, format!("{b}{i}"), i]).unwrap();
            }
        }
        let dump = |db: &Db, sql: &str| -> Vec<String> { db.query_map(sql, [], |r| r.get::<_, String>(0)).unwrap() };
        for page in [1, 4, 23, 100] {
            let mut seen = 0u64;
            let written = to
                .write(|tx| -> crate::store::Result<(i64, i64)> {
                    Ok((copy_table(from, tx, "one", page, &mut |n| seen += n)?, copy_table(from, tx, "two", page, &mut |_| {})?))
                })
                .unwrap();
            assert_eq!(written, (23, 69), "page of {page}");
            assert_eq!(seen, 23);
            for sql in [
                "SELECT name || '=' || value FROM one ORDER BY 1",
                "SELECT CAST(a AS TEXT) || b || '=' || CAST(v AS TEXT) FROM two ORDER BY 1",
            ] {
                assert_eq!(dump(from, sql), dump(&to, sql), "page of {page}");
            }
            to.batch("DELETE FROM one; DELETE FROM two").unwrap();
        }
    }

    /// A table added to the schema must be added to the copy (in its place in the order), or
    /// `keel copy` would leave it behind.
    #[test]
    fn the_copy_knows_every_table_of_the_schema() {
        let db = Db::open_in_memory().unwrap();
        for sql in migrations::MIGRATIONS {
            db.batch(sql).unwrap();
        }
        let mut known: Vec<&str> = TABLE_ORDER.iter().chain(super::REBUILT).copied().collect();
        known.sort_unstable();
        assert_eq!(db.table_names().unwrap(), known);
    }
}
