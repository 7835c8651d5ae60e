//! The keel file on disk: warnings about who else can write it, and setting a file up to be
//! shared by a group of analysts on one host (`keel init --shared GROUP`).
//!
//! SQLite gives a new `-wal` or `-shm` file the permission bits of the database file itself,
//! whatever the umask; its group is the creator's primary group unless the folder is setgid, in
//! which case it is the folder's group. So a shared file needs mode 0660, the group, and a
//! setgid folder of that group that members may write — then whoever opens it first creates
//! `-wal`/`-shm` files that every member can write too.

use super::engine::{Db, FileMode};
use super::{Result, Store, StoreError};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const WORLD_WRITE: u32 = 0o002;
const GROUP_WRITE: u32 = 0o020;
const SETGID: u32 = 0o2000;

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// The folder a database path lives in ("." for a bare file name).
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Warnings about a keel file that others could change: the file, its `-wal`/`-shm` or its
/// folder writable by every user, or a group-shared file whose folder would give new `-wal`/`-shm`
/// files the wrong group.
pub fn warnings(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let shown = path.display();
    for suffix in ["", "-wal", "-shm"] {
        let p = sibling(path, suffix);
        if let Ok(m) = std::fs::metadata(&p) {
            if m.mode() & WORLD_WRITE != 0 {
                out.push(format!(
                    "{} is writable by every user on this machine (mode {:04o}): anyone could change the data, and the audit \
                     chain would only show it afterwards. Fix: chmod o-w {}",
                    p.display(),
                    m.mode() & 0o7777,
                    p.display()
                ));
            }
        }
    }
    let dir = folder_of(path);
    if let Ok(d) = std::fs::metadata(&dir) {
        if d.mode() & WORLD_WRITE != 0 {
            out.push(format!(
                "the folder {} is writable by every user: anyone could replace {shown} or plant -wal/-shm files beside it. \
                 Keep keel files in a folder only you or your group can write",
                dir.display()
            ));
        }
        if let Ok(f) = std::fs::metadata(path) {
            let shared = f.mode() & GROUP_WRITE != 0;
            if shared && (d.mode() & SETGID == 0 || d.gid() != f.gid()) {
                out.push(format!(
                    "{shown} is shared with its group, but its folder {} is not a setgid folder of that group: -wal/-shm files \
                     made by one member may be unwritable for the others. Fix (as the folder's owner): chgrp {} {} && chmod 2770 {}",
                    dir.display(),
                    f.gid(),
                    dir.display(),
                    dir.display()
                ));
            }
        }
    }
    out
}

/// The numeric id of a group given by name or number (through `getent`, so directory-service
/// groups work too, then /etc/group).
pub fn group_id(group: &str) -> Result<u32> {
    let bad = |why: &str| StoreError::Invalid { key: "--shared".into(), field: group.to_string(), why: why.to_string() };
    let name = group.trim();
    if name.is_empty() || name.contains([':', '\n']) {
        return Err(bad("is not a group name"));
    }
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let from_line = |line: &str| -> Option<u32> {
        let mut parts = line.split(':');
        (parts.next()? == name).then_some(())?;
        parts.nth(1)?.trim().parse().ok()
    };
    let getent = std::process::Command::new("getent").args(["group", name]).output().ok();
    if let Some(gid) = getent.as_ref().filter(|o| o.status.success()).and_then(|o| from_line(String::from_utf8_lossy(&o.stdout).trim())) {
        return Ok(gid);
    }
    std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|text| text.lines().find_map(from_line))
        .ok_or_else(|| bad("no such group on this machine (see `getent group`)"))
}

/// The effective user id of this process.
fn my_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// Make `dir` a setgid folder of `gid` that the group may write, if it is not one already. keel
/// changes a folder only when that is plainly safe (see [`why_not_prepare`]); otherwise it says
/// how to prepare one, and creates nothing.
fn prepare_folder(dir: &Path, gid: u32, group: &str, db_name: &str) -> Result<()> {
    let m = std::fs::metadata(dir)?;
    let ready = m.gid() == gid && m.mode() & SETGID != 0 && m.mode() & 0o070 == 0o070;
    if ready {
        return Ok(());
    }
    if let Some(why) = why_not_prepare(dir, &m, db_name) {
        let shown = dir.display();
        return Err(StoreError::Permission(format!(
            "{shown}: keel will not make this a group folder: {why}. A shared keel file needs a folder of its own, of group \
             {group}, that the group may write, with the setgid bit so that -wal/-shm files get the group too. Prepare one \
             (as its owner): mkdir NEWDIR && chgrp {group} NEWDIR && chmod 2770 NEWDIR, then: keel init --shared {group} \
             --db NEWDIR/{db_name}. Nothing was created."
        )));
    }
    std::os::unix::fs::chown(dir, None, Some(gid))?;
    let mode = (m.mode() & 0o7777) | SETGID | 0o070;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Why keel must not turn `dir` into a group folder, if it must not: it is someone else's (root
/// included: owning every folder is no reason to open one), a home folder or one above a home
/// folder, or it holds files other than this database's.
fn why_not_prepare(dir: &Path, m: &std::fs::Metadata, db_name: &str) -> Option<String> {
    if my_uid() != Some(m.uid()) {
        return Some(format!("it belongs to uid {}, not to you", m.uid()));
    }
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let homes: Vec<PathBuf> = super::identity::home_folders().iter().filter_map(|h| std::fs::canonicalize(h).ok()).collect();
    if let Some(home) = home_at_or_below(&real, &homes) {
        return Some(if *home == real {
            "it is a home folder".to_string()
        } else {
            format!("the home folder {} is inside it", home.display())
        });
    }
    let ours = |n: &str| {
        n == db_name
            || ["-wal", "-shm", "-journal"].iter().any(|s| n.strip_suffix(s) == Some(db_name))
            || n.starts_with(&format!(".{db_name}.creating-"))
    };
    let other =
        std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).find(|n| !ours(n));
    other.map(|n| format!("it holds other files ({n})"))
}

