//! `keel import FILE|-`: a JSON plan, or values from a CSV file or an `.xlsx` workbook, told by
//! the file's extension. `-` (or a name without a known extension) is told by its content: a
//! workbook by its ZIP signature, JSON when the first non-blank byte is `{`, else CSV. `--format`
//! overrides both.

use crate::domain::Num;
use crate::io::csv::{Problem, Row};
use crate::io::values_import::{self, Kind, Listed};
use crate::store::read::{EscalationFilter, EscalationRow};
use crate::store::{EditOutcome, Store, StoreError};
use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ImportFormat {
    /// A plan, as `keel export --format json` writes it.
    Json,
    /// Values per item and period, separated by `,` or `;`.
    Csv,
    /// Values per item and period in the first sheet of a workbook.
    Xlsx,
}

/// What the command line asked for.
pub struct Request<'a> {
    pub db: &'a Path,
    pub file: &'a Path,
    pub format: Option<ImportFormat>,
    pub dry_run: bool,
    pub quiet: bool,
}

/// The format a file's name implies, if it implies one.
fn by_extension(file: &Path) -> Option<ImportFormat> {
    let ext = file.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" => Some(ImportFormat::Json),
        "csv" | "txt" => Some(ImportFormat::Csv),
        "xlsx" => Some(ImportFormat::Xlsx),
        _ => None,
    }
}

/// Standard input's format when `--format` does not say: a workbook by its ZIP signature, JSON
/// when the first non-blank byte (after any BOM) is `{`, else CSV.
fn by_content(bytes: &[u8]) -> ImportFormat {
    if crate::io::spreadsheet::is_xlsx_bytes(bytes) {
        return ImportFormat::Xlsx;
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => ImportFormat::Json,
        _ => ImportFormat::Csv,
    }
}

pub fn run(req: Request) -> Result<i32> {
    let stdin = req.file == Path::new("-");
    let name = if stdin { "standard input".to_string() } else { req.file.display().to_string() };
    let bytes = if stdin {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).context("cannot read standard input")?;
        buf
    } else {
        std::fs::read(req.file).with_context(|| format!("cannot read {name}"))?
    };
    let format = match (req.format, stdin) {
        (Some(f), _) => f,
        (None, true) => by_content(&bytes),
        (None, false) => by_extension(req.file).unwrap_or_else(|| by_content(&bytes)),
    };
    match format {
        ImportFormat::Json => import_plan(&req, &name, &bytes),
        ImportFormat::Csv => import_values(&req, &name, &bytes, Kind::Csv),
        ImportFormat::Xlsx => import_values(&req, &name, &bytes, Kind::Xlsx),
    }
}

fn import_plan(req: &Request, name: &str, bytes: &[u8]) -> Result<i32> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| anyhow!(StoreError::Import(format!("{name}: not UTF-8 text (byte {})", e.valid_up_to()))))?;
    let plan = crate::io::plan::parse(text, name).map_err(|e| anyhow!(StoreError::Import(e.to_string())))?;
    if req.dry_run {
        let items = plan.cycles.len()
            + plan.units.len()
            + plan.people.len()
            + plan.kras.len()
            + plan.objectives.len()
            + plan.key_results.len()
            + plan.kpis.len()
            + plan.nodes.len()
            + plan.measures.len();
        let values = plan.values.len();
        // Apply in a scratch copy so every rule runs, then throw it away (on a server, where
        // there is no file to copy: in one transaction that is rolled back).
        let outcome = match crate::store::server::server_url(req.db) {
            Some(_) => super::open(req.db)?.try_import_plan(plan)?,
            None => in_scratch_copy(req.db, |s| Ok(s.import_plan(plan)?))?,
        };
        println!("dry run: would import {items} items and {values} values; nothing was changed");
        print_effects(&outcome, req.quiet);
        return Ok(0);
    }
    let mut store = super::open(req.db)?;
    let spin = spinner(req.quiet, "importing");
    let outcome = store.import_plan_from(plan, Some(name))?;
    spin.finish_and_clear();
    print_effects(&outcome, req.quiet);
    Ok(0)
}

/// Run `f` on a throw-away copy of the database (a dry run), removed whatever happens.
fn in_scratch_copy<T>(db: &Path, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
    let scratch = scratch_path(db);
    {
        let store = super::open(db)?;
        store.backup_to(&scratch)?;
    }
    let result = Store::open(&scratch).map_err(anyhow::Error::from).and_then(|mut s| f(&mut s));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
    result
}

fn scratch_path(db: &Path) -> PathBuf {
    let name = format!("keel-dry-run-{}-{}", std::process::id(), db.file_name().and_then(|n| n.to_str()).unwrap_or("db"));
    let p = std::env::temp_dir().join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

fn spinner(quiet: bool, what: &str) -> indicatif::ProgressBar {
    if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        crate::io::progress::spinner(what)
    }
}

/// The effects of an edit, one a line; none with --quiet.
fn print_effects(outcome: &EditOutcome, quiet: bool) {
    if quiet {
        return;
    }
    super::print_effects(outcome);
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
            crate::domain::ItemKey::parse(head).ok().map(|k| (k.to_string(), None))
        }
        _ => None,
    }
}

