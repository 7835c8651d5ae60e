//! The plan: keel's whole organisation as plain data — what `keel export --format json` writes
//! and `keel import` reads. Derived state (escalations, roll-ups) and history (audit, gate
//! events) are not part of it: they are recomputed or kept by the database that imports it.
//!
//! Order is fixed (sections as below, items by key number) so that export → import → export gives
//! identical bytes.

use super::{Cadence, IpoClass, KrKind, Level, NodeKind, Num, SideState, Stage, UnitKind, ValueType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const FORMAT: &str = "keel-plan";
pub const FORMAT_VERSION: u32 = 1;

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub cycles: Vec<Cycle>,
    #[serde(default)]
    pub units: Vec<Unit>,
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(default)]
    pub kras: Vec<Kra>,
    #[serde(default)]
    pub objectives: Vec<Objective>,
    #[serde(default)]
    pub key_results: Vec<KeyResult>,
    #[serde(default)]
    pub kpis: Vec<Kpi>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub measures: Vec<Measure>,
    #[serde(default)]
    pub values: Vec<Value>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Items kept with their history but out of service (`keel retire`); written only when
    /// there are some, so a plan with none reads as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<Retired>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cycle {
    pub key: String,
    pub name: String,
    pub start: chrono::NaiveDate,
    pub end: chrono::NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub key: String,
    pub name: String,
    pub kind: UnitKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub pmo_admin: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kra {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub key: String,
    pub cycle: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The objective this one aligns to (cascade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub level: Level,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// A status set by hand: green, amber or red.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_explanation: Option<String>,
    /// Top-down value target, checked against the bottom-up sum of the measures serving it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Num>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyResult {
    pub key: String,
    pub objective: String,
    pub title: String,
    pub kind: KrKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub weight: Num,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub milestone_done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_explanation: Option<String>,
    /// Why the number is off and what happens next (the weekly note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kpi {
    pub key: String,
    pub title: String,
    pub ipo_class: IpoClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub direction: super::Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Num>,
    /// Relative tolerance for this KPI (0.05 = 5%); the organisation's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Cadence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kra: Option<String>,
    /// Key results and objectives this KPI informs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub informs: Vec<String>,
    /// Why the number is off and what happens next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub key: String,
    pub kind: NodeKind,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Num>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub title: String,
    pub due: chrono::NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<chrono::NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub key: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kra: Option<String>,
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_state: Option<SideState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_stage: Option<Stage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor_approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_signed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validated_by: Option<String>,
    pub cadence: Cadence,
    pub value_type: ValueType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub potential: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_needed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<String>,
    /// Key results and KPIs this measure contributes to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributes_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<Milestone>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Value {
    pub item: String,
    pub period: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Num>,
    /// The owner's confidence in the forecast (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Num>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Login of whoever entered the value, and when (RFC 3339).
    pub by: String,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub item: String,
    pub text: String,
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// An item of the plan that is retired: when, and why (what `keel retire --reason` recorded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    pub key: String,
    pub at: String,
    pub reason: String,
}

/// What is wrong with the plan's `retired` section on its own, as (where, what): each entry names
/// an item of this plan once, with an RFC 3339 time and a reason. Whether the item may be retired
/// (nothing active under it, no roles held) is the store's to judge, with the whole tree.
pub fn retired_problems(plan: &Plan) -> Vec<(String, String)> {
    let mut keys = std::collections::HashSet::new();
    plan_keys(plan, |k| {
        keys.insert(k.to_string());
    });
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, r) in plan.retired.iter().enumerate() {
        let at = format!("retired[{i}] ({})", r.key);
        if !keys.contains(&r.key) {
            out.push((at.clone(), format!("{} is not an item of this plan: only the plan's own items can arrive retired", r.key)));
        } else if !seen.insert(r.key.as_str()) {
            out.push((at.clone(), format!("{} is retired twice", r.key)));
        }
        if chrono::DateTime::parse_from_rfc3339(&r.at).is_err() {
            out.push((at.clone(), format!("at '{}' is not an RFC 3339 time like 2026-11-24T09:15:00Z", r.at)));
        }
        if r.reason.trim().is_empty() {
            out.push((at, "reason is empty: say why the item was retired".into()));
        }
    }
    out
}

/// Where the plan defines `key`, as problems name it: `measures[3] (M-37)`.
pub fn place_of(plan: &Plan, key: &str) -> String {
    let found = [
        ("cycles", plan.cycles.iter().position(|x| x.key == key)),
        ("units", plan.units.iter().position(|x| x.key == key)),
        ("people", plan.people.iter().position(|x| x.key == key)),
        ("kras", plan.kras.iter().position(|x| x.key == key)),
        ("objectives", plan.objectives.iter().position(|x| x.key == key)),
        ("key_results", plan.key_results.iter().position(|x| x.key == key)),
        ("kpis", plan.kpis.iter().position(|x| x.key == key)),
        ("nodes", plan.nodes.iter().position(|x| x.key == key)),
        ("measures", plan.measures.iter().position(|x| x.key == key)),
    ];
    match found.into_iter().find_map(|(s, i)| i.map(|i| (s, i))) {
        Some((section, i)) => format!("{section}[{i}] ({key})"),
        None => key.to_string(),
    }
}

/// Every item key the plan defines.
fn plan_keys(plan: &Plan, mut f: impl FnMut(&str)) {
    plan.cycles.iter().for_each(|x| f(&x.key));
    plan.units.iter().for_each(|x| f(&x.key));
    plan.people.iter().for_each(|x| f(&x.key));
    plan.kras.iter().for_each(|x| f(&x.key));
    plan.objectives.iter().for_each(|x| f(&x.key));
    plan.key_results.iter().for_each(|x| f(&x.key));
    plan.kpis.iter().for_each(|x| f(&x.key));
    plan.nodes.iter().for_each(|x| f(&x.key));
    plan.measures.iter().for_each(|x| f(&x.key));
}

#[cfg(test)]
mod retired_tests {
    use super::*;

    fn plan(retired: Vec<Retired>) -> Plan {
        let person = Person { key: "P-1".into(), name: "Ann".into(), login: None, email: None, unit: None, pmo_admin: false };
        Plan { format: FORMAT.into(), version: FORMAT_VERSION, people: vec![person], retired, ..Default::default() }
    }

    fn r(key: &str, at: &str, reason: &str) -> Retired {
        Retired { key: key.into(), at: at.into(), reason: reason.into() }
    }

    #[test]
    fn a_sound_entry_passes() {
        assert!(retired_problems(&plan(vec![r("P-1", "2026-11-24T09:15:00Z", "left")])).is_empty());
    }

    #[test]
    fn unknown_twice_bad_time_and_empty_reason_are_named() {
        let p = plan(vec![r("M-9", "2026-11-24T09:15:00Z", "x"), r("P-1", "yesterday", " "), r("P-1", "2026-11-24T09:15:00Z", "y")]);
        let found: Vec<String> = retired_problems(&p).into_iter().map(|(at, what)| format!("{at}: {what}")).collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("retired[0] (M-9): M-9 is not an item of this plan"), "{found:?}");
        assert!(found[1].contains("at 'yesterday' is not an RFC 3339"), "{found:?}");
        assert!(found[2].contains("reason is empty"), "{found:?}");
        assert!(found[3].starts_with("retired[2] (P-1): P-1 is retired twice"), "{found:?}");
    }
}
