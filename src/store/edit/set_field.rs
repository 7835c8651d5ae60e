//! Setting one field of an item through the write path: typing the raw text for its column,
//! the version check, structure guards, and the audit row.

use super::*;

/// Audit fields that record a change to a measure's gate columns (they bump its row's version).
const GATE_FIELDS: &[&str] =
    &["stage", "side_state", "side_reason", "pending_stage", "requested_by", "sponsor_approved_by", "controller_signed_by", "validated_by"];

/// Does an audit row's field name a change to this row? A value row (`period` given) is changed
/// by its own `FIELD@PERIOD` entries; an item's own row by its fields and gate columns — not by
/// its values, links, milestones or escalations, which live in other rows.
fn changes_row(kind: ItemKind, period: Option<&str>, audit_field: &str) -> bool {
    match period {
        Some(p) => audit_field.split_once('@').is_some_and(|(_, at)| at == p),
        None => fields::fields_of(kind).iter().any(|f| f.name == audit_field) || GATE_FIELDS.contains(&audit_field),
    }
}

pub(crate) fn check_version(
    ctx: &Ctx,
    row: &str,
    key: &ItemKey,
    field: &str,
    period: Option<&str>,
    expected: Option<i64>,
    found: i64,
) -> Result<()> {
    if ctx.bumped.contains(row) {
        return Ok(());
    }
    if let Some(expected) = expected {
        if expected != found {
            let belongs = |f: &str| changes_row(key.kind, period, f);
            let (who, when) = audit::last_change_where(ctx.tx, &key.to_string(), &belongs)?
                .unwrap_or_else(|| ("someone".to_string(), "an unknown time".to_string()));
            return Err(StoreError::Conflict { key: key.to_string(), field: field.to_string(), expected, found, who, when });
        }
    }
    Ok(())
}

/// A typed value ready for SQL, and how the audit log shows it.
enum Typed {
    Null,
    Text(String),
    Int(i64),
}

fn typed(ctx: &Ctx, key: &ItemKey, field: &fields::Field, raw: &str) -> Result<(Typed, Option<String>)> {
    let invalid = |why: String| StoreError::Invalid { key: key.to_string(), field: field.name.to_string(), why };
    let v = raw.trim();
    if v.is_empty() {
        if field.required {
            return Err(invalid("cannot be empty".into()));
        }
        return Ok((Typed::Null, None));
    }
    let reference = |want: &[ItemKind]| -> Result<(Typed, Option<String>)> {
        let k = ItemKey::parse(v).map_err(|e| invalid(e.to_string()))?;
        if !want.contains(&k.kind) {
            let names: Vec<&str> = want.iter().map(|w| w.as_str()).collect();
            return Err(invalid(format!("'{k}' is a {}, not a {}", k.kind, names.join(" or "))));
        }
        let id = resolve(ctx.tx, &k)?;
        // Nothing active is given a role, a parent or a place that is retired.
        if let Some((at, why)) = crate::store::upkeep::retired(ctx, id)? {
            let edited_retired = match resolve(ctx.tx, key) {
                Ok(me) => crate::store::upkeep::retired(ctx, me)?.is_some(),
                Err(_) => false,
            };
            if !edited_retired {
                return Err(invalid(format!("{k} is retired (since {at}: {why}); name one in service, or `keel unretire {k}` first")));
            }
        }
        Ok((Typed::Int(id), Some(k.to_string())))
    };
    match field.ty {
        FieldType::Text => {
            text_check::free_text(v).map_err(invalid)?;
            Ok((Typed::Text(v.to_string()), Some(v.to_string())))
        }
        FieldType::Number => {
            let n = Num::parse(v).map_err(|e| invalid(e.to_string()))?;
            Ok((Typed::Text(n.to_string()), Some(n.to_string())))
        }
        FieldType::Person => reference(&[ItemKind::Person]),
        FieldType::Unit => reference(&[ItemKind::Unit]),
        FieldType::Kra => reference(&[ItemKind::Kra]),
        FieldType::Objective => reference(&[ItemKind::Objective]),
        FieldType::Cycle => reference(&[ItemKind::Cycle]),
        FieldType::Node(kind) => reference(&[kind]),
        FieldType::Choice(options) => {
            let t = v.to_ascii_lowercase().replace([' ', '_'], "-");
            match options.iter().find(|o| **o == t) {
                Some(o) => Ok((Typed::Text(o.to_string()), Some(o.to_string()))),
                None => Err(invalid(format!("'{v}' is not one of: {}", options.join(", ")))),
            }
        }
        FieldType::Flag => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "done" => Ok((Typed::Int(1), Some("true".into()))),
            "false" | "no" | "0" => Ok((Typed::Int(0), Some("false".into()))),
            _ => Err(invalid(format!("'{v}' is not true or false"))),
        },
        FieldType::Date => {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| invalid(format!("'{v}' is not a date: use YYYY-MM-DD")))?;
            if d.year_ce().1 < 1900 {
                return Err(invalid(format!("'{v}': dates before 1900 are not accepted")));
            }
            Ok((Typed::Text(d.to_string()), Some(d.to_string())))
        }
    }
}

