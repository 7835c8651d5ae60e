//! Reports finance and a steering committee accept: the workbook read back with calamine (date
//! cells, blanks where nothing was entered, the currency, totals, the print setup of every sheet)
//! and the size controls of `keel report` (the steering pack, --only, --depth, the HTML contents).

mod common;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;
use rust_decimal::Decimal;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

fn cells(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).expect("the workbook opens");
    let range = wb.worksheet_range(sheet).unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn col(rows: &[Vec<Data>], name: &str) -> usize {
    rows[0].iter().position(|c| *c == name).unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]))
}

fn dec(d: &Data) -> Decimal {
    match d {
        Data::Float(f) => Decimal::from_str(&f.to_string()).unwrap(),
        Data::Int(i) => Decimal::from(*i),
        other => panic!("a number cell, found {other:?}"),
    }
}

/// The spreadsheet serial number of a date (days since 1899-12-30).
fn serial(date: &str) -> f64 {
    let d = chrono::NaiveDate::parse_from_str(&date[..10], "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64
}

fn is_date(d: &Data, expected: &str) -> bool {
    matches!(d, Data::DateTime(x) if (x.as_f64() - serial(expected)).abs() < 1e-9)
}

fn xlsx(k: &Keel, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = k.path(name);
    let mut args = vec!["report", "--format", "xlsx", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    k.run(&args).ok();
    out
}

fn zip_text(path: &Path, name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the workbook")).read_to_string(&mut xml).unwrap();
    xml
}

fn dates_are_date_cells_and_nothing_entered_is_a_blank_not_a_zero(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "dates_are_date_cells") else { return };
    let out = xlsx(&demo, "r.xlsx", &[]);

    let summary = cells(&out, "Summary");
    assert!(is_date(&summary[1][1], TODAY), "Report date is a date cell: {:?}", summary[1]);

    let esc = cells(&out, "Escalations");
    let json = demo.escalations();
    let (opened, due) = (col(&esc, "Opened"), col(&esc, "Due"));
    for r in &esc[1..] {
        let e = json.iter().find(|e| e["key"] == r[2].to_string()).unwrap();
        assert!(is_date(&r[opened], e["opened_at"].as_str().unwrap()), "{:?}", r[opened]);
        assert!(is_date(&r[due], e["due_at"].as_str().unwrap()), "{:?}", r[due]);
    }

    // Measures with no value at all: blank in the workbook, a dash in Markdown, null in JSON.
    let items = demo.run(&["export", "--format", "json", "--what", "items"]).ok().json();
    let empty: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "measure" && i["planned"].is_null())
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    assert!(!empty.is_empty(), "the demo has measures without a plan");
    let m = cells(&out, "Measures");
    let (planned, last) = (col(&m, "Target (planned)"), col(&m, "Last update"));
    for key in &empty {
        let row = m.iter().find(|r| r[0].to_string() == *key).unwrap();
        assert_eq!(row[planned], Data::Empty, "{key}: no plan is a blank cell, not 0");
        assert_eq!(demo.show(key)["measure"]["money"]["planned"], Value::Null, "{key}");
    }
    let with_update = m[1..].iter().find(|r| r[last] != Data::Empty).expect("some measure has an update");
    assert!(matches!(with_update[last], Data::DateTime(_)), "Last update is a date: {:?}", with_update[last]);
    let md = demo.run(&["report", "--format", "md"]).ok().stdout.clone();
    let line = md.lines().find(|l| l.starts_with(&format!("| {} ", empty[0]))).unwrap();
    assert!(line.contains("| — | — | — |"), "no plan, forecast or actual: dashes in Markdown: {line}");
}

