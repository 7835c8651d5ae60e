//! `keel check`: every status, escalation, roll-up and health check of the file in one read
//! model, which the CLI prints, reports render and the TUI's lists draw from.
//!
//! It reads the file in a few bulk queries (see `statuses` and `facts`) and computes every status
//! with the same domain functions as the per-item read models; `check_ref` keeps the per-item
//! version for the tests that prove both give the same report.

use super::read::{self, EscalationFilter, EscalationRow};
use super::statuses::Engine;
use super::{Result, Store};
use crate::domain::health;
use crate::domain::rollup::{self, Money, TargetGap};
use crate::domain::settings::SettingProblem;
use crate::domain::status::{ImplLevel, Rag};
use crate::domain::{Num, Period, Stage};
use crate::store::engine::{Db, DbResult};
use chrono::{Datelike, Duration, NaiveDate};

/// Which milestones are late, for every list that shows them (`ms` a milestone of the measure
/// `m`, `today` the placeholder of today's date): open, due before today, and the measure neither
/// stopped nor on hold — its work is not expected to move.
pub(crate) fn late_milestone(today: &str) -> String {
    format!("ms.done_date IS NULL AND ms.due_date < {today} AND m.side_state IS NULL")
}
use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, Serialize)]
pub struct StaleItem {
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    pub owner_login: Option<String>,
    pub cadence: String,
    pub last_update: Option<String>,
    pub days_since_update: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LateMilestone {
    pub key: String,
    pub milestone: String,
    pub due: String,
    pub days_overdue: i64,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusItem {
    pub key: String,
    pub title: String,
    pub status: String,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Alignment {
    pub objectives: usize,
    pub cascaded: usize,
    pub cascade_share: Option<Num>,
    pub ceiling: Option<Num>,
    pub above_ceiling: bool,
    /// Share cascaded at the end of each week of the current cycle so far.
    pub trend: Vec<(String, Num)>,
    pub orphans: Vec<String>,
    pub cross_functional: Vec<String>,
    pub likely_duplicates: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FunnelRow {
    pub key: String,
    pub title: String,
    pub by_stage: Vec<(Stage, Money)>,
    pub total: Money,
    pub target_gap: Option<TargetGap>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Gaps {
    pub key: String,
    pub missing: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub today: String,
    pub escalations: Vec<EscalationRow>,
    pub escalations_by_tier: [usize; 3],
    pub stale: Vec<StaleItem>,
    pub late_milestones: Vec<LateMilestone>,
    pub implementation: Vec<StatusItem>,
    pub potential: Vec<StatusItem>,
    pub at_risk_key_results: Vec<StatusItem>,
    pub green_without_explanation: Vec<StatusItem>,
    pub alignment: Alignment,
    pub outcome_only_objectives: Vec<String>,
    pub isolated_kpis: Vec<String>,
    pub incomplete_kpis: Vec<Gaps>,
    pub not_executable: Vec<Gaps>,
    pub funnel: Vec<FunnelRow>,
    pub objective_targets: Vec<(String, TargetGap)>,
    /// Stored settings that are bad (their defaults are in use until they are fixed).
    pub settings_errors: Vec<SettingProblem>,
    /// 0 nothing open, 1 owner or sponsor items open, 2 a steering committee item open,
    /// [`SETTINGS_EXIT`] a setting is bad (whatever is open).
    pub exit_code: i32,
}

/// `keel check`'s exit code while a stored setting is bad: EX_CONFIG, a configuration error.
pub const SETTINGS_EXIT: i32 = 78;

/// Every key result or KPI (`table`) in key order: id, key, title, owner's name and login.
pub(crate) fn owned_items(c: &Db, table: &str) -> Result<Vec<(i64, String, String, Option<String>, Option<String>)>> {
    let mut s = c.prepare(&format!(
        "SELECT t.id, i.key, t.title, p.name, p.login FROM {table} t JOIN items i ON i.id = t.id AND i.retired_at IS NULL
         LEFT JOIN people p ON p.id = t.owner_id ORDER BY i.num"
    ))?;
    let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
    Ok(r.collect::<DbResult<_>>()?)
}

impl Store {
    pub fn check(&self) -> Result<CheckReport> {
        self.all_statuses(|e| self.check_with(e))
    }

    fn check_with(&self, e: &mut Engine) -> Result<CheckReport> {
        let c = self.conn();
        let clock = self.clock();
        let escalations = read::escalations(c, clock, &EscalationFilter::default())?;
        // Kept by the write path (see `kept::escalations`).
        let by_tier = super::kept::escalations::by_tier(c)?;
        let exit_code = if by_tier[2] > 0 {
            2
        } else if by_tier[0] + by_tier[1] > 0 {
            1
        } else {
            0
        };

        let mut stale = Vec::new();
        let mut implementation = Vec::new();
        let mut potential = Vec::new();
        e.load_measures(&[])?;
        // Streamed, not collected: at 100,000 measures the list alone would be tens of megabytes.
        let mut list = c.prepare(
            "SELECT m.id, i.key, m.title, p.name, p.login FROM measures m JOIN items i ON i.id = m.id AND i.retired_at IS NULL LEFT JOIN people p ON p.id = m.owner_id ORDER BY i.num",
        )?;
        let mut rows = list.query([])?;
        while let Some(r) = rows.next()? {
            let (id, key, title, owner, login): (i64, String, String, Option<String>, Option<String>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            let ms = e.measure_ref(id)?;
            if ms.side_state.is_some() {
                continue;
            }
            if ms.stale {
                stale.push(StaleItem {
                    key: key.clone(),
                    title: title.clone(),
                    owner,
                    owner_login: login,
                    cadence: ms.cadence.as_str().into(),
                    last_update: ms.last_update.clone(),
                    days_since_update: ms.days_since_update,
                });
            }
            if ms.implementation.level != ImplLevel::OnTrack {
                implementation.push(StatusItem {
                    key: key.clone(),
                    title: title.clone(),
                    status: ms.implementation.level.label().into(),
                    detail: ms.implementation.detail.clone(),
                });
            }
            if matches!(ms.potential, Rag::Amber | Rag::Red) {
                let detail = format!("forecast {} against plan {}", ms.money.forecast.grouped(), ms.money.planned.grouped());
                potential.push(StatusItem { key, title, status: ms.potential.label().into(), detail });
            }
        }
        drop(rows);
        drop(list);
        let late_milestones: Vec<LateMilestone> = {
            let mut s = c.prepare(&format!(
                "SELECT i.key, ms.title, ms.due_date, p.name FROM milestones ms JOIN measures m ON m.id = ms.measure_id JOIN items i ON i.id = m.id AND i.retired_at IS NULL
                 LEFT JOIN people p ON p.id = m.owner_id
                 WHERE {} ORDER BY ms.due_date, i.num",
                late_milestone("?1")
            ))?;
            let r = s.query_map([clock.today.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
            })?;
            r.filter_map(|x| x.ok())
                .map(|(key, milestone, due, owner)| {
                    let days = NaiveDate::parse_from_str(&due, "%Y-%m-%d").map(|d| (clock.today - d).num_days()).unwrap_or(0);
                    LateMilestone { key, milestone, due, days_overdue: days, owner }
                })
                .collect()
        };
        // Key results and objectives: at risk, and manual green over bad work.
        let mut at_risk = Vec::new();
        let mut unexplained = Vec::new();
        let krs = owned_items(c, "key_results")?;
        e.load_krs(&[])?;
        for (id, key, title, owner, owner_login) in krs {
            let s = e.kr(id)?;
            if s.stale {
                // A key result's cadence is weekly (DOMAIN: "a key result's defaults to weekly").
                let cadence = crate::domain::Cadence::Weekly.as_str().into();
                let (last_update, days_since_update) = (s.last_update.clone(), s.days_since_update);
                stale.push(StaleItem {
                    key: key.clone(),
                    title: title.clone(),
                    owner,
                    owner_login,
                    cadence,
                    last_update,
                    days_since_update,
                });
            }
            if !s.at_risk.is_empty() {
                at_risk.push(StatusItem { key: key.clone(), title: title.clone(), status: "at risk".into(), detail: s.at_risk.join(", ") });
            }
            if s.shown.green_without_explanation {
                unexplained.push(StatusItem {
                    key,
                    title,
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the numbers say {}", s.shown.computed.label()),
                });
            }
        }
        let facts = super::facts::objective_facts(c, &e.memo.planned_values)?;
        let bottom_up = super::facts::bottom_up(c, facts.iter().filter(|(_, f)| f.target.is_some()).map(|(id, _)| *id))?;
        let mut objective_targets = Vec::new();
        for (id, f) in &facts {
            let s = e.objective(*id)?;
            if s.shown.green_without_explanation {
                unexplained.push(StatusItem {
                    key: f.health.key.clone(),
                    title: f.health.title.clone(),
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the work underneath is {}", s.shown.computed.label()),
                });
            }
            if let Some(target) = f.target {
                let bu = bottom_up.get(id).copied().unwrap_or_default();
                if let Ok(g) = rollup::target_gap(target, bu.forecast) {
                    objective_targets.push((f.health.key.clone(), g));
                }
            }
        }
        let only: Vec<health::ObjectiveFacts> = facts.into_iter().map(|(_, f)| f.health).collect();
        let (settings, settings_errors) = self.settings()?;
        let ceiling = settings.cascade_ceiling;
        let share = health::cascade_share(&only);
        let alignment = Alignment {
            objectives: only.len(),
            cascaded: only.iter().filter(|o| o.has_parent).count(),
            cascade_share: share,
            ceiling,
            above_ceiling: matches!((share, ceiling), (Some(s), Some(c)) if s > c),
            trend: self.cascade_trend()?,
            orphans: only.iter().filter(|o| health::is_orphan(o)).map(|o| o.key.clone()).collect(),
            cross_functional: only.iter().filter(|o| o.units.len() > 1).map(|o| o.key.clone()).collect(),
            likely_duplicates: health::likely_duplicates(&only, 0.5).into_iter().map(|(a, b, _)| (a, b)).collect(),
        };
        let outcome_only = only.iter().filter(|o| health::outcome_only(o)).map(|o| o.key.clone()).collect();
        let not_executable = only
            .iter()
            .filter(|o| !o.has_children)
            .map(|o| Gaps { key: o.key.clone(), missing: health::executability_gaps(o) })
            .filter(|g| !g.missing.is_empty())
            .collect();
        let isolated_kpis: Vec<String> = {
            let mut s = c.prepare(
                "SELECT i.key FROM kpis k JOIN items i ON i.id = k.id AND i.retired_at IS NULL
                 WHERE NOT EXISTS (SELECT 1 FROM links WHERE from_id = k.id) AND NOT EXISTS (SELECT 1 FROM links WHERE to_id = k.id) ORDER BY i.num",
            )?;
            let r = s.query_map([], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        let mut incomplete_kpis = Vec::new();
        let kpis = owned_items(c, "kpis")?;
        e.load_kpis(&[])?;
        for (id, key, title, owner, owner_login) in kpis {
            let s = e.kpi(id)?;
            if s.stale {
                let (cadence, last_update, days_since_update) = (s.cadence.as_str().into(), s.last_update.clone(), s.days_since_update);
                stale.push(StaleItem { key: key.clone(), title, owner, owner_login, cadence, last_update, days_since_update });
            }
            if !s.missing.is_empty() {
                incomplete_kpis.push(Gaps { key, missing: s.missing });
            }
        }
        let mut funnel = Vec::new();
        let nodes: Vec<(i64, String, String, Option<String>)> = {
            let mut s = c.prepare("SELECT n.id, i.key, n.title, n.target FROM nodes n JOIN items i ON i.id = n.id AND i.retired_at IS NULL WHERE n.kind IN ('portfolio', 'programme') ORDER BY i.kind DESC, i.num")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            r.collect::<DbResult<_>>()?
        };
        for (id, key, title, target) in nodes {
            let by_stage = read::node_funnel(c, id)?;
            let total = read::node_total(c, id)?;
            let target_gap = target.and_then(|s| Num::parse(&s).ok()).and_then(|t| rollup::target_gap(t, total.forecast).ok());
            funnel.push(FunnelRow { key, title, by_stage, total, target_gap });
        }
        Ok(CheckReport {
            today: clock.today.to_string(),
            escalations,
            escalations_by_tier: by_tier,
            stale,
            late_milestones,
            implementation,
            potential,
            at_risk_key_results: at_risk,
            green_without_explanation: unexplained,
            alignment,
            outcome_only_objectives: outcome_only,
            isolated_kpis,
            incomplete_kpis,
            not_executable,
            funnel,
            objective_targets,
            exit_code: if settings_errors.is_empty() { exit_code } else { SETTINGS_EXIT },
            settings_errors,
        })
    }

    /// The cascade share at the end of each week of the current cycle so far, replayed from the
    /// audit log (objective creations and parent changes), so the PMO can watch it over the cycle.
    fn cascade_trend(&self) -> Result<Vec<(String, Num)>> {
        let c = self.conn();
        let today = self.clock().today;
        let cycle: Option<(String, String)> = c
            .query_row(
                "SELECT start_date, end_date FROM cycles WHERE start_date <= ?1 ORDER BY start_date DESC LIMIT 1",
                [today.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let Some((start, end)) = cycle else { return Ok(vec![]) };
        let (Ok(start), Ok(end)) = (NaiveDate::parse_from_str(&start, "%Y-%m-%d"), NaiveDate::parse_from_str(&end, "%Y-%m-%d")) else {
            return Ok(vec![]);
        };
        // Current parent of each objective, and its history of changes.
        let current: Vec<(String, bool)> = {
            let mut s =
                c.prepare("SELECT i.key, o.parent_id IS NOT NULL FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            r.collect::<DbResult<_>>()?
        };
        // Keys are upper case, so the range 'O-' ≤ key < 'O.' is exactly LIKE 'O-%', and it
        // reads only objectives' rows through the audit_item index.
        let mut created: HashMap<String, String> = HashMap::new();
        let mut parents: HashMap<String, Vec<(String, bool)>> = HashMap::new();
        {
            let mut s = c.prepare(
                "SELECT item_key, field, at, old_value IS NOT NULL FROM audit
                 WHERE item_key >= 'O-' AND item_key < 'O.' AND field IN ('created', 'parent') ORDER BY seq",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let (key, field, at): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                if field == "created" {
                    created.entry(key).or_insert(at);
                } else {
                    parents.entry(key).or_default().push((at, r.get(3)?));
                }
            }
        }
        let mut out = Vec::new();
        let mut week_end = start + Duration::days((6 - start.weekday().num_days_from_monday()) as i64);
        let last = today.min(end);
        while week_end <= last + Duration::days(6) {
            let cutoff = format!("{}T23:59:59Z", week_end.min(last));
            let mut total = 0;
            let mut cascaded = 0;
            for (key, has_parent_now) in &current {
                if created.get(key).is_some_and(|at| at > &cutoff) {
                    continue;
                }
                total += 1;
                // The parent at the cutoff is the old value of the first change after it.
                let later = parents.get(key).and_then(|p| p.iter().find(|(at, _)| at > &cutoff));
                let had_parent = match later {
                    Some((_, had)) => *had,
                    None => *has_parent_now,
                };
                if had_parent {
                    cascaded += 1;
                }
            }
            if let Some(share) = Num::from_int(cascaded).ratio(Num::from_int(total)) {
                out.push((Period::week_of(week_end).to_string(), share.round_dp(2)));
            }
            week_end += Duration::days(7);
        }
        Ok(out)
    }
}
