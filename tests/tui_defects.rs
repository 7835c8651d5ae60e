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

fn last_lines(screen: &str, n: usize) -> Vec<String> {
    let lines: Vec<String> = screen.lines().map(str::to_string).collect();
    lines[lines.len() - n..].to_vec()
}

#[test]
fn a_prompt_clears_its_lines_and_shows_a_refusal_beside_the_question() {
    let mut f = fixture();
    chars(&mut f.app, "3o");
    let screen = render(&mut f.app, 120, 40);
    let [ask, answer] = <[String; 2]>::try_from(last_lines(&screen, 2)).unwrap();
    assert!(ask.contains("assign to whom?"), "{ask}");
    assert!(!answer.contains("search") && !answer.contains("help"), "the main key bar is gone: {answer}");
    assert!(answer.contains("enter answer") && answer.contains("esc cancel"), "the prompt's own keys: {answer}");
    chars(&mut f.app, "x");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Prompt { error, .. } = &f.app.mode else { panic!("the prompt stays open") };
    assert!(error.as_deref().unwrap().contains("'x' is not a person key"));
    let screen = render(&mut f.app, 120, 40);
    let [ask, answer] = <[String; 2]>::try_from(last_lines(&screen, 2)).unwrap();
    assert!(ask.contains("✖ 'x' is not a person key like P-3 — assign to whom?"), "{ask}");
    assert!(answer.starts_with("\"> x "), "{answer}");
    insta::assert_snapshot!("assign_prompt_refused_80x24", render(&mut f.app, 80, 24));
    // Ctrl-U clears the field.
    ctrl(&mut f.app, 'u');
    let Mode::Prompt { input, .. } = &f.app.mode else { panic!("still open") };
    assert_eq!(input.lines().join(""), "");
}

#[test]
fn triage_results_show_in_the_list_and_the_detail() {
    let mut f = fixture();
    chars(&mut f.app, "3o");
    chars(&mut f.app, "P-3");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal), "{:?}", f.app.message);
    let assigned = f.app.variance.list.get(f.app.variance.cursor).unwrap().clone();
    let who = assigned.assignee.clone().expect("assigned");
    let screen = render(&mut f.app, 120, 40);
    let first = who.split_whitespace().next().unwrap();
    let row = screen.lines().find(|l| l.contains(&format!(" {} ", assigned.key)) && !l.contains("variance") && l.contains('!'));
    assert!(row.is_some_and(|l| l.contains(&format!("→{first}"))), "the list shows the assignee:\n{screen}");
    assert!(screen.contains(&format!("assigned to {who}")), "the detail says it:\n{screen}");
    chars(&mut f.app, "D");
    chars(&mut f.app, "fund the fix");
    key(&mut f.app, KeyCode::Enter);
    chars(&mut f.app, "z");
    chars(&mut f.app, "2026-12-04 waiting for the vendor");
    key(&mut f.app, KeyCode::Enter);
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("z12-04"), "the list shows the snooze:\n{screen}");
    assert!(screen.contains("snoozed until 2026-12-04"), "{screen}");
    assert!(screen.contains("decision: fund the fix"), "{screen}");
}

#[test]
fn snooze_refuses_a_date_in_the_past() {
    let mut f = fixture();
    chars(&mut f.app, "3z");
    chars(&mut f.app, "2026-11-01 too late");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Prompt { error, .. } = &f.app.mode else { panic!("the prompt stays open") };
    assert!(error.as_deref().unwrap().contains("not in the future"), "{error:?}");
    assert!(f.app.variance.list.get(f.app.variance.cursor).unwrap().snoozed_until.is_none());
}

#[test]
fn the_first_q_after_leaving_the_weekly_update_quits() {
    let mut f = fixture_as("amara");
    assert!(keel::tui::weekly::start(&mut f.app).unwrap());
    key(&mut f.app, KeyCode::Esc);
    assert!(matches!(f.app.mode, Mode::Normal));
    assert!(message(&f).contains("weekly update left: 0 of 3 saved"), "{}", message(&f));
    chars(&mut f.app, "q");
    assert!(f.app.quit);
}

