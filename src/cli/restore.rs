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

pub fn migrate(db: &Path) -> Result<i32> {
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
