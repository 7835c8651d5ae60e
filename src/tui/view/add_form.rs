//! The add form: one line per field, the focused one marked, a refusal under the field it names.

use super::super::app::App;
use super::super::modes::add_form::AddForm;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, app: &App, area: Rect, f: &AddForm) {
    let width = area.width.saturating_sub(6) as usize;
    let mut lines = Vec::new();
    for (i, name) in f.names.iter().enumerate() {
        let typed = f.inputs[i].lines().join(" ");
        let focused = i == f.field;
        let shown = if typed.is_empty() && !focused { f.inputs[i].placeholder_text().to_string() } else { typed };
        let marker = if focused { "▸" } else { " " };
        let value_style = if focused {
            app.theme.selected(true)
        } else if f.inputs[i].lines().join("").is_empty() {
            app.theme.dim()
        } else {
            Default::default()
        };
        let cursor = if focused { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::raw(format!("{marker} {name:>14}  ")),
            Span::styled(format!("{}{cursor}", crate::domain::text_check::printable(&shown)), value_style),
        ]));
        if let Some(why) = &f.errors[i] {
            let why: String = why.chars().take(width.saturating_sub(24)).collect();
            lines.push(Line::from(Span::styled(format!("{:>18}✖ {why}", ""), app.theme.error())));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("↑/↓ field · Enter adds · Esc cancels", app.theme.dim())));
    let under = f.parent.as_deref().map(|p| format!(" under {p}")).unwrap_or_default();
    super::popup_text(frame, app, area, &format!("add {}{under}", f.kind), lines);
}