#[test]
fn the_weekly_key_bar_shows_the_forms_keys() {
    let mut f = fixture_as("amara");
    keel::tui::weekly::start(&mut f.app).unwrap();
    let screen = render(&mut f.app, 80, 24);
    let bar = last_lines(&screen, 1).remove(0);
    assert!(bar.contains("enter save & next") && bar.contains("tab skip"), "{bar}");
    assert!(screen.contains("esc leaves"), "how to leave is in the form's title:\n{screen}");
}

#[test]
fn pgdn_and_pgup_step_through_the_meeting() {
    let mut f = fixture();
    chars(&mut f.app, "P");
    key(&mut f.app, KeyCode::Enter);
    key(&mut f.app, KeyCode::PageDown);
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting mode") };
    assert_eq!(m.index, 1);
    key(&mut f.app, KeyCode::PageUp);
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting mode") };
    assert_eq!(m.index, 0);
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("l next") && screen.contains("h previous"), "the meeting's own key bar:\n{screen}");
}

#[test]
fn keys_are_inert_behind_terminal_too_small_except_quit() {
    let mut f = fixture();
    assert!(render(&mut f.app, 50, 12).contains("terminal too small"));
    chars(&mut f.app, "3a");
    assert_eq!(f.app.focus, keel::tui::app::Pane::Tree);
    assert!(matches!(f.app.mode, Mode::Normal));
    chars(&mut f.app, "q");
    assert!(f.app.quit);
}

#[test]
fn ctrl_l_redraws_and_ctrl_z_suspends() {
    use keel::tui::update::{handle_key_effect, Effect};
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    let mut f = fixture();
    let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    assert_eq!(handle_key_effect(&mut f.app, ev('l')).unwrap(), Effect::Redraw);
    assert_eq!(handle_key_effect(&mut f.app, ev('z')).unwrap(), Effect::Suspend);
}

#[test]
fn headings_are_never_selected() {
    let mut f = fixture();
    for _ in 0..60 {
        chars(&mut f.app, "j");
        assert!(!f.app.tree.rows[f.app.tree.cursor].is_heading(), "the cursor is on a heading");
    }
    for _ in 0..60 {
        chars(&mut f.app, "k");
        assert!(!f.app.tree.rows[f.app.tree.cursor].is_heading(), "the cursor is on a heading");
    }
}

#[test]
fn numbers_in_fields_are_grouped_and_counts_agree_with_their_nouns() {
    let mut f = fixture();
    chars(&mut f.app, "s");
    assert!(message(&f).contains("(1 item)"), "{}", message(&f));
}

#[test]
fn a_filter_that_hides_escalations_says_so() {
    let mut f = fixture_as("amara");
    chars(&mut f.app, "M");
    if f.app.variance.list.is_empty() {
        let screen = render(&mut f.app, 120, 40);
        assert!(screen.contains("no open escalations match this filter"), "{screen}");
    }
}

