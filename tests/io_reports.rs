//! `keel report` through the real binary on the demo organisation: the Markdown report shows the
//! numbers of `keel check` and of the detail read model (`keel show`, the TUI's detail pane), the
//! XLSX report opens with a spreadsheet reader and holds the same numbers as real numeric cells,
//! and the HTML report is one self-contained, escaped file with its charts.

mod common;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

/// A Markdown table: the heading it sits under, its header and its rows (cells unescaped).
#[derive(Debug)]
struct Table {
    heading: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {:?} under {}", self.header, self.heading))
    }
    /// The row whose first cell starts with `key ` (or is `key`).
    fn row(&self, key: &str) -> Option<&Vec<String>> {
        self.rows.iter().find(|r| r[0] == key || r[0].starts_with(&format!("{key} ")))
    }
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut().unwrap().extend(chars.next()),
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

fn tables(md: &str) -> Vec<Table> {
    let lines: Vec<&str> = md.lines().collect();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with('#') {
            heading = lines[i].trim_start_matches('#').trim().replace('\\', "");
        }
        if lines[i].starts_with('|') && lines.get(i + 1).is_some_and(|l| l.starts_with("|---")) {
            let header = cells(lines[i]);
            let mut rows = Vec::new();
            i += 2;
            while i < lines.len() && lines[i].starts_with('|') {
                rows.push(cells(lines[i]));
                i += 1;
            }
            out.push(Table { heading: heading.clone(), header, rows });
            continue;
        }
        i += 1;
    }
    out
}

/// A number as the report shows it (`1,425,540`, `-17,990`), exactly.
fn md_num(s: &str) -> Decimal {
    Decimal::from_str(&s.replace(',', "")).unwrap_or_else(|_| panic!("{s:?} is not a number"))
}

fn json_num(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("{v} is not a number string"))).unwrap()
}

fn report_md(k: &Keel, extra: &[&str]) -> String {
    let mut args = vec!["report", "--format", "md"];
    args.extend_from_slice(extra);
    k.run(&args).ok().stdout.clone()
}

/// A money cell of the report: a number, or a dash where nothing was entered.
fn md_opt(s: &str) -> Option<Decimal> {
    (s != "—").then(|| md_num(s))
}

fn json_opt(v: &Value) -> Option<Decimal> {
    (!v.is_null()).then(|| json_num(v))
}

/// Every measure row of the report's measure tables: key → (planned, forecast, actual).
fn md_measures(ts: &[Table]) -> BTreeMap<String, [Option<Decimal>; 3]> {
    let mut out = BTreeMap::new();
    for t in ts.iter().filter(|t| t.header.first().is_some_and(|h| h == "Measure") && t.header.contains(&"Forecast".to_string())) {
        for r in &t.rows {
            let key = r[0].split(' ').next().unwrap().to_string();
            let nums = [md_opt(&r[t.col("Target (planned)")]), md_opt(&r[t.col("Forecast")]), md_opt(&r[t.col("Actual")])];
            if let Some(seen) = out.insert(key.clone(), nums) {
                assert_eq!(seen, nums, "{key} shows different numbers in two places");
            }
        }
    }
    out
}

