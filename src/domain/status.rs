//! The two statuses keel keeps apart — implementation (is the work on schedule?) and potential
//! (is the value still credible?) — and the red/amber/green of key results and objectives.

use super::escalation::Thresholds;
use super::{Direction, Num};
use chrono::NaiveDate;
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImplLevel {
    OnTrack,
    Late,
    Critical,
}

impl ImplLevel {
    /// A distinct shape per level, so status survives without colour (screens and reports).
    pub fn symbol(self) -> &'static str {
        match self {
            ImplLevel::OnTrack => "→",
            ImplLevel::Late => "⏱",
            ImplLevel::Critical => "⚠",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ImplLevel::OnTrack => "on track",
            ImplLevel::Late => "late",
            ImplLevel::Critical => "critical",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Implementation {
    pub level: ImplLevel,
    /// e.g. "'Pilot live' 9 days overdue" or "blocked by M-4".
    pub detail: String,
    pub blocked_by: Vec<String>,
}

pub struct MilestoneFacts<'a> {
    pub title: &'a str,
    pub due: NaiveDate,
    pub done: Option<NaiveDate>,
}

/// Implementation status from milestones and from the measures this one depends on.
/// `dependencies` gives each prerequisite's key and its own level.
pub fn implementation(
    milestones: &[MilestoneFacts],
    dependencies: &[(String, ImplLevel)],
    today: NaiveDate,
    t: &Thresholds,
) -> Implementation {
    let worst = milestones
        .iter()
        .filter(|m| m.done.is_none() && m.due < today)
        .map(|m| ((today - m.due).num_days(), m.title))
        .max_by_key(|(days, _)| *days);
    let blocked_by: Vec<String> = dependencies.iter().filter(|(_, l)| *l != ImplLevel::OnTrack).map(|(k, _)| k.clone()).collect();
    let (mut level, mut detail) = match worst {
        Some((days, title)) if days > t.critical_after_days => (ImplLevel::Critical, format!("'{title}' {days} days overdue")),
        Some((days, title)) => (ImplLevel::Late, format!("'{title}' {days} days overdue")),
        None => (ImplLevel::OnTrack, String::new()),
    };
    if !blocked_by.is_empty() {
        level = ImplLevel::Critical;
        let b = format!("blocked by {}", blocked_by.join(", "));
        detail = if detail.is_empty() { b } else { format!("{detail}; {b}") };
    }
    Implementation { level, detail, blocked_by }
}

/// Red/amber/green, plus the states that must never pass for green.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rag {
    Green,
    Amber,
    Red,
    /// No update within the cadence: the data cannot be trusted to be green.
    Stale,
    /// Nothing to judge yet (no plan or no numbers).
    NoData,
}

impl Rag {
    /// A distinct shape per status, so it survives without colour (screens and reports).
    pub fn symbol(self) -> &'static str {
        match self {
            Rag::Green => "●",
            Rag::Amber => "▲",
            Rag::Red => "■",
            Rag::Stale => "?",
            Rag::NoData => "·",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
            Rag::Stale => "stale",
            Rag::NoData => "no data",
        }
    }
    pub fn parse(s: &str) -> Option<Rag> {
        match s.trim().to_ascii_lowercase().as_str() {
            "green" => Some(Rag::Green),
            "amber" => Some(Rag::Amber),
            "red" => Some(Rag::Red),
            _ => None,
        }
    }
    /// Severity for "worst of": red > amber > stale > no data > green.
    pub fn severity(self) -> u8 {
        match self {
            Rag::Green => 0,
            Rag::NoData => 1,
            Rag::Stale => 2,
            Rag::Amber => 3,
            Rag::Red => 4,
        }
    }
    pub fn worst(self, other: Rag) -> Rag {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
    /// Stale data never shows green.
    pub fn unless_stale(self, stale: bool) -> Rag {
        if stale && matches!(self, Rag::Green | Rag::NoData) {
            Rag::Stale
        } else {
            self
        }
    }
}

/// Potential status: is the forecast value still credible against the plan?
pub fn potential(planned: Num, forecast: Num, direction: Direction, t: &Thresholds) -> Rag {
    if planned.is_zero() {
        return Rag::NoData;
    }
    let gap = forecast.checked_sub(planned).unwrap_or(Num::ZERO);
    let signed = if direction == Direction::HigherIsBetter { gap } else { gap.negated() };
    let shortfall = signed.ratio(planned.abs()).unwrap_or(Num::ZERO).negated();
    if shortfall > t.red {
        Rag::Red
    } else if shortfall > t.amber {
        Rag::Amber
    } else {
        Rag::Green
    }
}

