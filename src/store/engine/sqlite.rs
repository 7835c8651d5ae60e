//! The SQLite engine (rusqlite, bundled): a file on disk, WAL, `BEGIN IMMEDIATE` writes. What
//! only SQLite has — opening a file with flags, pragmas, the online backup API, `INDEXED BY`
//! hints, `json_each` batching, statement tracing — is here, behind named methods of [`Db`].

use super::{Db, Engine, Error, Param, ParamList, Params, ValueRef};
use rusqlite::types::{ToSql, ToSqlOutput, Value as SqlValue, ValueRef as SqlRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;

pub(super) type Conn = Connection;
pub(super) type Stmt<'db> = rusqlite::CachedStatement<'db>;
pub(super) type Rows<'s> = rusqlite::Rows<'s>;
pub(super) type Row<'r> = rusqlite::Row<'r>;

/// Prepared statements kept per connection: enough that every hot path (an edit runs some fifty
/// distinct statements, a status read a dozen more) finds its own still prepared.
const STATEMENT_CACHE: usize = 256;

/// The oldest SQLite keel trusts: earlier versions can corrupt a WAL file when several
/// connections write at once.
pub const MIN_SQLITE: i32 = 3_051_003;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
            return Error::NoRows;
        }
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy(e.to_string()),
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Error::Corrupt(format!("SQLite reports {e}")),
            Some(ErrorCode::ReadOnly) => Error::ReadOnly(e.to_string()),
            _ => Error::Other(e.to_string()),
        }
    }
}

struct Bind<'a>(Param<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            Param::Null => ToSqlOutput::Borrowed(SqlRef::Null),
            Param::Integer(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
            Param::Real(f) => ToSqlOutput::Owned(SqlValue::Real(*f)),
            Param::Text(t) => ToSqlOutput::Borrowed(SqlRef::Text(t.as_bytes())),
            // Money and metric values are TEXT in their canonical form (never REAL).
            Param::Decimal(n) => ToSqlOutput::Owned(SqlValue::Text(n.to_string())),
        })
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, params: impl Params) -> rusqlite::Result<()> {
    params.with_list(|list| match list {
        ParamList::Positional(values) => {
            let expected = stmt.parameter_count();
            if values.len() != expected {
                return Err(rusqlite::Error::InvalidParameterCount(values.len(), expected));
            }
            for (i, v) in values.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, Bind(v.to_param()))?;
            }
            Ok(())
        }
        ParamList::Named(values) => {
            for (name, v) in values {
                let Some(i) = stmt.parameter_index(name)? else {
                    return Err(rusqlite::Error::InvalidParameterName(name.to_string()));
                };
                stmt.raw_bind_parameter(i, Bind(v.to_param()))?;
            }
            Ok(())
        }
    })
}

pub(super) trait StmtExt {
    fn run(&mut self, params: impl Params) -> Result<usize, Error>;
    fn start(&mut self, params: impl Params) -> Result<Rows<'_>, Error>;
}

impl StmtExt for Stmt<'_> {
    fn run(&mut self, params: impl Params) -> Result<usize, Error> {
        bind(self, params)?;
        Ok(self.raw_execute()?)
    }
    fn start(&mut self, params: impl Params) -> Result<Rows<'_>, Error> {
        bind(self, params)?;
        Ok(self.raw_query())
    }
}

pub(super) trait ConnExt {
    fn cached(&self, sql: &str) -> Result<Stmt<'_>, Error>;
    fn run_batch(&self, sql: &str) -> Result<(), Error>;
    fn begin_write(&self) -> Result<(), Error>;
    fn commit(&self) -> Result<(), Error>;
    fn rollback(&self) -> Result<(), Error>;
}

impl ConnExt for Conn {
    fn cached(&self, sql: &str) -> Result<Stmt<'_>, Error> {
        Ok(self.prepare_cached(sql)?)
    }
    fn run_batch(&self, sql: &str) -> Result<(), Error> {
        Ok(self.execute_batch(sql)?)
    }
    // IMMEDIATE: a deferred transaction that later upgrades to a write fails at once with
    // SQLITE_BUSY_SNAPSHOT, ignoring the busy timeout; taking the lock first makes writers queue.
    fn begin_write(&self) -> Result<(), Error> {
        Ok(self.execute_batch("BEGIN IMMEDIATE")?)
    }
    fn commit(&self) -> Result<(), Error> {
        Ok(self.execute_batch("COMMIT")?)
    }
    fn rollback(&self) -> Result<(), Error> {
        if self.is_autocommit() {
            return Ok(());
        }
        Ok(self.execute_batch("ROLLBACK")?)
    }
}

