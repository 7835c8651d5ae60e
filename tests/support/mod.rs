//! A demo organisation fixed at one date, and helpers to drive the app by key presses.
#![allow(dead_code)]

use chrono::NaiveDate;
use keel::store::Store;
use keel::tui::app::App;
use keel::tui::keymap::Keymap;
use keel::tui::theme::Theme;
use keel::tui::update;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

pub const TODAY: &str = "2026-11-25";

pub fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub app: App,
}

/// The demo as of TODAY, opened by `login` (the demo's PMO administrator is "tester").
pub fn fixture_as(login: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    drop(keel::io::demo::create_at(&path, today(), "tester").unwrap());
    let store = other(&path, login);
    let app = App::new(store, Keymap::default_only(), Theme { color: false }).unwrap();
    Fixture { _dir: dir, path, app }
}

pub fn fixture() -> Fixture {
    fixture_as("tester")
}

pub fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        keel::tui::frame::render(f, app);
    })
    .unwrap();
    t.backend().to_string()
}

pub fn key(app: &mut App, code: KeyCode) {
    update::handle_key(app, KeyEvent::new(code, KeyModifiers::NONE)).unwrap();
}

pub fn ctrl(app: &mut App, c: char) {
    update::handle_key(app, KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)).unwrap();
}

pub fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        let m = if c.is_ascii_uppercase() { KeyModifiers::SHIFT } else { KeyModifiers::NONE };
        update::handle_key(app, KeyEvent::new(KeyCode::Char(c), m)).unwrap();
    }
}

pub fn search(app: &mut App, text: &str) {
    chars(app, "/");
    chars(app, text);
    key(app, KeyCode::Enter);
}

/// A second connection, as another process would have.
pub fn other(path: &std::path::Path, login: &str) -> Store {
    let mut s = Store::open(path).unwrap();
    s.set_clock(today());
    s.identify(Some(login)).unwrap();
    s
}
