//! `keel report --as-of PERIOD`: the report as the file stood when a past period ended, rebuilt
//! from the audit log in a scratch copy. A demo is made in one week, updated in the next two
//! (a value, its correction, a narrative, a resolution, a decision), and read back as of each.

mod common;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

/// The demo made on Wednesday of 2026-W46, then: in W47 M-1's actual falls far below plan
/// (a steering committee escalation, with a new narrative); in W48 it is corrected (the
/// escalation closes), M-16's escalation is resolved by hand and KR-16's gets a decision.
fn history() -> Keel {
    let mut k = Keel::demo_on(Some("2026-11-11"));
    k.today = Some("2026-11-18".into());
    k.run(&["set", "M-1", "actual=2000", "forecast=4000", "narrative=W47: the onboarding leads were out sick.", "--period", "2026-W47"])
        .ok()
        .stdout_has(&["M-1: steering committee"]);
    k.today = Some("2026-11-25".into());
    k.run(&["set", "M-1", "actual=8900", "forecast=9000", "--period", "2026-W47"]).ok().stdout_has(&["closed"]);
    let id = |k: &Keel, key: &str| k.open_escalation(key).unwrap_or_else(|| panic!("{key} is escalated"))["id"].to_string();
    let (m16, kr16) = (id(&k, "M-16"), id(&k, "KR-16"));
    k.run(&["escalation", &m16, "resolve", "defect fix shipped"]).ok();
    k.run(&["escalation", &kr16, "decide", "add two agents to the priority queue"]).ok();
    k.today = Some("2026-12-02".into());
    k
}

fn report(k: &Keel, args: &[&str]) -> String {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let r = k.run(&all);
    r.ok();
    r.stdout.clone()
}

/// The line of a Markdown table whose first cell starts with `key `.
fn row<'a>(md: &'a str, section: &str, key: &str) -> Option<&'a str> {
    let from = md.find(section).unwrap_or_else(|| panic!("no section {section}"));
    let rest = &md[from..];
    let end = rest[section.len()..].find("\n## ").map(|e| e + section.len()).unwrap_or(rest.len());
    rest[..end].lines().find(|l| l.starts_with(&format!("| {key} ")))
}

#[test]
fn the_report_as_of_a_week_shows_the_values_and_escalations_of_then() {
    let k = history();
    let audit_rows = |k: &Keel| k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit").unwrap();
    let before = audit_rows(&k);
    let now = report(&k, &[]);
    let w46 = report(&k, &["--as-of", "2026-W46"]);
    let w47 = report(&k, &["--as-of", "2026-W47"]);
    let w48 = report(&k, &["--as-of", "2026-W48"]);

    // Each says what it is: the period's last day is its date.
    assert!(w47.contains("Date: 2026-11-22") && w47.contains("As of: the end of 2026-W47 (Sunday 2026-11-22)"), "{w47}");
    assert!(!now.contains("As of:"));

    // W47 as it was known then: the low actual, its escalation and the narrative written for it.
    let esc = "## Open escalations";
    let m1 = row(&w47, esc, "M-1").expect("M-1 escalated at the end of W47");
    assert!(m1.contains("77.77% below plan in 2026-W47"), "{m1}");
    assert!(w47.contains("W47: the onboarding leads were out sick."));
    assert!(w47.contains("| !!! steering committee | 3 |"), "{w47}");
    // Not yet: the decision on KR-16 (W48), and M-16 still open.
    let kr16 = row(&w47, esc, "KR-16").expect("KR-16 escalated");
    assert!(!kr16.contains("add two agents"), "{kr16}");
    assert!(row(&w47, esc, "M-16").is_some());

    // W46: before any of it — the narrative of the plan, no M-1 escalation.
    assert!(row(&w46, esc, "M-1").is_none());
    assert!(!w46.contains("W47: the onboarding leads"));
    assert!(w46.contains("New onboarding path live"));

    // W48: the correction closed M-1's escalation, M-16's was resolved by hand (and stays
    // resolved: its numbers did not move), KR-16 carries its decision.
    assert!(row(&w48, esc, "M-1").is_none(), "{w48}");
    assert!(row(&w48, esc, "M-16").is_none(), "{w48}");
    assert!(row(&w48, esc, "KR-16").expect("KR-16 still open").contains("add two agents"));
    // Nothing changed after W48: its money and escalation tiers are today's (statuses that
    // count days, such as stale, are judged on W48's last day).
    let measures = |md: &str| {
        let rows = md.lines().filter(|l| l.starts_with("| M-")).map(|l| l.split(" | ").collect::<Vec<_>>());
        rows.filter(|cells| cells.len() == 9).map(|cells| [&cells[..3], &cells[5..]].concat().join(" | ")).collect::<Vec<_>>()
    };
    assert!(measures(&now).len() > 30);
    assert_eq!(measures(&w48), measures(&now));
    assert_ne!(measures(&w47), measures(&now));

    // The file itself is untouched, and no scratch copy is left behind.
    assert_eq!(audit_rows(&k), before);
    k.run(&["audit", "verify"]).ok();
    let scratch = k.path("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let mut cmd = k.cmd(None);
    cmd.env("TMPDIR", &scratch);
    run(cmd, &["report", "--as-of", "2026-W47"]).ok();
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0, "the scratch copy is removed");
}

