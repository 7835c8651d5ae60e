//! The hot paths' statements, as SQLite plans them: every statement run by an edit, the detail
//! and status of items, the tree, a jump to an item and a page of the variance list is traced,
//! and its plan must not scan a table that grows with the organisation. A new query without an index fails here, not
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

fn record(sql: &str) {
    TRACED.lock().unwrap().push(sql.to_string());
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

/// The tables behind the names a statement gives them (`FROM links l JOIN items i`): plans speak
/// of the alias.
fn aliases(sql: &str) -> Vec<(String, String)> {
    const NOT_ALIAS: &[&str] =
        &["WHERE", "ON", "JOIN", "LEFT", "INNER", "CROSS", "ORDER", "GROUP", "LIMIT", "INDEXED", "USING", "UNION", "SET", "VALUES"];
    let tokens: Vec<&str> = sql.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')').filter(|t| !t.is_empty()).collect();
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !(t.eq_ignore_ascii_case("FROM") || t.eq_ignore_ascii_case("JOIN")) {
            continue;
        }
        let Some(table) = tokens.get(i + 1) else { continue };
        let mut next = i + 2;
        if tokens.get(next).is_some_and(|a| a.eq_ignore_ascii_case("AS")) {
            next += 1;
        }
        match tokens.get(next) {
            Some(alias) if !NOT_ALIAS.iter().any(|k| alias.eq_ignore_ascii_case(k)) => out.push((alias.to_string(), table.to_string())),
            _ => out.push((table.to_string(), table.to_string())),
        }
    }
    out
}

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

    store.conn().trace_statements(Some(record));
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
    // Jumping to an item from the variance list or a search: its place in either tree.
    for k in ["M-7", "KR-1", "K-1", "MP-1"] {
        store.outline_path(&key(k), TreeView::Objectives).unwrap();
        store.outline_path(&key(k), TreeView::Execution).unwrap();
    }
    store.conn().trace_statements(None);

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
        // Parameters left unbound (NULL): a plan does not depend on them here.
        let lines = store.conn().query_plan(sql).unwrap();
        let names = aliases(&flat);
        // A walk of an index in the order asked for, stopped by a LIMIT, reads only that many rows.
        let limited_walk = flat.contains(" LIMIT ") && !lines.iter().any(|l| l.contains("TEMP B-TREE"));
        for line in lines.iter() {
            let mut words = line.split_whitespace();
            let (step, name) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let table = names.iter().find(|(alias, _)| alias == name).map(|(_, t)| t.as_str()).unwrap_or(name);
            // A search whose only constraint is the item kind, or an escalation's state (every
            // open one), walks a share of the table that grows with it: as much a scan as one
            // that says so (found at 1,000,000 measures: an edit read all 150,000 open tiers).
            let by_kind_only = step == "SEARCH" && (line.ends_with("(kind=?)") || line.ends_with("(state=?)"));
            let bounded = step == "SCAN" && line.contains(" USING ") && line.contains("INDEX") && limited_walk;
            if (step == "SCAN" || by_kind_only) && !bounded && GROWING.contains(&table) {
                offenders.push(format!("{line}\n    in: {flat}"));
            }
        }
    }
    assert!(planned > 40, "only {planned} statements traced: the trace did not catch the hot paths");
    assert!(offenders.is_empty(), "{} plans scan a growing table:\n{}", offenders.len(), offenders.join("\n"));
}

#[test]
fn aliases_name_their_tables() {
    let a = aliases("SELECT l.to_id FROM links l JOIN items AS i ON i.id = l.to_id WHERE l.from_id = ?1");
    assert_eq!(a, vec![("l".to_string(), "links".to_string()), ("i".to_string(), "items".to_string())]);
    assert_eq!(aliases("SELECT seq FROM audit ORDER BY seq"), vec![("audit".to_string(), "audit".to_string())]);
}
