//! The only place with SQL: opening a keel file, the one write path (`edit`), and read models.

pub mod as_of;
pub mod audit;
mod authority;
pub mod calendar;
pub mod change_sets;
pub mod check;
mod check_rows;
pub use check_rows::BATCH as CHECK_BATCH;
#[cfg(test)]
mod check_ref;
pub mod complete;
pub mod copy;
pub mod digest;
pub mod discipline;
pub mod edit;
pub(crate) mod engine;
pub mod escalation_list;
pub mod events;
mod facts;
pub mod fields;
pub mod files;
pub mod identity;
mod invariants;
pub mod kept;
pub mod listing;
pub mod live;
pub mod migrations;
pub mod migrations_postgres;
mod narratives;
pub mod outline;
pub mod plan;
#[cfg(test)]
mod query_plans;
pub mod read;
mod reassign;
#[cfg(test)]
mod reference;
pub mod report;
pub mod report_size;
pub mod reporting;
pub mod restore;
pub mod retire;
pub mod rhythms;
pub mod rules;
pub mod search;
pub mod server;
pub mod signals;
pub mod source_sql;
pub mod sources;
pub mod statuses;
mod structure;
pub mod upkeep;
mod value_cells;
mod value_edit;

use crate::domain::escalation::Thresholds;
use crate::domain::settings::{self, SettingProblem, Settings};
use crate::domain::ItemKey;
use chrono::{DateTime, NaiveDate, Utc};
use engine::{Db, FileMode, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use edit::{Change, Edit, EditOutcome};
pub use identity::os_login;

/// The oldest SQLite keel trusts: earlier versions can corrupt a WAL file when several
/// connections write at once.
pub const MIN_SQLITE: i32 = engine::MIN_SQLITE;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no such file. Create one with `keel init --db {path}` or try `keel demo`.")]
    NotFound { path: String },
    #[error("{path}: not a keel database ({why}). Nothing was changed; check the --db path.")]
    NotKeel { path: String, why: String },
    #[error("{path}: not a readable keel database: {why}. Nothing was changed; restore it from a backup (or check the --db path).")]
    Damaged { path: String, why: String },
    #[error("{path}: written by a newer keel (schema {found}, this keel knows up to {supported}). Nothing was changed; upgrade keel to open it.")]
    Newer { path: String, found: i64, supported: i64 },
    #[error("{path}: a file already exists there. Use another path; --force replaces only a demo or a damaged keel file.")]
    Exists { path: String },
    #[error("{path}: no keel database there (the database is empty). Create one with `keel init --db {path}` or `keel demo --db {path}`.")]
    NoSchema { path: String },
    #[error("{path}: {why}. Nothing was changed; give the URL of an empty database (createdb NAME makes one).")]
    InUse { path: String, why: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("SQLite {found} is too old: keel needs 3.51.3 or newer")]
    OldSqlite { found: String },
    #[error("no item {0}: check the key with `keel show` or the tree")]
    UnknownKey(String),
    #[error("{key}: no field '{field}'. Fields of a {kind}: {choices}")]
    UnknownField { key: String, kind: String, field: String, choices: String },
    #[error("{key} {field}: {why}")]
    Invalid { key: String, field: String, why: String },
    #[error("{key} {field}: conflict — changed by {who} at {when} (you edited version {expected}, it is now version {found}). Reload and try again; nothing was saved.")]
    Conflict { key: String, field: String, expected: i64, found: i64, who: String, when: String },
    #[error("{key}: {action} refused. Missing:\n{}", .missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n"))]
    /// `by_role`: refused for who is acting (a role they do not hold), not for the item.
    Refused { key: String, action: String, missing: Vec<String>, by_role: bool },
    #[error("{0}")]
    Permission(String),
    #[error("{0}")]
    ReadOnly(String),
    #[error("{0}")]
    Import(String),
    /// Refused because others changed what it would undo since (a revert): exit 75.
    #[error("{0}")]
    Changed(String),
    #[error("the keel database is busy: another keel is writing to it. Nothing was saved; try again in a moment.")]
    Busy,
    #[error("{path}: {why} since keel opened it. Nothing was saved; reopen keel to work on the file that is there now.")]
    Replaced { path: String, why: String },
    /// The connection to the server broke (it restarted or went away): exit 75, try again.
    #[error("{0}")]
    Lost(String),
    #[error("database: {0}")]
    Database(engine::Error),
    // Transparent: the OS's words once, not again as the error's source.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How long a connection waits for another's write lock before giving up with [`StoreError::Busy`].
pub const BUSY_SECS: u64 = 10;

/// "Database is locked" never reaches a user as such: it becomes [`StoreError::Busy`], which
/// says what happened and that nothing was saved (exit 75, try again).
impl From<engine::Error> for StoreError {
    fn from(e: engine::Error) -> StoreError {
        match e {
            engine::Error::Busy(_) => StoreError::Busy,
            engine::Error::Lost(why) => StoreError::Lost(why),
            // Damage found while reading (a truncated file, smashed pages) is the file's, not a bug.
            engine::Error::Corrupt(why) => StoreError::Damaged { path: "the keel file".into(), why },
            e => StoreError::Database(e),
        }
    }
}

/// Who is acting: the OS login and, when the login has a person record, that person.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub login: String,
    pub person_id: Option<i64>,
    pub person_key: Option<String>,
    pub name: Option<String>,
    pub pmo_admin: bool,
}

