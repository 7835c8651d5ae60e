//! The report's measures read a page at a time as the report is written (`keel report` of a
//! file of any size): the model keeps its objectives, key results and KPIs, and each measure's
//! block is made when its row is written, from the same status the whole model would hold, then
//! forgotten with its page. Peak memory so grows with the objectives, not with the measures.

use super::{measure_blocks, MeasureBlock, ReportModel};
use crate::domain::rollup::Money;
use crate::domain::{ItemKey, ItemKind, Stage};
use crate::store::engine::{params, Db, IdBatch};
use crate::store::report_size::Only;
use crate::store::{Result, Store};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Measures read and computed at once.
const PAGE: i64 = 2_000;

/// A page of live measures after the number `?1`, `?2` of them in key order: id, key, number,
/// business unit and function.
const LIVE_MEASURES_PAGE: &str = "SELECT m.id, i.key, i.num, m.business_unit_id, m.function_id FROM measures m
     JOIN items i ON i.id = m.id AND i.retired_at IS NULL WHERE i.num > ?1 ORDER BY i.num LIMIT ?2";

/// Which measures a report covers: of a unit (or its sub-units), serving a cycle's key results.
#[derive(Clone, Debug, Default)]
pub struct MeasureScope {
    pub(super) units: Option<BTreeSet<i64>>,
    pub(super) cycle: Option<i64>,
}

impl MeasureScope {
    /// Is the live measure `id` (of business unit `bu` and function `func`) in scope?
    pub(super) fn contains(&self, c: &Db, id: i64, bu: Option<i64>, func: Option<i64>) -> Result<bool> {
        let unit_ok = self.units.as_ref().is_none_or(|u| bu.is_some_and(|b| u.contains(&b)) || func.is_some_and(|f| u.contains(&f)));
        Ok(unit_ok
            && match self.cycle {
                None => true,
                Some(cy) => c.query_row(
                    "SELECT EXISTS (SELECT 1 FROM links l JOIN key_results k ON k.id = l.to_id JOIN objectives o ON o.id = k.objective_id
                     WHERE l.from_id = ?1 AND o.cycle_id = ?2)",
                    params![id, cy],
                    |r| r.get(0),
                )?,
            })
    }

    /// Is item `id` a live measure in scope?
    pub(super) fn has_measure(&self, c: &Db, id: i64) -> Result<bool> {
        let row: Option<(Option<i64>, Option<i64>)> = crate::store::engine::OptionalExtension::optional(c.query_row(
            "SELECT m.business_unit_id, m.function_id FROM measures m JOIN items i ON i.id = m.id AND i.retired_at IS NULL WHERE m.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        match row {
            Some((bu, func)) => self.contains(c, id, bu, func),
            None => Ok(false),
        }
    }
}

/// What a streamed report needs to read its measures.
#[derive(Clone, Debug, Default)]
pub struct Streamed {
    pub(super) scope: MeasureScope,
    /// The key results in the report before `--only` narrowed it (a measure serving one is
    /// shown under it, else among the measures linked to no key result).
    pub(super) krs: HashSet<i64>,
    /// `--only`: the measures kept.
    pub(crate) only: Option<Only>,
}

/// Which measures to hand on.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    /// Serving the key result of this id.
    Serving(i64),
    /// Linked to no key result of the report.
    Unlinked,
    /// Every measure in the report.
    All,
}

impl Store {
    /// The measures of a streamed report that `which` selects, in key order, each block handed
    /// to `each` (measures cut by `--only` or `--depth` are not).
    pub fn report_measures(&self, r: &ReportModel, which: Which, each: &mut dyn FnMut(&MeasureBlock) -> Result<()>) -> Result<()> {
        let Some(s) = &r.stream else { return Ok(()) };
        let c = self.conn();
        self.measure_pages(r, which, &mut |page| {
            let wanted: Vec<i64> = page.iter().map(|m| m.0).collect();
            self.with_statuses(|e| e.load_measures(&wanted))?;
            let mut statuses = Vec::with_capacity(wanted.len());
            for id in wanted {
                let (status, tier) = self.with_statuses(|e| Ok((e.measure(id)?, e.tier(id)?)))?;
                statuses.push((id, status, tier));
            }
            for m in measure_blocks(c, statuses)? {
                if s.only.is_none_or(|o| crate::store::report_size::measure_kept(&m, o)) {
                    each(&m)?;
                }
            }
            self.forget_statuses();
            Ok(())
        })
    }

