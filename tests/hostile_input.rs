//! A catalogue of hostile and broken input, through the real binary. Each case gets a clear
//! error naming where the problem is (file:line:column, section and key, or key and field), a
//! refusal exit code, and leaves the database byte for byte as it was.
//!
//! Cases already in cli_foundation.rs (`12,5x`, `1e400`, `1.23abc`, 29 digits, `NaN`, `2026-W54`
//! and `2026-13` typed into `keel set`, unknown fields and keys) are not repeated here.

mod common;

use common::*;
use serde_json::{json, Value};

/// The database file and its WAL, byte for byte.
fn bytes(k: &Keel) -> Vec<Vec<u8>> {
    ["", "-wal"].iter().map(|s| std::fs::read(format!("{}{s}", k.db.display())).unwrap_or_default()).collect()
}

/// Run keel; it must exit `code`, say every fragment on stderr, print nothing on stdout, and
/// leave the file unchanged.
#[track_caller]
fn refused(k: &Keel, args: &[&str], code: i32, fragments: &[&str]) {
    let before = bytes(k);
    let r = k.run(args);
    r.code(code).stderr_has(fragments);
    assert!(r.stdout.is_empty(), "keel {args:?} printed {}", r.stdout);
    assert!(bytes(k) == before, "keel {args:?} was refused but changed the file");
}

// ---------------------------------------------------------------------------------------------
// JSON plans

/// A small valid plan to break in one place at a time.
fn base() -> Value {
    json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "units": [{"key": "U-1", "name": "Operations", "kind": "business-unit"}],
        "people": [
            {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
            {"key": "P-2", "name": "Olga Owner", "login": "olga"}
        ],
        "objectives": [
            {"key": "O-1", "cycle": "C-1", "title": "Grow", "level": "company", "owner": "P-2"},
            {"key": "O-2", "cycle": "C-1", "title": "Grow in the north", "level": "department", "owner": "P-2", "parent": "O-1"},
            {"key": "O-3", "cycle": "C-1", "title": "Grow in the far north", "level": "team", "owner": "P-2", "parent": "O-2"}
        ],
        "key_results": [{"key": "KR-1", "objective": "O-1", "title": "More customers", "kind": "increase-to",
            "baseline": "10", "target": "20", "weight": "1", "owner": "P-2"}],
        "nodes": [
            {"key": "PF-1", "kind": "portfolio", "title": "Portfolio"},
            {"key": "PG-1", "kind": "programme", "title": "Programme", "parent": "PF-1"},
            {"key": "PJ-1", "kind": "project", "title": "Project", "parent": "PG-1"},
            {"key": "MP-1", "kind": "package", "title": "Package", "parent": "PJ-1"}
        ],
        "measures": [{"key": "M-1", "title": "Measure one", "package": "MP-1", "owner": "P-2", "stage": "defined",
            "cadence": "weekly", "value_type": "recurring-benefit", "contributes_to": ["KR-1"],
            "narrative": "Behind plan in the first week: supplier late; catching up by week 3.",
            "milestones": [{"title": "Kick-off", "due": "2026-02-01"}]}],
        "values": [{"item": "M-1", "period": "2026-W01", "planned": "100", "actual": "90", "by": "olga", "at": "2026-01-04T09:00:00Z"}],
    })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// A fresh `keel init` file and the plan file next to it.
fn import_refused(plan: &[u8], fragments: &[&str]) {
    let k = Keel::init();
    let file = k.path("plan.json");
    std::fs::write(&file, plan).unwrap();
    refused(&k, &["import", file.to_str().unwrap()], 65, fragments);
    // Nothing was half-imported: the file is still empty and still takes a good plan.
    assert_eq!(k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM items").as_deref(), Some("0"));
    std::fs::write(&file, pretty(&base())).unwrap();
    k.run(&["import", file.to_str().unwrap()]).ok();
}

/// The base plan with one change made by `edit`.
fn broken(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = base();
    edit(&mut v);
    pretty(&v).into_bytes()
}

fn the_base_plan_imports_also_with_a_bom_and_crlf_line_ends(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "the_base_plan_import") else { return };
    let file = k.path("plan.json");
    let text = format!("\u{feff}{}", pretty(&base()).replace('\n', "\r\n"));
    std::fs::write(&file, text).unwrap();
    k.run(&["import", file.to_str().unwrap()]).ok();
    assert_eq!(k.show("M-1")["title"], "Measure one");
}

