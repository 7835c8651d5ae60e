//! Retiring an item: it keeps its row, values and history, but leaves the tree, the lists, the
//! roll-ups, the value funnel and the checks; its open escalation is closed with the reason.
//! `keel unretire` brings it back, and the rules judge its numbers again.

use super::edit::{key_of, may_edit, Ctx};
use super::upkeep::retired;
use super::{resolve, Result, StoreError};
use crate::domain::{ItemKey, ItemKind};
use crate::store::engine::{params, DbResult};

/// The items directly under `id` (of `kind`) that are still active, as (id, key).
fn active_children(ctx: &Ctx, kind: ItemKind, id: i64) -> Result<Vec<(i64, String)>> {
    children(ctx, kind, id, false)
}

/// The items directly under `id` (of `kind`), active or retired, as (id, key).
fn children(ctx: &Ctx, kind: ItemKind, id: i64, retired: bool) -> Result<Vec<(i64, String)>> {
    let sql = match kind {
        ItemKind::Objective => {
            "SELECT i.id, i.key FROM items i WHERE i.retired_at IS NULL AND (
                 i.id IN (SELECT id FROM objectives WHERE parent_id = ?1) OR i.id IN (SELECT id FROM key_results WHERE objective_id = ?1))
             ORDER BY i.kind, i.num"
        }
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => {
            "SELECT i.id, i.key FROM items i WHERE i.retired_at IS NULL AND (
                 i.id IN (SELECT id FROM nodes WHERE parent_id = ?1) OR i.id IN (SELECT id FROM measures WHERE package_id = ?1))
             ORDER BY i.kind, i.num"
        }
        ItemKind::Unit => {
            "SELECT i.id, i.key FROM items i JOIN units u ON u.id = i.id WHERE u.parent_id = ?1 AND i.retired_at IS NULL ORDER BY i.num"
        }
        ItemKind::Cycle => {
            "SELECT i.id, i.key FROM items i JOIN objectives o ON o.id = i.id WHERE o.cycle_id = ?1 AND i.retired_at IS NULL ORDER BY i.num"
        }
        _ => return Ok(vec![]),
    };
    let sql = if retired { sql.replace("i.retired_at IS NULL", "i.retired_at IS NOT NULL") } else { sql.to_string() };
    let mut stmt = ctx.tx.prepare(&sql)?;
    let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

/// The roles a person holds on active items, as "owner of M-3".
pub(crate) fn roles_held(ctx: &Ctx, person: i64) -> Result<Vec<String>> {
    let sql = "SELECT role, key FROM (
            SELECT 'owner' AS role, i.kind, i.num, i.key FROM items i WHERE i.retired_at IS NULL AND (
                i.id IN (SELECT id FROM objectives WHERE owner_id = ?1) OR i.id IN (SELECT id FROM key_results WHERE owner_id = ?1)
                OR i.id IN (SELECT id FROM kpis WHERE owner_id = ?1) OR i.id IN (SELECT id FROM nodes WHERE owner_id = ?1)
                OR i.id IN (SELECT id FROM measures WHERE owner_id = ?1) OR i.id IN (SELECT id FROM kras WHERE owner_id = ?1))
            UNION ALL SELECT 'sponsor', i.kind, i.num, i.key FROM items i JOIN measures m ON m.id = i.id WHERE m.sponsor_id = ?1 AND i.retired_at IS NULL
            UNION ALL SELECT 'controller', i.kind, i.num, i.key FROM items i JOIN measures m ON m.id = i.id WHERE m.controller_id = ?1 AND i.retired_at IS NULL
        ) r ORDER BY role, kind, num";
    let mut stmt = ctx.tx.prepare(sql)?;
    let rows = stmt.query_map([person], |r| Ok(format!("{} of {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

fn may_retire(ctx: &Ctx, key: &ItemKey, id: i64) -> Result<()> {
    if matches!(key.kind, ItemKind::Person | ItemKind::Unit | ItemKind::Cycle | ItemKind::Kra) && !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!(
            "{key}: only a PMO administrator may retire or bring back a {} (you are {})",
            key.kind,
            ctx.actor.display()
        )));
    }
    may_edit(ctx, key.kind, id, key)
}

fn shown(list: &[String]) -> String {
    if list.len() > 8 {
        format!("{} and {} more", list[..8].join(", "), list.len() - 8)
    } else {
        list.join(", ")
    }
}

