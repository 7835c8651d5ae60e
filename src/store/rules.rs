//! Runs the domain rules inside the write path on what an edit touched: money roll-ups along the
//! ancestor path, and the variance/escalation of each touched item. Also the from-scratch
//! recompute that tests (and `keel check --deep`) compare the incremental state with.

use super::audit::Entry;
use super::edit::{key_of, Ctx, EscalationAction};
use super::signals::{self, Calendar};
use super::{resolve, Result, StoreError};
use crate::domain::escalation::{self, Point, Thresholds, Tier, Transition};
use crate::domain::gates::{GateState, MeasureFacts};
use crate::domain::rollup::{measure_money, Money, PeriodMoney};
use crate::domain::signals::Verdict;
use crate::domain::{key_result, Direction, ItemKey, ItemKind, KrKind, Num, Period, SideState, Stage, ValueType};
use crate::store::engine::{params, Db, DbResult, OptionalExtension};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod differences;
mod triage;

pub use differences::derived_differences;
pub(crate) use triage::escalation_action;

/// Every touched item's values are read once, for both its money and its variance. The money
/// deltas of all touched measures are added up per node and stage first, so each funnel row is
/// written once however many of its measures changed (exact sums: the same result as one
/// measure at a time).
pub(crate) fn run(ctx: &mut Ctx) -> Result<()> {
    let cal = Calendar::read(ctx.tx, ctx.clock.today)?;
    let money = std::mem::take(&mut ctx.touched_money);
    let variance = std::mem::take(&mut ctx.touched_variance);
    let mut deltas: BTreeMap<(i64, String), Money> = BTreeMap::new();
    let mut paths: HashMap<i64, Vec<i64>> = HashMap::new();
    for &id in money.union(&variance) {
        let values = read_figures(ctx.tx, id)?;
        if money.contains(&id) {
            refresh_one(ctx.tx, id, &values, &mut deltas, &mut paths)?;
        }
        if variance.contains(&id) {
            reassess(ctx, id, &cal, &values)?;
        }
    }
    for ((node, stage), delta) in deltas {
        funnel_add(ctx.tx, node, &stage, delta)?;
    }
    Ok(())
}

/// One period of an item's numbers, as the rules need them: a lean read for the write path
/// (`read::values_of` also carries comments and authors, for display).
struct PeriodFigures {
    period: String,
    planned: Option<Num>,
    forecast: Option<Num>,
    actual: Option<Num>,
}

/// An item's values, oldest period first.
fn read_figures(conn: &Db, id: i64) -> Result<Vec<PeriodFigures>> {
    let mut stmt =
        conn.prepare_cached("SELECT period, planned, forecast, actual FROM item_values WHERE item_id = ?1 ORDER BY period_start")?;
    let rows =
        stmt.query_map([id], |r| Ok(PeriodFigures { period: r.get(0)?, planned: r.get(1)?, forecast: r.get(2)?, actual: r.get(3)? }))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

fn money_row(conn: &Db, sql: &str, id: i64) -> Result<Option<(Money, Option<String>, Option<i64>)>> {
    Ok(conn.prepare_cached(sql)?.query_row([id], |r| Ok((money_at(r, 0)?, r.get(3)?, r.get(4)?))).optional()?)
}

/// Planned, forecast and actual money from three columns from `at` on (none counts as zero).
fn money_at(r: &crate::store::engine::Row<'_>, at: usize) -> DbResult<Money> {
    Ok(Money {
        planned: r.get::<_, Option<Num>>(at)?.unwrap_or_default(),
        forecast: r.get::<_, Option<Num>>(at + 1)?.unwrap_or_default(),
        actual: r.get::<_, Option<Num>>(at + 2)?.unwrap_or_default(),
    })
}

/// A measure's money from its values, computed by the domain rule.
pub(crate) fn compute_measure_money(conn: &Db, id: i64, value_type: ValueType) -> Result<Money> {
    money_of(conn, id, &read_figures(conn, id)?, value_type)
}

/// A measure's totals as shown: blank where it holds no value (see [`crate::domain::rollup::shown_money`]);
/// the recompute oracle's way to it.
#[cfg(test)]
pub(crate) fn compute_shown_money(conn: &Db, id: i64, money: Money) -> Result<crate::domain::rollup::ShownMoney> {
    let periods: Vec<PeriodMoney> =
        read_figures(conn, id)?.iter().map(|v| PeriodMoney { planned: v.planned, forecast: v.forecast, actual: v.actual }).collect();
    Ok(crate::domain::rollup::shown_money(money, crate::domain::rollup::EnteredCounts::of(&periods)))
}

fn money_of(conn: &Db, id: i64, values: &[PeriodFigures], value_type: ValueType) -> Result<Money> {
    let periods: Vec<PeriodMoney> =
        values.iter().map(|v| PeriodMoney { planned: v.planned, forecast: v.forecast, actual: v.actual }).collect();
    measure_money(&periods, value_type).map_err(|e| StoreError::Invalid {
        key: key_of_conn(conn, id),
        field: "values".into(),
        why: e.to_string(),
    })
}

fn key_of_conn(conn: &Db, id: i64) -> String {
    conn.query_row("SELECT key FROM items WHERE id = ?1", [id], |r| r.get(0)).unwrap_or_else(|_| format!("#{id}"))
}

/// The node and all its ancestors, nearest first.
fn ancestors(conn: &Db, node: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE up(id, depth) AS (SELECT CAST(?1 AS BIGINT), 0 UNION ALL SELECT n.parent_id, up.depth + 1 FROM nodes n JOIN up ON n.id = up.id WHERE n.parent_id IS NOT NULL AND up.depth < 16)
         SELECT id FROM up ORDER BY depth",
    )?;
    let ids = stmt.query_map([node], |r| r.get(0))?.collect::<DbResult<_>>()?;
    Ok(ids)
}

