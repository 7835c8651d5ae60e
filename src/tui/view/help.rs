//! The help overlay, generated from the live keymap: the keys of the mode it was opened from
//! first, then every other mode's, so it always shows the keys that work.

use super::super::app::{App, Mode};
use super::super::keymap::KeyMode;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

fn section(app: &App, mode: KeyMode, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(Span::styled(format!(" ── {} ", mode.title()), app.theme.title(true))));
    for a in app.keymap.actions_in(mode) {
        let keys = app.keymap.keys_in(mode, a).join(" ");
        out.push(Line::from(vec![Span::styled(format!(" {keys:<14}"), app.theme.key()), Span::raw(format!(" {}", a.help()))]));
    }
}

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let first = app.mode.base().keys();
    let mut out = Vec::new();
    section(app, first, &mut out);
    for m in KeyMode::ALL.into_iter().filter(|m| *m != first && *m != KeyMode::Help) {
        out.push(Line::from(""));
        section(app, m, &mut out);
    }
    out.push(Line::from(""));
    out.push(Line::from(" Symbols: ● green  ▲ amber  ■ red  ? stale  · no data   ⏱ late  ⚠ critical   ! !! !!! escalation tier"));
    out.push(Line::from("          ⚑ green without explanation   ✓ acknowledged   ◆ marked   → assigned   z snoozed   D decided"));
    out.push(Line::from(" Editing: Enter saves through the same rules as `keel set`; Esc cancels; Ctrl-R reloads after a conflict."));
    out
}

pub fn line_count(app: &App) -> usize {
    lines(app).len()
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let scroll = match app.mode {
        Mode::Help { scroll, .. } => scroll,
        _ => 0,
    };
    let r = super::centered(area, area.width.saturating_sub(4).min(120), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let title = format!(" keys — {} first; j/k scroll, Esc closes ", app.mode.base().keys().title());
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, app.theme.title(true)));
    // Never scroll past the last line.
    let body = lines(app);
    let max = (body.len() as u16).saturating_sub(r.height.saturating_sub(2));
    frame.render_widget(Paragraph::new(body).block(block).wrap(Wrap { trim: false }).scroll((scroll.min(max), 0)), r);
}
