//! One text rule on every path (issue 12, hole 13): every verb that stores free text refuses
//! control characters and terminal escapes (exit 65, file unchanged); both imports refuse them
//! and a confidence outside 0–1; text limits count characters; and whatever is already stored
//! is printed escaped by show, log, check, escalations and the reports.

mod common;

use common::*;
use serde_json::json;

/// Sets the terminal's title and clears the screen when played.
const ESCAPE: &str = "fine\u{1b}]0;pwned\u{7}\u{1b}[2J";

fn bytes(k: &Keel) -> Vec<Vec<u8>> {
    ["", "-wal"].iter().map(|s| std::fs::read(format!("{}{s}", k.db.display())).unwrap_or_default()).collect()
}

#[track_caller]
fn refused(k: &Keel, args: &[&str], fragments: &[&str]) {
    let before = bytes(k);
    let r = k.run(args);
    r.code(65).stderr_has(fragments).stderr_has(&["contains control characters"]);
    assert!(bytes(k) == before, "keel {args:?} was refused but changed the file");
}

fn every_verb_that_stores_text_refuses_terminal_escapes(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "every_verb_that_stor") else { return };
    let esc = k.escalations()[0]["id"].to_string();
    refused(&k, &["set", "M-1", &format!("comment={ESCAPE}"), "--period", WEEK], &["M-1 comment"]);
    refused(&k, &["set", "M-1", "forecast=5", "--period", WEEK, "--reason", ESCAPE], &["--reason reason"]);
    refused(&k, &["milestone", "M-1", "add", ESCAPE, "2026-12-20"], &["M-1 milestone title"]);
    refused(&k, &["decide", "M-1", ESCAPE], &["M-1 decision"]);
    refused(&k, &["gate", "M-1", "hold", "--reason", ESCAPE], &["M-1 reason"]);
    refused(&k, &["escalation", &esc, "decide", ESCAPE], &["decision"]);
    refused(&k, &["escalation", &esc, "resolve", ESCAPE], &["resolution"]);
    refused(&k, &["escalation", &esc, "snooze", "2026-12-01", "--reason", ESCAPE], &["reason"]);
    refused(&k, &["set", "M-1", "narrative=a\u{9b}2J"], &["M-1 narrative"]);
    // Newlines and tabs are text.
    k.run(&["decide", "M-1", "first line\nsecond\tline"]).ok();
}

fn text_limits_count_characters_not_bytes(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "text_limits_count_ch") else { return };
    let title = "é".repeat(10_000);
    k.run(&["set", "M-1", &format!("title={title}")]).ok();
    k.run(&["set", "M-1", &format!("title={title}é")]).code(65).stderr_has(&["longer than 10,000 characters"]);
}

#[test]
fn both_imports_refuse_escapes_and_a_confidence_outside_0_to_1() {
    let k = Keel::demo();
    let csv = k.path("values.csv");
    std::fs::write(&csv, format!("key,period,comment\nM-1,{WEEK},\"{ESCAPE}\"\n")).unwrap();
    refused(&k, &["import", csv.to_str().unwrap()], &["values.csv:2: column comment"]);

    let plan = |value: serde_json::Value, kr_confidence: &str| {
        json!({
            "format": "keel-plan", "version": 1,
            "cycles": [{"key": "C-1", "name": "FY27", "start": "2027-01-01", "end": "2027-12-31"}],
            "people": [{"key": "P-1", "name": "Admin", "login": os_user(), "pmo_admin": true}],
            "objectives": [{"key": "O-1", "cycle": "C-1", "title": "Grow", "level": "company", "owner": "P-1"}],
            "key_results": [{"key": "KR-1", "objective": "O-1", "title": "More", "kind": "increase-to",
                "baseline": "10", "target": "20", "weight": "1", "owner": "P-1", "confidence": kr_confidence}],
            "values": [value],
        })
    };
    let value = |extra: serde_json::Value| {
        let mut v = json!({"item": "KR-1", "period": "2027-W02", "actual": "12", "by": "olga", "at": "2027-01-11T09:00:00Z"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let cases = [
        (plan(value(json!({"comment": ESCAPE})), "0.5"), "values[0] (KR-1 2027-W02): comment: contains control characters"),
        (plan(value(json!({"confidence": "1.5"})), "0.5"), "values[0] (KR-1 2027-W02): confidence: 1.5 is not between 0 and 1"),
        (plan(value(json!({})), "-0.1"), "key_results[0] (KR-1): confidence: -0.1 is not between 0 and 1"),
    ];
    for (p, fragment) in cases {
        let k = Keel::init();
        let file = k.path("plan.json");
        std::fs::write(&file, serde_json::to_string(&p).unwrap()).unwrap();
        let r = k.run(&["import", file.to_str().unwrap()]);
        r.code(65).stderr_has(&[fragment]);
        assert_eq!(k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM items").as_deref(), Some("0"));
    }
}

#[test]
fn text_already_stored_is_printed_escaped_everywhere() {
    let k = Keel::demo();
    let id = k.escalations()[0]["id"].as_i64().unwrap();
    let key = k.escalations()[0]["key"].as_str().unwrap().to_string();
    let c = k.sql();
    c.execute("UPDATE item_values SET comment = ?1 WHERE item_id = (SELECT id FROM items WHERE key = 'M-1')", [ESCAPE]).unwrap();
    c.execute("UPDATE measures SET title = ?1 WHERE id = (SELECT id FROM items WHERE key = ?2)", [ESCAPE, &key]).unwrap_or_default();
    c.execute("UPDATE escalations SET reason = ?1 WHERE id = ?2", rusqlite::params![ESCAPE, id]).unwrap();
    c.execute("INSERT INTO decisions (item_id, text, decided_by, at) SELECT id, ?1, 'tester', '2026-11-26T09:00:00Z' FROM items WHERE key = 'M-1'", [ESCAPE])
        .unwrap();
    c.execute("UPDATE milestones SET title = ?1 WHERE measure_id = (SELECT id FROM items WHERE key = 'M-1')", [ESCAPE]).unwrap();
    drop(c);
    // An edit whose audit row carries the text as the old value.
    k.run(&["set", "M-1", "comment=clean", "--period", WEEK]).ok();
    let out = k.path("report.md");
    let html = k.path("report.html");
    let runs = [
        k.run(&["show", "M-1"]),
        k.run(&["show", &key]),
        k.run(&["log"]),
        k.run(&["escalations"]),
        k.run(&["check"]),
        k.run(&["report", "--format", "md"]),
    ];
    k.run(&["report", "--format", "md", "--out", out.to_str().unwrap()]).ok();
    k.run(&["report", "--format", "html", "--out", html.to_str().unwrap()]).ok();
    for r in &runs {
        assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'), "keel {:?} printed a raw escape:\n{}", r.args, r.stdout);
    }
    assert!(runs[0].stdout.contains("\\u{1b}"), "the escape is shown, not dropped:\n{}", runs[0].stdout);
    for file in [out, html] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains('\u{1b}'), "{} holds a raw escape", file.display());
    }
}

crate::on_both_engines!(
    every_verb_that_stores_text_refuses_terminal_escapes
    text_limits_count_characters_not_bytes
);
