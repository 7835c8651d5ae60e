//! Drawing only: every function here reads the model and draws; none touches the store.

pub mod add_form;
pub mod detail;
pub mod footer;
pub mod help;
pub mod meeting;
pub mod palette;
pub mod reader;
pub mod tree;
pub mod variance;
pub mod weekly;

use super::app::{App, Mode, Pane};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Where the panes were drawn, for mouse clicks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Areas {
    pub tree: Rect,
    pub detail: Rect,
    pub variance: Rect,
}

pub fn block<'a>(app: &App, pane: Pane, title: String) -> Block<'a> {
    let focused = app.focus == pane;
    let number = match pane {
        Pane::Tree => 1,
        Pane::Detail => 2,
        Pane::Variance => 3,
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { ratatui::widgets::BorderType::Thick } else { ratatui::widgets::BorderType::Plain })
        .title(Span::styled(format!(" {number} {title} "), app.theme.title(focused)))
}

/// Split the body: tree and detail side by side, the variance list below. The variance list
/// grows when it has the focus, so triage on a small terminal sees more than three rows.
pub fn body_layout(area: Rect, focus: Pane) -> Areas {
    let share = if focus == Pane::Variance { 6 } else { 3 };
    let variance_height = (area.height * share / 10).clamp(5, if focus == Pane::Variance { 40 } else { 14 });
    let rows =
        Layout::default().direction(Direction::Vertical).constraints([Constraint::Min(6), Constraint::Length(variance_height)]).split(area);
    let tree_share = if area.width >= 140 { 38 } else { 45 };
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(tree_share), Constraint::Percentage(100 - tree_share)])
        .split(rows[0]);
    Areas { tree: cols[0], detail: cols[1], variance: rows[1] }
}

/// The parts of the main screen, for a terminal of size `area` (none: too small to draw on).
#[derive(Clone, Copy, Debug, Default)]
pub struct Screen {
    pub header: Rect,
    pub banner: Rect,
    pub body: Rect,
    pub panes: Areas,
    pub message: Rect,
    pub keys: Rect,
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

pub fn screen(app: &App, area: Rect) -> Option<Screen> {
    if too_small(area) {
        return None;
    }
    let banner = app.read_only.is_some() as u16;
    let outer = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(1), Constraint::Length(banner), Constraint::Min(8), Constraint::Length(1), Constraint::Length(1)])
        .split(area);
    Some(Screen {
        header: outer[0],
        banner: outer[1],
        body: outer[2],
        panes: body_layout(outer[2], app.focus),
        message: outer[3],
        keys: outer[4],
    })
}

/// Draw the whole screen from the model. Nothing here changes the model or reads the store:
/// `prepare_frame` has settled scroll offsets and asked for what the rows need.
pub fn draw(frame: &mut Frame, app: &App) -> Areas {
    let areas = draw_panes(frame, app);
    defuse_controls(frame.buffer_mut());
    areas
}

/// Stored text never reaches the terminal as a control sequence: the write path refuses control
/// characters, and any already in a file are drawn as "�" here, whichever pane drew them.
fn defuse_controls(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if cell.symbol().chars().any(char::is_control) {
            cell.set_symbol("\u{fffd}");
        }
    }
}

