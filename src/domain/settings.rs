//! The organisation's settings, parsed once into [`Settings`] with their ranges checked.
//!
//! A setting is written as text (in the plan's `settings` section or with `keel settings`).
//! Shares are written `0.4` or `40%`; anything else is refused when it is set. A file that
//! already holds a bad setting still opens: the bad value is reported as a [`SettingProblem`]
//! (which `keel check` and the app show) and its default is used until someone fixes it — a
//! default is never applied silently.

use super::escalation::Thresholds;
use super::Num;
use chrono_tz::Tz;

/// The settings an organisation may change, with what each means and how it is written.
pub const KNOWN: &[(&str, &str)] = &[
    ("tolerance", "share outside which a period is off plan: 0.05 or 5% (default 5%; more than 0, at most 1)"),
    ("repeated_periods", "periods off plan in a row that call for sponsor action (default 3; at least 1)"),
    ("major", "share that calls for the steering committee: 0.2 or 20% (default 20%; more than the tolerance, at most 1)"),
    ("major_money_gap", "money gap in one period that calls for the steering committee (default 100000; more than 0)"),
    ("amber", "forecast shortfall against plan that makes potential amber: 0.05 or 5% (default 5%; 0 to 1)"),
    ("red", "forecast shortfall against plan that makes potential red: 0.15 or 15% (default 15%; at least amber, at most 1)"),
    ("critical_after_days", "days a milestone may be overdue before implementation is critical (default 14; 0 or more)"),
    ("due_days_owner", "days to handle an owner review (default 7; at least 1)"),
    ("due_days_sponsor", "days to handle a sponsor action (default 5; at least 1)"),
    ("due_days_steering", "days to handle a steering committee decision (default 14; at least 1)"),
    (
        "confidence_drop",
        "confidence drop since the last check-in that opens an owner review: 0.2 or 20% (default 0.2; more than 0, at most 1)",
    ),
    ("confidence_low", "confidence below which check-ins in a row open an owner review: 0.5 or 50% (default 0.5; more than 0, at most 1)"),
    ("confidence_low_checkins", "check-ins in a row below confidence_low that open an owner review (default 2; at least 1)"),
    ("missed_owner_review", "expected updates missed in a row that open an owner review (default 2; at least 1)"),
    ("missed_sponsor_action", "expected updates missed in a row that call for sponsor action (default 3; more than missed_owner_review)"),
    ("cascade_ceiling", "highest share of objectives that may be cascaded from a parent: 0.4 or 40% (optional; 0 to 1)"),
    ("currency", "ISO 4217 code of money amounts, shown in report headers and number formats, e.g. EUR (optional)"),
    ("timezone", "IANA time zone that decides today and the current period for everyone, e.g. Europe/Berlin (default UTC)"),
];

/// Every setting, typed; defaults where none is set (or where the stored one is bad).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub thresholds: Thresholds,
    pub cascade_ceiling: Option<Num>,
    pub timezone: Tz,
    /// Three capital letters (ISO 4217), e.g. EUR.
    pub currency: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { thresholds: Thresholds::default(), cascade_ceiling: None, timezone: Tz::UTC, currency: None }
    }
}

/// One bad setting: its name, the value as written, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SettingProblem {
    pub name: String,
    pub value: String,
    pub why: String,
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "setting {} = '{}': {}", self.name, super::num::echo(&self.value), self.why)
    }
}

/// Today's date in the organisation's time zone at the instant `now`: one calendar for every
/// user, wherever their terminal is (the current period follows from it).
pub fn today_in(now: chrono::DateTime<chrono::Utc>, timezone: Tz) -> chrono::NaiveDate {
    now.with_timezone(&timezone).date_naive()
}

