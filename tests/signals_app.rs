//! Value sources in the app (issue 20): typing over a source-fed number asks for the override's
//! reason, refuses an empty one, and the detail pane shows the override with its reason.

mod support;

use keel::domain::ItemKey;
use keel::store::{Change, Edit};
use keel::tui::app::Mode;
use ratatui::crossterm::event::KeyCode;
use support::*;

fn editor_label(f: &Fixture) -> Option<String> {
    match &f.app.mode {
        Mode::Edit(ed) => Some(ed.label()),
        _ => None,
    }
}

#[test]
fn typing_over_a_source_fed_value_asks_for_a_reason_and_shows_the_override() {
    let mut f = fixture();
    let k1 = ItemKey::parse("K-1").unwrap();
    other(&f.path, "tester").edit(Edit::one(Change::SourceLink { key: k1.clone(), name: Some("crm".into()) })).unwrap();
    f.app.reload().unwrap();
    search(&mut f.app, "K-1");
    chars(&mut f.app, "a");
    assert!(editor_label(&f).is_some_and(|l| l.contains("K-1 actual")), "{:?}", editor_label(&f));
    chars(&mut f.app, "83");
    key(&mut f.app, KeyCode::Enter);
    // Not saved: the editor now asks why the number stands over the source's.
    let label = editor_label(&f).expect("the editor asks for the reason");
    assert!(label.contains("override reason") && label.contains("83"), "{label}");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("fed by the source 'crm'"), "{screen}");
    assert!(other(&f.path, "tester").detail(&k1).unwrap().values.iter().all(|v| v.override_reason.is_none()));
    // An empty reason is refused, and the question stays.
    key(&mut f.app, KeyCode::Enter);
    assert!(editor_label(&f).is_some_and(|l| l.contains("override reason")));
    assert!(render(&mut f.app, 120, 40).contains("a reason is required"));
    chars(&mut f.app, "CRM counted a renewal twice");
    key(&mut f.app, KeyCode::Enter);
    assert!(editor_label(&f).is_none(), "saved and closed");
    let said = f.app.message.clone().map(|m| m.0).unwrap_or_default();
    assert!(said.contains("overrides the source 'crm'"), "{said}");
    let values = other(&f.path, "tester").detail(&k1).unwrap().values;
    let over = values.iter().find(|v| v.override_reason.is_some()).expect("an override");
    assert_eq!(over.override_reason.as_deref(), Some("CRM counted a renewal twice"));
    assert_eq!(over.actual.map(|n| n.to_string()).as_deref(), Some("83"));
    // The detail pane shows it, with its reason.
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("override") && screen.contains("CRM counted a renewal twice"), "{screen}");
}
