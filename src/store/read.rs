//! Read models: what the TUI panes, `keel show`, `keel check` and reports display. One set of
//! functions computes each number, so every surface shows the same figures.

use super::audit::{self, Row as AuditRow};
use super::escalation_list;
use super::fields::{self, FieldType};
use super::rules;
use super::{resolve, Clock, Result, Store};
use crate::domain::escalation::Tier;
use crate::domain::gates;
use crate::domain::health::ObjectiveFacts;
use crate::domain::rollup::{self, Money, TargetGap};
use crate::domain::scoring::Score;
use crate::domain::status::{ImplLevel, Implementation, Rag, Shown};
use crate::domain::{Cadence, Direction, IpoClass, ItemKey, ItemKind, KrKind, Num, Period, SideState, Stage, ValueType};
use crate::store::engine::{params, Db, DbResult, OptionalExtension, Value};
use chrono::NaiveDate;
use serde::Serialize;

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

#[derive(Clone, Debug, Serialize)]
pub struct ValueRow {
    pub period: String,
    pub baseline: Option<Num>,
    pub planned: Option<Num>,
    pub forecast: Option<Num>,
    pub actual: Option<Num>,
    pub comment: Option<String>,
    /// Who entered the value into keel, and when (for an imported value: the importer).
    pub by: String,
    pub at: String,
    /// Who reported it and when, as the plan it came from says (`None` when typed into keel).
    pub reported_by: Option<String>,
    pub reported_at: Option<String>,
    pub version: i64,
    /// The value source whose sync wrote it, or why a person typed over a source-fed value.
    pub source: Option<String>,
    pub override_reason: Option<String>,
}

