//! Search (the app's `/`) through its index: ranked (exact key, then titles that begin with the
//! text, then the rest), kept by every write, rebuilt by `keel copy`, the same on a server; user
//! text is only ever text; and a large file that has not taken the index's migration opens
//! read-only (reads and search go on) until `keel migrate` builds it.

mod common;

use common::pg::Engine;
use common::*;
use keel::store::Store;

fn keys(store: &Store, text: &str) -> Vec<String> {
    store.search(text, 100).unwrap_or_else(|e| panic!("search '{text}': {e}")).into_iter().map(|i| i.key).collect()
}

fn open(k: &Keel) -> Store {
    Store::open(&k.db).expect("open")
}

/// Queries whose answers are compared across engines, migrations and copies.
const QUERIES: &[&str] = &["enterprise", "M-1", "m-12", "Jonas Berg", "cost", "8% w", "ren", "x", "Li", "service escalation", "zzzz"];

fn answers(store: &Store) -> Vec<Vec<String>> {
    QUERIES.iter().map(|q| keys(store, q)).collect()
}

#[test]
fn search_ranks_the_exact_key_then_titles_that_begin_with_the_text_then_the_rest_on_both_engines() {
    let file = Keel::demo();
    let store = open(&file);
    let hits = keys(&store, "m-1");
    assert_eq!(hits.first().map(String::as_str), Some("M-1"), "the exact key comes first: {hits:?}");
    assert!(hits.contains(&"M-10".to_string()), "keys containing the text follow: {hits:?}");
    // "Enterprise renewal rate" (K-1) begins with it; "Improve enterprise customer retention" (O-1),
    // made earlier, only contains it.
    let hits = keys(&store, "enterprise");
    let at = |k: &str| hits.iter().position(|h| h == k).unwrap_or_else(|| panic!("{k} not in {hits:?}"));
    assert!(at("K-1") < at("O-1"), "a title that begins with the text ranks first: {hits:?}");
    // The owner's name finds what they own.
    let hits = keys(&store, "jonas berg");
    for k in ["O-4", "M-3", "M-4", "K-1", "KR-1"] {
        assert!(hits.contains(&k.to_string()), "{k} (owned by Jonas Berg) in {hits:?}");
    }
    assert!(keys(&store, "zzzz").is_empty());
    assert!(store.search_index_drift().unwrap().is_empty(), "the demo's import filled the index");
    assert_eq!(store.search_note().unwrap(), None, "a file at this schema searches through its index");

    let Some(server) = Keel::demo_on_engine(Engine::Postgres, "search_ranked") else { return };
    let on_server = open(&server);
    assert_eq!(answers(&on_server), answers(&store), "the same answers on a server as in a file");
    assert_eq!(on_server.search_note().unwrap(), None, "pg_trgm was made on the test server");
}

#[test]
fn the_index_follows_titles_owners_retirement_and_additions_and_a_copy_rebuilds_it() {
    let demo = Keel::demo();
    demo.run(&["set", "M-1", "title=Quokka census automation"]).ok();
    demo.run(&["set", "P-3", "name=Jonas Quarrington"]).ok();
    demo.run(&["set", "M-2", "owner=P-3"]).ok();
    demo.run(&["retire", "M-9", "--reason", "merged into M-10"]).ok();
    let store = open(&demo);
    assert_eq!(keys(&store, "quokka"), ["M-1"], "the new title is found");
    assert!(keys(&store, "Redesign enterprise onboarding").is_empty(), "the old title is not");
    let hits = keys(&store, "quarrington");
    for k in ["M-2", "M-3", "O-4"] {
        assert!(hits.contains(&k.to_string()), "{k} under the owner's new name: {hits:?}");
    }
    assert!(keys(&store, "jonas berg").is_empty(), "nothing under the old name");
    assert!(!keys(&store, "M-9").contains(&"M-9".to_string()), "a retired item is not found, as before the index");
    assert!(store.search_index_drift().unwrap().is_empty(), "{:?}", store.search_index_drift());
    drop(store);
    demo.run(&["unretire", "M-9"]).ok();
    assert_eq!(keys(&open(&demo), "M-9").first().map(String::as_str), Some("M-9"), "back in service, back in search");

    // A copy holds no index rows of its own: it is made from the copied tables.
    let copy = demo.path("copy.keel");
    demo.run(&["copy", demo.db.to_str().unwrap(), copy.to_str().unwrap()]).ok();
    let copied = Store::open(&copy).unwrap();
    assert!(copied.search_index_drift().unwrap().is_empty());
    assert_eq!(answers(&copied), answers(&open(&demo)), "the copy searches as the original does");
    let paused: i64 = rusqlite::Connection::open(&copy).unwrap().query_row("SELECT COUNT(*) FROM search_pause", [], |r| r.get(0)).unwrap();
    assert_eq!(paused, 0, "no bulk load is left paused");
}

