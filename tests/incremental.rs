//! After any sequence of edits, the incrementally kept state (measure money, the value funnel
//! up the hierarchy, open escalations, the kept staleness and escalation counts) equals a
//! recompute from scratch — whatever day the clock says, moved forwards or back — and the stale
//! list read from the kept staleness is the one `keel check` works out.

use chrono::NaiveDate;
use keel::domain::gates::GateAction;
use keel::domain::{ItemKey, Period};
use keel::store::upkeep::Upkeep;
use keel::store::{Change, Edit, Store};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::path::Path;

mod common;

#[derive(Clone, Debug)]
enum Op {
    Value {
        measure: u32,
        week: u32,
        field: &'static str,
        amount: i64,
        cents: bool,
    },
    Clear {
        measure: u32,
        week: u32,
    },
    Move {
        measure: u32,
        package: u32,
    },
    ValueType {
        measure: u32,
        cost: bool,
    },
    Cancel {
        measure: u32,
    },
    Back {
        measure: u32,
    },
    /// The clock moves to this many days after (or before) the first day.
    Day {
        offset: i64,
    },
    Retire {
        measure: u32,
    },
    Unretire {
        measure: u32,
    },
    Owner {
        measure: u32,
        person: u32,
    },
    Unit {
        measure: u32,
        unit: u32,
    },
    Cadence {
        measure: u32,
        monthly: bool,
    },
}

/// The first day of every run.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u32..=36, 40u32..=52, prop_oneof![Just("actual"), Just("planned"), Just("forecast")], -5_000i64..60_000, any::<bool>())
            .prop_map(|(measure, week, field, amount, cents)| Op::Value { measure, week, field, amount, cents }),
        1 => (1u32..=36, 40u32..=52).prop_map(|(measure, week)| Op::Clear { measure, week }),
        1 => (1u32..=36, 1u32..=12).prop_map(|(measure, package)| Op::Move { measure, package }),
        1 => (1u32..=36, any::<bool>()).prop_map(|(measure, cost)| Op::ValueType { measure, cost }),
        1 => (1u32..=36).prop_map(|measure| Op::Cancel { measure }),
        1 => (1u32..=36).prop_map(|measure| Op::Back { measure }),
        2 => (-60i64..=60).prop_map(|offset| Op::Day { offset }),
        1 => (1u32..=36).prop_map(|measure| Op::Retire { measure }),
        1 => (1u32..=36).prop_map(|measure| Op::Unretire { measure }),
        1 => (1u32..=36, 1u32..=14).prop_map(|(measure, person)| Op::Owner { measure, person }),
        1 => (1u32..=36, 1u32..=3).prop_map(|(measure, unit)| Op::Unit { measure, unit }),
        1 => (1u32..=36, any::<bool>()).prop_map(|(measure, monthly)| Op::Cadence { measure, monthly }),
    ]
}

fn change(op: &Op) -> Vec<Change> {
    let m = |n: u32| ItemKey::parse(&format!("M-{n}")).unwrap();
    let week = |w: u32| Period::parse(&format!("2026-W{w:02}")).unwrap();
    match op {
        Op::Value { measure, week: w, field, amount, cents } => {
            let value = if *cents { format!("{}.{:02}", amount, amount.rem_euclid(100)) } else { amount.to_string() };
            vec![Change::Value { key: m(*measure), period: week(*w), field: field.to_string(), value, if_version: None }]
        }
        Op::Clear { measure, week: w } => ["actual", "planned", "forecast"]
            .iter()
            .map(|f| Change::Value { key: m(*measure), period: week(*w), field: f.to_string(), value: String::new(), if_version: None })
            .collect(),
        Op::Move { measure, package } => {
            vec![Change::Set { key: m(*measure), field: "package".into(), value: format!("MP-{package}"), if_version: None }]
        }
        Op::ValueType { measure, cost } => vec![Change::Set {
            key: m(*measure),
            field: "value_type".into(),
            value: if *cost { "recurring-cost" } else { "recurring-benefit" }.into(),
            if_version: None,
        }],
        Op::Cancel { measure } => vec![Change::Gate { key: m(*measure), action: GateAction::Cancel, reason: Some("test".into()) }],
        Op::Back { measure } => vec![Change::Gate { key: m(*measure), action: GateAction::Back, reason: Some("test".into()) }],
        // The clock moves and the daily sweep runs (`keel sync`): escalations that grow with the
        // calendar (missed updates) are judged on the new day, as they are in use.
        Op::Day { .. } => vec![Change::Reassess],
        Op::Retire { measure } => {
            vec![Change::Upkeep(Upkeep::Retire { key: m(*measure), reason: "property test".into(), with_children: false })]
        }
        Op::Unretire { measure } => vec![Change::Upkeep(Upkeep::Unretire { key: m(*measure), with_children: false })],
        Op::Owner { measure, person } => {
            vec![Change::Set { key: m(*measure), field: "owner".into(), value: format!("P-{person}"), if_version: None }]
        }
        Op::Unit { measure, unit } => {
            vec![Change::Set { key: m(*measure), field: "business_unit".into(), value: format!("U-{unit}"), if_version: None }]
        }
        Op::Cadence { measure, monthly } => vec![Change::Set {
            key: m(*measure),
            field: "cadence".into(),
            value: if *monthly { "monthly" } else { "weekly" }.into(),
            if_version: None,
        }],
    }
}

