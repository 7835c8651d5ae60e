//! What a server protects that a file cannot: who acts is the role the server authenticated
//! (`session_user`), never an environment variable; the audit table is append-only by grants for
//! the role keel's users connect as; and read-only reporting views for BI tools. Each test has a
//! database of its own on the test server (see common::pg); without one they say they were skipped.

mod common;

use common::pg::Engine;
use common::Keel;

/// The audit log's rows after `before` (as `keel log --format json` lists them).
fn log_since(k: &Keel, before: usize) -> Vec<serde_json::Value> {
    let log = k.run(&["log", "--limit", "0", "--format", "json"]).ok().json();
    log.as_array().expect("a list of changes")[before..].to_vec()
}

#[test]
fn the_actor_is_the_servers_session_user_and_four_eyes_follow_it() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "session_user") else { return };
    // The demo's PMO administrator is whoever made it: the role the harness connects as.
    k.run(&["whoami"]).ok().stdout_has(&[&format!("login: {}", common::os_user()), "P-1"]);
    let before = k.run(&["log", "--limit", "0", "--format", "json"]).ok().json().as_array().unwrap().len();

    // Connected as fatima's role, keel acts as fatima: she requests, and cannot approve herself.
    k.run_as("fatima", &["whoami"]).ok().stdout_has(&["login: fatima"]);
    k.run_as("fatima", &["gate", "M-17", "request"]).ok().stdout_has(&["requested decided"]);
    k.run_as("fatima", &["gate", "M-17", "approve"]).code(77).stderr_has(&["four eyes"]);
    // KEEL_USER cannot make fatima's connection someone else, not even on a demo.
    let mut posing = k.cmd(Some("fatima"));
    posing.env("KEEL_USER", "elena");
    let r = common::run(posing, &["gate", "M-17", "approve"]);
    r.code(77).stderr_has(&["KEEL_USER is never honoured on a server", "(fatima)"]);
    // Elena's own role may approve as the sponsor.
    k.run_as("elena", &["gate", "M-17", "approve"]).ok().stdout_has(&["still awaits controller sign-off"]);

    let actors: Vec<String> = log_since(&k, before).iter().map(|r| r["actor"].as_str().unwrap_or_default().to_string()).collect();
    assert!(actors.contains(&"fatima".to_string()) && actors.contains(&"elena".to_string()), "{actors:?}");
    assert!(actors.iter().all(|a| a == "fatima" || a == "elena"), "only the two roles acted: {actors:?}");
    // The audit table itself names the session users.
    let mut db = k.server.as_ref().unwrap().client();
    let named: i64 = db.query_one("SELECT count(*) FROM audit WHERE actor IN ('fatima', 'elena')", &[]).unwrap().get(0);
    assert!(named >= 2, "the audit rows name the roles: {named}");

    // A role with no person record may look but not edit.
    k.run_as("mallory", &["show", "M-1"]).ok();
    k.run_as("mallory", &["set", "M-1", "narrative=not mine"]).code(77);
    assert_eq!(log_since(&k, before).len(), actors.len(), "the refused edit left no trace");
}

/// Roles of the test cluster (roles are the cluster's, not a database's): made unless there.
fn make_roles(k: &Keel, statements: &[&str]) {
    let mut admin = k.server.as_ref().unwrap().client();
    for s in statements {
        admin.batch_execute(&format!("DO $$ BEGIN {s}; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")).unwrap();
    }
}

/// `keel ARGS` connected as the server role `login`.
fn run_as_role(k: &Keel, login: &str, args: &[&str]) -> common::Run {
    let mut cmd = common::keel(k.dir.path());
    cmd.arg("--db").arg(k.server.as_ref().unwrap().url_for(login)).env("KEEL_TODAY", common::TODAY);
    common::run(cmd, args)
}

fn refused_for_privilege(result: Result<u64, postgres::Error>, what: &str) {
    let e = result.expect_err(what);
    assert_eq!(e.code(), Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE), "{what}: {e}");
}