fn the_measures_and_the_funnel_end_in_totals_that_add_up_exactly(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_measures_and_the") else { return };
    let out = xlsx(&demo, "r.xlsx", &[]);
    let m = cells(&out, "Measures");
    let (stage, planned, forecast) = (col(&m, "Stage"), col(&m, "Target (planned)"), col(&m, "Forecast"));
    let total = m.last().unwrap();
    assert_eq!(total[0], Data::String("Total".into()));
    let counted: Vec<&Vec<Data>> = m[1..m.len() - 1].iter().filter(|r| !r[stage].to_string().contains("cancelled")).collect();
    for c in [planned, forecast] {
        let sum: Decimal = counted.iter().filter(|r| r[c] != Data::Empty).map(|r| dec(&r[c])).sum();
        assert_eq!(dec(&total[c]), sum, "column {}", m[0][c]);
    }
    let funnel = cells(&out, "Value funnel");
    let f = col(&funnel, "Forecast");
    let check = demo.run(&["check", "--format", "json"]).code(2).json();
    for node in check["funnel"].as_array().unwrap() {
        let key = node["key"].as_str().unwrap();
        let row = funnel.iter().find(|r| r[0] == key && r[1].to_string().starts_with("Total")).unwrap();
        assert_eq!(dec(&row[f]), Decimal::from_str(node["total"]["forecast"].as_str().unwrap()).unwrap(), "{key}");
    }
}

fn the_currency_setting_names_money_columns_and_their_number_format(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_currency_setting") else { return };
    demo.run(&["settings", "set", "currency=eur"]).code(65).stderr_has(&["three capital letters"]);
    demo.run(&["settings", "set", "currency=EUR"]).ok();
    let out = xlsx(&demo, "r.xlsx", &[]);
    let m = cells(&out, "Measures");
    col(&m, "Target (planned) (EUR)");
    col(&m, "Forecast (EUR)");
    let styles = zip_text(&out, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"#,##0.00 &quot;EUR&quot;\""), "money cells are formatted in EUR");
    let md = demo.run(&["report"]).ok().stdout.clone();
    assert!(md.contains("Money in EUR") && md.contains("| Target (planned) (EUR) |"), "{md:.600}");
}

fn every_sheet_prints_landscape_one_page_wide_with_titles_and_page_numbers(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "every_sheet_prints_l") else { return };
    let out = xlsx(&demo, "r.xlsx", &["--unit", "U-2"]);
    let workbook = zip_text(&out, "xl/workbook.xml");
    for (i, sheet) in keel::io::report::xlsx::SHEETS.iter().enumerate() {
        let xml = zip_text(&out, &format!("xl/worksheets/sheet{}.xml", i + 1));
        assert!(xml.contains("orientation=\"landscape\""), "{sheet}: landscape");
        assert!(xml.contains("<pageSetUpPr fitToPage=\"1\"/>") && xml.contains("fitToHeight=\"0\""), "{sheet}: one page wide");
        assert!(xml.contains("<oddHeader>") && xml.contains("Steering committee report"), "{sheet}: title in the header");
        assert!(xml.contains("U-2"), "{sheet}: the scope in the header");
        assert!(xml.contains("Page &amp;P of &amp;N"), "{sheet}: page numbers in the footer");
        let sheet_name = if sheet.contains(' ') { format!("'{sheet}'") } else { sheet.to_string() };
        assert!(workbook.contains(&format!("{sheet_name}!$1:$1")), "{sheet}: the header row repeats on every page");
    }
}

fn the_key_results_forecast_column_is_there_only_when_a_forecast_is(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_key_results_fore") else { return };
    let out = xlsx(&demo, "a.xlsx", &[]);
    let kr = cells(&out, "Key results");
    assert!(!kr[0].iter().any(|c| *c == "Forecast"), "no key result has a forecast: no column");
    let md = demo.run(&["report"]).ok().stdout.clone();
    assert!(!md.contains("| Key result | Owner | Baseline | Target | Forecast |"));
    demo.run(&["set", "KR-1", "forecast=42", "--period", WEEK]).ok();
    let out = xlsx(&demo, "b.xlsx", &[]);
    let kr = cells(&out, "Key results");
    let f = col(&kr, "Forecast");
    let row = kr.iter().find(|r| r[1] == "KR-1").unwrap();
    assert_eq!(dec(&row[f]), Decimal::from(42));
}

