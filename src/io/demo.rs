//! The demo organisation: `demo-data/plan.json`, compiled in, moved in time so that its newest
//! week is the current one, and with the demo's PMO administrator acting as the OS user.

use crate::domain::plan::Plan;
use crate::domain::Period;
use anyhow::Result;
use chrono::{DateTime, Duration, NaiveDate};

pub const PLAN_JSON: &str = include_str!("../../demo-data/plan.json");

/// The login of the demo's PMO administrator in the file; replaced by the OS user.
pub const DEMO_ADMIN_LOGIN: &str = "demo-admin";

pub fn plan(today: NaiveDate, os_login: &str) -> Result<Plan> {
    let mut plan = super::plan::parse(PLAN_JSON, "demo-data/plan.json")?;
    // The newest week with an actual is "this week"; later weeks hold plans and forecasts.
    let newest = plan.values.iter().filter(|v| v.actual.is_some()).filter_map(|v| Period::parse(&v.period).ok()).max().map(|p| p.start());
    let weeks = match newest {
        Some(start) => (Period::week_of(today).start() - start).num_weeks(),
        None => 0,
    };
    shift(&mut plan, weeks);
    // The OS user becomes the demo's PMO administrator, unless they already appear in the demo.
    if !plan.people.iter().any(|p| p.login.as_deref() == Some(os_login)) {
        for person in plan.people.iter_mut().filter(|p| p.login.as_deref() == Some(DEMO_ADMIN_LOGIN)) {
            person.login = Some(os_login.to_string());
        }
        for v in plan.values.iter_mut().filter(|v| v.by == DEMO_ADMIN_LOGIN) {
            v.by = os_login.to_string();
        }
    }
    Ok(plan)
}

fn shift_stamp(s: &mut String, weeks: i64) {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        *s = (t + Duration::weeks(weeks)).to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
}

/// Move every date, period and timestamp of a plan by whole weeks.
pub fn shift(plan: &mut Plan, weeks: i64) {
    if weeks == 0 {
        return;
    }
    let d = Duration::weeks(weeks);
    for c in &mut plan.cycles {
        c.start += d;
        c.end += d;
    }
    for m in &mut plan.measures {
        for ms in &mut m.milestones {
            ms.due += d;
            ms.done = ms.done.map(|x| x + d);
        }
    }
    for v in &mut plan.values {
        if let Ok(p) = Period::parse(&v.period) {
            v.period = p.shift_weeks(weeks).to_string();
        }
        shift_stamp(&mut v.at, weeks);
    }
    for dec in &mut plan.decisions {
        shift_stamp(&mut dec.at, weeks);
    }
}

/// Create a demo database at `path` as of `today`, with `login` as its PMO administrator.
/// Tests use this to get the same demo, to the byte, on any day.
pub fn create_at(path: &std::path::Path, today: NaiveDate, login: &str) -> Result<crate::store::Store> {
    let mut store = crate::store::Store::create(path, true)?;
    store.set_clock(today);
    store.identify(Some(login))?;
    store.import_plan(plan(today, login)?)?;
    Ok(store)
}
