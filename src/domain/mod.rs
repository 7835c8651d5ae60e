//! The vocabulary and the rules of keel. Pure: no SQL, no terminal, no clock (dates are passed in).

pub mod authority;
pub mod confidence;
pub mod discipline;
pub mod escalation;
pub mod gates;
pub mod handover;
pub mod health;
pub mod key_result;
pub mod narrative;
pub mod num;
pub mod period;
pub mod plan;
pub mod plan_fragment;
pub mod rollup;
pub mod scoring;
pub mod search;
pub mod settings;
pub mod signals;
pub mod status;
pub mod structure;
pub mod text_check;

pub use num::Num;
pub use period::{Cadence, Period};

use std::fmt;

/// Declares a closed vocabulary stored as text: each variant with its canonical spelling.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim().to_ascii_lowercase().replace([' ', '_'], "-");
                $name::ALL.iter().copied().find(|v| v.as_str() == t)
            }
            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::custom(format!(
                    "'{s}' is not one of: {}", $name::choices())))
            }
        }
    };
}

vocabulary!(
    /// Degree of Implementation: the six stage gates, in order.
    Stage {
        Defined => "defined",
        Identified => "identified",
        Detailed => "detailed",
        Decided => "decided",
        Implemented => "implemented",
        Closed => "closed",
    }
);

impl Stage {
    pub fn index(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
    pub fn next(self) -> Option<Stage> {
        Stage::ALL.get(self.index() + 1).copied()
    }
    pub fn prev(self) -> Option<Stage> {
        self.index().checked_sub(1).map(|i| Stage::ALL[i])
    }
    /// A short label that fits in a tree row.
    pub fn short(self) -> &'static str {
        match self {
            Stage::Defined => "DoI1",
            Stage::Identified => "DoI2",
            Stage::Detailed => "DoI3",
            Stage::Decided => "DoI4",
            Stage::Implemented => "DoI5",
            Stage::Closed => "DoI6",
        }
    }
}

vocabulary!(
    /// A measure paused or stopped outside the stage sequence.
    SideState { OnHold => "on-hold", Cancelled => "cancelled" }
);

vocabulary!(
    KrKind {
        IncreaseTo => "increase-to",
        DecreaseTo => "decrease-to",
        StayAbove => "stay-above",
        StayBelow => "stay-below",
        Milestone => "milestone",
    }
);

vocabulary!(
    /// Which way is good for a number.
    Direction { HigherIsBetter => "higher", LowerIsBetter => "lower" }
);

vocabulary!(
    /// Input (resources), process (activities) or outcome (results).
    IpoClass { Input => "input", Process => "process", Outcome => "outcome" }
);

vocabulary!(
    ValueType {
        RecurringBenefit => "recurring-benefit",
        OneTimeBenefit => "one-time-benefit",
        OneTimeCost => "one-time-cost",
        RecurringCost => "recurring-cost",
    }
);

impl ValueType {
    pub fn is_cost(self) -> bool {
        matches!(self, ValueType::OneTimeCost | ValueType::RecurringCost)
    }
    /// Benefits count positive and costs negative in net value.
    pub fn net(self, amount: Num) -> Num {
        if self.is_cost() {
            amount.negated()
        } else {
            amount
        }
    }
    pub fn direction(self) -> Direction {
        if self.is_cost() {
            Direction::LowerIsBetter
        } else {
            Direction::HigherIsBetter
        }
    }
}

vocabulary!(
    /// The numbers (and the comment) an item with values carries per period. The one list of
    /// them: the write path, the values CSV and the audit checks all read it.
    ValueField {
        Planned => "planned",
        Forecast => "forecast",
        Actual => "actual",
        Comment => "comment",
        Baseline => "baseline",
        Confidence => "confidence",
    }
);

impl ValueField {
    /// The names, in the values file's column order.
    pub const NAMES: [&'static str; 6] = ["planned", "forecast", "actual", "comment", "baseline", "confidence"];
    /// Does it move the item's numbers (and so its variance)? A comment or a confidence
    /// describes them.
    pub fn moves_numbers(self) -> bool {
        !matches!(self, ValueField::Comment | ValueField::Confidence)
    }
}

vocabulary!(
    Level { Company => "company", Department => "department", Team => "team", Individual => "individual" }
);

vocabulary!(
    UnitKind { BusinessUnit => "business-unit", Function => "function" }
);

vocabulary!(
    /// The four levels of the execution hierarchy above a measure.
    NodeKind { Portfolio => "portfolio", Programme => "programme", Project => "project", Package => "package" }
);

impl NodeKind {
    pub fn prefix(self) -> &'static str {
        match self {
            NodeKind::Portfolio => "PF",
            NodeKind::Programme => "PG",
            NodeKind::Project => "PJ",
            NodeKind::Package => "MP",
        }
    }
    /// The kind a node of this kind must hang under (portfolios are roots).
    pub fn parent_kind(self) -> Option<NodeKind> {
        match self {
            NodeKind::Portfolio => None,
            NodeKind::Programme => Some(NodeKind::Portfolio),
            NodeKind::Project => Some(NodeKind::Programme),
            NodeKind::Package => Some(NodeKind::Project),
        }
    }
}

