//! The terminal app, Elm-style: `app` is the model, `action` names every intent, `update`
//! changes the model (saving through the store's one write path), `view` draws it.

pub mod action;
pub mod app;
pub mod background;
pub mod frame;
pub mod keymap;
mod live;
pub mod modes;
mod reopen;
mod replies;
pub mod theme;
pub mod update;
pub mod variance_list;
pub mod view;

pub use modes::{editor, meeting, triage, weekly};

use crate::store::Store;
use app::{App, Pane};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event, KeyEventKind, MouseButton,
    MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::prelude::*;
use std::io::stdout;
use std::time::{Duration, Instant};

/// "1 item", "3 items".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Put the terminal back as it was: cooked mode, main screen, no mouse capture, visible cursor.
/// Safe to call more than once and when the terminal is gone.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, ratatui::crossterm::cursor::Show);
}

struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restore the terminal before any panic message is printed.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A reader's panic is caught and shown on the message line; the session goes on.
        if std::thread::current().name().is_some_and(|n| n.starts_with(background::READER_THREAD)) {
            return;
        }
        restore_terminal();
        previous(info);
    }));
}

/// How long a save from the app waits for another keel's write lock: the keys wait for it, so
/// briefly; a save that finds the file busy says so and the person tries again.
pub(crate) const APP_WAITS_FOR_WRITERS: Duration = Duration::from_millis(300);

pub fn run(store: Store, mouse: bool) -> anyhow::Result<()> {
    store.wait_for_writers(APP_WAITS_FOR_WRITERS)?;
    let (keymap, warnings) = keymap::Keymap::load(keymap::user_file().as_deref());
    let mut app = App::with_readers(store, keymap, theme::Theme::from_env(), background::READERS)?;
    // A file or folder others could tamper with is said on screen too, not only on stderr.
    if let Some(w) = app.store.warnings().into_iter().next() {
        app.warn(format!("warning: {w}"));
    }
    // An owner with updates due lands in the weekly update; Esc leaves it for the panes.
    if app.read_only.is_none() {
        weekly::start(&mut app)?;
    }
    // Keymap problems stay on screen until dismissed, and are said again on stderr at exit.
    if !warnings.is_empty() {
        app.warn(format!("keymap: {} problem(s); the built-in keys are used for those lines", warnings.len()));
        app.mode = modes::Mode::Notice { title: "Problems in the keymap".into(), lines: warnings.clone() };
    }
    // Hooks never hold up the terminal: they run on a thread of their own (see crate::hooks).
    crate::hooks::run_in_background();
    let result = run_app(app, mouse);
    // Hooks still running when the app ends are waited for with the terminal given back.
    for f in crate::hooks::finished().into_iter().chain(crate::hooks::wait_for_background()) {
        eprintln!("keel: {f}");
    }
    for w in &warnings {
        eprintln!("keel: keymap: {w}");
    }
    result
}

fn run_app(mut app: App, mouse: bool) -> anyhow::Result<()> {
    // SIGTERM, SIGHUP (a closed SSH session), SIGINT and SIGQUIT end keel from a watcher thread:
    // when the terminal has gone away the main thread may never get back from reading it.
    // Writes are transactions, so stopping between them loses nothing.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            restore_terminal();
            crate::child::stop_all();
            std::process::exit(128 + signal);
        }
    });
    install_panic_hook();
    enable_raw_mode()?;
    let _guard = TerminalGuard;
    enter_screen(mouse)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;
    event_loop(&mut terminal, &mut app, mouse)
}

