//! `keel check` streamed: each row is rendered as the store computes it and spilled to a
//! temporary file of its list (unnamed, 0600, gone when closed), so the report is never held
//! whole in memory; once every read is done the lists are written out in the report's order.
//! A reader that is slow to take the output (a pager, a blocked pipe) so holds no read open.
//!
//! Text is [`text::write_check`]'s rendering row by row; JSON is exactly what
//! `serde_json::to_writer_pretty` makes of the whole [`CheckReport`](crate::store::check::CheckReport)
//! — each row is pretty-printed alone and indented to its depth (JSON strings hold no newline,
//! so lines are indented safely).

use super::text::{self, Printable};
use crate::store::check::{CheckRow, CheckSummary};
use crate::store::{Result, Store, StoreError};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Seek, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// The lists, in the report's order (as `CheckRow` names them).
const LISTS: usize = 13;
const JSON_NAMES: [&str; LISTS] = [
    "escalations",
    "stale",
    "late_milestones",
    "implementation",
    "potential",
    "at_risk_key_results",
    "green_without_explanation",
    "outcome_only_objectives",
    "isolated_kpis",
    "incomplete_kpis",
    "not_executable",
    "funnel",
    "objective_targets",
];

fn list_of(row: &CheckRow) -> usize {
    match row {
        CheckRow::Escalation(_) => 0,
        CheckRow::Stale(_) => 1,
        CheckRow::LateMilestone(_) => 2,
        CheckRow::Implementation(_) => 3,
        CheckRow::Potential(_) => 4,
        CheckRow::AtRisk(_) => 5,
        CheckRow::Unexplained(_) => 6,
        CheckRow::OutcomeOnly(_) => 7,
        CheckRow::IsolatedKpi(_) => 8,
        CheckRow::IncompleteKpi(_) => 9,
        CheckRow::NotExecutable(_) => 10,
        CheckRow::Funnel(_) => 11,
        CheckRow::ObjectiveTarget(_) => 12,
    }
}

/// One list's rows so far, rendered, in a temporary file.
struct Spill {
    file: BufWriter<File>,
    rows: usize,
}

/// `fmt::Write` into a spill file, keeping the first I/O error (a full disk) to report.
struct FmtFile<'a>(&'a mut BufWriter<File>, &'a mut Option<std::io::Error>);

impl std::fmt::Write for FmtFile<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|e| {
            self.1.get_or_insert(e);
            std::fmt::Error
        })
    }
}

/// Every row of a check, rendered and spilled; nothing is read from the file any more.
pub struct Spilled {
    format: Format,
    lists: Vec<Spill>,
    pub summary: CheckSummary,
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Io(e)
}

/// Run the check, rendering each row into its list's temporary file as it comes.
pub fn spill(store: &Store, format: Format) -> Result<Spilled> {
    spill_batched(store, format, crate::store::CHECK_BATCH)
}

/// As [`spill`], computing `batch` measures at a time (tests cross batch borders with small ones).
pub fn spill_batched(store: &Store, format: Format, batch: usize) -> Result<Spilled> {
    let mut lists = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        lists.push(Spill { file: BufWriter::with_capacity(64 * 1024, tempfile::tempfile().map_err(io_error)?), rows: 0 });
    }
    let mut failed: Option<std::io::Error> = None;
    let mut json = Vec::with_capacity(1024);
    let summary = store.check_each_batched(batch, |row| {
        let spill = &mut lists[list_of(&row)];
        let written = match format {
            Format::Text => text_row(&row, spill.rows, &mut FmtFile(&mut spill.file, &mut failed)).is_ok(),
            Format::Json => json_row(&row, spill.rows, &mut json, &mut spill.file).map_err(|e| failed.get_or_insert(e)).is_ok(),
        };
        spill.rows += 1;
        match (written, failed.take()) {
            (true, _) => Ok(()),
            (false, Some(e)) => Err(io_error(e)),
            (false, None) => Err(io_error(std::io::Error::other("cannot render a row of the check"))),
        }
    })?;
    Ok(Spilled { format, lists, summary })
}

