//! `keel generate` and `keel bench` as a script sees them: piped output is quiet (no progress
//! bars), `generate` makes a file keel checks cleanly, and `bench --json` prints one JSON object
//! with exactly the figures the issues name (the first fourteen as they always were, then how
//! many runs each is the median of, the spreads, and the values CSV import against the same
//! values as a JSON plan). The figures' values are not judged here — speed is proven by running
//! the benchmark, never by timed tests.

mod common;

use common::*;

const FIGURES: [&str; 27] = [
    "measures",
    "values",
    "load_s",
    "load_baseline_s",
    "load_ratio",
    "open_first_frame_ms",
    "frame_p50_ms",
    "frame_p99_ms",
    "edit_p50_ms",
    "edit_p99_ms",
    "search_ms",
    "check_s",
    "check_baseline_s",
    "check_ratio",
    "peak_rss_mb",
    "repeat",
    "load_ratio_spread",
    "open_first_frame_ms_spread",
    "check_ratio_spread",
    "csv_import_s",
    "csv_import_json_s",
    "csv_import_ratio",
    "csv_import_ratio_spread",
    "check_cli_s",
    "check_peak_rss_mb",
    "app_rss_mb",
    "filter_stale_ms",
];

/// The spreads, as largest over smallest: never below 1.
const SPREADS: [&str; 4] = ["load_ratio_spread", "open_first_frame_ms_spread", "check_ratio_spread", "csv_import_ratio_spread"];

#[test]
fn bench_json_prints_exactly_the_figures_and_nothing_on_a_pipe() {
    let k = Keel::blank(None);
    let r = run(keel(k.dir.path()), &["bench", "--measures", "200", "--json"]);
    r.ok();
    assert_eq!(r.stderr, "", "stderr is a pipe here: no progress bar, no spinner");
    let json = r.json();
    let object = json.as_object().expect("one JSON object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, FIGURES, "exactly these keys, in this order");
    assert_eq!(object["measures"], 200);
    assert!(object["values"].as_i64().unwrap() >= 2_000, "10 periods of values per measure");
    for name in &FIGURES[2..] {
        let v = object[*name].as_f64().unwrap_or_else(|| panic!("{name} is not a number"));
        assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
    }
    // The ratios are the figures over their baselines (within the rounding of tiny figures).
    for (ratio, over, base) in [
        ("load_ratio", "load_s", "load_baseline_s"),
        ("check_ratio", "check_s", "check_baseline_s"),
        ("csv_import_ratio", "csv_import_s", "csv_import_json_s"),
    ] {
        let (r, a, b) = (object[ratio].as_f64().unwrap(), object[over].as_f64().unwrap(), object[base].as_f64().unwrap());
        assert!(b > 0.0 && (a / b - r).abs() <= 0.15 * r + 0.05, "{ratio} = {r}, but {over} / {base} = {a} / {b}");
    }
    assert_eq!(object["repeat"], 3, "three pairs by default");
    for name in SPREADS {
        assert!(object[name].as_f64().unwrap() >= 1.0, "{name} = {}", object[name]);
    }
}

#[test]
fn bench_repeat_sets_how_many_pairs_and_openings_are_timed() {
    let k = Keel::blank(None);
    let r = run(keel(k.dir.path()), &["bench", "--measures", "100", "--repeat", "1", "--json"]);
    r.ok();
    let json = r.json();
    assert_eq!(json["repeat"], 1);
    // One load pair: nothing to spread. The check and the first frame still take three samples
    // each, the short figures being sampled three times as often as the loads.
    assert_eq!(json["load_ratio_spread"].as_f64(), Some(1.0), "load_ratio_spread of a single pair");
    for name in ["check_ratio_spread", "open_first_frame_ms_spread"] {
        assert!(json[name].as_f64().unwrap() >= 1.0, "{name} = {}", json[name]);
    }
    let r = run(keel(k.dir.path()), &["bench", "--measures", "100", "--repeat", "0"]);
    r.code(64).stderr_has(&["--repeat"]);
    // The table says what its figures are the medians of.
    let r = run(keel(k.dir.path()), &["bench", "--measures", "100", "--repeat", "2"]);
    r.ok().stdout_has(&["medians of 2 loads and 6 checks and openings", "load_ratio_spread", "check_ratio_spread", "csv_import_ratio"]);
}

#[test]
fn generate_makes_a_deterministic_organisation_keel_can_check() {
    let k = Keel::blank(None);
    let r = k.run(&["generate", "--measures", "300", "--seed", "4"]);
    r.ok().stdout_has(&["300 measures"]);
    assert_eq!(r.stderr, "", "stderr is a pipe here: no progress bar");
    // Every escalation tier occurs, and the file passes its own checks (exit 2: a steering
    // committee escalation is open, as the generator means it to be).
    let tiers: Vec<i64> = k.escalations().iter().map(|e| e["tier"].as_i64().unwrap()).collect();
    for tier in 1..=3 {
        assert!(tiers.contains(&tier), "no tier-{tier} escalation among {} open", tiers.len());
    }
    k.run(&["check"]).code(2);
    // The same seed and week make the same organisation.
    let again = Keel::blank(None);
    again.run(&["generate", "--measures", "300", "--seed", "4"]).ok();
    assert!(again.export() == k.export(), "the same seed gave a different organisation");
}

#[test]
fn the_fresh_processes_report_their_memory_and_the_curve_prints_a_row_per_size() {
    let k = Keel::blank(None);
    let r = run(keel(k.dir.path()), &["bench", "--measures", "100", "--repeat", "1", "--json"]);
    r.ok();
    let json = r.json();
    // A fresh `keel check` and a fresh app each hold some memory of their own (a process of
    // keel is several megabytes before it reads a page), and the check took some time.
    for name in ["check_peak_rss_mb", "app_rss_mb"] {
        let mb = json[name].as_f64().unwrap();
        assert!(mb > 1.0 && mb < 4_000.0, "{name} = {mb}");
    }
    assert!(json["check_cli_s"].as_f64().unwrap() > 0.0);
    // A curve over two (small) sizes: an array of one object per size, in order …
    let r = run(keel(k.dir.path()), &["bench", "--curve", "--sizes", "60,120", "--repeat", "1", "--json"]);
    r.ok();
    let rows = r.json();
    let rows = rows.as_array().expect("an array, one object per size");
    let sizes: Vec<i64> = rows.iter().map(|r| r["measures"].as_i64().unwrap()).collect();
    assert_eq!(sizes, [60, 120]);
    // … or a header and a row per size, the size first.
    let r = run(keel(k.dir.path()), &["bench", "--curve", "--sizes", "60", "--repeat", "1"]);
    let lines: Vec<&str> = r.ok().stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("check MB") && lines[0].contains("app MB"), "{}", lines[0]);
    assert_eq!(lines[1].split_whitespace().next(), Some("60"));
    // --sizes means nothing without --curve.
    run(keel(k.dir.path()), &["bench", "--sizes", "60"]).code(64);
}
