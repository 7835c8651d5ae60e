//! What a database holds, asked of each engine's own catalog: its tables, the columns a copy
//! writes (generated ones are left to the engine), the primary key it reads pages by, and, after
//! rows were written with their ids, setting PostgreSQL's identity sequences past them. `keel
//! copy` is the caller.

use super::{Db, DbResult};

/// Tables of the engine's own (keel's facts about the database on a server, kept in its header
/// on a file): never copied as data.
const ENGINE_TABLES: &[&str] = &["keel_meta", "keel_writes"];

/// Derived tables, never copied as data: search's FTS5 index on a file (`item_search` and the
/// shadow tables FTS5 keeps beside it) and its pause flag. `keel copy` rebuilds the index on the
/// destination from the copied tables (`store::search::bulk_end`); a server has none (pg_trgm
/// indexes instead).
const DERIVED_TABLES: &[&str] = &["search_pause"];
const DERIVED_PREFIX: &str = "item_search";

/// Is `table` one of search's derived tables on a file (which a server has no counterpart of)?
pub(crate) fn is_derived_search_table(table: &str) -> bool {
    DERIVED_TABLES.contains(&table) || table.starts_with(DERIVED_PREFIX)
}

impl Db {
    /// The names of the database's tables, sorted, without SQLite's and the engine's own.
    pub fn table_names(&self) -> DbResult<Vec<String>> {
        let sql = if self.is_postgres() {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY 1"
        };
        let mut names: Vec<String> = self.query_map(sql, [], |r| r.get(0))?;
        names.retain(|n| !ENGINE_TABLES.contains(&n.as_str()) && !is_derived_search_table(n));
        Ok(names)
    }

    /// A table's columns in their order, leaving out generated ones (the engine computes those).
    pub fn stored_columns(&self, table: &str) -> DbResult<Vec<String>> {
        let sql = if self.is_postgres() {
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 AND is_generated = 'NEVER' ORDER BY ordinal_position"
        } else {
            // hidden: 0 a plain column, 2 and 3 generated (virtual, stored).
            "SELECT name FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid"
        };
        self.query_map(sql, [table], |r| r.get(0))
    }

    /// A table's primary key columns, in the key's order (what a scan pages by).
    pub fn primary_key(&self, table: &str) -> DbResult<Vec<String>> {
        let sql = if self.is_postgres() {
            "SELECT a.attname::text FROM pg_catalog.pg_index i
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = to_regclass(quote_ident(?1)) AND i.indisprimary
             ORDER BY array_position(i.indkey::int2[], a.attnum)"
        } else {
            "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk"
        };
        self.query_map(sql, [table], |r| r.get(0))
    }

    /// After rows were inserted with their ids: each identity column's sequence set past the
    /// highest id, so the next row made gets a new one (PostgreSQL; SQLite takes the highest
    /// rowid plus one by itself).
    pub fn reset_identities(&self) -> DbResult<()> {
        if !self.is_postgres() {
            return Ok(());
        }
        let identities: Vec<(String, String)> = self.query_map(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (table, column) in identities {
            // Names from the catalog, quoted as identifiers.
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence(?1, ?2), COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, FALSE)",
                c = quote(&column),
                t = quote(&table)
            );
            self.query_row(&sql, [quote(&table), column.clone()], |r| r.get::<_, i64>(0))?;
        }
        Ok(())
    }
}

/// An SQL identifier in double quotes (a quote inside doubled).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
