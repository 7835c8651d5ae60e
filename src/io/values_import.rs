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
    pub changes: Vec<Change>,
    pub listed: Vec<Listed>,
    pub items: usize,
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

/// Check the rows against the file (unknown keys are problems, with their lines) and keep the
/// cells that change something. `tick` is told how many rows are done.
pub fn prepare(
    store: &Store,
    rows: Vec<Row>,
    mut problems: Vec<Problem>,
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
    // What each row would change, against the values in the file now.
    let current = store.values_by_key()?;
    let mut listed = Vec::new();
    let mut changes = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (key, period) = (r.key.to_string(), r.period.to_string());
        let old = current.get(&(key, period));
        for (field, value) in &r.cells {
            let was = values_csv::cell_of(old, field);
            // The same number at another scale (22000 for 22000.00) is no change.
            if values_csv::same(field, was.as_deref(), value) {
                continue;
            }
            listed.push(Listed { line: r.line, key: r.key.to_string(), period: r.period.to_string(), field, was, now: value.clone() });
            changes.push(Change::Value {
                key: r.key.clone(),
                period: r.period,
                field: field.to_string(),
                value: value.clone(),
                if_version: None,
            });
        }
        if i.is_multiple_of(1024) {
            tick(i);
        }
    }
    tick(rows.len());
    let items = rows.iter().map(|r| &r.key).collect::<BTreeSet<_>>().len();
    Ok(Ok(Prepared { rows, changes, listed, items }))
}
