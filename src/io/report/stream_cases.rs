//! The cases the streamed-report tests run (Markdown and HTML in `stream_tests.rs`, the workbook
//! in `xlsx/stream_tests.rs`): the demo, and each scope and narrowing as the whole model makes
//! it and as the streamed one does.

use crate::store::report::ReportModel;
use crate::store::report_size::Only;
use crate::store::Store;

pub use crate::io::demo::in_temp_dir as demo;

/// (cycle, unit) scopes: the whole file, a unit by name, both by key, a cycle.
const SCOPES: [(Option<&str>, Option<&str>); 4] =
    [(None, None), (None, Some("Finance")), (Some("FY26-H2"), Some("U-6")), (Some("FY26-H2"), None)];

/// (`--only`, `--depth`) narrowings.
const SIZES: [(Option<Only>, Option<u8>); 6] =
    [(None, None), (Some(Only::AtRisk), None), (Some(Only::Escalated), None), (Some(Only::Stale), None), (None, Some(2)), (None, Some(1))];

/// For every scope and narrowing: its description, the whole model, the streamed one (which
/// holds no measure).
pub fn each_case(store: &Store, mut each: impl FnMut(&str, &ReportModel, &ReportModel)) {
    for (cycle, unit) in SCOPES {
        for (only, depth) in SIZES {
            let what = format!("{cycle:?} {unit:?} {only:?} {depth:?}");
            let mut whole = store.report(cycle, unit).unwrap();
            if let Some(o) = only {
                whole.keep_only(o).unwrap();
            }
            if let Some(d) = depth {
                whole.cut_to_depth(d);
            }
            let streamed = store.report_streamed(cycle, unit, only, depth).unwrap();
            assert!(streamed.measures.is_empty(), "a streamed model holds no measure");
            each(&what, &whole, &streamed);
        }
    }
}
