//! Candidates for shell completion: item keys, logins, units and cycles that start with what was
//! typed, read from the file opened read-only (no migration, no identity check, no lock held
//! longer than the query), at most [`LIMIT`] of them, through the `items.key` index.

use crate::store::engine::{params, Db, DbResult, FileMode};
use std::path::Path;

/// More than a shell shows usefully; a prefix narrows the rest.
pub const LIMIT: usize = 200;

/// What is being completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Any item key (`M-27`), with its title.
    Key,
    /// A person's login, with the name.
    Login,
    /// A person's key (`P-3`) or login.
    Person,
    /// A unit's key (`U-2`), with its name.
    Unit,
    /// A cycle's key (`C-1`), with its name.
    Cycle,
}

/// (value, description) pairs starting with `prefix`; nothing at all when the file cannot be
/// read (completion never prints an error into the command line).
pub fn candidates(db: &Path, want: Want, prefix: &str) -> Vec<(String, String)> {
    let conn = match super::server::server_url(db) {
        Some(url) => super::server::connect(url).ok(),
        None => Db::open_file(db, FileMode::ReadOnly).ok(),
    };
    let Some(conn) = conn else {
        return vec![];
    };
    let _ = conn.busy_timeout(std::time::Duration::from_millis(200));
    query(&conn, want, prefix).unwrap_or_default()
}

/// Keys are matched in capitals (the match is case-sensitive); logins as typed.
fn query(conn: &Db, want: Want, prefix: &str) -> DbResult<Vec<(String, String)>> {
    let key = conn.starts_with("i.key", 1);
    let (sql, upper) = match want {
        Want::Key => (
            format!(
                "SELECT i.key, COALESCE(m.title, k.title, p.title, o.title, n.title, pe.name, u.name, c.name, a.name, '')
                 FROM items i LEFT JOIN measures m ON m.id = i.id LEFT JOIN key_results k ON k.id = i.id LEFT JOIN kpis p ON p.id = i.id
                 LEFT JOIN objectives o ON o.id = i.id LEFT JOIN nodes n ON n.id = i.id LEFT JOIN people pe ON pe.id = i.id
                 LEFT JOIN units u ON u.id = i.id LEFT JOIN cycles c ON c.id = i.id LEFT JOIN kras a ON a.id = i.id
                 WHERE {key} ORDER BY i.kind, i.num LIMIT ?2"
            ),
            true,
        ),
        Want::Login => (format!("SELECT login, name FROM people WHERE {} ORDER BY login LIMIT ?2", conn.starts_with("login", 1)), false),
        Want::Person => {
            (format!("SELECT i.key, p.name FROM people p JOIN items i ON i.id = p.id WHERE {key} ORDER BY i.num LIMIT ?2"), true)
        }
        Want::Unit => (format!("SELECT i.key, u.name FROM units u JOIN items i ON i.id = u.id WHERE {key} ORDER BY i.num LIMIT ?2"), true),
        Want::Cycle => {
            (format!("SELECT i.key, c.name FROM cycles c JOIN items i ON i.id = c.id WHERE {key} ORDER BY i.num LIMIT ?2"), true)
        }
    };
    let Some(pattern) = conn.prefix_pattern(&if upper { prefix.to_uppercase() } else { prefix.to_string() }) else { return Ok(vec![]) };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![pattern, LIMIT as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut out: Vec<(String, String)> = rows.collect::<DbResult<_>>()?;
    if want == Want::Person && out.len() < LIMIT {
        out.extend(query(conn, Want::Login, prefix)?);
    }
    Ok(out)
}