pub(crate) fn retire(ctx: &mut Ctx, key: &ItemKey, reason: &str, with_children: bool) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    let invalid = |why: String| StoreError::Invalid { key: key.to_string(), field: "retire".into(), why };
    if reason.trim().is_empty() {
        return Err(invalid("needs --reason: why it is retired (kept in its history)".into()));
    }
    may_retire(ctx, key, id)?;
    if let Some((at, why)) = retired(ctx, id)? {
        return Err(invalid(format!("is already retired (since {at}: {why})")));
    }
    if key.kind == ItemKind::Person {
        let roles = roles_held(ctx, id)?;
        if !roles.is_empty() {
            return Err(invalid(format!(
                "still holds {} role(s): {}. Hand them on first: keel person {key} reassign --to P-n",
                roles.len(),
                shown(&roles)
            )));
        }
    }
    // Everything to retire, parents before children.
    let mut order = vec![(id, key.clone())];
    // An objective is under its cycle and under its parent objective: visited once.
    let mut seen = std::collections::HashSet::from([id]);
    let mut i = 0;
    while i < order.len() {
        let (at, ref k) = order[i];
        let children = active_children(ctx, k.kind, at)?;
        if !children.is_empty() && !with_children {
            let keys: Vec<String> = children.into_iter().map(|(_, k)| k).collect();
            return Err(invalid(format!(
                "{} active item(s) under it: {}. Retire or move them first, or give --with-children",
                keys.len(),
                shown(&keys)
            )));
        }
        for (cid, ck) in children {
            let ck = ItemKey::parse(&ck).map_err(|e| invalid(e.to_string()))?;
            if ck.kind == ItemKind::Person || !seen.insert(cid) {
                continue;
            }
            order.push((cid, ck));
        }
        i += 1;
    }
    let now = ctx.clock.stamp();
    for (rid, rkey) in &order {
        ctx.tx.execute("UPDATE items SET retired_at = ?1, retired_reason = ?2 WHERE id = ?3", params![now, reason.trim(), rid])?;
        ctx.log(&rkey.to_string(), "retired", None, Some(reason.trim().to_string()));
        close_escalation(ctx, *rid, rkey, reason.trim())?;
        touch(ctx, *rid, rkey.kind)?;
    }
    let more = if order.len() > 1 { format!(" with {} item(s) under it", order.len() - 1) } else { String::new() };
    ctx.effects.push(format!("{key}: retired{more} — {}", reason.trim()));
    Ok(())
}

/// The rules look again at what a retirement or a return changes: a measure's money leaves or
/// rejoins the funnel; an item's numbers stop or start being judged.
fn touch(ctx: &mut Ctx, id: i64, kind: ItemKind) -> Result<()> {
    if kind == ItemKind::Measure {
        ctx.touched_money.insert(id);
    }
    if kind.has_values() {
        ctx.touched_variance.insert(id);
    }
    if kind == ItemKind::KeyResult {
        let objective: i64 = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
        ctx.touched_objectives.insert(objective);
    }
    Ok(())
}

fn close_escalation(ctx: &mut Ctx, id: i64, key: &ItemKey, reason: &str) -> Result<()> {
    let open: Vec<(i64, i64)> =
        ctx.tx.query_map("SELECT id, tier FROM escalations WHERE item_id = ?1 AND state = 'open'", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let now = ctx.clock.stamp();
    for (esc, tier) in open {
        ctx.tx.execute(
            "UPDATE escalations SET state = 'closed', closed_at = ?1, closed_by = ?2, decision = COALESCE(decision, ?3), version = version + 1
             WHERE id = ?4",
            params![now, ctx.actor.login, format!("retired: {reason}"), esc],
        )?;
        ctx.tx.execute(
            "INSERT INTO escalation_events (escalation_id, at, actor, event, detail) VALUES (?1, ?2, ?3, 'closed', ?4)",
            params![esc, now, ctx.actor.login, format!("closed: the item was retired — {reason}")],
        )?;
        let label = crate::domain::escalation::Tier::from_number(tier).map(|t| t.label()).unwrap_or("escalation");
        ctx.log(&key.to_string(), "escalation", Some(label.to_string()), None);
        ctx.effects.push(format!("{key}: {label} closed — retired: {reason}"));
    }
    Ok(())
}

/// The roles on item `id` held by retired people, as "owner P-15".
fn retired_role_holders(ctx: &Ctx, id: i64) -> Result<Vec<String>> {
    let sql = "SELECT r.role || ' ' || p.key FROM (
            SELECT 'owner' AS role, owner_id AS person FROM objectives WHERE id = ?1 UNION ALL SELECT 'owner', owner_id FROM key_results WHERE id = ?1
            UNION ALL SELECT 'owner', owner_id FROM kpis WHERE id = ?1 UNION ALL SELECT 'owner', owner_id FROM nodes WHERE id = ?1
            UNION ALL SELECT 'owner', owner_id FROM kras WHERE id = ?1 UNION ALL SELECT 'owner', owner_id FROM measures WHERE id = ?1
            UNION ALL SELECT 'sponsor', sponsor_id FROM measures WHERE id = ?1 UNION ALL SELECT 'controller', controller_id FROM measures WHERE id = ?1
        ) r JOIN items p ON p.id = r.person WHERE p.retired_at IS NOT NULL ORDER BY r.role";
    Ok(ctx.tx.query_map(sql, [id], |r| r.get(0))?)
}

