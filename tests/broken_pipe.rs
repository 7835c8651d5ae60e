//! A reader that stops early (`keel show M-7 | head -1`) is not a failure: keel stops writing,
//! finishes what it was doing and exits with that code; it never panics (exit 101).

mod common;

use common::*;
use std::process::Stdio;

#[test]
fn reading_commands_end_quietly_when_the_reader_goes() {
    let k = Keel::demo();
    for args in [
        &["show", "M-7"][..],
        &["escalations"],
        &["audit", "verify"],
        &["log"],
        &["export"],
        &["export", "--format", "csv", "--what", "values"],
        &["report"],
        &["report", "--format", "xlsx"],
        &["completions", "bash"],
        &["man"],
    ] {
        let r = into_closed_pipe(&k, args);
        r.ok();
        assert!(!r.stderr.contains("panicked"), "keel {args:?}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "keel {args:?} should end quietly: {}", r.stderr);
    }
    // `keel check` keeps its own exit code (escalations are open in the demo).
    let code = k.run(&["check"]).code;
    assert!(code == 1 || code == 2, "the demo has escalations open");
    into_closed_pipe(&k, &["check"]).code(code);
}

#[test]
fn an_import_that_committed_exits_0_though_nobody_read_its_report() {
    let k = Keel::demo();
    let csv = k.path("values.csv");
    std::fs::write(&csv, format!("key,period,actual,comment\nM-7,{WEEK},4321,from the pipe test\n")).unwrap();
    let r = into_closed_pipe(&k, &["import", csv.to_str().unwrap()]);
    r.ok();
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let row = value_row(&k.show("M-7"), WEEK).clone();
    assert_eq!(row["actual"], "4321", "the import landed: {row}");
}

#[test]
fn output_that_cannot_be_written_for_another_reason_is_an_error() {
    let k = Keel::demo();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("--db")
        .arg(&k.db)
        .args(["show", "M-7"])
        .env_remove("KEEL_USER")
        .env("KEEL_TODAY", TODAY)
        .stdout(Stdio::from(full))
        .output()
        .expect("keel runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "{stderr}");
    assert!(stderr.contains("cannot write to standard output") && stderr.contains("No space left"), "{stderr}");
}
