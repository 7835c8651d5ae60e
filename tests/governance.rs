//! Governance that cannot be talked around, end to end through the real binary: key results
//! defined consistently and judged against a line, roll-ups of computed statuses only, four eyes
//! that survive role changes, stale key results and KPIs listed, no actuals from the future, and
//! plans that cannot import a stage nobody approved.
//!
//! Demo people (login → role): amara P-2 owns KR-2, KR-3, KR-5; tomas P-6 owns M-24 (a request for
//! decided is pending, requested by tomas) and KR-17; jonas P-3 owns KR-1.

mod common;

use common::*;
use serde_json::{json, Value};

fn status(k: &Keel, key: &str) -> Value {
    k.show(key)["status"].clone()
}

fn rag(k: &Keel, key: &str) -> String {
    status(k, key)["rag"].as_str().unwrap().to_string()
}

fn objective_computed(k: &Keel, key: &str) -> String {
    k.show(key)["objective"]["shown"]["computed"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// 1, 9, 11: key results are defined consistently

fn a_numeric_key_result_keeps_a_baseline_and_a_target_on_its_side(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_numeric_key_result") else { return };
    let before = demo.export();
    // KR-2 decreases 140 → 80: it cannot lose its baseline, nor point the wrong way.
    demo.run_as("amara", &["set", "KR-2", "baseline="]).code(65).stderr_has(&["KR-2", "needs a baseline"]);
    demo.run_as("amara", &["set", "KR-2", "target=150"]).code(65).stderr_has(&["below its baseline"]);
    demo.run(&["set", "KR-1", "target=70"]).code(65).stderr_has(&["KR-1", "above its baseline"]);
    demo.run(&["set", "KR-2", "kind=increase-to"]).code(65).stderr_has(&["above its baseline"]);
    assert!(demo.export() == before, "a refused definition changed the file");

    // Without --period, `baseline` is the key result's own field, not a value named baseline.
    demo.run_as("amara", &["set", "KR-2", "baseline=150"]).ok();
    assert_eq!(field(&demo.show("KR-2"), "baseline"), "150");
    assert!(value_row(&demo.show("KR-2"), WEEK)["baseline"].is_null(), "no per-period baseline was written");
    // With --period, it is that period's value.
    demo.run_as("amara", &["set", "KR-2", "baseline=151", "--period", WEEK]).ok();
    assert_eq!(value_row(&demo.show("KR-2"), WEEK)["baseline"], "151");
    assert_eq!(field(&demo.show("KR-2"), "baseline"), "150");
    // The same for confidence.
    demo.run_as("amara", &["set", "KR-2", "confidence=0.4"]).ok();
    assert_eq!(field(&demo.show("KR-2"), "confidence"), "0.4");
}

fn weights_are_never_negative_and_not_all_zero(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "weights_are_never_ne") else { return };
    // O-1 weighs KR-1 2, KR-2 1, KR-3 1.
    demo.run(&["set", "KR-1", "weight=-1"]).code(65).stderr_has(&["O-1", "cannot be negative"]);
    demo.run(&["set", "KR-1", "weight=0"]).ok();
    demo.run(&["set", "KR-2", "weight=0"]).ok();
    demo.run(&["set", "KR-3", "weight=0"]).code(65).stderr_has(&["more than 0"]);
    let progress = demo.show("O-1")["objective"]["progress"].as_str().map(str::to_string).unwrap();
    assert!(progress.parse::<f64>().unwrap() <= 1.0, "progress {progress}");
}

// ---------------------------------------------------------------------------------------------
// 2: key results escalate against their line, typed plan or not

fn a_stay_above_key_result_off_its_line_escalates_and_never_shows_green(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_stay_above_key_res") else { return };
    // KR-5: CSAT stays above 85. This week's number arrives with no plan typed for it.
    demo.run_as("amara", &["set", "KR-5", "planned=", "actual=70", "--period", WEEK]).ok();
    let esc = demo.open_escalation("KR-5").expect("KR-5 off its floor opens an escalation");
    assert!(esc["reason"].as_str().unwrap().contains("below plan"), "{esc}");
    assert_ne!(rag(&demo, "KR-5"), "green");
    let shown = demo.run(&["show", "KR-5"]).ok().stdout.clone();
    assert!(shown.contains("held") && shown.contains("periods"), "the grade says how often the line held:\n{shown}");
    let check = demo.run(&["check", "--format", "json"]);
    assert_ne!(check.code, 0);
    assert!(check.json()["escalations"].as_array().unwrap().iter().any(|e| e["key"] == "KR-5"));
    // Back on the line: the escalation closes by itself and the grade is 1 again.
    demo.run_as("amara", &["set", "KR-5", "actual=90", "--period", WEEK]).ok();
    assert!(demo.open_escalation("KR-5").is_none());
    assert_eq!(demo.show("KR-5")["key_result"]["score"]["grade"], "1");
}

fn an_increase_key_result_is_judged_against_its_plan_line_when_no_plan_was_typed(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "an_increase_key_resu") else { return };
    // KR-8: account reviews 40 → 120 over the cycle; by late November the line is far above 41.
    demo.run_as("amara", &["set", "KR-8", "planned=", "--period", WEEK]).code(77);
    demo.run(&["set", "KR-8", "planned=", "actual=41", "--period", WEEK]).ok();
    let esc = demo.open_escalation("KR-8").expect("far below the plan line");
    assert_eq!(esc["tier"], 3, "{esc}");
}

