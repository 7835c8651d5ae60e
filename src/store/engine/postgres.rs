//! The PostgreSQL engine (the `postgres` crate, synchronous): a server reached through a
//! [`ServerUrl`], `SERIALIZABLE` writes. The store's SQL keeps `?1` / `:name` placeholders; they
//! are rewritten to `$n` once per statement text, and the prepared statement is cached with it.
//! Rows are read whole into keel's own [`Value`]s, so a row's reader may call the database again.

use super::{Db, Engine, Error, Param, ParamList, Params, Value, ValueRef};
use crate::location::ServerUrl;
use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, Statement};
use rust_decimal::Decimal;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

/// One connection: the client, its prepared statements by the store's SQL text, and whether a
/// write transaction is open (and has seen a statement fail, which dooms it on PostgreSQL).
pub(super) struct Conn {
    client: RefCell<Client>,
    cache: RefCell<HashMap<String, Arc<Prepared>>>,
    in_write: Cell<bool>,
    /// Inside a read snapshot ([`Db::read_snapshot`]).
    in_read: Cell<bool>,
    failed_in_write: Cell<bool>,
    /// The last failure was a serialization failure (or deadlock): the write can be run again.
    retryable: Cell<bool>,
    changes: Cell<u64>,
    /// Whether `keel_meta` is known to exist (writers queue on its row only then), and whether
    /// it was when the open write began (a rollback forgets only a table the write created).
    has_meta: Cell<bool>,
    meta_at_begin: Cell<bool>,
    /// Likewise for `keel_writes` (a database made before it existed gets it on opening).
    has_queue: Cell<bool>,
    queue_at_begin: Cell<bool>,
}

/// keel's own facts about a database on the server, which SQLite keeps in its file header
/// (`application_id`, `user_version`): one row per name. keel's users' role may only read it
/// (see `keel admin grants`), so nobody but the schema's owner can change the schema version.
const META_TABLE: &str = "CREATE TABLE IF NOT EXISTS keel_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)";

/// The one row writers queue on (`SELECT … FOR UPDATE` first in every write, as SQLite's
/// `BEGIN IMMEDIATE` queues them), bumped by every committed write so that a reader polling it
/// sees others' commits (SQLite's `data_version`). A table of its own because every writer needs
/// UPDATE on it, which keel_meta must not give. Made from keel_meta's former row when there was one.
const QUEUE_TABLE: &str = "CREATE TABLE IF NOT EXISTS keel_writes (id SMALLINT PRIMARY KEY CHECK (id = 1), data_version BIGINT NOT NULL);
    INSERT INTO keel_writes (id, data_version)
    SELECT 1, COALESCE((SELECT value FROM keel_meta WHERE name = 'data_version'), 0) ON CONFLICT (id) DO NOTHING;
    DELETE FROM keel_meta WHERE name = 'data_version'";

/// A statement prepared on the server, with the names of its `:name` parameters by position.
pub(super) struct Prepared {
    statement: Statement,
    names: Vec<String>,
}

pub(super) struct Stmt<'db> {
    conn: &'db Conn,
    prepared: Arc<Prepared>,
}

/// A query's rows, read whole; `current` is the row last handed out.
pub(super) struct Rows {
    rows: std::vec::IntoIter<Vec<Value>>,
    current: Option<Vec<Value>>,
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        if is_lost(&e) {
            return lost(&e);
        }
        let Some(db) = e.as_db_error() else { return lost(&e) };
        let code = db.code();
        let message = db.message();
        // Overlapping writes (retried by the write path), or lock_timeout run out waiting for
        // another writer.
        if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::LOCK_NOT_AVAILABLE
        {
            Error::Busy(format!("PostgreSQL: {message}"))
        } else if *code == SqlState::UNIQUE_VIOLATION {
            Error::Other(format!("UNIQUE constraint failed: {message}"))
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            Error::Other(format!("FOREIGN KEY constraint failed: {message}"))
        } else if *code == SqlState::NOT_NULL_VIOLATION {
            Error::Other(format!("NOT NULL constraint failed: {message}"))
        } else if *code == SqlState::CHECK_VIOLATION {
            Error::Other(format!("CHECK constraint failed: {message}"))
        } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
            Error::ReadOnly(format!("PostgreSQL: {message}"))
        } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
            Error::Corrupt(format!("PostgreSQL reports {message}"))
        } else {
            Error::Other(format!("PostgreSQL: {message} ({})", code.code()))
        }
    }
}

