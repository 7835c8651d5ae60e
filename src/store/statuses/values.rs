//! What a measure's status needs from its values, counted where the values are: one row per
//! measure (how many periods hold each figure, the newest update of an actual, the newest period
//! with an actual that has begun, the day the first period begins) instead of every value row. On a server that
//! is a tenth of the rows over the wire; the money itself is the write path's `measure_money`.

use super::{scoped, Engine};
use crate::domain::rollup::{self, EnteredCounts, Money, ShownMoney};
use crate::store::engine::{DbResult, IdBatch, Row};
use crate::store::Result;
use std::collections::HashMap;

/// One measure's values, as its status reads them.
#[derive(Debug, Default)]
pub(super) struct ValueFacts {
    pub entered: EnteredCounts,
    /// When an actual of a period that has begun was last entered or reported.
    pub last: Option<String>,
    /// The newest period with an actual that has begun, and the day the first period with any
    /// value begins.
    pub latest: Option<String>,
    pub first_start: Option<String>,
}

impl ValueFacts {
    pub fn shown(&self, money: Money) -> ShownMoney {
        rollup::shown_money(money, self.entered)
    }
}

/// Periods sort by their start date; the period's own name follows it after a space, so the
/// greatest of `start || ' ' || period` names the newest period in either dialect.
fn period_of(started: Option<String>) -> Option<String> {
    started.map(|s| s.split_once(' ').map(|(_, period)| period.to_string()).unwrap_or(s))
}

impl Engine<'_> {
    /// The value facts of the measures of `batch` (of every measure without one); a measure
    /// without a single value row has none.
    pub(super) fn value_facts(&self, batch: Option<&IdBatch>) -> Result<HashMap<i64, ValueFacts>> {
        // `today` follows the batch, or stands first when the whole table is read.
        let today = if batch.is_none() { "?1" } else { "?2" };
        let begun_actual = format!("v.actual IS NOT NULL AND v.period_start <= {today}");
        let sql = scoped(
            self.conn,
            &format!(
                "SELECT v.item_id, COUNT(v.planned), COUNT(v.forecast), COUNT(v.actual),
                        MAX(CASE WHEN {begun_actual} THEN COALESCE(v.reported_at, v.updated_at) END),
                        MAX(CASE WHEN {begun_actual} THEN v.period_start || ' ' || v.period END),
                        MIN(v.period_start)
                 FROM item_values v"
            ),
            "v.item_id",
            batch,
            "GROUP BY v.item_id",
        );
        let sql = if batch.is_none() { sql.replace(" GROUP BY", " WHERE v.item_id IN (SELECT id FROM measures) GROUP BY") } else { sql };
        let mut facts = HashMap::with_capacity(1024);
        let read = |r: &Row| -> DbResult<(i64, ValueFacts)> {
            let count = |i: usize| -> DbResult<usize> { Ok(r.get::<_, i64>(i)?.max(0) as usize) };
            Ok((
                r.get(0)?,
                ValueFacts {
                    entered: EnteredCounts { planned: count(1)?, forecast: count(2)?, actual: count(3)? },
                    last: r.get(4)?,
                    latest: period_of(r.get(5)?),
                    first_start: r.get(6)?,
                },
            ))
        };
        let today = self.clock.today.to_string();
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = match batch {
            None => stmt.query([today])?,
            Some(b) => stmt.query([b.param(), &today])?,
        };
        while let Some(r) = rows.next()? {
            let (id, f) = read(&r)?;
            if batch.is_none_or(|b| b.keeps(id)) {
                facts.insert(id, f);
            }
        }
        Ok(facts)
    }
}
