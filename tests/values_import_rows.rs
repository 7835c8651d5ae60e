//! The values import applies a file row by row: several numbers of one row are read, written
//! and logged as one change (`values@PERIOD`), one number alone as before (`actual@PERIOD`), and
//! the audit chain still checks every value against the log — also after `--as-of` rewinds one.

mod common;

use common::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn last_entry(k: &Keel, key: &str) -> (String, Option<String>, Option<String>) {
    k.sql()
        .query_row(
            "SELECT field, old_value, new_value FROM audit WHERE item_key = ?1 AND field LIKE '%@%' ORDER BY seq DESC LIMIT 1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// A stored number of `keel show`, plus `by` (at the scale it is stored with).
fn plus(k: &Keel, key: &str, period: &str, field: &str, by: i64) -> String {
    let v = value_row(&k.show(key), period)[field].as_str().unwrap_or_else(|| panic!("{key} {period} {field}")).to_string();
    (Decimal::from_str(&v).unwrap_or_else(|_| panic!("{v} is a number")) + Decimal::from(by)).to_string()
}

#[test]
fn a_row_is_one_change_with_one_audit_entry_and_the_chain_still_checks_its_values() {
    let k = Keel::demo(); // 2026-W48
    let (w, was_p, was_f) = ("2026-W49", plus(&k, "M-1", "2026-W49", "planned", 0), plus(&k, "M-1", "2026-W49", "forecast", 0));
    let (p1, f1) = (plus(&k, "M-1", w, "planned", 500), plus(&k, "M-1", w, "forecast", 400));
    let f5 = plus(&k, "M-5", w, "forecast", 300);
    let (p10, f10) = (plus(&k, "M-10", w, "planned", 10), plus(&k, "M-10", w, "forecast", 20));
    std::fs::write(
        k.path("values.csv"),
        format!(
            "key,period,planned,forecast,actual,comment\n\
             M-1,{w},{p1},{f1},,\n\
             M-5,{w},,{f5},,\n\
             M-10,{w},{p10},{f10},,a comment; with a semicolon\n"
        ),
    )
    .unwrap();
    k.run(&["import", "values.csv"]).ok().stdout_has(&["values.csv: 3 rows; 6 values changed on 3 items"]);

    // Two numbers of one row: one entry holding both.
    assert_eq!(
        last_entry(&k, "M-1"),
        (format!("values@{w}"), Some(format!("planned={was_p};forecast={was_f}")), Some(format!("planned={p1};forecast={f1}")))
    );
    // One number: its own entry, as `keel set` writes it.
    assert_eq!(last_entry(&k, "M-5").0, format!("forecast@{w}"));
    // A comment (free text, which may hold `;`) always has its own entry.
    let comment: String = k
        .sql()
        .query_row("SELECT new_value FROM audit WHERE item_key = 'M-10' AND field = ?1", [format!("comment@{w}")], |r| r.get(0))
        .unwrap();
    assert_eq!(comment, "a comment; with a semicolon");
    let entries: i64 =
        k.sql().query_row("SELECT COUNT(*) FROM audit WHERE field LIKE '%@%' AND reason = 'import values.csv'", [], |r| r.get(0)).unwrap();
    assert_eq!(entries, 4, "one entry per row's numbers and one for the comment, not one per cell");
    k.run(&["audit", "verify"]).ok();

    // A value changed behind keel's back is caught against the row entry.
    k.sql()
        .execute("UPDATE item_values SET forecast = '1' WHERE period = ?1 AND item_id = (SELECT id FROM items WHERE key = 'M-1')", [w])
        .unwrap();
    k.run(&["audit", "verify"]).code(65).stderr_has(&[&format!("logs M-1 forecast@{w} = {f1}"), "the file holds 1"]);
}

#[test]
fn rows_whose_numbers_are_unchanged_ask_for_no_permission() {
    // ravi owns M-5 but not M-1; the file repeats M-1's stored numbers, so only M-5 changes.
    let k = Keel::demo();
    let m1 = value_row(&k.show("M-1"), "2026-W49").clone();
    let (planned, forecast) = (m1["planned"].as_str().unwrap(), m1["forecast"].as_str().unwrap());
    let f5 = plus(&k, "M-5", "2026-W49", "forecast", 300);
    std::fs::write(k.path("mine.csv"), format!("key,period,planned,forecast\nM-1,2026-W49,{planned},{forecast}0\nM-5,2026-W49,,{f5}\n"))
        .unwrap();
    k.run_as("ravi", &["import", "mine.csv"]).ok().stdout_has(&["1 values changed"]);
    assert_eq!(value_row(&k.show("M-5"), "2026-W49")["forecast"], f5.as_str());
    // A change to M-1 in the same file is refused, naming its line, and nothing lands.
    std::fs::write(k.path("theirs.csv"), "key,period,forecast\nM-5,2026-W49,1\nM-1,2026-W49,1\n").unwrap();
    k.run_as("ravi", &["import", "theirs.csv"]).code(77).stderr_has(&["theirs.csv:3: nothing was imported"]);
    assert_eq!(value_row(&k.show("M-5"), "2026-W49")["forecast"], f5.as_str());
}

#[test]
fn the_report_as_of_before_an_import_shows_the_numbers_it_replaced() {
    let mut k = Keel::demo_on(Some("2026-11-18")); // 2026-W47
    let (p1, f1) = (plus(&k, "M-1", "2026-W49", "planned", 500), plus(&k, "M-1", "2026-W49", "forecast", 400));
    std::fs::write(k.path("values.csv"), format!("key,period,planned,forecast\nM-1,2026-W49,{p1},{f1}\n")).unwrap();
    k.today = Some("2026-11-25".into());
    k.run(&["import", "values.csv"]).ok();
    k.today = Some("2026-12-02".into());
    let m1 = |md: &str| md.lines().find(|l| l.starts_with("| M-1 ")).expect("M-1 listed").to_string();
    // Planned, forecast, actual (the statuses before them count days from each report's date).
    let money = |md: &str| m1(md).split(" | ").skip(5).collect::<Vec<_>>().join(" | ");
    let now = k.run(&["report"]).ok().stdout.clone();
    let w47 = k.run(&["report", "--as-of", "2026-W47"]).ok().stdout.clone();
    let w48 = k.run(&["report", "--as-of", "2026-W48"]).ok().stdout.clone();
    assert_eq!(money(&w48), money(&now));
    assert_ne!(money(&w47), money(&now), "the import's 500 more of plan is not in W47's report");
    // The new plan voided the controller's sign-off, and the rules moved M-1 back to Detailed;
    // at the end of W47 it was still Implemented.
    assert!(m1(&now).contains("DoI3 detailed") && m1(&w47).contains("DoI5 implemented"), "{}\n{}", m1(&now), m1(&w47));
    k.run(&["audit", "verify"]).ok();
}
