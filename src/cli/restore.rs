//! `keel restore BACKUP` and `keel migrate`: the file itself, checked and kept (see `store::restore`).

use anyhow::Result;
use std::path::Path;

pub fn restore(db: &Path, backup: &Path) -> Result<i32> {
    let done = crate::store::restore::restore(db, backup)?;
    println!(
        "restored {} from {}: integrity check ok, audit log intact ({} rows), schema {}{}",
        db.display(),
        backup.display(),
        done.audit_rows,
        done.schema.1,
        if done.schema.0 < done.schema.1 { format!(" (migrated from {})", done.schema.0) } else { String::new() }
    );
    match &done.kept {
        Some(kept) => println!("the file as it was is kept as {} (mode 0600)", kept.display()),
        None => println!("there was no file at {} before", db.display()),
    }
    Ok(0)
}

/// `keel migrate` on a server: opening moves the schema forward by itself (in one transaction);
/// what opening leaves out on a large database — search's trigram indexes, whose build would
/// hold off every writer — is built here beside the writers, as the database's owner.
fn migrate_server(db: &Path) -> Result<i32> {
    let store = crate::store::Store::open(db)?;
    let shown = super::copy::shown(db);
    let spin = crate::io::progress::spinner("building search's indexes (edits go on meanwhile)");
    let built = store.build_server_search_indexes(|name| spin.set_message(format!("built {name}")));
    spin.finish_and_clear();
    match built {
        Ok(false) => println!("{shown} is at schema {} with search's indexes: nothing to do", crate::store::migrations::SCHEMA_VERSION),
        Ok(true) => println!("{shown}: search's trigram indexes are built; search goes through them from now on"),
        Err(e) => {
            eprintln!(
                "keel migrate: {shown}: search's indexes could not be built ({e}). The database's owner runs keel migrate, \
                 with the pg_trgm extension available (CREATE EXTENSION pg_trgm); search scans every title meanwhile"
            );
            return Ok(70);
        }
    }
    Ok(0)
}

pub fn migrate(db: &Path) -> Result<i32> {
    if crate::store::server::server_url(db).is_some() {
        return migrate_server(db);
    }
    let bar = crate::io::progress::bar(0, "indexing");
    let done = crate::store::restore::migrate(db, &mut |done, all| {
        bar.set_length(all);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    match done? {
        None => println!("{} is already at schema {}: nothing to do", db.display(), crate::store::migrations::SCHEMA_VERSION),
        Some(done) => {
            println!("migrated {} from schema {} to {}", db.display(), done.schema.0, done.schema.1);
            if let Some(kept) = &done.kept {
                println!("the file as it was is kept as {} (mode 0600)", kept.display());
            }
        }
    }
    Ok(0)
}
