//! `keel copy SRC DEST` (and `keel backup` from a server): a keel database moved whole between
//! engines — a file to a server, a server to a file, or either to its own kind. Every table is
//! copied row for row with its ids, in an order where each row's references are already there,
//! inside one write transaction on the destination, so the audit chain (hashes included) and every
//! read model come out the same. The source is read inside one transaction too: a consistent
//! snapshot while others keep writing. The destination must hold nothing yet.

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

/// Columns that point at another row of the same table (a parent can have been made after its
/// child and moved above it later): written empty first, set once every row of the table is in.
const SELF_REFERENCES: &[(&str, &str)] = &[("units", "parent_id"), ("objectives", "parent_id"), ("nodes", "parent_id")];

/// The settings `keel init` writes into a database that has no data yet; a copy replaces them.
const INIT_SETTINGS: &[&str] = &["demo", "created_at"];

/// How many values one INSERT carries (well under every engine's parameter limit).
const VALUES_PER_INSERT: usize = 900;

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
    let mut known: Vec<&str> = TABLE_ORDER.to_vec();
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
        let written = copy_table(from, to, table, &mut |n| {
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
    let audit_rows: i64 = to.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))?;
    Ok(Copied { tables: TABLE_ORDER.len(), rows: total, audit_rows: audit_rows.unsigned_abs() })
}

/// One table's rows, several to an INSERT, ids kept; how many were written.
fn copy_table(from: &Db, to: &Tx<'_>, table: &str, advanced: &mut dyn FnMut(u64)) -> Result<i64> {
    let columns = from.stored_columns(table)?;
    if to.stored_columns(table)? != columns {
        return Err(StoreError::Unavailable(format!(
            "{table}: the columns differ between the source and the destination; nothing was changed — bring both to this keel's schema first"
        )));
    }
    let list = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
    let parent = SELF_REFERENCES.iter().find(|(t, _)| *t == table).and_then(|(_, c)| columns.iter().position(|n| n == c));
    let per_insert = (VALUES_PER_INSERT / columns.len().max(1)).max(1);
    let mut batch: Vec<Value> = Vec::with_capacity(per_insert * columns.len());
    let mut parents: Vec<(Value, Value)> = Vec::new();
    let mut written = 0i64;
    let flush = |batch: &mut Vec<Value>| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let rows = batch.len() / columns.len();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let marks: Vec<String> = (0..columns.len()).map(|c| format!("?{}", r * columns.len() + c + 1)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!("INSERT INTO {} ({list}) VALUES {}", quote(table), tuples.join(", "));
        let params: Vec<&dyn super::engine::ToParam> = batch.iter().map(|v| v as &dyn super::engine::ToParam).collect();
        to.execute(&sql, params.as_slice())?;
        batch.clear();
        Ok(())
    };
    let mut failure = None;
    from.query_each(&format!("SELECT {list} FROM {} ORDER BY 1", quote(table)), [], |row| {
        for (i, name) in columns.iter().enumerate() {
            let mut v: Value = row.get(i)?;
            if let Value::Blob(_) = v {
                failure = Some(format!("{table}.{name} holds binary data, which keel never stores; the source is not keel's own"));
                return Err(super::engine::Error::Other("blob".into()));
            }
            if Some(i) == parent && v != Value::Null {
                parents.push((row.get(0)?, std::mem::replace(&mut v, Value::Null)));
            }
            batch.push(v);
        }
        written += 1;
        if batch.len() >= per_insert * columns.len() {
            let n = batch.len() / columns.len();
            flush(&mut batch).map_err(|e| {
                failure = Some(e.to_string());
                super::engine::Error::Other("insert".into())
            })?;
            advanced(n as u64);
        }
        Ok(())
    })
    .map_err(|e| match failure.take() {
        Some(why) => StoreError::Unavailable(format!("{table}: {why}; the copy was rolled back and nothing was changed")),
        None => e.into(),
    })?;
    let n = batch.len() / columns.len().max(1);
    flush(&mut batch)?;
    advanced(n as u64);
    if let Some(index) = parent {
        let sql = format!("UPDATE {} SET {} = ?1 WHERE {} = ?2", quote(table), quote(&columns[index]), quote(&columns[0]));
        for (id, parent) in &parents {
            to.execute(&sql, super::engine::params![*parent, *id])?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::TABLE_ORDER;
    use crate::store::engine::Db;
    use crate::store::migrations;

    /// A table added to the schema must be added to the copy (in its place in the order), or
    /// `keel copy` would leave it behind.
    #[test]
    fn the_copy_knows_every_table_of_the_schema() {
        let db = Db::open_in_memory().unwrap();
        for sql in migrations::MIGRATIONS {
            db.batch(sql).unwrap();
        }
        let mut known: Vec<&str> = TABLE_ORDER.to_vec();
        known.sort_unstable();
        assert_eq!(db.table_names().unwrap(), known);
    }
}
