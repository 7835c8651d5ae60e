//! Imports as change sets: `keel log --imports` lists each plan or values import; `keel revert
//! IMPORT-n` undoes one as one edit while nothing it touched has changed since, and otherwise
//! names what changed and by whom (exit 75) and changes nothing.

mod common;

use common::*;
use serde_json::Value;

fn write(k: &Keel, name: &str, text: &str) -> String {
    let p = k.path(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn imports(k: &Keel) -> Vec<Value> {
    k.run(&["log", "--imports", "--format", "json"]).ok().json().as_array().unwrap().clone()
}

fn actual(k: &Keel, key: &str, period: &str) -> Value {
    value_row(&k.show(key), period)["actual"].clone()
}

const PLAN: &str = r#"{"format": "keel-plan", "version": 1,
  "people": [{"key": "P-20", "name": "New Hire", "login": "newhire"}],
  "nodes": [{"key": "MP-20", "kind": "package", "title": "New package", "parent": "PJ-1", "owner": "P-20"}],
  "measures": [{"key": "M-50", "title": "New measure", "package": "MP-20", "owner": "P-20", "stage": "defined",
                "cadence": "weekly", "value_type": "recurring-benefit", "narrative": "ramping up"}],
  "values": [{"item": "M-50", "period": "2026-W47", "planned": "100", "actual": "90", "by": "erp", "at": "2026-11-20T10:00:00Z"}]}"#;

fn a_values_import_is_listed_and_reverted_as_one_edit(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_values_import_is_listed_and_reverted_a") else { return };
    let was_m1 = actual(&demo, "M-1", WEEK);
    let tier = demo.open_escalation("M-9").expect("M-9 is escalated")["tier"].clone();
    let csv = write(&demo, "week.csv", &format!("key,period,actual\nM-1,{WEEK},9999\nM-9,{WEEK},5000\n"));
    demo.run(&["import", &csv]).ok();
    assert_eq!(actual(&demo, "M-1", WEEK), "9999");
    assert_ne!(demo.open_escalation("M-9").unwrap()["tier"], tier, "the import moved M-9's escalation");
    let listed = imports(&demo);
    assert_eq!(listed.len(), 1);
    let one = &listed[0];
    assert_eq!((one["id"].as_str(), one["kind"].as_str(), one["file"].as_str()), (Some("IMPORT-1"), Some("values"), Some("week.csv")));
    assert_eq!((one["items"].as_i64(), one["values"].as_i64()), (Some(2), Some(2)));
    assert_eq!(one["actor"], os_user());
    demo.run(&["log", "--imports"]).ok().stdout_has(&["IMPORT-1", "week.csv"]);

    demo.run(&["revert", "IMPORT-1"]).ok().stdout_has(&["IMPORT-1 (values import of week.csv) reverted: 2 value cell(s) put back"]);
    assert_eq!(actual(&demo, "M-1", WEEK), was_m1);
    assert_eq!(demo.open_escalation("M-9").unwrap()["tier"], tier, "the escalation is as before the import");
    assert!(!imports(&demo)[0]["reverted_at"].is_null());
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();
    let before = demo.export();
    demo.run(&["revert", "IMPORT-1"]).code(65).stderr_has(&["already reverted"]);
    assert!(demo.export() == before);
}

fn an_import_someone_edited_since_is_not_reverted(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "an_import_someone_edited_since_is_not_re") else { return };
    let csv = write(&demo, "week.csv", &format!("key,period,actual\nM-1,{WEEK},9999\n"));
    demo.run(&["import", &csv]).ok();
    demo.run_as("priya", &["set", "M-1", "forecast=150000", "--period", WEEK]).ok();
    let before = demo.export();
    let r = demo.run(&["revert", "IMPORT-1"]);
    r.code(75).stderr_has(&["IMPORT-1 (week.csv) cannot be reverted", &format!("M-1 forecast@{WEEK} by priya"), "Nothing was changed"]);
    assert!(demo.export() == before);
    assert!(imports(&demo)[0]["reverted_at"].is_null());
}

fn a_plan_import_is_reverted_by_removing_what_it_created(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_plan_import_is_reverted_by_removing_wh") else { return };
    let before = demo.export();
    let file = write(&demo, "more.json", PLAN);
    demo.run(&["import", &file]).ok();
    demo.show("M-50");
    let listed = imports(&demo);
    assert_eq!((listed[0]["kind"].as_str(), listed[0]["items"].as_i64(), listed[0]["values"].as_i64()), (Some("plan"), Some(3), Some(1)));
    demo.run(&["revert", "IMPORT-1"]).ok().stdout_has(&["3 item(s) it created removed"]);
    demo.run(&["show", "M-50"]).code(65);
    assert!(demo.export() == before, "the plan is as it was before the import");
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();
    demo.run(&["log", "M-50"]).ok().stdout_has(&["removed"]);
}

fn a_plan_import_whose_items_are_used_since_is_not_reverted(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_plan_import_whose_items_are_used_since") else { return };
    let file = write(&demo, "more.json", PLAN);
    demo.run(&["import", &file]).ok();
    demo.run(&["set", "M-1", "controller=P-20"]).ok();
    let before = demo.export();
    demo.run(&["revert", "IMPORT-1"]).code(75).stderr_has(&["M-1 controller by"]);
    assert!(demo.export() == before);
}

fn refusals(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "refusals") else { return };
    let csv = write(&demo, "week.csv", &format!("key,period,actual\nM-1,{WEEK},9999\n"));
    demo.run(&["import", &csv]).ok();
    let before = demo.export();
    demo.run_as("priya", &["revert", "IMPORT-1"]).code(77).stderr_has(&["only a PMO administrator may revert"]);
    demo.run(&["revert", "IMPORT-9"]).code(65).stderr_has(&["IMPORT-9", "keel log --imports"]);
    demo.run(&["revert", "last-week"]).code(65).stderr_has(&["is not an import"]);
    assert!(demo.export() == before);
}

fn a_plan_imports_settings_go_back_with_it(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_plan_imports_settings_go_back_with_it") else { return };
    let before = demo.run(&["settings", "tolerance"]).ok().stdout.clone();
    let file = write(&demo, "settings.json", r#"{"format": "keel-plan", "version": 1, "settings": {"tolerance": "0.1"}}"#);
    demo.run(&["import", &file]).ok();
    assert_ne!(demo.run(&["settings", "tolerance"]).ok().stdout, before);
    demo.run(&["revert", "IMPORT-1"]).ok();
    assert_eq!(demo.run(&["settings", "tolerance"]).ok().stdout, before);
    // A setting stored before the import is put back to its stored value, not removed.
    demo.run(&["settings", "tolerance", "0.07"]).ok();
    let stored = demo.run(&["settings", "tolerance"]).ok().stdout.clone();
    demo.run(&["import", &file]).ok();
    assert_ne!(demo.run(&["settings", "tolerance"]).ok().stdout, stored);
    demo.run(&["revert", "IMPORT-2"]).ok();
    assert_eq!(demo.run(&["settings", "tolerance"]).ok().stdout, stored);
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();
}

crate::on_both_engines!(
    a_values_import_is_listed_and_reverted_as_one_edit
    an_import_someone_edited_since_is_not_reverted
    a_plan_import_is_reverted_by_removing_what_it_created
    a_plan_import_whose_items_are_used_since_is_not_reverted
    refusals
    a_plan_imports_settings_go_back_with_it
);
