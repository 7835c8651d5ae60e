//! Money roll-ups: a measure's totals from its values, and sums up the execution hierarchy and
//! by DoI stage (the value funnel). Sums are exact, so adding a change's delta along the
//! ancestor path gives the same result as summing everything again.

use super::num::NumError;
use super::{Num, ValueType};

/// Planned, forecast and actual money of one measure or one node, as net value
/// (benefits positive, costs negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Money {
    pub planned: Num,
    pub forecast: Num,
    pub actual: Num,
}

impl Money {
    pub fn plus(self, o: Money) -> Result<Money, NumError> {
        Ok(Money {
            planned: self.planned.checked_add(o.planned)?,
            forecast: self.forecast.checked_add(o.forecast)?,
            actual: self.actual.checked_add(o.actual)?,
        })
    }
    pub fn minus(self, o: Money) -> Result<Money, NumError> {
        Ok(Money {
            planned: self.planned.checked_sub(o.planned)?,
            forecast: self.forecast.checked_sub(o.forecast)?,
            actual: self.actual.checked_sub(o.actual)?,
        })
    }
    pub fn is_zero(self) -> bool {
        self.planned.is_zero() && self.forecast.is_zero() && self.actual.is_zero()
    }
}

/// One period's money figures of a measure.
#[derive(Clone, Copy, Debug, Default)]
pub struct PeriodMoney {
    pub planned: Option<Num>,
    pub forecast: Option<Num>,
    pub actual: Option<Num>,
}

/// A measure's money as reports and exports show it: a figure only where some period holds a
/// value for it, so a measure with no plan shows a blank (JSON `null`), not a planned 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ShownMoney {
    pub planned: Option<Num>,
    pub forecast: Option<Num>,
    pub actual: Option<Num>,
}

/// How many of a measure's periods hold each of its figures (a store counts them where the
/// values are, without reading each one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnteredCounts {
    pub planned: usize,
    pub forecast: usize,
    pub actual: usize,
}

impl EnteredCounts {
    pub fn of(periods: &[PeriodMoney]) -> Self {
        let count = |f: fn(&PeriodMoney) -> bool| periods.iter().filter(|p| f(p)).count();
        EnteredCounts {
            planned: count(|p| p.planned.is_some()),
            forecast: count(|p| p.forecast.is_some()),
            actual: count(|p| p.actual.is_some()),
        }
    }
}

/// DOMAIN "no data is not zero": which of a measure's totals rest on at least one entered value.
/// The forecast lands on the actual, else the forecast, else the plan, so any of them counts.
pub fn shown_money(money: Money, entered: EnteredCounts) -> ShownMoney {
    ShownMoney {
        planned: (entered.planned > 0).then_some(money.planned),
        forecast: (entered.actual + entered.forecast + entered.planned > 0).then_some(money.forecast),
        actual: (entered.actual > 0).then_some(money.actual),
    }
}

/// A measure's totals over all its periods. The forecast is the expected landing: the actual
/// where one exists, else the forecast, else the plan.
pub fn measure_money(periods: &[PeriodMoney], value_type: ValueType) -> Result<Money, NumError> {
    let mut m = Money::default();
    for p in periods {
        let landing = p.actual.or(p.forecast).or(p.planned);
        m.planned = m.planned.checked_add(value_type.net(p.planned.unwrap_or_default()))?;
        m.forecast = m.forecast.checked_add(value_type.net(landing.unwrap_or_default()))?;
        m.actual = m.actual.checked_add(value_type.net(p.actual.unwrap_or_default()))?;
    }
    Ok(m)
}

/// Top-down target against the bottom-up sum: the gap is bottom-up minus target, so a negative
/// gap means the measures do not add up to the ambition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TargetGap {
    pub target: Num,
    pub bottom_up: Num,
    pub gap: Num,
}

pub fn target_gap(target: Num, bottom_up: Num) -> Result<TargetGap, NumError> {
    Ok(TargetGap { target, bottom_up, gap: bottom_up.checked_sub(target)? })
}

/// DOMAIN "Top-down target, bottom-up validation": an objective's bottom-up value is the money
/// of the distinct measures that serve the key results of the objective and of every objective
/// cascaded from it, each counted once and cancelled ones not at all. The store supplies the
/// tree (`children`), the links (`serving`: the measures serving an objective's key results) and
/// each measure's money (`None` for a cancelled one). Walked iteratively, so a deep or looping
/// cascade cannot overflow the stack.
pub fn objective_bottom_up<'a, C, S, M>(root: i64, children: C, serving: S, money: M) -> Result<Money, NumError>
where
    C: Fn(i64) -> &'a [i64],
    S: Fn(i64) -> &'a [i64],
    M: Fn(i64) -> Option<Money>,
{
    let (mut seen, mut stack, mut measures) = (std::collections::HashSet::new(), vec![root], std::collections::BTreeSet::new());
    while let Some(o) = stack.pop() {
        if seen.insert(o) {
            measures.extend(serving(o).iter().copied());
            stack.extend(children(o).iter().copied());
        }
    }
    measures.into_iter().filter_map(money).try_fold(Money::default(), |sum, m| sum.plus(m))
}

