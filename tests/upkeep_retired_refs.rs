//! Nothing in service is handed to, or placed under, something retired: `keel set`, `keel add`,
//! a plan import and `keel unretire` each refuse it by name and change nothing.
//!
//! Demo facts: M-8 is defined and owned by P-3; MP-6 holds three measures; M-15 is priya's.

mod common;

use common::*;

/// A demo with one retired person, P-15, who holds no roles.
fn with_a_leaver() -> Keel {
    let demo = Keel::demo();
    demo.run(&["add", "person", "--title", "Gone Person"]).ok().stdout_has(&["P-15"]);
    demo.run(&["retire", "P-15", "--reason", "left the company"]).ok();
    demo
}

#[test]
fn a_retired_person_is_given_no_role() {
    let demo = with_a_leaver();
    let before = demo.export();
    demo.run(&["set", "M-8", "owner=P-15"]).code(65).stderr_has(&["M-8 owner: P-15 is retired", "left the company"]);
    demo.run(&["set", "M-8", "sponsor=P-15"]).code(65).stderr_has(&["P-15 is retired"]);
    demo.run(&["add", "measure", "--title", "Orphan", "--parent", "MP-1", "--owner", "P-15"])
        .code(65)
        .stderr_has(&["owner: P-15 is retired; name someone in service"]);
    let plan = demo.path("more.json");
    std::fs::write(
        &plan,
        r#"{"format": "keel-plan", "version": 1, "measures": [{"key": "M-60", "title": "Late", "package": "MP-1", "owner": "P-15",
            "stage": "defined", "cadence": "weekly", "value_type": "recurring-benefit"}]}"#,
    )
    .unwrap();
    demo.run(&["import", plan.to_str().unwrap()]).code(65).stderr_has(&["measures[0] (M-60): owner: P-15 is retired"]);
    assert!(demo.export() == before, "nothing changed");
}

#[test]
fn nothing_is_placed_under_a_retired_item() {
    let demo = Keel::demo();
    demo.run(&["retire", "MP-6", "--reason", "merged into MP-5", "--with-children"]).ok();
    let before = demo.export();
    demo.run(&["set", "M-8", "package=MP-6"]).code(65).stderr_has(&["MP-6 is retired", "keel unretire MP-6"]);
    let plan = demo.path("more.json");
    std::fs::write(
        &plan,
        r#"{"format": "keel-plan", "version": 1, "measures": [{"key": "M-60", "title": "Late", "package": "MP-6",
            "stage": "defined", "cadence": "weekly", "value_type": "recurring-benefit"}]}"#,
    )
    .unwrap();
    demo.run(&["import", plan.to_str().unwrap()]).code(65).stderr_has(&["measures[0] (M-60): it would sit under MP-6, which is retired"]);
    assert!(demo.export() == before, "nothing changed");
}

#[test]
fn an_item_whose_owner_has_left_does_not_come_back_until_handed_on() {
    let demo = with_a_leaver();
    demo.run(&["retire", "M-15", "--reason", "paused"]).ok();
    // A retired item's own fields may still be set, to anyone.
    demo.run(&["set", "M-15", "owner=P-15"]).ok();
    let before = demo.export();
    demo.run(&["unretire", "M-15"]).code(65).stderr_has(&["M-15 would come back with owner P-15, who is retired"]);
    assert!(demo.export() == before, "nothing changed");
    demo.run(&["set", "M-15", "owner=P-5"]).ok();
    demo.run(&["unretire", "M-15"]).ok().stdout_has(&["M-15: back in service"]);
}
