//! Hooks (issue 20): executables in ~/.config/keel/hooks run after the commit of the events they
//! name, with the event as JSON on stdin; a failing, hanging or untrusted hook never undoes the
//! edit, and is logged and shown on stderr.

mod common;

use common::*;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const EVENTS: [&str; 6] = ["escalation-opened", "escalation-raised", "gate-decided", "value-saved", "checkin-closed", "source-failed"];

fn hooks_dir(home: &Path) -> PathBuf {
    let d = home.join(".config/keel/hooks");
    std::fs::create_dir_all(&d).unwrap();
    for p in [home.join(".config"), home.join(".config/keel"), d.clone()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    d
}

fn script(path: &Path, body: &str, mode: u32) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A hook for every event that appends its stdin to `out/EVENT.jsonl`.
fn recording_hooks(home: &Path) -> PathBuf {
    let out = home.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let dir = hooks_dir(home);
    for e in EVENTS {
        script(&dir.join(e), &format!("cat >> '{}/{e}.jsonl'", out.display()), 0o700);
    }
    out
}

fn events(out: &Path, event: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join(format!("{event}.jsonl"))).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{event}: not JSON ({e}): {l}"))).collect()
}

fn each_event_runs_its_hook_after_the_commit_with_the_event_as_json(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "each_event_runs_its_hook_after_the_commi") else { return };
    let out = recording_hooks(k.dir.path());
    // value-saved, then escalation-opened: confidence dropping across check-ins on K-1.
    k.run_as("jonas", &["set", "K-1", "actual=84", "confidence=0.9", "--period", "2026-W47"]).ok();
    let saved = events(&out, "value-saved");
    assert!(
        saved.iter().any(|e| e["key"] == "K-1" && e["field"] == "actual" && e["value"] == "84" && e["period"] == "2026-W47"),
        "{saved:?}"
    );
    assert!(saved.iter().all(|e| e["event"] == "value-saved" && e["actor"] == "jonas" && e["at"].is_string()));
    assert!(events(&out, "escalation-opened").is_empty());
    k.run_as("jonas", &["set", "K-1", "confidence=0.5", "--period", "2026-W48"]).ok();
    let opened = events(&out, "escalation-opened");
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["key"], "K-1");
    assert_eq!(opened[0]["tier"], "owner review");
    assert!(opened[0]["reason"].as_str().unwrap().contains("confidence falling"));
    // escalation-raised: M-5 (owner review) falls to a major gap.
    k.run_as("ravi", &["set", "M-5", "actual=1000", "narrative=a big customer left; recovery plan next week", "--period", "2026-W48"]).ok();
    let raised = events(&out, "escalation-raised");
    assert!(raised.iter().any(|e| e["key"] == "M-5" && e["from"] == "owner review" && e["tier"] == "steering committee"), "{raised:?}");
    // gate-decided: a measure put on hold.
    k.run(&["gate", "M-17", "hold", "--reason", "supplier audit first"]).ok();
    let gates = events(&out, "gate-decided");
    assert!(gates.iter().any(|e| e["key"] == "M-17" && e["action"] == "hold"), "{gates:?}");
    // source-failed: a source that prints garbage.
    let prog = k.path("bad-source");
    script(&prog, "echo garbage", 0o700);
    k.run_as("jonas", &["source", "set", "K-1", "--command", prog.to_str().unwrap(), "--name", "crm"]).ok();
    k.run_as("jonas", &["sync", "K-1"]).code(1);
    let failed = events(&out, "source-failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0]["key"].as_str(), failed[0]["source"].as_str()), (Some("K-1"), Some("crm")));
    assert!(failed[0]["why"].as_str().unwrap().contains("period"), "{failed:?}");
}

fn a_failing_hook_never_undoes_the_edit_and_is_shown_and_logged(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_failing_hook_never_undoes_the_edit_and") else { return };
    let dir = hooks_dir(k.dir.path());
    script(&dir.join("value-saved"), "echo 'chat webhook unreachable' >&2; exit 3", 0o700);
    let r = k.run_as("jonas", &["set", "K-1", "actual=84", "--period", "2026-W47"]);
    r.ok().stdout_has(&["K-1: saved"]).stderr_has(&["hook", "value-saved", "failed", "chat webhook unreachable"]);
    assert_eq!(k.show("K-1")["values"].as_array().unwrap().iter().find(|v| v["period"] == "2026-W47").unwrap()["actual"], "84");
    let log = std::fs::read_to_string(k.dir.path().join("data/keel/hooks.log")).unwrap();
    assert!(log.contains("chat webhook unreachable"), "{log}");
}

