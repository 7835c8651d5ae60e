//! The variance list: escalations most severe first — by tier, then by the size of the relative
//! gap (none last), then of the absolute gap, then by id — one order for the app, the CLI and
//! reports.
//!
//! The app reads it a page at a time by keyset: a page starts after (or before) the rank of a row
//! already shown, found through the `escalations_open_order` index on the rank columns (schema
//! v5), so moving through 100,000 open escalations costs the same as through ten. Never OFFSET,
//! which walks every row it skips.

use super::read::{EscalationFilter, EscalationRow};
use super::{Clock, Result};
use crate::domain::escalation::Tier;
use crate::domain::Num;
use crate::store::engine::{Db, DbResult, ToParam};

/// Where a row stands in the list's order: the rank columns SQLite computes (generated columns
/// of `escalations`), compared exactly as the index compares them.
#[derive(Clone, Debug, PartialEq)]
pub struct Rank {
    tier: i64,
    relative: f64,
    gap: f64,
    id: i64,
}

/// Which rows.
#[derive(Clone, Debug)]
pub enum Scope {
    /// The whole list.
    All,
    /// One item's escalations.
    Item(i64),
    /// One escalation, if it passes the filter (to find where it stands now).
    Escalation(i64),
    /// A page: the first rows, the last rows, or the rows after / before a rank, or from a rank on.
    First(usize),
    Last(usize),
    After(Rank, usize),
    Before(Rank, usize),
    From(Rank, usize),
}

/// One statement: names, owner, unit and title come from correlated lookups by primary key (the
/// title as `read::title_of` gives it).
const SELECT: &str = "SELECT e.id, i.key, i.kind, e.tier, e.reason, e.period, e.relative, e.gap, e.periods_out, e.assignee_role,
        (SELECT name FROM people WHERE id = e.assignee_id), e.opened_at, e.due_at, e.acknowledged_by, e.snoozed_until, e.decision,
        COALESCE((SELECT p.name FROM measures m JOIN people p ON p.id = m.owner_id WHERE m.id = e.item_id),
                 (SELECT p.name FROM key_results k JOIN people p ON p.id = k.owner_id WHERE k.id = e.item_id),
                 (SELECT p.name FROM kpis k JOIN people p ON p.id = k.owner_id WHERE k.id = e.item_id)),
        (SELECT u.key FROM measures m JOIN items u ON u.id = m.business_unit_id WHERE m.id = e.item_id),
        COALESCE((SELECT title FROM measures WHERE id = e.item_id), (SELECT title FROM key_results WHERE id = e.item_id),
                 (SELECT title FROM kpis WHERE id = e.item_id), (SELECT title FROM objectives WHERE id = e.item_id),
                 (SELECT title FROM nodes WHERE id = e.item_id), (SELECT name FROM people WHERE id = e.item_id),
                 (SELECT name FROM units WHERE id = e.item_id), (SELECT name FROM cycles WHERE id = e.item_id),
                 (SELECT name FROM kras WHERE id = e.item_id), ''),
        e.rank_tier, e.rank_relative, e.rank_gap";

/// The filters, as conditions on `e` (the owner's login and the unit by correlated lookup).
const FILTERS: &str = " AND (CAST(:tier AS BIGINT) IS NULL OR e.rank_tier = -CAST(:tier AS BIGINT))
    AND (CAST(:login AS TEXT) IS NULL OR :login = COALESCE(
            (SELECT p.login FROM measures m JOIN people p ON p.id = m.owner_id WHERE m.id = e.item_id),
            (SELECT p.login FROM key_results k JOIN people p ON p.id = k.owner_id WHERE k.id = e.item_id),
            (SELECT p.login FROM kpis k JOIN people p ON p.id = k.owner_id WHERE k.id = e.item_id)))
    AND (CAST(:unit AS TEXT) IS NULL OR :unit = (SELECT u.key FROM measures m JOIN items u ON u.id = m.business_unit_id WHERE m.id = e.item_id))";

/// The id and item key of every row that passes `filter` (to mark them all).
pub fn ids(conn: &Db, filter: &EscalationFilter) -> Result<Vec<(i64, String)>> {
    let mut sql = String::from("SELECT e.id, i.key FROM escalations e JOIN items i ON i.id = e.item_id WHERE ");
    sql.push_str(if filter.include_closed { "TRUE" } else { "e.state = 'open'" });
    sql.push_str(FILTERS);
    let tier = filter.tier.map(Tier::number);
    let params: Vec<(&str, &dyn ToParam)> = vec![(":tier", &tier), (":login", &filter.owner_login), (":unit", &filter.unit)];
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&params[..], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<DbResult<_>>()?;
    Ok(rows)
}

/// What triage has done to each of these escalations, to put it back if an action was a mistake.
pub fn triage_states(conn: &Db, ids: &[i64]) -> Result<Vec<(i64, super::edit::TriageState)>> {
    let mut stmt = conn
        .prepare_cached("SELECT acknowledged_by, acknowledged_at, assignee_id, snoozed_until, decision FROM escalations WHERE id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let state = stmt.query_row([id], |r| {
            Ok(super::edit::TriageState {
                acknowledged_by: r.get(0)?,
                acknowledged_at: r.get(1)?,
                assignee_id: r.get(2)?,
                snoozed_until: r.get(3)?,
                decision: r.get(4)?,
            })
        })?;
        out.push((*id, state));
    }
    Ok(out)
}