/// The first home folder that is `dir` or lies inside it.
fn home_at_or_below<'a>(dir: &Path, homes: &'a [PathBuf]) -> Option<&'a PathBuf> {
    homes.iter().find(|h| h.starts_with(dir))
}

/// Give a file the group and mode 0660 (set explicitly, so the umask does not matter).
fn share_file(path: &Path, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, None, Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(())
}

impl Store {
    /// Create a new keel file shared by `group`: mode 0660, owned by the group, in a setgid folder
    /// of the group (set up here when this user owns the folder), so that the `-wal`/`-shm` files
    /// any member's keel creates later are group-owned and group-writable as well.
    pub fn create_shared(path: &Path, group: &str) -> Result<Store> {
        let gid = group_id(group)?;
        if path.exists() {
            return Err(StoreError::Exists { path: path.display().to_string() });
        }
        let dir = folder_of(path);
        std::fs::create_dir_all(&dir)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "keel.db".into());
        prepare_folder(&dir, gid, group, &name)?;
        let store = Store::create(path, false)?;
        // The connection is open, so -wal and -shm exist now: share them too. Every later one
        // takes the database file's mode from SQLite and the group from the setgid folder.
        for suffix in ["", "-wal", "-shm"] {
            let p = sibling(path, suffix);
            if p.exists() {
                share_file(&p, gid)?;
            }
        }
        Ok(store)
    }

    /// Warnings about who else could change this file (see [`warnings`]); the CLI prints them on
    /// stderr, the terminal app shows them on opening.
    pub fn warnings(&self) -> Vec<String> {
        if super::server::server_url(self.path()).is_some() {
            return Vec::new();
        }
        warnings(self.path())
    }
}

/// Create a database at `path` whole or not at all: `init` builds it in a hidden file beside
/// `path` (mode 0600), which is then hard-linked into place (refusing to replace anything that
/// appeared there meanwhile) and removed. A process killed half-way leaves only the hidden file.
pub(crate) fn create_whole(path: &Path, init: impl FnOnce(&mut Db) -> Result<()>) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = folder_of(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "keel.db".into());
    let temp = dir.join(format!(".{name}.creating-{}", std::process::id()));
    let clean = |p: &Path| {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(sibling(p, suffix));
        }
    };
    // What keels killed half-way through left here (their process is gone) goes now.
    for stale in stale_leftovers(&dir) {
        let _ = std::fs::remove_file(stale);
    }
    clean(&temp);
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
    let result = (|| -> Result<()> {
        let mut conn = Db::open_file(&temp, FileMode::Create)?;
        init(&mut conn)?;
        fold_and_check(&conn)?;
        conn.close()?;
        match std::fs::hard_link(&temp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(StoreError::Exists { path: path.display().to_string() }),
            // A file system without hard links: rename, having checked nothing is in the way.
            Err(_) if !path.exists() => Ok(std::fs::rename(&temp, path)?),
            Err(e) => Err(e.into()),
        }
    })();
    clean(&temp);
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    result
}

/// Fold the WAL into the file and make sure the file is whole before anyone sees it. Closing the
/// connection would fold it too, but does not report a checkpoint that failed (a full disk), and
/// a truncated file would then be linked into place.
fn fold_and_check(conn: &Db) -> Result<()> {
    // (busy, frames in the WAL, frames copied); -1 frames when the file is not in WAL mode.
    let (busy, frames, copied) = conn.checkpoint()?;
    if busy != 0 || frames != copied {
        return Err(StoreError::Io(std::io::Error::other(format!(
            "the new file could not be completed ({copied} of {frames} pages written into it); nothing was created"
        ))));
    }
    if let Some(found) = conn.quick_check()?.first() {
        return Err(StoreError::Io(std::io::Error::other(format!("the new file is damaged ({found}); nothing was created"))));
    }
    Ok(())
}

