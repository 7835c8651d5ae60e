//! The variance list: open escalations by tier, then by size of gap.

use super::super::app::{App, Pane};
use super::super::theme::tier_symbol;
use crate::io::text::truncate;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let f = &app.variance.filter;
    let mut title = format!("variance — {} open", app.variance.list.len());
    if let Some(t) = f.tier {
        title.push_str(&format!(", {} only", t.label()));
    }
    if f.owner_login.is_some() {
        title.push_str(", mine");
    }
    let block = super::block(app, Pane::Variance, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let width = inner.width as usize;
    // Columns: tier, key, title, owner, variance, periods out, due.
    let fixed = 4 + 18 + 9 + 9 + 4 + 8;
    let flexible = width.saturating_sub(fixed + 6);
    let title_w = (flexible * 3 / 5).max(8);
    let owner_w = flexible.saturating_sub(title_w).max(6);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<4}{:<18} {:<8} {:<tw$} {:<ow$} {:>8} {:>3} {:<7}",
            "",
            "tier",
            "key",
            "title",
            "owner",
            "variance",
            "out",
            "due",
            tw = title_w,
            ow = owner_w
        ),
        app.theme.dim(),
    ))];
    if app.variance.list.is_empty() {
        lines.push(Line::from(Span::styled("no open escalations", app.theme.dim())));
    }
    let offset = app.variance.cursor.saturating_sub(height.saturating_sub(1));
    for (i, e) in app.variance.list.visible(offset, height) {
        let selected = i == app.variance.cursor;
        let base = if selected { app.theme.selected(app.focus == Pane::Variance) } else { ratatui::style::Style::default() };
        let var = e.relative.map(crate::domain::escalation::relative_percent).unwrap_or_else(|| e.gap.grouped());
        let due = if e.overdue { "OVERDUE".to_string() } else { e.due_at.get(5..10).unwrap_or("").to_string() };
        let ack = if app.variance.marked.contains(&e.id) {
            "◆"
        } else if e.acknowledged_by.is_some() {
            "✓"
        } else {
            " "
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{}{ack}", tier_symbol(e.tier)), if selected { base } else { app.theme.tier(e.tier) }),
            Span::styled(format!("{:<18} ", e.tier_label), if selected { base } else { app.theme.tier(e.tier) }),
            Span::styled(format!("{:<8} ", e.key), if selected { base } else { app.theme.key() }),
            Span::styled(
                format!(
                    "{:<tw$} {:<ow$} {:>8} {:>3} {:<7}",
                    truncate(&e.title, title_w),
                    truncate(e.owner.as_deref().unwrap_or("—"), owner_w),
                    var,
                    e.periods_out,
                    due,
                    tw = title_w,
                    ow = owner_w
                ),
                base,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