/// The value of a setting in force, as it would be written (`5%`, `3`, `UTC`), or `None` for an
/// optional setting that is not set.
pub fn in_force(s: &Settings, name: &str) -> Option<String> {
    let t = &s.thresholds;
    let share = |n: Num| {
        let p = n.inner() * rust_decimal::Decimal::from(100);
        format!("{}%", p.normalize())
    };
    Some(match name {
        "tolerance" => share(t.tolerance),
        "repeated_periods" => t.repeated_periods.to_string(),
        "major" => share(t.major),
        "major_money_gap" => t.major_money_gap.grouped(),
        "amber" => share(t.amber),
        "red" => share(t.red),
        "critical_after_days" => t.critical_after_days.to_string(),
        "due_days_owner" => t.due_days[0].to_string(),
        "due_days_sponsor" => t.due_days[1].to_string(),
        "due_days_steering" => t.due_days[2].to_string(),
        "confidence_drop" => t.confidence_drop.to_string(),
        "confidence_low" => t.confidence_low.to_string(),
        "confidence_low_checkins" => t.confidence_low_checkins.to_string(),
        "missed_owner_review" => t.missed_owner_review.to_string(),
        "missed_sponsor_action" => t.missed_sponsor_action.to_string(),
        "cascade_ceiling" => share(s.cascade_ceiling?),
        "currency" => s.currency.clone()?,
        "timezone" => s.timezone.name().to_string(),
        _ => return None,
    })
}

/// Is `name` a setting an organisation may change?
pub fn is_known(name: &str) -> bool {
    KNOWN.iter().any(|(n, _)| *n == name)
}

/// A share: `0.4` or `40%`, between 0 and 1.
pub fn parse_share(value: &str) -> Result<Num, String> {
    let v = value.trim();
    let parsed = match v.strip_suffix('%') {
        Some(p) => Num::parse(p).ok().and_then(|n| n.ratio(Num::from_int(100))),
        None => Num::parse(v).ok(),
    };
    let share = parsed.map(|n| Num::from(n.inner().normalize())).ok_or_else(|| "is not a share: write it as 0.4 or 40%".to_string())?;
    if share.is_negative() || share > Num::ONE {
        return Err("is not between 0 and 1 (0% and 100%)".into());
    }
    Ok(share)
}

fn parse_whole(value: &str, least: i64) -> Result<i64, String> {
    let n: i64 = value.trim().parse().map_err(|_| "is not a whole number of days or periods".to_string())?;
    if n < least {
        return Err(format!("must be at least {least}"));
    }
    Ok(n)
}

fn parse_count(value: &str) -> Result<u32, String> {
    parse_whole(value, 1)?.try_into().map_err(|_| "is too large".to_string())
}

/// Check one setting on its own (form and range). `Ok` means it may be stored.
pub fn check_one(name: &str, value: &str) -> Result<(), String> {
    let mut s = Settings::default();
    apply(&mut s, name, value)
}

/// Parse one setting into `s`, or say what is wrong (and leave `s` as it was).
fn apply(s: &mut Settings, name: &str, value: &str) -> Result<(), String> {
    let t = &mut s.thresholds;
    match name {
        "tolerance" => {
            let v = parse_share(value)?;
            if v.is_zero() {
                return Err("must be more than 0 (a tolerance of 0 escalates every item the moment it is off plan)".into());
            }
            t.tolerance = v;
        }
        "major" => t.major = parse_share(value)?,
        "amber" => t.amber = parse_share(value)?,
        "red" => t.red = parse_share(value)?,
        "cascade_ceiling" => s.cascade_ceiling = Some(parse_share(value)?),
        "confidence_drop" | "confidence_low" => {
            let v = parse_share(value)?;
            if v.is_zero() {
                return Err("must be more than 0 (0 would make every check-in a warning or none)".into());
            }
            if name == "confidence_drop" {
                t.confidence_drop = v
            } else {
                t.confidence_low = v
            }
        }
        "confidence_low_checkins" => t.confidence_low_checkins = parse_count(value)?,
        "missed_owner_review" => t.missed_owner_review = parse_count(value)?,
        "missed_sponsor_action" => t.missed_sponsor_action = parse_count(value)?,
        "repeated_periods" => t.repeated_periods = parse_whole(value, 1)?.try_into().map_err(|_| "is too large".to_string())?,
        "critical_after_days" => t.critical_after_days = parse_whole(value, 0)?,
        "due_days_owner" => t.due_days[0] = parse_whole(value, 1)?,
        "due_days_sponsor" => t.due_days[1] = parse_whole(value, 1)?,
        "due_days_steering" => t.due_days[2] = parse_whole(value, 1)?,
        "major_money_gap" => {
            let v = Num::parse(value).map_err(|e| e.to_string())?;
            if v.is_negative() || v.is_zero() {
                return Err("must be more than 0".into());
            }
            t.major_money_gap = v;
        }
        "currency" => {
            let v = value.trim();
            if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err("is not a currency code: write three capital letters (ISO 4217), e.g. EUR, USD or CHF".into());
            }
            s.currency = Some(v.to_string());
        }
        "timezone" => {
            s.timezone = value
                .trim()
                .parse::<Tz>()
                .map_err(|_| "is not an IANA time zone name: write it as e.g. Europe/Berlin, America/New_York or UTC".to_string())?;
        }
        _ => {
            let known: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
            return Err(format!("is not a setting; known: {}", known.join(", ")));
        }
    }
    Ok(())
}