pub fn values_of(conn: &Db, id: i64, last: Option<usize>) -> Result<Vec<ValueRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT period, baseline, planned, forecast, actual, comment, updated_by, updated_at, version, reported_by, reported_at, source, override_reason FROM (
             SELECT * FROM item_values WHERE item_id = ?1 ORDER BY period_start DESC LIMIT ?2
         ) AS newest ORDER BY period_start",
    )?;
    let rows = stmt.query_map(params![id, last.map(|l| l as i64).unwrap_or(i64::MAX)], |r| {
        Ok(ValueRow {
            period: r.get(0)?,
            baseline: r.get(1)?,
            planned: r.get(2)?,
            forecast: r.get(3)?,
            actual: r.get(4)?,
            comment: r.get(5)?,
            by: r.get(6)?,
            at: r.get(7)?,
            version: r.get(8)?,
            reported_by: r.get(9)?,
            reported_at: r.get(10)?,
            source: r.get(11)?,
            override_reason: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<DbResult<_>>()?)
}

#[derive(Clone, Debug, Serialize)]
pub struct MeasureStatus {
    pub stage: Stage,
    pub side_state: Option<SideState>,
    pub implementation: Implementation,
    pub potential: Rag,
    /// The totals the rules use (a measure with no values counts 0).
    #[serde(skip)]
    pub money: Money,
    /// The totals as shown: `null` where no value was ever entered.
    #[serde(rename = "money")]
    pub shown_money: rollup::ShownMoney,
    pub value_type: ValueType,
    pub cadence: Cadence,
    pub stale: bool,
    pub days_since_update: Option<i64>,
    pub last_update: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KrStatus {
    pub kind: KrKind,
    pub score: Option<Score>,
    pub shown: Shown,
    pub at_risk: Vec<String>,
    pub latest_actual: Option<Num>,
    pub target: Option<Num>,
    pub weight: Num,
    pub stale: bool,
    pub days_since_update: Option<i64>,
    pub last_update: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveStatus {
    pub progress: Option<Num>,
    pub shown: Shown,
    pub key_results: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct KpiStatus {
    pub ipo_class: IpoClass,
    pub direction: Direction,
    pub latest_actual: Option<Num>,
    pub target: Option<Num>,
    pub rag: Rag,
    pub stale: bool,
    pub cadence: Cadence,
    pub days_since_update: Option<i64>,
    pub last_update: Option<String>,
    pub missing: Vec<&'static str>,
}

/// The status of any item, for a tree row or a list.
#[derive(Clone, Debug, Serialize)]
pub struct ItemStatus {
    pub rag: Rag,
    /// Progress or score, 0–1, where it applies.
    pub progress: Option<Num>,
    pub stage: Option<Stage>,
    pub side_state: Option<SideState>,
    pub implementation: Option<ImplLevel>,
    pub flagged: bool,
    pub stale: bool,
    pub tier: Option<i64>,
}

fn relative_4dp<S: serde::Serializer>(r: &Option<Num>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(&crate::domain::escalation::relative_json(*r)),
        None => s.serialize_none(),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EscalationRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub kind: String,
    pub owner: Option<String>,
    pub tier: i64,
    pub tier_label: &'static str,
    pub reason: String,
    pub period: String,
    /// Four decimals, cut toward zero (see [`escalation::relative_json`]).
    #[serde(serialize_with = "relative_4dp")]
    pub relative: Option<Num>,
    pub gap: Num,
    pub periods_out: i64,
    pub assignee_role: String,
    pub assignee: Option<String>,
    pub opened_at: String,
    pub due_at: String,
    pub overdue: bool,
    pub acknowledged_by: Option<String>,
    pub snoozed_until: Option<String>,
    pub decision: Option<String>,
    pub unit: Option<String>,
}

/// A short title for any item with a key.
pub fn title_of(conn: &Db, id: i64) -> Result<String> {
    Ok(conn.query_row(
        "SELECT COALESCE((SELECT title FROM measures WHERE id = ?1), (SELECT title FROM key_results WHERE id = ?1),
                (SELECT title FROM kpis WHERE id = ?1), (SELECT title FROM objectives WHERE id = ?1), (SELECT title FROM nodes WHERE id = ?1),
                (SELECT name FROM people WHERE id = ?1), (SELECT name FROM units WHERE id = ?1), (SELECT name FROM cycles WHERE id = ?1),
                (SELECT name FROM kras WHERE id = ?1), '')",
        [id],
        |r| r.get(0),
    )?)
}

#[derive(Clone, Debug, Default)]
pub struct EscalationFilter {
    pub tier: Option<Tier>,
    pub owner_login: Option<String>,
    pub unit: Option<String>,
    pub include_closed: bool,
}

/// Open escalations (closed too with `include_closed`), most severe first: by tier, then by the
/// size of the relative gap, then of the absolute gap — the variance list's order everywhere.
pub fn escalations(conn: &Db, clock: Clock, filter: &EscalationFilter) -> Result<Vec<EscalationRow>> {
    Ok(escalation_list::query(conn, clock, filter, escalation_list::Scope::All)?.into_iter().map(|(_, row)| row).collect())
}

/// One item's open escalation (through the `escalations_item` index).
pub(crate) fn escalation_of(conn: &Db, clock: Clock, id: i64) -> Result<Option<EscalationRow>> {
    let rows = escalation_list::query(conn, clock, &EscalationFilter::default(), escalation_list::Scope::Item(id))?;
    Ok(rows.into_iter().next().map(|(_, row)| row))
}

/// An item's newest audit rows (oldest of them first), found through the `audit_item` index
/// rather than by walking the whole log backwards.
fn recent_audit(conn: &Db, key: &str, limit: i64) -> Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, actor, item_key, field, old_value, new_value, reason FROM (
             SELECT * FROM audit WHERE item_key = ?1 ORDER BY seq DESC LIMIT ?2
         ) AS newest ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![key, limit], |r| {
        Ok(AuditRow {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            entry: audit::Entry { item_key: r.get(3)?, field: r.get(4)?, old_value: r.get(5)?, new_value: r.get(6)?, reason: r.get(7)? },
        })
    })?;
    Ok(rows.collect::<DbResult<_>>()?)
}

#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub group: &'static str,
    pub name: &'static str,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub key: String,
    pub title: String,
    /// A retired item still listed beside the one shown (a measure that served a key result):
    /// marked, so a green key result over a red measure that was retired reads as what it is.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// How a retired item is marked where it is still listed (the retired filter, a detail's links).
pub const RETIRED_MARK: &str = "[retired] ";

impl Link {
    /// "KEY title" as the detail lists it, a retired item marked as the tree marks it.
    pub fn label(&self) -> String {
        let mark = if self.retired { RETIRED_MARK } else { "" };
        format!("{} {mark}{}", self.key, self.title)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct MilestoneRow {
    pub number: usize,
    pub title: String,
    pub due: String,
    pub done: Option<String>,
    pub overdue_days: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GateView {
    pub stage: Stage,
    pub side_state: Option<SideState>,
    pub side_reason: Option<String>,
    pub pending: Option<Stage>,
    pub awaiting: Vec<&'static str>,
    pub next: Option<Stage>,
    /// What the next gate still needs (empty when it could be requested now).
    pub next_missing: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DecisionRow {
    pub text: String,
    pub by: String,
    pub at: String,
    pub owner: Option<String>,
}

/// Everything the detail pane and `keel show` display about one item.
#[derive(Clone, Debug, Serialize)]
pub struct Detail {
    pub key: String,
    pub kind: ItemKind,
    pub title: String,
    pub version: i64,
    pub fields: Vec<Field>,
    pub status: ItemStatus,
    pub measure: Option<MeasureStatus>,
    pub key_result: Option<KrStatus>,
    pub kpi: Option<KpiStatus>,
    pub objective: Option<ObjectiveStatus>,
    pub values: Vec<ValueRow>,
    /// What this item serves (links up) and what serves it (links down).
    pub serves: Vec<Link>,
    pub served_by: Vec<Link>,
    pub milestones: Vec<MilestoneRow>,
    pub depends_on: Vec<Link>,
    pub gate: Option<GateView>,
    pub escalation: Option<EscalationRow>,
    pub decisions: Vec<DecisionRow>,
    pub target_gap: Option<TargetGap>,
    pub funnel: Vec<(Stage, Money)>,
    /// A node's net value: its funnel summed over the stages.
    pub node_value: Option<Money>,
    pub audit: Vec<AuditRow>,
    /// Confidence, update discipline and value source (issue 20).
    pub signals: super::signals::ItemSignals,
    /// When, why and by whom the item was retired, while it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<Retirement>,
}

/// A retired item's retirement, as its detail shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Retirement {
    pub at: String,
    pub reason: String,
    /// The login that retired it (from the audit), when the audit names one.
    pub by: Option<String>,
}

fn retirement(conn: &Db, id: i64, key: &str) -> Result<Option<Retirement>> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached("SELECT retired_at, retired_reason FROM items WHERE id = ?1 AND retired_at IS NOT NULL")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((at, reason)) = row else { return Ok(None) };
    let by: Option<String> = conn
        .prepare_cached(
            "SELECT actor FROM audit WHERE item_key = ?1 AND field = 'retired' AND new_value IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(Some(Retirement { at, reason: reason.unwrap_or_default(), by }))
}

fn links(conn: &Db, sql: &str, id: i64) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let ids: Vec<(i64, String)> = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<DbResult<_>>()?;
    ids.into_iter().map(|(i, key)| link_to(conn, i, key)).collect()
}

/// The link to one item: its key, its title, and whether it is retired.
fn link_to(conn: &Db, id: i64, key: String) -> Result<Link> {
    let retired = conn
        .prepare_cached("SELECT retired_at IS NOT NULL FROM items WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false);
    Ok(Link { key, title: title_of(conn, id)?, retired })
}

/// Money per DoI stage under a node (the value funnel), from the incrementally kept table.
pub fn node_funnel(conn: &Db, node: i64) -> Result<Vec<(Stage, Money)>> {
    let mut stmt = conn.prepare_cached("SELECT stage, planned, forecast, actual FROM node_funnel WHERE node_id = ?1")?;
    let rows: Vec<(String, Money)> = stmt
        .query_map([node], |r| {
            Ok((
                r.get(0)?,
                Money {
                    planned: r.get::<_, Option<Num>>(1)?.unwrap_or_default(),
                    forecast: r.get::<_, Option<Num>>(2)?.unwrap_or_default(),
                    actual: r.get::<_, Option<Num>>(3)?.unwrap_or_default(),
                },
            ))
        })?
        .collect::<DbResult<_>>()?;
    Ok(Stage::ALL.iter().map(|s| (*s, rows.iter().find(|(name, _)| name == s.as_str()).map(|(_, m)| *m).unwrap_or_default())).collect())
}

pub fn node_total(conn: &Db, node: i64) -> Result<Money> {
    node_funnel(conn, node)?.into_iter().try_fold(Money::default(), |a, (_, m)| a.plus(m)).map_err(|e| super::StoreError::Invalid {
        key: "roll-up".into(),
        field: "sum".into(),
        why: e.to_string(),
    })
}

impl Store {
    pub fn detail(&self, key: &ItemKey) -> Result<Detail> {
        let c = self.conn();
        let id = resolve(c, key)?;
        let clock = self.clock();
        let table = fields::table_of(key.kind);
        let version: i64 = c.query_row(&format!("SELECT version FROM {table} WHERE id = ?1"), [id], |r| r.get(0))?;
        let mut out_fields = Vec::new();
        for f in fields::fields_of(key.kind) {
            let v: Value = c.query_row(&format!("SELECT {} FROM {table} WHERE id = ?1", f.column), [id], |r| r.get(0))?;
            let shown = match (v, f.ty) {
                (Value::Null, _) => None,
                (Value::Integer(i), FieldType::Flag) => Some(if i == 1 { "yes" } else { "no" }.to_string()),
                (Value::Integer(i), _) => {
                    let k: String = c.query_row("SELECT key FROM items WHERE id = ?1", [i], |r| r.get(0))?;
                    Some(format!("{k} {}", title_of(c, i)?))
                }
                (Value::Text(s), _) => Some(s),
                (other, _) => Some(format!("{other:?}")),
            };
            out_fields.push(Field { group: f.group, name: f.name, value: shown });
        }
        let title = title_of(c, id)?;
        let status = self.with_statuses(|e| e.item(key.kind, id))?;
        let mut d = Detail {
            key: key.to_string(),
            kind: key.kind,
            title,
            version,
            fields: out_fields,
            status,
            measure: None,
            key_result: None,
            kpi: None,
            objective: None,
            values: if key.kind.has_values() { values_of(c, id, Some(12))? } else { vec![] },
            serves: vec![],
            served_by: vec![],
            milestones: vec![],
            depends_on: vec![],
            gate: None,
            escalation: None,
            decisions: vec![],
            target_gap: None,
            funnel: vec![],
            node_value: None,
            audit: recent_audit(c, &key.to_string(), 8)?,
            signals: super::signals::item_signals(c, id, &super::signals::Calendar::read(c, clock.today)?)?,
            retired: retirement(c, id, &key.to_string())?,
        };
        const UP: &str = "SELECT l.to_id, i.key FROM links l JOIN items i ON i.id = l.to_id WHERE l.from_id = ?1 ORDER BY i.kind, i.num";
        const DOWN: &str =
            "SELECT l.from_id, i.key FROM links l JOIN items i ON i.id = l.from_id WHERE l.to_id = ?1 ORDER BY i.kind, i.num";
        d.serves = links(c, UP, id)?;
        d.served_by = links(c, DOWN, id)?;
        match key.kind {
            ItemKind::Measure => {
                d.measure = Some(self.with_statuses(|e| e.measure(id))?);
                if let Some(pkg) = c.query_row("SELECT package_id FROM measures WHERE id = ?1", [id], |r| r.get::<_, Option<i64>>(0))? {
                    let k: String = c.query_row("SELECT key FROM items WHERE id = ?1", [pkg], |r| r.get(0))?;
                    d.serves.insert(0, link_to(c, pkg, k)?);
                }
                let rows: Vec<(String, String, Option<String>)> = {
                    let mut stmt =
                        c.prepare_cached("SELECT title, due_date, done_date FROM milestones WHERE measure_id = ?1 ORDER BY due_date, id")?;
                    let r = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    r.collect::<DbResult<_>>()?
                };
                d.milestones = rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, (title, due, done))| {
                        let overdue_days = match (&done, date(&due)) {
                            (None, Some(dd)) if dd < clock.today => Some((clock.today - dd).num_days()),
                            _ => None,
                        };
                        MilestoneRow { number: i + 1, title, due, done, overdue_days }
                    })
                    .collect();
                d.depends_on = links(c, "SELECT d.depends_on_id, i.key FROM dependencies d JOIN items i ON i.id = d.depends_on_id WHERE d.measure_id = ?1 ORDER BY i.num", id)?;
                let (state, facts) = rules::gate_inputs(c, id)?;
                let stage = state.stage.unwrap_or(Stage::Defined);
                let next = stage.next();
                d.gate = Some(GateView {
                    stage,
                    side_state: state.side_state,
                    side_reason: state.side_reason.clone(),
                    pending: state.pending,
                    awaiting: state.pending.map(|p| gates::awaiting(p, &state, &facts)).unwrap_or_default(),
                    next,
                    next_missing: next.map(|n| gates::missing_for(n, &facts)).unwrap_or_default(),
                });
            }
            ItemKind::KeyResult => d.key_result = Some(self.with_statuses(|e| e.kr(id))?),
            ItemKind::Kpi => d.kpi = Some(self.with_statuses(|e| e.kpi(id))?),
            ItemKind::Objective => {
                d.objective = Some(self.with_statuses(|e| e.objective(id))?);
                let target: Option<Num> = c.query_row("SELECT target FROM objectives WHERE id = ?1", [id], |r| r.get(0))?;
                if let Some(target) = target {
                    let bu = self.with_statuses(|e| e.bottom_up(id))?;
                    d.target_gap = rollup::target_gap(target, bu.forecast).ok();
                }
                let mut children = links(
                    c,
                    "SELECT k.id, i.key FROM key_results k JOIN items i ON i.id = k.id WHERE k.objective_id = ?1 ORDER BY i.num",
                    id,
                )?;
                children.extend(links(
                    c,
                    "SELECT o.id, i.key FROM objectives o JOIN items i ON i.id = o.id WHERE o.parent_id = ?1 ORDER BY i.num",
                    id,
                )?);
                d.served_by.splice(0..0, children);
                if let Some(p) = c.query_row("SELECT parent_id FROM objectives WHERE id = ?1", [id], |r| r.get::<_, Option<i64>>(0))? {
                    let k: String = c.query_row("SELECT key FROM items WHERE id = ?1", [p], |r| r.get(0))?;
                    d.serves.insert(0, link_to(c, p, k)?);
                }
            }
            k if k.node().is_some() => {
                d.funnel = node_funnel(c, id)?;
                let total = node_total(c, id)?;
                d.node_value = Some(total);
                let target: Option<Num> = c.query_row("SELECT target FROM nodes WHERE id = ?1", [id], |r| r.get(0))?;
                if let Some(target) = target {
                    d.target_gap = rollup::target_gap(target, total.forecast).ok();
                }
                let children = links(
                    c,
                    "SELECT x.id, i.key FROM (SELECT id FROM nodes WHERE parent_id = ?1 UNION ALL SELECT id FROM measures WHERE package_id = ?1) x JOIN items i ON i.id = x.id ORDER BY i.kind, i.num",
                    id,
                )?;
                d.served_by = children;
            }
            _ => {}
        }
        if key.kind == ItemKind::KeyResult {
            let o: i64 = c.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
            let k: String = c.query_row("SELECT key FROM items WHERE id = ?1", [o], |r| r.get(0))?;
            d.serves.insert(0, link_to(c, o, k)?);
        }
        d.escalation = escalation_of(c, clock, id)?;
        d.decisions = {
            let mut stmt = c.prepare_cached("SELECT text, decided_by, at, (SELECT name FROM people WHERE id = owner_id) FROM decisions WHERE item_id = ?1 ORDER BY at DESC, id DESC LIMIT 5")?;
            let r = stmt.query_map([id], |r| Ok(DecisionRow { text: r.get(0)?, by: r.get(1)?, at: r.get(2)?, owner: r.get(3)? }))?;
            r.collect::<DbResult<_>>()?
        };
        Ok(d)
    }

    pub fn escalations(&self, filter: &EscalationFilter) -> Result<Vec<EscalationRow>> {
        escalations(self.conn(), self.clock(), filter)
    }

    /// A page of the variance list (see [`escalation_list`]), each row with its rank.
    pub fn escalation_page(
        &self,
        filter: &EscalationFilter,
        scope: escalation_list::Scope,
    ) -> Result<Vec<(escalation_list::Rank, EscalationRow)>> {
        escalation_list::query(self.conn(), self.clock(), filter, scope)
    }

    /// The id and item key of every escalation that passes `filter`.
    pub fn escalation_ids(&self, filter: &EscalationFilter) -> Result<Vec<(i64, String)>> {
        escalation_list::ids(self.conn(), filter)
    }

    /// What triage has done to these escalations (see [`crate::store::edit::TriageState`]).
    pub fn triage_states(&self, ids: &[i64]) -> Result<Vec<(i64, super::edit::TriageState)>> {
        escalation_list::triage_states(self.conn(), ids)
    }

    /// How many escalations pass `filter`, or how many of them come before `rank`.
    pub fn escalation_count(&self, filter: &EscalationFilter, before: Option<&escalation_list::Rank>) -> Result<usize> {
        escalation_list::count(self.conn(), filter, before)
    }

    pub fn audit_log(&self, key: Option<&str>, since: Option<&str>, limit: Option<i64>) -> Result<Vec<AuditRow>> {
        audit::list(self.conn(), key, since, limit)
    }

    pub fn verify_audit(&self) -> Result<audit::Verification> {
        audit::verify(self.conn())
    }

    pub fn audit_row_with_hash(&self, hash: &str) -> Result<Option<i64>> {
        audit::row_with_hash(self.conn(), hash)
    }

    pub fn derived_differences(&self) -> Result<Vec<String>> {
        let mut diffs = rules::derived_differences(self.conn(), self.clock().today)?;
        // The kept tables against a recompute (they do not depend on today).
        diffs.extend(super::kept::differences(self.conn())?);
        let search = self.search_index_drift()?;
        diffs.extend(search.into_iter().map(|k| format!("{k}: the search index differs from its key, title or owner")));
        Ok(diffs)
    }

    /// The items stale today, in the stale list's order, from the kept staleness (an index
    /// range, not a whole check).
    pub fn stale_items(&self) -> Result<Vec<super::check::StaleItem>> {
        Ok(super::kept::stale::stale_on(self.conn(), self.clock().today, super::kept::stale::Shape::Full)?)
    }

    /// The status of any item, computed in bulk for its subtree and remembered until the file
    /// changes (the same figures as [`item_status`]).
    pub fn item_status(&self, key: &ItemKey) -> Result<ItemStatus> {
        let id = resolve(self.conn(), key)?;
        self.with_statuses(|e| e.item(key.kind, id))
    }

    /// The current period for an item, from its cadence and today's local date.
    pub fn current_period(&self, key: &ItemKey) -> Result<Period> {
        let c = self.conn();
        let id = resolve(c, key)?;
        let cadence: Option<String> = match key.kind {
            ItemKind::Measure => c.query_row("SELECT cadence FROM measures WHERE id = ?1", [id], |r| r.get(0))?,
            ItemKind::Kpi => c.query_row("SELECT frequency FROM kpis WHERE id = ?1", [id], |r| r.get(0))?,
            _ => None,
        };
        // Follow the periods the item already uses, so a weekly KPI keeps weekly keys.
        let latest: Option<String> = c
            .query_row("SELECT period FROM item_values WHERE item_id = ?1 ORDER BY period_start DESC LIMIT 1", [id], |r| r.get(0))
            .optional()?;
        let today = self.clock().today;
        if let Some(p) = latest.and_then(|p| Period::parse(&p).ok()) {
            return Ok(match p {
                Period::Week { .. } => Period::week_of(today),
                Period::Month { .. } => Cadence::Monthly.period_of(today),
                Period::Quarter { .. } => Cadence::Quarterly.period_of(today),
            });
        }
        Ok(cadence.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Weekly).period_of(today))
    }

    /// Look up a person by key or login.
    pub fn person_id(&self, key: &ItemKey) -> Result<i64> {
        resolve(self.conn(), key)
    }

    /// Facts for the health checks, one per objective of the file.
    pub fn objective_facts(&self) -> Result<Vec<(i64, ObjectiveFacts)>> {
        let c = self.conn();
        let mut stmt = c.prepare(
            "SELECT o.id, i.key, o.title, o.parent_id IS NOT NULL, EXISTS (SELECT 1 FROM objectives x WHERE x.parent_id = o.id)
             FROM objectives o JOIN items i ON i.id = o.id ORDER BY i.num",
        )?;
        let base: Vec<(i64, String, String, bool, bool)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<DbResult<_>>()?;
        let mut out = Vec::new();
        for (id, key, title, has_parent, has_children) in base {
            let units: Vec<String> = {
                let mut s =
                    c.prepare_cached("SELECT i.key FROM objective_units ou JOIN items i ON i.id = ou.unit_id WHERE ou.objective_id = ?1")?;
                let r = s.query_map([id], |r| r.get(0))?;
                r.collect::<DbResult<_>>()?
            };
            let kpi_classes: Vec<IpoClass> = {
                let mut s = c.prepare_cached(
                    "SELECT DISTINCT k.id, k.ipo_class FROM kpis k JOIN links l ON l.from_id = k.id
                     WHERE l.to_id = ?1 OR l.to_id IN (SELECT id FROM key_results WHERE objective_id = ?1)",
                )?;
                let r = s.query_map([id], |r| r.get::<_, String>(1))?;
                r.filter_map(|x| x.ok()).filter_map(|x| IpoClass::parse(&x)).collect()
            };
            let (measures, owners_missing, milestones, risks, deps, money, cadence): (i64, i64, i64, i64, i64, i64, i64) = c.query_row(
                "WITH ms AS (SELECT DISTINCT m.* FROM measures m JOIN links l ON l.from_id = m.id JOIN key_results k ON k.id = l.to_id WHERE k.objective_id = ?1)
                 SELECT COUNT(*), COUNT(*) FILTER (WHERE owner_id IS NULL),
                        (SELECT COUNT(*) FROM milestones WHERE measure_id IN (SELECT id FROM ms)),
                        COUNT(*) FILTER (WHERE risk IS NOT NULL AND risk <> ''),
                        (SELECT COUNT(*) FROM dependencies WHERE measure_id IN (SELECT id FROM ms) OR depends_on_id IN (SELECT id FROM ms)),
                        (SELECT COUNT(*) FROM item_values WHERE item_id IN (SELECT id FROM ms) AND planned IS NOT NULL),
                        COUNT(*) FILTER (WHERE cadence IS NOT NULL)
                 FROM ms",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )?;
            let key_results: i64 = c.query_row("SELECT COUNT(*) FROM key_results WHERE objective_id = ?1", [id], |r| r.get(0))?;
            out.push((
                id,
                ObjectiveFacts {
                    key,
                    title,
                    has_parent,
                    has_children,
                    units,
                    kpi_classes,
                    measures: measures as usize,
                    measure_owners_missing: owners_missing as usize,
                    milestones: milestones as usize,
                    risks_written: risks as usize,
                    dependencies: deps as usize,
                    money_values: money as usize,
                    cadence_set: cadence > 0,
                    key_results: key_results as usize,
                },
            ));
        }
        Ok(out)
    }
}

impl Store {
    /// Gate requests waiting for the acting person: key, title, requested stage, what is awaited.
    pub fn pending_approvals(&self) -> Result<Vec<(String, String, Stage, String)>> {
        match self.actor.person_id {
            Some(me) => self.pending_approvals_for(me, self.actor.pmo_admin),
            None => Ok(vec![]),
        }
    }

    /// Gate requests one person may decide (as sponsor or controller; every one for a PMO
    /// administrator when `all` is set): (key, title, requested stage, who it awaits).
    pub fn pending_approvals_for(&self, me: i64, all: bool) -> Result<Vec<(String, String, Stage, String)>> {
        let c = self.conn();
        let ids: Vec<(i64, String, String)> = {
            let mut s = c.prepare(
                "SELECT m.id, i.key, m.title FROM measures m JOIN items i ON i.id = m.id
                 WHERE m.pending_stage IS NOT NULL AND (m.sponsor_id = ?1 OR m.controller_id = ?1 OR ?2) ORDER BY i.num",
            )?;
            let r = s.query_map(params![me, all], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let mut out = Vec::new();
        for (id, key, title) in ids {
            let (state, facts) = rules::gate_inputs(c, id)?;
            if let Some(p) = state.pending {
                out.push((key, title, p, gates::awaiting(p, &state, &facts).join(" and ")));
            }
        }
        Ok(out)
    }
}
