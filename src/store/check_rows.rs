//! `keel check` row by row: [`Store::check_each`] hands each row on as it is computed, so the
//! report is never held whole. Open escalations are read in pages of [`BATCH`] rows; measures are
//! computed in batches of [`BATCH`] in key order, and of each batch only what the key results and
//! objectives need later is folded (see `statuses::fold`), so memory grows with the objectives,
//! not with the measures.

use super::check::{owned_items, CheckRow, CheckSummary, FunnelRow, Gaps, LateMilestone, StaleItem, StatusItem, SETTINGS_EXIT};
use super::escalation_list::Scope;
use super::read::{self, EscalationFilter};
use super::statuses::Engine;
use super::{Result, Store};
use crate::domain::health;
use crate::domain::rollup;
use crate::domain::status::{ImplLevel, Rag};
use crate::domain::Num;
use crate::store::engine::DbResult;
use chrono::NaiveDate;

/// Measures computed at once: large enough that the per-batch queries are few, small enough that
/// a batch's statuses, milestones and values are a few megabytes.
pub const BATCH: usize = 20_000;

impl Store {
    /// Every row of `keel check`, handed to `row` as it is computed, then the summary.
    pub fn check_each(&self, row: impl FnMut(CheckRow) -> Result<()>) -> Result<CheckSummary> {
        self.check_each_batched(BATCH, row)
    }

    /// As [`Store::check_each`], computing `batch` measures at a time.
    pub fn check_each_batched(&self, batch: usize, mut row: impl FnMut(CheckRow) -> Result<()>) -> Result<CheckSummary> {
        // Every batch from one snapshot: an edit committed meanwhile is wholly in or wholly out.
        self.read_snapshot(|| self.all_statuses(|e| self.check_rows(e, batch.max(1), &mut row)))
    }

