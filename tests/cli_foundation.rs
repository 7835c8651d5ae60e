//! Foundation, end to end through the real binary: the plan round-trips byte for byte, stale
//! edits are refused, the audit log cannot be rewritten, files that are not keel's are left
//! alone, bad input changes nothing, new files are private, and money is exact.

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;

// ---------------------------------------------------------------------------------------------
// Export → import → export

#[test]
fn export_import_export_gives_identical_bytes() {
    let demo = Keel::demo();
    // Edits of several kinds first, so the round trip covers more than the demo as shipped.
    demo.run_as("ravi", &["set", "M-5", "narrative=Zwei Verlängerungen — «geprüft»\nnext line", "risk="]).ok();
    demo.run_as("priya", &["set", "M-1", "actual=8999.99", "comment=late invoice, 50% booked", "--period", WEEK]).ok();
    demo.run_as("fatima", &["gate", "M-17", "request"]).ok();
    demo.run(&["decide", "M-16", "Release the firmware fix before the next shipment", "--owner", "P-9"]).ok();
    demo.run_as("priya", &["milestone", "M-1", "add", "Follow-up survey", "2027-01-29"]).ok();
    let first = demo.export();
    assert!(first.contains("\"format\": \"keel-plan\""), "not a plan:\n{}", &first[..200.min(first.len())]);
    assert!(first.contains("8999.99") && first.contains("«geprüft»"), "the edits are in the export");

    let plan = demo.path("plan.json");
    std::fs::write(&plan, &first).unwrap();
    let fresh = Keel::init();
    fresh.run(&["import", plan.to_str().unwrap()]).ok();
    let second = fresh.export();
    assert!(first == second, "export → import → export differs:\n{}", first_difference(&first, &second));

    // A second import of the same plan into the now-full file is refused and changes nothing.
    let again = fresh.run(&["import", plan.to_str().unwrap()]);
    again.code(65).stderr_has(&["already exists"]);
    assert!(fresh.export() == second, "a refused import changed the file");
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: {x:?} != {y:?}", i + 1);
        }
    }
    format!("lengths {} and {}", a.len(), b.len())
}

// ---------------------------------------------------------------------------------------------
// Optimistic concurrency