#[test]
fn malformed_plan_files_are_refused_naming_the_line_and_column() {
    let good = pretty(&base());
    // Invalid UTF-8 inside a title.
    let mut bad_utf8 = good.clone().into_bytes();
    let at = good.find("Measure one").unwrap();
    bad_utf8[at] = 0xff;
    import_refused(&bad_utf8, &["plan.json", "not UTF-8", &format!("byte {at}")]);
    // Truncated; not JSON at all; empty; a list instead of a plan.
    import_refused(&good.as_bytes()[..good.len() / 2], &["plan.json:", "EOF"]);
    import_refused(b"format = keel-plan\n", &["plan.json:1:"]);
    import_refused(b"", &["plan.json:1:0", "EOF"]);
    import_refused(b"[1, 2, 3]", &["plan.json:1:", "invalid type"]);
    // 100,000 nested arrays: a clear error at the first wrong type, never a stack overflow.
    let deep = format!("{{\"format\": \"keel-plan\", \"version\": 1, \"values\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    import_refused(deep.as_bytes(), &["plan.json:1:", "invalid type"]);
}

#[test]
fn unknown_keys_and_wrong_types_are_refused_where_they_are() {
    let line_of = |text: &[u8], needle: &str| -> String {
        let s = String::from_utf8_lossy(text);
        let n = s.lines().position(|l| l.contains(needle)).expect("needle") + 1;
        format!("plan.json:{n}:")
    };
    let p = broken(|v| v["colour"] = json!("red"));
    import_refused(&p, &["unknown field `colour`", &line_of(&p, "\"colour\"")]);
    let p = broken(|v| v["measures"][0]["budget"] = json!("1000"));
    import_refused(&p, &["unknown field `budget`", &line_of(&p, "\"budget\"")]);
    let p = broken(|v| v["values"][0]["actual"] = json!(12.5));
    import_refused(&p, &["expected a string", &line_of(&p, "12.5")]);
    let p = broken(|v| v["measures"][0]["stage"] = json!("finished"));
    import_refused(&p, &["'finished' is not one of", &line_of(&p, "finished")]);
}

#[test]
fn hostile_numbers_in_a_plan_are_refused_where_they_are() {
    for (bad, message) in [
        ("1e400", "'1e400' is not a number"),
        ("12,5", "'12,5' is not a number"),
        ("1.23abc", "'1.23abc' is not a number"),
        ("12345678901234567890123456789", "more than 24 digits"),
        ("0.123456789", "more than 8 digits after the decimal point"),
        ("NaN", "'NaN' is not a number"),
        ("", "'' is not a number"),
    ] {
        let p = broken(|v| v["values"][0]["actual"] = json!(bad));
        let line = String::from_utf8_lossy(&p).lines().position(|l| l.contains("\"actual\"")).unwrap() + 1;
        import_refused(&p, &[message, &format!("plan.json:{line}:")]);
    }
}

#[test]
fn hostile_periods_and_dates_in_a_plan_are_refused_where_they_are() {
    for (bad, message) in [
        ("2026-W54", "only 53 ISO weeks"),
        ("2025-W53", "only 52 ISO weeks"),
        ("2026-13", "months run from 01 to 12"),
        ("1899-12", "years before 1900"),
        ("2026-W00", "2026-W00"),
        ("2026/11", "2026/11"),
    ] {
        let p = broken(|v| v["values"][0]["period"] = json!(bad));
        import_refused(&p, &["values[0]", message]);
    }
    let p = broken(|v| v["cycles"][0]["start"] = json!("1899-12-31"));
    import_refused(&p, &["cycles[0] (C-1)", "1899-12-31", "before 1900"]);
    let p = broken(|v| v["measures"][0]["milestones"][0]["due"] = json!("1850-06-01"));
    import_refused(&p, &["measures[0] (M-1)", "1850-06-01", "before 1900"]);
    let p = broken(|v| v["cycles"][0]["start"] = json!("2026-02-30"));
    import_refused(&p, &["plan.json:", "input is out of range"]);
}

#[test]
fn cycles_and_dangling_links_in_a_plan_are_refused_naming_the_items() {
    // O-1 → O-3 → O-2 → O-1.
    let p = broken(|v| v["objectives"][0]["parent"] = json!("O-3"));
    import_refused(&p, &["objectives", "loop", "O-1", "O-2", "O-3"]);
    let p = broken(|v| v["objectives"][0]["parent"] = json!("O-1"));
    import_refused(&p, &["objectives", "loop", "O-1"]);
    let p = broken(|v| v["measures"][0]["contributes_to"] = json!(["KR-99"]));
    import_refused(&p, &["measures[0] (M-1)", "KR-99", "does not exist"]);
    let p = broken(|v| v["key_results"][0]["objective"] = json!("O-42"));
    import_refused(&p, &["key_results[0] (KR-1)", "O-42", "does not exist"]);
    let p = broken(|v| v["values"][0]["item"] = json!("M-77"));
    import_refused(&p, &["values[0]", "M-77"]);
    // Values name their item and period; a value row is checked even when its item was already
    // found for an earlier row (the import remembers keys it has found).
    let with_second = |change: fn(&mut serde_json::Value)| {
        broken(move |v| {
            let mut second = v["values"][0].clone();
            change(&mut second);
            v["values"].as_array_mut().unwrap().push(second);
        })
    };
    let p = with_second(|x| x["item"] = json!("P-1"));
    import_refused(&p, &["values[1] (P-1 ", "P-1 is a person, expected a measure or key-result or kpi"]);
    let p = with_second(|_| {});
    import_refused(&p, &["values[1] (", "this item and period appear twice"]);
    let p = with_second(|x| x["at"] = json!("yesterday"));
    import_refused(&p, &["values[1] (", "at 'yesterday' is not an RFC 3339 time"]);
    let p = broken(|v| v["values"][0]["at"] = json!(""));
    import_refused(&p, &["values[0] (", "at '' is not an RFC 3339 time"]);
    let p = with_second(|x| x["period"] = json!("2026-W99"));
    import_refused(&p, &["values[1] (", "2026-W99"]);
    let p = broken(|v| v["measures"][0]["owner"] = json!("U-1"));
    import_refused(&p, &["measures[0] (M-1)", "U-1 is a unit"]);
    let p = broken(|v| v["measures"][0]["package"] = json!("PJ-1"));
    import_refused(&p, &["measures[0] (M-1)", "PJ-1"]);
    let p = broken(|v| v["objectives"][1]["key"] = json!("O-1"));
    import_refused(&p, &["objectives[1] (O-1)", "appears twice"]);
    let p = broken(|v| v["objectives"][1]["key"] = json!("M-9"));
    import_refused(&p, &["objectives[1] (M-9)", "prefix of a measure"]);
    let p = broken(|v| v["measures"][0]["depends_on"] = json!(["M-1"]));
    import_refused(&p, &["measures[0] (M-1)", "cannot depend on itself"]);
}

/// What SQLite's constraints would catch is checked first, so the refusal names the item (exit
/// 65) instead of surfacing a raw constraint failure (exit 70).
#[test]
fn plans_that_break_the_files_constraints_are_refused_naming_the_item() {
    let p = broken(|v| v["people"][1]["login"] = json!(os_user()));
    import_refused(&p, &["people[1] (P-2)", &format!("login '{}' belongs to two people", os_user())]);
    let p = broken(|v| v["cycles"][0]["end"] = json!("2025-12-31"));
    import_refused(&p, &["cycles[0] (C-1)", "start is after end"]);
    let p = broken(|v| v["people"][1]["login"] = json!(""));
    import_refused(&p, &["people[1] (P-2)", "login is empty"]);
    let p = broken(|v| v["people"][1]["login"] = json!("   "));
    import_refused(&p, &["people[1] (P-2)", "login is empty"]);
    let p = broken(|v| {
        let mut second = v["cycles"][0].clone();
        second["key"] = json!("C-2");
        v["cycles"].as_array_mut().unwrap().push(second);
    });
    import_refused(&p, &["cycles[1] (C-2)", "name 'FY26' belongs to two cycles"]);
    // M-1 → M-2 → M-1: `keel depend` refuses this loop, and so does the import.
    let p = broken(|v| {
        let mut second = v["measures"][0].clone();
        second["key"] = json!("M-2");
        second["depends_on"] = json!(["M-1"]);
        v["measures"][0]["depends_on"] = json!(["M-2"]);
        v["measures"].as_array_mut().unwrap().push(second);
    });
    import_refused(&p, &["measures[0] (M-1)", "M-1 → M-2 → M-1", "loop"]);
    // A measure's business unit is a unit of kind business-unit, its function one of kind function.
    let p = broken(|v| {
        v["units"].as_array_mut().unwrap().push(json!({"key": "U-2", "name": "Sales", "kind": "function"}));
        v["measures"][0]["business_unit"] = json!("U-2");
        v["measures"][0]["function"] = json!("U-1");
    });
    import_refused(&p, &["measures[0] (M-1)", "U-2 is a function unit", "U-1 is a business-unit unit"]);
}

#[test]
fn huge_fields_and_terminal_escapes_in_a_plan_are_refused() {
    // A 10 MB narrative: refused like one typed into `keel set` (10,000 characters at most).
    let p = broken(|v| v["measures"][0]["narrative"] = json!("x".repeat(10 * 1024 * 1024)));
    import_refused(&p, &["measures[0] (M-1)", "narrative", "longer than 10,000 characters"]);
    // Escape sequences would be played back on every analyst's terminal by `keel show`.
    let p = broken(|v| v["measures"][0]["title"] = json!("Measure \u{1b}]52;c;cm0gLXJmIH4=\u{7}one"));
    import_refused(&p, &["measures[0] (M-1)", "title", "control characters"]);
    let p = broken(|v| v["people"][1]["name"] = json!("Olga\u{1b}[2J"));
    import_refused(&p, &["people[1] (P-2)", "name", "control characters"]);
    let p = broken(|v| v["values"][0]["comment"] = json!("ok\u{0}hidden"));
    import_refused(&p, &["values[0]", "comment", "control characters"]);
}

// ---------------------------------------------------------------------------------------------
// `keel set` and other commands

fn hostile_numbers_periods_keys_and_text_on_the_command_line(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "hostile_numbers_peri") else { return };
    let week = format!("--period={WEEK}");
    let numbers = ["12,5", "1 000", "１２", "+-1", "0x10", "Infinity", "1_000", "٣"];
    for n in numbers {
        refused(&demo, &["set", "M-5", &format!("actual={n}"), &week], 65, &["M-5 actual", "is not a number"]);
    }
    refused(&demo, &["set", "M-5", "confidence=1.5", &week], 65, &["M-5 confidence", "not between 0 and 1"]);
    for (p, message) in [
        ("1899-W52", "years before 1900"),
        ("10000-01", "2026-W47"),
        ("2026-W00", "2026-W00"),
        ("2026-Q5", "2026-Q5"),
        ("2026-00", "months run from 01 to 12"),
        ("2025-W53", "only 52 ISO weeks"),
        ("W48", "W48"),
        ("2026/11", "2026/11"),
    ] {
        refused(&demo, &["set", "M-5", "actual=1", "--period", p], 65, &["--period", message]);
    }
    for key in ["M-0", "M-99999999999", "M-", "M-5x", "KRA-999", "Ｍ-5"] {
        let r = demo.run(&["set", key, "narrative=x"]);
        r.code(65).stderr_has(&[key]);
    }
    refused(&demo, &["set", "M-5", "narrative=\u{1b}[2Jcleared"], 65, &["M-5 narrative", "control characters"]);
    refused(&demo, &["set", "M-5", &format!("narrative={}", "x".repeat(10_001))], 65, &["M-5 narrative", "longer than 10,000 characters"]);
    refused(&demo, &["set", "C-1", "start=1899-12-31"], 65, &["C-1 start", "before 1900"]);
    refused(&demo, &["set", "C-1", "start=2026-02-30"], 65, &["C-1 start", "not a date"]);
}