fn markdown_numbers_are_those_of_keel_check_and_the_detail_pane(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "markdown_numbers_are") else { return };
    let check = demo.run(&["check", "--format", "json"]).code(2).json();
    let md = report_md(&demo, &[]);
    let ts = tables(&md);
    let find = |heading: &str| ts.iter().find(|t| t.heading.starts_with(heading)).unwrap_or_else(|| panic!("no table under {heading}"));

    // Summary counts.
    let summary = find("Summary");
    let by_tier = check["escalations_by_tier"].as_array().unwrap();
    for (label, i) in [("!!! steering committee", 2), ("!! sponsor action", 1), ("! owner review", 0)] {
        assert_eq!(summary.row(label).unwrap()[1], by_tier[i].to_string(), "{label}");
    }
    assert_eq!(summary.row("Stale items").unwrap()[1], check["stale"].as_array().unwrap().len().to_string());

    // Every open escalation, under its tier, with the gap and the run of periods of `keel check`.
    for e in check["escalations"].as_array().unwrap() {
        let tier = e["tier_label"].as_str().unwrap();
        let t = ts.iter().find(|t| t.heading.contains(tier) && t.header[0] == "Item").unwrap_or_else(|| panic!("no table for {tier}"));
        let row = t.row(e["key"].as_str().unwrap()).unwrap_or_else(|| panic!("{} missing under {tier}", e["key"]));
        assert_eq!(md_num(&row[t.col("Gap")]), json_num(&e["gap"]), "gap of {}", e["key"]);
        assert_eq!(row[t.col("Periods out")], e["periods_out"].to_string());
    }

    // The value funnel, stage by stage, and the totals.
    let funnel = ts.iter().find(|t| t.heading.starts_with("Value funnel") && t.header.contains(&"Total".to_string())).unwrap();
    let totals = ts.iter().find(|t| t.heading.starts_with("Value funnel") && t.header.contains(&"Planned".to_string())).unwrap();
    let rows = check["funnel"].as_array().unwrap();
    assert!(!rows.is_empty());
    for f in rows {
        let key = f["key"].as_str().unwrap();
        let row = funnel.row(key).unwrap();
        for (i, stage) in f["by_stage"].as_array().unwrap().iter().enumerate() {
            assert_eq!(md_num(&row[i + 1]), json_num(&stage[1]["forecast"]), "{key} stage {}", stage[0]);
        }
        assert_eq!(md_num(&row[funnel.col("Total")]), json_num(&f["total"]["forecast"]));
        let row = totals.row(key).unwrap();
        for (i, field) in ["planned", "forecast", "actual"].iter().enumerate() {
            assert_eq!(md_num(&row[i + 1]), json_num(&f["total"][field]), "{key} total {field}");
        }
    }

    // Top-down targets against bottom-up value.
    let targets = find("Top-down targets");
    for (key, gap) in check["objective_targets"].as_array().unwrap().iter().map(|x| (x[0].as_str().unwrap(), &x[1])) {
        let row = targets.row(key).unwrap();
        assert_eq!(md_num(&row[1]), json_num(&gap["target"]));
        assert_eq!(md_num(&row[2]), json_num(&gap["bottom_up"]));
        assert_eq!(md_num(&row[3]), json_num(&gap["gap"]));
    }

    // Stale items.
    let stale = find("Stale items");
    for s in check["stale"].as_array().unwrap() {
        let row = stale.row(&format!("? {}", s["key"].as_str().unwrap())).unwrap();
        assert_eq!(row[stale.col("Days since")], s["days_since_update"].to_string());
    }

    // Every measure's money as the detail read model has it; key results' target and actual.
    let measures = md_measures(&ts);
    assert!(measures.len() >= 30, "every measure appears: {}", measures.len());
    for (key, [planned, forecast, actual]) in &measures {
        let m = &demo.show(key)["measure"]["money"];
        assert_eq!((*planned, *forecast, *actual), (json_opt(&m["planned"]), json_opt(&m["forecast"]), json_opt(&m["actual"])), "{key}");
    }
    for t in ts.iter().filter(|t| t.header.first().is_some_and(|h| h == "Key result")) {
        for r in &t.rows {
            let key = r[0].split(' ').next().unwrap();
            let kr = &demo.show(key)["key_result"];
            for (col, field) in [("Target", "target"), ("Actual", "latest_actual")] {
                let cell = &r[t.col(col)];
                match kr[field].as_str() {
                    Some(v) => assert_eq!(md_num(cell), Decimal::from_str(v).unwrap(), "{key} {col}"),
                    None => assert_eq!(cell, "—", "{key} {col}"),
                }
            }
        }
    }
    // Both statuses of a measure, apart, as words with symbols.
    assert!(md.contains("| ⚠ critical | ● green |"), "M-3: implementation critical, potential green, side by side");
    assert!(md.contains("| → on track | ▲ amber |"), "M-9: on schedule while its value is amber");
}

fn xlsx_cells(path: &std::path::Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).expect("the workbook opens");
    let range = wb.worksheet_range(sheet).unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn float(d: &Data, what: &str) -> Decimal {
    match d {
        Data::Float(f) => Decimal::from_str(&f.to_string()).unwrap(),
        Data::Int(i) => Decimal::from(*i),
        other => panic!("{what}: a number cell, found {other:?}"),
    }
}

fn header_index(rows: &[Vec<Data>], name: &str) -> usize {
    rows[0].iter().position(|c| *c == name).unwrap_or_else(|| panic!("no column {name}"))
}