impl Actor {
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} ({})", self.login),
            None => self.login.clone(),
        }
    }
}

/// The current time, passed into the rules (which never read a clock themselves).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// Today in the organisation's calendar (its `timezone` setting), the same for every user
    /// and for cron: period keys come from this, not from the UTC timestamp or a user's zone.
    pub today: NaiveDate,
}

impl Clock {
    /// Now, with today in UTC (for time stamps that need no calendar date).
    pub fn system() -> Clock {
        Clock::in_zone(Utc::now(), chrono_tz::Tz::UTC)
    }
    /// The instant `now`, with today as the organisation's time zone has it.
    pub fn in_zone(now: DateTime<Utc>, timezone: chrono_tz::Tz) -> Clock {
        Clock { now, today: settings::today_in(now, timezone) }
    }
    pub fn at(today: NaiveDate) -> Clock {
        Clock { now: today.and_hms_opt(12, 0, 0).expect("noon exists").and_utc(), today }
    }
    pub fn stamp(&self) -> String {
        self.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

pub struct Store {
    conn: Db,
    path: PathBuf,
    pub actor: Actor,
    pub demo: bool,
    read_only: Option<String>,
    /// The device and inode of the file when it was opened: a write into a file swapped or
    /// deleted under an open keel would land in the wrong place (or nowhere).
    opened_file: Option<(u64, u64)>,
    clock_override: Option<NaiveDate>,
    /// A demo's KEEL_NOW: the instant keel judges by (today then follows the `timezone` setting).
    now_override: Option<DateTime<Utc>>,
    /// Statuses computed for the screen, kept until the file or the day changes.
    memo: std::cell::RefCell<statuses::Memo>,
    /// Inside [`Store::read_snapshot`]: what every status asks first (the file's version, the
    /// clock, the thresholds), read once for the snapshot instead of three queries a call — on a
    /// server three round trips for each row of an export. `Some(None)`: in a snapshot, not read yet.
    snapshot: std::cell::RefCell<Option<Option<SnapshotFacts>>>,
}

/// See `Store::snapshot`.
#[derive(Clone)]
pub(crate) struct SnapshotFacts {
    pub data_version: i64,
    pub clock: Clock,
    pub thresholds: Thresholds,
}

/// Why a large file waits for `keel migrate`, and what to do: the read-only reason it shows.
fn needs_migrate(shown: &str, at: i64, items: i64) -> String {
    format!(
        "{shown} is read-only until `keel migrate` runs: schema {at} builds an index over its {items} items, which takes a \
         while and would hold the file's write lock meanwhile. Viewing works (search scans). To make it writable: \
         keel --db {shown} migrate (it keeps a backup first)"
    )
}

fn check_sqlite_version() -> Result<()> {
    match engine::sqlite_too_old() {
        Some(found) => Err(StoreError::OldSqlite { found }),
        None => Ok(()),
    }
}

fn configure(conn: &Db) -> Result<()> {
    Ok(conn.configure(Duration::from_secs(BUSY_SECS))?)
}

/// Read the first bytes to tell a SQLite file from anything else *before* SQLite touches it
/// (SQLite would happily turn an empty file into a new database).
fn sniff(path: &Path) -> Result<()> {
    use std::io::Read;
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(StoreError::NotKeel { path: shown, why: "it is a folder; give the path of a keel file in it".into() });
    }
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut header)?;
    if n == 0 {
        return Err(StoreError::NotKeel { path: shown, why: "the file is empty".into() });
    }
    if n < 16 || &header[..16] != b"SQLite format 3\0" {
        return Err(StoreError::NotKeel { path: shown, why: "it is not a SQLite database".into() });
    }
    if n < 100 {
        return Err(StoreError::Damaged { path: shown, why: format!("it is cut off after {n} bytes, inside the SQLite header") });
    }
    if let Some((needs, has)) = truncated(path, &header, f.metadata()?.len()) {
        return Err(StoreError::Damaged {
            path: shown,
            why: format!("it is truncated: its header counts {needs} bytes, the file has {has}"),
        });
    }
    Ok(())
}

