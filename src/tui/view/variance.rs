//! The variance list: open escalations by tier, then by size of gap.

use super::super::app::{App, Pane};
use super::super::theme::tier_symbol;
use crate::store::read::EscalationRow;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let f = &app.variance.filter;
    // Without the server the list is what was last read: say so rather than count it.
    let mut title = match &app.server_lost {
        Some(_) => "variance — the server cannot be reached: what was last read".to_string(),
        None => format!("variance — {} open", app.variance.list.len()),
    };
    if let Some(t) = f.tier {
        title.push_str(&format!(", {} only", t.label()));
    }
    match &f.owner_login {
        Some(l) if *l == app.store.actor.login => title.push_str(", mine"),
        Some(l) => title.push_str(&format!(", owner {l}")),
        None => {}
    }
    if let Some(u) = &f.unit {
        title.push_str(&format!(", unit {u}"));
    }
    if !app.variance.marked.is_empty() {
        title.push_str(&format!(", {} marked", app.variance.marked.len()));
    }
    if !app.variance.list.is_empty() {
        title.push_str(&format!(" · row {} of {}", app.variance.cursor + 1, app.variance.list.len()));
    }
    let block = super::block(app, Pane::Variance, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let width = inner.width as usize;
    // Columns: tier, key, title, owner, triage (ack, assignee, snooze, decision), variance,
    // periods out, due.
    let state_w = if width >= 110 { 18 } else { 10 };
    // Narrow: the tier's symbol (!!! !! !) says it without its words.
    let tier_w = if width >= 100 { 19 } else { 0 };
    let fixed = 4 + tier_w + 9 + 9 + 4 + 8 + state_w + 1;
    let flexible = width.saturating_sub(fixed + 6);
    let title_w = (flexible * 3 / 5).max(8);
    let owner_w = flexible.saturating_sub(title_w).max(6);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<4}{:<tiw$}{:<8} {:<tw$} {:<ow$} {:<sw$} {:>8} {:>3} {:<7}",
            "",
            if tier_w > 0 { "tier" } else { "" },
            "key",
            "title",
            "owner",
            "triage",
            "variance",
            "out",
            "due",
            tw = title_w,
            ow = owner_w,
            sw = state_w,
            tiw = tier_w
        ),
        app.theme.dim(),
    ))];
    if app.variance.list.is_empty() {
        let hidden = f.tier.is_some() || f.owner_login.is_some() || f.unit.is_some();
        let text = if hidden {
            format!(
                "no open escalations match this filter — {}, {} and {} change it",
                app.keymap.first_key(super::super::action::Action::CycleTier),
                app.keymap.first_key(super::super::action::Action::VarianceMine),
                app.keymap.first_key(super::super::action::Action::VarianceFilter)
            )
        } else {
            "no open escalations".to_string()
        };
        lines.push(Line::from(Span::styled(text, app.theme.dim())));
    }
    let offset = app.variance.cursor.saturating_sub(height.saturating_sub(1));
    for (i, e) in app.variance.list.visible(offset, height) {
        let selected = i == app.variance.cursor;
        let base = if selected { app.theme.selected(app.focus == Pane::Variance) } else { ratatui::style::Style::default() };
        let var = e.relative.map(crate::domain::escalation::relative_percent).unwrap_or_else(|| e.gap.grouped());
        let due = if e.overdue { "OVERDUE".to_string() } else { e.due_at.get(5..10).unwrap_or("").to_string() };
        let ack = if app.variance.marked.contains(&e.id) { "◆" } else { " " };
        lines.push(Line::from(vec![
            Span::styled(format!("{}{ack}", tier_symbol(e.tier)), if selected { base } else { app.theme.tier(e.tier) }),
            Span::styled(
                if tier_w > 0 { format!("{:<18} ", e.tier_label) } else { String::new() },
                if selected { base } else { app.theme.tier(e.tier) },
            ),
            Span::styled(format!("{:<8} ", e.key), if selected { base } else { app.theme.key() }),
            Span::styled(
                format!(
                    "{} {} {} {:>8} {:>3} {:<7}",
                    super::fit_pad(&e.title, title_w),
                    super::fit_pad(e.owner.as_deref().unwrap_or("—"), owner_w),
                    super::fit_pad(&triage_state(e), state_w),
                    var,
                    e.periods_out,
                    due,
                ),
                base,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// What triage has done to an escalation, compactly: "✓" acknowledged, "→P-3" assigned,
/// "z12-04" snoozed until, "D" decided (help explains the symbols).
pub fn triage_state(e: &EscalationRow) -> String {
    let mut parts = Vec::new();
    if e.acknowledged_by.is_some() {
        parts.push("✓".to_string());
    }
    if let Some(a) = &e.assignee {
        parts.push(format!("→{}", a.split_whitespace().next().unwrap_or(a)));
    }
    if let Some(z) = &e.snoozed_until {
        parts.push(format!("z{}", z.get(5..10).unwrap_or(z)));
    }
    if e.decision.is_some() {
        parts.push("D".to_string());
    }
    parts.join(" ")
}
