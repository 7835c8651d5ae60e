//! The write path's other changes: a gate action, a milestone, a link, a dependency, a setting
//! and a decision, each with its audit rows.

use super::set_field::require_kind;
use super::*;

pub(super) fn gate(ctx: &mut Ctx, key: &ItemKey, action: GateAction, reason: Option<&str>) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "gate")?;
    let id = resolve(ctx.tx, key)?;
    let (state, facts) = rules::gate_inputs(ctx.tx, id)?;
    let who = Acting { person: ctx.actor.person_id, pmo_admin: ctx.actor.pmo_admin };
    let outcome = gates::decide(&state, &facts, action, who, reason).map_err(|refusal| StoreError::Refused {
        key: key.to_string(),
        action: format!("gate {}", action.as_str()),
        missing: refusal.missing,
        by_role: refusal.by_role,
    })?;
    let from = state.stage.unwrap_or(crate::domain::Stage::Defined);
    rules::write_gate_state(ctx, key, id, &state, &outcome.state)?;
    ctx.validation_voided.clear();
    let kind = match (action, outcome.moved) {
        (_, Some(_)) => "moved",
        (GateAction::Request, None) => "requested",
        (GateAction::Approve, None) => "approved",
        (GateAction::Reject, _) => "rejected",
        (GateAction::Hold, _) => "held",
        (GateAction::Resume, _) => "resumed",
        (GateAction::Cancel, _) => "cancelled",
        (GateAction::Back, None) => "moved",
    };
    ctx.tx.execute(
        "INSERT INTO gate_events (measure_id, at, actor, action, outcome, from_stage, to_stage, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            ctx.clock.stamp(),
            ctx.actor.login,
            action.as_str(),
            kind,
            from.as_str(),
            outcome.moved.map(|(_, t)| t.as_str()).or(outcome.state.pending.map(|p| p.as_str())),
            outcome.summary
        ],
    )?;
    ctx.effects.push(format!("{key}: {}", outcome.summary));
    let to = outcome.moved.map(|(_, t)| t.as_str()).or(outcome.state.pending.map(|p| p.as_str())).unwrap_or("");
    ctx.event(
        crate::store::events::Event::new("gate-decided", &key.to_string())
            .with("action", action.as_str())
            .with("outcome", kind)
            .with("from", from.as_str())
            .with("to", to)
            .with("summary", &outcome.summary),
    );
    ctx.touched_money.insert(id);
    // Cancelling (or any side-state change) decides whether the measure's numbers are judged.
    ctx.touched_variance.insert(id);
    Ok(())
}

pub(super) fn milestone(ctx: &mut Ctx, key: &ItemKey, action: &MilestoneAction) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "milestone")?;
    let id = resolve(ctx.tx, key)?;
    may_edit(ctx, key.kind, id, key)?;
    // A reopened milestone voids Implemented; a removed date may void Detailed.
    ctx.touched_gates.insert(id);
    let nth = |ctx: &Ctx, number: usize| -> Result<(i64, String, Option<String>)> {
        let rows: Vec<(i64, String, Option<String>)> = {
            let mut stmt =
                ctx.tx.prepare_cached("SELECT id, title, done_date FROM milestones WHERE measure_id = ?1 ORDER BY due_date, id")?;
            let r = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let count = rows.len();
        rows.into_iter().nth(number.wrapping_sub(1)).ok_or_else(|| StoreError::Invalid {
            key: key.to_string(),
            field: "milestone".into(),
            why: format!("there is no milestone {number} (it has {count})"),
        })
    };
    let dated = |d: NaiveDate| {
        crate::domain::period::check_date(d).map_err(|e| StoreError::Invalid {
            key: key.to_string(),
            field: "milestone".into(),
            why: e.to_string(),
        })
    };
    match action {
        MilestoneAction::Add { title, due } => {
            dated(*due)?;
            if title.trim().is_empty() {
                return Err(StoreError::Invalid { key: key.to_string(), field: "milestone".into(), why: "needs a title".into() });
            }
            let added: i64 = ctx.tx.query_row(
                "INSERT INTO milestones (measure_id, title, due_date) VALUES (?1, ?2, ?3) RETURNING id",
                params![id, title.trim(), due.to_string()],
                |r| r.get(0),
            )?;
            ctx.log(&key.to_string(), "milestone", None, Some(format!("{} due {due}", title.trim())));
            // Its number as `keel show` lists milestones: in due-date order.
            let number: i64 = ctx.tx.query_row(
                "SELECT COUNT(*) FROM milestones WHERE measure_id = ?1 AND (due_date < ?2 OR (due_date = ?2 AND id <= ?3))",
                params![id, due.to_string(), added],
                |r| r.get(0),
            )?;
            ctx.effects.push(format!("{key}: milestone {number} '{}' added, due {due}", title.trim()));
        }
        MilestoneAction::Done { number, on } => {
            let (mid, title, done) = nth(ctx, *number)?;
            let day = dated(on.unwrap_or(ctx.clock.today))?.to_string();
            ctx.tx.execute("UPDATE milestones SET done_date = ?1, version = version + 1 WHERE id = ?2", params![day, mid])?;
            ctx.log(
                &key.to_string(),
                &format!("milestone '{title}'"),
                done.map(|d| format!("done {d}")).or(Some("open".into())),
                Some(format!("done {day}")),
            );
            ctx.effects.push(format!("{key}: milestone {number} '{title}' done {day}"));
        }
        MilestoneAction::Reopen { number } => {
            let (mid, title, done) = nth(ctx, *number)?;
            ctx.tx.execute("UPDATE milestones SET done_date = NULL, version = version + 1 WHERE id = ?1", [mid])?;
            ctx.log(&key.to_string(), &format!("milestone '{title}'"), done.map(|d| format!("done {d}")), Some("open".into()));
            ctx.effects.push(format!("{key}: milestone {number} '{title}' reopened"));
        }
    }
    Ok(())
}

