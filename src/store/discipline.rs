//! The update-discipline ledger as a read model (`keel discipline`, the digest): for each item a
//! person owns, its expected updates over the cycle — on time, late, missed — by person and unit.
//! The ledger itself is the domain's (`domain::discipline`), from facts `signals.rs` gathers.

use super::report::find_named;
use super::signals::{self, Calendar};
use super::{Result, Store};
use crate::domain::discipline::{self, UpdateState};
use crate::domain::ItemKind;
use crate::store::engine::{named_params, DbResult};
use chrono::NaiveDate;
use serde::Serialize;

/// Whose ledger, and over which cycle (default: the current one).
#[derive(Clone, Debug, Default)]
pub struct DisciplineQuery {
    /// A login or a person's key (P-3).
    pub person: Option<String>,
    /// A unit (key or name): people in it and its sub-units.
    pub unit: Option<String>,
    pub cycle: Option<String>,
}

/// One item's expected updates over the window.
#[derive(Clone, Debug, Serialize)]
pub struct DisciplineRow {
    pub person: Option<String>,
    pub login: Option<String>,
    pub unit: Option<String>,
    pub key: String,
    pub title: String,
    pub cadence: String,
    pub expected: usize,
    pub on_time: usize,
    pub late: usize,
    pub missed: usize,
    /// Missed in a row up to now (what escalates).
    pub missed_in_a_row: u32,
    /// The periods whose update was missed, in the window.
    pub missed_periods: Vec<String>,
}

const OWNED: &str = "
WITH RECURSIVE sub(id, depth) AS (SELECT CAST(:unit AS BIGINT), 0 WHERE CAST(:unit AS BIGINT) IS NOT NULL
                                  UNION SELECT u.id, sub.depth + 1 FROM units u JOIN sub ON u.parent_id = sub.id WHERE sub.depth < 16)
SELECT i.id, i.key, p.name, p.login, u.name
FROM (SELECT id, owner_id FROM measures UNION ALL SELECT id, owner_id FROM kpis UNION ALL SELECT id, owner_id FROM key_results) o
JOIN items i ON i.id = o.id
LEFT JOIN people p ON p.id = o.owner_id
LEFT JOIN items pi ON pi.id = p.id
LEFT JOIN units u ON u.id = p.unit_id
WHERE i.retired_at IS NULL
  AND (CAST(:person AS TEXT) IS NULL OR p.login = :person OR pi.key = :person)
  AND (CAST(:unit AS BIGINT) IS NULL OR p.unit_id IN (SELECT id FROM sub))
ORDER BY p.name, i.kind, i.num";

impl Store {
    /// The ledger of every item the query names, person by person.
    pub fn discipline(&self, q: &DisciplineQuery) -> Result<Vec<DisciplineRow>> {
        let c = self.conn();
        let unit = q.unit.as_deref().map(|u| find_named(c, ItemKind::Unit, "units", u)).transpose()?.map(|x| x.0);
        let cycle_name = match &q.cycle {
            Some(cy) => Some(cy.clone()),
            None => self.current_cycle_name()?,
        };
        let window: Option<(NaiveDate, NaiveDate)> = match cycle_name {
            Some(name) => {
                let (id, _, _) = find_named(c, ItemKind::Cycle, "cycles", &name)?;
                let (s, e): (String, String) =
                    c.query_row("SELECT start_date, end_date FROM cycles WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok().zip(NaiveDate::parse_from_str(&e, "%Y-%m-%d").ok())
            }
            None => None,
        };
        type Owned = (i64, String, Option<String>, Option<String>, Option<String>);
        let items: Vec<Owned> = c
            .prepare_cached(OWNED)?
            .query_map(named_params! {":unit": unit, ":person": q.person.as_deref()}, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<DbResult<_>>()?;
        let cal = Calendar::read(c, self.clock().today)?;
        let mut out = Vec::new();
        for (id, key, person, login, unit) in items {
            let Some(cadence) = signals::reporting_cadence(c, id)? else { continue };
            let full = signals::ledger(c, id, &cal)?;
            let in_window: Vec<_> =
                full.iter().filter(|e| window.is_none_or(|(s, end)| e.due >= s && e.period.start() <= end)).copied().collect();
            if in_window.is_empty() {
                continue;
            }
            let (on_time, late, missed) = discipline::tally(&in_window);
            out.push(DisciplineRow {
                person,
                login,
                unit,
                title: super::read::title_of(c, id)?,
                key,
                cadence: cadence.as_str().to_string(),
                expected: in_window.iter().filter(|e| !matches!(e.state, UpdateState::Open)).count(),
                on_time,
                late,
                missed,
                missed_in_a_row: discipline::missed_in_a_row(&full).0,
                missed_periods: in_window.iter().filter(|e| e.state == UpdateState::Missed).map(|e| e.period.to_string()).collect(),
            });
        }
        Ok(out)
    }
}
