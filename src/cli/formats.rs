//! The commands that move data out in other formats: `keel report` and `keel export` (the plan,
//! CSV and the JSON lists). `cli.rs` parses, this runs. `--out -` is standard output, and without
//! `--format` the format follows `--out`'s extension (`--out r.xlsx` writes a workbook).

use crate::domain::ItemKey;
use crate::store::{Store, StoreError};
use anyhow::{anyhow, bail, Result};
use clap::ValueEnum;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::Path;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Markdown, for a wiki, a mail or a pull request.
    Md,
    /// One self-contained HTML file with charts, that prints well.
    Html,
    /// A workbook with one sheet per section (needs --out, or a redirected standard output).
    Xlsx,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportWhat {
    /// The whole plan (JSON only): export → import → export is byte-identical.
    Plan,
    /// One row per objective, key result, KPI, portfolio … package and measure, with statuses and numbers.
    Items,
    /// One row per item and period: planned, forecast, actual, comment; re-importable as it is.
    Values,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    /// iCalendar: milestones, decisions due and check-in meetings, for a calendar program.
    Ics,
}

/// `--out -` means standard output, as no `--out` does.
pub fn out_path(out: Option<&Path>) -> Option<&Path> {
    out.filter(|p| *p != Path::new("-"))
}

/// The format to write: `--format` if given, else what `--out`'s extension names, else the
/// default. A `--format` that contradicts the extension is refused rather than guessed between.
fn follow_extension<F: ValueEnum + Copy + PartialEq>(
    given: Option<F>,
    out: Option<&Path>,
    by_extension: fn(&str) -> Option<F>,
    default: F,
) -> Result<F> {
    let name = |f: F| f.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
    let implied = out_path(out)
        .and_then(|p| Some((p, p.extension()?.to_str()?.to_ascii_lowercase())))
        .and_then(|(p, e)| Some((p, by_extension(&e)?)));
    match (given, implied) {
        (Some(g), Some((p, i))) if g != i => bail!(StoreError::Invalid {
            key: format!("--format {}", name(g)),
            field: format!("--out {}", p.display()),
            why: format!(
                "the file name says {}: give a name ending in .{} for {}, or leave --format out. Nothing was written",
                name(i),
                name(g),
                name(g)
            )
        }),
        (Some(g), _) => Ok(g),
        (None, Some((_, i))) => Ok(i),
        (None, None) => Ok(default),
    }
}

pub fn report_format(given: Option<ReportFormat>, out: Option<&Path>) -> Result<ReportFormat> {
    follow_extension(
        given,
        out,
        |e| match e {
            "md" | "markdown" => Some(ReportFormat::Md),
            "html" | "htm" => Some(ReportFormat::Html),
            "xlsx" => Some(ReportFormat::Xlsx),
            _ => None,
        },
        ReportFormat::Md,
    )
}

pub fn export_format(given: Option<ExportFormat>, out: Option<&Path>) -> Result<ExportFormat> {
    follow_extension(
        given,
        out,
        |e| match e {
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::Csv),
            "ics" => Some(ExportFormat::Ics),
            _ => None,
        },
        ExportFormat::Json,
    )
}

/// `--only`: which items a narrowed report keeps.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OnlyArg {
    /// Items with an open escalation.
    Escalated,
    /// Key results at risk or amber/red; measures late, critical or with amber/red potential; amber/red KPIs.
    AtRisk,
    /// Items whose update is overdue for their cadence.
    Stale,
}

impl From<OnlyArg> for crate::store::report_size::Only {
    fn from(o: OnlyArg) -> Self {
        use crate::store::report_size::Only;
        match o {
            OnlyArg::Escalated => Only::Escalated,
            OnlyArg::AtRisk => Only::AtRisk,
            OnlyArg::Stale => Only::Stale,
        }
    }
}

/// How much of the report: the steering pack with its top N, only some items, a shallower tree.
#[derive(Clone, Debug, Default)]
pub struct ReportSize {
    pub pack_top: Option<usize>,
    pub only: Option<OnlyArg>,
    pub depth: Option<u8>,
    /// `--as-of PERIOD`, as typed: the report as the file stood when that period ended.
    pub as_of: Option<String>,
}

