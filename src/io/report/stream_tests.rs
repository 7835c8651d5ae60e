//! The streamed report (measures read a page at a time, output written as it is made) is, byte
//! for byte, the report the whole model renders: for every scope, narrowing and format. A report
//! gathered whole again would not need these paths; one that streams wrongly fails here.

use super::html::{html_of, write_html};
use super::{markdown_of, write_markdown};
use crate::store::report_size::Only;
use crate::store::Store;

fn demo() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let store = crate::io::demo::create_at(&dir.path().join("demo.keel"), today, "pmo").unwrap();
    (dir, store)
}

#[test]
fn streamed_reports_equal_the_model_built_ones() {
    let (_dir, store) = demo();
    let scopes: [(Option<&str>, Option<&str>); 4] =
        [(None, None), (None, Some("Finance")), (Some("FY26-H2"), Some("U-6")), (Some("FY26-H2"), None)];
    let sizes: [(Option<Only>, Option<u8>); 6] = [
        (None, None),
        (Some(Only::AtRisk), None),
        (Some(Only::Escalated), None),
        (Some(Only::Stale), None),
        (None, Some(2)),
        (None, Some(1)),
    ];
    let mut measures_seen = 0;
    for (cycle, unit) in scopes {
        for (only, depth) in sizes {
            let mut model = store.report(cycle, unit).unwrap();
            if let Some(o) = only {
                model.keep_only(o).unwrap();
            }
            if let Some(d) = depth {
                model.cut_to_depth(d);
            }
            measures_seen += model.measures.len();
            let streamed = store.report_streamed(cycle, unit, only, depth).unwrap();
            assert!(streamed.measures.is_empty(), "a streamed model holds no measure");
            for pack in [None, Some(5)] {
                let what = format!("{cycle:?} {unit:?} {only:?} {depth:?} pack {pack:?}");
                let mut md = Vec::new();
                write_markdown(&streamed, "demo.keel", pack, &store, &mut md).unwrap();
                assert_eq!(String::from_utf8(md).unwrap(), markdown_of(&model, "demo.keel", pack), "markdown, {what}");
                let mut html = Vec::new();
                write_html(&streamed, "demo.keel", pack, &store, &mut html).unwrap();
                assert_eq!(String::from_utf8(html).unwrap(), html_of(&model, "demo.keel", pack), "html, {what}");
            }
        }
    }
    assert!(measures_seen > 50, "the demo's reports show measures ({measures_seen})");
}
