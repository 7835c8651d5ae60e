//! OKR grading: how far a key result has come from its baseline to its target.

use super::{KrKind, Num};

/// Where a grade sits on the OKR scale. 0.6–0.7 of an ambitious target is the healthy stretch
/// zone; a key result that always reaches 1.0 probably had a target set too low.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Zone {
    Behind,
    Progressing,
    Stretch,
    Achieved,
}

impl Zone {
    pub fn of(grade: Num) -> Zone {
        let d = grade.inner();
        if d >= Num::ONE.inner() {
            Zone::Achieved
        } else if d >= rust_decimal::Decimal::new(6, 1) {
            Zone::Stretch
        } else if d >= rust_decimal::Decimal::new(3, 1) {
            Zone::Progressing
        } else {
            Zone::Behind
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Zone::Behind => "behind",
            Zone::Progressing => "progressing",
            Zone::Stretch => "stretch zone",
            Zone::Achieved => "achieved",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    /// The unclamped share of the way (may be below 0 or above 1).
    pub raw: Num,
    /// The grade, clamped to 0.0–1.0.
    pub grade: Num,
    pub zone: Zone,
    /// For a stay-above/below key result: in how many of its reported periods the line held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

/// "held N of M periods", shown beside a stay-above/below key result's grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    pub held: u32,
    pub of: u32,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.of == 1 { "" } else { "s" };
        write!(f, "held {} of {} period{s}", self.held, self.of)
    }
}

impl Score {
    fn from_raw(raw: Num) -> Score {
        let grade = raw.clamp01();
        Score { raw, grade, zone: Zone::of(grade), held: None }
    }
}

/// What a key result's score needs.
pub struct KrNumbers<'a> {
    pub kind: KrKind,
    pub baseline: Option<Num>,
    pub target: Option<Num>,
    /// Actuals in period order, oldest first.
    pub actuals: &'a [Num],
    pub milestone_done: bool,
}

/// Score a key result. `None` when there is nothing to score yet (no actual) or its definition is
/// incomplete (a numeric key result without its baseline or target is never graded).
pub fn score_key_result(kr: &KrNumbers) -> Option<Score> {
    if !super::key_result::definition_problems(kr.kind, kr.baseline, kr.target).is_empty() && kr.kind != KrKind::Milestone {
        return None;
    }
    match kr.kind {
        KrKind::Milestone => Some(Score::from_raw(if kr.milestone_done { Num::ONE } else { Num::ZERO })),
        KrKind::IncreaseTo | KrKind::DecreaseTo => {
            let latest = *kr.actuals.last()?;
            let target = kr.target?;
            let baseline = kr.baseline?;
            // The same formula serves both directions: (actual - baseline) / (target - baseline).
            // For a decrease from 200 to 0 with actual 100 this gives -100 / -200 = 0.5.
            let span = target.checked_sub(baseline).ok()?;
            let moved = latest.checked_sub(baseline).ok()?;
            let raw = match moved.ratio(span) {
                Some(r) => r,
                // Baseline equals target: met if the actual is on the target or beyond it.
                None => {
                    let beyond = match kr.kind {
                        KrKind::IncreaseTo => latest >= target,
                        _ => latest <= target,
                    };
                    if beyond {
                        Num::ONE
                    } else {
                        Num::ZERO
                    }
                }
            };
            Some(Score::from_raw(raw))
        }
        KrKind::StayAbove | KrKind::StayBelow => {
            let target = kr.target?;
            if kr.actuals.is_empty() {
                return None;
            }
            // The grade is the latest period's: a line broken this week is not made good by the
            // weeks before it. How often it held is kept beside it.
            let holds = |a: &Num| super::key_result::holds_line(kr.kind, *a, target);
            let latest = kr.actuals.last()?;
            let held = Held { held: kr.actuals.iter().filter(|a| holds(a)).count() as u32, of: kr.actuals.len() as u32 };
            let mut score = Score::from_raw(if holds(latest) { Num::ONE } else { Num::ZERO });
            score.held = Some(held);
            Some(score)
        }
    }
}

