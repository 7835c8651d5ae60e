//! Value sources in the shared file: which items are source-fed (by the source's name only — a
//! source's command or query lives in the syncing user's own configuration, never here), the
//! values a sync wrote and under which source, hand overrides of them (with a reason), and a
//! source's last failure (a "source failed" row for the item's owner until a sync succeeds).

use super::edit::{may_edit, Change, Ctx};
use super::{resolve, Result, Store, StoreError};
use crate::domain::{ItemKey, Period};
use crate::store::engine::{params, DbResult, OptionalExtension};

/// The fields a source writes (and a hand edit overrides).
fn sourced_field(field: &str) -> bool {
    matches!(field, "actual" | "forecast")
}

/// The source feeding an item, by name.
pub(crate) fn source_name(conn: &crate::store::engine::Db, id: i64) -> Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT name FROM item_sources WHERE item_id = ?1")?.query_row([id], |r| r.get(0)).optional()?)
}

/// How a refused hand edit of a source-fed value begins (the app asks for the reason on it).
const FED_BY: &str = "is fed by the source";

/// Was a value refused only for want of an override reason?
pub fn needs_override_reason(why: &str) -> bool {
    why.starts_with(FED_BY)
}

/// After a value was written: record the source that wrote it, or — for a hand edit of a
/// source-fed value — require a reason and mark the value as an override.
pub(crate) fn after_value(ctx: &mut Ctx, key: &ItemKey, id: i64, period: &str, field: &str) -> Result<()> {
    if !sourced_field(field) {
        return Ok(());
    }
    let Some(name) = source_name(ctx.tx, id)? else { return Ok(()) };
    if ctx.source.as_deref() == Some(name.as_str()) {
        ctx.tx
            .prepare_cached("UPDATE item_values SET source = ?1, override_reason = NULL WHERE item_id = ?2 AND period = ?3")?
            .execute(params![name, id, period])?;
        return Ok(());
    }
    let Some(reason) = ctx.reason.clone().filter(|r| !r.trim().is_empty()) else {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: field.to_string(),
            why: format!("{FED_BY} '{name}': typing over it needs a reason (--reason \"…\"); it is then shown as an override"),
        });
    };
    ctx.tx
        .prepare_cached("UPDATE item_values SET source = NULL, override_reason = ?1 WHERE item_id = ?2 AND period = ?3")?
        .execute(params![reason.trim(), id, period])?;
    ctx.effects.push(format!("{key}: {field} for {period} overrides the source '{name}' — {}", reason.trim()));
    Ok(())
}