// ---------------------------------------------------------------------------------------------
// 4: a manual green never launders a parent

fn a_childs_manual_green_does_not_roll_up(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_childs_manual_gree") else { return };
    assert_eq!(objective_computed(&demo, "O-5"), "green");
    // KR-17 (O-10, under O-5) collapses: O-10 turns red and pulls O-5 to amber.
    demo.run_as("tomas", &["set", "KR-17", "actual=10", "--period", WEEK]).ok();
    assert_eq!(objective_computed(&demo, "O-10"), "red");
    assert_eq!(objective_computed(&demo, "O-5"), "amber");
    // Someone paints O-10 green by hand, with a reason: it shows green there, flagged as manual,
    // and O-5 still reads the work underneath.
    demo.run(&["set", "O-10", "manual_status=green", "status_explanation=carrier contract signed, numbers follow"]).ok();
    let o10 = demo.show("O-10")["objective"]["shown"].clone();
    assert_eq!((o10["rag"].as_str(), o10["manual"].as_bool()), (Some("green"), Some(true)), "{o10}");
    assert_eq!(objective_computed(&demo, "O-5"), "amber");
    assert_eq!(rag(&demo, "O-5"), "amber");
}

// ---------------------------------------------------------------------------------------------
// 5: four eyes survive role changes

fn roles_do_not_change_under_a_pending_request(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "roles_do_not_change_") else { return };
    // M-24: tomas (owner) requested decided; daniel P-12 sponsors it.
    let before = demo.export();
    for (field, to) in [("owner", "P-12"), ("sponsor", "P-6"), ("controller", "P-6")] {
        let r = demo.run(&["set", "M-24", &format!("{field}={to}")]);
        r.code(65).stderr_has(&["M-24", "pending", "cancel or decide the request first"]);
    }
    assert!(demo.export() == before, "a refused role change changed the file");
    // The requester cannot approve even as sponsor later: the roles stayed put, so tomas is still
    // the owner and requester.
    demo.run_as("tomas", &["gate", "M-24", "approve"]).code(77).stderr_has(&["four eyes"]);
}

// ---------------------------------------------------------------------------------------------
// 6, 7: stale key results and KPIs are listed; the future never makes anything fresh

