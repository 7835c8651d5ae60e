//! The yardsticks `keel bench --db postgres://…` measures keel against, on the same server in the
//! same run (`io/baseline.rs` is SQLite's): the generated rows written by plain `postgres`-crate
//! prepared inserts in one transaction into keel's schema, and the same plain SQL pass computing
//! the money roll-up per portfolio and the latest variance per measure.

use crate::domain::plan::Plan;
use crate::domain::Num;
use anyhow::Result;
use postgres::types::ToSql;
use postgres::{Client, Statement};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::time::{Duration, Instant};

type P<'a> = &'a (dyn ToSql + Sync);

/// Plain inserts of plans into a database with keel's schema; keys are resolved in a map.
pub struct Loader {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    ids: HashMap<String, i64>,
    spent: Duration,
}

fn n(v: &Option<Num>) -> Option<Decimal> {
    v.map(Num::inner)
}

impl Loader {
    /// Over `client`, to a database that holds nothing: keel's schema is made first, untimed.
    pub fn create(mut client: Client) -> Result<Loader> {
        let mut tx = client.transaction()?;
        for sql in crate::store::migrations_postgres::MIGRATIONS {
            tx.batch_execute(sql)?;
        }
        tx.commit()?;
        // One transaction for every row, as the bench specifies.
        client.batch_execute("BEGIN")?;
        Ok(Loader { client, statements: HashMap::new(), ids: HashMap::new(), spent: Duration::ZERO })
    }

    pub fn finish(mut self) -> Result<Duration> {
        let t = Instant::now();
        self.client.batch_execute("COMMIT")?;
        Ok(self.spent + t.elapsed())
    }