fn a_stale_edit_is_refused_naming_who_changed_the_row(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_stale_edit_is_refu") else { return };
    let before = demo.show("M-5");
    let version = before["version"].as_i64().expect("the item's version");
    let week_version = value_row(&before, WEEK)["version"].as_i64().expect("the value row's version");
    assert_eq!((version, week_version), (1, 1), "a fresh demo starts at version 1");

    // Ravi (the owner) changes the narrative; then the PMO admin changes a number of the same
    // measure (another row), so "whoever touched M-5 last" is not who changed the narrative.
    demo.run_as("ravi", &["set", "M-5", "narrative=Ravi's update"]).ok();
    demo.run(&["set", "M-5", "forecast=11700", "--period", "2026-W50"]).ok();
    assert_eq!(demo.show("M-5")["version"], 2, "one edit of the row, one version step");
    let exported = demo.export();

    let stale = demo.run(&["set", "M-5", "narrative=my older edit", "--if-version", &version.to_string()]);
    stale.code(75).stderr_has(&["conflict", "changed by ravi", "version 1", "version 2", "nothing was saved"]);
    assert!(!stale.stderr.contains("changed by tester"), "names the wrong person: {}", stale.stderr);
    assert!(demo.export() == exported, "a refused stale edit changed the file");
    assert_eq!(field(&demo.show("M-5"), "narrative"), "Ravi's update");

    // The same for one period's numbers: the value row has its own version.
    demo.run_as("ravi", &["set", "M-5", "actual=11999", "--period", WEEK]).ok();
    assert_eq!(value_row(&demo.show("M-5"), WEEK)["version"], 2);
    demo.run(&["set", "M-5", "narrative=admin touched the item row"]).ok();
    let exported = demo.export();
    let stale = demo.run(&["set", "M-5", "actual=1", "--period", WEEK, "--if-version", &week_version.to_string()]);
    stale.code(75).stderr_has(&["changed by ravi", &format!("actual@{WEEK}")]);
    assert!(demo.export() == exported, "a refused stale value changed the file");

    // With the current version the edit goes through.
    demo.run(&["set", "M-5", "actual=12001", "--period", WEEK, "--if-version", "2"]).ok().stdout_has(&["saved"]);
    assert_eq!(value_row(&demo.show("M-5"), WEEK)["actual"], "12001");
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[test]
fn the_audit_log_is_append_only_and_tampering_is_found() {
    let demo = Keel::demo();
    demo.run_as("ravi", &["set", "M-5", "narrative=logged"]).ok();
    let rows: i64 = demo.sql().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
    assert!(rows > 10, "the demo has an audit trail ({rows} rows)");

    {
        let c = demo.sql();
        let upd = c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3", []).unwrap_err();
        assert!(upd.to_string().contains("append-only"), "UPDATE: {upd}");
        let del = c.execute("DELETE FROM audit WHERE seq = 3", []).unwrap_err();
        assert!(del.to_string().contains("append-only"), "DELETE: {del}");
    }
    demo.run(&["audit", "verify"]).ok().stdout_has(&["intact", &format!("{rows} rows")]);

    // Someone with the file in hand drops the trigger and rewrites history.
    {
        let c = demo.sql();
        c.execute_batch("DROP TRIGGER audit_no_update").unwrap();
        let n = c.execute("UPDATE audit SET new_value = 'forged' WHERE seq = 7", []).unwrap();
        assert_eq!(n, 1);
    }
    let broken = demo.run(&["audit", "verify"]);
    broken.code(65).stderr_has(&["row 7", "does not match its hash"]);
}

#[test]
fn a_deleted_audit_row_is_found() {
    let demo = Keel::demo();
    {
        let c = demo.sql();
        c.execute_batch("DROP TRIGGER audit_no_delete").unwrap();
        assert_eq!(c.execute("DELETE FROM audit WHERE seq = 12", []).unwrap(), 1);
    }
    demo.run(&["audit", "verify"]).code(65).stderr_has(&["row 12 is missing"]);
}

// ---------------------------------------------------------------------------------------------
// Files that are not (this) keel's

fn siblings(db: &std::path::Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"].iter().map(|s| format!("{}{s}", db.display())).filter(|p| std::path::Path::new(p).exists()).collect()
}

#[test]
fn files_that_are_not_keel_databases_are_refused_untouched() {
    let k = Keel::blank(None);
    let text = k.path("notes.txt");
    std::fs::write(&text, "These are my notes, not a database.\nSecond line.\n").unwrap();
    let empty = k.path("empty.db");
    std::fs::write(&empty, "").unwrap();
    let foreign = k.path("other-app.sqlite");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('Blue in Green');").unwrap();
    }
    let newer = k.path("newer.db");
    run(keel(k.dir.path()), &["--db", newer.to_str().unwrap(), "init"]).ok();
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        // Fold the WAL into the main file so its bytes alone are the database.
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    assert!(siblings(&newer).is_empty(), "setup left {:?}", siblings(&newer));

    let cases: [(&std::path::Path, &[&str]); 4] = [
        (&text, &["not a keel database", "not a SQLite database", "Nothing was changed"]),
        (&empty, &["not a keel database", "empty", "Nothing was changed"]),
        (&foreign, &["not a keel database", "another program", "Nothing was changed"]),
        (&newer, &["newer keel", "schema 99", "Nothing was changed"]),
    ];
    for (file, message) in cases {
        let bytes = std::fs::read(file).unwrap();
        let db = file.to_str().unwrap();
        for args in [
            vec!["--db", db, "show", "M-1"],
            vec!["--db", db, "set", "M-1", "actual=1", "--period", WEEK],
            vec!["--db", db, "check"],
            vec!["--db", db, "export"],
            vec!["--db", db, "audit", "verify"],
        ] {
            let r = run(keel(k.dir.path()), &args);
            r.code(69).stderr_has(message);
            assert!(r.stdout.is_empty(), "{args:?} printed {}", r.stdout);
            assert!(std::fs::read(file).unwrap() == bytes, "{args:?} changed the bytes of {db}");
            assert!(siblings(file).is_empty(), "{args:?} left {:?} beside {db}", siblings(file));
        }
    }
}

