//! `keel retire KEY --reason T [--with-children]` and `keel unretire KEY`: a retired item keeps its
//! history but leaves the lists, roll-ups, funnel and checks; its escalation closes with the
//! reason; refusals (active children, a person with roles, roles, twice) change nothing.
//!
//! Demo facts: M-9 (priya's, in MP-3) has an open sponsor-action escalation; MP-2 holds M-4…M-8;
//! P-4 (li) controls many measures; amara (P-2) owns none of MP-2's measures.

mod common;

use common::*;

fn planned(k: &Keel, node: &str) -> f64 {
    k.show(node)["funnel"]
        .as_array()
        .expect("a funnel")
        .iter()
        .map(|stage| stage[1]["planned"].as_str().unwrap().parse::<f64>().unwrap())
        .sum()
}

fn listed(k: &Keel, args: &[&str]) -> Vec<String> {
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let rows = k.run(&all).ok().json();
    rows.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
}

/// Everything a refused command must leave as it was: the plan and which items are retired.
fn snapshot(k: &Keel) -> (String, String) {
    (k.export(), k.run(&["list", "all", "--retired", "--format", "csv"]).stdout)
}

fn a_retired_measure_leaves_lists_funnel_and_escalations_and_comes_back(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_retired_measure_leaves_lists_funnel_an") else { return };
    assert!(demo.open_escalation("M-9").is_some(), "M-9 starts escalated");
    let mp3 = planned(&demo, "MP-3");
    let r = demo.run(&["retire", "M-9", "--reason", "merged into M-10"]);
    r.ok().stdout_has(&["M-9: retired — merged into M-10", "M-9: sponsor action closed — retired: merged into M-10"]);
    assert!(demo.open_escalation("M-9").is_none());
    let closed = demo.run(&["escalations", "--all", "--format", "json"]).ok().json();
    let closed = closed.as_array().unwrap().iter().find(|e| e["key"] == "M-9").expect("the closed escalation").clone();
    assert_eq!(closed["decision"], "retired: merged into M-10");
    assert!(!listed(&demo, &["measures"]).contains(&"M-9".to_string()));
    assert_eq!(listed(&demo, &["all", "--retired"]), vec!["M-9"]);
    assert!(planned(&demo, "MP-3") < mp3, "its planned money left the funnel");
    let check = demo.run(&["check", "--format", "json"]).json();
    assert!(!check.to_string().contains("\"M-9\""), "keel check no longer names M-9");
    assert_ne!(demo.run(&["check", "--deep"]).code, 70, "roll-ups agree with a recompute");
    demo.run(&["show", "M-9"]).ok().stdout_has(&["RETIRED since", "merged into M-10"]);
    let shown = demo.run(&["show", "M-9", "--format", "json"]).ok().json();
    assert_eq!(shown["retired"]["reason"], "merged into M-10", "the detail read model says why: {shown}");
    assert!(shown["retired"]["by"].is_string(), "and who retired it: {shown}");
    assert!(demo.run(&["show", "M-10", "--format", "json"]).ok().json().get("retired").is_none(), "an item in service has no retirement");
    let log = demo.run(&["log", "M-9", "--format", "json"]).ok().json();
    assert!(log.as_array().unwrap().iter().any(|r| r["field"] == "retired" && r["new_value"] == "merged into M-10"));
    // Nothing new goes under a retired item, nor is one moved.
    demo.run(&["retire", "MP-4", "--reason", "x", "--with-children"]).ok();
    demo.run(&["add", "measure", "--title", "x", "--parent", "MP-4"]).code(65).stderr_has(&["MP-4 is retired"]);
    demo.run(&["move", "M-1", "--to", "MP-4"]).code(65).stderr_has(&["MP-4 is retired"]);

    demo.run(&["unretire", "M-9"]).ok().stdout_has(&["M-9: back in service"]);
    assert!(listed(&demo, &["measures"]).contains(&"M-9".to_string()));
    assert!((planned(&demo, "MP-3") - mp3).abs() < 0.005, "its money is back");
    assert!(demo.open_escalation("M-9").is_some(), "its numbers still call for an escalation");
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();
}

fn a_package_with_active_measures_needs_with_children(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_package_with_active_measures_needs_wit") else { return };
    let before = snapshot(&demo);
    demo.run(&["retire", "MP-2", "--reason", "dropped"])
        .code(65)
        .stderr_has(&["5 active item(s) under it: M-4, M-5, M-6, M-7, M-8", "--with-children"]);
    assert!(snapshot(&demo) == before);
    demo.run(&["retire", "MP-2", "--reason", "dropped", "--with-children"]).ok().stdout_has(&["MP-2: retired with 5 item(s) under it"]);
    assert_eq!(listed(&demo, &["all", "--retired"]), vec!["M-4", "M-5", "M-6", "M-7", "M-8", "MP-2"]);
    for m in ["M-4", "M-5", "M-6", "M-7", "M-8"] {
        assert!(demo.open_escalation(m).is_none(), "{m} has no open escalation once retired");
    }
    // Coming back goes parent first, or all together.
    demo.run(&["unretire", "M-5"]).code(65).stderr_has(&["sits under MP-2, which is retired"]);
    demo.run(&["unretire", "MP-2"]).ok();
    demo.run(&["unretire", "M-5"]).ok();
    assert_eq!(listed(&demo, &["all", "--retired"]), vec!["M-4", "M-6", "M-7", "M-8"]);
    demo.run(&["retire", "M-6", "--reason", "earlier"]).code(65).stderr_has(&["already retired"]);
    demo.run(&["retire", "MP-2", "--reason", "dropped again", "--with-children"]).ok().stdout_has(&["with 1 item(s) under it"]);
    demo.run(&["unretire", "MP-2", "--with-children"]).ok().stdout_has(&["MP-2: back in service with 1 item(s) under it"]);
    assert_eq!(listed(&demo, &["all", "--retired"]), vec!["M-4", "M-6", "M-7", "M-8"], "only what was retired with it came back");
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
}

