//! `keel restore BACKUP` and `keel migrate`: the backup is checked (keel's application id, a
//! schema this keel knows, integrity, the audit chain) before it replaces the file; the file as
//! it was is kept beside it (0600); nothing happens while another keel has the file open.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;

fn forecast(k: &Keel) -> serde_json::Value {
    value_row(&k.show("M-1"), WEEK)["forecast"].clone()
}

/// Files beside the database whose name starts with `prefix`.
fn beside(k: &Keel, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(k.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    found.sort();
    found
}

#[test]
fn a_checked_backup_replaces_the_file_and_the_old_one_is_kept() {
    let demo = Keel::demo();
    let backup = demo.path("monday.keel");
    demo.run(&["backup", backup.to_str().unwrap()]).ok();
    let was = forecast(&demo);
    demo.run(&["set", "M-1", "forecast=1", "--period", WEEK]).ok();
    // A file shared with a group (init --shared) stays shared.
    std::fs::set_permissions(&demo.db, std::fs::Permissions::from_mode(0o660)).unwrap();
    let r = demo.run(&["restore", backup.to_str().unwrap()]);
    r.ok().stdout_has(&["integrity check ok", "audit log intact", "kept as"]);
    assert_eq!(std::fs::metadata(&demo.db).unwrap().permissions().mode() & 0o777, 0o660);
    assert_eq!(forecast(&demo), was, "the backup's value is back");
    demo.run(&["audit", "verify"]).ok();
    let kept = beside(&demo, "keel.db.before-restore-");
    assert_eq!(kept.len(), 1, "the file as it was is kept beside it");
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().permissions().mode() & 0o777, 0o600);
    let old = Keel { dir: tempfile::tempdir().unwrap(), db: kept[0].clone(), today: demo.today.clone(), server: None };
    assert_eq!(forecast(&old), "1", "the kept file holds the edit made before the restore");
    assert!(std::fs::metadata(format!("{}-wal", backup.display())).is_err(), "the backup itself was only read");
}

#[test]
fn a_restore_is_refused_while_another_keel_has_the_file_open() {
    let demo = Keel::demo();
    let backup = demo.path("b.keel");
    demo.run(&["backup", backup.to_str().unwrap()]).ok();
    demo.run(&["set", "M-1", "forecast=1", "--period", WEEK]).ok();
    let before = demo.export();
    // Another process with the file open, as the app keeps it: a reading connection.
    let other = demo.sql();
    let _: i64 = other.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0)).unwrap();
    let r = demo.run(&["restore", backup.to_str().unwrap()]);
    r.code(75).stderr_has(&["has it open", &format!("pid {}", std::process::id()), "Nothing was changed"]);
    assert!(demo.export() == before);
    assert!(beside(&demo, "keel.db.before-restore-").is_empty());
    drop(other);
    demo.run(&["restore", backup.to_str().unwrap()]).ok();
}

#[test]
fn a_bad_backup_is_refused_and_nothing_changes() {
    let demo = Keel::demo();
    let before = demo.export();
    let path = |n: &str| demo.path(n).to_str().unwrap().to_string();
    demo.run(&["restore", &path("missing.keel")]).code(65).stderr_has(&["no such backup file"]);
    std::fs::write(demo.path("text.keel"), "hello").unwrap();
    demo.run(&["restore", &path("text.keel")]).code(69).stderr_has(&["text.keel: not a keel database"]);
    rusqlite::Connection::open(demo.path("other.db")).unwrap().execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    demo.run(&["restore", &path("other.db")]).code(69).stderr_has(&["another program"]);
    // From a newer keel.
    demo.run(&["backup", &path("newer.keel")]).ok();
    rusqlite::Connection::open(demo.path("newer.keel")).unwrap().pragma_update(None, "user_version", 99).unwrap();
    demo.run(&["restore", &path("newer.keel")]).code(69).stderr_has(&["newer keel"]);
    // A backup whose audit chain was tampered with.
    demo.run(&["backup", &path("tampered.keel")]).ok();
    let t = rusqlite::Connection::open(demo.path("tampered.keel")).unwrap();
    t.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET new_value = 'forged' WHERE seq = 3;").unwrap();
    drop(t);
    demo.run(&["restore", &path("tampered.keel")]).code(65).stderr_has(&["audit log"]);
    // A truncated one.
    demo.run(&["backup", &path("cut.keel")]).ok();
    let f = std::fs::OpenOptions::new().write(true).open(demo.path("cut.keel")).unwrap();
    f.set_len(8192).unwrap();
    demo.run(&["restore", &path("cut.keel")]).code(69);
    assert!(demo.export() == before, "a refused restore changed the file");
    assert!(beside(&demo, "keel.db.before-restore-").is_empty());
    assert!(beside(&demo, ".keel.db.restoring").is_empty(), "no copy left behind");
}

