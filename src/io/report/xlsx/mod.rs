//! The report as an XLSX workbook for finance: one sheet per section, a bold frozen header row
//! with an autofilter on every sheet, real numeric and date cells with number formats (money in
//! the file's currency when it names one), totals rows where a column adds up, and a print setup
//! on every sheet (landscape, one page wide, the header row repeated, title, scope and page
//! numbers in the page header and footer). A figure nobody entered is a blank cell, never a 0.
//!
//! A spreadsheet number is a binary double. Each number goes from keel's exact decimal through its
//! text to the double, and is written as a number only when that double reads back as the same
//! decimal; anything more precise than a double can hold (beyond ~15 significant digits) is
//! written as text, so a cell never shows a figure keel does not hold.
//!
//! The workbook is written as it is made, like the Markdown and HTML reports: the measures come
//! from a [`Measures`] source a page at a time and the long check lists row by row from their
//! spill files, each row going to its sheet's temporary file, and the finished workbook is
//! zipped straight to its writer. Memory so grows with the objectives, not with the measures.

mod cells;
mod sheet;
mod sheets;

pub use cells::exact_f64;

use super::{Held, Measures, LEGEND};
use crate::store::report::ReportModel;
use crate::store::{Result, StoreError};
use rust_xlsxwriter::{DocProperties, Workbook, XlsxError};
use std::io::Write;

/// The sheet names, in order (for tests and documentation).
pub const SHEETS: &[&str] = &[
    "Summary",
    "Objectives",
    "Key results",
    "Measures",
    "KPIs",
    "KPI trends",
    "Escalations",
    "Confidence",
    "Value funnel",
    "Targets",
    "Stale",
    "Late milestones",
    "Health",
];

/// The report as a workbook written to `w` as it is made, its measures read from `ms`.
pub fn write_xlsx(r: &ReportModel, source: &str, ms: &dyn Measures, w: &mut (dyn Write + Send)) -> Result<()> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title("Steering committee report").set_subject(r.scope.describe()).set_comment(LEGEND));
    let mut book = sheet::Book::new(wb, r, source);
    sheets::all(&mut book, r, source, ms)?;
    book.wb.save_to_writer(w).xl()
}

/// The report as XLSX bytes, from a model that holds its measures.
pub fn xlsx(r: &ReportModel, source: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    write_xlsx(r, source, &Held, &mut bytes)?;
    Ok(bytes)
}

/// A failure of the workbook writer as the store's error: the writer's own I/O failure (a full
/// disk) as it is, anything else (more rows than a sheet holds) said as the workbook's.
trait Xl<T> {
    fn xl(self) -> Result<T>;
}

impl<T> Xl<T> for std::result::Result<T, XlsxError> {
    fn xl(self) -> Result<T> {
        self.map_err(|e| match e {
            XlsxError::IoError(e) => StoreError::Io(e),
            e => StoreError::Io(std::io::Error::other(format!("cannot build the workbook: {e}"))),
        })
    }
}

#[cfg(test)]
mod stream_tests;
