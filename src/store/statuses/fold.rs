//! `keel check`'s fold: after each batch of measures, what their key results and objectives
//! need of them is gathered here, so that no measure's status outlives its batch and the memory
//! of a check grows with the key results and objectives, not with the measures.

use super::{engine, Engine, HashMap, IdBatch, Money, Result, SideState, StoreError};
use crate::domain::{rollup, status};

/// What key results and objectives need of the measures serving them, gathered batch by batch
/// so that no measure's status is kept after its batch.
#[derive(Default)]
pub(crate) struct Folded {
    /// Per key result, why its measures put it at risk, in the measures' key order.
    pub at_risk: HashMap<i64, Vec<String>>,
    /// Per objective, the health facts of the distinct measures serving its key results.
    pub served: HashMap<i64, Served>,
    /// Per objective, its bottom-up value (`rollup::objective_bottom_up`), summed measure by measure.
    pub bottom_up: HashMap<i64, Money>,
    /// Each objective's parent (read once, at the first batch).
    parents: Option<HashMap<i64, i64>>,
}

/// The measures serving one objective's key results (each once, retired ones too), as its
/// health facts count them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Served {
    pub measures: usize,
    pub owners_missing: usize,
    pub risks_written: usize,
    pub with_cadence: usize,
    pub milestones: usize,
    pub planned_values: usize,
    /// Dependencies touching them, each once.
    pub dependencies: usize,
}

/// A measure of the batch: the key results it serves with their objectives, and its own facts.
#[derive(Default)]
struct Links {
    krs: Vec<(i64, i64)>,
    no_owner: bool,
    risk: bool,
    cadence: bool,
}

impl Engine<'_> {
    /// After a batch of `keel check`, its measures loaded: fold what their key results and
    /// objectives need of them into `memo.folded`. `batch` is (id, key, not retired), in key order.
    pub fn fold_served(&mut self, batch: &[(i64, &str, bool)]) -> Result<()> {
        let ids = IdBatch::of(&batch.iter().map(|b| b.0).collect::<Vec<_>>());
        // The key results (and their objectives) each measure of the batch serves, retired or not.
        let sql = format!(
            "SELECT l.from_id, l.to_id, k.objective_id, m.owner_id IS NULL, m.risk IS NOT NULL AND m.risk <> '', m.cadence IS NOT NULL
             FROM links l JOIN key_results k ON k.id = l.to_id JOIN measures m ON m.id = l.from_id WHERE {} ORDER BY l.from_id, l.to_id",
            ids.condition(self.conn, "l.from_id", 1)
        );
        let mut serves: HashMap<i64, Links> = HashMap::new();
        self.each(&sql, Some(&ids), |r| {
            let l = serves.entry(r.get(0)?).or_default();
            l.krs.push((r.get(1)?, r.get(2)?));
            (l.no_owner, l.risk, l.cadence) = (r.get(3)?, r.get(4)?, r.get(5)?);
            Ok(())
        })?;
        // Dependencies on a measure of the batch, with the objectives the waiting measure serves
        // (NULL for none, or for a link to a KPI), so a dependency between two measures of one
        // objective counts once. Plain left joins: a parenthesised join is built whole per batch.
        let sql = format!(
            "SELECT d.depends_on_id, d.measure_id, k.objective_id FROM dependencies d
             LEFT JOIN links l ON l.from_id = d.measure_id LEFT JOIN key_results k ON k.id = l.to_id WHERE {}",
            ids.condition(self.conn, "d.depends_on_id", 1)
        );
        let mut waiting: HashMap<i64, HashMap<i64, Vec<i64>>> = HashMap::new();
        self.each(&sql, Some(&ids), |r| {
            let objectives = waiting.entry(r.get(0)?).or_default().entry(r.get(1)?).or_default();
            objectives.extend(r.get::<_, Option<i64>>(2)?);
            Ok(())
        })?;
        if self.memo.folded.as_ref().is_none_or(|f| f.parents.is_none()) {
            let mut stmt = self.conn.prepare_cached("SELECT id, parent_id FROM objectives WHERE parent_id IS NOT NULL")?;
            let parents = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<engine::DbResult<_>>()?;
            self.memo.folded.get_or_insert_with(Folded::default).parents = Some(parents);
        }
        let folded = self.memo.folded.as_mut().expect("set above");
        let parents = folded.parents.as_ref().expect("read above");
        let none = Vec::new();
        let mut objectives = Vec::new();
        for (id, key, live) in batch {
            let Some(links) = serves.get(id) else { continue };
            let ms = self.memo.measures.get(id).ok_or(StoreError::Database(engine::Error::NoRows))?;
            let cancelled = ms.side_state == Some(SideState::Cancelled);
            // A retired measure serves no key result's status, but counts in its objectives' facts.
            if *live {
                if let Some(why) = status::at_risk_reason(key, ms.implementation.level, ms.potential, cancelled) {
                    for (kr, _) in &links.krs {
                        folded.at_risk.entry(*kr).or_default().push(why.clone());
                    }
                }
            }
            objectives.clear();
            objectives.extend(links.krs.iter().map(|l| l.1));
            objectives.sort_unstable();
            objectives.dedup();
            let planned = self.memo.planned_values.get(id).copied().unwrap_or(0);
            let milestones = self.memo.milestones.get(id).map_or(0, Vec::len);
            let depends_on = self.memo.deps.get(id).map_or(&none, |d| d);
            let waited_on = waiting.get(id);
            for o in &objectives {
                let f = folded.served.entry(*o).or_default();
                f.measures += 1;
                f.owners_missing += links.no_owner as usize;
                f.risks_written += links.risk as usize;
                f.with_cadence += links.cadence as usize;
                f.milestones += milestones;
                f.planned_values += planned;
                // Its own dependencies count here; one on it only if the waiting measure does
                // not serve this objective too (then it counted there).
                f.dependencies += depends_on.len();
                f.dependencies += waited_on.into_iter().flatten().filter(|(_, theirs)| !theirs.contains(o)).count();
            }
            if *live && !cancelled {
                for o in rollup::objectives_counting(&objectives, |o| parents.get(&o).copied()) {
                    let sum = folded.bottom_up.entry(o).or_default();
                    *sum = sum.plus(ms.money).map_err(|e| StoreError::Invalid {
                        key: "roll-up".into(),
                        field: "sum".into(),
                        why: e.to_string(),
                    })?;
                }
            }
        }
        Ok(())
    }

    /// After a batch of `keel check` (folded): forget every measure's status, plan count,
    /// milestones and dependencies (a later batch reads what it needs again).
    pub fn forget_measures(&mut self) {
        self.memo.measures = HashMap::new();
        self.memo.planned_values = HashMap::new();
        self.memo.milestones = HashMap::new();
        self.memo.deps = HashMap::new();
    }

    /// The open escalation tier of every key result: the whole file's key results ask for
    /// theirs, and reading every item's open escalation would grow with the measures.
    pub(super) fn key_result_tiers(&self) -> Result<HashMap<i64, i64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT e.item_id, e.tier FROM escalations e JOIN key_results k ON k.id = e.item_id WHERE e.state = 'open'")?;
        let r = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(r.collect::<engine::DbResult<_>>()?)
    }
}