fn dates_before_1900_are_refused_everywhere_they_can_be_typed(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "dates_before_1900_ar") else { return };
    refused(&demo, &["milestone", "M-1", "add", "Ancient", "1899-12-31"], 65, &["1899-12-31", "before 1900"]);
    refused(&demo, &["milestone", "M-12", "done", "1", "1776-07-04"], 65, &["1776-07-04", "before 1900"]);
    let id = demo.open_escalation("M-5").expect("the demo's M-5 escalation")["id"].to_string();
    refused(&demo, &["escalation", &id, "snooze", "1899-01-01", "--reason", "later"], 65, &["1899-01-01", "before 1900"]);
    refused(&demo, &["log", "--since", "1066-10-14"], 65, &["1066-10-14", "before 1900"]);
}

#[test]
fn invalid_utf8_on_the_command_line_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    let demo = Keel::demo();
    let before = bytes(&demo);
    let mut cmd = demo.cmd(None);
    cmd.arg("set").arg("M-5").arg(std::ffi::OsStr::from_bytes(b"narrative=caf\xe9"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid UTF-8"));
    assert!(bytes(&demo) == before);
}

// ---------------------------------------------------------------------------------------------
// CSV values files (`keel import values.csv`)

/// Import `content` as `name` into the demo: refused with exit 65, naming the file and every
/// fragment, and the database unchanged.
#[track_caller]
fn csv_refused(demo: &Keel, name: &str, content: &[u8], fragments: &[&str]) {
    let file = demo.path(name);
    std::fs::write(&file, content).unwrap();
    let mut all = vec![name];
    all.extend_from_slice(fragments);
    refused(demo, &["import", file.to_str().unwrap()], 65, &all);
}

fn a_csv_with_a_bom_and_crlf_line_ends_imports(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_csv_with_a_bom_and") else { return };
    let file = demo.path("values.csv");
    std::fs::write(&file, format!("\u{feff}key,period,actual,comment\r\nM-5,{WEEK},12345.5,\"two\r\nlines\"\r\n")).unwrap();
    demo.run(&["import", file.to_str().unwrap()]).ok();
    let row = value_row(&demo.show("M-5"), WEEK).clone();
    assert_eq!((row["actual"].as_str(), row["comment"].as_str()), (Some("12345.5"), Some("two\nlines")));
}

fn broken_csv_files_are_refused_naming_the_line_and_column(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "broken_csv_files_are") else { return };
    let w = WEEK;
    // Wrong columns: unknown, missing, doubled; rows with too many or too few fields.
    csv_refused(&demo, "unknown.csv", format!("key,period,actuals\nM-5,{w},1\n").as_bytes(), &[":1", "actuals", "not a column keel knows"]);
    csv_refused(&demo, "nokey.csv", format!("period,actual\n{w},1\n").as_bytes(), &[":1", "no 'key' column"]);
    csv_refused(&demo, "twice.csv", format!("key,period,actual,actual\nM-5,{w},1,2\n").as_bytes(), &[":1", "actual", "appears twice"]);
    csv_refused(
        &demo,
        "wide.csv",
        format!("key,period,actual\nM-5,{w},1\nM-5,{WEEK_1},1,2\n").as_bytes(),
        &[":3", "has 4 fields but the header has 3"],
    );
    csv_refused(&demo, "narrow.csv", format!("key,period,actual\nM-5,{w}\n").as_bytes(), &[":2", "has 2 fields but the header has 3"]);
    csv_refused(&demo, "empty.csv", b"", &["empty", "header"]);
    // An unbalanced quote swallows the rest of the file into one cell: refused, not guessed at.
    csv_refused(
        &demo,
        "quote.csv",
        format!("key,period,actual\nM-5,{w},\"12\nM-5,{WEEK_1},3\n").as_bytes(),
        &[":2", "actual", "is not a number"],
    );
    // `12,5` unquoted is two fields; quoted it is not a number.
    csv_refused(&demo, "comma.csv", format!("key,period,actual\nM-5,{w},12,5\n").as_bytes(), &[":2", "has 4 fields"]);
    csv_refused(
        &demo,
        "quoted.csv",
        format!("key,period,actual\nM-5,{w},\"12,5\"\n").as_bytes(),
        &[":2", "actual", "'12,5' is not a number"],
    );
    // Invalid UTF-8 (a Latin-1 export): refused with the line, not read as mojibake.
    let mut latin1 = format!("key,period,comment\nM-5,{w},ok\nM-5,{WEEK_1},caf").into_bytes();
    latin1.extend_from_slice(b"\xe9\n");
    csv_refused(&demo, "latin1.csv", &latin1, &[":3", "not UTF-8"]);
}

