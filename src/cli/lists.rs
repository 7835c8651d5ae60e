//! The listing commands — `keel list`, `escalations`, `log`, `changes`, `gate --pending`, `cycle
//! list` — and their rows as table, CSV or JSON (see [`super::listing`]).

use super::dates;
use super::listing::{self, Cell, ListFormat, Listing};
use crate::domain::escalation::Tier;
use crate::domain::ItemKind;
use crate::store::audit::Row as AuditRow;
use crate::store::listing::ItemQuery;
use crate::store::read::{EscalationFilter, EscalationRow};
use crate::store::report::ItemRow;
use crate::store::{Store, StoreError};
use anyhow::{anyhow, Result};
use clap::ValueEnum;
use serde::Serialize;

/// The kinds of item `keel list` lists (singular or plural, or the key's prefix).
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ListKind {
    #[value(alias = "objective", alias = "o")]
    Objectives,
    #[value(alias = "key-result", alias = "kr", alias = "krs")]
    KeyResults,
    #[value(alias = "kpi", alias = "k")]
    Kpis,
    #[value(alias = "portfolio", alias = "pf")]
    Portfolios,
    #[value(alias = "programme", alias = "pg")]
    Programmes,
    #[value(alias = "project", alias = "pj")]
    Projects,
    #[value(alias = "package", alias = "mp")]
    Packages,
    #[value(alias = "measure", alias = "m")]
    Measures,
    /// Every item of these kinds.
    All,
}

impl ListKind {
    fn kind(self) -> Option<ItemKind> {
        Some(match self {
            ListKind::Objectives => ItemKind::Objective,
            ListKind::KeyResults => ItemKind::KeyResult,
            ListKind::Kpis => ItemKind::Kpi,
            ListKind::Portfolios => ItemKind::Portfolio,
            ListKind::Programmes => ItemKind::Programme,
            ListKind::Projects => ItemKind::Project,
            ListKind::Packages => ItemKind::Package,
            ListKind::Measures => ItemKind::Measure,
            ListKind::All => return None,
        })
    }
}

/// `keel check --format`: its own text, the whole report as JSON, or the escalations as CSV.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
    /// The open escalations, as `keel escalations --format csv` lists them.
    Csv,
}

fn tier(t: Option<&str>) -> Result<Option<Tier>> {
    t.map(|t| {
        Tier::parse(t).ok_or_else(|| {
            anyhow!(StoreError::Invalid {
                key: "--tier".into(),
                field: t.to_string(),
                why: "use owner, sponsor or steering (or 1, 2, 3)".into()
            })
        })
    })
    .transpose()
}

/// A choice among known words, refused with the words it could have been.
fn one_of(flag: &str, given: Option<String>, known: &[&str]) -> Result<Option<String>> {
    match given {
        Some(g) if !known.iter().any(|k| k.eq_ignore_ascii_case(g.trim())) => {
            Err(anyhow!(StoreError::Invalid { key: flag.into(), field: g, why: format!("use one of: {}", known.join(", ")) }))
        }
        other => Ok(other.map(|s| s.trim().to_ascii_lowercase())),
    }
}

/// The filters of `keel list`, as given on the command line.
pub struct ListArgs {
    pub kind: ListKind,
    pub owner: Option<String>,
    pub unit: Option<String>,
    pub stage: Option<String>,
    pub status: Option<String>,
    pub implementation: Option<String>,
    pub potential: Option<String>,
    pub tier: Option<String>,
    pub cycle: Option<String>,
    pub format: ListFormat,
    /// Retired items instead of active ones.
    pub retired: bool,
}

impl Listing for ItemRow {
    fn columns() -> &'static [&'static str] {
        &[
            "key",
            "kind",
            "title",
            "owner",
            "status",
            "stage",
            "implementation",
            "potential",
            "target",
            "planned",
            "forecast",
            "actual",
            "escalation",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::text(&self.key),
            Cell::text(&self.kind),
            Cell::text(&self.title),
            Cell::opt(self.owner.clone()),
            Cell::text(if self.stale && self.status != "stale" { format!("{} (stale)", self.status) } else { self.status.clone() }),
            Cell::opt(self.side_state.clone().or(self.stage.clone())),
            Cell::opt(self.implementation.clone()),
            Cell::opt(self.potential.clone()),
            Cell::opt_number(self.target),
            Cell::opt_number(self.planned),
            Cell::opt_number(self.forecast),
            Cell::opt_number(self.actual),
            Cell::opt(self.escalation_tier.map(crate::io::report::tier_label)),
        ]
    }
}

