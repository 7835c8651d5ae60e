//! The working rhythms: the weekly update (what is due, narratives required when off plan),
//! check-in meetings (agenda, decisions, what changed since the last one) and cycle turnover.

use super::audit::{self, Row as AuditRow};
use super::edit::{key_of, Ctx};
use super::read::title_of;
use super::{resolve, Result, Store, StoreError};
use crate::domain::status::Rag;
use crate::domain::{ItemKey, ItemKind, Num};
use crate::store::engine::{params, DbResult, OptionalExtension};
use chrono::NaiveDate;
use serde::Serialize;

pub(crate) fn start_meeting(ctx: &mut Ctx, agenda: &[ItemKey]) -> Result<()> {
    let keys: Vec<String> = agenda.iter().map(|k| k.to_string()).collect();
    let id: i64 = ctx.tx.query_row(
        "INSERT INTO meetings (started_at, facilitator, agenda) VALUES (?1, ?2, ?3) RETURNING id",
        params![ctx.clock.stamp(), ctx.actor.login, keys.join(",")],
        |r| r.get(0),
    )?;
    ctx.opened_meeting = Some(id);
    ctx.log(&format!("MTG-{id}"), "meeting", None, Some(format!("started: {} items", keys.len())));
    Ok(())
}

pub(crate) fn end_meeting(ctx: &mut Ctx, id: i64) -> Result<()> {
    let n = ctx.tx.execute(
        "UPDATE meetings SET ended_at = ?1, version = version + 1 WHERE id = ?2 AND ended_at IS NULL",
        params![ctx.clock.stamp(), id],
    )?;
    if n == 0 {
        return Err(StoreError::Invalid { key: format!("MTG-{id}"), field: "meeting".into(), why: "is not an open meeting".into() });
    }
    ctx.log(&format!("MTG-{id}"), "meeting", Some("open".into()), Some("ended".into()));
    ctx.event(super::events::Event::new("checkin-closed", "").with("meeting", &format!("MTG-{id}")));
    Ok(())
}

fn next_key(ctx: &Ctx, kind: ItemKind) -> Result<(i64, ItemKey)> {
    let num: u32 = ctx.tx.query_row("SELECT COALESCE(MAX(num), 0) + 1 FROM items WHERE kind = ?1", [kind.as_str()], |r| r.get(0))?;
    let key = ItemKey::new(kind, num);
    let id = ctx.tx.query_row(
        "INSERT INTO items (kind, num, key) VALUES (?1, ?2, ?3) RETURNING id",
        params![kind.as_str(), num, key.to_string()],
        |r| r.get(0),
    )?;
    Ok((id, key))
}

