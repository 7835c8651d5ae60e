//! Shared helpers for the CLI integration tests: each test gets its own temporary directory and
//! database, and runs the real `keel` binary with a controlled environment (OS login, today).

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub mod cluster;
pub mod pg;
pub use pg::Engine;

/// A Thursday in the demo's newest week with actuals (2026-W48): a demo created with this date is
/// not shifted, so its periods and dates are exactly those in `demo-data/plan.json`.
pub const TODAY: &str = "2026-11-26";
/// The demo's newest week with actuals, and the two before it (when created on `TODAY`).
pub const WEEK: &str = "2026-W48";
pub const WEEK_1: &str = "2026-W47";
pub const WEEK_2: &str = "2026-W46";
/// The login the tests run as: the real uid's name, as keel takes it from the password database
/// (environment variables never change who keel thinks you are). In a demo it becomes P-1, the PMO
/// administrator; a plan for a real file names it as the person who may edit.
pub fn os_user() -> &'static str {
    static LOGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LOGIN.get_or_init(|| {
        let out = std::process::Command::new("id").arg("-un").output().expect("id runs");
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(out.status.success() && !name.is_empty(), "the tests need a user id with a name in the password database");
        name
    })
}

/// What one run of keel gave back.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: Vec<String>,
}

impl Run {
    /// Fails, showing everything, unless the exit code is `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "keel {:?}: expected exit {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }

    /// Fails unless stderr contains every fragment (case-sensitive).
    #[track_caller]
    pub fn stderr_has(&self, fragments: &[&str]) -> &Run {
        for f in fragments {
            assert!(self.stderr.contains(f), "keel {:?}: stderr lacks {f:?}\n--- stderr\n{}", self.args, self.stderr);
        }
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, fragments: &[&str]) -> &Run {
        for f in fragments {
            assert!(self.stdout.contains(f), "keel {:?}: stdout lacks {f:?}\n--- stdout\n{}", self.args, self.stdout);
        }
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("keel {:?}: stdout is not JSON ({e}):\n{}", self.args, self.stdout))
    }
}

/// A keel command with a clean environment: no KEEL_* variables from the caller and a private
/// home, so nothing outside the test's directory is read or written. It runs as the real login
/// (`os_user()`); other people of a demo are played with KEEL_USER (`Keel::run_as`).
pub fn keel(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.env_remove("KEEL_DB")
        .env_remove("KEEL_USER")
        .env_remove("KEEL_TODAY")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        // The configuration (keymap, hooks, value sources) is the private home's ~/.config.
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("KEEL_HOOK_TIMEOUT")
        .env("NO_COLOR", "1")
        .current_dir(home);
    cmd
}

pub fn run(mut cmd: Command, args: &[&str]) -> Run {
    let out = cmd.args(args).output().expect("keel runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// One test's keel database: a file in its own temporary directory, or (`Keel::on`) a database
/// of its own on the test server, with the temporary directory as its home.
pub struct Keel {
    pub dir: TempDir,
    pub db: PathBuf,
    /// KEEL_TODAY for every run (honoured on demo databases only).
    pub today: Option<String>,
    /// The test's database on the server, when `db` is its URL (dropped with the test).
    pub server: Option<pg::Database>,
}

impl Keel {
    /// The demo organisation, created as if today were `TODAY`.
    pub fn demo() -> Keel {
        Keel::demo_on(Some(TODAY))
    }

    /// The demo created (and used) on `today`, or on the real date when `None`.
    pub fn demo_on(today: Option<&str>) -> Keel {
        let k = Keel::blank(today);
        let r = k.run(&["demo", "--no-open"]);
        r.ok().stdout_has(&["created demo database"]);
        k
    }

    /// An empty keel file made by `keel init`.
    pub fn init() -> Keel {
        let k = Keel::blank(None);
        k.run(&["init"]).ok();
        k
    }

    /// A directory with no database yet.
    pub fn blank(today: Option<&str>) -> Keel {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("keel.db");
        Keel { dir, db, today: today.map(str::to_string), server: None }
    }

    /// No database yet, on `engine`: `None` when the test is skipped there (no server).
    pub fn blank_on(engine: Engine, test: &str, today: Option<&str>) -> Option<Keel> {
        let mut k = Keel::blank(today);
        if engine == Engine::Postgres {
            let server = pg::Database::new(test)?;
            k.db = PathBuf::from(server.url_as(os_user()));
            k.server = Some(server);
        }
        Some(k)
    }

    /// The demo created as if today were `TODAY`, on `engine` (`None`: skipped there).
    pub fn demo_on_engine(engine: Engine, test: &str) -> Option<Keel> {
        let k = Keel::blank_on(engine, test, Some(TODAY))?;
        k.run(&["demo", "--no-open"]).ok().stdout_has(&["created demo database"]);
        Some(k)
    }

    /// An empty database made by `keel init`, on `engine` (`None`: skipped there).
    pub fn init_on(engine: Engine, test: &str) -> Option<Keel> {
        let k = Keel::blank_on(engine, test, None)?;
        k.run(&["init"]).ok();
        Some(k)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `keel --db <this file> ARGS` acting as the OS user.
    pub fn cmd(&self, user: Option<&str>) -> Command {
        let mut c = keel(self.dir.path());
        match (&self.server, user) {
            // A server never honours KEEL_USER: another person is another server role.
            (Some(server), Some(u)) => c.arg("--db").arg(server.url_as(u)),
            (None, Some(u)) => c.arg("--db").arg(&self.db).env("KEEL_USER", u),
            (_, None) => c.arg("--db").arg(&self.db),
        };
        if let Some(t) = &self.today {
            c.env("KEEL_TODAY", t);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd(None), args)
    }

    /// Run as another person of the demo (KEEL_USER=login in a file, their role on a server).
    pub fn run_as(&self, login: &str, args: &[&str]) -> Run {
        run(self.cmd(Some(login)), args)
    }

    /// `keel show KEY --format json`.
    pub fn show(&self, key: &str) -> Value {
        self.run(&["show", key, "--format", "json"]).ok().json()
    }

    /// The whole plan as `keel export` writes it.
    pub fn export(&self) -> String {
        let r = self.run(&["export"]);
        r.ok();
        r.stdout
    }

    pub fn escalations(&self) -> Vec<Value> {
        let v = self.run(&["escalations", "--format", "json"]).ok().json();
        v.as_array().expect("a list of escalations").clone()
    }

    /// The open escalation of one item, if any.
    pub fn open_escalation(&self, key: &str) -> Option<Value> {
        self.escalations().into_iter().find(|e| e["key"] == key)
    }

    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open the keel file with rusqlite")
    }

    /// One text column of one row, straight from the file.
    pub fn sql_text(&self, sql: &str) -> Option<String> {
        self.sql().query_row(sql, [], |r| r.get(0)).expect(sql)
    }
}

/// A field of `keel show --format json` by name.
pub fn field<'a>(detail: &'a Value, name: &str) -> &'a Value {
    detail["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == name)
        .map(|f| &f["value"])
        .unwrap_or_else(|| panic!("no field {name} in {detail}"))
}

/// The value row of one period in `keel show --format json`.
pub fn value_row<'a>(detail: &'a Value, period: &str) -> &'a Value {
    detail["values"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["period"] == period)
        .unwrap_or_else(|| panic!("no value row for {period} in {}", detail["key"]))
}

