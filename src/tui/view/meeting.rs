//! The check-in meeting screen: names and numbers first, large and uncluttered, with the trend
//! drawn as a chart against the plan line, and programmes' value funnels as bars.

use super::super::action::Action;
use super::super::app::{App, Mode};
use super::super::keymap::KeyMode;
use super::super::meeting::{Meeting, Screen};
use super::super::theme::{impl_symbol, rag_symbol};
use super::fit as truncate;
use crate::domain::Num;
use crate::store::read::Detail;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Clear, Dataset, GraphType, Paragraph, Wrap};
use ratatui::Frame;

fn bar(share: Num, width: usize) -> String {
    let filled = ((share.clamp01().to_f64_for_chart()) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width.saturating_sub(filled)))
}

fn percent(p: Option<Num>) -> String {
    p.map(|x| format!("{:>3}%", (x.round_dp(2).inner() * rust_decimal::Decimal::from(100)).round())).unwrap_or_else(|| "  —".into())
}

fn status_line<'a>(app: &App, d: &Detail) -> Line<'a> {
    let t = &app.theme;
    let s = &d.status;
    let mut spans =
        vec![Span::styled(format!(" {} {} ", rag_symbol(s.rag), s.rag.label().to_uppercase()), t.rag(s.rag).add_modifier(Modifier::BOLD))];
    if let Some(p) = s.progress {
        spans.push(Span::raw(format!("   score {}  {}", percent(Some(p)), bar(p, 20))));
    }
    if let Some(m) = &d.measure {
        let l = m.implementation.level;
        spans.push(Span::styled(format!("   implementation {} {}", impl_symbol(l), l.label()), t.implementation(l)));
        spans.push(Span::styled(format!("   potential {} {}", rag_symbol(m.potential), m.potential.label()), t.rag(m.potential)));
    }
    if s.flagged {
        spans.push(Span::styled("   ⚑ green without explanation", t.error()));
    }
    Line::from(spans)
}

/// Actuals against the plan line, period by period.
fn trend(frame: &mut Frame, app: &App, d: &Detail, area: Rect) {
    let points: Vec<(f64, Option<f64>, Option<f64>)> = d
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as f64, v.actual.map(|a| a.to_f64_for_chart()), v.planned.map(|p| p.to_f64_for_chart())))
        .collect();
    let actual: Vec<(f64, f64)> = points.iter().filter_map(|(x, a, _)| a.map(|a| (*x, a))).collect();
    let planned: Vec<(f64, f64)> = points.iter().filter_map(|(x, _, p)| p.map(|p| (*x, p))).collect();
    if actual.is_empty() && planned.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled("no numbers yet", app.theme.dim())), area);
        return;
    }
    let all: Vec<f64> = actual.iter().chain(planned.iter()).map(|p| p.1).collect();
    let (lo, hi) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    let pad = ((hi - lo) * 0.1).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let first = d.values.first().map(|v| v.period.clone()).unwrap_or_default();
    let last = d.values.last().map(|v| v.period.clone()).unwrap_or_default();
    let color = |c| if app.theme.color { Style::default().fg(c) } else { Style::default() };
    let datasets = vec![
        Dataset::default()
            .name("plan ·")
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(color(ratatui::style::Color::Gray))
            .data(&planned),
        Dataset::default()
            .name("actual ⣿")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(color(ratatui::style::Color::Cyan).add_modifier(Modifier::BOLD))
            .data(&actual),
    ];
    let chart = Chart::new(datasets)
        .block(Block::default().borders(Borders::ALL).title(format!(" {} — actual against plan ", d.key)))
        .x_axis(Axis::default().bounds([0.0, (points.len().max(2) - 1) as f64]).labels(vec![Span::raw(first), Span::raw(last)]))
        .y_axis(Axis::default().bounds([lo, hi]).labels(vec![Span::raw(format!("{lo:.0}")), Span::raw(format!("{hi:.0}"))]));
    frame.render_widget(chart, area);
}

/// The value funnel of a programme: one line a DoI stage, its net forecast as a bar scaled to
/// the largest. A negative stage (more cost than benefit) is drawn leftwards in a lighter shade
/// and said in words, never dropped.
pub fn funnel_lines(funnel: &[(crate::domain::Stage, crate::domain::rollup::Money)], width: usize) -> Vec<(String, bool)> {
    let numbers: Vec<String> = funnel.iter().map(|(_, m)| m.forecast.grouped()).collect();
    let number_w = numbers.iter().map(|n| super::width_of(n)).max().unwrap_or(1);
    let bar_w = width.saturating_sub(5 + number_w + 12).max(4);
    let max = funnel.iter().map(|(_, m)| m.forecast.to_f64_for_chart().abs()).fold(0.0, f64::max);
    funnel
        .iter()
        .zip(numbers)
        .map(|((stage, m), number)| {
            let v = m.forecast.to_f64_for_chart();
            let n = if max > 0.0 { ((v.abs() / max) * bar_w as f64).round() as usize } else { 0 };
            let negative = m.forecast.is_negative();
            let bar = if negative { "▒".repeat(n.max(1)) } else { "█".repeat(n) };
            let note = if negative { "  negative" } else { "" };
            (
                format!(
                    "{:<4} {bar}{} {number:>number_w$}{note}",
                    stage.short(),
                    " ".repeat(bar_w.saturating_sub(n.max(negative as usize)))
                ),
                negative,
            )
        })
        .collect()
}

