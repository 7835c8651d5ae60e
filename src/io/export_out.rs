//! `keel export` streamed: the plan, the values and the items are written element by element as
//! the store reads them a page at a time, never gathered into one document, so memory stays
//! bounded however large the file.
//!
//! The bytes are exactly those of serializing the whole document with
//! `serde_json::to_string_pretty` (plus a final newline), or of the whole CSV: each element is
//! pretty-printed alone and indented to its depth (JSON strings hold no newline, so lines are
//! indented safely), inside an array frame written by hand.

use super::csv::{self as values_csv, neutralise, number, text};
use crate::domain::plan::{self as p};
use crate::store::plan::{PlanRow, ValueOf};
use crate::store::report::ItemRow;
use crate::store::{Result, Store, StoreError};
use serde::Serialize;
use std::io::Write;

/// The plan's sections after its settings, in its order, as `Plan`'s fields name them.
const SECTIONS: [&str; 12] =
    ["cycles", "units", "people", "kras", "objectives", "key_results", "kpis", "nodes", "measures", "values", "decisions", "retired"];
/// `retired` is written only when there are some (`skip_serializing_if` in `Plan`).
const RETIRED: usize = 11;

fn section_of(row: &PlanRow) -> usize {
    match row {
        PlanRow::Cycle(_) => 0,
        PlanRow::Unit(_) => 1,
        PlanRow::Person(_) => 2,
        PlanRow::Kra(_) => 3,
        PlanRow::Objective(_) => 4,
        PlanRow::KeyResult(_) => 5,
        PlanRow::Kpi(_) => 6,
        PlanRow::Node(_) => 7,
        PlanRow::Measure(_) => 8,
        PlanRow::Value(_) => 9,
        PlanRow::Decision(_) => 10,
        PlanRow::Retired(_) => 11,
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e)
}

/// A JSON array written one element at a time, as serde_json's pretty printer would write it
/// at `indent` (the array's own lines; its elements one level deeper).
struct Array {
    indent: &'static [u8],
    rows: usize,
    buf: Vec<u8>,
}

impl Array {
    fn open(indent: &'static [u8], out: &mut dyn Write) -> std::io::Result<Array> {
        out.write_all(b"[")?;
        Ok(Array { indent, rows: 0, buf: Vec::with_capacity(1024) })
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T, out: &mut dyn Write) -> std::io::Result<()> {
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, value).map_err(std::io::Error::other)?;
        out.write_all(if self.rows > 0 { b",\n" } else { b"\n" })?;
        for (i, line) in self.buf.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(self.indent)?;
            out.write_all(b"  ")?;
            out.write_all(line)?;
        }
        self.rows += 1;
        Ok(())
    }

    fn close(self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.rows > 0 {
            out.write_all(b"\n")?;
            out.write_all(self.indent)?;
        }
        out.write_all(b"]")
    }
}

/// `value` pretty-printed as a field of the top-level object (its lines after the first one
/// level deeper).
fn field<T: Serialize + ?Sized>(name: &str, value: &T, out: &mut dyn Write) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    write!(out, "  \"{name}\": ")?;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n  ")?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

/// The plan as `keel export --format json` writes it (`io::plan::to_text` of the whole plan),
/// read `page` items at a time.
pub fn write_plan(store: &Store, page: usize, out: &mut dyn Write) -> Result<()> {
    let settings = store.export_settings()?;
    (|| {
        out.write_all(b"{\n")?;
        field("format", p::FORMAT, out)?;
        out.write_all(b",\n")?;
        field("version", &p::FORMAT_VERSION, out)?;
        out.write_all(b",\n")?;
        field("settings", &settings, out)
    })()
    .map_err(io)?;
    // The section being written, and the next to open.
    let mut open: Option<Array> = None;
    let mut next = 0;
    let mut advance = |to: usize, open: &mut Option<Array>, out: &mut dyn Write| -> std::io::Result<()> {
        while next <= to {
            if let Some(a) = open.take() {
                a.close(out)?;
            }
            write!(out, ",\n  \"{}\": ", SECTIONS[next])?;
            *open = Some(Array::open(b"  ", out)?);
            next += 1;
        }
        Ok(())
    };
    store.export_plan_each(page, &mut |row| {
        let section = section_of(&row);
        let written = advance(section, &mut open, out).and_then(|()| {
            let a = open.as_mut().expect("a section is open");
            match &row {
                PlanRow::Cycle(x) => a.push(x, out),
                PlanRow::Unit(x) => a.push(x, out),
                PlanRow::Person(x) => a.push(x, out),
                PlanRow::Kra(x) => a.push(x, out),
                PlanRow::Objective(x) => a.push(x, out),
                PlanRow::KeyResult(x) => a.push(x, out),
                PlanRow::Kpi(x) => a.push(x, out),
                PlanRow::Node(x) => a.push(x, out),
                PlanRow::Measure(x) => a.push(x, out),
                PlanRow::Value(x) => a.push(x, out),
                PlanRow::Decision(x) => a.push(x, out),
                PlanRow::Retired(x) => a.push(x, out),
            }
        });
        written.map_err(io)
    })?;
    (|| {
        advance(RETIRED - 1, &mut open, out)?;
        if let Some(a) = open.take() {
            a.close(out)?;
        }
        out.write_all(b"\n}\n")
    })()
    .map_err(io)
}