const ORDER: &str = "e.rank_tier, e.rank_relative, e.rank_gap, e.id";
const ORDER_DESC: &str = "e.rank_tier DESC, e.rank_relative DESC, e.rank_gap DESC, e.id DESC";
const RANK: &str = "(e.rank_tier, e.rank_relative, e.rank_gap, e.id)";

/// The rows of `scope` that pass `filter`, in the list's order, each with its rank.
pub fn query(conn: &Db, clock: Clock, filter: &EscalationFilter, scope: Scope) -> Result<Vec<(Rank, EscalationRow)>> {
    // Pages walk the order index (open escalations only); one item's rows come through
    // `escalations_item`, one escalation by its id; the whole list is read in one pass and sorted.
    let paged = !matches!(scope, Scope::All | Scope::Item(_) | Scope::Escalation(_)) && !filter.include_closed;
    let mut sql = String::from(SELECT);
    sql.push_str(" FROM escalations e");
    if paged {
        sql.push_str(&conn.index_hint("escalations_open_order"));
    }
    sql.push_str(" JOIN items i ON i.id = e.item_id WHERE ");
    sql.push_str(if filter.include_closed { "TRUE" } else { "e.state = 'open'" });
    sql.push_str(FILTERS);
    let tier = filter.tier.map(Tier::number);
    let mut params: Vec<(&str, &dyn ToParam)> = vec![(":tier", &tier), (":login", &filter.owner_login), (":unit", &filter.unit)];
    let (bound, descending, limit) = match &scope {
        Scope::All => (None, false, None),
        Scope::Item(id) => {
            sql.push_str(" AND e.item_id = :item");
            params.push((":item", id));
            (None, false, None)
        }
        Scope::Escalation(id) => {
            sql.push_str(" AND e.id = :escalation");
            params.push((":escalation", id));
            (None, false, None)
        }
        Scope::First(n) => (None, false, Some(*n)),
        Scope::Last(n) => (None, true, Some(*n)),
        Scope::After(r, n) => (Some((">", r)), false, Some(*n)),
        Scope::Before(r, n) => (Some(("<", r)), true, Some(*n)),
        Scope::From(r, n) => (Some((">=", r)), false, Some(*n)),
    };
    if let Some((op, r)) = bound {
        sql.push_str(&format!(" AND {RANK} {op} (:t, :r, :g, :id)"));
        params.extend([(":t", &r.tier as &dyn ToParam), (":r", &r.relative), (":g", &r.gap), (":id", &r.id)]);
    }
    sql.push_str(" ORDER BY ");
    sql.push_str(if descending { ORDER_DESC } else { ORDER });
    let limit = limit.map(|n| n as i64);
    if let Some(n) = &limit {
        sql.push_str(" LIMIT :limit");
        params.push((":limit", n));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let now = clock.stamp();
    let mut rows = stmt
        .query_map(&params[..], |r| {
            let tier: i64 = r.get(3)?;
            let due: String = r.get(12)?;
            let rank = Rank { tier: r.get(19)?, relative: r.get(20)?, gap: r.get(21)?, id: r.get(0)? };
            let row = EscalationRow {
                id: r.get(0)?,
                key: r.get(1)?,
                kind: r.get(2)?,
                title: r.get(18)?,
                owner: r.get(16)?,
                tier,
                tier_label: Tier::from_number(tier).map(|t| t.label()).unwrap_or("?"),
                reason: r.get(4)?,
                period: r.get(5)?,
                relative: r.get::<_, Option<String>>(6)?.and_then(|s| Num::from_stored(&s)),
                gap: r.get::<_, Option<String>>(7)?.and_then(|s| Num::from_stored(&s)).unwrap_or_default(),
                periods_out: r.get(8)?,
                assignee_role: r.get(9)?,
                assignee: r.get(10)?,
                opened_at: r.get(11)?,
                overdue: due < now,
                due_at: due,
                acknowledged_by: r.get(13)?,
                snoozed_until: r.get(14)?,
                decision: r.get(15)?,
                unit: r.get(17)?,
            };
            Ok((rank, row))
        })?
        .collect::<DbResult<Vec<_>>>()?;
    if descending {
        rows.reverse();
    }
    Ok(rows)
}

/// How many rows pass `filter`, and how many of them come before `rank` (a page's position).
pub fn count(conn: &Db, filter: &EscalationFilter, before: Option<&Rank>) -> Result<usize> {
    if before.is_none() && !filter.include_closed {
        // The whole list's count is kept by the write path (see `kept::escalations`).
        return Ok(super::kept::escalations::count(conn, filter.tier, filter.owner_login.as_deref(), filter.unit.as_deref())?);
    }
    let mut sql = String::from("SELECT COUNT(*) FROM escalations e");
    if !filter.include_closed {
        sql.push_str(&conn.index_hint("escalations_open_order"));
    }
    sql.push_str(" WHERE ");
    sql.push_str(if filter.include_closed { "TRUE" } else { "e.state = 'open'" });
    sql.push_str(FILTERS);
    let tier = filter.tier.map(Tier::number);
    let mut params: Vec<(&str, &dyn ToParam)> = vec![(":tier", &tier), (":login", &filter.owner_login), (":unit", &filter.unit)];
    if let Some(r) = before {
        sql.push_str(&format!(" AND {RANK} < (:t, :r, :g, :id)"));
        params.extend([(":t", &r.tier as &dyn ToParam), (":r", &r.relative), (":g", &r.gap), (":id", &r.id)]);
    }
    let n: i64 = conn.prepare_cached(&sql)?.query_row(&params[..], |r| r.get(0))?;
    Ok(n as usize)
}
