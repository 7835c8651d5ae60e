//! KPI statuses and the status of any item (a tree row), computed by the engine of
//! `statuses.rs`; with the `Store` entry points that remember them.

use super::*;
use crate::store::read::ItemStatus;

impl ItemStatus {
    /// No status worked out yet: no data, nothing flagged, only its open tier.
    pub(crate) fn blank(tier: Option<i64>) -> ItemStatus {
        ItemStatus {
            rag: Rag::NoData,
            progress: None,
            stage: None,
            side_state: None,
            implementation: None,
            flagged: false,
            stale: false,
            tier,
        }
    }

    /// A key result's row in the tree, from its status and its open escalation's tier.
    pub(crate) fn of_key_result(k: &KrStatus, tier: Option<i64>) -> ItemStatus {
        let progress = k.score.map(|s| s.grade);
        ItemStatus { rag: k.shown.rag, progress, flagged: k.shown.green_without_explanation, stale: k.stale, ..ItemStatus::blank(tier) }
    }

    /// An objective's row in the tree, from its status and its open escalation's tier.
    pub(crate) fn of_objective(o: &ObjectiveStatus, tier: Option<i64>) -> ItemStatus {
        ItemStatus { rag: o.shown.rag, progress: o.progress, flagged: o.shown.green_without_explanation, ..ItemStatus::blank(tier) }
    }
}

impl Engine<'_> {
    pub fn kpi(&mut self, id: i64) -> Result<KpiStatus> {
        self.load_kpis(&[id])?;
        self.memo.kpis.get(&id).cloned().ok_or(StoreError::Database(engine::Error::NoRows))
    }

    pub fn load_kpis(&mut self, ids: &[i64]) -> Result<()> {
        let todo: Vec<i64> = ids.iter().copied().filter(|id| !self.memo.kpis.contains_key(id)).collect();
        if if self.all { self.memo.all_kpis } else { todo.is_empty() } {
            return Ok(());
        }
        self.memo.all_kpis |= self.all;
        type Row7 = (String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
        let mut rows: Vec<(i64, Row7)> = Vec::new();
        let batch = batch_of(self.all, &todo);
        let sql = scoped(
            self.conn,
            "SELECT id, ipo_class, direction, target, tolerance, timeframe, data_source, frequency FROM kpis",
            "id",
            batch.as_ref(),
            "",
        );
        self.each(&sql, batch.as_ref(), |r| {
            rows.push((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)));
            Ok(())
        })?;
        // (period, planned, actual, last entry, the period's start)
        type Val = (String, Option<Num>, Option<Num>, Option<String>, String);
        let mut values: HashMap<i64, Vec<Val>> = HashMap::new();
        let today_s = self.clock.today.to_string();
        let sql = scoped(
            self.conn,
            "SELECT v.item_id, v.period, v.planned, v.actual, COALESCE(v.reported_at, v.updated_at), v.period_start FROM item_values v",
            "v.item_id",
            batch.as_ref(),
            "ORDER BY v.item_id, v.period_start",
        );
        let sql = if self.all { sql.replace(" ORDER BY", " WHERE v.item_id IN (SELECT id FROM kpis) ORDER BY") } else { sql };
        self.each(&sql, batch.as_ref(), |r| {
            // An actual for a period that has not begun is no update (and is refused today).
            let has_actual = !matches!(r.get_ref(3)?, ValueRef::Null) && begun(text(r.get_ref(5)?), &today_s);
            values.entry(r.get(0)?).or_default().push((
                r.get(1)?,
                num_ref(r.get_ref(2)?),
                if has_actual { num_ref(r.get_ref(3)?) } else { None },
                if has_actual { r.get(4)? } else { None },
                r.get(5)?,
            ));
            Ok(())
        })?;
        for (id, r) in rows {
            let (ipo, dir, target, tol, timeframe, source, freq) = r;
            let missing = health::kpi_gaps(target.is_some(), timeframe.is_some(), source.is_some(), freq.is_some());
            let vals = values.remove(&id).unwrap_or_default();
            let target = num(target);
            let direction = Direction::parse(&dir).unwrap_or(Direction::HigherIsBetter);
            let cadence = freq.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Monthly);
            let last = vals.iter().filter_map(|v| v.3.as_deref()).max();
            let latest = vals.iter().rev().find(|v| v.2.is_some()).map(|v| v.0.as_str());
            let first = vals.first().map(|v| v.4.as_str());
            let (stale, days) = if vals.is_empty() { (false, None) } else { stale_from(latest, first, last, cadence, self.clock.today) };
            let last_update = last.map(str::to_string);
            let mut thresholds = self.t.clone();
            if let Some(tol) = num(tol) {
                thresholds.tolerance = tol;
            }
            let points: Vec<Point> = vals
                .iter()
                .filter_map(|(p, planned, actual, _, _)| {
                    Period::parse(p).ok().map(|period| Point {
                        period,
                        planned: escalation::period_target(*planned, target),
                        actual: *actual,
                    })
                })
                .collect();
            let rag = match escalation::assess(&points, direction, &thresholds, false) {
                Some(a) => match a.tier {
                    None => Rag::Green,
                    Some(Tier::OwnerReview) => Rag::Amber,
                    Some(_) => Rag::Red,
                },
                None => Rag::NoData,
            }
            .unless_stale(stale);
            self.memo.kpis.insert(
                id,
                KpiStatus {
                    ipo_class: IpoClass::parse(&ipo).unwrap_or(IpoClass::Outcome),
                    direction,
                    latest_actual: vals.iter().rev().find_map(|v| v.2),
                    target,
                    rag,
                    stale,
                    cadence,
                    days_since_update: days,
                    last_update,
                    missing,
                },
            );
        }
        Ok(())
    }
}

