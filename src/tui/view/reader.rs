//! The reader: an item's text fields whole, wrapped, in a popup that scrolls.

use super::super::app::App;
use super::super::modes::reader::Reader;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Where the reader is drawn on a screen of size `area`.
pub fn area_of(area: Rect) -> Rect {
    super::centered(area, area.width.saturating_sub(4).min(110), area.height.saturating_sub(2))
}

fn lines(app: &App, r: &Reader) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if r.parts.is_empty() {
        out.push(Line::from(Span::styled("no text to read: every field is empty", app.theme.dim())));
    }
    for (heading, text) in &r.parts {
        out.push(Line::from(Span::styled(format!("── {heading}"), app.theme.key())));
        for l in text.split('\n') {
            out.push(Line::from(l.to_string()));
        }
        out.push(Line::from(""));
    }
    out
}

/// How far the text can scroll in a reader drawn at `area` (it stops at its last line).
pub fn max_scroll(app: &App, r: &Reader, area: Rect) -> u16 {
    let inner = area_of(area);
    let (width, height) = (inner.width.saturating_sub(2).max(1) as usize, inner.height.saturating_sub(2) as usize);
    let rows: usize = lines(app, r).iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    rows.saturating_sub(height) as u16
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect, r: &Reader) {
    let rect = area_of(area);
    frame.render_widget(Clear, rect);
    let keys = super::footer::title_keys(
        app,
        super::super::keymap::KeyMode::Reader,
        &[(super::super::action::Action::Close, "closes"), (super::super::action::Action::Down, "scrolls")],
    );
    let title = super::fit(&format!(" {} — {keys} ", r.title), rect.width.saturating_sub(2) as usize);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, app.theme.title(true)));
    frame
        .render_widget(Paragraph::new(lines(app, r)).block(block).wrap(Wrap { trim: false }).scroll((r.scroll.min(r.max_scroll), 0)), rect);
}
