//! Read-only viewers on a shared host: a colleague without write access who views a file must
//! leave nothing behind that blocks the writers, and a save that someone else's `-shm` blocks
//! names the files and the fix. These run keel as other uids (setpriv), which needs root; CI
//! runs as root. Elsewhere they say why they did not run and pass.

mod common;

use common::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A keel file whose PMO administrators are the real login and `nobody`, in a folder every uid
/// may write, with a copy of keel every uid may run; the file's mode is `mode`.
fn shared(mode: u32) -> (Keel, PathBuf) {
    let k = Keel::init();
    let plan = k.path("plan.json");
    let people = json!({"format": "keel-plan", "version": 1, "people": [
        {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
        {"key": "P-2", "name": "Nobody Admin", "login": "nobody", "pmo_admin": true}]});
    std::fs::write(&plan, people.to_string()).unwrap();
    k.run(&["import", plan.to_str().unwrap()]).ok();
    let binary = k.path("keel-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_keel"), &binary).unwrap();
    for (p, m) in [(k.dir.path(), 0o777), (binary.as_path(), 0o755), (k.db.as_path(), mode)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    (k, binary)
}

fn as_nobody(k: &Keel, binary: &Path, args: &[&str]) -> Run {
    let mut cmd = assert_cmd::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(binary)
        .arg("--db")
        .arg(&k.db)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", k.dir.path())
        .current_dir(k.dir.path());
    run(cmd, args)
}

fn side_files(k: &Keel) -> Vec<String> {
    ["-wal", "-shm"].iter().map(|e| format!("{}{e}", k.db.display())).filter(|f| Path::new(f).exists()).collect()
}

#[test]
fn a_viewer_without_write_access_leaves_nothing_that_blocks_writers() {
    if !is_root() {
        println!("skipped: acting as another uid needs root (setpriv); CI runs as root");
        return;
    }
    let (k, binary) = shared(0o644);
    assert!(side_files(&k).is_empty(), "no keel has the file open: {:?}", side_files(&k));
    let r = as_nobody(&k, &binary, &["show", "P-1"]);
    r.code(77).stderr_has(&["read-only for you", "-shm", "write access"]);
    assert!(side_files(&k).is_empty(), "the refused viewer left {:?}", side_files(&k));
    // The writer is not blocked.
    k.run(&["set", "P-1", "name=Still Writable"]).ok();
}

#[test]
fn a_save_blocked_by_someone_elses_shm_names_the_files_and_the_fix() {
    if !is_root() {
        println!("skipped: acting as another uid needs root (setpriv); CI runs as root");
        return;
    }
    let (k, binary) = shared(0o666);
    // Left behind by another uid's read-only view (as older keels did): owned by 4242, 0644.
    for ext in ["-wal", "-shm"] {
        let f = format!("{}{ext}", k.db.display());
        std::fs::write(&f, b"").unwrap();
        std::os::unix::fs::chown(&f, Some(4242), Some(4242)).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let r = as_nobody(&k, &binary, &["set", "P-1", "name=Blocked"]);
    r.code(77).stderr_has(&["-shm", "uid 4242", "close keel"]);
}