#[test]
fn every_report_format_says_as_of_when() {
    let k = history();
    let html = report(&k, &["--as-of", "2026-W47", "--format", "html"]);
    assert!(html.contains("As of: the end of 2026-W47"), "html");
    assert!(html.contains("77.77% below plan in 2026-W47"));
    let pack = report(&k, &["--as-of", "2026-W47", "--summary"]);
    assert!(pack.contains("As of: the end of 2026-W47") && pack.contains("| !!! steering committee | 3 |"), "{pack}");
    let out = k.path("w47.xlsx");
    k.run(&["report", "--as-of", "2026-W47", "--out", out.to_str().unwrap()]).ok();
    let mut wb: Xlsx<_> = open_workbook(&out).expect("the workbook opens");
    let summary = wb.worksheet_range("Summary").expect("a Summary sheet");
    let rows: Vec<Vec<Data>> = summary.rows().map(|r| r.to_vec()).collect();
    let as_of = rows.iter().find(|r| r[0] == "As of").expect("an As of row");
    assert!(matches!(&as_of[1], Data::String(s) if s.starts_with("the end of 2026-W47")), "{as_of:?}");
    let date = rows.iter().find(|r| r[0] == "Report date").expect("a Report date row");
    assert!(matches!(&date[1], Data::DateTime(d) if d.as_f64() == 46348.0), "{date:?}");
    // 2026-11-22
}

#[test]
fn a_period_before_any_data_has_no_values_and_nothing_escalated() {
    let k = Keel::demo();
    let md = report(&k, &["--as-of", "2026-W20"]);
    assert!(md.contains("| Open escalations | 0 |"), "{md}");
    assert!(md.contains("| Late milestones | 0 |"), "{md}");
    let m1 = md.lines().find(|l| l.starts_with("| M-1 ")).expect("M-1 is listed");
    // Planned, forecast and actual are blanks, not zeros.
    assert!(m1.ends_with("| — | — | — | — |"), "{m1}");
}

#[test]
fn a_period_that_has_not_ended_or_is_not_one_is_refused() {
    let k = Keel::demo(); // today is 2026-11-26, in 2026-W48
    let out = k.path("r.md");
    let this_week = k.run(&["report", "--as-of", "2026-W48", "--out", out.to_str().unwrap()]);
    this_week.code(65).stderr_has(&["--as-of", "2026-W48 ends on 2026-11-29", "the latest is 2026-W47", "leave --as-of out"]);
    k.run(&["report", "--as-of", "2027-Q1"]).code(65).stderr_has(&["--as-of", "the latest is 2026-Q3"]);
    k.run(&["report", "--as-of", "last week"]).code(65).stderr_has(&["--as-of", "is not a period", "2026-W47"]);
    k.run(&["report", "--as-of", "2026-W54"]).code(65).stderr_has(&["--as-of", "2026 has only 53 ISO weeks"]);
    assert!(!out.exists(), "nothing is written for a refused report");
    k.run(&["report", "--as-of", "2026-W47"]).ok();
}
