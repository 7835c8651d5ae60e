//! A file that is not a readable keel database (a folder, a fake SQLite header, a truncated or
//! damaged file) is refused with exit 69 saying why, once; `keel check --deep` finds damaged pages.

mod common;

use common::*;

/// A demo whose WAL has been folded into the file (keel's last connection does that on exit).
fn closed_demo() -> Keel {
    let k = Keel::demo();
    assert!(!k.path("keel.db-wal").exists(), "the demo's WAL is folded in on exit");
    k
}

#[test]
fn a_folder_as_the_database_is_refused_once_with_69() {
    let k = Keel::blank(None);
    let folder = k.path("data");
    std::fs::create_dir(&folder).unwrap();
    let r = run(keel(k.dir.path()), &["--db", folder.to_str().unwrap(), "whoami"]);
    r.code(69).stderr_has(&["it is a folder"]);
    assert_eq!(r.stderr.matches("folder").count(), 1, "said once: {}", r.stderr);
}

#[test]
fn a_fake_header_or_a_truncated_file_is_not_a_readable_keel_database() {
    let k = closed_demo();
    let whole = std::fs::read(&k.db).unwrap();

    let mut fake = b"SQLite format 3\0".to_vec();
    fake.extend((0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    std::fs::write(&k.db, &fake).unwrap();
    k.run(&["show", "M-7"]).code(69).stderr_has(&["not a readable keel database", "restore it from a backup"]);

    std::fs::write(&k.db, &whole[..whole.len() / 2]).unwrap();
    for args in [&["whoami"][..], &["show", "M-7"], &["check"], &["report"]] {
        k.run(args).code(69).stderr_has(&["not a readable keel database", "truncated"]);
    }
    std::fs::write(&k.db, &whole[..60]).unwrap();
    k.run(&["whoami"]).code(69).stderr_has(&["cut off after 60 bytes"]);
    assert_eq!(std::fs::read(&k.db).unwrap(), &whole[..60], "a refused file is left as it was");
}

#[test]
fn check_deep_finds_damaged_pages() {
    let k = closed_demo();
    k.run(&["check", "--deep"]);
    let mut bytes = std::fs::read(&k.db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    // Four smashed bytes in the cell pointers of the last table leaf page (type 13): the rows
    // can still be read past, so only a page check sees it.
    let leaf = (1..bytes.len() / page).rev().find(|p| bytes[p * page] == 13).expect("a table leaf page");
    bytes[leaf * page + 8..leaf * page + 12].copy_from_slice(&[0xFF; 4]);
    std::fs::write(&k.db, &bytes).unwrap();
    k.run(&["check", "--deep"]).code(69).stderr_has(&["PRAGMA quick_check found damage"]);
}