    /// The keys of the measures [`Store::report_measures`] hands on, in the same order: without
    /// `--only` from the links and scope alone, no status worked out (a key result's list of
    /// the measures serving it).
    pub fn report_measure_keys(&self, r: &ReportModel, which: Which, each: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        let Some(s) = &r.stream else { return Ok(()) };
        if s.only.is_some() {
            return self.report_measures(r, which, &mut |m| each(&m.key));
        }
        self.measure_pages(r, which, &mut |page| page.iter().try_for_each(|(_, key)| each(key)))
    }

    /// The live measures in scope that `which` selects, as (id, key) a page at a time in key
    /// order; nothing when the report is cut above its measures (`--depth`).
    fn measure_pages(&self, r: &ReportModel, which: Which, each: &mut dyn FnMut(Vec<(i64, String)>) -> Result<()>) -> Result<()> {
        let Some(s) = &r.stream else { return Ok(()) };
        if r.depth < 3 {
            return Ok(());
        }
        let c = self.conn();
        let mut after = 0i64;
        loop {
            // With each measure's units, so the scope is decided without a look-up per measure.
            type PageRow = (i64, String, i64, Option<i64>, Option<i64>);
            let read = |r: &crate::store::engine::Row| -> crate::store::engine::DbResult<PageRow> {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            };
            let page: Vec<PageRow> = match which {
                Which::Serving(kr) => c.query_map(
                    "SELECT l.from_id, i.key, i.num, m.business_unit_id, m.function_id FROM links l
                     JOIN items i ON i.id = l.from_id AND i.retired_at IS NULL JOIN measures m ON m.id = l.from_id
                     WHERE l.to_id = ?1 AND i.kind || '' = 'measure' AND i.num > ?2 ORDER BY i.num LIMIT ?3",
                    params![kr, after, PAGE],
                    read,
                )?,
                Which::Unlinked | Which::All => c.query_map(LIVE_MEASURES_PAGE, params![after, PAGE], read)?,
            };
            let full = page.len() as i64 == PAGE;
            after = page.last().map_or(after, |p| p.2);
            // Among the measures linked to no key result of the report: those serving none (their
            // links read for the page in one query).
            let shown_elsewhere: HashSet<i64> = match which {
                Which::Unlinked => {
                    let batch = IdBatch::of(&page.iter().map(|p| p.0).collect::<Vec<_>>());
                    let sql = format!("SELECT from_id, to_id FROM links WHERE {}", batch.condition(c, "from_id", 1));
                    let links: Vec<(i64, i64)> = c.query_map(&sql, [batch.param()], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    links.into_iter().filter(|(from, to)| batch.keeps(*from) && s.krs.contains(to)).map(|l| l.0).collect()
                }
                _ => HashSet::new(),
            };
            let mut wanted = Vec::with_capacity(page.len());
            for (id, key, _, bu, func) in page {
                if s.scope.contains(c, id, bu, func)? && !shown_elsewhere.contains(&id) {
                    wanted.push((id, key));
                }
            }
            each(wanted)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Does a kept measure serve the key result `kr` of a streamed report?
    pub(crate) fn serves_kept(&self, r: &ReportModel, kr: i64) -> Result<bool> {
        let mut any = false;
        self.report_measures(r, Which::Serving(kr), &mut |_| {
            any = true;
            Ok(())
        })?;
        Ok(any)
    }

    /// The net money of every measure in scope, summed into `totals` and `by_stage`.
    /// Only the statuses are read (a page at a time), not the measures' blocks.
    pub(super) fn stream_money(&self, scope: &MeasureScope, totals: &mut Money, by_stage: &mut Vec<(Stage, Money)>) -> Result<()> {
        let c = self.conn();
        let mut after = 0i64;
        loop {
            let page: Vec<(i64, String, i64, Option<i64>, Option<i64>)> =
                c.query_map(LIVE_MEASURES_PAGE, params![after, PAGE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            let full = page.len() as i64 == PAGE;
            after = page.last().map_or(after, |p| p.2);
            let mut wanted = Vec::with_capacity(page.len());
            for (id, key, _, bu, func) in page {
                if scope.contains(c, id, bu, func)? {
                    wanted.push((id, key));
                }
            }
            let ids: Vec<i64> = wanted.iter().map(|w| w.0).collect();
            self.with_statuses(|e| e.load_measures(&ids))?;
            for (id, key) in wanted {
                let status = self.with_statuses(|e| e.measure(id))?;
                super::add_money(totals, Some(by_stage), &key, &status)?;
            }
            self.forget_statuses();
            if !full {
                return Ok(());
            }
        }
    }

    /// Which of these keys name a live measure in scope.
    pub(super) fn measures_in_scope(&self, scope: &MeasureScope, keys: BTreeSet<String>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for k in keys {
            if self.measure_in_scope(scope, &k)? {
                out.push(k);
            }
        }
        Ok(out)
    }

    /// Does this key name a live measure in scope?
    pub(super) fn measure_in_scope(&self, scope: &MeasureScope, k: &str) -> Result<bool> {
        let c = self.conn();
        let Ok(key) = ItemKey::parse(k) else { return Ok(false) };
        if key.kind != ItemKind::Measure {
            return Ok(false);
        }
        let id: Option<i64> =
            crate::store::engine::OptionalExtension::optional(c.query_row("SELECT id FROM items WHERE key = ?1", [k], |r| r.get(0)))?;
        match id {
            Some(id) => scope.has_measure(c, id),
            None => Ok(false),
        }
    }

    /// The keys of measures whose owners gave a confidence.
    pub(super) fn confident_measures(&self) -> Result<BTreeSet<String>> {
        let keys: Vec<String> = self.conn().query_map(
            "SELECT DISTINCT i.key FROM item_values v JOIN items i ON i.id = v.item_id WHERE v.confidence IS NOT NULL AND i.kind || '' = 'measure'",
            [],
            |r| r.get(0),
        )?;
        Ok(keys.into_iter().collect())
    }

    /// The steering committee report for a scope, its measures left to be read as it is written
    /// (see [`Store::report_measures`]); `--only` and `--depth` narrow it as they do the whole one.
    pub fn report_streamed(&self, cycle: Option<&str>, unit: Option<&str>, only: Option<Only>, depth: Option<u8>) -> Result<ReportModel> {
        let mut r = self.report_with(cycle, unit, true)?;
        if let Some(only) = only {
            if let Some(s) = &mut r.stream {
                s.only = Some(only);
            }
            let mut kept: HashSet<i64> = HashSet::new();
            for k in r.objectives.iter().flat_map(|o| &o.key_results) {
                if self.serves_kept(&r, k.id)? {
                    kept.insert(k.id);
                }
            }
            r.keep_only_with(only, &mut |k| kept.contains(&k.id))?;
        }
        if let Some(depth) = depth {
            r.cut_to_depth(depth);
        }
        Ok(r)
    }
}

/// The statuses of every key result and objective and the objectives' bottom-up values, worked
/// out as `keel check` does: the measures computed a batch at a time and folded, so a streamed
/// report never holds every measure's status at once.
#[derive(Default)]
pub(super) struct Tree {
    pub krs: HashMap<i64, crate::store::read::KrStatus>,
    pub objectives: HashMap<i64, crate::store::read::ObjectiveStatus>,
    pub bottom_up: HashMap<i64, Money>,
}

impl Store {
    /// See [`Tree`]; `objectives` and `krs` are the ids asked for.
    pub(super) fn folded_tree(&self, objectives: &[i64], krs: &[i64]) -> Result<Tree> {
        self.all_statuses(|e| {
            self.measures_in_batches(e, crate::store::CHECK_BATCH, &mut |_| Ok(()))?;
            e.measures_done();
            e.load_krs(&[])?;
            let mut t = Tree::default();
            for kr in krs {
                t.krs.insert(*kr, e.kr(*kr)?);
            }
            t.bottom_up = e.memo.folded.take().unwrap_or_default().bottom_up;
            for o in objectives {
                t.objectives.insert(*o, e.objective(*o)?);
            }
            Ok(t)
        })
    }
}
