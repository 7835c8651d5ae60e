//! The message line and the key bar, built from the live keymap for the mode on screen.

use super::super::action::Action;
use super::super::app::{App, Mode, Pane};
use super::super::keymap::KeyMode;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;
use ratatui_textarea::TextArea;

/// The actions the key bar names in a mode, with their short labels.
fn bar_actions(app: &App, mode: &Mode) -> Vec<(Action, &'static str)> {
    match mode {
        Mode::Normal => {
            let mut actions: Vec<(Action, &'static str)> = vec![(Action::Help, "help")];
            match app.focus {
                // Triage keys in the list's own bar: search and the tree's view act on the tree,
                // and at 80 columns they would push the filter off the line.
                Pane::Variance => actions.extend([
                    (Action::Enter, "jump"),
                    (Action::Acknowledge, "ack"),
                    (Action::CycleTier, "tier"),
                    (Action::VarianceFilter, "filter"),
                ]),
                // The retired filter: what can be done with a retired item.
                _ if app.tree.filter == Some(crate::store::outline::Filter::Retired) => {
                    actions.extend([(Action::RetireItem, "bring back"), (Action::FilterRetired, "all items"), (Action::Search, "search")])
                }
                _ => actions.extend([
                    (Action::Search, "search"),
                    (Action::EditActual, "actual"),
                    (Action::EditForecast, "forecast"),
                    (Action::EditNarrative, "narrative"),
                    (Action::GateRequest, "gate"),
                    (Action::ToggleView, "view"),
                ]),
            }
            actions.extend([(Action::NextPane, "pane"), (Action::Palette, "cmd"), (Action::Quit, "quit")]);
            actions
        }
        Mode::Edit(ed) => {
            let mut a = vec![(Action::Save, "save"), (Action::Cancel, "cancel"), (Action::ClearField, "clear")];
            if ed.multi_line() {
                a.push((Action::NewLine, "new line"));
            }
            if ed.conflict {
                a.push((Action::Reload, "reload"));
            }
            a
        }
        Mode::FieldPicker { .. } => vec![(Action::Down, "down"), (Action::Up, "up"), (Action::Save, "edit"), (Action::Cancel, "cancel")],
        Mode::Confirm { .. } => vec![(Action::Yes, "yes"), (Action::No, "no")],
        Mode::Palette { .. } => vec![(Action::Complete, "complete"), (Action::Enter, "run"), (Action::Cancel, "close")],
        Mode::Prompt { .. } => vec![(Action::Save, "answer"), (Action::Cancel, "cancel"), (Action::ClearField, "clear")],
        Mode::AddForm(_) => {
            vec![(Action::Save, "add"), (Action::NextField, "field"), (Action::PrevField, "field"), (Action::Leave, "cancel")]
        }
        Mode::Weekly(w) => {
            let mut a =
                vec![(Action::Save, "save & next"), (Action::Skip, "skip"), (Action::NextField, "field"), (Action::PrevField, "field")];
            if w.field == super::super::modes::weekly::NARRATIVE {
                a.push((Action::NewLine, "new line"));
            }
            a.extend([
                (Action::MilestoneDone, "milestone done"),
                (Action::GateRequest, "gate"),
                (Action::Leave, "leave"),
                (Action::Help, "help"),
            ]);
            a
        }
        Mode::Meeting(m) if m.input.is_some() => vec![(Action::Save, "record"), (Action::Cancel, "cancel"), (Action::ClearField, "clear")],
        Mode::Meeting(m) => match m.screen {
            super::super::modes::meeting::Screen::Summary => vec![(Action::EndMeeting, "close")],
            super::super::modes::meeting::Screen::Changes => {
                vec![(Action::Changes, "back to the item"), (Action::Down, "scroll"), (Action::EndMeeting, "end the meeting")]
            }
            super::super::modes::meeting::Screen::Item => vec![
                (Action::NextItem, "next"),
                (Action::PrevItem, "previous"),
                (Action::Decide, "decide"),
                (Action::Changes, "what changed since the last check-in"),
                (Action::ShowInTree, "show in tree"),
                (Action::Down, "scroll"),
                (Action::EndMeeting, "end the meeting"),
                (Action::Help, "help"),
            ],
        },
        Mode::Stale(_) => vec![(Action::Enter, "jump to the item"), (Action::Down, "down"), (Action::Up, "up"), (Action::Close, "close")],
        Mode::Notice { .. } => vec![(Action::Close, "close"), (Action::Down, "scroll")],
        Mode::Reader(_) => vec![(Action::Down, "scroll"), (Action::PageDown, "page"), (Action::Close, "close")],
        Mode::Help { .. } => vec![(Action::Down, "scroll"), (Action::Close, "close")],
    }
}

/// The key bar of the mode on screen: each key as the keymap spells it, and what it does.
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    let mode = &app.mode;
    let keys = mode.keys();
    bar_actions(app, mode).into_iter().map(|(a, label)| (app.keymap.first_key_in(keys, a), label)).collect()
}

