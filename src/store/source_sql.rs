//! SQL value sources: a query run against a SQLite file opened read-only, or a PostgreSQL server
//! named by a URL (no password in it: PGPASSWORD or ~/.pgpass, as for keel's own database) in a
//! read-only session with a statement timeout. Only the cells come back, as text; what they mean
//! is checked by `io::source_rows`.

use crate::location::{is_server_url, PasswordSources, ServerUrl};
use crate::store::engine::{Db, FileMode, ValueRef};
use std::path::Path;
use std::time::Duration;

fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// The first three columns of every row `query` returns at `location`.
pub fn query_cells(location: &str, query: &str, login: &str, limit: Duration) -> Result<Vec<Vec<Option<String>>>, String> {
    let db = if is_server_url(location) {
        let mut server = ServerUrl::parse(location, login, &PasswordSources::from_env()).map_err(|e| e.to_string())?;
        server.config.connect_timeout(limit);
        let db = Db::connect(&server).map_err(|e| format!("{}: {e}", server.shown))?;
        db.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").map_err(|e| e.to_string())?;
        db
    } else {
        let path = location.strip_prefix("sqlite://").unwrap_or(location);
        if !Path::new(path).is_file() {
            return Err(format!("{path}: no such SQLite file"));
        }
        Db::open_file(Path::new(path), FileMode::ReadOnly).map_err(|e| format!("{path}: {e}"))?
    };
    // The same bound on both engines: a query that never ends fails the source, nothing else.
    db.time_limit(limit).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    db.query_each(query, [], |r| {
        let cell = |i: usize| r.get_ref(i).ok().and_then(text);
        rows.push(vec![cell(0), cell(1), cell(2)]);
        Ok(())
    })
    .map_err(|e| match started.elapsed() >= limit {
        true => format!("the query ran longer than {:.1} s and was stopped ({e})", limit.as_secs_f64()),
        false => format!("the query failed: {e}"),
    })?;
    Ok(rows)
}