/// Whether the connection is gone, whatever the statement was: closed, no answer from the
/// server at all (the socket broke or the server went away), or class 08 (connection exception)
/// and 57P (the server shutting down or ending this session).
fn is_lost(e: &postgres::Error) -> bool {
    match e.as_db_error() {
        _ if e.is_closed() => true,
        None => true,
        Some(db) => db.code().code().starts_with("08") || db.code().code().starts_with("57P"),
    }
}

fn lost(e: &postgres::Error) -> Error {
    Error::Lost(format!(
        "the connection to the PostgreSQL server was lost ({}): the server restarted or went away. \
         Nothing was saved (the server keeps only what it committed); try again when it is back",
        why_lost(e)
    ))
}

/// The server's own words where it gave any ("terminating connection due to administrator
/// command"), else the driver's.
fn why_lost(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// The connection broke while COMMIT was on its way: the server may have committed before it
/// went, so the write may be there or not, and only a look can tell.
fn lost_in_commit(e: &postgres::Error) -> Error {
    Error::Lost(format!(
        "the connection to the PostgreSQL server was lost while the edit was being committed ({}): \
         it may or may not have been saved. Look (`keel show`, `keel log`) before trying again",
        why_lost(e)
    ))
}

/// A keel parameter, converted to whatever type the server chose for its placeholder.
#[derive(Debug)]
struct Bind<'a>(Param<'a>);

type BindResult = Result<IsNull, Box<dyn std::error::Error + Sync + Send>>;

fn refuse(what: &str, ty: &Type) -> BindResult {
    Err(format!("a {what} cannot be passed where PostgreSQL expects {ty}").into())
}

fn bind_text(t: &str, ty: &Type, out: &mut BytesMut) -> BindResult {
    if <&str as ToSql>::accepts(ty) {
        t.to_sql(ty, out)
    } else if *ty == Type::NUMERIC {
        numeric_to_sql(Decimal::from_str(t.trim())?, ty, out)
    } else {
        refuse("text", ty)
    }
}

/// A NUMERIC as the server's binary form. The driver sends every zero with no scale, so `0.00`
/// would be stored as `0` (and read back, exported and copied as `0`, where SQLite keeps `0.00`):
/// a zero is written here with its scale (no digits, weight 0, positive sign, the scale).
fn numeric_to_sql(d: Decimal, ty: &Type, out: &mut BytesMut) -> BindResult {
    if !d.is_zero() {
        return d.to_sql(ty, out);
    }
    let scale = u16::try_from(d.scale())?;
    for half in [0_u16, 0, 0, scale] {
        out.extend_from_slice(&half.to_be_bytes());
    }
    Ok(IsNull::No)
}

impl ToSql for Bind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> BindResult {
        match &self.0 {
            Param::Null => Ok(IsNull::Yes),
            Param::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ if <&str as ToSql>::accepts(ty) => i.to_string().as_str().to_sql(ty, out),
                _ => refuse("whole number", ty),
            },
            Param::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ if <&str as ToSql>::accepts(ty) => f.to_string().as_str().to_sql(ty, out),
                _ => refuse("floating-point number", ty),
            },
            Param::Text(t) => bind_text(t, ty, out),
            // Money and metric values stay exact: NUMERIC, or their canonical text (never a float).
            Param::Decimal(n) => match *ty {
                Type::NUMERIC => numeric_to_sql(n.inner(), ty, out),
                _ if <&str as ToSql>::accepts(ty) => n.to_string().as_str().to_sql(ty, out),
                _ => refuse("decimal", ty),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The store's SQL with `?n` (and a bare `?`) as `$n` and each distinct `:name` as the next `$n`,
/// leaving string literals, quoted identifiers, comments and `::` casts as they are. Returns the
/// text and the parameter names by position (empty where a position has no name).
pub(super) fn rewrite_placeholders(sql: &str) -> (String, Vec<String>) {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut highest = 0usize;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |end| i + 2 + end + 2);
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b'?' => {
                out.push_str(&sql[copied..i]);
                let start = i + 1;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                let n = if end > start { sql[start..end].parse().unwrap_or(usize::MAX) } else { highest + 1 };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
                i = end;
                copied = i;
            }
            b':' if b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') => {
                out.push_str(&sql[copied..i]);
                let mut end = i + 1;
                while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
                    end += 1;
                }
                let name = &sql[i..end];
                let n = match names.iter().position(|m| m == name) {
                    Some(p) => p + 1,
                    None => {
                        highest += 1;
                        names.resize(highest - 1, String::new());
                        names.push(name.to_string());
                        highest
                    }
                };
                out.push('$');
                out.push_str(&n.to_string());
                i = end;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(b.len())..]);
    (out, names)
}

