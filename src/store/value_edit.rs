//! Setting an item's numbers for one period: one cell (`keel set`, the app) or a whole row of a
//! values file at once. Either way the row is read once, written once and logged once, so an
//! import of 200,000 rows pays per row, not per cell; the rules then run once per item touched
//! (see `rules::run`), as for every edit.
//!
//! The audit log writes one changed cell as `FIELD@PERIOD` with its old and new value, and
//! several numbers of one row changed together as `values@PERIOD` with `planned=1;actual=2`
//! (empty after `=` when there was none); a comment always has its own entry.

use super::edit::{check_version, may_edit, unchanged, Ctx};
use super::{fields, resolve, Result, StoreError};
use crate::domain::{text_check, ItemKey, ItemKind, Num, Period, ValueField};
use std::collections::HashMap;

use super::audit::ROW_ENTRY as ROW_FIELD;

/// Join `(field, value)` pairs as a row entry's old or new value: `planned=1;forecast=;actual=2`.
pub fn row_text<'a>(cells: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> String {
    let mut text = String::with_capacity(48);
    for (f, v) in cells {
        if !text.is_empty() {
            text.push(';');
        }
        text.push_str(f);
        text.push('=');
        text.push_str(v.unwrap_or(""));
    }
    text
}

/// A row entry's old or new value, read back: `(field, value)` pairs, `None` where empty.
pub fn row_cells(text: &str) -> Vec<(&str, Option<&str>)> {
    text.split(';').filter_map(|part| part.split_once('=')).map(|(f, v)| (f, (!v.is_empty()).then_some(v))).collect()
}

/// Set some of an item's numbers (or its comment) for one period, as one change. For a row of a
/// values file (`row`), cells equal to what is stored are no change at all — asked of nobody's
/// permission and of no rule — as when the import compared them itself.
pub(crate) fn set_values(
    ctx: &mut Ctx,
    key: &ItemKey,
    period: Period,
    cells: &[(&str, &str)],
    if_version: Option<i64>,
    row: bool,
) -> Result<()> {
    let invalid = |field: &str, why: String| StoreError::Invalid { key: key.to_string(), field: field.to_string(), why };
    if !key.kind.has_values() {
        let field = cells.first().map(|c| c.0).unwrap_or("value");
        return Err(invalid(field, format!("a {} has no values per period; measures, key results and KPIs do", key.kind)));
    }
    // Every cell checked before anything is read or written: (field, new value).
    let mut wanted: Vec<(ValueField, Option<String>)> = Vec::with_capacity(cells.len());
    for (name, raw) in cells {
        let field = ValueField::parse(&name.trim().to_ascii_lowercase()).filter(|f| fields::is_value_field(f.as_str()));
        let Some(field) = field else {
            return Err(StoreError::UnknownField {
                key: key.to_string(),
                kind: key.kind.to_string(),
                field: name.to_string(),
                choices: fields::choices(key.kind),
            });
        };
        let f = field.as_str();
        let new = if raw.trim().is_empty() {
            None
        } else if field == ValueField::Comment {
            Some(raw.trim().to_string())
        } else {
            let n = Num::parse(raw).map_err(|e| invalid(f, e.to_string()))?;
            if field == ValueField::Confidence {
                text_check::confidence(n).map_err(|why| invalid(f, why))?;
            }
            Some(n.to_string())
        };
        wanted.push((field, new));
    }
    let may_change = |ctx: &mut Ctx, cells: &mut dyn Iterator<Item = (ValueField, bool)>| -> Result<i64> {
        for (field, given) in cells {
            if field == ValueField::Actual && given {
                if let Some(why) = crate::domain::period::actual_refusal(period, ctx.clock.today) {
                    return Err(invalid(field.as_str(), why));
                }
            }
        }
        item_id(ctx, key)
    };
    let id = if row { lookup(ctx, key)? } else { may_change(ctx, &mut wanted.iter().map(|(f, v)| (*f, v.is_some())))? };
    let period_s = period.to_string();
    let existing = stored_row(ctx, id, &period_s)?;
    let row_key = format!("value:{id}:{period_s}");
    if if_version.is_some() {
        let label = match wanted.as_slice() {
            [(f, _)] => format!("{}@{period_s}", f.as_str()),
            _ => format!("{ROW_FIELD}@{period_s}"),
        };
        check_version(ctx, &row_key, key, &label, Some(&period_s), if_version, existing.as_ref().map(|e| e.1).unwrap_or(0))?;
    }
    // What changes: (field, old, new), in the order of the columns above.
    let mut changed: Vec<(ValueField, Option<String>, Option<String>)> = Vec::new();
    for (field, new) in wanted {
        let old = existing.as_ref().and_then(|(cells, _)| cells[column_of(field)].clone());
        let numeric = field != ValueField::Comment;
        if !unchanged(old.as_deref(), new.as_deref(), numeric) && !changed.iter().any(|c| c.0 == field) {
            changed.push((field, old, new));
        }
    }
    if changed.is_empty() {
        keep_row(ctx, id, period_s, existing);
        return Ok(());
    }
    if row {
        may_change(ctx, &mut changed.iter().map(|(f, _, v)| (*f, v.is_some())))?;
    }
    let exists = existing.is_some();
    let mut now = existing.unwrap_or_else(|| (vec![None; 6], 0));
    for (field, _, new) in &changed {
        now.0[column_of(*field)] = new.clone();
    }
    now.1 += 1;
    ctx.values_changed += changed.len();
    changed.sort_by_key(|c| column_of(c.0));
    write_row(ctx, id, period, &period_s, exists, &changed)?;
    keep_row(ctx, id, period_s.clone(), Some(now));
    ctx.bumped.insert(row_key);
    for (field, _, new) in &changed {
        // The source that wrote it, or a hand edit of a source-fed value (which needs a reason).
        super::sources::after_value(ctx, key, id, &period_s, field.as_str())?;
        if ctx.hooks_on {
            let e = super::events::Event::new("value-saved", &key.to_string())
                .with("period", &period_s)
                .with("field", field.as_str())
                .with("value", new.as_deref().unwrap_or(""))
                .with("source", ctx.source.as_deref().unwrap_or(""));
            ctx.event(e);
        }
    }
    log_row(ctx, key, &period_s, &changed);
    if changed.iter().any(|c| c.0 == ValueField::Confidence) {
        // Confidence is a signal of its own ("confidence falling").
        ctx.touched_variance.insert(id);
    }
    let moved: Vec<ValueField> = changed.iter().map(|c| c.0).filter(|f| f.moves_numbers()).collect();
    if !moved.is_empty() {
        ctx.touched_variance.insert(id);
        // A source writes no narrative: the narrative rule asks the people who type numbers.
        if ctx.source.is_none() {
            ctx.valued.insert(id);
        }
        if key.kind == ItemKind::Measure {
            ctx.touched_money.insert(id);
            ctx.touched_gates.insert(id);
            clear_validation(ctx, key, id, moved.contains(&ValueField::Planned))?;
        }
    }
    Ok(())
}

