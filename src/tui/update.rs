//! Turns key presses into actions and actions into state changes and store calls. Every save
//! goes through `Store::edit`, the same write path as the CLI. Each mode handles its own keys
//! (see `modes/`); the keys themselves come from the keymap's section for that mode.

use super::action::Action;
use super::app::{App, Mode};
use super::keymap::KeyMode;
use super::modes;
use crate::domain::gates::GateAction;
use crate::domain::ItemKey;
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

pub use super::modes::normal::update;
pub use super::modes::palette::palette_matches;

/// A confirmed action waiting for "y".
#[derive(Clone, Debug)]
pub enum Pending {
    Gate {
        key: ItemKey,
        action: GateAction,
        reason: Option<String>,
    },
    /// Reopen the file now at the app's path (the one opened was replaced or deleted).
    Reopen,
}

/// What the event loop should do beyond redrawing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Effect {
    #[default]
    None,
    /// Stop to the shell (Ctrl-Z), and come back on `fg`.
    Suspend,
    /// Clear the terminal and draw everything again (Ctrl-L).
    Redraw,
}

pub fn single_line(initial: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![initial.to_string()]);
    t.set_placeholder_text(placeholder.to_string());
    t.move_cursor(ratatui_textarea::CursorMove::End);
    style_field(&mut t);
    t
}

/// Every text field looks the same: a placeholder dim and italic (it never looks like a value,
/// colour or not: NO_COLOR drops the textarea's grey), and a reversed block for the cursor.
pub fn style_field(t: &mut TextArea<'static>) {
    use ratatui::style::{Modifier, Style};
    t.set_placeholder_style(Style::default().add_modifier(Modifier::DIM | Modifier::ITALIC));
    t.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    t.set_cursor_line_style(Style::default());
}

/// A key press, in whatever mode the app is in.
pub fn handle_key(app: &mut App, ev: KeyEvent) -> anyhow::Result<()> {
    handle_key_effect(app, ev).map(|_| ())
}

/// A key press; says when the terminal itself must do something (suspend, redraw).
pub fn handle_key_effect(app: &mut App, ev: KeyEvent) -> anyhow::Result<Effect> {
    match app.keymap.action_in(KeyMode::Global, &ev) {
        Some(Action::ForceQuit) => {
            app.quit = true;
            return Ok(Effect::None);
        }
        Some(Action::Suspend) => return Ok(Effect::Suspend),
        Some(Action::Redraw) => return Ok(Effect::Redraw),
        _ => {}
    }
    // Behind "terminal too small" nothing acts but quitting.
    if super::view::too_small(app.size) {
        if app.keymap.action_in(app.mode.keys(), &ev).or(app.keymap.action_for(&ev)) == Some(Action::Quit) {
            app.quit = true;
        }
        return Ok(Effect::None);
    }
    let mode = std::mem::replace(&mut app.mode, Mode::Normal);
    let action = app.keymap.action_in(mode.keys(), &ev);
    match mode {
        Mode::Normal => {
            app.message = None;
            if let Some(a) = action {
                update(app, a)?;
            }
        }
        Mode::Edit(ed) => modes::editor::handle_key(app, ed, action, ev)?,
        Mode::FieldPicker { key, fields, cursor } => modes::editor::handle_picker(app, key, fields, cursor, action)?,
        Mode::Confirm { prompt, then } => modes::confirm::handle_confirm(app, prompt, then, action)?,
        Mode::Notice { title, lines } => modes::confirm::handle_notice(app, title, lines, action),
        Mode::Weekly(w) => modes::weekly::handle_key(app, w, action, ev)?,
        Mode::AddForm(f) => modes::add_form::handle_key(app, f, action, ev)?,
        Mode::Meeting(m) => modes::meeting::handle_key(app, m, action, ev)?,
        Mode::Prompt { purpose, input, error } => modes::prompt::handle_key(app, purpose, input, error, action, ev)?,
        Mode::Palette { input, cursor } => modes::palette::handle_key(app, input, cursor, action, ev)?,
        Mode::Stale(s) => modes::stale::handle_key(app, s, action)?,
        Mode::Reader(r) => modes::reader::handle_key(app, r, action),
        Mode::Help { scroll, back } => modes::help::handle_key(app, scroll, back, action),
    }
    Ok(Effect::None)
}

/// Text pasted into the terminal (bracketed paste): into the field being typed in, whole.
/// Nothing of it runs as keys; outside a field it is ignored, and said so.
pub fn handle_paste(app: &mut App, text: &str) {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let multi_line = match &app.mode {
        Mode::Edit(ed) => ed.multi_line(),
        Mode::Weekly(w) => w.field == modes::weekly::NARRATIVE,
        _ => false,
    };
    match app.mode.text_field() {
        Some(field) => {
            // One-line fields take the lines joined by spaces.
            let text = if multi_line { text } else { text.split('\n').map(str::trim_end).collect::<Vec<_>>().join(" ") };
            field.insert_str(text.trim_end_matches('\n'));
            // A pasted number may change whether the narrative is required.
            if matches!(app.mode, Mode::Weekly(_)) {
                if let Mode::Weekly(mut w) = std::mem::replace(&mut app.mode, Mode::Normal) {
                    modes::weekly::recheck_narrative(app, &mut w);
                    app.mode = Mode::Weekly(w);
                }
            }
        }
        None => app.warn("pasted text ignored: open a field first (a, f, w, e, / …)"),
    }
}

pub fn detail_key(app: &mut App) -> Option<ItemKey> {
    let key = app.detail.target.clone();
    if key.is_none() {
        app.warn("select an item first");
    }
    key
}
