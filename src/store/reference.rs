//! The per-item read models: each status worked out for one item by a few queries of its own,
//! written straight from the rules. They are the reference the bulk engine (`statuses.rs`, which
//! the app, the CLI and `keel check` use) is tested against, item by item and status by status
//! (`check_ref.rs`) — a second, independent reading of the same rules, kept for tests only.

use super::read::{node_total, values_of, ItemStatus, KpiStatus, KrStatus, MeasureStatus, ObjectiveStatus};
use super::rules::{self, compute_measure_money};
use super::{Clock, Result};
use crate::domain::escalation::{Thresholds, Tier};
use crate::domain::health;
use crate::domain::scoring::{self, KrNumbers};
use crate::domain::status::{self, Implementation, MilestoneFacts, Rag};
use crate::domain::{key_result, Cadence, Direction, IpoClass, ItemKind, KrKind, Num, Period, SideState, Stage, ValueType};
use crate::store::engine::{params, Db, DbResult, OptionalExtension};
use chrono::NaiveDate;

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// When the item's actuals (of periods that have begun) were last updated, if ever.
fn last_update(conn: &Db, id: i64, today: NaiveDate) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT MAX(COALESCE(reported_at, updated_at)) FROM item_values WHERE item_id = ?1 AND actual IS NOT NULL AND period_start <= ?2",
            params![id, today.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Staleness by the domain rule: the newest period with an actual that has begun, and the
/// item's first period. Also how many days since the last entry.
fn is_stale(conn: &Db, id: i64, last: Option<&str>, cadence: Cadence, today: NaiveDate) -> Result<(bool, Option<i64>)> {
    let days = last.and_then(date).map(|d| (today - d).num_days());
    let period = |sql: &str| -> Result<Option<Period>> {
        let p: Option<String> = conn.query_row(sql, params![id, today.to_string()], |r| r.get(0)).optional()?.flatten();
        Ok(p.and_then(|p| Period::parse(&p).ok()))
    };
    let latest = period(
        "SELECT period FROM item_values WHERE item_id = ?1 AND actual IS NOT NULL AND period_start <= ?2 ORDER BY period_start DESC LIMIT 1",
    )?;
    let first = period("SELECT period FROM item_values WHERE item_id = ?1 AND ?2 = ?2 ORDER BY period_start LIMIT 1")?;
    Ok((status::is_stale(latest, first.map(|p| p.start()), cadence, today), days))
}

fn implementation_of(conn: &Db, id: i64, clock: Clock, t: &Thresholds, depth: u8) -> Result<Implementation> {
    let milestones: Vec<(String, String, Option<String>)> = {
        let mut stmt = conn.prepare_cached("SELECT title, due_date, done_date FROM milestones WHERE measure_id = ?1")?;
        let r = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        r.collect::<DbResult<_>>()?
    };
    let facts: Vec<MilestoneFacts> = milestones
        .iter()
        .filter_map(|(t, due, done)| Some(MilestoneFacts { title: t, due: date(due)?, done: done.as_deref().and_then(date) }))
        .collect();
    let mut deps = Vec::new();
    if depth < 8 {
        let ids: Vec<(i64, String)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT d.depends_on_id, i.key FROM dependencies d JOIN items i ON i.id = d.depends_on_id WHERE d.measure_id = ?1",
            )?;
            let r = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            r.collect::<DbResult<_>>()?
        };
        for (dep, key) in ids {
            // A prerequisite counts only by its own milestones, so a late chain names its source.
            let own = implementation_of(conn, dep, clock, t, depth + 1)?;
            deps.push((key, own.level));
        }
    }
    Ok(status::implementation(&facts, &deps, clock.today, t))
}

pub fn measure_status(conn: &Db, id: i64, clock: Clock, t: &Thresholds) -> Result<MeasureStatus> {
    let (stage, side, vt, cadence): (String, Option<String>, String, String) =
        conn.query_row("SELECT stage, side_state, value_type, cadence FROM measures WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let value_type = ValueType::parse(&vt).unwrap_or(ValueType::RecurringBenefit);
    let cadence = Cadence::parse(&cadence).unwrap_or(Cadence::Weekly);
    let money = compute_measure_money(conn, id, value_type)?;
    let shown_money = crate::store::rules::compute_shown_money(conn, id, money)?;
    let implementation = implementation_of(conn, id, clock, t, 0)?;
    let last = last_update(conn, id, clock.today)?;
    let has_values: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM item_values WHERE item_id = ?1)", [id], |r| r.get(0))?;
    let stage = Stage::parse(&stage).unwrap_or(Stage::Defined);
    let side_state = side.as_deref().and_then(SideState::parse);
    // Only measures being worked on owe updates: with values, past defined, not closed or stopped.
    let reporting = has_values && stage != Stage::Closed && side_state.is_none();
    let (stale, days) = if reporting { is_stale(conn, id, last.as_deref(), cadence, clock.today)? } else { (false, None) };
    // Net money: compare the plan and the forecast in the measure's own direction.
    let potential = status::measure_potential(money, value_type, t, stale);
    Ok(MeasureStatus {
        stage,
        side_state,
        implementation,
        potential,
        money,
        shown_money,
        value_type,
        cadence,
        stale,
        days_since_update: days,
        last_update: last,
    })
}

