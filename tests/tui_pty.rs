//! The real binary in a pseudo-terminal: open the demo, move to a measure, type a new actual,
//! save, see the variance list change, quit — and find the terminal restored and the value stored.

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn keel() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("keel")
}

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
}

impl Screen {
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
            if start.elapsed() > Duration::from_secs(20) {
                panic!("screen never showed {needle:?}; it shows:\n{t}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn edit_an_actual_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let created = std::process::Command::new(keel()).args(["demo", "--no-open", "--db"]).arg(&db).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(keel());
    cmd.arg("--db");
    cmd.arg(&db);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("KEEL_USER");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(40, 120, 0)));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
    let feed = Arc::clone(&parser);
    let answer = Arc::clone(&writer);
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
    let screen = Screen { parser: Arc::clone(&parser) };
    let send = |s: &str| {
        let mut w = writer.lock().unwrap();
        w.write_all(s.as_bytes()).unwrap();
        w.flush().unwrap();
        drop(w);
        std::thread::sleep(Duration::from_millis(150));
    };

    let first = screen.wait_for("3 variance");
    assert!(parser.lock().unwrap().screen().alternate_screen(), "the app runs on the alternate screen");
    assert!(first.contains("M-9"), "M-9 is in the variance list at first:\n{first}");

    send("/M-9\r");
    screen.wait_for("M-9 Create service escalation workflow");
    send("a");
    screen.wait_for("edit M-9 actual");
    send("10000\r");
    let after = screen.wait_for("sponsor action closed");
    let variance: String =
        after.lines().skip_while(|l| !l.contains("3 variance")).take_while(|l| !l.starts_with('└')).collect::<Vec<_>>().join("\n");
    assert!(!variance.contains("M-9 "), "M-9 left the variance list:\n{variance}");

    send("q");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "keel did not quit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "keel exited with {status:?}");
    drop(writer);
    drop(pair.master);
    let _ = pump.join();
    {
        let p = parser.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "the main screen is back");
        assert!(!p.screen().hide_cursor(), "the cursor is visible again");
    }

    let show = std::process::Command::new(keel()).args(["show", "M-9", "--format", "json", "--db"]).arg(&db).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let values = json["values"].as_array().unwrap();
    let latest_actual = values.iter().rfind(|v| !v["actual"].is_null()).unwrap();
    assert_eq!(latest_actual["actual"], "10000");
}