    /// The statement for `sql` (written with `?n` as SQLite's yardstick writes it), prepared once.
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&sql.replace('?', "$"))?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn exec(&mut self, sql: &'static str, params: &[P<'_>]) -> Result<()> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)?;
        Ok(())
    }

    fn register(&mut self, kind: &str, key: &str) -> Result<i64> {
        let num: i64 = key.rsplit('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let s = self.statement("INSERT INTO items (kind, num, key) VALUES (?1, ?2, ?3) RETURNING id")?;
        let id: i64 = self.client.query_one(&s, &[&kind, &num, &key])?.get(0);
        self.ids.insert(key.to_string(), id);
        Ok(id)
    }

    fn id(&self, key: &Option<String>) -> Option<i64> {
        key.as_ref().and_then(|k| self.ids.get(k).copied())
    }

    fn key(&self, key: &str) -> Option<i64> {
        self.ids.get(key).copied()
    }

    /// Insert every row of a plan.
    pub fn insert(&mut self, plan: &Plan) -> Result<()> {
        let t = Instant::now();
        for c in &plan.cycles {
            let id = self.register("cycle", &c.key)?;
            let (start, end) = (c.start.to_string(), c.end.to_string());
            self.exec("INSERT INTO cycles (id, name, start_date, end_date) VALUES (?1, ?2, ?3, ?4)", &[&id, &c.name, &start, &end])?;
        }
        for u in &plan.units {
            let id = self.register("unit", &u.key)?;
            let parent = self.id(&u.parent);
            self.exec("INSERT INTO units (id, name, kind, parent_id) VALUES (?1, ?2, ?3, ?4)", &[&id, &u.name, &u.kind.as_str(), &parent])?;
        }
        for p in &plan.people {
            let id = self.register("person", &p.key)?;
            let (unit, admin) = (self.id(&p.unit), p.pmo_admin as i64);
            self.exec(
                "INSERT INTO people (id, name, login, email, unit_id, pmo_admin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[&id, &p.name, &p.login, &p.email, &unit, &admin],
            )?;
        }
        for k in &plan.kras {
            let id = self.register("kra", &k.key)?;
            let owner = self.id(&k.owner);
            self.exec("INSERT INTO kras (id, name, owner_id) VALUES (?1, ?2, ?3)", &[&id, &k.name, &owner])?;
        }
        for o in &plan.objectives {
            let id = self.register("objective", &o.key)?;
            let (cycle, owner, parent, target) = (self.key(&o.cycle), self.id(&o.owner), self.id(&o.parent), n(&o.target));
            self.exec(
                "INSERT INTO objectives (id, cycle_id, title, description, owner_id, parent_id, level, manual_status, status_explanation, target)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                &[&id, &cycle, &o.title, &o.description, &owner, &parent, &o.level.as_str(), &o.manual_status, &o.status_explanation, &target],
            )?;
            for u in &o.units {
                let unit = self.key(u);
                self.exec("INSERT INTO objective_units (objective_id, unit_id) VALUES (?1, ?2)", &[&id, &unit])?;
            }
        }
        for k in &plan.key_results {
            let id = self.register("key-result", &k.key)?;
            let (objective, owner, done) = (self.key(&k.objective), self.id(&k.owner), k.milestone_done as i64);
            let (baseline, target, weight, confidence) = (n(&k.baseline), n(&k.target), k.weight.inner(), n(&k.confidence));
            self.exec(
                "INSERT INTO key_results (id, objective_id, title, kind, baseline, target, unit, weight, confidence, owner_id, milestone_done, manual_status, status_explanation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                &[
                    &id,
                    &objective,
                    &k.title,
                    &k.kind.as_str(),
                    &baseline,
                    &target,
                    &k.unit,
                    &weight,
                    &confidence,
                    &owner,
                    &done,
                    &k.manual_status,
                    &k.status_explanation,
                ],
            )?;
        }
        const LINK: &str = "INSERT INTO links (from_id, to_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
        for k in &plan.kpis {
            let id = self.register("kpi", &k.key)?;
            let (target, tolerance, owner, kra) = (n(&k.target), n(&k.tolerance), self.id(&k.owner), self.id(&k.kra));
            let frequency = k.frequency.map(|f| f.as_str());
            self.exec(
                "INSERT INTO kpis (id, title, ipo_class, unit, direction, target, tolerance, timeframe, data_source, frequency, owner_id, kra_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                &[
                    &id,
                    &k.title,
                    &k.ipo_class.as_str(),
                    &k.unit,
                    &k.direction.as_str(),
                    &target,
                    &tolerance,
                    &k.timeframe,
                    &k.data_source,
                    &frequency,
                    &owner,
                    &kra,
                ],
            )?;
            for t in &k.informs {
                let to = self.key(t);
                self.exec(LINK, &[&id, &to])?;
            }
        }
        for node in &plan.nodes {
            let id = self.register(crate::domain::ItemKind::from_node(node.kind).as_str(), &node.key)?;
            let (parent, owner, target) = (self.id(&node.parent), self.id(&node.owner), n(&node.target));
            self.exec(
                "INSERT INTO nodes (id, kind, parent_id, title, owner_id, target) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[&id, &node.kind.as_str(), &parent, &node.title, &owner, &target],
            )?;
        }
        for m in &plan.measures {
            let id = self.register("measure", &m.key)?;
            self.insert_measure(id, m)?;
            for ms in &m.milestones {
                let (due, done) = (ms.due.to_string(), ms.done.map(|d| d.to_string()));
                self.exec(
                    "INSERT INTO milestones (measure_id, title, due_date, done_date) VALUES (?1, ?2, ?3, ?4)",
                    &[&id, &ms.title, &due, &done],
                )?;
            }
            for t in &m.contributes_to {
                let to = self.key(t);
                self.exec(LINK, &[&id, &to])?;
            }
            for d in &m.depends_on {
                let on = self.key(d);
                self.exec("INSERT INTO dependencies (measure_id, depends_on_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", &[&id, &on])?;
            }
        }
        for v in &plan.values {
            let start = crate::domain::Period::parse(&v.period).map(|p| p.start().to_string()).unwrap_or_default();
            let item = self.key(&v.item);
            let (baseline, planned, forecast, actual, confidence) =
                (n(&v.baseline), n(&v.planned), n(&v.forecast), n(&v.actual), n(&v.confidence));
            self.exec(
                "INSERT INTO item_values (item_id, period, period_start, baseline, planned, forecast, actual, comment, updated_by, updated_at, confidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                &[&item, &v.period, &start, &baseline, &planned, &forecast, &actual, &v.comment, &v.by, &v.at, &confidence],
            )?;
        }
        self.spent += t.elapsed();
        Ok(())
    }

    fn insert_measure(&mut self, id: i64, m: &crate::domain::plan::Measure) -> Result<()> {
        let r = |k: &Option<String>| self.id(k);
        let refs = [
            r(&m.package),
            r(&m.owner),
            r(&m.sponsor),
            r(&m.controller),
            r(&m.business_unit),
            r(&m.function),
            r(&m.kra),
            r(&m.requested_by),
            r(&m.sponsor_approved_by),
            r(&m.controller_signed_by),
            r(&m.validated_by),
        ];
        let (side, pending, potential) = (m.side_state.map(|s| s.as_str()), m.pending_stage.map(|s| s.as_str()), n(&m.potential));
        self.exec(
            "INSERT INTO measures (id, package_id, title, description, owner_id, sponsor_id, controller_id, business_unit_id, function_id, kra_id,
                 stage, side_state, side_reason, pending_stage, requested_by, sponsor_approved_by, controller_signed_by, validated_by,
                 cadence, value_type, potential, narrative, decision_needed, risk, next_steps)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
            &[
                &id,
                &refs[0],
                &m.title,
                &m.description,
                &refs[1],
                &refs[2],
                &refs[3],
                &refs[4],
                &refs[5],
                &refs[6],
                &m.stage.as_str(),
                &side,
                &m.side_reason,
                &pending,
                &refs[7],
                &refs[8],
                &refs[9],
                &refs[10],
                &m.cadence.as_str(),
                &m.value_type.as_str(),
                &potential,
                &m.narrative,
                &m.decision_needed,
                &m.risk,
                &m.next_steps,
            ],
        )
    }
}