fn funnel(frame: &mut Frame, app: &App, d: &Detail, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" value funnel — net forecast by stage ");
    let inner = block.inner(area);
    let lines: Vec<Line> = funnel_lines(&d.funnel, inner.width as usize)
        .into_iter()
        .map(|(text, negative)| {
            let style = match (negative, app.theme.color) {
                (true, _) => app.theme.rag(crate::domain::status::Rag::Red),
                (false, true) => Style::default().fg(ratatui::style::Color::Cyan),
                (false, false) => Style::default(),
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn text_block<'a>(app: &App, d: &Detail, m: &Meeting) -> Vec<Line<'a>> {
    let t = &app.theme;
    let mut out = Vec::new();
    if let Some(e) = &d.escalation {
        out.push(Line::from(Span::styled(
            format!("ESCALATED — {}: {} (assigned to {})", e.tier_label, e.reason, e.assignee.clone().unwrap_or(e.assignee_role.clone())),
            t.tier(e.tier),
        )));
    }
    if let Some(c) = &d.signals.confidence {
        let style = if c.falling.is_some() { t.rag(crate::domain::status::Rag::Amber) } else { t.dim() };
        out.push(Line::from(vec![Span::styled("confidence: ", t.key()), Span::styled(c.line(8), style)]));
    }
    for name in ["narrative", "status_explanation", "decision_needed", "risk", "next_steps"] {
        if let Some(v) = d.fields.iter().find(|f| f.name == name).and_then(|f| f.value.clone()) {
            out.push(Line::from(vec![Span::styled(format!("{}: ", name.replace('_', " ")), t.key()), Span::raw(v)]));
        }
    }
    if let Some(g) = &d.target_gap {
        out.push(Line::from(format!(
            "top-down target {}  ·  bottom-up {}  ·  gap {}",
            g.target.grouped(),
            g.bottom_up.grouped(),
            g.gap.grouped()
        )));
    }
    // Beneath an objective: what is escalated and what is late, most severe first.
    let b = &m.beneath;
    if !b.escalations.is_empty() || !b.late.is_empty() {
        out.push(Line::from(Span::styled(
            format!(
                "beneath it: {} open, {} late",
                super::super::count(b.escalations_total, "escalation", "escalations"),
                super::super::count(b.late_total, "milestone", "milestones")
            ),
            t.title(true),
        )));
    }
    for e in &b.escalations {
        out.push(Line::from(vec![
            Span::styled(format!("{} {:<6} ", super::super::theme::tier_symbol(e.tier), e.key), t.tier(e.tier)),
            Span::raw(format!("{}: {} — {}", e.tier_label, e.title, e.reason)),
        ]));
    }
    for l in &b.late {
        out.push(Line::from(vec![
            Span::styled(format!("⏱ {:<6} ", l.key), t.rag(crate::domain::status::Rag::Red)),
            Span::raw(format!("late {}d: {} (due {})", l.days, l.title, l.due)),
        ]));
    }
    // Decisions taken before this meeting, on the item and on its key results.
    let this_meeting = |key: &str, text: &str| m.decisions.iter().any(|x| x.key == key && x.text == text);
    let earlier: Vec<_> = d
        .decisions
        .iter()
        .map(|x| (d.key.as_str(), x))
        .chain(m.children.iter().flat_map(|c| c.decisions.iter().map(|x| (c.key.as_str(), x))))
        .filter(|(key, x)| !this_meeting(key, &x.text))
        .collect();
    if !earlier.is_empty() {
        out.push(Line::from(Span::styled("decisions already taken:", t.title(true))));
        for (key, x) in earlier {
            out.push(Line::from(format!("  {} {key} {}: {}", x.at.get(..10).unwrap_or(&x.at), x.by, x.text)));
        }
    }
    let mine: Vec<_> = m.decisions.iter().filter(|x| x.key == d.key).collect();
    if !mine.is_empty() {
        out.push(Line::from(Span::styled("decided in this meeting:", t.title(true))));
        for x in mine {
            out.push(Line::from(format!("  ✔ {}{}", x.text, x.owner.as_ref().map(|o| format!(" — {o}")).unwrap_or_default())));
        }
    }
    out
}

pub fn draw(frame: &mut Frame, app: &App) {
    let Mode::Meeting(m) = app.mode.base() else { return };
    let area = frame.area();
    frame.render_widget(Clear, area);
    let t = &app.theme;
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(if m.input.is_some() { 3 } else { 0 }),
            Constraint::Length(1),
        ])
        .split(area);
    let agenda = match (m.kind, &m.unit) {
        (super::super::meeting::Agenda::Objectives, _) => "objectives".to_string(),
        (super::super::meeting::Agenda::Escalated, _) => "escalated only".to_string(),
        (super::super::meeting::Agenda::Unit, Some(u)) => format!("unit {u}"),
        (super::super::meeting::Agenda::Unit, None) => "one unit".to_string(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" CHECK-IN ", t.banner()),
            Span::raw(format!(
                "  item {} of {} · agenda: {agenda} · {} so far",
                m.index + 1,
                m.agenda.len(),
                super::super::count(m.decisions.len(), "decision", "decisions")
            )),
        ])),
        rows[0],
    );
    super::footer::draw(frame, app, rows[3]);
    if let Some(input) = &m.input {
        let keys = super::footer::title_keys(app, KeyMode::Prompt, &[(Action::Save, "records"), (Action::Cancel, "cancels")]);
        let block = Block::default().borders(Borders::ALL).title(format!(" decision — {keys} "));
        let inner = block.inner(rows[2]);
        frame.render_widget(block, rows[2]);
        frame.render_widget(input, inner);
    }
    let body = rows[1];
    match m.screen {
        Screen::Summary => {
            let mut lines =
                vec![Line::from(Span::styled(format!("Decisions of this meeting ({})", m.decisions.len()), t.title(true))), Line::from("")];
            for x in &m.decisions {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<6} ", x.key), t.key()),
                    Span::raw(format!("{} — owner: {}", x.text, x.owner.clone().unwrap_or_else(|| "not named".into()))),
                ]));
                lines.push(Line::from(Span::styled(format!("       on: {}", x.title), t.dim())));
            }
            if m.decisions.is_empty() {
                lines.push(Line::from("no decisions were recorded"));
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((m.scroll, 0)), body);
        }
        Screen::Changes => {
            let since = m
                .since
                .clone()
                .map(|s| format!("since the last check-in ({})", &s[..16.min(s.len())]))
                .unwrap_or_else(|| "since the start (no earlier check-in)".into());
            let mut lines = vec![Line::from(Span::styled(
                format!("What changed {since}: {}", super::super::count(m.changes.len(), "item", "items")),
                t.title(true),
            ))];
            for g in &m.changes {
                lines.push(Line::from(vec![
                    Span::styled(format!("{} ", g.key), t.key()),
                    Span::styled(truncate(&g.title, 60), t.title(false)),
                ]));
                for r in g.changes.iter().rev().take(6) {
                    let change = match (&r.entry.old_value, &r.entry.new_value) {
                        (Some(o), Some(n)) => format!("{o} → {n}"),
                        (None, Some(n)) => n.clone(),
                        (Some(o), None) => format!("{o} → cleared"),
                        _ => String::new(),
                    };
                    lines.push(Line::from(format!(
                        "    {} {} {}: {}",
                        &r.at[..10.min(r.at.len())],
                        r.actor,
                        r.entry.field,
                        truncate(&change, 70)
                    )));
                }
            }
            frame.render_widget(Paragraph::new(lines).scroll((m.scroll, 0)), body);
        }
        Screen::Item => {
            let Some(d) = &m.detail else { return };
            let title = Line::from(vec![Span::styled(format!(" {}  {} ", d.key, d.title), t.title(true).add_modifier(Modifier::REVERSED))]);
            let mut head = vec![Line::from(""), title, Line::from(""), status_line(app, d), Line::from("")];
            // An objective lists its key results with progress bars.
            for kr in &m.children {
                head.push(Line::from(vec![
                    Span::styled(format!(" {} ", rag_symbol(kr.status.rag)), t.rag(kr.status.rag)),
                    Span::raw(format!("{} {}  ", percent(kr.status.progress), bar(kr.status.progress.unwrap_or(Num::ZERO), 12))),
                    Span::styled(format!("{:<6}", kr.key), t.key()),
                    Span::raw(truncate(&kr.title, body.width.saturating_sub(32) as usize)),
                ]));
            }
            let head_h = (head.len() as u16).min(body.height / 2);
            let parts = Layout::default()
                .direction(Direction::Vertical)
                .constraints([Constraint::Length(head_h), Constraint::Min(6), Constraint::Length(body.height.saturating_sub(head_h) / 3)])
                .split(body);
            frame.render_widget(Paragraph::new(head), parts[0]);
            let chart_source = if d.values.is_empty() { m.children.iter().find(|c| !c.values.is_empty()) } else { Some(d) };
            if !d.funnel.is_empty() {
                funnel(frame, app, d, parts[1]);
            } else if let Some(src) = chart_source {
                trend(frame, app, src, parts[1]);
            }
            frame.render_widget(Paragraph::new(text_block(app, d, m)).wrap(Wrap { trim: true }).scroll((m.scroll, 0)), parts[2]);
            if let Some(err) = &m.error {
                frame.render_widget(
                    Paragraph::new(Span::styled(format!("✖ {err}"), t.error())),
                    Rect { y: parts[2].y, height: 1, ..parts[2] },
                );
            }
        }
    }
}