fn stale_key_results_and_kpis_are_listed_and_future_actuals_are_refused(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "stale_key_results_an") else { return };
    // KR-2's newest actual is 2026-W47; clear the two before the last to leave it weeks behind.
    for week in [WEEK_1, WEEK_2] {
        demo.run_as("amara", &["set", "KR-2", "actual=", "--period", week]).ok();
    }
    let check = demo.run(&["check", "--format", "json"]).json();
    let stale: Vec<&str> = check["stale"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert!(stale.contains(&"KR-2"), "stale list: {stale:?}");
    assert!(status(&demo, "KR-2")["stale"].as_bool().unwrap());
    demo.run(&["report"]).ok().stdout_has(&["KR-2"]);

    // An actual for a week that has not begun is refused, and changes nothing.
    let before = demo.export();
    demo.run_as("amara", &["set", "KR-2", "actual=90", "--period", "2026-W50"]).code(65).stderr_has(&["2026-W50", "has begun", "forecast"]);
    assert!(demo.export() == before);
    // Plans and forecasts may look ahead.
    demo.run_as("amara", &["set", "KR-2", "forecast=90", "--period", "2026-W50"]).ok();
    assert!(status(&demo, "KR-2")["stale"].as_bool().unwrap(), "a forecast is no update");
    // Stale KPIs too: K-1's numbers stop (clear its actuals of the last months).
    let k1 = demo.show("K-1");
    let periods: Vec<String> = k1["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["actual"].is_string())
        .map(|v| v["period"].as_str().unwrap().to_string())
        .collect();
    for p in periods.iter().rev().take(periods.len().saturating_sub(1)) {
        demo.run(&["set", "K-1", "actual=", "--period", p]).ok();
    }
    let check = demo.run(&["check", "--format", "json"]).json();
    let stale: Vec<&str> = check["stale"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert!(stale.contains(&"K-1"), "stale list: {stale:?}");
}

// ---------------------------------------------------------------------------------------------
// 8: a plan cannot import a stage nobody approved

fn plan(measure: Value, key_result: Value, values: Value) -> String {
    serde_json::to_string_pretty(&json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "units": [{"key": "U-1", "name": "Operations", "kind": "business-unit"}, {"key": "U-2", "name": "Finance", "kind": "function"}],
        "people": [
            {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
            {"key": "P-2", "name": "Olga Owner", "login": "olga"},
            {"key": "P-3", "name": "Sam Sponsor", "login": "sam"},
            {"key": "P-4", "name": "Cora Controller", "login": "cora"}
        ],
        "objectives": [{"key": "O-1", "cycle": "C-1", "title": "Run well", "level": "company", "owner": "P-2"}],
        "key_results": [key_result],
        "nodes": [
            {"key": "PF-1", "kind": "portfolio", "title": "Portfolio"},
            {"key": "PG-1", "kind": "programme", "title": "Programme", "parent": "PF-1"},
            {"key": "PJ-1", "kind": "project", "title": "Project", "parent": "PG-1"},
            {"key": "MP-1", "kind": "package", "title": "Package", "parent": "PJ-1"}
        ],
        "measures": [measure],
        "values": values,
    }))
    .unwrap()
}

fn closed_measure() -> Value {
    json!({"key": "M-1", "title": "Renegotiate freight", "package": "MP-1", "owner": "P-2", "sponsor": "P-3", "controller": "P-4",
        "business_unit": "U-1", "function": "U-2", "potential": "1000", "stage": "closed", "cadence": "weekly",
        "value_type": "recurring-benefit", "contributes_to": ["KR-1"],
        "milestones": [{"title": "Signed", "due": "2026-03-01", "done": "2026-03-01"}]})
}

fn good_kr() -> Value {
    json!({"key": "KR-1", "objective": "O-1", "title": "Uptime", "kind": "stay-above", "baseline": "99", "target": "99.5", "weight": "1"})
}

fn money() -> Value {
    json!([{"item": "M-1", "period": "2026-W10", "planned": "100", "actual": "100", "by": "olga", "at": "2026-03-09T09:00:00Z"}])
}

fn a_plan_with_stages_nobody_approved_is_refused_whole(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "a_plan_with_stages_n") else { return };
    let path = k.path("plan.json");
    // Closed, with no sponsor approval, no sign-off and no validation.
    std::fs::write(&path, plan(closed_measure(), good_kr(), money())).unwrap();
    let r = k.run(&["import", path.to_str().unwrap()]);
    r.code(65).stderr_has(&[
        "measures[0] (M-1)",
        "validation of the realised value",
        "sign-off",
        "sponsor's approval",
        "nothing was imported",
    ]);
    // Approvals by people who do not hold the roles are refused too.
    let mut forged = closed_measure();
    forged["sponsor_approved_by"] = json!("P-2");
    forged["controller_signed_by"] = json!("P-4");
    forged["validated_by"] = json!("P-2");
    std::fs::write(&path, plan(forged, good_kr(), money())).unwrap();
    k.run(&["import", path.to_str().unwrap()])
        .code(65)
        .stderr_has(&["sponsor_approved_by must name the measure's sponsor", "validated_by"]);
    // With the approvals of the role holders it loads, and the audit says they were imported, by whom.
    let mut signed = closed_measure();
    signed["sponsor_approved_by"] = json!("P-3");
    signed["controller_signed_by"] = json!("P-4");
    signed["validated_by"] = json!("P-4");
    std::fs::write(&path, plan(signed, good_kr(), money())).unwrap();
    k.run(&["import", path.to_str().unwrap()]).ok();
    let log = k.run(&["log", "M-1", "--format", "json"]).ok().json();
    let row = log.as_array().unwrap().iter().find(|r| r["field"] == "stage").expect("the imported stage is audited");
    assert!(row["new_value"].as_str().unwrap().contains("closed imported with sponsor_approved_by P-3"), "{row}");
}

