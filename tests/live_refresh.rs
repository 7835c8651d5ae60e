//! The open app on a PostgreSQL server hears others' edits as they are committed (the write path
//! notifies, the app listens on a connection of its own) and refreshes within a second; when the
//! server drops its connections, the app says so, reconnects by itself and says that too.
//! Without `KEEL_TEST_PG_URL` the tests say they were skipped.

mod common;
mod support;

use common::pg::Engine;
use common::Keel;
use keel::store::Store;
use keel::tui::app::App;
use keel::tui::keymap::Keymap;
use keel::tui::theme::Theme;
use std::time::{Duration, Instant};

fn open_app(k: &Keel) -> App {
    let mut store = Store::open(&k.db).unwrap();
    store.set_clock(chrono::NaiveDate::parse_from_str(common::TODAY, "%Y-%m-%d").unwrap());
    let app = App::new(store, Keymap::default_only(), Theme { color: false }).unwrap();
    assert!(app.live.is_some(), "the app listens for commits on a server");
    app
}

/// Let the app act on what it heard, as its event loop does, until the screen shows `text`;
/// how long that took.
fn until_shown(app: &mut App, text: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        app.take_live_events().unwrap();
        let screen = support::render(app, 120, 40);
        if screen.contains(text) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "the app never showed {text:?}; it shows:\n{screen}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_edit_by_another_process_reaches_the_open_app_within_a_second() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "live_refresh") else { return };
    let mut app = open_app(&k);
    assert!(!support::render(&mut app, 120, 40).contains("Renamed elsewhere"));
    k.run(&["set", "O-1", "title=Renamed elsewhere"]).ok();
    let took = until_shown(&mut app, "Renamed elsewhere", Duration::from_secs(10));
    assert!(took < Duration::from_secs(1), "the edit reached the app after {took:?}, not within a second");
}

#[test]
fn the_app_reconnects_by_itself_when_the_server_drops_its_connections() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "live_reconnect") else { return };
    let mut app = open_app(&k);
    let mut admin = k.server.as_ref().unwrap().client();
    let dropped: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(dropped >= 2, "the app's store and its listener were connected ({dropped} dropped)");
    until_shown(&mut app, "reconnected to the server", Duration::from_secs(20));
    k.run(&["set", "O-1", "title=After the reconnect"]).ok();
    until_shown(&mut app, "After the reconnect", Duration::from_secs(10));
}

/// Only the store's session is ended (an administrator's `pg_terminate_backend`, a pooler
/// dropping one idle connection): the listener hears nothing wrong, yet the app notices its
/// store's connection broke the next time it used it, reconnects, and hears edits again.
#[test]
fn the_app_reconnects_its_store_when_only_the_store_connection_is_dropped() {
    let Some(k) = Keel::demo_on_engine(Engine::Postgres, "live_store_only") else { return };
    let mut app = open_app(&k);
    let mut admin = k.server.as_ref().unwrap().client();
    // Every session of the app but the one that listens.
    let dropped: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(dropped >= 1, "the app's store was connected");
    assert!(!app.store.connection_lost(), "nothing has used the store's connection yet");
    // Another process's edit: the listener hears it, the store's read of it finds the connection gone.
    k.run(&["set", "O-1", "title=Edited while the store was cut off"]).ok();
    until_shown(&mut app, "Edited while the store was cut off", Duration::from_secs(20));
    assert!(!app.store.connection_lost(), "the store reconnected");
    assert!(app.server_lost.is_none(), "the server was never unreachable");
}
