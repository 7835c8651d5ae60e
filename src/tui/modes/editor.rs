//! Editing in place: opening the editor on a field or this period's number, saving through
//! the store's write path (errors and conflicts kept beside the text), gate moves that were
//! confirmed, and undo of my own last edit.

use super::super::action::Action;
use super::super::app::{App, Undo};
use super::super::update::{detail_key, Pending};
use super::Mode;
use crate::domain::ItemKey;
use crate::store::{fields, Change, Edit, StoreError};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditTarget {
    /// A per-period number or the comment.
    Value { field: &'static str, period: String, version: i64 },
    /// A field of the item.
    Field { name: &'static str, version: i64 },
    /// A gate move that needs a reason.
    GateReason { action: crate::domain::gates::GateAction },
    /// This period's number, typed already, and the narrative the rule asks for with it (the
    /// number makes the item red or escalated): both are saved in one edit.
    ValueAndNarrative { field: &'static str, period: String, version: i64, value: String, why: String },
    /// This period's number, typed over a value source's, and the reason the override needs
    /// (shown as an override from then on): both are saved in one edit.
    ValueOverride { field: &'static str, period: String, version: i64, value: String },
}

pub struct Editor {
    pub key: ItemKey,
    pub target: EditTarget,
    pub input: TextArea<'static>,
    pub error: Option<String>,
    /// Something to know that is not an error (e.g. "reloaded").
    pub note: Option<String>,
    /// Set when the save failed because someone else changed the row.
    pub conflict: bool,
    /// The value before the edit, for undo.
    pub original: String,
    /// Enter on an empty number keeps the current value instead of clearing it.
    pub keep_if_empty: bool,
    /// What the empty field says (kept for Ctrl-U).
    pub placeholder: String,
}

impl Editor {
    /// Narratives and explanations take several lines (Alt-Enter, or a paste).
    pub fn multi_line(&self) -> bool {
        match &self.target {
            EditTarget::Field { name, .. } => MULTI_LINE.contains(name),
            EditTarget::Value { field, .. } => *field == "comment",
            EditTarget::ValueOverride { .. } => false,
            EditTarget::GateReason { .. } | EditTarget::ValueAndNarrative { .. } => true,
        }
    }
    pub fn text(&self) -> String {
        self.input.lines().join("\n")
    }
    pub fn label(&self) -> String {
        match &self.target {
            EditTarget::Value { field, period, .. } => format!("{} {field} for {period}", self.key),
            EditTarget::Field { name, .. } => format!("{} {name}", self.key),
            EditTarget::GateReason { action } => format!("{} gate {}: reason", self.key, action.as_str()),
            EditTarget::ValueAndNarrative { field, period, value, .. } => {
                format!("{} narrative, with {field} {value} for {period}", self.key)
            }
            EditTarget::ValueOverride { field, period, value, .. } => {
                format!("{} override reason, for {field} {value} for {period}", self.key)
            }
        }
    }
}

/// Fields written as prose, several lines allowed.
pub const MULTI_LINE: [&str; 4] = ["narrative", "status_explanation", "description", "comment"];

pub fn handle_key(app: &mut App, mut ed: Box<Editor>, action: Option<Action>, ev: KeyEvent) -> anyhow::Result<()> {
    match action {
        Some(Action::Cancel) => {
            app.say("edit cancelled; nothing was saved");
            return Ok(());
        }
        Some(Action::Reload) if ed.conflict => {
            app.reload()?;
            refresh_editor_version(app, &mut ed);
            ed.conflict = false;
            ed.error = None;
            ed.note = Some("reloaded: the pane shows the current value; Enter saves your text over it".into());
        }
        Some(Action::Save) => return save(app, ed),
        Some(Action::ClearField) => {
            ed.input = TextArea::default();
            ed.input.set_placeholder_text(ed.placeholder.clone());
            super::super::update::style_field(&mut ed.input);
        }
        Some(Action::NewLine) if ed.multi_line() => ed.input.insert_newline(),
        Some(_) => {}
        None => {
            ed.input.input(ev);
        }
    }
    app.mode = Mode::Edit(ed);
    Ok(())
}

pub fn handle_picker(
    app: &mut App,
    key: ItemKey,
    fields: Vec<&'static str>,
    mut cursor: usize,
    action: Option<Action>,
) -> anyhow::Result<()> {
    match action {
        Some(Action::Cancel) => return Ok(()),
        Some(Action::Up) => cursor = cursor.saturating_sub(1),
        Some(Action::Down) => cursor = (cursor + 1).min(fields.len().saturating_sub(1)),
        Some(Action::Save) => return open_editor(app, &key, fields[cursor]),
        _ => {}
    }
    app.mode = Mode::FieldPicker { key, fields, cursor };
    Ok(())
}

pub fn start_value_edit(app: &mut App, field: &'static str) -> anyhow::Result<()> {
    let Some(key) = detail_key(app) else { return Ok(()) };
    if !key.kind.has_values() {
        app.warn(format!("{key} has no numbers per period; measures, key results and KPIs do"));
        return Ok(());
    }
    open_editor(app, &key, field)
}

/// Open the editor for a field or a per-period value, prefilled with the current text.
pub fn open_editor(app: &mut App, key: &ItemKey, name: &'static str) -> anyhow::Result<()> {
    if let Some(why) = &app.read_only {
        app.warn(format!("read-only: {why}"));
        return Ok(());
    }
    let detail = app.store.detail(key)?;
    let (target, current) = if fields::is_period_value(key.kind, name, false) {
        let period = app.store.current_period(key)?.to_string();
        let row = detail.values.iter().find(|v| v.period == period);
        let current = row.and_then(|v| match name {
            "actual" => v.actual.map(|n| n.to_string()),
            "forecast" => v.forecast.map(|n| n.to_string()),
            "planned" => v.planned.map(|n| n.to_string()),
            "baseline" => v.baseline.map(|n| n.to_string()),
            _ => v.comment.clone(),
        });
        (EditTarget::Value { field: name, period, version: row.map(|v| v.version).unwrap_or(0) }, current)
    } else {
        let current = detail.fields.iter().find(|f| f.name == name).and_then(|f| f.value.clone());
        // References show "P-3 Name"; edit the key only.
        let current = current.map(|c| match fields::find(key.kind, name).map(|f| f.ty) {
            Some(
                fields::FieldType::Person
                | fields::FieldType::Unit
                | fields::FieldType::Kra
                | fields::FieldType::Objective
                | fields::FieldType::Cycle
                | fields::FieldType::Node(_),
            ) => c.split_whitespace().next().unwrap_or_default().to_string(),
            Some(fields::FieldType::Flag) => (if c == "yes" { "true" } else { "false" }).to_string(),
            _ => c,
        });
        (EditTarget::Field { name, version: detail.version }, current)
    };
    // Numbers start empty (typing replaces them; the placeholder shows the current value);
    // text starts with the current text, to be corrected rather than retyped.
    let number = matches!(name, "actual" | "forecast" | "planned" | "baseline");
    let placeholder = match (number, &current) {
        (true, Some(c)) => format!("now {c} — type the new number (Enter on empty keeps it)"),
        (true, None) => "a number, e.g. 1200.50".to_string(),
        (false, _) if name == "narrative" => "why it is off and what happens next".to_string(),
        _ => String::new(),
    };
    let initial = if number { "" } else { current.as_deref().unwrap_or("") };
    let mut input = TextArea::new(initial.split('\n').map(str::to_string).collect());
    input.set_placeholder_text(placeholder.clone());
    input.move_cursor(ratatui_textarea::CursorMove::Bottom);
    input.move_cursor(ratatui_textarea::CursorMove::End);
    super::super::update::style_field(&mut input);
    app.mode = Mode::Edit(Box::new(Editor {
        placeholder,
        note: None,
        key: key.clone(),
        target,
        input,
        error: None,
        conflict: false,
        keep_if_empty: number,
        original: current.clone().unwrap_or_default(),
    }));
    Ok(())
}

pub fn refresh_editor_version(app: &mut App, ed: &mut Editor) {
    if let Ok(d) = app.store.detail(&ed.key) {
        match &mut ed.target {
            EditTarget::Value { period, version, .. }
            | EditTarget::ValueAndNarrative { period, version, .. }
            | EditTarget::ValueOverride { period, version, .. } => {
                *version = d.values.iter().find(|v| &v.period == period).map(|v| v.version).unwrap_or(0)
            }
            EditTarget::Field { version, .. } => *version = d.version,
            EditTarget::GateReason { .. } => {}
        }
    }
}

pub fn save(app: &mut App, mut ed: Box<Editor>) -> anyhow::Result<()> {
    let text = ed.text();
    let typed = text.clone();
    if ed.keep_if_empty && text.trim().is_empty() {
        app.say(format!("{}: unchanged", ed.label()));
        return Ok(());
    }
    let edit = match &ed.target {
        EditTarget::Value { field, period, version } => {
            let period = crate::domain::Period::parse(period)?;
            Edit::one(Change::Value { key: ed.key.clone(), period, field: field.to_string(), value: text, if_version: Some(*version) })
        }
        EditTarget::Field { name, version } => {
            Edit::one(Change::Set { key: ed.key.clone(), field: name.to_string(), value: text, if_version: Some(*version) })
        }
        EditTarget::ValueAndNarrative { field, period, version, value, why } => {
            if text.trim().is_empty() {
                ed.error = Some(format!("the narrative {why}"));
                app.mode = Mode::Edit(ed);
                return Ok(());
            }
            let period = crate::domain::Period::parse(period)?;
            Edit {
                changes: vec![
                    Change::Value {
                        key: ed.key.clone(),
                        period,
                        field: field.to_string(),
                        value: value.clone(),
                        if_version: Some(*version),
                    },
                    Change::Set { key: ed.key.clone(), field: "narrative".into(), value: text, if_version: None },
                ],
                reason: None,
            }
        }
        EditTarget::ValueOverride { field, period, version, value } => {
            if text.trim().is_empty() {
                ed.error = Some("a reason is required to type over the source's value (Esc: keep the source's)".into());
                app.mode = Mode::Edit(ed);
                return Ok(());
            }
            let period = crate::domain::Period::parse(period)?;
            let change =
                Change::Value { key: ed.key.clone(), period, field: field.to_string(), value: value.clone(), if_version: Some(*version) };
            Edit { changes: vec![change], reason: Some(text) }
        }
        EditTarget::GateReason { action } => {
            if text.trim().is_empty() {
                ed.error = Some("a reason is required".into());
                app.mode = Mode::Edit(ed);
                return Ok(());
            }
            let pending = Pending::Gate { key: ed.key.clone(), action: *action, reason: Some(text) };
            return run_pending(app, pending);
        }
    };
    match app.store.edit(edit) {
        Ok(outcome) => {
            remember_undo(app, &ed)?;
            app.reload()?;
            let label = ed.label();
            app.say(if outcome.said().is_empty() {
                format!("saved {label}")
            } else {
                format!("saved {label} — {}", outcome.said().join("; "))
            });
            app.mode = Mode::Normal;
        }
        Err(e @ StoreError::Conflict { .. }) => {
            ed.error = Some(format!("{e} Press Ctrl-R to reload."));
            ed.conflict = true;
            app.mode = Mode::Edit(ed);
        }
        // The number makes the item red or escalated and the narrative rule wants this
        // period's words: ask for them, keeping the number.
        Err(StoreError::Invalid { field, why, .. }) if field == "narrative" && matches!(ed.target, EditTarget::Value { .. }) => {
            ask_narrative(app, ed, typed, why)?
        }
        // A value source feeds this number: typing over it needs a reason, asked for here.
        Err(StoreError::Invalid { why, .. })
            if crate::store::sources::needs_override_reason(&why) && matches!(ed.target, EditTarget::Value { .. }) =>
        {
            ask_override_reason(app, ed, typed, why)
        }
        Err(e @ StoreError::Busy) => {
            // Nothing is lost: the text stays, and Enter tries again.
            ed.error = Some(format!("{e} Your text is kept: press Enter to try again."));
            app.mode = Mode::Edit(ed);
        }
        Err(e) => {
            // Keep the text for correction; say what is wrong beside the field.
            ed.error = Some(e.to_string());
            app.mode = Mode::Edit(ed);
        }
    }
    Ok(())
}

/// Turn a refused number into its second question: the narrative, empty, with the last one
/// shown beside it for reference (never as the answer).
fn ask_narrative(app: &mut App, mut ed: Box<Editor>, value: String, why: String) -> anyhow::Result<()> {
    let EditTarget::Value { field, period, version } = ed.target.clone() else { return Ok(()) };
    let previous = app.store.detail(&ed.key)?.fields.into_iter().find(|f| f.name == "narrative").and_then(|f| f.value);
    let reference = match previous.filter(|p| !p.trim().is_empty()) {
        Some(p) => format!("Last narrative, for reference: {}", p.replace('\n', " / ")),
        None => "There is no narrative yet.".into(),
    };
    ed.note = Some(format!("{field} {value}: the narrative {why}. {reference}"));
    ed.error = None;
    ed.target = EditTarget::ValueAndNarrative { field, period, version, value, why };
    ed.placeholder = "why it is off and what happens next (Alt-Enter: new line)".into();
    ed.input = TextArea::default();
    ed.input.set_placeholder_text(ed.placeholder.clone());
    super::super::update::style_field(&mut ed.input);
    ed.keep_if_empty = false;
    app.mode = Mode::Edit(ed);
    Ok(())
}

/// Turn a number refused because a source feeds it into its second question: why the person's
/// number should stand over the source's.
fn ask_override_reason(app: &mut App, mut ed: Box<Editor>, value: String, why: String) {
    let EditTarget::Value { field, period, version } = ed.target.clone() else { return };
    ed.note = Some(format!("{field} {value}: {why}. Give the reason; Esc keeps the source's value."));
    ed.error = None;
    ed.target = EditTarget::ValueOverride { field, period, version, value };
    ed.placeholder = "why your number stands over the source's".into();
    ed.input = TextArea::default();
    ed.input.set_placeholder_text(ed.placeholder.clone());
    super::super::update::style_field(&mut ed.input);
    ed.keep_if_empty = false;
    app.mode = Mode::Edit(ed);
}

pub fn run_pending(app: &mut App, pending: Pending) -> anyhow::Result<()> {
    match pending {
        Pending::Reopen => app.reopen()?,
        Pending::Gate { key, action, reason } => {
            let edit = Edit::one(Change::Gate { key: key.clone(), action, reason: reason.clone() }).with_reason(reason);
            match app.store.edit(edit) {
                Ok(o) => {
                    app.reload()?;
                    app.say(o.said().join("; "));
                    app.mode = Mode::Normal;
                }
                Err(StoreError::Refused { key, action, missing, .. }) => {
                    app.reload()?;
                    app.mode = Mode::Notice { title: format!("{key}: {action} refused — still missing"), lines: missing };
                }
                Err(e) => {
                    app.mode = Mode::Normal;
                    app.warn(e.to_string());
                }
            }
        }
    }
    Ok(())
}

/// After a save, keep its inverse so `u` can take it back, guarded by the version it produced.
pub fn remember_undo(app: &mut App, ed: &Editor) -> anyhow::Result<()> {
    let change = match &ed.target {
        EditTarget::Value { field, period, .. }
        | EditTarget::ValueAndNarrative { field, period, .. }
        | EditTarget::ValueOverride { field, period, .. } => {
            let version = app.store.period_values(&ed.key, period)?.version;
            Change::Value {
                key: ed.key.clone(),
                period: crate::domain::Period::parse(period)?,
                field: field.to_string(),
                value: ed.original.clone(),
                if_version: Some(version),
            }
        }
        EditTarget::Field { name, .. } => {
            let version = app.store.detail(&ed.key)?.version;
            Change::Set { key: ed.key.clone(), field: name.to_string(), value: ed.original.clone(), if_version: Some(version) }
        }
        EditTarget::GateReason { .. } => return Ok(()),
    };
    app.undo.push(Undo { label: ed.label(), changes: vec![change] });
    Ok(())
}

pub fn undo(app: &mut App) -> anyhow::Result<()> {
    let Some(u) = app.undo.pop() else {
        app.warn("nothing to undo in this session");
        return Ok(());
    };
    match app.store.edit(Edit { changes: u.changes.clone(), reason: Some("undo".into()) }) {
        Ok(o) => {
            app.reload()?;
            let caused = if o.said().is_empty() { String::new() } else { format!(" — {}", o.said().join("; ")) };
            app.say(format!("undone: {}{caused}", u.label));
        }
        Err(e @ StoreError::Conflict { .. }) => app.warn(format!("cannot undo {}: {e}", u.label)),
        Err(e) => app.warn(format!("cannot undo {}: {e}", u.label)),
    }
    Ok(())
}
