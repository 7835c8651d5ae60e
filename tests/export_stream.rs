//! `keel export` streams: the plan, values and items are read a page at a time and written
//! element by element, and the bytes are exactly those of the whole document serialized at once,
//! whatever the page size (one item per page crosses a page border at every item).

mod common;

use common::pg::Engine;
use common::*;
use keel::io::csv as values_csv;
use keel::io::export_out as x;
use keel::store::plan::EXPORT_PAGE;
use keel::store::Store;

fn streamed(write: impl FnOnce(&mut dyn std::io::Write) -> keel::store::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("the export streams");
    String::from_utf8(out).expect("UTF-8")
}

/// Each export as the whole document made in memory, the way `keel export` made it before.
struct Whole {
    plan: String,
    values_json: String,
    values_csv: String,
    items_json: String,
    items_csv: String,
}

fn whole(store: &Store) -> Whole {
    let plan = store.export_plan().unwrap();
    let lines = values_csv::value_lines_of(plan.values.clone(), &store.titles().unwrap());
    let items = store.item_rows().unwrap();
    Whole {
        plan: keel::io::plan::to_text(&plan).unwrap(),
        values_json: format!("{}\n", serde_json::to_string_pretty(&lines).unwrap()),
        values_csv: values_csv::values_csv(&lines).unwrap(),
        items_json: format!("{}\n", serde_json::to_string_pretty(&items).unwrap()),
        items_csv: values_csv::items_csv(&items).unwrap(),
    }
}

fn same_at_every_page_size(store: &Store) -> Whole {
    let w = whole(store);
    for page in [1, 2, 7, EXPORT_PAGE] {
        assert_eq!(streamed(|o| x::write_plan(store, page, o)), w.plan, "the plan, {page} a page");
        assert_eq!(streamed(|o| x::write_values_json(store, page, o)), w.values_json, "values as JSON, {page} a page");
        assert_eq!(streamed(|o| x::write_values_csv(store, page, o)), w.values_csv, "values as CSV, {page} a page");
    }
    assert_eq!(streamed(|o| x::write_items_json(store, o)), w.items_json, "items as JSON");
    assert_eq!(streamed(|o| x::write_items_csv(store, o)), w.items_csv, "items as CSV");
    w
}

/// The same on a server: every page is a query of its own there, and its rows are the file's.
fn streams_the_whole_document(engine: Engine, test: &str) {
    let Some(demo) = Keel::demo_on_engine(engine, test) else { return };
    demo.run(&["retire", "M-9", "--reason", "merged into M-10"]).ok();
    demo.run(&["retire", "MP-2", "--reason", "merged into MP-4", "--with-children"]).ok();
    demo.run(&["decide", "M-16", "Release the firmware fix before the next shipment", "--owner", "P-9"]).ok();
    demo.run(&["decide", "M-3", "Keep the supplier for one more quarter"]).ok();
    demo.run(&["decide", "M-3", "Review again in March"]).ok();
    let store = Store::open(&demo.db).unwrap();
    let w = same_at_every_page_size(&store);
    assert!(w.plan.contains("\"retired\": [") && w.plan.contains("\"decisions\": [\n    {"), "the demo has every section");
    assert!(w.values_csv.lines().count() > 100, "the demo has values to page through");
    drop(store);

    // The command writes the same bytes, to standard output and to a file.
    assert_eq!(demo.export(), w.plan);
    let out = demo.path("values.csv");
    demo.run(&["export", "--format", "csv", "--what", "values", "--out", out.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), w.values_csv);
    let r = demo.run(&["export", "--format", "json", "--what", "values"]);
    assert_eq!(r.ok().stdout, w.values_json);
}

#[test]
fn a_streamed_export_is_the_whole_document_byte_for_byte_at_any_page_size() {
    streams_the_whole_document(Engine::Sqlite, "export_stream");
}

#[test]
fn a_streamed_export_on_a_server_is_the_whole_document_byte_for_byte_at_any_page_size() {
    streams_the_whole_document(Engine::Postgres, "export_stream");
}

#[test]
fn an_empty_file_streams_its_empty_sections_as_the_whole_document_has_them() {
    let k = Keel::init();
    let store = Store::open(&k.db).unwrap();
    let w = same_at_every_page_size(&store);
    assert!(w.plan.contains("\"cycles\": [],") && !w.plan.contains("retired"), "{}", w.plan);
    assert_eq!(w.values_json, "[]\n");
}
