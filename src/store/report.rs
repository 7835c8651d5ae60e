//! Read models for reports and exports: the steering committee report's tree (objective → key
//! result → measure), the flat item and value lists the CSV exports write, and the lookups the
//! values import checks its rows against.
//!
//! Every status and number here comes from the read functions in `read.rs` and from
//! [`Store::check`], the same ones the TUI and `keel check` use, so a report never shows a figure
//! that the app would not. This file only selects and groups.

use super::engine::IdBatch;
use super::read::{self, KpiStatus, KrStatus, MeasureStatus, ObjectiveStatus, ValueRow};
use super::{resolve, Result, Store, StoreError};
use crate::domain::rollup::{Money, TargetGap};
use crate::domain::{ItemKey, ItemKind, Num, SideState, Stage};
use crate::store::engine::{params, Db, DbResult, OptionalExtension, Params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub mod check_lists;
mod item_rows;
pub mod stream;
pub use item_rows::ItemRow;

/// What a report covers: everything, or one cycle and/or one unit (with its sub-units).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scope {
    /// (key, name) of the cycle, when the report is limited to one.
    pub cycle: Option<(String, String)>,
    /// (key, name) of the unit, when the report is limited to one.
    pub unit: Option<(String, String)>,
}

impl Scope {
    pub fn is_whole_file(&self) -> bool {
        self.cycle.is_none() && self.unit.is_none()
    }
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((k, n)) = &self.cycle {
            parts.push(format!("cycle {k} {n}"));
        }
        if let Some((k, n)) = &self.unit {
            parts.push(format!("unit {k} {n} (with its sub-units)"));
        }
        if parts.is_empty() {
            "the whole file".into()
        } else {
            parts.join(", ")
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct KrBlock {
    #[serde(skip)]
    pub(crate) id: i64,
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    /// What the numbers count, e.g. `%` or `EUR`.
    pub unit: Option<String>,
    pub baseline: Option<Num>,
    pub status: KrStatus,
    /// The newest forecast entered for the key result, if any.
    pub forecast: Option<Num>,
    pub explanation: Option<String>,
    /// Measures in scope serving this key result, by key.
    pub measures: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveBlock {
    pub key: String,
    pub title: String,
    pub cycle: String,
    pub owner: Option<String>,
    pub level: String,
    pub parent: Option<String>,
    pub units: Vec<String>,
    pub status: ObjectiveStatus,
    pub explanation: Option<String>,
    /// Top-down target against the bottom-up forecast of the measures serving it.
    pub target_gap: Option<TargetGap>,
    pub key_results: Vec<KrBlock>,
    /// KPIs that inform the objective or one of its key results.
    pub kpis: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeasureBlock {
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    pub sponsor: Option<String>,
    pub business_unit: Option<String>,
    pub status: MeasureStatus,
    pub narrative: Option<String>,
    pub decision_needed: Option<String>,
    pub risk: Option<String>,
    pub next_steps: Option<String>,
    /// Key results and KPIs it contributes to.
    pub serves: Vec<String>,
    /// The tier of its open escalation (1–3), if one is open.
    pub tier: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KpiBlock {
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    pub unit: Option<String>,
    pub status: KpiStatus,
    /// The last twelve periods, oldest first (for the trend charts).
    pub values: Vec<ValueRow>,
}

/// Everything the steering committee report shows, for one scope.
#[derive(Clone, Debug)]
pub struct ReportModel {
    pub today: String,
    pub scope: Scope,
    /// `keel check`'s read model; when the report is scoped, only the rows of items in scope.
    pub check: check_lists::ReportCheck,
    pub objectives: Vec<ObjectiveBlock>,
    /// Every measure in scope, by key number.
    pub measures: Vec<MeasureBlock>,
    /// Measures in scope that serve none of the key results in the report.
    pub unlinked_measures: Vec<String>,
    pub kpis: Vec<KpiBlock>,
    /// For a scoped report, the value funnel of the measures in scope (net money by DoI stage);
    /// the whole-file report uses the programme and portfolio funnel of `check` instead.
    pub scoped_funnel: Option<Vec<(Stage, Money)>>,
    /// The currency of money amounts (the `currency` setting), when the file names one.
    pub currency: Option<String>,
    /// Net money of every measure in scope, summed (cancelled measures do not count).
    pub measure_totals: Money,
    /// How the report was narrowed (`--only`, `--depth`), said at its top; empty for the full one.
    pub narrowed: Vec<String>,
    /// For `--as-of PERIOD`, what the report shows (the file as it stood when the period ended).
    pub as_of: Option<String>,
    /// How deep the tree goes: 1 objectives, 2 key results, 3 measures (the full report).
    pub depth: u8,
    /// For a streamed report, what it needs to read its measures a page at a time (its
    /// `measures`, `unlinked_measures` and key results' `measures` are then left empty).
    pub(crate) stream: Option<stream::Streamed>,
    /// Items in scope whose owners gave a confidence, with its trend (issue 20).
    pub confidence: Vec<super::signals::ConfidenceRow>,
    /// Where each measure and KPI stands in its list, by key (made on first use: a report of
    /// 100,000 measures looks each one up several times).
    index: std::sync::OnceLock<HashMap<String, usize>>,
}

impl ReportModel {
    /// Forget the positions of measures and KPIs after the lists changed.
    pub(crate) fn reindex(&mut self) {
        self.index = Default::default();
    }

    fn position(&self, key: &str) -> Option<usize> {
        let index = self.index.get_or_init(|| {
            let measures = self.measures.iter().enumerate().map(|(i, m)| (m.key.clone(), i));
            measures.chain(self.kpis.iter().enumerate().map(|(i, k)| (k.key.clone(), i))).collect()
        });
        index.get(key).copied()
    }

    pub fn measure(&self, key: &str) -> Option<&MeasureBlock> {
        self.position(key).and_then(|i| self.measures.get(i)).filter(|m| m.key == key)
    }

    pub fn kpi(&self, key: &str) -> Option<&KpiBlock> {
        self.position(key).and_then(|i| self.kpis.get(i)).filter(|k| k.key == key)
    }
}

fn ids(conn: &Db, sql: &str, p: impl Params) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| r.get(0))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

fn key_of(conn: &Db, id: i64) -> Result<String> {
    Ok(conn.query_row("SELECT key FROM items WHERE id = ?1", [id], |r| r.get(0))?)
}

fn person(conn: &Db, id: Option<i64>) -> Result<Option<String>> {
    match id {
        Some(i) => Ok(conn.query_row("SELECT name FROM people WHERE id = ?1", [i], |r| r.get(0)).optional()?),
        None => Ok(None),
    }
}

/// Find a cycle or unit by key (`C-1`) or by name (`FY26-Q4`), case-insensitively.
pub(super) fn find_named(conn: &Db, kind: ItemKind, table: &str, given: &str) -> Result<(i64, String, String)> {
    let by_key = ItemKey::parse(given).ok().filter(|k| k.kind == kind).map(|k| k.to_string());
    let sql = format!(
        "SELECT t.id, i.key, t.name FROM {table} t JOIN items i ON i.id = t.id
         WHERE i.key = ?1 OR lower(t.name) = lower(?2) ORDER BY i.num LIMIT 1"
    );
    conn.query_row(&sql, params![by_key.unwrap_or_default(), given.trim()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| StoreError::Invalid {
            key: format!("--{}", if kind == ItemKind::Cycle { "cycle" } else { "unit" }),
            field: given.to_string(),
            why: format!("no {kind} with that key or name"),
        })
}

/// A measure's block but its status and tier: key, title, its owner's, sponsor's and business
/// unit's names, its four texts, what it serves.
struct OwnRow {
    key: String,
    title: String,
    people: [Option<String>; 3],
    texts: [Option<String>; 4],
    serves: Vec<String>,
}

/// The report's blocks of these measures, each around its status and open escalation's tier
/// (computed by the caller), in the order given: two queries for the lot, not seven a measure.
pub(super) fn measure_blocks(c: &Db, measures: Vec<(i64, MeasureStatus, Option<i64>)>) -> Result<Vec<MeasureBlock>> {
    let ids: Vec<i64> = measures.iter().map(|m| m.0).collect();
    let batch = IdBatch::of(&ids);
    let mut own: HashMap<i64, OwnRow> = HashMap::with_capacity(ids.len());
    let sql = format!(
        "SELECT m.id, i.key, m.title, o.name, s.name, u.name, m.narrative, m.decision_needed, m.risk, m.next_steps
         FROM measures m JOIN items i ON i.id = m.id LEFT JOIN people o ON o.id = m.owner_id LEFT JOIN people s ON s.id = m.sponsor_id
         LEFT JOIN units u ON u.id = m.business_unit_id WHERE {}",
        batch.condition(c, "m.id", 1)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query([batch.param()])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if !batch.keeps(id) {
            continue;
        }
        let texts = [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?];
        own.insert(id, OwnRow { key: r.get(1)?, title: r.get(2)?, people: [r.get(3)?, r.get(4)?, r.get(5)?], texts, serves: Vec::new() });
    }
    // The live key results and KPIs each serves, by kind then number.
    let sql = format!(
        "SELECT l.from_id, t.key FROM links l JOIN items t ON t.id = l.to_id AND t.retired_at IS NULL WHERE {} ORDER BY l.from_id, t.kind, t.num",
        batch.condition(c, "l.from_id", 1)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query([batch.param()])?;
    while let Some(r) = rows.next()? {
        if let Some(block) = own.get_mut(&r.get::<_, i64>(0)?) {
            block.serves.push(r.get(1)?);
        }
    }
    measures
        .into_iter()
        .map(|(id, status, tier)| {
            let r = own.remove(&id).ok_or(StoreError::Database(crate::store::engine::Error::NoRows))?;
            let [owner, sponsor, business_unit] = r.people;
            let [narrative, decision_needed, risk, next_steps] = r.texts;
            Ok(MeasureBlock {
                key: r.key,
                title: r.title,
                owner,
                sponsor,
                business_unit,
                status,
                narrative,
                decision_needed,
                risk,
                next_steps,
                serves: r.serves,
                tier,
            })
        })
        .collect()
}

/// Add a measure's net money to the report's totals and, when given, to its stage of the scoped
/// funnel (cancelled measures do not count).
pub(super) fn add_money(totals: &mut Money, by_stage: Option<&mut Vec<(Stage, Money)>>, key: &str, s: &MeasureStatus) -> Result<()> {
    if s.side_state == Some(SideState::Cancelled) {
        return Ok(());
    }
    let bad = |e: crate::domain::num::NumError| StoreError::Invalid { key: key.to_string(), field: "roll-up".into(), why: e.to_string() };
    *totals = totals.plus(s.money).map_err(bad)?;
    if let Some(by_stage) = by_stage {
        let slot = &mut by_stage[s.stage.index()].1;
        *slot = slot.plus(s.money).map_err(bad)?;
    }
    Ok(())
}

/// The newest non-empty forecast among an item's values.
fn latest_forecast(values: &[ValueRow]) -> Option<Num> {
    values.iter().rev().find_map(|v| v.forecast)
}

impl Store {
    /// The steering committee report's model for a scope (`cycle` and `unit` by key or name).
    pub fn report(&self, cycle: Option<&str>, unit: Option<&str>) -> Result<ReportModel> {
        self.report_with(cycle, unit, false)
    }

    /// The report's model, whole (`lazy` false) or without its measures (`lazy`: they are read a
    /// page at a time as the report is written, see [`stream`]).
    pub(crate) fn report_with(&self, cycle: Option<&str>, unit: Option<&str>, lazy: bool) -> Result<ReportModel> {
        let c = self.conn();
        let clock = self.clock();
        let cycle = cycle.map(|s| find_named(c, ItemKind::Cycle, "cycles", s)).transpose()?;
        let unit = unit.map(|s| find_named(c, ItemKind::Unit, "units", s)).transpose()?;
        let scope = Scope {
            cycle: cycle.as_ref().map(|(_, k, n)| (k.clone(), n.clone())),
            unit: unit.as_ref().map(|(_, k, n)| (k.clone(), n.clone())),
        };
        let units: Option<BTreeSet<i64>> = match &unit {
            Some((id, _, _)) => Some(
                ids(
                    c,
                    "WITH RECURSIVE sub(id, depth) AS (SELECT CAST(?1 AS BIGINT), 0 UNION SELECT u.id, sub.depth + 1 FROM units u JOIN sub ON u.parent_id = sub.id WHERE sub.depth < 16)
                     SELECT id FROM sub",
                    [id],
                )?
                .into_iter()
                .collect(),
            ),
            None => None,
        };
        let cycle_id = cycle.as_ref().map(|x| x.0);
        let scoped = stream::MeasureScope { units: units.clone(), cycle: cycle_id };

        // Measures in scope: of the unit (business unit or function), serving the cycle's key results.
        let all_measures: Vec<(i64, Option<i64>, Option<i64>)> = if lazy {
            Vec::new()
        } else {
            let mut s =
                c.prepare("SELECT m.id, m.business_unit_id, m.function_id FROM measures m JOIN items i ON i.id = m.id AND i.retired_at IS NULL ORDER BY i.num")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let mut measure_ids = Vec::new();
        for (id, bu, func) in all_measures.into_iter().filter(|_| !lazy) {
            if scoped.contains(c, id, bu, func)? {
                measure_ids.push(id);
            }
        }
        let measure_set: BTreeSet<i64> = measure_ids.iter().copied().collect();

        // Objectives in scope: of the cycle, and tagged with the unit or served by its measures.
        let mut objectives = Vec::new();
        let all_objectives =
            ids(c, "SELECT o.id FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL ORDER BY i.num", [])?;
        // A streamed report works out the tree's statuses as `keel check` does, a batch of
        // measures at a time; the whole model asks for each objective's subtree.
        let tree = if lazy {
            let krs = ids(c, "SELECT k.id FROM key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL", [])?;
            Some(self.folded_tree(&all_objectives, &krs)?)
        } else {
            None
        };
        let kr_status = |kr: i64| match tree.as_ref().and_then(|t| t.krs.get(&kr)) {
            Some(s) => Ok(s.clone()),
            None => self.with_statuses(|e| e.kr(kr)),
        };
        let objective_status = |o: i64| match tree.as_ref().and_then(|t| t.objectives.get(&o)) {
            Some(s) => Ok(s.clone()),
            None => self.with_statuses(|e| e.objective(o)),
        };
        let bottom_up = |o: i64| match &tree {
            Some(t) => Ok(t.bottom_up.get(&o).copied().unwrap_or_default()),
            None => self.with_statuses(|e| e.bottom_up(o)),
        };
        for oid in all_objectives {
            type Row = (i64, String, Option<i64>, String, Option<i64>, Option<String>, Option<String>);
            let r: Row = c.query_row(
                "SELECT o.cycle_id, o.title, o.owner_id, o.level, o.parent_id, o.status_explanation, o.target FROM objectives o WHERE o.id = ?1",
                [oid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )?;
            if cycle_id.is_some_and(|cy| cy != r.0) {
                continue;
            }
            let unit_ids = ids(c, "SELECT unit_id FROM objective_units WHERE objective_id = ?1", [oid])?;
            let kr_ids =
                ids(c, "SELECT k.id FROM key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL WHERE k.objective_id = ?1 ORDER BY i.num", [oid])?;
            if let Some(u) = &units {
                let tagged = unit_ids.iter().any(|x| u.contains(x));
                let served = kr_ids.iter().try_fold(false, |acc, kr| -> Result<bool> {
                    if acc {
                        return Ok(true);
                    }
                    let from = ids(c, "SELECT from_id FROM links WHERE to_id = ?1", [kr])?;
                    if !lazy {
                        return Ok(from.iter().any(|m| measure_set.contains(m)));
                    }
                    from.iter().try_fold(false, |acc, m| Ok(acc || scoped.has_measure(c, *m)?))
                })?;
                if !tagged && !served {
                    continue;
                }
            }
            let mut key_results = Vec::new();
            for kr in &kr_ids {
                let (title, owner, unit, baseline, explanation): (String, Option<i64>, Option<String>, Option<String>, Option<String>) = c
                    .query_row("SELECT title, owner_id, unit, baseline, status_explanation FROM key_results WHERE id = ?1", [kr], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?;
                let serving = ids(
                    c,
                    "SELECT l.from_id FROM links l JOIN items i ON i.id = l.from_id AND i.retired_at IS NULL WHERE l.to_id = ?1 AND i.kind || '' = 'measure' ORDER BY i.num",
                    [kr],
                )?;
                let measures = serving.into_iter().filter(|m| measure_set.contains(m)).map(|m| key_of(c, m)).collect::<Result<_>>()?;
                key_results.push(KrBlock {
                    id: *kr,
                    key: key_of(c, *kr)?,
                    title,
                    owner: person(c, owner)?,
                    unit,
                    baseline: baseline.as_deref().and_then(Num::from_stored),
                    status: kr_status(*kr)?,
                    forecast: latest_forecast(&read::values_of(c, *kr, None)?),
                    explanation,
                    measures,
                });
            }
            let target_gap = match r.6.as_deref().and_then(Num::from_stored) {
                Some(target) => crate::domain::rollup::target_gap(target, bottom_up(oid)?.forecast).ok(),
                None => None,
            };
            let kpis = ids(
                c,
                "SELECT DISTINCT k.id, i.num FROM kpis k JOIN links l ON l.from_id = k.id JOIN items i ON i.id = k.id AND i.retired_at IS NULL
                 WHERE l.to_id = ?1 OR l.to_id IN (SELECT id FROM key_results WHERE objective_id = ?1) ORDER BY i.num",
                [oid],
            )?
            .into_iter()
            .map(|k| key_of(c, k))
            .collect::<Result<_>>()?;
            objectives.push(ObjectiveBlock {
                key: key_of(c, oid)?,
                title: r.1,
                cycle: c.query_row("SELECT name FROM cycles WHERE id = ?1", [r.0], |x| x.get(0))?,
                owner: person(c, r.2)?,
                level: r.3,
                parent: r.4.map(|p| key_of(c, p)).transpose()?,
                units: unit_ids.into_iter().map(|u| key_of(c, u)).collect::<Result<_>>()?,
                status: objective_status(oid)?,
                explanation: r.5,
                target_gap,
                key_results,
                kpis,
            });
        }

        let open: HashMap<String, i64> =
            self.escalations(&read::EscalationFilter::default())?.into_iter().map(|e| (e.key, e.tier)).collect();
        let mut statuses = Vec::with_capacity(measure_ids.len());
        for id in &measure_ids {
            statuses.push((*id, self.with_statuses(|e| e.measure(*id))?, None));
        }
        let mut measures = measure_blocks(c, statuses)?;
        for m in &mut measures {
            m.tier = open.get(&m.key).copied();
        }
        let shown: BTreeSet<&str> =
            objectives.iter().flat_map(|o| o.key_results.iter().flat_map(|k| k.measures.iter())).map(String::as_str).collect();
        let unlinked_measures = measures.iter().filter(|m| !shown.contains(m.key.as_str())).map(|m| m.key.clone()).collect();

        // KPIs: those informing the objectives in scope (every KPI for the whole file).
        let kpi_ids: Vec<i64> = if scope.is_whole_file() {
            ids(c, "SELECT k.id FROM kpis k JOIN items i ON i.id = k.id AND i.retired_at IS NULL ORDER BY i.num", [])?
        } else {
            let wanted: BTreeSet<String> = objectives.iter().flat_map(|o| o.kpis.iter().cloned()).collect();
            let mut v = Vec::new();
            for k in &wanted {
                v.push(resolve(
                    c,
                    &ItemKey::parse(k).map_err(|e| StoreError::Invalid { key: k.clone(), field: "key".into(), why: e.to_string() })?,
                )?);
            }
            v
        };
        let mut kpis = Vec::new();
        for id in kpi_ids {
            let (title, owner, unit): (String, Option<i64>, Option<String>) =
                c.query_row("SELECT title, owner_id, unit FROM kpis WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            kpis.push(KpiBlock {
                key: key_of(c, id)?,
                title,
                owner: person(c, owner)?,
                unit,
                status: self.with_statuses(|e| e.kpi(id))?,
                values: read::values_of(c, id, Some(12))?,
            });
        }
        kpis.sort_by_key(|k| ItemKey::parse(&k.key).map(|x| x.number).unwrap_or(0));

        let mut measure_totals = Money::default();
        let mut by_stage: Vec<(Stage, Money)> = Stage::ALL.iter().map(|s| (*s, Money::default())).collect();
        for m in &measures {
            add_money(&mut measure_totals, Some(&mut by_stage), &m.key, &m.status)?;
        }
        if lazy {
            self.stream_money(&scoped, &mut measure_totals, &mut by_stage)?;
        }
        let mut scoped_funnel = None;
        let check = if scope.is_whole_file() {
            check_lists::collect(self, None)?
        } else {
            let mut keys: BTreeSet<String> = objectives.iter().map(|o| o.key.clone()).collect();
            keys.extend(objectives.iter().flat_map(|o| o.key_results.iter().map(|k| k.key.clone())));
            keys.extend(measures.iter().map(|m| m.key.clone()));
            keys.extend(kpis.iter().map(|k| k.key.clone()));
            scoped_funnel = Some(by_stage);
            // A streamed report holds no measures: a row's measure is asked about as it comes.
            let mut keep = |k: &str| -> Result<bool> { Ok(keys.contains(k) || (lazy && self.measure_in_scope(&scoped, k)?)) };
            check_lists::collect(self, Some(&mut keep))?
        };
        let mut in_scope: BTreeSet<String> = objectives
            .iter()
            .flat_map(|o| o.key_results.iter().map(|k| k.key.clone()))
            .chain(measures.iter().map(|m| m.key.clone()))
            .chain(kpis.iter().map(|k| k.key.clone()))
            .collect();
        if lazy {
            in_scope.extend(self.measures_in_scope(&scoped, self.confident_measures()?)?);
        }
        let stream = lazy.then(|| stream::Streamed {
            scope: scoped,
            krs: objectives.iter().flat_map(|o| o.key_results.iter().map(|k| k.id)).collect(),
            only: None,
        });
        let confidence = super::signals::confidence_rows(self.conn(), &in_scope, &self.settings()?.0.thresholds)?;
        Ok(ReportModel {
            confidence,
            today: clock.today.to_string(),
            scope,
            check,
            objectives,
            measures,
            unlinked_measures,
            kpis,
            scoped_funnel,
            currency: self.settings()?.0.currency,
            measure_totals,
            narrowed: Vec::new(),
            as_of: None,
            depth: 3,
            stream,
            index: Default::default(),
        })
    }
}

impl Store {
    /// Every item's title by key (for the values export).
    pub fn titles(&self) -> Result<BTreeMap<String, String>> {
        let c = self.conn();
        let pairs: Vec<(i64, String)> = {
            let mut s = c.prepare("SELECT id, key FROM items")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            r.collect::<DbResult<_>>()?
        };
        pairs.into_iter().map(|(id, key)| Ok((key, read::title_of(c, id)?))).collect()
    }

    /// Which of these keys name an item in the file (for checking an import before it runs).
    pub fn existing_keys(&self, keys: &BTreeSet<String>) -> Result<BTreeSet<String>> {
        let c = self.conn();
        let mut out = BTreeSet::new();
        for k in keys {
            if c.prepare_cached("SELECT EXISTS (SELECT 1 FROM items WHERE key = ?1)")?.query_row([k], |r| r.get::<_, bool>(0))? {
                out.insert(k.clone());
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod blocks_tests;
