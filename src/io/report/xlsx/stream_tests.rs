//! The streamed workbook (measures read a page at a time, long lists from their spill files,
//! rows written as they come) is the workbook the whole model makes: the same sheets in the same
//! order, every cell the same value of the same type, and the same sheet XML (number formats,
//! styles, filters, print setup). For every scope and narrowing, with and without a currency.

use super::{write_xlsx, xlsx};
use crate::io::report::stream_cases::{demo, each_case};
use crate::store::{Change, Edit};
use calamine::{Data, Reader};
use std::io::Read;

/// Every sheet by name, in order, with every cell.
fn cells(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("the workbook opens");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

/// Every part of the zip but the document properties (they hold the time it was made).
fn parts(bytes: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().expect("a part's name").to_string();
        if name == "docProps/core.xml" {
            continue;
        }
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        out.push((name, text));
    }
    out.sort();
    out
}

/// Compare two workbooks, saying where they first differ.
fn same_workbook(streamed: &[u8], whole: &[u8], what: &str) {
    let (s, w) = (cells(streamed), cells(whole));
    let names = |b: &[(String, Vec<Vec<Data>>)]| b.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&s), names(&w), "sheet names, {what}");
    assert_eq!(names(&s), super::SHEETS.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{what}");
    for ((name, a), (_, b)) in s.iter().zip(&w) {
        assert_eq!(a.len(), b.len(), "rows of {name}, {what}");
        for (i, (ra, rb)) in a.iter().zip(b).enumerate() {
            assert_eq!(ra, rb, "{name} row {i}, {what}");
        }
    }
    for ((na, a), (nb, b)) in parts(streamed).iter().zip(&parts(whole)) {
        assert_eq!(na, nb, "the workbook's parts, {what}");
        assert!(a == b, "{na} differs, {what}");
    }
}

#[test]
fn the_streamed_workbook_equals_the_model_built_one() {
    let (_dir, mut store) = demo();
    let mut measure_rows = 0;
    // The escalations' Gap heading names the currency only when a measure's gap is in it: a
    // heading the streamed workbook must settle before its rows, by reading them once more.
    let mut gap_headings = std::collections::BTreeSet::new();
    for currency in [None, Some("EUR")] {
        if let Some(c) = currency {
            store.edit(Edit::one(Change::Setting { name: "currency".into(), value: c.into() })).unwrap();
        }
        each_case(&store, |what, model, streamed_model| {
            let what = format!("{what} currency {currency:?}");
            measure_rows += model.measures.len();
            let whole = xlsx(model, "demo.keel").unwrap();
            let mut streamed = Vec::new();
            write_xlsx(streamed_model, "demo.keel", &store, &mut streamed).unwrap();
            same_workbook(&streamed, &whole, &what);
            let escalations = cells(&whole).into_iter().find(|(n, _)| n == "Escalations").expect("an Escalations sheet").1;
            gap_headings.insert(escalations[0][9].to_string());
        });
    }
    assert_eq!(gap_headings.into_iter().collect::<Vec<_>>(), ["Gap", "Gap (EUR)"], "both headings are compared");
    assert!(measure_rows > 100, "the demo's workbooks list measures ({measure_rows})");
}