pub fn spans(app: &App) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (key, label) in hints(app) {
        spans.push(Span::styled(format!(" {key}"), app.theme.key()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    spans
}

/// The key bar, whole keys only: what does not fit ends in "…" (help has them all).
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    frame.render_widget(Clear, area);
    let all = spans(app);
    let width = area.width as usize;
    let mut shown = Vec::new();
    let mut used = 0;
    for pair in all.chunks(2) {
        let w: usize = pair.iter().map(|s| s.width()).sum();
        if used + w > width.saturating_sub(1) && shown.len() < all.len() {
            shown.push(Span::styled("…", app.theme.dim()));
            break;
        }
        used += w;
        shown.extend(pair.iter().cloned());
    }
    frame.render_widget(Paragraph::new(Line::from(shown)), area);
}

pub fn message(frame: &mut Frame, app: &App, area: Rect) {
    frame.render_widget(Clear, area);
    if let Some((text, warn)) = app.standing_message() {
        let (glyph, style) = if warn { ("✖ ", app.theme.error()) } else { ("", app.theme.key()) };
        let text = super::fit(&format!(" {glyph}{text}"), area.width as usize);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
    }
}

/// A question on the message line (its refusal beside it), and the answer typed on the key
/// line with the prompt's keys at its right. Both lines are cleared first.
pub fn draw_prompt(frame: &mut Frame, app: &App, question: &str, error: Option<&str>, input: &TextArea, lines: [Rect; 2]) {
    let [ask, answer] = lines;
    frame.render_widget(Clear, ask);
    frame.render_widget(Clear, answer);
    // A refusal first, so a narrow terminal cuts the question rather than the reason.
    let mut q = Vec::new();
    if let Some(e) = error {
        q.push(Span::styled(format!(" ✖ {e} —"), app.theme.error()));
    }
    q.push(Span::styled(format!(" {question}"), app.theme.key()));
    frame.render_widget(Paragraph::new(Line::from(q)), ask);
    let keys = Line::from(spans(app));
    let keys_w = (keys.width() as u16).min(answer.width / 2);
    let field = Rect { width: answer.width.saturating_sub(keys_w), ..answer };
    draw_input(frame, app, field, ">", input);
    frame.render_widget(Paragraph::new(keys), Rect { x: answer.x + field.width, width: keys_w, ..answer });
}

pub fn draw_input(frame: &mut Frame, app: &App, area: Rect, prompt: &str, input: &TextArea) {
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(Span::styled(prompt.to_string(), app.theme.key())), Rect { width: 2, ..area });
    frame.render_widget(input, Rect { x: area.x + 2, width: area.width.saturating_sub(2), ..area });
}

/// The keys named in a title: "Enter saves · Esc cancels", from the keymap.
pub fn title_keys(app: &App, mode: KeyMode, items: &[(Action, &str)]) -> String {
    items.iter().map(|(a, what)| format!("{} {what}", app.keymap.first_key_in(mode, *a))).collect::<Vec<_>>().join(" · ")
}
