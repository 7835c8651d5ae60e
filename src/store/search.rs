//! Search (the app's `/`): items whose key, title or owner's name contains the text,
//! case-insensitively, ranked. Retired items are not found, as before the index existed (the
//! retired filter lists them).
//!
//! Ranking, the same on every path (`domain::search::rank`): the page holds the exact key and
//! the first matches in the order the items were made (their id); within it, the exact key
//! first (`m-12` finds M-12), then titles that begin with the text, then the rest. bm25 was not
//! chosen, nor a prefix tier over the whole file: over trigrams bm25 mostly rewards short titles,
//! and either one costs work for every match, which a first page over a million items cannot
//! afford (a word in 100,000 titles); the page (500 in the app) is taken in id order and stops.
//!
//! Three ways to answer, chosen by what the database has:
//! - a file at schema 11 or later: the trigram FTS5 index `item_search` (engine/search.rs): one
//!   index query in id order that stops at the page, every candidate checked with the same LIKE
//!   as the scan, so both give the same items;
//! - a file that has not run `keel migrate` yet, and a server: the LIKE scan below (on a server
//!   the pg_trgm GIN indexes on `lower(...)` make it an index search where the extension exists);
//! - text of one or two characters on the index: trigrams need three, so the exact key plus a
//!   scan of the items made first (ids within [`SHORT_SCAN`]), which stays fast however large
//!   the file; on a file that large, two letters find what is among those.

use super::engine::{params, Db, DbResult, Tx};
use super::outline::OutlineItem;
use super::{Result, Store};

/// The schema version whose migration makes the index (both engines).
pub const INDEX_VERSION: i64 = 11;
/// Text shorter than a trigram looks through the items made first, within this many ids.
pub const SHORT_SCAN: i64 = 20_000;
/// Rows the backfill writes per step (its progress is reported between steps).
const BACKFILL_STEP: i64 = 50_000;

/// The LIKE pattern for "contains `text`", with LIKE's own characters escaped.
pub(crate) fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `text` as one FTS5 phrase: in double quotes (a quote inside doubled), so that nothing the
/// user types — `OR`, `NEAR(`, `*`, `^`, `:`, `-`, parentheses — is read as query syntax.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The scan: the same candidates as the index, over the tables themselves — the exact key, and
/// the first `?3` items (in id order) whose key, title or owner's name contains the text, each
/// case-folded (`{fold}`: [`Db::fold_function`]) as the pattern `?2` was. One SQL for both engines.
const SCAN: &str = "SELECT i.id, i.key, x.title
        FROM (SELECT id, title, owner_id FROM objectives UNION ALL SELECT id, title, owner_id FROM key_results
              UNION ALL SELECT id, title, owner_id FROM kpis UNION ALL SELECT id, title, owner_id FROM nodes
              UNION ALL SELECT id, title, owner_id FROM measures) x
        JOIN items i ON i.id = x.id AND i.retired_at IS NULL
        LEFT JOIN people p ON p.id = x.owner_id
        WHERE i.key = upper(?1) OR {fold}(x.title) LIKE {fold}(?2) ESCAPE '\\' OR {fold}(i.key) LIKE {fold}(?2) ESCAPE '\\'
           OR {fold}(p.name) LIKE {fold}(?2) ESCAPE '\\'
        ORDER BY i.key <> upper(?1), i.id LIMIT ?3";

