//! The app as its three users live in it: an owner's quick edit and weekly form asking for the
//! narrative when the rule does, an analyst's filters, marks and undo in the variance list, long
//! text read in place, and a facilitator's meeting — each driven by key presses on a TestBackend.

mod support;

use chrono::Duration;
use keel::domain::ItemKey;
use keel::store::escalation_list::Scope;
use keel::tui::app::{EditTarget, Mode};
use ratatui::crossterm::event::KeyCode;
use support::*;

fn message(f: &Fixture) -> String {
    f.app.message.clone().map(|m| m.0).unwrap_or_default()
}

/// A week after the demo's import: narratives written then are last period's.
fn a_week_later(f: &mut Fixture) {
    f.app.store.set_clock(today() + Duration::days(7));
    f.app.reload().unwrap();
}

fn narrative_of(f: &Fixture, key: &str) -> Option<String> {
    let d = other(&f.path, "tester").detail(&ItemKey::parse(key).unwrap()).unwrap();
    d.fields.into_iter().find(|x| x.name == "narrative").and_then(|x| x.value)
}

#[test]
fn a_quick_edit_that_makes_the_item_red_asks_for_the_narrative_with_the_old_one_as_reference() {
    let mut f = fixture();
    a_week_later(&mut f);
    let old = narrative_of(&f, QUICK_EDIT_ITEM).expect("the demo item has a narrative");
    search(&mut f.app, QUICK_EDIT_ITEM);
    chars(&mut f.app, "a");
    chars(&mut f.app, QUICK_EDIT_VALUE);
    key(&mut f.app, KeyCode::Enter);
    let Mode::Edit(ed) = &f.app.mode else { panic!("the editor stays open: {}", message(&f)) };
    assert!(matches!(ed.target, EditTarget::ValueAndNarrative { .. }), "it asks for the narrative: {:?} {:?}", ed.target, ed.error);
    assert_eq!(ed.text(), "", "the old narrative is not the answer");
    let note = ed.note.clone().unwrap();
    assert!(note.contains("for reference") && note.contains(&old[..20.min(old.len())]), "{note}");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("for reference"), "{screen}");
    // Enter on an empty narrative is refused beside the field; nothing was saved.
    key(&mut f.app, KeyCode::Enter);
    let Mode::Edit(ed) = &f.app.mode else { panic!("still asking") };
    assert!(ed.error.as_deref().unwrap().contains("narrative"), "{:?}", ed.error);
    chars(&mut f.app, "renewals slipped; recovery plan agreed with sales");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal), "saved: {}", message(&f));
    assert_eq!(narrative_of(&f, QUICK_EDIT_ITEM).as_deref(), Some("renewals slipped; recovery plan agreed with sales"));
    assert!(message(&f).starts_with("saved"), "{}", message(&f));
}

#[test]
fn the_weekly_forms_narrative_label_follows_the_typed_number() {
    let mut f = fixture_as(WEEKLY_OWNER);
    f.app.store.set_clock(today() + Duration::days(7));
    keel::tui::weekly::start(&mut f.app).unwrap();
    for _ in 0..20 {
        let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
        if w.current().unwrap().key == WEEKLY_ITEM {
            break;
        }
        key(&mut f.app, KeyCode::Tab);
    }
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
    assert_eq!(w.current().unwrap().key, WEEKLY_ITEM);
    assert!(w.narrative_rule.is_none(), "optional before a number is typed: {:?}", w.narrative_rule);
    assert!(render(&mut f.app, 120, 40).contains("narrative optional"));
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, WEEKLY_RED_VALUE);
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
    assert!(w.narrative_rule.is_some(), "the typed number makes it required");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("narrative required"), "{screen}");
    // Enter without one is refused with the rule's words; typing a fine number makes it optional again.
    key(&mut f.app, KeyCode::Enter);
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
    assert!(w.error.as_deref().unwrap().contains("narrative"), "{:?}", w.error);
    ctrl(&mut f.app, 'u');
    key(&mut f.app, KeyCode::Up);
    key(&mut f.app, KeyCode::Up);
    key(&mut f.app, KeyCode::Up);
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, WEEKLY_FINE_VALUE);
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
    assert!(w.narrative_rule.is_none(), "optional again");
}

