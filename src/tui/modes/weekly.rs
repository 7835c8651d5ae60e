//! The weekly update: my items that are due, oldest first. For each, this period's actual,
//! forecast, confidence and narrative; Enter saves and moves on, Tab skips. A narrative is
//! required when the item is red or escalated (the store refuses the save otherwise).

use super::super::action::Action;
use super::super::app::App;
use super::Mode;
use crate::domain::gates::GateAction;
use crate::domain::{ItemKey, ItemKind, Period};
use crate::store::edit::MilestoneAction;
use crate::store::read::Detail;
use crate::store::rhythms::DueItem;
use crate::store::{Change, Edit, StoreError};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

pub const FIELDS: [&str; 5] = ["period", "actual", "forecast", "confidence", "narrative"];
/// The narrative's place among the fields (it alone takes several lines).
pub const NARRATIVE: usize = 4;

pub struct Weekly {
    pub items: Vec<DueItem>,
    pub index: usize,
    pub field: usize,
    pub inputs: Vec<TextArea<'static>>,
    pub detail: Option<Detail>,
    pub error: Option<String>,
    /// One line per item handled: what was saved and what it caused, or "skipped".
    pub summary: Vec<String>,
    pub outcomes: Vec<Option<bool>>,
    /// The narrative as it stands, shown as a reference above the form — never pre-filled as
    /// this period's answer.
    pub previous: Option<String>,
    /// Why the numbers as typed make a narrative required (the narrative rule's words), or none
    /// when it is optional; asked again whenever a number changes.
    pub narrative_rule: Option<String>,
    /// The numbers the rule was last asked about.
    pub checked: Option<Vec<String>>,
}

fn input(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.split('\n').map(str::to_string).collect());
    t.set_placeholder_text(placeholder.to_string());
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    super::super::update::style_field(&mut t);
    t
}

impl Weekly {
    /// Only the field being typed in shows a cursor.
    fn show_focus(&mut self) {
        use ratatui::style::{Modifier, Style};
        for (i, t) in self.inputs.iter_mut().enumerate() {
            t.set_cursor_style(if i == self.field { Style::default().add_modifier(Modifier::REVERSED) } else { Style::default() });
            t.set_cursor_line_style(Style::default());
        }
    }
    pub fn text(&self, field: usize) -> String {
        let sep = if field == NARRATIVE { "\n" } else { " " };
        self.inputs[field].lines().join(sep).trim().to_string()
    }
    pub fn current(&self) -> Option<&DueItem> {
        self.items.get(self.index)
    }
}

/// Open the flow on the acting person's due items; `None` when nothing is due.
pub fn start(app: &mut App) -> anyhow::Result<bool> {
    let items = app.store.due_updates()?;
    if items.is_empty() {
        return Ok(false);
    }
    let n = items.len();
    let mut w = Weekly {
        items,
        index: 0,
        field: 1,
        inputs: vec![],
        detail: None,
        error: None,
        summary: vec![],
        outcomes: vec![None; n],
        previous: None,
        narrative_rule: None,
        checked: None,
    };
    load(app, &mut w)?;
    app.mode = Mode::Weekly(Box::new(w));
    Ok(true)
}

/// The item's narrative (measures, key results and KPIs each have one, apart from a key
/// result's status explanation, which excuses a manual status).
fn narrative_of(d: &Detail) -> String {
    d.fields.iter().find(|f| f.name == "narrative").and_then(|f| f.value.clone()).unwrap_or_default()
}

fn load(app: &mut App, w: &mut Weekly) -> anyhow::Result<()> {
    w.error = None;
    w.field = 1;
    let Some(item) = w.current().cloned() else { return Ok(()) };
    let key = ItemKey::parse(&item.key)?;
    let detail = app.store.detail(&key)?;
    let pv = app.store.period_values(&key, &item.period)?;
    let planned = pv.planned.map(|p| format!("plan {}", p.grouped())).unwrap_or_else(|| "a number".into());
    // A narrative outlives periods: last time's is a reference, and this period's starts empty.
    let (narrative, previous) = (String::new(), Some(narrative_of(&detail)).filter(|n| !n.trim().is_empty()));
    w.previous = previous;
    let needs = narrative_placeholder(item.needs_narrative);
    w.inputs = vec![
        input(&item.period, "period, e.g. 2026-W48"),
        input(&pv.actual.map(|a| a.to_string()).unwrap_or_default(), &planned),
        input(&pv.forecast.map(|a| a.to_string()).unwrap_or_default(), "forecast for the period"),
        input(&pv.confidence.map(|a| a.to_string()).unwrap_or_default(), "0–1, e.g. 0.8"),
        input(&narrative, needs),
    ];
    w.detail = Some(detail);
    w.narrative_rule = None;
    w.checked = None;
    recheck_narrative(app, w);
    w.show_focus();
    Ok(())
}