/// One row as text (escaped as `printable` does); keys of the joined lists get their separator.
fn text_row(row: &CheckRow, before: usize, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    use std::fmt::Write as _;
    let s = &mut Printable(out);
    match row {
        CheckRow::Escalation(x) => text::escalation_line(x, s),
        CheckRow::Stale(x) => text::stale_line(x, s),
        CheckRow::LateMilestone(x) => text::late_line(x, s),
        CheckRow::Implementation(x) => text::implementation_line(x, s),
        CheckRow::Potential(x) => text::potential_line(x, s),
        CheckRow::AtRisk(x) | CheckRow::Unexplained(x) => text::item_line(x, s),
        CheckRow::OutcomeOnly(k) | CheckRow::IsolatedKpi(k) => {
            if before > 0 {
                s.write_str(", ")?;
            }
            s.write_str(k)
        }
        CheckRow::IncompleteKpi(g) | CheckRow::NotExecutable(g) => text::gaps_line(g, s),
        CheckRow::Funnel(f) => text::funnel_line(f, s),
        CheckRow::ObjectiveTarget(t) => text::objective_target_line(t, s),
    }
}

/// One row as an element of its pretty-printed JSON array, at depth two.
fn json_row(row: &CheckRow, before: usize, buf: &mut Vec<u8>, out: &mut impl Write) -> std::io::Result<()> {
    buf.clear();
    match row {
        CheckRow::Escalation(x) => pretty(x, buf),
        CheckRow::Stale(x) => pretty(x, buf),
        CheckRow::LateMilestone(x) => pretty(x, buf),
        CheckRow::Implementation(x) | CheckRow::Potential(x) | CheckRow::AtRisk(x) | CheckRow::Unexplained(x) => pretty(x, buf),
        CheckRow::OutcomeOnly(k) | CheckRow::IsolatedKpi(k) => pretty(k, buf),
        CheckRow::IncompleteKpi(g) | CheckRow::NotExecutable(g) => pretty(g, buf),
        CheckRow::Funnel(f) => pretty(f, buf),
        CheckRow::ObjectiveTarget(t) => pretty(t, buf),
    }?;
    out.write_all(if before > 0 { b",\n" } else { b"\n" })?;
    indented(buf, b"    ", out)
}

fn pretty<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *buf, value).map_err(std::io::Error::other)
}

/// `text` with `indent` before every line (the first included).
fn indented(text: &[u8], indent: &[u8], out: &mut impl Write) -> std::io::Result<()> {
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(indent)?;
        out.write_all(line)?;
    }
    Ok(())
}

impl Spilled {
    /// Write the report out, list by list from the spill files.
    pub fn write_to(mut self, out: &mut impl Write) -> std::io::Result<()> {
        for l in &mut self.lists {
            l.file.flush()?;
            l.file.get_mut().rewind()?;
        }
        match self.format {
            Format::Text => self.write_text(out),
            Format::Json => self.write_json(out),
        }
    }

    fn copy(&mut self, list: usize, out: &mut impl Write) -> std::io::Result<()> {
        std::io::copy(self.lists[list].file.get_mut(), out).map(|_| ())
    }

