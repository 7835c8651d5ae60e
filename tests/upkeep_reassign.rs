//! `keel person P-n reassign --to P-m [--roles …]`: a leaver's roles move in one audited edit;
//! a measure whose owner would become its own sponsor or controller is listed and left as it is.
//!
//! Demo facts: li (P-4) owns MP-12, M-34, M-35 and controls many measures; kwame (P-10) owns
//! M-32, M-33 and controls M-34; amara (P-2) sponsors M-1, M-9, M-12 which priya (P-5) owns.

mod common;

use common::*;
use serde_json::Value;

fn plan(k: &Keel) -> Value {
    serde_json::from_str(&k.export()).unwrap()
}

/// Every (item key, role) a person holds in the plan.
fn roles_of(plan: &Value, person: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in ["objectives", "key_results", "kpis", "kras", "nodes", "measures"] {
        for item in plan[section].as_array().unwrap() {
            for role in ["owner", "sponsor", "controller"] {
                if item[role] == person {
                    out.push((item["key"].as_str().unwrap().to_string(), role.to_string()));
                }
            }
        }
    }
    out
}

fn a_leavers_roles_move_in_one_edit_with_four_eyes_kept(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_leavers_roles_move_in_one_edit_with_fo") else { return };
    let before = plan(&demo);
    let held = roles_of(&before, "P-4");
    assert!(held.len() > 10);
    let r = demo.run(&["person", "P-4", "reassign", "--to", "P-10"]);
    r.ok().stdout_has(&[
        "from P-4 Li Wei to P-10 Kwame Mensah",
        "left for a person to decide: M-34 — P-10 would be both its owner and its controller",
        "left for a person to decide: M-32",
        "left for a person to decide: M-33",
    ]);
    let after = plan(&demo);
    let left = roles_of(&after, "P-4");
    let mut left_keys: Vec<&str> = left.iter().map(|(k, _)| k.as_str()).collect();
    left_keys.sort();
    left_keys.dedup();
    assert_eq!(left_keys, vec!["M-32", "M-33", "M-34"], "only the four-eyes cases stay with P-4: {left:?}");
    for (key, role) in held.iter().filter(|(k, _)| !left_keys.contains(&k.as_str())) {
        assert!(roles_of(&after, "P-10").contains(&(key.clone(), role.clone())), "{role} of {key} moved to P-10");
    }
    // Nobody is their own sponsor or controller afterwards.
    for m in after["measures"].as_array().unwrap() {
        if !m["owner"].is_null() {
            assert_ne!(m["owner"], m["sponsor"], "{}", m["key"]);
            assert_ne!(m["owner"], m["controller"], "{}", m["key"]);
        }
    }
    // In the log as changes of each item and one summary on the leaver, all at once.
    let log = demo.run(&["log", "--format", "json", "--limit", "0"]).ok().json();
    let rows = log.as_array().unwrap();
    let summary = rows.iter().find(|r| r["item_key"] == "P-4" && r["field"] == "roles handed on").expect("a summary row");
    assert_eq!(summary["new_value"], "P-10");
    let m1 = rows.iter().rev().find(|r| r["item_key"] == "M-1" && r["field"] == "controller").expect("M-1's controller change");
    assert_eq!(
        (m1["old_value"].as_str(), m1["new_value"].as_str(), m1["at"].as_str()),
        (Some("P-4"), Some("P-10"), summary["at"].as_str())
    );
    assert_ne!(demo.run(&["check", "--deep"]).code, 70);
    demo.run(&["audit", "verify"]).ok();

    // The rest is decided by hand; then the leaver holds nothing and can be retired.
    demo.run(&["retire", "P-4", "--reason", "left"]).code(65).stderr_has(&["still holds"]);
    demo.run(&["set", "M-34", "owner=P-6"]).ok();
    for m in ["M-32", "M-33"] {
        demo.run(&["set", m, "controller=P-6"]).ok();
    }
    demo.run(&["person", "P-4", "reassign", "--to", "P-10"]).ok();
    assert!(roles_of(&plan(&demo), "P-4").is_empty());
    demo.run(&["retire", "P-4", "--reason", "left the company"]).ok();
}