#[test]
fn the_variance_list_filters_by_unit_and_owner() {
    let mut f = fixture();
    let all = f.app.variance.list.len();
    chars(&mut f.app, "F");
    chars(&mut f.app, "U-1");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal), "{:?}", message(&f));
    assert_eq!(f.app.variance.filter.unit.as_deref(), Some("U-1"));
    let n = f.app.variance.list.len();
    assert!(n > 0 && n < all, "{n} of {all}");
    let rows = other(&f.path, "tester").escalations(&f.app.variance.filter).unwrap();
    assert!(rows.iter().all(|e| e.unit.as_deref() == Some("U-1")));
    assert!(render(&mut f.app, 120, 40).contains("unit U-1"));
    // An owner's login; a person key means that person.
    chars(&mut f.app, "F");
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, "P-5");
    key(&mut f.app, KeyCode::Enter);
    let login = f.app.variance.filter.owner_login.clone().expect("an owner filter");
    let rows = other(&f.path, "tester").escalations(&f.app.variance.filter).unwrap();
    assert!(!rows.is_empty());
    let owner = rows[0].owner.clone().unwrap();
    assert!(rows.iter().all(|e| e.owner.as_deref() == Some(owner.as_str())));
    assert!(render(&mut f.app, 120, 40).contains(&format!("owner {login}")));
    // A unit that is not one is refused beside the question.
    chars(&mut f.app, "F");
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, "M-3");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Prompt { error, .. } = &f.app.mode else { panic!("the prompt stays") };
    assert!(error.as_deref().unwrap().contains("neither a person nor a unit"));
    key(&mut f.app, KeyCode::Esc);
    // Empty shows everyone's again.
    chars(&mut f.app, "F");
    ctrl(&mut f.app, 'u');
    key(&mut f.app, KeyCode::Enter);
    assert_eq!(f.app.variance.list.len(), all);
}

#[test]
fn mark_all_marks_every_row_of_the_filter_and_again_unmarks() {
    let mut f = fixture();
    chars(&mut f.app, "3*");
    let all = other(&f.path, "tester").escalations(&f.app.variance.filter).unwrap();
    assert_eq!(f.app.variance.marked.len(), all.len());
    assert!(all.iter().all(|e| f.app.variance.marked.contains(&e.id)));
    assert!(render(&mut f.app, 120, 40).contains(&format!("{} marked", all.len())));
    chars(&mut f.app, "*");
    assert!(f.app.variance.marked.is_empty());
}

#[test]
fn a_triage_action_taken_by_mistake_is_undone_through_the_write_path() {
    let mut f = fixture();
    chars(&mut f.app, "3");
    let e = f.app.variance.list.get(0).unwrap().clone();
    // Resolved by mistake: u opens it again, as it was.
    chars(&mut f.app, "R");
    chars(&mut f.app, "wrong row");
    key(&mut f.app, KeyCode::Enter);
    let store = other(&f.path, "tester");
    assert!(store.escalation_page(&Default::default(), Scope::Escalation(e.id)).unwrap().is_empty(), "resolved");
    assert!(message(&f).contains("u undoes it"), "{}", message(&f));
    chars(&mut f.app, "u");
    assert!(message(&f).contains("undone"), "{}", message(&f));
    let again = store.escalation_page(&Default::default(), Scope::Escalation(e.id)).unwrap();
    assert_eq!(again.len(), 1, "open again");
    assert_eq!(again[0].1.acknowledged_by, e.acknowledged_by);
    // Acknowledged and decided by mistake: both taken back, the decision withdrawn.
    let decisions = |f: &Fixture| other(&f.path, "tester").detail(&ItemKey::parse(&e.key).unwrap()).unwrap().decisions.len();
    let before = decisions(&f);
    chars(&mut f.app, "gD");
    chars(&mut f.app, "fund it");
    key(&mut f.app, KeyCode::Enter);
    assert_eq!(decisions(&f), before + 1);
    chars(&mut f.app, "u");
    let row = store.escalation_page(&Default::default(), Scope::Escalation(e.id)).unwrap().remove(0).1;
    assert_eq!(row.decision, e.decision, "the decision is taken back");
    assert_eq!(decisions(&f), before, "and withdrawn from the item's decisions");
    // The audit log has the action and its undoing.
    let log = store.audit_log(Some(&e.key), None, None).unwrap();
    assert!(log.iter().any(|r| r.entry.new_value.as_deref().is_some_and(|v| v.starts_with("undone"))), "audited");
}

