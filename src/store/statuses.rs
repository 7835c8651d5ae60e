//! Statuses, for one item, a subtree or the whole file. An objective's status needs every measure
//! under it, so on a large file asking a few queries per item would be tens of thousands of
//! queries; here the figures come from a few bulk queries per batch of items, computed in memory
//! by the domain functions, and remembered until the file changes (any commit, by this
//! connection or another) or the day does. The app, the CLI, reports and the write path's
//! narrative check use it; `keel check` for the whole file at once.
//!
//! `reference.rs` (tests only) works the same statuses out item by item, straight from the rules;
//! tests compare the two on the demo and on a generated organisation.

use super::read::{KpiStatus, KrStatus, MeasureStatus, ObjectiveStatus};
use super::{Clock, Result, StoreError};
use crate::domain::escalation::{self, Point, Thresholds, Tier};
use crate::domain::health;
use crate::domain::key_result;
use crate::domain::rollup::{self, Money};
use crate::domain::scoring::{self, KrNumbers};
use crate::domain::status::{self, Implementation, MilestoneFacts, Rag};
use crate::domain::{Cadence, Direction, IpoClass, KrKind, Num, Period, SideState, Stage, ValueType};
use crate::store::engine::{self, Db, DbResult, IdBatch, OptionalExtension, Row, ValueRef};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

fn num_ref(v: ValueRef) -> Option<Num> {
    text(v).and_then(Num::from_stored)
}

fn num(s: Option<String>) -> Option<Num> {
    s.and_then(|s| Num::from_stored(&s))
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Staleness by the domain rule, from the newest period with an actual that has begun and the
/// start of the item's first period (its stored `YYYY-MM-DD`); also the days since the last entry.
fn stale_from(
    latest_period: Option<&str>,
    first_start: Option<&str>,
    last: Option<&str>,
    cadence: Cadence,
    today: NaiveDate,
) -> (bool, Option<i64>) {
    let days = last.and_then(date).map(|d| (today - d).num_days());
    let latest = latest_period.and_then(|p| Period::parse(p).ok());
    (status::is_stale(latest, first_start.and_then(date), cadence, today), days)
}

/// Has a period (given by its stored start date, `YYYY-MM-DD`) begun by `today`?
fn begun(period_start: Option<&str>, today: &str) -> bool {
    period_start.is_some_and(|s| s <= today)
}

/// What is remembered between calls, valid for one state of the file and one day.
#[derive(Default)]
pub(crate) struct Memo {
    pub key: Option<(i64, u64, NaiveDate)>,
    measures: HashMap<i64, MeasureStatus>,
    krs: HashMap<i64, KrStatus>,
    objectives: HashMap<i64, ObjectiveStatus>,
    kpis: HashMap<i64, KpiStatus>,
    milestones: HashMap<i64, Vec<(String, String, Option<String>)>>,
    deps: HashMap<i64, Vec<(i64, String)>>,
    /// Open escalation tier per item read so far (every item's once `all_tiers`).
    tiers: HashMap<i64, Option<i64>>,
    /// Per measure: how many of its values carry a plan (for the health checks).
    pub planned_values: HashMap<i64, usize>,
    /// `keel check`'s fold of the measures, batch by batch (see [`Engine::fold_served`]).
    pub folded: Option<Folded>,
    /// Per key result, the measures serving it; per objective, its key results and children.
    serving: HashMap<i64, Vec<i64>>,
    tree: HashMap<i64, (Vec<i64>, Vec<i64>)>,
    /// In `all` mode, the tree as read once, less the objectives computed since.
    tree_facts: HashMap<i64, TreeFacts>,
    all_tree: bool,
    /// Whole tables already read (in `all` mode).
    all_measures: bool,
    all_krs: bool,
    all_kpis: bool,
    all_tiers: bool,
}

/// Computes statuses in batches. `all` reads whole tables (for `keel check`) instead of lists.
pub(crate) struct Engine<'a> {
    pub conn: &'a Db,
    pub clock: Clock,
    pub t: Thresholds,
    pub memo: &'a mut Memo,
    pub all: bool,
}

