//! One item typed on the command line (`keel add KIND --title … field=value …`) written as a
//! plan holding just that item, so the plan import's checks are the only checks an added item
//! meets: one validator, not two. This module only shapes the fragment; the import judges it.

use super::plan::{Plan, FORMAT, FORMAT_VERSION};
use super::ItemKind;
use serde_json::{Map, Value};

/// Fields a new item may not be given: its key is keel's to choose, and a measure's stage and
/// approvals move only through `keel gate` (a new measure starts defined).
const NOT_ON_ADD: &[(&str, &str)] = &[
    ("key", "keel chooses the key of a new item"),
    ("stage", "a new measure starts defined; it moves through `keel gate`"),
    ("side_state", "hold or cancel a measure with `keel gate`"),
    ("side_reason", "hold or cancel a measure with `keel gate`"),
    ("pending_stage", "request a stage with `keel gate KEY request`"),
    ("requested_by", "request a stage with `keel gate KEY request`"),
    ("sponsor_approved_by", "approvals are given with `keel gate KEY approve`"),
    ("controller_signed_by", "approvals are given with `keel gate KEY approve`"),
    ("validated_by", "approvals are given with `keel gate KEY approve`"),
    ("milestones", "add milestones with `keel milestone KEY add TITLE DUE`"),
];

/// Fields that hold a list: written comma-separated on the command line.
const LISTS: &[&str] = &["units", "informs", "contributes_to", "depends_on"];
/// Fields that hold true or false.
const FLAGS: &[&str] = &["pmo_admin", "milestone_done"];

/// The plan section an added item of `kind` goes into, and the name of its title field.
pub fn section(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::Cycle => ("cycles", "name"),
        ItemKind::Unit => ("units", "name"),
        ItemKind::Person => ("people", "name"),
        ItemKind::Kra => ("kras", "name"),
        ItemKind::Objective => ("objectives", "title"),
        ItemKind::KeyResult => ("key_results", "title"),
        ItemKind::Kpi => ("kpis", "title"),
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => ("nodes", "title"),
        ItemKind::Measure => ("measures", "title"),
    }
}

/// The plan field `--parent` fills for an item of `kind`, if the kind has a parent: an
/// objective's alignment, a key result's objective, a measure's package, a node's parent, a
/// unit's parent unit, a person's unit, and the key result or objective a KPI informs.
pub fn parent_field(kind: ItemKind) -> Option<&'static str> {
    match kind {
        ItemKind::Objective | ItemKind::Unit => Some("parent"),
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => Some("parent"),
        ItemKind::KeyResult => Some("objective"),
        ItemKind::Measure => Some("package"),
        ItemKind::Person => Some("unit"),
        ItemKind::Kpi => Some("informs"),
        ItemKind::Cycle | ItemKind::Kra => None,
    }
}

/// "a measure", "an objective": the kind with its article, for messages.
pub fn a(kind: ItemKind) -> String {
    let word = kind.as_str();
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {word}")
}

/// Does an item of `kind` have an owner?
pub fn has_owner(kind: ItemKind) -> bool {
    !matches!(kind, ItemKind::Cycle | ItemKind::Unit | ItemKind::Person)
}

/// What the command line said about the new item.
#[derive(Clone, Debug, Default)]
pub struct Typed<'a> {
    pub title: Option<&'a str>,
    pub parent: Option<&'a str>,
    pub owner: Option<&'a str>,
    /// `field=value` pairs as typed.
    pub fields: &'a [(String, String)],
}

/// Build the one-item plan. `defaults` fill fields the person did not type (a measure's
/// cadence, an objective's cycle …). Problems are worded for the person who typed the line.
pub fn build(kind: ItemKind, key: &str, typed: &Typed, defaults: &[(&str, String)]) -> Result<Plan, String> {
    let (section, title_field) = section(kind);
    let mut item = Map::new();
    item.insert("key".into(), Value::String(key.into()));
    if let Some(node) = kind.node() {
        item.insert("kind".into(), Value::String(node.as_str().into()));
    }
    let put = |item: &mut Map<String, Value>, name: &str, raw: &str| -> Result<(), String> {
        if item.contains_key(name) && name != "key" {
            return Err(format!("{name} is given twice"));
        }
        let value = if LISTS.contains(&name) {
            Value::Array(raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect())
        } else if FLAGS.contains(&name) {
            match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => return Err(format!("{name}: '{}' is not true or false", super::num::echo(raw))),
            }
        } else {
            Value::String(raw.trim().into())
        };
        item.insert(name.into(), value);
        Ok(())
    };
    if let Some(t) = typed.title {
        put(&mut item, title_field, t)?;
    }
    if let Some(p) = typed.parent {
        let field = parent_field(kind).ok_or_else(|| format!("{} has no parent: leave out --parent", a(kind)))?;
        put(&mut item, field, p)?;
    }
    if let Some(o) = typed.owner {
        if !has_owner(kind) {
            return Err(format!("{} has no owner: leave out --owner", a(kind)));
        }
        put(&mut item, "owner", o)?;
    }
    for (raw_name, value) in typed.fields {
        let name = raw_name.trim().to_ascii_lowercase().replace('-', "_");
        if let Some((_, why)) = NOT_ON_ADD.iter().find(|(n, _)| *n == name) {
            return Err(format!("{name} cannot be set on a new item: {why}"));
        }
        if name == "kind" && kind.node().is_some() {
            return Err(format!("kind: this is {}; add another kind with `keel add KIND`", a(kind)));
        }
        let name = if name == "title" || name == "name" { title_field.to_string() } else { name };
        put(&mut item, &name, value)?;
    }
    for (name, value) in defaults {
        item.entry(name.to_string()).or_insert_with(|| Value::String(value.clone()));
    }
    let whole = |item: Map<String, Value>| {
        let mut plan = Map::new();
        plan.insert("format".into(), Value::String(FORMAT.into()));
        plan.insert("version".into(), Value::from(FORMAT_VERSION));
        plan.insert(section.into(), Value::Array(vec![Value::Object(item)]));
        serde_json::from_value::<Plan>(Value::Object(plan)).map_err(|e| e.to_string())
    };
    match whole(item.clone()) {
        Ok(plan) => Ok(plan),
        Err(why) => Err(explain(kind, title_field, &item, &why, whole)),
    }
}

