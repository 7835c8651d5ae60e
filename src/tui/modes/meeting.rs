//! Check-in meeting mode: a clean, legible screen that steps through an agenda, records
//! decisions as the meeting makes them, shows what changed since the last check-in, and ends
//! with the list of decisions and owners.

use super::super::action::Action;
use super::super::app::{App, Pane};
use super::Mode;
use crate::domain::{ItemKey, ItemKind};
use crate::store::read::{Detail, EscalationFilter};
use crate::store::rhythms::{Beneath, ItemChanges, MeetingDecision};
use crate::store::{Change, Edit};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agenda {
    Objectives,
    Escalated,
    Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Item,
    Changes,
    Summary,
}

pub struct Meeting {
    pub id: i64,
    pub agenda: Vec<String>,
    pub kind: Agenda,
    /// The unit a unit's agenda is for: its key and name.
    pub unit: Option<String>,
    pub index: usize,
    pub detail: Option<Detail>,
    /// Details of the key results of an objective on the agenda (for their trend charts).
    pub children: Vec<Detail>,
    /// Beneath an objective: open escalations and late milestones.
    pub beneath: Beneath,
    pub screen: Screen,
    pub since: Option<String>,
    pub changes: Vec<ItemChanges>,
    pub decisions: Vec<MeetingDecision>,
    /// A decision being typed: "text" or "text @P-3" to name who carries it out.
    pub input: Option<TextArea<'static>>,
    pub error: Option<String>,
    pub scroll: u16,
}

/// Start a meeting on an agenda. `unit` narrows to one unit's objectives.
pub fn start(app: &mut App, kind: Agenda, unit: Option<&str>) -> anyhow::Result<()> {
    let agenda: Vec<String> = match kind {
        Agenda::Objectives | Agenda::Unit => {
            let mut a = app.store.agenda_objectives(unit)?;
            if kind == Agenda::Objectives {
                // Programmes close the agenda with their value funnels.
                a.extend(app.store.outline_children_keys_of_kind("programme")?);
            }
            a
        }
        Agenda::Escalated => app.store.escalations(&EscalationFilter::default())?.into_iter().map(|e| e.key).collect(),
    };
    if agenda.is_empty() {
        app.warn("the agenda is empty: nothing matches");
        return Ok(());
    }
    let keys: Vec<ItemKey> = agenda.iter().filter_map(|k| ItemKey::parse(k).ok()).collect();
    let previous = app.store.last_meeting(None)?;
    let outcome = app.store.edit(Edit::one(Change::StartMeeting { agenda: keys }))?;
    let id = outcome.meeting.unwrap_or_default();
    let since = previous.map(|m| m.started_at);
    let unit = match unit.map(ItemKey::parse).transpose()? {
        Some(k) => Some(format!("{k} {}", app.store.detail(&k)?.title)),
        None => None,
    };
    let mut m = Meeting {
        id,
        agenda,
        kind,
        unit,
        index: 0,
        detail: None,
        children: vec![],
        beneath: Beneath::default(),
        screen: Screen::Item,
        since,
        changes: vec![],
        decisions: vec![],
        input: None,
        error: None,
        scroll: 0,
    };
    load(app, &mut m)?;
    app.mode = Mode::Meeting(Box::new(m));
    Ok(())
}

fn load(app: &mut App, m: &mut Meeting) -> anyhow::Result<()> {
    m.scroll = 0;
    let Some(key) = m.agenda.get(m.index) else { return Ok(()) };
    let key = ItemKey::parse(key)?;
    let d = app.store.detail(&key)?;
    m.children = Vec::new();
    m.beneath = Beneath::default();
    if key.kind == ItemKind::Objective {
        for l in d.served_by.iter().filter(|l| l.key.starts_with("KR-")) {
            m.children.push(app.store.detail(&ItemKey::parse(&l.key)?)?);
        }
        m.beneath = app.store.beneath_objective(&key)?;
    }
    m.detail = Some(d);
    m.decisions = app.store.meeting_decisions(m.id)?;
    Ok(())
}

fn record_decision(app: &mut App, m: &mut Meeting, text: &str) -> anyhow::Result<bool> {
    let (text, owner) = match text.rsplit_once('@') {
        Some((t, o)) if ItemKey::parse(o.trim()).is_ok_and(|k| k.kind == crate::domain::ItemKind::Person) => {
            (t.trim().to_string(), Some(ItemKey::parse(o.trim())?))
        }
        // "@amara" or "@U-2" would be kept as text and leave the decision with no owner: say so.
        Some((_, o)) if !o.trim().is_empty() && !o.trim().contains(' ') => {
            m.error = Some(format!("'@{}' is not a person key: end with @P-n (e.g. @P-3) to name who carries it out", o.trim()));
            return Ok(false);
        }
        _ => (text.trim().to_string(), None),
    };
    let Some(key) = m.agenda.get(m.index).and_then(|k| ItemKey::parse(k).ok()) else { return Ok(false) };
    match app.store.edit(Edit::one(Change::MeetingDecision { meeting: m.id, key, text, owner })) {
        Ok(_) => {
            m.decisions = app.store.meeting_decisions(m.id)?;
            m.error = None;
            Ok(true)
        }
        Err(e) => {
            m.error = Some(e.to_string());
            Ok(false)
        }
    }
}