impl Conn {
    pub(super) fn connect(server: &ServerUrl) -> Result<Conn, Error> {
        let mut client = super::tls::connect(server)?;
        // keel's statements are many short look-ups by key: compiling one with JIT (on by default
        // since PostgreSQL 12, for any plan the planner costs high) took 425 of 650 ms for the
        // check's page of 15,000 escalations at 100,000 measures, and bought nothing. A server
        // without the setting (a Postgres-compatible engine) is left as it is.
        let _ = client.batch_execute("SET jit = off");
        Ok(Conn {
            client: RefCell::new(client),
            cache: RefCell::new(HashMap::new()),
            in_write: Cell::new(false),
            in_read: Cell::new(false),
            failed_in_write: Cell::new(false),
            retryable: Cell::new(false),
            changes: Cell::new(0),
            has_meta: Cell::new(false),
            meta_at_begin: Cell::new(false),
            has_queue: Cell::new(false),
            queue_at_begin: Cell::new(false),
        })
    }

    /// Note a failed statement: inside a write it dooms the transaction.
    fn noted<T>(&self, r: Result<T, postgres::Error>) -> Result<T, Error> {
        r.map_err(|e| {
            if self.in_write.get() {
                self.failed_in_write.set(true);
            }
            self.note_retryable(&e);
            e.into()
        })
    }

    fn note_retryable(&self, e: &postgres::Error) {
        let code = e.code();
        if code == Some(&SqlState::T_R_SERIALIZATION_FAILURE) || code == Some(&SqlState::T_R_DEADLOCK_DETECTED) {
            self.retryable.set(true);
        }
    }

    /// Whether the write that just failed failed only because another write overlapped it, so
    /// running it again (on a fresh snapshot) may succeed. Reading it clears it.
    pub(super) fn take_retryable(&self) -> bool {
        self.retryable.replace(false)
    }

