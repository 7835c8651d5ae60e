//! Roles and permissions, one negative test per rule through the real binary. People have roles
//! per item (owner, sponsor, controller) and may be PMO administrators:
//!
//! 1. only the owner (or a PMO administrator) edits a measure's values and narrative;
//! 2. only the sponsor approves *Decided* (and confirms *Implemented*);
//! 3. only the controller validates realised value (*Closed*);
//! 4. nobody approves their own request;
//! 5. a login with no person record is read-only;
//! 6. only a PMO administrator changes people (including the PMO flag) or imports into a file
//!    that has people.
//!
//! Already covered in cli_rules.rs and not repeated: a bystander entering numbers, a bystander
//! approving, the owner approving their own request, `nobody` setting a value or approving.
//! Refused permission checks (exit 77) leave the file byte for byte as it was; gate moves refused
//! for a missing role (exit 77 too; 65 when the measure lacks something) change nothing in the
//! plan but are recorded as attempts in the log, by design.
//!
//! Demo people (login → person): tester P-1 (PMO administrator), amara P-2, jonas P-3, li P-4,
//! priya P-5, tomas P-6, fatima P-7, elena P-9, kwame P-10. M-17: owner fatima, sponsor elena,
//! controller li. M-1: owner priya, sponsor amara, controller li.

mod common;

use common::*;

fn bytes(k: &Keel) -> Vec<Vec<u8>> {
    ["", "-wal"].iter().map(|s| std::fs::read(format!("{}{s}", k.db.display())).unwrap_or_default()).collect()
}

/// `login` runs `args`: refused with `code`, naming `fragments`, and the file is unchanged.
#[track_caller]
fn not_permitted(k: &Keel, login: &str, args: &[&str], fragments: &[&str]) {
    let before = bytes(k);
    let r = if login == os_user() { k.run(args) } else { k.run_as(login, args) };
    r.code(77).stderr_has(fragments);
    assert!(bytes(k) == before, "{login}: keel {args:?} was refused but changed the file");
}

/// A gate move refused for the person's role: exit 77 (not permitted) with the reason, nothing in
/// the plan changed, and the attempt on the record under the person's login.
#[track_caller]
fn gate_refused(k: &Keel, login: &str, key: &str, action: &str, fragments: &[&str]) {
    let plan = k.export();
    let r = if login == os_user() { k.run(&["gate", key, action]) } else { k.run_as(login, &["gate", key, action]) };
    r.code(77).stderr_has(fragments);
    assert!(k.export() == plan, "{login}: a refused `gate {key} {action}` changed the plan");
    let last = k.run(&["log", key, "--format", "json"]).ok().json();
    let row = last.as_array().unwrap().last().cloned().unwrap();
    assert_eq!((row["actor"].as_str(), row["new_value"].as_str()), (Some(login), Some(format!("{action} refused").as_str())));
}

fn gate(k: &Keel, key: &str) -> serde_json::Value {
    k.show(key)["gate"].clone()
}

// 1. ------------------------------------------------------------------------------------------

fn sponsor_and_controller_may_not_edit_a_measures_values_or_narrative(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "sponsor_and_controll") else { return };
    for login in ["elena", "li"] {
        for args in [
            vec!["set", "M-17", "actual=1", "--period", WEEK],
            vec!["set", "M-17", "planned=1", "--period", "2026-W50"],
            vec!["set", "M-17", "comment=not mine", "--period", WEEK],
            vec!["set", "M-17", "narrative=not mine to write"],
            vec!["set", "M-17", "risk=not mine either"],
            vec!["milestone", "M-17", "add", "Not mine", "2027-01-15"],
            vec!["link", "M-17", "KR-1"],
        ] {
            not_permitted(&demo, login, &args, &["M-17", "only its owner or a PMO administrator"]);
        }
    }
    // A key result's owner may not edit the measures that contribute to it either.
    let kr = demo.show("KR-1");
    let kr_owner = field(&kr, "owner").as_str().unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(kr_owner, "P-3", "KR-1 is jonas's");
    not_permitted(&demo, "jonas", &["set", "M-1", "narrative=jonas writes on priya's measure"], &["M-1", "only its owner"]);
    // The owner may, and so may the PMO administrator.
    demo.run_as("fatima", &["set", "M-17", "narrative=owner's words", "actual=1", "--period", WEEK]).ok();
    demo.run(&["set", "M-17", "risk=admin's words"]).ok();
}

// 2. ------------------------------------------------------------------------------------------

fn only_the_sponsor_approves_decided(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "only_the_sponsor_app") else { return };
    demo.run_as("fatima", &["gate", "M-17", "request"]).ok();
    // The PMO administrator is not the sponsor: administration does not stand in for approval.
    gate_refused(&demo, os_user(), "M-17", "approve", &["the sponsor's approval or the controller's sign-off"]);
    // The sponsor of another measure is not this one's sponsor.
    gate_refused(&demo, "amara", "M-17", "approve", &["the sponsor's approval"]);
    // The controller's sign-off does not count as the sponsor's approval.
    demo.run_as("li", &["gate", "M-17", "approve"]).ok().stdout_has(&["still awaits sponsor approval"]);
    let g = gate(&demo, "M-17");
    assert_eq!((g["stage"].as_str(), g["pending"].as_str()), (Some("detailed"), Some("decided")));
    assert_eq!(g["awaiting"], serde_json::json!(["sponsor approval"]));
    // Only the sponsor moves it.
    demo.run_as("elena", &["gate", "M-17", "approve"]).ok().stdout_has(&["moved detailed → decided"]);
}

