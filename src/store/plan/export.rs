//! Reading the whole organisation back out as a plan (`keel export --format json`), in a fixed
//! order, so that export → import → export is byte-identical.
//!
//! The plan is read as a stream of [`PlanRow`]s, section by section, items a page at a time by
//! key (their number), so that what is held at once is one page however large the file: the
//! export writes each row as it comes, and [`Store::export_plan`] gathers them for the callers
//! that want a whole [`Plan`] (the demo's who-is-who, benchmarks, tests).

use super::*;

/// How many items (with their values) one read takes.
pub const EXPORT_PAGE: usize = 2_000;

/// One element of the plan, in the plan's order: each section whole before the next.
#[derive(Clone, Debug)]
pub enum PlanRow {
    Cycle(p::Cycle),
    Unit(p::Unit),
    Person(p::Person),
    Kra(p::Kra),
    Objective(p::Objective),
    KeyResult(p::KeyResult),
    Kpi(p::Kpi),
    Node(p::Node),
    // Boxed: a measure is much the largest row.
    Measure(Box<p::Measure>),
    Value(p::Value),
    Decision(p::Decision),
    Retired(p::Retired),
}

/// One value, with what the values export shows beside it: its item's title.
pub struct ValueOf<'a> {
    pub value: p::Value,
    pub title: &'a str,
}

fn kind_rank(kind: &str) -> usize {
    ItemKind::ALL.iter().position(|k| k.as_str() == kind).unwrap_or(usize::MAX)
}

fn opt_num(s: Option<String>) -> Option<Num> {
    s.and_then(|s| Num::parse(&s).ok())
}

fn key(c: &Db, id: Option<i64>) -> DbResult<Option<String>> {
    match id {
        Some(i) => c.query_row("SELECT key FROM items WHERE id = ?1", [i], |r| r.get(0)).map(Some),
        None => Ok(None),
    }
}

/// Every item of `kind` (retired ones too; only those when `retired`), by number, `page` at a
/// time, as (id, number, key).
fn items_paged(
    c: &Db,
    kind: ItemKind,
    page: usize,
    retired: bool,
    mut each: impl FnMut(&[(i64, i64, String)]) -> Result<()>,
) -> Result<()> {
    let sql = if retired {
        "SELECT id, num, key FROM items WHERE kind = ?1 AND num > ?2 AND retired_at IS NOT NULL ORDER BY num LIMIT ?3"
    } else {
        "SELECT id, num, key FROM items WHERE kind = ?1 AND num > ?2 ORDER BY num LIMIT ?3"
    };
    let page = page.max(1);
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, i64, String)> =
            c.query_map(sql, params![kind.as_str(), after, page as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.1;
        each(&rows)?;
        if rows.len() < page {
            return Ok(());
        }
    }
}

/// The keys an item links to, in the plan's order (by kind, then number).
fn linked(c: &Db, from: i64) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached("SELECT i.key FROM links l JOIN items i ON i.id = l.to_id WHERE l.from_id = ?1")?;
    let mut keys: Vec<(usize, u32, String)> = stmt
        .query_map([from], |r| r.get::<_, String>(0))?
        .filter_map(|k| k.ok())
        .filter_map(|k| ItemKey::parse(&k).ok().map(|p| (kind_rank(p.kind.as_str()), p.number, k)))
        .collect();
    keys.sort();
    Ok(keys.into_iter().map(|(_, _, k)| k).collect())
}