/// The plain SQL yardstick for `keel check` on a server: what `io/baseline.rs` asks of a file,
/// in PostgreSQL's words (the latest row per measure by `DISTINCT ON`, where SQLite takes the
/// bare columns of `MAX`). Returns the time taken and the number of rows produced.
pub fn check(client: &mut Client) -> Result<(Duration, usize)> {
    let t = Instant::now();
    let mut rows = 0usize;
    for r in client.query(
        "SELECT pf.id,
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(v.planned AS DOUBLE PRECISION)),
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(COALESCE(v.actual, v.forecast, v.planned) AS DOUBLE PRECISION)),
                SUM(CASE WHEN m.value_type LIKE '%cost' THEN -1.0 ELSE 1.0 END * CAST(v.actual AS DOUBLE PRECISION))
         FROM item_values v JOIN measures m ON m.id = v.item_id
         JOIN nodes pk ON pk.id = m.package_id JOIN nodes pj ON pj.id = pk.parent_id
         JOIN nodes pg ON pg.id = pj.parent_id JOIN nodes pf ON pf.id = pg.parent_id
         WHERE m.side_state IS DISTINCT FROM 'cancelled'
         GROUP BY pf.id",
        &[],
    )? {
        let _: (i64, Option<f64>, Option<f64>, Option<f64>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        rows += 1;
    }
    for r in client.query(
        "SELECT DISTINCT ON (v.item_id) v.item_id, v.period_start, CAST(v.planned AS TEXT), CAST(v.actual AS TEXT),
                (CAST(v.actual AS DOUBLE PRECISION) - CAST(v.planned AS DOUBLE PRECISION)) / NULLIF(ABS(CAST(v.planned AS DOUBLE PRECISION)), 0)
         FROM item_values v JOIN measures m ON m.id = v.item_id
         WHERE v.planned IS NOT NULL AND v.actual IS NOT NULL
         ORDER BY v.item_id, v.period_start DESC",
        &[],
    )? {
        let _: (i64, String, Option<String>, Option<String>, Option<f64>) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
        rows += 1;
    }
    Ok((t.elapsed(), rows))
}
