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

