//! The values stored now, by item key and period: what the values import compares a file with
//! (a lean read of the one table, where the plan export would build the whole organisation).

use super::{Result, Store};
use crate::domain::plan::Value;
use crate::domain::Num;
use crate::store::engine::DbResult;
use std::collections::HashMap;

impl Store {
    /// Every value row by (item key, period). `by` and `at` are left empty: the comparison does
    /// not need them.
    pub fn values_by_key(&self) -> Result<HashMap<(String, String), Value>> {
        let mut stmt = self.conn().prepare(
            "SELECT i.key, v.period, v.baseline, v.planned, v.forecast, v.actual, v.confidence, v.comment
             FROM item_values v JOIN items i ON i.id = v.item_id",
        )?;
        let num = |s: Option<String>| s.and_then(|s| Num::from_stored(&s));
        let rows = stmt.query_map([], |r| {
            let (item, period): (String, String) = (r.get(0)?, r.get(1)?);
            Ok((
                (item.clone(), period.clone()),
                Value {
                    item,
                    period,
                    baseline: num(r.get(2)?),
                    planned: num(r.get(3)?),
                    forecast: num(r.get(4)?),
                    actual: num(r.get(5)?),
                    confidence: num(r.get(6)?),
                    comment: r.get(7)?,
                    by: String::new(),
                    at: String::new(),
                },
            ))
        })?;
        Ok(rows.collect::<DbResult<_>>()?)
    }
}