fn cycle(c: &Db, id: i64, k: String) -> Result<p::Cycle> {
    let (name, s, e): (String, String, String) =
        c.query_row("SELECT name, start_date, end_date FROM cycles WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(p::Cycle { key: k, name, start: s.parse().unwrap_or_default(), end: e.parse().unwrap_or_default() })
}

fn unit(c: &Db, id: i64, k: String) -> Result<p::Unit> {
    let (name, kind, parent): (String, String, Option<i64>) =
        c.query_row("SELECT name, kind, parent_id FROM units WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(p::Unit { key: k, name, kind: UnitKind::parse(&kind).unwrap_or(UnitKind::BusinessUnit), parent: key(c, parent)? })
}

fn person(c: &Db, id: i64, k: String) -> Result<p::Person> {
    let (name, login, email, unit, admin): (String, Option<String>, Option<String>, Option<i64>, i64) =
        c.query_row("SELECT name, login, email, unit_id, pmo_admin FROM people WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    Ok(p::Person { key: k, name, login, email, unit: key(c, unit)?, pmo_admin: admin == 1 })
}

fn kra(c: &Db, id: i64, k: String) -> Result<p::Kra> {
    let (name, owner): (String, Option<i64>) =
        c.query_row("SELECT name, owner_id FROM kras WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(p::Kra { key: k, name, owner: key(c, owner)? })
}

fn node(c: &Db, id: i64, k: String, kind: ItemKind) -> Result<p::Node> {
    let (title, parent, owner, target): (String, Option<i64>, Option<i64>, Option<String>) =
        c.query_row("SELECT title, parent_id, owner_id, target FROM nodes WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok(p::Node {
        key: k,
        kind: kind.node().unwrap_or(NodeKind::Package),
        title,
        parent: key(c, parent)?,
        owner: key(c, owner)?,
        target: opt_num(target),
    })
}

fn objective(c: &Db, id: i64, k: String) -> Result<p::Objective> {
    type Row = (i64, String, Option<String>, Option<i64>, Option<i64>, String, Option<String>, Option<String>, Option<String>);
    let r: Row = c.query_row(
        "SELECT cycle_id, title, description, owner_id, parent_id, level, manual_status, status_explanation, target FROM objectives WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
    )?;
    let units: Vec<String> = {
        let mut stmt = c.prepare_cached(
            "SELECT i.key FROM objective_units ou JOIN items i ON i.id = ou.unit_id WHERE ou.objective_id = ?1 ORDER BY i.num",
        )?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        rows.collect::<DbResult<_>>()?
    };
    Ok(p::Objective {
        key: k,
        cycle: key(c, Some(r.0))?.unwrap_or_default(),
        title: r.1,
        description: r.2,
        owner: key(c, r.3)?,
        parent: key(c, r.4)?,
        level: Level::parse(&r.5).unwrap_or(Level::Company),
        units,
        manual_status: r.6,
        status_explanation: r.7,
        target: opt_num(r.8),
    })
}

fn key_result(c: &Db, id: i64, k: String) -> Result<p::KeyResult> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
        i64,
        Option<String>,
        Option<String>,
    );
    let r: Row = c.query_row(
        "SELECT objective_id, title, kind, baseline, target, unit, weight, confidence, owner_id, milestone_done, manual_status, status_explanation FROM key_results WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)),
    )?;
    Ok(p::KeyResult {
        key: k,
        objective: key(c, Some(r.0))?.unwrap_or_default(),
        title: r.1,
        kind: KrKind::parse(&r.2).unwrap_or(KrKind::IncreaseTo),
        baseline: opt_num(r.3),
        target: opt_num(r.4),
        unit: r.5,
        weight: Num::parse(&r.6).unwrap_or(Num::ONE),
        confidence: opt_num(r.7),
        owner: key(c, r.8)?,
        milestone_done: r.9 == 1,
        manual_status: r.10,
        status_explanation: r.11,
        narrative: c.query_row("SELECT narrative FROM key_results WHERE id = ?1", [id], |r| r.get(0))?,
    })
}

fn kpi(c: &Db, id: i64, k: String) -> Result<p::Kpi> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let r: Row = c.query_row(
        "SELECT title, ipo_class, unit, direction, target, tolerance, timeframe, data_source, frequency, owner_id, kra_id FROM kpis WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?)),
    )?;
    Ok(p::Kpi {
        key: k,
        title: r.0,
        ipo_class: IpoClass::parse(&r.1).unwrap_or(IpoClass::Outcome),
        unit: r.2,
        direction: Direction::parse(&r.3).unwrap_or(Direction::HigherIsBetter),
        target: opt_num(r.4),
        tolerance: opt_num(r.5),
        timeframe: r.6,
        data_source: r.7,
        frequency: r.8.as_deref().and_then(Cadence::parse),
        owner: key(c, r.9)?,
        kra: key(c, r.10)?,
        informs: linked(c, id)?,
        narrative: c.query_row("SELECT narrative FROM kpis WHERE id = ?1", [id], |r| r.get(0))?,
    })
}

