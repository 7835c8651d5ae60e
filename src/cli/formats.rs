//! The commands that move data in and out in other formats: `keel report`, `keel import` of a
//! values CSV and `keel export --format csv` (and the JSON lists). `cli.rs` parses, this runs.

use crate::domain::ItemKey;
use crate::io::csv::{self as values_csv, Problem, Row};
use crate::store::read::{EscalationFilter, EscalationRow};
use crate::store::{Change, Edit, EditOutcome, Store, StoreError};
use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

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

/// Write to FILE (see [`super::out_file`]) or to standard output.
fn write_out(out: Option<&Path>, bytes: &[u8], binary: bool, store: &Store, force: bool) -> Result<()> {
    match out {
        Some(path) => super::out_file::write(path, bytes, store.path(), force)?,
        None => {
            if binary && std::io::stdout().is_terminal() {
                bail!(StoreError::Invalid {
                    key: "--format xlsx".into(),
                    field: "--out".into(),
                    why: "a workbook is binary: give --out FILE.xlsx (or redirect standard output)".into()
                });
            }
            super::stdout::write_bytes(bytes);
        }
    }
    Ok(())
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
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportSize {
    pub pack_top: Option<usize>,
    pub only: Option<OnlyArg>,
    pub depth: Option<u8>,
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
    let store = Store::open(db)?;
    let mut model = store.report(cycle, unit)?;
    if size.pack_top.is_some() && format == ReportFormat::Xlsx {
        bail!(StoreError::Invalid {
            key: "--summary".into(),
            field: "--format xlsx".into(),
            why: "the steering pack is for reading: use --format md or html (narrow a workbook with --only or --depth)".into()
        });
    }
    if let Some(only) = size.only {
        model.keep_only(only.into());
    }
    if let Some(depth) = size.depth {
        model.cut_to_depth(depth);
    }
    let source = db.file_name().and_then(|n| n.to_str()).unwrap_or("keel.db").to_string();
    match format {
        ReportFormat::Md => {
            write_out(out, crate::io::report::markdown_of(&model, &source, size.pack_top).as_bytes(), false, &store, force)?
        }
        ReportFormat::Html => {
            write_out(out, crate::io::report::html::html_of(&model, &source, size.pack_top).as_bytes(), false, &store, force)?
        }
        ReportFormat::Xlsx => {
            let bytes = crate::io::report::xlsx::xlsx(&model, &source).map_err(|e| anyhow!("cannot build the workbook: {e}"))?;
            write_out(out, &bytes, true, &store, force)?
        }
    }
    if let Some(p) = out {
        eprintln!("wrote {} ({})", p.display(), model.scope.describe());
    }
    Ok(0)
}

pub fn export(db: &Path, json: bool, what: Option<ExportWhat>, out: Option<&Path>, force: bool) -> Result<i32> {
    let store = Store::open(db)?;
    let text = match (json, what.unwrap_or(if json { ExportWhat::Plan } else { ExportWhat::Items })) {
        (true, ExportWhat::Plan) => crate::io::plan::to_text(&store.export_plan()?)?,
        (false, ExportWhat::Plan) => bail!(StoreError::Invalid {
            key: "--what plan".into(),
            field: "--format csv".into(),
            why: "the plan is JSON only: use --format json, or --what items / values for CSV".into()
        }),
        (true, ExportWhat::Items) => format!("{}\n", serde_json::to_string_pretty(&store.item_rows()?)?),
        (false, ExportWhat::Items) => values_csv::items_csv(&store.item_rows()?)?,
        (true, ExportWhat::Values) => format!("{}\n", serde_json::to_string_pretty(&values_csv::value_lines(&store)?)?),
        (false, ExportWhat::Values) => values_csv::values_csv(&values_csv::value_lines(&store)?)?,
    };
    write_out(out, text.as_bytes(), false, &store, force)?;
    Ok(0)
}

/// Every problem of a values file, one per line, as `FILE:LINE: column C: what`.
fn refuse(file: &str, problems: &[Problem]) -> anyhow::Error {
    let mut msg = format!("{file}: {} problem{}; nothing was imported:", problems.len(), if problems.len() == 1 { "" } else { "s" });
    for p in problems {
        msg.push_str(&format!(
            "\n  {file}:{}: {}",
            p.line,
            p.column.as_ref().map(|c| format!("column {c}: {}", p.what)).unwrap_or_else(|| p.what.clone())
        ));
    }
    anyhow!(StoreError::Import(msg))
}

/// The key a store error is about, if it names one.
fn error_key(e: &StoreError) -> Option<(String, Option<String>)> {
    match e {
        StoreError::UnknownKey(k) => Some((k.clone(), None)),
        StoreError::UnknownField { key, .. } | StoreError::Refused { key, .. } => Some((key.clone(), None)),
        StoreError::Invalid { key, field, .. } | StoreError::Conflict { key, field, .. } => Some((key.clone(), Some(field.clone()))),
        StoreError::Permission(s) | StoreError::ReadOnly(s) => {
            let head = s.split(':').next()?;
            ItemKey::parse(head).ok().map(|k| (k.to_string(), None))
        }
        _ => None,
    }
}

/// Name the CSV lines behind an error the store raised while applying the rows.
fn blame(file: &str, rows: &[Row], e: StoreError) -> anyhow::Error {
    let lines: Vec<u64> = match error_key(&e) {
        Some((key, field)) => {
            let period = field.as_deref().and_then(|f| f.split_once('@')).map(|(_, p)| p.to_string());
            let of_key: Vec<&Row> = rows.iter().filter(|r| r.key.to_string() == key).collect();
            let exact: Vec<u64> =
                of_key.iter().filter(|r| period.as_deref().is_some_and(|p| r.period.to_string() == p)).map(|r| r.line).collect();
            if exact.is_empty() {
                of_key.iter().map(|r| r.line).collect()
            } else {
                exact
            }
        }
        None => vec![],
    };
    let at = if lines.is_empty() {
        file.to_string()
    } else {
        format!("{file}:{}", lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(","))
    };
    anyhow::Error::from(e).context(format!("{at}: nothing was imported"))
}

/// (key, tier) of each open escalation.
fn tiers(rows: &[EscalationRow]) -> BTreeMap<String, i64> {
    rows.iter().map(|e| (e.key.clone(), e.tier)).collect()
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

fn shown(field: &str, v: Option<&str>) -> String {
    match v {
        None => "(empty)".into(),
        Some(s) if field == "comment" => format!("{s:?}"),
        Some(s) => crate::domain::Num::from_stored(s).map(|n| n.grouped()).unwrap_or_else(|| s.to_string()),
    }
}

pub fn import_values(db: &Path, file: &Path, dry_run: bool) -> Result<i32> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        anyhow!(StoreError::Import(format!("{name}:{line}: not UTF-8 text; save the file as UTF-8 CSV. Nothing was imported.")))
    })?;
    let (rows, mut problems) = values_csv::read_values(&text);
    let mut store = Store::open(db)?;
    // Keys the file does not know are found now, with their lines, rather than mid-transaction.
    let keys: BTreeSet<String> = rows.iter().map(|r| r.key.to_string()).collect();
    let known = store.existing_keys(&keys)?;
    for r in rows.iter().filter(|r| !known.contains(&r.key.to_string())) {
        problems.push(Problem { line: r.line, column: Some("key".into()), what: format!("no item {} in this file", r.key) });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(refuse(&name, &problems));
    }
    if rows.is_empty() {
        println!("{name}: no rows to import; nothing was changed");
        return Ok(0);
    }
    // What each row would change, against the values in the file now.
    let current: BTreeMap<(String, String), crate::domain::plan::Value> =
        store.export_plan()?.values.into_iter().map(|v| ((v.item.clone(), v.period.clone()), v)).collect();
    let mut listing = Vec::new();
    let mut changes = Vec::new();
    for r in &rows {
        let old = current.get(&(r.key.to_string(), r.period.to_string()));
        for (field, value) in &r.cells {
            let was = values_csv::cell_of(old, field);
            // The same number at another scale (22000 for 22000.00) is no change.
            if values_csv::same(field, was.as_deref(), value) {
                continue;
            }
            listing.push(format!(
                "  line {:<5} {:<7} {:<9} {:<9} {} → {}",
                r.line,
                r.key.to_string(),
                r.period.to_string(),
                field,
                shown(field, was.as_deref()),
                shown(field, Some(value))
            ));
            changes.push(Change::Value {
                key: r.key.clone(),
                period: r.period,
                field: field.to_string(),
                value: value.clone(),
                if_version: None,
            });
        }
    }
    let items: BTreeSet<String> = rows.iter().map(|r| r.key.to_string()).collect();
    let reason = Some(format!("import {}", file.file_name().and_then(|n| n.to_str()).unwrap_or("values.csv")));
    let edit = Edit { changes, reason };
    if let Some(why) = store.read_only_reason() {
        bail!(StoreError::ReadOnly(format!("{why}; nothing was imported")));
    }
    let before = tiers(&store.escalations(&EscalationFilter::default())?);
    let (outcome, after): (EditOutcome, BTreeMap<String, i64>) = if edit.changes.is_empty() {
        (EditOutcome::default(), before.clone())
    } else if dry_run {
        let scratch = scratch_path(db);
        store.backup_to(&scratch)?;
        let result = (|| -> Result<(EditOutcome, BTreeMap<String, i64>)> {
            let mut s = Store::open(&scratch)?;
            let outcome = s.edit(edit).map_err(|e| blame(&name, &rows, e))?;
            Ok((outcome, tiers(&s.escalations(&EscalationFilter::default())?)))
        })();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
        }
        result?
    } else {
        let outcome = store.edit(edit).map_err(|e| blame(&name, &rows, e))?;
        (outcome, tiers(&store.escalations(&EscalationFilter::default())?))
    };
    let moves = escalation_moves(&before, &after);
    let verb = if dry_run { "would change" } else { "changed" };
    let empty = rows.iter().filter(|r| r.cells.is_empty()).count();
    println!(
        "{}{name}: {} rows{}; {} values {verb} on {} items{}",
        if dry_run { "dry run: " } else { "" },
        rows.len(),
        if empty > 0 { format!(" ({empty} with only empty cells)") } else { String::new() },
        listing.len(),
        items.len(),
        if dry_run { "; nothing was changed" } else { "" }
    );
    if dry_run {
        for l in &listing {
            println!("{l}");
        }
    }
    let what = if dry_run { "escalations that would move" } else { "escalations moved" };
    if moves.is_empty() {
        println!("{what}: none");
    } else {
        println!("{what}:");
    }
    for m in &moves {
        println!("  {m}");
    }
    if !outcome.effects.is_empty() {
        println!("effects:");
        for e in &outcome.effects {
            println!("  {e}");
        }
    }
    Ok(0)
}

fn scratch_path(db: &Path) -> PathBuf {
    let name = format!("keel-dry-run-{}-{}", std::process::id(), db.file_name().and_then(|n| n.to_str()).unwrap_or("db"));
    let p = std::env::temp_dir().join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

/// Does this path name a values CSV (rather than a JSON plan)?
pub fn is_csv(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn csv_is_told_by_its_extension() {
        assert!(is_csv(Path::new("a/values.CSV")));
        assert!(!is_csv(Path::new("plan.json")));
    }
}