#[test]
fn hostile_search_text_is_only_ever_text() {
    let demo = Keel::demo();
    demo.run(&["set", "M-1", "title=50% \"fast\" (NEAR) a_b OR c*"]).ok();
    let store = open(&demo);
    for q in [
        "\"",
        "\"\"",
        "\" OR \"",
        "NEAR(a b)",
        "*",
        "^",
        "title:x",
        "{key title}: x",
        "-abc",
        "a\0b",
        "\0",
        "%",
        "_",
        "\\",
        "'); DROP TABLE items; --",
        "AND",
        "😀😀😀",
        "\u{202e}evil",
        &"ab".repeat(5000),
    ] {
        let r = store.search(q, 100);
        assert!(r.is_ok(), "{q:?}: {r:?}");
    }
    for q in ["\"fast\"", "% \"fast\" (NEAR", "a_b OR c*", "(near)"] {
        assert_eq!(keys(&store, q), ["M-1"], "{q:?} is found literally");
    }
    // LIKE's wildcards are literal too: "a_b" is not "axb", "%" not "anything".
    assert!(keys(&store, "5_%").is_empty());
    assert!(keys(&store, "a%b").is_empty());
    assert!(keys(&store, "a\0b").is_empty());
    demo.run(&["check"]);
    let items: i64 = demo.sql().query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0)).unwrap();
    assert!(items > 100, "nothing was dropped");
}

/// Make a file look as schema 10 left it: without search's index (migration 11).
fn downgrade_to_10(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    common::drop_search_index(&c);
    c.execute_batch("PRAGMA user_version = 10;").unwrap();
}

#[test]
fn a_small_file_takes_the_index_when_it_is_opened() {
    let demo = Keel::demo();
    downgrade_to_10(&demo.db);
    demo.run(&["set", "M-1", "title=Quokka census"]).ok();
    let version: i64 = demo.sql().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, keel::store::migrations::SCHEMA_VERSION);
    assert_eq!(keys(&open(&demo), "quokka"), ["M-1"]);
}

/// Make a file one that has not taken the index's migration and is too large to take it on
/// opening: it opens read-only, and search scans.
fn make_large_before_the_index(k: &Keel) {
    downgrade_to_10(&k.db);
    // Enough items to be large (bare registry rows: they are not searched).
    let filler = keel::store::migrations::MIGRATE_ON_OPEN_MAX + 1;
    k.sql()
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO items (kind, num, key) SELECT 'kra', 100000 + i, 'KRA-' || (100000 + i) FROM n",
            [filler],
        )
        .unwrap();
}

/// Titles and a name in other alphabets, and searches that must find them whatever their case
/// (the short ones go the index's short path).
const OTHER_ALPHABETS: &[(&str, &str)] = &[("M-1", "title=École numérique"), ("M-2", "title=ЖУК-проект"), ("P-3", "name=Åsa Öberg")];
const FOLDED_QUERIES: &[&str] = &["école", "ÉCOLE", "éC", "жук", "Жу", "öberg", "ÅSA ÖBERG", "numÉRIQUE"];

#[test]
fn every_alphabet_folds_its_case_alike_on_the_index_the_scan_and_a_server() {
    let demo = Keel::demo();
    for (key, set) in OTHER_ALPHABETS {
        demo.run(&["set", key, set]).ok();
    }
    let answers = |store: &Store| -> Vec<Vec<String>> { FOLDED_QUERIES.iter().map(|q| keys(store, q)).collect() };
    let on_index = answers(&open(&demo));
    let has = |i: usize, key: &str| on_index[i].contains(&key.to_string());
    assert!((0..3).all(|i| has(i, "M-1")) && has(7, "M-1"), "École in any case: {on_index:?}");
    assert!(has(3, "M-2") && has(4, "M-2"), "ЖУК in any case: {on_index:?}");
    assert!(!on_index[5].is_empty() && on_index[5] == on_index[6], "Åsa Öberg's items in any case: {on_index:?}");

    let Some(server) = Keel::demo_on_engine(Engine::Postgres, "search_folded") else { return };
    for (key, set) in OTHER_ALPHABETS {
        server.run(&["set", key, set]).ok();
    }
    assert_eq!(answers(&open(&server)), on_index, "a server folds as a file does");

    make_large_before_the_index(&demo);
    let scanning = open(&demo);
    assert!(scanning.search_note().unwrap().is_some(), "this file scans");
    assert_eq!(answers(&scanning), on_index, "the scan folds as the index does");
}