#[test]
fn long_text_fields_are_read_whole_in_place() {
    let mut f = fixture();
    search(&mut f.app, "M-1");
    let narrative = narrative_of(&f, "M-1").unwrap();
    let screen = render(&mut f.app, 80, 24);
    assert!(!screen.contains(&narrative), "the detail pane gives it one line");
    chars(&mut f.app, "i");
    assert!(matches!(f.app.mode, Mode::Reader(_)), "the reader opens");
    // Every word of the narrative is on screen somewhere as the reader scrolls.
    let mut seen = String::new();
    for _ in 0..40 {
        seen.push_str(&render(&mut f.app, 80, 24));
        chars(&mut f.app, "j");
    }
    let last = narrative.split_whitespace().last().unwrap();
    assert!(seen.contains(last), "the narrative's last word '{last}' shows");
    let Mode::Reader(r) = &f.app.mode else { panic!("reader") };
    assert!(r.scroll <= r.max_scroll, "scrolling stops at the end");
    key(&mut f.app, KeyCode::Esc);
    assert!(matches!(f.app.mode, Mode::Normal));
}

fn has_whole_date_after_due(line: &str) -> bool {
    let Some(at) = line.find("due ") else { return true };
    let date: String = line[at + 4..].chars().take(10).collect();
    chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok()
}

#[test]
fn milestone_dates_are_never_cut() {
    let mut f = fixture();
    search(&mut f.app, "M-1");
    chars(&mut f.app, "2");
    let mut seen = 0;
    for _ in 0..80 {
        let screen = render(&mut f.app, 80, 24);
        for l in screen.lines().filter(|l| l.contains("— due")) {
            seen += 1;
            assert!(has_whole_date_after_due(l), "a whole date: {l}");
        }
        chars(&mut f.app, "j");
    }
    assert!(seen > 0, "milestones were shown");
    // The weekly form's next milestone, at 80 columns.
    let mut shown = 0;
    for owner in ["jonas", "priya", "tomas"] {
        let mut f = fixture_as(owner);
        f.app.store.set_clock(today() + Duration::days(7));
        keel::tui::weekly::start(&mut f.app).unwrap();
        while matches!(f.app.mode, Mode::Weekly(_)) {
            let screen = render(&mut f.app, 80, 24);
            for l in screen.lines().filter(|l| l.contains("next milestone:")) {
                shown += 1;
                assert!(has_whole_date_after_due(l), "a whole date: {l}");
            }
            key(&mut f.app, KeyCode::Tab);
        }
    }
    assert!(shown > 0, "a next milestone was shown");
}

#[test]
fn a_negative_funnel_stage_is_drawn_and_named() {
    use keel::domain::rollup::Money;
    use keel::domain::{Num, Stage};
    let money = |n: &str| Money { planned: Num::ZERO, forecast: Num::parse(n).unwrap(), actual: Num::ZERO };
    let lines = keel::tui::view::meeting::funnel_lines(&[(Stage::Defined, money("400000")), (Stage::Identified, money("-120000"))], 80);
    assert_eq!(lines.len(), 2, "no stage is dropped");
    assert!(!lines[0].1 && lines[0].0.contains("400,000") && lines[0].0.contains('█'), "{:?}", lines[0]);
    assert!(lines[1].1 && lines[1].0.contains("-120,000") && lines[1].0.contains("negative"), "{:?}", lines[1]);
    assert!(lines.iter().all(|(l, _)| keel::tui::view::width_of(l) <= 80), "{lines:?}");
}

fn open_meeting(f: &mut Fixture, agenda: &str) {
    chars(&mut f.app, "P");
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, agenda);
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Meeting(_)), "{}", message(f));
}

