//! The three working rhythms driven through the app's key handling, checking the database
//! afterwards: the weekly update, variance triage, the check-in meeting, undo, cycle turnover.

mod common;
mod support;

use common::pg::{Database, Engine};
use keel::domain::{ItemKey, Period};
use keel::store::{Change, Edit};
use keel::tui::app::App;
use keel::tui::app::{Mode, Pane};
use keel::tui::keymap::Keymap;
use keel::tui::theme::Theme;
use ratatui::crossterm::event::KeyCode;
use rusqlite::Connection;
use support::*;

/// `support::other`, on a server connected as the person's own role (a server takes who acts
/// from the connection, never from keel).
fn other(path: &std::path::Path, login: &str) -> keel::store::Store {
    support::other(&common::pg::as_role(path, login), login)
}

/// The fixture on `engine`: on PostgreSQL the same demo in a database of the test's own (the
/// guard drops it), or `None` (skipped) without a server.
fn fixture_on(engine: Engine, login: &str) -> Option<(Option<Database>, Fixture)> {
    if engine == Engine::Sqlite {
        return Some((None, fixture_as(login)));
    }
    let db = Database::new("rhythms")?;
    let path = std::path::PathBuf::from(&db.url);
    drop(keel::io::demo::create_at(&common::pg::as_role(&path, "tester"), today(), "tester").unwrap());
    let app = App::new(other(&path, login), Keymap::default_only(), Theme { color: false }).unwrap();
    Some((Some(db), Fixture { _dir: tempfile::tempdir().unwrap(), path, app }))
}

fn actual(path: &std::path::Path, key: &str, period: &str) -> Option<String> {
    let s = other(path, "tester");
    s.period_values(&ItemKey::parse(key).unwrap(), period).unwrap().actual.map(|a| a.to_string())
}

fn audit_actors(path: &std::path::Path, key: &str) -> Vec<(String, String)> {
    other(path, "tester").audit_log(Some(key), None, None).unwrap().into_iter().map(|r| (r.actor, r.entry.field)).collect()
}

fn weekly_update_saves_each_item_and_summarises(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "amara") else { return };
    assert!(keel::tui::weekly::start(&mut f.app).unwrap(), "amara has updates due");
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly mode") };
    let due: Vec<String> = w.items.iter().map(|i| i.key.clone()).collect();
    assert_eq!(due, ["K-2", "KR-2", "M-10"], "oldest first");
    // K-2: actual, then forecast and confidence on the next fields.
    chars(&mut f.app, "6.2");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "6.1");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "0.8");
    key(&mut f.app, KeyCode::Enter);
    // KR-2 skipped, M-10 saved.
    key(&mut f.app, KeyCode::Tab);
    chars(&mut f.app, "12000");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Notice { title, lines } = &f.app.mode else { panic!("a summary at the end") };
    assert!(title.contains("2 of 3 saved"), "{title}");
    assert!(lines.iter().any(|l| l.contains("KR-2 skipped")), "{lines:?}");
    assert_eq!(actual(&f.path, "K-2", "2026-W48").as_deref(), Some("6.2"));
    assert_eq!(actual(&f.path, "KR-2", "2026-W48"), None);
    assert_eq!(actual(&f.path, "M-10", "2026-W48").as_deref(), Some("12000"));
    let pv = other(&f.path, "tester").period_values(&ItemKey::parse("K-2").unwrap(), "2026-W48").unwrap();
    assert_eq!(pv.confidence.unwrap().to_string(), "0.8");
    assert!(audit_actors(&f.path, "M-10").iter().any(|(actor, field)| actor == "amara" && field == "actual@2026-W48"));
}

fn an_escalated_item_needs_a_narrative_and_nothing_is_saved_without_one(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "amara") else { return };
    // K-2 has said nothing yet (its narrative is empty).
    let clear =
        keel::store::Change::Set { key: ItemKey::parse("K-2").unwrap(), field: "narrative".into(), value: String::new(), if_version: None };
    other(&f.path, "amara").edit(keel::store::Edit::one(clear)).unwrap();
    keel::tui::weekly::start(&mut f.app).unwrap();
    // Churn far above target escalates K-2 to the steering committee.
    chars(&mut f.app, "9");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Weekly(w) = &f.app.mode else { panic!("still in the weekly update") };
    assert_eq!(w.index, 0, "stays on the item");
    assert!(w.error.as_deref().unwrap().contains("narrative: is required"), "{:?}", w.error);
    assert_eq!(actual(&f.path, "K-2", "2026-W48"), None, "the refused save left nothing behind");
    // Write why and what next: now it saves.
    for _ in 0..4 {
        key(&mut f.app, KeyCode::Down);
    }
    chars(&mut f.app, "Feed counted trial accounts; fix ships Friday");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Weekly(w) = &f.app.mode else { panic!("moves on to the next item") };
    assert_eq!(w.index, 1);
    assert_eq!(actual(&f.path, "K-2", "2026-W48").as_deref(), Some("9"));
}

