//! `keel init` and `keel demo` on a nearly full disk: a file is linked into place only whole;
//! whatever was left, `--force` (or a retry) makes a good one once there is room again.

mod common;

use common::*;

/// Files beside the database that are not it or its own -wal/-shm.
fn leftovers(fs: &Tmpfs) -> Vec<String> {
    fs.names().into_iter().filter(|n| !["keel.db", "keel.db-wal", "keel.db-shm"].contains(&n.as_str())).collect()
}

#[test]
fn init_on_a_nearly_full_disk_links_a_whole_file_or_nothing() {
    let Some(fs) = Tmpfs::mount() else { return };
    let db = fs.path("keel.db");
    let db_s = db.to_str().unwrap();
    // Every amount of room from too little for anything to plenty: one of them used to run out
    // while the WAL was folded in, and the truncated file was linked into place.
    for leave_kib in (100..=500).step_by(20) {
        let _ = std::fs::remove_file(&db);
        fs.fill(leave_kib * 1024);
        let r = run(keel(fs.dir.path()), &["--db", db_s, "init"]);
        std::fs::remove_file(fs.path("filler")).unwrap();
        assert!(leftovers(&fs).is_empty(), "room {leave_kib} KiB: left behind {:?}", leftovers(&fs));
        if r.code == 0 {
            run(keel(fs.dir.path()), &["--db", db_s, "check", "--deep"]).ok();
        } else {
            r.code(70);
            assert!(!db.exists(), "room {leave_kib} KiB: init failed ({}) but left a file", r.stderr.trim());
        }
    }
}

#[test]
fn demo_on_a_nearly_full_disk_can_be_made_again_with_force() {
    let Some(fs) = Tmpfs::mount() else { return };
    let db = fs.path("keel.db");
    let db_s = db.to_str().unwrap();
    for leave_kib in (200..=900).step_by(50) {
        fs.fill(leave_kib * 1024);
        let r = run(keel(fs.dir.path()), &["--db", db_s, "demo", "--no-open", "--force"]);
        std::fs::remove_file(fs.path("filler")).unwrap();
        assert!(leftovers(&fs).is_empty(), "room {leave_kib} KiB: left behind {:?}", leftovers(&fs));
        if r.code != 0 {
            r.code(70);
            // Room again: the demo is made whatever the failure left at the path.
            let again = run(keel(fs.dir.path()), &["--db", db_s, "demo", "--no-open", "--force"]);
            again.ok();
        }
        let check = run(keel(fs.dir.path()), &["--db", db_s, "check", "--deep"]);
        assert!([0, 1, 2].contains(&check.code), "room {leave_kib} KiB: {}", check.stderr);
    }
}

#[test]
fn init_force_replaces_a_damaged_file_and_nothing_else() {
    let k = Keel::init();
    let good = std::fs::read(&k.db).unwrap();
    // A readable keel file is never replaced.
    k.run(&["init", "--force"]).code(65).stderr_has(&["already exists", "damaged"]);
    assert_eq!(std::fs::read(&k.db).unwrap(), good);
    // A file that is not keel's is never replaced either.
    std::fs::write(&k.db, "my notes").unwrap();
    k.run(&["init", "--force"]).code(65);
    assert_eq!(std::fs::read_to_string(&k.db).unwrap(), "my notes");
    // A truncated keel file is.
    std::fs::write(&k.db, &good[..good.len() / 2]).unwrap();
    k.run(&["init"]).code(65).stderr_has(&["already exists"]);
    k.run(&["init", "--force"]).ok();
    k.run(&["check", "--deep"]).ok();
}
