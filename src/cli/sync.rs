//! `keel source set|list|remove` and `keel sync`: value sources defined in the user's own
//! configuration (`io::sources_config`), marked by name in the shared file, run when due and
//! written through the one write path as the user who ran the sync.

use super::listing::{self, Cell, ListFormat, Listing};
use crate::domain::{Cadence, ItemKey};
use crate::io::source_rows::{self, SourceRow};
use crate::io::sources_config::{self, Kind, SourceDef};
use crate::store::sources::SourcedItem;
use crate::store::{Change, Edit, Store, StoreError};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Feed KEY's actuals (and forecasts) from a command, a CSV file or an SQL query. The
    /// definition is kept in your own ~/.config/keel/sources.toml; the shared file records only
    /// the source's name.
    Set {
        key: String,
        /// A program and its arguments ("/usr/local/bin/renewals --weekly"), run without a shell;
        /// it prints CSV (period,actual[,forecast] with a header) or JSON rows.
        #[arg(long, conflicts_with_all = ["csv", "sql"], allow_hyphen_values = true)]
        command: Option<String>,
        /// Run --command with /bin/sh -c (pipes, globbing): only when you need a shell.
        #[arg(long, requires = "command")]
        shell: bool,
        /// A CSV file with a header; --map names its columns.
        #[arg(long, requires = "map", conflicts_with = "sql")]
        csv: Option<PathBuf>,
        /// period=COLUMN,actual=COLUMN[,forecast=COLUMN] (header names, or numbers from 1).
        #[arg(long, requires = "csv")]
        map: Option<String>,
        /// A SQLite file (read-only) or a postgresql:// URL (no password in it).
        #[arg(long, requires = "query")]
        sql: Option<String>,
        /// The query: its columns are period, actual and (optionally) forecast.
        #[arg(long, requires = "sql")]
        query: Option<String>,
        /// How often the source is due: weekly, biweekly, monthly, quarterly (default: the item's cadence).
        #[arg(long)]
        cadence: Option<String>,
        /// Seconds the source may take (default 60).
        #[arg(long)]
        timeout: Option<u64>,
        /// The source's name (default: the key in lower case).
        #[arg(long)]
        name: Option<String>,
    },
    /// The source-fed items, whether each is defined in your configuration, and how each last ran.
    List {
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Feed KEY by hand again (its source's definition is removed from your configuration too).
    Remove { key: String },
}

const DEFAULT_TIMEOUT: u64 = 60;
const MAX_OUTPUT: usize = 10 * 1024 * 1024;

fn bad(key: &str, field: &str, why: impl Into<String>) -> anyhow::Error {
    anyhow!(StoreError::Invalid { key: key.into(), field: field.into(), why: why.into() })
}

/// A command line split into its words: spaces separate, '…' and "…" quote, \ escapes.
pub fn split_argv(s: &str) -> Result<Vec<String>, String> {
    let (mut words, mut cur, mut any) = (Vec::new(), String::new(), false);
    let mut chars = s.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => cur.push(chars.next().ok_or("ends with a lone \\")?),
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("has an unclosed quote".into());
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    if words.is_empty() {
        return Err("is empty".into());
    }
    Ok(words)
}

/// A path made absolute against the current folder (cron runs elsewhere).
fn absolute(p: &Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

#[allow(clippy::too_many_arguments)]
fn definition(
    key: &ItemKey,
    command: Option<String>,
    shell: bool,
    csv: Option<PathBuf>,
    map: Option<String>,
    sql: Option<String>,
    query: Option<String>,
    cadence: Option<String>,
    timeout: Option<u64>,
) -> Result<SourceDef> {
    let k = key.to_string();
    let mut def = SourceDef { item: k.clone(), shell, timeout, ..Default::default() };
    if let Some(c) = &cadence {
        Cadence::parse(c).ok_or_else(|| bad(&k, "--cadence", "use weekly, biweekly, monthly or quarterly"))?;
        def.cadence = Some(c.trim().to_ascii_lowercase());
    }
    if timeout == Some(0) {
        return Err(bad(&k, "--timeout", "must be at least 1 second"));
    }
    if let Some(c) = command {
        let mut argv = if shell { vec![c.clone()] } else { split_argv(&c).map_err(|why| bad(&k, "--command", why))? };
        if !shell && argv[0].contains('/') {
            argv[0] = absolute(Path::new(&argv[0]));
        }
        def.command = Some(argv);
    } else if let Some(path) = csv {
        let mut m = BTreeMap::new();
        for pair in map.unwrap_or_default().split(',').filter(|p| !p.trim().is_empty()) {
            let (f, col) = pair.split_once('=').ok_or_else(|| bad(&k, "--map", format!("'{pair}': use FIELD=COLUMN")))?;
            m.insert(f.trim().to_ascii_lowercase(), col.trim().to_string());
        }
        def.csv = Some(absolute(&path));
        def.map = Some(m);
    } else if let Some(location) = sql {
        def.sql = Some(if crate::location::is_server_url(&location) { location } else { absolute(Path::new(&location)) });
        def.query = query;
    }
    def.kind().map_err(|why| bad(&k, "source", why))?;
    if let Some(m) = &def.map {
        if let Some(f) = m.keys().find(|f| !matches!(f.as_str(), "period" | "actual" | "forecast")) {
            return Err(bad(&k, "--map", format!("'{f}': map period, actual and forecast")));
        }
    }
    Ok(def)
}

pub fn source(db: &Path, cmd: SourceCommand) -> Result<i32> {
    match cmd {
        SourceCommand::Set { key, command, shell, csv, map, sql, query, cadence, timeout, name } => {
            let item = super::key(&key)?;
            let name = name.unwrap_or_else(|| item.to_string().to_ascii_lowercase());
            crate::domain::text_check::source_name(&name).map_err(|why| bad(&key, "--name", why))?;
            let def = definition(&item, command, shell, csv, map, sql, query, cadence, timeout)?;
            let mut sources = sources_config::load().map_err(|why| bad("sources", "configuration", why))?;
            let mut store = super::open(db)?;
            store.edit(Edit::one(Change::SourceLink { key: item.clone(), name: Some(name.clone()) }))?;
            // One source per item: an earlier definition for it under another name goes.
            sources.retain(|n, d| *n == name || d.item != item.to_string());
            sources.insert(name.clone(), def.clone());
            let path = sources_config::save(&sources).map_err(|why| bad("sources", "configuration", why))?;
            println!("{item}: fed by the source '{name}' ({}); defined in {}", def.describe(), path.display());
            Ok(0)
        }
        SourceCommand::List { format } => {
            let store = super::open(db)?;
            let defs = sources_config::load().map_err(|why| bad("sources", "configuration", why))?;
            let rows: Vec<SourceListRow> = store.sourced_items()?.into_iter().map(|i| SourceListRow::new(i, &defs)).collect();
            listing::print(format, &rows, None, "no item is fed by a source (keel source set KEY …)")?;
            Ok(0)
        }
        SourceCommand::Remove { key } => {
            let item = super::key(&key)?;
            let mut store = super::open(db)?;
            let name = store.sourced_items()?.into_iter().find(|s| s.key == item.to_string()).map(|s| s.source);
            store.edit(Edit::one(Change::SourceLink { key: item.clone(), name: None }))?;
            if let Some(n) = name {
                let mut sources = sources_config::load().map_err(|why| bad("sources", "configuration", why))?;
                if sources.remove(&n).is_some() {
                    sources_config::save(&sources).map_err(|why| bad("sources", "configuration", why))?;
                }
            }
            println!("{item}: fed by hand again");
            Ok(0)
        }
    }
}

/// `keel source list`'s row.
#[derive(serde::Serialize)]
pub struct SourceListRow {
    #[serde(flatten)]
    item: SourcedItem,
    /// What your configuration runs for it (none: defined by someone else, or nowhere).
    defined: Option<String>,
}

impl SourceListRow {
    fn new(item: SourcedItem, defs: &BTreeMap<String, SourceDef>) -> SourceListRow {
        let defined = defs.get(&item.source).map(SourceDef::describe);
        SourceListRow { item, defined }
    }
}

impl Listing for SourceListRow {
    fn columns() -> &'static [&'static str] {
        &["key", "title", "source", "defined", "cadence", "synced_at", "last_period", "failure"]
    }
    fn cells(&self) -> Vec<Cell> {
        let i = &self.item;
        vec![
            Cell::text(&i.key),
            Cell::text(&i.title),
            Cell::text(&i.source),
            Cell::text(self.defined.clone().unwrap_or_else(|| "not in your configuration".into())),
            Cell::opt(i.cadence.clone()),
            Cell::opt(i.synced_at.clone()),
            Cell::opt(i.last_period.clone()),
            Cell::opt(i.failure.clone()),
        ]
    }
}

/// Run one source: its rows, or why it failed.
fn fetch(name: &str, def: &SourceDef, item: &str, login: &str) -> Result<Vec<SourceRow>, String> {
    let limit = Duration::from_secs(def.timeout.unwrap_or(DEFAULT_TIMEOUT));
    match def.kind()? {
        Kind::Command { argv, shell } => {
            let (program, args): (PathBuf, Vec<String>) =
                if shell { ("/bin/sh".into(), vec!["-c".into(), argv[0].clone()]) } else { (argv[0].clone().into(), argv[1..].to_vec()) };
            let env = [("KEEL_SOURCE", name), ("KEEL_ITEM", item)];
            let out = crate::child::run(&program, &args, &env, b"", limit, MAX_OUTPUT).map_err(|f| f.to_string())?;
            if !out.status.success() {
                let said = crate::domain::text_check::one_line(&String::from_utf8_lossy(&out.stderr), 200);
                return Err(format!("{} ({}){}", argv[0], out.status, if said.is_empty() { String::new() } else { format!(": {said}") }));
            }
            if out.stdout_cut {
                return Err(format!("printed more than {} MB", MAX_OUTPUT / (1024 * 1024)));
            }
            source_rows::from_output(&out.stdout)
        }
        Kind::Csv { path, map } => {
            let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
            if meta.len() > 10 * MAX_OUTPUT as u64 {
                return Err(format!("{path}: larger than {} MB", 10 * MAX_OUTPUT / (1024 * 1024)));
            }
            let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            source_rows::from_csv(&bytes, map, false).map_err(|e| format!("{path}: {e}"))
        }
        Kind::Sql { location, query } => source_rows::from_cells(crate::store::source_sql::query_cells(location, query, login, limit)?),
    }
}

/// Is the source due: never synced, failed last time, or last synced in an earlier period?
fn due(item: &SourcedItem, def: &SourceDef, today: chrono::NaiveDate) -> bool {
    let cadence = def.cadence.as_deref().or(item.cadence.as_deref()).and_then(Cadence::parse).unwrap_or(Cadence::Weekly);
    let last = item.synced_at.as_deref().and_then(|s| chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok());
    item.failure.is_some() || last.is_none_or(|d| cadence.period_of(d) != cadence.period_of(today))
}

/// The changes a source's rows make (values a person overrode are kept, and named).
fn changes(store: &Store, key: &ItemKey, name: &str, rows: &[SourceRow]) -> Result<(Vec<Change>, Vec<String>)> {
    let mut out = vec![Change::SourceRun { key: key.clone(), source: name.to_string(), failure: None }];
    let mut kept = Vec::new();
    for r in rows {
        if store.value_origin(key, r.period)?.1.is_some() {
            kept.push(r.period.to_string());
            continue;
        }
        for (field, v) in [("actual", r.actual), ("forecast", r.forecast)] {
            if let Some(v) = v {
                out.push(Change::Value { key: key.clone(), period: r.period, field: field.into(), value: v.to_string(), if_version: None });
            }
        }
    }
    Ok((out, kept))
}

/// A failure as the shared file keeps it: what went wrong, without the program, file or database
/// the source names (those stay in the user's own configuration).
fn redact(why: &str, def: &SourceDef) -> String {
    let mut secrets: Vec<&str> = def.command.iter().flatten().map(String::as_str).collect();
    secrets.extend(def.csv.as_deref());
    secrets.extend(def.sql.as_deref());
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.into_iter().filter(|s| s.len() > 1).fold(why.to_string(), |w, s| w.replace(s, "…"))
}

fn record_failure(store: &mut Store, key: &ItemKey, name: &str, why: &str) {
    let change = Change::SourceRun { key: key.clone(), source: name.to_string(), failure: Some(why.to_string()) };
    if let Err(e) = store.edit(Edit::one(change).with_reason(Some(format!("sync {name}")))) {
        eprintln!("keel: {key}: the failure could not be recorded: {e}");
    }
}

/// `keel sync [--dry-run] [KEY…]`: run the sources that are due (or those named), then reassess
/// the signals that change with time (missed updates). Exit 0, or 1 when a source failed.
pub fn sync(db: &Path, keys: &[String], dry_run: bool) -> Result<i32> {
    let wanted: Vec<ItemKey> = keys.iter().map(|k| super::key(k)).collect::<Result<_>>()?;
    let defs = sources_config::load().map_err(|why| bad("sources", "configuration", why))?;
    let mut store = super::open(db)?;
    let today = store.clock().today;
    let items = store.sourced_items()?;
    for w in &wanted {
        if !items.iter().any(|i| i.key == w.to_string()) {
            return Err(bad(&w.to_string(), "source", "is not fed by a source: keel source set KEY … first"));
        }
    }
    let login = store.actor.login.clone();
    let mut failed = 0;
    for item in items.iter().filter(|i| wanted.is_empty() || wanted.iter().any(|w| w.to_string() == i.key)) {
        let key = super::key(&item.key)?;
        let name = &item.source;
        let Some(def) = defs.get(name) else {
            eprintln!("keel: {key}: the source '{name}' is not defined in your configuration: skipped");
            continue;
        };
        if wanted.is_empty() && !due(item, def, today) {
            println!("{key}: '{name}' not due (synced {})", item.synced_at.as_deref().unwrap_or("never"));
            continue;
        }
        let outcome = match fetch(name, def, &item.key, &login) {
            Err(why) => Err(why),
            Ok(rows) => {
                let (changes, kept) = changes(&store, &key, name, &rows)?;
                let n = changes.len() - 1;
                let edit = Edit { changes, reason: Some(format!("sync {name}")) };
                let done = if dry_run { store.edit_dry_run(edit) } else { store.edit(edit) };
                for p in &kept {
                    println!("{key}: {p} keeps its hand override (not overwritten by '{name}')");
                }
                done.map(|o| (n, o)).map_err(|e| e.to_string())
            }
        };
        match outcome {
            Ok((n, o)) => {
                let verb = if dry_run { "would write" } else { "wrote" };
                println!("{key}: '{name}' {verb} {n} value(s)");
                super::print_effects(&o);
            }
            Err(why) => {
                failed += 1;
                let why = crate::domain::text_check::one_line(&why, 300);
                eprintln!(
                    "keel: {key}: the source '{name}' failed: {why}{}",
                    if dry_run { "" } else { " (nothing changed; a \"source failed\" row is open for its owner)" }
                );
                if !dry_run {
                    record_failure(&mut store, &key, name, &redact(&why, def));
                }
            }
        }
    }
    if !dry_run {
        // Missed updates change with the calendar, not only with edits: reassess them now.
        let o = store.edit(Edit::one(Change::Reassess))?;
        super::print_effects(&o);
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::split_argv;

    #[test]
    fn command_lines_split_into_words_as_a_shell_would_quote_them() {
        assert_eq!(split_argv("a b  'c d' \"e \\\"f\\\"\" g\\ h ''").unwrap(), ["a", "b", "c d", "e \"f\"", "g h", ""]);
        assert!(split_argv("a 'b").is_err());
        assert!(split_argv("   ").is_err());
    }
}
