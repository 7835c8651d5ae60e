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
    make_roles(&k, &["CREATE ROLE keel_users_t NOLOGIN", "CREATE ROLE noah LOGIN IN ROLE keel_users_t", "CREATE ROLE keel_bi_t LOGIN"]);
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

/// A view's rows as text (NUMERIC printed as PostgreSQL prints it, which keeps the scale).
fn view_rows(k: &Keel, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut db = k.server.as_ref().unwrap().client();
    let rows = db.query(sql, &[]).unwrap();
    rows.iter().map(|r| (0..r.len()).map(|i| r.get::<_, Option<String>>(i)).collect()).collect()
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[test]
fn the_reporting_views_say_what_keel_list_show_and_escalations_say() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "views") else { return };
    // keel_items: every item `keel list all` shows, with its kind, title, owner, parent, stage and target.
    let listed = k.run(&["list", "all", "--format", "json"]).ok().json();
    let listed = listed.as_array().unwrap();
    assert!(listed.len() > 50, "the demo lists {} items", listed.len());
    for item in listed {
        let key = item["key"].as_str().unwrap();
        let rows = view_rows(
            &k,
            &format!("SELECT kind, title, owner, parent, stage, side_state, CAST(target AS TEXT) FROM keel_items WHERE key = '{key}'"),
        );
        let expected: Vec<Option<String>> =
            ["kind", "title", "owner", "parent", "stage", "side_state", "target"].iter().map(|c| text(&item[c])).collect();
        assert_eq!(rows, vec![expected], "keel_items for {key}");
    }
    // keel_values: every value of the plan (as `keel export` writes it), exact decimals, and
    // the periods `keel show` lists for a measure say the same.
    let plan: serde_json::Value = serde_json::from_str(&k.export()).unwrap();
    let columns = ["item", "period", "baseline", "planned", "forecast", "actual"];
    let mut expected: Vec<Vec<Option<String>>> =
        plan["values"].as_array().unwrap().iter().map(|v| columns.iter().map(|c| text(&v[c])).collect()).collect();
    expected.sort();
    let mut rows = view_rows(
        &k,
        "SELECT key, period, CAST(baseline AS TEXT), CAST(planned AS TEXT), CAST(forecast AS TEXT), CAST(actual AS TEXT) FROM keel_values",
    );
    rows.sort();
    assert!(expected.len() > 100, "the demo has {} values", expected.len());
    assert_eq!(rows, expected, "keel_values");
    for v in k.show("M-1")["values"].as_array().unwrap() {
        let row: Vec<Option<String>> = std::iter::once(Some("M-1".to_string())).chain(columns[1..].iter().map(|c| text(&v[c]))).collect();
        assert!(rows.contains(&row), "keel show M-1 {row:?} is in keel_values");
    }
    // keel_escalations: the open ones are those `keel escalations` lists.
    let open = k.escalations();
    assert!(!open.is_empty(), "the demo has open escalations");
    let rows = view_rows(
        &k,
        "SELECT CAST(id AS TEXT), key, CAST(tier AS TEXT), reason, period, CAST(gap AS TEXT), CAST(ROUND(relative, 4) AS TEXT), CAST(periods_out AS TEXT)
           FROM keel_escalations WHERE state = 'open' ORDER BY id",
    );
    let mut expected: Vec<Vec<Option<String>>> = open
        .iter()
        .map(|e| ["id", "key", "tier", "reason", "period", "gap", "relative", "periods_out"].iter().map(|c| text(&e[c])).collect())
        .collect();
    expected.sort_by_key(|r| r[0].as_ref().unwrap().parse::<i64>().unwrap());
    assert_eq!(rows, expected, "keel_escalations");
    // keel_funnel: a portfolio's money by stage, as `keel show` gives it.
    let funnel = k.show("PF-1")["funnel"].as_array().unwrap().clone();
    for stage in funnel {
        let (name, money) = (stage[0].as_str().unwrap(), &stage[1]);
        let rows = view_rows(
            &k,
            &format!("SELECT CAST(planned AS TEXT), CAST(forecast AS TEXT), CAST(actual AS TEXT) FROM keel_funnel WHERE key = 'PF-1' AND stage = '{name}'"),
        );
        assert_eq!(rows, vec![["planned", "forecast", "actual"].iter().map(|c| text(&money[c])).collect::<Vec<_>>()], "funnel {name}");
    }
    // Money is NUMERIC in the views.
    let types = view_rows(
        &k,
        "SELECT CAST(data_type AS TEXT) FROM information_schema.columns WHERE table_name IN ('keel_values', 'keel_funnel')
           AND column_name IN ('planned', 'forecast', 'actual') GROUP BY data_type",
    );
    assert_eq!(types, vec![vec![Some("numeric".to_string())]]);
}
