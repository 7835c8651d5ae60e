//! A one-line question on the bottom line: whom to assign, until when to snooze, what was
//! decided or resolved, what to search for, which agenda. A refused answer keeps the text and
//! says why beside the question.

use super::super::action::Action;
use super::super::app::App;
use super::super::update::single_line;
use super::{Mode, Prompt};
use crate::domain::{ItemKey, ItemKind};
use crate::store::edit::EscalationAction;
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

pub fn handle_key(
    app: &mut App,
    purpose: Prompt,
    mut input: TextArea<'static>,
    mut error: Option<String>,
    action: Option<Action>,
    ev: KeyEvent,
) -> anyhow::Result<()> {
    match action {
        Some(Action::Cancel) => return Ok(()),
        Some(Action::Save) => return answer(app, purpose, input.lines().join(" ")),
        Some(Action::ClearField) => {
            input = single_line("", purpose.hint());
            error = None;
        }
        _ => {
            input.input(ev);
        }
    }
    app.mode = Mode::Prompt { purpose, input, error };
    Ok(())
}

/// Act on the answer; a refused one opens the prompt again with the text and the reason.
pub fn answer(app: &mut App, purpose: Prompt, text: String) -> anyhow::Result<()> {
    let text = text.trim().to_string();
    let retry = |app: &mut App, why: String| {
        app.mode = Mode::Prompt { purpose, input: single_line(&text, purpose.hint()), error: Some(why) };
    };
    // A busy file: the question comes back with the answer typed, and Enter tries again.
    let busy = |app: &mut App, why: Option<String>| {
        if let Some(why) = why {
            let why = format!("{why} Your text is kept: Enter tries again.");
            app.mode = Mode::Prompt { purpose, input: single_line(&text, purpose.hint()), error: Some(why) };
        }
    };
    match purpose {
        Prompt::Assign => match ItemKey::parse(&text) {
            Ok(k) if k.kind == ItemKind::Person => {
                let why = super::triage::triage(app, |_| Ok(EscalationAction::Assign(k.clone())))?;
                busy(app, why)
            }
            _ => retry(app, format!("'{text}' is not a person key like P-3")),
        },
        Prompt::Snooze => {
            let (date, reason) = text.split_once(' ').unwrap_or((&text, ""));
            let today = app.store.clock().today;
            match chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                Ok(until) if until <= today => {
                    retry(app, format!("{until} is not in the future (today is {today}): snooze until a later date"))
                }
                Ok(until) if !reason.trim().is_empty() => {
                    let reason = reason.trim().to_string();
                    let why = super::triage::triage(app, |_| Ok(EscalationAction::Snooze { until, reason: reason.clone() }))?;
                    busy(app, why)
                }
                Ok(_) => retry(app, "say why after the date".into()),
                Err(_) => retry(app, format!("'{date}' is not a date: use YYYY-MM-DD")),
            }
        }
        Prompt::Decide | Prompt::Resolve if text.is_empty() => retry(app, "write the text first".into()),
        Prompt::Decide => {
            let why = super::triage::triage(app, |_| Ok(EscalationAction::Decide(text.clone())))?;
            busy(app, why)
        }
        Prompt::Resolve => {
            let why = super::triage::triage(app, |_| Ok(EscalationAction::Resolve(text.clone())))?;
            busy(app, why)
        }
        Prompt::VarianceFilter => {
            if let Err(why) = super::triage::set_filter(app, &text) {
                retry(app, why);
            }
        }
        Prompt::AddItem | Prompt::MoveItem | Prompt::RetireItem | Prompt::UnretireItem => {
            if let Err(why) = super::upkeep::answer(app, purpose, &text)? {
                retry(app, why);
            }
        }
        Prompt::Search if text.is_empty() => {}
        Prompt::Search => app.run_search(text)?,
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
