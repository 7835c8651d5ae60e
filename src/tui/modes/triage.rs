//! Variance triage: acting on one or several marked escalations at once (acknowledge, assign,
//! snooze, decide, resolve).

use super::super::app::{App, Pane};
use crate::store::edit::EscalationAction;
use crate::store::{Change, Edit};

/// The escalations a triage action applies to: the marked ones, else the selected one.
pub fn triage_targets(app: &App) -> Vec<i64> {
    if app.focus != Pane::Variance {
        return vec![];
    }
    if app.variance.marked.is_empty() {
        app.variance.list.get(app.variance.cursor).map(|e| vec![e.id]).unwrap_or_default()
    } else {
        app.variance.marked.iter().copied().collect()
    }
}

/// Apply one triage action to every target escalation, in one edit (all or none).
pub fn triage(app: &mut App, action: impl Fn(i64) -> anyhow::Result<EscalationAction>) -> anyhow::Result<()> {
    // What was marked and has closed since is skipped, and said so.
    let skipped = if app.focus == Pane::Variance { app.prune_marks()? } else { vec![] };
    let ids = triage_targets(app);
    if ids.is_empty() {
        if skipped.is_empty() {
            app.warn("no escalation selected: focus the variance list (3)");
        } else {
            app.warn(format!("nothing done: {}", super::super::app::unmarked_message(&skipped, 0)));
        }
        return Ok(());
    }
    let mut changes = Vec::new();
    for id in &ids {
        changes.push(Change::Escalation { id: *id, action: action(*id)? });
    }
    match app.store.edit(Edit { changes, reason: None }) {
        Ok(o) => {
            app.variance.marked.clear();
            app.variance.marked_keys.clear();
            app.reload()?;
            let mut text = o.effects.join("; ");
            if !skipped.is_empty() {
                text.push_str(&format!(" — skipped {}: no longer open", skipped.join(", ")));
            }
            app.say(text);
        }
        Err(e) => app.warn(format!("{e} — nothing was changed")),
    }
    Ok(())
}
