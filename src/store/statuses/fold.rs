//! `keel check`'s fold: after each batch of measures, what their key results and objectives
//! need of them is gathered here, so that no measure's status outlives its batch and the memory
//! of a check grows with the key results and objectives, not with the measures.

use super::{engine, ids_json, Engine, HashMap, Result, SideState, StoreError};
use crate::domain::status;

/// What key results and objectives need of the measures serving them, gathered batch by batch
/// so that no measure's status is kept after its batch.
#[derive(Default)]
pub(crate) struct Folded {
    /// Per key result, why its measures put it at risk, in the measures' key order.
    pub at_risk: HashMap<i64, Vec<String>>,
    /// Per objective, how many values of the distinct measures serving its key results carry a plan.
    pub planned_values: HashMap<i64, usize>,
}

impl Engine<'_> {
    /// After a batch of `keel check`, its measures loaded: fold what their key results and
    /// objectives need of them into `memo.folded`. `batch` is (id, key, not retired), in key order.
    pub fn fold_served(&mut self, batch: &[(i64, &str, bool)]) -> Result<()> {
        // The key results (and their objectives) each measure of the batch serves, retired or not.
        let sql = format!(
            "SELECT l.from_id, l.to_id, k.objective_id FROM links l JOIN key_results k ON k.id = l.to_id WHERE {} ORDER BY l.from_id, l.to_id",
            self.conn.in_id_list("l.from_id", 1)
        );
        let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
        let mut serves: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([ids_json(&ids)])?;
        while let Some(r) = rows.next()? {
            serves.entry(r.get(0)?).or_default().push((r.get(1)?, r.get(2)?));
        }
        let folded = self.memo.folded.get_or_insert_with(Folded::default);
        let mut objectives = Vec::new();
        for (id, key, live) in batch {
            let Some(links) = serves.get(id) else { continue };
            let ms = self.memo.measures.get(id).ok_or(StoreError::Database(engine::Error::NoRows))?;
            // A retired measure serves no key result's status, but its plans count for the objective.
            if *live {
                let cancelled = ms.side_state == Some(SideState::Cancelled);
                if let Some(why) = status::at_risk_reason(key, ms.implementation.level, ms.potential, cancelled) {
                    for (kr, _) in links {
                        folded.at_risk.entry(*kr).or_default().push(why.clone());
                    }
                }
            }
            let planned = self.memo.planned_values.get(id).copied().unwrap_or(0);
            objectives.clear();
            objectives.extend(links.iter().map(|l| l.1));
            objectives.sort_unstable();
            objectives.dedup();
            for o in &objectives {
                *folded.planned_values.entry(*o).or_default() += planned;
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
