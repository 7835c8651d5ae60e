//! Imports as change sets: each plan or values import records the span of audit rows it wrote,
//! so `keel log --imports` can list them and `keel revert IMPORT-n` can undo one as one edit —
//! only while nothing it touched has changed since; otherwise it says what changed, and by whom.

use super::edit::Ctx;
use super::{resolve, rules, Result, Store, StoreError};
use crate::domain::{ItemKey, ItemKind, Period};
use crate::store::engine::{params, OptionalExtension, Tx};
use std::collections::{BTreeMap, BTreeSet};

/// One recorded import, as `keel log --imports` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChangeSet {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub file: String,
    pub items: i64,
    pub values: i64,
    pub audit_rows: i64,
    pub reverted_at: Option<String>,
    pub reverted_by: Option<String>,
}

/// How an import is named on the command line: `IMPORT-3` (or just `3`).
pub fn parse_id(s: &str) -> Option<i64> {
    let t = s.trim();
    let n = t.strip_prefix("IMPORT-").or_else(|| t.strip_prefix("import-")).unwrap_or(t);
    n.parse().ok().filter(|n: &i64| *n > 0)
}

/// Start the change set of the import this edit makes; `values` counts values a plan brings
/// (a values import's cells are counted from the audit rows they write).
pub(crate) fn record(ctx: &mut Ctx, kind: &str, file: &str, values: i64) -> Result<()> {
    let first: i64 = ctx.tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit", [], |r| r.get(0))?;
    let id: i64 = ctx.tx.query_row(
        "INSERT INTO change_sets (at, actor, kind, file, first_seq, last_seq, items, value_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)
         RETURNING id",
        params![ctx.clock.stamp(), ctx.actor.login, kind, file, first, first - 1, values],
        |r| r.get(0),
    )?;
    ctx.change_set = Some(id);
    Ok(())
}

/// After the edit's audit rows are written: the change set ends at the last of them.
pub(crate) fn close(tx: &Tx, id: Option<i64>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    tx.execute(
        "UPDATE change_sets SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM audit),
             items = (SELECT COUNT(DISTINCT a.item_key) FROM audit a WHERE a.seq >= change_sets.first_seq AND a.item_key <> 'settings'
                      AND (a.field = 'created' OR a.field LIKE '%@%')),
             value_count = value_count + CASE WHEN kind = 'values'
                 THEN (SELECT COUNT(*) FROM audit a WHERE a.seq >= change_sets.first_seq AND a.field LIKE '%@%') ELSE 0 END
         WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

struct Row {
    seq: i64,
    at: String,
    actor: String,
    key: String,
    field: String,
    old: Option<String>,
    new: Option<String>,
    reason: Option<String>,
}

/// What a revert writes its audit rows with, so a later revert of an earlier import can tell
/// them from someone's edit.
const REVERT_REASON: &str = "revert IMPORT-";

/// Rows since an import that are nobody's edit of what it touched: the rules' own consequences
/// (escalations, stages moved back — done again by the revert), and a later import reverted
/// since, with its revert. Imports can so be undone newest first.
fn not_an_edit(tx: &Tx, r: &Row) -> Result<bool> {
    // As the rules write them (a reason typed by a person does not make an edit the rules').
    if (r.field == "escalation" && r.reason.as_deref() == Some("rule")) || r.field == "rule" {
        return Ok(true);
    }
    let reverting = r.reason.as_deref().and_then(|x| x.strip_prefix(REVERT_REASON)).and_then(|n| n.parse::<i64>().ok());
    let reverted: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM change_sets WHERE reverted_at IS NOT NULL AND (?1 BETWEEN first_seq AND last_seq OR id = ?2))",
        params![r.seq, reverting.unwrap_or(0)],
        |x| x.get(0),
    )?;
    Ok(reverted)
}

/// The audit rows after `after`, up to `upto`, oldest first.
fn rows(tx: &Tx, after: i64, upto: i64) -> Result<Vec<Row>> {
    let sql = "SELECT seq, at, actor, item_key, field, old_value, new_value, reason FROM audit WHERE seq > ?1 AND seq <= ?2 ORDER BY seq";
    Ok(tx.query_map(sql, params![after, upto], |r| {
        Ok(Row {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            key: r.get(3)?,
            field: r.get(4)?,
            old: r.get(5)?,
            new: r.get(6)?,
            reason: r.get(7)?,
        })
    })?)
}

