//! The facts the structure rules of `domain::structure` need: how deep an objective sits, how
//! tall the subtree under it is, which measures wait for which, what kind a unit is. Every walk
//! is a bounded recursive query (SQLite runs those iteratively) or a loop, never a Rust recursion.

use super::{Result, StoreError};
use crate::domain::structure::{self, MAX_OBJECTIVE_LEVELS};
use crate::domain::{ItemKey, UnitKind};
use crate::store::engine::{params, DbResult, OptionalExtension, Tx};
use std::collections::HashMap;

/// No walk goes further than this many steps, whatever the file holds (a loop written by hand).
const WALK_BOUND: i64 = 1_000_000;

/// The level of objective `id` (a root is 1), counting its ancestors.
fn level(tx: &Tx, id: i64) -> Result<usize> {
    let n: i64 = tx.query_row(
        "WITH RECURSIVE up(id, d) AS (SELECT CAST(?1 AS BIGINT), 1 UNION ALL SELECT o.parent_id, up.d + 1 FROM objectives o JOIN up ON o.id = up.id
             WHERE o.parent_id IS NOT NULL AND up.d < ?2)
         SELECT MAX(d) FROM up",
        params![id, WALK_BOUND],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// How many levels objective `id` and those aligned under it span (a leaf spans 1).
fn height(tx: &Tx, id: i64) -> Result<usize> {
    let n: i64 = tx.query_row(
        "WITH RECURSIVE down(id, d) AS (SELECT CAST(?1 AS BIGINT), 1 UNION ALL SELECT o.id, down.d + 1 FROM objectives o JOIN down ON o.parent_id = down.id
             WHERE down.d < ?2)
         SELECT MAX(d) FROM down",
        params![id, WALK_BOUND],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Refuse aligning objective `id` (with everything under it) to `parent` when that would put an
/// objective deeper than the technical limit.
pub(crate) fn guard_objective_depth(tx: &Tx, key: &ItemKey, id: i64, parent: i64) -> Result<()> {
    let below = height(tx, id)?;
    match structure::objective_depth_refusal(level(tx, parent)?.saturating_add(below)) {
        Some(why) if below > 1 => Err(StoreError::Invalid {
            key: key.to_string(),
            field: "parent".into(),
            why: format!("{why} (counting the {} levels aligned under {key})", below - 1),
        }),
        Some(why) => Err(StoreError::Invalid { key: key.to_string(), field: "parent".into(), why }),
        None => Ok(()),
    }
}

/// After an import set its objectives' parents: the members of any loop of parent links (by key,
/// in key order), and for each objective key of the plan that crosses the depth limit, its level.
/// Only the first objective over the limit on each chain is named; those under it follow.
pub(crate) fn imported_objective_tree(tx: &Tx, plan_parents: &[(String, Option<String>)]) -> Result<(Vec<String>, Vec<(String, usize)>)> {
    let mut parent: HashMap<i64, Option<i64>> = HashMap::new();
    let mut key_of: HashMap<i64, (i64, String)> = HashMap::new();
    {
        let mut stmt = tx.prepare("SELECT o.id, o.parent_id, i.num, i.key FROM objectives o JOIN items i ON i.id = o.id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            parent.insert(id, r.get(1)?);
            key_of.insert(id, (r.get(2)?, r.get(3)?));
        }
    }
    let (levels, looped) = structure::levels(&parent);
    let mut members: Vec<&(i64, String)> = looped.iter().filter_map(|id| key_of.get(id)).collect();
    members.sort();
    let looped = members.into_iter().map(|(_, k)| k.clone()).collect();
    let by_key: HashMap<&str, usize> = key_of.iter().filter_map(|(id, (_, k))| Some((k.as_str(), *levels.get(id)?))).collect();
    let too_deep = plan_parents
        .iter()
        .filter_map(|(key, parent)| {
            let l = *by_key.get(key.as_str())?;
            let parent_over = parent.as_deref().and_then(|p| by_key.get(p)).is_some_and(|pl| *pl > MAX_OBJECTIVE_LEVELS);
            (l > MAX_OBJECTIVE_LEVELS && !parent_over).then(|| (key.clone(), l))
        })
        .collect();
    Ok((looped, too_deep))
}

/// Why measure `id` (`key`) may not wait for `on_id` (`on`), or `None`.
pub(crate) fn dependency_refusal(tx: &Tx, key: &ItemKey, id: i64, on: &ItemKey, on_id: i64) -> Result<Option<String>> {
    let on_waits_for_key: bool = tx.query_row(
        "WITH RECURSIVE up(id) AS (SELECT CAST(?1 AS BIGINT) UNION SELECT d.depends_on_id FROM dependencies d JOIN up ON d.measure_id = up.id)
         SELECT EXISTS (SELECT 1 FROM up WHERE id = ?2)",
        params![on_id, id],
        |r| r.get(0),
    )?;
    Ok(structure::dependency_refusal(&key.to_string(), &on.to_string(), on_waits_for_key))
}

/// A loop among all the file's dependencies (after an import wrote its own), as measure keys
/// `M-1 → M-2 → M-1`, or `None`.
pub(crate) fn dependency_loop(tx: &Tx) -> Result<Option<Vec<String>>> {
    let mut waits: HashMap<i64, Vec<i64>> = HashMap::new();
    {
        let mut stmt = tx.prepare("SELECT measure_id, depends_on_id FROM dependencies ORDER BY measure_id, depends_on_id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            waits.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    let Some(path) = structure::dependency_loop(&waits) else { return Ok(None) };
    let mut keys = Vec::with_capacity(path.len());
    for id in path {
        keys.push(tx.query_row("SELECT key FROM items WHERE id = ?1", [id], |r| r.get::<_, String>(0))?);
    }
    Ok(Some(keys))
}

/// The kind of unit `id`, if it is one.
pub(crate) fn unit_kind(tx: &Tx, id: i64) -> Result<Option<UnitKind>> {
    let kind: Option<String> = tx.query_row("SELECT kind FROM units WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    Ok(kind.as_deref().and_then(UnitKind::parse))
}

/// Why a measure's `field` (business_unit or function) may not name unit `unit_id` (`unit`).
pub(crate) fn unit_kind_refusal(tx: &Tx, field: &str, unit: &str, unit_id: i64) -> Result<Option<String>> {
    Ok(match unit_kind(tx, unit_id)? {
        Some(kind) => structure::unit_kind_refusal(field, unit, kind),
        None => None,
    })
}

/// Refuse a measure's business unit or function naming a unit of the other kind.
pub(crate) fn guard_measure_unit(tx: &Tx, key: &ItemKey, field: &str, unit_id: i64) -> Result<()> {
    if key.kind != crate::domain::ItemKind::Measure || !matches!(field, "business_unit" | "function") {
        return Ok(());
    }
    let unit: String = tx.query_row("SELECT key FROM items WHERE id = ?1", [unit_id], |r| r.get(0))?;
    match unit_kind_refusal(tx, field, &unit, unit_id)? {
        Some(why) => Err(StoreError::Invalid { key: key.to_string(), field: field.into(), why }),
        None => Ok(()),
    }
}

/// Refuse changing a unit's kind while measures name it in the role of the old kind.
pub(crate) fn guard_unit_kind_change(tx: &Tx, key: &ItemKey, id: i64, new_kind: Option<&str>) -> Result<()> {
    let (field, column) = match new_kind.and_then(UnitKind::parse) {
        Some(UnitKind::BusinessUnit) => ("function", "function_id"),
        Some(UnitKind::Function) => ("business_unit", "business_unit_id"),
        None => return Ok(()),
    };
    let sql = format!("SELECT i.key FROM measures m JOIN items i ON i.id = m.id WHERE m.{column} = ?1 ORDER BY i.num");
    let mut stmt = tx.prepare(&sql)?;
    let users: Vec<String> = stmt.query_map([id], |r| r.get(0))?.collect::<DbResult<_>>()?;
    if users.is_empty() {
        return Ok(());
    }
    let shown = if users.len() > 5 { format!("{} and {} more", users[..5].join(", "), users.len() - 5) } else { users.join(", ") };
    Err(StoreError::Invalid {
        key: key.to_string(),
        field: "kind".into(),
        why: format!(
            "{key} is the {field} of {shown}; a {field} must be a unit of kind {}: give those measures another {field} first",
            if field == "function" { "function" } else { "business-unit" }
        ),
    })
}
