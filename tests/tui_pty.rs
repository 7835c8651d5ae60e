//! The real binary in a pseudo-terminal: a measure's actual edited in the panes, and a whole
//! weekly update by one owner — each ending with the terminal restored and the values stored.

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn keel() -> PathBuf {
    assert_cmd::cargo::cargo_bin("keel")
}

fn demo(dir: &Path) -> PathBuf {
    let db = dir.join("demo.db");
    let created = std::process::Command::new(keel()).args(["demo", "--no-open", "--db"]).arg(&db).env_remove("KEEL_USER").output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    db
}

/// keel running in a 120×40 pseudo-terminal, its output parsed by vt100.
struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    pump: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    fn start(db: &Path, user: Option<&str>) -> Session {
        Session::start_with(db, user, &[])
    }

    fn start_with(db: &Path, user: Option<&str>, env: &[(&str, &str)]) -> Session {
        let mut cmd = CommandBuilder::new(keel());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.arg("--db");
        cmd.arg(db);
        cmd.env("TERM", "xterm-256color");
        match user {
            Some(u) => cmd.env("KEEL_USER", u),
            None => cmd.env_remove("KEEL_USER"),
        }
        Session::spawn(cmd)
    }

    /// An interactive shell with job control, to run keel in (Ctrl-Z needs one: an orphaned
    /// process group ignores SIGTSTP).
    fn shell() -> Session {
        let mut cmd = CommandBuilder::new("bash");
        cmd.args(["--norc", "--noprofile", "-i"]);
        cmd.env("TERM", "xterm-256color");
        cmd.env("PS1", "shell$ ");
        cmd.env_remove("KEEL_USER");
        Session::spawn(cmd)
    }

    fn spawn(cmd: CommandBuilder) -> Session {
        let pair = native_pty_system().openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
        let (feed, answer) = (Arc::clone(&parser), Arc::clone(&writer));
        let pump = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                let mut p = feed.lock().unwrap();
                p.process(chunk);
                // Answer cursor-position queries as a real terminal would (vt100 only parses).
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = p.screen().cursor_position();
                    let _ = answer.lock().unwrap().write_all(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
                }
            }
        });
        Session { parser, writer, child, _master: pair.master, pump: Some(pump) }
    }

    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Wait until the screen shows `needle` (a terminal app draws when it is ready).
    fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let t = self.text();
            if t.contains(needle) {
                return t;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "screen never showed {needle:?}; it shows:\n{t}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&self, s: &str) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
        drop(w);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Quit with q and check the terminal is back: main screen, visible cursor.
    fn quit_and_check_restored(mut self) {
        self.send("q");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "keel did not quit");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "keel exited with {status:?}");
        std::thread::sleep(Duration::from_millis(200));
        let p = self.parser.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "the main screen is back");
        assert!(!p.screen().hide_cursor(), "the cursor is visible again");
        drop(p);
        drop(self.pump.take());
    }
}

fn latest_actual(db: &Path, key: &str) -> serde_json::Value {
    let show = std::process::Command::new(keel()).args(["show", key, "--format", "json", "--db"]).arg(db).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    json["values"].as_array().unwrap().iter().rfind(|v| !v["actual"].is_null()).cloned().unwrap_or_default()
}

#[test]
fn edit_an_actual_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let s = Session::start(&db, None);
    let first = s.wait_for("3 variance");
    assert!(s.parser.lock().unwrap().screen().alternate_screen(), "the app runs on the alternate screen");
    assert!(first.contains("M-9"), "M-9 is in the variance list at first:\n{first}");

    s.send("/M-9\r");
    s.wait_for("M-9 Create service escalation workflow");
    s.send("a");
    s.wait_for("edit M-9 actual");
    s.send("10000\r");
    let after = s.wait_for("sponsor action closed");
    let variance: String =
        after.lines().skip_while(|l| !l.contains("3 variance")).take_while(|l| !l.starts_with('└')).collect::<Vec<_>>().join("\n");
    assert!(!variance.contains("M-9 "), "M-9 left the variance list:\n{variance}");
    s.quit_and_check_restored();
    assert_eq!(latest_actual(&db, "M-9")["actual"], "10000");
}