/// The objectives whose bottom-up value counts a measure that serves the key results of
/// `serving`: those objectives and every one they are cascaded from (`objective_bottom_up`'s
/// walk turned round), each once, so the sums can be gathered measure by measure. A loop of
/// parents ends where it comes round.
pub fn objectives_counting(serving: &[i64], parent: impl Fn(i64) -> Option<i64>) -> std::collections::BTreeSet<i64> {
    let mut out = std::collections::BTreeSet::new();
    for &o in serving {
        let mut at = Some(o);
        while let Some(o) = at.filter(|o| out.insert(*o)) {
            at = parent(o);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<Num> {
        Num::parse(s).ok()
    }

    #[test]
    fn forecast_lands_on_actuals_then_forecasts_then_plan() {
        let periods = [
            PeriodMoney { planned: n("100"), forecast: n("90"), actual: n("80") },
            PeriodMoney { planned: n("100"), forecast: n("95"), actual: None },
            PeriodMoney { planned: n("100"), forecast: None, actual: None },
        ];
        let m = measure_money(&periods, ValueType::RecurringBenefit).unwrap();
        assert_eq!((m.planned, m.forecast, m.actual), (n("300").unwrap(), n("275").unwrap(), n("80").unwrap()));
        let c = measure_money(&periods, ValueType::OneTimeCost).unwrap();
        assert_eq!(c.planned, n("-300").unwrap());
    }

    #[test]
    fn summing_measure_by_measure_equals_the_walk_down() {
        // 1 <- 2 <- 3, 4 alone, and a loop 5 <-> 6; measures 10.. serve these objectives.
        let parent = |o: i64| match o {
            2 => Some(1),
            3 => Some(2),
            5 => Some(6),
            6 => Some(5),
            _ => None,
        };
        let children = |o: i64| -> &'static [i64] {
            match o {
                1 => &[2],
                2 => &[3],
                5 => &[6],
                6 => &[5],
                _ => &[],
            }
        };
        let serves: [(i64, &[i64]); 5] = [(10, &[3]), (11, &[2, 3]), (12, &[4]), (13, &[5]), (14, &[1, 6])];
        let money = |m: i64| Some(Money { planned: Num::from_int(m), forecast: Num::from_int(2 * m), actual: Num::ZERO });
        for root in 1..=6 {
            let serving = |o: i64| -> &'static [i64] {
                match o {
                    1 => &[14],
                    2 => &[11],
                    3 => &[10, 11],
                    4 => &[12],
                    5 => &[13],
                    6 => &[14],
                    _ => &[],
                }
            };
            let want = objective_bottom_up(root, children, serving, money).unwrap();
            let mut got = Money::default();
            for (m, objectives) in serves {
                if objectives_counting(objectives, parent).contains(&root) {
                    got = got.plus(money(m).unwrap()).unwrap();
                }
            }
            assert_eq!(got, want, "objective {root}");
        }
    }

    proptest::proptest! {
        /// Applying deltas one by one equals summing from scratch (exact arithmetic).
        #[test]
        fn delta_updates_equal_full_sums(values in proptest::collection::vec((-100000i64..100000, 0u32..4), 1..40)) {
            let ms: Vec<Money> = values.iter().map(|(v, s)| {
                let x = Num::from(rust_decimal::Decimal::new(*v, *s));
                Money { planned: x, forecast: x.negated(), actual: x }
            }).collect();
            let full = ms.iter().try_fold(Money::default(), |a, b| a.plus(*b)).unwrap();
            let mut running = Money::default();
            for (i, m) in ms.iter().enumerate() {
                // Add a wrong value first, then correct it with a delta, as an edit would.
                let wrong = Money { planned: Num::from_int(i as i64), ..Default::default() };
                running = running.plus(wrong).unwrap();
                running = running.plus(m.minus(wrong).unwrap()).unwrap();
            }
            proptest::prop_assert_eq!(running, full);
        }
    }

    #[test]
    fn money_without_values_is_shown_blank_not_zero() {
        let n = |x: &str| Some(Num::parse(x).unwrap());
        let none = shown_money(Money::default(), EnteredCounts::of(&[]));
        assert_eq!(none, ShownMoney::default());
        let only_plan = [PeriodMoney { planned: n("100"), forecast: None, actual: None }];
        let m = measure_money(&only_plan, ValueType::RecurringBenefit).unwrap();
        let s = shown_money(m, EnteredCounts::of(&only_plan));
        assert_eq!((s.planned, s.forecast, s.actual), (n("100"), n("100"), None), "the plan is the landing; no actual yet");
        let actual_zero = [PeriodMoney { planned: None, forecast: None, actual: n("0") }];
        let s = shown_money(measure_money(&actual_zero, ValueType::RecurringBenefit).unwrap(), EnteredCounts::of(&actual_zero));
        assert_eq!(s.actual, n("0"), "an entered 0 is a 0");
        assert_eq!(s.planned, None);
    }
}
