//! `keel add`, `move`, `retire`, `unretire`, `person … reassign`, `revert`, `restore`, `migrate`:
//! keeping the organisation current without writing JSON. Each edit goes through the one write
//! path (`store::upkeep`); restore and migrate work on the file itself (`store::restore`).

use super::{key, open, print_effects};
use crate::domain::{ItemKey, ItemKind};
use crate::store::upkeep::{Role, Upkeep};
use crate::store::{Change, Edit, StoreError};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum UpkeepCommand {
    /// Add an item: `keel add measure --title "Route optimiser" --parent MP-2 --owner P-3 potential=50000`.
    ///
    /// KIND: objective, key-result, kpi, portfolio, programme, project, package, measure, person,
    /// unit, cycle, kra. Fields are the plan's (`keel export --format json` shows them) and are
    /// checked exactly as a plan import checks them; lists (units, informs, contributes_to,
    /// depends_on) are comma-separated. Prints the new key on the first line.
    Add {
        #[arg(value_name = "KIND")]
        kind: String,
        /// The title (the name, for a person, unit, cycle or key result area).
        #[arg(long, alias = "name")]
        title: Option<String>,
        /// What it goes under: an objective's parent objective, a key result's objective, a
        /// measure's package, a node's parent, a unit's parent, a person's unit, what a KPI informs.
        #[arg(long, add = super::complete::keys())]
        parent: Option<String>,
        /// Its owner (P-n or login).
        #[arg(long, add = super::complete::people())]
        owner: Option<String>,
        /// More fields: FIELD=VALUE (e.g. kind=increase-to baseline=40 target=60 for a key result);
        /// without --title, a first word with no `=` is the title.
        #[arg(value_name = "FIELD=VALUE")]
        fields: Vec<String>,
    },
    /// Move an item under another parent (`--to none`: no parent, where the kind allows it):
    /// an objective under an objective, a key result to another objective, a measure to another
    /// package, a node to another parent of its level, a unit under a unit, a person to a unit.
    Move {
        #[arg(add = super::complete::keys())]
        key: String,
        #[arg(long, value_name = "PARENT", add = super::complete::keys())]
        to: String,
    },
    /// Retire an item: kept with its history, but out of the tree, lists, roll-ups, the funnel
    /// and the checks; its open escalation is closed with the reason.
    Retire {
        #[arg(add = super::complete::keys())]
        key: String,
        /// Why (kept in its history and on the closed escalation).
        #[arg(long)]
        reason: String,
        /// Retire everything still active under it too.
        #[arg(long)]
        with_children: bool,
    },
    /// Bring a retired item back.
    Unretire {
        #[arg(add = super::complete::keys())]
        key: String,
        /// Also what was retired with it (at the same moment, for the same reason) under it.
        #[arg(long)]
        with_children: bool,
    },
    /// A person's roles: `keel person P-4 reassign --to P-7` hands every role of a leaver on.
    Person {
        #[arg(add = super::complete::people())]
        key: String,
        #[command(subcommand)]
        action: PersonAction,
    },
    /// Undo an import (`keel log --imports` lists them) as one edit, if nothing it touched changed since.
    Revert {
        /// IMPORT-n (or n).
        #[arg(value_name = "IMPORT-ID")]
        id: String,
    },
    /// Put a backup back in place of the database, after checking it; the current file is kept
    /// as a backup beside it. Refused while another keel has the file open.
    Restore {
        /// The backup (made by `keel backup`).
        backup: PathBuf,
    },
    /// Move the database to this keel's schema explicitly, taking a backup first.
    Migrate,
}

#[derive(Subcommand, Debug)]
pub enum PersonAction {
    /// Hand every role (or those named) to another person in one audited edit. A measure whose
    /// owner would also be its sponsor or controller is listed and left as it is.
    Reassign {
        /// Who takes the roles over (P-n or login).
        #[arg(long, add = super::complete::people())]
        to: String,
        /// Only these roles: owner, sponsor, controller (comma-separated; default: all).
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
    },
}

fn bad(key: &str, field: &str, why: String) -> anyhow::Error {
    anyhow!(StoreError::Invalid { key: key.to_string(), field: field.to_string(), why })
}

fn kind_of(raw: &str) -> Result<ItemKind> {
    let t = raw.trim().to_ascii_lowercase();
    let t = t.strip_suffix('s').filter(|s| ItemKind::parse(s).is_some()).unwrap_or(&t);
    ItemKind::parse(t).ok_or_else(|| bad(raw, "KIND", format!("is not a kind of item; one of: {}", ItemKind::choices())))
}