/// A demo file of its own, open as its administrator on a fixed day.
fn fresh_demo() -> (tempfile::TempDir, std::path::PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let today = first_day();
    drop(keel::io::demo::create_at(&path, today, "tester").unwrap());
    let mut store = Store::open(&path).unwrap();
    store.set_clock(today);
    store.identify(Some("tester")).unwrap();
    (dir, path, store)
}

/// The same demo on the test server, as of the same day: a copy of one made once per run (its
/// database is dropped with the guard; the template is left to the throwaway server).
fn fresh_demo_on_server() -> Option<(common::pg::Database, Store)> {
    static TEMPLATE: std::sync::OnceLock<Option<common::pg::Database>> = std::sync::OnceLock::new();
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let template = TEMPLATE
        .get_or_init(|| {
            let db = common::pg::Database::new("incremental_template")?;
            drop(keel::io::demo::create_at(&common::pg::as_role(Path::new(&db.url), "tester"), today, "tester").unwrap());
            Some(db)
        })
        .as_ref()?;
    let db = common::pg::Database::copy_of(template, "incremental")?;
    let mut store = Store::open(&common::pg::as_role(Path::new(&db.url), "tester")).unwrap();
    store.set_clock(today);
    store.identify(Some("tester")).unwrap();
    Some((db, store))
}

fn incremental_state_stays_a_recompute(store: &mut Store, ops: &[Op]) -> Result<(), TestCaseError> {
    prop_assert_eq!(store.derived_differences().unwrap(), Vec::<String>::new());
    for op in ops {
        if let Op::Day { offset } = op {
            store.set_clock(first_day() + chrono::Duration::days(*offset));
        }
        // Some moves are refused by the rules (e.g. back from 'defined'); that is fine, as
        // long as a refusal leaves the state consistent too.
        let _ = store.edit(Edit { changes: change(op), reason: Some("property test".into()) });
        let diffs = store.derived_differences().unwrap();
        prop_assert!(diffs.is_empty(), "after {:?}: {:?}", op, diffs);
        stale_list_is_checks(store, op)?;
    }
    Ok(())
}

