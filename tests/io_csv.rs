//! Values import and CSV/JSON exports through the real binary on the demo organisation: every bad
//! row reported at once with its line and column, a refused import leaving the file byte for byte
//! as it was, a dry run that predicts exactly how escalations move, spreadsheet-safe exports, and
//! the plan round trip as a property over generated plans.

mod common;

use common::*;
use keel::domain::plan::{self as p, Plan};
use keel::domain::{Cadence, Direction, IpoClass, KrKind, Level, NodeKind, Num, Stage, UnitKind, ValueType};
use keel::store::Store;
use proptest::prelude::*;
use serde_json::Value;

/// The database file's bytes, and whether a write-ahead log with content is left beside it.
fn file_state(k: &Keel) -> (Vec<u8>, bool) {
    let wal = std::fs::metadata(format!("{}-wal", k.db.display())).map(|m| m.len() > 0).unwrap_or(false);
    (std::fs::read(&k.db).expect("read the database file"), wal)
}

#[track_caller]
fn assert_untouched(k: &Keel, before: &(Vec<u8>, bool), what: &str) {
    let after = file_state(k);
    assert!(!after.1, "{what}: a write-ahead log with content was left behind");
    assert!(after.0 == before.0, "{what}: the database file changed ({} bytes before, {} after)", before.0.len(), after.0.len());
}

fn planned(k: &Keel, key: &str, period: &str) -> String {
    value_row(&k.show(key), period)["planned"].as_str().unwrap_or_else(|| panic!("{key} has a plan for {period}")).to_string()
}

/// The lines under a heading such as "escalations that would move:" (indented by two spaces).
fn section(stdout: &str, heading: &str) -> Vec<String> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(heading));
    let Some(first) = lines.next() else { return vec![] };
    if first.ends_with("none") {
        return vec![];
    }
    lines.take_while(|l| l.starts_with("  ")).map(|l| l.trim().to_string()).collect()
}

/// The values file of the issue: twelve rows, with a bad one on line 7 and another on line 12.
fn values_csv(k: &Keel, fixed: bool) -> String {
    let (m5, m9) = (planned(k, "M-5", WEEK), planned(k, "M-9", WEEK));
    let line7 = if fixed { "M-1,2026-W49,,9100,," } else { "M-1,2026-W49,,\"9,100\",," };
    let line12 = if fixed { "M-32,2026-W49,,21000,," } else { "M-32,2026-W54,,21000,," };
    [
        "key,period,planned,forecast,actual,comment".to_string(),
        format!("M-5,{WEEK},,,{m5},Pricing desk reversed both renewals"),
        format!("M-9,{WEEK},,,{m9},Americas went live early"),
        format!("M-1,{WEEK},,,100,\"Invoice run failed; =rebill next week\""),
        "M-5,2026-W49,,12000,,".into(),
        "M-9,2026-W49,,10000,,".into(),
        line7.into(),
        "M-10,2026-W49,,6500,,".into(),
        "M-13,2026-W49,,8100,,".into(),
        "M-23,2026-W49,,38500,,".into(),
        "M-29,2026-W49,,40000,,".into(),
        line12.into(),
        "M-34,2026-W49,,8000,,".into(),
    ]
    .join("\r\n")
        + "\r\n"
}

#[test]
fn bad_rows_on_lines_7_and_12_are_both_reported_and_the_file_is_untouched() {
    let demo = Keel::demo();
    let file = demo.path("values.csv");
    std::fs::write(&file, values_csv(&demo, false)).unwrap();
    let before = file_state(&demo);
    for args in [&["import", "values.csv"][..], &["import", "values.csv", "--dry-run"][..]] {
        let r = demo.run(args);
        r.code(65).stderr_has(&[
            "values.csv: 2 problems; nothing was imported",
            "values.csv:7: column forecast: '9,100' is not a number",
            "values.csv:12: column period: '2026-W54'",
        ]);
        let lines: Vec<&str> = r.stderr.lines().filter(|l| l.trim_start().starts_with("values.csv:")).collect();
        assert_eq!(lines.len(), 2, "exactly the two bad rows:\n{}", r.stderr);
        assert_untouched(&demo, &before, "a refused import");
    }
}

