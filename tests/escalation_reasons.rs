//! Escalation reasons and the JSON `relative` never read as the other side of a threshold
//! (issue 12, hole 12): 19.99% is an owner review and says so; 20% is the steering committee.

mod common;

use common::*;
use serde_json::Value;

fn row(rows: &[Value], key: &str) -> Value {
    rows.iter().find(|e| e["key"] == key).unwrap_or_else(|| panic!("no escalation for {key}")).clone()
}

fn a_gap_just_inside_a_threshold_is_printed_inside_it_everywhere(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_gap_just_inside_a_") else { return };
    k.run(&["set", "M-1", "planned=100", "actual=80.01", "--period", WEEK]).ok().stdout_has(&["owner review — 19.99% below plan"]);
    let e = row(&k.escalations(), "M-1");
    assert_eq!(
        (e["tier"].as_i64(), e["reason"].as_str(), e["relative"].as_str()),
        (Some(1), Some("19.99% below plan in 2026-W48"), Some("-0.1999"))
    );
    let check = k.run(&["check", "--format", "json"]).json();
    let e = row(check["escalations"].as_array().unwrap(), "M-1");
    assert_eq!(e["relative"], "-0.1999");
    k.run(&["escalations"]).ok().stdout_has(&["-19.99%"]);

    k.run(&["set", "M-1", "actual=94.99", "--period", WEEK]).ok();
    let e = row(&k.escalations(), "M-1");
    assert_eq!((e["reason"].as_str(), e["relative"].as_str()), (Some("5.01% below plan in 2026-W48"), Some("-0.0501")));

    k.run(&["set", "M-1", "actual=80", "--period", WEEK]).ok().stdout_has(&["steering committee — 20% below plan"]);
    let e = row(&k.escalations(), "M-1");
    assert_eq!((e["tier"].as_i64(), e["relative"].as_str()), (Some(3), Some("-0.2000")));
}

crate::on_both_engines!(a_gap_just_inside_a_threshold_is_printed_inside_it_everywhere);