/// Every value, as the values export's rows.
fn each_value_line(store: &Store, page: usize, mut each: impl FnMut(values_csv::ValueLine) -> Result<()>) -> Result<()> {
    store.export_values_paged(page, true, &mut |ValueOf { value, title }| each(values_csv::value_line(value, title)))
}

/// `keel export --what values --format json`: the lines as one pretty JSON array.
pub fn write_values_json(store: &Store, page: usize, out: &mut dyn Write) -> Result<()> {
    let mut a = Array::open(b"", out).map_err(io)?;
    each_value_line(store, page, |line| a.push(&line, out).map_err(io))?;
    a.close(out).and_then(|()| out.write_all(b"\n")).map_err(io)
}

/// `keel export --what values --format csv`.
pub fn write_values_csv(store: &Store, page: usize, out: &mut dyn Write) -> Result<()> {
    let mut w = values_csv::values_writer(out).map_err(csv_error)?;
    each_value_line(store, page, |line| values_csv::write_value_line(&mut w, &line).map_err(csv_error))?;
    w.flush().map_err(io)
}

/// `keel export --what items --format json`.
pub fn write_items_json(store: &Store, out: &mut dyn Write) -> Result<()> {
    let mut a = Array::open(b"", out).map_err(io)?;
    store.item_rows_each(&mut |row| a.push(&row, out).map_err(io))?;
    a.close(out).and_then(|()| out.write_all(b"\n")).map_err(io)
}

/// `keel export --what items --format csv`.
pub fn write_items_csv(store: &Store, out: &mut dyn Write) -> Result<()> {
    let mut w = items_writer(out).map_err(csv_error)?;
    store.item_rows_each(&mut |row| write_item_row(&mut w, &row).map_err(csv_error))?;
    w.flush().map_err(io)
}

/// A CSV writer for the items export, its header written.
pub fn items_writer<W: std::io::Write>(out: W) -> std::result::Result<::csv::Writer<W>, ::csv::Error> {
    let mut w = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out);
    w.write_record([
        "key",
        "kind",
        "title",
        "parent",
        "owner",
        "cycle",
        "stage",
        "side_state",
        "status",
        "implementation",
        "potential",
        "progress",
        "target",
        "planned",
        "forecast",
        "actual",
        "stale",
        "escalation_tier",
    ])?;
    Ok(w)
}

/// One row of the items export.
pub fn write_item_row<W: std::io::Write>(w: &mut ::csv::Writer<W>, r: &ItemRow) -> std::result::Result<(), ::csv::Error> {
    w.write_record([
        r.key.clone(),
        r.kind.clone(),
        neutralise(&r.title),
        text(r.parent.as_deref()),
        text(r.owner.as_deref()),
        text(r.cycle.as_deref()),
        text(r.stage.as_deref()),
        text(r.side_state.as_deref()),
        r.status.clone(),
        text(r.implementation.as_deref()),
        text(r.potential.as_deref()),
        // A derived ratio: four decimals are plenty (the one rounding rule, `Num::round_dp`).
        number(r.progress.map(|p| p.round_dp(4))),
        number(r.target),
        number(r.planned),
        number(r.forecast),
        number(r.actual),
        if r.stale { "yes" } else { "no" }.to_string(),
        r.escalation_tier.map(|t| t.to_string()).unwrap_or_default(),
    ])
}

fn csv_error(e: ::csv::Error) -> StoreError {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => io(e),
        other => io(std::io::Error::other(format!("cannot write CSV: {other:?}"))),
    }
}