#[test]
fn a_slow_hook_never_holds_up_the_app_and_its_failure_is_said_when_it_comes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let (config, data) = (dir.path().join("config"), dir.path().join("data"));
    let hooks = config.join("keel/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for p in [config.clone(), config.join("keel"), hooks.clone()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // The hook says it started, then waits until the test lets it go (at most about a minute,
    // so a failed run leaves nothing behind), then fails.
    let (started, release) = (dir.path().join("started"), dir.path().join("release"));
    let body = format!(
        "#!/bin/sh\ntouch '{}'\nn=0\nwhile [ ! -e '{}' ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done\necho 'chat webhook down' >&2\nexit 3\n",
        started.display(),
        release.display()
    );
    std::fs::write(hooks.join("value-saved"), body).unwrap();
    std::fs::set_permissions(hooks.join("value-saved"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let env = [("XDG_CONFIG_HOME", config.to_str().unwrap()), ("XDG_DATA_HOME", data.to_str().unwrap()), ("KEEL_HOOK_TIMEOUT", "60")];
    let s = Session::start_with(&db, None, &env);
    s.wait_for("3 variance");
    s.send("/M-9\r");
    s.wait_for("M-9 Create service escalation workflow");
    s.send("a");
    s.wait_for("edit M-9 actual");
    s.send("10000\r");
    // Saved and drawn while the hook still runs (it cannot end before the release file exists).
    s.wait_for("sponsor action closed");
    let start = Instant::now();
    while !started.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "the hook never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The app still answers keys while the hook runs.
    s.send("?");
    s.wait_for("keys — main screen");
    s.send("\x1b");
    assert!(!s.text().contains("chat webhook down"), "no failure before the hook ends:\n{}", s.text());
    std::fs::write(&release, "").unwrap();
    s.wait_for("chat webhook down");
    s.quit_and_check_restored();
    assert_eq!(latest_actual(&db, "M-9")["actual"], "10000");
}

#[test]
fn a_full_weekly_update_by_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let s = Session::start(&db, Some("amara"));
    // keel opens on the owner's due updates.
    s.wait_for("my updates — 3 due");
    s.send("6.2\r");
    s.wait_for("▸ KR-2");
    s.send("91");
    s.send("\x1b[B"); // down: forecast
    s.send("90\r");
    s.wait_for("▸ M-10");
    s.send("12000\r");
    s.wait_for("weekly update: 3 of 3 saved");
    s.send("\x1b");
    s.wait_for("1 objectives");
    s.quit_and_check_restored();
    assert_eq!(latest_actual(&db, "K-2")["actual"], "6.2");
    assert_eq!(latest_actual(&db, "KR-2")["actual"], "91");
    assert_eq!(latest_actual(&db, "KR-2")["forecast"], "90");
    assert_eq!(latest_actual(&db, "M-10")["actual"], "12000");
}

#[test]
fn a_closed_terminal_ends_keel_instead_of_leaving_it_running() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mut s = Session::start(&db, None);
    s.wait_for("3 variance");
    let pid = s.child.process_id().expect("a pid");
    // Hang up, as a dropped SSH connection does: the terminal goes away and SIGHUP arrives.
    // SAFETY: kill(2) with a pid we spawned and a standard signal number.
    let rc = unsafe { libc_kill(pid as i32, 1) };
    assert_eq!(rc, 0);
    let start = Instant::now();
    loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            assert!(!status.success(), "ended by the hang-up: {status:?}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "keel kept running after its terminal hung up");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The file is intact afterwards.
    let check = std::process::Command::new(keel()).args(["check", "--db"]).arg(&db).output().unwrap();
    assert_eq!(check.status.code(), Some(2), "{}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn a_bracketed_paste_lands_in_the_narrative_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let s = Session::start(&db, None);
    s.wait_for("3 variance");
    s.send("/M-9\r");
    s.wait_for("M-9 Create service escalation workflow");
    s.send("w");
    s.wait_for("edit M-9 narrative");
    s.send("\x15"); // Ctrl-U: clear the old text
                    // Two lines, the second a key that would quit if it ran as one.
    s.send("\x1b[200~Vendor fix slipped.\nq\x1b[201~");
    let screen = s.text();
    assert!(screen.contains("edit M-9 narrative"), "the editor is still open:\n{screen}");
    s.send("\r");
    s.wait_for("saved M-9 narrative");
    s.quit_and_check_restored();
    let show = std::process::Command::new(keel()).args(["show", "M-9", "--format", "json", "--db"]).arg(&db).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let text = json.to_string();
    assert!(text.contains("Vendor fix slipped.\\nq"), "the narrative holds both lines: {text}");
}

#[test]
fn ctrl_z_suspends_to_the_shell_and_fg_brings_keel_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let s = Session::shell();
    s.wait_for("shell$");
    s.send(&format!("{} --db '{}'\r", keel().display(), db.display()));
    s.wait_for("3 variance");
    s.send("\x1a");
    let screen = s.wait_for("Stopped");
    {
        let p = s.parser.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "the shell's screen is back while keel is stopped:\n{screen}");
        assert!(!p.screen().hide_cursor(), "the cursor is visible in the shell");
    }
    s.send("fg\r");
    s.wait_for("3 variance");
    assert!(s.parser.lock().unwrap().screen().alternate_screen(), "keel is back on its screen");
    s.send("q");
    s.wait_for("shell$");
    let mut s = s;
    s.send("exit\r");
    let _ = s.child.wait();
    drop(s.pump.take());
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
