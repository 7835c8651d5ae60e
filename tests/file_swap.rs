//! A file swapped or deleted under an open keel (a restore, `mv backup.keel keel.keel`): the next
//! save is refused with the reason, and the file that is there now is left whole.

use chrono::NaiveDate;
use keel::domain::{ItemKey, Period};
use keel::store::{Change, Edit, Store, StoreError};

fn an_actual() -> Edit {
    Edit::one(Change::Value {
        key: ItemKey::parse("M-1").unwrap(),
        period: Period::parse("2026-W48").unwrap(),
        field: "actual".into(),
        value: "9100".into(),
        if_version: None,
    })
}

fn demo(path: &std::path::Path) -> Store {
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    drop(keel::io::demo::create_at(path, today, "tester").unwrap());
    let mut store = Store::open(path).unwrap();
    store.set_clock(today);
    store.identify(Some("tester")).unwrap();
    store
}

#[test]
fn a_save_into_a_replaced_or_deleted_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (live, backup) = (dir.path().join("keel.db"), dir.path().join("backup.db"));
    let mut open = demo(&live);
    drop(demo(&backup));
    let backup_bytes = std::fs::read(&backup).unwrap();
    // A colleague restores the backup over the file this keel has open.
    std::fs::rename(&backup, &live).unwrap();
    let err = open.edit(an_actual()).unwrap_err();
    assert!(matches!(err, StoreError::Replaced { .. }), "{err}");
    assert!(err.to_string().contains("replaced") && err.to_string().contains("reopen"), "{err}");
    assert_eq!(std::fs::read(&live).unwrap(), backup_bytes, "the restored file was not written to");
    // Reopened, keel works on the file that is there now.
    let mut reopened = Store::open(&live).unwrap();
    reopened.set_clock(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
    reopened.identify(Some("tester")).unwrap();
    reopened.edit(an_actual()).unwrap();

    // Deleted under an open keel: a save would land in an unlinked inode and be lost.
    std::fs::remove_file(&live).unwrap();
    let err = reopened.edit(an_actual()).unwrap_err();
    assert!(err.to_string().contains("deleted"), "{err}");
}
