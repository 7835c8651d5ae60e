//! What must still hold after an edit's changes are applied, checked in the same transaction
//! before the rules run: every key result the edit touched is consistently defined, every
//! objective's weights are sound, and every measure still meets the criteria of its stage. The
//! rules are the domain's; this gathers the facts. A definition that breaks refuses the edit; a
//! stage whose criteria broke drops back, recorded as a rule action.

use super::edit::{key_of, Ctx};
use super::{rules, Result, StoreError};
use crate::domain::{gates, key_result, ItemKey, KrKind, Num, Stage};
use crate::store::engine::{params, Db};

/// What is wrong with a key result's definition (empty when nothing is).
pub(crate) fn key_result_problems(conn: &Db, id: i64) -> Result<Vec<String>> {
    let (kind, baseline, target): (String, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT kind, baseline, target FROM key_results WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let kind = KrKind::parse(&kind).unwrap_or(KrKind::IncreaseTo);
    let num = |s: Option<String>| s.and_then(|s| Num::from_stored(&s));
    Ok(key_result::definition_problems(kind, num(baseline), num(target)))
}

/// What is wrong with the weights of an objective's key results.
pub(crate) fn weight_problem(conn: &Db, objective: i64) -> Result<Option<String>> {
    let weights: Vec<Num> = {
        let mut stmt = conn.prepare_cached("SELECT weight FROM key_results WHERE objective_id = ?1")?;
        let rows = stmt.query_map([objective], |r| r.get::<_, String>(0))?;
        rows.filter_map(|w| w.ok().and_then(|w| Num::from_stored(&w))).collect()
    };
    Ok(key_result::weight_problems(&weights))
}

pub(crate) fn enforce(ctx: &mut Ctx) -> Result<()> {
    for id in std::mem::take(&mut ctx.touched_definitions) {
        let problems = key_result_problems(ctx.tx, id)?;
        if !problems.is_empty() {
            return Err(StoreError::Invalid { key: key_of(ctx.tx, id)?, field: "definition".into(), why: problems.join("; ") });
        }
        let objective: i64 = ctx.tx.prepare_cached("SELECT objective_id FROM key_results WHERE id = ?1")?.query_row([id], |r| r.get(0))?;
        ctx.touched_objectives.insert(objective);
    }
    for objective in std::mem::take(&mut ctx.touched_objectives) {
        if let Some(why) = weight_problem(ctx.tx, objective)? {
            return Err(StoreError::Invalid { key: key_of(ctx.tx, objective)?, field: "weight".into(), why });
        }
    }
    for id in std::mem::take(&mut ctx.touched_gates) {
        hold_stage(ctx, id)?;
    }
    Ok(())
}

/// Drop a measure back to the highest stage whose criteria still hold, if its own no longer do:
/// never a Decided or Closed measure with money nobody checked.
fn hold_stage(ctx: &mut Ctx, id: i64) -> Result<()> {
    let (state, facts) = rules::gate_inputs(ctx.tx, id)?;
    let from = state.stage.unwrap_or(Stage::Defined);
    let to = gates::supported_stage(&state, &facts);
    if to == from {
        return Ok(());
    }
    let lacks = gates::stage_lacks(from, &state, &facts).join("; ");
    let key = ItemKey::parse(&key_of(ctx.tx, id)?).map_err(|e| StoreError::Invalid {
        key: id.to_string(),
        field: "key".into(),
        why: e.to_string(),
    })?;
    let new = gates::dropped_to(&state, to);
    rules::write_gate_state(ctx, &key, id, &state, &new)?;
    let detail = format!("moved back {from} → {to} by the rules: {from} needs {lacks}");
    ctx.tx.execute(
        "INSERT INTO gate_events (measure_id, at, actor, action, outcome, from_stage, to_stage, detail)
         VALUES (?1, ?2, ?3, 'rule', 'moved', ?4, ?5, ?6)",
        params![id, ctx.clock.stamp(), ctx.actor.login, from.as_str(), to.as_str(), detail],
    )?;
    ctx.log(&key.to_string(), "rule", Some(from.to_string()), Some(format!("{to}: {from} needs {lacks}")));
    ctx.effects.push(format!("{key}: {detail}"));
    // The funnel counts its money in the new stage.
    ctx.touched_money.insert(id);
    Ok(())
}
