//! What can be set on each kind of item: the name users type, the column it lives in, and how
//! a typed value is checked. `keel set`, the TUI and imports all read this one table.

use crate::domain::ItemKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Free text; empty clears it unless required.
    Text,
    /// An exact decimal.
    Number,
    /// A person key (P-n).
    Person,
    /// A unit key (U-n).
    Unit,
    /// A key result area (KRA-n).
    Kra,
    /// An objective (O-n).
    Objective,
    /// A cycle (C-n).
    Cycle,
    /// A node of the given kind (PF/PG/PJ/MP-n).
    Node(ItemKind),
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
    /// true/false (also yes/no, 1/0).
    Flag,
    /// A date, YYYY-MM-DD.
    Date,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub column: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Which group the detail pane shows it under.
    pub group: &'static str,
}

const fn f(name: &'static str, column: &'static str, ty: FieldType, required: bool, group: &'static str) -> Field {
    Field { name, column, ty, required, group }
}

use FieldType::*;

const CADENCES: &[&str] = &["weekly", "biweekly", "monthly", "quarterly"];
const RAG: &[&str] = &["green", "amber", "red"];

const MEASURE: &[Field] = &[
    f("title", "title", Text, true, "measure"),
    f("description", "description", Text, false, "measure"),
    f("package", "package_id", Node(ItemKind::Package), false, "measure"),
    f("owner", "owner_id", Person, false, "people"),
    f("sponsor", "sponsor_id", Person, false, "people"),
    f("controller", "controller_id", Person, false, "people"),
    f("business_unit", "business_unit_id", Unit, false, "organisation"),
    f("function", "function_id", Unit, false, "organisation"),
    f("kra", "kra_id", Kra, false, "organisation"),
    f("cadence", "cadence", Choice(CADENCES), true, "value"),
    f("value_type", "value_type", Choice(&["recurring-benefit", "one-time-benefit", "one-time-cost", "recurring-cost"]), true, "value"),
    f("potential", "potential", Number, false, "value"),
    f("narrative", "narrative", Text, false, "status"),
    f("decision_needed", "decision_needed", Text, false, "status"),
    f("risk", "risk", Text, false, "status"),
    f("next_steps", "next_steps", Text, false, "status"),
];

const OBJECTIVE: &[Field] = &[
    f("title", "title", Text, true, "objective"),
    f("description", "description", Text, false, "objective"),
    f("cycle", "cycle_id", Cycle, true, "objective"),
    f("owner", "owner_id", Person, false, "objective"),
    f("parent", "parent_id", Objective, false, "alignment"),
    f("level", "level", Choice(&["company", "department", "team", "individual"]), true, "alignment"),
    f("target", "target", Number, false, "value"),
    f("manual_status", "manual_status", Choice(RAG), false, "status"),
    f("status_explanation", "status_explanation", Text, false, "status"),
];

const KEY_RESULT: &[Field] = &[
    f("title", "title", Text, true, "key result"),
    f("objective", "objective_id", Objective, true, "key result"),
    f("kind", "kind", Choice(&["increase-to", "decrease-to", "stay-above", "stay-below", "milestone"]), true, "key result"),
    f("baseline", "baseline", Number, false, "numbers"),
    f("target", "target", Number, false, "numbers"),
    f("unit", "unit", Text, false, "numbers"),
    f("weight", "weight", Number, true, "numbers"),
    f("confidence", "confidence", Number, false, "numbers"),
    f("owner", "owner_id", Person, false, "key result"),
    f("milestone_done", "milestone_done", Flag, true, "numbers"),
    f("manual_status", "manual_status", Choice(RAG), false, "status"),
    f("status_explanation", "status_explanation", Text, false, "status"),
    f("narrative", "narrative", Text, false, "status"),
];

const KPI: &[Field] = &[
    f("title", "title", Text, true, "kpi"),
    f("ipo_class", "ipo_class", Choice(&["input", "process", "outcome"]), true, "kpi"),
    f("unit", "unit", Text, false, "kpi"),
    f("direction", "direction", Choice(&["higher", "lower"]), true, "kpi"),
    f("target", "target", Number, false, "completeness"),
    f("timeframe", "timeframe", Text, false, "completeness"),
    f("data_source", "data_source", Text, false, "completeness"),
    f("frequency", "frequency", Choice(CADENCES), false, "completeness"),
    f("tolerance", "tolerance", Number, false, "kpi"),
    f("owner", "owner_id", Person, false, "kpi"),
    f("kra", "kra_id", Kra, false, "kpi"),
    f("narrative", "narrative", Text, false, "status"),
];

const NODE: &[Field] = &[
    f("title", "title", Text, true, "node"),
    f("owner", "owner_id", Person, false, "node"),
    f("target", "target", Number, false, "value"),
];

const PERSON: &[Field] = &[
    f("name", "name", Text, true, "person"),
    f("login", "login", Text, false, "person"),
    f("email", "email", Text, false, "person"),
    f("unit", "unit_id", Unit, false, "person"),
    f("pmo_admin", "pmo_admin", Flag, true, "person"),
];

const UNIT: &[Field] = &[f("name", "name", Text, true, "unit"), f("kind", "kind", Choice(&["business-unit", "function"]), true, "unit")];

const CYCLE: &[Field] =
    &[f("name", "name", Text, true, "cycle"), f("start", "start_date", Date, true, "cycle"), f("end", "end_date", Date, true, "cycle")];

const KRA: &[Field] = &[f("name", "name", Text, true, "kra"), f("owner", "owner_id", Person, false, "kra")];

/// The table holding items of a kind.
pub fn table_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Cycle => "cycles",
        ItemKind::Unit => "units",
        ItemKind::Person => "people",
        ItemKind::Objective => "objectives",
        ItemKind::KeyResult => "key_results",
        ItemKind::Kpi => "kpis",
        ItemKind::Kra => "kras",
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => "nodes",
        ItemKind::Measure => "measures",
    }
}

pub fn fields_of(kind: ItemKind) -> &'static [Field] {
    match kind {
        ItemKind::Cycle => CYCLE,
        ItemKind::Unit => UNIT,
        ItemKind::Person => PERSON,
        ItemKind::Objective => OBJECTIVE,
        ItemKind::KeyResult => KEY_RESULT,
        ItemKind::Kpi => KPI,
        ItemKind::Kra => KRA,
        ItemKind::Portfolio | ItemKind::Programme | ItemKind::Project | ItemKind::Package => NODE,
        ItemKind::Measure => MEASURE,
    }
}

pub fn find(kind: ItemKind, name: &str) -> Option<&'static Field> {
    let n = name.trim().to_ascii_lowercase().replace('-', "_");
    fields_of(kind).iter().find(|f| f.name == n)
}

/// Per-period value fields (need a period).
pub const VALUE_FIELDS: &[&str] = &crate::domain::ValueField::NAMES;

pub fn is_value_field(name: &str) -> bool {
    VALUE_FIELDS.contains(&name.trim().to_ascii_lowercase().as_str())
}

/// Does `name` on an item of `kind` mean a number of one period? Names that are both an item
/// field and a per-period value (`baseline`, `confidence` of a key result) mean the item's field
/// unless a period is given; the file formats keep their own names.
pub fn is_period_value(kind: ItemKind, name: &str, period_given: bool) -> bool {
    is_value_field(name) && (period_given || find(kind, name).is_none())
}

pub fn choices(kind: ItemKind) -> String {
    let mut names: Vec<&str> = fields_of(kind).iter().map(|f| f.name).collect();
    if kind.has_values() {
        names.extend(VALUE_FIELDS);
    }
    names.join(", ")
}