#[test]
fn a_meeting_that_decided_nothing_keeps_the_changed_since_baseline() {
    let mut f = fixture();
    let before = f.app.store.last_meeting(None).unwrap().map(|m| m.started_at);
    open_meeting(&mut f, "o");
    chars(&mut f.app, "qq");
    assert!(matches!(f.app.mode, Mode::Normal));
    assert!(message(&f).contains("no decisions"), "{}", message(&f));
    open_meeting(&mut f, "o");
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting") };
    assert_eq!(m.since, before, "the empty meeting did not move the baseline");
    // One that decides something does.
    chars(&mut f.app, "d");
    chars(&mut f.app, "review the renewal forecast @P-2");
    key(&mut f.app, KeyCode::Enter);
    let started = f.app.store.last_meeting(None).unwrap().map(|m| m.started_at);
    assert!(started.is_some() && started != before);
}

#[test]
fn an_objectives_page_shows_what_is_escalated_and_late_beneath_it_and_earlier_decisions() {
    let mut f = fixture();
    open_meeting(&mut f, "o");
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting") };
    assert!(m.agenda[0].starts_with("O-"), "{:?}", m.agenda);
    let (escalated, late) = (m.beneath.escalations.clone(), m.beneath.late.clone());
    assert!(!escalated.is_empty(), "the first objective has escalations beneath it");
    let screen = render(&mut f.app, 200, 60);
    assert!(screen.contains(&escalated[0].key) && screen.contains(escalated[0].tier_label), "{screen}");
    if let Some(l) = late.first() {
        assert!(screen.contains(&format!("late {}d", l.days)), "{screen}");
    }
    // A decision taken in an earlier meeting shows as already taken.
    chars(&mut f.app, "d");
    chars(&mut f.app, "ask finance for the budget");
    key(&mut f.app, KeyCode::Enter);
    chars(&mut f.app, "qq");
    open_meeting(&mut f, "o");
    let screen = render(&mut f.app, 200, 60);
    assert!(screen.contains("decisions already taken") && screen.contains("ask finance for the budget"), "{screen}");
}

#[test]
fn a_units_agenda_names_the_unit_and_t_shows_the_item_in_the_tree() {
    let mut f = fixture();
    open_meeting(&mut f, "U-4");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.lines().next().unwrap().contains("unit U-4 Customer Service"), "{screen}");
    key(&mut f.app, KeyCode::PageDown);
    let (index, item) = {
        let Mode::Meeting(m) = &f.app.mode else { panic!("meeting") };
        (m.index, m.agenda[m.index].clone())
    };
    chars(&mut f.app, "t");
    assert!(matches!(f.app.mode, Mode::Normal));
    assert_eq!(f.app.selected_key().map(|k| k.to_string()), Some(item.clone()), "the tree is on the item");
    assert!(message(&f).contains("P goes back"), "{}", message(&f));
    chars(&mut f.app, "P");
    let Mode::Meeting(m) = &f.app.mode else { panic!("back in the meeting") };
    assert_eq!((m.index, m.agenda[m.index].clone()), (index, item));
}

#[test]
fn demo_no_open_says_who_is_who() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.keel");
    let out = assert_cmd::Command::cargo_bin("keel").unwrap().args(["demo", "--no-open", "--db"]).arg(&db).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("who is who") && text.contains("KEEL_USER=LOGIN"), "{text}");
    let amara = text.lines().find(|l| l.trim_start().starts_with("amara ")).expect("amara listed");
    assert!(amara.contains("Amara Okafor") && amara.contains("owns"), "{amara}");
}

#[test]
fn a_replaced_file_is_reopened_in_place_keeping_the_selection() {
    let mut f = fixture();
    search(&mut f.app, "M-9");
    let backup = f.path.with_file_name("backup.db");
    drop(keel::io::demo::create_at(&backup, today(), "tester").unwrap());
    std::fs::rename(&backup, &f.path).unwrap();
    assert!(f.app.notice_replaced_file());
    let Mode::Confirm { prompt, .. } = &f.app.mode else { panic!("it offers to reopen") };
    assert!(prompt.contains("Reopen the file that is there now? y/n"), "{prompt}");
    assert!(render(&mut f.app, 80, 24).contains("Reopen the file"));
    chars(&mut f.app, "y");
    assert!(f.app.read_only.is_none(), "{:?}", f.app.read_only);
    assert!(f.app.store.file_replaced().is_none(), "the store is on the file there now");
    assert_eq!(f.app.detail.target.as_ref().map(|k| k.to_string()).as_deref(), Some("M-9"), "{}", message(&f));
    assert!(message(&f).contains("reopened") && message(&f).contains("M-9 is still selected"), "{}", message(&f));
    // Saves go to the new file.
    chars(&mut f.app, "f");
    chars(&mut f.app, "4242");
    key(&mut f.app, KeyCode::Enter);
    assert!(message(&f).starts_with("saved"), "{}", message(&f));
    let d = other(&f.path, "tester").detail(&ItemKey::parse("M-9").unwrap()).unwrap();
    assert!(d.values.iter().any(|v| v.forecast.is_some_and(|x| x.to_string() == "4242")), "saved into the new file");
}

