//! The items export's rows (`keel export --what items`) and the listings' (`keel list`): one per
//! objective, key result, KPI, node and measure, with the statuses and numbers the tree shows.
//! The export reads them a page at a time and forgets the statuses it remembered after each.

use super::latest_forecast;
use crate::domain::rollup::Money;
use crate::domain::{ItemKind, Num};
use crate::store::engine::{params, Db, IdBatch};
use crate::store::read::{self, ItemStatus};
use crate::store::{Result, Store};
use serde::Serialize;
use std::collections::HashMap;

/// One row of the items export.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ItemRow {
    pub key: String,
    pub kind: String,
    pub title: String,
    /// Objective of a key result, parent objective, parent node, or package of a measure.
    pub parent: Option<String>,
    pub owner: Option<String>,
    pub cycle: Option<String>,
    pub stage: Option<String>,
    pub side_state: Option<String>,
    /// The status shown in the tree (red/amber/green/stale/no data).
    pub status: String,
    pub implementation: Option<String>,
    pub potential: Option<String>,
    /// Score of a key result, progress of an objective (0–1).
    pub progress: Option<Num>,
    pub target: Option<Num>,
    pub planned: Option<Num>,
    pub forecast: Option<Num>,
    pub actual: Option<Num>,
    pub stale: bool,
    pub escalation_tier: Option<i64>,
}

/// A key result's or objective's status and figures, worked out before the rows are written.
struct Goal {
    status: ItemStatus,
    target: Option<Num>,
    actual: Option<Num>,
    bottom_up: Option<Money>,
}

/// How many items the items export reads at once.
const ITEM_PAGE: usize = 2_000;

/// What an item's row shows of its own row and its neighbours' (parent's key, owner's and cycle's
/// names), read for a page of one kind in one query rather than four or five per row.
struct RowFacts {
    title: String,
    parent: Option<String>,
    owner: Option<String>,
    cycle: Option<String>,
    target: Option<Num>,
}

/// The [`RowFacts`] of these items, all of `kind`.
fn row_facts(c: &Db, kind: ItemKind, ids: &[i64]) -> Result<HashMap<i64, RowFacts>> {
    // The kind's table as `t` (its owner joined as `p` below), its parent's key, cycle, target.
    let (from, parent, cycle, target) = match kind {
        ItemKind::Objective => (
            "objectives t LEFT JOIN items pi ON pi.id = t.parent_id LEFT JOIN cycles cy ON cy.id = t.cycle_id",
            "pi.key",
            "cy.name",
            "t.target",
        ),
        ItemKind::KeyResult => (
            "key_results t JOIN objectives o ON o.id = t.objective_id JOIN items pi ON pi.id = t.objective_id
             LEFT JOIN cycles cy ON cy.id = o.cycle_id",
            "pi.key",
            "cy.name",
            "NULL",
        ),
        ItemKind::Kpi => ("kpis t", "NULL", "NULL", "NULL"),
        ItemKind::Measure => ("measures t LEFT JOIN items pi ON pi.id = t.package_id", "pi.key", "NULL", "NULL"),
        _ => ("nodes t LEFT JOIN items pi ON pi.id = t.parent_id", "pi.key", "NULL", "t.target"),
    };
    let batch = IdBatch::of(ids);
    let sql = format!(
        "SELECT t.id, t.title, {parent}, p.name, {cycle}, {target} FROM {from} LEFT JOIN people p ON p.id = t.owner_id WHERE {}",
        batch.condition(c, "t.id", 1)
    );
    let mut facts = HashMap::with_capacity(ids.len());
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query([batch.param()])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if batch.keeps(id) {
            let target: Option<String> = r.get(5)?;
            let target = target.as_deref().and_then(Num::from_stored);
            facts.insert(id, RowFacts { title: r.get(1)?, parent: r.get(2)?, owner: r.get(3)?, cycle: r.get(4)?, target });
        }
    }
    Ok(facts)
}

impl Store {
    /// Objectives, key results, KPIs, the execution hierarchy and measures, with the statuses
    /// and numbers the tree shows.
    pub fn item_rows(&self) -> Result<Vec<ItemRow>> {
        self.item_rows_of(None)
    }