/// Whether the file is shorter than its header says. Only trusted when the header's page count is
/// current (its version-valid-for number matches the change counter) and no -wal holds pages yet
/// to be copied in: a checkpoint writes page 1 before the pages that lengthen the file.
fn truncated(path: &Path, header: &[u8; 100], len: u64) -> Option<(u64, u64)> {
    let be32 = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    let wal_pending = std::fs::metadata(format!("{}-wal", path.display())).map(|m| m.len() > 0).unwrap_or(false);
    if wal_pending || be32(24) != be32(92) {
        return None;
    }
    let needs = u64::from(be32(28)) * page_size;
    (needs > len).then_some((needs, len))
}

/// The device and inode a path names now, if it names a file.
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Store {
    /// Has the file at this store's path been replaced (a restore, `mv backup.keel keel.keel`) or
    /// deleted since it was opened? Checked before every write, and by the app on each refresh.
    pub fn file_replaced(&self) -> Option<String> {
        let opened = self.opened_file?;
        match file_identity(&self.path) {
            None => Some("the file was deleted or moved away".into()),
            Some(now) if now != opened => Some("the file was replaced by another (a restore or a move)".into()),
            Some(_) => None,
        }
    }

    /// Open the file that is at this store's path now (after a restore replaced the one opened),
    /// as the same person, with the same clock. On a demo file the login asked for is kept.
    pub fn reopen(&self) -> Result<Store> {
        let mut store = Store::open(&self.path)?;
        store.clock_override = self.clock_override;
        store.now_override = self.now_override;
        if store.demo && store.actor.login != self.actor.login {
            store.identify(Some(&self.actor.login))?;
        }
        Ok(store)
    }

    /// How long a write waits for another keel's write lock before giving up with
    /// [`StoreError::Busy`]. The CLI waits [`BUSY_SECS`]; the app waits briefly and says so, so a
    /// colleague's long import never freezes its keys.
    pub fn wait_for_writers(&self, wait: Duration) -> Result<()> {
        Ok(self.conn.busy_timeout(wait)?)
    }

    /// Open an existing keel file. Anything that is not one is refused untouched.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(url) = server::server_url(path) {
            return server::open(url);
        }
        Store::open_checked(path, None).map_err(|e| match e {
            StoreError::Damaged { why, .. } => StoreError::Damaged { path: path.display().to_string(), why },
            e => e,
        })
    }

    /// [`Store::open`], taking every pending migration however large the file is (`keel migrate`,
    /// a restore's private copy); `progress` hears (done, all) of a backfill.
    pub fn open_migrating(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Store> {
        if let Some(url) = server::server_url(path) {
            return server::open(url);
        }
        Store::open_checked(path, Some(progress))
    }

    fn open_checked(path: &Path, heavy: Option<&mut dyn FnMut(u64, u64)>) -> Result<Store> {
        check_sqlite_version()?;
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(StoreError::NotFound { path: shown });
        }
        sniff(path)?;
        let writable = std::fs::OpenOptions::new().write(true).open(path).is_ok();
        if !writable {
            files::refuse_blocking_view(path)?;
        }
        let conn = Db::open_file(path, if writable { FileMode::ReadWrite } else { FileMode::ReadOnly })?;
        conn.busy_timeout(Duration::from_secs(BUSY_SECS))?;
        let app: i64 = conn.application_id()?;
        let version: i64 = conn.schema_version()?;
        if app != migrations::APPLICATION_ID {
            return Err(StoreError::NotKeel { path: shown, why: "it is a SQLite database of another program".into() });
        }
        if version > migrations::SCHEMA_VERSION {
            return Err(StoreError::Newer { path: shown, found: version, supported: migrations::SCHEMA_VERSION });
        }
        configure(&conn)?;
        if writable {
            conn.use_wal()?;
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            actor: Actor::default(),
            demo: false,
            read_only: None,
            opened_file: file_identity(path),
            clock_override: None,
            now_override: None,
            memo: Default::default(),
            snapshot: Default::default(),
        };
        // How far opening migrates: all the way on a small file or when asked (`keel migrate`);
        // on a large one, to just before the first migration whose backfill grows with it.
        let mut pending = None;
        if heavy.is_none() && version < migrations::SCHEMA_VERSION {
            if let Some(at) = migrations::first_heavy(version) {
                let items: i64 = store.conn.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?;
                if items > migrations::MIGRATE_ON_OPEN_MAX {
                    pending = Some((at, items));
                }
            }
        }
        let to = pending.map_or(migrations::SCHEMA_VERSION, |(at, _)| at - 1);
        if version < to {
            if !writable {
                return Err(StoreError::ReadOnly(format!("{shown}: needs a schema upgrade but the file is read-only")));
            }
            let mut quiet = |_: u64, _: u64| {};
            let progress = heavy.unwrap_or(&mut quiet);
            store.conn.write(|tx| migrations::migrate_to(tx, version, to, progress))?;
        }
        store.demo = store.setting("demo")?.as_deref() == Some("true");
        store.identify(None)?;
        if let Some((at, items)) = pending {
            // Reads (search by its scan) go on; nothing is written until `keel migrate` ran.
            store.conn.query_only()?;
            store.read_only = Some(needs_migrate(&shown, at, items));
        } else if !writable {
            store.read_only = Some(format!("{shown} is read-only for you: viewing only"));
        }
        Ok(store)
    }

    /// Create a new, empty keel file with mode 0600 (readable by its owner only).
    /// On a server (a `postgres://` URL), keel's schema in an empty database instead.
    pub fn create(path: &Path, demo: bool) -> Result<Store> {
        if let Some(url) = server::server_url(path) {
            return server::create(url, demo);
        }
        check_sqlite_version()?;
        if path.exists() {
            return Err(StoreError::Exists { path: path.display().to_string() });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // Built under a temporary name and linked into place only when whole: a crash or a full
        // disk never leaves a half-made file at `path` that keel would then refuse to open.
        files::create_whole(path, |conn| {
            configure(conn)?;
            conn.use_wal()?;
            conn.write(|tx| {
                migrations::migrate(tx, 0)?;
                tx.execute(
                    "INSERT INTO settings (name, value) VALUES ('demo', ?1), ('created_at', ?2)",
                    engine::params![if demo { "true" } else { "false" }, Clock::system().stamp()],
                )
            })?;
            Ok(())
        })?;
        let conn = Db::open_file(path, FileMode::Create)?;
        configure(&conn)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            actor: Actor::default(),
            demo,
            read_only: None,
            opened_file: file_identity(path),
            clock_override: None,
            now_override: None,
            memo: Default::default(),
            snapshot: Default::default(),
        };
        store.identify(None)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second connection to the same file, for reading on another thread: the same clock and
    /// identity, its own remembered statuses. It never writes, and holds no transaction between
    /// statements, so it never stands in a writer's way.
    pub fn open_reader(&self) -> Result<Store> {
        if let Some(url) = server::server_url(&self.path) {
            return server::reader(self, url);
        }
        let conn = Db::open_file(&self.path, if self.read_only.is_some() { FileMode::ReadOnly } else { FileMode::ReadWrite })?;
        configure(&conn)?;
        conn.query_only()?;
        Ok(Store {
            conn,
            path: self.path.clone(),
            actor: self.actor.clone(),
            demo: self.demo,
            read_only: Some("a reader".into()),
            opened_file: self.opened_file,
            clock_override: self.clock_override,
            now_override: self.now_override,
            memo: Default::default(),
            snapshot: Default::default(),
        })
    }

    pub(crate) fn conn(&self) -> &Db {
        &self.conn
    }

    /// Work out who is acting: the real uid's login (see [`identity`]), or on a server the role
    /// the server authenticated (`session_user`). `KEEL_USER` (or `as_login`) is honoured only on
    /// a demo file, so that a newcomer can try every role there and nobody can pose as someone on
    /// real data; on a server never (its roles are how people are told apart there).
    pub fn identify(&mut self, as_login: Option<&str>) -> Result<()> {
        let requested = as_login.map(str::to_string).or_else(|| std::env::var("KEEL_USER").ok().filter(|s| !s.is_empty()));
        let server_login = self.conn.session_login()?;
        let login = match (requested, server_login) {
            // On a server the actor is whom the server authenticated, demo or not: keel's own
            // re-identification after an import names that login again, anything else is refused.
            (Some(l), Some(session)) if as_login.is_some() && l == session => session,
            (Some(_), Some(session)) => {
                return Err(StoreError::Permission(format!(
                    "KEEL_USER is never honoured on a server: keel acts as the role the server authenticated ({session}). \
                     Unset KEEL_USER; to act as someone else, connect as their role (user= in the --db URL)."
                )))
            }
            (None, Some(session)) => session,
            (Some(l), None) if self.demo => l,
            (Some(_), None) => {
                return Err(StoreError::Permission(
                    "KEEL_USER is honoured only on demo databases; on real data keel acts as your OS login. Unset KEEL_USER.".into(),
                ))
            }
            (None, None) => os_login(),
        };
        if self.demo {
            // An instant, for trying the organisation's time zone: today is taken from it there.
            if let Ok(t) = std::env::var("KEEL_NOW") {
                let now = DateTime::parse_from_rfc3339(t.trim())
                    .map_err(|_| StoreError::Permission(format!("KEEL_NOW='{t}': use an RFC 3339 time like 2026-11-29T23:30:00Z")))?;
                self.now_override = Some(now.with_timezone(&Utc));
            }
            if let Ok(d) = std::env::var("KEEL_TODAY") {
                let day = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| StoreError::Permission(format!("KEEL_TODAY='{d}': use YYYY-MM-DD")))?;
                self.clock_override = Some(day);
            }
        }
        // A uid with no name matches no person on real data: a `uid:N` login planted in a plan
        // must not make a stranger someone.
        let nameless = identity::is_unnamed(&login) && !self.demo;
        let person = if nameless {
            None
        } else {
            self.conn
                .query_row(
                    "SELECT p.id, i.key, p.name, p.pmo_admin FROM people p JOIN items i ON i.id = p.id WHERE p.login = ?1",
                    [&login],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)? == 1)),
                )
                .optional()?
        };
        self.actor = match person {
            Some((id, key, name, admin)) => Actor { login, person_id: Some(id), person_key: Some(key), name: Some(name), pmo_admin: admin },
            None => Actor { login, ..Default::default() },
        };
        Ok(())
    }

    /// Why edits are refused, if they are: a read-only file, or a login with no person record.
    pub fn read_only_reason(&self) -> Option<String> {
        if let Some(r) = &self.read_only {
            return Some(r.clone());
        }
        if identity::is_unnamed(&self.actor.login) && !self.demo {
            return Some(format!(
                "your user id ({}) has no entry in this host's password database: viewing only. Ask an administrator \
                 for an account with a name.",
                self.actor.login
            ));
        }
        if self.actor.person_id.is_none() && self.has_people().unwrap_or(false) {
            return Some(format!(
                "'{}' has no person record in this file: viewing only. A PMO administrator can add you.",
                self.actor.login
            ));
        }
        None
    }

    fn has_people(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM people)", [], |r| r.get(0))?)
    }

    /// The one clock: a demo's KEEL_TODAY (or set_clock) wins; else now (a demo's KEEL_NOW, or
    /// the system's), with today in the organisation's `timezone` setting — never the user's zone.
    pub fn clock(&self) -> Clock {
        match self.clock_override {
            Some(day) => Clock::at(day),
            None => Clock::in_zone(self.now_override.unwrap_or_else(Utc::now), self.timezone()),
        }
    }

    /// The organisation's time zone, as the settings parser reads it (UTC when unset or bad;
    /// a bad one is reported with the other settings).
    fn timezone(&self) -> chrono_tz::Tz {
        let stored: Option<String> =
            self.conn.query_opt("SELECT value FROM settings WHERE name = 'timezone'", [], |r| r.get(0)).ok().flatten();
        stored.map(|v| settings::parse([("timezone", v.as_str())]).0.timezone).unwrap_or(chrono_tz::Tz::UTC)
    }

    pub fn set_clock(&mut self, today: NaiveDate) {
        self.clock_override = Some(today);
    }

    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0)).optional()?)
    }

    /// The organisation's thresholds: settings where present and good, defaults elsewhere.
    pub fn thresholds(&self) -> Result<Thresholds> {
        thresholds_from(&self.conn)
    }

    /// Every setting, typed, and the stored ones that are bad (see [`settings::parse`]).
    pub fn settings(&self) -> Result<(Settings, Vec<SettingProblem>)> {
        settings_from(&self.conn)
    }

    /// A number that changes whenever any connection commits to the file: used to notice
    /// other people's edits without re-reading anything.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.data_version()?)
    }

    /// `f`'s reads on one snapshot of the database (see [`engine::Db::read_snapshot`]).
    pub fn read_snapshot<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.conn.read_snapshot(|| {
            let outermost = self.snapshot.borrow().is_none();
            if outermost {
                *self.snapshot.borrow_mut() = Some(None);
            }
            let out = f();
            if outermost {
                *self.snapshot.borrow_mut() = None;
            }
            out
        })
    }

    /// The file's version, clock and thresholds for a status: read once per snapshot inside
    /// [`Store::read_snapshot`], else each time.
    pub(crate) fn status_facts(&self) -> Result<SnapshotFacts> {
        if let Some(Some(known)) = &*self.snapshot.borrow() {
            return Ok(known.clone());
        }
        let facts = SnapshotFacts { data_version: self.data_version()?, clock: self.clock(), thresholds: self.thresholds()? };
        if let Some(slot) = self.snapshot.borrow_mut().as_mut() {
            *slot = Some(facts.clone());
        }
        Ok(facts)
    }

    /// Whether the store's own connection to its server is known to be broken (never on a file).
    pub fn connection_lost(&self) -> bool {
        self.conn.connection_lost()
    }

    /// How many values (one item's numbers for one period) the file holds.
    pub fn value_count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM item_values", [], |r| r.get(0))?)
    }

    /// The total count of audit rows, which grows with every committed edit from any process.
    pub fn change_counter(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))?)
    }

    /// SQLite's quick structural check of every page: what it found, or nothing when the file is whole.
    pub fn quick_check(&self) -> Result<Vec<String>> {
        Ok(self.conn.quick_check()?)
    }

    /// `PRAGMA quick_check` of a file keel could not open (damage in a page read at open), read
    /// only, so `keel check --deep` can still say what is damaged.
    pub fn quick_check_file(path: &Path) -> Result<Vec<String>> {
        Ok(Db::open_file(path, FileMode::ReadOnly)?.quick_check()?)
    }

    /// This connection's commits no longer fold the write-ahead log into the file: whoever calls
    /// this runs [`Store::checkpoint_passive`] off the keystroke path (the app's checkpointer).
    pub fn defer_checkpoints(&self) -> Result<()> {
        Ok(self.conn.defer_checkpoints()?)
    }

    /// Fold the write-ahead log into the file without blocking anyone: (frames, frames copied).
    pub fn checkpoint_passive(&self) -> Result<(i64, i64)> {
        Ok(self.conn.checkpoint_passive()?)
    }

    /// Whether this store is a database on a server (so a message says "server", not "file").
    pub fn on_server(&self) -> bool {
        self.conn.is_postgres()
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.integrity_check()?)
    }

    /// Copy the database with SQLite's online backup API (consistent even while others write).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        if self.conn.is_postgres() {
            return Err(StoreError::Unavailable(
                "keel backup copies a SQLite file page by page; for a database on a server use the server's own backups (pg_dump)".into(),
            ));
        }
        if dest.exists() {
            return Err(StoreError::Exists { path: dest.display().to_string() });
        }
        // One step copies every page inside one read transaction: a consistent snapshot while
        // others keep writing (readers do not block writers in WAL mode), never restarted by
        // their commits. Built under a temporary name, so an interrupted backup leaves nothing.
        files::create_whole(dest, |target| Ok(self.conn.backup_into(target, BUSY_SECS * 200)?))
    }

    /// Resolve a key to its row id and kind.
    pub fn resolve(&self, key: &ItemKey) -> Result<i64> {
        resolve(&self.conn, key)
    }
}

pub(crate) fn resolve(conn: &Db, key: &ItemKey) -> Result<i64> {
    conn.query_row("SELECT id FROM items WHERE key = ?1", [key.to_string()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownKey(key.to_string()))
}

pub(crate) fn thresholds_from(conn: &Db) -> Result<Thresholds> {
    Ok(settings_from(conn)?.0.thresholds)
}

/// The organisation's settings as the domain parses them, with every stored value that is bad
/// (shown by `keel check` and the app until someone fixes it; its default is used meanwhile).
pub(crate) fn settings_from(conn: &Db) -> Result<(Settings, Vec<SettingProblem>)> {
    let rows: Vec<(String, String)> =
        conn.query_map("SELECT name, value FROM settings ORDER BY name", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(settings::parse(rows.iter().map(|(n, v)| (n.as_str(), v.as_str()))))
}

/// The settings an organisation may change, with what each means (for `keel settings`).
pub use crate::domain::settings::KNOWN as SETTINGS;