pub fn list(store: &Store, a: ListArgs) -> Result<i32> {
    if a.retired {
        return super::upkeep::list_retired(store, a.kind.kind(), a.format);
    }
    let stages: Vec<&str> = crate::domain::Stage::ALL.iter().map(|s| s.as_str()).collect();
    let statuses = ["green", "amber", "red", "stale", "no data", "none"];
    let query = ItemQuery {
        kind: a.kind.kind(),
        owner: a.owner,
        unit: a.unit,
        stage: one_of("--stage", a.stage, &stages)?,
        cycle: a.cycle,
        status: one_of("--status", a.status, &statuses)?,
        implementation: a.implementation,
        potential: a.potential,
        tier: tier(a.tier.as_deref())?.map(|t| t.number()),
    };
    let rows = store.list_items(&query)?;
    listing::print(a.format, &rows, None, "no items match")?;
    Ok(0)
}

impl Listing for EscalationRow {
    fn columns() -> &'static [&'static str] {
        &[
            "id",
            "tier",
            "key",
            "title",
            "owner",
            "unit",
            "reason",
            "period",
            "relative",
            "gap",
            "periods_out",
            "assignee",
            "opened_at",
            "due_at",
            "overdue",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::number(self.id),
            Cell::text(self.tier_label),
            Cell::text(&self.key),
            Cell::text(&self.title),
            Cell::opt(self.owner.clone()),
            Cell::opt(self.unit.clone()),
            Cell::text(&self.reason),
            Cell::text(&self.period),
            Cell::opt_number(self.relative.map(crate::domain::escalation::relative_json)),
            Cell::number(self.gap),
            Cell::number(self.periods_out),
            Cell::opt(self.assignee.clone()),
            Cell::text(&self.opened_at),
            Cell::text(&self.due_at),
            Cell::text(if self.overdue { "yes" } else { "no" }),
        ]
    }
}

pub fn escalations(
    store: &Store,
    t: Option<&str>,
    owner: Option<String>,
    unit: Option<String>,
    all: bool,
    format: ListFormat,
) -> Result<i32> {
    let rows = store.escalations(&EscalationFilter { tier: tier(t)?, owner_login: owner, unit, include_closed: all })?;
    listing::print(format, &rows, Some(crate::io::text::escalations(&rows)), "")?;
    Ok(0)
}

/// The open escalations of `keel check --format csv`.
pub fn escalations_csv(rows: &[EscalationRow]) -> Result<String> {
    listing::csv(rows)
}

impl Listing for AuditRow {
    fn columns() -> &'static [&'static str] {
        &["seq", "at", "actor", "key", "field", "old", "new", "reason"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::number(self.seq),
            Cell::text(&self.at),
            Cell::text(&self.actor),
            Cell::text(&self.entry.item_key),
            Cell::text(&self.entry.field),
            Cell::opt(self.entry.old_value.clone()),
            Cell::opt(self.entry.new_value.clone()),
            Cell::opt(self.entry.reason.clone()),
        ]
    }
}

pub fn log(store: &Store, key: Option<String>, since: Option<&str>, until: Option<&str>, limit: i64, format: ListFormat) -> Result<i32> {
    let today = store.clock().today;
    let (since, until) = (dates::since(since, today)?, dates::until(until, today)?);
    let limit = if limit == 0 { None } else { Some(limit) };
    let (rows, total) = store.audit_window(key.as_deref(), since.as_deref(), until.as_deref(), limit)?;
    let table = (format == ListFormat::Table).then(|| crate::io::text::log(&rows));
    listing::print(format, &rows, table, "")?;
    if let Some(total) = total {
        let note =
            format!("showing the newest {} of {total} changes; --limit N shows more (0: all), --since/--until choose a window", rows.len());
        // Said after the table, where a reader sees it; beside CSV and JSON, on stderr, so the data stays whole.
        if format == ListFormat::Table {
            println!("… {note}");
        } else {
            eprintln!("keel: {note}");
        }
    }
    Ok(0)
}