#[test]
fn the_fixed_file_imports_fully_and_escalations_move_as_the_dry_run_said() {
    let demo = Keel::demo();
    let file = demo.path("values.csv");
    std::fs::write(&file, values_csv(&demo, true)).unwrap();
    let before = file_state(&demo);
    let dry = demo.run(&["import", "values.csv", "--dry-run"]);
    dry.ok().stdout_has(&["dry run: values.csv: 12 rows", "nothing was changed", "line 7 ", "line 12 ", "100"]);
    assert_untouched(&demo, &before, "a dry run");
    let predicted = section(&dry.stdout, "escalations that would move");
    for expected in ["M-1: opens at steering committee", "M-5: closes (owner review no longer needed)"] {
        assert!(predicted.iter().any(|l| l == expected), "dry run should predict {expected:?}:\n{}", dry.stdout);
    }
    let before_tiers: Vec<(String, i64)> =
        demo.escalations().iter().map(|e| (e["key"].as_str().unwrap().into(), e["tier"].as_i64().unwrap())).collect();

    let real = demo.run(&["import", "values.csv"]);
    real.ok().stdout_has(&["values.csv: 12 rows"]);
    assert_eq!(section(&real.stdout, "escalations moved"), predicted, "the import moved escalations other than the dry run said");
    assert_eq!(section(&real.stdout, "effects:"), section(&dry.stdout, "effects:"), "the same effects as the dry run");

    // Every predicted move shows in `keel escalations`, and nothing else moved.
    let after = demo.escalations();
    let tier_of = |key: &str| after.iter().find(|e| e["key"] == key).map(|e| e["tier"].as_i64().unwrap());
    for line in &predicted {
        let (key, what) = line.split_once(": ").unwrap();
        let label = |t: Option<i64>| t.map(|t| ["owner review", "sponsor action", "steering committee"][(t - 1) as usize]);
        if what.starts_with("closes") {
            assert_eq!(tier_of(key), None, "{line}");
        } else {
            let to = what.rsplit(" to ").next().unwrap().trim_start_matches("opens at ");
            assert_eq!(label(tier_of(key)), Some(to), "{line}");
        }
    }
    for (key, tier) in before_tiers {
        if !predicted.iter().any(|l| l.starts_with(&format!("{key}: "))) {
            assert_eq!(tier_of(&key), Some(tier), "{key} moved though the dry run did not say so");
        }
    }

    // All twelve rows landed, through the rules and in the audit log with the file's name.
    assert_eq!(value_row(&demo.show("M-1"), WEEK)["actual"], "100");
    assert_eq!(value_row(&demo.show("M-1"), WEEK)["comment"], "Invoice run failed; =rebill next week");
    assert_eq!(value_row(&demo.show("M-1"), "2026-W49")["forecast"], "9100");
    assert_eq!(value_row(&demo.show("M-32"), "2026-W49")["forecast"], "21000");
    assert_eq!(value_row(&demo.show("M-13"), "2026-W49")["forecast"], "8100");
    let log = demo.run(&["log", "M-1", "--format", "json"]).ok().json();
    assert!(log.as_array().unwrap().iter().any(|r| r["reason"] == "import values.csv"), "audit rows name the file: {log}");
    demo.run(&["audit", "verify"]).ok();
}

#[test]
fn errors_found_while_applying_name_the_csv_line_and_nothing_lands() {
    let demo = Keel::demo();
    std::fs::write(demo.path("mine.csv"), format!("key,period,actual\nM-5,{WEEK},12000\nM-1,{WEEK},9000\n")).unwrap();
    let before = file_state(&demo);
    // ravi owns M-5 but not M-1: the store refuses M-1, and M-5 on line 2 does not land either.
    demo.run_as("ravi", &["import", "mine.csv"]).code(77).stderr_has(&["mine.csv:3: nothing was imported", "M-1"]);
    assert_untouched(&demo, &before, "an import the store refused");
    demo.run_as("ravi", &["import", "mine.csv", "--dry-run"]).code(77).stderr_has(&["mine.csv:3"]);
    assert_untouched(&demo, &before, "a dry run the store refused");

    std::fs::write(demo.path("ghost.csv"), format!("KEY,Period,Actual\nM-5,{WEEK},1\nM-999,{WEEK},1\nO-1,{WEEK},1\n")).unwrap();
    demo.run(&["import", "ghost.csv"]).code(65).stderr_has(&[
        "ghost.csv:3: column key: no item M-999 in this file",
        "ghost.csv:4: column KEY: O-1 (objective) has no values per period",
    ]);
    std::fs::write(demo.path("cols.csv"), "key,when,actual\n").unwrap();
    demo.run(&["import", "cols.csv"]).code(65).stderr_has(&["cols.csv:1: column when: is not a column keel knows", "no 'period' column"]);
    assert_untouched(&demo, &before, "refused files");
}