pub(super) fn value_ref<'a>(row: &'a Row<'a>, index: usize) -> Result<ValueRef<'a>, Error> {
    Ok(match row.get_ref(index)? {
        SqlRef::Null => ValueRef::Null,
        SqlRef::Integer(i) => ValueRef::Integer(i),
        SqlRef::Real(f) => ValueRef::Real(f),
        SqlRef::Text(t) => ValueRef::Text(t),
        SqlRef::Blob(b) => ValueRef::Blob(b),
    })
}

/// What asking a PostgreSQL connection for something only SQLite has says.
fn not_here(what: &str) -> Error {
    Error::Other(format!("{what} is SQLite's: not on this engine (PostgreSQL)"))
}

/// How a file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileMode {
    /// Read and write an existing file.
    ReadWrite,
    /// Read only (the file is not writable for this user, or a check must not change it).
    ReadOnly,
    /// Read and write, creating the file if it is missing.
    Create,
}

/// The SQLite keel links, if it is older than keel trusts.
pub fn sqlite_too_old() -> Option<String> {
    if rusqlite::version_number() < MIN_SQLITE {
        return Some(rusqlite::version().to_string());
    }
    configure_sqlite();
    None
}

/// Process-wide SQLite settings, once, before the first connection. Memory statistics off:
/// SQLite otherwise takes one global mutex around every allocation, and the app's readers, each
/// on its own connection, spent their time waiting on it (two subtrees computed at once took
/// nearly as long as one after the other). keel never asks SQLite for its memory figures.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config with SQLITE_CONFIG_MEMSTATUS takes one int. It must come before
        // SQLite initialises; if a connection was opened earlier it returns SQLITE_MISUSE and
        // changes nothing, which is harmless.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