fn owners_can_close_a_milestone_from_the_weekly_update(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "priya") else { return };
    assert!(keel::tui::weekly::start(&mut f.app).unwrap());
    // Skip to M-12, the stale measure with open milestones.
    for _ in 0..10 {
        match &f.app.mode {
            Mode::Weekly(w) if w.current().is_some_and(|i| i.key != "M-12") => key(&mut f.app, KeyCode::Tab),
            _ => break,
        }
    }
    let Mode::Weekly(w) = &f.app.mode else { panic!("M-12 is due for priya") };
    assert_eq!(w.current().unwrap().key, "M-12");
    let before = other(&f.path, "tester").detail(&ItemKey::parse("M-12").unwrap()).unwrap();
    let open_before = before.milestones.iter().filter(|m| m.done.is_none()).count();
    assert!(open_before > 0, "M-12 has an open milestone in the demo");
    ctrl(&mut f.app, 'd');
    let after = other(&f.path, "tester").detail(&ItemKey::parse("M-12").unwrap()).unwrap();
    assert_eq!(after.milestones.iter().filter(|m| m.done.is_none()).count(), open_before - 1);
    assert!(audit_actors(&f.path, "M-12").iter().any(|(a, fld)| a == "priya" && fld.starts_with("milestone")));
}

fn triage_acts_on_several_marked_escalations_at_once(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "tester") else { return };
    chars(&mut f.app, "3");
    assert_eq!(f.app.focus, Pane::Variance);
    let first_two: Vec<i64> = f.app.variance.list.iter().take(2).map(|e| e.id).collect();
    key(&mut f.app, KeyCode::Char(' '));
    key(&mut f.app, KeyCode::Char(' '));
    assert_eq!(f.app.variance.marked.iter().copied().collect::<Vec<_>>(), first_two);
    chars(&mut f.app, "K");
    assert!(f.app.variance.marked.is_empty());
    for id in &first_two {
        let e = f.app.variance.list.iter().find(|e| e.id == *id).unwrap();
        assert_eq!(e.acknowledged_by.as_deref(), Some("tester"));
    }
    // Assign the selected one to P-3 through the prompt.
    chars(&mut f.app, "gO");
    assert!(matches!(f.app.mode, Mode::Normal), "O is not bound; nothing opens");
    chars(&mut f.app, "o");
    assert!(matches!(f.app.mode, Mode::Prompt { .. }));
    chars(&mut f.app, "P-3");
    key(&mut f.app, KeyCode::Enter);
    let top = f.app.variance.list.get(0).unwrap().clone();
    assert!(top.assignee.is_some(), "{top:?}");
    // Snooze needs a date and a reason.
    chars(&mut f.app, "z");
    chars(&mut f.app, "2026-12-04");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Prompt { .. }), "a reason is required");
    chars(&mut f.app, " waiting for the vendor fix");
    key(&mut f.app, KeyCode::Enter);
    assert_eq!(f.app.variance.list.get(0).unwrap().snoozed_until.as_deref(), Some("2026-12-04"));
    let log = audit_actors(&f.path, &top.key);
    assert!(log.iter().filter(|(a, fld)| a == "tester" && fld.starts_with("escalation ")).count() >= 3, "{log:?}");
}

fn the_stale_list_names_owners_to_chase(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "tester") else { return };
    chars(&mut f.app, "S");
    let Mode::Stale(list) = &f.app.mode else { panic!("stale list") };
    let lines: Vec<&str> = list.rows.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("M-12") && lines[0].contains("Priya Raman"), "{lines:?}");
    // Enter jumps to the item.
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal));
    assert_eq!(f.app.selected_key().map(|k| k.to_string()).as_deref(), Some("M-12"));
}

#[test]
fn a_meeting_records_decisions_and_ends_with_the_list() {
    let mut f = fixture();
    chars(&mut f.app, "P");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting mode") };
    let first = m.agenda[0].clone();
    assert_eq!(first, "O-1");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("CHECK-IN") && screen.contains("actual against plan"), "{screen}");
    chars(&mut f.app, "d");
    chars(&mut f.app, "Fund two onboarding coaches @P-2");
    key(&mut f.app, KeyCode::Enter);
    key(&mut f.app, KeyCode::Right);
    chars(&mut f.app, "c");
    let screen = render(&mut f.app, 80, 24);
    assert!(screen.contains("What changed"), "{screen}");
    chars(&mut f.app, "q");
    let screen = render(&mut f.app, 80, 24);
    assert!(screen.contains("Decisions of this meeting (1)") && screen.contains("owner: Amara Okafor"), "{screen}");
    key(&mut f.app, KeyCode::Esc);
    assert!(matches!(f.app.mode, Mode::Normal));
    let c = Connection::open(&f.path).unwrap();
    let (text, meeting, ended): (String, i64, Option<String>) = c
        .query_row("SELECT d.text, d.meeting_id, m.ended_at FROM decisions d JOIN meetings m ON m.id = d.meeting_id", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(text, "Fund two onboarding coaches");
    assert!(meeting > 0 && ended.is_some());
    assert!(audit_actors(&f.path, "O-1").iter().any(|(a, fld)| a == "tester" && fld == "decision"));
}