fn the_xlsx_report_opens_and_holds_the_markdown_numbers(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_xlsx_report_open") else { return };
    demo.run(&["set", "M-1", "title==HYPERLINK(\"x\")"]).ok();
    let md = report_md(&demo, &[]);
    let ts = tables(&md);
    let out = demo.path("steering.xlsx");
    demo.run(&["report", "--format", "xlsx", "--out", out.to_str().unwrap()]).ok();

    let wb: Xlsx<_> = open_workbook(&out).expect("the workbook opens");
    assert_eq!(wb.sheet_names(), keel::io::report::xlsx::SHEETS.iter().map(|s| s.to_string()).collect::<Vec<_>>());

    // Measures: real numbers, equal to the report's.
    let rows = xlsx_cells(&out, "Measures");
    let (p, f, a) = (header_index(&rows, "Target (planned)"), header_index(&rows, "Forecast"), header_index(&rows, "Actual"));
    let md_m = md_measures(&ts);
    assert_eq!(rows.len() - 2, md_m.len(), "one row per measure, and the totals row");
    let opt = |d: &Data, key: &str| (*d != Data::Empty).then(|| float(d, key));
    for r in &rows[1..rows.len() - 1] {
        let key = r[0].to_string();
        let got = [opt(&r[p], &key), opt(&r[f], &key), opt(&r[a], &key)];
        assert_eq!(got, md_m[&key], "{key}");
    }
    assert_eq!(rows.last().unwrap()[0], Data::String("Total".into()));
    let m1 = rows.iter().find(|r| r[0] == "M-1").unwrap();
    assert_eq!(m1[1], Data::String("=HYPERLINK(\"x\")".into()), "a title that looks like a formula is a text cell");

    // The value funnel, long format: node × stage.
    let md_funnel = ts.iter().find(|t| t.heading.starts_with("Value funnel") && t.header.contains(&"Total".to_string())).unwrap();
    let rows = xlsx_cells(&out, "Value funnel");
    let forecast = header_index(&rows, "Forecast");
    for r in rows[1..].iter().filter(|r| !r[1].to_string().starts_with("Total")) {
        let (node, doi) = (r[0].to_string(), r[2].to_string());
        let md_row = md_funnel.row(&node).unwrap();
        let col = md_funnel.header.iter().position(|h| h.starts_with(&format!("{doi} "))).unwrap();
        assert_eq!(float(&r[forecast], &node), md_num(&md_row[col]), "{node} {doi}");
    }

    // Escalations: gap and tier as numbers.
    let rows = xlsx_cells(&out, "Escalations");
    let gap = header_index(&rows, "Gap");
    assert_eq!(rows.len() - 1, 8, "the demo's eight open escalations (M-12 missed its updates)");
    for r in &rows[1..] {
        let key = r[2].to_string();
        let t = ts.iter().find(|t| t.header[0] == "Item" && t.row(&key).is_some()).unwrap();
        assert_eq!(float(&r[gap], &key), md_num(&t.row(&key).unwrap()[t.col("Gap")]), "{key}");
        assert!(matches!(r[0], Data::Float(_)), "the tier is a number");
    }

    // Every sheet: a frozen header row, an autofilter, and no formula anywhere.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().name().unwrap().to_string()).collect();
    let sheets: Vec<String> = names.into_iter().filter(|n| n.starts_with("xl/worksheets/sheet")).collect();
    assert_eq!(sheets.len(), keel::io::report::xlsx::SHEETS.len());
    for name in sheets {
        let mut xml = String::new();
        zip.by_name(&name).unwrap().read_to_string(&mut xml).unwrap();
        assert!(xml.contains("state=\"frozen\""), "{name}: header row frozen");
        assert!(xml.contains("<autoFilter"), "{name}: autofilter");
        assert!(!xml.contains("<f>"), "{name}: no formulas");
    }
}

fn the_html_report_is_one_escaped_file_with_charts(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_html_report_is_o") else { return };
    demo.run(&["set", "M-9", "title=<script>alert(1)</script> & \"quotes\""]).ok();
    let html = demo.run(&["report", "--format", "html"]).ok().stdout.clone();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("<script"), "no script, and a title cannot inject one");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    for external in ["<link", " src=", "@import", "url("] {
        assert!(!html.contains(external), "self-contained: found {external:?}");
    }
    assert_eq!(html.matches(" href=").count(), html.matches(" href=\"#").count(), "links only within the document (its contents)");
    assert!(html.contains("@media print"), "a print stylesheet");
    assert!(html.matches("<svg").count() >= 3 + 10, "a funnel chart per programme and portfolio, and KPI trends");
    assert!(html.contains("aria-label=\"Value funnel of PG-1 Customer retention programme\""));
    assert!(html.contains("Trend of K-5"));
    // Statuses are words with symbols, colour only added.
    assert!(html.contains("<td class=\"s-red\">■ red</td>"));
    assert!(html.contains("<td class=\"s-amber\">▲ amber</td>"));
    assert!(html.contains("⚠ critical"));
}

