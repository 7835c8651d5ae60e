//! `keel copy` between a file and a PostgreSQL server, and `keel backup` from a server: the whole
//! database (history and the audit chain with its hashes included) arrives, so the audit verifies
//! on the copy and `keel export` and `keel check` say the same of it; a destination that holds
//! anything is refused, untouched. Without `KEEL_TEST_PG_URL` the tests say they were skipped.

mod common;

use common::pg::Database;
use common::Keel;
use std::path::PathBuf;

/// The demo in a file, with an edit on top (a decimal whose trailing zero must survive).
fn edited_demo() -> Keel {
    let file = Keel::demo();
    file.run(&["set", "M-1", "actual=1234.50", "--period", common::WEEK]).ok();
    file
}

/// A keel for a database that a copy made (the same date as the demo it came from).
fn copied(from: &Keel, db: PathBuf, server: Option<Database>) -> Keel {
    Keel { dir: tempfile::tempdir().unwrap(), db, today: from.today.clone(), server }
}

fn copy(k: &Keel, src: &str, dest: &str) -> common::Run {
    common::run(common::keel(k.dir.path()), &["copy", src, dest])
}

fn check(k: &Keel) -> (i32, String) {
    let r = k.run(&["check", "--format", "json"]);
    assert!((0..=2).contains(&r.code), "keel check: {r:?}");
    (r.code, r.stdout)
}

/// The whole audit log, once its hash chain has verified.
fn audit_rows(k: &Keel) -> String {
    k.run(&["audit", "verify"]).ok().stdout_has(&["audit log intact"]);
    let log = k.run(&["log", "--limit", "0", "--format", "json"]);
    log.ok();
    assert!(log.json().as_array().is_some_and(|rows| rows.len() > 10), "an audit log with the demo's history: {log:?}");
    log.stdout.clone()
}

#[test]
fn a_file_copied_to_a_server_and_back_is_the_same_database() {
    let Some(db) = Database::new("copy_round_trip") else { return };
    let file = edited_demo();
    let url = db.url.clone();
    copy(&file, file.db.to_str().unwrap(), &url).ok().stdout_has(&["copied", "audit rows with their hashes"]);
    let server = copied(&file, PathBuf::from(&url), Some(db));
    let back = file.path("back.keel");
    copy(&file, &url, back.to_str().unwrap()).ok();
    let back = copied(&file, back, None);

    for k in [&server, &back] {
        assert_eq!(k.export(), file.export(), "keel export of {} differs from the original", k.db.display());
        assert_eq!(check(k), check(&file), "keel check of {} differs from the original", k.db.display());
        assert_eq!(audit_rows(k), audit_rows(&file), "the audit chain of {} is whole", k.db.display());
    }
    assert_eq!(common::value_row(&server.show("M-1"), common::WEEK)["actual"], "1234.50");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&back.db).unwrap().permissions().mode() & 0o777, 0o600, "the new file is its owner's only");

    // The copy on the server goes on as a database of its own: new rows get new ids. On a
    // server the actor is the session's role: the file's administrator (its OS login) connects.
    let admin = common::os_user();
    server.run_as(admin, &["decide", "M-1", "Keep going"]).ok();
    server.run_as(admin, &["set", "M-2", "actual=10", "--period", common::WEEK]).ok();
    server.run(&["audit", "verify"]).ok().stdout_has(&["audit log intact"]);
}

#[test]
fn a_database_on_a_server_is_backed_up_into_a_portable_file() {
    let Some(server) = Keel::demo_on_engine(common::pg::Engine::Postgres, "backup_from_server") else { return };
    let out = server.path("backup.keel");
    server.run(&["backup", out.to_str().unwrap()]).ok().stdout_has(&["copied"]);
    let file = copied(&server, out.clone(), None);
    assert_eq!(file.export(), server.export());
    assert_eq!(audit_rows(&file), audit_rows(&server));
    // Never over a file that is there.
    server.run(&["backup", out.to_str().unwrap()]).code(69).stderr_has(&["a file is there already", "Nothing was changed"]);
}

#[test]
fn a_copy_into_a_database_made_by_keel_init_with_no_data_is_allowed() {
    let Some(target) = Keel::init_on(common::pg::Engine::Postgres, "copy_into_init") else { return };
    let file = edited_demo();
    copy(&file, file.db.to_str().unwrap(), target.db.to_str().unwrap()).ok();
    let server = copied(&file, target.db.clone(), None);
    assert_eq!(server.export(), file.export());
}

#[test]
fn a_destination_that_holds_anything_is_refused_untouched() {
    let Some(server) = Keel::demo_on_engine(common::pg::Engine::Postgres, "copy_refusals") else { return };
    let file = edited_demo();
    let (src, url) = (file.db.to_str().unwrap().to_string(), server.db.to_str().unwrap().to_string());
    let before = (server.export(), audit_rows(&server));

    // A server database with data.
    copy(&file, &src, &url).code(69).stderr_has(&["holds a keel database with data already", "Nothing was changed"]);
    assert_eq!((server.export(), audit_rows(&server)), before, "the server database is as it was");

    // A file that is there.
    let taken = file.path("taken.keel");
    std::fs::write(&taken, b"mine").unwrap();
    copy(&file, &url, taken.to_str().unwrap()).code(69).stderr_has(&["a file is there already"]);
    assert_eq!(std::fs::read(&taken).unwrap(), b"mine");

    // Another program's database.
    let Some(other) = Database::new("copy_refusals_other") else { return };
    other.client().batch_execute("CREATE TABLE invoices (id BIGINT)").unwrap();
    copy(&file, &src, &other.url).code(69).stderr_has(&["not empty"]);

    // The same database twice, and a source that is not there.
    copy(&file, &src, &src).code(69).stderr_has(&["the same"]);
    copy(&file, file.path("none.keel").to_str().unwrap(), file.path("new.keel").to_str().unwrap()).code(66);
    assert!(!file.path("new.keel").exists());
}
