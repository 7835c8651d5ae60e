//! The audit log: one append-only row per change, each hash-chained to the one before, so that a
//! row edited or removed outside keel (triggers refuse it inside SQLite) shows up on verify.

use super::Result;
use crate::store::engine::{params, Db, DbResult, OptionalExtension};
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change as written to the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub item_key: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    #[serde(flatten)]
    pub entry: Entry,
}

fn hash_row(prev: &str, seq: i64, at: &str, actor: &str, e: &Entry) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so that no two different rows can encode the same bytes.
    let mut put = |s: Option<&str>| match s {
        Some(s) => {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        None => h.update(u64::MAX.to_le_bytes()),
    };
    put(Some(prev));
    put(Some(&seq.to_string()));
    put(Some(at));
    put(Some(actor));
    put(Some(&e.item_key));
    put(Some(&e.field));
    put(e.old_value.as_deref());
    put(e.new_value.as_deref());
    put(e.reason.as_deref());
    hex(&h.finalize())
}

/// Lower-case hex, without a `format!` per byte (the chain hashes every row of an import).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Append entries inside the caller's transaction.
pub fn append(conn: &Db, at: &str, actor: &str, entries: &[Entry]) -> Result<()> {
    let last: Option<(i64, String)> =
        conn.query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_string()));
    // An import appends a row per item it creates: batched, so a server takes them in a few trips.
    let mut rows =
        conn.row_batch("INSERT INTO audit (seq, at, actor, item_key, field, old_value, new_value, reason, prev_hash, hash)", 10, "");
    for e in entries {
        seq += 1;
        let hash = hash_row(&prev, seq, at, actor, e);
        rows.push(params![seq, at, actor, e.item_key, e.field, e.old_value, e.new_value, e.reason, prev, hash])?;
        prev = hash;
    }
    Ok(rows.finish()?)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    pub rows: i64,
    /// The first row whose hash or link does not match, with what is wrong.
    pub first_broken: Option<(i64, String)>,
    /// The hash of the last row when the chain is whole. Kept somewhere the file's writers cannot
    /// reach, it shows a chain rewritten from some row to the end (which verifies on its own).
    pub last_hash: Option<String>,
    /// What else is wrong around a chain that may itself be whole (see [`around_the_chain`]).
    pub problems: Vec<String>,
}

/// Walk the whole chain.
pub fn verify(conn: &Db) -> Result<Verification> {
    let mut stmt =
        conn.prepare("SELECT seq, at, actor, item_key, field, old_value, new_value, reason, prev_hash, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some(r) = rows.next()? {
        count += 1;
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let e = Entry { item_key: r.get(3)?, field: r.get(4)?, old_value: r.get(5)?, new_value: r.get(6)?, reason: r.get(7)? };
        let prev_hash: String = r.get(8)?;
        let hash: String = r.get(9)?;
        let problem = if seq != expected_seq {
            Some(format!("row {expected_seq} is missing (next row is {seq})"))
        } else if prev_hash != prev {
            Some("its link to the previous row does not match".to_string())
        } else if hash_row(&prev, seq, &at, &actor, &e) != hash {
            Some("its content does not match its hash (changed after it was written)".to_string())
        } else {
            None
        };
        if let Some(p) = problem {
            return Ok(Verification { rows: count, first_broken: Some((seq, p)), last_hash: None, problems: around_the_chain(conn)? });
        }
        prev = hash;
        expected_seq += 1;
    }
    Ok(Verification { rows: count, first_broken: None, last_hash: (count > 0).then_some(prev), problems: around_the_chain(conn)? })
}

/// The row whose hash is `hash`, if the chain has one (for `keel audit verify --expect`).
pub fn row_with_hash(conn: &Db, hash: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT seq FROM audit WHERE hash = ?1", [hash.trim().to_ascii_lowercase()], |r| r.get(0)).optional()?)
}

/// The value fields whose every change the write path logs as `FIELD@PERIOD` with the new value
/// (or in a row entry, see [`ROW_ENTRY`]).
const LOGGED_VALUE_FIELDS: &[&str] = &crate::domain::ValueField::NAMES;

/// The audit field (before `@PERIOD`) of several numbers of one value row changed together.
pub const ROW_ENTRY: &str = "values";