    fn write_text(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let n = |s: &Self, i: usize| s.lists[i].rows;
        let sum = self.summary.clone();
        let fmt = |out: &mut dyn Write, f: &dyn Fn(&mut Printable<FmtIo>) -> std::fmt::Result| -> std::io::Result<()> {
            let mut failed = None;
            let r = f(&mut Printable(FmtIo(out, &mut failed)));
            match (r, failed) {
                (_, Some(e)) => Err(e),
                (Err(_), None) => Err(std::io::Error::other("cannot render the check")),
                (Ok(()), None) => Ok(()),
            }
        };
        fmt(out, &|s| text::check_head(&sum.today, &sum.settings_errors, sum.escalations_by_tier, s))?;
        if n(self, 0) == 0 {
            out.write_all(text::NO_ESCALATIONS.as_bytes())?;
        } else {
            fmt(out, &|s| text::escalations_header(s))?;
        }
        self.copy(0, out)?;
        let heads: [(usize, fn(usize, &mut Printable<FmtIo>) -> std::fmt::Result); 6] = [
            (1, |n, s| text::stale_head(n, s)),
            (2, |n, s| text::late_head(n, s)),
            (3, |n, s| text::implementation_head(n, s)),
            (4, |n, s| text::potential_head(n, s)),
            (5, |n, s| text::at_risk_head(n, s)),
            (6, |n, s| text::unexplained_head(n, s)),
        ];
        for (list, head) in heads {
            let rows = n(self, list);
            fmt(out, &|s| head(rows, s))?;
            self.copy(list, out)?;
        }
        fmt(out, &|s| text::alignment(&sum.alignment, s))?;
        for (list, label) in [(7, text::OUTCOME_ONLY), (8, text::ISOLATED)] {
            out.write_all(label.as_bytes())?;
            if n(self, list) == 0 {
                out.write_all(b"none")?;
            }
            self.copy(list, out)?;
            out.write_all(b"\n")?;
        }
        let rows = n(self, 9);
        fmt(out, &|s| text::incomplete_head(rows, s))?;
        self.copy(9, out)?;
        let rows = n(self, 10);
        fmt(out, &|s| text::not_executable_head(rows, s))?;
        self.copy(10, out)?;
        fmt(out, &|s| text::funnel_head(s))?;
        self.copy(11, out)?;
        self.copy(12, out)
    }

    fn write_json(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let sum = self.summary.clone();
        let field = |out: &mut dyn Write, name: &str, value: &dyn erased::Value, last: bool| -> std::io::Result<()> {
            let mut buf = Vec::new();
            value.pretty(&mut buf)?;
            write!(out, "  \"{name}\": ")?;
            // Continuation lines one level deeper than the document's fields.
            for (i, line) in buf.split(|b| *b == b'\n').enumerate() {
                if i > 0 {
                    out.write_all(b"\n  ")?;
                }
                out.write_all(line)?;
            }
            out.write_all(if last { b"\n" } else { b",\n" })
        };
        out.write_all(b"{\n")?;
        field(out, "today", &sum.today, false)?;
        self.json_list(0, out)?;
        field(out, "escalations_by_tier", &sum.escalations_by_tier, false)?;
        for list in 1..=6 {
            self.json_list(list, out)?;
        }
        field(out, "alignment", &sum.alignment, false)?;
        for list in 7..=12 {
            self.json_list(list, out)?;
        }
        field(out, "settings_errors", &sum.settings_errors, false)?;
        field(out, "exit_code", &sum.exit_code, true)?;
        out.write_all(b"}\n")
    }

    fn json_list(&mut self, list: usize, out: &mut impl Write) -> std::io::Result<()> {
        write!(out, "  \"{}\": ", JSON_NAMES[list])?;
        if self.lists[list].rows == 0 {
            return out.write_all(b"[],\n");
        }
        out.write_all(b"[")?;
        self.copy(list, out)?;
        out.write_all(b"\n  ],\n")
    }
}

/// `fmt::Write` onto an `io::Write`, keeping the first error.
pub struct FmtIo<'a>(&'a mut dyn Write, &'a mut Option<std::io::Error>);

impl std::fmt::Write for FmtIo<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|e| {
            self.1.get_or_insert(e);
            std::fmt::Error
        })
    }
}

mod erased {
    /// A value pretty-printed as JSON (serde's `Serialize` is not object safe).
    pub trait Value {
        fn pretty(&self, buf: &mut Vec<u8>) -> std::io::Result<()>;
    }

    impl<T: serde::Serialize> Value for T {
        fn pretty(&self, buf: &mut Vec<u8>) -> std::io::Result<()> {
            super::pretty(self, buf)
        }
    }
}

#[cfg(test)]
#[path = "check_out_tests.rs"]
mod tests;
