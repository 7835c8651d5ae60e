//! Hooks: executables in the user's keel configuration folder that run AFTER an edit's commit,
//! one per event they name — `hooks/EVENT` and every file in `hooks/EVENT.d/` (in name order) —
//! with the event as one JSON object on standard input.
//!
//! On a shared host a colleague must not be able to make you run code: a hook runs only when it,
//! its folder and the hooks folder are owned by the user running keel (the real uid) and are not
//! writable by group or others. Hooks run without a shell, in their own process group, with a
//! time limit (the whole group is killed when it passes). A failing hook never undoes the edit:
//! its failure is appended to `hooks.log` in keel's data folder and returned to be shown.

use crate::store::events::Event;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

/// The events a hook may name.
pub const EVENTS: &[&str] = &["escalation-opened", "escalation-raised", "gate-decided", "value-saved", "checkin-closed", "source-failed"];

/// The time a hook may run before its process group is killed (`KEEL_HOOK_TIMEOUT`, seconds).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// More events of one name than this in one edit (an import) go to the hook as one summary.
const EVENTS_MAX: usize = 50;

/// The user's hooks folder: `$XDG_CONFIG_HOME/keel/hooks` (~/.config/keel/hooks).
pub fn folder() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "keel").map(|d| d.config_dir().join("hooks"))
}

/// Is there anything to run at all? (Checked before an edit collects its events.)
pub fn any() -> bool {
    folder().is_some_and(|f| f.is_dir())
}

fn timeout() -> Duration {
    std::env::var("KEEL_HOOK_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// Why a path may not be trusted to run as this user, if it may not.
pub(crate) fn untrusted(path: &Path) -> Option<String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot be read ({e})")),
    };
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        return Some(format!("is owned by uid {}, not by you (uid {me})", meta.uid()));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Some(format!("is writable by group or others (mode {:o}): chmod go-w", meta.permissions().mode() & 0o7777));
    }
    None
}

/// The hooks for one event, in the order they run: `EVENT`, then `EVENT.d/*` by name.
fn hooks_for(folder: &Path, event: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let single = folder.join(event);
    if single.is_file() {
        out.push(single);
    }
    if let Ok(entries) = std::fs::read_dir(folder.join(format!("{event}.d"))) {
        let mut more: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
        // Editors' leftovers and disabled hooks are skipped.
        more.retain(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.') && !n.ends_with('~')));
        more.sort();
        out.extend(more);
    }
    out
}

/// Run one hook with `input` on its standard input; `Err` says why it failed.
fn run_one(hook: &Path, input: &[u8], event: &str, limit: Duration) -> Result<(), String> {
    // The hook and the folder holding it (the hooks folder itself was checked before).
    for p in [Some(hook), hook.parent()].into_iter().flatten() {
        if let Some(why) = untrusted(p) {
            return Err(format!("not run: {} {why}", p.display()));
        }
    }
    if std::fs::metadata(hook).map(|m| m.permissions().mode() & 0o100 == 0).unwrap_or(true) {
        return Err("not run: it is not executable (chmod u+x)".into());
    }
    let out = crate::child::run(hook, &[], &[("KEEL_EVENT", event)], input, limit, 0).map_err(|f| f.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    let said = crate::domain::text_check::one_line(&String::from_utf8_lossy(&out.stderr), 200);
    Err(format!("failed ({}){}", out.status, if said.is_empty() { String::new() } else { format!(": {said}") }))
}

/// Append a line to `hooks.log` in keel's data folder (0600, never through a symbolic link).
fn log(line: &str) {
    let Some(dir) = directories::ProjectDirs::from("", "", "keel").map(|d| d.data_dir().to_path_buf()) else { return };
    let _ = std::fs::create_dir_all(&dir);
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut o, libc::O_NOFOLLOW);
    if let Ok(mut f) = o.open(dir.join("hooks.log")) {
        let _ = writeln!(f, "{line}");
    }
}

/// More than [`EVENTS_MAX`] events of one name in one edit (an import) reach the hook as one
/// summary: `count`, and the `keys` they were about.
fn coalesce(events: &[Event]) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for name in EVENTS {
        let same: Vec<&Event> = events.iter().filter(|e| e.name == *name).collect();
        if same.len() <= EVENTS_MAX {
            out.extend(same.into_iter().cloned());
            continue;
        }
        let mut keys: Vec<&str> = same.iter().filter_map(|e| e.fields.get("key").and_then(|k| k.as_str())).collect();
        keys.dedup();
        let mut summary = Event::new(name, "").with("summary", &format!("{} {name} events in one edit", same.len()));
        summary.fields.insert("count".into(), serde_json::Value::from(same.len()));
        summary.fields.insert("keys".into(), serde_json::Value::from(keys));
        out.push(summary);
    }
    out
}