/// A value row as stored: planned, forecast, actual, comment, baseline, confidence (see
/// [`column_of`]) and its version.
pub(crate) type StoredRow = (Vec<Option<String>>, i64);

/// One value row of an item as stored now. The first row asked of an item reads all of its
/// rows in one statement; the rows this edit writes are kept current in the same place.
fn stored_row(ctx: &mut Ctx, id: i64, period: &str) -> Result<Option<StoredRow>> {
    if ctx.value_rows.as_ref().is_none_or(|(item, _)| *item != id) {
        let mut stmt = ctx.tx.prepare_cached(
            "SELECT period, planned, forecast, actual, comment, baseline, confidence, version FROM item_values WHERE item_id = ?1",
        )?;
        let rows = stmt.query_map([id], |r| {
            let cells = (1..7).map(|i| r.get(i)).collect::<std::result::Result<Vec<Option<String>>, _>>()?;
            Ok((r.get::<_, String>(0)?, (cells, r.get(7)?)))
        })?;
        let rows = rows.collect::<crate::store::engine::DbResult<HashMap<String, StoredRow>>>()?;
        ctx.value_rows = Some((id, rows));
    }
    Ok(ctx.value_rows.as_mut().and_then(|(_, rows)| rows.remove(period)))
}

/// Put a row back where [`stored_row`] took it from, as it now stands.
fn keep_row(ctx: &mut Ctx, id: i64, period: String, row: Option<StoredRow>) {
    if let (Some((item, rows)), Some(row)) = (ctx.value_rows.as_mut(), row) {
        if *item == id {
            rows.insert(period, row);
        }
    }
}

/// Where a field sits in the row read above.
fn column_of(field: ValueField) -> usize {
    match field {
        ValueField::Planned => 0,
        ValueField::Forecast => 1,
        ValueField::Actual => 2,
        ValueField::Comment => 3,
        ValueField::Baseline => 4,
        ValueField::Confidence => 5,
    }
}

/// The item's row id, looked up once per edit.
fn lookup(ctx: &mut Ctx, key: &ItemKey) -> Result<i64> {
    if let Some(&id) = ctx.value_items.get(key) {
        return Ok(id);
    }
    let id = resolve(ctx.tx, key)?;
    ctx.value_items.insert(key.clone(), id);
    Ok(id)
}

/// The item's row id, if the actor may change it (asked every time: an edit may change the
/// item's owner on the way; a PMO administrator's answer is immediate).
fn item_id(ctx: &mut Ctx, key: &ItemKey) -> Result<i64> {
    let id = lookup(ctx, key)?;
    may_edit(ctx, key.kind, id, key)?;
    Ok(id)
}