fn funnel_add(conn: &Db, node: i64, stage: &str, delta: Money) -> Result<()> {
    let existing: Option<(Num, Num, Num)> = conn
        .prepare_cached("SELECT planned, forecast, actual FROM node_funnel WHERE node_id = ?1 AND stage = ?2")?
        .query_row(params![node, stage], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let base = match existing {
        Some((planned, forecast, actual)) => Money { planned, forecast, actual },
        None => Money::default(),
    };
    let overflow =
        |e: crate::domain::num::NumError| StoreError::Invalid { key: key_of_conn(conn, node), field: "roll-up".into(), why: e.to_string() };
    let sum = base.plus(delta).map_err(overflow)?;
    conn.prepare_cached(
        "INSERT INTO node_funnel (node_id, stage, planned, forecast, actual) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (node_id, stage) DO UPDATE SET planned = excluded.planned, forecast = excluded.forecast, actual = excluded.actual",
    )?
    .execute(params![node, stage, sum.planned.to_string(), sum.forecast.to_string(), sum.actual.to_string()])?;
    Ok(())
}

/// Re-sum a measure from its values, and add the difference to the deltas of its ancestor path.
fn refresh_one(
    conn: &Db,
    id: i64,
    values: &[PeriodFigures],
    deltas: &mut BTreeMap<(i64, String), Money>,
    paths: &mut HashMap<i64, Vec<i64>>,
) -> Result<()> {
    // The measure and the money it counted until now, in one query.
    type Row = (String, Option<String>, Option<i64>, String, bool, Money, Option<String>, Option<i64>);
    let (stage, side, package, value_type, retired, old_money, old_stage, old_package): Row = conn
        .prepare_cached(
            "SELECT m.stage, m.side_state, m.package_id, m.value_type, i.retired_at IS NOT NULL,
                    mm.planned, mm.forecast, mm.actual, mm.counted_stage, mm.counted_package
             FROM measures m JOIN items i ON i.id = m.id LEFT JOIN measure_money mm ON mm.measure_id = m.id WHERE m.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, money_at(r, 5)?, r.get(8)?, r.get(9)?)))?;
    let vt = ValueType::parse(&value_type).unwrap_or(ValueType::RecurringBenefit);
    let new = money_of(conn, id, values, vt)?;
    // A cancelled or retired measure no longer counts towards the funnel.
    let new_stage = if retired || side.as_deref() == Some(SideState::Cancelled.as_str()) { None } else { Some(stage) };
    let overflow =
        |e: crate::domain::num::NumError| StoreError::Invalid { key: key_of_conn(conn, id), field: "roll-up".into(), why: e.to_string() };
    let mut add = |package: i64, stage: &str, delta: Money| -> Result<()> {
        if let std::collections::hash_map::Entry::Vacant(v) = paths.entry(package) {
            v.insert(ancestors(conn, package)?);
        }
        for n in &paths[&package] {
            let e = deltas.entry((*n, stage.to_string())).or_default();
            *e = e.plus(delta).map_err(overflow)?;
        }
        Ok(())
    };
    if old_stage == new_stage && old_package == package {
        if let (Some(s), Some(p)) = (&new_stage, package) {
            let delta = new.minus(old_money).map_err(overflow)?;
            if !delta.is_zero() {
                add(p, s, delta)?;
            }
        }
    } else {
        if let (Some(s), Some(p)) = (&old_stage, old_package) {
            let minus = Money::default().minus(old_money).map_err(overflow)?;
            add(p, s, minus)?;
        }
        if let (Some(s), Some(p)) = (&new_stage, package) {
            add(p, s, new)?;
        }
    }
    conn.prepare_cached(
        "INSERT INTO measure_money (measure_id, planned, forecast, actual, counted_stage, counted_package) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (measure_id) DO UPDATE SET planned = excluded.planned, forecast = excluded.forecast, actual = excluded.actual,
             counted_stage = excluded.counted_stage, counted_package = excluded.counted_package",
    )?
    .execute(params![id, new.planned.to_string(), new.forecast.to_string(), new.actual.to_string(), new_stage, package])?;
    Ok(())
}