pub(crate) fn revert(ctx: &mut Ctx, id: i64) -> Result<()> {
    let name = format!("IMPORT-{id}");
    if !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!("only a PMO administrator may revert an import (you are {})", ctx.actor.display())));
    }
    type Head = (String, String, i64, i64, Option<String>, Option<String>);
    let head: Option<Head> = ctx
        .tx
        .query_row("SELECT kind, file, first_seq, last_seq, reverted_at, reverted_by FROM change_sets WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let invalid = |why: String| StoreError::Invalid { key: name.clone(), field: "revert".into(), why };
    let Some((kind, file, first, last, reverted_at, reverted_by)) = head else {
        return Err(invalid("no such import: `keel log --imports` lists them".into()));
    };
    if let Some(at) = reverted_at {
        return Err(invalid(format!("was already reverted at {at} by {}", reverted_by.unwrap_or_default())));
    }
    let own = rows(ctx.tx, first - 1, last)?;
    let touched: BTreeSet<&str> = own.iter().map(|r| r.key.as_str()).filter(|k| *k != "settings").collect();
    let created: BTreeSet<&str> = own.iter().filter(|r| r.field == "created").map(|r| r.key.as_str()).collect();
    // Anything since that touched the same items, or points at an item the import created.
    let since = rows(ctx.tx, last, i64::MAX)?;
    let mut later: Vec<&Row> = Vec::new();
    for r in &since {
        let relevant = touched.contains(r.key.as_str())
            || r.new.as_deref().is_some_and(|v| created.contains(v))
            || r.old.as_deref().is_some_and(|v| created.contains(v))
            || (r.key == "settings" && own.iter().any(|o| o.key == "settings" && o.field == r.field));
        if relevant && !not_an_edit(ctx.tx, r)? {
            later.push(r);
        }
    }
    if !later.is_empty() {
        let mut lines: Vec<String> =
            later.iter().take(20).map(|r| format!("  {} {} by {} at {} (audit row {})", r.key, r.field, r.actor, r.at, r.seq)).collect();
        if later.len() > 20 {
            lines.push(format!("  … and {} more (`keel log KEY` shows them)", later.len() - 20));
        }
        return Err(StoreError::Changed(format!(
            "{name} ({file}) cannot be reverted: {} change(s) since touched what it imported:\n{}\nNothing was changed; undo those by hand, or leave the import in place.",
            later.len(),
            lines.join("\n")
        )));
    }
    ctx.reason = Some(format!("{REVERT_REASON}{id}"));
    // Values back as they were before the import: the first old value of each cell wins.
    let mut cells: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
    for r in own.iter().filter(|r| r.field.contains('@') && !created.contains(r.key.as_str())) {
        cells.entry((r.key.clone(), r.field.clone())).or_insert_with(|| r.old.clone());
    }
    for ((key, field), old) in &cells {
        let (Some((name, period)), Ok(k)) = (field.split_once('@'), ItemKey::parse(key)) else { continue };
        let Ok(period) = Period::parse(period) else { continue };
        super::value_edit::set_values(ctx, &k, period, &[(name, old.as_deref().unwrap_or(""))], None, false)?;
        if old.is_none() {
            drop_if_empty(ctx, &k, period)?;
        }
    }
    let mut settings: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for r in own.iter().filter(|r| r.key == "settings") {
        settings.entry(r.field.as_str()).or_insert(r.old.as_deref());
    }
    for (setting, old) in &settings {
        match old {
            Some(v) => ctx.tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = settings.version + 1",
                params![setting, v],
            )?,
            None => ctx.tx.execute("DELETE FROM settings WHERE name = ?1", [setting])?,
        };
        let now: Option<String> = own.iter().rev().find(|r| r.key == "settings" && r.field == *setting).and_then(|r| r.new.clone());
        ctx.log("settings", setting, now, old.map(str::to_string));
    }
    let removed = remove_items(ctx, &created)?;
    if !created.is_empty() || !settings.is_empty() {
        rules::rebuild_all(ctx)?;
    }
    let stamp = ctx.clock.stamp();
    ctx.tx.execute(
        "UPDATE change_sets SET reverted_at = ?1, reverted_by = ?2, version = version + 1 WHERE id = ?3",
        params![stamp, ctx.actor.login, id],
    )?;
    ctx.log(&name, "reverted", Some(file.clone()), None);
    ctx.effects.push(format!(
        "{name} ({kind} import of {file}) reverted: {} value cell(s) put back, {removed} item(s) it created removed (their history stays in the log)",
        cells.len()
    ));
    Ok(())
}

