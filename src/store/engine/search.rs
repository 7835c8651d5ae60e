//! Search's engine-specific SQL (see `store::search` for the ranking and when each is used):
//! SQLite's trigram FTS5 index `item_search` (migration 11, kept by triggers), and on
//! PostgreSQL the pg_trgm GIN indexes that make the shared LIKE scan an index search.

use super::{params, Db, DbResult};

/// Exact key, on the index (the key's own unique index, then the row by its rowid).
const EXACT: &str = "SELECT s.rowid, s.key, s.title FROM items i JOIN item_search s ON s.rowid = i.id WHERE i.key = upper(?1)";

/// Titles that begin with the text: the phrase anchored at the title's first trigram, checked
/// with the same LIKE the scan uses. In id order, so it stops at the page.
const PREFIX: &str = "SELECT rowid, key, title FROM item_search WHERE item_search MATCH ?1 AND lower(title) LIKE lower(?2) ESCAPE '\\'
    ORDER BY rowid LIMIT ?3";

/// Key, title or owner containing the text, checked as the scan checks it.
const CONTAINS: &str = "SELECT rowid, key, title FROM item_search WHERE item_search MATCH ?1
    AND (lower(title) LIKE lower(?2) ESCAPE '\\' OR lower(key) LIKE lower(?2) ESCAPE '\\' OR lower(owner) LIKE lower(?2) ESCAPE '\\')
    ORDER BY rowid LIMIT ?3";

/// Text shorter than a trigram: the first `?4` indexed items looked through.
const SHORT: &str = "SELECT id, key, title FROM (SELECT rowid AS id, key, title, owner FROM item_search ORDER BY rowid LIMIT ?4) s
    WHERE lower(title) LIKE lower(?3) ESCAPE '\\' OR lower(key) LIKE lower(?3) ESCAPE '\\' OR lower(owner) LIKE lower(?3) ESCAPE '\\'
    ORDER BY CASE WHEN key = upper(?1) THEN 0 WHEN lower(title) LIKE lower(?2) ESCAPE '\\' THEN 1 ELSE 2 END, id LIMIT ?5";

/// pg_trgm and a GIN index on every text search looks at, each on `lower(...)` as the scan asks.
const TRIGRAM_INDEXES: &str = "
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS objectives_title_trgm ON objectives USING gin (lower(title) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS key_results_title_trgm ON key_results USING gin (lower(title) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS kpis_title_trgm ON kpis USING gin (lower(title) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS nodes_title_trgm ON nodes USING gin (lower(title) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS measures_title_trgm ON measures USING gin (lower(title) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS items_key_trgm ON items USING gin (lower(key) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS people_name_trgm ON people USING gin (lower(name) gin_trgm_ops);
";

type Hit = (String, String);

impl Db {
    /// Search through the FTS5 index, ranked as `store::search` says: exact key, title prefix,
    /// the rest, each in id order, at most `limit`.
    pub fn search_indexed(&self, q: &str, limit: i64) -> DbResult<Vec<Hit>> {
        let e = crate::store::search::like_escaped(q);
        let mut hits: Vec<(i64, String, String)> = Vec::new();
        let take = |hits: &mut Vec<(i64, String, String)>, stmt: &mut super::Stmt<'_>, p: &[&dyn super::ToParam]| -> DbResult<()> {
            let mut rows = stmt.query(p)?;
            while let Some(r) = rows.next()? {
                hits.push((r.get(0)?, r.get(1)?, r.get(2)?));
            }
            Ok(())
        };
        take(&mut hits, &mut self.prepare_cached(EXACT)?, params![q])?;
        if q.chars().count() < 3 {
            take(
                &mut hits,
                &mut self.prepare_cached(SHORT)?,
                params![q, format!("{e}%"), format!("%{e}%"), crate::store::search::SHORT_SCAN, limit],
            )?;
        } else {
            let phrase = crate::store::search::fts_phrase(q);
            take(&mut hits, &mut self.prepare_cached(PREFIX)?, params![format!("title : ^ {phrase}"), format!("{e}%"), limit])?;
            let more = limit + hits.len() as i64;
            take(&mut hits, &mut self.prepare_cached(CONTAINS)?, params![phrase, format!("%{e}%"), more])?;
        }
        let mut seen = std::collections::HashSet::new();
        Ok(hits.into_iter().filter(|(id, ..)| seen.insert(*id)).take(limit as usize).map(|(_, k, t)| (k, t)).collect())
    }

    /// (Re)index the items with ids in (`after`, `upto`], from the tables, in one statement.
    pub fn search_fill(&self, after: i64, upto: i64) -> DbResult<()> {
        self.execute("DELETE FROM item_search WHERE rowid > ?1 AND rowid <= ?2", params![after, upto])?;
        self.execute(
            "INSERT INTO item_search (rowid, key, title, owner) SELECT id, key, title, owner FROM search_source WHERE id > ?1 AND id <= ?2",
            params![after, upto],
        )?;
        Ok(())
    }

    /// Keys on which the index and a recompute from the tables disagree (at most 20).
    pub fn search_drift(&self) -> DbResult<Vec<String>> {
        self.query_map(
            "SELECT key FROM (SELECT rowid, key, title, owner FROM item_search EXCEPT SELECT id, key, title, owner FROM search_source)
             UNION SELECT key FROM (SELECT id, key, title, owner FROM search_source EXCEPT SELECT rowid, key, title, owner FROM item_search)
             ORDER BY 1 LIMIT 20",
            [],
            |r| r.get(0),
        )
    }

    /// Whether the server has search's trigram indexes.
    pub fn trigram_indexes(&self) -> DbResult<bool> {
        self.query_row("SELECT to_regclass('items_key_trgm') IS NOT NULL", [], |r| r.get(0))
    }

    /// pg_trgm and its indexes, inside a savepoint: a server that refuses the extension (not
    /// installed, or this role may not create it) keeps the LIKE scan, and the migration goes on.
    pub fn try_trigram_indexes(&self) -> DbResult<()> {
        self.batch("SAVEPOINT keel_trgm")?;
        match self.batch(TRIGRAM_INDEXES) {
            Ok(()) => self.batch("RELEASE SAVEPOINT keel_trgm"),
            Err(_) => self.batch("ROLLBACK TO SAVEPOINT keel_trgm; RELEASE SAVEPOINT keel_trgm"),
        }
    }
}
