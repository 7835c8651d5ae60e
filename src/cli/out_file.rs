//! Writing a file the user named (`--out FILE` of `keel export` and `keel report`), safely in a
//! folder others can write too: reports hold people, money and decisions.
//!
//! - The temporary file is made by `tempfile` beside FILE: a random name opened with O_EXCL, so
//!   a link planted in the folder is never followed; removed on every error path.
//! - It is linked into place without replacing anything, unless `--force`; the database that is
//!   open and its `-wal`/`-shm`/`-journal` are refused even with `--force`.
//! - Mode 0600 like the database; 0660 in the database's group when that one is shared.
//! - A failed write (a full disk) is an I/O error, exit 70, and leaves nothing behind.

use crate::store::files::folder_of;
use crate::store::StoreError;
use anyhow::{anyhow, Result};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` whole or not at all. `db` is the database the command has open.
pub fn write(path: &Path, bytes: &[u8], db: &Path, force: bool) -> Result<()> {
    write_with(path, db, force, |w| Ok(w.write_all(bytes)?))
}

/// Write to `path` whatever `fill` writes, as it writes it (a large export is never held whole),
/// whole or not at all: a failure of `fill` leaves nothing behind.
pub fn write_with(path: &Path, db: &Path, force: bool, fill: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>) -> Result<()> {
    let refuse = |why: String| anyhow!(StoreError::Invalid { key: "--out".into(), field: path.display().to_string(), why });
    if let Some(which) = database_file(path, db) {
        return Err(refuse(format!(
            "is {which} that keel has open: writing there would destroy it. Nothing was written; choose another file name"
        )));
    }
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.is_dir() {
            return Err(refuse("is a folder: give a file name inside it. Nothing was written".into()));
        }
        if !force {
            return Err(refuse("a file already exists there. Nothing was written; use --force to replace it, or another name".into()));
        }
    }
    let dir = folder_of(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let failed = |e: std::io::Error| io_error(path, e);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".keel-tmp")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(failed)?;
    share_like_database(tmp.as_file(), db);
    {
        let mut first_error = None;
        let mut w = KeepError { out: std::io::BufWriter::with_capacity(64 * 1024, tmp.as_file_mut()), error: &mut first_error };
        let filled = fill(&mut w).and_then(|()| Ok(w.flush()?));
        drop(w);
        match (filled, first_error) {
            (Err(_), Some(e)) | (Ok(()), Some(e)) => return Err(failed(e)),
            (Err(e), None) => return Err(e),
            (Ok(()), None) => {}
        }
    }
    tmp.as_file().sync_all().map_err(failed)?;
    let placed = if force { tmp.persist(path) } else { tmp.persist_noclobber(path) };
    if let Err(e) = placed {
        // The temporary is removed when `e.file` drops.
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(refuse("a file appeared there meanwhile. Nothing was written; use --force to replace it".into()));
        }
        return Err(failed(e.error));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A writer that keeps its first I/O error (a full disk), however the filler reports it.
struct KeepError<'a, W: Write> {
    out: W,
    error: &'a mut Option<std::io::Error>,
}

impl<W: Write> Write for KeepError<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf).map_err(|e| self.keep(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush().map_err(|e| self.keep(e))
    }
}

impl<W: Write> KeepError<'_, W> {
    fn keep(&mut self, e: std::io::Error) -> std::io::Error {
        let copy = std::io::Error::new(e.kind(), e.to_string());
        self.error.get_or_insert(e);
        copy
    }
}

/// An I/O failure with the OS's own words: a missing folder is the user's (65), a folder they may
/// not write is a permission (77), anything else, such as a full disk, an I/O error (70).
fn io_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    let what = format!("cannot write {}: {e}. Nothing was written", path.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => anyhow!(StoreError::Invalid {
            key: "--out".into(),
            field: path.display().to_string(),
            why: format!("the folder {} does not exist. Nothing was written", folder_of(path).display())
        }),
        std::io::ErrorKind::PermissionDenied => anyhow!(StoreError::Permission(what)),
        _ => anyhow!(StoreError::Io(std::io::Error::new(e.kind(), what))),
    }
}

/// Which of the database's files `path` is, if any: the same file (by device and inode, which
/// sees hard and symbolic links), or the same name once the folders are resolved (for a `-wal`
/// that does not exist at this moment but may any moment).
fn database_file(path: &Path, db: &Path) -> Option<&'static str> {
    let target = resolved(path);
    let target_id = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    for (suffix, which) in [
        ("", "the database"),
        ("-wal", "the database's -wal file"),
        ("-shm", "the database's -shm file"),
        ("-journal", "the database's -journal file"),
    ] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        let same_inode = target_id.is_some() && std::fs::metadata(&p).ok().map(|m| (m.dev(), m.ino())) == target_id;
        if same_inode || (target.is_some() && resolved(&p) == target) {
            return Some(which);
        }
    }
    None
}

/// The path with its folder resolved (links, `..`), the file name as given.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    Some(std::fs::canonicalize(folder_of(path)).ok()?.join(path.file_name()?))
}

/// A shared (group-writable) database shares its reports with the same group: 0660 in its group.
/// Where the group cannot be given (not a member), the file stays 0600: private is the safe side.
fn share_like_database(file: &std::fs::File, db: &Path) {
    let Ok(m) = std::fs::metadata(db) else { return };
    if m.mode() & 0o020 == 0 {
        return;
    }
    if std::os::unix::fs::fchown(file, None, Some(m.gid())).is_ok() {
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o660));
    }
}