impl Db {
    /// The SQLite connection, or a clear error naming what only SQLite has.
    fn sqlite(&self, what: &str) -> Result<&Conn, Error> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c),
            Engine::Postgres(_) => Err(not_here(what)),
        }
    }

    fn postgres(&self) -> Option<&super::postgres::Conn> {
        match &self.engine {
            Engine::Postgres(c) => Some(c),
            Engine::Sqlite(_) => None,
        }
    }

    /// Open (or with [`FileMode::Create`], create) a SQLite file.
    pub fn open_file(path: &Path, mode: FileMode) -> Result<Db, Error> {
        let conn = match mode {
            FileMode::ReadWrite => Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?,
            FileMode::ReadOnly => Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?,
            FileMode::Create => Connection::open(path)?,
        };
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        add_functions(&conn)?;
        Ok(Db { engine: Engine::Sqlite(conn) })
    }

    /// A private database in memory (for tests of the seam itself).
    #[cfg(test)]
    pub fn open_in_memory() -> Result<Db, Error> {
        let conn = Connection::open_in_memory()?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        add_functions(&conn)?;
        Ok(Db { engine: Engine::Sqlite(conn) })
    }

    /// Close, reporting an error the close found (a drop would swallow it).
    pub fn close(self) -> Result<(), Error> {
        match self.engine {
            Engine::Sqlite(c) => c.close().map_err(|(_, e)| e.into()),
            Engine::Postgres(c) => (*c).close(),
        }
    }

    /// How long a statement waits for another connection's write lock before [`Error::Busy`]
    /// (PostgreSQL: its `lock_timeout`).
    pub fn busy_timeout(&self, wait: Duration) -> Result<(), Error> {
        if self.postgres().is_some() {
            return self.batch(&format!("SET lock_timeout = {}", wait.as_millis()));
        }
        Ok(self.sqlite("a busy timeout")?.busy_timeout(wait)?)
    }

    /// keel's settings for every connection: the lock wait, foreign keys enforced, and every
    /// commit synced to disk before it returns.
    /// (PostgreSQL always enforces foreign keys and syncs commits: only the lock wait is set.)
    pub fn configure(&self, busy: Duration) -> Result<(), Error> {
        if self.postgres().is_some() {
            return self.busy_timeout(busy);
        }
        let c = self.sqlite("")?;
        c.busy_timeout(busy)?;
        c.pragma_update(None, "foreign_keys", true)?;
        c.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    }

    /// Write-ahead logging, so readers never block the writer (PostgreSQL's readers never do:
    /// nothing to set).
    pub fn use_wal(&self) -> Result<(), Error> {
        if self.postgres().is_some() {
            return Ok(());
        }
        Ok(self.sqlite("")?.pragma_update(None, "journal_mode", "WAL")?)
    }

    /// Leave folding the write-ahead log into the file to someone else ([`Db::checkpoint_passive`]
    /// on another connection): by default the commit that fills the log past 1,000 pages does it,
    /// and that commit then takes ten times as long as the others. (Nothing on a server.)
    pub fn defer_checkpoints(&self) -> Result<(), Error> {
        if self.postgres().is_some() {
            return Ok(());
        }
        Ok(self.sqlite("")?.pragma_update(None, "wal_autocheckpoint", 0)?)
    }

    /// Fold what the write-ahead log holds into the file without waiting for anyone (a reader
    /// still on an old snapshot keeps the frames it needs): frames in the log, frames copied.
    /// (Nothing on a server: `(0, 0)`.)
    pub fn checkpoint_passive(&self) -> Result<(i64, i64), Error> {
        if self.postgres().is_some() {
            return Ok((0, 0));
        }
        self.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
    }

    /// Bound the work of this connection: SQLite interrupts any statement still running once
    /// `limit` has passed from now; PostgreSQL ends each statement that runs longer than `limit`.
    /// (A value source's query must not hang `keel sync`.)
    pub fn time_limit(&self, limit: Duration) -> Result<(), Error> {
        if self.postgres().is_some() {
            return self.batch(&format!("SET statement_timeout = {}", limit.as_millis().clamp(1, i32::MAX as u128)));
        }
        let deadline = std::time::Instant::now() + limit;
        // Asked every thousand virtual-machine steps: cheap, and a runaway query stops promptly.
        self.sqlite("")?.progress_handler(1000, Some(move || std::time::Instant::now() >= deadline))?;
        Ok(())
    }

    /// Refuse every write on this connection (a reader's).
    pub fn query_only(&self) -> Result<(), Error> {
        if self.postgres().is_some() {
            return self.batch("SET default_transaction_read_only = on");
        }
        Ok(self.sqlite("")?.pragma_update(None, "query_only", true)?)
    }

    /// The file's application id (which program's database it is). On PostgreSQL it is kept in
    /// the `keel_meta` table (0 when there is none).
    pub fn application_id(&self) -> Result<i64, Error> {
        if let Some(pg) = self.postgres() {
            return pg.meta("application_id");
        }
        Ok(self.sqlite("the application id")?.pragma_query_value(None, "application_id", |r| r.get(0))?)
    }

    /// The schema version the database records.
    pub fn schema_version(&self) -> Result<i64, Error> {
        if let Some(pg) = self.postgres() {
            return pg.meta("schema_version");
        }
        Ok(self.sqlite("the schema version")?.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Record the schema version (inside the migration's transaction).
    pub fn set_schema_version(&self, version: i64) -> Result<(), Error> {
        if let Some(pg) = self.postgres() {
            return pg.set_meta("schema_version", version);
        }
        Ok(self.sqlite("the schema version")?.pragma_update(None, "user_version", version)?)
    }

    /// Mark the database as this program's.
    pub fn set_application_id(&self, id: i64) -> Result<(), Error> {
        if let Some(pg) = self.postgres() {
            return pg.set_meta("application_id", id);
        }
        Ok(self.sqlite("the application id")?.pragma_update(None, "application_id", id)?)
    }

    /// A number that changes whenever another connection commits to the database (on
    /// PostgreSQL: a counter every committed write bumps, this connection's too).
    pub fn data_version(&self) -> Result<i64, Error> {
        if let Some(pg) = self.postgres() {
            return pg.data_version();
        }
        Ok(self.sqlite("the data version")?.pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// The database's text ordering when it is not byte by byte (SQLite's, and that of a
    /// PostgreSQL database made with the C or C.UTF-8 locale): keys, names and periods must sort
    /// the same on every engine, or the same plan would list differently.
    pub fn collation_not_bytewise(&self) -> Result<Option<String>, Error> {
        if self.postgres().is_none() {
            return Ok(None);
        }
        // PostgreSQL 15 may take the ordering from ICU instead of the C library (the column is
        // read through JSON so that older servers, which have no such column, answer too).
        let (collate, provider, icu): (String, String, Option<String>) = self.query_row(
            "SELECT datcollate::text, COALESCE(to_jsonb(d) ->> 'datlocprovider', 'c'), to_jsonb(d) ->> 'daticulocale'
               FROM pg_database d WHERE datname = current_database()",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if provider != "c" {
            return Ok(Some(format!("{} (ICU)", icu.unwrap_or_default())));
        }
        let bytewise = ["c", "posix", "c.utf-8", "c.utf8"].contains(&collate.to_ascii_lowercase().as_str());
        Ok((!bytewise).then_some(collate))
    }

    /// Whether a server database lacks the row writers queue on (made before it had one): the
    /// owner's next schema write makes it, see [`Db::set_schema_version`]. Never on a file.
    pub fn lacks_write_queue(&self) -> Result<bool, Error> {
        match self.postgres() {
            Some(pg) => pg.lacks_queue(),
            None => Ok(false),
        }
    }

    /// Whether the database holds any table at all (a server database keel may claim must not).
    pub fn holds_tables(&self) -> Result<bool, Error> {
        if let Some(pg) = self.postgres() {
            return pg.holds_tables();
        }
        self.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master)", [], |r| r.get(0))
    }

    /// A number that grows with every row this connection changes (together with
    /// [`Db::data_version`], which counts other connections' commits: "has anything changed?").
    pub fn own_changes(&self) -> u64 {
        match &self.engine {
            Engine::Sqlite(c) => c.total_changes(),
            Engine::Postgres(c) => c.own_changes(),
        }
    }

    /// SQLite's quick structural check of every page: what it found, or nothing when whole.
    pub fn quick_check(&self) -> Result<Vec<String>, Error> {
        self.sqlite("a quick check")?;
        let found: Vec<String> = self.query_map("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok(found.into_iter().filter(|l| l != "ok").collect())
    }

    /// SQLite's full integrity check: "ok", or what is wrong.
    pub fn integrity_check(&self) -> Result<String, Error> {
        self.sqlite("an integrity check")?;
        self.query_row("PRAGMA integrity_check", [], |r| r.get(0))
    }

    /// Fold the write-ahead log into the file: (busy, frames in the log, frames copied).
    pub fn checkpoint(&self) -> Result<(i64, i64, i64), Error> {
        self.sqlite("a checkpoint")?;
        self.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    }

    /// Copy every page into `target` with SQLite's online backup API, in one step (one read
    /// transaction: a consistent snapshot while others keep writing). Retried while the source is
    /// locked, up to `attempts` times 5 ms, then [`Error::Busy`].
    pub fn backup_into(&self, target: &mut Db, attempts: u64) -> Result<(), Error> {
        let from = self.sqlite("a backup by copying pages")?;
        let Engine::Sqlite(to) = &mut target.engine else {
            return Err(not_here("a backup by copying pages"));
        };
        let backup = rusqlite::backup::Backup::new(from, to)?;
        for _ in 0..attempts {
            match backup.step(-1)? {
                rusqlite::backup::StepResult::Done => return Ok(()),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        Err(Error::Busy("the backup could not read the file while others wrote to it".into()))
    }

    /// ` INDEXED BY index`: a planner hint SQLite needs where its choice would sort instead of
    /// walking the index in order.
    /// PostgreSQL has no hints (its planner chooses): nothing.
    pub fn index_hint(&self, index: &str) -> String {
        match self.engine {
            Engine::Sqlite(_) => format!(" INDEXED BY {index}"),
            Engine::Postgres(_) => String::new(),
        }
    }

    /// `column IN (the ids in parameter ?n)`, the parameter holding the ids as a JSON array
    /// (`[1,2,3]`): one statement, prepared once, serves any batch.
    pub fn in_id_list(&self, column: &str, param: usize) -> String {
        match self.engine {
            Engine::Sqlite(_) => format!("{column} IN (SELECT value FROM json_each(?{param}))"),
            Engine::Postgres(_) => format!("{column} IN (SELECT json_array_elements_text(?{param}::text::json)::bigint)"),
        }
    }

    /// `column BETWEEN` the two ids of parameter ?n (`[low,high]`), so the index is read as one
    /// range (see [`super::IdBatch`]).
    pub fn in_id_range(&self, column: &str, param: usize) -> String {
        match self.engine {
            Engine::Sqlite(_) => format!("{column} BETWEEN json_extract(?{param}, '$[0]') AND json_extract(?{param}, '$[1]')"),
            Engine::Postgres(_) => {
                format!("{column} BETWEEN (?{param}::text::json->>0)::bigint AND (?{param}::text::json->>1)::bigint")
            }
        }
    }

    /// The SQL function that case-folds text as search compares it (`domain::search::fold`): on
    /// a file keel's own `keel_fold` (SQLite's `lower()` folds ASCII alone); on a server
    /// `lower()`, which its GIN indexes are built on and which folds every alphabet in a UTF-8
    /// locale.
    pub fn fold_function(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite(_) => "keel_fold",
            Engine::Postgres(_) => "lower",
        }
    }

    /// Where `needle` first occurs in `haystack` (1-based, 0 when absent), as SQL: SQLite's
    /// `instr`, PostgreSQL's `strpos` (the standard `position(… IN …)` SQLite lacks).
    pub fn position_of(&self, needle: &str, haystack: &str) -> String {
        match self.engine {
            Engine::Sqlite(_) => format!("instr({haystack}, {needle})"),
            Engine::Postgres(_) => format!("strpos({haystack}, {needle})"),
        }
    }

    /// `column` starts with the prefix in parameter ?n, as a condition the column's index serves
    /// (SQLite: GLOB, which is case-sensitive; PostgreSQL: LIKE, which is too). Pair it with
    /// [`Db::prefix_pattern`], which makes that parameter's value.
    pub fn starts_with(&self, column: &str, param: usize) -> String {
        match self.engine {
            Engine::Sqlite(_) => format!("{column} GLOB ?{param}"),
            Engine::Postgres(_) => format!("{column} LIKE ?{param} ESCAPE '\\'"),
        }
    }

    /// The parameter value for [`Db::starts_with`]: the prefix and the engine's wildcard. A
    /// prefix holding GLOB's own special characters is `None` (no key or login holds them).
    pub fn prefix_pattern(&self, prefix: &str) -> Option<String> {
        match self.engine {
            Engine::Sqlite(_) => (!prefix.contains(['*', '?', '[', ']'])).then(|| format!("{prefix}*")),
            Engine::Postgres(_) => Some(format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))),
        }
    }

    /// Whether the trigger `name` on `table` is there and refuses the change it fires on (the
    /// audit log's append-only rule): SQLite's `RAISE(ABORT …)`, PostgreSQL's enabled trigger
    /// whose function raises an exception.
    pub fn refusing_trigger(&self, table: &str, name: &str) -> Result<bool, Error> {
        let (sql, refuses) = match self.engine {
            Engine::Sqlite(_) => ("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?2 AND tbl_name = ?1", "RAISE(ABORT"),
            Engine::Postgres(_) => (
                "SELECT pg_get_triggerdef(t.oid) || ' ' || p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                  WHERE t.tgrelid = to_regclass(?1) AND t.tgname = ?2 AND t.tgenabled <> 'D'",
                "RAISE EXCEPTION",
            ),
        };
        let found: Option<String> = self.query_opt(sql, [table, name], |r| r.get(0))?;
        Ok(found.is_some_and(|s| s.contains(refuses)))
    }

    /// Call `record` with every statement as it runs (`None` stops), for the query-plan tests.
    #[cfg(test)]
    pub fn trace_statements(&self, record: Option<fn(&str)>) {
        use std::sync::Mutex;
        static RECORD: Mutex<Option<fn(&str)>> = Mutex::new(None);
        fn forward(event: rusqlite::trace::TraceEvent<'_>) {
            if let rusqlite::trace::TraceEvent::Stmt(_, sql) = event {
                if let Some(f) = *RECORD.lock().unwrap() {
                    f(sql);
                }
            }
        }
        *RECORD.lock().unwrap() = record;
        let c = self.sqlite("statement tracing").unwrap_or_else(|e| panic!("{e}"));
        match record {
            Some(_) => c.trace_v2(rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT, Some(forward)),
            None => c.trace_v2(rusqlite::trace::TraceEventCodes::empty(), None),
        }
    }

    /// How SQLite would run `sql` (its parameters left NULL): one line per step of the plan.
    #[cfg(test)]
    pub fn query_plan(&self, sql: &str) -> Result<Vec<String>, Error> {
        let mut stmt = self.sqlite("a SQLite query plan")?.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let mut rows = stmt.raw_query();
        let mut lines = Vec::new();
        while let Some(r) = rows.next()? {
            lines.push(r.get::<_, String>(3)?);
        }
        Ok(lines)
    }
}

/// keel's SQL functions, on every connection to a file: `keel_fold(text)`, search's case folding
/// (queries only: no schema object names it, so other tools can still read the file).
fn add_functions(conn: &Connection) -> Result<(), Error> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("keel_fold", 1, FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(ctx.get_raw(0).as_str_or_null()?.map(crate::domain::search::fold))
    })?;
    Ok(())
}
