//! Putting a backup back, and moving a file to this keel's schema, without pulling the file out
//! from under anyone: the backup is checked first (keel's application id, a schema this keel
//! knows, `integrity_check`, the audit chain), the current file is kept as a backup beside it,
//! and nothing happens while another keel has the file open.

use super::engine::{Db, FileMode};
use super::files::{create_whole, folder_of};
use super::{migrations, Result, Store, StoreError, BUSY_SECS};
use std::path::{Path, PathBuf};

/// What a restore or a migration did.
#[derive(Debug)]
pub struct Done {
    /// Where the file as it was is kept (none when there was no file).
    pub kept: Option<PathBuf>,
    /// The schema the restored or migrated file had, and has now.
    pub schema: (i64, i64),
    /// Rows in the audit log of the file now in place.
    pub audit_rows: i64,
}

fn beside(db: &Path, what: &str, stamp: &str) -> PathBuf {
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "keel.db".into());
    let first = folder_of(db).join(format!("{name}.{what}-{stamp}"));
    // Two restores in one second keep two files, not one refusal ("File exists").
    if !first.exists() {
        return first;
    }
    (2..1000).map(|n| folder_of(db).join(format!("{name}.{what}-{stamp}-{n}"))).find(|p| !p.exists()).unwrap_or(first)
}

fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// The processes that have `db` open as a keel file: SQLite keeps a shared lock on a byte of the
/// `-shm` file for as long as a connection is open, and the kernel says whose it is. Named as
/// `keel (pid 123, user ana)`; empty when nobody has it open.
pub fn holders(db: &Path) -> Vec<String> {
    use std::os::unix::io::AsRawFd;
    let shm = PathBuf::from(format!("{}-shm", db.display()));
    let Ok(file) = std::fs::OpenOptions::new().read(true).open(&shm) else { return vec![] };
    let mut found = Vec::new();
    // SQLite's -shm lock bytes start at 120; 128 is the "DMS" byte each connection holds shared.
    for byte in [128i64, 120, 121, 122, 123, 124, 125, 126, 127] {
        // SAFETY: a zeroed flock is a valid argument; F_GETLK only fills it in.
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = libc::F_WRLCK as libc::c_short;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock.l_start = byte as libc::off_t;
        lock.l_len = 1;
        // SAFETY: the descriptor is open for the call's duration and `lock` is valid for writes.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
        if rc == 0 && lock.l_type != libc::F_UNLCK as libc::c_short {
            let who = describe(lock.l_pid);
            if !found.contains(&who) {
                found.push(who);
            }
        }
        if !found.is_empty() {
            break;
        }
    }
    found
}

fn describe(pid: i32) -> String {
    use std::os::unix::fs::MetadataExt;
    let program = std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|c| c.trim().to_string()).unwrap_or_else(|_| "a process".into());
    let user = std::fs::metadata(format!("/proc/{pid}"))
        .ok()
        .map(|m| super::identity::login_of(m.uid()).unwrap_or_else(|| format!("uid {}", m.uid())));
    match user {
        Some(u) => format!("{program} (pid {pid}, user {u})"),
        None => format!("{program} (pid {pid})"),
    }
}

fn refuse_if_held(db: &Path, what: &str) -> Result<()> {
    let who = holders(db);
    if who.is_empty() {
        return Ok(());
    }
    Err(StoreError::Changed(format!(
        "{}: {} has it open; {what} only when nobody has the file open (ask them to quit keel). Nothing was changed.",
        db.display(),
        who.join(", ")
    )))
}

/// The application id and schema of a file, read without changing it.
fn identity_of(path: &Path) -> Result<(Db, i64)> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(StoreError::NotFound { path: shown });
    }
    let db = Db::open_file(path, FileMode::ReadOnly)?;
    let app = db.application_id().map_err(|e| StoreError::NotKeel { path: shown.clone(), why: e.to_string() })?;
    if app != migrations::APPLICATION_ID {
        return Err(StoreError::NotKeel { path: shown, why: "it is not a keel file (another application id)".into() });
    }
    let version = db.schema_version()?;
    if version > migrations::SCHEMA_VERSION {
        return Err(StoreError::Newer { path: shown, found: version, supported: migrations::SCHEMA_VERSION });
    }
    Ok((db, version))
}

/// Check a candidate file in place: SQLite's integrity check and the audit chain.
fn verify(path: &Path) -> Result<i64> {
    // A private copy nobody waits on: every migration, however large it is.
    let store = Store::open_migrating(path, &mut |_, _| {})?;
    let integrity = store.integrity_check()?;
    if integrity.trim() != "ok" {
        return Err(StoreError::Damaged { path: path.display().to_string(), why: format!("integrity_check: {integrity}") });
    }
    let v = store.verify_audit()?;
    if let Some((seq, why)) = v.first_broken {
        return Err(StoreError::Import(format!("the backup's audit log is broken at row {seq}: {why}")));
    }
    if let Some(p) = v.problems.first() {
        return Err(StoreError::Import(format!("the backup's audit log: {p}")));
    }
    Ok(v.rows)
}

fn remove_candidate(p: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
}

/// The schema version in a SQLite file's header (`user_version`, bytes 60–63), read without
/// opening it as a database.
fn header_schema(path: &Path) -> Option<i64> {
    use std::io::Read;
    let mut header = [0u8; 64];
    std::fs::File::open(path).ok()?.read_exact(&mut header).ok()?;
    Some(i64::from(u32::from_be_bytes([header[60], header[61], header[62], header[63]])))
}

