//! Many rows into one table in as few round trips as the engine allows.
//!
//! On SQLite a statement is a function call, so each row is inserted as it is pushed, exactly as
//! a loop of single inserts would. On PostgreSQL every statement is a round trip to the server —
//! a plan of 100,000 measures writes a million values — so rows wait in the batch and go as
//! multi-row `INSERT … VALUES (…), (…)` statements when it is finished. Until then the server has
//! not seen them: a batch is finished before anything reads its table, and batches whose rows
//! refer to each other are finished in the order of their references (measures before their
//! milestones).

use super::{Db, DbResult, Engine, Param, ToParam};

/// Rows per statement at most: large enough that a round trip is shared by many rows, small
/// enough that a statement stays well inside the server's 65,535 parameters.
const MOST_ROWS: usize = 512;
const MOST_PARAMS: usize = 65_535;

/// Rows waiting to be inserted by one `INSERT INTO table (columns)` (see the module's note).
/// Dropped unfinished — when the write fails half-way and rolls back — its rows are let go.
pub struct RowBatch<'db> {
    db: &'db Db,
    head: String,
    tail: String,
    width: usize,
    /// SQLite's one-row statement, prepared once.
    single: String,
    /// PostgreSQL's rows not yet sent, `width` parameters each.
    pending: Vec<Param<'static>>,
}

impl Db {
    /// A batch of rows for `head` (`INSERT INTO t (a, b, c)`, `width` columns), each followed by
    /// `tail` (`ON CONFLICT DO NOTHING`, or nothing). Nothing may read the table, nor insert rows
    /// that refer to these, until [`RowBatch::finish`] has returned.
    pub fn row_batch(&self, head: &str, width: usize, tail: &str) -> RowBatch<'_> {
        assert!(width > 0 && width <= MOST_PARAMS, "a row batch needs between 1 and {MOST_PARAMS} columns");
        RowBatch {
            db: self,
            head: head.to_string(),
            tail: tail.to_string(),
            width,
            single: statement(head, width, 1, tail),
            pending: Vec::new(),
        }
    }
}

impl RowBatch<'_> {
    /// Add one row: its parameters in the order of the columns.
    pub fn push(&mut self, row: &[&dyn ToParam]) -> DbResult<()> {
        assert_eq!(row.len(), self.width, "a row of {} values for {} columns: {}", row.len(), self.width, self.head);
        match &self.db.engine {
            Engine::Sqlite(_) => {
                self.db.prepare_cached(&self.single)?.execute(row)?;
            }
            Engine::Postgres(_) => self.pending.extend(row.iter().map(|p| owned(p.to_param()))),
        }
        Ok(())
    }

    /// Send every row still waiting. Statements are of a few fixed sizes (powers of two), so the
    /// statement cache holds a handful per table, whatever the number of rows.
    pub fn finish(mut self) -> DbResult<()> {
        let pending = std::mem::take(&mut self.pending);
        let most = rows_per_statement(self.width);
        let mut rest = &pending[..];
        while !rest.is_empty() {
            let rows = rest.len() / self.width;
            let take = if rows >= most { most } else { 1 << rows.ilog2() };
            let (now, later) = rest.split_at(take * self.width);
            let sql = statement(&self.head, self.width, take, &self.tail);
            let refs: Vec<&dyn ToParam> = now.iter().map(|p| p as &dyn ToParam).collect();
            self.db.prepare_cached(&sql)?.execute(&refs[..])?;
            rest = later;
        }
        Ok(())
    }
}

fn owned(p: Param<'_>) -> Param<'static> {
    match p {
        Param::Null => Param::Null,
        Param::Integer(i) => Param::Integer(i),
        Param::Real(f) => Param::Real(f),
        Param::Text(t) => Param::Text(std::borrow::Cow::Owned(t.into_owned())),
        Param::Decimal(d) => Param::Decimal(d),
    }
}

/// The largest power of two of rows a statement carries for `width` columns.
fn rows_per_statement(width: usize) -> usize {
    let most = MOST_ROWS.min(MOST_PARAMS / width).max(1);
    1 << most.ilog2()
}

/// `head VALUES (?1, ?2), (?3, ?4) tail` for `rows` rows of `width` columns.
fn statement(head: &str, width: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 7);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_placeholders_row_after_row() {
        assert_eq!(statement("INSERT INTO t (a, b)", 2, 2, ""), "INSERT INTO t (a, b) VALUES (?1, ?2), (?3, ?4)");
        assert_eq!(statement("INSERT INTO t (a)", 1, 1, "ON CONFLICT DO NOTHING"), "INSERT INTO t (a) VALUES (?1) ON CONFLICT DO NOTHING");
    }

    #[test]
    fn a_statement_never_carries_more_parameters_than_the_server_takes() {
        for width in [1, 2, 13, 25, 127, 128, 129, 1000, MOST_PARAMS] {
            let rows = rows_per_statement(width);
            assert!(rows.is_power_of_two() && rows * width <= MOST_PARAMS && rows <= MOST_ROWS, "width {width}: {rows} rows");
        }
    }
}
