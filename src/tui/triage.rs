//! Variance triage and one-line prompts: acting on one or several marked escalations at once
//! (acknowledge, assign, snooze, decide, resolve), and starting a meeting on an agenda.

use super::app::{App, Mode, Pane, Prompt};
use super::update::single_line;
use crate::domain::{ItemKey, ItemKind};
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
    let ids = triage_targets(app);
    if ids.is_empty() {
        app.warn("no escalation selected: focus the variance list (3)");
        return Ok(());
    }
    let mut changes = Vec::new();
    for id in &ids {
        changes.push(Change::Escalation { id: *id, action: action(*id)? });
    }
    match app.store.edit(Edit { changes, reason: None }) {
        Ok(o) => {
            app.variance.marked.clear();
            app.reload()?;
            app.say(o.effects.join("; "));
        }
        Err(e) => app.warn(format!("{e} — nothing was changed")),
    }
    Ok(())
}

pub fn answer_prompt(app: &mut App, purpose: Prompt, text: String) -> anyhow::Result<()> {
    let text = text.trim().to_string();
    let retry = |app: &mut App, why: String| {
        app.warn(why);
        app.mode = Mode::Prompt { purpose, input: single_line(&text, purpose.question()) };
    };
    match purpose {
        Prompt::Assign => match ItemKey::parse(&text) {
            Ok(k) if k.kind == ItemKind::Person => triage(app, |_| Ok(EscalationAction::Assign(k.clone())))?,
            _ => retry(app, format!("'{text}' is not a person key like P-3")),
        },
        Prompt::Snooze => {
            let (date, reason) = text.split_once(' ').unwrap_or((&text, ""));
            match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                Ok(until) if !reason.trim().is_empty() => {
                    let reason = reason.trim().to_string();
                    triage(app, |_| Ok(EscalationAction::Snooze { until, reason: reason.clone() }))?
                }
                Ok(_) => retry(app, "say why after the date".into()),
                Err(_) => retry(app, format!("'{date}' is not a date: use YYYY-MM-DD")),
            }
        }
        Prompt::Decide | Prompt::Resolve if text.is_empty() => retry(app, "write the text first".into()),
        Prompt::Decide => triage(app, |_| Ok(EscalationAction::Decide(text.clone())))?,
        Prompt::Resolve => triage(app, |_| Ok(EscalationAction::Resolve(text.clone())))?,
        Prompt::MeetingAgenda => match text.as_str() {
            "o" | "" => super::meeting::start(app, super::meeting::Agenda::Objectives, None)?,
            "e" => super::meeting::start(app, super::meeting::Agenda::Escalated, None)?,
            unit => match ItemKey::parse(unit) {
                Ok(k) if k.kind == ItemKind::Unit => super::meeting::start(app, super::meeting::Agenda::Unit, Some(&k.to_string()))?,
                _ => retry(app, format!("'{unit}': type o, e or a unit key like U-2")),
            },
        },
    }
    Ok(())
}