/// The app's screen: alternate screen, bracketed paste (a paste arrives whole, never as keys),
/// and the mouse when asked for.
fn enter_screen(mouse: bool) -> std::io::Result<()> {
    execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Ctrl-Z: give the terminal back to the shell and stop, as htop and lazygit do; on `fg`,
/// take it again. Raw mode turns off the terminal's own SIGTSTP, so keel sends it itself.
fn suspend(mouse: bool) -> anyhow::Result<()> {
    restore_terminal();
    // SAFETY: raising a standard signal in our own process; the default action stops it and
    // returns here when the shell continues it.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    enable_raw_mode()?;
    enter_screen(mouse)?;
    Ok(())
}

fn event_loop<B: Backend>(terminal: &mut Terminal<B>, app: &mut App, with_mouse: bool) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let mut areas = view::Areas::default();
    let mut dirty = true;
    let mut last_poll = Instant::now();
    while !app.quit {
        if dirty {
            terminal.draw(|f| areas = frame::render(f, app))?;
            dirty = false;
        }
        // Answers from the readers (statuses, details, filters, searches): draw them when they come.
        if app.pump() {
            dirty = true;
            continue;
        }
        let wait = if app.waiting() { Duration::from_millis(10) } else { Duration::from_millis(250) };
        if event::poll(wait)? {
            match event::read()? {
                // Act on presses only: some terminals also report releases and repeats.
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    // Test hook (tests/tui_panic.rs): a deliberate panic, to check the terminal is restored.
                    if std::env::var_os("KEEL_DEBUG_PANIC").is_some() {
                        panic!("KEEL_DEBUG_PANIC: deliberate panic");
                    }
                    let effect = update::handle_key_effect(app, k).unwrap_or_else(|e| {
                        app.warn(format!("{e:#}"));
                        update::Effect::None
                    });
                    match effect {
                        update::Effect::Suspend => {
                            suspend(with_mouse)?;
                            terminal.clear()?;
                        }
                        update::Effect::Redraw => terminal.clear()?,
                        update::Effect::None => {}
                    }
                    dirty = true;
                }
                Event::Paste(text) => {
                    update::handle_paste(app, &text);
                    dirty = true;
                }
                Event::Mouse(m) => {
                    dirty |= mouse(app, &areas, m.kind, m.column, m.row)?;
                }
                Event::Resize(w, h) => {
                    app.size = Rect::new(0, 0, w, h);
                    dirty = true;
                }
                _ => {}
            }
        }
        // Someone else wrote: refresh within about a second, keeping cursor and edit — as the
        // server announces it, or (a file) by polling its data version.
        if app.live.is_some() {
            dirty |= app.take_live_events()?;
        } else if last_poll.elapsed() >= Duration::from_millis(700) {
            last_poll = Instant::now();
            if app.notice_replaced_file() {
                dirty = true;
            } else if app.changed_elsewhere() {
                app.reload()?;
                dirty = true;
            }
        }
    }
    Ok(())
}

fn inside(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

fn mouse(app: &mut App, areas: &view::Areas, kind: MouseEventKind, x: u16, y: u16) -> anyhow::Result<bool> {
    let pane = if inside(areas.tree, x, y) {
        Pane::Tree
    } else if inside(areas.detail, x, y) {
        Pane::Detail
    } else if inside(areas.variance, x, y) {
        Pane::Variance
    } else {
        return Ok(false);
    };
    match kind {
        MouseEventKind::Down(MouseButton::Left) => {
            app.focus = pane;
            match pane {
                Pane::Tree => {
                    let row = app.tree.offset + (y.saturating_sub(areas.tree.y + 1)) as usize;
                    if app.tree.rows.get(row).is_some_and(|r| !r.is_heading()) {
                        app.tree.cursor = row;
                    }
                }
                Pane::Variance => {
                    let row = (y.saturating_sub(areas.variance.y + 2)) as usize
                        + app.variance.cursor.saturating_sub(app.variance.height.saturating_sub(1));
                    if row < app.variance.list.len() {
                        app.variance.cursor = row;
                    }
                }
                Pane::Detail => {}
            }
            app.load_detail()?;
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            app.focus = pane;
            let a = if kind == MouseEventKind::ScrollDown { action::Action::Down } else { action::Action::Up };
            update::update(app, a)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}
