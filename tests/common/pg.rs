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

    /// The `--db` URL naming this database for the server role `login`: on a server keel acts as
    /// whom the server authenticated, so a test plays a person of the demo by connecting as their
    /// role (made a superuser of the test cluster the first time, so that it may do anything keel
    /// asks; the tests of grants make roles of their own).
    pub fn url_as(&self, login: &str) -> String {
        ensure_superuser(&self.admin, login);
        self.url_for(login)
    }

    /// The `--db` URL naming this database for the server role `login`, as it is.
    pub fn url_for(&self, login: &str) -> String {
        with_user(&self.url, login)
    }

    /// A client straight to the database, for looking underneath keel.
    pub fn client(&self) -> postgres::Client {
        server(&self.url).config.connect(postgres::NoTls).expect("connect to the test's database")
    }

    /// A client straight to the database as the server role `login`.
    pub fn client_as(&self, login: &str) -> postgres::Client {
        server(&self.url_for(login)).config.connect(postgres::NoTls).expect("connect to the test's database as a role")
    }
}

/// `url` naming the server role `login` instead of the user it names.
fn with_user(url: &str, login: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("user=")).collect();
    let user = format!("user={login}");
    pairs.push(&user);
    format!("{base}?{}", pairs.join("&"))
}

/// A `--db` value as the person `login`: a server URL names their role (made a superuser of the
/// test cluster, see [`Database::url_as`]); a file's path is the same for everyone.
pub fn as_role(path: &std::path::Path, login: &str) -> std::path::PathBuf {
    match path.to_str().filter(|t| keel::location::is_server_url(t)) {
        Some(url) => {
            ensure_superuser(&server_url().expect("a test server"), login);
            with_user(url, login).into()
        }
        None => path.to_path_buf(),
    }
}

/// A login role of the test cluster with every right (roles are the cluster's, not a database's,
/// so they outlive the test; made once per process, and two processes making one is no error).
fn ensure_superuser(admin: &str, login: &str) {
    static MADE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if made.iter().any(|m| m == login) {
        return;
    }
    assert!(login.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "a role name for a test: {login}");
    let mut client = server(admin).config.connect(postgres::NoTls).expect("the test server accepts a connection");
    client
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE \"{login}\" LOGIN SUPERUSER; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .expect("a role for the test");
    made.push(login.to_string());
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