/// Say which typed field a shape problem comes from: the one whose removal makes the problem go
/// away (serde names a missing or unknown field, but not the field whose value it could not read).
fn explain(
    kind: ItemKind,
    title_field: &str,
    item: &Map<String, Value>,
    why: &str,
    whole: impl Fn(Map<String, Value>) -> Result<Plan, String>,
) -> String {
    if let Some(rest) = why.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        if field == title_field {
            return format!("{} needs a {title_field}: give --title", a(kind));
        }
        return format!("{} needs {field}=VALUE{}", a(kind), choices(kind, field));
    }
    if let Some(rest) = why.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let expected = rest.split_once("expected one of ").map(|(_, e)| e.replace('`', "")).unwrap_or_default();
        let allowed: Vec<&str> = expected
            .split(", ")
            .filter(|f| !(f.is_empty() || NOT_ON_ADD.iter().any(|(n, _)| n == f) || (*f == "kind" && kind.node().is_some())))
            .collect();
        return format!("{} has no field '{field}'; its fields: {}", a(kind), allowed.join(", "));
    }
    for name in item.keys().filter(|k| *k != "key" && !(*k == "kind" && kind.node().is_some())) {
        let mut without = item.clone();
        without.remove(name);
        match whole(without) {
            Ok(_) => return format!("{name}: {}", tidy(why)),
            Err(other) if other.starts_with(&format!("missing field `{name}`")) => return format!("{name}: {}", tidy(why)),
            Err(_) => {}
        }
    }
    tidy(why)
}

/// serde's words without its position suffix (there is no file: the line was typed).
fn tidy(why: &str) -> String {
    why.split(" at line ").next().unwrap_or(why).to_string()
}

fn choices(kind: ItemKind, field: &str) -> String {
    use super::{Direction, IpoClass, KrKind, Level, UnitKind};
    let list = match (kind, field) {
        (ItemKind::KeyResult, "kind") => KrKind::choices(),
        (ItemKind::Unit, "kind") => UnitKind::choices(),
        (_, "level") => Level::choices(),
        (_, "ipo_class") => IpoClass::choices(),
        (_, "direction") => Direction::choices(),
        (ItemKind::Cycle, "start" | "end") => "a date, YYYY-MM-DD".into(),
        _ => return String::new(),
    };
    format!(" ({list})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_measure_becomes_a_one_item_plan_with_its_package_and_defaults() {
        let f = fields(&[("potential", "5000"), ("contributes-to", "KR-1, K-2")]);
        let typed = Typed { title: Some("Route optimiser"), parent: Some("MP-2"), owner: Some("P-3"), fields: &f };
        let plan = build(
            ItemKind::Measure,
            "M-40",
            &typed,
            &[("stage", "defined".into()), ("cadence", "weekly".into()), ("value_type", "recurring-benefit".into())],
        )
        .unwrap();
        let m = &plan.measures[0];
        assert_eq!((m.key.as_str(), m.package.as_deref(), m.owner.as_deref()), ("M-40", Some("MP-2"), Some("P-3")));
        assert_eq!(m.contributes_to, vec!["KR-1".to_string(), "K-2".to_string()]);
        assert_eq!(m.potential.map(|p| p.to_string()).as_deref(), Some("5000"));
    }

    #[test]
    fn problems_name_the_field_and_what_to_give() {
        let none: Vec<(String, String)> = vec![];
        let kr = Typed { title: Some("x"), parent: Some("O-1"), fields: &none, ..Default::default() };
        let why = build(ItemKind::KeyResult, "KR-9", &kr, &[("weight", "1".into())]).unwrap_err();
        assert!(why.contains("needs kind=VALUE") && why.contains("increase-to"), "{why}");
        let f = fields(&[("kind", "sideways")]);
        let kr = Typed { fields: &f, ..kr };
        let why = build(ItemKind::KeyResult, "KR-9", &kr, &[("weight", "1".into())]).unwrap_err();
        assert!(why.starts_with("kind: 'sideways' is not one of"), "{why}");
        let f = fields(&[("colour", "red")]);
        let why = build(ItemKind::Cycle, "C-2", &Typed { title: Some("FY"), fields: &f, ..Default::default() }, &[]).unwrap_err();
        assert!(why.contains("no field 'colour'") && why.contains("start"), "{why}");
        let f = fields(&[("stage", "closed")]);
        let why = build(ItemKind::Measure, "M-9", &Typed { title: Some("x"), fields: &f, ..Default::default() }, &[]).unwrap_err();
        assert!(why.contains("keel gate"), "{why}");
        let why = build(ItemKind::Cycle, "C-2", &Typed { title: Some("FY"), owner: Some("P-1"), ..Default::default() }, &[]).unwrap_err();
        assert!(why.contains("has no owner"), "{why}");
    }
}