fn draw_panes(frame: &mut Frame, app: &App) -> Areas {
    let area = frame.area();
    let Some(s) = screen(app, area) else {
        let msg = format!(
            "terminal too small ({}×{}): keel needs at least {MIN_WIDTH}×{MIN_HEIGHT}. Enlarge the window, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return Areas::default();
    };
    let base = app.mode.base();
    if let Mode::Meeting(_) = base {
        meeting::draw(frame, app);
        if let Mode::Help { .. } = app.mode {
            help::draw(frame, app, area);
        }
        return Areas::default();
    }
    let outer = [s.header, s.banner, s.body, s.message, s.keys];
    header(frame, app, outer[0]);
    if let Some(why) = &app.read_only {
        frame
            .render_widget(Paragraph::new(fit(&format!(" READ-ONLY: {why}"), outer[1].width as usize)).style(app.theme.banner()), outer[1]);
    }
    let areas = s.panes;
    tree::draw(frame, app, areas.tree);
    detail::draw(frame, app, areas.detail);
    variance::draw(frame, app, areas.variance);
    footer::message(frame, app, outer[3]);
    footer::draw(frame, app, outer[4]);
    match base {
        Mode::Palette { .. } => palette::draw(frame, app, area),
        Mode::Edit(_) | Mode::FieldPicker { .. } => detail::draw_editor(frame, app, areas.detail),
        Mode::Confirm { prompt, .. } => popup_text(frame, app, area, "confirm", vec![Line::from(prompt.clone())]),
        Mode::Notice { title, lines } => {
            let mut body: Vec<Line> = lines.iter().map(|l| Line::from(format!("  • {l}"))).collect();
            body.push(Line::from(""));
            body.push(Line::from(Span::styled("Esc or Enter closes", app.theme.dim())));
            popup_text(frame, app, area, title, body)
        }
        Mode::Stale(list) => stale(frame, app, area, list),
        Mode::Reader(r) => reader::draw(frame, app, area, r),
        Mode::Prompt { purpose, input, error } => {
            footer::draw_prompt(frame, app, purpose.question(), error.as_deref(), input, [outer[3], outer[4]])
        }
        Mode::Weekly(_) => weekly::draw(frame, app, outer[2]),
        Mode::AddForm(f) => add_form::draw(frame, app, area, f),
        Mode::Meeting(_) | Mode::Normal | Mode::Help { .. } => {}
    }
    if let Mode::Help { .. } = app.mode {
        help::draw(frame, app, area);
    }
    areas
}

fn header(frame: &mut Frame, app: &App, area: Rect) {
    let file = crate::store::server::source_name(app.store.path());
    let cycle = &app.cycle_name;
    let who = app.store.actor.display();
    let view = match app.tree.view {
        crate::store::outline::TreeView::Objectives => "objectives",
        crate::store::outline::TreeView::Execution => "execution",
    };
    let demo = if app.store.demo { " [demo]" } else { "" };
    // Narrow terminals drop the least useful parts first.
    let who = if area.width < 100 {
        app.store.actor.person_key.clone().map(|k| format!("{k} {}", app.store.actor.login)).unwrap_or(who)
    } else {
        who
    };
    let line = Line::from(vec![
        Span::styled(" keel ", app.theme.title(true)),
        Span::raw(format!("│ {file}{demo} │ {cycle} │ {who} │ {view}")),
        Span::styled(app.tree.filter.map(|f| format!(" │ filter: {}", f.label())).unwrap_or_default(), app.theme.key()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// Display width of text on a terminal (wide characters take two columns, emoji too).
pub fn width_of(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to `width` columns with "…" when it does not fit, measured by display width.
pub fn fit(s: &str, width: usize) -> String {
    if width_of(s) <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let w = width_of(c.encode_utf8(&mut buf));
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` fitted to exactly `width` columns: cut with "…", or padded with spaces.
pub fn fit_pad(s: &str, width: usize) -> String {
    let mut t = fit(s, width);
    let w = width_of(&t);
    t.push_str(&" ".repeat(width.saturating_sub(w)));
    t
}

/// A centred box with text.
pub fn popup_text(frame: &mut Frame, app: &App, area: Rect, title: &str, lines: Vec<Line>) {
    let width = (lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 4).clamp(30, area.width.saturating_sub(4));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = centered(area, width, height);
    frame.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(format!(" {title} "), app.theme.title(true)));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).style(Style::default()), r);
}

/// The stale list, with its cursor.
fn stale(frame: &mut Frame, app: &App, area: Rect, list: &super::modes::stale::StaleList) {
    let r = centered(area, area.width.saturating_sub(4).min(120), area.height.saturating_sub(4));
    frame.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(Span::styled(format!(" {} ", list.title), app.theme.title(true)));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let height = inner.height as usize;
    let start = list.cursor.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = list
        .rows
        .iter()
        .enumerate()
        .skip(start)
        .take(height)
        .map(|(i, (_, text))| {
            let style = if i == list.cursor { app.theme.selected(true) } else { Style::default() };
            Line::from(Span::styled(fit(text, inner.width as usize), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}