    /// The rows of `only` these items (by id), or of every item.
    pub(crate) fn item_rows_of(&self, only: Option<&std::collections::HashSet<i64>>) -> Result<Vec<ItemRow>> {
        let mut out = Vec::new();
        self.item_rows_paged(only, ITEM_PAGE, None, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every item's row handed to `each` as it is made, items read a page at a time (the items
    /// export of a file of any size); the statuses remembered are forgotten after each page.
    /// Key results and objectives are worked out first, as `keel check` does (measures batch by
    /// batch, folded), because an objective's status needs every measure under it: asked page by
    /// page, the first page of objectives held the statuses of the whole file's measures.
    pub fn item_rows_each(&self, each: &mut dyn FnMut(ItemRow) -> Result<()>) -> Result<()> {
        self.read_snapshot(|| {
            let known = self.goal_statuses()?;
            self.item_rows_paged(None, ITEM_PAGE, Some(&known), each)
        })
    }

    /// Every key result's and objective's status with the figures its row shows, from the
    /// report's folded tree (no more than a batch of measures held at once).
    fn goal_statuses(&self) -> Result<HashMap<i64, Goal>> {
        let c = self.conn();
        let ids = |sql: &str| -> Result<Vec<i64>> { Ok(c.query_map(sql, [], |r| r.get(0))?) };
        let krs = ids("SELECT k.id FROM key_results k JOIN items i ON i.id = k.id WHERE i.retired_at IS NULL")?;
        let objectives = ids("SELECT o.id FROM objectives o JOIN items i ON i.id = o.id WHERE i.retired_at IS NULL")?;
        let tree = self.folded_tree(&objectives, &krs)?;
        // Their open escalations' tiers in one query, then from memory.
        let tier = |id: i64| self.with_statuses(|e| e.tier(id));
        self.with_statuses(|e| e.prefetch_tiers(&[krs.as_slice(), objectives.as_slice()].concat()))?;
        let mut known = HashMap::with_capacity(krs.len() + objectives.len());
        for (id, k) in &tree.krs {
            let status = ItemStatus::of_key_result(k, tier(*id)?);
            known.insert(*id, Goal { status, target: k.target, actual: k.latest_actual, bottom_up: None });
        }
        for (id, o) in &tree.objectives {
            let status = ItemStatus::of_objective(o, tier(*id)?);
            let money = tree.bottom_up.get(id).copied().unwrap_or_default();
            known.insert(*id, Goal { status, target: None, actual: None, bottom_up: Some(money) });
        }
        Ok(known)
    }

    fn item_rows_paged(
        &self,
        only: Option<&std::collections::HashSet<i64>>,
        page: usize,
        known: Option<&HashMap<i64, Goal>>,
        each: &mut dyn FnMut(ItemRow) -> Result<()>,
    ) -> Result<()> {
        let forget = known.is_some();
        let c = self.conn();
        let kinds = ["objective", "key-result", "kpi", "portfolio", "programme", "project", "package", "measure"];
        let page = page.max(1);
        for kind_s in kinds {
            let kind = ItemKind::parse(kind_s).expect("a known kind");
            let mut after = 0i64;
            loop {
                let rows: Vec<(i64, i64, String)> = c.query_map(
                    "SELECT id, num, key FROM items WHERE kind = ?1 AND num > ?2 AND retired_at IS NULL ORDER BY num LIMIT ?3",
                    params![kind_s, after, page as i64],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
                let full = rows.len() >= page;
                after = rows.last().map_or(after, |r| r.1);
                // A page's measures or KPIs computed together: a few queries, not a few per row.
                let page_ids: Vec<i64> = rows.iter().map(|r| r.0).filter(|id| only.is_none_or(|o| o.contains(id))).collect();
                match kind {
                    ItemKind::Measure => self.with_statuses(|e| e.load_measures(&page_ids))?,
                    ItemKind::Kpi => self.with_statuses(|e| e.load_kpis(&page_ids))?,
                    _ => {}
                }
                let mut facts = row_facts(c, kind, &page_ids)?;
                for (id, _, key) in rows {
                    if only.is_some_and(|o| !o.contains(&id)) {
                        continue;
                    }
                    let own = facts.remove(&id).ok_or(crate::store::StoreError::Database(crate::store::engine::Error::NoRows))?;
                    each(self.item_row(kind, kind_s, id, key, own, known.and_then(|k| k.get(&id)))?)?;
                }
                if forget {
                    self.forget_statuses();
                }
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }

    fn item_row(&self, kind: ItemKind, kind_s: &str, id: i64, key: String, own: RowFacts, known: Option<&Goal>) -> Result<ItemRow> {
        let c = self.conn();
        let st = match known {
            Some(goal) => goal.status.clone(),
            None => self.with_statuses(|e| e.item(kind, id))?,
        };
        let mut row = ItemRow {
            key,
            kind: kind_s.to_string(),
            title: own.title,
            parent: own.parent,
            owner: own.owner,
            cycle: own.cycle,
            target: own.target,
            status: st.rag.label().to_string(),
            stage: st.stage.map(|s| s.as_str().to_string()),
            side_state: st.side_state.map(|s| s.as_str().to_string()),
            implementation: st.implementation.map(|l| l.label().to_string()),
            progress: st.progress,
            stale: st.stale,
            escalation_tier: st.tier,
            ..Default::default()
        };
        match kind {
            ItemKind::Measure => {
                let m = self.with_statuses(|e| e.measure(id))?;
                row.potential = Some(m.potential.label().to_string());
                (row.planned, row.forecast, row.actual) = (m.shown_money.planned, m.shown_money.forecast, m.shown_money.actual);
            }
            ItemKind::KeyResult => {
                (row.target, row.actual) = match known {
                    Some(goal) => (goal.target, goal.actual),
                    None => self.with_statuses(|e| e.kr(id).map(|k| (k.target, k.latest_actual)))?,
                };
                row.forecast = latest_forecast(&read::values_of(c, id, None)?);
            }
            ItemKind::Kpi => {
                let k = self.with_statuses(|e| e.kpi(id))?;
                (row.target, row.actual) = (k.target, k.latest_actual);
                row.forecast = latest_forecast(&read::values_of(c, id, None)?);
            }
            ItemKind::Objective => {
                let bu = match known.and_then(|goal| goal.bottom_up) {
                    Some(money) => money,
                    None => self.with_statuses(|e| e.bottom_up(id))?,
                };
                (row.planned, row.forecast, row.actual) = (Some(bu.planned), Some(bu.forecast), Some(bu.actual));
            }
            _ => {
                let total = read::node_total(c, id)?;
                (row.planned, row.forecast, row.actual) = (Some(total.planned), Some(total.forecast), Some(total.actual));
            }
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::engine::OptionalExtension;

    /// Every row's title, parent, owner, cycle and target, read a page at a time in one query per
    /// kind, are what one look-up per fact finds, for every kind of item.
    #[test]
    fn each_rows_own_facts_are_its_tables() {
        let (_dir, store) = crate::io::demo::in_temp_dir();
        let c = store.conn();
        let one = |sql: &str, key: &str| -> Option<String> {
            c.query_row(sql, [key], |r| r.get::<_, Option<String>>(0)).optional().unwrap().flatten()
        };
        let rows = store.item_rows().unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for row in &rows {
            let (table, parent) = match row.kind.as_str() {
                "objective" => ("objectives", Some("parent_id")),
                "key-result" => ("key_results", Some("objective_id")),
                "kpi" => ("kpis", None),
                "measure" => ("measures", Some("package_id")),
                _ => ("nodes", Some("parent_id")),
            };
            let of = |what: &str| format!("SELECT {what} FROM {table} t JOIN items i ON i.id = t.id WHERE i.key = ?1");
            let k = row.key.as_str();
            assert_eq!(Some(row.title.clone()), one(&of("t.title"), k), "{k} title");
            let want_parent = parent.and_then(|p| one(&of(&format!("(SELECT key FROM items WHERE id = t.{p})")), k));
            assert_eq!(row.parent, want_parent, "{k} parent");
            assert_eq!(row.owner, one(&of("(SELECT name FROM people WHERE id = t.owner_id)"), k), "{k} owner");
            let cycle = match row.kind.as_str() {
                "objective" => one(&of("(SELECT name FROM cycles WHERE id = t.cycle_id)"), k),
                "key-result" => {
                    one(&of("(SELECT c.name FROM objectives o JOIN cycles c ON c.id = o.cycle_id WHERE o.id = t.objective_id)"), k)
                }
                _ => None,
            };
            assert_eq!(row.cycle, cycle, "{k} cycle");
            if matches!(row.kind.as_str(), "objective" | "portfolio" | "programme" | "project" | "package") {
                let target = one(&of("CAST(t.target AS TEXT)"), k).as_deref().and_then(crate::domain::Num::from_stored);
                assert_eq!(row.target, target, "{k} target");
            }
            let n = seen.entry(row.kind.clone()).or_insert([0; 3]);
            n[0] += row.parent.is_some() as usize;
            n[1] += row.owner.is_some() as usize;
            n[2] += row.cycle.is_some() as usize;
        }
        // Not vacuous: every kind is there, with parents and owners, and goals with cycles.
        assert_eq!(seen.len(), 8, "{seen:?}");
        assert!(seen["measure"][0] > 0 && seen["measure"][1] > 0 && seen["key-result"][2] > 0 && seen["objective"][2] > 0, "{seen:?}");
    }
}
