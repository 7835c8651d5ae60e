//! Writing one sheet as its rows come: the bold header row, the data rows (each to the sheet's
//! temporary file as it is written, so a sheet of every measure of a large file is never held),
//! the totals rows, and the print setup every sheet shares.

use super::cells::{write_cell, Cell, Formats};
use super::Xl;
use crate::store::report::ReportModel;
use crate::store::Result;
use rust_xlsxwriter::{Workbook, Worksheet};

/// What every printed page says: the report's title, its scope and date, and the page number.
pub(super) struct Page {
    currency: Option<String>,
    header: String,
    footer: String,
}

impl Page {
    pub(super) fn new(r: &ReportModel, source: &str) -> Page {
        // In a page header `&` starts a code: a literal one is doubled. Excel allows 255 characters.
        let esc = |s: &str, max: usize| -> String {
            let cut: String = s.chars().take(max).collect();
            cut.replace('&', "&&")
        };
        Page {
            currency: r.currency.clone(),
            header: format!(
                "&L&BSteering committee report&B&C{}&R{}{}",
                esc(&r.scope.describe(), 90),
                if r.as_of.is_some() { "as of " } else { "" },
                r.today
            ),
            footer: format!("&L{}&RPage &P of &N", esc(source, 90)),
        }
    }

    /// A money column's header names the currency, when the file sets one.
    fn heading(&self, name: &str, money: bool) -> String {
        match (&self.currency, money) {
            (Some(c), true) => format!("{name} ({c})"),
            _ => name.to_string(),
        }
    }
}

/// Where a sheet's rows are handed, one at a time.
pub(super) type Put<'a> = &'a mut dyn FnMut(Vec<Cell>) -> Result<()>;

/// The workbook being written, with the formats and page setup its sheets share.
pub(super) struct Book {
    pub(super) wb: Workbook,
    f: Formats,
    page: Page,
}

impl Book {
    pub(super) fn new(wb: Workbook, r: &ReportModel, source: &str) -> Book {
        Book { wb, f: Formats::new(r.currency.as_deref()), page: Page::new(r, source) }
    }

    /// One sheet: the header row, the rows `rows` hands on (filtered and sorted by the
    /// autofilter), then the totals rows below them, outside the filter so a sort never moves
    /// them; `totals` is given how many rows there were.
    ///
    /// The columns in `money` may hold money: a column's heading names the currency when any of
    /// its cells is money. The rows are written in order as they come, so that is settled first,
    /// from the totals, else by reading the rows once more (only while it is still open, and
    /// only when the file names a currency).
    pub(super) fn sheet(
        &mut self,
        name: &str,
        header: &[(&str, f64)],
        money: &[usize],
        rows: &mut dyn FnMut(Put) -> Result<()>,
        totals: &dyn Fn(usize) -> Vec<Vec<Cell>>,
    ) -> Result<()> {
        let mut named = vec![false; header.len()];
        if self.page.currency.is_some() {
            let mark = |named: &mut [bool], row: &[Cell]| {
                for &c in money {
                    if matches!(row.get(c), Some(Cell::Money(_))) {
                        named[c] = true;
                    }
                }
            };
            totals(0).iter().for_each(|row| mark(&mut named, row));
            if money.iter().any(|&c| !named[c]) {
                rows(&mut |row| {
                    mark(&mut named, &row);
                    Ok(())
                })?;
            }
        }
        let f = &self.f;
        let ws: &mut Worksheet = self.wb.add_worksheet_with_constant_memory().xl()?;
        ws.set_name(name).xl()?;
        for (c, (h, width)) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, self.page.heading(h, named[c]), &f.header).xl()?;
            ws.set_column_width(c as u16, *width).xl()?;
        }
        let mut write_row = |at: u32, row: &[Cell], total: bool| -> Result<()> {
            for (c, cell) in row.iter().enumerate() {
                debug_assert!(!matches!(cell, Cell::Money(_)) || money.contains(&c), "{name}: money in column {c}, not listed");
                write_cell(ws, f, at, c as u16, cell, total)?;
            }
            Ok(())
        };
        let mut written: u32 = 0;
        rows(&mut |row| {
            written += 1;
            write_row(written, &row, false)
        })?;
        for (t, row) in totals(written as usize).iter().enumerate() {
            write_row(written + 1 + t as u32, row, true)?;
        }
        ws.set_freeze_panes(1, 0).xl()?;
        ws.autofilter(0, 0, written.max(1), header.len().saturating_sub(1) as u16).xl()?;
        ws.set_landscape();
        ws.set_print_fit_to_pages(1, 0);
        ws.set_repeat_rows(0, 0).xl()?;
        ws.set_header(&self.page.header);
        ws.set_footer(&self.page.footer);
        Ok(())
    }
}