/// A CSV's rows as records of strings, header first.
fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

fn exports_keep_formulas_as_text_and_numbers_as_numbers(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "exports_keep_formula") else { return };
    demo.run(&["set", "M-1", "title==HYPERLINK(\"x\")"]).ok();
    demo.run(&["set", "M-1", "actual=-1200", "comment=-5 days: @finance to check", "--period", "2026-W48"]).ok();

    let values = demo.run(&["export", "--format", "csv", "--what", "values"]);
    values.ok();
    assert!(values.stdout.contains("\"'=HYPERLINK(\"\"x\"\")\""), "the title is quoted text with a leading apostrophe");
    let rows = records(&values.stdout);
    let row = rows.iter().find(|r| r[0] == "M-1" && r[1] == "2026-W48").expect("M-1 2026-W48 exported");
    assert_eq!(row[column(&rows, "title")], "'=HYPERLINK(\"x\")");
    assert_eq!(row[column(&rows, "actual")], "-1200", "a negative number stays a plain negative number");
    assert_eq!(row[column(&rows, "comment")], "'-5 days: @finance to check", "text that starts with '-' is neutralised");
    assert_eq!(row[column(&rows, "planned")], "9000.00");

    let items = demo.run(&["export", "--format", "csv"]);
    let rows = records(&items.ok().stdout.clone());
    let m1 = rows.iter().find(|r| r[0] == "M-1").expect("M-1 in the items export");
    assert_eq!(m1[column(&rows, "title")], "'=HYPERLINK(\"x\")");
    let m2 = rows.iter().find(|r| r[0] == "M-2").expect("M-2, a one-time cost");
    assert_eq!(m2[column(&rows, "planned")], "-18000.00", "costs are negative numbers, not text");
    assert_eq!(m2[column(&rows, "kind")], "measure");
    for r in &rows[1..] {
        for name in ["progress", "target", "planned", "forecast", "actual"] {
            let cell = &r[column(&rows, name)];
            assert!(cell.is_empty() || Num::parse(cell).is_ok(), "{name} of {} is a plain number: {cell:?}", r[0]);
        }
    }

    // JSON lists for scripts, and the plan stays JSON only.
    let json: Value = serde_json::from_str(&demo.run(&["export", "--format", "json", "--what", "values"]).ok().stdout).unwrap();
    assert!(json.as_array().unwrap().iter().any(|v| v["key"] == "M-1" && v["actual"] == "-1200"));
    let json: Value = serde_json::from_str(&demo.run(&["export", "--format", "json", "--what", "items"]).ok().stdout).unwrap();
    assert!(
        json.as_array().unwrap().iter().any(|v| v["key"] == "M-1" && v["title"] == "=HYPERLINK(\"x\")"),
        "JSON carries the text as it is"
    );
    demo.run(&["export", "--format", "csv", "--what", "plan"]).code(65).stderr_has(&["the plan is JSON only"]);
}

fn an_exported_values_file_imports_back_without_a_change(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "an_exported_values_f") else { return };
    demo.run(&["set", "M-1", "comment==SUM(A1)", "--period", WEEK]).ok();
    let out = demo.path("all-values.csv");
    demo.run(&["export", "--format", "csv", "--what", "values", "--out", out.to_str().unwrap()]).ok();
    let r = demo.run(&["import", "all-values.csv", "--dry-run"]);
    r.ok().stdout_has(&["; 0 values would change", "escalations that would move: none"]);
}

// ---------------------------------------------------------------------------------------------
// Round trip: export → import into an empty file → export gives identical output.

fn num() -> impl Strategy<Value = Num> {
    (-5_000_000i64..5_000_000, 0u32..3).prop_map(|(i, scale)| Num::from(rust_decimal::Decimal::new(i, scale)))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z ,.;'\"]{0,30}",
        Just("=HYPERLINK(\"x\")".to_string()),
        Just("-12 days, \"quoted\"".to_string()),
        Just("Übergabe @ Zürich — 50%".to_string()),
    ]
}