#[test]
fn a_paste_goes_into_the_field_whole_and_never_runs_as_keys() {
    let mut f = fixture();
    search(&mut f.app, "M-9");
    chars(&mut f.app, "w");
    let Mode::Edit(ed) = &f.app.mode else { panic!("the narrative editor") };
    assert!(ed.multi_line());
    // Clear the old text, then paste two lines: both land in the narrative, nothing runs.
    ctrl(&mut f.app, 'u');
    keel::tui::update::handle_paste(&mut f.app, "Vendor fix slipped.\nq\nNew date: 2026-12-04");
    let Mode::Edit(ed) = &f.app.mode else { panic!("still editing") };
    assert_eq!(ed.text(), "Vendor fix slipped.\nq\nNew date: 2026-12-04");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal), "{:?}", f.app.message);
    assert!(!f.app.quit);
    let d = other(&f.path, "tester").detail(&keel::domain::ItemKey::parse("M-9").unwrap()).unwrap();
    let n = d.fields.iter().find(|x| x.name == "narrative").unwrap().value.clone().unwrap();
    assert_eq!(n, "Vendor fix slipped.\nq\nNew date: 2026-12-04");
    // A one-line field takes the lines joined; on the main screen a paste does nothing.
    chars(&mut f.app, "/");
    keel::tui::update::handle_paste(&mut f.app, "M-9\nq");
    let Mode::Prompt { input, .. } = &f.app.mode else { panic!("search prompt") };
    assert_eq!(input.lines(), ["M-9 q"]);
    key(&mut f.app, KeyCode::Esc);
    keel::tui::update::handle_paste(&mut f.app, "q");
    assert!(!f.app.quit && matches!(f.app.mode, Mode::Normal));
}

#[test]
fn the_weekly_form_shows_the_old_narrative_as_a_reference_not_an_answer() {
    let mut f = fixture_as("amara");
    keel::tui::weekly::start(&mut f.app).unwrap();
    key(&mut f.app, KeyCode::Tab); // K-2 skipped: KR-2 now
    let Mode::Weekly(w) = &f.app.mode else { panic!("weekly") };
    assert_eq!(w.current().unwrap().key, "KR-2");
    assert!(w.text(keel::tui::weekly::NARRATIVE).is_empty(), "the narrative starts empty");
    let previous = w.previous.clone();
    let screen = render(&mut f.app, 120, 40);
    if previous.is_some() {
        assert!(screen.contains("last narrative (reference):"), "{screen}");
    }
}

#[test]
fn placeholders_are_dim_italic_and_the_cursor_shows_without_colour() {
    use ratatui::backend::TestBackend;
    use ratatui::style::Modifier;
    let mut f = fixture();
    chars(&mut f.app, "/");
    let mut t = ratatui::Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|fr| {
        keel::tui::frame::render(fr, &mut f.app);
    })
    .unwrap();
    let buf = t.backend().buffer();
    // The answer line: "> " then the cursor, then the placeholder.
    let cursor = &buf[(2, 39)];
    assert!(cursor.modifier.contains(Modifier::REVERSED), "the cursor is drawn: {cursor:?}");
    let placeholder = &buf[(3, 39)];
    assert_eq!(placeholder.symbol(), "a");
    assert!(placeholder.modifier.contains(Modifier::ITALIC | Modifier::DIM), "{placeholder:?}");
}

#[test]
fn the_weekly_summary_lists_everything_saved_not_only_actuals() {
    let mut f = fixture_as("amara");
    keel::tui::weekly::start(&mut f.app).unwrap();
    chars(&mut f.app, "6.2");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "6.1");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "0.8");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "trial accounts removed");
    key(&mut f.app, KeyCode::Enter);
    key(&mut f.app, KeyCode::Tab);
    key(&mut f.app, KeyCode::Tab);
    let Mode::Notice { lines, .. } = &f.app.mode else { panic!("a summary at the end") };
    let k2 = lines.iter().find(|l| l.starts_with("K-2")).unwrap();
    assert!(k2.contains("actual 6.2, forecast 6.1, confidence 0.8, comment written"), "{k2}");
}

#[test]
fn wide_characters_are_cut_by_their_width_with_an_ellipsis() {
    let f = fixture();
    rusqlite::Connection::open(&f.path)
        .unwrap()
        .execute(
            "UPDATE objectives SET title = '顧客データ品質を改善する全社的な取り組み 🚀 拡大' WHERE id = (SELECT MIN(id) FROM objectives)",
            [],
        )
        .unwrap();
    let mut app = keel::tui::app::App::new(
        other(&f.path, "tester"),
        keel::tui::keymap::Keymap::default_only(),
        keel::tui::theme::Theme { color: false },
    )
    .unwrap();
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let screen = render(&mut app, w, h);
        let row = screen.lines().find(|l| l.contains("O-1")).unwrap();
        assert!(row.contains('…'), "cut with an ellipsis: {row}");
        // The tree's right border stays where it belongs, right before the detail pane's.
        assert!(row.contains("…┃│") || row.contains("… ┃│") || row.contains("┃│"), "borders intact at {w}x{h}: {row}");
    }
}

