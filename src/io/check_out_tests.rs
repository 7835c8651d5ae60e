//! The streamed `keel check` reads exactly as the whole report rendered at once did.

use super::*;
use crate::io::generate::{self, Spec};

fn generated(dir: &tempfile::TempDir, measures: usize) -> Store {
    let mut store = Store::create(&dir.path().join("g.keel"), false).unwrap();
    let spec = Spec { measures, seed: 3, today: store.clock().today, admin_login: store.actor.login.clone() };
    generate::load(&mut store, &spec, |_| {}).unwrap();
    store
}

fn streamed(store: &Store, format: Format, batch: usize) -> String {
    let mut out = Vec::new();
    spill_batched(store, format, batch).unwrap().write_to(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The whole document as `keel check` wrote it before it streamed: the per-item reference
/// report, rendered whole.
fn whole(store: &Store, format: Format) -> String {
    let report = store.check_per_item().unwrap();
    match format {
        Format::Json => serde_json::to_string_pretty(&report).unwrap() + "\n",
        Format::Text => text::check(&report),
    }
}

#[test]
fn streamed_check_equals_the_whole_document_on_a_generated_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let store = generated(&dir, 600);
    for format in [Format::Text, Format::Json] {
        let want = whole(&store, format);
        // One batch, and batches that cut the measures (and their dependencies) apart.
        for batch in [crate::store::CHECK_BATCH, 97, 1] {
            assert_eq!(streamed(&store, format, batch), want, "{format:?} in batches of {batch}");
        }
    }
    let json = whole(&store, Format::Json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for list in ["escalations", "stale", "implementation", "potential", "at_risk_key_results", "objective_targets"] {
        assert!(!value[list].as_array().unwrap().is_empty(), "the comparison covers {list}");
    }
}

/// On a server the same store code reads each page and batch as one whole result (the client
/// holds a result at once): the same report, in pages and batches of any size.
#[test]
fn streamed_check_on_a_server_equals_the_file_in_any_batches() {
    let Some(server) = crate::store::engine::tests::scratch::Scratch::new("check_batches") else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = generated(&dir, 300);
    let url = std::path::PathBuf::from(server.url());
    crate::store::copy::copy(&dir.path().join("g.keel"), &url, &mut |_, _| {}).unwrap();
    let mut on_server = Store::open(&url).unwrap();
    on_server.set_clock(file.clock().today);
    for format in [Format::Text, Format::Json] {
        let want = whole(&file, format);
        for batch in [crate::store::CHECK_BATCH, 7, 1] {
            assert_eq!(streamed(&on_server, format, batch), want, "{format:?} on a server in batches of {batch}");
        }
    }
}

#[test]
fn streamed_check_equals_the_whole_document_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("demo.keel"), true).unwrap();
    for format in [Format::Text, Format::Json] {
        assert_eq!(streamed(&store, format, 3), whole(&store, format), "{format:?}");
    }
    // And the in-memory report (reports, digests) is the streamed one gathered.
    assert_eq!(serde_json::to_string_pretty(&store.check().unwrap()).unwrap() + "\n", streamed(&store, Format::Json, 5));
}

#[test]
fn empty_lists_are_written_as_the_whole_document_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("empty.keel"), false).unwrap();
    for format in [Format::Text, Format::Json] {
        assert_eq!(streamed(&store, format, 10), whole(&store, format), "{format:?}");
    }
    assert!(streamed(&store, Format::Json, 10).contains("  \"escalations\": [],\n"));
}