fn the_steering_pack_is_short_and_says_what_matters(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_steering_pack_is") else { return };
    let full = demo.run(&["report"]).ok().stdout.clone();
    let pack = demo.run(&["report", "--summary", "--top", "3"]).ok().stdout.clone();
    assert!(pack.starts_with("# Steering committee pack"), "{pack:.200}");
    for h in ["## Summary", "## Open escalations by tier", "## At risk", "## Value funnel by DoI stage", "## Top 3 measures short of plan"]
    {
        assert!(pack.contains(h), "the pack has {h}");
    }
    assert!(!pack.contains("## Objectives, key results and measures"));
    assert!(pack.len() * 2 < full.len(), "the pack ({}) is much shorter than the report ({})", pack.len(), full.len());
    let top = pack.split("## Top 3 measures short of plan").nth(1).unwrap();
    let rows = top.lines().filter(|l| l.starts_with("| M-")).count();
    assert!((1..=3).contains(&rows), "at most three measures: {top}");
    demo.run(&["report", "--summary", "--format", "xlsx", "--out", demo.path("p.xlsx").to_str().unwrap()]).code(65);
}

fn only_and_depth_narrow_the_tree_and_say_so(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "only_and_depth_narro") else { return };
    let escalated = demo.run(&["report", "--only", "escalated"]).ok().stdout.clone();
    assert!(escalated.contains("Narrowed to: only escalated items"));
    let open: Vec<String> = demo.escalations().iter().map(|e| e["key"].as_str().unwrap().to_string()).collect();
    let tree = escalated.split("## KPIs").next().unwrap();
    let listed: Vec<&str> = tree.lines().filter(|l| l.starts_with("| M-")).map(|l| l[2..].split(' ').next().unwrap()).collect();
    assert!(!listed.is_empty(), "escalated measures are listed");
    for key in listed {
        assert!(open.iter().any(|k| k == key), "{key} is listed by --only escalated without an escalation");
    }
    let stale = demo.run(&["report", "--only", "stale"]).ok().stdout.clone();
    let check = demo.run(&["check", "--format", "json"]).code(2).json();
    let stale_keys: Vec<&str> = check["stale"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    for line in stale.split("## KPIs").next().unwrap().lines().filter(|l| l.starts_with("| M-")) {
        let key = line[2..].split(' ').next().unwrap();
        assert!(stale_keys.contains(&key), "{key} is listed by --only stale but is not stale");
    }
    let shallow = demo.run(&["report", "--depth", "1"]).ok().stdout.clone();
    assert!(!shallow.contains("— measures"), "depth 1 has no measure tables");
    assert!(!shallow.contains("| Key result |"), "depth 1 has no key result tables");
    assert!(shallow.contains("### O-1 "), "objectives are still there");
    let two = demo.run(&["report", "--depth", "2"]).ok().stdout.clone();
    assert!(two.contains("| Key result |") && !two.contains("— measures"));
    demo.run(&["report", "--depth", "4"]).code(64);
}

fn the_html_report_has_contents_linking_to_every_section(engine: Engine) {
    let Some(demo) = Keel::demo_on_engine(engine, "the_html_report_has_") else { return };
    let html = demo.run(&["report", "--format", "html"]).ok().stdout.clone();
    let nav = html.split("<nav class=\"toc\"").nth(1).expect("a table of contents").split("</nav>").next().unwrap().to_string();
    let links: Vec<&str> = nav.split("href=\"#").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert!(links.len() > 8, "sections and objectives: {links:?}");
    for id in &links {
        assert_eq!(html.matches(&format!("id=\"{id}\"")).count(), 1, "anchor {id} exists once");
    }
    assert!(nav.contains(">Summary<") && nav.contains(">Health warnings<") && nav.contains("O-1 "));
    assert_eq!(nav.matches("<ol>").count(), nav.matches("</ol>").count(), "balanced lists");
    assert_eq!(nav.matches("<li>").count(), nav.matches("</li>").count(), "balanced items");
}

crate::on_both_engines!(
    dates_are_date_cells_and_nothing_entered_is_a_blank_not_a_zero
    the_measures_and_the_funnel_end_in_totals_that_add_up_exactly
    the_currency_setting_names_money_columns_and_their_number_format
    every_sheet_prints_landscape_one_page_wide_with_titles_and_page_numbers
    the_key_results_forecast_column_is_there_only_when_a_forecast_is
    the_steering_pack_is_short_and_says_what_matters
    only_and_depth_narrow_the_tree_and_say_so
    the_html_report_has_contents_linking_to_every_section
);