/// Apply the source changes of an edit.
pub(crate) fn apply(ctx: &mut Ctx, change: &Change) -> Result<()> {
    match change {
        Change::SourceLink { key, name } => link(ctx, key, name.as_deref()),
        Change::SourceRun { key, source, failure } => run(ctx, key, source, failure.as_deref()),
        Change::Reassess => {
            for id in super::signals::signalled_items(ctx.tx)? {
                ctx.touched_variance.insert(id);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Mark an item as fed by a source (or no longer). Owners and PMO administrators may.
fn link(ctx: &mut Ctx, key: &ItemKey, name: Option<&str>) -> Result<()> {
    if !key.kind.has_values() {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: "source".into(),
            why: format!("a {} has no values per period; measures, key results and KPIs do", key.kind),
        });
    }
    let id = resolve(ctx.tx, key)?;
    may_edit(ctx, key.kind, id, key)?;
    if let Some(n) = name {
        crate::domain::text_check::source_name(n).map_err(|why| StoreError::Invalid {
            key: key.to_string(),
            field: "source".into(),
            why,
        })?;
    }
    let old = source_name(ctx.tx, id)?;
    if old.as_deref() == name {
        return Ok(());
    }
    match name {
        Some(n) => ctx.tx.execute(
            "INSERT INTO item_sources (item_id, name) VALUES (?1, ?2)
             ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, failure = NULL, failed_at = NULL, version = item_sources.version + 1",
            params![id, n],
        )?,
        None => ctx.tx.execute("DELETE FROM item_sources WHERE item_id = ?1", [id])?,
    };
    ctx.log(&key.to_string(), "source", old, name.map(str::to_string));
    ctx.touched_variance.insert(id);
    Ok(())
}

/// A sync ran an item's source: `failure` says why it failed (nothing else changed), `None`
/// that it succeeded (its values come as value changes in the same edit).
fn run(ctx: &mut Ctx, key: &ItemKey, source: &str, failure: Option<&str>) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    may_edit(ctx, key.kind, id, key)?;
    let stamp = ctx.clock.stamp();
    let before: Option<Option<String>> = ctx
        .tx
        .prepare_cached("SELECT failure FROM item_sources WHERE item_id = ?1 AND name = ?2")?
        .query_row(params![id, source], |r| r.get(0))
        .optional()?;
    let Some(before) = before else {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: "source".into(),
            why: format!("is not fed by the source '{source}' in this file (see `keel source list`)"),
        });
    };
    match failure {
        Some(why) => {
            let why = crate::domain::text_check::one_line(why, 300);
            ctx.tx.execute(
                "UPDATE item_sources SET failure = ?1, failed_at = ?2, version = version + 1 WHERE item_id = ?3",
                params![why, stamp, id],
            )?;
            ctx.log(&key.to_string(), "source failed", before, Some(why.clone()));
            ctx.event(super::events::Event::new("source-failed", &key.to_string()).with("source", source).with("why", &why));
        }
        None => {
            ctx.tx.execute(
                "UPDATE item_sources SET failure = NULL, failed_at = NULL, synced_at = ?1, version = version + 1 WHERE item_id = ?2",
                params![stamp, id],
            )?;
            if before.is_some() {
                ctx.log(&key.to_string(), "source failed", before, None);
            }
        }
    }
    ctx.touched_variance.insert(id);
    Ok(())
}

/// One source-fed item as `keel source list` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SourcedItem {
    pub key: String,
    pub title: String,
    pub source: String,
    pub synced_at: Option<String>,
    pub failed_at: Option<String>,
    pub failure: Option<String>,
    /// The item's reporting cadence (when its source is due).
    pub cadence: Option<String>,
    /// The newest period with a value the source wrote.
    pub last_period: Option<String>,
}

impl Store {
    /// Every source-fed item, by key.
    pub fn sourced_items(&self) -> Result<Vec<SourcedItem>> {
        let c = self.conn();
        let rows: Vec<(i64, String, String, Option<String>, Option<String>, Option<String>)> = c
            .prepare(
                "SELECT s.item_id, i.key, s.name, s.synced_at, s.failed_at, s.failure FROM item_sources s JOIN items i ON i.id = s.item_id
                 ORDER BY i.kind, i.num",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
            .collect::<DbResult<_>>()?;
        let mut out = Vec::new();
        for (id, key, source, synced_at, failed_at, failure) in rows {
            let last_period: Option<String> = c
                .prepare_cached(
                    "SELECT period FROM item_values WHERE item_id = ?1 AND source IS NOT NULL ORDER BY period_start DESC LIMIT 1",
                )?
                .query_row([id], |r| r.get(0))
                .optional()?;
            out.push(SourcedItem {
                title: super::read::title_of(c, id)?,
                cadence: super::signals::reporting_cadence(c, id)?.map(|c| c.as_str().to_string()),
                key,
                source,
                synced_at,
                failed_at,
                failure,
                last_period,
            });
        }
        Ok(out)
    }

    /// Is the item fed by a source, and is this period's value an override? (source, override reason)
    pub fn value_origin(&self, key: &ItemKey, period: Period) -> Result<(Option<String>, Option<String>)> {
        let c = self.conn();
        let id = resolve(c, key)?;
        Ok(c.query_row(
            "SELECT source, override_reason FROM item_values WHERE item_id = ?1 AND period = ?2",
            params![id, period.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((None, None)))
    }
}
