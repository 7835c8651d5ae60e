//! Variance and the three escalation tiers.
//!
//! Variance is actual against plan for one period, signed by the item's direction so that a
//! negative signed variance is always bad. The tier follows from the run of bad periods:
//! owner review (outside tolerance) → sponsor action (outside tolerance N periods running) →
//! steering committee decision (a major gap, relative or in money).

use super::{Direction, Num, Period};
use rust_decimal::{Decimal, RoundingStrategy};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    OwnerReview = 1,
    SponsorAction = 2,
    SteeringCommittee = 3,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::OwnerReview, Tier::SponsorAction, Tier::SteeringCommittee];
    pub fn number(self) -> i64 {
        self as i64
    }
    pub fn from_number(n: i64) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.number() == n)
    }
    pub fn label(self) -> &'static str {
        match self {
            Tier::OwnerReview => "owner review",
            Tier::SponsorAction => "sponsor action",
            Tier::SteeringCommittee => "steering committee",
        }
    }
    pub fn slug(self) -> &'static str {
        match self {
            Tier::OwnerReview => "owner",
            Tier::SponsorAction => "sponsor",
            Tier::SteeringCommittee => "steering",
        }
    }
    /// Accepts `1`..`3`, `owner`, `sponsor`, `steering` (and the full labels).
    pub fn parse(s: &str) -> Option<Tier> {
        let t = s.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        Tier::ALL
            .into_iter()
            .find(|tier| t == tier.number().to_string() || t == tier.slug() || t == tier.label() || t == format!("t{}", tier.number()))
    }
}

impl serde::Serialize for Tier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.slug())
    }
}

/// The organisation's thresholds (stored in settings; these are the defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Relative gap beyond which a period is "out of tolerance" (0.05 = 5%).
    pub tolerance: Num,
    /// Consecutive out-of-tolerance periods that call for sponsor action.
    pub repeated_periods: u32,
    /// Relative gap that calls for the steering committee (0.20 = 20%).
    pub major: Num,
    /// Absolute money gap that calls for the steering committee, whatever the share.
    pub major_money_gap: Num,
    /// Days each tier has to be handled, by tier 1, 2, 3.
    pub due_days: [i64; 3],
    /// Potential status: forecast short of plan by more than this is amber…
    pub amber: Num,
    /// …and by more than this red.
    pub red: Num,
    /// A milestone overdue by more than this many days makes implementation critical.
    pub critical_after_days: i64,
    /// A confidence drop of this much since the last check-in opens an owner review (0.2).
    pub confidence_drop: Num,
    /// Confidence below this…
    pub confidence_low: Num,
    /// …at this many check-ins in a row opens an owner review (2).
    pub confidence_low_checkins: u32,
    /// Missed updates in a row that open an owner review (2)…
    pub missed_owner_review: u32,
    /// …and a sponsor action (3).
    pub missed_sponsor_action: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            tolerance: Num::from(Decimal::new(5, 2)),
            repeated_periods: 3,
            major: Num::from(Decimal::new(20, 2)),
            major_money_gap: Num::from_int(100_000),
            due_days: [7, 5, 14],
            amber: Num::from(Decimal::new(5, 2)),
            red: Num::from(Decimal::new(15, 2)),
            critical_after_days: 14,
            confidence_drop: Num::from(Decimal::new(2, 1)),
            confidence_low: Num::from(Decimal::new(5, 1)),
            confidence_low_checkins: 2,
            missed_owner_review: 2,
            missed_sponsor_action: 3,
        }
    }
}

/// `keel check`'s exit code from the open escalations counted by tier (owner review, sponsor
/// action, steering committee): 2 when a steering committee item is open, 1 when only owner or
/// sponsor items are, 0 when none is.
pub fn check_exit_code(open_by_tier: [usize; 3]) -> i32 {
    if open_by_tier[2] > 0 {
        2
    } else if open_by_tier[0] + open_by_tier[1] > 0 {
        1
    } else {
        0
    }
}

/// DOMAIN "Variance and escalation": the target of a period is its planned value where one was
/// set; otherwise the item's own line (a KPI's target; a key result's line, see
/// `key_result::line_for`).
pub fn period_target(planned: Option<Num>, line: Option<Num>) -> Option<Num> {
    planned.or(line)
}

