//! Structures deeper than any organisation has: a plan cannot make an objective chain deeper than
//! keel's technical limit, and a file that already holds one (written by an older keel, or by
//! hand) is still read by `check`, `show`, `report` and the app without overflowing a stack.

mod common;
mod support;

use common::*;
use serde_json::{json, Value};

/// keel's documented limit: objectives nest at most this many levels (a root is level 1).
const LIMIT: usize = 100;

/// A plan with one chain of `levels` objectives, O-1 at the top, each aligned to the one before.
fn chain_plan(levels: usize) -> Value {
    let objectives: Vec<Value> = (1..=levels)
        .map(|n| {
            let mut o = json!({"key": format!("O-{n}"), "cycle": "C-1", "title": format!("Level {n}"), "level": "team", "owner": "P-1"});
            if n > 1 {
                o["parent"] = json!(format!("O-{}", n - 1));
            }
            o
        })
        .collect();
    json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "people": [{"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true}],
        "objectives": objectives,
    })
}

fn import(k: &Keel, plan: &Value) -> Run {
    let file = k.path("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    k.run(&["import", file.to_str().unwrap()])
}

#[test]
fn a_plan_with_a_chain_over_the_depth_limit_is_refused_naming_the_item() {
    let k = Keel::init();
    let r = import(&k, &chain_plan(LIMIT + 1));
    r.code(65).stderr_has(&[&format!("objectives[{LIMIT}] (O-{})", LIMIT + 1), "101 levels deep", "at most 100"]);
    assert_eq!(k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM items").as_deref(), Some("0"));
    // Exactly at the limit is fine.
    import(&k, &chain_plan(LIMIT)).ok();
    assert_eq!(k.show(&format!("O-{LIMIT}"))["key"], format!("O-{LIMIT}"));
}

#[test]
fn a_parent_change_that_would_go_over_the_depth_limit_is_refused() {
    let k = Keel::init();
    // Two chains: O-1 … O-60 and O-61 … O-120 (60 levels each; O-61 is a root).
    let mut plan = chain_plan(120);
    plan["objectives"][60].as_object_mut().unwrap().remove("parent");
    import(&k, &plan).ok();
    let before = k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit");
    // Hanging the second chain under the end of the first makes 120 levels.
    k.run(&["set", "O-61", "parent=O-60"]).code(65).stderr_has(&["O-61", "parent", "120 levels deep", "at most 100"]);
    assert_eq!(k.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM audit"), before, "a refused change left an audit row");
    assert!(k.sql_text("SELECT CAST(parent_id AS TEXT) FROM objectives o JOIN items i ON i.id = o.id WHERE i.key = 'O-61'").is_none());
    // Under level 40 of the first chain it is 100 levels: allowed.
    k.run(&["set", "O-61", "parent=O-40"]).ok();
}

/// The demo with a chain of `levels` objectives under O-1, written straight into the file as an
/// older keel or a hand edit could have left it. Returns the key of the deepest objective.
fn demo_with_deep_chain(levels: usize) -> (Keel, String) {
    let k = Keel::demo();
    let c = k.sql();
    c.execute_batch("BEGIN").unwrap();
    let (mut parent, cycle): (i64, i64) = c
        .query_row("SELECT o.id, o.cycle_id FROM objectives o JOIN items i ON i.id = o.id WHERE i.key = 'O-1'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let first: i64 = c.query_row("SELECT MAX(num) FROM items WHERE kind = 'objective'", [], |r| r.get(0)).unwrap();
    let mut key = String::new();
    for n in first + 1..=first + levels as i64 {
        key = format!("O-{n}");
        c.execute("INSERT INTO items (kind, num, key) VALUES ('objective', ?1, ?2)", rusqlite::params![n, key]).unwrap();
        let id = c.last_insert_rowid();
        c.execute(
            "INSERT INTO objectives (id, cycle_id, title, parent_id, level) VALUES (?1, ?2, ?3, ?4, 'team')",
            // One word per title, shared with no other, so the duplicate check has nothing to pair.
            rusqlite::params![id, cycle, format!("Q{n}"), parent],
        )
        .unwrap();
        parent = id;
    }
    c.execute_batch("COMMIT").unwrap();
    (k, key)
}

#[track_caller]
fn finished(r: &Run) {
    assert!([0, 1, 2].contains(&r.code), "keel {:?} exited {}:\n{}", r.args, r.code, r.stderr);
}

#[test]
fn a_file_that_already_holds_a_deeper_chain_still_runs_check_show_and_report() {
    let (k, deepest) = demo_with_deep_chain(20_000);
    finished(&k.run(&["check", "--format", "json"]));
    k.run(&["show", "O-1"]).ok();
    k.run(&["show", "O-1", "--format", "json"]).ok();
    k.run(&["show", &deepest]).ok();
    k.run(&["report"]).ok();
    // The file is still usable: an edit goes through, and moving an objective into the deep
    // chain is refused by the limit rather than crashing.
    k.run(&["set", "O-2", "parent=", "--reason", "test"]).ok();
    k.run(&["set", "O-2", &format!("parent={deepest}")]).code(65).stderr_has(&["O-2", "parent", "at most 100"]);
}

#[test]
fn the_app_reads_a_deep_chain_with_its_background_readers() {
    use keel::tui::app::App;
    use keel::tui::keymap::Keymap;
    use keel::tui::theme::Theme;
    let f = support::fixture();
    let c = rusqlite::Connection::open(&f.path).unwrap();
    c.execute_batch("BEGIN").unwrap();
    let (mut parent, cycle): (i64, i64) = c
        .query_row("SELECT o.id, o.cycle_id FROM objectives o JOIN items i ON i.id = o.id WHERE i.key = 'O-1'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let first: i64 = c.query_row("SELECT MAX(num) FROM items WHERE kind = 'objective'", [], |r| r.get(0)).unwrap();
    for n in first + 1..=first + 5_000 {
        c.execute("INSERT INTO items (kind, num, key) VALUES ('objective', ?1, ?2)", rusqlite::params![n, format!("O-{n}")]).unwrap();
        let id = c.last_insert_rowid();
        c.execute(
            "INSERT INTO objectives (id, cycle_id, title, parent_id, level) VALUES (?1, ?2, 'Deep', ?3, 'team')",
            rusqlite::params![id, cycle, parent],
        )
        .unwrap();
        parent = id;
    }
    c.execute_batch("COMMIT").unwrap();
    drop(c);
    let mut app = App::with_readers(support::other(&f.path, "tester"), Keymap::default_only(), Theme { color: false }, 2).unwrap();
    let mut screen = String::new();
    for _ in 0..10 {
        screen = support::render(&mut app, 120, 40);
        if !app.waiting() {
            break;
        }
        app.settle(std::time::Duration::from_secs(60));
    }
    assert!(!app.waiting(), "the readers never answered");
    assert!(screen.contains("O-1"), "the tree shows O-1:\n{screen}");
}
