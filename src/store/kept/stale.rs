//! Staleness kept by the write path: for every item that owes updates (and is not retired), the
//! day from which it is stale by the domain rule (`status::stale_from`), which does not move with
//! today, so "stale as of today" is an index range (`stale_from <= today`) instead of a check of
//! the whole file. A row also says from which day that date is exact (`exact_from`, the start of
//! the newest period with an actual): only when the clock stands before it — an actual typed for
//! a period that has not begun — is the item judged again from its values.

use crate::domain::status;
use crate::domain::{Cadence, ItemKind, KrKind, Period, SideState, Stage};
use crate::store::check::StaleItem;
use crate::store::engine::{params, Db, DbResult, Row, ToParam};
use chrono::NaiveDate;

/// Each item's facts the rule needs, newest actual and first period among all its values.
const FACTS: &str = "SELECT i.id, i.kind, i.retired_at IS NULL, m.stage, m.side_state, m.cadence, k.kind, p.frequency,
        (SELECT v.period FROM item_values v WHERE v.item_id = i.id AND v.actual IS NOT NULL ORDER BY v.period_start DESC LIMIT 1),
        (SELECT MAX(COALESCE(v.reported_at, v.updated_at)) FROM item_values v WHERE v.item_id = i.id AND v.actual IS NOT NULL),
        (SELECT v.period FROM item_values v WHERE v.item_id = i.id ORDER BY v.period_start LIMIT 1)
    FROM items i LEFT JOIN measures m ON m.id = i.id LEFT JOIN key_results k ON k.id = i.id LEFT JOIN kpis p ON p.id = i.id
    WHERE (i.kind || '') IN ('measure', 'key-result', 'kpi') AND ";

/// Rows per INSERT when many are written (well under either engine's parameter limit).
const ROWS_PER_INSERT: usize = 150;
/// Items read per step of a fill (bounded memory on any engine).
const FILL_STEP: i64 = 5_000;

/// One kept row: an item that owes updates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub item_id: i64,
    /// The stale list's order: measures, then key results, then KPIs.
    pub list_rank: i64,
    pub cadence: String,
    pub last_update: Option<String>,
    pub exact_from: Option<String>,
    pub stale_from: String,
}

/// The stale list's order of kinds.
fn list_rank(kind: ItemKind) -> i64 {
    match kind {
        ItemKind::Measure => 0,
        ItemKind::KeyResult => 1,
        _ => 2,
    }
}

/// An item's kept row from its facts (a row of [`FACTS`]), or `None` when it owes no updates.
fn judge(r: &Row<'_>) -> DbResult<(i64, Option<Kept>)> {
    let id: i64 = r.get(0)?;
    let kind = ItemKind::parse(&r.get::<_, String>(1)?).unwrap_or(ItemKind::Measure);
    let active: bool = r.get(2)?;
    let stage = r.get::<_, Option<String>>(3)?.as_deref().and_then(Stage::parse);
    let side = r.get::<_, Option<String>>(4)?.as_deref().and_then(SideState::parse);
    let cadence = match kind {
        ItemKind::Measure => r.get::<_, Option<String>>(5)?.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Weekly),
        // A key result's cadence is weekly (DOMAIN: "a key result's defaults to weekly").
        ItemKind::KeyResult => Cadence::Weekly,
        _ => r.get::<_, Option<String>>(7)?.as_deref().and_then(Cadence::parse).unwrap_or(Cadence::Monthly),
    };
    let kr_kind = r.get::<_, Option<String>>(6)?.as_deref().and_then(KrKind::parse);
    let latest = r.get::<_, Option<String>>(8)?.and_then(|p| Period::parse(&p).ok());
    let last_update: Option<String> = r.get(9)?;
    let first = r.get::<_, Option<String>>(10)?.and_then(|p| Period::parse(&p).ok()).map(|p| p.start());
    let stage = (kind == ItemKind::Measure).then(|| stage.unwrap_or(Stage::Defined));
    if !active || !status::owes_updates(kind, first.is_some(), stage, side, kr_kind) {
        return Ok((id, None));
    }
    let Some(from) = status::stale_from(latest, first, cadence) else { return Ok((id, None)) };
    Ok((
        id,
        Some(Kept {
            item_id: id,
            list_rank: list_rank(kind),
            cadence: cadence.as_str().to_string(),
            last_update,
            exact_from: status::stale_from_exact_after(latest).map(|d| d.to_string()),
            stale_from: from.to_string(),
        }),
    ))
}

