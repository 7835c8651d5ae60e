//! `keel init --shared GROUP` changes a folder only when that is plainly safe: the caller owns it
//! (root included), it is not a home folder, and it holds nothing but this database's files.
//! Otherwise it says how to prepare one and creates nothing. (Home folders: a unit test in
//! store/files.rs, as changing a real one here would be the damage itself.)

mod common;

use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn primary_group() -> String {
    let out = std::process::Command::new("id").arg("-gn").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// mode and group of a folder, to show it was left as it was.
fn state(p: &std::path::Path) -> (u32, u32) {
    let m = std::fs::metadata(p).unwrap();
    (m.mode() & 0o7777, m.gid())
}

#[test]
fn a_folder_holding_other_files_is_left_alone() {
    let k = Keel::blank(None);
    let folder = k.path("projects");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(folder.join("salaries.ods"), "private").unwrap();
    let before = state(&folder);
    let db = folder.join("keel.db");
    run(keel(k.dir.path()), &["--db", db.to_str().unwrap(), "init", "--shared", &primary_group()]).code(77).stderr_has(&[
        "holds other files (salaries.ods)",
        "chmod 2770 NEWDIR",
        "Nothing was created",
    ]);
    assert_eq!(state(&folder), before);
    assert!(!db.exists());
}

#[test]
fn a_folder_of_another_user_is_left_alone_even_by_root() {
    let k = Keel::blank(None);
    let folder = k.path("theirs");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    if std::os::unix::fs::chown(&folder, Some(4242), None).is_err() {
        println!("skipped: giving a folder to another uid needs root; CI runs as root");
        return;
    }
    let before = state(&folder);
    let db = folder.join("keel.db");
    run(keel(k.dir.path()), &["--db", db.to_str().unwrap(), "init", "--shared", &primary_group()])
        .code(77)
        .stderr_has(&["belongs to uid 4242", "Nothing was created"]);
    assert_eq!(state(&folder), before);
    assert!(!db.exists());
}
