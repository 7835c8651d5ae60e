//! Importing a values file (CSV or `.xlsx`): read every row, check the keys against the file,
//! and turn the cells that differ from what is stored into changes for the one write path.
//! `keel import` prints what this finds; `keel bench` times it.

use super::csv::{self as values_csv, Problem, Row};
use crate::store::{Change, Edit, Store};
use std::collections::BTreeSet;

/// How a values file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Xlsx,
}

/// Read a values file's bytes: the rows that parsed and every problem.
pub fn read(bytes: &[u8], kind: Kind) -> (Vec<Row>, Vec<Problem>) {
    match kind {
        Kind::Xlsx => values_csv::read_workbook(bytes),
        Kind::Csv => match super::spreadsheet::decode(bytes) {
            Ok(text) => values_csv::read_values(&text),
            Err(p) => (vec![], vec![p]),
        },
    }
}

/// One value a file would change, for the dry run's listing.
#[derive(Clone, Debug)]
pub struct Listed {
    pub line: u64,
    pub key: String,
    pub period: String,
    pub field: &'static str,
    pub was: Option<String>,
    pub now: String,
}

/// What importing the rows would do.
#[derive(Debug, Default)]
pub struct Prepared {
    pub rows: Vec<Row>,
    /// One change per row that changes something.
    pub changes: Vec<Change>,
    /// Each value that would change (only when asked to list them).
    pub listed: Vec<Listed>,
    /// Items the file names.
    pub items: usize,
    /// Rows whose cells are all empty (they set nothing).
    pub empty_rows: usize,
}

impl Prepared {
    /// The edit that applies the file, its reason naming the file.
    pub fn edit(&mut self, file_name: &str) -> Edit {
        let mut changes = std::mem::take(&mut self.changes);
        // Recorded as one change set, so `keel revert` can take the whole file back; a file that
        // changes nothing stays no edit at all (nothing to revert, and its dry run needs none).
        if !changes.is_empty() {
            let record = crate::store::upkeep::Upkeep::RecordImport { kind: "values", file: file_name.to_string(), values: 0 };
            changes.push(Change::Upkeep(record));
        }
        Edit { changes, reason: Some(format!("import {file_name}")) }
    }
}

/// Check the rows against the file (unknown keys are problems, with their lines) and turn each
/// row into one change. With `list` (a dry run) the rows are compared with the values stored
/// now, and each value that would change is listed; otherwise the write path itself skips what
/// is unchanged (one read per row inside the transaction, not a copy of every value beforehand).
/// `tick` is told how many rows are done.
pub fn prepare(
    store: &Store,
    rows: Vec<Row>,
    mut problems: Vec<Problem>,
    list: bool,
    mut tick: impl FnMut(usize),
) -> crate::store::Result<Result<Prepared, Vec<Problem>>> {
    let keys: BTreeSet<String> = rows.iter().map(|r| r.key.to_string()).collect();
    let known = store.existing_keys(&keys)?;
    for r in rows.iter().filter(|r| !known.contains(&r.key.to_string())) {
        problems.push(Problem { line: r.line, column: Some("key".into()), what: format!("no item {} in this file", r.key) });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Ok(Err(problems));
    }
    // What each row would change, against the values in the file now (for the listing).
    let current = if list { store.values_by_key()? } else { Default::default() };
    let mut listed = Vec::new();
    let mut changes = Vec::new();
    let empty_rows = rows.iter().filter(|r| r.cells.is_empty()).count();
    let mut rows = rows;
    for (i, r) in rows.iter_mut().enumerate() {
        let mut cells = Vec::new();
        if list {
            let old = current.get(&(r.key.to_string(), r.period.to_string()));
            for (field, value) in &r.cells {
                let was = values_csv::cell_of(old, field);
                // The same number at another scale (22000 for 22000.00) is no change.
                if values_csv::same(field, was.as_deref(), value) {
                    continue;
                }
                listed.push(Listed { line: r.line, key: r.key.to_string(), period: r.period.to_string(), field, was, now: value.clone() });
                cells.push((*field, value.clone()));
            }
        } else {
            // The row keeps its line, key and period (to name it in an error); its cells move.
            cells = std::mem::take(&mut r.cells);
        }
        // A row is one change: read, written and logged once.
        if !cells.is_empty() {
            changes.push(Change::Values { key: r.key.clone(), period: r.period, cells });
        }
        if i.is_multiple_of(1024) {
            tick(i);
        }
    }
    tick(rows.len());
    let items = rows.iter().map(|r| &r.key).collect::<BTreeSet<_>>().len();
    Ok(Ok(Prepared { rows, changes, listed, items, empty_rows }))
}