    pub(super) fn cached(&self, sql: &str) -> Result<Stmt<'_>, Error> {
        if let Some(p) = self.cache.borrow().get(sql) {
            return Ok(Stmt { conn: self, prepared: Arc::clone(p) });
        }
        let (text, names) = rewrite_placeholders(sql);
        // A statement the server cannot prepare is keel's bug: say which one.
        let statement = self.noted(self.client.borrow_mut().prepare(&text)).map_err(|e| match e {
            Error::Other(m) => Error::Other(format!("{m}, preparing: {}", text.split_whitespace().collect::<Vec<_>>().join(" "))),
            e => e,
        })?;
        let prepared = Arc::new(Prepared { statement, names });
        self.cache.borrow_mut().insert(sql.to_string(), Arc::clone(&prepared));
        Ok(Stmt { conn: self, prepared })
    }

    pub(super) fn run_batch(&self, sql: &str) -> Result<(), Error> {
        self.noted(self.client.borrow_mut().batch_execute(sql))
    }

    pub(super) fn begin_write(&self) -> Result<(), Error> {
        self.run_batch("BEGIN ISOLATION LEVEL SERIALIZABLE")?;
        self.in_write.set(true);
        self.failed_in_write.set(false);
        self.retryable.set(false);
        self.meta_at_begin.set(self.has_meta.get());
        self.queue_at_begin.set(self.has_queue.get());
        if self.has_queue.get() {
            // Queue behind the write in progress. The snapshot is taken before the wait, so when
            // that write commits (and bumps the row) this one fails as a serialization failure at
            // once and is run again on a fresh snapshot, instead of failing late.
            let queued =
                self.cached("SELECT data_version FROM keel_writes WHERE id = 1 FOR UPDATE").and_then(|mut s| s.start(crate::params![]));
            if let Err(e) = queued {
                let retryable = self.retryable.get();
                self.rollback()?;
                self.retryable.set(retryable);
                return Err(e);
            }
        }
        Ok(())
    }

    /// PostgreSQL answers COMMIT of a transaction in which a statement failed by rolling it back
    /// without an error; that must not look like a saved write.
    pub(super) fn commit(&self) -> Result<(), Error> {
        if self.failed_in_write.get() {
            self.rollback()?;
            return Err(Error::Other("a statement failed inside the write, so PostgreSQL rolled all of it back: nothing was saved".into()));
        }
        // Every committed write bumps it (a trial never commits): rows an INSERT … RETURNING
        // made are not counted as changes, so "changed nothing" cannot be told reliably.
        if self.has_queue.get() {
            let bumped = self.cached("UPDATE keel_writes SET data_version = data_version + 1 WHERE id = 1")?.run(crate::params![]);
            // Delivered when the write commits (never for one rolled back): listeners (the
            // app) hear of it at once instead of polling.
            let notified = bumped.and_then(|_| self.run_batch(&format!("NOTIFY {}", super::CHANGES_CHANNEL)));
            if let Err(e) = notified {
                self.rollback()?;
                return Err(e);
            }
        }
        let r = self.client.borrow_mut().batch_execute("COMMIT");
        self.in_write.set(false);
        match r {
            Ok(()) => Ok(()),
            Err(e) => {
                self.note_retryable(&e);
                Err(if is_lost(&e) { lost_in_commit(&e) } else { e.into() })
            }
        }
    }

    /// Whether `keel_meta` is there, without an error when it is not (an error would doom an
    /// open write).
    fn meta_exists(&self) -> Result<bool, Error> {
        if self.has_meta.get() {
            return Ok(true);
        }
        let mut rows =
            self.cached("SELECT to_regclass('keel_meta') IS NOT NULL, to_regclass('keel_writes') IS NOT NULL")?.start(crate::params![])?;
        let (meta, queue) = match rows.next() {
            Some([meta, queue]) => (matches!(meta, Value::Integer(1)), matches!(queue, Value::Integer(1))),
            _ => (false, false),
        };
        self.has_meta.set(meta);
        self.has_queue.set(queue);
        Ok(meta)
    }

    /// Whether keel_meta is there without the queue writers need (a database made before
    /// keel_writes existed): the owner's next write of a fact makes it.
    pub(super) fn lacks_queue(&self) -> Result<bool, Error> {
        Ok(self.meta_exists()? && !self.has_queue.get())
    }

    /// The counter every committed write bumps (0 before keel's schema is there).
    pub(super) fn data_version(&self) -> Result<i64, Error> {
        if !self.meta_exists()? || !self.has_queue.get() {
            return self.meta("data_version");
        }
        let mut rows = self.cached("SELECT data_version FROM keel_writes WHERE id = 1")?.start(crate::params![])?;
        Ok(match rows.next() {
            Some([Value::Integer(v)]) => *v,
            _ => 0,
        })
    }

    /// One of keel's facts about this database (0 when it was never recorded).
    pub(super) fn meta(&self, name: &str) -> Result<i64, Error> {
        if !self.meta_exists()? {
            return Ok(0);
        }
        let mut rows = self.cached("SELECT value FROM keel_meta WHERE name = ?1")?.start([name])?;
        Ok(match rows.next() {
            Some([Value::Integer(v)]) => *v,
            _ => 0,
        })
    }

    /// Record one of keel's facts (inside the migration's transaction).
    pub(super) fn set_meta(&self, name: &str, value: i64) -> Result<(), Error> {
        if !self.meta_exists()? {
            self.run_batch(META_TABLE)?;
            self.has_meta.set(true);
        }
        if !self.has_queue.get() {
            self.run_batch(QUEUE_TABLE)?;
            self.has_queue.set(true);
        }
        self.cached("INSERT INTO keel_meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")?
            .run(crate::params![name, value])?;
        Ok(())
    }

    /// Whether the database (its current schema) holds any table, view or sequence.
    pub(super) fn holds_tables(&self) -> Result<bool, Error> {
        let mut rows = self
            .cached(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S'))",
            )?
            .start(crate::params![])?;
        Ok(matches!(rows.next(), Some([Value::Integer(1)])))
    }

    pub(super) fn rollback(&self) -> Result<(), Error> {
        if !self.in_write.get() {
            return Ok(());
        }
        self.in_write.set(false);
        self.failed_in_write.set(false);
        // A rolled-back write may have created keel_meta (a migration): that one is gone again.
        self.has_meta.set(self.meta_at_begin.get());
        self.has_queue.set(self.queue_at_begin.get());
        Ok(self.client.borrow_mut().batch_execute("ROLLBACK")?)
    }

    pub(super) fn own_changes(&self) -> u64 {
        self.changes.get()
    }

    /// Begin a read snapshot; false (and nothing begun) inside a transaction already.
    pub(super) fn begin_read(&self) -> Result<bool, Error> {
        if self.in_write.get() || self.in_read.get() {
            return Ok(false);
        }
        self.run_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        self.in_read.set(true);
        Ok(true)
    }

    pub(super) fn end_read(&self, ok: bool) -> Result<(), Error> {
        self.in_read.set(false);
        self.run_batch(if ok { "COMMIT" } else { "ROLLBACK" })
    }

    /// Whether the connection is known to be gone (the last use of it found it closed).
    pub(super) fn is_closed(&self) -> bool {
        self.client.try_borrow().is_ok_and(|c| c.is_closed())
    }

    pub(super) fn close(self) -> Result<(), Error> {
        Ok(self.client.into_inner().close()?)
    }
}