/// A period left with no number and no comment once the import's cells are taken back was not
/// there before it: it goes, as it was absent.
fn drop_if_empty(ctx: &mut Ctx, key: &ItemKey, period: Period) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    ctx.tx.execute(
        "DELETE FROM item_values WHERE item_id = ?1 AND period = ?2 AND baseline IS NULL AND planned IS NULL AND forecast IS NULL
             AND actual IS NULL AND confidence IS NULL AND comment IS NULL",
        params![id, period.to_string()],
    )?;
    Ok(())
}

/// Remove the items an import created, with everything hanging on them, children first.
fn remove_items(ctx: &mut Ctx, keys: &BTreeSet<&str>) -> Result<usize> {
    const ORDER: [ItemKind; 12] = [
        ItemKind::Measure,
        ItemKind::Kpi,
        ItemKind::KeyResult,
        ItemKind::Objective,
        ItemKind::Package,
        ItemKind::Project,
        ItemKind::Programme,
        ItemKind::Portfolio,
        ItemKind::Kra,
        ItemKind::Person,
        ItemKind::Unit,
        ItemKind::Cycle,
    ];
    let mut ids: Vec<(usize, i64, String)> = Vec::new();
    for k in keys {
        let Ok(key) = ItemKey::parse(k) else { continue };
        let Ok(id) = resolve(ctx.tx, &key) else { continue };
        let rank = ORDER.iter().position(|o| *o == key.kind).unwrap_or(ORDER.len());
        ids.push((rank, id, key.to_string()));
    }
    ids.sort();
    let tx = ctx.tx;
    // References among the removed items first (an objective's parent, a unit's parent).
    for (_, id, _) in &ids {
        tx.execute("UPDATE objectives SET parent_id = NULL WHERE parent_id = ?1", [id])?;
        tx.execute("UPDATE units SET parent_id = NULL WHERE parent_id = ?1", [id])?;
    }
    for (_, id, key) in &ids {
        for sql in [
            "DELETE FROM escalation_events WHERE escalation_id IN (SELECT id FROM escalations WHERE item_id = ?1)",
            "DELETE FROM escalations WHERE item_id = ?1",
            "DELETE FROM gate_events WHERE measure_id = ?1",
            "DELETE FROM decisions WHERE item_id = ?1",
            "DELETE FROM item_values WHERE item_id = ?1",
            // Kept rows go with their items (their foreign key would refuse the item's removal).
            "DELETE FROM kept_stale WHERE item_id = ?1",
            "DELETE FROM links WHERE from_id = ?1 OR to_id = ?1",
            "DELETE FROM dependencies WHERE measure_id = ?1 OR depends_on_id = ?1",
            "DELETE FROM milestones WHERE measure_id = ?1",
            "DELETE FROM measure_money WHERE measure_id = ?1",
            "DELETE FROM node_funnel WHERE node_id = ?1",
            "DELETE FROM objective_units WHERE objective_id = ?1 OR unit_id = ?1",
        ] {
            tx.execute(sql, [id])?;
        }
        let table = super::fields::table_of(ItemKey::parse(key).map(|k| k.kind).unwrap_or(ItemKind::Measure));
        tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])?;
        tx.execute("DELETE FROM items WHERE id = ?1", [id])?;
        ctx.log(key, "removed", Some("imported".into()), None);
    }
    Ok(ids.len())
}

impl Store {
    /// Every recorded import, newest first.
    pub fn change_sets(&self) -> Result<Vec<ChangeSet>> {
        Ok(self.conn().query_map(
            "SELECT id, at, actor, kind, file, items, value_count, last_seq - first_seq + 1, reverted_at, reverted_by
             FROM change_sets ORDER BY id DESC",
            [],
            |r| {
                Ok(ChangeSet {
                    id: format!("IMPORT-{}", r.get::<_, i64>(0)?),
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    kind: r.get(3)?,
                    file: r.get(4)?,
                    items: r.get(5)?,
                    values: r.get(6)?,
                    audit_rows: r.get(7)?,
                    reverted_at: r.get(8)?,
                    reverted_by: r.get(9)?,
                })
            },
        )?)
    }
}
