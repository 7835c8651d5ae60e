//! The hot paths' statements, as SQLite plans them: every statement run by an edit, the detail
//! and status of items, the tree and a page of the variance list is traced, and its plan must not
//! scan a table that grows with the organisation. A new query without an index fails here, not
//! on a customer's 100,000-measure file. (Plans are taken without `ANALYZE` statistics, as a
//! user's file has none.)

use super::escalation_list::Scope;
use super::outline::TreeView;
use super::read::EscalationFilter;
use super::{Change, Edit, Store};
use crate::domain::{ItemKey, Period};
use chrono::NaiveDate;
use std::sync::Mutex;

static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record(event: rusqlite::trace::TraceEvent<'_>) {
    if let rusqlite::trace::TraceEvent::Stmt(_, sql) = event {
        TRACED.lock().unwrap().push(sql.to_string());
    }
}

/// Tables whose size grows with the organisation: scanning one is proportional to the file.
const GROWING: &[&str] = &[
    "items",
    "measures",
    "key_results",
    "objectives",
    "kpis",
    "nodes",
    "item_values",
    "links",
    "milestones",
    "dependencies",
    "escalations",
    "escalation_events",
    "audit",
    "measure_money",
    "node_funnel",
    "decisions",
];

/// Scans that stop at once, with why: SQLite names a walk of the primary key a SCAN.
const BOUNDED: &[(&str, &str)] = &[(
    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "the newest audit row (for the hash chain): the primary key walked from its end, one row",
)];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

#[test]
fn hot_paths_plan_no_scan_of_a_growing_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(&dir.path().join("gen.keel"), false).unwrap();
    store.set_clock(today());
    let spec = crate::io::generate::Spec { measures: 2_000, seed: 5, today: today(), admin_login: store.actor.login.clone() };
    crate::io::generate::load(&mut store, &spec, |_| {}).unwrap();
    let key = |k: &str| ItemKey::parse(k).unwrap();

    store.conn().trace_v2(rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
    // An edit through the write path (rules, escalations, roll-up, audit).
    let change =
        Change::Value { key: key("M-7"), period: Period::week_of(today()), field: "actual".into(), value: "1".into(), if_version: None };
    store.edit(Edit::one(change)).unwrap();
    // What the screen reads: details, statuses, the tree, the variance list.
    for k in ["M-7", "KR-1", "O-1", "O-2", "K-1", "PF-1", "PG-1", "MP-1"] {
        store.detail(&key(k)).unwrap();
        store.row_status(&key(k)).unwrap();
    }
    store.outline_roots(TreeView::Objectives).unwrap();
    store.outline_children(&key("O-1")).unwrap();
    store.outline_roots(TreeView::Execution).unwrap();
    store.outline_children(&key("PF-1")).unwrap();
    let filter = EscalationFilter::default();
    let page = store.escalation_page(&filter, Scope::First(20)).unwrap();
    let (last, _) = page.last().cloned().unwrap();
    store.escalation_page(&filter, Scope::After(last.clone(), 20)).unwrap();
    store.escalation_page(&filter, Scope::Before(last.clone(), 20)).unwrap();
    store.escalation_count(&filter, Some(&last)).unwrap();
    store.conn().trace_v2(rusqlite::trace::TraceEventCodes::empty(), None);

    let mut statements: Vec<String> = std::mem::take(&mut *TRACED.lock().unwrap());
    statements.sort();
    statements.dedup();
    let mut offenders = Vec::new();
    let mut planned = 0;
    for sql in &statements {
        let flat = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if BOUNDED.iter().any(|(bounded, _)| *bounded == flat) {
            continue;
        }
        let verb = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if !matches!(verb.as_str(), "SELECT" | "WITH" | "INSERT" | "UPDATE" | "DELETE") {
            continue;
        }
        planned += 1;
        let mut stmt = store.conn().prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        // Parameters left unbound (NULL): a plan does not depend on them here.
        let mut rows = stmt.raw_query();
        let mut lines = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            lines.push(r.get::<_, String>(3).unwrap());
        }
        for line in lines {
            let mut words = line.split_whitespace();
            if words.next() == Some("SCAN") {
                let table = words.next().unwrap_or("");
                if GROWING.contains(&table) {
                    offenders.push(format!("{line}\n    in: {flat}"));
                }
            }
        }
    }
    assert!(planned > 40, "only {planned} statements traced: the trace did not catch the hot paths");
    assert!(offenders.is_empty(), "{} plans scan a growing table:\n{}", offenders.len(), offenders.join("\n"));
}
