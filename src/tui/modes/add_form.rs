//! The add form (`+`, then a kind alone): the fields the kind needs, one line each, moved
//! between with ↑/↓; Enter adds the item through the same change as `keel add`, and a refusal is
//! shown beside the field it is about (the text stays).

use super::super::action::Action;
use super::super::app::App;
use super::super::update::single_line;
use super::Mode;
use crate::domain::{ItemKey, ItemKind};
use crate::store::upkeep::Upkeep;
use crate::store::{Change, Edit};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

pub struct AddForm {
    pub kind: ItemKind,
    /// The parent the item goes under, if any (`--parent`).
    pub parent: Option<String>,
    /// Field names as `keel add` takes them; the first is the title.
    pub names: Vec<&'static str>,
    pub inputs: Vec<TextArea<'static>>,
    pub errors: Vec<Option<String>>,
    pub field: usize,
}

/// The fields the form offers for a kind, the title first, then what it needs, then the rest.
fn fields(kind: ItemKind) -> &'static [&'static str] {
    match kind {
        ItemKind::Objective => &["title", "owner", "level", "cycle", "units", "target", "description"],
        ItemKind::KeyResult => &["title", "kind", "baseline", "target", "unit", "weight", "owner"],
        ItemKind::Kpi => {
            &["title", "ipo_class", "direction", "target", "unit", "tolerance", "timeframe", "data_source", "frequency", "owner"]
        }
        ItemKind::Measure => &[
            "title",
            "owner",
            "sponsor",
            "controller",
            "business_unit",
            "function",
            "potential",
            "cadence",
            "value_type",
            "contributes_to",
            "description",
        ],
        ItemKind::Person => &["name", "login", "email", "pmo_admin"],
        ItemKind::Unit => &["name", "kind"],
        ItemKind::Cycle => &["name", "start", "end"],
        ItemKind::Kra => &["name", "owner"],
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => &["title", "owner", "target"],
    }
}

/// What an empty field says: its shape.
fn hint(name: &str) -> &'static str {
    match name {
        "title" | "name" => "required",
        "owner" | "sponsor" | "controller" => "P-n or login",
        "kind" | "level" | "ipo_class" | "direction" | "cadence" | "value_type" | "frequency" => "one of its words (Enter lists them)",
        "start" | "end" => "YYYY-MM-DD",
        "units" | "contributes_to" => "keys, comma-separated",
        "pmo_admin" => "true or false",
        _ => "",
    }
}

pub fn open(app: &mut App, kind: ItemKind, parent: Option<String>) {
    let names = fields(kind).to_vec();
    let inputs = names.iter().map(|n| single_line("", hint(n))).collect();
    let errors = vec![None; names.len()];
    app.mode = Mode::AddForm(Box::new(AddForm { kind, parent, names, inputs, errors, field: 0 }));
}

pub fn handle_key(app: &mut App, mut f: Box<AddForm>, action: Option<Action>, ev: KeyEvent) -> anyhow::Result<()> {
    let last = f.names.len() - 1;
    match action {
        Some(Action::Leave | Action::Cancel) => return Ok(()),
        Some(Action::NextField | Action::Skip) => f.field = (f.field + 1).min(last),
        Some(Action::PrevField) => f.field = f.field.saturating_sub(1),
        Some(Action::ClearField) => f.inputs[f.field] = single_line("", hint(f.names[f.field])),
        Some(Action::Save) => return save(app, f),
        _ => {
            f.inputs[f.field].input(ev);
        }
    }
    app.mode = Mode::AddForm(f);
    Ok(())
}

fn save(app: &mut App, mut f: Box<AddForm>) -> anyhow::Result<()> {
    let text = |i: usize| f.inputs[i].lines().join(" ").trim().to_string();
    let mut pairs = Vec::new();
    for i in 1..f.names.len() {
        let mut value = text(i);
        if matches!(f.names[i], "owner" | "sponsor" | "controller") && ItemKey::parse(&value).is_err() && !value.is_empty() {
            value = app.store.person_key(&value)?.map(|k| k.to_string()).unwrap_or(value);
        }
        if !value.is_empty() {
            pairs.push((f.names[i].to_string(), value));
        }
    }
    let title = Some(text(0)).filter(|t| !t.is_empty());
    let change = Upkeep::Add { kind: f.kind, title, parent: f.parent.clone(), owner: None, fields: pairs };
    match app.store.edit(Edit::one(Change::Upkeep(change))) {
        Ok(o) => {
            app.reload()?;
            app.say(o.effects.join("; "));
        }
        Err(e) => {
            // Beside a field the item's name and "nothing was changed" go without saying.
            let full = e.to_string();
            let why = full.strip_prefix("cannot add the ").and_then(|r| r.split_once(": ")).map(|(_, r)| r).unwrap_or(&full);
            let why = why.trim_end_matches(" Nothing was changed.").trim_end_matches('.').to_string();
            // Beside the field the refusal names, else beside the title.
            let at = f
                .names
                .iter()
                .position(|n| {
                    full.contains(&format!(": {n}:")) || full.contains(&format!("needs {n}=")) || full.contains(&format!("'{n}'"))
                })
                .unwrap_or(0);
            f.errors = vec![None; f.names.len()];
            f.errors[at] = Some(why);
            f.field = at;
            app.mode = Mode::AddForm(f);
        }
    }
    Ok(())
}
