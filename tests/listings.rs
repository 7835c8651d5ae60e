//! `keel list` and the listing formats: the query finds what the tree shows, every listing prints
//! as table, CSV or JSON from the same rows, dates and spans choose a window, `keel log` says when
//! it cut the list short, and every new listing ends quietly in a closed pipe.

mod common;

use common::*;

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn list_filters_measures_by_owner_status_and_stage_as_the_items_export_shows_them() {
    let k = Keel::demo();
    let items = k.run(&["export", "--format", "json", "--what", "items"]).ok().json();
    let items = items.as_array().unwrap();
    let red_measures: Vec<&str> =
        items.iter().filter(|i| i["kind"] == "measure" && i["status"] == "red").map(|i| i["key"].as_str().unwrap()).collect();
    assert!(!red_measures.is_empty(), "the demo has red measures");
    let listed = k.run(&["list", "measures", "--status", "red", "--format", "json"]).ok().json();
    let listed: Vec<&str> = listed.as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(listed, red_measures);

    // By owner (login) and stage: the same as filtering the export by hand.
    let owner = items.iter().find(|i| i["kind"] == "measure").unwrap()["owner"].as_str().unwrap().to_string();
    let stage = "decided";
    let by_hand: Vec<&str> = items
        .iter()
        .filter(|i| i["kind"] == "measure" && i["owner"] == owner.as_str() && i["stage"] == stage)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    let login = k.sql_text(&format!("SELECT login FROM people WHERE name = '{}'", owner.replace('\'', "''"))).unwrap();
    let listed = k.run(&["list", "measure", "--owner", &login, "--stage", stage, "--format", "json"]).ok().json();
    let listed: Vec<&str> = listed.as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    assert_eq!(listed, by_hand, "owner {login}, stage {stage}");

    // Escalated items of one tier, as `keel escalations` has them.
    let steering: Vec<String> = k.escalations().iter().filter(|e| e["tier"] == 3).map(|e| e["key"].as_str().unwrap().to_string()).collect();
    let listed = k.run(&["list", "all", "--tier", "steering", "--format", "csv"]).ok().stdout.clone();
    let rows = csv_rows(&listed);
    assert_eq!(rows[0][0], "key");
    let keys: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for s in &steering {
        assert!(keys.contains(&s.as_str()), "{s} has a steering escalation: {keys:?}");
    }
    // Bad words are refused with the choices.
    k.run(&["list", "measures", "--stage", "nearly"]).code(65).stderr_has(&["use one of: defined"]);
    k.run(&["list", "gizmos"]).code(64);
    k.run(&["list", "measures", "--unit", "U-999"]).code(65).stderr_has(&["no unit"]);
}

fn every_listing_prints_table_csv_and_json_from_the_same_rows(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "every_listing_prints") else { return };
    for (args, json_rows) in [
        (&["escalations"][..], None),
        (&["log", "--limit", "5"], Some(5)),
        (&["cycle", "list"], None),
        (&["list", "objectives"], None),
        (&["gate", "--pending"], None),
    ] {
        let json = k.run(&[args, &["--format", "json"]].concat()).ok().json();
        let n = json.as_array().unwrap_or_else(|| panic!("{args:?}: a JSON list")).len();
        if let Some(expected) = json_rows {
            assert_eq!(n, expected, "{args:?}");
        }
        let csv = k.run(&[args, &["--format", "csv"]].concat()).ok().stdout.clone();
        assert!(csv.contains("\r\n") || n == 0, "{args:?}: CRLF like the exports");
        assert_eq!(csv_rows(&csv).len(), n + 1, "{args:?}: a header and one line per JSON row\n{csv}");
        k.run(&[args, &["--format", "table"]].concat()).ok();
    }
    // `keel check --format csv` is the escalations table.
    let check = k.run(&["check", "--format", "csv"]);
    let esc = k.run(&["escalations", "--format", "csv"]).ok().stdout.clone();
    assert_eq!(check.stdout, esc);
    assert!(check.code == 1 || check.code == 2, "its exit code still says what is open");
    // `text` still means the table.
    let a = k.run(&["escalations", "--format", "text"]).ok().stdout.clone();
    assert_eq!(a, k.run(&["escalations"]).ok().stdout);
}