/// Weighted mean of key-result grades; key results without a score count as 0 so that an
/// objective cannot look better by leaving numbers out. Zero total weight gives `None`.
pub fn objective_progress(grades: &[(Option<Num>, Num)]) -> Option<Num> {
    let mut weighted = Num::ZERO;
    let mut total = Num::ZERO;
    for (grade, weight) in grades {
        weighted = weighted.checked_add(grade.unwrap_or(Num::ZERO).checked_mul(*weight).ok()?).ok()?;
        total = total.checked_add(*weight).ok()?;
    }
    weighted.ratio(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Num {
        Num::parse(s).unwrap()
    }

    fn score(kind: KrKind, baseline: &str, target: &str, actuals: &[&str]) -> Option<Score> {
        let a: Vec<Num> = actuals.iter().map(|s| n(s)).collect();
        score_key_result(&KrNumbers { kind, baseline: Some(n(baseline)), target: Some(n(target)), actuals: &a, milestone_done: false })
    }

    #[test]
    fn table_of_scores() {
        use KrKind::*;
        let cases: &[(KrKind, &str, &str, &[&str], &str, &str)] = &[
            (IncreaseTo, "0", "100", &["70"], "0.7", "0.7"),
            (IncreaseTo, "80", "90", &["85"], "0.5", "0.5"),
            (IncreaseTo, "0", "100", &["120"], "1.2", "1"),
            (IncreaseTo, "50", "100", &["40"], "-0.2", "0"),
            (DecreaseTo, "200", "0", &["100"], "0.5", "0.5"),
            (DecreaseTo, "40", "20", &["35"], "0.25", "0.25"),
            (DecreaseTo, "40", "20", &["45"], "-0.25", "0"),
            // Stay kinds: the latest period decides (1 held, 0 broken).
            (StayAbove, "0", "90", &["91", "89", "95", "90"], "1", "1"),
            (StayAbove, "100", "99.5", &["99.9", "99.8", "90"], "0", "0"),
            (StayBelow, "0", "4", &["3", "5"], "0", "0"),
        ];
        for (kind, b, t, a, raw, grade) in cases {
            let s = score(*kind, b, t, a).unwrap();
            assert_eq!(s.raw.inner().normalize().to_string(), *raw, "{kind} {b}->{t} {a:?}");
            assert_eq!(s.grade.inner().normalize().to_string(), *grade, "{kind} {b}->{t} {a:?}");
        }
    }

    #[test]
    fn stay_kinds_say_how_often_the_line_held() {
        let s = score(KrKind::StayAbove, "100", "99.5", &["99.9", "99.8", "90"]).unwrap();
        assert_eq!(s.held.unwrap().to_string(), "held 2 of 3 periods");
        assert_eq!(s.grade, Num::ZERO);
    }

    #[test]
    fn an_incomplete_definition_is_never_graded() {
        let a = [n("4")];
        let no_baseline = KrNumbers { kind: KrKind::DecreaseTo, baseline: None, target: Some(n("3")), actuals: &a, milestone_done: false };
        assert!(score_key_result(&no_baseline).is_none());
        let wrong_side =
            KrNumbers { kind: KrKind::IncreaseTo, baseline: Some(n("10")), target: Some(n("5")), actuals: &a, milestone_done: false };
        assert!(score_key_result(&wrong_side).is_none());
    }

    #[test]
    fn the_published_three_year_example() {
        // Users: 20 M target / under 10 M reached, 50 M / 37 M, 100 M / 111 M (baseline 0).
        let g: Vec<String> = [("20", "9.5"), ("50", "37"), ("100", "111")]
            .iter()
            .map(|(t, a)| score(KrKind::IncreaseTo, "0", t, &[a]).unwrap())
            .map(|s| format!("{} {}", s.grade.round_dp(2), s.zone.label()))
            .collect();
        assert_eq!(g, ["0.48 progressing", "0.74 stretch zone", "1 achieved"]);
    }

    #[test]
    fn milestone_is_zero_or_one_and_missing_numbers_do_not_score() {
        let m = |done| {
            score_key_result(&KrNumbers { kind: KrKind::Milestone, baseline: None, target: None, actuals: &[], milestone_done: done })
        };
        assert_eq!(m(true).unwrap().grade, Num::ONE);
        assert_eq!(m(false).unwrap().grade, Num::ZERO);
        assert!(score(KrKind::IncreaseTo, "0", "10", &[]).is_none());
    }

    #[test]
    fn objective_progress_is_the_weighted_mean() {
        let p = objective_progress(&[(Some(n("1")), n("1")), (Some(n("0.4")), n("3")), (None, n("1"))]).unwrap();
        assert_eq!(p.inner().normalize().to_string(), "0.44");
        assert!(objective_progress(&[]).is_none());
    }

    proptest::proptest! {
        /// Moving the actual toward the target never lowers the score, in either direction.
        #[test]
        fn moving_toward_the_target_never_lowers_the_score(base in -1000i64..1000, span in 1i64..1000, a in 0i64..2000, step in 1i64..100, decrease in proptest::bool::ANY) {
            let (kind, target) = if decrease { (KrKind::DecreaseTo, base - span) } else { (KrKind::IncreaseTo, base + span) };
            let actual = base + if decrease { -a } else { a } ;
            let closer = actual + if decrease { -step } else { step };
            let s1 = score(kind, &base.to_string(), &target.to_string(), &[&actual.to_string()]).unwrap();
            let s2 = score(kind, &base.to_string(), &target.to_string(), &[&closer.to_string()]).unwrap();
            proptest::prop_assert!(s2.raw > s1.raw);
            proptest::prop_assert!(s2.grade >= s1.grade);
            proptest::prop_assert!(s1.grade >= Num::ZERO && s1.grade <= Num::ONE);
        }
    }
}
