//! The engines a CLI test runs on: SQLite (a file in the test's folder) and PostgreSQL (a fresh
//! database per test on the server `.ci/with-postgres` starts, its URL in `KEEL_TEST_PG_URL`,
//! dropped when the test ends). Without a server the PostgreSQL half of a test says it was
//! skipped, except under CI, where a missing server fails the run.

use keel::location::{Location, PasswordSources, ServerUrl};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The test server's URL, or `None` (skipped) without one; CI insists on one.
pub fn server_url() -> Option<String> {
    match std::env::var("KEEL_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI runs the tests against a PostgreSQL server: run them through .ci/with-postgres")
        }
        _ => {
            eprintln!("skipped on PostgreSQL: no KEEL_TEST_PG_URL (run `.ci/with-postgres cargo test` to include the server)");
            None
        }
    }
}

fn server(url: &str) -> ServerUrl {
    match Location::parse(url, super::os_user(), &PasswordSources::default()) {
        Ok(Location::Server(s)) => *s,
        other => panic!("KEEL_TEST_PG_URL={url} is not a server URL: {other:?}"),
    }
}

/// A database of one test's own on the test server, dropped with it.
#[derive(Debug)]
pub struct Database {
    /// The `--db` URL naming it.
    pub url: String,
    name: String,
    admin: String,
}

impl Database {
    /// A new, empty database named after the test, or `None` (skipped) without a server.
    pub fn new(test: &str) -> Option<Database> {
        Database::create(test, None)
    }

    /// A copy of `template` (which nobody may be connected to), named after the test: a demo
    /// made once is copied for each case of a property test in a fraction of its making.
    pub fn copy_of(template: &Database, test: &str) -> Option<Database> {
        Database::create(test, Some(&template.name))
    }

    fn create(test: &str, template: Option<&str>) -> Option<Database> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let admin = server_url()?;
        let mut name = format!("keel_t{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), test.to_lowercase());
        name.truncate(63);
        let mut client = server(&admin).config.connect(postgres::NoTls).expect("the test server accepts a connection");
        let from = template.map(|t| format!(" TEMPLATE \"{t}\"")).unwrap_or_default();
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"{from}")).expect("a database for the test");
        let url = format!("{admin}{}dbname={name}", if admin.contains('?') { '&' } else { '?' });
        Some(Database { url, name, admin })
    }

    /// Make the database again, empty, with `options` after its name (a locale, say).
    pub fn remake(&self, options: &str) {
        let mut client = server(&self.admin).config.connect(postgres::NoTls).expect("the test server accepts a connection");
        client.batch_execute(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name)).unwrap();
        client.batch_execute(&format!("CREATE DATABASE \"{}\" {options}", self.name)).unwrap();
    }

    /// A client straight to the database, for looking underneath keel.
    pub fn client(&self) -> postgres::Client {
        server(&self.url).config.connect(postgres::NoTls).expect("connect to the test's database")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut client) = server(&self.admin).config.connect(postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// A test run once on each engine: `fn name(engine: Engine)` becomes `name::sqlite` and
/// `name::postgres` (which returns at once, skipped, without a server).
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident)*) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::common::pg::Engine::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name(super::common::pg::Engine::Postgres);
            }
        }
    )*};
}