fn hostile_cells_in_a_csv_are_refused_briefly_and_harmlessly(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "hostile_cells_in_a_c") else { return };
    let w = WEEK;
    for (bad, message) in [
        ("1e400", "'1e400' is not a number"),
        ("1.23abc", "'1.23abc' is not a number"),
        ("12345678901234567890123456789", "more than 24 digits"),
        ("NaN", "'NaN' is not a number"),
    ] {
        csv_refused(&demo, "n.csv", format!("key,period,actual\nM-5,{w},{bad}\n").as_bytes(), &[":2", "actual", message]);
    }
    for (bad, message) in [("2026-W54", "only 53 ISO weeks"), ("2026-13", "months run from 01 to 12"), ("1899-W01", "before 1900")] {
        csv_refused(&demo, "p.csv", format!("key,period,actual\nM-5,{bad},1\n").as_bytes(), &[":2", "period", message]);
    }
    csv_refused(&demo, "k.csv", format!("key,period,actual\nM-999,{w},1\n").as_bytes(), &[":2", "M-999"]);
    csv_refused(&demo, "d.csv", format!("key,period,actual\nM-5,{w},1\nM-5,{w},2\n").as_bytes(), &[":3", "already set on line 2"]);
    // A 10 MB cell: refused, and the message does not repeat it (a terminal full of digits).
    let file = demo.path("huge.csv");
    std::fs::write(&file, format!("key,period,actual,comment\nM-5,{w},{},\"{}\"\n", "9".repeat(10 << 20), "x".repeat(10 << 20))).unwrap();
    let before = bytes(&demo);
    let r = demo.run(&["import", file.to_str().unwrap()]);
    r.code(65).stderr_has(&["huge.csv", ":2", "more than 24 digits", "longer than 10,000 characters"]);
    assert!(r.stderr.len() < 2_000, "the error repeats the 10 MB cells ({} bytes)", r.stderr.len());
    assert!(bytes(&demo) == before);
    // Terminal escapes in a cell: refused, and shown escaped rather than played.
    csv_refused(
        &demo,
        "esc.csv",
        format!("key,period,actual,comment\nM-5,{w},\u{1b}[2J,\"\u{1b}]0;owned\u{7}\"\n").as_bytes(),
        &[":2", "comment", "control characters"],
    );
    let r = demo.run(&["import", demo.path("esc.csv").to_str().unwrap()]);
    assert!(!r.stderr.contains('\u{1b}'), "an escape sequence reached the terminal: {:?}", r.stderr);
    // The same in a header, and a header name of 1 MB: named briefly, escaped.
    let header = format!("key,period,\u{1b}]0;owned\u{7},{}\nM-5,{w},1,2\n", "c".repeat(1 << 20));
    csv_refused(&demo, "head.csv", header.as_bytes(), &[":1", "not a column keel knows"]);
    let r = demo.run(&["import", demo.path("head.csv").to_str().unwrap()]);
    assert!(!r.stderr.contains('\u{1b}') && r.stderr.len() < 2_000, "{:?}", &r.stderr[..r.stderr.len().min(300)]);
}

crate::on_both_engines!(
    the_base_plan_imports_also_with_a_bom_and_crlf_line_ends
    hostile_numbers_periods_keys_and_text_on_the_command_line
    dates_before_1900_are_refused_everywhere_they_can_be_typed
    a_csv_with_a_bom_and_crlf_line_ends_imports
    broken_csv_files_are_refused_naming_the_line_and_column
    hostile_cells_in_a_csv_are_refused_briefly_and_harmlessly
);