/// One period of an item's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub period: Period,
    pub planned: Option<Num>,
    pub actual: Option<Num>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Variance {
    #[serde(serialize_with = "ser_period")]
    pub period: Period,
    pub planned: Num,
    pub actual: Num,
    /// actual − planned, signed so that negative is bad.
    pub signed_gap: Num,
    /// signed_gap / |planned|; `None` when the plan is zero.
    pub relative: Option<Num>,
    pub out_of_tolerance: bool,
}

fn ser_period<S: serde::Serializer>(p: &Period, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string())
}

pub fn variance(point: &Point, direction: Direction, tolerance: Num) -> Option<Variance> {
    let (planned, actual) = (point.planned?, point.actual?);
    let gap = actual.checked_sub(planned).ok()?;
    let signed_gap = match direction {
        Direction::HigherIsBetter => gap,
        Direction::LowerIsBetter => gap.negated(),
    };
    let relative = signed_gap.ratio(planned.abs());
    let out_of_tolerance = match relative {
        Some(r) => r < tolerance.negated(),
        None => signed_gap.is_negative(),
    };
    Some(Variance { period: point.period, planned, actual, signed_gap, relative, out_of_tolerance })
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Assessment {
    pub tier: Option<Tier>,
    pub latest: Variance,
    /// Out-of-tolerance periods in a row, ending with the latest.
    pub periods_out: u32,
    /// A short sentence saying why, e.g. "3 periods below plan".
    pub reason: String,
}

/// Assess an item's run of periods (oldest first). Only periods with both plan and actual count.
/// `money` is true for measure values, where the absolute money gap also counts.
pub fn assess(points: &[Point], direction: Direction, t: &Thresholds, money: bool) -> Option<Assessment> {
    let variances: Vec<Variance> = points.iter().filter_map(|p| variance(p, direction, t.tolerance)).collect();
    let latest = *variances.last()?;
    let periods_out = variances.iter().rev().take_while(|v| v.out_of_tolerance).count() as u32;
    let word = if direction == Direction::HigherIsBetter { "below" } else { "above" };
    let major_share = latest.relative.is_some_and(|r| r <= t.major.negated());
    let major_money = money && latest.signed_gap.is_negative() && latest.signed_gap.abs() >= t.major_money_gap;
    let share = latest.relative.map(|r| gap_percent(r.abs(), &[t.tolerance, t.major])).unwrap_or_else(|| latest.signed_gap.abs().grouped());
    let (tier, reason) = if !latest.out_of_tolerance {
        (None, format!("within tolerance in {}", latest.period))
    } else if major_share || major_money {
        let why = if major_share {
            format!("{share} {word} plan in {}", latest.period)
        } else {
            format!("{} {word} plan in {}", latest.signed_gap.abs().grouped(), latest.period)
        };
        (Some(Tier::SteeringCommittee), why)
    } else if periods_out >= t.repeated_periods {
        (Some(Tier::SponsorAction), format!("{periods_out} periods {word} plan"))
    } else {
        (Some(Tier::OwnerReview), format!("{share} {word} plan in {}", latest.period))
    };
    Some(Assessment { tier, latest, periods_out, reason })
}

/// The size of a relative gap (a share ≥ 0) as a percentage for a reason: the exact value when it
/// has at most 2 decimals, else cut toward zero at 2 decimals — with more digits while a
/// threshold lies between the cut value and the true one, so that the text never reads as the
/// other side of a threshold: 19.999% is "19.99%", never "20%"; 5.001% is "5.001%", never "5%".
pub fn gap_percent(share: Num, thresholds: &[Num]) -> String {
    let Some(exact) = share.inner().checked_mul(Decimal::ONE_HUNDRED) else { return share.percent() };
    let marks: Vec<Decimal> = thresholds.iter().filter_map(|t| t.inner().checked_mul(Decimal::ONE_HUNDRED)).collect();
    let mut dp = 2;
    let cut = loop {
        let cut = exact.round_dp_with_strategy(dp, RoundingStrategy::ToZero);
        let misleads = marks.iter().any(|m| cut <= *m && *m < exact);
        if cut == exact || !misleads || dp >= 12 {
            break cut;
        }
        dp += 1;
    };
    format!("{}%", cut.normalize())
}

/// A relative variance as a percentage for list columns, e.g. `-19.99%`: two decimals cut toward
/// zero, so a gap never rounds up to a threshold it has not reached (the reason says it exactly).
pub fn relative_percent(relative: Num) -> String {
    match relative.inner().checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => format!("{}%", p.round_dp_with_strategy(2, RoundingStrategy::ToZero).normalize()),
        None => relative.percent(),
    }
}