impl Stmt<'_> {
    fn binds<'p>(&self, list: ParamList<'p>) -> Result<Vec<Bind<'p>>, Error> {
        let expected = self.prepared.statement.params().len();
        match list {
            ParamList::Positional(values) => {
                if values.len() != expected {
                    return Err(Error::Other(format!("{} parameters given where the statement takes {expected}", values.len())));
                }
                Ok(values.iter().map(|v| Bind(v.to_param())).collect())
            }
            ParamList::Named(values) => {
                if let Some((name, _)) = values.iter().find(|(name, _)| !self.prepared.names.iter().any(|n| n == name)) {
                    return Err(Error::Other(format!("the statement has no parameter {name}")));
                }
                // A name not given is NULL, as SQLite leaves it.
                Ok((0..expected)
                    .map(|i| {
                        let name = self.prepared.names.get(i);
                        let given = values.iter().find(|(n, _)| Some(&n.to_string()) == name);
                        Bind(given.map_or(Param::Null, |(_, v)| v.to_param()))
                    })
                    .collect())
            }
        }
    }

    pub(super) fn run(&mut self, params: impl Params) -> Result<usize, Error> {
        let changed = params.with_list(|list| {
            let binds = self.binds(list)?;
            let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
            self.conn.noted(self.conn.client.borrow_mut().execute(&self.prepared.statement, &refs))
        })?;
        self.conn.changes.set(self.conn.changes.get() + changed);
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    pub(super) fn start(&mut self, params: impl Params) -> Result<Rows, Error> {
        let rows = params.with_list(|list| {
            let binds = self.binds(list)?;
            let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
            self.conn.noted(self.conn.client.borrow_mut().query(&self.prepared.statement, &refs))
        })?;
        let owned = rows.iter().map(owned_row).collect::<Result<Vec<_>, Error>>()?;
        Ok(Rows { rows: owned.into_iter(), current: None })
    }
}

impl Rows {
    pub(super) fn next(&mut self) -> Option<&[Value]> {
        self.current = self.rows.next();
        self.current.as_deref()
    }
}

/// A NUMERIC with the scale the server keeps for it (`0.00` stays `0.00`: the driver's decimal
/// drops the scale of a zero), so a value reads back as the text it was stored from.
struct Exact(Decimal);