/// One UPDATE (or INSERT) for all the changed cells; its statement is kept prepared per set of
/// columns, of which an import has a handful.
fn write_row(
    ctx: &Ctx,
    id: i64,
    period: Period,
    period_s: &str,
    exists: bool,
    changed: &[(ValueField, Option<String>, Option<String>)],
) -> Result<()> {
    let stamp = ctx.clock.stamp();
    let columns: Vec<&str> = changed.iter().map(|c| c.0.as_str()).collect();
    let news: Vec<Option<&str>> = changed.iter().map(|c| c.2.as_deref()).collect();
    let n = news.len();
    if exists {
        let sets: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 4)).collect();
        // When an actual was first given (the update-discipline ledger): kept through later
        // corrections, cleared with the actual. SET reads the row as it was.
        let actual_at = match changed.iter().find(|c| c.0 == ValueField::Actual) {
            Some((_, _, Some(_))) => {
                " actual_at = COALESCE(actual_at, CASE WHEN actual IS NOT NULL THEN COALESCE(reported_at, updated_at) END, ?2),"
            }
            Some((_, _, None)) => " actual_at = NULL,",
            None => "",
        };
        let sql = format!(
            "UPDATE item_values SET {},{actual_at} updated_by = ?1, updated_at = ?2, reported_by = NULL, reported_at = NULL, version = version + 1
             WHERE item_id = ?3 AND period = ?{}",
            sets.join(", "),
            n + 4
        );
        let mut stmt = ctx.tx.prepare_cached(&sql)?;
        let mut p: Vec<&dyn crate::store::engine::ToParam> = vec![&ctx.actor.login, &stamp, &id];
        p.extend(news.iter().map(|v| v as &dyn crate::store::engine::ToParam));
        p.push(&period_s);
        stmt.execute(p.as_slice())?;
    } else {
        let marks: Vec<String> = (0..n).map(|i| format!("?{}", i + 6)).collect();
        let actual_given = changed.iter().any(|c| c.0 == ValueField::Actual && c.2.is_some());
        let sql = format!(
            "INSERT INTO item_values (item_id, period, period_start, updated_by, updated_at, {}{}) VALUES (?1, ?2, ?3, ?4, ?5, {}{})",
            columns.join(", "),
            if actual_given { ", actual_at" } else { "" },
            marks.join(", "),
            if actual_given { ", ?5" } else { "" }
        );
        let mut stmt = ctx.tx.prepare_cached(&sql)?;
        let start = period.start().to_string();
        let mut p: Vec<&dyn crate::store::engine::ToParam> = vec![&id, &period_s, &start, &ctx.actor.login, &stamp];
        p.extend(news.iter().map(|v| v as &dyn crate::store::engine::ToParam));
        stmt.execute(p.as_slice())?;
    }
    Ok(())
}

/// One audit entry for the row's numbers (two when its comment changed too).
fn log_row(ctx: &mut Ctx, key: &ItemKey, period: &str, changed: &[(ValueField, Option<String>, Option<String>)]) {
    let k = key.to_string();
    let (comments, numbers): (Vec<_>, Vec<_>) = changed.iter().partition(|c| c.0 == ValueField::Comment);
    match numbers.as_slice() {
        [] => {}
        [(f, old, new)] => ctx.log(&k, &format!("{}@{period}", f.as_str()), old.clone(), new.clone()),
        many => {
            let old = row_text(many.iter().map(|(f, o, _)| (f.as_str(), o.as_deref())));
            let new = row_text(many.iter().map(|(f, _, n)| (f.as_str(), n.as_deref())));
            ctx.log(&k, &format!("{ROW_FIELD}@{period}"), Some(old), Some(new));
        }
    }
    for (f, old, new) in comments {
        ctx.log(&k, &format!("{}@{period}", f.as_str()), old.clone(), new.clone());
    }
}

/// A changed value voids the controller's validation of realised value; a changed plan voids
/// the sign-off on the planned value. Looked at once per measure and kind of change in an edit.
fn clear_validation(ctx: &mut Ctx, key: &ItemKey, id: i64, planned: bool) -> Result<()> {
    if !ctx.validation_voided.insert((id, planned)) {
        return Ok(());
    }
    let (validated, signed): (Option<i64>, Option<i64>) = ctx
        .tx
        .prepare_cached("SELECT validated_by, controller_signed_by FROM measures WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if let Some(v) = validated {
        ctx.tx.execute("UPDATE measures SET validated_by = NULL, version = version + 1 WHERE id = ?1", [id])?;
        let who = super::edit::key_of(ctx.tx, v)?;
        ctx.log(&key.to_string(), "validated_by", Some(who), None);
        ctx.effects.push(format!("{key}: controller validation cleared — a value changed after it was validated"));
    }
    if planned {
        if let Some(s) = signed {
            ctx.tx.execute("UPDATE measures SET controller_signed_by = NULL, version = version + 1 WHERE id = ?1", [id])?;
            let who = super::edit::key_of(ctx.tx, s)?;
            ctx.log(&key.to_string(), "controller_signed_by", Some(who), None);
            ctx.effects.push(format!("{key}: controller sign-off cleared — the plan changed after sign-off"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_entry_reads_back_cell_by_cell() {
        let text = row_text([("planned", Some("100")), ("forecast", None), ("actual", Some("-2.5"))]);
        assert_eq!(text, "planned=100;forecast=;actual=-2.5");
        assert_eq!(row_cells(&text), vec![("planned", Some("100")), ("forecast", None), ("actual", Some("-2.5"))]);
    }
}
