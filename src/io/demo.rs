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

/// The demo as of 2026-11-26 in a temporary folder (removed with the `TempDir`), `pmo` its PMO
/// administrator: what the library's tests compare against.
#[cfg(test)]
pub fn in_temp_dir() -> (tempfile::TempDir, crate::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let store = create_at(&dir.path().join("demo.keel"), today, "pmo").unwrap();
    (dir, store)
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

/// Who is who in a demo file: each person with a login, their name and what they do, so a
/// newcomer can try a role with `KEEL_USER=LOGIN` (honoured on demo files only).
pub fn who_is_who(plan: &Plan, db: &std::path::Path) -> String {
    let count = |n: usize, what: &str| match n {
        0 => None,
        1 => Some(format!("1 {what}")),
        n => Some(format!("{n} {what}s")),
    };
    let mut rows = Vec::new();
    for p in &plan.people {
        let Some(login) = &p.login else { continue };
        let me = Some(p.key.as_str());
        let mut roles: Vec<String> = Vec::new();
        if p.pmo_admin {
            roles.push("PMO administrator".into());
        }
        let owned = [
            count(plan.objectives.iter().filter(|o| o.owner.as_deref() == me).count(), "objective"),
            count(plan.key_results.iter().filter(|k| k.owner.as_deref() == me).count(), "key result"),
            count(plan.kpis.iter().filter(|k| k.owner.as_deref() == me).count(), "KPI"),
            count(plan.measures.iter().filter(|m| m.owner.as_deref() == me).count(), "measure"),
        ];
        let owned: Vec<String> = owned.into_iter().flatten().collect();
        if !owned.is_empty() {
            roles.push(format!("owns {}", owned.join(", ")));
        }
        if let Some(n) = count(plan.measures.iter().filter(|m| m.sponsor.as_deref() == me).count(), "measure") {
            roles.push(format!("sponsors {n}"));
        }
        if let Some(n) = count(plan.measures.iter().filter(|m| m.controller.as_deref() == me).count(), "measure") {
            roles.push(format!("controller of {n}"));
        }
        if let Some(u) = p.unit.as_deref().and_then(|u| plan.units.iter().find(|x| x.key == u)) {
            roles.push(format!("in {} {}", u.key, u.name));
        }
        if roles.is_empty() {
            roles.push("no items of their own".into());
        }
        rows.push((
            super::text::printable(login.clone()),
            super::text::printable(p.name.clone()),
            super::text::printable(roles.join("; ")),
        ));
    }
    let login_w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(5).max(5);
    let name_w = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(4).max(4);
    let mut out = format!("who is who — try a role with: KEEL_USER=LOGIN keel --db {}\n", super::text::printable(db.display().to_string()));
    out.push_str(&format!("  {:<login_w$}  {:<name_w$}  roles\n", "login", "name"));
    for (login, name, roles) in rows {
        out.push_str(&format!("  {login:<login_w$}  {name:<name_w$}  {roles}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_says_who_is_who() {
        let plan = plan(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(), "tester").unwrap();
        let text = who_is_who(&plan, std::path::Path::new("/tmp/demo.keel"));
        assert!(text.contains("KEEL_USER=LOGIN keel --db /tmp/demo.keel"), "{text}");
        let amara = text.lines().find(|l| l.trim_start().starts_with("amara ")).expect("amara is listed");
        assert!(amara.contains("Amara Okafor") && amara.contains("owns") && amara.contains("sponsors"), "{amara}");
        let admin = text.lines().find(|l| l.trim_start().starts_with("tester ")).expect("the OS user is the PMO administrator");
        assert!(admin.contains("PMO administrator"), "{admin}");
    }
}
