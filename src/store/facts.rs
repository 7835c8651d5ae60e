//! The facts `keel check` judges objectives by (health checks, top-down targets), for every
//! objective at once: what the measures give was folded batch by batch (`statuses::fold`), the
//! rest comes from a few whole-table queries as large as the objectives, KPIs and key results.
//! The same figures as `Store::objective_facts` and `Engine::bottom_up`, which gather them per
//! objective; the bottom-up sum itself is the domain's `rollup::objective_bottom_up`.

use super::statuses::Served;
use super::Result;
use crate::domain::health::ObjectiveFacts;
use crate::domain::{IpoClass, Num};
use crate::store::engine::{Db, DbResult, Row};
use std::collections::{BTreeSet, HashMap};
#[cfg(test)]
use {crate::domain::rollup::Money, std::collections::HashSet};

/// An objective's health facts and its top-down target, if it has a valid one.
pub(crate) struct Facts {
    pub health: ObjectiveFacts,
    pub target: Option<Num>,
}

#[cfg(test)]
fn each(c: &Db, sql: &str, mut f: impl FnMut(&Row) -> DbResult<()>) -> Result<()> {
    let mut s = c.prepare(sql)?;
    let mut rows = s.query([])?;
    while let Some(r) = rows.next()? {
        f(&r)?;
    }
    Ok(())
}

fn all<T>(c: &Db, sql: &str, f: impl FnMut(&Row) -> DbResult<T>) -> Result<Vec<T>> {
    let mut s = c.prepare(sql)?;
    let r = s.query_map([], f)?;
    Ok(r.collect::<DbResult<_>>()?)
}

/// Facts for every objective, in key order. `served` gives, per objective, the facts of the
/// measures serving its key results (folded batch by batch while their statuses were computed).
pub(crate) fn objective_facts(c: &Db, served: &HashMap<i64, Served>) -> Result<Vec<(i64, Facts)>> {
    let base: Vec<(i64, String, String, bool, bool, Option<String>)> = all(
        c,
        "SELECT o.id, i.key, o.title, o.parent_id IS NOT NULL, EXISTS (SELECT 1 FROM objectives x WHERE x.parent_id = o.id), o.target
         FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL ORDER BY i.num",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    let mut units: HashMap<i64, Vec<String>> = HashMap::new();
    for (o, key) in all(
        c,
        "SELECT ou.objective_id, i.key FROM objective_units ou JOIN items i ON i.id = ou.unit_id ORDER BY ou.objective_id, ou.unit_id",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )? {
        units.entry(o).or_default().push(key);
    }
    let kr_objective: HashMap<i64, i64> =
        all(c, "SELECT id, objective_id FROM key_results", |r| Ok((r.get(0)?, r.get(1)?)))?.into_iter().collect();
    let mut key_results: HashMap<i64, usize> = HashMap::new();
    for o in kr_objective.values() {
        *key_results.entry(*o).or_default() += 1;
    }
    // KPIs informing the objective or one of its key results, each KPI once.
    let mut kpis: HashMap<i64, BTreeSet<(i64, String)>> = HashMap::new();
    for (to, kpi, class) in all(c, "SELECT l.to_id, k.id, k.ipo_class FROM kpis k JOIN links l ON l.from_id = k.id", |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
    })? {
        let objective = kr_objective.get(&to).copied().unwrap_or(to);
        kpis.entry(objective).or_default().insert((kpi, class));
    }
    let mut out = Vec::with_capacity(base.len());
    for (id, key, title, has_parent, has_children, target) in base {
        let ms = served.get(&id).copied().unwrap_or_default();
        let f = ObjectiveFacts {
            key,
            title,
            has_parent,
            has_children,
            units: units.remove(&id).unwrap_or_default(),
            kpi_classes: kpis.get(&id).into_iter().flatten().filter_map(|(_, c)| IpoClass::parse(c)).collect(),
            measures: ms.measures,
            key_results: key_results.get(&id).copied().unwrap_or(0),
            measure_owners_missing: ms.owners_missing,
            risks_written: ms.risks_written,
            milestones: ms.milestones,
            money_values: ms.planned_values,
            cadence_set: ms.with_cadence > 0,
            dependencies: ms.dependencies,
        };
        out.push((id, Facts { health: f, target: target.and_then(|s| Num::parse(&s).ok()) }));
    }
    Ok(out)
}

/// (Tests: the whole-table figure `keel check`'s fold is compared with.)
/// The bottom-up value of these objectives: the money (from `measure_money`) of the distinct,
/// not cancelled measures serving the key results of the objective and of those cascaded from it.
#[cfg(test)]
pub(crate) fn bottom_up(c: &Db, ids: impl Iterator<Item = i64>) -> Result<HashMap<i64, Money>> {
    let wanted: Vec<i64> = ids.collect();
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (id, parent) in
        all(c, "SELECT id, parent_id FROM objectives WHERE parent_id IS NOT NULL", |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
    {
        children.entry(parent).or_default().push(id);
    }
    let mut serving: HashMap<i64, Vec<i64>> = HashMap::new();
    for (o, m) in all(
        c,
        // A retired measure is out of every roll-up, as the per-subtree figure has it.
        "SELECT k.objective_id, l.from_id FROM links l JOIN key_results k ON k.id = l.to_id
         JOIN measures m ON m.id = l.from_id JOIN items i ON i.id = m.id AND i.retired_at IS NULL
         WHERE m.side_state IS DISTINCT FROM 'cancelled'",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
    )? {
        serving.entry(o).or_default().push(m);
    }
    let num = |s: Option<String>| s.and_then(|s| Num::from_stored(&s)).unwrap_or_default();
    let served: HashSet<i64> = serving.values().flatten().copied().collect();
    let mut money: HashMap<i64, Money> = HashMap::with_capacity(served.len());
    each(c, "SELECT measure_id, planned, forecast, actual FROM measure_money", |r| {
        let id: i64 = r.get(0)?;
        if served.contains(&id) {
            money.insert(id, Money { planned: num(r.get(1)?), forecast: num(r.get(2)?), actual: num(r.get(3)?) });
        }
        Ok(())
    })?;
    let none: &[i64] = &[];
    for id in wanted {
        let sum = crate::domain::rollup::objective_bottom_up(
            id,
            |o| children.get(&o).map_or(none, Vec::as_slice),
            |o| serving.get(&o).map_or(none, Vec::as_slice),
            |m| money.get(&m).copied(),
        )
        .map_err(|e| super::StoreError::Invalid { key: "roll-up".into(), field: "sum".into(), why: e.to_string() })?;
        out.insert(id, sum);
    }
    Ok(out)
}
