//! What a key result is, as DOMAIN.md defines it: which way is good for its number, what makes
//! its definition consistent, and the line its numbers are judged against in each period.

use super::{Direction, KrKind, Num, Period};
use chrono::NaiveDate;

/// Which way is good for a numeric key result; `None` for a milestone (done or not).
pub fn direction(kind: KrKind) -> Option<Direction> {
    match kind {
        KrKind::IncreaseTo | KrKind::StayAbove => Some(Direction::HigherIsBetter),
        KrKind::DecreaseTo | KrKind::StayBelow => Some(Direction::LowerIsBetter),
        KrKind::Milestone => None,
    }
}

/// Everything wrong with a key result's definition, in words ("" when it is consistent):
/// a numeric key result needs a baseline and a target, and the target lies on the side its kind
/// names — above the baseline for *increase to*, below it for *decrease to*.
pub fn definition_problems(kind: KrKind, baseline: Option<Num>, target: Option<Num>) -> Vec<String> {
    let mut problems = Vec::new();
    if kind == KrKind::Milestone {
        return problems;
    }
    if baseline.is_none() {
        problems.push(format!("a {kind} key result needs a baseline (where the number starts): set baseline=NUMBER"));
    }
    if target.is_none() {
        problems.push(format!("a {kind} key result needs a target: set target=NUMBER"));
    }
    if let (Some(b), Some(t)) = (baseline, target) {
        match kind {
            KrKind::IncreaseTo if t <= b => problems.push(format!(
                "an increase-to target must lie above its baseline ({t} is not above {b}): use decrease-to, or fix the numbers"
            )),
            KrKind::DecreaseTo if t >= b => problems.push(format!(
                "a decrease-to target must lie below its baseline ({t} is not below {b}): use increase-to, or fix the numbers"
            )),
            _ => {}
        }
    }
    problems
}

/// Weights of one objective's key results: each ≥ 0 and at least one > 0, so progress is a
/// weighted mean that stays within 0–100%.
pub fn weight_problems(weights: &[Num]) -> Option<String> {
    if let Some(w) = weights.iter().find(|w| w.is_negative()) {
        return Some(format!("a key result's weight cannot be negative ({w}): use 0 to leave it out of the objective's progress"));
    }
    if !weights.is_empty() && weights.iter().all(|w| w.is_zero()) {
        return Some("at least one key result of an objective must weigh more than 0".into());
    }
    None
}

/// The share of a cycle gone on `day` (0 on its first day, 1 on its last).
pub fn elapsed_share(cycle_start: NaiveDate, cycle_end: NaiveDate, day: NaiveDate) -> Num {
    let total = (cycle_end - cycle_start).num_days().max(1);
    let gone = (day - cycle_start).num_days().clamp(0, total);
    Num::from_int(gone).ratio(Num::from_int(total)).unwrap_or(Num::ONE)
}

/// The line a key result's actual is judged against in `period` when no plan was typed for it:
/// for *stay above/below* the target, every period; for *increase/decrease to* the straight plan
/// line from baseline to target over the cycle, at the end of the period. `None` for milestone
/// key results and for an incomplete definition (which is never graded).
pub fn line_for(kind: KrKind, baseline: Option<Num>, target: Option<Num>, cycle: (NaiveDate, NaiveDate), period: Period) -> Option<Num> {
    match kind {
        KrKind::Milestone => None,
        KrKind::StayAbove | KrKind::StayBelow => target,
        KrKind::IncreaseTo | KrKind::DecreaseTo => {
            let (b, t) = (baseline?, target?);
            let share = elapsed_share(cycle.0, cycle.1, period.end());
            let moved = t.checked_sub(b).ok()?.checked_mul(share).ok()?;
            // Eight decimals, as values are stored: the line is compared with typed numbers.
            Some(b.checked_add(moved).ok()?.round_dp(8))
        }
    }
}

/// Does an actual hold a stay-above/below line?
pub fn holds_line(kind: KrKind, actual: Num, line: Num) -> bool {
    match kind {
        KrKind::StayBelow | KrKind::DecreaseTo => actual <= line,
        _ => actual >= line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Num {
        Num::parse(s).unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn numeric_key_results_need_baseline_and_a_target_on_their_side() {
        use KrKind::*;
        assert!(definition_problems(DecreaseTo, None, Some(n("3")))[0].contains("needs a baseline"));
        assert!(definition_problems(StayAbove, None, Some(n("99.5")))[0].contains("needs a baseline"));
        assert!(definition_problems(IncreaseTo, Some(n("10")), None)[0].contains("needs a target"));
        assert!(definition_problems(IncreaseTo, Some(n("10")), Some(n("5")))[0].contains("above its baseline"));
        assert!(definition_problems(IncreaseTo, Some(n("10")), Some(n("10")))[0].contains("above its baseline"));
        assert!(definition_problems(DecreaseTo, Some(n("10")), Some(n("12")))[0].contains("below its baseline"));
        assert!(definition_problems(DecreaseTo, Some(n("10")), Some(n("3"))).is_empty());
        // A floor may lie on either side of where the number starts.
        assert!(definition_problems(StayAbove, Some(n("90")), Some(n("99.5"))).is_empty());
        assert!(definition_problems(StayBelow, Some(n("1")), Some(n("5"))).is_empty());
        assert!(definition_problems(Milestone, None, None).is_empty());
    }

    #[test]
    fn weights_are_not_negative_and_not_all_zero() {
        assert!(weight_problems(&[n("1"), n("-3")]).unwrap().contains("negative"));
        assert!(weight_problems(&[n("0"), n("0")]).unwrap().contains("more than 0"));
        assert_eq!(weight_problems(&[n("0"), n("2")]), None);
        assert_eq!(weight_problems(&[]), None);
    }

    #[test]
    fn plan_line_runs_from_baseline_to_target_over_the_cycle() {
        let cycle = (d("2026-10-01"), d("2026-12-31"));
        let line = |kind, b: &str, t: &str, p: &str| line_for(kind, Some(n(b)), Some(n(t)), cycle, Period::parse(p).unwrap());
        // The last month ends the cycle: the line is at the target.
        assert_eq!(line(KrKind::IncreaseTo, "100", "200", "2026-12"), Some(n("200")));
        assert_eq!(line(KrKind::DecreaseTo, "8", "3", "2026-12"), Some(n("3")));
        // 2026-W46 ends on 15 November, 45 of the cycle's 91 days after its start.
        assert_eq!(line(KrKind::IncreaseTo, "0", "91", "2026-W46"), Some(n("45")));
        assert_eq!(line(KrKind::DecreaseTo, "91", "0", "2026-W46"), Some(n("46")));
        // Stay kinds are judged against their target in every period.
        assert_eq!(line(KrKind::StayAbove, "90", "99.5", "2026-W41"), Some(n("99.5")));
        assert_eq!(line_for(KrKind::IncreaseTo, None, Some(n("5")), cycle, Period::parse("2026-W41").unwrap()), None);
    }

    #[test]
    fn elapsed_share_counts_whole_days() {
        let (s, e) = (d("2026-10-01"), d("2026-10-11"));
        assert_eq!(elapsed_share(s, e, d("2026-09-20")), Num::ZERO);
        assert_eq!(elapsed_share(s, e, d("2026-10-06")), n("0.5"));
        assert_eq!(elapsed_share(s, e, d("2026-11-05")), Num::ONE);
    }
}