/// A relative variance as JSON gives it: a string with exactly four decimals, cut toward zero
/// (`-0.199999` is `"-0.1999"`, never `"-0.2000"`, which would read as the steering threshold).
pub fn relative_json(relative: Num) -> String {
    let mut r = relative.inner().round_dp_with_strategy(4, RoundingStrategy::ToZero);
    r.rescale(4);
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r.to_string()
}

/// What must happen to an item's escalation record when its assessment changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Unchanged,
    Open(Tier),
    Raise { from: Tier, to: Tier },
    Lower { from: Tier, to: Tier },
    Close { from: Tier },
}

pub fn transition(open: Option<Tier>, computed: Option<Tier>) -> Transition {
    match (open, computed) {
        (None, None) => Transition::Unchanged,
        (None, Some(t)) => Transition::Open(t),
        (Some(from), None) => Transition::Close { from },
        (Some(from), Some(to)) if to > from => Transition::Raise { from, to },
        (Some(from), Some(to)) if to < from => Transition::Lower { from, to },
        _ => Transition::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_exits_by_the_highest_open_tier() {
        for (open, code) in [([0, 0, 0], 0), ([1, 0, 0], 1), ([0, 4, 0], 1), ([0, 0, 1], 2), ([3, 2, 1], 2)] {
            assert_eq!(check_exit_code(open), code, "{open:?}");
        }
    }

    fn pts(rows: &[(&str, &str)]) -> Vec<Point> {
        let mut p = Period::parse("2026-W40").unwrap();
        rows.iter()
            .map(|(plan, act)| {
                let point = Point { period: p, planned: Num::parse(plan).ok(), actual: Num::parse(act).ok() };
                p = p.next();
                point
            })
            .collect()
    }

    fn tier(rows: &[(&str, &str)], dir: Direction, money: bool) -> Option<Tier> {
        assess(&pts(rows), dir, &Thresholds::default(), money).and_then(|a| a.tier)
    }

    #[test]
    fn tiers_table() {
        use Direction::*;
        use Tier::*;
        let cases: &[(&[(&str, &str)], Direction, bool, Option<Tier>)] = &[
            (&[("100", "100")], HigherIsBetter, false, None),
            (&[("100", "96")], HigherIsBetter, false, None),
            (&[("100", "94")], HigherIsBetter, false, Some(OwnerReview)),
            (&[("100", "90"), ("100", "90"), ("100", "90")], HigherIsBetter, false, Some(SponsorAction)),
            (&[("100", "90"), ("100", "100"), ("100", "90")], HigherIsBetter, false, Some(OwnerReview)),
            (&[("100", "75")], HigherIsBetter, false, Some(SteeringCommittee)),
            (&[("100", "80")], HigherIsBetter, false, Some(SteeringCommittee)),
            // Lower is better: a rise is bad, a fall is good.
            (&[("100", "110")], LowerIsBetter, false, Some(OwnerReview)),
            (&[("100", "50")], LowerIsBetter, false, None),
            // A money gap above the absolute threshold goes to the steering committee at 10%.
            (&[("2000000", "1800000")], HigherIsBetter, true, Some(SteeringCommittee)),
            (&[("2000000", "1800000")], HigherIsBetter, false, Some(OwnerReview)),
            // Periods without an actual do not count.
            (&[("100", "90"), ("100", "")], HigherIsBetter, false, Some(OwnerReview)),
        ];
        for (rows, dir, money, want) in cases {
            assert_eq!(tier(rows, *dir, *money), *want, "{rows:?} {dir}");
        }
    }

    #[test]
    fn reason_says_why() {
        let a =
            assess(&pts(&[("100", "90"), ("100", "90"), ("100", "90")]), Direction::HigherIsBetter, &Thresholds::default(), false).unwrap();
        assert_eq!(a.reason, "3 periods below plan");
        assert_eq!(a.periods_out, 3);
    }

    fn reason(plan: &str, actual: &str) -> (Option<Tier>, String) {
        let a = assess(&pts(&[(plan, actual)]), Direction::HigherIsBetter, &Thresholds::default(), false).unwrap();
        (a.tier, a.reason)
    }

    #[test]
    fn reasons_never_read_as_the_other_side_of_a_threshold() {
        use Tier::*;
        assert_eq!(reason("100", "80.01"), (Some(OwnerReview), "19.99% below plan in 2026-W40".into()));
        assert_eq!(reason("100", "80"), (Some(SteeringCommittee), "20% below plan in 2026-W40".into()));
        assert_eq!(reason("100000", "80001"), (Some(OwnerReview), "19.99% below plan in 2026-W40".into()));
        assert_eq!(reason("100", "94.99"), (Some(OwnerReview), "5.01% below plan in 2026-W40".into()));
        assert_eq!(reason("100000", "94999"), (Some(OwnerReview), "5.001% below plan in 2026-W40".into()));
        assert_eq!(reason("3", "2"), (Some(SteeringCommittee), "33.33% below plan in 2026-W40".into()));
        assert_eq!(reason("100", "87.5"), (Some(OwnerReview), "12.5% below plan in 2026-W40".into()));
    }

    #[test]
    fn relative_in_json_has_four_decimals_cut_toward_zero() {
        let n = |s: &str| Num::parse(s).unwrap();
        assert_eq!(relative_json(n("-0.1999")), "-0.1999");
        assert_eq!(relative_json(n("-0.199999")), "-0.1999");
        assert_eq!(relative_json(n("-0.2")), "-0.2000");
        assert_eq!(relative_json(n("0.05")), "0.0500");
        assert_eq!(relative_json(n("-0.00001")), "0.0000");
        assert_eq!(relative_percent(n("-0.199999")), "-19.99%");
        assert_eq!(relative_percent(n("-0.051549")), "-5.15%");
        assert_eq!(relative_percent(n("-0.2")), "-20%");
    }

    proptest::proptest! {
        /// The percentage in a reason is on the same side of every threshold as the true gap.
        #[test]
        fn gap_percent_keeps_the_side_of_each_threshold(gap in 0i64..1_000_000, mark in 1i64..10_000) {
            let share = Num::from(Decimal::new(gap, 6));
            let threshold = Num::from(Decimal::new(mark, 4));
            let shown = gap_percent(share, &[threshold]);
            let shown = Decimal::from_str_exact(shown.trim_end_matches('%')).unwrap();
            let true_pct = share.inner() * Decimal::ONE_HUNDRED;
            let mark_pct = threshold.inner() * Decimal::ONE_HUNDRED;
            proptest::prop_assert_eq!(shown > mark_pct, true_pct > mark_pct);
            proptest::prop_assert_eq!(shown >= mark_pct, true_pct >= mark_pct);
        }
    }

    #[test]
    fn transitions() {
        use Tier::*;
        assert_eq!(transition(None, Some(OwnerReview)), Transition::Open(OwnerReview));
        assert_eq!(transition(Some(OwnerReview), Some(SponsorAction)), Transition::Raise { from: OwnerReview, to: SponsorAction });
        assert_eq!(transition(Some(SteeringCommittee), Some(OwnerReview)), Transition::Lower { from: SteeringCommittee, to: OwnerReview });
        assert_eq!(transition(Some(OwnerReview), None), Transition::Close { from: OwnerReview });
        assert_eq!(transition(Some(OwnerReview), Some(OwnerReview)), Transition::Unchanged);
    }

    proptest::proptest! {
        /// Flipping the direction flips the sign of the variance.
        #[test]
        fn variance_sign_follows_direction(plan in 1i64..100000, act in 0i64..200000) {
            let p = Point { period: Period::parse("2026-W01").unwrap(), planned: Some(Num::from_int(plan)), actual: Some(Num::from_int(act)) };
            let up = variance(&p, Direction::HigherIsBetter, Num::ZERO).unwrap();
            let down = variance(&p, Direction::LowerIsBetter, Num::ZERO).unwrap();
            proptest::prop_assert_eq!(up.signed_gap, down.signed_gap.negated());
            proptest::prop_assert_eq!(up.signed_gap.is_negative(), act < plan);
            proptest::prop_assert_eq!(down.signed_gap.is_negative(), act > plan);
        }
    }
}