#[test]
fn a_missing_file_is_not_created() {
    let k = Keel::blank(None);
    k.run(&["show", "M-1"]).code(66).stderr_has(&["no such file", "keel init"]);
    assert!(!k.db.exists(), "opening a missing file created it");
}

// ---------------------------------------------------------------------------------------------
// Bad input

fn bad_values_are_refused_and_change_nothing(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "bad_values_are_refus") else { return };
    let before = demo.export();
    let week = format!("--period={WEEK}");
    let cases: &[(&[&str], &[&str])] = &[
        (&["set", "M-5", "actual=12,5x", &week], &["M-5 actual", "'12,5x' is not a number"]),
        (&["set", "M-5", "actual=1e400", &week], &["'1e400' is not a number"]),
        (&["set", "M-5", "actual=1.23abc", &week], &["'1.23abc' is not a number"]),
        (&["set", "M-5", "actual=12345678901234567890123456789", &week], &["more than 24 digits"]),
        (&["set", "M-5", "actual=0.123456789", &week], &["more than 8 digits after the decimal point"]),
        (&["set", "M-5", "actual=NaN", &week], &["'NaN' is not a number"]),
        (&["set", "M-5", "actual=1", "--period", "2026-W54"], &["2026-W54", "only 53 ISO weeks"]),
        (&["set", "M-5", "actual=1", "--period", "2026-13"], &["months run from 01 to 12"]),
        (&["set", "M-999", "narrative=x"], &["no item M-999"]),
        (&["set", "M-5", "colour=red"], &["no field 'colour'", "narrative"]),
        (&["set", "M-5", "owner=U-1"], &["U-1", "not a person"]),
        (&["set", "M-5", "cadence=daily"], &["'daily' is not one of", "weekly"]),
        (&["set", "M-5", "title="], &["cannot be empty"]),
        (&["set", "M-5", "narrative"], &["FIELD=VALUE"]),
        (&["set", "X-5", "narrative=x"], &["X-5"]),
        // A valid change together with a bad one: the whole edit is refused.
        (&["set", "M-5", "narrative=half of an edit", "actual=1e400", &week], &["'1e400' is not a number"]),
    ];
    for (args, message) in cases {
        let r = demo.run(args);
        r.code(65).stderr_has(message);
        assert!(r.stdout.is_empty(), "{args:?} printed {}", r.stdout);
    }
    assert!(demo.export() == before, "a refused edit changed the file");
    assert!(!demo.export().contains("half of an edit"));
}

// ---------------------------------------------------------------------------------------------
// New files, identity, help

#[test]
fn init_creates_a_private_file_and_never_overwrites() {
    let k = Keel::blank(None);
    k.run(&["init"]).ok().stdout_has(&["0600"]);
    let mode = std::fs::metadata(&k.db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "new database mode {mode:o}");
    let bytes = std::fs::read(&k.db).unwrap();
    k.run(&["init"]).code(65).stderr_has(&["already exists"]);
    assert!(std::fs::read(&k.db).unwrap() == bytes, "a second init changed the file");

    let demo = Keel::demo();
    let mode = std::fs::metadata(&demo.db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "new demo database mode {mode:o}");
}

