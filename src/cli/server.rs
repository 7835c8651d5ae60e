//! The command line on a PostgreSQL server: reading a `postgres://` `--db` before anything else,
//! the commands that work on files only (refused by name), and the demo made in a database.

use super::{Cli, Command};
use crate::store::{Store, StoreError};
use anyhow::Result;
use std::path::Path;

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
        Some(Command::Backup { .. }) => ("backup", "use the server's own backups (pg_dump)"),
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