fn measure(c: &Db, id: i64, k: String) -> Result<p::Measure> {
    let m = c.query_row(
        "SELECT package_id, title, description, owner_id, sponsor_id, controller_id, business_unit_id, function_id, kra_id, stage, side_state, side_reason,
                pending_stage, requested_by, sponsor_approved_by, controller_signed_by, validated_by, cadence, value_type, potential,
                narrative, decision_needed, risk, next_steps
         FROM measures WHERE id = ?1",
        [id],
        |r| {
            Ok(p::Measure {
                key: k.clone(),
                package: key(c, r.get(0)?)?,
                title: r.get(1)?,
                description: r.get(2)?,
                owner: key(c, r.get(3)?)?,
                sponsor: key(c, r.get(4)?)?,
                controller: key(c, r.get(5)?)?,
                business_unit: key(c, r.get(6)?)?,
                function: key(c, r.get(7)?)?,
                kra: key(c, r.get(8)?)?,
                stage: Stage::parse(&r.get::<_, String>(9)?).unwrap_or(Stage::Defined),
                side_state: r.get::<_, Option<String>>(10)?.as_deref().and_then(SideState::parse),
                side_reason: r.get(11)?,
                pending_stage: r.get::<_, Option<String>>(12)?.as_deref().and_then(Stage::parse),
                requested_by: key(c, r.get(13)?)?,
                sponsor_approved_by: key(c, r.get(14)?)?,
                controller_signed_by: key(c, r.get(15)?)?,
                validated_by: key(c, r.get(16)?)?,
                cadence: Cadence::parse(&r.get::<_, String>(17)?).unwrap_or(Cadence::Weekly),
                value_type: ValueType::parse(&r.get::<_, String>(18)?).unwrap_or(ValueType::RecurringBenefit),
                potential: opt_num(r.get(19)?),
                narrative: r.get(20)?,
                decision_needed: r.get(21)?,
                risk: r.get(22)?,
                next_steps: r.get(23)?,
                contributes_to: vec![],
                depends_on: vec![],
                milestones: vec![],
            })
        },
    )?;
    let mut m = m;
    m.contributes_to = linked(c, id)?;
    m.depends_on = {
        let mut stmt = c.prepare_cached(
            "SELECT i.key FROM dependencies d JOIN items i ON i.id = d.depends_on_id WHERE d.measure_id = ?1 ORDER BY i.num",
        )?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        rows.collect::<DbResult<_>>()?
    };
    m.milestones = {
        let mut stmt = c.prepare_cached("SELECT title, due_date, done_date FROM milestones WHERE measure_id = ?1 ORDER BY due_date, id")?;
        let rows = stmt.query_map([id], |r| {
            Ok(p::Milestone {
                title: r.get(0)?,
                due: r.get::<_, String>(1)?.parse().unwrap_or_default(),
                done: r.get::<_, Option<String>>(2)?.and_then(|d| d.parse().ok()),
            })
        })?;
        rows.collect::<DbResult<_>>()?
    };
    Ok(m)
}

