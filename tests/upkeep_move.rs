//! `keel move KEY --to PARENT`: an objective under another objective, a key result to another
//! objective, a measure to another package, a node to another parent of its level; roll-ups and
//! escalations follow in the same edit; loops, depth, kinds and roles are refused with reasons
//! and nothing changed.

mod common;

use common::*;
use serde_json::Value;

/// The planned money a node's funnel holds over all stages.
fn planned(k: &Keel, node: &str) -> f64 {
    k.show(node)["funnel"]
        .as_array()
        .expect("a funnel")
        .iter()
        .map(|stage| stage[1]["planned"].as_str().unwrap().parse::<f64>().unwrap())
        .sum()
}

fn key_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().split(' ').next().unwrap_or_default().to_string()
}

/// `keel check --deep` finds the kept roll-ups equal to a recompute (70 when they differ).
fn derived_state_agrees(k: &Keel) {
    let r = k.run(&["check", "--deep"]);
    assert!(r.code != 70, "derived state differs after the move:\n{}", r.stderr);
}

fn a_measure_moves_to_another_package_and_its_money_follows(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_measure_moves_to_another_package_and_i") else { return };
    let (mp2, mp3, m4) = (planned(&demo, "MP-2"), planned(&demo, "MP-3"), planned(&demo, "MP-4"));
    let before_pj1 = planned(&demo, "PJ-1");
    let r = demo.run(&["move", "M-4", "--to", "MP-4"]);
    r.ok().stdout_has(&["M-4: moved from MP-2 to MP-4"]);
    assert_eq!(key_of(field(&demo.show("M-4"), "package")), "MP-4");
    let moved = mp2 - planned(&demo, "MP-2");
    assert!(moved.abs() > 0.0, "M-4 carries planned money");
    assert!((planned(&demo, "MP-4") - (m4 + moved)).abs() < 0.005);
    assert!((planned(&demo, "MP-3") - mp3).abs() < 0.005, "a bystander package is unchanged");
    assert!((planned(&demo, "PJ-1") - (before_pj1 - moved)).abs() < 0.005, "the old project lost it");
    derived_state_agrees(&demo);
    let log = demo.run(&["log", "M-4", "--format", "json"]).ok().json();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["field"].as_str(), last["old_value"].as_str(), last["new_value"].as_str()),
        (Some("package"), Some("MP-2"), Some("MP-4"))
    );
    // Moving it where it is changes nothing.
    demo.run(&["move", "M-4", "--to", "MP-4"]).ok().stdout_has(&["nothing changed"]);
}

fn a_project_moves_to_another_programme_and_both_funnels_are_summed_again(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_project_moves_to_another_programme_and") else { return };
    let (pg1, pg2, pj1) = (planned(&demo, "PG-1"), planned(&demo, "PG-2"), planned(&demo, "PJ-1"));
    demo.run(&["move", "PJ-1", "--to", "PG-2"]).ok().stdout_has(&["PJ-1: moved from PG-1 to PG-2"]);
    assert!((planned(&demo, "PG-1") - (pg1 - pj1)).abs() < 0.005);
    assert!((planned(&demo, "PG-2") - (pg2 + pj1)).abs() < 0.005);
    derived_state_agrees(&demo);
}

fn objectives_and_key_results_move_within_the_alignment(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "objectives_and_key_results_move_within_t") else { return };
    demo.run(&["move", "O-7", "--to", "O-4"]).ok().stdout_has(&["O-7: moved from O-3 to O-4"]);
    assert_eq!(key_of(field(&demo.show("O-7"), "parent")), "O-4");
    demo.run(&["move", "O-11", "--to", "none"]).ok().stdout_has(&["nothing changed"]);
    demo.run(&["move", "O-10", "--to", "none"]).ok().stdout_has(&["O-10: moved from O-5 to no parent"]);
    // A key result with a sponsor-tier escalation: its new objective's owner now handles it.
    let esc = demo.open_escalation("KR-1").expect("KR-1 is escalated in the demo");
    demo.run(&["move", "KR-1", "--to", "O-4"]).ok().stdout_has(&["KR-1: moved from O-1 to O-4"]);
    assert_eq!(key_of(field(&demo.show("KR-1"), "objective")), "O-4");
    let after = demo.open_escalation("KR-1").expect("still escalated");
    assert_eq!(after["tier"], esc["tier"]);
    derived_state_agrees(&demo);
    demo.run(&["audit", "verify"]).ok();
}