/// Checks a whole chain cannot make by itself, each against what the write path guarantees:
/// - the append-only triggers are there (dropped, they let rows be changed or removed);
/// - nothing in the data is newer than the last row: a value changed after it was first written,
///   and every escalation time, are written in the same transaction as their audit rows, so a
///   newer one means rows were cut from the end;
/// - the last logged change of each value is the value there now: a row added to the end that
///   claims a change which did not happen, or a value changed outside keel, disagrees.
pub fn around_the_chain(conn: &Db) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for (name, verb) in [("audit_no_update", "changed"), ("audit_no_delete", "removed")] {
        if !conn.refusing_trigger("audit", name)? {
            problems.push(format!(
                "the append-only trigger {name} is missing or altered: audit rows could be {verb} without SQLite refusing it"
            ));
        }
    }
    let last_at: Option<String> = conn.query_row("SELECT at FROM audit ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).optional()?;
    let newest: Option<(String, String)> = conn
        .query_row(
            "SELECT t, what FROM (
                 SELECT v.updated_at AS t, i.key || ' ' || v.period || ' values' AS what
                   FROM item_values v JOIN items i ON i.id = v.item_id WHERE v.version > 1
                 UNION ALL SELECT opened_at, 'escalation ' || id || ' opened' FROM escalations
                 UNION ALL SELECT tier_changed_at, 'escalation ' || id || ' changed tier' FROM escalations
                 UNION ALL SELECT acknowledged_at, 'escalation ' || id || ' acknowledged' FROM escalations WHERE acknowledged_at IS NOT NULL
                 UNION ALL SELECT closed_at, 'escalation ' || id || ' closed' FROM escalations WHERE closed_at IS NOT NULL
             ) AS changes ORDER BY t DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((t, what)) = newest {
        if last_at.as_ref().is_none_or(|last| &t > last) {
            problems.push(format!(
                "the data was changed at {t} ({what}), after the log's last row ({}): rows were cut from the end of the log",
                last_at.as_deref().unwrap_or("no rows")
            ));
        }
    }
    for field in LOGGED_VALUE_FIELDS {
        // A field's last change is its own `FIELD@PERIOD` entry or a row entry of the values
        // import (`values@PERIOD`, `planned=1;actual=2`) that names it.
        let row = ROW_ENTRY;
        let text = "(';' || a.new_value || ';')";
        let start = format!("{} + {}", conn.position_of(&format!("';{field}='"), text), field.len() + 2);
        let rest = format!("substr({text}, {start})");
        let logged = format!(
            "CASE WHEN a.field LIKE '{row}@%' THEN NULLIF(substr({rest}, 1, {} - 1), '')
                  ELSE a.new_value END",
            conn.position_of("';'", &rest)
        );
        let sql = format!(
            "SELECT a.seq, a.item_key, last.period, {logged}, CAST(v.{field} AS TEXT)
               FROM audit a
               JOIN (SELECT item_key, substr(field, {} + 1) AS period, MAX(seq) AS seq FROM audit
                      WHERE field LIKE '{field}@%' OR (field LIKE '{row}@%' AND ';' || new_value LIKE '%;{field}=%')
                      GROUP BY item_key, period) last
                 ON last.seq = a.seq
               LEFT JOIN items i ON i.key = a.item_key
               LEFT JOIN item_values v ON v.item_id = i.id AND v.period = last.period
              WHERE {logged} IS DISTINCT FROM CAST(v.{field} AS TEXT)
              ORDER BY a.seq LIMIT 3",
            conn.position_of("'@'", "field")
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        for row in rows {
            let (seq, key, period, logged, now) = row?;
            problems.push(format!(
                "row {seq} logs {key} {field}@{period} = {} as its last change, but the file holds {}: a row was added, or the value changed, outside keel",
                logged.as_deref().unwrap_or("(empty)"),
                now.as_deref().unwrap_or("(empty)")
            ));
        }
    }
    Ok(problems)
}

/// Audit rows, newest last, optionally for one item and/or since a date.
pub fn list(conn: &Db, item_key: Option<&str>, since: Option<&str>, limit: Option<i64>) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, item_key, field, old_value, new_value, reason FROM (
            SELECT * FROM audit
            WHERE (CAST(?1 AS TEXT) IS NULL OR item_key = ?1) AND (CAST(?2 AS TEXT) IS NULL OR at >= ?2)
            ORDER BY seq DESC LIMIT ?3
         ) AS newest ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![item_key, since, limit.unwrap_or(i64::MAX)], |r| {
        Ok(Row {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            entry: Entry { item_key: r.get(3)?, field: r.get(4)?, old_value: r.get(5)?, new_value: r.get(6)?, reason: r.get(7)? },
        })
    })?;
    Ok(rows.collect::<DbResult<_>>()?)
}

/// Who last changed one of an item's fields that `belongs` accepts, and when (newest first; only
/// read when an edit conflicts, so walking the item's rows is fine).
pub fn last_change_where(conn: &Db, item_key: &str, belongs: &dyn Fn(&str) -> bool) -> Result<Option<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT actor, at, field FROM audit WHERE item_key = ?1 ORDER BY seq DESC")?;
    let mut rows = stmt.query([item_key])?;
    while let Some(r) = rows.next()? {
        let field: String = r.get(2)?;
        if belongs(&field) {
            return Ok(Some((r.get(0)?, r.get(1)?)));
        }
    }
    Ok(None)
}

/// Who last changed an item's field (or any field when `field` is None), and when.
pub fn last_change(conn: &Db, item_key: &str, field: Option<&str>) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT actor, at FROM audit WHERE item_key = ?1 AND (CAST(?2 AS TEXT) IS NULL OR field = ?2) ORDER BY seq DESC LIMIT 1",
            params![item_key, field],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}
