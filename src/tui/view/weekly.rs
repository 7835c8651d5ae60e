//! The weekly update screen: the due list on the left, the form for the current item on the right.

use super::super::action::Action;
use super::super::app::{App, Mode};
use super::super::keymap::KeyMode;
use super::super::theme::rag_symbol;
use super::super::weekly::{FIELDS, NARRATIVE};
use super::fit;
use crate::domain::Num;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Mode::Weekly(w) = app.mode.base() else { return };
    frame.render_widget(Clear, area);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(if area.width < 100 { 34 } else { 30 }), Constraint::Min(30)])
        .split(area);
    let t = &app.theme;
    let list: Vec<Line> = w
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mark = match (i == w.index, w.outcomes[i]) {
                (true, _) => "▸",
                (_, Some(true)) => "✓",
                (_, Some(false)) => "→",
                _ => " ",
            };
            // The item being typed follows the numbers as typed.
            let needs = if i == w.index { w.narrative_rule.is_some() } else { it.needs_narrative };
            let flag = if needs { "!" } else { " " };
            let style = if i == w.index { t.selected(true) } else { ratatui::style::Style::default() };
            Line::from(Span::styled(
                format!("{mark}{flag}{:<6} {}", it.key, fit(&it.title, cols[0].width.saturating_sub(12) as usize)),
                style,
            ))
        })
        .collect();
    let title = format!(" my updates — {} due ", w.items.len());
    frame.render_widget(
        Paragraph::new(list).block(Block::default().borders(Borders::ALL).title(Span::styled(title, t.title(true)))),
        cols[0],
    );

    // How to leave comes first, so it shows however narrow the form.
    let keys = super::footer::title_keys(
        app,
        KeyMode::Weekly,
        &[(Action::Leave, "leaves"), (Action::Save, "saves and moves on"), (Action::Skip, "skips"), (Action::Help, "all keys")],
    );
    let block = Block::default().borders(Borders::ALL).title(Span::styled(format!(" {keys} "), t.title(true)));
    let inner = block.inner(cols[1]);
    frame.render_widget(block, cols[1]);
    let Some(item) = w.current() else { return };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{} ", item.key), t.key()),
        Span::styled(fit(&item.title, (inner.width as usize).saturating_sub(item.key.len() + 1)), t.title(true)),
    ])];
    if let Some(d) = &w.detail {
        let s = &d.status;
        let mut status = vec![Span::styled(format!("{} {}", rag_symbol(s.rag), s.rag.label()), t.rag(s.rag))];
        if let Some(e) = &d.escalation {
            let room = (inner.width as usize).saturating_sub(super::width_of(&format!("{} {}", rag_symbol(s.rag), s.rag.label())));
            status.push(Span::styled(fit(&format!("   escalated: {} — {}", e.tier_label, e.reason), room), t.tier(e.tier)));
        }
        lines.push(Line::from(status));
        let recent: Vec<String> = d
            .values
            .iter()
            .filter(|v| v.actual.is_some())
            .rev()
            .take(4)
            .map(|v| {
                format!(
                    "{} {}/{}",
                    v.period,
                    v.actual.map(|a| a.grouped()).unwrap_or_default(),
                    v.planned.map(|p: Num| p.grouped()).unwrap_or("—".into())
                )
            })
            .collect();
        if !recent.is_empty() {
            lines.push(Line::from(Span::styled(fit(&format!("recent actual/plan: {}", recent.join("  ")), inner.width as usize), t.dim())));
        }
        if let Some(m) = d.milestones.iter().find(|m| m.done.is_none()) {
            // The date shows whole; the title gives way.
            let room = (inner.width as usize).saturating_sub(super::width_of(&format!("next milestone:  due {}", m.due)));
            lines.push(Line::from(Span::styled(format!("next milestone: {} due {}", fit(&m.title, room.max(8)), m.due), t.dim())));
        }
    }
    if let Some(prev) = &w.previous {
        let text = format!("last narrative (reference): {}", prev.replace('\n', " / "));
        lines.push(Line::from(Span::styled(fit(&text, inner.width as usize), t.dim())));
    }
    frame.render_widget(Paragraph::new(lines.clone()), Rect { height: lines.len() as u16, ..inner });
    let mut y = inner.y + lines.len() as u16;
    // Whether this period's narrative is required follows the numbers as typed; the rule's
    // words wrap (up to three lines) rather than lose their end.
    let rule = match &w.narrative_rule {
        Some(why) => Span::styled(format!("narrative required: {why}"), t.error()),
        None => Span::styled("narrative optional: the numbers as typed leave the item neither red nor escalated", t.dim()),
    };
    let width = inner.width.max(1) as usize;
    let rows = (rule.width().div_ceil(width) as u16).clamp(1, 3).min((inner.y + inner.height).saturating_sub(y));
    frame.render_widget(Paragraph::new(Line::from(rule)).wrap(Wrap { trim: true }), Rect { y, height: rows, ..inner });
    y += rows + 1;
    for (i, name) in FIELDS.iter().enumerate() {
        if y + 1 >= inner.y + inner.height {
            break;
        }
        let focused = i == w.field;
        let label = Span::styled(format!("{:>11} ", name), if focused { t.key() } else { t.dim() });
        frame.render_widget(Paragraph::new(Line::from(label)), Rect { x: inner.x, y, width: 12, height: 1 });
        // The narrative grows to four lines as it is written.
        let room = (inner.y + inner.height).saturating_sub(y + 1).max(1);
        let height = if i == NARRATIVE { (w.inputs[i].lines().len() as u16).clamp(1, 4).min(room) } else { 1 };
        let r = Rect { x: inner.x + 12, y, width: inner.width.saturating_sub(12), height };
        frame.render_widget(&w.inputs[i], r);
        if focused {
            frame.render_widget(
                Paragraph::new("◂").style(t.key()),
                Rect { x: inner.x + inner.width.saturating_sub(1), y, width: 1, height: 1 },
            );
        }
        y += height + 1;
    }
    if let Some(err) = &w.error {
        let r = Rect { x: inner.x, y, width: inner.width, height: inner.height.saturating_sub(y - inner.y) };
        frame.render_widget(Paragraph::new(Span::styled(format!("✖ {err}"), t.error())).wrap(Wrap { trim: true }), r);
    }
}
