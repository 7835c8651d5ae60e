//! A plan carries what is retired (export → import → export, byte for byte), and a plan import's
//! values for items already in the file are recorded so `keel revert` takes them back; imports
//! are undone newest first.

mod common;

use common::*;
use serde_json::Value;

fn write(k: &Keel, name: &str, text: &str) -> String {
    let p = k.path(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn retired_keys(k: &Keel) -> Vec<String> {
    let rows = k.run(&["list", "all", "--retired", "--format", "json"]).ok().json();
    rows.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

#[test]
fn retired_items_survive_export_and_import_byte_for_byte() {
    let demo = Keel::demo();
    assert!(demo.open_escalation("M-9").is_some(), "M-9 is escalated in the demo");
    demo.run(&["retire", "M-9", "--reason", "folded into M-10"]).ok();
    demo.run(&["retire", "MP-2", "--reason", "merged into MP-4", "--with-children"]).ok();
    let first = demo.export();
    assert!(first.contains("\"retired\": [") && first.contains("folded into M-10"), "the export names the retired items");
    let retired = retired_keys(&demo);
    assert!(retired.contains(&"M-9".to_string()) && retired.contains(&"MP-2".to_string()), "{retired:?}");

    let plan = write(&demo, "plan.json", &first);
    let fresh = Keel::init();
    fresh.run(&["import", &plan]).ok();
    assert_eq!(retired_keys(&fresh), retired, "the same items are retired after the import");
    assert!(fresh.open_escalation("M-9").is_none(), "a retired measure arrives without an open escalation");
    let second = fresh.export();
    assert!(first == second, "export → import → export differs");
    assert_ne!(fresh.run(&["check", "--deep"]).code, 70);
}

#[test]
fn a_plan_whose_retired_section_is_unsound_is_refused_whole() {
    let demo = Keel::demo();
    demo.run(&["retire", "MP-2", "--reason", "merged into MP-4", "--with-children"]).ok();
    let mut plan: Value = serde_json::from_str(&demo.export()).unwrap();
    // Keep MP-2 retired but put its measures back in service, and name an item the plan lacks.
    let list = plan["retired"].as_array_mut().unwrap();
    list.retain(|r| !r["key"].as_str().unwrap().starts_with("M-"));
    list.push(serde_json::json!({"key": "M-999", "at": "2026-11-20T10:00:00Z", "reason": "gone"}));
    let file = write(&demo, "bad.json", &serde_json::to_string_pretty(&plan).unwrap());
    let fresh = Keel::init();
    let before = fresh.export();
    fresh.run(&["import", &file]).code(65).stderr_has(&["M-999 is not an item of this plan"]);
    assert!(fresh.export() == before, "nothing imported");

    let list = plan["retired"].as_array_mut().unwrap();
    list.retain(|r| r["key"] != "M-999");
    let file = write(&demo, "bad2.json", &serde_json::to_string_pretty(&plan).unwrap());
    fresh.run(&["import", &file]).code(65).stderr_has(&["(MP-2): ", "active item(s) under it"]);
    assert!(fresh.export() == before, "nothing imported");

    let mut plan: Value = serde_json::from_str(&demo.export()).unwrap();
    plan["retired"][0]["reason"] = Value::String("  ".into());
    plan["retired"][0]["at"] = Value::String("last week".into());
    let file = write(&demo, "bad3.json", &serde_json::to_string_pretty(&plan).unwrap());
    fresh.run(&["import", &file]).code(65).stderr_has(&["reason is empty", "at 'last week' is not an RFC 3339 time"]);
}

const FUTURE: &str = "2027-W05";

fn values_plan(item: &str, period: &str) -> String {
    format!(
        r#"{{"format": "keel-plan", "version": 1,
  "values": [{{"item": "{item}", "period": "{period}", "planned": "1234.50", "forecast": "1200", "comment": "from the budget file", "by": "erp", "at": "2026-11-20T10:00:00Z"}}]}}"#
    )
}

#[test]
fn a_plan_value_for_an_existing_item_is_taken_back_by_revert() {
    let demo = Keel::demo();
    let before = demo.export();
    let file = write(&demo, "budget.json", &values_plan("M-8", FUTURE));
    demo.run(&["import", &file]).ok();
    let row = value_row(&demo.show("M-8"), FUTURE).clone();
    assert_eq!(row["planned"], "1234.50", "{row}");
    assert!(demo.export().contains("\"by\": \"erp\""), "the plan's reporter is kept");
    let listed = demo.run(&["log", "--imports", "--format", "json"]).ok().json();
    assert_eq!((listed[0]["items"].as_i64(), listed[0]["values"].as_i64()), (Some(1), Some(1)), "{listed}");

    demo.run(&["revert", "IMPORT-1"]).ok().stdout_has(&["3 value cell(s) put back"]);
    assert!(demo.export() == before, "the revert left the plan's value behind");
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();
}

#[test]
fn a_plan_value_someone_changed_since_is_not_reverted() {
    let demo = Keel::demo();
    let file = write(&demo, "budget.json", &values_plan("M-1", FUTURE));
    demo.run(&["import", &file]).ok().stdout_has(&["M-1: controller sign-off cleared"]);
    demo.run_as("priya", &["set", "M-1", "forecast=1300", "--period", FUTURE]).ok();
    assert_eq!(demo.show("M-1")["gate"]["stage"], "detailed", "the import cleared the sign-off of M-1's plan, as a typed value would");
    let before = demo.export();
    demo.run(&["revert", "IMPORT-1"]).code(75).stderr_has(&[&format!("M-1 forecast@{FUTURE} by priya"), "Nothing was changed"]);
    assert!(demo.export() == before);
}

#[test]
fn a_plan_value_for_a_period_that_has_one_is_refused() {
    let demo = Keel::demo();
    let before = demo.export();
    let file = write(&demo, "again.json", &values_plan("M-1", WEEK));
    demo.run(&["import", &file]).code(65).stderr_has(&[&format!("M-1 already has a value for {WEEK}"), "keel import values"]);
    assert!(demo.export() == before);
}

#[test]
fn imports_are_undone_newest_first() {
    let demo = Keel::demo();
    let was = value_row(&demo.show("M-1"), WEEK)["actual"].clone();
    let a = write(&demo, "a.csv", &format!("key,period,actual\nM-1,{WEEK},9999\n"));
    let b = write(&demo, "b.csv", &format!("key,period,actual\nM-1,{WEEK},7777\n"));
    demo.run(&["import", &a]).ok();
    demo.run(&["import", &b]).ok();
    // The later import is a change since the earlier one: named, and only it (not the rules' rows).
    let r = demo.run(&["revert", "IMPORT-1"]);
    r.code(75).stderr_has(&["1 change(s) since", &format!("M-1 actual@{WEEK} by {}", os_user())]);
    demo.run(&["revert", "IMPORT-2"]).ok();
    // Once it is reverted, neither it nor its revert stands in the earlier one's way.
    demo.run(&["revert", "IMPORT-1"]).ok().stdout_has(&["IMPORT-1 (values import of a.csv) reverted"]);
    assert_eq!(value_row(&demo.show("M-1"), WEEK)["actual"], was);
    demo.run(&["audit", "verify"]).ok();
}

#[test]
fn an_edit_whose_reason_reads_like_the_rules_still_blocks_a_revert() {
    let demo = Keel::demo();
    let a = write(&demo, "a.csv", &format!("key,period,actual\nM-1,{WEEK},9999\n"));
    demo.run(&["import", &a]).ok();
    demo.run(&["set", "M-1", "forecast=1", "--period", WEEK, "--reason", "rule"]).ok();
    demo.run(&["revert", "IMPORT-1"]).code(75).stderr_has(&[&format!("M-1 forecast@{WEEK}")]);
}
