//! The reference `keel check`: every status from the per-item read models, a few queries per
//! item. Kept (for tests only) to prove that the bulk `Store::check` gives identical reports.

use super::check::*;
use super::read::{self, EscalationFilter};
use super::reference;
use super::{Result, Store};
use crate::domain::health;
use crate::domain::rollup;
use crate::domain::status::{ImplLevel, Rag};
use crate::domain::{Num, Period};
use crate::store::engine::DbResult;
use chrono::{Datelike, Duration, NaiveDate};

impl Store {
    pub(crate) fn check_per_item(&self) -> Result<CheckReport> {
        let c = self.conn();
        let clock = self.clock();
        let t = self.thresholds()?;
        let escalations = read::escalations(c, clock, &EscalationFilter::default())?;
        let mut by_tier = [0usize; 3];
        for e in &escalations {
            by_tier[(e.tier - 1).clamp(0, 2) as usize] += 1;
        }
        let exit_code = crate::domain::escalation::check_exit_code(by_tier);

        let mut stale = Vec::new();
        let mut implementation = Vec::new();
        let mut potential = Vec::new();
        let measures: Vec<(i64, String, String, Option<String>, Option<String>)> = {
            let mut s = c.prepare(
                "SELECT m.id, i.key, m.title, p.name, p.login FROM measures m JOIN items i ON i.id = m.id LEFT JOIN people p ON p.id = m.owner_id ORDER BY i.num",
            )?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            r.collect::<DbResult<_>>()?
        };
        for (id, key, title, owner, login) in &measures {
            let ms = reference::measure_status(c, *id, clock, &t)?;
            if ms.side_state.is_some() {
                continue;
            }
            if ms.stale {
                stale.push(StaleItem {
                    key: key.clone(),
                    title: title.clone(),
                    owner: owner.clone(),
                    owner_login: login.clone(),
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
                potential.push(StatusItem { key: key.clone(), title: title.clone(), status: ms.potential.label().into(), detail });
            }
        }
        let late_milestones: Vec<LateMilestone> = {
            let mut s = c.prepare(
                "SELECT i.key, ms.title, ms.due_date, p.name FROM milestones ms JOIN measures m ON m.id = ms.measure_id JOIN items i ON i.id = m.id
                 LEFT JOIN people p ON p.id = m.owner_id
                 WHERE ms.done_date IS NULL AND ms.due_date < ?1 AND m.side_state IS NULL ORDER BY ms.due_date, i.num",
            )?;
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
        let krs = super::check::owned_items(c, "key_results")?;
        for (id, key, title, owner, owner_login) in &krs {
            let s = reference::kr_status(c, *id, clock, &t)?;
            if s.stale {
                stale.push(StaleItem {
                    key: key.clone(),
                    title: title.clone(),
                    owner: owner.clone(),
                    owner_login: owner_login.clone(),
                    cadence: "weekly".into(),
                    last_update: s.last_update.clone(),
                    days_since_update: s.days_since_update,
                });
            }
            if !s.at_risk.is_empty() {
                at_risk.push(StatusItem { key: key.clone(), title: title.clone(), status: "at risk".into(), detail: s.at_risk.join(", ") });
            }
            if s.shown.green_without_explanation {
                unexplained.push(StatusItem {
                    key: key.clone(),
                    title: title.clone(),
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the numbers say {}", s.shown.computed.label()),
                });
            }
        }
        let facts = self.objective_facts()?;
        let mut objective_targets = Vec::new();
        for (id, f) in &facts {
            let s = reference::objective_status(c, *id, clock, &t)?;
            if s.shown.green_without_explanation {
                unexplained.push(StatusItem {
                    key: f.key.clone(),
                    title: f.title.clone(),
                    status: "green without explanation".into(),
                    detail: format!("set green by hand; the work underneath is {}", s.shown.computed.label()),
                });
            }
            let target: Option<String> = c.query_row("SELECT target FROM objectives WHERE id = ?1", [id], |r| r.get(0))?;
            if let Some(target) = target.and_then(|s| Num::parse(&s).ok()) {
                let bu = super::facts::bottom_up(c, std::iter::once(*id))?[id];
                if let Ok(g) = rollup::target_gap(target, bu.forecast) {
                    objective_targets.push((f.key.clone(), g));
                }
            }
        }
        let only: Vec<health::ObjectiveFacts> = facts.iter().map(|(_, f)| f.clone()).collect();
        let (settings, settings_errors) = self.settings()?;
        let ceiling = settings.cascade_ceiling;
        let alignment = super::check::Alignment::of(&only, ceiling, self.cascade_trend_per_item()?);
        let outcome_only = only.iter().filter(|o| health::outcome_only(o)).map(|o| o.key.clone()).collect();
        let not_executable = only
            .iter()
            .filter(|o| !o.has_children)
            .map(|o| Gaps { key: o.key.clone(), missing: health::executability_gaps(o) })
            .filter(|g| !g.missing.is_empty())
            .collect();
        let isolated_kpis: Vec<String> = {
            let mut s = c.prepare(
                "SELECT i.key FROM kpis k JOIN items i ON i.id = k.id
                 WHERE NOT EXISTS (SELECT 1 FROM links WHERE from_id = k.id) AND NOT EXISTS (SELECT 1 FROM links WHERE to_id = k.id) ORDER BY i.num",
            )?;
            let r = s.query_map([], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        let mut incomplete_kpis = Vec::new();
        let kpis = super::check::owned_items(c, "kpis")?;
        for (id, key, title, owner, owner_login) in kpis {
            let s = reference::kpi_status(c, id, clock, &t)?;
            if s.stale {
                let cadence = s.cadence.as_str().into();
                stale.push(StaleItem {
                    key: key.clone(),
                    title,
                    owner,
                    owner_login,
                    cadence,
                    last_update: s.last_update.clone(),
                    days_since_update: s.days_since_update,
                });
            }
            if !s.missing.is_empty() {
                incomplete_kpis.push(Gaps { key, missing: s.missing });
            }
        }
        let mut funnel = Vec::new();
        let nodes: Vec<(i64, String, String, Option<String>)> = {
            let mut s = c.prepare("SELECT n.id, i.key, n.title, n.target FROM nodes n JOIN items i ON i.id = n.id WHERE n.kind IN ('portfolio', 'programme') ORDER BY i.kind DESC, i.num")?;
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

    /// The cascade share at the end of each week of the current cycle, replayed from the audit
    /// log (objective creations and parent changes), so the PMO can watch it over the cycle.
    fn cascade_trend_per_item(&self) -> Result<Vec<(String, Num)>> {
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
            let mut s = c.prepare("SELECT i.key, o.parent_id IS NOT NULL FROM objectives o JOIN items i ON i.id = o.id")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let events: Vec<(String, String, String, Option<String>)> = {
            let mut s = c.prepare("SELECT item_key, field, at, old_value FROM audit WHERE item_key LIKE 'O-%' AND field IN ('created', 'parent') ORDER BY seq")?;
            let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let mut out = Vec::new();
        let mut week_end = start + Duration::days((6 - start.weekday().num_days_from_monday()) as i64);
        let last = today.min(end);
        while week_end <= last + Duration::days(6) {
            let cutoff = format!("{}T23:59:59Z", week_end.min(last));
            let mut total = 0;
            let mut cascaded = 0;
            for (key, has_parent_now) in &current {
                let created = events.iter().find(|e| &e.0 == key && e.1 == "created").map(|e| e.2.clone());
                if created.as_ref().is_some_and(|at| at > &cutoff) {
                    continue;
                }
                total += 1;
                // The parent at the cutoff is the old value of the first change after it.
                let later = events.iter().find(|e| &e.0 == key && e.1 == "parent" && e.2 > cutoff);
                let had_parent = match later {
                    Some(e) => e.3.is_some(),
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

#[cfg(test)]
mod tests {
    use super::super::facts;
    use super::super::reference;
    use super::super::Store;
    use crate::domain::{ItemKey, ItemKind};
    use chrono::NaiveDate;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn demo(dir: &tempfile::TempDir) -> Store {
        crate::io::demo::create_at(&dir.path().join("demo.keel"), today(), "admin").unwrap()
    }

    fn generated(dir: &tempfile::TempDir, n: usize) -> Store {
        let mut store = Store::create(&dir.path().join("gen.keel"), false).unwrap();
        store.set_clock(today());
        let spec = crate::io::generate::Spec { measures: n, seed: 3, today: today(), admin_login: store.actor.login.clone() };
        crate::io::generate::load(&mut store, &spec, |_| {}).unwrap();
        store
    }

    fn ids(store: &Store, kind: ItemKind) -> Vec<(i64, ItemKey)> {
        let mut s = store.conn().prepare("SELECT id, key FROM items WHERE kind = ?1 ORDER BY num").unwrap();
        let r = s.query_map([kind.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap();
        r.map(|x| x.unwrap()).map(|(id, k)| (id, ItemKey::parse(&k).unwrap())).collect()
    }

    fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    /// Compare two reports section by section, so a failure names the section.
    fn same_report(bulk: &super::CheckReport, per_item: &super::CheckReport) {
        let (a, b) = (json(bulk), json(per_item));
        for (k, v) in a.as_object().unwrap() {
            assert_eq!(v, &b[k], "check report section {k}");
        }
        assert_eq!(a, b);
    }

    /// Every status the bulk engine gives equals the per-item read model's.
    fn statuses_agree(store: &Store) {
        let (c, clock, t) = (store.conn(), store.clock(), store.thresholds().unwrap());
        for kind in [ItemKind::Measure, ItemKind::KeyResult, ItemKind::Kpi, ItemKind::Objective, ItemKind::Package] {
            for (id, key) in ids(store, kind) {
                let want = reference::item_status(c, kind, id, clock, &t).unwrap();
                assert_eq!(json(&store.item_status(&key).unwrap()), json(&want), "item status of {key}");
                let (bulk, per_item) = match kind {
                    ItemKind::Measure => (
                        json(&store.with_statuses(|e| e.measure(id)).unwrap()),
                        json(&reference::measure_status(c, id, clock, &t).unwrap()),
                    ),
                    ItemKind::KeyResult => {
                        (json(&store.with_statuses(|e| e.kr(id)).unwrap()), json(&reference::kr_status(c, id, clock, &t).unwrap()))
                    }
                    ItemKind::Kpi => {
                        (json(&store.with_statuses(|e| e.kpi(id)).unwrap()), json(&reference::kpi_status(c, id, clock, &t).unwrap()))
                    }
                    ItemKind::Objective => {
                        let bottom_up = store.with_statuses(|e| e.bottom_up(id)).unwrap();
                        // The per-subtree gathering (app, show, report) and the whole-table one (check) agree.
                        assert_eq!(bottom_up, facts::bottom_up(c, std::iter::once(id)).unwrap()[&id], "bottom-up value of {key}");
                        (
                            json(&store.with_statuses(|e| e.objective(id)).unwrap()),
                            json(&reference::objective_status(c, id, clock, &t).unwrap()),
                        )
                    }
                    _ => continue,
                };
                assert_eq!(bulk, per_item, "status of {key}");
            }
        }
    }

    #[test]
    fn bulk_check_equals_the_per_item_check_on_the_demo() {
        let dir = tempfile::tempdir().unwrap();
        let store = demo(&dir);
        same_report(&store.check().unwrap(), &store.check_per_item().unwrap());
        statuses_agree(&store);
    }

    #[test]
    fn bulk_check_equals_the_per_item_check_on_a_generated_organisation() {
        let dir = tempfile::tempdir().unwrap();
        let store = generated(&dir, 600);
        let bulk = store.check().unwrap();
        // The generator makes every kind of finding, so the comparison is not vacuous.
        assert!(bulk.escalations_by_tier.iter().all(|n| *n > 0), "{:?}", bulk.escalations_by_tier);
        let found = [bulk.stale.len(), bulk.implementation.len(), bulk.potential.len(), bulk.at_risk_key_results.len()];
        assert!(found.iter().all(|n| *n > 0) && !bulk.objective_targets.is_empty(), "{found:?}");
        same_report(&bulk, &store.check_per_item().unwrap());
        statuses_agree(&store);
    }

    #[test]
    fn folded_objective_facts_equal_the_per_objective_ones_in_any_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = generated(&dir, 600);
        // Dependencies between measures of one objective (counted once there) and of two.
        store
            .conn()
            .execute(
                "INSERT OR IGNORE INTO dependencies (measure_id, depends_on_id)
                 SELECT DISTINCT a.from_id, b.from_id FROM links a JOIN key_results ka ON ka.id = a.to_id
                 JOIN links b JOIN key_results kb ON kb.id = b.to_id AND (kb.objective_id = ka.objective_id OR b.from_id % 3 = 0)
                 JOIN measures ma ON ma.id = a.from_id JOIN measures mb ON mb.id = b.from_id
                 WHERE a.from_id < b.from_id AND a.from_id % 5 = 0 AND b.from_id % 7 = 0 LIMIT 300",
                [],
            )
            .unwrap();
        let want = store.objective_facts().unwrap();
        // The comparison is not vacuous: counts above one, which a set counted twice would change.
        let most = |f: fn(&crate::domain::health::ObjectiveFacts) -> usize| want.iter().map(|(_, o)| f(o)).max().unwrap_or(0);
        let counts =
            [most(|o| o.measures), most(|o| o.dependencies), most(|o| o.milestones), most(|o| o.money_values), most(|o| o.risks_written)];
        assert!(counts.iter().all(|n| *n > 1), "{counts:?}");
        for batch in [crate::store::CHECK_BATCH, 7, 1] {
            let (facts, bottom_up) = store.folded_objective_facts(batch).unwrap();
            assert_eq!(facts.len(), want.len());
            for ((id, got), (want_id, want)) in facts.iter().zip(&want) {
                assert_eq!((id, format!("{got:?}")), (want_id, format!("{want:?}")), "facts in batches of {batch}");
                let bu = facts::bottom_up(store.conn(), std::iter::once(*id)).unwrap()[id];
                assert_eq!(bottom_up.get(id).copied().unwrap_or_default(), bu, "bottom-up value of {} in batches of {batch}", got.key);
            }
        }
    }

    #[test]
    fn a_check_reading_its_batches_as_id_ranges_equals_the_per_item_check() {
        let dir = tempfile::tempdir().unwrap();
        let store = generated(&dir, 600);
        // Renumber the measures so that key order takes every other id: the first 300 keys the
        // even ranks, the next 300 the odd. A batch of 300 in key order then spans 600 ids, half
        // of them the other batch's, and is still read as a range (whose extra rows are dropped).
        let mut by_id: Vec<i64> = ids(&store, ItemKind::Measure).into_iter().map(|(id, _)| id).collect();
        by_id.sort_unstable();
        let half = by_id.len() as i64 / 2;
        let renumber = |shift: i64| {
            for (rank, id) in by_id.iter().enumerate() {
                let rank = rank as i64;
                let num = shift + if rank % 2 == 0 { rank / 2 + 1 } else { half + rank / 2 + 1 };
                let sql = "UPDATE items SET num = ?1, key = ?2 WHERE id = ?3";
                store.conn().execute(sql, crate::store::engine::params![num, format!("M-{num}"), id]).unwrap();
            }
        };
        renumber(1_000_000);
        renumber(0);
        let in_key_order: Vec<i64> = ids(&store, ItemKind::Measure).into_iter().map(|(id, _)| id).collect();
        for chunk in in_key_order.chunks(half as usize) {
            let batch = crate::store::engine::IdBatch::of(chunk);
            let foreign = in_key_order.iter().filter(|id| !chunk.contains(id) && batch.keeps(**id)).count();
            assert!(batch.is_range() && foreign == 0, "a range batch, keeping only its own ids");
        }
        let bulk = store.check_batched(half as usize).unwrap();
        assert!(!bulk.stale.is_empty() && !bulk.implementation.is_empty() && !bulk.potential.is_empty());
        same_report(&bulk, &store.check_per_item().unwrap());
    }

    #[test]
    fn remembered_statuses_are_forgotten_after_an_edit() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = generated(&dir, 120);
        let key = ItemKey::parse("M-7").unwrap();
        let before = store.item_status(&key).unwrap();
        let period = crate::domain::Period::week_of(today());
        let change = super::super::Change::Value { key: key.clone(), period, field: "actual".into(), value: "1".into(), if_version: None };
        store.edit(super::super::Edit::one(change)).unwrap();
        let after = store.item_status(&key).unwrap();
        let id = store.resolve(&key).unwrap();
        let want = reference::item_status(store.conn(), ItemKind::Measure, id, store.clock(), &store.thresholds().unwrap()).unwrap();
        assert_eq!(json(&after), json(&want));
        assert_ne!(json(&before), json(&after), "a 99% shortfall must change the status");
    }
}