/// Name the file's lines behind an error the store raised while applying the rows.
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

fn shown(field: &str, v: Option<&str>) -> String {
    match v {
        None => "(empty)".into(),
        Some(s) if field == "comment" => format!("{s:?}"),
        Some(s) => Num::from_stored(s).map(|n| n.grouped()).unwrap_or_else(|| s.to_string()),
    }
}

fn listing_line(l: &Listed) -> String {
    format!(
        "  line {:<5} {:<7} {:<9} {:<9} {} → {}",
        l.line,
        l.key,
        l.period,
        l.field,
        shown(l.field, l.was.as_deref()),
        shown(l.field, Some(&l.now))
    )
}

fn import_values(req: &Request, name: &str, bytes: &[u8], kind: Kind) -> Result<i32> {
    let (rows, problems) = values_import::read(bytes, kind);
    let mut store = super::open(req.db)?;
    let bar = if req.quiet { indicatif::ProgressBar::hidden() } else { crate::io::progress::bar(rows.len() as u64, "checking") };
    let mut prepared = match values_import::prepare(&store, rows, problems, req.dry_run, |n| bar.set_position(n as u64))? {
        Ok(p) => p,
        Err(problems) => {
            bar.finish_and_clear();
            return Err(refuse(name, &problems));
        }
    };
    bar.finish_and_clear();
    if prepared.rows.is_empty() {
        println!("{name}: no rows to import; nothing was changed");
        return Ok(0);
    }
    let file_name = if req.file == Path::new("-") {
        "standard input".to_string()
    } else {
        req.file.file_name().and_then(|n| n.to_str()).unwrap_or("values.csv").to_string()
    };
    let edit = prepared.edit(&file_name);
    if let Some(why) = store.read_only_reason() {
        bail!(StoreError::ReadOnly(format!("{why}; nothing was imported")));
    }
    let rows = &prepared.rows;
    let before = tiers(&store.escalations(&EscalationFilter::default())?);
    let spin = spinner(req.quiet, &format!("applying {} rows", edit.changes.len()));
    // A dry run that would change no value has nothing to try.
    let nothing_to_try = req.dry_run && prepared.listed.is_empty();
    let (outcome, after): (EditOutcome, BTreeMap<String, i64>) = if edit.changes.is_empty() || nothing_to_try {
        (EditOutcome::default(), before.clone())
    } else if req.dry_run && crate::store::server::server_url(req.db).is_some() {
        // On a server there is no file to copy: the edit runs in a transaction that is rolled
        // back, and reports the escalations as it would leave them.
        let mut outcome = store.edit_dry_run(edit).map_err(|e| blame(name, rows, e))?;
        let after = outcome.trial_tiers.take().unwrap_or_default();
        (outcome, after)
    } else if req.dry_run {
        in_scratch_copy(req.db, |s| {
            let outcome = s.edit(edit).map_err(|e| blame(name, rows, e))?;
            Ok((outcome, tiers(&s.escalations(&EscalationFilter::default())?)))
        })?
    } else {
        let outcome = store.edit(edit).map_err(|e| blame(name, rows, e))?;
        (outcome, tiers(&store.escalations(&EscalationFilter::default())?))
    };
    spin.finish_and_clear();
    let dry = req.dry_run;
    if req.quiet && !dry {
        return Ok(0);
    }
    let moves = super::formats::escalation_moves(&before, &after);
    let verb = if dry { "would change" } else { "changed" };
    let empty = prepared.empty_rows;
    println!(
        "{}{name}: {} rows{}; {} values {verb} on {} items{}",
        if dry { "dry run: " } else { "" },
        rows.len(),
        if empty > 0 { format!(" ({empty} with only empty cells)") } else { String::new() },
        outcome.values,
        prepared.items,
        if dry { "; nothing was changed" } else { "" }
    );
    if req.quiet {
        return Ok(0);
    }
    if dry {
        for l in &prepared.listed {
            println!("{}", listing_line(l));
        }
    }
    let what = if dry { "escalations that would move" } else { "escalations moved" };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_input_is_told_by_its_first_byte() {
        assert_eq!(by_content(b"  \n\t{\"cycles\": []}"), ImportFormat::Json);
        assert_eq!(by_content(b"\xEF\xBB\xBF{}"), ImportFormat::Json);
        assert_eq!(by_content(b"key,period,actual\n"), ImportFormat::Csv);
        assert_eq!(by_content(b""), ImportFormat::Csv);
        assert_eq!(by_content(b"PK\x03\x04rest"), ImportFormat::Xlsx);
    }

    #[test]
    fn a_file_is_told_by_its_extension() {
        assert_eq!(by_extension(Path::new("a/values.CSV")), Some(ImportFormat::Csv));
        assert_eq!(by_extension(Path::new("plan.json")), Some(ImportFormat::Json));
        assert_eq!(by_extension(Path::new("book.xlsx")), Some(ImportFormat::Xlsx));
        assert_eq!(by_extension(Path::new("plan")), None);
    }
}
