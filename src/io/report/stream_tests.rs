//! The streamed report (measures read a page at a time, output written as it is made) is, byte
//! for byte, the report the whole model renders: for every scope, narrowing and format. A report
//! gathered whole again would not need these paths; one that streams wrongly fails here.

use super::html::{html_of, write_html};
use super::stream_cases::{demo, each_case};
use super::{markdown_of, write_markdown};

#[test]
fn streamed_reports_equal_the_model_built_ones() {
    let (_dir, store) = demo();
    let mut measures_seen = 0;
    each_case(&store, |what, model, streamed| {
        measures_seen += model.measures.len();
        for pack in [None, Some(5)] {
            let what = format!("{what} pack {pack:?}");
            let mut md = Vec::new();
            write_markdown(streamed, "demo.keel", pack, &store, &mut md).unwrap();
            assert_eq!(String::from_utf8(md).unwrap(), markdown_of(model, "demo.keel", pack), "markdown, {what}");
            let mut html = Vec::new();
            write_html(streamed, "demo.keel", pack, &store, &mut html).unwrap();
            assert_eq!(String::from_utf8(html).unwrap(), html_of(model, "demo.keel", pack), "html, {what}");
        }
    });
    assert!(measures_seen > 50, "the demo's reports show measures ({measures_seen})");
}
