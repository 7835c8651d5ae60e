//! `keel discipline`: the update-discipline ledger per person and unit over the cycle, printed
//! by the listing formatter `keel list` uses (table, CSV, JSON).

use super::listing::{self, Cell, ListFormat, Listing};
use crate::store::discipline::{DisciplineQuery, DisciplineRow};
use crate::store::Store;
use anyhow::Result;

impl Listing for DisciplineRow {
    fn columns() -> &'static [&'static str] {
        &["person", "unit", "key", "title", "cadence", "expected", "on_time", "late", "missed", "missed_in_a_row", "missed_periods"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::opt(self.person.clone()),
            Cell::opt(self.unit.clone()),
            Cell::text(&self.key),
            Cell::text(&self.title),
            Cell::text(&self.cadence),
            Cell::number(self.expected),
            Cell::number(self.on_time),
            Cell::number(self.late),
            Cell::number(self.missed),
            Cell::number(self.missed_in_a_row),
            Cell::text(self.missed_periods.join(" ")),
        ]
    }
}

pub fn run(store: &Store, query: DisciplineQuery, format: ListFormat) -> Result<i32> {
    let rows = store.discipline(&query)?;
    listing::print(format, &rows, None, "no expected updates for these people in this cycle")?;
    Ok(0)
}