fn as_of_period(given: &str) -> Result<crate::domain::Period> {
    crate::domain::Period::parse(given)
        .map_err(|e| anyhow!(StoreError::Invalid { key: "--as-of".into(), field: given.to_string(), why: e.to_string() }))
}

pub fn report(
    db: &Path,
    format: ReportFormat,
    cycle: Option<&str>,
    unit: Option<&str>,
    out: Option<&Path>,
    force: bool,
    size: ReportSize,
) -> Result<i32> {
    let out = out_path(out);
    let store = Store::open(db)?;
    // The file as it stood then, in a scratch copy removed when `past` goes.
    let past = match size.as_of.as_deref() {
        Some(p) => Some(store.as_of(as_of_period(p)?)?),
        None => None,
    };
    if size.pack_top.is_some() && format == ReportFormat::Xlsx {
        bail!(StoreError::Invalid {
            key: "--summary".into(),
            field: "--format xlsx".into(),
            why: "the steering pack is for reading: use --format md or html (narrow a workbook with --only or --depth)".into()
        });
    }
    let from = past.as_ref().map_or(&store, |p| &p.store);
    let source = crate::store::server::source_name(db);
    let as_of = past.as_ref().map(|p| p.describe());
    if format == ReportFormat::Xlsx && out.is_none() && std::io::stdout().is_terminal() {
        bail!(StoreError::Invalid {
            key: "--format xlsx".into(),
            field: "--out".into(),
            why: "a workbook is binary: give --out FILE.xlsx (or redirect standard output)".into()
        });
    }
    // Every format is written as it is made, the measures read a page at a time, all from one
    // snapshot; standard output is served once every read is done.
    let mut scope = String::new();
    stream_out(out, &store, force, |w| {
        Ok(from.read_snapshot(|| {
            let mut model = from.report_streamed(cycle, unit, size.only.map(Into::into), size.depth)?;
            model.as_of = as_of.clone();
            scope = model.scope.describe();
            match format {
                ReportFormat::Md => crate::io::report::write_markdown(&model, &source, size.pack_top, from, w),
                ReportFormat::Html => crate::io::report::html::write_html(&model, &source, size.pack_top, from, w),
                ReportFormat::Xlsx => crate::io::report::xlsx::write_xlsx(&model, &source, from, w),
            }
        })?)
    })?;
    if let Some(p) = out {
        eprintln!("wrote {} ({})", p.display(), scope);
    }
    Ok(0)
}

pub fn export(db: &Path, json: bool, what: Option<ExportWhat>, out: Option<&Path>, force: bool) -> Result<i32> {
    use crate::io::export_out as x;
    let out = out_path(out);
    let store = Store::open(db)?;
    let page = crate::store::plan::EXPORT_PAGE;
    let write: &dyn Fn(&mut dyn std::io::Write) -> crate::store::Result<()> =
        match (json, what.unwrap_or(if json { ExportWhat::Plan } else { ExportWhat::Items })) {
            (true, ExportWhat::Plan) => &|w| x::write_plan(&store, page, w),
            (false, ExportWhat::Plan) => bail!(StoreError::Invalid {
                key: "--what plan".into(),
                field: "--format csv".into(),
                why: "the plan is JSON only: use --format json, or --what items / values for CSV".into()
            }),
            (true, ExportWhat::Items) => &|w| x::write_items_json(&store, w),
            (false, ExportWhat::Items) => &|w| x::write_items_csv(&store, w),
            (true, ExportWhat::Values) => &|w| x::write_values_json(&store, page, w),
            (false, ExportWhat::Values) => &|w| x::write_values_csv(&store, page, w),
        };
    // Read in pages, all from one snapshot: an edit committed meanwhile is wholly in or wholly out.
    stream_out(out, &store, force, |w| Ok(store.read_snapshot(|| write(w))?))?;
    Ok(0)
}

