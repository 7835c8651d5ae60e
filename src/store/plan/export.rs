//! Reading the whole organisation back out as a plan (`keel export --format json`), in a fixed
//! order, so that export → import → export is byte-identical.

use super::*;

fn kind_rank(kind: &str) -> usize {
    ItemKind::ALL.iter().position(|k| k.as_str() == kind).unwrap_or(usize::MAX)
}

fn opt_num(s: Option<String>) -> Option<Num> {
    s.and_then(|s| Num::parse(&s).ok())
}

fn keys_by_kind(conn: &Db, kind: ItemKind) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT id, key FROM items WHERE kind = ?1 ORDER BY num")?;
    let rows = stmt.query_map([kind.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<DbResult<_>>()?)
}

impl Store {
    /// The whole organisation as a plan, in a fixed order.
    pub fn export_plan(&self) -> Result<Plan> {
        let c = self.conn();
        let key = |id: Option<i64>| -> DbResult<Option<String>> {
            match id {
                Some(i) => c.query_row("SELECT key FROM items WHERE id = ?1", [i], |r| r.get(0)).map(Some),
                None => Ok(None),
            }
        };
        let mut plan = Plan { format: p::FORMAT.into(), version: p::FORMAT_VERSION, ..Default::default() };
        {
            let mut stmt = c.prepare("SELECT name, value FROM settings ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (name, value) = row?;
                if crate::store::SETTINGS.iter().any(|(s, _)| *s == name) {
                    plan.settings.insert(name, value);
                }
            }
        }
        for (id, k) in keys_by_kind(c, ItemKind::Cycle)? {
            let (name, s, e): (String, String, String) =
                c.query_row("SELECT name, start_date, end_date FROM cycles WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            plan.cycles.push(p::Cycle { key: k, name, start: s.parse().unwrap_or_default(), end: e.parse().unwrap_or_default() });
        }
        for (id, k) in keys_by_kind(c, ItemKind::Unit)? {
            let (name, kind, parent): (String, String, Option<i64>) =
                c.query_row("SELECT name, kind, parent_id FROM units WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            plan.units.push(p::Unit { key: k, name, kind: UnitKind::parse(&kind).unwrap_or(UnitKind::BusinessUnit), parent: key(parent)? });
        }
        for (id, k) in keys_by_kind(c, ItemKind::Person)? {
            let (name, login, email, unit, admin): (String, Option<String>, Option<String>, Option<i64>, i64) =
                c.query_row("SELECT name, login, email, unit_id, pmo_admin FROM people WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?;
            plan.people.push(p::Person { key: k, name, login, email, unit: key(unit)?, pmo_admin: admin == 1 });
        }
        for (id, k) in keys_by_kind(c, ItemKind::Kra)? {
            let (name, owner): (String, Option<i64>) =
                c.query_row("SELECT name, owner_id FROM kras WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            plan.kras.push(p::Kra { key: k, name, owner: key(owner)? });
        }
        let linked = |from: i64| -> Result<Vec<String>> {
            let mut stmt = c.prepare_cached("SELECT i.key FROM links l JOIN items i ON i.id = l.to_id WHERE l.from_id = ?1")?;
            let mut keys: Vec<(usize, u32, String)> = stmt
                .query_map([from], |r| r.get::<_, String>(0))?
                .filter_map(|k| k.ok())
                .filter_map(|k| ItemKey::parse(&k).ok().map(|p| (kind_rank(p.kind.as_str()), p.number, k)))
                .collect();
            keys.sort();
            Ok(keys.into_iter().map(|(_, _, k)| k).collect())
        };
        for (id, k) in keys_by_kind(c, ItemKind::Objective)? {
            type Row = (i64, String, Option<String>, Option<i64>, Option<i64>, String, Option<String>, Option<String>, Option<String>);
            let r: Row = c.query_row(
                "SELECT cycle_id, title, description, owner_id, parent_id, level, manual_status, status_explanation, target FROM objectives WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)),
            )?;
            let units: Vec<String> = {
                let mut stmt = c.prepare_cached(
                    "SELECT i.key FROM objective_units ou JOIN items i ON i.id = ou.unit_id WHERE ou.objective_id = ?1 ORDER BY i.num",
                )?;
                let rows = stmt.query_map([id], |r| r.get(0))?;
                rows.collect::<DbResult<_>>()?
            };
            plan.objectives.push(p::Objective {
                key: k,
                cycle: key(Some(r.0))?.unwrap_or_default(),
                title: r.1,
                description: r.2,
                owner: key(r.3)?,
                parent: key(r.4)?,
                level: Level::parse(&r.5).unwrap_or(Level::Company),
                units,
                manual_status: r.6,
                status_explanation: r.7,
                target: opt_num(r.8),
            });
        }
        for (id, k) in keys_by_kind(c, ItemKind::KeyResult)? {
            type Row = (
                i64,
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                String,
                Option<String>,
                Option<i64>,
                i64,
                Option<String>,
                Option<String>,
            );
            let r: Row = c.query_row(
                "SELECT objective_id, title, kind, baseline, target, unit, weight, confidence, owner_id, milestone_done, manual_status, status_explanation FROM key_results WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)),
            )?;
            plan.key_results.push(p::KeyResult {
                key: k,
                objective: key(Some(r.0))?.unwrap_or_default(),
                title: r.1,
                kind: KrKind::parse(&r.2).unwrap_or(KrKind::IncreaseTo),
                baseline: opt_num(r.3),
                target: opt_num(r.4),
                unit: r.5,
                weight: Num::parse(&r.6).unwrap_or(Num::ONE),
                confidence: opt_num(r.7),
                owner: key(r.8)?,
                milestone_done: r.9 == 1,
                manual_status: r.10,
                status_explanation: r.11,
                narrative: c.query_row("SELECT narrative FROM key_results WHERE id = ?1", [id], |r| r.get(0))?,
            });
        }
        for (id, k) in keys_by_kind(c, ItemKind::Kpi)? {
            type Row = (
                String,
                String,
                Option<String>,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<i64>,
                Option<i64>,
            );
            let r: Row = c.query_row(
                "SELECT title, ipo_class, unit, direction, target, tolerance, timeframe, data_source, frequency, owner_id, kra_id FROM kpis WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?)),
            )?;
            plan.kpis.push(p::Kpi {
                key: k,
                title: r.0,
                ipo_class: IpoClass::parse(&r.1).unwrap_or(IpoClass::Outcome),
                unit: r.2,
                direction: Direction::parse(&r.3).unwrap_or(Direction::HigherIsBetter),
                target: opt_num(r.4),
                tolerance: opt_num(r.5),
                timeframe: r.6,
                data_source: r.7,
                frequency: r.8.as_deref().and_then(Cadence::parse),
                owner: key(r.9)?,
                kra: key(r.10)?,
                informs: linked(id)?,
                narrative: c.query_row("SELECT narrative FROM kpis WHERE id = ?1", [id], |r| r.get(0))?,
            });
        }
        for kind in [ItemKind::Portfolio, ItemKind::Programme, ItemKind::Project, ItemKind::Package] {
            for (id, k) in keys_by_kind(c, kind)? {
                let (title, parent, owner, target): (String, Option<i64>, Option<i64>, Option<String>) =
                    c.query_row("SELECT title, parent_id, owner_id, target FROM nodes WHERE id = ?1", [id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?;
                plan.nodes.push(p::Node {
                    key: k,
                    kind: kind.node().unwrap_or(NodeKind::Package),
                    title,
                    parent: key(parent)?,
                    owner: key(owner)?,
                    target: opt_num(target),
                });
            }
        }
        for (id, k) in keys_by_kind(c, ItemKind::Measure)? {
            let m = c.query_row(
                "SELECT package_id, title, description, owner_id, sponsor_id, controller_id, business_unit_id, function_id, kra_id, stage, side_state, side_reason,
                        pending_stage, requested_by, sponsor_approved_by, controller_signed_by, validated_by, cadence, value_type, potential,
                        narrative, decision_needed, risk, next_steps
                 FROM measures WHERE id = ?1",
                [id],
                |r| {
                    Ok(p::Measure {
                        key: k.clone(),
                        package: key(r.get(0)?)?,
                        title: r.get(1)?,
                        description: r.get(2)?,
                        owner: key(r.get(3)?)?,
                        sponsor: key(r.get(4)?)?,
                        controller: key(r.get(5)?)?,
                        business_unit: key(r.get(6)?)?,
                        function: key(r.get(7)?)?,
                        kra: key(r.get(8)?)?,
                        stage: Stage::parse(&r.get::<_, String>(9)?).unwrap_or(Stage::Defined),
                        side_state: r.get::<_, Option<String>>(10)?.as_deref().and_then(SideState::parse),
                        side_reason: r.get(11)?,
                        pending_stage: r.get::<_, Option<String>>(12)?.as_deref().and_then(Stage::parse),
                        requested_by: key(r.get(13)?)?,
                        sponsor_approved_by: key(r.get(14)?)?,
                        controller_signed_by: key(r.get(15)?)?,
                        validated_by: key(r.get(16)?)?,
                        cadence: Cadence::parse(&r.get::<_, String>(17)?).unwrap_or(Cadence::Weekly),
                        value_type: ValueType::parse(&r.get::<_, String>(18)?).unwrap_or(ValueType::RecurringBenefit),
                        potential: opt_num(r.get(19)?),
                        narrative: r.get(20)?,
                        decision_needed: r.get(21)?,
                        risk: r.get(22)?,
                        next_steps: r.get(23)?,
                        contributes_to: vec![],
                        depends_on: vec![],
                        milestones: vec![],
                    })
                },
            )?;
            let mut m = m;
            m.contributes_to = linked(id)?;
            m.depends_on = {
                let mut stmt = c.prepare_cached(
                    "SELECT i.key FROM dependencies d JOIN items i ON i.id = d.depends_on_id WHERE d.measure_id = ?1 ORDER BY i.num",
                )?;
                let rows = stmt.query_map([id], |r| r.get(0))?;
                rows.collect::<DbResult<_>>()?
            };
            m.milestones = {
                let mut stmt =
                    c.prepare_cached("SELECT title, due_date, done_date FROM milestones WHERE measure_id = ?1 ORDER BY due_date, id")?;
                let rows = stmt.query_map([id], |r| {
                    Ok(p::Milestone {
                        title: r.get(0)?,
                        due: r.get::<_, String>(1)?.parse().unwrap_or_default(),
                        done: r.get::<_, Option<String>>(2)?.and_then(|d| d.parse().ok()),
                    })
                })?;
                rows.collect::<DbResult<_>>()?
            };
            plan.measures.push(m);
        }
        {
            let mut stmt = c.prepare(
                "SELECT i.kind, i.num, i.key, v.period, v.baseline, v.planned, v.forecast, v.actual, v.comment, COALESCE(v.reported_by, v.updated_by), COALESCE(v.reported_at, v.updated_at), v.confidence
                 FROM item_values v JOIN items i ON i.id = v.item_id",
            )?;
            let mut rows: Vec<(usize, i64, String, p::Value)> = stmt
                .query_map([], |r| {
                    let kind: String = r.get(0)?;
                    let period: String = r.get(3)?;
                    let start = Period::parse(&period).map(|p| p.start().to_string()).unwrap_or_default();
                    Ok((
                        kind_rank(&kind),
                        r.get::<_, i64>(1)?,
                        start,
                        p::Value {
                            item: r.get(2)?,
                            period,
                            baseline: opt_num(r.get(4)?),
                            planned: opt_num(r.get(5)?),
                            forecast: opt_num(r.get(6)?),
                            actual: opt_num(r.get(7)?),
                            confidence: opt_num(r.get(11)?),
                            comment: r.get(8)?,
                            by: r.get(9)?,
                            at: r.get(10)?,
                        },
                    ))
                })?
                .collect::<DbResult<_>>()?;
            rows.sort_by(|a, b| (a.0, a.1, &a.2, &a.3.period).cmp(&(b.0, b.1, &b.2, &b.3.period)));
            plan.values = rows.into_iter().map(|r| r.3).collect();
        }
        {
            let mut stmt = c.prepare(
                "SELECT i.key, d.text, d.decided_by, d.at, d.owner_id FROM decisions d JOIN items i ON i.id = d.item_id ORDER BY d.at, d.id",
            )?;
            let rows: Vec<(String, String, String, String, Option<i64>)> =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<DbResult<_>>()?;
            for (item, text, by, at, owner) in rows {
                plan.decisions.push(p::Decision { item, text, by, at, owner: key(owner)? });
            }
        }
        let mut retired: Vec<(usize, i64, p::Retired)> = c.query_map(
            "SELECT kind, num, key, retired_at, COALESCE(retired_reason, '') FROM items WHERE retired_at IS NOT NULL",
            [],
            |r| Ok((kind_rank(&r.get::<_, String>(0)?), r.get(1)?, p::Retired { key: r.get(2)?, at: r.get(3)?, reason: r.get(4)? })),
        )?;
        retired.sort_by_key(|r| (r.0, r.1));
        plan.retired = retired.into_iter().map(|r| r.2).collect();
        Ok(plan)
    }
}
