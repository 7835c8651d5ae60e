//! keel on a PostgreSQL server through its command line: `keel init` and `keel demo` make the
//! schema in an empty database (and refuse one that is not), and the same plan gives the same
//! `keel check --format json` and `keel export` on a server as in a file. Each test's database is
//! its own (see common::pg); without `KEEL_TEST_PG_URL` the tests say they were skipped.

mod common;

use common::pg::{Database, Engine};
use common::Keel;

fn demo_on_both(test: &str) -> Option<(Keel, Keel)> {
    let server = Keel::demo_on_engine(Engine::Postgres, test)?;
    Some((Keel::demo(), server))
}

#[test]
fn the_demo_round_trip_gives_the_same_check_and_export_on_a_server_as_in_a_file() {
    let Some((file, server)) = demo_on_both("demo_round_trip") else { return };
    // The exit code says how grave the findings are (the demo has steering escalations: 2).
    let check = |k: &Keel| {
        let r = k.run(&["check", "--format", "json"]);
        assert!((0..=2).contains(&r.code), "keel check: {r:?}");
        (r.code, r.stdout)
    };
    assert_eq!(check(&server), check(&file), "keel check --format json differs between the engines");
    let (exported, from_file) = (server.export(), file.export());
    assert!(exported.contains("\"measures\""), "{exported}");
    assert_eq!(exported, from_file, "keel export differs between the engines");
    // A second `keel demo` uses the demo that is there.
    server.run(&["demo", "--no-open"]).ok().stdout_has(&["using the existing demo database"]);
}

#[test]
fn an_exported_plan_imported_into_an_empty_server_database_exports_the_same() {
    let Some((file, _server)) = demo_on_both("plan_import") else { return };
    let Some(target) = Keel::init_on(Engine::Postgres, "plan_import_target") else { return };
    let plan = file.path("plan.json");
    std::fs::write(&plan, file.export()).unwrap();
    target.run(&["import", plan.to_str().unwrap()]).ok();
    assert_eq!(target.export(), file.export());
}

#[test]
fn edits_on_a_server_keep_the_write_paths_guarantees() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "edits") else { return };
    k.run(&["set", "M-1", "actual=1234.50", "--period", common::WEEK]).ok().stdout_has(&["M-1: saved"]);
    let detail = k.show("M-1");
    assert_eq!(common::value_row(&detail, common::WEEK)["actual"], "1234.50", "exact decimals through NUMERIC");
    // A stale version is a conflict (75), and nothing changes.
    let version = detail["version"].as_i64().expect("a version");
    k.run(&["set", "M-1", "title=Renamed", "--if-version", &(version - 1).to_string()]).code(75).stderr_has(&["conflict"]);
    k.run(&["set", "M-1", "title=Renamed", "--if-version", &version.to_string()]).ok();
    assert_eq!(common::field(&k.show("M-1"), "title"), "Renamed");
    // Bad input is refused whole, as on a file.
    k.run(&["set", "M-1", "actual=twelve", "--period", common::WEEK]).code(65);
    k.run(&["audit", "verify"]).ok().stdout_has(&["audit log intact"]);
    k.run(&["log", "M-1", "--format", "json"]).ok();
}

#[test]
fn init_makes_the_schema_only_in_an_empty_database() {
    let Some(k) = Keel::blank_on(Engine::Postgres, "init", None) else { return };
    k.run(&["check"]).code(66).stderr_has(&["no keel database there", "keel init --db"]);
    k.run(&["init"]).ok().stdout_has(&["created keel's schema in"]);
    k.run(&["init"]).code(69).stderr_has(&["holds a keel database already"]);
    k.run(&["whoami"]).ok();

    let Some(other) = Database::new("init_other") else { return };
    other.client().batch_execute("CREATE TABLE invoices (id int)").unwrap();
    let r = common::run(common::keel(k.dir.path()), &["--db", &other.url, "init"]);
    r.code(69).stderr_has(&["not empty"]);
    let r = common::run(common::keel(k.dir.path()), &["--db", &other.url, "check"]);
    r.code(69).stderr_has(&["not a keel database"]);
    let tables: i64 = other.client().query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[]).unwrap().get(0);
    assert_eq!(tables, 1, "nothing was added to another program's database");
}

