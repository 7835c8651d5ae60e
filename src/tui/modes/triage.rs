//! Variance triage: acting on one or several marked escalations at once (acknowledge, assign,
//! snooze, decide, resolve), undoing an action taken by mistake, marking every row the filter
//! shows, and filtering by owner or unit.

use super::super::app::{App, Pane, Undo};
use crate::domain::{ItemKey, ItemKind};
use crate::store::edit::EscalationAction;
use crate::store::{Change, Edit};

fn verb(a: &EscalationAction) -> &'static str {
    match a {
        EscalationAction::Acknowledge => "acknowledge",
        EscalationAction::Assign(_) => "assign",
        EscalationAction::Decide(_) => "decision",
        EscalationAction::Resolve(_) => "resolve",
        EscalationAction::Snooze { .. } => "snooze",
        EscalationAction::Restore(_) => "undo",
    }
}

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

/// Apply one triage action to every target escalation, in one edit (all or none). When the
/// file was busy, says why, for the caller to ask again with what was typed.
pub fn triage(app: &mut App, action: impl Fn(i64) -> anyhow::Result<EscalationAction>) -> anyhow::Result<Option<String>> {
    // What was marked and has closed since is skipped, and said so.
    let skipped = if app.focus == Pane::Variance { app.prune_marks()? } else { vec![] };
    let ids = triage_targets(app);
    if ids.is_empty() {
        if skipped.is_empty() {
            app.warn("no escalation selected: focus the variance list (3)");
        } else {
            app.warn(format!("nothing done: {}", super::super::app::unmarked_message(&skipped, 0)));
        }
        return Ok(None);
    }
    let mut changes = Vec::new();
    for id in &ids {
        changes.push(Change::Escalation { id: *id, action: action(*id)? });
    }
    // How triage stood, so `u` can put it back (reopening what was resolved).
    let before = app.store.triage_states(&ids)?;
    let what = match &changes[0] {
        Change::Escalation { action, .. } => verb(action),
        _ => "triage",
    };
    let keys: Vec<String> =
        ids.iter().map(|id| app.variance.marked_keys.get(id).cloned().unwrap_or_else(|| format!("escalation {id}"))).collect();
    let keys = if app.variance.marked.is_empty() {
        app.variance.list.get(app.variance.cursor).map(|e| e.key.clone()).unwrap_or_default()
    } else if keys.len() > 3 {
        format!("{} escalations", keys.len())
    } else {
        keys.join(", ")
    };
    match app.store.edit(Edit { changes, reason: None }) {
        Ok(o) => {
            let undo = before.into_iter().map(|(id, state)| Change::Escalation { id, action: EscalationAction::Restore(state) }).collect();
            app.undo.push(Undo { label: format!("{what} on {keys}"), changes: undo });
            app.variance.marked.clear();
            app.variance.marked_keys.clear();
            app.reload()?;
            let mut text = o.said().join("; ");
            if !skipped.is_empty() {
                text.push_str(&format!(" — skipped {}: no longer open", skipped.join(", ")));
            }
            text.push_str(&format!(" — {} undoes it", app.keymap.first_key(super::super::action::Action::Undo)));
            app.say(text);
        }
        Err(e @ crate::store::StoreError::Busy) => return Ok(Some(e.to_string())),
        Err(e) => app.warn(format!("{e} — nothing was changed")),
    }
    Ok(None)
}

/// Mark every escalation the filter shows (all of them, not only the rows on screen); when all
/// are marked already, unmark them.
pub fn mark_all(app: &mut App) -> anyhow::Result<()> {
    app.focus = Pane::Variance;
    let all = app.store.escalation_ids(&app.variance.filter)?;
    if !all.is_empty() && all.iter().all(|(id, _)| app.variance.marked.contains(id)) {
        app.variance.marked.clear();
        app.variance.marked_keys.clear();
        app.say("nothing is marked now");
        return Ok(());
    }
    for (id, key) in all {
        app.variance.marked.insert(id);
        app.variance.marked_keys.insert(id, key);
    }
    let n = app.variance.marked.len();
    let keys: Vec<String> = [
        super::super::action::Action::Acknowledge,
        super::super::action::Action::Assign,
        super::super::action::Action::Snooze,
        super::super::action::Action::Decide,
        super::super::action::Action::Resolve,
    ]
    .iter()
    .map(|a| app.keymap.first_key(*a))
    .collect();
    app.say(format!(
        "{} marked (all of this filter) — {} act on all; {} again unmarks",
        super::super::count(n, "escalation", "escalations"),
        keys.join(" "),
        app.keymap.first_key(super::super::action::Action::MarkAll),
    ));
    Ok(())
}

/// Show one owner's escalations (a login, or a person key) or one unit's (U-n); empty shows all.
/// Marks that the new filter hides are dropped, as on any refresh.
pub fn set_filter(app: &mut App, text: &str) -> Result<(), String> {
    let text = text.trim();
    let (owner, unit) = match ItemKey::parse(text) {
        _ if text.is_empty() => (None, None),
        Ok(k) if k.kind == ItemKind::Unit => (None, Some(k.to_string())),
        Ok(k) if k.kind == ItemKind::Person => {
            let login =
                app.store.detail(&k).map_err(|e| e.to_string())?.fields.into_iter().find(|f| f.name == "login").and_then(|f| f.value);
            match login {
                Some(l) => (Some(l), None),
                None => return Err(format!("{k} has no login: give a login or a unit (U-n)")),
            }
        }
        Ok(k) => return Err(format!("{k} is neither a person nor a unit: give a login, P-n or U-n")),
        Err(_) if text.contains(char::is_whitespace) => return Err(format!("'{text}': a login has no spaces")),
        Err(_) => (Some(text.to_string()), None),
    };
    app.variance.filter.owner_login = owner;
    app.variance.filter.unit = unit;
    app.variance.cursor = 0;
    app.variance.list.reset();
    app.focus = Pane::Variance;
    app.reload().map_err(|e| format!("{e:#}"))?;
    let f = &app.variance.filter;
    let what = match (&f.owner_login, &f.unit) {
        (Some(l), _) => format!("owned by {l}"),
        (_, Some(u)) => format!("of unit {u}"),
        _ => "everyone's".into(),
    };
    let n = app.variance.list.len();
    let key = app.keymap.first_key(super::super::action::Action::VarianceFilter);
    app.say(format!("variance list: {what} — {} open; {key} changes it", n));
    Ok(())
}