fn write(db: &Db, rows: &[Kept]) -> DbResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let marks: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 6;
                format!("(?{}, ?{}, ?{}, ?{}, ?{}, ?{})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6)
            })
            .collect();
        let sql = format!(
            "INSERT INTO kept_stale (item_id, list_rank, cadence, last_update, exact_from, stale_from) VALUES {}",
            marks.join(", ")
        );
        let mut params: Vec<&dyn ToParam> = Vec::with_capacity(chunk.len() * 6);
        for k in chunk {
            params.extend([&k.item_id as &dyn ToParam, &k.list_rank, &k.cadence, &k.last_update, &k.exact_from, &k.stale_from]);
        }
        db.execute(&sql, params.as_slice())?;
    }
    Ok(())
}

/// The kept rows the write path's facts call for, for the items after `after` (all of them
/// from 0), in steps of ids: `each` hears the rows of the items in `(from, to]`. What a fill
/// writes and what the deep check compares with.
pub fn recompute(db: &Db, after: i64, mut each: impl FnMut(i64, i64, Vec<Kept>) -> DbResult<()>) -> DbResult<()> {
    let sql = format!("{FACTS} i.id > ?1 ORDER BY i.id LIMIT ?2");
    let mut from = after;
    loop {
        let mut last = None;
        let mut rows = Vec::new();
        db.query_each(&sql, params![from, FILL_STEP], |r| {
            let (id, kept) = judge(r)?;
            last = Some(id);
            rows.extend(kept);
            Ok(())
        })?;
        let Some(last) = last else { return Ok(()) };
        each(from, last, rows)?;
        from = last;
    }
}

/// Fill the kept rows of every item after `after` (a load's new items; 0: the whole file), in
/// one pass over them: the facts read set-based, the rule applied, several rows to an INSERT.
pub fn fill(db: &Db, after: i64) -> DbResult<()> {
    db.execute("DELETE FROM kept_stale WHERE item_id > ?1", [after])?;
    recompute(db, after, |_, _, rows| write(db, &rows))
}

/// Work out again the kept rows of these items (an edit touched them).
pub fn refresh(db: &Db, ids: &[i64]) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = super::ids_json(ids);
    db.execute(&format!("DELETE FROM kept_stale WHERE {}", db.in_id_list("item_id", 1)), [&list])?;
    let mut rows = Vec::new();
    db.query_each(&format!("{FACTS} {}", db.in_id_list("i.id", 1)), [&list], |r| {
        rows.extend(judge(r)?.1);
        Ok(())
    })?;
    write(db, &rows)
}

/// What a list needs of each stale item.
pub enum Shape {
    /// Key and title (the tree's stale filter).
    Outline,
    /// Everything the stale list shows.
    Full,
}

