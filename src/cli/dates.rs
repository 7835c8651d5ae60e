//! `--since` and `--until` as people write them: a date (`2026-11-23`), a period (`2026-W47`,
//! `2026-11`, `2026-Q4`: from its first day, until its last), `today`, or a span back from
//! today (`7d`, `2w`). Both ends are whole days in the organisation's calendar.

use crate::domain::Period;
use crate::store::StoreError;
use anyhow::{anyhow, Result};
use chrono::{Duration, NaiveDate};

/// Which end of a window a date names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The first day in the window.
    Since,
    /// The last day in the window.
    Until,
}

const HOW: &str = "use a date (2026-11-23), a period (2026-W47, 2026-11, 2026-Q4), today, or days or weeks back (7d, 2w)";

/// The day a `--since`/`--until` value names, judged on `today`.
pub fn day(input: &str, flag: &str, today: NaiveDate, end: End) -> Result<NaiveDate> {
    let s = input.trim().to_ascii_lowercase();
    let bad = |why: String| anyhow!(StoreError::Invalid { key: flag.into(), field: input.to_string(), why });
    if s == "today" {
        return Ok(today);
    }
    if let Some(n) = s.strip_suffix('d').or_else(|| s.strip_suffix('w')) {
        let per = if s.ends_with('w') { 7 } else { 1 };
        if let Ok(n) = n.parse::<u32>() {
            return i64::from(n)
                .checked_mul(per)
                .filter(|d| *d <= 365 * 100)
                .and_then(|d| today.checked_sub_signed(Duration::days(d)))
                .ok_or_else(|| bad("reaches back too far: at most 100 years".into()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return crate::domain::period::check_date(d).map_err(|e| bad(e.to_string()));
    }
    match Period::parse(&s) {
        Ok(p) => Ok(if end == End::Since { p.start() } else { p.end() }),
        Err(_) => Err(bad(format!("is not a date or period: {HOW}"))),
    }
}

/// `--since` as the audit log compares it (inclusive, a day's start).
pub fn since(input: Option<&str>, today: NaiveDate) -> Result<Option<String>> {
    input.map(|s| day(s, "--since", today, End::Since).map(|d| d.to_string())).transpose()
}

/// `--until` as the audit log compares it: before the day after the last day named.
pub fn until(input: Option<&str>, today: NaiveDate) -> Result<Option<String>> {
    input.map(|s| day(s, "--until", today, End::Until).map(|d| (d + Duration::days(1)).to_string())).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_periods_and_spans_name_days() {
        let today = d("2026-11-26");
        let since = |s: &str| day(s, "--since", today, End::Since).unwrap();
        let until = |s: &str| day(s, "--until", today, End::Until).unwrap();
        assert_eq!(since("2026-11-02"), d("2026-11-02"));
        assert_eq!(since("7d"), d("2026-11-19"));
        assert_eq!(since("2W"), d("2026-11-12"));
        assert_eq!(since("0d"), today);
        assert_eq!(since("today"), today);
        assert_eq!(since("2026-W47"), d("2026-11-16"));
        assert_eq!(until("2026-W47"), d("2026-11-22"));
        assert_eq!(since("2026-11"), d("2026-11-01"));
        assert_eq!(until("2026-11"), d("2026-11-30"));
        assert_eq!(until("2026-Q4"), d("2026-12-31"));
    }

    #[test]
    fn until_is_exclusive_of_the_next_day_and_nonsense_is_refused() {
        let today = d("2026-11-26");
        assert_eq!(until(Some("2026-11-26"), today).unwrap().as_deref(), Some("2026-11-27"));
        assert_eq!(since(None, today).unwrap(), None);
        for bad in ["last week", "7x", "-3d", "2026-13-01", "99999999d"] {
            let e = day(bad, "--since", today, End::Since).unwrap_err().to_string();
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(day("yesterday", "--since", today, End::Since).unwrap_err().to_string().contains("7d"));
    }
}
