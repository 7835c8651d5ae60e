//! The engine seam: the one door between the store's SQL and the database underneath it.
//!
//! The store speaks to a [`Db`] (a connection) in keel's own terms — [`ToParam`] values in,
//! [`Row`]s whose columns come out through [`FromColumn`] — and never to a driver. Today the
//! engines are SQLite ([`sqlite`]) and PostgreSQL ([`postgres`]), variants of one [`Engine`], so
//! no rule or read model ever learns which one is underneath.
//!
//! Conventions the store's SQL keeps, so one text serves every engine:
//! - Placeholders are `?1`, `?2`, … (or `:name` where a statement is assembled from parts). The
//!   PostgreSQL engine rewrites them to `$n` when it prepares a statement.
//! - A new row's id comes back with `INSERT … RETURNING id` (SQLite ≥ 3.35 and PostgreSQL both
//!   accept it), never from a connection-wide "last insert" counter.
//! - What only one engine has (SQLite's pragmas, its backup API, `INDEXED BY` hints, `json_each`
//!   batching, statement tracing, the lock timeout) is a named method here, not SQL in the store.
//!
//! Every statement goes through the engine's statement cache, so a hot path prepares once.
//! Methods take `&self`: a write transaction is a scope ([`Db::write`]), not a borrow, which also
//! suits a client that needs `&mut` for each call (it sits in a `RefCell` inside its variant).

pub(crate) mod catalog;
mod listen;
mod postgres;
mod row_batch;
mod search;
mod sqlite;
mod tls;
mod values;

use sqlite::{ConnExt, StmtExt};
use std::fmt;

pub use catalog::quote;
pub use listen::{Listener, CHANGES_CHANNEL};
pub use sqlite::{sqlite_too_old, FileMode, MIN_SQLITE};

pub use values::{FromColumn, Null, Param, ToParam, Value, ValueRef};

/// A plain client of the server (TLS as the URL says), for yardsticks that measure keel against
/// the bare driver (`keel bench --db postgres://…`): never the store's way in.
pub fn server_client(server: &crate::location::ServerUrl) -> DbResult<::postgres::Client> {
    tls::connect(server)
}

/// `[1,2,3]`: a batch of ids as one parameter for [`Db::in_id_list`], so one statement serves any batch.
pub fn id_list(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8 + 2);
    s.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}

/// A batch of ids as one statement parameter. Most batches are a list ([`Db::in_id_list`]), read
/// by one index probe per id. A batch that fills most of its id range (a whole-file pass reads
/// measures in key order, and their ids mostly follow it) is read as the range instead — one pass
/// along the index, several times faster on either engine — and the rows of ids in the range but
/// not in the batch are dropped here ([`IdBatch::keeps`]).
pub struct IdBatch {
    param: String,
    /// The batch, sorted, when it is read as a range.
    range: Option<Vec<i64>>,
}

impl IdBatch {
    /// Below this a list is as quick as a range.
    const RANGE_FROM: usize = 256;

    pub fn of(ids: &[i64]) -> IdBatch {
        if ids.len() >= Self::RANGE_FROM {
            let mut sorted = ids.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
            // At most as many ids again to read past and drop.
            if (hi - lo) as u64 / 2 < sorted.len() as u64 {
                return IdBatch { param: format!("[{lo},{hi}]"), range: Some(sorted) };
            }
        }
        IdBatch { param: id_list(ids), range: None }
    }

    /// The condition on `column`, its batch in parameter `?param` ([`IdBatch::param`]).
    pub fn condition(&self, db: &Db, column: &str, param: usize) -> String {
        match self.range {
            Some(_) => db.in_id_range(column, param),
            None => db.in_id_list(column, param),
        }
    }

    pub fn param(&self) -> &str {
        &self.param
    }

    #[cfg(test)]
    pub fn is_range(&self) -> bool {
        self.range.is_some()
    }

    /// Whether a row of `id` belongs to the batch (a range also returns its neighbours').
    pub fn keeps(&self, id: i64) -> bool {
        self.range.as_ref().is_none_or(|sorted| sorted.binary_search(&id).is_ok())
    }
}

