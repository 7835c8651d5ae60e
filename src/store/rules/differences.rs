//! `keel check --deep` and the property test: the incrementally kept state against a recompute
//! from scratch, through the domain rules only.

use super::*;

/// Compare the incrementally kept state with a recompute from scratch (in memory, through the
/// domain rules only). Returns every difference; empty means they agree.
pub fn derived_differences(conn: &Db, today: NaiveDate) -> Result<Vec<String>> {
    let cal = Calendar::read(conn, today)?;
    let mut diffs = Vec::new();
    // Funnel from scratch.
    let mut expected: BTreeMap<(i64, String), Money> = BTreeMap::new();
    let measures: Vec<(i64, String, Option<String>, Option<i64>, String)> = {
        let mut stmt = conn.prepare(
            "SELECT m.id, m.stage, CASE WHEN i.retired_at IS NULL THEN m.side_state ELSE 'cancelled' END, m.package_id, m.value_type
             FROM measures m JOIN items i ON i.id = m.id",
        )?;
        let r = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        r.collect::<DbResult<_>>()?
    };
    for (id, stage, side, package, vt) in &measures {
        // Every measure's stage criteria hold for as long as it is there.
        let (state, facts) = gate_inputs(conn, *id)?;
        let lacks = crate::domain::gates::stage_lacks(state.stage.unwrap_or(Stage::Defined), &state, &facts);
        if !lacks.is_empty() {
            diffs.push(format!("{}: {stage} but lacks {}", key_of_conn(conn, *id), lacks.join("; ")));
        }
        let vt = ValueType::parse(vt).unwrap_or(ValueType::RecurringBenefit);
        let m = compute_measure_money(conn, *id, vt)?;
        let stored = money_row(
            conn,
            "SELECT planned, forecast, actual, counted_stage, counted_package FROM measure_money WHERE measure_id = ?1",
            *id,
        )?;
        if stored.as_ref().map(|s| s.0) != Some(m) {
            diffs.push(format!("{}: stored money {:?} but values sum to {:?}", key_of_conn(conn, *id), stored.map(|s| s.0), m));
        }
        if side.as_deref() == Some("cancelled") {
            continue;
        }
        if let Some(p) = package {
            for n in ancestors(conn, *p)? {
                let e = expected.entry((n, stage.clone())).or_default();
                *e = e.plus(m).map_err(|e| StoreError::Invalid { key: "funnel".into(), field: "sum".into(), why: e.to_string() })?;
            }
        }
    }
    let mut stored: BTreeMap<(i64, String), Money> = BTreeMap::new();
    {
        let mut stmt = conn.prepare("SELECT node_id, stage, planned, forecast, actual FROM node_funnel")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, String>(1)?),
                Money {
                    planned: r.get::<_, Option<Num>>(2)?.unwrap_or_default(),
                    forecast: r.get::<_, Option<Num>>(3)?.unwrap_or_default(),
                    actual: r.get::<_, Option<Num>>(4)?.unwrap_or_default(),
                },
            ))
        })?;
        for row in rows {
            let (k, m) = row?;
            if !m.is_zero() {
                stored.insert(k, m);
            }
        }
    }
    expected.retain(|_, m| !m.is_zero());
    if stored != expected {
        diffs.push(format!("value funnel differs: stored {stored:?}, from scratch {expected:?}"));
    }
    // Escalations from scratch: every item with values.
    let items: Vec<i64> = {
        let mut stmt =
            conn.prepare("SELECT DISTINCT item_id FROM item_values UNION SELECT item_id FROM escalations WHERE state = 'open' UNION SELECT item_id FROM item_sources")?;
        let r = stmt.query_map([], |r| r.get(0))?;
        r.collect::<DbResult<_>>()?
    };
    for id in items {
        let figures = read_figures(conn, id)?;
        let want = verdict_of(conn, id, &cal, &figures)?.and_then(|a| a.tier).map(|t| t.number());
        let have: Option<i64> =
            conn.query_row("SELECT tier FROM escalations WHERE item_id = ?1 AND state = 'open'", [id], |r| r.get(0)).optional()?;
        // A person may resolve an escalation the numbers still call for: it stays closed until
        // the item's numbers next change, when the write path assesses it again.
        let resolved_by_person = || -> Result<bool> {
            Ok(conn
                .query_row(
                    "SELECT closed_by IS NOT NULL AND closed_by <> 'keel' FROM escalations WHERE item_id = ?1 ORDER BY id DESC LIMIT 1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(false))
        };
        let lagging = || -> Result<bool> { Ok(have >= tier_without_calendar(conn, id, &cal, &figures)? && have <= want) };
        if want != have && !(have.is_none() && resolved_by_person()?) && !lagging()? {
            diffs.push(format!("{}: open escalation tier {have:?} but the numbers call for {want:?}", key_of_conn(conn, id)));
        }
    }
    Ok(diffs)
}
