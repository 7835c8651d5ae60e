//! The app as `keel` runs it: statuses, details and the variance list read by background readers
//! on their own connections. Once their answers are in, every screen must be the one the app draws
//! when it reads everything on the spot — through moves, views, filters, an edit in the app and an
//! edit by someone else.

mod support;

use keel::domain::{ItemKey, Period};
use keel::store::{Change, Edit};
use keel::tui::app::App;
use keel::tui::keymap::Keymap;
use keel::tui::theme::Theme;
use ratatui::crossterm::event::KeyCode;
use std::time::Duration;
use support::*;

const LIMIT: Duration = Duration::from_secs(30);

fn with_readers(path: &std::path::Path) -> App {
    App::with_readers(other(path, "tester"), Keymap::default_only(), Theme { color: false }, 2).unwrap()
}

/// Draw, wait for what the draw asked the readers for, and draw again until nothing is pending.
fn settled(app: &mut App, w: u16, h: u16) -> String {
    for _ in 0..10 {
        let screen = render(app, w, h);
        if !app.waiting() {
            return screen;
        }
        app.settle(LIMIT);
    }
    panic!("the readers never settled");
}

enum Step {
    Keys(&'static str),
    Key(KeyCode),
    Search(&'static str),
    /// Another person sets an actual; the apps notice and reload, as the event loop does.
    ElsewhereActual(&'static str, &'static str),
}

#[test]
fn readers_draw_the_same_screens_as_reading_on_the_spot() {
    // Two copies of the demo, so that each app's own edit lands on its own file.
    let mut f = fixture();
    let g = fixture();
    let mut bg = with_readers(&g.path);
    assert!(bg.background.is_some() && f.app.background.is_none());
    let steps = [
        Step::Keys(""),
        Step::Keys("jjj"),
        Step::Keys("l"),
        Step::Keys("jj"),
        Step::Key(KeyCode::PageDown),
        Step::Keys("G"),
        Step::Keys("v"),
        Step::Keys("jjl"),
        Step::Keys("v"),
        Step::Keys("3"),
        Step::Keys("jj"),
        Step::Keys("t"),
        Step::Key(KeyCode::Enter),
        Step::Key(KeyCode::Esc),
        Step::Keys("1"),
        Step::Keys("x"),
        Step::Keys("j"),
        Step::Key(KeyCode::Esc),
        Step::Keys("s"),
        Step::Key(KeyCode::Esc),
        Step::Search("M-9"),
        Step::Keys("a10000"),
        Step::Key(KeyCode::Enter),
        Step::ElsewhereActual("M-5", "1"),
        Step::Search("O-1"),
        Step::Keys("g"),
    ];
    for (n, step) in steps.iter().enumerate() {
        for app in [&mut f.app, &mut bg] {
            match step {
                Step::Keys(s) => chars(app, s),
                Step::Key(k) => key(app, *k),
                Step::Search(s) => search(app, s),
                Step::ElsewhereActual(..) => {}
            }
        }
        if let Step::ElsewhereActual(k, value) = step {
            for path in [&f.path, &g.path] {
                let key = ItemKey::parse(k).unwrap();
                let period = Period::parse("2026-W48").unwrap();
                let change = Change::Value { key, period, field: "actual".into(), value: value.to_string(), if_version: None };
                other(path, "tester").edit(Edit::one(change)).unwrap();
            }
            for app in [&mut f.app, &mut bg] {
                assert!(app.changed_elsewhere(), "step {n}: the edit elsewhere went unnoticed");
                app.reload().unwrap();
            }
        }
        for (w, h) in [(120, 40), (80, 24)] {
            let on_the_spot = render(&mut f.app, w, h);
            let from_readers = settled(&mut bg, w, h);
            assert_eq!(from_readers, on_the_spot, "step {n} at {w}x{h}: the screens differ");
        }
    }
    // The edit in the app went through the one write path and is in the file.
    let d = other(&g.path, "tester").detail(&ItemKey::parse("M-9").unwrap()).unwrap();
    assert_eq!(d.values.iter().find(|v| v.period == "2026-W48").unwrap().actual.unwrap().to_string(), "10000");
}

#[test]
fn answers_for_an_older_generation_are_ignored() {
    let f = fixture();
    let mut app = with_readers(&f.path);
    render(&mut app, 120, 40);
    assert!(app.waiting(), "the first frame should have asked the readers for statuses");
    // The file (or the rows) changed before the answers came: they must not be shown.
    app.forget_statuses();
    app.settle(LIMIT);
    assert!(!app.waiting());
    assert!(app.tree.statuses.is_empty(), "an answer from before the change was kept: {:?}", app.tree.statuses.keys().collect::<Vec<_>>());
    // Drawn again, the rows are asked for afresh and filled in.
    settled(&mut app, 120, 40);
    assert_every_visible_status_in(&app);
}

/// Every item row on screen (the tree pane at its last draw) has its status.
fn assert_every_visible_status_in(app: &App) {
    let visible = app.tree.rows.iter().skip(app.tree.offset).take(app.tree.height).filter_map(|r| r.key());
    for r in visible {
        assert!(app.tree.statuses.contains_key(r), "{r} has no status after settling");
        assert!(!app.status_pending(r));
    }
}

#[test]
fn rows_waiting_for_a_reader_say_so() {
    let f = fixture();
    let mut app = with_readers(&f.path);
    let first = render(&mut app, 120, 40);
    // Whatever had not arrived by the first draw is drawn as "…", never as a blank or a guess.
    let pending: Vec<String> = app.tree.rows.iter().filter_map(|r| r.key()).filter(|k| app.status_pending(k)).map(str::to_string).collect();
    // Answers are taken only between frames, so the first frame has every row it asked about.
    assert!(!pending.is_empty(), "the first frame asked the readers for nothing");
    for key in &pending {
        let line = first.lines().find(|l| l.contains(&format!(" {key} "))).unwrap_or_else(|| panic!("{key} not drawn:\n{first}"));
        assert!(line.contains('…'), "{key} is pending but drawn without a mark: {line}");
    }
    settled(&mut app, 120, 40);
    assert_every_visible_status_in(&app);
}

#[test]
fn leaving_a_filter_before_its_items_come_leaves_nothing_waiting() {
    let f = fixture();
    let mut app = with_readers(&f.path);
    settled(&mut app, 120, 40);
    chars(&mut app, "s");
    assert!(app.tree.filter.is_some());
    // The execution view, before the stale items have come.
    chars(&mut app, "v");
    let screen = settled(&mut app, 120, 40);
    assert!(app.tree.filter.is_none() && !app.tree.filter_loading);
    assert!(screen.contains("execution hierarchy") && !screen.contains("reading…"), "{screen}");
    assert!(app.tree.rows.iter().any(|r| r.key() == Some("PF-1")), "the execution tree should be shown");
}