/// What went wrong underneath, in terms the store can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A query that must return a row returned none.
    NoRows,
    /// Another connection holds the write lock (and the wait for it ran out).
    Busy(String),
    /// The database is damaged or is not a database at all.
    Corrupt(String),
    /// The database (or a file it needs) cannot be written.
    ReadOnly(String),
    /// A column's value is not what the reading code asked for.
    Column { index: usize, why: String },
    /// The connection to the server broke in the middle (the server restarted or went away):
    /// what happened and what to do, in the message. Nothing uncommitted was kept.
    Lost(String),
    /// Anything else the engine reported (a constraint, bad SQL), in its own words.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoRows => f.write_str("Query returned no rows"),
            Error::Column { index, why } => write!(f, "column {index}: {why}"),
            Error::Busy(m) | Error::Corrupt(m) | Error::ReadOnly(m) | Error::Lost(m) | Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type DbResult<T> = std::result::Result<T, Error>;

/// `query_row(…).optional()`: no row becomes `None`, any other error stays one.
pub trait OptionalExtension<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The parameters of one statement: by position (`?1` is the first) or by name (`:name`).
pub enum ParamList<'a> {
    Positional(&'a [&'a dyn ToParam]),
    Named(&'a [(&'a str, &'a dyn ToParam)]),
}

/// Anything that can be passed as a statement's parameters: `[]`, `[a, b]` of one type,
/// `params![a, b, c]` of mixed types, or `&[(":name", &v as &dyn ToParam)]`.
pub trait Params {
    fn with_list<R>(self, f: impl FnOnce(ParamList<'_>) -> R) -> R;
}

impl Params for [&dyn ToParam; 0] {
    fn with_list<R>(self, f: impl FnOnce(ParamList<'_>) -> R) -> R {
        f(ParamList::Positional(&[]))
    }
}

impl Params for &[&dyn ToParam] {
    fn with_list<R>(self, f: impl FnOnce(ParamList<'_>) -> R) -> R {
        f(ParamList::Positional(self))
    }
}

impl Params for &[(&str, &dyn ToParam)] {
    fn with_list<R>(self, f: impl FnOnce(ParamList<'_>) -> R) -> R {
        f(ParamList::Named(self))
    }
}

macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToParam> Params for [T; $n] {
            fn with_list<R>(self, f: impl FnOnce(ParamList<'_>) -> R) -> R {
                let refs: [&dyn ToParam; $n] = std::array::from_fn(|i| &self[i] as &dyn ToParam);
                f(ParamList::Positional(&refs))
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

/// Parameters of mixed types, by position: `params![id, key, Num::ZERO]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::engine::ToParam] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::engine::ToParam),+] as &[&dyn $crate::store::engine::ToParam] };
}
pub use crate::params;

/// Named parameters (`:name`) for a statement: `named_params! {":key": key, ":limit": n}`.
#[macro_export]
macro_rules! named_params {
    () => { &[] as &[(&str, &dyn $crate::store::engine::ToParam)] };
    ($($name:literal: $p:expr),+ $(,)?) => {
        &[$(($name, &$p as &dyn $crate::store::engine::ToParam)),+] as &[(&str, &dyn $crate::store::engine::ToParam)]
    };
}
pub use crate::named_params;

/// How many times a write that overlapped others is run in all before it gives up as busy
/// (PostgreSQL; each attempt waits at most for the one write ahead of it).
pub const WRITE_ATTEMPTS: u32 = 100;

/// A connection to a keel database.
pub struct Db {
    engine: Engine,
}

enum Engine {
    Sqlite(sqlite::Conn),
    // Boxed: the client is several times the size of a SQLite connection.
    Postgres(Box<postgres::Conn>),
}

/// A prepared statement, from the engine's cache (it goes back there when dropped).
pub struct Stmt<'db>(StmtEngine<'db>);

enum StmtEngine<'db> {
    Sqlite(sqlite::Stmt<'db>),
    Postgres(postgres::Stmt<'db>),
}

/// The rows a query is producing, read one at a time.
pub struct Rows<'s>(RowsEngine<'s>);

enum RowsEngine<'s> {
    Sqlite(sqlite::Rows<'s>),
    Postgres(postgres::Rows),
}

/// One row of a result.
pub struct Row<'r>(RowEngine<'r>);

enum RowEngine<'r> {
    Sqlite(&'r sqlite::Row<'r>),
    Postgres(&'r [Value]),
}

/// The rows of a query, each turned into a value as it is read.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

/// The scope of one write transaction (see [`Db::write`]): a [`Db`] whose statements all commit
/// or roll back together.
pub struct Tx<'db> {
    db: &'db Db,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db
    }
}

impl Db {
    /// A prepared statement for `sql`, from the statement cache.
    pub fn prepare_cached(&self, sql: &str) -> DbResult<Stmt<'_>> {
        Ok(Stmt(match &self.engine {
            Engine::Sqlite(c) => StmtEngine::Sqlite(c.cached(sql)?),
            Engine::Postgres(c) => StmtEngine::Postgres(c.cached(sql)?),
        }))
    }

    /// The same as [`Db::prepare_cached`]: every statement is cached.
    pub fn prepare(&self, sql: &str) -> DbResult<Stmt<'_>> {
        self.prepare_cached(sql)
    }

    /// Run a statement that returns no rows; how many rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> DbResult<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row of a query, mapped by `f`; [`Error::NoRows`] if there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> DbResult<T>>(&self, sql: &str, params: P, f: F) -> DbResult<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// The first row of a query, mapped by `f`, or `None`.
    pub fn query_opt<T, P: Params, F: FnOnce(&Row<'_>) -> DbResult<T>>(&self, sql: &str, params: P, f: F) -> DbResult<Option<T>> {
        self.query_row(sql, params, f).optional()
    }

    /// Every row of a query, mapped by `f`.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> DbResult<T>>(&self, sql: &str, params: P, f: F) -> DbResult<Vec<T>> {
        self.prepare_cached(sql)?.query_map(params, f)?.collect()
    }