#[test]
fn the_users_role_edits_through_keel_but_cannot_change_the_audit() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "grants") else { return };
    make_roles(
        &k,
        &[
            "CREATE ROLE keel_users_t NOLOGIN",
            "CREATE ROLE noah LOGIN IN ROLE keel_users_t",
            "CREATE ROLE keel_bi_t LOGIN",
        ],
    );
    // Printed, nothing applied: noah cannot read keel's tables yet.
    let printed = k.run(&["admin", "grants", "--role", "keel_users_t", "--readonly", "keel_bi_t"]);
    printed.ok().stdout_has(&[
        "GRANT SELECT, INSERT ON audit TO \"keel_users_t\";",
        "REVOKE UPDATE, DELETE, TRUNCATE ON audit, keel_meta FROM \"keel_users_t\";",
        "GRANT SELECT ON keel_items, keel_values, keel_escalations, keel_funnel TO \"keel_bi_t\";",
    ]);
    assert!(!printed.stdout.contains("UPDATE ON audit") && !printed.stdout.contains("DELETE ON audit"), "{}", printed.stdout);
    assert_ne!(run_as_role(&k, "noah", &["show", "M-27"]).code, 0, "no rights before the grants are applied");
    // A role name is never SQL.
    k.run(&["admin", "grants", "--role", "x; DROP TABLE audit"]).code(65).stderr_has(&["role name"]);

    k.run(&["admin", "grants", "--role", "keel_users_t", "--readonly", "keel_bi_t", "--apply"]).ok().stdout_has(&["applied"]);
    // keel's edits work as the users' role, and are audited as noah.
    run_as_role(&k, "noah", &["whoami"]).ok().stdout_has(&["login: noah"]);
    run_as_role(&k, "noah", &["set", "M-27", "actual=4321.50", "--period", common::WEEK]).ok().stdout_has(&["M-27: saved"]);
    run_as_role(&k, "noah", &["set", "M-27", "narrative=On track after the audit"]).ok();
    assert_eq!(common::value_row(&k.show("M-27"), common::WEEK)["actual"], "4321.50");
    run_as_role(&k, "noah", &["audit", "verify"]).ok().stdout_has(&["audit log intact"]);

    // Underneath keel, the role can append to the audit but never change or remove a row, nor
    // the schema's facts.
    let mut noah = k.server.as_ref().unwrap().client_as("noah");
    let audited: i64 = noah.query_one("SELECT count(*) FROM audit WHERE actor = 'noah'", &[]).unwrap().get(0);
    assert!(audited >= 2, "noah's edits are in the audit: {audited}");
    refused_for_privilege(noah.execute("UPDATE audit SET actor = 'someone else' WHERE actor = 'noah'", &[]), "UPDATE audit");
    refused_for_privilege(noah.execute("DELETE FROM audit WHERE actor = 'noah'", &[]), "DELETE FROM audit");
    refused_for_privilege(noah.execute("TRUNCATE audit", &[]), "TRUNCATE audit");
    refused_for_privilege(noah.execute("UPDATE keel_meta SET value = 1 WHERE name = 'schema_version'", &[]), "UPDATE keel_meta");
    refused_for_privilege(noah.execute("DROP TRIGGER IF EXISTS audit_no_update ON audit", &[]), "DROP TRIGGER");

    // The read-only role sees the reporting views and nothing else.
    let mut bi = k.server.as_ref().unwrap().client_as("keel_bi_t");
    let items: i64 = bi.query_one("SELECT count(*) FROM keel_items", &[]).unwrap().get(0);
    assert!(items > 0);
    refused_for_privilege(bi.execute("SELECT 1 FROM items", &[]), "SELECT items as the read-only role");
    refused_for_privilege(bi.execute("SELECT 1 FROM audit", &[]), "SELECT audit as the read-only role");
}