fn end(app: &mut App, m: &mut Meeting) -> anyhow::Result<()> {
    if m.screen != Screen::Summary {
        app.store.edit(Edit::one(Change::EndMeeting { id: m.id }))?;
        m.decisions = app.store.meeting_decisions(m.id)?;
        m.screen = Screen::Summary;
        m.scroll = 0;
    }
    Ok(())
}

pub fn handle_key(app: &mut App, mut m: Box<Meeting>, action: Option<Action>, ev: KeyEvent) -> anyhow::Result<()> {
    // A decision being typed takes the prompt's keys.
    if let Some(mut input) = m.input.take() {
        match action {
            Some(Action::Cancel) => m.error = None,
            Some(Action::Save) => {
                let text = input.lines().join(" ");
                if !text.trim().is_empty() && !record_decision(app, &mut m, &text)? {
                    m.input = Some(input);
                }
            }
            Some(Action::ClearField) => m.input = Some(decision_input()),
            Some(_) => m.input = Some(input),
            None => {
                input.input(ev);
                m.input = Some(input);
            }
        }
        app.mode = Mode::Meeting(m);
        return Ok(());
    }
    match (m.screen, action) {
        (Screen::Summary, Some(Action::EndMeeting | Action::Enter)) => {
            app.reload()?;
            let n = m.decisions.len();
            if n == 0 {
                // A check-in that decided nothing leaves "what changed" counting from the last one that did.
                let since =
                    m.since.as_deref().map(|s| format!("the check-in of {}", s.get(..10).unwrap_or(s))).unwrap_or("the start".into());
                app.say(format!("meeting ended: no decisions recorded — what changed still counts from {since}"));
            } else {
                app.say(format!("meeting ended: {} recorded", super::super::count(n, "decision", "decisions")));
            }
            return Ok(());
        }
        (Screen::Item | Screen::Changes, Some(Action::ShowInTree)) => return show_in_tree(app, m),
        (_, Some(Action::EndMeeting)) => end(app, &mut m)?,
        (_, Some(Action::Help)) => {
            super::help::open(app, Mode::Meeting(m));
            return Ok(());
        }
        (Screen::Item, Some(Action::NextItem)) if m.index + 1 < m.agenda.len() => {
            m.index += 1;
            load(app, &mut m)?;
        }
        (Screen::Item, Some(Action::PrevItem)) if m.index > 0 => {
            m.index -= 1;
            load(app, &mut m)?;
        }
        (Screen::Item, Some(Action::Decide)) => m.input = Some(decision_input()),
        (Screen::Item, Some(Action::Changes)) => {
            let since = m.since.clone().unwrap_or_else(|| "0000".into());
            m.changes = app.store.changes_since(&since)?;
            m.screen = Screen::Changes;
            m.scroll = 0;
        }
        (Screen::Changes, Some(Action::Changes | Action::Enter)) => m.screen = Screen::Item,
        (_, Some(Action::Down)) => m.scroll = m.scroll.saturating_add(1),
        (_, Some(Action::Up)) => m.scroll = m.scroll.saturating_sub(1),
        _ => {}
    }
    app.mode = Mode::Meeting(m);
    Ok(())
}

/// Leave the meeting for its item in the tree; the meeting waits, open, and the meeting key
/// comes back to it where it was.
fn show_in_tree(app: &mut App, m: Box<Meeting>) -> anyhow::Result<()> {
    let Some(key) = m.agenda.get(m.index).and_then(|k| ItemKey::parse(k).ok()) else {
        app.mode = Mode::Meeting(m);
        return Ok(());
    };
    app.reload()?;
    let shown = app.reveal(&key)?;
    app.focus = Pane::Tree;
    app.load_detail()?;
    if !shown {
        app.show_detail(key.clone())?;
    }
    let back = app.keymap.first_key(Action::Meeting);
    app.say(format!("{key} in the tree — the meeting waits: {back} goes back to it"));
    app.paused_meeting = Some(m);
    Ok(())
}

/// Back to a meeting left for the tree, on the item it was on, read again.
pub fn resume(app: &mut App, mut m: Box<Meeting>) -> anyhow::Result<()> {
    load(app, &mut m)?;
    app.mode = Mode::Meeting(m);
    Ok(())
}

fn decision_input() -> TextArea<'static> {
    let mut t = TextArea::new(vec![String::new()]);
    t.set_placeholder_text("the decision; end with @P-n to name who carries it out");
    super::super::update::style_field(&mut t);
    t
}