/// How an item's numbers are judged: its periods, direction, thresholds, and whether money.
pub(crate) struct VarianceInputs {
    pub points: Vec<Point>,
    pub direction: Direction,
    pub thresholds: Thresholds,
    pub money: bool,
    /// False for items that are not judged (milestone key results, cancelled measures).
    pub judged: bool,
}

fn variance_inputs(conn: &Db, id: i64, t: &Thresholds, values: &[PeriodFigures]) -> Result<VarianceInputs> {
    // A measure's own columns come with the item's row: one round trip, not two.
    let (kind_s, retired, value_type, side): (String, bool, Option<String>, Option<String>) = conn
        .prepare_cached(
            "SELECT i.kind, i.retired_at IS NOT NULL, m.value_type, m.side_state FROM items i LEFT JOIN measures m ON m.id = i.id WHERE i.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let kind = ItemKind::parse(&kind_s).unwrap_or(ItemKind::Measure);
    let mut thresholds = t.clone();
    // The line a period is judged against when no plan was typed for it.
    let mut line: Box<dyn Fn(Period) -> Option<Num>> = Box::new(|_| None);
    let (direction, money, judged) = match kind {
        ItemKind::Measure => {
            let vt = value_type.as_deref().and_then(ValueType::parse).unwrap_or(ValueType::RecurringBenefit);
            (vt.direction(), true, side.as_deref() != Some("cancelled"))
        }
        ItemKind::KeyResult => {
            type KrRow = (String, Option<Num>, Option<Num>, String, String);
            let (k, baseline, target, start, end): KrRow = conn
                .prepare_cached(
                    "SELECT k.kind, k.baseline, k.target, c.start_date, c.end_date
                     FROM key_results k JOIN objectives o ON o.id = k.objective_id JOIN cycles c ON c.id = o.cycle_id WHERE k.id = ?1",
                )?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            let k = KrKind::parse(&k).unwrap_or(KrKind::IncreaseTo);
            let complete = key_result::definition_problems(k, baseline, target).is_empty();
            if let (Ok(s), Ok(e)) = (NaiveDate::parse_from_str(&start, "%Y-%m-%d"), NaiveDate::parse_from_str(&end, "%Y-%m-%d")) {
                line = Box::new(move |p| key_result::line_for(k, baseline, target, (s, e), p));
            }
            // A key result whose definition is incomplete is never judged (nor graded).
            (key_result::direction(k).unwrap_or(Direction::HigherIsBetter), false, key_result::direction(k).is_some() && complete)
        }
        ItemKind::Kpi => {
            let (dir, target, tol): (String, Option<Num>, Option<Num>) = conn
                .prepare_cached("SELECT direction, target, tolerance FROM kpis WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            line = Box::new(move |_| target);
            if let Some(tol) = tol {
                thresholds.tolerance = tol;
            }
            (Direction::parse(&dir).unwrap_or(Direction::HigherIsBetter), false, true)
        }
        _ => (Direction::HigherIsBetter, false, false),
    };
    let points = values
        .iter()
        .filter_map(|v| {
            let period = Period::parse(&v.period).ok()?;
            Some(Point { period, planned: escalation::period_target(v.planned, line(period)), actual: v.actual })
        })
        .collect();
    // A retired item's numbers are kept but no longer judged.
    Ok(VarianceInputs { points, direction, thresholds, money, judged: judged && !retired })
}

/// The tier an item's numbers alone call for now (no signals).
pub(crate) fn computed_assessment(conn: &Db, id: i64, t: &Thresholds) -> Result<Option<escalation::Assessment>> {
    assessment_of(conn, id, t, &read_figures(conn, id)?)
}

fn assessment_of(conn: &Db, id: i64, t: &Thresholds, values: &[PeriodFigures]) -> Result<Option<escalation::Assessment>> {
    let v = variance_inputs(conn, id, t, values)?;
    if !v.judged {
        return Ok(None);
    }
    Ok(escalation::assess(&v.points, v.direction, &v.thresholds, v.money))
}

/// Who handles a tier: the owner, the sponsor (or the objective's owner for a key result), or
/// the steering committee.
fn assignee(conn: &Db, id: i64, tier: Tier) -> Result<(String, Option<i64>)> {
    let role = match tier {
        Tier::OwnerReview => "owner",
        Tier::SponsorAction => "sponsor",
        Tier::SteeringCommittee => return Ok(("steering committee".into(), None)),
    };
    let person: Option<i64> = conn
        .prepare_cached("SELECT CASE ?2
                WHEN 'owner' THEN COALESCE((SELECT owner_id FROM measures WHERE id = ?1), (SELECT owner_id FROM key_results WHERE id = ?1), (SELECT owner_id FROM kpis WHERE id = ?1))
                ELSE COALESCE((SELECT sponsor_id FROM measures WHERE id = ?1),
                              (SELECT o.owner_id FROM key_results k JOIN objectives o ON o.id = k.objective_id WHERE k.id = ?1),
                              (SELECT owner_id FROM kpis WHERE id = ?1))
             END")?.query_row(params![id, role],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok((role.to_string(), person))
}

/// DOMAIN "Variance and escalation" and "Confidence and update discipline", in one place: the
/// tier an item's numbers call for, raised by any signal beside them (confidence falling,
/// updates missed, its source failing).
fn verdict_of(conn: &Db, id: i64, cal: &Calendar, values: &[PeriodFigures]) -> Result<Option<Verdict>> {
    let assessment = assessment_of(conn, id, &cal.t, values)?;
    Ok(crate::domain::signals::verdict(assessment, &signals::signals_of(conn, id, cal, true)?))
}

/// The tier an item calls for leaving out missed updates, which grow with the calendar: the
/// stored tier may lag behind them until the next edit or `keel sync` (a recompute accepts any
/// tier between this and the full verdict).
fn tier_without_calendar(conn: &Db, id: i64, cal: &Calendar, values: &[PeriodFigures]) -> Result<Option<i64>> {
    let assessment = assessment_of(conn, id, &cal.t, values)?;
    let v = crate::domain::signals::verdict(assessment, &signals::signals_of(conn, id, cal, false)?);
    Ok(v.and_then(|v| v.tier).map(|t| t.number()))
}

fn reassess(ctx: &mut Ctx, id: i64, cal: &Calendar, values: &[PeriodFigures]) -> Result<()> {
    let t = &cal.t;
    let assessment = verdict_of(ctx.tx, id, cal, values)?;
    let computed = assessment.as_ref().and_then(|a| a.tier);
    let open: Option<(i64, i64)> = ctx
        .tx
        .prepare_cached("SELECT id, tier FROM escalations WHERE item_id = ?1 AND state = 'open'")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let key = key_of(ctx.tx, id)?;
    let now = ctx.clock.stamp();
    let due = |tier: Tier| {
        (ctx.clock.now + Duration::days(t.due_days[(tier.number() - 1) as usize])).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let transition = escalation::transition(open.and_then(|(_, t)| Tier::from_number(t)), computed);
    let event = |ctx: &Ctx, esc: i64, event: &str, detail: &str| -> Result<()> {
        ctx.tx
            .prepare_cached("INSERT INTO escalation_events (escalation_id, at, actor, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![esc, now, ctx.actor.login, event, detail])?;
        Ok(())
    };
    match (transition, &assessment) {
        (Transition::Open(tier), Some(a)) => {
            let (role, person) = assignee(ctx.tx, id, tier)?;
            let esc: i64 = ctx.tx.prepare_cached("INSERT INTO escalations (item_id, tier, state, reason, period, relative, gap, periods_out, assignee_role, assignee_id, opened_at, tier_changed_at, due_at)
                 VALUES (?1, ?2, 'open', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11) RETURNING id")?.query_row(params![id, tier.number(), a.reason, a.period.to_string(), a.relative.map(|r| r.round_dp(6).to_string()), a.gap.to_string(), a.periods_out, role, person, now, due(tier)],
                |r| r.get(0),
            )?;
            event(ctx, esc, "opened", &format!("{} — {}", tier.label(), a.reason))?;
            ctx.event(
                crate::store::events::Event::new("escalation-opened", &key)
                    .with("escalation", &esc.to_string())
                    .with("tier", tier.label())
                    .with("reason", &a.reason)
                    .with("assignee_role", &role),
            );
            push_log(ctx, &key, None, Some(tier.label().to_string()));
            ctx.effects.push(format!("{key}: {} — {}", tier.label(), a.reason));
        }
        (Transition::Raise { from, to } | Transition::Lower { from, to }, Some(a)) => {
            let (esc, _) = open.expect("an open escalation to move");
            let (role, person) = assignee(ctx.tx, id, to)?;
            let raised = to > from;
            ctx.tx.prepare_cached("UPDATE escalations SET tier = ?1, reason = ?2, period = ?3, relative = ?4, gap = ?5, periods_out = ?6, assignee_role = ?7, assignee_id = ?8,
                     tier_changed_at = ?9, due_at = ?10, acknowledged_by = CASE WHEN ?11 THEN NULL ELSE acknowledged_by END,
                     acknowledged_at = CASE WHEN ?11 THEN NULL ELSE acknowledged_at END, version = version + 1
                 WHERE id = ?12")?.execute(params![to.number(), a.reason, a.period.to_string(), a.relative.map(|r| r.round_dp(6).to_string()), a.gap.to_string(), a.periods_out, role, person, now, due(to), raised, esc],
            )?;
            let word = if raised { "raised" } else { "lowered" };
            event(ctx, esc, word, &format!("{} → {} — {}", from.label(), to.label(), a.reason))?;
            if raised {
                ctx.event(
                    crate::store::events::Event::new("escalation-raised", &key)
                        .with("escalation", &esc.to_string())
                        .with("from", from.label())
                        .with("tier", to.label())
                        .with("reason", &a.reason)
                        .with("assignee_role", &role),
                );
            }
            push_log(ctx, &key, Some(from.label().to_string()), Some(to.label().to_string()));
            ctx.effects.push(format!("{key}: {word} to {} — {}", to.label(), a.reason));
        }
        (Transition::Close { from }, _) => {
            let (esc, _) = open.expect("an open escalation to close");
            let why = assessment.as_ref().map(|a| a.reason.clone()).unwrap_or_else(|| "no numbers to judge".into());
            ctx.tx
                .prepare_cached(
                    "UPDATE escalations SET state = 'closed', closed_at = ?1, closed_by = 'keel', version = version + 1 WHERE id = ?2",
                )?
                .execute(params![now, esc])?;
            event(ctx, esc, "closed", &format!("{} closed by itself — {why}", from.label()))?;
            push_log(ctx, &key, Some(from.label().to_string()), None);
            ctx.effects.push(format!("{key}: {} closed — {why}", from.label()));
        }
        (Transition::Unchanged, Some(a)) if open.is_some() => {
            // Same tier: keep the figures current without a history entry.
            ctx.tx
                .prepare_cached("UPDATE escalations SET reason = ?1, period = ?2, relative = ?3, gap = ?4, periods_out = ?5 WHERE id = ?6")?
                .execute(params![
                    a.reason,
                    a.period.to_string(),
                    a.relative.map(|r| r.round_dp(6).to_string()),
                    a.gap.to_string(),
                    a.periods_out,
                    open.unwrap().0
                ])?;
        }
        _ => {}
    }
    Ok(())
}

fn push_log(ctx: &mut Ctx, key: &str, old: Option<String>, new: Option<String>) {
    ctx.audit.push(Entry {
        item_key: key.to_string(),
        field: "escalation".into(),
        old_value: old,
        new_value: new,
        reason: Some("rule".into()),
    });
}

/// A measure's gate state and the facts the gates judge, in one query (on a server each
/// question is a round trip, and an import asks this of every measure).
pub(crate) fn gate_inputs(conn: &Db, id: i64) -> Result<(GateState, MeasureFacts)> {
    Ok(conn
        .prepare_cached(
            "SELECT m.stage, m.side_state, m.side_reason, m.pending_stage, m.requested_by, m.sponsor_approved_by, m.controller_signed_by, m.validated_by,
                m.owner_id, m.sponsor_id, m.controller_id, m.business_unit_id IS NOT NULL, m.function_id IS NOT NULL, m.potential,
                (SELECT COUNT(*) FROM milestones ms WHERE ms.measure_id = m.id),
                (SELECT COUNT(*) FROM milestones ms WHERE ms.measure_id = m.id AND ms.done_date IS NULL),
                EXISTS (SELECT 1 FROM item_values v WHERE v.item_id = m.id AND v.planned IS NOT NULL),
                EXISTS (SELECT 1 FROM item_values v WHERE v.item_id = m.id AND v.actual IS NOT NULL),
                EXISTS (SELECT 1 FROM links l JOIN items i ON i.id = l.to_id WHERE l.from_id = m.id AND i.kind IN ('key-result', 'kpi'))
         FROM measures m WHERE m.id = ?1",
        )?
        .query_row([id], |r| {
            let state = GateState {
                stage: Stage::parse(&r.get::<_, String>(0)?),
                side_state: r.get::<_, Option<String>>(1)?.as_deref().and_then(SideState::parse),
                side_reason: r.get(2)?,
                pending: r.get::<_, Option<String>>(3)?.as_deref().and_then(Stage::parse),
                requested_by: r.get(4)?,
                sponsor_approved_by: r.get(5)?,
                controller_signed_by: r.get(6)?,
                validated_by: r.get(7)?,
            };
            let facts = MeasureFacts {
                owner: r.get(8)?,
                sponsor: r.get(9)?,
                controller: r.get(10)?,
                business_unit_set: r.get(11)?,
                function_set: r.get(12)?,
                potential: r.get(13)?,
                milestones: r.get::<_, i64>(14)? as usize,
                milestones_open: r.get::<_, i64>(15)? as usize,
                has_planned_values: r.get(16)?,
                has_actual_values: r.get(17)?,
                linked_to_kr_or_kpi: r.get(18)?,
            };
            Ok((state, facts))
        })?)
}

pub(crate) fn write_gate_state(ctx: &mut Ctx, key: &ItemKey, id: i64, old: &GateState, new: &GateState) -> Result<()> {
    let k = key.to_string();
    let person = |ctx: &Ctx, p: Option<i64>| -> Result<Option<String>> { p.map(|i| key_of(ctx.tx, i)).transpose() };
    let pairs: [(&str, Option<String>, Option<String>); 8] = [
        ("stage", old.stage.map(|s| s.to_string()), new.stage.map(|s| s.to_string())),
        ("side_state", old.side_state.map(|s| s.to_string()), new.side_state.map(|s| s.to_string())),
        ("side_reason", old.side_reason.clone(), new.side_reason.clone()),
        ("pending_stage", old.pending.map(|s| s.to_string()), new.pending.map(|s| s.to_string())),
        ("requested_by", person(ctx, old.requested_by)?, person(ctx, new.requested_by)?),
        ("sponsor_approved_by", person(ctx, old.sponsor_approved_by)?, person(ctx, new.sponsor_approved_by)?),
        ("controller_signed_by", person(ctx, old.controller_signed_by)?, person(ctx, new.controller_signed_by)?),
        ("validated_by", person(ctx, old.validated_by)?, person(ctx, new.validated_by)?),
    ];
    ctx.tx.execute(
        "UPDATE measures SET stage = ?1, side_state = ?2, side_reason = ?3, pending_stage = ?4, requested_by = ?5,
             sponsor_approved_by = ?6, controller_signed_by = ?7, validated_by = ?8, version = version + 1 WHERE id = ?9",
        params![
            new.stage.unwrap_or(Stage::Defined).as_str(),
            new.side_state.map(|s| s.as_str()),
            new.side_reason,
            new.pending.map(|s| s.as_str()),
            new.requested_by,
            new.sponsor_approved_by,
            new.controller_signed_by,
            new.validated_by,
            id
        ],
    )?;
    for (field, o, n) in pairs {
        if o != n {
            ctx.log(&k, field, o, n);
        }
    }
    Ok(())
}

/// After a plan import, run the rules on what it brought: the measures it created and the items
/// it gave values to, as every edit runs them on what it touched. This is what rebuilding every
/// derived row would give, without reading the whole file: the rest of the file was consistent
/// and its numbers did not change. Two things a full rebuild would also change are covered:
/// new settings (thresholds) reassess everything, and items whose escalation a person resolved
/// while their numbers still call for one are reassessed (and so reopened) as a rebuild would.
pub(crate) fn rebuild_after_import(ctx: &mut Ctx, measures: &[i64], valued: &BTreeSet<i64>, settings_changed: bool) -> Result<()> {
    if settings_changed {
        return rebuild_all(ctx);
    }
    let new: BTreeSet<i64> = measures.iter().copied().collect();
    ctx.touched_money.extend(&new);
    for &id in valued {
        let is_measure = new.contains(&id)
            || ctx.tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM measures WHERE id = ?1)")?.query_row([id], |r| r.get::<_, bool>(0))?;
        if is_measure {
            ctx.touched_money.insert(id);
        }
        ctx.touched_variance.insert(id);
    }
    let resolved: Vec<i64> = {
        let mut stmt = ctx.tx.prepare(
            "SELECT DISTINCT e.item_id FROM escalations e
             WHERE e.closed_by IS NOT NULL AND e.closed_by <> 'keel'
               AND NOT EXISTS (SELECT 1 FROM escalations o WHERE o.item_id = e.item_id AND o.state = 'open')
               AND EXISTS (SELECT 1 FROM item_values v WHERE v.item_id = e.item_id)",
        )?;
        let r = stmt.query_map([], |r| r.get(0))?;
        r.collect::<DbResult<_>>()?
    };
    ctx.touched_variance.extend(resolved);
    Ok(())
}

/// Rebuild every derived row from the values (used after a plan import).
pub(crate) fn rebuild_all(ctx: &mut Ctx) -> Result<()> {
    rebuild_money(ctx)?;
    // Every item with values or a source: signals (a failed source) judge items without values too.
    for id in signals::signalled_items(ctx.tx)? {
        ctx.touched_variance.insert(id);
    }
    Ok(())
}

/// Re-sum every measure's money and the funnel from nothing (when [`run`] runs next).
pub(crate) fn rebuild_money(ctx: &mut Ctx) -> Result<()> {
    ctx.tx.execute("DELETE FROM node_funnel", [])?;
    ctx.tx.execute("DELETE FROM measure_money", [])?;
    let ids: Vec<i64> = {
        let mut stmt = ctx.tx.prepare("SELECT id FROM measures ORDER BY id")?;
        let r = stmt.query_map([], |r| r.get(0))?;
        r.collect::<DbResult<_>>()?
    };
    for id in ids {
        ctx.touched_money.insert(id);
    }
    Ok(())
}