fn a_plan_with_inconsistent_key_results_or_future_actuals_is_refused(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "a_plan_with_inconsis") else { return };
    let path = k.path("plan.json");
    let no_baseline =
        json!({"key": "KR-1", "objective": "O-1", "title": "Fewer incidents", "kind": "decrease-to", "target": "3", "weight": "1"});
    let mut m = closed_measure();
    m["stage"] = json!("defined");
    std::fs::write(&path, plan(m.clone(), no_baseline, json!([]))).unwrap();
    k.run(&["import", path.to_str().unwrap()]).code(65).stderr_has(&["key_results[0] (KR-1)", "needs a baseline"]);
    let wrong_way = json!({"key": "KR-1", "objective": "O-1", "title": "More users", "kind": "increase-to", "baseline": "10", "target": "5", "weight": "1"});
    std::fs::write(&path, plan(m.clone(), wrong_way, json!([]))).unwrap();
    k.run(&["import", path.to_str().unwrap()]).code(65).stderr_has(&["above its baseline"]);
    let negative = json!({"key": "KR-1", "objective": "O-1", "title": "Uptime", "kind": "stay-above", "baseline": "99", "target": "99.5", "weight": "-2"});
    std::fs::write(&path, plan(m.clone(), negative, json!([]))).unwrap();
    k.run(&["import", path.to_str().unwrap()]).code(65).stderr_has(&["cannot be negative"]);
    let future = json!([{"item": "KR-1", "period": "2099-W10", "actual": "99.9", "by": "olga", "at": "2026-03-09T09:00:00Z"}]);
    std::fs::write(&path, plan(m, good_kr(), future)).unwrap();
    k.run(&["import", path.to_str().unwrap()]).code(65).stderr_has(&["values[0] (KR-1 2099-W10)", "has begun"]);
    k.run(&["show", "KR-1"]).code(65);
}

// ---------------------------------------------------------------------------------------------
// 16: red or escalated needs this period's narrative, on every path

#[test]
fn the_narrative_rule_holds_for_set_and_csv_import_and_a_note_is_not_an_excuse() {
    // The demo created last week: its narratives were written before this week began.
    let demo = Keel::demo_on(Some("2026-11-19"));
    let later_as = |login: &str, args: &[&str]| demo.cmd(Some(login)).env("KEEL_TODAY", TODAY).args(args).output().unwrap();
    let later = |args: &[&str]| later_as("priya", args);
    // M-1 (priya) collapses this week: refused until she says why and what next.
    let r = later(&["set", "M-1", "actual=100", "--period", WEEK]);
    assert_eq!(r.status.code(), Some(65), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("narrative"), "{}", String::from_utf8_lossy(&r.stderr));
    // The same through a values CSV.
    let csv = demo.path("values.csv");
    std::fs::write(&csv, format!("key,period,actual\nM-1,{WEEK},100\n")).unwrap();
    let r = later(&["import", csv.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(65), "{}", String::from_utf8_lossy(&r.stderr));
    // Confirming last week's words (setting the same text) is an answer too.
    let old = field(&demo.show("M-1"), "narrative").as_str().unwrap().to_string();
    let r = later(&["set", "M-1", &format!("narrative={old}"), "actual=100", "--period", WEEK]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    // A key result's weekly note is its narrative, never the explanation that excuses a manual green.
    let r = later_as("jonas", &["set", "KR-1", "narrative=Two renewals slipped; both re-engaged"]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(field(&demo.show("KR-1"), "status_explanation").is_null());
}

crate::on_both_engines!(
    a_numeric_key_result_keeps_a_baseline_and_a_target_on_its_side
    weights_are_never_negative_and_not_all_zero
    a_stay_above_key_result_off_its_line_escalates_and_never_shows_green
    an_increase_key_result_is_judged_against_its_plan_line_when_no_plan_was_typed
    a_childs_manual_green_does_not_roll_up
    roles_do_not_change_under_a_pending_request
    stale_key_results_and_kpis_are_listed_and_future_actuals_are_refused
    a_plan_with_stages_nobody_approved_is_refused_whole
    a_plan_with_inconsistent_key_results_or_future_actuals_is_refused
);