fn elapsed_share(conn: &Db, objective: i64, today: NaiveDate) -> Result<Num> {
    let (s, e): (String, String) = conn.query_row(
        "SELECT c.start_date, c.end_date FROM objectives o JOIN cycles c ON c.id = o.cycle_id WHERE o.id = ?1",
        [objective],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(s), Some(e)) = (date(&s), date(&e)) else { return Ok(Num::ONE) };
    Ok(key_result::elapsed_share(s, e, today))
}

fn open_tier(conn: &Db, id: i64) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT tier FROM escalations WHERE item_id = ?1 AND state = 'open'", [id], |r| r.get(0)).optional()?)
}

pub fn kr_status(conn: &Db, id: i64, clock: Clock, t: &Thresholds) -> Result<KrStatus> {
    type Row = (i64, String, Option<Num>, Option<Num>, String, i64, Option<String>, Option<String>);
    let r: Row = conn.query_row(
        "SELECT objective_id, kind, baseline, target, weight, milestone_done, manual_status, status_explanation FROM key_results WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
    )?;
    let kind = KrKind::parse(&r.1).unwrap_or(KrKind::IncreaseTo);
    let values = values_of(conn, id, None)?;
    let actuals: Vec<Num> =
        values.iter().filter(|v| Period::parse(&v.period).is_ok_and(|p| p.start() <= clock.today)).filter_map(|v| v.actual).collect();
    let target = r.3;
    let score = scoring::score_key_result(&KrNumbers { kind, baseline: r.2, target, actuals: &actuals, milestone_done: r.5 == 1 });
    // A late or red measure puts the key results it serves at risk.
    let serving: Vec<(i64, String)> = {
        let mut stmt = conn.prepare_cached("SELECT m.id, i.key FROM links l JOIN measures m ON m.id = l.from_id JOIN items i ON i.id = m.id WHERE l.to_id = ?1 ORDER BY i.num")?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<DbResult<_>>()?
    };
    let mut facts = Vec::new();
    for (mid, key) in serving {
        let ms = measure_status(conn, mid, clock, t)?;
        facts.push((key, ms.implementation.level, ms.potential, ms.side_state == Some(SideState::Cancelled)));
    }
    let at_risk = status::key_result_at_risk(facts.iter().map(|(k, l, p, c)| (k.as_str(), *l, *p, *c)));
    let elapsed = elapsed_share(conn, r.0, clock.today)?;
    let last = last_update(conn, id, clock.today)?;
    let (stale, days) = if !values.is_empty() && kind != KrKind::Milestone {
        is_stale(conn, id, last.as_deref(), Cadence::Weekly, clock.today)?
    } else {
        (false, None)
    };
    let computed =
        status::key_result_rag(kind, score.map(|s| s.grade), elapsed, !at_risk.is_empty(), open_tier(conn, id)?).unless_stale(stale);
    let shown = status::shown(computed, r.6.as_deref().and_then(Rag::parse), r.7.as_deref());
    Ok(KrStatus {
        kind,
        score,
        shown,
        at_risk,
        latest_actual: actuals.last().copied(),
        target,
        weight: Num::parse(&r.4).unwrap_or(Num::ONE),
        stale,
        days_since_update: days,
        last_update: last,
    })
}