    fn check_rows(&self, e: &mut Engine, size: usize, row: &mut dyn FnMut(CheckRow) -> Result<()>) -> Result<CheckSummary> {
        let c = self.conn();
        let clock = self.clock();
        // Open escalations a page at a time, by keyset on the list's own order (its index).
        let mut page = Scope::First(size);
        loop {
            let rows = self.escalation_page(&EscalationFilter::default(), page)?;
            let full = rows.len() == size;
            let mut last = None;
            for (rank, x) in rows {
                row(CheckRow::Escalation(&x))?;
                last = Some(rank);
            }
            match last {
                Some(rank) if full => page = Scope::After(rank, size),
                _ => break,
            }
        }
        // Kept by the write path (see `kept::escalations`).
        let by_tier = super::kept::escalations::by_tier(c)?;
        let exit_code = crate::domain::escalation::check_exit_code(by_tier);
        self.measures_in_batches(e, size, row)?;
        e.measures_done();
        {
            let mut s = c.prepare(&format!(
                "SELECT i.key, ms.title, ms.due_date, p.name FROM milestones ms JOIN measures m ON m.id = ms.measure_id JOIN items i ON i.id = m.id AND i.retired_at IS NULL
                 LEFT JOIN people p ON p.id = m.owner_id
                 WHERE {} ORDER BY ms.due_date, i.num",
                super::check::late_milestone("?1")
            ))?;
            let mut rows = s.query([clock.today.to_string()])?;
            while let Some(r) = rows.next()? {
                let x = (|| -> DbResult<_> {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
                })();
                let Ok((key, milestone, due, owner)) = x else { continue };
                let days = NaiveDate::parse_from_str(&due, "%Y-%m-%d").map(|d| (clock.today - d).num_days()).unwrap_or(0);
                row(CheckRow::LateMilestone(&LateMilestone { key, milestone, due, days_overdue: days, owner }))?;
            }
        }
        // Key results and objectives: at risk, and manual green over bad work.
        let krs = owned_items(c, "key_results")?;
        e.load_krs(&[])?;
        for (id, key, title, owner, owner_login) in krs {
            let s = e.kr(id)?;
            if s.stale {
                // A key result's cadence is weekly (DOMAIN: "a key result's defaults to weekly").
                let cadence = crate::domain::Cadence::Weekly.as_str().into();
                let (last_update, days_since_update) = (s.last_update.clone(), s.days_since_update);
                let x = StaleItem { key: key.clone(), title: title.clone(), owner, owner_login, cadence, last_update, days_since_update };
                row(CheckRow::Stale(&x))?;
            }
            if !s.at_risk.is_empty() {
                let x = StatusItem { key: key.clone(), title: title.clone(), status: "at risk".into(), detail: s.at_risk.join(", ") };
                row(CheckRow::AtRisk(&x))?;
            }
            if s.shown.green_without_explanation {
                let x = StatusItem {
                    key,
                    title,
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the numbers say {}", s.shown.computed.label()),
                };
                row(CheckRow::Unexplained(&x))?;
            }
        }
        let folded = e.memo.folded.take().unwrap_or_default();
        let facts = super::facts::objective_facts(c, &folded.served)?;
        let bottom_up = folded.bottom_up;
        let mut objective_targets = Vec::new();
        for (id, f) in &facts {
            let s = e.objective(*id)?;
            if s.shown.green_without_explanation {
                let x = StatusItem {
                    key: f.health.key.clone(),
                    title: f.health.title.clone(),
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the work underneath is {}", s.shown.computed.label()),
                };
                row(CheckRow::Unexplained(&x))?;
            }
            if let Some(target) = f.target {
                let bu = bottom_up.get(id).copied().unwrap_or_default();
                if let Ok(g) = rollup::target_gap(target, bu.forecast) {
                    objective_targets.push((f.health.key.clone(), g));
                }
            }
        }
        drop(bottom_up);
        let only: Vec<health::ObjectiveFacts> = facts.into_iter().map(|(_, f)| f.health).collect();
        let (settings, settings_errors) = self.settings()?;
        let ceiling = settings.cascade_ceiling;
        let alignment = super::check::Alignment::of(&only, ceiling, self.cascade_trend()?);
        for o in only.iter().filter(|o| health::outcome_only(o)) {
            row(CheckRow::OutcomeOnly(&o.key))?;
        }
        {
            let mut s = c.prepare(
                "SELECT i.key FROM kpis k JOIN items i ON i.id = k.id AND i.retired_at IS NULL
                 WHERE NOT EXISTS (SELECT 1 FROM links WHERE from_id = k.id) AND NOT EXISTS (SELECT 1 FROM links WHERE to_id = k.id) ORDER BY i.num",
            )?;
            let mut rows = s.query([])?;
            while let Some(r) = rows.next()? {
                let key: String = r.get(0)?;
                row(CheckRow::IsolatedKpi(&key))?;
            }
        }
        let kpis = owned_items(c, "kpis")?;
        e.load_kpis(&[])?;
        for (id, key, title, owner, owner_login) in kpis {
            let s = e.kpi(id)?;
            if s.stale {
                let (cadence, last_update, days_since_update) = (s.cadence.as_str().into(), s.last_update.clone(), s.days_since_update);
                let x = StaleItem { key: key.clone(), title, owner, owner_login, cadence, last_update, days_since_update };
                row(CheckRow::Stale(&x))?;
            }
            if !s.missing.is_empty() {
                row(CheckRow::IncompleteKpi(&Gaps { key, missing: s.missing }))?;
            }
        }
        for o in only.iter().filter(|o| !o.has_children) {
            let g = Gaps { key: o.key.clone(), missing: health::executability_gaps(o) };
            if !g.missing.is_empty() {
                row(CheckRow::NotExecutable(&g))?;
            }
        }
        drop(only);
        let nodes: Vec<(i64, String, String, Option<String>)> = {
            let mut s = c.prepare("SELECT n.id, i.key, n.title, n.target FROM nodes n JOIN items i ON i.id = n.id AND i.retired_at IS NULL WHERE n.kind IN ('portfolio', 'programme') ORDER BY i.kind DESC, i.num")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            r.collect::<DbResult<_>>()?
        };
        for (id, key, title, target) in nodes {
            let by_stage = read::node_funnel(c, id)?;
            let total = read::node_total(c, id)?;
            let target_gap = target.and_then(|s| Num::parse(&s).ok()).and_then(|t| rollup::target_gap(t, total.forecast).ok());
            row(CheckRow::Funnel(&FunnelRow { key, title, by_stage, total, target_gap }))?;
        }
        for x in &objective_targets {
            row(CheckRow::ObjectiveTarget(x))?;
        }
        Ok(CheckSummary {
            today: clock.today.to_string(),
            escalations_by_tier: by_tier,
            alignment,
            exit_code: if settings_errors.is_empty() { exit_code } else { SETTINGS_EXIT },
            settings_errors,
        })
    }

