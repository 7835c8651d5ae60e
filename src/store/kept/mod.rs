//! What the whole-organisation answers need, kept as the write path goes (issue 17), so they are
//! an index range or a lookup instead of a recompute of the file:
//!
//! - `kept_stale` ([`stale`]): for each item that owes updates, the day from which it is stale
//!   (never "is stale": today moves). The write path works out again the rows of what an edit
//!   touched; a load fills the rows of its new items in one pass at its end.
//! - `kept_escalation_counts` ([`escalations`]): open escalations by tier, unit and owner, kept
//!   by triggers in the schema.
//!
//! Both are derived: `keel copy` rebuilds them on the destination rather than copying them, and
//! `keel check --deep` and the property test compare them with a recompute ([`differences`]).

pub mod escalations;
pub mod stale;

use super::edit::Ctx;
use super::engine::{Db, DbResult};
use crate::domain::{ItemKey, ItemKind};
use std::collections::BTreeSet;

/// The derived tables kept here (not copied by `keel copy`: rebuilt on the destination).
pub const TABLES: &[&str] = &["kept_escalation_counts", "kept_stale"];

/// The schema version that made the kept tables (its backfill of `kept_stale` runs in Rust: the
/// date is the domain's).
pub const SCHEMA: i64 = 10;

use crate::store::engine::id_list as ids_json;

/// Which items an edit may have changed the staleness of, taken before the rules run (they empty
/// the touched sets): those whose values, fields, stage or retirement changed, by the touched
/// sets and by the audit rows the edit wrote. A load's new items (after `ctx.loaded_after`) are
/// filled by [`after_edit`].
pub(crate) fn touched(ctx: &Ctx) -> Result<BTreeSet<i64>, super::StoreError> {
    let mut ids: BTreeSet<i64> =
        ctx.touched_variance.iter().chain(&ctx.touched_money).chain(&ctx.touched_gates).chain(&ctx.valued).copied().collect();
    if ctx.loaded_after.is_none() {
        let keys: BTreeSet<&str> = ctx.audit.iter().map(|e| e.item_key.as_str()).collect();
        for key in keys {
            let Ok(k) = ItemKey::parse(key) else { continue };
            if matches!(k.kind, ItemKind::Measure | ItemKind::KeyResult | ItemKind::Kpi) {
                if let Ok(id) = super::resolve(ctx.tx, &k) {
                    ids.insert(id);
                }
            }
        }
    }
    if let Some(after) = ctx.loaded_after {
        ids.retain(|id| *id <= after);
    }
    Ok(ids)
}

/// Keep the rows of what an edit touched (see [`touched`]), and fill those of a load's new items.
pub(crate) fn after_edit(ctx: &Ctx, ids: &BTreeSet<i64>) -> DbResult<()> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    for chunk in ids.chunks(5_000) {
        stale::refresh(ctx.tx, chunk)?;
    }
    if let Some(after) = ctx.loaded_after {
        stale::fill(ctx.tx, after)?;
    }
    Ok(())
}

/// The highest item id so far: a load's new items come after it.
pub(crate) fn last_item(db: &Db) -> DbResult<i64> {
    db.query_row("SELECT COALESCE(MAX(id), 0) FROM items", [], |r| r.get(0))
}

/// Write every kept table again from the data (a copy's destination, a rewound scratch file).
pub fn rebuild(db: &Db) -> DbResult<()> {
    stale::fill(db, 0)?;
    escalations::rebuild(db)
}

/// Every difference between the kept tables and a recompute from the data; empty when they
/// agree. Nothing here depends on today.
pub fn differences(db: &Db) -> DbResult<Vec<String>> {
    let mut out = Vec::new();
    // Step by step over the items (bounded memory at any size): the recompute of a range of ids
    // against the kept rows of the same range.
    let mut end = 0;
    stale::recompute(db, 0, |from, to, expected| {
        end = to;
        compare(&mut out, expected, stale::kept(db, from, Some(to))?);
        Ok(())
    })?;
    compare(&mut out, Vec::new(), stale::kept(db, end, None)?);
    let (kept, recount) = (escalations::kept(db)?, escalations::recount(db)?);
    if kept != recount {
        out.push(format!("kept_escalation_counts: kept {kept:?}, recounted {recount:?}"));
    }
    Ok(out)
}

/// The differences between the rows a recompute gives and the kept ones, of the same items.
fn compare(out: &mut Vec<String>, expected: Vec<stale::Kept>, found: Vec<stale::Kept>) {
    let found: std::collections::BTreeMap<i64, stale::Kept> = found.into_iter().map(|k| (k.item_id, k)).collect();
    let mut seen = std::collections::BTreeSet::new();
    for want in &expected {
        seen.insert(want.item_id);
        match found.get(&want.item_id) {
            None => {
                out.push(format!("kept_stale: item #{} owes updates (stale from {}) but has no kept row", want.item_id, want.stale_from))
            }
            Some(got) if got != want => out.push(format!("kept_stale: item #{} kept {got:?}, recomputed {want:?}", want.item_id)),
            _ => {}
        }
    }
    for id in found.keys().filter(|id| !seen.contains(id)) {
        out.push(format!("kept_stale: item #{id} has a kept row but owes no updates"));
    }
}