/// The item a retired item hangs under, if that one is retired too (it must come back first).
fn retired_parent(ctx: &Ctx, key: &ItemKey, id: i64) -> Result<Option<String>> {
    let sql = match key.kind {
        ItemKind::Objective => "SELECT parent_id FROM objectives WHERE id = ?1 UNION ALL SELECT cycle_id FROM objectives WHERE id = ?1",
        ItemKind::KeyResult => "SELECT objective_id FROM key_results WHERE id = ?1",
        ItemKind::Measure => "SELECT package_id FROM measures WHERE id = ?1",
        ItemKind::Programme | ItemKind::Project | ItemKind::Package => "SELECT parent_id FROM nodes WHERE id = ?1",
        ItemKind::Unit => "SELECT parent_id FROM units WHERE id = ?1",
        _ => return Ok(None),
    };
    let parents: Vec<Option<i64>> = ctx.tx.query_map(sql, [id], |r| r.get(0))?;
    for p in parents.into_iter().flatten() {
        if retired(ctx, p)?.is_some() {
            return Ok(Some(key_of(ctx.tx, p)?));
        }
    }
    Ok(None)
}

pub(crate) fn unretire(ctx: &mut Ctx, key: &ItemKey, with_children: bool) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    let invalid = |why: String| StoreError::Invalid { key: key.to_string(), field: "unretire".into(), why };
    may_retire(ctx, key, id)?;
    let Some((_, why)) = retired(ctx, id)? else {
        return Err(invalid("is not retired".into()));
    };
    if let Some(parent) = retired_parent(ctx, key, id)? {
        return Err(invalid(format!("it sits under {parent}, which is retired: `keel unretire {parent}` first")));
    }
    // With its children: those retired together with it (at the same moment, for the same
    // reason) come back too; what was retired on its own before stays retired.
    let at: String = ctx.tx.query_row("SELECT retired_at FROM items WHERE id = ?1", [id], |r| r.get(0))?;
    let together = (at, why.clone());
    let mut order = vec![(id, key.clone(), why)];
    let mut seen = std::collections::HashSet::from([id]);
    let mut i = 0;
    while with_children && i < order.len() {
        let (pid, pkey) = (order[i].0, order[i].1.clone());
        for (cid, ck) in children(ctx, pkey.kind, pid, true)? {
            let theirs = retired(ctx, cid)?.unwrap_or_default();
            if let (true, Ok(ck), true) = (theirs == together, ItemKey::parse(&ck), !seen.contains(&cid)) {
                seen.insert(cid);
                order.push((cid, ck, theirs.1));
            }
        }
        i += 1;
    }
    for (rid, rkey, _) in order.iter() {
        let gone = retired_role_holders(ctx, *rid)?;
        if !gone.is_empty() {
            return Err(invalid(format!(
                "{rkey} would come back with {}, who is retired: hand the role on first (`keel set {rkey} ROLE=P-n`), or unretire the person",
                gone.join(", ")
            )));
        }
    }
    for (rid, rkey, rwhy) in order.iter() {
        ctx.tx.execute("UPDATE items SET retired_at = NULL, retired_reason = NULL WHERE id = ?1", [rid])?;
        ctx.log(&rkey.to_string(), "retired", Some(rwhy.clone()), None);
        touch(ctx, *rid, rkey.kind)?;
    }
    let more = if order.len() > 1 { format!(" with {} item(s) under it", order.len() - 1) } else { String::new() };
    ctx.effects.push(format!("{key}: back in service{more}"));
    Ok(())
}