prop_compose! {
    fn plan()(
        objectives in proptest::collection::vec((text(), proptest::option::of(num())), 1..4),
        krs in proptest::collection::vec((0usize..3, text(), 0usize..5, num(), num()), 0..5),
        measures in proptest::collection::vec((text(), 0usize..4, proptest::option::of(text())), 0..4),
        values in proptest::collection::vec((0usize..8, 1u32..20, proptest::option::of(num()), proptest::option::of(num()), proptest::option::of(num()), proptest::option::of(text())), 0..24),
    ) -> Plan {
        let mut plan = Plan { format: p::FORMAT.into(), version: p::FORMAT_VERSION, ..Default::default() };
        plan.cycles.push(p::Cycle { key: "C-1".into(), name: "FY26".into(), start: "2026-01-01".parse().unwrap(), end: "2026-12-31".parse().unwrap() });
        plan.units.push(p::Unit { key: "U-1".into(), name: "Operations".into(), kind: UnitKind::BusinessUnit, parent: None });
        plan.people.push(p::Person { key: "P-1".into(), name: "Ada Admin".into(), login: Some("ada".into()), email: None, unit: Some("U-1".into()), pmo_admin: true });
        for (i, (title, target)) in objectives.iter().enumerate() {
            plan.objectives.push(p::Objective {
                key: format!("O-{}", i + 1), cycle: "C-1".into(), title: title.clone(), description: None, owner: Some("P-1".into()),
                parent: if i > 0 { Some("O-1".into()) } else { None }, level: if i > 0 { Level::Department } else { Level::Company },
                units: vec!["U-1".into()], manual_status: None, status_explanation: None, target: target.map(|t| t.abs()),
            });
        }
        let kinds = [KrKind::IncreaseTo, KrKind::DecreaseTo, KrKind::StayAbove, KrKind::StayBelow, KrKind::Milestone];
        for (i, (o, title, kind, baseline, target)) in krs.iter().enumerate() {
            let kind = kinds[*kind];
            // A consistent definition: the target lies on the side the kind names.
            let (low, high) = if baseline < target { (*baseline, *target) } else { (*target, baseline.checked_add(Num::ONE).unwrap()) };
            let (baseline, target) = if kind == KrKind::DecreaseTo { (high, low) } else { (low, high) };
            plan.key_results.push(p::KeyResult {
                key: format!("KR-{}", i + 1), objective: format!("O-{}", (o % objectives.len()) + 1), title: title.clone(), kind,
                baseline: (kind != KrKind::Milestone).then_some(baseline), target: (kind != KrKind::Milestone).then_some(target),
                unit: None, weight: Num::ONE, confidence: None, owner: Some("P-1".into()), milestone_done: false, manual_status: None, status_explanation: None, narrative: Some("Reviewed weekly".into()),
            });
        }
        plan.kpis.push(p::Kpi {
            key: "K-1".into(), title: "Cost per order".into(), ipo_class: IpoClass::Process, unit: None, direction: Direction::LowerIsBetter,
            target: Some(Num::from_int(40)), tolerance: None, timeframe: Some("FY26".into()), data_source: Some("ERP".into()),
            frequency: Some(Cadence::Weekly), owner: Some("P-1".into()), kra: None, informs: vec!["O-1".into()], narrative: Some("Reviewed weekly".into()),
        });
        for (i, (kind, title)) in [(NodeKind::Portfolio, "Portfolio"), (NodeKind::Programme, "Programme"), (NodeKind::Project, "Project"), (NodeKind::Package, "Package")].iter().enumerate() {
            let key = format!("{}-1", kind.prefix());
            let parent = [None, Some("PF-1"), Some("PG-1"), Some("PJ-1")][i].map(str::to_string);
            plan.nodes.push(p::Node { key, kind: *kind, title: title.to_string(), parent, owner: Some("P-1".into()), target: None });
        }
        let types = [ValueType::RecurringBenefit, ValueType::OneTimeBenefit, ValueType::OneTimeCost, ValueType::RecurringCost];
        for (i, (title, vt, narrative)) in measures.iter().enumerate() {
            plan.measures.push(p::Measure {
                key: format!("M-{}", i + 1), title: title.clone(), package: Some("MP-1".into()), description: None, owner: Some("P-1".into()),
                sponsor: None, controller: None, business_unit: Some("U-1".into()), function: None, kra: None, stage: Stage::Defined,
                side_state: None, side_reason: None, pending_stage: None, requested_by: None, sponsor_approved_by: None,
                controller_signed_by: None, validated_by: None, cadence: Cadence::Weekly, value_type: types[*vt], potential: None,
                narrative: Some(narrative.clone().unwrap_or_else(|| "Reviewed weekly".into())), decision_needed: None, risk: None, next_steps: None,
                contributes_to: if plan.key_results.is_empty() { vec![] } else { vec!["KR-1".into()] }, depends_on: vec![], milestones: vec![],
            });
        }
        // Values for the items that have them, one row per item and period.
        let mut holders: Vec<String> = plan.measures.iter().map(|m| m.key.clone()).collect();
        holders.extend(plan.key_results.iter().map(|k| k.key.clone()));
        holders.push("K-1".into());
        let mut seen = std::collections::BTreeSet::new();
        for (h, week, planned, forecast, actual, comment) in values {
            let item = holders[h % holders.len()].clone();
            let period = format!("2026-W{week:02}");
            if !seen.insert((item.clone(), period.clone())) || (planned.is_none() && forecast.is_none() && actual.is_none() && comment.is_none()) {
                continue;
            }
            plan.values.push(p::Value { item, period, baseline: None, planned, forecast, actual, confidence: None, comment, by: "ada".into(), at: format!("2026-{:02}-15T09:00:00Z", (week % 12) + 1) });
        }
        plan
    }
}