#[test]
fn a_large_file_opens_read_only_until_keel_migrate_builds_the_index() {
    let demo = Keel::demo();
    make_large_before_the_index(&demo);
    // (The bare filler rows are no plan: counted, not exported.)
    let audit = |k: &Keel| -> i64 { k.sql().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap() };
    let before = audit(&demo);
    demo.run(&["set", "M-1", "title=Quokka census"]).code(77).stderr_has(&["read-only until `keel migrate`", "index", "keel --db"]);
    let store = open(&demo);
    let why = store.read_only_reason().expect("read-only");
    assert!(why.contains("keel migrate") && why.contains("Viewing works"), "{why}");
    assert!(store.search_note().unwrap().is_some_and(|n| n.contains("keel migrate")));
    let scanned = answers(&store);
    assert!(scanned[0].contains(&"O-1".to_string()), "search works before the migration: {scanned:?}");
    drop(store);
    assert_eq!(audit(&demo), before, "nothing was written");
    let version: i64 = demo.sql().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 10, "opening did not take the heavy migration");

    demo.run(&["migrate"]).ok().stdout_has(&["from schema 10 to 11", "kept as"]);
    let store = open(&demo);
    assert_eq!(store.read_only_reason(), None, "writable after keel migrate");
    assert_eq!(answers(&store), scanned, "the index answers as the scan did");
    assert!(store.search_index_drift().unwrap().is_empty());
    drop(store);
    demo.run(&["set", "M-1", "title=Quokka census"]).ok();
    assert_eq!(keys(&open(&demo), "quokka"), ["M-1"]);
}

/// A large database on a server that takes search's migration: opening moves the schema on and
/// stays writable, but leaves the GIN builds (which would hold off every writer) to `keel
/// migrate`, which builds them beside the writers; search scans meanwhile, with the same answers.
#[test]
fn a_large_server_database_leaves_its_search_indexes_to_keel_migrate() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "search_large_server") else { return };
    let mut admin = k.server.as_ref().unwrap().client();
    let indexes = |admin: &mut postgres::Client| -> i64 {
        admin
            .query_one("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE '%\\_trgm'", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(indexes(&mut admin), 7, "a small database takes its indexes when it is made");
    // As schema 10 left it, and large (bare registry rows: they are not searched).
    let names: Vec<String> = admin
        .query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE '%\\_trgm'", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for name in names {
        admin.batch_execute(&format!("DROP INDEX \"{name}\"")).unwrap();
    }
    admin.execute("UPDATE keel_meta SET value = 10 WHERE name = 'schema_version'", &[]).unwrap();
    let filler = keel::store::migrations::MIGRATE_ON_OPEN_MAX + 1;
    admin
        .execute(
            "INSERT INTO items (kind, num, key) SELECT 'kra', 100000 + i, 'KRA-' || (100000 + i) FROM generate_series(1, $1::bigint) i",
            &[&filler],
        )
        .unwrap();

    k.run(&["set", "M-1", "title=Quokka census"]).ok();
    let version: i64 = admin.query_one("SELECT value FROM keel_meta WHERE name = 'schema_version'", &[]).unwrap().get(0);
    assert_eq!(version, keel::store::migrations::SCHEMA_VERSION, "opening moved the schema on");
    assert_eq!(indexes(&mut admin), 0, "no GIN build held off the writers on opening");
    let store = open(&k);
    assert_eq!(store.read_only_reason(), None, "a server stays writable: search scans meanwhile");
    assert!(store.search_note().unwrap().is_some_and(|n| n.contains("keel migrate")), "check --deep says what to run");
    assert_eq!(keys(&store, "quokka"), ["M-1"]);
    let scanned = answers(&store);
    drop(store);

    k.run(&["migrate"]).ok().stdout_has(&["trigram indexes are built"]);
    assert_eq!(indexes(&mut admin), 7);
    let store = open(&k);
    assert_eq!(store.search_note().unwrap(), None);
    assert_eq!(answers(&store), scanned, "the indexes answer as the scan did");
    drop(store);
    k.run(&["migrate"]).ok().stdout_has(&["nothing to do"]);
}
