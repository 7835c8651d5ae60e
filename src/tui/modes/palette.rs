//! The command palette: every action of the main screen by name, with completion.

use super::super::action::Action;
use super::super::app::App;
use super::super::update::single_line;
use super::Mode;
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

/// Main-screen actions whose name or help contains the typed text, in keymap order.
pub fn palette_matches(text: &str) -> Vec<Action> {
    let t = text.trim().to_ascii_lowercase();
    Action::MAIN.iter().copied().filter(|a| t.is_empty() || a.name().contains(&t) || a.help().contains(&t)).collect()
}

pub fn handle_key(
    app: &mut App,
    mut input: TextArea<'static>,
    mut cursor: usize,
    action: Option<Action>,
    ev: KeyEvent,
) -> anyhow::Result<()> {
    let matches = palette_matches(&input.lines().join(""));
    match action {
        Some(Action::Cancel) => return Ok(()),
        Some(Action::Up) => cursor = cursor.saturating_sub(1),
        Some(Action::Down) => cursor = (cursor + 1).min(matches.len().saturating_sub(1)),
        Some(Action::Complete) => {
            if let Some(a) = matches.get(cursor) {
                input = single_line(a.name(), "");
            }
            cursor = 0;
        }
        Some(Action::Enter) => {
            match matches.get(cursor).copied() {
                Some(a) => super::normal::update(app, a)?,
                None => app.warn("no action by that name; Tab completes, ? lists the keys"),
            }
            return Ok(());
        }
        Some(Action::ClearField) => {
            input = single_line("", "type an action, Tab completes, Enter runs");
            cursor = 0;
        }
        _ => {
            input.input(ev);
            cursor = 0;
        }
    }
    app.mode = Mode::Palette { input, cursor };
    Ok(())
}
