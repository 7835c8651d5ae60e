//! The organisation's settings (issue 12, holes 10 and 15): validated when set, on import and with
//! `keel settings`; a bad value already in a file is named by `keel check` (exit 78) and the app
//! until it is fixed, never silently replaced by its default.

mod common;

use common::*;
use serde_json::{json, Value};

/// A small plan carrying `settings`.
fn plan_with(settings: Value) -> Value {
    json!({
        "format": "keel-plan",
        "version": 1,
        "people": [{"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true}],
        "settings": settings,
    })
}

fn import(k: &Keel, plan: &Value) -> Run {
    let file = k.path("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    k.run(&["import", file.to_str().unwrap()])
}

fn settings_rows(k: &Keel) -> i64 {
    k.sql().query_row("SELECT COUNT(*) FROM settings WHERE name NOT IN ('demo', 'created_at')", [], |r| r.get(0)).unwrap()
}

#[test]
fn bad_settings_in_a_plan_are_refused_naming_the_setting() {
    let cases = [
        (json!({"tolerance": "five percent"}), "settings.tolerance: 'five percent' is not a share"),
        (json!({"tolerance": "-0.05"}), "settings.tolerance: '-0.05' is not between 0 and 1"),
        (json!({"tolerance": "0"}), "settings.tolerance: '0' must be more than 0"),
        (json!({"repeated_periods": "0"}), "settings.repeated_periods: '0' must be at least 1"),
        (json!({"tolerance": "0.1", "major": "0.05"}), "settings.major: '0.05' major (5%) must be more than the tolerance (10%)"),
        (json!({"cascade_ceiling": "140%"}), "settings.cascade_ceiling: '140%' is not between 0 and 1"),
        (json!({"due_days_owner": "0"}), "settings.due_days_owner"),
        (json!({"amber": "0.3", "red": "0.2"}), "settings.red"),
        (json!({"timezone": "Europe/Atlantis"}), "settings.timezone: 'Europe/Atlantis' is not an IANA time zone"),
        (json!({"colour": "blue"}), "settings.colour: 'blue' is not a setting"),
    ];
    for (settings, fragment) in cases {
        let k = Keel::init();
        import(&k, &plan_with(settings.clone())).code(65).stderr_has(&[fragment, "nothing was imported"]);
        assert_eq!(settings_rows(&k), 0, "{settings}: a refused import stored a setting");
    }
}

fn shares_may_be_written_as_percentages_and_are_used(engine: Engine) {
    let Some(k) = Keel::init_on(engine, "shares_may_be_writte") else { return };
    import(&k, &plan_with(json!({"cascade_ceiling": "40%", "tolerance": "0.04", "major": "25%"}))).ok();
    let check = k.run(&["check", "--format", "json"]).ok().json();
    assert_eq!(check["alignment"]["ceiling"], "0.4", "the 40% ceiling is read, not ignored");
    assert_eq!(check["settings_errors"], json!([]));
    // The plan keeps the settings as written: export → import round-trips.
    let exported: Value = serde_json::from_str(&k.export()).unwrap();
    assert_eq!(exported["settings"]["cascade_ceiling"], "40%");
}

#[test]
fn keel_settings_checks_a_change_and_only_an_admin_may_make_it() {
    let k = Keel::demo();
    k.run(&["settings", "tolerance", "five percent"]).code(65).stderr_has(&["setting tolerance", "is not a share: write it as 0.4 or 40%"]);
    k.run(&["settings", "major", "3%"]).code(65).stderr_has(&["must be more than the tolerance"]);
    k.run(&["settings", "repeated_periods", "0"]).code(65).stderr_has(&["at least 1"]);
    assert_eq!(settings_rows(&k), 0);
    k.run(&["settings", "tolerance", "4%"]).ok().stdout_has(&["setting tolerance = 4%"]);
    k.run(&["settings", "tolerance"]).ok().stdout_has(&["tolerance = 4%"]);
    let owner = k.sql_text("SELECT login FROM people WHERE pmo_admin = 0 AND login IS NOT NULL LIMIT 1").unwrap();
    k.run_as(&owner, &["settings", "tolerance", "3%"]).code(77).stderr_has(&["only a PMO administrator may change settings"]);
    let log = k.run(&["log", "--format", "json"]).ok().json();
    let row = log.as_array().unwrap().iter().find(|r| r["item_key"] == "settings").expect("the change is audited").clone();
    assert_eq!((row["field"].as_str(), row["new_value"].as_str()), (Some("tolerance"), Some("4%")));
}

#[test]
fn a_file_holding_a_bad_setting_opens_and_check_names_it_until_it_is_fixed() {
    let k = Keel::demo();
    k.sql().execute("INSERT INTO settings (name, value) VALUES ('tolerance', 'five percent'), ('repeated_periods', '0')", []).unwrap();
    // Still opens.
    k.run(&["show", "M-1"]).ok();
    let text = k.run(&["check"]);
    text.code(78).stdout_has(&["SETTINGS ERRORS (2)", "ERROR setting tolerance = 'five percent'", "ERROR setting repeated_periods = '0'"]);
    let json = k.run(&["check", "--format", "json"]);
    json.code(78);
    let v = json.json();
    assert_eq!(v["exit_code"], 78);
    let names: Vec<&str> = v["settings_errors"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["repeated_periods", "tolerance"]);
    k.run(&["settings"]).code(78).stderr_has(&["ERROR setting tolerance"]);
    // Fixed one at a time; check stops failing once both are.
    k.run(&["settings", "tolerance", "5%"]).ok();
    k.run(&["check"]).code(78);
    k.run(&["settings", "repeated_periods", "3"]).ok();
    let after = k.run(&["check", "--format", "json"]);
    assert_ne!(after.code, 78, "{}", after.stdout);
    assert_eq!(after.json()["settings_errors"], json!([]));
}

#[test]
fn a_negative_tolerance_written_into_the_file_does_not_escalate_items_on_plan() {
    let k = Keel::demo();
    let before = k.escalations().len();
    k.sql().execute("INSERT INTO settings (name, value) VALUES ('tolerance', '-0.05')", []).unwrap();
    // Any edit reassesses what it touches; a full reassessment comes from setting a good value.
    k.run(&["settings", "major", "0.2"]).ok();
    assert_eq!(k.escalations().len(), before, "the bad tolerance is not used: its default is");
}

/// `keel check --format json`'s "today" at the instant `now`, run in the user's zone `tz`.
fn today_at(k: &Keel, now: &str, tz: &str) -> String {
    let mut cmd = k.cmd(None);
    cmd.env("KEEL_NOW", now).env("TZ", tz);
    let r = run(cmd, &["check", "--format", "json"]);
    r.json()["today"].as_str().unwrap().to_string()
}

#[test]
fn the_organisations_timezone_decides_today_for_everyone() {
    let mut k = Keel::demo();
    k.today = None;
    // Sunday 20:30 UTC is already Monday 09:30 in Auckland.
    let now = "2026-11-29T20:30:00Z";
    assert_eq!(today_at(&k, now, "Pacific/Auckland"), "2026-11-29", "UTC by default, whatever the user's zone");
    assert_eq!(today_at(&k, now, "America/Los_Angeles"), "2026-11-29");
    k.run(&["settings", "timezone", "Mars/Olympus"]).code(65).stderr_has(&["setting timezone", "not an IANA time zone"]);
    k.run(&["settings", "timezone", "Pacific/Auckland"]).ok();
    for user_zone in ["America/Los_Angeles", "UTC", "Asia/Kolkata"] {
        assert_eq!(today_at(&k, now, user_zone), "2026-11-30", "analyst in {user_zone}");
    }
    // The current period follows: a value typed without --period lands in Auckland's week.
    let mut cmd = k.cmd(None);
    cmd.env("KEEL_NOW", now).env("TZ", "America/Los_Angeles");
    run(cmd, &["set", "M-1", "comment=typed on Monday in Auckland"]).ok().stdout_has(&["2026-W49"]);
}

crate::on_both_engines!(shares_may_be_written_as_percentages_and_are_used);