fn undo_takes_back_my_edit_but_not_over_someone_elses(engine: Engine) {
    let Some((_db, mut f)) = fixture_on(engine, "tester") else { return };
    search(&mut f.app, "M-5");
    chars(&mut f.app, "a11111");
    key(&mut f.app, KeyCode::Enter);
    assert_eq!(actual(&f.path, "M-5", "2026-W48").as_deref(), Some("11111"));
    chars(&mut f.app, "u");
    assert_eq!(actual(&f.path, "M-5", "2026-W48").as_deref(), Some("10920.00"), "restored exactly");
    // Edit again, then someone else changes the value: undo refuses.
    chars(&mut f.app, "a22222");
    key(&mut f.app, KeyCode::Enter);
    let mut ravi = other(&f.path, "ravi");
    ravi.edit(Edit::one(Change::Value {
        key: ItemKey::parse("M-5").unwrap(),
        period: Period::parse("2026-W48").unwrap(),
        field: "actual".into(),
        value: "12000".into(),
        if_version: None,
    }))
    .unwrap();
    chars(&mut f.app, "u");
    let (msg, warn) = f.app.message.clone().unwrap();
    assert!(warn && msg.contains("cannot undo") && msg.contains("ravi"), "{msg}");
    assert_eq!(actual(&f.path, "M-5", "2026-W48").as_deref(), Some("12000"));
}

#[test]
fn a_new_cycle_copies_objectives_and_key_results_with_alignment() {
    let f = fixture();
    let mut s = other(&f.path, "tester");
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2027, 6, 30).unwrap();
    s.edit(Edit::one(Change::CopyCycle { from: ItemKey::parse("C-1").unwrap(), name: "FY27-H1".into(), start, end })).unwrap();
    let c = Connection::open(&f.path).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let old_o = count("SELECT COUNT(*) FROM objectives WHERE cycle_id = (SELECT id FROM cycles WHERE name = 'FY26-H2')");
    let new_o = count("SELECT COUNT(*) FROM objectives WHERE cycle_id = (SELECT id FROM cycles WHERE name = 'FY27-H1')");
    assert_eq!(old_o, new_o);
    let new_kr = count("SELECT COUNT(*) FROM key_results k JOIN objectives o ON o.id = k.objective_id JOIN cycles y ON y.id = o.cycle_id WHERE y.name = 'FY27-H1'");
    let old_kr = count("SELECT COUNT(*) FROM key_results k JOIN objectives o ON o.id = k.objective_id JOIN cycles y ON y.id = o.cycle_id WHERE y.name = 'FY26-H2'");
    assert_eq!(new_kr, old_kr);
    // Parents of copies are copies (same cycle), and no values were copied.
    assert_eq!(
        count("SELECT COUNT(*) FROM objectives o JOIN objectives p ON p.id = o.parent_id WHERE o.cycle_id <> p.cycle_id"),
        0,
        "alignment stays within each cycle"
    );
    assert_eq!(count("SELECT COUNT(*) FROM item_values v JOIN key_results k ON k.id = v.item_id JOIN objectives o ON o.id = k.objective_id JOIN cycles y ON y.id = o.cycle_id WHERE y.name = 'FY27-H1'"), 0);
    // The old cycle is still there, readable.
    assert!(s.detail(&ItemKey::parse("O-1").unwrap()).unwrap().title.contains("retention"));
    // Only a PMO administrator may start a cycle.
    let mut priya = other(&f.path, "priya");
    let err = priya.edit(Edit::one(Change::CopyCycle { from: ItemKey::parse("C-1").unwrap(), name: "X".into(), start, end })).unwrap_err();
    assert!(err.to_string().contains("PMO administrator"));
}

crate::on_both_engines!(
    weekly_update_saves_each_item_and_summarises
    an_escalated_item_needs_a_narrative_and_nothing_is_saved_without_one
    owners_can_close_a_milestone_from_the_weekly_update
    triage_acts_on_several_marked_escalations_at_once
    the_stale_list_names_owners_to_chase
    undo_takes_back_my_edit_but_not_over_someone_elses
);
