//! The step between `update` and `view::draw`: for the screen about to be drawn, settle the
//! scroll offsets (the cursor stays in view, the detail pane stops at its end) and ask the
//! background readers for what the visible rows still lack. Drawing then only reads `&App`.

use super::app::{App, Mode};
use super::view;
use ratatui::layout::Rect;
use ratatui::Frame;

/// Settle the model for a frame of size `area`. Bounded by what is on screen: never more than
/// a screenful of statuses and a page of variance rows.
pub fn prepare_frame(app: &mut App, area: Rect) {
    app.size = area;
    let Some(screen) = view::screen(app, area) else { return };
    // The reader stops scrolling at its last line.
    if let Mode::Reader(r) = &app.mode {
        let max = view::reader::max_scroll(app, r, area);
        if let Mode::Reader(r) = &mut app.mode {
            r.max_scroll = max;
            r.scroll = r.scroll.min(max);
        }
    }
    if matches!(app.mode, Mode::Meeting(_)) {
        return;
    }
    // Tree: keep the cursor in view; ask for the statuses of the visible rows.
    let height = screen.panes.tree.height.saturating_sub(2) as usize;
    let tree = &mut app.tree;
    tree.height = height;
    if tree.cursor < tree.offset {
        tree.offset = tree.cursor;
    } else if height > 0 && tree.cursor >= tree.offset + height {
        tree.offset = tree.cursor + 1 - height;
    }
    // A list that shrank leaves no blank screen above its end.
    tree.offset = tree.offset.min(tree.rows.len().saturating_sub(height.max(1)));
    let offset = app.tree.offset;
    app.warm_statuses(offset, height);
    // Variance list: the pane may have grown since the last read; read what it shows (a page at most).
    app.variance.height = screen.panes.variance.height.saturating_sub(3) as usize;
    if let Err(e) = app.cover_variance() {
        app.warn(format!("could not read the variance list: {e:#}"));
    }
    // Detail: scrolling stops where the text ends.
    let inner = screen.panes.detail.height.saturating_sub(2) as usize;
    let width = screen.panes.detail.width.saturating_sub(2) as usize;
    app.detail.height = inner;
    if app.detail.scroll > 0 {
        let rows = match &app.detail.shown {
            Some(d) if app.detail_pending().is_none() => view::detail::rows(app, d, width),
            _ => 0,
        };
        app.detail.lines = rows;
        app.detail.scroll = app.detail.scroll.min(rows.saturating_sub(inner) as u16);
    }
}

/// Prepare and draw one frame; returns where the panes are, for the mouse.
pub fn render(frame: &mut Frame, app: &mut App) -> view::Areas {
    prepare_frame(app, frame.area());
    view::draw(frame, app)
}
