//! The help overlay, generated from the live keymap so it always shows the keys that work.

use super::super::action::Action;
use super::super::app::{App, Mode};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for a in Action::ALL {
        let keys = app.keymap.keys_for(*a).join(" ");
        out.push(Line::from(vec![Span::styled(format!(" {keys:<14}"), app.theme.key()), Span::raw(format!(" {}", a.help()))]));
    }
    out.push(Line::from(""));
    out.push(Line::from(" Symbols: ● green  ▲ amber  ■ red  ? stale  · no data   ⏱ late  ⚠ critical   ! !! !!! escalation tier   ⚑ green without explanation"));
    out.push(Line::from(" Editing: Enter saves through the same rules as `keel set`; Esc cancels; Ctrl-R reloads after a conflict."));
    out
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let scroll = match app.mode {
        Mode::Help { scroll } => scroll,
        _ => 0,
    };
    let r = super::centered(area, area.width.saturating_sub(4).min(110), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(" keys — j/k scroll, Esc closes ", app.theme.title(true)));
    // Never scroll past the last line.
    let body = lines(app);
    let max = (body.len() as u16).saturating_sub(r.height.saturating_sub(2));
    frame.render_widget(Paragraph::new(body).block(block).scroll((scroll.min(max), 0)), r);
}