// 3. ------------------------------------------------------------------------------------------

fn only_the_controller_validates_realised_value(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "only_the_controller_") else { return };
    // M-1 is implemented with actuals; its owner asks for it to be closed.
    assert_eq!(gate(&demo, "M-1")["stage"], "implemented");
    demo.run_as("priya", &["gate", "M-1", "request"]).ok().stdout_has(&["controller validation"]);
    gate_refused(&demo, "amara", "M-1", "approve", &["the controller's validation"]);
    gate_refused(&demo, os_user(), "M-1", "approve", &["the controller's validation"]);
    // Another measure's controller is not this one's.
    gate_refused(&demo, "kwame", "M-1", "approve", &["the controller's validation"]);
    assert_eq!(gate(&demo, "M-1")["stage"], "implemented");
    demo.run_as("li", &["gate", "M-1", "approve"]).ok().stdout_has(&["moved implemented → closed"]);
}

// 4. ------------------------------------------------------------------------------------------

fn nobody_approves_their_own_request_even_as_sponsor_or_controller(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "nobody_approves_thei") else { return };
    // The PMO administrator becomes M-17's sponsor and asks for Decided on the owner's behalf:
    // the request is theirs, so their approval as sponsor is refused.
    demo.run(&["set", "M-17", "sponsor=P-1"]).ok();
    demo.run(&["gate", "M-17", "request"]).ok();
    gate_refused(&demo, os_user(), "M-17", "approve", &["four eyes"]);
    assert_eq!(gate(&demo, "M-17")["pending"], "decided");
    assert!(demo.show("M-17")["gate"]["awaiting"].as_array().unwrap().iter().any(|a| a == "sponsor approval"));

    // The same for a controller who requested Closed.
    demo.run(&["set", "M-1", "controller=P-1"]).ok();
    demo.run(&["gate", "M-1", "request"]).ok();
    gate_refused(&demo, os_user(), "M-1", "approve", &["four eyes"]);
    assert_eq!(gate(&demo, "M-1")["stage"], "implemented");
}

// 5. ------------------------------------------------------------------------------------------

fn a_login_without_a_person_record_is_read_only_for_every_kind_of_edit(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_login_without_a_pe") else { return };
    let id = demo.open_escalation("M-16").unwrap()["id"].to_string();
    let plan = demo.path("plan.json");
    std::fs::write(&plan, demo.export()).unwrap();
    for args in [
        vec!["set", "M-1", "narrative=from nobody"],
        vec!["milestone", "M-1", "add", "Nobody's", "2027-01-15"],
        vec!["link", "M-1", "KR-2"],
        vec!["depend", "M-1", "M-2"],
        vec!["decide", "M-1", "Nobody decides this"],
        vec!["escalation", &id, "ack"],
        vec!["gate", "M-1", "request"],
        vec!["import", plan.to_str().unwrap()],
    ] {
        not_permitted(&demo, "nobody", &args, &["nobody"]);
    }
    demo.run_as("nobody", &["whoami"]).ok().stdout_has(&["person: none"]);
}

// 6. ------------------------------------------------------------------------------------------

fn only_a_pmo_administrator_changes_people_or_imports_into_a_populated_file(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "only_a_pmo_administr") else { return };
    // Nobody makes themselves an administrator or takes over someone's login.
    not_permitted(&demo, "amara", &["set", "P-2", "pmo_admin=true"], &["P-2", "only a PMO administrator"]);
    not_permitted(&demo, "amara", &["set", "P-5", "login=amara2"], &["P-5", "only a PMO administrator"]);
    let plan = demo.path("fragment.json");
    std::fs::write(
        &plan,
        serde_json::json!({"format": "keel-plan", "version": 1,
            "people": [{"key": "P-99", "name": "Mallory", "login": "mallory", "pmo_admin": true}]})
        .to_string(),
    )
    .unwrap();
    not_permitted(&demo, "amara", &["import", plan.to_str().unwrap()], &["only a PMO administrator may import"]);
    // The administrator may.
    demo.run(&["import", plan.to_str().unwrap()]).ok();
    demo.run_as("mallory", &["whoami"]).ok().stdout_has(&["P-99", "PMO administrator"]);
}

crate::on_both_engines!(
    sponsor_and_controller_may_not_edit_a_measures_values_or_narrative
    only_the_sponsor_approves_decided
    only_the_controller_validates_realised_value
    nobody_approves_their_own_request_even_as_sponsor_or_controller
    a_login_without_a_person_record_is_read_only_for_every_kind_of_edit
    only_a_pmo_administrator_changes_people_or_imports_into_a_populated_file
);