fn refused(k: &Keel, user: Option<&str>, args: &[&str], code: i32, said: &[&str]) {
    let before = k.export();
    let mut all = vec!["move"];
    all.extend_from_slice(args);
    let r = match user {
        Some(u) => k.run_as(u, &all),
        None => k.run(&all),
    };
    r.code(code).stderr_has(said);
    assert!(k.export() == before, "a refused move changed the file: {args:?}");
}

fn loops_wrong_parents_and_roles_are_refused(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "loops_wrong_parents_and_roles_are_refuse") else { return };
    refused(&demo, None, &["O-1", "--to", "O-7"], 65, &["O-1 parent: would make the objective tree a loop"]);
    refused(&demo, None, &["O-3", "--to", "O-3"], 65, &["loop"]);
    refused(&demo, None, &["KR-6", "--to", "MP-1"], 65, &["a key-result moves under an objective (O-n), not under a package"]);
    refused(&demo, None, &["KR-6", "--to", "none"], 65, &["must stay under an objective"]);
    refused(&demo, None, &["M-4", "--to", "PJ-1"], 65, &["moves under a package (MP-n)"]);
    refused(&demo, None, &["M-4", "--to", "MP-99"], 65, &["no item MP-99"]);
    refused(&demo, None, &["PJ-1", "--to", "PF-1"], 65, &["a project moves under a programme"]);
    refused(&demo, None, &["PF-1", "--to", "none"], 65, &["a portfolio is the top"]);
    refused(&demo, None, &["K-1", "--to", "KR-1"], 65, &["a KPI is linked, not placed"]);
    refused(&demo, None, &["U-1", "--to", "U-1"], 65, &["the unit tree would be a loop"]);
    refused(&demo, Some("amara"), &["M-4", "--to", "MP-1"], 77, &["M-4: only its owner or a PMO administrator"]);
    refused(&demo, Some("priya"), &["U-5", "--to", "U-1"], 77, &["only a PMO administrator may move units"]);
    // Within one cycle only.
    demo.run(&["add", "cycle", "--title", "FY27-H1", "start=2027-01-01", "end=2027-06-30"]).ok();
    demo.run(&["add", "objective", "--title", "Next year", "cycle=C-2"]).ok().stdout_has(&["O-12"]);
    refused(&demo, None, &["O-12", "--to", "O-1"], 65, &["O-1 is in another cycle"]);
}

fn an_objective_tree_deeper_than_the_limit_is_refused(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "an_objective_tree_deeper_than_the_limit_") else { return };
    // A chain of 100 objectives (the limit), and a root with one child.
    let login = os_user();
    let mut objectives = Vec::new();
    for n in 1..=102 {
        let parent = if (2..=100).contains(&n) {
            Some(format!("O-{}", n - 1))
        } else if n == 102 {
            Some("O-101".to_string())
        } else {
            None
        };
        let mut o = serde_json::json!({"key": format!("O-{n}"), "cycle": "C-1", "title": format!("objective {n}"), "level": "company"});
        if let Some(p) = parent {
            o["parent"] = Value::String(p);
        }
        objectives.push(o);
    }
    let plan = serde_json::json!({
        "format": "keel-plan", "version": 1,
        "cycles": [{"key": "C-1", "name": "FY", "start": "2026-01-01", "end": "2026-12-31"}],
        "people": [{"key": "P-1", "name": "Admin", "login": login, "pmo_admin": true}],
        "objectives": objectives,
    });
    let file = k.path("deep.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    k.run(&["import", file.to_str().unwrap()]).ok();
    refused(&k, None, &["O-101", "--to", "O-99"], 65, &["objectives nest at most 100 levels", "counting the 1 levels aligned under O-101"]);
    k.run(&["move", "O-102", "--to", "O-99"]).ok().stdout_has(&["O-102: moved from O-101 to O-99"]);
}

crate::on_both_engines!(
    a_measure_moves_to_another_package_and_its_money_follows
    a_project_moves_to_another_programme_and_both_funnels_are_summed_again
    objectives_and_key_results_move_within_the_alignment
    loops_wrong_parents_and_roles_are_refused
    an_objective_tree_deeper_than_the_limit_is_refused
);
