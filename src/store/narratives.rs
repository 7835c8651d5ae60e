//! The narrative rule on every path (`keel set`, both imports, the app): after an edit's rules
//! ran, each item whose numbers it changed — and each the weekly form names — that is red or
//! escalated must carry a narrative written or confirmed since its current period began (per the
//! audit log, or by this very edit). The rule is the domain's; this gathers the facts in bulk.

use super::edit::Ctx;
use super::{resolve, thresholds_from, Result, StoreError};
use crate::domain::escalation::Tier;
use crate::domain::narrative::{narrative_refusal, stands_whatever_the_status, NarrativeFacts};
use crate::domain::status::Rag;
use crate::domain::{Cadence, ItemKind};
use crate::store::engine::OptionalExtension;
use std::collections::{BTreeSet, HashMap, HashSet};

pub(crate) fn check(ctx: &mut Ctx) -> Result<()> {
    let mut ids: BTreeSet<i64> = std::mem::take(&mut ctx.valued);
    for key in std::mem::take(&mut ctx.narrative_required) {
        ids.insert(resolve(ctx.tx, &key)?);
    }
    if ids.is_empty() {
        return Ok(());
    }
    // Items whose narrative this edit wrote (or created with the item).
    let written_now: HashSet<&str> =
        ctx.audit.iter().filter(|e| matches!(e.field.as_str(), "narrative" | "created")).map(|e| e.item_key.as_str()).collect();
    let mut by_kind: HashMap<ItemKind, Vec<(i64, String)>> = HashMap::new();
    // Every item's key and kind in one query (a plan's import asks for thousands), in id order.
    let ids: Vec<i64> = ids.into_iter().collect();
    let listed = format!("SELECT id, key, kind FROM items WHERE {} ORDER BY id", ctx.tx.in_id_list("id", 1));
    let rows: Vec<(i64, String, String)> =
        ctx.tx.query_map(&listed, [crate::store::engine::id_list(&ids)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    for (id, key, kind) in rows {
        let Some(kind) = ItemKind::parse(&kind).filter(|k| k.has_values()) else { continue };
        // Written by this very edit (a plan's new items, mostly): no status needs working out.
        if written_now.contains(key.as_str()) && stands_whatever_the_status(narrative_of(ctx, kind, id)?.is_some(), true) {
            continue;
        }
        by_kind.entry(kind).or_default().push((id, key));
    }
    let t = thresholds_from(ctx.tx)?;
    let mut memo = super::statuses::Memo::default();
    let variance_t = t.clone();
    let mut engine = super::statuses::Engine { conn: ctx.tx, clock: ctx.clock, t, memo: &mut memo, all: false };
    let today = ctx.clock.today;
    for (kind, items) in by_kind {
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        match kind {
            ItemKind::Measure => engine.load_measures(&ids)?,
            ItemKind::KeyResult => engine.load_krs(&ids)?,
            _ => engine.load_kpis(&ids)?,
        }
        for (id, key) in items {
            // Red by the computed status, and the cadence that sets the item's current period (a
            // key result reports weekly), both as the status engine already read them.
            let (red, cadence) = match kind {
                ItemKind::Measure => engine.measure_ref(id).map(|m| (m.potential == Rag::Red, m.cadence))?,
                ItemKind::KeyResult => engine.kr(id).map(|k| (k.shown.computed == Rag::Red, Cadence::Weekly))?,
                _ => engine.kpi(id).map(|k| (k.rag == Rag::Red, k.cadence))?,
            };
            let mut escalation = engine.tier(id)?.and_then(Tier::from_number);
            // An escalation only signals call for (confidence falling, updates missed, a source
            // failing) asks for the update, not for a narrative about the numbers.
            if escalation.is_some() && super::rules::computed_assessment(ctx.tx, id, &variance_t)?.and_then(|a| a.tier).is_none() {
                escalation = None;
            }
            if !red && escalation.is_none() {
                continue;
            }
            let text = narrative_of(ctx, kind, id)?;
            let period = cadence.period_of(today);
            let current = written_now.contains(key.as_str()) || {
                let last: Option<String> = ctx
                    .tx
                    .prepare_cached("SELECT MAX(at) FROM audit WHERE item_key = ?1 AND field IN ('narrative', 'created')")?
                    .query_row([&key], |r| r.get(0))
                    .optional()?
                    .flatten();
                last.is_some_and(|at| at.as_str() >= period.start().to_string().as_str())
            };
            let facts = NarrativeFacts { red, escalation, written: text.is_some(), current };
            if let Some(why) = narrative_refusal(facts, period) {
                return Err(StoreError::Invalid { key, field: "narrative".into(), why });
            }
        }
    }
    Ok(())
}

/// The item's narrative, when it says something.
fn narrative_of(ctx: &Ctx, kind: ItemKind, id: i64) -> Result<Option<String>> {
    let table = match kind {
        ItemKind::Measure => "measures",
        ItemKind::KeyResult => "key_results",
        _ => "kpis",
    };
    let text: Option<String> =
        ctx.tx.prepare_cached(&format!("SELECT narrative FROM {table} WHERE id = ?1"))?.query_row([id], |r| r.get(0))?;
    Ok(text.filter(|t| !t.trim().is_empty()))
}

impl super::Store {
    /// Would these changes leave `key` needing a narrative it does not have yet? The reason
    /// when they would (the rule's own words), none when not. The changes run through the write
    /// path and are rolled back, so the answer is the rule's, never a second reckoning of it;
    /// changes the path refuses for another reason answer with that error.
    pub fn narrative_needed(&mut self, key: &crate::domain::ItemKey, mut changes: Vec<super::Change>) -> Result<Option<String>> {
        changes.push(super::Change::RequireNarrative(key.clone()));
        match self.edit_dry_run(super::Edit { changes, reason: None }) {
            Ok(_) => Ok(None),
            Err(StoreError::Invalid { field, why, .. }) if field == "narrative" => Ok(Some(why)),
            Err(e) => Err(e),
        }
    }
}
