//! The terminal is restored after a panic: the real binary in a pseudo-terminal panics on a key
//! press (KEEL_DEBUG_PANIC, a test hook in src/tui/mod.rs), and afterwards the main screen is
//! back, the cursor visible, mouse reporting off, and the panic message is printed in cooked mode
//! (each line starting at the left margin, which raw mode would not do).

use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn keel() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("keel")
}

#[test]
fn a_panic_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let created = std::process::Command::new(keel()).args(["demo", "--no-open", "--db"]).arg(&db).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let pair = native_pty_system().openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).unwrap();
    let mut cmd = CommandBuilder::new(keel());
    cmd.args(["--mouse", "--db"]);
    cmd.arg(&db);
    cmd.env("TERM", "xterm-256color");
    cmd.env("KEEL_DEBUG_PANIC", "1");
    cmd.env("RUST_BACKTRACE", "0");
    cmd.env_remove("KEEL_USER");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
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
            let mut p = feed.lock().unwrap();
            p.process(&buf[..n]);
            // Answer cursor-position queries as a real terminal would (vt100 only parses).
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let (row, col) = p.screen().cursor_position();
                let _ = answer.lock().unwrap().write_all(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
        }
    });
    let screen = || parser.lock().unwrap().screen().contents();
    // The app is up: alternate screen, mouse reporting on (--mouse).
    let start = Instant::now();
    while !screen().contains("variance") {
        assert!(start.elapsed() < Duration::from_secs(20), "the app never drew:\n{}", screen());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(parser.lock().unwrap().screen().alternate_screen());

    writer.lock().unwrap().write_all(b"j").unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "keel did not panic on a key press:\n{}", screen());
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(writer);
    drop(pair.master);
    let _ = pump.join();
    assert!(!status.success(), "a panic exits with a failure: {status:?}");

    let p = parser.lock().unwrap();
    let s = p.screen();
    assert!(!s.alternate_screen(), "the main screen is back");
    assert!(!s.hide_cursor(), "the cursor is visible");
    assert_eq!(s.mouse_protocol_mode(), vt100::MouseProtocolMode::None, "mouse reporting is off");
    let text = s.contents();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let panic_line = lines.iter().position(|l| l.contains("KEEL_DEBUG_PANIC")).unwrap_or_else(|| panic!("no panic message:\n{text}"));
    // In raw mode "\n" does not return the carriage: the lines after it would start further right.
    for l in &lines[panic_line + 1..] {
        assert!(!l.starts_with(' '), "output after the panic is not in cooked mode:\n{text}");
    }
}