/// Parse a whole set of settings (name, value), checking each one and how they relate. Names
/// that are not settings an organisation may change (the file's own bookkeeping) are skipped.
/// Returns the settings to use — defaults in place of bad values — and every problem found.
pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Settings, Vec<SettingProblem>) {
    let mut s = Settings::default();
    let mut problems = Vec::new();
    let mut written: Vec<(&str, &str)> = Vec::new();
    for (name, value) in pairs {
        if !is_known(name) {
            continue;
        }
        written.push((name, value));
        if let Err(why) = apply(&mut s, name, value) {
            problems.push(SettingProblem { name: name.into(), value: value.into(), why });
        }
    }
    let mut related = |name: &str, why: String, s: &mut Settings, reset: fn(&mut Thresholds)| {
        let value = written.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()).unwrap_or_default();
        problems.push(SettingProblem { name: name.into(), value, why });
        reset(&mut s.thresholds);
    };
    if s.thresholds.major <= s.thresholds.tolerance {
        // Blame the one that was written (major, if both were).
        let name = if written.iter().any(|(n, _)| *n == "major") { "major" } else { "tolerance" };
        let why = format!(
            "major ({}) must be more than the tolerance ({}): a gap cannot be major before it is off plan",
            s.thresholds.major.percent(),
            s.thresholds.tolerance.percent()
        );
        related(name, why, &mut s, |t| {
            t.major = Thresholds::default().major;
            t.tolerance = Thresholds::default().tolerance;
        });
    }
    if s.thresholds.amber > s.thresholds.red {
        let name = if written.iter().any(|(n, _)| *n == "red") { "red" } else { "amber" };
        let why = format!(
            "red ({}) must be at least amber ({}): potential turns amber before red",
            s.thresholds.red.percent(),
            s.thresholds.amber.percent()
        );
        related(name, why, &mut s, |t| {
            t.amber = Thresholds::default().amber;
            t.red = Thresholds::default().red;
        });
    }
    if s.thresholds.missed_sponsor_action <= s.thresholds.missed_owner_review {
        let name = if written.iter().any(|(n, _)| *n == "missed_sponsor_action") { "missed_sponsor_action" } else { "missed_owner_review" };
        let why = format!(
            "missed_sponsor_action ({}) must be more than missed_owner_review ({}): an owner review comes first",
            s.thresholds.missed_sponsor_action, s.thresholds.missed_owner_review
        );
        related(name, why, &mut s, |t| {
            t.missed_owner_review = Thresholds::default().missed_owner_review;
            t.missed_sponsor_action = Thresholds::default().missed_sponsor_action;
        });
    }
    (s, problems)
}

/// Check a set of settings about to be stored: the changes in `new` over the `current` ones.
/// Returns every problem of the result that a value in `new` causes or fails to fix.
pub fn check_change<'a>(
    current: impl IntoIterator<Item = (&'a str, &'a str)>,
    new: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Vec<SettingProblem> {
    let mut merged: Vec<(&str, &str)> = current.into_iter().collect();
    let mut problems = Vec::new();
    for (name, value) in new.clone() {
        if !is_known(name) {
            let known: Vec<&str> = KNOWN.iter().map(|(n, _)| *n).collect();
            problems.push(SettingProblem {
                name: name.into(),
                value: value.into(),
                why: format!("is not a setting; known: {}", known.join(", ")),
            });
            continue;
        }
        merged.retain(|(n, _)| *n != name);
        merged.push((name, value));
    }
    let changed: Vec<&str> = new.into_iter().map(|(n, _)| n).collect();
    // A bad value already stored is not this change's fault, unless the change is to it or
    // to a setting it must agree with (and it is bad only in how they relate).
    let counts = |p: &SettingProblem| {
        changed.contains(&p.name.as_str()) || (relates_to_change(&p.name, &changed) && check_one(&p.name, &p.value).is_ok())
    };
    problems.extend(parse(merged).1.into_iter().filter(counts));
    problems
}

