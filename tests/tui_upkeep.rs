//! The app's add, move and retire keys (`+`, `>`, `X`): one line on the bottom, the same change
//! as `keel add`/`move`/`retire`, a refusal said beside the question with the text kept.

mod support;

use keel::domain::ItemKey;
use keel::tui::app::Mode;
use ratatui::crossterm::event::KeyCode;
use support::*;

fn answer(f: &mut Fixture, k: &str, text: &str) {
    chars(&mut f.app, k);
    assert!(matches!(f.app.mode, Mode::Prompt { .. }), "{k} asks a question");
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, text);
    key(&mut f.app, KeyCode::Enter);
}

fn refusal(f: &Fixture) -> Option<String> {
    match &f.app.mode {
        Mode::Prompt { error, .. } => error.clone(),
        _ => None,
    }
}

#[test]
fn add_under_the_selected_objective_then_move_and_retire() {
    let mut f = fixture();
    search(&mut f.app, "O-3");
    assert_eq!(f.app.selected_key().map(|k| k.to_string()).as_deref(), Some("O-3"));
    // A refusal keeps the question and says why beside it.
    answer(&mut f, "+", "key-result Backwards kind=increase-to baseline=50 target=40");
    let why = refusal(&f).expect("refused");
    assert!(why.contains("an increase-to target must lie above its baseline"), "{why}");
    key(&mut f.app, KeyCode::Esc);
    answer(&mut f, "+", "key-result NPS to 45 kind=increase-to baseline=38 target=45");
    assert!(refusal(&f).is_none() && matches!(f.app.mode, Mode::Normal));
    let store = other(&f.path, "tester");
    let kr = store.detail(&ItemKey::parse("KR-19").unwrap()).unwrap();
    assert_eq!(kr.title, "NPS to 45");
    assert!(kr.fields.iter().any(|x| x.name == "objective" && x.value.as_deref().is_some_and(|v| v.starts_with("O-3"))));

    search(&mut f.app, "KR-19");
    answer(&mut f, ">", "O-4");
    let kr = other(&f.path, "tester").detail(&ItemKey::parse("KR-19").unwrap()).unwrap();
    assert!(kr.fields.iter().any(|x| x.name == "objective" && x.value.as_deref().is_some_and(|v| v.starts_with("O-4"))));

    search(&mut f.app, "KR-19");
    answer(&mut f, "X", "not measured after all");
    let retired = other(&f.path, "tester").retired_items(None).unwrap();
    assert_eq!(retired.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), vec!["KR-19"]);
}

#[test]
fn a_person_without_the_role_is_refused_in_the_app_too() {
    let mut f = fixture_as("amara");
    search(&mut f.app, "MP-1");
    answer(&mut f, "+", "measure Not mine");
    let why = refusal(&f).expect("refused");
    assert!(why.contains("only its owner or a PMO administrator may add a measure"), "{why}");
    assert!(other(&f.path, "tester").detail(&ItemKey::parse("M-37").unwrap()).is_err());
}

#[test]
fn a_kind_alone_opens_the_form_with_errors_beside_the_field() {
    let mut f = fixture();
    search(&mut f.app, "O-3");
    chars(&mut f.app, "+");
    key(&mut f.app, KeyCode::Enter); // the offered kind alone: the form
    assert!(matches!(f.app.mode, Mode::AddForm(_)), "the form is open");
    chars(&mut f.app, "NPS to 45");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "sideways");
    key(&mut f.app, KeyCode::Enter);
    let Mode::AddForm(form) = &f.app.mode else { panic!("a refusal keeps the form") };
    assert_eq!(form.names[form.field], "kind");
    let why = form.errors[form.field].clone().expect("the reason beside kind");
    assert!(why.starts_with("kind: 'sideways' is not one of"), "{why}");
    assert!(render(&mut f.app, 80, 24).contains("✖ kind: 'sideways'"));
    ctrl(&mut f.app, 'u');
    chars(&mut f.app, "increase-to");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "38");
    key(&mut f.app, KeyCode::Down);
    chars(&mut f.app, "45");
    key(&mut f.app, KeyCode::Enter);
    assert!(matches!(f.app.mode, Mode::Normal));
    let kr = other(&f.path, "tester").detail(&ItemKey::parse("KR-19").unwrap()).unwrap();
    assert_eq!(kr.title, "NPS to 45");
}

#[test]
fn the_retired_filter_shows_them_marked_and_x_brings_one_back() {
    let mut f = fixture();
    search(&mut f.app, "M-9");
    answer(&mut f, "X", "folded into M-10");
    assert!(!render(&mut f.app, 120, 40).contains("[retired]"), "the tree leaves it out");
    chars(&mut f.app, "O");
    assert_eq!(f.app.selected_key().map(|k| k.to_string()).as_deref(), Some("M-9"));
    let screen = render(&mut f.app, 80, 24);
    assert!(screen.contains("M-9 [retired] Create"), "{screen}");
    assert!(screen.contains("bring back"), "the key bar says what X does here:\n{screen}");
    let wide = render(&mut f.app, 120, 40);
    assert!(wide.contains("by tester: folded into M-10"), "the detail pane says why it is retired:\n{wide}");
    answer(&mut f, "X", "maybe");
    assert!(refusal(&f).expect("refused").contains("answer yes, or all"));
    key(&mut f.app, KeyCode::Esc);
    assert_eq!(other(&f.path, "tester").retired_items(None).unwrap().len(), 1, "nothing changed");
    answer(&mut f, "X", "yes");
    assert!(matches!(f.app.mode, Mode::Normal));
    assert!(other(&f.path, "tester").retired_items(None).unwrap().is_empty(), "M-9 is back");
    assert!(!render(&mut f.app, 120, 40).contains("[retired]"));
}
