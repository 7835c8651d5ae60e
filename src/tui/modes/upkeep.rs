//! Keeping the organisation current from the app: add an item under the selected one, move the
//! selected item, retire it. Each asks one line on the bottom line (the prompt), runs the same
//! `Change::Upkeep` as the command line, and says a refusal beside the question, text kept.

use super::super::app::App;
use super::super::update::single_line;
use super::{Mode, Prompt};
use crate::domain::{ItemKey, ItemKind};
use crate::store::upkeep::Upkeep;
use crate::store::{Change, Edit};

/// Open the question for `purpose` about the selected item.
pub fn open(app: &mut App, purpose: Prompt) {
    let Some(key) = app.selected_key() else {
        app.warn("select an item in the tree first");
        return;
    };
    // X on a retired item (the retired filter shows them) offers to bring it back.
    let retired =
        purpose == Prompt::RetireItem && app.store.retired_items(Some(key.kind)).is_ok_and(|r| r.iter().any(|r| r.key == key.to_string()));
    let purpose = if retired { Prompt::UnretireItem } else { purpose };
    let start = match purpose {
        Prompt::AddItem => format!("{} ", default_kind(key.kind).as_str()),
        _ => String::new(),
    };
    app.mode = Mode::Prompt { purpose, input: single_line(&start, purpose.hint()), error: None };
}

/// The kind most often added under an item of `kind`.
fn default_kind(kind: ItemKind) -> ItemKind {
    match kind {
        ItemKind::Objective | ItemKind::Cycle => ItemKind::KeyResult,
        ItemKind::KeyResult => ItemKind::Kpi,
        ItemKind::Portfolio => ItemKind::Programme,
        ItemKind::Programme => ItemKind::Project,
        ItemKind::Project => ItemKind::Package,
        ItemKind::Unit => ItemKind::Unit,
        _ => ItemKind::Measure,
    }
}

/// `KIND title words … field=value …` as the add command takes it, under `parent`.
fn parse_add(parent: &ItemKey, package_of_measure: Option<String>, text: &str) -> Result<Upkeep, String> {
    let mut words = text.split_whitespace().peekable();
    let kind = match words.peek().and_then(|w| ItemKind::parse(w)) {
        Some(k) => {
            words.next();
            k
        }
        None => default_kind(parent.kind),
    };
    let (mut title, mut fields) = (Vec::new(), Vec::new());
    for w in words {
        match w.split_once('=') {
            Some((name, value)) => fields.push((name.to_string(), value.to_string())),
            None if fields.is_empty() => title.push(w),
            None => return Err(format!("'{w}' after the fields: the title comes first, then field=value")),
        }
    }
    if title.is_empty() {
        return Err(format!("give the {kind}'s title after its kind"));
    }
    let parent = parent_for(kind, parent, package_of_measure);
    Ok(Upkeep::Add { kind, title: Some(title.join(" ")), parent, owner: None, fields })
}

/// What a new item of `kind` goes under when `selected` is selected.
fn parent_for(kind: ItemKind, selected: &ItemKey, package_of_measure: Option<String>) -> Option<String> {
    match (kind, selected.kind) {
        (ItemKind::Cycle | ItemKind::Kra | ItemKind::Portfolio, _) => None,
        // A measure added beside a measure goes into the same package.
        (ItemKind::Measure, ItemKind::Measure) => package_of_measure,
        _ => Some(selected.to_string()),
    }
}

/// Act on the answer: `Err` with the reason keeps the question open.
pub fn answer(app: &mut App, purpose: Prompt, text: &str) -> anyhow::Result<Result<(), String>> {
    let Some(key) = app.selected_key() else { return Ok(Err("select an item in the tree first".into())) };
    let change = match purpose {
        Prompt::AddItem => {
            let package = if key.kind == ItemKind::Measure {
                app.store
                    .detail(&key)?
                    .fields
                    .iter()
                    .find(|f| f.name == "package")
                    .and_then(|f| f.value.clone())
                    .and_then(|v| v.split(' ').next().map(str::to_string))
            } else {
                None
            };
            // A kind alone (or nothing) opens the form with that kind's fields.
            let words: Vec<&str> = text.split_whitespace().collect();
            let alone = match words.as_slice() {
                [] => Some(default_kind(key.kind)),
                [one] => ItemKind::parse(one),
                _ => None,
            };
            if let Some(kind) = alone {
                let parent = parent_for(kind, &key, package);
                super::add_form::open(app, kind, parent);
                return Ok(Ok(()));
            }
            match parse_add(&key, package, text) {
                Ok(u) => u,
                Err(why) => return Ok(Err(why)),
            }
        }
        Prompt::MoveItem => {
            let to = match text.trim().to_ascii_lowercase().as_str() {
                "" => return Ok(Err("give the new parent's key (or none)".into())),
                "none" | "-" => None,
                t => match ItemKey::parse(t) {
                    Ok(k) => Some(k),
                    Err(e) => return Ok(Err(e.to_string())),
                },
            };
            Upkeep::Move { key: key.clone(), to }
        }
        Prompt::UnretireItem => match text.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Upkeep::Unretire { key: key.clone(), with_children: false },
            "a" | "all" => Upkeep::Unretire { key: key.clone(), with_children: true },
            _ => return Ok(Err("answer yes, or all (Esc leaves it retired)".into())),
        },
        _ => {
            let (with_children, reason) = match text.trim().strip_prefix("all ") {
                Some(rest) => (true, rest.trim()),
                None => (false, text.trim()),
            };
            if reason.is_empty() {
                return Ok(Err("say why it is retired".into()));
            }
            Upkeep::Retire { key: key.clone(), reason: reason.to_string(), with_children }
        }
    };
    match app.store.edit(Edit::one(Change::Upkeep(change))) {
        Ok(o) => {
            app.reload()?;
            let said = if o.effects.is_empty() { format!("{key}: nothing changed") } else { o.effects.join("; ") };
            app.say(said);
            Ok(Ok(()))
        }
        // The app's answer says "all why" where the command line says --with-children.
        Err(e) => Ok(Err(format!("{} — nothing was changed", e.to_string().replace("give --with-children", "answer 'all WHY'")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_as_kind_title_and_fields() {
        let o3 = ItemKey::parse("O-3").unwrap();
        let Ok(Upkeep::Add { kind, title, parent, fields, .. }) =
            parse_add(&o3, None, "key-result NPS to 45 kind=increase-to baseline=38 target=45")
        else {
            panic!("an add")
        };
        assert_eq!((kind, title.as_deref(), parent.as_deref()), (ItemKind::KeyResult, Some("NPS to 45"), Some("O-3")));
        assert_eq!(fields.len(), 3);
        let m4 = ItemKey::parse("M-4").unwrap();
        let Ok(Upkeep::Add { kind, parent, .. }) = parse_add(&m4, Some("MP-2".into()), "Route optimiser") else { panic!("an add") };
        assert_eq!((kind, parent.as_deref()), (ItemKind::Measure, Some("MP-2")));
        assert!(parse_add(&o3, None, "key-result").is_err());
        assert!(parse_add(&o3, None, "x kind=milestone stray").is_err());
    }
}
