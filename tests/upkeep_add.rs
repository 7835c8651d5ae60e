//! `keel add`: every kind the plan knows, from the command line, checked by the plan import's
//! own validation (one validator), printing the new key; each refusal changes nothing and exits
//! with its documented code.
//!
//! Demo people: the test's own login is P-1, the PMO administrator; priya (P-5) owns MP-1 and
//! O-7; amara (P-2) owns O-1 and no package.

mod common;

use common::*;

/// The first line of a successful add: the new key.
fn added(k: &Keel, args: &[&str]) -> String {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    let r = k.run(&all);
    r.ok();
    r.stdout.lines().next().expect("the new key").to_string()
}

fn every_kind_can_be_added_and_prints_its_new_key(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "every_kind_can_be_added_and_prints_its_n") else { return };
    assert_eq!(added(&demo, &["measure", "--title", "Route optimiser", "--parent", "MP-2", "--owner", "P-3", "potential=50000"]), "M-37");
    let m = demo.show("M-37");
    assert_eq!(m["title"], "Route optimiser");
    assert_eq!(field(&m, "package"), "MP-2 Account reviews and pricing");
    assert_eq!(field(&m, "owner"), "P-3 Jonas Berg");
    assert_eq!(m["gate"]["stage"], "defined", "a new measure starts defined");

    let kr = added(&demo, &["key-result", "--title", "NPS up", "--parent", "O-3", "kind=increase-to", "baseline=30", "target=40"]);
    assert_eq!(kr, "KR-19");
    assert_eq!(field(&demo.show("KR-19"), "objective").as_str().unwrap().split(' ').next(), Some("O-3"));

    // An objective under another lands in its cycle, one level down.
    assert_eq!(added(&demo, &["objective", "--title", "Win back lapsed accounts", "--parent", "O-1", "--owner", "P-2"]), "O-12");
    let o = demo.show("O-12");
    assert_eq!(field(&o, "cycle").as_str().unwrap().split(' ').next(), Some("C-1"));
    assert_eq!(field(&o, "level"), "department");
    assert_eq!(field(&o, "parent").as_str().unwrap().split(' ').next(), Some("O-1"));

    assert_eq!(added(&demo, &["kpi", "--title", "Churn", "ipo_class=outcome", "direction=lower", "--parent", "KR-1"]), "K-14");
    assert_eq!(added(&demo, &["portfolio", "--title", "Growth portfolio", "--owner", "P-12"]), "PF-2");
    assert_eq!(added(&demo, &["programme", "--title", "Growth programme", "--parent", "PF-2"]), "PG-3");
    assert_eq!(added(&demo, &["project", "--title", "Growth project", "--parent", "PG-3"]), "PJ-7");
    assert_eq!(added(&demo, &["package", "--title", "Growth package", "--parent", "PJ-7"]), "MP-13");
    assert_eq!(added(&demo, &["person", "--name", "Zed Newcomer", "login=zed", "email=zed@example.org"]), "P-15");
    assert_eq!(added(&demo, &["unit", "--title", "Legal", "kind=function"]), "U-12");
    assert_eq!(added(&demo, &["cycle", "--title", "FY27-H1", "start=2027-01-01", "end=2027-06-30"]), "C-2");
    assert_eq!(added(&demo, &["kra", "--title", "Compliance", "--owner", "P-2"]), "KRA-5");

    // Each is in the plan, created by the one who added it, and the audit chain holds.
    let plan: serde_json::Value = serde_json::from_str(&demo.export()).unwrap();
    assert!(plan["people"].as_array().unwrap().iter().any(|p| p["key"] == "P-15" && p["login"] == "zed"));
    assert!(plan["kpis"].as_array().unwrap().iter().any(|k| k["key"] == "K-14" && k["informs"][0] == "KR-1"));
    let log = demo.run(&["log", "M-37", "--format", "json"]).ok().json();
    assert_eq!(log[0]["field"], "created");
    assert_eq!(log[0]["new_value"], "added");
    demo.run(&["audit", "verify"]).ok();
    demo.run(&["check", "--deep"]);
}

fn an_owner_adds_under_what_they_own(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "an_owner_adds_under_what_they_own") else { return };
    let r = demo.run_as("priya", &["add", "measure", "--title", "Welcome call", "--parent", "MP-1"]);
    r.ok().stdout_has(&["M-37"]);
    let r = demo.run_as("priya", &["add", "key-result", "--title", "Repeat complaints", "--parent", "O-7", "kind=milestone"]);
    r.ok().stdout_has(&["KR-19"]);
}

/// Run a refused add and check nothing changed.
fn refused(k: &Keel, user: Option<&str>, args: &[&str], code: i32, said: &[&str]) {
    let before = k.export();
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    let r = match user {
        Some(u) => k.run_as(u, &all),
        None => k.run(&all),
    };
    r.code(code).stderr_has(said);
    assert!(k.export() == before, "a refused add changed the file: {args:?}");
}