pub(super) fn link(ctx: &mut Ctx, from: &ItemKey, to: &ItemKey, remove: bool) -> Result<()> {
    let allowed = match from.kind {
        ItemKind::Measure => [ItemKind::KeyResult, ItemKind::Kpi].contains(&to.kind),
        ItemKind::Kpi => [ItemKind::KeyResult, ItemKind::Objective].contains(&to.kind),
        _ => false,
    };
    if !allowed {
        return Err(StoreError::Invalid {
            key: from.to_string(),
            field: "link".into(),
            why: format!(
                "cannot link a {} to a {}: measures link to key results or KPIs; KPIs to key results or objectives",
                from.kind, to.kind
            ),
        });
    }
    let (fid, tid) = (resolve(ctx.tx, from)?, resolve(ctx.tx, to)?);
    may_edit(ctx, from.kind, fid, from)?;
    if from.kind == ItemKind::Measure {
        // Detailed needs a link to a key result or KPI.
        ctx.touched_gates.insert(fid);
    }
    let n = if remove {
        ctx.tx.execute("DELETE FROM links WHERE from_id = ?1 AND to_id = ?2", params![fid, tid])?
    } else {
        ctx.tx.execute("INSERT INTO links (from_id, to_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![fid, tid])?
    };
    if n > 0 {
        let (old, new) = if remove { (Some(to.to_string()), None) } else { (None, Some(to.to_string())) };
        ctx.log(&from.to_string(), "link", old, new);
    }
    Ok(())
}

pub(super) fn depend(ctx: &mut Ctx, key: &ItemKey, on: &ItemKey, remove: bool) -> Result<()> {
    require_kind(key, &[ItemKind::Measure], "depends_on")?;
    require_kind(on, &[ItemKind::Measure], "depends_on")?;
    let (id, on_id) = (resolve(ctx.tx, key)?, resolve(ctx.tx, on)?);
    may_edit(ctx, key.kind, id, key)?;
    if remove {
        if ctx.tx.execute("DELETE FROM dependencies WHERE measure_id = ?1 AND depends_on_id = ?2", params![id, on_id])? > 0 {
            ctx.log(&key.to_string(), "depends_on", Some(on.to_string()), None);
        }
        return Ok(());
    }
    // Refuse a loop: `on` must not (transitively) depend on `key`.
    if let Some(why) = crate::store::structure::dependency_refusal(ctx.tx, key, id, on, on_id)? {
        return Err(StoreError::Invalid { key: key.to_string(), field: "depends_on".into(), why });
    }
    if ctx.tx.execute("INSERT INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![id, on_id])?
        > 0
    {
        ctx.log(&key.to_string(), "depends_on", None, Some(on.to_string()));
    }
    Ok(())
}

pub(super) fn setting(ctx: &mut Ctx, name: &str, value: &str) -> Result<()> {
    if !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission(format!("only a PMO administrator may change settings (you are {})", ctx.actor.display())));
    }
    let value = value.trim();
    let current: Vec<(String, String)> =
        ctx.tx.prepare("SELECT name, value FROM settings")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<DbResult<_>>()?;
    let pairs = current.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    if let Some(p) = crate::domain::settings::check_change(pairs, [(name, value)]).into_iter().next() {
        return Err(StoreError::Invalid {
            key: format!("setting {}", p.name),
            field: format!("'{}'", crate::domain::num::echo(&p.value)),
            why: p.why,
        });
    }
    let old = current.into_iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if old.as_deref() == Some(value) {
        return Ok(());
    }
    ctx.tx.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = settings.version + 1",
        params![name, value],
    )?;
    ctx.log("settings", name, old, Some(value.to_string()));
    ctx.effects.push(format!("setting {name} = {value}"));
    // Thresholds decide every item's escalation: reassess all of them under the new ones.
    rules::rebuild_all(ctx)
}

/// Record a decision on `key`; its row id.
pub(crate) fn decision(ctx: &mut Ctx, key: &ItemKey, text: &str, owner: Option<&ItemKey>) -> Result<i64> {
    let id = resolve(ctx.tx, key)?;
    crate::store::authority::guard_decision(ctx, key, id)?;
    if text.trim().is_empty() {
        return Err(StoreError::Invalid { key: key.to_string(), field: "decision".into(), why: "needs the text of the decision".into() });
    }
    let owner_id = match owner {
        Some(o) => {
            require_kind(o, &[ItemKind::Person], "decision owner")?;
            Some(resolve(ctx.tx, o)?)
        }
        None => None,
    };
    let decided: i64 = ctx.tx.query_row(
        "INSERT INTO decisions (item_id, text, decided_by, owner_id, at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![id, text.trim(), ctx.actor.login, owner_id, ctx.clock.stamp()],
        |r| r.get(0),
    )?;
    ctx.log(&key.to_string(), "decision", None, Some(text.trim().to_string()));
    Ok(decided)
}