/// A problem between two settings counts against a change to either.
fn relates_to_change(name: &str, changed: &[&str]) -> bool {
    let pairs = [("major", "tolerance"), ("red", "amber"), ("missed_sponsor_action", "missed_owner_review")];
    pairs.iter().any(|(a, b)| (name == *a || name == *b) && (changed.contains(a) || changed.contains(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Num {
        Num::parse(s).unwrap()
    }

    #[test]
    fn shares_are_written_as_fractions_or_percentages() {
        assert_eq!(parse_share("0.4"), Ok(num("0.4")));
        assert_eq!(parse_share("40%"), Ok(num("0.4")));
        assert_eq!(parse_share(" 12.5% "), Ok(num("0.125")));
        assert_eq!(parse_share("1"), Ok(Num::ONE));
        assert!(parse_share("five percent").unwrap_err().contains("0.4 or 40%"));
        assert!(parse_share("140%").unwrap_err().contains("between 0 and 1"));
        assert!(parse_share("-0.05").unwrap_err().contains("between 0 and 1"));
        assert!(parse_share("40 %%").is_err());
        assert!(parse_share("").is_err());
    }

    #[test]
    fn every_bad_value_named_in_the_issue_is_refused() {
        let bad = [
            ("tolerance", "five percent"),
            ("tolerance", "-0.05"),
            ("tolerance", "0"),
            ("repeated_periods", "0"),
            ("repeated_periods", "three"),
            ("due_days_owner", "0"),
            ("major_money_gap", "-1"),
            (
                "confidence_drop",
                "confidence drop since the last check-in that opens an owner review: 0.2 or 20% (default 0.2; more than 0, at most 1)",
            ),
            (
                "confidence_low",
                "confidence below which check-ins in a row open an owner review: 0.5 or 50% (default 0.5; more than 0, at most 1)",
            ),
            ("confidence_low_checkins", "check-ins in a row below confidence_low that open an owner review (default 2; at least 1)"),
            ("missed_owner_review", "expected updates missed in a row that open an owner review (default 2; at least 1)"),
            (
                "missed_sponsor_action",
                "expected updates missed in a row that call for sponsor action (default 3; more than missed_owner_review)",
            ),
            ("cascade_ceiling", "1.5"),
            ("timezone", "Mars/Olympus"),
            ("timezone", ""),
            ("critical_after_days", "-1"),
            ("confidence_drop", "0"),
            ("confidence_drop", "1.2"),
            ("confidence_low", "half"),
            ("confidence_low_checkins", "0"),
            ("missed_owner_review", "0"),
            ("missed_sponsor_action", "-3"),
        ];
        for (name, value) in bad {
            assert!(check_one(name, value).is_err(), "{name}={value} was accepted");
            let (s, problems) = parse([(name, value)]);
            assert_eq!(problems.len(), 1, "{name}={value}: {problems:?}");
            assert_eq!(problems[0].name, name);
            assert_eq!(s, Settings::default(), "a bad {name} leaves the default in use");
        }
    }

    #[test]
    fn good_values_are_used() {
        let (s, problems) = parse([
            ("tolerance", "2%"),
            ("major", "0.1"),
            ("repeated_periods", "2"),
            ("cascade_ceiling", "40%"),
            ("timezone", "Pacific/Auckland"),
            ("demo", "1"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.thresholds.tolerance, num("0.02"));
        assert_eq!(s.thresholds.major, num("0.1"));
        assert_eq!(s.thresholds.repeated_periods, 2);
        assert_eq!(s.cascade_ceiling, Some(num("0.4")));
        assert_eq!(s.timezone, chrono_tz::Pacific::Auckland);
    }

    #[test]
    fn settings_that_contradict_each_other_are_refused() {
        let (s, problems) = parse([("tolerance", "0.1"), ("major", "0.05")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].name, "major");
        assert!(problems[0].why.contains("more than the tolerance"));
        assert_eq!(s.thresholds, Thresholds::default());
        // A tolerance above the default major, with major not written, blames the tolerance.
        let (_, problems) = parse([("tolerance", "0.3")]);
        assert_eq!(problems[0].name, "tolerance");
        let (_, problems) = parse([("amber", "0.2"), ("red", "0.1")]);
        assert_eq!(problems[0].name, "red");
        let (s, problems) = parse([("missed_owner_review", "3"), ("missed_sponsor_action", "3")]);
        assert_eq!(problems[0].name, "missed_sponsor_action", "{problems:?}");
        assert_eq!((s.thresholds.missed_owner_review, s.thresholds.missed_sponsor_action), (2, 3));
        let (_, problems) = parse([("missed_owner_review", "4")]);
        assert_eq!(problems[0].name, "missed_owner_review");
        // Equal amber and red is allowed (straight from green to red is a choice).
        assert!(parse([("amber", "0.1"), ("red", "0.1")]).1.is_empty());
    }

    #[test]
    fn a_change_is_judged_with_the_settings_already_stored() {
        let current = [("major", "0.1")];
        assert!(check_change(current, [("tolerance", "0.05")]).is_empty());
        let p = check_change(current, [("tolerance", "0.15")]);
        assert_eq!(p.len(), 1, "{p:?}");
        // A bad stored setting that the change does not touch is not the change's fault.
        let current = [("repeated_periods", "0"), ("tolerance", "-1")];
        assert!(check_change(current, [("major", "0.3")]).is_empty());
        assert_eq!(check_change(current, [("colour", "blue")])[0].why.split(';').next(), Some("is not a setting"));
    }

    #[test]
    fn today_follows_the_organisations_zone_not_the_users() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T20:30:00Z").unwrap().with_timezone(&chrono::Utc);
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(today_in(now, Tz::UTC), day("2026-11-29"));
        assert_eq!(today_in(now, chrono_tz::Pacific::Auckland), day("2026-11-30"));
        assert_eq!(today_in(now, chrono_tz::America::Los_Angeles), day("2026-11-29"));
        let sunday_night = chrono::DateTime::parse_from_rfc3339("2026-11-30T03:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(today_in(sunday_night, chrono_tz::America::New_York), day("2026-11-29"));
    }

    proptest::proptest! {
        /// Whatever is stored, the settings in use always obey the ranges.
        #[test]
        fn settings_in_use_are_always_in_range(tol in "[-0-9.%a-z]{0,6}", major in "[-0-9.%]{0,6}", rep in "[-0-9]{0,3}") {
            let (s, _) = parse([("tolerance", tol.as_str()), ("major", major.as_str()), ("repeated_periods", rep.as_str())]);
            let t = s.thresholds;
            proptest::prop_assert!(t.tolerance > Num::ZERO && t.tolerance < t.major && t.major <= Num::ONE);
            proptest::prop_assert!(t.repeated_periods >= 1);
        }
    }

    #[test]
    fn currency_is_three_capital_letters_and_values_in_force_are_shown() {
        assert!(check_one("currency", "EUR").is_ok());
        for bad in ["eur", "EURO", "E1R", ""] {
            assert!(check_one("currency", bad).unwrap_err().contains("three capital letters"), "{bad}");
        }
        let (s, problems) = parse([("tolerance", "0.04"), ("currency", "CHF")]);
        assert!(problems.is_empty());
        assert_eq!(in_force(&s, "tolerance").as_deref(), Some("4%"));
        assert_eq!(in_force(&s, "major").as_deref(), Some("20%"), "a default is shown as the value in force");
        assert_eq!(in_force(&s, "currency").as_deref(), Some("CHF"));
        assert_eq!(in_force(&Settings::default(), "currency"), None);
        assert_eq!(in_force(&s, "timezone").as_deref(), Some("UTC"));
        assert!(KNOWN.iter().all(|(n, _)| *n == "cascade_ceiling" || *n == "currency" || in_force(&s, n).is_some()), "every setting shows");
    }
}