fn a_key_result_retired_leaves_its_objective_and_its_tree(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_key_result_retired_leaves_its_objectiv") else { return };
    assert_eq!(demo.show("O-3")["objective"]["key_results"], 2);
    demo.run(&["retire", "O-3", "--reason", "merged"]).code(65).stderr_has(&["active item(s) under it", "KR-6"]);
    demo.run(&["retire", "KR-6", "--reason", "no longer measured"]).ok();
    assert!(!listed(&demo, &["key-results"]).contains(&"KR-6".to_string()));
    assert_eq!(demo.show("O-3")["objective"]["key_results"], 1, "O-3 is judged by its one active key result");
}

fn refusals_change_nothing(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "refusals_change_nothing") else { return };
    let before = snapshot(&demo);
    demo.run(&["retire", "P-4", "--reason", "left"]).code(65).stderr_has(&[
        "P-4 retire: still holds",
        "controller of M-1",
        "keel person P-4 reassign",
    ]);
    demo.run(&["retire", "M-9", "--reason", ""]).code(65).stderr_has(&["needs --reason"]);
    demo.run(&["retire", "M-99", "--reason", "x"]).code(65).stderr_has(&["no item M-99"]);
    demo.run(&["unretire", "M-9"]).code(65).stderr_has(&["is not retired"]);
    demo.run_as("amara", &["retire", "M-1", "--reason", "x"]).code(77).stderr_has(&["only its owner or a PMO administrator"]);
    demo.run_as("priya", &["retire", "U-1", "--reason", "x"]).code(77).stderr_has(&["only a PMO administrator may retire"]);
    demo.run(&["retire", "M-9", "--reason", "bad\u{7}"]).code(65);
    assert!(snapshot(&demo) == before, "a refused retire changed the file");
    // An owner may retire what they own; twice is refused.
    demo.run_as("priya", &["retire", "M-1", "--reason", "done elsewhere"]).ok();
    let after = snapshot(&demo);
    demo.run(&["retire", "M-1", "--reason", "again"]).code(65).stderr_has(&["already retired"]);
    assert!(snapshot(&demo) == after);
}

fn a_person_without_roles_can_be_retired(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_person_without_roles_can_be_retired") else { return };
    demo.run(&["add", "person", "--title", "Short Stay", "login=short"]).ok().stdout_has(&["P-15"]);
    demo.run(&["retire", "P-15", "--reason", "left the company"]).ok();
    assert_eq!(listed(&demo, &["all", "--retired"]), vec!["P-15"]);
}

fn a_retired_measure_that_stopped_reporting_is_no_longer_chased_for_updates(engine: Engine) {
    // M-12 has missed three weekly updates in the demo: a sponsor action, and on the ledger.
    let Some(demo) = Keel::demo_on_engine(engine, "a_retired_measure_that_stopped_reporting") else { return };
    assert!(demo.open_escalation("M-12").is_some(), "M-12 starts escalated for missed updates");
    let ledger = |k: &Keel| k.run(&["discipline", "--format", "json"]).ok().stdout.clone();
    assert!(ledger(&demo).contains("\"M-12\""), "M-12 is on the update ledger");
    demo.run(&["retire", "M-12", "--reason", "stopped: scope moved to M-11"]).ok();
    assert!(demo.open_escalation("M-12").is_none());
    assert!(!ledger(&demo).contains("\"M-12\""), "a retired item is not expected to report");
    // A sweep (what keel sync runs from cron) does not reopen it for the updates it misses.
    demo.run(&["sync"]).ok();
    assert!(demo.open_escalation("M-12").is_none(), "not reopened by a later sweep");
    assert!(!demo.run(&["check", "--format", "json"]).json().to_string().contains("\"M-12\""));
    demo.run(&["unretire", "M-12"]).ok();
    assert!(demo.open_escalation("M-12").is_some(), "back in service, its missed updates count again");
}

#[test]
fn a_cycle_retired_with_its_children_counts_and_logs_each_item_once() {
    let demo = Keel::demo();
    let r = demo.run(&["retire", "C-1", "--reason", "cycle closed", "--with-children"]);
    r.ok();
    let retired = listed(&demo, &["all", "--retired"]);
    // Child objectives hang under the cycle and under their parent objective alike.
    r.stdout_has(&[&format!("C-1: retired with {} item(s) under it", retired.len() - 1)]);
    let twice = |field: &str| -> i64 {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT item_key FROM audit WHERE field = 'retired' AND {field} GROUP BY item_key HAVING COUNT(*) > 1) x"
        );
        demo.sql().query_row(&sql, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(twice("old_value IS NULL"), 0, "each item is retired once");
    demo.run(&["unretire", "C-1", "--with-children"])
        .ok()
        .stdout_has(&[&format!("C-1: back in service with {} item(s)", retired.len() - 1)]);
    assert!(listed(&demo, &["all", "--retired"]).is_empty());
    assert_eq!(twice("new_value IS NULL"), 0, "each item comes back once");
}

crate::on_both_engines!(
    a_retired_measure_leaves_lists_funnel_and_escalations_and_comes_back
    a_package_with_active_measures_needs_with_children
    a_key_result_retired_leaves_its_objective_and_its_tree
    refusals_change_nothing
    a_person_without_roles_can_be_retired
    a_retired_measure_that_stopped_reporting_is_no_longer_chased_for_updates
);
