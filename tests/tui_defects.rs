//! The app's defects as its users met them (issue 14), each driven through key presses on a
//! TestBackend: what the screen and the model show afterwards.

mod support;

use keel::store::edit::EscalationAction;
use keel::store::{Change, Edit};
use keel::tui::app::Mode;
use ratatui::crossterm::event::KeyCode;
use support::*;

fn message(f: &Fixture) -> String {
    f.app.message.clone().map(|m| m.0).unwrap_or_default()
}

fn resolve_elsewhere(f: &Fixture, id: i64) {
    let mut s = other(&f.path, "tester");
    s.edit(Edit::one(Change::Escalation { id, action: EscalationAction::Resolve("fixed from the CLI".into()) })).unwrap();
}

#[test]
fn marks_follow_a_refresh_and_the_next_bulk_action_works() {
    let mut f = fixture();
    chars(&mut f.app, "3  ");
    let marked: Vec<i64> = f.app.variance.marked.iter().copied().collect();
    assert_eq!(marked.len(), 2);
    let gone = f.app.variance.marked_keys[&marked[0]].clone();
    resolve_elsewhere(&f, marked[0]);
    assert!(f.app.changed_elsewhere());
    f.app.reload().unwrap();
    assert_eq!(f.app.variance.marked.iter().copied().collect::<Vec<_>>(), vec![marked[1]], "the closed one is unmarked");
    let msg = message(&f);
    assert!(msg.contains(&gone) && msg.contains("no longer open") && msg.contains("1 still marked"), "{msg}");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("1 still marked"), "{screen}");
    chars(&mut f.app, "K");
    let msg = message(&f);
    assert!(!msg.contains("nothing was changed"), "{msg}");
    assert!(f.app.variance.marked.is_empty());
    let row =
        other(&f.path, "tester").escalation_page(&Default::default(), keel::store::escalation_list::Scope::Escalation(marked[1])).unwrap();
    assert!(row[0].1.acknowledged_by.is_some(), "the one still open was acknowledged");
}

#[test]
fn a_bulk_action_skips_what_closed_before_a_refresh_and_says_so() {
    let mut f = fixture();
    chars(&mut f.app, "3  ");
    let marked: Vec<i64> = f.app.variance.marked.iter().copied().collect();
    let gone = f.app.variance.marked_keys[&marked[0]].clone();
    resolve_elsewhere(&f, marked[0]);
    // No refresh yet: the action itself notices.
    chars(&mut f.app, "K");
    let msg = message(&f);
    assert!(!msg.contains("nothing was changed"), "{msg}");
    assert!(msg.contains(&format!("skipped {gone}: no longer open")), "{msg}");
}