fn refusals_name_what_is_wrong_and_change_nothing(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "refusals_name_what_is_wrong_and_change_n") else { return };
    refused(
        &demo,
        None,
        &["measure", "--title", "x", "--parent", "MP-99"],
        65,
        &["cannot add the measure M-37", "package: MP-99 does not exist"],
    );
    refused(&demo, None, &["measure", "--title", "x", "--parent", "O-1"], 65, &["package: O-1 is a objective, expected a package"]);
    refused(&demo, None, &["project", "--title", "x", "--parent", "PF-1"], 65, &["parent: PF-1 is a portfolio, expected a programme"]);
    refused(&demo, None, &["programme", "--title", "x"], 65, &["a programme needs a parent portfolio"]);
    refused(&demo, None, &["measure", "--title", "x", "--parent", "MP-1", "--owner", "P-99"], 65, &["owner: P-99 does not exist"]);
    refused(&demo, None, &["measure", "--title", "x", "colour=red"], 65, &["a measure has no field 'colour'", "potential"]);
    refused(&demo, None, &["measure", "--title", "x", "potential=12,5"], 65, &["potential:"]);
    refused(&demo, None, &["measure", "--title", "x", "stage=closed"], 65, &["stage cannot be set on a new item", "keel gate"]);
    refused(&demo, None, &["key-result", "--title", "x", "--parent", "O-3"], 65, &["needs kind=VALUE", "increase-to"]);
    refused(&demo, None, &["measure", "--parent", "MP-1"], 65, &["needs a title"]);
    refused(&demo, None, &["cycle", "--title", "FY27", "start=2027-06-30", "end=2027-01-01"], 65, &["start is after end"]);
    refused(&demo, None, &["cycle", "--title", "x", "--owner", "P-1"], 65, &["a cycle has no owner"]);
    refused(&demo, None, &["person", "--title", "Dup", "login=priya"], 65, &["login 'priya' is already taken"]);
    refused(&demo, None, &["widget", "--title", "x"], 65, &["is not a kind of item"]);
    refused(&demo, None, &["measure", "--title", "bad\u{1b}[2J"], 65, &["title"]);
    // Roles: amara owns no package; nobody but an administrator adds people or top-level items.
    refused(
        &demo,
        Some("amara"),
        &["measure", "--title", "x", "--parent", "MP-1"],
        77,
        &["MP-1: only its owner or a PMO administrator may add a measure"],
    );
    refused(&demo, Some("priya"), &["person", "--title", "x"], 77, &["only a PMO administrator may add a person"]);
    refused(&demo, Some("priya"), &["portfolio", "--title", "x"], 77, &["only a PMO administrator may add a portfolio without a parent"]);
}

/// The same key result refused the same way by `keel add` and by a plan import: one validator.
fn add_says_what_the_plan_import_says(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "add_says_what_the_plan_import_says") else { return };
    let r = demo.run(&["add", "key-result", "--title", "Backwards", "--parent", "O-3", "kind=increase-to", "baseline=50", "target=40"]);
    r.code(65);
    let plan = serde_json::json!({
        "format": "keel-plan", "version": 1,
        "key_results": [{"key": "KR-50", "objective": "O-3", "title": "Backwards", "kind": "increase-to", "baseline": "50", "target": "40", "weight": "1"}]
    });
    let file = demo.path("kr.json");
    std::fs::write(&file, plan.to_string()).unwrap();
    let imported = demo.run(&["import", file.to_str().unwrap()]);
    imported.code(65);
    let why = "an increase-to target must lie above its baseline";
    assert!(r.stderr.contains(why) && imported.stderr.contains(why), "add:\n{}\nimport:\n{}", r.stderr, imported.stderr);
}

/// A new file is built from nothing: its maker adds themselves first, then the rest.
fn an_empty_file_is_built_item_by_item(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "an_empty_file_is_built_item_by_item") else { return };
    let login = format!("login={}", os_user());
    k.run(&["add", "cycle", "FY27", "start=2027-01-01", "end=2027-12-31"]).code(77).stderr_has(&["only a PMO administrator"]);
    assert_eq!(added(&k, &["person", "Me Myself", &login, "pmo_admin=true"]), "P-1");
    assert_eq!(added(&k, &["cycle", "FY27", "start=2027-01-01", "end=2027-12-31"]), "C-1");
    assert_eq!(added(&k, &["objective", "Grow", "--owner", "P-1"]), "O-1");
    assert_eq!(added(&k, &["key-result", "Revenue", "--parent", "O-1", "kind=increase-to", "baseline=1", "target=2"]), "KR-1");
    assert_eq!(added(&k, &["portfolio", "Change"]), "PF-1");
    assert_eq!(added(&k, &["programme", "Change programme", "--parent", "PF-1"]), "PG-1");
    assert_eq!(added(&k, &["project", "Change project", "--parent", "PG-1"]), "PJ-1");
    assert_eq!(added(&k, &["package", "Change package", "--parent", "PJ-1"]), "MP-1");
    assert_eq!(added(&k, &["measure", "First measure", "--parent", "MP-1", "--owner", "P-1", "contributes_to=KR-1"]), "M-1");
    let plan: serde_json::Value = serde_json::from_str(&k.export()).unwrap();
    assert_eq!(plan["measures"][0]["contributes_to"][0], "KR-1");
    assert_eq!(plan["objectives"][0]["cycle"], "C-1");
    k.run(&["check"]).ok();
}

crate::on_both_engines!(
    every_kind_can_be_added_and_prints_its_new_key
    an_owner_adds_under_what_they_own
    refusals_name_what_is_wrong_and_change_nothing
    add_says_what_the_plan_import_says
    an_empty_file_is_built_item_by_item
);