    /// Every row of a query handed to `f` as it is read, for scans too big to collect.
    pub fn query_each<P: Params, F: FnMut(&Row<'_>) -> DbResult<()>>(&self, sql: &str, params: P, mut f: F) -> DbResult<()> {
        let mut stmt = self.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            f(&r)?;
        }
        Ok(())
    }

    /// Whether this connection is known to be broken: a server's connection that the last
    /// statement found closed (a file's never is). Nothing is asked of the server to find out.
    pub fn connection_lost(&self) -> bool {
        match &self.engine {
            Engine::Sqlite(_) => false,
            Engine::Postgres(c) => c.is_closed(),
        }
    }

    /// Run several statements separated by `;`, with no parameters (schema, migrations).
    pub fn batch(&self, sql: &str) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite(c) => c.run_batch(sql),
            Engine::Postgres(c) => c.run_batch(sql),
        }
    }

    /// Run `f` in one write transaction, taken before its first statement so writers queue
    /// instead of failing half-way: committed when `f` returns `Ok`, rolled back when it returns
    /// `Err` (or panics). Transactions do not nest. On PostgreSQL the transaction is
    /// `SERIALIZABLE`: a write that conflicts with another fails as [`Error::Busy`], to be retried.
    pub fn write<T, E: From<Error>>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, E>) -> Result<T, E> {
        self.transact(true, f)
    }

    /// Run `f`'s reads on one snapshot of the database, so a long read in pages (an export,
    /// `keel check`) sees one state even while others commit: a deferred read transaction on
    /// SQLite, `REPEATABLE READ READ ONLY` on PostgreSQL. Writers are not held up by it. Its
    /// output must not wait on a slow reader (a pager) meanwhile: spill it to a file first.
    pub fn read_snapshot<T, E: From<Error>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        // Inside a transaction already (a write's own reads), its snapshot serves.
        let begun = match &self.engine {
            Engine::Sqlite(c) => c.is_autocommit() && c.run_batch("BEGIN DEFERRED").map(|()| true)?,
            Engine::Postgres(c) => c.begin_read()?,
        };
        let out = f();
        if !begun {
            return out;
        }
        // Nothing was written: ending it either way keeps nothing.
        let end = match &self.engine {
            Engine::Sqlite(c) => c.run_batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" }),
            Engine::Postgres(c) => c.end_read(out.is_ok()),
        };
        let out = out?;
        end?;
        Ok(out)
    }

    /// Run `f` as [`Db::write`] would, then roll everything back even when it succeeds: a dry
    /// run of the write path, which answers what an edit would do and keeps nothing.
    pub fn trial<T, E: From<Error>>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, E>) -> Result<T, E> {
        self.transact(false, f)
    }

    /// [`Db::write`] (or with `keep` false, [`Db::trial`]) for a body that can run again: on
    /// PostgreSQL a write that failed only because another write overlapped it (a serialization
    /// failure: the queue's row was bumped while this one waited for it) runs again on a fresh
    /// snapshot, up to [`WRITE_ATTEMPTS`] times in all; after that its error (busy) stands.
    /// SQLite's writers queue on the file's lock instead: one attempt.
    pub fn write_retrying<T, E: From<Error>>(&self, keep: bool, f: impl Fn(&Tx<'_>) -> Result<T, E>) -> Result<T, E> {
        let mut attempts = 1;
        loop {
            let out = self.transact(keep, &f);
            if out.is_ok() || !self.take_retryable() || attempts >= WRITE_ATTEMPTS {
                return out;
            }
            // A short, varying pause, so writers that failed together do not collide again.
            std::thread::sleep(std::time::Duration::from_millis(u64::from(attempts % 7)));
            attempts += 1;
        }
    }

    fn take_retryable(&self) -> bool {
        match &self.engine {
            Engine::Sqlite(_) => false,
            Engine::Postgres(c) => c.take_retryable(),
        }
    }

    fn transact<T, E: From<Error>>(&self, keep: bool, f: impl FnOnce(&Tx<'_>) -> Result<T, E>) -> Result<T, E> {
        self.begin_write()?;
        let guard = Rollback(self);
        let out = f(&Tx { db: self });
        std::mem::forget(guard);
        match out {
            Ok(v) if !keep => {
                self.rollback()?;
                Ok(v)
            }
            Ok(v) => match self.commit() {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.rollback();
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    fn begin_write(&self) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite(c) => c.begin_write(),
            Engine::Postgres(c) => c.begin_write(),
        }
    }

    fn commit(&self) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite(c) => c.commit(),
            Engine::Postgres(c) => c.commit(),
        }
    }

    fn rollback(&self) -> DbResult<()> {
        match &self.engine {
            Engine::Sqlite(c) => c.rollback(),
            Engine::Postgres(c) => c.rollback(),
        }
    }
}