/// This keel's schema version.
const NOW: i64 = keel::store::migrations::SCHEMA_VERSION;

/// Make the file look as schema 7 left it (without what 8 to 11 added).
fn downgrade_to_7(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    // Search's index (11) and the kept tables (10) first: their triggers name columns 8 added.
    common::drop_search_index(&c);
    common::drop_kept_tables(&c);
    c.execute_batch(
        "DROP TABLE item_sources; ALTER TABLE item_values DROP COLUMN actual_at; ALTER TABLE item_values DROP COLUMN source;
         ALTER TABLE item_values DROP COLUMN override_reason;
         DROP TABLE change_sets; ALTER TABLE items DROP COLUMN retired_at; ALTER TABLE items DROP COLUMN retired_reason;
         PRAGMA user_version = 7;",
    )
    .unwrap();
}

#[test]
fn migrate_moves_an_old_file_up_after_keeping_a_copy() {
    let demo = Keel::demo();
    downgrade_to_7(&demo.db);
    let r = demo.run(&["migrate"]);
    r.ok().stdout_has(&["migrated", &format!("from schema 7 to {NOW}"), "kept as"]);
    let kept = beside(&demo, "keel.db.before-migrate-v7-");
    assert_eq!(kept.len(), 1);
    let version: i64 = rusqlite::Connection::open(&kept[0]).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 7, "the kept copy is the file as it was");
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().permissions().mode() & 0o777, 0o600);
    let version: i64 = demo.sql().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, NOW);
    demo.run(&["migrate"]).ok().stdout_has(&[&format!("already at schema {NOW}")]);
    demo.run(&["audit", "verify"]).ok();
}

#[test]
fn an_older_backup_is_restored_at_this_keels_schema() {
    let demo = Keel::demo();
    let backup = demo.path("old.keel");
    demo.run(&["backup", backup.to_str().unwrap()]).ok();
    downgrade_to_7(&backup);
    demo.run(&["restore", backup.to_str().unwrap()]).ok().stdout_has(&[&format!("schema {NOW} (migrated from 7)")]);
    let version: i64 = rusqlite::Connection::open(&backup).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 7, "the backup itself is left as it was");
    demo.run(&["list", "all", "--retired"]).ok();
}

#[test]
fn migrate_refuses_what_is_not_an_older_keel_file() {
    let k = Keel::blank(None);
    k.run(&["migrate"]).code(66);
    rusqlite::Connection::open(&k.db).unwrap().execute_batch("CREATE TABLE t (x);").unwrap();
    k.run(&["migrate"]).code(69).stderr_has(&["not a keel"]);
    let demo = Keel::demo();
    demo.sql().pragma_update(None, "user_version", 99).unwrap();
    demo.run(&["migrate"]).code(69).stderr_has(&["newer keel"]);
    assert!(beside(&demo, "keel.db.before-migrate").is_empty(), "nothing was kept, nothing changed");
}

/// On a server, restore is the server's business: refused by name (exit 64), with what to use
/// instead, before anything is touched — even given a good backup.
#[test]
fn restore_is_refused_on_a_server() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "restore_refused_on_server") else { return };
    let file = Keel::demo();
    let backup = file.path("good.keel");
    file.run(&["backup", backup.to_str().unwrap()]).ok();
    let before = k.export();
    k.run(&["restore", backup.to_str().unwrap()]).code(64).stderr_has(&[
        "keel restore works on SQLite files only",
        "pg_restore",
        "Nothing was changed",
    ]);
    // (`keel migrate` on a server builds what opening leaves to it: see tests/search_index.rs.)
    assert!(k.export() == before, "a refused restore changed the database");
    k.run(&["audit", "verify"]).ok();
}