/// A measure's potential status from its net money (benefits positive, costs negative): plan
/// and forecast are compared in the measure's own direction, and stale data never shows green.
pub fn measure_potential(money: super::rollup::Money, value_type: super::ValueType, t: &Thresholds, stale: bool) -> Rag {
    let (planned, forecast) =
        if value_type.is_cost() { (money.planned.negated(), money.forecast.negated()) } else { (money.planned, money.forecast) };
    potential(planned, forecast, value_type.direction(), t).unless_stale(stale)
}

/// A node of the execution hierarchy (portfolio, programme, project, package): the potential
/// status of its value funnel — the net forecast of the measures under it against their net plan
/// (benefits positive, costs negative), by the same thresholds as a measure. Nothing planned: no
/// data.
pub fn node_potential(total: super::rollup::Money, t: &Thresholds) -> Rag {
    potential(total.planned, total.forecast, Direction::HigherIsBetter, t)
}

/// The colour an escalated item shows: at least amber for an owner review, red above it.
pub fn with_escalation(rag: Rag, tier: Option<i64>) -> Rag {
    match tier {
        Some(t) if t >= 2 => rag.worst(Rag::Red),
        Some(_) => rag.worst(Rag::Amber),
        None => rag,
    }
}

/// A key result's computed status. A numeric key result heading for a stretch target is on
/// course when its grade heads for 0.7 by the end of the cycle; a stay-above/below key result is
/// green only while its latest period holds the line (`grade` 1), never while it is off it.
pub fn key_result_rag(kind: super::KrKind, grade: Option<Num>, elapsed_share: Num, at_risk: bool, escalation_tier: Option<i64>) -> Rag {
    let Some(grade) = grade else {
        let rag = if at_risk { Rag::Amber } else { Rag::NoData };
        return with_escalation(rag, escalation_tier);
    };
    let mut rag = if matches!(kind, super::KrKind::StayAbove | super::KrKind::StayBelow) {
        if grade >= Num::ONE {
            Rag::Green
        } else {
            Rag::Amber
        }
    } else {
        let expected = Num::from(Decimal::new(7, 1)).checked_mul(elapsed_share.clamp01()).unwrap_or(Num::ZERO);
        let gap = expected.checked_sub(grade).unwrap_or(Num::ZERO);
        if gap <= Num::from(Decimal::new(5, 2)) {
            Rag::Green
        } else if gap <= Num::from(Decimal::new(20, 2)) {
            Rag::Amber
        } else {
            Rag::Red
        }
    };
    if at_risk {
        rag = rag.worst(Rag::Amber);
    }
    with_escalation(rag, escalation_tier)
}

/// Why a key result is at risk: each measure serving it that is late or critical, or whose value
/// is red ("M-4 late", "M-9 value red"). Cancelled measures serve nothing.
pub fn key_result_at_risk<'a>(serving: impl IntoIterator<Item = (&'a str, ImplLevel, Rag, bool)>) -> Vec<String> {
    serving
        .into_iter()
        .filter_map(|(key, implementation, potential, cancelled)| at_risk_reason(key, implementation, potential, cancelled))
        .collect()
}

/// Why one serving measure puts its key result at risk, if it does. A key result's reasons are
/// its measures' in key order, so they can be gathered measure by measure (`keel check` does).
pub fn at_risk_reason(key: &str, implementation: ImplLevel, potential: Rag, cancelled: bool) -> Option<String> {
    if cancelled {
        None
    } else if implementation != ImplLevel::OnTrack {
        Some(format!("{key} {}", implementation.label()))
    } else if potential == Rag::Red {
        Some(format!("{key} value red"))
    } else {
        None
    }
}

/// An objective's computed colour: the worst *computed* status of its key results (green when
/// some are green and the rest have no data yet), made at least amber by a child objective whose
/// computed status is amber or red. Manual statuses never enter a roll-up: a hand-set green on a
/// child is shown and flagged there, and cannot launder its parent.
pub fn objective_colour(key_results: &[Rag], child_objectives: &[Rag]) -> Rag {
    let mut colour = key_results.iter().fold(Rag::NoData, |acc, r| acc.worst(*r));
    if colour == Rag::NoData && key_results.contains(&Rag::Green) {
        colour = Rag::Green;
    }
    if child_objectives.iter().any(|c| matches!(c, Rag::Red | Rag::Amber | Rag::Stale)) {
        colour = colour.worst(Rag::Amber);
    }
    colour
}