/// Rolls back a write transaction whose body panicked.
struct Rollback<'db>(&'db Db);

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        let _ = self.0.rollback();
    }
}

impl Stmt<'_> {
    /// Run the statement; how many rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> DbResult<usize> {
        match &mut self.0 {
            StmtEngine::Sqlite(s) => s.run(params),
            StmtEngine::Postgres(s) => s.run(params),
        }
    }

    /// Start the query; read its rows with [`Rows::next`].
    pub fn query<P: Params>(&mut self, params: P) -> DbResult<Rows<'_>> {
        Ok(Rows(match &mut self.0 {
            StmtEngine::Sqlite(s) => RowsEngine::Sqlite(s.start(params)?),
            StmtEngine::Postgres(s) => RowsEngine::Postgres(s.start(params)?),
        }))
    }

    /// The first row, mapped by `f`; [`Error::NoRows`] if there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> DbResult<T>>(&mut self, params: P, f: F) -> DbResult<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// The rows, each mapped by `f` as it is read.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> DbResult<T>>(&mut self, params: P, f: F) -> DbResult<MappedRows<'_, F>> {
        Ok(MappedRows { rows: self.query(params)?, f })
    }
}

impl Rows<'_> {
    /// The next row, or `None` at the end.
    pub fn next(&mut self) -> DbResult<Option<Row<'_>>> {
        Ok(match &mut self.0 {
            RowsEngine::Sqlite(r) => r.next()?.map(|r| Row(RowEngine::Sqlite(r))),
            RowsEngine::Postgres(r) => r.next().map(|r| Row(RowEngine::Postgres(r))),
        })
    }
}

impl<T, F: FnMut(&Row<'_>) -> DbResult<T>> Iterator for MappedRows<'_, F> {
    type Item = DbResult<T>;
    fn next(&mut self) -> Option<DbResult<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl Row<'_> {
    /// Column `idx` (from 0) as a `T`. The index's type parameter keeps `get::<_, T>(i)` reading
    /// as it always has.
    pub fn get<I: ColumnIndex, T: FromColumn>(&self, idx: I) -> DbResult<T> {
        let index = idx.index();
        T::from_column(self.get_ref(index)?).map_err(|why| Error::Column { index, why })
    }

    /// Column `idx` as the engine holds it, borrowed (for scans that skip conversions).
    pub fn get_ref<I: ColumnIndex>(&self, idx: I) -> DbResult<ValueRef<'_>> {
        match &self.0 {
            RowEngine::Sqlite(r) => sqlite::value_ref(r, idx.index()),
            RowEngine::Postgres(r) => postgres::value_ref(r, idx.index()),
        }
    }
}

/// A column position (from 0).
pub trait ColumnIndex {
    fn index(&self) -> usize;
}

impl ColumnIndex for usize {
    fn index(&self) -> usize {
        *self
    }
}

#[cfg(test)]
pub(crate) mod tests;
