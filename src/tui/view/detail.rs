//! The detail pane: every field of the selected item, grouped, its two statuses side by side,
//! recent values with a trend, the next gate's gaps, links, escalation and recent changes.

use super::super::app::{App, Mode, Pane};
use super::super::theme::{impl_symbol, rag_symbol};
use super::fit as truncate;
use crate::domain::text_check::printable;
use crate::domain::Num;
use crate::store::read::Detail;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

fn opt(n: Option<Num>) -> String {
    n.map(|x| x.grouped()).unwrap_or_else(|| "—".into())
}

/// A one-line trend of numbers with block characters (relative to their own range).
pub fn spark(values: &[Num]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() {
        return String::new();
    }
    let f: Vec<f64> = values.iter().map(|v| v.to_f64_for_chart()).collect();
    let (lo, hi) = f.iter().fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    f.iter().map(|x| if hi > lo { BARS[(((x - lo) / (hi - lo)) * 7.0).round() as usize] } else { BARS[3] }).collect()
}

fn section<'a>(app: &App, title: &str) -> Line<'a> {
    Line::from(Span::styled(format!("── {title} "), app.theme.title(false).add_modifier(Modifier::DIM)))
}

pub fn lines<'a>(app: &App, d: &Detail, width: usize) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut out: Vec<Line> = Vec::new();
    out.push(Line::from(vec![
        Span::styled(format!("{} ", d.key), t.key()),
        Span::styled(d.title.clone(), t.title(true)),
        Span::styled(format!("  ({}, v{})", d.kind, d.version), t.dim()),
    ]));
    if let Some(r) = &d.retired {
        // The day is enough on screen; `keel show` gives the moment.
        let day = r.at.get(..10).unwrap_or(&r.at);
        let by = r.by.as_deref().map(|b| format!(" by {}", printable(b))).unwrap_or_default();
        out.push(Line::from(Span::styled(format!("retired {day}{by}: {} (X brings it back)", printable(&r.reason)), t.banner())));
    }
    // Statuses, kept apart: implementation and potential side by side.
    let s = &d.status;
    let mut status = vec![Span::styled(format!("{} {}", rag_symbol(s.rag), s.rag.label()), t.rag(s.rag))];
    if let Some(m) = &d.measure {
        let l = m.implementation.level;
        status = vec![
            Span::raw("implementation "),
            Span::styled(format!("{} {}", impl_symbol(l), l.label()), t.implementation(l)),
            Span::raw("  │  potential "),
            Span::styled(format!("{} {}", rag_symbol(m.potential), m.potential.label()), t.rag(m.potential)),
        ];
    }
    if d.node_value.is_some() {
        status.insert(0, Span::raw("potential "));
    }
    if let Some(p) = s.progress {
        status.push(Span::raw(format!("  │  progress {}", p.percent())));
    }
    out.push(Line::from(status));
    // The tree shows one symbol for a measure: say which status it is and why, keeping
    // implementation and potential apart.
    if let Some(m) = &d.measure {
        let why = if s.rag == m.potential {
            "its potential".to_string()
        } else if let Some(e) = &d.escalation {
            format!(
                "potential {} {}, raised to {} by the open {}",
                rag_symbol(m.potential),
                m.potential.label(),
                s.rag.label(),
                e.tier_label
            )
        } else {
            format!("potential {} {}, with its stage and staleness", rag_symbol(m.potential), m.potential.label())
        };
        out.push(Line::from(vec![
            Span::styled("  in the tree: ", t.dim()),
            Span::styled(format!("{} {}", rag_symbol(s.rag), s.rag.label()), t.rag(s.rag)),
            Span::styled(format!(" — {why}"), t.dim()),
        ]));
    }
    if let Some(m) = &d.measure {
        if !m.implementation.detail.is_empty() {
            out.push(Line::from(Span::styled(format!("  {}", m.implementation.detail), t.implementation(m.implementation.level))));
        }
        if m.stale {
            out.push(Line::from(Span::styled(
                format!(
                    "  STALE: no update for {} days ({} cadence)",
                    m.days_since_update.map(|x| x.to_string()).unwrap_or("ever".into()),
                    m.cadence.as_str()
                ),
                t.rag(crate::domain::status::Rag::Stale),
            )));
        }
        out.push(Line::from(format!(
            "  net value: planned {}  forecast {}  actual {}  ({})",
            shown(m.shown_money.planned),
            shown(m.shown_money.forecast),
            shown(m.shown_money.actual),
            m.value_type
        )));
    }
    if s.flagged {
        out.push(Line::from(Span::styled("  ⚑ green set by hand over red or late work, with no explanation — write one (w)", t.error())));
    }
    if let Some(k) = &d.key_result {
        if let Some(score) = k.score {
            let held = score.held.map(|h| format!(", {h}")).unwrap_or_default();
            out.push(Line::from(format!(
                "  score {} ({}), raw {}{held}",
                score.grade.round_dp(2),
                score.zone.label(),
                score.raw.round_dp(2)
            )));
        }
        if !k.at_risk.is_empty() {
            out.push(Line::from(Span::styled(format!("  at risk: {}", k.at_risk.join(", ")), t.rag(crate::domain::status::Rag::Amber))));
        }
    }
    if let Some(k) = &d.kpi {
        out.push(Line::from(format!(
            "  {} KPI, {} is better: latest {} vs target {}",
            k.ipo_class,
            k.direction,
            opt(k.latest_actual),
            opt(k.target)
        )));
        if !k.missing.is_empty() {
            out.push(Line::from(Span::styled(
                format!("  incomplete: missing {}", k.missing.join(", ")),
                t.rag(crate::domain::status::Rag::Amber),
            )));
        }
    }
    if let Some(g) = &d.target_gap {
        out.push(Line::from(format!(
            "  top-down target {}  bottom-up {}  gap {}",
            g.target.grouped(),
            g.bottom_up.grouped(),
            g.gap.grouped()
        )));
    }
    if let Some(e) = &d.escalation {
        out.push(Line::from(vec![
            Span::styled(format!("  escalation #{}: {} ", e.id, e.tier_label), t.tier(e.tier)),
            Span::raw(format!("— {}; due {}{}", e.reason, &e.due_at[..10.min(e.due_at.len())], if e.overdue { " OVERDUE" } else { "" })),
        ]));
        // What triage has done, in words.
        if let Some(by) = &e.acknowledged_by {
            out.push(Line::from(format!("  acknowledged by {by}")));
        }
        match &e.assignee {
            Some(a) => out.push(Line::from(format!("  assigned to {a}"))),
            None => out.push(Line::from(format!("  not assigned: with the {}", e.assignee_role))),
        }
        if let Some(z) = &e.snoozed_until {
            out.push(Line::from(format!("  snoozed until {}", z.get(..10).unwrap_or(z))));
        }
        if let Some(d) = &e.decision {
            out.push(Line::from(format!("  decision: {d}")));
        }
    }
    if let Some(g) = &d.gate {
        out.push(section(app, "stage gate"));
        let side = g.side_state.map(|x| format!(" — {x}: {}", g.side_reason.clone().unwrap_or_default())).unwrap_or_default();
        out.push(Line::from(format!("  {} ({}){side}", g.stage, g.stage.short())));
        if let Some(p) = g.pending {
            out.push(Line::from(format!("  requested {p}: awaiting {}", g.awaiting.join(" and "))));
        } else if let Some(n) = g.next {
            if g.next_missing.is_empty() {
                out.push(Line::from(format!("  next: {n} — ready to request (r)")));
            } else {
                out.push(Line::from(format!("  next: {n} still needs:")));
                for m in &g.next_missing {
                    out.push(Line::from(format!("   • {m}")));
                }
            }
        }
    }
    if !d.values.is_empty() {
        out.push(section(app, "values"));
        // Columns narrow with the pane, so a row never wraps (80×24 leaves about 40 columns).
        let c = width.saturating_sub(13).div_ceil(3).saturating_sub(1).clamp(7, 12);
        out.push(Line::from(Span::styled(format!("  {:<9} {:>c$} {:>c$} {:>c$}", "period", "planned", "forecast", "actual"), t.dim())));
        let shown = d.values.len().saturating_sub(6);
        for v in &d.values[shown..] {
            out.push(Line::from(format!("  {:<9} {:>c$} {:>c$} {:>c$}", v.period, opt(v.planned), opt(v.forecast), opt(v.actual))));
        }
        let actuals: Vec<Num> = d.values.iter().filter_map(|v| v.actual).collect();
        if !actuals.is_empty() {
            out.push(Line::from(format!("  trend of actuals  {}", spark(&actuals))));
        }
    }
    signal_lines(app, d, width, &mut out);
    if !d.funnel.is_empty() {
        out.push(section(app, "value funnel (net)"));
        // Columns, not labels on every row, so the funnel fits a 40-column pane at 80×24.
        out.push(Line::from(Span::styled(format!("  {:<12} {:>12} {:>12}", "stage", "planned", "forecast"), t.dim())));
        for (stage, m) in d.funnel.iter().filter(|(_, m)| !m.is_zero()) {
            out.push(Line::from(format!("  {:<12} {:>12} {:>12}", stage.as_str(), m.planned.grouped(), m.forecast.grouped())));
        }
        // The total is what the node's potential status judges.
        if let Some(v) = &d.node_value {
            out.push(Line::from(Span::styled(
                format!("  {:<12} {:>12} {:>12}", "total", v.planned.grouped(), v.forecast.grouped()),
                t.rag(d.status.rag),
            )));
        }
    }
    let mut group = "";
    let mut cut = false;
    for f in &d.fields {
        if f.group != group {
            group = f.group;
            out.push(section(app, group));
        }
        // Numbers read as numbers everywhere: "1,200,000", as the values table has them.
        let number = crate::domain::ItemKey::parse(&d.key)
            .ok()
            .and_then(|k| crate::store::fields::find(k.kind, f.name))
            .is_some_and(|x| matches!(x.ty, crate::store::fields::FieldType::Number));
        let value = match &f.value {
            Some(v) if number => Num::parse(v).map(|n| n.grouped()).unwrap_or_else(|_| v.clone()),
            Some(v) => v.clone(),
            None => "—".into(),
        };
        let room = width.saturating_sub(21);
        let one_line = value.replace('\n', " ");
        cut |= value.contains('\n') || super::width_of(&one_line) > room;
        out.push(Line::from(vec![Span::styled(format!("  {:<18} ", f.name), t.dim()), Span::raw(truncate(&one_line, room))]));
    }
    // Each field has one line here; the reader shows them whole.
    if cut {
        let key = app.keymap.first_key(super::super::action::Action::ReadText);
        out.push(Line::from(Span::styled(format!("  … cut to one line: {key} reads every field whole"), t.dim())));
    }
    if !d.milestones.is_empty() {
        out.push(section(app, "milestones"));
        for m in &d.milestones {
            let (state, style) = match (&m.done, m.overdue_days) {
                (Some(done), _) => (format!("✓ done {done}"), t.rag(crate::domain::status::Rag::Green)),
                (None, Some(days)) => (format!("⏱ LATE {days}d"), t.rag(crate::domain::status::Rag::Red)),
                (None, None) => ("○ open".to_string(), t.dim()),
            };
            // The date and state always show whole: the title gives way, with "…".
            let fixed = super::width_of(&format!("  {}.  — due {} {state}", m.number, m.due));
            let title = truncate(&m.title, width.saturating_sub(fixed).max(8));
            out.push(Line::from(vec![Span::raw(format!("  {}. {title} — due {} ", m.number, m.due)), Span::styled(state, style)]));
        }
    }
    if !d.depends_on.is_empty() {
        out.push(section(app, "waits for"));
        for l in &d.depends_on {
            out.push(Line::from(format!("  {}", l.label())));
        }
    }
    if !d.serves.is_empty() {
        out.push(section(app, "serves"));
        for l in &d.serves {
            out.push(Line::from(format!("  {}", l.label())));
        }
    }
    if !d.served_by.is_empty() {
        out.push(section(app, "served by"));
        for l in &d.served_by {
            out.push(Line::from(format!("  {}", l.label())));
        }
    }
    if !d.decisions.is_empty() {
        out.push(section(app, "decisions"));
        for dec in &d.decisions {
            out.push(Line::from(format!("  {} {}: {}", &dec.at[..10.min(dec.at.len())], dec.by, dec.text)));
        }
    }
    if !d.audit.is_empty() {
        out.push(section(app, "recent changes"));
        for r in d.audit.iter().rev().take(5) {
            let change = match (&r.entry.old_value, &r.entry.new_value) {
                (Some(o), Some(n)) => format!("{o} → {n}"),
                (None, Some(n)) => n.clone(),
                (Some(o), None) => format!("{o} → cleared"),
                _ => String::new(),
            };
            out.push(Line::from(format!("  {} {} {} {}", &r.at[..10.min(r.at.len())], r.actor, r.entry.field, truncate(&change, 40))));
        }
    }
    out
}

