//! `keel report --as-of PERIOD`: the file as it stood when a past period ended, rebuilt in a
//! scratch copy (the file itself is only read). Every change the audit log records after that
//! instant is undone, newest first, from the old values the log keeps; values a plan brought in
//! count from when the plan says they were reported. Then the write path's own rules run on the
//! result with the period's last day as today — money roll-ups, variance and escalations — so
//! the report that follows is computed exactly as every report is, by the one set of rules.

use super::audit::Entry;
use super::edit::Ctx;
use super::fields::{self, FieldType};
use super::{rules, Clock, Result, Store, StoreError};
use crate::domain::{ItemKey, ItemKind, Period};
use crate::store::engine::{params, DbResult, OptionalExtension, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A throw-away copy of the file rewound to the end of a period; removed when dropped.
pub struct AsOf {
    pub store: Store,
    pub period: Period,
    /// Changes at or after this instant (UTC, RFC 3339) were undone.
    pub cutoff: String,
    path: PathBuf,
}

impl Drop for AsOf {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

impl AsOf {
    /// How the report says what it shows, at its top.
    pub fn describe(&self) -> String {
        format!(
            "the end of {} ({}): values, statuses and escalations as they stood then, rebuilt from the audit log \
             (what changed from {} on is undone)",
            self.period,
            self.period.end().format("%A %Y-%m-%d"),
            self.cutoff
        )
    }
}

impl Store {
    /// A scratch copy of this file as it stood at the end of `period`, which must have ended.
    pub fn as_of(&self, period: Period) -> Result<AsOf> {
        let today = self.clock().today;
        if let Some(why) = crate::domain::period::as_of_refusal(period, today) {
            return Err(StoreError::Invalid { key: "--as-of".into(), field: period.to_string(), why });
        }
        let cutoff = end_instant(period.end(), self.timezone());
        let path = scratch_path(self.path());
        self.backup_to(&path)?;
        let mut store = Store::open(&path).inspect_err(|_| remove_all(&path))?;
        store.demo = self.demo;
        store.actor = self.actor.clone();
        store.set_clock(period.end());
        let rewound = AsOf { store, period, cutoff, path };
        let clock = rewound.store.clock();
        let actor = rewound.store.actor.clone();
        let cutoff = rewound.cutoff.clone();
        rewound.store.conn().write(|tx| {
            let touched = rewind(tx, &cutoff, period.end())?;
            // The derived state as the rules make it from what is left: money and the funnel
            // from scratch, and the escalation of every item the rewind touched (all of them
            // when a threshold changed since).
            let mut ctx = Ctx::new(tx, &actor, clock, Some("as of".into()), true);
            if touched.settings {
                rules::rebuild_all(&mut ctx)?;
            } else {
                rules::rebuild_money(&mut ctx)?;
                ctx.touched_variance.extend(touched.items);
            }
            // A person's resolution stood until the numbers next moved (the write path reopens
            // only then): leave such an item's escalation closed, as it was.
            for id in resolved_by_hand(tx)? {
                ctx.touched_variance.remove(&id);
            }
            rules::run(&mut ctx)?;
            // The kept tables as the rewound data makes them (the counts follow the escalations
            // by trigger; a rebuild costs little beside the rewind).
            super::kept::rebuild(tx)?;
            Ok::<_, StoreError>(())
        })?;
        Ok(rewound)
    }
}

/// The first instant after `day` ends in the organisation's time zone, as the audit log writes
/// instants (UTC, whole seconds).
fn end_instant(day: NaiveDate, zone: chrono_tz::Tz) -> String {
    let next = (day + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight exists");
    let at = next.and_local_timezone(zone).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_else(|| next.and_utc());
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn scratch_path(db: &Path) -> PathBuf {
    let name = format!("keel-as-of-{}-{}", std::process::id(), db.file_name().and_then(|n| n.to_str()).unwrap_or("db"));
    let p = std::env::temp_dir().join(name);
    remove_all(&p);
    p
}

fn remove_all(p: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
}

/// Is an RFC 3339 instant at or after the cutoff? (Plans may write other offsets than `Z`.)
fn after(at: &str, cutoff: &str) -> bool {
    match (DateTime::parse_from_rfc3339(at), DateTime::parse_from_rfc3339(cutoff)) {
        (Ok(a), Ok(c)) => a >= c,
        _ => at >= cutoff,
    }
}

/// What the rewind touched, for the rules to settle.
struct Touched {
    /// Items whose values, fields or escalations were put back.
    items: BTreeSet<i64>,
    /// A setting was put back (thresholds judge every item).
    settings: bool,
}

/// Items whose newest escalation a person resolved, with none open.
fn resolved_by_hand(tx: &Tx) -> Result<Vec<i64>> {
    let mut stmt = tx.prepare(
        "SELECT e.item_id FROM escalations e
          WHERE e.state = 'closed' AND e.closed_by <> 'keel'
            AND e.opened_at = (SELECT MAX(x.opened_at) FROM escalations x WHERE x.item_id = e.item_id)
            AND NOT EXISTS (SELECT 1 FROM escalations o WHERE o.item_id = e.item_id AND o.state = 'open')",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

/// Undo in the scratch copy everything logged at or after `cutoff`.
fn rewind(tx: &Tx, cutoff: &str, last_day: NaiveDate) -> Result<Touched> {
    let later: Vec<(String, Entry)> = {
        let mut stmt = tx.prepare("SELECT at, item_key, field, old_value, new_value FROM audit WHERE at >= ?1 ORDER BY seq DESC")?;
        let rows = stmt.query_map([cutoff], |r| {
            Ok((r.get(0)?, Entry { item_key: r.get(1)?, field: r.get(2)?, old_value: r.get(3)?, new_value: r.get(4)?, reason: None }))
        })?;
        rows.collect::<DbResult<_>>()?
    };
    let mut touched_rows: BTreeSet<(i64, String)> = BTreeSet::new();
    let mut copied_items: Vec<i64> = Vec::new();
    let mut touched = Touched { items: BTreeSet::new(), settings: false };
    for (_, e) in &later {
        if e.item_key == "settings" {
            touched.settings = true;
            match &e.old_value {
                Some(v) => tx.execute("UPDATE settings SET value = ?1 WHERE name = ?2", params![v, e.field])?,
                None => tx.execute("DELETE FROM settings WHERE name = ?1", [&e.field])?,
            };
            continue;
        }
        let Ok(key) = ItemKey::parse(&e.item_key) else { continue };
        let Some(id) = tx.query_opt("SELECT id FROM items WHERE key = ?1", [key.to_string()], |r| r.get::<_, i64>(0))? else {
            continue;
        };
        touched.items.insert(id);
        if let Some((names, period)) = e.field.split_once('@') {
            undo_cells(tx, id, names, period, e.old_value.as_deref())?;
            touched_rows.insert((id, period.to_string()));
        } else if e.field == "created" {
            // A plan's items count from the start: its values carry their own history. Items
            // made in keel since (a copied cycle's) did not exist yet.
            if e.new_value.as_deref() != Some("imported") {
                copied_items.push(id);
            }
        } else {
            undo_field(tx, key.kind, id, e)?;
        }
    }
    touched.items.extend(fix_value_rows(tx, cutoff, last_day, &touched_rows)?);
    remove_items(tx, &copied_items)?;
    touched.items.extend(forget_later_events(tx, cutoff)?);
    for id in &copied_items {
        touched.items.remove(id);
    }
    // The log itself as it was: this copy's audit rows after the cutoff go too (the copy is
    // private and thrown away; the append-only triggers stay on the file itself).
    tx.execute("DROP TRIGGER IF EXISTS audit_no_delete", [])?;
    tx.execute("DELETE FROM audit WHERE at >= ?1", [cutoff])?;
    Ok(touched)
}

/// Put back one value row's cells as the log's old value gives them: one field's (`actual@P`),
/// or several of a row entry of the values import (`values@P`, `planned=1;actual=`).
fn undo_cells(tx: &Tx, id: i64, names: &str, period: &str, old: Option<&str>) -> Result<()> {
    let olds: Vec<(&str, Option<&str>)> =
        if names == super::audit::ROW_ENTRY { super::value_edit::row_cells(old.unwrap_or("")) } else { vec![(names, old)] };
    for (name, old) in olds {
        if !fields::is_value_field(name) {
            continue;
        }
        let sql = format!("UPDATE item_values SET {name} = ?1 WHERE item_id = ?2 AND period = ?3");
        tx.prepare_cached(&sql)?.execute(params![old, id, period])?;
    }
    Ok(())
}

/// Measure gate columns the write path logs by name, and what they hold.
const GATE_TEXT: &[&str] = &["stage", "side_state", "side_reason", "pending_stage"];
const GATE_PEOPLE: &[&str] = &["requested_by", "sponsor_approved_by", "controller_signed_by", "validated_by"];

fn id_of(tx: &Tx, key: Option<&str>) -> Result<Option<i64>> {
    match key {
        Some(k) => Ok(tx.query_opt("SELECT id FROM items WHERE key = ?1", [k], |r| r.get(0))?),
        None => Ok(None),
    }
}

/// Undo one logged change of an item's own fields, milestones, links or dependencies.
fn undo_field(tx: &Tx, kind: ItemKind, id: i64, e: &Entry) -> Result<()> {
    let old = e.old_value.as_deref();
    let field = e.field.as_str();
    if kind == ItemKind::Measure && GATE_TEXT.contains(&field) {
        // The plan's own stage ("decided imported …") has nothing before it.
        if field == "stage" && old.is_none() {
            return Ok(());
        }
        let stored = old.map(|o| if field == "side_reason" { o.to_string() } else { o.to_ascii_lowercase().replace(' ', "-") });
        let stored = if field == "stage" { stored.or(Some("defined".into())) } else { stored };
        tx.execute(&format!("UPDATE measures SET {field} = ?1 WHERE id = ?2"), params![stored, id])?;
        return Ok(());
    }
    if kind == ItemKind::Measure && GATE_PEOPLE.contains(&field) {
        tx.execute(&format!("UPDATE measures SET {field} = ?1 WHERE id = ?2"), params![id_of(tx, old)?, id])?;
        return Ok(());
    }
    match field {
        "milestone" => {
            // Added after the cutoff: "TITLE due DATE".
            if let Some((title, due)) = e.new_value.as_deref().and_then(|n| n.rsplit_once(" due ")) {
                tx.execute("DELETE FROM milestones WHERE measure_id = ?1 AND title = ?2 AND due_date = ?3", params![id, title, due])?;
            }
        }
        f if f.starts_with("milestone '") && f.ends_with('\'') => {
            let title = &f["milestone '".len()..f.len() - 1];
            let done = old.and_then(|o| o.strip_prefix("done "));
            tx.execute("UPDATE milestones SET done_date = ?1 WHERE measure_id = ?2 AND title = ?3", params![done, id, title])?;
        }
        "link" => {
            if let Some(to) = id_of(tx, e.new_value.as_deref())? {
                tx.execute("DELETE FROM links WHERE from_id = ?1 AND to_id = ?2", params![id, to])?;
            }
            if let Some(to) = id_of(tx, old)? {
                tx.execute("INSERT INTO links (from_id, to_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, to])?;
            }
        }
        "depends_on" => {
            if let Some(on) = id_of(tx, e.new_value.as_deref())? {
                tx.execute("DELETE FROM dependencies WHERE measure_id = ?1 AND depends_on_id = ?2", params![id, on])?;
            }
            if let Some(on) = id_of(tx, old)? {
                tx.execute("INSERT INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, on])?;
            }
        }
        _ => {
            let Some(f) = fields::find(kind, field) else { return Ok(()) };
            let sql = format!("UPDATE {} SET {} = ?1 WHERE id = ?2", fields::table_of(kind), f.column);
            match f.ty {
                FieldType::Person | FieldType::Unit | FieldType::Kra | FieldType::Objective | FieldType::Cycle | FieldType::Node(_) => {
                    tx.execute(&sql, params![id_of(tx, old)?, id])?
                }
                FieldType::Flag => tx.execute(&sql, params![old.map(|o| i64::from(o == "true")), id])?,
                FieldType::Text | FieldType::Number | FieldType::Choice(_) | FieldType::Date => tx.execute(&sql, params![old, id])?,
            };
        }
    }
    Ok(())
}

/// After the cells are put back: rows left with nothing did not exist yet; values a plan says
/// were reported after the cutoff were not known yet; a row changed since counts as updated
/// when its last change before the cutoff was logged (else on the period's last day).
fn fix_value_rows(tx: &Tx, cutoff: &str, last_day: NaiveDate, touched: &BTreeSet<(i64, String)>) -> Result<BTreeSet<i64>> {
    let mut removed = BTreeSet::new();
    tx.execute(
        "DELETE FROM item_values WHERE baseline IS NULL AND planned IS NULL AND forecast IS NULL AND actual IS NULL
             AND comment IS NULL AND confidence IS NULL",
        [],
    )?;
    let reported: Vec<(i64, String, String)> = {
        let mut stmt = tx.prepare("SELECT item_id, period, reported_at FROM item_values WHERE reported_at IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<DbResult<_>>()?
    };
    for (id, period, _) in reported.into_iter().filter(|(_, _, at)| after(at, cutoff)) {
        tx.prepare_cached("DELETE FROM item_values WHERE item_id = ?1 AND period = ?2")?.execute(params![id, period])?;
        removed.insert(id);
    }
    let fallback = Clock::at(last_day).stamp();
    for (id, period) in touched {
        let key: String = tx.query_row("SELECT key FROM items WHERE id = ?1", [id], |r| r.get(0))?;
        let last: Option<String> = tx
            .prepare_cached("SELECT MAX(at) FROM audit WHERE item_key = ?1 AND at < ?2 AND field LIKE ?3")?
            .query_row(params![key, cutoff, format!("%@{period}")], |r| r.get(0))
            .optional()?
            .flatten();
        tx.prepare_cached(
            "UPDATE item_values SET updated_at = ?1 WHERE item_id = ?2 AND period = ?3 AND reported_at IS NULL AND updated_at >= ?4",
        )?
        .execute(params![last.unwrap_or_else(|| fallback.clone()), id, period, cutoff])?;
    }
    Ok(removed)
}

/// Objectives, key results and cycles made in keel after the cutoff (a copied cycle's).
fn remove_items(tx: &Tx, ids: &[i64]) -> Result<()> {
    for &id in ids {
        tx.execute("DELETE FROM links WHERE from_id = ?1 OR to_id = ?1", [id])?;
        tx.execute("DELETE FROM item_values WHERE item_id = ?1", [id])?;
        tx.execute("DELETE FROM kept_stale WHERE item_id = ?1", [id])?;
        tx.execute("DELETE FROM key_results WHERE id = ?1", [id])?;
    }
    for &id in ids {
        tx.execute("DELETE FROM objectives WHERE id = ?1", [id])?;
    }
    for &id in ids {
        tx.execute("DELETE FROM cycles WHERE id = ?1", [id])?;
        tx.execute("DELETE FROM items WHERE id = ?1 AND kind IN ('key-result', 'objective', 'cycle')", [id])?;
    }
    Ok(())
}

/// Decisions, meetings, gate events and escalations after the cutoff did not happen yet; an
/// escalation closed or triaged since is open and untriaged again. The rules then settle each
/// escalation's tier from the values that are left.
fn forget_later_events(tx: &Tx, cutoff: &str) -> Result<BTreeSet<i64>> {
    let items: BTreeSet<i64> = {
        let mut stmt = tx.prepare(
            "SELECT item_id FROM escalations WHERE opened_at >= ?1 OR closed_at >= ?1 OR tier_changed_at >= ?1 OR acknowledged_at >= ?1
             UNION SELECT e.item_id FROM escalation_events v JOIN escalations e ON e.id = v.escalation_id WHERE v.at >= ?1",
        )?;
        let rows = stmt.query_map([cutoff], |r| r.get(0))?;
        rows.collect::<DbResult<_>>()?
    };
    tx.execute("DELETE FROM decisions WHERE at >= ?1", [cutoff])?;
    tx.execute("DELETE FROM meetings WHERE started_at >= ?1", [cutoff])?;
    tx.execute("UPDATE meetings SET ended_at = NULL WHERE ended_at >= ?1", [cutoff])?;
    tx.execute("DELETE FROM gate_events WHERE at >= ?1", [cutoff])?;
    tx.execute("DELETE FROM escalation_events WHERE escalation_id IN (SELECT id FROM escalations WHERE opened_at >= ?1)", [cutoff])?;
    tx.execute("DELETE FROM escalations WHERE opened_at >= ?1", [cutoff])?;
    // Triage since the cutoff: its events name what was done.
    let undone: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT escalation_id, event FROM escalation_events WHERE at >= ?1 ORDER BY id DESC")?;
        let rows = stmt.query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<DbResult<_>>()?
    };
    for (esc, event) in undone {
        let earlier = |what: &str| -> Result<Option<String>> {
            Ok(tx.query_opt(
                "SELECT detail FROM escalation_events WHERE escalation_id = ?1 AND event = ?2 AND at < ?3 ORDER BY id DESC LIMIT 1",
                params![esc, what, cutoff],
                |r| r.get(0),
            )?)
        };
        match event.as_str() {
            "decided" => tx.execute("UPDATE escalations SET decision = ?1 WHERE id = ?2", params![earlier("decided")?, esc])?,
            "snoozed" => tx.execute("UPDATE escalations SET snoozed_until = NULL WHERE id = ?1", [esc])?,
            _ => 0,
        };
    }
    tx.execute("DELETE FROM escalation_events WHERE at >= ?1", [cutoff])?;
    tx.execute("UPDATE escalations SET acknowledged_by = NULL, acknowledged_at = NULL WHERE acknowledged_at >= ?1", [cutoff])?;
    tx.execute(
        "UPDATE escalations SET state = 'open', closed_at = NULL, closed_by = NULL WHERE state = 'closed' AND closed_at >= ?1",
        [cutoff],
    )?;
    Ok(items)
}
