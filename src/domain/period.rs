//! Reporting periods: ISO weeks (`2026-W47`), months (`2026-11`) and quarters (`2026-Q4`).
//!
//! A period key is always derived from a local calendar date (never a UTC timestamp), and weeks use
//! the ISO week-year (`%G-W%V`), which differs from the calendar year around New Year.

use super::num::echo;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Week { year: i32, week: u32 },
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
}

impl Cadence {
    pub const ALL: [Cadence; 4] = [Cadence::Weekly, Cadence::Biweekly, Cadence::Monthly, Cadence::Quarterly];
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
        }
    }
    pub fn parse(s: &str) -> Option<Cadence> {
        Cadence::ALL.into_iter().find(|c| c.as_str() == s.trim().to_ascii_lowercase())
    }
    /// How many days may pass since the last update before an item counts as stale.
    pub fn stale_after_days(self) -> i64 {
        match self {
            Cadence::Weekly => 7,
            Cadence::Biweekly => 14,
            Cadence::Monthly => 31,
            Cadence::Quarterly => 92,
        }
    }
    /// The period an update made on `date` belongs to.
    pub fn period_of(self, date: NaiveDate) -> Period {
        match self {
            Cadence::Weekly | Cadence::Biweekly => Period::week_of(date),
            Cadence::Monthly => Period::Month { year: date.year(), month: date.month() },
            Cadence::Quarterly => Period::Quarter { year: date.year(), quarter: (date.month() - 1) / 3 + 1 },
        }
    }
}

/// DOMAIN "Variance and escalation": actuals are for periods that have begun (plans and
/// forecasts may look ahead). The refusal, in words, or `None` when the actual may be given.
pub fn actual_refusal(period: Period, today: NaiveDate) -> Option<String> {
    (period.start() > today).then(|| {
        format!(
            "{period} begins on {}, after today ({today}): an actual is for a period that has begun (plan or forecast it instead)",
            period.start()
        )
    })
}