/// Confidence trend, update discipline and value source (issue 20), a line each.
fn signal_lines(app: &App, d: &Detail, width: usize, out: &mut Vec<Line<'_>>) {
    let t = &app.theme;
    let room = width.saturating_sub(14);
    if let Some(c) = &d.signals.confidence {
        let style = if c.falling.is_some() { t.rag(crate::domain::status::Rag::Amber) } else { Style::default() };
        out.push(Line::from(vec![Span::styled("  confidence  ".to_string(), t.dim()), Span::styled(truncate(&c.line(5), room), style)]));
    }
    if let Some(u) = &d.signals.updates {
        let text = format!("{} on time, {} late, {} missed", u.on_time, u.late, u.missed);
        let style = if u.missed_in_a_row > 0 { t.rag(crate::domain::status::Rag::Amber) } else { Style::default() };
        out.push(Line::from(vec![Span::styled("  updates     ".to_string(), t.dim()), Span::styled(truncate(&text, room), style)]));
    }
    if let Some(src) = &d.signals.source {
        let text = match &src.failure {
            Some(why) => format!("{} — FAILED: {why}", src.name),
            None => src.name.clone(),
        };
        out.push(Line::from(vec![Span::styled("  source      ".to_string(), t.dim()), Span::raw(truncate(&text, room))]));
    }
    // Hand overrides of source-fed values in the recent periods, with their reasons.
    for v in d.values.iter().rev().take(6).filter(|v| v.override_reason.is_some()) {
        let text = format!("{}: {}", v.period, v.override_reason.as_deref().unwrap_or_default().replace('\n', " / "));
        let style = t.rag(crate::domain::status::Rag::Amber);
        out.push(Line::from(vec![Span::styled("  override    ".to_string(), t.dim()), Span::styled(truncate(&text, room), style)]));
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let title = match (app.detail_pending(), &app.detail.shown) {
        (Some(key), _) => format!("{} detail", key.kind),
        (None, Some(d)) => format!("{} detail", d.kind),
        (None, None) => "detail".into(),
    };
    let block = super::block(app, Pane::Detail, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let body = match (app.detail_pending(), &app.detail.shown) {
        (Some(key), _) => {
            let key = key.to_string();
            let title = app.tree.rows.iter().filter_map(|r| r.outline()).find(|i| i.key == key).map(|i| i.title.as_str()).unwrap_or("");
            vec![Line::from(Span::styled(format!("{key} {title} — reading…"), app.theme.dim()))]
        }
        (None, _) if app.detail.error.as_ref().is_some_and(|(k, _)| Some(k) == app.detail.target.as_ref()) => {
            let (key, why) = app.detail.error.as_ref().map(|(k, e)| (k.to_string(), e.clone())).unwrap_or_default();
            vec![Line::from(Span::styled(format!("could not read {key}: {why}"), app.theme.error()))]
        }
        (None, Some(d)) => lines(app, d, inner.width as usize),
        (None, None) => vec![Line::from(Span::styled("select an item in the tree", app.theme.dim()))],
    };
    frame.render_widget(Paragraph::new(body).wrap(Wrap { trim: false }).scroll((app.detail.scroll, 0)), inner);
}

/// The editor (or field picker) over the lower part of the detail pane.
pub fn draw_editor(frame: &mut Frame, app: &App, area: Rect) {
    match app.mode.base() {
        Mode::Edit(ed) => {
            // A narrative shows up to four of its lines; what is said about it (a refusal, a
            // reference) gets the lines below, the most when the narrative is asked for.
            let input_h = if ed.multi_line() { (ed.input.lines().len() as u16).clamp(1, 4) } else { 1 };
            let said = match (&ed.error, &ed.note) {
                (None, None) => 0,
                _ if matches!(ed.target, super::super::app::EditTarget::ValueAndNarrative { .. }) => 6,
                _ => 2,
            };
            let height = (input_h + said + 3).min(area.height.saturating_sub(2));
            let r = Rect { x: area.x + 1, y: area.y + area.height.saturating_sub(height + 1), width: area.width.saturating_sub(2), height };
            frame.render_widget(Clear, r);
            let block = Block::default().borders(Borders::ALL).title(Span::styled(
                super::fit(&format!(" edit {} — Enter saves, Esc cancels ", ed.label()), r.width.saturating_sub(2) as usize),
                app.theme.title(true),
            ));
            let inner = block.inner(r);
            frame.render_widget(block, r);
            let input_area = Rect { height: input_h.min(inner.height), ..inner };
            frame.render_widget(&ed.input, input_area);
            let mut said: Vec<Line> = Vec::new();
            if let Some(err) = &ed.error {
                said.push(Line::from(Span::styled(format!("✖ {err}"), app.theme.error())));
            }
            if let Some(note) = &ed.note {
                said.push(Line::from(Span::styled(note.clone(), app.theme.dim())));
            }
            let said_area = Rect { y: inner.y + input_h, height: inner.height.saturating_sub(input_h), ..inner };
            frame.render_widget(Paragraph::new(said).wrap(Wrap { trim: true }), said_area);
        }
        Mode::FieldPicker { key, fields, cursor } => {
            let height = (fields.len() as u16 + 2).min(area.height.saturating_sub(2));
            let r = Rect { x: area.x + 2, y: area.y + 1, width: area.width.saturating_sub(4).min(40), height };
            frame.render_widget(Clear, r);
            let visible = height.saturating_sub(2) as usize;
            let start = cursor.saturating_sub(visible.saturating_sub(1));
            let lines: Vec<Line> = fields
                .iter()
                .enumerate()
                .skip(start)
                .take(visible)
                .map(|(i, f)| {
                    Line::from(Span::styled(
                        format!(" {f} "),
                        if i == *cursor { app.theme.selected(true) } else { ratatui::style::Style::default() },
                    ))
                })
                .collect();
            let block =
                Block::default().borders(Borders::ALL).title(Span::styled(format!(" edit which field of {key}? "), app.theme.title(true)));
            frame.render_widget(Paragraph::new(lines).block(block), r);
        }
        _ => {}
    }
}

/// How many screen rows the detail takes at `width` (its lines wrapped).
pub fn rows(app: &App, d: &Detail, width: usize) -> usize {
    let width = width.max(1);
    lines(app, d, width).iter().map(|l| l.width().div_ceil(width).max(1)).sum()
}

/// A total as shown: "—" where no value was ever entered (no data is not zero).
fn shown(total: Option<crate::domain::Num>) -> String {
    total.map(|n| n.grouped()).unwrap_or_else(|| "—".into())
}
