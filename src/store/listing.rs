//! Read models for the listing commands: `keel list` (items chosen by a query, with the statuses
//! the tree shows) and a window of the audit log that knows whether it was cut short.

use super::audit::{Entry, Row};
use super::report::{find_named, ItemRow};
use super::{Result, Store, StoreError};
use crate::domain::ItemKind;
use crate::store::engine::{named_params, DbResult};
use std::collections::HashSet;

/// What `keel list` asks for. Strings are matched as the tree and the items export show them.
#[derive(Clone, Debug, Default)]
pub struct ItemQuery {
    pub kind: Option<ItemKind>,
    /// The owner's login.
    pub owner: Option<String>,
    /// A unit (key or name) and its sub-units: objectives tagged with it, measures whose
    /// business unit or function it is.
    pub unit: Option<String>,
    /// A measure's stage (`defined` … `closed`).
    pub stage: Option<String>,
    /// A cycle (key or name): its objectives and key results, and the measures serving them.
    pub cycle: Option<String>,
    /// The status the tree shows (`red`, `amber`, `green`, …).
    pub status: Option<String>,
    pub implementation: Option<String>,
    pub potential: Option<String>,
    /// The tier of the item's open escalation (1–3).
    pub tier: Option<i64>,
}

/// The items the structural filters leave, found in one statement; the statuses are then
/// computed for those only.
const ITEMS: &str = "
WITH RECURSIVE sub(id, depth) AS (SELECT CAST(:unit AS BIGINT), 0 WHERE CAST(:unit AS BIGINT) IS NOT NULL
                                  UNION SELECT u.id, sub.depth + 1 FROM units u JOIN sub ON u.parent_id = sub.id WHERE sub.depth < 16)
SELECT i.id FROM items i
LEFT JOIN objectives o ON o.id = i.id
LEFT JOIN key_results k ON k.id = i.id
LEFT JOIN objectives ko ON ko.id = k.objective_id
LEFT JOIN kpis p ON p.id = i.id
LEFT JOIN nodes n ON n.id = i.id
LEFT JOIN measures m ON m.id = i.id
WHERE i.kind IN ('objective', 'key-result', 'kpi', 'portfolio', 'programme', 'project', 'package', 'measure')
  AND i.retired_at IS NULL
  AND (CAST(:kind AS TEXT) IS NULL OR i.kind = :kind)
  AND (CAST(:login AS TEXT) IS NULL OR :login = (SELECT login FROM people
                                   WHERE id = COALESCE(o.owner_id, k.owner_id, p.owner_id, n.owner_id, m.owner_id)))
  AND (CAST(:unit AS BIGINT) IS NULL OR m.business_unit_id IN (SELECT id FROM sub) OR m.function_id IN (SELECT id FROM sub)
       OR EXISTS (SELECT 1 FROM objective_units ou WHERE ou.objective_id = COALESCE(o.id, ko.id) AND ou.unit_id IN (SELECT id FROM sub)))
  AND (CAST(:stage AS TEXT) IS NULL OR m.stage = :stage)
  AND (CAST(:cycle AS BIGINT) IS NULL OR COALESCE(o.cycle_id, ko.cycle_id) = :cycle
       OR (m.id IS NOT NULL AND EXISTS (SELECT 1 FROM links l JOIN key_results lk ON lk.id = l.to_id
                                        JOIN objectives lo ON lo.id = lk.objective_id WHERE l.from_id = m.id AND lo.cycle_id = :cycle)))";

impl Store {
    /// The items a query names, in the items export's order, with their statuses and numbers.
    pub fn list_items(&self, q: &ItemQuery) -> Result<Vec<ItemRow>> {
        let c = self.conn();
        let unit = q.unit.as_deref().map(|u| find_named(c, ItemKind::Unit, "units", u)).transpose()?.map(|x| x.0);
        let cycle = q.cycle.as_deref().map(|u| find_named(c, ItemKind::Cycle, "cycles", u)).transpose()?.map(|x| x.0);
        let ids: HashSet<i64> = {
            let mut s = c.prepare_cached(ITEMS)?;
            let rows = s.query_map(
                named_params! {
                    ":kind": q.kind.map(ItemKind::as_str),
                    ":login": q.owner,
                    ":unit": unit,
                    ":stage": q.stage,
                    ":cycle": cycle,
                },
                |r| r.get(0),
            )?;
            rows.collect::<DbResult<_>>()?
        };
        let same =
            |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)));
        Ok(self
            .item_rows_of(Some(&ids))?
            .into_iter()
            .filter(|r| {
                same(&q.status, Some(&r.status))
                    && same(&q.implementation, r.implementation.as_deref())
                    && same(&q.potential, r.potential.as_deref())
                    && q.tier.is_none_or(|t| r.escalation_tier == Some(t))
            })
            .collect())
    }

    /// The newest `limit` rows of the audit log (all with `None`) of an item and a window of
    /// time (`since` inclusive, `until` exclusive; RFC 3339 or a date), oldest first, and how many
    /// rows the window holds when that is more than were returned.
    pub fn audit_window(
        &self,
        key: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
        limit: Option<i64>,
    ) -> Result<(Vec<Row>, Option<i64>)> {
        if limit.is_some_and(|l| l < 0) {
            return Err(StoreError::Invalid {
                key: "--limit".into(),
                field: format!("{}", limit.unwrap_or(0)),
                why: "must be 0 (all) or more".into(),
            });
        }
        let c = self.conn();
        let filter = "(CAST(:key AS TEXT) IS NULL OR item_key = :key) AND (CAST(:since AS TEXT) IS NULL OR at >= :since) AND (CAST(:until AS TEXT) IS NULL OR at < :until)";
        let mut s = c.prepare_cached(&format!(
            "SELECT seq, at, actor, item_key, field, old_value, new_value, reason FROM (
                SELECT * FROM audit WHERE {filter} ORDER BY seq DESC LIMIT :limit
             ) AS newest ORDER BY seq"
        ))?;
        // One more than asked: whether the window holds more.
        let fetch = limit.map(|l| l + 1).unwrap_or(i64::MAX);
        let mut rows: Vec<Row> = s
            .query_map(named_params! {":key": key, ":since": since, ":until": until, ":limit": fetch}, |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    entry: Entry { item_key: r.get(3)?, field: r.get(4)?, old_value: r.get(5)?, new_value: r.get(6)?, reason: r.get(7)? },
                })
            })?
            .collect::<DbResult<_>>()?;
        let Some(limit) = limit else { return Ok((rows, None)) };
        if rows.len() as i64 <= limit {
            return Ok((rows, None));
        }
        rows.remove(0);
        let total: i64 = c.query_row(
            &format!("SELECT COUNT(*) FROM audit WHERE {filter}"),
            named_params! {":key": key, ":since": since, ":until": until},
            |r| r.get(0),
        )?;
        Ok((rows, Some(total)))
    }
}