/// The values of one page of items (numbers `after` < num ≤ `last` of `kind`), in the plan's
/// order: by item, then by the period's start, then by the period as written.
fn values_page(c: &Db, kind: ItemKind, after: i64, last: i64) -> Result<Vec<(i64, p::Value)>> {
    let mut rows: Vec<(i64, i64, String, p::Value)> = c.query_map(
        "SELECT i.id, i.num, i.key, v.period, v.baseline, v.planned, v.forecast, v.actual, v.comment, COALESCE(v.reported_by, v.updated_by), COALESCE(v.reported_at, v.updated_at), v.confidence
         FROM item_values v JOIN items i ON i.id = v.item_id WHERE i.kind = ?1 AND i.num > ?2 AND i.num <= ?3",
        params![kind.as_str(), after, last],
        |r| {
            let period: String = r.get(3)?;
            let start = Period::parse(&period).map(|p| p.start().to_string()).unwrap_or_default();
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                start,
                p::Value {
                    item: r.get(2)?,
                    period,
                    baseline: opt_num(r.get(4)?),
                    planned: opt_num(r.get(5)?),
                    forecast: opt_num(r.get(6)?),
                    actual: opt_num(r.get(7)?),
                    confidence: opt_num(r.get(11)?),
                    comment: r.get(8)?,
                    by: r.get(9)?,
                    at: r.get(10)?,
                },
            ))
        },
    )?;
    rows.sort_by(|a, b| (a.1, &a.2, &a.3.period).cmp(&(b.1, &b.2, &b.3.period)));
    Ok(rows.into_iter().map(|r| (r.0, r.3)).collect())
}

impl Store {
    /// The whole organisation as a plan, in a fixed order, gathered in memory: for a file of any
    /// size, [`Store::export_plan_each`] instead.
    pub fn export_plan(&self) -> Result<Plan> {
        let mut plan = Plan { format: p::FORMAT.into(), version: p::FORMAT_VERSION, ..Default::default() };
        plan.settings = self.export_settings()?;
        self.export_plan_each(EXPORT_PAGE, &mut |row| {
            match row {
                PlanRow::Cycle(x) => plan.cycles.push(x),
                PlanRow::Unit(x) => plan.units.push(x),
                PlanRow::Person(x) => plan.people.push(x),
                PlanRow::Kra(x) => plan.kras.push(x),
                PlanRow::Objective(x) => plan.objectives.push(x),
                PlanRow::KeyResult(x) => plan.key_results.push(x),
                PlanRow::Kpi(x) => plan.kpis.push(x),
                PlanRow::Node(x) => plan.nodes.push(x),
                PlanRow::Measure(x) => plan.measures.push(*x),
                PlanRow::Value(x) => plan.values.push(x),
                PlanRow::Decision(x) => plan.decisions.push(x),
                PlanRow::Retired(x) => plan.retired.push(x),
            }
            Ok(())
        })?;
        Ok(plan)
    }

    /// The plan's settings: those keel knows, by name.
    pub fn export_settings(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut stmt = self.conn().prepare("SELECT name, value FROM settings ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (name, value) = row?;
            if crate::store::SETTINGS.iter().any(|(s, _)| *s == name) {
                out.insert(name, value);
            }
        }
        Ok(out)
    }

