//! The yardsticks `keel bench` measures keel against, in the same process on the same machine:
//! the generated rows written by plain rusqlite prepared inserts in one transaction into the same
//! schema, and one plain SQL pass computing the money roll-up per portfolio and the latest
//! variance per measure.

use crate::domain::plan::Plan;
use crate::store::migrations;
use anyhow::{Context, Result};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Plain inserts of plans into a fresh file with keel's schema; keys are resolved in a map.
pub struct Loader {
    conn: Connection,
    ids: HashMap<String, i64>,
    spent: Duration,
}

fn n(v: &Option<crate::domain::Num>) -> Option<String> {
    v.map(|x| x.to_string())
}

impl Loader {
    pub fn create(path: &Path) -> Result<Loader> {
        let mut conn = Connection::open(path).with_context(|| format!("cannot create {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let tx = conn.transaction()?;
        for sql in migrations::MIGRATIONS {
            tx.execute_batch(sql)?;
        }
        tx.commit()?;
        // One transaction for every row, as the bench specifies.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Loader { conn, ids: HashMap::new(), spent: Duration::ZERO })
    }

    /// Time spent inserting so far (not counting how the plans were made).
    pub fn spent(&self) -> Duration {
        self.spent
    }

    pub fn finish(self) -> Result<Duration> {
        let t = Instant::now();
        self.conn.execute_batch("COMMIT")?;
        Ok(self.spent + t.elapsed())
    }

    fn id(&self, key: &Option<String>) -> Option<i64> {
        key.as_ref().and_then(|k| self.ids.get(k).copied())
    }

    /// Insert every row of a plan.
    pub fn insert(&mut self, plan: &Plan) -> Result<()> {
        let t = Instant::now();
        // The transaction was opened by hand (`BEGIN IMMEDIATE` in `create`), so that it can span
        // every plan while the statements borrow the connection.
        let tx: &Connection = &self.conn;
        let mut item = tx.prepare_cached("INSERT INTO items (kind, num, key) VALUES (?1, ?2, ?3)")?;
        let mut register = |ids: &mut HashMap<String, i64>, kind: &str, key: &str| -> Result<i64> {
            let num: i64 = key.rsplit('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
            item.execute(params![kind, num, key])?;
            let id = tx.last_insert_rowid();
            ids.insert(key.to_string(), id);
            Ok(id)
        };
        for c in &plan.cycles {
            let id = register(&mut self.ids, "cycle", &c.key)?;
            tx.prepare_cached("INSERT INTO cycles (id, name, start_date, end_date) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                id,
                c.name,
                c.start.to_string(),
                c.end.to_string()
            ])?;
        }
        for u in &plan.units {
            let id = register(&mut self.ids, "unit", &u.key)?;
            tx.prepare_cached("INSERT INTO units (id, name, kind, parent_id) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                id,
                u.name,
                u.kind.as_str(),
                self.id(&u.parent)
            ])?;
        }
        for p in &plan.people {
            let id = register(&mut self.ids, "person", &p.key)?;
            tx.prepare_cached("INSERT INTO people (id, name, login, email, unit_id, pmo_admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![id, p.name, p.login, p.email, self.id(&p.unit), p.pmo_admin as i64])?;
        }
        for k in &plan.kras {
            let id = register(&mut self.ids, "kra", &k.key)?;
            tx.prepare_cached("INSERT INTO kras (id, name, owner_id) VALUES (?1, ?2, ?3)")?.execute(params![
                id,
                k.name,
                self.id(&k.owner)
            ])?;
        }
        for o in &plan.objectives {
            let id = register(&mut self.ids, "objective", &o.key)?;
            tx.prepare_cached(
                "INSERT INTO objectives (id, cycle_id, title, description, owner_id, parent_id, level, manual_status, status_explanation, target)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                id,
                self.ids.get(&o.cycle),
                o.title,
                o.description,
                self.id(&o.owner),
                self.id(&o.parent),
                o.level.as_str(),
                o.manual_status,
                o.status_explanation,
                n(&o.target)
            ])?;
            for u in &o.units {
                tx.prepare_cached("INSERT INTO objective_units (objective_id, unit_id) VALUES (?1, ?2)")?
                    .execute(params![id, self.ids.get(u)])?;
            }
        }
        for k in &plan.key_results {
            let id = register(&mut self.ids, "key-result", &k.key)?;
            tx.prepare_cached(
                "INSERT INTO key_results (id, objective_id, title, kind, baseline, target, unit, weight, confidence, owner_id, milestone_done, manual_status, status_explanation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                id,
                self.ids.get(&k.objective),
                k.title,
                k.kind.as_str(),
                n(&k.baseline),
                n(&k.target),
                k.unit,
                k.weight.to_string(),
                n(&k.confidence),
                self.id(&k.owner),
                k.milestone_done as i64,
                k.manual_status,
                k.status_explanation
            ])?;
        }
        let mut link = tx.prepare_cached("INSERT OR IGNORE INTO links (from_id, to_id) VALUES (?1, ?2)")?;
        for k in &plan.kpis {
            let id = register(&mut self.ids, "kpi", &k.key)?;
            tx.prepare_cached(
                "INSERT INTO kpis (id, title, ipo_class, unit, direction, target, tolerance, timeframe, data_source, frequency, owner_id, kra_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                id,
                k.title,
                k.ipo_class.as_str(),
                k.unit,
                k.direction.as_str(),
                n(&k.target),
                n(&k.tolerance),
                k.timeframe,
                k.data_source,
                k.frequency.map(|f| f.as_str()),
                self.id(&k.owner),
                self.id(&k.kra)
            ])?;
            for t in &k.informs {
                link.execute(params![id, self.ids.get(t)])?;
            }
        }
        for node in &plan.nodes {
            let id = register(&mut self.ids, crate::domain::ItemKind::from_node(node.kind).as_str(), &node.key)?;
            tx.prepare_cached("INSERT INTO nodes (id, kind, parent_id, title, owner_id, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![id, node.kind.as_str(), self.id(&node.parent), node.title, self.id(&node.owner), n(&node.target)])?;
        }
        let mut milestone = tx.prepare_cached("INSERT INTO milestones (measure_id, title, due_date, done_date) VALUES (?1, ?2, ?3, ?4)")?;
        for m in &plan.measures {
            let id = register(&mut self.ids, "measure", &m.key)?;
            insert_measure(tx, &self.ids, id, m)?;
            for ms in &m.milestones {
                milestone.execute(params![id, ms.title, ms.due.to_string(), ms.done.map(|d| d.to_string())])?;
            }
            for t in &m.contributes_to {
                link.execute(params![id, self.ids.get(t)])?;
            }
            for d in &m.depends_on {
                tx.prepare_cached("INSERT OR IGNORE INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2)")?
                    .execute(params![id, self.ids.get(d)])?;
            }
        }
        let mut value = tx.prepare_cached(
            "INSERT INTO item_values (item_id, period, period_start, baseline, planned, forecast, actual, comment, updated_by, updated_at, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for v in &plan.values {
            let start = crate::domain::Period::parse(&v.period).map(|p| p.start().to_string()).unwrap_or_default();
            value.execute(params![
                self.ids.get(&v.item),
                v.period,
                start,
                n(&v.baseline),
                n(&v.planned),
                n(&v.forecast),
                n(&v.actual),
                v.comment,
                v.by,
                v.at,
                n(&v.confidence)
            ])?;
        }
        self.spent += t.elapsed();
        Ok(())
    }
}

