//! Crashes: keel is killed with SIGKILL at random moments while it imports a large plan into a
//! fresh file, while it creates a file (`keel demo`), and in bursts of multi-change edits — 50
//! kills in all. After every kill the file opens, passes `PRAGMA integrity_check` and audit
//! verification, and each import or edit is wholly there or wholly absent.
//!
//! The moments are random (seeded; the seed is printed, and `KEEL_CRASH_SEED=N` replays a run).
//! Nothing here asserts on time: whichever moment the kill lands, the same checks must hold.

mod common;

use common::*;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const IMPORT_KILLS: usize = 20;
const CREATE_KILLS: usize = 10;
const EDIT_KILLS: usize = 20;

struct Rng(u64);

impl Rng {
    fn new() -> (Rng, u64) {
        let seed = std::env::var("KEEL_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
        (Rng(seed), seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A moment between zero and 1.3 × `span` (a share of kills land after the process ended).
    fn moment(&mut self, span: Duration) -> Duration {
        span.mul_f64((self.next() % 1300) as f64 / 1000.0)
    }
}

/// Start keel in the background (output discarded), like `Keel::cmd` but as a child to kill.
fn spawn(k: &Keel, args: &[&str]) -> Child {
    let c = k.cmd(None);
    let mut cmd = std::process::Command::new(c.get_program());
    cmd.args(c.get_args());
    for (name, value) in c.get_envs() {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    if let Some(dir) = c.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start keel")
}

fn kill_at(mut child: Child, at: Duration) -> bool {
    std::thread::sleep(at);
    let finished = matches!(child.try_wait(), Ok(Some(_)));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    !finished
}

fn count(c: &rusqlite::Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The file opens in keel, its audit chain verifies and SQLite finds it intact.
#[track_caller]
fn assert_sound(k: &Keel, what: &str) -> rusqlite::Connection {
    let r = k.run(&["audit", "verify"]);
    assert_eq!(r.code, 0, "{what}: after the kill keel cannot open or verify the file:\n{}", r.stderr);
    let c = k.sql();
    let integrity: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "{what}");
    assert_eq!(count(&c, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0, "{what}: dangling references");
    c
}

/// A plan big enough that importing it takes a while: `measures` measures with a year of
/// weekly values each.
fn big_plan(measures: usize) -> String {
    let mut ms = Vec::new();
    let mut values = Vec::new();
    for m in 1..=measures {
        let key = format!("M-{m}");
        ms.push(serde_json::json!({"key": key, "title": format!("Measure {m}"), "package": "MP-1", "owner": "P-2",
            "stage": "defined", "cadence": "weekly", "value_type": "recurring-benefit",
            "narrative": format!("Narrative of measure {m}")}));
        for w in 1..=26 {
            values.push(serde_json::json!({"item": key, "period": format!("2026-W{w:02}"), "planned": "100.5",
                "actual": format!("{}.25", 90 + (m * w) % 20), "by": "olga", "at": "2026-01-04T09:00:00Z"}));
        }
    }
    serde_json::to_string(&serde_json::json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "people": [
            {"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true},
            {"key": "P-2", "name": "Olga Owner", "login": "olga"}
        ],
        "nodes": [
            {"key": "PF-1", "kind": "portfolio", "title": "Portfolio"},
            {"key": "PG-1", "kind": "programme", "title": "Programme", "parent": "PF-1"},
            {"key": "PJ-1", "kind": "project", "title": "Project", "parent": "PG-1"},
            {"key": "MP-1", "kind": "package", "title": "Package", "parent": "PJ-1"}
        ],
        "measures": ms,
        "values": values,
    }))
    .unwrap()
}

#[test]
fn killed_imports_leave_the_plan_wholly_there_or_wholly_absent() {
    let (mut rng, seed) = Rng::new();
    let plan_dir = tempfile::tempdir().unwrap();
    let plan = plan_dir.path().join("big.json");
    std::fs::write(&plan, big_plan(400)).unwrap();
    let plan = plan.to_str().unwrap();

    // One import to the end, for the counts of a whole import and how long one takes.
    let whole = Keel::init();
    let started = Instant::now();
    whole.run(&["import", plan]).ok();
    let span = started.elapsed();
    let full = {
        let c = assert_sound(&whole, "an import run to the end");
        (count(&c, "SELECT COUNT(*) FROM items"), count(&c, "SELECT COUNT(*) FROM item_values"), count(&c, "SELECT COUNT(*) FROM audit"))
    };
    assert!(full.0 > 400 && full.1 == 400 * 26, "a whole import: {full:?}");

    let (mut absent, mut present, mut mid) = (0, 0, 0);
    for run in 0..IMPORT_KILLS {
        let k = Keel::init();
        let at = rng.moment(span);
        mid += kill_at(spawn(&k, &["import", plan]), at) as usize;
        let what = format!("import run {run} killed after {at:?} (KEEL_CRASH_SEED={seed})");
        let c = assert_sound(&k, &what);
        let got = (
            count(&c, "SELECT COUNT(*) FROM items"),
            count(&c, "SELECT COUNT(*) FROM item_values"),
            count(&c, "SELECT COUNT(*) FROM audit"),
        );
        if got == (0, 0, 0) {
            absent += 1;
        } else {
            assert_eq!(got, full, "{what}: a torn import (items, values, audit rows)");
            present += 1;
            // A whole import is usable: the next import of the same plan is refused cleanly.
            k.run(&["import", plan]).code(65).stderr_has(&["already exists"]);
        }
    }
    eprintln!("{IMPORT_KILLS} imports killed ({mid} while running): {absent} wholly absent, {present} wholly there, 0 torn");
}

#[test]
fn a_file_killed_while_being_created_is_absent_or_whole() {
    let (mut rng, seed) = Rng::new();
    let probe = Keel::blank(Some(TODAY));
    let started = Instant::now();
    probe.run(&["demo", "--no-open"]).ok();
    let span = started.elapsed();
    let full = count(&assert_sound(&probe, "a demo created to the end"), "SELECT COUNT(*) FROM items");

    let (mut none, mut empty, mut whole, mut half_made) = (0, 0, 0, 0);
    for run in 0..CREATE_KILLS {
        let k = Keel::blank(Some(TODAY));
        // Every other kill lands in the first fifth, where the empty file is being built.
        let at = rng.moment(if run % 2 == 0 { span / 5 } else { span });
        kill_at(spawn(&k, &["demo", "--no-open"]), at);
        let what = format!("demo creation {run} killed after {at:?} (KEEL_CRASH_SEED={seed})");
        let leftovers = std::fs::read_dir(k.dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".creating-"))
            .count();
        half_made += (leftovers > 0) as usize;
        if !k.db.exists() {
            none += 1;
            // Nothing half-made is in the way: creating it again works.
            k.run(&["demo", "--no-open"]).ok();
            continue;
        }
        let items = count(&assert_sound(&k, &what), "SELECT COUNT(*) FROM items");
        assert!(items == 0 || items == full, "{what}: {items} of {full} items");
        if items == 0 {
            empty += 1;
            // The next `keel demo` finishes the job instead of opening an empty demo.
            k.run(&["demo", "--no-open"]).ok().stdout_has(&["created demo database"]);
            assert_eq!(count(&k.sql(), "SELECT COUNT(*) FROM items"), full, "{what}: the demo made again");
        } else {
            whole += 1;
        }
    }
    eprintln!(
        "{CREATE_KILLS} creations killed: {none} left no file ({half_made} a hidden half-made one), {empty} an empty keel file, {whole} the whole demo"
    );
}

/// The fields one multi-change edit sets, all to the same generation.
fn generation(k: &Keel) -> Vec<String> {
    let d = k.show("M-1");
    let row = value_row(&d, WEEK);
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string).unwrap_or_default();
    vec![
        text(field(&d, "narrative")).trim_start_matches("narrative ").to_string(),
        text(field(&d, "risk")).trim_start_matches("risk ").to_string(),
        text(field(&d, "next_steps")).trim_start_matches("next ").to_string(),
        text(&row["actual"]),
        text(&row["forecast"]),
        text(&row["comment"]).trim_start_matches("comment ").to_string(),
    ]
}

#[test]
fn killed_edit_bursts_leave_every_edit_whole() {
    let (mut rng, seed) = Rng::new();
    let k = Keel::demo();
    let edit = |g: u64| {
        vec![
            "set".to_string(),
            "M-1".into(),
            format!("narrative=narrative {g}"),
            format!("risk=risk {g}"),
            format!("next_steps=next {g}"),
            format!("actual={g}"),
            format!("forecast={g}"),
            format!("comment=comment {g}"),
            "--period".into(),
            WEEK.into(),
        ]
    };
    // Generation 1 written to the end, and how long one edit takes.
    let started = Instant::now();
    let first = edit(1);
    k.run(&first.iter().map(String::as_str).collect::<Vec<_>>()).ok();
    let span = started.elapsed();
    assert_eq!(generation(&k), vec!["1"; 6]);

    let mut committed = 1;
    let (mut old, mut new) = (0, 0);
    for run in 0..EDIT_KILLS {
        // A burst: a few edits run to the end, then one is killed at a random moment.
        let burst = 1 + rng.next() % 3;
        for _ in 0..burst {
            committed += 1;
            let e = edit(committed);
            k.run(&e.iter().map(String::as_str).collect::<Vec<_>>()).ok();
        }
        let g = committed + 1;
        let e = edit(g);
        let at = rng.moment(span);
        kill_at(spawn(&k, &e.iter().map(String::as_str).collect::<Vec<_>>()), at);
        let what = format!("edit run {run} (generation {g}) killed after {at:?} (KEEL_CRASH_SEED={seed})");
        assert_sound(&k, &what);
        let now = generation(&k);
        let before = committed.to_string();
        let after = g.to_string();
        if now.iter().all(|v| *v == before) {
            old += 1;
        } else if now.iter().all(|v| *v == after) {
            new += 1;
            committed = g;
        } else {
            panic!("{what}: a torn edit — fields from different generations: {now:?}");
        }
    }
    eprintln!("{EDIT_KILLS} edits killed: {old} wholly absent, {new} wholly there, 0 torn");
}
