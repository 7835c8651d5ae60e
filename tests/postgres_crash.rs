//! Crashes on a PostgreSQL server: a client SIGKILLed inside its write transaction (held there
//! behind a lock the test takes, so the kill lands mid-transaction every time, then at random
//! depths of a large import) leaves nothing half-written and blocks no writer after it; and a
//! server restarted with `pg_ctl restart -m immediate` in the middle of a burst of edits (on a
//! cluster of the test's own) tears no edit: every edit that reported success is there whole,
//! the others failed with a clear message and exit 75 (the connection was lost, or the server was
//! starting up) or 69 (nothing listened: the server could not be reached at all), and the audit
//! chain verifies. The open app says the server is
//! gone, reconnects by itself when it is back and hears edits again.
//!
//! Without `KEEL_TEST_PG_URL` / `KEEL_TEST_PG_BIN` the tests say they were skipped.

mod common;
mod support;

use common::cluster::Cluster;
use common::pg::Engine;
use common::*;
use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Start keel in the background (output discarded), as `Keel::cmd` would run it.
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
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start keel")
}

/// A plan big enough that importing it takes a while: `measures` measures with half a year of
/// weekly values each.
fn big_plan(measures: usize) -> String {
    let mut ms = Vec::new();
    let mut values = Vec::new();
    for m in 1..=measures {
        let key = format!("M-{m}");
        ms.push(serde_json::json!({"key": key, "title": format!("Measure {m}"), "package": "MP-1", "owner": "P-1",
            "stage": "defined", "cadence": "weekly", "value_type": "recurring-benefit",
            "narrative": format!("Narrative of measure {m}")}));
        for w in 1..=26 {
            values.push(serde_json::json!({"item": key, "period": format!("2026-W{w:02}"), "planned": "100.5",
                "actual": format!("{}.25", 90 + (m * w) % 20), "by": os_user(), "at": "2026-01-04T09:00:00Z"}));
        }
    }
    serde_json::to_string(&serde_json::json!({
        "format": "keel-plan",
        "version": 1,
        "cycles": [{"key": "C-1", "name": "FY26", "start": "2026-01-01", "end": "2026-12-31"}],
        "people": [{"key": "P-1", "name": "Test Admin", "login": os_user(), "pmo_admin": true}],
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

fn counts(c: &mut postgres::Client) -> (i64, i64, i64) {
    let row =
        c.query_one("SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM item_values), (SELECT COUNT(*) FROM audit)", &[]).unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// The server process of another connection to this database that `condition` (on
/// pg_stat_activity) picks, once there is one; fails after `limit`.
fn backend_where(look: &mut postgres::Client, condition: &str, limit: Duration) -> i32 {
    let sql =
        format!("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND {condition} LIMIT 1");
    let start = Instant::now();
    loop {
        if let Some(row) = look.query_opt(&sql, &[]).unwrap() {
            return row.get(0);
        }
        assert!(start.elapsed() < limit, "no backend with {condition} within {limit:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Wait until the server process `pid` is gone: the server noticed its client died and rolled
/// its transaction back.
fn until_gone(look: &mut postgres::Client, pid: i32) {
    let start = Instant::now();
    while look.query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid]).unwrap().is_some() {
        assert!(start.elapsed() < Duration::from_secs(60), "the killed client's server process {pid} never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sigkill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "keel was killed, not finished: {status:?}");
}

#[test]
fn a_client_killed_inside_its_write_leaves_nothing_and_blocks_no_one() {
    let Some(k) = Keel::init_on(Engine::Postgres, "killed_write") else { return };
    let whole = Keel::init_on(Engine::Postgres, "killed_write_whole").unwrap();
    let plan = k.path("big.json");
    std::fs::write(&plan, big_plan(150)).unwrap();
    let plan = plan.to_str().unwrap();
    let db = k.server.as_ref().unwrap();
    let mut look = db.client();
    let before = counts(&mut look);

    // One import to the end elsewhere: what a whole one leaves, and how long it takes.
    let started = Instant::now();
    whole.run(&["import", plan]).ok();
    let span = started.elapsed();
    let full = counts(&mut whole.server.as_ref().unwrap().client());
    assert!(full.0 > 150 && full.1 == 150 * 26, "a whole import: {full:?}");

    // 1. Held mid-transaction: the import has written its items (it holds a transaction id)
    //    and waits for a lock the test holds on the values, when it is killed.
    let mut locker = db.client();
    locker.batch_execute("BEGIN; LOCK TABLE item_values IN SHARE MODE").unwrap();
    let child = spawn(&k, &["import", plan]);
    let pid = backend_where(&mut look, "wait_event_type = 'Lock' AND backend_xid IS NOT NULL", Duration::from_secs(120));
    sigkill(child);
    locker.batch_execute("ROLLBACK").unwrap();
    until_gone(&mut look, pid);
    assert_eq!(counts(&mut look), before, "the killed import left rows behind");
    k.run(&["audit", "verify"]).ok().stdout_has(&["intact"]);

    // 2. At random depths of the import's own time, from the moment it first wrote.
    let mut rng = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    for run in 0..3 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let depth = span.mul_f64((rng % 500) as f64 / 1000.0);
        let mut child = spawn(&k, &["import", plan]);
        let pid = backend_where(&mut look, "backend_xid IS NOT NULL", Duration::from_secs(120));
        std::thread::sleep(depth);
        if child.try_wait().unwrap().is_some() {
            eprintln!("kill {run}: the import finished within {depth:?} of its first write; not counted");
            assert_eq!(counts(&mut look), full, "an import that finished is whole");
            return;
        }
        sigkill(child);
        until_gone(&mut look, pid);
        assert_eq!(counts(&mut look), before, "kill {run}, {depth:?} after the first write: rows left behind");
        k.run(&["audit", "verify"]).ok().stdout_has(&["intact"]);
    }

    // 3. The next writer is not kept waiting by any of them: the same import runs to the end.
    let mut next = spawn(&k, &["import", plan]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = next.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > span * 10 + Duration::from_secs(60) {
            next.kill().unwrap();
            panic!("the next writer was blocked: still running after {:?}", start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the next import failed: {status:?}");
    assert_eq!(counts(&mut look), full, "the next import is whole");
    k.run(&["audit", "verify"]).ok().stdout_has(&["intact"]);
}

/// The measures the restart's writers edit, one each (so each one's last edit is known).
const WRITERS: [&str; 4] = ["M-2", "M-3", "M-4", "M-6"];

#[derive(Debug)]
struct Attempt {
    tag: String,
    run: Run,
    after_restart: bool,
}

#[test]
fn a_server_restarted_during_a_burst_of_edits_tears_none() {
    let Some(cluster) = Cluster::start() else { return };
    let k = Keel { dir: tempfile::tempdir().unwrap(), db: cluster.url().into(), today: Some(TODAY.into()), server: None };
    k.run(&["demo", "--no-open"]).ok();
    let landed = AtomicUsize::new(0);
    let restarted = AtomicBool::new(false);

    let attempts: Vec<Attempt> = std::thread::scope(|s| {
        let workers: Vec<_> = WRITERS
            .iter()
            .enumerate()
            .map(|(w, key)| {
                let (k, landed, restarted) = (&k, &landed, &restarted);
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut after = 0;
                    for i in 0..400 {
                        let tag = format!("r{w}-{i}");
                        let after_restart = restarted.load(Ordering::SeqCst);
                        let run =
                            k.run(&["set", key, &format!("narrative=narrative {tag}"), &format!("risk=risk {tag}"), "--reason", &tag]);
                        if run.code == 0 {
                            landed.fetch_add(1, Ordering::SeqCst);
                        }
                        out.push(Attempt { tag, run, after_restart });
                        after += after_restart as usize;
                        if after >= 10 {
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        // Once the burst is under way, hold the next writer inside its transaction (behind a
        // lock on the audit, after it changed the measure), then restart the server under it.
        let start = Instant::now();
        while landed.load(Ordering::SeqCst) < 8 {
            assert!(start.elapsed() < Duration::from_secs(120), "the burst never got going");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut locker = cluster.client();
        locker.batch_execute("BEGIN; LOCK TABLE audit IN SHARE MODE").unwrap();
        let mut look = cluster.client();
        backend_where(&mut look, "wait_event_type = 'Lock' AND backend_xid IS NOT NULL", Duration::from_secs(60));
        cluster.pg_ctl(&["restart", "-m", "immediate"]);
        restarted.store(true, Ordering::SeqCst);
        workers.into_iter().flat_map(|h| h.join().expect("a writer panicked")).collect()
    });

    // Every attempt ended in success or in a clear failure that says what to do.
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut c = cluster.client();
    let mut problems = Vec::new();
    for a in &attempts {
        let rows: i64 = c.query_one("SELECT COUNT(*) FROM audit WHERE reason = $1", &[&a.tag]).unwrap().get(0);
        let err = &a.run.stderr;
        let (kind, allowed): (&str, &[i64]) = match a.run.code {
            0 => ("saved", &[2]),
            75 if err.contains("connection to the PostgreSQL server was lost") && err.contains("Nothing was saved") => ("lost", &[0]),
            75 if err.contains("may or may not have been saved") && err.contains("before trying again") => ("lost in commit", &[0, 2]),
            75 if err.contains("the server is starting up, recovering or shutting down") && err.contains("Nothing was changed") => {
                ("not ready", &[0])
            }
            69 if err.contains("cannot connect to the PostgreSQL server") && err.contains("check the URL and that the server runs") => {
                ("could not connect", &[0])
            }
            _ => {
                problems.push(format!("{}: exit {}: {err}", a.tag, a.run.code));
                continue;
            }
        };
        *tally.entry(kind).or_default() += 1;
        if !allowed.contains(&rows) {
            problems.push(format!("{} ({kind}, exit {}) has {rows} audit rows of the edit's 2: {err}", a.tag, a.run.code));
        }
        if a.after_restart && kind != "saved" {
            problems.push(format!("{} failed after the server was back: {err}", a.tag));
        }
    }
    eprintln!("{} edits around an immediate restart: {tally:?}", attempts.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(tally.get("lost").copied().unwrap_or(0) >= 1, "the writer held mid-transaction lost its connection: {tally:?}");
    assert!(attempts.iter().any(|a| a.after_restart && a.run.code == 0), "edits landed after the restart");

    // The database agrees with its audit: each measure holds its last logged edit, whole, and
    // the chain verifies.
    k.run(&["audit", "verify"]).ok().stdout_has(&["intact"]);
    for key in WRITERS {
        let d = k.show(key);
        let mut last = |name: &str| -> Option<String> {
            c.query_opt("SELECT new_value FROM audit WHERE item_key = $1 AND field = $2 ORDER BY seq DESC LIMIT 1", &[&key, &name])
                .unwrap()
                .map(|r| r.get(0))
        };
        assert_eq!(field(&d, "narrative").as_str(), last("narrative").as_deref(), "{key} narrative");
        assert_eq!(field(&d, "risk").as_str(), last("risk").as_deref(), "{key} risk");
        let n = field(&d, "narrative").as_str().unwrap().trim_start_matches("narrative ").to_string();
        assert_eq!(field(&d, "risk").as_str().unwrap().trim_start_matches("risk "), n, "{key}: a torn edit");
    }
    assert!(attempts.iter().filter(|a| a.run.code == 0).count() >= 8);
}

/// Let the app act on what it heard, as its event loop does, until the screen shows `text`.
fn until_shown(app: &mut keel::tui::app::App, text: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        app.take_live_events().unwrap();
        let screen = support::render(app, 200, 40);
        if screen.contains(text) {
            return;
        }
        assert!(start.elapsed() < limit, "the app never showed {text:?}; it shows:\n{screen}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_app_says_the_server_is_gone_and_reconnects_by_itself() {
    let Some(cluster) = Cluster::start() else { return };
    let k = Keel { dir: tempfile::tempdir().unwrap(), db: cluster.url().into(), today: Some(TODAY.into()), server: None };
    k.run(&["demo", "--no-open"]).ok();
    let mut store = keel::store::Store::open(&k.db).unwrap();
    store.set_clock(chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap());
    let mut app =
        keel::tui::app::App::new(store, keel::tui::keymap::Keymap::default_only(), keel::tui::theme::Theme { color: false }).unwrap();
    assert!(app.live.is_some(), "the app listens for commits on a server");

    // Down: the message line says so, and keeps saying so while the server stays down (the
    // listener tries again, further apart each time).
    cluster.pg_ctl(&["stop", "-m", "immediate"]);
    until_shown(&mut app, "connection to the server lost", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    until_shown(&mut app, "reconnecting by itself", Duration::from_secs(1));
    // The variance list is what was last read, and says so rather than count "0 open".
    until_shown(&mut app, "the server cannot be reached", Duration::from_secs(1));

    // Back: the app reconnects with no key pressed, and hears edits again.
    cluster.pg_ctl(&["start"]);
    until_shown(&mut app, "reconnected to the server", Duration::from_secs(30));
    let screen = support::render(&mut app, 200, 40);
    assert!(screen.contains(" open") && !screen.contains("the server cannot be reached"), "counted again once back:\n{screen}");
    k.run(&["set", "O-1", "title=Renamed after the restart"]).ok();
    until_shown(&mut app, "Renamed after the restart", Duration::from_secs(10));

    // And once more through an immediate restart, which the app does not see coming.
    cluster.pg_ctl(&["restart", "-m", "immediate"]);
    k.run(&["set", "O-1", "title=Renamed after the second restart"]).ok();
    until_shown(&mut app, "Renamed after the second restart", Duration::from_secs(30));
}

/// The connection breaks while COMMIT is on its way — a deferred trigger ends the session as the
/// commit runs, so it lands there every time. keel cannot know whether the server committed, and
/// says exactly that (exit 75, "may or may not have been saved"), never "saved" nor "nothing was
/// saved"; the server did not commit, the chain is whole, and trying again works.
#[test]
fn a_connection_lost_during_commit_says_the_edit_may_or_may_not_be_saved() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "lost_in_commit") else { return };
    let mut admin = k.server.as_ref().unwrap().client();
    admin
        .batch_execute(
            "CREATE FUNCTION end_session_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER end_session_at_commit AFTER INSERT ON audit
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION end_session_at_commit();",
        )
        .unwrap();
    let before = counts(&mut admin);
    let out = k.run(&["set", "O-1", "title=Cut off at commit"]);
    assert_eq!(out.code, 75, "a connection lost in COMMIT is a temporary failure: {out:?}");
    assert!(out.stderr.contains("may or may not have been saved"), "keel says it cannot know: {}", out.stderr);
    assert!(!out.stderr.contains("Nothing was saved") && !out.stdout.contains("saved"), "{out:?}");
    admin.batch_execute("DROP TRIGGER end_session_at_commit ON audit; DROP FUNCTION end_session_at_commit()").unwrap();
    assert_eq!(counts(&mut admin), before, "the session ended before the server committed anything");
    assert_eq!(k.run(&["audit", "verify"]).code, 0);
    let again = k.run(&["set", "O-1", "title=Cut off at commit"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(k.run(&["show", "O-1"]).stdout.contains("Cut off at commit"));
}
