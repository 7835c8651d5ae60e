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

/// One item's own row, as the signal rules need it, read in one query (on a server every
/// question is a round trip, and the write path asks for every item it touches).
struct ItemFacts {
    retired: bool,
    /// The last failure of its value source, if it has not synced since: (source, why).
    source_failure: Option<(String, String)>,
    /// A measure that is cancelled or closed: judged no more, but a failing source still says so.
    ended: bool,
    cadence: Option<Cadence>,
}

fn item_facts(conn: &Db, id: i64) -> Result<Option<ItemFacts>> {
    type Row =
        (bool, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT i.retired_at IS NOT NULL, i.kind, s.name, s.failure, m.stage, m.side_state, m.cadence, k.frequency, kr.kind
             FROM items i LEFT JOIN measures m ON m.id = i.id LEFT JOIN kpis k ON k.id = i.id LEFT JOIN key_results kr ON kr.id = i.id
             LEFT JOIN item_sources s ON s.item_id = i.id AND s.failure IS NOT NULL
             WHERE i.id = ?1 LIMIT 1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?)))
        .optional()?;
    let Some((retired, kind, source, failure, stage, side_state, cadence, frequency, kr_kind)) = row else { return Ok(None) };
    let ended = side_state.as_deref() == Some("cancelled") || stage.as_deref() == Some("closed");
    // Who is expected to report, and how often: not a retired item, nor a closed, cancelled or
    // paused measure, nor a milestone key result.
    let cadence = match ItemKind::parse(&kind) {
        _ if retired => None,
        Some(ItemKind::Measure) if stage.as_deref().is_some_and(|s| s != "closed") && side_state.is_none() => {
            Some(cadence.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Weekly))
        }
        Some(ItemKind::Kpi) => Some(frequency.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Monthly)),
        Some(ItemKind::KeyResult) if kr_kind.is_some_and(|k| k != "milestone") => Some(Cadence::Weekly),
        _ => None,
    };
    Ok(Some(ItemFacts { retired, source_failure: source.zip(failure), ended, cadence }))
}

/// One period of an item's values as the signal rules see it, oldest first.
struct PeriodFacts {
    period: String,
    confidence: Option<Num>,
    /// When its actual was given, if it has one.
    actual: Option<Option<String>>,
}

fn period_facts(conn: &Db, id: i64) -> Result<Vec<PeriodFacts>> {
    Ok(conn
        .prepare_cached(
            "SELECT period, confidence, actual IS NOT NULL, CASE WHEN actual IS NOT NULL THEN COALESCE(actual_at, reported_at, updated_at) END
             FROM item_values WHERE item_id = ?1 ORDER BY period_start, period",
        )?
        .query_map([id], |r| {
            let has: bool = r.get(2)?;
            Ok(PeriodFacts { period: r.get(0)?, confidence: r.get(1)?, actual: if has { Some(r.get(3)?) } else { None } })
        })?
        .collect::<DbResult<_>>()?)
}

fn check_ins(periods: &[PeriodFacts]) -> Vec<CheckIn> {
    periods.iter().filter_map(|p| Some(CheckIn { period: Period::parse(&p.period).ok()?, confidence: p.confidence? })).collect()
}

/// An item's confidence at each check-in, oldest first.
pub(crate) fn confidence_history(conn: &Db, id: i64) -> Result<Vec<CheckIn>> {
    Ok(check_ins(&period_facts(conn, id)?))
}

/// The cadence an item is expected to report at, or `None` when it is not expected to report
/// (a closed, cancelled or paused measure; a milestone key result; not an item with values).
pub(crate) fn reporting_cadence(conn: &Db, id: i64) -> Result<Option<Cadence>> {
    Ok(item_facts(conn, id)?.and_then(|f| f.cadence))
}

/// An item's expected updates up to today (empty when it is not expected to report, or has no
/// period that has begun).
pub(crate) fn ledger(conn: &Db, id: i64, cal: &Calendar) -> Result<Vec<Expected>> {
    let Some(cadence) = reporting_cadence(conn, id)? else { return Ok(vec![]) };
    Ok(ledger_of(cadence, &period_facts(conn, id)?, cal))
}

fn ledger_of(cadence: Cadence, rows: &[PeriodFacts], cal: &Calendar) -> Vec<Expected> {
    let begun = |p: &Period| p.start() <= cal.today;
    let periods: Vec<(Period, Option<NaiveDate>)> = rows
        .iter()
        .filter_map(|row| {
            let p = Period::parse(&row.period).ok().filter(begun)?;
            Some((p, row.actual.as_ref().and_then(|at| at.as_deref().and_then(|a| cal.date_of(a)))))
        })
        .collect();
    let given: Vec<Given> = periods.iter().filter_map(|(p, on)| Some(Given { period: *p, on: (*on)? })).collect();
    // From the first reported period; an item that never reported, from its first number.
    let first = given.iter().map(|g| g.period).min().or_else(|| periods.iter().map(|(p, _)| *p).min());
    first.map(|f| discipline::ledger(cadence, f, &given, cal.today)).unwrap_or_default()
}

/// Every signal that calls for an escalation on this item now (`calendar`: with missed updates,
/// which change as days pass without any edit).
pub(crate) fn signals_of(conn: &Db, id: i64, cal: &Calendar, calendar: bool) -> Result<Vec<Signal>> {
    let mut out = Vec::new();
    // A retired item is out of every check: nothing it does or fails to do is signalled.
    let Some(facts) = item_facts(conn, id)?.filter(|f| !f.retired) else { return Ok(out) };
    if let Some((name, why)) = facts.source_failure {
        let period = Period::week_of(cal.today);
        out.push(Signal { tier: Tier::OwnerReview, reason: format!("source failed: {name}: {why}"), period });
    }
    if facts.ended {
        return Ok(out);
    }
    let periods = period_facts(conn, id)?;
    out.extend(confidence::confidence_falling(&check_ins(&periods), &cal.t));
    if calendar {
        if let Some(cadence) = facts.cadence {
            out.extend(discipline::missed_updates(&ledger_of(cadence, &periods, cal), &cal.t));
        }
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