fn exports(path: &std::path::Path, plan: Plan) -> (String, String, String) {
    let mut store = Store::create(path, false).expect("a fresh file");
    store.import_plan(plan).expect("the generated plan imports");
    let json = keel::io::plan::to_text(&store.export_plan().unwrap()).unwrap();
    let values = keel::io::csv::values_csv(&keel::io::csv::value_lines(&store).unwrap()).unwrap();
    let items = keel::io::csv::items_csv(&store.item_rows().unwrap()).unwrap();
    (json, values, items)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn export_import_export_is_identical(plan in plan()) {
        let dir = tempfile::tempdir().unwrap();
        let (json_a, values_a, items_a) = exports(&dir.path().join("a.db"), plan.clone());
        let reread = keel::io::plan::parse(&json_a, "a.json").unwrap();
        let sorted = |v: &[p::Value]| { let mut v = v.to_vec(); v.sort_by(|a, b| (&a.item, &a.period).cmp(&(&b.item, &b.period))); v };
        prop_assert_eq!(sorted(&reread.values), sorted(&plan.values), "every value survives exactly");
        prop_assert_eq!(&reread.measures, &plan.measures);
        prop_assert_eq!(&reread.objectives, &plan.objectives);
        let (json_b, values_b, items_b) = exports(&dir.path().join("b.db"), reread);
        prop_assert_eq!(json_a, json_b);
        prop_assert_eq!(values_a, values_b);
        prop_assert_eq!(items_a, items_b);
    }
}

crate::on_both_engines!(
    exports_keep_formulas_as_text_and_numbers_as_numbers
    an_exported_values_file_imports_back_without_a_change
);

/// On a server there is no scratch file: the dry run is the edit in a transaction that is rolled
/// back. It says what the same dry run says on a file, changes nothing, and the import then does
/// what it said.
#[test]
fn a_values_dry_run_on_a_server_predicts_what_it_does_on_a_file_and_changes_nothing() {
    let Some(server) = Keel::demo_on_engine(common::pg::Engine::Postgres, "values_dry_run") else { return };
    let file = Keel::demo();
    let csv = values_csv(&file, true);
    for k in [&file, &server] {
        std::fs::write(k.path("values.csv"), &csv).unwrap();
    }
    let (export_before, log_before) = (server.export(), server.run(&["log", "--format", "json"]).ok().stdout.clone());
    let on_server = server.run(&["import", "values.csv", "--dry-run"]);
    on_server.ok().stdout_has(&["dry run: values.csv: 12 rows", "nothing was changed"]);
    assert_eq!(on_server.stdout, file.run(&["import", "values.csv", "--dry-run"]).ok().stdout.clone(), "the engines' dry runs differ");
    assert_eq!(server.export(), export_before, "a dry run on a server changed the plan");
    assert_eq!(server.run(&["log", "--format", "json"]).ok().stdout.clone(), log_before, "a dry run on a server wrote to the audit");
    let predicted = section(&on_server.stdout, "escalations that would move");
    assert!(!predicted.is_empty(), "the file moves escalations:\n{}", on_server.stdout);
    let real = server.run(&["import", "values.csv"]);
    assert_eq!(section(&real.ok().stdout.clone(), "escalations moved"), predicted, "the import did other than its dry run said");
}
