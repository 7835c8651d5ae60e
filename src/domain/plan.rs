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
