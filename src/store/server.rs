//! A keel database on a PostgreSQL server, named by a `postgres://` URL where a file's path would
//! be: opening it (its schema version and application id are in `keel_meta`, see the engine),
//! creating keel's schema in an empty database (`keel init`, `keel demo`), and the connections
//! the app's readers take. Everything after opening is the same store as on a file.

use super::engine::Db;
use super::{configure, migrations, reporting, Actor, Clock, Result, Store, StoreError};
use crate::location::{is_server_url, PasswordSources, ServerUrl};
use std::path::Path;

/// The URL when `path` (a `--db` value) names a server rather than a file.
pub fn server_url(path: &Path) -> Option<&str> {
    path.to_str().filter(|t| is_server_url(t))
}

/// Connect to the server the URL names, as the URL and libpq's conventions say.
pub(super) fn connect(url: &str) -> Result<Db> {
    let server = ServerUrl::parse(url, &super::os_login(), &PasswordSources::from_env())
        .map_err(|e| StoreError::Unavailable(format!("--db {e}")))?;
    Db::connect(&server).map_err(|e| match e {
        super::engine::Error::Lost(why) => StoreError::Lost(why),
        e => StoreError::Unavailable(format!("{e}. Nothing was changed; check the URL and that the server runs.")),
    })
}

fn store(conn: Db, url: &str, demo: bool) -> Store {
    Store {
        conn,
        path: url.into(),
        actor: Actor::default(),
        demo,
        read_only: None,
        // A server database is never swapped under an open keel the way a file can be.
        opened_file: None,
        clock_override: None,
        now_override: None,
        memo: Default::default(),
        snapshot: Default::default(),
    }
}

/// Open keel's database on a server, migrating it forward if it is older than this keel.
pub(super) fn open(url: &str) -> Result<Store> {
    let conn = connect(url)?;
    let app = conn.application_id()?;
    let version = conn.schema_version()?;
    if app != migrations::APPLICATION_ID {
        if !conn.holds_tables()? {
            return Err(StoreError::NoSchema { path: url.to_string() });
        }
        return Err(StoreError::NotKeel { path: url.to_string(), why: "the database holds tables of another program".into() });
    }
    if version > migrations::SCHEMA_VERSION {
        return Err(StoreError::Newer { path: url.to_string(), found: version, supported: migrations::SCHEMA_VERSION });
    }
    configure(&conn)?;
    let mut store = store(conn, url, false);
    if version < migrations::SCHEMA_VERSION {
        store.conn.write(|tx| migrations::migrate(tx, version))?;
    } else if store.conn.lacks_write_queue()? || !reporting::views_present(&store.conn)? {
        // Made before keel_writes or the reporting views: the owner's next opening adds them.
        store.conn.write(|tx| {
            tx.set_schema_version(version)?;
            reporting::create_views(tx)
        })?;
    }
    store.demo = store.setting("demo")?.as_deref() == Some("true");
    store.identify(None)?;
    Ok(store)
}

/// Create keel's schema in an empty database on a server. A database that is keel's already, or
/// holds anything else, is refused untouched.
pub(super) fn create(url: &str, demo: bool) -> Result<Store> {
    let conn = connect(url)?;
    if conn.application_id()? == migrations::APPLICATION_ID {
        return Err(StoreError::InUse { path: url.to_string(), why: "it holds a keel database already".into() });
    }
    refuse_unless_empty(&conn, url)?;
    configure(&conn)?;
    conn.write(|tx| {
        migrations::migrate(tx, 0)?;
        tx.execute(
            "INSERT INTO settings (name, value) VALUES ('demo', ?1), ('created_at', ?2)",
            super::engine::params![if demo { "true" } else { "false" }, Clock::system().stamp()],
        )
    })?;
    let mut store = store(conn, url, demo);
    store.identify(None)?;
    Ok(store)
}

/// An empty database keel can hold its schema in, or the reason it cannot.
fn refuse_unless_empty(conn: &Db, url: &str) -> Result<()> {
    if conn.holds_tables()? {
        return Err(StoreError::InUse {
            path: url.to_string(),
            why: "the database is not empty (it holds tables of another program); keel creates its schema only in an empty database".into(),
        });
    }
    if let Some(collate) = conn.collation_not_bytewise()? {
        return Err(StoreError::InUse {
            path: url.to_string(),
            why: format!(
                "the database sorts text by the locale {collate}, and keel sorts keys and names byte by byte as in a file; \
                 make it with the C.UTF-8 locale: CREATE DATABASE name LOCALE 'C.UTF-8' TEMPLATE template0"
            ),
        });
    }
    Ok(())
}

/// The database on a server a copy goes into, connected: the version of the keel schema in it,
/// or `None` when it is empty. Anything else (another program's tables, a newer keel's schema,
/// a locale that sorts unlike a file) is refused untouched; whether a keel schema holds data
/// is checked inside the copy's transaction.
pub(super) fn copy_target(url: &str) -> Result<(Db, Option<i64>)> {
    let conn = connect(url)?;
    let found = if conn.application_id()? == migrations::APPLICATION_ID {
        let version = conn.schema_version()?;
        if version > migrations::SCHEMA_VERSION {
            return Err(StoreError::Newer { path: url.to_string(), found: version, supported: migrations::SCHEMA_VERSION });
        }
        Some(version)
    } else {
        refuse_unless_empty(&conn, url)?;
        None
    };
    configure(&conn)?;
    Ok((conn, found))
}

/// Another connection to the same server database, for a reader on another thread.
pub(super) fn reader(of: &Store, url: &str) -> Result<Store> {
    let conn = connect(url)?;
    configure(&conn)?;
    conn.query_only()?;
    Ok(Store {
        actor: of.actor.clone(),
        demo: of.demo,
        read_only: Some("a reader".into()),
        clock_override: of.clock_override,
        now_override: of.now_override,
        ..store(conn, url, of.demo)
    })
}

/// A short name for the database, for report headers and calendar names: a file's name, or a
/// server database's name (never the whole URL, which names a socket folder or host too).
pub fn source_name(path: &Path) -> String {
    match server_url(path) {
        Some(url) => ServerUrl::parse(url, &super::os_login(), &PasswordSources::default())
            .ok()
            .and_then(|s| s.config.get_dbname().map(str::to_string))
            .unwrap_or_else(|| "keel".into()),
        None => path.file_name().and_then(|n| n.to_str()).unwrap_or("keel.db").to_string(),
    }
}

impl Store {
    /// The GRANT statements for a users' role (and a read-only role) on this server database,
    /// and with `apply` run them, all or none. Refused on a file, which has no roles.
    pub fn grants(&self, users: &str, readonly: Option<&str>, apply: bool) -> Result<Vec<String>> {
        if !self.conn.is_postgres() {
            return Err(StoreError::Invalid {
                key: "--db".into(),
                field: self.path.display().to_string(),
                why: "grants are for a database on a PostgreSQL server; a file is protected by its mode and group".into(),
            });
        }
        let statements = reporting::grant_statements(&self.conn, users, readonly)?;
        if apply {
            reporting::apply(&self.conn, &statements)?;
        }
        Ok(statements)
    }
}