/// DOMAIN "Cadence and freshness": an item whose last update is older than its cadence allows is
/// stale. `latest_actual` is the newest period with an actual, `first_start` the day the item's
/// first period with any number begins. Only periods that have begun count: an actual typed for
/// a future period never makes an item fresh, and an item whose first period has not begun is
/// not yet due. An item with numbers but no actual yet is stale once its first period has begun.
pub fn is_stale(latest_actual: Option<super::Period>, first_start: Option<NaiveDate>, cadence: super::Cadence, today: NaiveDate) -> bool {
    match latest_actual.filter(|p| p.start() <= today) {
        Some(p) => (today - p.end()).num_days() > cadence.stale_after_days(),
        None => first_start.is_some_and(|f| f <= today),
    }
}

/// DOMAIN "Cadence and freshness", kept: the day from which an item is stale by [`is_stale`],
/// which does not move with today, so the stale items are an index range (`stale_from <= today`).
/// `latest_actual` is the newest period with an actual (begun or not), `first_start` the day the
/// item's first period with any number begins. Exact for every `today` on or after the start of
/// `latest_actual` (see [`stale_from_exact_after`]); before it (the clock moved back) judge by
/// [`is_stale`]. `None`: never stale (no numbers at all).
pub fn stale_from(latest_actual: Option<super::Period>, first_start: Option<NaiveDate>, cadence: super::Cadence) -> Option<NaiveDate> {
    match latest_actual {
        // Stale when more than `stale_after_days` have passed since the period ended.
        Some(p) => Some(p.end() + chrono::Duration::days(cadence.stale_after_days() + 1)),
        None => first_start,
    }
}

/// The first day on which [`stale_from`] is exact: the newest actual's period has begun, so
/// every actual counts (`None`: no actual, always exact).
pub fn stale_from_exact_after(latest_actual: Option<super::Period>) -> Option<NaiveDate> {
    latest_actual.map(|p| p.start())
}

/// DOMAIN "Cadence and freshness": which items owe updates, and so can be stale. A measure being
/// worked on (with numbers, not closed, not stopped or on hold); a key result with numbers that is
/// not a milestone; a KPI with numbers. Retired items owe nothing (the store leaves them out).
pub fn owes_updates(
    kind: super::ItemKind,
    has_values: bool,
    stage: Option<super::Stage>,
    side_state: Option<super::SideState>,
    kr_kind: Option<super::KrKind>,
) -> bool {
    use super::ItemKind;
    has_values
        && match kind {
            ItemKind::Measure => stage != Some(super::Stage::Closed) && side_state.is_none(),
            ItemKind::KeyResult => kr_kind != Some(super::KrKind::Milestone),
            ItemKind::Kpi => true,
            _ => false,
        }
}

/// What is shown for an objective or key result that may carry a manual status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shown {
    pub rag: Rag,
    pub computed: Rag,
    pub manual: bool,
    /// A manual green over red, amber or late children with no written reason: flagged until
    /// someone writes the explanation.
    pub green_without_explanation: bool,
}

