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

#[test]
fn milestone_add_done_and_reopen_say_what_happened() {
    let k = Keel::demo();
    // M-1 has three milestones, all before December: the new one is number 4.
    k.run(&["milestone", "M-1", "add", "Pilot live", "2026-12-14"])
        .ok()
        .stdout_has(&["M-1: milestone 4 'Pilot live' added, due 2026-12-14"]);
    k.run(&["milestone", "M-1", "done", "4", "2026-11-20"]).ok().stdout_has(&["M-1: milestone 4 'Pilot live' done 2026-11-20"]);
    k.run(&["milestone", "M-1", "reopen", "4"]).ok().stdout_has(&["M-1: milestone 4 'Pilot live' reopened"]);
}

#[test]
fn a_measure_cannot_wait_for_itself() {
    let k = Keel::demo();
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
