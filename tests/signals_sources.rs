//! Value sources (issue 20): `keel source set|list|remove` and `keel sync` — a command, a CSV file
//! or an SQL query (SQLite; PostgreSQL when the test server is there) feeds an item's values
//! through the write path as the user who syncs; a failing source (non-zero exit, garbage, a bad
//! row, a hang) changes nothing and opens a "source failed" row; a hand edit needs a reason and
//! shows as an override; commands live only in the user's own configuration.

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A source program printing `body` (a shell script the kernel runs; keel runs no shell).
fn program(k: &Keel, name: &str, body: &str) -> PathBuf {
    let p = k.path(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

fn values(k: &Keel, key: &str) -> Vec<Value> {
    k.show(key)["values"].as_array().unwrap().clone()
}

fn value(k: &Keel, key: &str, period: &str) -> Value {
    values(k, key).into_iter().find(|v| v["period"] == period).unwrap_or(Value::Null)
}

fn escalation(k: &Keel, key: &str) -> String {
    k.show(key)["escalation"]["reason"].as_str().unwrap_or_default().to_string()
}

/// Whether `needle` is anywhere in the shared database: in the file's bytes, or in any row of
/// any table of the test's database on the server.
fn stored_anywhere(k: &Keel, needle: &str) -> bool {
    let Some(server) = &k.server else {
        let bytes = std::fs::read(&k.db).unwrap();
        return bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    };
    let mut c = server.client();
    let tables: Vec<String> = c
        .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.iter().any(|t| t == "item_sources"), "keel's tables are on the server: {tables:?}");
    tables.iter().any(|t| {
        let sql = format!("SELECT COUNT(*) FROM \"{t}\" t WHERE t::text LIKE '%' || $1 || '%'");
        c.query_one(&sql, &[&needle]).unwrap().get::<_, i64>(0) > 0
    })
}

/// K-1 (Jonas Berg's weekly KPI) fed by `program`.
fn fed(k: &Keel, prog: &Path) {
    k.run_as("jonas", &["source", "set", "K-1", "--command", prog.to_str().unwrap(), "--name", "crm"])
        .ok()
        .stdout_has(&["fed by the source 'crm'"]);
}

fn a_command_feeds_values_as_the_user_who_syncs_and_only_when_due(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_command_feeds_values_as_the_user_who_s") else { return };
    let prog = program(&k, "renewals", "printf 'period,actual,forecast\\n2026-W47,84.2,85\\n2026-W48,84.9,\\n'");
    fed(&k, &prog);
    k.run_as("jonas", &["sync", "--dry-run"]).ok().stdout_has(&["would write 3 value(s)"]);
    assert_ne!(value(&k, "K-1", "2026-W48")["actual"], "84.9", "a dry run writes nothing");
    k.run_as("jonas", &["sync"]).ok().stdout_has(&["K-1: 'crm' wrote 3 value(s)"]);
    let w48 = value(&k, "K-1", "2026-W48");
    assert_eq!((w48["actual"].as_str(), w48["source"].as_str(), w48["by"].as_str()), (Some("84.9"), Some("crm"), Some("jonas")));
    assert_eq!(value(&k, "K-1", "2026-W47")["forecast"], "85");
    let log = k.run(&["log", "K-1", "--format", "json"]).ok().json();
    let synced: Vec<&Value> = log.as_array().unwrap().iter().filter(|r| r["reason"] == "sync crm").collect();
    assert!(!synced.is_empty() && synced.iter().all(|r| r["actor"] == "jonas"), "{synced:?}");
    // Run again the same week (cron): not due, nothing runs.
    std::fs::write(&prog, "#!/bin/sh\nexit 9\n").unwrap();
    k.run_as("jonas", &["sync"]).ok().stdout_has(&["'crm' not due"]);
    // Named, it runs whether due or not.
    k.run_as("jonas", &["sync", "K-1"]).code(1);
    let list = k.run(&["source", "list", "--format", "json"]).ok().json();
    assert_eq!(list[0]["key"], "K-1");
    assert_eq!(list[0]["source"], "crm");
    assert!(list[0]["failure"].as_str().unwrap().contains("exit"), "{list}");
}

fn a_source_that_prints_garbage_changes_nothing_and_opens_a_source_failed_row(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_source_that_prints_garbage_changes_not") else { return };
    let prog = program(&k, "garbage", "echo '<html>Service Unavailable</html>'");
    fed(&k, &prog);
    let before = values(&k, "K-1");
    let r = k.run_as("jonas", &["sync"]);
    r.code(1).stderr_has(&["the source 'crm' failed", "nothing changed"]);
    assert_eq!(values(&k, "K-1"), before, "no value changed");
    // A row in the variance list, for the item's owner.
    let rows = k.run(&["escalations", "--format", "json"]).ok().json();
    let row = rows.as_array().unwrap().iter().find(|e| e["key"] == "K-1").expect("K-1 in the variance list");
    assert!(row["reason"].as_str().unwrap().contains("source failed: crm"), "{row}");
    assert_eq!(row["assignee"], "Jonas Berg");
    // A bad row among good ones refuses them all.
    std::fs::write(&prog, "#!/bin/sh\nprintf 'period,actual\\n2026-W47,84\\n2026-W48,eighty\\n'\n").unwrap();
    k.run_as("jonas", &["sync", "K-1"]).code(1).stderr_has(&["row 3: actual"]);
    assert_eq!(values(&k, "K-1"), before);
    // An actual for a period that has not begun is refused by the rules: nothing changes either.
    std::fs::write(&prog, "#!/bin/sh\nprintf 'period,actual\\n2026-W48,84\\n2027-W10,90\\n'\n").unwrap();
    k.run_as("jonas", &["sync", "K-1"]).code(1).stderr_has(&["2027-W10"]);
    assert_eq!(values(&k, "K-1"), before);
    // Fixed, the next sync clears the failure (and its row).
    std::fs::write(&prog, "#!/bin/sh\nprintf 'period,actual\\n2026-W48,85.2\\n'\n").unwrap();
    k.run_as("jonas", &["sync"]).ok();
    assert!(!escalation(&k, "K-1").contains("source failed"), "{}", escalation(&k, "K-1"));
    assert!(k.show("K-1")["signals"]["source"]["failure"].is_null());
}

fn a_source_that_hangs_is_stopped_and_changes_nothing(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_source_that_hangs_is_stopped_and_chang") else { return };
    let prog = program(&k, "hangs", "sleep 300");
    fed(&k, &prog);
    let conf = k.path(".config/keel/sources.toml");
    let text = std::fs::read_to_string(&conf).unwrap().replace("item = \"K-1\"", "item = \"K-1\"\ntimeout = 1");
    std::fs::write(&conf, text).unwrap();
    let before = values(&k, "K-1");
    k.run_as("jonas", &["sync"]).code(1).stderr_has(&["timed out after 1.0 s"]);
    assert_eq!(values(&k, "K-1"), before);
    assert!(escalation(&k, "K-1").contains("source failed: crm: timed out"));
}

#[test]
fn a_sqlite_query_that_never_ends_is_stopped_and_changes_nothing() {
    let k = Keel::demo();
    let db = k.path("endless.sqlite");
    rusqlite::Connection::open(&db).unwrap().execute_batch("CREATE TABLE t (x TEXT);").unwrap();
    // A recursive query without end that never returns a row.
    let q = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT '2026-W48', n FROM r WHERE n < 0";
    k.run_as("kwame", &["source", "set", "K-3", "--sql", db.to_str().unwrap(), "--query", q, "--name", "endless"]).ok();
    let conf = k.path(".config/keel/sources.toml");
    let text = std::fs::read_to_string(&conf).unwrap().replace("item = \"K-3\"", "item = \"K-3\"\ntimeout = 1");
    std::fs::write(&conf, text).unwrap();
    let before = values(&k, "K-3");
    // Run it with a bound of our own, so that a query nothing stops fails the test, not hangs it.
    let mut cmd = k.cmd(Some("kwame"));
    cmd.timeout(std::time::Duration::from_secs(60));
    let r = run(cmd, &["sync", "K-3"]);
    r.code(1).stderr_has(&["endless", "ran longer than 1.0 s"]);
    assert_eq!(values(&k, "K-3"), before);
    assert!(escalation(&k, "K-3").contains("source failed: endless"), "{}", escalation(&k, "K-3"));
}

fn a_hand_edit_of_a_source_fed_value_needs_a_reason_and_stays_an_override(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_hand_edit_of_a_source_fed_value_needs_") else { return };
    let prog = program(&k, "renewals", "printf 'period,actual\\n2026-W48,84.9\\n'");
    fed(&k, &prog);
    k.run_as("jonas", &["sync"]).ok();
    k.run_as("jonas", &["set", "K-1", "actual=83", "--period", "2026-W48"]).code(65).stderr_has(&["fed by the source 'crm'", "--reason"]);
    assert_eq!(value(&k, "K-1", "2026-W48")["actual"], "84.9");
    let r = k.run_as("jonas", &["set", "K-1", "actual=83", "--period", "2026-W48", "--reason", "CRM counted a renewal twice"]);
    r.ok().stdout_has(&["overrides the source 'crm'"]);
    let w48 = value(&k, "K-1", "2026-W48");
    assert_eq!((w48["actual"].as_str(), w48["override_reason"].as_str()), (Some("83"), Some("CRM counted a renewal twice")));
    assert!(w48["source"].is_null());
    k.run(&["show", "K-1"]).ok().stdout_has(&["override: CRM counted a renewal twice"]);
    // The next sync keeps the person's number.
    k.run_as("jonas", &["sync", "K-1"]).ok().stdout_has(&["2026-W48 keeps its hand override"]);
    assert_eq!(value(&k, "K-1", "2026-W48")["actual"], "83");
}

fn a_csv_file_and_a_sqlite_query_feed_items_through_their_mappings(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_csv_file_and_a_sqlite_query_feed_items") else { return };
    let csv = k.path("churn.csv");
    std::fs::write(&csv, "Week,Region,Churn,Outlook\n2026-W47,all,6.05,6\n2026-W48,all,5.95,5.9\n").unwrap();
    k.run_as("amara", &["source", "set", "K-2", "--csv", csv.to_str().unwrap(), "--map", "period=Week,actual=Churn,forecast=Outlook"]).ok();
    let db = k.path("finance.sqlite");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE nrr (week TEXT, value TEXT); INSERT INTO nrr VALUES ('2026-W47', '103.4'), ('2026-W48', '103.9');")
        .unwrap();
    drop(c);
    let q = "SELECT week, value FROM nrr ORDER BY week";
    k.run_as("kwame", &["source", "set", "K-3", "--sql", db.to_str().unwrap(), "--query", q, "--name", "finance-nrr"]).ok();
    k.run_as("amara", &["sync", "K-2"]).ok().stdout_has(&["K-2: 'k-2' wrote 4 value(s)"]);
    assert_eq!(value(&k, "K-2", "2026-W48")["actual"], "5.95");
    assert_eq!(value(&k, "K-2", "2026-W48")["forecast"], "5.9");
    k.run_as("kwame", &["sync", "K-3"]).ok();
    assert_eq!(value(&k, "K-3", "2026-W48")["actual"], "103.9");
    assert_eq!(value(&k, "K-3", "2026-W48")["source"], "finance-nrr");
    // The source's file is opened read-only: a query that writes fails and changes nothing.
    let conf = k.path(".config/keel/sources.toml");
    let text = std::fs::read_to_string(&conf).unwrap().replace(q, "DELETE FROM nrr RETURNING week, value");
    std::fs::write(&conf, text).unwrap();
    k.run_as("kwame", &["sync", "K-3"]).code(1).stderr_has(&["failed"]);
    let c = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(c.query_row("SELECT COUNT(*) FROM nrr", [], |r| r.get::<_, i64>(0)).unwrap(), 2);
}

fn commands_live_only_in_the_users_own_configuration(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "commands_live_only_in_the_users_own_conf") else { return };
    let prog = program(&k, "secret-tool-xyz", "printf 'period,actual\\n2026-W48,84.9\\n'");
    fed(&k, &prog);
    k.run_as("jonas", &["sync"]).ok();
    // A failure is kept without the program's name.
    std::fs::write(&prog, "#!/bin/sh\nexit 3\n").unwrap();
    k.run_as("jonas", &["sync", "K-1"]).code(1).stderr_has(&["secret-tool-xyz"]);
    let failure = k.show("K-1")["signals"]["source"]["failure"].as_str().unwrap().to_string();
    assert!(failure.contains("exit status: 3") && !failure.contains("secret-tool-xyz"), "{failure}");
    // The shared file holds the source's name, never what it runs.
    assert!(stored_anywhere(&k, "exit status: 3"), "the failure is kept in the shared database");
    assert!(!stored_anywhere(&k, "secret-tool-xyz"), "the command is in the shared database");
    let conf = k.path(".config/keel/sources.toml");
    assert_eq!(std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777, 0o600);
    // A source defined by nobody in this user's configuration is skipped, not failed.
    let saved = std::fs::read_to_string(&conf).unwrap();
    std::fs::remove_file(&conf).unwrap();
    k.run_as("jonas", &["sync", "K-1"]).ok().stderr_has(&["the source 'crm' is not defined in your configuration"]);
    std::fs::write(&conf, saved).unwrap();
    // A configuration others may write is not run from.
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o666)).unwrap();
    k.run_as("jonas", &["sync", "K-1"]).code(65).stderr_has(&["writable by group or others"]);
    // A source name is a name, not a command line.
    k.run_as("jonas", &["source", "set", "K-1", "--command", "/bin/true", "--name", "x; rm -rf ~"]).code(65);
    // Removed, the item is fed by hand again.
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    k.run_as("jonas", &["source", "remove", "K-1"]).ok();
    k.run_as("jonas", &["set", "K-1", "actual=80", "--period", "2026-W48"]).ok();
    assert!(!std::fs::read_to_string(&conf).unwrap().contains("secret-tool-xyz"));
}