pub fn run(db: &Path, command: UpkeepCommand) -> Result<i32> {
    let change = match command {
        UpkeepCommand::Restore { backup } => return super::restore::restore(db, &backup),
        UpkeepCommand::Migrate => return super::restore::migrate(db),
        command => command,
    };
    let mut store = open(db)?;
    // People may be named by key or login.
    let person = |raw: &str, what: &str| -> Result<ItemKey> {
        store.person_key(raw)?.ok_or_else(|| bad(raw, what, "is neither a person key (P-n) nor a login of this file".into()))
    };
    let change = match change {
        UpkeepCommand::Add { kind, title, parent, owner, fields } => {
            let kind = kind_of(&kind)?;
            let mut pairs = Vec::new();
            let mut title = title;
            let mut fields = fields.into_iter().peekable();
            // `keel add measure "Route optimiser" …`: a first word without `=` is the title.
            if title.is_none() && fields.peek().is_some_and(|f| !f.contains('=')) {
                title = fields.next();
            }
            for f in &fields.collect::<Vec<_>>() {
                let (name, value) =
                    f.split_once('=').ok_or_else(|| bad(f, "FIELD=VALUE", "use FIELD=VALUE, e.g. potential=50000".into()))?;
                pairs.push((name.to_string(), value.to_string()));
            }
            let owner = owner.map(|o| person(&o, "--owner").map(|k| k.to_string())).transpose()?;
            Upkeep::Add { kind, title, parent, owner, fields: pairs }
        }
        UpkeepCommand::Move { key: k, to } => {
            let to = match to.trim().to_ascii_lowercase().as_str() {
                "none" | "-" | "" => None,
                _ => Some(key(&to)?),
            };
            Upkeep::Move { key: key(&k)?, to }
        }
        UpkeepCommand::Retire { key: k, reason, with_children } => Upkeep::Retire { key: key(&k)?, reason, with_children },
        UpkeepCommand::Unretire { key: k, with_children } => Upkeep::Unretire { key: key(&k)?, with_children },
        UpkeepCommand::Person { key: k, action: PersonAction::Reassign { to, roles } } => {
            let roles = roles
                .iter()
                .filter(|r| !r.trim().is_empty())
                .map(|r| Role::parse(r).ok_or_else(|| bad(r, "--roles", "is not a role: owner, sponsor or controller".into())))
                .collect::<Result<Vec<_>>>()?;
            Upkeep::Reassign { from: person(&k, "person")?, to: person(&to, "--to")?, roles }
        }
        UpkeepCommand::Revert { id } => {
            let n = crate::store::change_sets::parse_id(&id)
                .ok_or_else(|| bad(&id, "IMPORT-ID", "is not an import: use IMPORT-n as `keel log --imports` lists them".into()))?;
            Upkeep::Revert { id: n }
        }
        UpkeepCommand::Restore { .. } | UpkeepCommand::Migrate => unreachable!("handled above"),
    };
    let what = match &change {
        Upkeep::Move { key, .. } | Upkeep::Retire { key, .. } | Upkeep::Unretire { key, .. } => Some(key.clone()),
        _ => None,
    };
    let outcome = store.edit(Edit::one(Change::Upkeep(change)))?;
    for k in &outcome.created {
        println!("{k}");
    }
    if let (Some(k), 0) = (what, outcome.changes) {
        println!("{k}: nothing changed (it is already so)");
    }
    print_effects(&outcome);
    Ok(0)
}

impl super::listing::Listing for crate::store::retire::RetiredRow {
    fn columns() -> &'static [&'static str] {
        &["key", "kind", "title", "retired_at", "reason"]
    }
    fn cells(&self) -> Vec<super::listing::Cell> {
        use super::listing::Cell;
        vec![Cell::text(&self.key), Cell::text(&self.kind), Cell::text(&self.title), Cell::text(&self.retired_at), Cell::text(&self.reason)]
    }
}

/// `keel list KIND --retired`.
pub fn list_retired(store: &crate::store::Store, kind: Option<ItemKind>, format: super::ListFormat) -> Result<i32> {
    let rows = store.retired_items(kind)?;
    super::listing::print(format, &rows, None, "no retired items")?;
    Ok(0)
}

impl super::listing::Listing for crate::store::change_sets::ChangeSet {
    fn columns() -> &'static [&'static str] {
        &["id", "at", "actor", "kind", "file", "items", "values", "reverted"]
    }
    fn cells(&self) -> Vec<super::listing::Cell> {
        use super::listing::Cell;
        let reverted = self.reverted_at.as_ref().map(|at| format!("{at} by {}", self.reverted_by.clone().unwrap_or_default()));
        vec![
            Cell::text(&self.id),
            Cell::text(&self.at),
            Cell::text(&self.actor),
            Cell::text(&self.kind),
            Cell::text(&self.file),
            Cell::Number(self.items.to_string()),
            Cell::Number(self.values.to_string()),
            Cell::opt(reverted),
        ]
    }
}

/// `keel log --imports`: every recorded import, newest first.
pub fn list_imports(store: &crate::store::Store, format: super::ListFormat) -> Result<i32> {
    let rows = store.change_sets()?;
    super::listing::print(format, &rows, None, "no imports recorded")?;
    Ok(0)
}