/// A small real (non-demo) organisation: an admin (the OS user), an owner and one measure tree.
fn small_plan(values: &[(&str, &str, &str)]) -> String {
    let values: Vec<Value> = values
        .iter()
        .map(|(item, period, actual)| {
            serde_json::json!({"item": item, "period": period, "planned": "0.1", "actual": actual, "by": "olga", "at": "2026-01-04T09:00:00Z"})
        })
        .collect();
    let measure = |key: &str| {
        serde_json::json!({"key": key, "title": format!("Measure {key}"), "package": "MP-1", "owner": "P-2",
            "business_unit": "U-1", "function": "U-2", "potential": "1",
            "stage": "identified", "cadence": "weekly", "value_type": "recurring-benefit"})
    };
    let plan = serde_json::json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "units": [{"key": "U-1", "name": "Operations", "kind": "business-unit"}, {"key": "U-2", "name": "Finance", "kind": "function"}],
        "people": [
            {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
            {"key": "P-2", "name": "Olga Owner", "login": "olga"}
        ],
        "nodes": [
            {"key": "PF-1", "kind": "portfolio", "title": "Portfolio"},
            {"key": "PG-1", "kind": "programme", "title": "Programme", "parent": "PF-1"},
            {"key": "PJ-1", "kind": "project", "title": "Project", "parent": "PG-1"},
            {"key": "MP-1", "kind": "package", "title": "Package", "parent": "PJ-1"}
        ],
        "measures": [measure("M-1"), measure("M-2"), measure("M-3")],
        "values": values,
    });
    serde_json::to_string_pretty(&plan).unwrap()
}

fn real_file(values: &[(&str, &str, &str)]) -> Keel {
    let k = Keel::init();
    let plan = k.path("plan.json");
    std::fs::write(&plan, small_plan(values)).unwrap();
    k.run(&["import", plan.to_str().unwrap()]).ok();
    k
}

#[test]
fn keel_user_is_refused_on_real_data() {
    let k = real_file(&[]);
    let before = k.export();
    k.run(&["whoami"]).ok().stdout_has(&[&format!("login: {}", os_user()), "P-1", "PMO administrator"]);
    for args in [vec!["whoami"], vec!["show", "M-1"], vec!["set", "M-1", "narrative=posing as olga"]] {
        let r = k.run_as("olga", &args);
        r.code(77).stderr_has(&["KEEL_USER is honoured only on demo databases"]);
    }
    assert!(k.export() == before, "a refused KEEL_USER run changed the file");
}

#[test]
fn help_completions_and_man_page() {
    let k = Keel::blank(None);
    let help = run(keel(k.dir.path()), &["--help"]);
    help.ok().stdout_has(&["Exit codes:", "65", "69", "75", "77"]);
    let bash = run(keel(k.dir.path()), &["completions", "bash"]);
    bash.ok().stdout_has(&["_clap_complete_keel()", "complete -o nospace", "COMPLETE=\"bash\""]);
    let zsh = run(keel(k.dir.path()), &["completions", "zsh"]);
    zsh.ok().stdout_has(&["#compdef keel"]);
    let man = run(keel(k.dir.path()), &["man"]);
    man.ok().stdout_has(&[".TH keel", "EXIT STATUS"]);
    run(keel(k.dir.path()), &["--version"]).ok().stdout_has(&["keel "]);
    run(keel(k.dir.path()), &["set", "--no-such-flag"]).code(64);
    run(keel(k.dir.path()), &["frobnicate"]).code(64);
}

// ---------------------------------------------------------------------------------------------
// Exact money

fn funnel_stage<'a>(detail: &'a Value, stage: &str) -> &'a Value {
    detail["funnel"]
        .as_array()
        .expect("a funnel")
        .iter()
        .find(|row| row[0] == stage)
        .map(|row| &row[1])
        .unwrap_or_else(|| panic!("no {stage} row in {}", detail["funnel"]))
}

