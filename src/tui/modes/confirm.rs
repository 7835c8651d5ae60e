//! A yes/no question before an action that cannot be taken back, and a notice to read.

use super::super::action::Action;
use super::super::app::App;
use super::super::update::Pending;
use super::Mode;

pub fn handle_confirm(app: &mut App, prompt: String, then: Pending, action: Option<Action>) -> anyhow::Result<()> {
    match action {
        Some(Action::Yes) => super::editor::run_pending(app, then)?,
        Some(Action::No) if matches!(then, Pending::Reopen) => {
            let reload = app.keymap.first_key(Action::Reload);
            app.say(format!("not reopened: viewing only, nothing is saved; {reload} offers to reopen again"));
        }
        Some(Action::No) => app.say("cancelled"),
        _ => app.mode = Mode::Confirm { prompt, then },
    }
    Ok(())
}

pub fn handle_notice(app: &mut App, title: String, lines: Vec<String>, action: Option<Action>) {
    if action != Some(Action::Close) {
        app.mode = Mode::Notice { title, lines };
    }
}
