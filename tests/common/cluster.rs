//! A PostgreSQL cluster of one test's own, for what must not disturb the other tests (a restart):
//! started from the binaries `.ci/run` names in `KEEL_TEST_PG_BIN`, listening only on a socket in
//! its temporary folder, run as the `postgres` OS user when the tests run as root (PostgreSQL
//! insists), its owner and the tests' login trusted. Stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    owner: String,
}

fn as_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// A command run as the cluster's owner: as root that is the `postgres` OS user.
fn owner_command(program: &Path) -> Command {
    if as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

#[track_caller]
fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

impl Cluster {
    /// The cluster, running, with a database `keel` and a superuser role for the tests' login;
    /// `None` (skipped) without PostgreSQL's binaries, which CI insists on.
    pub fn start() -> Option<Cluster> {
        let bin = match std::env::var_os("KEEL_TEST_PG_BIN") {
            Some(b) => PathBuf::from(b),
            None if std::env::var_os("CI").is_some() => panic!("CI runs the server tests: run them through .ci/with-postgres"),
            None => {
                eprintln!("skipped: no KEEL_TEST_PG_BIN (run `.ci/with-postgres cargo test` to include the server)");
                return None;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let owner = if as_root() { "postgres".to_string() } else { super::os_user().to_string() };
        if as_root() {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:"]).arg(dir.path());
            run(chown, "chown to postgres");
        }
        let mut initdb = owner_command(&bin.join("initdb"));
        initdb.arg("-D").arg(dir.path().join("data")).args(["-A", "trust", "-U", &owner, "-E", "UTF8", "--locale=C.UTF-8"]);
        run(initdb, "initdb");
        let cluster = Cluster { dir, bin, owner };
        cluster.pg_ctl(&["start"]);
        let mut admin = cluster.client_as(&cluster.owner, "postgres");
        let login = super::os_user();
        if login != cluster.owner {
            admin.batch_execute(&format!("CREATE ROLE \"{login}\" LOGIN SUPERUSER")).unwrap();
        }
        admin.batch_execute("CREATE DATABASE keel").unwrap();
        Some(cluster)
    }

    /// `pg_ctl ACTION` on this cluster, waiting for it to finish (`restart -m immediate`, say).
    pub fn pg_ctl(&self, args: &[&str]) {
        let options = format!("-k {} -c listen_addresses='' -c max_connections=100", self.dir.path().display());
        let mut c = owner_command(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(self.dir.path().join("data")).args(["-w", "-t", "60", "-l"]).arg(self.dir.path().join("server.log"));
        c.args(["-o", &options]).args(args);
        run(c, &format!("pg_ctl {args:?}"));
    }

    /// The `--db` URL of the database `keel` for the tests' login.
    pub fn url(&self) -> String {
        format!("postgresql:///keel?host={}&user={}", self.dir.path().display(), super::os_user())
    }

    /// A client straight to the database `keel`, as the tests' login.
    pub fn client(&self) -> postgres::Client {
        self.client_as(super::os_user(), "keel")
    }

    fn client_as(&self, user: &str, dbname: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(self.dir.path())
            .user(user)
            .dbname(dbname)
            .connect(postgres::NoTls)
            .expect("the test's own cluster accepts a connection")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = owner_command(&self.bin.join("pg_ctl"));
        stop.arg("-D").arg(self.dir.path().join("data")).args(["-m", "immediate", "stop"]);
        let _ = stop.output();
    }
}