fn people_may_be_named_by_login(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "people_may_be_named_by_login") else { return };
    demo.run(&["person", "li", "reassign", "--to", "kwame", "--roles", "owner"]).ok().stdout_has(&["from P-4 Li Wei to P-10 Kwame Mensah"]);
    demo.run(&["add", "measure", "--title", "x", "--parent", "MP-1", "--owner", "priya"]).ok().stdout_has(&["M-37"]);
    assert_eq!(field(&demo.show("M-37"), "owner"), "P-5 Priya Raman");
    demo.run(&["add", "measure", "--title", "x", "--owner", "nobody"]).code(65).stderr_has(&["neither a person key (P-n) nor a login"]);
}

fn only_the_roles_named_move(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "only_the_roles_named_move") else { return };
    demo.run(&["person", "P-2", "reassign", "--to", "P-12", "--roles", "sponsor"]).ok().stdout_has(&["sponsor of M-1"]);
    let after = plan(&demo);
    let amara = roles_of(&after, "P-2");
    assert!(amara.iter().all(|(_, role)| role == "owner"), "amara keeps only what she owns: {amara:?}");
    assert!(amara.iter().any(|(k, _)| k == "O-1"));
}

fn refusals_change_nothing(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "refusals_change_nothing") else { return };
    let before = demo.export();
    demo.run_as("priya", &["person", "P-4", "reassign", "--to", "P-10"]).code(77).stderr_has(&["only a PMO administrator"]);
    demo.run(&["person", "P-4", "reassign", "--to", "P-4"]).code(65).stderr_has(&["the same person"]);
    demo.run(&["person", "P-4", "reassign", "--to", "P-99"]).code(65).stderr_has(&["no item P-99"]);
    demo.run(&["person", "P-4", "reassign", "--to", "M-1"]).code(65).stderr_has(&["M-1 is a measure"]);
    demo.run(&["person", "P-4", "reassign", "--to", "P-10", "--roles", "boss"]).code(65).stderr_has(&["not a role"]);
    demo.run(&["person", "P-4", "reassign"]).code(64);
    assert!(demo.export() == before, "a refused reassign changed the file");
    demo.run(&["add", "person", "--title", "Gone", "login=gone"]).ok();
    demo.run(&["retire", "P-15", "--reason", "left"]).ok();
    let with_gone = demo.export();
    demo.run(&["person", "P-4", "reassign", "--to", "P-15"]).code(65).stderr_has(&["P-15 is retired"]);
    assert!(demo.export() == with_gone);
    assert!(before != with_gone);
}

#[test]
fn a_reassign_four_eyes_leave_whole_says_so_and_writes_nothing() {
    let demo = Keel::demo();
    let before = demo.export();
    let audit = demo.run(&["log", "P-5", "--format", "json"]).ok().stdout.clone();
    // priya (P-5) sponsors only M-2, which sofia (P-11) owns: sofia cannot become its sponsor.
    let r = demo.run(&["person", "P-5", "reassign", "--to", "P-11", "--roles", "sponsor"]);
    r.ok().stdout_has(&["no role handed from P-5", "left for a person to decide: M-2 — P-11 would be both its owner and its sponsor"]);
    assert!(!r.stdout.contains("handed 0"), "{}", r.stdout);
    assert!(demo.export() == before);
    assert_eq!(demo.run(&["log", "P-5", "--format", "json"]).ok().stdout, audit, "no audit row for nothing handed on");
}

crate::on_both_engines!(
    a_leavers_roles_move_in_one_edit_with_four_eyes_kept
    people_may_be_named_by_login
    only_the_roles_named_move
    refusals_change_nothing
);