const LIST: &str = "SELECT s.list_rank, i.num, i.key, COALESCE(m.title, k.title, p.title, ''), pe.name, pe.login, s.cadence, s.last_update
    FROM kept_stale s JOIN items i ON i.id = s.item_id
    LEFT JOIN measures m ON m.id = s.item_id LEFT JOIN key_results k ON k.id = s.item_id LEFT JOIN kpis p ON p.id = s.item_id
    LEFT JOIN people pe ON pe.id = COALESCE(m.owner_id, k.owner_id, p.owner_id) WHERE ";

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn item(r: &Row<'_>, shape: &Shape, today: NaiveDate) -> DbResult<(i64, i64, StaleItem)> {
    let (rank, num, key, title): (i64, i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let item = match shape {
        Shape::Outline => {
            StaleItem { key, title, owner: None, owner_login: None, cadence: String::new(), last_update: None, days_since_update: None }
        }
        Shape::Full => {
            let last_update: Option<String> = r.get(7)?;
            let days_since_update = last_update.as_deref().and_then(date).map(|d| (today - d).num_days());
            StaleItem { key, title, owner: r.get(4)?, owner_login: r.get(5)?, cadence: r.get(6)?, last_update, days_since_update }
        }
    };
    Ok((rank, num, item))
}

/// The items stale on `today`, in the stale list's order (measures, key results, KPIs, each by
/// number): an index range over the kept rows, plus the rare item whose newest actual is for a
/// period that has not begun by `today`, judged again from its values.
pub fn stale_on(db: &Db, today: NaiveDate, shape: Shape) -> DbResult<Vec<StaleItem>> {
    let day = today.to_string();
    let mut out: Vec<(i64, i64, StaleItem)> = Vec::new();
    let sql = format!("{LIST} s.stale_from <= ?1 AND (s.exact_from IS NULL OR s.exact_from <= ?1) ORDER BY s.list_rank, i.num");
    db.query_each(&sql, [&day], |r| {
        out.push(item(r, &shape, today)?);
        Ok(())
    })?;
    let early: Vec<i64> = db.query_map("SELECT item_id FROM kept_stale WHERE exact_from > ?1", [&day], |r| r.get(0))?;
    if early.is_empty() {
        return Ok(out.into_iter().map(|(_, _, it)| it).collect());
    }
    let mut more = false;
    for id in early {
        if stale_before_exact(db, id, today)? {
            let mut found = None;
            db.query_each(&format!("{LIST} s.item_id = ?1"), [id], |r| {
                let (rank, num, mut it) = item(r, &shape, today)?;
                if matches!(shape, Shape::Full) {
                    // Only actuals of periods that have begun count as updates.
                    it.last_update = last_update_by(db, id, today)?;
                    it.days_since_update = it.last_update.as_deref().and_then(date).map(|d| (today - d).num_days());
                }
                found = Some((rank, num, it));
                Ok(())
            })?;
            out.extend(found);
            more = true;
        }
    }
    if more {
        out.sort_by_key(|(rank, num, _)| (*rank, *num));
    }
    Ok(out.into_iter().map(|(_, _, it)| it).collect())
}

fn last_update_by(db: &Db, id: i64, today: NaiveDate) -> DbResult<Option<String>> {
    db.query_row(
        "SELECT MAX(COALESCE(reported_at, updated_at)) FROM item_values WHERE item_id = ?1 AND actual IS NOT NULL AND period_start <= ?2",
        params![id, today.to_string()],
        |r| r.get(0),
    )
}

/// An item whose newest actual is for a period after `today`: the domain rule on the periods
/// that have begun.
fn stale_before_exact(db: &Db, id: i64, today: NaiveDate) -> DbResult<bool> {
    let day = today.to_string();
    let period = |sql: &str| -> DbResult<Option<Period>> {
        let p: Option<String> = db.query_opt(sql, params![id, day], |r| r.get(0))?;
        Ok(p.and_then(|p| Period::parse(&p).ok()))
    };
    let latest = period(
        "SELECT period FROM item_values WHERE item_id = ?1 AND actual IS NOT NULL AND period_start <= ?2 ORDER BY period_start DESC LIMIT 1",
    )?;
    let first = period("SELECT period FROM item_values WHERE item_id = ?1 AND ?2 = ?2 ORDER BY period_start LIMIT 1")?.map(|p| p.start());
    let cadence: String = db.query_row("SELECT cadence FROM kept_stale WHERE item_id = ?1", [id], |r| r.get(0))?;
    Ok(status::is_stale(latest, first, Cadence::parse(&cadence).unwrap_or(Cadence::Weekly), today))
}

/// The kept rows of the items in `(from, to]` as they are (`to`: `None` for no end), by item.
pub fn kept(db: &Db, from: i64, to: Option<i64>) -> DbResult<Vec<Kept>> {
    db.query_map(
        "SELECT item_id, list_rank, cadence, last_update, exact_from, stale_from FROM kept_stale
         WHERE item_id > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR item_id <= CAST(?2 AS BIGINT)) ORDER BY item_id",
        params![from, to],
        |r| {
            Ok(Kept {
                item_id: r.get(0)?,
                list_rank: r.get(1)?,
                cadence: r.get(2)?,
                last_update: r.get(3)?,
                exact_from: r.get(4)?,
                stale_from: r.get(5)?,
            })
        },
    )
}