impl Store {
    /// Items whose key, title or owner's name contains `text` (case-insensitive), ranked: the
    /// exact key, then titles that begin with it, then the rest, each in the order made.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<OutlineItem>> {
        let q = text.trim();
        // No key, title or name holds a control character (stored text is checked): nothing
        // matches, and such text never reaches a query.
        if q.is_empty() || limit == 0 || q.chars().any(char::is_control) {
            return Ok(vec![]);
        }
        let c = self.conn();
        let found = if self.search_indexed()? { c.search_indexed(q, limit as i64)? } else { scan(c, q, limit as i64)? };
        let hits = crate::domain::search::rank(q, found, limit);
        Ok(hits.into_iter().map(|(_, key, title)| OutlineItem { key, title, has_children: false, ipo: None }).collect())
    }

    /// Whether search goes through the FTS5 index: a file whose schema has it.
    fn search_indexed(&self) -> Result<bool> {
        let c = self.conn();
        Ok(!c.is_postgres() && c.schema_version()? >= INDEX_VERSION)
    }

    /// On a server whose trigram indexes are missing (its items were more than opening builds
    /// them for, or an earlier build was interrupted): build them beside the writers, naming
    /// each as it is done (`keel migrate`). False when there was nothing to build.
    pub fn build_server_search_indexes(&self, built: impl FnMut(&str)) -> Result<bool> {
        let c = self.conn();
        if !c.is_postgres() || c.trigram_indexes()? {
            return Ok(false);
        }
        c.build_trigram_indexes_concurrently(built)?;
        Ok(true)
    }

    /// Whether search has an index to go through, in words when it has not (for `keel migrate`
    /// and `keel check --deep`): a file before `keel migrate`, or a server without pg_trgm.
    pub fn search_note(&self) -> Result<Option<String>> {
        let c = self.conn();
        if c.schema_version()? < INDEX_VERSION {
            return Ok(Some("search scans every title until `keel migrate` adds its index".into()));
        }
        if !c.is_postgres() {
            return Ok(None);
        }
        let mut notes = Vec::new();
        if !c.trigram_indexes()? {
            notes.push(
                "search scans every title on this server: its trigram indexes are not built. The database's owner runs \
                 `keel migrate`, which builds them without holding off anyone's edits (pg_trgm must be available: \
                 CREATE EXTENSION pg_trgm)",
            );
        }
        if !c.lower_folds_every_alphabet()? {
            notes.push(
                "search folds the case of ASCII letters only on this server: its database's locale (LC_CTYPE) is not a \
                 UTF-8 one, so `école` does not find `École` here as it does in a file",
            );
        }
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// Items the index holds that it should not, or lacks, or holds with other words: empty
    /// when the index agrees with a recompute from the tables (`keel check --deep`, tests).
    pub fn search_index_drift(&self) -> Result<Vec<String>> {
        if !self.search_indexed()? {
            return Ok(vec![]);
        }
        Ok(self.conn().search_drift()?)
    }
}

fn scan(c: &Db, q: &str, limit: i64) -> DbResult<Vec<crate::domain::search::Hit>> {
    let e = like_escaped(q);
    let mut stmt = c.prepare_cached(&SCAN.replace("{fold}", c.fold_function()))?;
    // One more than the page: the exact key may come on top of `limit` others, as on the index.
    let rows = stmt.query_map(params![q, format!("%{e}%"), limit + 1], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// After migration `version` ran its SQL: the work that is not SQL alone. At [`INDEX_VERSION`],
/// a file's index filled from the tables (`progress` hears rows done of all), and on a server
/// pg_trgm with its GIN indexes where the server allows it.
pub(crate) fn migrated(tx: &Tx, version: i64, progress: &mut dyn FnMut(u64, u64)) -> DbResult<()> {
    if version != INDEX_VERSION {
        return Ok(());
    }
    if tx.is_postgres() {
        // A GIN build holds off every writer while it runs: on a large database it is left to
        // `keel migrate`, which builds the indexes beside the writers (search scans meanwhile).
        let items: i64 = tx.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?;
        if items <= super::migrations::MIGRATE_ON_OPEN_MAX {
            tx.try_trigram_indexes()?;
        }
        return Ok(());
    }
    let top: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0))?;
    let mut from = 0;
    while from < top {
        let to = (from + BACKFILL_STEP).min(top);
        tx.search_fill(from, to)?;
        progress(to as u64, top as u64);
        from = to;
    }
    Ok(())
}

/// A bulk load (a plan import, `keel copy` into a file) begins: the index's insert triggers wait, inside this
/// transaction only. Returns the highest item id before the load, for [`bulk_end`].
pub(crate) fn bulk_begin(tx: &Tx) -> DbResult<Option<i64>> {
    if tx.is_postgres() || tx.schema_version()? < INDEX_VERSION {
        return Ok(None);
    }
    tx.execute("INSERT INTO search_pause (one) VALUES (1) ON CONFLICT DO NOTHING", [])?;
    Ok(Some(tx.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0))?))
}

/// The bulk load is done: the items it made indexed in one statement, the triggers on again.
pub(crate) fn bulk_end(tx: &Tx, before: Option<i64>) -> DbResult<()> {
    let Some(before) = before else { return Ok(()) };
    tx.execute("DELETE FROM search_pause", [])?;
    let top: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0))?;
    tx.search_fill(before, top)
}