vocabulary!(
    /// Every kind of item that has a human key.
    ItemKind {
        Cycle => "cycle",
        Unit => "unit",
        Person => "person",
        Objective => "objective",
        KeyResult => "key-result",
        Kpi => "kpi",
        Kra => "kra",
        Portfolio => "portfolio",
        Programme => "programme",
        Project => "project",
        Package => "package",
        Measure => "measure",
    }
);

impl ItemKind {
    pub fn prefix(self) -> &'static str {
        match self {
            ItemKind::Cycle => "C",
            ItemKind::Unit => "U",
            ItemKind::Person => "P",
            ItemKind::Objective => "O",
            ItemKind::KeyResult => "KR",
            ItemKind::Kpi => "K",
            ItemKind::Kra => "KRA",
            ItemKind::Portfolio => "PF",
            ItemKind::Programme => "PG",
            ItemKind::Project => "PJ",
            ItemKind::Package => "MP",
            ItemKind::Measure => "M",
        }
    }
    pub fn from_prefix(p: &str) -> Option<ItemKind> {
        ItemKind::ALL.iter().copied().find(|k| k.prefix() == p)
    }
    pub fn node(self) -> Option<NodeKind> {
        match self {
            ItemKind::Portfolio => Some(NodeKind::Portfolio),
            ItemKind::Programme => Some(NodeKind::Programme),
            ItemKind::Project => Some(NodeKind::Project),
            ItemKind::Package => Some(NodeKind::Package),
            _ => None,
        }
    }
    pub fn from_node(n: NodeKind) -> ItemKind {
        match n {
            NodeKind::Portfolio => ItemKind::Portfolio,
            NodeKind::Programme => ItemKind::Programme,
            NodeKind::Project => ItemKind::Project,
            NodeKind::Package => ItemKind::Package,
        }
    }
    /// Items that carry numbers per period.
    pub fn has_values(self) -> bool {
        matches!(self, ItemKind::Measure | ItemKind::KeyResult | ItemKind::Kpi)
    }
}

/// A short, stable human key such as `M-27` or `KR-3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub kind: ItemKind,
    pub number: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an item key: keys look like O-3, KR-12, K-4, M-27, PF-1, PG-2, PJ-5, MP-9, KRA-1, P-2, U-1 or C-1")]
pub struct KeyError(pub String);

impl ItemKey {
    pub fn new(kind: ItemKind, number: u32) -> ItemKey {
        ItemKey { kind, number }
    }
    pub fn parse(s: &str) -> Result<ItemKey, KeyError> {
        let t = s.trim().to_ascii_uppercase();
        let (prefix, num) = t.split_once('-').ok_or_else(|| KeyError(self::num::echo(s)))?;
        let kind = ItemKind::from_prefix(prefix).ok_or_else(|| KeyError(self::num::echo(s)))?;
        if num.is_empty() || num.len() > 9 || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(KeyError(self::num::echo(s)));
        }
        let number: u32 = num.parse().map_err(|_| KeyError(self::num::echo(s)))?;
        if number == 0 {
            return Err(KeyError(self::num::echo(s)));
        }
        Ok(ItemKey { kind, number })
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.kind.prefix(), self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print() {
        for s in ["O-3", "KR-12", "K-4", "M-27", "PF-1", "PG-2", "PJ-5", "MP-9", "KRA-1", "P-2"] {
            assert_eq!(ItemKey::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(ItemKey::parse("m-27").unwrap().to_string(), "M-27");
        for bad in ["M27", "X-1", "M-", "M-0", "M-1a", "M--1"] {
            assert!(ItemKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stages_step_one_at_a_time() {
        assert_eq!(Stage::Defined.next(), Some(Stage::Identified));
        assert_eq!(Stage::Closed.next(), None);
        assert_eq!(Stage::Defined.prev(), None);
        assert_eq!(Stage::parse("Implemented"), Some(Stage::Implemented));
    }

    #[test]
    fn value_field_names_are_the_vocabulary() {
        let names: Vec<&str> = ValueField::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ValueField::NAMES);
        assert!(ValueField::Actual.moves_numbers() && !ValueField::Comment.moves_numbers());
    }

    #[test]
    fn vocabulary_accepts_spaces_and_underscores() {
        assert_eq!(KrKind::parse("increase to"), Some(KrKind::IncreaseTo));
        assert_eq!(ValueType::parse("one_time_cost"), Some(ValueType::OneTimeCost));
        assert!(ValueType::OneTimeCost.net(Num::from_int(5)).is_negative());
    }
}