impl<'a> postgres::types::FromSql<'a> for Exact {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Exact, Box<dyn std::error::Error + Sync + Send>> {
        let mut d = Decimal::from_sql(ty, raw)?;
        // The binary form: digit count, weight, sign, then the display scale.
        if let Some(scale) = raw.get(6..8).map(|b| u32::from(u16::from_be_bytes([b[0], b[1]]))) {
            if scale > d.scale() {
                d.rescale(scale);
            }
        }
        Ok(Exact(d))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// A row in keel's terms: whole numbers and booleans as integers, NUMERIC as its exact decimal
/// text (what [`crate::domain::Num`] reads), text as text, floats as reals, bytea as a blob.
fn owned_row(row: &postgres::Row) -> Result<Vec<Value>, Error> {
    let column = |index: usize, e: postgres::Error| Error::Column { index, why: e.to_string() };
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_();
            let v = match *ty {
                Type::INT2 => row.try_get::<_, Option<i16>>(i).map(|v| v.map(|n| Value::Integer(n.into()))),
                Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(|n| Value::Integer(n.into()))),
                Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Integer)),
                Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(|b| Value::Integer(b.into()))),
                Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map(|v| v.map(|f| Value::Real(f.into()))),
                Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map(|v| v.map(Value::Real)),
                Type::NUMERIC => row.try_get::<_, Option<Exact>>(i).map(|v| v.map(|d| Value::Text(d.0.to_string()))),
                Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map(Value::Blob)),
                _ if <String as postgres::types::FromSql>::accepts(ty) => row.try_get::<_, Option<String>>(i).map(|v| v.map(Value::Text)),
                _ => return Err(Error::Column { index: i, why: format!("PostgreSQL type {ty} is not one keel reads") }),
            };
            Ok(v.map_err(|e| column(i, e))?.unwrap_or(Value::Null))
        })
        .collect()
}

pub(super) fn value_ref(row: &[Value], index: usize) -> Result<ValueRef<'_>, Error> {
    let v = row.get(index).ok_or_else(|| Error::Column { index, why: format!("the row has {} columns", row.len()) })?;
    Ok(match v {
        Value::Null => ValueRef::Null,
        Value::Integer(i) => ValueRef::Integer(*i),
        Value::Real(f) => ValueRef::Real(*f),
        Value::Text(t) => ValueRef::Text(t.as_bytes()),
        Value::Blob(b) => ValueRef::Blob(b),
    })
}

impl Db {
    /// Connect to a PostgreSQL server (without TLS for now).
    pub fn connect(server: &ServerUrl) -> Result<Db, Error> {
        Ok(Db { engine: Engine::Postgres(Box::new(Conn::connect(server)?)) })
    }

    /// Whether this connection is to a PostgreSQL server.
    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The role the server authenticated this connection as (`session_user`: with peer
    /// authentication on a local socket, the OS login), or `None` on a file, whose reader is
    /// whoever the kernel says runs keel. `SET ROLE` cannot change it.
    pub fn session_login(&self) -> Result<Option<String>, Error> {
        if !self.is_postgres() {
            return Ok(None);
        }
        self.query_row("SELECT CAST(session_user AS TEXT)", [], |r| r.get(0)).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite_placeholders;

    #[test]
    fn placeholders_become_dollar_numbers_outside_literals_identifiers_and_casts() {
        let (sql, names) = rewrite_placeholders("SELECT ?1, '?2', \"a?3\", ?2::numeric, ? -- ?9\n FROM t /* ?8 */ WHERE x = ?10");
        assert_eq!(sql, "SELECT $1, '?2', \"a?3\", $2::numeric, $3 -- ?9\n FROM t /* ?8 */ WHERE x = $10");
        assert!(names.is_empty());
        let (sql, names) = rewrite_placeholders("SELECT :a, ':b', :b, :a, x::text");
        assert_eq!(sql, "SELECT $1, ':b', $2, $1, x::text");
        assert_eq!(names, [":a", ":b"]);
        // An unterminated literal is left to the server to refuse.
        assert_eq!(rewrite_placeholders("SELECT 'it?1").0, "SELECT 'it?1");
    }
}
