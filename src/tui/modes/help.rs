//! The help overlay: the keys of the mode it was opened from first, then every other mode's.

use super::super::action::Action;
use super::super::app::App;
use super::Mode;

pub fn handle_key(app: &mut App, mut scroll: u16, back: Box<Mode>, action: Option<Action>) {
    let max = super::super::view::help::line_count(app) as u16;
    match action {
        Some(Action::Close | Action::Help) => {
            app.mode = *back;
            return;
        }
        Some(Action::Down) => scroll = scroll.saturating_add(1).min(max),
        Some(Action::Up) => scroll = scroll.saturating_sub(1),
        Some(Action::PageDown) => scroll = scroll.saturating_add(10).min(max),
        Some(Action::PageUp) => scroll = scroll.saturating_sub(10),
        _ => {}
    }
    app.mode = Mode::Help { scroll, back };
}

/// Open help over the current mode.
pub fn open(app: &mut App, back: Mode) {
    app.mode = Mode::Help { scroll: 0, back: Box::new(back) };
}
