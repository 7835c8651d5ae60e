//! What a server offers beyond a file: read-only reporting views for BI tools and psql, and the
//! GRANT statements that make the audit table append-only for the role keel's users connect as.
//! PostgreSQL only (a file has no roles; its readers open the file).

use super::engine::{Db, Tx};
use super::{Result, StoreError};

/// The views, newest definition. They are not versioned: every migration on a server drops them
/// first (so it may alter the tables under them) and makes them again after.
pub const VIEW_NAMES: [&str; 4] = ["keel_items", "keel_values", "keel_escalations", "keel_funnel"];

const CREATE_VIEWS: &str = r#"
CREATE VIEW keel_items AS
SELECT i.key, i.kind,
       COALESCE(m.title, n.title, k.title, kr.title, o.title, p.name, u.name, c.name, kra.name) AS title,
       owner.name AS owner, owner_item.key AS owner_key,
       (SELECT key FROM items WHERE id = COALESCE(m.package_id, n.parent_id, kr.objective_id, o.parent_id, u.parent_id)) AS parent,
       m.stage, m.side_state, m.value_type,
       CAST(COALESCE(n.target, k.target, kr.target, o.target) AS NUMERIC) AS target,
       CAST(m.potential AS NUMERIC) AS potential_value
  FROM items i
  LEFT JOIN measures m ON m.id = i.id
  LEFT JOIN nodes n ON n.id = i.id
  LEFT JOIN kpis k ON k.id = i.id
  LEFT JOIN key_results kr ON kr.id = i.id
  LEFT JOIN objectives o ON o.id = i.id
  LEFT JOIN people p ON p.id = i.id
  LEFT JOIN units u ON u.id = i.id
  LEFT JOIN cycles c ON c.id = i.id
  LEFT JOIN kras kra ON kra.id = i.id
  LEFT JOIN people owner ON owner.id = COALESCE(m.owner_id, n.owner_id, k.owner_id, kr.owner_id, o.owner_id, kra.owner_id)
  LEFT JOIN items owner_item ON owner_item.id = owner.id;

CREATE VIEW keel_values AS
SELECT i.key, v.period, v.period_start,
       CAST(v.baseline AS NUMERIC) AS baseline, CAST(v.planned AS NUMERIC) AS planned,
       CAST(v.forecast AS NUMERIC) AS forecast, CAST(v.actual AS NUMERIC) AS actual,
       v.comment, v.updated_by, v.updated_at
  FROM item_values v JOIN items i ON i.id = v.item_id;

CREATE VIEW keel_escalations AS
SELECT e.id, i.key, e.tier, e.state, e.reason, e.period,
       CAST(e.gap AS NUMERIC) AS gap, CAST(e.relative AS NUMERIC) AS relative, e.periods_out,
       e.assignee_role, (SELECT key FROM items WHERE id = e.assignee_id) AS assignee,
       e.opened_at, e.due_at, e.acknowledged_by, e.decision, e.closed_at
  FROM escalations e JOIN items i ON i.id = e.item_id;

CREATE VIEW keel_funnel AS
SELECT i.key, f.stage,
       CAST(f.planned AS NUMERIC) AS planned, CAST(f.forecast AS NUMERIC) AS forecast, CAST(f.actual AS NUMERIC) AS actual
  FROM node_funnel f JOIN items i ON i.id = f.node_id;
"#;

/// Drop the views (before a migration alters the tables under them).
pub(super) fn drop_views(tx: &Tx) -> super::engine::DbResult<()> {
    tx.batch(&format!("DROP VIEW IF EXISTS {}", VIEW_NAMES.join(", ")))
}

/// Make the views again (after the migrations, or on a database that has none yet).
pub(super) fn create_views(tx: &Tx) -> super::engine::DbResult<()> {
    drop_views(tx)?;
    tx.batch(CREATE_VIEWS)
}

/// Whether every view is there.
pub(super) fn views_present(db: &Db) -> Result<bool> {
    let present: i64 = db.query_row(
        "SELECT COUNT(*) FROM pg_catalog.pg_views WHERE schemaname = current_schema() AND viewname = ANY(string_to_array(?1, ','))",
        [VIEW_NAMES.join(",")],
        |r| r.get(0),
    )?;
    Ok(present == VIEW_NAMES.len() as i64)
}

/// A role name as an SQL identifier, refused unless it is a plain name (what `CREATE ROLE` takes
/// unquoted, in any case), so no text given on the command line becomes SQL.
fn role_identifier(role: &str, what: &str) -> Result<String> {
    let plain = !role.is_empty()
        && role.len() <= 63
        && role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && !role.as_bytes()[0].is_ascii_digit();
    if !plain {
        return Err(StoreError::Invalid {
            key: what.into(),
            field: role.into(),
            why: "a role name of letters, digits, '_', '-' or '.' (up to 63, not starting with a digit)".into(),
        });
    }
    Ok(format!("\"{role}\""))
}

/// The GRANT statements for `users` (who edit through keel) and, if given, `readonly` (who
/// only query the reporting views), from the tables the database holds now.
pub fn grant_statements(db: &Db, users: &str, readonly: Option<&str>) -> Result<Vec<String>> {
    let users = role_identifier(users, "--role")?;
    let tables: Vec<String> = db.query_map(
        "SELECT CAST(tablename AS TEXT) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
        [],
        |r| r.get(0),
    )?;
    let quoted = |names: &[&String]| names.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", ");
    let edited: Vec<&String> = tables.iter().filter(|t| !["audit", "keel_meta", "keel_writes"].contains(&t.as_str())).collect();
    let views = VIEW_NAMES.join(", ");
    let mut out = vec![
        format!("GRANT USAGE ON SCHEMA {} TO {users}", current_schema(db)?),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {users}", quoted(&edited)),
        // Append-only: the audit chain may grow, never change; the schema's facts only be read.
        format!("REVOKE UPDATE, DELETE, TRUNCATE ON audit, keel_meta FROM {users}"),
        format!("GRANT SELECT, INSERT ON audit TO {users}"),
        format!("GRANT SELECT ON keel_meta, {views} TO {users}"),
        format!("GRANT SELECT, UPDATE ON keel_writes TO {users}"),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {users}", current_schema(db)?),
    ];
    if let Some(readonly) = readonly {
        let readonly = role_identifier(readonly, "--readonly")?;
        out.push(format!("GRANT USAGE ON SCHEMA {} TO {readonly}", current_schema(db)?));
        out.push(format!("GRANT SELECT ON {views} TO {readonly}"));
    }
    Ok(out)
}

fn current_schema(db: &Db) -> Result<String> {
    let schema: String = db.query_row("SELECT CAST(current_schema() AS TEXT)", [], |r| r.get(0))?;
    Ok(format!("\"{}\"", schema.replace('"', "\"\"")))
}

/// Run the statements in one transaction: all of them or none.
pub fn apply(db: &Db, statements: &[String]) -> Result<()> {
    db.write(|tx| {
        for s in statements {
            tx.batch(s)?;
        }
        Ok::<(), StoreError>(())
    })
}
