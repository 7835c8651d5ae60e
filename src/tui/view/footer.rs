//! The message line and the one-line key hints, built from the live keymap.

use super::super::action::Action;
use super::super::app::{App, Pane};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use ratatui_textarea::TextArea;

pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    let mut actions: Vec<(Action, &'static str)> = vec![(Action::Help, "help"), (Action::Search, "search")];
    match app.focus {
        Pane::Variance => actions.extend([(Action::Enter, "jump"), (Action::Acknowledge, "ack"), (Action::CycleTier, "tier")]),
        _ => actions.extend([
            (Action::EditActual, "actual"),
            (Action::EditForecast, "forecast"),
            (Action::EditNarrative, "narrative"),
            (Action::GateRequest, "gate"),
        ]),
    }
    actions.extend([(Action::ToggleView, "view"), (Action::NextPane, "pane"), (Action::Palette, "cmd"), (Action::Quit, "quit")]);
    actions.into_iter().map(|(a, label)| (app.keymap.first_key(a), label)).collect()
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = Vec::new();
    for (key, label) in hints(app) {
        spans.push(Span::styled(format!(" {key}"), app.theme.key()));
        spans.push(Span::raw(format!(" {label} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn message(frame: &mut Frame, app: &App, area: Rect) {
    if let Some((text, warn)) = app.standing_message() {
        let style = if warn { app.theme.error() } else { app.theme.key() };
        frame.render_widget(Paragraph::new(Span::styled(format!(" {text}"), style)), area);
    }
}

pub fn draw_input(frame: &mut Frame, app: &App, area: Rect, prompt: &str, input: &TextArea) {
    frame.render_widget(Paragraph::new(Span::styled(prompt.to_string(), app.theme.key())), Rect { width: 2, ..area });
    frame.render_widget(input, Rect { x: area.x + 2, width: area.width.saturating_sub(2), ..area });
}