/// Write to FILE as `write` produces it, or to standard output through a temporary file (unnamed,
/// 0600): every read is done before a reader that is slow to take the output (a pager) is served.
fn stream_out(
    out: Option<&Path>,
    store: &Store,
    force: bool,
    write: impl FnOnce(&mut (dyn std::io::Write + Send)) -> Result<()>,
) -> Result<()> {
    use std::io::{Seek, Write};
    match out {
        Some(path) => super::out_file::write_with(path, store.path(), force, write),
        None => {
            let mut spill = std::io::BufWriter::with_capacity(64 * 1024, tempfile::tempfile().map_err(StoreError::Io)?);
            write(&mut spill)?;
            spill.flush().map_err(StoreError::Io)?;
            let mut file = spill.into_inner().map_err(|e| StoreError::Io(e.into_error()))?;
            file.rewind().map_err(StoreError::Io)?;
            std::io::copy(&mut std::io::BufReader::with_capacity(64 * 1024, file), &mut super::stdout::Stdout).map_err(StoreError::Io)?;
            Ok(())
        }
    }
}

/// How the open escalations moved between two snapshots, one line each.
pub fn escalation_moves(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    let label = crate::io::report::tier_label;
    let mut keys: Vec<&String> = keys.into_iter().collect();
    keys.sort_by_key(|k| ItemKey::parse(k).map(|x| (x.kind.as_str(), x.number)).unwrap_or(("", 0)));
    for k in keys {
        match (before.get(k), after.get(k)) {
            (None, Some(t)) => out.push(format!("{k}: opens at {}", label(*t))),
            (Some(a), Some(b)) if b > a => out.push(format!("{k}: rises from {} to {}", label(*a), label(*b))),
            (Some(a), Some(b)) if b < a => out.push(format!("{k}: falls from {} to {}", label(*a), label(*b))),
            (Some(a), None) => out.push(format!("{k}: closes ({} no longer needed)", label(*a))),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_out_extension_unless_given_and_a_contradiction_is_refused() {
        let p = |s: &'static str| Some(Path::new(s));
        assert_eq!(report_format(None, p("r.xlsx")).unwrap(), ReportFormat::Xlsx);
        assert_eq!(report_format(None, p("r.HTML")).unwrap(), ReportFormat::Html);
        assert_eq!(report_format(None, p("r.txt")).unwrap(), ReportFormat::Md);
        assert_eq!(report_format(None, None).unwrap(), ReportFormat::Md);
        assert_eq!(report_format(Some(ReportFormat::Html), p("-")).unwrap(), ReportFormat::Html);
        assert_eq!(report_format(Some(ReportFormat::Html), p("report")).unwrap(), ReportFormat::Html);
        let e = report_format(Some(ReportFormat::Md), p("r.xlsx")).unwrap_err().to_string();
        assert!(e.contains("--format md") && e.contains("the file name says xlsx"), "{e}");
        assert_eq!(export_format(None, p("x.csv")).unwrap(), ExportFormat::Csv);
        assert_eq!(export_format(None, None).unwrap(), ExportFormat::Json);
        assert!(export_format(Some(ExportFormat::Json), p("x.csv")).is_err());
    }

    #[test]
    fn escalation_moves_name_each_direction() {
        let before: BTreeMap<String, i64> = [("M-1".to_string(), 1), ("M-2".to_string(), 3), ("K-5".to_string(), 2)].into();
        let after: BTreeMap<String, i64> = [("M-1".to_string(), 2), ("M-2".to_string(), 1), ("M-3".to_string(), 1)].into();
        let moves = escalation_moves(&before, &after);
        assert!(moves.contains(&"M-1: rises from owner review to sponsor action".to_string()), "{moves:?}");
        assert!(moves.contains(&"M-2: falls from steering committee to owner review".to_string()), "{moves:?}");
        assert!(moves.contains(&"M-3: opens at owner review".to_string()), "{moves:?}");
        assert!(moves.contains(&"K-5: closes (sponsor action no longer needed)".to_string()), "{moves:?}");
    }
}