impl crate::store::Store {
    /// Run `f` with the remembered statuses, forgetting them first if the file or the day
    /// changed since they were computed. Cheap to check: one pragma and a counter.
    pub(crate) fn with_statuses<R>(&self, f: impl FnOnce(&mut Engine) -> Result<R>) -> Result<R> {
        let facts = self.status_facts()?;
        let (clock, t) = (facts.clock, facts.thresholds);
        let key = (facts.data_version, self.conn().own_changes(), clock.today);
        let mut memo = self.memo.borrow_mut();
        if memo.key != Some(key) {
            *memo = Memo { key: Some(key), ..Memo::default() };
        }
        let mut engine = Engine { conn: self.conn(), clock, t, memo: &mut memo, all: false };
        f(&mut engine)
    }

    /// Forget the remembered statuses: a pass over every item (the items export) keeps only a
    /// page's worth, rather than every status of the file.
    pub(crate) fn forget_statuses(&self) {
        *self.memo.borrow_mut() = Memo::default();
    }

    /// Statuses of the whole file at once (for `keel check`), not remembered.
    pub(crate) fn all_statuses<R>(&self, f: impl FnOnce(&mut Engine) -> Result<R>) -> Result<R> {
        let mut memo = Memo::default();
        let mut engine = Engine { conn: self.conn(), clock: self.clock(), t: self.thresholds()?, memo: &mut memo, all: true };
        f(&mut engine)
    }
}

impl Engine<'_> {
    /// The status a tree row shows, for any kind of item.
    pub fn item(&mut self, kind: crate::domain::ItemKind, id: i64) -> Result<ItemStatus> {
        use crate::domain::ItemKind;
        let tier = self.tier(id)?;
        let blank = ItemStatus::blank(tier);
        Ok(match kind {
            ItemKind::Measure => {
                let m = self.measure(id)?;
                let rag = status::with_escalation(m.potential, tier);
                ItemStatus {
                    rag,
                    stage: Some(m.stage),
                    side_state: m.side_state,
                    implementation: Some(m.implementation.level),
                    stale: m.stale,
                    ..blank
                }
            }
            ItemKind::KeyResult => ItemStatus::of_key_result(&self.kr(id)?, tier),
            ItemKind::Objective => ItemStatus::of_objective(&self.objective(id)?, tier),
            ItemKind::Kpi => {
                let k = self.kpi(id)?;
                ItemStatus { rag: k.rag, stale: k.stale, ..blank }
            }
            k if k.node().is_some() => {
                let total = super::super::read::node_total(self.conn, id)?;
                ItemStatus { rag: status::node_potential(total, &self.t), ..blank }
            }
            _ => blank,
        })
    }
}

#[cfg(test)]
mod snapshot_tests {
    use crate::store::Store;

    /// Inside a read snapshot what every status asks first is read once and kept; outside, or
    /// after it (ended well or not), it is read each time again.
    #[test]
    fn status_facts_are_kept_for_one_snapshot_only() {
        let (_dir, store) = crate::io::demo::in_temp_dir();
        let kept = |s: &Store| s.snapshot.borrow().as_ref().is_some_and(|f| f.is_some());
        store.item_status(&crate::domain::ItemKey::parse("O-1").unwrap()).unwrap();
        assert!(store.snapshot.borrow().is_none(), "no snapshot, nothing kept");
        store
            .read_snapshot(|| {
                assert!(!kept(&store));
                store.with_statuses(|_| Ok(()))?;
                assert!(kept(&store), "read once, kept");
                let nested_kept = store.read_snapshot(|| Ok(kept(&store)))?;
                assert!(nested_kept, "a nested snapshot shares it");
                assert!(kept(&store), "the outer snapshot still has it");
                Ok(())
            })
            .unwrap();
        assert!(store.snapshot.borrow().is_none(), "forgotten when the snapshot ends");
        let failed: crate::store::Result<()> = store.read_snapshot(|| {
            store.with_statuses(|_| Ok(()))?;
            Err(crate::store::StoreError::Invalid { key: "k".into(), field: "f".into(), why: "w".into() })
        });
        assert!(failed.is_err() && store.snapshot.borrow().is_none(), "forgotten when it fails too");
    }
}
