//! Open escalations counted by tier, unit and owner, kept by triggers in the schema (migration
//! 10, one set per engine): every write that opens, closes, re-tiers or deletes an escalation, and
//! every change of an escalated item's owner or unit, moves the counts in the same statement, so
//! no write path can forget them. The owner is the item's (a measure's, key result's or KPI's),
//! the unit a measure's business unit — what the variance list filters by; 0 stands for none.

use crate::domain::escalation::Tier;
use crate::store::engine::{Db, DbResult, ToParam};
use std::collections::BTreeMap;

/// (tier, unit id, owner id) → open escalations.
pub type Counts = BTreeMap<(i64, i64, i64), i64>;

/// The counts from the escalations themselves, in one grouped pass: what the triggers keep, and
/// what a rebuild writes.
const RECOUNT: &str = "SELECT e.tier, COALESCE(m.business_unit_id, 0), COALESCE(m.owner_id, k.owner_id, p.owner_id, 0), COUNT(*)
    FROM escalations e LEFT JOIN measures m ON m.id = e.item_id LEFT JOIN key_results k ON k.id = e.item_id
    LEFT JOIN kpis p ON p.id = e.item_id
    WHERE e.state = 'open' GROUP BY 1, 2, 3";

pub fn recount(db: &Db) -> DbResult<Counts> {
    let rows: Vec<((i64, i64, i64), i64)> = db.query_map(RECOUNT, [], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))?;
    Ok(rows.into_iter().collect())
}

/// The kept counts (rows at zero left out).
pub fn kept(db: &Db) -> DbResult<Counts> {
    let rows: Vec<((i64, i64, i64), i64)> =
        db.query_map("SELECT tier, unit_id, owner_id, open_count FROM kept_escalation_counts WHERE open_count <> 0", [], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?))
        })?;
    Ok(rows.into_iter().collect())
}

/// Write the counts again from the escalations (a copy, a rewound scratch file).
pub fn rebuild(db: &Db) -> DbResult<()> {
    db.execute("DELETE FROM kept_escalation_counts", [])?;
    db.execute(&format!("INSERT INTO kept_escalation_counts (tier, unit_id, owner_id, open_count) {RECOUNT}"), [])?;
    Ok(())
}

/// Open escalations per tier (owner review, sponsor action, steering committee).
pub fn by_tier(db: &Db) -> DbResult<[usize; 3]> {
    let mut out = [0usize; 3];
    db.query_each("SELECT tier, CAST(SUM(open_count) AS BIGINT) FROM kept_escalation_counts GROUP BY tier", [], |r| {
        let (tier, n): (i64, i64) = (r.get(0)?, r.get(1)?);
        out[(tier - 1).clamp(0, 2) as usize] += n.max(0) as usize;
        Ok(())
    })?;
    Ok(out)
}

/// Open escalations of a tier, an owner (by login) and a unit (by key), any of them left open:
/// the variance list's count, without counting its rows.
pub fn count(db: &Db, tier: Option<Tier>, owner_login: Option<&str>, unit: Option<&str>) -> DbResult<usize> {
    let tier = tier.map(Tier::number);
    let params: Vec<(&str, &dyn ToParam)> = vec![(":tier", &tier), (":login", &owner_login), (":unit", &unit)];
    let n: Option<i64> = db.query_row(
        "SELECT CAST(SUM(c.open_count) AS BIGINT) FROM kept_escalation_counts c
         WHERE (CAST(:tier AS BIGINT) IS NULL OR c.tier = CAST(:tier AS BIGINT))
           AND (CAST(:login AS TEXT) IS NULL OR c.owner_id IN (SELECT id FROM people WHERE login = :login))
           AND (CAST(:unit AS TEXT) IS NULL OR c.unit_id IN (SELECT id FROM items WHERE key = :unit))",
        &params[..],
        |r| r.get(0),
    )?;
    Ok(n.unwrap_or(0).max(0) as usize)
}
