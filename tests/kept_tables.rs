//! What the write path keeps for the whole-organisation answers (issue 17): the staleness of
//! every item that owes updates and the open escalations by tier, unit and owner. The stale list
//! read from them is `keel check`'s; edits, retirements and owner changes keep them; `keel copy`
//! rebuilds them on the destination; an older file gets them by migration; and `keel check
//! --deep` finds a kept row that differs from a recompute.

mod common;

use chrono::NaiveDate;
use common::*;
use keel::domain::{ItemKey, Period};
use keel::store::upkeep::Upkeep;
use keel::store::{Change, Edit, Store};
use serde_json::Value;

fn open(k: &Keel) -> Store {
    let mut store = Store::open(&k.db).unwrap();
    store.set_clock(NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap());
    store
}

fn stale_keys(store: &Store) -> (Vec<String>, Vec<String>) {
    let kept = store.stale_items().unwrap().into_iter().map(|s| s.key).collect();
    let checked = store.check().unwrap().stale.into_iter().map(|s| s.key).collect();
    (kept, checked)
}

fn the_stale_list_is_kept_by_edits(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "the_stale_list_is_kept_by_edits") else { return };
    let mut store = open(&k);
    let (kept, checked) = stale_keys(&store);
    assert!(!kept.is_empty(), "the demo has stale items");
    assert_eq!(kept, checked);
    assert_eq!(store.derived_differences().unwrap(), Vec::<String>::new());
    // Retired, the first stale measure leaves the list; back, it owes updates again; an update
    // this week takes it off.
    let first = ItemKey::parse(kept.iter().find(|k| k.starts_with("M-")).expect("a stale measure in the demo")).unwrap();
    let retire = Change::Upkeep(Upkeep::Retire { key: first.clone(), reason: "merged".into(), with_children: false });
    store.edit(Edit::one(retire)).unwrap();
    let (kept, checked) = stale_keys(&store);
    assert_eq!(kept, checked);
    assert!(!kept.contains(&first.to_string()), "{kept:?}");
    store.edit(Edit::one(Change::Upkeep(Upkeep::Unretire { key: first.clone(), with_children: false }))).unwrap();
    let (kept, checked) = stale_keys(&store);
    assert_eq!(kept, checked);
    assert!(kept.contains(&first.to_string()), "back from retirement, it owes updates again");
    let week = Period::parse(WEEK).unwrap();
    let value = Change::Value { key: first.clone(), period: week, field: "actual".into(), value: "1000".into(), if_version: None };
    store.edit(Edit::one(value)).unwrap();
    let (kept, checked) = stale_keys(&store);
    assert_eq!(kept, checked);
    assert!(!kept.contains(&first.to_string()), "{kept:?}");
    // Far ahead, everything that owes updates is stale.
    store.set_clock(NaiveDate::from_ymd_opt(2027, 6, 1).unwrap());
    let (kept, checked) = stale_keys(&store);
    assert_eq!(kept, checked);
    assert!(kept.len() > 10, "{kept:?}");
    assert_eq!(store.derived_differences().unwrap(), Vec::<String>::new());
}

fn the_escalation_counts_follow_owners_and_units(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "the_escalation_counts_follow_owners_and") else { return };
    let before = k.run(&["check", "--format", "json"]).json()["escalations_by_tier"].clone();
    let escalated = k.escalations();
    let key = escalated[0]["key"].as_str().unwrap().to_string();
    for (field, value) in [("owner", "P-3"), ("business_unit", "U-2")] {
        if !key.starts_with("M-") && field == "business_unit" {
            continue;
        }
        k.run(&["set", &key, &format!("{field}={value}")]).ok();
        assert_ne!(k.run(&["check", "--deep"]).code, 70, "after {field}={value}");
    }
    let after = k.run(&["check", "--format", "json"]).json()["escalations_by_tier"].clone();
    assert_eq!(before, after, "an owner or a unit moves a count, not the totals");
    let store = open(&k);
    assert_eq!(store.derived_differences().unwrap(), Vec::<String>::new());
}

fn a_copy_rebuilds_the_kept_tables(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_copy_rebuilds_the_kept_tables") else { return };
    let copy = k.path("copy.db");
    k.run(&["copy", k.db.to_str().unwrap(), copy.to_str().unwrap()]).ok();
    let theirs = Keel { dir: tempfile::tempdir().unwrap(), db: copy, today: k.today.clone(), server: None };
    let check = |k: &Keel| -> Value {
        let j = k.run(&["check", "--format", "json"]).json();
        serde_json::json!([j["escalations_by_tier"], j["stale"]])
    };
    assert_eq!(check(&theirs), check(&k));
    assert_ne!(theirs.run(&["check", "--deep"]).code, 70);
    let sql = theirs.sql();
    let rows: i64 = sql.query_row("SELECT COUNT(*) FROM kept_stale", [], |r| r.get(0)).unwrap();
    assert!(rows > 0, "the copy's staleness is rebuilt");
}

crate::on_both_engines!(
    the_stale_list_is_kept_by_edits
    the_escalation_counts_follow_owners_and_units
    a_copy_rebuilds_the_kept_tables
);

/// A file made before the kept tables (schema 9) gets them, filled, when it is next opened.
#[test]
fn an_older_file_gets_the_kept_tables_by_migration() {
    let k = Keel::demo();
    let before = k.run(&["check", "--format", "json"]).json();
    {
        let sql = k.sql();
        common::drop_search_index(&sql);
        common::drop_kept_tables(&sql);
        sql.execute_batch("PRAGMA user_version = 9;").unwrap();
    }
    let after = k.run(&["check", "--format", "json"]).json();
    assert_eq!(after["stale"], before["stale"]);
    assert_eq!(after["escalations_by_tier"], before["escalations_by_tier"]);
    let version: i64 = k.sql().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(version >= 10);
    assert_ne!(k.run(&["check", "--deep"]).code, 70);
}

/// A kept row that differs from what the data says is found by the deep check.
#[test]
fn the_deep_check_finds_a_kept_row_that_is_wrong() {
    let k = Keel::demo();
    assert_ne!(k.run(&["check", "--deep"]).code, 70);
    k.sql().execute("UPDATE kept_stale SET stale_from = '2000-01-01' WHERE item_id = (SELECT MIN(item_id) FROM kept_stale)", []).unwrap();
    k.run(&["check", "--deep"]).code(70).stderr_has(&["kept_stale"]);
    k.sql().execute("UPDATE kept_escalation_counts SET open_count = open_count + 1 WHERE tier = 1", []).unwrap();
    let r = k.run(&["check", "--deep"]);
    r.code(70).stderr_has(&["kept_escalation_counts"]);
}
