//! Confidence as a signal (issue 20): the confidence owners give at each check-in has a history,
//! shown as a trend by `keel show` (text and JSON); a drop of 0.2 or more, or two check-ins in a
//! row below 0.5, opens an owner review "confidence falling", with thresholds in the settings.

mod common;

use calamine::{open_workbook, Data, DataType, Reader, Xlsx};
use common::*;

fn escalation_reason(k: &Keel, key: &str) -> Option<String> {
    let d = k.show(key);
    d["escalation"]["reason"].as_str().map(str::to_string)
}

fn tier(k: &Keel, key: &str) -> Option<String> {
    k.show(key)["escalation"]["tier_label"].as_str().map(str::to_string)
}

/// K-1 (Jonas Berg's) is green with no escalation in the demo.
fn confidence(k: &Keel, period: &str, value: &str) -> Run {
    let r = k.run_as("jonas", &["set", "K-1", &format!("confidence={value}"), "--period", period]);
    r.ok();
    r
}

fn a_drop_of_a_fifth_opens_an_owner_review_and_shows_as_a_falling_trend(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_drop_of_a_fifth_opens_an_owner_review_") else { return };
    assert_eq!(escalation_reason(&k, "K-1"), None, "the demo's K-1 starts without an escalation");
    confidence(&k, "2026-W46", "0.9");
    confidence(&k, "2026-W47", "0.8");
    assert_eq!(escalation_reason(&k, "K-1"), None, "a drop of 0.1 is no signal");
    let r = confidence(&k, "2026-W48", "0.6");
    r.stdout_has(&["owner review", "confidence falling"]);
    assert_eq!(tier(&k, "K-1").as_deref(), Some("owner review"));
    assert!(escalation_reason(&k, "K-1").unwrap().contains("0.8 → 0.6 (down 0.2)"));

    let d = k.show("K-1");
    let c = &d["signals"]["confidence"];
    let history: Vec<&str> = c["history"].as_array().unwrap().iter().map(|h| h["confidence"].as_str().unwrap()).collect();
    assert_eq!(history, ["0.9", "0.8", "0.6"]);
    assert_eq!(c["direction"], "falling");
    assert_eq!(c["change"], "-0.2");
    let text = k.run(&["show", "K-1"]);
    text.ok().stdout_has(&["[confidence]  0.9 → 0.8 → 0.6 ↓ (-0.2)", "! confidence falling"]);

    // The steering report shows the trend too.
    let report = k.run(&["report"]);
    report.ok().stdout_has(&["## Confidence", "| K-1 Enterprise renewal rate | 0.9 → 0.8 → 0.6 ↓ (-0.2) | confidence falling"]);
    // And the workbook, on a sheet of its own: the same trend and warning, the numbers as numbers.
    let out = k.path("steering.xlsx");
    k.run(&["report", "--format", "xlsx", "--out", out.to_str().unwrap()]).ok();
    let mut wb: Xlsx<_> = open_workbook(&out).expect("the workbook opens");
    let sheet = wb.worksheet_range("Confidence").expect("a Confidence sheet");
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, ["Key", "Item", "Latest", "Change", "Confidence at the check-ins", "Warning"]);
    let k1 = rows.iter().find(|r| r[0] == "K-1").expect("K-1 on the Confidence sheet");
    assert_eq!(k1[1], Data::String("Enterprise renewal rate".into()));
    assert_eq!((k1[2].get_float(), k1[3].get_float()), (Some(0.6), Some(-0.2)));
    assert_eq!(k1[4], Data::String("0.9 → 0.8 → 0.6 ↓ (-0.2)".into()));
    assert!(k1[5].to_string().contains("confidence falling"), "{:?}", k1[5]);

    // Confidence back up: the signal is gone and the escalation closes by itself.
    confidence(&k, "2026-W48", "0.85");
    assert_eq!(escalation_reason(&k, "K-1"), None);
    assert_eq!(k.show("K-1")["signals"]["confidence"]["direction"], "rising");
}

fn two_check_ins_in_a_row_below_one_half_open_an_owner_review(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "two_check_ins_in_a_row_below_one_half_op") else { return };
    confidence(&k, "2026-W47", "0.45");
    assert_eq!(escalation_reason(&k, "K-1"), None, "one low check-in is not yet a run");
    confidence(&k, "2026-W48", "0.4");
    let why = escalation_reason(&k, "K-1").expect("two low check-ins escalate");
    assert!(why.contains("below 0.5 at 2 check-ins in a row"), "{why}");
}

fn the_thresholds_are_settings_and_bad_ones_are_refused(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "the_thresholds_are_settings_and_bad_ones") else { return };
    k.run(&["settings", "confidence_drop", "0.3"]).ok();
    confidence(&k, "2026-W47", "0.9");
    confidence(&k, "2026-W48", "0.65");
    assert_eq!(escalation_reason(&k, "K-1"), None, "a drop of 0.25 is under a threshold of 0.3");
    // Lowering the threshold reassesses every item at once.
    k.run(&["settings", "confidence_drop", "20%"]).ok();
    assert!(escalation_reason(&k, "K-1").unwrap().contains("confidence falling"));
    for (name, bad) in [("confidence_drop", "0"), ("confidence_drop", "1.5"), ("confidence_low", "lots"), ("confidence_low_checkins", "0")]
    {
        k.run(&["settings", name, bad]).code(65).stderr_has(&[name]);
    }
    k.run(&["settings"]).ok().stdout_has(&["confidence_drop", "confidence_low", "confidence_low_checkins"]);
}

fn a_confidence_outside_zero_to_one_changes_nothing(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_confidence_outside_zero_to_one_changes") else { return };
    k.run_as("jonas", &["set", "K-1", "confidence=1.2", "--period", "2026-W48"]).code(65);
    assert!(k.show("K-1")["signals"]["confidence"].is_null());
}

crate::on_both_engines!(
    a_drop_of_a_fifth_opens_an_owner_review_and_shows_as_a_falling_trend
    two_check_ins_in_a_row_below_one_half_open_an_owner_review
    the_thresholds_are_settings_and_bad_ones_are_refused
    a_confidence_outside_zero_to_one_changes_nothing
);