fn a_postgresql_query_feeds_an_item(engine: Engine) {
    let Some(url) = std::env::var("KEEL_TEST_PG_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: no KEEL_TEST_PG_URL (run `.ci/with-postgres cargo test` to include the server)");
        return;
    };
    let server =
        match keel::location::Location::parse(&url, &keel::store::os_login(), &keel::location::PasswordSources::from_env()).unwrap() {
            keel::location::Location::Server(s) => s,
            keel::location::Location::File(_) => panic!("not a server URL"),
        };
    let mut client = server.config.connect(postgres::NoTls).unwrap();
    // One table per engine's run: both runs of this test share the process and the server.
    let table = format!("keel_src_{}_{}", std::process::id(), if engine == Engine::Sqlite { "sqlite" } else { "postgres" });
    client.batch_execute(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (week TEXT, value NUMERIC); INSERT INTO {table} VALUES ('2026-W48', 103.95)")).unwrap();
    let Some(k) = Keel::demo_on_engine(engine, "a_postgresql_query_feeds_an_item") else { return };
    let q = format!("SELECT week, value FROM {table}");
    k.run_as("kwame", &["source", "set", "K-3", "--sql", &url, "--query", &q]).ok();
    let r = k.run_as("kwame", &["sync"]);
    client.batch_execute(&format!("DROP TABLE {table}")).unwrap();
    r.ok();
    assert_eq!(value(&k, "K-3", "2026-W48")["actual"], "103.95");
}

crate::on_both_engines!(
    a_command_feeds_values_as_the_user_who_syncs_and_only_when_due
    a_source_that_prints_garbage_changes_nothing_and_opens_a_source_failed_row
    a_source_that_hangs_is_stopped_and_changes_nothing
    a_hand_edit_of_a_source_fed_value_needs_a_reason_and_stays_an_override
    a_csv_file_and_a_sqlite_query_feed_items_through_their_mappings
    commands_live_only_in_the_users_own_configuration
    a_postgresql_query_feeds_an_item
);