/// An objective's status, from its subtree computed children first with an explicit stack (no
/// recursion, so any depth of alignment is safe).
pub fn objective_status(conn: &Db, id: i64, clock: Clock, t: &Thresholds) -> Result<ObjectiveStatus> {
    let children_of = |o: i64| -> Result<Vec<i64>> {
        let mut stmt = conn.prepare_cached("SELECT id FROM objectives WHERE parent_id = ?1")?;
        let r = stmt.query_map([o], |r| r.get(0))?;
        Ok(r.collect::<DbResult<_>>()?)
    };
    // Pre-order with children pushed after their parent; computed in reverse, children first.
    let (mut order, mut stack, mut seen) = (Vec::new(), vec![id], std::collections::HashSet::new());
    while let Some(o) = stack.pop() {
        if seen.insert(o) {
            let children = children_of(o)?;
            stack.extend(children.iter().copied());
            order.push((o, children));
        }
    }
    let mut done: std::collections::HashMap<i64, ObjectiveStatus> = std::collections::HashMap::new();
    for (o, children) in order.into_iter().rev() {
        let krs: Vec<i64> = {
            let mut stmt = conn.prepare_cached("SELECT id FROM key_results WHERE objective_id = ?1")?;
            let r = stmt.query_map([o], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        let mut grades = Vec::new();
        let mut kr_colours = Vec::new();
        for kr in &krs {
            let s = kr_status(conn, *kr, clock, t)?;
            grades.push((s.score.map(|x| x.grade), s.weight));
            kr_colours.push(s.shown.computed);
        }
        let child_colours: Vec<Rag> = children.iter().filter_map(|c| done.get(c)).map(|s| s.shown.computed).collect();
        let computed = status::objective_colour(&kr_colours, &child_colours);
        let (manual, explanation): (Option<String>, Option<String>) =
            conn.query_row("SELECT manual_status, status_explanation FROM objectives WHERE id = ?1", [o], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let shown = status::shown(computed, manual.as_deref().and_then(Rag::parse), explanation.as_deref());
        done.insert(o, ObjectiveStatus { progress: scoring::objective_progress(&grades), shown, key_results: krs.len() });
    }
    Ok(done.remove(&id).expect("the root is computed last"))
}

pub fn kpi_status(conn: &Db, id: i64, clock: Clock, t: &Thresholds) -> Result<KpiStatus> {
    type Row = (String, String, Option<Num>, Option<Num>, Option<String>, Option<String>, Option<String>);
    let r: Row = conn.query_row(
        "SELECT ipo_class, direction, target, tolerance, timeframe, data_source, frequency FROM kpis WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
    )?;
    let missing = health::kpi_gaps(r.2.is_some(), r.4.is_some(), r.5.is_some(), r.6.is_some());
    let values = values_of(conn, id, None)?;
    let latest = values.iter().rev().find(|v| v.actual.is_some());
    let target = r.2;
    let direction = Direction::parse(&r.1).unwrap_or(Direction::HigherIsBetter);
    let cadence = r.6.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Monthly);
    let last = last_update(conn, id, clock.today)?;
    let (stale, days) = if values.is_empty() { (false, None) } else { is_stale(conn, id, last.as_deref(), cadence, clock.today)? };
    let rag = match rules::computed_assessment(conn, id, t)? {
        Some(a) => match a.tier {
            None => Rag::Green,
            Some(Tier::OwnerReview) => Rag::Amber,
            Some(_) => Rag::Red,
        },
        None => Rag::NoData,
    }
    .unless_stale(stale);
    Ok(KpiStatus {
        ipo_class: IpoClass::parse(&r.0).unwrap_or(IpoClass::Outcome),
        direction,
        latest_actual: latest.and_then(|v| v.actual),
        target,
        rag,
        stale,
        cadence,
        days_since_update: days,
        last_update: last,
        missing,
    })
}

pub fn item_status(conn: &Db, kind: ItemKind, id: i64, clock: Clock, t: &Thresholds) -> Result<ItemStatus> {
    let tier = open_tier(conn, id)?;
    let blank = ItemStatus::blank(tier);
    Ok(match kind {
        ItemKind::Measure => {
            let m = measure_status(conn, id, clock, t)?;
            let rag = status::with_escalation(m.potential, tier);
            ItemStatus {
                rag,
                stage: Some(m.stage),
                side_state: m.side_state,
                implementation: Some(m.implementation.level),
                stale: m.stale,
                ..blank
            }
        }
        ItemKind::KeyResult => {
            let k = kr_status(conn, id, clock, t)?;
            ItemStatus {
                rag: k.shown.rag,
                progress: k.score.map(|s| s.grade),
                flagged: k.shown.green_without_explanation,
                stale: k.stale,
                ..blank
            }
        }
        ItemKind::Objective => {
            let o = objective_status(conn, id, clock, t)?;
            ItemStatus { rag: o.shown.rag, progress: o.progress, flagged: o.shown.green_without_explanation, ..blank }
        }
        ItemKind::Kpi => {
            let k = kpi_status(conn, id, clock, t)?;
            ItemStatus { rag: k.rag, stale: k.stale, ..blank }
        }
        k if k.node().is_some() => ItemStatus { rag: status::node_potential(node_total(conn, id)?, t), ..blank },
        _ => blank,
    })
}
