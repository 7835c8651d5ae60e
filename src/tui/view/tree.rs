//! The tree pane: objectives → key results → measures and KPIs, or the execution hierarchy.

use super::super::app::{App, Pane, RowKind};
use super::super::theme::{impl_symbol, rag_symbol, tier_symbol};
use crate::store::outline::TreeView;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let title = match (app.tree.filter, app.tree.view) {
        (Some(f), _) if app.tree.filter_loading && app.tree.rows.is_empty() => format!("{} items (reading…)", f.label()),
        (Some(f), _) => format!("{} items ({})", f.label(), app.tree.rows.len()),
        (None, TreeView::Objectives) => "objectives".to_string(),
        (None, TreeView::Execution) => "execution hierarchy".to_string(),
    };
    let block = super::block(app, Pane::Tree, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // prepare_frame kept the cursor in view and asked for these rows' statuses; build only them.
    let height = inner.height as usize;
    let offset = app.tree.offset;
    let width = inner.width as usize;
    let mut lines = Vec::with_capacity(height);
    if app.tree.rows.is_empty() {
        lines.push(Line::from(Span::styled(
            if app.tree.filter_loading {
                "reading…"
            } else if app.tree.filter.is_some() {
                "nothing matches this filter — Esc clears it"
            } else {
                "no items yet — import a plan with `keel import`"
            },
            app.theme.dim(),
        )));
    }
    for (i, row) in app.tree.rows.iter().enumerate().skip(offset).take(height) {
        let indent = "  ".repeat(row.depth);
        let item = match &row.kind {
            RowKind::Heading(label) => {
                lines.push(Line::from(Span::styled(format!("{indent}  ─ {label}"), app.theme.dim())));
                continue;
            }
            RowKind::Item { item, .. } => item,
        };
        let marker = if item.has_children {
            if row.expanded() {
                "▾"
            } else {
                "▸"
            }
        } else {
            " "
        };
        let status = app.tree.statuses.get(&item.key);
        let (sym, sym_style) = match status {
            Some(s) => (rag_symbol(s.rag), app.theme.rag(s.rag)),
            // Still being computed by a reader (a large subtree): drawn as soon as it arrives.
            None if app.status_pending(&item.key) => ("…", app.theme.dim()),
            None => (" ", app.theme.dim()),
        };
        let mut right = String::new();
        if let Some(s) = status {
            if let Some(t) = s.tier {
                right.push_str(tier_symbol(t).trim_end());
                right.push(' ');
            }
            if s.flagged {
                right.push_str("⚑ ");
            }
            if let Some(l) = s.implementation {
                if l != crate::domain::status::ImplLevel::OnTrack {
                    right.push_str(impl_symbol(l));
                    right.push(' ');
                }
            }
            if let Some(side) = s.side_state {
                right.push_str(match side {
                    crate::domain::SideState::OnHold => "hold ",
                    crate::domain::SideState::Cancelled => "cxl ",
                });
            }
            if let Some(stage) = s.stage {
                right.push_str(stage.short());
            } else if let Some(p) = s.progress {
                right.push_str(&format!("{:>3}%", (p.round_dp(2).inner() * rust_decimal::Decimal::from(100)).round()));
            }
        }
        let left_fixed = indent.chars().count() + 2 + 2 + item.key.len() + 1;
        let title_width = width.saturating_sub(left_fixed + super::width_of(&right) + 1);
        let title = super::fit(&item.title, title_width);
        let pad = title_width.saturating_sub(super::width_of(&title));
        let selected = i == app.tree.cursor;
        let base = if selected { app.theme.selected(app.focus == Pane::Tree) } else { ratatui::style::Style::default() };
        lines.push(Line::from(vec![
            Span::styled(format!("{indent}{marker} "), base),
            Span::styled(format!("{sym} "), if selected { base } else { sym_style }),
            Span::styled(format!("{} ", item.key), if selected { base } else { app.theme.key() }),
            Span::styled(format!("{title}{} ", " ".repeat(pad)), base),
            Span::styled(right, base),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
