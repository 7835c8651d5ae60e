//! Off-boarding: every role a leaver holds, handed to someone else in one audited edit. Four eyes
//! stay: a measure whose owner would also be its sponsor or controller (or an approver of its
//! stage), or whose roles are frozen by a pending gate request, is listed and left as it is for
//! a person to decide.

use super::edit::{set_field, Ctx};
use super::upkeep::{retired, Role};
use super::{resolve, rules, Result, StoreError};
use crate::domain::{handover, ItemKey, ItemKind};
use crate::store::engine::params;

/// One role one person holds on one item.
struct Held {
    id: i64,
    key: ItemKey,
    role: Role,
}

fn held(ctx: &Ctx, person: i64, roles: &[Role]) -> Result<Vec<Held>> {
    let mut out = Vec::new();
    let mut push = |sql: &str, role: Role| -> Result<()> {
        if !roles.contains(&role) {
            return Ok(());
        }
        let rows: Vec<(i64, String)> = ctx.tx.query_map(sql, [person], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for (id, key) in rows {
            if let Ok(key) = ItemKey::parse(&key) {
                out.push(Held { id, key, role });
            }
        }
        Ok(())
    };
    for table in ["objectives", "key_results", "kpis", "kras", "nodes", "measures"] {
        push(&format!("SELECT i.id, i.key FROM {table} t JOIN items i ON i.id = t.id WHERE t.owner_id = ?1 ORDER BY i.num"), Role::Owner)?;
    }
    push("SELECT i.id, i.key FROM measures t JOIN items i ON i.id = t.id WHERE t.sponsor_id = ?1 ORDER BY i.num", Role::Sponsor)?;
    push("SELECT i.id, i.key FROM measures t JOIN items i ON i.id = t.id WHERE t.controller_id = ?1 ORDER BY i.num", Role::Controller)?;
    Ok(out)
}

/// Why the roles of measure `id` may not move from `from` to `to`, if they may not: the rule is
/// `handover::refusal`; this reads the measure for it.
fn four_eyes(ctx: &Ctx, id: i64, moving: &[Role], from: i64, to: i64, to_key: &str) -> Result<Option<String>> {
    let (state, facts) = rules::gate_inputs(ctx.tx, id)?;
    Ok(handover::refusal(&state, &facts, moving, from, to, to_key))
}

pub(crate) fn reassign(ctx: &mut Ctx, from: &ItemKey, to: &ItemKey, roles: &[Role]) -> Result<()> {
    let invalid = |why: String| StoreError::Invalid { key: from.to_string(), field: "reassign".into(), why };
    for k in [from, to] {
        if k.kind != ItemKind::Person {
            return Err(invalid(format!("{k} is a {}: roles pass from one person (P-n) to another", k.kind)));
        }
    }
    if !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!(
            "only a PMO administrator may hand on a person's roles (you are {})",
            ctx.actor.display()
        )));
    }
    let (from_id, to_id) = (resolve(ctx.tx, from)?, resolve(ctx.tx, to)?);
    if from_id == to_id {
        return Err(invalid("--to names the same person".into()));
    }
    if let Some((at, _)) = retired(ctx, to_id)? {
        return Err(invalid(format!("{to} is retired (since {at}): hand the roles to someone in service")));
    }
    let roles: Vec<Role> = if roles.is_empty() { Role::ALL.to_vec() } else { roles.to_vec() };
    let all = held(ctx, from_id, &roles)?;
    let mut left: Vec<(String, String)> = Vec::new();
    let mut moved: Vec<String> = Vec::new();
    let mut measures_done = std::collections::BTreeSet::new();
    let to_s = to.to_string();
    for h in &all {
        if h.key.kind == ItemKind::Measure {
            if !measures_done.insert(h.id) {
                continue;
            }
            let mine: Vec<Role> = all.iter().filter(|o| o.id == h.id).map(|o| o.role).collect();
            if let Some(why) = four_eyes(ctx, h.id, &mine, from_id, to_id, &to_s)? {
                left.push((h.key.to_string(), why));
                continue;
            }
            for role in mine {
                set_field(ctx, &h.key, role.as_str(), &to_s, None)?;
                moved.push(format!("{} of {}", role.as_str(), h.key));
            }
        } else {
            set_field(ctx, &h.key, h.role.as_str(), &to_s, None)?;
            moved.push(format!("{} of {}", h.role.as_str(), h.key));
        }
    }
    // Open escalations waiting on the leaver follow the items whose roles moved.
    let moved_items: Vec<i64> = all.iter().filter(|h| !left.iter().any(|(k, _)| *k == h.key.to_string())).map(|h| h.id).collect();
    for item in moved_items {
        let n = ctx.tx.execute(
            "UPDATE escalations SET assignee_id = ?1, version = version + 1 WHERE item_id = ?2 AND state = 'open' AND assignee_id = ?3",
            params![to_id, item, from_id],
        )?;
        if n > 0 {
            let key: String = ctx.tx.query_row("SELECT key FROM items WHERE id = ?1", [item], |r| r.get(0))?;
            ctx.log(&key, "escalation assignee", Some(from.to_string()), Some(to_s.clone()));
        }
    }
    let names: Vec<String> = ctx.tx.query_map(
        "SELECT p.name FROM people p WHERE p.id IN (?1, ?2) ORDER BY CASE WHEN p.id = ?1 THEN 0 ELSE 1 END",
        params![from_id, to_id],
        |r| r.get::<_, String>(0),
    )?;
    let who = |i: usize, k: &ItemKey| names.get(i).map(|n| format!("{k} {n}")).unwrap_or_else(|| k.to_string());
    if moved.is_empty() && left.is_empty() {
        ctx.effects.push(format!("{} holds no {} role: nothing to hand on", who(0, from), join_roles(&roles)));
        return Ok(());
    }
    if moved.is_empty() {
        ctx.effects.push(format!(
            "no role handed from {} to {}: four eyes leave each one for a person to decide",
            who(0, from),
            who(1, to)
        ));
    } else {
        ctx.log(&from.to_string(), "roles handed on", Some(format!("{} role(s)", moved.len())), Some(to_s.clone()));
        ctx.effects.push(format!("handed {} role(s) from {} to {}: {}", moved.len(), who(0, from), who(1, to), moved.join(", ")));
    }
    for (key, why) in &left {
        ctx.effects.push(format!("left for a person to decide: {key} — {why}"));
    }
    Ok(())
}

fn join_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("/")
}