#[test]
fn init_refuses_a_database_that_sorts_text_by_a_language() {
    let Some(k) = Keel::blank_on(Engine::Postgres, "init_locale", None) else { return };
    // Keys, names and periods sort byte by byte in a file; German rules would list them otherwise.
    k.server.as_ref().unwrap().remake("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de' LOCALE 'C.UTF-8'");
    k.run(&["init"]).code(69).stderr_has(&["sorts text by the locale de (ICU)", "LOCALE 'C.UTF-8'", "Nothing was changed"]);
    k.run(&["check"]).code(66);
}

#[test]
fn a_database_whose_lower_folds_ascii_alone_is_named_by_check_deep() {
    let Some(k) = Keel::blank_on(Engine::Postgres, "ctype_c", None) else { return };
    // Sorting byte by byte is what keel asks; the C locale's lower() leaves É as it is, so search
    // could not fold other alphabets' case as it does in a file.
    k.server.as_ref().unwrap().remake("TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
    k.run(&["init"]).ok();
    k.run(&["check", "--deep"]).stderr_has(&["note: search folds", "ASCII letters only", "LC_CTYPE"]);
}

#[test]
fn commands_that_work_on_files_only_are_refused_by_name_on_a_server() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "file_only") else { return };
    for (args, what) in [
        (&["init", "--force"][..], "keel init --force"),
        (&["demo", "--force", "--no-open"][..], "keel demo --force"),
        (&["report", "--as-of", "2026-W40"][..], "keel report --as-of"),
    ] {
        k.run(args).code(64).stderr_has(&[what, "SQLite files only", "Nothing was changed"]);
    }
    // (`keel backup` works on a server: tests/postgres_copy.rs.)
}

#[test]
fn concurrent_writers_queue_and_none_is_lost_or_refused_as_busy() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "writers") else { return };
    let before = k.run(&["log", "--limit", "0", "--format", "json"]).ok().json().as_array().unwrap().len();
    std::thread::scope(|s| {
        for writer in 1..=4 {
            let k = &k;
            s.spawn(move || {
                for i in 1..=8 {
                    let value = format!("actual={i}.{writer}0");
                    k.run(&["set", &format!("M-{writer}"), &value, "--period", common::WEEK]).ok();
                }
            });
        }
    });
    let log = k.run(&["log", "--limit", "0", "--format", "json"]).ok().json();
    let edits = log.as_array().unwrap()[before..].iter().filter(|r| r["field"] == format!("actual@{}", common::WEEK)).count();
    assert_eq!(edits, 32, "every edit is in the log once");
    for writer in 1..=4 {
        assert_eq!(common::value_row(&k.show(&format!("M-{writer}")), common::WEEK)["actual"], format!("8.{writer}0"));
    }
    k.run(&["audit", "verify"]).ok();
}

#[test]
fn a_writer_kept_waiting_too_long_is_told_busy_and_nothing_is_saved() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "busy") else { return };
    // Another writer holds the row every write queues on, and does not let go.
    let mut holder = k.server.as_ref().unwrap().client();
    let mut other = holder.transaction().unwrap();
    other.query("SELECT data_version FROM keel_writes WHERE id = 1 FOR UPDATE", &[]).unwrap();
    k.run(&["set", "M-1", "title=Never saved"]).code(75).stderr_has(&["busy", "Nothing was saved"]);
    other.rollback().unwrap();
    assert_ne!(common::field(&k.show("M-1"), "title"), "Never saved");
    k.run(&["set", "M-1", "title=Saved once free"]).ok();
}