/// A report "as of" a period shows the file as it stood when the period ended, so the period
/// must have ended before today: the refusal, in words, or `None` when it has.
pub fn as_of_refusal(period: Period, today: NaiveDate) -> Option<String> {
    (period.end() >= today).then(|| {
        format!(
            "{period} ends on {}, and today is {today}: --as-of takes a period that has ended (the latest is {}); \
             leave --as-of out for the report as it stands now",
            period.end(),
            match period {
                Period::Week { .. } => Period::week_of(today).prev(),
                Period::Month { .. } => Cadence::Monthly.period_of(today).prev(),
                Period::Quarter { .. } => Cadence::Quarterly.period_of(today).prev(),
            }
        )
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("'{0}' is not a period: use an ISO week like 2026-W47, a month like 2026-11 or a quarter like 2026-Q4")]
    Malformed(String),
    #[error("'{input}': {year} has only {max} ISO weeks")]
    NoSuchWeek { input: String, year: i32, max: u32 },
    #[error("'{0}': months run from 01 to 12")]
    NoSuchMonth(String),
    #[error("'{0}': quarters run from Q1 to Q4")]
    NoSuchQuarter(String),
    #[error("'{0}': years before 1900 or after 9999 are not accepted")]
    YearOutOfRange(String),
}

/// A date keel accepts: years 1900 to 9999, as for periods (an earlier date is a typo).
pub fn check_date(date: NaiveDate) -> Result<NaiveDate, PeriodError> {
    if (1900..=9999).contains(&date.year()) {
        Ok(date)
    } else {
        Err(PeriodError::YearOutOfRange(date.to_string()))
    }
}

fn iso_weeks_in(year: i32) -> u32 {
    // 28 December is always in the last ISO week of its year.
    NaiveDate::from_ymd_opt(year, 12, 28).map(|d| d.iso_week().week()).unwrap_or(52)
}

impl Period {
    pub fn week_of(date: NaiveDate) -> Period {
        let w = date.iso_week();
        Period::Week { year: w.year(), week: w.week() }
    }

    pub fn parse(input: &str) -> Result<Period, PeriodError> {
        let s = input.trim();
        let bad = || PeriodError::Malformed(echo(input));
        let (year_s, rest) = s.split_once('-').ok_or_else(bad)?;
        if year_s.len() != 4 || !year_s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year_s.parse().map_err(|_| bad())?;
        if !(1900..=9999).contains(&year) {
            return Err(PeriodError::YearOutOfRange(echo(input)));
        }
        let number = |t: &str| -> Result<u32, PeriodError> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        if let Some(w) = rest.strip_prefix('W').or_else(|| rest.strip_prefix('w')) {
            let week = number(w)?;
            let max = iso_weeks_in(year);
            if week == 0 || week > max {
                return Err(PeriodError::NoSuchWeek { input: echo(input), year, max });
            }
            Ok(Period::Week { year, week })
        } else if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            let quarter = number(q)?;
            if !(1..=4).contains(&quarter) {
                return Err(PeriodError::NoSuchQuarter(echo(input)));
            }
            Ok(Period::Quarter { year, quarter })
        } else {
            let month = number(rest)?;
            if rest.len() != 2 || !(1..=12).contains(&month) {
                return Err(PeriodError::NoSuchMonth(echo(input)));
            }
            Ok(Period::Month { year, month })
        }
    }

    pub fn start(self) -> NaiveDate {
        match self {
            Period::Week { year, week } => NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).expect("validated week"),
            Period::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1).expect("validated month"),
            Period::Quarter { year, quarter } => NaiveDate::from_ymd_opt(year, (quarter - 1) * 3 + 1, 1).expect("validated quarter"),
        }
    }

    /// The last day of the period.
    pub fn end(self) -> NaiveDate {
        self.next().start() - Duration::days(1)
    }

    pub fn next(self) -> Period {
        match self {
            Period::Week { .. } => Period::week_of(self.start() + Duration::days(7)),
            Period::Month { year, month: 12 } => Period::Month { year: year + 1, month: 1 },
            Period::Month { year, month } => Period::Month { year, month: month + 1 },
            Period::Quarter { year, quarter: 4 } => Period::Quarter { year: year + 1, quarter: 1 },
            Period::Quarter { year, quarter } => Period::Quarter { year, quarter: quarter + 1 },
        }
    }

    pub fn prev(self) -> Period {
        match self {
            Period::Week { .. } => Period::week_of(self.start() - Duration::days(7)),
            Period::Month { year, month: 1 } => Period::Month { year: year - 1, month: 12 },
            Period::Month { year, month } => Period::Month { year, month: month - 1 },
            Period::Quarter { year, quarter: 1 } => Period::Quarter { year: year - 1, quarter: 4 },
            Period::Quarter { year, quarter } => Period::Quarter { year, quarter: quarter - 1 },
        }
    }

    /// Move a period by whole weeks (used to shift the demo so that it always looks current).
    pub fn shift_weeks(self, weeks: i64) -> Period {
        let moved = self.start() + Duration::weeks(weeks);
        match self {
            Period::Week { .. } => Period::week_of(moved),
            Period::Month { .. } => Cadence::Monthly.period_of(moved),
            Period::Quarter { .. } => Cadence::Quarterly.period_of(moved),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Week { year, week } => write!(f, "{year}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
        }
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.start(), self.end()).cmp(&(other.start(), other.end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_takes_only_a_period_that_has_ended() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(); // a Wednesday in 2026-W49
        assert_eq!(as_of_refusal(Period::parse("2026-W48").unwrap(), today), None);
        let this_week = as_of_refusal(Period::parse("2026-W49").unwrap(), today).unwrap();
        assert!(this_week.contains("2026-W49 ends on 2026-12-06") && this_week.contains("the latest is 2026-W48"), "{this_week}");
        assert!(as_of_refusal(Period::parse("2027-W01").unwrap(), today).is_some());
        assert!(as_of_refusal(Period::parse("2026-12").unwrap(), today).unwrap().contains("the latest is 2026-11"));
        assert_eq!(as_of_refusal(Period::parse("2026-11").unwrap(), today), None);
        // The day after a period ends, it may be asked for.
        assert_eq!(as_of_refusal(Period::parse("2026-W48").unwrap(), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()), None);
        assert!(as_of_refusal(Period::parse("2026-W48").unwrap(), NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()).is_some());
    }

    #[test]
    fn parses_and_prints_each_kind() {
        for s in ["2026-W47", "2026-W01", "2026-11", "2026-Q4", "2020-W53"] {
            assert_eq!(Period::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn refuses_impossible_periods() {
        assert!(matches!(Period::parse("2026-W54"), Err(PeriodError::NoSuchWeek { max: 53, .. })));
        assert!(matches!(Period::parse("2025-W53"), Err(PeriodError::NoSuchWeek { max: 52, .. })));
        assert!(matches!(Period::parse("2026-13"), Err(PeriodError::NoSuchMonth(_))));
        assert!(matches!(Period::parse("2026-Q5"), Err(PeriodError::NoSuchQuarter(_))));
        assert!(matches!(Period::parse("1899-W10"), Err(PeriodError::YearOutOfRange(_))));
        for bad in ["2026", "26-W4", "2026-W", "2026-W4x", "2026-1", "W47", "2026/11"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_week_year_differs_from_calendar_year_at_new_year() {
        let d = NaiveDate::from_ymd_opt(2024, 12, 30).unwrap();
        assert_eq!(Period::week_of(d).to_string(), "2025-W01");
        let d = NaiveDate::from_ymd_opt(2021, 1, 3).unwrap();
        assert_eq!(Period::week_of(d).to_string(), "2020-W53");
    }

    #[test]
    fn next_and_prev_cross_year_ends() {
        assert_eq!(Period::parse("2026-W53").unwrap().next().to_string(), "2027-W01");
        assert_eq!(Period::parse("2027-W01").unwrap().prev().to_string(), "2026-W53");
        assert_eq!(Period::parse("2026-12").unwrap().next().to_string(), "2027-01");
        assert_eq!(Period::parse("2026-Q1").unwrap().prev().to_string(), "2025-Q4");
    }

    proptest::proptest! {
        #[test]
        fn next_then_prev_is_identity(days in 0i64..40000) {
            let d = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + Duration::days(days);
            for c in Cadence::ALL {
                let p = c.period_of(d);
                proptest::prop_assert_eq!(p.next().prev(), p);
                proptest::prop_assert!(p.start() <= d && d <= p.end());
                proptest::prop_assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
            }
        }
    }
}