/// A private copy of `from` at `to` (created exclusively, mode 0600).
fn copy_exclusive(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut source = std::fs::File::open(from)?;
    let mut target = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(to)?;
    std::io::copy(&mut source, &mut target)?;
    target.sync_all()?;
    Ok(())
}

/// Keep a damaged or empty `db` (and a journal it has) as it is, beside it.
fn keep_unreadable(db: &Path, kept: &Path) -> Result<()> {
    copy_exclusive(db, kept)?;
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        copy_exclusive(&wal, Path::new(&format!("{}-wal", kept.display())))?;
    }
    Ok(())
}

/// Put `backup` in place of `db`. The backup itself is only read: the checks run on a private
/// copy beside the database, which then takes the database's place.
pub fn restore(db: &Path, backup: &Path) -> Result<Done> {
    let shown = backup.display().to_string();
    if !backup.is_file() {
        return Err(StoreError::Import(format!("{shown}: no such backup file. Nothing was changed.")));
    }
    if std::fs::metadata(format!("{shown}-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Import(format!(
            "{shown}-wal is not empty: the backup was opened and changed after it was made. Open it once with \
             `keel --db {shown} check` to fold that in, then restore. Nothing was changed."
        )));
    }
    if std::fs::canonicalize(backup).ok() == std::fs::canonicalize(db).ok() {
        return Err(StoreError::Import(format!(
            "{shown} is the database itself: name a backup made by `keel backup`. Nothing was changed."
        )));
    }
    refuse_if_held(db, "a restore can replace it")?;
    let name = db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "keel.db".into());
    let candidate = folder_of(db).join(format!(".{name}.restoring-{}", std::process::id()));
    remove_candidate(&candidate);
    let checked = copy_exclusive(backup, &candidate).and_then(|()| {
        let schema = header_schema(&candidate).unwrap_or_default();
        // Store::open refuses another program's file or a newer keel's, and brings an older
        // schema up to date (in the copy); then the pages and the audit chain are checked.
        verify(&candidate).map(|rows| (schema, rows))
    });
    let (from_schema, rows) = match checked {
        Ok(x) => x,
        Err(e) => {
            remove_candidate(&candidate);
            return Err(match e {
                StoreError::NotKeel { why, .. } => StoreError::NotKeel { path: shown, why },
                StoreError::Damaged { why, .. } => StoreError::Damaged { path: shown, why },
                StoreError::Newer { found, supported, .. } => StoreError::Newer { path: shown, found, supported },
                e => e,
            });
        }
    };
    let kept = if db.exists() {
        let kept = beside(db, "before-restore", &stamp());
        // A file nobody can read any more (the usual reason to restore) is kept byte for byte.
        let current =
            if super::files::unreadable(db) { keep_unreadable(db, &kept) } else { Store::open(db).and_then(|s| s.backup_to(&kept)) };
        if let Err(e) = current {
            remove_candidate(&candidate);
            return Err(e);
        }
        Some(kept)
    } else {
        None
    };
    // Nobody may have opened it meanwhile; then the old file's -wal/-shm (folded into the copy
    // kept above) go, so that no journal of the old file is ever read with the new one.
    if let Err(e) = refuse_if_held(db, "a restore can replace it") {
        remove_candidate(&candidate);
        return Err(e);
    }
    for suffix in ["-wal", "-shm"] {
        match std::fs::remove_file(format!("{}{suffix}", db.display())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                remove_candidate(&candidate);
                return Err(e.into());
            }
            _ => {}
        }
    }
    // A shared file stays shared: the restored one takes the mode and group the file had.
    if let Ok(meta) = std::fs::metadata(kept.as_ref().map(|_| db).unwrap_or(&candidate)) {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        std::fs::set_permissions(&candidate, std::fs::Permissions::from_mode(meta.mode() & 0o660))?;
        if let Ok(path) = std::ffi::CString::new(candidate.as_os_str().as_encoded_bytes()) {
            // SAFETY: chown(2) reads a NUL-terminated path; uid -1 leaves the owner as it is.
            unsafe { libc::chown(path.as_ptr(), u32::MAX, meta.gid()) };
        }
    }
    std::fs::rename(&candidate, db)?;
    remove_candidate(&candidate);
    if let Ok(d) = std::fs::File::open(folder_of(db)) {
        let _ = d.sync_all();
    }
    Ok(Done { kept, schema: (from_schema, migrations::SCHEMA_VERSION), audit_rows: rows })
}

/// Bring `db` to this keel's schema, keeping the file as it was beside it first. `None` when it
/// is already there.
pub fn migrate(db: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Option<Done>> {
    let (source, from) = identity_of(db)?;
    if from == migrations::SCHEMA_VERSION {
        return Ok(None);
    }
    let kept = beside(db, &format!("before-migrate-v{from}"), &stamp());
    create_whole(&kept, |target| Ok(source.backup_into(target, BUSY_SECS * 200)?))?;
    drop(source);
    // Opening a file this way migrates it all, in one write transaction.
    let store = Store::open_migrating(db, progress)?;
    let rows = store.verify_audit()?.rows;
    Ok(Some(Done { kept: Some(kept), schema: (from, migrations::SCHEMA_VERSION), audit_rows: rows }))
}
