//! `keel check`: every status, escalation, roll-up and health check of the file in one read
//! model, which the CLI prints, reports render and the TUI's lists draw from.
//!
//! It reads the file in a few bulk queries (see `statuses` and `facts`) and computes every status
//! with the same domain functions as the per-item read models; `check_ref` keeps the per-item
//! version for the tests that prove both give the same report.

use super::read::EscalationRow;
use super::{Result, Store};
use crate::domain::health;
use crate::domain::rollup::{Money, TargetGap};
use crate::domain::settings::SettingProblem;
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

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct StaleItem {
    pub key: String,
    pub title: String,
    pub owner: Option<String>,
    pub owner_login: Option<String>,
    pub cadence: String,
    pub last_update: Option<String>,
    pub days_since_update: Option<i64>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LateMilestone {
    pub key: String,
    pub milestone: String,
    pub due: String,
    pub days_overdue: i64,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct StatusItem {
    pub key: String,
    pub title: String,
    pub status: String,
    pub detail: String,
}

#[derive(Clone, Debug, Default, Serialize)]
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

impl Alignment {
    /// The alignment health of the objectives `facts`, against the cascade `ceiling` in force,
    /// with the share's `trend` over the cycle: one reckoning for the check and its reference.
    pub(crate) fn of(facts: &[health::ObjectiveFacts], ceiling: Option<Num>, trend: Vec<(String, Num)>) -> Alignment {
        let share = health::cascade_share(facts);
        Alignment {
            objectives: facts.len(),
            cascaded: facts.iter().filter(|o| o.has_parent).count(),
            cascade_share: share,
            ceiling,
            above_ceiling: matches!((share, ceiling), (Some(s), Some(c)) if s > c),
            trend,
            orphans: facts.iter().filter(|o| health::is_orphan(o)).map(|o| o.key.clone()).collect(),
            cross_functional: facts.iter().filter(|o| o.units.len() > 1).map(|o| o.key.clone()).collect(),
            likely_duplicates: health::likely_duplicates(facts, 0.5).into_iter().map(|(a, b, _)| (a, b)).collect(),
        }
    }
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

/// One row of `keel check`, as it is computed (see [`Store::check_each`]); rows of one list come
/// in the list's order, lists may interleave (stale rows come from measures, key results, KPIs).
pub enum CheckRow<'a> {
    Escalation(&'a EscalationRow),
    Stale(&'a StaleItem),
    LateMilestone(&'a LateMilestone),
    Implementation(&'a StatusItem),
    Potential(&'a StatusItem),
    AtRisk(&'a StatusItem),
    Unexplained(&'a StatusItem),
    OutcomeOnly(&'a str),
    IsolatedKpi(&'a str),
    IncompleteKpi(&'a Gaps),
    NotExecutable(&'a Gaps),
    Funnel(&'a FunnelRow),
    ObjectiveTarget(&'a (String, TargetGap)),
}

/// What `keel check` says once over the whole file, beside its lists (all small).
#[derive(Clone, Debug)]
pub struct CheckSummary {
    pub today: String,
    pub escalations_by_tier: [usize; 3],
    pub alignment: Alignment,
    pub settings_errors: Vec<SettingProblem>,
    pub exit_code: i32,
}

impl CheckReport {
    /// Keep a row of one of the short lists (they grow with the objectives and KPIs, not the
    /// measures). The five long lists' rows are the caller's to keep: in memory here, spilled to
    /// files in a report (`report::check_lists`).
    pub(crate) fn keep_short(&mut self, row: CheckRow) {
        match row {
            CheckRow::AtRisk(x) => self.at_risk_key_results.push(x.clone()),
            CheckRow::Unexplained(x) => self.green_without_explanation.push(x.clone()),
            CheckRow::OutcomeOnly(x) => self.outcome_only_objectives.push(x.to_string()),
            CheckRow::IsolatedKpi(x) => self.isolated_kpis.push(x.to_string()),
            CheckRow::IncompleteKpi(x) => self.incomplete_kpis.push(x.clone()),
            CheckRow::NotExecutable(x) => self.not_executable.push(x.clone()),
            CheckRow::Funnel(x) => self.funnel.push(x.clone()),
            CheckRow::ObjectiveTarget(x) => self.objective_targets.push(x.clone()),
            CheckRow::Escalation(_)
            | CheckRow::Stale(_)
            | CheckRow::LateMilestone(_)
            | CheckRow::Implementation(_)
            | CheckRow::Potential(_) => {}
        }
    }

    /// A report with nothing in it, to fill.
    pub(crate) fn empty() -> CheckReport {
        CheckReport {
            today: String::new(),
            escalations: vec![],
            escalations_by_tier: [0; 3],
            stale: vec![],
            late_milestones: vec![],
            implementation: vec![],
            potential: vec![],
            at_risk_key_results: vec![],
            green_without_explanation: vec![],
            alignment: Alignment::default(),
            outcome_only_objectives: vec![],
            isolated_kpis: vec![],
            incomplete_kpis: vec![],
            not_executable: vec![],
            funnel: vec![],
            objective_targets: vec![],
            settings_errors: vec![],
            exit_code: 0,
        }
    }
}

impl Store {
    /// The whole report in memory, for the callers that want it whole (reports, digests, tests);
    /// `keel check` itself streams through [`Store::check_each`].
    pub fn check(&self) -> Result<CheckReport> {
        self.check_batched(super::CHECK_BATCH)
    }

    /// As [`Store::check`], computing `batch` measures at a time.
    pub(crate) fn check_batched(&self, batch: usize) -> Result<CheckReport> {
        let mut r = CheckReport::empty();
        let summary = self.check_each_batched(batch, |row| {
            match row {
                CheckRow::Escalation(x) => r.escalations.push(x.clone()),
                CheckRow::Stale(x) => r.stale.push(x.clone()),
                CheckRow::LateMilestone(x) => r.late_milestones.push(x.clone()),
                CheckRow::Implementation(x) => r.implementation.push(x.clone()),
                CheckRow::Potential(x) => r.potential.push(x.clone()),
                short => r.keep_short(short),
            }
            Ok(())
        })?;
        r.today = summary.today;
        r.escalations_by_tier = summary.escalations_by_tier;
        r.alignment = summary.alignment;
        r.settings_errors = summary.settings_errors;
        r.exit_code = summary.exit_code;
        Ok(r)
    }

    /// The cascade share at the end of each week of the current cycle so far, replayed from the
    /// audit log (objective creations and parent changes), so the PMO can watch it over the cycle.
    pub(crate) fn cascade_trend(&self) -> Result<Vec<(String, Num)>> {
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
