//! A plan (any bytes) parsed and imported into a fresh keel file. Whatever the input: no panic;
//! a refused import leaves the file empty; an accepted one leaves it intact, with a whole audit
//! chain, and exports a plan that parses back to itself.

#![no_main]

use keel::store::Store;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // tmpfs when there is one: each run creates a database, and fsync there is free.
        let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let dir = base.join(format!("keel-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// Count rows through a second, plain connection (what another process would see).
fn count(path: &std::path::Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open(path).expect("open the scratch file");
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).expect("count rows")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(plan) = keel::io::plan::parse(text, "fuzz") else { return };
    static N: AtomicU64 = AtomicU64::new(0);
    let path = scratch().join(format!("{}.db", N.fetch_add(1, Ordering::Relaxed)));
    {
        let mut store = Store::create(&path, false).expect("create a scratch database");
        store.set_clock(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        match store.import_plan(plan) {
            Ok(_) => {
                assert_eq!(store.integrity_check().unwrap(), "ok");
                let v = store.verify_audit().unwrap();
                assert!(v.first_broken.is_none(), "audit chain broken after an import: {v:?}");
                let exported = store.export_plan().expect("export what was imported");
                let text = keel::io::plan::to_text(&exported).unwrap();
                let again = keel::io::plan::parse(&text, "export").expect("an export parses");
                assert!(again == exported, "export does not parse back to itself");
            }
            Err(_) => {
                for table in ["items", "audit", "item_values"] {
                    assert_eq!(count(&path, table), 0, "a refused import left rows in {table}");
                }
            }
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
});