fn narrative_placeholder(required: bool) -> &'static str {
    if required {
        "required: why it is off and what happens next"
    } else {
        "optional: what moved, what is next"
    }
}

/// Ask the narrative rule about the numbers as typed (the store runs them through the write
/// path and rolls back), so "required" and "optional" follow the value live. A number that does
/// not parse yet, or a busy file, leaves the last answer standing.
pub fn recheck_narrative(app: &mut App, w: &mut Weekly) {
    let Some(item) = w.current() else { return };
    let (Ok(key), Ok(period)) = (ItemKey::parse(&item.key), Period::parse(&w.text(0))) else { return };
    let numbers: Vec<String> = (0..NARRATIVE).map(|i| w.text(i)).collect();
    if w.checked.as_ref() == Some(&numbers) {
        return;
    }
    let Ok(values) = value_changes(app, w, &key, period) else { return };
    if let Ok(rule) = app.store.narrative_needed(&key, values) {
        let was = w.narrative_rule.is_some();
        w.narrative_rule = rule;
        w.checked = Some(numbers);
        if was != w.narrative_rule.is_some() || w.inputs[NARRATIVE].is_empty() {
            w.inputs[NARRATIVE].set_placeholder_text(narrative_placeholder(w.narrative_rule.is_some()));
        }
    }
}

fn advance(app: &mut App, mut w: Box<Weekly>) -> anyhow::Result<()> {
    w.index += 1;
    if w.index >= w.items.len() {
        finish(app, *w)?;
    } else {
        load(app, &mut w)?;
        app.mode = Mode::Weekly(w);
    }
    Ok(())
}

fn finish(app: &mut App, w: Weekly) -> anyhow::Result<()> {
    app.reload()?;
    let saved = w.outcomes.iter().filter(|o| **o == Some(true)).count();
    let mut lines = w.summary;
    if lines.is_empty() {
        lines.push("nothing was saved".into());
    }
    app.mode = Mode::Notice { title: format!("weekly update: {saved} of {} saved", w.items.len()), lines };
    Ok(())
}

/// The changes one Enter saves, in one edit.
fn changes(app: &App, w: &Weekly, key: &ItemKey, period: Period) -> anyhow::Result<Vec<Change>> {
    let mut out = value_changes(app, w, key, period)?;
    // Left empty, the narrative stays as it was (the store says when one is required). Measures,
    // key results and KPIs each have one, apart from a key result's status explanation.
    let narrative = w.text(NARRATIVE);
    if !narrative.is_empty() {
        out.push(Change::Set { key: key.clone(), field: "narrative".into(), value: narrative, if_version: None });
    }
    out.push(Change::RequireNarrative(key.clone()));
    Ok(out)
}

/// This period's numbers as typed, as changes.
fn value_changes(app: &App, w: &Weekly, key: &ItemKey, period: Period) -> anyhow::Result<Vec<Change>> {
    let mut out = Vec::new();
    let pv = app.store.period_values(key, &period.to_string())?;
    let value = |field: &str, text: String| Change::Value {
        key: key.clone(),
        period,
        field: field.to_string(),
        value: text,
        if_version: Some(pv.version),
    };
    for (i, field) in [(1, "actual"), (2, "forecast"), (3, "confidence")] {
        let text = w.text(i);
        if !text.is_empty() {
            out.push(value(field, text));
        }
    }
    Ok(out)
}

fn save(app: &mut App, mut w: Box<Weekly>) -> anyhow::Result<()> {
    let Some(item) = w.current().cloned() else { return finish(app, *w) };
    let key = ItemKey::parse(&item.key)?;
    let period = match Period::parse(&w.text(0)) {
        Ok(p) => p,
        Err(e) => {
            w.error = Some(e.to_string());
            w.field = 0;
            app.mode = Mode::Weekly(w);
            return Ok(());
        }
    };
    recheck_narrative(app, &mut w);
    if let (Some(why), true) = (&w.narrative_rule, w.text(NARRATIVE).is_empty()) {
        let reference = if w.previous.is_some() { " (the last one is shown above, for reference)" } else { "" };
        w.error = Some(format!("narrative: {why}{reference}"));
        w.field = NARRATIVE;
        w.show_focus();
        app.mode = Mode::Weekly(w);
        return Ok(());
    }
    if w.text(1).is_empty() {
        w.error = Some("type this period's actual (Tab skips the item)".into());
        w.field = 1;
        app.mode = Mode::Weekly(w);
        return Ok(());
    }
    let edit = Edit { changes: changes(app, &w, &key, period)?, reason: Some("weekly update".into()) };
    match app.store.edit(edit) {
        Ok(o) => {
            let caused = if o.said().is_empty() { String::new() } else { format!(" — {}", o.said().join("; ")) };
            // Everything this save wrote, not only the actual.
            let mut saved = vec![format!("actual {}", w.text(1))];
            for (i, name) in [(2, "forecast"), (3, "confidence")] {
                if !w.text(i).is_empty() {
                    saved.push(format!("{name} {}", w.text(i)));
                }
            }
            if !w.text(NARRATIVE).is_empty() {
                saved.push(if key.kind == ItemKind::Kpi { "comment written" } else { "narrative written" }.into());
            }
            w.summary.push(format!("{key} {period}: {}{caused}", saved.join(", ")));
            w.outcomes[w.index] = Some(true);
            advance(app, w)
        }
        Err(e) => {
            if let StoreError::Invalid { field, .. } = &e {
                w.field = FIELDS.iter().position(|f| field.starts_with(f)).unwrap_or(w.field);
            }
            w.error = Some(match e {
                StoreError::Busy => format!("{e} What you typed is kept: Enter tries again."),
                e => e.to_string(),
            });
            w.show_focus();
            app.mode = Mode::Weekly(w);
            Ok(())
        }
    }
}

