//! The facts the signal rules need — confidence history, the updates an item gave and when, its
//! value source's last failure — gathered for the escalation engine (`rules.rs`) and the read
//! models. The rules themselves are in `domain::confidence`, `domain::discipline` and
//! `domain::signals`.

use super::Result;
use crate::domain::confidence::{self, CheckIn, Trend};
use crate::domain::discipline::{self, Expected, Given};
use crate::domain::escalation::{Thresholds, Tier};
use crate::domain::signals::Signal;
use crate::domain::{Cadence, ItemKind, Num, Period};
use crate::store::engine::{Db, DbResult, OptionalExtension};
use chrono::NaiveDate;
use chrono_tz::Tz;

/// What the signal rules are judged with: the thresholds, today and the calendar's zone.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub t: Thresholds,
    pub today: NaiveDate,
    pub tz: Tz,
}

impl Calendar {
    pub fn read(conn: &Db, today: NaiveDate) -> Result<Calendar> {
        let (s, _) = super::settings_from(conn)?;
        Ok(Calendar { t: s.thresholds, today, tz: s.timezone })
    }

    /// The organisation's calendar date of a stored time stamp (RFC 3339).
    fn date_of(&self, stamp: &str) -> Option<NaiveDate> {
        match chrono::DateTime::parse_from_rfc3339(stamp) {
            Ok(t) => Some(t.with_timezone(&self.tz).date_naive()),
            Err(_) => NaiveDate::parse_from_str(stamp.get(..10)?, "%Y-%m-%d").ok(),
        }
    }
}

/// An item's confidence at each check-in, oldest first.
pub(crate) fn confidence_history(conn: &Db, id: i64) -> Result<Vec<CheckIn>> {
    let rows: Vec<(String, Num)> = conn
        .prepare_cached(
            "SELECT period, confidence FROM item_values WHERE item_id = ?1 AND confidence IS NOT NULL ORDER BY period_start, period",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<DbResult<_>>()?;
    Ok(rows.into_iter().filter_map(|(p, c)| Some(CheckIn { period: Period::parse(&p).ok()?, confidence: c })).collect())
}

/// The cadence an item is expected to report at, or `None` when it is not expected to report
/// (a closed, cancelled or paused measure; a milestone key result; not an item with values).
pub(crate) fn reporting_cadence(conn: &Db, id: i64) -> Result<Option<Cadence>> {
    // A retired item is not expected to report.
    let kind: Option<String> =
        conn.prepare_cached("SELECT kind FROM items WHERE id = ?1 AND retired_at IS NULL")?.query_row([id], |r| r.get(0)).optional()?;
    Ok(match kind.as_deref().and_then(ItemKind::parse) {
        Some(ItemKind::Measure) => conn
            .prepare_cached("SELECT cadence FROM measures WHERE id = ?1 AND stage <> 'closed' AND side_state IS NULL")?
            .query_row([id], |r| r.get::<_, String>(0))
            .optional()?
            .map(|c| Cadence::parse(&c).unwrap_or(Cadence::Weekly)),
        Some(ItemKind::Kpi) => conn
            .prepare_cached("SELECT frequency FROM kpis WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .map(|f| f.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Monthly)),
        Some(ItemKind::KeyResult) => conn
            .prepare_cached("SELECT kind FROM key_results WHERE id = ?1")?
            .query_row([id], |r| r.get::<_, String>(0))
            .optional()?
            .filter(|k| k != "milestone")
            .map(|_| Cadence::Weekly),
        _ => None,
    })
}

/// An item's expected updates up to today (empty when it is not expected to report, or has no
/// period that has begun).
pub(crate) fn ledger(conn: &Db, id: i64, cal: &Calendar) -> Result<Vec<Expected>> {
    let Some(cadence) = reporting_cadence(conn, id)? else { return Ok(vec![]) };
    let rows: Vec<(String, bool, Option<String>)> = conn
        .prepare_cached(
            "SELECT period, actual IS NOT NULL, CASE WHEN actual IS NOT NULL THEN COALESCE(actual_at, reported_at, updated_at) END
             FROM item_values WHERE item_id = ?1 ORDER BY period_start",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<DbResult<_>>()?;
    let begun = |p: &Period| p.start() <= cal.today;
    let periods: Vec<(Period, Option<NaiveDate>)> = rows
        .iter()
        .filter_map(|(p, has, at)| {
            let p = Period::parse(p).ok().filter(begun)?;
            Some((p, if *has { at.as_deref().and_then(|a| cal.date_of(a)) } else { None }))
        })
        .collect();
    let given: Vec<Given> = periods.iter().filter_map(|(p, on)| Some(Given { period: *p, on: (*on)? })).collect();
    // From the first reported period; an item that never reported, from its first number.
    let first = given.iter().map(|g| g.period).min().or_else(|| periods.iter().map(|(p, _)| *p).min());
    Ok(first.map(|f| discipline::ledger(cadence, f, &given, cal.today)).unwrap_or_default())
}

/// The last failure of an item's value source, if it has not synced since: (source, why).
pub(crate) fn source_failure(conn: &Db, id: i64) -> Result<Option<(String, String)>> {
    Ok(conn
        .prepare_cached("SELECT name, failure FROM item_sources WHERE item_id = ?1 AND failure IS NOT NULL")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Every signal that calls for an escalation on this item now (`calendar`: with missed updates,
/// which change as days pass without any edit).
pub(crate) fn signals_of(conn: &Db, id: i64, cal: &Calendar, calendar: bool) -> Result<Vec<Signal>> {
    let mut out = Vec::new();
    // A retired item is out of every check: nothing it does or fails to do is signalled.
    let retired: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1 AND retired_at IS NOT NULL)")?
        .query_row([id], |r| r.get(0))?;
    if retired {
        return Ok(out);
    }
    if let Some((name, why)) = source_failure(conn, id)? {
        let period = Period::week_of(cal.today);
        out.push(Signal { tier: Tier::OwnerReview, reason: format!("source failed: {name}: {why}"), period });
    }
    let cancelled: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM measures WHERE id = ?1 AND (side_state = 'cancelled' OR stage = 'closed'))")?
        .query_row([id], |r| r.get(0))?;
    if cancelled {
        return Ok(out);
    }
    out.extend(confidence::confidence_falling(&confidence_history(conn, id)?, &cal.t));
    if calendar {
        out.extend(discipline::missed_updates(&ledger(conn, id, cal)?, &cal.t));
    }
    Ok(out)
}

/// The confidence trend of one item, for `keel show`, the detail pane and reports.
pub fn trend_of(conn: &Db, id: i64, t: &Thresholds) -> Result<Option<Trend>> {
    let history = confidence_history(conn, id)?;
    Ok((!history.is_empty()).then(|| confidence::trend(history, t)))
}

/// Which items have values or a source (every item a sweep reassesses).
pub(crate) fn signalled_items(conn: &Db) -> Result<Vec<i64>> {
    Ok(conn
        .prepare("SELECT DISTINCT item_id FROM item_values UNION SELECT item_id FROM item_sources ORDER BY 1")?
        .query_map([], |r| r.get(0))?
        .collect::<DbResult<_>>()?)
}

/// An item's expected updates, summed up for the detail pane and `keel show`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct UpdatesView {
    pub cadence: Cadence,
    pub on_time: usize,
    pub late: usize,
    pub missed: usize,
    pub missed_in_a_row: u32,
    /// The newest expected updates, oldest first.
    pub recent: Vec<Expected>,
}

/// The value source feeding an item, as the shared file knows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SourceView {
    pub name: String,
    pub synced_at: Option<String>,
    pub failure: Option<String>,
}

/// The signals beside an item's numbers.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ItemSignals {
    pub confidence: Option<Trend>,
    pub updates: Option<UpdatesView>,
    pub source: Option<SourceView>,
}

pub fn item_signals(conn: &Db, id: i64, cal: &Calendar) -> Result<ItemSignals> {
    let confidence = trend_of(conn, id, &cal.t)?;
    let l = ledger(conn, id, cal)?;
    let updates = match reporting_cadence(conn, id)? {
        Some(cadence) if !l.is_empty() => {
            let (on_time, late, missed) = discipline::tally(&l);
            let recent = l[l.len().saturating_sub(8)..].to_vec();
            Some(UpdatesView { cadence, on_time, late, missed, missed_in_a_row: discipline::missed_in_a_row(&l).0, recent })
        }
        _ => None,
    };
    let source = conn
        .prepare_cached("SELECT name, synced_at, failure FROM item_sources WHERE item_id = ?1")?
        .query_row([id], |r| Ok(SourceView { name: r.get(0)?, synced_at: r.get(1)?, failure: r.get(2)? }))
        .optional()?;
    Ok(ItemSignals { confidence, updates, source })
}

/// One item's confidence trend, for reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConfidenceRow {
    pub key: String,
    pub title: String,
    pub trend: Trend,
}