fn a_hanging_hook_is_stopped_with_everything_it_started(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "a_hanging_hook_is_stopped_with_everythin") else { return };
    let dir = hooks_dir(k.dir.path());
    let pid_file = k.dir.path().join("child.pid");
    // The hook starts a grandchild and waits: both must go when the time is up.
    script(&dir.join("value-saved"), &format!("sleep 300 &\necho $! > '{}'\nwait", pid_file.display()), 0o700);
    let mut cmd = k.cmd(Some("jonas"));
    cmd.env("KEEL_HOOK_TIMEOUT", "1");
    let r = run(cmd, &["set", "K-1", "actual=84", "--period", "2026-W47"]);
    r.ok().stderr_has(&["timed out"]);
    assert_eq!(k.show("K-1")["values"].as_array().unwrap().iter().find(|v| v["period"] == "2026-W47").unwrap()["actual"], "84");
    let pid = std::fs::read_to_string(&pid_file).unwrap().trim().to_string();
    // Killed with its group: gone (or a zombie awaiting its reaper), never still sleeping.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let running = state.split(") ").nth(1).and_then(|s| s.chars().next()).is_some_and(|c| c != 'Z' && c != 'X');
    assert!(!running, "the hook's child {pid} still runs: {state}");
}

fn hooks_a_colleague_could_write_are_not_run(engine: Engine) {
    let Some(k) = Keel::demo_on_engine(engine, "hooks_a_colleague_could_write_are_not_ru") else { return };
    let dir = hooks_dir(k.dir.path());
    let proof = k.dir.path().join("ran");
    script(&dir.join("value-saved"), &format!("touch '{}'", proof.display()), 0o772);
    let r = k.run_as("jonas", &["set", "K-1", "actual=84", "--period", "2026-W47"]);
    r.ok().stderr_has(&["not run", "writable by group or others"]);
    assert!(!proof.exists(), "a group-writable hook ran");
    // A hook in a group-writable EVENT.d folder neither.
    std::fs::remove_file(dir.join("value-saved")).unwrap();
    let d = dir.join("value-saved.d");
    std::fs::create_dir(&d).unwrap();
    script(&d.join("10-notify"), &format!("touch '{}'", proof.display()), 0o700);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    k.run_as("jonas", &["set", "K-1", "actual=85", "--period", "2026-W47"]).ok().stderr_has(&["not run"]);
    assert!(!proof.exists());
    // Made private, it runs.
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    k.run_as("jonas", &["set", "K-1", "actual=86", "--period", "2026-W47"]).ok();
    assert!(proof.exists(), "the private hook in value-saved.d ran");
}

fn a_closed_check_in_runs_its_hook(engine: Engine) {
    use keel::domain::ItemKey;
    use keel::store::{Change, Edit, Store};
    let Some(k) = Keel::demo_on_engine(engine, "a_closed_check_in_runs_its_hook") else { return };
    let out = recording_hooks(k.dir.path());
    // The library reads the configuration folder of this process: point it at the test's home.
    std::env::set_var("XDG_CONFIG_HOME", k.dir.path().join(".config"));
    let mut s = Store::open(&k.db).unwrap();
    s.identify(None).unwrap();
    let o = s.edit(Edit::one(Change::StartMeeting { agenda: vec![ItemKey::parse("O-1").unwrap()] })).unwrap();
    let id = o.meeting.unwrap();
    s.edit(Edit::one(Change::EndMeeting { id })).unwrap();
    std::env::remove_var("XDG_CONFIG_HOME");
    let closed = events(&out, "checkin-closed");
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["meeting"], format!("MTG-{id}"));
}

crate::on_both_engines!(
    each_event_runs_its_hook_after_the_commit_with_the_event_as_json
    a_failing_hook_never_undoes_the_edit_and_is_shown_and_logged
    a_hanging_hook_is_stopped_with_everything_it_started
    hooks_a_colleague_could_write_are_not_run
    a_closed_check_in_runs_its_hook
);