/// Start a new cycle from an old one: objectives and key results are copied with their
/// alignment (parents within the cycle map to the copies) and the KPIs that inform them;
/// values are not. Targets are kept for review; confidence and manual statuses start empty.
pub(crate) fn copy_cycle(ctx: &mut Ctx, from: &ItemKey, name: &str, start: NaiveDate, end: NaiveDate) -> Result<()> {
    if !(ctx.trusted || ctx.actor.pmo_admin) {
        return Err(StoreError::Permission("only a PMO administrator may start a new cycle".into()));
    }
    if from.kind != ItemKind::Cycle {
        return Err(StoreError::Invalid { key: from.to_string(), field: "cycle".into(), why: "is not a cycle (C-n)".into() });
    }
    if start > end || name.trim().is_empty() {
        return Err(StoreError::Invalid {
            key: name.to_string(),
            field: "cycle".into(),
            why: "needs a name and a start on or before its end".into(),
        });
    }
    let old_cycle = resolve(ctx.tx, from)?;
    let taken: bool = ctx.tx.query_row("SELECT EXISTS (SELECT 1 FROM cycles WHERE name = ?1)", [name.trim()], |r| r.get(0))?;
    if taken {
        return Err(StoreError::Invalid {
            key: name.to_string(),
            field: "cycle".into(),
            why: "a cycle with this name exists already".into(),
        });
    }
    let (cycle_id, cycle_key) = next_key(ctx, ItemKind::Cycle)?;
    ctx.tx.execute(
        "INSERT INTO cycles (id, name, start_date, end_date) VALUES (?1, ?2, ?3, ?4)",
        params![cycle_id, name.trim(), start.to_string(), end.to_string()],
    )?;
    ctx.log(&cycle_key.to_string(), "created", None, Some(format!("{} ({start} – {end}), copied from {from}", name.trim())));
    let objectives: Vec<i64> = {
        let mut s = ctx.tx.prepare(
            "SELECT o.id FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL WHERE o.cycle_id = ?1 ORDER BY i.num",
        )?;
        let r = s.query_map([old_cycle], |r| r.get(0))?;
        r.collect::<DbResult<_>>()?
    };
    let mut map = std::collections::HashMap::new();
    for old in &objectives {
        let (new, key) = next_key(ctx, ItemKind::Objective)?;
        ctx.tx.execute(
            "INSERT INTO objectives (id, cycle_id, title, description, owner_id, level, target)
             SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), title, description, owner_id, level, target FROM objectives WHERE id = ?3",
            params![new, cycle_id, old],
        )?;
        ctx.tx.execute(
            "INSERT INTO objective_units (objective_id, unit_id) SELECT CAST(?1 AS BIGINT), unit_id FROM objective_units WHERE objective_id = ?2",
            params![new, old],
        )?;
        map.insert(*old, new);
        let old_key = key_of(ctx.tx, *old)?;
        ctx.log(&key.to_string(), "created", None, Some(format!("copied from {old_key} into {cycle_key}")));
    }
    for (old, new) in &map {
        let parent: Option<i64> = ctx.tx.query_row("SELECT parent_id FROM objectives WHERE id = ?1", [old], |r| r.get(0))?;
        if let Some(p) = parent {
            let mapped = map.get(&p).copied().unwrap_or(p);
            ctx.tx.execute("UPDATE objectives SET parent_id = ?1 WHERE id = ?2", params![mapped, new])?;
        }
    }
    for old in &objectives {
        let krs: Vec<i64> = {
            let mut s =
                ctx.tx.prepare("SELECT k.id FROM key_results k JOIN items i ON i.id = k.id AND i.retired_at IS NULL WHERE k.objective_id = ?1 ORDER BY i.num")?;
            let r = s.query_map([old], |r| r.get(0))?;
            r.collect::<DbResult<_>>()?
        };
        for kr in krs {
            let (new, key) = next_key(ctx, ItemKind::KeyResult)?;
            ctx.tx.execute(
                "INSERT INTO key_results (id, objective_id, title, kind, baseline, target, unit, weight, owner_id)
                 SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), title, kind, baseline, target, unit, weight, owner_id FROM key_results WHERE id = ?3",
                params![new, map[old], kr],
            )?;
            map.insert(kr, new);
            let old_key = key_of(ctx.tx, kr)?;
            ctx.log(&key.to_string(), "created", None, Some(format!("copied from {old_key}: review its baseline and target")));
        }
    }
    // KPIs keep watching the copied objectives and key results.
    for (old, new) in &map {
        ctx.tx.execute(
            "INSERT INTO links (from_id, to_id) SELECT l.from_id, ?1 FROM links l JOIN kpis k ON k.id = l.from_id WHERE l.to_id = ?2 ON CONFLICT DO NOTHING",
            params![new, old],
        )?;
    }
    ctx.effects.push(format!(
        "{cycle_key} {name}: copied {} objectives and {} key results from {from}; review their targets",
        objectives.len(),
        map.len() - objectives.len()
    ));
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
pub struct DueItem {
    pub key: String,
    pub title: String,
    pub period: String,
    pub last_update: Option<String>,
    /// Red or escalated: the update must say why and what happens next.
    pub needs_narrative: bool,
    pub tier: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PeriodValues {
    pub actual: Option<Num>,
    pub forecast: Option<Num>,
    pub planned: Option<Num>,
    pub confidence: Option<Num>,
    pub comment: Option<String>,
    pub version: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemChanges {
    pub key: String,
    pub title: String,
    pub changes: Vec<AuditRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Meeting {
    pub id: i64,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub facilitator: String,
}

/// How many escalations and late milestones an objective's page lists (a company objective
/// can have thousands beneath it; the page says how many more).
pub const BENEATH_SHOWN: usize = 30;

/// What a check-in's objective page shows beneath the objective.
#[derive(Clone, Debug, Default)]
pub struct Beneath {
    pub escalations: Vec<super::read::EscalationRow>,
    pub escalations_total: usize,
    pub late: Vec<LateMilestone>,
    pub late_total: usize,
}

/// A milestone past its due date and not done, on a measure beneath an objective.
#[derive(Clone, Debug)]
pub struct LateMilestone {
    pub key: String,
    pub title: String,
    pub due: String,
    pub days: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeetingDecision {
    pub key: String,
    pub title: String,
    pub text: String,
    pub owner: Option<String>,
    pub by: String,
}

impl Store {
    /// The acting person's items whose cadence makes an update due now, oldest update first.
    pub fn due_updates(&self) -> Result<Vec<DueItem>> {
        match self.actor.person_id {
            Some(me) => self.due_updates_for(me),
            None => Ok(vec![]),
        }
    }

    /// One person's items whose cadence makes an update due now, oldest update first.
    pub fn due_updates_for(&self, me: i64) -> Result<Vec<DueItem>> {
        let c = self.conn();
        let ids: Vec<(i64, String)> = {
            let mut s = c.prepare(
                "SELECT x.id, i.key FROM (
                     SELECT id FROM measures WHERE owner_id = ?1 AND side_state IS NULL AND stage <> 'closed'
                         AND EXISTS (SELECT 1 FROM item_values WHERE item_id = measures.id)
                     UNION ALL SELECT id FROM key_results WHERE owner_id = ?1 AND kind <> 'milestone'
                     UNION ALL SELECT id FROM kpis WHERE owner_id = ?1
                 ) x JOIN items i ON i.id = x.id AND i.retired_at IS NULL",
            )?;
            let r = s.query_map([me], |r| Ok((r.get(0)?, r.get(1)?)))?;
            r.collect::<DbResult<_>>()?
        };
        let mut out = Vec::new();
        for (id, key) in ids {
            let k = ItemKey::parse(&key).map_err(|e| StoreError::Invalid { key: key.clone(), field: "key".into(), why: e.to_string() })?;
            let period = self.current_period(&k)?.to_string();
            let done: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM item_values WHERE item_id = ?1 AND period = ?2 AND actual IS NOT NULL)",
                params![id, period],
                |r| r.get(0),
            )?;
            if done {
                continue;
            }
            let last: Option<String> = c.query_row(
                "SELECT MAX(COALESCE(reported_at, updated_at)) FROM item_values WHERE item_id = ?1 AND actual IS NOT NULL",
                [id],
                |r| r.get(0),
            )?;
            let tier: Option<i64> =
                c.query_row("SELECT tier FROM escalations WHERE item_id = ?1 AND state = 'open'", [id], |r| r.get(0)).optional()?;
            let status = self.with_statuses(|e| e.item(k.kind, id))?;
            out.push(DueItem {
                title: title_of(c, id)?,
                key,
                period,
                last_update: last,
                needs_narrative: tier.is_some() || status.rag == Rag::Red,
                tier,
            });
        }
        out.sort_by(|a, b| a.last_update.cmp(&b.last_update).then_with(|| a.key.cmp(&b.key)));
        Ok(out)
    }

    /// One period's numbers of an item (empty when nothing is entered yet; version 0).
    pub fn period_values(&self, key: &ItemKey, period: &str) -> Result<PeriodValues> {
        let c = self.conn();
        let id = resolve(c, key)?;
        let n = |s: Option<String>| s.and_then(|s| Num::from_stored(&s));
        Ok(c.query_row(
            "SELECT actual, forecast, planned, confidence, comment, version FROM item_values WHERE item_id = ?1 AND period = ?2",
            params![id, period],
            |r| {
                Ok(PeriodValues {
                    actual: n(r.get(0)?),
                    forecast: n(r.get(1)?),
                    planned: n(r.get(2)?),
                    confidence: n(r.get(3)?),
                    comment: r.get(4)?,
                    version: r.get(5)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
    }

    /// Every change since a time, grouped by item (newest item activity first).
    pub fn changes_since(&self, since: &str) -> Result<Vec<ItemChanges>> {
        let rows = audit::list(self.conn(), None, Some(since), None)?;
        let mut groups: Vec<ItemChanges> = Vec::new();
        // Where each item's group is: a busy week touches tens of thousands of items.
        let mut group_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for r in rows {
            if r.entry.item_key.starts_with("MTG-") {
                continue;
            }
            match group_of.get(&r.entry.item_key) {
                Some(&g) => groups[g].changes.push(r),
                None => {
                    group_of.insert(r.entry.item_key.clone(), groups.len());
                    let title = ItemKey::parse(&r.entry.item_key)
                        .ok()
                        .and_then(|k| resolve(self.conn(), &k).ok())
                        .and_then(|id| title_of(self.conn(), id).ok())
                        .unwrap_or_default();
                    groups.push(ItemChanges { key: r.entry.item_key.clone(), title, changes: vec![r] });
                }
            }
        }
        // Most recently changed first.
        groups.sort_by(|a, b| b.changes.last().map(|r| r.seq).cmp(&a.changes.last().map(|r| r.seq)));
        Ok(groups)
    }

    /// The most recent check-in that started before now and decided something (to ask "what
    /// changed since"): a meeting opened and closed with no decision does not move the baseline.
    pub fn last_meeting(&self, before: Option<i64>) -> Result<Option<Meeting>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, started_at, ended_at, facilitator FROM meetings
                 WHERE (CAST(?1 AS BIGINT) IS NULL OR id < ?1) AND EXISTS (SELECT 1 FROM decisions d WHERE d.meeting_id = meetings.id)
                 ORDER BY id DESC LIMIT 1",
                [before],
                |r| Ok(Meeting { id: r.get(0)?, started_at: r.get(1)?, ended_at: r.get(2)?, facilitator: r.get(3)? }),
            )
            .optional()?)
    }

    /// Beneath an objective — its key results, its sub-objectives' (any depth) and what serves
    /// them (measures, KPIs): the open escalations, most severe first, and the late milestones,
    /// oldest first; at most `BENEATH_SHOWN` of each, with how many there are in all.
    pub fn beneath_objective(&self, key: &ItemKey) -> Result<Beneath> {
        let c = self.conn();
        let id = resolve(c, key)?;
        const UNDER: &str =
            "WITH RECURSIVE objs(id) AS (SELECT CAST(?1 AS BIGINT) UNION SELECT o.id FROM objectives o JOIN objs ON o.parent_id = objs.id),
            krs AS (SELECT id FROM key_results WHERE objective_id IN (SELECT id FROM objs)),
            under AS (SELECT id FROM krs UNION SELECT l.from_id FROM links l WHERE l.to_id IN (SELECT id FROM krs)
                      UNION SELECT l.from_id FROM links l WHERE l.to_id IN (SELECT id FROM objs))";
        let ids: Vec<i64> = c
            .prepare_cached(&format!(
                "{UNDER} SELECT e.id FROM escalations e WHERE e.state = 'open' AND e.item_id IN (SELECT id FROM under)
                 ORDER BY e.rank_tier, e.rank_relative, e.rank_gap, e.id"
            ))?
            .query_map([id], |r| r.get(0))?
            .collect::<DbResult<_>>()?;
        let mut escalations = Vec::new();
        let all = super::read::EscalationFilter::default();
        for e in ids.iter().take(BENEATH_SHOWN) {
            escalations.extend(
                super::escalation_list::query(c, self.clock(), &all, super::escalation_list::Scope::Escalation(*e))?
                    .into_iter()
                    .map(|(_, r)| r),
            );
        }
        // Late as the check counts it.
        let today = self.clock().today;
        let late_rule = super::check::late_milestone("?2");
        let late: Vec<LateMilestone> = c
            .prepare_cached(&format!(
                "{UNDER} SELECT i.key, ms.title, ms.due_date FROM milestones ms JOIN items i ON i.id = ms.measure_id AND i.retired_at IS NULL
                 JOIN measures m ON m.id = ms.measure_id
                 WHERE ms.measure_id IN (SELECT id FROM under) AND {late_rule}
                 ORDER BY ms.due_date, i.num"
            ))?
            .query_map(params![id, today.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
            .collect::<DbResult<Vec<_>>>()?
            .into_iter()
            .map(|(key, title, due)| {
                let days = NaiveDate::parse_from_str(&due, "%Y-%m-%d").map(|d| (today - d).num_days()).unwrap_or(0);
                LateMilestone { key, title, due, days }
            })
            .collect();
        let late_total = late.len();
        Ok(Beneath { escalations, escalations_total: ids.len(), late: late.into_iter().take(BENEATH_SHOWN).collect(), late_total })
    }

    pub fn meeting_decisions(&self, meeting: i64) -> Result<Vec<MeetingDecision>> {
        let c = self.conn();
        let mut s = c.prepare(
            "SELECT i.key, d.item_id, d.text, (SELECT name FROM people WHERE id = d.owner_id), d.decided_by
             FROM decisions d JOIN items i ON i.id = d.item_id WHERE d.meeting_id = ?1 ORDER BY d.id",
        )?;
        let rows: Vec<(String, i64, String, Option<String>, String)> =
            s.query_map([meeting], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<DbResult<_>>()?;
        rows.into_iter().map(|(key, id, text, owner, by)| Ok(MeetingDecision { key, title: title_of(c, id)?, text, owner, by })).collect()
    }

    /// Cycles, newest first: key, name, start, end.
    pub fn cycles(&self) -> Result<Vec<(String, String, String, String)>> {
        let mut s = self.conn().prepare(
            "SELECT i.key, c.name, c.start_date, c.end_date FROM cycles c JOIN items i ON i.id = c.id AND i.retired_at IS NULL ORDER BY c.start_date DESC",
        )?;
        let r = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(r.collect::<DbResult<_>>()?)
    }

    /// Objectives in agenda order: parents before children, by key. Walked with an explicit stack
    /// (no path strings that grow with depth, no recursion), so any depth of alignment is safe.
    pub fn agenda_objectives(&self, unit: Option<&str>) -> Result<Vec<String>> {
        let mut s = self.conn().prepare(
            "SELECT o.id, o.parent_id, i.key,
                    ?1 IS NULL OR EXISTS (SELECT 1 FROM objective_units ou JOIN items u ON u.id = ou.unit_id WHERE ou.objective_id = o.id AND u.key = ?1)
             FROM objectives o JOIN items i ON i.id = o.id AND i.retired_at IS NULL ORDER BY i.num DESC",
        )?;
        let mut roots = Vec::new();
        let mut children: std::collections::HashMap<i64, Vec<(i64, String, bool)>> = std::collections::HashMap::new();
        let mut rows = s.query([unit])?;
        while let Some(r) = rows.next()? {
            let node = (r.get(0)?, r.get(2)?, r.get(3)?);
            match r.get::<_, Option<i64>>(1)? {
                Some(p) => children.entry(p).or_default().push(node),
                None => roots.push(node),
            }
        }
        // Lists are in descending key order, so popping the stack visits them ascending.
        let (mut out, mut stack) = (Vec::new(), roots);
        while let Some((id, key, shown)) = stack.pop() {
            if shown {
                out.push(key);
            }
            stack.extend(children.remove(&id).unwrap_or_default());
        }
        Ok(out)
    }
}

impl Store {
    /// Keys of all nodes of a kind (e.g. every programme), in key order.
    pub fn outline_children_keys_of_kind(&self, kind: &str) -> Result<Vec<String>> {
        let mut s = self.conn().prepare("SELECT key FROM items WHERE kind = ?1 ORDER BY num")?;
        let r = s.query_map([kind], |r| r.get(0))?;
        Ok(r.collect::<DbResult<_>>()?)
    }
}