use chrono::Datelike;

fn old_display(ctx: &Ctx, field: &fields::Field, id: i64, table: &str) -> Result<(Option<String>, i64)> {
    let sql = format!("SELECT {col}, version FROM {table} WHERE id = ?1", col = field.column);
    let (old, version): (Value, i64) = ctx.tx.query_row(&sql, [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let shown = match (old, field.ty) {
        (Value::Null, _) => None,
        (Value::Integer(i), FieldType::Flag) => Some(if i == 1 { "true" } else { "false" }.to_string()),
        (Value::Integer(i), _) => opt_key_of(ctx.tx, Some(i))?,
        (Value::Text(s), _) => Some(s),
        (other, _) => Some(format!("{other:?}")),
    };
    Ok((shown, version))
}

/// Is the new text the same as the old? Numbers are compared as numbers: 22000 and 22000.00
/// are one amount, and writing one over the other changes nothing (no version, no audit row).
pub(crate) fn unchanged(old: Option<&str>, new: Option<&str>, numeric: bool) -> bool {
    match (old, new) {
        (Some(a), Some(b)) if numeric => match (Num::from_stored(a), Num::from_stored(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        _ => old == new,
    }
}

pub(crate) fn set_field(ctx: &mut Ctx, key: &ItemKey, name: &str, raw: &str, if_version: Option<i64>) -> Result<()> {
    let id = resolve(ctx.tx, key)?;
    if fields::is_period_value(key.kind, name, false) {
        return Err(StoreError::Invalid {
            key: key.to_string(),
            field: name.to_string(),
            why: "is a per-period number: give a period, e.g. --period 2026-W47".into(),
        });
    }
    let field = fields::find(key.kind, name).ok_or_else(|| StoreError::UnknownField {
        key: key.to_string(),
        kind: key.kind.to_string(),
        field: name.to_string(),
        choices: fields::choices(key.kind),
    })?;
    let kind_check =
        if key.kind == ItemKind::Person || key.kind == ItemKind::Unit || key.kind == ItemKind::Cycle || key.kind == ItemKind::Kra {
            if ctx.trusted || ctx.actor.pmo_admin {
                Ok(())
            } else {
                Err(StoreError::Permission(format!("{key}: only a PMO administrator may change people, units, cycles and areas")))
            }
        } else {
            may_edit(ctx, key.kind, id, key)
        };
    kind_check?;
    let table = fields::table_of(key.kind);
    if key.kind == ItemKind::Measure {
        let (state, _) = rules::gate_inputs(ctx.tx, id)?;
        if let Some(why) = gates::role_change_refusal(&state, field.name) {
            return Err(StoreError::Invalid { key: key.to_string(), field: field.name.into(), why });
        }
    }
    let (typed_value, shown) = typed(ctx, key, field, raw)?;
    let (old, version) = old_display(ctx, field, id, table)?;
    let row = format!("{table}:{id}");
    check_version(ctx, &row, key, field.name, None, if_version, version)?;
    if unchanged(old.as_deref(), shown.as_deref(), field.ty == FieldType::Number) {
        if field.name == "narrative" && shown.is_some() {
            // Setting the same narrative again confirms it for this period (the narrative rule
            // reads the audit log): logged, but the row itself does not change.
            ctx.log(&key.to_string(), "narrative", old, shown);
        }
        return Ok(());
    }
    if let Typed::Int(target) = typed_value {
        guard_structure(ctx, key, id, field.name, target)?;
    }
    if key.kind == ItemKind::Unit && field.name == "kind" {
        crate::store::structure::guard_unit_kind_change(ctx.tx, key, id, shown.as_deref())?;
    }
    if key.kind == ItemKind::KeyResult && field.name == "objective" {
        // The objective it leaves must keep sound weights too.
        let old: i64 = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
        ctx.touched_objectives.insert(old);
    }
    if key.kind == ItemKind::Measure {
        // Any of its fields may be one its stage stands on (owner, units, potential …).
        ctx.touched_gates.insert(id);
    }
    let sql = format!("UPDATE {table} SET {col} = ?1, version = version + 1 WHERE id = ?2", col = field.column);
    let n = match typed_value {
        Typed::Null => ctx.tx.execute(&sql, params![engine::Null, id])?,
        Typed::Text(s) => ctx.tx.execute(&sql, params![s, id])?,
        Typed::Int(i) => ctx.tx.execute(&sql, params![i, id])?,
    };
    debug_assert_eq!(n, 1);
    ctx.bumped.insert(row);
    ctx.log(&key.to_string(), field.name, old, shown);
    match (key.kind, field.name) {
        (ItemKind::Measure, "package" | "value_type") => {
            ctx.touched_money.insert(id);
            ctx.touched_variance.insert(id);
        }
        (ItemKind::Kpi, "direction" | "target" | "tolerance") => {
            ctx.touched_variance.insert(id);
        }
        // Updates are missed by the cadence: a new one judges the item's signals again.
        (ItemKind::Measure, "cadence") | (ItemKind::Kpi, "frequency") => {
            ctx.touched_variance.insert(id);
        }
        (ItemKind::KeyResult, "kind" | "baseline" | "target" | "objective") => {
            ctx.touched_variance.insert(id);
            ctx.touched_definitions.insert(id);
        }
        (ItemKind::KeyResult, "weight") => {
            let objective: i64 = ctx.tx.query_row("SELECT objective_id FROM key_results WHERE id = ?1", [id], |r| r.get(0))?;
            ctx.touched_objectives.insert(objective);
        }
        (ItemKind::Cycle, "start" | "end") => {
            // The plan line of every key result in the cycle moves with its dates.
            let mut stmt =
                ctx.tx.prepare_cached("SELECT k.id FROM key_results k JOIN objectives o ON o.id = k.objective_id WHERE o.cycle_id = ?1")?;
            let krs: Vec<i64> = stmt.query_map([id], |r| r.get(0))?.collect::<DbResult<_>>()?;
            ctx.touched_variance.extend(krs);
        }
        (ItemKind::Objective | ItemKind::KeyResult, "manual_status") => {
            ctx.effects.push(format!("{key}: status set by hand — explain it if the work underneath is not green"));
        }
        _ => {}
    }
    Ok(())
}

/// Refuse references that would break the structure: an objective aligned to itself or to one
/// of its own descendants, or an objective moved to another cycle's parent.
fn guard_structure(ctx: &Ctx, key: &ItemKey, id: i64, field: &str, target: i64) -> Result<()> {
    if key.kind == ItemKind::Objective && field == "parent" {
        let mut cursor = Some(target);
        let mut steps = 0;
        while let Some(c) = cursor {
            if c == id {
                return Err(StoreError::Invalid {
                    key: key.to_string(),
                    field: field.into(),
                    why: "would make the objective tree a loop (an objective cannot align to itself or its own descendant)".into(),
                });
            }
            cursor = ctx.tx.query_row("SELECT parent_id FROM objectives WHERE id = ?1", [c], |r| r.get(0))?;
            steps += 1;
            if steps > 10_000 {
                break;
            }
        }
        crate::store::structure::guard_objective_depth(ctx.tx, key, id, target)?;
    }
    crate::store::structure::guard_measure_unit(ctx.tx, key, field, target)?;
    Ok(())
}

pub(super) fn require_kind(key: &ItemKey, kinds: &[ItemKind], what: &str) -> Result<()> {
    if kinds.contains(&key.kind) {
        Ok(())
    } else {
        Err(StoreError::Invalid { key: key.to_string(), field: what.into(), why: format!("is a {}, which cannot be used here", key.kind) })
    }
}