/// Hooks run off the caller's thread (the app: a hook may take up to its time limit, and the
/// terminal must never wait for it). One app per process, so one switch for the process.
struct Later {
    done: Sender<Vec<String>>,
    reports: Receiver<Vec<String>>,
    running: usize,
}

static LATER: Mutex<Option<Later>> = Mutex::new(None);

fn later() -> std::sync::MutexGuard<'static, Option<Later>> {
    LATER.lock().unwrap_or_else(|p| p.into_inner())
}

/// From now on, [`after_commit`] starts the hooks on a thread of their own and returns at once;
/// their failures are collected with [`finished`].
pub fn run_in_background() {
    let mut l = later();
    if l.is_none() {
        let (done, reports) = channel();
        *l = Some(Later { done, reports, running: 0 });
    }
}

/// Failures of background hooks that have finished since the last call, one line each.
pub fn finished() -> Vec<String> {
    let mut l = later();
    let Some(l) = l.as_mut() else { return vec![] };
    let mut out = Vec::new();
    while let Ok(lines) = l.reports.try_recv() {
        l.running = l.running.saturating_sub(1);
        out.extend(lines);
    }
    out
}

/// Wait for background hooks still running (when the app ends, its terminal already given
/// back); returns their failures. Each hook has its own time limit, so this ends.
pub fn wait_for_background() -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let mut l = later();
        let Some(lg) = l.as_mut() else { return out };
        if lg.running == 0 {
            return out;
        }
        match lg.reports.recv_timeout(Duration::from_millis(100)) {
            Ok(lines) => {
                lg.running -= 1;
                out.extend(lines);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return out,
        }
    }
}

/// Run the hooks of every event of a committed edit. Returns one line per failure, to show
/// (none when they run in the background: those come from [`finished`]).
pub fn after_commit(events: &[Event], at: &str, actor: &str) -> Vec<String> {
    if folder().filter(|f| f.is_dir()).is_none() || events.is_empty() {
        return vec![];
    }
    let mut l = later();
    if let Some(lg) = l.as_mut() {
        let (events, at, actor, done) = (events.to_vec(), at.to_string(), actor.to_string(), lg.done.clone());
        let started = std::thread::Builder::new().name("keel-hooks".into()).spawn(move || {
            // One answer per thread, whatever happens: the app waits for each at exit.
            let run = std::panic::AssertUnwindSafe(|| run_all(&events, &at, &actor));
            let lines = std::panic::catch_unwind(run).unwrap_or_else(|_| vec!["hooks: stopped by an internal error".into()]);
            let _ = done.send(lines);
        });
        match started {
            Ok(_) => {
                lg.running += 1;
                return vec![];
            }
            Err(e) => return vec![format!("hooks not run: no thread for them ({e})")],
        }
    }
    drop(l);
    run_all(events, at, actor)
}

fn run_all(events: &[Event], at: &str, actor: &str) -> Vec<String> {
    let Some(folder) = folder().filter(|f| f.is_dir()) else { return vec![] };
    if let Some(why) = untrusted(&folder) {
        let line = format!("hooks not run: {} {why}", folder.display());
        log(&format!("{at} {line}"));
        return vec![line];
    }
    let limit = timeout();
    let mut failures = Vec::new();
    for e in coalesce(events) {
        let hooks = hooks_for(&folder, e.name);
        if hooks.is_empty() {
            continue;
        }
        let mut input = serde_json::to_vec(&e.json(at, actor)).unwrap_or_default();
        input.push(b'\n');
        for h in hooks {
            if let Err(why) = run_one(&h, &input, e.name, limit) {
                let line = format!("hook {} ({}): {why}", h.display(), e.name);
                log(&format!("{at} {line}"));
                failures.push(line);
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_events_of_one_name_become_one_summary_and_the_rest_stay() {
        let mut events: Vec<Event> = (1..=60).map(|i| Event::new("value-saved", &format!("K-{i}"))).collect();
        events.push(Event::new("escalation-opened", "K-3"));
        let out = coalesce(&events);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "escalation-opened");
        assert_eq!(out[1].fields["count"], 60);
        assert_eq!(out[1].fields["keys"].as_array().unwrap().len(), 60);
        assert_eq!(coalesce(&events[..3]).len(), 3, "a few events pass as they are");
    }
}
