//! `keel copy SRC DEST` and `keel backup DEST` from a server: the store's copy, with a progress
//! bar on a terminal and a line saying what was copied.

use crate::store::copy::{self, Copied};
use crate::store::Store;
use anyhow::Result;
use std::path::Path;

/// Shown without a password or anything else a URL should not print: a file's path, or a
/// server database's name.
pub(super) fn shown(path: &Path) -> String {
    match crate::store::server::server_url(path) {
        Some(_) => format!("the server database {}", crate::store::server::source_name(path)),
        None => path.display().to_string(),
    }
}

fn with_bar(run: impl FnOnce(&mut dyn FnMut(u64, u64)) -> crate::store::Result<Copied>) -> Result<Copied> {
    let bar = crate::io::progress::bar(0, "copying");
    let out = run(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    Ok(out?)
}

fn report(copied: Copied, from: &Path, to: &Path) {
    println!(
        "copied {} to {}: {} rows in {} tables, {} audit rows with their hashes",
        shown(from),
        shown(to),
        copied.rows,
        copied.tables,
        copied.audit_rows
    );
}

pub(super) fn run(src: &Path, dest: &Path) -> Result<i32> {
    let copied = with_bar(|progress| copy::copy(src, dest, progress))?;
    report(copied, src, dest);
    Ok(0)
}

/// A backup of a database on a server: a keel file made by the copy (a file's backup takes
/// SQLite's page-by-page backup instead).
pub(super) fn backup_from_server(store: &Store, dest: &Path) -> Result<i32> {
    let copied = with_bar(|progress| copy::copy_from(store, dest, progress))?;
    report(copied, store.path(), dest);
    Ok(0)
}