fn insert_measure(tx: &Connection, ids: &HashMap<String, i64>, id: i64, m: &crate::domain::plan::Measure) -> Result<()> {
    let r = |k: &Option<String>| k.as_ref().and_then(|k| ids.get(k).copied());
    tx.prepare_cached(
        "INSERT INTO measures (id, package_id, title, description, owner_id, sponsor_id, controller_id, business_unit_id, function_id, kra_id,
             stage, side_state, side_reason, pending_stage, requested_by, sponsor_approved_by, controller_signed_by, validated_by,
             cadence, value_type, potential, narrative, decision_needed, risk, next_steps)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
    )?
    .execute(params![
        id,
        r(&m.package),
        m.title,
        m.description,
        r(&m.owner),
        r(&m.sponsor),
        r(&m.controller),
        r(&m.business_unit),
        r(&m.function),
        r(&m.kra),
        m.stage.as_str(),
        m.side_state.map(|s| s.as_str()),
        m.side_reason,
        m.pending_stage.map(|s| s.as_str()),
        r(&m.requested_by),
        r(&m.sponsor_approved_by),
        r(&m.controller_signed_by),
        r(&m.validated_by),
        m.cadence.as_str(),
        m.value_type.as_str(),
        n(&m.potential),
        m.narrative,
        m.decision_needed,
        m.risk,
        m.next_steps
    ])?;
    Ok(())
}

/// A plain connection to `path`, for [`check`].
pub fn open(path: &Path) -> Result<Connection> {
    Connection::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// The plain SQL yardstick for `keel check`: the money roll-up per portfolio (net of costs,
/// landing on the actual, else the forecast, else the plan) and the latest variance per measure.
/// Returns the time taken and the number of rows produced.
pub fn check(conn: &Connection) -> Result<(Duration, usize)> {
    let t = Instant::now();
    let mut rows = 0usize;
    let mut rollup = conn.prepare(
        "SELECT pf.id,
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(v.planned AS REAL)),
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(COALESCE(v.actual, v.forecast, v.planned) AS REAL)),
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(v.actual AS REAL))
         FROM item_values v JOIN measures m ON m.id = v.item_id
         JOIN nodes pk ON pk.id = m.package_id JOIN nodes pj ON pj.id = pk.parent_id
         JOIN nodes pg ON pg.id = pj.parent_id JOIN nodes pf ON pf.id = pg.parent_id
         WHERE m.side_state IS NOT 'cancelled'
         GROUP BY pf.id",
    )?;
    let mut q = rollup.query([])?;
    while let Some(r) = q.next()? {
        let _: (i64, Option<f64>, Option<f64>, Option<f64>) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        rows += 1;
    }
    let mut latest = conn.prepare(
        "SELECT v.item_id, MAX(v.period_start), v.planned, v.actual,
                (CAST(v.actual AS REAL) - CAST(v.planned AS REAL)) / NULLIF(ABS(CAST(v.planned AS REAL)), 0)
         FROM item_values v JOIN measures m ON m.id = v.item_id
         WHERE v.planned IS NOT NULL AND v.actual IS NOT NULL
         GROUP BY v.item_id",
    )?;
    let mut q = latest.query([])?;
    while let Some(r) = q.next()? {
        let _: (i64, String, Option<String>, Option<String>, Option<f64>) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        rows += 1;
    }
    Ok((t.elapsed(), rows))
}