/// A plan's `retired` section: each entry (sound by the domain's rule) marks an item of the plan
/// retired, as exported; an entry that would leave active items under a retired one, or a retired
/// person holding roles, is a problem of the plan, as `keel retire` would refuse it.
pub(crate) fn import_retired(
    ctx: &Ctx,
    plan: &crate::domain::plan::Plan,
    ids: &std::collections::BTreeMap<String, i64>,
    problem: &mut dyn FnMut(&str, String),
) -> Result<()> {
    let found = crate::domain::plan::retired_problems(plan);
    for (at, what) in &found {
        problem(at, what.clone());
    }
    if !found.is_empty() {
        return Ok(());
    }
    for r in &plan.retired {
        let Some(id) = ids.get(&r.key) else { continue };
        ctx.tx.execute("UPDATE items SET retired_at = ?1, retired_reason = ?2 WHERE id = ?3", params![r.at, r.reason.trim(), id])?;
    }
    // What arrives in service is not placed under, nor handed to, something already retired.
    let arriving_retired: std::collections::HashSet<&str> = plan.retired.iter().map(|r| r.key.as_str()).collect();
    for (key, id) in ids.iter().filter(|(k, _)| !arriving_retired.contains(k.as_str())) {
        if let Ok(k) = ItemKey::parse(key) {
            if let Some(parent) = retired_parent(ctx, &k, *id)? {
                let at = crate::domain::plan::place_of(plan, key);
                problem(&at, format!("it would sit under {parent}, which is retired: `keel unretire {parent}` first"));
            }
        }
    }
    let people: Vec<(i64, String)> =
        ctx.tx
            .query_map("SELECT id, key FROM items WHERE kind = 'person' AND retired_at IS NOT NULL", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    for (person, pkey) in people.iter().filter(|(_, k)| !ids.contains_key(k)) {
        for role in roles_held(ctx, *person)? {
            let Some((what, item)) = role.split_once(" of ").filter(|(_, k)| ids.contains_key(*k)) else { continue };
            let at = crate::domain::plan::place_of(plan, item);
            problem(&at, format!("{what}: {pkey} is retired; name someone in service, or `keel unretire {pkey}` first"));
        }
    }
    for (i, r) in plan.retired.iter().enumerate() {
        let (Some(id), Ok(key)) = (ids.get(&r.key), ItemKey::parse(&r.key)) else { continue };
        let at = format!("retired[{i}] ({})", r.key);
        let active: Vec<String> = active_children(ctx, key.kind, *id)?.into_iter().map(|(_, k)| k).collect();
        if !active.is_empty() {
            problem(&at, format!("{} active item(s) under it: {}; retire them too, or leave it in service", active.len(), shown(&active)));
        }
        if key.kind == ItemKind::Person {
            let roles = roles_held(ctx, *id)?;
            if !roles.is_empty() {
                problem(&at, format!("a retired person cannot hold roles, but {} still holds {}", r.key, shown(&roles)));
            }
        }
    }
    Ok(())
}

/// One retired item, as `keel list --retired` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RetiredRow {
    pub key: String,
    pub kind: String,
    pub title: String,
    pub retired_at: String,
    pub reason: String,
}

impl super::Store {
    /// The retired items (of one kind, or all), in key order.
    pub fn retired_items(&self, kind: Option<ItemKind>) -> Result<Vec<RetiredRow>> {
        Ok(self.conn().query_map(
            "SELECT i.key, i.kind, COALESCE(o.title, k.title, p.title, n.title, m.title, pe.name, u.name, c.name, a.name, ''),
                    i.retired_at, COALESCE(i.retired_reason, '')
             FROM items i
             LEFT JOIN objectives o ON o.id = i.id LEFT JOIN key_results k ON k.id = i.id LEFT JOIN kpis p ON p.id = i.id
             LEFT JOIN nodes n ON n.id = i.id LEFT JOIN measures m ON m.id = i.id LEFT JOIN people pe ON pe.id = i.id
             LEFT JOIN units u ON u.id = i.id LEFT JOIN cycles c ON c.id = i.id LEFT JOIN kras a ON a.id = i.id
             WHERE i.retired_at IS NOT NULL AND (?1 = '' OR i.kind = ?1)
             ORDER BY i.kind, i.num",
            [kind.map(ItemKind::as_str).unwrap_or("")],
            |r| Ok(RetiredRow { key: r.get(0)?, kind: r.get(1)?, title: r.get(2)?, retired_at: r.get(3)?, reason: r.get(4)? }),
        )?)
    }
}
