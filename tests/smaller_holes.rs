//! Issue 12, hole 14: unit kinds, reported-by/at of imported values, what milestone commands say,
//! a measure waiting for itself, and who may record a decision.

mod common;

use common::*;

fn count(k: &Keel, table: &str) -> String {
    k.sql_text(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).unwrap()
}

#[test]
fn a_measures_business_unit_and_function_must_be_units_of_that_kind() {
    let k = Keel::demo();
    // In the demo U-1 … U-3 are business units, U-4 … U-11 functions; M-1 has U-3 and U-4.
    let audit = count(&k, "audit");
    k.run(&["set", "M-1", "business_unit=U-4"]).code(65).stderr_has(&[
        "M-1",
        "business_unit",
        "U-4 is a function unit",
        "kind business-unit",
    ]);
    k.run(&["set", "M-1", "function=U-1"]).code(65).stderr_has(&["M-1", "function", "U-1 is a business-unit unit", "kind function"]);
    assert_eq!(count(&k, "audit"), audit, "a refused change left an audit row");
    k.run(&["set", "M-1", "business_unit=U-1"]).ok();
    k.run(&["set", "M-1", "function=U-5"]).ok();
    // Nor can a unit change kind under the measures that name it in the other role.
    k.run(&["set", "U-5", "kind=business-unit"]).code(65).stderr_has(&["U-5", "kind", "function of M-1"]);
    assert_eq!(k.sql_text("SELECT u.kind FROM units u JOIN items i ON i.id = u.id WHERE i.key = 'U-5'").as_deref(), Some("function"));
}

fn milestone_add_done_and_reopen_say_what_happened(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "milestone_add_done_a") else { return };
    // M-1 has three milestones, all before December: the new one is number 4.
    k.run(&["milestone", "M-1", "add", "Pilot live", "2026-12-14"])
        .ok()
        .stdout_has(&["M-1: milestone 4 'Pilot live' added, due 2026-12-14"]);
    k.run(&["milestone", "M-1", "done", "4", "2026-11-20"]).ok().stdout_has(&["M-1: milestone 4 'Pilot live' done 2026-11-20"]);
    k.run(&["milestone", "M-1", "reopen", "4"]).ok().stdout_has(&["M-1: milestone 4 'Pilot live' reopened"]);
}

fn a_measure_cannot_wait_for_itself(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_measure_cannot_wai") else { return };
    let r = k.run(&["depend", "M-1", "M-1"]);
    r.code(65).stderr_has(&["M-1", "depends_on", "a measure cannot wait for itself"]);
    assert!(!r.stderr.contains("already waits"), "{}", r.stderr);
    // A real loop still names both ends.
    k.run(&["depend", "M-1", "M-2"]).ok();
    k.run(&["depend", "M-2", "M-1"]).code(65).stderr_has(&["M-1 already waits for M-2", "loop"]);
}

#[test]
fn only_people_with_a_role_the_facilitator_or_a_pmo_admin_record_decisions() {
    let k = Keel::demo();
    // M-1: owner priya, sponsor amara, controller li. KR-1: owner jonas, objective O-1 owned by amara.
    let before = count(&k, "decisions");
    k.run_as("tomas", &["decide", "M-1", "Stop the rollout"]).code(77).stderr_has(&["M-1", "has no role on M-1", "facilitator"]);
    k.run_as("li", &["decide", "KR-1", "Lower the target"]).code(77).stderr_has(&["has no role on KR-1"]);
    assert_eq!(count(&k, "decisions"), before, "a refused decision was recorded");
    for (who, key) in [("priya", "M-1"), ("amara", "M-1"), ("li", "M-1"), ("jonas", "KR-1"), ("amara", "KR-1")] {
        k.run_as(who, &["decide", key, "Carry on"]).ok().stdout_has(&[&format!("decision recorded on {key}")]);
    }
    k.run(&["decide", "M-1", "The PMO administrator may"]).ok();
    // The facilitator of an open check-in may record decisions on any item; once it ends, not.
    k.sql().execute("INSERT INTO meetings (started_at, facilitator, agenda) VALUES ('2026-11-26T09:00:00Z', 'tomas', 'M-1')", []).unwrap();
    k.run_as("tomas", &["decide", "M-1", "Stop the rollout"]).ok();
    k.sql().execute("UPDATE meetings SET ended_at = '2026-11-26T10:00:00Z'", []).unwrap();
    k.run_as("tomas", &["decide", "M-1", "Stop it again"]).code(77);
}

/// A plan whose one value says it was reported by olga on 4 January.
fn plan_with_a_reported_value() -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
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
        "measures": [{"key": "M-1", "title": "Measure one", "package": "MP-1", "owner": "P-2", "stage": "defined",
            "cadence": "weekly", "value_type": "recurring-benefit", "narrative": "Behind in week 1: the ERP feed was late."}],
        "values": [{"item": "M-1", "period": "2026-W01", "planned": "100", "actual": "90", "by": "olga (from the ERP)", "at": "2026-01-04T09:00:00Z"}],
    }))
    .unwrap()
}

#[test]
fn an_imported_values_by_and_at_are_kept_as_reported_apart_from_the_importer() {
    let k = Keel::init();
    let file = k.path("plan.json");
    std::fs::write(&file, plan_with_a_reported_value()).unwrap();
    k.run(&["import", file.to_str().unwrap()]).ok();
    let v = value_row(&k.show("M-1"), "2026-W01").clone();
    assert_eq!(v["reported_by"], "olga (from the ERP)");
    assert_eq!(v["reported_at"], "2026-01-04T09:00:00Z");
    assert_eq!(v["by"], os_user(), "whoever imported the plan entered the value");
    assert_ne!(v["at"], "2026-01-04T09:00:00Z");
    k.run(&["show", "M-1"]).ok().stdout_has(&["reported by olga (from the ERP) 2026-01-04, entered by", os_user()]);
    // The audit log's actor is the importer.
    let log = k.run(&["log", "M-1"]);
    log.ok().stdout_has(&[os_user(), "imported"]);
    assert!(!log.stdout.contains("olga (from the ERP)"), "the reporter is not the audit actor:\n{}", log.stdout);
    // The plan still round-trips byte for byte: export → import → export.
    let first = k.export();
    assert!(first.contains("\"by\": \"olga (from the ERP)\"") && first.contains("\"at\": \"2026-01-04T09:00:00Z\""), "{first}");
    let again = Keel::init();
    let file2 = again.path("plan.json");
    std::fs::write(&file2, &first).unwrap();
    again.run(&["import", file2.to_str().unwrap()]).ok();
    assert_eq!(again.export(), first);
    // Someone who edits the value makes it theirs: no reporter any more.
    k.run(&["set", "M-1", "actual=95", "--period", "2026-W01"]).ok();
    let v = value_row(&k.show("M-1"), "2026-W01").clone();
    assert_eq!((v["reported_by"].clone(), v["by"].as_str()), (serde_json::Value::Null, Some(os_user())));
    assert!(k.export().contains(&format!("\"by\": \"{}\"", os_user())));
}

crate::on_both_engines!(
    milestone_add_done_and_reopen_say_what_happened
    a_measure_cannot_wait_for_itself
);