/// Whether `path` is a keel file nobody can read any more (damaged, truncated, or empty), so
/// that replacing it (`keel init --force`, `keel demo --force`) loses nothing that could be read.
pub fn unreadable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) || matches!(Store::open(path), Err(StoreError::Damaged { .. }))
}

/// Remove a database file and its `-wal`/`-shm` (to replace it).
pub fn remove_with_journals(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        match std::fs::remove_file(sibling(path, suffix)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Files a keel killed while creating a database or a backup left in `dir`: `.NAME.creating-PID`
/// and its `-wal`/`-shm`/`-journal`, whose process no longer runs.
pub fn stale_leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| creator_pid(&e.file_name().to_string_lossy()).is_some_and(|pid| !process_runs(pid)))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The process id in a name `create_whole` gives its temporary files, if it is one.
fn creator_pid(name: &str) -> Option<i32> {
    let (head, tail) = name.strip_prefix('.')?.rsplit_once(".creating-")?;
    if head.is_empty() {
        return None;
    }
    let digits = ["-wal", "-shm", "-journal"].iter().find_map(|s| tail.strip_suffix(s)).unwrap_or(tail);
    digits.parse().ok().filter(|pid| *pid > 0)
}

/// Whether a process runs (or may: one of another user, which we may not signal, counts).
fn process_runs(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// A reader without write access to a WAL file that nobody has open would create its `-wal` and
/// `-shm` files itself, owned by it: every colleague's save then fails until someone deletes
/// them. Such a view is refused (exit 77) with the reason and the fix; when a writer has the file
/// open (its `-shm` is there), viewing reads through it and leaves nothing behind.
pub(crate) fn refuse_blocking_view(path: &Path) -> Result<()> {
    let shm = PathBuf::from(format!("{}-shm", path.display()));
    if shm.exists() {
        return Ok(());
    }
    let folder = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder_c = std::ffi::CString::new(folder.as_os_str().as_encoded_bytes()).map_err(|e| StoreError::Io(e.into()))?;
    // SAFETY: access(2) reads a NUL-terminated path and returns an int; nothing else is touched.
    let may_create = unsafe { libc::access(folder_c.as_ptr(), libc::W_OK) } == 0;
    if !may_create {
        return Ok(());
    }
    Err(StoreError::Permission(format!(
        "{} is read-only for you, and no keel that can write it has it open: viewing it now would leave {}-wal and -shm files owned by you that stop everyone else from saving. Ask its owner for write access (e.g. chmod g+w, same group), or view it while a colleague has keel open on it",
        path.display(),
        path.display()
    )))
}

/// Why a write was refused as "read-only" when the file itself is writable: another user's
/// `-wal`/`-shm` that this user cannot write. Names the files, their owner and the fix.
pub(crate) fn foreign_wal_files(path: &Path) -> Option<String> {
    // SAFETY: geteuid(2) cannot fail and touches nothing.
    let me = unsafe { libc::geteuid() };
    let blocking: Vec<String> = ["-wal", "-shm"]
        .iter()
        .map(|ext| PathBuf::from(format!("{}{ext}", path.display())))
        .filter_map(|f| {
            let m = std::fs::metadata(&f).ok()?;
            let writable = std::fs::OpenOptions::new().write(true).open(&f).is_ok();
            (!writable && m.uid() != me).then(|| format!("{} (owned by uid {})", f.display(), m.uid()))
        })
        .collect();
    (!blocking.is_empty()).then(|| {
        format!(
            "{} cannot be saved: {} belong to someone else and are not writable for you. Ask that person to close keel; when nobody has keel open on it, the owner of the folder may delete them (they hold nothing once every keel is closed)",
            path.display(),
            blocking.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_give_their_creator() {
        assert_eq!(creator_pid(".keel.db.creating-123"), Some(123));
        assert_eq!(creator_pid(".copy.db.creating-77-journal"), Some(77));
        assert_eq!(creator_pid(".a.creating-b.creating-9-wal"), Some(9));
        assert_eq!(creator_pid("keel.db.creating-123"), None);
        assert_eq!(creator_pid(".keel.db.creating-12x"), None);
        assert_eq!(creator_pid(".creating-5"), None);
    }

    #[test]
    fn a_home_folder_and_the_folders_above_it_are_not_prepared() {
        let homes = [PathBuf::from("/home/ann"), PathBuf::from("/srv/users/bob")];
        assert!(home_at_or_below(Path::new("/home/ann"), &homes).is_some());
        assert!(home_at_or_below(Path::new("/home"), &homes).is_some());
        assert!(home_at_or_below(Path::new("/"), &homes).is_some());
        assert!(home_at_or_below(Path::new("/srv"), &homes).is_some());
        assert!(home_at_or_below(Path::new("/home/ann/team"), &homes).is_none());
        assert!(home_at_or_below(Path::new("/home/annex"), &homes).is_none());
        assert!(home_at_or_below(Path::new("/srv/keel"), &homes).is_none());
    }

    #[test]
    fn this_process_runs() {
        assert!(process_runs(std::process::id() as i32));
    }
}