    /// Every element of the plan after its settings, handed to `row` in the plan's order; items
    /// are read `page` at a time, so memory holds one page however large the file.
    pub fn export_plan_each(&self, page: usize, row: &mut dyn FnMut(PlanRow) -> Result<()>) -> Result<()> {
        let c = self.conn();
        let page = page.max(1);
        items_paged(c, ItemKind::Cycle, page, false, |p| {
            p.iter().try_for_each(|(id, _, k)| row(PlanRow::Cycle(cycle(c, *id, k.clone())?)))
        })?;
        items_paged(c, ItemKind::Unit, page, false, |p| p.iter().try_for_each(|(id, _, k)| row(PlanRow::Unit(unit(c, *id, k.clone())?))))?;
        items_paged(c, ItemKind::Person, page, false, |p| {
            p.iter().try_for_each(|(id, _, k)| row(PlanRow::Person(person(c, *id, k.clone())?)))
        })?;
        items_paged(c, ItemKind::Kra, page, false, |p| p.iter().try_for_each(|(id, _, k)| row(PlanRow::Kra(kra(c, *id, k.clone())?))))?;
        items_paged(c, ItemKind::Objective, page, false, |p| {
            p.iter().try_for_each(|(id, _, k)| row(PlanRow::Objective(objective(c, *id, k.clone())?)))
        })?;
        items_paged(c, ItemKind::KeyResult, page, false, |p| {
            p.iter().try_for_each(|(id, _, k)| row(PlanRow::KeyResult(key_result(c, *id, k.clone())?)))
        })?;
        items_paged(c, ItemKind::Kpi, page, false, |p| p.iter().try_for_each(|(id, _, k)| row(PlanRow::Kpi(kpi(c, *id, k.clone())?))))?;
        for kind in [ItemKind::Portfolio, ItemKind::Programme, ItemKind::Project, ItemKind::Package] {
            items_paged(c, kind, page, false, |p| p.iter().try_for_each(|(id, _, k)| row(PlanRow::Node(node(c, *id, k.clone(), kind)?))))?;
        }
        items_paged(c, ItemKind::Measure, page, false, |p| {
            p.iter().try_for_each(|(id, _, k)| row(PlanRow::Measure(Box::new(measure(c, *id, k.clone())?))))
        })?;
        self.export_values_paged(page, false, &mut |v| row(PlanRow::Value(v.value)))?;
        // Decisions by (at, id), a page at a time.
        let mut after: Option<(String, i64)> = None;
        loop {
            let map = |r: &crate::store::engine::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
            const COLUMNS: &str =
                "SELECT d.id, i.key, d.text, d.decided_by, d.at, d.owner_id FROM decisions d JOIN items i ON i.id = d.item_id";
            let rows: Vec<(i64, String, String, String, String, Option<i64>)> = match &after {
                None => c.query_map(&format!("{COLUMNS} ORDER BY d.at, d.id LIMIT ?1"), params![page as i64], map)?,
                Some((at, id)) => c.query_map(
                    &format!("{COLUMNS} WHERE d.at > ?1 OR (d.at = ?1 AND d.id > ?2) ORDER BY d.at, d.id LIMIT ?3"),
                    params![at, id, page as i64],
                    map,
                )?,
            };
            let full = rows.len() >= page;
            for (id, item, text, by, at, owner) in rows {
                after = Some((at.clone(), id));
                row(PlanRow::Decision(p::Decision { item, text, by, at, owner: key(c, owner)? }))?;
            }
            if !full {
                break;
            }
        }
        for &kind in ItemKind::ALL.iter() {
            items_paged(c, kind, page, true, |p| {
                for (id, _, k) in p {
                    let (at, reason): (String, String) =
                        c.query_row("SELECT retired_at, COALESCE(retired_reason, '') FROM items WHERE id = ?1", [*id], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?;
                    row(PlanRow::Retired(p::Retired { key: k.clone(), at, reason }))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Every value of the file in the plan's order, a page of items at a time; with each item's
    /// title when `titles` (the values export shows it).
    pub fn export_values_paged(&self, page: usize, titles: bool, each: &mut dyn FnMut(ValueOf<'_>) -> Result<()>) -> Result<()> {
        let c = self.conn();
        for &kind in ItemKind::ALL.iter() {
            let mut after = 0;
            items_paged(c, kind, page, false, |items| {
                let last = items.last().map_or(after, |i| i.1);
                let mut title: (i64, String) = (0, String::new());
                for (id, value) in values_page(c, kind, after, last)? {
                    if titles && title.0 != id {
                        title = (id, crate::store::read::title_of(c, id)?);
                    }
                    each(ValueOf { value, title: &title.1 })?;
                }
                after = last;
                Ok(())
            })?;
        }
        Ok(())
    }
}
