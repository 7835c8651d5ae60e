//! The facts `domain::authority` needs: the roles a person holds on an item, and whether they
//! facilitate an open check-in.

use super::edit::Ctx;
use super::{Result, StoreError};
use crate::domain::authority::{self, DecisionStanding};
use crate::domain::ItemKind;
use crate::store::engine::OptionalExtension;

/// The people holding a role on an item (see `DecisionStanding::role_on_item`).
fn role_holders(ctx: &Ctx, kind: ItemKind, id: i64) -> Result<Vec<Option<i64>>> {
    let sql = match kind {
        ItemKind::Measure => "SELECT owner_id, sponsor_id, controller_id FROM measures WHERE id = ?1",
        ItemKind::KeyResult => {
            "SELECT k.owner_id, o.owner_id, NULL FROM key_results k JOIN objectives o ON o.id = k.objective_id WHERE k.id = ?1"
        }
        ItemKind::Kpi => "SELECT owner_id, NULL, NULL FROM kpis WHERE id = ?1",
        ItemKind::Objective => "SELECT owner_id, NULL, NULL FROM objectives WHERE id = ?1",
        ItemKind::Kra => "SELECT owner_id, NULL, NULL FROM kras WHERE id = ?1",
        k if k.node().is_some() => "SELECT owner_id, NULL, NULL FROM nodes WHERE id = ?1",
        _ => return Ok(Vec::new()),
    };
    let row: Option<(Option<i64>, Option<i64>, Option<i64>)> =
        ctx.tx.query_row(sql, [id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
    Ok(row.map(|(a, b, c)| vec![a, b, c]).unwrap_or_default())
}

/// Refuse a decision on `key` by someone with no standing to record it (exit 77).
pub(crate) fn guard_decision(ctx: &Ctx, key: &crate::domain::ItemKey, id: i64) -> Result<()> {
    if ctx.trusted {
        return Ok(());
    }
    let me = ctx.actor.person_id;
    let standing = DecisionStanding {
        role_on_item: me.is_some() && role_holders(ctx, key.kind, id)?.contains(&me),
        facilitating: ctx.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM meetings WHERE ended_at IS NULL AND facilitator = ?1)",
            [&ctx.actor.login],
            |r| r.get(0),
        )?,
        pmo_admin: ctx.actor.pmo_admin,
    };
    match authority::decision_refusal(&ctx.actor.display(), &key.to_string(), standing) {
        Some(why) => Err(StoreError::Permission(format!("{key} decision refused: {why}"))),
        None => Ok(()),
    }
}
