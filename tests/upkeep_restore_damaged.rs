//! `keel restore` when the file in place is the reason for it: a damaged or emptied keel file is
//! replaced (kept byte for byte beside it), two restores in one second keep two files, and the
//! database named as its own backup is refused.

mod common;

use common::*;

fn kept(k: &Keel) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(k.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("keel.db.before-restore-"))
        .collect();
    found.sort();
    found
}

fn backed_up(demo: &Keel) -> String {
    let backup = demo.path("monday.keel");
    demo.run(&["backup", backup.to_str().unwrap()]).ok();
    backup.to_str().unwrap().to_string()
}

#[test]
fn a_damaged_file_is_restored_and_kept_as_it_was() {
    let demo = Keel::demo();
    let backup = backed_up(&demo);
    let plan = demo.export();
    // The file in place cut short, as a full disk or a bad copy leaves it.
    let bytes = std::fs::read(&demo.db).unwrap();
    std::fs::write(&demo.db, &bytes[..20_000]).unwrap();
    demo.run(&["check"]).code(69);
    demo.run(&["restore", &backup]).ok().stdout_has(&["integrity check ok", "kept as"]);
    assert!(demo.export() == plan, "the backup is in place");
    let kept = kept(&demo);
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), bytes[..20_000].to_vec(), "the damaged file is kept byte for byte");
}

#[test]
fn an_emptied_file_is_restored_and_a_second_restore_in_the_same_second_keeps_both() {
    let demo = Keel::demo();
    let backup = backed_up(&demo);
    std::fs::write(&demo.db, b"").unwrap();
    demo.run(&["restore", &backup]).ok();
    demo.run(&["restore", &backup]).ok();
    assert_eq!(kept(&demo).len(), 2, "each restore keeps the file it replaced");
    demo.run(&["audit", "verify"]).ok();
}

#[test]
fn the_database_is_not_its_own_backup() {
    let demo = Keel::demo();
    let db = demo.db.to_str().unwrap().to_string();
    demo.run(&["restore", &db]).code(65).stderr_has(&["is the database itself", "Nothing was changed"]);
    assert!(kept(&demo).is_empty(), "nothing kept, nothing replaced");
}
