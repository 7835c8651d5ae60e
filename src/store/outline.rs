//! Read models for the tree pane: children fetched on demand (only what is expanded is ever
//! queried), flat filtered lists, search, and the path that reveals an item.

use super::read::{self, title_of};
use super::{resolve, Result, Store};
use crate::domain::{IpoClass, ItemKey, ItemKind};
use crate::store::engine::{params, DbResult};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutlineItem {
    pub key: String,
    pub title: String,
    pub has_children: bool,
    /// For KPIs: the input → process → outcome group they are shown under.
    pub ipo: Option<IpoClass>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TreeView {
    Objectives,
    Execution,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Filter {
    Mine,
    MyUnit,
    Stale,
    Escalated,
    /// The retired items (out of every other list), marked as such.
    Retired,
}

impl Filter {
    pub fn label(self) -> &'static str {
        match self {
            Filter::Mine => "mine",
            Filter::MyUnit => "my unit",
            Filter::Stale => "stale",
            Filter::Escalated => "escalated",
            Filter::Retired => "retired",
        }
    }
}

pub use super::read::RETIRED_MARK;

fn ipo_rank(c: Option<IpoClass>) -> u8 {
    match c {
        Some(IpoClass::Input) => 0,
        Some(IpoClass::Process) => 1,
        Some(IpoClass::Outcome) => 2,
        None => 3,
    }
}

impl Store {
    fn items(&self, sql: &str, id: Option<i64>) -> Result<Vec<OutlineItem>> {
        let c = self.conn();
        let mut stmt = c.prepare_cached(sql)?;
        let rows: Vec<(String, String, bool, Option<String>)> = match id {
            Some(id) => stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<DbResult<_>>()?,
            None => stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<DbResult<_>>()?,
        };
        Ok(rows
            .into_iter()
            .map(|(key, title, has_children, ipo)| OutlineItem { key, title, has_children, ipo: ipo.as_deref().and_then(IpoClass::parse) })
            .collect())
    }

    /// The top rows of a view: company-level objectives (no parent), or portfolios.
    pub fn outline_roots(&self, view: TreeView) -> Result<Vec<OutlineItem>> {
        match view {
            TreeView::Objectives => self.items(
                "SELECT i.key, o.title, 1, NULL FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL WHERE o.parent_id IS NULL ORDER BY i.num",
                None,
            ),
            TreeView::Execution => self.items(
                "SELECT i.key, n.title, EXISTS (SELECT 1 FROM nodes c WHERE c.parent_id = n.id), NULL FROM nodes n JOIN items i ON i.id = n.id AND i.retired_at IS NULL
                 WHERE n.parent_id IS NULL ORDER BY i.num",
                None,
            ),
        }
    }

    /// The children of a row. Objectives: child objectives, key results, then the KPIs that
    /// inform it, input → process → outcome. Key results: the measures and KPIs serving them.
    pub fn outline_children(&self, key: &ItemKey) -> Result<Vec<OutlineItem>> {
        let id = resolve(self.conn(), key)?;
        let mut out = match key.kind {
            ItemKind::Objective => {
                let mut v = self.items(
                    "SELECT i.key, o.title, 1, NULL FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL WHERE o.parent_id = ?1 ORDER BY i.num",
                    Some(id),
                )?;
                v.extend(self.items(
                    "SELECT i.key, k.title, EXISTS (SELECT 1 FROM links WHERE to_id = k.id), NULL FROM key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL
                     WHERE k.objective_id = ?1 ORDER BY i.num",
                    Some(id),
                )?);
                let mut kpis = self.items(
                    "SELECT i.key, k.title, 0, k.ipo_class FROM links l JOIN kpis k ON k.id = l.from_id JOIN items i ON i.id = k.id AND i.retired_at IS NULL WHERE l.to_id = ?1 ORDER BY i.num",
                    Some(id),
                )?;
                kpis.sort_by_key(|k| ipo_rank(k.ipo));
                v.extend(kpis);
                v
            }
            ItemKind::KeyResult => {
                let mut v = self.items(
                    "SELECT i.key, m.title, 0, NULL FROM links l JOIN measures m ON m.id = l.from_id JOIN items i ON i.id = m.id AND i.retired_at IS NULL WHERE l.to_id = ?1 ORDER BY i.num",
                    Some(id),
                )?;
                let mut kpis = self.items(
                    "SELECT i.key, k.title, 0, k.ipo_class FROM links l JOIN kpis k ON k.id = l.from_id JOIN items i ON i.id = k.id AND i.retired_at IS NULL WHERE l.to_id = ?1 ORDER BY i.num",
                    Some(id),
                )?;
                kpis.sort_by_key(|k| ipo_rank(k.ipo));
                v.extend(kpis);
                v
            }
            k if k.node().is_some() => {
                let mut v = self.items(
                    "SELECT i.key, n.title, 1, NULL FROM nodes n JOIN items i ON i.id = n.id AND i.retired_at IS NULL WHERE n.parent_id = ?1 ORDER BY i.num",
                    Some(id),
                )?;
                v.extend(self.items(
                    "SELECT i.key, m.title, 0, NULL FROM measures m JOIN items i ON i.id = m.id AND i.retired_at IS NULL WHERE m.package_id = ?1 ORDER BY i.num",
                    Some(id),
                )?);
                v
            }
            _ => vec![],
        };
        for item in &mut out {
            if item.key.starts_with("PG-") || item.key.starts_with("PJ-") || item.key.starts_with("MP-") || item.key.starts_with("PF-") {
                item.has_children = true;
            }
        }
        Ok(out)
    }

    /// The rows to expand, outermost first, so that `key` becomes visible in `view`.
    pub fn outline_path(&self, key: &ItemKey, view: TreeView) -> Result<Vec<String>> {
        let c = self.conn();
        let id = resolve(c, key)?;
        let objective_chain = |start: i64| -> Result<Vec<String>> {
            let mut stmt = c.prepare_cached(
                "WITH RECURSIVE up(id, depth) AS (SELECT CAST(?1 AS BIGINT), 0 UNION ALL SELECT o.parent_id, up.depth + 1 FROM objectives o JOIN up ON o.id = up.id WHERE o.parent_id IS NOT NULL AND up.depth < 64)
                 SELECT i.key FROM up JOIN items i ON i.id = up.id ORDER BY up.depth DESC",
            )?;
            let r = stmt.query_map([start], |r| r.get(0))?;
            Ok(r.collect::<DbResult<_>>()?)
        };
        let node_chain = |start: i64| -> Result<Vec<String>> {
            let mut stmt = c.prepare_cached(
                "WITH RECURSIVE up(id, depth) AS (SELECT CAST(?1 AS BIGINT), 0 UNION ALL SELECT n.parent_id, up.depth + 1 FROM nodes n JOIN up ON n.id = up.id WHERE n.parent_id IS NOT NULL AND up.depth < 16)
                 SELECT i.key FROM up JOIN items i ON i.id = up.id ORDER BY up.depth DESC",
            )?;
            let r = stmt.query_map([start], |r| r.get(0))?;
            Ok(r.collect::<DbResult<_>>()?)
        };
        let first_link = |kind: &str| -> Result<Option<i64>> {
            Ok(c.query_row(
                "SELECT l.to_id FROM links l JOIN items i ON i.id = l.to_id WHERE l.from_id = ?1 AND i.kind || '' = ?2 ORDER BY i.num LIMIT 1",
                params![id, kind],
                |r| r.get(0),
            )
            .ok())
        };
        let kr_path = |kr: i64| -> Result<Vec<String>> {
            let o: i64 = c.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [kr], |r| r.get(0))?;
            let mut p = objective_chain(o)?;
            p.push(c.query_row("SELECT key FROM items WHERE id = ?1", [kr], |r| r.get(0))?);
            Ok(p)
        };
        let mut path = match (view, key.kind) {
            (TreeView::Objectives, ItemKind::Objective) => objective_chain(id)?,
            (TreeView::Objectives, ItemKind::KeyResult) => kr_path(id)?,
            (TreeView::Objectives, ItemKind::Measure | ItemKind::Kpi) => match first_link("key-result")? {
                Some(kr) => kr_path(kr)?,
                None => match first_link("objective")? {
                    Some(o) => objective_chain(o)?,
                    None => vec![],
                },
            },
            (TreeView::Execution, ItemKind::Measure) => {
                match c.query_row("SELECT package_id FROM measures WHERE id = ?1", [id], |r| r.get::<_, Option<i64>>(0))? {
                    Some(p) => node_chain(p)?,
                    None => vec![],
                }
            }
            (TreeView::Execution, k) if k.node().is_some() => node_chain(id)?,
            _ => vec![],
        };
        let me = key.to_string();
        if path.last() == Some(&me) {
            path.pop();
        }
        Ok(path)
    }

    /// A flat list for a tree filter, by key.
    pub fn outline_filtered(&self, filter: Filter) -> Result<Vec<OutlineItem>> {
        let c = self.conn();
        let me = self.actor.person_id.unwrap_or(-1);
        let sql = match filter {
            Filter::Mine => {
                "SELECT i.key, x.title, 0, NULL FROM (
                    SELECT id, title FROM objectives WHERE owner_id = ?1 UNION ALL SELECT id, title FROM key_results WHERE owner_id = ?1
                    UNION ALL SELECT id, title FROM kpis WHERE owner_id = ?1 UNION ALL SELECT id, title FROM measures WHERE owner_id = ?1
                 ) x JOIN items i ON i.id = x.id AND i.retired_at IS NULL ORDER BY i.kind, i.num"
            }
            Filter::MyUnit => {
                "SELECT i.key, x.title, 0, NULL FROM (
                    SELECT o.id, o.title FROM objectives o JOIN objective_units ou ON ou.objective_id = o.id WHERE ou.unit_id = (SELECT unit_id FROM people WHERE id = ?1)
                    UNION SELECT id, title FROM measures WHERE (SELECT unit_id FROM people WHERE id = ?1) IN (business_unit_id, function_id)
                 ) x JOIN items i ON i.id = x.id AND i.retired_at IS NULL ORDER BY i.kind, i.num"
            }
            Filter::Escalated => {
                "SELECT i.key, '', 0, NULL FROM escalations e JOIN items i ON i.id = e.item_id AND i.retired_at IS NULL WHERE e.state = 'open' AND ?1 = ?1 ORDER BY e.tier DESC, i.kind, i.num"
            }
            Filter::Retired => {
                "SELECT i.key, x.title, 0, NULL FROM (
                    SELECT id, title FROM objectives UNION ALL SELECT id, title FROM key_results UNION ALL SELECT id, title FROM kpis
                    UNION ALL SELECT id, title FROM nodes UNION ALL SELECT id, title FROM measures
                 ) x JOIN items i ON i.id = x.id AND i.retired_at IS NOT NULL WHERE ?1 = ?1 ORDER BY i.kind, i.num"
            }
            Filter::Stale => {
                // An index range over the kept staleness (see `kept::stale`), not a whole check.
                let items = super::kept::stale::stale_on(c, self.clock().today, super::kept::stale::Shape::Outline)?
                    .into_iter()
                    .map(|s| OutlineItem { key: s.key, title: s.title, has_children: false, ipo: None })
                    .collect();
                return Ok(items);
            }
        };
        let mut items = {
            let mut stmt = c.prepare_cached(sql)?;
            let r = stmt.query_map([me], |r| Ok(OutlineItem { key: r.get(0)?, title: r.get(1)?, has_children: false, ipo: None }))?;
            r.collect::<DbResult<Vec<_>>>()?
        };
        for it in &mut items {
            // Marked in words, so it survives NO_COLOR and a screen share.
            if filter == Filter::Retired {
                it.title = format!("{RETIRED_MARK}{}", it.title);
            }
            if it.title.is_empty() {
                if let Ok(k) = ItemKey::parse(&it.key) {
                    it.title = title_of(c, resolve(c, &k)?)?;
                }
            }
        }
        Ok(items)
    }

    /// The status of an item by key, for a tree row.
    pub fn row_status(&self, key: &ItemKey) -> Result<read::ItemStatus> {
        self.item_status(key)
    }
}

impl Store {
    /// The cycle that contains today, else the latest one that has started.
    pub fn current_cycle_name(&self) -> Result<Option<String>> {
        let today = self.clock().today.to_string();
        Ok(self
            .conn()
            .query_row(
                "SELECT name FROM cycles WHERE start_date <= ?1 ORDER BY (end_date >= ?1) DESC, start_date DESC LIMIT 1",
                [today],
                |r| r.get(0),
            )
            .ok())
    }
}
