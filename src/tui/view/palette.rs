//! The command palette: every action by name, with completion.

use super::super::app::{App, Mode};
use super::super::update::palette_matches;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Mode::Palette { input, cursor } = &app.mode else { return };
    let matches = palette_matches(&input.lines().join(""));
    let height = (matches.len() as u16 + 3).clamp(5, area.height.saturating_sub(4));
    let r = super::centered(area, area.width.saturating_sub(8).min(80), height);
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" : command — Tab completes, Enter runs, Esc closes ", app.theme.title(true)));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    frame.render_widget(input, Rect { height: 1, ..inner });
    let visible = inner.height.saturating_sub(1) as usize;
    let start = cursor.saturating_sub(visible.saturating_sub(1));
    let lines: Vec<Line> = matches
        .iter()
        .enumerate()
        .skip(start)
        .take(visible)
        .map(|(i, a)| {
            let style = if i == *cursor { app.theme.selected(true) } else { ratatui::style::Style::default() };
            Line::from(vec![
                Span::styled(format!(" {:<18}", a.name()), style),
                Span::styled(format!(" {:<8}", app.keymap.first_key(*a)), app.theme.key()),
                Span::styled(format!(" {}", a.help()), app.theme.dim()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner });
}