/// A small tmpfs (2 MiB) mounted on a fresh folder, for what keel does on a full disk; unmounted
/// when dropped. `None` (with the reason printed) where mounting is not allowed (not root).
pub struct Tmpfs {
    pub dir: TempDir,
}

impl Tmpfs {
    pub fn mount() -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"]).arg(dir.path()).output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            Ok(o) => {
                println!("skipped: cannot mount a tmpfs ({}); CI runs as root", String::from_utf8_lossy(&o.stderr).trim());
                None
            }
            Err(e) => {
                println!("skipped: cannot run mount ({e})");
                None
            }
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Fill the file system to its last byte, less `leave` bytes.
    pub fn fill(&self, leave: u64) {
        use std::io::Write;
        let stat = std::process::Command::new("df").args(["-B1", "--output=avail"]).arg(self.dir.path()).output().expect("df runs");
        let avail: u64 = String::from_utf8_lossy(&stat.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df says");
        let mut f = std::fs::File::create(self.path("filler")).expect("filler");
        let chunk = vec![0xA5u8; 4096];
        let mut left = avail.saturating_sub(leave);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            if f.write_all(&chunk[..n]).is_err() {
                break;
            }
            left -= n as u64;
        }
        let _ = f.sync_all();
    }

    /// The names in the folder, but the filler.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read the tmpfs")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "filler")
            .collect();
        v.sort();
        v
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Run keel with standard output a pipe whose reading end is already closed, so that the first
/// write fails with EPIPE whatever the size of the output.
pub fn into_closed_pipe(k: &Keel, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keel"))
        .arg("--db")
        .arg(&k.db)
        .args(args)
        .env_remove("KEEL_USER")
        .env_remove("KEEL_DB")
        .env("KEEL_TODAY", TODAY)
        .env("NO_COLOR", "1")
        .current_dir(k.dir.path())
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("keel runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

/// Take search's index (migration 11) out of a file, as a file of an older schema has none:
/// its triggers first (they name columns older migrations remove), then its view and tables.
pub fn drop_search_index(c: &rusqlite::Connection) {
    let triggers: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '%search%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(triggers.len(), 17, "search's triggers: {triggers:?}");
    for t in triggers {
        c.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    c.execute_batch("DROP VIEW search_source; DROP TABLE item_search; DROP TABLE search_pause;").unwrap();
}

/// Take the kept tables (migration 10) and their triggers out of a file.
pub fn drop_kept_tables(c: &rusqlite::Connection) {
    c.execute_batch(
        "DROP TRIGGER kept_escalation_opened; DROP TRIGGER kept_escalation_moved; DROP TRIGGER kept_escalation_removed;
         DROP TRIGGER kept_escalation_measure_holder; DROP TRIGGER kept_escalation_key_result_owner; DROP TRIGGER kept_escalation_kpi_owner;
         DROP TABLE kept_stale; DROP TABLE kept_escalation_counts;",
    )
    .unwrap();
}