#[test]
fn the_key_bar_ends_in_an_ellipsis_when_it_does_not_fit() {
    let mut f = fixture();
    let screen = render(&mut f.app, 80, 24);
    let bar = last_lines(&screen, 1).remove(0);
    assert!(bar.contains('…') && !bar.contains(" q quit"), "{bar}");
}

#[test]
fn at_80x24_value_rows_do_not_wrap_and_the_detail_stops_at_its_end() {
    let mut f = fixture();
    search(&mut f.app, "M-9");
    chars(&mut f.app, "2");
    let mut row = None;
    for _ in 0..60 {
        let screen = render(&mut f.app, 80, 24);
        if let Some(r) = screen.lines().find(|l| l.contains("2026-W47")) {
            row = Some(r.to_string());
            break;
        }
        chars(&mut f.app, "j");
    }
    let row = row.expect("a values row");
    assert!(row.contains("10,000") && row.contains("8,900"), "the whole row on one line: {row}");
    // Scroll far past the end: the pane stops with its last lines in view, never blank.
    for _ in 0..200 {
        chars(&mut f.app, "j");
    }
    let screen = render(&mut f.app, 80, 24);
    let pane: Vec<&str> = screen.lines().skip(2).take(6).collect();
    assert!(pane.iter().any(|l| l.chars().skip(36).any(|c| c.is_alphanumeric())), "the detail pane is not blank:\n{screen}");
    assert!(f.app.detail.scroll as usize <= f.app.detail.lines, "{} > {}", f.app.detail.scroll, f.app.detail.lines);
}

#[test]
fn a_decision_owned_by_a_login_is_refused_with_the_reason() {
    let mut f = fixture();
    chars(&mut f.app, "P");
    key(&mut f.app, KeyCode::Enter);
    chars(&mut f.app, "d");
    chars(&mut f.app, "fund the pilot @amara");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting mode") };
    assert!(m.input.is_some(), "the text stays for correction");
    assert!(m.error.as_deref().unwrap().contains("'@amara' is not a person key"), "{:?}", m.error);
    assert!(m.decisions.is_empty());
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, "fund the pilot @P-2");
    key(&mut f.app, KeyCode::Enter);
    let Mode::Meeting(m) = &f.app.mode else { panic!("meeting mode") };
    assert_eq!(m.decisions.len(), 1);
    assert!(m.decisions[0].owner.is_some());
}

/// A restore under the open app (issue 13, item 9): the refresh notices the swapped file, stops
/// offering edits and says how to go on, once; the restored file is not written to.
#[test]
fn a_file_restored_under_the_open_app_is_noticed_and_edits_stop() {
    let mut f = fixture();
    assert!(!f.app.notice_replaced_file(), "nothing swapped yet");
    let backup = f.path.with_file_name("backup.db");
    drop(keel::io::demo::create_at(&backup, today(), "tester").unwrap());
    let restored = std::fs::read(&backup).unwrap();
    std::fs::rename(&backup, &f.path).unwrap();
    assert!(f.app.notice_replaced_file());
    assert!(!f.app.notice_replaced_file(), "said once");
    let reason = f.app.read_only.clone().unwrap();
    assert!(reason.contains("replaced") && reason.contains("reopen"), "{reason}");
    let screen = render(&mut f.app, 120, 40);
    assert!(screen.contains("replaced"), "the message line says so:\n{screen}");
    assert_eq!(std::fs::read(&f.path).unwrap(), restored, "the restored file was not written to");
}