pub fn shown(computed: Rag, manual: Option<Rag>, explanation: Option<&str>) -> Shown {
    match manual {
        None => Shown { rag: computed, computed, manual: false, green_without_explanation: false },
        Some(m) => {
            let explained = explanation.is_some_and(|e| !e.trim().is_empty());
            let over_bad = m == Rag::Green && matches!(computed, Rag::Amber | Rag::Red | Rag::Stale);
            Shown { rag: m, computed, manual: true, green_without_explanation: over_bad && !explained }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_node_is_judged_by_its_net_forecast_against_its_net_plan() {
        use crate::domain::rollup::Money;
        let t = Thresholds::default();
        let n = |s: &str| Num::parse(s).unwrap();
        let money = |planned: &str, forecast: &str| Money { planned: n(planned), forecast: n(forecast), actual: Num::ZERO };
        // Benefits: short of plan by 1% is green, by more than the amber share amber, the red share red.
        assert_eq!(node_potential(money("1000000", "990000"), &t), Rag::Green);
        assert_eq!(node_potential(money("1000000", "1000000"), &t), Rag::Green);
        let amber = Num::ONE.checked_sub(t.amber).unwrap().checked_sub(n("0.01")).unwrap().checked_mul(n("1000000")).unwrap();
        assert_eq!(node_potential(Money { planned: n("1000000"), forecast: amber, actual: Num::ZERO }, &t), Rag::Amber);
        let red = Num::ONE.checked_sub(t.red).unwrap().checked_sub(n("0.01")).unwrap().checked_mul(n("1000000")).unwrap();
        assert_eq!(node_potential(Money { planned: n("1000000"), forecast: red, actual: Num::ZERO }, &t), Rag::Red);
        // A cost programme (net negative): spending more than planned is the shortfall.
        assert_eq!(node_potential(money("-100000", "-150000"), &t), Rag::Red);
        assert_eq!(node_potential(money("-100000", "-90000"), &t), Rag::Green);
        // Nothing planned: nothing to judge.
        assert_eq!(node_potential(money("0", "5000"), &t), Rag::NoData);
    }

    #[test]
    fn implementation_table() {
        let t = Thresholds::default();
        let today = d("2026-11-25");
        let ms = |due: &str, done: Option<&str>| MilestoneFacts { title: "Pilot", due: d(due), done: done.map(d) };
        let cases: Vec<(Vec<MilestoneFacts>, Vec<(String, ImplLevel)>, ImplLevel)> = vec![
            (vec![ms("2026-12-01", None)], vec![], ImplLevel::OnTrack),
            (vec![ms("2026-11-01", Some("2026-11-02"))], vec![], ImplLevel::OnTrack),
            (vec![ms("2026-11-20", None)], vec![], ImplLevel::Late),
            (vec![ms("2026-11-01", None)], vec![], ImplLevel::Critical),
            (vec![], vec![("M-4".into(), ImplLevel::Late)], ImplLevel::Critical),
            (vec![], vec![("M-4".into(), ImplLevel::OnTrack)], ImplLevel::OnTrack),
        ];
        for (m, deps, want) in cases {
            assert_eq!(implementation(&m, &deps, today, &t).level, want);
        }
        let blocked = implementation(&[], &[("M-4".into(), ImplLevel::Late)], today, &t);
        assert_eq!(blocked.detail, "blocked by M-4");
    }

    #[test]
    fn potential_table() {
        let t = Thresholds::default();
        let n = |s: &str| Num::parse(s).unwrap();
        use Direction::*;
        assert_eq!(potential(n("1000"), n("1000"), HigherIsBetter, &t), Rag::Green);
        assert_eq!(potential(n("1000"), n("940"), HigherIsBetter, &t), Rag::Amber);
        assert_eq!(potential(n("1000"), n("800"), HigherIsBetter, &t), Rag::Red);
        assert_eq!(potential(n("1000"), n("1200"), LowerIsBetter, &t), Rag::Red);
        assert_eq!(potential(n("0"), n("5"), HigherIsBetter, &t), Rag::NoData);
        assert_eq!(Rag::Green.unless_stale(true), Rag::Stale);
        assert_eq!(Rag::Red.unless_stale(true), Rag::Red);
    }

    #[test]
    fn escalation_colours_and_cost_direction() {
        assert_eq!(with_escalation(Rag::Green, None), Rag::Green);
        assert_eq!(with_escalation(Rag::Green, Some(1)), Rag::Amber);
        assert_eq!(with_escalation(Rag::Amber, Some(3)), Rag::Red);
        let n = |s: &str| Num::parse(s).unwrap();
        let t = Thresholds::default();
        // Costs are negative net money; a cost forecast 20% over plan is red, under plan green.
        let over = crate::domain::rollup::Money { planned: n("-1000"), forecast: n("-1200"), actual: n("0") };
        let under = crate::domain::rollup::Money { planned: n("-1000"), forecast: n("-900"), actual: n("0") };
        assert_eq!(measure_potential(over, crate::domain::ValueType::OneTimeCost, &t, false), Rag::Red);
        assert_eq!(measure_potential(under, crate::domain::ValueType::OneTimeCost, &t, false), Rag::Green);
        assert_eq!(measure_potential(under, crate::domain::ValueType::OneTimeCost, &t, true), Rag::Stale);
    }

    #[test]
    fn manual_green_over_red_needs_a_reason() {
        assert!(shown(Rag::Red, Some(Rag::Green), None).green_without_explanation);
        assert!(shown(Rag::Red, Some(Rag::Green), Some("  ")).green_without_explanation);
        assert!(!shown(Rag::Red, Some(Rag::Green), Some("Vendor fix lands next week")).green_without_explanation);
        assert!(!shown(Rag::Green, Some(Rag::Green), None).green_without_explanation);
    }

    #[test]
    fn key_result_rag_follows_expected_progress() {
        let n = |s: &str| Num::parse(s).unwrap();
        use crate::domain::KrKind::*;
        assert_eq!(key_result_rag(IncreaseTo, Some(n("0.35")), n("0.5"), false, None), Rag::Green);
        assert_eq!(key_result_rag(IncreaseTo, Some(n("0.2")), n("0.5"), false, None), Rag::Amber);
        assert_eq!(key_result_rag(DecreaseTo, Some(n("0.0")), n("0.8"), false, None), Rag::Red);
        assert_eq!(key_result_rag(IncreaseTo, Some(n("0.9")), n("0.5"), true, None), Rag::Amber);
        assert_eq!(key_result_rag(IncreaseTo, Some(n("0.9")), n("0.5"), false, Some(2)), Rag::Red);
        // A stay-above key result off its line is never green, however early in the cycle.
        assert_eq!(key_result_rag(StayAbove, Some(Num::ZERO), Num::ZERO, false, None), Rag::Amber);
        assert_eq!(key_result_rag(StayBelow, Some(Num::ONE), n("0.9"), false, None), Rag::Green);
        assert_eq!(key_result_rag(StayAbove, Some(Num::ZERO), n("0.1"), false, Some(2)), Rag::Red);
    }

    #[test]
    fn objectives_roll_up_computed_statuses_only() {
        assert_eq!(objective_colour(&[Rag::Green, Rag::NoData], &[]), Rag::Green);
        assert_eq!(objective_colour(&[Rag::Green], &[Rag::Red]), Rag::Amber);
        assert_eq!(objective_colour(&[], &[Rag::Green]), Rag::NoData);
        assert_eq!(objective_colour(&[Rag::Red], &[Rag::Green]), Rag::Red);
    }

    #[test]
    fn stale_follows_the_cadence_and_ignores_periods_not_begun() {
        use crate::domain::{Cadence, Period};
        let p = |s: &str| Some(Period::parse(s).unwrap());
        let f = |s: &str| Some(Period::parse(s).unwrap().start());
        let today = d("2026-11-26"); // Thursday of 2026-W48
        assert!(!is_stale(p("2026-W47"), f("2026-W40"), Cadence::Weekly, today));
        assert!(is_stale(p("2026-W46"), f("2026-W40"), Cadence::Weekly, today));
        // A future actual is no update: the item is judged as if it had none.
        assert!(is_stale(p("2026-W52"), f("2026-W40"), Cadence::Weekly, today));
        // First period not begun: not due yet.
        assert!(!is_stale(None, f("2026-W50"), Cadence::Weekly, today));
        assert!(is_stale(None, f("2026-W45"), Cadence::Weekly, today));
        assert!(!is_stale(None, None, Cadence::Weekly, today));
    }

    #[test]
    fn stale_from_is_the_first_stale_day_once_every_actual_has_begun() {
        use crate::domain::{Cadence, Period};
        let p = |s: &str| Some(Period::parse(s).unwrap());
        let f = |s: &str| Some(Period::parse(s).unwrap().start());
        let cases = [
            (p("2026-W47"), f("2026-W40"), Cadence::Weekly),
            (p("2026-W40"), f("2026-W40"), Cadence::Biweekly),
            (p("2026-10"), f("2026-01"), Cadence::Monthly),
            (p("2026-Q3"), f("2026-Q1"), Cadence::Quarterly),
            (None, f("2026-W45"), Cadence::Weekly),
            (None, None, Cadence::Monthly),
        ];
        for (latest, first, cadence) in cases {
            let from = stale_from(latest, first, cadence);
            let exact = stale_from_exact_after(latest).unwrap_or(d("2025-01-01"));
            let mut day = exact;
            while day < d("2027-12-31") {
                let kept = from.is_some_and(|f| f <= day);
                assert_eq!(kept, is_stale(latest, first, cadence, day), "{latest:?} {first:?} {cadence:?} on {day}");
                day += chrono::Duration::days(1);
            }
        }
        assert_eq!(stale_from(p("2026-W47"), None, Cadence::Weekly), Some(d("2026-11-30")));
    }

    #[test]
    fn only_work_under_way_owes_updates() {
        use crate::domain::{ItemKind, KrKind, SideState, Stage};
        assert!(owes_updates(ItemKind::Measure, true, Some(Stage::Defined), None, None));
        assert!(!owes_updates(ItemKind::Measure, false, Some(Stage::Defined), None, None));
        assert!(!owes_updates(ItemKind::Measure, true, Some(Stage::Closed), None, None));
        assert!(!owes_updates(ItemKind::Measure, true, Some(Stage::Defined), Some(SideState::OnHold), None));
        assert!(owes_updates(ItemKind::KeyResult, true, None, None, Some(KrKind::IncreaseTo)));
        assert!(!owes_updates(ItemKind::KeyResult, true, None, None, Some(KrKind::Milestone)));
        assert!(owes_updates(ItemKind::Kpi, true, None, None, None));
        assert!(!owes_updates(ItemKind::Objective, true, None, None, None));
    }
}