    /// Every measure, `size` at a time in key order: each batch read by keyset on the key's
    /// number (no cursor stays open while a batch is computed, and a server's client, which
    /// reads a whole result at once, holds one batch), its rows handed on, and folded.
    pub(crate) fn measures_in_batches(&self, e: &mut Engine, size: usize, row: &mut dyn FnMut(CheckRow) -> Result<()>) -> Result<()> {
        let mut batch: Vec<(i64, String, String, Option<String>, Option<String>, bool)> = Vec::with_capacity(size.min(BATCH));
        let mut after = 0i64;
        // Retired measures too (skipped below), as a whole-file computation counts their plans.
        let mut list = self.conn().prepare(
            "SELECT m.id, i.key, m.title, p.name, p.login, i.retired_at IS NULL, i.num FROM items i JOIN measures m ON m.id = i.id
             LEFT JOIN people p ON p.id = m.owner_id WHERE i.kind = 'measure' AND i.num > ?1 ORDER BY i.num LIMIT ?2",
        )?;
        loop {
            {
                let mut rows = list.query(crate::store::engine::params![after, size as i64])?;
                while let Some(r) = rows.next()? {
                    batch.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?));
                    after = r.get(6)?;
                }
            }
            let full = batch.len() == size;
            self.measure_batch(e, &mut batch, row)?;
            if !full {
                return Ok(());
            }
        }
    }

    /// One batch of measures (key order): their statuses computed together, their rows handed
    /// on, what key results and objectives need of them folded, and their statuses forgotten.
    #[allow(clippy::type_complexity)]
    fn measure_batch(
        &self,
        e: &mut Engine,
        batch: &mut Vec<(i64, String, String, Option<String>, Option<String>, bool)>,
        row: &mut dyn FnMut(CheckRow) -> Result<()>,
    ) -> Result<()> {
        let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
        e.all = false;
        let loaded = e.load_measures(&ids);
        e.all = true;
        loaded?;
        let served: Vec<(i64, &str, bool)> = batch.iter().map(|b| (b.0, b.1.as_str(), b.5)).collect();
        e.fold_served(&served)?;
        drop(served);
        for (id, key, title, owner, login, live) in batch.drain(..) {
            if !live {
                continue;
            }
            let ms = e.measure_ref(id)?;
            if ms.side_state.is_some() {
                continue;
            }
            if ms.stale {
                let x = StaleItem {
                    key: key.clone(),
                    title: title.clone(),
                    owner,
                    owner_login: login,
                    cadence: ms.cadence.as_str().into(),
                    last_update: ms.last_update.clone(),
                    days_since_update: ms.days_since_update,
                };
                row(CheckRow::Stale(&x))?;
            }
            if ms.implementation.level != ImplLevel::OnTrack {
                let x = StatusItem {
                    key: key.clone(),
                    title: title.clone(),
                    status: ms.implementation.level.label().into(),
                    detail: ms.implementation.detail.clone(),
                };
                row(CheckRow::Implementation(&x))?;
            }
            if matches!(ms.potential, Rag::Amber | Rag::Red) {
                let detail = format!("forecast {} against plan {}", ms.money.forecast.grouped(), ms.money.planned.grouped());
                row(CheckRow::Potential(&StatusItem { key, title, status: ms.potential.label().into(), detail }))?;
            }
        }
        e.forget_measures();
        Ok(())
    }
}

#[cfg(test)]
impl Store {
    /// The objectives' health facts and bottom-up values as `keel check` folds them, `batch`
    /// measures at a time (tests compare them with the per-objective figures).
    pub(crate) fn folded_objective_facts(
        &self,
        batch: usize,
    ) -> Result<(Vec<(i64, health::ObjectiveFacts)>, std::collections::HashMap<i64, crate::domain::rollup::Money>)> {
        self.all_statuses(|e| {
            self.measures_in_batches(e, batch, &mut |_| Ok(()))?;
            let folded = e.memo.folded.take().unwrap_or_default();
            let facts = super::facts::objective_facts(self.conn(), &folded.served)?;
            Ok((facts.into_iter().map(|(id, f)| (id, f.health)).collect(), folded.bottom_up))
        })
    }
}