fn listing_csv_neutralises_formulas_in_text_cells(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "listing_csv_neutrali") else { return };
    k.run(&["set", "M-1", "title==HYPERLINK(\"http://x\")"]).ok();
    let csv = k.run(&["list", "measures", "--format", "csv"]).ok().stdout.clone();
    let rows = csv_rows(&csv);
    let m1 = rows.iter().find(|r| r[0] == "M-1").unwrap();
    assert_eq!(m1[2], "'=HYPERLINK(\"http://x\")");
    let log = k.run(&["log", "M-1", "--format", "csv"]).ok().stdout.clone();
    assert!(csv_rows(&log).iter().any(|r| r[6] == "'=HYPERLINK(\"http://x\")"), "{log}");
}

fn since_and_until_take_dates_weeks_and_spans_and_log_says_when_it_cut(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "since_and_until_take") else { return };
    let all = k.run(&["log", "--limit", "0", "--format", "json"]).ok().json();
    let all = all.as_array().unwrap().clone();
    assert!(all.len() > 3, "the demo has a history");
    let r = k.run(&["log", "--limit", "3"]);
    r.ok().stdout_has(&[&format!("showing the newest 3 of {} changes", all.len())]);
    let r = k.run(&["log", "--limit", "3", "--format", "json"]);
    r.ok().stderr_has(&["showing the newest 3"]);
    assert_eq!(r.json().as_array().unwrap().len(), 3, "the JSON stays a list");
    // Everything in the demo happened on or before today: a window ending yesterday is empty or
    // smaller, one starting 0 days back holds only today's.
    let today = k.run(&["log", "--since", "0d", "--limit", "0", "--format", "json"]).ok().json();
    let until = k.run(&["log", "--until", "today", "--limit", "0", "--format", "json"]).ok().json();
    assert_eq!(until.as_array().unwrap().len(), all.len());
    let first_day = all[0]["at"].as_str().unwrap()[..10].to_string();
    let before = k.run(&["log", "--until", &first_day, "--limit", "0", "--format", "json"]).ok().json();
    let on_first: usize = all.iter().filter(|r| r["at"].as_str().unwrap().starts_with(&first_day)).count();
    assert_eq!(before.as_array().unwrap().len(), on_first, "--until includes its whole day and nothing after");
    assert!(today.as_array().unwrap().iter().all(|r| r["at"].as_str().unwrap() >= first_day.as_str()));
    // A week works as a window too; nonsense is refused with the forms keel takes.
    k.run(&["log", "--since", "2026-W47", "--until", "2026-W48"]).ok();
    k.run(&["changes", "--since", "2w", "--format", "csv"]).ok();
    k.run(&["log", "--since", "last tuesday"]).code(65).stderr_has(&["7d", "2026-W47"]);
}

fn new_listings_end_quietly_in_a_closed_pipe(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "new_listings_end_qui") else { return };
    for args in [
        &["list", "all"][..],
        &["list", "measures", "--format", "csv"],
        &["escalations", "--format", "csv"],
        &["log", "--format", "csv", "--limit", "0"],
        &["changes", "--since", "2w", "--format", "json"],
        &["cycle", "list", "--format", "json"],
        &["gate", "--pending", "--format", "csv"],
        &["check", "--format", "csv"],
        &["export", "--out", "-", "--format", "csv"],
    ] {
        let r = into_closed_pipe(&k, args);
        assert!(!r.stderr.contains("panicked") && r.stderr.is_empty(), "keel {args:?}: {}", r.stderr);
        assert_ne!(r.code, 101, "{args:?}");
    }
}

crate::on_both_engines!(
    every_listing_prints_table_csv_and_json_from_the_same_rows
    listing_csv_neutralises_formulas_in_text_cells
    since_and_until_take_dates_weeks_and_spans_and_log_says_when_it_cut
    new_listings_end_quietly_in_a_closed_pipe
);