/// The stale list from the kept staleness (an index range) is the one `keel check` works out
/// item by item, on whatever day the clock says; the escalation counts by tier are the check's.
fn stale_list_is_checks(store: &Store, op: &Op) -> Result<(), TestCaseError> {
    let report = store.check().unwrap();
    let row = |s: &keel::store::check::StaleItem| {
        (s.key.clone(), s.title.clone(), s.owner.clone(), s.cadence.clone(), s.last_update.clone(), s.days_since_update)
    };
    let checked: Vec<_> = report.stale.iter().map(row).collect();
    let kept: Vec<_> = store.stale_items().unwrap().iter().map(row).collect();
    prop_assert_eq!(&kept, &checked, "stale list after {:?} on {}", op, report.today);
    let mut by_tier = [0usize; 3];
    for e in &report.escalations {
        by_tier[(e.tier - 1) as usize] += 1;
    }
    prop_assert_eq!(report.escalations_by_tier, by_tier, "escalations by tier after {:?}", op);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn incremental_state_equals_a_recompute(ops in proptest::collection::vec(op(), 1..25)) {
        let (_dir, _path, mut store) = fresh_demo();
        incremental_state_stays_a_recompute(&mut store, &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    /// The same on PostgreSQL (fewer cases: each is a database of its own on the server).
    #[test]
    fn incremental_state_equals_a_recompute_on_postgres(ops in proptest::collection::vec(op(), 1..25)) {
        let Some((_db, mut store)) = fresh_demo_on_server() else { return Ok(()) };
        incremental_state_stays_a_recompute(&mut store, &ops)?;
    }
}

#[test]
fn the_audit_chain_verifies_after_edits() {
    let dir = tempfile::tempdir().unwrap();
    audit_chain_verifies_after_edits(&dir.path().join("demo.db"));
}

#[test]
fn the_audit_chain_verifies_after_edits_on_postgres() {
    if let Some(db) = common::pg::Database::new("audit_chain") {
        audit_chain_verifies_after_edits(&common::pg::as_role(Path::new(&db.url), "tester"));
    }
}

fn audit_chain_verifies_after_edits(path: &Path) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let mut store = keel::io::demo::create_at(path, today, "tester").unwrap();
    for w in 45..=48 {
        store
            .edit(Edit::one(Change::Value {
                key: ItemKey::parse("M-1").unwrap(),
                period: Period::parse(&format!("2026-W{w}")).unwrap(),
                field: "actual".into(),
                value: "1.10".into(),
                if_version: None,
            }))
            .unwrap();
    }
    let v = store.verify_audit().unwrap();
    assert!(v.first_broken.is_none(), "{v:?}");
    assert!(v.rows > 100);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    /// After any sequence of edits: no key result or objective shows green over a red measure
    /// unless it is a flagged manual status, every measure meets its stage's criteria (checked by
    /// `derived_differences`), and the bottom-up money of `keel show` and `keel check` agree.
    #[test]
    fn governance_holds_after_random_edits(ops in proptest::collection::vec(op(), 1..15)) {
        let (_dir, path, mut store) = fresh_demo();
        for op in &ops {
            let _ = store.edit(Edit { changes: change(op), reason: Some("property test".into()) });
        }
        prop_assert_eq!(store.derived_differences().unwrap(), Vec::<String>::new());
        let sql = rusqlite::Connection::open(&path).unwrap();
        let keys = |q: &str| -> Vec<String> {
            let mut s = sql.prepare(q).unwrap();
            let r = s.query_map([], |r| r.get(0)).unwrap();
            r.map(|k| k.unwrap()).collect()
        };
        let json = |key: &str| serde_json::to_value(store.detail(&ItemKey::parse(key).unwrap()).unwrap()).unwrap();
        // A red measure serving a key result leaves the key result, and every objective above it,
        // not green. A retired measure is out of the roll-ups, as a cancelled one is, and is
        // listed marked as retired, so the green does not hide it.
        for kr in keys("SELECT i.key FROM key_results k JOIN items i ON i.id = k.id") {
            let d = json(&kr);
            for m in d["served_by"].as_array().unwrap() {
                let retired = json(m["key"].as_str().unwrap())["retired"].is_object();
                prop_assert_eq!(m["retired"].as_bool().unwrap_or(false), retired, "{} in {}'s served_by", m["key"], kr);
            }
            let served_by_red = d["served_by"].as_array().unwrap().iter().any(|m| {
                let key = m["key"].as_str().unwrap();
                key.starts_with("M-") && m["retired"] != true && {
                    let md = json(key);
                    md["measure"]["potential"] == "red" && md["measure"]["side_state"] != "cancelled"
                }
            });
            if served_by_red {
                let shown = &d["key_result"]["shown"];
                prop_assert!(shown["computed"] != "green", "{kr} computed green over a red measure");
                prop_assert!(shown["rag"] != "green" || shown["manual"] == true, "{kr} shows green over a red measure unflagged");
            }
        }
        for o in keys("SELECT i.key FROM objectives o JOIN items i ON i.id = o.id") {
            let d = json(&o);
            let shown = &d["objective"]["shown"];
            let below_not_green = d["served_by"].as_array().unwrap().iter().any(|c| {
                let key = c["key"].as_str().unwrap();
                c["retired"] != true
                    && ((key.starts_with("KR-") && json(key)["key_result"]["shown"]["computed"] == "red")
                    || (key.starts_with("O-") && json(key)["objective"]["shown"]["computed"] == "red"))
            });
            if below_not_green {
                prop_assert!(shown["computed"] != "green", "{o} computed green over red work");
                prop_assert!(shown["rag"] != "green" || shown["manual"] == true, "{o} shows green over red work unflagged");
            }
        }
        // Bottom-up money: the per-subtree figure (show, the app, reports) equals keel check's.
        let check = serde_json::to_value(store.check().unwrap()).unwrap();
        for pair in check["objective_targets"].as_array().unwrap() {
            let key = pair[0].as_str().unwrap();
            prop_assert_eq!(&json(key)["target_gap"], &pair[1], "bottom-up of {}", key);
        }
    }
}