/// Move the item's next open milestone to done, or request its next gate, without leaving.
fn side_action(app: &mut App, w: &mut Weekly, milestone: bool) -> anyhow::Result<()> {
    let Some(item) = w.current() else { return Ok(()) };
    let key = ItemKey::parse(&item.key)?;
    if key.kind != ItemKind::Measure {
        w.error = Some(format!("{key} is not a measure: milestones and gates belong to measures"));
        return Ok(());
    }
    let change = if milestone {
        let next = w.detail.as_ref().and_then(|d| d.milestones.iter().find(|m| m.done.is_none()).map(|m| m.number));
        let Some(number) = next else {
            w.error = Some("no open milestone".into());
            return Ok(());
        };
        Change::Milestone { key: key.clone(), action: MilestoneAction::Done { number, on: None } }
    } else {
        Change::Gate { key: key.clone(), action: GateAction::Request, reason: None }
    };
    match app.store.edit(Edit::one(change)) {
        Ok(o) => {
            // The effects name the item already ("M-1: requested closed").
            let what = if milestone { format!("{key}: milestone done") } else { o.said().join("; ") };
            w.summary.push(what.clone());
            w.error = None;
            w.detail = Some(app.store.detail(&key)?);
            app.say(what);
        }
        Err(StoreError::Refused { missing, .. }) => w.error = Some(format!("gate refused — missing: {}", missing.join("; "))),
        Err(e) => w.error = Some(e.to_string()),
    }
    Ok(())
}

pub fn handle_key(app: &mut App, mut w: Box<Weekly>, action: Option<Action>, ev: KeyEvent) -> anyhow::Result<()> {
    match action {
        // Leaving early: the summary goes on the message line, and the next key is the main
        // screen's (the first q quits).
        Some(Action::Leave) => return leave(app, *w),
        Some(Action::Save) => return save(app, w),
        Some(Action::Skip) => {
            if let Some(item) = w.current() {
                w.summary.push(format!("{} skipped", item.key));
            }
            w.outcomes[w.index] = Some(false);
            return advance(app, w);
        }
        Some(Action::PrevField) => w.field = w.field.saturating_sub(1),
        Some(Action::NextField) => w.field = (w.field + 1).min(FIELDS.len() - 1),
        Some(Action::MilestoneDone) => side_action(app, &mut w, true)?,
        Some(Action::GateRequest) => side_action(app, &mut w, false)?,
        Some(Action::ClearField) => {
            let f = w.field;
            let placeholder = w.inputs[f].placeholder_text().to_string();
            w.inputs[f] = input("", &placeholder);
            recheck_narrative(app, &mut w);
        }
        Some(Action::NewLine) if w.field == NARRATIVE => w.inputs[NARRATIVE].insert_newline(),
        Some(Action::Help) => {
            w.show_focus();
            super::help::open(app, Mode::Weekly(w));
            return Ok(());
        }
        Some(_) => {}
        None => {
            let f = w.field;
            w.inputs[f].input(ev);
            if f < NARRATIVE {
                recheck_narrative(app, &mut w);
            }
        }
    }
    w.show_focus();
    app.mode = Mode::Weekly(w);
    Ok(())
}

/// Esc: back to the panes, saying what was saved.
fn leave(app: &mut App, w: Weekly) -> anyhow::Result<()> {
    app.reload()?;
    let saved = w.outcomes.iter().filter(|o| **o == Some(true)).count();
    let mut text = format!("weekly update left: {saved} of {} saved", w.items.len());
    if !w.summary.is_empty() {
        text.push_str(&format!(" — {}", w.summary.join("; ")));
    }
    text.push_str(" — W opens it again");
    app.mode = Mode::Normal;
    app.say(text);
    Ok(())
}
