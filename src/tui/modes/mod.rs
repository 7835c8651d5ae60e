//! Each screen mode is its own state and key handler. `update::handle_key` takes the mode out
//! of the model, looks the key up in that mode's section of the keymap and hands the mode its
//! action (and the key itself, for the text fields); the handler puts back the mode that follows.

pub mod add_form;
pub mod confirm;
pub mod editor;
pub mod help;
pub mod meeting;
pub mod normal;
pub mod palette;
pub mod prompt;
pub mod reader;
pub mod stale;
pub mod triage;
pub mod upkeep;
pub mod weekly;

use super::keymap::KeyMode;
use crate::domain::ItemKey;
use ratatui_textarea::TextArea;

pub enum Mode {
    Normal,
    Edit(Box<editor::Editor>),
    /// Choosing which field to edit.
    FieldPicker {
        key: ItemKey,
        fields: Vec<&'static str>,
        cursor: usize,
    },
    Confirm {
        prompt: String,
        then: super::update::Pending,
    },
    Palette {
        input: TextArea<'static>,
        cursor: usize,
    },
    /// A one-line question on the bottom line, e.g. whom to assign the marked escalations to;
    /// a refused answer is said beside it and the text kept.
    Prompt {
        purpose: Prompt,
        input: TextArea<'static>,
        error: Option<String>,
    },
    Weekly(Box<weekly::Weekly>),
    /// Adding an item: the fields its kind takes, errors beside them.
    AddForm(Box<add_form::AddForm>),
    Meeting(Box<meeting::Meeting>),
    /// Who has not updated what; Enter jumps to the item.
    Stale(stale::StaleList),
    /// A list to read, e.g. what a refused gate still needs.
    Notice {
        title: String,
        lines: Vec<String>,
    },
    /// An item's text fields whole, to read and scroll (the detail pane shows one line each).
    Reader(reader::Reader),
    /// The keys, over the mode it was opened from (which comes back when it closes).
    Help {
        scroll: u16,
        back: Box<Mode>,
    },
}

impl Mode {
    /// Which section of the keymap this mode's keys are in.
    pub fn keys(&self) -> KeyMode {
        match self {
            Mode::Normal => KeyMode::Normal,
            Mode::Edit(_) => KeyMode::Editor,
            Mode::FieldPicker { .. } => KeyMode::Picker,
            Mode::Confirm { .. } => KeyMode::Confirm,
            Mode::Palette { .. } => KeyMode::Palette,
            Mode::Prompt { .. } => KeyMode::Prompt,
            // A form of fields, moved through as the weekly update's are.
            Mode::Weekly(_) | Mode::AddForm(_) => KeyMode::Weekly,
            // A decision being typed is a prompt.
            Mode::Meeting(m) if m.input.is_some() => KeyMode::Prompt,
            Mode::Meeting(_) => KeyMode::Meeting,
            Mode::Stale(_) => KeyMode::Stale,
            Mode::Notice { .. } => KeyMode::Notice,
            Mode::Reader(_) => KeyMode::Reader,
            Mode::Help { .. } => KeyMode::Help,
        }
    }

    /// The mode under an overlay (help shows over the mode it was opened from).
    pub fn base(&self) -> &Mode {
        match self {
            Mode::Help { back, .. } => back.base(),
            m => m,
        }
    }

    /// The text field being typed in, if any (for paste and Ctrl-U).
    pub fn text_field(&mut self) -> Option<&mut TextArea<'static>> {
        match self {
            Mode::Edit(ed) => Some(&mut ed.input),
            Mode::Palette { input, .. } | Mode::Prompt { input, .. } => Some(input),
            Mode::Weekly(w) => {
                let f = w.field;
                w.inputs.get_mut(f)
            }
            Mode::Meeting(m) => m.input.as_mut(),
            Mode::AddForm(f) => f.inputs.get_mut(f.field),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Assign,
    Snooze,
    Decide,
    Resolve,
    MeetingAgenda,
    Search,
    VarianceFilter,
    /// Add an item under the selected one.
    AddItem,
    /// Move the selected item under another parent.
    MoveItem,
    /// Retire the selected item.
    RetireItem,
    /// Bring the selected retired item back.
    UnretireItem,
}

impl Prompt {
    /// What the empty answer field says: the shape of an answer (the question is above it).
    pub fn hint(self) -> &'static str {
        match self {
            Prompt::Assign => "P-3",
            Prompt::Snooze => "2026-12-04 waiting for the vendor fix",
            Prompt::Decide => "the decision",
            Prompt::Resolve => "how it was resolved",
            Prompt::MeetingAgenda => "o, e or U-2",
            Prompt::Search => "a key or words of a title",
            Prompt::VarianceFilter => "amara or U-2; empty shows everyone's",
            Prompt::AddItem => "measure Route optimiser owner=P-3 potential=50000",
            Prompt::MoveItem => "MP-4, O-2 … or none",
            Prompt::RetireItem => "why (start with 'all ' to retire what is under it too)",
            Prompt::UnretireItem => "yes, or all",
        }
    }
    pub fn question(self) -> &'static str {
        match self {
            Prompt::Assign => "assign to whom? (P-n)",
            Prompt::Snooze => "snooze until (YYYY-MM-DD) and why, e.g. 2026-12-04 waiting for the vendor fix",
            Prompt::Decide => "what was decided?",
            Prompt::Resolve => "how was it resolved?",
            Prompt::MeetingAgenda => "agenda: o = objectives in order, e = only escalated, or a unit key (U-n)",
            Prompt::Search => "search: key or words of a title",
            Prompt::VarianceFilter => "variance list of whom? an owner's login or a unit (U-n); empty shows all",
            Prompt::AddItem => "add under it: KIND title … field=value … (kinds: key-result, kpi, measure, package, objective …)",
            Prompt::MoveItem => "move it under which parent? (its key, or none)",
            Prompt::RetireItem => "retire it: why? (kept in its history; 'all why' retires what is under it too)",
            Prompt::UnretireItem => "retired: bring it back? (yes; all: with what was retired with it)",
        }
    }
}
