//! A fresh PostgreSQL database per test, on the server `.ci/with-postgres` starts (its URL in
//! `KEEL_TEST_PG_URL`), dropped when the test ends. Without a server the PostgreSQL half of a
//! test says it was skipped, except under CI, where a missing server fails the run.

use super::Db;
use crate::location::{Location, PasswordSources, ServerUrl};
use crate::store::os_login;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Scratch {
    name: String,
    db: Option<Db>,
}

fn server() -> Option<ServerUrl> {
    let url = match std::env::var("KEEL_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI runs the tests against a PostgreSQL server: run them through .ci/with-postgres")
        }
        _ => {
            eprintln!("skipped on PostgreSQL: no KEEL_TEST_PG_URL (run through `.ci/with-postgres`)");
            return None;
        }
    };
    match Location::parse(&url, &os_login(), &PasswordSources::default()) {
        Ok(Location::Server(s)) => Some(*s),
        other => panic!("KEEL_TEST_PG_URL={url} is not a server URL: {other:?}"),
    }
}

impl Scratch {
    /// A new, empty database named after the test, or `None` (skipped) without a server.
    pub fn new(test: &str) -> Option<Scratch> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let admin = Db::connect(&server()?).expect("the test server accepts a connection");
        let name = format!("keel_seam_{}_{}_{test}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        admin.batch(&format!("CREATE DATABASE \"{name}\"")).unwrap();
        let mut scratch = Scratch { name, db: None };
        scratch.db = Some(scratch.connect());
        Some(scratch)
    }

    /// The URL of this database (for a `Store` or `keel copy` to open).
    pub fn url(&self) -> String {
        let admin = std::env::var("KEEL_TEST_PG_URL").unwrap();
        format!("{admin}{}dbname={}", if admin.contains('?') { '&' } else { '?' }, self.name)
    }

    pub fn db(&self) -> &Db {
        self.db.as_ref().unwrap()
    }

    /// Another connection to the same database.
    pub fn connect(&self) -> Db {
        let mut server = server().unwrap();
        server.config.dbname(&self.name);
        Db::connect(&server).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop(self.db.take());
        if let Some(server) = server() {
            if let Ok(admin) = Db::connect(&server) {
                let _ = admin.batch(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
            }
        }
    }
}
