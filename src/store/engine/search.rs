//! Search's engine-specific SQL (see `store::search` for the ranking and when each is used):
//! SQLite's trigram FTS5 index `item_search` (migration 11, kept by triggers), and on
//! PostgreSQL the pg_trgm GIN indexes that make the shared LIKE scan an index search.

use super::{params, Db, DbResult};

/// Exact key, on the index (the key's own unique index, then the row by its rowid).
const EXACT: &str = "SELECT s.rowid, s.key, s.title FROM items i JOIN item_search s ON s.rowid = i.id WHERE i.key = upper(?1)";

/// Key, title or owner containing the text: the trigram phrase (the tokenizer folds every
/// alphabet's case), each candidate checked as the scan checks it (the folded text LIKE the
/// folded pattern, `?2`), in id order, stopping at the page.
const CONTAINS: &str = "SELECT rowid, key, title FROM item_search WHERE item_search MATCH ?1
    AND (keel_fold(title) LIKE ?2 ESCAPE '\\' OR keel_fold(key) LIKE ?2 ESCAPE '\\' OR keel_fold(owner) LIKE ?2 ESCAPE '\\')
    ORDER BY rowid LIMIT ?3";

/// Text shorter than a trigram: the index's own stored rows (FTS5's content table, a plain
/// table) whose ids lie within `?3` of the first, in id order, stopping at the page.
const SHORT: &str = "SELECT id, c0, c1 FROM item_search_content
    WHERE id <= (SELECT MIN(id) FROM item_search_content) + ?3
      AND (keel_fold(c1) LIKE ?1 ESCAPE '\\' OR keel_fold(c0) LIKE ?1 ESCAPE '\\' OR keel_fold(c2) LIKE ?1 ESCAPE '\\')
    ORDER BY id LIMIT ?2";

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

use crate::domain::search::Hit;

impl Db {
    /// Candidates through the FTS5 index, in id order: the exact key, then up to `limit` items
    /// containing the text (`store::search` ranks them).
    pub fn search_indexed(&self, q: &str, limit: i64) -> DbResult<Vec<Hit>> {
        let e = crate::store::search::like_escaped(&crate::domain::search::fold(q));
        let mut hits = Vec::new();
        let take = |hits: &mut Vec<Hit>, stmt: &mut super::Stmt<'_>, p: &[&dyn super::ToParam]| -> DbResult<()> {
            let mut rows = stmt.query(p)?;
            while let Some(r) = rows.next()? {
                hits.push((r.get(0)?, r.get(1)?, r.get(2)?));
            }
            Ok(())
        };
        take(&mut hits, &mut self.prepare_cached(EXACT)?, params![q])?;
        if q.chars().count() < 3 {
            take(&mut hits, &mut self.prepare_cached(SHORT)?, params![format!("%{e}%"), limit, crate::store::search::SHORT_SCAN])?;
        } else {
            let phrase = crate::store::search::fts_phrase(q);
            take(&mut hits, &mut self.prepare_cached(CONTAINS)?, params![phrase, format!("%{e}%"), limit])?;
        }
        Ok(hits)
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

    /// Whether the server has every one of search's trigram indexes, built and valid.
    pub fn trigram_indexes(&self) -> DbResult<bool> {
        let valid: i64 = self.query_row(
            "SELECT COUNT(*) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             WHERE x.indisvalid AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE '%\\_trgm'",
            [],
            |r| r.get(0),
        )?;
        Ok(valid as usize == TRIGRAM_INDEXES.lines().filter(|l| l.starts_with("CREATE INDEX")).count())
    }

    /// Whether this server's `lower()` folds letters beyond ASCII as keel's own fold does (a
    /// database in a UTF-8 locale does; one in the C locale folds ASCII alone).
    pub fn lower_folds_every_alphabet(&self) -> DbResult<bool> {
        let sample = "ÉЖΣÄ";
        let lowered: String = self.query_row("SELECT lower(?1)", [sample], |r| r.get(0))?;
        Ok(lowered == crate::domain::search::fold(sample))
    }

    /// Search's trigram indexes built beside the writers (`keel migrate` on a server): each
    /// `CREATE INDEX CONCURRENTLY` on its own, outside any transaction, so colleagues' edits go on
    /// while it runs. An index an interrupted build left invalid is dropped and built again.
    /// Errors are the server's (not the owner, pg_trgm not available), for the caller to say.
    pub fn build_trigram_indexes_concurrently(&self, mut built: impl FnMut(&str)) -> DbResult<()> {
        self.batch("CREATE EXTENSION IF NOT EXISTS pg_trgm")?;
        let invalid: Vec<String> = self.query_map(
            "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             WHERE NOT x.indisvalid AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE '%\\_trgm'",
            [],
            |r| r.get(0),
        )?;
        for name in invalid {
            self.batch(&format!("DROP INDEX CONCURRENTLY IF EXISTS {}", super::quote(&name)))?;
        }
        for statement in TRIGRAM_INDEXES.lines().filter(|l| l.starts_with("CREATE INDEX IF NOT EXISTS ")) {
            let name = statement.split_whitespace().nth(5).unwrap_or_default();
            self.batch(&statement.replacen("CREATE INDEX", "CREATE INDEX CONCURRENTLY", 1))?;
            built(name);
        }
        Ok(())
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