/// The confidence trends of the items in `keys` that have any, by key order — one read of every
/// check-in, grouped here (a report may cover 100,000 items).
pub fn confidence_rows(conn: &Db, keys: &std::collections::BTreeSet<String>, t: &Thresholds) -> Result<Vec<ConfidenceRow>> {
    let mut by_key: std::collections::BTreeMap<(String, i64, i64), (i64, Vec<CheckIn>)> = Default::default();
    conn.query_each(
        "SELECT i.key, i.kind, i.num, v.item_id, v.period, v.confidence FROM item_values v JOIN items i ON i.id = v.item_id
         WHERE v.confidence IS NOT NULL ORDER BY v.item_id, v.period_start, v.period",
        [],
        |r| {
            let key: String = r.get(0)?;
            if keys.contains(&key) {
                let kind: String = r.get(1)?;
                let order = ItemKind::parse(&kind).map(|k| k as i64).unwrap_or(99);
                let entry = by_key.entry((key, order, r.get(2)?)).or_insert_with(|| (0, Vec::new()));
                entry.0 = r.get(3)?;
                if let (Ok(period), Some(confidence)) = (Period::parse(&r.get::<_, String>(4)?), r.get::<_, Option<Num>>(5)?) {
                    entry.1.push(CheckIn { period, confidence });
                }
            }
            Ok(())
        },
    )?;
    let mut rows: Vec<((String, i64, i64), ConfidenceRow)> = Vec::new();
    for ((key, order, num), (id, history)) in by_key {
        if history.is_empty() {
            continue;
        }
        let title = super::read::title_of(conn, id)?;
        rows.push(((key.clone(), order, num), ConfidenceRow { key, title, trend: confidence::trend(history, t) }));
    }
    rows.sort_by_key(|(k, _)| (k.1, k.2));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

impl super::Store {
    /// One item's update ledger in short (on time, late, missed), for lists such as the app's
    /// stale list.
    pub fn updates_of(&self, key: &crate::domain::ItemKey) -> Result<Option<UpdatesView>> {
        let c = self.conn();
        let id = super::resolve(c, key)?;
        Ok(item_signals(c, id, &Calendar::read(c, self.clock().today)?)?.updates)
    }
}