/// One change of `keel changes`, with its item's title (the CSV and table rows).
#[derive(Serialize)]
struct ChangeLine<'a> {
    key: &'a str,
    title: &'a str,
    #[serde(flatten)]
    row: &'a AuditRow,
}

impl Listing for ChangeLine<'_> {
    fn columns() -> &'static [&'static str] {
        &["key", "title", "at", "actor", "field", "old", "new", "reason"]
    }
    fn cells(&self) -> Vec<Cell> {
        let (r, e) = (self.row, &self.row.entry);
        vec![
            Cell::text(self.key),
            Cell::text(self.title),
            Cell::text(&r.at),
            Cell::text(&r.actor),
            Cell::text(&e.field),
            Cell::opt(e.old_value.clone()),
            Cell::opt(e.new_value.clone()),
            Cell::opt(e.reason.clone()),
        ]
    }
}

pub fn changes(store: &Store, since: Option<&str>, until: Option<&str>, format: ListFormat) -> Result<i32> {
    let today = store.clock().today;
    let since = match dates::since(since, today)? {
        Some(s) => s,
        None => store.last_meeting(None)?.map(|m| m.started_at).unwrap_or_else(|| "0000".into()),
    };
    let until = dates::until(until, today)?;
    let mut groups = store.changes_since(&since)?;
    if let Some(u) = &until {
        for g in &mut groups {
            g.changes.retain(|r| r.at.as_str() < u.as_str());
        }
        groups.retain(|g| !g.changes.is_empty());
    }
    match format {
        ListFormat::Json => println!("{}", serde_json::to_string_pretty(&groups)?),
        ListFormat::Csv => {
            let lines: Vec<ChangeLine> =
                groups.iter().flat_map(|g| g.changes.iter().map(move |row| ChangeLine { key: &g.key, title: &g.title, row })).collect();
            print!("{}", listing::csv(&lines)?);
        }
        ListFormat::Table => {
            let window = until.as_ref().map(|u| format!(" until {u} (exclusive)")).unwrap_or_default();
            println!("changes since {since}{window}: {} items", groups.len());
            for g in groups {
                println!("{} {}", g.key, crate::domain::text_check::printable(&g.title));
                for r in g.changes {
                    println!("    {}", crate::io::text::log_line(&r));
                }
            }
        }
    }
    Ok(0)
}

#[derive(Serialize)]
struct Pending {
    key: String,
    title: String,
    requested: String,
    awaiting: String,
}

impl Listing for Pending {
    fn columns() -> &'static [&'static str] {
        &["key", "title", "requested", "awaiting"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![Cell::text(&self.key), Cell::text(&self.title), Cell::text(&self.requested), Cell::text(&self.awaiting)]
    }
}

pub fn gate_pending(store: &Store, format: ListFormat) -> Result<i32> {
    let rows: Vec<Pending> = store
        .pending_approvals()?
        .into_iter()
        .map(|(key, title, requested, awaiting)| Pending { key, title, requested: requested.as_str().to_string(), awaiting })
        .collect();
    listing::print(format, &rows, None, &format!("no gate requests wait for {}", store.actor.display()))?;
    Ok(0)
}

#[derive(Serialize)]
struct CycleLine {
    key: String,
    name: String,
    start: String,
    end: String,
}

impl Listing for CycleLine {
    fn columns() -> &'static [&'static str] {
        &["key", "name", "start", "end"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![Cell::text(&self.key), Cell::text(&self.name), Cell::text(&self.start), Cell::text(&self.end)]
    }
}

pub fn cycles(store: &Store, format: ListFormat) -> Result<i32> {
    let rows: Vec<CycleLine> = store.cycles()?.into_iter().map(|(key, name, start, end)| CycleLine { key, name, start, end }).collect();
    listing::print(format, &rows, None, "no cycles")?;
    Ok(0)
}
