//! `filter_stale_ms`: the app's stale filter (`s`) from the key press to the settled frame — the
//! filter's items arrived from the reader, and the statuses of the rows they put on screen — as a
//! person waits for it. The filter reads the kept staleness (an index range), so it should not
//! grow with the file.

use super::{step, SETTLE};
use crate::tui::action::Action;
use crate::tui::app::App;
use anyhow::Result;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Instant;

/// Time the stale filter `times` times on an app that has settled (each time switched on, waited
/// for and drawn until nothing more is coming, then switched off and settled again, untimed);
/// the median, in milliseconds.
pub fn measure(app: &mut App, terminal: &mut Terminal<TestBackend>, times: usize) -> Result<f64> {
    let mut samples = Vec::with_capacity(times);
    let mut frames = Vec::new();
    for _ in 0..times.max(1) {
        app.settle(SETTLE);
        let t = Instant::now();
        step(app, terminal, Action::FilterStale, &mut frames)?;
        while app.waiting() {
            app.settle(SETTLE);
            terminal.draw(|f| {
                crate::tui::frame::render(f, app);
            })?;
        }
        samples.push(t.elapsed());
        // Off again, for the next time and for what the bench does after.
        step(app, terminal, Action::FilterStale, &mut frames)?;
        app.settle(SETTLE);
    }
    Ok(super::percentile(&mut samples, 50.0))
}
