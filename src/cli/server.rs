//! The command line on a PostgreSQL server: reading a `postgres://` `--db` before anything else,
//! the commands that work on files only (refused by name), and the demo made in a database.

use super::upkeep::UpkeepCommand;
use super::{Cli, Command};
use crate::store::{Store, StoreError};
use anyhow::Result;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand, Debug)]
pub enum AdminAction {
    /// Print (or with --apply run) the GRANT statements for the role keel's users connect as:
    /// everything keel edits, but the audit table only read and appended to, never changed.
    Grants {
        /// The role keel's users are members of (CREATE ROLE keel_users NOLOGIN; GRANT keel_users TO alice).
        #[arg(long, value_name = "USERS_ROLE")]
        role: String,
        /// A role that may only query the reporting views (keel_items, keel_values, keel_escalations, keel_funnel).
        #[arg(long, value_name = "ROLE")]
        readonly: Option<String>,
        /// Run the statements (as the schema's owner), all or none, instead of printing them.
        #[arg(long)]
        apply: bool,
    },
}

/// `keel admin …`.
pub(super) fn admin(db: &Path, action: AdminAction) -> Result<i32> {
    match action {
        AdminAction::Grants { role, readonly, apply } => {
            let store = Store::open(db)?;
            let statements = store.grants(&role, readonly.as_deref(), apply)?;
            if apply {
                println!(
                    "applied {} GRANT statements for {role}{}",
                    statements.len(),
                    readonly.map(|r| format!(" and {r}")).unwrap_or_default()
                );
            } else {
                for s in statements {
                    println!("{s};");
                }
            }
            Ok(0)
        }
    }
}

/// After `keel init` on a server: the grants for a users' role, to run as the schema's owner.
pub(super) fn print_first_grants(store: &Store, db: &Path) -> Result<()> {
    println!("keel's users connect as their own roles, members of a users' role that may edit but never change the audit:");
    println!("  CREATE ROLE keel_users NOLOGIN; GRANT keel_users TO alice, bob;");
    for s in store.grants("keel_users", None, false)? {
        println!("  {s};");
    }
    println!("(or run: keel admin grants --role keel_users --apply --db '{}')", db.display());
    Ok(())
}

/// A `postgres://` URL as `--db`: read as libpq would, so a password in it (or anything keel
/// cannot read) is refused at once and the URL is never mistaken for a path; then the few commands
/// that work on SQLite files only are refused by name (exit 64), before anything is touched.
pub(super) fn refuse_server_url(cli: &Cli) -> Option<i32> {
    let text = cli.db.as_deref()?.to_str().filter(|t| crate::location::is_server_url(t))?;
    let passwords = crate::location::PasswordSources::from_env();
    let server = match crate::location::ServerUrl::parse(text, &crate::store::os_login(), &passwords) {
        Err(e) => {
            eprintln!("keel: --db {e}");
            return Some(64);
        }
        Ok(server) => server,
    };
    let (what, instead) = match &cli.command {
        Some(Command::Init { shared: Some(_), .. }) => ("init --shared", "on a server, share the database through its roles instead"),
        Some(Command::Init { force: true, .. }) => ("init --force", "drop and create the database on the server (dropdb, createdb)"),
        Some(Command::Demo { force: true, .. }) => ("demo --force", "drop and create the database on the server (dropdb, createdb)"),
        // The rewind runs in a scratch copy, which is a file.
        Some(Command::Report { as_of: Some(_), .. }) => ("report --as-of", "run it on a copy of the database in a file"),
        Some(Command::Upkeep(UpkeepCommand::Restore { .. })) => {
            ("restore", "restore with the server's own tools (pg_restore of a pg_dump, or point-in-time recovery)")
        }
        _ => return None,
    };
    eprintln!("keel: --db {}: keel {what} works on SQLite files only; {instead}. Nothing was changed.", server.shown);
    Some(64)
}

/// The demo in a database on a server: made in an empty database, kept if it is there already.
/// (A demo whose plan never went in gets it now: the schema and the plan are two transactions.)
pub(super) fn ensure_demo(db: &Path) -> Result<bool> {
    let mut store = match Store::open(db) {
        Err(StoreError::NoSchema { .. }) => Store::create(db, true)?,
        Err(e) => return Err(e.into()),
        Ok(s) if s.demo && s.change_counter()? == 0 => s,
        Ok(_) => return Ok(false),
    };
    // Its PMO administrator is whoever the server says made it (the session user).
    let login = store.actor.login.clone();
    let plan = crate::io::demo::plan(store.clock().today, &login)?;
    store.import_plan(plan)?;
    Ok(true)
}