#[test]
fn money_rolls_up_exactly() {
    let k = real_file(&[("M-1", "2026-W01", "0.1"), ("M-1", "2026-W02", "0.2"), ("M-2", "2026-W01", "12345678901234567.1")]);
    // 0.1 + 0.2 is 0.3 exactly; a binary float would give 0.30000000000000004.
    let pj = k.show("PJ-1");
    assert_eq!(funnel_stage(&pj, "identified")["actual"], "12345678901234567.4");
    k.run(&["set", "M-2", "actual=", "--period", "2026-W01"]).ok();
    for node in ["MP-1", "PJ-1", "PG-1", "PF-1"] {
        let d = k.show(node);
        let row = funnel_stage(&d, "identified");
        assert_eq!(row["actual"], "0.3", "{node} actual: {row}");
        // Planned 0.1 in each of the three periods, forecast lands on the actuals then the plan.
        assert_eq!(row["planned"], "0.3", "{node} planned: {row}");
    }
    // Tenths typed one by one through the write path still add up exactly.
    for (i, week) in ["2026-W03", "2026-W04", "2026-W05", "2026-W06", "2026-W07", "2026-W08", "2026-W09"].iter().enumerate() {
        let m = if i % 2 == 0 { "M-3" } else { "M-1" };
        k.run(&["set", m, "actual=0.1", "--period", week]).ok();
    }
    let pf = k.show("PF-1");
    assert_eq!(funnel_stage(&pf, "identified")["actual"], "1.0");
    assert_eq!(pf["funnel"].as_array().unwrap().len(), 6, "one row per DoI stage");
    let check = k.run(&["check", "--deep", "--format", "json"]);
    assert!(!check.stderr.contains("differs"), "{}", check.stderr);
    let total = check.json()["funnel"].as_array().unwrap().iter().find(|f| f["key"] == "PG-1").unwrap()["total"].clone();
    assert_eq!(total["actual"], "1.0", "{total}");
}

fn demo_rollup_moves_by_the_exact_delta(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "demo_rollup_moves_by") else { return };
    let before = demo.show("PG-1");
    let decided =
        |d: &Value, col: &str| -> rust_decimal::Decimal { funnel_stage(d, "decided")[col].as_str().unwrap().parse().expect("a decimal") };
    // M-9 (decided, in PG-1) had these actuals in the three newest weeks.
    let m9 = demo.show("M-9");
    let old: Vec<rust_decimal::Decimal> =
        [WEEK_2, WEEK_1, WEEK].iter().map(|w| value_row(&m9, w)["actual"].as_str().unwrap().parse().unwrap()).collect();
    for (week, v) in [(WEEK_2, "0.1"), (WEEK_1, "0.2"), (WEEK, "9999.97")] {
        demo.run_as("priya", &["set", "M-9", &format!("actual={v}"), "--period", week]).ok();
    }
    let after = demo.show("PG-1");
    let new: rust_decimal::Decimal = "10000.27".parse().unwrap();
    let expected = decided(&before, "actual") - old.iter().sum::<rust_decimal::Decimal>() + new;
    assert_eq!(decided(&after, "actual"), expected);
    let shown = funnel_stage(&after, "decided")["actual"].as_str().unwrap().to_string();
    assert!(!shown.contains("0000000") && !shown.contains('e'), "not an exact decimal: {shown}");
}

#[test]
fn the_same_amount_written_differently_is_not_a_change() {
    let demo = Keel::demo();
    let audit_rows = |demo: &Keel| -> i64 { demo.sql().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap() };
    demo.run(&["set", "M-5", "actual=22000", "--period", WEEK]).ok();
    let (rows, version) = (audit_rows(&demo), value_row(&demo.show("M-5"), WEEK)["version"].clone());
    // 22000.00 is 22000: no new version, no audit row.
    demo.run(&["set", "M-5", "actual=22000.00", "--period", WEEK]).ok();
    assert_eq!(audit_rows(&demo), rows, "an unchanged amount was logged");
    assert_eq!(value_row(&demo.show("M-5"), WEEK)["version"], version);
    // The same for a number field of the item itself.
    demo.run(&["set", "KR-1", "target=90"]).ok();
    let (rows, version) = (audit_rows(&demo), demo.show("KR-1")["version"].clone());
    demo.run(&["set", "KR-1", "target=90.0"]).ok();
    assert_eq!((audit_rows(&demo), demo.show("KR-1")["version"].clone()), (rows, version));
    // A different amount is still a change.
    demo.run(&["set", "M-5", "actual=22000.01", "--period", WEEK]).ok();
    assert!(audit_rows(&demo) > rows, "a changed amount was not logged");
}

crate::on_both_engines!(
    a_stale_edit_is_refused_naming_who_changed_the_row
    bad_values_are_refused_and_change_nothing
    demo_rollup_moves_by_the_exact_delta
);