/// Append `WHERE col IN (the batch)` unless the whole table is wanted (`batch` is `None`).
fn scoped(conn: &Db, sql: &str, col: &str, batch: Option<&IdBatch>, order: &str) -> String {
    match batch {
        None => format!("{sql} {order}"),
        Some(b) if sql.contains(" WHERE ") => format!("{sql} AND {} {order}", b.condition(conn, col, 1)),
        Some(b) => format!("{sql} WHERE {} {order}", b.condition(conn, col, 1)),
    }
}

/// The batch a statement reads: none in `all` mode (the whole table), else these ids.
fn batch_of(all: bool, ids: &[i64]) -> Option<IdBatch> {
    (!all).then(|| IdBatch::of(ids))
}

impl Engine<'_> {
    /// Each row of `sql` (built by [`scoped`] with the same `batch`); the batch's column is the
    /// first, and rows of ids outside the batch are skipped.
    fn each(&self, sql: &str, batch: Option<&IdBatch>, mut f: impl FnMut(&Row) -> DbResult<()>) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = match batch {
            None => stmt.query([])?,
            Some(b) => stmt.query([b.param()])?,
        };
        while let Some(r) = rows.next()? {
            if batch.is_none_or(|b| r.get::<_, i64>(0).is_ok_and(|id| b.keeps(id))) {
                f(&r)?;
            }
        }
        Ok(())
    }

    /// Open escalation tier per item: every open escalation at once for the whole file, else one
    /// item's through the index (a subtree or one item never reads the whole list).
    pub fn tier(&mut self, id: i64) -> Result<Option<i64>> {
        if self.all && !self.memo.all_tiers {
            let mut stmt = self.conn.prepare_cached("SELECT item_id, tier FROM escalations WHERE state = 'open'")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                self.memo.tiers.insert(r.get(0)?, Some(r.get(1)?));
            }
            self.memo.all_tiers = true;
        }
        if let Some(known) = self.memo.tiers.get(&id) {
            return Ok(*known);
        }
        if self.memo.all_tiers {
            return Ok(None);
        }
        let tier: Option<i64> = self
            .conn
            .prepare_cached("SELECT tier FROM escalations WHERE item_id = ?1 AND state = 'open'")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        self.memo.tiers.insert(id, tier);
        Ok(tier)
    }

    /// The open tiers of a batch of items in one query, so computing their statuses asks no
    /// more per item (on a server each question is a round trip).
    pub fn prefetch_tiers(&mut self, ids: &[i64]) -> Result<()> {
        if self.memo.all_tiers {
            return Ok(());
        }
        let todo: Vec<i64> = ids.iter().copied().filter(|id| !self.memo.tiers.contains_key(id)).collect();
        if todo.is_empty() {
            return Ok(());
        }
        for &id in &todo {
            self.memo.tiers.insert(id, None);
        }
        // Through the index of open escalations by item: without the hint SQLite walks every
        // open escalation by state (it cannot tell the id list is short).
        let batch = IdBatch::of(&todo);
        let sql = format!(
            "SELECT item_id, tier FROM escalations{} WHERE state = 'open' AND {}",
            self.conn.index_hint("escalations_one_open"),
            batch.condition(self.conn, "item_id", 1)
        );
        let mut tiers = Vec::new();
        self.each(&sql, Some(&batch), |r| {
            tiers.push((r.get(0)?, r.get(1)?));
            Ok(())
        })?;
        for (id, tier) in tiers {
            self.memo.tiers.insert(id, Some(tier));
        }
        Ok(())
    }

    /// A measure computed by an earlier `load_measures`.
    pub fn measure_ref(&self, id: i64) -> Result<&MeasureStatus> {
        self.memo.measures.get(&id).ok_or(StoreError::Database(engine::Error::NoRows))
    }

    pub fn measure(&mut self, id: i64) -> Result<MeasureStatus> {
        self.load_measures(&[id])?;
        self.memo.measures.get(&id).cloned().ok_or(StoreError::Database(engine::Error::NoRows))
    }

    /// Compute the statuses of these measures (all of them when `all`) that are not known yet.
    pub fn load_measures(&mut self, ids: &[i64]) -> Result<()> {
        let todo: Vec<i64> = ids.iter().copied().filter(|id| !self.memo.measures.contains_key(id)).collect();
        if if self.all { self.memo.all_measures } else { todo.is_empty() } {
            return Ok(());
        }
        self.memo.all_measures |= self.all;
        if !self.all {
            self.prefetch_tiers(&todo)?;
        }
        type MRow = (Stage, Option<SideState>, ValueType, Cadence, Money);
        let mut rows: HashMap<i64, MRow> = HashMap::new();
        let mut order = Vec::new();
        // The money as the write path keeps it (`measure_money`, checked against a recompute by
        // `keel check --deep`): no measure's values are read to add them up again.
        let batch = batch_of(self.all, &todo);
        let sql = scoped(
            self.conn,
            "SELECT m.id, m.stage, m.side_state, m.value_type, m.cadence, mm.planned, mm.forecast, mm.actual
             FROM measures m LEFT JOIN measure_money mm ON mm.measure_id = m.id",
            "m.id",
            batch.as_ref(),
            "",
        );
        self.each(&sql, batch.as_ref(), |r| {
            let id: i64 = r.get(0)?;
            let stage = text(r.get_ref(1)?).and_then(Stage::parse).unwrap_or(Stage::Defined);
            let side = text(r.get_ref(2)?).and_then(SideState::parse);
            let vt = text(r.get_ref(3)?).and_then(ValueType::parse).unwrap_or(ValueType::RecurringBenefit);
            let cadence = text(r.get_ref(4)?).and_then(Cadence::parse).unwrap_or(Cadence::Weekly);
            let money = Money {
                planned: r.get::<_, Option<Num>>(5)?.unwrap_or_default(),
                forecast: r.get::<_, Option<Num>>(6)?.unwrap_or_default(),
                actual: r.get::<_, Option<Num>>(7)?.unwrap_or_default(),
            };
            rows.insert(id, (stage, side, vt, cadence, money));
            order.push(id);
            Ok(())
        })?;
        let numbers = self.value_facts(batch.as_ref())?;
        self.load_implementation_inputs(&order)?;
        let today = self.clock.today;
        for id in order {
            let (stage, side_state, value_type, cadence, money) = rows[&id];
            let implementation = self.implementation(id, 0);
            let facts = numbers.get(&id);
            let shown_money = facts.map(|f| f.shown(money)).unwrap_or_default();
            self.memo.planned_values.insert(id, facts.map_or(0, |f| f.entered.planned));
            let reporting = facts.is_some() && stage != Stage::Closed && side_state.is_none();
            let last = facts.and_then(|f| f.last.clone());
            let (stale, days) = match facts {
                Some(f) if reporting => stale_from(f.latest.as_deref(), f.first_start.as_deref(), last.as_deref(), cadence, today),
                _ => (false, None),
            };
            let potential = status::measure_potential(money, value_type, &self.t, stale);
            self.memo.measures.insert(
                id,
                MeasureStatus {
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
                },
            );
        }
        if self.all {
            // Every measure is done: the milestones and dependencies are not needed again.
            self.memo.milestones = HashMap::new();
            self.memo.deps = HashMap::new();
        }
        Ok(())
    }

    /// Every measure has been computed (batch by batch): whole-file readers need not read them again.
    pub fn measures_done(&mut self) {
        self.memo.all_measures = true;
    }

    /// Milestones and dependencies of these measures and, transitively, of what they wait for.
    fn load_implementation_inputs(&mut self, ids: &[i64]) -> Result<()> {
        let mut frontier: Vec<i64> = ids.iter().copied().filter(|id| !self.memo.deps.contains_key(id)).collect();
        let all = self.all;
        for round in 0..10 {
            if frontier.is_empty() && !(all && round == 0) {
                break;
            }
            let batch = batch_of(all && round == 0, &frontier);
            let sql = scoped(
                self.conn,
                "SELECT measure_id, title, due_date, done_date FROM milestones",
                "measure_id",
                batch.as_ref(),
                "ORDER BY measure_id, id",
            );
            let mut ms: HashMap<i64, Vec<(String, String, Option<String>)>> = HashMap::new();
            self.each(&sql, batch.as_ref(), |r| {
                ms.entry(r.get(0)?).or_default().push((r.get(1)?, r.get(2)?, r.get(3)?));
                Ok(())
            })?;
            let sql = scoped(
                self.conn,
                "SELECT d.measure_id, d.depends_on_id, i.key FROM dependencies d JOIN items i ON i.id = d.depends_on_id",
                "d.measure_id",
                batch.as_ref(),
                "ORDER BY d.measure_id, d.depends_on_id",
            );
            let mut deps: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
            self.each(&sql, batch.as_ref(), |r| {
                deps.entry(r.get(0)?).or_default().push((r.get(1)?, r.get(2)?));
                Ok(())
            })?;
            let loaded: Vec<i64> = if all && round == 0 {
                let mut v: Vec<i64> = ms.keys().chain(deps.keys()).chain(ids).copied().collect();
                v.sort_unstable();
                v.dedup();
                v
            } else {
                frontier.clone()
            };
            let mut next = HashSet::new();
            for id in loaded {
                let m = ms.remove(&id).unwrap_or_default();
                let d = deps.remove(&id).unwrap_or_default();
                for (dep, _) in &d {
                    if !self.memo.deps.contains_key(dep) {
                        next.insert(*dep);
                    }
                }
                self.memo.milestones.insert(id, m);
                self.memo.deps.insert(id, d);
            }
            next.retain(|d| !self.memo.deps.contains_key(d));
            frontier = next.into_iter().collect();
            frontier.sort_unstable();
        }
        Ok(())
    }

    /// Own milestones, and prerequisites by their own level (so a late chain names its source).
    fn implementation(&self, id: i64, depth: u8) -> Implementation {
        let empty = Vec::new();
        let milestones = self.memo.milestones.get(&id).unwrap_or(&empty);
        let facts: Vec<MilestoneFacts> = milestones
            .iter()
            .filter_map(|(t, due, done)| Some(MilestoneFacts { title: t, due: date(due)?, done: done.as_deref().and_then(date) }))
            .collect();
        let mut deps = Vec::new();
        if depth < 8 {
            for (dep, key) in self.memo.deps.get(&id).map(|d| d.as_slice()).unwrap_or(&[]) {
                deps.push((key.clone(), self.implementation(*dep, depth + 1).level));
            }
        }
        status::implementation(&facts, &deps, self.clock.today, &self.t)
    }

    pub fn kr(&mut self, id: i64) -> Result<KrStatus> {
        self.load_krs(&[id])?;
        self.memo.krs.get(&id).cloned().ok_or(StoreError::Database(engine::Error::NoRows))
    }

    /// Compute these key results (all when `all`) and the measures serving them.
    pub fn load_krs(&mut self, ids: &[i64]) -> Result<()> {
        let todo: Vec<i64> = ids.iter().copied().filter(|id| !self.memo.krs.contains_key(id)).collect();
        if if self.all { self.memo.all_krs } else { todo.is_empty() } {
            return Ok(());
        }
        self.memo.all_krs |= self.all;
        if !self.all {
            self.prefetch_tiers(&todo)?;
        }
        type KRow = (KrKind, Option<String>, Option<String>, String, bool, Option<String>, Option<String>, String, String);
        let mut rows: Vec<(i64, KRow)> = Vec::new();
        let batch = batch_of(self.all, &todo);
        let sql = scoped(
            self.conn,
            "SELECT k.id, k.kind, k.baseline, k.target, k.weight, k.milestone_done, k.manual_status, k.status_explanation, c.start_date, c.end_date
             FROM key_results k JOIN objectives o ON o.id = k.objective_id JOIN cycles c ON c.id = o.cycle_id",
            "k.id",
            batch.as_ref(),
            "",
        );
        self.each(&sql, batch.as_ref(), |r| {
            let kind = text(r.get_ref(1)?).and_then(KrKind::parse).unwrap_or(KrKind::IncreaseTo);
            rows.push((
                r.get(0)?,
                (kind, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, i64>(5)? == 1, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
            ));
            Ok(())
        })?;
        // `keel check` folded the measures batch by batch: what makes a key result at risk is known.
        let mut folded_at_risk = if self.all { self.memo.folded.as_mut().map(|f| std::mem::take(&mut f.at_risk)) } else { None };
        // Serving measures in key order, sorted here: sorting every link in SQL spills to disk.
        let mut serving: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        if folded_at_risk.is_none() {
            let mut by_num: HashMap<i64, Vec<(i64, i64, String)>> = HashMap::new();
            let sql = scoped(
                self.conn,
                "SELECT l.to_id, m.id, i.key, i.num FROM links l JOIN measures m ON m.id = l.from_id JOIN items i ON i.id = m.id AND i.retired_at IS NULL",
                "l.to_id",
                batch.as_ref(),
                "",
            );
            self.each(&sql, batch.as_ref(), |r| {
                by_num.entry(r.get(0)?).or_default().push((r.get(3)?, r.get(1)?, r.get(2)?));
                Ok(())
            })?;
            for (kr, mut list) in by_num {
                list.sort_unstable_by_key(|x| x.0);
                self.memo.serving.insert(kr, list.iter().map(|x| x.1).collect());
                serving.insert(kr, list.into_iter().map(|(_, id, key)| (id, key)).collect());
            }
        }
        // Actuals of periods that have begun (oldest first), the last entry, the newest period
        // with an actual and the start of the first period with any number.
        type KrNumbersRow = (Vec<Num>, Option<String>, Option<String>, Option<String>);
        let mut numbers: HashMap<i64, KrNumbersRow> = HashMap::new();
        let sql = scoped(
            self.conn,
            "SELECT v.item_id, v.actual, COALESCE(v.reported_at, v.updated_at), v.period, v.period_start FROM item_values v",
            "v.item_id",
            batch.as_ref(),
            "ORDER BY v.item_id, v.period_start",
        );
        let sql = if self.all { sql.replace(" ORDER BY", " WHERE v.item_id IN (SELECT id FROM key_results) ORDER BY") } else { sql };
        let today_s = self.clock.today.to_string();
        self.each(&sql, batch.as_ref(), |r| {
            let e = numbers.entry(r.get(0)?).or_default();
            if e.3.is_none() {
                e.3 = r.get(4)?;
            }
            if let Some(a) = num_ref(r.get_ref(1)?).filter(|_| begun(text(r.get_ref(4).unwrap_or(ValueRef::Null)), &today_s)) {
                e.0.push(a);
                let at = text(r.get_ref(2)?).unwrap_or("");
                if e.1.as_deref().is_none_or(|l| at > l) {
                    e.1 = Some(at.to_string());
                }
                e.2 = r.get(3)?;
            }
            Ok(())
        })?;
        let mut measures: Vec<i64> = serving.values().flatten().map(|(m, _)| *m).collect();
        measures.sort_unstable();
        measures.dedup();
        self.load_measures(&measures)?;
        let kr_tiers = if self.all { Some(self.key_result_tiers()?) } else { None };
        let today = self.clock.today;
        for (id, r) in rows {
            let (kind, baseline, target, weight, done, manual, explanation, start, end) = r;
            let (actuals, last, latest, first) = numbers.remove(&id).unwrap_or_default();
            let target = num(target);
            let score =
                scoring::score_key_result(&KrNumbers { kind, baseline: num(baseline), target, actuals: &actuals, milestone_done: done });
            let at_risk = match &mut folded_at_risk {
                Some(folded) => folded.remove(&id).unwrap_or_default(),
                None => {
                    let serving_now = serving.get(&id).map(|v| v.as_slice()).unwrap_or(&[]).iter().map(|(mid, key)| {
                        let ms = &self.memo.measures[mid];
                        (key.as_str(), ms.implementation.level, ms.potential, ms.side_state == Some(SideState::Cancelled))
                    });
                    status::key_result_at_risk(serving_now)
                }
            };
            let elapsed = match (date(&start), date(&end)) {
                (Some(s), Some(e)) => key_result::elapsed_share(s, e, today),
                _ => Num::ONE,
            };
            let (stale, days) = if kind != KrKind::Milestone && first.is_some() {
                stale_from(latest.as_deref(), first.as_deref(), last.as_deref(), Cadence::Weekly, today)
            } else {
                (false, None)
            };
            let tier = match &kr_tiers {
                Some(tiers) => tiers.get(&id).copied(),
                None => self.tier(id)?,
            };
            let computed = status::key_result_rag(kind, score.map(|s| s.grade), elapsed, !at_risk.is_empty(), tier).unless_stale(stale);
            let shown = status::shown(computed, manual.as_deref().and_then(Rag::parse), explanation.as_deref());
            self.memo.krs.insert(
                id,
                KrStatus {
                    kind,
                    score,
                    shown,
                    at_risk,
                    latest_actual: actuals.last().copied(),
                    target,
                    weight: Num::parse(&weight).unwrap_or(Num::ONE),
                    stale,
                    days_since_update: days,
                    last_update: last,
                },
            );
        }
        Ok(())
    }
}

mod fold;
mod items;
mod tree;
mod values;

use tree::TreeFacts;

pub(crate) use fold::{Folded, Served};