fn a_scoped_report_shows_only_its_unit_and_refuses_unknown_scopes(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "a_scoped_report_show") else { return };
    let md = report_md(&demo, &["--unit", "Finance"]);
    assert!(md.contains("Scope: unit U-6 Finance"), "{}", md.lines().take(4).collect::<Vec<_>>().join("\n"));
    let measures = md_measures(&tables(&md));
    assert_eq!(measures.keys().cloned().collect::<Vec<_>>(), vec!["M-32", "M-33", "M-34", "M-36"], "Finance's measures only");
    // With a cycle too: only the measures that serve the cycle's key results.
    let in_cycle = report_md(&demo, &["--unit", "U-6", "--cycle", "FY26-H2"]);
    assert!(in_cycle.contains("Scope: cycle C-1 FY26-H2, unit U-6 Finance"));
    assert_eq!(md_measures(&tables(&in_cycle)).keys().cloned().collect::<Vec<_>>(), vec!["M-32", "M-34"]);
    assert!(md.contains("### O-2 "), "the objective tagged with Finance");
    assert!(!md.contains("### O-1 "), "no objective without Finance or its measures");
    assert!(md.contains("Net money of the measures in scope"), "a funnel of the scope, not the programmes");
    let ts = tables(&md);
    let funnel = ts.iter().find(|t| t.heading.starts_with("Value funnel")).unwrap();
    let sum: Decimal = funnel.rows.iter().map(|r| md_num(&r[2])).sum();
    let expected: Decimal = measures.values().filter_map(|m| m[1]).sum();
    assert_eq!(sum, expected, "the scope's funnel adds up its measures' forecasts");

    demo.run(&["report", "--cycle", "FY99"]).code(65).stderr_has(&["--cycle", "FY99", "no cycle"]);
    demo.run(&["report", "--unit", "U-99"]).code(65).stderr_has(&["no unit"]);
}

fn an_xlsx_report_to_a_pipe_is_a_zip_and_the_out_file_is_written_whole(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "an_xlsx_report_to_a_") else { return };
    let r = demo.cmd(None).args(["report", "--format", "xlsx"]).output().unwrap();
    assert!(r.status.success());
    assert!(r.stdout.starts_with(b"PK\x03\x04"), "an XLSX is a zip");
    let out = demo.path("r.md");
    demo.run(&["report", "--out", out.to_str().unwrap()]).ok().stderr_has(&["wrote", "r.md"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), report_md(&demo, &[]));
    let leftovers: Vec<_> = std::fs::read_dir(demo.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
}

/// The field names a README table documents (backticked names in its first column).
fn documented(readme: &str, heading: &str) -> std::collections::BTreeSet<String> {
    let mut fields = std::collections::BTreeSet::new();
    let section = readme.split(heading).nth(1).unwrap_or_else(|| panic!("README has no {heading}"));
    for line in section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')).skip(2) {
        let first = line.split(" | ").next().unwrap();
        fields.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
    }
    fields
}

#[test]
fn the_json_shapes_in_the_readme_are_the_real_ones() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let demo = Keel::demo();
    let check = demo.run(&["check", "--format", "json"]).code(2).json();
    let keys: std::collections::BTreeSet<String> = check.as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented(&readme, "#### `keel check --format json`"), keys);
    let rows = demo.escalations();
    let keys: std::collections::BTreeSet<String> = rows[0].as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented(&readme, "#### `keel escalations --format json`"), keys);
    // Exit codes are in --help and in the README.
    let help = demo.run(&["--help"]).ok().stdout.clone();
    for code in ["0 ", "1 ", "2 ", "64", "65", "66", "69", "70", "75", "77"] {
        assert!(help.contains(&format!("  {code}")), "--help lists exit code {code}");
        assert!(readme.contains(&format!("`{}`", code.trim())), "README lists exit code {code}");
    }
}

crate::on_both_engines!(
    markdown_numbers_are_those_of_keel_check_and_the_detail_pane
    the_xlsx_report_opens_and_holds_the_markdown_numbers
    the_html_report_is_one_escaped_file_with_charts
    a_scoped_report_shows_only_its_unit_and_refuses_unknown_scopes
    an_xlsx_report_to_a_pipe_is_a_zip_and_the_out_file_is_written_whole
);
