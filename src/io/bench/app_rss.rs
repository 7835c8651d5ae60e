//! `app_rss_mb`: the app's resident memory as a person would find it, in a fresh process of its
//! own (this binary, `keel bench --app-rss-probe FILE`, hidden): the app opened on the file to
//! its first settled frame, then the stale filter (`s`) applied through the same update and draw
//! as every timed keystroke, and its readers let finish. The figure is that process's peak
//! resident memory so far (VmHWM), so a brief peak during the filter counts too.

use super::{open_to_first_frame, peak_rss_mb, step, SETTLE};
use crate::tui::action::Action;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};

/// In the probe process: open, settle, filter, settle; the peak RSS in MiB.
pub fn probe(path: &Path) -> Result<f64> {
    let (mut app, mut terminal, _) = open_to_first_frame(path)?;
    app.settle(SETTLE);
    let mut samples = Vec::new();
    step(&mut app, &mut terminal, Action::FilterStale, &mut samples)?;
    while app.waiting() {
        app.settle(SETTLE);
        terminal.draw(|f| {
            crate::tui::frame::render(f, &mut app);
        })?;
    }
    Ok(peak_rss_mb())
}

/// In the bench: run the probe on `path` in a fresh process and read its figure.
pub fn measure(path: &Path) -> Result<f64> {
    let exe = std::env::current_exe().context("cannot find keel's own binary for the app's memory")?;
    let out = Command::new(&exe)
        .arg("bench")
        .arg("--app-rss-probe")
        .arg(path)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !out.status.success() {
        bail!("the app's memory probe failed ({})", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse::<f64>().with_context(|| format!("the app's memory probe printed {text:?}"))
}