#[test]
fn a_deleted_file_is_said_and_the_app_stays_read_only() {
    let mut f = fixture();
    std::fs::remove_file(&f.path).unwrap();
    assert!(f.app.notice_replaced_file());
    chars(&mut f.app, "y");
    assert!(f.app.read_only.is_some(), "still read-only");
    assert!(message(&f).contains("cannot reopen") && message(&f).contains("no such file"), "{}", message(&f));
    assert!(!f.app.notice_replaced_file(), "not asked again on every refresh");
    // Reloading what is left keeps it read-only, and does not ask again.
    key(&mut f.app, KeyCode::Esc);
    chars(&mut f.app, "t");
    assert!(f.app.read_only.is_some());
    assert!(!f.app.notice_replaced_file());
    // Ctrl-R asks again rather than reading the old file as if nothing happened.
    ctrl(&mut f.app, 'r');
    assert!(matches!(f.app.mode, Mode::Confirm { .. }));
}

#[test]
fn a_busy_save_says_so_and_enter_tries_again_with_the_text_kept() {
    let mut f = fixture();
    f.app.store.wait_for_writers(std::time::Duration::from_millis(50)).unwrap();
    search(&mut f.app, "M-9");
    chars(&mut f.app, "f");
    chars(&mut f.app, "4343");
    // Another keel holds the write lock.
    let lock = rusqlite::Connection::open(&f.path).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    key(&mut f.app, KeyCode::Enter);
    let Mode::Edit(ed) = &f.app.mode else { panic!("the editor stays open") };
    assert_eq!(ed.text(), "4343", "what was typed is kept");
    let err = ed.error.clone().unwrap();
    assert!(err.contains("busy") && err.contains("Enter to try again"), "{err}");
    assert!(render(&mut f.app, 120, 40).contains("busy"));
    lock.execute_batch("ROLLBACK").unwrap();
    key(&mut f.app, KeyCode::Enter);
    assert!(message(&f).starts_with("saved"), "{}", message(&f));
    // A prompt's answer is kept the same way.
    chars(&mut f.app, "3D");
    chars(&mut f.app, "fund the fix");
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    key(&mut f.app, KeyCode::Enter);
    let Mode::Prompt { input, error, .. } = &f.app.mode else { panic!("the prompt stays open") };
    assert_eq!(input.lines().join(""), "fund the fix");
    assert!(error.as_deref().unwrap().contains("busy"), "{error:?}");
    lock.execute_batch("ROLLBACK").unwrap();
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal), "{}", message(&f));
}

// The demo's items these tests lean on (see demo-data/plan.json).
const QUICK_EDIT_ITEM: &str = "KR-1";
const QUICK_EDIT_VALUE: &str = "60";
const WEEKLY_OWNER: &str = "jonas";
const WEEKLY_ITEM: &str = "M-3";
const WEEKLY_RED_VALUE: &str = "10";
const WEEKLY_FINE_VALUE: &str = "100000";

#[test]
fn a_measure_with_no_values_shows_blanks_not_zeros_in_the_detail_pane() {
    let mut f = fixture();
    // M-7 has no value in any period in the demo; M-1 has.
    search(&mut f.app, "M-7");
    let screen = render(&mut f.app, 120, 40);
    let line = screen.lines().find(|l| l.contains("net value:")).expect("the net value line");
    assert!(line.contains("planned —  forecast —  actual —"), "{line}");
    search(&mut f.app, "M-1");
    let screen = render(&mut f.app, 120, 40);
    let line = screen.lines().find(|l| l.contains("net value:")).expect("the net value line");
    assert!(!line.contains('—') && line.contains("planned "), "{line}");
}
